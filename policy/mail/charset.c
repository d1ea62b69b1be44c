/*
 * charset - text in some charset to UTF-8 (see charset.h).
 *
 * The iconv loop converts in chunks of 256 bytes, so the output bound is
 * checked between chunks and no conversion runs past max by more than a
 * chunk; an invalid byte is skipped and replaced, one at a time, so every
 * turn of the loop moves on.  Nothing is logged here.
 */
#include "config.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>

#include "charset.h"
#include "util.h"

/* charset_utf8_len - length of the UTF-8 character at s, 0 if malformed */
size_t
charset_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 1;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 2;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 3;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n <= need || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i <= need; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return need + 1;
}

/* charset_name_ok - a charset token iconv_open() may see */
int
charset_name_ok(const char *name, size_t len)
{
	if (len == 0 || len > CHARSET_NAME_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !(c >= '0' && c <= '9') && strchr("-_.:+", c) == NULL)
			return 0;
	}
	return 1;
}

/* charset_iconv - convert to UTF-8 through iconv, bounded */
long
charset_iconv(struct sbuf *out, const unsigned char *b, size_t n,
	      const char *name, size_t max)
{
	char chunk[256], *in = (char *)b, *o;
	size_t inleft = n, oleft, start = out->len, rc;
	long bad = 0;
	int done = 0;
	iconv_t cd;

	if (name == NULL || !charset_name_ok(name, strlen(name)) ||
	    (cd = iconv_open("UTF-8", name)) == (iconv_t)-1)
		return -1;
	while (!done && out->len - start < max) {
		o = chunk;
		oleft = sizeof(chunk);
		if (inleft > 0)
			rc = iconv(cd, &in, &inleft, &o, &oleft);
		else {
			rc = iconv(cd, NULL, NULL, &o, &oleft);	/* shift back */
			done = 1;
		}
		sbuf_append(out, chunk, sizeof(chunk) - oleft);
		if (rc != (size_t)-1 || errno == E2BIG)
			continue;
		/* EILSEQ: a byte that is no character; EINVAL: cut short */
		sbuf_puts(out, CHARSET_REPLACEMENT);
		bad++;
		if (errno == EILSEQ && inleft > 0) {
			in++;
			inleft--;
		} else
			inleft = 0;
	}
	iconv_close(cd);
	return bad;
}

/* charset_utf8_clean - copy well-formed UTF-8, replace the rest */
size_t
charset_utf8_clean(struct sbuf *out, const unsigned char *b, size_t n,
		   size_t max)
{
	size_t i = 0, k, start = out->len, bad = 0, run;

	while (i < n && out->len - start < max) {
		/* a run of plain ASCII in one append */
		for (run = i; run < n && b[run] >= 0x20 && b[run] < 0x7f; run++)
			;
		if (run > i) {
			k = run - i;
			if (k > max - (out->len - start))
				k = max - (out->len - start);
			sbuf_append(out, b + i, k);
			i += k;
			continue;
		}
		if (b[i] == '\t' || b[i] == '\n' || b[i] == 0x7f) {
			sbuf_append(out, b[i] == 0x7f ? " " : (const char *)b + i, 1);
			i++;
		} else if (b[i] == '\r') {
			i++;
		} else if (b[i] < 0x20) {
			sbuf_append(out, " ", 1);
			i++;
		} else if ((k = charset_utf8_len(b + i, n - i)) > 0) {
			sbuf_append(out, b + i, k);
			i += k;
		} else {
			sbuf_puts(out, CHARSET_REPLACEMENT);
			bad++;
			i++;
		}
	}
	return bad;
}
