/*
 * brakestore - where the compromised-account brake keeps, per login, the
 * counters of its window and whether it is stopped: an LMDB directory
 * (brake_store) when the rate limits are in process, Redis when they are
 * in Redis.  Both are reachable from another process, so "relayguard
 * release LOGIN" lifts a stop that the daemon set.
 *
 * The rules (brake_apply) are the same in both: a window starts at the
 * login's first counted event and lasts limits.window; an event adds to
 * its counters; the first threshold reached (spam score total, viruses,
 * refused recipients, in that order) stops the login for one window from
 * then; while stopped nothing is counted.  Redis repeats them in one Lua
 * script (atomic across nodes); LMDB applies them in one write
 * transaction (atomic across processes).
 *
 * LMDB: key the login, value a struct brake_rec in this host's layout;
 * MDB_NOSYNC (a counter lost in a crash is no harm; other processes see
 * every commit at once).  One environment a path and process, opened after
 * the daemon detached (LMDB environments do not survive fork(): a handle
 * used in another process than its opener fails with why).  A full map
 * drops the records whose window and stop are over, then retries once.
 * Redis: key PREFIX "b:" LOGIN, a hash (start, until, score, v, r, code),
 * PEXPIRE at the end of its window or stop.
 */
#ifndef RG_BRAKESTORE_H
#define RG_BRAKESTORE_H

#include <stddef.h>

struct redispool;

enum brake_code { BRAKE_NONE, BRAKE_SPAM, BRAKE_VIRUS, BRAKE_RCPTS };

struct brake_rec {
	long long	start;		/* ms, the window's start; 0: none */
	long long	until;		/* ms, stopped until; 0: not */
	double		score;		/* spam score total in the window */
	long		viruses;
	long		rcpts;		/* refused recipients */
	int		code;		/* enum brake_code: what stopped it */
};

struct brake_limits {
	double		score;		/* < 0: off */
	long		viruses;	/* 0: off */
	long		rcpts;		/* 0: off */
	long long	window;		/* ms */
};

struct brake_add {
	double		score;
	long		viruses, rcpts;
};

struct brakestore;

/*
 * brakestore_lmdb - the store in directory path (created 0700 when
 * create is set); NULL with why.  *absent = 1 when it does not exist and
 * create is not set.
 */
struct brakestore *brakestore_lmdb(const char *path, int create,
				   int *absent, char *why, size_t whylen);
/* brakestore_redis - the store in Redis through pool (not owned) */
struct brakestore *brakestore_redis(struct redispool *pool,
				    const char *prefix);
void brakestore_close(struct brakestore *);

/* brakestore_get - the login's record: 1 stopped at now, 0 not, -1 why */
int brakestore_get(struct brakestore *, const char *login, long long now,
		   struct brake_rec *out, char *why, size_t whylen);
/*
 * brakestore_add - count an event: 1 it stopped the login now, 2 the
 * login was stopped already (nothing counted), 0 counted, -1 why; out
 * is the record after it
 */
int brakestore_add(struct brakestore *, const char *login, long long now,
		   const struct brake_add *, const struct brake_limits *,
		   struct brake_rec *out, char *why, size_t whylen);
/* brakestore_release - forget the login: 1 it was stopped, 0 not, -1 */
int brakestore_release(struct brakestore *, const char *login,
		       long long now, char *why, size_t whylen);
/*
 * brakestore_list - call fn for each login stopped at now (LMDB: every
 * record; Redis: SCAN of PREFIX b:*); -1 with why
 */
int brakestore_list(struct brakestore *, long long now,
		    void (*fn)(const char *login, const struct brake_rec *,
			       void *), void *arg, char *why, size_t whylen);

/* brake_apply - the rules on one record (see above): 0, 1 or 2 */
int brake_apply(struct brake_rec *, const struct brake_add *,
		const struct brake_limits *, long long now);
/* brake_reason - "spam score 52.0 >= 50 within 1h" */
void brake_reason(const struct brake_rec *, const struct brake_limits *,
		  char *buf, size_t size);

#endif
