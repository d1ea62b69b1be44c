#!/usr/bin/env bash
# tests/e2e/postfix_sender.sh - the sender identity gate behind a real
# Postfix: SASL logins on the submission port, unauthenticated clients on
# the inbound port.  alice as alice is delivered; alice as bob gets 553 at
# MAIL FROM; alice with header From bob gets 550; a shared mailbox works
# for both owners; a protected address without login gets 553 on port 25;
# nothing of a rejected message arrives.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$RG_TOP/tests/postfix.sh"
. "$RG_TOP/tests/e2e/lib.sh"
T=e2e-sender
DIR=$RG_TMP/e2e-sender
rm -rf "$DIR" && mkdir -p "$DIR"
CONF=$DIR/rg.conf
LOG=$DIR/relayguard.log
cleanup() { rg_stop >/dev/null 2>&1; pf_stop >/dev/null 2>&1; }
trap cleanup EXIT

echo "end to end: sender identity gate through Postfix"
pf_setup "$DIR/postfix" >"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "pf_setup failed"; exit 0; }
pf_adduser alice secret >>"$DIR/setup.log" 2>&1
pf_adduser bob secret >>"$DIR/setup.log" 2>&1
pf_start >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "pf_start failed"; exit 0; }
# the logins Postfix passes are USER@REALM (see tests/postfix.sh)
cat >"$DIR/login.map" <<'MAP'
alice@local.test	alice@mx.test
bob@local.test		bob@mx.test
shared@local.test	alice@mx.test, bob@mx.test
MAP
rg_conf "$CONF" "sender_login_maps=$DIR/login.map"
rg_start "$CONF" "$LOG" || { t_fail "$T/setup" "relayguard: $(tail -3 "$LOG")"; exit 0; }

# mail_from_reply NAME REGEX - the reply to MAIL FROM matches REGEX
mail_from_reply() { grep -A1 '^ -> MAIL FROM' "$DIR/$1.txt" | tail -1 | grep -qE "$2"; }
auth() { echo --auth PLAIN --auth-user "$1@mx.test" --auth-password secret; }

# alice as alice: delivered
send own "$RG_SUBMISSION_PORT" alice@local.test carol@local.test $(auth alice)
pf_wait_maildir carol 1 15
check own-delivered "not delivered: $(grep '^<' "$DIR/own.txt" | tail -2)" \
	delivered_with own '^X-Relayguard: mx\.test; verdict=accept; mode=outbound'

# alice as bob: 553 at MAIL FROM
send as-bob "$RG_SUBMISSION_PORT" bob@local.test carol@local.test $(auth alice)
check envelope-553 "transcript: $(grep '^<' "$DIR/as-bob.txt" | tail -2)" \
	transcript as-bob '553 5\.7\.1 <bob@local\.test>: Sender address rejected: not owned by user alice@mx\.test'
check envelope-553-at-mail-from "the reply to MAIL FROM: $(grep -A1 '^ -> MAIL FROM' "$DIR/as-bob.txt" | tail -1)" \
	mail_from_reply as-bob '553 5\.7\.1'


# alice with header From bob: 550 after DATA
send header-bob "$RG_SUBMISSION_PORT" alice@local.test carol@local.test $(auth alice) \
	--header "From: Bob <bob@local.test>"
check header-550 "transcript: $(grep '^<' "$DIR/header-bob.txt" | tail -2)" \
	transcript header-bob '550 5\.7\.1 <bob@local\.test>: From address not owned by user alice@mx\.test'

# a shared mailbox, both owners
send shared-a "$RG_SUBMISSION_PORT" shared@local.test carol@local.test $(auth alice)
send shared-b "$RG_SUBMISSION_PORT" shared@local.test carol@local.test $(auth bob)
pf_wait_maildir carol 3 15
check shared-both-owners "shared mailbox: $(delivered_count shared-a)+$(delivered_count shared-b)" \
	test "$(delivered_count shared-a)$(delivered_count shared-b)" = 11

# no login, protected sender, port 25: 553 not logged in
send spoof "$RG_SMTP_PORT" alice@local.test carol@local.test
check not-logged-in-553 "transcript: $(grep '^<' "$DIR/spoof.txt" | tail -2)" \
	transcript spoof '553 5\.7\.1 <alice@local\.test>: Sender address rejected: not logged in'

# an unprotected sender on port 25 still passes
send stranger "$RG_SMTP_PORT" someone@elsewhere.test carol@local.test
pf_wait_maildir carol 4 15
check inbound-stranger-delivered "not delivered" delivered_with stranger '^X-Relayguard: .*mode=inbound'

# nothing of the rejected messages arrived
sleep 1
check nothing-rejected-arrived "rejected mail arrived" \
	test "$(delivered_count as-bob)$(delivered_count header-bob)$(delivered_count spoof)" = 000
check carol-has-four "carol has $(pf_maildir_count carol) messages" test "$(pf_maildir_count carol)" = 4
