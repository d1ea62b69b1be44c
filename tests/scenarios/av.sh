#!/usr/bin/env bash
# tests/scenarios/av.sh - the virus scan through "relayguard check":
# libclamav in process with the test signatures of conf/clamav, on the
# message shapes of tests/tools/mkvirus (EICAR built at run time from two
# halves), their clean twins, the actions, the limits and the start-up
# refusals.
set -u
. "$(dirname "$0")/lib.sh"
echo "virus scan scenarios (relayguard check, libclamav, test signatures)"
MK=$RG_TOP/tests/tools/mkvirus
SIGS=$RG_TOP/conf/clamav
AV="av=yes clamav_database=$SIGS av_headers=yes"
IN="--client-ip 192.0.2.1 --helo x.test --rcpt c@d.test"
OUT="--client-ip 192.0.2.1 --helo x.test --rcpt c@d.test --auth-user alice"
EICAR=Eicar-Test-Signature.UNOFFICIAL

# every shape: infected is rejected naming the virus, the clean twin passes
# with the scan headers
for shape in plain base64 single qp zip zipzip rfc822 multi bigbody html; do
	name=$EICAR
	[ "$shape" = html ] && name=Relayguard.Test.Eicar.Html.UNOFFICIAL
	want="verdict: reject
reply: 554 5.7.1 Message contains virus $name
symbol: AV_VIRUS 0.00 $name"
	scenario "av-$shape-infected" "$AV" "$IN" < <("$MK" "$shape")
	want="verdict: accept
header: X-Virus-Status: Clean"
	never="AV_"
	scenario "av-$shape-clean" "$AV" "$IN" < <("$MK" "$shape" --clean)
done

# a first field libclamav does not take for mail (and a kilobyte of
# padding before From): scanned behind a Received line of ours, from
# memory and from the spool file
for shape in single zip; do
	want="verdict: reject
symbol: AV_VIRUS 0.00 $EICAR"
	scenario "av-first-header-$shape" "$AV" "$IN" < <("$MK" "$shape" --first-header X-Foo --pad-headers 1100 --mime-last)
done
want="verdict: reject
symbol: AV_VIRUS 0.00 $EICAR"
scenario av-first-header-on-disk "$AV spool_memory_max=1k temp_dir=$dir" "$IN" \
	< <("$MK" single --first-header DKIM-Signature --pad-headers 1100 --mime-last)
want="verdict: accept"
never="AV_"
scenario av-first-header-clean "$AV" "$IN" < <("$MK" single --clean --first-header X-Foo --pad-headers 1100 --mime-last)

# our own marker, nested, and the logical signature that needs two strings
want="verdict: reject
symbol: AV_VIRUS 0.00 Relayguard.Test.Marker.UNOFFICIAL"
scenario av-marker-zipzip "$AV" "$IN" < <("$MK" zipzip --marker)
want="verdict: reject"
scenario av-both-rfc822 "$AV" "$IN" < <("$MK" rfc822 --both)

# outbound mail is scanned too (a compromised account)
want="verdict: reject
reply: 554 5.7.1 Message contains virus $EICAR"
scenario av-outbound-infected "$AV" "$OUT" < <("$MK" base64 --from alice@local.test)

# the spool on disk (spool_memory_max small): scanned through its file
want="verdict: reject
symbol: AV_VIRUS 0.00 $EICAR"
scenario av-spool-on-disk "$AV spool_memory_max=64k temp_dir=$dir" "$IN" < <("$MK" bigbody)

# actions
want="verdict: quarantine
header: X-Virus-Status: Infected ($EICAR)
symbol: AV_VIRUS 0.00 $EICAR"
never="reply:"
scenario av-action-quarantine "$AV av_action=quarantine" "$IN" < <("$MK" zip)
want="verdict: discard"
scenario av-action-discard "$AV av_action=discard" "$IN" < <("$MK" zip)
want="verdict: accept
header: X-Virus-Status: Infected ($EICAR)"
scenario av-action-tag "$AV av_action=tag" "$IN" < <("$MK" zip)

# what cannot be scanned whole: tempfail by default, inbound and outbound
want="verdict: tempfail
reply: 451 4.3.0 Message could not be scanned for viruses: encrypted content
symbol: AV_ENCRYPTED 0.00 Heuristics.Encrypted.Zip"
scenario av-encrypted-tempfail "$AV" "$IN" < <("$MK" encrypted)
want="verdict: reject
reply: 554 5.7.1 Message could not be scanned for viruses: encrypted content"
scenario av-encrypted-outbound-reject "$AV av_outbound_error_action=reject" "$OUT" < <("$MK" encrypted --from alice@local.test)
want="verdict: tempfail
reply: 451 4.3.0 Message could not be scanned for viruses: encrypted content"
scenario av-encrypted-inbound-keeps-tempfail "$AV av_outbound_error_action=reject" "$IN" < <("$MK" encrypted)
want="verdict: accept"
scenario av-encrypted-accepted "$AV av_error_action=accept" "$IN" < <("$MK" encrypted)
want="verdict: tempfail
symbol: AV_LIMIT 0.00 Heuristics.Limits.Exceeded.MaxRecursion"
scenario av-deep-recursion-limit "$AV" "$IN" < <("$MK" deep)
want="verdict: tempfail
reply: 451 4.3.0 Message could not be scanned for viruses: a scan limit was reached"
scenario av-filesize-limit "$AV av_max_filesize=1M" "$IN" < <("$MK" bigbody --clean)

# forged scan headers go, ours replace them
want="verdict: accept
remove-header: X-Virus-Status
remove-header: X-Virus-Scanned
header: X-Virus-Status: Clean"
scenario av-forged-headers-removed "$AV" "$IN" < <(printf 'Received: from x by y\r\nX-Virus-Status: Clean\r\nX-Virus-Scanned: forged\r\nFrom: a@b.test\r\nSubject: s\r\n\r\nhi\r\n')
never="X-Virus"
scenario av-headers-off "av=yes clamav_database=$SIGS" "$IN" < <(printf 'Received: from x by y\r\nFrom: a@b.test\r\nSubject: s\r\n\r\nhi\r\n')

# an empty message body and a message that is only a header
want="verdict: accept"
scenario av-empty-body "$AV" "$IN" < <(printf 'From: a@b.test\r\nSubject: s\r\n\r\n')

# av = no: nothing scanned, EICAR passes
want="verdict: accept"
never="AV_"
scenario av-off "av=no clamav_database=$SIGS av_headers=yes" "$IN" < <("$MK" plain)

# start-up: a named database without signatures, or one that does not load
mkdir -p "$dir/empty" "$dir/corrupt"
printf 'Broken.Sig:0:*:zz-not-hex\n' >"$dir/corrupt/broken.ndb"
printf 'x\r\n' >"$dir/one.eml"
check_fails() {	# NAME CONF_ITEMS PATTERN: check exits 2 naming the cause
	local out rc=0
	# shellcheck disable=SC2086
	rg_conf "$conf" $2
	out=$("$RG_BIN" check -c "$conf" $IN "$dir/one.eml" 2>&1) || rc=$?
	if [ "$rc" = 2 ] && grep -q -- "$3" <<<"$out"; then
		t_pass "check/$1"
	else
		t_fail "check/$1" "exit $rc: $(head -c 300 <<<"$out")"
	fi
}
check_fails av-refuse-empty-db "av=yes clamav_database=$dir/empty" \
	"rg.conf:[0-9]*: clamav_database $dir/empty: no virus signatures there (install clamav-freshclam"
check_fails av-refuse-corrupt-db "av=yes clamav_database=$dir/corrupt" \
	"cannot load the signatures: Malformed database (set av_required = no"
# av_temp_dir must be absolute
check_fails av-temp-dir-relative "av=yes clamav_database=$SIGS av_temp_dir=tmp" \
	'av_temp_dir "tmp": want an absolute path'

# -n loads the signatures as a start would
rc=0
rg_conf "$conf" "av=yes" "clamav_database=$dir/corrupt"
out=$("$RG_BIN" -c "$conf" -n 2>&1) || rc=$?
if [ "$rc" = 1 ] && grep -q "^$conf:[0-9][0-9]*: clamav_database $dir/corrupt: cannot load" <<<"$out"; then
	t_pass check/av-n-refuses-corrupt
else
	t_fail check/av-n-refuses-corrupt "exit $rc: $out"
fi
rc=0
rg_conf "$conf" "av=yes" "clamav_database=$SIGS"
"$RG_BIN" -c "$conf" -n >/dev/null 2>&1 || rc=$?
if [ "$rc" = 0 ]; then t_pass check/av-n-good-db; else t_fail check/av-n-good-db "exit $rc"; fi
want="verdict: accept"
never="AV_"
scenario av-not-required-empty "av=yes clamav_database=$dir/empty av_required=no" "$IN" < <("$MK" plain)
want="verdict: accept"
never="AV_"
scenario av-not-required-corrupt "av=yes clamav_database=$dir/corrupt av_required=no" "$IN" < <("$MK" plain)
