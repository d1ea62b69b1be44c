/*
 * dmarc - DMARC (RFC 9989) for inbound mail, at end of message, after
 * DKIM and SPF.
 *
 * Policy discovery and the organizational domain by the DNS tree walk of
 * RFC 9989 section 4.10 through the shared resolver (at most 8 queries a
 * walk: the author domain, then from at most 7 labels down to the TLD);
 * psd= (y/n/u), np= for non-existent subdomains (A, AAAA and MX all
 * NXDOMAIN), sp= for subdomains, t=y (the applied policy drops one level),
 * adkim/aspf (strict: equal names; relaxed: equal organizational
 * domains).  Identifiers: the DKIM signatures that pass and cover the one
 * From field (dkimverify_results(), from_once), and the SPF result of the
 * MAIL FROM identity (the HELO one for <>) that spfcheck.c left in the
 * transaction.
 *
 * Every domain of every From field is evaluated; the strictest result
 * stands (fail with the strongest applied policy, then temperror,
 * permerror, none, pass).  No From field, or one that does not parse, is
 * permerror; a broken field beside good ones is a permerror that
 * competes with their results (it never hides a fail).
 *
 * Symbols: DMARC_PASS, DMARC_FAIL, DMARC_NONE, DMARC_TEMPERROR,
 * DMARC_PERMERROR (detail: the domain, the policy and why), and with a
 * fail DMARC_POLICY_REJECT or DMARC_POLICY_QUARANTINE when the applied
 * policy says so and the domain is not in dmarc_exempt_domains (reply
 * argument: the From domain); verdict.c acts on those only with
 * dmarc_enforce = yes.  Authentication-Results: one "dmarc=RESULT
 * header.from=DOMAIN policy.dmarc=none|quarantine|reject": the policy
 * that applies to the domain after t=y (what a failure gets), none
 * without a record.
 */
#ifndef RG_DMARC_H
#define RG_DMARC_H

#include <stddef.h>

#include "spf.h"

struct txn;
struct dkim_result;

enum dmarc_policy { DMARC_P_NONE, DMARC_P_QUARANTINE, DMARC_P_REJECT };

enum dmarc_res {
	DMARC_RES_PASS, DMARC_RES_NONE, DMARC_RES_PERMERROR,
	DMARC_RES_TEMPERROR, DMARC_RES_FAIL,
};

#define DMARC_DOMAIN_MAX	253
#define DMARC_WALK_MAX		8	/* queries in one tree walk */

/* a parsed DMARC policy record */
struct dmarc_record {
	enum dmarc_policy p, sp, np;
	int		has_p, has_sp, has_np;
	int		adkim_strict, aspf_strict;
	char		psd;		/* 'y', 'n' or 'u' */
	int		testing;	/* t=y */
	int		pct;		/* historic; -1 when absent */
	int		has_rua;
};

/*
 * dmarc_parse - one TXT record.  1: a DMARC record (filled); 0: not one
 * (does not start with v=DMARC1: ignored, as RFC 9989 says); -1: starts
 * with v=DMARC1 but is broken (a repeated tag, a tag without "="), why
 * in why.
 */
int dmarc_parse(const char *txt, size_t len, struct dmarc_record *,
		char *why, size_t whylen);

/* one evaluation of one author domain */
struct dmarc_eval {
	enum dmarc_res	result;
	char		domain[DMARC_DOMAIN_MAX + 1];	/* author domain */
	char		policy_domain[DMARC_DOMAIN_MAX + 1];	/* record at */
	char		org_domain[DMARC_DOMAIN_MAX + 1];
	struct dmarc_record rec;
	int		have_rec;
	int		nonexistent;	/* np= applied */
	enum dmarc_policy published;	/* p, sp or np as it applies */
	enum dmarc_policy applied;	/* after t=y */
	char		via[DMARC_DOMAIN_MAX + 32];	/* "dkim d=..", "spf .." */
	char		why[320];
	int		queries;	/* DNS queries made */
};

/* dmarc_ident - the authenticated identifiers DMARC looks at */
struct dmarc_ident {
	const struct dkim_result *dkim;	/* may be NULL */
	size_t		ndkim;
	const char	*spf_result;	/* "pass" ... or "" */
	const char	*spf_domain;
};

/*
 * dmarc_evaluate - DMARC for one author domain through dns (the shared
 * resolver within a budget, or a test table)
 */
void dmarc_evaluate(const struct spf_dns *, const char *domain,
		    const struct dmarc_ident *, struct dmarc_eval *);

/*
 * dmarc_org_domain - the organizational domain of name by the tree walk
 * into org (size DMARC_DOMAIN_MAX + 1); 0, or -1 on a DNS temporary error
 */
int dmarc_org_domain(const struct spf_dns *, const char *name, char *org,
		     int *queries);

const char *dmarc_result_name(enum dmarc_res);
const char *dmarc_policy_name(enum dmarc_policy);

void dmarc_eom(struct txn *);

#endif
