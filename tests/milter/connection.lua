-- connection: a connection-stage result (a malformed client address)
-- belongs to the connection, so both messages sent on it carry it in
-- their summary lines (checked by run.sh in the log: C1 and C2).
dofile(os.getenv("RG_MILTER_DIR") .. "/lib.lua")
rg.run(function()
	local conn = mt.connect(rg.socket, 50, 0.1)
	rg.check(conn ~= nil, "cannot connect")
	rg.ok(mt.macro(conn, SMFIC_CONNECT, "{client_addr}", "192.0.2.300"),
	      "macro")
	rg.ok(mt.conninfo(conn, "client.test", "unspec"), "conninfo")
	for _, id in ipairs({"C1", "C2"}) do
		rg.check(rg.envelope(conn, "<a@example.org>", "<b@example.net>",
			{"i", id}), "envelope " .. id)
		rg.check(rg.headers(conn, {{"From", "a@example.org"}}),
			 "headers " .. id)
		rg.ok(mt.eom(conn), "eom " .. id)
		rg.check(mt.getreply(conn) == SMFIR_ACCEPT, id .. " not accepted")
		rg.ok(mt.abort(conn), "abort " .. id)
	end
	mt.disconnect(conn)
end)
