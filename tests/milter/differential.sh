#!/usr/bin/env bash
# tests/milter/differential.sh - every scenario of tests/scenarios both
# through "relayguard check" and through the daemon, compared.
#
# The scenarios run once more with RG_DIFF_DIR set: for each, check
# writes (--emit-miltertest) a miltertest script that sends the daemon
# exactly the milter steps check sent its own callbacks, and fails unless
# every step gets the same answer, the same SMTP reply and the same
# header edits.  Then the daemon's summary line for that message must
# name the same symbols, scores and details as check's symbol: lines.
# One daemon per distinct configuration.  A scenario whose steps
# miltertest cannot send is listed below with the reason.
set -u
. "$(dirname "$0")/../lib.sh"
export RG_MILTER_DIR="$RG_TOP/tests/milter"
dir=$RG_TMP/differential
rm -rf "$dir" && mkdir -p "$dir/emit"
echo "check and the daemon, scenario by scenario (miltertest)"

# scenarios the replay cannot express, and why
declare -A skip=(
	[header-too-big]="miltertest 2.11 overflows its stack on a 3 KB header field"
	[default-sender-return-path-long]="miltertest 2.11 overflows its stack on a 5 KB MAIL FROM"
)
# and on the 1.1 KB padding field of the first-field scans
for s in single zip on-disk clean; do
	skip[av-first-header-$s]="miltertest 2.11 overflows its stack on a 1.1 KB header field"
done
# rate limits and the brake count across messages (one daemon keeps its
# counters over the replays, the brake's store outlives each run)
for s in $(sed -n 's/^scenario \(\(ratelimit\|brake\)-[a-z0-9-]*\) .*/\1/p' \
	"$RG_TOP/tests/scenarios/ratelimit.sh"); do
	skip[$s]="stateful: counters carry from one replay to the next"
done

for t in "$RG_TOP"/tests/scenarios/*.sh; do
	[ "$(basename "$t")" = lib.sh ] && continue
	RG_DIFF_DIR=$dir/emit RG_RESULTS=$dir/ignored bash "$t" >/dev/null 2>&1
done
n=$(ls "$dir"/emit/*.lua 2>/dev/null | wc -l)
if [ "$n" -lt 50 ]; then
	t_fail differential/emitted "only $n scenario replays written"
	exit 0
fi

# symbols_of FILE - "NAME SCORE DETAIL" of check's symbol: lines, with the
# detail as the summary line shows it (braces, commas -> _, 120 bytes)
symbols_of() {
	sed -n 's/^symbol: //p' "$1" | while IFS= read -r line; do
		name=${line%% *}; rest=${line#* }; score=${rest%% *}
		detail=""; [ "$rest" != "$score" ] && detail=${rest#* }
		detail=$(printf '%s' "$detail" | tr '{},' '___')
		[ ${#detail} -gt 120 ] && detail="${detail:0:120}..."
		if [ -n "$detail" ]; then
			printf '%s(%s){%s}\n' "$name" "$score" "$detail"
		else
			printf '%s(%s)\n' "$name" "$score"
		fi
	done
}

# symbols_logged LOG QID - the same from the daemon's summary line
symbols_logged() {
	grep -a " $2: verdict=" "$1" | tail -1 | sed 's/.* symbols=//' |
		awk '{ s = $0; out = ""; depth = 0
			for (i = 1; i <= length(s); i++) {
				c = substr(s, i, 1)
				if (c == "{") depth++
				if (c == "}") depth--
				if (c == "," && depth == 0) { print out; out = "" }
				else out = out c
			}
			if (out != "-") print out }'
}

port=$RG_MILTER_PORT
declare -A daemon_port=()
pids=()
agreed=0 differed=0 skipped=0
# pass 1 as configured; pass 2 with the no-reply steps (milter_no_reply)
for pass in 1 2; do
if [ $pass = 2 ]; then
	for conf in "$dir"/emit/*.conf; do
		echo "milter_no_reply = yes" >>"$conf"
		name=$(basename "$conf" .conf)
		[ -f "$dir/emit/$name.lua" ] || continue
		# shellcheck disable=SC2086
		"$RG_BIN" check -c "$conf" $(cat "$dir/emit/$name.args") \
			--queue-id "DIFF-$name" --emit-miltertest "$dir/emit/$name.lua" \
			"$dir/emit/$name.eml" >"$dir/emit/$name.out" 2>/dev/null
	done
fi
for lua in "$dir"/emit/*.lua; do
	name=$(basename "$lua" .lua)
	if [ -n "${skip[$name]:-}" ] || [ -n "${skip[${name%-noreply}]:-}" ]; then
		skipped=$((skipped + 1))
		continue
	fi
	conf=$dir/emit/$name.conf
	sum=$(grep -v '^socket\|^log ' "$conf" | md5sum | cut -c1-12)
	if [ -z "${daemon_port[$sum]:-}" ]; then
		port=$((port + 1))
		{ grep -v '^socket\|^log ' "$conf"; echo "socket = inet:$port@127.0.0.1"
		  echo "log = stderr"; } >"$dir/$sum.conf"
		RG_MILTER_PORT=$port rg_start "$dir/$sum.conf" "$dir/$sum.log" ||
			{ t_fail "differential/$name" "daemon did not start: $(tail -2 "$dir/$sum.log")"; continue; }
		pids+=("$RG_PID")
		daemon_port[$sum]=$port
	fi
	why=""
	if ! RG_SOCKET="inet:${daemon_port[$sum]}@127.0.0.1" miltertest -s "$lua" \
		>"$dir/$name.mt" 2>&1; then
		why="milter steps differ: $(tail -2 "$dir/$name.mt" | tr '\n' ' ')"
	else
		sleep 0.05
		want=$(symbols_of "$dir/emit/$name.out")
		got=$(symbols_logged "$dir/$sum.log" "DIFF-$name")
		[ "$want" = "$got" ] || why="symbols: check [$(echo $want)] daemon [$(echo $got)]"
		want=$(sed -n 's/^reply: //p' "$dir/emit/$name.out")
		got=$(grep -a " DIFF-$name: verdict=" "$dir/$sum.log" | tail -1 |
			sed -n 's/.* reply="\(.*\)" client=.*/\1/p')
		[ "$want" = "$got" ] || why="$why reply: check [$want] daemon [$got]"
		want=$(sed -n 's/^verdict: //p' "$dir/emit/$name.out")
		got=$(grep -a " DIFF-$name: verdict=" "$dir/$sum.log" | tail -1 |
			sed -n 's/.* verdict=\([a-z]*\).*/\1/p')
		[ "$want" = "$got" ] || why="$why verdict: check [$want] daemon [$got]"
	fi
	if [ -z "$why" ]; then
		agreed=$((agreed + 1))
	else
		differed=$((differed + 1))
		t_fail "differential/$name$([ $pass = 2 ] && echo -noreply)" "$why"
	fi
done
done
for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
wait 2>/dev/null
echo "  $agreed scenarios agree, $differed differ, $skipped skipped"
[ "$differed" -eq 0 ] && t_pass "differential/all-$agreed-agree"
[ "$agreed" -ge 140 ] || t_fail differential/count "only $agreed runs agreed"
exit 0
