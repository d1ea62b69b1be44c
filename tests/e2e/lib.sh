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
# sink_file NAME [LIST] - the complete message with X-Test NAME in the sink
#   (LIST: the command listing the complete messages, sm_sink_files unless
#   given; pf_sink_files for the Postfix rig's sink)
sink_file() {
	local f
	for f in $(${2:-sm_sink_files}); do
		grep -qx "X-Test: $1" "$f" && { echo "$f"; return 0; }
	done
	return 1
}
# sink_count NAME - messages with X-Test NAME in the sink, complete or not
sink_count() { grep -lx "X-Test: $1" "$SM_DIR"/sink/* 2>/dev/null | wc -l; }
# last_reply NAME - the last two server lines of NAME's transcript
last_reply() { grep '^<' "$DIR/$1.txt" | tail -2 | tr '\n' ' '; }


# Prepared messages (the virus scan tests; they use $DIR):
# eml NAME MKVIRUS-ARGS... - tests/tools/mkvirus's message in $DIR/NAME.eml,
#   an "X-Test: NAME" field first (for delivered_with, sink_file, ...)
eml() {
	local name=$1
	shift
	{ printf 'X-Test: %s\r\n' "$name"; "$RG_TOP/tests/tools/mkvirus" "$@"; } >"$DIR/$name.eml"
}
# pf_eml NAME PORT FROM TO [SWAKS-ARGS...] - $DIR/NAME.eml as it is to
#   Postfix; transcript in $DIR/NAME.txt
pf_eml() {
	local name=$1
	shift
	pf_send "$@" --data @"$DIR/$name.eml" >"$DIR/$name.txt" 2>&1
	return 0
}
# sm_eml NAME FROM TO [SWAKS-ARGS...] - the same to Sendmail
sm_eml() {
	local name=$1
	shift
	sm_send "$@" --data @"$DIR/$name.eml" >"$DIR/$name.txt" 2>&1
	return 0
}
# field_count FILE NAME - how many NAME fields FILE's header section holds
field_count() {
	awk -v n="$2" 'BEGIN { n = tolower(n) } /^\r?$/ { exit }
		{ f = tolower($0); sub(/:.*/, "", f) } f == n { c++ } END { print c + 0 }' "${1:-/dev/null}"
}

# The virus scan (libclamav, the test signatures):
AV_EICAR=Eicar-Test-Signature.UNOFFICIAL
AV_EICAR_RE=${AV_EICAR//./\\.}
AV_REJECT_RE="554 5\.7\.1 Message contains virus $AV_EICAR_RE"
# av_conf FILE [KEY=VALUE...] - rg_conf with the scan on, its headers
av_conf() {
	local file=$1
	shift
	rg_conf "$file" "av=yes" "clamav_database=$RG_TOP/conf/clamav" "av_headers=yes" "$@"
}
# av_rejected NAME - the last reply in NAME's transcript is the 554 naming EICAR
av_rejected() { [[ "$(last_reply "$1")" =~ \<\*\*\ $AV_REJECT_RE ]]; }
# av_clean_eml NAME - $DIR/NAME.eml: clean (mkvirus zip --clean, to
#   someone@sink.test) but arriving with forged X-Virus-Status and
#   X-Virus-Scanned fields
av_clean_eml() {
	eml "$1" zip --clean --to someone@sink.test
	{ printf 'X-Virus-Status: Infected (Forged.Virus)\r\nX-Virus-Scanned: forged by the sender\r\n'
		cat "$DIR/$1.eml"; } >"$DIR/$1.new" && mv "$DIR/$1.new" "$DIR/$1.eml"
}
# av_clean_checks NAME FILE - checks: FILE, the delivered copy of
#   av_clean_eml's NAME, is there with our scan fields only: one
#   X-Virus-Status (Clean), one X-Virus-Scanned, nothing forged
av_clean_checks() {
	local name=$1 f=${2:-/dev/null}
	check "$name-delivered" "not in the sink: $(last_reply "$name")" test -n "${2:-}"
	check "$name-status" "X-Virus-Status fields: $(grep -i '^X-Virus-Status' "$f" | tr '\r\n' '  ')" \
		test "$(field_count "$f" X-Virus-Status)" = 1 -a "$(grep -c '^X-Virus-Status: Clean' "$f")" = 1
	check "$name-scanned" "X-Virus-Scanned fields: $(grep -i '^X-Virus-Scanned' "$f" | tr '\r\n' '  ')" \
		test "$(field_count "$f" X-Virus-Scanned)" = 1 -a "$(grep -c 'forged' "$f")" = 0
}
# rg_hup LOG - SIGHUP the daemon ($RG_PID), wait until LOG says it reloaded
rg_hup() {
	local before i
	before=$(grep -c 'configuration reloaded' "$1")
	kill -HUP "$RG_PID" || return 1
	for ((i = 0; i < 50; i++)); do
		[ "$(grep -c 'configuration reloaded' "$1")" -gt "$before" ] && return 0
		sleep 0.1
	done
	return 1
}
