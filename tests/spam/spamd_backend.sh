#!/usr/bin/env bash
# tests/spam/spamd_backend.sh - SpamAssassin's spamd as a spam engine
# (policy/checks/extspam/spamd.c) against a real spamd from Debian
# (tests/spamd.sh, started once), through "relayguard check": GTUBE
# rejected (554 5.7.1) inbound and outbound, over TCP and the unix socket;
# a ham message accepted with spamd's score; the built-in engine and spamd
# summed against one threshold; spamd_weight; spamd_outbound = no;
# spamd_max_size (SPAMD_SKIPPED); spamd's rules as SPAMD_<RULE> symbols
# and the Received field it was given; then every failure mode
# (tests/spam/extspam_lib.sh): spamd stopped, hung, closing, garbage, a
# huge answer, an answer cut short: SPAMD_ERROR, 451 4.3.0 by default.
#   RG_SPAMD_PORT (default 17830); the fake engine uses RG_SPAMD_PORT + 1
set -u
. "$(dirname "$0")/../scenarios/lib.sh"
. "$RG_TOP/tests/spamd.sh"
. "$RG_TOP/tests/spam/extspam_lib.sh"
trap 'spamd_stop >/dev/null 2>&1; fake_stop $((RG_SPAMD_PORT + 1)) >/dev/null 2>&1' EXIT
echo "spamd as a spam engine (spamd = yes)"
if ! spamd_start "$dir/spamd" >"$dir/setup.log" 2>&1; then
	t_fail spamd/setup "spamd_start failed: $(tail -1 "$dir/setup.log")"
	exit 0
fi
K="spamd=yes spamd_server=$(spamd_inet) temp_dir=$dir"

# GTUBE: spamd's 1000 points reach the reject threshold
want="verdict: reject
reply: 554 5.7.1 Message rejected as spam
symbol: SPAMD_GTUBE 0.00"
scenario spamd-gtube "$K" "$IN" < <(ext_gtube /dev/stdout)
has spamd-gtube '^symbol: SPAMD 10[0-9][0-9]\.[0-9]+ 10[0-9][0-9]\.[0-9]+ / 5\.00 spam$' score
has spamd-gtube '^symbol: SPAM_REJECT 0\.00 score 10[0-9][0-9]' threshold
# the same over the unix socket
want="verdict: reject
symbol: SPAMD_GTUBE 0.00"
scenario spamd-gtube-unix "spamd=yes spamd_server=$(spamd_unix)" "$IN" < <(ext_gtube /dev/stdout)
# outbound: a login's GTUBE is spam too (spamd_outbound = yes)
want="verdict: reject
reply: 554 5.7.1 Message rejected as spam"
scenario spamd-gtube-outbound "$K" "$OUT" < <(ext_gtube /dev/stdout alice@local.test)
# ... unless the site says otherwise
want="verdict: accept"
never="SPAMD"
scenario spamd-outbound-off "$K spamd_outbound=no" "$OUT" < <(ext_gtube /dev/stdout alice@local.test)

# ham: accepted, spamd's score in the total, no threshold reached
want="verdict: accept"
never="SPAM_REJECT
SPAM_TAG
SPAMD_ERROR
SPAMD_GTUBE"
scenario spamd-ham "$K" "$IN" < <(ext_ham /dev/stdout)
has spamd-ham '^symbol: SPAMD -?[0-4]\.[0-9]+ -?[0-9.]+ / 5\.00 ham$' score
has spamd-ham '^header: X-Relayguard: mx\.test; verdict=accept; mode=inbound; score=-?[0-4]\.' status

# spamd_weight: GTUBE at 0.01 is 10 points: tagged, not rejected
want="verdict: accept
header: X-Spam-Flag: YES"
scenario spamd-weight "$K spamd_weight=0.01" "$IN" < <(ext_gtube /dev/stdout)
has spamd-weight '^symbol: SPAMD 10\.[0-9]+ 10[0-9][0-9]\.' scaled
# the built-in engine and spamd, one total: GTUBE weighed down to 10 in
# both, 20 together, over the reject score of 15
want="verdict: reject
symbol: GTUBE 10.00 the GTUBE test string"
scenario spamd-and-builtin "$K spam=yes bayes=no spamd_weight=0.01 scores=GTUBE=10" "$IN" < <(ext_gtube /dev/stdout)
has spamd-and-builtin '^symbol: SPAM_REJECT 0\.00 score 2[0-9]\.' total

# larger than spamd_max_size: not sent, accepted (spamc -s)
ext_big "$dir/big.eml" 4
want="verdict: accept"
never="SPAMD_ERROR"
scenario spamd-max-size "$K spamd_max_size=2k" "$IN" <"$dir/big.eml"
has spamd-max-size '^symbol: SPAMD_SKIPPED 0\.00 [0-9]+ bytes over spamd_max_size 2048$' skipped
# ... and under it, from a spool on disk (spool_memory_max 1k): sent whole
want="verdict: accept"
never="SPAMD_SKIPPED
SPAMD_ERROR"
scenario spamd-big-sent "$K spool_memory_max=1k" "$IN" <"$dir/big.eml"
has spamd-big-sent '^symbol: SPAMD ' score

# a virus: refused by the scan, not sent to spamd (nothing to learn from
# it, ~100-200 ms of spamd's CPU saved); a clean message still is
want="verdict: reject"
never="SPAMD_ERROR
symbol: SPAMD "
scenario spamd-virus-skipped "$K av=yes clamav_database=$RG_TOP/conf/clamav" "$IN" < <("$RG_TOP/tests/tools/mkvirus" plain)
has spamd-virus-skipped '^symbol: SPAMD_SKIPPED 0\.00 a virus \(Eicar[^)]*\): not sent$' skipped
want="verdict: accept"
never="SPAMD_SKIPPED"
scenario spamd-clean-with-av "$K av=yes clamav_database=$RG_TOP/conf/clamav" "$IN" < <("$RG_TOP/tests/tools/mkvirus" plain --clean)
has spamd-clean-with-av '^symbol: SPAMD ' score

# what spamd saw: our Received field first, the client in it
if grep -q 'connection from' "$SPAMD_DIR/spamd.log" &&
	grep -qE 'spamd: (identified spam|clean message)' "$SPAMD_DIR/spamd.log"; then
	t_pass spamd/logged-by-spamd
else
	t_fail spamd/logged-by-spamd "no scan lines in $SPAMD_DIR/spamd.log"
fi

# the real engine's answers, and the hostile ones below, under valgrind
ext_valgrind spamd-gtube "$K" "$IN" < <(ext_gtube /dev/stdout)
ext_valgrind spamd-ham "$K" "$OUT" < <(ext_ham /dev/stdout alice@local.test)
ext_bad_server spamd

# the daemon (under valgrind, through miltertest): GTUBE rejected, ham
# accepted, then spamd stopped: tempfailed; the daemon keeps running and
# exits clean
RG_MILTER_PORT=$((RG_MILTER_PORT + 8))
export RG_SOCKET="inet:$RG_MILTER_PORT@127.0.0.1" RG_MILTER_DIR="$RG_TOP/tests/milter" RG_EXT_DIR=$dir/msgs
mkdir -p "$dir/msgs"
ext_gtube "$dir/msgs/gtube.eml"
ext_ham "$dir/msgs/ham.eml"
for m in gtube ham; do "$RG_TOP/tests/tools/eml2lua" "$dir/msgs/$m.eml" "$dir/msgs/$m.lua"; done
cat >"$dir/daemon.lua" <<'LUA'
dofile(os.getenv("RG_MILTER_DIR") .. "/lib.lua")
local want = os.getenv("RG_EXT_WANT")
rg.run(function()
	for _, m in ipairs({"gtube", "ham"}) do
		local msg = dofile(os.getenv("RG_EXT_DIR") .. "/" .. m .. ".lua")
		local conn = rg.connect("mail.example.org", "192.0.2.1")
		rg.check(rg.envelope(conn, "<ann@example.org>", "<bob@example.com>",
				     {"i", want .. m}), "mail")
		rg.check(rg.headers(conn, msg.headers), "headers")
		rg.ok(mt.bodystring(conn, msg.body), "body")
		rg.ok(mt.eom(conn), "eom")
		local r = mt.getreply(conn)
		if want == "UP" and m == "ham" then
			rg.check(r ~= SMFIR_REPLYCODE, m .. ": refused")
			rg.check(rg.status(conn):find("verdict=accept", 1, true), m .. ": not accepted")
		else
			rg.check(r == SMFIR_REPLYCODE, m .. ": not refused")
		end
		mt.disconnect(conn)
	end
end)
LUA
rg_valgrind "$dir"
rg_conf "$dir/rg.conf" $K
if rg_start "$dir/rg.conf" "$dir/daemon.log" "${wrapper[@]}"; then
	if RG_EXT_WANT=UP miltertest -s "$dir/daemon.lua" >"$dir/daemon.out" 2>&1 &&
		grep -q 'UPgtube: verdict=reject reply="554 5.7.1 Message rejected as spam".*SPAMD(' "$dir/daemon.log" &&
		grep -q 'UPham: verdict=accept .*SPAMD(' "$dir/daemon.log"; then
		t_pass spamd/daemon
	else
		t_fail spamd/daemon "$(tail -2 "$dir/daemon.out" | tr '\n' ' ') $(grep -c verdict= "$dir/daemon.log") verdicts in $dir/daemon.log"
	fi
	spamd_stop
	if RG_EXT_WANT=DOWN miltertest -s "$dir/daemon.lua" >"$dir/down.out" 2>&1 &&
		[ "$(grep -c 'DOWN[a-z]*: verdict=tempfail reply="451 4.3.0 .*SPAMD_ERROR(0.00){spamd 127.0.0.1:[0-9]*: connection refused}' "$dir/daemon.log")" = 2 ]; then
		t_pass spamd/daemon-down-tempfail
	else
		t_fail spamd/daemon-down-tempfail "$(tail -2 "$dir/down.out" | tr '\n' ' ') $(grep DOWN "$dir/daemon.log" | head -1)"
	fi
	rc=0
	rg_stop || rc=$?
	if [ $rc = 0 ]; then t_pass spamd/daemon-clean-exit; else
		t_fail spamd/daemon-clean-exit "exit $rc (99: valgrind errors, see $dir/valgrind.*)"; fi
	spamd_start "$dir/spamd" >>"$dir/setup.log" 2>&1 || t_fail spamd/restart "spamd_start failed"
else
	t_fail spamd/daemon "daemon did not start: $(tail -2 "$dir/daemon.log")"
fi

# the failure modes, on a port of their own
ext_failures spamd SPAMD_ERROR "spamd=yes temp_dir=$dir" $((RG_SPAMD_PORT + 1)) \
	hang close garbage spamd-huge spamd-cut
spamd_stop
# spamd stopped mid-run, over the unix socket: no such socket
want="verdict: tempfail
reply: 451 4.3.0 Message could not be checked for spam, try again later"
scenario spamd-stopped "spamd=yes spamd_server=$(spamd_unix)" "$IN" < <(ext_ham /dev/stdout)
has spamd-stopped "^symbol: SPAMD_ERROR 0\\.00 spamd $(spamd_unix): no such socket" error

# what is sent: the SPAMC/1.5 request, User, a Content-length that counts
# our Received field and the message, the Received field first (the
# client, HELO, queue id, ESMTPA for a login)
export FAKE_RECORD=$dir/request
fake_start spamd-ok $((RG_SPAMD_PORT + 1))
want="verdict: accept"
scenario spamd-request "spamd=yes spamd_server=127.0.0.1:$((RG_SPAMD_PORT + 1)) spamd_user=filter" \
	"$OUT --queue-id 4QID7" < <(ext_ham /dev/stdout alice@local.test)
fake_stop $((RG_SPAMD_PORT + 1))
unset FAKE_RECORD
has spamd-request '^symbol: SPAMD 9\.00 9\.00 / 5\.00 spam$' score
/usr/bin/python3 - "$dir/request" "$dir/spamd-request.eml" >"$dir/request.check" 2>&1 <<'PY'
import re, sys
req = open(sys.argv[1], "rb").read()
msg = open(sys.argv[2], "rb").read()
head, _, body = req.partition(b"\r\n\r\n")
lines = head.split(b"\r\n")
assert lines[0] == b"SYMBOLS SPAMC/1.5", lines[0]
assert b"User: filter" in lines, lines
cl = [int(l.split(b":")[1]) for l in lines if l.lower().startswith(b"content-length:")]
assert cl == [len(body)], (cl, len(body))
assert body.endswith(msg), "the message is not sent whole, last"
rcv = body[:len(body) - len(msg)].decode()
assert re.match(r"Received: from pc\.local\.test \(unknown \[192\.0\.2\.1\]\)\r\n\tby mx\.test \(relayguard\) with ESMTPA id 4QID7\r\n\tfor <bob@example\.com>; [A-Z][a-z]{2}, ", rcv), rcv
assert rcv.endswith("\r\n") and rcv.count("Received:") == 1, rcv
print("ok")
PY
if grep -qx ok "$dir/request.check"; then t_pass spamd/request; else
	t_fail spamd/request "$(tail -1 "$dir/request.check")"; fi
