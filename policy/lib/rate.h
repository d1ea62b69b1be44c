/*
 * rate - rate limit specifications and the sliding window counter that
 * the rate limits use (in process, and the same rules in the Redis
 * script of policy/checks/ratelimit/).
 *
 * A specification is "N/WINDOW ..." with WINDOW a number and s, m, h or
 * d ("100/1h 1000/1d"), at most RATE_MAX of them; "" is none.
 *
 * The counter of one window keeps the count of the current fixed bucket
 * (aligned to the window's length since the epoch) and of the one before
 * it; the count "in the last WINDOW" is the previous bucket's count
 * weighted by the part of the window not yet elapsed, in thousandths
 * (floor), plus the current count: Cloudflare's and Redis' sliding window
 * approximation, exact for a steady rate, two integers a window.  A hit
 * is admitted when prev * w + (cur + cost) * 1000 <= limit * 1000.
 */
#ifndef RG_RATE_H
#define RG_RATE_H

#include <stddef.h>

#define RATE_MAX		4		/* windows a key */
#define RATE_LIMIT_MAX		10000000L
#define RATE_WINDOW_MAX		(366LL * 86400 * 1000)	/* ms */

struct rate {
	long		limit;		/* 1 .. RATE_LIMIT_MAX */
	long long	window;		/* ms, 1 s .. RATE_WINDOW_MAX */
};

struct ratelist {
	int		n;
	struct rate	v[RATE_MAX];
};

/* one window's counter */
struct rate_slot {
	long long	start;		/* ms, the current bucket; 0: none */
	long		cur, prev;
};

/* ratelist_parse - "N/WINDOW ..." into l; -1 with why */
int ratelist_parse(const char *text, struct ratelist *l, char *why,
		   size_t whylen);
/* ratelist_format - l as it parses back ("100/1h 1000/1d") */
void ratelist_format(const struct ratelist *l, char *buf, size_t size);
/* rate_window_text - "1h", "90s": the largest unit that divides it */
void rate_window_text(long long ms, char *buf, size_t size);
/* rate_roll - move the counter to the bucket of now */
void rate_roll(struct rate_slot *, long long window, long long now);
/*
 * rate_over - would cost more hits at now go over the limit?  (the slot
 * rolled to now first)
 */
int rate_over(const struct rate_slot *, const struct rate *, long long now,
	      long cost);

#endif
