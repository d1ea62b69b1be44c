-- bench/floor.lua - miltertest script: bench/floor is the floor it claims
-- to be (helper of scripts/bench, which runs it before the loads).
--
-- usage: miltertest -D socket=SOCKET [-D noreply=1] -s bench/floor.lua
--
-- Checks that every step is negotiated (no SMFIP_NO* option), that the
-- header action is asked for, that each step answers CONTINUE (with
-- noreply=1: that every SMFIP_NR_* option was taken and those steps send
-- nothing), that end of message adds "X-Floor: 1", and that abort and a
-- second message on the same connection work.  miltertest hides Lua
-- errors, so every step runs under pcall and a failure is echoed; exit
-- status 0 when all passed.

local nr = (noreply == "1")

local function step(conn, what, f, ...)
	local r = f(conn, ...)
	assert(r == nil, what .. ": send failed")
	if not nr or what == "eom" or what == "abort" then
		if what ~= "abort" then
			local rep = mt.getreply(conn)
			assert(rep == SMFIR_CONTINUE, what .. ": reply " .. tostring(rep) .. ", not CONTINUE")
		end
	end
end

local ok, err = pcall(function()
	local conn = mt.connect(socket, 20, 0.1)
	assert(conn ~= nil, "cannot connect to " .. tostring(socket))
	local steps = { SMFIP_NOCONNECT, SMFIP_NOHELO, SMFIP_NOMAIL, SMFIP_NORCPT,
		SMFIP_NOBODY, SMFIP_NOHDRS, SMFIP_NOEOH, SMFIP_NOUNKNOWN, SMFIP_NODATA }
	for i, o in ipairs(steps) do
		assert(not mt.test_option(conn, o), "a step is negotiated away (option " .. i .. ")")
	end
	assert(mt.test_action(conn, SMFIF_ADDHDRS), "no SMFIF_ADDHDRS")
	local nrs = { SMFIP_NR_CONN, SMFIP_NR_HELO, SMFIP_NR_MAIL, SMFIP_NR_RCPT,
		SMFIP_NR_DATA, SMFIP_NR_UNKN, SMFIP_NR_EOH, SMFIP_NR_BODY, SMFIP_NR_HDR }
	for i, o in ipairs(nrs) do
		assert(mt.test_option(conn, o) == nr, "no-reply option " .. i ..
			(nr and " not taken" or " taken"))
	end
	step(conn, "connect", mt.conninfo, "client.bench.example", "127.0.0.1")
	step(conn, "helo", mt.helo, "client.bench.example")
	step(conn, "unknown", mt.unknown, "XYZZY")
	for n = 1, 2 do
		step(conn, "mail", mt.mailfrom, "sender@bench.example")
		step(conn, "rcpt", mt.rcptto, "x@sink.test")
		step(conn, "data", mt.data)
		step(conn, "header", mt.header, "Subject", "floor " .. n)
		step(conn, "eoh", mt.eoh)
		step(conn, "body", mt.bodystring, "hello\r\n")
		if n == 1 then
			step(conn, "abort", mt.abort)
		else
			step(conn, "eom", mt.eom)
			assert(mt.eom_check(conn, MT_HDRADD, "X-Floor", "1"), "no X-Floor: 1 added")
		end
	end
	mt.disconnect(conn)
end)
if not ok then
	mt.echo("FAIL bench/floor" .. (nr and " -r" or "") .. ": " .. tostring(err))
	os.exit(1)
end
mt.echo("ok   bench/floor" .. (nr and " -r" or "") .. " negotiates every step and adds its header")
