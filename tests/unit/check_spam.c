/*
 * check_spam - the spam engine's pieces: tokens (words, folding, OSB
 * pairs, limits), the chi-square tail, the classifier's answers.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bayes.h"
#include "mime.h"
#include "tests.h"
#include "tokens.h"
#include "util.h"

/* tok_count - distinct tokens of one text */
static size_t
tok_count(const char *text, size_t max)
{
	struct tokens t;
	size_t n;

	tokens_init(&t, max);
	tokens_text(&t, 'b', text, strlen(text));
	tokens_finish(&t);
	n = t.n;
	tokens_free(&t);
	return n;
}

/* tok_same - do two texts give the same tokens */
static int
tok_same(const char *a, const char *b)
{
	struct tokens x, y;
	int same;

	tokens_init(&x, 1000);
	tokens_init(&y, 1000);
	tokens_text(&x, 'b', a, strlen(a));
	tokens_text(&y, 'b', b, strlen(b));
	tokens_finish(&x);
	tokens_finish(&y);
	same = x.n == y.n && memcmp(x.v, y.v, x.n * sizeof(*x.v)) == 0;
	tokens_free(&x);
	tokens_free(&y);
	return same;
}

START_TEST(test_tokens_words)
{
	/* one word: 1 token; two: 2 words and 1 pair */
	ck_assert_uint_eq(tok_count("hello", 100), 1);
	ck_assert_uint_eq(tok_count("hello world", 100), 3);
	/* 5 words: 5 + 4 + 3 + 2 + 1 pairs (window 5) */
	ck_assert_uint_eq(tok_count("a1 b2 c3 d4 e5", 100), 5 + 4 + 3 + 2 + 1);
	/* 6 words: the first falls out of the last one's window */
	ck_assert_uint_eq(tok_count("a1 b2 c3 d4 e5 f6", 100), 6 + 5 + 4 + 3 + 2);
	/* a repeat counts once: the word, and the pair at distances 1, 2 */
	ck_assert_uint_eq(tok_count("spam spam spam", 100), 3);
	ck_assert_uint_eq(tok_count("spam spam spam spam spam spam", 100), 5);
	/* one letter is no word */
	ck_assert_uint_eq(tok_count("a b c", 100), 0);
	/* case and Unicode case folding */
	ck_assert(tok_same("Viagra NOW", "viagra now"));
	ck_assert(tok_same("STRASSE Jörg", "strasse JÖRG"));
	/* joiners inside words, not at their ends */
	ck_assert_uint_eq(tok_count("e-mail", 100), 1);
	ck_assert_uint_eq(tok_count("don't", 100), 1);
	ck_assert(tok_same("-word-", "word"));
	ck_assert(tok_same("example.com.", "example.com"));
	/* punctuation and spacing do not matter */
	ck_assert(tok_same("buy, now!!!", "buy now"));
	/* long numbers by their length; long runs by their start */
	ck_assert(tok_same("1234567", "7654321"));
	ck_assert(!tok_same("1234567", "12345678"));
	ck_assert(tok_same("abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
			   "abcdefghZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ"));
	/* contexts are apart */
	{
		struct tokens a, b;

		tokens_init(&a, 10);
		tokens_init(&b, 10);
		tokens_text(&a, 's', "hello", 5);
		tokens_text(&b, 'b', "hello", 5);
		tokens_finish(&a);
		tokens_finish(&b);
		ck_assert(a.v[0] != b.v[0]);
		tokens_free(&a);
		tokens_free(&b);
	}
}
END_TEST

START_TEST(test_tokens_limits)
{
	struct sbuf big;
	struct tokens t;

	/* at most max distinct tokens, whatever the text */
	sbuf_init(&big);
	for (int i = 0; i < 20000; i++)
		sbuf_printf(&big, "w%d ", i);
	tokens_init(&t, 500);
	tokens_text(&t, 'b', big.data, big.len);
	tokens_finish(&t);
	ck_assert_uint_eq(t.n, 500);
	for (size_t i = 1; i < t.n; i++)
		ck_assert(t.v[i - 1] < t.v[i]);
	tokens_free(&t);
	/* bytes that are no text: no crash, bounded */
	sbuf_reset(&big);
	for (int i = 0; i < 100000; i++) {
		char c = (char)(i * 7919 % 256);

		sbuf_append(&big, &c, 1);
	}
	tokens_init(&t, 1000);
	tokens_text(&t, 'b', big.data, big.len);
	tokens_finish(&t);
	ck_assert_uint_le(t.n, 1000);
	tokens_free(&t);
	sbuf_free(&big);
	ck_assert_uint_eq(tok_count("", 10), 0);
}
END_TEST

/* hdr_tokens - the tokens of a message that is only this header block */
static void
hdr_tokens(struct tokens *t, const char *header)
{
	struct mime_doc d;

	memset(&d, 0, sizeof(d));
	d.subject = (char *)"";
	d.from = (char *)"";
	d.reply_to = (char *)"";
	sbuf_init(&d.header);
	sbuf_puts(&d.header, header);
	tokens_init(t, 1000);
	tokens_from_doc(t, &d);
	sbuf_free(&d.header);
}

START_TEST(test_tokens_header)
{
	struct tokens a, b;

	/* the date of a Received field is no token; its hosts are */
	hdr_tokens(&a, "Received: from mx.example.net by mx.test; Tue, 1 Dec "
		   "2026 10:00:00 +0000\r\nX-Mailer: Foo 1.0\r\n");
	hdr_tokens(&b, "Received: from mx.example.net by mx.test; Wed, 9 Sep "
		   "2027 23:59:59 -0700\r\nX-Mailer: Foo 1.0\r\n");
	ck_assert_uint_eq(a.n, b.n);
	ck_assert(memcmp(a.v, b.v, a.n * sizeof(*a.v)) == 0);
	tokens_free(&b);
	hdr_tokens(&b, "Received: from mx.other.net by mx.test; Tue, 1 Dec "
		   "2026 10:00:00 +0000\r\nX-Mailer: Foo 1.0\r\n");
	ck_assert(a.n != b.n || memcmp(a.v, b.v, a.n * sizeof(*a.v)) != 0);
	tokens_free(&a);
	tokens_free(&b);
	/* recipients' local parts are no tokens, their domains are */
	hdr_tokens(&a, "To: alice@example.org\r\n");
	hdr_tokens(&b, "To: bob@example.org\r\n");
	ck_assert(a.n == b.n && memcmp(a.v, b.v, a.n * sizeof(*a.v)) == 0);
	tokens_free(&a);
	tokens_free(&b);
}
END_TEST

/* from_tokens - the tokens of a message with only this From field */
static void
from_tokens(struct tokens *t, const char *from)
{
	struct mime_doc d;

	memset(&d, 0, sizeof(d));
	d.subject = (char *)"";
	d.from = (char *)from;
	d.reply_to = (char *)"";
	sbuf_init(&d.header);
	tokens_init(t, 1000);
	tokens_from_doc(t, &d);
	sbuf_free(&d.header);
}

/* From: the display name's words and the domain are tokens, the local
 * part is not */
START_TEST(test_tokens_from)
{
	struct tokens a, b;

	from_tokens(&a, "\"PayPal Security\" <x@evil.test>");
	from_tokens(&b, "Aunt Mary <x@evil.test>");
	ck_assert(a.n != b.n || memcmp(a.v, b.v, a.n * sizeof(*a.v)) != 0);
	tokens_free(&b);
	from_tokens(&b, "paypal SECURITY <y@evil.test>");
	ck_assert(a.n == b.n && memcmp(a.v, b.v, a.n * sizeof(*a.v)) == 0);
	tokens_free(&a);
	tokens_free(&b);
	from_tokens(&a, "x@evil.test");
	from_tokens(&b, "y@evil.test");
	ck_assert_uint_gt(a.n, 0);
	ck_assert(a.n == b.n && memcmp(a.v, b.v, a.n * sizeof(*a.v)) == 0);
	tokens_free(&a);
	tokens_free(&b);
	from_tokens(&a, "<x@evil.test>");
	from_tokens(&b, "x@evil.test");
	ck_assert(a.n == b.n && memcmp(a.v, b.v, a.n * sizeof(*a.v)) == 0);
	tokens_free(&a);
	tokens_free(&b);
}
END_TEST

START_TEST(test_chi2q)
{
	/* chi2Q(x, 2k) known values: k = 1 is e^(-x/2) */
	ck_assert(fabs(bayes_chi2q(2.0, 1) - exp(-1.0)) < 1e-12);
	ck_assert(fabs(bayes_chi2q(0.0, 5) - 1.0) < 1e-12);
	/* 10 degrees of freedom at 18.307: 0.05 */
	ck_assert(fabs(bayes_chi2q(18.307, 5) - 0.05) < 1e-4);
	/* far in the tail: tiny, not NaN, not negative */
	{
		double q = bayes_chi2q(3000.0, 200);

		ck_assert(q >= 0 && q < 1e-100 && !isnan(q));
		q = bayes_chi2q(100000.0, 5000);
		ck_assert(q >= 0 && q <= 1 && !isnan(q));
	}
}
END_TEST

START_TEST(test_bayes_classify)
{
	struct bayes_params p;
	struct bayes_result r;
	struct tokstore_totals tot = { 100, 100 };
	struct tokstore_counts spammy[20], hammy[20], mixed[20], unknown[20];

	bayes_params_default(&p);
	for (int i = 0; i < 20; i++) {
		spammy[i] = (struct tokstore_counts){ 40, 1 };
		hammy[i] = (struct tokstore_counts){ 1, 40 };
		mixed[i] = i % 2 ? spammy[i] : hammy[i];
		unknown[i] = (struct tokstore_counts){ 0, 0 };
	}
	bayes_classify(&p, spammy, 20, &tot, &r);
	ck_assert(!r.neutral && r.prob > 0.99 && r.used == 20);
	bayes_classify(&p, hammy, 20, &tot, &r);
	ck_assert(!r.neutral && r.prob < 0.01);
	bayes_classify(&p, mixed, 20, &tot, &r);
	ck_assert(!r.neutral && fabs(r.prob - 0.5) < 0.1);
	/* nothing known: no guess */
	bayes_classify(&p, unknown, 20, &tot, &r);
	ck_assert(r.neutral && r.prob == 0.5);
	/* too little training: neutral, whatever the tokens */
	tot.ham = 10;
	bayes_classify(&p, spammy, 20, &tot, &r);
	ck_assert(r.neutral && r.prob == 0.5);
	tot.ham = 100;
	/* the class sizes are normalized: 10 of 10 spam vs 10 of 1000 ham */
	{
		struct tokstore_totals skew = { 60, 6000 };
		struct tokstore_counts c[5];

		for (int i = 0; i < 5; i++)
			c[i] = (struct tokstore_counts){ 50, 50 };
		bayes_classify(&p, c, 5, &skew, &r);
		ck_assert(!r.neutral && r.prob > 0.9);
	}
	/* no tokens at all */
	bayes_classify(&p, NULL, 0, &tot, &r);
	ck_assert(r.neutral);
}
END_TEST

Suite *
spam_suite(void)
{
	Suite *s = suite_create("spam");
	TCase *tc = tcase_create("spam");

	tcase_add_test(tc, test_tokens_words);
	tcase_add_test(tc, test_tokens_limits);
	tcase_add_test(tc, test_tokens_header);
	tcase_add_test(tc, test_tokens_from);
	tcase_add_test(tc, test_chi2q);
	tcase_add_test(tc, test_bayes_classify);
	suite_add_tcase(s, tc);
	return s;
}
