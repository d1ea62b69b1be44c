-- av: the virus scan through the milter protocol.  RG_AV_DIR holds the
-- messages as Lua tables (tests/tools/eml2lua): plain.lua (EICAR in the
-- body), zip.lua, clean.lua; RG_AV_IDS is the queue-id prefix, RG_AV_N
-- how many rounds (the reload test runs several of these at once).
dofile(os.getenv("RG_MILTER_DIR") .. "/lib.lua")
local dir = os.getenv("RG_AV_DIR")
local prefix = os.getenv("RG_AV_IDS") or "V"
local rounds = tonumber(os.getenv("RG_AV_N") or "1")
local step = tonumber(os.getenv("RG_AV_CHUNK") or "0")

-- send(conn, msg): header fields, the body (in chunks of step bytes when
-- step > 0: the scan sees the whole spool however it arrived), eom
local function send(conn, msg)
	rg.check(rg.headers(conn, msg.headers), "headers")
	local body = msg.body
	local n = step > 0 and step or #body
	for i = 1, #body, n do
		rg.ok(mt.bodystring(conn, body:sub(i, i + n - 1)), "body")
		rg.check(mt.getreply(conn) == SMFIR_CONTINUE, "body not continued")
	end
	rg.ok(mt.eom(conn), "eom")
	return mt.getreply(conn)
end

local function one(name, id, want)
	local msg = dofile(dir .. "/" .. name .. ".lua")
	local conn = rg.connect("mail.example.com", "192.0.2.7")
	rg.check(rg.envelope(conn, "<ann@example.com>", nil, {"i", id}),
		"refused at MAIL FROM")
	local got = send(conn, msg)
	if want == SMFIR_ACCEPT and got == SMFIR_CONTINUE then got = want end
	rg.check(got == want, id .. " (" .. name .. "): reply " ..
		tostring(got) .. ", want " .. tostring(want))
	if want == SMFIR_ACCEPT or want == SMFIR_CONTINUE then
		rg.check(mt.eom_check(conn, MT_HDRINSERT, "X-Virus-Status",
			" Clean"), id .. ": no X-Virus-Status: Clean")
	end
	mt.disconnect(conn)
end

rg.run(function()
	for r = 1, rounds do
		one("plain", prefix .. r .. "a", SMFIR_REPLYCODE)
		one("zip", prefix .. r .. "b", SMFIR_REPLYCODE)
		one("clean", prefix .. r .. "c", SMFIR_ACCEPT)
	end
end)
