#!/usr/bin/env bash
# tests/scenarios/dkim.sh - DKIM through "relayguard check", keys served
# by a DNS server on loopback (knot behind the dropping proxy,
# tests/dns.sh).  Messages are signed by an independent signer, dkimpy
# (Debian's python3-dkim: dkimsign, and tests/tools/dkimtool for what
# dkimsign cannot write: x=, l=, no v=, rsa-sha1, Ed25519); relayguard's
# own signatures are checked by dkimpy against the same zone.
#
# Not replayed by tests/milter/differential.sh: the replay runs after
# this script has stopped its DNS server, so every key lookup would
# time out there.
set -u
[ -n "${RG_DIFF_DIR:-}" ] && exit 0
. "$(dirname "$0")/lib.sh"
. "$RG_TOP/tests/dns.sh"
echo "DKIM scenarios (relayguard check, keys on a loopback DNS server)"
PY=/usr/bin/python3
TOOL="$PY $RG_TOP/tests/tools/dkimtool"
K=$dir/keys
mkdir -p "$K"
trap 'dns_stop >/dev/null 2>&1' EXIT
if ! dns_start "$dir/dns" >"$dir/dns-setup.log" 2>&1; then
	t_fail dkim/setup "dns_start: $(tail -3 "$dir/dns-setup.log")"
	exit 0
fi
have_nacl=0
$PY -c 'import nacl.signing' 2>/dev/null && have_nacl=1

# zone_txt NAME VALUE - a TXT record, split into 250-byte strings
zone_txt() {
	$PY - "$1" "$2" >>"$(dns_zone_file)" <<'EOF'
import sys
name, v = sys.argv[1], sys.argv[2]
print(name + ". 0 IN TXT " + " ".join('"%s"' % v[i:i + 250]
                                      for i in range(0, len(v), 250)))
EOF
}
# rsa_key FILE BITS - a PEM RSA key; prints the p= value
rsa_key() {
	openssl genrsa -out "$1" "$2" 2>/dev/null && chmod 600 "$1" &&
		openssl rsa -in "$1" -pubout -outform DER 2>/dev/null | base64 -w0
}

# keys: opendkim-genkey (2048, 1024: h=sha256 in the record, as it
# writes), a record without h= for rsa-sha1, a 512-bit key, Ed25519
(cd "$K" && opendkim-genkey -b 2048 -d example.com -s s2048 &&
	opendkim-genkey -b 1024 -d example.com -s s1024) >>"$dir/dns-setup.log" 2>&1
rec() { tr -d '\n' <"$K/$1.txt" | grep -o '"[^"]*"' | tr -d '"\n\t'; }
zone_txt s2048._domainkey.example.com "$(rec s2048)"
zone_txt s1024._domainkey.example.com "$(rec s1024)"
zone_txt sha1ok._domainkey.example.com "v=DKIM1; k=rsa; p=$(openssl rsa -in "$K/s2048.private" -pubout -outform DER 2>/dev/null | base64 -w0)"
zone_txt small._domainkey.example.com "v=DKIM1; k=rsa; p=$(rsa_key "$K/small.pem" 512)"
zone_txt revoked._domainkey.example.com "v=DKIM1; k=rsa; p="
zone_txt broken._domainkey.example.com "v=DKIM1; k=rsa; p=%%%notbase64"
zone_txt slow._domainkey.example.com "$(rec s2048)"
if [ $have_nacl = 1 ]; then
	zone_txt ed._domainkey.example.com "v=DKIM1; k=ed25519; p=$($TOOL ed25519-key "$K/ed.key")"
fi
# relayguard's own signing keys
zone_txt rg._domainkey.example.com "v=DKIM1; k=rsa; p=$(rsa_key "$K/rg.pem" 2048)"
openssl genpkey -algorithm ed25519 -out "$K/rged.pem" 2>/dev/null && chmod 600 "$K/rged.pem"
zone_txt rged._domainkey.example.com "v=DKIM1; k=ed25519; p=$(openssl pkey -in "$K/rged.pem" -pubout -outform DER | tail -c 32 | base64 -w0)"
echo "slow._domainkey.example.com" >"$(dns_drop_file)"
if ! dns_reload >>"$dir/dns-setup.log" 2>&1; then
	t_fail dkim/setup "dns_reload: $(tail -3 "$dir/dns-setup.log")"
	exit 0
fi

base="dkim=yes resolver=127.0.0.1@$RG_DNSPROXY_PORT dns_timeout=1s dkim_timeout=3s"
in="--client-ip 192.0.2.1 --helo mail.example.com --mail-from alice@example.com --rcpt bob@mx.test"
plain() {
	printf 'From: Alice <alice@example.com>\r\nTo: bob@mx.test\r\nSubject: %s\r\nDate: Tue, 1 Dec 2026 10:00:00 +0000\r\nMessage-ID: <%s@example.com>\r\n\r\nHello there.\r\nSecond line.\r\n' "$1" "$1"
}
# sign NAME SELECTOR KEY [dkimtool options] - a signed message in $K/NAME.eml
sign() {
	local name=$1 sel=$2 key=$3
	shift 3
	plain "$name" | $TOOL sign "$sel" example.com "$key" "$@" >"$K/$name.eml"
}
# bpre FILE [N] - the header.b value of the Nth (1-based) signature
bpre() {
	$PY - "$1" "${2:-1}" <<'EOF'
import re, sys
m = open(sys.argv[1], "rb").read().split(b"\r\n\r\n")[0].replace(b"\r\n", b"\n")
sigs = re.findall(rb"(?im)^dkim-signature:(.*(?:\n[ \t].*)*)", m)
b = re.search(rb"(?:^|;)\s*b\s*=([^;]*)", sigs[int(sys.argv[2]) - 1]).group(1)
b = re.sub(rb"\s", b"", b)[:12].decode()
print('"%s"' % b if re.search(r'[()<>@,;:\\"/\[\]?=]', b) else b)
EOF
}
ar() { echo "header: Authentication-Results: mx.test; $*"; }

# --- pass: rsa-sha256 (dkimsign itself), 1024 bits, Ed25519 ---
plain rsa2048 | $PY /usr/bin/dkimsign s2048 example.com "$K/s2048.private" >"$K/rsa2048.eml"
want="verdict: accept
$(ar "dkim=pass header.d=example.com header.s=s2048 header.a=rsa-sha256 header.b=$(bpre "$K/rsa2048.eml")")
symbol: DKIM_PASS 0.00 d=example.com s=s2048 a=rsa-sha256: signature and body hash verified"
never="DKIM_FAIL"
scenario dkim-rsa2048-pass "$base" "$in" <"$K/rsa2048.eml"

sign rsa1024 s1024 "$K/s1024.private"
want="$(ar "dkim=pass header.d=example.com header.s=s1024 header.a=rsa-sha256 header.b=$(bpre "$K/rsa1024.eml")")"
scenario dkim-rsa1024-pass "$base" "$in" <"$K/rsa1024.eml"

if [ $have_nacl = 1 ]; then
	sign ed25519 ed "$K/ed.key" --alg ed25519-sha256
	want="$(ar "dkim=pass header.d=example.com header.s=ed header.a=ed25519-sha256 header.b=$(bpre "$K/ed25519.eml")")
symbol: DKIM_PASS 0.00 d=example.com s=ed a=ed25519-sha256: signature and body hash verified"
	scenario dkim-ed25519-pass "$base" "$in" <"$K/ed25519.eml"
else
	t_fail check/dkim-ed25519-pass "python3-nacl missing: no Ed25519 test signer"
fi

# --- RFC 8301: rsa-sha1 and a 512-bit key verify, and are "policy" ---
sign sha1 sha1ok "$K/s2048.private" --alg rsa-sha1
want="$(ar "dkim=policy header.d=example.com header.s=sha1ok header.a=rsa-sha1 header.b=$(bpre "$K/sha1.eml")")
symbol: DKIM_POLICY 0.00 d=example.com s=sha1ok a=rsa-sha1: rsa-sha1 is not accepted (RFC 8301)"
never="DKIM_PASS"
scenario dkim-rsa-sha1-policy "$base" "$in" <"$K/sha1.eml"

sign small small "$K/small.pem"
want="$(ar "dkim=policy header.d=example.com header.s=small header.a=rsa-sha256 header.b=$(bpre "$K/small.eml")")
symbol: DKIM_POLICY 0.00 d=example.com s=small a=rsa-sha256: a 512-bit RSA key is not accepted (RFC 8301: 1024 at least)"
never="DKIM_PASS"
scenario dkim-rsa512-policy "$base" "$in" <"$K/small.eml"

# a sha1 signature that does not verify either is a plain fail
sed 's/^Hello there/Hello thEre/' "$K/sha1.eml" >"$K/sha1-bad.eml"
want="$(ar "dkim=fail header.d=example.com header.s=sha1ok header.a=rsa-sha1 header.b=$(bpre "$K/sha1.eml")")"
never="DKIM_PASS"
scenario dkim-rsa-sha1-broken-fail "$base" "$in" <"$K/sha1-bad.eml"

# --- not pass: changed body, x= expired, no v=1, keys missing/revoked/broken
sed 's/^Hello there/Hello thEre/' "$K/rsa2048.eml" >"$K/body.eml"
want="$(ar "dkim=fail header.d=example.com header.s=s2048 header.a=rsa-sha256 header.b=$(bpre "$K/rsa2048.eml")")
symbol: DKIM_FAIL 0.00 d=example.com s=s2048 a=rsa-sha256: body hash mismatch"
never="DKIM_PASS"
scenario dkim-body-changed-fail "$base" "$in" <"$K/body.eml"

sign expired s2048 "$K/s2048.private" --expire -86400
want="$(ar "dkim=neutral header.d=example.com header.s=s2048 header.a=rsa-sha256 header.b=$(bpre "$K/expired.eml")")
symbol: DKIM_NEUTRAL 0.00 d=example.com s=s2048 a=rsa-sha256: signature expired"
never="DKIM_PASS"
scenario dkim-expired-neutral "$base" "$in" <"$K/expired.eml"

sign nov s2048 "$K/s2048.private" --no-v
want="$(ar "dkim=permerror header.d=example.com header.s=s2048 header.a=rsa-sha256 header.b=$(bpre "$K/nov.eml")")
symbol: DKIM_PERMERROR 0.00 d=example.com s=s2048 a=rsa-sha256: version missing"
never="DKIM_PASS"
scenario dkim-no-v-permerror "$base" "$in" <"$K/nov.eml"

sign nokey nokey "$K/s2048.private"
want="$(ar "dkim=permerror header.d=example.com header.s=nokey header.a=rsa-sha256 header.b=$(bpre "$K/nokey.eml")")
symbol: DKIM_PERMERROR 0.00 d=example.com s=nokey a=rsa-sha256: no key: nokey._domainkey.example.com nxdomain"
scenario dkim-key-nxdomain-permerror "$base" "$in" <"$K/nokey.eml"

sign revoked revoked "$K/s2048.private"
want="$(ar "dkim=permerror header.d=example.com header.s=revoked header.a=rsa-sha256 header.b=$(bpre "$K/revoked.eml")")
symbol: DKIM_PERMERROR 0.00 d=example.com s=revoked a=rsa-sha256: key revoked (empty p=)"
scenario dkim-key-revoked-permerror "$base" "$in" <"$K/revoked.eml"

sign broken broken "$K/s2048.private"
want="$(ar "dkim=permerror header.d=example.com header.s=broken header.a=rsa-sha256 header.b=$(bpre "$K/broken.eml")")"
never="DKIM_PASS"
scenario dkim-key-unparseable-permerror "$base" "$in" <"$K/broken.eml"

# --- l=: reported, content past it noted ---
sign length s2048 "$K/s2048.private" --length
printf 'Appended by someone else.\r\n' >>"$K/length.eml"
want="$(ar "dkim=pass header.d=example.com header.s=s2048 header.a=rsa-sha256 header.b=$(bpre "$K/length.eml")")
symbol: DKIM_BODY_LENGTH 0.00 d=example.com s=s2048: l=28, the body goes on past it"
scenario dkim-length-appended "$base" "$in" <"$K/length.eml"

# --- a From added after signing (h= names From once): the signature
# still verifies, but does not cover the From a reader sees ---
sign fromonce s2048 "$K/s2048.private" --headers from:to:subject:date:message-id
{ printf 'From: Mallory <ceo@example.com>\r\n'; cat "$K/fromonce.eml"; } >"$K/fromadded.eml"
want="$(ar "dkim=pass header.d=example.com header.s=s2048 header.a=rsa-sha256 header.b=$(bpre "$K/fromadded.eml")")
symbol: DKIM_FROM_UNSIGNED 0.00 d=example.com s=s2048: the message has 2 From fields"
scenario dkim-from-added "$base" "$in" <"$K/fromadded.eml"

# --- canonicalization: relaxed survives re-spacing, simple does not ---
sign relaxed s2048 "$K/s2048.private"
sed 's/^Subject: relaxed/Subject:   relaxed  /' "$K/relaxed.eml" >"$K/relaxed-ws.eml"
want="$(ar "dkim=pass header.d=example.com header.s=s2048 header.a=rsa-sha256 header.b=$(bpre "$K/relaxed.eml")")"
scenario dkim-relaxed-whitespace-pass "$base" "$in" <"$K/relaxed-ws.eml"
sign simple s2048 "$K/s2048.private" --canon simple/simple
sed 's/^Subject: simple/Subject:   simple  /' "$K/simple.eml" >"$K/simple-ws.eml"
want="$(ar "dkim=fail header.d=example.com header.s=s2048 header.a=rsa-sha256 header.b=$(bpre "$K/simple.eml")")"
never="DKIM_PASS"
scenario dkim-simple-whitespace-fail "$base" "$in" <"$K/simple-ws.eml"

# --- the key lookup times out: temperror, within dkim_timeout ---
sign slow slow "$K/s2048.private"
want="$(ar "dkim=temperror header.d=example.com header.s=slow header.a=rsa-sha256 header.b=$(bpre "$K/slow.eml")")
symbol: DKIM_TEMPERROR 0.00 d=example.com s=slow a=rsa-sha256: key lookup slow._domainkey.example.com: timeout"
never="DKIM_PASS
DKIM_NEUTRAL"
start=$(date +%s)
scenario dkim-key-timeout-temperror "$base" "$in" <"$K/slow.eml"
took=$(($(date +%s) - start))
if [ "$took" -le 5 ]; then t_pass check/dkim-timeout-within-budget; else t_fail check/dkim-timeout-within-budget "took ${took}s"; fi

want="verdict: tempfail
reply: 451 4.4.3 DKIM temporary error, try again later"
scenario dkim-temperror-tempfail "$base dkim_temperror_action=tempfail" "$in" <"$K/slow.eml"

# --- two signatures, one timing out: each reported ---
$TOOL sign slow example.com "$K/s2048.private" <"$K/rsa2048.eml" >"$K/two.eml"
want="$(ar "dkim=temperror header.d=example.com header.s=slow header.a=rsa-sha256 header.b=$(bpre "$K/two.eml" 1); dkim=pass header.d=example.com header.s=s2048 header.a=rsa-sha256 header.b=$(bpre "$K/two.eml" 2)")
symbol: DKIM_PASS 0.00 d=example.com s=s2048 a=rsa-sha256: signature and body hash verified"
scenario dkim-two-signatures "$base" "$in" <"$K/two.eml"

# --- two signatures, one with a changed body hash: pass and fail ---
$TOOL sign s1024 example.com "$K/s1024.private" <"$K/rsa2048.eml" | sed 's/^Hello there/Hello thEre/' >"$K/two-bad.eml"
want="$(ar "dkim=fail header.d=example.com header.s=s1024 header.a=rsa-sha256 header.b=$(bpre "$K/two-bad.eml" 1); dkim=fail header.d=example.com header.s=s2048 header.a=rsa-sha256 header.b=$(bpre "$K/two-bad.eml" 2)")"
never="DKIM_PASS"
scenario dkim-two-signatures-body-changed "$base" "$in" <"$K/two-bad.eml"

# --- more signatures than are checked: the first 8, the rest counted ---
{ for i in 1 2 3 4 5 6 7 8 9 10; do printf 'DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=nokey%s; h=from; bh=AAAA; b=BBBB%s\r\n' "$i" "$i"; done; cat "$K/rsa2048.eml"; } >"$K/many.eml"
want="symbol: DKIM_TOO_MANY 0.00 3 signatures past the first 8 not checked"
never="s=s2048"
scenario dkim-too-many-signatures "$base" "$in" <"$K/many.eml"

# --- no signature; outbound mail is not verified; dkim = no ---
want="$(ar "dkim=none")
symbol: DKIM_NONE 0.00 no signature"
scenario dkim-none "$base" "$in" < <(plain none)

want="verdict: accept"
never="dkim=
DKIM_"
scenario dkim-outbound-not-verified "$base" "--auth-user alice --mail-from alice@example.com --rcpt bob@mx.test" <"$K/rsa2048.eml"
scenario dkim-off "dkim=no" "$in" <"$K/rsa2048.eml"

want="verdict: reject
reply: 550 5.7.20 DKIM signature verification failed"
never=""
scenario dkim-fail-reject "$base dkim_fail_action=reject" "$in" <"$K/body.eml"

# --- signing: relayguard signs, dkimpy verifies against the zone ---
printf 'rg example.com:rg:rg.pem\nrged example.com:rged:rged.pem\nsub %%:rg:rg.pem\n' >"$K/keytable"
printf '# first match wins\nbob@example.com rged\n*@example.com rg rged\n*@*.example.com sub\n' >"$K/signingtable"
sbase="$base dkim_key_table=$K/keytable dkim_signing_table=$K/signingtable"
out="--auth-user alice --mail-from alice@example.com --rcpt carol@remote.test"
want="verdict: accept
symbol: DKIM_SIGNED 0.00 d=example.com s=rg a=rsa-sha256; d=example.com s=rged a=ed25519-sha256"
never="dkim="
scenario dkim-sign-rsa-ed25519 "$sbase" "$out" < <(plain signed)
# the message as it leaves: the signatures prepended (relayguard inserts
# them at the top)
{ sed -n 's/^header: \(DKIM-Signature: .*\)$/\1\r/p' "$dir/dkim-sign-rsa-ed25519.out"; cat "$dir/dkim-sign-rsa-ed25519.eml"; } >"$K/out.eml"
n=$(grep -c '^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=rg; ' "$K/out.eml")
m=$(grep -c '^DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.com; s=rged; ' "$K/out.eml")
if [ "$n$m" = 11 ] && grep -q 'h=From:To:Subject:Date:Message-ID:from;' "$K/out.eml"; then
	t_pass check/dkim-sign-header-lines
else
	t_fail check/dkim-sign-header-lines "$(grep '^header:' "$dir/dkim-sign-rsa-ed25519.out" | cut -c1-160)"
fi
if v=$($TOOL verify "$RG_DNSPROXY_PORT" <"$K/out.eml" 2>&1) && [ "$(echo "$v" | grep -c pass)" = 2 ]; then
	t_pass check/dkim-sign-dkimpy-verifies
else
	t_fail check/dkim-sign-dkimpy-verifies "dkimverify: $v"
fi
# and relayguard itself verifies its own signatures inbound
want="$(ar "dkim=pass header.d=example.com header.s=rg header.a=rsa-sha256 header.b=$(bpre "$K/out.eml" 1); dkim=pass header.d=example.com header.s=rged header.a=ed25519-sha256 header.b=$(bpre "$K/out.eml" 2)")"
never=""
scenario dkim-sign-roundtrip-verify "$base" "$in" <"$K/out.eml"

# a From matching an earlier line, a subdomain with the From domain (%)
printf 'From: bob@example.com\r\nTo: x@remote.test\r\nSubject: b\r\n\r\nhi\r\n' >"$K/bob.eml"
want="symbol: DKIM_SIGNED 0.00 d=example.com s=rged a=ed25519-sha256"
scenario dkim-sign-first-line-wins "$sbase" "--auth-user bob --mail-from bob@example.com --rcpt x@remote.test" <"$K/bob.eml"
printf 'From: a@mail.example.com\r\nTo: x@remote.test\r\nSubject: b\r\n\r\nhi\r\n' >"$K/sub.eml"
want="symbol: DKIM_SIGNED 0.00 d=mail.example.com s=rg a=rsa-sha256"
scenario dkim-sign-subdomain-percent "$sbase" "--auth-user a --mail-from a@mail.example.com --rcpt x@remote.test" <"$K/sub.eml"
# a client from trusted_networks is outbound too
want="symbol: DKIM_SIGNED 0.00 d=example.com s=rg a=rsa-sha256; d=example.com s=rged a=ed25519-sha256"
never="dkim="
scenario dkim-sign-trusted-network "$sbase trusted_networks=198.51.100.0/24" "--client-ip 198.51.100.7 --mail-from alice@example.com --rcpt carol@remote.test" < <(plain trusted)
# not ours, or inbound: no signature
want="verdict: accept"
never="DKIM-Signature
DKIM_SIGNED"
printf 'From: a@other.test\r\nTo: x@remote.test\r\nSubject: b\r\n\r\nhi\r\n' >"$K/other.eml"
scenario dkim-sign-no-match "$sbase" "--auth-user a --mail-from a@other.test --rcpt x@remote.test" <"$K/other.eml"
scenario dkim-sign-not-inbound "$sbase" "$in" < <(plain inbound)
# rejected by the sender gate: never signed
printf 'alice@example.com alice\n' >"$K/logins"
want="verdict: reject"
never="DKIM-Signature"
scenario dkim-sign-not-when-rejected "$sbase sender_login_maps=$K/logins" "--auth-user mallory --mail-from alice@example.com --rcpt x@remote.test" < <(plain rejected)

# --- dkim-keygen: the key and its record; dkim-check against the zone ---
(cd "$K" && "$RG_BIN" dkim-keygen -d example.com -s kg1 >kg1.out 2>&1 &&
	"$RG_BIN" dkim-keygen -d example.com -s kg2 -a ed25519 -o kg2.pem >kg2.out 2>&1)
if [ "$(stat -c %a "$K/kg1.private" 2>/dev/null)" = 600 ] && [ "$(stat -c %a "$K/kg2.pem" 2>/dev/null)" = 600 ] &&
	grep -q '^kg1._domainkey.example.com. IN TXT ( "v=DKIM1; k=rsa; " "p=' "$K/kg1.out" &&
	grep -q '^kg2._domainkey.example.com. IN TXT ( "v=DKIM1; k=ed25519; " "p=' "$K/kg2.out"; then
	t_pass cmd/dkim-keygen
else
	t_fail cmd/dkim-keygen "$(cat "$K/kg1.out" "$K/kg2.out" | head -4)"
fi
if (cd "$K" && "$RG_BIN" dkim-keygen -d example.com -s kg1 >/dev/null 2>&1); then
	t_fail cmd/dkim-keygen-no-overwrite "overwrote kg1.private"
else
	t_pass cmd/dkim-keygen-no-overwrite
fi
for f in kg1 kg2; do head -1 "$K/$f.out" | sed 's/ IN TXT / 0 IN TXT /' >>"$(dns_zone_file)"; done
openssl genrsa -out "$K/rotated.pem" 2048 2>/dev/null && chmod 600 "$K/rotated.pem"
dns_reload >>"$dir/dns-setup.log" 2>&1
printf 'kg1 example.com:kg1:kg1.private\nkg2 example.com:kg2:kg2.pem\n' >"$K/kgtable"
printf '*@example.com kg1 kg2\n' >"$K/kgsigning"
kbase="$base dkim_key_table=$K/kgtable dkim_signing_table=$K/kgsigning"
want="symbol: DKIM_SIGNED 0.00 d=example.com s=kg1 a=rsa-sha256; d=example.com s=kg2 a=ed25519-sha256"
never=""
scenario dkim-keygen-sign "$kbase" "$out" < <(plain keygen)
{ sed -n 's/^header: \(DKIM-Signature: .*\)$/\1\r/p' "$dir/dkim-keygen-sign.out"; cat "$dir/dkim-keygen-sign.eml"; } >"$K/kgout.eml"
if v=$($TOOL verify "$RG_DNSPROXY_PORT" <"$K/kgout.eml" 2>&1) && [ "$(echo "$v" | grep -c pass)" = 2 ]; then
	t_pass check/dkim-keygen-records-verify
else
	t_fail check/dkim-keygen-records-verify "dkimverify: $v"
fi
rg_conf "$conf" $kbase
if v=$("$RG_BIN" dkim-check -c "$conf" 2>&1) &&
	[ "$v" = "ok kg1 kg1._domainkey.example.com
ok kg2 kg2._domainkey.example.com" ]; then
	t_pass cmd/dkim-check-ok
else
	t_fail cmd/dkim-check-ok "$v"
fi
printf 'kg1 example.com:kg1:rotated.pem\nnew example.com:unpublished:kg2.pem\nslow example.com:slow:kg2.pem\nkg2 example.com:kg2:kg2.pem\n' >"$K/kgtable"
rg_conf "$conf" $kbase
v=$("$RG_BIN" dkim-check -c "$conf" 2>&1); rc=$?
if [ $rc = 1 ] && [ "$v" = "mismatch kg1 kg1._domainkey.example.com: the published key is not $K/rotated.pem
missing new unpublished._domainkey.example.com: no key record (nxdomain)
temperror slow slow._domainkey.example.com: timeout
ok kg2 kg2._domainkey.example.com" ]; then
	t_pass cmd/dkim-check-mismatch-missing-temperror
else
	t_fail cmd/dkim-check-mismatch-missing-temperror "exit $rc: $v"
fi

# --- the tables at configuration load: FILE:LINE ---
dkim_conf_err() { # NAME KEYTABLE-TEXT SIGNINGTABLE-TEXT WANT
	printf '%b' "$2" >"$K/kt-$1"
	printf '%b' "$3" >"$K/st-$1"
	rg_conf "$conf" "dkim_key_table=$K/kt-$1" "dkim_signing_table=$K/st-$1"
	if "$RG_BIN" -c "$conf" -n 2>"$dir/$1.err"; then
		t_fail "config/$1" "accepted"
	elif grep -qF -- "$4" "$dir/$1.err"; then
		t_pass "config/$1"
	else
		t_fail "config/$1" "stderr: $(cat "$dir/$1.err")"
	fi
}
dkim_conf_err dkim-bad-key-line 'rg example.com:rg:rg.pem\nbroken\n' '*@example.com rg\n' "$K/kt-dkim-bad-key-line:2: want \"KEYNAME DOMAIN:SELECTOR:KEYFILE\""
dkim_conf_err dkim-missing-key-file 'rg example.com:rg:nope.pem\n' '*@example.com rg\n' "$K/kt-dkim-missing-key-file:1: key file $K/nope.pem: No such file or directory"
dkim_conf_err dkim-unknown-key-name 'rg example.com:rg:rg.pem\n' '# x\n*@example.com rg other\n' "$K/st-dkim-unknown-key-name:2: key other is not in the key table"
dkim_conf_err dkim-small-signing-key 'small example.com:small:small.pem\n' '*@example.com small\n' "$K/kt-dkim-small-signing-key:1: key file $K/small.pem: a 512-bit RSA key"
cp "$K/rg.pem" "$K/open.pem" && chmod 644 "$K/open.pem"
dkim_conf_err dkim-world-readable-key 'rg example.com:rg:open.pem\n' '*@example.com rg\n' "$K/kt-dkim-world-readable-key:1: key file $K/open.pem is readable by everyone"
rg_conf "$conf" "dkim_key_table=$K/keytable"
if "$RG_BIN" -c "$conf" -n 2>"$dir/half.err"; then
	t_fail config/dkim-tables-together "accepted"
elif grep -q "dkim_key_table and dkim_signing_table go together" "$dir/half.err"; then
	t_pass config/dkim-tables-together
else
	t_fail config/dkim-tables-together "stderr: $(cat "$dir/half.err")"
fi
