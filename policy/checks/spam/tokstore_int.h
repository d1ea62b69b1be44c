/*
 * tokstore_int - what tokstore.c shares with its backends
 * (tokstore_lmdb.c, tokstore_redis.c); not for the callers.
 *
 * A backend's handle begins with struct tokstore, whose ops the dispatch
 * in tokstore.c calls.  tokstore.c checks the arguments, defaults the
 * options and removes duplicate tokens before a learn, so a backend sees
 * distinct tokens only and a valid sign.
 */
#ifndef RG_TOKSTORE_INT_H
#define RG_TOKSTORE_INT_H

#include <stdarg.h>

#include "tokstore.h"

/* the class letters of the digest records (both backends) */
#define TOKSTORE_CLASS_SPAM	'S'
#define TOKSTORE_CLASS_HAM	'H'

struct tokstore_ops {
	int	(*lookup)(struct tokstore *, const uint64_t *, size_t,
			  struct tokstore_counts *, struct tokstore_totals *,
			  char *, size_t);
	int	(*learn)(struct tokstore *, const unsigned char *,
			 const uint64_t *, size_t, int, int, char *, size_t);
	/* NULL: tokstore_learn_many calls learn for each item */
	int	(*learn_many)(struct tokstore *, struct tokstore_item *,
			      size_t, char *, size_t);
	void	(*close)(struct tokstore *);
};

struct tokstore {
	const struct tokstore_ops *ops;
	int		readonly;
};

struct tokstore *tokstore_lmdb_open(const struct tokstore_opts *, char *,
				    size_t);
struct tokstore *tokstore_redis_open(const struct tokstore_opts *, char *,
				     size_t);

/* tokstore_why - format why (never NULL-checked by callers); returns -1 */
int tokstore_why(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* tokstore_add - a count plus delta (-1, 0, +1), kept in 0 .. UINT32_MAX */
uint32_t tokstore_add(uint32_t count, int delta);
/*
 * tokstore_deltas - what a learn does to each token of the message, from
 * the class already recorded for its digest (0: none) and the request:
 * 1 when there is nothing to do, else 0 with the deltas of the spam and
 * the ham counts (and totals) set and *record the class to record (0:
 * delete the record).
 */
int tokstore_deltas(int recorded, int is_spam, int sign, int *dspam,
		    int *dham, int *record);

#endif
