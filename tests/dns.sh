# tests/dns.sh - a private DNS server on loopback for relayguard's tests:
# knotd serving one root zone from a file, behind a proxy that can leave
# chosen names unanswered.  Source it after tests/lib.sh, or run it as a
# command (below).  Needs knotd, knotc, kdig (package knot, knot-dnsutils)
# and perl; needs root only because knotd keeps its default user.
#
#   resolver --> 127.0.0.1:$RG_DNSPROXY_PORT  tests/tools/dnsproxy (UDP+TCP)
#                  | forwards everything but the names in the drop file
#                  v
#                127.0.0.1:$RG_DNS_PORT       knotd, zone "." (UDP+TCP)
#
# Point resolvers at the proxy port (libunbound: ub_ctx_set_fwd(ctx,
# "127.0.0.1@$RG_DNSPROXY_PORT")).  The zone is the root, so any name can
# be served; no DNSSEC.
#
# Everything lives under one directory:
#
#   DIR/root.zone     the zone as tests write it (dns_zone_file): knot zone
#                     file syntax, with an SOA for "." (dns_start writes a
#                     minimal one when the file is missing)
#   DIR/drop          the names the proxy leaves unanswered (dns_drop_file):
#                     one a line, "#" comments; ASCII case and a final dot
#                     do not matter; "." is the root.  Types after a name
#                     narrow it: "n.test TXT MX" drops only those types,
#                     "n.test -TXT" all but TXT (the RFC 7208 suite's
#                     TIMEOUT listed after a TXT record); see
#                     tests/tools/dnsproxy
#   DIR/served.zone   what knot loads: root.zone plus the reload marker
#   DIR/knot.conf     knotd's configuration; DIR/run/ its pid file and
#                     control socket, DIR/db/ its databases
#   DIR/knot.log, DIR/dnsproxy.log, DIR/dnsproxy.pid
#   DIR/rig           the ports, for the command form
#
# Functions (DNS_DIR, DNS_CONF, DNS_KNOT_PID and DNS_PROXY_PID are the state
# they share):
#   dns_start DIR    write the configuration, start knotd and the proxy, and
#                    wait until both answer (0.12-0.18 s here).  An
#                    instance an aborted run left in DIR is stopped first.
#                    Fails when a port is taken (another suite on the same
#                    ports: set RG_DNS_PORT/RG_DNSPROXY_PORT).
#   dns_reload       serve root.zone and the drop file as they are now;
#                    returns once knot serves the new zone and the proxy
#                    has the new list (~40 ms; ~50 ms in command form).
#                    1 (with the tail of knot.log) when the zone does not
#                    load: knot then keeps serving the previous one (line
#                    numbers in knot.log are root.zone's: the marker is
#                    appended at the end).
#   dns_stop         stop both; safe to call twice, before dns_start, and
#                    from another shell: DNS_DIR=DIR dns_stop.
#   dns_zone_file    path of root.zone     dns_drop_file  path of drop
#   dns_running      exit 0 when knotd and the proxy both run.
#
# Command form, for programs that need to trigger a reload themselves (the
# state is read back from DIR):
#   bash tests/dns.sh start|reload|stop|status DIR
#
# Notes / pitfalls:
#   - knot loads the zone whole (zonefile-load: whole, journal-content:
#     none) and never writes it back.  The SOA serial need not change:
#     dns_reload appends a TXT record "_rg-reload-gen." with a fresh value
#     to the served copy and asks for it through the proxy until it shows,
#     so a writer may keep serial 1 forever.  Do not use that name in tests
#     (nor drop it).
#   - knot refuses a zone with mandatory semantic errors (no SOA, CNAME
#     beside other data at one name, ...) and says why in DIR/knot.log;
#     TXT strings over 255 bytes must be split ("a" "b").
#   - knot caps UDP answers at 1232 bytes (EDNS); bigger answers come
#     truncated and the resolver retries over TCP, which the proxy also
#     relays (and also drops).
#   - Resolvers cache: use TTL 0 in test zones, or a fresh resolver after a
#     reload, or a test sees the previous zone's answers.
#   - A dropped query is never answered, so each costs the client its whole
#     timeout.
#   - The proxy reads the drop file again on SIGHUP (dns_reload sends it)
#     and whenever its size, inode or mtime changes.

RG_DNS_PORT=${RG_DNS_PORT:-18853}
RG_DNSPROXY_PORT=${RG_DNSPROXY_PORT:-18854}
DNS_DIR=${DNS_DIR:-}
DNS_CONF=${DNS_CONF:-}
DNS_KNOT_PID=${DNS_KNOT_PID:-}
DNS_PROXY_PID=${DNS_PROXY_PID:-}
DNS_TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/tools
DNS_MARK=_rg-reload-gen.

_dns_err() { echo "dns.sh: $*" >&2; }

dns_zone_file() { echo "$DNS_DIR/root.zone"; }
dns_drop_file() { echo "$DNS_DIR/drop"; }

# _dns_ms - milliseconds since the epoch
_dns_ms() {
	local t=${EPOCHREALTIME//[.,]/}
	echo $((10#$t / 1000))
}

# _dns_listening PROTO PORT - something listens on 127.0.0.1:PORT (u/t)
_dns_listening() {
	ss -Hln"$1" "sport = :$2" 2>/dev/null | grep -q .
}

# _dns_pid_is PID STRING - PID runs and its command line holds STRING
_dns_pid_is() {
	# 2>/dev/null first: the process may end between the test and the read
	[ -n "$1" ] && [ -r "/proc/$1/cmdline" ] &&
		tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" | grep -qF -- "$2"
}

# _dns_knot_tag, _dns_proxy_tag - what only our processes' command lines hold
_dns_knot_tag() { echo "knotd -c $DNS_DIR/knot.conf"; }
_dns_proxy_tag() { echo "--drop $DNS_DIR/drop --pidfile"; }

# _dns_use DIR - take the state of the instance in DIR (command form)
_dns_use() {
	DNS_DIR=$(cd "$1" 2>/dev/null && pwd -P) || {
		_dns_err "no directory $1"
		return 1
	}
	DNS_CONF=$DNS_DIR/knot.conf
	if [ -f "$DNS_DIR/rig" ]; then
		# shellcheck disable=SC1091
		. "$DNS_DIR/rig"
	fi
	DNS_KNOT_PID=$(cat "$DNS_DIR/run/knot.pid" 2>/dev/null)
	DNS_PROXY_PID=$(cat "$DNS_DIR/dnsproxy.pid" 2>/dev/null)
}

dns_running() {
	_dns_pid_is "$DNS_KNOT_PID" "$(_dns_knot_tag)" &&
		_dns_pid_is "$DNS_PROXY_PID" "$(_dns_proxy_tag)"
}

# _dns_serve - copy root.zone to served.zone with a new marker; prints it
_dns_serve() {
	local gen="$$.${EPOCHREALTIME}.$RANDOM"
	{
		cat "$DNS_DIR/root.zone" || return 1
		printf '\n%s 0 IN TXT "%s"\n' "$DNS_MARK" "$gen"
	} >"$DNS_DIR/served.zone.tmp" &&
		mv -f "$DNS_DIR/served.zone.tmp" "$DNS_DIR/served.zone" || return 1
	echo "$gen"
}

# _dns_has_mark PORT GEN - the server on PORT serves marker GEN
_dns_has_mark() {
	[ "$(kdig +time=1 +retry=0 +short @127.0.0.1 -p "$1" "$DNS_MARK" TXT 2>/dev/null)" = "\"$2\"" ]
}

# _dns_wait_mark PORT GEN MS - wait at most MS milliseconds for the marker
_dns_wait_mark() {
	local end=$(($(_dns_ms) + $3))
	while :; do
		_dns_has_mark "$1" "$2" && return 0
		[ "$(_dns_ms)" -lt "$end" ] || return 1
		sleep 0.01
	done
}

_dns_log_tail() {
	_dns_err "tail of $DNS_DIR/$1:"
	tail -n "${2:-10}" "$DNS_DIR/$1" >&2 2>/dev/null
}

dns_start() {
	local dir=${1:-} gen p end
	if [ -z "$dir" ]; then
		_dns_err "usage: dns_start DIR"
		return 1
	fi
	case $dir in
	*[[:space:]\"\\]*) _dns_err "DIR must not contain white space, quotes or backslashes: $dir"; return 1 ;;
	esac
	mkdir -p "$dir/run" "$dir/db" || return 1
	DNS_DIR=$(cd "$dir" && pwd -P) || return 1
	DNS_CONF=$DNS_DIR/knot.conf
	# an instance an aborted run left here (dns_stop reads the pid files)
	DNS_KNOT_PID=
	DNS_PROXY_PID=
	dns_stop
	for p in "$RG_DNS_PORT" "$RG_DNSPROXY_PORT"; do
		if _dns_listening u "$p" || _dns_listening t "$p"; then
			_dns_err "port 127.0.0.1:$p is taken (set RG_DNS_PORT/RG_DNSPROXY_PORT)"
			return 1
		fi
	done
	echo "RG_DNS_PORT=$RG_DNS_PORT RG_DNSPROXY_PORT=$RG_DNSPROXY_PORT" >"$DNS_DIR/rig"

	[ -f "$DNS_DIR/root.zone" ] || cat >"$DNS_DIR/root.zone" <<'EOF'
.	0	IN	SOA	ns.test. hostmaster.test. 1 3600 600 86400 0
.	0	IN	NS	ns.test.
EOF
	[ -f "$DNS_DIR/drop" ] || : >"$DNS_DIR/drop"
	gen=$(_dns_serve) || return 1

	cat >"$DNS_CONF" <<EOF
# Private relayguard test DNS server; generated by tests/dns.sh.
server:
    rundir: "$DNS_DIR/run"
    pidfile: "$DNS_DIR/run/knot.pid"
    listen: 127.0.0.1@$RG_DNS_PORT
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
control:
    listen: "$DNS_DIR/run/knot.sock"
database:
    storage: "$DNS_DIR/db"
log:
  - target: stderr
    any: info
template:
  - id: default
    storage: "$DNS_DIR"
    zonefile-load: whole
    journal-content: none
    zonefile-sync: -1
    dnssec-signing: off
zone:
  - domain: .
    file: "$DNS_DIR/served.zone"
EOF
	rm -f "$DNS_DIR/run/knot.pid" "$DNS_DIR/run/knot.sock" "$DNS_DIR/dnsproxy.pid"
	setsid knotd -c "$DNS_CONF" </dev/null >>"$DNS_DIR/knot.log" 2>&1 &
	# The UDP socket is bound before the workers run and a query sent
	# then is lost (a 1 s kdig timeout): wait for the control socket
	# first, which knotd opens once the server runs.
	end=$(($(_dns_ms) + 5000))
	until [ -S "$DNS_DIR/run/knot.sock" ] &&
		knotc -c "$DNS_CONF" -t 1 status >/dev/null 2>&1; do
		if [ "$(_dns_ms)" -ge "$end" ]; then
			_dns_err "knotd did not start"
			_dns_log_tail knot.log
			dns_stop
			return 1
		fi
		sleep 0.01
	done
	DNS_KNOT_PID=$(cat "$DNS_DIR/run/knot.pid" 2>/dev/null)
	if ! _dns_wait_mark "$RG_DNS_PORT" "$gen" 5000; then
		_dns_err "knotd does not serve $DNS_DIR/root.zone"
		_dns_log_tail knot.log
		dns_stop
		return 1
	fi

	setsid perl "$DNS_TOOLS/dnsproxy" --listen "127.0.0.1:$RG_DNSPROXY_PORT" \
		--upstream "127.0.0.1:$RG_DNS_PORT" --drop "$DNS_DIR/drop" \
		--pidfile "$DNS_DIR/dnsproxy.pid" </dev/null >>"$DNS_DIR/dnsproxy.log" 2>&1 &
	end=$(($(_dns_ms) + 5000))
	until [ -s "$DNS_DIR/dnsproxy.pid" ]; do
		if [ "$(_dns_ms)" -ge "$end" ]; then
			_dns_err "dnsproxy did not start"
			_dns_log_tail dnsproxy.log
			dns_stop
			return 1
		fi
		sleep 0.01
	done
	DNS_PROXY_PID=$(cat "$DNS_DIR/dnsproxy.pid")
	if ! _dns_wait_mark "$RG_DNSPROXY_PORT" "$gen" 3000; then
		_dns_err "dnsproxy does not relay"
		_dns_log_tail dnsproxy.log
		dns_stop
		return 1
	fi
}

dns_reload() {
	local gen out
	if [ -z "$DNS_DIR" ] || [ ! -f "$DNS_CONF" ]; then
		_dns_err "no instance: call dns_start DIR first"
		return 1
	fi
	dns_running || {
		_dns_err "not running (see $DNS_DIR/knot.log, $DNS_DIR/dnsproxy.log)"
		return 1
	}
	gen=$(_dns_serve) || return 1
	# The proxy handles the signal before any query that arrives after it.
	kill -HUP "$DNS_PROXY_PID" || return 1
	# -b: returns when the reload event has finished; a zone that does
	# not load fails here, and knot keeps the previous one
	if ! out=$(knotc -c "$DNS_CONF" -b -t 10 zone-reload . 2>&1) &&
		! _dns_has_mark "$RG_DNS_PORT" "$gen"; then
		_dns_err "knotc zone-reload: $out"
		_dns_err "knot did not load $DNS_DIR/root.zone; it still serves the previous zone"
		_dns_log_tail knot.log 5
		return 1
	fi
	# asked through the proxy: knot serves the new zone, and the proxy is
	# up and has read the drop file (it handles SIGHUP first)
	if ! _dns_wait_mark "$RG_DNSPROXY_PORT" "$gen" 2000; then
		if _dns_has_mark "$RG_DNS_PORT" "$gen"; then
			_dns_err "dnsproxy does not relay"
			_dns_log_tail dnsproxy.log 5
		else
			_dns_err "knot does not serve the new $DNS_DIR/root.zone"
			_dns_log_tail knot.log 5
		fi
		return 1
	fi
}

# _dns_kill PID NAME - TERM (then KILL after 5 s) PID if it is NAME; wait
_dns_kill() {
	local pid=$1 name=$2 i
	_dns_pid_is "$pid" "$name" || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 500; i++)); do
		_dns_pid_is "$pid" "$name" || break
		# a zombie child of this shell: reap it
		if grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; then
			wait "$pid" 2>/dev/null
			break
		fi
		sleep 0.01
	done
	if _dns_pid_is "$pid" "$name"; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	return 0
}

dns_stop() {
	local kp=$DNS_KNOT_PID pp=$DNS_PROXY_PID
	if [ -n "$DNS_DIR" ]; then
		[ -n "$kp" ] || kp=$(cat "$DNS_DIR/run/knot.pid" 2>/dev/null)
		[ -n "$pp" ] || pp=$(cat "$DNS_DIR/dnsproxy.pid" 2>/dev/null)
	fi
	DNS_KNOT_PID=
	DNS_PROXY_PID=
	_dns_kill "$pp" "$(_dns_proxy_tag)"
	_dns_kill "$kp" "$(_dns_knot_tag)"
	if [ -n "$DNS_DIR" ]; then
		rm -f "$DNS_DIR/dnsproxy.pid" "$DNS_DIR/run/knot.pid"
	fi
	return 0
}

# the command form
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case ${1:-}:${2:-} in
	start:?*) dns_start "$2" ;;
	reload:?* | stop:?* | status:?*)
		_dns_use "$2" || exit 1
		case $1 in
		reload) dns_reload ;;
		stop) dns_stop ;;
		status) dns_running ;;
		esac
		;;
	*)
		echo "usage: $0 start|reload|stop|status DIR" >&2
		exit 2
		;;
	esac
fi
