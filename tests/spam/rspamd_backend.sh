#!/usr/bin/env bash
# tests/spam/rspamd_backend.sh - Rspamd as a spam engine
# (policy/checks/extspam/rspamd.c) against a real Rspamd from Debian
# (tests/rspamd.sh, started once), through "relayguard check": GTUBE
# rejected (554 5.7.1) inbound and outbound, over TCP and the unix socket;
# a ham message accepted with Rspamd's score, the envelope seen by Rspamd
# (FROM_EQ_ENVFROM, TO_MATCH_ENVRCPT_ALL); the built-in engine and Rspamd
# summed against one threshold; rspamd_weight; rspamd_outbound = no;
# rspamd_max_size (RSPAMD_SKIPPED); the request as sent (fakeengine with
# FAKE_RECORD); then every failure mode (tests/spam/extspam_lib.sh):
# Rspamd stopped, hung, closing, garbage, a huge answer, an answer cut
# short, a body that is not JSON: RSPAMD_ERROR, 451 4.3.0 by default.
#   RG_RSPAMD_PORT (default 17833); the fake engine uses RG_RSPAMD_PORT + 1
set -u
. "$(dirname "$0")/../scenarios/lib.sh"
. "$RG_TOP/tests/rspamd.sh"
. "$RG_TOP/tests/spam/extspam_lib.sh"
FAKE_PORT=$((RG_RSPAMD_PORT + 1))
trap 'rspamd_stop >/dev/null 2>&1; fake_stop $FAKE_PORT >/dev/null 2>&1' EXIT
echo "Rspamd as a spam engine (rspamd = yes)"
if ! rspamd_start "$dir/rspamd" >"$dir/setup.log" 2>&1; then
	t_fail rspamd/setup "rspamd_start failed: $(tail -1 "$dir/setup.log")"
	exit 0
fi
K="rspamd=yes rspamd_server=$(rspamd_inet) temp_dir=$dir"

# GTUBE: Rspamd's pre-result scores its reject threshold, 15
want="verdict: reject
reply: 554 5.7.1 Message rejected as spam
symbol: RSPAMD 15.00 15.00 / 15.00 spam, action reject, pre-result
symbol: RSPAMD_GTUBE 0.00 0.00
symbol: SPAM_REJECT 0.00 score 15.00 >= 15.00"
scenario rspamd-gtube "$K" "$IN" < <(ext_gtube /dev/stdout)
want="verdict: reject
symbol: RSPAMD_GTUBE 0.00 0.00"
scenario rspamd-gtube-unix "rspamd=yes rspamd_server=$(rspamd_unix)" "$IN" < <(ext_gtube /dev/stdout)
want="verdict: reject
reply: 554 5.7.1 Message rejected as spam"
scenario rspamd-gtube-outbound "$K" "$OUT" < <(ext_gtube /dev/stdout alice@local.test)
want="verdict: accept"
never="RSPAMD"
scenario rspamd-outbound-off "$K rspamd_outbound=no" "$OUT" < <(ext_gtube /dev/stdout alice@local.test)

# ham: accepted; Rspamd saw the envelope (From and Rcpt headers)
want="verdict: accept"
never="SPAM_REJECT
SPAM_TAG
RSPAMD_ERROR
RSPAMD_GTUBE"
scenario rspamd-ham "$K" "$IN" < <(ext_ham /dev/stdout)
has rspamd-ham '^symbol: RSPAMD -?[0-4]\.[0-9]+ -?[0-9.]+ / 15\.00 ham, action no action$' score
has rspamd-ham '^symbol: RSPAMD_FROM_EQ_ENVFROM ' envfrom
has rspamd-ham '^symbol: RSPAMD_TO_MATCH_ENVRCPT_ALL ' envrcpt

# rspamd_weight 0.5: GTUBE is 7.5, tagged; with the built-in engine's
# GTUBE at 8 the total is 15.5: rejected
want="verdict: accept
header: X-Spam-Flag: YES
symbol: RSPAMD 7.50 15.00 / 15.00 spam, action reject, pre-result"
scenario rspamd-weight "$K rspamd_weight=0.5" "$IN" < <(ext_gtube /dev/stdout)
want="verdict: reject
symbol: GTUBE 8.00 the GTUBE test string
symbol: SPAM_REJECT 0.00 score 15.50 >= 15.00"
scenario rspamd-and-builtin "$K spam=yes bayes=no rspamd_weight=0.5 scores=GTUBE=8" "$IN" < <(ext_gtube /dev/stdout)

# larger than rspamd_max_size: not sent
ext_big "$dir/big.eml" 4
want="verdict: accept"
never="RSPAMD_ERROR
symbol: RSPAMD "
scenario rspamd-max-size "$K rspamd_max_size=2k" "$IN" <"$dir/big.eml"
has rspamd-max-size '^symbol: RSPAMD_SKIPPED 0\.00 [0-9]+ bytes over rspamd_max_size 2048$' skipped
# a virus: refused by the scan, not sent to Rspamd
want="verdict: reject"
never="RSPAMD_ERROR
symbol: RSPAMD "
scenario rspamd-virus-skipped "$K av=yes clamav_database=$RG_TOP/conf/clamav" "$IN" < <("$RG_TOP/tests/tools/mkvirus" plain)
has rspamd-virus-skipped '^symbol: RSPAMD_SKIPPED 0\.00 a virus \(Eicar[^)]*\): not sent$' skipped
# ... and under it, from a spool on disk (spool_memory_max 1k): sent whole
want="verdict: accept"
never="RSPAMD_SKIPPED
RSPAMD_ERROR"
scenario rspamd-big-sent "$K spool_memory_max=1k" "$IN" <"$dir/big.eml"
has rspamd-big-sent '^symbol: RSPAMD -?[0-9.]+ ' score

# the request as sent: the envelope as Rspamd's headers, the message whole
export FAKE_RECORD=$dir/request
fake_start rspamd-ok "$FAKE_PORT"
want="verdict: accept
symbol: RSPAMD 9.00 9.00 / 15.00 spam, action add header
symbol: RSPAMD_FAKE 0.00 9.00"
scenario rspamd-request "rspamd=yes rspamd_server=127.0.0.1:$FAKE_PORT rspamd_password=s3cret" \
	"$OUT --rcpt carol@example.net --queue-id 4QID8" < <(ext_ham /dev/stdout alice@local.test)
fake_stop "$FAKE_PORT"
unset FAKE_RECORD
/usr/bin/python3 - "$dir/request" "$dir/rspamd-request.eml" >"$dir/request.check" 2>&1 <<'PY'
import sys
req = open(sys.argv[1], "rb").read()
msg = open(sys.argv[2], "rb").read()
head, _, body = req.partition(b"\r\n\r\n")
lines = head.decode().split("\r\n")
assert lines[0] == "POST /checkv2 HTTP/1.1", lines[0]
h = [tuple(l.split(": ", 1)) for l in lines[1:]]
want = [("IP", "192.0.2.1"), ("Helo", "pc.local.test"),
        ("From", "alice@local.test"), ("Rcpt", "bob@example.com"),
        ("Rcpt", "carol@example.net"), ("User", "alice"),
        ("Queue-Id", "4QID8"), ("Pass", "all"), ("Password", "s3cret"),
        ("Content-Length", str(len(msg)))]
for w in want:
    assert w in h, (w, h)
assert not [k for k, v in h if k == "Hostname"], h
assert body == msg, "the message is not sent whole"
print("ok")
PY
if grep -qx ok "$dir/request.check"; then t_pass rspamd/request; else
	t_fail rspamd/request "$(tail -1 "$dir/request.check")"; fi

# the real engine's answers, and the hostile ones below, under valgrind
ext_valgrind rspamd-gtube "$K" "$IN" < <(ext_gtube /dev/stdout)
ext_valgrind rspamd-ham "$K" "$OUT" < <(ext_ham /dev/stdout alice@local.test)
ext_bad_server rspamd

# the failure modes, on a port of their own
ext_failures rspamd RSPAMD_ERROR "rspamd=yes temp_dir=$dir" "$FAKE_PORT" \
	hang close garbage rspamd-huge rspamd-cut rspamd-json
rspamd_stop
want="verdict: tempfail
reply: 451 4.3.0 Message could not be checked for spam, try again later"
scenario rspamd-stopped "rspamd=yes rspamd_server=$(rspamd_unix)" "$IN" < <(ext_ham /dev/stdout)
has rspamd-stopped "^symbol: RSPAMD_ERROR 0\\.00 rspamd $(rspamd_unix): no such socket" error
