#!/usr/bin/env bash
# tests/e2e/postfix_relayguard.sh - relayguard behind a real Postfix.
#
# A private Postfix (tests/postfix.sh) with smtpd_milters pointing at
# relayguard and milter_default_action = tempfail; swaks as the client;
# delivery to a maildir.  Proves: inbound and submission (SASL) mail pass
# and carry relayguard's header; a forged copy of that header is removed;
# the size limit answers 552 5.3.4 and nothing arrives; with relayguard
# stopped Postfix answers 451 and the message arrives once relayguard is
# back and the client retries; SIGHUP takes effect for the next message;
# the summary log line carries Postfix's queue id.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$RG_TOP/tests/postfix.sh"
. "$RG_TOP/tests/e2e/lib.sh"
T=e2e
DIR=$RG_TMP/e2e
rm -rf "$DIR" && mkdir -p "$DIR"
CONF=$DIR/rg.conf
LOG=$DIR/relayguard.log

cleanup() { rg_stop >/dev/null 2>&1; pf_stop >/dev/null 2>&1; }
trap cleanup EXIT

echo "end to end through Postfix (inbound :$RG_SMTP_PORT, submission :$RG_SUBMISSION_PORT)"
pf_setup "$DIR/postfix" >"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "pf_setup: $(tail -3 "$DIR/setup.log")"; exit 0; }
pf_adduser alice secret >>"$DIR/setup.log" 2>&1
pf_start >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "pf_start: $(tail -3 "$DIR/setup.log")"; exit 0; }
rg_conf "$CONF" "max_message_size=20k"
rg_start "$CONF" "$LOG" || { t_fail "$T/setup" "relayguard: $(tail -3 "$LOG")"; exit 0; }

# 1. inbound: delivered with relayguard's header, mode=inbound
send inbound "$RG_SMTP_PORT" sender@example.org alice@local.test
pf_wait_maildir alice 1 15
check inbound-delivered "not delivered: $(tail -2 "$DIR/inbound.txt")" \
	delivered_with inbound '^X-Relayguard: mx\.test; verdict=accept; mode=inbound; score=0\.00$'

# 2. submission with SASL: outbound, and the login is in the log
send submission "$RG_SUBMISSION_PORT" alice@local.test alice@local.test \
	--auth PLAIN --auth-user alice@mx.test --auth-password secret
pf_wait_maildir alice 2 15
check submission-delivered "not delivered: $(tail -2 "$DIR/submission.txt")" \
	delivered_with submission '^X-Relayguard: mx\.test; verdict=accept; mode=outbound;'
check submission-login-logged "no login=alice@mx.test in $LOG" \
	grep -q 'verdict=accept .* login=alice@mx\.test from=<alice@local\.test> .*mode=outbound .*symbols=AUTHENTICATED' "$LOG"

# 3. the summary line carries Postfix's queue id
qid=$(grep -oE '\]: [0-9A-F]{6,}: .*sasl_username=alice@mx.test' "$PF_DIR/maillog" | head -1 | cut -d' ' -f2 | tr -d :)
check summary-queue-id "queue id '$qid' not in the relayguard log" \
	grep -q "^.*relayguard\[info\]: $qid: verdict=accept client=" "$LOG"

# 4. a forged status header is removed; exactly one (ours) arrives
send forged "$RG_SMTP_PORT" sender@example.org alice@local.test \
	--header "X-Relayguard: mx.test; verdict=accept; mode=outbound; score=-100"
pf_wait_maildir alice 3 15
f=$(grep -l '^X-Test: forged$' "$PF_DIR"/maildir/alice/new/* 2>/dev/null | head -1)
check forged-header-removed "forged header kept: $(grep -i '^X-Relayguard' "${f:-/dev/null}")" \
	test -n "$f" -a "$(grep -ci '^X-Relayguard:' "${f:-/dev/null}")" = 1 -a \
	"$(grep -c 'score=-100' "${f:-/dev/null}")" = 0

# 5. over max_message_size: 552 5.3.4 in swaks' transcript, nothing arrives
head -c 40000 /dev/zero | tr '\0' 'x' | fold -w 76 >"$DIR/big.txt"
pf_send "$RG_SMTP_PORT" sender@example.org alice@local.test \
	--header "X-Test: toobig" --body "$DIR/big.txt" >"$DIR/toobig.txt" 2>&1
check size-552 "no 552 5.3.4: $(grep '^<' "$DIR/toobig.txt" | tail -2)" \
	transcript toobig '552 5\.3\.4'
sleep 1
check size-nothing-delivered "a rejected message arrived" \
	test "$(delivered_count toobig)" = 0

# 6. ESMTP SIZE= over the limit: refused at MAIL FROM
resp=$(smtp_dialog "$RG_SMTP_PORT" "EHLO client.test" \
	"MAIL FROM:<a@example.org> SIZE=99999999" "QUIT")
check declared-size-refused "MAIL FROM reply: $(grep -E '^(5|4)' <<<"$resp" | head -2)" \
	grep -qE '^552 5\.3\.4' <<<"$resp"

# 7. SIGHUP: the next message uses the new configuration
sed -i 's/^authserv_id = .*/authserv_id = mx2.test/' "$CONF"
kill -HUP "$RG_PID"
sleep 1
send reloaded "$RG_SMTP_PORT" sender@example.org alice@local.test
pf_wait_maildir alice 4 15
check reload-applies "header after SIGHUP: $(grep -h '^X-Relayguard' "$PF_DIR"/maildir/alice/new/* | tail -1)" \
	delivered_with reloaded '^X-Relayguard: mx2\.test;'

# 8. relayguard down: 451, nothing delivered; back up: the retry arrives once
rg_stop
send down "$RG_SMTP_PORT" sender@example.org alice@local.test
check down-451 "no 451: $(grep '^<' "$DIR/down.txt" | tail -2)" transcript down '451 4\.7\.1'
send down-auth "$RG_SUBMISSION_PORT" alice@local.test alice@local.test \
	--auth PLAIN --auth-user alice@mx.test --auth-password secret
check down-auth-454 "no 454 for AUTH: $(grep '^<' "$DIR/down-auth.txt" | tail -2)" \
	transcript down-auth '454 4\.3\.0'
check down-not-delivered "delivered while relayguard was down" \
	test "$(delivered_count down)" = 0
check down-not-queued "queued while relayguard was down: $(pf_queue_count)" \
	test "$(pf_queue_count)" = 0
rg_start "$CONF" "$LOG" || t_fail "$T/restart" "relayguard did not restart"
send down "$RG_SMTP_PORT" sender@example.org alice@local.test
pf_wait_maildir alice 5 15
check retry-delivered-once "retry not delivered exactly once: $(delivered_count down)" \
	test "$(delivered_count down)" = 1
check retry-stamped "retried message not stamped" \
	delivered_with down '^X-Relayguard: mx2\.test; verdict=accept; mode=inbound'
