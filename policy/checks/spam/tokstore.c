/*
 * tokstore - the Bayes token store: the dispatch to the backends and what
 * they share (see tokstore.h).
 *
 * tokstore_open picks the backend; every call then goes through the
 * handle's ops.  Here, once for both backends: the arguments are checked,
 * a learn's tokens are sorted and made distinct (a token counted twice in
 * one message would count twice in the store, and Redis scripts would
 * touch one key twice), and the learn rules (learned already, moved,
 * forgotten) are decided by tokstore_deltas, so both backends agree.
 *
 * Diagnostics: none logged; -1 or NULL with why.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokstore_int.h"
#include "util.h"

/* tokstore_why - format why; returns -1 for the callers' returns */
int
tokstore_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* tokstore_add - count plus delta, kept in 0 .. UINT32_MAX */
uint32_t
tokstore_add(uint32_t count, int delta)
{
	if (delta < 0)
		return count == 0 ? 0 : count - 1;
	if (delta > 0)
		return count == UINT32_MAX ? count : count + 1;
	return count;
}

/* tokstore_deltas - the learn rules of tokstore.h, for both backends */
int
tokstore_deltas(int recorded, int is_spam, int sign, int *dspam, int *dham,
		int *record)
{
	int want = is_spam ? TOKSTORE_CLASS_SPAM : TOKSTORE_CLASS_HAM;

	*dspam = *dham = 0;
	if (sign > 0) {
		if (recorded == want)
			return 1;
		if (recorded == TOKSTORE_CLASS_SPAM)
			*dspam = -1;
		else if (recorded == TOKSTORE_CLASS_HAM)
			*dham = -1;
		if (is_spam)
			*dspam += 1;
		else
			*dham += 1;
		*record = want;
		return 0;
	}
	/* forget what was learned, whichever class it was learned as */
	if (recorded == TOKSTORE_CLASS_SPAM)
		*dspam = -1;
	else if (recorded == TOKSTORE_CLASS_HAM)
		*dham = -1;
	else
		return 1;
	*record = 0;
	return 0;
}

/* tokstore_open - the backend the options name */
struct tokstore *
tokstore_open(const struct tokstore_opts *opts, char *why, size_t whylen)
{
	struct tokstore *ts;

	if (opts == NULL) {
		tokstore_why(why, whylen, "tokstore: no options");
		return NULL;
	}
	switch (opts->backend) {
	case TOKSTORE_LMDB:
		ts = tokstore_lmdb_open(opts, why, whylen);
		break;
	case TOKSTORE_REDIS:
		ts = tokstore_redis_open(opts, why, whylen);
		break;
	default:
		tokstore_why(why, whylen, "tokstore: unknown backend %d",
			     (int)opts->backend);
		return NULL;
	}
	if (ts != NULL)
		ts->readonly = opts->readonly;
	return ts;
}

/* tokstore_close - close the handle; NULL is allowed */
void
tokstore_close(struct tokstore *ts)
{
	if (ts != NULL)
		ts->ops->close(ts);
}

/* tokstore_lookup - counts and totals (see tokstore.h) */
int
tokstore_lookup(struct tokstore *ts, const uint64_t *tokens, size_t n,
		struct tokstore_counts *counts, struct tokstore_totals *totals,
		char *why, size_t whylen)
{
	if (ts == NULL || (n > 0 && (tokens == NULL || counts == NULL)) ||
	    totals == NULL)
		return tokstore_why(why, whylen, "tokstore_lookup: bad arguments");
	memset(totals, 0, sizeof(*totals));
	if (n > 0)
		memset(counts, 0, n * sizeof(*counts));
	return ts->ops->lookup(ts, tokens, n, counts, totals, why, whylen);
}

/* tokstore_learn - learn or forget one message (see tokstore.h) */
int
tokstore_learn(struct tokstore *ts, const unsigned char digest[32],
	       const uint64_t *tokens, size_t n, int is_spam, int sign,
	       char *why, size_t whylen)
{
	uint64_t *uniq = NULL;
	size_t m = 0;
	int rc;

	if (ts == NULL || digest == NULL || (n > 0 && tokens == NULL) ||
	    (sign != 1 && sign != -1))
		return tokstore_why(why, whylen, "tokstore_learn: bad arguments");
	if (ts->readonly)
		return tokstore_why(why, whylen,
				    "tokstore_learn: the store is open read-only");
	if (n > 0) {
		/* sorted too: LMDB then writes its pages in key order */
		uniq = xmalloc(n * sizeof(*uniq));
		memcpy(uniq, tokens, n * sizeof(*uniq));
		m = util_sort_unique_u64(uniq, n);
	}
	rc = ts->ops->learn(ts, digest, uniq, m, is_spam != 0, sign, why,
			    whylen);
	free(uniq);
	return rc;
}

/* tokstore_learn_many - many learns (see tokstore.h) */
int
tokstore_learn_many(struct tokstore *ts, struct tokstore_item *items,
		    size_t n, char *why, size_t whylen)
{
	int rc = 0;

	if (ts == NULL || (n > 0 && items == NULL))
		return tokstore_why(why, whylen,
				    "tokstore_learn_many: bad arguments");
	if (ts->readonly)
		return tokstore_why(why, whylen,
				    "tokstore_learn: the store is open read-only");
	for (size_t i = 0; i < n; i++) {
		struct tokstore_item *it = &items[i];

		if ((it->n > 0 && it->tokens == NULL) ||
		    (it->sign != 1 && it->sign != -1))
			return tokstore_why(why, whylen,
					    "tokstore_learn_many: bad arguments");
		it->n = util_sort_unique_u64(it->tokens, it->n);
		it->is_spam = it->is_spam != 0;
		it->rc = -1;
	}
	if (ts->ops->learn_many != NULL)
		return ts->ops->learn_many(ts, items, n, why, whylen);
	for (size_t i = 0; i < n; i++) {
		char w[512];
		struct tokstore_item *it = &items[i];

		it->rc = ts->ops->learn(ts, it->digest, it->tokens, it->n,
					it->is_spam, it->sign, w, sizeof(w));
		if (it->rc < 0 && rc == 0)
			rc = tokstore_why(why, whylen, "%s", w);
	}
	return rc;
}
