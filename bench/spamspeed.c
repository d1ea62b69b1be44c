/*
 * bench/spamspeed - the spam engine's classification speed in process,
 * for scripts/bench --spam-speed (never installed).
 *
 *   bench/spamspeed -c CONF [-v] [-r ROUNDS] FILE|DIR...
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

#include "bayes.h"
#include "conf.h"
#include "mime.h"
#include "spool.h"
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
	int verbose = 0, rounds = 1, ch;
	char err[512];
	struct conf *c;
	struct tokstore_opts o;
	struct tokstore *ts;
	struct mime_limits lim;
	struct bayes_params bp;
	double t_walk = 0, t_tok = 0, t_look = 0, t_cls = 0, t0, t1, c0, c1;
	size_t bytes = 0, ntok = 0, nspam = 0, nham = 0, nneutral = 0, ntag = 0;

	while ((ch = getopt(argc, argv, "c:r:v")) != -1) {
		switch (ch) {
		case 'c': confpath = optarg; break;
		case 'r': rounds = atoi(optarg); break;
		case 'v': verbose = 1; break;
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
	/* as spam.c's spam_store() opens it for the daemon (read only) */
	memset(&o, 0, sizeof(o));
	o.backend = (enum tokstore_backend)c->bayes_backend;
	o.path = c->bayes_store;
	o.redis = c->redis_server;
	o.prefix = c->bayes_redis_prefix;
	o.password = *c->redis_password ? c->redis_password : NULL;
	o.timeout_ms = c->redis_timeout;
	o.token_ttl = (long)c->bayes_token_ttl_days * 86400;
	o.readonly = 1;
	if ((ts = tokstore_open(&o, err, sizeof(err))) == NULL) {
		fprintf(stderr, "spamspeed: token store: %s\n", err);
		return 1;
	}
	/* as spam.c's spam_limits() and spam_params() */
	mime_limits_default(&lim);
	lim.max_depth = c->mime_max_depth;
	lim.max_parts = c->mime_max_parts;
	lim.max_text = (size_t)c->mime_max_text;
	lim.max_links = (size_t)c->mime_max_links;
	bayes_params_default(&bp);
	bp.robs = c->bayes_robs;
	bp.robx = c->bayes_robx;
	bp.min_dev = c->bayes_min_dev;
	bp.min_spam = (unsigned)c->bayes_min_spam;
	bp.min_ham = (unsigned)c->bayes_min_ham;

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
	conf_unref(c);
	return 0;
usage:
	fprintf(stderr, "usage: bench/spamspeed -c CONF [-v] [-r ROUNDS] "
		"FILE|DIR...\n");
	return 2;
}
