/*
 * check_extspam - the external spam engines' answer parsers (spamd's
 * SYMBOLS answer, Rspamd's HTTP and JSON answer), hostile answers
 * included, the rule names made safe, and the Received field sent to
 * spamd.  Tables of {label, answer, expected}.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "extspam.h"
#include "rspamd.h"
#include "session.h"
#include "spamd.h"
#include "tests.h"
#include "txn.h"
#include "util.h"

struct answer_case {
	const char	*label;
	const char	*answer;
	int		rc;		/* 0 parsed, -1 error */
	double		score, required;
	int		spam;
	size_t		nrules;
	const char	*rule;		/* the first rule, or NULL */
	const char	*why;		/* a part of r.why for an error */
};

static const struct answer_case spamd_cases[] = {
	{ "gtube", "SPAMD/1.1 0 EX_OK\r\nContent-length: 18\r\n"
	  "Spam: True ; 1000.0 / 5.0\r\n\r\nGTUBE,MISSING_DATE",
	  0, 1000, 5, 1, 2, "SPAMD_GTUBE", NULL },
	{ "ham", "SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\n"
	  "Spam: False ; -0.1 / 5.0\r\n\r\n", 0, -0.1, 5, 0, 0, NULL, NULL },
	{ "no content-length, trailing CRLF", "SPAMD/1.1 0 EX_OK\r\n"
	  "Spam: Yes ; 7.4 / 5.0\r\n\r\nA_RULE , B_RULE\r\n", 0, 7.4, 5, 1, 2,
	  "SPAMD_A_RULE", NULL },
	{ "hostile names", "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 6 / 5\r\n\r\n"
	  "gtube,,  weird-name!x ,!!!,ERROR,\r\n", 0, 6, 5, 1, 3,
	  "SPAMD_GTUBE", NULL },
	{ "status not EX_OK", "SPAMD/1.0 76 Bad header line: x\r\n", -1, 0, 0,
	  -1, 0, NULL, "spamd said \"76 Bad header line: x" },
	{ "empty", "", -1, 0, 0, -1, 0, NULL, "closed without an answer" },
	{ "not spamd", "HTTP/1.1 200 OK\r\n\r\n{}", -1, 0, 0, -1, 0, NULL,
	  "not a spamd answer: \"HTTP/1.1 200 OK" },
	{ "garbage", "\x01\x02\xff garbage\n", -1, 0, 0, -1, 0, NULL,
	  "not a spamd answer: \"\\x01\\x02\\xff garbage" },
	{ "cut in the header", "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1", -1, 0,
	  0, -1, 0, NULL, "cut short in its header" },
	{ "cut in the first line", "SPAMD/1.1 0 EX", -1, 0, 0, -1, 0, NULL,
	  "cut short in its first line" },
	{ "cut in the body", "SPAMD/1.1 0 EX_OK\r\nContent-length: 100\r\n"
	  "Spam: True ; 9 / 5\r\n\r\nGTUBE", -1, 0, 0, -1, 0, NULL,
	  "cut short: 5 of 100 bytes" },
	{ "no Spam field", "SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\n\r\n",
	  -1, 0, 0, -1, 0, NULL, "no Spam field" },
	{ "bad Spam field", "SPAMD/1.1 0 EX_OK\r\nSpam: Maybe ; x / y\r\n\r\n",
	  -1, 0, 0, -1, 0, NULL, "bad Spam field" },
	{ "score not a number", "SPAMD/1.1 0 EX_OK\r\nSpam: True ; nan / 5\r\n"
	  "\r\n", -1, 0, 0, -1, 0, NULL, "bad Spam field" },
	{ "bad content-length", "SPAMD/1.1 0 EX_OK\r\nContent-length: -3\r\n"
	  "Spam: True ; 1 / 5\r\n\r\n", -1, 0, 0, -1, 0, NULL,
	  "bad Content-length" },
};

static void
check_case(const struct answer_case *k, int rc,
	   const struct extspam_result *r)
{
	ck_assert_msg(rc == k->rc, "%s: rc %d (%s)", k->label, rc, r->why);
	if (rc != 0) {
		ck_assert_msg(strstr(r->why, k->why) != NULL, "%s: why \"%s\"",
			      k->label, r->why);
		return;
	}
	ck_assert_msg(fabs(r->score - k->score) < 1e-9, "%s: score %g",
		      k->label, r->score);
	ck_assert_msg(fabs(r->required - k->required) < 1e-9, "%s: "
		      "required %g", k->label, r->required);
	ck_assert_msg(r->spam == k->spam, "%s: spam %d", k->label, r->spam);
	ck_assert_msg(r->nrules == k->nrules, "%s: %zu rules", k->label,
		      r->nrules);
	if (k->rule)
		ck_assert_str_eq(r->rules[0].name, k->rule);
}

START_TEST(test_spamd_parse)
{
	const struct answer_case *k = &spamd_cases[_i];
	struct extspam_result r;
	int rc = spamd_parse(k->answer, strlen(k->answer), &r);

	check_case(k, rc, &r);
}
END_TEST

/* names made safe; a rule called ERROR is not SPAMD_ERROR */
START_TEST(test_rule_names)
{
	static const char a[] = "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 6 / 5\r\n"
	    "\r\ngtube,,  weird-name!x ,!!!,ERROR,SKIPPED,gtube\r\n";
	struct extspam_result r;
	char name[EXTSPAM_NAME_MAX + 1], big[300];

	ck_assert_int_eq(spamd_parse(a, strlen(a), &r), 0);
	ck_assert_uint_eq(r.nrules, 4);
	ck_assert_str_eq(r.rules[0].name, "SPAMD_GTUBE");
	ck_assert_str_eq(r.rules[1].name, "SPAMD_WEIRD_NAME_X");
	ck_assert_str_eq(r.rules[2].name, "SPAMD_ERROR_");
	ck_assert_str_eq(r.rules[3].name, "SPAMD_SKIPPED_");
	memset(big, 'a', sizeof(big));
	ck_assert(extspam_rule_name(name, sizeof(name), "RSPAMD", big,
				    sizeof(big)));
	ck_assert_uint_eq(strlen(name), EXTSPAM_NAME_MAX);
	ck_assert(strncmp(name, "RSPAMD_AAAA", 11) == 0);
	ck_assert(!extspam_rule_name(name, sizeof(name), "RSPAMD", "\r\n{}",
				     4));
	ck_assert_str_eq(name, "RSPAMD_____");
}
END_TEST

/* many rules: EXTSPAM_RULES_MAX kept, the rest counted */
START_TEST(test_spamd_many_rules)
{
	struct sbuf a;
	struct extspam_result r;

	sbuf_init(&a);
	sbuf_puts(&a, "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 60 / 5\r\n\r\n");
	for (int i = 0; i < 100; i++)
		sbuf_printf(&a, "%sRULE_%d", i ? "," : "", i);
	ck_assert_int_eq(spamd_parse(a.data, a.len, &r), 0);
	ck_assert_uint_eq(r.nrules, EXTSPAM_RULES_MAX);
	ck_assert_uint_eq(r.nmore, 100 - EXTSPAM_RULES_MAX);
	ck_assert_str_eq(r.rules[0].name, "SPAMD_RULE_0");
	sbuf_free(&a);
}
END_TEST

#define GTUBE_JSON "{\"is_skipped\":true,\"score\":15.0,\"required_score\":" \
	"15.0,\"action\":\"reject\",\"symbols\":{\"GTUBE\":{\"name\":" \
	"\"GTUBE\",\"score\":0.0,\"metric_score\":0.0}},\"messages\":" \
	"{\"smtp_message\":\"Gtube pattern\"},\"message-id\":\"undef\"}"

static const struct answer_case rspamd_cases[] = {
	{ "gtube", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: "
	  "205\r\nContent-Type: application/json\r\n\r\n" GTUBE_JSON, 0, 15,
	  15, 1, 1, "RSPAMD_GTUBE", NULL },
	{ "no content-length", "HTTP/1.0 200 OK\r\n\r\n{\"score\":1,"
	  "\"required_score\":15,\"action\":\"no action\",\"symbols\":"
	  "{\"R_1\":{\"score\":1}}}\r\n", 0, 1, 15, 0, 1, "RSPAMD_R_1", NULL },
	{ "status 500", "HTTP/1.1 500 Internal error\r\nContent-Length: 2\r\n"
	  "\r\n{}", -1, 0, 0, -1, 0, NULL, "Rspamd said \"500 Internal error" },
	{ "empty", "", -1, 0, 0, -1, 0, NULL, "closed without an answer" },
	{ "not HTTP", "SPAMD/1.1 0 EX_OK\r\n\r\n", -1, 0, 0, -1, 0, NULL,
	  "not an HTTP answer" },
	{ "header cut", "HTTP/1.1 200 OK\r\nContent-Len", -1, 0, 0, -1, 0,
	  NULL, "cut short in its header" },
	{ "body cut", "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n"
	  "{\"score\":", -1, 0, 0, -1, 0, NULL, "cut short: 9 of 500 bytes" },
	{ "bad length", "HTTP/1.1 200 OK\r\nContent-Length: x1\r\n\r\n{}",
	  -1, 0, 0, -1, 0, NULL, "bad Content-Length" },
	{ "chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "2\r\n{}\r\n0\r\n\r\n", -1, 0, 0, -1, 0, NULL, "chunked" },
	{ "html", "HTTP/1.1 200 OK\r\n\r\n<html>oops</html>", -1, 0, 0, -1,
	  0, NULL, "not JSON" },
	{ "json cut", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
	  "{\"score\":1", -1, 0, 0, -1, 0, NULL, "not JSON: cut short" },
	{ "array", "HTTP/1.1 200 OK\r\n\r\n[1,2]", -1, 0, 0, -1, 0, NULL,
	  "not a JSON object" },
	{ "no score", "HTTP/1.1 200 OK\r\n\r\n{\"action\":\"reject\"}", -1, 0,
	  0, -1, 0, NULL, "no score" },
	{ "score a string", "HTTP/1.1 200 OK\r\n\r\n{\"score\":\"15\"}", -1,
	  0, 0, -1, 0, NULL, "no score" },
	{ "score NaN", "HTTP/1.1 200 OK\r\n\r\n{\"score\":NaN}", -1, 0, 0,
	  -1, 0, NULL, "" },
	{ "text after", "HTTP/1.1 200 OK\r\n\r\n{\"score\":1} {\"score\":2}",
	  -1, 0, 0, -1, 0, NULL, "text after the object" },
	{ "symbols not an object", "HTTP/1.1 200 OK\r\n\r\n{\"score\":2,"
	  "\"symbols\":[\"A\"],\"action\":7}", 0, 2, 0, -1, 0, NULL, NULL },
	{ "symbol without score", "HTTP/1.1 200 OK\r\n\r\n{\"score\":2,"
	  "\"symbols\":{\"a-b\":{},\"\":{\"score\":1},\"C\":3}}", 0, 2, 0, -1,
	  2, "RSPAMD_A_B", NULL },
};

START_TEST(test_rspamd_parse)
{
	const struct answer_case *k = &rspamd_cases[_i];
	struct extspam_result r;
	int rc = rspamd_parse(k->answer, strlen(k->answer), &r);

	check_case(k, rc, &r);
}
END_TEST

/* hundreds of symbols: those of largest |score| kept, the rest counted */
START_TEST(test_rspamd_many_symbols)
{
	struct sbuf a;
	struct extspam_result r;
	double low = 1e9;

	sbuf_init(&a);
	sbuf_puts(&a, "{\"score\":50,\"required_score\":15,\"symbols\":{");
	for (int i = 0; i < 300; i++)
		sbuf_printf(&a, "%s\"SYM_%d\":{\"score\":%.2f}", i ? "," : "",
			    i, (i % 2 ? -1 : 1) * i * 0.01);
	sbuf_puts(&a, "}}");
	ck_assert_int_eq(rspamd_json(a.data, a.len, &r), 0);
	ck_assert_uint_eq(r.nrules, EXTSPAM_RULES_MAX);
	ck_assert_uint_eq(r.nmore, 300 - EXTSPAM_RULES_MAX);
	for (size_t i = 0; i < r.nrules; i++)
		if (fabs(r.rules[i].score) < low)
			low = fabs(r.rules[i].score);
	ck_assert_msg(low >= 2.68 - 1e-9, "kept a rule of %g", low);
	sbuf_free(&a);
}
END_TEST

/* deep nesting and a huge answer: errors, not crashes */
START_TEST(test_rspamd_hostile)
{
	struct extspam_result r;
	size_t n = 100000, k;
	char *deep = malloc(n + 32), *huge;

	strcpy(deep, "{\"score\":1,\"x\":");
	k = strlen(deep);
	memset(deep + k, '[', n);
	deep[k + n] = '\0';
	ck_assert_int_eq(rspamd_json(deep, strlen(deep), &r), -1);
	ck_assert_msg(strstr(r.why, "not JSON") != NULL, "%s", r.why);
	free(deep);
	huge = malloc(RSPAMD_ANSWER_MAX + 2);
	memset(huge, ' ', RSPAMD_ANSWER_MAX + 1);
	ck_assert_int_eq(rspamd_json(huge, RSPAMD_ANSWER_MAX + 1, &r), -1);
	ck_assert_msg(strstr(r.why, "too large") != NULL, "%s", r.why);
	free(huge);
}
END_TEST

/* what spamd sees first: the client, HELO, queue id, login, recipient */
START_TEST(test_spamd_received)
{
	struct conf *c = conf_defaults();
	struct session *s = session_new(c);
	struct txn *t;
	char rcv[1200];
	static const char want_in[] = "Received: from x.test (mail.example.org "
	    "[192.0.2.1])\r\n\tby ";

	session_set_client(s, "192.0.2.1", "mail.example.org");
	session_set_helo(s, "x.test (evil)\r\n");
	t = session_txn(s);
	session_set_macro(s, "i", "4ABCD");
	txn_add_rcpt(t, "b@example.com");
	spamd_received(t, rcv, sizeof(rcv));
	ck_assert_msg(strncmp(rcv, "Received: from x.test__evil_\\x0d\\x0a "
			      "(mail.example.org [192.0.2.1])", 62) == 0, "%s",
		      rcv);
	ck_assert_msg(strstr(rcv, " with ESMTP id 4ABCD\r\n\tfor "
			     "<b@example.com>; ") != NULL, "%s", rcv);
	ck_assert(strcmp(rcv + strlen(rcv) - 2, "\r\n") == 0);
	session_set_helo(s, "x.test");
	session_set_macro(s, "{auth_authen}", "alice");
	txn_add_rcpt(t, "c@example.com");
	spamd_received(t, rcv, sizeof(rcv));
	ck_assert_msg(strncmp(rcv, want_in, strlen(want_in)) == 0, "%s", rcv);
	ck_assert_msg(strstr(rcv, " with ESMTPA id 4ABCD; ") != NULL, "%s",
		      rcv);
	session_free(s);
	conf_unref(c);
}
END_TEST

/* the engines' keys: servers numeric or a socket path, headers clean */
START_TEST(test_engine_keys)
{
	static const struct {
		const char	*text, *err;	/* NULL: loads */
	} k[] = {
		{ "spamd_server = 127.0.0.1:783\nrspamd_server = [::1]:11333\n",
		  NULL },
		{ "spamd_server = unix:/run/spamd.sock\nrspamd_server = "
		  "/run/rspamd/normal.sock\n", NULL },
		{ "spam = no\nspamd_server = localhost:783\n",
		  ":2: spamd_server: bad server \"localhost:783\"" },
		{ "rspamd_server = 127.0.0.1\n", ":1: rspamd_server: bad server" },
		{ "rspamd_server = 127.0.0.1:99999\n", ":1: rspamd_server: bad" },
		{ "spamd_server = run/spamd.sock\n", ":1: spamd_server: bad" },
		{ "spamd_user = a\tb\n", ":1: spamd_user: no control characters" },
		{ "rspamd_password = x\x01y\n",
		  ":1: rspamd_password: no control characters" },
		{ "spamd_weight = 101\n", ":1: bad number \"101\" for spamd_weight" },
	};
	char err[512];

	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		const char *p = write_file("engines.conf", k[i].text);
		struct conf *c = conf_load(p, err, sizeof(err));

		if (k[i].err == NULL) {
			ck_assert_msg(c != NULL, "%s: %s", k[i].text, err);
			conf_unref(c);
		} else {
			ck_assert_msg(c == NULL, "%s loaded", k[i].text);
			ck_assert_msg(strstr(err, k[i].err) != NULL, "%s: %s",
				      k[i].text, err);
		}
	}
}
END_TEST

Suite *
extspam_suite(void)
{
	Suite *s = suite_create("extspam");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_spamd_parse, 0,
			    sizeof(spamd_cases) / sizeof(spamd_cases[0]));
	tcase_add_test(tc, test_rule_names);
	tcase_add_test(tc, test_spamd_many_rules);
	tcase_add_loop_test(tc, test_rspamd_parse, 0,
			    sizeof(rspamd_cases) / sizeof(rspamd_cases[0]));
	tcase_add_test(tc, test_rspamd_many_symbols);
	tcase_add_test(tc, test_rspamd_hostile);
	tcase_add_test(tc, test_spamd_received);
	tcase_add_test(tc, test_engine_keys);
	suite_add_tcase(s, tc);
	return s;
}
