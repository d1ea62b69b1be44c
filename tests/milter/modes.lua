-- modes: {auth_authen} or a trusted network (10.0.0.0/8 in the test
-- config) make mail outbound; anything else is inbound.  Two messages on
-- one connection do not leak state into each other.
dofile(os.getenv("RG_MILTER_DIR") .. "/lib.lua")

local function one(conn, macros, want)
	rg.check(rg.envelope(conn, "<a@example.org>", nil, macros),
		"envelope")
	rg.check(rg.headers(conn, {{"From", "a@example.org"}}), "headers")
	rg.ok(mt.bodystring(conn, "x\r\n"), "body")
	rg.ok(mt.eom(conn), "eom")
	local st = tostring(rg.status(conn))
	rg.check(st:find("mode=" .. want, 1, true), "want " .. want ..
		", status: " .. st)
end

rg.run(function()
	local conn = rg.connect("client.test", "192.0.2.1")
	one(conn, {"i", "A1", "{auth_authen}", "alice", "{auth_type}", "PLAIN"},
	    "outbound")
	-- same connection, next message, no login: inbound again
	one(conn, {"i", "A2"}, "inbound")
	mt.disconnect(conn)

	conn = rg.connect("relay.test", "10.1.2.3")
	one(conn, {"i", "A3"}, "outbound")
	mt.disconnect(conn)

	conn = rg.connect("v6.test", "2001:db8::1")
	one(conn, nil, "inbound")
	mt.disconnect(conn)
end)
