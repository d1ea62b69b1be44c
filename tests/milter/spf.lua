-- spf: SPF through the milter protocol (the driver serves the zone from a
-- DNS server on loopback).  A pass gets Received-SPF and
-- Authentication-Results inserted at the top; a fail is refused at MAIL
-- FROM (the driver's config says spf_fail_action = reject); outbound mail
-- is not checked; a forged Authentication-Results with our id is removed.
dofile(os.getenv("RG_MILTER_DIR") .. "/lib.lua")
rg.run(function()
	local conn = rg.connect("mail.pass.example", "192.0.2.7")
	rg.check(rg.envelope(conn, "<user@pass.example>", nil, {"i", "P1"}),
		"pass refused at MAIL FROM")
	rg.check(rg.headers(conn, {{"From", "user@pass.example"},
		{"Authentication-Results", "mx.test; spf=pass smtp.mailfrom=x"}}),
		"headers")
	rg.ok(mt.eom(conn), "eom")
	rg.check(mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results",
		" mx.test; spf=pass smtp.mailfrom=user@pass.example"),
		"no Authentication-Results spf=pass inserted")
	rg.check(mt.eom_check(conn, MT_HDRINSERT, "Received-SPF"),
		"no Received-SPF inserted")
	rg.check(mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results"),
		"forged Authentication-Results not removed")
	mt.disconnect(conn)

	conn = rg.connect("mail.fail.example", "203.0.113.9")
	rg.check(not rg.envelope(conn, "<user@fail.example>", nil, {"i", "F1"}),
		"SPF fail not refused at MAIL FROM")
	rg.check(mt.getreply(conn) == SMFIR_REPLYCODE, "no reply code")
	mt.disconnect(conn)

	-- outbound (authenticated): no SPF, so no refusal
	conn = rg.connect("mail.fail.example", "203.0.113.9")
	rg.check(rg.envelope(conn, "<user@fail.example>", nil,
		{"i", "O1", "{auth_authen}", "user"}), "outbound checked for SPF")
	mt.disconnect(conn)
end)
