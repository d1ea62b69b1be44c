/*
 * check_ratelimit - the rate limits and the brake: specifications, the
 * window arithmetic under an injected clock, several windows and keys a
 * decision, client network keys, bounded memory, exactness under
 * threads, configuration errors at FILE:LINE, the brake's rules and its
 * LMDB store.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "brakestore.h"
#include "conf.h"
#include "netaddr.h"
#include "rate.h"
#include "ratelimit.h"
#include "rlmem.h"
#include "tests.h"

#define S	1000LL		/* ms */

static const struct { const char *in, *out; } rate_good[] = {
	{ "100/1h", "100/1h" },
	{ "100/1h 1000/1d", "100/1h 1000/1d" },
	{ "5/60s, 7/90s", "5/1m 7/90s" },
	{ "1/366d", "1/366d" },
	{ "10000000/1s", "10000000/1s" },
	{ "", "" },
};

static const char *const rate_bad[] = {
	"100", "100/", "/1h", "0/1h", "-1/1h", "100/1x", "100/h", "100/0s",
	"100/367d", "10000001/1s", "1/1h 2/1h", "1/1s 1/2s 1/3s 1/4s 1/5s",
	"1/1h junk",
};

START_TEST(test_rate_parse)
{
	struct ratelist l;
	char why[256], buf[256];

	for (size_t i = 0; i < sizeof(rate_good) / sizeof(rate_good[0]); i++) {
		ck_assert_msg(ratelist_parse(rate_good[i].in, &l, why,
					     sizeof(why)) == 0, "%s: %s",
			      rate_good[i].in, why);
		ratelist_format(&l, buf, sizeof(buf));
		ck_assert_str_eq(buf, rate_good[i].out);
	}
	for (size_t i = 0; i < sizeof(rate_bad) / sizeof(rate_bad[0]); i++) {
		ck_assert_msg(ratelist_parse(rate_bad[i], &l, why,
					     sizeof(why)) != 0, "%s parsed",
			      rate_bad[i]);
		ck_assert_int_eq(l.n, 0);
	}
}
END_TEST

/* hit - one hit on one window at now; 1 admitted (and counted) */
static int
hit(struct rate_slot *s, const struct rate *r, long long now)
{
	rate_roll(s, r->window, now);
	if (rate_over(s, r, now, 1))
		return 0;
	s->cur++;
	return 1;
}

/* the sliding window: 3 a 10 s, the previous window weighs what is left */
START_TEST(test_rate_window)
{
	struct rate r = { 3, 10 * S };
	struct rate_slot s = { 0, 0, 0 };
	long long t0 = 1000000 * S;	/* a bucket boundary */

	ck_assert(hit(&s, &r, t0));
	ck_assert(hit(&s, &r, t0 + 1 * S));
	ck_assert(hit(&s, &r, t0 + 2 * S));
	ck_assert(!hit(&s, &r, t0 + 3 * S));
	ck_assert(!hit(&s, &r, t0 + 9999));
	/* next bucket: the 3 before weigh 1000/1000, then less */
	ck_assert(!hit(&s, &r, t0 + 10 * S));
	ck_assert_int_eq(s.prev, 3);
	ck_assert_int_eq(s.cur, 0);
	/* 4 s in: 3 x 0.6 = 1.8, one more is 2.8 <= 3 */
	ck_assert(hit(&s, &r, t0 + 14 * S));
	/* 1.8 + 2 = 3.8 > 3 */
	ck_assert(!hit(&s, &r, t0 + 14 * S));
	/* 7 s in: 3 x 0.3 = 0.9 + 2 = 2.9 */
	ck_assert(hit(&s, &r, t0 + 17 * S));
	/* two buckets later nothing weighs */
	ck_assert(hit(&s, &r, t0 + 40 * S));
	ck_assert_int_eq(s.prev, 0);
	ck_assert_int_eq(s.cur, 1);
	/* a clock stepped back stays in the bucket it has */
	ck_assert(hit(&s, &r, t0 + 35 * S));
	ck_assert_int_eq(s.start, t0 + 40 * S);
}
END_TEST

/* several windows a key: all must have room; a refusal counts nowhere */
START_TEST(test_rlmem_windows)
{
	struct rlmem *m = rlmem_new(1000);
	struct ratelist l;
	char why[128];
	struct rl_req q;
	long long t0 = 3600 * 1000 * S;
	size_t req;
	int win, admitted = 0;

	ck_assert(ratelist_parse("2/1m 3/1h", &l, why, sizeof(why)) == 0);
	q.key = "l:alice";
	q.rates = &l;
	ck_assert_int_eq(rlmem_hit(m, &q, 1, t0, 1, &req, &win), 0);
	ck_assert_int_eq(rlmem_hit(m, &q, 1, t0 + S, 1, &req, &win), 0);
	ck_assert_int_eq(rlmem_hit(m, &q, 1, t0 + 2 * S, 1, &req, &win), 1);
	ck_assert_int_eq(win, 0);		/* the minute */
	/* minutes later the minute has room, the hour one more */
	ck_assert_int_eq(rlmem_hit(m, &q, 1, t0 + 180 * S, 1, &req, &win), 0);
	ck_assert_int_eq(rlmem_hit(m, &q, 1, t0 + 240 * S, 1, &req, &win), 1);
	ck_assert_int_eq(win, 1);		/* the hour */
	/* refused hits did not count: still exactly 3 in the hour */
	for (int i = 0; i < 50; i++)
		admitted += rlmem_hit(m, &q, 1, t0 + (300 + i * 60) * S, 1,
				      &req, &win) == 0;
	ck_assert_int_eq(admitted, 0);
	/* the next hour: the last hour's 3 weigh less and less */
	ck_assert_int_eq(rlmem_hit(m, &q, 1, t0 + 3600 * S + 1800 * S, 1,
				   &req, &win), 0);
	rlmem_free(m);
}
END_TEST

/* keys of one decision: one over, none counted */
START_TEST(test_rlmem_keys)
{
	struct rlmem *m = rlmem_new(1000);
	struct ratelist big, small;
	struct rl_req q[2];
	char why[128];
	size_t req;
	int win;

	ck_assert(ratelist_parse("100/1h", &big, why, sizeof(why)) == 0);
	ck_assert(ratelist_parse("1/1h", &small, why, sizeof(why)) == 0);
	q[0].key = "l:alice";
	q[0].rates = &big;
	q[1].key = "c:192.0.2.1/32";
	q[1].rates = &small;
	ck_assert_int_eq(rlmem_hit(m, q, 2, 10 * S, 1, &req, &win), 0);
	for (int i = 0; i < 10; i++) {
		ck_assert_int_eq(rlmem_hit(m, q, 2, 11 * S, 1, &req, &win), 1);
		ck_assert_uint_eq(req, 1);
	}
	/* alice alone: 99 more fit, so the refusals did not count */
	for (int i = 0; i < 99; i++)
		ck_assert_int_eq(rlmem_hit(m, q, 1, 12 * S, 1, &req, &win), 0);
	ck_assert_int_eq(rlmem_hit(m, q, 1, 12 * S, 1, &req, &win), 1);
	rlmem_free(m);
}
END_TEST

/* a flood of distinct keys: memory stays at the bound */
START_TEST(test_rlmem_bounded)
{
	struct rlmem *m = rlmem_new(100);
	struct ratelist l;
	struct rl_req q;
	char why[128], key[64];
	size_t req;
	int win;

	ck_assert(ratelist_parse("1/1h", &l, why, sizeof(why)) == 0);
	q.rates = &l;
	q.key = "c:keep";
	ck_assert_int_eq(rlmem_hit(m, &q, 1, 1 * S, 1, &req, &win), 0);
	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "c:10.%d.%d.%d/32", i >> 16,
			 (i >> 8) & 255, i & 255);
		q.key = key;
		ck_assert_int_eq(rlmem_hit(m, &q, 1, 2 * S, 1, &req, &win), 0);
		ck_assert_uint_le(rlmem_size(m), 100);
	}
	ck_assert_uint_eq(rlmem_size(m), 100);
	ck_assert_uint_ge(rlmem_evicted(m), 19900);
	/* idle keys go: hours later, new keys replace the idle ones */
	for (int i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "c:late%d", i);
		q.key = key;
		ck_assert_int_eq(rlmem_hit(m, &q, 1, 3 * 3600 * S, 1, &req,
					   &win), 0);
	}
	ck_assert_uint_eq(rlmem_size(m), 100);
	ck_assert_uint_le(rlmem_evicted(m), 20000);
	rlmem_free(m);
}
END_TEST

struct race {
	struct rlmem	*m;
	struct rl_req	q;
	int		admitted;
};

static void *
race_run(void *arg)
{
	struct race *r = arg;
	size_t req;
	int win;

	for (int i = 0; i < 2000; i++)
		if (rlmem_hit(r->m, &r->q, 1, 5 * S, 1, &req, &win) == 0)
			r->admitted++;
	return NULL;
}

/* eight threads on one key: exactly the limit gets through */
START_TEST(test_rlmem_threads)
{
	struct rlmem *m = rlmem_new(1000);
	struct ratelist l;
	struct race r[8];
	pthread_t th[8];
	char why[128];
	int total = 0;

	ck_assert(ratelist_parse("5000/1h 7000/1d", &l, why, sizeof(why)) == 0);
	for (int i = 0; i < 8; i++) {
		r[i].m = m;
		r[i].q.key = "l:burst";
		r[i].q.rates = &l;
		r[i].admitted = 0;
		pthread_create(&th[i], NULL, race_run, &r[i]);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		total += r[i].admitted;
	}
	ck_assert_int_eq(total, 5000);
	rlmem_free(m);
}
END_TEST

START_TEST(test_client_key)
{
	static const struct { const char *addr; int v4, v6; const char *key; }
	cases[] = {
		{ "192.0.2.77", 32, 64, "192.0.2.77/32" },
		{ "192.0.2.77", 24, 64, "192.0.2.0/24" },
		{ "192.0.2.77", 20, 64, "192.0.0.0/20" },
		{ "2001:db8:1:2:3:4:5:6", 32, 64, "2001:db8:1:2::/64" },
		{ "2001:db8:1:2:3:4:5:6", 32, 48, "2001:db8:1::/48" },
		{ "2001:db8:1:2:3:4:5:6", 32, 128, "2001:db8:1:2:3:4:5:6/128" },
	};
	struct netaddr a;
	char key[80];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert(netaddr_parse(cases[i].addr, &a) == 0);
		ratelimit_client_key(&a, cases[i].v4, cases[i].v6, key,
				     sizeof(key));
		ck_assert_str_eq(key, cases[i].key);
	}
}
END_TEST

static const struct { const char *text, *want; } rl_bad_conf[] = {
	{ "log = stderr\nratelimit_login = 100/1x\n", ":2: bad rate" },
	{ "ratelimit_client = 0/1h\n", ":1: bad rate" },
	{ "ratelimit_login_rcpt = 1/1h 2/1h\n", ":1: two rates for one window" },
	{ "ratelimit_sender_domain = 1/1s 1/2s 1/3s 1/4s 1/5s\n",
	  ":1: more than 4 rates" },
	{ "ratelimit_ipv4_prefix = 33\n", ":1: bad value" },
	{ "ratelimit_ipv6_prefix = 8\n", ":1: bad value" },
	{ "ratelimit_backend = disk\n", ":1: bad value" },
	{ "ratelimit_action = slow\n", ":1: bad action" },
	{ "ratelimit_exempt = 10.0.0.0/33\n", ":1: bad prefix" },
	{ "log = stderr\nratelimit_backend = redis\n", ":2: ratelimit_backend "
	  "= redis needs redis_server" },
	{ "brake_window = 2d\n", ":1: bad duration" },
	{ "brake_spam_score = many\n", ":1: bad number" },
	{ "brake_viruses = -1\n", ":1: bad value" },
};

START_TEST(test_conf_errors)
{
	char name[32], err[512] = "", want[256];
	const char *p;

	snprintf(name, sizeof(name), "rlbad%d.conf", _i);
	p = write_file(name, rl_bad_conf[_i].text);
	ck_assert_ptr_null(conf_load(p, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s%s", p, rl_bad_conf[_i].want);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "got \"%s\", "
		      "want \"%s...\"", err, want);
}
END_TEST

START_TEST(test_conf_good)
{
	const char *p = write_file("rlgood.conf",
		"ratelimit_login = 100/1h 1000/1d\n"
		"ratelimit_client_rcpt = 500/1h\n"
		"ratelimit_ipv4_prefix = 24\n"
		"ratelimit_action = quarantine\n"
		"brake = yes\n"
		"brake_window = 30m\n"
		"brake_spam_score = off\n"
		"brake_store = brake\n");
	char err[512] = "";
	struct conf *c = conf_load(p, err, sizeof(err));

	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_int_eq(c->ratelimit_login.n, 2);
	ck_assert_int_eq(c->ratelimit_login.v[1].limit, 1000);
	ck_assert(c->ratelimit_login.v[1].window == 86400 * S);
	ck_assert_int_eq(c->ratelimit_client_rcpt.n, 1);
	ck_assert_int_eq(c->ratelimit_ipv4_prefix, 24);
	ck_assert_int_eq(c->brake_window, 1800 * 1000);
	ck_assert(c->brake_store[0] == '/');	/* by the file's directory */
	ck_assert(ratelimit_enabled(c));
	conf_unref(c);
	c = conf_defaults();
	ck_assert(!ratelimit_enabled(c));
	ck_assert_int_eq(c->brake, 0);
	conf_unref(c);
}
END_TEST

/* the brake's rules: thresholds in order, one window, stopped counts not */
START_TEST(test_brake_apply)
{
	struct brake_limits l = { 10, 2, 3, 3600 * S };
	struct brake_rec r;
	struct brake_add spam = { 4, 0, 0 }, virus = { 0, 1, 0 },
		rcpt = { 0, 0, 1 };
	char why[128];

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(brake_apply(&r, &spam, &l, 100 * S), 0);
	ck_assert_int_eq(brake_apply(&r, &spam, &l, 200 * S), 0);
	ck_assert_int_eq(brake_apply(&r, &spam, &l, 300 * S), 1);
	ck_assert_int_eq(r.code, BRAKE_SPAM);
	ck_assert(r.until == 300 * S + 3600 * S);
	brake_reason(&r, &l, why, sizeof(why));
	ck_assert_str_eq(why, "spam score 12.0 >= 10 within 1h");
	/* stopped: nothing counted */
	ck_assert_int_eq(brake_apply(&r, &virus, &l, 400 * S), 2);
	ck_assert_int_eq(r.viruses, 0);
	/* after the stop a new window */
	ck_assert_int_eq(brake_apply(&r, &virus, &l, 4000 * S), 0);
	ck_assert(r.score == 0);
	ck_assert_int_eq(brake_apply(&r, &virus, &l, 4001 * S), 1);
	ck_assert_int_eq(r.code, BRAKE_VIRUS);
	/* counters of a window that passed start again */
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(brake_apply(&r, &rcpt, &l, 0 + 1), 0);
	ck_assert_int_eq(brake_apply(&r, &rcpt, &l, 1 + 1), 0);
	ck_assert_int_eq(brake_apply(&r, &rcpt, &l, 3600 * S + 2), 0);
	ck_assert_int_eq(r.rcpts, 1);
	ck_assert_int_eq(brake_apply(&r, &rcpt, &l, 3600 * S + 3), 0);
	ck_assert_int_eq(brake_apply(&r, &rcpt, &l, 3600 * S + 4), 1);
	ck_assert_int_eq(r.code, BRAKE_RCPTS);
	brake_reason(&r, &l, why, sizeof(why));
	ck_assert_str_eq(why, "3 refused recipients >= 3 within 1h");
	/* a threshold off never trips */
	l.score = -1;
	memset(&r, 0, sizeof(r));
	spam.score = 1e6;
	ck_assert_int_eq(brake_apply(&r, &spam, &l, 5 * S), 0);
}
END_TEST

/* the LMDB store: a stop set, seen, listed and released */
static int listed;

static void
count_listed(const char *login, const struct brake_rec *r, void *arg)
{
	ck_assert_str_eq(login, "bob@example.test");
	listed++;
}

START_TEST(test_brakestore_lmdb)
{
	struct brake_limits l = { 10, 0, 0, 600 * S };
	struct brake_add spam = { 6, 0, 0 };
	struct brake_rec r;
	struct brakestore *bs;
	char path[600], why[256];
	int absent;

	snprintf(path, sizeof(path), "%s/brake-%ld", unit_tmpdir(),
		 (long)getpid());
	ck_assert_ptr_null(brakestore_lmdb(path, 0, &absent, why,
					   sizeof(why)));
	ck_assert_int_eq(absent, 1);
	bs = brakestore_lmdb(path, 1, &absent, why, sizeof(why));
	ck_assert_msg(bs != NULL, "%s", why);
	ck_assert_int_eq(brakestore_get(bs, "bob@example.test", S, &r, why,
					sizeof(why)), 0);
	ck_assert_int_eq(brakestore_add(bs, "bob@example.test", S, &spam, &l,
					&r, why, sizeof(why)), 0);
	ck_assert_int_eq(brakestore_add(bs, "alice", S, &spam, &l, &r, why,
					sizeof(why)), 0);
	ck_assert_int_eq(brakestore_add(bs, "bob@example.test", 2 * S, &spam,
					&l, &r, why, sizeof(why)), 1);
	ck_assert_int_eq(brakestore_get(bs, "bob@example.test", 3 * S, &r,
					why, sizeof(why)), 1);
	ck_assert_int_eq(brakestore_get(bs, "alice", 3 * S, &r, why,
					sizeof(why)), 0);
	listed = 0;
	ck_assert_int_eq(brakestore_list(bs, 3 * S, count_listed, NULL, why,
					 sizeof(why)), 0);
	ck_assert_int_eq(listed, 1);
	/* the stop ends with its window ... */
	ck_assert_int_eq(brakestore_get(bs, "bob@example.test", 603 * S, &r,
					why, sizeof(why)), 0);
	/* ... or at release, counters and all */
	ck_assert_int_eq(brakestore_release(bs, "bob@example.test", 3 * S,
					    why, sizeof(why)), 1);
	ck_assert_int_eq(brakestore_get(bs, "bob@example.test", 3 * S, &r,
					why, sizeof(why)), 0);
	ck_assert(r.score == 0);
	ck_assert_int_eq(brakestore_release(bs, "bob@example.test", 3 * S,
					    why, sizeof(why)), 0);
	brakestore_close(bs);
}
END_TEST

static long long fake_now;

static long long
fake_clock(void)
{
	return fake_now;
}

/*
 * With RG_REDIS (HOST:PORT or unix:PATH, tests/ratelimit/redis_shared.sh):
 * the Redis script and the in-process table decide alike, hit for hit,
 * over two keys and three windows and a random walk of the clock
 */
START_TEST(test_redis_same_as_memory)
{
	char text[512], err[512], why[512];
	struct conf *mem, *red;
	struct ratelist a, b;
	struct rl_req q[2];
	unsigned seed = 12345;
	int over = 0;

	ck_assert(ratelist_parse("5/10s 12/1m", &a, why, sizeof(why)) == 0);
	ck_assert(ratelist_parse("7/30s", &b, why, sizeof(why)) == 0);
	snprintf(text, sizeof(text), "log = stderr\nratelimit_backend = redis\n"
		 "redis_server = %s\nratelimit_redis_prefix = rgunit:%ld:\n",
		 getenv("RG_REDIS"), (long)getpid());
	red = conf_load(write_file("rlredis.conf", text), err, sizeof(err));
	ck_assert_msg(red != NULL, "%s", err);
	mem = conf_defaults();
	q[0].key = "l:same";
	q[0].rates = &a;
	q[1].key = "c:same";
	q[1].rates = &b;
	ratelimit_clock = fake_clock;
	fake_now = 1764633600000LL;	/* a day boundary */
	for (int i = 0; i < 400; i++) {
		size_t rm = 9, rr = 9;
		int wm = 9, wr = 9, cm, cr;

		seed = seed * 1103515245u + 12345u;
		fake_now += (seed >> 8) % 4000;
		cm = ratelimit_decide(mem, q, 1 + i % 2, &rm, &wm, why,
				      sizeof(why));
		cr = ratelimit_decide(red, q, 1 + i % 2, &rr, &wr, why,
				      sizeof(why));
		ck_assert_msg(cr >= 0, "redis: %s", why);
		ck_assert_msg(cm == cr && (cm == 0 || (rm == rr && wm == wr)),
			      "hit %d at +%lld ms: memory %d (%zu %d), redis %d "
			      "(%zu %d)", i, fake_now - 1764633600000LL, cm, rm,
			      wm, cr, rr, wr);
		over += cm;
	}
	ck_assert_int_gt(over, 50);	/* the limits were reached */
	ck_assert_int_lt(over, 350);	/* and had room */
	ratelimit_stop();
	conf_unref(mem);
	conf_unref(red);
}
END_TEST

Suite *
ratelimit_suite(void)
{
	Suite *s = suite_create("ratelimit");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_rate_parse);
	tcase_add_test(tc, test_rate_window);
	tcase_add_test(tc, test_rlmem_windows);
	tcase_add_test(tc, test_rlmem_keys);
	tcase_add_test(tc, test_rlmem_bounded);
	tcase_add_test(tc, test_rlmem_threads);
	tcase_add_test(tc, test_client_key);
	tcase_add_loop_test(tc, test_conf_errors, 0,
			    sizeof(rl_bad_conf) / sizeof(rl_bad_conf[0]));
	tcase_add_test(tc, test_conf_good);
	tcase_add_test(tc, test_brake_apply);
	tcase_add_test(tc, test_brakestore_lmdb);
	suite_add_tcase(s, tc);
	if (getenv("RG_REDIS") != NULL) {
		tc = tcase_create("redis");
		tcase_add_test(tc, test_redis_same_as_memory);
		suite_add_tcase(s, tc);
	}
	return s;
}
