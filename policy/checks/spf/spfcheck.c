/*
 * spfcheck - SPF at MAIL FROM (see spfcheck.h).
 *
 * The evaluation itself is spf.c's; this file gives it DNS within a
 * budget, and turns its response into symbols and header text.  Text from
 * the client (HELO, MAIL FROM) and from DNS (explanations) is sanitized
 * and bounded before it goes into a header.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "session.h"
#include "txn.h"
#include "resolver.h"
#include "spfcheck.h"
#include "util.h"

#define SPF_HDR_ITEM	256	/* longest client-supplied item in headers */

/* spfcheck_query - resolver_query within the per-query and total limits */
static enum dns_status
spfcheck_query(void *ctx, const char *name, int type, struct dns_answer *out)
{
	struct spfcheck_budget *b = ctx;
	struct timespec now;
	long left;

	clock_gettime(CLOCK_MONOTONIC, &now);
	left = (b->deadline.tv_sec - now.tv_sec) * 1000L +
	    (b->deadline.tv_nsec - now.tv_nsec) / 1000000L;
	if (left <= 0) {
		memset(out, 0, sizeof(*out));
		out->status = DNS_TIMEOUT;
		out->why = xstrdup("SPF time budget spent");
		return out->status;
	}
	return resolver_query(b->resolver, name, type,
			      left < b->query_ms ? (int)left : b->query_ms, out);
}

void
spfcheck_dns(struct spf_dns *dns, struct spfcheck_budget *b,
	     struct resolver *r, int query_ms, int total_ms)
{
	b->resolver = r;
	b->query_ms = query_ms;
	clock_gettime(CLOCK_MONOTONIC, &b->deadline);
	b->deadline.tv_sec += total_ms / 1000;
	b->deadline.tv_nsec += (long)(total_ms % 1000) * 1000000L;
	if (b->deadline.tv_nsec >= 1000000000L) {
		b->deadline.tv_sec++;
		b->deadline.tv_nsec -= 1000000000L;
	}
	dns->ctx = b;
	dns->query = spfcheck_query;
}

/* spfcheck_clean - printable, no quotes or backslashes, bounded */
static void
spfcheck_clean(char *dst, size_t size, const char *src)
{
	size_t o = 0;

	for (; src && *src && o + 1 < size; src++) {
		unsigned char c = (unsigned char)*src;

		dst[o++] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' &&
			    c != ';') ? (char)c : '?';
	}
	dst[o] = '\0';
}

/* spfcheck_reason - the RFC 7208 section 9.1 style comment for a result */
static void
spfcheck_reason(char *buf, size_t size, enum spf_result res,
		const char *sender, const char *ip, const char *problem)
{
	switch (res) {
	case SPF_PASS:
		snprintf(buf, size, "domain of %s designates %s as permitted "
			 "sender", sender, ip);
		break;
	case SPF_FAIL:
		snprintf(buf, size, "domain of %s does not designate %s as "
			 "permitted sender", sender, ip);
		break;
	case SPF_SOFTFAIL:
		snprintf(buf, size, "domain of transitioning %s does not "
			 "designate %s as permitted sender", sender, ip);
		break;
	case SPF_NEUTRAL:
		snprintf(buf, size, "%s is neither permitted nor denied by "
			 "domain of %s", ip, sender);
		break;
	case SPF_NONE:
		snprintf(buf, size, "domain of %s does not publish an SPF "
			 "record", sender);
		break;
	case SPF_TEMPERROR:
		snprintf(buf, size, "temporary error checking %s: %s", sender,
			 problem ? problem : "DNS error");
		break;
	case SPF_PERMERROR:
		snprintf(buf, size, "permanent error in the SPF record of "
			 "%s: %s", sender, problem ? problem : "invalid");
		break;
	}
}

static const char *const spf_symbols[] = {
	[SPF_NONE] = "SPF_NONE", [SPF_NEUTRAL] = "SPF_NEUTRAL",
	[SPF_PASS] = "SPF_PASS", [SPF_FAIL] = "SPF_FAIL",
	[SPF_SOFTFAIL] = "SPF_SOFTFAIL", [SPF_TEMPERROR] = "SPF_TEMPERROR",
	[SPF_PERMERROR] = "SPF_PERMERROR",
};
static const char *const spf_helo_symbols[] = {
	[SPF_NONE] = "SPF_HELO_NONE", [SPF_NEUTRAL] = "SPF_HELO_NEUTRAL",
	[SPF_PASS] = "SPF_HELO_PASS", [SPF_FAIL] = "SPF_HELO_FAIL",
	[SPF_SOFTFAIL] = "SPF_HELO_SOFTFAIL",
	[SPF_TEMPERROR] = "SPF_HELO_TEMPERROR",
	[SPF_PERMERROR] = "SPF_HELO_PERMERROR",
};

/* spfcheck_headers - Received-SPF and the spf= method result */
static void
spfcheck_headers(struct txn *t, const struct spf_response *r,
		 const char *ip, const char *reason)
{
	char from[SPF_HDR_ITEM], helo[SPF_HDR_ITEM], mech[SPF_HDR_ITEM];
	char why[SPF_HDR_ITEM * 2], prob[SPF_HDR_ITEM];
	const char *id = t->conf->authserv_id;
	/* the null sender is checked as postmaster@HELO (RFC 7208 2.4) */
	int by_helo = *t->mail_from == '\0';
	struct sbuf h;

	spfcheck_clean(from, sizeof(from), t->mail_from);
	spfcheck_clean(helo, sizeof(helo), t->sess->helo);
	spfcheck_clean(mech, sizeof(mech), r->mechanism);
	spfcheck_clean(why, sizeof(why), reason);
	spfcheck_clean(prob, sizeof(prob), r->problem);
	sbuf_init(&h);
	sbuf_printf(&h, "%s (%s: %s) client-ip=%s; envelope-from=\"%s\"; "
		    "helo=%s; receiver=%s; identity=%s",
		    spf_result_name(r->result), id, why, ip, from,
		    *helo ? helo : "unknown", id, by_helo ? "helo" : "mailfrom");
	if (*mech)
		sbuf_printf(&h, "; mechanism=\"%s\"", mech);
	if (*prob && (r->result == SPF_TEMPERROR ||
		      r->result == SPF_PERMERROR))
		sbuf_printf(&h, "; problem=\"%s\"", prob);
	txn_add_trace(t, "Received-SPF", h.data);
	sbuf_free(&h);
	if (by_helo)
		txn_add_auth_result(t, "spf=%s smtp.helo=%s",
				    spf_result_name(r->result),
				    *helo ? helo : "unknown");
	else
		txn_add_auth_result(t, "spf=%s smtp.mailfrom=%s",
				    spf_result_name(r->result), from);
}

void
spfcheck_mail(struct txn *t)
{
	struct conf *c = t->conf;
	struct spf_request req;
	struct spf_response r;
	struct spfcheck_budget budget;
	struct spf_dns dns;
	struct resolver *res;
	char err[256], ip[64], sender[SPF_HDR_ITEM + 2], reason[768];
	char plain[SPF_HDR_ITEM];
	enum spf_result result;

	if (!c->spf || t->mode != TXN_INBOUND || !t->sess->have_client)
		return;
	if ((res = conf_resolver(c, err, sizeof(err))) == NULL) {
		log_err("DNS resolver: %s", err);
		symbols_add_opts(&t->symbols, "SPF_TEMPERROR", 0, "<>",
				 NULL, "no resolver: %s", err);
		return;
	}
	netaddr_format(&t->sess->client, ip, sizeof(ip));
	memset(&req, 0, sizeof(req));
	req.ip = t->sess->client;
	req.helo = t->sess->helo;
	req.mail_from = t->mail_from;
	req.receiver = c->authserv_id;
	spfcheck_dns(&dns, &budget, res, c->dns_timeout, c->spf_timeout);
	spf_response_init(&r);
	result = spf_eval((enum spf_engine)c->spf_engine, &dns, &req, &r);
	snprintf(plain, sizeof(plain), "%.*s", SPF_HDR_ITEM - 1,
		 r.sender ? r.sender : t->mail_from);
	snprintf(sender, sizeof(sender), "<%s>", plain);
	spfcheck_reason(reason, sizeof(reason), result, plain, ip, r.problem);
	symbols_add_opts(&t->symbols, spf_symbols[result], 0,
			 sender, result == SPF_FAIL && r.explanation ?
			 r.explanation : reason, "%s: %s",
			 r.domain ? r.domain : "-", r.mechanism ? r.mechanism :
			 (r.problem ? r.problem : "no match"));
	spfcheck_headers(t, &r, ip, reason);
	/* for DMARC: the result and the domain of the identity checked */
	util_strlcpy(t->spf_result, spf_result_name(result),
		     sizeof(t->spf_result));
	{
		const char *at = strrchr(t->mail_from, '@');

		util_strlcpy(t->spf_domain, *t->mail_from == '\0' ?
			     t->sess->helo : (at ? at + 1 : t->mail_from),
			     sizeof(t->spf_domain));
	}
	/* the HELO identity on its own, as a symbol (RFC 7208 section 2.3) */
	if (c->spf_helo && *t->sess->helo && *t->mail_from &&
	    dns_name_ok(t->sess->helo)) {
		struct spf_response hr;
		enum spf_result hres;

		spf_response_init(&hr);
		hres = spf_eval_helo((enum spf_engine)c->spf_engine, &dns, &req,
				     &hr);
		symbols_add(&t->symbols, spf_helo_symbols[hres], 0, "%s",
			    hr.mechanism ? hr.mechanism :
			    (hr.problem ? hr.problem : "no match"));
		spf_response_free(&hr);
	}
	spf_response_free(&r);
}
