-- dmarc: DMARC through the milter protocol (tests/milter/dmarc.sh serves
-- the records and runs the daemon with dmarc_enforce = yes).  An SPF
-- aligned pass: dmarc=pass in the inserted Authentication-Results; a
-- p=reject failure: a reply code at end of message; a p=quarantine
-- failure: quarantined, with dmarc=fail inserted.
dofile(os.getenv("RG_MILTER_DIR") .. "/lib.lua")
rg.run(function()
	local conn = rg.connect("mail.pass.example", "192.0.2.7")
	rg.check(rg.envelope(conn, "<user@pass.example>", nil, {"i", "M1"}),
		"pass refused at MAIL FROM")
	rg.check(rg.headers(conn, {{"From", "User <user@pass.example>"}}),
		"headers")
	rg.ok(mt.eom(conn), "eom")
	rg.check(mt.getreply(conn) == SMFIR_ACCEPT or
		mt.getreply(conn) == SMFIR_CONTINUE, "pass not accepted")
	rg.check(mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results",
		" mx.test; spf=pass smtp.mailfrom=user@pass.example; " ..
		"dmarc=pass header.from=pass.example policy.dmarc=reject"),
		"no Authentication-Results with dmarc=pass inserted")
	mt.disconnect(conn)

	conn = rg.connect("mail.other.example", "203.0.113.9")
	rg.check(rg.envelope(conn, "<x@other.example>", nil, {"i", "M2"}),
		"refused at MAIL FROM")
	rg.check(rg.headers(conn, {{"From", "B <b@rej.example>"}}), "headers")
	rg.ok(mt.eom(conn), "eom")
	rg.check(mt.getreply(conn) == SMFIR_REPLYCODE,
		"p=reject failure not refused")
	mt.disconnect(conn)

	conn = rg.connect("mail.other.example", "203.0.113.9")
	rg.check(rg.envelope(conn, "<x@other.example>", nil, {"i", "M3"}),
		"refused at MAIL FROM")
	rg.check(rg.headers(conn, {{"From", "C <c@quar.example>"}}), "headers")
	rg.ok(mt.eom(conn), "eom")
	rg.check(mt.eom_check(conn, MT_QUARANTINE), "not quarantined")
	rg.check(mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results",
		" mx.test; spf=none smtp.mailfrom=x@other.example; " ..
		"dmarc=fail header.from=quar.example policy.dmarc=quarantine"),
		"no Authentication-Results with dmarc=fail inserted")
	mt.disconnect(conn)
end)
