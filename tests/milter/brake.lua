-- brake: recipients the MTA refused itself (SMFIP_RCPT_REJ: {rcpt_mailer}
-- "error", {rcpt_host} the status) count toward brake_rejected_rcpts:
-- mallory's third stops her (her next recipient and her next message get
-- 451), while oscar sends on.  The driver (ratelimit.sh) checks the log.
dofile(os.getenv("RG_MILTER_DIR") .. "/lib.lua")

local function mail(id, user)
	local conn = rg.connect("client.test", "192.0.2.20")
	rg.ok(mt.helo(conn, "client.test"), "helo")
	rg.ok(mt.macro(conn, SMFIC_MAIL, "i", id, "{auth_authen}", user,
		       "{auth_type}", "PLAIN"), "macro")
	rg.ok(mt.mailfrom(conn, "<" .. user .. "@example.org>"), "mailfrom")
	return conn, mt.getreply(conn)
end

local function rcpt(conn, addr, refused)
	if refused then
		rg.ok(mt.macro(conn, SMFIC_RCPT, "{rcpt_mailer}", "error",
			       "{rcpt_host}", "5.7.1", "{rcpt_addr}",
			       "Relay access denied"), "macro")
	else
		rg.ok(mt.macro(conn, SMFIC_RCPT, "{rcpt_mailer}", "smtp",
			       "{rcpt_host}", "example.net", "{rcpt_addr}",
			       addr), "macro")
	end
	rg.ok(mt.rcptto(conn, "<" .. addr .. ">"), "rcptto")
	return mt.getreply(conn)
end

rg.run(function()
	local conn, r = mail("BM1", "mallory")
	rg.check(r == SMFIR_CONTINUE, "mallory refused at first")
	rg.check(rcpt(conn, "ok1@example.net") == SMFIR_CONTINUE, "ok1")
	for i = 1, 3 do
		rcpt(conn, "no" .. i .. "@example.com", true)
	end
	rg.check(rcpt(conn, "ok2@example.net") == SMFIR_REPLYCODE,
		 "mallory's recipient taken after the brake")
	mt.disconnect(conn)
	conn, r = mail("BM2", "mallory")
	rg.check(r == SMFIR_REPLYCODE, "mallory's next message not stopped")
	mt.disconnect(conn)
	conn, r = mail("BO1", "oscar")
	rg.check(r == SMFIR_CONTINUE, "oscar refused")
	rg.check(rcpt(conn, "ok@example.net") == SMFIR_CONTINUE, "oscar rcpt")
	for i = 1, 2 do
		rcpt(conn, "no" .. i .. "@example.com", true)
	end
	rg.check(rcpt(conn, "ok3@example.net") == SMFIR_CONTINUE,
		 "oscar stopped under the threshold")
	mt.disconnect(conn)
end)
