#!/usr/bin/env bash
# tests/av/clamd_client.sh - the clamd client (policy/checks/av/avclamd.c)
# against a real clamd (tests/clamd.sh) that loaded conf/clamav: the Check
# case "real" of tests/unit/check_avclamd.c over the unix and the TCP
# socket (EICAR, the test marker, a clean and an empty message, a stream
# at and one byte over StreamMaxLength), the same case under valgrind,
# then clamd stopped mid-run: the case "stopped" (AV_UNAVAILABLE from
# both sockets).  One result line a Check test.
#   RG_CLAMD_PORT (default 13310), RG_CLAMD_STREAM_MAX (here 1M), RG_KEEP
set -u
. "$(dirname "$0")/../lib.sh"
. "$RG_TOP/tests/clamd.sh"
dir=$RG_TMP/av-clamd
rm -rf "$dir" && mkdir -p "$dir"
trap 'clamd_stop >/dev/null 2>&1' EXIT
export RG_CLAMD_STREAM_MAX=${RG_CLAMD_STREAM_MAX:-1M}
unit=$RG_BUILD/tests/unit/check_policy
failed=0

# fail NAME WHY - t_fail, counted
fail() {
	t_fail "$1" "$2"
	failed=$((failed + 1))
}

# unit_case NAME CASE [WRAPPER...] - one case of the avclamd suite (log:
# DIR/NAME.log), results named av/clamd-NAME/TEST#I
unit_case() {
	local name=$1 case=$2
	shift 2
	rg_unit_case avclamd "av/clamd-$name" "$dir/$name.log" "$case" 60 "$@" ||
		failed=$((failed + 1))
}

echo "clamd client against a real clamd"
make -s -C "$RG_BUILD" tests/unit/check_policy >/dev/null 2>&1
if [ ! -x "$unit" ]; then
	fail av/clamd-setup "no $unit (build first)"
	exit 0
fi
if ! clamd_start "$dir/clamd" "$RG_TOP/conf/clamav" >"$dir/setup.log" 2>&1; then
	fail av/clamd-setup "clamd_start failed: $(tail -1 "$dir/setup.log")"
	exit 0
fi
RG_CLAMD_SOCKET=$(clamd_socket)
RG_CLAMD_INET=$(clamd_inet)
export RG_CLAMD_SOCKET RG_CLAMD_INET

unit_case real real
if grep -q 'INSTREAM: Size limit reached' "$dir/clamd/clamd.log"; then
	t_pass av/clamd-log-size-limit
else
	fail av/clamd-log-size-limit "no size-limit line in $dir/clamd/clamd.log"
fi
if command -v valgrind >/dev/null; then
	unit_case real-valgrind real env CK_FORK=no valgrind -q \
		--error-exitcode=99 --leak-check=full --num-callers=40 \
		--suppressions="$RG_TOP/tests/valgrind.supp" \
		--errors-for-leak-kinds=definite,indirect
	[ $failed != 0 ] || t_pass av/clamd-valgrind-clean
fi

# clamd stopped mid-run: both sockets gone, every scan unavailable
clamd_stop
if clamd_running || [ -e "$dir/clamd/clamd.sock" ]; then
	fail av/clamd-stop "clamd still runs (see $dir/clamd/clamd.log)"
else
	t_pass av/clamd-stop
fi
RG_CLAMD_STOPPED=1 unit_case stopped stopped

if [ "$failed" -eq 0 ] && [ -z "${RG_KEEP:-}" ]; then
	rm -rf "$dir"
fi
exit 0
