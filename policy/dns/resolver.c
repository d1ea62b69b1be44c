/*
 * resolver - the shared DNS resolver on libunbound (see resolver.h).
 *
 * libunbound runs its own worker thread (ub_ctx_async(ctx, 1)); answers
 * come back through ub_fd(), and ub_process() calls the callbacks.  One
 * thread of ours does nothing but poll that descriptor and call
 * ub_process(), so callbacks always run there.  A caller registers its
 * query, then sleeps on its own condition variable until the answer or
 * its deadline.  A query struct is shared by the caller and the callback
 * and freed by whichever lets go last; a caller that gives up cancels the
 * query, and if the cancel loses the race the callback still frees it.
 *
 * In front of libunbound sits a small answer cache of our own: a cached
 * answer costs a hash lookup under a mutex, where going through
 * libunbound (even to its cache) costs two thread hand-offs and some
 * thirty system calls.  It keeps OK, NXDOMAIN and NODATA answers for
 * their TTL (negative ones for at most RESOLVER_NEG_TTL), never errors,
 * and holds at most RESOLVER_CACHE_MAX answers.  When it is full, a new
 * answer first makes room by dropping every expired one (a sweep, done
 * only when the earliest expiry has passed), else the least recently
 * used one (a list through every entry, a hit moves to its front): the
 * busy names (the local domains' SPF records, say) stay, whatever the
 * traffic of one-off names.
 *
 * Diagnostics: nothing here logs; every failure is a typed status with a
 * "why" for the caller's log line.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <unbound.h>

#include "resolver.h"
#include "util.h"

#define RESOLVER_BUCKETS	1024
#define RESOLVER_CACHE_MAX	4096
#define RESOLVER_MAX_TTL	3600
#define RESOLVER_NEG_TTL	60

struct rc_entry {			/* one cached answer */
	struct rc_entry	*next;		/* in its bucket */
	struct rc_entry	*newer, *older;	/* in the recently-used list */
	size_t		bucket;
	char		*name;		/* lowercased */
	int		type;
	time_t		expires;	/* CLOCK_MONOTONIC seconds */
	struct dns_answer answer;
};

struct resolver {
	int		refcount;
	struct ub_ctx	*ctx;
	pthread_mutex_t	cache_lock;
	struct rc_entry	*cache[RESOLVER_BUCKETS];
	struct rc_entry	*newest, *oldest;	/* the recently-used list */
	size_t		cached;
	size_t		cache_max;	/* RESOLVER_CACHE_MAX; tests set less */
	time_t		earliest;	/* no entry expires before (a bound) */
	time_t		(*now)(void);	/* rc_now; tests set a clock */
	pthread_t	thread;
	int		stop[2];	/* self-pipe to end the event thread */
	pthread_mutex_t	lock;		/* guards every struct rq */
	struct rq	*orphans;	/* given up, callback still due */
};

struct rq {
	pthread_cond_t	cond;
	int		refs;		/* caller + callback */
	int		done;
	int		err;
	struct ub_result *result;
	struct rq	*onext, *oprev;	/* in orphans, while orphan */
	int		orphan;
};

static void rq_release(struct rq *);
static void rq_orphan_unlink(struct resolver *, struct rq *);

/*
 * Zones unbound answers locally by default (RFC 6761, RFC 6303, AS112,
 * RFC 5737 documentation networks).  Mail checks ask the configured
 * servers about them like any other name: test zones live there.
 */
static const char *const resolver_nodefault[] = {
	"test.", "invalid.", "onion.", "home.arpa.", "resolver.arpa.",
	"10.in-addr.arpa.", "16.172.in-addr.arpa.", "17.172.in-addr.arpa.",
	"18.172.in-addr.arpa.", "19.172.in-addr.arpa.", "20.172.in-addr.arpa.",
	"21.172.in-addr.arpa.", "22.172.in-addr.arpa.", "23.172.in-addr.arpa.",
	"24.172.in-addr.arpa.", "25.172.in-addr.arpa.", "26.172.in-addr.arpa.",
	"27.172.in-addr.arpa.", "28.172.in-addr.arpa.", "29.172.in-addr.arpa.",
	"30.172.in-addr.arpa.", "31.172.in-addr.arpa.", "168.192.in-addr.arpa.",
	"0.in-addr.arpa.", "254.169.in-addr.arpa.", "2.0.192.in-addr.arpa.",
	"100.51.198.in-addr.arpa.", "113.0.203.in-addr.arpa.",
	"255.255.255.255.in-addr.arpa.", "0.ip6.arpa.", "d.f.ip6.arpa.",
	"8.e.f.ip6.arpa.", "9.e.f.ip6.arpa.", "a.e.f.ip6.arpa.",
	"b.e.f.ip6.arpa.", "8.b.d.0.1.0.0.2.ip6.arpa.",
};

static time_t rc_now(void);

/* resolver_loop - the event thread: poll ub_fd, process, until stopped */
static void *
resolver_loop(void *arg)
{
	struct resolver *r = arg;
	struct pollfd fds[2];

	fds[0].fd = ub_fd(r->ctx);
	fds[0].events = POLLIN;
	fds[1].fd = r->stop[0];
	fds[1].events = POLLIN;
	for (;;) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[1].revents)
			break;
		if (fds[0].revents)
			ub_process(r->ctx);
	}
	return NULL;
}

/* resolver_add_servers - "addr[@port] ..." as forwarders for "." */
static int
resolver_add_servers(struct resolver *r, const char *servers, char *err,
		     size_t errlen)
{
	char *copy = xstrdup(servers), *save = NULL, *item;
	int rc = 0;

	for (item = strtok_r(copy, ", \t", &save); item && rc == 0;
	     item = strtok_r(NULL, ", \t", &save)) {
		int e = ub_ctx_set_fwd(r->ctx, item);

		if (e != 0) {
			snprintf(err, errlen, "resolver %s: %s", item,
				 ub_strerror(e));
			rc = -1;
		}
	}
	free(copy);
	return rc;
}

struct resolver *
resolver_new(const char *servers, const char *trust_anchor, char *err,
	     size_t errlen)
{
	struct resolver *r = xcalloc(1, sizeof(*r));
	int e;

	r->refcount = 1;
	r->cache_max = RESOLVER_CACHE_MAX;
	r->now = rc_now;
	pthread_mutex_init(&r->cache_lock, NULL);
	if ((r->ctx = ub_ctx_create()) == NULL) {
		snprintf(err, errlen, "cannot create a libunbound context");
		free(r);
		return NULL;
	}
	pthread_mutex_init(&r->lock, NULL);
	r->stop[0] = r->stop[1] = -1;
	ub_ctx_set_option(r->ctx, "do-not-query-localhost:", "no");
	if (servers && *servers) {
		if (resolver_add_servers(r, servers, err, errlen) != 0)
			goto fail;
	} else if ((e = ub_ctx_resolvconf(r->ctx, NULL)) != 0) {
		snprintf(err, errlen, "/etc/resolv.conf: %s", ub_strerror(e));
		goto fail;
	}
	if (trust_anchor && *trust_anchor &&
	    (e = ub_ctx_add_ta_file(r->ctx, trust_anchor)) != 0) {
		snprintf(err, errlen, "trust anchor %s: %s", trust_anchor,
			 ub_strerror(e));
		goto fail;
	}
	if ((e = ub_ctx_async(r->ctx, 1)) != 0) {
		snprintf(err, errlen, "libunbound threads: %s", ub_strerror(e));
		goto fail;
	}
	/* after every setting: adding a zone finalizes the context */
	for (size_t i = 0; i < sizeof(resolver_nodefault) /
	     sizeof(resolver_nodefault[0]); i++)
		ub_ctx_zone_add(r->ctx, resolver_nodefault[i], "transparent");
	if (pipe(r->stop) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	if ((e = pthread_create(&r->thread, NULL, resolver_loop, r)) != 0) {
		snprintf(err, errlen, "cannot start the resolver thread: %s",
			 strerror(e));
		goto fail;
	}
	return r;
fail:
	if (r->stop[0] >= 0) {
		close(r->stop[0]);
		close(r->stop[1]);
	}
	ub_ctx_delete(r->ctx);
	pthread_mutex_destroy(&r->lock);
	pthread_mutex_destroy(&r->cache_lock);
	free(r);
	return NULL;
}

/* rc_hash - bucket of a (lowercased name, type) */
static size_t
rc_hash(const char *name, int type)
{
	size_t h = 5381u + (size_t)type;

	for (; *name; name++)
		h = h * 33u + (unsigned char)*name;
	return h % RESOLVER_BUCKETS;
}

static time_t
rc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* dns_answer_copy - a deep copy, for the cache and from it */
static void
dns_answer_copy(struct dns_answer *dst, const struct dns_answer *src)
{
	*dst = *src;
	dst->why = src->why ? xstrdup(src->why) : NULL;
	dst->rr = NULL;
	if (src->count) {
		dst->rr = xmalloc(src->count * sizeof(*dst->rr));
		for (size_t i = 0; i < src->count; i++) {
			dst->rr[i] = src->rr[i];
			if (src->rr[i].name)
				dst->rr[i].name = xstrdup(src->rr[i].name);
			if (src->rr[i].txt) {
				dst->rr[i].txt = xmalloc(src->rr[i].txtlen + 1);
				memcpy(dst->rr[i].txt, src->rr[i].txt,
				       src->rr[i].txtlen + 1);
			}
		}
	}
	dst->packet = NULL;
	if (src->packet) {
		dst->packet = xmalloc(src->packet_len);
		memcpy(dst->packet, src->packet, src->packet_len);
	}
}

/* rc_free - one entry's memory */
static void
rc_free(struct rc_entry *e)
{
	dns_answer_free(&e->answer);
	free(e->name);
	free(e);
}

/* rc_clear - forget every cached answer (cache_lock held, or at the end) */
static void
rc_clear(struct resolver *r)
{
	for (size_t b = 0; b < RESOLVER_BUCKETS; b++) {
		struct rc_entry *e = r->cache[b], *next;

		for (; e; e = next) {
			next = e->next;
			rc_free(e);
		}
		r->cache[b] = NULL;
	}
	r->newest = r->oldest = NULL;
	r->cached = 0;
}

/* rc_lru_unlink - take e out of the recently-used list */
static void
rc_lru_unlink(struct resolver *r, struct rc_entry *e)
{
	if (e->newer)
		e->newer->older = e->older;
	else
		r->newest = e->older;
	if (e->older)
		e->older->newer = e->newer;
	else
		r->oldest = e->newer;
	e->newer = e->older = NULL;
}

/* rc_lru_front - put e at the front (most recently used) */
static void
rc_lru_front(struct resolver *r, struct rc_entry *e)
{
	e->older = r->newest;
	e->newer = NULL;
	if (r->newest)
		r->newest->newer = e;
	r->newest = e;
	if (r->oldest == NULL)
		r->oldest = e;
}

/* rc_remove - drop e, at *pp in its bucket, from the cache and free it */
static void
rc_remove(struct resolver *r, struct rc_entry **pp)
{
	struct rc_entry *e = *pp;

	*pp = e->next;
	rc_lru_unlink(r, e);
	rc_free(e);
	r->cached--;
}

/* rc_slot - where e is in its bucket (it is there) */
static struct rc_entry **
rc_slot(struct resolver *r, struct rc_entry *e)
{
	struct rc_entry **pp = &r->cache[e->bucket];

	while (*pp != e)
		pp = &(*pp)->next;
	return pp;
}

/*
 * rc_make_room - below cache_max again: every expired answer goes, if the
 * earliest expiry has passed (which also finds the next one), else the
 * least recently used one.  cache_lock held.
 */
static void
rc_make_room(struct resolver *r, time_t now)
{
	if (r->cached < r->cache_max)
		return;
	if (now >= r->earliest) {
		time_t next = now + RESOLVER_MAX_TTL + 1;

		for (size_t b = 0; b < RESOLVER_BUCKETS; b++)
			for (struct rc_entry **pp = &r->cache[b]; *pp;) {
				if ((*pp)->expires <= now) {
					rc_remove(r, pp);
					continue;
				}
				if ((*pp)->expires < next)
					next = (*pp)->expires;
				pp = &(*pp)->next;
			}
		r->earliest = next;
	}
	while (r->cached >= r->cache_max && r->oldest != NULL)
		rc_remove(r, rc_slot(r, r->oldest));
}

/* rc_get - a live cached answer, copied into out; 0 if there is none */
static int
rc_get(struct resolver *r, const char *lname, int type,
       struct dns_answer *out)
{
	size_t b = rc_hash(lname, type);
	time_t now = r->now();
	int hit = 0;

	pthread_mutex_lock(&r->cache_lock);
	for (struct rc_entry **pp = &r->cache[b]; *pp;) {
		struct rc_entry *e = *pp;

		if (e->expires <= now) {	/* drop what has expired */
			rc_remove(r, pp);
			continue;
		}
		if (e->type == type && strcmp(e->name, lname) == 0) {
			dns_answer_copy(out, &e->answer);
			rc_lru_unlink(r, e);
			rc_lru_front(r, e);
			hit = 1;
			break;
		}
		pp = &e->next;
	}
	pthread_mutex_unlock(&r->cache_lock);
	return hit;
}

/* rc_put - keep a definite answer for its TTL, in place of an older one */
static void
rc_put(struct resolver *r, const char *lname, int type,
       const struct dns_answer *a, int ttl)
{
	struct rc_entry *e;
	time_t now;

	if (a->status != DNS_OK && a->status != DNS_NXDOMAIN &&
	    a->status != DNS_NODATA)
		return;
	if (a->status != DNS_OK && ttl > RESOLVER_NEG_TTL)
		ttl = RESOLVER_NEG_TTL;
	if (ttl > RESOLVER_MAX_TTL)
		ttl = RESOLVER_MAX_TTL;
	if (ttl <= 0)
		return;
	now = r->now();
	e = xcalloc(1, sizeof(*e));
	e->name = xstrdup(lname);
	e->type = type;
	e->expires = now + ttl;
	e->bucket = rc_hash(lname, type);
	dns_answer_copy(&e->answer, a);
	pthread_mutex_lock(&r->cache_lock);
	/* two callers may have missed at once: one entry a name */
	for (struct rc_entry **pp = &r->cache[e->bucket]; *pp;
	     pp = &(*pp)->next)
		if ((*pp)->type == type && strcmp((*pp)->name, lname) == 0) {
			rc_remove(r, pp);
			break;
		}
	rc_make_room(r, now);
	e->next = r->cache[e->bucket];
	r->cache[e->bucket] = e;
	rc_lru_front(r, e);
	if (r->cached == 0 || e->expires < r->earliest)
		r->earliest = e->expires;
	r->cached++;
	pthread_mutex_unlock(&r->cache_lock);
}

void
resolver_cache_tune(struct resolver *r, size_t max, time_t (*now)(void))
{
	pthread_mutex_lock(&r->cache_lock);
	if (max > 0)
		r->cache_max = max;
	if (now != NULL)
		r->now = now;
	pthread_mutex_unlock(&r->cache_lock);
}

void
resolver_cache_put(struct resolver *r, const char *lname, int type,
		   const struct dns_answer *a, int ttl)
{
	rc_put(r, lname, type, a, ttl);
}

int
resolver_cache_get(struct resolver *r, const char *lname, int type,
		   struct dns_answer *out)
{
	memset(out, 0, sizeof(*out));
	return rc_get(r, lname, type, out);
}

size_t
resolver_cache_count(struct resolver *r)
{
	size_t n;

	pthread_mutex_lock(&r->cache_lock);
	n = r->cached;
	pthread_mutex_unlock(&r->cache_lock);
	return n;
}

struct resolver *
resolver_ref(struct resolver *r)
{
	__atomic_add_fetch(&r->refcount, 1, __ATOMIC_SEQ_CST);
	return r;
}

void
resolver_unref(struct resolver *r)
{
	if (r == NULL ||
	    __atomic_sub_fetch(&r->refcount, 1, __ATOMIC_SEQ_CST) > 0)
		return;
	if (write(r->stop[1], "x", 1) != 1)
		PANIC("cannot stop the resolver thread");
	pthread_join(r->thread, NULL);
	close(r->stop[0]);
	close(r->stop[1]);
	/* the callbacks of answers that came; then the queries that never
	 * will (deleting the context drops them without a callback) */
	ub_process(r->ctx);
	ub_ctx_delete(r->ctx);
	while (r->orphans != NULL) {
		struct rq *q = r->orphans;

		rq_orphan_unlink(r, q);
		q->refs = 1;
		rq_release(q);
	}
	pthread_mutex_destroy(&r->lock);
	rc_clear(r);
	pthread_mutex_destroy(&r->cache_lock);
	free(r);
}

/* rq_release - drop one reference (with r->lock held); free at zero */
static void
rq_release(struct rq *q)
{
	if (--q->refs > 0)
		return;
	if (q->result)
		ub_resolve_free(q->result);
	pthread_cond_destroy(&q->cond);
	free(q);
}

/*
 * rq_orphan_link, rq_orphan_unlink - a query its caller gave up on while
 * its callback is still due (the cancel lost the race) is listed, so that
 * a resolver freed before the callback comes frees it too (r->lock held)
 */
static void
rq_orphan_link(struct resolver *r, struct rq *q)
{
	q->orphan = 1;
	q->oprev = NULL;
	q->onext = r->orphans;
	if (r->orphans)
		r->orphans->oprev = q;
	r->orphans = q;
}

static void
rq_orphan_unlink(struct resolver *r, struct rq *q)
{
	if (q->oprev)
		q->oprev->onext = q->onext;
	else
		r->orphans = q->onext;
	if (q->onext)
		q->onext->oprev = q->oprev;
	q->orphan = 0;
}

/* resolver_cb - libunbound's callback, in the event thread */
static void
resolver_cb(void *arg, int err, struct ub_result *result)
{
	struct rq *q = arg;
	struct resolver *r = *(struct resolver **)(q + 1);

	pthread_mutex_lock(&r->lock);
	q->err = err;
	q->result = result;
	q->done = 1;
	pthread_cond_signal(&q->cond);
	if (q->orphan)
		rq_orphan_unlink(r, q);
	rq_release(q);
	pthread_mutex_unlock(&r->lock);
}

int
dns_name_ok(const char *name)
{
	size_t len = strlen(name), label = 0;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (name[i] == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if (++label > 63) {
			return 0;
		}
	}
	return label > 0;
}

/* dns_wire_name - a wire-format name to presentation form, bounded */
static char *
dns_wire_name(const unsigned char *p, size_t len)
{
	struct sbuf out;
	size_t i = 0;

	sbuf_init(&out);
	while (i < len && p[i] != 0) {
		size_t n = p[i++];

		if (n > 63 || i + n > len)
			break;			/* malformed: stop here */
		if (out.len)
			sbuf_append(&out, ".", 1);
		for (size_t j = 0; j < n; j++, i++) {
			unsigned char c = p[i];

			if (c == '.' || c == '\\') {
				sbuf_append(&out, "\\", 1);
				sbuf_append(&out, &c, 1);
			} else if (c <= 0x20 || c >= 0x7f) {
				sbuf_printf(&out, "\\%03u", c);
			} else {
				sbuf_append(&out, &c, 1);
			}
		}
	}
	return sbuf_steal(&out);
}

/* dns_rr_fill - one rdata item of the asked type; 0 if usable */
static int
dns_rr_fill(struct dns_rr *rr, int type, const unsigned char *d, size_t len)
{
	memset(rr, 0, sizeof(*rr));
	rr->type = type;
	switch (type) {
	case DNS_T_A:
		if (len != 4)
			return -1;
		rr->addr.family = AF_INET;
		memcpy(rr->addr.addr, d, 4);
		return 0;
	case DNS_T_AAAA:
		if (len != 16)
			return -1;
		rr->addr.family = AF_INET6;
		memcpy(rr->addr.addr, d, 16);
		return 0;
	case DNS_T_MX:
		if (len < 3)
			return -1;
		rr->pref = (d[0] << 8) | d[1];
		rr->name = dns_wire_name(d + 2, len - 2);
		return 0;
	case DNS_T_PTR: case DNS_T_CNAME: case DNS_T_NS:
		rr->name = dns_wire_name(d, len);
		return 0;
	case DNS_T_TXT: case DNS_T_SPF: {
		struct sbuf t;
		size_t i = 0;

		sbuf_init(&t);
		while (i < len) {
			size_t n = d[i++];

			if (i + n > len) {
				sbuf_free(&t);
				return -1;
			}
			sbuf_append(&t, d + i, n);
			i += n;
		}
		rr->txtlen = t.len;
		rr->txt = t.data ? sbuf_steal(&t) : xstrdup("");
		return 0;
	}
	default:
		return 0;	/* kept, untyped: the packet has the data */
	}
}

/* dns_answer_from - a libunbound result to a typed answer */
static void
dns_answer_from(struct dns_answer *out, int type, int err,
		const struct ub_result *res)
{
	if (err != 0 || res == NULL) {
		out->status = DNS_TEMPFAIL;
		out->why = xstrdup(ub_strerror(err));
		return;
	}
	out->rcode = res->rcode;
	out->secure = res->secure;
	out->bogus = res->bogus;
	if (res->answer_packet && res->answer_len > 0) {
		out->packet = xmalloc((size_t)res->answer_len);
		memcpy(out->packet, res->answer_packet,
		       (size_t)res->answer_len);
		out->packet_len = (size_t)res->answer_len;
	}
	if (res->bogus) {
		out->status = DNS_TEMPFAIL;
		out->why = xstrdup(res->why_bogus ? res->why_bogus :
				   "DNSSEC validation failed");
		return;
	}
	if (res->rcode == 3 || res->nxdomain) {
		out->status = DNS_NXDOMAIN;
		return;
	}
	if (res->rcode != 0) {
		char why[64];

		snprintf(why, sizeof(why), "DNS rcode %d", res->rcode);
		out->status = DNS_TEMPFAIL;
		out->why = xstrdup(why);
		return;
	}
	if (!res->havedata || res->data == NULL || res->data[0] == NULL) {
		out->status = DNS_NODATA;
		return;
	}
	out->status = DNS_OK;
	for (size_t i = 0; res->data[i] != NULL && out->count < DNS_RR_MAX;
	     i++) {
		struct dns_rr rr;

		if (dns_rr_fill(&rr, type, (const unsigned char *)res->data[i],
				(size_t)res->len[i]) != 0)
			continue;
		out->rr = xrealloc(out->rr, (out->count + 1) * sizeof(rr));
		out->rr[out->count++] = rr;
	}
	if (out->count == 0)
		out->status = DNS_NODATA;	/* only malformed records */
}

/*
 * A query in flight (resolver_submit).  An answer known at once (the
 * cache, a bad name, a failed submit) is kept in early; else q is the
 * libunbound query, shared with the callback as in resolver_query.
 */
struct dns_pending {
	struct rq	*q;		/* NULL: the answer is in early */
	int		id;		/* libunbound's, for ub_cancel */
	int		type;
	char		lname[256];	/* the cache key */
	struct dns_answer early;
};

/* resolver_cache_key - lowercase, without the final dot (name is ok) */
static void
resolver_cache_key(const char *name, char *lname)
{
	size_t n = strlen(name);

	if (n > 0 && name[n - 1] == '.')
		n--;
	for (size_t i = 0; i < n; i++)
		lname[i] = (name[i] >= 'A' && name[i] <= 'Z') ?
		    (char)(name[i] - 'A' + 'a') : name[i];
	lname[n] = '\0';
}

/* resolver_start - ub_resolve_async of name (presentation form) into p */
static void
resolver_start(struct resolver *r, const char *name, struct dns_pending *p)
{
	struct rq *q;
	pthread_condattr_t ca;
	int e;

	/* the callback finds the resolver right after the query struct */
	q = xcalloc(1, sizeof(*q) + sizeof(struct resolver *));
	*(struct resolver **)(q + 1) = r;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cond, &ca);
	pthread_condattr_destroy(&ca);
	q->refs = 2;
	if ((e = ub_resolve_async(r->ctx, name, p->type, 1, q, resolver_cb,
				  &p->id)) != 0) {
		p->early.status = DNS_TEMPFAIL;
		p->early.why = xstrdup(ub_strerror(e));
		pthread_mutex_lock(&r->lock);
		q->refs = 1;
		rq_release(q);
		pthread_mutex_unlock(&r->lock);
		return;
	}
	p->q = q;
}

struct dns_pending *
resolver_submit(struct resolver *r, const char *name, int type)
{
	struct dns_pending *p = xcalloc(1, sizeof(*p));

	p->type = type;
	if (!dns_name_ok(name)) {
		p->early.status = DNS_BADNAME;
		p->early.why = xstrdup("not a valid domain name");
		return p;
	}
	resolver_cache_key(name, p->lname);
	if (rc_get(r, p->lname, type, &p->early))
		return p;
	/* libunbound reads presentation form: a backslash is an escape */
	if (strchr(name, '\\') != NULL) {
		struct sbuf esc;

		sbuf_init(&esc);
		for (const char *s = name; *s; s++) {
			if (*s == '\\')
				sbuf_append(&esc, "\\\\", 2);
			else
				sbuf_append(&esc, s, 1);
		}
		resolver_start(r, esc.data, p);
		sbuf_free(&esc);
	} else {
		resolver_start(r, name, p);
	}
	return p;
}

enum dns_status
resolver_collect(struct resolver *r, struct dns_pending *p,
		 const struct timespec *deadline, struct dns_answer *out)
{
	struct rq *q = p->q;
	enum dns_status st;
	int e;

	memset(out, 0, sizeof(*out));
	if (q == NULL) {
		*out = p->early;
		free(p);
		return out->status;
	}
	pthread_mutex_lock(&r->lock);
	while (!q->done)
		if (pthread_cond_timedwait(&q->cond, &r->lock, deadline) ==
		    ETIMEDOUT)
			break;
	if (q->done) {
		int ttl = 0;

		dns_answer_from(out, p->type, q->err, q->result);
		if (q->err == 0 && q->result)
			ttl = q->result->ttl;
		rq_release(q);
		pthread_mutex_unlock(&r->lock);
		rc_put(r, p->lname, p->type, out, ttl);
		free(p);
		return out->status;
	}
	/* gave up: cancel without our lock (the callback may want it) */
	pthread_mutex_unlock(&r->lock);
	e = ub_cancel(r->ctx, p->id);
	pthread_mutex_lock(&r->lock);
	if (e == 0)
		q->refs--;		/* the callback will never come */
	else if (!q->done)
		rq_orphan_link(r, q);	/* it will: keep track of q */
	rq_release(q);
	pthread_mutex_unlock(&r->lock);
	free(p);
	out->status = st = DNS_TIMEOUT;
	out->why = xstrdup("timed out");
	return st;
}

void
resolver_drop(struct resolver *r, struct dns_pending *p)
{
	struct timespec now;
	struct dns_answer a;

	if (p == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	resolver_collect(r, p, &now, &a);
	dns_answer_free(&a);
}

void
resolver_deadline(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

enum dns_status
resolver_query(struct resolver *r, const char *name, int type, int timeout_ms,
	       struct dns_answer *out)
{
	struct timespec until;

	resolver_deadline(&until, timeout_ms);
	return resolver_collect(r, resolver_submit(r, name, type), &until,
				out);
}

void
dns_answer_free(struct dns_answer *a)
{
	for (size_t i = 0; i < a->count; i++) {
		free(a->rr[i].name);
		free(a->rr[i].txt);
	}
	free(a->rr);
	free(a->packet);
	free(a->why);
	memset(a, 0, sizeof(*a));
}

const char *
dns_status_name(enum dns_status s)
{
	switch (s) {
	case DNS_OK: return "ok";
	case DNS_NXDOMAIN: return "nxdomain";
	case DNS_NODATA: return "nodata";
	case DNS_TEMPFAIL: return "tempfail";
	case DNS_TIMEOUT: return "timeout";
	case DNS_BADNAME: return "badname";
	}
	return "?";
}
