#!/usr/bin/env bash
# tests/milter/ratelimit.sh - rate limits in the daemon (miltertest,
# under valgrind unless RG_VALGRIND=no): 451 4.7.1 at MAIL FROM for a
# client over its message limit while another client sends on, at RCPT
# for a login over its recipient limit, and four miltertest processes at
# once against one login's limit: exactly the limit gets through; then
# the brake on a daemon of its own: recipients the MTA refused
# (SMFIP_RCPT_REJ) stop a login, another sends on.
set -u
. "$(dirname "$0")/../lib.sh"
export RG_MILTER_DIR="$RG_TOP/tests/milter"
export RG_SOCKET="inet:$RG_MILTER_PORT@127.0.0.1"
dir=$RG_TMP/milter-ratelimit
rm -rf "$dir" && mkdir -p "$dir"
rg_valgrind "$dir"
echo "rate limits through the milter protocol (miltertest${wrapper:+, under valgrind})"
conf=$dir/rg.conf
rg_conf "$conf" "ratelimit_client=3/1h,100/1d" "ratelimit_login_rcpt=2/1h" \
	"ratelimit_login=20/1h" "ratelimit_exempt=10.9.9.0/24"
if ! rg_start "$conf" "$dir/daemon.log" "${wrapper[@]}"; then
	t_fail milter-ratelimit/start "daemon did not listen: $(tail -5 "$dir/daemon.log")"
	exit 0
fi
if miltertest -s "$RG_MILTER_DIR/ratelimit.lua" >"$dir/ratelimit.out" 2>&1; then
	t_pass milter-ratelimit/script
else
	t_fail milter-ratelimit/script "$(tail -3 "$dir/ratelimit.out" | tr '\n' ' ')"
fi
log=$dir/daemon.log
grep -q 'RC4: verdict=tempfail reply="451 4.7.1 Rate limit exceeded: client 192.0.2.10/32, 3 messages per 1h" client=client.test\[192.0.2.10\]' "$log" &&
	t_pass milter-ratelimit/mail-from-451 ||
	t_fail milter-ratelimit/mail-from-451 "no 451 line for RC4 in $log"
grep -q 'RL1: verdict=tempfail reply="451 4.7.1 Rate limit exceeded: login alice, 2 recipients per 1h" .* rcpt=<r3@example.net>' "$log" &&
	grep -q 'RL1: verdict=accept .* nrcpt=2 refused=1 ' "$log" &&
	t_pass milter-ratelimit/rcpt-451 ||
	t_fail milter-ratelimit/rcpt-451 "no RCPT 451 for RL1, or the message did not go on, in $log"
grep -q 'RO1: verdict=accept' "$log" && grep -q 'RB1: verdict=accept .* nrcpt=2 ' "$log" &&
	t_pass milter-ratelimit/others-send-on ||
	t_fail milter-ratelimit/others-send-on "RO1 or RB1 not accepted in $log"
# four processes at once, 10 messages each, against 20/1h for the login
# (the client limit raised by a SIGHUP: the counters stay)
sed -i 's|^ratelimit_client = .*|ratelimit_client = 1000/1h|' "$conf"
kill -HUP "$RG_PID"
sleep 1
for i in 1 2 3 4; do
	RG_BURST=10 RG_BURST_TAG=P$i miltertest -s "$RG_MILTER_DIR/ratelimit_burst.lua" \
		>"$dir/burst$i.out" 2>&1 &
done
wait $(jobs -p | grep -v "^$RG_PID$") 2>/dev/null
taken=$(cat "$dir"/burst*.out | sed -n 's/.*taken \([0-9]*\).*/\1/p' | awk '{ n += $1 } END { print n + 0 }')
refused=$(grep -c 'verdict=tempfail reply="451 4.7.1 Rate limit exceeded: login burst, 20 messages per 1h"' "$log")
if [ "${taken:-0}" = 20 ] && [ "$refused" = 20 ]; then
	t_pass milter-ratelimit/concurrent-exact
else
	t_fail milter-ratelimit/concurrent-exact "taken ${taken:-?} (want 20), refused $refused (want 20); see $dir/burst*.out"
fi
rc=0
rg_stop || rc=$?
[ $rc = 0 ] && t_pass milter-ratelimit/clean-exit ||
	t_fail milter-ratelimit/clean-exit "exit $rc (99: valgrind errors, see $dir/valgrind.*)"

# the brake: recipients the MTA refused count
rg_conf "$dir/brake.conf" brake=yes "brake_store=$dir/brake" brake_rejected_rcpts=3
if ! rg_start "$dir/brake.conf" "$dir/brake.log" "${wrapper[@]}"; then
	t_fail milter-ratelimit/brake-start "daemon did not listen: $(tail -5 "$dir/brake.log")"
	exit 0
fi
if miltertest -s "$RG_MILTER_DIR/brake.lua" >"$dir/brake.out" 2>&1; then
	t_pass milter-ratelimit/brake-script
else
	t_fail milter-ratelimit/brake-script "$(tail -3 "$dir/brake.out" | tr '\n' ' ')"
fi
log=$dir/brake.log
grep -q 'BM1: brake: login mallory stopped for 3600 s: 3 refused recipients >= 3 within 1h' "$log" &&
	grep -q 'BM1: verdict=tempfail reply="451 4.7.1 Login mallory stopped by the compromised account brake: 3 refused recipients >= 3 within 1h" .*rcpt=<ok2@example.net>' "$log" &&
	grep -q 'BM2: verdict=tempfail reply="451 4.7.1 Login mallory stopped' "$log" &&
	t_pass milter-ratelimit/brake-mta-refused-rcpts ||
	t_fail milter-ratelimit/brake-mta-refused-rcpts "no brake lines for BM1/BM2 in $log"
rc=0
rg_stop || rc=$?
[ $rc = 0 ] && t_pass milter-ratelimit/brake-clean-exit ||
	t_fail milter-ratelimit/brake-clean-exit "exit $rc (99: valgrind errors, see $dir/valgrind.*)"
