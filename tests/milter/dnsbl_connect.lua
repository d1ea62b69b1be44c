-- dnsbl_connect: with dnsbl_reject_stage = connect a client on the reject
-- list is refused at connect; an unlisted one goes on.
dofile(os.getenv("RG_MILTER_DIR") .. "/lib.lua")
rg.run(function()
	local conn = mt.connect(rg.socket, 50, 0.1)
	rg.check(conn ~= nil, "cannot connect to " .. rg.socket)
	rg.ok(mt.conninfo(conn, "listed.test", "192.0.2.1"), "conninfo")
	rg.check(mt.getreply(conn) == SMFIR_REPLYCODE,
		"listed client not refused at connect")
	mt.disconnect(conn)

	conn = rg.connect("clean.test", "192.0.2.99")
	rg.check(rg.envelope(conn, "<a@example.org>", nil, {"i", "C1"}),
		"unlisted refused")
	mt.disconnect(conn)
end)
