/*
 * dnslist - DNS blocklist definitions, query names, answer codes (see
 * dnslist.h).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "dnslist.h"
#include "resolver.h"
#include "util.h"

/* the well-known "query refused" answers when a list names none */
static const struct dnslist_range dnslist_blocked_default[] = {
	{ 0x7fffff00u, 0x7fffffffu },	/* 127.255.255.0/24: Spamhaus */
	{ 0x7f000001u, 0x7f000001u },	/* 127.0.0.1: URIBL, SURBL */
};

/* dnslist_ip4 - "a.b.c.d" to a host-order number; -1 if not one */
static int
dnslist_ip4(const char *s, size_t len, uint32_t *out)
{
	char buf[16];
	struct netaddr a;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (netaddr_parse(buf, &a) != 0 || a.family != AF_INET)
		return -1;
	*out = ((uint32_t)a.addr[0] << 24) | ((uint32_t)a.addr[1] << 16) |
	    ((uint32_t)a.addr[2] << 8) | a.addr[3];
	return 0;
}

/* dnslist_octet - a decimal 0-255 of exactly len bytes; -1 if not */
static int
dnslist_octet(const char *s, size_t len)
{
	int n = 0;

	if (len == 0 || len > 3)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		n = n * 10 + (s[i] - '0');
	}
	return n <= 255 ? n : -1;
}

/*
 * dnslist_code - one item of CODES into a range or a mask; -1 with why.
 * Forms: A.B.C.D, A.B.C.D-A.B.C.D, A.B.C.D-N, A.B.C.[N..M], &N, any.
 */
static int
dnslist_code(const char *s, size_t len, struct dnslist_rule *r,
	     int allow_any, char *why, size_t whylen)
{
	struct dnslist_range rg;
	const char *dash = memchr(s, '-', len), *br = memchr(s, '[', len);
	int n, m;

	if (len == 3 && strncasecmp(s, "any", 3) == 0 && allow_any) {
		r->any = 1;
		return 0;
	}
	if (len > 1 && s[0] == '&') {
		if ((n = dnslist_octet(s + 1, len - 1)) <= 0)
			goto bad;
		r->mask |= (unsigned)n;
		return 0;
	}
	if (br != NULL) {
		/* 127.0.0.[2..11] */
		const char *dots = memmem(br, len - (size_t)(br - s), "..", 2);
		const char *end = s + len - 1;

		char base[20];

		if (dots == NULL || *end != ']' ||
		    (size_t)(br - s) + 2 > sizeof(base))
			goto bad;
		/* the address with 0 for the bracket: 127.0.0.0 */
		memcpy(base, s, (size_t)(br - s));
		base[br - s] = '0';
		base[br - s + 1] = '\0';
		if (dnslist_ip4(base, strlen(base), &rg.lo) != 0 ||
		    (rg.lo & 0xffu) != 0)
			goto bad;
		n = dnslist_octet(br + 1, (size_t)(dots - br - 1));
		m = dnslist_octet(dots + 2, (size_t)(end - dots - 2));
		if (n < 0 || m < n)
			goto bad;
		rg.hi = rg.lo + (uint32_t)m;
		rg.lo += (uint32_t)n;
	} else if (dash != NULL) {
		size_t rest = len - (size_t)(dash - s) - 1;

		if (dnslist_ip4(s, (size_t)(dash - s), &rg.lo) != 0)
			goto bad;
		if (dnslist_ip4(dash + 1, rest, &rg.hi) != 0) {
			if ((n = dnslist_octet(dash + 1, rest)) < 0)
				goto bad;
			rg.hi = (rg.lo & 0xffffff00u) | (uint32_t)n;
		}
		if (rg.hi < rg.lo)
			goto bad;
	} else {
		if (dnslist_ip4(s, len, &rg.lo) != 0)
			goto bad;
		rg.hi = rg.lo;
	}
	if ((rg.lo >> 24) != 127 || (rg.hi >> 24) != 127) {
		snprintf(why, whylen, "answer code \"%.*s\" is outside "
			 "127.0.0.0/8 (RFC 5782: never a listing)", (int)len, s);
		return -1;
	}
	r->ranges = xrealloc(r->ranges, (r->nranges + 1) * sizeof(rg));
	r->ranges[r->nranges++] = rg;
	return 0;
bad:
	snprintf(why, whylen, "bad answer code \"%.*s\": want 127.0.0.2, "
		 "127.0.0.4-7, 127.0.0.[4..7], &8 or any", (int)len, s);
	return -1;
}

/* dnslist_codes - "CODE,CODE..." into r; -1 with why */
static int
dnslist_codes(const char *s, size_t len, struct dnslist_rule *r,
	      int allow_any, char *why, size_t whylen)
{
	const char *end = s + len;

	if (len == 0) {
		snprintf(why, whylen, "no answer codes before \"=\"");
		return -1;
	}
	while (s < end) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		const char *stop = comma ? comma : end;

		if (dnslist_code(s, (size_t)(stop - s), r, allow_any, why,
				 whylen) != 0)
			return -1;
		s = comma ? comma + 1 : end;
	}
	return 0;
}

/* dnslist_word_ok - NAME: letters, digits, "-", "_", "." */
static int
dnslist_word_ok(const char *w)
{
	size_t n = strlen(w);

	if (n == 0 || n > 64)
		return 0;
	for (; *w; w++)
		if (!isalnum((unsigned char)*w) && !strchr("-_.", *w))
			return 0;
	return 1;
}

/* dnslist_symbol_ok - SYMBOL: A-Z, 0-9, "_", a letter first */
static int
dnslist_symbol_ok(const char *s, size_t n)
{
	if (n == 0 || n > DNSLIST_SYMBOL_MAX || !isupper((unsigned char)*s))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isupper((unsigned char)s[i]) &&
		    !isdigit((unsigned char)s[i]) && s[i] != '_')
			return 0;
	return 1;
}

/* dnslist_what - "client,uri" to flags; 0 if a word is unknown */
static unsigned
dnslist_what_parse(const char *s)
{
	static const struct { const char *w; unsigned f; } words[] = {
		{ "client", DNSLIST_CLIENT }, { "helo", DNSLIST_HELO },
		{ "sender", DNSLIST_SENDER }, { "uri", DNSLIST_URI },
	};
	unsigned what = 0;

	while (*s) {
		size_t n = strcspn(s, ","), i;

		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (strlen(words[i].w) == n &&
			    strncasecmp(s, words[i].w, n) == 0)
				break;
		if (i == sizeof(words) / sizeof(words[0]))
			return 0;
		what |= words[i].f;
		s += n;
		if (*s == ',')
			s++;
	}
	return what;
}

/* dnslist_rule_parse - "CODES=SYMBOL:WEIGHT" appended to l; -1 with why */
static int
dnslist_rule_parse(struct dnslist *l, const char *item, char *why,
		   size_t whylen)
{
	const char *eq = strchr(item, '='), *colon;
	struct dnslist_rule r;
	char *end;
	size_t n;

	memset(&r, 0, sizeof(r));
	colon = eq ? strchr(eq, ':') : NULL;
	if (eq == NULL || colon == NULL) {
		snprintf(why, whylen, "bad item \"%.64s\": want "
			 "CODES=SYMBOL:WEIGHT, reject or blocked=CODES", item);
		return -1;
	}
	if (l->nrules >= DNSLIST_RULES_MAX) {
		snprintf(why, whylen, "more than %d rules", DNSLIST_RULES_MAX);
		return -1;
	}
	if (dnslist_codes(item, (size_t)(eq - item), &r, 1, why, whylen) != 0)
		goto fail;
	n = (size_t)(colon - eq - 1);
	if (!dnslist_symbol_ok(eq + 1, n)) {
		snprintf(why, whylen, "bad symbol \"%.*s\": want capitals, "
			 "digits and \"_\", a letter first, at most %d", (int)n,
			 eq + 1, DNSLIST_SYMBOL_MAX);
		goto fail;
	}
	errno = 0;
	r.weight = strtod(colon + 1, &end);
	if (colon[1] == '\0' || *end != '\0' || errno || !isfinite(r.weight) ||
	    r.weight < -1000 || r.weight > 1000) {
		snprintf(why, whylen, "bad weight \"%.32s\" for %.*s: want a "
			 "number from -1000 to 1000", colon + 1, (int)n,
			 eq + 1);
		goto fail;
	}
	r.symbol = xstrndup(eq + 1, n);
	for (size_t i = 0; i < l->nrules; i++)
		if (strcmp(l->rules[i].symbol, r.symbol) == 0 &&
		    l->rules[i].weight != r.weight) {
			snprintf(why, whylen, "symbol %s has two weights",
				 r.symbol);
			free(r.symbol);
			goto fail;
		}
	l->rules = xrealloc(l->rules, (l->nrules + 1) * sizeof(r));
	l->rules[l->nrules++] = r;
	return 0;
fail:
	free(r.ranges);
	return -1;
}

int
dnslist_parse(const char *text, struct dnslist *l, char *why, size_t whylen)
{
	char *copy = xstrdup(text), *save = NULL, *tok;
	int field = 0, rc = -1;

	memset(l, 0, sizeof(*l));
	for (tok = strtok_r(copy, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save), field++) {
		if (field == 0) {
			if (!dnslist_word_ok(tok)) {
				snprintf(why, whylen, "bad list name \"%.64s\": "
					 "want letters, digits, \"-\", \"_\", "
					 "\".\"", tok);
				goto out;
			}
			l->name = xstrdup(tok);
		} else if (field == 1) {
			size_t n = strlen(tok);

			if (n > 0 && tok[n - 1] == '.')
				tok[--n] = '\0';
			for (char *p = tok; *p; p++)
				*p = (char)tolower((unsigned char)*p);
			if (!dns_name_ok(tok) || strchr(tok, '.') == NULL ||
			    n > 200) {
				snprintf(why, whylen, "list %s: bad zone "
					 "\"%.64s\"", l->name, tok);
				goto out;
			}
			l->zone = xstrdup(tok);
		} else if (field == 2) {
			if ((l->what = dnslist_what_parse(tok)) == 0) {
				snprintf(why, whylen, "list %s: bad \"%.64s\": "
					 "want client, helo, sender or uri "
					 "(comma-separated)", l->name, tok);
				goto out;
			}
		} else if (strcasecmp(tok, "reject") == 0) {
			l->reject = 1;
		} else if (strncasecmp(tok, "reject=", 7) == 0) {
			struct dnslist_rule b;

			memset(&b, 0, sizeof(b));
			if (dnslist_codes(tok + 7, strlen(tok + 7), &b, 0, why,
					  whylen) != 0 || b.mask != 0) {
				if (b.mask != 0)
					snprintf(why, whylen, "reject= takes "
						 "addresses and ranges, not &N");
				free(b.ranges);
				goto prefix;
			}
			l->reject = 1;
			free(l->reject_codes);
			l->reject_codes = b.ranges;
			l->nreject_codes = b.nranges;
		} else if (strncasecmp(tok, "blocked=", 8) == 0) {
			struct dnslist_rule b;

			memset(&b, 0, sizeof(b));
			if (dnslist_codes(tok + 8, strlen(tok + 8), &b, 0, why,
					  whylen) != 0 || b.mask != 0) {
				if (b.mask != 0)
					snprintf(why, whylen, "blocked= takes "
						 "addresses and ranges, not &N");
				free(b.ranges);
				goto prefix;
			}
			free(l->blocked);
			l->blocked = b.ranges;
			l->nblocked = b.nranges;
		} else if (dnslist_rule_parse(l, tok, why, whylen) != 0) {
			goto prefix;
		}
	}
	if (field < 3) {
		snprintf(why, whylen, "want NAME ZONE WHAT CODES=SYMBOL:WEIGHT "
			 "...");
		goto out;
	}
	if (l->nrules == 0) {
		snprintf(why, whylen, "list %s: no CODES=SYMBOL:WEIGHT rule",
			 l->name);
		goto out;
	}
	if (l->reject && !(l->what & DNSLIST_CLIENT)) {
		snprintf(why, whylen, "list %s: reject is for client lists "
			 "only", l->name);
		goto out;
	}
	rc = 0;
	goto out;
prefix:
	{
		char inner[256];

		util_strlcpy(inner, why, sizeof(inner));
		snprintf(why, whylen, "list %s: %s", l->name, inner);
	}
out:
	free(copy);
	if (rc != 0)
		dnslist_free(l);
	return rc;
}

void
dnslist_free(struct dnslist *l)
{
	for (size_t i = 0; i < l->nrules; i++) {
		free(l->rules[i].ranges);
		free(l->rules[i].symbol);
	}
	free(l->rules);
	free(l->reject_codes);
	free(l->blocked);
	free(l->name);
	free(l->zone);
	memset(l, 0, sizeof(*l));
}

int
dnslist_ip_name(const struct netaddr *a, const char *zone, char *out,
		size_t size)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					    0xff, 0xff };
	struct netaddr v4;

	if (a->family == AF_INET6 && memcmp(a->addr, mapped, 12) == 0) {
		/* ::ffff:a.b.c.d is listed as a.b.c.d */
		memset(&v4, 0, sizeof(v4));
		v4.family = AF_INET;
		memcpy(v4.addr, a->addr + 12, 4);
		a = &v4;
	}
	if (netaddr_reverse(a, zone, out, size) != 0 || !dns_name_ok(out))
		return -1;
	return 0;
}

int
dnslist_domain_name(const char *domain, const char *zone, char *out,
		    size_t size)
{
	size_t n = strlen(domain), o = 0, label = 0;
	int dots = 0;

	while (n > 0 && domain[n - 1] == '.')
		n--;
	if (n == 0 || n + strlen(zone) + 2 > size)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)domain[i];

		if (c == '.') {
			if (label == 0)
				return -1;
			dots++;
			label = 0;
		} else if (isalnum(c) || c == '-' || c == '_') {
			label++;
		} else {
			return -1;
		}
		out[o++] = (char)tolower(c);
	}
	if (dots == 0 || label == 0)
		return -1;
	out[o++] = '.';
	memcpy(out + o, zone, strlen(zone) + 1);
	return dns_name_ok(out) ? 0 : -1;
}

/* dnslist_in - is v in one of the ranges */
static int
dnslist_in(const struct dnslist_range *r, size_t n, uint32_t v)
{
	for (size_t i = 0; i < n; i++)
		if (v >= r[i].lo && v <= r[i].hi)
			return 1;
	return 0;
}

int
dnslist_rejects(const struct dnslist *l, const struct netaddr *a)
{
	uint32_t v;

	if (!l->reject || a->family != AF_INET)
		return 0;
	if (l->reject_codes == NULL)
		return 1;
	v = ((uint32_t)a->addr[0] << 24) | ((uint32_t)a->addr[1] << 16) |
	    ((uint32_t)a->addr[2] << 8) | a->addr[3];
	return dnslist_in(l->reject_codes, l->nreject_codes, v);
}

enum dnslist_match
dnslist_match(const struct dnslist *l, const struct netaddr *a,
	      uint32_t *hits)
{
	uint32_t v;
	int any = -1;

	*hits = 0;
	if (a->family != AF_INET || a->addr[0] != 127)
		return DNSLIST_NOT_LOCAL;
	v = ((uint32_t)a->addr[0] << 24) | ((uint32_t)a->addr[1] << 16) |
	    ((uint32_t)a->addr[2] << 8) | a->addr[3];
	if (l->blocked ? dnslist_in(l->blocked, l->nblocked, v) :
	    dnslist_in(dnslist_blocked_default,
		       sizeof(dnslist_blocked_default) /
		       sizeof(dnslist_blocked_default[0]), v)) {
		/* a rule naming the code itself wins over the default */
		int named = 0;

		for (size_t i = 0; !l->blocked && i < l->nrules; i++)
			if (dnslist_in(l->rules[i].ranges,
				       l->rules[i].nranges, v)) {
				*hits |= 1u << i;
				named = 1;
			}
		return named ? DNSLIST_LISTED : DNSLIST_BLOCKED;
	}
	for (size_t i = 0; i < l->nrules; i++) {
		const struct dnslist_rule *r = &l->rules[i];

		if (r->any && any < 0)
			any = (int)i;
		if (dnslist_in(r->ranges, r->nranges, v) ||
		    (r->mask & (v & 0xffu)) != 0)
			*hits |= 1u << i;
	}
	if (*hits == 0 && any >= 0)
		*hits = 1u << any;
	return *hits ? DNSLIST_LISTED : DNSLIST_NONE;
}
