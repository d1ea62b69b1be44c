#!/usr/bin/env bash
# tests/e2e/sendmail_dmarc.sh - DMARC behind a real Sendmail 8.17
# (tests/sendmail.sh), records on a DNS server on loopback (knot,
# tests/dns.sh; relayguard asks it, Sendmail itself has no DNS).  With
# dmarc_enforce = yes: a From domain whose SPF permits 127.0.0.1 is relayed
# to the sink with dmarc=pass in the one Authentication-Results; a p=reject
# domain that fails gets 550 5.7.1 naming the domain's DMARC policy and
# nothing arrives.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$RG_TOP/tests/sendmail.sh"
. "$RG_TOP/tests/dns.sh"
. "$RG_TOP/tests/e2e/lib.sh"
T=e2e-sendmail-dmarc
DIR=$RG_TMP/e2e-sendmail-dmarc
CONF=$DIR/rg.conf
LOG=$DIR/relayguard.log
cleanup() { rg_stop >/dev/null 2>&1; sm_stop >/dev/null 2>&1; dns_stop >/dev/null 2>&1; }
trap cleanup EXIT
[ -d "$DIR/sendmail" ] && SM_DIR=$DIR/sendmail sm_stop >/dev/null 2>&1
SM_DIR=
rm -rf "$DIR" && mkdir -p "$DIR"
sm_msg() {
	local name=$1
	shift
	sm_send "$@" --header "Subject: $name" --header "X-Test: $name" \
		--body "e2e test $name" >"$DIR/$name.txt" 2>&1
	return 0
}
sink_file() {
	local f
	for f in $(sm_sink_files); do
		grep -qx "X-Test: $1" "$f" && { echo "$f"; return 0; }
	done
	return 1
}
sink_count() { grep -lx "X-Test: $1" "$SM_DIR"/sink/* 2>/dev/null | wc -l; }
last_reply() { grep '^<' "$DIR/$1.txt" | tail -2 | tr '\n' ' '; }

echo "end to end: DMARC through Sendmail (:$RG_SM_PORT, sink :$RG_SM_SINK_PORT)"
dns_start "$DIR/dns" >"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "dns_start: $(tail -3 "$DIR/setup.log")"; exit 0; }
cat >>"$(dns_zone_file)" <<'ZONE'
_dmarc.pass.example.	0 IN TXT "v=DMARC1; p=reject"
pass.example.		0 IN TXT "v=spf1 ip4:127.0.0.0/8 -all"
_dmarc.rej.example.	0 IN TXT "v=DMARC1; p=reject"
ZONE
dns_reload >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "dns_reload failed"; exit 0; }
sm_setup "$DIR/sendmail" >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "sm_setup: $(tail -3 "$DIR/setup.log")"; exit 0; }
sm_start >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "sm_start: $(tail -3 "$DIR/setup.log")"; exit 0; }
rg_conf "$CONF" "spf=yes" "spf_helo=no" "dmarc=yes" "dmarc_enforce=yes" \
	"resolver=127.0.0.1@$RG_DNSPROXY_PORT" "dns_timeout=1s"
rg_start "$CONF" "$LOG" || { t_fail "$T/setup" "relayguard: $(tail -3 "$LOG")"; exit 0; }

sm_msg pass a@pass.example someone@sink.test --header "From: A <a@pass.example>"
sm_wait_sink 1 15
f=$(sink_file pass)
check pass-relayed-ar "no dmarc=pass: $(grep -i '^Authentication-Results' "${f:-/dev/null}") $(last_reply pass)" \
	grep -qE '^Authentication-Results: mx\.test; spf=pass smtp\.mailfrom=a@pass\.example; dmarc=pass header\.from=pass\.example policy\.dmarc=reject' "${f:-/dev/null}"
check pass-one-ar "Authentication-Results fields: $(grep -ci '^Authentication-Results' "${f:-/dev/null}")" \
	test "$(grep -ci '^Authentication-Results' "${f:-/dev/null}")" = 1

sm_msg reject x@elsewhere.example someone@sink.test --header "From: B <b@rej.example>"
check reject-550 "transcript: $(last_reply reject)" \
	transcript reject "550 5\.7\.1 Unauthenticated mail from rej\.example rejected by the domain's DMARC policy"
sleep 1
check rejected-not-relayed "rejected mail arrived" test "$(sink_count reject)" = 0
