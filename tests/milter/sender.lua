-- sender: the sender identity gate through the milter protocol.  MAIL
-- FROM findings are refused at MAIL FROM, header findings at end of
-- headers; the driver checks the reply texts in the daemon's log.  The
-- map (RG_MAP, a copy of conf/sender_login_maps.example) is edited while
-- the daemon runs: the change applies without a reload.
dofile(os.getenv("RG_MILTER_DIR") .. "/lib.lua")
local map = os.getenv("RG_MAP")

local function login(id, user)
	return {"i", id, "{auth_authen}", user, "{auth_type}", "PLAIN"}
end

-- mail(id, user, from): true if MAIL FROM was accepted
local function mail(id, user, from, ip)
	local conn = rg.connect("client.test", ip or "192.0.2.9")
	local ok = rg.envelope(conn, from, "<x@example.net>",
		user and login(id, user) or {"i", id})
	local code = mt.getreply(conn)
	mt.disconnect(conn)
	return ok, code
end

-- message(id, user, from, headers): "accept", or "reply" at end of headers
local function message(id, user, from, headers)
	local conn = rg.connect()
	rg.check(rg.envelope(conn, from, nil, login(id, user)),
		id .. ": MAIL FROM refused")
	if not rg.headers(conn, headers) then
		local code = mt.getreply(conn)
		mt.disconnect(conn)
		rg.check(code == SMFIR_REPLYCODE, id .. ": not a reply code")
		return "reply"
	end
	rg.ok(mt.bodystring(conn, "body\r\n"), "body")
	rg.ok(mt.eom(conn), "eom")
	rg.check(mt.eom_check(conn, MT_HDRADD, "X-Relayguard"), id .. ": no header")
	mt.disconnect(conn)
	return "accept"
end

rg.run(function()
	local ok, code
	rg.check(mail("E1", "alice", "<alice@example.com>"), "own address refused")
	ok, code = mail("E2", "alice", "<bob@example.com>")
	rg.check(not ok and code == SMFIR_REPLYCODE, "other address accepted")
	ok, code = mail("E3", nil, "<alice@example.com>")
	rg.check(not ok and code == SMFIR_REPLYCODE, "not logged in accepted")
	ok, code = mail("E4", "alice", "<>")
	rg.check(not ok and code == SMFIR_REPLYCODE, "null sender accepted")
	rg.check(mail("E5", nil, "<>"), "inbound null sender refused")
	rg.check(mail("E6", "bob", "<sales@example.com>"), "shared mailbox refused")
	rg.check(mail("E7", "helpdesk", "<anyone@example.com>"), "catch-all refused")
	rg.check(mail("E8", "jdoe", "<jdoe@example.edu>"), "regexp refused")
	rg.check(mail("E9", nil, "<bob@example.com>", "10.1.1.1"),
		"trusted network refused")

	local A = "<alice@example.com>"
	rg.check(message("H1", "alice", A, {{"From", "Alice <alice@example.com>"}})
		== "accept", "own From refused")
	rg.check(message("H2", "alice", A, {{"From", "bob@example.com"}})
		== "reply", "other From accepted")
	rg.check(message("H3", "alice", A, {{"From", "alice@example.com"},
		{"From", "bob@example.com"}}) == "reply", "two From accepted")
	rg.check(message("H4", "alice", A, {{"Subject", "no from"}})
		== "reply", "missing From accepted")
	rg.check(message("H5", "alice", A, {{"From", "alice@example.com"},
		{"Sender", "bob@example.com"}}) == "reply", "other Sender accepted")
	rg.check(message("H6", "alice", A, {{"From", "alice@example.com <bob@example.com>"}})
		== "reply", "malformed From accepted")
	rg.check(message("H7", "alice", A, {{"From", "\"ceo@example.com\" <alice@example.com>"}})
		== "accept", "display spoof refused (default: tag)")
	rg.check(message("H8", "alice", A, {{"From", "bob@example.com (alice@example.com)"}})
		== "reply", "comment trick accepted")

	-- the map changes on disk: alice may now send as bob, no reload; a
	-- changed file is read once settled (2 s), looked at once a second
	rg.sh("printf 'bob@example.com alice\\n' | cat - " .. map .. " > " ..
		map .. ".new && mv " .. map .. ".new " .. map)
	mt.sleep(3.5)
	rg.check(mail("R1", "alice", "<bob@example.com>"),
		"map change on disk not applied")
end)
