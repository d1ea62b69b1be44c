-- dkim: DKIM through the milter protocol (the driver serves the keys from
-- a DNS server on loopback and writes the signed message as a Lua table,
-- RG_DKIM_MSG).  Inbound: the dkimpy signature passes and
-- Authentication-Results (RG_DKIM_AR) is inserted; the body changed, it
-- fails.  Outbound (a login): a DKIM-Signature is inserted; not verified.
dofile(os.getenv("RG_MILTER_DIR") .. "/lib.lua")
local msg = dofile(os.getenv("RG_DKIM_MSG"))

-- send(conn, body): the message's header fields as they were signed
local function send(conn, body)
	rg.check(rg.headers(conn, msg.headers), "headers")
	rg.ok(mt.bodystring(conn, body), "body")
	rg.check(mt.getreply(conn) == SMFIR_CONTINUE, "body not continued")
	rg.ok(mt.eom(conn), "eom")
end

rg.run(function()
	local conn = rg.connect("mail.example.com", "192.0.2.7")
	rg.check(rg.envelope(conn, "<ann@example.com>", nil, {"i", "D1"}),
		"refused at MAIL FROM")
	send(conn, msg.body)
	rg.check(mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results",
		" " .. os.getenv("RG_DKIM_AR")), "no dkim=pass inserted")
	mt.disconnect(conn)

	conn = rg.connect("mail.example.com", "192.0.2.7")
	rg.check(rg.envelope(conn, "<ann@example.com>", nil, {"i", "D2"}),
		"refused at MAIL FROM")
	send(conn, msg.body .. "changed\r\n")
	rg.check(mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results",
		" " .. os.getenv("RG_DKIM_AR"):gsub("dkim=pass", "dkim=fail")),
		"no dkim=fail inserted")
	mt.disconnect(conn)

	conn = rg.connect("client.test", "192.0.2.8")
	rg.check(rg.envelope(conn, "<ann@example.com>", nil,
		{"i", "D3", "{auth_authen}", "ann"}), "outbound refused")
	send(conn, msg.body)
	rg.check(mt.eom_check(conn, MT_HDRINSERT, "DKIM-Signature"),
		"no DKIM-Signature inserted")
	rg.check(not mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results"),
		"outbound mail verified")
	mt.disconnect(conn)
end)
