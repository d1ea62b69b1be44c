/*
 * txn - transaction state (see txn.h).
 *
 * Diagnostics: malformed data from the MTA is never fatal.  It is cut or
 * dropped and recorded as a symbol, so the verdict and the log say so.
 * A spool that cannot be written is noted once (SPOOL_ERROR); the
 * verdict tempfails the message.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime.h"
#include "netaddr.h"
#include "session.h"
#include "txn.h"
#include "util.h"

struct txn *
txn_new(struct session *s)
{
	struct txn *t = xcalloc(1, sizeof(*t));

	t->sess = s;
	t->conf = s->conf;
	t->queue_id = xstrdup("");
	t->auth_authen = xstrdup("");
	t->auth_type = xstrdup("");
	t->mail_from = xstrdup("");
	t->declared_size = -1;
	t->mode = TXN_INBOUND;
	symbols_init(&t->symbols);
	symbols_set_weights(&t->symbols, t->conf->weights);
	sbuf_init(&t->auth_results);
	spool_init(&t->spool, (size_t)t->conf->spool_memory_max,
		   t->conf->temp_dir);
	return t;
}

void
txn_free(struct txn *t)
{
	if (t == NULL)
		return;
	free(t->queue_id);
	free(t->auth_authen);
	free(t->auth_type);
	free(t->mail_from);
	for (size_t i = 0; i < t->nrcpts; i++)
		free(t->rcpts[i].addr);
	free(t->rcpts);
	for (size_t i = 0; i < t->nheaders; i++)
		free(t->headers[i].name);
	free(t->headers);
	symbols_clear(&t->symbols);
	for (size_t i = 0; i < t->ntraces; i++) {
		free(t->traces[i].name);
		free(t->traces[i].value);
	}
	free(t->traces);
	for (size_t i = 0; i < t->nsigs; i++) {
		free(t->sigs[i].name);
		free(t->sigs[i].value);
	}
	free(t->sigs);
	for (int i = 0; i < TXN_NSLOTS; i++)
		txn_set_slot(t, (enum txn_slot)i, NULL, NULL);
	sbuf_free(&t->auth_results);
	spool_free(&t->spool);
	free(t);
}

int
txn_set_macro(struct txn *t, const char *key, const char *value)
{
	char **slot;

	if (strcmp(key, "i") == 0)
		slot = &t->queue_id;
	else if (strcmp(key, "auth_authen") == 0)
		slot = &t->auth_authen;
	else if (strcmp(key, "auth_type") == 0)
		slot = &t->auth_type;
	else
		return 0;
	free(*slot);
	*slot = xstrdup(value);
	return 1;
}

/* txn_addr_strip - remove <> around an envelope address, never cut */
char *
txn_addr_strip(const char *a)
{
	size_t len;

	if (a == NULL)
		return xstrdup("");
	while (*a == ' ')
		a++;
	len = strnlen(a, TXN_ADDR_MAX + 3);
	if (len >= 2 && a[0] == '<' && a[len - 1] == '>') {
		a++;
		len -= 2;
	}
	if (len > TXN_ADDR_MAX)
		return NULL;
	return xstrndup(a, len);
}

void
txn_set_mail(struct txn *t, const char *addr, const char *const *args)
{
	struct session *s = t->sess;

	free(t->mail_from);
	t->mail_from = txn_addr_strip(addr);
	t->mail_overlong = t->mail_from == NULL;
	if (t->mail_overlong)
		t->mail_from = xstrdup("");
	t->have_mail = 1;
	t->declared_size = -1;
	for (; args && *args; args++) {
		if (strncasecmp(*args, "SIZE=", 5) == 0) {
			long long n = util_parse_size((*args) + 5);

			/* SIZE takes digits only; a suffix is not ESMTP */
			if (n >= 0 && isdigit((unsigned char)(*args)[
				strlen(*args) - 1]))
				t->declared_size = n;
		}
	}
	/* outbound: authenticated, or from a trusted network */
	if (*t->auth_authen != '\0') {
		t->mode = TXN_OUTBOUND;
		symbols_add(&t->symbols, "AUTHENTICATED", 0, "%s%s%s",
			    t->auth_authen, *t->auth_type ? " " : "",
			    t->auth_type);
	} else if (s->have_client &&
		   netlist_match(&t->conf->trusted_networks, &s->client)) {
		t->mode = TXN_OUTBOUND;
		symbols_add(&t->symbols, "TRUSTED_NETWORK", 0, "%s",
			    s->client_addr);
	} else {
		t->mode = TXN_INBOUND;
	}
}

struct txn_rcpt *
txn_add_rcpt(struct txn *t, const char *addr)
{
	struct txn_rcpt *r;

	t->rcpt_total++;
	if (t->nrcpts >= TXN_RCPT_MAX)
		return NULL;
	t->rcpts = xrealloc(t->rcpts, (t->nrcpts + 1) * sizeof(*t->rcpts));
	r = &t->rcpts[t->nrcpts++];
	r->addr = txn_addr_strip(addr);
	r->overlong = r->addr == NULL;
	if (r->overlong)
		r->addr = xstrdup("");
	r->refused = 0;
	return r;
}

/* header_name_ok - RFC 5322 field name: printable ASCII except ':' */
static int
header_name_ok(const char *n)
{
	if (*n == '\0')
		return 0;
	for (; *n; n++)
		if ((unsigned char)*n <= 32 || (unsigned char)*n >= 127 ||
		    *n == ':')
			return 0;
	return 1;
}

/* txn_spool - append to the spool if it is kept; note a failure once */
static void
txn_spool(struct txn *t, const void *data, size_t len)
{
	if (!t->keep || len == 0)
		return;
	if (spool_write(&t->spool, data, len) != 0 && !t->spool_failed) {
		t->spool_failed = 1;
		symbols_add(&t->symbols, "SPOOL_ERROR", 0, "%s in %s",
			    t->spool.why, t->spool.dir);
	}
}

/*
 * txn_spool_field - "Name:" and the value as sent, its line breaks made
 * CRLF (milter clients pass folded fields with bare LF or with CRLF)
 */
static void
txn_spool_field(struct txn *t, const char *name, size_t nlen,
		const char *value, int leadspc)
{
	const char *p = value, *lf;

	txn_spool(t, name, nlen);
	txn_spool(t, leadspc ? ":" : ": ", leadspc ? 1 : 2);
	while ((lf = strchr(p, '\n')) != NULL) {
		size_t n = (size_t)(lf - p);

		if (n > 0 && p[n - 1] == '\r')
			n--;
		txn_spool(t, p, n);
		txn_spool(t, "\r\n", 2);
		p = lf + 1;
	}
	txn_spool(t, p, strlen(p));
	txn_spool(t, "\r\n", 2);
}

int
txn_add_header(struct txn *t, const char *name, const char *value,
	       int leadspc)
{
	size_t nlen, vlen, raw;
	struct txn_header *h;
	int index = 1;

	if (name == NULL)
		name = "";
	if (value == NULL)
		value = "";
	nlen = strlen(name);
	raw = strlen(value);
	/* bare LF line breaks go out as CRLF */
	for (const char *p = value; (p = strchr(p, '\n')) != NULL; p++)
		if (p == value || p[-1] != '\r')
			raw++;
	/* on the wire: "Name:" VALUE CRLF, with one space unless leadspc */
	t->header_bytes += (long long)(nlen + raw + (leadspc ? 3 : 4));
	t->size += (long long)(nlen + raw + (leadspc ? 3 : 4));
	if (t->header_bytes > t->conf->max_header_size ||
	    t->nheaders >= TXN_HEADERS_MAX) {
		if (symbols_find(&t->symbols, "HEADER_SIZE_LIMIT") == NULL)
			symbols_add(&t->symbols, "HEADER_SIZE_LIMIT", 0,
				    "header section over %lld bytes or %d "
				    "fields", t->conf->max_header_size,
				    TXN_HEADERS_MAX);
		return -1;
	}
	txn_spool_field(t, name, nlen, value, leadspc);
	if (leadspc)
		/* as Postfix without HDR_LEADSPC: all leading white space,
		   a line break of a field folded right after its colon too */
		while (*value == ' ' || *value == '\t' || *value == '\r' ||
		       *value == '\n')
			value++;
	vlen = strlen(value);
	if (!header_name_ok(name) &&
	    symbols_find(&t->symbols, "HEADER_MALFORMED") == NULL)
		symbols_add(&t->symbols, "HEADER_MALFORMED", 0,
			    "bad field name \"%.64s\"", name);
	for (size_t i = 0; i < t->nheaders; i++)
		if (strcasecmp(t->headers[i].name, name) == 0)
			index++;
	t->headers = xrealloc(t->headers,
			      (t->nheaders + 1) * sizeof(*t->headers));
	h = &t->headers[t->nheaders++];
	h->name = xmalloc(nlen + vlen + 2);
	memcpy(h->name, name, nlen + 1);
	h->value = h->name + nlen + 1;
	memcpy(h->value, value, vlen + 1);
	h->index = index;
	return 0;
}

void
txn_end_header(struct txn *t)
{
	txn_spool(t, "\r\n", 2);
}

void
txn_add_body(struct txn *t, const unsigned char *data, size_t len)
{
	t->body_bytes += (long long)len;
	t->size += (long long)len;
	/* past the size limit nothing more is kept: the verdict is 552 */
	if (t->conf->max_message_size > 0 &&
	    t->size > t->conf->max_message_size) {
		if (t->keep)
			spool_free(&t->spool);
		t->keep = 0;
		return;
	}
	txn_spool(t, data, len);
}

const char *
txn_mode_name(enum txn_mode mode)
{
	return mode == TXN_OUTBOUND ? "outbound" : "inbound";
}

void
txn_add_trace(struct txn *t, const char *name, const char *value)
{
	t->traces = xrealloc(t->traces, (t->ntraces + 1) * sizeof(*t->traces));
	t->traces[t->ntraces].name = xstrdup(name);
	t->traces[t->ntraces].value = xstrdup(value);
	t->ntraces++;
}

void
txn_add_signature(struct txn *t, const char *name, const char *value)
{
	t->sigs = xrealloc(t->sigs, (t->nsigs + 1) * sizeof(*t->sigs));
	t->sigs[t->nsigs].name = xstrdup(name);
	t->sigs[t->nsigs].value = xstrdup(value);
	t->nsigs++;
}

void
txn_strip_header(struct txn *t, const char *name)
{
	for (size_t i = 0; i < t->nstrip; i++)
		if (strcasecmp(t->strip[i], name) == 0)
			return;
	if (t->nstrip < sizeof(t->strip) / sizeof(t->strip[0]))
		t->strip[t->nstrip++] = name;
}

void
txn_set_slot(struct txn *t, enum txn_slot i, void *data,
	     void (*free_fn)(void *))
{
	if (t->slot[i].data != NULL && t->slot[i].free != NULL)
		t->slot[i].free(t->slot[i].data);
	t->slot[i].data = data;
	t->slot[i].free = free_fn;
}

void *
txn_slot(const struct txn *t, enum txn_slot i)
{
	return t->slot[i].data;
}

void
txn_add_auth_result(struct txn *t, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (t->auth_results.len)
		sbuf_puts(&t->auth_results, "; ");
	sbuf_puts(&t->auth_results, buf);
}

void
txn_mime_limits(const struct conf *c, struct mime_limits *l)
{
	mime_limits_default(l);
	l->max_depth = c->mime_max_depth;
	l->max_parts = c->mime_max_parts;
	l->max_text = (size_t)c->mime_max_text;
	l->max_links = (size_t)c->mime_max_links;
}

/* txn_mime_free - the slot's free function */
static void
txn_mime_free(void *p)
{
	mime_doc_free(p);
	free(p);
}

const struct mime_doc *
txn_mime(struct txn *t)
{
	struct mime_doc *doc = txn_slot(t, TXN_SLOT_MIME);
	struct spool_view view;
	struct mime_limits lim;

	if (doc != NULL)
		return doc;
	if (t->spool.err != 0)
		return NULL;
	spool_view(&t->spool, &view);
	txn_mime_limits(t->conf, &lim);
	if (t->size > t->conf->spam_max_size)
		view.len = (size_t)t->header_bytes;	/* the header only */
	doc = xcalloc(1, sizeof(*doc));
	mime_walk(&view, &lim, doc);
	txn_set_slot(t, TXN_SLOT_MIME, doc, txn_mime_free);
	return doc;
}
