#!/usr/bin/env bash
# tests/e2e/postfix_spam.sh - the built-in spam engine behind a real
# Postfix (tests/postfix.sh), mail for sink.test relayed to smtp-sink,
# messages sent whole with swaks --data.  Proves: GTUBE gets Postfix's
# 554 5.7.1 at end of DATA and is not delivered, inbound and outbound
# (SASL on the submission port); a message over the tag score is
# delivered with X-Spam-Flag: YES, X-Spam-Score and X-Spam-Status, forged
# copies gone; a clean message arrives without them; with the quarantine
# score (SIGHUP) GTUBE waits in Postfix's hold queue.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$RG_TOP/tests/postfix.sh"
. "$RG_TOP/tests/e2e/lib.sh"
T=e2e-spam
DIR=$RG_TMP/e2e-spam
rm -rf "$DIR" && mkdir -p "$DIR"
CONF=$DIR/rg.conf
LOG=$DIR/relayguard.log
cleanup() { rg_stop >/dev/null 2>&1; pf_stop >/dev/null 2>&1; }
trap cleanup EXIT
G1='XJS*C4JDBQADN1.NSBN3*2IDNEN*'
G2='GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'
rg_spam() { rg_conf "$CONF" "sender_login_maps=$DIR/login.map" spam=yes "bayes_store=$DIR/bayes" "$@"; }
sink_has() { sink_file "$1" pf_sink_files; }
# mail NAME FROM BODY [HEADER...] - $DIR/NAME.eml, to someone@sink.test
mail() {
	local name=$1 from=$2 body=$3
	shift 3
	{
		printf 'X-Test: %s\r\nReceived: from pc.example.org by mail.example.org; %s\r\nFrom: %s\r\nTo: someone@sink.test\r\nSubject: test %s\r\nDate: %s\r\nMessage-ID: <%s.%s@example.org>\r\n' \
			"$name" "$(date -R)" "$from" "$name" "$(date -R)" "$name" "$RANDOM"
		for h in "$@"; do printf '%s\r\n' "$h"; done
		printf '\r\n%s\r\n' "$body"
	} >"$DIR/$name.eml"
}
spam_rejected() { [[ "$(last_reply "$1")" =~ \<\*\*\ 554\ 5\.7\.1\ Message\ rejected\ as\ spam ]]; }

echo "end to end: the spam engine through Postfix (inbound :$RG_SMTP_PORT, submission :$RG_SUBMISSION_PORT)"
pf_setup "$DIR/postfix" >"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "pf_setup: $(tail -3 "$DIR/setup.log")"; exit 0; }
pf_adduser alice secret >>"$DIR/setup.log" 2>&1
pf_start >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "pf_start: $(tail -3 "$DIR/setup.log")"; exit 0; }
pf_sink_start >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "pf_sink_start: $(tail -3 "$DIR/setup.log")"; exit 0; }
printf 'alice@local.test\talice@mx.test\n' >"$DIR/login.map"
rg_spam
rg_start "$CONF" "$LOG" || { t_fail "$T/setup" "relayguard: $(tail -3 "$LOG")"; exit 0; }

# 1. GTUBE: 554 at end of DATA, inbound and outbound, not delivered
mail gtube-in sender@example.org "$G1$G2"
pf_eml gtube-in "$RG_SMTP_PORT" sender@example.org someone@sink.test
check gtube-in-554 "reply: $(last_reply gtube-in)" spam_rejected gtube-in
mail gtube-out alice@local.test "$G1$G2"
pf_eml gtube-out "$RG_SUBMISSION_PORT" alice@local.test someone@sink.test \
	--auth LOGIN --auth-user alice@mx.test --auth-password secret
check gtube-out-554 "reply: $(last_reply gtube-out)" spam_rejected gtube-out
check gtube-logged "no GTUBE reject in $LOG" \
	grep -qE 'verdict=reject reply="554 5\.7\.1 Message rejected as spam" .*GTUBE\(1000\.00\)' "$LOG"

# 2. over the tag score (GTUBE weighed down to 6): delivered, tagged, the
#    forged fields gone; a clean message arrives untagged
rg_spam "scores=GTUBE=6"
rg_hup "$LOG" || t_fail "$T/reload" "no reload in $LOG"
mail tagged sender@example.org "$G1$G2" "X-Spam-Flag: NO" "X-Spam-Status: No, score=-50"
pf_eml tagged "$RG_SMTP_PORT" sender@example.org someone@sink.test
mail clean sender@example.org "See you on Thursday at the meeting."
pf_eml clean "$RG_SMTP_PORT" sender@example.org someone@sink.test
pf_wait_sink 2 15
f=$(sink_has tagged)
check tagged-delivered "not in the sink" test -n "$f"
check tagged-flag "X-Spam-Flag: $(grep -i '^X-Spam-Flag' "${f:-/dev/null}" | tr '\r\n' '  ')" \
	test "$(field_count "$f" X-Spam-Flag)" = 1 -a -n "$(grep -x $'X-Spam-Flag: YES\r\\?' "${f:-/dev/null}")"
check tagged-score "no X-Spam-Score: 6.00" grep -q '^X-Spam-Score: 6\.00' "${f:-/dev/null}"
check tagged-status "X-Spam-Status: $(grep -i '^X-Spam-Status' "${f:-/dev/null}")" \
	grep -q '^X-Spam-Status: Yes, score=6\.00 required=5\.00 tests=GTUBE' "${f:-/dev/null}"
check tagged-forged-gone "forged fields arrived" test "$(grep -c 'score=-50\|X-Spam-Flag: NO' "${f:-/dev/null}")" = 0
f=$(sink_has clean)
check clean-delivered "not in the sink" test -n "$f"
check clean-untagged "X-Spam fields on a clean message" test "$(field_count "$f" X-Spam-Flag)" = 0

# 3. the quarantine score: GTUBE accepted (250) and held, not delivered
rg_spam "spam_reject_score=off" "spam_quarantine_score=10"
rg_hup "$LOG" || t_fail "$T/reload" "no reload in $LOG"
mail held sender@example.org "$G1$G2"
pf_eml held "$RG_SMTP_PORT" sender@example.org someone@sink.test
check held-250 "reply: $(last_reply held)" transcript held '250 2\.0\.0 Ok: queued'
pf_wait_held 1 15
check held-in-hold-queue "hold queue: $(pf_held)" test -n "$(pf_held)"
check held-logged "no quarantine line in $LOG" grep -q 'verdict=quarantine .*SPAM_QUARANTINE' "$LOG"
sleep 1
check gtube-not-delivered "rejected or held mail arrived" \
	test -z "$(sink_has gtube-in)$(sink_has gtube-out)$(sink_has held)"
postsuper -c "$PF_CONF" -d ALL hold >/dev/null 2>&1
rc=0
rg_stop || rc=$?
check clean-exit "exit $rc" test $rc = 0
