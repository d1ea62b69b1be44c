/*
 * dnslist - DNS blocklists (DNSxL, RFC 5782) as data: a list's
 * definition, the names to ask, and what an answer means.
 *
 * A list is one line of the configuration (key dnsbl_list):
 *
 *   NAME ZONE WHAT [reject] [blocked=CODES] CODES=SYMBOL:WEIGHT ...
 *
 *   NAME    a word for the logs (letters, digits, "-", "_", ".")
 *   ZONE    the list's DNS zone (zen.spamhaus.org)
 *   WHAT    what is looked up, one or more of client (the client
 *           address: IPv4 reversed, IPv6 as nibbles), helo (the HELO
 *           name), sender (the MAIL FROM domain), uri (the links of the
 *           message: registered domains, IPv4 hosts reversed), separated
 *           by commas
 *   reject  a listed client is refused (client lists only; where:
 *           dnsbl_reject_stage); reject=CODES: only for those answers
 *           (Postfix's reject_rbl_client zone=127.0.0.[2..3] filter)
 *   blocked=CODES  answers that mean "query refused" (an error, never a
 *           listing); default 127.255.255.0/24 and 127.0.0.1
 *   CODES=SYMBOL:WEIGHT  answers that are listings, the symbol they add
 *           and its weight.  CODES is a comma-separated list of
 *           127.0.0.2 (one), 127.0.0.4-127.0.0.7 or 127.0.0.4-7 (a range),
 *           127.0.0.[4..7] (Postfix's form), &8 (any of these bits set in
 *           the last octet: SURBL, URIBL), any (an answer in 127/8 no
 *           other rule took).
 *
 * Every answer must be in 127.0.0.0/8 (RFC 5782 2.3): one outside it
 * is no listing (DNSLIST_NOT_LOCAL, the caller logs it).  Nothing here
 * logs or knows the configuration; errors come back in why.
 */
#ifndef RG_DNSLIST_H
#define RG_DNSLIST_H

#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"

#define DNSLIST_RULES_MAX	32
#define DNSLIST_SYMBOL_MAX	64

enum dnslist_what {
	DNSLIST_CLIENT	= 1 << 0,
	DNSLIST_HELO	= 1 << 1,
	DNSLIST_SENDER	= 1 << 2,
	DNSLIST_URI	= 1 << 3,
};

struct dnslist_range {
	uint32_t	lo, hi;		/* host byte order, inclusive */
};

struct dnslist_rule {
	struct dnslist_range *ranges;
	size_t		nranges;
	unsigned	mask;		/* &N items, OR-ed: last-octet bits */
	int		any;
	char		*symbol;
	double		weight;
};

struct dnslist {
	char		*name;
	char		*zone;		/* lowercase, no final dot */
	unsigned	what;		/* enum dnslist_what */
	int		reject;
	struct dnslist_range *reject_codes;	/* NULL: every listing */
	size_t		nreject_codes;
	struct dnslist_range *blocked;
	size_t		nblocked;
	struct dnslist_rule *rules;
	size_t		nrules;
};

enum dnslist_match {
	DNSLIST_NONE,		/* in 127/8, but no rule takes it */
	DNSLIST_LISTED,		/* rules in *hits */
	DNSLIST_BLOCKED,	/* the list refused the query */
	DNSLIST_NOT_LOCAL,	/* outside 127/8: not a listing */
};

/* dnslist_rejects - does answer a (a listing on l) refuse the client */
int dnslist_rejects(const struct dnslist *l, const struct netaddr *a);
/* dnslist_parse - one definition into l (zeroed first); -1 with why */
int dnslist_parse(const char *text, struct dnslist *l, char *why,
		  size_t whylen);
void dnslist_free(struct dnslist *);
/*
 * dnslist_ip_name - the query name of an address in zone: IPv4 reversed
 * ("2.0.0.127.zone"), an IPv4-mapped IPv6 address as its IPv4, other
 * IPv6 as 32 reversed nibbles; -1 when it does not fit in size or is not
 * a valid name
 */
int dnslist_ip_name(const struct netaddr *, const char *zone, char *out,
		    size_t size);
/*
 * dnslist_domain_name - "domain.zone", lowercased, without final dots;
 * -1 when the domain is not a host name (letters, digits, "-", "_" in
 * labels), has a single label, or the whole is no valid query name
 */
int dnslist_domain_name(const char *domain, const char *zone, char *out,
			size_t size);
/*
 * dnslist_match - what answer a (an A record) means on list l; for
 * DNSLIST_LISTED, *hits has bit i set for each rule i that takes it
 */
enum dnslist_match dnslist_match(const struct dnslist *l,
				 const struct netaddr *a, uint32_t *hits);

#endif
