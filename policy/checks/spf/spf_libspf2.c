/*
 * spf_libspf2 - the libspf2 engine behind spf.h: check_host() for one
 * domain and sender through libspf2 (Debian's 1.2.10), with relayguard's
 * DNS (struct spf_dns) instead of libspf2's own resolver.
 *
 * Interface: spf_libspf2_eval(), called by spf.c for engine libspf2.  It
 * fills resp->result, explanation (fail only), problem (temperror and
 * permerror), lookups, void_lookups and trace; domain and sender when the
 * caller has not.  Each call builds and frees its own SPF_server_t, so
 * calls share nothing and may run in parallel threads.
 *
 * What libspf2 gets wrong, and how this file copes:
 *   - A DNS layer's lookup must never return NULL: SPF_dns_lookup() then
 *     aborts the process.  l2_lookup() always returns a record set, with
 *     herrno HOST_NOT_FOUND, NO_DATA or TRY_AGAIN when there is no data,
 *     and panics (file and line, as util.h does) only when out of memory.
 *   - A TRY_AGAIN on the record lookup comes back as SPF_E_DNS_ERROR with
 *     result INVALID, not TEMPERROR; a record that does not compile comes
 *     back as SPF_E_NOT_SPF with result INVALID, like a missing record.
 *     l2_result() maps both: temperror, and permerror when the response
 *     holds a compile error (else none).
 *   - It asks for type SPF (99) before TXT; RFC 7208 section 3.1 removed
 *     that type.  l2_lookup() answers NO_DATA for it without a query, and
 *     libspf2 goes on to TXT.
 *   - SPF_request_query_mailfrom() passes every loopback client (127/8,
 *     ::1) and takes the domain from env_from.  We call
 *     SPF_server_get_record() and SPF_record_interpret() ourselves, with
 *     cur_dom the domain asked for.
 *   - Record selection: it wants "v=spf1 " with a space, so a record that
 *     is just "v=spf1" (valid, section 4.5) would be no record: handed
 *     over as "v=spf1 ".  It compiles records holding control characters
 *     or 8-bit bytes inside domain-specs (section 4.6.1 allows printable
 *     ASCII only): such a record is handed over as one it refuses, so the
 *     result is permerror.  NUL bytes in other TXT strings become 0x01.
 *   - Limits of section 4.6.4 it lacks or gets wrong, enforced here by
 *     the DNS layer: 2 void lookups (NXDOMAIN/NODATA answers to A, AAAA,
 *     MX and PTR queries), more than 10 MX names (it looks at the first
 *     10 before counting); when one is passed l2_lookup() answers
 *     TRY_AGAIN from then on, which ends the evaluation, and the result
 *     becomes permerror.  More than 10 PTR names makes it permerror where
 *     the RFC says to look at the first 10: PTR answers are cut to 10.
 *   - Names over 253 bytes are not shortened (section 7.3): l2_query()
 *     drops labels on the left until the name fits.
 *   - Explanations: its exp= lookup (SPF_request_get_exp) leaks the answer
 *     and takes the first of several TXT records (section 6.2 wants
 *     exactly one), and its macro compiler ends a macro-string at a space,
 *     so "%{i} is bad" becomes "1.2.3.4%is%bad".  The get_exp hook
 *     (l2_get_exp) does the lookup, refuses non-ASCII text, and expands
 *     each space-free word on its own.  Its default explanation (an
 *     openspf.org URL) is replaced with "": no exp=, no explanation.  It
 *     computes explanations for softfail, neutral and none too (extra TXT
 *     queries); only fail's is reported.
 *   - It writes warnings to stderr and calls SPF_error_handler (default:
 *     print and exit) on broken invariants: warnings, info and debug are
 *     dropped, errors go to util_panic() with libspf2's file and line.
 *   - SPF_server_free() does not free a DNS layer given to
 *     SPF_server_new_dns() (1.2.10): ours lives on the stack, destroy NULL.
 * Left as libspf2 does it (the RFC 7208 suite shows them): %{t} is its own
 * clock (req->now is ignored); which term decided is not exposed
 * (resp->mechanism stays NULL); terms inside an include do not count
 * towards the 10-term limit, and that limit is checked before each next
 * term only; a DNS error while validating PTR names is temperror (5.5
 * says skip the name); CIDR lengths of 0 are refused and "/032" taken;
 * many syntax errors pass unnoticed (empty or numeric domains, invalid
 * macro letters, exp= or redirect= twice, bad modifier names); URL
 * escapes come out in lower case.
 * IPv4-mapped IPv6 clients (::ffff:a.b.c.d) are checked as IPv4.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <spf2/spf.h>

#include "resolver.h"
#include "spf.h"
#include "util.h"

/* the prototype spf.c calls (no header of its own) */
enum spf_result spf_libspf2_eval(const struct spf_dns *,
				 const struct spf_request *, const char *domain,
				 const char *sender, struct spf_response *);

#define L2_VOID_MAX	2	/* RFC 7208 section 4.6.4 */
#define L2_MX_MAX	10
#define L2_PTR_MAX	10
#define L2_NAME_MAX	253
#define L2_NAME_BUF	256	/* a query name and its NUL */
#define L2_TRACE_MAX	32768
#define L2_TXT_MAX	4096	/* longer SPF records are refused (libspf2
				   caps them far below this anyway), other
				   TXT strings cut */

/* l2_ctx - what the DNS layer needs during one evaluation */
struct l2_ctx {
	const struct spf_dns	*dns;
	struct spf_response	*resp;
	SPF_request_t		*sr;
	int			voids;		/* void answers seen */
	const char		*stop;		/* a limit was passed: why */
};

/* l2_error - SPF_error_handler: a broken invariant inside libspf2 */
static void __attribute__((noreturn))
l2_error(const char *file, int line, const char *msg)
{
	util_panic(file ? file : "libspf2", line, "libspf2: %s", msg);
}

static pthread_once_t l2_once = PTHREAD_ONCE_INIT;

/* l2_init - libspf2's global log hooks, set once per process */
static void
l2_init(void)
{
	SPF_error_handler = l2_error;
	SPF_warning_handler = NULL;
	SPF_info_handler = NULL;
	SPF_debug_handler = NULL;
}

/* l2_type_name - for the trace */
static const char *
l2_type_name(int type)
{
	switch (type) {
	case ns_t_a:	return "A";
	case ns_t_aaaa:	return "AAAA";
	case ns_t_mx:	return "MX";
	case ns_t_ptr:	return "PTR";
	case ns_t_txt:	return "TXT";
	case ns_t_spf:	return "SPF";
	default:	return "?";
	}
}

/* l2_rr_new - an empty record set, never NULL */
static SPF_dns_rr_t *
l2_rr_new(SPF_dns_server_t *ds, const char *name, ns_type type, int herrno)
{
	SPF_dns_rr_t *rr;

	rr = SPF_dns_rr_new_init(ds, name, type, 0, herrno);
	if (rr == NULL)
		PANIC("out of memory");
	return rr;
}

/*
 * l2_rr_slot - room for one more record of len bytes; its index.  It may
 * move rr->rr: call it before reading rr->rr, never inside the subscript.
 */
static int
l2_rr_slot(SPF_dns_rr_t *rr, size_t len)
{
	if (SPF_dns_rr_buf_realloc(rr, rr->num_rr, len) != SPF_E_SUCCESS)
		PANIC("out of memory");
	return rr->num_rr++;
}

/* l2_is_spf - does this TXT string claim to be an SPF record (4.5) */
static int
l2_is_spf(const char *txt, size_t len)
{
	return len >= 6 && strncasecmp(txt, "v=spf1", 6) == 0 &&
	       (len == 6 || txt[6] == ' ');
}

/*
 * l2_add_txt - a TXT string, made safe for libspf2's C strings.  An SPF
 * record with a byte the record syntax does not allow (RFC 7208 section
 * 4.6.1: printable ASCII and spaces; libspf2 takes control characters and
 * 8-bit bytes inside domain-specs) or too long to hand over is replaced
 * by one that libspf2 refuses to compile ("invalid character"), so the
 * result is permerror as the RFC wants.
 */
static void
l2_add_txt(SPF_dns_rr_t *rr, const char *txt, size_t len)
{
	static const char bad[] = "v=spf1 \001";
	char *p;
	int i, spf = l2_is_spf(txt, len);

	if (spf) {
		int ok = len <= L2_TXT_MAX;

		for (size_t j = 0; ok && j < len; j++)
			if ((unsigned char)txt[j] < 0x20 ||
			    (unsigned char)txt[j] > 0x7e)
				ok = 0;
		if (!ok) {
			txt = bad;
			len = sizeof(bad) - 1;
		}
	} else if (len > L2_TXT_MAX) {
		len = L2_TXT_MAX;	/* not ours to judge */
	}
	i = l2_rr_slot(rr, len + 2);
	p = rr->rr[i]->txt;
	memcpy(p, txt, len);
	p[len] = '\0';
	for (size_t j = 0; j < len; j++)
		if (p[j] == '\0')
			p[j] = '\001';
	/* libspf2 looks for "v=spf1 " only */
	if (spf && len == 6) {
		p[6] = ' ';
		p[7] = '\0';
	}
}

/* l2_add_name - a PTR or MX target */
static void
l2_add_name(SPF_dns_rr_t *rr, const char *name)
{
	size_t len = strlen(name);
	int i = l2_rr_slot(rr, len + 1);

	memcpy(rr->rr[i]->ptr, name, len + 1);
}


/* l2_trace - one line per query, as spf.c writes it; bounded */
static void
l2_trace(struct l2_ctx *ctx, int type, const char *name, enum dns_status st,
	 size_t n)
{
	struct sbuf *t;
	char safe[L2_NAME_BUF * 4];

	if (ctx->resp == NULL)
		return;
	t = &ctx->resp->trace;
	if (t->len >= L2_TRACE_MAX)
		return;
	util_sanitize(safe, sizeof(safe), name, strlen(name));
	sbuf_printf(t, "%s %s -> %s %zu\n", l2_type_name(type), safe,
		    dns_status_name(st), n);
	if (t->len >= L2_TRACE_MAX)
		sbuf_puts(t, "... trace truncated\n");
}

/*
 * l2_query - ask relayguard's DNS, the name without a final dot; an OK
 * answer without a record of the type is NODATA.  Free ans with
 * dns_answer_free().
 */
static enum dns_status
l2_query(struct l2_ctx *ctx, const char *domain, int type,
	 struct dns_answer *ans)
{
	char name[L2_NAME_BUF];
	size_t len = strlen(domain), n = 0;
	enum dns_status st;

	memset(ans, 0, sizeof(*ans));
	if (len > 1 && domain[len - 1] == '.')
		len--;
	/* RFC 7208 section 7.3: drop labels on the left until it fits */
	while (len > L2_NAME_MAX) {
		const char *dot = memchr(domain, '.', len);

		if (dot == NULL)
			break;
		len -= (size_t)(dot + 1 - domain);
		domain = dot + 1;
	}
	if (len == 0 || len >= sizeof(name)) {
		st = DNS_BADNAME;
	} else {
		memcpy(name, domain, len);
		name[len] = '\0';
		st = ctx->dns->query(ctx->dns->ctx, name, type, ans);
	}
	if (st == DNS_OK) {
		for (size_t i = 0; i < ans->count; i++)
			if (ans->rr[i].type == type)
				n++;
		if (n == 0)
			st = DNS_NODATA;
	}
	ans->status = st;
	l2_trace(ctx, type, domain, st, n);
	return st;
}

/*
 * l2_lookup - the SPF_dns_lookup_t of our layer: one query through
 * struct spf_dns, the typed answer turned into libspf2's record set.
 */
static SPF_dns_rr_t *
l2_lookup(SPF_dns_server_t *ds, const char *domain, ns_type type,
	  int should_cache)
{
	struct l2_ctx *ctx = ds->hook;
	struct dns_answer ans;
	enum dns_status st;
	SPF_dns_rr_t *rr;
	int herrno, j;

	if (domain == NULL)
		domain = "";
	/* RFC 7208 section 3.1: no type SPF; libspf2 moves on to TXT */
	if (type == ns_t_spf || (type != ns_t_a && type != ns_t_aaaa &&
				 type != ns_t_mx && type != ns_t_ptr &&
				 type != ns_t_txt))
		return l2_rr_new(ds, domain, type, NO_DATA);
	/* a limit was passed: end the evaluation */
	if (ctx->stop != NULL)
		return l2_rr_new(ds, domain, type, TRY_AGAIN);

	st = l2_query(ctx, domain, type, &ans);
	switch (st) {
	case DNS_OK:
		herrno = NETDB_SUCCESS;
		break;
	case DNS_NXDOMAIN:
	case DNS_BADNAME:
		herrno = HOST_NOT_FOUND;
		break;
	case DNS_NODATA:
		herrno = NO_DATA;
		break;
	default:
		herrno = TRY_AGAIN;
		break;
	}
	rr = l2_rr_new(ds, domain, type, herrno);
	for (size_t i = 0; st == DNS_OK && i < ans.count; i++) {
		const struct dns_rr *a = &ans.rr[i];

		if (a->type != (int)type)
			continue;	/* a CNAME on the way */
		switch (type) {
		case ns_t_a:
			if (a->addr.family == AF_INET) {
				j = l2_rr_slot(rr, sizeof(struct in_addr));
				memcpy(&rr->rr[j]->a, a->addr.addr, 4);
			}
			break;
		case ns_t_aaaa:
			if (a->addr.family == AF_INET6) {
				j = l2_rr_slot(rr, sizeof(struct in6_addr));
				memcpy(&rr->rr[j]->aaaa, a->addr.addr, 16);
			}
			break;
		case ns_t_mx:
		case ns_t_ptr:
			if (a->name == NULL)
				break;
			if (type == ns_t_ptr && rr->num_rr >= L2_PTR_MAX)
				break;
			l2_add_name(rr, a->name);
			break;
		case ns_t_txt:
			if (a->txt != NULL)
				l2_add_txt(rr, a->txt, a->txtlen);
			break;
		default:
			break;
		}
	}
	if (st == DNS_OK && rr->num_rr == 0)
		rr->herrno = NO_DATA;
	dns_answer_free(&ans);

	/* RFC 7208 section 4.6.4; libspf2 looks at the first 10 first */
	if (type == ns_t_mx && rr->num_rr > L2_MX_MAX) {
		ctx->stop = "more than 10 MX names";
		rr->herrno = TRY_AGAIN;
		return rr;
	}

	if (type != ns_t_txt &&
	    (rr->herrno == HOST_NOT_FOUND || rr->herrno == NO_DATA)) {
		if (ctx->resp != NULL)
			ctx->resp->void_lookups++;
		if (++ctx->voids > L2_VOID_MAX) {
			ctx->stop = "more than 2 void DNS lookups";
			rr->herrno = TRY_AGAIN;
		}
	}
	return rr;
}

/*
 * l2_expand_word - one space-free piece of an explanation, expanded and
 * appended to out; SPF_E_SUCCESS or the error
 */
static SPF_errcode_t
l2_expand_word(SPF_server_t *sp, SPF_request_t *sr, const char *word,
	       size_t len, struct sbuf *out)
{
	SPF_response_t *scratch;
	SPF_macro_t *macro = NULL;
	SPF_errcode_t err;
	char *src = xstrndup(word, len), *buf = NULL;
	size_t buflen = 0;

	scratch = SPF_response_new(sr);
	if (scratch == NULL)
		PANIC("out of memory");
	err = SPF_record_compile_macro(sp, scratch, &macro, src);
	if (err == SPF_E_SUCCESS && macro == NULL)
		err = SPF_E_INTERNAL_ERROR;
	if (err == SPF_E_SUCCESS)
		err = SPF_record_expand_data(sp, sr, scratch,
			(SPF_data_t *)((char *)macro + sizeof(SPF_macro_t)),
			macro->macro_len, &buf, &buflen);
	if (err == SPF_E_SUCCESS && buf != NULL)
		sbuf_puts(out, buf);
	free(buf);
	if (macro != NULL)
		SPF_macro_free(macro);
	SPF_response_free(scratch);
	free(src);
	return err;
}

/* l2_ascii - printable US-ASCII and spaces only, not too long */
static int
l2_ascii(const char *s, size_t len)
{
	if (len > L2_TXT_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

/*
 * l2_get_exp - the SPF_dns_get_exp_t of our layer: the exp= TXT record
 * (exactly one, RFC 7208 section 6.2, and printable US-ASCII, 7.1)
 * expanded into *bufp.  Anything else is an error, and libspf2 then
 * leaves the explanation empty.
 *
 * libspf2's macro compiler ends a macro-string at a space (right for a
 * domain-spec) and turns each space of an explanation into "%" and
 * leaves what follows unexpanded.  An explain-string is macro-strings
 * and spaces, so each space-free word is expanded on its own here and the
 * spaces are kept as they are.
 */
static SPF_errcode_t
l2_get_exp(SPF_server_t *sp, const char *domain, char **bufp,
	   size_t *buflenp)
{
	struct l2_ctx *ctx = sp->resolver->hook;
	struct dns_answer ans;
	SPF_errcode_t err = SPF_E_SUCCESS;
	struct sbuf out;
	char *text = NULL, *nb;
	size_t n = 0, at = 0;

	if (domain == NULL || ctx->sr == NULL)
		return SPF_E_NOT_CONFIG;
	if (l2_query(ctx, domain, ns_t_txt, &ans) == DNS_OK) {
		for (size_t i = 0; i < ans.count; i++)
			if (ans.rr[i].type == ns_t_txt && ans.rr[i].txt != NULL) {
				n++;
				at = i;
			}
		if (n == 1 && l2_ascii(ans.rr[at].txt, ans.rr[at].txtlen))
			text = xstrndup(ans.rr[at].txt, ans.rr[at].txtlen);
	}
	dns_answer_free(&ans);
	if (text == NULL)
		return SPF_E_NOT_SPF;

	sbuf_init(&out);
	for (const char *p = text; *p != '\0' && err == SPF_E_SUCCESS;) {
		size_t len = strcspn(p, " ");

		if (len == 0) {
			sbuf_append(&out, p, 1);
			p++;
			continue;
		}
		err = l2_expand_word(sp, ctx->sr, p, len, &out);
		p += len;
	}
	/* macros bring in HELO and MAIL FROM bytes: check the result too */
	if (err == SPF_E_SUCCESS && !l2_ascii(out.len ? out.data : "", out.len))
		err = SPF_E_NOT_SPF;
	if (err == SPF_E_SUCCESS) {
		nb = realloc(*bufp, out.len + 1);
		if (nb == NULL)
			PANIC("out of memory");
		memcpy(nb, out.len ? out.data : "", out.len);
		nb[out.len] = '\0';
		*bufp = nb;
		*buflenp = out.len + 1;
	}
	sbuf_free(&out);
	free(text);
	return err;
}

/*
 * l2_dns_init - our DNS layer for one evaluation.  destroy stays NULL:
 * the layer is ours (on the caller's stack), and SPF_server_free() then
 * leaves it alone whichever libspf2 version runs (1.2.10 never frees a
 * layer given to SPF_server_new_dns(), later versions call destroy).
 */
static void
l2_dns_init(SPF_dns_server_t *ds, struct l2_ctx *ctx)
{
	memset(ds, 0, sizeof(*ds));
	ds->destroy = NULL;
	ds->lookup = l2_lookup;
	ds->get_spf = NULL;
	ds->get_exp = l2_get_exp;
	ds->add_cache = NULL;
	ds->layer_below = NULL;
	ds->name = "relayguard";
	ds->debug = 0;
	ds->hook = ctx;
}

/* l2_set_client - the client address; -1 when it is neither v4 nor v6 */
static int
l2_set_client(SPF_request_t *sr, const struct netaddr *ip)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					    0xff, 0xff };
	struct in_addr v4;
	struct in6_addr v6;

	if (ip->family == AF_INET) {
		memcpy(&v4, ip->addr, 4);
		return SPF_request_set_ipv4(sr, v4) == SPF_E_SUCCESS ? 0 : -1;
	}
	if (ip->family == AF_INET6) {
		if (memcmp(ip->addr, mapped, sizeof(mapped)) == 0) {
			memcpy(&v4, ip->addr + 12, 4);
			return SPF_request_set_ipv4(sr, v4) == SPF_E_SUCCESS ? 0 : -1;
		}
		memcpy(&v6, ip->addr, 16);
		return SPF_request_set_ipv6(sr, v6) == SPF_E_SUCCESS ? 0 : -1;
	}
	return -1;
}

/* l2_compile_error - did compiling a record fail (vs. no record at all) */
static int
l2_compile_error(SPF_response_t *r)
{
	for (int i = 0; i < SPF_response_messages(r); i++) {
		SPF_error_t *e = SPF_response_message(r, i);

		if (SPF_error_errorp(e) && SPF_error_code(e) != SPF_E_NOT_SPF &&
		    SPF_error_code(e) != SPF_E_DNS_ERROR)
			return 1;
	}
	return 0;
}

/*
 * l2_problem - the text of libspf2's first error (for a record that does
 * not compile the first says why, the last only "Failed to compile"), or
 * of its error code
 */
static char *
l2_problem(SPF_response_t *r, SPF_errcode_t err)
{
	char buf[512];
	const char *msg = NULL;

	for (int i = 0; i < SPF_response_messages(r) && msg == NULL; i++) {
		SPF_error_t *e = SPF_response_message(r, i);

		if (SPF_error_errorp(e) && SPF_error_message(e) != NULL)
			msg = SPF_error_message(e);
	}
	if (msg == NULL)
		msg = SPF_strerror(err != SPF_E_SUCCESS ? err : SPF_response_errcode(r));
	util_sanitize(buf, sizeof(buf), msg, strlen(msg));
	return xstrdup(buf);
}

/* l2_result - libspf2's answer as enum spf_result (see the top) */
static enum spf_result
l2_result(SPF_response_t *r, SPF_errcode_t err)
{
	switch (SPF_response_result(r)) {
	case SPF_RESULT_PASS:		return SPF_PASS;
	case SPF_RESULT_FAIL:		return SPF_FAIL;
	case SPF_RESULT_SOFTFAIL:	return SPF_SOFTFAIL;
	case SPF_RESULT_NEUTRAL:	return SPF_NEUTRAL;
	case SPF_RESULT_NONE:		return SPF_NONE;
	case SPF_RESULT_TEMPERROR:	return SPF_TEMPERROR;
	case SPF_RESULT_PERMERROR:	return SPF_PERMERROR;
	case SPF_RESULT_INVALID:
	default:
		break;
	}
	if (err == SPF_E_DNS_ERROR)
		return SPF_TEMPERROR;
	if (err == SPF_E_NOT_SPF || err == SPF_E_SUCCESS)
		return l2_compile_error(r) ? SPF_PERMERROR : SPF_NONE;
	if (err == SPF_E_NO_MEMORY)
		return SPF_TEMPERROR;
	return SPF_PERMERROR;
}

/* l2_finish - fill resp and return its result */
static enum spf_result
l2_finish(struct spf_response *resp, enum spf_result result,
	  const char *problem)
{
	resp->result = result;
	if (problem != NULL && resp->problem == NULL)
		resp->problem = xstrdup(problem);
	return result;
}

enum spf_result
spf_libspf2_eval(const struct spf_dns *dns, const struct spf_request *req,
		 const char *domain, const char *sender,
		 struct spf_response *resp)
{
	struct l2_ctx ctx;
	SPF_dns_server_t ds;
	SPF_server_t *sp;
	SPF_request_t *sr;
	SPF_response_t *r = NULL;
	SPF_record_t *rec = NULL;
	SPF_errcode_t err;
	enum spf_result result;
	char *from = NULL;

	pthread_once(&l2_once, l2_init);

	/* section 4.3: a domain DNS cannot carry is none, as is no domain */
	if (domain == NULL || *domain == '\0' ||
	    strlen(domain) > L2_NAME_MAX + 1)
		return l2_finish(resp, SPF_NONE, NULL);
	if (resp->domain == NULL)
		resp->domain = xstrdup(domain);
	if (sender == NULL || *sender == '\0' || strchr(sender, '@') == NULL) {
		size_t len = strlen("postmaster@") + strlen(domain) + 1;

		from = xmalloc(len);
		util_strlcpy(from, "postmaster@", len);
		util_strlcpy(from + strlen("postmaster@"), domain,
			     len - strlen("postmaster@"));
		sender = from;
	}
	if (resp->sender == NULL)
		resp->sender = xstrdup(sender);

	memset(&ctx, 0, sizeof(ctx));
	ctx.dns = dns;
	ctx.resp = resp;

	l2_dns_init(&ds, &ctx);
	sp = SPF_server_new_dns(&ds, 0);
	if (sp == NULL)
		PANIC("out of memory");
	/* no exp=: no explanation, not libspf2's openspf.org URL */
	{
		SPF_response_t *tmp = NULL;

		SPF_server_set_explanation(sp, "", &tmp);
		if (tmp != NULL)
			SPF_response_free(tmp);
	}
	SPF_server_set_rec_dom(sp, req->receiver && *req->receiver ?
			       req->receiver : "unknown");

	sr = SPF_request_new(sp);
	if (sr == NULL)
		PANIC("out of memory");
	ctx.sr = sr;
	if (l2_set_client(sr, &req->ip) < 0) {
		SPF_request_free(sr);
		SPF_server_free(sp);
		free(from);
		return l2_finish(resp, SPF_PERMERROR, "no client IP address");
	}
	if (SPF_request_set_env_from(sr, sender) != SPF_E_SUCCESS)
		PANIC("out of memory");
	if (req->helo != NULL && *req->helo != '\0' &&
	    SPF_request_set_helo_dom(sr, req->helo) != SPF_E_SUCCESS)
		PANIC("out of memory");

	/*
	 * SPF_request_query_mailfrom() without its loopback pass, and with
	 * the domain asked for (%{d}) rather than the sender's.
	 */
	r = SPF_response_new(sr);
	if (r == NULL)
		PANIC("out of memory");
	sr->cur_dom = domain;
	err = SPF_server_get_record(sp, sr, r, &rec);
	if (err == SPF_E_SUCCESS && rec != NULL) {
		r->spf_record_exp = rec;
		err = SPF_record_interpret(rec, sr, r, 0);
		r->spf_record_exp = NULL;
		SPF_record_free(rec);
	} else if (rec != NULL) {
		SPF_record_free(rec);
	}

	result = l2_result(r, err);
	if (ctx.stop != NULL) {
		result = SPF_PERMERROR;
		l2_finish(resp, result, ctx.stop);
	}
	resp->lookups = r->num_dns_mech;
	if (result == SPF_FAIL && r->explanation != NULL &&
	    r->explanation[0] != '\0' && resp->explanation == NULL)
		resp->explanation = xstrdup(r->explanation);
	if ((result == SPF_TEMPERROR || result == SPF_PERMERROR) &&
	    resp->problem == NULL)
		resp->problem = l2_problem(r, err);

	SPF_response_free(r);
	SPF_request_free(sr);
	SPF_server_free(sp);
	free(from);
	return l2_finish(resp, result, NULL);
}
