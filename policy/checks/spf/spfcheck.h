/*
 * spfcheck - SPF for inbound mail, at MAIL FROM: runs the engine chosen by
 * spf_engine through the shared resolver within spf_timeout, and names
 * the outcome.  Outbound mail is not checked.
 *
 * Symbols: SPF_PASS, SPF_FAIL, SPF_SOFTFAIL, SPF_NEUTRAL, SPF_NONE,
 * SPF_TEMPERROR, SPF_PERMERROR for the MAIL FROM identity (the HELO
 * identity when MAIL FROM is <>), with reply arguments <sender> and the
 * reason; SPF_HELO_* for the HELO identity on its own (spf_helo).
 * Headers: Received-SPF (RFC 7208 section 9.1) and the spf= part of
 * Authentication-Results.
 */
#ifndef RG_SPFCHECK_H
#define RG_SPFCHECK_H

#include <time.h>

#include "spf.h"

struct txn;
struct resolver;

/* spfcheck_budget - DNS for the SPF engines, within a total deadline */
struct spfcheck_budget {
	struct resolver	*resolver;
	int		query_ms;
	struct timespec	deadline;	/* CLOCK_MONOTONIC */
};

/* spfcheck_dns - an spf_dns that asks r, each query within query_ms, all
 * within total_ms from now */
void spfcheck_dns(struct spf_dns *, struct spfcheck_budget *,
		  struct resolver *r, int query_ms, int total_ms);

void spfcheck_mail(struct txn *);

#endif
