/*
 * casefold - Postfix-compatible case folding (see casefold.h).
 *
 * ICU's u_strFoldCase() with U_FOLD_CASE_DEFAULT is what Postfix's
 * casefold() runs (through ucasemap_utf8FoldCase).  The UTF-16 functions
 * keep no state, so any thread may call them.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/ustring.h>
#include <unicode/uchar.h>

#include "casefold.h"
#include "util.h"

int
casefold_valid_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		uint32_t c = *p;
		int n;

		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3;
		else
			return 0;
		if (end - p <= n)
			return 0;
		c &= 0x3f >> n;
		for (int i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			c = (c << 6) | (p[i] & 0x3f);
		}
		/* overlong forms, surrogates, past U+10FFFF */
		if ((n == 2 && c < 0x800) || (n == 3 && c < 0x10000) ||
		    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
			return 0;
		p += n + 1;
	}
	return 1;
}

/* cf_ascii - ASCII lowercase copy */
static char *
cf_ascii(const char *s, size_t len)
{
	char *out = xstrndup(s, len);

	for (char *p = out; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return out;
}

/* cf_icu - full case folding of valid UTF-8; NULL if ICU refuses it */
static char *
cf_icu(const char *s, size_t len)
{
	UErrorCode e = U_ZERO_ERROR;
	int32_t n16 = 0, nf = 0, n8 = 0;
	UChar *u = NULL, *f = NULL;
	char *out = NULL;

	if (len > INT32_MAX / 4)
		return NULL;
	/* UTF-8 to UTF-16 never grows the count of units */
	u = xmalloc(((size_t)len + 1) * sizeof(UChar));
	u_strFromUTF8(u, (int32_t)len + 1, &n16, s, (int32_t)len, &e);
	if (U_FAILURE(e))
		goto done;
	/* folding may expand a unit to three ("ΐ"); preflight to be exact */
	nf = u_strFoldCase(NULL, 0, u, n16, U_FOLD_CASE_DEFAULT, &e);
	if (e != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(e))
		goto done;
	e = U_ZERO_ERROR;
	f = xmalloc(((size_t)nf + 1) * sizeof(UChar));
	u_strFoldCase(f, nf + 1, u, n16, U_FOLD_CASE_DEFAULT, &e);
	if (U_FAILURE(e))
		goto done;
	u_strToUTF8(NULL, 0, &n8, f, nf, &e);
	if (e != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(e))
		goto done;
	e = U_ZERO_ERROR;
	out = xmalloc((size_t)n8 + 1);
	u_strToUTF8(out, n8 + 1, &n8, f, nf, &e);
	if (U_FAILURE(e)) {
		free(out);
		out = NULL;
	} else {
		out[n8] = '\0';
	}
done:
	free(u);
	free(f);
	return out;
}

char *
casefold_len(const char *s, size_t len)
{
	char *out;
	size_t i;

	for (i = 0; i < len && (unsigned char)s[i] < 0x80; i++)
		;
	if (i == len || !casefold_valid_utf8(s, len) ||
	    memchr(s, '\0', len) != NULL || (out = cf_icu(s, len)) == NULL)
		return cf_ascii(s, len);
	return out;
}

char *
casefold(const char *s)
{
	return casefold_len(s, strlen(s));
}

int
casefold_eq(const char *a, const char *b)
{
	char *fa = casefold(a), *fb = casefold(b);
	int eq = strcmp(fa, fb) == 0;

	free(fa);
	free(fb);
	return eq;
}
