/*
 * check_spf - the built-in SPF evaluator against a table DNS: the macro
 * examples of RFC 7208 section 7.4, limits, and hostile records.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "spf.h"
#include "tests.h"
#include "util.h"

/* a table DNS: type 0 is a timeout; names match without regard to case */
struct trr {
	const char	*name;
	int		type;
	const char	*data;	/* TXT text, address, PTR name, "pref host" */
};

static enum dns_status
table_query(void *ctx, const char *name, int type, struct dns_answer *out)
{
	const struct trr *z = ctx;
	int exists = 0;

	memset(out, 0, sizeof(*out));
	for (; z->name != NULL; z++) {
		struct dns_rr *rr;

		if (strcasecmp(z->name, name) != 0)
			continue;
		exists = 1;
		if (z->type == 0) {
			dns_answer_free(out);
			out->status = DNS_TIMEOUT;
			return out->status;
		}
		if (z->type != type)
			continue;
		out->rr = xrealloc(out->rr, (out->count + 1) * sizeof(*rr));
		rr = &out->rr[out->count++];
		memset(rr, 0, sizeof(*rr));
		rr->type = type;
		switch (type) {
		case DNS_T_A:
		case DNS_T_AAAA:
			rr->addr.family = type == DNS_T_A ? AF_INET : AF_INET6;
			ck_assert_int_eq(inet_pton(rr->addr.family, z->data,
						   rr->addr.addr), 1);
			break;
		case DNS_T_MX:
			rr->pref = atoi(z->data);
			rr->name = xstrdup(strchr(z->data, ' ') + 1);
			break;
		case DNS_T_PTR:
			rr->name = xstrdup(z->data);
			break;
		default:
			rr->txt = xstrdup(z->data);
			rr->txtlen = strlen(z->data);
			break;
		}
	}
	out->status = out->count ? DNS_OK : exists ? DNS_NODATA : DNS_NXDOMAIN;
	return out->status;
}

/* check - run spf_eval for MAIL FROM; the caller frees resp */
static enum spf_result
check(const struct trr *zone, const char *ip, const char *mail_from,
      const char *helo, struct spf_response *resp)
{
	struct spf_dns dns = { (void *)zone, table_query };
	struct spf_request req;

	memset(&req, 0, sizeof(req));
	ck_assert_int_eq(netaddr_parse(ip, &req.ip), 0);
	req.mail_from = mail_from;
	req.helo = helo;
	req.receiver = "mx.example.org";
	req.now = 1700000000;
	spf_response_init(resp);
	return spf_eval(SPF_ENGINE_BUILTIN, &dns, &req, resp);
}

/*
 * Macros, through an exp= text (every letter is allowed there).  RFC 7208
 * section 7.4, sender strong-bad@email.example.com; the IPv6 nibbles are
 * uppercase here (see spf_ip_text).
 */
static const struct {
	const char *ip, *macro, *want;
} macros[] = {
	{ "192.0.2.3", "%{s}", "strong-bad@email.example.com" },
	{ "192.0.2.3", "%{o}", "email.example.com" },
	{ "192.0.2.3", "%{d}", "email.example.com" },
	{ "192.0.2.3", "%{d4}", "email.example.com" },
	{ "192.0.2.3", "%{d3}", "email.example.com" },
	{ "192.0.2.3", "%{d2}", "example.com" },
	{ "192.0.2.3", "%{d1}", "com" },
	{ "192.0.2.3", "%{dr}", "com.example.email" },
	{ "192.0.2.3", "%{d2r}", "example.email" },
	{ "192.0.2.3", "%{l}", "strong-bad" },
	{ "192.0.2.3", "%{l-}", "strong.bad" },
	{ "192.0.2.3", "%{lr}", "strong-bad" },
	{ "192.0.2.3", "%{lr-}", "bad.strong" },
	{ "192.0.2.3", "%{l1r-}", "strong" },
	{ "192.0.2.3", "%{ir}.%{v}._spf.%{d2}",
	  "3.2.0.192.in-addr._spf.example.com" },
	{ "192.0.2.3", "%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com" },
	{ "192.0.2.3", "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}",
	  "bad.strong.lp.3.2.0.192.in-addr._spf.example.com" },
	{ "192.0.2.3", "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}",
	  "3.2.0.192.in-addr.strong.lp._spf.example.com" },
	{ "192.0.2.3", "%{d2}.trusted-domains.example.net",
	  "example.com.trusted-domains.example.net" },
	{ "2001:db8::cb01", "%{ir}.%{v}._spf.%{d2}",
	  "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2"
	  ".ip6._spf.example.com" },
	{ "2001:db8::cb01", "%{c}", "2001:db8::cb01" },
	{ "::ffff:192.0.2.3", "%{c} %{v}", "192.0.2.3 in-addr" },
	{ "192.0.2.3", "%{d999r}", "com.example.email" },
	{ "192.0.2.3", "%{d99999999999999999999999r}", "com.example.email" },
	{ "192.0.2.3", "%{L}", "strong-bad" },
	{ "192.0.2.3", "%{S}", "strong-bad%40email.example.com" },
	{ "192.0.2.3", "%%%_%-", "% %20" },
	{ "192.0.2.3", "%{h} %{r} %{t}", "helo.example.org mx.example.org "
	  "1700000000" },
	{ "192.0.2.3", "%{l-=+}", "strong.bad" },
	{ "192.0.2.3", "%{p}", "unknown" },
	{ "192.0.2.3", "%{d0}", NULL },		/* bad: no explanation */
	{ "192.0.2.3", "%{x}", NULL },
	{ "192.0.2.3", "%{d", NULL },
	{ "192.0.2.3", "100%", NULL },
	{ "192.0.2.3", "tab\there", NULL },
};

START_TEST(test_macro)
{
	struct trr zone[] = {
		{ "email.example.com", DNS_T_TXT,
		  "v=spf1 -all exp=why.example.net" },
		{ "why.example.net", DNS_T_TXT, macros[_i].macro },
		{ NULL, 0, NULL },
	};
	struct spf_response resp;

	ck_assert_int_eq(check(zone, macros[_i].ip,
			       "strong-bad@email.example.com",
			       "helo.example.org", &resp), SPF_FAIL);
	if (macros[_i].want == NULL)
		ck_assert_ptr_null(resp.explanation);
	else
		ck_assert_str_eq(resp.explanation ? resp.explanation : "(null)",
				 macros[_i].want);
	spf_response_free(&resp);
}
END_TEST

/* records and the result they give for client 192.0.2.3 */
static const struct {
	const char *label, *record, *want, *problem;
} records[] = {
	{ "ip4", "v=spf1 ip4:192.0.2.0/24 -all", "pass", NULL },
	{ "ip4 no match", "v=spf1 ip4:192.0.3.0/24 -all", "fail", NULL },
	{ "default", "v=spf1 ip4:192.0.3.0/24", "neutral", NULL },
	{ "softfail", "v=spf1 ~all", "softfail", NULL },
	{ "exists", "v=spf1 exists:%{ir}.%{v}._spf.%{d2} -all", "pass", NULL },
	{ "a dual cidr", "v=spf1 a:host.example.com/24//64 -all", "pass",
	  NULL },
	{ "mx", "v=spf1 mx:mx.example.com -all", "pass", NULL },
	{ "ptr", "v=spf1 ptr:example.com -all", "pass", NULL },
	{ "p macro", "v=spf1 exists:%{p}.ok.example.com -all", "pass", NULL },
	{ "self include", "v=spf1 include:email.example.com -all",
	  "permerror", "more than 10 DNS lookups" },
	{ "include loop", "v=spf1 include:loop1.example.com -all",
	  "permerror", "more than 10 DNS lookups" },
	{ "redirect loop", "v=spf1 redirect=email.example.com",
	  "permerror", "more than 10 DNS lookups" },
	{ "nested 12 deep", "v=spf1 include:n1.example.com -all",
	  "permerror", "more than 10 DNS lookups" },
	{ "include none", "v=spf1 include:nothing.example.com -all",
	  "permerror", "no SPF record" },
	{ "include timeout", "v=spf1 include:slow.example.com -all",
	  "temperror", "DNS timeout" },
	{ "a timeout", "v=spf1 a:slow.example.com -all", "temperror",
	  "DNS timeout" },
	{ "ptr timeout skipped", "v=spf1 ptr:slow.example.com -all", "fail",
	  NULL },
	{ "11 MX", "v=spf1 mx:many.example.com -all", "permerror",
	  "more than 10 MX" },
	{ "null MX", "v=spf1 mx:null.example.com -all", "fail", NULL },
	{ "void limit", "v=spf1 a:n1.x a:n2.x a:n3.x -all", "permerror",
	  "void lookups" },
	{ "two voids", "v=spf1 a:n1.x a:n2.x -all", "fail", NULL },
	{ "d0", "v=spf1 exists:%{d0}.example.com -all", "permerror", "bad" },
	{ "bad toplabel", "v=spf1 a:example.123 -all", "permerror", "bad" },
	{ "unknown mechanism", "v=spf1 foo -all", "permerror", "unknown" },
	{ "two redirects", "v=spf1 redirect=a.example.com "
	  "redirect=b.example.com", "permerror", "more than once" },
	{ "unknown modifier", "v=spf1 foo=bar -all", "fail", NULL },
	{ "bad unknown modifier", "v=spf1 foo=%z -all", "permerror", "bad" },
	{ "huge expansion", "v=spf1 exists:%{s}%{s}%{s}%{s}%{s}%{s}%{s}%{s}"
	  "%{s}%{s}%{s}%{s}%{s}%{s}%{s}%{s}%{s}%{s}%{s}%{s}%{s}%{s}%{s}%{s}"
	  "%{s}%{s}%{s}%{s}%{s}%{s}%{s}%{s}%{s}%{s}%{s}%{s}%{s}%{s}%{s}%{s}"
	  ".example.com -all", "permerror", "too long" },
	{ "long name cut", "v=spf1 exists:%{s}.%{s}.%{s}.%{s}.%{s}.%{s}.%{s}"
	  ".%{s}.%{s}.%{s}.x.example.com -all", "fail", NULL },
	{ "uppercase", "V=SPF1 IP4:192.0.2.3 -ALL", "pass", NULL },
	{ "tab", "v=spf1\tip4:192.0.2.3", "none", NULL },
};

static const struct trr base_zone[] = {
	{ "3.2.0.192.in-addr._spf.example.com", DNS_T_A, "127.0.0.2" },
	{ "host.example.com", DNS_T_A, "192.0.2.200" },
	{ "mx.example.com", DNS_T_MX, "10 mail.example.com" },
	{ "mail.example.com", DNS_T_A, "192.0.2.3" },
	{ "3.2.0.192.in-addr.arpa", DNS_T_PTR, "slow.example.com" },
	{ "3.2.0.192.in-addr.arpa", DNS_T_PTR, "mail.example.com" },
	{ "mail.example.com.ok.example.com", DNS_T_A, "127.0.0.2" },
	{ "loop1.example.com", DNS_T_TXT, "v=spf1 include:loop2.example.com" },
	{ "loop2.example.com", DNS_T_TXT, "v=spf1 include:loop1.example.com" },
	{ "n1.example.com", DNS_T_TXT, "v=spf1 include:n2.example.com" },
	{ "n2.example.com", DNS_T_TXT, "v=spf1 include:n3.example.com" },
	{ "n3.example.com", DNS_T_TXT, "v=spf1 include:n4.example.com" },
	{ "n4.example.com", DNS_T_TXT, "v=spf1 include:n5.example.com" },
	{ "n5.example.com", DNS_T_TXT, "v=spf1 include:n6.example.com" },
	{ "n6.example.com", DNS_T_TXT, "v=spf1 include:n7.example.com" },
	{ "n7.example.com", DNS_T_TXT, "v=spf1 include:n8.example.com" },
	{ "n8.example.com", DNS_T_TXT, "v=spf1 include:n9.example.com" },
	{ "n9.example.com", DNS_T_TXT, "v=spf1 include:n10.example.com" },
	{ "n10.example.com", DNS_T_TXT, "v=spf1 include:n11.example.com" },
	{ "n11.example.com", DNS_T_TXT, "v=spf1 include:n12.example.com" },
	{ "n12.example.com", DNS_T_TXT, "v=spf1 +all" },
	{ "nothing.example.com", DNS_T_A, "192.0.2.9" },
	{ "slow.example.com", 0, NULL },
	{ "many.example.com", DNS_T_MX, "0 m0.example.com" },
	{ "many.example.com", DNS_T_MX, "1 m1.example.com" },
	{ "many.example.com", DNS_T_MX, "2 m2.example.com" },
	{ "many.example.com", DNS_T_MX, "3 m3.example.com" },
	{ "many.example.com", DNS_T_MX, "4 m4.example.com" },
	{ "many.example.com", DNS_T_MX, "5 m5.example.com" },
	{ "many.example.com", DNS_T_MX, "6 m6.example.com" },
	{ "many.example.com", DNS_T_MX, "7 m7.example.com" },
	{ "many.example.com", DNS_T_MX, "8 m8.example.com" },
	{ "many.example.com", DNS_T_MX, "9 m9.example.com" },
	{ "many.example.com", DNS_T_MX, "10 mail.example.com" },
	{ "null.example.com", DNS_T_MX, "0 " },
};

START_TEST(test_record)
{
	size_t n = sizeof(base_zone) / sizeof(base_zone[0]);
	struct trr *zone = xcalloc(n + 2, sizeof(*zone));
	struct spf_response resp;
	enum spf_result r;

	memcpy(zone, base_zone, sizeof(base_zone));
	zone[n].name = "email.example.com";
	zone[n].type = DNS_T_TXT;
	zone[n].data = records[_i].record;
	r = check(zone, "192.0.2.3", "strong-bad@email.example.com",
		  "helo.example.org", &resp);
	ck_assert_msg(strcmp(spf_result_name(r), records[_i].want) == 0,
		      "%s: got %s (%s)\n%s", records[_i].label,
		      spf_result_name(r), resp.problem ? resp.problem : "",
		      resp.trace.data ? resp.trace.data : "");
	if (records[_i].problem)
		ck_assert_msg(resp.problem && strstr(resp.problem,
						     records[_i].problem),
			      "%s: problem %s", records[_i].label,
			      resp.problem ? resp.problem : "(null)");
	ck_assert_int_le(resp.lookups, 10);
	ck_assert_int_le(resp.void_lookups, 3);
	spf_response_free(&resp);
	free(zone);
}
END_TEST

/* hostile and odd inputs: nothing may overflow, all stays bounded */
START_TEST(test_hostile)
{
	struct sbuf rec, local;
	struct spf_response resp;
	struct trr zone[4];

	/* a 5000-byte record of terms that never match */
	sbuf_init(&rec);
	sbuf_puts(&rec, "v=spf1");
	while (rec.len < 5000)
		sbuf_puts(&rec, " ip4:10.0.0.1");
	memset(zone, 0, sizeof(zone));
	zone[0] = (struct trr){ "big.example.com", DNS_T_TXT, rec.data };
	ck_assert_int_eq(check(zone, "192.0.2.3", "x@big.example.com", "h.x",
			       &resp), SPF_NEUTRAL);
	spf_response_free(&resp);

	/* 5000 bytes of a-terms: stopped at the 11th lookup */
	sbuf_reset(&rec);
	sbuf_puts(&rec, "v=spf1");
	while (rec.len < 5000)
		sbuf_puts(&rec, " a:h.example.com");
	zone[0].data = rec.data;
	zone[1] = (struct trr){ "h.example.com", DNS_T_A, "10.0.0.1" };
	ck_assert_int_eq(check(zone, "192.0.2.3", "x@big.example.com", "h.x",
			       &resp), SPF_PERMERROR);
	ck_assert_int_eq(resp.lookups, 10);
	spf_response_free(&resp);

	/* a 5000-byte local part into every macro context */
	sbuf_init(&local);
	while (local.len < 5000)
		sbuf_puts(&local, "a.b-");
	sbuf_puts(&local, "@big.example.com");
	zone[0].data = "v=spf1 exists:%{l}.%{L}.%{lr-}.x.example.com -all "
		       "exp=e.example.com";
	zone[1] = (struct trr){ "e.example.com", DNS_T_TXT, "%{l} %{S}" };
	ck_assert_int_eq(check(zone, "192.0.2.3", local.data, local.data,
			       &resp), SPF_PERMERROR);
	ck_assert(strstr(resp.problem, "too long") != NULL);
	spf_response_free(&resp);

	/* a fail whose explanation would not fit: no explanation */
	zone[0].data = "v=spf1 -all exp=e.example.com";
	ck_assert_int_eq(check(zone, "192.0.2.3", local.data, "h.x", &resp),
			 SPF_FAIL);
	ck_assert_ptr_null(resp.explanation);
	spf_response_free(&resp);

	/* control bytes from the sender never reach an explanation */
	zone[1].data = "you are %{l}";
	ck_assert_int_eq(check(zone, "192.0.2.3", "a\x01\x7f" "b@big.example.com",
			       "h.x", &resp), SPF_FAIL);
	ck_assert_ptr_null(resp.explanation);
	spf_response_free(&resp);
	ck_assert_int_eq(check(zone, "192.0.2.3", "ab@big.example.com", "h.x",
			       &resp), SPF_FAIL);
	ck_assert_str_eq(resp.explanation, "you are ab");
	spf_response_free(&resp);

	/* two records, an empty name, a bad domain */
	zone[1] = (struct trr){ "big.example.com", DNS_T_TXT, "v=spf1 +all" };
	ck_assert_int_eq(check(zone, "192.0.2.3", "x@big.example.com", "h.x",
			       &resp), SPF_PERMERROR);
	spf_response_free(&resp);
	ck_assert_int_eq(check(zone, "192.0.2.3", "x@", "h.x", &resp),
			 SPF_NONE);
	spf_response_free(&resp);
	ck_assert_int_eq(check(zone, "192.0.2.3", "x@a..b.com", "h.x", &resp),
			 SPF_NONE);
	spf_response_free(&resp);
	sbuf_free(&rec);
	sbuf_free(&local);
}
END_TEST

START_TEST(test_identities)
{
	struct trr zone[] = {
		{ "helo.example.org", DNS_T_TXT, "v=spf1 -all" },
		{ "from.example.org", DNS_T_TXT, "v=spf1 ip4:192.0.2.3 -all" },
		{ NULL, 0, NULL },
	};
	struct spf_dns dns = { zone, table_query };
	struct spf_request req;
	struct spf_response resp;

	memset(&req, 0, sizeof(req));
	ck_assert_int_eq(netaddr_parse("192.0.2.3", &req.ip), 0);
	req.helo = "helo.example.org";
	req.mail_from = "";
	spf_response_init(&resp);
	ck_assert_int_eq(spf_eval(SPF_ENGINE_BUILTIN, &dns, &req, &resp),
			 SPF_FAIL);
	ck_assert_str_eq(resp.identity, "mailfrom");
	ck_assert_str_eq(resp.sender, "postmaster@helo.example.org");
	ck_assert_str_eq(resp.domain, "helo.example.org");
	ck_assert_str_eq(resp.mechanism, "-all");
	ck_assert_str_eq(resp.trace.data, "TXT helo.example.org -> ok 1\n");
	spf_response_free(&resp);

	req.mail_from = "@from.example.org";
	ck_assert_int_eq(spf_eval(SPF_ENGINE_BUILTIN, &dns, &req, &resp),
			 SPF_PASS);
	ck_assert_str_eq(resp.sender, "postmaster@from.example.org");
	ck_assert_str_eq(resp.mechanism, "ip4:192.0.2.3");
	spf_response_free(&resp);

	req.mail_from = "user@from.example.org";
	ck_assert_int_eq(spf_eval_helo(SPF_ENGINE_BUILTIN, &dns, &req, &resp),
			 SPF_FAIL);
	ck_assert_str_eq(resp.identity, "helo");
	spf_response_free(&resp);

	/* an IPv4-mapped client built by hand is the IPv4 client */
	memset(&req.ip, 0, sizeof(req.ip));
	req.ip.family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, "::ffff:192.0.2.3", req.ip.addr),
			 1);
	ck_assert_int_eq(spf_eval(SPF_ENGINE_BUILTIN, &dns, &req, &resp),
			 SPF_PASS);
	spf_response_free(&resp);

	for (int r = SPF_NONE; r <= SPF_PERMERROR; r++)
		ck_assert_int_eq(spf_result_parse(spf_result_name(r)), r);
	ck_assert_int_eq(spf_result_parse("bogus"), -1);
}
END_TEST

Suite *
spf_suite(void)
{
	Suite *s = suite_create("spf");
	TCase *tc = tcase_create("spf");

	tcase_add_loop_test(tc, test_macro, 0,
			    sizeof(macros) / sizeof(macros[0]));
	tcase_add_loop_test(tc, test_record, 0,
			    sizeof(records) / sizeof(records[0]));
	tcase_add_test(tc, test_hostile);
	tcase_add_test(tc, test_identities);
	suite_add_tcase(s, tc);
	return s;
}
