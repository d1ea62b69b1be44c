#!/usr/bin/env bash
# tests/milter/mload.sh - bench/mload, the milter load generator of
# scripts/bench, against bench/floor and against relayguard: a few hundred
# messages each, one session a message and reused sessions, the built-in
# mix and bench/mkmix's.  Asserts only that every message got a verdict
# and none failed (no figure is judged); every milter on a unix socket in
# the scratch directory, so no port is taken.  About 5 seconds.
set -u
. "$(dirname "$0")/../lib.sh"
dir=$RG_TMP/mload
rm -rf "$dir" && mkdir -p "$dir"
echo "milter load generator (bench/mload)"
make -s bench/mload bench/floor >"$dir/make.log" 2>&1 ||
	{ t_fail milter/mload-build "$(tail -3 "$dir/make.log" | tr '\n' ' ')"; exit 0; }
ML=$RG_BUILD/bench/mload

# mload_case NAME ARGS... - one run; passes when it exits 0 with every
# message answered (ok= equals msgs=, failed=0)
mload_case() {
	local name=$1 out
	shift
	if out=$(timeout 60 "$ML" -o "$@" 2>"$dir/$name.err") &&
		[[ $out =~ msgs=([0-9]+)\ ok=([0-9]+)\ failed=0 ]] &&
		[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ]; then
		t_pass "milter/mload-$name"
	else
		t_fail "milter/mload-$name" "${out:-no output} $(tail -2 "$dir/$name.err" | tr '\n' ' ')"
	fi
	echo "$out" >"$dir/$name.out"
}

/usr/bin/python3 "$RG_TOP/bench/mkmix" "$dir/mix" >"$dir/mkmix.log" 2>&1 ||
	t_fail milter/mload-mkmix "$(tail -2 "$dir/mkmix.log" | tr '\n' ' ')"

setsid "$RG_BUILD/bench/floor" -p "unix:$dir/floor.sock" >"$dir/floor.log" 2>&1 </dev/null &
fpid=$!
if wait_socket "$dir/floor.sock" 5 "$fpid"; then
	mload_case floor -s "unix:$dir/floor.sock" -c 8 -n 300 -p "$fpid"
	mload_case floor-reuse -s "unix:$dir/floor.sock" -c 4 -n 300 -r
	[ -f "$dir/mix/text.eml" ] && mload_case floor-mix -s "unix:$dir/floor.sock" -c 4 -n 300 -m "$dir/mix"
	[ -f "$dir/mix/text.eml" ] && mload_case floor-mix-unique -s "unix:$dir/floor.sock" -c 4 -n 300 -m "$dir/mix" -u
else
	t_fail milter/mload-floor "bench/floor did not start: $(tail -2 "$dir/floor.log")"
fi
kill -TERM "$fpid" 2>/dev/null && wait "$fpid" 2>/dev/null

# -u through SMTP (-S): smtp-sink dumps every message; each must carry a
# token of its own where bench/mkmix put the marker, and no marker
if [ -f "$dir/mix/text.eml" ] && command -v smtp-sink >/dev/null; then
	mkdir -p "$dir/dump" && chmod 0777 "$dir/dump"
	setsid smtp-sink -u nobody -d "$dir/dump/%H%M%S." "unix:$dir/sink.sock" 64 >"$dir/sink.log" 2>&1 </dev/null &
	spid=$!
	if wait_socket "$dir/sink.sock" 5 "$spid"; then
		mload_case smtp-unique -S -u -s "unix:$dir/sink.sock" -c 4 -n 60 -m "$dir/mix"
		sleep 0.2
		got=$(cat "$dir"/dump/* 2>/dev/null | grep -c '^X-Bench-Id: ')
		uniq=$(cat "$dir"/dump/* 2>/dev/null | sed -n 's/^X-Bench-Id: //p' | tr -d '\r' | sort -u | wc -l)
		marks=$(cat "$dir"/dump/* 2>/dev/null | grep -c XRGUNIQUEMARKERX)
		# multipart.eml (10 of the 60): the token also opens its attachments' base64
		atts=$(cat "$dir"/dump/* 2>/dev/null | tr -d '\r' | grep -A2 '^Content-Transfer-Encoding: base64$' |
			grep -E '^[A-Za-z0-9]{16}' | cut -c1-16 | sort -u | wc -l)
		if [ "$got" = 60 ] && [ "$uniq" = 60 ] && [ "$marks" = 0 ] && [ "$atts" -ge 10 ]; then
			t_pass milter/mload-smtp-unique-tokens
		else
			t_fail milter/mload-smtp-unique-tokens "$got messages, $uniq distinct X-Bench-Id, $marks markers left, $atts distinct attachment starts"
		fi
	else
		t_fail milter/mload-smtp-unique "smtp-sink did not start: $(tail -2 "$dir/sink.log")"
	fi
	kill -TERM "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
fi

# relayguard with the sender gate, the virus scan (test signatures, in
# process) and the spam engine (rules, an empty store): no DNS
conf=$dir/rg.conf
rg_conf "$conf" "socket=unix:$dir/rg.sock" "socket_mode=0600" "log_level=info" \
	"sender_login_maps=$RG_TOP/conf/sender_login_maps.example" \
	"av=yes" "av_backend=libclamav" "clamav_database=$RG_TOP/conf/clamav" \
	"spam=yes" "bayes_store=$dir/bayes"
setsid "$RG_BIN" -c "$conf" -f >"$dir/rg.log" 2>&1 </dev/null &
rpid=$!
if wait_socket "$dir/rg.sock" 10 "$rpid"; then
	mload_case relayguard -s "unix:$dir/rg.sock" -c 8 -n 300 -p "$rpid"
	[ -f "$dir/mix/text.eml" ] && mload_case relayguard-mix -s "unix:$dir/rg.sock" -c 4 -n 300 -m "$dir/mix" -p "$rpid" -u
	[ -f "$dir/mix/text.eml" ] && mload_case relayguard-mix-reuse-auth -s "unix:$dir/rg.sock" -c 4 -n 300 -m "$dir/mix" -r -a
	kill -0 "$rpid" 2>/dev/null && t_pass milter/mload-relayguard-alive ||
		t_fail milter/mload-relayguard-alive "relayguard died: $(tail -3 "$dir/rg.log")"
else
	t_fail milter/mload-relayguard "relayguard did not start: $(tail -3 "$dir/rg.log")"
fi
kill -TERM "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null
exit 0
