-- sigterm: a message in flight when SIGTERM arrives still gets its verdict
-- and its header; the driver then checks the daemon exits cleanly.
dofile(os.getenv("RG_MILTER_DIR") .. "/lib.lua")
local pid = os.getenv("RG_PID")
rg.run(function()
	local conn = rg.connect()
	rg.check(rg.envelope(conn, "<a@example.org>", nil, {"i", "TERM1"}),
		"envelope")
	rg.check(rg.headers(conn, {{"Subject", "in flight"}}), "headers")
	rg.sh("kill -TERM " .. pid)
	mt.sleep(1)
	rg.ok(mt.bodystring(conn, "still here\r\n"), "body after SIGTERM")
	rg.ok(mt.eom(conn), "eom after SIGTERM")
	rg.check(mt.eom_check(conn, MT_HDRADD, "X-Relayguard"),
		"message in flight lost its verdict")
	mt.disconnect(conn)
end)
