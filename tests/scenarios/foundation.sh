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
if grep -q "rg.conf:$(rg_line "$conf" bogus_key): unknown key \"bogus_key\"" "$dir/bad-conf.err"; then
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
	line=$(($(wc -l <"$conf") + 1))
	echo "$bad" >>"$conf"
	if "$RG_BIN" -c "$conf" -n 2>"$dir/n.err"; then
		t_fail "config/reject '$bad'" "accepted"
	elif grep -q "^$conf:$line: " "$dir/n.err"; then
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

# the shipped file's empty authserv_id means this host's name: never an
# empty authserv-id ("Authentication-Results: ; spf=...", "receiver=;")
# (only the resolver changes, to loopback: tests never ask outside DNS)
sed -e "s/^resolver =.*/resolver = 127.0.0.1@${RG_DNSPROXY_PORT:-18854}/" \
	-e 's/^dns_timeout =.*/dns_timeout = 300ms/' "$RG_TOP/conf/relayguard.conf" >"$dir/shipped.conf"
printf 'From: a@example.org\nTo: b@example.net\nSubject: x\n\nbody\n' >"$dir/shipped.eml"
out=$("$RG_BIN" check -c "$dir/shipped.conf" --client-ip 192.0.2.1 --helo client.test \
	--mail-from a@example.org "$dir/shipped.eml" 2>/dev/null)
echo "$out" >"$dir/shipped.out"
if grep -qE '^header: Authentication-Results: [^ ;]+; spf=' <<<"$out" &&
	grep -qE '^header: Received-SPF: .* receiver=[^ ;]+;' <<<"$out" &&
	grep -qE '^header: X-Relayguard: [^ ;]+; verdict=' <<<"$out"; then
	t_pass config/shipped-authserv-id-not-empty
else
	t_fail config/shipped-authserv-id-not-empty "$(grep '^header:' <<<"$out" | tr '\n' ' ')"
fi
rg_conf "$conf" "authserv_id=mx.test; x"
sed -i '/^authserv_id = mx.test$/d' "$conf"
if "$RG_BIN" -c "$conf" -n 2>"$dir/n.err"; then
	t_fail config/reject-bad-authserv-id "accepted"
elif grep -q "bad authserv_id" "$dir/n.err"; then
	t_pass config/reject-bad-authserv-id
else
	t_fail config/reject-bad-authserv-id "$(cat "$dir/n.err")"
fi

# relayguard -p prints a configuration that loads back (-n) and prints
# the same again: for the defaults (an empty file), the shipped file, and
# a file that sets every kind of value
: >"$dir/empty.conf"
printf 'bob@example.com bob\n' >"$dir/dump.map"
rg_conf "$dir/every.conf" "trusted_networks=10.0.0.0/8 [2001:db8::]/32 192.0.2.7" \
	"log_facility=local3" "log_level=notice" "socket_mode=0600" "max_message_size=10k" \
	"sender_domains=Example.COM example.net" "sender_domain_aliases=example.net=example.com" \
	"sender_login_maps=dump.map" "spf_timeout=1500ms" "dns_timeout=1m" "spf_engine=libspf2" \
	"sender_unauth_action=tempfail" "internal_error_action=accept" "recipient_delimiter=+-" \
	"pid_file=run/rg.pid" "status_header="
for src in empty shipped every; do
	if ! "$RG_BIN" -c "$dir/$src.conf" -p >"$dir/$src.dump" 2>"$dir/$src.dump.err"; then
		t_fail "config/dump-$src" "-p failed: $(cat "$dir/$src.dump.err")"
	elif ! "$RG_BIN" -c "$dir/$src.dump" -n 2>"$dir/$src.dump.err"; then
		t_fail "config/dump-$src" "the dump does not load: $(cat "$dir/$src.dump.err")"
	elif ! "$RG_BIN" -c "$dir/$src.dump" -p | cmp -s - "$dir/$src.dump"; then
		t_fail "config/dump-$src" "the dump of the dump differs"
	else
		t_pass "config/dump-$src"
	fi
done
# and the dump holds every key of the table, and what the file said
missing=""
for k in $keys; do grep -q "^$k = " "$dir/empty.dump" || missing="$missing $k"; done
if [ -z "$missing" ]; then t_pass config/dump-every-key; else
	t_fail config/dump-every-key "not dumped:$missing"; fi
if grep -qx "log_facility = local3" "$dir/every.dump" && grep -qx "log_level = notice" "$dir/every.dump" &&
	grep -qx "sender_login_maps = $dir/dump.map" "$dir/every.dump" &&
	grep -qx "pid_file = $dir/run/rg.pid" "$dir/every.dump" &&
	grep -qx "spf_engine = libspf2" "$dir/every.dump"; then
	t_pass config/dump-values
else
	t_fail config/dump-values "$(grep -E '^(log_|sender_login|pid_file|spf_engine)' "$dir/every.dump" | tr '\n' ' ')"
fi
