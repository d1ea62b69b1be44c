-- ratelimit: rate limits through the milter protocol.  The daemon keeps
-- its counters across connections: a fourth message from one client is
-- refused at MAIL FROM while another client sends on; a login's third
-- recipient is refused at RCPT while the message goes on; the driver
-- (ratelimit.sh) checks the reply texts in the daemon's log.
dofile(os.getenv("RG_MILTER_DIR") .. "/lib.lua")

-- mail(id, ip, user): the MAIL FROM reply
local function mail(id, ip, user)
	local conn = rg.connect("client.test", ip)
	local macros = {"i", id}
	if user then
		macros = {"i", id, "{auth_authen}", user, "{auth_type}", "PLAIN"}
	end
	rg.ok(mt.helo(conn, "client.test"), "helo")
	rg.ok(mt.macro(conn, SMFIC_MAIL, (table.unpack or unpack)(macros)),
	      "macro")
	rg.ok(mt.mailfrom(conn, "<a@example.org>"), "mailfrom")
	return conn, mt.getreply(conn)
end

-- message(conn, rcpts): each RCPT's reply, then the message to its end
local function message(conn, rcpts)
	local got = {}
	for i, r in ipairs(rcpts) do
		rg.ok(mt.rcptto(conn, r), "rcptto")
		got[i] = mt.getreply(conn)
	end
	rg.ok(mt.header(conn, "From", "a@example.org"), "header")
	rg.check(mt.getreply(conn) == SMFIR_CONTINUE, "header refused")
	rg.ok(mt.eoh(conn), "eoh")
	rg.check(mt.getreply(conn) == SMFIR_CONTINUE, "eoh refused")
	rg.ok(mt.bodystring(conn, "body\r\n"), "body")
	rg.ok(mt.eom(conn), "eom")
	rg.check(mt.getreply(conn) == SMFIR_ACCEPT or
		 mt.getreply(conn) == SMFIR_CONTINUE, "eom not accepted")
	mt.disconnect(conn)
	return got
end

rg.run(function()
	-- ratelimit_client = 3/1h: three messages, the fourth refused
	for i = 1, 3 do
		local conn, r = mail("RC" .. i, "192.0.2.10")
		rg.check(r == SMFIR_CONTINUE, "message " .. i .. " refused")
		message(conn, {"<b@example.net>"})
	end
	local conn, r = mail("RC4", "192.0.2.10")
	rg.check(r == SMFIR_REPLYCODE, "fourth message not refused")
	mt.disconnect(conn)
	-- another client sends on
	conn, r = mail("RO1", "192.0.2.11")
	rg.check(r == SMFIR_CONTINUE, "another client refused")
	message(conn, {"<b@example.net>"})
	-- ratelimit_login_rcpt = 2/1h: alice's third recipient refused
	conn, r = mail("RL1", "198.51.100.5", "alice")
	rg.check(r == SMFIR_CONTINUE, "alice refused at MAIL FROM")
	local got = message(conn, {"<r1@example.net>", "<r2@example.net>",
				   "<r3@example.net>"})
	rg.check(got[1] == SMFIR_CONTINUE and got[2] == SMFIR_CONTINUE,
		 "alice's first recipients refused")
	rg.check(got[3] == SMFIR_REPLYCODE, "alice's third recipient taken")
	-- bob is another login
	conn, r = mail("RB1", "198.51.100.5", "bob")
	got = message(conn, {"<r1@example.net>", "<r2@example.net>"})
	rg.check(got[2] == SMFIR_CONTINUE, "bob's recipient refused")
end)
