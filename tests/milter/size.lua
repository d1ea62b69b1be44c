-- size: max_message_size (4k in the test config) is enforced as the
-- message streams in: an ESMTP SIZE= over it at MAIL FROM, then the body,
-- then an oversized header section; each gets 552 5.3.4.
dofile(os.getenv("RG_MILTER_DIR") .. "/lib.lua")
rg.run(function()
	local conn = rg.connect()
	rg.ok(mt.helo(conn, "client.test"), "helo")
	rg.ok(mt.mailfrom(conn, "<a@example.org>", "SIZE=999999"), "mailfrom")
	rg.check(mt.getreply(conn) == SMFIR_REPLYCODE,
		"declared SIZE over the limit not refused")
	mt.disconnect(conn)

	conn = rg.connect()
	rg.check(rg.envelope(conn, "<a@example.org>", nil, {"i", "S1"}),
		"envelope")
	rg.check(rg.headers(conn, {{"Subject", "big"}}), "headers")
	local line = string.rep("y", 998) .. "\r\n"
	local refused = false
	for i = 1, 10 do
		rg.ok(mt.bodystring(conn, line), "body")
		if mt.getreply(conn) == SMFIR_REPLYCODE then
			refused = true
			break
		end
	end
	rg.check(refused, "body over the limit not refused")
	mt.disconnect(conn)

	-- the daemon is still fine and takes the next message
	conn = rg.connect()
	rg.check(rg.envelope(conn, "<a@example.org>"), "envelope after")
	rg.check(rg.headers(conn, {{"Subject", "small"}}), "headers after")
	rg.ok(mt.eom(conn), "eom")
	rg.check(mt.eom_check(conn, MT_HDRADD, "X-Relayguard"), "not stamped")
	mt.disconnect(conn)
end)
