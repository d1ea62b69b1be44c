# bench/side.sh - the side-by-side part of scripts/bench (issue 20),
# sourced by it: relayguard with every check, the classic chain and Rspamd
# behind the same Postfix, with the same messages, DNS data and
# signatures, in the same interleaved rounds; and bench/mload, the milter
# load generator, against the floor, relayguard and Rspamd without an MTA.
#
# Modes it adds to MODES (scripts/bench --side, the default; --no-side
# leaves them out):
#   rg-all   relayguard with every check that exists: the sender gate, SPF
#            (MAIL FROM and HELO), DKIM, DMARC, the virus scan in process
#            with the generated database (--av-sigs, default 100,000), the
#            spam engine on the store scripts/bench trained (rg-spam's;
#            an empty one with --no-spam); the DNS blocklists, rate
#            limits and the brake of rg_conf_write (scripts/bench)
#   chain    bench/chain.sh: OpenDKIM, OpenDMARC, policyd-spf,
#            clamav-milter and spamass-milter + spamd
#   rspamd   bench/rspamd.sh: rspamd_proxy in milter mode, Bayes in redis
#            (trained on the same split as relayguard's store when the
#            spam part runs), the antivirus module
# The chain and Rspamd scan through the bench's clamd (tests/clamd.sh, the
# generated database; started here when --av leaves clamd out); their
# figures include clamd's CPU and memory.
#
# The message mix (--mix, the default with --side; --no-mix keeps
# smtp-source's generated messages): bench/mkmix writes RG_BENCH_TMP/mix;
# its DKIM key goes into the bench's zone (and OpenDKIM's TestPublicKeys);
# every mode's load is bench/mload -S -u over the kinds every setup
# delivers (--mix-kinds, default text,html,multipart,dkim, in turn, over
# SESSIONS connections, one SMTP session a message), every message made
# unique where mkmix put its marker (Message-ID, X-Bench-Id, the text and
# the first line of each attachment's base64), so that no filter answers
# from a cache of digests (Rspamd's antivirus cache, ClamAV's clean-file
# cache); the kinds a filter rejects (spam, EICAR) are not in the Postfix
# loads, which must deliver every message: each setup must reject EICAR
# before the loads, and bench/mload sends the whole mix, spam and EICAR
# included, counting verdicts per kind.
#
# Latency at half of peak load (with --latency K > 0): after a round's
# loads and the usual sequential latency samples, bench/mload -S sends each
# mode max(K/ROUNDS, 5 seconds' worth) of the clean kinds through Postfix,
# paced at half that mode's rate in the round, every message timed from
# connect to the reply to "."; reported against Postfix alone at half its
# own peak.  DNS answers are cached by then.
#
# --side-soak SECONDS (e.g. 600): after the rounds, rg-all under bench/mload
# for that long, the whole mix at 50 connections; its RSS must stay flat
# (side_soak).
#
# bench/mload, once a round after the round's loads, the modes in the
# round's order (--no-mload skips it): MESSAGES messages of the whole mix
# over SESSIONS connections, one session a message, as fast as they go
# (msg/s, latency, the daemon's CPU per message and peak RSS); then
# MESSAGES/2 paced at half that rate (latency at half of peak load).
# Modes: floor, relayguard, rg-all, rspamd (the chain is four milters and
# a policy service: only through Postfix).
#
# CPU per message of a setup: the utime+stime+cutime+cstime of every
# process in the trees of its daemons (/proc/PID/stat), before and after
# a run; memory: RSS and PSS summed over the same processes
# (/proc/PID/smaps_rollup).
#
# Ports: rg-all listens on RG_SIDE_PORT (default RG_MILTER_PORT + 9); the
# chain and Rspamd on unix sockets only; the chain's network namespace is
# RG_BENCH_NETNS (default rgbench-RG_MILTER_PORT), its resolver a knotd on
# the namespace's own 127.0.0.1:53.
#
# Packages: side_install installs what is missing (apt-get, with a
# policy-rc.d that refuses to start services), idempotent; scripts/deps is
# left alone (scripts/test needs none of them).

SIDE_PKGS="opendkim opendmarc postfix-policyd-spf-python clamav-milter clamav-daemon spamass-milter spamassassin spamd spamc rspamd redis-server knot knot-dnsutils python3-dkim openssl"
RG_SIDE_PORT=${RG_SIDE_PORT:-$((RG_MILTER_PORT + 9))}
SIDE_STARTED_CLAMD= SIDE_MODES=() SIDE_RUNS=()
declare -A SIDE_MEM0=() SIDE_MEM1=() SIDE_ML=()

. "$top/bench/chain.sh"
. "$top/bench/rspamd.sh"

# side_install - the packages of the chain and Rspamd, when missing
side_install() {
	local p missing=() rc made=
	for p in $SIDE_PKGS; do
		dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	say "side: installing ${missing[*]}"
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && made=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 \
		--no-install-recommends "${missing[@]}" >"$B/side-apt.log" 2>&1
	rc=$?
	[ -n "$made" ] && rm -f /usr/sbin/policy-rc.d
	[ $rc = 0 ] || die "apt-get install ${missing[*]} failed: $(tail -n 3 "$B/side-apt.log")"
}

# side_tree PID... - the pids and all their descendants, one a line
side_tree() {
	ps -e -o pid=,ppid= | awk -v roots="$*" '
		BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) want[r[i]] = 1 }
		{ par[$1] = $2; pids[NR] = $1 }
		END {
			do { more = 0
				for (i in pids) { p = pids[i]; if (!(p in want) && (par[p] in want)) { want[p] = 1; more = 1 } }
			} while (more)
			for (p in want) print p
		}'
}
# side_pids MODE - the roots of a side mode's processes
side_pids() {
	case $1 in
	chain) chain_pids; [ -n "${CLAMD_PID:-}" ] && echo "$CLAMD_PID" ;;
	rspamd) rs_pids; [ -n "${CLAMD_PID:-}" ] && echo "$CLAMD_PID" ;;
	esac
	return 0
}
# side_cpu_ticks MODE - utime+stime+cutime+cstime over its process trees
side_cpu_ticks() { side_tree_ticks $(side_pids "$1"); }
# side_mem MODE - "RSS PSS" in kB summed over its process trees
side_mem() {
	local p
	for p in $(side_tree $(side_pids "$1")); do
		cat "/proc/$p/smaps_rollup" 2>/dev/null
	done | awk '/^Rss:/ { r += $2 } /^Pss:/ { p += $2 } END { print r + 0, p + 0 }'
}
# side_daemons MODE - "name:pid" of each daemon of a side mode
side_daemons() {
	case $1 in
	chain) echo "opendkim:$CH_DKIM_PID opendmarc:$CH_DMARC_PID policyd-spf:$CH_SPF_PID clamav-milter:$CH_CLAM_PID spamass-milter:$CH_SPAMASS_PID spamd:$CH_SPAMD_PID clamd:${CLAMD_PID:-}" ;;
	rspamd) echo "rspamd:$RS_PID redis-server:$RS_REDIS_PID clamd:${CLAMD_PID:-}" ;;
	esac
}
# side_tree_ticks PID... - utime+stime+cutime+cstime of the process trees
side_tree_ticks() {
	local p s t=0
	for p in $(side_tree "$@"); do
		s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		s=${s##*) }
		set -- $s
		t=$((t + ${12} + ${13} + ${14} + ${15}))
	done
	echo "$t"
}
# side_snap MODE 0|1 [COUNT] - each daemon's CPU before (0) and after (1)
# a run of COUNT messages: SIDE_DCPU[MODE,NAME] gets the run's µs per
# message, SIDE_DMEM[MODE,NAME] the daemon's "RSS PSS" (its tree) after it
declare -A SIDE_D0=() SIDE_DCPU=() SIDE_DMEM=()
side_snap() {
	local d name pid t hz
	hz=$(getconf CLK_TCK)
	for d in $(side_daemons "$1"); do
		name=${d%%:*} pid=${d#*:}
		[ -n "$pid" ] || continue
		t=$(side_tree_ticks "$pid")
		if [ "$2" = 0 ]; then
			SIDE_D0[$1,$name]=$t
		else
			SIDE_DCPU[$1,$name]+=" $(awk -v d=$((t - ${SIDE_D0[$1,$name]:-0})) -v hz="$hz" -v n="$3" 'BEGIN { printf "%.0f", d * 1e6 / hz / n }')"
			SIDE_DMEM[$1,$name]=$(for p in $(side_tree "$pid"); do cat "/proc/$p/smaps_rollup" 2>/dev/null; done |
				awk '/^Rss:/ { r += $2 } /^Pss:/ { p += $2 } END { print r + 0, p + 0 }')
		fi
	done
}
# side_daemon_line MODE - each daemon's CPU per message and memory, in words
side_daemon_line() {
	local d name out=""
	for d in $(side_daemons "$1"); do
		name=${d%%:*}
		out+="${out:+; }$name $(printf '%s\n' ${SIDE_DCPU[$1,$name]:-} | median %.0f) µs, RSS ${SIDE_DMEM[$1,$name]% *} kB, PSS ${SIDE_DMEM[$1,$name]#* } kB"
	done
	echo "$out"
}

# side_alive MODE - every daemon of the mode runs
side_alive() {
	case $1 in
	chain) [ "$(chain_pids | wc -l)" = 6 ] ;;
	rspamd) kill -0 "$RS_PID" 2>/dev/null && kill -0 "$RS_REDIS_PID" 2>/dev/null &&
		[ "$(pgrep -P "$RS_PID" | wc -l)" -ge 2 ] ;;
	esac
}

# side_rg_conf FILE - relayguard with every check (rg-all)
side_rg_conf() {
	local sock=$SOCK
	rg_conf_write "$1" "$sock" db
	cat >>"$1" <<EOF
dkim = yes
dmarc = yes
spam = yes
bayes_store = $([ -n "$SPAM" ] && echo "$SP/store-1" || echo "$B/side/bayes")
# the DNS blocklists (dnsbl_list, answers cached from the bench's zone),
# the rate limits and the brake come from rg_conf_write
EOF
	sed -i '0,/^spam = no$/{/^spam = no$/d}' "$1"
}

# side_setup - the mix, clamd, rg-all, the chain and Rspamd; adds the modes
side_setup() {
	local t0 k
	mkdir -p "$B/side" || die "cannot create $B/side"
	side_install
	/usr/bin/python3 "$top/bench/mkmix" "$B/mix" >"$B/side/mkmix.log" 2>&1 ||
		die "bench/mkmix failed: $(tail -n 2 "$B/side/mkmix.log")"
	MIX_INFO=$(tail -n 1 "$B/side/mkmix.log" | sed "s|$B/mix|RG_BENCH_TMP/mix|")
	for k in ${MIX_KINDS//,/ }; do [ -f "$B/mix/$k.eml" ] || die "--mix-kinds: no kind $k in bench/mkmix's mix"; done
	side_mix_clean
	cat "$B/mix/keys/dkim.zone" >>"$(dns_zone_file)"
	dns_reload >>"$B/setup.log" 2>&1 || die "dns_reload failed: $(tail -3 "$B/setup.log")"
	# the generated database, and a clamd on it for the chain and Rspamd
	if [ ! -d "$B/clamdb" ]; then
		python3 "$top/bench/mkclamdb" "$B/clamdb" "$AV_SIGS" >"$B/mkclamdb.log" 2>&1 ||
			die "bench/mkclamdb failed: $(tail -n 2 "$B/mkclamdb.log")"
		DB_GEN=$(tail -n 1 "$B/mkclamdb.log" | sed "s|$B/clamdb|RG_BENCH_TMP/clamdb|")
		DB_SIZE=$(du -sk "$B/clamdb" | cut -f1)
	fi
	if ! clamd_running 2>/dev/null; then
		ss -Hltn "sport = :$RG_CLAMD_PORT" | grep -q . && die "port $RG_CLAMD_PORT (clamd) is in use"
		clamd_start "$B/clamd" "$B/clamdb" >>"$B/setup.log" 2>&1 || die "clamd did not start: $(tail -n 5 "$B/setup.log")"
		SIDE_STARTED_CLAMD=1
	fi
	# relayguard with every check
	ss -Hltn "sport = :$RG_SIDE_PORT" | grep -q . && die "port $RG_SIDE_PORT is in use (RG_SIDE_PORT)"
	milter_socket rg-all "$RG_SIDE_PORT"
	PF_AV[rg-all]=$PFSOCK
	SIDE_SOCK[rg-all]=$SOCK
	side_rg_conf "$B/rg-all.conf"
	rg_launch rg-all "$B/rg-all.conf" "$RG_SIDE_PORT" rg-all
	AV_PIDS[rg-all]=$L_PID
	AV_LOAD[rg-all]=$(av_load_line "$B/rg-all.log")
	# the chain
	t0=$(_clamd_ms)
	chain_start "$B/chain" "$B/clamd/clamd.sock" "$DNS_DIR/root.zone" "$B/mix/keys/dkim.testkeys" \
		>>"$B/setup.log" 2>&1 || die "the chain did not start: $(tail -n 5 "$B/setup.log")"
	SIDE_START[chain]=$(($(_clamd_ms) - t0))
	# Rspamd (its first start compiles its hyperscan databases)
	t0=$(_clamd_ms)
	rs_start "$B/rspamd" "$B/clamd/clamd.sock" "127.0.0.1:$RG_DNSPROXY_PORT" >>"$B/setup.log" 2>&1 ||
		die "rspamd did not start: $(tail -n 5 "$B/setup.log")"
	SIDE_START[rspamd]=$(($(_clamd_ms) - t0))
	SIDE_SOCK[rspamd]=$(rs_socket)
	if [ -n "$SPAM" ]; then
		rs_learn "$SP/corpus/train/spam" "$SP/corpus/train/ham" ||
			die "rspamc learn failed: $(tail -n 3 "$B/rspamd/learn-spam.log" "$B/rspamd/learn-ham.log")"
		RS_LEARNED="Bayes trained on the same split as relayguard's store ($(grep -c 'success = true' "$B/rspamd/learn-spam.log" 2>/dev/null) spam, $(grep -c 'success = true' "$B/rspamd/learn-ham.log" 2>/dev/null) ham learned)"
	else
		RS_LEARNED="Bayes untrained (--no-spam)"
	fi
	milter_socket floor "$RG_FLOOR_PORT"
	SIDE_SOCK[floor]=$SOCK
	milter_socket rg "$RG_MILTER_PORT"
	SIDE_SOCK[relayguard]=$SOCK
	SIDE_MODES=(rg-all chain rspamd)
	MODES+=("${SIDE_MODES[@]}")
}
declare -A SIDE_SOCK=() SIDE_START=()
RS_LEARNED= MIX_INFO=

# side_set_mode MODE - Postfix's settings for a mode (0 when not a side
# mode); every mode resets the policy service the chain sets
side_set_mode() {
	pf_conf "smtpd_recipient_restrictions =" >/dev/null
	case $1 in
	chain) pf_conf "smtpd_milters = $(chain_milters)" "smtpd_recipient_restrictions = $(chain_policy)" >/dev/null ;;
	rspamd) pf_conf "smtpd_milters = $(rs_socket)" >/dev/null ;;
	*) return 1 ;;
	esac
}

# side_eicar_checks - each side mode rejects EICAR through Postfix
side_eicar_checks() {
	local m
	[ -f "$B/eicar.eml" ] || "$top/tests/tools/mkvirus" base64 --from "$SENDER" --to "$RCPT" >"$B/eicar.eml" ||
		die "tests/tools/mkvirus failed"
	say "side by side: rg-all, the chain and Rspamd must reject EICAR"
	for m in "${SIDE_MODES[@]}"; do reject_check "$m" "$B/eicar.eml" EICAR '5*'; done
}

# side_mload_pids MODE - -p arguments for bench/mload
side_mload_pids() {
	local p
	case $1 in
	floor) echo "-p $FLOOR_PID" ;;
	relayguard) echo "-p $RG_PID" ;;
	rg-all) echo "-p ${AV_PIDS[rg-all]}" ;;
	rspamd) for p in $(side_tree $(side_pids rspamd) | head -n 16); do printf -- '-p %s ' "$p"; done ;;
	esac
}
# kvget LINE KEY - a value of bench/mload's -o line
kvget() { printf '%s\n' "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { print $2; exit }'; }
# side_mload_round R - bench/mload over the modes, in the round's order
SIDE_ML_MODES=(floor relayguard rg-all rspamd)
side_mload_round() {
	local r=$1 n=${#SIDE_ML_MODES[@]} i m out half rate
	[ -n "$MLOAD" ] || return 0
	for ((i = 0; i < n; i++)); do
		m=${SIDE_ML_MODES[(i + r - 1) % n]}
		out=$("$B/mload" -s "${SIDE_SOCK[$m]}" -c "$SESSIONS" -n "$MESSAGES" -m "$B/mix" -u -o \
			$(side_mload_pids "$m") 2>"$B/mload-$m-$r.err")
		[ $? = 0 ] || { FAILED=1 LOST=1; say "  mload $m: FAILED: $out $(tail -n 2 "$B/mload-$m-$r.err")"; }
		rate=$(kvget "$out" msgs_per_s)
		half=$(awk -v r="$rate" 'BEGIN { printf "%.1f", r / 2 }')
		SIDE_ML[$m,rate]+=" $rate"
		SIDE_ML[$m,p50]+=" $(kvget "$out" p50_ms)" SIDE_ML[$m,p99]+=" $(kvget "$out" p99_ms)"
		SIDE_ML[$m,cpu]+=" $(kvget "$out" cpu_us_per_msg)" SIDE_ML[$m,rss]+=" $(kvget "$out" peak_rss_kb)"
		SIDE_ML[$m,verdicts]=$(printf '%s\n' "$out" | tr ' ' '\n' | grep '^v_' | tr '\n' ' ')
		say "  mload $m: $rate msg/s, p50 $(kvget "$out" p50_ms) p99 $(kvget "$out" p99_ms) ms, CPU $(kvget "$out" cpu_us_per_msg) us/msg, peak RSS $(kvget "$out" peak_rss_kb) kB"
		out=$("$B/mload" -s "${SIDE_SOCK[$m]}" -c "$SESSIONS" -n $((MESSAGES / 2 > 0 ? MESSAGES / 2 : 1)) \
			-m "$B/mix" -u -R "$half" -o 2>"$B/mload-$m-$r-half.err")
		[ $? = 0 ] || { FAILED=1 LOST=1; say "  mload $m at half load: FAILED: $out"; }
		SIDE_ML[$m,hp50]+=" $(kvget "$out" p50_ms)" SIDE_ML[$m,hp99]+=" $(kvget "$out" p99_ms)"
		say "  mload $m at $half msg/s: p50 $(kvget "$out" p50_ms) p99 $(kvget "$out" p99_ms) ms"
		mode_alive "$m" || { say "  $m DIED under bench/mload"; FAILED=1; }
	done
}

# side_mix_clean - RG_BENCH_TMP/mix-clean: the kinds of the Postfix loads
# (--mix-kinds of the mix, or with --no-mix a text of SIZE bytes as
# smtp-source sends), for bench/mload -S
side_mix_clean() {
	local k
	[ -d "$B/mix-clean" ] && return 0
	mkdir -p "$B/mix-clean"
	if [ -n "$MIX" ]; then
		for k in ${MIX_KINDS//,/ }; do ln -s "$B/mix/$k.eml" "$B/mix-clean/$k.eml"; done
	else
		# smtp-source's kind of message: SIZE bytes of text
		{ printf 'From: <%s>\nTo: <%s>\nSubject: latency\n\n' "$SENDER" "$RCPT"
			head -c "$SIZE" /dev/zero | tr '\0' 'a' | fold -w 76; echo; } >"$B/mix-clean/text.eml"
	fi
}

# side_half_latency MODE RATE K - latency through Postfix at half of the
# mode's RATE: bench/mload -S paces max(K, 5 s worth) messages of the
# clean kinds at RATE/2 over SESSIONS connections, one SMTP session a
# message, each timed from connect to the reply to "."; appended to
# $B/latency-half-MODE.txt.  Every message must be accepted and arrive.
side_half_latency() {
	local mode=$1 half n base out got k
	half=$(awk -v r="$2" 'BEGIN { h = r / 2; if (h < 0.5) h = 0.5; printf "%.1f", h }')
	n=$(awk -v h="$half" -v k="$3" 'BEGIN { n = int(h * 5); if (n < k) n = k; print n }')
	side_mix_clean
	set_mode "$mode"
	base=$(sink_count)
	out=$("$B/mload" -S -s "inet:$RG_SMTP_PORT@127.0.0.1" -c "$SESSIONS" -n "$n" -R "$half" \
		-m "$B/mix-clean" -u -o -l "$B/latency-half-chunk.txt" 2>"$B/latency-half-$mode.err")
	pf_wait_queue_empty 60
	sleep 0.3
	got=$(($(sink_count) - base))
	if [ "$(kvget "$out" ok)" != "$n" ] || [ "$(printf '%s\n' "$out" | tr ' ' '\n' | grep -c '^v_.*_accept=')" = 0 ] ||
		printf '%s\n' "$out" | tr ' ' '\n' | grep -qE '^v_.*_(reject|tempfail|failed)='; then
		say "  latency at half load, $mode: not every message accepted: $out"
		FAILED=1 LOST=1
	elif [ "$got" -ne "$n" ]; then
		say "  latency at half load, $mode: $got of $n delivered"
		FAILED=1 LOST=1
	fi
	cat "$B/latency-half-chunk.txt" >>"$B/latency-half-$mode.txt"
	SIDE_HALF[$mode]+=" $half"
}
declare -A SIDE_HALF=()
# side_round R K - after round R's loads: latency at half of each mode's
# rate of this round (K samples a mode, the round's order), then bench/mload
side_round() {
	local m
	if [ "$2" -gt 0 ]; then
		for m in "${order[@]}"; do side_half_latency "$m" "${this[$m]}" "$2"; done
	fi
	side_mload_round "$1"
}
# hlat MODE P - the P-th percentile of the half-load samples, in ms
hlat() { grep '^[0-9.]*$' "$B/latency-half-$1.txt" 2>/dev/null | pct "$2"; }

# side_soak SECONDS - rg-all under bench/mload for SECONDS: the whole mix
# at 50 connections (SESSIONS when more), in chunks of 2000 messages; its
# RSS after each chunk.  Fails when a message fails, relayguard dies, or
# its RSS after the last chunk exceeds that after the first by more than
# RG_BENCH_RSS_SLACK_KB (the first chunk fills caches and arenas).
SOAK_LINE=
side_soak() {
	local end c=0 out rss first= last pid=${AV_PIDS[rg-all]} conns=50 n=0 rates=""
	[ "$SESSIONS" -gt 50 ] && conns=$SESSIONS
	end=$(($(date +%s) + $1))
	say "side soak: rg-all, bench/mload, the whole mix at $conns connections for $1 s"
	while [ "$(date +%s)" -lt "$end" ]; do
		c=$((c + 1))
		out=$("$B/mload" -s "${SIDE_SOCK[rg-all]}" -c "$conns" -n 2000 -m "$B/mix" -u -o -p "$pid" 2>>"$B/side-soak.err")
		[ $? = 0 ] || { say "  chunk $c FAILED: $out"; FAILED=1 LOST=1; break; }
		mode_alive rg-all || { say "  rg-all DIED in chunk $c"; FAILED=1; break; }
		rss=$(vm "$pid" VmRSS)
		[ -n "$first" ] || first=$rss
		last=$rss n=$((n + 2000)) rates+=" $(kvget "$out" msgs_per_s)"
		say "  chunk $c: $(kvget "$out" msgs_per_s) msg/s, p99 $(kvget "$out" p99_ms) ms, RSS $rss kB"
	done
	SOAK_LINE="rg-all soak ($1 s, $conns connections, the whole mix): $n messages in $c chunks, msg/s per chunk:$rates; RSS after the first chunk ${first:-?} kB, after the last ${last:-?} kB (growth $(( ${last:-0} - ${first:-0} )) kB, allowed $RSS_SLACK_KB)"
	say "  $SOAK_LINE"
	[ -n "$first" ] && [ $((last - first)) -gt "$RSS_SLACK_KB" ] && { say "  RSS GREW"; FAILED=1; }
	return 0
}

# side_med MODE KEY [FORMAT] - the median of a bench/mload figure
side_med() { printf '%s\n' ${SIDE_ML[$1,$2]:-} | grep -v '^-1' | median "${3:-%.1f}"; }

# side_summary PREFIX - the side-by-side lines
side_summary() {
	local p=$1 m x
	[ ${#SIDE_MODES[@]} -gt 0 ] || return 0
	for m in "${SIDE_MODES[@]}"; do
		say "$p$m / alone: $(ratio "${MED[$m]}" "${MED[alone]}") (per round:${PR_A[$m]}), / floor: $(ratio "${MED[$m]}" "${MED[floor]}") (per round:${PR_F[$m]}); CPU $(side_cpu_cell "$m") per message; memory $(side_mem_cell "$m")"
	done
	for m in chain rspamd; do
		say "${p}$m per daemon (process trees; CPU per message, median of the rounds; memory after the last run): $(side_daemon_line "$m")"
	done
	say "${p}rg-all / floor: $(ratio "${MED[rg-all]}" "${MED[floor]}") (target at least 0.90)"
	say "${p}rg-all / rspamd (ratio of the ratios to alone): $(ratio "${MED[rg-all]}" "${MED[rspamd]}") (target at least 2; per round:$(side_rr rg-all rspamd))"
	# no milter passes the floor: its ratio to Rspamd bounds rg-all's
	say "${p}  the ceiling of that ratio, floor / rspamd: $(ratio "${MED[floor]}" "${MED[rspamd]}") (a milter that does nothing; no milter can do better through this Postfix)"
	say "${p}rg-all / chain: $(ratio "${MED[rg-all]}" "${MED[chain]}") (target at least 25; per round:$(side_rr rg-all chain))"
	if [ -n "${AV_LOAD[rg-all]:-}" ]; then
		x=$(echo "${AV_LOAD[rg-all]}" | awk '{ print $4 }')
		say "${p}rg-all's engine load: $(av_load_text rg-all); RSS ${MEM0[rg-all]% *} kB at start, ${MEM1[rg-all]% *} kB after the last run (peak ${PEAK[rg-all]} kB), less the engine $(awk -v r="${PEAK[rg-all]}" -v e="$x" 'BEGIN { printf "%.0f", r / 1024 - e }') MB at the peak: target under 100 MB plus the ClamAV engine"
	fi
	say "${p}start-up: the chain ${SIDE_START[chain]:-} ms, Rspamd ${SIDE_START[rspamd]:-} ms (its hyperscan databases compiled); Rspamd $RS_LEARNED"
	if [ "$LATENCY" -gt 0 ]; then
		for m in "${MODES[@]}"; do
			say "${p}latency at half of peak load, $m (about${SIDE_HALF[$m]:-} msg/s): p50 $(hlat "$m" 50) p99 $(hlat "$m" 99) ms; added vs alone p50 $(diff_ms "$(hlat "$m" 50)" "$(hlat alone 50)") p99 $(diff_ms "$(hlat "$m" 99)" "$(hlat alone 99)") ms$([ "$m" = rg-all ] && echo " (target p99 under 20 ms)")"
		done
	fi
	[ -n "$SOAK_LINE" ] && say "$p$SOAK_LINE"
	[ -n "$MIX" ] && say "${p}loads: bench/mload -S -u over $MIX_KINDS of the mix, every message unique ($MIX_INFO)"
	if [ -n "$MLOAD" ]; then
		for m in "${SIDE_ML_MODES[@]}"; do
			say "${p}mload $m: $(side_med "$m" rate) msg/s (runs:${SIDE_ML[$m,rate]:-}), p50 $(side_med "$m" p50 %.2f) p99 $(side_med "$m" p99 %.2f) ms; at half load p50 $(side_med "$m" hp50 %.2f) p99 $(side_med "$m" hp99 %.2f) ms (added vs floor p99 $(diff_ms "$(side_med "$m" hp99 %.2f)" "$(side_med floor hp99 %.2f)")); CPU $(side_med "$m" cpu %.0f) us/msg; peak RSS $(side_med "$m" rss %.0f) kB; verdicts (last run): ${SIDE_ML[$m,verdicts]:-}"
		done
		say "${p}mload rg-all / floor: $(ratio "$(side_med rg-all rate)" "$(side_med floor rate)"), rg-all / rspamd: $(ratio "$(side_med rg-all rate)" "$(side_med rspamd rate)")"
	fi
}
# side_rr A B - per-round ratios A/B of two modes' rates
side_rr() {
	local a b i out=""
	read -r -a a <<<"${RATES[$1]:-}"
	read -r -a b <<<"${RATES[$2]:-}"
	for ((i = 0; i < ${#a[@]}; i++)); do out+=" $(ratio "${a[i]}" "${b[i]:-}")"; done
	echo "$out"
}
side_cpu_cell() { echo "${CPU[$1]} µs (all its processes$([ "$1" != rg-all ] && echo ", clamd included"))"; }
side_mem_cell() {
	echo "RSS ${MEM0[$1]% *} → ${MEM1[$1]% *} kB, PSS ${MEM0[$1]#* } → ${MEM1[$1]#* } kB$([ "$1" != rg-all ] && echo " (every process, clamd included)")"
}
side_versions() {
	local p
	for p in opendkim opendmarc postfix-policyd-spf-python clamav-milter clamav-daemon spamass-milter spamassassin rspamd redis-server; do
		printf '%s %s, ' "$p" "$(dpkg-query -W -f '${Version}' "$p" 2>/dev/null)"
	done | sed 's/, $//'
}

# side_report - the Markdown section (inside write_report's block)
side_report() {
	local m
	[ ${#SIDE_MODES[@]} -gt 0 ] || return 0
	say ""
	say "## Side by side: relayguard with every check, the classic chain, Rspamd"
	say ""
	say "Same Postfix, same rounds, same messages$([ -n "$MIX" ] && echo " (bench/mkmix's $MIX_KINDS through bench/mload -S -u, every message unique)"), same DNS (the bench's knot; the chain's"
	say "resolv.conf-only daemons in a network namespace with a knotd serving a copy of the zone), same"
	say "$(sigs_label)-signature database (relayguard in process; the chain and Rspamd through one clamd)."
	say "rg-all: relayguard with the sender gate, SPF, DKIM, DMARC, AV, the spam engine, DNS blocklists"
	say "(cached answers), rate limits and the brake.  The chain: OpenDKIM (verify, TestPublicKeys), OpenDMARC, policyd-spf,"
	say "clamav-milter, spamass-milter + spamd (SpamAssassin untrained).  Rspamd: rspamd_proxy in milter mode"
	say "(self scan, $(nproc) workers), SPF/DKIM/DMARC, antivirus on clamd, $RS_LEARNED."
	say ""
	say "| setup | msg/s (median) | / alone | / floor | added latency at half of peak load, p50 / p99 (ms) | CPU per message | RSS after the last run | PSS after the last run |"
	say "|---|---:|---:|---:|---:|---:|---:|---:|"
	for m in alone floor rg-all rspamd chain; do
		[ -n "${MED[$m]:-}" ] || continue
		if [ "$m" = alone ]; then
			say "| $(label "$m") | ${MED[$m]} | 1.00 | - | - | - | - | - |"
			continue
		fi
		say "| $([ "$m" = rg-all ] && echo "**$(label "$m")**" || label "$m") | ${MED[$m]} | $(ratio "${MED[$m]}" "${MED[alone]}") | $(ratio "${MED[$m]}" "${MED[floor]}") | $([ "$LATENCY" -gt 0 ] && echo "$(diff_ms "$(hlat "$m" 50)" "$(hlat alone 50)") / $(diff_ms "$(hlat "$m" 99)" "$(hlat alone 99)")" || echo -) | ${CPU[$m]} µs | ${MEM1[$m]% *} kB | ${MEM1[$m]#* } kB |"
	done
	say ""
	say "CPU and memory: every process of the setup (the chain's five daemons and clamd, Rspamd's"
	say "processes, Redis and clamd; relayguard's one process with its in-process ClamAV engine; the"
	say "floor's one process); Postfix's own processes are in none of them.  Latency: each setup at"
	say "half of its own rate in the round, against Postfix alone at half of its own."
	say ""
	say "- versions: $(side_versions)"
	side_summary "- "
	if [ -n "$MLOAD" ]; then
		say ""
		say "### Without an MTA: bench/mload"
		say ""
		say "$MESSAGES messages of the whole mix (spam and EICAR included) over $SESSIONS connections, one milter"
		say "session a message, as fast as they go; then $((MESSAGES / 2)) at half that rate.  Medians of the rounds."
		say ""
		say "| milter | msg/s | p50 / p99 (ms) | half load p50 / p99 (ms) | CPU per msg | peak RSS | verdicts (last run) |"
		say "|---|---:|---:|---:|---:|---:|---|"
		for m in "${SIDE_ML_MODES[@]}"; do
			say "| $m | $(side_med "$m" rate) | $(side_med "$m" p50 %.2f) / $(side_med "$m" p99 %.2f) | $(side_med "$m" hp50 %.2f) / $(side_med "$m" hp99 %.2f) | $(side_med "$m" cpu %.0f) µs | $(side_med "$m" rss %.0f) kB | ${SIDE_ML[$m,verdicts]:-} |"
		done
	fi
}

# side_cleanup - stop what side_setup started (from scripts/bench's trap)
side_cleanup() {
	chain_stop >/dev/null 2>&1
	rs_stop >/dev/null 2>&1
	if [ -n "$SIDE_STARTED_CLAMD" ]; then clamd_stop >/dev/null 2>&1; fi
	return 0
}
