#!/usr/bin/env bash
# tests/milter/run.sh - milter-protocol tests: miltertest scripts against
# the real daemon, run under valgrind (memcheck) unless RG_VALGRIND=no.
# The daemon's exit status after SIGTERM proves there were no memory errors
# and no definite leaks in everything the scripts did.
set -u
. "$(dirname "$0")/../lib.sh"
export RG_MILTER_DIR="$RG_TOP/tests/milter"
export RG_SOCKET="inet:$RG_MILTER_PORT@127.0.0.1"
dir=$RG_TMP/milter
rm -rf "$dir" && mkdir -p "$dir"

rg_valgrind "$dir"

# run_scripts LOG SCRIPT... - each script is one test
run_scripts() {
	local log=$1 s
	shift
	for s in "$@"; do
		if RG_PID=$RG_PID RG_CONF=$RG_CONF miltertest -s "$RG_MILTER_DIR/$s.lua" \
			>"$dir/$s.out" 2>&1; then
			t_pass "milter/$s"
		else
			t_fail "milter/$s" "$(tail -3 "$dir/$s.out" | tr '\n' ' ')"
		fi
	done
}

# stop_and_check NAME - SIGTERM, then the exit status must be 0
stop_and_check() {
	local rc=0
	rg_stop || rc=$?
	if [ $rc -eq 0 ]; then
		t_pass "milter/$1-clean-exit"
	else
		t_fail "milter/$1-clean-exit" "exit $rc (99: valgrind errors, see $dir/valgrind.*)"
		cat "$dir"/valgrind.* 2>/dev/null | head -40
	fi
}

echo "milter protocol tests (miltertest${wrapper:+, under valgrind})"
RG_CONF=$dir/rg.conf
rg_conf "$RG_CONF" "trusted_networks=10.0.0.0/8" "max_message_size=4k" \
	"max_header_size=2k"
if ! rg_start "$RG_CONF" "$dir/daemon.log" "${wrapper[@]}"; then
	t_fail milter/start "daemon did not listen: $(tail -5 "$dir/daemon.log")"
	exit 0
fi
export RG_PID RG_CONF
run_scripts "$dir/daemon.log" accept modes size hostile disconnect connection reload
if grep -q 'C1: verdict=accept .*symbols=CLIENT_ADDR_MALFORMED(0.00){client address "192.0.2.300"}' "$dir/daemon.log" &&
	grep -q 'C2: verdict=accept .*symbols=CLIENT_ADDR_MALFORMED(0.00){client address "192.0.2.300"}' "$dir/daemon.log"; then
	t_pass milter/connection-results-every-message
else
	t_fail milter/connection-results-every-message "C1/C2 lines without CLIENT_ADDR_MALFORMED in $dir/daemon.log"
fi

if grep -q "$RG_CONF:[0-9]*: bad log level \"loud\".*keeping the running configuration" "$dir/daemon.log"; then
	t_pass milter/reload-logs-file-line
else
	t_fail milter/reload-logs-file-line "no FILE:LINE line for the bad reload"
fi
if grep -q 'Q1: verdict=accept client=client.test\[192.0.2.1\] helo=<client.test> login=- from=<a@example.org> rcpt=<b@example.net>' "$dir/daemon.log" &&
	grep -q 'A1: verdict=accept .* login=alice .*mode=outbound .*symbols=AUTHENTICATED' "$dir/daemon.log" &&
	grep -q 'NOQUEUE: verdict=reject reply="552 5.3.4' "$dir/daemon.log"; then
	t_pass milter/summary-log-lines
else
	t_fail milter/summary-log-lines "summary lines missing from $dir/daemon.log"
fi

# the sender gate, on a daemon of its own with the example map
main_pid=$RG_PID main_port=$RG_MILTER_PORT
RG_MILTER_PORT=$((RG_MILTER_PORT + 1))
export RG_SOCKET="inet:$RG_MILTER_PORT@127.0.0.1" RG_MAP=$dir/login.map
cp "$RG_TOP/conf/sender_login_maps.example" "$RG_MAP"
rg_conf "$dir/sender.conf" "sender_login_maps=$RG_MAP" "local_domains=example.com" \
	"trusted_networks=10.0.0.0/8"
if rg_start "$dir/sender.conf" "$dir/sender.log" "${wrapper[@]}"; then
	run_scripts "$dir/sender.log" sender
	missing=""
	while IFS='|' read -r id reply; do
		grep -qF "$id: verdict=reject reply=\"$reply\"" "$dir/sender.log" ||
			missing="$missing [$id: $reply]"
	done <<'EOT'
E2|553 5.7.1 <bob@example.com>: Sender address rejected: not owned by user alice
E3|553 5.7.1 <alice@example.com>: Sender address rejected: not logged in
E4|553 5.7.1 <>: Sender address rejected: not owned by user alice
H2|550 5.7.1 <bob@example.com>: From address not owned by user alice
H3|550 5.7.1 Message must have exactly one From header
H4|550 5.7.1 Message must have one From header
H5|550 5.7.1 <bob@example.com>: Sender header address not owned by user alice
H6|550 5.7.1 Malformed From header
H8|550 5.7.1 <bob@example.com>: From address not owned by user alice
EOT
	if [ -z "$missing" ]; then t_pass milter/sender-replies; else
		t_fail milter/sender-replies "not in $dir/sender.log:$missing"; fi
	if grep -q 'H7: verdict=accept .*FROM_DISPLAY_SPOOF' "$dir/sender.log"; then
		t_pass milter/sender-display-spoof-symbol
	else
		t_fail milter/sender-display-spoof-symbol "no FROM_DISPLAY_SPOOF for H7"
	fi
	# a broken map at SIGHUP: the whole reload is refused, the old map stays
	echo "broken-line-without-owners" >>"$RG_MAP"
	kill -HUP "$RG_PID"
	sleep 1
	if grep -q "$RG_MAP:[0-9]*: \"broken-line-without-owners\" has no owners" "$dir/sender.log"; then
		t_pass milter/sender-broken-map-logged
	else
		t_fail milter/sender-broken-map-logged "no MAP:LINE line in $dir/sender.log"
	fi
	stop_and_check sender-daemon
else
	t_fail milter/sender-start "$(tail -3 "$dir/sender.log")"
fi
RG_PID=$main_pid RG_MILTER_PORT=$main_port
export RG_SOCKET="inet:$RG_MILTER_PORT@127.0.0.1"

run_scripts "$dir/daemon.log" sigterm
stop_and_check daemon
if grep -q 'stopped' "$dir/daemon.log"; then t_pass milter/sigterm-logged; else
	t_fail milter/sigterm-logged "no 'stopped' line"; fi
