#!/usr/bin/env bash
# tests/milter/spf.sh - SPF through the milter protocol: the daemon under
# valgrind, its resolver pointed at a DNS server on loopback (tests/dns.sh).
set -u
. "$(dirname "$0")/../lib.sh"
. "$RG_TOP/tests/dns.sh"
export RG_MILTER_DIR="$RG_TOP/tests/milter"
RG_MILTER_PORT=$((RG_MILTER_PORT + 2))
export RG_SOCKET="inet:$RG_MILTER_PORT@127.0.0.1"
dir=$RG_TMP/milter-spf
rm -rf "$dir" && mkdir -p "$dir"
trap 'rg_stop >/dev/null 2>&1; dns_stop >/dev/null 2>&1' EXIT
rg_valgrind "$dir"
echo "SPF through the milter protocol"
dns_start "$dir/dns" >"$dir/setup.log" 2>&1 || { t_fail milter/spf-setup "dns_start failed"; exit 0; }
cat >>"$(dns_zone_file)" <<'ZONE'
pass.example.	60 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
fail.example.	60 IN TXT "v=spf1 -all"
ZONE
dns_reload >>"$dir/setup.log" 2>&1
rg_conf "$dir/rg.conf" "spf=yes" "resolver=127.0.0.1@$RG_DNSPROXY_PORT" "spf_fail_action=reject"
rg_start "$dir/rg.conf" "$dir/daemon.log" "${wrapper[@]}" || { t_fail milter/spf-setup "daemon did not start"; exit 0; }
if miltertest -s "$RG_MILTER_DIR/spf.lua" >"$dir/spf.out" 2>&1; then
	t_pass milter/spf
else
	t_fail milter/spf "$(tail -3 "$dir/spf.out" | tr '\n' ' ')"
fi
if grep -qF 'F1: verdict=reject reply="550 5.7.23 <user@fail.example>: SPF check failed: domain of user@fail.example does not designate 203.0.113.9 as permitted sender"' "$dir/daemon.log"; then
	t_pass milter/spf-reject-reply
else
	t_fail milter/spf-reject-reply "no 550 5.7.23 line in $dir/daemon.log"
fi
rc=0
rg_stop || rc=$?
if [ $rc = 0 ]; then t_pass milter/spf-clean-exit; else
	t_fail milter/spf-clean-exit "exit $rc (99: valgrind errors, see $dir/valgrind.*)"; fi
