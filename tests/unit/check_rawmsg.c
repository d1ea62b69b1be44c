/* check_rawmsg - raw messages split into stages the way Postfix does */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "rawmsg.h"
#include "tests.h"

struct run {
	struct conf	*conf;
	struct session	*sess;
	struct txn	*msg;		/* the transaction, after the run */
	struct verdict	v;
};

/* the rawmsg sink: the policy stages themselves */
static int
run_header(void *ctx, const char *name, const char *value)
{
	struct run *r = ctx;

	return policy_header(r->sess, name, value, 0, &r->v) != 0;
}

static int
run_eoh(void *ctx)
{
	struct run *r = ctx;

	return policy_eoh(r->sess, &r->v) != 0;
}

static int
run_body(void *ctx, const unsigned char *data, size_t len)
{
	struct run *r = ctx;

	return policy_body(r->sess, data, len, &r->v) != 0;
}

/* feed_capped - feed with a given max_header_size (0: the default) */
static void
feed_capped(struct run *r, const char *text, size_t len, size_t step,
	    long long max_header)
{
	struct rawmsg rm;

	r->conf = conf_defaults();
	r->conf->dmarc = 0;
	if (max_header > 0)
		r->conf->max_header_size = max_header;
	struct rawmsg_sink sink = { r, run_header, run_eoh, run_body, 0 };

	r->sess = session_new(r->conf);
	verdict_init(&r->v);
	policy_mail(r->sess, "<a@b>", NULL, &r->v);
	rawmsg_init(&rm, &sink, r->conf->max_header_size);
	for (size_t i = 0; i < len; i += step)
		if (rawmsg_feed(&rm, text + i, len - i < step ? len - i : step))
			break;
	if (!rawmsg_finish(&rm))
		policy_eom(r->sess, &r->v);
	r->msg = session_txn(r->sess);
}

/* feed - run a raw message through rawmsg, in pieces of step bytes */
static void
feed(struct run *r, const char *text, size_t len, size_t step)
{
	feed_capped(r, text, len, step, 0);
}

static void
done(struct run *r)
{
	verdict_clear(&r->v);
	session_free(r->sess);
	conf_unref(r->conf);
}

static const size_t steps[] = { 1, 2, 3, 7, 64, 100000 };

/*
 * "From : x" (white space before the colon, RFC 5322 obsolete syntax) is
 * the field "From", as Postfix passes it to milters; "Fr om: x" is not
 * a field, so the body starts there
 */
START_TEST(test_space_before_colon)
{
	static const char text[] =
	    "From : Alice <alice@example.com>\r\n"
	    "Subject\t: s\r\n"
	    "Fr om: x\r\n"
	    "\r\nbody\r\n";
	struct run r;

	feed(&r, text, sizeof(text) - 1, steps[_i]);
	ck_assert_uint_eq(r.msg->nheaders, 2);
	ck_assert_str_eq(r.msg->headers[0].name, "From");
	ck_assert_str_eq(r.msg->headers[0].value, "Alice <alice@example.com>");
	ck_assert_str_eq(r.msg->headers[1].name, "Subject");
	ck_assert_int_eq(r.msg->body_bytes, 10 + 2 + 6);
	done(&r);
}
END_TEST

START_TEST(test_split)
{
	static const char text[] =
	    "From sender@example.com Mon Jan  1 00:00:00 2026\n"
	    "From: Alice <alice@example.com>\r\n"
	    "Subject: a folded\r\n"
	    "\tsubject line\r\n"
	    "X-Empty:\r\n"
	    "X-Tight:value\r\n"
	    "\r\n"
	    "body line 1\n"
	    "body line 2\r\n";
	struct run r;

	feed(&r, text, sizeof(text) - 1, steps[_i]);
	ck_assert_uint_eq(r.msg->nheaders, 4);
	ck_assert_str_eq(r.msg->headers[0].name, "From");
	ck_assert_str_eq(r.msg->headers[0].value, "Alice <alice@example.com>");
	ck_assert_str_eq(r.msg->headers[1].value,
			 "a folded\n\tsubject line");
	ck_assert_str_eq(r.msg->headers[2].value, "");
	ck_assert_str_eq(r.msg->headers[3].value, "value");
	/* bare LF became CRLF: 13 + 13 */
	ck_assert_int_eq(r.msg->body_bytes, 26);
	ck_assert_int_eq(r.v.action, ACTION_ACCEPT);
	done(&r);
}
END_TEST

START_TEST(test_no_colon)
{
	static const char text[] =
	    "Subject: ok\n"
	    "this line has no colon\n"
	    "Another: looks like a header but is body\n";
	struct run r;

	feed(&r, text, sizeof(text) - 1, 5);
	ck_assert_uint_eq(r.msg->nheaders, 1);
	ck_assert_int_eq(r.msg->body_bytes, 24 + 42);
	done(&r);
}
END_TEST

START_TEST(test_nul_and_no_body)
{
	static const char text[] = "Subject: a\0b\nX: y";	/* no newline */
	struct run r;

	feed(&r, text, sizeof(text) - 1, 4);
	ck_assert_uint_eq(r.msg->nheaders, 2);
	ck_assert_str_eq(r.msg->headers[0].value, "a");
	ck_assert_str_eq(r.msg->headers[1].value, "y");
	ck_assert_int_eq(r.msg->body_bytes, 0);
	done(&r);
}
END_TEST

START_TEST(test_empty)
{
	struct run r;

	feed(&r, "", 0, 1);
	ck_assert_uint_eq(r.msg->nheaders, 0);
	ck_assert_int_eq(r.v.action, ACTION_ACCEPT);
	done(&r);
}
END_TEST

START_TEST(test_long_header_line)
{
	size_t len = 3 * 1024 * 1024;
	char *text = malloc(len);
	struct run r;

	memcpy(text, "Subject: ", 9);
	memset(text + 9, 'x', len - 9);
	feed(&r, text, len, 65536);
	ck_assert_int_eq(r.v.action, ACTION_REJECT);
	ck_assert_str_eq(r.v.cause, "HEADER_SIZE_LIMIT");
	done(&r);
	free(text);
}
END_TEST

START_TEST(test_long_body_line)
{
	size_t len = 200000;
	char *text = malloc(len);
	struct run r;

	memcpy(text, "Subject: x\n\n", 12);
	memset(text + 12, 'y', len - 12);
	feed(&r, text, len, 4096);
	ck_assert_int_eq(r.v.action, ACTION_ACCEPT);
	ck_assert_int_eq(r.msg->body_bytes, (long long)len - 12);
	done(&r);
	free(text);
}
END_TEST

/* found by fuzzing: a long first line of body text was cut at the cap */
START_TEST(test_long_body_first_line)
{
	char text[400];
	struct run r;

	memset(text, 'b', 300);
	memcpy(text + 300, "\nmore\n", 6);
	feed_capped(&r, text, 306, steps[_i], 100);
	ck_assert_uint_eq(r.msg->nheaders, 0);
	ck_assert_int_eq(r.msg->body_bytes, 302 + 6);
	ck_assert_int_eq(r.v.action, ACTION_ACCEPT);
	done(&r);
}
END_TEST

/* found by fuzzing: a folded field past the cap lost its continuations */
START_TEST(test_long_folded_field)
{
	struct sbuf t;
	struct run r;

	sbuf_init(&t);
	sbuf_puts(&t, "Subject: start\n");
	for (int i = 0; i < 40; i++)
		sbuf_puts(&t, "  continued continued continued\n");
	sbuf_puts(&t, "\nbody\n");
	feed_capped(&r, t.data, t.len, steps[_i], 200);
	ck_assert_int_eq(r.v.action, ACTION_REJECT);
	ck_assert_str_eq(r.v.cause, "HEADER_SIZE_LIMIT");
	done(&r);
	sbuf_free(&t);
}
END_TEST

/* found by fuzzing: an mbox "From " line over the cap took the headers
   into the body; a field name over the cap did too */
START_TEST(test_long_mbox_line_and_name)
{
	struct sbuf t;
	struct run r;

	sbuf_init(&t);
	sbuf_puts(&t, "From ");
	for (int i = 0; i < 300; i++)
		sbuf_puts(&t, "x");
	sbuf_puts(&t, "\nFrom: a@b.test\nSubject: s\n\nbody\n");
	feed_capped(&r, t.data, t.len, steps[_i], 100);
	ck_assert_uint_eq(r.msg->nheaders, 2);
	ck_assert_str_eq(r.msg->headers[0].name, "From");
	done(&r);
	sbuf_reset(&t);
	for (int i = 0; i < 300; i++)
		sbuf_puts(&t, "N");
	sbuf_puts(&t, ": v\nFrom: a@b.test\n\nbody\n");
	feed_capped(&r, t.data, t.len, steps[_i], 100);
	ck_assert_int_eq(r.v.action, ACTION_REJECT);
	ck_assert_str_eq(r.v.cause, "HEADER_SIZE_LIMIT");
	done(&r);
	sbuf_free(&t);
}
END_TEST

/* found by fuzzing: a NUL cut the first line of a field but not its
   continuations, so check saw another value than the milter would */
START_TEST(test_nul_then_continuation)
{
	static const char text[] = "From: x\0y\n <alice@example.com>\n\nb\n";
	struct run r;

	feed(&r, text, sizeof(text) - 1, steps[_i]);
	ck_assert_uint_eq(r.msg->nheaders, 1);
	ck_assert_str_eq(r.msg->headers[0].value, "x");
	done(&r);
}
END_TEST

Suite *
rawmsg_suite(void)
{
	Suite *s = suite_create("rawmsg");
	TCase *tc = tcase_create("rawmsg");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_space_before_colon, 0,
			    sizeof(steps) / sizeof(steps[0]));
	tcase_add_loop_test(tc, test_split, 0, sizeof(steps) / sizeof(steps[0]));
	tcase_add_test(tc, test_no_colon);
	tcase_add_test(tc, test_nul_and_no_body);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_long_header_line);
	tcase_add_test(tc, test_long_body_line);
	tcase_add_loop_test(tc, test_long_body_first_line, 0,
			    sizeof(steps) / sizeof(steps[0]));
	tcase_add_loop_test(tc, test_long_folded_field, 0,
			    sizeof(steps) / sizeof(steps[0]));
	tcase_add_loop_test(tc, test_long_mbox_line_and_name, 0,
			    sizeof(steps) / sizeof(steps[0]));
	tcase_add_loop_test(tc, test_nul_then_continuation, 0,
			    sizeof(steps) / sizeof(steps[0]));
	suite_add_tcase(s, tc);
	return s;
}
