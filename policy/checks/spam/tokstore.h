/*
 * tokstore - where the Bayes classifier keeps what it learned: per token
 * (a 64-bit hash of a word or word pair) the number of spam and ham
 * messages it was seen in, the totals, and the digests of the messages
 * learned (so each is learned once, and --forget can undo it).
 *
 * Two backends behind one interface:
 *   lmdb   embedded (bayes_store = PATH, a directory): memory-mapped, one
 *          writer and many readers, safe across processes (relayguard
 *          learn beside the daemon)
 *   redis  shared by every node (bayes_backend = redis, redis_server =
 *          unix:PATH | HOST:PORT, bayes_redis_prefix): hiredis, each call
 *          within a timeout; tokens expire (bayes_token_ttl) so the store
 *          keeps working when Redis is near its memory limit
 *          (volatile-* eviction can drop tokens, never the totals)
 * A store that cannot be reached returns -1 with why; the caller decides
 * (spam_error_action).  Thread-safe: one handle serves every thread.
 * Open it in the process that uses it (after the daemon detaches: LMDB
 * forbids using an environment across fork(), and a handle so used
 * fails with why); with redis the process must ignore SIGPIPE.
 */
#ifndef RG_TOKSTORE_H
#define RG_TOKSTORE_H

#include <stddef.h>
#include <stdint.h>

struct tokstore;

struct tokstore_counts {
	uint32_t	spam, ham;	/* messages the token was seen in */
};

struct tokstore_totals {
	uint64_t	spam, ham;	/* messages learned */
};

enum tokstore_backend { TOKSTORE_LMDB, TOKSTORE_REDIS };

struct tokstore_opts {
	enum tokstore_backend backend;
	const char	*path;		/* lmdb: directory (created 0700) */
	size_t		map_size;	/* lmdb: map size (default 256 MB) */
	const char	*redis;		/* redis: unix:PATH or HOST:PORT */
	const char	*prefix;	/* redis: key prefix ("rg:") */
	const char	*password;	/* redis: AUTH, NULL = none (apart
					   from redis, so no reason shows
					   it) */
	int		timeout_ms;	/* redis: per call */
	long		token_ttl;	/* redis: seconds, 0 = none */
	long		digest_ttl;	/* redis: seconds for the digest
					   records, 0 = none (the default:
					   learn-once and forget then hold
					   for ever; volatile-* eviction
					   never drops them, so count them
					   in maxmemory: ~150 bytes each) */
	int		readonly;	/* the daemon only reads (autolearn off) */
};

/* tokstore_open - NULL with why filled */
struct tokstore *tokstore_open(const struct tokstore_opts *, char *why,
			       size_t whylen);
void tokstore_close(struct tokstore *);
/*
 * tokstore_lookup - counts for n tokens (zero for unknown ones) and the
 * totals, in one read transaction / one round trip.  0 or -1 (why).
 */
int tokstore_lookup(struct tokstore *, const uint64_t *tokens, size_t n,
		    struct tokstore_counts *counts,
		    struct tokstore_totals *totals, char *why, size_t whylen);
/*
 * tokstore_learn - add (sign = +1) or remove (sign = -1) one message's
 * distinct tokens as spam (is_spam = 1) or ham, atomically with the
 * totals and the digest record (32 bytes, e.g. SHA-256 of the message):
 *   learning a digest already learned the same way: nothing, returns 1
 *   learning one learned the other way: moved (its counts subtracted from
 *     the other class first), returns 0
 *   forgetting (sign = -1) a digest not learned: nothing, returns 1
 * Counts never go below zero.  0 done, 1 nothing to do, -1 error (why).
 */
int tokstore_learn(struct tokstore *, const unsigned char digest[32],
		   const uint64_t *tokens, size_t n, int is_spam, int sign,
		   char *why, size_t whylen);

/*
 * tokstore_learn_many - n learns as tokstore_learn each (item->rc: 0, 1,
 * or -1 when that one failed), for relayguard learn: LMDB does them in
 * one write transaction (one commit, one sync for all; another process
 * sees all of them or none), Redis one after the other.  Returns 0 when
 * each was done or had nothing to do, -1 with why (the first failure)
 * otherwise: with LMDB then none of them went in.  Sorts each item's
 * tokens in place and drops repeats (item->n shrinks).
 */
struct tokstore_item {
	unsigned char	digest[32];
	uint64_t	*tokens;
	size_t		n;
	int		is_spam, sign;
	int		rc;		/* out */
};
int tokstore_learn_many(struct tokstore *, struct tokstore_item *, size_t n,
			char *why, size_t whylen);

#endif
