# tests/clamd.sh - a private clamd for relayguard's tests: its own
# clamd.conf, a signature directory of the test's choosing, a unix socket
# and a TCP socket on 127.0.0.1, so both kinds of clamd socket can be
# tested.  Source it after tests/lib.sh, or run it as a command (below).
# Needs /usr/sbin/clamd (package clamav-daemon) and perl (to ask PING);
# runs clamd as root ("User root"), so it needs root.
#
#   client --> unix:DIR/clamd.sock           clamd -c DIR/clamd.conf
#          --> inet:$RG_CLAMD_PORT@127.0.0.1   (same daemon)
#
# Everything lives under one directory:
#
#   DIR/clamd.conf   clamd's configuration (written by clamd_start)
#   DIR/clamd.sock   the unix socket (clamd removes it when it stops)
#   DIR/clamd.pid    its pid file (removed when it stops)
#   DIR/clamd.log    its log ("INSTREAM: Size limit reached" lines and all)
#   DIR/clamd.out    its stdout and stderr
#   DIR/tmp/         its TemporaryDirectory (streams are kept there while
#                    scanned; the default would be /tmp)
#
# Environment:
#   RG_CLAMD_PORT        TCP port on 127.0.0.1 (default 13310)
#   RG_CLAMD_STREAM_MAX  StreamMaxLength (default 25M; clamd's own is 100M)
#   RG_CLAMD_WAIT        seconds clamd_start waits for PONG (default 60)
#
# Functions (CLAMD_DIR and CLAMD_PID are the state they share):
#   clamd_start DIR SIGDIR  write DIR/clamd.conf with DatabaseDirectory
#                    SIGDIR, start clamd in the background, and wait until
#                    the unix socket answers PING with PONG and the TCP
#                    port listens.  An instance an aborted run left in DIR
#                    is stopped first.  Fails (with the tail of clamd.log)
#                    when clamd does not answer in time or the port is
#                    taken.
#   clamd_stop       stop it; safe to call twice, before clamd_start, and
#                    from another shell: CLAMD_DIR=DIR clamd_stop.
#   clamd_socket     print the unix socket as relayguard names it
#                    ("unix:DIR/clamd.sock")
#   clamd_inet       print the TCP socket ("inet:PORT@127.0.0.1")
#   clamd_ask SOCKET CMD  send "zCMD\0" to a unix socket path, print the
#                    answer without its NUL (PING -> PONG, VERSION)
#   clamd_running    exit 0 when our clamd runs.
#
# Command form: bash tests/clamd.sh start DIR SIGDIR | stop DIR | status DIR
#
# Notes / pitfalls (ClamAV 1.4.6, Debian 12):
#   - With conf/clamav (two signatures) clamd answers PONG 30-40 ms after
#     it starts, and stops in 10-30 ms (with ClamAV's full databases it
#     takes tens of seconds and about 1 GB: hence RG_CLAMD_WAIT).
#     clamd_start waits for PONG, not for the socket file.
#   - Answers (each ends with a NUL after the "z" prefix): "stream: OK",
#     "stream: NAME FOUND" where a name from a database that is not
#     ClamAV's own carries ".UNOFFICIAL" ("Eicar-Test-Signature.UNOFFICIAL"),
#     "INSTREAM size limit exceeded. ERROR", "UNKNOWN COMMAND" (no ERROR).
#   - StreamMaxLength is inclusive: a stream of exactly that many bytes is
#     scanned, one byte more is the size-limit error.  clamd answers as
#     soon as a chunk would pass the limit and closes the connection with
#     the rest unread: the client's next send fails (EPIPE, or ECONNRESET
#     over TCP) but the answer can still be read.
#   - clamd logs "Received 0 file descriptor(s) from systemd." at start;
#     harmless.

RG_CLAMD_PORT=${RG_CLAMD_PORT:-13310}
RG_CLAMD_STREAM_MAX=${RG_CLAMD_STREAM_MAX:-25M}
RG_CLAMD_WAIT=${RG_CLAMD_WAIT:-60}
CLAMD_DIR=${CLAMD_DIR:-}
CLAMD_PID=${CLAMD_PID:-}
CLAMD_BIN=${CLAMD_BIN:-/usr/sbin/clamd}

_clamd_err() { echo "clamd.sh: $*" >&2; }

clamd_socket() { echo "unix:$CLAMD_DIR/clamd.sock"; }
clamd_inet() { echo "inet:$RG_CLAMD_PORT@127.0.0.1"; }

# _clamd_ms - milliseconds since the epoch
_clamd_ms() {
	local t=${EPOCHREALTIME//[.,]/}
	echo $((10#$t / 1000))
}

# _clamd_tag - what only our clamd's command line holds
_clamd_tag() { echo "clamd -c $CLAMD_DIR/clamd.conf"; }

# _clamd_pid_is PID - PID runs and is our clamd
_clamd_pid_is() {
	[ -n "$1" ] && [ -r "/proc/$1/cmdline" ] &&
		tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" | grep -qF -- "$(_clamd_tag)"
}

clamd_running() { _clamd_pid_is "$CLAMD_PID"; }

clamd_ask() {
	perl -MIO::Socket::UNIX -e '
		alarm 5;
		my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => $ARGV[0])
			or exit 1;
		print $s "z$ARGV[1]\0";
		local $/ = "\0";
		my $r = <$s>;
		defined $r or exit 1;
		chomp $r;
		print "$r\n";' "$1" "$2" 2>/dev/null
}

_clamd_log_tail() {
	_clamd_err "tail of $CLAMD_DIR/clamd.log:"
	tail -n "${1:-15}" "$CLAMD_DIR/clamd.log" >&2 2>/dev/null
	tail -n 5 "$CLAMD_DIR/clamd.out" >&2 2>/dev/null
}

clamd_start() {
	local dir=${1:-} sigdir=${2:-} end launched
	if [ -z "$dir" ] || [ -z "$sigdir" ]; then
		_clamd_err "usage: clamd_start DIR SIGDIR"
		return 1
	fi
	case $dir$sigdir in
	*[[:space:]\"\\]*) _clamd_err "DIR and SIGDIR must not contain white space, quotes or backslashes"; return 1 ;;
	esac
	[ -x "$CLAMD_BIN" ] || { _clamd_err "no $CLAMD_BIN (package clamav-daemon)"; return 1; }
	sigdir=$(cd "$sigdir" 2>/dev/null && pwd -P) || { _clamd_err "no directory $2"; return 1; }
	mkdir -p "$dir/tmp" || return 1
	CLAMD_DIR=$(cd "$dir" && pwd -P) || return 1
	# an instance an aborted run left here (clamd_stop reads the pid file)
	CLAMD_PID=
	clamd_stop
	if ss -Hlnt "sport = :$RG_CLAMD_PORT" 2>/dev/null | grep -q .; then
		_clamd_err "port 127.0.0.1:$RG_CLAMD_PORT is taken (set RG_CLAMD_PORT)"
		return 1
	fi
	cat >"$CLAMD_DIR/clamd.conf" <<EOF
# Private relayguard test clamd; generated by tests/clamd.sh.
Foreground yes
User root
LocalSocket $CLAMD_DIR/clamd.sock
TCPSocket $RG_CLAMD_PORT
TCPAddr 127.0.0.1
DatabaseDirectory $sigdir
TemporaryDirectory $CLAMD_DIR/tmp
PidFile $CLAMD_DIR/clamd.pid
LogFile $CLAMD_DIR/clamd.log
LogTime yes
StreamMaxLength $RG_CLAMD_STREAM_MAX
MaxThreads 4
SelfCheck 3600
EOF
	rm -f "$CLAMD_DIR/clamd.sock" "$CLAMD_DIR/clamd.pid"
	setsid "$CLAMD_BIN" -c "$CLAMD_DIR/clamd.conf" </dev/null >>"$CLAMD_DIR/clamd.out" 2>&1 &
	CLAMD_PID=$!
	launched=$!
	end=$(($(_clamd_ms) + RG_CLAMD_WAIT * 1000))
	until [ "$(clamd_ask "$CLAMD_DIR/clamd.sock" PING)" = PONG ] &&
		ss -Hlnt "sport = :$RG_CLAMD_PORT" 2>/dev/null | grep -q .; do
		# setsid forks when this shell has job control: the pid file
		# then names clamd, $! does not
		_clamd_pid_is "$CLAMD_PID" ||
			CLAMD_PID=$(cat "$CLAMD_DIR/clamd.pid" 2>/dev/null)
		if ! clamd_running; then
			_clamd_err "clamd exited before it answered PING"
			wait "$launched" 2>/dev/null	# reap it
			_clamd_log_tail
			clamd_stop
			return 1
		fi
		if [ "$(_clamd_ms)" -ge "$end" ]; then
			_clamd_err "clamd did not answer PING within $RG_CLAMD_WAIT s"
			_clamd_log_tail
			clamd_stop
			return 1
		fi
		sleep 0.1
	done
}

clamd_stop() {
	local pid=$CLAMD_PID i
	[ -n "$pid" ] || [ -z "$CLAMD_DIR" ] || pid=$(cat "$CLAMD_DIR/clamd.pid" 2>/dev/null)
	CLAMD_PID=
	if _clamd_pid_is "$pid"; then
		kill -TERM "$pid" 2>/dev/null
		for ((i = 0; i < 1000; i++)); do
			_clamd_pid_is "$pid" || break
			# a zombie child of this shell: reap it
			if grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; then
				wait "$pid" 2>/dev/null
				break
			fi
			sleep 0.01
		done
		if _clamd_pid_is "$pid"; then
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
		fi
	fi
	if [ -n "$CLAMD_DIR" ]; then
		rm -f "$CLAMD_DIR/clamd.pid" "$CLAMD_DIR/clamd.sock"
		rm -rf "$CLAMD_DIR/tmp"/* 2>/dev/null
	fi
	return 0
}

# the command form
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case ${1:-}:${2:-} in
	start:?*) clamd_start "$2" "${3:-}" ;;
	stop:?* | status:?*)
		CLAMD_DIR=$(cd "$2" 2>/dev/null && pwd -P) || { _clamd_err "no directory $2"; exit 1; }
		case $1 in
		stop) clamd_stop ;;
		status) clamd_running || _clamd_pid_is "$(cat "$CLAMD_DIR/clamd.pid" 2>/dev/null)" ;;
		esac
		;;
	*)
		echo "usage: $0 start DIR SIGDIR | stop DIR | status DIR" >&2
		exit 2
		;;
	esac
fi
