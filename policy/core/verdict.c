/*
 * verdict - symbols to action, reply and header edits (see verdict.h).
 *
 * The rule table below is the whole of relayguard's policy mapping; the
 * checks only name what they saw.  Reply texts say the reason and at most
 * the address concerned, never internal detail.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "session.h"
#include "txn.h"
#include "util.h"
#include "verdict.h"

struct verdict_rule {
	const char	*symbol;
	enum action	action;		/* default ... */
	ptrdiff_t	conf_action;	/* ... or offsetof(struct conf, key) */
	const char	*reject_code, *reject_xcode;
	const char	*tempfail_code, *tempfail_xcode;
	const char	*text;
	ptrdiff_t	gate;		/* 0, or G(key): the rule acts only
					   when that yes/no key is yes */
	ptrdiff_t	conf_action_out;	/* 0, or A(key): the action
						   for outbound mail */
};

#define FIXED		(-1)
#define A(key)		offsetof(struct conf, key)
#define G(key)		(offsetof(struct conf, key) + 1)

static const struct verdict_rule verdict_rules[] = {
	{ "SIZE_LIMIT", ACTION_REJECT, FIXED, "552", "5.3.4", "452", "4.3.4",
	  "Message size exceeds fixed maximum message size" },
	{ "HEADER_SIZE_LIMIT", ACTION_REJECT, FIXED, "552", "5.3.4", "452",
	  "4.3.4", "Message header size exceeds limit" },
	/* sender identity gate: %s are the symbol's address and login */
	{ "SENDER_NULL", ACTION_REJECT, A(sender_envelope_action), "553",
	  "5.7.1", "451", "4.7.1",
	  "%s: Sender address rejected: not owned by user %s" },
	{ "SENDER_LOGIN_MISMATCH", ACTION_REJECT, A(sender_envelope_action),
	  "553", "5.7.1", "451", "4.7.1",
	  "%s: Sender address rejected: not owned by user %s" },
	{ "SENDER_NOT_LOGGED_IN", ACTION_REJECT, A(sender_unauth_action), "553",
	  "5.7.1", "451", "4.7.1", "%s: Sender address rejected: not logged in" },
	/* the map cannot be trusted now (loginmap.h): never a 5xx from it */
	{ "SENDER_MAP_UNTRUSTED", ACTION_TEMPFAIL, FIXED, "451", "4.7.1", "451",
	  "4.7.1", "%s: Sender address rejected: the login map is being "
	  "changed, try again later" },
	{ "FROM_MISSING", ACTION_REJECT, A(sender_header_action), "550", "5.7.1",
	  "451", "4.7.1", "Message must have one From header" },
	{ "FROM_MULTIPLE", ACTION_REJECT, A(sender_header_action), "550",
	  "5.7.1", "451", "4.7.1", "Message must have exactly one From header" },
	{ "FROM_INVALID", ACTION_REJECT, A(sender_header_action), "550", "5.7.1",
	  "451", "4.7.1", "Malformed From header" },
	{ "FROM_LOGIN_MISMATCH", ACTION_REJECT, A(sender_header_action), "550",
	  "5.7.1", "451", "4.7.1", "%s: From address not owned by user %s" },
	{ "SENDER_HEADER_INVALID", ACTION_REJECT, A(sender_header_action),
	  "550", "5.7.1", "451", "4.7.1", "Malformed Sender header" },
	{ "SENDER_HEADER_MISMATCH", ACTION_REJECT, A(sender_header_action),
	  "550", "5.7.1", "451", "4.7.1",
	  "%s: Sender header address not owned by user %s" },
	{ "FROM_DISPLAY_SPOOF", ACTION_ACCEPT, A(sender_display_spoof_action),
	  "550", "5.7.1", "451", "4.7.1",
	  "%s: From display name shows another address" },
	{ "FROM_PROTECTED_INBOUND", ACTION_ACCEPT,
	  A(sender_inbound_header_action), "550", "5.7.1", "451", "4.7.1",
	  "%s: From address rejected: not logged in" },
	/* SPF (RFC 7372 codes): %s are <sender> and the reason */
	{ "SPF_FAIL", ACTION_ACCEPT, A(spf_fail_action), "550", "5.7.23", "451",
	  "4.7.24", "%s: SPF check failed: %s" },
	{ "SPF_SOFTFAIL", ACTION_ACCEPT, A(spf_softfail_action), "550", "5.7.23",
	  "451", "4.7.24", "%s: SPF check failed (softfail): %s" },
	{ "SPF_TEMPERROR", ACTION_ACCEPT, A(spf_temperror_action), "550",
	  "5.7.24", "451", "4.7.24", "%s: SPF temporary error, try again later" },
	{ "SPF_PERMERROR", ACTION_ACCEPT, A(spf_permerror_action), "550",
	  "5.7.24", "451", "4.7.24", "%s: SPF permanent error: %s" },
	/* DKIM (dkim.c): any signature with that result; tag by default.
	 * RFC 7372: 5.7.20 no passing signature, 5.7.21 none acceptable;
	 * a key lookup that failed is a directory server failure, 4.4.3 */
	{ "DKIM_FAIL", ACTION_ACCEPT, A(dkim_fail_action), "550", "5.7.20",
	  "451", "4.7.20", "DKIM signature verification failed" },
	{ "DKIM_NEUTRAL", ACTION_ACCEPT, A(dkim_neutral_action), "550",
	  "5.7.20", "451", "4.7.20", "DKIM signature not usable" },
	{ "DKIM_POLICY", ACTION_ACCEPT, A(dkim_policy_action), "550", "5.7.21",
	  "451", "4.7.21", "DKIM signature not acceptable (RFC 8301)" },
	{ "DKIM_PERMERROR", ACTION_ACCEPT, A(dkim_permerror_action), "550",
	  "5.7.20", "451", "4.7.20", "DKIM permanent error" },
	{ "DKIM_TEMPERROR", ACTION_ACCEPT, A(dkim_temperror_action), "550",
	  "5.7.20", "451", "4.4.3",
	  "DKIM temporary error, try again later" },
	/* DMARC (dmarc.c): the policy symbols come with a fail whose
	 * applied policy (after t=y) asks for it; they act only with
	 * dmarc_enforce = yes.  %s is the From domain. */
	{ "DMARC_POLICY_REJECT", ACTION_REJECT, A(dmarc_reject_action), "550",
	  "5.7.1", "451", "4.7.1",
	  "Unauthenticated mail from %s rejected by the domain's DMARC policy",
	  G(dmarc_enforce) },
	{ "DMARC_POLICY_QUARANTINE", ACTION_QUARANTINE,
	  A(dmarc_quarantine_action), "550", "5.7.1", "451", "4.7.1",
	  "Unauthenticated mail from %s held by the domain's DMARC policy",
	  G(dmarc_enforce) },
	{ "DMARC_TEMPERROR", ACTION_ACCEPT, A(dmarc_temperror_action), "550",
	  "5.7.1", "451", "4.4.3",
	  "%s: DMARC temporary error, try again later" },
	{ "DMARC_PERMERROR", ACTION_ACCEPT, A(dmarc_permerror_action), "550",
	  "5.7.1", "451", "4.7.1", "%s: DMARC permanent error" },
	/* virus scan (av.c): %s is the virus name, or why the message could
	 * not be scanned whole, which follows av_error_action inbound and
	 * av_outbound_error_action for the site's own users */
	{ "AV_VIRUS", ACTION_REJECT, A(av_action), "554", "5.7.1", "451",
	  "4.7.1", "Message contains virus %s" },
	{ "AV_ENCRYPTED", ACTION_TEMPFAIL, A(av_error_action), "554", "5.7.1",
	  "451", "4.3.0", "Message could not be scanned for viruses: %s", 0,
	  A(av_outbound_error_action) },
	{ "AV_LIMIT", ACTION_TEMPFAIL, A(av_error_action), "554", "5.3.4",
	  "451", "4.3.0", "Message could not be scanned for viruses: %s", 0,
	  A(av_outbound_error_action) },
	{ "AV_SCAN_ERROR", ACTION_TEMPFAIL, A(av_error_action), "554", "5.3.0",
	  "451", "4.3.0", "Message could not be scanned for viruses: %s", 0,
	  A(av_outbound_error_action) },
	{ "AV_UNAVAILABLE", ACTION_TEMPFAIL, A(av_error_action), "554", "5.3.0",
	  "451", "4.3.0", "Message could not be scanned for viruses: %s", 0,
	  A(av_outbound_error_action) },
	/* spam (spam.c): the total score against the thresholds; %s is the
	 * score.  SPAM_TAG only adds the X-Spam fields. */
	{ "SPAM_REJECT", ACTION_REJECT, FIXED, "554", "5.7.1", "451", "4.7.1",
	  "Message rejected as spam" },
	{ "SPAM_QUARANTINE", ACTION_QUARANTINE, FIXED, "554", "5.7.1", "451",
	  "4.7.1", "Message held as spam" },
	{ "SPAM_ERROR", ACTION_TEMPFAIL, A(spam_error_action), "554", "5.3.0",
	  "451", "4.3.0", "Message could not be checked for spam, try again "
	  "later" },
	/* the external engines (checks/extspam/) without a usable answer */
	{ "SPAMD_ERROR", ACTION_TEMPFAIL, A(spam_error_action), "554", "5.3.0",
	  "451", "4.3.0", "Message could not be checked for spam, try again "
	  "later" },
	{ "RSPAMD_ERROR", ACTION_TEMPFAIL, A(spam_error_action), "554", "5.3.0",
	  "451", "4.3.0", "Message could not be checked for spam, try again "
	  "later" },
	/* rate limits (ratelimit.c): %s names the limit; at MAIL FROM for
	 * messages, at RCPT (that recipient only) for recipients */
	{ "RATELIMIT_LOGIN", ACTION_TEMPFAIL, A(ratelimit_action), "550",
	  "5.7.1", "451", "4.7.1", "Rate limit exceeded: %s" },
	{ "RATELIMIT_CLIENT", ACTION_TEMPFAIL, A(ratelimit_action), "550",
	  "5.7.1", "451", "4.7.1", "Rate limit exceeded: %s" },
	{ "RATELIMIT_SENDER_DOMAIN", ACTION_TEMPFAIL, A(ratelimit_action),
	  "550", "5.7.1", "451", "4.7.1", "Rate limit exceeded: %s" },
	{ "RATELIMIT_LOGIN_RCPT", ACTION_TEMPFAIL, A(ratelimit_action), "550",
	  "5.7.1", "451", "4.7.1", "Rate limit exceeded: %s" },
	{ "RATELIMIT_CLIENT_RCPT", ACTION_TEMPFAIL, A(ratelimit_action), "550",
	  "5.7.1", "451", "4.7.1", "Rate limit exceeded: %s" },
	{ "RATELIMIT_SENDER_DOMAIN_RCPT", ACTION_TEMPFAIL, A(ratelimit_action),
	  "550", "5.7.1", "451", "4.7.1", "Rate limit exceeded: %s" },
	{ "RATELIMIT_ERROR", ACTION_ACCEPT, A(ratelimit_error_action), "554",
	  "5.3.0", "451", "4.3.0", "Rate limits unavailable, try again later" },
	/* the compromised-account brake (brake.c): %s the login and why */
	{ "BRAKE_STOPPED", ACTION_TEMPFAIL, A(brake_action), "550", "5.7.1",
	  "451", "4.7.1",
	  "Login %s stopped by the compromised account brake: %s" },
	{ "BRAKE_TRIPPED", ACTION_TEMPFAIL, A(brake_action), "550", "5.7.1",
	  "451", "4.7.1",
	  "Login %s stopped by the compromised account brake: %s" },
	{ "BRAKE_ERROR", ACTION_ACCEPT, A(ratelimit_error_action), "554",
	  "5.3.0", "451", "4.3.0",
	  "Compromised account brake unavailable, try again later" },
	/* DNS blocklists (dnsbl.c): a client a reject list lists, at
	 * connect or at RCPT, in Postfix's reject_rbl_client words; %s are
	 * the client address and "ZONE" or "ZONE; TXT record" */
	{ "DNSBL_REJECT", ACTION_REJECT, FIXED, "554", "5.7.1", "451", "4.7.1",
	  "Service unavailable; Client host [%s] blocked using %s" },
	/* envelope (envelope.c); RCPT rules refuse that recipient only */
	{ "SENDER_ADDR_TOO_LONG", ACTION_REJECT, FIXED, "501", "5.1.7", "451",
	  "4.1.7", "Bad sender address syntax: address too long" },
	{ "RCPT_ADDR_TOO_LONG", ACTION_REJECT, FIXED, "501", "5.1.3", "451",
	  "4.1.3", "Bad recipient address syntax: address too long" },
	{ "RCPT_LIMIT", ACTION_TEMPFAIL, FIXED, "452", "4.5.3", "452", "4.5.3",
	  "Too many recipients" },
	/* the spool could not be written (temp_dir missing, full ...): an
	   internal error like any other, 451 4.3.0 by default */
	{ "SPOOL_ERROR", ACTION_TEMPFAIL,
	  offsetof(struct conf, internal_error_action), "554", "5.3.0", "451",
	  "4.3.0", "Temporary local problem, try again later" },
	{ "SHUTTING_DOWN", ACTION_TEMPFAIL, FIXED, "451", "4.3.2", "451",
	  "4.3.2", "System shutting down, try again later" },
	{ "INTERNAL_ERROR", ACTION_TEMPFAIL,
	  offsetof(struct conf, internal_error_action), "554", "5.3.0", "451",
	  "4.3.0", "Temporary internal error, try again later" },
};

static const char *const action_names[] = {
	[ACTION_ACCEPT] = "accept",
	[ACTION_QUARANTINE] = "quarantine",
	[ACTION_TEMPFAIL] = "tempfail",
	[ACTION_DISCARD] = "discard",
	[ACTION_REJECT] = "reject",
};

int
verdict_action_parse(const char *s)
{
	/* "tag" and "none": keep the mail, the symbol and headers say it */
	if (strcasecmp(s, "tag") == 0 || strcasecmp(s, "none") == 0)
		return ACTION_ACCEPT;
	for (size_t i = 0; i < sizeof(action_names) / sizeof(action_names[0]);
	     i++)
		if (strcasecmp(s, action_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
verdict_action_name(int a)
{
	if (a < 0 || (size_t)a >= sizeof(action_names) / sizeof(action_names[0]))
		return "?";
	return action_names[a];
}

void
verdict_init(struct verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->action = ACTION_ACCEPT;
}

void
verdict_clear(struct verdict *v)
{
	for (size_t i = 0; i < v->nadd; i++) {
		free(v->add[i].name);
		free(v->add[i].value);
	}
	for (size_t i = 0; i < v->nremove; i++)
		free(v->remove[i].name);
	free(v->add);
	free(v->remove);
	free(v->text);
	verdict_init(v);
}

static void
verdict_header_push(struct verdict_header **list, size_t *n, const char *name,
		    const char *value, int index, int top)
{
	*list = xrealloc(*list, (*n + 1) * sizeof(**list));
	(*list)[*n].name = xstrdup(name);
	(*list)[*n].value = value ? xstrdup(value) : NULL;
	(*list)[*n].index = index;
	(*list)[*n].top = top;
	(*n)++;
}

/*
 * verdict_ar_ours - does an Authentication-Results value claim our
 * authserv-id?  RFC 8601 section 5: such fields that arrive with a message
 * are forgeries and must go.  The id is the first token, before ";" or
 * white space (a version number may follow it).
 */
static int
verdict_ar_ours(const char *value, const char *id)
{
	size_t n;

	while (*value == ' ' || *value == '\t' || *value == '\r' ||
	       *value == '\n')
		value++;
	n = strcspn(value, "; \t\r\n(");
	return n == strlen(id) && strncasecmp(value, id, n) == 0;
}

/* rule_action - the action a rule takes under this configuration */
static enum action
rule_action(const struct verdict_rule *r, const struct conf *c, int outbound)
{
	if (r->gate && !*(const int *)((const char *)c + r->gate - 1))
		return ACTION_ACCEPT;
	if (outbound && r->conf_action_out)
		return (enum action)*(const int *)((const char *)c +
		    r->conf_action_out);
	if (r->conf_action == FIXED)
		return r->action;
	return (enum action)*(const int *)((const char *)c + r->conf_action);
}

/*
 * verdict_sets - the symbol sets a verdict looks at: the connection's,
 * the transaction's, and one recipient's or an error's (each may be
 * missing)
 */
struct verdict_sets {
	const struct symbols	*v[3];
	const struct conf	*conf;
	int			outbound;	/* the transaction's mode */
};

static const struct symbol *
verdict_find(const struct verdict_sets *sets, const char *name)
{
	const struct symbol *sym;

	for (int i = 0; i < 3; i++)
		if (sets->v[i] && (sym = symbols_find(sets->v[i], name)))
			return sym;
	return NULL;
}

/* verdict_strongest - the rule that fires with the strongest action */
static const struct verdict_rule *
verdict_strongest(const struct verdict_sets *sets, enum action *out)
{
	const struct verdict_rule *best = NULL;
	enum action best_action = ACTION_ACCEPT;

	for (size_t i = 0; i < sizeof(verdict_rules) / sizeof(verdict_rules[0]);
	     i++) {
		const struct verdict_rule *r = &verdict_rules[i];
		enum action a;

		if (verdict_find(sets, r->symbol) == NULL)
			continue;
		a = rule_action(r, sets->conf, sets->outbound);
		if (best == NULL || a > best_action) {
			best = r;
			best_action = a;
		}
	}
	*out = best_action;
	return best;
}

/* verdict_text - the rule's text with "%s" replaced by the symbol's opts */
static char *
verdict_text(const char *tmpl, const struct symbol *sym)
{
	struct sbuf out;
	int n = 0;

	sbuf_init(&out);
	for (const char *p = tmpl; *p; p++) {
		if (p[0] == '%' && p[1] == 's') {
			const char *opt = n < 2 ? sym->opt[n] : NULL;

			sbuf_puts(&out, opt ? opt : "");
			n++;
			p++;
		} else {
			sbuf_append(&out, p, 1);
		}
	}
	return sbuf_steal(&out);
}

/* verdict_reply - set the SMTP reply for a rule's action */
static void
verdict_reply(struct verdict *v, const struct verdict_rule *r,
	      const struct symbol *sym)
{
	const char *code = NULL, *xcode = NULL;

	if (v->action == ACTION_REJECT) {
		code = r->reject_code;
		xcode = r->reject_xcode;
	} else if (v->action == ACTION_TEMPFAIL) {
		code = r->tempfail_code;
		xcode = r->tempfail_xcode;
	}
	v->cause = r->symbol;
	free(v->text);
	v->text = verdict_text(r->text, sym);
	if (code) {
		util_strlcpy(v->code, code, sizeof(v->code));
		util_strlcpy(v->xcode, xcode, sizeof(v->xcode));
	}
}

/*
 * verdict_headers - remove forged copies of our headers (the status
 * header, Authentication-Results with our authserv-id); add the checks'
 * trace headers and one Authentication-Results at the top, and the status
 * header at the end.
 */
static void
verdict_headers(const struct session *s, const struct txn *m,
		struct verdict *v)
{
	const char *name = m->conf->status_header;
	const char *id = m->conf->authserv_id;
	char value[512];

	/* remove from the last to the first so indexes stay valid */
	for (size_t i = m->nheaders; i-- > 0;) {
		const struct txn_header *h = &m->headers[i];

		const char *strip = *name && strcasecmp(h->name, name) == 0 ?
		    name : NULL;

		for (size_t j = 0; strip == NULL && j < m->nstrip; j++)
			if (strcasecmp(h->name, m->strip[j]) == 0)
				strip = m->strip[j];
		if (strip)
			verdict_header_push(&v->remove, &v->nremove, strip,
					    NULL, h->index, 0);
		else if (strcasecmp(h->name, "Authentication-Results") == 0 &&
			 verdict_ar_ours(h->value, id))
			verdict_header_push(&v->remove, &v->nremove,
					    "Authentication-Results", NULL,
					    h->index, 0);
	}
	for (size_t i = 0; i < m->ntraces; i++)
		verdict_header_push(&v->add, &v->nadd, m->traces[i].name,
				    m->traces[i].value, 0, 1);
	if (m->auth_results.len > 0) {
		struct sbuf ar;

		sbuf_init(&ar);
		sbuf_printf(&ar, "%s; %s", id, m->auth_results.data);
		verdict_header_push(&v->add, &v->nadd,
				    "Authentication-Results", ar.data, 0, 1);
		sbuf_free(&ar);
	}
	/* inserted last at the top: the signatures end up above the rest */
	for (size_t i = 0; i < m->nsigs; i++)
		verdict_header_push(&v->add, &v->nadd, m->sigs[i].name,
				    m->sigs[i].value, 0, 1);
	if (*name == '\0')
		return;
	snprintf(value, sizeof(value), "%s; verdict=%s; mode=%s; score=%.2f",
		 id, verdict_action_name(v->action), txn_mode_name(m->mode),
		 symbols_score(&s->symbols) + symbols_score(&m->symbols));
	verdict_header_push(&v->add, &v->nadd, name, value, 0, 0);
}

int
verdict_decide(const struct session *s, const struct txn *t,
	       const struct symbols *extra, int eom, struct verdict *v)
{
	struct verdict_sets sets = {
		{ &s->symbols, t ? &t->symbols : NULL, extra }, s->conf,
		t != NULL && t->mode == TXN_OUTBOUND,
	};
	enum action a;
	const struct verdict_rule *r = verdict_strongest(&sets, &a);

	if (!eom && a != ACTION_REJECT && a != ACTION_DISCARD &&
	    a != ACTION_TEMPFAIL)
		return 0;
	verdict_clear(v);
	v->action = a;
	v->final = 1;
	if (r != NULL)
		verdict_reply(v, r, verdict_find(&sets, r->symbol));
	if (eom && t && (a == ACTION_ACCEPT || a == ACTION_QUARANTINE))
		verdict_headers(s, t, v);
	return 1;
}
