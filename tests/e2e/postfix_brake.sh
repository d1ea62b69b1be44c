#!/usr/bin/env bash
# tests/e2e/postfix_brake.sh - rate limits and the compromised-account
# brake behind a real Postfix, SASL logins on the submission port:
#   - a burst from bob: three messages an hour are delivered, the rest
#     get 451 4.7.1 at MAIL FROM naming the limit, while carol sends on;
#   - alice sends spam (GTUBE, 554 each): the second message crosses
#     brake_spam_score, the log says why, and her next clean message gets
#     451 4.7.1 from the brake while dave sends on; "relayguard release"
#     lets her send again;
#   - frank's recipients that Postfix refuses (unknown users) reach
#     relayguard (SMFIP_RCPT_REJ) and the third stops him;
#   - with brake_action = quarantine (SIGHUP), a stopped login's mail is
#     held in Postfix's hold queue instead;
#   - the brake's store cannot be written: ratelimit_error_action
#     (accept and log), mail flows.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$RG_TOP/tests/postfix.sh"
. "$RG_TOP/tests/e2e/lib.sh"
T=e2e-brake
DIR=$RG_TMP/e2e-brake
rm -rf "$DIR" && mkdir -p "$DIR"
CONF=$DIR/rg.conf
LOG=$DIR/relayguard.log
cleanup() { rg_stop >/dev/null 2>&1; pf_stop >/dev/null 2>&1; }
trap cleanup EXIT
G1='XJS*C4JDBQADN1.NSBN3*2IDNEN*'
G2='GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'

echo "end to end: rate limits and the brake through Postfix"
pf_setup "$DIR/postfix" >"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "pf_setup failed"; exit 0; }
for u in alice bob carol dave erin frank; do pf_adduser $u secret >>"$DIR/setup.log" 2>&1; done
pf_start >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "pf_start failed"; exit 0; }
brake_conf() {	# STORE [ITEMS]
	local store=$1
	shift
	rg_conf "$CONF" "ratelimit_login=3/1h,50/1d" brake=yes "brake_store=$store" \
		brake_spam_score=1500 brake_rejected_rcpts=3 spam=yes \
		"bayes_store=$DIR/no-bayes" "$@"
}
brake_conf "$DIR/brake"
rg_start "$CONF" "$LOG" || { t_fail "$T/setup" "relayguard: $(tail -3 "$LOG")"; exit 0; }
auth() { echo --auth PLAIN --auth-user "$1@mx.test" --auth-password secret; }
mail_from_reply() { grep -A1 '^ -> MAIL FROM' "$DIR/$1.txt" | tail -1 | grep -qE "$2"; }
# spam NAME USER: a GTUBE message from USER
spam() {
	pf_send "$RG_SUBMISSION_PORT" "$2@local.test" rcpt@local.test $(auth "$2") \
		--header "Subject: $1" --header "X-Test: $1" --body "$G1$G2" >"$DIR/$1.txt" 2>&1
}

# bob's burst: 3 delivered, 2 refused at MAIL FROM; carol sends on
for i in 1 2 3 4 5; do
	send burst$i "$RG_SUBMISSION_PORT" bob@local.test rcpt@local.test $(auth bob)
done
send carol1 "$RG_SUBMISSION_PORT" carol@local.test rcpt@local.test $(auth carol)
pf_wait_maildir rcpt 4 15
check burst-three-delivered "delivered $(delivered_count burst1)$(delivered_count burst2)$(delivered_count burst3)" \
	test "$(delivered_count burst1)$(delivered_count burst2)$(delivered_count burst3)" = 111
check burst-451-at-mail-from "the reply to MAIL FROM: $(grep -A1 '^ -> MAIL FROM' "$DIR/burst4.txt" | tail -1)" \
	mail_from_reply burst4 '451 4\.7\.1 Rate limit exceeded: login bob@mx\.test, 3 messages per 1h'
check burst-fifth-451 "$(last_reply burst5)" transcript burst5 '451 4\.7\.1 Rate limit exceeded'
check other-login-sends-on "carol's message not delivered" delivered_with carol1 '^X-Relayguard: .*mode=outbound'

# alice's spam: two 554, the second trips the brake; then 451
spam spam1 alice
spam spam2 alice
check spam-rejected "$(last_reply spam2)" transcript spam2 '554 5\.7\.1 Message rejected as spam'
check brake-logged-why "no brake line in $LOG" \
	grep -q 'brake: login alice@mx.test stopped for 3600 s: spam score 2000.* >= 1500 within 1h' "$LOG"
send after-spam "$RG_SUBMISSION_PORT" alice@local.test rcpt@local.test $(auth alice)
check brake-451 "the reply to MAIL FROM: $(grep -A1 '^ -> MAIL FROM' "$DIR/after-spam.txt" | tail -1)" \
	mail_from_reply after-spam '451 4\.7\.1 Login alice@mx\.test stopped by the compromised account brake: spam score 2000.* >= 1500 within 1h'
send dave1 "$RG_SUBMISSION_PORT" dave@local.test rcpt@local.test $(auth dave)
pf_wait_maildir rcpt 5 15
check others-send-while-stopped "dave's message not delivered" delivered_with dave1 '^X-Relayguard:'
out=$("$RG_BIN" release -c "$CONF" alice@mx.test 2>&1)
check release-says "$out" test "$out" = "alice@mx.test: released"
send released "$RG_SUBMISSION_PORT" alice@local.test rcpt@local.test $(auth alice)
pf_wait_maildir rcpt 6 15
check released-delivered "not delivered: $(last_reply released)" delivered_with released '^X-Relayguard:'

# recipients Postfix refuses (unknown in the virtual mailbox table: "="
# is not in the rig's user names) reach relayguard (SMFIP_RCPT_REJ): the
# third stops frank, his next message gets 451
pf_send "$RG_SUBMISSION_PORT" frank@local.test "bad=1@local.test,bad=2@local.test,bad=3@local.test,rcpt@local.test" \
	$(auth frank) --header "Subject: unknown" --header "X-Test: unknown" >"$DIR/unknown.txt" 2>&1
check mta-refused-550 "$(last_reply unknown)" transcript unknown '550 5\.1\.1 <bad=3@local\.test>'
check mta-refused-counted "no brake line for frank in $LOG" \
	grep -q 'brake: login frank@mx.test stopped for 3600 s: 3 refused recipients >= 3 within 1h' "$LOG"
send after-unknown "$RG_SUBMISSION_PORT" frank@local.test rcpt@local.test $(auth frank)
check mta-refused-then-451 "the reply to MAIL FROM: $(grep -A1 '^ -> MAIL FROM' "$DIR/after-unknown.txt" | tail -1)" \
	mail_from_reply after-unknown '451 4\.7\.1 Login frank@mx\.test stopped by the compromised account brake: 3 refused recipients'

# brake_action = quarantine: the stopped login's mail is held (erin: her
# own message count)
brake_conf "$DIR/brake" brake_action=quarantine
rg_hup "$LOG" || t_fail "$T/hup" "no reload"
spam spam3 erin
spam spam4 erin
send held "$RG_SUBMISSION_PORT" erin@local.test rcpt@local.test $(auth erin)
pf_wait_held 1 15
check stopped-mail-held "held: $(pf_held | wc -l), $(last_reply held)" test "$(pf_held | wc -l)" = 1
check held-not-delivered "delivered" test "$(delivered_count held)" = 0
check held-logged "no BRAKE_STOPPED quarantine line" \
	grep -q 'verdict=quarantine .*login=erin@mx.test .*BRAKE_STOPPED' "$LOG"
"$RG_BIN" release -c "$CONF" erin@mx.test >/dev/null 2>&1

# the store cannot be written: accept and log
brake_conf /proc/rg-no/brake
rg_hup "$LOG" || t_fail "$T/hup" "no reload"
send store-error "$RG_SUBMISSION_PORT" dave@local.test rcpt@local.test $(auth dave)
pf_wait_maildir rcpt 7 15
check store-error-accepts "not delivered: $(last_reply store-error)" delivered_with store-error '^X-Relayguard:'
check store-error-logged "no BRAKE_ERROR in $LOG" grep -q 'verdict=accept .*BRAKE_ERROR' "$LOG"
