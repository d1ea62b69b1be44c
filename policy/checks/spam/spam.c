/*
 * spam - rules, the Bayes result and the thresholds (see spam.h).
 *
 * Token stores are opened on first use (after the daemon has detached:
 * LMDB environments do not survive fork) and kept for the process, one
 * per distinct setting (a SIGHUP that changes the store opens the new one
 * beside the old; the old stays until the end, as a connection may still
 * use it).  An LMDB store that does not exist yet is no training, not an
 * error; one that exists but cannot be read, or a Redis that does not
 * answer, is SPAM_ERROR.
 */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bayes.h"
#include "conf.h"
#include "log.h"
#include "mime.h"
#include "session.h"
#include "spam.h"
#include "symbols.h"
#include "tokens.h"
#include "tokstore.h"
#include "txn.h"
#include "util.h"

#define SPAM_STORES_MAX		8
#define SPAM_FUTURE_SECS	(12 * 3600)
#define SPAM_PAST_SECS		(7 * 86400)

/* GTUBE in two halves, so no file of ours is itself taken for spam */
static const char gtube_a[] = "XJS*C4JDBQADN1.NSBN3*2IDNEN*";
static const char gtube_b[] = "GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

static struct {
	pthread_mutex_t	lock;
	struct {
		char		*key;
		struct tokstore	*ts;
	} v[SPAM_STORES_MAX];
	size_t		n;
} spam_stores = { .lock = PTHREAD_MUTEX_INITIALIZER };

/*
 * spam_enabled - the check runs for the built-in engine and for the
 * thresholds over what the external engines (spamd, Rspamd) scored
 */
int
spam_enabled(const struct conf *c)
{
	return c->spam || c->spamd || c->rspamd;
}

void
spam_stop(void)
{
	pthread_mutex_lock(&spam_stores.lock);
	for (size_t i = 0; i < spam_stores.n; i++) {
		tokstore_close(spam_stores.v[i].ts);
		free(spam_stores.v[i].key);
	}
	spam_stores.n = 0;
	pthread_mutex_unlock(&spam_stores.lock);
}

void
spam_store_opts(const struct conf *c, int write, struct tokstore_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->backend = (enum tokstore_backend)c->bayes_backend;
	o->path = c->bayes_store;
	o->redis = c->redis_server;
	o->prefix = c->bayes_redis_prefix;
	o->password = *c->redis_password ? c->redis_password : NULL;
	o->timeout_ms = c->redis_timeout;
	o->token_ttl = (long)c->bayes_token_ttl_days * 86400;
	o->readonly = !write;
}

/*
 * spam_store - the token store of this configuration.  NULL with
 * *absent = 1 when an embedded store does not exist yet (nothing
 * learned; only a writer creates it), else NULL with why.
 */
static struct tokstore *
spam_store(const struct conf *c, int write, int *absent, char *why,
	   size_t whylen)
{
	struct tokstore_opts o;
	struct tokstore *ts = NULL;
	char key[2048];

	*absent = 0;
	snprintf(key, sizeof(key), "%d|%s|%s|%s|%s|%d|%d|%d", c->bayes_backend,
		 c->bayes_store, c->redis_server, c->bayes_redis_prefix,
		 c->redis_password, c->redis_timeout, c->bayes_token_ttl_days,
		 write);
	if (c->bayes_backend == TOKSTORE_LMDB && !write &&
	    access(c->bayes_store, F_OK) != 0) {
		*absent = 1;
		return NULL;
	}
	pthread_mutex_lock(&spam_stores.lock);
	for (size_t i = 0; i < spam_stores.n && ts == NULL; i++)
		if (strcmp(spam_stores.v[i].key, key) == 0)
			ts = spam_stores.v[i].ts;
	if (ts == NULL) {
		spam_store_opts(c, write, &o);
		if (o.backend == TOKSTORE_REDIS && *o.redis == '\0')
			snprintf(why, whylen, "bayes_backend = redis needs "
				 "redis_server");
		else if ((ts = tokstore_open(&o, why, whylen)) != NULL &&
			 spam_stores.n < SPAM_STORES_MAX) {
			spam_stores.v[spam_stores.n].key = xstrdup(key);
			spam_stores.v[spam_stores.n].ts = ts;
			spam_stores.n++;
		} else if (ts != NULL) {
			/* so many settings in one process: use it once */
			log_warn("bayes: too many token stores open; not "
				 "keeping %s", c->bayes_store);
		}
	}
	pthread_mutex_unlock(&spam_stores.lock);
	return ts;
}

void
spam_limits(const struct conf *c, struct mime_limits *l)
{
	txn_mime_limits(c, l);
}

/* spam_has - the decoded text holds the string */
static int
spam_gtube(const struct mime_doc *doc)
{
	char g[sizeof(gtube_a) + sizeof(gtube_b)];

	snprintf(g, sizeof(g), "%s%s", gtube_a, gtube_b);
	return doc->text.len > 0 &&
	    memmem(doc->text.data, doc->text.len, g, strlen(g)) != NULL;
}

/* spam_header - the first field of that name, or NULL */
static const struct txn_header *
spam_header(const struct txn *t, const char *name, size_t *count)
{
	const struct txn_header *first = NULL;
	size_t n = 0;

	for (size_t i = 0; i < t->nheaders; i++)
		if (strcasecmp(t->headers[i].name, name) == 0) {
			if (first == NULL)
				first = &t->headers[i];
			n++;
		}
	if (count)
		*count = n;
	return first;
}

/* spam_domain - the domain of the first address in a field value */
static void
spam_domain(const char *v, char *out, size_t size)
{
	const char *at = v ? strrchr(v, '@') : NULL;
	size_t n = 0;

	out[0] = '\0';
	if (at == NULL)
		return;
	for (at++; *at && !strchr("> \t\r\n,;\"", *at) && n + 1 < size; at++)
		out[n++] = (char)((*at >= 'A' && *at <= 'Z') ? *at + 32 : *at);
	out[n] = '\0';
}

/* spam_header_rules - what the header fields say */
static void
spam_header_rules(struct txn *t, const struct mime_doc *doc)
{
	const struct txn_header *h;
	size_t n;
	char d1[256], d2[256];
	/* the Date against when the last hop before us received it (as
	 * SpamAssassin's DATE_IN_PAST_* do), or now when no Received field
	 * has a date: a message kept for a week and then fed to us is not
	 * late, and a corpus of old mail is not all "in the past" */
	long long now = (long long)time(NULL), ref = doc->received_date;
	const char *whose = "Received";

	if (ref <= 0 || ref > now + SPAM_FUTURE_SECS) {
		ref = now;
		whose = "now";
	}
	if (doc->date_state == 0)
		symbols_add(&t->symbols, "MISSING_DATE", 0, "no Date field");
	else if (doc->date_state < 0)
		symbols_add(&t->symbols, "DATE_INVALID", 0, "Date does not "
			    "parse");
	else if (doc->date > ref + SPAM_FUTURE_SECS)
		symbols_add(&t->symbols, "DATE_IN_FUTURE", 0, "%lld hours "
			    "ahead of %s", (doc->date - ref) / 3600, whose);
	else if (doc->date < ref - SPAM_PAST_SECS)
		symbols_add(&t->symbols, "DATE_IN_PAST", 0, "%lld days "
			    "behind %s", (ref - doc->date) / 86400, whose);
	if (spam_header(t, "Message-ID", NULL) == NULL)
		symbols_add(&t->symbols, "MISSING_MID", 0, "no Message-ID");
	h = spam_header(t, "Subject", NULL);
	if (h == NULL)
		symbols_add(&t->symbols, "MISSING_SUBJECT", 0, "no Subject");
	else if (strspn(doc->subject, " \t\r\n") == strlen(doc->subject))
		symbols_add(&t->symbols, "EMPTY_SUBJECT", 0, "empty Subject");
	spam_domain(doc->from, d1, sizeof(d1));
	spam_domain(doc->reply_to, d2, sizeof(d2));
	if (*d1 && *d2 && strcmp(d1, d2) != 0)
		symbols_add(&t->symbols, "FROM_REPLYTO_DIFFER", 0, "%s, "
			    "Reply-To %s", d1, d2);
	/* Postfix does not show milters the Received it adds: inbound mail
	 * with none came straight from whatever wrote it */
	h = spam_header(t, "Received", &n);
	if (t->mode == TXN_INBOUND && n == 0)
		symbols_add(&t->symbols, "MISSING_RECEIVED", 0, "%zu Received",
			    n);
	for (size_t i = 0; i < t->nheaders; i++) {
		const char *v = t->headers[i].value;

		if (strcasecmp(t->headers[i].name, "Received") != 0)
			continue;
		if (strstr(v, "by ") == NULL || strchr(v, ';') == NULL) {
			symbols_add(&t->symbols, "RECEIVED_MALFORMED", 0,
				    "Received %d has no by or date",
				    t->headers[i].index);
			break;
		}
	}
}

/* spam_mime_rules - what the structure says */
static void
spam_mime_rules(struct txn *t, const struct mime_doc *doc)
{
	static const struct {
		unsigned	flag;
		const char	*name, *what;
	} rules[] = {
		{ MIME_HTML_ONLY, "HTML_ONLY", "HTML and no text part" },
		{ MIME_TEXT_HTML_DIFFER, "TEXT_HTML_DIFFER", "the text and "
		  "HTML parts differ" },
		{ MIME_BAD_CHARSET, "MIME_BAD_CHARSET", "unknown or broken "
		  "charset" },
		{ MIME_BAD_ENCODING, "MIME_BAD_ENCODING", "broken base64 or "
		  "quoted-printable" },
		{ MIME_NO_BOUNDARY, "MIME_NO_BOUNDARY", "a multipart without "
		  "its boundary" },
		{ MIME_TRUNCATED, "MIME_TRUNCATED", "over a MIME limit" },
	};

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (doc->flags & rules[i].flag)
			symbols_add(&t->symbols, rules[i].name, 0, "%s",
				    rules[i].what);
}

/* spam_size_rule - one size class a message */
static void
spam_size_rule(struct txn *t)
{
	long long s = t->size;
	const char *name = s < 1024 ? "SIZE_TINY" : s < 16 * 1024 ?
	    "SIZE_SMALL" : s < 256 * 1024 ? "SIZE_MEDIUM" : s < 4096 * 1024 ?
	    "SIZE_LARGE" : "SIZE_HUGE";

	/* the class only: the summary line has the size */
	symbols_add(&t->symbols, name, 0, "%s", "");
}

void
spam_params(const struct conf *c, struct bayes_params *p)
{
	bayes_params_default(p);
	p->robs = c->bayes_robs;
	p->robx = c->bayes_robx;
	p->min_dev = c->bayes_min_dev;
	p->min_spam = (unsigned)c->bayes_min_spam;
	p->min_ham = (unsigned)c->bayes_min_ham;
}

/* spam_bayes - look the tokens up, classify, name the result */
static void
spam_bayes(struct txn *t, const struct tokens *tok)
{
	const struct conf *c = t->conf;
	struct tokstore_counts *counts;
	struct tokstore_totals tot;
	struct bayes_params p;
	struct bayes_result r;
	struct tokstore *ts;
	char why[256];
	int absent;

	ts = spam_store(c, 0, &absent, why, sizeof(why));
	if (ts == NULL) {
		if (!absent)
			symbols_add_opts(&t->symbols, "SPAM_ERROR", 0,
					 "token store unavailable", NULL,
					 "bayes: %s", why);
		return;
	}
	counts = xcalloc(tok->n ? tok->n : 1, sizeof(*counts));
	if (tokstore_lookup(ts, tok->v, tok->n, counts, &tot, why,
			    sizeof(why)) != 0) {
		symbols_add_opts(&t->symbols, "SPAM_ERROR", 0,
				 "token store unavailable", NULL, "bayes: %s",
				 why);
		free(counts);
		return;
	}
	spam_params(c, &p);
	bayes_classify(&p, counts, tok->n, &tot, &r);
	free(counts);
	if (r.neutral)
		return;		/* too little training: no guess */
	if (r.prob >= 0.5)
		symbols_add_scaled(&t->symbols, "BAYES_SPAM",
				   2 * r.prob - 1, "%.2f%% of %zu tokens",
				   r.prob * 100, r.used);
	else
		symbols_add_scaled(&t->symbols, "BAYES_HAM", 1 - 2 * r.prob,
				   "%.2f%% of %zu tokens", r.prob * 100,
				   r.used);
}

/* spam_digest - what makes a message the same message when learned
 * again: its Message-ID and its body (trace fields differ by hop), line
 * ends as LF (an mbox and a maildir copy of one message are the same) */
static void
spam_digest(const unsigned char *msg, size_t len, const char *mid,
	    unsigned char out[32])
{
	const unsigned char *body = memmem(msg, len, "\r\n\r\n", 4);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n = 32;

	if (body == NULL)
		body = memmem(msg, len, "\n\n", 2);
	body = body ? body : msg;
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, mid, strlen(mid));
	EVP_DigestUpdate(ctx, "\n", 1);
	/* and without the line breaks at the end (an mbox adds one) */
	while (len > (size_t)(body - msg) &&
	       (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
		len--;
	for (const unsigned char *p = body, *end = msg + len; p < end;) {
		const unsigned char *cr = memchr(p, '\r', (size_t)(end - p));
		const unsigned char *stop = cr ? cr : end;

		EVP_DigestUpdate(ctx, p, (size_t)(stop - p));
		p = cr ? cr + 1 : end;
	}
	EVP_DigestFinal_ex(ctx, out, &n);
	EVP_MD_CTX_free(ctx);
}

/* spam_thresholds - the total against the mode's thresholds */
static void
spam_thresholds(struct txn *t)
{
	const struct conf *c = t->conf;
	int out = t->mode == TXN_OUTBOUND;
	double total = symbols_score(&t->sess->symbols) +
	    symbols_score(&t->symbols);
	double tag = out ? c->spam_outbound_tag_score : c->spam_tag_score;
	double hold = out ? c->spam_outbound_quarantine_score :
	    c->spam_quarantine_score;
	double rej = out ? c->spam_outbound_reject_score :
	    c->spam_reject_score;
	char score[64];

	snprintf(score, sizeof(score), "%.2f", total);
	if (total >= rej)
		symbols_add_opts(&t->symbols, "SPAM_REJECT", 0, score, NULL,
				 "score %.2f >= %.2f", total, rej);
	else if (total >= hold)
		symbols_add_opts(&t->symbols, "SPAM_QUARANTINE", 0, score, NULL,
				 "score %.2f >= %.2f", total, hold);
	if (total >= tag && total < rej)
		symbols_add(&t->symbols, "SPAM_TAG", 0, "score %.2f >= %.2f",
			    total, tag);
	/* forged status fields go whatever the score */
	txn_strip_header(t, "X-Spam-Flag");
	txn_strip_header(t, "X-Spam-Score");
	txn_strip_header(t, "X-Spam-Status");
	if (total >= tag) {
		struct sbuf st;
		int n = 0;

		sbuf_init(&st);
		sbuf_printf(&st, "Yes, score=%.2f required=%.2f tests=", total,
			    tag);
		for (int s = 0; s < 2; s++) {
			const struct symbols *set = s ? &t->symbols :
			    &t->sess->symbols;

			for (size_t i = 0; i < set->count; i++)
				if (set->v[i].score != 0 &&
				    strncmp(set->v[i].name, "SPAM_", 5) != 0)
					sbuf_printf(&st, "%s%s", n++ ? "," : "",
						    set->v[i].name);
		}
		if (n == 0)
			sbuf_puts(&st, "none");
		txn_add_trace(t, "X-Spam-Flag", "YES");
		txn_add_trace(t, "X-Spam-Score", score);
		txn_add_trace(t, "X-Spam-Status", st.data);
		sbuf_free(&st);
	}
	if (c->spam && c->bayes && c->bayes_autolearn &&
	    (total >= c->bayes_autolearn_spam_score ||
	     total <= c->bayes_autolearn_ham_score)) {
		struct spool_view v;
		char why[256];

		spool_view(&t->spool, &v);
		if (v.data != NULL &&
		    spam_learn_message(c, v.data, v.len,
				       total >= c->bayes_autolearn_spam_score,
				       0, why, sizeof(why)) < 0)
			log_warn("%s: bayes autolearn: %s", *t->queue_id ?
				 t->queue_id : "NOQUEUE", why);
	}
}

/* spam_builtin - the built-in engine's rules and Bayes result */
static void
spam_builtin(struct txn *t)
{
	const struct conf *c = t->conf;
	const struct mime_doc *doc;

	spam_size_rule(t);
	/* the transaction's one walk (the URI blocklists read it too) */
	if ((doc = txn_mime(t)) == NULL)
		return;
	if (t->size > c->spam_max_size) {
		/* too big to walk: what the header fields say, no tokens */
		spam_header_rules(t, doc);
		return;
	}
	if (spam_gtube(doc))
		symbols_add(&t->symbols, "GTUBE", 0, "the GTUBE test string");
	spam_header_rules(t, doc);
	spam_mime_rules(t, doc);
	if (c->bayes) {
		struct tokens tok;

		tokens_init(&tok, (size_t)c->bayes_max_tokens);
		tokens_from_doc(&tok, doc);
		spam_bayes(t, &tok);
		tokens_free(&tok);
	}
}

/*
 * spam_eom - the built-in engine when it is on, then the thresholds on
 * the total, whatever engines (built-in, spamd, Rspamd) contributed
 */
void
spam_eom(struct txn *t)
{
	if (t->spool.err != 0)
		return;
	if (t->conf->spam)
		spam_builtin(t);
	spam_thresholds(t);
}

/*
 * spam_learn_prepare - a message's tokens (the caller frees tok) and its
 * digest, as learned
 */
static void
spam_learn_prepare(const struct conf *c, const unsigned char *msg,
		   size_t len, struct tokens *tok, unsigned char digest[32])
{
	struct spool_view v = { msg, -1, len };
	struct mime_limits lim;
	struct mime_doc doc;
	const char *mid, *p;
	char midbuf[512];

	spam_limits(c, &lim);
	mime_walk(&v, &lim, &doc);
	tokens_init(tok, (size_t)c->bayes_max_tokens);
	tokens_from_doc(tok, &doc);
	mime_doc_free(&doc);
	/* the Message-ID as written, for the digest */
	midbuf[0] = '\0';
	for (p = (const char *)msg; p && p < (const char *)msg + len;) {
		const char *eol = memchr(p, '\n', len - (size_t)(p -
		    (const char *)msg));
		size_t n = eol ? (size_t)(eol - p) : len - (size_t)(p -
		    (const char *)msg);

		if (n == 0 || (n == 1 && *p == '\r'))
			break;		/* end of the header */
		if (n > 11 && strncasecmp(p, "Message-ID:", 11) == 0) {
			size_t k = n - 11 < sizeof(midbuf) - 1 ? n - 11 :
			    sizeof(midbuf) - 1;

			memcpy(midbuf, p + 11, k);
			midbuf[k] = '\0';
			break;
		}
		p = eol ? eol + 1 : NULL;
	}
	mid = util_trim(midbuf);
	spam_digest(msg, len, mid, digest);
}

int
spam_learn_message(const struct conf *c, const unsigned char *msg,
		   size_t len, int is_spam, int forget, char *why,
		   size_t whylen)
{
	struct tokens tok;
	struct tokstore *ts;
	unsigned char digest[32];
	int absent, rc;

	if ((ts = spam_store(c, 1, &absent, why, whylen)) == NULL)
		return -1;
	spam_learn_prepare(c, msg, len, &tok, digest);
	rc = tokstore_learn(ts, digest, tok.v, tok.n, is_spam, forget ? -1 : 1,
			    why, whylen);
	tokens_free(&tok);
	return rc;
}

struct spam_learner {
	const struct conf *conf;
	int		is_spam, forget;
	spam_learn_done	done;
	void		*arg;
	size_t		n;
	struct tokstore_item item[SPAM_LEARN_BATCH];
	char		*src[SPAM_LEARN_BATCH];
};

struct spam_learner *
spam_learner_new(const struct conf *c, int is_spam, int forget,
		 spam_learn_done done, void *arg)
{
	struct spam_learner *l = xcalloc(1, sizeof(*l));

	l->conf = c;
	l->is_spam = is_spam != 0;
	l->forget = forget != 0;
	l->done = done;
	l->arg = arg;
	return l;
}

void
spam_learner_add(struct spam_learner *l, const char *src,
		 const unsigned char *msg, size_t len)
{
	struct tokstore_item *it = &l->item[l->n];
	struct tokens tok;

	spam_learn_prepare(l->conf, msg, len, &tok, it->digest);
	it->tokens = tok.v;		/* the item owns them now */
	it->n = tok.n;
	it->is_spam = l->is_spam;
	it->sign = l->forget ? -1 : 1;
	it->rc = -1;
	l->src[l->n] = xstrdup(src);
	if (++l->n == SPAM_LEARN_BATCH)
		spam_learner_flush(l);
}

void
spam_learner_flush(struct spam_learner *l)
{
	struct tokstore *ts;
	char why[512];
	int absent;

	if (l->n == 0)
		return;
	why[0] = '\0';
	if ((ts = spam_store(l->conf, 1, &absent, why, sizeof(why))) != NULL)
		tokstore_learn_many(ts, l->item, l->n, why, sizeof(why));
	for (size_t i = 0; i < l->n; i++) {
		l->done(l->arg, l->src[i], l->item[i].rc, why);
		free(l->item[i].tokens);
		free(l->src[i]);
	}
	l->n = 0;
}

void
spam_learner_free(struct spam_learner *l)
{
	if (l == NULL)
		return;
	spam_learner_flush(l);
	free(l);
}

int
spam_store_totals(const struct conf *c, unsigned long long *nspam,
		  unsigned long long *nham, char *why, size_t whylen)
{
	struct tokstore_totals tot;
	struct tokstore *ts;
	int absent;

	*nspam = *nham = 0;
	if ((ts = spam_store(c, 1, &absent, why, whylen)) == NULL)
		return -1;
	if (tokstore_lookup(ts, NULL, 0, NULL, &tot, why, whylen) != 0)
		return -1;
	*nspam = tot.spam;
	*nham = tot.ham;
	return 0;
}
