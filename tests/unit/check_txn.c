/*
 * check_txn - session and transaction apart, per-recipient verdicts, the
 * envelope limits, and the spool (memory, file, faults).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy.h"
#include "spool.h"
#include "tests.h"

static struct conf *
txn_conf(void)
{
	struct conf *c = conf_defaults();

	c->spf = 0;
	c->dmarc = 0;
	return c;
}

/* a connection result reaches every transaction's verdict */
START_TEST(test_connection_results)
{
	struct conf *c = txn_conf();
	struct session *s;
	struct verdict v;

	c->spf_fail_action = ACTION_REJECT;
	s = session_new(c);
	verdict_init(&v);
	ck_assert_int_eq(policy_connect(s, "1.2.3", "x", &v), POLICY_CONTINUE);
	ck_assert_ptr_nonnull(symbols_find(&s->symbols, "CLIENT_ADDR_MALFORMED"));
	/* a connection-stage result with a rule: every message sees it */
	symbols_add_opts(&s->symbols, "SPF_FAIL", 0, "<a@b>", "test", "test");
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(policy_mail(s, "<a@b>", NULL, &v), POLICY_END);
		ck_assert_int_eq(v.action, ACTION_REJECT);
		ck_assert_str_eq(v.code, "550");
		policy_abort(s);
		ck_assert_ptr_null(s->txn);
		ck_assert_ptr_nonnull(symbols_find(&s->symbols,
						   "CLIENT_ADDR_MALFORMED"));
	}
	ck_assert_uint_eq(s->ntxn, 2);
	verdict_clear(&v);
	session_free(s);
	conf_unref(c);
}
END_TEST

/*
 * {client_addr} when connect gave no address: the name stays (it used to
 * be copied from itself after being freed; valgrind saw it)
 */
START_TEST(test_client_addr_macro)
{
	struct conf *c = txn_conf();
	struct session *s = session_new(c);
	struct verdict v;

	verdict_init(&v);
	policy_connect(s, NULL, "client.example", &v);
	session_set_macro(s, "{client_addr}", "192.0.2.7");
	ck_assert(s->have_client);
	ck_assert_str_eq(s->client_name, "client.example");
	ck_assert_str_eq(s->client_addr, "192.0.2.7");
	session_set_macro(s, "{client_addr}", "198.51.100.1");	/* kept */
	ck_assert_str_eq(s->client_addr, "192.0.2.7");
	session_free(s);
	conf_unref(c);
}
END_TEST

/* past max_recipients one recipient is refused, the message goes on */
START_TEST(test_rcpt_limit)
{
	struct conf *c = txn_conf();
	struct session *s;
	struct verdict v;

	c->max_recipients = 2;
	s = session_new(c);
	verdict_init(&v);
	policy_connect(s, "192.0.2.1", "x", &v);
	ck_assert_int_eq(policy_mail(s, "<a@b>", NULL, &v), POLICY_CONTINUE);
	ck_assert_int_eq(policy_rcpt(s, "<r1@b>", &v), POLICY_CONTINUE);
	ck_assert_int_eq(policy_rcpt(s, "<r2@b>", &v), POLICY_CONTINUE);
	ck_assert_int_eq(policy_rcpt(s, "<r3@b>", &v), POLICY_REFUSED);
	ck_assert_str_eq(v.code, "452");
	ck_assert_str_eq(v.xcode, "4.5.3");
	verdict_clear(&v);
	ck_assert_int_eq(policy_rcpt(s, "<r4@b>", &v), POLICY_REFUSED);
	verdict_clear(&v);
	ck_assert_uint_eq(s->txn->rcpt_refused, 2);
	ck_assert(s->txn->rcpts[2].refused && !s->txn->rcpts[1].refused);
	ck_assert_int_eq(policy_header(s, "From", "a@b", 0, &v), 0);
	ck_assert_int_eq(policy_eoh(s, &v), 0);
	policy_eom(s, &v);
	ck_assert_int_eq(v.action, ACTION_ACCEPT);
	/* refused recipients leave nothing in the message's results */
	ck_assert_ptr_null(symbols_find(&s->txn->symbols, "RCPT_LIMIT"));
	verdict_clear(&v);
	session_free(s);
	conf_unref(c);
}
END_TEST

/* an address too long to keep is refused, never cut */
START_TEST(test_overlong_address)
{
	struct conf *c = txn_conf();
	struct session *s = session_new(c);
	struct verdict v;
	char *addr = malloc(TXN_ADDR_MAX + 100);

	verdict_init(&v);
	addr[0] = '<';
	memset(addr + 1, 'a', TXN_ADDR_MAX + 10);
	strcpy(addr + TXN_ADDR_MAX - 10, "@protected.example>");
	ck_assert_int_eq(policy_mail(s, addr, NULL, &v), POLICY_END);
	ck_assert_str_eq(v.code, "501");
	ck_assert_str_eq(v.xcode, "5.1.7");
	policy_abort(s);
	verdict_clear(&v);
	ck_assert_int_eq(policy_mail(s, "<a@b>", NULL, &v), POLICY_CONTINUE);
	ck_assert_int_eq(policy_rcpt(s, addr, &v), POLICY_REFUSED);
	ck_assert_str_eq(v.xcode, "5.1.3");
	verdict_clear(&v);
	ck_assert_int_eq(policy_rcpt(s, "<ok@b>", &v), POLICY_CONTINUE);
	/* exactly the limit is kept whole */
	addr[TXN_ADDR_MAX + 1] = '>';
	addr[TXN_ADDR_MAX + 2] = '\0';
	ck_assert_int_eq(policy_rcpt(s, addr, &v), POLICY_CONTINUE);
	ck_assert_uint_eq(strlen(s->txn->rcpts[2].addr), TXN_ADDR_MAX);
	free(addr);
	verdict_clear(&v);
	session_free(s);
	conf_unref(c);
}
END_TEST

/* spool_all - what the spool holds, as one string */
static char *
spool_all(const struct spool *sp)
{
	char *buf = xmalloc(sp->len + 1);

	ck_assert_int_eq(spool_read(sp, 0, buf, sp->len), (ssize_t)sp->len);
	buf[sp->len] = '\0';
	return buf;
}

/* the header as sent, with and without SMFIP_HDR_LEADSPC, then the body */
START_TEST(test_spool_message)
{
	struct conf *c = txn_conf();
	struct session *s = session_new(c);
	struct verdict v;
	char *all;

	verdict_init(&v);
	policy_mail(s, "<a@b>", NULL, &v);
	ck_assert(s->txn->keep);
	policy_header(s, "Subject", "  two spaces", 1, &v);
	policy_header(s, "X-Folded", " a\n\tb\r\n c", 1, &v);
	policy_header(s, "To", "x@y", 0, &v);
	policy_header(s, "Cc", "\n\tfolded@y", 1, &v);
	policy_eoh(s, &v);
	policy_body(s, (const unsigned char *)"body\r\n", 6, &v);
	all = spool_all(&s->txn->spool);
	ck_assert_str_eq(all, "Subject:  two spaces\r\nX-Folded: a\r\n\tb\r\n c"
			 "\r\nTo: x@y\r\nCc:\r\n\tfolded@y\r\n\r\nbody\r\n");
	ck_assert_str_eq(s->txn->headers[3].value, "folded@y");
	ck_assert_str_eq(s->txn->headers[0].value, "two spaces");
	ck_assert_str_eq(s->txn->headers[1].value, "a\n\tb\r\n c");
	ck_assert_int_eq(s->txn->size, (long long)strlen(all) - 2);
	free(all);
	verdict_clear(&v);
	session_free(s);
	conf_unref(c);
}
END_TEST

/* past spool_memory_max the message moves to an unlinked file, once */
START_TEST(test_spool_spill)
{
	struct spool sp;
	struct spool_view view;
	char chunk[1000], *all;
	char dir[] = "/tmp/rg-unit-spool.XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(dir));
	spool_init(&sp, 2500, dir);
	for (int i = 0; i < 5; i++) {
		memset(chunk, 'a' + i, sizeof(chunk));
		ck_assert_int_eq(spool_write(&sp, chunk, sizeof(chunk)), 0);
	}
	spool_view(&sp, &view);
	ck_assert_ptr_null(view.data);
	ck_assert_int_ge(view.fd, 0);
	ck_assert_uint_eq(view.len, 5000);
	all = spool_all(&sp);
	ck_assert(all[0] == 'a' && all[2999] == 'c' && all[4999] == 'e');
	free(all);
	ck_assert_int_eq(rmdir(dir), 0);	/* nothing left in it */
	spool_free(&sp);
	/* a small one stays in memory */
	ck_assert_int_eq(spool_write(&sp, "x", 1), 0);
	spool_view(&sp, &view);
	ck_assert_ptr_nonnull(view.data);
	ck_assert_int_eq(view.fd, -1);
	spool_free(&sp);
}
END_TEST

static int hook_calls;

static ssize_t
short_write(int fd, const void *p, size_t n)
{
	(void)fd;
	(void)p;
	return hook_calls++ == 0 && n > 1 ? (ssize_t)(n / 2) : 0;
}

static ssize_t
full_write(int fd, const void *p, size_t n)
{
	(void)fd;
	(void)p;
	(void)n;
	errno = ENOSPC;
	return -1;
}

/* a missing directory, a short write, a full disk: failed, errno kept */
START_TEST(test_spool_faults)
{
	struct spool sp;

	spool_init(&sp, 4, "/nonexistent/relayguard");
	ck_assert_int_eq(spool_write(&sp, "1234", 4), 0);
	ck_assert_int_eq(spool_write(&sp, "5", 1), -1);
	ck_assert_int_eq(sp.err, ENOENT);
	ck_assert_int_eq(spool_write(&sp, "6", 1), -1);
	spool_free(&sp);
	ck_assert_int_eq(sp.err, 0);

	spool_init(&sp, 4, "/tmp");
	spool_write_hook = short_write;
	hook_calls = 0;
	ck_assert_int_eq(spool_write(&sp, "123456", 6), -1);
	ck_assert_int_eq(sp.err, ENOSPC);
	ck_assert_ptr_nonnull(strstr(sp.why, "short write"));
	spool_free(&sp);
	spool_write_hook = full_write;
	ck_assert_int_eq(spool_write(&sp, "123456", 6), -1);
	ck_assert_int_eq(sp.err, ENOSPC);
	spool_free(&sp);
	/* a spill that fails part-way leaves the view on the memory copy */
	spool_write_hook = write;
	ck_assert_int_eq(spool_write(&sp, "1234", 4), 0);
	spool_write_hook = full_write;
	ck_assert_int_eq(spool_write(&sp, "56", 2), -1);
	{
		struct spool_view view;
		char buf[8];

		spool_view(&sp, &view);
		ck_assert_int_eq(view.fd, -1);
		ck_assert_ptr_nonnull(view.data);
		ck_assert_uint_eq(view.len, 4);
		ck_assert_int_eq(spool_read(&sp, 0, buf, sizeof(buf)), 4);
	}
	spool_write_hook = write;
	spool_free(&sp);
}
END_TEST

/* through the policy: the message is tempfailed, once, and logged */
START_TEST(test_spool_fault_verdict)
{
	struct conf *c = txn_conf();
	struct session *s;
	struct verdict v;
	unsigned char body[100];

	free(c->temp_dir);
	c->temp_dir = xstrdup("/nonexistent/relayguard");
	c->spool_memory_max = 64;
	s = session_new(c);
	verdict_init(&v);
	memset(body, 'x', sizeof(body));
	policy_mail(s, "<a@b>", NULL, &v);
	ck_assert_int_eq(policy_header(s, "Subject", "s", 0, &v), 0);
	ck_assert_int_eq(policy_eoh(s, &v), 0);
	ck_assert_int_eq(policy_body(s, body, sizeof(body), &v), POLICY_END);
	ck_assert_int_eq(v.action, ACTION_TEMPFAIL);
	ck_assert_str_eq(v.code, "451");
	ck_assert_str_eq(v.xcode, "4.3.0");
	ck_assert_ptr_nonnull(symbols_find(&s->txn->symbols, "SPOOL_ERROR"));
	verdict_clear(&v);
	session_free(s);
	conf_unref(c);
}
END_TEST

/* over max_message_size nothing more is kept, and the verdict is 552 */
START_TEST(test_spool_size_limit)
{
	struct conf *c = txn_conf();
	struct session *s;
	struct verdict v;
	unsigned char body[600];

	c->max_message_size = 1000;
	s = session_new(c);
	verdict_init(&v);
	memset(body, 'x', sizeof(body));
	policy_mail(s, "<a@b>", NULL, &v);
	policy_eoh(s, &v);
	ck_assert_int_eq(policy_body(s, body, sizeof(body), &v), 0);
	ck_assert_int_eq(policy_body(s, body, sizeof(body), &v), POLICY_END);
	ck_assert_str_eq(v.code, "552");
	ck_assert_uint_eq(s->txn->spool.len, 0);
	verdict_clear(&v);
	session_free(s);
	conf_unref(c);
}
END_TEST

Suite *
txn_suite(void)
{
	Suite *s = suite_create("txn");
	TCase *tc = tcase_create("txn");

	tcase_add_test(tc, test_connection_results);
	tcase_add_test(tc, test_client_addr_macro);
	tcase_add_test(tc, test_rcpt_limit);
	tcase_add_test(tc, test_overlong_address);
	tcase_add_test(tc, test_spool_message);
	tcase_add_test(tc, test_spool_spill);
	tcase_add_test(tc, test_spool_faults);
	tcase_add_test(tc, test_spool_fault_verdict);
	tcase_add_test(tc, test_spool_size_limit);
	suite_add_tcase(s, tc);
	return s;
}
