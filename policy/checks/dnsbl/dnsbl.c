/*
 * dnsbl - DNS blocklists at every stage (see dnsbl.h).
 *
 * A batch is the lookups of one stage: each is submitted to the shared
 * resolver at once (resolver_submit) and collected later against the
 * batch's deadline (resolver_collect), so a stage waits for its slowest
 * answer at most, never for the sum.  The client's and the HELO's
 * batches live with the session (its slot), the sender's with the
 * transaction.  What a list's answer means is dnslist.c's; here it
 * becomes symbols.
 *
 * Diagnostics: a failed or refused lookup is a symbol (DNSBL_ERROR,
 * DNSBL_BLOCKED); an answer outside 127/8 is also logged (a list that
 * answers so is broken, or a resolver rewrites NXDOMAIN).  Nothing here
 * is fatal.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <idn2.h>
#include <libpsl.h>

#include "conf.h"
#include "dnsbl.h"
#include "dnslist.h"
#include "log.h"
#include "mime.h"
#include "resolver.h"
#include "session.h"
#include "symbols.h"
#include "txn.h"
#include "util.h"

#define DNSBL_ITEM_MAX	256

struct dnsbl_query {
	const struct dnslist *list;
	char		item[DNSBL_ITEM_MAX];	/* what was asked, for details */
	char		name[DNSBL_ITEM_MAX + 8];	/* the query name */
	struct dns_pending *p;
};

struct dnsbl_batch {
	struct resolver	*r;
	struct dnsbl_query *v;
	size_t		n;
	struct timespec	deadline;
	int		collected;
};

/* the connection's lookups (the session's slot) */
struct dnsbl_sess {
	struct dnsbl_batch client, helo;
	int		client_sent, helo_sent;
	const struct dnslist *reject;	/* a reject list that lists the client */
	char		reject_zone[256];	/* "ZONE; TXT" for the reply */
};

/* the message's lookups (the transaction's slot) */
struct dnsbl_txn {
	struct dnsbl_batch sender;
	int		queries;	/* sent for this message */
};

/* ---- the Public Suffix List (libpsl) ---- */

static pthread_once_t dnsbl_psl_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t dnsbl_psl_lock = PTHREAD_MUTEX_INITIALIZER;
static char dnsbl_psl_path[1024];	/* the first configuration's */
static psl_ctx_t *dnsbl_psl;

/* dnsbl_psl_load - the list from dnsbl_psl_path, else libpsl's own */
static void
dnsbl_psl_load(void)
{
	if (*dnsbl_psl_path)
		dnsbl_psl = psl_load_file(dnsbl_psl_path);
	if (dnsbl_psl == NULL) {
		if (*dnsbl_psl_path)
			log_warn("dnsbl: cannot load the Public Suffix List "
				 "%s: using libpsl's built-in list",
				 dnsbl_psl_path);
		dnsbl_psl = (psl_ctx_t *)psl_builtin();
	}
}

void
dnsbl_psl_init(const char *path)
{
	pthread_mutex_lock(&dnsbl_psl_lock);
	if (!*dnsbl_psl_path && path)
		util_strlcpy(dnsbl_psl_path, path, sizeof(dnsbl_psl_path));
	pthread_mutex_unlock(&dnsbl_psl_lock);
	/* loaded once a process: a restart takes a new dmarc_psl */
	pthread_once(&dnsbl_psl_once, dnsbl_psl_load);
}

int
dnsbl_uri_item(const char *host, char *out, size_t size, int *is_ip,
	       const char **why)
{
	struct netaddr a;
	char *ascii = NULL;
	const char *reg, *h = host;
	int utf8 = 0;

	*is_ip = 0;
	if (*host == '\0') {
		*why = "no host";
		return -1;
	}
	if (netaddr_parse(host, &a) == 0) {
		if (a.family != AF_INET) {
			*why = "IPv6 host: URI lists take IPv4 only";
			return -1;
		}
		*is_ip = 1;
		util_strlcpy(out, host, size);
		return 0;
	}
	for (const char *p = host; *p; p++)
		if ((unsigned char)*p >= 0x80)
			utf8 = 1;
	if (utf8) {
		/* an IDN: its A-label (IDNA2008), as the lists hold it */
		if (idn2_to_ascii_8z(host, &ascii, IDN2_NFC_INPUT |
				     IDN2_NONTRANSITIONAL) != IDN2_OK) {
			idn2_free(ascii);
			*why = "IDN host that is no valid IDNA2008 name";
			return -1;
		}
		h = ascii;
	}
	dnsbl_psl_init(NULL);
	reg = strchr(h, '.') ? psl_registrable_domain(dnsbl_psl, h) : NULL;
	if (reg == NULL || strlen(reg) >= size) {
		idn2_free(ascii);
		*why = "a public suffix or a single label";
		return -1;
	}
	util_strlcpy(out, reg, size);
	idn2_free(ascii);
	return 0;
}

/* ---- batches ---- */

/* dnsbl_batch_start - an empty batch whose deadline is ms from now */
static void
dnsbl_batch_start(struct dnsbl_batch *b, struct resolver *r, int ms)
{
	memset(b, 0, sizeof(*b));
	b->r = r;
	resolver_deadline(&b->deadline, ms);
}

/* dnsbl_batch_add - send one lookup: name of item on list l */
static void
dnsbl_batch_add(struct dnsbl_batch *b, const struct dnslist *l,
		const char *item, const char *name)
{
	struct dnsbl_query *q;

	b->v = xrealloc(b->v, (b->n + 1) * sizeof(*b->v));
	q = &b->v[b->n++];
	q->list = l;
	util_strlcpy(q->item, item, sizeof(q->item));
	util_strlcpy(q->name, name, sizeof(q->name));
	q->p = resolver_submit(b->r, name, DNS_T_A);
}

/* dnsbl_batch_free - drop what was not collected */
static void
dnsbl_batch_free(struct dnsbl_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		resolver_drop(b->r, b->v[i].p);
	free(b->v);
	b->v = NULL;
	b->n = 0;
}

/*
 * dnsbl_answer - one answer into symbols of set; returns 1 when the
 * query's list is a reject list and one of its answers refuses
 */
static int
dnsbl_answer(struct symbols *set, const struct dnsbl_query *q,
	     const struct dns_answer *a)
{
	const struct dnslist *l = q->list;
	int listed = 0;

	if (a->status == DNS_NXDOMAIN || a->status == DNS_NODATA)
		return 0;
	if (a->status != DNS_OK) {
		symbols_add(set, "DNSBL_ERROR", 0, "%s %s: %s%s%s", l->zone,
			    q->item, dns_status_name(a->status),
			    a->why ? " " : "", a->why ? a->why : "");
		return 0;
	}
	for (size_t i = 0; i < a->count; i++) {
		char code[INET6_ADDRSTRLEN];
		uint32_t hits;

		if (a->rr[i].type != DNS_T_A)
			continue;
		netaddr_format(&a->rr[i].addr, code, sizeof(code));
		switch (dnslist_match(l, &a->rr[i].addr, &hits)) {
		case DNSLIST_NOT_LOCAL:
			log_warn("dnsbl: %s answered %s for %s: outside "
				 "127.0.0.0/8, not a listing", l->zone, code,
				 q->name);
			symbols_add(set, "DNSBL_ERROR", 0, "%s %s=%s: outside "
				    "127/8", l->zone, q->item, code);
			break;
		case DNSLIST_BLOCKED:
			symbols_add(set, "DNSBL_BLOCKED", 0, "%s %s=%s: query "
				    "refused", l->zone, q->item, code);
			break;
		case DNSLIST_NONE:
			log_debug("dnsbl: %s answered %s for %s: no rule takes "
				  "it", l->zone, code, q->name);
			break;
		case DNSLIST_LISTED:
			for (size_t r = 0; r < l->nrules; r++)
				if (hits & (1u << r))
					symbols_add_named(set,
					    l->rules[r].symbol,
					    l->rules[r].weight, "%s %s=%s",
					    l->zone, q->item, code);
			if (dnslist_rejects(l, &a->rr[i].addr))
				listed = 1;
			break;
		}
	}
	return listed;
}

/*
 * dnsbl_batch_collect - every answer of b into set (once); the first
 * reject list that lists its item in *reject (may be NULL)
 */
static void
dnsbl_batch_collect(struct dnsbl_batch *b, struct symbols *set,
		    const struct dnslist **reject)
{
	if (b->collected)
		return;
	b->collected = 1;
	for (size_t i = 0; i < b->n; i++) {
		struct dns_answer a;

		resolver_collect(b->r, b->v[i].p, &b->deadline, &a);
		b->v[i].p = NULL;
		if (dnsbl_answer(set, &b->v[i], &a) && reject && !*reject)
			*reject = b->v[i].list;
		dns_answer_free(&a);
	}
}

/* ---- state ---- */

static void
dnsbl_sess_free(void *p)
{
	struct dnsbl_sess *d = p;

	dnsbl_batch_free(&d->client);
	dnsbl_batch_free(&d->helo);
	free(d);
}

static void
dnsbl_txn_free(void *p)
{
	struct dnsbl_txn *d = p;

	dnsbl_batch_free(&d->sender);
	free(d);
}

/* dnsbl_resolver - the shared resolver; NULL after a DNSBL_ERROR */
static struct resolver *
dnsbl_resolver(struct conf *c, struct symbols *set)
{
	char why[256];
	struct resolver *r = conf_resolver(c, why, sizeof(why));

	if (r == NULL)
		symbols_add(set, "DNSBL_ERROR", 0, "resolver: %s", why);
	return r;
}

static struct dnsbl_sess *
dnsbl_sess_get(struct session *s)
{
	struct dnsbl_sess *d = session_slot(s, SESSION_SLOT_DNSBL);

	if (d == NULL) {
		d = xcalloc(1, sizeof(*d));
		session_set_slot(s, SESSION_SLOT_DNSBL, d, dnsbl_sess_free);
	}
	return d;
}

static struct dnsbl_txn *
dnsbl_txn_get(struct txn *t)
{
	struct dnsbl_txn *d = txn_slot(t, TXN_SLOT_DNSBL);

	if (d == NULL) {
		d = xcalloc(1, sizeof(*d));
		txn_set_slot(t, TXN_SLOT_DNSBL, d, dnsbl_txn_free);
	}
	return d;
}

/* dnsbl_has - does a list of c look up what */
static int
dnsbl_has(const struct conf *c, unsigned what)
{
	for (size_t i = 0; i < c->dnsbl_nlists; i++)
		if (c->dnsbl_lists[i].what & what)
			return 1;
	return 0;
}

/* dnsbl_domain_batch - the lookups of a domain on the lists for what */
static int
dnsbl_domain_batch(const struct conf *c, struct dnsbl_batch *b,
		   unsigned what, const char *domain, int budget)
{
	char name[DNSBL_ITEM_MAX + 8];
	int n = 0;

	for (size_t i = 0; i < c->dnsbl_nlists && n < budget; i++) {
		const struct dnslist *l = &c->dnsbl_lists[i];

		if (!(l->what & what) ||
		    dnslist_domain_name(domain, l->zone, name,
					sizeof(name)) != 0)
			continue;
		dnsbl_batch_add(b, l, domain, name);
		n++;
	}
	return n;
}

/* ---- stages ---- */

int
dnsbl_enabled(const struct conf *c)
{
	return c->dnsbl_nlists > 0;
}

/* dnsbl_reject_text - "ZONE" or "ZONE; TXT" for the reply (the TXT
 * record of the listing, asked now within what is left of the budget) */
static void
dnsbl_reject_text(struct dnsbl_sess *d, const struct session *s)
{
	char name[DNSBL_ITEM_MAX + 8];
	struct dns_answer a;
	struct timespec now;
	long left;

	util_strlcpy(d->reject_zone, d->reject->zone, sizeof(d->reject_zone));
	if (dnslist_ip_name(&s->client, d->reject->zone, name,
			    sizeof(name)) != 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	left = (d->client.deadline.tv_sec - now.tv_sec) * 1000L +
	    (d->client.deadline.tv_nsec - now.tv_nsec) / 1000000L;
	if (left < 100)
		left = 100;	/* a cached TXT still comes back */
	if (resolver_query(d->client.r, name, DNS_T_TXT, (int)left, &a) ==
	    DNS_OK && a.count > 0 && a.rr[0].txt != NULL) {
		char clean[200];

		util_sanitize(clean, sizeof(clean), a.rr[0].txt,
			      a.rr[0].txtlen);
		snprintf(d->reject_zone, sizeof(d->reject_zone), "%s; %s",
			 d->reject->zone, clean);
	}
	dns_answer_free(&a);
}

/* dnsbl_client_collect - the client's results into the session, once */
static void
dnsbl_client_collect(struct session *s, struct dnsbl_sess *d)
{
	if (!d->client_sent || d->client.collected)
		return;
	dnsbl_batch_collect(&d->client, &s->symbols, &d->reject);
	if (d->reject)
		dnsbl_reject_text(d, s);
}

void
dnsbl_connect(struct session *s)
{
	struct conf *c = s->conf;
	struct dnsbl_sess *d;
	struct resolver *r;
	char name[DNSBL_ITEM_MAX + 8], addr[INET6_ADDRSTRLEN];

	if (!dnsbl_has(c, DNSLIST_CLIENT) || !s->have_client ||
	    netlist_match(&c->trusted_networks, &s->client))
		return;
	if ((r = dnsbl_resolver(c, &s->symbols)) == NULL)
		return;
	d = dnsbl_sess_get(s);
	dnsbl_batch_free(&d->client);
	dnsbl_batch_start(&d->client, r, c->dnsbl_timeout);
	d->client_sent = 1;
	d->reject = NULL;
	netaddr_format(&s->client, addr, sizeof(addr));
	for (size_t i = 0; i < c->dnsbl_nlists; i++) {
		const struct dnslist *l = &c->dnsbl_lists[i];

		if ((l->what & DNSLIST_CLIENT) &&
		    dnslist_ip_name(&s->client, l->zone, name,
				    sizeof(name)) == 0)
			dnsbl_batch_add(&d->client, l, addr, name);
	}
	if (c->dnsbl_reject_stage != DNSBL_REJECT_CONNECT)
		return;
	/* refused at connect: the answers are needed now */
	dnsbl_client_collect(s, d);
	if (d->reject)
		symbols_add_opts(&s->symbols, "DNSBL_REJECT", 0, addr,
				 d->reject_zone, "listed by %s",
				 d->reject->name);
}

/* dnsbl_helo_ok - a HELO name worth asking about: a domain, no literal */
static int
dnsbl_helo_ok(const char *h)
{
	return *h != '\0' && *h != '[' && strchr(h, '.') != NULL &&
	    strlen(h) < DNSBL_ITEM_MAX;
}

void
dnsbl_helo(struct session *s)
{
	struct conf *c = s->conf;
	struct dnsbl_sess *d;
	struct resolver *r;
	struct netaddr a;

	if (!dnsbl_has(c, DNSLIST_HELO) || !dnsbl_helo_ok(s->helo) ||
	    netaddr_parse(s->helo, &a) == 0 ||
	    (s->have_client && netlist_match(&c->trusted_networks,
					      &s->client)))
		return;
	if ((r = dnsbl_resolver(c, &s->symbols)) == NULL)
		return;
	d = dnsbl_sess_get(s);
	/* a second HELO (after RSET, STARTTLS): the new name counts */
	dnsbl_batch_free(&d->helo);
	dnsbl_batch_start(&d->helo, r, c->dnsbl_timeout);
	d->helo_sent = 1;
	dnsbl_domain_batch(c, &d->helo, DNSLIST_HELO, s->helo,
			   (int)c->dnsbl_nlists);
}

void
dnsbl_mail(struct txn *t)
{
	const char *at = strrchr(t->mail_from, '@');
	struct dnsbl_txn *d;
	struct resolver *r;
	int budget;

	if (t->mode != TXN_INBOUND || !dnsbl_has(t->conf, DNSLIST_SENDER) ||
	    at == NULL || at[1] == '\0' || strlen(at + 1) >= DNSBL_ITEM_MAX)
		return;
	if ((r = dnsbl_resolver(t->conf, &t->symbols)) == NULL)
		return;
	d = dnsbl_txn_get(t);
	dnsbl_batch_start(&d->sender, r, t->conf->dnsbl_timeout);
	budget = t->conf->dnsbl_max_queries;
	d->queries += dnsbl_domain_batch(t->conf, &d->sender, DNSLIST_SENDER,
					 at + 1, budget);
}

void
dnsbl_rcpt(struct txn *t, struct txn_rcpt *r, struct symbols *rs)
{
	struct session *s = t->sess;
	struct dnsbl_sess *d = session_slot(s, SESSION_SLOT_DNSBL);
	char addr[INET6_ADDRSTRLEN];

	if (d == NULL || !d->client_sent)
		return;
	/* authenticated or trusted: never refused by a blocklist */
	if (t->mode != TXN_INBOUND)
		return;
	dnsbl_client_collect(s, d);
	if (d->reject == NULL ||
	    t->conf->dnsbl_reject_stage != DNSBL_REJECT_RCPT)
		return;
	netaddr_format(&s->client, addr, sizeof(addr));
	symbols_add_opts(rs, "DNSBL_REJECT", 0, addr, d->reject_zone,
			 "listed by %s", d->reject->name);
}

/* dnsbl_uris - the links of the message on the uri lists */
static void
dnsbl_uris(struct txn *t, struct dnsbl_txn *d, struct resolver *r)
{
	const struct conf *c = t->conf;
	const struct mime_doc *doc = txn_mime(t);
	struct dnsbl_batch b;
	char **seen = NULL;
	size_t nseen = 0, skipped = 0;

	if (doc == NULL || doc->nlinks == 0)
		return;
	dnsbl_batch_start(&b, r, c->dnsbl_timeout);
	for (size_t i = 0; i < doc->nlinks; i++) {
		char item[DNSBL_ITEM_MAX], name[DNSBL_ITEM_MAX + 8];
		const char *why;
		int is_ip, dup = 0;

		if (d->queries >= c->dnsbl_max_queries) {
			/* the budget is spent: the rest are not even read */
			skipped = doc->nlinks - i;
			break;
		}
		if (dnsbl_uri_item(doc->links[i].host, item, sizeof(item),
				   &is_ip, &why) != 0)
			continue;
		for (size_t k = 0; k < nseen && !dup; k++)
			dup = strcmp(seen[k], item) == 0;
		if (dup)
			continue;
		seen = xrealloc(seen, (nseen + 1) * sizeof(*seen));
		seen[nseen++] = xstrdup(item);
		for (size_t j = 0; j < c->dnsbl_nlists; j++) {
			const struct dnslist *l = &c->dnsbl_lists[j];
			struct netaddr a;
			int ok;

			if (!(l->what & DNSLIST_URI) ||
			    d->queries >= c->dnsbl_max_queries)
				continue;
			ok = is_ip ? netaddr_parse(item, &a) == 0 &&
			    dnslist_ip_name(&a, l->zone, name,
					    sizeof(name)) == 0 :
			    dnslist_domain_name(item, l->zone, name,
						sizeof(name)) == 0;
			if (!ok)
				continue;
			dnsbl_batch_add(&b, l, item, name);
			d->queries++;
		}
	}
	if (skipped)
		log_info("%s: dnsbl: %zu links not looked up "
			 "(dnsbl_max_queries %d)", *t->queue_id ?
			 t->queue_id : "NOQUEUE", skipped,
			 c->dnsbl_max_queries);
	dnsbl_batch_collect(&b, &t->symbols, NULL);
	dnsbl_batch_free(&b);
	for (size_t k = 0; k < nseen; k++)
		free(seen[k]);
	free(seen);
}

void
dnsbl_eom(struct txn *t)
{
	struct session *s = t->sess;
	struct dnsbl_sess *ds = session_slot(s, SESSION_SLOT_DNSBL);
	struct dnsbl_txn *dt = txn_slot(t, TXN_SLOT_DNSBL);
	struct resolver *r;

	if (ds != NULL && t->mode == TXN_INBOUND) {
		dnsbl_client_collect(s, ds);
		if (ds->helo_sent)
			dnsbl_batch_collect(&ds->helo, &s->symbols, NULL);
	}
	if (dt != NULL)
		dnsbl_batch_collect(&dt->sender, &t->symbols, NULL);
	if (!dnsbl_has(t->conf, DNSLIST_URI) || t->spool.err != 0)
		return;
	if ((r = dnsbl_resolver(t->conf, &t->symbols)) == NULL)
		return;
	dnsbl_psl_init(t->conf->dmarc_psl);
	dnsbl_uris(t, dnsbl_txn_get(t), r);
}
