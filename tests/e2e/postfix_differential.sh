#!/usr/bin/env bash
# tests/e2e/postfix_differential.sh - relayguard's sender gate against
# Postfix's reject_sender_login_mismatch, case by case.
#
# One private Postfix 3.7 (tests/postfix.sh) with SASL logins from a sasldb
# and two smtpd services:
#   :$RG_SMTP_PORT        Postfix alone: smtpd_sender_restrictions =
#                         reject_sender_login_mismatch, smtpd_sender_login_maps
#                         = hash:fixed.map (postmap'd), regexp:regexp.map
#   :$RG_SUBMISSION_PORT  relayguard as the milter, no sender restrictions;
#                         sender_login_maps = fixed.map and regexp.map in one
# main.cf: mydestination = example.com (so [127.0.0.1], an inet_interfaces
# literal, is local too), myorigin = mx.test, recipient_delimiter = +,
# smtpd_delay_reject = no (the verdict comes at MAIL FROM);
# relayguard: local_domains = example.com, [127.0.0.1], sender_myorigin =
# mx.test.  tests/e2e/differential.py sends every (login, sender) case to
# both and compares 250 against 553; the deliberate differences it lists
# (the null sender, *@domain) are excluded.  Passes only when every other
# case agrees.  Then the live-reload safety through the daemon: an emptied,
# a half-written, a restored and a deleted map file, and SIGHUP.  A passing
# run removes its directory (RG_KEEP=1 keeps it: cases.tsv has every case).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$RG_TOP/tests/postfix.sh"
T=e2e-differential
DIR=$RG_TMP/e2e-differential
rm -rf "$DIR" && mkdir -p "$DIR"
CONF=$DIR/rg.conf
LOG=$DIR/relayguard.log
FAILS=0
# t_fail counts too: a passing run leaves nothing behind, a failing one
# keeps $DIR (maps, cases.tsv, logs) to look at
eval "$(declare -f t_fail | sed '1s/t_fail/rg_t_fail/')"
t_fail() { FAILS=$((FAILS + 1)); rg_t_fail "$@"; }
cleanup() {
	rg_stop >/dev/null 2>&1
	pf_stop >/dev/null 2>&1
	[ "$FAILS" -eq 0 ] && [ -z "${RG_KEEP:-}" ] && rm -rf "$DIR"
}
trap cleanup EXIT

echo "end to end: sender gate differential against Postfix's reject_sender_login_mismatch"
start=$(date +%s)

# every key form: plain, case, several owners, continuation, bare user,
# @domain, "#" after a key (an owner in Postfix), quoted keys with a space
# and with "..", an unquoted key with "..", UTF-8, the targets of routed
# addresses, the myorigin domain, a full key with an extension, *@domain
cat >"$DIR/fixed.map" <<'MAP'
# fixed keys, as postmap reads them
alice@example.com		alice
Bob@Example.COM			bob
list@example.com		alice, bob carol
shared@example.com		alice,
	dave
   # a comment line between continued lines
	john
postmaster			admin
carol				carol
@example.org			orgadmin
inline@example.org		alice # bob
upper@example.org		ALICE
bob@example.org			bob
"john doe"@example.com		john
"j..doe"@example.com		john
dave..x@example.com		dave
"a\"b"@example.com		alice
alice+special@example.com	bob
alice@mx.test			alice
Jörg@utf.test			john
straße@utf.test			dave
@utf.test			carol
éve@utf.test			eve
*@catchall.test			helpdesk
dave@catchall.test		dave
MAP
cat >"$DIR/regexp.map" <<'MAP'
# regexp keys: only the full address, after the fixed keys
/^re-(.+)@example\.net$/	${1}
/^amy\+.*@example\.org$/	alice
/^CASE@example\.net$/i		bob
/^zz@example\.com$/		carol
/^"q r"@example\.net$/		alice
/^q r@example\.net$/		bob
/^s t@example\.net$/		bob
MAP
cat "$DIR/fixed.map" "$DIR/regexp.map" >"$DIR/relayguard.map"

pf_setup "$DIR/postfix" >"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "pf_setup failed"; exit 0; }
for u in alice bob carol dave john admin orgadmin helpdesk eve; do
	pf_adduser "$u" secret >>"$DIR/setup.log" 2>&1
done
cp "$DIR/fixed.map" "$DIR/regexp.map" "$PF_CONF/"
postmap -c "$PF_CONF" "hash:$PF_CONF/fixed.map" >>"$DIR/setup.log" 2>&1 ||
	{ t_fail "$T/setup" "postmap failed: $(tail -3 "$DIR/setup.log")"; exit 0; }
pf_conf "mydestination = example.com" "myorigin = mx.test" \
	"recipient_delimiter = +" "smtpd_delay_reject = no" \
	"smtpd_sender_login_maps = hash:$PF_CONF/fixed.map, regexp:$PF_CONF/regexp.map" \
	"smtpd_soft_error_limit = 100000" "smtpd_hard_error_limit = 100000" \
	"smtpd_junk_command_limit = 100000" "local_recipient_maps =" \
	>>"$DIR/setup.log" 2>&1
# the inbound service becomes a second SASL service: Postfix alone
awk -v port="$RG_SMTP_PORT" '
	{ print }
	$1 == "127.0.0.1:" port && $2 == "inet" {
		print "  -o smtpd_sasl_auth_enable=yes"
		print "  -o smtpd_sasl_type=cyrus"
		print "  -o smtpd_sasl_path=smtpd"
		print "  -o smtpd_sasl_security_options=noanonymous"
		print "  -o smtpd_tls_auth_only=no"
		print "  -o smtpd_milters="
		print "  -o smtpd_sender_restrictions=reject_sender_login_mismatch"
		print "  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject"
	}' "$PF_CONF/master.cf" >"$PF_CONF/master.cf.new" &&
	mv "$PF_CONF/master.cf.new" "$PF_CONF/master.cf"
touch -d "@$(($(date +%s) - 10))" "$PF_CONF/main.cf" "$PF_CONF/master.cf"
pf_start >>"$DIR/setup.log" 2>&1 || { t_fail "$T/setup" "pf_start failed: $(tail -3 "$DIR/setup.log")"; exit 0; }

# pasted from main.cf: hash: names the text file, which relayguard reads
rg_conf "$CONF" "sender_login_maps=hash:$DIR/relayguard.map" \
	"local_domains=example.com, [127.0.0.1]" "sender_myorigin=mx.test" \
	"recipient_delimiter=+" "sender_check_header=no"
rg_start "$CONF" "$LOG" || { t_fail "$T/setup" "relayguard: $(tail -3 "$LOG")"; exit 0; }

if /usr/bin/python3 "$RG_TOP/tests/e2e/differential.py" --postfix "$RG_SMTP_PORT" \
	--relayguard "$RG_SUBMISSION_PORT" --out "$DIR/cases.tsv" >"$DIR/summary.txt" 2>&1; then
	t_pass "$T/every-case-agrees"
else
	t_fail "$T/every-case-agrees" "$(grep -m3 -E 'DISAGREE|Error|error' "$DIR/summary.txt")"
fi
sed 's/^/  /' "$DIR/summary.txt" | head -20
# the comparison must have covered something of every kind
check_kind() {
	if grep -qE "$2" "$DIR/cases.tsv" 2>/dev/null; then t_pass "$T/$1"; else t_fail "$T/$1" "no case: $2"; fi
}
check_kind accepted-cases $'\taccept\taccept\tagree$'
check_kind rejected-cases $'\treject\treject\tagree$'
check_kind routed-percent $'^eve\t<bob%example.org@example.com>\treject\treject'
check_kind quoted-space $'^john\t<"john doe"@example.com>\taccept\taccept'
check_kind utf8-fold $'^john\t<JÖRG@utf.test>\taccept\taccept'

# --- live reload safety through the daemon ---------------------------------
# probe NAME LOGIN SENDER REGEX - the reply of relayguard's port matches
probe() {
	local got
	got=$(/usr/bin/python3 "$RG_TOP/tests/e2e/differential.py" --probe \
		"$RG_SUBMISSION_PORT" "$2" "$3" 2>&1)
	if [[ $got =~ $4 ]]; then t_pass "$T/$1"; else t_fail "$T/$1" "<$3> as $2: $got"; fi
}
# wait_log REGEX - relayguard logged it (within 5 s)
wait_log() {
	local i
	for ((i = 0; i < 50; i++)); do
		grep -qE "$1" "$LOG" && return 0
		sleep 0.1
	done
	return 1
}
cp "$DIR/relayguard.map" "$DIR/relayguard.map.good"
# an editor empties the file: not taken; what the map would reject is
# tempfailed, what it owns passes
: >"$DIR/relayguard.map"
touch -d '-5 sec' "$DIR/relayguard.map"
sleep 1.1
probe emptied-owned-passes alice alice@example.com '^250 '
if wait_log 'refusing the changed map: 0 entries'; then t_pass "$T/emptied-refused-logged"; else t_fail "$T/emptied-refused-logged" "no refusal in $LOG"; fi
probe emptied-mismatch-tempfails alice bob@example.com '^451 4\.7\.1 '
# half written: refused with FILE:LINE, still tempfails
printf 'alice@example.com alice\nbob@example.com\n' >"$DIR/relayguard.map"
touch -d '-5 sec' "$DIR/relayguard.map"
sleep 1.1
probe half-written-tempfails alice bob@example.com '^451 4\.7\.1 '
if wait_log 'relayguard.map:2: "bob@example.com" has no owners; keeping the loaded map'; then t_pass "$T/half-written-logged"; else t_fail "$T/half-written-logged" "no FILE:LINE in $LOG"; fi
# written in full again: the gate decides again (553)
cp "$DIR/relayguard.map.good" "$DIR/relayguard.map"
touch -d '-5 sec' "$DIR/relayguard.map"
sleep 1.1
probe restored-rejects alice bob@example.com '^553 5\.7\.1 '
# deleted: logged, the loaded map stays
rm -f "$DIR/relayguard.map"
sleep 1.1
probe deleted-keeps-map alice bob@example.com '^553 5\.7\.1 '
probe deleted-keeps-owner alice alice@example.com '^250 '
if wait_log 'cannot read the map file'; then t_pass "$T/deleted-logged"; else t_fail "$T/deleted-logged" "nothing logged"; fi
# SIGHUP takes an empty map on purpose: then nobody owns anything
: >"$DIR/relayguard.map"
kill -HUP "$RG_PID"
if wait_log 'sender_login_maps: the text file .*/relayguard\.map, 0 entries'; then
	t_pass "$T/sighup-takes-empty-map"
else
	t_fail "$T/sighup-takes-empty-map" "no reload with 0 entries in $LOG"
fi
probe sighup-empty-map-rejects alice alice@example.com '^553 5\.7\.1 '
echo "  ($(($(date +%s) - start)) s)"
