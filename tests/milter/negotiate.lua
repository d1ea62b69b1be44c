-- negotiate: the steps relayguard asks for.  RG_WANT lists the options
-- that must be on, RG_NOT those that must be off.
dofile(os.getenv("RG_MILTER_DIR") .. "/lib.lua")
rg.run(function()
	local conn = rg.connect()
	for name in string.gmatch(os.getenv("RG_WANT") or "", "%S+") do
		rg.check(mt.test_option(conn, _G[name]), name .. " not negotiated")
	end
	for name in string.gmatch(os.getenv("RG_NOT") or "", "%S+") do
		rg.check(not mt.test_option(conn, _G[name]), name .. " negotiated")
	end
	rg.check(mt.test_action(conn, SMFIF_ADDHDRS), "SMFIF_ADDHDRS missing")
	mt.disconnect(conn)
end)
