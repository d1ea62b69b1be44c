/*
 * brake - the compromised-account brake (see brake.h).
 *
 * Diagnostics: a login stopped is one warning with why (and the
 * BRAKE_STOPPED symbol on each summary line after it); a store that
 * fails is BRAKE_ERROR on the message, and with Redis one warning per
 * outage (ratelimit.c's).
 */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brake.h"
#include "brakestore.h"
#include "conf.h"
#include "log.h"
#include "ratelimit.h"
#include "session.h"
#include "symbols.h"
#include "txn.h"
#include "util.h"

#define BRAKE_STORES_MAX	4

static struct {
	pthread_mutex_t	lock;
	struct {
		char			*key;
		struct brakestore	*bs;
	} v[BRAKE_STORES_MAX];
	size_t		n;
} brake_stores = { .lock = PTHREAD_MUTEX_INITIALIZER };

int
brake_enabled(const struct conf *c)
{
	return c->brake;
}

void
brake_stop(void)
{
	pthread_mutex_lock(&brake_stores.lock);
	for (size_t i = 0; i < brake_stores.n; i++) {
		brakestore_close(brake_stores.v[i].bs);
		free(brake_stores.v[i].key);
	}
	brake_stores.n = 0;
	pthread_mutex_unlock(&brake_stores.lock);
}

void
brake_limits_of(const struct conf *c, struct brake_limits *l)
{
	l->score = isinf(c->brake_spam_score) ? -1 : c->brake_spam_score;
	l->viruses = c->brake_viruses;
	l->rcpts = c->brake_rejected_rcpts;
	l->window = c->brake_window;
}

struct brakestore *
brake_store(const struct conf *c, int write, int *absent, char *why,
	    size_t whylen)
{
	int redis = c->ratelimit_backend == RATELIMIT_REDIS;
	struct brakestore *bs = NULL;
	struct redispool *pool = NULL;
	char key[2048];

	*absent = 0;
	snprintf(key, sizeof(key), "%d|%s|%s|%s|%s|%d", redis, c->brake_store,
		 c->redis_server, c->redis_password, c->ratelimit_redis_prefix,
		 c->redis_timeout);
	if (redis && (pool = ratelimit_pool(c, why, whylen)) == NULL)
		return NULL;
	pthread_mutex_lock(&brake_stores.lock);
	for (size_t i = 0; i < brake_stores.n && bs == NULL; i++)
		if (strcmp(brake_stores.v[i].key, key) == 0)
			bs = brake_stores.v[i].bs;
	if (bs == NULL) {
		bs = redis ? brakestore_redis(pool, c->ratelimit_redis_prefix) :
		    brakestore_lmdb(c->brake_store, write, absent, why, whylen);
		if (bs != NULL && brake_stores.n < BRAKE_STORES_MAX) {
			brake_stores.v[brake_stores.n].key = xstrdup(key);
			brake_stores.v[brake_stores.n].bs = bs;
			brake_stores.n++;
		} else if (bs != NULL) {
			/* LMDB: never twice in one process; keep using it */
			log_warn("brake: too many brake stores open; not "
				 "keeping %s", c->brake_store);
		}
	}
	pthread_mutex_unlock(&brake_stores.lock);
	return bs;
}

/* brake_login - the transaction's login when the brake applies, or NULL */
static const char *
brake_login(const struct txn *t)
{
	return t->mode == TXN_OUTBOUND && *t->auth_authen ? t->auth_authen :
	    NULL;
}

/* brake_fail - BRAKE_ERROR on the message; a Redis outage logged once */
static void
brake_fail(struct txn *t, const char *why, long long now)
{
	if (t->conf->ratelimit_backend == RATELIMIT_REDIS)
		ratelimit_redis_failed("brake", why, now);
	symbols_add(&t->symbols, "BRAKE_ERROR", 0, "%s", why);
}

/* brake_open - the store for a check, or NULL (BRAKE_ERROR added) */
static struct brakestore *
brake_open(struct txn *t, long long now)
{
	struct brakestore *bs;
	char why[512];
	int absent;

	if (t->conf->ratelimit_backend == RATELIMIT_REDIS &&
	    ratelimit_redis_down(now)) {
		symbols_add(&t->symbols, "BRAKE_ERROR", 0, "redis %s: not "
			    "answering", t->conf->redis_server);
		return NULL;
	}
	bs = brake_store(t->conf, 1, &absent, why, sizeof(why));
	if (bs == NULL)
		brake_fail(t, why, now);
	return bs;
}

void
brake_mail(struct txn *t)
{
	const char *login = brake_login(t);
	long long now = ratelimit_clock();
	struct brake_limits l;
	struct brake_rec r;
	struct brakestore *bs;
	char why[512], reason[256], opt[300];
	int rc;

	if (login == NULL || (bs = brake_open(t, now)) == NULL)
		return;
	rc = brakestore_get(bs, login, now, &r, why, sizeof(why));
	if (rc < 0) {
		brake_fail(t, why, now);
		return;
	}
	if (t->conf->ratelimit_backend == RATELIMIT_REDIS)
		ratelimit_redis_ok();
	if (rc == 0)
		return;
	brake_limits_of(t->conf, &l);
	brake_reason(&r, &l, reason, sizeof(reason));
	snprintf(opt, sizeof(opt), "%s", reason);
	symbols_add_opts(&t->symbols, "BRAKE_STOPPED", 0, login, opt,
			 "%s for %lld s more: %s", login,
			 (r.until - now + 999) / 1000, reason);
}

/* brake_count - add an event; a trip is logged and named */
static void
brake_count(struct txn *t, const char *login, const struct brake_add *a)
{
	long long now = ratelimit_clock();
	struct brake_limits l;
	struct brake_rec r;
	struct brakestore *bs;
	char why[512], reason[256];
	int rc;

	if ((bs = brake_open(t, now)) == NULL)
		return;
	brake_limits_of(t->conf, &l);
	rc = brakestore_add(bs, login, now, a, &l, &r, why, sizeof(why));
	if (rc < 0) {
		brake_fail(t, why, now);
		return;
	}
	if (t->conf->ratelimit_backend == RATELIMIT_REDIS)
		ratelimit_redis_ok();
	if (rc != 1)
		return;
	brake_reason(&r, &l, reason, sizeof(reason));
	log_warn("%s: brake: login %s stopped for %lld s: %s (relayguard "
		 "release %s lifts it)", *t->queue_id ? t->queue_id : "NOQUEUE",
		 login, l.window / 1000, reason, login);
	symbols_add_opts(&t->symbols, "BRAKE_TRIPPED", 0, login, reason,
			 "%s: %s", login, reason);
}

void
brake_eom(struct txn *t)
{
	const char *login = brake_login(t);
	struct brake_add a = { 0, 0, 0 };
	double total;

	if (login == NULL || symbols_find(&t->symbols, "BRAKE_STOPPED") ||
	    symbols_find(&t->symbols, "BRAKE_ERROR"))
		return;
	total = symbols_score(&t->sess->symbols) + symbols_score(&t->symbols);
	a.score = total > 0 ? total : 0;
	a.viruses = symbols_find(&t->symbols, "AV_VIRUS") != NULL;
	if (a.score <= 0 && a.viruses == 0)
		return;
	brake_count(t, login, &a);
}

void
brake_rcpt_refused(struct txn *t, const char *cause)
{
	const char *login = brake_login(t);
	struct brake_add a = { 0, 0, 1 };

	if (login == NULL || (cause && (strncmp(cause, "RATELIMIT_", 10) == 0 ||
	    strncmp(cause, "BRAKE_", 6) == 0)) ||
	    symbols_find(&t->symbols, "BRAKE_STOPPED"))
		return;
	brake_count(t, login, &a);
}
