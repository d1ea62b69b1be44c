/*
 * dmarcrec - the DMARC policy record (RFC 9989 section 4.7): dmarc_parse()
 * and the policy names (see dmarc.h).  Pure: no DNS, no allocation, so
 * the fuzz harness (tests/fuzz/fuzz_dmarc.c) takes it alone.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dmarc.h"

#define DMARC_TXT_MAX		4096	/* longer TXT records are not ours */

static const char *const dmarc_policy_names[] = {
	[DMARC_P_NONE] = "none", [DMARC_P_QUARANTINE] = "quarantine",
	[DMARC_P_REJECT] = "reject",
};

/* dmarc_policy_name - "none", "quarantine", "reject" */
const char *
dmarc_policy_name(enum dmarc_policy p)
{
	return dmarc_policy_names[p];
}

/* dmarc_wsp - RFC 9989's WSP (the ABNF allows it around "=" and ";") */
static int
dmarc_wsp(int c)
{
	return c == ' ' || c == '\t';
}

/* dmarc_value_is - a tag value, compared without regard to ASCII case */
static int
dmarc_value_is(const char *v, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(v, word, n) == 0;
}

/* dmarc_policy_value - p=, sp=, np=; -1 when not a policy word */
static int
dmarc_policy_value(const char *v, size_t n)
{
	for (int i = DMARC_P_NONE; i <= DMARC_P_REJECT; i++)
		if (dmarc_value_is(v, n, dmarc_policy_names[i]))
			return i;
	return -1;
}

/*
 * dmarc_parse - tag=value pairs separated by ";" with WSP around both.
 * Reading: a tag seen twice makes the record broken (which of the two
 * would apply is a guess); unknown tags are ignored (RFC 9989 says
 * so); a known tag with a bad value is ignored and its default applies,
 * a missing or bad p= is p=none (RFC 9989 made p= optional).
 */
int
dmarc_parse(const char *txt, size_t len, struct dmarc_record *r,
	    char *why, size_t whylen)
{
	static const char *const known[] = {
		"v", "p", "sp", "np", "adkim", "aspf", "psd", "t", "pct",
		"rua", "ruf", "fo", "rf", "ri",
	};
	unsigned seen = 0;
	size_t i = 0;
	int first = 1;

	memset(r, 0, sizeof(*r));
	r->psd = 'u';
	r->pct = -1;
	snprintf(why, whylen, "%s", "");
	if (len > DMARC_TXT_MAX || memchr(txt, '\0', len) != NULL)
		return 0;
	while (i <= len) {
		size_t ts, te, vs, ve, end;
		int k = -1;

		end = i;
		while (end < len && txt[end] != ';')
			end++;
		while (i < end && dmarc_wsp(txt[i]))
			i++;
		ts = i;
		while (i < end && (isalnum((unsigned char)txt[i]) ||
				   txt[i] == '_'))
			i++;
		te = i;
		while (i < end && dmarc_wsp(txt[i]))
			i++;
		if (ts == end) {	/* empty: "a=b;;" or a final ";" */
			if (first)
				return 0;
			i = end + 1;
			continue;
		}
		if (te == ts || i == end || txt[i] != '=') {
			if (first)
				return 0;
			/* not a tag: ignored, as syntax errors may be */
			i = end + 1;
			continue;
		}
		vs = i + 1;
		while (vs < end && dmarc_wsp(txt[vs]))
			vs++;
		ve = end;
		while (ve > vs && dmarc_wsp(txt[ve - 1]))
			ve--;
		for (size_t j = 0; j < sizeof(known) / sizeof(known[0]); j++)
			if (dmarc_value_is(txt + ts, te - ts, known[j]))
				k = (int)j;
		if (first) {
			/* v=DMARC1 first, or this is no DMARC record */
			if (k != 0 || !dmarc_value_is(txt + vs, ve - vs,
						      "DMARC1"))
				return 0;
			first = 0;
		} else if (k >= 0) {
			const char *v = txt + vs;
			size_t n = ve - vs;
			int pv = dmarc_policy_value(v, n);

			if (seen & (1u << k)) {
				snprintf(why, whylen, "tag %s given twice",
					 known[k]);
				return -1;
			}
			seen |= 1u << k;
			switch (k) {
			case 0:
				snprintf(why, whylen, "v= given twice");
				return -1;
			case 1:
				if (pv >= 0) {
					r->p = (enum dmarc_policy)pv;
					r->has_p = 1;
				}
				break;
			case 2:
				if (pv >= 0) {
					r->sp = (enum dmarc_policy)pv;
					r->has_sp = 1;
				}
				break;
			case 3:
				if (pv >= 0) {
					r->np = (enum dmarc_policy)pv;
					r->has_np = 1;
				}
				break;
			case 4:
			case 5:
				if (dmarc_value_is(v, n, "s") ||
				    dmarc_value_is(v, n, "r"))
					*(k == 4 ? &r->adkim_strict :
					  &r->aspf_strict) =
					    dmarc_value_is(v, n, "s");
				break;
			case 6:
				if (n == 1 && strchr("ynuYNU", *v))
					r->psd = (char)tolower((unsigned char)*v);
				break;
			case 7:
				if (dmarc_value_is(v, n, "y") ||
				    dmarc_value_is(v, n, "n"))
					r->testing = dmarc_value_is(v, n, "y");
				break;
			case 8: {
				int pct = 0;
				size_t j;

				for (j = 0; j < n && j < 4 &&
				     isdigit((unsigned char)v[j]); j++)
					pct = pct * 10 + (v[j] - '0');
				if (n > 0 && j == n && pct <= 100)
					r->pct = pct;
				break;
			}
			case 9:
				r->has_rua = n > 0;
				break;
			default:
				break;
			}
		}
		i = end + 1;
	}
	if (first)
		return 0;
	if (!r->has_p)
		r->p = DMARC_P_NONE;
	return 1;
}
