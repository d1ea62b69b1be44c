/*
 * policy - the stage runner (see policy.h).
 *
 * Checks are listed in policy_checks[] with the stages they take part in
 * and what they need of the message; one loop runs a stage's checks in
 * order, then verdict_decide() looks at the symbols.  Connection stages
 * write to the session, transaction stages to the transaction, the RCPT
 * stage to a set of its own that refuses one recipient only.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "av.h"
#include "avengine.h"
#include "brake.h"
#include "dkimsign.h"
#include "dkimverify.h"
#include "dmarc.h"
#include "dnsbl.h"
#include "envelope.h"
#include "log.h"
#include "policy.h"
#include "mime.h"
#include "ratelimit.h"
#include "sender.h"
#include "spam.h"
#include "spamd.h"
#include "rspamd.h"
#include "size.h"
#include "spfcheck.h"
#include "util.h"

enum policy_stage {
	STAGE_MAIL, STAGE_HEADER, STAGE_EOH, STAGE_BODY, STAGE_EOM,
	STAGE_NTXN
};

struct policy_check {
	const char	*name;
	int		(*enabled)(const struct conf *);	/* NULL: always */
	unsigned	needs;		/* POLICY_NEED_* */
	void		(*conn)(struct session *);	/* connect */
	void		(*helo)(struct session *);
	void		(*run[STAGE_NTXN])(struct txn *);
	void		(*rcpt)(struct txn *, struct txn_rcpt *,
				struct symbols *);
	/* streaming tap: each body chunk as it arrives (DKIM, hashes) */
	void		(*tap)(struct txn *, const unsigned char *, size_t);
	/* a recipient was refused (cause: the deciding symbol) */
	void		(*refused)(struct txn *, const char *cause);
	/*
	 * End-of-message readers are run[STAGE_EOM] with POLICY_NEED_SPOOL:
	 * spool_view(&t->spool) gives the message as received, read-only.
	 */
};

static int
size_enabled(const struct conf *c)
{
	return c->max_message_size > 0;
}

static int
sender_enabled(const struct conf *c)
{
	return c->sender_check_envelope || c->sender_check_header;
}

static int
spf_enabled(const struct conf *c)
{
	return c->spf;
}

static int
dkim_enabled(const struct conf *c)
{
	return c->dkim;
}

static int
dmarc_enabled(const struct conf *c)
{
	return c->dmarc;
}

static int
dkimsign_enabled(const struct conf *c)
{
	return c->dkim_keys != NULL;
}

static const struct policy_check policy_checks[] = {
	{ "envelope", NULL, 0, NULL, NULL, { [STAGE_MAIL] = envelope_mail },
	  envelope_rcpt },
	{ "size", size_enabled, POLICY_NEED_HEADERS | POLICY_NEED_BODY, NULL,
	  NULL, { [STAGE_MAIL] = size_mail, [STAGE_HEADER] = size_data },
	  NULL, size_tap },
	{ "sender", sender_enabled, POLICY_NEED_HEADERS, NULL, NULL,
	  { [STAGE_MAIL] = sender_mail, [STAGE_EOH] = sender_eoh }, NULL },
	/* a login the brake stopped is refused before the rate limits count
	   its message */
	{ "brake", brake_enabled, 0, NULL, NULL, { [STAGE_MAIL] = brake_mail },
	  NULL },
	/* rate limits: a message counts once the sender gate took it; a
	   recipient once the RCPT checks before took it */
	{ "ratelimit", ratelimit_enabled, 0, NULL, NULL,
	  { [STAGE_MAIL] = ratelimit_mail }, ratelimit_rcpt },
	{ "spf", spf_enabled, 0, NULL, NULL, { [STAGE_MAIL] = spfcheck_mail },
	  NULL },
	/* DKIM: headers from the spool at end of headers, the body by tap */
	{ "dkim", dkim_enabled, POLICY_NEED_HEADERS | POLICY_NEED_BODY |
	  POLICY_NEED_SPOOL, NULL, NULL, { [STAGE_EOH] = dkimverify_eoh,
	  [STAGE_EOM] = dkimverify_eom }, NULL, dkimverify_tap },
	/* DMARC after DKIM and SPF: it reads their results */
	{ "dmarc", dmarc_enabled, POLICY_NEED_HEADERS, NULL, NULL,
	  { [STAGE_EOM] = dmarc_eom }, NULL },
	/* DNS blocklists: sent at connect, HELO and MAIL FROM, collected
	 * where a verdict needs them; the links at end of message, before
	 * the spam engine sums the scores */
	{ "dnsbl", dnsbl_enabled, POLICY_NEED_HEADERS | POLICY_NEED_BODY |
	  POLICY_NEED_SPOOL, dnsbl_connect, dnsbl_helo,
	  { [STAGE_MAIL] = dnsbl_mail, [STAGE_EOM] = dnsbl_eom }, dnsbl_rcpt },
	/* the virus scan reads the whole spool at end of message */
	{ "av", av_enabled, POLICY_NEED_HEADERS | POLICY_NEED_BODY |
	  POLICY_NEED_SPOOL, NULL, NULL, { [STAGE_EOM] = av_eom }, NULL },
	/* the external spam engines: their scores before the thresholds */
	{ "spamd", spamd_enabled, POLICY_NEED_HEADERS | POLICY_NEED_BODY |
	  POLICY_NEED_SPOOL, NULL, NULL, { [STAGE_EOM] = spamd_eom }, NULL },
	{ "rspamd", rspamd_enabled, POLICY_NEED_HEADERS | POLICY_NEED_BODY |
	  POLICY_NEED_SPOOL, NULL, NULL, { [STAGE_EOM] = rspamd_eom }, NULL },
	/* the spam engine after every other scoring check: it sums them */
	{ "spam", spam_enabled, POLICY_NEED_HEADERS | POLICY_NEED_BODY |
	  POLICY_NEED_SPOOL, NULL, NULL, { [STAGE_EOM] = spam_eom }, NULL },
	/* the brake counts after the spam engine and the virus scan: it
	   sums their results */
	{ "brake-count", brake_enabled, POLICY_NEED_RCPT_REJ, NULL, NULL,
	  { [STAGE_EOM] = brake_eom }, NULL, NULL, brake_rcpt_refused },
	/* signing last: it signs what every other check let through */
	{ "dkimsign", dkimsign_enabled, POLICY_NEED_HEADERS | POLICY_NEED_BODY |
	  POLICY_NEED_SPOOL, NULL, NULL, { [STAGE_EOH] = dkimsign_eoh,
	  [STAGE_EOM] = dkimsign_eom }, NULL, dkimsign_tap },
};

#define POLICY_NCHECKS (sizeof(policy_checks) / sizeof(policy_checks[0]))

/* policy_on - is check i enabled under this configuration */
static int
policy_on(size_t i, const struct conf *c)
{
	return policy_checks[i].enabled == NULL || policy_checks[i].enabled(c);
}

/*
 * policy_needs - what the enabled checks need.  Header fields are always
 * taken: the status header and forged Authentication-Results are removed
 * by index.  When the body is taken at all it is also kept in the spool,
 * which the content checks (DKIM, AV, spam) read.
 */
unsigned
policy_needs(const struct conf *c)
{
	unsigned needs = POLICY_NEED_HEADERS;

	for (size_t i = 0; i < POLICY_NCHECKS; i++) {
		if (!policy_on(i, c))
			continue;
		needs |= policy_checks[i].needs;
		if (policy_checks[i].conn)
			needs |= POLICY_DECIDES_CONNECT;
		if (policy_checks[i].helo)
			needs |= POLICY_DECIDES_HELO;
	}
	if (needs & POLICY_NEED_SPOOL)
		needs |= POLICY_NEED_BODY;
	if (needs & POLICY_NEED_BODY)
		needs |= POLICY_NEED_SPOOL;
	return needs;
}

int
policy_start(const struct conf *c, char *err, size_t errlen)
{
	mime_global_init();	/* GMime, once, before any thread */
	if (c->av && c->av_backend == AV_BACKEND_LIBCLAMAV)
		return av_engine_start(c, err, errlen);
	return 0;
}

void
policy_background(void)
{
	av_engine_thread();
}

void
policy_reload(const struct conf *c)
{
	/* the engine follows the configuration: loaded, reloaded, freed */
	av_engine_reconfigure(c);
}

void
policy_stop(void)
{
	av_engine_stop();
	spam_stop();
	brake_stop();
	ratelimit_stop();
}

/* policy_end - log a verdict that ends something; returns POLICY_END */
static int
policy_end(struct session *s, struct verdict *v)
{
	policy_log(s, s->txn, NULL, NULL, v);
	return POLICY_END;
}

/*
 * policy_stage - run the checks of a transaction stage in order; stop at
 * the first that ends the transaction (no DNS for a sender already
 * refused)
 */
static int
policy_stage(struct session *s, enum policy_stage stage, struct verdict *v)
{
	struct txn *t = s->txn;
	int eom = stage == STAGE_EOM;

	for (size_t i = 0; i < POLICY_NCHECKS; i++) {
		if (policy_checks[i].run[stage] == NULL ||
		    !policy_on(i, s->conf))
			continue;
		policy_checks[i].run[stage](t);
		if (!eom && verdict_decide(s, t, NULL, 0, v))
			return policy_end(s, v);
	}
	if (!verdict_decide(s, t, NULL, eom, v))
		return POLICY_CONTINUE;
	return policy_end(s, v);
}

/* policy_conn_stage - connect or HELO: results belong to the session */
static int
policy_conn_stage(struct session *s, int helo, struct verdict *v)
{
	for (size_t i = 0; i < POLICY_NCHECKS; i++) {
		void (*fn)(struct session *) = helo ? policy_checks[i].helo :
		    policy_checks[i].conn;

		if (fn == NULL || !policy_on(i, s->conf))
			continue;
		fn(s);
		if (verdict_decide(s, NULL, NULL, 0, v))
			return policy_end(s, v);
	}
	return POLICY_CONTINUE;
}

int
policy_connect(struct session *s, const char *addr, const char *name,
	       struct verdict *v)
{
	session_set_client(s, addr, name);
	return policy_conn_stage(s, 0, v);
}

int
policy_helo(struct session *s, const char *helo, struct verdict *v)
{
	session_set_helo(s, helo);
	return policy_conn_stage(s, 1, v);
}

int
policy_mail(struct session *s, const char *addr, const char *const *args,
	    struct verdict *v)
{
	struct txn *t;

	/* a MAIL FROM without RSET in between: the old one is over */
	if (s->txn != NULL && s->txn->have_mail)
		session_end_txn(s);
	t = session_txn(s);
	t->keep = (policy_needs(s->conf) & POLICY_NEED_SPOOL) != 0;
	txn_set_mail(t, addr, args);
	return policy_stage(s, STAGE_MAIL, v);
}

/* policy_refused - tell the checks that count refusals (the brake) */
static void
policy_refused(struct session *s, struct txn *t, const char *cause)
{
	for (size_t i = 0; i < POLICY_NCHECKS; i++)
		if (policy_checks[i].refused && policy_on(i, s->conf))
			policy_checks[i].refused(t, cause);
}

/*
 * policy_rcpt - the RCPT checks write to a set of their own: a verdict
 * that refuses this recipient leaves the others and the transaction be;
 * a recipient taken adds its results to the transaction's.
 */
int
policy_rcpt(struct session *s, const char *addr, struct verdict *v)
{
	struct txn *t = session_txn(s);
	struct txn_rcpt *r = txn_add_rcpt(t, addr);
	struct symbols rs;
	int rc = POLICY_CONTINUE;

	symbols_init(&rs);
	symbols_set_weights(&rs, s->conf->weights);
	for (size_t i = 0; i < POLICY_NCHECKS; i++) {
		if (policy_checks[i].rcpt == NULL || !policy_on(i, s->conf))
			continue;
		policy_checks[i].rcpt(t, r, &rs);
		if (verdict_decide(s, t, &rs, 0, v)) {
			/* a discard drops the whole message, as in milter */
			rc = v->action == ACTION_DISCARD ? POLICY_END :
			    POLICY_REFUSED;
			break;
		}
	}
	if (rc == POLICY_REFUSED) {
		if (r)
			r->refused = 1;
		t->rcpt_refused++;
		policy_refused(s, t, v->cause);
		policy_log(s, t, r ? r : &(struct txn_rcpt){ .addr = "" },
			   &rs, v);
	} else if (rc == POLICY_END) {
		policy_log(s, t, NULL, &rs, v);
	} else {
		for (size_t i = 0; i < rs.count; i++)
			symbols_add_opts(&t->symbols, rs.v[i].name,
					 rs.v[i].score, rs.v[i].opt[0],
					 rs.v[i].opt[1], "%s", rs.v[i].detail);
	}
	symbols_clear(&rs);
	return rc;
}

void
policy_rcpt_rejected(struct session *s, const char *addr)
{
	struct txn *t = session_txn(s);

	(void)addr;
	t->rcpt_total++;
	t->rcpt_refused++;
	policy_refused(s, t, "MTA");
}

int
policy_header(struct session *s, const char *name, const char *value,
	      int leadspc, struct verdict *v)
{
	txn_add_header(session_txn(s), name, value, leadspc);
	return policy_stage(s, STAGE_HEADER, v);
}

int
policy_eoh(struct session *s, struct verdict *v)
{
	txn_end_header(session_txn(s));
	return policy_stage(s, STAGE_EOH, v);
}

/*
 * policy_body - one body chunk: into the spool, then to each enabled
 * check's tap, in order, until one ends the transaction
 */
int
policy_body(struct session *s, const unsigned char *data, size_t len,
	    struct verdict *v)
{
	struct txn *t = session_txn(s);

	txn_add_body(t, data, len);
	for (size_t i = 0; i < POLICY_NCHECKS; i++) {
		if (policy_checks[i].tap == NULL || !policy_on(i, s->conf))
			continue;
		policy_checks[i].tap(t, data, len);
		if (verdict_decide(s, t, NULL, 0, v))
			return policy_end(s, v);
	}
	return policy_stage(s, STAGE_BODY, v);
}

void
policy_eom(struct session *s, struct verdict *v)
{
	session_txn(s);
	policy_stage(s, STAGE_EOM, v);
}

void
policy_abort(struct session *s)
{
	session_end_txn(s);
}

int
policy_shutdown(struct session *s, struct verdict *v)
{
	struct txn *t = session_txn(s);

	symbols_add(&t->symbols, "SHUTTING_DOWN", 0, "no new messages");
	verdict_decide(s, t, NULL, 0, v);
	return policy_end(s, v);
}

void
policy_internal_error(struct session *s, const char *why, struct verdict *v)
{
	struct symbols err;

	symbols_init(&err);
	symbols_set_weights(&err, s->conf->weights);
	symbols_add(&err, "INTERNAL_ERROR", 0, "%s", why);
	verdict_decide(s, s->txn, &err, 0, v);
	if (!v->final) {
		/* internal_error_action = accept: say so, let the mail pass */
		v->final = 1;
		v->action = ACTION_ACCEPT;
	}
	policy_log(s, s->txn, NULL, &err, v);
	symbols_clear(&err);
}

/* policy_log_symbols - " NAME(score){detail}" for each, details bounded */
static void
policy_log_symbols(struct sbuf *line, const struct symbols *set, int *n)
{
	char detail[SYMBOL_DETAIL_MAX + 1];

	for (size_t i = 0; set && i < set->count; i++) {
		const struct symbol *sym = &set->v[i];
		size_t o = 0;

		/* braces and commas would break the list apart: not in it */
		for (const char *p = sym->detail; *p && o < 120; p++)
			detail[o++] = (*p == '{' || *p == '}' || *p == ',') ?
			    '_' : *p;
		detail[o] = '\0';
		sbuf_printf(line, "%s%s(%.2f)", (*n)++ ? "," : "", sym->name,
			    sym->score);
		if (*detail)
			sbuf_printf(line, "{%s%s}", detail,
				    sym->detail[o] ? "..." : "");
	}
}

/*
 * policy_log - "QUEUEID: verdict=... client=... login=... from=<...> ...
 * symbols=NAME(score){detail},..." with the connection's results first.
 * r is the recipient refused (NULL for a message verdict).
 */
void
policy_log(const struct session *s, const struct txn *t,
	   const struct txn_rcpt *r, const struct symbols *extra,
	   const struct verdict *v)
{
	static const struct txn none = { .queue_id = "", .auth_authen = "",
		.mail_from = "" };
	struct sbuf line;
	char login[TXN_MACRO_MAX * 4 + 1], from[1024 * 4 + 1];
	char rcpt[1024 * 4 + 1], helo[256 * 4 + 1];
	char client[256 * 4 + 1];
	char qid[TXN_MACRO_MAX * 4 + 1];
	int n = 0;

	if (t == NULL)
		t = &none;
	util_sanitize(qid, sizeof(qid), t->queue_id, strlen(t->queue_id));
	util_sanitize(login, sizeof(login), t->auth_authen,
		      strlen(t->auth_authen));
	util_sanitize(from, sizeof(from), t->mail_from,
		      strnlen(t->mail_from, 1024));
	util_sanitize(helo, sizeof(helo), s->helo, strlen(s->helo));
	util_sanitize(client, sizeof(client), s->client_name,
		      strlen(s->client_name));
	/* the recipient refused, else the first one taken */
	rcpt[0] = '\0';
	for (size_t i = 0; r == NULL && i < t->nrcpts; i++)
		if (!t->rcpts[i].refused) {
			util_sanitize(rcpt, sizeof(rcpt), t->rcpts[i].addr,
				      strnlen(t->rcpts[i].addr, 1024));
			break;
		}
	if (r != NULL)
		util_sanitize(rcpt, sizeof(rcpt), r->addr,
			      strnlen(r->addr, 1024));

	sbuf_init(&line);
	sbuf_printf(&line, "%s: verdict=%s", *qid ? qid : "NOQUEUE",
		    verdict_action_name(v->action));
	if (v->code[0])
		sbuf_printf(&line, " reply=\"%s %s %s\"", v->code, v->xcode,
			    v->text ? v->text : "");
	sbuf_printf(&line, " client=%s[%s] helo=<%s> login=%s from=<%s>",
		    *client ? client : "unknown",
		    *s->client_addr ? s->client_addr : "unknown", helo,
		    *login ? login : "-", from);
	if (r != NULL)
		sbuf_printf(&line, " rcpt=<%s>", rcpt);
	else if (t->rcpt_total > t->rcpt_refused)
		sbuf_printf(&line, " rcpt=<%s>%s", rcpt,
			    t->rcpt_total - t->rcpt_refused > 1 ? "..." : "");
	sbuf_printf(&line, " nrcpt=%zu", t->rcpt_total - t->rcpt_refused);
	if (t->rcpt_refused > 0)
		sbuf_printf(&line, " refused=%zu", t->rcpt_refused);
	sbuf_printf(&line, " size=%lld mode=%s score=%.2f symbols=",
		    t->size, txn_mode_name(t->mode),
		    symbols_score(&s->symbols) + symbols_score(&t->symbols) +
		    (extra ? symbols_score(extra) : 0));
	policy_log_symbols(&line, &s->symbols, &n);
	policy_log_symbols(&line, &t->symbols, &n);
	policy_log_symbols(&line, extra, &n);
	if (n == 0)
		sbuf_puts(&line, "-");
	log_info("%s", line.data);
	sbuf_free(&line);
}
