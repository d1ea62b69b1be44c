-- ratelimit_burst: RG_BURST messages from login RG_BURST_LOGIN ("burst")
-- at client RG_BURST_IP, one connection each, to MAIL FROM; run several
-- at once (ratelimit.sh) to show that the counters are exact under the
-- daemon's threads.  Prints "taken N" (MAIL FROM continued).  With
-- RG_BURST_FULL set, a message taken goes on to its end.
dofile(os.getenv("RG_MILTER_DIR") .. "/lib.lua")

rg.run(function()
	local n, taken = tonumber(os.getenv("RG_BURST") or "10"), 0
	local tag = os.getenv("RG_BURST_TAG") or "B"
	local login = os.getenv("RG_BURST_LOGIN") or "burst"
	local ip = os.getenv("RG_BURST_IP") or "203.0.113.9"
	for i = 1, n do
		local conn = rg.connect("client.test", ip)
		rg.ok(mt.helo(conn, "client.test"), "helo")
		rg.ok(mt.macro(conn, SMFIC_MAIL, "i", tag .. i, "{auth_authen}",
			       login, "{auth_type}", "PLAIN"), "macro")
		rg.ok(mt.mailfrom(conn, "<burst@example.org>"), "mailfrom")
		if mt.getreply(conn) == SMFIR_CONTINUE then
			taken = taken + 1
			if os.getenv("RG_BURST_FULL") then
				-- to the end: the daemon logs a summary line
				rg.ok(mt.rcptto(conn, "<x@example.net>"), "rcptto")
				rg.check(mt.getreply(conn) == SMFIR_CONTINUE,
					 "rcpt refused")
				rg.ok(mt.eoh(conn), "eoh")
				rg.ok(mt.bodystring(conn, "body\r\n"), "body")
				rg.ok(mt.eom(conn), "eom")
			end
		end
		mt.disconnect(conn)
	end
	mt.echo("taken " .. taken)
end)
