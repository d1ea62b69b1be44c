/*
 * fuzz_rawmsg - a raw message through the milter callbacks as "relayguard
 * check" drives them (milter/check.c over milter/callbacks.c and
 * milter/mta.c, policy/mail/rawmsg.c splitting the message, the policy
 * and its checks, the transaction and its spool), and through the policy
 * stages directly.
 *
 * Feeds: byte 0 chooses the scenario, the rest is the message.  It runs
 * twice on a configuration from conf_defaults() with small limits:
 *   A. check.c's own code (this file includes milter/check.c, unchanged,
 *      for its static functions), set up as check_main() does: the
 *      stand-in MTA (struct check_mta, check_ops) on daemon_set_conf(),
 *      cb_open() with HDR_LEADSPC and every no-reply step offered,
 *      check_head, the envelope sender from the message (check_sender:
 *      Return-Path, else the first From address), check_envelope,
 *      check_message (head, then 64 KiB freads), cb_close().  The
 *      observer hook (check_ops.verdict) is wrapped to look at each
 *      verdict while its transaction still exists; the daemon_*() calls
 *      go to tests/fuzz/daemon_stub.c.
 *   B. the policy_* stage functions called directly, as the callbacks
 *      would, with rawmsg_feed() in chunks of 1, 7, 100 or 65536 bytes
 *      into a sink that calls policy_header/eoh/body (leadspc 1, as
 *      check), then rawmsg_finish() and policy_eom().
 * Byte 0: bits 0-1 configuration (0 no login map; 1 map, login "alice";
 * 2 map, no login; 3 map, login "bob", display spoofing rejected,
 * sender_domains and an alias); bits 2-3 the chunk size of run B, and
 * bit 2 also milter_no_reply (a verdict reached at a header or body step
 * is held to the end of headers or of the message); bit 4 MAIL FROM
 * from the message (else alice@example.com); bit 5 client 10.1.2.3 in
 * trusted_networks (else 192.0.2.3); bits 6-7 limits (max_header_size/
 * max_message_size/spool_memory_max 200/1000/0, 2048/8192/1M,
 * 65536/30000/1M, 1M/50M/4096: 0 and 4096 put the spool in a file; with
 * bit 2 the last has max_message_size 0, so no check needs the body: no
 * body step, no spool).  SPF and DKIM are off: they would ask real DNS
 * (fuzz_spf and fuzz_dkim cover them).
 *
 * Invariants beyond "no crash, no leak":
 *   - every verdict is final and one of enum action; reject has a 5xx
 *     reply, tempfail a 4xx one; the reply text is printable ASCII (no
 *     CR/LF to split an SMTP reply), and so is the reply check records;
 *   - accept and quarantine verdicts add the status header (X-Relayguard)
 *     with "verdict=ACTION"; added headers are printable; every header to
 *     remove names a field the transaction has, by a valid 1-based index;
 *     check's record (action, quarantine) is the verdict's;
 *   - no message is left counted in flight once the connection closes;
 *   - runs A and B agree (action, reply, symbols with their details, byte
 *     counts, spool): splitting the input differently, and holding
 *     verdicts for no-reply steps, must not change the result;
 *   - when the message is accepted, the policy saw what an MTA would pass
 *     (rawmsg.h): one field per header field of the message, a leading
 *     mbox "From " line skipped, a line not a field (or with no colon in
 *     its first max(max_header_size + 1, 2049) bytes) starting the body,
 *     a field's first line kept up to that many bytes and its folded
 *     lines joined with "\n" up to max_header_size + 1, a field cut at a
 *     NUL; header_bytes is the sum of "Name:" VALUE CRLF over the fields
 *     as on the wire (white space before the colon dropped, after it
 *     kept: HDR_LEADSPC; a bare LF in a folded value counted as CRLF),
 *     body_bytes the body with bare LF made CRLF (0 without a body
 *     step), both within max_header_size and max_message_size;
 *   - an accepted message whose checks need the spool has it, whole:
 *     header_bytes + 2 (the empty line, txn_end_header) + body_bytes
 *     bytes, and they are the fields as sent, CRLF, then the body; when
 *     no check needs it nothing is spooled.
 */
#include "../../milter/check.c"

#include <stdint.h>

#include "fuzz.h"
#include "loginmap.h"
#include "spool.h"
#include "verdict.h"

int daemon_stub_inflight(void);		/* tests/fuzz/daemon_stub.c */

static const char map_text[] =
	"alice@example.com\talice\n"
	"bob@example.com\tbob\n"
	"sales@example.com\talice, bob\n"
	"@example.org\torgadmin\n"
	"*@example.com\thelpdesk\n"
	"postmaster\tadmin\n"
	"/^([a-z0-9._-]+)@example\\.edu$/ ${1}\n";

static const long long limits[4][3] = {
	{ 200, 1000, 0 }, { 2048, 8192, 1024 * 1024 },
	{ 65536, 30000, 1024 * 1024 }, { 1024 * 1024, 50 * 1024 * 1024, 4096 },
};
static const size_t chunks[4] = { 1, 7, 100, 65536 };

static struct conf *confs[32];
static char map_path[4096];
static struct mta_ops fz_ops;		/* check_ops, observer wrapped */

/* conf_for - the configuration of a scenario, made once */
static struct conf *
conf_for(unsigned variant, unsigned limit, int noreply)
{
	struct conf **slot = &confs[(variant * 4 + limit) * 2 + !!noreply];
	struct conf *c;
	char err[512];

	if (*slot != NULL)
		return *slot;
	c = conf_defaults();
	c->spf = 0;
	c->dkim = 0;		/* DKIM and DMARC would ask real DNS too */
	c->dmarc = 0;
	free(c->authserv_id);		/* not this host's name: seeds match */
	c->authserv_id = xstrdup("mx.example.org");
	c->max_header_size = limits[limit][0];
	c->max_message_size = limits[limit][1];
	if (limit == 3 && noreply)
		c->max_message_size = 0;	/* no size check: no body step */
	c->spool_memory_max = limits[limit][2];
	free(c->temp_dir);
	c->temp_dir = xstrdup(fz_dir());
	c->milter_no_reply = noreply;
	netlist_free(&c->trusted_networks);
	if (netlist_parse("10.0.0.0/8", &c->trusted_networks, err,
			  sizeof(err)) != 0)
		abort();
	if (variant != 0) {
		free(c->sender_login_maps);
		c->sender_login_maps = xstrdup(map_path);
		c->login_map = loginmap_src_open(map_path, 1, err, sizeof(err));
		if (c->login_map == NULL) {
			fprintf(stderr, "fuzz: %s\n", err);
			abort();
		}
		strlist_free(&c->local_domains);
		strlist_parse(&c->local_domains, "example.com", 1);
	}
	if (variant == 3) {
		c->sender_display_spoof_action = ACTION_REJECT;
		strlist_free(&c->sender_domains);
		strlist_parse(&c->sender_domains, "example.com example.org", 1);
		strlist_free(&c->sender_domain_aliases);
		strlist_parse(&c->sender_domain_aliases,
			      "alias.example=example.com", 1);
	}
	return *slot = c;
}

/* ---------------------------------------------------------------------
 * The model: what an MTA passes for this message (rawmsg.h), and what
 * the spool then holds (spool.h)
 */

struct model {
	long long	header_bytes;
	long long	body_bytes;
	size_t		nfields;
	struct sbuf	spool;		/* fields, CRLF, body */
	int		pending_cr;	/* body: the last byte was CR */
};

/*
 * model_name_end - how a line begins, as Postfix's is_header() sees it:
 * 1 a field name of printable ASCII, optional white space, a colon; 0 not
 * a field; -1 field-name bytes and no colon yet
 */
static int
model_name_end(const uint8_t *s, size_t len)
{
	size_t i = 0;

	while (i < len && s[i] > 32 && s[i] < 127 && s[i] != ':')
		i++;
	if (i == 0 || i == len)
		return i == 0 ? 0 : -1;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == len)
		return -1;
	return s[i] == ':';
}

/* model_crlf - append p with each LF not after a CR made CRLF; bytes out */
static long long
model_crlf(struct sbuf *out, const uint8_t *p, size_t len, int *pending_cr)
{
	long long n = 0;

	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n' && !*pending_cr) {
			sbuf_append(out, "\r", 1);
			n++;
		}
		sbuf_append(out, p + i, 1);
		n++;
		*pending_cr = p[i] == '\r';
	}
	return n;
}

/* model_field - one field as sent: "Name:" VALUE CRLF, cut at a NUL */
static void
model_field(struct model *md, const uint8_t *f, size_t flen)
{
	size_t n, nlen;
	const uint8_t *colon;
	long long vbytes;
	int cr = 0;

	if (flen == 0)
		return;
	n = strnlen((const char *)f, flen);
	colon = memchr(f, ':', n);
	FZ_CHECK(colon != NULL, "model: a field without a colon");
	nlen = (size_t)(colon - f);
	while (nlen > 0 && (f[nlen - 1] == ' ' || f[nlen - 1] == '\t'))
		nlen--;
	sbuf_append(&md->spool, f, nlen);
	sbuf_append(&md->spool, ":", 1);
	vbytes = model_crlf(&md->spool, colon + 1, (size_t)(f + n - colon - 1),
			    &cr);
	sbuf_append(&md->spool, "\r\n", 2);
	md->header_bytes += (long long)nlen + 1 + vbytes + 2;
	md->nfields++;
}

static void
model_body(struct model *md, const uint8_t *p, size_t len)
{
	md->body_bytes += model_crlf(&md->spool, p, len, &md->pending_cr);
}

/* model_message - the message split as rawmsg.h says an MTA does it */
static void
model_message(const uint8_t *data, size_t size, long long max_header,
	      struct model *md)
{
	size_t cap = (size_t)max_header + 1;
	size_t line_cap = cap > RAWMSG_RECORD + 1 ? cap : RAWMSG_RECORD + 1;
	uint8_t *field = malloc(size + 1);
	size_t flen = 0, i = 0;
	int first = 1;

	if (field == NULL)
		abort();
	memset(md, 0, sizeof(*md));
	sbuf_init(&md->spool);
	while (i < size) {
		const uint8_t *s = data + i;
		const uint8_t *nl = memchr(s, '\n', size - i);
		size_t len = nl ? (size_t)(nl - s) : size - i;
		size_t next = i + len + (nl != NULL);

		if (len > line_cap) {
			/* past the cap only a field goes on, cut */
			if (!(((s[0] == ' ' || s[0] == '\t') && flen > 0) ||
			      (first && memcmp(s, "From ", 5) == 0) ||
			      model_name_end(s, line_cap) == 1)) {
				/* body text: the body starts with all of it */
				model_field(md, field, flen);
				sbuf_append(&md->spool, "\r\n", 2);
				model_body(md, s, size - i);
				free(field);
				return;
			}
			len = line_cap;
		}
		i = next;
		if (len > 0 && s[len - 1] == '\r')
			len--;
		if (first) {
			first = 0;
			if (len >= 5 && memcmp(s, "From ", 5) == 0 &&
			    model_name_end(s, len) != 1)
				continue;		/* mbox From line */
		}
		if (len == 0)
			break;				/* the body follows */
		if ((s[0] == ' ' || s[0] == '\t') && flen > 0) {
			if (flen < cap)
				field[flen++] = '\n';
			if (flen < cap) {
				size_t k = len < cap - flen ? len : cap - flen;

				memcpy(field + flen, s, k);
				flen += k;
			}
			continue;
		}
		model_field(md, field, flen);
		flen = 0;
		if (model_name_end(s, len) != 1) {
			/* not a field: the body starts with this line */
			sbuf_append(&md->spool, "\r\n", 2);
			model_body(md, s, len);
			model_body(md, (const uint8_t *)"\r\n", 2);
			model_body(md, data + i, size - i);
			free(field);
			return;
		}
		memcpy(field, s, len);
		flen = len;
	}
	model_field(md, field, flen);
	sbuf_append(&md->spool, "\r\n", 2);
	model_body(md, data + i, size - i);
	free(field);
}

/* ---------------------------------------------------------------------
 * What a run ended with, and the checks of one verdict
 */

struct result {
	int		have;		/* a verdict was seen */
	enum action	action;
	char		code[4];
	char		xcode[16];
	char		*text;
	struct sbuf	symbols;	/* NAME(score){detail},... */
	int		have_txn;
	long long	header_bytes, body_bytes, size;
	size_t		nheaders;
	int		keep, spool_failed;
	unsigned char	*spool;		/* a copy of what it held */
	size_t		spool_len;
};

static void
result_init(struct result *r)
{
	memset(r, 0, sizeof(*r));
	sbuf_init(&r->symbols);
}

static void
result_clear(struct result *r)
{
	free(r->text);
	free(r->spool);
	sbuf_free(&r->symbols);
}

/* fz_symbols - the names, scores and details of a set, in order */
static void
fz_symbols(struct sbuf *out, const struct symbols *set)
{
	for (size_t i = 0; i < set->count; i++)
		sbuf_printf(out, "%s%s(%.2f){%s}", out->len ? "," : "",
			    set->v[i].name, set->v[i].score, set->v[i].detail);
}

/* fz_spool_copy - every byte the spool holds, read back */
static unsigned char *
fz_spool_copy(const struct spool *sp, size_t *len)
{
	unsigned char *buf = malloc(sp->len + 1);
	size_t off = 0;

	if (buf == NULL)
		abort();
	while (off < sp->len) {
		ssize_t n = spool_read(sp, off, buf + off, sp->len - off);

		FZ_CHECK(n > 0, "spool_read at %zu of %zu: %zd", off, sp->len,
			 n);
		off += (size_t)n;
	}
	*len = off;
	return buf;
}

/* fz_verdict_sane - the checks of one verdict, its transaction alive */
static void
fz_verdict_sane(const struct session *s, const struct txn *t,
		const struct verdict *v, const char *run)
{
	const char *status = s->conf->status_header;
	int have_status = 0;

	FZ_CHECK(v->final, "%s: verdict not final", run);
	FZ_CHECK(v->action >= ACTION_ACCEPT && v->action <= ACTION_REJECT,
		 "%s: action %d", run, (int)v->action);
	if (v->action == ACTION_REJECT)
		FZ_CHECK(v->code[0] == '5', "%s: reject with code \"%s\"", run,
			 v->code);
	if (v->action == ACTION_TEMPFAIL)
		FZ_CHECK(v->code[0] == '4', "%s: tempfail with code \"%s\"",
			 run, v->code);
	if (v->text != NULL)
		FZ_CHECK(fz_printable(v->text, strlen(v->text), 0),
			 "%s: reply text not printable: \"%s\"", run, v->text);
	for (size_t i = 0; i < v->nadd; i++) {
		const struct verdict_header *h = &v->add[i];

		FZ_CHECK(fz_printable(h->name, strlen(h->name), 0) &&
			 fz_printable(h->value, strlen(h->value), 0),
			 "%s: added header not printable: %s", run, h->name);
		if (*status && strcmp(h->name, status) == 0) {
			char want[32];

			snprintf(want, sizeof(want), "verdict=%s;",
				 verdict_action_name((int)v->action));
			FZ_CHECK(strstr(h->value, want) != NULL,
				 "%s: %s: %s for verdict %s", run, h->name,
				 h->value, verdict_action_name((int)v->action));
			have_status = 1;
		}
	}
	if (v->action == ACTION_ACCEPT || v->action == ACTION_QUARANTINE)
		FZ_CHECK(have_status || *status == '\0',
			 "%s: %s verdict without %s", run,
			 verdict_action_name((int)v->action), status);
	for (size_t i = 0; i < v->nremove; i++) {
		const struct verdict_header *h = &v->remove[i];
		int count = 0;

		for (size_t j = 0; t != NULL && j < t->nheaders; j++)
			if (strcasecmp(t->headers[j].name, h->name) == 0)
				count++;
		FZ_CHECK(h->index >= 1 && h->index <= count,
			 "%s: remove %s #%d of %d", run, h->name, h->index,
			 count);
	}
}

/* fz_record - check a verdict and keep what the runs are compared on */
static void
fz_record(struct result *r, const struct session *s, const struct txn *t,
	  const struct verdict *v, const char *run)
{
	fz_verdict_sane(s, t, v, run);
	free(r->text);
	free(r->spool);
	r->spool = NULL;
	r->have = 1;
	r->action = v->action;
	memcpy(r->code, v->code, sizeof(r->code));
	memcpy(r->xcode, v->xcode, sizeof(r->xcode));
	r->text = v->text ? xstrdup(v->text) : NULL;
	sbuf_reset(&r->symbols);
	fz_symbols(&r->symbols, &s->symbols);
	r->have_txn = t != NULL;
	if (t == NULL)
		return;
	fz_symbols(&r->symbols, &t->symbols);
	r->header_bytes = t->header_bytes;
	r->body_bytes = t->body_bytes;
	r->size = t->size;
	r->nheaders = t->nheaders;
	r->keep = t->keep;
	r->spool_failed = t->spool_failed;
	r->spool = fz_spool_copy(&t->spool, &r->spool_len);
}

/* ---------------------------------------------------------------------
 * Run A: check.c's path
 */

static struct result *fz_a;		/* where the observer records */

/* fz_observe - check.c's observer, then a look at the verdict */
static void
fz_observe(struct mta *m, const struct session *s, const struct txn *t,
	   const struct verdict *v)
{
	check_verdict(m, s, t, v);
	fz_record(fz_a, s, t, v, "check");
}

static void
run_check(struct conf *conf, const struct check_args *a, const char *sender,
	  FILE *fp, const struct sbuf *head, struct result *r)
{
	struct check_mta cm;
	struct mta m = { &fz_ops, &cm, 0 };
	struct cb_negotiation neg;
	struct sbuf from;

	memset(&cm, 0, sizeof(cm));
	cm.args = a;
	sbuf_init(&cm.reply);
	sbuf_init(&cm.edits);
	sbuf_init(&cm.symbols);
	sbuf_init(&cm.refused);
	sbuf_init(&cm.luaedits);
	sbuf_init(&from);
	sbuf_printf(&from, "<%s>", sender);
	cm.sender = sbuf_steal(&from);
	daemon_set_conf(conf);
	cm.leadspc = 1;
	cb_open(&m, cm.leadspc, CB_NR_CONN | CB_NR_HELO | CB_NR_DATA |
		CB_NR_HDR | CB_NR_BODY, &neg);
	cm.needs = neg.needs;
	fz_a = r;
	if (!check_envelope(&m, &cm))
		check_message(&m, fp, head, "fuzz", conf->max_header_size);
	cb_close(&m);
	daemon_set_conf(NULL);
	fz_a = NULL;

	FZ_CHECK(daemon_stub_inflight() == 0, "%d message(s) in flight after "
		 "the close", daemon_stub_inflight());
	FZ_CHECK(r->have, "check: no verdict");
	FZ_CHECK(cm.have_verdict && cm.action == r->action,
		 "check recorded %s, the verdict was %s",
		 cm.have_verdict ? verdict_action_name((int)cm.action) : "none",
		 verdict_action_name((int)r->action));
	FZ_CHECK(cm.quarantined == (r->action == ACTION_QUARANTINE),
		 "check: quarantined %d for verdict %s", cm.quarantined,
		 verdict_action_name((int)r->action));
	if (cm.reply.len)
		FZ_CHECK(fz_printable(cm.reply.data, cm.reply.len, 0),
			 "check: reply not printable: \"%s\"", cm.reply.data);
	sbuf_free(&cm.reply);
	sbuf_free(&cm.edits);
	sbuf_free(&cm.symbols);
	sbuf_free(&cm.refused);
	sbuf_free(&cm.luaedits);
	free(cm.sender);
}

/* ---------------------------------------------------------------------
 * Run B: the policy stages directly, the message in chunks
 */

struct direct {
	struct session	*sess;
	struct verdict	v;
	unsigned	needs;
};

static int
direct_header(void *ctx, const char *name, const char *value)
{
	struct direct *d = ctx;

	return policy_header(d->sess, name, value, 1, &d->v) != POLICY_CONTINUE;
}

static int
direct_eoh(void *ctx)
{
	struct direct *d = ctx;

	return policy_eoh(d->sess, &d->v) != POLICY_CONTINUE;
}

static int
direct_body(void *ctx, const unsigned char *data, size_t len)
{
	struct direct *d = ctx;

	/* no body step negotiated: the MTA does not send it */
	if (!(d->needs & POLICY_NEED_BODY))
		return 0;
	return policy_body(d->sess, data, len, &d->v) != POLICY_CONTINUE;
}

/* direct_macros - the macros as the callbacks copy them at each step */
static void
direct_macros(struct direct *d, const struct check_args *a)
{
	session_set_macro(d->sess, "i", a->queue_id);
	if (a->auth_user) {
		session_set_macro(d->sess, "{auth_authen}", a->auth_user);
		session_set_macro(d->sess, "{auth_type}", "PLAIN");
	}
}

/* direct_envelope - connect to RCPT TO; 1 when the transaction ended */
static int
direct_envelope(struct direct *d, const struct check_args *a,
		const char *sender)
{
	struct sbuf from;
	int rc;

	if (policy_connect(d->sess, a->client_ip, a->client_name, &d->v) !=
	    POLICY_CONTINUE ||
	    policy_helo(d->sess, a->helo, &d->v) != POLICY_CONTINUE)
		return 1;
	direct_macros(d, a);
	sbuf_init(&from);
	sbuf_printf(&from, "<%s>", sender);
	rc = policy_mail(d->sess, from.data, NULL, &d->v);
	sbuf_free(&from);
	if (rc != POLICY_CONTINUE)
		return 1;
	/* one recipient: refused, none is left */
	for (size_t i = 0; i < a->nrcpts; i++) {
		struct sbuf to;

		sbuf_init(&to);
		sbuf_printf(&to, "<%s>", a->rcpts[i]);
		rc = policy_rcpt(d->sess, to.data, &d->v);
		sbuf_free(&to);
		if (rc != POLICY_CONTINUE)
			return 1;
	}
	direct_macros(d, a);
	return 0;
}

static void
run_direct(struct conf *conf, const struct check_args *a, const char *sender,
	   const uint8_t *msgp, size_t len, size_t chunk, struct result *r)
{
	struct direct d;
	struct rawmsg_sink sink = {
		&d, direct_header, direct_eoh, direct_body, 1,
	};

	d.sess = session_new(conf);
	d.needs = policy_needs(conf);
	verdict_init(&d.v);
	if (!direct_envelope(&d, a, sender)) {
		struct rawmsg rm;

		rawmsg_init(&rm, &sink, conf->max_header_size);
		for (size_t i = 0; i < len; i += chunk)
			if (rawmsg_feed(&rm, msgp + i,
					len - i < chunk ? len - i : chunk))
				break;
		if (!rawmsg_finish(&rm)) {
			direct_macros(&d, a);
			policy_eom(d.sess, &d.v);
		}
	}
	fz_record(r, d.sess, d.sess->txn, &d.v, "chunked");
	verdict_clear(&d.v);
	session_free(d.sess);
}

/* ---------------------------------------------------------------------
 * Both runs, compared, and the accepted message against the model
 */

static int
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void
compare(const struct result *A, const struct result *B, size_t chunk)
{
	FZ_CHECK(A->action == B->action && strcmp(A->code, B->code) == 0 &&
		 strcmp(A->xcode, B->xcode) == 0 && same_str(A->text, B->text),
		 "check: %s %s %s %s; chunks of %zu: %s %s %s %s",
		 verdict_action_name((int)A->action), A->code, A->xcode,
		 A->text ? A->text : "", chunk,
		 verdict_action_name((int)B->action), B->code, B->xcode,
		 B->text ? B->text : "");
	FZ_CHECK(strcmp(A->symbols.data ? A->symbols.data : "",
			B->symbols.data ? B->symbols.data : "") == 0,
		 "symbols: check [%.900s]; chunks of %zu [%.900s]",
		 A->symbols.data ? A->symbols.data : "", chunk,
		 B->symbols.data ? B->symbols.data : "");
	FZ_CHECK(A->have_txn == B->have_txn &&
		 A->header_bytes == B->header_bytes &&
		 A->body_bytes == B->body_bytes && A->size == B->size &&
		 A->nheaders == B->nheaders,
		 "check: %lld+%lld=%lld bytes, %zu fields; chunks of %zu: "
		 "%lld+%lld=%lld, %zu", A->header_bytes, A->body_bytes,
		 A->size, A->nheaders, chunk, B->header_bytes, B->body_bytes,
		 B->size, B->nheaders);
	FZ_CHECK(A->keep == B->keep && A->spool_failed == B->spool_failed &&
		 A->spool_len == B->spool_len &&
		 (A->spool_len == 0 ||
		  memcmp(A->spool, B->spool, A->spool_len) == 0),
		 "spool: check keep %d, %zu bytes; chunks of %zu keep %d, %zu "
		 "bytes", A->keep, A->spool_len, chunk, B->keep, B->spool_len);
}

/* accepted - the message as the model has it, within the limits */
static void
accepted(const struct result *r, const struct conf *conf, const char *run,
	 const struct model *md)
{
	unsigned needs = policy_needs(conf);

	FZ_CHECK(r->header_bytes == md->header_bytes &&
		 r->nheaders == md->nfields,
		 "%s: accepted: policy counted %lld header bytes in %zu fields, "
		 "the message has %lld in %zu (max_header_size %lld)", run,
		 r->header_bytes, r->nheaders, md->header_bytes, md->nfields,
		 conf->max_header_size);
	/* no body step when no check needs it */
	FZ_CHECK(r->body_bytes == (needs & POLICY_NEED_BODY ?
				   md->body_bytes : 0),
		 "%s: accepted: policy counted %lld body bytes, the message "
		 "has %lld (max_message_size %lld)", run, r->body_bytes,
		 md->body_bytes, conf->max_message_size);
	FZ_CHECK(r->header_bytes <= conf->max_header_size &&
		 (conf->max_message_size == 0 ||
		  r->size <= conf->max_message_size),
		 "%s: accepted over the limits: %lld/%lld bytes", run,
		 r->header_bytes, r->size);
	if (!(needs & POLICY_NEED_SPOOL)) {
		FZ_CHECK(!r->keep && r->spool_len == 0,
			 "%s: %zu bytes spooled that no check reads", run,
			 r->spool_len);
		return;
	}
	FZ_CHECK(r->keep && !r->spool_failed,
		 "%s: accepted without the spool (keep %d, failed %d)", run,
		 r->keep, r->spool_failed);
	FZ_CHECK(r->spool_len ==
		 (size_t)(r->header_bytes + 2 + r->body_bytes),
		 "%s: accepted: the spool holds %zu bytes, header %lld + 2 + "
		 "body %lld", run, r->spool_len, r->header_bytes,
		 r->body_bytes);
	FZ_CHECK(r->spool_len == md->spool.len &&
		 memcmp(r->spool, md->spool.data, r->spool_len) == 0,
		 "%s: accepted: the spool is not the message as sent (%zu "
		 "bytes, the model %zu)", run, r->spool_len, md->spool.len);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_open(LOG_SINK_STDERR, LOG_MAIL, LOG_EMERG);	/* no summary lines */
	fz_fixed_file("login.map", map_text, map_path, sizeof(map_path));
	fz_ops = check_ops;
	fz_ops.verdict = fz_observe;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct check_args a;
	struct conf *conf;
	struct result A, B;
	struct model md;
	struct sbuf head;
	const uint8_t *msgp;
	size_t len, chunk;
	unsigned flags;
	char *sender;
	FILE *fp;

	if (size < 1)
		return 0;
	flags = data[0];
	msgp = data + 1;
	len = size - 1;
	conf = conf_for(flags & 3, (flags >> 6) & 3, (flags & 4) != 0);
	chunk = chunks[(flags >> 2) & 3];

	memset(&a, 0, sizeof(a));
	a.client_ip = (flags & 0x20) ? "10.1.2.3" : "192.0.2.3";
	a.client_name = "client.example.net";
	a.helo = "client.example.net";
	a.queue_id = "4FuZZ";
	if ((flags & 3) == 1)
		a.auth_user = "alice";
	else if ((flags & 3) == 3)
		a.auth_user = "bob";
	a.rcpts[a.nrcpts++] = "rcpt@example.net";

	fp = len ? fmemopen((void *)msgp, len, "rb") : fopen("/dev/null", "rb");
	if (fp == NULL)
		abort();
	sbuf_init(&head);
	if (check_head(fp, &head, (size_t)conf->max_header_size + 65536) != 0)
		abort();
	sender = (flags & 0x10) ? check_sender(head.data ? head.data : "",
					       head.len) :
	    xstrdup("alice@example.com");
	FZ_CHECK(sender != NULL, "check_sender: NULL");

	result_init(&A);
	run_check(conf, &a, sender, fp, &head, &A);
	fclose(fp);
	sbuf_free(&head);
	result_init(&B);
	run_direct(conf, &a, sender, msgp, len, chunk, &B);
	free(sender);

	compare(&A, &B, chunk);
	if (A.action == ACTION_ACCEPT || A.action == ACTION_QUARANTINE) {
		model_message(msgp, len, conf->max_header_size, &md);
		accepted(&A, conf, "check", &md);
		accepted(&B, conf, "chunked", &md);
		sbuf_free(&md.spool);
	}
	result_clear(&A);
	result_clear(&B);
	return 0;
}
