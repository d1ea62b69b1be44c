-- relpath: one MAIL FROM <bob@example.com> by login bob; RG_WANT says
-- whether the gate must take it ("accept") or refuse it ("reject").  The
-- driver (lifecycle.sh) edits the map and the configuration in between.
dofile(os.getenv("RG_MILTER_DIR") .. "/lib.lua")
local want = os.getenv("RG_WANT")

rg.run(function()
	local conn = rg.connect("client.test", "192.0.2.9")
	local ok = rg.envelope(conn, "<bob@example.com>", "<x@example.net>",
		{"i", "R1", "{auth_authen}", "bob", "{auth_type}", "PLAIN"})
	mt.disconnect(conn)
	if want == "accept" then
		rg.check(ok, "bob refused; the map change was not picked up")
	else
		rg.check(not ok, "bob accepted; the map should refuse him")
	end
end)
