/* check_conf - the configuration parser: good files, and FILE:LINE errors */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "tests.h"
#include "symbols.h"
#include "verdict.h"
#include "weights.h"

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
	{ "log = stderr\nuser = no-such-user-rg\n", ":2: unknown user "
	  "\"no-such-user-rg\"" },
	{ "authserv_id = a b\n", ":1: bad authserv_id" },
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
	/* "authserv_id =" there: this host's name, never empty */
	ck_assert_str_eq(c->authserv_id, conf_hostname());
	ck_assert(*c->authserv_id != '\0');
	conf_unref(c);
}
END_TEST

/* an empty authserv_id in a file is the host name; a bad one an error */
START_TEST(test_authserv_id)
{
	char err[512] = "";
	const char *p = write_file("asid.conf", "authserv_id =\n");
	struct conf *c = conf_load(p, err, sizeof(err));

	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_str_eq(c->authserv_id, conf_hostname());
	ck_assert(strlen(c->authserv_id) > 0);
	conf_unref(c);
	p = write_file("asid2.conf", "log = stderr\nauthserv_id = mx; x\n");
	ck_assert_ptr_null(conf_load(p, err, sizeof(err)));
	ck_assert_msg(strstr(err, ":2: bad authserv_id") != NULL, "%s", err);
}
END_TEST

/* dump - conf_dump() of c as a new string */
static char *
dump(const struct conf *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(fp);
	conf_dump(c, fp);
	fclose(fp);
	return text;
}

/*
 * conf_dump() loads back to the same configuration: the defaults, the
 * shipped file, and a file with a value of every type away from its
 * default (a facility and a level once came out as numbers).
 */
START_TEST(test_dump_roundtrip)
{
	char err[512] = "";
	const char *map = write_file("dump.map", "bob@example.com bob\n");
	const char *slash = strrchr(map, '/');
	struct conf *c[3], *again;
	char *one, *two, every[2048];
	const char *p;

	snprintf(every, sizeof(every),
		 "socket = unix:/run/rg.sock\nsocket_mode = 0600\n"
		 "log = stderr\nlog_facility = local5\nlog_level = notice\n"
		 "trusted_networks = 10.0.0.0/8 [2001:db8::]/32 192.0.2.1\n"
		 "authserv_id = mx.test\nstatus_header =\n"
		 "max_message_size = 10k\nsender_domains = A.example b.example\n"
		 "sender_domain_aliases = b.example=a.example\n"
		 "sender_login_maps = %s\nrecipient_delimiter = +-\n"
		 "sender_unauth_action = tempfail\ndns_timeout = 1500ms\n"
		 "spf_engine = libspf2\nspf = no\nresolver = 127.0.0.1@53 ::1\n",
		 slash + 1);
	c[0] = conf_defaults();
	c[1] = conf_load(TEST_SRCDIR "/conf/relayguard.conf", err, sizeof(err));
	ck_assert_msg(c[1] != NULL, "%s", err);
	c[2] = conf_load(write_file("every.conf", every), err, sizeof(err));
	ck_assert_msg(c[2] != NULL, "%s", err);
	ck_assert_str_eq(c[2]->sender_login_maps, map);
	for (int i = 0; i < 3; i++) {
		one = dump(c[i]);
		p = write_file("dumped.conf", one);
		again = conf_load(p, err, sizeof(err));
		ck_assert_msg(again != NULL, "dump %d does not load: %s", i,
			      err);
		two = dump(again);
		ck_assert_msg(strcmp(one, two) == 0, "dump %d differs:\n%s\n"
			      "---\n%s", i, one, two);
		free(one);
		free(two);
		conf_unref(again);
		conf_unref(c[i]);
	}
}
END_TEST

/*
 * Relative file names are made absolute against the file's directory,
 * and the file's own path against the working directory: a daemon in "/"
 * (and every SIGHUP) finds them.
 */
START_TEST(test_relative_paths)
{
	char err[512] = "", cwd[1024], want[1200];
	const char *map = write_file("rel.map", "bob@example.com bob\n");
	const char *slash = strrchr(map, '/');
	char conf_text[600];
	const char *p;
	struct conf *c;

	snprintf(conf_text, sizeof(conf_text), "sender_login_maps = %s\n"
		 "pid_file = run/rg.pid\nclamav_database = sigs\n"
		 "av_required = no\n",
		 slash + 1);
	p = write_file("rel.conf", conf_text);
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(unit_tmpdir()), 0);
	c = conf_load(strrchr(p, '/') + 1, err, sizeof(err));
	ck_assert_int_eq(chdir(cwd), 0);
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_str_eq(c->path, p);
	ck_assert_str_eq(c->sender_login_maps, map);
	snprintf(want, sizeof(want), "%s/run/rg.pid", unit_tmpdir());
	ck_assert_str_eq(c->pid_file, want);
	snprintf(want, sizeof(want), "%s/sigs", unit_tmpdir());
	ck_assert_str_eq(c->clamav_database, want);
	ck_assert_str_eq(c->dnssec_trust_anchor, "");
	conf_unref(c);
}
END_TEST

/* the weights table: sorted (bsearch), unique, every row documented */
START_TEST(test_weights_table)
{
	size_t n;
	const struct weight_def *t = weights_table(&n);
	FILE *fp = fopen(TEST_SRCDIR "/conf/relayguard.conf", "r");
	char *doc = calloc(1, 1 << 20);
	size_t len;

	ck_assert(fp != NULL && doc != NULL);
	len = fread(doc, 1, (1 << 20) - 1, fp);
	doc[len] = '\0';
	fclose(fp);
	for (size_t i = 0; i < n; i++) {
		char want[96];

		if (i > 0)
			ck_assert_msg(strcmp(t[i - 1].name, t[i].name) < 0,
				      "%s before %s", t[i - 1].name, t[i].name);
		ck_assert_int_eq(weights_index(t[i].name), (int)i);
		snprintf(want, sizeof(want), "#   %s ", t[i].name);
		ck_assert_msg(strstr(doc, want) != NULL, "%s undocumented",
			      t[i].name);
	}
	ck_assert_int_eq(weights_index("NO_SUCH_SYMBOL"), -1);
	free(doc);
}
END_TEST

START_TEST(test_scores_key)
{
	char err[512];
	const char *p = write_file("scores.conf",
	    "scores = SPF_FAIL=2.5, DMARC_FAIL=3\n  DKIM_FAIL=-1e1\n");
	struct conf *c = conf_load(p, err, sizeof(err));
	struct symbols set;

	ck_assert_msg(c != NULL, "%s", err);
	ck_assert(weights_get(c->weights, "SPF_FAIL") == 2.5);
	ck_assert(weights_get(c->weights, "DMARC_FAIL") == 3);
	ck_assert(weights_get(c->weights, "DKIM_FAIL") == -10);
	ck_assert(weights_get(c->weights, "SPF_PASS") == -0.2);
	/* a set with weights: the weight stands, whatever the check said */
	symbols_init(&set);
	symbols_set_weights(&set, c->weights);
	symbols_add(&set, "SPF_FAIL", 99, "x");
	symbols_add_scaled(&set, "DMARC_FAIL", 0.5, "y");
	ck_assert(symbols_score(&set) == 2.5 + 1.5);
	symbols_clear(&set);
	conf_unref(c);

	p = write_file("scores-bad.conf", "log = stderr\nscores = NOPE=1\n");
	ck_assert(conf_load(p, err, sizeof(err)) == NULL);
	ck_assert_msg(strstr(err, "scores-bad.conf:2: unknown symbol \"NOPE\""),
		      "%s", err);
	p = write_file("scores-bad2.conf", "scores = SPF_FAIL=lots\n");
	ck_assert(conf_load(p, err, sizeof(err)) == NULL);
	ck_assert_msg(strstr(err, ":1: bad weight \"lots\" for SPF_FAIL"),
		      "%s", err);
	p = write_file("scores-bad3.conf", "scores = SPF_FAIL\n");
	ck_assert(conf_load(p, err, sizeof(err)) == NULL);
	ck_assert_msg(strstr(err, "want NAME=WEIGHT"), "%s", err);
}
END_TEST

Suite *
conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("conf");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_weights_table);
	tcase_add_test(tc, test_scores_key);
	tcase_add_test(tc, test_good);
	tcase_add_loop_test(tc, test_bad, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_missing);
	tcase_add_test(tc, test_nul);
	tcase_add_test(tc, test_shipped);
	tcase_add_test(tc, test_authserv_id);
	tcase_add_test(tc, test_dump_roundtrip);
	tcase_add_test(tc, test_relative_paths);
	suite_add_tcase(s, tc);
	return s;
}
