# tests/lib.sh - shared helpers for relayguard's shell-driven tests
#
# Source this from a test script.  Results go to $RG_RESULTS (one line per
# test: "PASS name" or "FAIL name: why"), which scripts/test sums up.
#
# Environment:
#   RG_TOP      top of the source tree (default: parent of this directory)
#   RG_BUILD    build tree holding milter/relayguard (default: $RG_TOP)
#   RG_RESULTS  results file (default: $RG_TMP/results)
#   RG_TMP      scratch directory for this run (default: /tmp/relayguard-test)

RG_TOP=${RG_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
RG_BUILD=${RG_BUILD:-$RG_TOP}
RG_TMP=${RG_TMP:-/tmp/relayguard-test}
RG_RESULTS=${RG_RESULTS:-$RG_TMP/results}
RG_BIN=${RG_BIN:-$RG_BUILD/milter/relayguard}
mkdir -p "$RG_TMP"

# Fixed loopback ports, overridable, far from anything the system runs.
RG_MILTER_PORT=${RG_MILTER_PORT:-18894}
RG_SMTP_PORT=${RG_SMTP_PORT:-18825}
RG_SUBMISSION_PORT=${RG_SUBMISSION_PORT:-18587}
RG_SINK_PORT=${RG_SINK_PORT:-18826}

t_pass() {
	echo "PASS $1" >>"$RG_RESULTS"
	echo "  ok   $1"
}

t_fail() {
	echo "FAIL $1: $2" >>"$RG_RESULTS"
	echo "  FAIL $1: $2"
}

# t_check NAME COMMAND... - pass when COMMAND exits 0
t_check() {
	local name=$1
	shift
	if "$@"; then t_pass "$name"; else t_fail "$name" "command failed: $*"; fi
}

# wait_port PORT [SECONDS] - wait until something listens on 127.0.0.1:PORT
wait_port() {
	local port=$1 i
	for ((i = 0; i < ${2:-10} * 10; i++)); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	return 1
}

# wait_port_closed PORT [SECONDS] - wait until nothing listens on PORT
wait_port_closed() {
	local port=$1 i
	for ((i = 0; i < ${2:-10} * 10; i++)); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	return 1
}

# rg_conf FILE [KEY=VALUE]... - write a test configuration.  The defaults
# below stand unless an item sets the same key.  SPF is off unless a test
# turns it on (with a loopback resolver): tests never ask outside DNS.
# DKIM and DMARC are off the same way; the virus scan and the spam engine
# are off unless a test turns them on (their tests do).
rg_conf() {
	local file=$1 kv key
	shift
	declare -A given=()
	for kv in "$@"; do given[${kv%%=*}]=1; done
	{
		for kv in "socket=inet:$RG_MILTER_PORT@127.0.0.1" "log=stderr" \
			"authserv_id=mx.test" "spf=no" "dkim=no" "dmarc=no" "av=no" "spam=no" \
			"resolver=127.0.0.1@${RG_DNSPROXY_PORT:-18854}"; do
			key=${kv%%=*}
			[ -n "${given[$key]:-}" ] || echo "$key = ${kv#*=}"
		done
		for kv in "$@"; do echo "${kv%%=*} = ${kv#*=}"; done
	} >"$file"
}

# rg_line FILE KEY - the line of FILE that sets KEY (for FILE:LINE checks)
rg_line() {
	grep -n "^$2 = " "$1" | head -1 | cut -d: -f1
}

# rg_unit_case SUITE NAME LOG CASE TIMEOUT [WRAPPER...] - run one Check
#   case of tests/unit/check_policy (the environment as the caller set it;
#   log: LOG), one result a test, named NAME/TEST#I; 1 when one failed, none
#   ran, or the run exited non-zero (99: valgrind found errors or leaks)
rg_unit_case() {
	local suite=$1 name=$2 log=$3 case=$4 timeout=$5 st test i rest rc=0 bad=0
	shift 5
	CK_RUN_SUITE=$suite CK_RUN_CASE=$case CK_VERBOSITY=verbose \
		CK_DEFAULT_TIMEOUT=$timeout TMPDIR=$RG_TMP "$@" \
		"$RG_BUILD/tests/unit/check_policy" >"$log" 2>&1 || rc=$?
	while IFS=: read -r _ _ st _ test i rest; do
		if [ "$st" = P ]; then
			t_pass "$name/$test#$i"
		else
			t_fail "$name/$test#$i" "$rest"
			bad=1
		fi
	done < <(grep -E '^[^:]+:[0-9]+:[PFE]:' "$log")
	if ! grep -q '^Unit: [1-9][0-9]* passed, 0 failed' "$log" || [ $rc != 0 ]; then
		t_fail "$name" "exit $rc, $(grep '^Unit:' "$log" || echo 'did not finish'), see $log"
		bad=1
	fi
	return $bad
}

# rg_valgrind DIR - set the array "wrapper" to run the daemon under
# valgrind (memcheck: errors and definite leaks make it exit 99, reports in
# DIR/valgrind.PID), or empty with RG_VALGRIND=no or no valgrind
rg_valgrind() {
	wrapper=()
	if [ "${RG_VALGRIND:-yes}" != no ] && command -v valgrind >/dev/null; then
		wrapper=(valgrind -q --error-exitcode=99 --leak-check=full --num-callers=40
			--suppressions="$RG_TOP/tests/valgrind.supp"
			--errors-for-leak-kinds=definite --show-leak-kinds=definite
			--log-file="$1/valgrind.%p")
	fi
}

# rg_start CONF LOG [WRAPPER...] - start relayguard in the foreground, in the
# background of this shell; sets RG_PID.  The daemon logs to LOG.
rg_start() {
	local conf=$1 log=$2
	shift 2
	setsid "$@" "$RG_BIN" -c "$conf" -f >"$log" 2>&1 &
	RG_PID=$!
	wait_port "$RG_MILTER_PORT" 30
}

# rg_stop - SIGTERM the daemon and wait for it; returns its exit status
rg_stop() {
	[ -n "${RG_PID:-}" ] || return 0
	kill -TERM "$RG_PID" 2>/dev/null
	local rc=0
	wait "$RG_PID" || rc=$?
	RG_PID=
	return $rc
}

# rg_redis_start DIR [PORT] - a private redis-server, nothing saved, its
# files and log in DIR: on 127.0.0.1:PORT, or without PORT (or 0) on the
# unix socket DIR/redis.sock; waits until it answers.  Sets RG_REDIS_PID.
rg_redis_start() {
	local d=$1 port=${2:-0} i
	if [ "$port" = 0 ]; then
		redis-server --port 0 --unixsocket "$d/redis.sock" --save '' \
			--appendonly no --dir "$d" >"$d/redis.log" 2>&1 &
	else
		redis-server --port "$port" --bind 127.0.0.1 --save '' \
			--appendonly no --dir "$d" >"$d/redis.log" 2>&1 &
	fi
	RG_REDIS_PID=$!
	for ((i = 0; i < 100; i++)); do
		if [ "$port" = 0 ]; then
			[ -S "$d/redis.sock" ] && return 0
		else
			redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && return 0
		fi
		sleep 0.05
	done
	return 1
}

# rg_node_start NAME CONF PORT DIR - a daemon under valgrind (reports in
# DIR/valgrind-NAME.PID, its log DIR/NAME.log), waited for on PORT; sets
# PID_NAME
rg_node_start() {
	local pid
	setsid valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite --show-leak-kinds=definite \
		--suppressions="$RG_TOP/tests/valgrind.supp" --log-file="$4/valgrind-$1.%p" \
		"$RG_BIN" -c "$2" -f >"$4/$1.log" 2>&1 &
	pid=$!
	wait_port "$3" 60 || return 1
	eval "PID_$1=$pid"
}

# wait_socket PATH SECONDS [PID] - wait until PATH is a unix socket; 1 when
# it is not there in time or PID (when given) exits first
wait_socket() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[ -S "$1" ] && return 0
		[ -z "${3:-}" ] || kill -0 "$3" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
