-- disconnect: clients that vanish mid-message (after MAIL, mid-header,
-- mid-body, abruptly) or abort the transaction leave the daemon serving.
dofile(os.getenv("RG_MILTER_DIR") .. "/lib.lua")
rg.run(function()
	for round = 1, 20 do
		local conn = rg.connect()
		rg.check(rg.envelope(conn, "<a@example.org>"), "envelope")
		if round % 4 == 1 then
			mt.disconnect(conn, false)
		elseif round % 4 == 2 then
			rg.ok(mt.header(conn, "Subject", "half"), "header")
			mt.disconnect(conn, false)
		elseif round % 4 == 3 then
			rg.check(rg.headers(conn, {{"Subject", "s"}}), "headers")
			rg.ok(mt.bodystring(conn, string.rep("b", 3000)), "body")
			mt.disconnect(conn, false)
		else
			rg.ok(mt.abort(conn), "abort")
			rg.check(rg.envelope(conn, "<c@example.org>"), "after abort")
			rg.check(rg.headers(conn, {{"Subject", "s"}}), "headers")
			rg.ok(mt.eom(conn), "eom")
			rg.check(mt.eom_check(conn, MT_HDRADD, "X-Relayguard"),
				"message after abort not stamped")
			mt.disconnect(conn)
		end
	end
	local conn = rg.connect()
	rg.check(rg.envelope(conn, "<a@example.org>"), "daemon still serves")
	mt.disconnect(conn)
end)
