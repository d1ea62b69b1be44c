/*
 * resolver - the one DNS resolver of relayguard, on libunbound.
 *
 * One resolver (one libunbound context, one cache) serves every check and
 * every thread.  Queries are synchronous for the caller, with a deadline:
 * a dedicated thread runs libunbound's event processing, callers wait on
 * their own condition variable and give up at their deadline (the query
 * is then cancelled).  Forwarders come from the "resolver" key
 * ("addr[@port] ..."; empty: /etc/resolv.conf); DNSSEC validation is on
 * when a trust anchor file is given.
 *
 * Queries may also be submitted in batches and collected later against
 * a deadline (resolver_submit, resolver_collect).
 *
 * Answers are typed: DNS_OK with records, DNS_NXDOMAIN, DNS_NODATA (the
 * name exists, no record of that type), DNS_TEMPFAIL (SERVFAIL, REFUSED,
 * a network error, a bogus DNSSEC answer), DNS_TIMEOUT, DNS_BADNAME (not
 * a valid query name: too long, empty label; no query is made).  The raw
 * wire-format answer is kept for libraries that want it (libopendkim).
 *
 * Every answer holds at most DNS_RR_MAX records; TXT strings of one record
 * are joined, as RFC 7208 section 3.3 says.
 */
#ifndef RG_RESOLVER_H
#define RG_RESOLVER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "netaddr.h"

#define DNS_RR_MAX	256

/* the record types the checks ask for (values as on the wire) */
enum dns_type {
	DNS_T_A = 1, DNS_T_NS = 2, DNS_T_CNAME = 5, DNS_T_PTR = 12,
	DNS_T_MX = 15, DNS_T_TXT = 16, DNS_T_AAAA = 28, DNS_T_SPF = 99,
};

enum dns_status {
	DNS_OK, DNS_NXDOMAIN, DNS_NODATA, DNS_TEMPFAIL, DNS_TIMEOUT,
	DNS_BADNAME,
};

struct dns_rr {
	int		type;
	struct netaddr	addr;		/* A, AAAA */
	char		*name;		/* PTR, MX exchange, CNAME, NS:
					   presentation form, no final dot */
	int		pref;		/* MX */
	char		*txt;		/* TXT, SPF: strings joined */
	size_t		txtlen;		/* may hold NUL bytes */
};

struct dns_answer {
	enum dns_status	status;
	int		rcode;		/* DNS RCODE when there was one */
	struct dns_rr	*rr;
	size_t		count;
	unsigned char	*packet;	/* raw answer (may be NULL) */
	size_t		packet_len;
	int		secure;		/* DNSSEC validated */
	int		bogus;		/* DNSSEC failed (status TEMPFAIL) */
	char		*why;		/* for logs: what went wrong, or NULL */
};

struct resolver;

/*
 * resolver_new - servers as in the "resolver" key (NULL or "": the
 * system's), trust_anchor a file for DNSSEC (NULL or "": no validation).
 * NULL with why in err.
 */
struct resolver *resolver_new(const char *servers, const char *trust_anchor,
			      char *err, size_t errlen);
/* resolver_ref, resolver_unref - shared by configurations across SIGHUP */
struct resolver *resolver_ref(struct resolver *);
void resolver_unref(struct resolver *);

/*
 * resolver_query - ask name/type, waiting at most timeout_ms.  Always
 * fills out (free it with dns_answer_free).  Returns out->status.
 */
enum dns_status resolver_query(struct resolver *, const char *name,
			       int type, int timeout_ms,
			       struct dns_answer *out);
void dns_answer_free(struct dns_answer *);

/*
 * Many queries at once (the DNS blocklists): resolver_submit starts one
 * and returns at once (a cached answer, a bad name: known already);
 * resolver_collect waits for it until deadline (CLOCK_MONOTONIC), fills
 * out (free it with dns_answer_free), frees the pending query and
 * returns out->status (DNS_TIMEOUT past the deadline: the query is
 * cancelled).  Submit them all, then collect each against one deadline:
 * the whole batch takes the time of the slowest answer, at most the
 * deadline.  resolver_drop forgets a query without waiting (NULL: no-op).
 * resolver_query is submit and collect.  A pending query must be
 * collected or dropped before the resolver's last reference goes.
 */
struct dns_pending;
struct dns_pending *resolver_submit(struct resolver *, const char *name,
				    int type);
enum dns_status resolver_collect(struct resolver *, struct dns_pending *,
				 const struct timespec *deadline,
				 struct dns_answer *out);
void resolver_drop(struct resolver *, struct dns_pending *);
/* resolver_deadline - now (CLOCK_MONOTONIC) plus ms */
void resolver_deadline(struct timespec *, int ms);
const char *dns_status_name(enum dns_status);
/* dns_name_ok - can this be sent as a query name (lengths, labels) */
int dns_name_ok(const char *name);

/*
 * Hooks for tests of the answer cache (no DNS needed):
 * resolver_cache_tune - at most max answers (0: unchanged) and a clock of
 *   CLOCK_MONOTONIC-like seconds (NULL: unchanged);
 * resolver_cache_put - keep an answer for lname (lowercase, no final dot)
 *   for ttl seconds, as a query would;
 * resolver_cache_get - 1 and a copy in out if lname is cached and live,
 *   counting as a use; else 0 (out is empty either way: free it);
 * resolver_cache_count - how many answers are held.
 */
void resolver_cache_tune(struct resolver *, size_t max, time_t (*now)(void));
void resolver_cache_put(struct resolver *, const char *lname, int type,
			const struct dns_answer *, int ttl);
int resolver_cache_get(struct resolver *, const char *lname, int type,
		       struct dns_answer *out);
size_t resolver_cache_count(struct resolver *);

#endif
