#!/usr/bin/env bash
# tests/e2e/postfix_dnsbl.sh - DNS blocklists behind a real Postfix, with
# a real DNS server (knot, tests/dns.sh) on loopback.  Postfix lets the
# test client name its address with XCLIENT (smtpd_authorized_xclient_hosts),
# so the milter sees 192.0.2.1 (listed) or 192.0.2.99 (not listed):
# the listed client is refused at RCPT with "554 5.7.1 Service
# unavailable; Client host [192.0.2.1] blocked using bl.test; TXT", as
# Postfix's reject_rbl_client says it; the unlisted one is delivered; a
# link on a URI list is scored and the message tagged X-Spam-Flag: YES.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$RG_TOP/tests/postfix.sh"
. "$RG_TOP/tests/dns.sh"
. "$RG_TOP/tests/e2e/lib.sh"
T=e2e-dnsbl
DIR=$RG_TMP/e2e-dnsbl
rm -rf "$DIR" && mkdir -p "$DIR"
CONF=$DIR/rg.conf
LOG=$DIR/relayguard.log
cleanup() { rg_stop >/dev/null 2>&1; pf_stop >/dev/null 2>&1; dns_stop >/dev/null 2>&1; }
trap cleanup EXIT

echo "end to end: DNS blocklists through Postfix with a DNS server on loopback"
dns_start "$DIR/dns" >"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "dns_start: $(tail -3 "$DIR/setup.log")"; exit 0; }
cat >>"$(dns_zone_file)" <<'ZONE'
1.2.0.192.bl.test.	60 IN A 127.0.0.2
1.2.0.192.bl.test.	60 IN TXT "Listed: see https://bl.test/192.0.2.1"
evil.example.uri.test.	60 IN A 127.0.0.2
ZONE
dns_reload >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "dns_reload failed"; exit 0; }
pf_setup "$DIR/postfix" >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "pf_setup failed"; exit 0; }
pf_conf "smtpd_authorized_xclient_hosts = 127.0.0.1" >>"$DIR/setup.log" 2>&1
pf_start >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "pf_start failed"; exit 0; }
rg_conf "$CONF" "resolver=127.0.0.1@$RG_DNSPROXY_PORT" "dnsbl_timeout=2s" \
	"spam=yes" "bayes=no" "spam_tag_score=4"
cat >>"$CONF" <<'EOF'
dnsbl_list = bl bl.test client reject 127.0.0.2-11=RBL_BL:4
dnsbl_list = uri uri.test uri &2=URIBL_BLACK:4.5 blocked=127.0.0.1
EOF
rg_start "$CONF" "$LOG" || { t_fail "$T/setup" "relayguard: $(tail -3 "$LOG")"; exit 0; }

# listed: refused at RCPT, the list and its TXT named
send listed "$RG_SMTP_PORT" a@example.org carol@local.test --xclient-addr 192.0.2.1
check listed-554 "transcript: $(last_reply listed)" \
	transcript listed '554 5\.7\.1 Service unavailable; Client host \[192\.0\.2\.1\] blocked using bl\.test; Listed: see https://bl\.test/192\.0\.2\.1'

# not listed: delivered, no blocklist symbol
send clean "$RG_SMTP_PORT" a@example.org carol@local.test --xclient-addr 192.0.2.99
pf_wait_maildir carol 1 15
check clean-delivered "not delivered: $(last_reply clean)" delivered_with clean '^X-Relayguard: .*verdict=accept'
check clean-no-listing "a listing in the log" \
	bash -c "! grep -q 'client=.*192.0.2.99.*RBL_BL' '$LOG'"

# a link on the URI list: scored and tagged
pf_send "$RG_SMTP_PORT" a@example.org carol@local.test --xclient-addr 192.0.2.99 \
	--header "Subject: uri" --header "X-Test: uri" \
	--body "Cheap pills at http://www.evil.example/buy now" >"$DIR/uri.txt" 2>&1
pf_wait_maildir carol 2 15
check uri-tagged "no X-Spam-Flag: $(grep -h '^X-Spam' "$PF_DIR"/maildir/carol/new/* 2>/dev/null)" \
	delivered_with uri '^X-Spam-Flag: YES'
check uri-scored "no URIBL_BLACK in X-Spam-Status" delivered_with uri '^X-Spam-Status: Yes, score=.*URIBL_BLACK'
check uri-logged "no URIBL_BLACK symbol in the log" \
	grep -q 'URIBL_BLACK(4.50){uri.test evil.example=127.0.0.2}' "$LOG"
sleep 1
check listed-not-delivered "the listed client's mail arrived" test "$(delivered_count listed)" = 0
