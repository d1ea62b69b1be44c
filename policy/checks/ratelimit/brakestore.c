/*
 * brakestore - the brake's state in LMDB or Redis (see brakestore.h).
 *
 * Diagnostics: every failure is a reason for the caller, never a log line
 * here (the brake check logs once per outage).
 */
#include "config.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "brakestore.h"
#include "rate.h"
#include "redispool.h"
#include "util.h"

#define BRAKE_MAPSIZE	(64UL * 1024 * 1024)
#define BRAKE_LOGIN_MAX	511

/*
 * KEYS[1] the login's hash; ARGV: now, window (ms), the score, viruses and
 * refused recipients to add, the three thresholds (score < 0, counts 0:
 * off).  brake_apply()'s rules.  Returns { rc, start, until, score, v, r,
 * code } with the numbers as strings.
 */
static const char ADD_SCRIPT[] =
	"local now, win = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
	"local ls, lv, lr = tonumber(ARGV[6]), tonumber(ARGV[7]), "
	"tonumber(ARGV[8])\n"
	"local h = redis.call('HMGET', KEYS[1], 'start', 'until', 'score', "
	"'v', 'r', 'code')\n"
	"local start, untl = tonumber(h[1]) or 0, tonumber(h[2]) or 0\n"
	"local score, v, r = tonumber(h[3]) or 0, tonumber(h[4]) or 0, "
	"tonumber(h[5]) or 0\n"
	"local code = tonumber(h[6]) or 0\n"
	"local function out(rc)\n"
	"  return { rc, tostring(start), tostring(untl), "
	"string.format('%.17g', score), tostring(v), tostring(r), "
	"tostring(code) }\n"
	"end\n"
	"if untl > now then return out(2) end\n"
	"if start == 0 or now >= start + win then\n"
	"  start, untl, score, v, r, code = now, 0, 0, 0, 0, 0\n"
	"end\n"
	"score = score + tonumber(ARGV[3])\n"
	"v = v + tonumber(ARGV[4])\n"
	"r = r + tonumber(ARGV[5])\n"
	"local rc = 0\n"
	"if ls >= 0 and score >= ls then code = 1\n"
	"elseif lv > 0 and v >= lv then code = 2\n"
	"elseif lr > 0 and r >= lr then code = 3 end\n"
	"if code > 0 then rc, untl = 1, now + win end\n"
	"redis.call('HSET', KEYS[1], 'start', start, 'until', untl, 'score', "
	"string.format('%.17g', score), 'v', v, 'r', r, 'code', code)\n"
	"local stop = start + win\n"
	"if untl > stop then stop = untl end\n"
	"redis.call('PEXPIRE', KEYS[1], math.max(stop - now, 1))\n"
	"return out(rc)\n";

struct brakestore {
	/* LMDB */
	MDB_env		*env;
	MDB_dbi		dbi;
	pid_t		pid;
	/* Redis */
	struct redispool *pool;
	char		*prefix;
	char		sha[41];
	pthread_mutex_t	mu;	/* guards sha */
};

int
brake_apply(struct brake_rec *r, const struct brake_add *a,
	    const struct brake_limits *l, long long now)
{
	if (r->until > now)
		return 2;
	if (r->start == 0 || now >= r->start + l->window) {
		memset(r, 0, sizeof(*r));
		r->start = now;
	}
	r->score += a->score;
	r->viruses += a->viruses;
	r->rcpts += a->rcpts;
	if (l->score >= 0 && r->score >= l->score)
		r->code = BRAKE_SPAM;
	else if (l->viruses > 0 && r->viruses >= l->viruses)
		r->code = BRAKE_VIRUS;
	else if (l->rcpts > 0 && r->rcpts >= l->rcpts)
		r->code = BRAKE_RCPTS;
	if (r->code == BRAKE_NONE)
		return 0;
	r->until = now + l->window;
	return 1;
}

void
brake_reason(const struct brake_rec *r, const struct brake_limits *l,
	     char *buf, size_t size)
{
	char w[32];

	rate_window_text(l->window, w, sizeof(w));
	switch (r->code) {
	case BRAKE_SPAM:
		snprintf(buf, size, "spam score %.1f >= %g within %s", r->score,
			 l->score, w);
		break;
	case BRAKE_VIRUS:
		snprintf(buf, size, "%ld viruses >= %ld within %s", r->viruses,
			 l->viruses, w);
		break;
	case BRAKE_RCPTS:
		snprintf(buf, size, "%ld refused recipients >= %ld within %s",
			 r->rcpts, l->rcpts, w);
		break;
	default:
		snprintf(buf, size, "not stopped");
	}
}

/* bs_lmdb_fail - "brake store: what: LMDB's reason"; -1 */
static int
bs_lmdb_fail(char *why, size_t whylen, const char *what, int rc)
{
	snprintf(why, whylen, "brake store: %s: %s", what, mdb_strerror(rc));
	return -1;
}

struct brakestore *
brakestore_lmdb(const char *path, int create, int *absent, char *why,
		size_t whylen)
{
	struct brakestore *bs;
	MDB_txn *txn;
	int rc, dead;

	*absent = 0;
	if (access(path, F_OK) != 0) {
		if (!create) {
			*absent = 1;
			snprintf(why, whylen, "brake store %s: does not exist",
				 path);
			return NULL;
		}
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			snprintf(why, whylen, "brake store %s: %s", path,
				 strerror(errno));
			return NULL;
		}
	}
	bs = xcalloc(1, sizeof(*bs));
	pthread_mutex_init(&bs->mu, NULL);
	bs->pid = getpid();
	if ((rc = mdb_env_create(&bs->env)) != 0 ||
	    (rc = mdb_env_set_mapsize(bs->env, BRAKE_MAPSIZE)) != 0 ||
	    (rc = mdb_env_open(bs->env, path, MDB_NOTLS | MDB_NOSYNC, 0600))
	    != 0) {
		snprintf(why, whylen, "brake store %s: %s", path,
			 mdb_strerror(rc));
		goto fail;
	}
	mdb_reader_check(bs->env, &dead);
	if ((rc = mdb_txn_begin(bs->env, NULL, 0, &txn)) != 0) {
		snprintf(why, whylen, "brake store %s: %s", path,
			 mdb_strerror(rc));
		goto fail;
	}
	if ((rc = mdb_dbi_open(txn, NULL, 0, &bs->dbi)) != 0 ||
	    (rc = mdb_txn_commit(txn)) != 0) {
		if (rc != 0)
			mdb_txn_abort(txn);
		snprintf(why, whylen, "brake store %s: %s", path,
			 mdb_strerror(rc));
		goto fail;
	}
	return bs;
fail:
	brakestore_close(bs);
	return NULL;
}

struct brakestore *
brakestore_redis(struct redispool *pool, const char *prefix)
{
	struct brakestore *bs = xcalloc(1, sizeof(*bs));

	pthread_mutex_init(&bs->mu, NULL);
	bs->pool = pool;
	bs->prefix = xstrdup(prefix);
	return bs;
}

void
brakestore_close(struct brakestore *bs)
{
	if (bs == NULL)
		return;
	if (bs->env != NULL && bs->pid == getpid())
		mdb_env_close(bs->env);
	pthread_mutex_destroy(&bs->mu);
	free(bs->prefix);
	free(bs);
}

/* bs_key - the login as an LMDB key, or -1 (why) when it cannot be one */
static int
bs_lmdb_key(struct brakestore *bs, const char *login, MDB_val *k, char *why,
	    size_t whylen)
{
	if (bs->pid != getpid()) {
		snprintf(why, whylen, "brake store: opened in process %ld, "
			 "used in %ld (open it after fork)", (long)bs->pid,
			 (long)getpid());
		return -1;
	}
	k->mv_size = strnlen(login, BRAKE_LOGIN_MAX + 1);
	k->mv_data = (void *)login;
	if (k->mv_size == 0 || k->mv_size > BRAKE_LOGIN_MAX) {
		snprintf(why, whylen, "brake store: bad login length");
		return -1;
	}
	return 0;
}

/* bs_lmdb_read - the record of k in txn into out (zero when none) */
static int
bs_lmdb_read(struct brakestore *bs, MDB_txn *txn, MDB_val *k,
	     struct brake_rec *out)
{
	MDB_val v;
	int rc = mdb_get(txn, bs->dbi, k, &v);

	memset(out, 0, sizeof(*out));
	if (rc == 0 && v.mv_size == sizeof(*out))
		memcpy(out, v.mv_data, sizeof(*out));
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* bs_lmdb_prune - drop records whose window and stop are over */
static int
bs_lmdb_prune(struct brakestore *bs, long long now, long long window)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_txn_begin(bs->env, NULL, 0, &txn)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(txn, bs->dbi, &cur)) != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
		struct brake_rec r;

		if (v.mv_size == sizeof(r))
			memcpy(&r, v.mv_data, sizeof(r));
		if (v.mv_size != sizeof(r) ||
		    (r.until <= now && r.start + window <= now))
			mdb_cursor_del(cur, 0);
	}
	mdb_cursor_close(cur);
	return mdb_txn_commit(txn);
}

/* bs_redis_key - PREFIX b:LOGIN */
static void
bs_redis_key(const struct brakestore *bs, const char *login, char *buf,
	     size_t size)
{
	snprintf(buf, size, "%sb:%s", bs->prefix, login);
}

/* bs_num - a reply element as a number */
static double
bs_num(const redisReply *e)
{
	if (e->type == REDIS_REPLY_INTEGER)
		return (double)e->integer;
	if (e->type == REDIS_REPLY_STRING)
		return strtod(e->str, NULL);
	return 0;
}

/*
 * bs_reply_rec - a reply of n + 6 elements, the record in its last six
 * (start, until, score, v, r, code), into out; -1 (why) when it is not
 * that.  Frees the reply either way.
 */
static int
bs_reply_rec(struct brakestore *bs, redisReply *r, size_t n,
	     struct brake_rec *out, const char *what, char *why, size_t whylen)
{
	if (r->type != REDIS_REPLY_ARRAY || r->elements != n + 6) {
		redispool_fail(bs->pool, why, whylen, what,
			       r->type == REDIS_REPLY_ERROR ? r->str :
			       "unexpected reply");
		freeReplyObject(r);
		return -1;
	}
	out->start = (long long)bs_num(r->element[n]);
	out->until = (long long)bs_num(r->element[n + 1]);
	out->score = bs_num(r->element[n + 2]);
	out->viruses = (long)bs_num(r->element[n + 3]);
	out->rcpts = (long)bs_num(r->element[n + 4]);
	out->code = (int)bs_num(r->element[n + 5]);
	freeReplyObject(r);
	return 0;
}

int
brakestore_get(struct brakestore *bs, const char *login, long long now,
	       struct brake_rec *out, char *why, size_t whylen)
{
	memset(out, 0, sizeof(*out));
	if (bs->pool != NULL) {
		char key[BRAKE_LOGIN_MAX + 256];
		const char *argv[8] = { "HMGET", key, "start", "until", "score",
					"v", "r", "code" };
		size_t lens[8];
		redisReply *r;

		bs_redis_key(bs, login, key, sizeof(key));
		for (int i = 0; i < 8; i++)
			lens[i] = strlen(argv[i]);
		r = redispool_call(bs->pool, 8, argv, lens, "HMGET", why,
				   whylen);
		if (r == NULL || bs_reply_rec(bs, r, 0, out, "HMGET", why,
					      whylen) != 0)
			return -1;
	} else {
		MDB_txn *txn;
		MDB_val k;
		int rc;

		if (bs_lmdb_key(bs, login, &k, why, whylen) != 0)
			return -1;
		if ((rc = mdb_txn_begin(bs->env, NULL, MDB_RDONLY, &txn)) != 0)
			return bs_lmdb_fail(why, whylen, "read", rc);
		rc = bs_lmdb_read(bs, txn, &k, out);
		mdb_txn_abort(txn);
		if (rc != 0)
			return bs_lmdb_fail(why, whylen, "read", rc);
	}
	return out->until > now;
}

/* bs_redis_add - the ADD script */
static int
bs_redis_add(struct brakestore *bs, const char *login, long long now,
	     const struct brake_add *a, const struct brake_limits *l,
	     struct brake_rec *out, char *why, size_t whylen)
{
	char key[BRAKE_LOGIN_MAX + 256], num[8][40], sha[41];
	const char *argv[12];
	size_t lens[12];
	redisReply *r;
	int rc;

	pthread_mutex_lock(&bs->mu);
	memcpy(sha, bs->sha, sizeof(sha));
	pthread_mutex_unlock(&bs->mu);
	if (sha[0] == '\0') {
		if (redispool_load(bs->pool, ADD_SCRIPT, sha, why, whylen) != 0)
			return -1;
		pthread_mutex_lock(&bs->mu);
		memcpy(bs->sha, sha, sizeof(sha));
		pthread_mutex_unlock(&bs->mu);
	}
	bs_redis_key(bs, login, key, sizeof(key));
	snprintf(num[0], sizeof(num[0]), "%lld", now);
	snprintf(num[1], sizeof(num[1]), "%lld", l->window);
	snprintf(num[2], sizeof(num[2]), "%.17g", a->score);
	snprintf(num[3], sizeof(num[3]), "%ld", a->viruses);
	snprintf(num[4], sizeof(num[4]), "%ld", a->rcpts);
	snprintf(num[5], sizeof(num[5]), "%.17g", l->score);
	snprintf(num[6], sizeof(num[6]), "%ld", l->viruses);
	snprintf(num[7], sizeof(num[7]), "%ld", l->rcpts);
	argv[2] = "1";
	argv[3] = key;
	for (int i = 0; i < 8; i++)
		argv[4 + i] = num[i];
	for (int i = 2; i < 12; i++)
		lens[i] = strlen(argv[i]);
	r = redispool_eval(bs->pool, sha, ADD_SCRIPT, 12, argv, lens,
			   "brake script", why, whylen);
	if (r == NULL)
		return -1;
	rc = r->type == REDIS_REPLY_ARRAY && r->elements > 0 ?
	    (int)bs_num(r->element[0]) : -1;
	if (bs_reply_rec(bs, r, 1, out, "brake script", why, whylen) != 0)
		return -1;
	return rc;
}

int
brakestore_add(struct brakestore *bs, const char *login, long long now,
	       const struct brake_add *a, const struct brake_limits *l,
	       struct brake_rec *out, char *why, size_t whylen)
{
	MDB_txn *txn;
	MDB_val k, v;
	int rc, res, tries;

	if (bs->pool != NULL)
		return bs_redis_add(bs, login, now, a, l, out, why, whylen);
	if (bs_lmdb_key(bs, login, &k, why, whylen) != 0)
		return -1;
	for (tries = 0; tries < 2; tries++) {
		if ((rc = mdb_txn_begin(bs->env, NULL, 0, &txn)) != 0)
			return bs_lmdb_fail(why, whylen, "write", rc);
		if ((rc = bs_lmdb_read(bs, txn, &k, out)) != 0) {
			mdb_txn_abort(txn);
			return bs_lmdb_fail(why, whylen, "read", rc);
		}
		res = brake_apply(out, a, l, now);
		if (res == 2) {
			mdb_txn_abort(txn);
			return 2;
		}
		v.mv_size = sizeof(*out);
		v.mv_data = out;
		rc = mdb_put(txn, bs->dbi, &k, &v, 0);
		if (rc == 0)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
		if (rc == 0)
			return res;
		if (rc != MDB_MAP_FULL || bs_lmdb_prune(bs, now, l->window) != 0)
			break;
	}
	return bs_lmdb_fail(why, whylen, "write", rc);
}

int
brakestore_release(struct brakestore *bs, const char *login, long long now,
		   char *why, size_t whylen)
{
	struct brake_rec r;
	int was = brakestore_get(bs, login, now, &r, why, whylen);

	if (was < 0)
		return -1;
	if (bs->pool != NULL) {
		char key[BRAKE_LOGIN_MAX + 256];
		const char *argv[2] = { "DEL", key };
		size_t lens[2];
		redisReply *rep;

		bs_redis_key(bs, login, key, sizeof(key));
		lens[0] = 3;
		lens[1] = strlen(key);
		rep = redispool_call(bs->pool, 2, argv, lens, "DEL", why, whylen);
		if (rep == NULL)
			return -1;
		freeReplyObject(rep);
	} else {
		MDB_txn *txn;
		MDB_val k;
		int rc;

		if (bs_lmdb_key(bs, login, &k, why, whylen) != 0)
			return -1;
		if ((rc = mdb_txn_begin(bs->env, NULL, 0, &txn)) != 0)
			return bs_lmdb_fail(why, whylen, "write", rc);
		rc = mdb_del(txn, bs->dbi, &k, NULL);
		if (rc == 0 || rc == MDB_NOTFOUND)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
		if (rc != 0)
			return bs_lmdb_fail(why, whylen, "delete", rc);
	}
	return was;
}

int
brakestore_list(struct brakestore *bs, long long now,
		void (*fn)(const char *, const struct brake_rec *, void *),
		void *arg, char *why, size_t whylen)
{
	char login[BRAKE_LOGIN_MAX + 1];

	if (bs->pool != NULL) {
		char cursor[32] = "0", match[256];
		size_t plen;

		snprintf(match, sizeof(match), "%sb:*", bs->prefix);
		plen = strlen(bs->prefix) + 2;
		do {
			const char *argv[6] = { "SCAN", cursor, "MATCH", match,
						"COUNT", "1000" };
			size_t lens[6];
			redisReply *r;

			for (int i = 0; i < 6; i++)
				lens[i] = strlen(argv[i]);
			r = redispool_call(bs->pool, 6, argv, lens, "SCAN", why,
					   whylen);
			if (r == NULL)
				return -1;
			if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
				freeReplyObject(r);
				return redispool_fail(bs->pool, why, whylen,
						      "SCAN", "unexpected reply");
			}
			util_strlcpy(cursor, r->element[0]->str ?
				     r->element[0]->str : "0", sizeof(cursor));
			for (size_t i = 0; i < r->element[1]->elements; i++) {
				const redisReply *e = r->element[1]->element[i];
				struct brake_rec rec;

				if (e->type != REDIS_REPLY_STRING ||
				    e->len <= plen)
					continue;
				util_strlcpy(login, e->str + plen, sizeof(login));
				if (brakestore_get(bs, login, now, &rec, why,
						   whylen) == 1)
					fn(login, &rec, arg);
			}
			freeReplyObject(r);
		} while (strcmp(cursor, "0") != 0);
		return 0;
	} else {
		MDB_txn *txn;
		MDB_cursor *cur;
		MDB_val k, v;
		int rc;

		if ((rc = mdb_txn_begin(bs->env, NULL, MDB_RDONLY, &txn)) != 0)
			return bs_lmdb_fail(why, whylen, "read", rc);
		if ((rc = mdb_cursor_open(txn, bs->dbi, &cur)) != 0) {
			mdb_txn_abort(txn);
			return bs_lmdb_fail(why, whylen, "read", rc);
		}
		while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
			struct brake_rec rec;

			if (v.mv_size != sizeof(rec) || k.mv_size >= sizeof(login))
				continue;
			memcpy(&rec, v.mv_data, sizeof(rec));
			memcpy(login, k.mv_data, k.mv_size);
			login[k.mv_size] = '\0';
			if (rec.until > now)
				fn(login, &rec, arg);
		}
		mdb_cursor_close(cur);
		mdb_txn_abort(txn);
	}
	return 0;
}
