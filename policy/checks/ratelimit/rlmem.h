/*
 * rlmem - the rate limit counters in process: a hash of keys, each with
 * one sliding window counter (rate.h) per window, behind one mutex, so a
 * decision over several keys and windows is atomic among the milter's
 * threads.
 *
 * Bounded: at most max_keys keys.  Keys are kept in order of last use;
 * a key idle longer than twice its longest window holds nothing and is
 * freed when met at the old end of that order, and when the table is
 * full the least recently used key is forgotten (a flood of distinct
 * clients then costs the oldest counters, never memory).  Each key
 * costs about 150 bytes plus its text.
 */
#ifndef RG_RLMEM_H
#define RG_RLMEM_H

#include <stddef.h>

#include "rate.h"

struct rlmem;

/* one key of a decision and its windows */
struct rl_req {
	const char		*key;
	const struct ratelist	*rates;
};

struct rlmem *rlmem_new(size_t max_keys);
void rlmem_free(struct rlmem *);
/*
 * rlmem_hit - cost hits on every key at now (ms): 0 when every window of
 * every key has room (all counted), else 1 with *req and *win the first
 * window over its limit (nothing counted)
 */
int rlmem_hit(struct rlmem *, const struct rl_req *reqs, size_t n,
	      long long now, long cost, size_t *req, int *win);
/* rlmem_size - keys held; rlmem_evicted - live keys forgotten so far */
size_t rlmem_size(struct rlmem *);
unsigned long rlmem_evicted(struct rlmem *);

#endif
