#!/usr/bin/env bash
# tests/spf/dnssec.sh - DNSSEC validation in the shared resolver: knot
# signs a root zone on loopback; with its key as dnssec_trust_anchor the
# answers are secure and SPF passes; with a wrong key they are bogus, which
# is a temporary DNS error (SPF temperror), never a pass.
set -u
. "$(dirname "$0")/../lib.sh"
dir=$RG_TMP/dnssec
port=${RG_DNSSEC_PORT:-18873}
T=dnssec
rm -rf "$dir" && mkdir -p "$dir/run" "$dir/db"
check() {
	local name=$1 why=$2
	shift 2
	if "$@"; then t_pass "$T/$name"; else t_fail "$T/$name" "$why"; fi
}
echo "DNSSEC validation (knot signing a zone on 127.0.0.1@$port)"
cat >"$dir/knot.conf" <<EOC
server:
    rundir: "$dir/run"
    listen: 127.0.0.1@$port
database:
    storage: "$dir/db"
policy:
  - id: test
    algorithm: ecdsap256sha256
    ksk-lifetime: 0
    zsk-lifetime: 0
template:
  - id: default
    storage: "$dir"
    zonefile-load: whole
    zonefile-sync: -1
    journal-content: none
    dnssec-signing: on
    dnssec-policy: test
zone:
  - domain: .
    file: "$dir/root.zone"
EOC
cat >"$dir/root.zone" <<'EOZ'
. 3600 IN SOA ns. host. 1 3600 600 86400 60
. 3600 IN NS ns.
ns. 3600 IN A 127.0.0.1
signed.example. 60 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
EOZ
setsid knotd -c "$dir/knot.conf" >"$dir/knot.log" 2>&1 &
knot_pid=$!
trap 'kill $knot_pid 2>/dev/null' EXIT
key=""
for _ in $(seq 50); do
	key=$(kdig @127.0.0.1 -p "$port" +short . DNSKEY 2>/dev/null | grep '^257 ')
	[ -n "$key" ] && break
	sleep 0.1
done
if [ -z "$key" ]; then t_fail "$T/setup" "knot did not sign: $(tail -3 "$dir/knot.log")"; exit 0; fi
echo ". 3600 IN DNSKEY $key" >"$dir/good.key"
echo ". 3600 IN DNSKEY 257 3 13 $(head -c 64 /dev/urandom | base64 -w0)" >"$dir/bad.key"

spf() {
	rg_conf "$dir/rg.conf" "spf=yes" "resolver=127.0.0.1@$port" "dnssec_trust_anchor=$1" "dns_timeout=2s"
	"$RG_BIN" spf -c "$dir/rg.conf" --ip 192.0.2.5 --mail-from a@signed.example 2>/dev/null
}
out=$(spf "$dir/good.key")
check secure-pass "$out" grep -qx 'result: pass' <<<"$out"
check secure-marked "$out" grep -q '^query: TXT signed.example -> ok 1 (DNSSEC secure)$' <<<"$out"
out=$(spf "$dir/bad.key")
check bogus-temperror "$out" grep -qx 'result: temperror' <<<"$out"
check bogus-marked "$out" grep -q '(DNSSEC bogus)$' <<<"$out"
out=$(spf "")
check no-anchor-no-validation "$out" grep -q '^query: TXT signed.example -> ok 1$' <<<"$out"
rg_conf "$dir/rg.conf" "dnssec_trust_anchor=$dir/missing.key"
out=$("$RG_BIN" spf -c "$dir/rg.conf" --ip 192.0.2.5 --mail-from a@signed.example 2>&1); rc=$?
check missing-anchor-error "exit $rc: $out" test $rc = 2
check missing-anchor-file-line "$out" grep -q "rg.conf:$(rg_line "$dir/rg.conf" dnssec_trust_anchor): dnssec_trust_anchor $dir/missing.key: No such file" <<<"$out"
