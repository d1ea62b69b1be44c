#!/usr/bin/env bash
# tests/e2e/postfix_dmarc.sh - DMARC behind a real Postfix, records on a
# DNS server on loopback (knot, tests/dns.sh).  Postfix hands relayguard
# the client 127.0.0.1.  With dmarc_enforce = yes: a From domain whose SPF
# permits the client passes and is delivered with dmarc=pass in the one
# Authentication-Results; a p=reject domain that fails is refused with
# 550 5.7.1 naming the domain's DMARC policy; a p=quarantine domain that
# fails is accepted into Postfix's hold queue (postqueue -j says "hold"),
# Authentication-Results with dmarc=fail in the held message.  Then with
# dmarc_enforce = no (SIGHUP) the p=reject failure is delivered, tagged.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$RG_TOP/tests/postfix.sh"
. "$RG_TOP/tests/dns.sh"
. "$RG_TOP/tests/e2e/lib.sh"
T=e2e-dmarc
DIR=$RG_TMP/e2e-dmarc
rm -rf "$DIR" && mkdir -p "$DIR"
CONF=$DIR/rg.conf
LOG=$DIR/relayguard.log
cleanup() { rg_stop >/dev/null 2>&1; pf_stop >/dev/null 2>&1; dns_stop >/dev/null 2>&1; }
trap cleanup EXIT

echo "end to end: DMARC through Postfix with a DNS server on loopback"
dns_start "$DIR/dns" >"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "dns_start: $(tail -3 "$DIR/setup.log")"; exit 0; }
cat >>"$(dns_zone_file)" <<'ZONE'
_dmarc.pass.example.	0 IN TXT "v=DMARC1; p=reject"
pass.example.		0 IN TXT "v=spf1 ip4:127.0.0.0/8 -all"
_dmarc.rej.example.	0 IN TXT "v=DMARC1; p=reject"
rej.example.		0 IN A 192.0.2.10
_dmarc.quar.example.	0 IN TXT "v=DMARC1; p=quarantine"
quar.example.		0 IN A 192.0.2.11
ZONE
dns_reload >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "dns_reload failed"; exit 0; }
pf_setup "$DIR/postfix" >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "pf_setup failed"; exit 0; }
pf_start >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "pf_start failed"; exit 0; }
rg_conf "$CONF" "spf=yes" "spf_helo=no" "dmarc=yes" "dmarc_enforce=yes" \
	"resolver=127.0.0.1@$RG_DNSPROXY_PORT" "dns_timeout=1s"
rg_start "$CONF" "$LOG" || { t_fail "$T/setup" "relayguard: $(tail -3 "$LOG")"; exit 0; }

# pass: SPF aligned with the From domain
send pass "$RG_SMTP_PORT" a@pass.example carol@local.test --header "From: A <a@pass.example>"
pf_wait_maildir carol 1 15
check pass-delivered-ar "no dmarc=pass: $(grep -h '^Authentication-Results' "$PF_DIR"/maildir/carol/new/* 2>/dev/null)" \
	delivered_with pass '^Authentication-Results: mx\.test; spf=pass smtp\.mailfrom=a@pass\.example; dmarc=pass header\.from=pass\.example policy\.dmarc=reject$'
f=$(grep -l '^X-Test: pass$' "$PF_DIR"/maildir/carol/new/* 2>/dev/null | head -1)
check pass-one-ar "Authentication-Results fields: $(grep -c '^Authentication-Results' "${f:-/dev/null}")" \
	test "$(grep -c '^Authentication-Results' "${f:-/dev/null}")" = 1

# p=reject, no aligned identifier: 550 5.7.1 naming the domain's policy
send reject "$RG_SMTP_PORT" x@elsewhere.example carol@local.test --header "From: B <b@rej.example>"
check reject-550 "transcript: $(grep '^<' "$DIR/reject.txt" | tail -2)" \
	transcript reject "550 5\.7\.1 Unauthenticated mail from rej\.example rejected by the domain's DMARC policy"

# p=quarantine: accepted into the hold queue, not delivered
send quarantine "$RG_SMTP_PORT" x@elsewhere.example carol@local.test --header "From: C <c@quar.example>"
check quarantine-accepted "transcript: $(grep '^<' "$DIR/quarantine.txt" | tail -2)" \
	transcript quarantine '250 '
pf_wait_held 1 10
qid=$(pf_held | head -1)
check quarantine-held "postqueue -j: $(postqueue -c "$PF_CONF" -j 2>&1 | head -3)" test -n "$qid"
pc=$(postcat -c "$PF_CONF" -q "$qid" 2>&1)
check quarantine-held-ar "postcat: $(grep -i 'authentication-results' <<<"$pc" | head -1)" \
	grep -q 'Authentication-Results: mx\.test; spf=none smtp\.mailfrom=x@elsewhere\.example; dmarc=fail header\.from=quar\.example policy\.dmarc=quarantine' <<<"$pc"
check quarantine-not-delivered "held mail arrived" test "$(delivered_count quarantine)" = 0

# dmarc_enforce = no (SIGHUP): the p=reject failure is delivered, tagged
sed -i 's/^dmarc_enforce = yes$/dmarc_enforce = no/' "$CONF"
kill -HUP "$RG_PID"
sleep 1
send tagged "$RG_SMTP_PORT" x@elsewhere.example carol@local.test --header "From: B <b@rej.example>"
pf_wait_maildir carol 2 15
check tag-only-delivered "no dmarc=fail: $(grep -h '^Authentication-Results' "$PF_DIR"/maildir/carol/new/* 2>/dev/null | tail -1)" \
	delivered_with tagged 'dmarc=fail header\.from=rej\.example policy\.dmarc=reject$'
postsuper -c "$PF_CONF" -d ALL hold >/dev/null 2>&1
