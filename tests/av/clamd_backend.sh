#!/usr/bin/env bash
# tests/av/clamd_backend.sh - av_backend = clamd end to end: a real clamd
# from Debian (tests/clamd.sh) on a private socket with the test
# signatures; "relayguard check" and the daemon (under valgrind, through
# miltertest) scan EICAR shapes and clean twins through it; a message over
# StreamMaxLength; clamd that does not answer (av_timeout); clamd stopped
# mid-run: AV_UNAVAILABLE and av_error_action (451 4.3.0 inbound, the
# outbound action of its own), the daemon keeps running.
set -u
. "$(dirname "$0")/../scenarios/lib.sh"
. "$RG_TOP/tests/clamd.sh"
export RG_MILTER_DIR="$RG_TOP/tests/milter"
RG_MILTER_PORT=$((RG_MILTER_PORT + 7))
export RG_SOCKET="inet:$RG_MILTER_PORT@127.0.0.1"
export RG_CLAMD_STREAM_MAX=4M
MK=$RG_TOP/tests/tools/mkvirus
IN="--client-ip 192.0.2.1 --helo x.test --rcpt c@d.test"
OUT="--client-ip 192.0.2.1 --helo x.test --rcpt c@d.test --auth-user alice"
EICAR=Eicar-Test-Signature.UNOFFICIAL
SLOW_PID=
trap 'rg_stop >/dev/null 2>&1; clamd_stop >/dev/null 2>&1; [ -n "$SLOW_PID" ] && kill "$SLOW_PID" 2>/dev/null' EXIT
echo "virus scan through clamd (av_backend = clamd)"
if ! clamd_start "$dir/clamd" "$RG_TOP/conf/clamav" >"$dir/setup.log" 2>&1; then
	t_fail av/clamd-backend-setup "clamd_start failed: $(tail -1 "$dir/setup.log")"
	exit 0
fi
SOCK=$(clamd_socket)
AV="av=yes av_backend=clamd clamd_socket=$SOCK clamd_stream_max=4M av_headers=yes av_timeout=5s"

for shape in plain base64 zip zipzip rfc822 bigbody; do
	want="verdict: reject
reply: 554 5.7.1 Message contains virus $EICAR
symbol: AV_VIRUS 0.00 $EICAR"
	scenario "clamd-$shape-infected" "$AV" "$IN" < <("$MK" "$shape")
	want="verdict: accept
header: X-Virus-Status: Clean"
	never="AV_"
	scenario "clamd-$shape-clean" "$AV" "$IN" < <("$MK" "$shape" --clean)
done
# a first field libclamav does not take for mail: sent behind ours
want="verdict: reject"
scenario clamd-first-header "$AV" "$IN" < <("$MK" single --first-header X-Foo --pad-headers 1100 --mime-last)
# over the daemon over TCP too
want="verdict: reject"
scenario clamd-inet "av=yes av_backend=clamd clamd_socket=$(clamd_inet)" "$IN" < <("$MK" zip)
# larger than clamd_stream_max: not sent, a limit (tempfail)
want="verdict: tempfail
reply: 451 4.3.0 Message could not be scanned for viruses: a scan limit was reached"
scenario clamd-stream-max "${AV/clamd_stream_max=4M/clamd_stream_max=1M}" "$IN" < <("$MK" bigbody --clean)
# clamd_stream_max above clamd's StreamMaxLength: clamd's own refusal
want="verdict: tempfail
symbol: AV_LIMIT 0.00 clamd $SOCK: message over clamd's StreamMaxLength (INSTREAM size limit exceeded)"
scenario clamd-stream-max-clamd "${AV/clamd_stream_max=4M/clamd_stream_max=100M}" "$IN" \
	< <("$MK" bigbody --clean; head -c 1500000 /dev/zero | tr '\0' 'x' | fold -w 76 | sed 's/$/\r/')

# clamd that accepts and never answers: within av_timeout, tempfail
/usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(8)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
' "$dir/slow.sock" &
SLOW_PID=$!
for i in $(seq 50); do [ -S "$dir/slow.sock" ] && break; sleep 0.1; done
want="verdict: tempfail
reply: 451 4.3.0 Message could not be scanned for viruses: scanner unavailable"
t0=$(date +%s)
scenario clamd-slow-timeout "av=yes av_backend=clamd clamd_socket=unix:$dir/slow.sock av_timeout=1s" "$IN" < <("$MK" zip)
if [ $(($(date +%s) - t0)) -le 10 ]; then t_pass av/clamd-slow-bounded; else
	t_fail av/clamd-slow-bounded "took $(($(date +%s) - t0)) s with av_timeout=1s"; fi
if grep -q "AV_UNAVAILABLE.*no answer within 1000 ms" "$dir/clamd-slow-timeout.err"; then
	t_pass av/clamd-slow-logged
else
	t_fail av/clamd-slow-logged "$(grep verdict= "$dir/clamd-slow-timeout.err" | head -1)"
fi
kill "$SLOW_PID" 2>/dev/null; SLOW_PID=

# the daemon through clamd, then clamd stopped mid-run
rg_valgrind "$dir"
rg_conf "$dir/rg.conf" $AV "temp_dir=$dir"
mkdir -p "$dir/msgs"
for m in plain zip; do "$MK" "$m" >"$dir/msgs/$m.eml"; done
"$MK" zip --clean >"$dir/msgs/clean.eml"
for m in "$dir"/msgs/*.eml; do "$RG_TOP/tests/tools/eml2lua" "$m" "${m%.eml}.lua"; done
export RG_AV_DIR=$dir/msgs
if ! rg_start "$dir/rg.conf" "$dir/daemon.log" "${wrapper[@]}"; then
	t_fail av/clamd-daemon "daemon did not start"
	exit 0
fi
if RG_AV_IDS=C RG_AV_N=2 miltertest -s "$RG_MILTER_DIR/av.lua" >"$dir/daemon.out" 2>&1; then
	t_pass av/clamd-daemon
else
	t_fail av/clamd-daemon "$(tail -2 "$dir/daemon.out" | tr '\n' ' ')"
fi
clamd_stop
cat >"$dir/down.lua" <<'LUA'
dofile(os.getenv("RG_MILTER_DIR") .. "/lib.lua")
local msg = dofile(os.getenv("RG_AV_DIR") .. "/clean.lua")
rg.run(function()
	local conn = rg.connect("mail.example.com", "192.0.2.7")
	rg.check(rg.envelope(conn, "<ann@example.com>", nil, {"i", "DOWN1"}), "mail")
	rg.check(rg.headers(conn, msg.headers), "headers")
	rg.ok(mt.bodystring(conn, msg.body), "body")
	rg.ok(mt.eom(conn), "eom")
	rg.check(mt.getreply(conn) == SMFIR_REPLYCODE, "clamd down: not tempfailed")
	mt.disconnect(conn)
end)
LUA
if miltertest -s "$dir/down.lua" >"$dir/down.out" 2>&1 &&
	grep -q "DOWN1: verdict=tempfail reply=\"451 4.3.0 Message could not be scanned for viruses: scanner unavailable\".*AV_UNAVAILABLE(0.00){clamd $SOCK: no such socket" "$dir/daemon.log"; then
	t_pass av/clamd-down-tempfail
else
	t_fail av/clamd-down-tempfail "$(tail -2 "$dir/down.out" | tr '\n' ' ') $(grep DOWN1 "$dir/daemon.log" | head -1)"
fi
rc=0
rg_stop || rc=$?
if [ $rc = 0 ]; then t_pass av/clamd-daemon-clean-exit; else
	t_fail av/clamd-daemon-clean-exit "exit $rc (99: valgrind errors, see $dir/valgrind.*)"; fi

# clamd down, outbound: a clear reject when the site asks for one
want="verdict: reject
reply: 554 5.3.0 Message could not be scanned for viruses: scanner unavailable"
scenario clamd-down-outbound-reject "$AV av_outbound_error_action=reject" "$OUT" < <("$MK" zip --from alice@local.test)
want="verdict: tempfail"
scenario clamd-down-inbound-tempfail "$AV av_outbound_error_action=reject" "$IN" < <("$MK" zip)
