#!/usr/bin/env bash
# tests/scenarios/dmarc.sh - DMARC (RFC 9989) through "relayguard check",
# records, SPF records and DKIM keys served by a DNS server on loopback
# (knot behind the dropping proxy, tests/dns.sh); messages signed by
# dkimpy (Debian's python3-dkim).
#
# Not replayed by tests/milter/differential.sh: the replay runs after this
# script has stopped its DNS server.
set -u
[ -n "${RG_DIFF_DIR:-}" ] && exit 0
. "$(dirname "$0")/lib.sh"
. "$RG_TOP/tests/dns.sh"
echo "DMARC scenarios (relayguard check, records on a loopback DNS server)"
PY=/usr/bin/python3
K=$dir/keys
mkdir -p "$K"
trap 'dns_stop >/dev/null 2>&1' EXIT
if ! dns_start "$dir/dns" >"$dir/dns-setup.log" 2>&1; then
	t_fail dmarc/setup "dns_start: $(tail -3 "$dir/dns-setup.log")"
	exit 0
fi
z=$(dns_zone_file)
txt() { echo "$1. 0 IN TXT \"$2\"" >>"$z"; }
a() { echo "$1. 0 IN A 192.0.2.99" >>"$z"; }
spf="v=spf1 ip4:192.0.2.1 -all"

(cd "$K" && opendkim-genkey -b 2048 -d dk.test -s s) >>"$dir/dns-setup.log" 2>&1
$PY - "$K/s.txt" >>"$z" <<'EOF'
import re, sys
v = "".join(re.findall(r'"([^"]*)"', open(sys.argv[1]).read()))
print("s._domainkey.dk.test. 0 IN TXT " + " ".join('"%s"' % v[i:i + 250] for i in range(0, len(v), 250)))
EOF
# one domain a case
txt _dmarc.rej.test "v=DMARC1; p=reject"; txt rej.test "$spf"; a rej.test
txt _dmarc.quar.test "v=DMARC1; p=quarantine"; a quar.test
txt _dmarc.tst.test "v=DMARC1; p=reject; t=y"; a tst.test
txt _dmarc.dk.test "v=DMARC1; p=reject"; a dk.test
# sp= for existing subdomains, np= for non-existent ones
txt _dmarc.org.test "v=DMARC1; p=none; sp=reject; np=quarantine"; a org.test
a sub.org.test
# a public suffix operator's record (psd=y) and a strict domain
txt _dmarc.psd.test "v=DMARC1; p=reject; psd=y"
a brand.psd.test; a other.psd.test
txt other.psd.test "$spf"; txt bounce.brand.psd.test "$spf"
txt _dmarc.psdn.test "v=DMARC1; p=reject; psd=n"
a x.psdn.test; txt y.psdn.test "$spf"
txt _dmarc.strict.test "V = DMARC1 ; P = Reject ; ASPF = s"; a strict.test
txt _dmarc.relaxed.test "v=DMARC1; p=reject"; a relaxed.test
txt mail.strict.test "$spf"; txt mail.relaxed.test "$spf"
# a deep subdomain: 9 labels, the record at its organization
txt _dmarc.deep.test "v=DMARC1; p=reject"; txt deep.test "$spf"
a a.b.c.d.e.f.g.deep.test
# a real suffix: the PSL (RFC 7489) and the tree walk disagree
txt _dmarc.mail.example.co.uk "v=DMARC1; p=reject; psd=n"; txt mail.example.co.uk "$spf"
# an internationalized From domain (RFC 6532): bücher.test
txt _dmarc.xn--bcher-kva.test "v=DMARC1; p=reject"; a xn--bcher-kva.test
# two records at one name; no record; a lookup that times out
txt _dmarc.dup.test "v=DMARC1; p=reject"; txt _dmarc.dup.test "v=DMARC1; p=none"
a dup.test
txt norec.test "$spf"; a norec.test
a slow.test
echo "_dmarc.slow.test" >"$(dns_drop_file)"
if ! dns_reload >>"$dir/dns-setup.log" 2>&1; then
	t_fail dmarc/setup "dns_reload: $(tail -3 "$dir/dns-setup.log")"
	exit 0
fi

base="dmarc=yes spf=yes spf_helo=no resolver=127.0.0.1@$RG_DNSPROXY_PORT dns_timeout=1s"
# inb FROM_ADDR [MAIL_FROM] - the command line of an inbound message
inb() { echo "--client-ip 192.0.2.1 --helo mail.test --mail-from ${2:-$1} --rcpt bob@mx.test"; }
msg() {
	printf 'From: %s\r\nTo: bob@mx.test\r\nSubject: %s\r\nDate: Tue, 1 Dec 2026 10:00:00 +0000\r\nMessage-ID: <%s@x.test>\r\n\r\nHello.\r\n' "$1" "$2" "$2"
}
ar() { echo "header: Authentication-Results: mx.test; $*"; }

# --- pass by aligned SPF; fail with p=reject, tagged, then enforced ---
want="verdict: accept
$(ar "spf=pass smtp.mailfrom=a@rej.test; dmarc=pass header.from=rej.test policy.dmarc=reject")
symbol: DMARC_PASS -0.20 rej.test: p=reject at rej.test org rej.test: aligned spf rej.test"
never="DMARC_POLICY"
scenario dmarc-pass-spf "$base" "$(inb a@rej.test)" < <(msg a@rej.test pass-spf)

want="verdict: accept
$(ar "spf=none smtp.mailfrom=x@elsewhere.test; dmarc=fail header.from=rej.test policy.dmarc=reject")
symbol: DMARC_FAIL 1.00 rej.test: p=reject at rej.test org rej.test: applied reject (no aligned DKIM or SPF pass)
symbol: DMARC_POLICY_REJECT 0.00 rej.test: p=reject"
scenario dmarc-fail-reject-tagged "$base" "$(inb a@rej.test x@elsewhere.test)" < <(msg a@rej.test fail-tag)

want="verdict: reject
reply: 550 5.7.1 Unauthenticated mail from rej.test rejected by the domain's DMARC policy"
never="header:"
scenario dmarc-fail-reject-enforced "$base dmarc_enforce=yes" "$(inb a@rej.test x@elsewhere.test)" < <(msg a@rej.test fail-enf)

want="verdict: accept"
scenario dmarc-exempt-domain "$base dmarc_enforce=yes dmarc_exempt_domains=rej.test" "$(inb a@rej.test x@elsewhere.test)" < <(msg a@rej.test exempt)

# an SPF fail is no pass either
want="$(ar "spf=fail smtp.mailfrom=a@rej.test; dmarc=fail header.from=rej.test policy.dmarc=reject")"
scenario dmarc-spf-fail "$base" "--client-ip 192.0.2.7 --helo mail.test --mail-from a@rej.test --rcpt bob@mx.test" < <(msg a@rej.test spf-fail)

# --- p=quarantine: held when enforced; t=y lowers reject to quarantine ---
want="verdict: quarantine
$(ar "spf=none smtp.mailfrom=x@elsewhere.test; dmarc=fail header.from=quar.test policy.dmarc=quarantine")
symbol: DMARC_POLICY_QUARANTINE 0.00 quar.test: p=quarantine"
scenario dmarc-quarantine-enforced "$base dmarc_enforce=yes" "$(inb a@quar.test x@elsewhere.test)" < <(msg a@quar.test quar)

want="verdict: quarantine
$(ar "spf=none smtp.mailfrom=x@elsewhere.test; dmarc=fail header.from=tst.test policy.dmarc=quarantine")
symbol: DMARC_FAIL 1.00 tst.test: p=reject t=y at tst.test org tst.test: applied quarantine (no aligned DKIM or SPF pass)"
never="DMARC_POLICY_REJECT"
scenario dmarc-testing-lowers "$base dmarc_enforce=yes" "$(inb a@tst.test x@elsewhere.test)" < <(msg a@tst.test tst)

# --- sp= on an existing subdomain, np= on a non-existent one ---
want="verdict: reject
symbol: DMARC_FAIL 1.00 sub.org.test: p=reject at org.test org org.test: applied reject (no aligned DKIM or SPF pass)"
scenario dmarc-sp-subdomain "$base dmarc_enforce=yes" "$(inb a@sub.org.test x@elsewhere.test)" < <(msg a@sub.org.test sp)

want="verdict: quarantine
symbol: DMARC_FAIL 1.00 ghost.org.test: p=quarantine (np) at org.test org org.test: applied quarantine (no aligned DKIM or SPF pass)"
scenario dmarc-np-nonexistent "$base dmarc_enforce=yes" "$(inb a@ghost.org.test x@elsewhere.test)" < <(msg a@ghost.org.test np)

want="verdict: accept
symbol: DMARC_FAIL 1.00 org.test: p=none at org.test org org.test: applied none (no aligned DKIM or SPF pass)"
never="DMARC_POLICY"
scenario dmarc-p-none-organization "$base dmarc_enforce=yes" "$(inb a@org.test x@elsewhere.test)" < <(msg a@org.test pnone)

# --- psd=y: the organization is one below the public suffix; another
# organization under it is not aligned, a subdomain of the same one is ---
want="verdict: reject
symbol: DMARC_FAIL 1.00 brand.psd.test: p=reject at psd.test org brand.psd.test: applied reject (no aligned DKIM or SPF pass)"
scenario dmarc-psd-not-aligned "$base dmarc_enforce=yes" "$(inb a@brand.psd.test x@other.psd.test)" < <(msg a@brand.psd.test psd1)

want="verdict: accept
symbol: DMARC_PASS -0.20 brand.psd.test: p=reject at psd.test org brand.psd.test: aligned spf bounce.brand.psd.test"
scenario dmarc-psd-aligned "$base dmarc_enforce=yes" "$(inb a@brand.psd.test x@bounce.brand.psd.test)" < <(msg a@brand.psd.test psd2)

# psd=n: the record's domain is the organization, its subdomains align
want="verdict: accept
symbol: DMARC_PASS -0.20 x.psdn.test: p=reject at psdn.test org psdn.test: aligned spf y.psdn.test"
scenario dmarc-psd-n-aligned "$base dmarc_enforce=yes" "$(inb a@x.psdn.test x@y.psdn.test)" < <(msg a@x.psdn.test psdn)

# --- relaxed against strict SPF alignment (tags and values in any case) ---
want="symbol: DMARC_PASS -0.20 relaxed.test: p=reject at relaxed.test org relaxed.test: aligned spf mail.relaxed.test"
scenario dmarc-relaxed-aligned "$base" "$(inb a@relaxed.test x@mail.relaxed.test)" < <(msg a@relaxed.test relaxed)

want="verdict: reject
symbol: DMARC_FAIL 1.00 strict.test: p=reject at strict.test org strict.test: applied reject (no aligned DKIM or SPF pass)"
scenario dmarc-strict-not-aligned "$base dmarc_enforce=yes" "$(inb a@strict.test x@mail.strict.test)" < <(msg a@strict.test strict)

# --- the tree walk from 9 labels up to the organization's record ---
want="verdict: accept
symbol: DMARC_PASS -0.20 a.b.c.d.e.f.g.deep.test: p=reject at deep.test org deep.test: aligned spf deep.test"
scenario dmarc-tree-walk-deep "$base dmarc_enforce=yes" "$(inb a@a.b.c.d.e.f.g.deep.test x@deep.test)" < <(msg a@a.b.c.d.e.f.g.deep.test deep)

# the PSL's organizational domain is named where it differs
want="symbol: DMARC_PASS -0.20 mail.example.co.uk: p=reject at mail.example.co.uk org mail.example.co.uk psl-org example.co.uk: aligned spf mail.example.co.uk"
scenario dmarc-psl-differs "$base" "$(inb a@mail.example.co.uk)" < <(msg a@mail.example.co.uk psl)

# a From domain in UTF-8 is looked up as its A-label
want="verdict: reject
symbol: DMARC_FAIL 1.00 xn--bcher-kva.test: p=reject at xn--bcher-kva.test org xn--bcher-kva.test: applied reject (no aligned DKIM or SPF pass)"
scenario dmarc-idn-from "$base dmarc_enforce=yes" "$(inb a@rej.test)" < <(msg "$(printf 'a@b\xc3\xbccher.test')" idn)

# --- no record; two records at one name; a DNS timeout ---
want="verdict: accept
$(ar "spf=pass smtp.mailfrom=a@norec.test; dmarc=none header.from=norec.test policy.dmarc=none")
symbol: DMARC_NONE 0.00 norec.test: no DMARC record"
scenario dmarc-no-record "$base dmarc_enforce=yes" "$(inb a@norec.test)" < <(msg a@norec.test none)

want="verdict: accept
symbol: DMARC_NONE 0.00 dup.test: _dmarc.dup.test: 2 DMARC records"
scenario dmarc-two-records "$base dmarc_enforce=yes" "$(inb a@dup.test x@elsewhere.test)" < <(msg a@dup.test dup)

want="verdict: accept
$(ar "spf=none smtp.mailfrom=x@elsewhere.test; dmarc=temperror header.from=slow.test policy.dmarc=none")
symbol: DMARC_TEMPERROR 0.00 slow.test: DNS timeout for _dmarc.slow.test"
start=$(date +%s)
scenario dmarc-timeout-temperror "$base dmarc_enforce=yes" "$(inb a@slow.test x@elsewhere.test)" < <(msg a@slow.test slow)
took=$(($(date +%s) - start))
if [ "$took" -le 5 ]; then t_pass check/dmarc-timeout-within-budget; else t_fail check/dmarc-timeout-within-budget "took ${took}s"; fi

want="verdict: tempfail
reply: 451 4.4.3 slow.test: DMARC temporary error, try again later"
scenario dmarc-temperror-tempfail "$base dmarc_temperror_action=tempfail" "$(inb a@slow.test x@elsewhere.test)" < <(msg a@slow.test slow2)

# --- From with two domains: the strictest result stands; none: permerror
want="verdict: reject
reply: 550 5.7.1 Unauthenticated mail from rej.test rejected by the domain's DMARC policy
symbol: DMARC_FAIL 1.00 rej.test: p=reject at rej.test org rej.test: applied reject (no aligned DKIM or SPF pass)"
never="DMARC_PASS"
scenario dmarc-two-from-domains "$base dmarc_enforce=yes" "$(inb a@relaxed.test x@mail.relaxed.test)" < <(msg "a@relaxed.test, b@rej.test" twofrom)
want="verdict: accept
$(ar "spf=pass smtp.mailfrom=x@mail.relaxed.test; dmarc=pass header.from=relaxed.test policy.dmarc=reject")"
scenario dmarc-two-from-same-domain "$base dmarc_enforce=yes" "$(inb a@relaxed.test x@mail.relaxed.test)" < <(msg "a@relaxed.test, b@RELAXED.test" twosame)

{ printf 'From: a@relaxed.test\r\n'; msg b@rej.test twofields; } >"$K/twofields.eml"
want="verdict: reject
reply: 550 5.7.1 Unauthenticated mail from rej.test rejected by the domain's DMARC policy"
scenario dmarc-two-from-fields "$base dmarc_enforce=yes" "$(inb a@relaxed.test x@mail.relaxed.test)" <"$K/twofields.eml"

# a broken second From field does not hide a failing first one, nor do
# many passing domains before a failing one
{ printf 'From: <<<broken\r\n'; msg b@rej.test brokenfield; } >"$K/brokenfield.eml"
want="verdict: reject
reply: 550 5.7.1 Unauthenticated mail from rej.test rejected by the domain's DMARC policy"
scenario dmarc-broken-field-beside "$base dmarc_enforce=yes" "$(inb a@relaxed.test x@mail.relaxed.test)" <"$K/brokenfield.eml"
many=$(for i in $(seq 1 20); do printf 'u%d@relaxed.test, u%d@sub%d.relaxed.test, ' "$i" "$i" "$i"; done)
want="verdict: reject
reply: 550 5.7.1 Unauthenticated mail from rej.test rejected by the domain's DMARC policy"
scenario dmarc-many-from-domains "$base dmarc_enforce=yes" "$(inb a@relaxed.test x@mail.relaxed.test)" < <(msg "${many}last@rej.test" many)

want="$(ar "spf=pass smtp.mailfrom=a@rej.test; dmarc=permerror policy.dmarc=none")
symbol: DMARC_PERMERROR 0.00 -: no From field"
printf 'To: bob@mx.test\r\nSubject: nofrom\r\n\r\nHello.\r\n' >"$K/nofrom.eml"
scenario dmarc-no-from "$base" "$(inb a@rej.test)" <"$K/nofrom.eml"

want="symbol: DMARC_PERMERROR 0.00 -: From field syntax: "
want=""
never="DMARC_PASS"
scenario dmarc-malformed-from "$base dmarc_enforce=yes" "$(inb a@rej.test)" < <(msg 'a@@rej.test' malformed)
grep -q '^symbol: DMARC_PERMERROR 0.00 -: From field' "$dir/dmarc-malformed-from.out" &&
	t_pass check/dmarc-malformed-from-permerror ||
	t_fail check/dmarc-malformed-from-permerror "$(grep DMARC "$dir/dmarc-malformed-from.out")"

# --- pass by aligned DKIM (dkimpy signs); a From added after signing ---
msg a@dk.test dkim | $PY /usr/bin/dkimsign s dk.test "$K/s.private" >"$K/dk.eml"
want="verdict: accept
symbol: DMARC_PASS -0.20 dk.test: p=reject at dk.test org dk.test: aligned dkim d=dk.test"
scenario dmarc-pass-dkim "$base dkim=yes dmarc_enforce=yes" "$(inb a@dk.test x@elsewhere.test)" <"$K/dk.eml"
grep -q '^header: Authentication-Results: mx.test; spf=none smtp.mailfrom=x@elsewhere.test; dkim=pass header.d=dk.test .*; dmarc=pass header.from=dk.test policy.dmarc=reject$' "$dir/dmarc-pass-dkim.out" &&
	t_pass check/dmarc-pass-dkim-one-header ||
	t_fail check/dmarc-pass-dkim-one-header "$(grep Authentication "$dir/dmarc-pass-dkim.out")"

{ printf 'From: a@dk.test\r\n'; cat "$K/dk.eml"; } >"$K/dk-added.eml"
want="verdict: reject
reply: 550 5.7.1 Unauthenticated mail from dk.test rejected by the domain's DMARC policy"
never="DMARC_PASS"
scenario dmarc-from-added-after-signing "$base dkim=yes dmarc_enforce=yes" "$(inb a@dk.test x@elsewhere.test)" <"$K/dk-added.eml"

# outbound mail is not checked; dmarc = no
want="verdict: accept"
never="DMARC_
dmarc="
scenario dmarc-outbound-skipped "$base dmarc_enforce=yes" "--auth-user a --mail-from a@rej.test --rcpt bob@mx.test" < <(msg a@rej.test out)
scenario dmarc-off "${base/dmarc=yes/dmarc=no} dmarc_enforce=yes" "$(inb a@rej.test x@elsewhere.test)" < <(msg a@rej.test off)

# --- the report log: one JSON line an evaluation ---
rm -f "$dir/report.jsonl"
want="verdict: accept"
scenario dmarc-report-log "$base dmarc_report_log=$dir/report.jsonl" "$(inb a@rej.test x@elsewhere.test)" < <(msg a@rej.test report)
if $PY -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; assert len(r)==1 and r[0]["header_from"]=="rej.test" and r[0]["dmarc"]=="fail" and r[0]["disposition"]=="reject" and r[0]["spf"]["domain"]=="elsewhere.test", r' "$dir/report.jsonl" 2>"$dir/report.err"; then
	t_pass check/dmarc-report-json
else
	t_fail check/dmarc-report-json "$(cat "$dir/report.err" "$dir/report.jsonl" 2>&1 | tail -2)"
fi

# --- bad values of the dmarc keys are FILE:LINE errors at -n ---
for kv in "dmarc_enforce = maybe" "dmarc_timeout = 5x" "dmarc_reject_action = bounce"; do
	printf 'authserv_id = mx.test\n%s\n' "$kv" >"$dir/bad.conf"
	key=${kv%% *}
	if "$RG_BIN" -c "$dir/bad.conf" -n 2>"$dir/bad.err"; then
		t_fail "config/dmarc-bad-$key" "accepted: $kv"
	elif grep -q "^$dir/bad.conf:2: " "$dir/bad.err"; then
		t_pass "config/dmarc-bad-$key"
	else
		t_fail "config/dmarc-bad-$key" "$(head -1 "$dir/bad.err")"
	fi
done
