/*
 * tokstore_redis - the shared token store: a Redis server (see
 * tokstore.h), through hiredis' synchronous API.
 *
 * Keys (PREFIX is opts->prefix, "rg:" by default):
 *   PREFIX t:TOKEN    TOKEN as 16 lower-case hex digits; a string "S H",
 *                     the spam and ham counts in decimal; EXPIRE token_ttl
 *                     (refreshed whenever a learn touches it), deleted
 *                     when both counts reach zero
 *   PREFIX totals     a string "S H", the messages learned; no expiry, so
 *                     volatile-* eviction never drops it
 *   PREFIX d:DIGEST   DIGEST as 64 hex digits; "S" or "H"; no expiry
 *                     unless opts->digest_ttl is set (see tokstore.h)
 * Packed strings rather than hashes: a lookup is then one MGET of every
 * token key and the totals, one command in one round trip, and a token
 * costs Redis one small string.
 *
 * A learn is one Lua script (LEARN below), so it is atomic in Redis with
 * the digest check, the totals and the digest record, whichever node
 * sends it: EVALSHA of the SHA-1 that SCRIPT LOAD returned at open, and
 * EVAL (which caches it again) when Redis answers NOSCRIPT, as after a
 * restart.  The script applies the same rules as tokstore_deltas
 * (tokstore.c): learned already or forgetting an unknown digest is 1, a
 * move subtracts from the other class first, counts never below zero.
 *
 * Connections: a pool of idle contexts behind a mutex (at most
 * REDIS_POOL_IDLE kept); a call takes one or connects a new one, and
 * puts it back when it worked.  A context that failed is freed; when a
 * connect fails, the idle ones are dropped too (Redis is gone or
 * restarted).  A call that fails on a reused context with the connection
 * closed or reset is tried once more on a new one: Redis restarted under
 * us; a retried learn is harmless, as the digest makes it idempotent.
 * A new connection sends AUTH first when opts->password is set (the
 * password never appears in a reason).  Connect and every read and write of a command are bounded by
 * opts->timeout_ms (1000 ms by default; hiredis' socket timeouts bound
 * each read and write).  hiredis writes with write(2): the process must
 * ignore SIGPIPE (the daemon does: milter/signals.c).
 *
 * After fork() a child does not use the parent's idle connections (it
 * closes its copies and connects its own).
 *
 * Open connects once and loads the script, so a server that cannot be
 * reached or a bad address is reported at start; later calls connect as
 * they need.
 */
#include "config.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "tokstore_int.h"
#include "util.h"

#define REDIS_POOL_IDLE		16	/* idle connections kept */
#define REDIS_TIMEOUT_DEFAULT	1000	/* ms */
#define REDIS_ARGS		7	/* EVALSHA, sha, numkeys and 4 ARGV */

/*
 * KEYS[1] the digest record, KEYS[2] the totals, KEYS[3..] the tokens;
 * ARGV: the class ('S' or 'H'), the sign, the token TTL, the digest TTL
 * (seconds, 0: none).  Returns 1 (nothing to do) or 0.
 */
static const char LEARN[] =
	"local function pair(v)\n"
	"  if not v then return 0, 0 end\n"
	"  local s, h = string.match(v, '^(%d+) (%d+)$')\n"
	"  if not s then return 0, 0 end\n"
	"  return tonumber(s), tonumber(h)\n"
	"end\n"
	"local function clamp(x, max)\n"
	"  if x < 0 then return 0 end\n"
	"  if max and x > max then return max end\n"
	"  return x\n"
	"end\n"
	"local want, sign = ARGV[1], tonumber(ARGV[2])\n"
	"local ttl, dttl = tonumber(ARGV[3]), tonumber(ARGV[4])\n"
	"local old = redis.call('GET', KEYS[1])\n"
	"local ds, dh = 0, 0\n"
	"if old == 'S' then ds = -1 elseif old == 'H' then dh = -1 end\n"
	"if sign > 0 then\n"
	"  if old == want then return 1 end\n"
	"  if want == 'S' then ds = ds + 1 else dh = dh + 1 end\n"
	"elseif ds == 0 and dh == 0 then\n"
	"  return 1\n"
	"end\n"
	"for i = 3, #KEYS do\n"
	"  local s, h = pair(redis.call('GET', KEYS[i]))\n"
	"  s = clamp(s + ds, 4294967295)\n"
	"  h = clamp(h + dh, 4294967295)\n"
	"  if s == 0 and h == 0 then\n"
	"    redis.call('DEL', KEYS[i])\n"
	"  elseif ttl > 0 then\n"
	"    redis.call('SET', KEYS[i], s .. ' ' .. h, 'EX', ttl)\n"
	"  else\n"
	"    redis.call('SET', KEYS[i], s .. ' ' .. h)\n"
	"  end\n"
	"end\n"
	"local ts, th = pair(redis.call('GET', KEYS[2]))\n"
	"redis.call('SET', KEYS[2], clamp(ts + ds) .. ' ' .. clamp(th + dh))\n"
	"if sign < 0 then\n"
	"  redis.call('DEL', KEYS[1])\n"
	"elseif dttl > 0 then\n"
	"  redis.call('SET', KEYS[1], want, 'EX', dttl)\n"
	"else\n"
	"  redis.call('SET', KEYS[1], want)\n"
	"end\n"
	"return 0\n";

struct redis_store {
	struct tokstore	base;
	char		*server;	/* as given, for the reasons */
	char		*host;		/* TCP, or NULL */
	char		*sock;		/* unix socket, or NULL */
	int		port;
	char		*prefix;
	char		*password;	/* AUTH, or NULL */
	struct timeval	tv;
	long		token_ttl, digest_ttl;
	char		sha[41];	/* of LEARN, from SCRIPT LOAD */
	pthread_mutex_t	mu;		/* guards idle, nidle, pid */
	pid_t		pid;		/* whose the idle connections are */
	redisContext	*idle[REDIS_POOL_IDLE];
	int		nidle;
};

/* redis_fail - "redis SERVER: what: why"; returns -1 */
static int
redis_fail(struct redis_store *s, char *why, size_t whylen, const char *what,
	   const char *reason)
{
	return tokstore_why(why, whylen, "redis %s: %s: %s", s->server, what,
			    reason);
}

/* redis_drop_idle - free every idle connection */
static void
redis_drop_idle(struct redis_store *s)
{
	redisContext *gone[REDIS_POOL_IDLE];
	int i, n;

	pthread_mutex_lock(&s->mu);
	n = s->nidle;
	memcpy(gone, s->idle, n * sizeof(gone[0]));
	s->nidle = 0;
	pthread_mutex_unlock(&s->mu);
	for (i = 0; i < n; i++)
		redisFree(gone[i]);
}

/* redis_auth - AUTH on a new connection; -1 (why: Redis' answer) */
static int
redis_auth(struct redis_store *s, redisContext *c, char *why, size_t whylen)
{
	const char *argv[2] = { "AUTH", s->password };
	size_t lens[2] = { 4, strlen(s->password) };
	redisReply *r = redisCommandArgv(c, 2, argv, lens);
	int rc = -1;

	if (r == NULL)
		redis_fail(s, why, whylen, "AUTH", c->errstr[0] ? c->errstr :
			   "no reply");
	else if (r->type == REDIS_REPLY_ERROR)
		redis_fail(s, why, whylen, "AUTH", r->str);
	else
		rc = 0;
	if (r != NULL)
		freeReplyObject(r);
	return rc;
}

/* redis_connect - a new connection with the timeouts set, or NULL (why) */
static redisContext *
redis_connect(struct redis_store *s, char *why, size_t whylen)
{
	redisContext *c;

	if (s->sock != NULL)
		c = redisConnectUnixWithTimeout(s->sock, s->tv);
	else
		c = redisConnectWithTimeout(s->host, s->port, s->tv);
	if (c == NULL) {
		redis_fail(s, why, whylen, "connect", "out of memory");
		return NULL;
	}
	if (c->err == 0 && redisSetTimeout(c, s->tv) != REDIS_OK && c->err == 0)
		c->err = REDIS_ERR_OTHER;
	if (c->err != 0) {
		redis_fail(s, why, whylen, "connect", c->errstr[0] ? c->errstr :
			   "cannot set the timeout");
		redisFree(c);
		redis_drop_idle(s);
		return NULL;
	}
	if (s->password != NULL && redis_auth(s, c, why, whylen) != 0) {
		redisFree(c);
		return NULL;
	}
	return c;
}

/* redis_get - an idle connection (*reused set) or a new one; NULL (why) */
static redisContext *
redis_get(struct redis_store *s, int *reused, char *why, size_t whylen)
{
	redisContext *c = NULL;

	pthread_mutex_lock(&s->mu);
	if (s->pid != getpid()) {
		/* forked: the sockets are the parent's; close our copies */
		while (s->nidle > 0)
			redisFree(s->idle[--s->nidle]);
		s->pid = getpid();
	}
	if (s->nidle > 0)
		c = s->idle[--s->nidle];
	pthread_mutex_unlock(&s->mu);
	*reused = c != NULL;
	return c != NULL ? c : redis_connect(s, why, whylen);
}

/* redis_put - keep a connection that worked for the next call */
static void
redis_put(struct redis_store *s, redisContext *c)
{
	pthread_mutex_lock(&s->mu);
	if (s->nidle < REDIS_POOL_IDLE) {
		s->idle[s->nidle++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&s->mu);
	if (c != NULL)
		redisFree(c);
}

/*
 * redis_call - one command; its reply (the caller frees it) or NULL with
 * why.  A reused connection found closed is replaced once (see above).
 */
static redisReply *
redis_call(struct redis_store *s, int argc, const char **argv,
	   const size_t *lens, const char *what, char *why, size_t whylen)
{
	redisContext *c;
	redisReply *r;
	int reused, tries, err, kind;

	for (tries = 0; tries < 2; tries++) {
		if ((c = redis_get(s, &reused, why, whylen)) == NULL)
			return NULL;
		r = redisCommandArgv(c, argc, argv, lens);
		err = errno;
		if (r != NULL) {
			redis_put(s, c);
			return r;
		}
		if (c->err == REDIS_ERR_IO && (err == EAGAIN ||
		    err == EWOULDBLOCK || err == EINTR))
			redis_fail(s, why, whylen, what, "timed out");
		else
			redis_fail(s, why, whylen, what, c->errstr[0] ?
				   c->errstr : "no reply");
		kind = c->err;
		redisFree(c);
		if (!reused || !(kind == REDIS_ERR_EOF ||
		    (kind == REDIS_ERR_IO && (err == ECONNRESET ||
		    err == EPIPE))))
			break;
	}
	return NULL;
}

/* redis_pair - "S H" to two counts; 0, or -1 when it is not that */
static int
redis_pair(const char *str, size_t len, unsigned long long *a,
	   unsigned long long *b)
{
	char buf[64], *end;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, str, len);
	buf[len] = '\0';
	if (buf[0] < '0' || buf[0] > '9')
		return -1;
	errno = 0;
	*a = strtoull(buf, &end, 10);
	if (*end != ' ' || end[1] < '0' || end[1] > '9')
		return -1;
	*b = strtoull(end + 1, &end, 10);
	return *end == '\0' && errno == 0 ? 0 : -1;
}

/* redis_token_key - PREFIX t:TOKEN into buf (room for it); its length */
static size_t
redis_token_key(const struct redis_store *s, char *buf, size_t size,
		uint64_t tok)
{
	return (size_t)snprintf(buf, size, "%st:%016llx", s->prefix,
				(unsigned long long)tok);
}

/* redis_lookup - one MGET of the token keys and the totals */
static int
redis_lookup(struct tokstore *ts, const uint64_t *tokens, size_t n,
	     struct tokstore_counts *counts, struct tokstore_totals *totals,
	     char *why, size_t whylen)
{
	struct redis_store *s = (struct redis_store *)ts;
	size_t klen = strlen(s->prefix) + 2 + 16 + 1, i;
	const char **argv = xmalloc((n + 2) * sizeof(*argv));
	size_t *lens = xmalloc((n + 2) * sizeof(*lens));
	char *keys = xmalloc(n * klen + 1), *totals_key;
	unsigned long long a, b;
	redisReply *r, *e;
	int rc = -1;

	argv[0] = "MGET";
	lens[0] = 4;
	for (i = 0; i < n; i++) {
		argv[i + 1] = keys + i * klen;
		lens[i + 1] = redis_token_key(s, keys + i * klen, klen,
					      tokens[i]);
	}
	totals_key = xmalloc(strlen(s->prefix) + 7);
	sprintf(totals_key, "%stotals", s->prefix);
	argv[n + 1] = totals_key;
	lens[n + 1] = strlen(totals_key);
	r = redis_call(s, (int)n + 2, argv, lens, "MGET", why, whylen);
	if (r == NULL)
		goto out;
	if (r->type == REDIS_REPLY_ERROR) {
		redis_fail(s, why, whylen, "MGET", r->str);
		goto out;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != n + 1) {
		redis_fail(s, why, whylen, "MGET", "unexpected reply");
		goto out;
	}
	for (i = 0; i <= n; i++) {
		e = r->element[i];
		if (e->type == REDIS_REPLY_NIL)
			continue;
		if (e->type != REDIS_REPLY_STRING ||
		    redis_pair(e->str, e->len, &a, &b) != 0) {
			tokstore_why(why, whylen, "redis %s: %s: not a count "
				     "pair", s->server, argv[i + 1]);
			goto out;
		}
		if (i == n) {
			totals->spam = a;
			totals->ham = b;
		} else {
			counts[i].spam = a > UINT32_MAX ? UINT32_MAX : a;
			counts[i].ham = b > UINT32_MAX ? UINT32_MAX : b;
		}
	}
	rc = 0;
out:
	if (r != NULL)
		freeReplyObject(r);
	free(totals_key);
	free(keys);
	free(lens);
	free(argv);
	return rc;
}

/* redis_learn - the LEARN script: EVALSHA, EVAL when Redis lost it */
static int
redis_learn(struct tokstore *ts, const unsigned char *digest,
	    const uint64_t *tokens, size_t n, int is_spam, int sign, char *why,
	    size_t whylen)
{
	struct redis_store *s = (struct redis_store *)ts;
	size_t plen = strlen(s->prefix), klen = plen + 2 + 16 + 1, i;
	size_t argc = n + 2 + REDIS_ARGS;
	const char **argv = xmalloc(argc * sizeof(*argv));
	size_t *lens = xmalloc(argc * sizeof(*lens));
	char *keys = xmalloc(n * klen + 1), *dkey = xmalloc(plen + 2 + 65);
	char *tkey = xmalloc(plen + 7), nkeys[24], ttl[24], dttl[24];
	redisReply *r = NULL;
	int rc = -1;

	sprintf(dkey, "%sd:", s->prefix);
	for (i = 0; i < 32; i++)
		sprintf(dkey + plen + 2 + 2 * i, "%02x", digest[i]);
	sprintf(tkey, "%stotals", s->prefix);
	snprintf(nkeys, sizeof(nkeys), "%zu", n + 2);
	snprintf(ttl, sizeof(ttl), "%ld", s->token_ttl);
	snprintf(dttl, sizeof(dttl), "%ld", s->digest_ttl);
	argv[0] = "EVALSHA";
	argv[1] = s->sha;
	argv[2] = nkeys;
	argv[3] = dkey;
	argv[4] = tkey;
	for (i = 0; i < n; i++) {
		argv[5 + i] = keys + i * klen;
		lens[5 + i] = redis_token_key(s, keys + i * klen, klen,
					      tokens[i]);
	}
	argv[5 + n] = is_spam ? "S" : "H";
	argv[6 + n] = sign > 0 ? "1" : "-1";
	argv[7 + n] = ttl;
	argv[8 + n] = dttl;
	for (i = 0; i < argc; i++)
		if (i < 5 || i >= 5 + n)
			lens[i] = strlen(argv[i]);
	r = redis_call(s, (int)argc, argv, lens, "EVALSHA", why, whylen);
	if (r != NULL && r->type == REDIS_REPLY_ERROR &&
	    strncmp(r->str, "NOSCRIPT", 8) == 0) {
		freeReplyObject(r);
		argv[0] = "EVAL";
		lens[0] = 4;
		argv[1] = LEARN;
		lens[1] = sizeof(LEARN) - 1;
		r = redis_call(s, (int)argc, argv, lens, "EVAL", why, whylen);
	}
	if (r == NULL)
		goto out;
	if (r->type == REDIS_REPLY_ERROR)
		redis_fail(s, why, whylen, "learn script", r->str);
	else if (r->type != REDIS_REPLY_INTEGER || r->integer < 0 ||
		 r->integer > 1)
		redis_fail(s, why, whylen, "learn script", "unexpected reply");
	else
		rc = (int)r->integer;
out:
	if (r != NULL)
		freeReplyObject(r);
	free(tkey);
	free(dkey);
	free(keys);
	free(lens);
	free(argv);
	return rc;
}

/* redis_close - free the idle connections and the handle */
static void
redis_close(struct tokstore *ts)
{
	struct redis_store *s = (struct redis_store *)ts;

	redis_drop_idle(s);
	pthread_mutex_destroy(&s->mu);
	free(s->server);
	free(s->host);
	free(s->sock);
	free(s->prefix);
	if (s->password != NULL) {
		memset(s->password, 0, strlen(s->password));
		free(s->password);
	}
	free(s);
}

static const struct tokstore_ops redis_ops = {
	redis_lookup, redis_learn, NULL, redis_close,
};

/*
 * redis_address - unix:PATH, HOST:PORT or [IPV6]:PORT into the handle;
 * -1 (why) when it is none of them
 */
static int
redis_address(struct redis_store *s, char *why, size_t whylen)
{
	const char *a = s->server, *colon;
	char *end;
	long port;

	if (strncmp(a, "unix:", 5) == 0 && a[5] != '\0') {
		s->sock = xstrdup(a + 5);
		return 0;
	}
	if (*a == '[') {
		colon = strchr(a, ']');
		if (colon == NULL || colon[1] != ':')
			goto bad;
		s->host = xstrndup(a + 1, (size_t)(colon - a - 1));
		colon++;
	} else {
		colon = strrchr(a, ':');
		if (colon == NULL || colon == a)
			goto bad;
		s->host = xstrndup(a, (size_t)(colon - a));
	}
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || port < 1 || port > 65535)
		goto bad;
	s->port = (int)port;
	return 0;
bad:
	return tokstore_why(why, whylen, "redis %s: not unix:PATH or "
			    "HOST:PORT", s->server);
}

/* tokstore_redis_open - check the address, connect, load the script */
struct tokstore *
tokstore_redis_open(const struct tokstore_opts *opts, char *why,
		    size_t whylen)
{
	const char *argv[3] = { "SCRIPT", "LOAD", LEARN };
	size_t lens[3] = { 6, 4, sizeof(LEARN) - 1 };
	struct redis_store *s;
	int ms = opts->timeout_ms > 0 ? opts->timeout_ms :
		REDIS_TIMEOUT_DEFAULT;
	redisReply *r;

	if (opts->redis == NULL || *opts->redis == '\0') {
		tokstore_why(why, whylen, "redis: no server");
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->base.ops = &redis_ops;
	pthread_mutex_init(&s->mu, NULL);
	s->pid = getpid();
	s->server = xstrdup(opts->redis);
	s->prefix = xstrdup(opts->prefix != NULL ? opts->prefix : "rg:");
	if (opts->password != NULL && *opts->password != '\0')
		s->password = xstrdup(opts->password);
	s->tv.tv_sec = ms / 1000;
	s->tv.tv_usec = (ms % 1000) * 1000;
	s->token_ttl = opts->token_ttl > 0 ? opts->token_ttl : 0;
	s->digest_ttl = opts->digest_ttl > 0 ? opts->digest_ttl : 0;
	if (redis_address(s, why, whylen) != 0)
		goto fail;
	r = redis_call(s, 3, argv, lens, "SCRIPT LOAD", why, whylen);
	if (r == NULL)
		goto fail;
	if (r->type != REDIS_REPLY_STRING || r->len != 40) {
		redis_fail(s, why, whylen, "SCRIPT LOAD",
			   r->type == REDIS_REPLY_ERROR ? r->str :
			   "unexpected reply");
		freeReplyObject(r);
		goto fail;
	}
	memcpy(s->sha, r->str, 40);
	freeReplyObject(r);
	return &s->base;
fail:
	redis_close(&s->base);
	return NULL;
}
