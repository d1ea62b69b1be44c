/*
 * check_tokstore - the Bayes token store (policy/checks/spam/tokstore.h)
 * on both backends.
 *
 * Case "lmdb" (always; stores under unit_tmpdir()): learn, learn again
 * (1), move to the other class, forget, forget an unknown digest, counts
 * never below zero, duplicate tokens counted once, totals, unknown
 * tokens, 10,000 tokens in one learn, two handles on one store in this
 * process, lookups from threads while learning, another process (forked)
 * learning while this one reads (every snapshot whole: each message
 * holds one common token, so its spam count equals the spam total; its
 * map grows, so ours must adopt the new size), a handle used across
 * fork() (refused), a
 * corrupt store file, a path that is a file, an unwritable directory
 * (as nobody when run as root), a map that fills and grows, read-only.
 *
 * With RG_REDIS (unix:PATH or HOST:PORT) set, as tests/spam/tokstore_redis.sh
 * does, the case "redis" runs the same semantics against that server
 * (each test under its own key prefix), plus two handles as two nodes,
 * the TTL of token keys (and none on totals and digests), and a bad
 * address.  RG_REDIS_PHASE picks another case instead:
 *   auth       the server wants RG_REDIS_PASSWORD: works with it, open
 *              fails without it and with a wrong one
 *   maxmemory  the server runs with a small maxmemory and volatile-lru:
 *              every learn works, keys were evicted, the totals stay
 *   outage     runs $RG_REDIS_STOP (kill, or SIGSTOP) and $RG_REDIS_START
 *              between two calls: the next call works (a pooled
 *              connection found closed is replaced); then STOP mid-run:
 *              -1 within the timeout, open fails; then START: works
 *              again on the same handle
 * Case "speed" prints lookups (500 tokens) and learns per second of each
 * backend it can reach; it asserts nothing about speed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests.h"
#include "tokstore.h"

#define NB_LMDB		0	/* the loop index of a backend */
#define NB_REDIS	1
#define REDIS_TIMEOUT	500	/* ms, the tests' per-call timeout */

/* now_ms - CLOCK_MONOTONIC in milliseconds */
static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* xorshift - the next of a repeatable run of 64-bit tokens */
static uint64_t
xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* lmdb_dir - a store directory of this process under unit_tmpdir() */
static const char *
lmdb_dir(const char *tag)
{
	static char path[4][600];
	static int slot;
	char *p = path[slot++ % 4];

	snprintf(p, sizeof(path[0]), "%s/%ld-tok-%s", unit_tmpdir(),
		 (long)getpid(), tag);
	return p;
}

/* redis_prefix - a key prefix of this process and test */
static const char *
redis_prefix(const char *tag)
{
	static char prefix[4][200];
	static int slot;
	char *p = prefix[slot++ % 4];

	snprintf(p, sizeof(prefix[0]), "rgtest:%ld:%s:", (long)getpid(), tag);
	return p;
}

/* store_opts - options for backend b, store (or prefix) tag */
static struct tokstore_opts
store_opts(int b, const char *tag)
{
	struct tokstore_opts o = { 0 };

	if (b == NB_LMDB) {
		o.backend = TOKSTORE_LMDB;
		o.path = lmdb_dir(tag);
	} else {
		o.backend = TOKSTORE_REDIS;
		o.redis = getenv("RG_REDIS");
		o.prefix = redis_prefix(tag);
		o.timeout_ms = REDIS_TIMEOUT;
		o.token_ttl = 3600;
	}
	return o;
}

/* store_open - open backend b's store tag, or fail the test */
static struct tokstore *
store_open(int b, const char *tag)
{
	struct tokstore_opts o = store_opts(b, tag);
	struct tokstore *ts;
	char why[256] = "";

	ts = tokstore_open(&o, why, sizeof(why));
	ck_assert_msg(ts != NULL, "open %s: %s", tag, why);
	return ts;
}

/* dg - a digest made of i */
static const unsigned char *
dg(int i)
{
	static unsigned char d[4][32];
	static int slot;
	unsigned char *p = d[slot++ % 4];

	memset(p, 0xa5, 32);
	memcpy(p, &i, sizeof(i));
	return p;
}

/* learn - tokstore_learn that must not fail; its result */
static int
learn(struct tokstore *ts, int d, const uint64_t *tok, size_t n, int spam,
      int sign)
{
	char why[256] = "";
	int rc = tokstore_learn(ts, dg(d), tok, n, spam, sign, why,
				sizeof(why));

	ck_assert_msg(rc >= 0, "learn %d: %s", d, why);
	return rc;
}

/* expect - lookup of one token and the totals must give these */
static void
expect(struct tokstore *ts, uint64_t tok, uint32_t s, uint32_t h,
       uint64_t tspam, uint64_t tham)
{
	struct tokstore_counts c;
	struct tokstore_totals t;
	char why[256] = "";

	ck_assert_msg(tokstore_lookup(ts, &tok, 1, &c, &t, why,
				      sizeof(why)) == 0, "lookup: %s", why);
	ck_assert_msg(c.spam == s && c.ham == h,
		      "token %llu: %u/%u, want %u/%u", (unsigned long long)tok,
		      c.spam, c.ham, s, h);
	ck_assert_msg(t.spam == tspam && t.ham == tham,
		      "totals %llu/%llu, want %llu/%llu",
		      (unsigned long long)t.spam, (unsigned long long)t.ham,
		      (unsigned long long)tspam, (unsigned long long)tham);
}

/* learn, learn again, move, forget, forget again, forget unknown */
START_TEST(test_learn_cycle)
{
	static const uint64_t tok[] = { 1, 2, 3 };
	struct tokstore *ts = store_open(_i, "cycle");
	struct tokstore_counts c[4];
	struct tokstore_totals t;
	uint64_t q[4] = { 1, 2, 3, 99 };
	char why[256];
	int i;

	expect(ts, 1, 0, 0, 0, 0);
	ck_assert_int_eq(learn(ts, 1, tok, 3, 1, 1), 0);
	ck_assert_int_eq(tokstore_lookup(ts, q, 4, c, &t, why, sizeof(why)), 0);
	for (i = 0; i < 3; i++)
		ck_assert(c[i].spam == 1 && c[i].ham == 0);
	ck_assert(c[3].spam == 0 && c[3].ham == 0);
	ck_assert(t.spam == 1 && t.ham == 0);
	ck_assert_int_eq(learn(ts, 1, tok, 3, 1, 1), 1);	/* again */
	expect(ts, 2, 1, 0, 1, 0);
	ck_assert_int_eq(learn(ts, 1, tok, 3, 0, 1), 0);	/* moved */
	expect(ts, 2, 0, 1, 0, 1);
	ck_assert_int_eq(learn(ts, 1, tok, 3, 0, 1), 1);
	ck_assert_int_eq(learn(ts, 2, tok, 2, 0, 1), 0);	/* another */
	expect(ts, 1, 0, 2, 0, 2);
	expect(ts, 3, 0, 1, 0, 2);
	/* forget takes the class it was learned as, whatever is_spam says */
	ck_assert_int_eq(learn(ts, 1, tok, 3, 1, -1), 0);
	expect(ts, 1, 0, 1, 0, 1);
	expect(ts, 3, 0, 0, 0, 1);
	ck_assert_int_eq(learn(ts, 1, tok, 3, 1, -1), 1);	/* again */
	ck_assert_int_eq(learn(ts, 7, tok, 3, 0, -1), 1);	/* unknown */
	expect(ts, 1, 0, 1, 0, 1);
	ck_assert_int_eq(learn(ts, 2, tok, 2, 0, -1), 0);
	expect(ts, 1, 0, 0, 0, 0);
	/* learned again after a forget: counted again */
	ck_assert_int_eq(learn(ts, 1, tok, 3, 1, 1), 0);
	expect(ts, 3, 1, 0, 1, 0);
	tokstore_close(ts);
}
END_TEST

/* forgetting or moving with tokens never learned: zero, not UINT32_MAX */
START_TEST(test_never_negative)
{
	static const uint64_t one[] = { 10 }, more[] = { 10, 11, 12 };
	struct tokstore *ts = store_open(_i, "negative");

	ck_assert_int_eq(learn(ts, 1, one, 1, 1, 1), 0);
	ck_assert_int_eq(learn(ts, 1, more, 3, 0, 1), 0);	/* moved */
	expect(ts, 10, 0, 1, 0, 1);
	expect(ts, 11, 0, 1, 0, 1);
	ck_assert_int_eq(learn(ts, 1, more, 3, 0, -1), 0);
	ck_assert_int_eq(learn(ts, 2, more, 3, 1, 1), 0);
	ck_assert_int_eq(learn(ts, 2, more, 3, 1, -1), 0);
	ck_assert_int_eq(learn(ts, 3, one, 1, 1, 1), 0);
	ck_assert_int_eq(learn(ts, 3, more, 3, 1, -1), 0);
	expect(ts, 10, 0, 0, 0, 0);
	expect(ts, 12, 0, 0, 0, 0);
	tokstore_close(ts);
}
END_TEST

/* a token given twice in one learn counts once; an empty message */
START_TEST(test_duplicates_totals)
{
	static const uint64_t dup[] = { 5, 5, 6, 5, 6 };
	struct tokstore *ts = store_open(_i, "dup");
	struct tokstore_totals t;
	char why[256];
	int i;

	ck_assert_int_eq(learn(ts, 1, dup, 5, 1, 1), 0);
	expect(ts, 5, 1, 0, 1, 0);
	expect(ts, 6, 1, 0, 1, 0);
	for (i = 2; i < 5; i++)
		ck_assert_int_eq(learn(ts, i, dup + 2, 1, 1, 1), 0);
	for (i = 5; i < 7; i++)
		ck_assert_int_eq(learn(ts, i, NULL, 0, 0, 1), 0);
	ck_assert_int_eq(tokstore_lookup(ts, NULL, 0, NULL, &t, why,
					 sizeof(why)), 0);
	ck_assert(t.spam == 4 && t.ham == 2);
	expect(ts, 6, 4, 0, 4, 2);
	expect(ts, 0xffffffffffffffffULL, 0, 0, 4, 2);
	ck_assert_int_eq(tokstore_learn(ts, dg(1), dup, 1, 1, 0, why,
					sizeof(why)), -1);	/* bad sign */
	tokstore_close(ts);
}
END_TEST

/* 10,000 tokens in one learn, looked up in one call */
START_TEST(test_many)
{
	enum { N = 10000 };
	struct tokstore *ts = store_open(_i, "many");
	uint64_t *tok = malloc(N * sizeof(*tok));
	struct tokstore_counts *c = malloc((N + 1) * sizeof(*c));
	struct tokstore_totals t;
	char why[256] = "";
	int i;

	for (i = 0; i < N; i++)
		tok[i] = (uint64_t)i * 0x9e3779b97f4a7c15ULL;
	ck_assert_int_eq(learn(ts, 1, tok, N, 0, 1), 0);
	ck_assert_msg(tokstore_lookup(ts, tok, N, c, &t, why, sizeof(why)) == 0,
		      "%s", why);
	for (i = 0; i < N; i++)
		ck_assert_msg(c[i].spam == 0 && c[i].ham == 1, "token %d", i);
	ck_assert(t.spam == 0 && t.ham == 1);
	ck_assert_int_eq(learn(ts, 1, tok, N, 0, -1), 0);
	expect(ts, tok[N - 1], 0, 0, 0, 0);
	free(c);
	free(tok);
	tokstore_close(ts);
}
END_TEST

/* many learns at once: the same rules as one at a time, within a batch
 * too (a digest twice in one batch is learned once; moved; forgotten) */
START_TEST(test_batch)
{
	uint64_t a[3][4] = { { 3, 1, 2, 1 }, { 3, 1, 2, 1 }, { 9, 8 } };
	uint64_t b[2][2] = { { 8, 9 }, { 1, 2 } };
	struct tokstore *ts = store_open(_i, "batch");
	struct tokstore_item it[3];
	char why[256] = "";

	memset(it, 0, sizeof(it));
	for (int i = 0; i < 3; i++) {
		memcpy(it[i].digest, dg(i < 2 ? 1 : 2), 32);
		it[i].tokens = a[i];
		it[i].n = i < 2 ? 4 : 2;
		it[i].is_spam = 1;
		it[i].sign = 1;
	}
	ck_assert_msg(tokstore_learn_many(ts, it, 3, why, sizeof(why)) == 0,
		      "%s", why);
	ck_assert_int_eq(it[0].rc, 0);
	ck_assert_int_eq(it[1].rc, 1);		/* the same digest again */
	ck_assert_int_eq(it[2].rc, 0);
	ck_assert_int_eq(it[0].n, 3);		/* sorted, repeats dropped */
	ck_assert(a[0][0] == 1 && a[0][1] == 2 && a[0][2] == 3);
	expect(ts, 1, 1, 0, 2, 0);
	expect(ts, 9, 1, 0, 2, 0);
	/* message 2 moved to ham, message 1 forgotten, in one batch */
	memcpy(it[0].digest, dg(2), 32);
	it[0].tokens = b[0];
	it[0].n = 2;
	it[0].is_spam = 0;
	memcpy(it[1].digest, dg(1), 32);
	it[1].tokens = b[1];
	it[1].n = 2;
	it[1].sign = -1;
	ck_assert_msg(tokstore_learn_many(ts, it, 2, why, sizeof(why)) == 0,
		      "%s", why);
	ck_assert(it[0].rc == 0 && it[1].rc == 0);
	expect(ts, 9, 0, 1, 0, 1);
	expect(ts, 1, 0, 0, 0, 1);
	expect(ts, 3, 1, 0, 0, 1);	/* forget took the tokens it was given */
	ck_assert_int_eq(tokstore_learn_many(ts, it, 0, why, sizeof(why)), 0);
	it[0].sign = 0;
	ck_assert_int_eq(tokstore_learn_many(ts, it, 1, why, sizeof(why)), -1);
	tokstore_close(ts);
}
END_TEST

/* two handles on one store (two nodes on one Redis): one learns, the
 * other sees it; closing one leaves the other working */
START_TEST(test_two_handles)
{
	static const uint64_t tok[] = { 40, 41 };
	struct tokstore *a = store_open(_i, "two"), *b = store_open(_i, "two");

	ck_assert_int_eq(learn(a, 1, tok, 2, 1, 1), 0);
	expect(b, 41, 1, 0, 1, 0);
	ck_assert_int_eq(learn(b, 1, tok, 2, 1, 1), 1);	/* learned by a */
	ck_assert_int_eq(learn(b, 2, tok, 1, 0, 1), 0);
	tokstore_close(a);
	expect(b, 40, 1, 1, 1, 1);
	a = store_open(_i, "two");
	expect(a, 40, 1, 1, 1, 1);
	tokstore_close(a);
	tokstore_close(b);
}
END_TEST

struct reader {
	struct tokstore	*ts;
	volatile int	*stop;
	int		bad, runs;
	char		why[256];
};

/* reader_run - lookups until told to stop; every snapshot whole */
static void *
reader_run(void *arg)
{
	struct reader *r = arg;
	uint64_t tok[2] = { 77, 78 };
	struct tokstore_counts c[2];
	struct tokstore_totals t;

	while (!*r->stop && r->bad == 0) {
		if (tokstore_lookup(r->ts, tok, 2, c, &t, r->why,
				    sizeof(r->why)) != 0)
			r->bad = 1;
		else if (c[0].spam != t.spam || c[1].spam != t.spam)
			r->bad = 2;
		r->runs++;
		/* a pause between lookups: four readers that never block
		 * starve the learning thread under valgrind's scheduler
		 * (one thread runs at a time; minutes for 100 learns) */
		nanosleep(&(struct timespec){ 0, 100000 }, NULL);
	}
	return NULL;
}

/* one handle, four threads reading while this one learns */
START_TEST(test_threads)
{
	enum { NT = 4, NM = 100 };
	struct tokstore *ts = store_open(_i, "threads");
	struct reader r[NT];
	pthread_t th[NT];
	volatile int stop = 0;
	uint64_t tok[20];
	int i, m;

	memset(r, 0, sizeof(r));
	for (i = 0; i < NT; i++) {
		r[i].ts = ts;
		r[i].stop = &stop;
		pthread_create(&th[i], NULL, reader_run, &r[i]);
	}
	for (m = 0; m < NM; m++) {
		tok[0] = 77;
		tok[1] = 78;
		for (i = 2; i < 20; i++)
			tok[i] = (uint64_t)m * 1000 + i;
		ck_assert_int_eq(learn(ts, m, tok, 20, 1, 1), 0);
	}
	stop = 1;
	for (i = 0; i < NT; i++) {
		pthread_join(th[i], NULL);
		ck_assert_msg(r[i].bad == 0, "reader %d: %s", i,
			      r[i].bad == 1 ? r[i].why : "torn snapshot");
	}
	expect(ts, 77, NM, 0, NM, 0);
	tokstore_close(ts);
}
END_TEST

/*
 * another process learns (with a map that must grow) while this one
 * reads: every snapshot whole, all learned in the end
 */
START_TEST(test_fork)
{
	enum { NM = 200, NTOK = 60 };
	struct tokstore_opts o = store_opts(NB_LMDB, "fork");
	struct tokstore *ts;
	struct tokstore_counts c;
	struct tokstore_totals t;
	uint64_t tok[NTOK], common = 4242, last = 0;
	char why[256] = "";
	int i, m, st, snaps = 0, done = 0;
	pid_t pid;

	o.map_size = 256 * 1024;
	ts = tokstore_open(&o, why, sizeof(why));
	ck_assert_msg(ts != NULL, "%s", why);
	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		struct tokstore *w = tokstore_open(&o, why, sizeof(why));

		if (w == NULL)
			_exit(2);
		for (m = 0; m < NM; m++) {
			tok[0] = common;
			for (i = 1; i < NTOK; i++)
				tok[i] = (uint64_t)m * 7919 * 1000 + i;
			if (tokstore_learn(w, dg(m), tok, NTOK, 1, 1, why,
					   sizeof(why)) != 0) {
				fprintf(stderr, "child: %s\n", why);
				_exit(3);
			}
		}
		tokstore_close(w);
		_exit(0);
	}
	while (!done) {
		done = waitpid(pid, &st, WNOHANG) == pid;
		ck_assert_msg(tokstore_lookup(ts, &common, 1, &c, &t, why,
					      sizeof(why)) == 0, "%s", why);
		ck_assert_msg(c.spam == t.spam, "torn: %u vs %llu", c.spam,
			      (unsigned long long)t.spam);
		ck_assert(t.spam >= last);
		last = t.spam;
		snaps++;
	}
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "the learning process failed (status %d)", st);
	expect(ts, common, NM, 0, NM, 0);
	/* after its growth our own learns work with the bigger map */
	tok[0] = common;
	ck_assert_int_eq(learn(ts, NM, tok, 1, 1, 1), 0);
	expect(ts, common, NM + 1, 0, NM + 1, 0);
	tokstore_close(ts);
	fprintf(stderr, "tokstore fork: %d snapshots while the other "
		"process learned\n", snaps);
}
END_TEST

/* a handle used in a child of the process that opened it: refused */
START_TEST(test_fork_misuse)
{
	static const uint64_t tok[] = { 1 };
	struct tokstore *ts = store_open(NB_LMDB, "misuse");
	struct tokstore_counts c;
	struct tokstore_totals t;
	char why[256] = "";
	int st;
	pid_t pid;

	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0)
		_exit(tokstore_lookup(ts, tok, 1, &c, &t, why, sizeof(why)) == -1 &&
		      strstr(why, "opened before fork()") != NULL ? 0 : 1);
	waitpid(pid, &st, 0);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	expect(ts, 1, 0, 0, 0, 0);
	tokstore_close(ts);
}
END_TEST

static char open_why[256];	/* what the last open_fails was told */

/* open_fails - opening o fails and why holds want */
static void
open_fails(const struct tokstore_opts *o, const char *want)
{
	struct tokstore *ts;
	char *why = open_why;

	*why = '\0';

	ts = tokstore_open(o, why, sizeof(open_why));
	ck_assert_msg(ts == NULL, "opened %s", o->path ? o->path : o->redis);
	ck_assert_msg(strstr(why, want) != NULL, "why \"%s\", want \"%s\"",
		      why, want);
}

/* a store that is not LMDB, a path that is a file, no path */
START_TEST(test_corrupt)
{
	struct tokstore_opts o = store_opts(NB_LMDB, "corrupt");
	char file[700], buf[8192];
	int fd, i;

	ck_assert_int_eq(mkdir(o.path, 0700), 0);
	snprintf(file, sizeof(file), "%s/data.mdb", o.path);
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert(fd >= 0);
	memset(buf, 'x', sizeof(buf));
	for (i = 0; i < 4; i++)
		ck_assert(write(fd, buf, sizeof(buf)) == sizeof(buf));
	close(fd);
	open_fails(&o, "not an LMDB store");
	o.path = file;
	open_fails(&o, "not a directory");
	o.path = NULL;
	open_fails(&o, "no store directory");
	/* read-only: a store nobody created */
	o = store_opts(NB_LMDB, "nothing");
	o.readonly = 1;
	open_fails(&o, "No such file or directory");
}
END_TEST

/* a directory we may not write: as nobody when we are root */
START_TEST(test_unwritable)
{
	struct tokstore_opts o = store_opts(NB_LMDB, "locked");
	char sub[700], why[256] = "";
	int fd[2], st;
	ssize_t n;
	pid_t pid;

	ck_assert_int_eq(mkdir(o.path, 0500), 0);	/* no write */
	snprintf(sub, sizeof(sub), "%s/store", o.path);
	ck_assert(pipe(fd) == 0);
	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		struct tokstore *ts;

		if (geteuid() == 0 && setuid(65534) != 0)
			_exit(2);
		o.path = sub;
		ts = tokstore_open(&o, why, sizeof(why));
		if (write(fd[1], why, strlen(why)) < 0)
			_exit(3);
		_exit(ts == NULL ? 0 : 1);
	}
	close(fd[1]);
	n = read(fd[0], why, sizeof(why) - 1);
	why[n > 0 ? n : 0] = '\0';
	close(fd[0]);
	waitpid(pid, &st, 0);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "status %d, why \"%s\"", st, why);
	ck_assert_msg(strstr(why, "Permission denied") != NULL, "why: %s", why);
	chmod(o.path, 0700);
}
END_TEST

/* a map too small for one learn grows and the learn goes through */
START_TEST(test_map_full)
{
	enum { N = 20000 };
	struct tokstore_opts o = store_opts(NB_LMDB, "mapfull");
	struct tokstore *ts;
	uint64_t *tok = malloc(N * sizeof(*tok));
	char why[256] = "";
	int i;

	o.map_size = 64 * 1024;
	ts = tokstore_open(&o, why, sizeof(why));
	ck_assert_msg(ts != NULL, "%s", why);
	for (i = 0; i < N; i++)
		tok[i] = (uint64_t)i * 2654435761u;
	ck_assert_int_eq(learn(ts, 1, tok, N, 1, 1), 0);
	expect(ts, tok[N / 2], 1, 0, 1, 0);
	for (i = 0; i < N; i++)
		tok[i] += 1;
	ck_assert_int_eq(learn(ts, 2, tok, N, 1, 1), 0);
	expect(ts, tok[N - 1], 1, 0, 2, 0);
	tokstore_close(ts);
	/* opened again with the small size: the store keeps its own */
	ts = tokstore_open(&o, why, sizeof(why));
	ck_assert_msg(ts != NULL, "%s", why);
	expect(ts, tok[N - 1], 1, 0, 2, 0);
	tokstore_close(ts);
	free(tok);
}
END_TEST

/* a batch that fills the map: it grows and the whole batch goes in */
START_TEST(test_map_full_batch)
{
	enum { N = 5000, M = 8 };
	struct tokstore_opts o = store_opts(NB_LMDB, "mapfullbatch");
	struct tokstore_item it[M];
	struct tokstore *ts;
	char why[256] = "";

	o.map_size = 64 * 1024;
	ts = tokstore_open(&o, why, sizeof(why));
	ck_assert_msg(ts != NULL, "%s", why);
	memset(it, 0, sizeof(it));
	for (int m = 0; m < M; m++) {
		it[m].tokens = malloc(N * sizeof(uint64_t));
		for (int i = 0; i < N; i++)
			it[m].tokens[i] = ((uint64_t)(m * N + i)) *
			    0x9e3779b97f4a7c15ULL;
		it[m].n = N;
		memcpy(it[m].digest, dg(m), 32);
		it[m].is_spam = m & 1;
		it[m].sign = 1;
	}
	ck_assert_msg(tokstore_learn_many(ts, it, M, why, sizeof(why)) == 0,
		      "%s", why);
	for (int m = 0; m < M; m++)
		ck_assert_int_eq(it[m].rc, 0);
	expect(ts, (uint64_t)(N * 7 + 3) * 0x9e3779b97f4a7c15ULL, 1, 0, 4, 4);
	for (int m = 0; m < M; m++)
		free(it[m].tokens);
	tokstore_close(ts);
}
END_TEST

/* read-only: reads what another handle learned, refuses to learn */
START_TEST(test_readonly)
{
	static const uint64_t tok[] = { 3 };
	struct tokstore_opts o = store_opts(NB_LMDB, "ro");
	struct tokstore *rw = store_open(NB_LMDB, "ro"), *ro;
	char why[256] = "";

	o.readonly = 1;
	ck_assert_int_eq(learn(rw, 1, tok, 1, 1, 1), 0);
	ro = tokstore_open(&o, why, sizeof(why));
	ck_assert_msg(ro != NULL, "%s", why);
	expect(ro, 3, 1, 0, 1, 0);
	ck_assert_int_eq(tokstore_learn(ro, dg(2), tok, 1, 1, 1, why,
					sizeof(why)), -1);
	ck_assert(strstr(why, "read-only") != NULL);
	tokstore_close(rw);
	tokstore_close(ro);
	/* read-only alone, in a fresh process's view: still reads */
	ro = tokstore_open(&o, why, sizeof(why));
	ck_assert_msg(ro != NULL, "%s", why);
	expect(ro, 3, 1, 0, 1, 0);
	tokstore_close(ro);
}
END_TEST

/* redis_cmd - one command on a direct connection to RG_REDIS */
static redisReply *
redis_cmd(const char *fmt, ...)
{
	const char *a = getenv("RG_REDIS");
	struct timeval tv = { 2, 0 };
	char host[200];
	redisContext *c;
	redisReply *r;
	va_list ap;

	if (strncmp(a, "unix:", 5) == 0) {
		c = redisConnectUnixWithTimeout(a + 5, tv);
	} else {
		snprintf(host, sizeof(host), "%s", a);
		*strrchr(host, ':') = '\0';
		c = redisConnectWithTimeout(host, atoi(strrchr(a, ':') + 1), tv);
	}
	ck_assert_msg(c != NULL && c->err == 0, "connect %s", a);
	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	ck_assert_msg(r != NULL, "command %s: %s", fmt, c->errstr);
	redisFree(c);
	return r;
}

/* redis_int - an integer reply's value */
static long long
redis_int(const char *fmt, const char *key)
{
	redisReply *r = redis_cmd(fmt, key);
	long long v;

	ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
	v = r->integer;
	freeReplyObject(r);
	return v;
}

/* token keys carry token_ttl; totals and digests no expiry */
START_TEST(test_redis_ttl)
{
	static const uint64_t tok[] = { 0xabcdef };
	struct tokstore *ts = store_open(NB_REDIS, "ttl");
	const char *p = redis_prefix("ttl");
	char key[300];
	long long ttl;
	int i;

	ck_assert_int_eq(learn(ts, 1, tok, 1, 1, 1), 0);
	snprintf(key, sizeof(key), "%st:0000000000abcdef", p);
	ttl = redis_int("TTL %s", key);
	ck_assert_msg(ttl > 3500 && ttl <= 3600, "TTL %lld", ttl);
	snprintf(key, sizeof(key), "%stotals", p);
	ck_assert_int_eq(redis_int("TTL %s", key), -1);
	snprintf(key, sizeof(key), "%sd:", p);
	for (i = 0; i < 32; i++)
		sprintf(key + strlen(key), "%02x", dg(1)[i]);
	ck_assert_int_eq(redis_int("TTL %s", key), -1);
	ck_assert_int_eq(redis_int("EXISTS %s", key), 1);
	tokstore_close(ts);
}
END_TEST

/* an address that is none of the forms; a server that is not there */
START_TEST(test_redis_bad)
{
	struct tokstore_opts o = store_opts(NB_REDIS, "bad");

	o.redis = "nowhere";
	open_fails(&o, "not unix:PATH or HOST:PORT");
	o.redis = "127.0.0.1:99999";
	open_fails(&o, "not unix:PATH or HOST:PORT");
	o.redis = "unix:/nonexistent/redis.sock";
	open_fails(&o, "connect");
}
END_TEST

/* near maxmemory with volatile-lru: learning goes on, totals stay */
START_TEST(test_redis_maxmemory)
{
	enum { NM = 300, NTOK = 500 };
	struct tokstore *ts = store_open(NB_REDIS, "maxmem");
	uint64_t tok[NTOK], x = 88172645463325252ULL;
	struct tokstore_counts c[NTOK];
	struct tokstore_totals t;
	redisReply *r;
	char why[256];
	int i, m;

	for (m = 0; m < NM; m++) {
		for (i = 0; i < NTOK; i++)
			tok[i] = xorshift(&x);
		ck_assert_int_eq(learn(ts, m, tok, NTOK, m & 1, 1), 0);
	}
	ck_assert_msg(tokstore_lookup(ts, tok, NTOK, c, &t, why,
				      sizeof(why)) == 0, "%s", why);
	ck_assert_msg(t.spam == NM / 2 && t.ham == NM / 2, "totals %llu/%llu",
		      (unsigned long long)t.spam, (unsigned long long)t.ham);
	r = redis_cmd("INFO stats");
	ck_assert(r->type == REDIS_REPLY_STRING);
	ck_assert_msg(strstr(r->str, "evicted_keys:0\r") == NULL,
		      "nothing was evicted: is maxmemory set?");
	fprintf(stderr, "tokstore redis maxmemory: %s\n",
		strstr(r->str, "evicted_keys:"));
	freeReplyObject(r);
	tokstore_close(ts);
}
END_TEST

/* a server that wants AUTH (RG_REDIS_PASSWORD): right, none, wrong */
START_TEST(test_redis_auth)
{
	static const uint64_t tok[] = { 12 };
	struct tokstore_opts o = store_opts(NB_REDIS, "auth");
	struct tokstore *ts;
	char why[256] = "";

	o.password = getenv("RG_REDIS_PASSWORD");
	ck_assert(o.password != NULL);
	ts = tokstore_open(&o, why, sizeof(why));
	ck_assert_msg(ts != NULL, "%s", why);
	ck_assert_int_eq(learn(ts, 1, tok, 1, 1, 1), 0);
	expect(ts, 12, 1, 0, 1, 0);
	tokstore_close(ts);
	o.password = NULL;
	open_fails(&o, "NOAUTH");
	o.password = "wrong";
	open_fails(&o, "AUTH");
	fprintf(stderr, "tokstore redis auth: %s\n", open_why);
	o.password = "wrong-and-secret";
	open_fails(&o, "AUTH");
	ck_assert_msg(strstr(open_why, "secret") == NULL,
		      "the password shows: %s", open_why);
}
END_TEST

/* run - a shell command of the test script (stop or start Redis) */
static void
run(const char *env)
{
	const char *cmd = getenv(env);

	ck_assert_msg(cmd != NULL, "%s not set", env);
	ck_assert_msg(system(cmd) == 0, "%s: %s failed", env, cmd);
}

/* Redis goes away mid-run: -1 within the timeout; back: works again */
START_TEST(test_redis_outage)
{
	static const uint64_t tok[] = { 9 };
	struct tokstore_opts o = store_opts(NB_REDIS, "outage");
	struct tokstore *ts = store_open(NB_REDIS, "outage");
	struct tokstore_counts c;
	struct tokstore_totals t;
	char why[256] = "";
	double t0, ms;
	int rc;

	ck_assert_int_eq(learn(ts, 1, tok, 1, 1, 1), 0);
	/* gone and back between two calls: the next call just works */
	run("RG_REDIS_STOP");
	run("RG_REDIS_START");
	ck_assert_msg(tokstore_lookup(ts, tok, 1, &c, &t, why,
				      sizeof(why)) == 0, "back: %s", why);
	ck_assert_int_eq(learn(ts, 1, tok, 1, 1, 1), c.spam ? 1 : 0);
	run("RG_REDIS_STOP");
	t0 = now_ms();
	rc = tokstore_lookup(ts, tok, 1, &c, &t, why, sizeof(why));
	ms = now_ms() - t0;
	ck_assert_int_eq(rc, -1);
	fprintf(stderr, "tokstore redis outage: lookup -1 in %.0f ms: %s\n",
		ms, why);
	ck_assert_msg(ms < 2 * REDIS_TIMEOUT + 300, "took %.0f ms", ms);
	t0 = now_ms();
	rc = tokstore_learn(ts, dg(2), tok, 1, 1, 1, why, sizeof(why));
	ms = now_ms() - t0;
	ck_assert_int_eq(rc, -1);
	ck_assert_msg(ms < 2 * REDIS_TIMEOUT + 300, "took %.0f ms", ms);
	t0 = now_ms();
	open_fails(&o, "redis");
	ck_assert_msg(now_ms() - t0 < 2 * REDIS_TIMEOUT + 300, "open took "
		      "%.0f ms", now_ms() - t0);
	run("RG_REDIS_START");
	ck_assert_msg(tokstore_lookup(ts, tok, 1, &c, &t, why,
				      sizeof(why)) == 0, "after: %s", why);
	ck_assert_int_eq(learn(ts, 3, tok, 1, 1, 1), 0);
	ck_assert(tokstore_lookup(ts, tok, 1, &c, &t, why, sizeof(why)) == 0);
	ck_assert(c.spam >= 1 && t.spam >= 1);
	tokstore_close(ts);
}
END_TEST

/* speed_run - lookups of 500 tokens and learns per second on backend b */
static void
speed_run(int b)
{
	enum { NTOK = 500, NPOOL = 20000 };
	struct tokstore *ts = store_open(b, "speed");
	struct tokstore_counts c[NTOK];
	struct tokstore_totals t;
	uint64_t *pool = malloc(NPOOL * sizeof(*pool)), tok[NTOK];
	uint64_t x = 0x2545f4914f6cdd1dULL;
	double t0, lookups, learns;
	char why[256] = "";
	int i, n;

	for (i = 0; i < NPOOL; i++)
		pool[i] = xorshift(&x);
	/* learns: 500 tokens drawn from a vocabulary of 20,000 */
	t0 = now_ms();
	for (n = 0; now_ms() - t0 < 700 || n < 5; n++) {
		for (i = 0; i < NTOK; i++)
			tok[i] = pool[(n * 7919 + i * 31) % NPOOL];
		ck_assert_int_eq(learn(ts, n, tok, NTOK, n & 1, 1), 0);
	}
	learns = n / ((now_ms() - t0) / 1000);
	t0 = now_ms();
	for (n = 0; now_ms() - t0 < 700 || n < 5; n++) {
		for (i = 0; i < NTOK; i++)
			tok[i] = pool[(n * 104729 + i * 37) % NPOOL];
		ck_assert_msg(tokstore_lookup(ts, tok, NTOK, c, &t, why,
					      sizeof(why)) == 0, "%s", why);
	}
	lookups = n / ((now_ms() - t0) / 1000);
	fprintf(stderr, "tokstore speed %s: %.0f lookups/s of %d tokens "
		"(%.0f tokens/s), %.0f learns/s of %d tokens\n",
		b == NB_LMDB ? "lmdb" : getenv("RG_REDIS"), lookups, NTOK,
		lookups * NTOK, learns, NTOK);
	free(pool);
	tokstore_close(ts);
}

START_TEST(test_speed)
{
	speed_run(_i);
}
END_TEST

/* sem_tests - the tests both backends run */
static void
sem_tests(TCase *tc, int b)
{
	tcase_add_loop_test(tc, test_learn_cycle, b, b + 1);
	tcase_add_loop_test(tc, test_never_negative, b, b + 1);
	tcase_add_loop_test(tc, test_duplicates_totals, b, b + 1);
	tcase_add_loop_test(tc, test_many, b, b + 1);
	tcase_add_loop_test(tc, test_batch, b, b + 1);
	tcase_add_loop_test(tc, test_two_handles, b, b + 1);
	tcase_add_loop_test(tc, test_threads, b, b + 1);
}

Suite *
tokstore_suite(void)
{
	Suite *s = suite_create("tokstore");
	const char *phase = getenv("RG_REDIS_PHASE");
	int redis = getenv("RG_REDIS") != NULL;
	TCase *tc = tcase_create("lmdb");

	sem_tests(tc, NB_LMDB);
	tcase_add_test(tc, test_fork);
	tcase_add_test(tc, test_fork_misuse);
	tcase_add_test(tc, test_corrupt);
	tcase_add_test(tc, test_unwritable);
	tcase_add_test(tc, test_map_full);
	tcase_add_test(tc, test_map_full_batch);
	tcase_add_test(tc, test_readonly);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	if (redis) {
		/* hiredis writes with write(2): a server gone is SIGPIPE */
		signal(SIGPIPE, SIG_IGN);
		tc = tcase_create(phase ? phase : "redis");
		if (phase != NULL && strcmp(phase, "maxmemory") == 0) {
			tcase_add_test(tc, test_redis_maxmemory);
		} else if (phase != NULL && strcmp(phase, "auth") == 0) {
			tcase_add_test(tc, test_redis_auth);
		} else if (phase != NULL && strcmp(phase, "outage") == 0) {
			tcase_add_test(tc, test_redis_outage);
		} else {
			sem_tests(tc, NB_REDIS);
			tcase_add_test(tc, test_redis_ttl);
			tcase_add_test(tc, test_redis_bad);
		}
		tcase_set_timeout(tc, 120);
		suite_add_tcase(s, tc);
	}
	tc = tcase_create("speed");
	tcase_add_loop_test(tc, test_speed, NB_LMDB, redis ? 2 : 1);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}
