/*
 * spf - Sender Policy Framework (RFC 7208): check_host() and the
 * identities around it.
 *
 * Mechanism apart from policy: this module only evaluates; sender-side
 * actions and symbols live in spfcheck.c, the headers in verdict.c.
 *
 * Two engines behind one interface: the built-in evaluator (default) and
 * libspf2 (spf_libspf2.c).  Both get DNS through struct spf_dns, which in
 * the daemon is the shared resolver and in unit tests may be a table.
 *
 * Limits (RFC 7208 section 4.6.4): at most 10 DNS-querying terms, at most
 * 2 void lookups, at most 10 MX/PTR names looked at per term; every
 * buffer bounded (a macro expands to at most SPF_EXPAND_MAX bytes, a
 * domain to 253).
 */
#ifndef RG_SPF_H
#define RG_SPF_H

#include <stddef.h>
#include <time.h>

#include "netaddr.h"
#include "resolver.h"
#include "util.h"

#define SPF_EXPAND_MAX	1024

enum spf_result {
	SPF_NONE, SPF_NEUTRAL, SPF_PASS, SPF_FAIL, SPF_SOFTFAIL,
	SPF_TEMPERROR, SPF_PERMERROR,
};

/* spf_dns - how the evaluator asks DNS (see resolver_query) */
struct spf_dns {
	void		*ctx;
	enum dns_status	(*query)(void *ctx, const char *name, int type,
				 struct dns_answer *out);
};

struct spf_request {
	struct netaddr	ip;		/* the SMTP client */
	const char	*helo;		/* HELO/EHLO name, "" if none */
	const char	*mail_from;	/* envelope sender, "" for <> */
	const char	*receiver;	/* our host name, for %{r} */
	time_t		now;		/* for %{t}; 0: time(NULL) */
};

struct spf_response {
	enum spf_result	result;
	char		*domain;	/* the domain checked */
	char		*identity;	/* "mailfrom" or "helo" */
	char		*sender;	/* the <sender> used: local@domain */
	char		*mechanism;	/* the term that decided, or NULL */
	char		*explanation;	/* exp= text for fail, or NULL */
	char		*problem;	/* why temperror/permerror, or NULL */
	int		lookups;	/* DNS-querying terms used */
	int		void_lookups;
	struct sbuf	trace;		/* one line per DNS query made */
};

enum spf_engine { SPF_ENGINE_BUILTIN, SPF_ENGINE_LIBSPF2 };

void spf_response_init(struct spf_response *);
void spf_response_free(struct spf_response *);

/*
 * spf_check_host - RFC 7208 check_host(ip, domain, sender) with the
 * built-in engine.  sender is "local@domain".
 */
enum spf_result spf_check_host(const struct spf_dns *,
			       const struct spf_request *, const char *domain,
			       const char *sender, struct spf_response *);

/*
 * spf_eval - the MAIL FROM identity as RFC 7208 section 2.4 says: the
 * domain of mail_from, or with the null sender "postmaster@" the HELO
 * name (section 2.3); a local part missing from mail_from is
 * "postmaster".  Engine-independent.
 */
enum spf_result spf_eval(enum spf_engine, const struct spf_dns *,
			 const struct spf_request *, struct spf_response *);
/* spf_eval_helo - the HELO identity alone (section 2.3) */
enum spf_result spf_eval_helo(enum spf_engine, const struct spf_dns *,
			      const struct spf_request *,
			      struct spf_response *);

const char *spf_result_name(enum spf_result);	/* "pass", "fail", ... */
int spf_result_parse(const char *);		/* -1 if unknown */

#endif
