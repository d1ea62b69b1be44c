#!/usr/bin/env bash
# tests/milter/dkim.sh - DKIM through the milter protocol: the daemon
# under valgrind, keys on a DNS server on loopback (tests/dns.sh), a
# message signed by dkimpy's dkimsign; the daemon signs outbound mail
# with an RSA key from its key table.
set -u
. "$(dirname "$0")/../lib.sh"
. "$RG_TOP/tests/dns.sh"
export RG_MILTER_DIR="$RG_TOP/tests/milter"
RG_MILTER_PORT=$((RG_MILTER_PORT + 3))
export RG_SOCKET="inet:$RG_MILTER_PORT@127.0.0.1"
dir=$RG_TMP/milter-dkim
rm -rf "$dir" && mkdir -p "$dir"
PY=/usr/bin/python3
trap 'rg_stop >/dev/null 2>&1; dns_stop >/dev/null 2>&1' EXIT
rg_valgrind "$dir"
echo "DKIM through the milter protocol"
dns_start "$dir/dns" >"$dir/setup.log" 2>&1 || { t_fail milter/dkim-setup "dns_start failed"; exit 0; }
openssl genrsa -out "$dir/in.pem" 2048 2>/dev/null
openssl genrsa -out "$dir/out.pem" 2048 2>/dev/null
chmod 600 "$dir"/*.pem
p=$(openssl rsa -in "$dir/in.pem" -pubout -outform DER 2>/dev/null | base64 -w0)
printf 's1._domainkey.example.com. 0 IN TXT "v=DKIM1; k=rsa; " "p=%s" "%s"\n' "${p:0:200}" "${p:200}" >>"$(dns_zone_file)"
dns_reload >>"$dir/setup.log" 2>&1 || { t_fail milter/dkim-setup "dns_reload failed"; exit 0; }
printf 'From: Ann <ann@example.com>\r\nTo: bob@example.net\r\nSubject: milter\r\nDate: Tue, 1 Dec 2026 10:00:00 +0000\r\nMessage-ID: <m1@example.com>\r\n\r\nHello Bob.\r\nBye.\r\n' |
	$PY /usr/bin/dkimsign s1 example.com "$dir/in.pem" >"$dir/signed.eml"
# the message as a Lua table: header fields with their leading space (as
# under SMFIP_HDR_LEADSPC) and folding, and the body
export RG_DKIM_MSG=$dir/msg.lua RG_DKIM_AR
RG_DKIM_AR=$($PY - "$dir/signed.eml" "$RG_DKIM_MSG" <<'PYEOF'
import re, sys
raw = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
head, body = raw.split(b"\r\n\r\n", 1)
fields = re.split(rb"\r\n(?![ \t])", head)
def lua(b):
    return '"' + "".join("\\%03d" % c if c < 32 or c > 126 or c in b'"\\' else chr(c) for c in b) + '"'
with open(sys.argv[2], "w") as f:
    f.write("return { headers = {\n")
    for fl in fields:
        n, v = fl.split(b":", 1)
        f.write("  { %s, %s },\n" % (lua(n), lua(v)))
    f.write("}, body = %s }\n" % lua(body))
sig = [fl for fl in fields if fl.lower().startswith(b"dkim-signature:")][0]
b = re.sub(rb"\s", b"", re.search(rb";\s*b=([^;]*)", sig).group(1))[:12].decode()
if re.search(r'[()<>@,;:\\"/\[\]?=]', b):
    b = '"%s"' % b
print("mx.test; dkim=pass header.d=example.com header.s=s1 header.a=rsa-sha256 header.b=" + b)
PYEOF
)
printf 'out example.com:out1:%s\n' "$dir/out.pem" >"$dir/keytable"
printf '*@example.com out\n' >"$dir/signingtable"
rg_conf "$dir/rg.conf" "dkim=yes" "resolver=127.0.0.1@$RG_DNSPROXY_PORT" "dns_timeout=1s" \
	"dkim_key_table=$dir/keytable" "dkim_signing_table=$dir/signingtable"
rg_start "$dir/rg.conf" "$dir/daemon.log" "${wrapper[@]}" || { t_fail milter/dkim-setup "daemon did not start"; exit 0; }
if miltertest -s "$RG_MILTER_DIR/dkim.lua" >"$dir/dkim.out" 2>&1; then
	t_pass milter/dkim
else
	t_fail milter/dkim "$(tail -3 "$dir/dkim.out" | tr '\n' ' ')"
fi
if grep -q 'D3: verdict=accept .*symbols=.*DKIM_SIGNED(0.00){d=example.com s=out1 a=rsa-sha256}' "$dir/daemon.log"; then
	t_pass milter/dkim-signed-logged
else
	t_fail milter/dkim-signed-logged "no DKIM_SIGNED on D3's line in $dir/daemon.log"
fi
if grep -q 'dkim-check: missing out out1._domainkey.example.com: no key record (nxdomain)' "$dir/daemon.log"; then
	t_pass milter/dkim-unpublished-key-logged
else
	t_fail milter/dkim-unpublished-key-logged "no dkim-check warning in $dir/daemon.log"
fi
rc=0
rg_stop || rc=$?
if [ $rc = 0 ]; then t_pass milter/dkim-clean-exit; else
	t_fail milter/dkim-clean-exit "exit $rc (99: valgrind errors, see $dir/valgrind.*)"; fi
