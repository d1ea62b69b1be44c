/*
 * check_dnsbl - DNS blocklists: query names (IPv4 reversed, IPv6
 * nibbles), what answer codes mean, list definitions and their errors
 * (FILE:LINE through conf_load), registered domains of links (the Public
 * Suffix List), and the resolver's batches (many queries, one deadline).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "dnsbl.h"
#include "mime.h"
#include "policy.h"
#include "session.h"
#include "txn.h"
#include "verdict.h"
#include "dnslist.h"
#include "netaddr.h"
#include "resolver.h"
#include "tests.h"

#define PSL_FILE "/usr/share/publicsuffix/public_suffix_list.dat"

static const struct {
	const char *addr, *want;	/* want NULL: -1 */
} ip_names[] = {
	{ "192.0.2.1", "1.2.0.192.bl.test" },
	{ "127.0.0.2", "2.0.0.127.bl.test" },
	{ "::ffff:192.0.2.1", "1.2.0.192.bl.test" },
	{ "2001:db8::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0."
	  "1.0.0.2.bl.test" },
	{ "2001:db8:1234:5678:9abc:def0:1:2", "2.0.0.0.1.0.0.0.0.f.e.d.c.b.a.9."
	  "8.7.6.5.4.3.2.1.8.b.d.0.1.0.0.2.bl.test" },
};

START_TEST(test_ip_names)
{
	for (size_t i = 0; i < sizeof(ip_names) / sizeof(ip_names[0]); i++) {
		struct netaddr a;
		char out[300];

		ck_assert_int_eq(netaddr_parse(ip_names[i].addr, &a), 0);
		ck_assert_int_eq(dnslist_ip_name(&a, "bl.test", out,
						 sizeof(out)), 0);
		ck_assert_str_eq(out, ip_names[i].want);
	}
	{
		struct netaddr a;
		char small[20], zone[300];

		netaddr_parse("2001:db8::1", &a);
		ck_assert_int_eq(dnslist_ip_name(&a, "bl.test", small,
						 sizeof(small)), -1);
		/* the whole name over 253 bytes */
		memset(zone, 'a', 63);
		zone[63] = '.';
		memset(zone + 64, 'b', 63);
		zone[127] = '.';
		memset(zone + 128, 'c', 63);
		strcpy(zone + 191, ".test");
		ck_assert_int_eq(dnslist_ip_name(&a, zone, zone + 0, 0), -1);
	}
}
END_TEST

static const struct {
	const char *domain, *want;
} domain_names[] = {
	{ "Spammer.TEST", "spammer.test.dbl.test" },
	{ "mail.example.org.", "mail.example.org.dbl.test" },
	{ "localhost", NULL },
	{ "", NULL },
	{ "a..b.test", NULL },
	{ ".a.test", NULL },
	{ "x;y.test", NULL },
	{ "[192.0.2.1]", NULL },
	{ "a b.test", NULL },
	{ "\xc3\xbc.test", NULL },	/* UTF-8: the caller converts */
};

START_TEST(test_domain_names)
{
	char out[300], long_label[80];

	for (size_t i = 0; i < sizeof(domain_names) / sizeof(domain_names[0]);
	     i++) {
		int rc = dnslist_domain_name(domain_names[i].domain, "dbl.test",
					     out, sizeof(out));

		if (domain_names[i].want == NULL) {
			ck_assert_msg(rc == -1, "%s", domain_names[i].domain);
		} else {
			ck_assert_int_eq(rc, 0);
			ck_assert_str_eq(out, domain_names[i].want);
		}
	}
	memset(long_label, 'a', 64);
	strcpy(long_label + 64, ".test");
	ck_assert_int_eq(dnslist_domain_name(long_label, "dbl.test", out,
					     sizeof(out)), -1);
}
END_TEST

/* match - what answer text means on list def; the rule bits in *hits */
static enum dnslist_match
match(const char *def, const char *answer, uint32_t *hits)
{
	struct dnslist l;
	struct netaddr a;
	char why[256];
	enum dnslist_match m;

	ck_assert_msg(dnslist_parse(def, &l, why, sizeof(why)) == 0, "%s: %s",
		      def, why);
	ck_assert_int_eq(netaddr_parse(answer, &a), 0);
	m = dnslist_match(&l, &a, hits);
	dnslist_free(&l);
	return m;
}

static const struct {
	const char *def, *answer;
	enum dnslist_match want;
	uint32_t hits;
} codes[] = {
	{ "zen zen.test client 127.0.0.2=A:1 127.0.0.4-7=B:2", "127.0.0.2",
	  DNSLIST_LISTED, 1 },
	{ "zen zen.test client 127.0.0.2=A:1 127.0.0.4-7=B:2", "127.0.0.6",
	  DNSLIST_LISTED, 2 },
	{ "zen zen.test client 127.0.0.2=A:1 127.0.0.4-7=B:2", "127.0.0.8",
	  DNSLIST_NONE, 0 },
	{ "zen zen.test client 127.0.0.4-127.0.0.7=B:2", "127.0.0.7",
	  DNSLIST_LISTED, 1 },
	{ "zen zen.test client 127.0.0.[10..11]=P:2", "127.0.0.11",
	  DNSLIST_LISTED, 1 },
	{ "zen zen.test client 127.0.0.[10..11]=P:2", "127.0.0.12",
	  DNSLIST_NONE, 0 },
	{ "zen zen.test client 127.0.0.2,127.0.0.9=A:1", "127.0.0.9",
	  DNSLIST_LISTED, 1 },
	/* the default "refused" codes, and a list's own */
	{ "zen zen.test client any=A:1", "127.255.255.254", DNSLIST_BLOCKED, 0 },
	{ "zen zen.test client any=A:1", "127.0.0.1", DNSLIST_BLOCKED, 0 },
	{ "zen zen.test client any=A:1", "127.0.0.3", DNSLIST_LISTED, 1 },
	{ "zen zen.test client 127.0.0.1=A:1", "127.0.0.1", DNSLIST_LISTED, 1 },
	{ "zen zen.test client any=A:1 blocked=127.0.0.100", "127.0.0.1",
	  DNSLIST_LISTED, 1 },
	{ "zen zen.test client any=A:1 blocked=127.0.0.100", "127.0.0.100",
	  DNSLIST_BLOCKED, 0 },
	/* outside 127/8: never a listing */
	{ "zen zen.test client any=A:1", "10.0.0.2", DNSLIST_NOT_LOCAL, 0 },
	{ "zen zen.test client any=A:1", "0.0.0.0", DNSLIST_NOT_LOCAL, 0 },
	/* bitmasks: each bit its rule; any only when none took it */
	{ "u uri.test uri &2=BLACK:4 &4=GREY:1 &8=RED:1", "127.0.0.14",
	  DNSLIST_LISTED, 7 },
	{ "u uri.test uri &2=BLACK:4 &4=GREY:1 &8=RED:1", "127.0.0.16",
	  DNSLIST_NONE, 0 },
	{ "u uri.test uri &2=BLACK:4 any=OTHER:1", "127.0.0.16",
	  DNSLIST_LISTED, 2 },
	{ "u uri.test uri &2=BLACK:4 any=OTHER:1", "127.0.0.2",
	  DNSLIST_LISTED, 1 },
};

START_TEST(test_codes)
{
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		uint32_t hits;
		enum dnslist_match m = match(codes[i].def, codes[i].answer,
					     &hits);

		ck_assert_msg(m == codes[i].want && hits == codes[i].hits,
			      "%s / %s: %d %u", codes[i].def, codes[i].answer,
			      m, hits);
	}
}
END_TEST

START_TEST(test_parse)
{
	struct dnslist l;
	char why[256];

	ck_assert(dnslist_parse("Zen ZEN.Spamhaus.org. client,helo reject "
				"127.0.0.2=RBL_SBL:4 127.0.0.3=RBL_CSS:-0.5",
				&l, why, sizeof(why)) == 0);
	ck_assert_str_eq(l.name, "Zen");
	ck_assert_str_eq(l.zone, "zen.spamhaus.org");
	ck_assert_uint_eq(l.what, DNSLIST_CLIENT | DNSLIST_HELO);
	ck_assert_int_eq(l.reject, 1);
	ck_assert_uint_eq(l.nrules, 2);
	ck_assert_str_eq(l.rules[1].symbol, "RBL_CSS");
	ck_assert(l.rules[1].weight == -0.5);
	dnslist_free(&l);
	/* reject=CODES: those answers refuse, the others only score */
	ck_assert(dnslist_parse("zen zen.test client reject=127.0.0.2-9 "
				"127.0.0.2-11=RBL:1", &l, why, sizeof(why)) == 0);
	{
		struct netaddr a;

		netaddr_parse("127.0.0.4", &a);
		ck_assert_int_eq(dnslist_rejects(&l, &a), 1);
		netaddr_parse("127.0.0.10", &a);
		ck_assert_int_eq(dnslist_rejects(&l, &a), 0);
	}
	dnslist_free(&l);
	ck_assert(dnslist_parse("zen zen.test client reject 127.0.0.2=RBL:1",
				&l, why, sizeof(why)) == 0);
	{
		struct netaddr a;

		netaddr_parse("127.0.0.10", &a);
		ck_assert_int_eq(dnslist_rejects(&l, &a), 1);
	}
	dnslist_free(&l);
}
END_TEST

static const struct {
	const char *def, *why;
} bad_defs[] = {
	{ "", "want NAME ZONE WHAT" },
	{ "zen zen.test", "want NAME ZONE WHAT" },
	{ "zen zen.test client", "no CODES=SYMBOL:WEIGHT rule" },
	{ "z/en zen.test client any=A:1", "bad list name" },
	{ "zen zen client any=A:1", "bad zone" },
	{ "zen zen..test client any=A:1", "bad zone" },
	{ "zen zen.test ip any=A:1", "bad \"ip\"" },
	{ "zen zen.test client 127.0.0.2", "bad item" },
	{ "zen zen.test client 127.0.0.2=A", "bad item" },
	{ "zen zen.test client 127.0.0.2=a:1", "bad symbol \"a\"" },
	{ "zen zen.test client 127.0.0.2=A:x", "bad weight \"x\"" },
	{ "zen zen.test client 127.0.0.2=A:1e9", "bad weight" },
	{ "zen zen.test client 127.0.0.2=A:nan", "bad weight" },
	{ "zen zen.test client 10.0.0.2=A:1", "outside 127.0.0.0/8" },
	{ "zen zen.test client 127.0.0.9-3=A:1", "bad answer code" },
	{ "zen zen.test client 127.0.0.[9..3]=A:1", "bad answer code" },
	{ "zen zen.test client &0=A:1", "bad answer code" },
	{ "zen zen.test client &300=A:1", "bad answer code" },
	{ "zen zen.test client =A:1", "no answer codes" },
	{ "zen zen.test client 127.0.0.2=A:1 127.0.0.3=A:2", "two weights" },
	{ "zen zen.test client any=A:1 blocked=&8", "not &N" },
	{ "zen zen.test client any=A:1 blocked=any", "bad answer code" },
	{ "zen zen.test uri reject any=A:1", "reject is for client lists" },
	{ "zen zen.test client reject=&2 any=A:1", "not &N" },
	{ "zen zen.test client reject=10.0.0.1 any=A:1", "outside 127" },
};

START_TEST(test_parse_errors)
{
	for (size_t i = 0; i < sizeof(bad_defs) / sizeof(bad_defs[0]); i++) {
		struct dnslist l;
		char why[256] = "";

		ck_assert_msg(dnslist_parse(bad_defs[i].def, &l, why,
					    sizeof(why)) == -1, "%s",
			      bad_defs[i].def);
		ck_assert_msg(strstr(why, bad_defs[i].why) != NULL,
			      "%s: %s", bad_defs[i].def, why);
	}
}
END_TEST

/* conf_load: every list its line; errors at FILE:LINE */
START_TEST(test_conf)
{
	char err[512] = "", want[600];
	const char *p = write_file("dnsbl.conf",
	    "log = stderr\n"
	    "dnsbl_list = zen zen.test client reject 127.0.0.2=RBL_SBL:4\n"
	    "# a comment\n"
	    "dnsbl_list = uri uri.test uri\n"
	    "  &2=URIBL_BLACK:4\n"
	    "dnsbl_timeout = 500ms\n");
	struct conf *c = conf_load(p, err, sizeof(err));
	FILE *fp;
	char *text = NULL;
	size_t len = 0;

	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_uint_eq(c->dnsbl_nlists, 2);
	ck_assert_int_eq(c->dnsbl_lines[0], 2);
	ck_assert_int_eq(c->dnsbl_lines[1], 4);
	ck_assert_int_eq(c->dnsbl_timeout, 500);
	ck_assert_int_eq(c->dnsbl_max_queries, 50);
	ck_assert_int_eq(c->dnsbl_reject_stage, DNSBL_REJECT_RCPT);
	ck_assert_int_eq(dnsbl_enabled(c), 1);
	/* conf_dump writes both lines back */
	fp = open_memstream(&text, &len);
	conf_dump(c, fp);
	fclose(fp);
	ck_assert(strstr(text, "dnsbl_list = zen zen.test client reject "
			 "127.0.0.2=RBL_SBL:4\n") != NULL);
	ck_assert(strstr(text, "dnsbl_list = uri uri.test uri &2=URIBL_BLACK:4"
			 "\n") != NULL);
	free(text);
	conf_unref(c);

	c = conf_defaults();
	ck_assert_uint_eq(c->dnsbl_nlists, 0);
	ck_assert_int_eq(dnsbl_enabled(c), 0);
	conf_unref(c);

	p = write_file("dnsbl-bad.conf", "log = stderr\n\n"
	    "dnsbl_list = zen zen.test client 127.0.0.2=RBL_SBL:4\n"
	    "dnsbl_list = zen2 zen2.test client 127.0.0.256=RBL_X:4\n");
	ck_assert_ptr_null(conf_load(p, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:4: list zen2: bad answer code", p);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);

	p = write_file("dnsbl-dup.conf", "log = stderr\n"
	    "dnsbl_list = zen zen.test client 127.0.0.2=RBL_SBL:4\n"
	    "dnsbl_list = zen2 zen2.test client 127.0.0.2=RBL_SBL:4\n");
	ck_assert_ptr_null(conf_load(p, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:3: list zen2: symbol RBL_SBL is list "
		 "zen's already (line 2)", p);
	ck_assert_str_eq(err, want);

	p = write_file("dnsbl-twice.conf", "log = stderr\n"
	    "dnsbl_list = zen zen.test client 127.0.0.2=RBL_SBL:4\n"
	    "dnsbl_list = zen zen2.test client 127.0.0.2=RBL_X:4\n");
	ck_assert_ptr_null(conf_load(p, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:3: list zen is defined twice (first "
		 "at line 2)", p);
	ck_assert_str_eq(err, want);

	p = write_file("dnsbl-fixed.conf", "log = stderr\n"
	    "dnsbl_list = zen zen.test client 127.0.0.2=DNSBL_ERROR:4\n");
	ck_assert_ptr_null(conf_load(p, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:2: list zen: DNSBL_ERROR is a symbol "
		 "of relayguard's own", p);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);

	p = write_file("dnsbl-stage.conf", "dnsbl_reject_stage = data\n");
	ck_assert_ptr_null(conf_load(p, err, sizeof(err)));
	ck_assert_msg(strstr(err, ":1: bad value \"data\" for "
			     "dnsbl_reject_stage") != NULL, "%s", err);
}
END_TEST

static const struct {
	const char *host, *want;	/* want NULL: not looked up */
	int is_ip;
} uri_items[] = {
	{ "www.example.com", "example.com", 0 },
	{ "a.b.c.example.co.uk", "example.co.uk", 0 },
	{ "example.co.uk", "example.co.uk", 0 },
	{ "co.uk", NULL, 0 },
	{ "com", NULL, 0 },
	{ "localhost", NULL, 0 },
	{ "", NULL, 0 },
	{ "x.github.io", "x.github.io", 0 },	/* the private section */
	{ "www.b\xc3\xbc" "cher.de", "xn--bcher-kva.de", 0 },
	{ "203.0.113.7", "203.0.113.7", 1 },
	{ "2001:db8::7", NULL, 0 },
	{ "\xff\xfe.com", NULL, 0 },
};

START_TEST(test_uri_items)
{
	dnsbl_psl_init(PSL_FILE);
	for (size_t i = 0; i < sizeof(uri_items) / sizeof(uri_items[0]); i++) {
		char out[256] = "";
		const char *why = NULL;
		int is_ip = -1;
		int rc = dnsbl_uri_item(uri_items[i].host, out, sizeof(out),
					&is_ip, &why);

		if (uri_items[i].want == NULL) {
			ck_assert_msg(rc == -1 && why != NULL, "%s: %s",
				      uri_items[i].host, out);
		} else {
			ck_assert_msg(rc == 0, "%s: %s", uri_items[i].host,
				      why);
			ck_assert_str_eq(out, uri_items[i].want);
			ck_assert_int_eq(is_ip, uri_items[i].is_ip);
		}
	}
}
END_TEST

/* ms_since - milliseconds from t0 (CLOCK_MONOTONIC) */
static long
ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000L +
	    (t.tv_nsec - t0->tv_nsec) / 1000000L;
}

/*
 * batches: cached answers and bad names come back at once; queries to a
 * server that never answers all end at one deadline, not one after the
 * other
 */
START_TEST(test_batch)
{
	char err[256] = "";
	struct resolver *r = resolver_new("127.0.0.1@9", NULL, err,
					  sizeof(err));
	struct dns_pending *p[6];
	struct dns_answer a, cached;
	struct dns_rr rr;
	struct timespec t0, until;
	long took;

	ck_assert_msg(r != NULL, "%s", err);
	memset(&rr, 0, sizeof(rr));
	memset(&cached, 0, sizeof(cached));
	rr.type = DNS_T_A;
	netaddr_parse("127.0.0.2", &rr.addr);
	cached.status = DNS_OK;
	cached.rr = &rr;
	cached.count = 1;
	resolver_cache_put(r, "1.2.0.192.bl.test", DNS_T_A, &cached, 60);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	p[0] = resolver_submit(r, "1.2.0.192.BL.test.", DNS_T_A);
	p[1] = resolver_submit(r, "bad..name", DNS_T_A);
	for (int i = 2; i < 6; i++) {
		char name[64];

		snprintf(name, sizeof(name), "%d.2.0.192.bl.test", i);
		p[i] = resolver_submit(r, name, DNS_T_A);
	}
	/* the deadline is wide (a busy machine, valgrind): the test is of
	 * what waits for it, not of speed */
	resolver_deadline(&until, 1500);
	ck_assert_int_eq(resolver_collect(r, p[0], &until, &a), DNS_OK);
	ck_assert_uint_eq(a.count, 1);
	ck_assert_int_eq(a.rr[0].addr.addr[3], 2);
	dns_answer_free(&a);
	ck_assert_int_eq(resolver_collect(r, p[1], &until, &a), DNS_BADNAME);
	dns_answer_free(&a);
	ck_assert_int_lt(ms_since(&t0), 1500);	/* did not wait for it */
	for (int i = 2; i < 5; i++) {
		enum dns_status st = resolver_collect(r, p[i], &until, &a);

		ck_assert_msg(st == DNS_TIMEOUT || st == DNS_TEMPFAIL, "%s",
			      dns_status_name(st));
		dns_answer_free(&a);
	}
	resolver_drop(r, p[5]);
	resolver_drop(r, NULL);
	took = ms_since(&t0);
	/* four queries, one deadline: about 1500 ms, never 4 x 1500 */
	ck_assert_msg(took < 3000, "%ld ms", took);
	resolver_unref(r);
}
END_TEST

/* one MIME walk a transaction: the URI lists and the spam engine share it */
START_TEST(test_mime_once)
{
	struct conf *c = conf_defaults();
	struct session *s;
	struct verdict v;
	const struct mime_doc *d1, *d2;
	const char *body = "See http://www.example.co.uk/a and <x>\r\n";

	/* no DNS: the checks that ask are off; the spam engine keeps the
	 * spool */
	c->spf = c->dkim = c->dmarc = c->av = 0;
	c->spam = 1;
	s = session_new(c);
	verdict_init(&v);
	policy_connect(s, "192.0.2.1", "client.test", &v);
	ck_assert_int_eq(policy_mail(s, "<a@b.test>", NULL, &v),
			 POLICY_CONTINUE);
	ck_assert_int_eq(policy_header(s, "From", "a@b.test", 0, &v),
			 POLICY_CONTINUE);
	ck_assert_int_eq(policy_eoh(s, &v), POLICY_CONTINUE);
	policy_body(s, (const unsigned char *)body, strlen(body), &v);
	d1 = txn_mime(s->txn);
	d2 = txn_mime(s->txn);
	ck_assert_ptr_nonnull(d1);
	ck_assert_ptr_eq(d1, d2);
	ck_assert_uint_eq(d1->nlinks, 1);
	ck_assert_str_eq(d1->links[0].host, "www.example.co.uk");
	verdict_clear(&v);
	session_free(s);
	conf_unref(c);
}
END_TEST

Suite *
dnsbl_suite(void)
{
	Suite *s = suite_create("dnsbl");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_ip_names);
	tcase_add_test(tc, test_domain_names);
	tcase_add_test(tc, test_codes);
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_conf);
	tcase_add_test(tc, test_uri_items);
	tcase_add_test(tc, test_batch);
	tcase_add_test(tc, test_mime_once);
	suite_add_tcase(s, tc);
	return s;
}
