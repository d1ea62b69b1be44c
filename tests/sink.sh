# tests/sink.sh - one smtp-sink (Postfix's /usr/sbin/smtp-sink) on
# loopback, keeping each message as a file: the delivery end of the MTA
# rigs (tests/postfix.sh, tests/sendmail.sh).  Source after tests/lib.sh.
#
#   sink_start DIR PORT USER [SMTP-SINK-ARGS...]
#       start a sink on 127.0.0.1:PORT writing DIR/sink/, logging to
#       DIR/sink.log, its pid in DIR/sink.pid (and printed); waits until it
#       listens.  -d: one file per transaction, created at MAIL FROM,
#       closed before the reply to "."; removed on RSET or an abort.
#   sink_stop DIR PORT [PID]
#       stop it (the pid given, else DIR/sink.pid); safe twice and for a
#       sink an aborted run left behind.
#   sink_files DIR PID
#       complete messages in DIR/sink/, oldest first: the directory is
#       listed first, then the files the sink still has open are left out
#       (the other order can pass a file created in between as complete).

sink_listening() {
	ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

# sink_wait PORT STATE SECS - until the port listens (up) or not (down)
sink_wait() {
	local port=$1 state=$2 i
	for ((i = 0; i <= $3 * 10; i++)); do
		if sink_listening "$port"; then
			[ "$state" = up ] && return 0
		else
			[ "$state" = down ] && return 0
		fi
		sleep 0.1
	done
	return 1
}

sink_start() {
	local dir=$1 port=$2 user=$3 pid
	shift 3
	setsid smtp-sink -4 -u "$user" "$@" -d "$dir/sink/%Y%m%d%H%M%S." \
		127.0.0.1:"$port" 100 >>"$dir/sink.log" 2>&1 &
	pid=$!
	sink_wait "$port" up 10 || return 1
	# under job control setsid forks, and $! is not smtp-sink: ask ss
	if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != smtp-sink ]; then
		pid=$(ss -Hltnp "sport = :$port" 2>/dev/null |
			grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2)
	fi
	echo "$pid" >"$dir/sink.pid"
	echo "$pid"
}

sink_stop() {
	local dir=$1 port=$2 pid=${3:-}
	if [ -z "$pid" ] && [ -n "$dir" ] && [ -f "$dir/sink.pid" ]; then
		pid=$(cat "$dir/sink.pid")
	fi
	[ -n "$dir" ] && rm -f "$dir/sink.pid"
	[ -n "$pid" ] || return 0
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = smtp-sink ] || return 0
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	sink_wait "$port" down 5
	return 0
}

sink_files() {
	local dir=$1 pid=$2 files open="" f
	files=$(find "$dir/sink" -maxdepth 1 -type f -printf '%T@ %p\n' 2>/dev/null |
		sort -k1,1n -k2 | cut -d' ' -f2-)
	[ -n "$files" ] || return 0
	if [ -n "$pid" ] && [ -d "/proc/$pid/fd" ]; then
		open=$(find "/proc/$pid/fd" -type l -printf '%l\n' 2>/dev/null)
	fi
	while IFS= read -r f; do
		if [ -n "$open" ] && grep -qxF "$f" <<<"$open"; then continue; fi
		echo "$f"
	done <<<"$files"
}
