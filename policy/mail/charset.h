/*
 * charset - text in some charset to UTF-8, bounded, for addr.c (encoded
 * words in display names) and mime.c (text parts).
 *
 * Conversions go through iconv(3) (glibc knows iso-8859-x, windows-125x,
 * koi8-r, Shift_JIS, ISO-2022-JP, UTF-16 ...), one descriptor per call,
 * so nothing is shared between threads.  A byte that is no character in
 * its charset becomes U+FFFD and is counted, so a caller can flag it.
 */
#ifndef RG_CHARSET_H
#define RG_CHARSET_H

#include <stddef.h>

#include "util.h"

#define CHARSET_REPLACEMENT	"\xef\xbf\xbd"	/* U+FFFD */
#define CHARSET_NAME_MAX	40	/* longer is no charset we know */

/*
 * charset_utf8_len - length of the well-formed UTF-8 character at s (n > 0
 * bytes), 0 if it is not one: overlong forms, surrogates, values over
 * U+10FFFF, stray or missing continuation bytes (RFC 3629 section 4).
 */
size_t charset_utf8_len(const unsigned char *s, size_t n);
/*
 * charset_name_ok - len bytes at name are a charset token (RFC 2047
 * section 2: letters, digits, "-_.:+"), so iconv_open() sees no "//"
 * suffix such as "//TRANSLIT".
 */
int charset_name_ok(const char *name, size_t len);
/*
 * charset_iconv - append n bytes in charset name, converted to UTF-8, to
 * out, at most max bytes of it.  Returns the number of bytes replaced by
 * U+FFFD (invalid in the charset, or a sequence cut short), or -1 (out
 * unchanged) when iconv does not know the charset or the name is bad
 * (NULL included).
 */
long charset_iconv(struct sbuf *out, const unsigned char *b, size_t n,
		   const char *name, size_t max);
/*
 * charset_utf8_clean - append n bytes that should be UTF-8 to out, at
 * most max bytes: well-formed characters as they are, every other byte as
 * U+FFFD (counted, the return value); NUL and the C0 controls other than
 * tab and line feed become a space (not counted), CR is dropped.
 */
size_t charset_utf8_clean(struct sbuf *out, const unsigned char *b,
			  size_t n, size_t max);

#endif
