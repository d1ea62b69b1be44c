#!/usr/bin/env bash
# tests/e2e/postfix_dkim.sh - DKIM behind a real Postfix, keys on a DNS
# server on loopback (knot, tests/dns.sh).  Inbound: a message signed by
# dkimpy's dkimsign arrives with dkim=pass in Authentication-Results; the
# same message with its body changed gets dkim=fail, and is refused with
# 550 5.7.20 once dkim_fail_action = reject.  Outbound: a submission
# (SASL login) leaves with relayguard's DKIM-Signature at the top, which
# dkimpy verifies against the zone.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$RG_TOP/tests/postfix.sh"
. "$RG_TOP/tests/dns.sh"
. "$RG_TOP/tests/e2e/lib.sh"
T=e2e-dkim
DIR=$RG_TMP/e2e-dkim
rm -rf "$DIR" && mkdir -p "$DIR/keys"
CONF=$DIR/rg.conf
LOG=$DIR/relayguard.log
PY=/usr/bin/python3
TOOL="$PY $RG_TOP/tests/tools/dkimtool"
cleanup() { rg_stop >/dev/null 2>&1; pf_stop >/dev/null 2>&1; dns_stop >/dev/null 2>&1; }
trap cleanup EXIT

echo "end to end: DKIM through Postfix with a DNS server on loopback"
dns_start "$DIR/dns" >"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "dns_start: $(tail -3 "$DIR/setup.log")"; exit 0; }
# txt NAME PEMFILE - the RSA key's record, split into 250-byte strings
txt() {
	local p
	p=$(openssl rsa -in "$2" -pubout -outform DER 2>/dev/null | base64 -w0)
	printf '%s. 0 IN TXT "v=DKIM1; k=rsa; " "p=%s" "%s"\n' "$1" "${p:0:200}" "${p:200}" >>"$(dns_zone_file)"
}
openssl genrsa -out "$DIR/keys/in.pem" 2048 2>/dev/null
openssl genrsa -out "$DIR/keys/out.pem" 2048 2>/dev/null
chmod 600 "$DIR/keys/"*.pem
txt in2048._domainkey.example.com "$DIR/keys/in.pem"
txt out2048._domainkey.local.test "$DIR/keys/out.pem"
dns_reload >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "dns_reload failed"; exit 0; }
printf 'out local.test:out2048:%s\n' "$DIR/keys/out.pem" >"$DIR/keytable"
printf '*@local.test out\n' >"$DIR/signingtable"
cat >"$DIR/login.map" <<'MAP'
alice@local.test	alice@mx.test
MAP

pf_setup "$DIR/postfix" >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "pf_setup failed"; exit 0; }
pf_adduser alice secret >>"$DIR/setup.log" 2>&1
pf_start >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "pf_start failed"; exit 0; }
rg_conf "$CONF" "dkim=yes" "resolver=127.0.0.1@$RG_DNSPROXY_PORT" "dns_timeout=1s" \
	"sender_login_maps=$DIR/login.map" "dkim_key_table=$DIR/keytable" \
	"dkim_signing_table=$DIR/signingtable"
rg_start "$CONF" "$LOG" || { t_fail "$T/setup" "relayguard: $(tail -3 "$LOG")"; exit 0; }
# the keys are checked once the socket is open: wait for the line
for _ in $(seq 50); do grep -q dkim-check "$LOG" && break; sleep 0.1; done

check start-keys-checked "no dkim-check line: $(grep dkim-check "$LOG")" \
	grep -q "dkim-check: ok out out2048._domainkey.local.test" "$LOG"

# message NAME - an inbound message from example.com, CRLF
message() {
	printf 'From: Ann <ann@example.com>\r\nTo: carol@local.test\r\nSubject: %s\r\nX-Test: %s\r\nDate: Tue, 1 Dec 2026 10:00:00 +0000\r\nMessage-ID: <%s@example.com>\r\n\r\nHello Carol.\r\n' "$1" "$1" "$1"
}
message pass | $PY /usr/bin/dkimsign in2048 example.com "$DIR/keys/in.pem" >"$DIR/pass.eml"
b=$($PY - "$DIR/pass.eml" <<'EOF'
import re, sys
m = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n")
v = re.search(rb"(?s)\bb=(.*?)(?:;|\n\S)", m).group(1)
print(re.sub(rb"\s", b"", v)[:12].decode())
EOF
)
b_re=$(printf '%s' "$b" | sed 's/[+/.]/\\&/g')

# inbound, signed: dkim=pass in the one Authentication-Results
pf_send "$RG_SMTP_PORT" ann@example.com carol@local.test --data "$DIR/pass.eml" >"$DIR/pass.txt" 2>&1
pf_wait_maildir carol 1 15
check inbound-pass "no dkim=pass: $(grep -h '^Authentication-Results' "$PF_DIR"/maildir/carol/new/* 2>/dev/null)" \
	delivered_with pass "^Authentication-Results: mx\\.test; dkim=pass header\\.d=example\\.com header\\.s=in2048 header\\.a=rsa-sha256 header\\.b=\"?$b_re\"?\$"
f=$(grep -l '^X-Test: pass' "$PF_DIR"/maildir/carol/new/* 2>/dev/null | head -1)
check inbound-one-ar "Authentication-Results fields: $(grep -c '^Authentication-Results' "${f:-/dev/null}")" \
	test "$(grep -c '^Authentication-Results' "${f:-/dev/null}")" = 1

# inbound, body changed after signing: dkim=fail, still delivered (tag)
sed 's/^Hello Carol\./Hello Mallory./' "$DIR/pass.eml" | sed 's/^X-Test: pass/X-Test: changed/' >"$DIR/changed.eml"
pf_send "$RG_SMTP_PORT" ann@example.com carol@local.test --data "$DIR/changed.eml" >"$DIR/changed.txt" 2>&1
pf_wait_maildir carol 2 15
check inbound-changed-fail "no dkim=fail: $(grep -h '^Authentication-Results' "$PF_DIR"/maildir/carol/new/* 2>/dev/null | tail -1)" \
	delivered_with changed '^Authentication-Results: mx\.test; dkim=fail header\.d=example\.com header\.s=in2048'

# outbound: alice submits, the message leaves with a DKIM-Signature at
# the top that dkimpy verifies
send outbound "$RG_SUBMISSION_PORT" alice@local.test carol@local.test \
	--auth PLAIN --auth-user alice@mx.test --auth-password secret \
	--header "From: Alice <alice@local.test>"
pf_wait_maildir carol 3 15
f=$(grep -l '^X-Test: outbound' "$PF_DIR"/maildir/carol/new/* 2>/dev/null | head -1)
check outbound-signed "no DKIM-Signature: $(grep '^<' "$DIR/outbound.txt" | tail -2)" \
	grep -q '^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=local\.test; s=out2048; ' "${f:-/dev/null}"
check outbound-signature-above-the-message "first fields: $(grep -n -m3 -E '^(DKIM-Signature|Received|From):' "${f:-/dev/null}" | tr '\n' ' ')" \
	test "$(grep -n -m1 -E '^(DKIM-Signature|From|Subject):' "${f:-/dev/null}" | cut -d: -f2)" = DKIM-Signature
v=$($TOOL verify "$RG_DNSPROXY_PORT" <"${f:-/dev/null}" 2>&1)
check outbound-dkimpy-verifies "dkimpy: $v" test "$v" = "0: pass"
check outbound-not-verified "outbound mail got a dkim= result" \
	test "$(grep -c '^Authentication-Results:.*dkim=' "${f:-/dev/null}")" = 0

# SIGHUP reloads the keys: a new selector signs; a broken key table is
# refused and the loaded keys go on signing
openssl genrsa -out "$DIR/keys/new.pem" 2048 2>/dev/null && chmod 600 "$DIR/keys/new.pem"
txt new2048._domainkey.local.test "$DIR/keys/new.pem"
dns_reload >>"$DIR/setup.log" 2>&1
printf 'out local.test:new2048:%s\n' "$DIR/keys/new.pem" >"$DIR/keytable"
kill -HUP "$RG_PID"
sleep 1
send rotated "$RG_SUBMISSION_PORT" alice@local.test carol@local.test \
	--auth PLAIN --auth-user alice@mx.test --auth-password secret \
	--header "From: Alice <alice@local.test>"
pf_wait_maildir carol 4 15
f=$(grep -l '^X-Test: rotated' "$PF_DIR"/maildir/carol/new/* 2>/dev/null | head -1)
check sighup-keys-checked "no dkim-check line for new2048: $(grep dkim-check "$LOG" | tail -1)" \
	grep -q "dkim-check: ok out new2048._domainkey.local.test" "$LOG"
check sighup-new-key "no s=new2048 signature" \
	grep -q '^DKIM-Signature: .* s=new2048; ' "${f:-/dev/null}"
v=$($TOOL verify "$RG_DNSPROXY_PORT" <"${f:-/dev/null}" 2>&1)
check sighup-new-key-verifies "dkimpy: $v" test "$v" = "0: pass"
printf 'out local.test:new2048\n' >"$DIR/keytable"
kill -HUP "$RG_PID"
sleep 1
check sighup-broken-table-logged "no reload error in the log" \
	grep -q "keytable:1: want" "$LOG"
send kept "$RG_SUBMISSION_PORT" alice@local.test carol@local.test \
	--auth PLAIN --auth-user alice@mx.test --auth-password secret \
	--header "From: Alice <alice@local.test>"
pf_wait_maildir carol 5 15
f=$(grep -l '^X-Test: kept' "$PF_DIR"/maildir/carol/new/* 2>/dev/null | head -1)
check sighup-broken-table-keeps-keys "not signed with the loaded key" \
	grep -q '^DKIM-Signature: .* s=new2048; ' "${f:-/dev/null}"
printf 'out local.test:new2048:%s\n' "$DIR/keys/new.pem" >"$DIR/keytable"

# dkim_fail_action = reject: the changed message is refused at end of data
sed -i '/^dkim_fail_action/d' "$CONF"
echo "dkim_fail_action = reject" >>"$CONF"
kill -HUP "$RG_PID"
sleep 1
sed 's/^X-Test: changed/X-Test: changed-reject/' "$DIR/changed.eml" >"$DIR/changed2.eml"
pf_send "$RG_SMTP_PORT" ann@example.com carol@local.test --data "$DIR/changed2.eml" >"$DIR/changed2.txt" 2>&1
check fail-rejected "transcript: $(grep '^<' "$DIR/changed2.txt" | tail -2)" \
	transcript changed2 '550 5\.7\.20 DKIM signature verification failed'
pf_send "$RG_SMTP_PORT" ann@example.com carol@local.test --data "$DIR/pass.eml" >"$DIR/pass2.txt" 2>&1
pf_wait_maildir carol 6 15
check pass-still-delivered "pass not delivered after reload" test "$(delivered_count pass)" = 2
check rejected-not-delivered "rejected mail arrived" test "$(delivered_count changed-reject)" = 0
