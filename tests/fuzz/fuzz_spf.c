/*
 * fuzz_spf - the SPF evaluator (policy/checks/spf/spf.c; with -DFUZZ_SPF_LIBSPF2 the
 * libspf2 engine, policy/spf_libspf2.c) against a DNS made of the input.
 *
 * Feeds: byte 0 chooses the scenario, the rest is split at "\n" into up to
 * 32 records R0..Rn-1 that a fake struct spf_dns serves:
 *   TXT  the sender's domain (email.example.com) gets R0; a name whose first
 *        label is "rN" gets R(N mod n); any other name a record or
 *        NXDOMAIN/NODATA chosen by a hash of the name.  A 0x1e byte splits
 *        a record into several TXT strings of one answer (several SPF
 *        records, or SPF beside other text); NUL bytes stay in the data.
 *   A, AAAA, MX, PTR  answers chosen by a hash of the name: the client's
 *        address or others, up to 12 records, NODATA, NXDOMAIN, a CNAME
 *        beside the data, and (flag) TEMPFAIL or TIMEOUT.  MX and PTR names
 *        are mostly fixed, sometimes taken from a record and escaped as the
 *        real resolver's dns_wire_name() does, so they are names a real
 *        answer could carry.
 * Byte 0: bits 0-1 client (192.0.2.3, 2001:db8::cb01, ::ffff:192.0.2.3,
 * 198.51.100.99); bit 2 null sender (the HELO identity then); bit 3 also
 * spf_eval_helo(); bit 4 addresses never match the client; bit 5 DNS may
 * fail; bit 7 MAIL FROM is the last record and HELO the one before (SMTP
 * text is hostile too).
 *
 * Invariants beyond "no crash, no leak":
 *   - the result is one of enum spf_result and equals resp.result;
 *   - identity is "mailfrom" or "helo", domain and sender are set;
 *   - problem is set exactly for temperror and permerror, an explanation
 *     only for fail, and it is printable ASCII (it goes into a 550 reply;
 *     RG_FUZZ_KNOWN=spf2-exp lets the known libspf2-engine bug pass);
 *   - the trace is bounded (32 KB plus one line) and printable ASCII
 *     lines: spf.c escapes every byte it did not choose;
 *   - built-in engine: at most 10 DNS-querying terms, at most 2 void
 *     lookups plus the one that made it a permerror (RFC 7208 4.6.4);
 *   - the fake DNS is asked at most 1000 times per evaluation; the built-in
 *     engine asks only for names that dns_name_ok() accepts (spf_query
 *     filters the rest); others get DNS_BADNAME, as resolver_query gives.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "resolver.h"
#include "spf.h"
#include "util.h"

#define FZ_MAXREC	32
#define FZ_TRACE_MAX	(32768 + 2048)	/* SPF_TRACE_MAX in spf.c + a line */
#define FZ_MAXQUERIES	1000

#ifdef FUZZ_SPF_LIBSPF2
#define FZ_ENGINE	SPF_ENGINE_LIBSPF2
#else
#define FZ_ENGINE	SPF_ENGINE_BUILTIN
#endif

struct fzrec {
	const char	*p;
	size_t		n;
};

struct fzdns {
	struct fzrec	rec[FZ_MAXREC];
	size_t		nrec;
	unsigned	flags;
	struct netaddr	client;
	unsigned	queries;
};

static const char *const clients[] = {
	"192.0.2.3", "2001:db8::cb01", "::ffff:192.0.2.3", "198.51.100.99",
};

/* rr_add - one more record in an answer */
static struct dns_rr *
rr_add(struct dns_answer *out, int type)
{
	struct dns_rr *rr;

	out->rr = xrealloc(out->rr, (out->count + 1) * sizeof(*rr));
	rr = &out->rr[out->count++];
	memset(rr, 0, sizeof(*rr));
	rr->type = type;
	return rr;
}

/* wire_name - bytes as the labels of a name, escaped as dns_wire_name does */
static char *
wire_name(const char *p, size_t n)
{
	struct sbuf out;
	size_t wire = 1, label = 0;

	sbuf_init(&out);
	for (size_t i = 0; i < n && wire < 255; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '.' && label > 0) {
			sbuf_append(&out, ".", 1);
			label = 0;
			continue;
		}
		if (label == 63)
			continue;
		label++;
		wire++;
		if (c == '.' || c == '\\') {
			sbuf_append(&out, "\\", 1);
			sbuf_append(&out, &c, 1);
		} else if (c <= 0x20 || c >= 0x7f) {
			sbuf_printf(&out, "\\%03u", c);
		} else {
			sbuf_append(&out, &c, 1);
		}
	}
	return out.len ? sbuf_steal(&out) : (sbuf_free(&out), xstrdup("x"));
}

/* first_label_index - "r12.anything" gives 12, else -1 */
static long
first_label_index(const char *name)
{
	long n = 0;
	const char *p = name + 1;

	if (name[0] != 'r' && name[0] != 'R')
		return -1;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9' && n < 1000000; p++)
		n = n * 10 + (*p - '0');
	return *p == '.' || *p == '\0' ? n : -1;
}

static void
answer_txt(struct fzdns *z, const struct fzrec *r, struct dns_answer *out)
{
	const char *p = r->p, *end = r->p + r->n;

	for (;;) {
		const char *sep = memchr(p, 0x1e, (size_t)(end - p));
		size_t n = sep ? (size_t)(sep - p) : (size_t)(end - p);
		struct dns_rr *rr = rr_add(out, DNS_T_TXT);

		rr->txt = xmalloc(n + 1);
		memcpy(rr->txt, p, n);
		rr->txt[n] = '\0';
		rr->txtlen = n;
		if (sep == NULL || out->count >= DNS_RR_MAX)
			break;
		p = sep + 1;
	}
	(void)z;
}

static void
answer_addr(struct fzdns *z, int type, uint32_t h, struct dns_answer *out)
{
	int family = type == DNS_T_A ? AF_INET : AF_INET6;
	size_t n = 1 + (h >> 8) % (h & 0x40 ? 12 : 3);

	for (size_t i = 0; i < n; i++) {
		struct dns_rr *rr = rr_add(out, type);

		rr->addr.family = family;
		if (i == 0 && !(z->flags & 0x10) && (h & 3) != 3 &&
		    z->client.family == family) {
			rr->addr = z->client;
			continue;
		}
		if (family == AF_INET) {
			uint8_t a[4] = { 198, 51, 100, (uint8_t)(i + (h >> 16)) };

			memcpy(rr->addr.addr, a, 4);
		} else {
			inet_pton(AF_INET6, "2001:db8:ffff::", rr->addr.addr);
			rr->addr.addr[15] = (uint8_t)(i + (h >> 16));
			/* sometimes the client's /64, not the client */
			if (z->client.family == AF_INET6 && (h & 0x80))
				memcpy(rr->addr.addr, z->client.addr, 8);
		}
	}
}

static void
answer_names(struct fzdns *z, int type, const char *name, uint32_t h,
	     struct dns_answer *out)
{
	static const char *const fixed[] = {
		"mail.example.com", "email.example.com", "r1.example.com",
		"mx.example.org", "a.b", "example.com",
	};
	size_t n = 1 + (h >> 8) % 12;

	for (size_t i = 0; i < n; i++) {
		struct dns_rr *rr = rr_add(out, type);

		if (type == DNS_T_MX)
			rr->pref = (int)((h >> (i % 16)) & 0xff);
		if (i == 0 && (h & 0x100) && z->nrec > 0) {
			const struct fzrec *r = &z->rec[(h >> 12) % z->nrec];

			rr->name = wire_name(r->p, r->n);
		} else if (i == 1 && (h & 0x200)) {
			char buf[300];

			snprintf(buf, sizeof(buf), "mx%zu.%.250s", i, name);
			rr->name = xstrdup(buf);
		} else {
			rr->name = xstrdup(fixed[(i + h) %
					   (sizeof(fixed) / sizeof(fixed[0]))]);
		}
	}
}

static enum dns_status
fz_query(void *ctx, const char *name, int type, struct dns_answer *out)
{
	struct fzdns *z = ctx;
	uint32_t h = fz_hash(name, strlen(name), (uint32_t)type * 0x9e3779b9u);
	long idx;

	memset(out, 0, sizeof(*out));
	z->queries++;
	FZ_CHECK(z->queries <= FZ_MAXQUERIES, "over %d DNS queries",
		 FZ_MAXQUERIES);
#ifndef FUZZ_SPF_LIBSPF2
	/* spf.c's spf_query() promises not to ask for such names */
	FZ_CHECK(dns_name_ok(name), "asked DNS for a bad name \"%s\"", name);
#endif
	if (!dns_name_ok(name)) {		/* as resolver_query() does */
		out->status = DNS_BADNAME;
		out->why = xstrdup("not a valid domain name");
		return out->status;
	}
	if ((z->flags & 0x20) && (h >> 28) == 15) {
		out->status = (h & 1) ? DNS_TIMEOUT : DNS_TEMPFAIL;
		out->why = xstrdup("fuzz failure");
		return out->status;
	}
	if (h & 0x400)		/* an alias in front of the data */
		rr_add(out, DNS_T_CNAME)->name = xstrdup("alias.example.net");
	switch (type) {
	case DNS_T_TXT:
		idx = first_label_index(name);
		if (idx >= 0 && z->nrec > 0) {
			answer_txt(z, &z->rec[(size_t)idx % z->nrec], out);
		} else if (strcasecmp(name, "email.example.com") == 0 &&
			   z->nrec > 0) {
			answer_txt(z, &z->rec[0], out);
		} else {
			size_t pick = (h >> 4) % (z->nrec + 2);

			if (pick < z->nrec)
				answer_txt(z, &z->rec[pick], out);
			else if (pick == z->nrec)
				goto nxdomain;
		}
		break;
	case DNS_T_A:
	case DNS_T_AAAA:
		switch ((h >> 4) % 8) {
		case 5: break;				/* NODATA */
		case 6: goto nxdomain;
		default: answer_addr(z, type, h, out); break;
		}
		break;
	case DNS_T_MX:
	case DNS_T_PTR:
		switch ((h >> 4) % 6) {
		case 4: break;
		case 5: goto nxdomain;
		default: answer_names(z, type, name, h, out); break;
		}
		break;
	default:
		break;					/* SPF (99): NODATA */
	}
	out->status = DNS_OK;
	for (size_t i = 0; i < out->count; i++)
		if (out->rr[i].type == type)
			return out->status;
	out->status = DNS_NODATA;
	return out->status;
nxdomain:
	dns_answer_free(out);
	out->status = DNS_NXDOMAIN;
	out->rcode = 3;
	return out->status;
}

static void
check_response(const struct spf_response *r, enum spf_result res,
	       const char *identity)
{
	FZ_CHECK(res >= SPF_NONE && res <= SPF_PERMERROR, "result %d",
		 (int)res);
	FZ_CHECK(r->result == res, "resp.result %d, returned %d",
		 (int)r->result, (int)res);
	FZ_CHECK(r->identity && strcmp(r->identity, identity) == 0,
		 "identity %s", r->identity ? r->identity : "(null)");
	FZ_CHECK(r->domain != NULL && r->sender != NULL, "domain or sender "
		 "unset");
	if (res == SPF_TEMPERROR || res == SPF_PERMERROR)
		FZ_CHECK(r->problem != NULL, "%s without a problem",
			 spf_result_name(res));
	else
		FZ_CHECK(r->problem == NULL, "%s with problem \"%s\"",
			 spf_result_name(res), r->problem);
	if (r->explanation != NULL) {
		FZ_CHECK(res == SPF_FAIL, "explanation for %s",
			 spf_result_name(res));
		if (!fz_printable(r->explanation, strlen(r->explanation), 0) &&
		    !(FZ_ENGINE == SPF_ENGINE_LIBSPF2 && fz_known("spf2-exp"))) {
			char safe[4 * 1024 + 1];

			util_sanitize(safe, sizeof(safe), r->explanation,
				      strlen(r->explanation));
			FZ_CHECK(0, "explanation not printable ASCII: \"%s\"",
				 safe);
		}
	}
	FZ_CHECK(r->trace.len <= FZ_TRACE_MAX, "trace of %zu bytes",
		 r->trace.len);
	FZ_CHECK(fz_printable(r->trace.data ? r->trace.data : "",
			      r->trace.len, 1),
		 "trace holds a byte that is not printable ASCII");
#ifndef FUZZ_SPF_LIBSPF2
	FZ_CHECK(r->lookups >= 0 && r->lookups <= 10, "%d DNS-querying terms",
		 r->lookups);
	FZ_CHECK(r->void_lookups >= 0 && r->void_lookups <= 3,
		 "%d void lookups", r->void_lookups);
#endif
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fzdns z;
	struct spf_dns dns = { &z, fz_query };
	struct spf_request req;
	struct spf_response resp;
	enum spf_result res;
	char *from = NULL, *helo = NULL;
	const char *p, *end;

	if (size < 1)
		return 0;
	memset(&z, 0, sizeof(z));
	z.flags = data[0];
	p = (const char *)data + 1;
	end = (const char *)data + size;
	while (p <= end && z.nrec < FZ_MAXREC) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		z.rec[z.nrec].p = p;
		z.rec[z.nrec].n = n;
		z.nrec++;
		if (nl == NULL)
			break;
		p = nl + 1;
	}

	memset(&req, 0, sizeof(req));
	if (netaddr_parse(clients[z.flags & 3], &req.ip) != 0)
		abort();
	z.client = req.ip;
	req.receiver = "mx.example.org";
	req.now = 1700000000;
	if ((z.flags & 0x80) && z.nrec >= 3) {
		/* cut at NUL and at the MTA's bounds (msg.c) */
		const struct fzrec *f = &z.rec[z.nrec - 1], *hl = &z.rec[z.nrec - 2];

		from = xstrndup(f->p, f->n > 1024 ? 1024 : f->n);
		helo = xstrndup(hl->p, hl->n > 255 ? 255 : hl->n);
		z.nrec -= 2;
	} else {
		from = xstrdup("strong-bad@email.example.com");
		helo = xstrdup("r2.example.net");
	}
	req.mail_from = (z.flags & 0x04) ? "" : from;
	req.helo = helo;

	spf_response_init(&resp);
	res = spf_eval(FZ_ENGINE, &dns, &req, &resp);
	check_response(&resp, res, "mailfrom");
	spf_response_free(&resp);

	if (z.flags & 0x08) {
		z.queries = 0;
		spf_response_init(&resp);
		res = spf_eval_helo(FZ_ENGINE, &dns, &req, &resp);
		check_response(&resp, res, "helo");
		spf_response_free(&resp);
	}
	free(from);
	free(helo);
	return 0;
}
