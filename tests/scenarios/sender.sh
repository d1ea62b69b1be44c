#!/usr/bin/env bash
# tests/scenarios/sender.sh - the sender identity gate through
# "relayguard check": every reply, every lookup feature, hostile From
# fields, against the shipped example map (conf/sender_login_maps.example).
set -u
. "$(dirname "$0")/lib.sh"
echo "sender identity gate scenarios (relayguard check)"
map="sender_login_maps=$RG_TOP/conf/sender_login_maps.example"
base="$map local_domains=example.com"
msg() { printf 'From: %s\nTo: x@example.net\nSubject: t\n\nbody\n' "$1"; }

# --- envelope (MAIL FROM) ---
want="verdict: accept
header: X-Relayguard: mx.test; verdict=accept; mode=outbound; score=0.00"
never="reply:"
scenario env-own "$base" "--auth-user alice --mail-from alice@example.com" < <(msg alice@example.com)

want="verdict: reject
reply: 553 5.7.1 <bob@example.com>: Sender address rejected: not owned by user alice"
never="header:"
scenario env-other "$base" "--auth-user alice --mail-from bob@example.com" < <(msg bob@example.com)

want="reply: 553 5.7.1 <stranger@gmail.test>: Sender address rejected: not owned by user alice"
scenario env-unlisted "$base" "--auth-user alice --mail-from stranger@gmail.test" < <(msg stranger@gmail.test)

want="reply: 553 5.7.1 <alice@example.com>: Sender address rejected: not logged in"
scenario env-not-logged-in "$base" "--client-ip 192.0.2.9 --mail-from alice@example.com" < <(msg alice@example.com)

want="verdict: accept"
scenario env-unprotected-inbound "$base" "--client-ip 192.0.2.9 --mail-from someone@elsewhere.test" < <(msg someone@elsewhere.test)

want="verdict: accept
symbol: TRUSTED_NETWORK 0.00 10.0.0.5"
scenario env-trusted-no-login "$base trusted_networks=10.0.0.0/8" "--client-ip 10.0.0.5 --mail-from bob@example.com" < <(msg bob@example.com)

want="reply: 553 5.7.1 <>: Sender address rejected: not owned by user alice"
scenario env-null-default "$base" "--auth-user alice --mail-from <>" < <(msg alice@example.com)

want="verdict: accept"
scenario env-null-allowed "$base sender_allow_null=yes" "--auth-user alice --mail-from <>" < <(msg alice@example.com)

want="verdict: accept"
scenario env-null-inbound "$base" "--client-ip 192.0.2.9 --mail-from <>" < <(msg mailer-daemon@elsewhere.test)

want="verdict: accept"
scenario env-extension "$base" "--auth-user alice --mail-from alice+lists@example.com" < <(msg alice@example.com)

want="verdict: accept"
scenario env-case "$base" "--auth-user ALICE --mail-from Alice@EXAMPLE.com" < <(msg alice@example.com)

want="reply: 553 5.7.1 <Alice@example.com>: Sender address rejected: not owned by user alice"
scenario env-case-sensitive "$base sender_local_part_case_sensitive=yes" "--auth-user alice --mail-from Alice@example.com" < <(msg alice@example.com)

want="verdict: accept"
scenario env-shared-1 "$base" "--auth-user bob --mail-from sales@example.com" < <(msg sales@example.com)
want="verdict: accept"
scenario env-shared-continued "$base" "--auth-user carol --mail-from team@example.com" < <(msg team@example.com)
want="reply: 553 5.7.1 <sales@example.com>: Sender address rejected: not owned by user carol"
scenario env-shared-not-member "$base" "--auth-user carol --mail-from sales@example.com" < <(msg sales@example.com)

want="verdict: accept"
scenario env-catchall "$base" "--auth-user helpdesk --mail-from anyone@example.com" < <(msg anyone@example.com)
want="verdict: accept"
scenario env-catchall-over-owner "$base" "--auth-user helpdesk --mail-from bob@example.com" < <(msg bob@example.com)

want="verdict: accept"
scenario env-domain-key "$base" "--auth-user orgadmin --mail-from whoever@example.org" < <(msg whoever@example.org)
want="reply: 553 5.7.1 <whoever@example.org>: Sender address rejected: not owned by user alice"
scenario env-domain-key-other "$base" "--auth-user alice --mail-from whoever@example.org" < <(msg whoever@example.org)

want="verdict: accept"
scenario env-local-user "$base" "--auth-user admin --mail-from postmaster@example.com" < <(msg postmaster@example.com)
want="reply: 553 5.7.1 <postmaster@example.net>: Sender address rejected: not owned by user admin"
scenario env-user-key-not-local "$base" "--auth-user admin --mail-from postmaster@example.net" < <(msg postmaster@example.net)

want="verdict: accept"
scenario env-alias-domain "$base sender_domain_aliases=example.net=example.com" "--auth-user alice --mail-from alice@example.net" < <(msg alice@example.net)
want="reply: 553 5.7.1 <bob@example.net>: Sender address rejected: not owned by user alice"
scenario env-alias-domain-other "$base sender_domain_aliases=example.net=example.com" "--auth-user alice --mail-from bob@example.net" < <(msg bob@example.net)

want="verdict: accept"
scenario env-regex "$base" "--auth-user jdoe --mail-from jdoe@example.edu" < <(msg jdoe@example.edu)
want="reply: 553 5.7.1 <jdoe@example.edu>: Sender address rejected: not owned by user mallory"
scenario env-regex-other "$base" "--auth-user mallory --mail-from jdoe@example.edu" < <(msg jdoe@example.edu)

want="verdict: accept"
scenario env-outside-sender-domains "$base sender_domains=example.com" "--auth-user alice --mail-from alice@gmail.test" < <(msg alice@gmail.test)

want="reply: 553 5.7.1 <\"bob\"@example.com>: Sender address rejected: not owned by user alice"
scenario env-quoted-local "$base" "--auth-user alice --mail-from \"bob\"@example.com" < <(msg alice@example.com)

want="reply: 553 5.7.1 <@relay.test:bob@example.com>: Sender address rejected: not owned by user alice"
scenario env-source-route "$base" "--auth-user alice --mail-from @relay.test:bob@example.com" < <(msg alice@example.com)

want="reply: 451 4.7.1 <bob@example.com>: Sender address rejected: not owned by user alice"
scenario env-action-tempfail "$base sender_envelope_action=tempfail" "--auth-user alice --mail-from bob@example.com" < <(msg bob@example.com)
# (the verdict word of a tempfail is "tempfail")
want="verdict: tempfail"
scenario env-action-tempfail-word "$base sender_envelope_action=tempfail" "--auth-user alice --mail-from bob@example.com" < <(msg bob@example.com)

want="verdict: accept
symbol: SENDER_LOGIN_MISMATCH 0.00 <bob@example.com> not owned by alice (owners: bob, helpdesk)"
scenario env-action-accept "$base sender_envelope_action=accept sender_header_action=accept" "--auth-user alice --mail-from bob@example.com" < <(msg bob@example.com)

want="verdict: accept"
scenario env-check-off "$base sender_check_envelope=no" "--auth-user alice --mail-from bob@example.com" < <(msg alice@example.com)

# --- as Postfix's reject_sender_login_mismatch (issue 15) ---
# (a quoted key with a space, "john doe"@example.com: tests/unit and
# tests/e2e/postfix_differential.sh; these arguments split at spaces)
env="$base sender_check_header=no"
want="verdict: accept"
scenario env-utf8-fold "$env" "--auth-user joerg --mail-from JÖRG@example.com" < <(msg alice@example.com)
# routed: bob%example.org@example.com goes to bob@example.org (@example.org)
want="verdict: accept"
scenario env-percent-hack "$env" "--auth-user orgadmin --mail-from bob%example.org@example.com" < <(msg alice@example.com)
want="reply: 553 5.7.1 <alice%evil.test@example.com>: Sender address rejected: not owned by user alice"
scenario env-percent-hack-other "$base" "--auth-user alice --mail-from alice%evil.test@example.com" < <(msg alice@example.com)
want="verdict: accept"
scenario env-bang-path "$env" "--auth-user orgadmin --mail-from example.org!bob@example.com" < <(msg alice@example.com)
want="reply: 553 5.7.1 <example.org!alice@example.com>: Sender address rejected: not owned by user alice"
scenario env-bang-path-other "$base" "--auth-user alice --mail-from example.org!alice@example.com" < <(msg alice@example.com)
want="verdict: accept"
scenario env-myorigin "$base sender_myorigin=example.com" "--auth-user alice --mail-from alice" < <(msg alice@example.com)
want="verdict: accept"
scenario env-map-hash-prefix "sender_login_maps=hash:$RG_TOP/conf/sender_login_maps.example local_domains=example.com" "--auth-user alice --mail-from alice@example.com" < <(msg alice@example.com)
# relayguard -n says which file it reads for a main.cf-style value
if out=$(rg_conf "$dir/n.conf" "sender_login_maps=hash:$RG_TOP/conf/sender_login_maps.example" &&
	"$RG_BIN" -c "$dir/n.conf" -n 2>&1) &&
	[ "$out" = "sender_login_maps: the text file $RG_TOP/conf/sender_login_maps.example, 10 entries" ]; then
	t_pass check/n-says-text-file
else
	t_fail check/n-says-text-file "got: $out"
fi
# <""> is the null sender, as in Postfix
want="reply: 553 5.7.1 <\"\">: Sender address rejected: not owned by user alice"
scenario env-null-quoted "$base" "--auth-user alice --mail-from \"\"" < <(msg alice@example.com)
want="verdict: accept"
scenario env-null-quoted-allowed "$base sender_allow_null=yes" "--auth-user alice --mail-from \"\"" < <(msg alice@example.com)

# --- header From and Sender (end of headers) ---
A="--auth-user alice --mail-from alice@example.com"
want="reply: 550 5.7.1 <bob@example.com>: From address not owned by user alice"
scenario hdr-other "$base" "$A" < <(msg bob@example.com)

want="reply: 550 5.7.1 <bob@example.com>: From address not owned by user alice"
scenario hdr-second-address "$base" "$A" < <(msg 'alice@example.com, bob@example.com')

want="reply: 550 5.7.1 Message must have one From header"
scenario hdr-missing "$base" "$A" < <(printf 'Subject: none\n\nbody\n')

want="reply: 550 5.7.1 Message must have exactly one From header"
scenario hdr-two-fields "$base" "$A" < <(printf 'From: alice@example.com\nFrom: bob@example.com\n\nx\n')

want="reply: 550 5.7.1 Malformed From header"
scenario hdr-malformed "$base" "$A" < <(msg 'alice@example.com <bob@example.com>')

want="reply: 550 5.7.1 <bob@example.com>: Sender header address not owned by user alice"
scenario hdr-sender-other "$base" "$A" < <(printf 'From: alice@example.com\nSender: bob@example.com\n\nx\n')

want="verdict: accept"
scenario hdr-sender-own "$base" "$A" < <(printf 'From: sales@example.com\nSender: alice@example.com\n\nx\n')

want="reply: 550 5.7.1 Malformed Sender header"
scenario hdr-sender-two "$base" "$A" < <(printf 'From: alice@example.com\nSender: alice@example.com, sales@example.com\n\nx\n')

want="verdict: accept"
scenario hdr-display-name "$base" "$A" < <(msg '"Alice Liddell (Sales)" <alice@example.com>')

want="reply: 550 5.7.1 Malformed From header"
scenario hdr-group "$base" "$A" < <(msg 'Us: alice@example.com, sales@example.com;')

want="reply: 550 5.7.1 <bob@example.com>: From address not owned by user alice"
scenario hdr-comment-trick "$base" "$A" < <(msg 'bob@example.com (alice@example.com)')

want="reply: 550 5.7.1 <alice@example.com@evil.test>: From address not owned by user alice"
scenario hdr-quoted-at "$base" "$A" < <(msg '"alice@example.com"@evil.test')

want="reply: 550 5.7.1 <bob@example.com>: From address not owned by user alice"
scenario hdr-encoded-word-display "$base" "$A" < <(msg '=?utf-8?B?YWxpY2VAZXhhbXBsZS5jb20=?= <bob@example.com>')

want="reply: 550 5.7.1 Malformed From header"
scenario hdr-crlf-injection "$base" "$A" < <(printf 'From: alice@example.com\r\nX: y\n\nx\n' | sed 's/\r$//' | sed '1s/$/\rBcc: z@evil.test/')

want="verdict: accept
symbol: FROM_DISPLAY_SPOOF 0.00 display name shows <ceo@example.com>, address is alice@example.com"
scenario hdr-display-spoof-tag "$base" "$A" < <(msg '"ceo@example.com" <alice@example.com>')

want="verdict: reject
reply: 550 5.7.1 <ceo@example.com>: From display name shows another address"
scenario hdr-display-spoof-reject "$base sender_display_spoof_action=reject" "$A" < <(msg '"ceo@example.com" <alice@example.com>')

# the same spoof in any charset iconv knows (windows-1252 once escaped)
for cs in windows-1252 iso-8859-15 koi8-r windows-1251 iso-8859-2; do
	want="verdict: reject
reply: 550 5.7.1 <ceo@example.com>: From display name shows another address"
	never="FROM_DISPLAY_CHARSET_UNKNOWN"
	scenario "hdr-display-spoof-$cs" "$base sender_display_spoof_action=reject" "$A" < <(msg "\"=?$cs?q?ceo=40example.com?=\" <alice@example.com>")
done
want="verdict: reject
reply: 550 5.7.1 <ceo@example.com>: From display name shows another address"
scenario hdr-display-spoof-utf16 "$base sender_display_spoof_action=reject" "$A" < <(msg '=?UTF-16?B?/v8AYwBlAG8AQABlAHgAYQBtAHAAbABlAC4AYwBvAG0=?= <alice@example.com>')
# a charset iconv does not know: the address stays visible, and it is noted
want="verdict: reject
reply: 550 5.7.1 <ceo@example.com>: From display name shows another address
symbol: FROM_DISPLAY_CHARSET_UNKNOWN 0.00 display name has an encoded word in a charset iconv does not know (shown as ASCII)"
scenario hdr-display-spoof-unknown-charset "$base sender_display_spoof_action=reject" "$A" < <(msg '=?x-martian?q?ceo=40example.com?= <alice@example.com>')
want="verdict: accept
symbol: FROM_DISPLAY_CHARSET_UNKNOWN 0.00 display name has an encoded word in a charset iconv does not know (shown as ASCII)"
never="FROM_DISPLAY_SPOOF"
scenario hdr-display-unknown-charset-noted "$base sender_display_spoof_action=reject" "$A" < <(msg '=?x-martian?q?Alice?= <alice@example.com>')

want="verdict: accept"
never="FROM_DISPLAY_SPOOF"
scenario hdr-display-own-address "$base sender_display_spoof_action=reject" "$A" < <(msg '"alice@example.com" <alice@example.com>')

want="verdict: accept
symbol: FROM_PROTECTED_INBOUND 0.00 <alice@example.com> is owned by alice, helpdesk"
scenario hdr-inbound-protected-tag "$base" "--client-ip 192.0.2.9 --mail-from list@lists.test" < <(msg alice@example.com)

want="reply: 550 5.7.1 <alice@example.com>: From address rejected: not logged in"
scenario hdr-inbound-protected-reject "$base sender_inbound_header_action=reject" "--client-ip 192.0.2.9 --mail-from list@lists.test" < <(msg alice@example.com)

want="verdict: accept
symbol: FROM_INVALID_INBOUND 0.00 syntax: missing \"@\" at offset 8"
never="reply:"
scenario hdr-inbound-malformed-noted "$base" "--client-ip 192.0.2.9 --mail-from a@lists.test" < <(msg 'broken <<a@b>>')

want="verdict: accept"
scenario hdr-check-off "$base sender_check_header=no" "$A" < <(msg bob@example.com)

want="verdict: accept"
scenario hdr-no-map "" "$A" < <(msg bob@example.com)

# without --mail-from, the envelope sender comes from the message
want="reply: 553 5.7.1 <bob@example.com>: Sender address rejected: not owned by user alice"
scenario default-sender-from "$base" "--auth-user alice" < <(msg bob@example.com)
want="reply: 553 5.7.1 <bounce@example.com>: Sender address rejected: not owned by user alice"
scenario default-sender-return-path "$base" "--auth-user alice" < <(printf 'Return-Path: <bounce@example.com>\nFrom: alice@example.com\n\nx\n')
# a Return-Path too long to keep is still the sender (check crashed on it)
want="reply: 501 5.1.7 Bad sender address syntax: address too long"
scenario default-sender-return-path-long "" "" < <(printf 'Return-Path: <'; head -c 5000 /dev/zero | tr '\0' 'b'; printf '@example.com>\nFrom: alice@example.com\n\nx\n')
