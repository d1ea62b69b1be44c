/*
 * check_dmarc - DMARC (dmarc.c): the record parser on a table of good
 * and hostile records, the tree walk (which names, how many, where it
 * stops) and whole evaluations, with DNS as a table that logs every
 * query.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dkimverify.h"
#include "dmarc.h"
#include "resolver.h"
#include "tests.h"
#include "util.h"

/* ---- the record parser ---- */

static const struct {
	const char	*label, *rec;
	int		rc;		/* dmarc_parse's */
	int		p, sp, np;	/* -1: not given */
	int		adkim_s, aspf_s;
	char		psd;
	int		t, pct;
} records[] = {
	{ "minimal", "v=DMARC1; p=reject", 1, DMARC_P_REJECT, -1, -1, 0, 0,
	  'u', 0, -1 },
	{ "all tags", "v=DMARC1; p=quarantine; sp=none; np=reject; adkim=s; "
	  "aspf=s; psd=n; t=y; pct=50; rua=mailto:a@b.test", 1,
	  DMARC_P_QUARANTINE, DMARC_P_NONE, DMARC_P_REJECT, 1, 1, 'n', 1, 50 },
	{ "white space around =", "v = DMARC1 ;  p =  reject\t; sp\t=\tnone ",
	  1, DMARC_P_REJECT, DMARC_P_NONE, -1, 0, 0, 'u', 0, -1 },
	{ "case of names and values", "V=dmarc1; P=REJECT; ADKIM=S; PSD=Y; T=Y",
	  1, DMARC_P_REJECT, -1, -1, 1, 0, 'y', 1, -1 },
	{ "no p: none (RFC 9989)", "v=DMARC1; rua=mailto:a@b.test", 1,
	  DMARC_P_NONE, -1, -1, 0, 0, 'u', 0, -1 },
	{ "bad p: none", "v=DMARC1; p=bogus", 1, DMARC_P_NONE, -1, -1, 0, 0,
	  'u', 0, -1 },
	{ "bad sp, np, adkim, psd, t, pct ignored", "v=DMARC1; p=reject; "
	  "sp=maybe; np=; adkim=x; psd=yes; t=1; pct=101", 1, DMARC_P_REJECT,
	  -1, -1, 0, 0, 'u', 0, -1 },
	{ "unknown tags ignored", "v=DMARC1; p=reject; zz=1; x_y=2", 1,
	  DMARC_P_REJECT, -1, -1, 0, 0, 'u', 0, -1 },
	{ "trailing ;;", "v=DMARC1; p=none;;", 1, DMARC_P_NONE, -1, -1, 0, 0,
	  'u', 0, -1 },
	{ "junk between tags ignored", "v=DMARC1; p=reject; garbage; ==; ",
	  1, DMARC_P_REJECT, -1, -1, 0, 0, 'u', 0, -1 },
	{ "pct historic 0 parsed", "v=DMARC1; p=reject; pct=0", 1,
	  DMARC_P_REJECT, -1, -1, 0, 0, 'u', 0, 0 },
	{ "not DMARC: SPF", "v=spf1 -all", 0, -1, -1, -1, 0, 0, 'u', 0, -1 },
	{ "not DMARC: v not first", "p=reject; v=DMARC1", 0, -1, -1, -1, 0, 0,
	  'u', 0, -1 },
	{ "not DMARC: DMARC2", "v=DMARC2; p=reject", 0, -1, -1, -1, 0, 0, 'u',
	  0, -1 },
	{ "not DMARC: prefix", "v=DMARC1x; p=reject", 0, -1, -1, -1, 0, 0, 'u',
	  0, -1 },
	{ "not DMARC: empty", "", 0, -1, -1, -1, 0, 0, 'u', 0, -1 },
	{ "not DMARC: leading junk", "xv=DMARC1; p=reject", 0, -1, -1, -1, 0,
	  0, 'u', 0, -1 },
	{ "broken: p twice", "v=DMARC1; p=none; p=reject", -1, -1, -1, -1, 0,
	  0, 'u', 0, -1 },
	{ "broken: v twice", "v=DMARC1; v=DMARC1; p=reject", -1, -1, -1, -1, 0,
	  0, 'u', 0, -1 },
	{ "only the version", "v=DMARC1", 1, DMARC_P_NONE, -1, -1, 0, 0, 'u',
	  0, -1 },
	{ "no white space at all", "v=DMARC1;p=quarantine;sp=reject;t=n", 1,
	  DMARC_P_QUARANTINE, DMARC_P_REJECT, -1, 0, 0, 'u', 0, -1 },
	{ "hostile: semicolons", "v=DMARC1;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;"
	  ";;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;; p=reject", 1,
	  DMARC_P_REJECT, -1, -1, 0, 0, 'u', 0, -1 },
	{ "hostile: pct overflow", "v=DMARC1; p=reject; pct=99999999999999999",
	  1, DMARC_P_REJECT, -1, -1, 0, 0, 'u', 0, -1 },
	{ "hostile: CR LF in a value", "v=DMARC1; p=reject\r\n; sp=none", 1,
	  DMARC_P_NONE, DMARC_P_NONE, -1, 0, 0, 'u', 0, -1 },
	{ "hostile: p=reject inside another tag", "v=DMARC1; rua=p=reject", 1,
	  DMARC_P_NONE, -1, -1, 0, 0, 'u', 0, -1 },
	{ "hostile: NUL inside", "v=DMARC1; p=reject\0; p=none", 0, -1, -1, -1,
	  0, 0, 'u', 0, -1 },
};

START_TEST(test_parse)
{
	struct dmarc_record r;
	char why[128];
	size_t len = strlen(records[_i].rec);
	int rc;

	if (strcmp(records[_i].label, "hostile: NUL inside") == 0)
		len = 27;
	rc = dmarc_parse(records[_i].rec, len, &r, why, sizeof(why));
	ck_assert_msg(rc == records[_i].rc, "%s: rc %d", records[_i].label, rc);
	if (rc != 1)
		return;
	ck_assert_msg((int)r.p == records[_i].p, "%s: p", records[_i].label);
	ck_assert_int_eq(r.has_sp ? (int)r.sp : -1, records[_i].sp);
	ck_assert_int_eq(r.has_np ? (int)r.np : -1, records[_i].np);
	ck_assert_int_eq(r.adkim_strict, records[_i].adkim_s);
	ck_assert_int_eq(r.aspf_strict, records[_i].aspf_s);
	ck_assert_int_eq(r.psd, records[_i].psd);
	ck_assert_int_eq(r.testing, records[_i].t);
	ck_assert_int_eq(r.pct, records[_i].pct);
}
END_TEST

/* a 64 KB record is not taken (bounded input) */
START_TEST(test_parse_long)
{
	struct dmarc_record r;
	char why[64], *big = xmalloc(65536);

	memset(big, 'a', 65535);
	memcpy(big, "v=DMARC1; p=reject; x=", 22);
	big[65535] = '\0';
	ck_assert_int_eq(dmarc_parse(big, 65535, &r, why, sizeof(why)), 0);
	free(big);
}
END_TEST

/* ---- DNS as a table ---- */

struct zrr {
	const char	*name;
	int		type;		/* DNS_T_TXT, DNS_T_A ...; 0: timeout */
	const char	*txt;
};

struct zone {
	const struct zrr *rr;
	char		log[4096];	/* "TYPE name\n" per query */
};

/* zone_query - answers from the table; a name in it exists (NODATA) */
static enum dns_status
zone_query(void *ctx, const char *name, int type, struct dns_answer *out)
{
	struct zone *z = ctx;
	int exists = 0;
	size_t l = strlen(z->log);

	snprintf(z->log + l, sizeof(z->log) - l, "%s %s\n",
		 type == DNS_T_TXT ? "TXT" : type == DNS_T_A ? "A" :
		 type == DNS_T_AAAA ? "AAAA" : "MX", name);
	memset(out, 0, sizeof(*out));
	for (const struct zrr *r = z->rr; r->name; r++) {
		struct dns_rr *rr;

		if (strcasecmp(r->name, name) != 0)
			continue;
		exists = 1;
		if (r->type == 0) {
			dns_answer_free(out);
			memset(out, 0, sizeof(*out));
			out->status = DNS_TIMEOUT;
			return out->status;
		}
		if (r->type != type)
			continue;
		out->rr = xrealloc(out->rr, (out->count + 1) * sizeof(*rr));
		rr = &out->rr[out->count++];
		memset(rr, 0, sizeof(*rr));
		rr->type = type;
		if (r->txt) {
			rr->txt = xstrdup(r->txt);
			rr->txtlen = strlen(r->txt);
		}
	}
	/* a name with names below it exists too (empty non-terminal) */
	for (const struct zrr *r = z->rr; !exists && r->name; r++) {
		size_t n = strlen(r->name), m = strlen(name);

		exists = n > m && r->name[n - m - 1] == '.' &&
		    strcasecmp(r->name + n - m, name) == 0;
	}
	out->status = out->count ? DNS_OK : exists ? DNS_NODATA : DNS_NXDOMAIN;
	return out->status;
}

static const struct zrr zone1[] = {
	{ "_dmarc.example.com", DNS_T_TXT, "v=DMARC1; p=reject; sp=quarantine; "
	  "np=reject" },
	{ "_dmarc.example.com", DNS_T_TXT, "v=spf1 -all" },
	{ "example.com", DNS_T_A, NULL },
	{ "sub.example.com", DNS_T_A, NULL },
	{ "_dmarc.test.example.com", DNS_T_TXT, "v=DMARC1; p=none; t=y" },
	{ "_dmarc.two.example", DNS_T_TXT, "v=DMARC1; p=reject" },
	{ "_dmarc.two.example", DNS_T_TXT, "v=DMARC1; p=none" },
	{ "_dmarc.example", DNS_T_TXT, "v=DMARC1; p=quarantine; psd=y" },
	{ "_dmarc.slow.example", 0, NULL },
	{ "_dmarc.tst.example", DNS_T_TXT, "v=DMARC1; p=reject; t=y" },
	{ "_dmarc.q.example", DNS_T_TXT, "v=DMARC1; p=quarantine; t=y" },
	{ "_dmarc.strict.test", DNS_T_TXT, "v=DMARC1; p=reject; adkim=s; "
	  "aspf=s" },
	{ "_dmarc.org.test", DNS_T_TXT, "v=DMARC1; p=reject; psd=n" },
	{ "_dmarc.mid.org.test", DNS_T_TXT, "v=DMARC1; p=none" },
	{ "_dmarc.xn--bcher-kva.example", DNS_T_TXT, "v=DMARC1; p=reject" },
	{ NULL, 0, NULL },
};

static struct dkim_result
dk(const char *d, enum dkim_res res, int from_once)
{
	struct dkim_result k;

	memset(&k, 0, sizeof(k));
	util_strlcpy(k.domain, d, sizeof(k.domain));
	util_strlcpy(k.selector, "s", sizeof(k.selector));
	k.result = res;
	k.from_once = from_once;
	return k;
}

static void
eval(struct zone *z, const char *dom, const struct dkim_result *k,
     size_t nk, const char *spf, const char *spfd, struct dmarc_eval *e)
{
	struct spf_dns dns = { z, zone_query };
	struct dmarc_ident id = { k, nk, spf, spfd };

	z->log[0] = '\0';
	dmarc_evaluate(&dns, dom, &id, e);
}

/* the tree walk from 9 labels: the name, then 7 labels down to the TLD */
START_TEST(test_walk_deep)
{
	struct zone z = { zone1, "" };
	struct dmarc_eval e;

	eval(&z, "a.b.c.d.e.f.g.h.test", NULL, 0, "", "", &e);
	ck_assert_int_eq(e.result, DMARC_RES_NONE);
	ck_assert_str_eq(z.log,
			 "TXT _dmarc.a.b.c.d.e.f.g.h.test\n"
			 "TXT _dmarc.c.d.e.f.g.h.test\n"
			 "TXT _dmarc.d.e.f.g.h.test\n"
			 "TXT _dmarc.e.f.g.h.test\n"
			 "TXT _dmarc.f.g.h.test\n"
			 "TXT _dmarc.g.h.test\n"
			 "TXT _dmarc.h.test\n"
			 "TXT _dmarc.test\n");
	ck_assert_int_eq(e.queries, 8);
}
END_TEST

/* a deep subdomain finds its organization's record; sp= then applies */
START_TEST(test_walk_found)
{
	struct zone z = { zone1, "" };
	struct dmarc_eval e;

	eval(&z, "x.y.z.w.v.u.t.sub.example.com", NULL, 0, "", "", &e);
	ck_assert_int_eq(e.result, DMARC_RES_FAIL);
	ck_assert_str_eq(e.policy_domain, "example.com");
	ck_assert_str_eq(e.org_domain, "example.com");
	/* np=: does x.y...sub.example.com exist?  It does not */
	ck_assert_int_eq(e.nonexistent, 1);
	ck_assert_int_eq(e.published, DMARC_P_REJECT);
	/* an existing subdomain: sp= */
	eval(&z, "sub.example.com", NULL, 0, "", "", &e);
	ck_assert_int_eq(e.nonexistent, 0);
	ck_assert_int_eq(e.published, DMARC_P_QUARANTINE);
	ck_assert_int_eq(e.applied, DMARC_P_QUARANTINE);
	ck_assert(strstr(z.log, "A sub.example.com\n") != NULL);
	/* the domain itself: p= */
	eval(&z, "EXAMPLE.com.", NULL, 0, "", "", &e);
	ck_assert_str_eq(e.domain, "example.com");
	ck_assert_int_eq(e.published, DMARC_P_REJECT);
}
END_TEST

/* two DMARC records at one name are none there; the walk goes on */
START_TEST(test_two_records)
{
	struct zone z = { zone1, "" };
	struct dmarc_eval e;

	eval(&z, "two.example", NULL, 0, "", "", &e);
	/* on to _dmarc.example: a PSD record (psd=y) */
	ck_assert_str_eq(e.policy_domain, "example");
	ck_assert_str_eq(e.org_domain, "two.example");
	ck_assert_int_eq(e.result, DMARC_RES_FAIL);
	ck_assert_int_eq(e.published, DMARC_P_QUARANTINE);
}
END_TEST

/* psd=y: the organizational domain is one label below the PSD */
START_TEST(test_psd)
{
	struct zone z = { zone1, "" };
	struct spf_dns dns = { &z, zone_query };
	char org[DMARC_DOMAIN_MAX + 1];
	int q = 0;

	ck_assert_int_eq(dmarc_org_domain(&dns, "a.b.brand.example", org, &q),
			 0);
	ck_assert_str_eq(org, "brand.example");
	/* psd=n stops the walk there */
	ck_assert_int_eq(dmarc_org_domain(&dns, "a.mid.org.test", org, &q), 0);
	ck_assert_str_eq(org, "org.test");
	/* psd=u: the record with the fewest labels */
	ck_assert_int_eq(dmarc_org_domain(&dns, "a.sub.example.com", org, &q),
			 0);
	ck_assert_str_eq(org, "example.com");
	/* no record at all: the name itself */
	ck_assert_int_eq(dmarc_org_domain(&dns, "a.b.nothing.test", org, &q),
			 0);
	ck_assert_str_eq(org, "a.b.nothing.test");
}
END_TEST

/* t=y: reject applies as quarantine, quarantine as none */
START_TEST(test_testing)
{
	struct zone z = { zone1, "" };
	struct dmarc_eval e;

	eval(&z, "tst.example", NULL, 0, "", "", &e);
	ck_assert_int_eq(e.published, DMARC_P_REJECT);
	ck_assert_int_eq(e.applied, DMARC_P_QUARANTINE);
	eval(&z, "q.example", NULL, 0, "", "", &e);
	ck_assert_int_eq(e.applied, DMARC_P_NONE);
}
END_TEST

/* alignment: relaxed by organizational domain, strict by equal names */
START_TEST(test_alignment)
{
	struct zone z = { zone1, "" };
	struct dmarc_eval e;
	struct dkim_result k[2];

	k[0] = dk("mail.example.com", DKIM_RES_PASS, 1);
	eval(&z, "sub.example.com", k, 1, "", "", &e);
	ck_assert_int_eq(e.result, DMARC_RES_PASS);
	ck_assert_str_eq(e.via, "dkim d=mail.example.com");
	/* a pass that does not cover the one From field does not count */
	k[0] = dk("example.com", DKIM_RES_PASS, 0);
	eval(&z, "example.com", k, 1, "", "", &e);
	ck_assert_int_eq(e.result, DMARC_RES_FAIL);
	ck_assert(strstr(e.why, "From") != NULL);
	/* a failing signature of the domain does not count */
	k[0] = dk("example.com", DKIM_RES_FAIL, 1);
	eval(&z, "example.com", k, 1, "pass", "other.test", &e);
	ck_assert_int_eq(e.result, DMARC_RES_FAIL);
	/* SPF aligned, relaxed */
	eval(&z, "example.com", k, 1, "pass", "bounce.example.com", &e);
	ck_assert_int_eq(e.result, DMARC_RES_PASS);
	ck_assert_str_eq(e.via, "spf bounce.example.com");
	/* SPF softfail is no pass */
	eval(&z, "example.com", NULL, 0, "softfail", "example.com", &e);
	ck_assert_int_eq(e.result, DMARC_RES_FAIL);
	/* strict: a subdomain is not aligned, the same name is */
	k[0] = dk("mail.strict.test", DKIM_RES_PASS, 1);
	eval(&z, "strict.test", k, 1, "pass", "bounce.strict.test", &e);
	ck_assert_int_eq(e.result, DMARC_RES_FAIL);
	k[1] = dk("STRICT.test", DKIM_RES_PASS, 1);
	eval(&z, "strict.test", k, 2, "", "", &e);
	ck_assert_int_eq(e.result, DMARC_RES_PASS);
	/* another organization under the same PSD is not aligned */
	k[0] = dk("other.example", DKIM_RES_PASS, 1);
	eval(&z, "brand.example", k, 1, "", "", &e);
	ck_assert_int_eq(e.result, DMARC_RES_FAIL);
}
END_TEST

/* a DNS timeout in discovery is temperror; no record is none */
START_TEST(test_errors)
{
	struct zone z = { zone1, "" };
	struct dmarc_eval e;

	eval(&z, "slow.example", NULL, 0, "", "", &e);
	ck_assert_int_eq(e.result, DMARC_RES_TEMPERROR);
	eval(&z, "nothing.test", NULL, 0, "pass", "nothing.test", &e);
	ck_assert_int_eq(e.result, DMARC_RES_NONE);
	eval(&z, "[192.0.2.1]", NULL, 0, "", "", &e);
	ck_assert_int_eq(e.result, DMARC_RES_PERMERROR);
	eval(&z, "\xff\xfe.example", NULL, 0, "", "", &e);
	ck_assert_int_eq(e.result, DMARC_RES_PERMERROR);
	eval(&z, "a..b", NULL, 0, "", "", &e);
	ck_assert_int_eq(e.result, DMARC_RES_PERMERROR);
	ck_assert_str_eq(z.log, "");
}
END_TEST

/* a From domain in UTF-8 is asked as its A-label (RFC 6532, IDNA2008) */
START_TEST(test_idn)
{
	struct zone z = { zone1, "" };
	struct dmarc_eval e;
	struct dkim_result k = dk("xn--bcher-kva.example", DKIM_RES_PASS, 1);

	eval(&z, "B\xc3\xbc" "cher.example", &k, 1, "", "", &e);
	ck_assert_str_eq(e.domain, "xn--bcher-kva.example");
	ck_assert_str_eq(e.policy_domain, "xn--bcher-kva.example");
	ck_assert_int_eq(e.result, DMARC_RES_PASS);
	ck_assert(strstr(z.log, "TXT _dmarc.xn--bcher-kva.example\n") == z.log);
}
END_TEST

Suite *
dmarc_suite(void)
{
	Suite *s = suite_create("dmarc");
	TCase *tc = tcase_create("dmarc");

	tcase_add_loop_test(tc, test_parse, 0,
			    (int)(sizeof(records) / sizeof(records[0])));
	tcase_add_test(tc, test_parse_long);
	tcase_add_test(tc, test_walk_deep);
	tcase_add_test(tc, test_walk_found);
	tcase_add_test(tc, test_two_records);
	tcase_add_test(tc, test_psd);
	tcase_add_test(tc, test_testing);
	tcase_add_test(tc, test_alignment);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_idn);
	suite_add_tcase(s, tc);
	return s;
}
