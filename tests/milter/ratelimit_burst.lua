-- ratelimit_burst: RG_BURST messages from login "burst", one connection
-- each; run several at once (ratelimit.sh) to show that the counters are
-- exact under the daemon's threads.  Prints "taken N".
dofile(os.getenv("RG_MILTER_DIR") .. "/lib.lua")

rg.run(function()
	local n, taken = tonumber(os.getenv("RG_BURST") or "10"), 0
	local tag = os.getenv("RG_BURST_TAG") or "B"
	for i = 1, n do
		local conn = rg.connect("client.test", "203.0.113.9")
		rg.ok(mt.helo(conn, "client.test"), "helo")
		rg.ok(mt.macro(conn, SMFIC_MAIL, "i", tag .. i, "{auth_authen}",
			       "burst", "{auth_type}", "PLAIN"), "macro")
		rg.ok(mt.mailfrom(conn, "<burst@example.org>"), "mailfrom")
		if mt.getreply(conn) == SMFIR_CONTINUE then
			taken = taken + 1
		end
		mt.disconnect(conn)
	end
	mt.echo("taken " .. taken)
end)
