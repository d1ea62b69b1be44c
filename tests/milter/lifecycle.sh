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
	grep -q "^$conf:8: bad size \"12q\"" "$dir/bad.err"
"$RG_BIN" -c "$dir/missing.conf" -n >"$dir/missing.err" 2>&1
check missing-config "$(cat "$dir/missing.err")" grep -q "missing.conf:0: cannot open" "$dir/missing.err"
