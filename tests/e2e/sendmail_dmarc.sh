#!/usr/bin/env bash
# tests/e2e/sendmail_dmarc.sh - DMARC and DKIM signing behind a real
# Sendmail 8.17 (tests/sendmail.sh), records on a DNS server on loopback
# (knot, tests/dns.sh; relayguard asks it, Sendmail itself has no DNS).
# With dmarc_enforce = yes: a From domain whose SPF permits 127.0.0.1 is
# relayed to the sink with dmarc=pass in the one Authentication-Results; a
# p=reject domain that fails gets 550 5.7.1 naming the domain's DMARC
# policy and nothing arrives.  A submission with SMTP AUTH (Cyrus sasldb)
# leaves signed, and dkimpy verifies the signature against the zone.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$RG_TOP/tests/sendmail.sh"
. "$RG_TOP/tests/dns.sh"
. "$RG_TOP/tests/e2e/lib.sh"
T=e2e-sendmail-dmarc
DIR=$RG_TMP/e2e-sendmail-dmarc
CONF=$DIR/rg.conf
LOG=$DIR/relayguard.log
cleanup() { rg_stop >/dev/null 2>&1; sm_stop >/dev/null 2>&1; dns_stop >/dev/null 2>&1; }
trap cleanup EXIT
[ -d "$DIR/sendmail" ] && SM_DIR=$DIR/sendmail sm_stop >/dev/null 2>&1
SM_DIR=
rm -rf "$DIR" && mkdir -p "$DIR"

echo "end to end: DMARC through Sendmail (:$RG_SM_PORT, sink :$RG_SM_SINK_PORT)"
dns_start "$DIR/dns" >"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "dns_start: $(tail -3 "$DIR/setup.log")"; exit 0; }
cat >>"$(dns_zone_file)" <<'ZONE'
_dmarc.pass.example.	0 IN TXT "v=DMARC1; p=reject"
pass.example.		0 IN TXT "v=spf1 ip4:127.0.0.0/8 -all"
_dmarc.rej.example.	0 IN TXT "v=DMARC1; p=reject"
ZONE
# the signing key of local.test, its record split into 250-byte strings
mkdir -p "$DIR/keys"
openssl genrsa -out "$DIR/keys/out.pem" 2048 2>/dev/null
chmod 600 "$DIR/keys/out.pem"
p=$(openssl rsa -in "$DIR/keys/out.pem" -pubout -outform DER 2>/dev/null | base64 -w0)
printf 'sm2048._domainkey.local.test. 0 IN TXT "v=DKIM1; k=rsa; " "p=%s" "%s"\n' \
	"${p:0:200}" "${p:200}" >>"$(dns_zone_file)"
printf 'out local.test:sm2048:%s\n' "$DIR/keys/out.pem" >"$DIR/keytable"
printf '*@local.test out\n' >"$DIR/signingtable"
printf 'alice@local.test\talice\n' >"$DIR/login.map"
dns_reload >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "dns_reload failed"; exit 0; }
sm_setup "$DIR/sendmail" >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "sm_setup: $(tail -3 "$DIR/setup.log")"; exit 0; }
sm_adduser alice secret >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "sm_adduser: $(tail -3 "$DIR/setup.log")"; exit 0; }
sm_start >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "sm_start: $(tail -3 "$DIR/setup.log")"; exit 0; }
rg_conf "$CONF" "spf=yes" "spf_helo=no" "dmarc=yes" "dmarc_enforce=yes" \
	"resolver=127.0.0.1@$RG_DNSPROXY_PORT" "dns_timeout=1s" "dkim=yes" \
	"dkim_key_table=$DIR/keytable" "dkim_signing_table=$DIR/signingtable" \
	"sender_login_maps=$DIR/login.map"
rg_start "$CONF" "$LOG" || { t_fail "$T/setup" "relayguard: $(tail -3 "$LOG")"; exit 0; }

sm_msg pass a@pass.example someone@sink.test --header "From: A <a@pass.example>"
sm_wait_sink 1 15
f=$(sink_file pass)
check pass-relayed-ar "no dmarc=pass: $(grep -i '^Authentication-Results' "${f:-/dev/null}") $(last_reply pass)" \
	grep -qE '^Authentication-Results: mx\.test; spf=pass smtp\.mailfrom=a@pass\.example; (dkim=none; )?dmarc=pass header\.from=pass\.example policy\.dmarc=reject' "${f:-/dev/null}"
check pass-one-ar "Authentication-Results fields: $(grep -ci '^Authentication-Results' "${f:-/dev/null}")" \
	test "$(grep -ci '^Authentication-Results' "${f:-/dev/null}")" = 1

sm_msg reject x@elsewhere.example someone@sink.test --header "From: B <b@rej.example>"
check reject-550 "transcript: $(last_reply reject)" \
	transcript reject "550 5\.7\.1 Unauthenticated mail from rej\.example rejected by the domain's DMARC policy"
sleep 1
check rejected-not-relayed "rejected mail arrived" test "$(sink_count reject)" = 0

# signing: alice submits with SMTP AUTH; relayed signed, dkimpy verifies
sm_msg signed alice@local.test someone@sink.test \
	--auth PLAIN --auth-user alice --auth-password secret \
	--header "From: Alice <alice@local.test>"
sm_wait_sink 2 15
f=$(sink_file signed)
check signed-relayed "no DKIM-Signature: $(last_reply signed)" \
	grep -q '^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=local\.test; s=sm2048; ' "${f:-/dev/null}"
v=$(/usr/bin/python3 "$RG_TOP/tests/tools/dkimtool" verify "$RG_DNSPROXY_PORT" <"${f:-/dev/null}" 2>&1)
check signed-dkimpy-verifies "dkimpy: $v" test "$v" = "0: pass"
