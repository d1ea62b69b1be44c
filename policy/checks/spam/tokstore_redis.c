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
 * Connections: the pool of redispool.h (lib/), shared with the rate
 * limits; a learn retried there after Redis restarted is harmless, as
 * the digest makes it idempotent.
 *
 * Open connects once and loads the script, so a server that cannot be
 * reached or a bad address is reported at start; later calls connect as
 * they need.
 */
#include "config.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redispool.h"
#include "tokstore_int.h"
#include "util.h"

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
	struct redispool *pool;
	const char	*server;	/* the pool's, for the reasons */
	char		*prefix;
	long		token_ttl, digest_ttl;
	char		sha[41];	/* of LEARN, from SCRIPT LOAD */
};

/* redis_fail - "redis SERVER: what: why"; returns -1 */
static int
redis_fail(struct redis_store *s, char *why, size_t whylen, const char *what,
	   const char *reason)
{
	return redispool_fail(s->pool, why, whylen, what, reason);
}

/* redis_call - one command through the pool */
static redisReply *
redis_call(struct redis_store *s, int argc, const char **argv,
	   const size_t *lens, const char *what, char *why, size_t whylen)
{
	return redispool_call(s->pool, argc, argv, lens, what, why, whylen);
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
		if ((i >= 2 && i < 5) || i >= 5 + n)
			lens[i] = strlen(argv[i]);
	r = redispool_eval(s->pool, s->sha, LEARN, (int)argc, argv, lens,
			   "learn script", why, whylen);
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

/* redis_close - free the pool and the handle */
static void
redis_close(struct tokstore *ts)
{
	struct redis_store *s = (struct redis_store *)ts;

	redispool_free(s->pool);
	free(s->prefix);
	free(s);
}

static const struct tokstore_ops redis_ops = {
	redis_lookup, redis_learn, NULL, redis_close,
};

/* tokstore_redis_open - check the address, connect, load the script */
struct tokstore *
tokstore_redis_open(const struct tokstore_opts *opts, char *why,
		    size_t whylen)
{
	struct redis_store *s;
	struct redispool *pool;

	if (opts->redis == NULL || *opts->redis == '\0') {
		tokstore_why(why, whylen, "redis: no server");
		return NULL;
	}
	pool = redispool_new(opts->redis, opts->password, opts->timeout_ms,
			     why, whylen);
	if (pool == NULL)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->base.ops = &redis_ops;
	s->pool = pool;
	s->server = redispool_server(pool);
	s->prefix = xstrdup(opts->prefix != NULL ? opts->prefix : "rg:");
	s->token_ttl = opts->token_ttl > 0 ? opts->token_ttl : 0;
	s->digest_ttl = opts->digest_ttl > 0 ? opts->digest_ttl : 0;
	if (redispool_load(pool, LEARN, s->sha, why, whylen) != 0) {
		redis_close(&s->base);
		return NULL;
	}
	return &s->base;
}
