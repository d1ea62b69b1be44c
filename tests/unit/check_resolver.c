/*
 * check_resolver - the resolver's answer cache, through its test hooks: a
 * small cache and a clock of our own, no DNS.  When full it drops expired
 * answers first, then the least recently used, never everything.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "resolver.h"
#include "tests.h"

static time_t fake_now = 1000;

/* fake_clock - the tests' clock */
static time_t
fake_clock(void)
{
	return fake_now;
}

/* small - a resolver (asking nobody) whose cache holds max answers */
static struct resolver *
small(size_t max)
{
	char err[256] = "";
	struct resolver *r = resolver_new("127.0.0.1@9", NULL, err,
					  sizeof(err));

	ck_assert_msg(r != NULL, "%s", err);
	fake_now = 1000;
	resolver_cache_tune(r, max, fake_clock);
	return r;
}

/* put - cache a TXT answer "v=NAME" for name */
static void
put(struct resolver *r, const char *name, int ttl)
{
	struct dns_rr rr;
	struct dns_answer a;
	char txt[64];

	memset(&rr, 0, sizeof(rr));
	memset(&a, 0, sizeof(a));
	snprintf(txt, sizeof(txt), "v=%s", name);
	rr.type = DNS_T_TXT;
	rr.txt = txt;
	rr.txtlen = strlen(txt);
	a.status = DNS_OK;
	a.rr = &rr;
	a.count = 1;
	resolver_cache_put(r, name, DNS_T_TXT, &a, ttl);
}

/* has - is name cached (and live); counts as a use */
static int
has(struct resolver *r, const char *name)
{
	struct dns_answer a;
	char want[64];
	int hit = resolver_cache_get(r, name, DNS_T_TXT, &a);

	if (hit) {
		snprintf(want, sizeof(want), "v=%s", name);
		ck_assert_uint_eq(a.count, 1);
		ck_assert_str_eq(a.rr[0].txt, want);
	}
	dns_answer_free(&a);
	return hit;
}

/* a full cache drops the least recently used answer, not all of them */
START_TEST(test_cache_lru)
{
	struct resolver *r = small(4);

	put(r, "a.test", 100);
	put(r, "b.test", 100);
	put(r, "c.test", 100);
	put(r, "d.test", 100);
	ck_assert_uint_eq(resolver_cache_count(r), 4);
	ck_assert(has(r, "a.test"));		/* a is used: b is the oldest */
	put(r, "e.test", 100);
	ck_assert_uint_eq(resolver_cache_count(r), 4);
	ck_assert(!has(r, "b.test"));
	ck_assert(has(r, "a.test"));
	ck_assert(has(r, "c.test"));
	ck_assert(has(r, "d.test"));
	ck_assert(has(r, "e.test"));
	put(r, "f.test", 100);			/* now a is the oldest use */
	ck_assert(!has(r, "a.test"));
	ck_assert(has(r, "c.test"));
	resolver_unref(r);
}
END_TEST

/* expired answers go before any live one, however recently used */
START_TEST(test_cache_expired_first)
{
	struct resolver *r = small(4);

	put(r, "old.test", 100);
	put(r, "short.test", 10);
	put(r, "x.test", 100);
	put(r, "y.test", 100);
	ck_assert(has(r, "short.test"));	/* the most recent use */
	fake_now += 20;				/* short.test has expired */
	put(r, "z.test", 100);
	ck_assert_uint_eq(resolver_cache_count(r), 4);
	ck_assert(has(r, "old.test"));		/* the LRU one stays */
	ck_assert(!has(r, "short.test"));
	ck_assert(has(r, "z.test"));
	/* many expired at once: all of them go, nothing live is lost */
	fake_now += 200;
	put(r, "n1.test", 500);
	ck_assert_uint_eq(resolver_cache_count(r), 1);
	ck_assert(has(r, "n1.test"));
	resolver_unref(r);
}
END_TEST

/* a stream of one-off names: the cache stays full, holding the newest */
START_TEST(test_cache_stream)
{
	struct resolver *r = small(8);
	char name[32];

	put(r, "busy.test", 1000);
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "n%d.test", i);
		put(r, name, 100);
		ck_assert(has(r, "busy.test"));	/* used all the time: kept */
		ck_assert_uint_le(resolver_cache_count(r), 8);
	}
	ck_assert_uint_eq(resolver_cache_count(r), 8);
	for (int i = 93; i < 100; i++) {
		snprintf(name, sizeof(name), "n%d.test", i);
		ck_assert_msg(has(r, name), "%s dropped", name);
	}
	ck_assert(!has(r, "n92.test"));
	resolver_unref(r);
}
END_TEST

/* the same name cached twice is one entry, the newer answer */
START_TEST(test_cache_replace)
{
	struct resolver *r = small(4);

	put(r, "a.test", 10);
	put(r, "a.test", 100);
	ck_assert_uint_eq(resolver_cache_count(r), 1);
	fake_now += 50;
	ck_assert(has(r, "a.test"));
	fake_now += 60;
	ck_assert(!has(r, "a.test"));
	ck_assert_uint_eq(resolver_cache_count(r), 0);
	resolver_unref(r);
}
END_TEST

Suite *
resolver_suite(void)
{
	Suite *s = suite_create("resolver");
	TCase *tc = tcase_create("cache");

	tcase_add_test(tc, test_cache_lru);
	tcase_add_test(tc, test_cache_expired_first);
	tcase_add_test(tc, test_cache_stream);
	tcase_add_test(tc, test_cache_replace);
	suite_add_tcase(s, tc);
	return s;
}
