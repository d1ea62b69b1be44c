#!/usr/bin/env bash
# tests/spam/tokstore_redis.sh - the Redis token store
# (policy/checks/spam/tokstore_redis.c) against a private redis-server:
# the Check cases of tests/unit/check_tokstore.c with RG_REDIS set.
#   unix      --port 0 --unixsocket DIR/redis.sock: case "redis" (the
#             semantics, two handles as two nodes, TTLs, bad addresses),
#             the same under valgrind, and case "speed"
#   tcp       --port $RG_REDIS_PORT --bind 127.0.0.1: "redis" and "speed"
#   outage    Redis killed mid-run and started again, over both sockets;
#             then Redis stopped (SIGSTOP: it hangs) and continued: the
#             case "outage" (-1 within the timeout, works again after)
#   auth      --requirepass: the case "auth" (AUTH sent, refused without)
#   maxmemory --maxmemory 2mb --maxmemory-policy volatile-lru: the case
#             "maxmemory" (learning goes on, keys evicted, totals kept)
# One result line a Check test.  Nothing is left behind: each server is
# stopped, and the scratch directory removed when all passed.
#   RG_REDIS_PORT (default 23790), RG_KEEP
# Called as "tokstore_redis.sh --ctl DIR stop|start|pause|resume", it
# acts on the server of DIR (the case "outage" calls it so).
set -u
. "$(dirname "$0")/../lib.sh"
port=${RG_REDIS_PORT:-23790}

# redis_ping DIR - the server of DIR answers PONG
redis_ping() {
	local out
	if [ -f "$1/tcp" ]; then
		out=$(redis-cli -h 127.0.0.1 -p "$(cat "$1/tcp")" ping 2>&1)
	else
		out=$(redis-cli -s "$1/redis.sock" ping 2>&1)
	fi
	[ "$out" = PONG ] || [[ $out == NOAUTH* ]]	# NOAUTH: up, wants AUTH
}

# redis_run DIR - start the server with the arguments saved in DIR/args,
# wait (10 s at most) until it answers
redis_run() {
	local dir=$1 i args
	. "$dir/args"
	setsid redis-server "${args[@]}" >>"$dir/redis.out" 2>&1 </dev/null &
	echo $! >"$dir/redis.pid"
	for ((i = 0; i < 100; i++)); do
		redis_ping "$dir" && return 0
		kill -0 "$(cat "$dir/redis.pid")" 2>/dev/null || break
		sleep 0.1
	done
	echo "redis-server did not answer: $(tail -3 "$dir/redis.out")" >&2
	return 1
}

# redis_start DIR unix|tcp [ARG...] - a private server in DIR
redis_start() {
	local dir=$1 kind=$2 args
	shift 2
	mkdir -p "$dir"
	rm -f "$dir/tcp"
	if [ "$kind" = tcp ]; then
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "port $port is taken" >&2
			return 1
		fi
		args=(--port "$port" --bind 127.0.0.1)
		echo "$port" >"$dir/tcp"
	else
		args=(--port 0 --unixsocket "$dir/redis.sock" --unixsocketperm 700)
	fi
	args+=(--save '' --appendonly no --dir "$dir" --daemonize no "$@")
	declare -p args >"$dir/args"
	redis_run "$dir"
}

# redis_stop DIR - stop the server of DIR (also a stopped one) and wait
redis_stop() {
	local dir=$1 pid i
	[ -f "$dir/redis.pid" ] || return 0
	pid=$(cat "$dir/redis.pid")
	kill -CONT "$pid" 2>/dev/null
	kill "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	rm -f "$dir/redis.pid" "$dir/redis.sock"
	return 0
}

if [ "${1:-}" = --ctl ]; then
	case $3 in
	stop) redis_stop "$2" ;;
	start) redis_run "$2" ;;
	pause) kill -STOP "$(cat "$2/redis.pid")" ;;
	resume) kill -CONT "$(cat "$2/redis.pid")" ;;
	*) exit 2 ;;
	esac
	exit
fi

dir=$RG_TMP/tokstore-redis
rm -rf "$dir" && mkdir -p "$dir"
servers=()
trap 'for d in "${servers[@]}"; do redis_stop "$d"; done' EXIT
unit=$RG_BUILD/tests/unit/check_policy
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
failed=0

# fail NAME WHY - t_fail, counted
fail() {
	t_fail "$1" "$2"
	failed=$((failed + 1))
}

# unit_case NAME CASE [WRAPPER...] - one case of the tokstore suite (log:
# DIR/NAME.log), results named spam/tokstore-NAME/TEST#I, its speed lines
unit_case() {
	local name=$1 case=$2
	shift 2
	rg_unit_case tokstore "spam/tokstore-$name" "$dir/$name.log" "$case" 120 "$@" ||
		failed=$((failed + 1))
	grep '^tokstore ' "$dir/$name.log" | sed 's/^/    /'
}

# start NAME unix|tcp [ARG...] - a server in DIR/NAME, RG_REDIS set
start() {
	local name=$1 kind=$2
	shift 2
	servers+=("$dir/$name")
	if ! redis_start "$dir/$name" "$kind" "$@" >"$dir/$name.setup" 2>&1; then
		fail "spam/tokstore-$name-setup" "$(tail -1 "$dir/$name.setup")"
		return 1
	fi
	if [ "$kind" = tcp ]; then
		RG_REDIS=127.0.0.1:$port
	else
		RG_REDIS=unix:$dir/$name/redis.sock
	fi
	export RG_REDIS
}

echo "token store against a private redis-server"
make -s -C "$RG_BUILD" tests/unit/check_policy >/dev/null 2>&1
if [ ! -x "$unit" ] || ! command -v redis-server >/dev/null; then
	fail spam/tokstore-setup "no $unit or no redis-server (build first; scripts/deps)"
	exit 0
fi

for kind in unix tcp; do
	if start "$kind" "$kind"; then
		unit_case "$kind" redis
		unit_case "$kind-speed" speed
		if [ "$kind" = unix ] && command -v valgrind >/dev/null; then
			unit_case "$kind-valgrind" redis env CK_FORK=no valgrind -q \
				--error-exitcode=99 --leak-check=full --num-callers=40 \
				--suppressions="$RG_TOP/tests/valgrind.supp" \
				--errors-for-leak-kinds=definite,indirect
		fi
		# killed and started again, then hung (SIGSTOP) and continued
		RG_REDIS_PHASE=outage RG_REDIS_STOP="bash $self --ctl $dir/$kind stop" \
			RG_REDIS_START="bash $self --ctl $dir/$kind start" \
			unit_case "$kind-killed" outage
		RG_REDIS_PHASE=outage RG_REDIS_STOP="bash $self --ctl $dir/$kind pause" \
			RG_REDIS_START="bash $self --ctl $dir/$kind resume" \
			unit_case "$kind-hung" outage
		redis_stop "$dir/$kind"
	fi
done

# a server that wants a password
export RG_REDIS_PASSWORD=rg-test-secret
if start auth unix --requirepass "$RG_REDIS_PASSWORD"; then
	RG_REDIS_PHASE=auth unit_case auth auth
	redis_stop "$dir/auth"
fi
unset RG_REDIS_PASSWORD

if start maxmemory unix --maxmemory 2mb --maxmemory-policy volatile-lru; then
	RG_REDIS_PHASE=maxmemory unit_case maxmemory maxmemory
	used=$(redis-cli -s "$dir/maxmemory/redis.sock" info memory |
		tr -d '\r' | sed -n 's/^used_memory_human://p')
	echo "    redis used_memory after: $used (maxmemory 2mb)"
	redis_stop "$dir/maxmemory"
fi

if [ "$failed" -eq 0 ] && [ -z "${RG_KEEP:-}" ]; then
	rm -rf "$dir"
fi
exit 0
