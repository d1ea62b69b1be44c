#!/usr/bin/env bash
# tests/e2e/postfix_spf.sh - SPF behind a real Postfix, with a real DNS
# server (knot, tests/dns.sh) on loopback.  Postfix hands relayguard the
# client 127.0.0.1: a domain whose record permits it gets spf=pass in
# Authentication-Results and a Received-SPF header; a "-all" domain gets
# spf=fail, or 550 5.7.23 when spf_fail_action = reject; a domain whose
# DNS server stops answering gets temperror within the time budget, never
# a hang, and 451 4.7.24 when spf_temperror_action = tempfail.  A forged
# Authentication-Results with our authserv-id is removed.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$RG_TOP/tests/postfix.sh"
. "$RG_TOP/tests/dns.sh"
. "$RG_TOP/tests/e2e/lib.sh"
T=e2e-spf
DIR=$RG_TMP/e2e-spf
rm -rf "$DIR" && mkdir -p "$DIR"
CONF=$DIR/rg.conf
LOG=$DIR/relayguard.log
cleanup() { rg_stop >/dev/null 2>&1; pf_stop >/dev/null 2>&1; dns_stop >/dev/null 2>&1; }
trap cleanup EXIT

echo "end to end: SPF through Postfix with a DNS server on loopback"
dns_start "$DIR/dns" >"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "dns_start: $(tail -3 "$DIR/setup.log")"; exit 0; }
cat >>"$(dns_zone_file)" <<'ZONE'
permit.example.	60 IN TXT "v=spf1 ip4:127.0.0.0/8 -all"
deny.example.	60 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
soft.example.	60 IN TXT "v=spf1 ~all"
slow.example.	60 IN TXT "v=spf1 -all"
ZONE
echo "slow.example" >"$(dns_drop_file)"
dns_reload >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "dns_reload failed"; exit 0; }
pf_setup "$DIR/postfix" >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "pf_setup failed"; exit 0; }
pf_start >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "pf_start failed"; exit 0; }
rg_conf "$CONF" "spf=yes" "resolver=127.0.0.1@$RG_DNSPROXY_PORT" "dns_timeout=1s" "spf_timeout=3s"
rg_start "$CONF" "$LOG" || { t_fail "$T/setup" "relayguard: $(tail -3 "$LOG")"; exit 0; }

# pass: delivered with spf=pass and Received-SPF
send pass "$RG_SMTP_PORT" a@permit.example carol@local.test \
	--header "Authentication-Results: mx.test; spf=pass smtp.mailfrom=forged@permit.example"
pf_wait_maildir carol 1 15
check pass-ar "no spf=pass: $(grep -h '^Authentication-Results' "$PF_DIR"/maildir/carol/new/* 2>/dev/null)" \
	delivered_with pass '^Authentication-Results: mx\.test; spf=pass smtp\.mailfrom=a@permit\.example$'
check pass-received-spf "no Received-SPF: pass" \
	delivered_with pass '^Received-SPF: pass \(mx\.test: domain of a@permit\.example designates 127\.0\.0\.1 as permitted sender\) client-ip=127\.0\.0\.1; envelope-from="a@permit\.example"'
f=$(grep -l '^X-Test: pass$' "$PF_DIR"/maildir/carol/new/* 2>/dev/null | head -1)
check forged-ar-removed "forged Authentication-Results kept" \
	test -n "$f" -a "$(grep -c 'forged@permit' "${f:-/dev/null}")" = 0

# fail, tagged (the default)
send fail-tag "$RG_SMTP_PORT" a@deny.example carol@local.test
pf_wait_maildir carol 2 15
check fail-tagged "no spf=fail" \
	delivered_with fail-tag '^Authentication-Results: mx\.test; spf=fail smtp\.mailfrom=a@deny\.example$'

# softfail, tagged
send soft "$RG_SMTP_PORT" a@soft.example carol@local.test
pf_wait_maildir carol 3 15
check softfail-tagged "no spf=softfail" delivered_with soft 'spf=softfail smtp\.mailfrom=a@soft\.example'

# the DNS server stops answering: temperror within the budget
start=$(date +%s)
send slow "$RG_SMTP_PORT" a@slow.example carol@local.test
took=$(( $(date +%s) - start ))
pf_wait_maildir carol 4 15
check temperror-tagged "no spf=temperror" delivered_with slow 'spf=temperror smtp\.mailfrom=a@slow\.example'
check temperror-within-budget "took ${took}s (budget 3s)" test "$took" -le 8

# now with actions: reject fail, tempfail temperror
sed -i '/^spf_/d' "$CONF"
printf 'spf_fail_action = reject\nspf_temperror_action = tempfail\n' >>"$CONF"
kill -HUP "$RG_PID"
sleep 1
send fail-reject "$RG_SMTP_PORT" a@deny.example carol@local.test
check fail-550 "transcript: $(grep '^<' "$DIR/fail-reject.txt" | tail -2)" \
	transcript fail-reject '550 5\.7\.23 <a@deny\.example>: SPF check failed: domain of a@deny\.example does not designate 127\.0\.0\.1 as permitted sender'
send slow-tempfail "$RG_SMTP_PORT" a@slow.example carol@local.test
check temperror-451 "transcript: $(grep '^<' "$DIR/slow-tempfail.txt" | tail -2)" \
	transcript slow-tempfail '451 4\.7\.24'
send pass-again "$RG_SMTP_PORT" a@permit.example carol@local.test
pf_wait_maildir carol 5 15
check pass-still-delivered "pass not delivered" delivered_with pass-again 'spf=pass'
sleep 1
check rejected-not-delivered "rejected mail arrived" \
	test "$(delivered_count fail-reject)$(delivered_count slow-tempfail)" = 00
