/*
 * tokstore_lmdb - the embedded token store: one LMDB environment, a
 * directory (see tokstore.h).
 *
 * Three databases in it:
 *   tokens   key: the token, 8 bytes big-endian (so sorted tokens are
 *            written in key order); value: spam and ham counts, two
 *            uint32 in host order (an LMDB file is not portable anyway)
 *   meta     "version" (uint32, 1) and "totals" (two uint64 spam, ham)
 *   digests  key: the 32-byte digest; value: one byte, 'S' or 'H'
 * A token whose counts both reach zero is deleted.
 *
 * A lookup is one read transaction, a learn one write transaction with
 * the totals and the digest record, so a reader (in this process or
 * another: relayguard learn beside the daemon) sees a message learned
 * whole or not at all.  LMDB serializes writers across processes itself.
 * The environment is opened with MDB_NOTLS, so a read transaction is not
 * tied to its thread's slot and any milter thread may run one; each call
 * begins and ends its own.
 *
 * The map: opts->map_size (256 MB by default).  A learn that fills it
 * (MDB_MAP_FULL) grows it (to twice its size, or by more for a large
 * message) and is retried once; a second MAP_FULL is reported.  Another
 * process that grew the map makes our next transaction fail with
 * MDB_MAP_RESIZED: we adopt the new size and retry.  mdb_env_set_mapsize
 * must not run while this process has a transaction open, so every
 * transaction holds `lock` shared and a resize holds it exclusive (writer
 * preferred, so lookups cannot starve a resize).
 *
 * One environment per store and process: LMDB must not have one file open
 * twice in a process (closing the second descriptor drops the fcntl locks
 * of the first, and another process's mdb_reader_check could then take
 * our live readers for dead ones).  So a second tokstore_open of the same
 * directory (same device and inode) shares the first one's environment,
 * counted; the environment closes with its last handle.  An environment
 * is never shared across fork(): entries remember the pid that opened
 * them, a child opens its own, and a handle used in a child of the
 * process that opened it fails with why (LMDB forbids it: open the store
 * after the daemon detaches).
 *
 * At open: the directory is created 0700 if missing (not when read-only),
 * reader slots of dead processes are cleared (mdb_reader_check), and a
 * store of another version or a file that is not LMDB is refused with
 * why.
 */
#include "config.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tokstore_int.h"
#include "util.h"

#define LMDB_MAP_DEFAULT	((size_t)256 << 20)
#define LMDB_VERSION		1u
#define LMDB_MAXREADERS		512	/* read txns at once, all processes */

/* one environment, shared by the handles of this process on one store */
struct lmdb_env {
	MDB_env		*env;
	MDB_dbi		tokens, meta, digests;
	char		*path;
	pthread_rwlock_t lock;	/* shared: a txn; exclusive: set_mapsize */
	dev_t		dev;
	ino_t		ino;
	pid_t		pid;	/* the process that opened it */
	int		readonly;
	int		refs;	/* handles; guarded by lmdb_envs_mu */
	struct lmdb_env	*next;
};

struct lmdb_store {
	struct tokstore	base;
	struct lmdb_env	*e;
};

static pthread_mutex_t lmdb_envs_mu = PTHREAD_MUTEX_INITIALIZER;
static struct lmdb_env *lmdb_envs;	/* open in this process */

/* lmdb_fail - "lmdb PATH: what: LMDB's reason"; returns -1 */
static int
lmdb_fail(struct lmdb_env *s, char *why, size_t whylen, const char *what,
	  int rc)
{
	if (rc == EBADF && s->pid != getpid())
		return tokstore_why(why, whylen, "lmdb %s: opened before "
				    "fork(): open the store in the process "
				    "that uses it", s->path);
	return tokstore_why(why, whylen, "lmdb %s: %s: %s", s->path, what,
			    mdb_strerror(rc));
}

/* lmdb_key - a token as its 8-byte big-endian key */
static void
lmdb_key(uint64_t tok, unsigned char k[8])
{
	int i;

	for (i = 7; i >= 0; i--) {
		k[i] = tok & 0xff;
		tok >>= 8;
	}
}

/*
 * lmdb_resize - set the map size (0: adopt the size another process
 * set) with no transaction of ours open; the caller holds no lock
 */
static int
lmdb_resize(struct lmdb_env *s, size_t size)
{
	int rc;

	pthread_rwlock_wrlock(&s->lock);
	rc = mdb_env_set_mapsize(s->env, size);
	pthread_rwlock_unlock(&s->lock);
	return rc;
}

/*
 * lmdb_begin - begin a transaction holding the shared lock; adopts a map
 * another process grew (MDB_MAP_RESIZED) and tries again
 */
static int
lmdb_begin(struct lmdb_env *s, unsigned flags, MDB_txn **txn)
{
	int rc, tries;

	/* LMDB: an environment must not be used across fork() */
	if (s->pid != getpid())
		return EBADF;
	for (tries = 0; tries < 3; tries++) {
		pthread_rwlock_rdlock(&s->lock);
		rc = mdb_txn_begin(s->env, NULL, flags, txn);
		if (rc == 0)
			return 0;
		pthread_rwlock_unlock(&s->lock);
		if (rc != MDB_MAP_RESIZED)
			return rc;
		if ((rc = lmdb_resize(s, 0)) != 0)
			return rc;
	}
	return MDB_MAP_RESIZED;
}

/* lmdb_end - commit (or abort) and release the shared lock */
static int
lmdb_end(struct lmdb_env *s, MDB_txn *txn, int commit)
{
	int rc = 0;

	if (commit)
		rc = mdb_txn_commit(txn);
	else
		mdb_txn_abort(txn);
	pthread_rwlock_unlock(&s->lock);
	return rc;
}

/* lmdb_finish - commit when rc is 0, else abort; the result */
static int
lmdb_finish(struct lmdb_env *s, MDB_txn *txn, int rc, const char **what)
{
	if (rc != 0) {
		lmdb_end(s, txn, 0);
		return rc;
	}
	*what = "commit";
	return lmdb_end(s, txn, 1);
}

/* lmdb_totals - the totals in txn (zero when none were written) */
static int
lmdb_totals(struct lmdb_env *s, MDB_txn *txn, struct tokstore_totals *t)
{
	MDB_val k = { 6, "totals" }, v;
	uint64_t two[2];
	int rc;

	t->spam = t->ham = 0;
	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (v.mv_size != sizeof(two))
		return MDB_CORRUPTED;
	memcpy(two, v.mv_data, sizeof(two));
	t->spam = two[0];
	t->ham = two[1];
	return 0;
}

/* lmdb_lookup - the counts and totals in one read transaction */
static int
lmdb_lookup(struct tokstore *ts, const uint64_t *tokens, size_t n,
	    struct tokstore_counts *counts, struct tokstore_totals *totals,
	    char *why, size_t whylen)
{
	struct lmdb_env *s = ((struct lmdb_store *)ts)->e;
	unsigned char kb[8];
	MDB_val k = { 8, kb }, v;
	uint32_t two[2];
	MDB_cursor *cur = NULL;
	MDB_txn *txn;
	size_t i;
	int rc;

	if ((rc = lmdb_begin(s, MDB_RDONLY, &txn)) != 0)
		return lmdb_fail(s, why, whylen, "read transaction", rc);
	if ((rc = lmdb_totals(s, txn, totals)) != 0) {
		lmdb_end(s, txn, 0);
		return lmdb_fail(s, why, whylen, "totals", rc);
	}
	/* one cursor: the tokens come sorted, so most keys are on the leaf
	 * page the cursor is on already (LMDB checks it before searching
	 * from the root) */
	if (n > 0 && (rc = mdb_cursor_open(txn, s->tokens, &cur)) != 0) {
		lmdb_end(s, txn, 0);
		return lmdb_fail(s, why, whylen, "cursor", rc);
	}
	for (i = 0; i < n; i++) {
		lmdb_key(tokens[i], kb);
		k.mv_size = 8;
		k.mv_data = kb;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
		if (rc == MDB_NOTFOUND)
			continue;
		if (rc == 0 && v.mv_size != sizeof(two))
			rc = MDB_CORRUPTED;
		if (rc != 0) {
			mdb_cursor_close(cur);
			lmdb_end(s, txn, 0);
			return lmdb_fail(s, why, whylen, "token", rc);
		}
		memcpy(two, v.mv_data, sizeof(two));
		counts[i].spam = two[0];
		counts[i].ham = two[1];
	}
	if (n > 0)
		mdb_cursor_close(cur);
	lmdb_end(s, txn, 0);
	return 0;
}

/* lmdb_token_add - apply the deltas to one token in txn */
static int
lmdb_token_add(struct lmdb_env *s, MDB_txn *txn, uint64_t tok, int dspam,
	       int dham)
{
	unsigned char kb[8];
	MDB_val k = { 8, kb }, v;
	uint32_t two[2] = { 0, 0 };
	int rc;

	lmdb_key(tok, kb);
	rc = mdb_get(txn, s->tokens, &k, &v);
	if (rc == 0) {
		if (v.mv_size != sizeof(two))
			return MDB_CORRUPTED;
		memcpy(two, v.mv_data, sizeof(two));
	} else if (rc != MDB_NOTFOUND) {
		return rc;
	}
	two[0] = tokstore_add(two[0], dspam);
	two[1] = tokstore_add(two[1], dham);
	if (two[0] == 0 && two[1] == 0)
		return rc == MDB_NOTFOUND ? 0 : mdb_del(txn, s->tokens, &k, NULL);
	v.mv_size = sizeof(two);
	v.mv_data = two;
	return mdb_put(txn, s->tokens, &k, &v, 0);
}

/* lmdb_total_add - the totals plus the deltas, never below zero */
static int
lmdb_total_add(struct lmdb_env *s, MDB_txn *txn, int dspam, int dham)
{
	struct tokstore_totals t;
	MDB_val k = { 6, "totals" }, v;
	uint64_t two[2];
	int rc;

	if ((rc = lmdb_totals(s, txn, &t)) != 0)
		return rc;
	two[0] = dspam < 0 ? (t.spam ? t.spam - 1 : 0) : t.spam + dspam;
	two[1] = dham < 0 ? (t.ham ? t.ham - 1 : 0) : t.ham + dham;
	v.mv_size = sizeof(two);
	v.mv_data = two;
	return mdb_put(txn, s->meta, &k, &v, 0);
}

/*
 * lmdb_learn_in - one learn inside txn: 0 done, 1 nothing to do, or an
 * LMDB error (the caller aborts)
 */
static int
lmdb_learn_in(struct lmdb_env *s, MDB_txn *txn, const unsigned char *digest,
	      const uint64_t *tokens, size_t n, int is_spam, int sign,
	      const char **what)
{
	MDB_val k = { 32, (void *)digest }, v;
	int rc, recorded = 0, dspam, dham, record;
	unsigned char cls;
	size_t i;

	*what = "digest";
	rc = mdb_get(txn, s->digests, &k, &v);
	if (rc == 0 && v.mv_size == 1)
		recorded = *(unsigned char *)v.mv_data;
	else if (rc == 0)
		rc = MDB_CORRUPTED;
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if (tokstore_deltas(recorded, is_spam, sign, &dspam, &dham,
			    &record) == 1)
		return 1;
	*what = "token";
	for (i = 0; i < n; i++)
		if ((rc = lmdb_token_add(s, txn, tokens[i], dspam, dham)) != 0)
			return rc;
	*what = "totals";
	if ((rc = lmdb_total_add(s, txn, dspam, dham)) != 0)
		return rc;
	*what = "digest";
	if (record) {
		cls = (unsigned char)record;
		v.mv_size = 1;
		v.mv_data = &cls;
		return mdb_put(txn, s->digests, &k, &v, 0);
	}
	return mdb_del(txn, s->digests, &k, NULL);
}

/*
 * lmdb_learn_txn - items[0..n) in one write transaction: 0 (each
 * item's rc set), or an LMDB error (the transaction aborted, nothing
 * went in)
 */
static int
lmdb_learn_txn(struct lmdb_env *s, struct tokstore_item *items, size_t n,
	       const char **what)
{
	MDB_txn *txn;
	int rc = 0, r;

	*what = "write transaction";
	if ((rc = lmdb_begin(s, 0, &txn)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		struct tokstore_item *it = &items[i];

		r = lmdb_learn_in(s, txn, it->digest, it->tokens, it->n,
				  it->is_spam, it->sign, what);
		if (r != 0 && r != 1) {
			rc = r;
			break;
		}
		it->rc = r;
	}
	rc = lmdb_finish(s, txn, rc, what);
	if (rc != 0)
		for (size_t i = 0; i < n; i++)
			items[i].rc = -1;
	return rc;
}

/*
 * lmdb_learn_many - in one transaction; on MDB_MAP_FULL grow the map
 * (to twice, or more for what the items need) and retry once
 */
static int
lmdb_learn_many(struct tokstore *ts, struct tokstore_item *items, size_t n,
		char *why, size_t whylen)
{
	struct lmdb_env *s = ((struct lmdb_store *)ts)->e;
	const char *what;
	MDB_envinfo info;
	size_t grow, need = (size_t)1 << 20;
	int rc;

	rc = lmdb_learn_txn(s, items, n, &what);
	if (rc == MDB_MAP_FULL) {
		mdb_env_info(s->env, &info);
		/* a leaf entry is ~24 bytes; copy-on-write doubles it */
		for (size_t i = 0; i < n; i++)
			need += items[i].n * 128;
		grow = info.me_mapsize > need ? info.me_mapsize : need;
		if ((rc = lmdb_resize(s, info.me_mapsize + grow)) != 0)
			return lmdb_fail(s, why, whylen, "growing the map", rc);
		rc = lmdb_learn_txn(s, items, n, &what);
	}
	if (rc == 0)
		return 0;
	return lmdb_fail(s, why, whylen, what, rc);
}

/* lmdb_learn - one learn: a batch of one */
static int
lmdb_learn(struct tokstore *ts, const unsigned char *digest,
	   const uint64_t *tokens, size_t n, int is_spam, int sign, char *why,
	   size_t whylen)
{
	struct tokstore_item it;

	memcpy(it.digest, digest, sizeof(it.digest));
	it.tokens = (uint64_t *)tokens;
	it.n = n;
	it.is_spam = is_spam;
	it.sign = sign;
	it.rc = -1;
	if (lmdb_learn_many(ts, &it, 1, why, whylen) != 0)
		return -1;
	return it.rc;
}

/* lmdb_env_free - close an environment no handle uses */
static void
lmdb_env_free(struct lmdb_env *s)
{
	if (s->env != NULL)
		mdb_env_close(s->env);
	pthread_rwlock_destroy(&s->lock);
	free(s->path);
	free(s);
}

/* lmdb_close - free the handle; the environment with its last handle */
static void
lmdb_close(struct tokstore *ts)
{
	struct lmdb_store *h = (struct lmdb_store *)ts;
	struct lmdb_env *s = h->e, **pp;
	int last;

	pthread_mutex_lock(&lmdb_envs_mu);
	if ((last = --s->refs == 0))
		for (pp = &lmdb_envs; *pp != NULL; pp = &(*pp)->next)
			if (*pp == s) {
				*pp = s->next;
				break;
			}
	pthread_mutex_unlock(&lmdb_envs_mu);
	if (last)
		lmdb_env_free(s);
	free(h);
}

static const struct tokstore_ops lmdb_ops = {
	lmdb_lookup, lmdb_learn, lmdb_learn_many, lmdb_close,
};

/*
 * lmdb_dbs - open (read-only: find) the three databases and check the
 * version
 */
static int
lmdb_dbs(struct lmdb_env *s, int readonly, const char **what)
{
	unsigned flags = readonly ? 0 : MDB_CREATE;
	MDB_val k = { 7, "version" }, v;
	uint32_t version = LMDB_VERSION;
	MDB_txn *txn;
	int rc;

	*what = "transaction";
	if ((rc = lmdb_begin(s, readonly ? MDB_RDONLY : 0, &txn)) != 0)
		return rc;
	*what = "database tokens";
	if ((rc = mdb_dbi_open(txn, "tokens", flags, &s->tokens)) != 0)
		goto out;
	*what = "database meta";
	if ((rc = mdb_dbi_open(txn, "meta", flags, &s->meta)) != 0)
		goto out;
	*what = "database digests";
	if ((rc = mdb_dbi_open(txn, "digests", flags, &s->digests)) != 0)
		goto out;
	*what = "version";
	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == MDB_NOTFOUND && !readonly) {
		v.mv_size = sizeof(version);
		v.mv_data = &version;
		rc = mdb_put(txn, s->meta, &k, &v, 0);
	} else if (rc == 0) {
		if (v.mv_size != sizeof(version))
			rc = MDB_CORRUPTED;
		else if (memcpy(&version, v.mv_data, sizeof(version)),
			 version != LMDB_VERSION)
			rc = MDB_VERSION_MISMATCH;
	}
out:
	return lmdb_finish(s, txn, rc, what);
}

/* lmdb_env_open - open the environment of opts->path (NULL: why) */
static struct lmdb_env *
lmdb_env_open(const struct tokstore_opts *opts, const struct stat *st,
	      char *why, size_t whylen)
{
	struct lmdb_env *s;
	pthread_rwlockattr_t attr;
	const char *what;
	int rc, dead;

	s = xcalloc(1, sizeof(*s));
	s->path = xstrdup(opts->path);
	s->dev = st->st_dev;
	s->ino = st->st_ino;
	s->pid = getpid();
	s->readonly = opts->readonly;
	s->refs = 1;
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr,
		PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&s->lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	what = "mdb_env_create";
	if ((rc = mdb_env_create(&s->env)) != 0)
		goto fail;
	mdb_env_set_maxdbs(s->env, 3);
	mdb_env_set_maxreaders(s->env, LMDB_MAXREADERS);
	mdb_env_set_mapsize(s->env, opts->map_size ? opts->map_size :
			    LMDB_MAP_DEFAULT);
	what = "open";
	if ((rc = mdb_env_open(s->env, s->path, MDB_NOTLS |
			       (opts->readonly ? MDB_RDONLY : 0), 0600)) != 0)
		goto fail;
	what = "mdb_reader_check";
	if ((rc = mdb_reader_check(s->env, &dead)) != 0)
		goto fail;
	if ((rc = lmdb_dbs(s, opts->readonly, &what)) != 0)
		goto fail;
	return s;
fail:
	if (rc == MDB_INVALID)
		tokstore_why(why, whylen, "lmdb %s: %s: not an LMDB store "
			     "(%s)", s->path, what, mdb_strerror(rc));
	else if (rc == MDB_NOTFOUND && opts->readonly)
		tokstore_why(why, whylen, "lmdb %s: %s: not found (a store "
			     "opened read-only must have been learned into)",
			     s->path, what);
	else
		lmdb_fail(s, why, whylen, what, rc);
	lmdb_env_free(s);
	return NULL;
}

/*
 * tokstore_lmdb_open - a handle on the store in opts->path (created when
 * missing), on this process's environment of it if there is one
 */
struct tokstore *
tokstore_lmdb_open(const struct tokstore_opts *opts, char *why,
		   size_t whylen)
{
	struct lmdb_store *h;
	struct lmdb_env *s;
	struct stat st;

	if (opts->path == NULL || *opts->path == '\0') {
		tokstore_why(why, whylen, "lmdb: no store directory");
		return NULL;
	}
	if (!opts->readonly && mkdir(opts->path, 0700) != 0 &&
	    errno != EEXIST) {
		tokstore_why(why, whylen, "lmdb %s: mkdir: %s", opts->path,
			     strerror(errno));
		return NULL;
	}
	if (stat(opts->path, &st) != 0) {
		tokstore_why(why, whylen, "lmdb %s: %s", opts->path,
			     strerror(errno));
		return NULL;
	}
	if (!S_ISDIR(st.st_mode)) {
		tokstore_why(why, whylen, "lmdb %s: not a directory",
			     opts->path);
		return NULL;
	}
	/* held while opening: two threads opening one store share it too */
	pthread_mutex_lock(&lmdb_envs_mu);
	for (s = lmdb_envs; s != NULL; s = s->next)
		if (s->dev == st.st_dev && s->ino == st.st_ino &&
		    s->pid == getpid())
			break;
	if (s != NULL && s->readonly && !opts->readonly) {
		pthread_mutex_unlock(&lmdb_envs_mu);
		tokstore_why(why, whylen, "lmdb %s: open read-only already "
			     "in this process", opts->path);
		return NULL;
	}
	if (s != NULL) {
		s->refs++;
	} else if ((s = lmdb_env_open(opts, &st, why, whylen)) != NULL) {
		s->next = lmdb_envs;
		lmdb_envs = s;
	}
	pthread_mutex_unlock(&lmdb_envs_mu);
	if (s == NULL)
		return NULL;
	h = xcalloc(1, sizeof(*h));
	h->base.ops = &lmdb_ops;
	h->e = s;
	return &h->base;
}
