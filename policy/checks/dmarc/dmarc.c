/*
 * dmarc - DMARC (RFC 9989) for inbound mail (see dmarc.h).
 *
 * Interface: dmarc_eom() at end of message; dmarc_parse() (dmarcrec.c),
 * dmarc_evaluate() and dmarc_org_domain() for the unit tests, which give
 * DNS as a table (struct spf_dns, as SPF's tests do).
 *
 * What relayguard does and what libopendmarc does (DESIGN-NOTES.md):
 * libopendmarc 1.4.2 knows RFC 7489 only (the organizational domain from
 * the Public Suffix List, no psd=, np=, t=), so discovery, the record's
 * RFC 9989 tags and alignment are done here.  libopendmarc reads every
 * record found as well (opendmarc_policy_store_dmarc), as the RFC 7489
 * reading; where it disagrees on p/sp/adkim/aspf the log says so and
 * relayguard's reading stands.  With the Public Suffix List loaded
 * (dmarc_psl, opendmarc_tld_read_file) the detail names the organizational
 * domain an RFC 7489 receiver would use when it differs from the tree
 * walk's.
 *
 * Diagnostics: DNS and library problems go to the log and the symbol
 * detail; nothing here is fatal.  Readings of the RFC where it leaves
 * room are marked "Reading:".
 */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <time.h>

#include <idn2.h>
#include <opendmarc/dmarc.h>

#include "addr.h"
#include "conf.h"
#include "dkimverify.h"
#include "dmarc.h"
#include "log.h"
#include "resolver.h"
#include "session.h"
#include "spfcheck.h"
#include "txn.h"
#include "util.h"

/* exported by libopendmarc 1.4.2, missing from its header */
int opendmarc_get_tld(u_char *domain, u_char *tld, size_t tld_len);

#define DMARC_FROM_DOMAINS	ADDR_LIST_MAX	/* distinct From domains */

static const char *const dmarc_result_names[] = {
	[DMARC_RES_PASS] = "pass", [DMARC_RES_NONE] = "none",
	[DMARC_RES_PERMERROR] = "permerror",
	[DMARC_RES_TEMPERROR] = "temperror", [DMARC_RES_FAIL] = "fail",
};
static const char *const dmarc_symbols[] = {
	[DMARC_RES_PASS] = "DMARC_PASS", [DMARC_RES_NONE] = "DMARC_NONE",
	[DMARC_RES_PERMERROR] = "DMARC_PERMERROR",
	[DMARC_RES_TEMPERROR] = "DMARC_TEMPERROR",
	[DMARC_RES_FAIL] = "DMARC_FAIL",
};

/* dmarc_result_name - "pass", "fail" ... */
const char *
dmarc_result_name(enum dmarc_res r)
{
	return dmarc_result_names[r];
}

/* dmarc_labels - number of labels of a name without a final dot */
static int
dmarc_labels(const char *d)
{
	int n = *d ? 1 : 0;

	for (; *d; d++)
		n += *d == '.';
	return n;
}

/* dmarc_suffix - the last n labels of d (n <= its label count) */
static const char *
dmarc_suffix(const char *d, int n)
{
	int skip = dmarc_labels(d) - n;

	while (skip-- > 0)
		d = strchr(d, '.') + 1;
	return d;
}

/*
 * dmarc_walk_names - the names the tree walk of RFC 9989 section 4.10
 * asks in order: the name itself, then (a name of 8 labels or more
 * shortened to 7) one label less at a time, down to the TLD.  At most
 * DMARC_WALK_MAX; returns the count.
 */
static int
dmarc_walk_names(const char *d, const char *names[DMARC_WALK_MAX])
{
	int n = dmarc_labels(d), count = 0, next;

	if (n == 0)
		return 0;
	names[count++] = d;
	for (next = n > 7 ? 7 : n - 1; next >= 1 && count < DMARC_WALK_MAX;
	     next--)
		names[count++] = dmarc_suffix(d, next);
	return count;
}

/*
 * dmarc_lookup - the DMARC record at _dmarc.NAME: 1 found (one valid
 * record), 0 none there, -1 DNS temporary error.  Reading: several
 * DMARC records at one name are none there (RFC 9989: policy discovery
 * needs exactly one), and the walk goes on; a record that starts with
 * v=DMARC1 but is broken counts as one, so a broken one beside a good one
 * is two.
 */
static int
dmarc_lookup(const struct spf_dns *dns, const char *name,
	     struct dmarc_record *rec, char *note, size_t notelen,
	     int *queries)
{
	char q[DMARC_DOMAIN_MAX + 16], why[96];
	struct dns_answer a;
	int found = 0, broken = 0, rc;

	if (snprintf(q, sizeof(q), "_dmarc.%s", name) >= (int)sizeof(q) ||
	    !dns_name_ok(q))
		return 0;
	(*queries)++;
	dns->query(dns->ctx, q, DNS_T_TXT, &a);
	if (a.status == DNS_TEMPFAIL || a.status == DNS_TIMEOUT) {
		snprintf(note, notelen, "DNS %s for %s",
			 dns_status_name(a.status), q);
		dns_answer_free(&a);
		return -1;
	}
	for (size_t i = 0; a.status == DNS_OK && i < a.count; i++) {
		struct dmarc_record r;

		if (a.rr[i].type != DNS_T_TXT || a.rr[i].txt == NULL)
			continue;
		rc = dmarc_parse(a.rr[i].txt, a.rr[i].txtlen, &r, why,
				 sizeof(why));
		if (rc == 1 && found++ == 0)
			*rec = r;
		else if (rc < 0) {
			broken++;
			snprintf(note, notelen, "%.210s: %.90s", q, why);
		}
	}
	dns_answer_free(&a);
	if (found + broken > 1) {
		snprintf(note, notelen, "%s: %d DMARC records", q,
			 found + broken);
		return 0;
	}
	return found == 1;
}

int
dmarc_org_domain(const struct spf_dns *dns, const char *name, char *org,
		 int *queries)
{
	const char *names[DMARC_WALK_MAX], *last = NULL;
	int n = dmarc_walk_names(name, names);
	char note[320];

	for (int i = 0; i < n; i++) {
		struct dmarc_record r;
		int rc = dmarc_lookup(dns, names[i], &r, note, sizeof(note),
				      queries);

		if (rc < 0)
			return -1;
		if (rc == 0)
			continue;
		if (r.psd == 'n') {
			last = names[i];
			break;
		}
		if (r.psd == 'y') {
			/* a public suffix: the organization is one below */
			last = names[i] == name ? name :
			    dmarc_suffix(name, dmarc_labels(names[i]) + 1);
			break;
		}
		last = names[i];
	}
	util_strlcpy(org, last ? last : name, DMARC_DOMAIN_MAX + 1);
	return 0;
}

/*
 * dmarc_exists - the domain existence test (RFC 9989): a name is
 * non-existent when A, AAAA and MX all give NXDOMAIN.  1 exists, 0 does
 * not, -1 DNS temporary error.
 */
static int
dmarc_exists(const struct spf_dns *dns, const char *name, int *queries)
{
	static const int types[] = { DNS_T_A, DNS_T_AAAA, DNS_T_MX };

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct dns_answer a;
		enum dns_status st;

		(*queries)++;
		st = dns->query(dns->ctx, name, types[i], &a);
		dns_answer_free(&a);
		if (st == DNS_TEMPFAIL || st == DNS_TIMEOUT)
			return -1;
		if (st != DNS_NXDOMAIN)
			return 1;
	}
	return 0;
}

/*
 * dmarc_aligned - is id aligned with the author domain: strict, equal
 * names; relaxed, equal organizational domains.  1, 0, or -1 when the
 * organizational domain of id could not be found (DNS).
 */
static int
dmarc_aligned(const struct spf_dns *dns, const struct dmarc_eval *e,
	      const char *id, int strict, int *queries)
{
	char org[DMARC_DOMAIN_MAX + 1], lid[DMARC_DOMAIN_MAX + 1];
	size_t n;

	util_strlcpy(lid, id, sizeof(lid));
	n = strlen(lid);
	if (n > 0 && lid[n - 1] == '.')
		lid[n - 1] = '\0';
	if (strcasecmp(lid, e->domain) == 0)
		return 1;
	if (strict || !dns_name_ok(lid))
		return 0;
	for (char *p = lid; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (dmarc_org_domain(dns, lid, org, queries) < 0)
		return -1;
	return strcmp(org, e->org_domain) == 0;
}

/* dmarc_align - the identifiers; sets result (pass, fail, temperror) */
static void
dmarc_align(const struct spf_dns *dns, const struct dmarc_ident *id,
	    struct dmarc_eval *e)
{
	int temp = 0, unsigned_from = 0, rc;

	for (size_t i = 0; i < id->ndkim; i++) {
		const struct dkim_result *k = &id->dkim[i];

		if (k->result != DKIM_RES_PASS)
			continue;
		if (!k->from_once) {
			/* a From added after signing: never DMARC's pass */
			unsigned_from = 1;
			continue;
		}
		rc = dmarc_aligned(dns, e, k->domain, e->rec.adkim_strict,
				   &e->queries);
		if (rc > 0) {
			e->result = DMARC_RES_PASS;
			snprintf(e->via, sizeof(e->via), "dkim d=%s",
				 k->domain);
			return;
		}
		temp |= rc < 0;
	}
	if (id->spf_result && strcmp(id->spf_result, "pass") == 0 &&
	    id->spf_domain && *id->spf_domain) {
		rc = dmarc_aligned(dns, e, id->spf_domain, e->rec.aspf_strict,
				   &e->queries);
		if (rc > 0) {
			e->result = DMARC_RES_PASS;
			snprintf(e->via, sizeof(e->via), "spf %s",
				 id->spf_domain);
			return;
		}
		temp |= rc < 0;
	}
	e->result = temp ? DMARC_RES_TEMPERROR : DMARC_RES_FAIL;
	snprintf(e->why, sizeof(e->why), "%s",
		 temp ? "DNS temporary error finding an organizational domain" :
		 unsigned_from ? "no aligned pass (a DKIM pass does not cover "
		 "the one From field)" : "no aligned DKIM or SPF pass");
}

/*
 * dmarc_idn - a domain as DNS asks it: UTF-8 (RFC 6532) to its A-label
 * (IDNA2008, libidn2), ASCII as it is.  0, or -1 when it is no IDN.
 */
static int
dmarc_idn(const char *in, char *out, size_t size)
{
	char *ascii = NULL;
	int utf8 = 0, rc;

	for (const char *p = in; *p; p++)
		utf8 |= (unsigned char)*p >= 0x80;
	if (!utf8)
		return util_strlcpy(out, in, size) < size ? 0 : -1;
	rc = idn2_to_ascii_8z(in, &ascii, IDN2_NFC_INPUT |
			      IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK || strlen(ascii) >= size) {
		idn2_free(ascii);
		return -1;
	}
	util_strlcpy(out, ascii, size);
	idn2_free(ascii);
	return 0;
}

void
dmarc_evaluate(const struct spf_dns *dns, const char *domain,
	       const struct dmarc_ident *id, struct dmarc_eval *e)
{
	const char *names[DMARC_WALK_MAX];
	char note[320] = "";
	int n, rc;
	size_t len;

	memset(e, 0, sizeof(*e));
	if (dmarc_idn(domain, e->domain, sizeof(e->domain)) < 0) {
		e->result = DMARC_RES_PERMERROR;
		util_strlcpy(e->domain, "", sizeof(e->domain));
		snprintf(e->why, sizeof(e->why), "From domain is not a DNS "
			 "name (too long, or not a valid IDN)");
		return;
	}
	domain = e->domain;
	len = strlen(e->domain);
	if (len > 0 && e->domain[len - 1] == '.')
		e->domain[--len] = '\0';
	for (char *p = e->domain; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (len == 0 || strlen(domain) > DMARC_DOMAIN_MAX ||
	    *e->domain == '[' || !dns_name_ok(e->domain)) {
		e->result = DMARC_RES_PERMERROR;
		snprintf(e->why, sizeof(e->why), "From domain is not a DNS "
			 "name");
		return;
	}
	/* policy discovery: the first record on the way up */
	n = dmarc_walk_names(e->domain, names);
	for (int i = 0; i < n && !e->have_rec; i++) {
		rc = dmarc_lookup(dns, names[i], &e->rec, note, sizeof(note),
				  &e->queries);
		if (rc < 0) {
			e->result = DMARC_RES_TEMPERROR;
			snprintf(e->why, sizeof(e->why), "%s", note);
			return;
		}
		if (rc > 0) {
			e->have_rec = 1;
			util_strlcpy(e->policy_domain, names[i],
				     sizeof(e->policy_domain));
		}
	}
	if (!e->have_rec) {
		e->result = DMARC_RES_NONE;
		snprintf(e->why, sizeof(e->why), "%s", *note ? note :
			 "no DMARC record");
		util_strlcpy(e->org_domain, e->domain, sizeof(e->org_domain));
		return;
	}
	if (dmarc_org_domain(dns, e->domain, e->org_domain, &e->queries) < 0) {
		e->result = DMARC_RES_TEMPERROR;
		snprintf(e->why, sizeof(e->why), "DNS temporary error in the "
			 "organizational domain walk");
		return;
	}
	/* which policy: p= at the domain; np=, sp=, p= below it */
	e->published = e->rec.p;
	if (strcmp(e->policy_domain, e->domain) != 0) {
		if (e->rec.has_np) {
			rc = dmarc_exists(dns, e->domain, &e->queries);
			if (rc < 0) {
				e->result = DMARC_RES_TEMPERROR;
				snprintf(e->why, sizeof(e->why), "DNS "
					 "temporary error in the existence test");
				return;
			}
			e->nonexistent = rc == 0;
		}
		if (e->nonexistent)
			e->published = e->rec.np;
		else if (e->rec.has_sp)
			e->published = e->rec.sp;
	}
	/* t=y: one level less (RFC 9989 section 4.7) */
	e->applied = e->published;
	if (e->rec.testing && e->applied > DMARC_P_NONE)
		e->applied = (enum dmarc_policy)(e->applied - 1);
	/* pct= is historic: never a pass, never sampling; reported only */
	dmarc_align(dns, id, e);
}

/* ---- libopendmarc: the RFC 7489 reading and the Public Suffix List ---- */

static pthread_once_t dmarc_lib_once = PTHREAD_ONCE_INIT;
static int dmarc_lib_ok, dmarc_psl_ok;
static char dmarc_psl_path[1024];	/* the first configuration's */
static pthread_mutex_t dmarc_lib_lock = PTHREAD_MUTEX_INITIALIZER;

/* dmarc_lib_init - libopendmarc once a process, with the PSL if readable */
static void
dmarc_lib_init(void)
{
	OPENDMARC_LIB_T lib;

	memset(&lib, 0, sizeof(lib));
	lib.tld_type = OPENDMARC_TLD_TYPE_NONE;
	if (*dmarc_psl_path) {
		FILE *f = fopen(dmarc_psl_path, "r");

		if (f != NULL) {
			fclose(f);
			lib.tld_type = OPENDMARC_TLD_TYPE_MOZILLA;
			util_strlcpy((char *)lib.tld_source_file,
				     dmarc_psl_path,
				     sizeof(lib.tld_source_file));
		} else {
			log_warn("dmarc_psl %s: cannot read it; the RFC "
				    "7489 organizational domain is not "
				    "reported", dmarc_psl_path);
		}
	}
	dmarc_lib_ok = opendmarc_policy_library_init(&lib) == DMARC_PARSE_OKAY;
	dmarc_psl_ok = dmarc_lib_ok && lib.tld_type != OPENDMARC_TLD_TYPE_NONE;
	if (!dmarc_lib_ok)
		log_warn("libopendmarc did not initialize: no RFC 7489 "
			    "cross-check");
}

/*
 * dmarc_lib_view - the record at the policy domain read by libopendmarc
 * (RFC 7489); a disagreement on p, sp, adkim or aspf goes to the log.
 * The PSL's organizational domain goes into psl (or "" when unknown).
 */
static void
dmarc_lib_view(const struct spf_dns *dns, const struct dmarc_eval *e,
	       char *psl, size_t psllen)
{
	char q[DMARC_DOMAIN_MAX + 16];
	struct dns_answer a;
	DMARC_POLICY_T *pctx;

	*psl = '\0';
	if (!dmarc_lib_ok)
		return;
	if (dmarc_psl_ok) {
		u_char tld[DMARC_DOMAIN_MAX + 1];

		if (opendmarc_get_tld((u_char *)e->domain, tld,
				      sizeof(tld)) == 0 &&
		    strcasecmp((char *)tld, e->org_domain) != 0)
			snprintf(psl, psllen, "%s", (char *)tld);
	}
	if (!e->have_rec)
		return;
	snprintf(q, sizeof(q), "_dmarc.%s", e->policy_domain);
	/* the resolver's cache has it: the walk asked a moment ago */
	if (dns->query(dns->ctx, q, DNS_T_TXT, &a) != DNS_OK) {
		dns_answer_free(&a);
		return;
	}
	pctx = opendmarc_policy_connect_init((u_char *)"0.0.0.0",
					     DMARC_POLICY_IP_TYPE_IPV4);
	for (size_t i = 0; pctx && i < a.count; i++) {
		struct dmarc_record r;
		char why[96], *txt;
		int p = 0, sp = 0, adkim = 0, aspf = 0;

		if (a.rr[i].txt == NULL || dmarc_parse(a.rr[i].txt,
		    a.rr[i].txtlen, &r, why, sizeof(why)) != 1)
			continue;
		txt = xstrndup(a.rr[i].txt, a.rr[i].txtlen);
		if (opendmarc_policy_store_dmarc(pctx, (u_char *)txt,
		    (u_char *)e->policy_domain,
		    (u_char *)e->org_domain) != DMARC_PARSE_OKAY) {
			log_info("dmarc: libopendmarc (RFC 7489) refuses the "
				 "record at %s that RFC 9989 takes", q);
		} else {
			opendmarc_policy_fetch_p(pctx, &p);
			opendmarc_policy_fetch_sp(pctx, &sp);
			opendmarc_policy_fetch_adkim(pctx, &adkim);
			opendmarc_policy_fetch_aspf(pctx, &aspf);
			if (p != "nqr"[r.p] ||
			    (sp != DMARC_RECORD_P_UNSPECIFIED && r.has_sp &&
			     sp != "nqr"[r.sp]) ||
			    (adkim == DMARC_RECORD_A_STRICT) !=
			    r.adkim_strict ||
			    (aspf == DMARC_RECORD_A_STRICT) != r.aspf_strict)
				log_info("dmarc: libopendmarc (RFC 7489) reads "
					 "the record at %s otherwise", q);
		}
		free(txt);
		break;
	}
	if (pctx)
		opendmarc_policy_connect_shutdown(pctx);
	dns_answer_free(&a);
}

/* ---- the check ---- */

/* dmarc_rank - how strict a result is: the strictest stands */
static int
dmarc_rank(const struct dmarc_eval *e)
{
	switch (e->result) {
	case DMARC_RES_FAIL:
		return 10 + (int)e->applied;
	case DMARC_RES_TEMPERROR:
		return 5;
	case DMARC_RES_PERMERROR:
		return 4;
	case DMARC_RES_NONE:
		return 3;
	default:
		return 0;
	}
}

/*
 * dmarc_from_domains - the distinct domains of every From field into
 * doms (DMARC_FROM_DOMAINS of them at most).  A field that does not
 * parse, or domains past the limit, set why (a permerror beside the
 * domains found, so that a broken second field never hides a failing
 * first one); no From field at all sets why too.
 */
static void
dmarc_from_domains(const struct txn *t, char (*doms)[DMARC_DOMAIN_MAX + 1],
		   size_t *n, char *why, size_t whylen)
{
	int fields = 0;

	*n = 0;
	*why = '\0';
	for (size_t i = 0; i < t->nheaders; i++) {
		struct addr_list list;
		char err[128];
		enum addr_status st;

		if (strcasecmp(t->headers[i].name, "From") != 0)
			continue;
		fields++;
		st = addr_parse_list(t->headers[i].value,
				     strlen(t->headers[i].value), &list, err,
				     sizeof(err));
		if (st != ADDR_OK && !*why)
			snprintf(why, whylen, "From field %s: %s",
				 addr_status_name(st), err);
		for (size_t j = 0; st == ADDR_OK && j < list.count; j++) {
			const char *d = list.v[j].domain;
			size_t k;

			if (strlen(d) > DMARC_DOMAIN_MAX) {
				if (!*why)
					snprintf(why, whylen, "From domain "
						 "too long");
				continue;
			}
			for (k = 0; k < *n; k++)
				if (strcasecmp(doms[k], d) == 0)
					break;
			if (k < *n)
				continue;
			if (*n == DMARC_FROM_DOMAINS) {
				if (!*why)
					snprintf(why, whylen, "more than %d "
						 "From domains",
						 DMARC_FROM_DOMAINS);
				continue;
			}
			util_strlcpy(doms[(*n)++], d, DMARC_DOMAIN_MAX + 1);
		}
		addr_list_free(&list);
	}
	if (fields == 0)
		snprintf(why, whylen, "no From field");
	else if (*n == 0 && !*why)
		snprintf(why, whylen, "no From domain");
}

/* dmarc_clean - a domain for a header or a log: printable, bounded */
static void
dmarc_clean(char *dst, size_t size, const char *src)
{
	size_t o = 0;

	for (; *src && o + 1 < size; src++) {
		unsigned char c = (unsigned char)*src;

		dst[o++] = (isalnum(c) || c == '.' || c == '-' || c == '_') ?
		    (char)c : '?';
	}
	dst[o] = '\0';
}

/* dmarc_report - one JSON line a DMARC evaluation (dmarc_report_log) */
static void
dmarc_report(const struct txn *t, const struct dmarc_eval *e,
	     const struct dmarc_ident *id)
{
	const char *path = t->conf->dmarc_report_log;
	char ip[64], dom[DMARC_DOMAIN_MAX + 1], spfd[DMARC_DOMAIN_MAX + 1];
	char pdom[DMARC_DOMAIN_MAX + 1];
	struct sbuf l;
	FILE *f;

	if (*path == '\0')
		return;
	netaddr_format(&t->sess->client, ip, sizeof(ip));
	dmarc_clean(dom, sizeof(dom), e->domain);
	dmarc_clean(pdom, sizeof(pdom), e->policy_domain);
	dmarc_clean(spfd, sizeof(spfd), id->spf_domain ? id->spf_domain : "");
	sbuf_init(&l);
	sbuf_printf(&l, "{\"time\":%lld,\"source_ip\":\"%s\","
		    "\"header_from\":\"%s\",\"policy_domain\":\"%s\","
		    "\"p\":\"%s\",\"sp\":\"%s\",\"np\":\"%s\",\"t\":\"%s\","
		    "\"adkim\":\"%s\",\"aspf\":\"%s\",\"disposition\":\"%s\","
		    "\"dmarc\":\"%s\",\"spf\":{\"domain\":\"%s\","
		    "\"result\":\"%s\"},\"dkim\":[",
		    (long long)time(NULL), ip, dom, pdom,
		    e->have_rec ? dmarc_policy_name(e->rec.p) : "",
		    e->have_rec && e->rec.has_sp ?
		    dmarc_policy_name(e->rec.sp) : "",
		    e->have_rec && e->rec.has_np ?
		    dmarc_policy_name(e->rec.np) : "",
		    e->rec.testing ? "y" : "n",
		    e->rec.adkim_strict ? "s" : "r",
		    e->rec.aspf_strict ? "s" : "r",
		    e->result == DMARC_RES_FAIL ?
		    dmarc_policy_name(e->applied) : "none",
		    dmarc_result_name(e->result), spfd,
		    id->spf_result && *id->spf_result ? id->spf_result : "none");
	for (size_t i = 0; i < id->ndkim; i++) {
		char d[DMARC_DOMAIN_MAX + 1], s[DMARC_DOMAIN_MAX + 1];

		dmarc_clean(d, sizeof(d), id->dkim[i].domain);
		dmarc_clean(s, sizeof(s), id->dkim[i].selector);
		sbuf_printf(&l, "%s{\"domain\":\"%s\",\"selector\":\"%s\","
			    "\"result\":\"%s\"}", i ? "," : "", d, s,
			    dkimverify_result_name(id->dkim[i].result));
	}
	sbuf_puts(&l, "]}\n");
	if ((f = fopen(path, "a")) == NULL) {
		log_warn("dmarc_report_log %s: cannot open it", path);
	} else {
		/* one write: lines of several threads never interleave */
		fwrite(l.data, 1, l.len, f);
		fclose(f);
	}
	sbuf_free(&l);
}

/* dmarc_emit - the symbols and the dmarc= part for the deciding result */
static void
dmarc_emit(struct txn *t, const struct dmarc_eval *e, const char *psl)
{
	struct conf *c = t->conf;
	char dom[DMARC_DOMAIN_MAX + 1];
	struct sbuf detail;
	int exempt;

	dmarc_clean(dom, sizeof(dom), e->domain);
	sbuf_init(&detail);
	sbuf_printf(&detail, "%s: ", *dom ? dom : "-");
	if (e->have_rec) {
		sbuf_printf(&detail, "p=%s%s%s at %s org %s",
			    dmarc_policy_name(e->published),
			    e->nonexistent ? " (np)" : "",
			    e->rec.testing ? " t=y" : "", e->policy_domain,
			    e->org_domain);
		if (e->rec.pct >= 0)
			sbuf_puts(&detail, " pct (historic, ignored)");
		if (*psl)
			sbuf_printf(&detail, " psl-org %s", psl);
		sbuf_puts(&detail, ": ");
	}
	if (e->result == DMARC_RES_PASS)
		sbuf_printf(&detail, "aligned %s", e->via);
	else if (e->result == DMARC_RES_FAIL)
		sbuf_printf(&detail, "applied %s (%s)",
			    dmarc_policy_name(e->applied), e->why);
	else
		sbuf_puts(&detail, e->why);
	symbols_add_opts(&t->symbols, dmarc_symbols[e->result],
			 0, *dom ? dom : "From", NULL,
			 "%s", detail.data);
	sbuf_free(&detail);
	exempt = strlist_has(&c->dmarc_exempt_domains, e->domain) ||
	    strlist_has(&c->dmarc_exempt_domains, e->org_domain);
	if (e->result == DMARC_RES_FAIL && e->applied != DMARC_P_NONE) {
		if (exempt)
			log_info("dmarc: %s is in dmarc_exempt_domains: its "
				 "policy %s is not enforced", dom,
				 dmarc_policy_name(e->applied));
		else
			symbols_add_opts(&t->symbols, e->applied ==
					 DMARC_P_REJECT ? "DMARC_POLICY_REJECT" :
					 "DMARC_POLICY_QUARANTINE", 0, dom,
					 NULL, "%s: p=%s", dom,
					 dmarc_policy_name(e->applied));
	}
	if (*dom)
		txn_add_auth_result(t, "dmarc=%s header.from=%s "
				    "policy.dmarc=%s",
				    dmarc_result_name(e->result), dom,
				    dmarc_policy_name(e->have_rec ? e->applied :
						      DMARC_P_NONE));
	else
		txn_add_auth_result(t, "dmarc=%s policy.dmarc=none",
				    dmarc_result_name(e->result));
}

void
dmarc_eom(struct txn *t)
{
	struct conf *c = t->conf;
	char (*doms)[DMARC_DOMAIN_MAX + 1], err[256], why[256];
	char psl[DMARC_DOMAIN_MAX + 1] = "";
	struct dmarc_eval *e, *worst;
	struct dmarc_ident id;
	struct spfcheck_budget budget;
	struct spf_dns dns;
	struct resolver *res;
	size_t n;

	if (!c->dmarc || t->mode != TXN_INBOUND)
		return;
	/* one more: the permerror of a broken field beside the domains */
	e = xcalloc(DMARC_FROM_DOMAINS + 1, sizeof(*e));
	doms = xcalloc(DMARC_FROM_DOMAINS, sizeof(*doms));
	dmarc_from_domains(t, doms, &n, why, sizeof(why));
	worst = &e[n];
	worst->result = DMARC_RES_PERMERROR;
	snprintf(worst->why, sizeof(worst->why), "%s", why);
	if (n > 0 && (res = conf_resolver(c, err, sizeof(err))) == NULL) {
		log_err("DNS resolver: %s", err);
		util_strlcpy(worst->domain, doms[0], sizeof(worst->domain));
		worst->result = DMARC_RES_TEMPERROR;
		snprintf(worst->why, sizeof(worst->why), "no resolver");
		n = 0;
	}
	if (n > 0) {
		pthread_mutex_lock(&dmarc_lib_lock);
		if (!*dmarc_psl_path)
			util_strlcpy(dmarc_psl_path, c->dmarc_psl,
				     sizeof(dmarc_psl_path));
		pthread_mutex_unlock(&dmarc_lib_lock);
		pthread_once(&dmarc_lib_once, dmarc_lib_init);
		spfcheck_dns(&dns, &budget, res, c->dns_timeout,
			     c->dmarc_timeout);
		memset(&id, 0, sizeof(id));
		id.dkim = dkimverify_results(t, &id.ndkim);
		id.spf_result = t->spf_result;
		id.spf_domain = t->spf_domain;
		if (!*why)
			worst = NULL;	/* no permerror beside them */
		for (size_t i = 0; i < n; i++) {
			dmarc_evaluate(&dns, doms[i], &id, &e[i]);
			dmarc_report(t, &e[i], &id);
			if (worst == NULL ||
			    dmarc_rank(&e[i]) > dmarc_rank(worst))
				worst = &e[i];
		}
		dmarc_lib_view(&dns, worst, psl, sizeof(psl));
	}
	dmarc_emit(t, worst, psl);
	free(doms);
	free(e);
}
