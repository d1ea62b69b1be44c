-- reload: SIGHUP swaps in a new configuration for new connections while a
-- connection in progress keeps the one it started with; a bad file keeps
-- the running configuration (the driver checks the FILE:LINE log line).
dofile(os.getenv("RG_MILTER_DIR") .. "/lib.lua")
local conf = os.getenv("RG_CONF")
local pid = os.getenv("RG_PID")

local function finish(conn)
	rg.check(rg.headers(conn, {{"Subject", "s"}}), "headers")
	rg.ok(mt.eom(conn), "eom")
	return tostring(rg.status(conn))
end

rg.run(function()
	local old = rg.connect()
	rg.check(rg.envelope(old, "<a@example.org>"), "envelope")

	rg.sh("sed -i 's/^authserv_id = .*/authserv_id = mx2.test/' " .. conf)
	rg.sh("kill -HUP " .. pid)
	mt.sleep(1)

	local st = finish(old)
	rg.check(st:find("^mx%.test;"), "old connection switched: " .. st)
	mt.disconnect(old)

	local new = rg.connect()
	rg.check(rg.envelope(new, "<a@example.org>"), "envelope")
	st = finish(new)
	rg.check(st:find("^mx2%.test;"), "new connection kept old: " .. st)
	mt.disconnect(new)

	-- a broken file: the daemon keeps mx2.test and keeps serving
	rg.sh("cp " .. conf .. " " .. conf .. ".good")
	rg.sh("printf 'log_level = loud\\n' >> " .. conf)
	rg.sh("kill -HUP " .. pid)
	mt.sleep(1)
	new = rg.connect()
	rg.check(rg.envelope(new, "<a@example.org>"), "envelope")
	st = finish(new)
	rg.check(st:find("^mx2%.test;"), "bad reload took effect: " .. st)
	mt.disconnect(new)
	rg.sh("cp " .. conf .. ".good " .. conf)
end)
