#!/usr/bin/env bash
# tests/e2e/sendmail_relayguard.sh - relayguard behind a real Sendmail 8.17.
#
# A private Sendmail (tests/sendmail.sh: packages unpacked, never installed;
# its own UTS and mount namespaces, no DNS) with INPUT_MAIL_FILTER pointing
# at relayguard, F=T; swaks as the client; Sendmail relays sink.test to
# smtp-sink.  Proves: a plain message arrives with relayguard's header and
# the summary log line carries Sendmail's queue id ({i}); a forged copy of
# the header is removed; a protected MAIL FROM without login gets 553 at
# MAIL FROM; the size limit answers 552 5.3.4 and nothing arrives; with
# relayguard stopped Sendmail answers 451 and the message arrives once
# relayguard is back and the client retries; with SMTP AUTH (Cyrus sasldb)
# alice may send as alice and gets 553 as bob.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$RG_TOP/tests/sendmail.sh"
. "$RG_TOP/tests/e2e/lib.sh"
T=e2e-sendmail
DIR=$RG_TMP/e2e-sendmail
CONF=$DIR/rg.conf
LOG=$DIR/relayguard.log

cleanup() { rg_stop >/dev/null 2>&1; sm_stop >/dev/null 2>&1; }
trap cleanup EXIT
# A run that was killed leaves its daemons behind: stop them by the pids
# it kept (relayguard only when its command line names our rg.conf).
[ -d "$DIR/sendmail" ] && SM_DIR=$DIR/sendmail sm_stop >/dev/null 2>&1
SM_DIR=
if [ -f "$DIR/rg.pid" ] && tr '\0' ' ' <"/proc/$(cat "$DIR/rg.pid")/cmdline" 2>/dev/null |
	grep -qF -- "-c $CONF -f"; then
	kill -TERM "$(cat "$DIR/rg.pid")" && wait_port_closed "$RG_MILTER_PORT" 15
fi
rm -rf "$DIR" && mkdir -p "$DIR"
# rg_up - start relayguard, remember its pid for the next run
rg_up() { rg_start "$CONF" "$LOG" && echo "$RG_PID" >"$DIR/rg.pid"; }

sink_with() {
	local f
	f=$(sink_file "$1")
	[ -n "$f" ] && grep -qE "$2" "$f"
}
# mail_from_reply NAME - the reply to MAIL FROM in NAME's transcript
mail_from_reply() { grep -A1 '^ -> MAIL FROM' "$DIR/$1.txt" | tail -1; }

echo "end to end through Sendmail (:$RG_SM_PORT, sink :$RG_SM_SINK_PORT)"
sm_setup "$DIR/sendmail" >"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "sm_setup: $(tail -3 "$DIR/setup.log")"; exit 0; }
if ! sm_adduser alice secret >>"$DIR/setup.log" 2>&1 ||
	! sm_adduser bob secret >>"$DIR/setup.log" 2>&1; then
	t_fail "$T/setup" "sm_adduser: $(tail -3 "$DIR/setup.log")"
	exit 0
fi
sm_start >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "sm_start: $(tail -3 "$DIR/setup.log")"; exit 0; }
# Sendmail's {auth_authen} is the login as typed; a bare "alice" is
# alice@mx.test in the sasldb (Cyrus' default realm is Sendmail's $j)
cat >"$DIR/login.map" <<'MAP'
alice@local.test	alice
bob@local.test		bob
MAP
# (rg_conf leaves SPF off: it has its own tests with a loopback DNS)
rg_conf "$CONF" "sender_login_maps=$DIR/login.map" "max_message_size=20k"
if _sm_listening "$RG_MILTER_PORT"; then
	t_fail "$T/setup" "port $RG_MILTER_PORT is taken: another milter would answer"
	exit 0
fi
rg_up || { t_fail "$T/setup" "relayguard: $(tail -3 "$LOG")"; exit 0; }
n=0	# messages expected in the sink

# a. plain inbound message: relayed to the sink with relayguard's header,
#    and relayguard's summary line carries Sendmail's queue id
sm_msg plain sender@example.org someone@sink.test
n=$((n + 1)); sm_wait_sink $n 15
check plain-delivered "not delivered: $(last_reply plain)" \
	sink_with plain '^X-Relayguard: mx\.test; verdict=accept; mode=inbound; score=0\.00$'
qid=$(sm_queue_id "$DIR/plain.txt")
check queue-id-in-received "Sendmail's queue id '$qid' not in its Received: field" \
	sink_with plain "with ESMTP id ${qid:-none}"
check summary-queue-id "queue id '$qid' not in the relayguard log" \
	grep -qE "relayguard\[info\]: ${qid:-none}: verdict=accept client=[^ ]*\[127\.0\.0\.1\] .*from=<sender@example\.org> rcpt=<someone@sink\.test> .*mode=inbound" "$LOG"

# b. a forged status header is removed; exactly one (ours) arrives
sm_msg forged sender@example.org someone@sink.test \
	--header "X-Relayguard: mx.test; verdict=accept; mode=outbound; score=-100"
n=$((n + 1)); sm_wait_sink $n 15
f=$(sink_file forged)
check forged-header-removed "forged header kept: $(grep -i '^X-Relayguard' "${f:-/dev/null}" | tr '\r\n' '  ')" \
	test -n "$f" -a "$(grep -ci '^X-Relayguard:' "${f:-/dev/null}")" = 1 -a \
	"$(grep -c 'score=-100' "${f:-/dev/null}")" = 0

# c. a protected sender without login: 553 at MAIL FROM.  Sendmail puts
#    "<addr>... " before the milter's text (Postfix does not):
#    "553 5.7.1 <alice@local.test>... <alice@local.test>: Sender address
#    rejected: not logged in"
sm_msg unauth alice@local.test someone@sink.test
check unauth-553 "the reply to MAIL FROM: $(mail_from_reply unauth)" \
	grep -qE '^<\** *553 5\.7\.1 .*<alice@local\.test>: Sender address rejected: not logged in' \
	<<<"$(mail_from_reply unauth)"
check unauth-logged "no reject line in $LOG" \
	grep -qE ': verdict=reject reply="553 5\.7\.1 <alice@local\.test>: Sender address rejected: not logged in" .*login=- from=<alice@local\.test>' "$LOG"

# d. over max_message_size: 552 5.3.4 after the data, nothing arrives
head -c 40000 /dev/zero | tr '\0' 'x' | fold -w 76 >"$DIR/big.txt"
sm_send sender@example.org someone@sink.test --header "X-Test: toobig" \
	--body @"$DIR/big.txt" >"$DIR/toobig.txt" 2>&1
check size-552 "no 552 5.3.4: $(last_reply toobig)" transcript toobig '552 5\.3\.4'

# e. SMTP AUTH: alice as alice is outbound and carries the login; alice
#    as bob gets 553 at MAIL FROM
sm_msg auth-own alice@local.test someone@sink.test \
	--auth PLAIN --auth-user alice --auth-password secret
n=$((n + 1)); sm_wait_sink $n 15
check auth-own-delivered "not delivered: $(last_reply auth-own)" \
	sink_with auth-own '^X-Relayguard: mx\.test; verdict=accept; mode=outbound;'
check auth-login-logged "no login=alice in $LOG" \
	grep -qE ': verdict=accept .* login=alice from=<alice@local\.test> .*mode=outbound .*symbols=AUTHENTICATED' "$LOG"
sm_msg auth-as-bob bob@local.test someone@sink.test \
	--auth PLAIN --auth-user alice --auth-password secret
check auth-as-bob-553 "the reply to MAIL FROM: $(mail_from_reply auth-as-bob)" \
	grep -qE '^<\** *553 5\.7\.1 .*<bob@local\.test>: Sender address rejected: not owned by user alice$' \
	<<<"$(mail_from_reply auth-as-bob)"

# nothing of the rejected messages arrived, nothing waits in the queue
sleep 1
check rejected-not-delivered "rejected messages arrived: unauth $(sink_count unauth), toobig $(sink_count toobig), as-bob $(sink_count auth-as-bob)" \
	test "$(sink_count unauth)$(sink_count toobig)$(sink_count auth-as-bob)" = 000
check sink-count "sink holds $(sm_sink_files | wc -l) messages, want $n" \
	test "$(sm_sink_files | wc -l)" = $n
check queue-empty "messages left in Sendmail's queue: $(sm_queue_count)" \
	test "$(sm_queue_count)" = 0

# f. relayguard down: Sendmail (F=T) answers 451 at MAIL FROM, nothing
#    arrives or waits in the queue; back up: the retry arrives once
rg_stop
sm_msg down sender@example.org someone@sink.test
check down-451 "the reply to MAIL FROM: $(mail_from_reply down)" \
	grep -qE '^<\** *451 4\.3\.2' <<<"$(mail_from_reply down)"
sleep 1
check down-not-delivered "delivered while relayguard was down" \
	test "$(sink_count down)" = 0
check down-not-queued "queued while relayguard was down: $(sm_queue_count)" \
	test "$(sm_queue_count)" = 0
rg_up || t_fail "$T/restart" "relayguard did not restart"
sm_msg down sender@example.org someone@sink.test
n=$((n + 1)); sm_wait_sink $n 15
check retry-delivered-once "retry not delivered exactly once: $(sink_count down)" \
	test "$(sink_count down)" = 1
check retry-stamped "retried message not stamped" \
	sink_with down '^X-Relayguard: mx\.test; verdict=accept; mode=inbound'

# g. per-recipient refusal and the spool on disk, through Sendmail: past
#    max_recipients the second recipient gets 452 4.5.3 and the message
#    goes to the first; a message over spool_memory_max is relayed whole
rg_stop
mkdir -p "$DIR/spool"
rg_conf "$CONF" "sender_login_maps=$DIR/login.map" "max_message_size=20k" \
	"max_recipients=1" "spool_memory_max=1k" "temp_dir=$DIR/spool"
rg_up || t_fail "$T/restart" "relayguard did not restart"
sm_msg rcpts sender@example.org "one@sink.test,two@sink.test"
n=$((n + 1)); sm_wait_sink $n 15
check rcpt-second-452 "no 452 4.5.3 for the second recipient: $(grep '^<' "$DIR/rcpts.txt" | tr '\n' ' ')" \
	transcript rcpts '452 4\.5\.3'
check rcpt-first-delivered "not relayed to the first: $(last_reply rcpts)" \
	sink_with rcpts '^X-Relayguard: mx\.test; verdict=accept;'
head -c 9000 /dev/urandom | base64 -w 76 >"$DIR/spooled.txt"
sm_send sender@example.org someone@sink.test --header "X-Test: spooled" \
	--body @"$DIR/spooled.txt" >"$DIR/spooled.out" 2>&1
n=$((n + 1)); sm_wait_sink $n 15
check spool-file-relayed "not relayed whole: $(grep '^<' "$DIR/spooled.out" | tail -1)" \
	sink_with spooled "$(tail -2 "$DIR/spooled.txt" | head -1 | sed 's/[+/]/./g')"
check spool-file-removed "left in temp_dir: $(ls "$DIR/spool")" \
	test -z "$(ls -A "$DIR/spool")"
