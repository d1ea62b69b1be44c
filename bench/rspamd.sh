# bench/rspamd.sh - Rspamd 3.4 as a Postfix milter for scripts/bench
# (issue 20): rspamd with one rspamd_proxy worker in milter mode that scans
# itself (self_scan), a controller for learning, Bayes in a redis-server of
# its own, the antivirus module on the bench's clamd, SPF, DKIM and DMARC
# against the bench's DNS.  A shell library: source it after tests/lib.sh.
#
#   rs_start DIR CLAMD_SOCKET DNS      start redis-server and rspamd under
#                                      DIR, rspamd's resolver at DNS
#                                      (HOST:PORT), the antivirus module
#                                      on CLAMD_SOCKET (a unix socket);
#                                      wait until the milter socket is up
#                                      and the controller answers
#   rs_learn SPAMDIR HAMDIR            train Bayes (rspamc learn_spam /
#                                      learn_ham through the controller)
#   rs_stop                            stop both (safe to call twice)
#   rs_pids                            the pids of every rspamd process
#                                      and redis-server, one a line
#   rs_socket                          the milter socket, Postfix's form
#                                      (unix:DIR/run/proxy.sock)
#
# Everything on unix sockets in DIR, nothing on a TCP port but rspamd's
# DNS client: DIR/run/proxy.sock (the milter, mode 0666),
# DIR/run/controller.sock, DIR/redis/redis.sock (mode 0777).  The
# configuration is Debian's (/etc/rspamd, CONFDIR) with LOCAL_CONFDIR,
# DBDIR, RUNDIR and LOGDIR moved into DIR (rspamd --var) and a top file of
# our own, DIR/rspamd.conf, that declares only the two workers.  In
# DIR/local/local.d:
#   options.inc      the bench's DNS only; local_addrs set to an address
#                    that never sends (the bench's mail comes from
#                    127.0.0.1, which rspamd otherwise skips SPF, DMARC and
#                    more for)
#   antivirus.conf   clamav on CLAMD_SOCKET, whole messages
#                    (scan_mime_parts = false, as clamav-milter and
#                    relayguard scan), action reject
#   classifier-bayes.conf, redis.conf  Bayes and every redis user on
#                    DIR/redis/redis.sock
#   greylist.conf    off (it would tempfail the load)
#   fuzzy_check.conf off (it asks rspamd.com's servers; no network here)
# Needs root (rspamd drops to _rspamd; DIR is given to it).
# RS_PROXY_COUNT sets the proxy workers (default: the cores).

RS_DIR= RS_PID= RS_REDIS_PID=

rs_socket() { echo "unix:$RS_DIR/run/proxy.sock"; }

rs_start() {
	local dir=$1 clamd=$2 dns=$3 i
	mkdir -p "$dir"/{run,db,log,redis,local/local.d,local/override.d} || return 1
	RS_DIR=$(cd "$dir" && pwd -P)
	cat >"$RS_DIR/rspamd.conf" <<EOF
# scripts/bench's rspamd (bench/rspamd.sh): Debian's modules and options,
# our workers
.include "\$CONFDIR/common.conf"
options {
    pidfile = "\$RUNDIR/rspamd.pid";
    .include "\$CONFDIR/options.inc"
    .include(try=true; priority=1,duplicate=merge) "\$LOCAL_CONFDIR/local.d/options.inc"
}
logging {
    type = "file";
    filename = "\$LOGDIR/rspamd.log";
    level = "warning";
}
worker "rspamd_proxy" {
    bind_socket = "$RS_DIR/run/proxy.sock mode=0666";
    milter = yes;
    timeout = 120s;
    upstream "local" {
        default = yes;
        self_scan = yes;
    }
    count = ${RS_PROXY_COUNT:-$(nproc)};
    discard_on_reject = false;
    quarantine_on_reject = false;
    spam_header = "X-Spam";
    reject_message = "Spam message rejected";
}
worker "controller" {
    bind_socket = "$RS_DIR/run/controller.sock mode=0666";
    .include "\$CONFDIR/worker-controller.inc"
    count = 1;
}
EOF
	cat >"$RS_DIR/local/local.d/options.inc" <<EOF
dns {
    nameserver = ["$dns"];
    timeout = 1s;
    retransmits = 2;
}
local_addrs = ["192.0.2.254/32"];
EOF
	cat >"$RS_DIR/local/local.d/antivirus.conf" <<EOF
clamav {
    type = "clamav";
    servers = "$clamd";
    symbol = "CLAM_VIRUS";
    action = "reject";
    scan_mime_parts = false;
    log_clean = false;
}
EOF
	cat >"$RS_DIR/local/local.d/redis.conf" <<EOF
servers = "$RS_DIR/redis/redis.sock";
EOF
	cat >"$RS_DIR/local/local.d/classifier-bayes.conf" <<EOF
backend = "redis";
servers = "$RS_DIR/redis/redis.sock";
min_learns = 10;
autolearn = false;
EOF
	echo "enabled = false;" >"$RS_DIR/local/local.d/greylist.conf"
	echo "enabled = false;" >"$RS_DIR/local/local.d/fuzzy_check.conf"
	chown -R _rspamd:_rspamd "$RS_DIR" || return 1
	chmod a+x "$RS_DIR"
	setsid redis-server --port 0 --unixsocket "$RS_DIR/redis/redis.sock" --unixsocketperm 777 \
		--save '' --appendonly no --dir "$RS_DIR/redis" \
		>"$RS_DIR/redis/redis.log" 2>&1 </dev/null &
	RS_REDIS_PID=$!
	wait_socket "$RS_DIR/redis/redis.sock" 10 "$RS_REDIS_PID" || { echo "rspamd.sh: redis-server did not start" >&2; return 1; }
	setsid rspamd -f -u _rspamd -g _rspamd -c "$RS_DIR/rspamd.conf" \
		--var=LOCAL_CONFDIR="$RS_DIR/local" --var=DBDIR="$RS_DIR/db" \
		--var=RUNDIR="$RS_DIR/run" --var=LOGDIR="$RS_DIR/log" \
		>"$RS_DIR/rspamd.out" 2>&1 </dev/null &
	RS_PID=$!
	# the first start compiles the hyperscan databases: allow minutes
	for ((i = 0; i < 1800; i++)); do
		[ -S "$RS_DIR/run/proxy.sock" ] && [ -S "$RS_DIR/run/controller.sock" ] &&
			rspamc -h "$RS_DIR/run/controller.sock" stat >/dev/null 2>&1 && break
		kill -0 "$RS_PID" 2>/dev/null || { echo "rspamd.sh: rspamd exited: $(tail -n 3 "$RS_DIR/rspamd.out" "$RS_DIR/log/rspamd.log" 2>/dev/null)" >&2; return 1; }
		sleep 0.2
	done
	[ "$i" -lt 1800 ] || { echo "rspamd.sh: rspamd did not answer in 6 minutes" >&2; return 1; }
	return 0
}

rs_learn() {
	rspamc -h "$RS_DIR/run/controller.sock" learn_spam "$1" >"$RS_DIR/learn-spam.log" 2>&1 &&
		rspamc -h "$RS_DIR/run/controller.sock" learn_ham "$2" >"$RS_DIR/learn-ham.log" 2>&1
}

rs_pids() {
	local p
	[ -n "$RS_PID" ] || return 0
	echo "$RS_PID"
	for p in $(pgrep -P "$RS_PID"); do echo "$p"; done
	[ -n "$RS_REDIS_PID" ] && echo "$RS_REDIS_PID"
	return 0
}

rs_stop() {
	local p i
	for p in $RS_PID $RS_REDIS_PID; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $RS_PID $RS_REDIS_PID; do
		for ((i = 0; i < 100; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	RS_PID= RS_REDIS_PID=
	return 0
}
