#!/usr/bin/env bash
# tests/scenarios/dnsbl.sh - DNS blocklists through "relayguard check":
# client (IPv4, IPv6, IPv4-mapped), HELO, sender and URI lists served by
# a DNS server on loopback (knot behind the dropping proxy, tests/dns.sh):
# listed, not listed, blocked-answer codes, answers outside 127/8,
# bitmask codes, timeouts (the proxy's drop file), links from text and
# HTML (registered domains by the Public Suffix List, IP links reversed,
# IDN), hostile names, the dnsbl_max_queries cap; and bad dnsbl_list
# lines under -n (FILE:LINE).
#
# Not replayed by tests/milter/differential.sh: the replay runs after this
# script has stopped its DNS server.
set -u
[ -n "${RG_DIFF_DIR:-}" ] && exit 0
. "$(dirname "$0")/lib.sh"
. "$RG_TOP/tests/dns.sh"
echo "DNS blocklist scenarios (relayguard check, zones on a loopback DNS server)"
trap 'dns_stop >/dev/null 2>&1' EXIT
if ! dns_start "$dir/dns" >"$dir/dns-setup.log" 2>&1; then
	t_fail dnsbl/setup "dns_start: $(tail -3 "$dir/dns-setup.log")"
	exit 0
fi
z=$(dns_zone_file)
a() { echo "$1. 0 IN A $2" >>"$z"; }
txt() { echo "$1. 0 IN TXT \"$2\"" >>"$z"; }
# client list bl.test: 192.0.2.1 SBL, 192.0.2.2 XBL (two answers), 192.0.2.3
# blocked (Spamhaus 127.255.255.254), 192.0.2.4 outside 127/8, 192.0.2.5
# unknown code, 192.0.2.6 dropped (times out); 2001:db8::1 listed
a 1.2.0.192.bl.test 127.0.0.2
txt 1.2.0.192.bl.test "Listed, see https://bl.test/q?192.0.2.1"
a 2.2.0.192.bl.test 127.0.0.4
a 2.2.0.192.bl.test 127.0.0.10
a 3.2.0.192.bl.test 127.255.255.254
a 4.2.0.192.bl.test 10.0.0.1
a 5.2.0.192.bl.test 127.0.0.99
a 6.2.0.192.bl.test 127.0.0.2
echo "6.2.0.192.bl.test" >"$(dns_drop_file)"
a 1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.test 127.0.0.2
# domain list dbl.test: HELO, sender and links
a spam-helo.test.dbl.test 127.0.1.2
a spammer.test.dbl.test 127.0.1.2
a evil.co.uk.dbl.test 127.0.1.4
a xn--bcher-kva.test.dbl.test 127.0.1.2
# URI list uri.test (bitmask, 127.0.0.1 = refused)
a evil.co.uk.uri.test 127.0.0.2
a grey.test.uri.test 127.0.0.12
a 7.113.0.203.uri.test 127.0.0.2
a refused.test.uri.test 127.0.0.1
if ! dns_reload >>"$dir/dns-setup.log" 2>&1; then
	t_fail dnsbl/setup "dns_reload: $(tail -3 "$dir/dns-setup.log")"
	exit 0
fi

# the lists as dnsbl_list lines (with spaces: appended after rg_conf)
BL="dnsbl_list = bl bl.test client 127.0.0.2=RBL_BL_SBL:4 127.0.0.4-7=RBL_BL_XBL:5 127.0.0.[10..11]=RBL_BL_PBL:1.5 blocked=127.255.255.252,127.255.255.254,127.255.255.255"
BLREJ="dnsbl_list = bl bl.test client reject 127.0.0.2=RBL_BL_SBL:4 127.0.0.4-7=RBL_BL_XBL:5 127.0.0.[10..11]=RBL_BL_PBL:1.5"
DBL="dnsbl_list = dbl dbl.test helo,sender,uri 127.0.1.2=DBL_SPAM:5 127.0.1.4-6=DBL_PHISH:7"
URI="dnsbl_list = uri uri.test uri &2=URIBL_BLACK:4 &4=URIBL_GREY:1 &8=URIBL_RED:1 blocked=127.0.0.1"
extra=""
eval "$(declare -f rg_conf | sed '1s/^rg_conf/rg_conf_base/')"
rg_conf() { rg_conf_base "$@"; [ -z "$extra" ] || printf '%s\n' "$extra" >>"$1"; }

base="spam=no dnsbl_timeout=1s"
inb() { echo "--client-ip $1 --helo ${2:-mail.example.org} --mail-from ${3:-a@example.org} --rcpt bob@mx.test"; }
msg() {
	printf 'From: a@example.org\r\nTo: bob@mx.test\r\nSubject: %s\r\nDate: Tue, 1 Dec 2026 10:00:00 +0000\r\nMessage-ID: <%s@x.test>\r\n\r\n%s\r\n' "$1" "$1" "${2:-Hello.}"
}

# --- client lists ---
extra="$BL"
want="verdict: accept
symbol: RBL_BL_SBL 4.00 bl.test 192.0.2.1=127.0.0.2"
scenario client-listed "$base" "$(inb 192.0.2.1)" < <(msg c1)
want="verdict: accept
symbol: RBL_BL_XBL 5.00 bl.test 192.0.2.2=127.0.0.4
symbol: RBL_BL_PBL 1.50 bl.test 192.0.2.2=127.0.0.10"
scenario client-two-codes "$base" "$(inb 192.0.2.2)" < <(msg c2)
want="verdict: accept"
never="symbol: RBL_
symbol: DNSBL"
scenario client-not-listed "$base" "$(inb 192.0.2.99)" < <(msg c3)
want="symbol: DNSBL_BLOCKED 0.00 bl.test 192.0.2.3=127.255.255.254: query refused"
never="symbol: RBL_"
scenario client-blocked-code "$base" "$(inb 192.0.2.3)" < <(msg c4)
want="symbol: DNSBL_ERROR 0.00 bl.test 192.0.2.4=10.0.0.1: outside 127/8"
never="symbol: RBL_"
scenario client-answer-not-local "$base" "$(inb 192.0.2.4)" < <(msg c5)
want="verdict: accept"
never="symbol: RBL_
symbol: DNSBL"
scenario client-unknown-code "$base" "$(inb 192.0.2.5)" < <(msg c6)
want="verdict: accept
symbol: DNSBL_ERROR 0.00 bl.test 192.0.2.6: timeout timed out"
never="symbol: RBL_"
scenario client-timeout "$base" "$(inb 192.0.2.6)" < <(msg c7)
want="symbol: RBL_BL_SBL 4.00 bl.test 2001:db8::1=127.0.0.2"
scenario client-ipv6-nibbles "$base" "$(inb 2001:db8::1)" < <(msg c8)
want="symbol: RBL_BL_SBL 4.00 bl.test 192.0.2.1=127.0.0.2"
scenario client-ipv4-mapped "$base" "$(inb ::ffff:192.0.2.1)" < <(msg c9)
want="verdict: accept
symbol: TRUSTED_NETWORK 0.00 192.0.2.1"
never="symbol: RBL_"
scenario client-trusted-not-looked-up "$base trusted_networks=192.0.2.0/24" "$(inb 192.0.2.1)" < <(msg c10)

# reject at RCPT, Postfix's words, the TXT record in the reply
extra="$BLREJ"
want="verdict: reject
reply: 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using bl.test; Listed, see https://bl.test/q?192.0.2.1"
scenario client-reject-rcpt "$base" "$(inb 192.0.2.1)" < <(msg r1)
want="verdict: reject
reply: 554 5.7.1 Service unavailable; Client host [192.0.2.2] blocked using bl.test"
scenario client-reject-no-txt "$base" "$(inb 192.0.2.2)" < <(msg r2)
want="verdict: reject
reply: 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using bl.test; Listed, see https://bl.test/q?192.0.2.1"
scenario client-reject-connect "$base dnsbl_reject_stage=connect" "$(inb 192.0.2.1)" < <(msg r3)
want="verdict: accept"
never="verdict: reject"
scenario client-reject-authenticated "$base" "$(inb 192.0.2.1) --auth-user bob" < <(msg r4)
want="verdict: accept"
never="verdict: reject
symbol: DNSBL_REJECT"
scenario client-reject-blocked-code "$base" "$(inb 192.0.2.3)" < <(msg r5)
scenario client-reject-timeout "$base" "$(inb 192.0.2.6)" < <(msg r6)
# reject=CODES: SBL refuses, XBL and PBL (192.0.2.2: .4 and .10) only score
extra="${BLREJ/ reject / reject=127.0.0.2 }"
want="verdict: reject
reply: 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using bl.test; Listed, see https://bl.test/q?192.0.2.1"
scenario client-reject-codes-listed "$base" "$(inb 192.0.2.1)" < <(msg r7)
want="verdict: accept
symbol: RBL_BL_XBL 5.00 bl.test 192.0.2.2=127.0.0.4"
never="verdict: reject"
scenario client-reject-codes-other "$base" "$(inb 192.0.2.2)" < <(msg r8)

# --- HELO and sender domains ---
extra="$DBL"
want="symbol: DBL_SPAM 5.00 dbl.test spam-helo.test=127.0.1.2"
scenario helo-listed "$base" "$(inb 192.0.2.99 spam-helo.test)" < <(msg h1)
want="symbol: DBL_SPAM 5.00 dbl.test spammer.test=127.0.1.2"
scenario sender-listed "$base" "$(inb 192.0.2.99 mail.example.org x@spammer.test)" < <(msg h2)
want="verdict: accept"
never="symbol: DBL_
symbol: DNSBL"
for h in '[192.0.2.1]' 'localhost' "$(printf 'a%.0s' {1..300}).test" 'bad..name.test' 'x;y.test' '192.0.2.1'; do
	scenario "helo-hostile-$(echo "$h" | md5sum | cut -c1-6)" "$base" "--client-ip 192.0.2.99 --helo $h --mail-from a@example.org --rcpt bob@mx.test" < <(msg h3)
	want="verdict: accept"
	never="symbol: DBL_
symbol: DNSBL"
done
want="" never=""

# --- links (URIBL) from text and HTML ---
extra="$DBL
$URI"
want="symbol: DBL_PHISH 7.00 dbl.test evil.co.uk=127.0.1.4
symbol: URIBL_BLACK 4.00 uri.test evil.co.uk=127.0.0.2"
scenario uri-text-registered "$base" "$(inb 192.0.2.99)" < <(msg u1 "See http://www.login.evil.co.uk/x?y=1 now")
want="symbol: URIBL_GREY 1.00 uri.test grey.test=127.0.0.12
symbol: URIBL_RED 1.00 uri.test grey.test=127.0.0.12
symbol: URIBL_BLACK 4.00 uri.test 203.0.113.7=127.0.0.2"
scenario uri-html-bits-and-ip "$base" "$(inb 192.0.2.99)" <<'EOF'
From: a@example.org
To: bob@mx.test
Subject: html
Date: Tue, 1 Dec 2026 10:00:00 +0000
Message-ID: <u2@x.test>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<html><body><a href="https://a.b.grey.test/">click</a> <img src="http://203.0.113.7/p.gif">
<a href="http://[2001:db8::7]/">six</a></body></html>
EOF
want="symbol: DNSBL_BLOCKED 0.00 uri.test refused.test=127.0.0.1: query refused"
never="symbol: URIBL_"
scenario uri-refused "$base" "$(inb 192.0.2.99)" < <(msg u3 "http://refused.test/")
want="symbol: DBL_SPAM 5.00 dbl.test xn--bcher-kva.test=127.0.1.2"
scenario uri-idn "$base" "$(inb 192.0.2.99)" < <(msg u4 "http://www.bücher.test/")
want="verdict: accept"
never="symbol: URIBL_
symbol: DBL_"
scenario uri-public-suffix-only "$base" "$(inb 192.0.2.99)" < <(msg u5 "http://co.uk/ http://localhost/")
# thousands of links: at most dnsbl_max_queries lookups, the cap logged
links=$(for i in $(seq 1 3000); do printf 'http://host%d.example%d.test/ ' "$i" "$i"; done)
want="verdict: accept"
scenario uri-many-links "$base mime_max_links=5000 dnsbl_max_queries=20" "$(inb 192.0.2.99)" < <(msg u6 "$links")
if grep -q 'links not looked up (dnsbl_max_queries 20)' "$dir/uri-many-links.err"; then
	t_pass check/uri-many-links-capped
else
	t_fail check/uri-many-links-capped "no cap in $dir/uri-many-links.err"
fi
# a spam score from a URIBL hit: tagged by the spam engine's thresholds
want="verdict: accept
header: X-Spam-Flag: YES"
scenario uri-scored-tagged "spam=yes bayes=no spam_tag_score=5 dnsbl_timeout=1s" "$(inb 192.0.2.99)" < <(msg u7 "http://evil.co.uk/")
extra=""

# --- bad lines: relayguard -n says FILE:LINE ---
badline() {
	local name=$1 line=$2 expect=$3 out rc=0
	rg_conf "$conf"
	printf '%s\n' "$line" >>"$conf"
	local n
	n=$(wc -l <"$conf")
	out=$("$RG_BIN" -c "$conf" -n 2>&1) || rc=$?
	if [ "$rc" != 0 ] && grep -qF "$conf:$n: $expect" <<<"$out"; then
		t_pass "check/conf-$name"
	else
		t_fail "check/conf-$name" "exit $rc: $out"
	fi
}
badline code-outside "dnsbl_list = x bl.test client 10.0.0.2=RBL_X:1" 'list x: answer code "10.0.0.2" is outside 127.0.0.0/8'
badline no-rule "dnsbl_list = x bl.test client reject" 'list x: no CODES=SYMBOL:WEIGHT rule'
badline bad-what "dnsbl_list = x bl.test ip 127.0.0.2=RBL_X:1" 'list x: bad "ip"'
badline bad-weight "dnsbl_list = x bl.test client 127.0.0.2=RBL_X:lots" 'list x: bad weight "lots" for RBL_X'
badline fixed-symbol "dnsbl_list = x bl.test client 127.0.0.2=SPF_FAIL:1" 'list x: SPF_FAIL is a symbol of relayguard'
badline reject-uri "dnsbl_list = x uri.test uri reject 127.0.0.2=URIBL_X:1" 'list x: reject is for client lists only'
badline bad-zone "dnsbl_list = x bl..test client 127.0.0.2=RBL_X:1" 'list x: bad zone "bl..test"'
badline bad-stage "dnsbl_reject_stage = helo" 'bad value "helo" for dnsbl_reject_stage'
