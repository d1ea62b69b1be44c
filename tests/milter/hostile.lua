-- hostile: malformed macros, a missing {i}, header fields with bad or
-- empty names, very long lines, a NUL in the body, an oversized header
-- section.  Nothing crashes; each gets a defined answer.
dofile(os.getenv("RG_MILTER_DIR") .. "/lib.lua")
rg.run(function()
	-- a login with CR/LF in it is dropped: the message is inbound
	local conn = rg.connect()
	rg.check(rg.envelope(conn, "<a@example.org>", nil,
		{"{auth_authen}", "alice\r\nX-Evil: 1", "i", string.rep("q", 900)}),
		"envelope")
	rg.check(rg.headers(conn, {{"From", "a@example.org"}}), "headers")
	rg.ok(mt.eom(conn), "eom")
	local st = tostring(rg.status(conn))
	rg.check(st:find("mode=inbound", 1, true), "bad login kept: " .. st)
	mt.disconnect(conn)

	-- no {i} at all, odd header names, a long header and a long line
	conn = rg.connect()
	rg.check(rg.envelope(conn, "<>", "<x@example.net>"), "envelope")
	rg.check(rg.headers(conn, {{"Bad Name", "x"}, {"X:colon", "y"},
		{"X-Long", string.rep("z", 900)}}), "headers")
	rg.ok(mt.bodystring(conn, "a\0b\0c\r\n" .. string.rep("w", 2000)), "body")
	rg.ok(mt.eom(conn), "eom")
	rg.check(mt.eom_check(conn, MT_HDRADD, "X-Relayguard"), "not stamped")
	mt.disconnect(conn)

	-- a header section over max_header_size (2k) is refused: 552 5.3.4
	conn = rg.connect()
	rg.check(rg.envelope(conn, "<a@example.org>"), "envelope")
	-- (miltertest itself overflows on fields over about 1000 bytes)
	rg.check(not rg.headers(conn, {{"X-A", string.rep("a", 900)},
		{"X-B", string.rep("b", 900)}, {"X-C", string.rep("c", 900)}}),
		"oversized header accepted")
	rg.check(mt.getreply(conn) == SMFIR_REPLYCODE, "want a reply code")
	mt.disconnect(conn)

	-- an empty field name: libmilter itself drops the session (the MTA
	-- then applies milter_default_action); the daemon must live on
	conn = rg.connect()
	rg.check(rg.envelope(conn, "<a@example.org>"), "envelope")
	pcall(mt.header, conn, "", "no name")
	pcall(mt.disconnect, conn, false)

	-- an empty message (no headers, no body) is still stamped
	conn = rg.connect()
	rg.check(rg.envelope(conn, "<a@example.org>"), "envelope")
	rg.ok(mt.eoh(conn), "eoh")
	rg.ok(mt.eom(conn), "eom")
	rg.check(mt.eom_check(conn, MT_HDRADD, "X-Relayguard"), "empty message")
	mt.disconnect(conn)
end)
