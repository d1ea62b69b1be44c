/* check_conf - the configuration parser: good files, and FILE:LINE errors */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "tests.h"
#include "verdict.h"

START_TEST(test_defaults)
{
	struct conf *c = conf_defaults();

	ck_assert_str_eq(c->socket, "inet:8894@127.0.0.1");
	ck_assert_int_eq(c->max_message_size, 50LL * 1024 * 1024);
	ck_assert_int_eq(c->internal_error_action, ACTION_TEMPFAIL);
	ck_assert_uint_eq(c->trusted_networks.count, 0);
	ck_assert(strlen(c->authserv_id) > 0);
	conf_unref(c);
}
END_TEST

START_TEST(test_good)
{
	const char *p = write_file("good.conf",
		"# comment\n"
		"\n"
		"socket = unix:/run/relayguard/rg.sock\n"
		"trusted_networks = 127.0.0.0/8,\n"
		"    [::1]/128   # continued\n"
		"  192.0.2.0/24\n"
		"max_message_size = 10M   # ten MiB\n"
		"authserv_id = mx.example.com\r\n"
		"resolver = 127.0.0.1@5300 ::1\n"
		"internal_error_action = reject\n"
		"socket_mode = 0600\n"
		"log = stderr\n");
	char err[256] = "";
	struct conf *c = conf_load(p, err, sizeof(err));

	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_str_eq(c->socket, "unix:/run/relayguard/rg.sock");
	ck_assert_uint_eq(c->trusted_networks.count, 3);
	ck_assert_int_eq(c->max_message_size, 10LL * 1024 * 1024);
	ck_assert_str_eq(c->authserv_id, "mx.example.com");
	ck_assert_int_eq(c->internal_error_action, ACTION_REJECT);
	ck_assert_int_eq(c->socket_mode, 0600);
	ck_assert_int_eq(c->refcount, 1);
	conf_ref(c);
	conf_unref(c);
	ck_assert_int_eq(c->refcount, 1);
	conf_unref(c);
}
END_TEST

/* each bad file and the "LINE: text" its error must carry */
static const struct { const char *text, *want; } bad[] = {
	{ "nosuchkey = 1\n", ":1: unknown key \"nosuchkey\"" },
	{ "# c\n\nsocket = tcp:99\n", ":3: bad socket" },
	{ "socket = inet:0@127.0.0.1\n", ":1: bad socket" },
	{ "socket = inet:99999@127.0.0.1\n", ":1: bad socket" },
	{ "socket = unix:relative\n", ":1: bad socket" },
	{ "max_message_size = lots\n", ":1: bad size" },
	{ "max_message_size = -5\n", ":1: bad size" },
	{ "trusted_networks = 10.0.0.0/99\n", ":1: bad prefix" },
	{ "trusted_networks = 10.0.0.0/8,\n  bogus\n", ":1: bad network" },
	{ "log = file\n", ":1: bad log" },
	{ "log_level = loud\n", ":1: bad log level" },
	{ "log_facility = nope\n", ":1: bad syslog facility" },
	{ "shutdown_timeout = 99999\n", ":1: bad value" },
	{ "shutdown_timeout = 1x\n", ":1: bad value" },
	{ "socket_mode = 0999\n", ":1: bad value" },
	{ "internal_error_action = panic\n", ":1: bad action" },
	{ "resolver = 127.0.0.1@0\n", ":1: bad resolver port" },
	{ "resolver = dns.example\n", ":1: bad resolver address" },
	{ "log = stderr\nlog = syslog\n", ":2: log is set twice (first at "
	  "line 1)" },
	{ "just some words\n", ":1: expected \"key = value\"" },
	{ "  indented = 1\n", ":1: continuation line without a key" },
	{ "bad key = 1\n", ":1: bad key name" },
	{ "= value\n", ":1: bad key name \"\"" },
};

START_TEST(test_bad)
{
	char name[32], err[512] = "", want[256];
	const char *p;

	snprintf(name, sizeof(name), "bad%d.conf", _i);
	p = write_file(name, bad[_i].text);
	ck_assert_ptr_null(conf_load(p, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s%s", p, bad[_i].want);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
		      "got \"%s\", want \"%s...\"", err, want);
}
END_TEST

START_TEST(test_missing)
{
	char err[256];

	ck_assert_ptr_null(conf_load("/nonexistent/rg.conf", err,
				     sizeof(err)));
	ck_assert(strstr(err, "/nonexistent/rg.conf:0: cannot open") == err);
}
END_TEST

START_TEST(test_nul)
{
	char err[256];
	const char *p = write_file("nul.conf", "log = stderr\n");
	FILE *fp = fopen(p, "a");

	fwrite("x\0y = 1\n", 1, 8, fp);
	fclose(fp);
	ck_assert_ptr_null(conf_load(p, err, sizeof(err)));
	ck_assert(strstr(err, ":2: NUL byte") != NULL);
}
END_TEST

START_TEST(test_shipped)
{
	char err[512];
	struct conf *c = conf_load(TEST_SRCDIR "/conf/relayguard.conf", err,
				   sizeof(err));

	ck_assert_msg(c != NULL, "%s", err);
	conf_unref(c);
}
END_TEST

Suite *
conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("conf");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_good);
	tcase_add_loop_test(tc, test_bad, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_missing);
	tcase_add_test(tc, test_nul);
	tcase_add_test(tc, test_shipped);
	suite_add_tcase(s, tc);
	return s;
}
