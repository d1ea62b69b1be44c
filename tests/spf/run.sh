#!/bin/bash
# tests/spf/run.sh - the RFC 7208 test suite (pyspf's rfc7208-tests.yml)
# against both SPF engines, over real DNS: a private knotd behind
# tests/tools/dnsproxy (tests/dns.sh), which leaves the suite's TIMEOUT
# names unanswered.
#
# For each scenario the runner (tests/spf/spf_suite, which this script
# builds with `make tests/spf/spf_suite`) writes the zone file and the drop
# list, runs the reload command (`bash tests/dns.sh reload DIR`, which
# returns once the new zone is served), then asks the engine through
# relayguard's resolver pointed at the proxy.  Ports: RG_DNS_PORT and
# RG_DNSPROXY_PORT (tests/dns.sh; 18853/18854): two runs at once need
# different ones.
#
# Results:
#   spf/suite-builtin                       passes only at 203/203
#   spf/suite-libspf2 (N/203, comparison)   passes whenever the run
#                                           completed: a comparison, no gate
#
# Run from the top directory as root: bash tests/spf/run.sh
# Rerunnable: it removes its directory ($RG_TMP/spf) first.  Logs:
# $RG_TMP/spf/suite-ENGINE.log, $RG_TMP/spf/knot.log, dnsproxy.log.

set -u
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$RG_TOP/tests/dns.sh"

SUITE=${RG_SPF_SUITE:-$RG_TOP/../shared/testdata/spf/rfc7208-tests.yml}
RUNNER=$RG_BUILD/tests/spf/spf_suite
TESTS=203
DIR=$RG_TMP/spf

echo "SPF: RFC 7208 suite over DNS (knot on $RG_DNS_PORT, proxy on $RG_DNSPROXY_PORT)"

# fail_all WHY - the suite could not run at all
fail_all() {
	t_fail spf/suite-builtin "$1"
	t_fail spf/suite-libspf2 "$1"
	exit 1
}

[ -f "$SUITE" ] || fail_all "no suite file $SUITE"
# a check program: build it (or bring it up to date) first, as scripts/test
# does for the unit tests
make -C "$RG_BUILD" -s tests/spf/spf_suite >"$RG_TMP/spf-build.log" 2>&1
[ -x "$RUNNER" ] || fail_all "no runner $RUNNER; see $RG_TMP/spf-build.log"

trap dns_stop EXIT
# dns_stop first: DIR may hold an instance an aborted run left behind
DNS_DIR=$(cd "$DIR" 2>/dev/null && pwd -P || echo "$DIR") dns_stop
rm -rf "$DIR"
dns_start "$DIR" || fail_all "the DNS rig did not start; see $DIR/knot.log"

reload_cmd="bash $(printf %q "$RG_TOP/tests/dns.sh") reload $(printf %q "$DNS_DIR")"

# run_suite ENGINE - run the runner; prints its score line, sets SCORE
# ("N/M", empty when there was none) and RC
run_suite() {
	local engine=$1 log=$DIR/suite-$1.log line
	RC=0
	"$RUNNER" --suite "$SUITE" --engine "$engine" \
		--dns "127.0.0.1@$RG_DNSPROXY_PORT" \
		--zone-file "$(dns_zone_file)" --drop-file "$(dns_drop_file)" \
		--reload-cmd "$reload_cmd" --timeout-ms 1500 \
		>"$log" 2>&1 </dev/null || RC=$?
	line=$(grep -E "^SPF suite: [0-9]+/[0-9]+ \($engine\)" "$log" | tail -n 1)
	SCORE=
	if [ -n "$line" ]; then
		echo "  $line"
		SCORE=$(sed -E 's/^SPF suite: ([0-9]+\/[0-9]+).*/\1/' <<<"$line")
	fi
}

run_suite builtin
if [ "$SCORE" = "$TESTS/$TESTS" ]; then
	t_pass spf/suite-builtin
else
	grep -Ei 'fail|error|mismatch' "$DIR/suite-builtin.log" | head -n 40 | sed 's/^/    /'
	if [ -n "$SCORE" ]; then
		t_fail spf/suite-builtin "$SCORE; see $DIR/suite-builtin.log"
	else
		t_fail spf/suite-builtin "no score (exit $RC); see $DIR/suite-builtin.log"
	fi
fi

run_suite libspf2
# completed: a score line and no death by signal
if [ -n "$SCORE" ] && [ "$RC" -lt 128 ]; then
	t_pass "spf/suite-libspf2 (${SCORE%/*}/$TESTS, comparison)"
else
	tail -n 20 "$DIR/suite-libspf2.log" | sed 's/^/    /'
	t_fail spf/suite-libspf2 "the run did not complete (exit $RC); see $DIR/suite-libspf2.log"
fi
