#!/usr/bin/env bash
# tests/milter/dnsbl.sh - DNS blocklists through the milter protocol: the
# daemon under valgrind, its resolver pointed at a DNS server on loopback
# (tests/dns.sh).  Connect-stage results reach every transaction of a
# connection; a listed client is refused at RCPT (and, on a second
# daemon, at connect) with the list named.
set -u
. "$(dirname "$0")/../lib.sh"
. "$RG_TOP/tests/dns.sh"
export RG_MILTER_DIR="$RG_TOP/tests/milter"
RG_MILTER_PORT=$((RG_MILTER_PORT + 10))
export RG_SOCKET="inet:$RG_MILTER_PORT@127.0.0.1"
dir=$RG_TMP/milter-dnsbl
rm -rf "$dir" && mkdir -p "$dir"
trap 'rg_stop >/dev/null 2>&1; dns_stop >/dev/null 2>&1' EXIT
rg_valgrind "$dir"
echo "DNS blocklists through the milter protocol"
dns_start "$dir/dns" >"$dir/setup.log" 2>&1 || { t_fail milter/dnsbl-setup "dns_start failed"; exit 0; }
cat >>"$(dns_zone_file)" <<'ZONE'
1.2.0.192.bl.test.	60 IN A 127.0.0.2
1.2.0.192.bl.test.	60 IN TXT "see https://bl.test/192.0.2.1"
7.2.0.192.sc.test.	60 IN A 127.0.0.2
ZONE
dns_reload >>"$dir/setup.log" 2>&1

# conf FILE [ITEM...] - the daemon's configuration with the two lists
conf() {
	local f=$1
	shift
	rg_conf "$f" "resolver=127.0.0.1@$RG_DNSPROXY_PORT" "dnsbl_timeout=2s" "$@"
	cat >>"$f" <<'EOF'
dnsbl_list = bl bl.test client reject 127.0.0.2-11=RBL_BL:4
dnsbl_list = sc sc.test client 127.0.0.2=RBL_SC:3
EOF
}

# stop - SIGTERM; the exit status must be 0 (99: valgrind errors)
stop() {
	local rc=0
	rg_stop || rc=$?
	if [ $rc = 0 ]; then t_pass "milter/$1-clean-exit"; else
		t_fail "milter/$1-clean-exit" "exit $rc (99: valgrind errors, see $dir/valgrind.*)"; fi
}

conf "$dir/rg.conf"
rg_start "$dir/rg.conf" "$dir/daemon.log" "${wrapper[@]}" || { t_fail milter/dnsbl-setup "daemon did not start"; exit 0; }
if miltertest -s "$RG_MILTER_DIR/dnsbl.lua" >"$dir/dnsbl.out" 2>&1; then
	t_pass milter/dnsbl
else
	t_fail milter/dnsbl "$(tail -3 "$dir/dnsbl.out" | tr '\n' ' ')"
fi
log=$dir/daemon.log
if grep -q 'T1: verdict=accept .*symbols=RBL_SC(3.00){sc.test 192.0.2.7=127.0.0.2}' "$log" &&
	grep -q 'T2: verdict=accept .*symbols=RBL_SC(3.00){sc.test 192.0.2.7=127.0.0.2}' "$log"; then
	t_pass milter/dnsbl-connect-results-every-message
else
	t_fail milter/dnsbl-connect-results-every-message "T1/T2 lines without RBL_SC in $log"
fi
if grep -qF 'R1: verdict=reject reply="554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using bl.test; see https://bl.test/192.0.2.1"' "$log"; then
	t_pass milter/dnsbl-reject-rcpt-reply
else
	t_fail milter/dnsbl-reject-rcpt-reply "no 554 5.7.1 line for R1 in $log"
fi
if grep -q 'A1: verdict=accept .*login=alice' "$log" && grep -q 'N1: verdict=accept' "$log" &&
	! grep -q 'N1: .*RBL_' "$log"; then
	t_pass milter/dnsbl-authenticated-and-clean-accepted
else
	t_fail milter/dnsbl-authenticated-and-clean-accepted "A1/N1 lines in $log"
fi
stop dnsbl

conf "$dir/connect.conf" "dnsbl_reject_stage=connect"
rg_start "$dir/connect.conf" "$dir/connect.log" "${wrapper[@]}" || { t_fail milter/dnsbl-setup "daemon did not start"; exit 0; }
if miltertest -s "$RG_MILTER_DIR/dnsbl_connect.lua" >"$dir/dnsbl_connect.out" 2>&1; then
	t_pass milter/dnsbl-connect
else
	t_fail milter/dnsbl-connect "$(tail -3 "$dir/dnsbl_connect.out" | tr '\n' ' ')"
fi
if grep -qF 'NOQUEUE: verdict=reject reply="554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using bl.test; see https://bl.test/192.0.2.1" client=listed.test[192.0.2.1]' "$dir/connect.log"; then
	t_pass milter/dnsbl-reject-connect-reply
else
	t_fail milter/dnsbl-reject-connect-reply "no 554 5.7.1 line at connect in $dir/connect.log"
fi
stop dnsbl-connect
