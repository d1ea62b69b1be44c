/*
 * fuzz_rawmsg - a raw message through the policy stages, as "relayguard
 * check" drives them (milter/check.c, policy/rawmsg.c, policy/policy.c and
 * the checks and verdict under it).
 *
 * Feeds: byte 0 chooses the scenario, the rest is the message.  It runs
 * twice on a configuration from conf_defaults() with small limits:
 *   A. check.c's own code (this file includes milter/check.c, unchanged,
 *      for its static functions): check_head, the envelope sender from the
 *      message (check_sender: Return-Path, else the first From address),
 *      check_envelope, check_message (head, then 64 KiB freads);
 *   B. rawmsg_init/rawmsg_feed in chunks of 1, 7, 100 or 65536 bytes, then
 *      rawmsg_finish, with the same envelope.
 * Byte 0: bits 0-1 configuration (0 no login map; 1 map, login "alice";
 * 2 map, no login; 3 map, login "bob", display spoofing rejected,
 * sender_domains and an alias); bits 2-3 the chunk size of run B; bit 4
 * MAIL FROM from the message (else alice@example.com); bit 5 client
 * 10.1.2.3 in trusted_networks (else 192.0.2.3); bits 6-7 limits
 * (max_header_size/max_message_size 200/1000, 2048/8192, 65536/30000,
 * 1M/50M).  SPF and DKIM are off: they would ask real DNS (fuzz_spf and
 * fuzz_dkim cover them).
 *
 * Invariants beyond "no crash, no leak":
 *   - the verdict is final and one of enum action; reject has a 5xx reply,
 *     tempfail a 4xx one; the reply text is printable ASCII (no CR/LF to
 *     split an SMTP reply);
 *   - accept and quarantine verdicts add the status header (X-Relayguard)
 *     with "verdict=ACTION"; added headers are printable; every header to
 *     remove names a field the message has, by a valid 1-based index;
 *   - runs A and B agree (action, reply, symbols, byte counts): splitting
 *     the input differently must not change the result;
 *   - when the message is accepted, the policy saw what an MTA would pass
 *     (rawmsg.h): header_bytes equals the sum of "Name: value\r\n" over the
 *     fields of the header section (folded lines joined with "\n", white
 *     space after the colon dropped, cut at a NUL, a leading mbox "From "
 *     line skipped) and body_bytes the body with bare LF made CRLF; so an
 *     accepted message is within max_header_size and max_message_size.
 *     Known bugs (tests/fuzz/crashers/README) can be let pass so that
 *     fuzzing goes on past them, with RG_FUZZ_KNOWN holding
 *       rawmsg-cap  no check when a line of the header section (an mbox
 *                   "From " line too) or a field is longer than
 *                   max_header_size (what rawmsg does past its cap);
 *       rawmsg-nul  no check when the header section holds a NUL (rawmsg
 *                   cuts a field's first line at a NUL but still appends
 *                   its continuation lines).
 */
#include "../../milter/check.c"

#include <stdint.h>

#include "fuzz.h"
#include "loginmap.h"
#include "msg.h"
#include "verdict.h"

static const char map_text[] =
	"alice@example.com\talice\n"
	"bob@example.com\tbob\n"
	"sales@example.com\talice, bob\n"
	"@example.org\torgadmin\n"
	"*@example.com\thelpdesk\n"
	"postmaster\tadmin\n"
	"/^([a-z0-9._-]+)@example\\.edu$/ ${1}\n";

static const long long limits[4][2] = {
	{ 200, 1000 }, { 2048, 8192 }, { 65536, 30000 },
	{ 1024 * 1024, 50 * 1024 * 1024 },
};
static const size_t chunks[4] = { 1, 7, 100, 65536 };

static struct conf *confs[16];
static int known_cap;	/* RG_FUZZ_KNOWN=rawmsg-cap: skip lines over the cap */
static int known_nul;	/* RG_FUZZ_KNOWN=rawmsg-nul: skip NULs in the header */
static char map_path[4096];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_open(LOG_SINK_STDERR, LOG_MAIL, LOG_EMERG);	/* no summary lines */
	known_cap = fz_known("rawmsg-cap");
	known_nul = fz_known("rawmsg-nul");
	fz_fixed_file("login.map", map_text, map_path, sizeof(map_path));
	return 0;
}

/* conf_for - the configuration of a scenario, made once */
static struct conf *
conf_for(unsigned variant, unsigned limit)
{
	struct conf **slot = &confs[variant * 4 + limit];
	struct conf *c;
	char err[512];

	if (*slot != NULL)
		return *slot;
	c = conf_defaults();
	c->spf = 0;
	c->dkim = 0;		/* DKIM would ask real DNS too (fuzz_dkim) */
	free(c->authserv_id);		/* not this host's name: seeds match */
	c->authserv_id = xstrdup("mx.example.org");
	c->max_header_size = limits[limit][0];
	c->max_message_size = limits[limit][1];
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
 * The model: what an MTA passes for this message (rawmsg.h)
 */

struct model {
	long long	header_bytes;
	long long	body_bytes;
	size_t		longest;	/* longest header line or field */
	int		nul_in_header;	/* a NUL in a header field */
	int		open_start;	/* the body starts with a non-field
					   line that has no newline */
};

static int
model_is_field(const uint8_t *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == ':')
			return i > 0;
		if (s[i] <= 32 || s[i] >= 127)
			return 0;
	}
	return 0;
}

/* model_field - "Name: value\r\n" as msg_add_header counts it */
static long long
model_field(const uint8_t *f, size_t len)
{
	size_t n = strnlen((const char *)f, len), colon, v;

	colon = (size_t)((const uint8_t *)memchr(f, ':', n) - f);
	for (v = colon + 1; v < n && (f[v] == ' ' || f[v] == '\t'); v++)
		;
	return (long long)(colon + (n - v) + 4);
}

static void
model_body(struct model *md, const uint8_t *p, size_t len, int *pending_cr)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n' && !*pending_cr)
			md->body_bytes++;
		md->body_bytes++;
		*pending_cr = p[i] == '\r';
	}
}

static void
model_message(const uint8_t *data, size_t size, struct model *md)
{
	uint8_t *field = malloc(size + 1);
	size_t flen = 0, i = 0;
	int first = 1, pending_cr = 0;

	if (field == NULL)
		abort();
	memset(md, 0, sizeof(*md));
	while (i < size) {
		const uint8_t *s = data + i;
		const uint8_t *nl = memchr(s, '\n', size - i);
		size_t len = nl ? (size_t)(nl - s) : size - i;

		i += len + (nl != NULL);
		if (len > 0 && s[len - 1] == '\r')
			len--;
		if (len > md->longest)
			md->longest = len;
		if (first) {
			first = 0;
			if (len >= 5 && memcmp(s, "From ", 5) == 0)
				continue;
		}
		if (len == 0)
			break;				/* the body follows */
		if (memchr(s, '\0', len) != NULL)
			md->nul_in_header = 1;
		if ((s[0] == ' ' || s[0] == '\t') && flen > 0) {
			field[flen++] = '\n';
			memcpy(field + flen, s, len);
			flen += len;
			if (flen > md->longest)
				md->longest = flen;
			continue;
		}
		if (flen > 0)
			md->header_bytes += model_field(field, flen);
		flen = 0;
		if (!model_is_field(s, len)) {
			/* this line starts the body, with CRLF */
			model_body(md, s, len, &pending_cr);
			model_body(md, (const uint8_t *)"\r\n", 2, &pending_cr);
			md->open_start = nl == NULL;
			break;
		}
		memcpy(field, s, len);
		flen = len;
	}
	if (flen > 0)
		md->header_bytes += model_field(field, flen);
	model_body(md, data + i, size - i, &pending_cr);
	free(field);
}

/* ---------------------------------------------------------------------
 * The runs and their checks
 */

struct outcome {
	struct msg	*m;
	struct verdict	v;
};

static void
check_verdict(const struct outcome *o, const char *run)
{
	const struct verdict *v = &o->v;
	const struct msg *m = o->m;
	const char *status = m->conf->status_header;
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

		for (size_t j = 0; j < m->nheaders; j++)
			if (strcasecmp(m->headers[j].name, h->name) == 0)
				count++;
		FZ_CHECK(h->index >= 1 && h->index <= count,
			 "%s: remove %s #%d of %d", run, h->name, h->index,
			 count);
	}
}

static int
same_symbols(const struct msg *a, const struct msg *b)
{
	if (a->symbols.count != b->symbols.count)
		return 0;
	for (size_t i = 0; i < a->symbols.count; i++)
		if (strcmp(a->symbols.v[i].name, b->symbols.v[i].name) != 0)
			return 0;
	return 1;
}

static const char *
symbol_list(const struct msg *m, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < m->symbols.count && o + 1 < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%s", i ? "," : "",
				      m->symbols.v[i].name);
	return buf;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct check_args a;
	struct conf *conf;
	struct outcome A, B;
	struct model md;
	struct sbuf head;
	const uint8_t *msgp;
	size_t len, chunk;
	unsigned flags;
	char *sender;
	FILE *fp;
	char sa[2048], sb[2048];

	if (size < 1)
		return 0;
	flags = data[0];
	msgp = data + 1;
	len = size - 1;
	conf = conf_for(flags & 3, (flags >> 6) & 3);
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
	a.rcpts[a.nrcpts++] = "<rcpt@example.net>";

	/* run A: check.c's path */
	fp = len ? fmemopen((void *)msgp, len, "rb") : fopen("/dev/null", "rb");
	if (fp == NULL)
		abort();
	sbuf_init(&head);
	if (check_head(fp, &head, (size_t)conf->max_header_size + 65536) != 0)
		abort();
	sender = (flags & 0x10) ? check_sender(head.data ? head.data : "",
					       head.len) :
	    xstrdup("alice@example.com");
	A.m = msg_new(conf);
	verdict_init(&A.v);
	if (!check_envelope(A.m, &a, sender, &A.v))
		check_message(A.m, fp, &head, "fuzz", &A.v);
	fclose(fp);
	sbuf_free(&head);

	/* run B: rawmsg in small chunks */
	B.m = msg_new(conf);
	verdict_init(&B.v);
	if (!check_envelope(B.m, &a, sender, &B.v)) {
		struct rawmsg r;

		rawmsg_init(&r, B.m, &B.v);
		for (size_t i = 0; i < len; i += chunk)
			if (rawmsg_feed(&r, msgp + i,
					len - i < chunk ? len - i : chunk))
				break;
		rawmsg_finish(&r);
	}
	free(sender);

	check_verdict(&A, "check");
	check_verdict(&B, "chunked");
	FZ_CHECK(A.v.action == B.v.action && strcmp(A.v.code, B.v.code) == 0 &&
		 same_symbols(A.m, B.m) &&
		 A.m->header_bytes == B.m->header_bytes &&
		 A.m->body_bytes == B.m->body_bytes,
		 "check: %s [%s] %lld+%lld; chunks of %zu: %s [%s] %lld+%lld",
		 verdict_action_name((int)A.v.action),
		 symbol_list(A.m, sa, sizeof(sa)), A.m->header_bytes,
		 A.m->body_bytes, chunk, verdict_action_name((int)B.v.action),
		 symbol_list(B.m, sb, sizeof(sb)), B.m->header_bytes,
		 B.m->body_bytes);

	model_message(msgp, len, &md);
	if ((A.v.action == ACTION_ACCEPT || A.v.action == ACTION_QUARANTINE) &&
	    !(known_cap && md.longest > (size_t)conf->max_header_size) &&
	    !(known_nul && md.nul_in_header)) {
		FZ_CHECK(A.m->header_bytes == md.header_bytes,
			 "accepted: policy counted %lld header bytes, the "
			 "message has %lld (max_header_size %lld)",
			 A.m->header_bytes, md.header_bytes,
			 conf->max_header_size);
		/*
		 * A last line without a newline that starts the body gets a
		 * CRLF from rawmsg_header_line, not when it is over the cap
		 * (rawmsg_feed passes it as it is): either is fine.
		 */
		FZ_CHECK(A.m->body_bytes == md.body_bytes ||
			 (md.open_start && A.m->body_bytes == md.body_bytes - 2),
			 "accepted: policy counted %lld body bytes, the "
			 "message has %lld (max_message_size %lld)",
			 A.m->body_bytes, md.body_bytes,
			 conf->max_message_size);
		FZ_CHECK(A.m->header_bytes <= conf->max_header_size &&
			 (conf->max_message_size == 0 ||
			  A.m->size <= conf->max_message_size),
			 "accepted over the limits: %lld/%lld bytes",
			 A.m->header_bytes, A.m->size);
	}
	verdict_clear(&A.v);
	verdict_clear(&B.v);
	msg_free(A.m);
	msg_free(B.m);
	return 0;
}
