# bench/chain.sh - the classic chain of Debian packages as Postfix's
# milters and policy service, for scripts/bench (issue 20): OpenDKIM
# verifying, OpenDMARC, postfix-policyd-spf-python, clamav-milter on the
# bench's clamd, spamass-milter with spamd.  A shell library: source it
# after tests/lib.sh.
#
#   chain_start DIR CLAMD_SOCKET ZONEFILE TESTKEYS
#                    start everything under DIR: clamav-milter on the
#                    clamd at CLAMD_SOCKET (a unix socket); OpenDKIM with
#                    its keys from TESTKEYS (TestPublicKeys: no DNS, see
#                    RIG-NOTES, OpenDKIM issue #56); the daemons that only
#                    read /etc/resolv.conf in a network namespace whose
#                    resolver is a knotd on its 127.0.0.1:53 serving
#                    ZONEFILE (the bench's zone, copied: the same DNS
#                    data); wait until every socket is up
#   chain_stop       stop everything, remove the namespace and
#                    /etc/netns/NAME (safe to call twice)
#   chain_pids       the pids of the chain's daemons (knotd left out: it
#                    stands for the network's resolver), one a line; the
#                    caller sums their process trees
#   chain_milters    smtpd_milters for Postfix (in the chain's order)
#   chain_policy     the smtpd_recipient_restrictions item for SPF
#
# Sockets, all unix (a network namespace has a loopback of its own, the
# file system is shared): DIR/opendkim.sock, DIR/opendmarc.sock,
# DIR/clamav-milter.sock, DIR/spamass.sock, DIR/spamd.sock, DIR/spf.sock.
# In the namespace (RG_BENCH_NETNS, default rgbench-RG_MILTER_PORT):
# knotd, opendmarc (DMARC records, its own SPF check: SPFSelfValidate),
# policyd-spf (behind a small forking server on DIR/spf.sock: Postfix's
# spawn would run it outside the namespace) and spamd (its network
# tests).  Outside, needing no DNS: opendkim, clamav-milter,
# spamass-milter (spamc per message, to spamd's socket).
#
# Defaults that skip mail from loopback are moved to an address that never
# sends (RIG-NOTES): opendkim InternalHosts, opendmarc IgnoreHosts,
# policyd-spf skip_addresses (empty crashes it), spamass-milter -i not
# given.  Verdicts: clamav-milter rejects a virus, spamass-milter rejects
# at SpamAssassin's threshold (-r -1), policyd-spf rejects an SPF fail,
# opendmarc rejects a p=reject failure; opendkim only adds its results.
# SpamAssassin runs with Debian's rules and no Bayes store (none trained).
# Needs root (ip netns).

CH_DIR= CH_NS= CH_KNOT_PID= CH_DKIM_PID= CH_DMARC_PID= CH_SPF_PID= CH_CLAM_PID=
CH_SPAMD_PID= CH_SPAMASS_PID=

# _ch_bg LOG CMD... - CMD in the background with umask 000 (Postfix's
# smtpd connects as postfix); sets L_PID
_ch_bg() {
	local log=$1
	shift
	(umask 000; exec setsid "$@" >"$log" 2>&1 </dev/null) &
	L_PID=$!
}
# _ch_ns CMD... - CMD in the namespace
_ch_ns() { ip netns exec "$CH_NS" "$@"; }

chain_milters() {
	echo "unix:$CH_DIR/opendkim.sock, unix:$CH_DIR/opendmarc.sock, unix:$CH_DIR/clamav-milter.sock, unix:$CH_DIR/spamass.sock"
}
chain_policy() { echo "check_policy_service unix:$CH_DIR/spf.sock"; }

chain_start() {
	local dir=$1 clamd=$2 zone=$3 keys=$4 never=192.0.2.254
	mkdir -p "$dir"/{knot/run,knot/db,spamd} || return 1
	CH_DIR=$(cd "$dir" && pwd -P)
	chmod a+rx "$CH_DIR"
	CH_NS=${RG_BENCH_NETNS:-rgbench-${RG_MILTER_PORT:-28894}}
	chain_stop_ns
	ip netns add "$CH_NS" || return 1
	ip -n "$CH_NS" link set lo up || return 1
	mkdir -p "/etc/netns/$CH_NS" && echo "nameserver 127.0.0.1" >"/etc/netns/$CH_NS/resolv.conf" || return 1

	# the resolver of the namespace: the bench's zone on 127.0.0.1:53
	cp "$zone" "$CH_DIR/knot/root.zone" || return 1
	cat >"$CH_DIR/knot/knot.conf" <<EOF
server:
    rundir: "$CH_DIR/knot/run"
    listen: 127.0.0.1@53
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$CH_DIR/knot/db"
log:
  - target: stderr
    any: warning
template:
  - id: default
    storage: "$CH_DIR/knot"
    zonefile-load: whole
    journal-content: none
    zonefile-sync: -1
zone:
  - domain: .
    file: "$CH_DIR/knot/root.zone"
EOF
	_ch_ns setsid knotd -c "$CH_DIR/knot/knot.conf" >"$CH_DIR/knot/knot.log" 2>&1 </dev/null &
	CH_KNOT_PID=$!
	local i
	for ((i = 0; i < 50; i++)); do
		_ch_ns kdig +short +time=1 +retry=0 @127.0.0.1 SOA . >/dev/null 2>&1 && break
		sleep 0.1
	done
	[ "$i" -lt 50 ] || { echo "chain.sh: knotd in $CH_NS did not answer: $(tail -n 3 "$CH_DIR/knot/knot.log")" >&2; return 1; }

	# OpenDKIM, verifying only, keys from a file
	echo "$never" >"$CH_DIR/internal-hosts"
	cat >"$CH_DIR/opendkim.conf" <<EOF
Mode v
Socket local:$CH_DIR/opendkim.sock
UMask 000
Background no
Syslog no
PidFile $CH_DIR/opendkim.pid
AuthservID mx.test
InternalHosts $CH_DIR/internal-hosts
TestPublicKeys $keys
AlwaysAddARHeader yes
EOF
	_ch_bg "$CH_DIR/opendkim.log" opendkim -f -x "$CH_DIR/opendkim.conf"
	CH_DKIM_PID=$L_PID

	# OpenDMARC, with its own SPF check, in the namespace
	echo "$never" >"$CH_DIR/ignore-hosts"
	cat >"$CH_DIR/opendmarc.conf" <<EOF
Socket local:$CH_DIR/opendmarc.sock
UMask 000
Background false
Syslog false
PidFile $CH_DIR/opendmarc.pid
AuthservID mx.test
TrustedAuthservIDs mx.test
IgnoreHosts $CH_DIR/ignore-hosts
PublicSuffixList /usr/share/publicsuffix/public_suffix_list.dat
SPFSelfValidate true
RejectFailures true
EOF
	(umask 000; exec ip netns exec "$CH_NS" setsid opendmarc -f -c "$CH_DIR/opendmarc.conf" \
		>"$CH_DIR/opendmarc.log" 2>&1 </dev/null) &
	CH_DMARC_PID=$!

	# policyd-spf, one process per Postfix policy connection, in the
	# namespace; the server reaps them so their CPU shows in its cutime
	cat >"$CH_DIR/policyd-spf.conf" <<EOF
debugLevel = 0
TestOnly = 1
HELO_reject = Fail
Mail_From_reject = Fail
PermError_reject = False
TempError_Defer = False
skip_addresses = $never/32
EOF
	(umask 000; exec ip netns exec "$CH_NS" setsid perl -MIO::Socket::UNIX -MPOSIX=:sys_wait_h -e '
		my ($path, @cmd) = @ARGV;
		unlink $path;
		my $l = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => $path, Listen => 128)
			or die "spf server: $path: $!\n";
		$SIG{CHLD} = sub { 1 while waitpid(-1, WNOHANG) > 0 };
		$SIG{TERM} = sub { kill "TERM", -$$; exit 0 };
		while (1) {
			my $c = $l->accept or next;
			my $p = fork;
			if (defined $p && $p == 0) {
				close $l;
				open(STDIN, "<&", $c) && open(STDOUT, ">&", $c) or exit 1;
				exec @cmd or exit 1;
			}
			close $c;
		}' "$CH_DIR/spf.sock" policyd-spf "$CH_DIR/policyd-spf.conf" \
		>"$CH_DIR/spf.log" 2>&1 </dev/null) &
	CH_SPF_PID=$!

	# clamav-milter on the bench's clamd
	cat >"$CH_DIR/clamav-milter.conf" <<EOF
MilterSocket unix:$CH_DIR/clamav-milter.sock
MilterSocketMode 666
FixStaleSocket yes
User root
Foreground yes
PidFile $CH_DIR/clamav-milter.pid
ClamdSocket unix:$clamd
OnClean Accept
OnInfected Reject
OnFail Defer
AddHeader Replace
LogFile $CH_DIR/clamav-milter.log
LogInfected Basic
MaxFileSize 25M
EOF
	_ch_bg "$CH_DIR/clamav-milter.out" clamav-milter -c "$CH_DIR/clamav-milter.conf"
	CH_CLAM_PID=$L_PID

	# spamd in the namespace, spamass-milter outside
	chown debian-spamd: "$CH_DIR/spamd"
	(umask 000; exec ip netns exec "$CH_NS" setsid spamd -u debian-spamd -x \
		--socketpath="$CH_DIR/spamd.sock" --socketmode=0666 \
		--max-children="${CH_SPAMD_CHILDREN:-$(nproc)}" --min-children="${CH_SPAMD_CHILDREN:-$(nproc)}" \
		--helper-home-dir="$CH_DIR/spamd" -s "$CH_DIR/spamd/spamd.log" \
		-r "$CH_DIR/spamd/spamd.pid" >"$CH_DIR/spamd/spamd.out" 2>&1 </dev/null) &
	CH_SPAMD_PID=$!
	_ch_bg "$CH_DIR/spamass.log" spamass-milter -p "$CH_DIR/spamass.sock" -r -1 \
		-P "$CH_DIR/spamass.pid" -- -U "$CH_DIR/spamd.sock"
	CH_SPAMASS_PID=$L_PID

	local s p
	for s in opendkim:$CH_DKIM_PID opendmarc:$CH_DMARC_PID spf:$CH_SPF_PID \
		clamav-milter:$CH_CLAM_PID spamd:$CH_SPAMD_PID spamass:$CH_SPAMASS_PID; do
		p=${s#*:} s=${s%%:*}
		wait_socket "$CH_DIR/$s.sock" 60 "$p" ||
			{ echo "chain.sh: $s did not start: $(tail -n 3 "$CH_DIR/$s".{log,out} "$CH_DIR/spamd/spamd.out" 2>/dev/null | grep -v '^$' | tail -n 3)" >&2; return 1; }
	done
	chmod 666 "$CH_DIR"/*.sock
	return 0
}

chain_pids() {
	local p
	for p in $CH_DKIM_PID $CH_DMARC_PID $CH_SPF_PID $CH_CLAM_PID $CH_SPAMD_PID $CH_SPAMASS_PID; do
		kill -0 "$p" 2>/dev/null && echo "$p"
	done
	return 0
}

# chain_stop_ns - remove the namespace and its resolv.conf
chain_stop_ns() {
	[ -n "$CH_NS" ] || return 0
	ip netns pids "$CH_NS" 2>/dev/null | xargs -r kill -TERM 2>/dev/null
	sleep 0.2
	ip netns pids "$CH_NS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
	ip netns del "$CH_NS" 2>/dev/null
	rm -rf "/etc/netns/$CH_NS"
	return 0
}

chain_stop() {
	local p i
	for p in $CH_SPAMASS_PID $CH_SPAMD_PID $CH_CLAM_PID $CH_SPF_PID $CH_DMARC_PID $CH_DKIM_PID $CH_KNOT_PID; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $CH_SPAMASS_PID $CH_SPAMD_PID $CH_CLAM_PID $CH_SPF_PID $CH_DMARC_PID $CH_DKIM_PID $CH_KNOT_PID; do
		for ((i = 0; i < 50; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	CH_SPAMASS_PID= CH_SPAMD_PID= CH_CLAM_PID= CH_SPF_PID= CH_DMARC_PID= CH_DKIM_PID= CH_KNOT_PID=
	chain_stop_ns
	return 0
}
