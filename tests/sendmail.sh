# tests/sendmail.sh - a private Sendmail 8.17 on loopback for relayguard's
# end-to-end tests.  Source it after tests/lib.sh (it uses RG_TMP and
# RG_MILTER_PORT).  Needs root, apt-get (once, to download the packages),
# dpkg-deb, m4, unshare(1), mount(8), flock(1), ss(8), smtp-sink and the
# postfix user (package postfix), swaks, saslpasswd2 (sm_adduser only).
#
# Debian's sendmail-bin conflicts with the postfix package the project
# uses, so it is never installed: `apt-get download` fetches sendmail-bin,
# sendmail-cf, sendmail-base and libwrap0 (sendmail links libwrap.so.0,
# which nothing else here pulls in) once into a cache directory, and
# sm_setup unpacks them with `dpkg-deb -x` into DIR/root.  Nothing outside
# DIR and the cache is written; the system's /etc/mail is not read.
#
#   DIR/root/            the unpacked packages: the binary is
#                        root/usr/libexec/sendmail/sendmail, the m4 files
#                        root/usr/share/sendmail/cf/, libwrap.so.0 is in
#                        root/usr/lib/<multiarch>/ (LD_LIBRARY_PATH)
#   DIR/etc/sendmail.mc  the configuration source; sendmail.cf built by m4
#   DIR/etc/             aliases(.db), helpfile, service.switch, hosts,
#                        resolv.conf, nsswitch.conf, sasl/Sendmail.conf
#   DIR/queue/           QueueDirectory (mode 700, root)
#   DIR/sink/            one file per message accepted by smtp-sink
#   DIR/sasldb2          Cyrus sasldb (sm_adduser)
#   DIR/sendmail.pid     confPID_FILE (pid, then the command line)
#   DIR/sm.pid, sink.pid the pids sm_stop uses
#   DIR/sendmail.out     sendmail's stdout/stderr
#   DIR/debug.log        -d output when RG_SM_DEBUG is set
#   DIR/traffic.log      sendmail -X: every SMTP line of the server side
#                        ("<<<" from the client) and of the client side (to
#                        the sink), each prefixed by the process id
#   DIR/sink.log         smtp-sink's stdout/stderr
#
# Services (127.0.0.1 only):
#   127.0.0.1:$RG_SM_PORT       Sendmail's MTA daemon (DaemonPortOptions
#                               Name=MTA; no MSA on 587: FEATURE
#                               no_default_msa).  Greets "220 mx.test ESMTP
#                               Sendmail 8.17.1.9".  Relays sink.test
#                               (RELAY_DOMAIN); it also relays anything from
#                               127.0.0.1 (Sendmail's rule "originated
#                               locally"), harmless here because every SMTP
#                               mailer only ever connects to the sink port.
#                               No AUTH until sm_adduser.
#   127.0.0.1:$RG_SM_SINK_PORT  smtp-sink, the SMART_HOST ([127.0.0.1], the
#                               port in RELAY_MAILER_ARGS), as user postfix.
#   milter: INPUT_MAIL_FILTER(`relayguard', `S=inet:$RG_MILTER_PORT@127.0.0.1,
#           F=T, T=S:10s;R:20s;E:1m').  Macros (Sendmail's cf defaults):
#           connect j, _, {daemon_name}, {if_name}, {if_addr}; helo TLS
#           ones; envfrom i, {auth_type}, {auth_authen}, {auth_ssf},
#           {auth_author}, {mail_mailer}, {mail_host}, {mail_addr}; envrcpt
#           {rcpt_mailer}, {rcpt_host}, {rcpt_addr}; eom {msg_id}.  No
#           {client_addr}/{client_name}: milters get the address from the
#           connect callback.  With relayguard down (F=T): "451 4.3.2 Please
#           try again later" at MAIL FROM, "454 4.3.0 Please try again
#           later" to AUTH.
#   SMTP AUTH (after sm_adduser): PLAIN and LOGIN over plain TCP against
#           DIR/sasldb2; TRUST_AUTH_MECH, so an authenticated client may
#           relay anywhere (to the sink).
#
# Functions (SM_DIR, SM_PID, SM_SINK_PID are the state they share):
#   sm_setup DIR          download the packages into $RG_SM_CACHE (once,
#                         under a lock; later calls reuse them), unpack them
#                         into DIR/root, write DIR/etc, build sendmail.cf
#                         and the alias db.  An existing DIR is reused
#                         (rm -rf it for a clean run).  Sets SM_DIR.
#   sm_adduser USER PW [REALM]
#                         add a sasldb user (REALM defaults to mx.test) and
#                         turn SMTP AUTH on (rebuilds sendmail.cf; takes
#                         effect at the next sm_start).  The login is USER
#                         or USER@REALM; {auth_authen} is the login as the
#                         client typed it ("alice" for --auth-user alice).
#   sm_start              start smtp-sink and sendmail -bD; waits until both
#                         listen (asks ss: no test connection reaches the
#                         milter).  Sets SM_PID (the daemon's pid, kept from
#                         the start: sendmail rewrites its process title)
#                         and writes it to DIR/sm.pid.
#   sm_stop               stop sendmail (it stops its children) and the
#                         sink; safe twice, before sm_start or before
#                         sm_setup.  After an aborted run: SM_DIR=DIR sm_stop
#   sm_running            exit 0 when the daemon started by sm_start runs.
#   sm_sink_files         complete messages in DIR/sink/, oldest first
#                         (files smtp-sink still has open are left out).
#                         Each holds X-Client-Addr:, X-Helo-Args: mx.test,
#                         X-Mail-Args:, X-Rcpt-Args:..., the sink's
#                         Received:, then the message as relayed; lines end
#                         in LF.
#   sm_wait_sink COUNT [SECS]
#                         wait (default 10 s) until the sink holds COUNT
#                         messages: 0 when exactly COUNT, 1 on timeout, 2
#                         when more.
#   sm_queue_count        messages waiting in DIR/queue (qf files).
#   sm_mailq [ARGS...]    sendmail -bp on the instance (in its namespaces):
#                         the queue listing; -qQ lists the quarantined
#                         messages instead (their control files are hf*,
#                         not qf*, with the reason on a "q" line, and no
#                         queue run delivers them until released).
#   sm_send FROM TO [SWAKS-ARGS...]
#                         swaks to 127.0.0.1:$RG_SM_PORT; prints the
#                         transcript, returns swaks' status.
#   sm_queue_id FILE      the queue id in a swaks transcript FILE ("250
#                         2.0.0 QUEUEID Message accepted for delivery").
#   sm_traffic            path of DIR/traffic.log.
#
# Environment: RG_SM_PORT (18725), RG_SM_SINK_PORT (18726), RG_SM_CACHE
# (where the .debs are kept; default /var/cache/relayguard-test/sendmail:
# outside RG_TMP, which scripts/test wipes), RG_SM_DEBUG (sendmail debug
# flags for sm_start, e.g. "-d64.5" for the milter protocol; written to
# DIR/debug.log).
#
# Notes / pitfalls:
#   - Sendmail resolves its own host name at start, the client's address,
#     sender domains and the hosts it relays to; with the machine's
#     resolv.conf it can stall a minute.  So sendmail runs in private UTS
#     and mount namespaces (unshare --uts --mount --propagation private):
#     hostname mx.test, and DIR/etc/{hosts,resolv.conf,nsswitch.conf}
#     bind-mounted over /etc's (hosts: files only; nameserver 127.0.0.1,
#     where nothing answers).  The .cf adds confSERVICE_SWITCH_FILE (hosts
#     files), confHOSTS_FILE, FEATURE(nocanonify),
#     FEATURE(accept_unresolvable_domains) (else MAIL FROM:<a@example.org>
#     gets "553 5.1.8 <a@example.org>... Domain of sender address
#     a@example.org does not exist"), confDONT_PROBE_INTERFACES,
#     confBIND_OPTS.  The mounts are private to sendmail and vanish with it.
#   - The hosts file maps 127.0.0.1 to mx.test: Sendmail looks the client
#     up there, so milters see the client name "mx.test" (Postfix's rig
#     says "[127.0.0.1]": smtpd_peername_lookup = no).
#   - sendmail is setgid mail: the loader ignores LD_LIBRARY_PATH for it
#     (secure execution) and it fails with "libwrap.so.0: cannot open
#     shared object file".  sm_setup clears the setgid bit in DIR/root (it
#     runs as root anyway).
#   - sendmail empties its environment at start: SASL_CONF_PATH cannot
#     point Cyrus at DIR/etc/sasl.  Cyrus looks for Sendmail.conf in
#     /etc/sasl2:/etc/sasl:/usr/lib/<multiarch>/sasl2:/usr/lib/sasl2, so
#     the namespace bind-mounts DIR/etc/sasl over /usr/lib/sasl2 (a
#     directory that exists wherever libsasl2 does).  Without a SASL
#     configuration sendmail would offer "AUTH DIGEST-MD5 CRAM-MD5" (the
#     default AuthMechanisms that the installed plugins support): the .cf
#     sets an empty confAUTH_MECHANISMS until sm_adduser.
#   - The help file macro is HELP_FILE, not confHELP_FILE (that one is
#     silently ignored: HelpFile stays /etc/mail/helpfile).
#   - Paths under /tmp are "unsafe" to Sendmail (a world-writable parent):
#     confDONT_BLAME_SENDMAIL = TrustStickyBit makes the sticky /tmp
#     acceptable.  DIR must be owned by root, not group/world writable.
#   - Sendmail rewrites its process title ("sendmail: accepting
#     connections"); under job control setsid(1) forks and $! is not the
#     daemon: SM_PID then comes from the listening socket (ss -p), and is
#     checked by /proc/PID/exe.
#   - No syslog on these machines: Sendmail's own log (queue ids, "Milter:
#     ..." lines, stat=Sent) is lost.  DIR/traffic.log (-X) records the
#     SMTP dialogues.  Debug flags (-d) alone write into the SMTP session of
#     each connection (the client sees them before the greeting): always
#     with -D FILE, as sm_start does.  The queue id of an accepted message
#     is in the 250 reply to "." and in the Received: field Sendmail adds
#     ("by mx.test (8.17.1.9/8.17.1.9) with ESMTP id QUEUEID").
#   - The sink must not greet with Sendmail's own name: with smtp-sink -h
#     mx.test Sendmail answers itself "553 5.3.5 [127.0.0.1] config error:
#     mail loops back to me (MX problem?)" and queues a bounce.  The sink
#     greets as sink.test.
#   - DefaultUser is mail:mail (8:8; Sendmail's default "mailnull" does
#     not exist on Debian), RunAsUser stays root.  QueueLA/RefuseLA are set
#     high so a busy test machine does not get "421 ... load average".
#   - The relay mailer's port comes from RELAY_MAILER_ARGS (`TCP $h PORT');
#     the other SMTP mailers' args point at the sink port too, so nothing
#     can leave the machine.  Bounces (DSNs) would go to the sink as well:
#     a test that rejects in SMTP creates none.
#   - Delivery to the sink is in the background after the 250 to ".":
#     use sm_wait_sink.  A message that could not be relayed waits in the
#     queue, retried every 10 s (-q10s).
#   - The ports are fixed: two copies at once would mix up their traffic.
#     RG_MILTER_PORT (lib.sh) is shared with the Postfix tests: run them
#     one after the other, or override it.

. "$(dirname "${BASH_SOURCE[0]}")/sink.sh"

RG_SM_PORT=${RG_SM_PORT:-18725}
RG_SM_SINK_PORT=${RG_SM_SINK_PORT:-18726}
RG_SM_CACHE=${RG_SM_CACHE:-/var/cache/relayguard-test/sendmail}
RG_SM_DEBUG=${RG_SM_DEBUG:-}

SM_DIR=${SM_DIR:-}
SM_PID=${SM_PID:-}
SM_SINK_PID=${SM_SINK_PID:-}
SM_SINK_USER=postfix
SM_PACKAGES=(sendmail-bin sendmail-cf sendmail-base libwrap0)

_sm_err() { echo "sendmail.sh: $*" >&2; }

_sm_need_setup() {
	if [ -z "$SM_DIR" ] || [ ! -f "$SM_DIR/etc/sendmail.cf" ]; then
		_sm_err "no instance: call sm_setup DIR first"
		return 1
	fi
}

sm_traffic() { echo "$SM_DIR/traffic.log"; }

# _sm_listening PORT - something listens on 127.0.0.1:PORT (asks the
# kernel, so no test connection reaches sendmail or the milter)
_sm_listening() {
	ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

_sm_wait_listen() {
	local secs=$1 port=$2 i
	for ((i = 0; i <= secs * 10; i++)); do
		_sm_listening "$port" && return 0
		sleep 0.1
	done
	return 1
}

_sm_wait_closed() {
	local secs=$1 port=$2 i
	for ((i = 0; i <= secs * 10; i++)); do
		_sm_listening "$port" || return 0
		sleep 0.1
	done
	return 1
}

# _sm_listener_pid PORT - pid of the process listening on PORT
_sm_listener_pid() {
	ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2
}

# _sm_fetch - make sure $RG_SM_CACHE holds the .debs of SM_PACKAGES.
# Downloads into a temporary directory and renames it, under a lock, so
# that concurrent runs neither download twice nor see half a cache.
_sm_fetch() {
	local cache=$RG_SM_CACHE tmp p ok
	[ -f "$cache/debs/complete" ] && return 0
	mkdir -p "$cache" || return 1
	(
		flock -w 600 9 || { _sm_err "cannot lock $cache/lock"; exit 1; }
		[ -f "$cache/debs/complete" ] && exit 0
		rm -rf "$cache"/download.*	# left by an interrupted run
		tmp=$(mktemp -d "$cache/download.XXXXXX") || exit 1
		# apt-get download drops privileges to _apt: let it write there
		id _apt >/dev/null 2>&1 && chown _apt "$tmp"
		chmod 755 "$cache" "$tmp"
		if ! (cd "$tmp" && apt-get -q download "${SM_PACKAGES[@]}"); then
			# no package lists yet (fresh machine): fetch them once
			apt-get -q -o DPkg::Lock::Timeout=600 update >/dev/null 2>&1
			(cd "$tmp" && apt-get -q download "${SM_PACKAGES[@]}") || {
				_sm_err "apt-get download ${SM_PACKAGES[*]} failed"
				rm -rf "$tmp"
				exit 1
			}
		fi
		ok=1
		for p in "${SM_PACKAGES[@]}"; do
			set -- "$tmp/${p}"_*.deb
			[ -f "$1" ] && dpkg-deb --info "$1" >/dev/null 2>&1 || ok=
		done
		[ -n "$ok" ] || { _sm_err "incomplete download in $tmp"; rm -rf "$tmp"; exit 1; }
		chown -R root: "$tmp"
		touch "$tmp/complete"
		rm -rf "$cache/debs"
		mv "$tmp" "$cache/debs"
	) 9>"$cache/lock"
}

# _sm_ns CMD... - run CMD in sendmail's private world: own UTS and mount
# namespaces, hostname mx.test, DIR/etc's hosts, resolv.conf and
# nsswitch.conf over /etc's, DIR/etc/sasl over /usr/lib/sasl2 once
# sm_adduser ran, libwrap.so.0 from DIR/root.  sm_start runs the same
# script (_SM_NS_SCRIPT, arguments: DIR CMD...) under setsid.
# shellcheck disable=SC2016 # expanded by the sh that runs it
_SM_NS_SCRIPT='
d=$1; shift
hostname mx.test &&
mount --bind "$d/etc/hosts" /etc/hosts &&
mount --bind "$d/etc/resolv.conf" /etc/resolv.conf &&
mount --bind "$d/etc/nsswitch.conf" /etc/nsswitch.conf || exit 71
if [ -f "$d/etc/sasl/Sendmail.conf" ]; then
	mount --bind "$d/etc/sasl" /usr/lib/sasl2 || exit 71
fi
exec "$@"'
# _sm_libdir - where DIR/root has libwrap.so.0 (usr/lib/<multiarch>)
_sm_libdir() {
	find "$SM_DIR/root" -name libwrap.so.0 -printf '%h\n' 2>/dev/null | head -n 1
}
_sm_ns() {
	LD_LIBRARY_PATH=$(_sm_libdir) \
		unshare --uts --mount --propagation private \
		sh -c "$_SM_NS_SCRIPT" sh "$SM_DIR" "$@"
}

# _sm_m4 - write DIR/etc/sendmail.mc and build sendmail.cf from it
_sm_m4() {
	local d=$SM_DIR cf=$SM_DIR/root/usr/share/sendmail/cf
	# SMTP AUTH once sm_adduser wrote a SASL configuration; none before
	local auth="define(\`confAUTH_MECHANISMS', \`')dnl"
	[ -f "$d/etc/sasl/Sendmail.conf" ] && auth="define(\`confAUTH_MECHANISMS', \`PLAIN LOGIN')dnl
TRUST_AUTH_MECH(\`PLAIN LOGIN')dnl
define(\`confAUTH_OPTIONS', \`A')dnl"
	cat >"$d/etc/sendmail.mc" <<EOF
divert(-1)
# Private relayguard test instance; generated by tests/sendmail.sh.
divert(0)dnl
include(\`$cf/m4/cf.m4')dnl
VERSIONID(\`relayguard test rig')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`mx.test')dnl
define(\`QUEUE_DIR', \`$d/queue')dnl
define(\`confPID_FILE', \`$d/sendmail.pid')dnl
define(\`ALIAS_FILE', \`$d/etc/aliases')dnl
define(\`HELP_FILE', \`$d/etc/helpfile')dnl
define(\`STATUS_FILE', \`$d/etc/statistics')dnl
define(\`confSERVICE_SWITCH_FILE', \`$d/etc/service.switch')dnl
define(\`confHOSTS_FILE', \`$d/etc/hosts')dnl
define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confBIND_OPTS', \`-DNSRCH -DEFNAMES')dnl
define(\`confDEF_USER_ID', \`8:8')dnl
define(\`confQUEUE_LA', \`100')dnl
define(\`confREFUSE_LA', \`100')dnl
define(\`confMIN_QUEUE_AGE', \`0')dnl
define(\`confTO_ICONNECT', \`5s')dnl
define(\`confTO_CONNECT', \`5s')dnl
define(\`confPRIVACY_FLAGS', \`authwarnings,noexpn,novrfy')dnl
define(\`confSMTP_LOGIN_MSG', \`\$j Sendmail \$v')dnl
define(\`SMART_HOST', \`relay:[127.0.0.1]')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $RG_SM_SINK_PORT')dnl
define(\`SMTP_MAILER_ARGS', \`TCP \$h $RG_SM_SINK_PORT')dnl
define(\`ESMTP_MAILER_ARGS', \`TCP \$h $RG_SM_SINK_PORT')dnl
define(\`SMTP8_MAILER_ARGS', \`TCP \$h $RG_SM_SINK_PORT')dnl
define(\`DSMTP_MAILER_ARGS', \`TCP \$h $RG_SM_SINK_PORT')dnl
${auth}
FEATURE(\`no_default_msa')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
RELAY_DOMAIN(\`sink.test')dnl
DAEMON_OPTIONS(\`Family=inet, Addr=127.0.0.1, Port=$RG_SM_PORT, Name=MTA')dnl
INPUT_MAIL_FILTER(\`relayguard', \`S=inet:$RG_MILTER_PORT@127.0.0.1, F=T, T=S:10s;R:20s;E:1m')dnl
MAILER(\`smtp')dnl
EOF
	if ! m4 "$d/etc/sendmail.mc" >"$d/etc/sendmail.cf.new" 2>"$d/etc/m4.err" ||
		[ -s "$d/etc/m4.err" ]; then
		_sm_err "m4 failed: $(head -3 "$d/etc/m4.err")"
		return 1
	fi
	mv "$d/etc/sendmail.cf.new" "$d/etc/sendmail.cf"
	chmod 644 "$d/etc/sendmail.cf"
}

sm_setup() {
	local dir=${1:-} deb
	if [ -z "$dir" ]; then
		_sm_err "usage: sm_setup DIR"
		return 1
	fi
	case $dir in
	*[[:space:]]*) _sm_err "DIR must not contain white space: $dir"; return 1 ;;
	esac
	if [ "$(id -u)" != 0 ]; then
		_sm_err "needs root (namespaces, mounts, port binding as MTA)"
		return 1
	fi
	mkdir -p "$dir" || return 1
	dir=$(cd "$dir" && pwd -P) || return 1
	SM_DIR=$dir
	chmod 755 "$dir"

	_sm_fetch || return 1
	if [ ! -x "$dir/root/usr/libexec/sendmail/sendmail" ]; then
		rm -rf "$dir/root"
		mkdir -p "$dir/root"
		for deb in "$RG_SM_CACHE"/debs/*.deb; do
			dpkg-deb -x "$deb" "$dir/root" || return 1
		done
		# setgid mail: the loader would ignore LD_LIBRARY_PATH (secure
		# execution) and not find libwrap.so.0.  We run it as root anyway.
		chmod g-s "$dir/root/usr/libexec/sendmail/sendmail" \
			"$dir/root/usr/libexec/sendmail/mailstats"
	fi

	mkdir -p "$dir/etc/sasl" "$dir/queue" "$dir/sink" || return 1
	chmod 755 "$dir/etc" "$dir/etc/sasl"
	chmod 700 "$dir/queue"
	chown $SM_SINK_USER: "$dir/sink"
	chmod 755 "$dir/sink"
	if ! runuser -u $SM_SINK_USER -- test -w "$dir/sink"; then
		_sm_err "$dir/sink is not writable for $SM_SINK_USER: make its parents searchable (chmod o+x)"
		return 1
	fi
	: >"$dir/traffic.log"
	cp "$dir/root/etc/mail/helpfile" "$dir/etc/helpfile"
	printf 'postmaster:\troot\nMAILER-DAEMON:\tpostmaster\n' >"$dir/etc/aliases"
	printf 'passwd\tfiles\nhosts\tfiles\naliases\tfiles\n' >"$dir/etc/service.switch"
	cat >"$dir/etc/hosts" <<'EOF'
127.0.0.1	mx.test mx localhost
EOF
	echo "nameserver 127.0.0.1" >"$dir/etc/resolv.conf"
	printf 'passwd:\tfiles\ngroup:\tfiles\nshadow:\tfiles\nhosts:\tfiles\n' \
		>"$dir/etc/nsswitch.conf"
	chmod 644 "$dir/etc/"* 2>/dev/null
	chmod 755 "$dir/etc/sasl"
	_sm_m4 || return 1
	# the alias database (hash), which sendmail insists on
	_sm_ns "$dir/root/usr/libexec/sendmail/sendmail" -C "$dir/etc/sendmail.cf" \
		-bi >"$dir/newaliases.out" 2>&1 || {
		_sm_err "newaliases failed: $(tail -3 "$dir/newaliases.out")"
		return 1
	}
}

sm_adduser() {
	local user=${1:-} pw=${2:-} realm=${3:-mx.test}
	_sm_need_setup || return 1
	if [ -z "$user" ] || [ -z "$pw" ]; then
		_sm_err "usage: sm_adduser USER PASSWORD [REALM]"
		return 1
	fi
	# sendmail reads DIR/etc/sasl/Sendmail.conf through a bind mount
	# over a directory of Cyrus' fixed search path (see the notes)
	if [ ! -d /usr/lib/sasl2 ]; then
		_sm_err "no /usr/lib/sasl2 to bind DIR/etc/sasl over (libsasl2-modules-db)"
		return 1
	fi
	printf '%s' "$pw" | saslpasswd2 -p -c -f "$SM_DIR/sasldb2" -u "$realm" "$user" || return 1
	chmod 600 "$SM_DIR/sasldb2"
	if [ ! -f "$SM_DIR/etc/sasl/Sendmail.conf" ]; then
		cat >"$SM_DIR/etc/sasl/Sendmail.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $SM_DIR/sasldb2
EOF
		_sm_m4
	fi
}

sm_running() {
	[ -n "$SM_PID" ] &&
		[ "$(readlink "/proc/$SM_PID/exe" 2>/dev/null)" = "$SM_DIR/root/usr/libexec/sendmail/sendmail" ]
}

_sm_sink_start() {
	if [ -n "$SM_SINK_PID" ] && kill -0 "$SM_SINK_PID" 2>/dev/null; then
		return 0
	fi
	if _sm_listening "$RG_SM_SINK_PORT"; then
		_sm_err "port $RG_SM_SINK_PORT is taken (a sink left behind? SM_DIR=DIR sm_stop)"
		return 1
	fi
	# -h: greet as sink.test, not as mx.test (a loop to Sendmail)
	SM_SINK_PID=$(sink_start "$SM_DIR" "$RG_SM_SINK_PORT" "$SM_SINK_USER" \
		-h sink.test) || {
		_sm_err "smtp-sink did not start; see $SM_DIR/sink.log"
		return 1
	}
}

_sm_sink_stop() {
	sink_stop "$SM_DIR" "$RG_SM_SINK_PORT" "$SM_SINK_PID"
	SM_SINK_PID=
}

sm_start() {
	_sm_need_setup || return 1
	if sm_running; then
		_sm_err "already running"
		return 0
	fi
	if _sm_listening "$RG_SM_PORT"; then
		_sm_err "port $RG_SM_PORT is taken (a sendmail left behind? SM_DIR=DIR sm_stop)"
		return 1
	fi
	_sm_sink_start || return 1
	local bin=$SM_DIR/root/usr/libexec/sendmail/sendmail pid dbg=()
	# debug output (-d) of the per-connection children would go into the
	# SMTP session itself: -D sends it to a file
	# shellcheck disable=SC2206 # RG_SM_DEBUG holds several flags
	[ -n "$RG_SM_DEBUG" ] && dbg=(-D "$SM_DIR/debug.log" $RG_SM_DEBUG)
	# -bD: daemon in the foreground (no fork, so the pid stays ours);
	# -q10s: queue runs every 10 s; -X: SMTP traffic log
	LD_LIBRARY_PATH=$(_sm_libdir) \
		setsid unshare --uts --mount --propagation private \
		sh -c "$_SM_NS_SCRIPT" sh "$SM_DIR" \
		"$bin" -C "$SM_DIR/etc/sendmail.cf" -bD -q10s \
		-X "$SM_DIR/traffic.log" "${dbg[@]}" \
		>>"$SM_DIR/sendmail.out" 2>&1 </dev/null &
	SM_PID=$!
	# wait up to 30 s for the listener; give up 2 s after the process
	# ended (a failed mount or a bad .cf exits at once)
	local i gone=0 ok=
	for ((i = 0; i < 300; i++)); do
		_sm_listening "$RG_SM_PORT" && { ok=1; break; }
		if [ ! -e "/proc/$SM_PID" ] ||
			[ "$(awk '{ print $3 }' "/proc/$SM_PID/stat" 2>/dev/null)" = Z ]; then
			((gone++ < 20)) || break
		fi
		sleep 0.1
	done
	if [ -z "$ok" ]; then
		_sm_err "sendmail is not listening on $RG_SM_PORT; tail of $SM_DIR/sendmail.out:"
		tail -n 20 "$SM_DIR/sendmail.out" >&2
		SM_PID=
		_sm_sink_stop
		return 1
	fi
	# the exec chain (setsid, unshare, sh) ends in sendmail, unless
	# setsid forked (job control): then the listener is the daemon
	if ! sm_running; then
		pid=$(_sm_listener_pid "$RG_SM_PORT")
		SM_PID=$pid
		sm_running || {
			_sm_err "cannot find the sendmail daemon's pid (listener: ${pid:-none})"
			return 1
		}
	fi
	echo "$SM_PID" >"$SM_DIR/sm.pid"
}

sm_stop() {
	local pid=$SM_PID i
	if [ -z "$pid" ] && [ -n "$SM_DIR" ] && [ -f "$SM_DIR/sm.pid" ]; then
		pid=$(cat "$SM_DIR/sm.pid")
	fi
	SM_PID=
	[ -n "$SM_DIR" ] && rm -f "$SM_DIR/sm.pid"
	if [ -n "$pid" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$SM_DIR/root/usr/libexec/sendmail/sendmail" ]; then
		# the daemon passes SIGTERM on to its children
		kill -TERM "$pid" 2>/dev/null
		for ((i = 0; i < 100; i++)); do
			if [ ! -e "/proc/$pid" ] ||
				[ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" = Z ]; then
				break
			fi
			sleep 0.1
		done
		wait "$pid" 2>/dev/null
		_sm_wait_closed 5 "$RG_SM_PORT"
	fi
	_sm_sink_stop
	return 0
}

sm_queue_count() {
	_sm_need_setup || return 1
	find "$SM_DIR/queue" -type f -name 'qf*' | wc -l
}


# List the files first, then ask which are open: a file smtp-sink creates
# (at MAIL FROM) after the listing is not listed, and one it closes after
# it was listed is complete.  The other order races: a file created between
# the two steps would pass for complete while it is being written.
sm_sink_files() {
	_sm_need_setup || return 1
	sink_files "$SM_DIR" "$SM_SINK_PID"
}

sm_wait_sink() {
	local want=${1:-1} secs=${2:-10} n i
	_sm_need_setup || return 1
	for ((i = 0; i <= secs * 10; i++)); do
		n=$(sm_sink_files | wc -l)
		[ "$n" -ge "$want" ] && break
		sleep 0.1
	done
	if [ "$n" -eq "$want" ]; then return 0; fi
	if [ "$n" -gt "$want" ]; then return 2; fi
	return 1
}

sm_send() {
	if [ $# -lt 2 ]; then
		_sm_err "usage: sm_send FROM TO [SWAKS-ARGS...]"
		return 1
	fi
	local from=$1 to=$2
	shift 2
	swaks --server 127.0.0.1 --port "$RG_SM_PORT" --from "$from" --to "$to" \
		--helo client.test --timeout 20 "$@"
}

sm_mailq() {
	_sm_need_setup || return 1
	_sm_ns "$SM_DIR/root/usr/libexec/sendmail/sendmail" -C "$SM_DIR/etc/sendmail.cf" -bp "$@"
}

sm_queue_id() {
	grep -oE '^<[~*-]* *250 2\.0\.0 [A-Za-z0-9]+ Message accepted' "${1:-/dev/null}" |
		awk '{ print $(NF - 2) }' | tail -n 1
}
