#!/usr/bin/env bash
# tests/milter/av.sh - the virus scan through the milter protocol, the
# daemon under valgrind with the test signatures (a copy, so the test can
# change them): EICAR in one body chunk and in 7-byte chunks, in a zip, a
# clean message with the scan header; reloads (SIGHUP, concurrent and
# blocking) while four clients scan, none failing; a signature file that
# does not load at reload (the old engine stays); a new signature file
# found by the background check without SIGHUP.
set -u
. "$(dirname "$0")/../lib.sh"
export RG_MILTER_DIR="$RG_TOP/tests/milter"
RG_MILTER_PORT=$((RG_MILTER_PORT + 6))
export RG_SOCKET="inet:$RG_MILTER_PORT@127.0.0.1"
dir=$RG_TMP/milter-av
rm -rf "$dir" && mkdir -p "$dir/sigs" "$dir/msgs"
MK=$RG_TOP/tests/tools/mkvirus
trap 'rg_stop >/dev/null 2>&1' EXIT
rg_valgrind "$dir"
echo "virus scan through the milter protocol"
cp "$RG_TOP"/conf/clamav/*.ndb "$dir/sigs/"
for m in plain zip; do "$MK" "$m" >"$dir/msgs/$m.eml"; done
"$MK" zip --clean >"$dir/msgs/clean.eml"
# a marker only a later signature file knows
printf 'Received: from x by y\r\nFrom: a@b.test\r\nSubject: s\r\n\r\nRG-LATE-%s\r\n' SIGNATURE-77 >"$dir/msgs/late.eml"
for m in "$dir"/msgs/*.eml; do "$RG_TOP/tests/tools/eml2lua" "$m" "${m%.eml}.lua"; done
export RG_AV_DIR=$dir/msgs

start() {	# CONF_ITEMS...: (re)start the daemon
	rg_stop >/dev/null 2>&1
	rg_conf "$dir/rg.conf" "av=yes" "clamav_database=$dir/sigs" "av_headers=yes" \
		"temp_dir=$dir" "$@"
	rg_start "$dir/rg.conf" "$dir/daemon.log" "${wrapper[@]}" || return 1
	# the port opens before the signatures load: wait for the start
	for i in $(seq 300); do
		grep -q 'listening on' "$dir/daemon.log" && return 0
		sleep 0.1
	done
	return 1
}
mt() {	# NAME [ENV...]: run av.lua once
	local name=$1
	shift
	if env "$@" miltertest -s "$RG_MILTER_DIR/av.lua" >"$dir/$name.out" 2>&1; then
		t_pass "milter/$name"
	else
		t_fail "milter/$name" "$(tail -3 "$dir/$name.out" | tr '\n' ' ')"
	fi
}
stopped_clean() {	# NAME
	local rc=0
	rg_stop || rc=$?
	if [ $rc = 0 ]; then t_pass "milter/$1"; else
		cp "$dir/daemon.log" "$dir/daemon-$1.log"
		t_fail "milter/$1" "exit $rc (99: valgrind errors, see $dir/valgrind.*; log $dir/daemon-$1.log)"; fi
}

start "av_check_interval=0" || { t_fail milter/av-setup "daemon did not start"; exit 0; }
mt av-whole RG_AV_IDS=W
mt av-chunked RG_AV_IDS=K RG_AV_CHUNK=7
if grep -q 'W1a: verdict=reject reply="554 5.7.1 Message contains virus Eicar-Test-Signature.UNOFFICIAL".*symbols=AV_VIRUS(0.00){Eicar-Test-Signature.UNOFFICIAL}' "$dir/daemon.log"; then
	t_pass milter/av-virus-logged
else
	t_fail milter/av-virus-logged "no reject naming the virus in $dir/daemon.log"
fi

# reloads while four clients scan: every scan answers as it should
reload_under_load() {	# MODE
	local mode=$1 pids=() i ok=1 before
	start "av_reload=$mode" "av_check_interval=0" ||
		{ t_fail "milter/av-reload-$mode" "daemon did not start"; return; }
	before=$(grep -c 'virus signatures reloaded' "$dir/daemon.log")
	for i in 1 2 3 4; do
		RG_AV_IDS="R$i-" RG_AV_N=6 miltertest -s "$RG_MILTER_DIR/av.lua" \
			>"$dir/reload-$mode-$i.out" 2>&1 &
		pids+=($!)
	done
	for i in 1 2 3; do sleep 0.5; kill -HUP "$RG_PID"; done
	for i in "${pids[@]}"; do wait "$i" || ok=0; done
	# the last SIGHUP's reload is done before the daemon stops
	for i in $(seq 100); do
		[ "$(grep -c 'virus signatures reloaded' "$dir/daemon.log")" -ge $((before + 3)) ] && break
		sleep 0.1
	done
	if [ $ok = 1 ] && [ "$(grep -c 'virus signatures reloaded' "$dir/daemon.log")" -ge $((before + 3)) ] &&
		! grep -q 'verdict=tempfail' "$dir/daemon.log"; then
		t_pass "milter/av-reload-$mode-under-load"
	else
		t_fail "milter/av-reload-$mode-under-load" "clients ok=$ok; $(cat "$dir"/reload-"$mode"-*.out | grep FAILED | head -2 | tr '\n' ' ')"
	fi
	stopped_clean "av-reload-$mode-clean-exit"
}
reload_under_load concurrent
reload_under_load blocking

# a signature file that does not load: the old engine stays, and says so
start "av_check_interval=0" || { t_fail milter/av-setup2 "daemon did not start"; exit 0; }
printf 'Broken.Sig:0:*:zz-not-hex\n' >"$dir/sigs/zz-broken.ndb"
kill -HUP "$RG_PID"
for i in $(seq 100); do grep -q 'reload failed' "$dir/daemon.log" && break; sleep 0.1; done
if grep -q 'virus signatures: reload failed: .*Malformed database; keeping the signatures loaded before' "$dir/daemon.log"; then
	t_pass milter/av-bad-reload-logged
else
	t_fail milter/av-bad-reload-logged "no 'reload failed' line in $dir/daemon.log"
fi
mt av-bad-reload-keeps-engine RG_AV_IDS=B
rm -f "$dir/sigs/zz-broken.ndb"
stopped_clean av-bad-reload-clean-exit

# a new signature file, seen by the background check (no SIGHUP)
start "av_check_interval=200ms" || { t_fail milter/av-setup3 "daemon did not start"; exit 0; }
late_reply() {	# the eom reply to late.eml: 1 rejected, 0 accepted
	cat >"$dir/late.lua" <<LUA
dofile(os.getenv("RG_MILTER_DIR") .. "/lib.lua")
local msg = dofile(os.getenv("RG_AV_DIR") .. "/late.lua")
rg.run(function()
	local conn = rg.connect("mail.example.com", "192.0.2.7")
	rg.check(rg.envelope(conn, "<ann@example.com>", nil, {"i", "L$1"}), "mail")
	rg.check(rg.headers(conn, msg.headers), "headers")
	rg.ok(mt.bodystring(conn, msg.body), "body")
	rg.ok(mt.eom(conn), "eom")
	if mt.getreply(conn) == SMFIR_REPLYCODE then os.exit(3) end
	mt.disconnect(conn)
end)
LUA
	miltertest -s "$dir/late.lua" >"$dir/late.out" 2>&1
}
rc=0; late_reply 1 || rc=$?
printf 'Relayguard.Test.Late:0:*:%s\n' "$(printf 'RG-LATE-SIGNATURE-77' | od -An -tx1 | tr -d ' \n')" >"$dir/sigs/late.ndb"
rc2=0
for i in $(seq 50); do
	rc2=0; late_reply 2 || rc2=$?
	[ $rc2 = 3 ] && break
	sleep 0.2
done
if [ $rc = 0 ] && [ $rc2 = 3 ] && grep -q 'symbols=AV_VIRUS(0.00){Relayguard.Test.Late.UNOFFICIAL}' "$dir/daemon.log"; then
	t_pass milter/av-new-signatures-found-without-sighup
else
	t_fail milter/av-new-signatures-found-without-sighup "before: $rc, after: $rc2"
fi
# SIGHUP with av = no frees the engine (mail passes unscanned); back on
# with av = yes it loads again
rg_conf "$dir/rg.conf" "av=no" "clamav_database=$dir/sigs" "temp_dir=$dir"
kill -HUP "$RG_PID"
for i in $(seq 100); do grep -q 'virus signatures unloaded' "$dir/daemon.log" && break; sleep 0.1; done
rc=0; late_reply 3 || rc=$?
if [ $rc = 0 ] && grep -q 'virus signatures unloaded' "$dir/daemon.log"; then
	t_pass milter/av-off-at-sighup-unloads
else
	t_fail milter/av-off-at-sighup-unloads "late reply $rc; $(grep -c unloaded "$dir/daemon.log") unload lines"
fi
rg_conf "$dir/rg.conf" "av=yes" "clamav_database=$dir/sigs" "temp_dir=$dir"
n=$(grep -c 'virus signatures reloaded' "$dir/daemon.log")
kill -HUP "$RG_PID"
for i in $(seq 100); do [ "$(grep -c 'virus signatures reloaded' "$dir/daemon.log")" -gt "$n" ] && break; sleep 0.1; done
rc=0; late_reply 4 || rc=$?
if [ $rc = 3 ]; then t_pass milter/av-on-at-sighup-loads; else
	t_fail milter/av-on-at-sighup-loads "late reply $rc"; fi
stopped_clean av-clean-exit
