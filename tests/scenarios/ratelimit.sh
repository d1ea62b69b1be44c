#!/usr/bin/env bash
# tests/scenarios/ratelimit.sh - rate limits and the compromised-account
# brake through "relayguard check" (one process a message, so the
# in-process counters start from zero each run: recipients within one
# message here; tests/milter/ratelimit.sh and tests/spam/ratelimit_redis.sh
# count across messages).  The brake keeps its state in an LMDB store, so
# it carries from one run to the next, and "relayguard release" lifts it.
# Scenarios named ratelimit-* and brake-* are stateful: the differential
# replay (tests/milter/differential.sh) skips them.
set -u
. "$(dirname "$0")/lib.sh"
echo "rate limit and brake scenarios (relayguard check, relayguard release)"
G1='XJS*C4JDBQADN1.NSBN3*2IDNEN*'
G2='GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'
DATE=$(date -R)
R3="--rcpt c1@d.test --rcpt c2@d.test --rcpt c3@d.test"
OUT="--client-ip 192.0.2.7 --helo x.test --mail-from alice@example.test --auth-user alice $R3"
IN="--client-ip 192.0.2.7 --helo x.test --mail-from ann@Example.COM $R3"
msg() {
	printf 'From: Ann <alice@example.test>\r\nTo: c@d.test\r\nSubject: hello\r\nDate: %s\r\nMessage-ID: <%s@example.test>\r\n\r\n%s\r\n' \
		"$DATE" "$RANDOM$RANDOM" "$1"
}

want="verdict: accept
refused-rcpt: <c3@d.test> 451 4.7.1 Rate limit exceeded: login alice, 2 recipients per 1h"
never="refused-rcpt: <c2@d.test>"
scenario ratelimit-login-rcpt "ratelimit_login_rcpt=2/1h,10/1d" "$OUT" < <(msg hi)

want="refused-rcpt: <c2@d.test> 451 4.7.1 Rate limit exceeded: client 192.0.2.0/24, 1 recipients per 1m"
scenario ratelimit-client-rcpt-prefix "ratelimit_client_rcpt=5/1h,1/1m ratelimit_ipv4_prefix=24" "$IN" < <(msg hi)

want="refused-rcpt: <c3@d.test> 451 4.7.1 Rate limit exceeded: sender domain example.com, 2 recipients per 1d"
scenario ratelimit-sender-domain-rcpt "ratelimit_sender_domain_rcpt=2/1d" "$IN" < <(msg hi)

# the other actions: held, or only named (to try limits out)
want="verdict: quarantine
symbol: RATELIMIT_LOGIN_RCPT 0.00 login alice, 2 recipients per 1h"
never="refused-rcpt:"
scenario ratelimit-quarantine "ratelimit_login_rcpt=2/1h ratelimit_action=quarantine" "$OUT" < <(msg hi)
want="verdict: accept
symbol: RATELIMIT_LOGIN_RCPT 0.00 login alice, 2 recipients per 1h"
never="refused-rcpt:"
scenario ratelimit-tag "ratelimit_login_rcpt=2/1h ratelimit_action=tag" "$OUT" < <(msg hi)

# exempt: ratelimit_exempt from all, trusted_networks from client limits
want="verdict: accept"
never="refused-rcpt:"
scenario ratelimit-exempt "ratelimit_client_rcpt=1/1h ratelimit_login_rcpt=1/1h ratelimit_exempt=192.0.2.0/24" "$OUT" < <(msg hi)
never="refused-rcpt:"
scenario ratelimit-trusted-client "ratelimit_client_rcpt=1/1h trusted_networks=192.0.2.0/24" "$IN" < <(msg hi)
want="refused-rcpt: <c2@d.test> 451 4.7.1 Rate limit exceeded: login alice, 1 recipients per 1h"
scenario ratelimit-trusted-login "ratelimit_client_rcpt=1/1h ratelimit_login_rcpt=1/1h trusted_networks=192.0.2.0/24" "$OUT" < <(msg hi)

# the brake, state in LMDB: a GTUBE message from alice stops her
B="brake=yes brake_store=$dir/brake brake_spam_score=5 spam=yes bayes_store=$dir/none"
rm -rf "$dir/brake"
want="verdict: reject
reply: 554 5.7.1 Message rejected as spam
symbol: BRAKE_TRIPPED 0.00 alice: spam score 1000.0 >= 5 within 1h"
scenario brake-trip "$B" "$OUT" < <(msg "$G1$G2")
want="verdict: tempfail
reply: 451 4.7.1 Login alice stopped by the compromised account brake: spam score 1000.0 >= 5 within 1h"
scenario brake-stopped "$B" "$OUT" < <(msg "clean")
# bob sends on
want="verdict: accept"
never="BRAKE_"
scenario brake-other-login "$B" "${OUT//alice/bob}" < <(msg "clean")
out=$("$RG_BIN" release -c "$conf" --list 2>&1)
if grep -q '^alice: stopped for [0-9]* s more: spam score 1000.0 >= 5 within 1h$' <<<"$out" &&
	! grep -q bob <<<"$out"; then
	t_pass check/brake-list
else
	t_fail check/brake-list "got: $out"
fi
out=$("$RG_BIN" release -c "$conf" alice bob 2>&1)
if [ "$out" = "alice: released
bob: not stopped" ]; then t_pass check/brake-release; else t_fail check/brake-release "got: $out"; fi
want="verdict: accept"
never="BRAKE_"
scenario brake-released "$B" "$OUT" < <(msg "clean")
# quarantine instead of tempfail
want="verdict: reject"
scenario brake-trip-again "$B brake_action=quarantine" "$OUT" < <(msg "$G1$G2")
want="verdict: quarantine
symbol: BRAKE_STOPPED 0.00 alice for 3600 s more: spam score 1000.0 >= 5 within 1h"
never="reply:"
scenario brake-stopped-held "$B brake_action=quarantine" "$OUT" < <(msg "clean")
"$RG_BIN" release -c "$conf" alice >/dev/null
# refused recipients: max_recipients refuses two, the second stops her
rm -rf "$dir/brake"
want="verdict: tempfail
refused-rcpt: <c2@d.test> 452 4.5.3 Too many recipients
symbol: BRAKE_TRIPPED 0.00 alice: 2 refused recipients >= 2 within 1h"
scenario brake-rcpts "brake=yes brake_store=$dir/brake brake_rejected_rcpts=2 max_recipients=1" "$OUT" < <(msg hi)
# the store cannot be written: ratelimit_error_action (accept, or tempfail)
want="verdict: accept"
never="reply:"
scenario brake-store-error "brake=yes brake_store=/proc/rg-no/brake" "$OUT" < <(msg hi)
grep -q 'symbol: BRAKE_ERROR 0.00 brake store /proc/rg-no/brake: ' "$dir/brake-store-error.out" &&
	t_pass check/brake-store-error-symbol || t_fail check/brake-store-error-symbol "$(cat "$dir/brake-store-error.out")"
want="verdict: tempfail
reply: 451 4.3.0 Compromised account brake unavailable, try again later"
scenario brake-store-error-tempfail "brake=yes brake_store=/proc/rg-no/brake ratelimit_error_action=tempfail" "$OUT" < <(msg hi)
# a bad limit: FILE:LINE, -n exits non-zero
rg_conf "$conf" "ratelimit_login=100/1h,5/1w"
if out=$("$RG_BIN" -c "$conf" -n 2>&1); then
	t_fail check/ratelimit-bad-conf "-n accepted it"
else
	grep -q "^$conf:$(rg_line "$conf" ratelimit_login): bad rate \"5/1w\"" <<<"$out" &&
		t_pass check/ratelimit-bad-conf || t_fail check/ratelimit-bad-conf "got: $out"
fi
rm -rf "$dir/brake"
