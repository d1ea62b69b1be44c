/*
 * bench/spamspeed - the spam engine's classification speed in process,
 * for scripts/bench --spam-speed (never installed).
 *
 *   bench/spamspeed -c CONF [-l] [-v] [-x] [-r ROUNDS] FILE|DIR...
 *
 * Loads CONF as the daemon does (conf_load), opens its token store read
 * only as the daemon does (bayes_backend, bayes_store / redis_server), reads
 * every file (a directory: the files in it, sorted; one file a message)
 * into memory first, then classifies each message with the functions
 * spam_eom() uses: mime_walk (GMime) with CONF's MIME limits,
 * tokens_from_doc (words, OSB pairs, ICU case folding) with
 * bayes_max_tokens, tokstore_lookup (one read transaction) and
 * bayes_classify (Robinson-Fisher) with CONF's parameters.  What
 * spam_eom() adds on top (the header and MIME rules, the thresholds,
 * the X-Spam fields) is a few string compares and is not here: there is
 * no public entry for it without a transaction (see DESIGN-NOTES.md,
 * "Spam engine: what it costs").
 *
 * Each phase is timed apart (CLOCK_MONOTONIC around each call) and the
 * process's CPU time (getrusage) over the whole loop.  -r ROUNDS
 * classifies the set that many times (the first round warms the page
 * cache and LMDB's map; the figures are of all rounds).  -v prints one
 * line a message: PATH PROB USED BAYES_WEIGHT_FACTOR.
 *
 * Output, one "key value" a line, for the bench to read:
 *   messages N, bytes B, rounds R, seconds S, msgs_per_s X, cpu_us_per_msg C,
 *   walk_us W, tokens_us T, lookup_us L, classify_us K (per message),
 *   tokens_per_msg N, bayes_spam N (p >= 0.5), bayes_ham N, neutral N,
 *   bayes_tag N (p >= 0.955: Bayes alone reaches spam_tag_score 5 with
 *   the default weight 5.5)
 *
 * -x: experiments for suggested changes, on the same messages (after the
 * loop above, not in its figures): the lookup with one LMDB cursor
 * (MDB_SET_KEY on the sorted tokens, so most keys are found on the leaf
 * page of the one before) against mdb_get per token as tokstore_lmdb.c
 * does (the counts must agree), and the sort of each message's tokens by
 * glibc's qsort with a callback (what tokens.c does) against an LSD radix
 * sort, on the tokens shuffled; and mdb_get on a copy of the tokens with
 * MDB_INTEGERKEY (native uint64 keys, compared as integers, not by
 * memcmp), in a directory of $TMPDIR (/tmp) removed after; per message:
 *   x_get_us, x_cursor_us, x_intkey_us, x_qsort_us, x_radix_us
 * -l: a learning experiment instead of the classification: the messages'
 * tokens (mime_walk, tokens_from_doc) added to a new LMDB store (in
 * $TMPDIR, removed after) as tokstore_lmdb.c adds them (mdb_get and
 * mdb_put of the 8-byte big-endian key's two counts; no digest), with a
 * commit after every message (synced, as relayguard learn), after every
 * message with MDB_NOSYNC, and one commit every 100 messages (synced);
 * msg/s of each, walk and tokens included:
 *   l_sync1_msgs_per_s, l_nosync1_msgs_per_s, l_batch100_msgs_per_s
 * Exit: 0, 1 when a file could not be read or the store not opened, 2
 * usage or configuration.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/resource.h>
#include <sys/stat.h>

#include <lmdb.h>

#include "bayes.h"
#include "conf.h"
#include "mime.h"
#include "spool.h"
#include "spam.h"
#include "tokens.h"
#include "tokstore.h"
#include "util.h"

struct msg {
	char		*path;
	unsigned char	*data;
	size_t		len;
};

static struct msg *msgs;
static size_t nmsgs, capmsgs;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
cpu_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int
add_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	struct stat st;
	struct msg *m;

	if (fp == NULL || fstat(fileno(fp), &st) != 0) {
		fprintf(stderr, "spamspeed: %s: %s\n", path, strerror(errno));
		if (fp)
			fclose(fp);
		return -1;
	}
	if (nmsgs == capmsgs) {
		capmsgs = capmsgs ? capmsgs * 2 : 256;
		msgs = realloc(msgs, capmsgs * sizeof(*msgs));
		if (msgs == NULL)
			abort();
	}
	m = &msgs[nmsgs++];
	m->path = strdup(path);
	m->len = (size_t)st.st_size;
	m->data = malloc(m->len ? m->len : 1);
	if (m->path == NULL || m->data == NULL)
		abort();
	if (m->len && fread(m->data, 1, m->len, fp) != m->len) {
		fprintf(stderr, "spamspeed: %s: short read\n", path);
		fclose(fp);
		return -1;
	}
	fclose(fp);
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* radix_u64 - LSD radix sort, 8 passes of a byte, tmp of n */
static void
radix_u64(uint64_t *v, uint64_t *tmp, size_t n)
{
	for (int sh = 0; sh < 64; sh += 8) {
		size_t cnt[257] = { 0 };

		for (size_t i = 0; i < n; i++)
			cnt[((v[i] >> sh) & 0xff) + 1]++;
		for (int b = 0; b < 256; b++)
			cnt[b + 1] += cnt[b];
		for (size_t i = 0; i < n; i++)
			tmp[cnt[(v[i] >> sh) & 0xff]++] = v[i];
		memcpy(v, tmp, n * sizeof(*v));
	}
}

/* rm_store - remove a temporary LMDB directory of ours */
static void
rm_store(const char *dir)
{
	char f[4200];

	snprintf(f, sizeof(f), "%s/data.mdb", dir);
	unlink(f);
	snprintf(f, sizeof(f), "%s/lock.mdb", dir);
	unlink(f);
	rmdir(dir);
}

static void
key_be(uint64_t tok, unsigned char k[8])
{
	for (int i = 7; i >= 0; i--) {
		k[i] = tok & 0xff;
		tok >>= 8;
	}
}

/*
 * experiments - -x: see the top; the tokens of every message again, then
 * the two lookups and the two sorts
 */
static int
experiments(const struct conf *c, const struct mime_limits *lim)
{
	MDB_env *env, *env2;
	MDB_txn *txn, *txn2;
	MDB_dbi dbi, dbi2;
	MDB_cursor *cur;
	MDB_val ck, cv;
	double t_get = 0, t_cur = 0, t_int = 0, t_q = 0, t_r = 0, a;
	unsigned long long sum_get = 0, sum_cur = 0, sum_int = 0;
	char dir[4096];
	const char *tmpdir = getenv("TMPDIR");
	int rc;

	if ((rc = mdb_env_create(&env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(env, 3)) != 0 ||
	    (rc = mdb_env_open(env, c->bayes_store, MDB_RDONLY | MDB_NOTLS,
			       0600)) != 0 ||
	    (rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0 ||
	    (rc = mdb_dbi_open(txn, "tokens", 0, &dbi)) != 0) {
		fprintf(stderr, "spamspeed -x: lmdb %s: %s\n", c->bayes_store,
			mdb_strerror(rc));
		return -1;
	}
	/* commit, not abort: an aborted transaction closes the handle */
	mdb_txn_commit(txn);
	/* the copy with integer keys */
	snprintf(dir, sizeof(dir), "%s/spamspeed.XXXXXX", tmpdir && *tmpdir ? tmpdir :
		 "/tmp");
	if (mkdtemp(dir) == NULL || (rc = mdb_env_create(&env2)) != 0 ||
	    (rc = mdb_env_set_maxdbs(env2, 1)) != 0 ||
	    (rc = mdb_env_set_mapsize(env2, (size_t)1 << 30)) != 0 ||
	    (rc = mdb_env_open(env2, dir, MDB_NOSYNC, 0600)) != 0 ||
	    (rc = mdb_txn_begin(env2, NULL, 0, &txn2)) != 0 ||
	    (rc = mdb_dbi_open(txn2, "tokens", MDB_CREATE | MDB_INTEGERKEY,
			       &dbi2)) != 0) {
		fprintf(stderr, "spamspeed -x: %s: %s\n", dir, mdb_strerror(rc));
		return -1;
	}
	mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
	mdb_cursor_open(txn, dbi, &cur);
	while (mdb_cursor_get(cur, &ck, &cv, MDB_NEXT) == 0) {
		uint64_t t = 0;
		MDB_val k2 = { 8, &t };

		for (int b = 0; b < 8; b++)
			t = t << 8 | ((unsigned char *)ck.mv_data)[b];
		if ((rc = mdb_put(txn2, dbi2, &k2, &cv, MDB_APPEND)) != 0) {
			fprintf(stderr, "spamspeed -x: copy: %s\n",
				mdb_strerror(rc));
			return -1;
		}
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	mdb_txn_commit(txn2);
	srand(1);
	for (size_t i = 0; i < nmsgs; i++) {
		struct spool_view v = { msgs[i].data, -1, msgs[i].len };
		struct mime_doc doc;
		struct tokens tok;
		unsigned char kb[8];
		MDB_val k = { 8, kb }, val;
		uint64_t *x, *y, *tmp;

		mime_walk(&v, lim, &doc);
		tokens_init(&tok, (size_t)c->bayes_max_tokens);
		tokens_from_doc(&tok, &doc);
		mime_doc_free(&doc);
		/* mdb_get per token, one read transaction */
		a = now();
		mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
		for (size_t j = 0; j < tok.n; j++) {
			key_be(tok.v[j], kb);
			if (mdb_get(txn, dbi, &k, &val) == 0)
				sum_get += ((uint32_t *)val.mv_data)[0] +
				    ((uint32_t *)val.mv_data)[1];
		}
		mdb_txn_abort(txn);
		t_get += now() - a;
		/* one cursor, MDB_SET_KEY in key order */
		a = now();
		mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
		mdb_cursor_open(txn, dbi, &cur);
		for (size_t j = 0; j < tok.n; j++) {
			key_be(tok.v[j], kb);
			k.mv_size = 8;	/* MDB_SET_KEY points k at the map */
			k.mv_data = kb;
			if (mdb_cursor_get(cur, &k, &val, MDB_SET_KEY) == 0)
				sum_cur += ((uint32_t *)val.mv_data)[0] +
				    ((uint32_t *)val.mv_data)[1];
		}
		mdb_cursor_close(cur);
		mdb_txn_abort(txn);
		t_cur += now() - a;
		/* mdb_get with integer keys */
		a = now();
		mdb_txn_begin(env2, NULL, MDB_RDONLY, &txn2);
		for (size_t j = 0; j < tok.n; j++) {
			uint64_t t = tok.v[j];
			MDB_val k2 = { 8, &t };

			if (mdb_get(txn2, dbi2, &k2, &val) == 0)
				sum_int += ((uint32_t *)val.mv_data)[0] +
				    ((uint32_t *)val.mv_data)[1];
		}
		mdb_txn_abort(txn2);
		t_int += now() - a;
		/* the sorts, on the same tokens shuffled */
		x = xcalloc(tok.n + 1, sizeof(*x));
		y = xcalloc(tok.n + 1, sizeof(*y));
		tmp = xcalloc(tok.n + 1, sizeof(*tmp));
		memcpy(x, tok.v, tok.n * sizeof(*x));
		for (size_t j = tok.n; j > 1; j--) {
			size_t r = (size_t)rand() % j;
			uint64_t t = x[j - 1];

			x[j - 1] = x[r];
			x[r] = t;
		}
		memcpy(y, x, tok.n * sizeof(*y));
		a = now();
		qsort(x, tok.n, sizeof(*x), cmp_u64);
		t_q += now() - a;
		a = now();
		radix_u64(y, tmp, tok.n);
		t_r += now() - a;
		if (memcmp(x, y, tok.n * sizeof(*x)) != 0 ||
		    memcmp(x, tok.v, tok.n * sizeof(*x)) != 0) {
			fprintf(stderr, "spamspeed -x: the sorts differ\n");
			return -1;
		}
		free(x);
		free(y);
		free(tmp);
		tokens_free(&tok);
	}
	mdb_env_close(env);
	mdb_env_close(env2);
	rm_store(dir);
	if (sum_get != sum_cur || sum_get != sum_int) {
		fprintf(stderr, "spamspeed -x: the lookups differ (%llu, %llu, "
			"%llu)\n", sum_get, sum_cur, sum_int);
		return -1;
	}
	printf("x_get_us %.1f\nx_cursor_us %.1f\nx_intkey_us %.1f\n"
	       "x_qsort_us %.1f\nx_radix_us %.1f\n",
	       t_get * 1e6 / (double)nmsgs, t_cur * 1e6 / (double)nmsgs,
	       t_int * 1e6 / (double)nmsgs, t_q * 1e6 / (double)nmsgs,
	       t_r * 1e6 / (double)nmsgs);
	return 0;
}

/* learn_run - -l: one way of committing; msg/s, -1 on error */
static double
learn_run(const struct conf *c, const struct mime_limits *lim, int nosync,
	  size_t batch)
{
	char dir[4096];
	const char *tmpdir = getenv("TMPDIR");
	MDB_env *env;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	double a, b;
	int rc;

	snprintf(dir, sizeof(dir), "%s/spamspeed.XXXXXX", tmpdir && *tmpdir ?
		 tmpdir : "/tmp");
	if (mkdtemp(dir) == NULL || (rc = mdb_env_create(&env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(env, 3)) != 0 ||
	    (rc = mdb_env_set_mapsize(env, (size_t)256 << 20)) != 0 ||
	    (rc = mdb_env_open(env, dir, MDB_NOTLS | (nosync ? MDB_NOSYNC : 0),
			       0600)) != 0) {
		fprintf(stderr, "spamspeed -l: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	mdb_txn_begin(env, NULL, 0, &txn);
	mdb_dbi_open(txn, "tokens", MDB_CREATE, &dbi);
	mdb_txn_commit(txn);
	txn = NULL;
	a = now();
	for (size_t i = 0; i < nmsgs; i++) {
		struct spool_view v = { msgs[i].data, -1, msgs[i].len };
		struct mime_doc doc;
		struct tokens tok;

		mime_walk(&v, lim, &doc);
		tokens_init(&tok, (size_t)c->bayes_max_tokens);
		tokens_from_doc(&tok, &doc);
		mime_doc_free(&doc);
		if (txn == NULL && (rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
			break;
		for (size_t j = 0; j < tok.n && rc == 0; j++) {
			unsigned char kb[8];
			MDB_val k = { 8, kb }, val;
			uint32_t two[2] = { 0, 0 };

			key_be(tok.v[j], kb);
			if (mdb_get(txn, dbi, &k, &val) == 0)
				memcpy(two, val.mv_data, sizeof(two));
			two[0]++;
			val.mv_size = sizeof(two);
			val.mv_data = two;
			rc = mdb_put(txn, dbi, &k, &val, 0);
		}
		tokens_free(&tok);
		if (rc != 0)
			break;
		if ((i + 1) % batch == 0 || i + 1 == nmsgs) {
			if ((rc = mdb_txn_commit(txn)) != 0)
				break;
			txn = NULL;
		}
	}
	if (txn)
		mdb_txn_abort(txn);
	if (nosync && rc == 0)
		mdb_env_sync(env, 1);
	b = now();
	mdb_env_close(env);
	rm_store(dir);
	if (rc != 0) {
		fprintf(stderr, "spamspeed -l: %s\n", mdb_strerror(rc));
		return -1;
	}
	return (double)nmsgs / (b - a);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
add_path(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "spamspeed: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return add_file(path);
	if ((d = opendir(path)) == NULL) {
		fprintf(stderr, "spamspeed: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		char *p;

		if (e->d_name[0] == '.')
			continue;
		if (asprintf(&p, "%s/%s", path, e->d_name) < 0)
			abort();
		if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
			free(p);
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			names = realloc(names, cap * sizeof(*names));
			if (names == NULL)
				abort();
		}
		names[n++] = p;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (add_file(names[i]) != 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *confpath = NULL;
	int verbose = 0, rounds = 1, exper = 0, learn = 0, ch;
	char err[512];
	struct conf *c;
	struct tokstore_opts o;
	struct tokstore *ts;
	struct mime_limits lim;
	struct bayes_params bp;
	double t_walk = 0, t_tok = 0, t_look = 0, t_cls = 0, t0, t1, c0, c1;
	size_t bytes = 0, ntok = 0, nspam = 0, nham = 0, nneutral = 0, ntag = 0;

	while ((ch = getopt(argc, argv, "c:lr:vx")) != -1) {
		switch (ch) {
		case 'c': confpath = optarg; break;
		case 'r': rounds = atoi(optarg); break;
		case 'v': verbose = 1; break;
		case 'x': exper = 1; break;
		case 'l': learn = 1; break;
		default: goto usage;
		}
	}
	if (confpath == NULL || optind >= argc || rounds < 1)
		goto usage;
	if ((c = conf_load(confpath, err, sizeof(err))) == NULL) {
		fprintf(stderr, "spamspeed: %s\n", err);
		return 2;
	}
	for (int i = optind; i < argc; i++)
		if (add_path(argv[i]) != 0)
			return 1;
	if (nmsgs == 0) {
		fprintf(stderr, "spamspeed: no message\n");
		return 1;
	}
	mime_global_init();
	/* as the daemon opens it (read only) */
	spam_store_opts(c, 0, &o);
	if ((ts = tokstore_open(&o, err, sizeof(err))) == NULL) {
		fprintf(stderr, "spamspeed: token store: %s\n", err);
		return 1;
	}
	spam_limits(c, &lim);
	spam_params(c, &bp);
	if (learn) {
		double r1 = learn_run(c, &lim, 0, 1);
		double r2 = learn_run(c, &lim, 1, 1);
		double r3 = learn_run(c, &lim, 0, 100);

		if (r1 < 0 || r2 < 0 || r3 < 0)
			return 1;
		printf("messages %zu\nl_sync1_msgs_per_s %.0f\n"
		       "l_nosync1_msgs_per_s %.0f\nl_batch100_msgs_per_s %.0f\n",
		       nmsgs, r1, r2, r3);
		tokstore_close(ts);
		conf_unref(c);
		return 0;
	}

	c0 = cpu_now();
	t0 = now();
	for (int r = 0; r < rounds; r++) {
		for (size_t i = 0; i < nmsgs; i++) {
			struct spool_view v = { msgs[i].data, -1, msgs[i].len };
			struct tokstore_counts *counts;
			struct tokstore_totals tot;
			struct bayes_result res;
			struct mime_doc doc;
			struct tokens tok;
			double a, b, d, e, f;

			a = now();
			mime_walk(&v, &lim, &doc);
			b = now();
			tokens_init(&tok, (size_t)c->bayes_max_tokens);
			tokens_from_doc(&tok, &doc);
			d = now();
			counts = xcalloc(tok.n ? tok.n : 1, sizeof(*counts));
			if (tokstore_lookup(ts, tok.v, tok.n, counts, &tot, err,
					    sizeof(err)) != 0) {
				fprintf(stderr, "spamspeed: lookup: %s\n", err);
				return 1;
			}
			e = now();
			bayes_classify(&bp, counts, tok.n, &tot, &res);
			f = now();
			free(counts);
			t_walk += b - a;
			t_tok += d - b;
			t_look += e - d;
			t_cls += f - e;
			if (r == 0) {
				bytes += msgs[i].len;
				ntok += tok.n;
				if (res.neutral)
					nneutral++;
				else if (res.prob >= 0.5)
					nspam++;
				else
					nham++;
				if (!res.neutral && res.prob >= 0.955)
					ntag++;
				if (verbose)
					printf("%s %.6f %zu\n", msgs[i].path,
					       res.neutral ? 0.5 : res.prob,
					       res.used);
			}
			tokens_free(&tok);
			mime_doc_free(&doc);
		}
	}
	t1 = now();
	c1 = cpu_now();
	{
		double n = (double)nmsgs * rounds;

		printf("messages %zu\nbytes %zu\nrounds %d\nseconds %.4f\n"
		       "msgs_per_s %.1f\ncpu_us_per_msg %.1f\n"
		       "walk_us %.1f\ntokens_us %.1f\nlookup_us %.1f\n"
		       "classify_us %.1f\ntokens_per_msg %.0f\n"
		       "bayes_spam %zu\nbayes_ham %zu\nneutral %zu\n"
		       "bayes_tag %zu\n", nmsgs, bytes, rounds, t1 - t0,
		       n / (t1 - t0), (c1 - c0) * 1e6 / n, t_walk * 1e6 / n,
		       t_tok * 1e6 / n, t_look * 1e6 / n, t_cls * 1e6 / n,
		       (double)ntok / (double)nmsgs, nspam, nham, nneutral,
		       ntag);
	}
	tokstore_close(ts);
	if (exper && experiments(c, &lim) != 0)
		return 1;
	conf_unref(c);
	return 0;
usage:
	fprintf(stderr, "usage: bench/spamspeed -c CONF [-l] [-v] [-x] [-r ROUNDS] "
		"FILE|DIR...\n");
	return 2;
}
