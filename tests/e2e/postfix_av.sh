#!/usr/bin/env bash
# tests/e2e/postfix_av.sh - the virus scan (libclamav, the test signatures
# of conf/clamav) behind a real Postfix (tests/postfix.sh), mail for
# sink.test relayed to smtp-sink.  Messages from tests/tools/mkvirus (EICAR
# built at run time), sent whole with swaks --data.  Proves: EICAR in a
# base64 attachment and in a zip gets Postfix's 554 5.7.1 naming the virus
# at end of DATA and nothing arrives; the same through the submission port
# with SASL (outbound mail is scanned too); the summary log line names the
# virus; a 3 MB message spooled to disk (spool_memory_max = 256k) is
# rejected and leaves nothing in temp_dir; a clean message arrives with
# X-Virus-Status: Clean and X-Virus-Scanned, and forged copies of both are
# gone; with av_action = quarantine (SIGHUP) the infected message gets 250
# and waits in Postfix's hold queue, marked Infected, undelivered.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$RG_TOP/tests/postfix.sh"
. "$RG_TOP/tests/e2e/lib.sh"
. "$RG_TOP/tests/clamd.sh"
T=e2e-av
DIR=$RG_TMP/e2e-av
rm -rf "$DIR" && mkdir -p "$DIR/spool"
CONF=$DIR/rg.conf
LOG=$DIR/relayguard.log
cleanup() { rg_stop >/dev/null 2>&1; pf_stop >/dev/null 2>&1; clamd_stop >/dev/null 2>&1; }
trap cleanup EXIT
rg_av() { av_conf "$CONF" "sender_login_maps=$DIR/login.map" "spool_memory_max=256k" "temp_dir=$DIR/spool" "$@"; }
sink_has() { sink_file "$1" pf_sink_files; }

echo "end to end: the virus scan through Postfix (inbound :$RG_SMTP_PORT, submission :$RG_SUBMISSION_PORT)"
pf_setup "$DIR/postfix" >"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "pf_setup: $(tail -3 "$DIR/setup.log")"; exit 0; }
pf_adduser alice secret >>"$DIR/setup.log" 2>&1
pf_start >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "pf_start: $(tail -3 "$DIR/setup.log")"; exit 0; }
pf_sink_start >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "pf_sink_start: $(tail -3 "$DIR/setup.log")"; exit 0; }
printf 'alice@local.test\talice@mx.test\n' >"$DIR/login.map"
rg_av
if _pf_listening "$RG_MILTER_PORT"; then
	t_fail "$T/setup" "port $RG_MILTER_PORT is taken: another milter would answer"
	exit 0
fi
rg_start "$CONF" "$LOG" || { t_fail "$T/setup" "relayguard: $(tail -3 "$LOG")"; exit 0; }

# 1. inbound EICAR, a base64 attachment and in a zip: 554 at end of DATA
for shape in base64 zip; do
	eml "in-$shape" "$shape" --to someone@sink.test
	pf_eml "in-$shape" "$RG_SMTP_PORT" sender@example.org someone@sink.test
	check "in-$shape-554" "reply: $(last_reply "in-$shape")" av_rejected "in-$shape"
done
check virus-logged "no reject naming the virus in $LOG" \
	grep -qE "verdict=reject reply=\"$AV_REJECT_RE\" .*from=<sender@example\.org> .*symbols=.*AV_VIRUS\(0\.00\)\{$AV_EICAR_RE\}" "$LOG"
# the summary line carries Postfix's queue id
qid=$(grep -oE '\]: [0-9A-F]{6,}: milter-reject: END-OF-MESSAGE' "$PF_DIR/maillog" | head -1 | cut -d' ' -f2 | tr -d :)
check virus-logged-queue-id "queue id '$qid' of Postfix's milter-reject not in $LOG" \
	grep -q "relayguard\[info\]: ${qid:-none}: verdict=reject reply=\"$AV_REJECT_RE\"" "$LOG"

# 2. outbound: alice logs in on the submission port, her mail is scanned too
eml out-base64 base64 --from alice@local.test --to someone@sink.test
pf_eml out-base64 "$RG_SUBMISSION_PORT" alice@local.test someone@sink.test \
	--auth LOGIN --auth-user alice@mx.test --auth-password secret
check out-auth-ok "AUTH failed: $(grep -A1 'AUTH LOGIN' "$DIR/out-base64.txt" | tail -1)" \
	transcript out-base64 '235 '
check out-base64-554 "reply: $(last_reply out-base64)" av_rejected out-base64
check out-virus-logged "no outbound reject naming the virus in $LOG" \
	grep -qE "verdict=reject reply=\"$AV_REJECT_RE\" .*login=alice@mx\.test .*mode=outbound .*AV_VIRUS\(0\.00\)\{$AV_EICAR_RE\}" "$LOG"

# 3. 3 MB, past spool_memory_max: scanned from the spool file, rejected
eml big bigbody --to someone@sink.test
pf_eml big "$RG_SMTP_PORT" sender@example.org someone@sink.test
check bigbody-554 "reply: $(last_reply big)" av_rejected big
check bigbody-spool-removed "left in temp_dir: $(ls -A "$DIR/spool")" test -z "$(ls -A "$DIR/spool")"

# 4. clean, with forged scan fields: delivered, ours the only ones
av_clean_eml clean
pf_eml clean "$RG_SMTP_PORT" sender@example.org someone@sink.test
pf_wait_sink 1 15
f=$(sink_has clean)
av_clean_checks clean "$f"
zipline=$(awk '/^Content-Disposition: attachment/ { getline; getline; print; exit }' "$DIR/clean.eml" | tr -d '\r')
check clean-attachment-arrived "the zip's base64 line '$zipline' not in $f" \
	grep -qxF "${zipline:-none}" "${f:-/dev/null}"

# nothing infected arrived, nothing waits
sleep 1
check infected-not-delivered "infected messages in the sink: $(for n in in-base64 in-zip out-base64 big; do
	[ -n "$(sink_has $n)" ] && echo -n "$n "; done)" \
	test -z "$(sink_has in-base64)$(sink_has in-zip)$(sink_has out-base64)$(sink_has big)"
check queue-empty "messages left in Postfix's queue: $(pf_queue_count)" pf_wait_queue_empty 10

# 5. av_action = quarantine (SIGHUP): 250, then held, marked, undelivered
rg_av "av_action=quarantine"
rg_hup "$LOG" || t_fail "$T/reload" "no reload in $LOG"
eml quarantine zip --to someone@sink.test
pf_eml quarantine "$RG_SMTP_PORT" sender@example.org someone@sink.test
check quarantine-250 "reply: $(last_reply quarantine)" \
	transcript quarantine '250 2\.0\.0 Ok: queued'
pf_wait_held 1 15
held=$(pf_held | head -1)
check quarantine-held "hold queue: $(postqueue -c "$PF_CONF" -p 2>&1 | sed -n 2p)" test -n "$held"
check quarantine-mailq-bang "postqueue -p does not mark $held held: $(postqueue -c "$PF_CONF" -p 2>&1 | sed -n 2p)" \
	grep -q "^${held:-none}!" <<<"$(postqueue -c "$PF_CONF" -p 2>&1)"
check quarantine-hold-file "no $PF_DIR/queue/hold/$held" test -n "$held" -a -f "$PF_DIR/queue/hold/$held"
check quarantine-milter-hold "no milter-hold for ${held:-none} in the maillog" \
	grep -q "${held:-none}: milter-hold: END-OF-MESSAGE" "$PF_DIR/maillog"
pc=$(postcat -c "$PF_CONF" -hq "${held:-none}" 2>&1)
check quarantine-marked "held copy's X-Virus-Status: $(grep -i '^X-Virus-Status' <<<"$pc")" \
	grep -qx "X-Virus-Status: Infected ($AV_EICAR)" <<<"$pc"
check quarantine-logged "no quarantine line in $LOG" \
	grep -qE "verdict=quarantine .*AV_VIRUS\(0\.00\)\{$AV_EICAR_RE\}" "$LOG"
sleep 1
check quarantine-not-delivered "held mail arrived" test -z "$(sink_has quarantine)"
postsuper -c "$PF_CONF" -d ALL hold >/dev/null 2>&1

# 6. av_backend = clamd (SIGHUP), a real clamd with the test signatures:
#    EICAR 554 through it, a clean message delivered; libclamav's own
#    unpacking in av_temp_dir, left empty
mkdir -p "$DIR/avtmp"
if clamd_start "$DIR/clamd" "$RG_TOP/conf/clamav" >>"$DIR/setup.log" 2>&1; then
	rg_av "av_backend=clamd" "clamd_socket=$(clamd_socket)" "av_temp_dir=$DIR/avtmp"
	rg_hup "$LOG" || t_fail "$T/reload" "no reload in $LOG"
	eml clamd-zip zip --to someone@sink.test
	pf_eml clamd-zip "$RG_SMTP_PORT" sender@example.org someone@sink.test
	check clamd-554 "reply: $(last_reply clamd-zip)" av_rejected clamd-zip
	eml clamd-clean zip --clean --to someone@sink.test
	pf_eml clamd-clean "$RG_SMTP_PORT" sender@example.org someone@sink.test
	check clamd-clean-250 "reply: $(last_reply clamd-clean)" transcript clamd-clean '250 2\.0\.0 Ok: queued'
	check clamd-scanned-logged "no clamd scan in $LOG" \
		grep -qE "verdict=reject reply=\"$AV_REJECT_RE\" .*AV_VIRUS" "$LOG"
	clamd_stop
else
	t_fail "$T/clamd-setup" "clamd_start: $(tail -2 "$DIR/setup.log")"
fi
rg_av "av_temp_dir=$DIR/avtmp"
rg_hup "$LOG" || t_fail "$T/reload" "no reload in $LOG"
eml tmpdir-zip zipzip --to someone@sink.test
pf_eml tmpdir-zip "$RG_SMTP_PORT" sender@example.org someone@sink.test
check av-temp-dir-554 "reply: $(last_reply tmpdir-zip)" av_rejected tmpdir-zip
check av-temp-dir-empty "left in av_temp_dir: $(ls -A "$DIR/avtmp")" test -z "$(ls -A "$DIR/avtmp")"
