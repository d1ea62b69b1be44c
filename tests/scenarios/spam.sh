#!/usr/bin/env bash
# tests/scenarios/spam.sh - the built-in spam engine through "relayguard
# check" and "relayguard learn": GTUBE, the thresholds and their actions
# (inbound and outbound), the X-Spam fields (forged ones removed), scores
# overridden, header rules, a generated corpus learned from files, an mbox
# and a maildir then classified, learn-once and --forget, too little
# training (neutral), hostile MIME, a token store that cannot be read.
set -u
. "$(dirname "$0")/lib.sh"
echo "spam engine scenarios (relayguard check, relayguard learn)"
G1='XJS*C4JDBQADN1.NSBN3*2IDNEN*'
G2='GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'
DATE=$(date -R)
IN="--client-ip 192.0.2.1 --helo x.test --rcpt c@d.test"
OUT="--client-ip 192.0.2.1 --helo x.test --rcpt c@d.test --auth-user alice"
STORE=$dir/bayes
# the scenarios before the corpus is learned use a store never made
# (tests/milter/differential.sh replays them after it is learned)
SP="spam=yes bayes_store=$dir/bayes-empty"
# msg BODY [EXTRA_HEADER] - a well-formed message (Received, Date, ...)
msg() {
	printf 'Received: from a.example by mx.test; %s\r\nReceived: from b by a.example; %s\r\nFrom: Ann <ann@example.com>\r\nTo: c@d.test\r\nSubject: hello\r\nDate: %s\r\nMessage-ID: <%s@example.com>\r\n%s\r\n%s\r\n' \
		"$DATE" "$DATE" "$DATE" "$RANDOM$RANDOM" "${2:-}" "$1"
}

want="verdict: reject
reply: 554 5.7.1 Message rejected as spam
symbol: GTUBE 1000.00 the GTUBE test string"
scenario spam-gtube-reject "$SP" "$IN" < <(msg "$G1$G2")
want="verdict: reject
reply: 554 5.7.1 Message rejected as spam"
scenario spam-gtube-outbound-reject "$SP" "$OUT" < <(msg "$G1$G2")
want="verdict: quarantine
header: X-Spam-Flag: YES
header: X-Spam-Score: 1000.00"
never="reply:"
scenario spam-gtube-quarantine "$SP spam_reject_score=off spam_quarantine_score=10" "$IN" < <(msg "$G1$G2")
want="verdict: accept
header: X-Spam-Flag: YES
header: X-Spam-Status: Yes, score=1000.00 required=5.00 tests=GTUBE"
scenario spam-gtube-tag "$SP spam_reject_score=off" "$IN" < <(msg "$G1$G2")
# GTUBE in a base64 part is found in the decoded text
want="verdict: reject"
scenario spam-gtube-base64 "$SP" "$IN" < <(msg "$(printf '%s%s\r\n' "$G1" "$G2" | base64 -w 60 | sed 's/$/\r/')" \
	"MIME-Version: 1.0
Content-Type: text/plain
Content-Transfer-Encoding: base64
")
# scores: GTUBE made harmless; a clean message is not tagged
want="verdict: accept
symbol: GTUBE 1.00 the GTUBE test string
total: 1.00"
never="X-Spam-Flag"
scenario spam-scores-override "$SP scores=GTUBE=1" "$IN" < <(msg "$G1$G2")
want="verdict: accept
total: 0.00"
never="X-Spam"
scenario spam-clean "$SP" "$IN" < <(msg "Hello, see you on Thursday.")
# forged X-Spam fields go
want="verdict: accept
remove-header: X-Spam-Flag
remove-header: X-Spam-Status"
scenario spam-forged-removed "$SP" "$IN" < <(msg "hi" "X-Spam-Flag: NO
X-Spam-Status: No, score=-100
")
# header rules
want="symbol: MISSING_DATE 1.00 no Date field
symbol: MISSING_MID 0.50 no Message-ID
symbol: MISSING_SUBJECT 1.00 no Subject
symbol: MISSING_RECEIVED 0.50 0 Received"
scenario spam-header-rules "$SP" "$IN" < <(printf 'From: a@b.test\r\n\r\nhi\r\n')
want="symbol: DATE_IN_FUTURE 2.00 50 hours ahead of Received"
scenario spam-date-future "$SP" "$IN" < <(printf 'Received: x by y; %s\r\nReceived: x by y; %s\r\nFrom: a@b.test\r\nSubject: s\r\nMessage-ID: <1@b>\r\nDate: %s\r\n\r\nhi\r\n' "$DATE" "$DATE" "$(date -R -d '+50 hours 30 minutes')")
# the Date is judged against the topmost Received's date: mail of 2002
# delivered in 2002 is on time; sent in 2002 and received today is late;
# without a Received date, against now; a Received from the future is
# not believed
OLD="Mon, 2 Sep 2002 10:00:00 +0000"
hdr() { printf 'Received: from a by y; %s\r\nReceived: x by y; %s\r\nFrom: a@b.test\r\nSubject: s\r\nMessage-ID: <1@b>\r\nDate: %s\r\n\r\nhi\r\n' "$1" "$2" "$3"; }
want="verdict: accept"
never="DATE_IN"
scenario spam-date-old-corpus "$SP" "$IN" < <(hdr "Mon, 2 Sep 2002 10:05:00 +0000" "$OLD" "$OLD")
want="symbol: DATE_IN_PAST 1.00 9 days behind Received"
scenario spam-date-past-received "$SP" "$IN" < <(hdr "$DATE" "$DATE" "$(date -R -d '-9 days -2 hours')")
want="symbol: DATE_IN_PAST 1.00 9 days behind now"
scenario spam-date-past-now "$SP" "$IN" < <(printf 'From: a@b.test\r\nDate: %s\r\n\r\nhi\r\n' "$(date -R -d '-9 days -2 hours')")
want="symbol: DATE_IN_PAST 1.00 9 days behind now"
scenario spam-date-received-future "$SP" "$IN" < <(hdr "$(date -R -d '+3 days')" "$DATE" "$(date -R -d '-9 days -2 hours')")
want="symbol: DATE_INVALID 1.00 Date does not parse"
scenario spam-date-invalid "$SP" "$IN" < <(printf 'From: a@b.test\r\nDate: the day after tomorrow\r\n\r\nhi\r\n')
want="symbol: FROM_REPLYTO_DIFFER 0.50 example.com, Reply-To other.test"
scenario spam-replyto "$SP" "$IN" < <(msg "hi" "Reply-To: x@other.test
")
want="symbol: HTML_ONLY 0.50 HTML and no text part"
scenario spam-html-only "$SP" "$IN" < <(msg "<html><body><p>Buy</p></body></html>" "MIME-Version: 1.0
Content-Type: text/html
")
# too big to walk: header rules only, GTUBE in the body not seen
want="verdict: accept"
never="GTUBE"
scenario spam-max-size "$SP spam_max_size=100" "$IN" < <(msg "$G1$G2")
# hostile MIME: 1000 nested multiparts get a verdict
want="verdict: accept
symbol: MIME_TRUNCATED 0.00 over a MIME limit"
scenario spam-deep-mime "$SP" "$IN" < <(/usr/bin/python3 -c '
import sys
h = "From: a@b.test\r\nSubject: deep\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n"
b = ""
for i in range(1, 1000):
    b += "--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i - 1, i)
sys.stdout.write(h + b + "--b999\r\n\r\nx\r\n")')

# the classifier: a generated corpus, learned from files, an mbox, a maildir
"$RG_TOP/tests/tools/mkcorpus" "$dir/corpus" 120 >/dev/null
lconf=$dir/learn.conf	# scenario() rewrites $conf each time
rg_conf "$lconf" spam=yes "bayes_store=$STORE"
learn() {	# NAME WANT ARGS...: relayguard learn prints WANT
	local name=$1 want=$2 out rc=0
	shift 2
	out=$("$RG_BIN" learn -c "$lconf" "$@" 2>&1) || rc=$?
	if [ $rc = 0 ] && grep -qF -- "$want" <<<"$out"; then t_pass "learn/$name"; else
		t_fail "learn/$name" "exit $rc: $out"; fi
}
# untrained: no Bayes symbol at all (neutral, not a guess)
never="BAYES_"
scenario spam-untrained-neutral "$SP" "$IN" <"$dir/corpus/test/spam/spam-0000.eml"
SP="spam=yes bayes_store=$STORE"
learn spam-files "learned 120 messages as spam, 0 known already, 0 failed" --spam "$dir/corpus/train/spam"
learn ham-maildir "learned 120 messages as ham, 0 known already, 0 failed" --ham "$dir/corpus/maildir"
learn spam-mbox-known "learned 0 messages as spam, 120 known already" --spam "$dir/corpus/train/spam.mbox"
learn store-totals "store: 120 spam, 120 ham" --ham "$dir/corpus/maildir"
# held out: every test spam tagged or rejected, no test ham
fp=0 fn=0
for f in "$dir"/corpus/test/spam/*.eml; do
	"$RG_BIN" check -c "$lconf" $IN "$f" 2>/dev/null | grep -q '^header: X-Spam-Flag: YES$\|^verdict: reject$\|^verdict: quarantine$' || fn=$((fn + 1))
done
for f in "$dir"/corpus/test/ham/*.eml; do
	"$RG_BIN" check -c "$lconf" $IN "$f" 2>/dev/null | grep -q '^header: X-Spam-Flag: YES$\|^verdict: reject$\|^verdict: quarantine$' && fp=$((fp + 1))
done
if [ $fp = 0 ] && [ $fn -le 1 ]; then t_pass spam/held-out-classified; else
	t_fail spam/held-out-classified "$fp false positives, $fn false negatives of 60 + 60"; fi
out=$("$RG_BIN" check -c "$lconf" $IN "$dir/corpus/test/spam/spam-0001.eml" 2>/dev/null)
if grep -q '^symbol: BAYES_SPAM 5\.[0-9]* 100\.00% of [0-9]* tokens$' <<<"$out"; then
	t_pass spam/bayes-spam-symbol; else t_fail spam/bayes-spam-symbol "$(grep symbol: <<<"$out" | tr '\n' ' ')"; fi
out=$("$RG_BIN" check -c "$lconf" $IN "$dir/corpus/test/ham/ham-0001.eml" 2>/dev/null)
if grep -q '^symbol: BAYES_HAM -[0-9.]* [0-9.]*% of [0-9]* tokens$' <<<"$out"; then
	t_pass spam/bayes-ham-symbol; else t_fail spam/bayes-ham-symbol "$(grep symbol: <<<"$out" | tr '\n' ' ')"; fi
# forget, and moving a message to the other class
learn forget-one "forgot 1 message as spam" --spam --forget "$dir/corpus/train/spam/spam-0000.eml"
learn forget-again "forgot 0 messages as spam, 1 known already" --spam --forget "$dir/corpus/train/spam/spam-0000.eml"
learn relearn-other-way "learned 1 message as ham" --ham "$dir/corpus/train/spam/spam-0001.eml"
learn after-move "store: 118 spam, 121 ham" --ham "$dir/corpus/train/spam/spam-0001.eml"
# bad usage
rc=0; "$RG_BIN" learn -c "$lconf" "$dir/corpus" >/dev/null 2>&1 || rc=$?
if [ $rc = 2 ]; then t_pass learn/needs-class; else t_fail learn/needs-class "exit $rc"; fi
rc=0; "$RG_BIN" learn -c "$lconf" --spam "$dir/no-such-file" >/dev/null 2>&1 || rc=$?
if [ $rc = 1 ]; then t_pass learn/missing-file; else t_fail learn/missing-file "exit $rc"; fi

# a token store that cannot be read: spam_error_action
printf 'not lmdb' >"$dir/broken-store"
want="verdict: tempfail
reply: 451 4.3.0 Message could not be checked for spam, try again later"
scenario spam-store-broken "spam=yes bayes_store=$dir/broken-store" "$IN" < <(msg "hello")
want="verdict: accept"
scenario spam-store-broken-accept "spam=yes bayes_store=$dir/broken-store spam_error_action=accept" "$IN" < <(msg "hello")

# autolearn: a message over bayes_autolearn_spam_score is learned as spam
want="verdict: reject"
scenario spam-autolearn "spam=yes bayes_store=$dir/auto bayes_autolearn=yes" "$IN" < <(msg "$G1$G2")
rg_conf "$dir/auto.conf" spam=yes "bayes_store=$dir/auto"
out=$("$RG_BIN" learn -c "$dir/auto.conf" --spam --forget "$dir/no-such" 2>&1)
if grep -q "store: 1 spam, 0 ham" <<<"$out"; then t_pass learn/autolearned; else
	t_fail learn/autolearned "$out"; fi
