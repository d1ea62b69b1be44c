#!/usr/bin/env bash
# tests/milter/dmarc.sh - DMARC through the milter protocol: the daemon
# under valgrind with dmarc_enforce = yes, records on a DNS server on
# loopback (tests/dns.sh).  An SPF-aligned pass gets dmarc=pass in the
# inserted Authentication-Results; a p=reject failure gets a reply code;
# a p=quarantine failure is quarantined (SMFIR_QUARANTINE).
set -u
. "$(dirname "$0")/../lib.sh"
. "$RG_TOP/tests/dns.sh"
export RG_MILTER_DIR="$RG_TOP/tests/milter"
RG_MILTER_PORT=$((RG_MILTER_PORT + 4))
export RG_SOCKET="inet:$RG_MILTER_PORT@127.0.0.1"
dir=$RG_TMP/milter-dmarc
rm -rf "$dir" && mkdir -p "$dir"
trap 'rg_stop >/dev/null 2>&1; dns_stop >/dev/null 2>&1' EXIT
rg_valgrind "$dir"
echo "DMARC through the milter protocol"
dns_start "$dir/dns" >"$dir/setup.log" 2>&1 || { t_fail milter/dmarc-setup "dns_start failed"; exit 0; }
cat >>"$(dns_zone_file)" <<'ZONE'
_dmarc.pass.example.	0 IN TXT "v=DMARC1; p=reject"
pass.example.		0 IN TXT "v=spf1 ip4:192.0.2.7 -all"
_dmarc.rej.example.	0 IN TXT "v=DMARC1; p=reject"
_dmarc.quar.example.	0 IN TXT "v=DMARC1; p=quarantine"
ZONE
dns_reload >>"$dir/setup.log" 2>&1 || { t_fail milter/dmarc-setup "dns_reload failed"; exit 0; }
rg_conf "$dir/rg.conf" "spf=yes" "spf_helo=no" "dmarc=yes" "dmarc_enforce=yes" \
	"resolver=127.0.0.1@$RG_DNSPROXY_PORT" "dns_timeout=1s"
rg_start "$dir/rg.conf" "$dir/daemon.log" "${wrapper[@]}" || { t_fail milter/dmarc-setup "daemon did not start"; exit 0; }
if miltertest -s "$RG_MILTER_DIR/dmarc.lua" >"$dir/dmarc.out" 2>&1; then
	t_pass milter/dmarc
else
	t_fail milter/dmarc "$(tail -3 "$dir/dmarc.out" | tr '\n' ' ')"
fi
if grep -q 'M2: verdict=reject reply="550 5.7.1 Unauthenticated mail from rej.example rejected by the domain'"'"'s DMARC policy".*DMARC_POLICY_REJECT' "$dir/daemon.log"; then
	t_pass milter/dmarc-reject-logged
else
	t_fail milter/dmarc-reject-logged "no M2 reject line in $dir/daemon.log"
fi
rc=0
rg_stop || rc=$?
if [ $rc = 0 ]; then t_pass milter/dmarc-clean-exit; else
	t_fail milter/dmarc-clean-exit "exit $rc (99: valgrind errors, see $dir/valgrind.*)"; fi
