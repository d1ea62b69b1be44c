# tests/spam/extspam_lib.sh - what the spamd and Rspamd scenarios share
# (tests/spam/spamd_backend.sh, rspamd_backend.sh): test messages, a
# misbehaving engine on loopback (tests/tools/fakeengine), and the failure
# modes every engine must survive.  Source it after tests/scenarios/lib.sh.
#
#   ext_gtube FILE [FROM]   a message with GTUBE in its body
#   ext_ham FILE [FROM]     an ordinary message
#   ext_big FILE KB         an ordinary message of about KB kilobytes
#   has NAME REGEX          the output of scenario NAME has a line matching
#                           REGEX (extended), as a result of its own
#   fake_start MODE PORT    start fakeengine MODE on 127.0.0.1:PORT
#   fake_stop PORT          stop it
#   ext_valgrind NAME KEYS ARGS  "relayguard check" under valgrind (message
#                           on stdin): no error, no definite leak, a verdict
#   ext_bad_server ENGINE   ENGINE_server = a host name: -n fails at FILE:LINE
#   ext_failures ENGINE SYM KEYS PORT MODES
#                           for ENGINE (spamd|rspamd, key prefix) and its
#                           error symbol SYM: the daemon stopped (nothing
#                           on PORT), then each fakeengine MODE on PORT;
#                           each a tempfail with SYM and one warning line,
#                           within the timeout; KEYS the base items
EXT_FAKE_PID=
G1='XJS*C4JDBQADN1.NSBN3*2IDNEN*'
G2='GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'
IN="--client-ip 192.0.2.1 --helo mail.example.org --mail-from ann@example.org --rcpt bob@example.com"
OUT="--client-ip 192.0.2.1 --helo pc.local.test --mail-from alice@local.test --rcpt bob@example.com --auth-user alice"

_ext_msg() {
	local from=$2 subject=$3 body=$4
	printf 'Received: from pc.example.org (pc.example.org [198.51.100.7]) by mail.example.org with ESMTP id 4Q1; %s\r\nFrom: Ann <%s>\r\nTo: Bob <bob@example.com>\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s.%s@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n%s\r\n' \
		"$(date -R)" "$from" "$subject" "$(date -R)" "$RANDOM" "$$" "$body" >"$1"
}
ext_gtube() { _ext_msg "$1" "${2:-ann@example.org}" "test" "This is the GTUBE, the\r\n$G1$G2\r\nGeneric Test for Unsolicited Bulk Email"; }
ext_ham() { _ext_msg "$1" "${2:-ann@example.org}" "Thursday's meeting" "Hi Bob,\r\n\r\nthe meeting on Thursday moves to room 4 at ten. I will bring the\r\nminutes of the last one; please bring the budget figures.\r\n\r\nThanks,\r\nAnn"; }
ext_big() {
	local body
	body=$(for ((i = 0; i < $2 * 16; i++)); do printf 'line %05d of a long and boring report about nothing at all, ok\r\n' $i; done)
	_ext_msg "$1" ann@example.org "report" "$body"
}

has() {
	if grep -qE -- "$2" "$dir/$1.out"; then t_pass "check/$1-has-${3:-line}"; else
		t_fail "check/$1-has-${3:-line}" "no line /$2/ in $dir/$1.out"; fi
}

fake_start() {
	"$RG_TOP/tests/tools/fakeengine" "$1" 127.0.0.1 "$2" &
	EXT_FAKE_PID=$!
	wait_port "$2" 10
}
fake_stop() {
	[ -n "$EXT_FAKE_PID" ] || return 0
	kill "$EXT_FAKE_PID" 2>/dev/null
	wait "$EXT_FAKE_PID" 2>/dev/null
	EXT_FAKE_PID=
	wait_port_closed "$1" 5 2>/dev/null
	return 0
}

ext_valgrind() {
	local name=$1 rc=0
	command -v valgrind >/dev/null || { t_pass "valgrind/$name#skipped-no-valgrind"; return 0; }
	# shellcheck disable=SC2086
	rg_conf "$conf" $2
	cat >"$dir/$name.vg.eml"
	# shellcheck disable=SC2086
	valgrind -q --error-exitcode=99 --leak-check=full --num-callers=40 \
		--suppressions="$RG_TOP/tests/valgrind.supp" --errors-for-leak-kinds=definite \
		"$RG_BIN" check -c "$conf" $3 "$dir/$name.vg.eml" >"$dir/$name.vg.out" 2>"$dir/$name.vg.err" || rc=$?
	if [ $rc = 0 ] && grep -q '^verdict: ' "$dir/$name.vg.out"; then t_pass "valgrind/$name"; else
		t_fail "valgrind/$name" "exit $rc (99: valgrind errors), see $dir/$name.vg.err"; fi
}

ext_bad_server() {
	local e=$1 out rc=0 line
	rg_conf "$conf" "${e}=yes" "${e}_server=localhost:783"
	line=$(rg_line "$conf" "${e}_server")
	out=$("$RG_BIN" -c "$conf" -n 2>&1) || rc=$?
	if [ $rc != 0 ] && [[ $out == "$conf:$line: ${e}_server: bad server \"localhost:783\""* ]]; then
		t_pass "check/$e-bad-server"
	else
		t_fail "check/$e-bad-server" "exit $rc: $out"
	fi
}

# _ext_fail NAME ENGINE SYM KEYS WHY - one failure scenario: tempfail with
# SYM (detail matching WHY), one warning line, within 10 s
_ext_fail() {
	local name=$1 engine=$2 sym=$3 keys=$4 why=$5 t0 t1 n
	want="verdict: tempfail
reply: 451 4.3.0 Message could not be checked for spam, try again later"
	t0=$(date +%s)
	scenario "$name" "$keys" "$IN" < <(ext_gtube /dev/stdout)
	t1=$(date +%s)
	has "$name" "^symbol: $sym 0\\.00 $engine 127\\.0\\.0\\.1:[0-9]+: $why" error
	n=$(grep -cE "warning.*: $engine 127\\.0\\.0\\.1:[0-9]*: $why" "$dir/$name.err")
	if [ "$n" = 1 ]; then t_pass "check/$name-logged"; else
		t_fail "check/$name-logged" "$n warning lines in $dir/$name.err"; fi
	if [ $((t1 - t0)) -le 10 ]; then t_pass "check/$name-bounded"; else
		t_fail "check/$name-bounded" "took $((t1 - t0)) s"; fi
}

ext_failures() {
	local engine=$1 sym=$2 keys="$3 ${1}_server=127.0.0.1:$4 ${1}_timeout=1s" port=$4 mode
	shift 4
	# nothing listens: connection refused
	_ext_fail "$engine-down" "$engine" "$sym" "$keys" "connection refused"
	# spam_error_action = accept: the mail passes, the symbol says why
	want="verdict: accept"
	scenario "$engine-down-accept" "$keys spam_error_action=accept" "$IN" < <(ext_ham /dev/stdout)
	has "$engine-down-accept" "^symbol: $sym 0\\.00 .*connection refused" error
	for mode in "$@"; do
		local why
		case $mode in
		hang) why="no answer within 1000 ms" ;;
		close) why="connection closed without an answer" ;;
		garbage) why="not (a spamd|an HTTP) answer" ;;
		*-huge) why="answer over [0-9]+ bytes" ;;
		*-cut) why="answer cut short" ;;
		rspamd-json) why="not JSON" ;;
		esac
		fake_start "$mode" "$port" || { t_fail "check/$engine-$mode" "fakeengine did not start"; continue; }
		_ext_fail "$engine-$mode" "$engine" "$sym" "$keys" "$why"
		[ "$mode" = hang ] || ext_valgrind "$engine-$mode" "$keys" "$IN" < <(ext_gtube /dev/stdout)
		fake_stop "$port"
	done
}
