/* check_msg - the message object, stages and verdicts without an MTA */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "tests.h"

static struct conf *
test_conf(void)
{
	struct conf *c = conf_defaults();
	char err[128];

	c->dkim = 0;		/* check_dkim.c tests it */
	c->dmarc = 0;		/* check_dmarc.c tests it */
	c->spam = 0;		/* check_spam.c and the scenarios test it */
	netlist_free(&c->trusted_networks);
	if (netlist_parse("10.0.0.0/8", &c->trusted_networks, err,
			  sizeof(err)) != 0)
		abort();
	c->max_message_size = 1000;
	c->max_header_size = 600;
	return c;
}

START_TEST(test_macros)
{
	struct conf *c = test_conf();
	struct session *m = session_new(c);
	char big[2000];

	session_set_macro(m, "{auth_authen}", "alice@example.com");
	session_set_macro(m, "i", "4XyZ1");
	session_set_macro(m, "{unknown}", "x");
	session_set_macro(m, "{", "x");
	session_set_macro(m, NULL, "x");
	session_set_macro(m, "i", NULL);
	ck_assert_str_eq(m->txn->auth_authen, "alice@example.com");
	ck_assert_str_eq(m->txn->queue_id, "4XyZ1");
	/* control bytes and overlong values are dropped, never kept */
	session_set_macro(m, "auth_authen", "bob\r\nX-Injected: 1");
	ck_assert_str_eq(m->txn->auth_authen, "");
	ck_assert_ptr_nonnull(symbols_find(&m->txn->symbols, "MACRO_MALFORMED"));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	session_set_macro(m, "i", big);
	ck_assert_str_eq(m->txn->queue_id, "");
	session_free(m);
	conf_unref(c);
}
END_TEST

START_TEST(test_mode)
{
	struct conf *c = test_conf();
	struct session *m = session_new(c);
	struct verdict v;

	verdict_init(&v);
	ck_assert_int_eq(policy_connect(m, "192.0.2.1", "x", &v), 0);
	ck_assert_int_eq(policy_mail(m, "<a@b>", NULL, &v), 0);
	ck_assert_int_eq(m->txn->mode, TXN_INBOUND);
	ck_assert_str_eq(m->txn->mail_from, "a@b");
	policy_abort(m);
	session_set_macro(m, "{auth_authen}", "alice");
	policy_mail(m, "<>", NULL, &v);
	ck_assert_int_eq(m->txn->mode, TXN_OUTBOUND);
	ck_assert_str_eq(m->txn->mail_from, "");
	policy_abort(m);
	ck_assert_ptr_null(m->txn);
	ck_assert_str_eq(session_txn(m)->auth_authen, "");
	policy_connect(m, "10.9.8.7", "x", &v);
	policy_mail(m, "<a@b>", NULL, &v);
	ck_assert_int_eq(m->txn->mode, TXN_OUTBOUND);
	ck_assert_ptr_nonnull(symbols_find(&m->txn->symbols, "TRUSTED_NETWORK"));
	/* a malformed client address is no address: inbound */
	policy_abort(m);
	policy_connect(m, "10.9.8.7.6", "x", &v);
	policy_mail(m, "<a@b>", NULL, &v);
	ck_assert_int_eq(m->txn->mode, TXN_INBOUND);
	verdict_clear(&v);
	session_free(m);
	conf_unref(c);
}
END_TEST

START_TEST(test_declared_size)
{
	struct conf *c = test_conf();
	struct session *m = session_new(c);
	struct verdict v;
	const char *big[] = { "BODY=8BITMIME", "SIZE=1001", NULL };
	const char *ok[] = { "SIZE=1000", NULL };
	const char *junk[] = { "SIZE=", "SIZE=12x", NULL };

	verdict_init(&v);
	ck_assert_int_eq(policy_mail(m, "<a@b>", ok, &v), 0);
	policy_abort(m);
	ck_assert_int_eq(policy_mail(m, "<a@b>", junk, &v), 0);
	policy_abort(m);
	ck_assert_int_eq(policy_mail(m, "<a@b>", big, &v), 1);
	ck_assert_int_eq(v.action, ACTION_REJECT);
	ck_assert_str_eq(v.code, "552");
	ck_assert_str_eq(v.xcode, "5.3.4");
	verdict_clear(&v);
	session_free(m);
	conf_unref(c);
}
END_TEST

START_TEST(test_body_size)
{
	struct conf *c = test_conf();
	struct session *m = session_new(c);
	struct verdict v;
	unsigned char chunk[300] = { 0 };	/* NUL bytes are data */
	int ended = 0, i;

	verdict_init(&v);
	policy_mail(m, "<a@b>", NULL, &v);
	ck_assert_int_eq(policy_header(m, "Subject", "hi", 0, &v), 0);
	ck_assert_int_eq(policy_eoh(m, &v), 0);
	for (i = 0; i < 10 && !ended; i++)
		ended = policy_body(m, chunk, sizeof(chunk), &v);
	ck_assert_int_eq(ended, 1);
	ck_assert_int_eq(i, 4);		/* 13 + 4 * 300 > 1000 */
	ck_assert_int_eq(v.action, ACTION_REJECT);
	ck_assert_str_eq(v.code, "552");
	ck_assert_str_eq(v.cause, "SIZE_LIMIT");
	verdict_clear(&v);
	session_free(m);
	conf_unref(c);
}
END_TEST

START_TEST(test_header_limits)
{
	struct conf *c = test_conf();
	struct session *m = session_new(c);
	struct verdict v;
	char value[700];
	int ended;

	verdict_init(&v);
	c->max_message_size = 0;
	policy_mail(m, "<a@b>", NULL, &v);
	ck_assert_int_eq(policy_header(m, "", "no name", 0, &v), 0);
	ck_assert_int_eq(policy_header(m, "Bad Name", "x", 0, &v), 0);
	ck_assert_int_eq(policy_header(m, NULL, NULL, 0, &v), 0);
	ck_assert_ptr_nonnull(symbols_find(&m->txn->symbols, "HEADER_MALFORMED"));
	memset(value, 'v', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	ended = policy_header(m, "Subject", value, 0, &v);
	ck_assert_int_eq(ended, 1);
	ck_assert_str_eq(v.cause, "HEADER_SIZE_LIMIT");
	ck_assert_str_eq(v.code, "552");
	verdict_clear(&v);
	session_free(m);
	conf_unref(c);
}
END_TEST

START_TEST(test_eom_headers)
{
	struct conf *c = test_conf();
	struct session *m = session_new(c);
	struct verdict v;

	verdict_init(&v);
	free(c->authserv_id);
	c->authserv_id = strdup("mx.test");
	policy_mail(m, "<a@b>", NULL, &v);
	policy_header(m, "X-Relayguard", "forged 1", 0, &v);
	policy_header(m, "Subject", "s", 0, &v);
	policy_header(m, "x-relayguard", "forged 2", 0, &v);
	policy_eoh(m, &v);
	policy_eom(m, &v);
	ck_assert_int_eq(v.action, ACTION_ACCEPT);
	ck_assert_str_eq(v.code, "");
	ck_assert_uint_eq(v.nadd, 1);
	ck_assert_str_eq(v.add[0].name, "X-Relayguard");
	ck_assert_str_eq(v.add[0].value,
			 "mx.test; verdict=accept; mode=inbound; score=0.00");
	ck_assert_uint_eq(v.nremove, 2);	/* last first */
	ck_assert_int_eq(v.remove[0].index, 2);
	ck_assert_int_eq(v.remove[1].index, 1);
	verdict_clear(&v);
	session_free(m);
	conf_unref(c);
}
END_TEST

START_TEST(test_internal_error)
{
	struct conf *c = test_conf();
	struct session *m = session_new(c);
	struct verdict v;

	verdict_init(&v);
	policy_internal_error(m, "test", &v);
	ck_assert_int_eq(v.action, ACTION_TEMPFAIL);
	ck_assert_str_eq(v.code, "451");
	ck_assert_str_eq(v.xcode, "4.3.0");
	policy_abort(m);
	c->internal_error_action = ACTION_REJECT;
	policy_internal_error(m, "test", &v);
	ck_assert_str_eq(v.code, "554");
	verdict_clear(&v);
	session_free(m);
	conf_unref(c);
}
END_TEST

START_TEST(test_symbols_bounded)
{
	struct symbols s;
	static char names[SYMBOLS_MAX + 10][8];
	char detail[SYMBOL_DETAIL_MAX * 3];

	symbols_init(&s);
	memset(detail, 'd', sizeof(detail) - 1);
	detail[sizeof(detail) - 1] = '\0';
	for (int i = 0; i < SYMBOLS_MAX + 10; i++) {
		snprintf(names[i], sizeof(names[i]), "S%d", i);
		symbols_add(&s, names[i], 1.0, "%s", detail);
	}
	ck_assert_uint_eq(s.count, SYMBOLS_MAX);
	ck_assert_uint_lt(strlen(s.v[0].detail), SYMBOL_DETAIL_MAX);
	symbols_add(&s, "S0", 5.0, "again");	/* first one stays */
	ck_assert(symbols_score(&s) == (double)SYMBOLS_MAX);
	symbols_clear(&s);
}
END_TEST

Suite *
msg_suite(void)
{
	Suite *s = suite_create("msg");
	TCase *tc = tcase_create("msg");

	tcase_add_test(tc, test_macros);
	tcase_add_test(tc, test_mode);
	tcase_add_test(tc, test_declared_size);
	tcase_add_test(tc, test_body_size);
	tcase_add_test(tc, test_header_limits);
	tcase_add_test(tc, test_eom_headers);
	tcase_add_test(tc, test_internal_error);
	tcase_add_test(tc, test_symbols_bounded);
	suite_add_tcase(s, tc);
	return s;
}
