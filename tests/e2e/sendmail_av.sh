#!/usr/bin/env bash
# tests/e2e/sendmail_av.sh - the virus scan (libclamav, the test signatures
# of conf/clamav) behind a real Sendmail 8.17 (tests/sendmail.sh), relaying
# sink.test to smtp-sink.  Messages from tests/tools/mkvirus, sent whole
# with swaks --data.  Proves: EICAR in a base64 attachment and in a zip
# gets Sendmail's 554 5.7.1 naming the virus as the reply to the data, and
# nothing arrives or waits in the queue; a clean message is relayed with
# X-Virus-Status: Clean and X-Virus-Scanned (forged copies removed); with
# av_action = quarantine (SIGHUP) the infected message gets 250 and stays
# in Sendmail's queue, quarantined (an hf file with a "q" line; mailq -qQ
# lists it), never relayed.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$RG_TOP/tests/sendmail.sh"
. "$RG_TOP/tests/e2e/lib.sh"
T=e2e-sendmail-av
DIR=$RG_TMP/e2e-sendmail-av
CONF=$DIR/rg.conf
LOG=$DIR/relayguard.log
cleanup() { rg_stop >/dev/null 2>&1; sm_stop >/dev/null 2>&1; }
trap cleanup EXIT
[ -d "$DIR/sendmail" ] && SM_DIR=$DIR/sendmail sm_stop >/dev/null 2>&1
SM_DIR=
rm -rf "$DIR" && mkdir -p "$DIR"

echo "end to end: the virus scan through Sendmail (:$RG_SM_PORT, sink :$RG_SM_SINK_PORT)"
sm_setup "$DIR/sendmail" >"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "sm_setup: $(tail -3 "$DIR/setup.log")"; exit 0; }
sm_start >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "sm_start: $(tail -3 "$DIR/setup.log")"; exit 0; }
if _sm_listening "$RG_MILTER_PORT"; then
	t_fail "$T/setup" "port $RG_MILTER_PORT is taken: another milter would answer"
	exit 0
fi
av_conf "$CONF"
rg_start "$CONF" "$LOG" || { t_fail "$T/setup" "relayguard: $(tail -3 "$LOG")"; exit 0; }

# 1. EICAR: 554 5.7.1 naming the virus, as the reply to the data
for shape in base64 zip; do
	eml "$shape" "$shape" --to someone@sink.test
	sm_eml "$shape" sender@example.org someone@sink.test
	check "$shape-554" "reply: $(last_reply "$shape")" av_rejected "$shape"
done
check virus-logged "no reject naming the virus in $LOG" \
	grep -qE "verdict=reject reply=\"$AV_REJECT_RE\" .*symbols=.*AV_VIRUS\(0\.00\)\{$AV_EICAR_RE\}" "$LOG"

# 2. clean, with forged scan fields: relayed with ours only
av_clean_eml clean
sm_eml clean sender@example.org someone@sink.test
sm_wait_sink 1 15
av_clean_checks clean "$(sink_file clean)"

sleep 1
check infected-not-relayed "infected messages in the sink: base64 $(sink_count base64), zip $(sink_count zip)" \
	test "$(sink_count base64)$(sink_count zip)" = 00
check queue-empty "messages left in Sendmail's queue: $(sm_queue_count)" test "$(sm_queue_count)" = 0

# 3. av_action = quarantine (SIGHUP): 250, then quarantined in the queue
av_conf "$CONF" "av_action=quarantine"
rg_hup "$LOG" || t_fail "$T/reload" "no reload in $LOG"
eml quarantine zip --to someone@sink.test
sm_eml quarantine sender@example.org someone@sink.test
check quarantine-250 "reply: $(last_reply quarantine)" transcript quarantine '250 2\.0\.0 [A-Za-z0-9]+ Message accepted'
qid=$(sm_queue_id "$DIR/quarantine.txt")
hf=$SM_DIR/queue/hf${qid:-none}
check quarantine-hf-file "no quarantined control file $hf: $(ls "$SM_DIR/queue")" test -f "$hf"
check quarantine-reason "no q line naming the virus in $hf: $(grep '^q' "$hf" 2>/dev/null)" \
	grep -q "^q.*$AV_EICAR_RE" "$hf"
check quarantine-mailq "mailq -qQ does not list ${qid:-none}: $(sm_mailq -qQ 2>&1 | head -4 | tr '\n' ' ')" \
	grep -q "^${qid:-none}" <<<"$(sm_mailq -qQ 2>&1)"
check quarantine-marked "the queued copy's X-Virus-Status: $(grep -a '^H.*X-Virus-Status' "$hf" 2>/dev/null)" \
	grep -qa "X-Virus-Status: Infected ($AV_EICAR)" "$hf"
check quarantine-logged "no quarantine line in $LOG" \
	grep -qE "${qid:-none}: verdict=quarantine .*AV_VIRUS\(0\.00\)\{$AV_EICAR_RE\}" "$LOG"
sleep 1
check quarantine-not-relayed "the quarantined message arrived" test "$(sink_count quarantine)" = 0
