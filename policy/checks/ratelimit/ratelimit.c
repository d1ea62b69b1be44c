/*
 * ratelimit - the rate limit check (see ratelimit.h).
 *
 * Diagnostics: a Redis that fails is one warning (then RATELIMIT_ERROR on
 * each message, which the summary line shows) and one notice when it is
 * back; bad limits are configuration errors at FILE:LINE (conf.c).
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "conf.h"
#include "log.h"
#include "netaddr.h"
#include "ratelimit.h"
#include "redispool.h"
#include "rlmem.h"
#include "session.h"
#include "symbols.h"
#include "txn.h"
#include "util.h"

#define RL_POOLS_MAX	4
#define RL_KEY_MAX	(TXN_MACRO_MAX + 64)

enum rl_kind { RL_LOGIN, RL_CLIENT, RL_DOMAIN, RL_NKINDS };

static const struct {
	const char	*prefix;	/* of the key: messages */
	const char	*rcpt_prefix;	/* recipients */
	const char	*what;		/* in the reply */
	const char	*msg_symbol, *rcpt_symbol;
} rl_kinds[RL_NKINDS] = {
	[RL_LOGIN] = { "l:", "lr:", "login", "RATELIMIT_LOGIN",
		       "RATELIMIT_LOGIN_RCPT" },
	[RL_CLIENT] = { "c:", "cr:", "client", "RATELIMIT_CLIENT",
			"RATELIMIT_CLIENT_RCPT" },
	[RL_DOMAIN] = { "d:", "dr:", "sender domain", "RATELIMIT_SENDER_DOMAIN",
			"RATELIMIT_SENDER_DOMAIN_RCPT" },
};

/*
 * KEYS: one per window; ARGV[1] now (ms), ARGV[2] the cost, then the
 * window (ms) and the limit of each key.  The rules of rate_roll() and
 * rate_over() (rate.c).  Returns 0 (counted everywhere) or the 1-based
 * key over its limit (counted nowhere).
 */
static const char RATE_SCRIPT[] =
	"local now, cost = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
	"local st = {}\n"
	"for i = 1, #KEYS do\n"
	"  local win = tonumber(ARGV[1 + 2 * i])\n"
	"  local lim = tonumber(ARGV[2 + 2 * i])\n"
	"  local bucket = now - (now % win)\n"
	"  local v = redis.call('HMGET', KEYS[i], 's', 'c', 'p')\n"
	"  local s = tonumber(v[1])\n"
	"  local c, p = tonumber(v[2]) or 0, tonumber(v[3]) or 0\n"
	"  if s == nil then s, c, p = bucket, 0, 0\n"
	"  elseif s < bucket then\n"
	"    if s == bucket - win then p = c else p = 0 end\n"
	"    s, c = bucket, 0\n"
	"  end\n"
	"  local el = now - s\n"
	"  if el < 0 then el = 0 end\n"
	"  if el > win then el = win end\n"
	"  local w = math.floor((win - el) * 1000 / win)\n"
	"  if p * w + (c + cost) * 1000 > lim * 1000 then return i end\n"
	"  st[i] = { s, c, p, win }\n"
	"end\n"
	"for i = 1, #KEYS do\n"
	"  redis.call('HSET', KEYS[i], 's', st[i][1], 'c', st[i][2] + cost,\n"
	"             'p', st[i][3])\n"
	"  redis.call('PEXPIRE', KEYS[i], 2 * st[i][4])\n"
	"end\n"
	"return 0\n";

static long long
rl_realtime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long (*ratelimit_clock)(void) = rl_realtime;

static struct {
	pthread_mutex_t	lock;
	struct rlmem	*mem;
	struct {
		char		*key;
		struct redispool *pool;
		char		sha[41];
	} pool[RL_POOLS_MAX];
	size_t		npool;
	long long	down_until;	/* ms: Redis not asked before */
	int		down;		/* a failure logged, no recovery yet */
} rl = { .lock = PTHREAD_MUTEX_INITIALIZER };

int
ratelimit_enabled(const struct conf *c)
{
	return c->ratelimit_login.n || c->ratelimit_login_rcpt.n ||
	    c->ratelimit_client.n || c->ratelimit_client_rcpt.n ||
	    c->ratelimit_sender_domain.n || c->ratelimit_sender_domain_rcpt.n;
}

void
ratelimit_stop(void)
{
	pthread_mutex_lock(&rl.lock);
	rlmem_free(rl.mem);
	rl.mem = NULL;
	for (size_t i = 0; i < rl.npool; i++) {
		redispool_free(rl.pool[i].pool);
		free(rl.pool[i].key);
	}
	rl.npool = 0;
	pthread_mutex_unlock(&rl.lock);
}

void
ratelimit_client_key(const struct netaddr *a, int ipv4, int ipv6, char *buf,
		     size_t size)
{
	struct netaddr m = *a;
	int bits = a->family == AF_INET ? ipv4 : ipv6;
	int len = a->family == AF_INET ? 4 : 16;
	char text[64];

	for (int i = 0; i < len; i++) {
		int keep = bits - 8 * i;

		if (keep <= 0)
			m.addr[i] = 0;
		else if (keep < 8)
			m.addr[i] &= (uint8_t)(0xff << (8 - keep));
	}
	netaddr_format(&m, text, sizeof(text));
	snprintf(buf, size, "%s/%d", text, bits);
}

/* rl_pool_index - the pool slot of this configuration (lock held), or -1 */
static int
rl_pool_index(const struct conf *c, char *why, size_t whylen)
{
	char key[1024];
	struct redispool *p;

	snprintf(key, sizeof(key), "%s|%s|%d", c->redis_server,
		 c->redis_password, c->redis_timeout);
	for (size_t i = 0; i < rl.npool; i++)
		if (strcmp(rl.pool[i].key, key) == 0)
			return (int)i;
	if (rl.npool == RL_POOLS_MAX) {
		snprintf(why, whylen, "redis %s: too many Redis settings in "
			 "one process", c->redis_server);
		return -1;
	}
	p = redispool_new(c->redis_server, c->redis_password, c->redis_timeout,
			  why, whylen);
	if (p == NULL)
		return -1;
	rl.pool[rl.npool].key = xstrdup(key);
	rl.pool[rl.npool].pool = p;
	rl.pool[rl.npool].sha[0] = '\0';
	return (int)rl.npool++;
}

struct redispool *
ratelimit_pool(const struct conf *c, char *why, size_t whylen)
{
	struct redispool *p = NULL;
	int i;

	pthread_mutex_lock(&rl.lock);
	if ((i = rl_pool_index(c, why, whylen)) >= 0)
		p = rl.pool[i].pool;
	pthread_mutex_unlock(&rl.lock);
	return p;
}

int
ratelimit_redis_down(long long now)
{
	int down;

	pthread_mutex_lock(&rl.lock);
	down = now < rl.down_until;
	pthread_mutex_unlock(&rl.lock);
	return down;
}

void
ratelimit_redis_failed(const char *what, const char *why, long long now)
{
	int first;

	pthread_mutex_lock(&rl.lock);
	first = !rl.down;
	rl.down = 1;
	rl.down_until = now + RATELIMIT_RETRY_MS;
	pthread_mutex_unlock(&rl.lock);
	if (first)
		log_warn("%s: %s; ratelimit_error_action applies until it "
			 "answers (asked again every %d s)", what, why,
			 RATELIMIT_RETRY_MS / 1000);
}

void
ratelimit_redis_ok(void)
{
	int was;

	pthread_mutex_lock(&rl.lock);
	was = rl.down;
	rl.down = 0;
	rl.down_until = 0;
	pthread_mutex_unlock(&rl.lock);
	if (was)
		log_msg(LOG_NOTICE, "ratelimit: redis answers again");
}

/* rl_mem_hit - the decision in process */
static int
rl_mem_hit(const struct conf *c, const struct rl_req *reqs, size_t n,
	   long long now, size_t *req, int *win)
{
	struct rlmem *m;

	pthread_mutex_lock(&rl.lock);
	if (rl.mem == NULL)
		rl.mem = rlmem_new((size_t)c->ratelimit_memory_keys);
	m = rl.mem;
	pthread_mutex_unlock(&rl.lock);
	return rlmem_hit(m, reqs, n, now, 1, req, win);
}

/* rl_redis_hit - the decision in Redis: one script; -1 with why */
static int
rl_redis_hit(const struct conf *c, const struct rl_req *reqs, size_t n,
	     long long now, size_t *req, int *win, char *why, size_t whylen)
{
	const char *argv[3 + RL_NKINDS * RATE_MAX * 3 + 2];
	size_t lens[sizeof(argv) / sizeof(argv[0])];
	char keys[RL_NKINDS * RATE_MAX][RL_KEY_MAX + 128];
	char nums[RL_NKINDS * RATE_MAX * 2 + 2][24];
	struct redispool *p;
	char sha[41];
	size_t nk = 0, argc, k = 0;
	redisReply *r;
	int i, rc = -1;

	if (ratelimit_redis_down(now)) {
		snprintf(why, whylen, "redis %s: not answering (retried "
			 "every %d s)", c->redis_server,
			 RATELIMIT_RETRY_MS / 1000);
		return -1;
	}
	pthread_mutex_lock(&rl.lock);
	i = rl_pool_index(c, why, whylen);
	p = i >= 0 ? rl.pool[i].pool : NULL;
	if (p)
		memcpy(sha, rl.pool[i].sha, sizeof(sha));
	pthread_mutex_unlock(&rl.lock);
	if (p == NULL)
		return -1;
	if (sha[0] == '\0') {
		if (redispool_load(p, RATE_SCRIPT, sha, why, whylen) != 0)
			goto fail;
		pthread_mutex_lock(&rl.lock);
		memcpy(rl.pool[i].sha, sha, sizeof(sha));
		pthread_mutex_unlock(&rl.lock);
	}
	for (size_t q = 0; q < n; q++)
		for (int j = 0; j < reqs[q].rates->n; j++) {
			char w[32];

			rate_window_text(reqs[q].rates->v[j].window, w,
					 sizeof(w));
			snprintf(keys[nk], sizeof(keys[nk]), "%s%s:%s",
				 c->ratelimit_redis_prefix, reqs[q].key, w);
			argv[3 + nk] = keys[nk];
			nk++;
		}
	snprintf(nums[k++], sizeof(nums[0]), "%zu", nk);
	argv[2] = nums[0];
	argc = 3 + nk;
	snprintf(nums[k], sizeof(nums[0]), "%lld", now);
	argv[argc++] = nums[k++];
	argv[argc++] = "1";
	for (size_t q = 0; q < n; q++)
		for (int j = 0; j < reqs[q].rates->n; j++) {
			snprintf(nums[k], sizeof(nums[0]), "%lld",
				 reqs[q].rates->v[j].window);
			argv[argc++] = nums[k++];
			snprintf(nums[k], sizeof(nums[0]), "%ld",
				 reqs[q].rates->v[j].limit);
			argv[argc++] = nums[k++];
		}
	for (size_t a = 2; a < argc; a++)
		lens[a] = strlen(argv[a]);
	r = redispool_eval(p, sha, RATE_SCRIPT, (int)argc, argv, lens,
			   "rate script", why, whylen);
	if (r == NULL)
		goto fail;
	if (r->type != REDIS_REPLY_INTEGER || r->integer < 0 ||
	    (size_t)r->integer > nk) {
		redispool_fail(p, why, whylen, "rate script",
			       r->type == REDIS_REPLY_ERROR ? r->str :
			       "unexpected reply");
		freeReplyObject(r);
		goto fail;
	}
	rc = 0;
	if (r->integer > 0) {
		size_t at = (size_t)r->integer - 1;

		for (size_t q = 0; q < n; q++) {
			if (at < (size_t)reqs[q].rates->n) {
				*req = q;
				*win = (int)at;
				break;
			}
			at -= (size_t)reqs[q].rates->n;
		}
		rc = 1;
	}
	freeReplyObject(r);
	ratelimit_redis_ok();
	return rc;
fail:
	ratelimit_redis_failed("ratelimit", why, now);
	return -1;
}

int
ratelimit_decide(const struct conf *c, const struct rl_req *reqs, size_t n,
		 size_t *req, int *win, char *why, size_t whylen)
{
	long long now = ratelimit_clock();

	if (n == 0)
		return 0;
	if (c->ratelimit_backend == RATELIMIT_REDIS)
		return rl_redis_hit(c, reqs, n, now, req, win, why, whylen);
	return rl_mem_hit(c, reqs, n, now, req, win);
}

struct rl_stage {
	struct rl_req	req[RL_NKINDS];
	enum rl_kind	kind[RL_NKINDS];
	const char	*value[RL_NKINDS];	/* as the reply shows it */
	char		key[RL_NKINDS][RL_KEY_MAX];
	size_t		n;
};

/* rl_add - one key of the stage, when its kind has limits */
static void
rl_add(struct rl_stage *st, enum rl_kind kind, int rcpt, const char *value,
       const struct ratelist *rates)
{
	const char *prefix = rcpt ? rl_kinds[kind].rcpt_prefix :
	    rl_kinds[kind].prefix;
	size_t i = st->n;

	if (rates->n == 0 || *value == '\0')
		return;
	snprintf(st->key[i], sizeof(st->key[i]), "%s%s", prefix, value);
	st->req[i].key = st->key[i];
	st->req[i].rates = rates;
	st->kind[i] = kind;
	st->value[i] = st->key[i] + strlen(prefix);
	st->n++;
}

/*
 * rl_stage - the keys of this transaction: rcpt picks the recipient
 * limits; none for an exempt client
 */
static void
rl_stage(const struct txn *t, int rcpt, struct rl_stage *st)
{
	const struct conf *c = t->conf;
	const struct session *s = t->sess;
	char net[80], domain[256];
	const char *at;
	size_t n = 0;

	st->n = 0;
	if (s->have_client && netlist_match(&c->ratelimit_exempt, &s->client))
		return;
	rl_add(st, RL_LOGIN, rcpt, t->auth_authen, rcpt ? &c->ratelimit_login_rcpt :
	       &c->ratelimit_login);
	if (s->have_client &&
	    !netlist_match(&c->trusted_networks, &s->client)) {
		ratelimit_client_key(&s->client, c->ratelimit_ipv4_prefix,
				     c->ratelimit_ipv6_prefix, net, sizeof(net));
		rl_add(st, RL_CLIENT, rcpt, net, rcpt ? &c->ratelimit_client_rcpt :
		       &c->ratelimit_client);
	}
	at = strrchr(t->mail_from, '@');
	if (at != NULL) {
		for (at++; *at && n + 1 < sizeof(domain); at++)
			domain[n++] = (char)((*at >= 'A' && *at <= 'Z') ?
			    *at + 32 : *at);
		domain[n] = '\0';
		rl_add(st, RL_DOMAIN, rcpt, domain, rcpt ?
		       &c->ratelimit_sender_domain_rcpt :
		       &c->ratelimit_sender_domain);
	}
}

/* rl_run - decide and name the outcome in set */
static void
rl_run(struct txn *t, int rcpt, struct symbols *set)
{
	struct rl_stage st;
	char why[512], w[32], what[RL_KEY_MAX + 96];
	size_t req = 0;
	int win = 0, rc;

	rl_stage(t, rcpt, &st);
	rc = ratelimit_decide(t->conf, st.req, st.n, &req, &win, why,
			      sizeof(why));
	if (rc < 0) {
		symbols_add(set, "RATELIMIT_ERROR", 0, "%s", why);
		return;
	}
	if (rc == 0)
		return;
	rate_window_text(st.req[req].rates->v[win].window, w, sizeof(w));
	snprintf(what, sizeof(what), "%s %s, %ld %s per %s",
		 rl_kinds[st.kind[req]].what, st.value[req],
		 st.req[req].rates->v[win].limit, rcpt ? "recipients" :
		 "messages", w);
	symbols_add_opts(set, rcpt ? rl_kinds[st.kind[req]].rcpt_symbol :
			 rl_kinds[st.kind[req]].msg_symbol, 0, what, NULL,
			 "%s", what);
}

void
ratelimit_mail(struct txn *t)
{
	rl_run(t, 0, &t->symbols);
}

void
ratelimit_rcpt(struct txn *t, struct txn_rcpt *r, struct symbols *rs)
{
	rl_run(t, 1, rs);
}
