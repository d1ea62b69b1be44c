# tests/postfix.sh - a private Postfix instance on loopback for relayguard's
# end-to-end tests.  Source it after tests/lib.sh (it uses the RG_*_PORT
# variables).  Needs ss(8), swaks, smtp-sink, saslpasswd2.  Needs root:
# `postfix -c DIR` refuses other users unless the system main.cf lists DIR
# in alternate_config_directories, and we never touch /etc/postfix.
#
# The system Postfix is neither used nor started; everything here runs as a
# separate instance whose files all live under one directory:
#
#   DIR/etc/          config_directory (main.cf, master.cf, vmailbox,
#                     sasl/smtpd.conf)
#   DIR/queue/        queue_directory (subdirectories made by postfix start)
#   DIR/data/         data_directory
#   DIR/maildir/USER/ maildir of USER@local.test (new/, cur/, tmp/)
#   DIR/sink/         one file per message accepted by smtp-sink
#   DIR/sasldb2       Cyrus sasldb with the submission users
#   DIR/maillog       Postfix's log (maillog_file via postlogd)
#   DIR/sink.log      smtp-sink's stdout/stderr
#
# Services (all on 127.0.0.1 only):
#   127.0.0.1:$RG_SMTP_PORT        inbound smtpd, port-25 style: no AUTH,
#                                  accepts mail for local.test and sink.test
#                                  from anyone, rejects relaying elsewhere
#                                  (no permit_mynetworks: relayguard decides
#                                  trust, not Postfix).
#   127.0.0.1:$RG_SUBMISSION_PORT  submission smtpd: SASL AUTH (PLAIN, LOGIN)
#                                  over plain TCP against DIR/sasldb2; AUTH
#                                  required to send anything.
#   both smtpds use smtpd_milters = inet:127.0.0.1:$RG_MILTER_PORT,
#   milter_protocol = 6, milter_default_action = tempfail.  With nothing on
#   the milter port, plain SMTP gets "451 4.7.1 Service unavailable - try
#   again later" at MAIL FROM and AUTH gets "454 4.3.0 Try again later" (the
#   milter is contacted at connect time; the failure is reported on the
#   first command that can be refused).
#
# Routing: any USER@local.test -> pipe(8) service "pfmaildir" running
#                                  DIR/etc/deliver as nobody ->
#                                  DIR/maildir/USER/ (a maildir);
#          anything @sink.test -> smtp:[127.0.0.1]:$RG_SINK_PORT (smtp-sink);
#          everything else     -> error transport (bounces, never leaves).
#
# Functions (PF_DIR, PF_CONF and PF_SINK_PID are the state they share):
#   pf_setup DIR               build the instance under DIR (DIR is created;
#                              an existing DIR is reused, so rm -rf it first
#                              for a clean run).  Sets PF_DIR and PF_CONF.
#   pf_adduser USER PW [REALM] add a sasldb user; REALM defaults to mx.test.
#                              The SMTP login is USER@REALM (case matters).
#                              {auth_authen}, as passed to milters (and
#                              logged as sasl_username=), is the login
#                              exactly as the client typed it: "bob@mx.test"
#                              for `swaks --auth-user bob@mx.test`.  A bare
#                              "bob" login also works, but only for REALM
#                              mx.test (Cyrus' default realm is myhostname),
#                              and then {auth_authen} is "bob".  Checked with
#                              a milter that printed the macros.
#   pf_start                   start the instance; waits until both smtpd
#                              ports listen (asks ss: no test connection
#                              reaches the milter).
#   pf_stop                    stop the instance and the sink; safe to call
#                              twice, before pf_start or before pf_setup.
#                              To stop what an aborted run left behind:
#                              PF_DIR=DIR PF_CONF=DIR/etc pf_stop
#   pf_running                 exit 0 when the instance's master runs.
#   pf_conf KEY=VALUE...       postconf -e on the instance's main.cf
#                              (takes effect after pf_reload or pf_start).
#   pf_reload                  postfix reload, and wait until master has
#                              re-read the configuration.
#   pf_flush                   ask the queue manager to retry deferred mail now.
#   pf_queue_count             number of messages still in the queue
#                              (incoming, active, deferred, hold, maildrop).
#   pf_wait_queue_empty [SECS] wait until pf_queue_count is 0 (default 10 s).
#   pf_held                    queue ids of the messages in the hold queue
#                              (a milter's quarantine), from postqueue -j.
#   pf_wait_held COUNT [SECS]  like pf_wait_maildir, for the hold queue.
#   pf_maildir_count USER      number of messages delivered to USER.
#   pf_maildir_files USER      paths of USER's delivered messages, oldest
#                              first (new/ and cur/; never partial files:
#                              delivery writes to tmp/ and renames).
#   pf_wait_maildir USER COUNT [SECS]
#                              wait (default 10 s) until USER's maildir holds
#                              COUNT messages.  0 when it holds exactly
#                              COUNT, 1 on timeout, 2 when it holds more.
#   pf_sink_start              start smtp-sink on 127.0.0.1:$RG_SINK_PORT,
#                              one file per message in DIR/sink/.
#   pf_sink_stop               stop it (safe to call twice).
#   pf_sink_files              paths of complete messages in DIR/sink/
#                              (files smtp-sink still has open are left out),
#                              oldest first.  Each holds X-Client-Addr:,
#                              X-Mail-Args:, X-Rcpt-Args:..., a Received:
#                              line, then the message as received.
#   pf_wait_sink COUNT [SECS]  like pf_wait_maildir, for the sink.
#   pf_send PORT FROM TO [SWAKS-ARGS...]
#                              swaks to 127.0.0.1:PORT; prints the transcript,
#                              returns swaks' status.
#   pf_log                     path of the instance's maillog.
#   pf_wait_log ERE [SECS]     wait (default 5 s) until a maillog line
#                              matches the extended regex ERE.
#
# Notes / pitfalls:
#   - `postfix` prints nothing and exits 1 when it cannot log: main.cf sets
#     maillog_file = DIR/maillog with DIR in maillog_file_prefixes, and
#     master.cf has the postlog service.  pf_start shows the log's tail on
#     failure.
#   - Debian's smtpd reads $config_directory/sasl/smtpd.conf (it ignores
#     cyrus_sasl_config_path).  The sasldb must be readable by group postfix.
#   - DIR (and its parents) must be searchable by the postfix user, and the
#     path must not contain white space (main.cf would split it).
#   - The maillog is written by postlogd asynchronously: a line can appear a
#     few milliseconds after the event it reports (use pf_wait_log).
#   - Postfix commands wait (up to ~2 s, polling) while main.cf is less than
#     2 s old; pf_setup and pf_conf backdate it so pf_start/pf_reload are
#     fast.  Editing main.cf by hand?  touch -d '-10 sec' it.
#   - virtual(8) refuses "$1" substitution in regexp/pcre map results, hence
#     the pipe(8) maildir delivery instead of virtual_mailbox_base.
#   - The ports are fixed (lib.sh): two suites running at once on the same
#     ports (e.g. a relayguard on $RG_MILTER_PORT from another test) mix up
#     their traffic.  Override the RG_*_PORT variables per suite.
#   - Postfix' process names stay visible as zombies after pf_stop on this
#     machine (PID 1 does not reap orphans); harmless.

. "$(dirname "${BASH_SOURCE[0]}")/sink.sh"

PF_DIR=${PF_DIR:-}
PF_CONF=${PF_CONF:-}
PF_SINK_PID=${PF_SINK_PID:-}
PF_MASTER_PID=${PF_MASTER_PID:-}
PF_USER=postfix
PF_DELIVER_USER=nobody

_pf_err() { echo "postfix.sh: $*" >&2; }

_pf_need_setup() {
	if [ -z "$PF_DIR" ] || [ ! -f "$PF_CONF/main.cf" ]; then
		_pf_err "no instance: call pf_setup DIR first"
		return 1
	fi
}

pf_log() { echo "$PF_DIR/maillog"; }

pf_wait_log() {
	local re=${1:-} i
	for ((i = 0; i <= ${2:-5} * 10; i++)); do
		grep -Eq -- "$re" "$PF_DIR/maillog" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# _pf_listening PORT - something listens on 127.0.0.1:PORT.  Asks the kernel
# (ss) instead of connecting, so that no fake SMTP client reaches the milter.
_pf_listening() {
	ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

# _pf_wait_listen SECS PORT... / _pf_wait_closed SECS PORT...
_pf_wait_listen() {
	local secs=$1 i p ok
	shift
	for ((i = 0; i <= secs * 10; i++)); do
		ok=1
		for p; do _pf_listening "$p" || ok=; done
		[ -n "$ok" ] && return 0
		sleep 0.1
	done
	return 1
}

_pf_wait_closed() {
	local secs=$1 i p ok
	shift
	for ((i = 0; i <= secs * 10; i++)); do
		ok=1
		for p; do _pf_listening "$p" && ok=; done
		[ -n "$ok" ] && return 0
		sleep 0.1
	done
	return 1
}

pf_setup() {
	local dir=${1:-}
	if [ -z "$dir" ]; then
		_pf_err "usage: pf_setup DIR"
		return 1
	fi
	case $dir in
	*[[:space:]]*) _pf_err "DIR must not contain white space: $dir"; return 1 ;;
	esac
	mkdir -p "$dir" || return 1
	dir=$(cd "$dir" && pwd -P) || return 1
	PF_DIR=$dir
	PF_CONF=$dir/etc

	if ! id $PF_USER >/dev/null 2>&1 || ! id $PF_DELIVER_USER >/dev/null 2>&1; then
		_pf_err "no $PF_USER or $PF_DELIVER_USER user"
		return 1
	fi

	chmod 755 "$dir"
	mkdir -p "$PF_CONF/sasl" "$dir/queue" "$dir/data" "$dir/maildir" "$dir/sink" || return 1
	chown root:root "$PF_CONF" "$PF_CONF/sasl" "$dir/queue"
	chmod 755 "$PF_CONF" "$PF_CONF/sasl" "$dir/queue"
	chown $PF_USER: "$dir/data" && chmod 700 "$dir/data"
	# the pfmaildir pipe runs as nobody and creates USER/ itself; smtp-sink
	# runs as postfix
	chown $PF_DELIVER_USER: "$dir/maildir"
	chown $PF_USER: "$dir/sink"
	chmod 755 "$dir/maildir" "$dir/sink"
	touch "$dir/maillog"
	if ! runuser -u $PF_USER -- test -x "$dir/queue" ||
		! runuser -u $PF_DELIVER_USER -- test -w "$dir/maildir"; then
		_pf_err "$dir is not reachable for $PF_USER/$PF_DELIVER_USER: make its parents searchable (chmod o+x)"
		return 1
	fi

	cat >"$PF_CONF/main.cf" <<EOF
# Private relayguard test instance; generated by tests/postfix.sh.
compatibility_level = 3.6
config_directory = $PF_CONF
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = $PF_USER
setgid_group = postdrop
maillog_file = $dir/maillog
maillog_file_prefixes = /var, /dev/stdout, $dir
syslog_name = postfix

myhostname = mx.test
mydomain = test
myorigin = \$myhostname
mydestination =
mynetworks = 127.0.0.0/8
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
smtpd_banner = \$myhostname ESMTP
biff = no
alias_maps =
alias_database =
local_recipient_maps =
append_dot_mydomain = no

# Delivery: local.test to maildirs, sink.test to smtp-sink, rest nowhere.
virtual_mailbox_domains = local.test
virtual_mailbox_maps = regexp:$PF_CONF/vmailbox
virtual_transport = pfmaildir
pfmaildir_destination_recipient_limit = 1
relay_domains = sink.test
transport_maps = inline:{ sink.test=smtp:[127.0.0.1]:$RG_SINK_PORT }
default_transport = error:5.7.1 relayguard test rig delivers nowhere else
relay_transport = error:5.7.1 relayguard test rig delivers nowhere else
smtp_tls_security_level = none
smtp_connect_timeout = 5s

# Inbound restrictions (the submission service overrides them in master.cf).
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions =
smtpd_tls_security_level = none
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 100
smtpd_hard_error_limit = 200

# The milter under test.
smtpd_milters = inet:127.0.0.1:$RG_MILTER_PORT
non_smtpd_milters =
milter_default_action = tempfail
milter_protocol = 6

# Retry fast; nobody waits for warnings.
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
maximal_queue_lifetime = 1h
bounce_queue_lifetime = 1h
delay_warning_time = 0
EOF

	cat >"$PF_CONF/master.cf" <<EOF
# Private relayguard test instance; generated by tests/postfix.sh.
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$RG_SMTP_PORT inet n - n - - smtpd
  -o syslog_name=postfix/inbound
127.0.0.1:$RG_SUBMISSION_PORT inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_sasl_type=cyrus
  -o smtpd_sasl_path=smtpd
  -o smtpd_sasl_security_options=noanonymous
  -o smtpd_tls_security_level=none
  -o smtpd_tls_auth_only=no
  -o smtpd_client_restrictions=
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
  -o syslog_name=postfix/\$service_name
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
# Delivery for local.test (virtual_transport): one recipient per run.
pfmaildir unix  -       n       n       -       -       pipe
  flags=DRXu user=$PF_DELIVER_USER argv=/bin/sh $PF_CONF/deliver \${user} \${queue_id}
EOF

	# virtual(8) would be the natural choice, but it refuses "\$1" in
	# regexp/pcre map results, so it cannot give every USER@local.test its
	# own maildir without listing the users.  This pipe does: any USER the
	# vmailbox regexp accepts gets DIR/maildir/USER/{tmp,new,cur}; the
	# message is written to tmp/ and renamed into new/.
	cat >"$PF_CONF/deliver" <<EOF
#!/bin/sh
# deliver USER QUEUE_ID - store the message on stdin in a maildir
# (run by the pfmaildir pipe(8) service; generated by tests/postfix.sh).
umask 022
case \$1 in ''|.*|*/*) echo "bad user name: \$1"; exit 67 ;; esac
m=$dir/maildir/\$1
mkdir -p "\$m/tmp" "\$m/new" "\$m/cur" || exit 75
f=\$(date +%s.%N).\$2.\$\$.mx.test
if cat >"\$m/tmp/\$f" && mv "\$m/tmp/\$f" "\$m/new/\$f"; then exit 0; fi
rm -f "\$m/tmp/\$f"
exit 75
EOF

	# Any USER@local.test gets the maildir DIR/maildir/USER/ (the trailing
	# "/" means maildir).  USER: letters, digits, "_", "-", then also "."
	# and "+" (so no "/" or "..": it is used as a path).  Postfix folds the
	# address to lower case before the lookup.
	cat >"$PF_CONF/vmailbox" <<'EOF'
/^([[:alnum:]_-][[:alnum:]_.+-]*)@local\.test$/	${1}/
EOF

	cat >"$PF_CONF/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $dir/sasldb2
EOF
	chmod 644 "$PF_CONF/main.cf" "$PF_CONF/master.cf" "$PF_CONF/vmailbox" \
		"$PF_CONF/sasl/smtpd.conf"
	chmod 755 "$PF_CONF/deliver"
	_pf_settle

	# An empty sasldb, so that AUTH fails cleanly before any pf_adduser.
	if [ ! -f "$dir/sasldb2" ]; then
		echo x | saslpasswd2 -p -c -f "$dir/sasldb2" -u mx.test pf-setup-dummy &&
			saslpasswd2 -d -f "$dir/sasldb2" -u mx.test pf-setup-dummy || return 1
	fi
	chgrp $PF_USER "$dir/sasldb2" && chmod 640 "$dir/sasldb2"

	# Let postfix create the queue subdirectories and check the result.
	postfix -c "$PF_CONF" check >>"$dir/maillog" 2>&1 || {
		_pf_err "postfix check failed; see $dir/maillog"
		tail -n 20 "$dir/maillog" >&2
		return 1
	}
}

pf_adduser() {
	local user=${1:-} pw=${2:-} realm=${3:-mx.test}
	_pf_need_setup || return 1
	if [ -z "$user" ] || [ -z "$pw" ]; then
		_pf_err "usage: pf_adduser USER PASSWORD [REALM]"
		return 1
	fi
	printf '%s' "$pw" | saslpasswd2 -p -c -f "$PF_DIR/sasldb2" -u "$realm" "$user" || return 1
	chgrp $PF_USER "$PF_DIR/sasldb2" && chmod 640 "$PF_DIR/sasldb2"
}

pf_running() {
	[ -n "$PF_CONF" ] && [ -f "$PF_CONF/main.cf" ] || return 1
	postfix -c "$PF_CONF" status >/dev/null 2>&1
}

pf_start() {
	_pf_need_setup || return 1
	if pf_running; then
		_pf_err "already running"
		return 0
	fi
	if ! postfix -c "$PF_CONF" start >>"$PF_DIR/maillog" 2>&1; then
		_pf_err "postfix start failed; tail of $PF_DIR/maillog:"
		tail -n 20 "$PF_DIR/maillog" >&2
		return 1
	fi
	PF_MASTER_PID=$(awk '{ print $1; exit }' "$PF_DIR/queue/pid/master.pid" 2>/dev/null)
	_pf_wait_listen 15 "$RG_SMTP_PORT" "$RG_SUBMISSION_PORT" || {
		_pf_err "smtpd ports $RG_SMTP_PORT/$RG_SUBMISSION_PORT not listening"
		tail -n 20 "$PF_DIR/maillog" >&2
		return 1
	}
}

pf_stop() {
	local pid=$PF_MASTER_PID
	pf_sink_stop
	PF_MASTER_PID=
	if pf_running; then
		postfix -c "$PF_CONF" stop >>"$PF_DIR/maillog" 2>&1
	elif [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = master ] &&
		[ "$(stat -c %U "/proc/$pid")" = root ]; then
		# DIR was removed under the running instance (e.g. a concurrent
		# scripts/test wiping RG_TMP): postfix stop cannot find it any
		# more, so end the master pf_start started; it takes its children.
		kill -TERM "$pid" 2>/dev/null
	else
		return 0
	fi
	_pf_wait_closed 10 "$RG_SMTP_PORT" "$RG_SUBMISSION_PORT"
	return 0
}

# Postfix programs that read a main.cf modified within the last 2 seconds
# wait, re-reading it every 0.3 s, until it is old enough: a `postfix reload`
# right after `postconf -e` stalls ~2 s.  Backdate the file instead.
_pf_settle() {
	touch -d "@$(($(date +%s) - 10))" "$PF_CONF/main.cf" "$PF_CONF/master.cf"
}

pf_conf() {
	_pf_need_setup || return 1
	postconf -c "$PF_CONF" -e "$@" && _pf_settle
}

# Count "reload" lines of the master in the maillog.
_pf_reloads() {
	grep -c 'postfix/master\[[0-9]*\]: reload' "$PF_DIR/maillog" 2>/dev/null
}

pf_reload() {
	_pf_need_setup || return 1
	pf_running || {
		_pf_err "not running"
		return 1
	}
	local before i
	before=$(_pf_reloads)
	postfix -c "$PF_CONF" reload >>"$PF_DIR/maillog" 2>&1 || return 1
	for ((i = 0; i < 100; i++)); do
		[ "$(_pf_reloads)" -gt "$before" ] && break
		sleep 0.1
	done
	[ "$(_pf_reloads)" -gt "$before" ] || {
		_pf_err "no reload seen in the maillog"
		return 1
	}
	# master has re-read its configuration; old idle processes exit on
	# their own.  Make sure the listeners are there again.
	_pf_wait_listen 10 "$RG_SMTP_PORT" "$RG_SUBMISSION_PORT"
}

pf_flush() {
	_pf_need_setup || return 1
	postqueue -c "$PF_CONF" -f
}

pf_queue_count() {
	_pf_need_setup || return 1
	local q=$PF_DIR/queue d n=0
	for d in incoming active deferred hold maildrop; do
		[ -d "$q/$d" ] || continue
		n=$((n + $(find "$q/$d" -type f | wc -l)))
	done
	echo "$n"
}

pf_wait_queue_empty() {
	local i
	for ((i = 0; i < ${1:-10} * 10; i++)); do
		[ "$(pf_queue_count)" -eq 0 ] && return 0
		sleep 0.1
	done
	return 1
}

pf_held() {
	_pf_need_setup || return 1
	postqueue -c "$PF_CONF" -j 2>/dev/null | grep '"queue_name": *"hold"' |
		sed -n 's/.*"queue_id": *"\([0-9A-Za-z]*\)".*/\1/p'
}

pf_wait_held() {
	local want=${1:-1} secs=${2:-10}
	_pf_need_setup || return 1
	_pf_wait_count "$want" "$secs" pf_held
}

# List files with their mtime, oldest first (same second: by name).
_pf_oldest_first() {
	find "$@" -maxdepth 1 -type f -printf '%T@ %p\n' 2>/dev/null |
		sort -k1,1n -k2 | cut -d' ' -f2-
}

pf_maildir_files() {
	_pf_need_setup || return 1
	local m=$PF_DIR/maildir/${1:-}
	[ -n "${1:-}" ] && [ -d "$m" ] || return 0
	_pf_oldest_first "$m/new" "$m/cur"
}

pf_maildir_count() {
	pf_maildir_files "${1:-}" | wc -l
}

# _pf_wait_count COUNT SECS CMD... - wait until CMD prints COUNT lines
_pf_wait_count() {
	local want=$1 secs=$2 n i
	shift 2
	for ((i = 0; i <= secs * 10; i++)); do
		n=$("$@" | wc -l)
		[ "$n" -ge "$want" ] && break
		sleep 0.1
	done
	if [ "$n" -eq "$want" ]; then return 0; fi
	if [ "$n" -gt "$want" ]; then return 2; fi
	return 1
}

pf_wait_maildir() {
	local user=${1:-} want=${2:-1} secs=${3:-10}
	_pf_need_setup || return 1
	_pf_wait_count "$want" "$secs" pf_maildir_files "$user"
}

pf_sink_start() {
	_pf_need_setup || return 1
	if [ -n "$PF_SINK_PID" ] && kill -0 "$PF_SINK_PID" 2>/dev/null; then
		return 0
	fi
	PF_SINK_PID=$(sink_start "$PF_DIR" "$RG_SINK_PORT" "$PF_USER") || {
		_pf_err "smtp-sink did not start; see $PF_DIR/sink.log"
		return 1
	}
}

pf_sink_stop() {
	sink_stop "$PF_DIR" "$RG_SINK_PORT" "$PF_SINK_PID"
	PF_SINK_PID=
}

pf_sink_files() {
	_pf_need_setup || return 1
	sink_files "$PF_DIR" "$PF_SINK_PID"
}

pf_wait_sink() {
	local want=${1:-1} secs=${2:-10}
	_pf_need_setup || return 1
	_pf_wait_count "$want" "$secs" pf_sink_files
}

pf_send() {
	if [ $# -lt 3 ]; then
		_pf_err "usage: pf_send PORT FROM TO [SWAKS-ARGS...]"
		return 1
	fi
	local port=$1 from=$2 to=$3
	shift 3
	swaks --server 127.0.0.1 --port "$port" --from "$from" --to "$to" \
		--helo client.test --timeout 20 "$@"
}
