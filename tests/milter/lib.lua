-- lib.lua - helpers shared by relayguard's miltertest scripts.
-- miltertest hides Lua errors, so every script runs inside rg.run(), which
-- prints the error and exits non-zero.

rg = {}
rg.socket = os.getenv("RG_SOCKET") or "inet:18894@127.0.0.1"

function rg.check(cond, what)
	if not cond then error(what, 2) end
end

-- rg.ok(result, what): miltertest calls return nil on success
function rg.ok(res, what)
	if res ~= nil then error(what .. ": " .. tostring(res), 2) end
end

function rg.connect(host, ip)
	local conn = mt.connect(rg.socket, 50, 0.1)
	rg.check(conn ~= nil, "cannot connect to " .. rg.socket)
	rg.ok(mt.conninfo(conn, host or "client.test", ip or "192.0.2.1"),
	      "conninfo")
	rg.check(mt.getreply(conn) == SMFIR_CONTINUE, "connect not continued")
	return conn
end

-- rg.envelope(conn, from, rcpt, macros): HELO, MAIL (with macros), RCPT
function rg.envelope(conn, from, rcpt, macros)
	rg.ok(mt.helo(conn, "client.test"), "helo")
	if macros then
		rg.ok(mt.macro(conn, SMFIC_MAIL, (table.unpack or unpack)(macros)), "macro")
	end
	rg.ok(mt.mailfrom(conn, from), "mailfrom")
	if mt.getreply(conn) ~= SMFIR_CONTINUE then return false end
	rg.ok(mt.rcptto(conn, rcpt or "<rcpt@example.net>"), "rcptto")
	return mt.getreply(conn) == SMFIR_CONTINUE
end

-- rg.headers(conn, list): list of {name, value}, then end of headers
function rg.headers(conn, list)
	for _, h in ipairs(list) do
		rg.ok(mt.header(conn, h[1], h[2]), "header " .. h[1])
		if mt.getreply(conn) ~= SMFIR_CONTINUE then return false end
	end
	rg.ok(mt.eoh(conn), "eoh")
	return mt.getreply(conn) == SMFIR_CONTINUE
end

-- rg.status(conn): the value of the X-Relayguard header added at eom,
-- without the leading space it carries under SMFIP_HDR_LEADSPC (which
-- relayguard takes whenever the MTA offers it, as miltertest does)
function rg.status(conn)
	local v = mt.getheader(conn, "X-Relayguard", 0)
	if v ~= nil and v:sub(1, 1) == " " then v = v:sub(2) end
	return v
end

function rg.run(f)
	local ok, err = pcall(f)
	if not ok then
		mt.echo("FAILED: " .. tostring(err))
		os.exit(1)
	end
end

-- rg.sh(cmd): run a shell command, fail the test if it fails
function rg.sh(cmd)
	local r = os.execute(cmd)
	rg.check(r == 0 or r == true, "command failed: " .. cmd)
end

-- For scripts written by "relayguard check --emit-miltertest":
-- rg.step(conn, what, result, want): a step went through and got want
-- (want nil: a no-reply step, SMFIP_NR_*, so there is nothing to read)
function rg.step(conn, what, res, want)
	if res ~= nil then error(what .. ": " .. tostring(res), 2) end
	if want == nil then return end
	local got = mt.getreply(conn)
	if got ~= want then
		error(what .. ": reply " .. tostring(got) .. ", check had " ..
		      tostring(want), 2)
	end
end

-- rg.edit(conn, op, name[, value]): the same header edit as check
function rg.edit(conn, op, name, value)
	local ok
	if value ~= nil then
		ok = mt.eom_check(conn, op, name, value)
	elseif name ~= nil then
		ok = mt.eom_check(conn, op, name)
	else
		ok = mt.eom_check(conn, op)	-- MT_QUARANTINE: no name
	end
	if not ok then
		error("header edit " .. tostring(op) .. " " .. tostring(name) .. ": " ..
		      tostring(value) .. " not made", 2)
	end
end
