-- one: one message through the milter protocol.  RG_MSG is the message
-- as a Lua table (tests/tools/eml2lua), RG_ID its queue id, RG_WANT what
-- the end of message must be: "reject" or "tempfail" (a reply code),
-- "accept", "tag" (accepted with X-Spam-Flag: YES inserted) or
-- "quarantine".
dofile(os.getenv("RG_MILTER_DIR") .. "/lib.lua")
local msg = dofile(os.getenv("RG_MSG"))
local want = os.getenv("RG_WANT") or "accept"

rg.run(function()
	local conn = rg.connect("mail.example.com", "192.0.2.7")
	local macros = {"i", os.getenv("RG_ID") or "ONE"}
	if os.getenv("RG_LOGIN") then
		table.insert(macros, "{auth_authen}")
		table.insert(macros, os.getenv("RG_LOGIN"))
	end
	rg.check(rg.envelope(conn, "<ann@example.com>", nil, macros),
		"refused at MAIL FROM")
	rg.check(rg.headers(conn, msg.headers), "headers")
	rg.ok(mt.bodystring(conn, msg.body), "body")
	rg.check(mt.getreply(conn) == SMFIR_CONTINUE, "body not continued")
	rg.ok(mt.eom(conn), "eom")
	local got = mt.getreply(conn)
	if want == "reject" or want == "tempfail" then
		rg.check(got == SMFIR_REPLYCODE, "want a reply code, got " ..
			tostring(got))
	else
		rg.check(got == SMFIR_ACCEPT or got == SMFIR_CONTINUE,
			"not accepted: " .. tostring(got))
		local tagged = mt.eom_check(conn, MT_HDRINSERT, "X-Spam-Flag", " YES")
		rg.check(tagged == (want == "tag"), "X-Spam-Flag: YES " ..
			(tagged and "inserted" or "missing"))
		if want == "quarantine" then
			rg.check(mt.eom_check(conn, MT_QUARANTINE), "not quarantined")
		end
	end
	mt.disconnect(conn)
end)
