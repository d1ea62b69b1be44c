# tests/e2e/lib.sh - helpers of the end-to-end tests (source after
# tests/postfix.sh; they use $DIR, $T and $PF_DIR).

# send NAME PORT FROM TO [SWAKS-ARGS...] - transcript in $DIR/NAME.txt
send() {
	local name=$1
	shift
	pf_send "$@" --header "Subject: $name" --header "X-Test: $name" \
		--body "e2e test $name" >"$DIR/$name.txt" 2>&1
	return 0
}
# transcript NAME REGEX - the server said REGEX in NAME's transcript
transcript() { grep -qE "^<[~*-]* *$2" "$DIR/$1.txt"; }
# delivered_with NAME REGEX - the message with X-Test NAME has a line REGEX
delivered_with() {
	local f
	f=$(grep -l "^X-Test: $1\$" "$PF_DIR"/maildir/*/new/* 2>/dev/null | head -1)
	[ -n "$f" ] && grep -qE "$2" "$f"
}
delivered_count() { grep -l "^X-Test: $1\$" "$PF_DIR"/maildir/*/new/* 2>/dev/null | wc -l; }
# smtp_dialog PORT COMMAND... - a raw SMTP session; prints every reply line
smtp_dialog() {
	local port=$1 line cmd
	shift
	exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
	for cmd in "" "$@"; do
		[ -n "$cmd" ] && printf '%s\r\n' "$cmd" >&3
		while IFS= read -r -t 10 line <&3; do
			line=${line%$'\r'}
			echo "$line"
			[[ $line =~ ^[0-9]{3}\  ]] && break
		done
	done
	exec 3<&-
}
check() {
	local name=$1 why=$2
	shift 2
	if "$@"; then t_pass "$T/$name"; else t_fail "$T/$name" "$why"; fi
}


# Sendmail rigs (tests/sendmail.sh; they use $DIR and $SM_DIR):
# sm_msg NAME FROM TO [SWAKS-ARGS...] - to Sendmail; transcript in $DIR/NAME.txt
sm_msg() {
	local name=$1
	shift
	sm_send "$@" --header "Subject: $name" --header "X-Test: $name" \
		--body "e2e test $name" >"$DIR/$name.txt" 2>&1
	return 0
}
# sink_file NAME - the complete message with X-Test NAME in the sink
sink_file() {
	local f
	for f in $(sm_sink_files); do
		grep -qx "X-Test: $1" "$f" && { echo "$f"; return 0; }
	done
	return 1
}
# sink_count NAME - messages with X-Test NAME in the sink, complete or not
sink_count() { grep -lx "X-Test: $1" "$SM_DIR"/sink/* 2>/dev/null | wc -l; }
# last_reply NAME - the last two server lines of NAME's transcript
last_reply() { grep '^<' "$DIR/$1.txt" | tail -2 | tr '\n' ' '; }
