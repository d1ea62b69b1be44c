#!/usr/bin/env bash
# tests/milter/negotiate.sh - relayguard asks the MTA only for the steps
# its enabled checks need: header values with their leading space always
# (the spool keeps the header as sent), no body step when nothing reads
# the body, and no-reply steps only with milter_no_reply.
set -u
. "$(dirname "$0")/../lib.sh"
export RG_MILTER_DIR="$RG_TOP/tests/milter"
dir=$RG_TMP/negotiate
rm -rf "$dir" && mkdir -p "$dir"
echo "milter negotiation"
RG_MILTER_PORT=$((RG_MILTER_PORT + 60))
export RG_SOCKET="inet:$RG_MILTER_PORT@127.0.0.1"

# case NAME WANT NOT CONF_ITEMS...
case_() {
	local name=$1 want=$2 not=$3
	shift 3
	rg_conf "$dir/$name.conf" "$@"
	if ! rg_start "$dir/$name.conf" "$dir/$name.log"; then
		t_fail "negotiate/$name" "daemon did not start"
		return
	fi
	if RG_WANT=$want RG_NOT=$not miltertest -s "$RG_MILTER_DIR/negotiate.lua" \
		>"$dir/$name.out" 2>&1; then
		t_pass "negotiate/$name"
	else
		t_fail "negotiate/$name" "$(tail -2 "$dir/$name.out" | tr '\n' ' ')"
	fi
	rg_stop
}

case_ default "SMFIP_HDR_LEADSPC" \
	"SMFIP_NOBODY SMFIP_NR_HDR SMFIP_NR_CONN SMFIP_NOHDRS"
case_ no-body "SMFIP_HDR_LEADSPC SMFIP_NOBODY" "SMFIP_NR_HDR SMFIP_NOHDRS" \
	"max_message_size=0"
case_ no-reply "SMFIP_HDR_LEADSPC SMFIP_NR_CONN SMFIP_NR_HELO SMFIP_NR_DATA SMFIP_NR_HDR SMFIP_NR_BODY" \
	"SMFIP_NOBODY SMFIP_NR_MAIL SMFIP_NR_RCPT SMFIP_NR_EOH" "milter_no_reply=yes"
