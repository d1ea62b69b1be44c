#!/usr/bin/env bash
# tests/spf/commands.sh - "relayguard spf" and "relayguard check" with SPF,
# against a DNS server on loopback (tests/dns.sh): results, explanations,
# the lookups made, HELO, the headers check prints, timeouts within the
# budget, bad input.
set -u
. "$(dirname "$0")/../lib.sh"
. "$RG_TOP/tests/dns.sh"
dir=$RG_TMP/spf-commands
rm -rf "$dir" && mkdir -p "$dir"
T=spf-cmd
trap 'dns_stop >/dev/null 2>&1' EXIT
check() {
	local name=$1 why=$2
	shift 2
	if "$@"; then t_pass "$T/$name"; else t_fail "$T/$name" "$why"; fi
}
echo "relayguard spf and check with SPF (DNS on loopback)"
dns_start "$dir/dns" >"$dir/setup.log" 2>&1 || { t_fail "$T/setup" "dns_start failed"; exit 0; }
cat >>"$(dns_zone_file)" <<'ZONE'
pass.example.	60 IN TXT "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all"
fail.example.	60 IN TXT "v=spf1 a mx -all exp=why.fail.example"
why.fail.example. 60 IN TXT "%{i} is not one of %{d}'s mail servers"
fail.example.	60 IN A 198.51.100.1
fail.example.	60 IN MX 10 mx.fail.example.
mx.fail.example. 60 IN A 198.51.100.2
helo.example.	60 IN TXT "v=spf1 a -all"
helo.example.	60 IN A 192.0.2.50
broken.example.	60 IN TXT "v=spf1 ip4:300.1.1.1 -all"
slow.example.	60 IN TXT "v=spf1 -all"
ZONE
echo slow.example >"$(dns_drop_file)"
dns_reload >>"$dir/setup.log" 2>&1
conf=$dir/rg.conf
rg_conf "$conf" "spf=yes" "resolver=127.0.0.1@$RG_DNSPROXY_PORT" "dns_timeout=1s" "spf_timeout=2s"
spf() { "$RG_BIN" spf -c "$conf" "$@" 2>"$dir/stderr"; }
has() { grep -qxF -- "$2" <<<"$1"; }

out=$(spf --ip 192.0.2.7 --mail-from user@pass.example --helo h.example)
check pass "$out" has "$out" "result: pass"
check pass-mechanism "$out" has "$out" "mechanism: ip4:192.0.2.0/24"
check pass-query-listed "$out" grep -q '^query: TXT pass.example' <<<"$out"
out=$(spf --ip 2001:db8::9 --mail-from user@pass.example)
check pass-ipv6 "$out" has "$out" "result: pass"
out=$(spf --ip ::ffff:192.0.2.7 --mail-from user@pass.example)
check pass-v4mapped "$out" has "$out" "result: pass"
out=$(spf --ip 203.0.113.5 --mail-from user@fail.example)
check fail "$out" has "$out" "result: fail"
check fail-explanation "$out" has "$out" "explanation: 203.0.113.5 is not one of fail.example's mail servers"
check fail-lookups "$out" has "$out" "lookups: 2 (void: 0)"
out=$(spf --ip 192.0.2.50 --mail-from '<>' --helo helo.example)
check null-sender-uses-helo "$out" has "$out" "sender: postmaster@helo.example"
check null-sender-helo-pass "$out" has "$out" "result: pass"
out=$(spf --ip 192.0.2.7 --mail-from user@pass.example --helo helo.example)
check helo-checked-too "$out" has "$out" "helo-result: fail"
out=$(spf --ip 192.0.2.7 --mail-from user@broken.example)
check permerror "$out" has "$out" "result: permerror"
out=$(spf --ip 192.0.2.7 --mail-from user@nothing.example)
check none "$out" has "$out" "result: none"
start=$(date +%s%N)
out=$(spf --ip 192.0.2.7 --mail-from user@slow.example)
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check timeout-temperror "$out" has "$out" "result: temperror"
check timeout-within-budget "took ${ms} ms, budget 2000 ms" test "$ms" -lt 4000
out=$(spf --ip 192.0.2.7 --mail-from user@pass.example --engine libspf2)
check libspf2-engine "$out" has "$out" "result: pass"
spf --ip not-an-ip --mail-from a@b >/dev/null; rc=$?
check bad-ip-exit-2 "exit $rc" test $rc = 2
spf --mail-from a@b >/dev/null; rc=$?
check missing-ip-exit-2 "exit $rc" test $rc = 2

# relayguard check: the same evaluation, as headers
msg=$'From: user@fail.example\nAuthentication-Results: mx.test; spf=pass\nSubject: x\n\nbody\n'
out=$("$RG_BIN" check -c "$conf" --client-ip 203.0.113.5 --helo h.example --mail-from user@fail.example <<<"$msg" 2>/dev/null)
check check-ar "$out" has "$out" "header: Authentication-Results: mx.test; spf=fail smtp.mailfrom=user@fail.example"
check check-received-spf "$out" grep -q '^header: Received-SPF: fail (mx.test: domain of user@fail.example does not designate 203.0.113.5 as permitted sender) client-ip=203.0.113.5; envelope-from="user@fail.example"; helo=h.example; receiver=mx.test; identity=mailfrom; mechanism="-all"' <<<"$out"
check check-removes-forged-ar "$out" has "$out" "remove-header: Authentication-Results"
check check-symbol "$out" grep -q '^symbol: SPF_FAIL 1.00 ' <<<"$out"
echo "spf_fail_action = reject" >>"$conf"
out=$("$RG_BIN" check -c "$conf" --client-ip 203.0.113.5 --mail-from user@fail.example <<<"$msg" 2>/dev/null)
check check-reject "$out" has "$out" "reply: 550 5.7.23 <user@fail.example>: SPF check failed: 203.0.113.5 is not one of fail.example's mail servers"
out=$("$RG_BIN" check -c "$conf" --auth-user alice --client-ip 203.0.113.5 --mail-from user@fail.example <<<"$msg" 2>/dev/null)
check outbound-skips-spf "$out" bash -c '! grep -q SPF <<<"$1"' _ "$out"
