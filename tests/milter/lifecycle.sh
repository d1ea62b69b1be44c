#!/usr/bin/env bash
# tests/milter/lifecycle.sh - the daemon's life cycle: detaching with a
# pid file, dropping privileges, a unix socket, a socket already in use, a
# bad configuration at start.
set -u
. "$(dirname "$0")/../lib.sh"
export RG_MILTER_DIR="$RG_TOP/tests/milter"
dir=$RG_TMP/lifecycle
rm -rf "$dir" && mkdir -p "$dir" && chmod 755 "$dir"
T=lifecycle
check() {
	local name=$1 why=$2
	shift 2
	if "$@"; then t_pass "$T/$name"; else t_fail "$T/$name" "$why"; fi
}
echo "daemon life cycle"

# 1. without -f: detaches, writes the pid file, drops to nobody, serves
# the pid file lives in a directory of the user's, like /run/relayguard
conf=$dir/daemon.conf
mkdir -p "$dir/run" && chown nobody "$dir/run"
rg_conf "$conf" "pid_file=$dir/run/rg.pid" "user=nobody"
"$RG_BIN" -c "$conf" 2>"$dir/daemon.err"
rc=$?
check detach-exit-0 "exit $rc: $(cat "$dir/daemon.err")" test $rc = 0
for _ in $(seq 50); do [ -s "$dir/run/rg.pid" ] && break; sleep 0.1; done
pid=$(cat "$dir/run/rg.pid" 2>/dev/null)
check pid-file "no live pid in $dir/run/rg.pid" kill -0 "${pid:-0}"
uid=$(awk '/^Uid:/ { print $2 }' "/proc/${pid:-0}/status" 2>/dev/null)
check drops-privileges "uid is '$uid', want nobody ($(id -u nobody))" test "$uid" = "$(id -u nobody)"
wait_port "$RG_MILTER_PORT" 10
RG_SOCKET="inet:$RG_MILTER_PORT@127.0.0.1" miltertest -s "$RG_MILTER_DIR/accept.lua" >"$dir/accept.out" 2>&1
check detached-serves "$(tail -2 "$dir/accept.out")" test $? = 0
# start-up lines reach the terminal, with syslog or without (no /dev/log)
check detached-logs-start "nothing on stderr: $(cat "$dir/daemon.err")" \
	grep -q "listening on inet:$RG_MILTER_PORT@127.0.0.1" "$dir/daemon.err"

# 2. a second instance on the same socket fails with a clear message
"$RG_BIN" -c "$conf" -f >"$dir/second.err" 2>&1
rc=$?
check socket-in-use "exit $rc: $(cat "$dir/second.err")" \
	grep -q "cannot listen on inet:$RG_MILTER_PORT@127.0.0.1" "$dir/second.err"

kill -TERM "$pid" 2>/dev/null
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
check sigterm-stops "pid $pid still running" bash -c "! kill -0 $pid 2>/dev/null"
check pid-file-removed "pid file left behind" test ! -e "$dir/run/rg.pid"

# 3. a unix socket, with the configured mode
conf=$dir/unix.conf
rg_conf "$conf" "socket_mode=0666"
sed -i "s|^socket = .*|socket = unix:$dir/rg.sock|" "$conf"
setsid "$RG_BIN" -c "$conf" -f >"$dir/unix.log" 2>&1 &
upid=$!
for _ in $(seq 50); do [ -S "$dir/rg.sock" ] && break; sleep 0.1; done
check unix-socket-mode "mode $(stat -c %a "$dir/rg.sock" 2>/dev/null)" \
	test "$(stat -c %a "$dir/rg.sock" 2>/dev/null)" = 666
RG_SOCKET="unix:$dir/rg.sock" miltertest -s "$RG_MILTER_DIR/accept.lua" >"$dir/unix.out" 2>&1
check unix-socket-serves "$(tail -2 "$dir/unix.out")" test $? = 0
kill -TERM "$upid"; wait "$upid"

# 4. a bad configuration at start: non-zero exit, FILE:LINE, no daemon
conf=$dir/bad.conf
rg_conf "$conf" "max_message_size=12q"
"$RG_BIN" -c "$conf" -f >"$dir/bad.err" 2>&1
rc=$?
check bad-config-refused "exit $rc: $(cat "$dir/bad.err")" \
	grep -q "^$conf:$(rg_line "$conf" max_message_size): bad size \"12q\"" "$dir/bad.err"
"$RG_BIN" -c "$dir/missing.conf" -n >"$dir/missing.err" 2>&1
check missing-config "$(cat "$dir/missing.err")" grep -q "missing.conf:0: cannot open" "$dir/missing.err"

# 5. a failed start in daemon mode: non-zero exit, the reason on stderr
# (no /dev/log needed), no pid file left behind, no daemon
conf=$dir/nouser.conf
rg_conf "$conf" "pid_file=$dir/run/nouser.pid" "user=nosuchuser" "log=syslog"
"$RG_BIN" -c "$conf" >"$dir/nouser.err" 2>&1
rc=$?
check unknown-user-exit "exit $rc, want non-zero" test $rc != 0
check unknown-user-says-why "$(cat "$dir/nouser.err")" grep -q 'unknown user "nosuchuser"' "$dir/nouser.err"
check unknown-user-no-pid-file "pid file left behind" test ! -e "$dir/run/nouser.pid"
check unknown-user-no-daemon "something listens on $RG_MILTER_PORT" wait_port_closed "$RG_MILTER_PORT" 1
"$RG_BIN" -c "$conf" -n >"$dir/nouser-n.err" 2>&1
check unknown-user-check-n "$(cat "$dir/nouser-n.err")" grep -q "^$conf:[0-9]*: unknown user \"nosuchuser\"" "$dir/nouser-n.err"
conf=$dir/nopid.conf
rg_conf "$conf" "pid_file=$dir/no/such/dir/rg.pid" "log=syslog"
"$RG_BIN" -c "$conf" >"$dir/nopid.err" 2>&1
rc=$?
check bad-pid-file-exit "exit $rc, want non-zero" test $rc != 0
check bad-pid-file-says-why "$(cat "$dir/nopid.err")" grep -q "cannot write pid file $dir/no/such/dir/rg.pid" "$dir/nopid.err"
check bad-pid-file-no-daemon "something listens on $RG_MILTER_PORT" wait_port_closed "$RG_MILTER_PORT" 1
# a pid file in a directory the daemon cannot write as root either (a
# file where the directory should be)
: >"$dir/notadir"
rg_conf "$conf" "pid_file=$dir/notadir/rg.pid"
"$RG_BIN" -c "$conf" >"$dir/nopid2.err" 2>&1
rc=$?
check pid-file-not-dir-exit "exit $rc: $(cat "$dir/nopid2.err")" test $rc != 0
# the socket in use (a foreground instance holds it): refused before detaching
rg_conf "$dir/holder.conf"
rg_start "$dir/holder.conf" "$dir/holder.log"
rg_conf "$conf" "pid_file=$dir/run/busy.pid"
"$RG_BIN" -c "$conf" >"$dir/busy.err" 2>&1
rc=$?
check busy-socket-exit "exit $rc, want non-zero" test $rc != 0
check busy-socket-says-why "$(cat "$dir/busy.err")" grep -q "cannot listen on" "$dir/busy.err"
check busy-socket-no-pid-file "pid file left behind" test ! -e "$dir/run/busy.pid"
rg_stop

# 6. a relative -c: the daemon runs in "/", yet SIGHUP and the map check
# find the configuration and the map it names (relative to the file)
rel=$dir/rel
mkdir -p "$rel/etc"
printf 'bob@example.com  alice\n' >"$rel/etc/map1"
printf 'bob@example.com  alice\n' >"$rel/etc/map2"
rg_conf "$rel/etc/rg.conf" "sender_login_maps=map1" "pid_file=rg.pid" "log=stderr"
(cd "$rel" && "$RG_BIN" -c etc/rg.conf 2>"$rel/daemon.log")
rc=$?
check relative-start "exit $rc: $(cat "$rel/daemon.log")" test $rc = 0
check relative-pid-file "no pid file next to the configuration" test -s "$rel/etc/rg.pid"
rpid=$(cat "$rel/etc/rg.pid" 2>/dev/null)
wait_port "$RG_MILTER_PORT" 10
relpath() {
	RG_WANT=$2 RG_SOCKET="inet:$RG_MILTER_PORT@127.0.0.1" \
		miltertest -s "$RG_MILTER_DIR/relpath.lua" >"$dir/relpath-$1.out" 2>&1
	check "relative-$1" "$(tail -2 "$dir/relpath-$1.out")" test $? = 0
}
relpath before reject
# the configuration now names map2 (bob may send): SIGHUP picks it up
printf 'bob@example.com  alice, bob\n' >"$rel/etc/map2"
sed -i 's/^sender_login_maps = .*/sender_login_maps = map2/' "$rel/etc/rg.conf"
kill -HUP "${rpid:-none}"
for _ in $(seq 50); do grep -q 'configuration reloaded' "$rel/daemon.log" && break; sleep 0.1; done
check relative-sighup "$(tail -3 "$rel/daemon.log")" grep -q "configuration reloaded from $rel/etc/rg.conf" "$rel/daemon.log"
relpath after-sighup accept
# a change of the map file itself, without SIGHUP (the map check stats it)
sleep 1.1
printf 'bob@example.com  alice\n' >"$rel/etc/map2.new" && mv "$rel/etc/map2.new" "$rel/etc/map2"
sleep 1.5
relpath after-map-edit reject
check relative-no-enoent "$(grep -i 'no such file' "$rel/daemon.log")" bash -c "! grep -qi 'no such file' '$rel/daemon.log'"
kill -TERM "${rpid:-none}" 2>/dev/null
for _ in $(seq 100); do kill -0 "${rpid:-none}" 2>/dev/null || break; sleep 0.1; done
check relative-pid-file-removed "pid file left behind" test ! -e "$rel/etc/rg.pid"
