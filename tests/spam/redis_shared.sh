#!/usr/bin/env bash
# tests/spam/redis_shared.sh - two relayguard daemons (as two nodes behind
# a load balancer) share one Bayes store in a real redis-server on a
# private socket: what "relayguard learn" teaches through the first node's
# configuration, the second scores; GTUBE rejected through the milter
# protocol; Redis stopped mid-run: spam_error_action (tempfail), the
# daemons keep running, and score again once Redis is back.
set -u
. "$(dirname "$0")/../lib.sh"
export RG_MILTER_DIR="$RG_TOP/tests/milter"
dir=$RG_TMP/spam-redis
rm -rf "$dir" && mkdir -p "$dir/msgs"
PORT_A=$((RG_MILTER_PORT + 8)) PORT_B=$((RG_MILTER_PORT + 9))
PID_A= PID_B= REDIS_PID=
stop_all() {
	for p in $PID_A $PID_B; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	[ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null
	REDIS_PID=
}
trap stop_all EXIT
echo "spam engine: two nodes sharing Bayes in Redis"
redis_start() { local rc=0; rg_redis_start "$dir" || rc=$?; REDIS_PID=$RG_REDIS_PID; return $rc; }
redis_start || { t_fail spam/redis-setup "redis-server did not start: $(tail -2 "$dir/redis.log")"; exit 0; }
"$RG_TOP/tests/tools/mkcorpus" "$dir/corpus" 80 >/dev/null
for node in A B; do
	port=PORT_$node
	rg_conf "$dir/$node.conf" "socket=inet:${!port}@127.0.0.1" spam=yes bayes_backend=redis \
		"redis_server=unix:$dir/redis.sock" redis_timeout=500ms bayes_min_spam=20 bayes_min_ham=20
done
out=$("$RG_BIN" learn -c "$dir/A.conf" --spam "$dir/corpus/train/spam" 2>&1)
out2=$("$RG_BIN" learn -c "$dir/A.conf" --ham "$dir/corpus/train/ham" 2>&1)
if grep -q "store: 80 spam, 80 ham" <<<"$out2"; then t_pass spam/redis-learn; else
	t_fail spam/redis-learn "$out $out2"; fi
start_node() { local port=PORT_$1; rg_node_start "$1" "$dir/$1.conf" "${!port}" "$dir"; }
start_node A && start_node B || { t_fail spam/redis-setup "daemons did not start"; exit 0; }
cp "$dir/corpus/test/spam/spam-0003.eml" "$dir/msgs/spam.eml"
cp "$dir/corpus/test/ham/ham-0003.eml" "$dir/msgs/ham.eml"
printf 'From: a@b.test\r\nSubject: t\r\n\r\nXJS*C4JDBQADN1.NSBN3*2IDNEN*%s\r\n' 'GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X' >"$dir/msgs/gtube.eml"
for m in "$dir"/msgs/*.eml; do "$RG_TOP/tests/tools/eml2lua" "$m" "${m%.eml}.lua"; done
one() {	# NAME NODE MSG WANT ID
	local port=PORT_$2
	if RG_SOCKET="inet:${!port}@127.0.0.1" RG_MSG="$dir/msgs/$3.lua" RG_WANT=$4 RG_ID=$5 \
		miltertest -s "$RG_MILTER_DIR/one.lua" >"$dir/$1.out" 2>&1; then
		t_pass "spam/$1"
	else
		t_fail "spam/$1" "$(tail -2 "$dir/$1.out" | tr '\n' ' ')"
	fi
}
one node-b-scores-spam B spam tag R1
one node-b-scores-ham B ham accept R2
one node-a-gtube-rejected A gtube reject R3
if grep -q 'R1: verdict=accept .*BAYES_SPAM' "$dir/B.log" && grep -q 'R2: verdict=accept .*BAYES_HAM' "$dir/B.log"; then
	t_pass spam/node-b-learned-from-node-a
else
	t_fail spam/node-b-learned-from-node-a "$(grep -h 'R[12]:' "$dir/B.log" | head -2)"
fi
# Redis goes away: tempfail within the timeout, the daemons stay up
kill "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null; REDIS_PID=
one redis-down-tempfail A spam tempfail R4
if grep -q 'R4: verdict=tempfail reply="451 4.3.0 Message could not be checked for spam, try again later".*SPAM_ERROR' "$dir/A.log"; then
	t_pass spam/redis-down-logged
else
	t_fail spam/redis-down-logged "$(grep -h 'R4:' "$dir/A.log" | head -1)"
fi
redis_start || { t_fail spam/redis-restart "redis-server did not restart"; exit 0; }
"$RG_BIN" learn -c "$dir/A.conf" --spam "$dir/corpus/train/spam" >/dev/null 2>&1
"$RG_BIN" learn -c "$dir/A.conf" --ham "$dir/corpus/train/ham" >/dev/null 2>&1
one redis-back-scores A spam tag R5
for n in A B; do
	pid=PID_$n rc=0
	kill -TERM "${!pid}"; wait "${!pid}" || rc=$?
	eval "PID_$n="
	if [ $rc = 0 ]; then t_pass "spam/node-$n-clean-exit"; else
		t_fail "spam/node-$n-clean-exit" "exit $rc (99: valgrind, see $dir/valgrind-$n.*)"; fi
done
