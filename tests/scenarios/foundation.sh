#!/usr/bin/env bash
# tests/scenarios/run.sh - foundation scenarios through "relayguard check":
# modes, the status header, sizes, malformed input, configuration errors.
set -u
. "$(dirname "$0")/lib.sh"

echo "policy scenarios (relayguard check)"

want="verdict: accept
header: X-Relayguard: mx.test; verdict=accept; mode=inbound; score=0.00"
never="reply:
remove-header:"
scenario inbound-accept "" "--client-ip 192.0.2.1 --helo c.test --mail-from a@example.org --rcpt b@example.net" <<'M'
From: a@example.org
To: b@example.net
Subject: hello

Hello.
M

want="verdict: accept
header: X-Relayguard: mx.test; verdict=accept; mode=outbound; score=0.00
symbol: AUTHENTICATED 0.00 alice PLAIN"
scenario outbound-auth "" "--auth-user alice --mail-from alice@example.org --rcpt x@example.net" <<'M'
From: alice@example.org

hi
M

want="symbol: TRUSTED_NETWORK 0.00 10.1.1.1
header: X-Relayguard: mx.test; verdict=accept; mode=outbound; score=0.00"
scenario outbound-trusted "trusted_networks=10.0.0.0/8" "--client-ip 10.1.1.1 --mail-from a@example.org" <<'M'
Subject: x

y
M

want="header: X-Relayguard: mx.test; verdict=accept; mode=inbound; score=0.00"
scenario untrusted-neighbour "trusted_networks=10.0.0.0/8" "--client-ip 11.1.1.1 --mail-from a@example.org" <<'M'
Subject: x

y
M

want="remove-header: X-Relayguard
verdict: accept"
scenario forged-status-removed "" "--client-ip 192.0.2.1" <<'M'
X-Relayguard: mx.test; verdict=accept; mode=outbound; score=0.00
Subject: forged

x
M

want="verdict: reject
reply: 552 5.3.4 Message size exceeds fixed maximum message size"
never="header:"
scenario size-body "max_message_size=1k" "--client-ip 192.0.2.1" < <(printf 'Subject: big\n\n'; head -c 3000 /dev/zero | tr '\0' 'x'; echo)

want="verdict: accept"
scenario size-at-limit "max_message_size=100" "--client-ip 192.0.2.1" < <(printf 'Subject: s\n\n'; head -c 70 /dev/zero | tr '\0' 'x')

want="verdict: reject
reply: 552 5.3.4 Message header size exceeds limit"
scenario header-too-big "max_header_size=1k" "--client-ip 192.0.2.1" < <(printf 'Subject: '; head -c 5000 /dev/zero | tr '\0' 's'; printf '\n\nbody\n')

want="verdict: accept"
scenario long-body-line "" "--client-ip 192.0.2.1" < <(printf 'Subject: s\n\n'; head -c 2000000 /dev/zero | tr '\0' 'L'; echo)

want="verdict: accept"
scenario nul-bytes "" "--client-ip 192.0.2.1" < <(printf 'Subject: a\0b\nX-Nul: \0\n\nbody\0with\0nuls\n')

want="verdict: accept"
scenario no-colon-header "" "--client-ip 192.0.2.1" <<'M'
Subject: fine
this is not a header
Another: line
M

want="verdict: accept"
scenario empty-message "" "--client-ip 192.0.2.1" </dev/null

want="verdict: accept
header: X-Relayguard: mx.test; verdict=accept; mode=inbound; score=0.00"
scenario no-client-ip "" "" <<'M'
Subject: x

y
M

want="symbol: CLIENT_ADDR_MALFORMED 0.00 client address \"not-an-ip\""
scenario bad-client-ip "" "--client-ip not-an-ip" <<'M'
Subject: x

y
M

want="symbol: MACRO_MALFORMED 0.00 {auth_authen} dropped: al\\x0dice"
never="AUTHENTICATED"
scenario bad-login "" "--auth-user $(printf 'al\rice')" <<'M'
Subject: x

y
M

want="header: X-Relayguard: mx.test; verdict=accept; mode=inbound; score=0.00"
scenario mbox-from-line "" "--client-ip 192.0.2.1" <<'M'
From someone@example.org Mon Nov 23 10:00:00 2026
Subject: saved from a mailbox

x
M

rg_conf "$conf"
out=$(printf 'Subject: x\n\ny\n' | "$RG_BIN" check -c "$conf" --client-ip 192.0.2.1 - 2>/dev/null)
if [ "$(head -1 <<<"$out")" = "verdict: accept" ]; then t_pass check/stdin; else
	t_fail check/stdin "$out"; fi

# usage and configuration errors: no verdict, non-zero exit
status=2 never="verdict:"
scenario bad-option "" "--no-such-option" </dev/null
status=2 never="verdict:"
scenario bad-conf "bogus_key=1" "" </dev/null
if grep -q "rg.conf:8: unknown key \"bogus_key\"" "$dir/bad-conf.err"; then
	t_pass check/bad-conf-file-line
else
	t_fail check/bad-conf-file-line "stderr: $(cat "$dir/bad-conf.err")"
fi
rg_conf "$conf"
out=$("$RG_BIN" check -c "$conf" /nonexistent/msg 2>&1) && rc=0 || rc=$?
if [ "$rc" = 1 ] && grep -q "/nonexistent/msg" <<<"$out"; then
	t_pass check/missing-message
else
	t_fail check/missing-message "exit $rc: $out"
fi

# relayguard -n: exit 0 for a good file, FILE:LINE on stderr for a bad one
rg_conf "$conf"
if "$RG_BIN" -c "$conf" -n 2>"$dir/n.err" && [ ! -s "$dir/n.err" ]; then
	t_pass config/check-good
else
	t_fail config/check-good "$(cat "$dir/n.err")"
fi
if "$RG_BIN" -c "$RG_TOP/conf/relayguard.conf" -n; then
	t_pass config/shipped-file-valid
else
	t_fail config/shipped-file-valid "conf/relayguard.conf does not load"
fi
for bad in "max_message_size = big" "socket = tcp:1" "trusted_networks = 1.2.3.4/40" "nonsense"; do
	rg_conf "$conf"
	echo "$bad" >>"$conf"
	if "$RG_BIN" -c "$conf" -n 2>"$dir/n.err"; then
		t_fail "config/reject '$bad'" "accepted"
	elif grep -q "^$conf:8: " "$dir/n.err"; then
		t_pass "config/reject '$bad'"
	else
		t_fail "config/reject '$bad'" "stderr: $(cat "$dir/n.err")"
	fi
done
# every key of the table is documented in the shipped file
keys=$(grep -o '{ "[a-z_]*", CT_' "$RG_TOP/policy/core/conf.c" | cut -d'"' -f2)
missing=""
for k in $keys; do grep -q "^$k =" "$RG_TOP/conf/relayguard.conf" || missing="$missing $k"; done
if [ -z "$missing" ]; then t_pass config/every-key-documented; else
	t_fail config/every-key-documented "undocumented:$missing"; fi
