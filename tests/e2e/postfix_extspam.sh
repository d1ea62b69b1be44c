#!/usr/bin/env bash
# tests/e2e/postfix_extspam.sh - the external spam engines behind a real
# Postfix (tests/postfix.sh), mail for sink.test relayed to smtp-sink,
# with a real spamd (tests/spamd.sh) and a real Rspamd (tests/rspamd.sh),
# each started once.  Proves, with spamd as the engine and then (SIGHUP)
# with Rspamd as the engine: GTUBE gets Postfix's 554 5.7.1 at end of DATA,
# inbound and outbound (SASL on the submission port), and is not
# delivered; a clean message is delivered, untagged, with the engine's
# score on the summary line.  Then an engine that is down: 451 4.3.0, the
# message stays with the client.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$RG_TOP/tests/postfix.sh"
. "$RG_TOP/tests/e2e/lib.sh"
. "$RG_TOP/tests/spamd.sh"
. "$RG_TOP/tests/rspamd.sh"
T=e2e-extspam
DIR=$RG_TMP/e2e-extspam
rm -rf "$DIR" && mkdir -p "$DIR"
CONF=$DIR/rg.conf
LOG=$DIR/relayguard.log
cleanup() {
	rg_stop >/dev/null 2>&1
	pf_stop >/dev/null 2>&1
	spamd_stop >/dev/null 2>&1
	rspamd_stop >/dev/null 2>&1
}
trap cleanup EXIT
G1='XJS*C4JDBQADN1.NSBN3*2IDNEN*'
G2='GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'
rg_ext() { rg_conf "$CONF" "sender_login_maps=$DIR/login.map" "temp_dir=$DIR" "$@"; }
sink_has() { sink_file "$1" pf_sink_files; }
# mail NAME FROM BODY - $DIR/NAME.eml, to someone@sink.test
mail() {
	printf 'X-Test: %s\r\nReceived: from pc.example.org by mail.example.org; %s\r\nFrom: %s\r\nTo: someone@sink.test\r\nSubject: test %s\r\nDate: %s\r\nMessage-ID: <%s.%s@example.org>\r\n\r\n%s\r\n' \
		"$1" "$(date -R)" "$2" "$1" "$(date -R)" "$1" "$RANDOM" "$3" >"$DIR/$1.eml"
}
spam_rejected() { [[ "$(last_reply "$1")" =~ \<\*\*\ 554\ 5\.7\.1\ Message\ rejected\ as\ spam ]]; }
tempfailed() { [[ "$(last_reply "$1")" =~ \<\*\*\ 451\ 4\.3\.0\ Message\ could\ not\ be\ checked\ for\ spam ]]; }
CLEAN="Hi, see you on Thursday at the meeting in room 4. Ann"

# round ENGINE SYMBOL - GTUBE in and out rejected, a clean message delivered
round() {
	local e=$1 sym=$2 f
	mail "$e-gtube-in" sender@example.org "$G1$G2"
	pf_eml "$e-gtube-in" "$RG_SMTP_PORT" sender@example.org someone@sink.test
	check "$e-gtube-in-554" "reply: $(last_reply "$e-gtube-in")" spam_rejected "$e-gtube-in"
	mail "$e-gtube-out" alice@local.test "$G1$G2"
	pf_eml "$e-gtube-out" "$RG_SUBMISSION_PORT" alice@local.test someone@sink.test \
		--auth LOGIN --auth-user alice@mx.test --auth-password secret
	check "$e-gtube-out-554" "reply: $(last_reply "$e-gtube-out")" spam_rejected "$e-gtube-out"
	check "$e-gtube-logged" "no $sym reject in $LOG" \
		grep -qE "verdict=reject reply=\"554 5\\.7\\.1 Message rejected as spam\" .*[,=]$sym\\([0-9.]+\\).*${sym}_GTUBE" "$LOG"
	check "$e-gtube-out-logged" "no outbound reject in $LOG" \
		grep -qE "verdict=reject .*login=alice@mx\\.test .*[,=]$sym\\(" "$LOG"
	mail "$e-clean" sender@example.org "$CLEAN"
	pf_eml "$e-clean" "$RG_SMTP_PORT" sender@example.org someone@sink.test
	pf_wait_sink 1 15
	f=$(sink_has "$e-clean")
	check "$e-clean-delivered" "not in the sink: $(last_reply "$e-clean")" test -n "$f"
	check "$e-clean-untagged" "X-Spam fields on a clean message" test "$(field_count "$f" X-Spam-Flag)" = 0
	check "$e-clean-logged" "no accept with $sym in $LOG" \
		grep -qE "verdict=accept .*[,=]$sym\\(-?[0-4]\\.[0-9]+\\)" "$LOG"
}

echo "end to end: spamd and Rspamd through Postfix (inbound :$RG_SMTP_PORT, submission :$RG_SUBMISSION_PORT)"
spamd_start "$DIR/spamd" >"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "spamd_start: $(tail -2 "$DIR/setup.log")"; exit 0; }
rspamd_start "$DIR/rspamd" >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "rspamd_start: $(tail -2 "$DIR/setup.log")"; exit 0; }
pf_setup "$DIR/postfix" >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "pf_setup: $(tail -3 "$DIR/setup.log")"; exit 0; }
pf_adduser alice secret >>"$DIR/setup.log" 2>&1
pf_start >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "pf_start: $(tail -3 "$DIR/setup.log")"; exit 0; }
pf_sink_start >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "pf_sink_start: $(tail -3 "$DIR/setup.log")"; exit 0; }
printf 'alice@local.test\talice@mx.test\n' >"$DIR/login.map"

# 1. spamd as the engine (the built-in one off)
rg_ext spamd=yes "spamd_server=$(spamd_inet)"
rg_start "$CONF" "$LOG" || { t_fail "$T/setup" "relayguard: $(tail -3 "$LOG")"; exit 0; }
round spamd SPAMD

# 2. Rspamd as the engine, over its unix socket
rg_ext rspamd=yes "rspamd_server=$(rspamd_unix)"
rg_hup "$LOG" || t_fail "$T/reload" "no reload in $LOG"
round rspamd RSPAMD
# between the two reloads only Rspamd was asked
check spamd-gone "spamd still asked after the reload" test "$(awk '/configuration reloaded/ { n++ }
	n == 1 && /verdict=/ && /[,=]SPAMD\(/ { c++ } END { print c + 0 }' "$LOG")" = 0

# 3. the engine down: 451 4.3.0 at end of DATA, nothing delivered
spamd_stop
rg_ext spamd=yes "spamd_server=$(spamd_inet)"
rg_hup "$LOG" || t_fail "$T/reload" "no reload in $LOG"
mail down sender@example.org "$CLEAN"
pf_eml down "$RG_SMTP_PORT" sender@example.org someone@sink.test
check down-451 "reply: $(last_reply down)" tempfailed down
check down-logged "no SPAMD_ERROR in $LOG" \
	grep -q 'verdict=tempfail reply="451 4.3.0 .*SPAMD_ERROR(0.00){spamd 127.0.0.1:[0-9]*: connection refused}' "$LOG"
sleep 1
check gtube-not-delivered "rejected or tempfailed mail arrived" \
	test -z "$(sink_has spamd-gtube-in)$(sink_has spamd-gtube-out)$(sink_has rspamd-gtube-in)$(sink_has rspamd-gtube-out)$(sink_has down)"
rc=0
rg_stop || rc=$?
check clean-exit "exit $rc" test $rc = 0
