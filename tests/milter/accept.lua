-- accept: a plain inbound message is accepted and stamped; a forged status
-- header that came with it is removed; the reply at eom is "accept".
dofile(os.getenv("RG_MILTER_DIR") .. "/lib.lua")
rg.run(function()
	local conn = rg.connect()
	rg.check(rg.envelope(conn, "<a@example.org>", "<b@example.net>",
		{"i", "Q1"}), "envelope")
	rg.check(rg.headers(conn, {{"From", "a@example.org"},
		{"Subject", "hi"}, {"X-Relayguard", "forged; verdict=accept"}}),
		"headers")
	rg.ok(mt.bodystring(conn, "hello\r\n"), "body")
	rg.ok(mt.eom(conn), "eom")
	rg.check(mt.getreply(conn) == SMFIR_ACCEPT or
		 mt.getreply(conn) == SMFIR_CONTINUE, "not accepted")
	rg.check(mt.eom_check(conn, MT_HDRADD, "X-Relayguard",
		" mx.test; verdict=accept; mode=inbound; score=0.00"),
		"status header missing or wrong: " .. tostring(rg.status(conn)))
	rg.check(mt.eom_check(conn, MT_HDRDELETE, "X-Relayguard"),
		"forged status header not removed")
	mt.disconnect(conn)
end)
