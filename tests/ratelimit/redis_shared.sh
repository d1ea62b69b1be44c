#!/usr/bin/env bash
# tests/ratelimit/redis_shared.sh - rate limits and the brake in a real
# redis-server on loopback, shared by two relayguard daemons (two nodes
# behind a load balancer, under valgrind) and by "relayguard check" and
# "relayguard release", after a Check case that holds the Redis script to
# the in-process table's decisions, hit for hit; then: one login's
# messages counted together across the nodes (bursts at both at once get
# exactly the limit), keys with their
# expiry, the brake tripped through one node stops the login on the
# other and release lifts it; then the failure modes: Redis killed
# (ratelimit_error_action: accept on one node, tempfail on the other, one
# warning each, not one per message), Redis hung (SIGSTOP: the first
# message waits redis_timeout, the next ones not at all), and Redis back
# (counted again, a notice).
set -u
. "$(dirname "$0")/../lib.sh"
export RG_MILTER_DIR="$RG_TOP/tests/milter"
dir=$RG_TMP/ratelimit-redis
rm -rf "$dir" && mkdir -p "$dir"
PORT_A=$((RG_MILTER_PORT + 10)) PORT_B=$((RG_MILTER_PORT + 11))
REDIS_PORT=$((${RG_REDIS_PORT:-18790} + 2))
PID_A= PID_B= REDIS_PID=
stop_all() {
	[ -n "$REDIS_PID" ] && kill -CONT "$REDIS_PID" 2>/dev/null
	for p in $PID_A $PID_B; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	[ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null
	REDIS_PID=
}
trap stop_all EXIT
echo "rate limits and the brake: two nodes sharing Redis"
redis_start() { local rc=0; rg_redis_start "$dir" "$REDIS_PORT" || rc=$?; REDIS_PID=$RG_REDIS_PID; return $rc; }
redis_start || { t_fail ratelimit/redis-setup "redis-server did not start: $(tail -2 "$dir/redis.log")"; exit 0; }
# the script decides as the in-process table, hit for hit (Check case)
make -s -C "$RG_BUILD" tests/unit/check_policy >/dev/null 2>&1
RG_REDIS=127.0.0.1:$REDIS_PORT rg_unit_case ratelimit ratelimit/redis-unit \
	"$dir/unit.log" redis 60
common="ratelimit_backend=redis redis_server=127.0.0.1:$REDIS_PORT redis_timeout=500ms
	ratelimit_login=6/1h,100/1d brake=yes brake_spam_score=5 spam=yes
	bayes_store=$dir/no-bayes"
# shellcheck disable=SC2086
rg_conf "$dir/A.conf" "socket=inet:$PORT_A@127.0.0.1" $common
# shellcheck disable=SC2086
rg_conf "$dir/B.conf" "socket=inet:$PORT_B@127.0.0.1" $common ratelimit_error_action=tempfail
start_node() { local port=PORT_$1; rg_node_start "$1" "$dir/$1.conf" "${!port}" "$dir"; }
start_node A && start_node B || { t_fail ratelimit/redis-setup "daemons did not start"; exit 0; }
# burst NODE N LOGIN TAG: N MAIL FROMs; prints how many were taken
burst() {
	local port=PORT_$1
	RG_SOCKET="inet:${!port}@127.0.0.1" RG_BURST=$2 RG_BURST_LOGIN=$3 RG_BURST_TAG=$4 \
		miltertest -s "$RG_MILTER_DIR/ratelimit_burst.lua" 2>&1 |
		sed -n 's/.*taken \([0-9]*\).*/\1/p'
}
# 6 an hour for dave, at both nodes at once, two clients each
for n in A B; do for i in 1 2; do burst $n 5 dave "S$n$i" >"$dir/burst-$n$i" & done; done
wait $(jobs -p | grep -vxE "${PID_A}|${PID_B}|${REDIS_PID}") 2>/dev/null
taken=$(cat "$dir"/burst-?? | awk '{ n += $1 } END { print n + 0 }')
refused=$(cat "$dir/A.log" "$dir/B.log" | grep -c ': verdict=tempfail reply="451 4.7.1 Rate limit exceeded: login dave, 6 messages per 1h"')
if [ "$taken" = 6 ] && [ "$refused" = 14 ]; then
	t_pass ratelimit/redis-two-nodes-count-together
else
	t_fail ratelimit/redis-two-nodes-count-together "taken $taken (want 6), refused $refused (want 14)"
fi
# the keys: readable, with an expiry of at most twice their window
ttl=$(redis-cli -p "$REDIS_PORT" pttl "rg:rl:l:dave:1h")
dttl=$(redis-cli -p "$REDIS_PORT" pttl "rg:rl:l:dave:1d")
if [ "$ttl" -gt 0 ] && [ "$ttl" -le 7200000 ] && [ "$dttl" -gt 7200000 ] && [ "$dttl" -le 172800000 ] &&
	[ "$(redis-cli -p "$REDIS_PORT" hget rg:rl:l:dave:1h c)" = 6 ]; then
	t_pass ratelimit/redis-keys-expire
else
	t_fail ratelimit/redis-keys-expire "pttl 1h $ttl, 1d $dttl, $(redis-cli -p "$REDIS_PORT" keys 'rg:rl:*' | tr '\n' ' ')"
fi
# erin sends on, at either node
a=$(burst A 2 erin E1) b=$(burst B 2 erin E2)
[ "$a$b" = 22 ] && t_pass ratelimit/redis-others-send-on || t_fail ratelimit/redis-others-send-on "erin taken $a at A, $b at B"
# the brake: GTUBE from carol through "relayguard check" (a third node)
printf 'From: carol@example.org\r\nSubject: t\r\nDate: %s\r\nMessage-ID: <1@example.org>\r\n\r\nXJS*C4JDBQADN1.NSBN3*2IDNEN*%s\r\n' \
	"$(date -R)" 'GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X' >"$dir/gtube.eml"
out=$("$RG_BIN" check -c "$dir/A.conf" --client-ip 192.0.2.5 --mail-from carol@example.org \
	--rcpt x@example.net --auth-user carol "$dir/gtube.eml" 2>&1)
grep -q '^symbol: BRAKE_TRIPPED 0.00 carol: spam score 1000.0 >= 5 within 1h$' <<<"$out" &&
	t_pass ratelimit/redis-brake-tripped || t_fail ratelimit/redis-brake-tripped "$out"
b=$(burst B 1 carol C1)
if [ "$b" = 0 ] && grep -q 'C11: verdict=tempfail reply="451 4.7.1 Login carol stopped by the compromised account brake: spam score 1000.0 >= 5 within 1h"' "$dir/B.log"; then
	t_pass ratelimit/redis-brake-stops-other-node
else
	t_fail ratelimit/redis-brake-stops-other-node "taken $b; $(grep C11 "$dir/B.log")"
fi
out=$("$RG_BIN" release -c "$dir/B.conf" --list 2>&1; "$RG_BIN" release -c "$dir/B.conf" carol 2>&1)
a=$(burst A 1 carol C2)
if grep -q '^carol: stopped for' <<<"$out" && grep -q '^carol: released$' <<<"$out" && [ "$a" = 1 ]; then
	t_pass ratelimit/redis-release
else
	t_fail ratelimit/redis-release "taken $a after: $out"
fi
# Redis killed: A accepts (the default), B tempfails; one warning each
kill "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null; REDIS_PID=
a=$(RG_BURST_FULL=1 burst A 4 dave K1) b=$(burst B 4 dave K2)
wa=$(grep -cE 'warning.*(ratelimit|brake): redis 127.0.0.1:[0-9]*: .*ratelimit_error_action applies' "$dir/A.log")
ea=$(grep -c 'K1[0-9]*: verdict=accept .*RATELIMIT_ERROR' "$dir/A.log")
eb=$(grep -cE 'K2[0-9]*: verdict=tempfail reply="451 4.3.0 (Rate limits|Compromised account brake) unavailable, try again later"' "$dir/B.log")
if [ "$a" = 4 ] && [ "$b" = 0 ] && [ "$wa" = 1 ] && [ "$ea" = 4 ] && [ "$eb" = 4 ]; then
	t_pass ratelimit/redis-down-error-action
else
	t_fail ratelimit/redis-down-error-action "A took $a (want 4), B $b (want 0), warnings $wa, A errors $ea, B tempfails $eb"
fi
# Redis hung: the first message waits redis_timeout, the others not
redis_start || { t_fail ratelimit/redis-restart "redis-server did not restart"; exit 0; }
sleep 5.2	# the retry pause after the failure above
a=$(burst A 1 frank H0)
kill -STOP "$REDIS_PID"
t0=$(date +%s%N)
a=$a$(RG_BURST_FULL=1 burst A 3 frank H1)
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$a" = 13 ] && [ "$ms" -lt 2500 ] && grep -q 'H11: verdict=accept .*_ERROR.*timed out' "$dir/A.log"; then
	t_pass ratelimit/redis-hung-within-timeout
else
	t_fail ratelimit/redis-hung-within-timeout "taken $a (want 1 then 3) in $ms ms; $(grep H11 "$dir/A.log")"
fi
kill -CONT "$REDIS_PID"
sleep 5.2
a=$(RG_BURST_FULL=1 burst A 1 frank H2)
if [ "$a" = 1 ] && grep -q 'H21: verdict=accept' "$dir/A.log" && ! grep -q 'H21: .*RATELIMIT_ERROR' "$dir/A.log" &&
	grep -q 'ratelimit: redis answers again' "$dir/A.log" &&
	# H0 and H2; the script that timed out may still run when Redis
	# wakes (its request was sent): counted once more, never less
	[[ "$(redis-cli -p "$REDIS_PORT" hget rg:rl:l:frank:1h c)" == [23] ]]; then
	t_pass ratelimit/redis-back-counts
else
	t_fail ratelimit/redis-back-counts "taken $a; $(grep H21 "$dir/A.log")"
fi
for n in A B; do
	pid=PID_$n rc=0
	kill -TERM "${!pid}"; wait "${!pid}" || rc=$?
	eval "PID_$n="
	if [ $rc = 0 ]; then t_pass "ratelimit/redis-node-$n-clean-exit"; else
		t_fail "ratelimit/redis-node-$n-clean-exit" "exit $rc (99: valgrind, see $dir/valgrind-$n.*)"; fi
done
