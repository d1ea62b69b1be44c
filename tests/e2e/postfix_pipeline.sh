#!/usr/bin/env bash
# tests/e2e/postfix_pipeline.sh - the content pipeline behind a real Postfix.
#
# Proves, through Postfix and swaks: one recipient past max_recipients is
# refused (452 4.5.3) while the message goes to the others; a message over
# spool_memory_max is kept in an unlinked file (delivered whole, nothing
# left in temp_dir); a temp_dir that went away tempfails a large message
# (451 4.3.0, nothing delivered, a log line saying why) while a small one
# still passes; the no-reply steps (milter_no_reply) deliver the same
# way, with a header-size verdict given at end of headers; the summary
# line names each symbol's detail.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$RG_TOP/tests/postfix.sh"
. "$RG_TOP/tests/e2e/lib.sh"
T=e2e-pipeline
DIR=$RG_TMP/e2e-pipeline
rm -rf "$DIR" && mkdir -p "$DIR/spool"
CONF=$DIR/rg.conf
LOG=$DIR/relayguard.log

cleanup() { rg_stop >/dev/null 2>&1; pf_stop >/dev/null 2>&1; }
trap cleanup EXIT

echo "end to end through Postfix: recipients, spool, no-reply steps"
pf_setup "$DIR/postfix" >"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "pf_setup: $(tail -3 "$DIR/setup.log")"; exit 0; }
pf_start >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "pf_start: $(tail -3 "$DIR/setup.log")"; exit 0; }
rg_conf "$CONF" "max_recipients=2" "spool_memory_max=4k" "temp_dir=$DIR/spool" \
	"max_message_size=10M"
rg_start "$CONF" "$LOG" || { t_fail "$T/setup" "relayguard: $(tail -3 "$LOG")"; exit 0; }

# 1. three recipients, limit two: the third gets 452 4.5.3, two deliveries
send rcpts "$RG_SMTP_PORT" sender@example.org \
	"r1@local.test,r2@local.test,r3@local.test"
pf_wait_maildir r2 1 15
check rcpt-third-452 "no 452 4.5.3 for the third: $(grep '^<' "$DIR/rcpts.txt" | tr '\n' ' ')" \
	transcript rcpts '452 4\.5\.3 .*Too many recipients'
check rcpt-others-delivered "not delivered to r1 and r2" \
	test "$(pf_maildir_count r1)" = 1 -a "$(pf_maildir_count r2)" = 1
check rcpt-third-not-delivered "r3 got it" test "$(pf_maildir_count r3)" = 0
check rcpt-refusal-logged "no summary line for the refused recipient" \
	grep -q 'verdict=tempfail reply="452 4.5.3 Too many recipients" .* rcpt=<r3@local.test> .*RCPT_LIMIT(0.00){over 2 recipients}' "$LOG"
check rcpt-message-logged "no summary line for the message" \
	grep -qE ': verdict=accept .* rcpt=<r1@local.test>\.\.\. nrcpt=2 refused=1 ' "$LOG"

# 2. a message over spool_memory_max: spooled to a file, delivered whole
head -c 60000 /dev/urandom | base64 -w 76 >"$DIR/big.txt"
pf_send "$RG_SMTP_PORT" sender@example.org big@local.test \
	--header "X-Test: big" --body "$DIR/big.txt" >"$DIR/big.out" 2>&1
pf_wait_maildir big 1 15
f=$(pf_maildir_files big | head -1)
check spool-file-delivered "not delivered whole: $(grep '^<' "$DIR/big.out" | tail -1)" \
	grep -qF "$(tail -2 "$DIR/big.txt" | head -1)" "${f:-/dev/null}"
check spool-file-removed "left in temp_dir: $(ls "$DIR/spool")" \
	test -z "$(ls -A "$DIR/spool")"

# 3. temp_dir gone: a large message is tempfailed, a small one passes
rmdir "$DIR/spool"
pf_send "$RG_SMTP_PORT" sender@example.org big@local.test \
	--header "X-Test: nospool" --body "$DIR/big.txt" >"$DIR/nospool.txt" 2>&1
check spool-fault-451 "no 451 4.3.0: $(grep '^<' "$DIR/nospool.txt" | tail -2 | tr '\n' ' ')" \
	transcript nospool '451 4\.3\.0'
check spool-fault-logged "no SPOOL_ERROR line" \
	grep -q 'verdict=tempfail reply="451 4.3.0 .*SPOOL_ERROR(0.00){spool file: No such file or directory in ' "$LOG"
send small "$RG_SMTP_PORT" sender@example.org small@local.test
pf_wait_maildir small 1 15
check spool-fault-small-passes "small message not delivered: $(grep '^<' "$DIR/small.txt" | tail -2 | tr '\n' ' ')" \
	test "$(pf_maildir_count small)" = 1
sleep 1
check spool-fault-nothing-delivered "the tempfailed message arrived" \
	test "$(delivered_count nospool)" = 0
mkdir -p "$DIR/spool"

# 4. no-reply steps: the same delivery; a header verdict at end of headers
rg_stop
rg_conf "$CONF" "milter_no_reply=yes" "max_header_size=2k" "temp_dir=$DIR/spool"
rg_start "$CONF" "$LOG" || t_fail "$T/restart" "relayguard did not restart"
send noreply "$RG_SMTP_PORT" sender@example.org nr@local.test
pf_wait_maildir nr 1 15
check noreply-delivered "not delivered: $(grep '^<' "$DIR/noreply.txt" | tail -2 | tr '\n' ' ')" \
	delivered_with noreply '^X-Relayguard: mx\.test; verdict=accept; mode=inbound'
pf_send "$RG_SMTP_PORT" sender@example.org nr@local.test --header "X-Test: bighead" \
	--header "X-Long: $(head -c 3000 /dev/zero | tr '\0' 'h')" >"$DIR/bighead.txt" 2>&1
check noreply-header-552 "no 552 for a big header: $(grep '^<' "$DIR/bighead.txt" | tail -2 | tr '\n' ' ')" \
	transcript bighead '552 5\.3\.4'
sleep 1
check noreply-bighead-not-delivered "the refused message arrived" \
	test "$(delivered_count bighead)" = 0
