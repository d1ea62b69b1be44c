#!/bin/bash
# tests/e2e/postfix_rig.sh - prove the private Postfix rig (tests/postfix.sh)
# works, without relayguard: with no milter listening Postfix must tempfail
# (milter_default_action = tempfail), and with smtpd_milters emptied mail
# must reach the maildir through the inbound and the submission (AUTH) port.
#
# Run from the top directory as root: bash tests/e2e/postfix_rig.sh
# Rerunnable: it removes its directory ($RG_TMP/postfix-rig) first.

set -u
# This test needs NOTHING on the milter port, and other suites (e.g. the
# milter tests) run relayguard on lib.sh's default ports, maybe at the same
# time: unless told otherwise, use ports of its own (lib.sh keeps values
# already set).
: "${RG_MILTER_PORT:=18994}" "${RG_SMTP_PORT:=18925}"
: "${RG_SUBMISSION_PORT:=18987}" "${RG_SINK_PORT:=18926}"
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$RG_TOP/tests/postfix.sh"

DIR=$RG_TMP/postfix-rig
FAILS=0
T=postfix_rig

pass() { t_pass "$T: $1"; }
fail() { t_fail "$T: $1" "$2"; FAILS=$((FAILS + 1)); }
# check NAME WHY COMMAND... - pass when COMMAND succeeds, else fail with
# WHY, which is expanded only then (write it in single quotes)
check() {
	local name=$1 why=$2
	shift 2
	if "$@"; then pass "$name"; else fail "$name" "$(eval "echo \"$why\"")"; fi
}

# send NAME PORT FROM TO [SWAKS-ARGS...] - swaks, transcript in $DIR/NAME.txt
send() {
	local name=$1
	shift
	pf_send "$@" --header "Subject: $name" --body "rig test $name" \
		>"$DIR/$name.txt" 2>&1
	return 0
}
# replied NAME REGEX - the transcript has a server reply matching REGEX
replied() { grep -Eq "^<[-*~]* +$2" "$DIR/$1.txt"; }

cleanup() { pf_stop; }
trap cleanup EXIT
trap 'exit 130' INT TERM

start=$(date +%s)
echo "== $T (dir $DIR)"
# whatever an aborted run left running in DIR
PF_DIR=$DIR PF_CONF=$DIR/etc pf_stop
rm -rf "$DIR"

for port in "$RG_MILTER_PORT" "$RG_SMTP_PORT" "$RG_SUBMISSION_PORT" "$RG_SINK_PORT"; do
	if ss -Hltn "sport = :$port" | grep -q .; then
		fail "port $port free" "something listens on port $port"
		exit 1
	fi
done

if ! pf_setup "$DIR"; then
	fail setup "pf_setup $DIR failed"
	exit 1
fi
pass setup
check "adduser" "pf_adduser failed" pf_adduser bob 'b0b pass' &&
	check "sasldb has bob@mx.test" "not listed by sasldblistusers2" \
		eval 'sasldblistusers2 -f "$DIR/sasldb2" | grep -q "^bob@mx.test:"'
if ! pf_start; then
	fail start "pf_start failed (see $DIR/maillog)"
	exit 1
fi
pass start
# every socket our master listens on is a loopback one
listens_on_loopback_only() {
	local mpid
	mpid=$(awk '{ print $1; exit }' "$DIR/queue/pid/master.pid") || return 1
	ss -Hltnp | grep -q "pid=$mpid," || return 1
	! ss -Hltnp | grep "pid=$mpid," | awk '{ print $4 }' | grep -vq '^127\.0\.0\.1:'
}
check "listens on 127.0.0.1 only" 'master listens elsewhere: $(ss -Hltnp | grep master)' \
	listens_on_loopback_only

# --- no milter listening: milter_default_action = tempfail ------------------
send nomilter-inbound "$RG_SMTP_PORT" a@x.test alice@local.test
check "no milter: inbound gets 451" 'no 451 reply in $DIR/nomilter-inbound.txt' \
	replied nomilter-inbound '451 '
check "no milter: inbound refused at MAIL FROM" "not refused at MAIL" \
	eval 'grep -A1 -- "-> MAIL FROM" "$DIR/nomilter-inbound.txt" | grep -q "451 4.7.1"'

send nomilter-auth "$RG_SUBMISSION_PORT" bob@local.test alice@local.test \
	--auth PLAIN --auth-user bob@mx.test --auth-password 'b0b pass'
check "no milter: Postfix found the milter port closed" 'no "Connection refused" in $DIR/maillog' \
	pf_wait_log "connect to Milter service inet:127\.0\.0\.1:$RG_MILTER_PORT: Connection refused"
check "no milter: submission AUTH gets 454" 'no 454 reply in $DIR/nomilter-auth.txt' \
	replied nomilter-auth '454 '
check "no milter: nothing queued" 'queue holds $(pf_queue_count)' \
	test "$(pf_queue_count)" -eq 0
check "no milter: nothing delivered" 'maildir holds $(pf_maildir_count alice)' \
	test "$(pf_maildir_count alice)" -eq 0

# --- smtpd_milters emptied: delivery works -----------------------------------
check "milter off: reload" "pf_reload failed" eval \
	'pf_conf smtpd_milters= && pf_reload'

send plain-inbound "$RG_SMTP_PORT" a@x.test alice@local.test
check "milter off: inbound accepted" 'no 250 queued in $DIR/plain-inbound.txt' \
	replied plain-inbound '250 2.0.0 Ok: queued'

send plain-auth "$RG_SUBMISSION_PORT" bob@local.test alice@local.test \
	--auth PLAIN --auth-user bob@mx.test --auth-password 'b0b pass'
check "milter off: submission AUTH accepted" 'no 235 in $DIR/plain-auth.txt' \
	replied plain-auth '235 '
check "milter off: submission accepted" 'no 250 queued in $DIR/plain-auth.txt' \
	replied plain-auth '250 2.0.0 Ok: queued'

if pf_wait_maildir alice 2 10; then
	pass "milter off: both messages in maildir"
else
	fail "milter off: both messages in maildir" "alice has $(pf_maildir_count alice), want 2"
fi
check "maildir: inbound message" "Subject: plain-inbound not found" \
	eval 'grep -l "^Subject: plain-inbound" $(pf_maildir_files alice) >/dev/null 2>&1'
check "maildir: submission message, ESMTPA" "Subject: plain-auth / ESMTPA not found" \
	eval 'grep -l "with ESMTPA" $(grep -l "^Subject: plain-auth" $(pf_maildir_files alice) 2>/dev/null) >/dev/null 2>&1'
check "maildir: Delivered-To" "no Delivered-To: alice@local.test" \
	eval 'grep -q "^Delivered-To: alice@local.test" $(pf_maildir_files alice | head -n 1)'
# {auth_authen} is the same string Postfix logs as sasl_username=
check "log: sasl_username=bob@mx.test" 'not in $DIR/maillog' \
	pf_wait_log 'sasl_method=PLAIN, sasl_username=bob@mx\.test$'

send wrong-pass "$RG_SUBMISSION_PORT" bob@local.test alice@local.test \
	--auth PLAIN --auth-user bob@mx.test --auth-password wrong
check "submission: wrong password gets 535" 'no 535 in $DIR/wrong-pass.txt' \
	replied wrong-pass '535 '
send no-auth "$RG_SUBMISSION_PORT" bob@local.test alice@local.test
check "submission: no AUTH is refused" 'no 554 in $DIR/no-auth.txt' \
	replied no-auth '554 5.7.1'
send open-relay "$RG_SMTP_PORT" a@x.test someone@example.com
check "inbound: no relaying to other domains" 'no 554 in $DIR/open-relay.txt' \
	replied open-relay '554 5.7.1'

# --- sink.test goes to smtp-sink; deferred mail goes out on pf_flush ---------
send sink-down "$RG_SMTP_PORT" a@x.test x@sink.test
check "sink down: message accepted" 'no 250 in $DIR/sink-down.txt' \
	replied sink-down '250 2.0.0 Ok: queued'
sleep 0.5
check "sink down: message stays queued" 'queue holds $(pf_queue_count)' \
	test "$(pf_queue_count)" -eq 1
check "sink start" "pf_sink_start failed" pf_sink_start
pf_flush
check "flush: deferred message reaches the sink" 'sink has $(pf_sink_files | wc -l)' \
	pf_wait_sink 1 10
send sink-up "$RG_SMTP_PORT" a@x.test y@sink.test
check "sink up: second message reaches the sink" 'sink has $(pf_sink_files | wc -l)' \
	pf_wait_sink 2 10
check "sink: recipients recorded" "X-Rcpt-Args missing" \
	eval 'cat $(pf_sink_files) | grep -c "^X-Rcpt-Args: <[xy]@sink.test>" | grep -qx 2'
check "queue empty" 'queue holds $(pf_queue_count)' pf_wait_queue_empty 5
check "maildir still 2" 'alice has $(pf_maildir_count alice)' \
	test "$(pf_maildir_count alice)" -eq 2

# --- restore smtpd_milters: tempfail again -----------------------------------
check "milter on: reload" "pf_reload failed" eval \
	'pf_conf "smtpd_milters=inet:127.0.0.1:$RG_MILTER_PORT" && pf_reload'
check "milter on: setting restored" 'smtpd_milters is $(postconf -c "$PF_CONF" -h smtpd_milters)' \
	test "$(postconf -c "$PF_CONF" -h smtpd_milters)" = "inet:127.0.0.1:$RG_MILTER_PORT"
send restored-inbound "$RG_SMTP_PORT" a@x.test alice@local.test
check "milter on: inbound gets 451 again" 'no 451 in $DIR/restored-inbound.txt' \
	replied restored-inbound '451 '

# --- stop, twice -------------------------------------------------------------
pf_stop
check "stop: ports closed" "a port still listens" \
	eval '! ss -Hltn | grep -Eq ":($RG_SMTP_PORT|$RG_SUBMISSION_PORT|$RG_SINK_PORT)\b"'
check "stop: twice is fine" "second pf_stop failed" pf_stop

echo "== $T: $FAILS failure(s), $(($(date +%s) - start)) s"
[ "$FAILS" -eq 0 ]
