# tests/scenarios/lib.sh - the scenario runner for "relayguard check".
#
# Each scenario gives configuration lines, command-line options and a
# message, and lists lines the output must contain (want) or must not
# contain (never).  The exact output format is DESIGN.md section 4.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
dir=$RG_TMP/scenarios/$(basename "$0" .sh)
rm -rf "$dir" && mkdir -p "$dir"
conf=$dir/rg.conf

# scenario NAME CONF_ITEMS ARGS - message on stdin; then want/never lines
# in $want / $never (newline-separated), and the exit status in $status
scenario() {
	local name=$1 items=$2 args=$3 out rc=0 line ok=1 why=""
	# shellcheck disable=SC2086
	rg_conf "$conf" $items
	cat >"$dir/$name.eml"
	# shellcheck disable=SC2086
	out=$("$RG_BIN" check -c "$conf" $args "$dir/$name.eml" 2>"$dir/$name.err") || rc=$?
	echo "$out" >"$dir/$name.out"
	# tests/milter/differential.sh: the same run once more, writing the
	# miltertest replay of its steps, to compare with the daemon
	if [ -n "${RG_DIFF_DIR:-}" ] && [ "$rc" = 0 ]; then
		cp "$conf" "$RG_DIFF_DIR/$name.conf"
		cp "$dir/$name.eml" "$RG_DIFF_DIR/$name.eml"
		printf '%s\n' "$args" >"$RG_DIFF_DIR/$name.args"
		# shellcheck disable=SC2086
		"$RG_BIN" check -c "$conf" $args --queue-id "DIFF-$name" \
			--emit-miltertest "$RG_DIFF_DIR/$name.lua" "$dir/$name.eml" \
			>"$RG_DIFF_DIR/$name.out" 2>/dev/null ||
			rm -f "$RG_DIFF_DIR/$name.lua"
	fi
	if [ "$rc" != "${status:-0}" ]; then ok=0; why="exit $rc"; fi
	while IFS= read -r line; do
		[ -z "$line" ] && continue
		grep -qxF -- "$line" <<<"$out" || { ok=0; why="$why; missing: $line"; }
	done <<<"${want:-}"
	while IFS= read -r line; do
		[ -z "$line" ] && continue
		grep -qF -- "$line" <<<"$out" && { ok=0; why="$why; unexpected: $line"; }
	done <<<"${never:-}"
	if [ $ok = 1 ]; then t_pass "check/$name"; else t_fail "check/$name" "$why"; fi
	want="" never="" status=0
}

