-- dnsbl: DNS blocklists through the milter protocol (the driver serves
-- the zones from a DNS server on loopback).  A client on a score-only
-- list is looked up once at connect and its symbol reaches both
-- transactions of the connection; a client on the reject list is refused
-- at RCPT with Postfix's words, unless it authenticated; an unlisted one
-- passes.
dofile(os.getenv("RG_MILTER_DIR") .. "/lib.lua")

-- message(conn, id): the rest of a small message, accepted
local function message(conn, what)
	rg.check(rg.headers(conn, {{"From", "a@example.org"},
		{"Subject", what}}), what .. ": headers")
	rg.ok(mt.bodystring(conn, "Hello.\r\n"), what .. ": body")
	rg.ok(mt.eom(conn), what .. ": eom")
	rg.check(mt.getreply(conn) == SMFIR_ACCEPT or
		mt.getreply(conn) == SMFIR_CONTINUE, what .. ": not accepted")
end

rg.run(function()
	-- two transactions on one connection: the connect-stage result in both
	local conn = rg.connect("scored.test", "192.0.2.7")
	rg.check(rg.envelope(conn, "<a@example.org>", nil, {"i", "T1"}),
		"T1 refused")
	message(conn, "T1")
	rg.ok(mt.macro(conn, SMFIC_MAIL, "i", "T2"), "macro T2")
	rg.ok(mt.mailfrom(conn, "<b@example.org>"), "mailfrom T2")
	rg.check(mt.getreply(conn) == SMFIR_CONTINUE, "T2 refused at MAIL")
	rg.ok(mt.rcptto(conn, "<rcpt@example.net>"), "rcptto T2")
	rg.check(mt.getreply(conn) == SMFIR_CONTINUE, "T2 refused at RCPT")
	message(conn, "T2")
	mt.disconnect(conn)

	-- listed on the reject list: refused at RCPT, with the list named
	conn = rg.connect("listed.test", "192.0.2.1")
	rg.ok(mt.helo(conn, "listed.test"), "helo")
	rg.ok(mt.macro(conn, SMFIC_MAIL, "i", "R1"), "macro R1")
	rg.ok(mt.mailfrom(conn, "<a@example.org>"), "mailfrom R1")
	rg.check(mt.getreply(conn) == SMFIR_CONTINUE, "R1 refused at MAIL")
	rg.ok(mt.rcptto(conn, "<rcpt@example.net>"), "rcptto R1")
	rg.check(mt.getreply(conn) == SMFIR_REPLYCODE, "R1 not refused at RCPT")
	mt.disconnect(conn)

	-- the same client, authenticated: never refused by a blocklist
	conn = rg.connect("listed.test", "192.0.2.1")
	rg.check(rg.envelope(conn, "<a@example.org>", nil,
		{"i", "A1", "{auth_authen}", "alice"}), "authenticated refused")
	message(conn, "A1")
	mt.disconnect(conn)

	-- not listed
	conn = rg.connect("clean.test", "192.0.2.99")
	rg.check(rg.envelope(conn, "<a@example.org>", nil, {"i", "N1"}),
		"unlisted refused")
	message(conn, "N1")
	mt.disconnect(conn)
end)
