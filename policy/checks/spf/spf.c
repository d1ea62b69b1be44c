/*
 * spf - the built-in RFC 7208 evaluator (see spf.h).
 *
 * check_host() in three steps per domain: fetch the one "v=spf1" TXT
 * record, check the syntax of the whole record (any error anywhere is a
 * permerror, section 4.6), then evaluate its terms left to right.  The
 * record is walked twice instead of being parsed into a table, so a 64 KB
 * record costs no more memory than its own copy.
 *
 * Nothing here trusts DNS data or the SMTP identities: macro expansion
 * writes into fixed buffers of SPF_EXPAND_MAX bytes and fails when a
 * result would not fit; names are cut to 253 bytes as section 7.3 says;
 * include and redirect recurse at most SPF_MAX_DEPTH deep (the lookup
 * limit of 10 stops loops first, the depth bound is the backstop); at
 * most 10 MX or PTR names are looked at per term.  The trace of DNS
 * queries is bounded too and escapes every byte it did not choose.
 *
 * Readings of the RFC that are choices are marked "Reading:" below.
 *
 * Diagnostics: none logged; permerror and temperror carry a short reason
 * in resp->problem.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "spf.h"
#include "util.h"

#define SPF_MAX_LOOKUPS	10	/* section 4.6.4 */
#define SPF_MAX_VOID	2
#define SPF_MAX_NAMES	10	/* MX and PTR names per term */
#define SPF_MAX_DEPTH	12	/* include/redirect nesting */
#define SPF_NAME_MAX	253
#define SPF_TRACE_MAX	32768
#define SPF_PROBLEM_MAX	256
#define SPF_TIME_MAX_MS	20000	/* whole check_host(), section 4.6.4 */

/* the macro letters each context allows (section 7.1) */
enum spf_kind { KIND_DOMAIN, KIND_EXP, KIND_MODIFIER };

static const char *const kind_letters[] = {
	[KIND_DOMAIN] = "slodipvh",
	[KIND_EXP] = "slodipvhcrt",
	[KIND_MODIFIER] = "slodipvhcrt",
};

enum spf_mech {
	MECH_ALL, MECH_INCLUDE, MECH_A, MECH_MX, MECH_PTR, MECH_IP4,
	MECH_IP6, MECH_EXISTS,
};

static const struct {
	const char	*name;
	enum spf_mech	mech;
} mech_table[] = {
	{ "all", MECH_ALL }, { "include", MECH_INCLUDE }, { "a", MECH_A },
	{ "mx", MECH_MX }, { "ptr", MECH_PTR }, { "ip4", MECH_IP4 },
	{ "ip6", MECH_IP6 }, { "exists", MECH_EXISTS },
};

enum spf_term_kind { TERM_MECH, TERM_REDIRECT, TERM_EXP, TERM_MODIFIER };

/* spf_term - one term of a record, pointing into the record text */
struct spf_term {
	enum spf_term_kind kind;
	enum spf_mech	mech;
	enum spf_result	qual;
	const char	*text;		/* the whole term */
	size_t		textlen;
	const char	*spec;		/* domain-spec, or NULL for <domain> */
	size_t		speclen;
	int		cidr4, cidr6;
	struct netaddr	net;		/* ip4, ip6 */
	int		prefix;
};

/* spf_record - a selected record, checked */
struct spf_record {
	char		*text;
	size_t		len;
	const char	*redirect, *exp;	/* domain-specs, or NULL */
	size_t		redirectlen, explen;
};

/* spf_ctx - one evaluation: the identities, the counters, the trace */
struct spf_ctx {
	const struct spf_dns	*dns;
	const struct spf_request *req;
	struct spf_response	*resp;
	struct netaddr		ip;	/* v4-mapped folded to IPv4 */
	char			*sender, *local, *sdomain;
	int			lookups, voids;
	struct timespec		start;
	int			expired;	/* SPF_TIME_MAX_MS passed */
	char			problem[SPF_PROBLEM_MAX];
	int			p_done;	/* %{p} cached for p_domain */
	char			p_domain[SPF_NAME_MAX + 1];
	char			p_name[SPF_NAME_MAX + 1];
};

/* ---------------------------------------------------------------------
 * Small helpers
 */

static int
spf_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int
spf_isdigit(int c)
{
	return c >= '0' && c <= '9';
}

static int
spf_isalpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
spf_isalnum(int c)
{
	return spf_isalpha(c) || spf_isdigit(c);
}

/*
 * spf_problem - remember why the result is an error; the first reason
 * wins.  Names in it may come from DNS or the sender: any byte that is
 * not printable ASCII becomes '?', so the text is safe for logs.
 */
static enum spf_result
spf_problem(struct spf_ctx *c, enum spf_result r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum spf_result
spf_problem(struct spf_ctx *c, enum spf_result r, const char *fmt, ...)
{
	va_list ap;

	if (c->problem[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(c->problem, sizeof(c->problem), fmt, ap);
		va_end(ap);
		for (char *p = c->problem; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
				*p = '?';
	}
	return r;
}

/* spf_safe - printable copy of untrusted text for problems and traces */
static const char *
spf_safe(char *buf, size_t size, const char *s, size_t len)
{
	util_sanitize(buf, size, s, len);
	return buf;
}

/* spf_toplabel_ok - toplabel as in section 7.1, the last label of a name */
static int
spf_toplabel_ok(const char *s, size_t len)
{
	int alpha = 0, dash = 0;

	if (len == 0 || !spf_isalnum((unsigned char)s[0]) ||
	    !spf_isalnum((unsigned char)s[len - 1]))
		return 0;
	for (size_t i = 0; i < len; i++) {
		int ch = (unsigned char)s[i];

		if (ch == '-')
			dash = 1;
		else if (spf_isalpha(ch))
			alpha = 1;
		else if (!spf_isdigit(ch))
			return 0;
	}
	return alpha || dash;
}

/*
 * spf_name_ok - can this be a query name: 1..253 bytes, labels 1..63, and
 * (unlike dns_name_ok) no final dot: SPF targets are written without one
 */
static int
spf_name_ok(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && name[len - 1] != '.' && dns_name_ok(name);
}

/*
 * spf_domain_ok - section 4.3: a <domain> check_host() can work on.
 * Reading: besides the DNS rules (labels of 1..63 bytes, 253 in all) the
 * name must be made of visible ASCII, have two labels or more, and end in
 * a toplabel as the domain-spec grammar defines it; so "[1.2.3.5]",
 * "1.2.3.5" and "A2345678" give "none".
 */
static int
spf_domain_ok(const char *name)
{
	const char *dot;

	if (!spf_name_ok(name))
		return 0;
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return 0;
	dot = strrchr(name, '.');
	if (dot == NULL)
		return 0;
	return spf_toplabel_ok(dot + 1, strlen(dot + 1));
}

/* spf_strip_dot - drop one final dot (the root) */
static void
spf_strip_dot(char *name)
{
	size_t len = strlen(name);

	if (len > 0 && name[len - 1] == '.')
		name[len - 1] = '\0';
}

/* spf_tail_match - is name the domain or one of its subdomains */
static int
spf_tail_match(const char *name, const char *domain)
{
	size_t n = strlen(name), d = strlen(domain);

	if (n == d)
		return strcasecmp(name, domain) == 0;
	return n > d && name[n - d - 1] == '.' &&
	       strcasecmp(name + n - d, domain) == 0;
}

/* spf_ip_match - does ip fall in net/prefix (same family only) */
static int
spf_ip_match(const struct netaddr *ip, const struct netaddr *net, int prefix)
{
	int bytes = prefix / 8, bits = prefix % 8;

	if (ip->family != net->family)
		return 0;
	if (memcmp(ip->addr, net->addr, (size_t)bytes) != 0)
		return 0;
	if (bits == 0)
		return 1;
	uint8_t mask = (uint8_t)(0xff << (8 - bits));
	return (ip->addr[bytes] & mask) == (net->addr[bytes] & mask);
}

/* spf_fold - an IPv4-mapped IPv6 address is the IPv4 address (5/9/2) */
static void
spf_fold(struct netaddr *ip)
{
	static const uint8_t mapped[12] = { 0,0,0,0,0,0,0,0,0,0,0xff,0xff };

	if (ip->family == AF_INET6 && memcmp(ip->addr, mapped, 12) == 0) {
		memmove(ip->addr, ip->addr + 12, 4);
		memset(ip->addr + 4, 0, 12);
		ip->family = AF_INET;
	}
}

/* spf_reverse_name - the in-addr.arpa or ip6.arpa name of the client */
static void
spf_reverse_name(const struct netaddr *ip, char *buf, size_t size)
{
	if (netaddr_reverse(ip, ip->family == AF_INET ? "in-addr.arpa" :
			    "ip6.arpa", buf, size) != 0 && size > 0)
		buf[0] = '\0';
}

/* ---------------------------------------------------------------------
 * DNS: every query goes through spf_query, which traces it
 */

static const char *
spf_type_name(int type)
{
	switch (type) {
	case DNS_T_A:		return "A";
	case DNS_T_AAAA:	return "AAAA";
	case DNS_T_MX:		return "MX";
	case DNS_T_PTR:		return "PTR";
	case DNS_T_TXT:		return "TXT";
	case DNS_T_SPF:		return "SPF";
	case DNS_T_CNAME:	return "CNAME";
	default:		return "?";
	}
}


/* spf_count - records of the asked type (an answer may carry CNAMEs) */
static size_t
spf_count(const struct dns_answer *ans, int type)
{
	size_t n = 0;

	for (size_t i = 0; i < ans->count; i++)
		if (ans->rr[i].type == type)
			n++;
	return n;
}

/* spf_trace - one line per query, bounded */
static void
spf_trace(struct spf_ctx *c, int type, const char *name, enum dns_status st,
	  size_t n, const struct dns_answer *ans)
{
	struct sbuf *t = &c->resp->trace;
	char safe[SPF_NAME_MAX * 4 + 8];

	if (t->len >= SPF_TRACE_MAX)
		return;
	spf_safe(safe, sizeof(safe), name, strlen(name));
	sbuf_printf(t, "%s %s -> %s %zu%s\n", spf_type_name(type), safe,
		    dns_status_name(st), n, ans && ans->bogus ? " (DNSSEC bogus)" :
		    ans && ans->secure ? " (DNSSEC secure)" : "");
	if (t->len >= SPF_TRACE_MAX)
		sbuf_puts(t, "... trace truncated\n");
}

/*
 * spf_expired - has this check_host() run for SPF_TIME_MAX_MS.  PTR
 * terms skip names whose queries fail, so without this bound a record
 * could chain about 110 slow queries.
 */
static int
spf_expired(struct spf_ctx *c)
{
	struct timespec now;
	long long ms;

	if (c->expired)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(now.tv_sec - c->start.tv_sec) * 1000 +
	     (now.tv_nsec - c->start.tv_nsec) / 1000000;
	if (ms >= SPF_TIME_MAX_MS) {
		c->expired = 1;
		spf_problem(c, SPF_TEMPERROR, "check_host() took more than %d "
			    "s", SPF_TIME_MAX_MS / 1000);
	}
	return c->expired;
}

/*
 * spf_query - ask DNS; an OK answer with no record of the type is NODATA.
 * A name DNS cannot carry is not asked (DNS_BADNAME).  The caller frees
 * ans with dns_answer_free().
 */
static enum dns_status
spf_query(struct spf_ctx *c, const char *name, int type,
	  struct dns_answer *ans)
{
	enum dns_status st;
	size_t n = 0;

	memset(ans, 0, sizeof(*ans));
	if (!spf_name_ok(name)) {
		ans->status = DNS_BADNAME;
		spf_trace(c, type, name, DNS_BADNAME, 0, NULL);
		return DNS_BADNAME;
	}
	if (spf_expired(c)) {
		ans->status = DNS_TIMEOUT;
		spf_trace(c, type, name, DNS_TIMEOUT, 0, NULL);
		return DNS_TIMEOUT;
	}
	st = c->dns->query(c->dns->ctx, name, type, ans);
	if (st == DNS_OK) {
		n = spf_count(ans, type);
		if (n == 0)
			st = DNS_NODATA;
	}
	ans->status = st;
	spf_trace(c, type, name, st, n, ans);
	return st;
}

/* spf_dns_error - a DNS failure that makes the result temperror */
static int
spf_dns_error(enum dns_status st)
{
	return st == DNS_TEMPFAIL || st == DNS_TIMEOUT;
}

/* spf_void - count a void lookup (NXDOMAIN or no data); 0, or -1 over */
static int
spf_void(struct spf_ctx *c, const char *name)
{
	char safe[128];

	if (++c->voids > SPF_MAX_VOID) {
		spf_problem(c, SPF_PERMERROR, "more than %d void lookups (at "
			    "%s)", SPF_MAX_VOID,
			    spf_safe(safe, sizeof(safe), name, strlen(name)));
		return -1;
	}
	return 0;
}

/*
 * spf_lookup_term - count a DNS-querying term; -1 over the limit.
 * Reading: counted when the term is evaluated, not when the record is
 * parsed, so terms after a match never count (the suite's
 * include-at-limit); the 11th term is the permerror, before its query.
 */
static int
spf_lookup_term(struct spf_ctx *c, const struct spf_term *t)
{
	char safe[128];

	if (c->lookups >= SPF_MAX_LOOKUPS) {
		spf_problem(c, SPF_PERMERROR, "more than %d DNS lookups (at "
			    "%s)", SPF_MAX_LOOKUPS,
			    spf_safe(safe, sizeof(safe), t->text, t->textlen));
		return -1;
	}
	c->lookups++;
	return 0;
}

/* spf_has_addr - does name have the client's address (errors: no) */
static int
spf_has_addr(struct spf_ctx *c, const char *name)
{
	struct dns_answer ans;
	int type = c->ip.family == AF_INET ? DNS_T_A : DNS_T_AAAA, hit = 0;

	if (spf_query(c, name, type, &ans) == DNS_OK) {
		for (size_t i = 0; i < ans.count && !hit; i++)
			if (ans.rr[i].type == type &&
			    spf_ip_match(&c->ip, &ans.rr[i].addr,
					 type == DNS_T_A ? 32 : 128))
				hit = 1;
	}
	dns_answer_free(&ans);
	return hit;
}

/* spf_ptr_names - the first SPF_MAX_NAMES PTR names of the client */
static size_t
spf_ptr_names(struct spf_ctx *c, struct dns_answer *ans,
	      const char **names, int *is_void, char *rev, size_t revsize)
{
	size_t n = 0;
	enum dns_status st;

	spf_reverse_name(&c->ip, rev, revsize);
	st = spf_query(c, rev, DNS_T_PTR, ans);
	*is_void = st == DNS_NXDOMAIN || st == DNS_NODATA;
	if (st != DNS_OK)
		return 0;
	for (size_t i = 0; i < ans->count && n < SPF_MAX_NAMES; i++)
		if (ans->rr[i].type == DNS_T_PTR && ans->rr[i].name != NULL)
			names[n++] = ans->rr[i].name;
	return n;
}

/* spf_plain_name - a PTR name without its final dot, if it fits */
static int
spf_plain_name(const char *in, char *out, size_t size)
{
	if (util_strlcpy(out, in, size) >= size)
		return 0;
	spf_strip_dot(out);
	return spf_name_ok(out);
}

/*
 * spf_validated - %{p}: a validated name of the client (section 7.3):
 * <domain> itself first, then a subdomain of it, then any other; at most
 * 10 PTR names; "unknown" when none validates or DNS fails.
 * Reading: these queries count toward neither the 10 terms nor the void
 * limit (the term that uses %{p} is counted); the answer is kept for the
 * rest of the check as long as <domain> stays the same.
 */
static const char *
spf_validated(struct spf_ctx *c, const char *domain)
{
	struct dns_answer ans;
	const char *names[SPF_MAX_NAMES];
	char name[SPF_NAME_MAX + 2], rev[80];
	size_t n;
	int is_void;

	if (c->p_done && strcasecmp(c->p_domain, domain) == 0)
		return c->p_name;
	util_strlcpy(c->p_domain, domain, sizeof(c->p_domain));
	util_strlcpy(c->p_name, "unknown", sizeof(c->p_name));
	c->p_done = 1;
	n = spf_ptr_names(c, &ans, names, &is_void, rev, sizeof(rev));
	for (int pass = 0; pass < 3; pass++) {
		for (size_t i = 0; i < n; i++) {
			int exact, sub;

			if (!spf_plain_name(names[i], name, sizeof(name)))
				continue;
			exact = strcasecmp(name, domain) == 0;
			sub = !exact && spf_tail_match(name, domain);
			if ((pass == 0 && !exact) || (pass == 1 && !sub) ||
			    (pass == 2 && (exact || sub)))
				continue;
			if (spf_has_addr(c, name)) {
				util_strlcpy(c->p_name, name,
					     sizeof(c->p_name));
				goto out;
			}
		}
	}
out:
	dns_answer_free(&ans);
	return c->p_name;
}

/* ---------------------------------------------------------------------
 * Macros (section 7)
 */

/* spf_ip_text - %{i}: dotted quad, or 32 dot-separated nibbles */
static void
spf_ip_text(const struct netaddr *ip, char *buf, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	if (ip->family == AF_INET) {
		snprintf(buf, size, "%u.%u.%u.%u", ip->addr[0], ip->addr[1],
			 ip->addr[2], ip->addr[3]);
		return;
	}
	/*
	 * Reading: RFC 7208 shows lowercase nibbles in its examples, the test
	 * suite (v-macro-ip6) wants uppercase in explanations; DNS does not
	 * care, so uppercase it is.
	 */
	for (int i = 0; i < 16 && o + 4 < size; i++) {
		if (i > 0)
			buf[o++] = '.';
		buf[o++] = hex[ip->addr[i] >> 4];
		buf[o++] = '.';
		buf[o++] = hex[ip->addr[i] & 0xf];
	}
	buf[o] = '\0';
}

/* spf_macro_value - the raw value of a macro letter, or NULL if too long */
static const char *
spf_macro_value(struct spf_ctx *c, int letter, const char *domain, char *buf,
		size_t size)
{
	const struct spf_request *req = c->req;
	const char *v = NULL;

	switch (letter) {
	case 's':	v = c->sender; break;
	case 'l':	v = c->local; break;
	case 'o':	v = c->sdomain; break;
	case 'd':	v = domain; break;
	case 'h':	v = req->helo ? req->helo : ""; break;
	case 'v':	v = c->ip.family == AF_INET ? "in-addr" : "ip6"; break;
	case 'p':	v = spf_validated(c, domain); break;
	case 'r':
		v = req->receiver && *req->receiver ? req->receiver : "unknown";
		break;
	case 'i':
		spf_ip_text(&c->ip, buf, size);
		return buf;
	case 'c':
		netaddr_format(&c->ip, buf, size);
		return buf;
	case 't':
		snprintf(buf, size, "%lld",
			 (long long)(req->now ? req->now : time(NULL)));
		return buf;
	default:
		PANIC("macro letter %c", letter);
	}
	return strlen(v) < size ? v : NULL;
}

/* spf_put - append n bytes to out; -1 when out (size bytes) is full */
static int
spf_put(char *out, size_t size, size_t *o, const char *s, size_t n)
{
	if (out == NULL)
		return 0;
	if (n >= size - *o)
		return -1;
	memcpy(out + *o, s, n);
	*o += n;
	out[*o] = '\0';
	return 0;
}

/*
 * spf_transform - split value on the delimiters, maybe reverse, keep the
 * rightmost `keep` parts (0: all), join with "." and URL-escape if asked
 */
static int
spf_transform(const char *value, const char *delims, size_t keep, int reverse,
	      int escape, char *out, size_t size, size_t *o)
{
	uint16_t st[SPF_EXPAND_MAX + 1], ln[SPF_EXPAND_MAX + 1];
	size_t vlen = strlen(value), nparts = 0, first, b = 0;

	if (vlen > SPF_EXPAND_MAX)
		return -1;
	for (size_t i = 0; i <= vlen; i++) {
		if (i == vlen || strchr(delims, value[i]) != NULL) {
			st[nparts] = (uint16_t)b;
			ln[nparts] = (uint16_t)(i - b);
			nparts++;
			b = i + 1;
		}
	}
	first = keep > 0 && keep < nparts ? nparts - keep : 0;
	for (size_t k = first; k < nparts; k++) {
		size_t idx = reverse ? nparts - 1 - k : k;
		const char *p = value + st[idx];

		if (k > first && spf_put(out, size, o, ".", 1) != 0)
			return -1;
		for (size_t j = 0; j < ln[idx]; j++) {
			int ch = (unsigned char)p[j];
			char hexbuf[4];

			if (!escape || spf_isalnum(ch) || ch == '-' ||
			    ch == '.' || ch == '_' || ch == '~') {
				if (spf_put(out, size, o, p + j, 1) != 0)
					return -1;
				continue;
			}
			snprintf(hexbuf, sizeof(hexbuf), "%%%02X", ch);
			if (spf_put(out, size, o, hexbuf, 3) != 0)
				return -1;
		}
	}
	return 0;
}

/*
 * spf_expand - macro-string s[0..len) (section 7.1).  With c NULL it only
 * checks the syntax.  kind says which letters are allowed and whether a
 * space may appear (explanations only).  *tail (if not NULL) is set to
 * where the literal text after the last macro-expand begins (len if the
 * string ends in one).  0 on success, -1 on a syntax error, -2 if the
 * expansion does not fit out (size bytes with the NUL).
 */
static int
spf_expand(struct spf_ctx *c, const char *domain, const char *s, size_t len,
	   enum spf_kind kind, char *out, size_t size, size_t *tail)
{
	const char *letters = kind_letters[kind];
	size_t i = 0, o = 0, lit = 0;

	if (out != NULL)
		out[0] = '\0';
	while (i < len) {
		int ch = (unsigned char)s[i];

		if (ch != '%') {
			if (ch > 0x7e || ch < 0x20 ||
			    (ch == 0x20 && kind != KIND_EXP))
				return -1;
			if (spf_put(out, size, &o, s + i, 1) != 0)
				return -2;
			i++;
			continue;
		}
		if (i + 1 >= len)
			return -1;
		if (s[i + 1] != '{') {
			/* "%%" "%_" "%-" (section 7.1); anything else is bad */
			const char *rep = s[i + 1] == '%' ? "%" :
			    s[i + 1] == '_' ? " " : s[i + 1] == '-' ? "%20" :
			    NULL;

			if (rep == NULL)
				return -1;
			if (spf_put(out, size, &o, rep, strlen(rep)) != 0)
				return -2;
			i += 2;
			lit = i;
			continue;
		}
		i += 2;
		if (i >= len)
			return -1;

		int letter = (unsigned char)s[i++];
		int lower = spf_lower(letter);
		size_t keep = 0;
		int digits = 0, reverse = 0;
		char delims[8];
		size_t nd = 0;

		if (!spf_isalpha(letter) || strchr(letters, lower) == NULL)
			return -1;
		while (i < len && spf_isdigit((unsigned char)s[i])) {
			digits = 1;
			if (keep < 100000)
				keep = keep * 10 + (size_t)(s[i] - '0');
			i++;
		}
		if (digits && keep == 0)
			return -1;	/* "%{d0}": the DIGIT must be nonzero */
		if (i < len && (s[i] == 'r' || s[i] == 'R')) {
			reverse = 1;
			i++;
		}
		while (i < len && s[i] != '\0' &&
		       strchr(".-+,/_=", s[i]) != NULL) {
			if (memchr(delims, s[i], nd) == NULL &&
			    nd < sizeof(delims) - 1)
				delims[nd++] = s[i];
			i++;
		}
		delims[nd] = '\0';
		if (i >= len || s[i] != '}')
			return -1;
		i++;
		lit = i;
		if (c == NULL || out == NULL)
			continue;

		char vbuf[SPF_EXPAND_MAX + 1];
		const char *value = spf_macro_value(c, lower, domain, vbuf,
						    sizeof(vbuf));

		if (value == NULL)
			return -2;
		if (spf_transform(value, nd ? delims : ".", keep, reverse,
				  letter != lower, out, size, &o) != 0)
			return -2;
	}
	if (tail != NULL)
		*tail = lit;
	return 0;
}

/*
 * spf_domain_spec_ok - domain-spec = macro-string domain-end, where
 * domain-end is a macro-expand or "." toplabel ["."] (section 7.1)
 */
static int
spf_domain_spec_ok(const char *s, size_t len)
{
	size_t tail, n;
	const char *t, *dot = NULL;

	if (len == 0 || spf_expand(NULL, NULL, s, len, KIND_DOMAIN, NULL, 0,
				   &tail) != 0)
		return 0;
	if (tail == len)
		return 1;
	t = s + tail;
	n = len - tail;
	if (t[n - 1] == '.')
		n--;
	for (size_t i = 0; i < n; i++)
		if (t[i] == '.')
			dot = t + i;
	if (dot == NULL)
		return 0;
	return spf_toplabel_ok(dot + 1, (size_t)(t + n - (dot + 1)));
}

/*
 * spf_target - expand a domain-spec (or take <domain>) into a query name:
 * final dot dropped, labels cut from the left until it fits 253 bytes
 * (section 7.3).  0, or -1 with a permerror problem.
 * Reading: an expansion over SPF_EXPAND_MAX bytes is a permerror (the
 * record asks for something no DNS name can hold), never a silent
 * no-match that a long forged sender could use to slip past a "-" term.
 */
static int
spf_target(struct spf_ctx *c, const char *domain, const char *spec,
	   size_t speclen, char *name, size_t size)
{
	char safe[96];
	char *p;
	int rc;

	if (spec == NULL) {
		util_strlcpy(name, domain, size);
		return 0;
	}
	rc = spf_expand(c, domain, spec, speclen, KIND_DOMAIN, name, size,
			NULL);
	if (rc != 0) {
		spf_problem(c, SPF_PERMERROR, "%s macro expansion of \"%s\"",
			    rc == -1 ? "bad" : "too long",
			    spf_safe(safe, sizeof(safe), spec, speclen));
		return -1;
	}
	spf_strip_dot(name);
	p = name;
	while (strlen(p) > SPF_NAME_MAX) {
		char *dot = strchr(p, '.');

		if (dot == NULL)
			break;		/* one huge label: spf_name_ok says no */
		p = dot + 1;
	}
	if (p != name)
		memmove(name, p, strlen(p) + 1);
	return 0;
}

/* ---------------------------------------------------------------------
 * Record syntax (section 4.6, 5, 6, 12)
 */

/* spf_cidr - "/" 1*DIGIT, no leading zero, at most max; -1 if bad */
static int
spf_cidr(const char *s, size_t len, int max)
{
	int v = 0;

	if (len == 0 || len > 3 || (len > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!spf_isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

/* spf_digits_before - start of the run of digits that ends at end */
static size_t
spf_digits_before(const char *s, size_t end)
{
	while (end > 0 && spf_isdigit((unsigned char)s[end - 1]))
		end--;
	return end;
}

/*
 * spf_dual_cidr - strip [ "/" ip4-cidr ] [ "//" ip6-cidr ] from the end of
 * s[0..*len); -1 if a length is out of range or has a leading zero.
 * Reading: the grammar lets "/" sit inside a domain-spec, so only a final
 * "/digits" (and "//digits") is a CIDR length; "a:foo:bar/baz.example.com"
 * is a name.  A leading zero ("/032") is refused as ip4-network refuses
 * one (the suite's cidr4-032).
 */
static int
spf_dual_cidr(const char *s, size_t *len, int *cidr4, int *cidr6)
{
	size_t end = *len, d = spf_digits_before(s, end);

	*cidr4 = 32;
	*cidr6 = 128;
	if (d < end && d >= 2 && s[d - 1] == '/' && s[d - 2] == '/') {
		if ((*cidr6 = spf_cidr(s + d, end - d, 128)) < 0)
			return -1;
		end = d - 2;
		d = spf_digits_before(s, end);
	}
	if (d < end && d >= 1 && s[d - 1] == '/') {
		if ((*cidr4 = spf_cidr(s + d, end - d, 32)) < 0)
			return -1;
		end = d - 1;
	}
	*len = end;
	return 0;
}

/* spf_ip4_parse - ip4-network: four qnum, no leading zeros */
static int
spf_ip4_parse(const char *s, size_t len, struct netaddr *a)
{
	size_t i = 0;

	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	for (int part = 0; part < 4; part++) {
		size_t b = i;
		int v = 0;

		if (part > 0) {
			if (i >= len || s[i] != '.')
				return -1;
			b = ++i;
		}
		while (i < len && spf_isdigit((unsigned char)s[i]) && i - b < 3)
			v = v * 10 + (s[i++] - '0');
		if (i == b || v > 255 || (i - b > 1 && s[b] == '0'))
			return -1;
		a->addr[part] = (uint8_t)v;
	}
	return i == len ? 0 : -1;
}

/* spf_ip6_parse - ip6-network as RFC 4291 writes it */
static int
spf_ip6_parse(const char *s, size_t len, struct netaddr *a)
{
	char buf[64];

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(a, 0, sizeof(*a));
	a->family = AF_INET6;
	return inet_pton(AF_INET6, buf, a->addr) == 1 ? 0 : -1;
}

/* spf_ip_term - "ip4:" or "ip6:" network [cidr] */
static int
spf_ip_term(struct spf_term *t, const char *rest, size_t len)
{
	int v6 = t->mech == MECH_IP6, max = v6 ? 128 : 32;
	size_t netlen;
	const char *slash;

	if (len < 2 || rest[0] != ':')
		return -1;
	rest++;
	len--;
	slash = NULL;
	for (size_t i = 0; i < len; i++)
		if (rest[i] == '/')
			slash = rest + i;
	netlen = slash ? (size_t)(slash - rest) : len;
	t->prefix = max;
	if (slash != NULL &&
	    (t->prefix = spf_cidr(slash + 1, len - netlen - 1, max)) < 0)
		return -1;
	return v6 ? spf_ip6_parse(rest, netlen, &t->net)
		  : spf_ip4_parse(rest, netlen, &t->net);
}

/* spf_mechanism - parse the mechanism of a directive (qualifier taken) */
static int
spf_mechanism(struct spf_term *t, const char *s, size_t len, char *why,
	      size_t whylen)
{
	size_t n = 0, i;
	const char *rest;
	char safe[96];

	while (n < len && s[n] != ':' && s[n] != '/')
		n++;
	for (i = 0; i < sizeof(mech_table) / sizeof(mech_table[0]); i++)
		if (strlen(mech_table[i].name) == n &&
		    strncasecmp(mech_table[i].name, s, n) == 0)
			break;
	if (i == sizeof(mech_table) / sizeof(mech_table[0])) {
		snprintf(why, whylen, "unknown mechanism \"%s\"",
			 spf_safe(safe, sizeof(safe), s, len));
		return -1;
	}
	t->mech = mech_table[i].mech;
	rest = s + n;
	len -= n;
	t->spec = NULL;
	t->speclen = 0;
	t->cidr4 = 32;
	t->cidr6 = 128;
	switch (t->mech) {
	case MECH_ALL:
		if (len != 0)
			goto bad;
		return 0;
	case MECH_IP4:
	case MECH_IP6:
		if (spf_ip_term(t, rest, len) != 0)
			goto bad;
		return 0;
	case MECH_A:
	case MECH_MX:
		if (spf_dual_cidr(rest, &len, &t->cidr4, &t->cidr6) != 0)
			goto bad;
		/* FALLTHROUGH */
	case MECH_PTR:
		if (len == 0)
			return 0;
		/* FALLTHROUGH */
	case MECH_INCLUDE:
	case MECH_EXISTS:
		if (len < 2 || rest[0] != ':' ||
		    !spf_domain_spec_ok(rest + 1, len - 1))
			goto bad;
		t->spec = rest + 1;
		t->speclen = len - 1;
		return 0;
	}
bad:
	snprintf(why, whylen, "bad mechanism \"%s\"",
		 spf_safe(safe, sizeof(safe), t->text, t->textlen));
	return -1;
}

/* spf_term_parse - one term: a directive or a modifier */
static int
spf_term_parse(struct spf_term *t, const char *s, size_t len, char *why,
	       size_t whylen)
{
	size_t n = 0;
	char safe[96];

	memset(t, 0, sizeof(*t));
	t->text = s;
	t->textlen = len;
	/* name "=" : a modifier (section 4.6.1; name starts with ALPHA) */
	if (spf_isalpha((unsigned char)s[0])) {
		n = 1;
		while (n < len && (spf_isalnum((unsigned char)s[n]) ||
				   s[n] == '-' || s[n] == '_' || s[n] == '.'))
			n++;
	}
	if (n > 0 && n < len && s[n] == '=') {
		const char *v = s + n + 1;
		size_t vlen = len - n - 1;

		if (n == 8 && strncasecmp(s, "redirect", 8) == 0)
			t->kind = TERM_REDIRECT;
		else if (n == 3 && strncasecmp(s, "exp", 3) == 0)
			t->kind = TERM_EXP;
		else
			t->kind = TERM_MODIFIER;
		t->spec = v;
		t->speclen = vlen;
		if (t->kind != TERM_MODIFIER ? !spf_domain_spec_ok(v, vlen) :
		    spf_expand(NULL, NULL, v, vlen, KIND_MODIFIER, NULL, 0,
			       NULL) != 0) {
			snprintf(why, whylen, "bad modifier \"%s\"",
				 spf_safe(safe, sizeof(safe), s, len));
			return -1;
		}
		return 0;
	}
	t->kind = TERM_MECH;
	t->qual = SPF_PASS;
	switch (s[0]) {
	case '+': t->qual = SPF_PASS; s++; len--; break;
	case '-': t->qual = SPF_FAIL; s++; len--; break;
	case '~': t->qual = SPF_SOFTFAIL; s++; len--; break;
	case '?': t->qual = SPF_NEUTRAL; s++; len--; break;
	}
	return spf_mechanism(t, s, len, why, whylen);
}

/* spf_next_term - the next space-separated term at *pos; 0 at the end */
static int
spf_next_term(const char *rec, size_t len, size_t *pos, const char **term,
	      size_t *tlen)
{
	size_t i = *pos, b;

	while (i < len && rec[i] == ' ')
		i++;
	if (i >= len)
		return 0;
	b = i;
	while (i < len && rec[i] != ' ')
		i++;
	*term = rec + b;
	*tlen = i - b;
	*pos = i;
	return 1;
}

/* spf_is_record - "v=spf1" (any case) followed by a space or the end */
static int
spf_is_record(const char *txt, size_t len)
{
	return txt != NULL && len >= 6 && strncasecmp(txt, "v=spf1", 6) == 0 &&
	       (len == 6 || txt[6] == ' ');
}

/* spf_record_check - syntax of every term; redirect= and exp= found */
static int
spf_record_check(struct spf_record *rec, char *why, size_t whylen)
{
	size_t pos = 6, tlen;
	const char *term;
	struct spf_term t;

	rec->redirect = rec->exp = NULL;
	while (spf_next_term(rec->text, rec->len, &pos, &term, &tlen)) {
		if (spf_term_parse(&t, term, tlen, why, whylen) != 0)
			return -1;
		if (t.kind == TERM_REDIRECT || t.kind == TERM_EXP) {
			const char **slot = t.kind == TERM_REDIRECT ?
					     &rec->redirect : &rec->exp;

			if (*slot != NULL) {
				snprintf(why, whylen, "%s= more than once",
					 t.kind == TERM_REDIRECT ? "redirect" :
					 "exp");
				return -1;
			}
			*slot = t.spec;
			if (t.kind == TERM_REDIRECT)
				rec->redirectlen = t.speclen;
			else
				rec->explen = t.speclen;
		}
	}
	return 0;
}

/*
 * spf_fetch - section 4.4 and 4.5: the one SPF record of domain, checked.
 * SPF_PASS stands for "found" here; SPF_NONE, SPF_TEMPERROR or
 * SPF_PERMERROR otherwise.
 */
static enum spf_result
spf_fetch(struct spf_ctx *c, const char *domain, struct spf_record *rec)
{
	struct dns_answer ans;
	enum dns_status st;
	const struct dns_rr *pick = NULL;
	size_t found = 0;
	char why[SPF_PROBLEM_MAX - 64];

	st = spf_query(c, domain, DNS_T_TXT, &ans);
	if (spf_dns_error(st)) {
		dns_answer_free(&ans);
		return spf_problem(c, SPF_TEMPERROR, "DNS %s for TXT %s",
				   dns_status_name(st), domain);
	}
	for (size_t i = 0; st == DNS_OK && i < ans.count; i++) {
		if (ans.rr[i].type == DNS_T_TXT &&
		    spf_is_record(ans.rr[i].txt, ans.rr[i].txtlen)) {
			pick = &ans.rr[i];
			found++;
		}
	}
	if (found == 0) {
		dns_answer_free(&ans);
		return SPF_NONE;
	}
	if (found > 1) {
		dns_answer_free(&ans);
		return spf_problem(c, SPF_PERMERROR, "%zu SPF records for %s",
				   found, domain);
	}
	if (memchr(pick->txt, '\0', pick->txtlen) != NULL) {
		dns_answer_free(&ans);
		return spf_problem(c, SPF_PERMERROR, "NUL byte in the SPF "
				   "record of %s", domain);
	}
	rec->text = xstrndup(pick->txt, pick->txtlen);
	rec->len = pick->txtlen;
	dns_answer_free(&ans);
	if (spf_record_check(rec, why, sizeof(why)) != 0) {
		free(rec->text);
		rec->text = NULL;
		return spf_problem(c, SPF_PERMERROR, "%s: %s", domain, why);
	}
	return SPF_PASS;
}

/* ---------------------------------------------------------------------
 * Evaluation (section 4.6, 5, 6)
 */

static enum spf_result spf_host(struct spf_ctx *, const char *, int, char **,
				char **);

/*
 * spf_addr_term - "a" and each MX host: does name have a matching
 * address.  1 match, 0 none, -1 error (*err set).
 * Reading: a void lookup is counted for a term's own query only (the A or
 * AAAA of "a", the MX of "mx", the PTR of "ptr", the A of "exists"), as
 * 4.6.4 speaks of terms; the address queries of MX hosts and PTR names
 * are bounded by the 10-name limits instead.  A target that is no valid
 * DNS name after expansion (empty or 64+ byte label: the suite's
 * invalid-domain-* tests, "undefined" in the RFC) is not asked and does
 * not match, and is not a void lookup.
 */
static int
spf_addr_term(struct spf_ctx *c, const char *name, const struct spf_term *t,
	      int count_void, enum spf_result *err)
{
	struct dns_answer ans;
	int v4 = c->ip.family == AF_INET, type = v4 ? DNS_T_A : DNS_T_AAAA;
	int prefix = v4 ? t->cidr4 : t->cidr6, hit = 0;
	enum dns_status st = spf_query(c, name, type, &ans);

	if (spf_dns_error(st)) {
		*err = spf_problem(c, SPF_TEMPERROR, "DNS %s for %s %s",
				   dns_status_name(st), spf_type_name(type),
				   name);
		hit = -1;
	} else if (st == DNS_NXDOMAIN || st == DNS_NODATA) {
		if (count_void && spf_void(c, name) != 0) {
			*err = SPF_PERMERROR;
			hit = -1;
		}
	} else if (st == DNS_OK) {
		for (size_t i = 0; i < ans.count && !hit; i++)
			if (ans.rr[i].type == type &&
			    spf_ip_match(&c->ip, &ans.rr[i].addr, prefix))
				hit = 1;
	}
	/* DNS_BADNAME: a name DNS cannot hold does not exist; no match */
	dns_answer_free(&ans);
	return hit;
}

/*
 * spf_mx - section 5.4.  Reading: more than 10 MX records is a permerror
 * whatever their order (4.6.4 as the suite's mx-limit reads it), so the
 * result does not depend on the order DNS returns them in.  A null MX
 * (exchange "." or "") is skipped.
 */
static int
spf_mx(struct spf_ctx *c, const char *name, const struct spf_term *t,
       enum spf_result *err)
{
	struct dns_answer ans;
	enum dns_status st = spf_query(c, name, DNS_T_MX, &ans);
	int hit = 0;

	if (spf_dns_error(st)) {
		*err = spf_problem(c, SPF_TEMPERROR, "DNS %s for MX %s",
				   dns_status_name(st), name);
		hit = -1;
	} else if (st == DNS_NXDOMAIN || st == DNS_NODATA) {
		if (spf_void(c, name) != 0) {
			*err = SPF_PERMERROR;
			hit = -1;
		}
	} else if (st == DNS_OK && spf_count(&ans, DNS_T_MX) > SPF_MAX_NAMES) {
		*err = spf_problem(c, SPF_PERMERROR, "%s has more than %d MX "
				   "records", name, SPF_MAX_NAMES);
		hit = -1;
	} else if (st == DNS_OK) {
		for (size_t i = 0; i < ans.count && hit == 0; i++) {
			char host[SPF_NAME_MAX + 2];
			const struct dns_rr *rr = &ans.rr[i];

			if (rr->type != DNS_T_MX || rr->name == NULL)
				continue;
			if (util_strlcpy(host, rr->name, sizeof(host)) >=
			    sizeof(host))
				continue;
			spf_strip_dot(host);
			if (host[0] == '\0')
				continue;	/* null MX (RFC 7505) */
			hit = spf_addr_term(c, host, t, 0, err);
		}
	}
	dns_answer_free(&ans);
	return hit;
}

/*
 * spf_ptr - section 5.5: a validated PTR name ending in the target.
 * DNS errors never make a temperror here: a failed PTR query is no match,
 * a failed address query skips that name.  Only the first 10 PTR names
 * are looked at, in the order DNS gave them.
 */
static int
spf_ptr(struct spf_ctx *c, const char *target, enum spf_result *err)
{
	struct dns_answer ans;
	const char *names[SPF_MAX_NAMES];
	char name[SPF_NAME_MAX + 2], rev[80];
	int is_void, hit = 0;
	size_t n = spf_ptr_names(c, &ans, names, &is_void, rev, sizeof(rev));

	if (is_void && spf_void(c, rev) != 0) {
		*err = SPF_PERMERROR;
		hit = -1;
	}
	for (size_t i = 0; i < n && hit == 0; i++) {
		if (!spf_plain_name(names[i], name, sizeof(name)) ||
		    !spf_tail_match(name, target))
			continue;
		hit = spf_has_addr(c, name);
	}
	dns_answer_free(&ans);
	return hit;
}

/* spf_exists - section 5.7: any A record (even for an IPv6 client) */
static int
spf_exists(struct spf_ctx *c, const char *name, enum spf_result *err)
{
	struct dns_answer ans;
	enum dns_status st = spf_query(c, name, DNS_T_A, &ans);
	int hit = 0;

	if (spf_dns_error(st)) {
		*err = spf_problem(c, SPF_TEMPERROR, "DNS %s for A %s",
				   dns_status_name(st), name);
		hit = -1;
	} else if (st == DNS_NXDOMAIN || st == DNS_NODATA) {
		if (spf_void(c, name) != 0) {
			*err = SPF_PERMERROR;
			hit = -1;
		}
	} else if (st == DNS_OK) {
		hit = 1;
	}
	dns_answer_free(&ans);
	return hit;
}

/*
 * spf_include - section 5.2: pass matches; fail, softfail and neutral do
 * not; temperror stays temperror; permerror and none are permerror
 */
static int
spf_include(struct spf_ctx *c, const char *target, int depth,
	    enum spf_result *err)
{
	enum spf_result r = spf_host(c, target, depth + 1, NULL, NULL);

	switch (r) {
	case SPF_PASS:
		return 1;
	case SPF_FAIL:
	case SPF_SOFTFAIL:
	case SPF_NEUTRAL:
		return 0;
	case SPF_TEMPERROR:
		*err = SPF_TEMPERROR;
		return -1;
	case SPF_NONE:
		spf_problem(c, SPF_PERMERROR, "include:%s has no SPF record",
			    target);
		/* FALLTHROUGH */
	case SPF_PERMERROR:
		break;
	}
	*err = SPF_PERMERROR;
	return -1;
}

/* spf_mech_eval - one mechanism: 1 match, 0 no match, -1 error (*err) */
static int
spf_mech_eval(struct spf_ctx *c, const char *domain, int depth,
	      const struct spf_term *t, enum spf_result *err)
{
	char name[SPF_EXPAND_MAX + 1];

	switch (t->mech) {
	case MECH_ALL:
		return 1;
	case MECH_IP4:
	case MECH_IP6:
		return spf_ip_match(&c->ip, &t->net, t->prefix);
	default:
		break;
	}
	if (spf_lookup_term(c, t) != 0 ||
	    spf_target(c, domain, t->spec, t->speclen, name, sizeof(name))) {
		*err = SPF_PERMERROR;
		return -1;
	}
	switch (t->mech) {
	case MECH_INCLUDE:
		return spf_include(c, name, depth, err);
	case MECH_A:
		return spf_addr_term(c, name, t, 1, err);
	case MECH_MX:
		return spf_mx(c, name, t, err);
	case MECH_PTR:
		return spf_ptr(c, name, err);
	case MECH_EXISTS:
		return spf_exists(c, name, err);
	default:
		PANIC("mechanism %d", (int)t->mech);
	}
}

/*
 * spf_printable - printable ASCII only.  Reading: the explanation goes
 * into an SMTP reply, and macros bring in the sender's and the HELO's
 * bytes; an expansion holding anything else is dropped like any other
 * bad explanation.
 */
static int
spf_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/*
 * spf_explain - section 6.2: the exp= text for a fail, or NULL.  Any
 * problem (macro, DNS, not exactly one TXT record, bad explain-string,
 * bytes outside printable ASCII) drops the explanation silently; the
 * query counts toward no limit.
 */
static char *
spf_explain(struct spf_ctx *c, const char *domain,
	    const struct spf_record *rec)
{
	char name[SPF_EXPAND_MAX + 1], text[SPF_EXPAND_MAX + 1];
	char saved[SPF_PROBLEM_MAX];
	struct dns_answer ans;
	const struct dns_rr *rr = NULL;
	char *out = NULL;

	if (rec->exp == NULL)
		return NULL;
	memcpy(saved, c->problem, sizeof(saved));
	if (spf_target(c, domain, rec->exp, rec->explen, name,
		       sizeof(name)) != 0) {
		memcpy(c->problem, saved, sizeof(saved));
		return NULL;
	}
	if (spf_query(c, name, DNS_T_TXT, &ans) == DNS_OK &&
	    spf_count(&ans, DNS_T_TXT) == 1) {
		for (size_t i = 0; i < ans.count; i++)
			if (ans.rr[i].type == DNS_T_TXT)
				rr = &ans.rr[i];
	}
	if (rr != NULL && rr->txt != NULL &&
	    memchr(rr->txt, '\0', rr->txtlen) == NULL &&
	    spf_expand(c, domain, rr->txt, rr->txtlen, KIND_EXP, text,
		       sizeof(text), NULL) == 0 && spf_printable(text))
		out = xstrdup(text);
	dns_answer_free(&ans);
	return out;
}

/*
 * spf_host - check_host() for one domain.  mech and expl (may be NULL:
 * include wants neither) receive the deciding term and, for a fail, the
 * explanation; redirect passes them on, so the target's exp= is the one
 * used (section 6.2).
 */
static enum spf_result
spf_host(struct spf_ctx *c, const char *domain, int depth, char **mech,
	 char **expl)
{
	struct spf_record rec;
	enum spf_result r;
	struct spf_term t;
	const char *term;
	size_t pos = 6, tlen;
	char why[8];

	if (depth > SPF_MAX_DEPTH)
		return spf_problem(c, SPF_PERMERROR, "include/redirect nested "
				   "more than %d deep at %s", SPF_MAX_DEPTH,
				   domain);
	if (!spf_domain_ok(domain))
		return SPF_NONE;	/* section 4.3 */
	memset(&rec, 0, sizeof(rec));
	r = spf_fetch(c, domain, &rec);
	if (r != SPF_PASS)
		return r;
	while (spf_next_term(rec.text, rec.len, &pos, &term, &tlen)) {
		enum spf_result err = SPF_PERMERROR;
		int hit;

		if (spf_term_parse(&t, term, tlen, why, sizeof(why)) != 0)
			PANIC("SPF term changed after the check");
		if (t.kind != TERM_MECH)
			continue;
		hit = spf_mech_eval(c, domain, depth, &t, &err);
		if (c->expired) {
			hit = -1;
			err = SPF_TEMPERROR;
		}
		if (hit < 0) {
			free(rec.text);
			return err;
		}
		if (hit == 0)
			continue;
		if (mech != NULL) {
			free(*mech);
			*mech = xstrndup(t.text, t.textlen);
		}
		if (t.qual == SPF_FAIL && expl != NULL)
			*expl = spf_explain(c, domain, &rec);
		free(rec.text);
		return t.qual;
	}
	/*
	 * No mechanism matched.  An "all" anywhere would have matched, so
	 * reaching here means redirect= applies if there is one (6.1).
	 */
	if (rec.redirect != NULL) {
		char name[SPF_EXPAND_MAX + 1];
		struct spf_term rt;

		memset(&rt, 0, sizeof(rt));
		rt.text = "redirect";
		rt.textlen = 8;
		if (spf_lookup_term(c, &rt) != 0 ||
		    spf_target(c, domain, rec.redirect, rec.redirectlen, name,
			       sizeof(name)) != 0) {
			free(rec.text);
			return SPF_PERMERROR;
		}
		free(rec.text);
		r = spf_host(c, name, depth + 1, mech, expl);
		if (r == SPF_NONE)
			r = spf_problem(c, SPF_PERMERROR, "redirect=%s has no "
					"SPF record", name);
		return r;
	}
	free(rec.text);
	return SPF_NEUTRAL;		/* section 4.7 */
}

/* ---------------------------------------------------------------------
 * Interface
 */

void
spf_response_init(struct spf_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	resp->result = SPF_NONE;
	sbuf_init(&resp->trace);
}

void
spf_response_free(struct spf_response *resp)
{
	free(resp->domain);
	free(resp->identity);
	free(resp->sender);
	free(resp->mechanism);
	free(resp->explanation);
	free(resp->problem);
	sbuf_free(&resp->trace);
	spf_response_init(resp);
}

/* spf_set - replace a string field of the response */
static void
spf_set(char **field, const char *value)
{
	free(*field);
	*field = value ? xstrdup(value) : NULL;
}

enum spf_result
spf_check_host(const struct spf_dns *dns, const struct spf_request *req,
	       const char *domain, const char *sender,
	       struct spf_response *resp)
{
	struct spf_ctx c;
	char name[SPF_EXPAND_MAX + 1];
	char *mech = NULL, *expl = NULL;
	const char *at;
	enum spf_result r;

	memset(&c, 0, sizeof(c));
	c.dns = dns;
	c.req = req;
	c.resp = resp;
	c.ip = req->ip;
	spf_fold(&c.ip);
	clock_gettime(CLOCK_MONOTONIC, &c.start);
	if (sender == NULL)
		sender = "";

	/* <sender>: local-part "postmaster" when it has none (4.3) */
	at = strrchr(sender, '@');
	if (at == NULL) {
		c.local = xstrdup("postmaster");
		c.sdomain = xstrdup(sender);
	} else {
		c.local = at == sender ? xstrdup("postmaster") :
			  xstrndup(sender, (size_t)(at - sender));
		c.sdomain = xstrdup(at + 1);
	}
	c.sender = xmalloc(strlen(c.local) + strlen(c.sdomain) + 2);
	sprintf(c.sender, "%s@%s", c.local, c.sdomain);

	util_strlcpy(name, domain, sizeof(name));
	spf_strip_dot(name);
	if (c.ip.family != AF_INET && c.ip.family != AF_INET6) {
		r = spf_problem(&c, SPF_PERMERROR, "no client address");
	} else {
		r = spf_host(&c, name, 0, &mech, &expl);
	}

	resp->result = r;
	spf_set(&resp->domain, domain);
	spf_set(&resp->sender, c.sender);
	free(resp->mechanism);
	resp->mechanism = r == SPF_NONE ? NULL : mech;
	if (r == SPF_NONE)
		free(mech);
	free(resp->explanation);
	resp->explanation = r == SPF_FAIL ? expl : NULL;
	if (r != SPF_FAIL)
		free(expl);
	if (r == SPF_TEMPERROR || r == SPF_PERMERROR)
		spf_set(&resp->problem, c.problem[0] ? c.problem : "error");
	else
		spf_set(&resp->problem, NULL);
	resp->lookups = c.lookups;
	resp->void_lookups = c.voids;
	free(c.sender);
	free(c.local);
	free(c.sdomain);
	return r;
}

/* the libspf2 engine, in spf_libspf2.c */
enum spf_result spf_libspf2_eval(const struct spf_dns *,
				 const struct spf_request *, const char *domain,
				 const char *sender, struct spf_response *);

/* spf_run - one identity through the chosen engine */
static enum spf_result
spf_run(enum spf_engine engine, const struct spf_dns *dns,
	const struct spf_request *req, const char *identity,
	const char *domain, const char *sender, struct spf_response *resp)
{
	enum spf_result r;

	if (engine == SPF_ENGINE_LIBSPF2)
		r = spf_libspf2_eval(dns, req, domain, sender, resp);
	else
		r = spf_check_host(dns, req, domain, sender, resp);
	resp->result = r;
	spf_set(&resp->identity, identity);
	spf_set(&resp->domain, domain);
	spf_set(&resp->sender, sender);
	return r;
}

/*
 * spf_eval - the MAIL FROM identity.  Reading: a MAIL FROM without "@" is
 * taken as a domain with local-part "postmaster" (as pyspf does); the
 * null sender uses postmaster@HELO and still reports "mailfrom" (2.4).
 */
enum spf_result
spf_eval(enum spf_engine engine, const struct spf_dns *dns,
	 const struct spf_request *req, struct spf_response *resp)
{
	const char *from = req->mail_from ? req->mail_from : "";
	const char *helo = req->helo ? req->helo : "";
	const char *at = strrchr(from, '@'), *domain;
	char *sender;
	enum spf_result r;

	if (*from == '\0') {
		domain = helo;
		sender = xmalloc(strlen(helo) + 12);
		sprintf(sender, "postmaster@%s", helo);
	} else if (at == NULL || at == from) {
		domain = at ? at + 1 : from;
		sender = xmalloc(strlen(domain) + 12);
		sprintf(sender, "postmaster@%s", domain);
	} else {
		domain = at + 1;
		sender = xstrdup(from);
	}
	r = spf_run(engine, dns, req, "mailfrom", domain, sender, resp);
	free(sender);
	return r;
}

enum spf_result
spf_eval_helo(enum spf_engine engine, const struct spf_dns *dns,
	      const struct spf_request *req, struct spf_response *resp)
{
	const char *helo = req->helo ? req->helo : "";
	char *sender = xmalloc(strlen(helo) + 12);
	enum spf_result r;

	sprintf(sender, "postmaster@%s", helo);
	r = spf_run(engine, dns, req, "helo", helo, sender, resp);
	free(sender);
	return r;
}

static const char *const result_names[] = {
	[SPF_NONE] = "none", [SPF_NEUTRAL] = "neutral", [SPF_PASS] = "pass",
	[SPF_FAIL] = "fail", [SPF_SOFTFAIL] = "softfail",
	[SPF_TEMPERROR] = "temperror", [SPF_PERMERROR] = "permerror",
};

const char *
spf_result_name(enum spf_result r)
{
	if ((unsigned)r < sizeof(result_names) / sizeof(result_names[0]))
		return result_names[r];
	return "?";
}

int
spf_result_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(result_names) / sizeof(result_names[0]);
	     i++)
		if (strcasecmp(s, result_names[i]) == 0)
			return (int)i;
	return -1;
}
