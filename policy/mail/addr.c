/*
 * addr - RFC 5322 address lists (see addr.h).
 *
 * Three stages, each small enough to check by eye.  check_bytes() first
 * rejects what no header value may hold (NUL, control characters, a CR
 * or LF that does not fold the line, invalid UTF-8), so that later a CR
 * or LF can only be folding white space.  The lexer then turns the text
 * into atoms, quoted strings, domain literals and specials, and drops
 * white space and comments (nested comments are counted in a loop, not
 * recursed into).  The parser reads the list with one token of look-
 * ahead: it collects a run of words and dots once, and the special that
 * follows says what the run was: a local part ("@"), a display name
 * ("<") or a group name (":").  The only recursion is list -> group ->
 * list, two levels, as groups do not nest.
 *
 * RFC 2047 encoded words are decoded in display names only, never in an
 * address: an address is compared as written.  UTF-8, US-ASCII and
 * ISO-8859-1 are converted here, every other charset by iconv(3) (glibc
 * knows windows-125x, iso-8859-x, koi8-r, UTF-16, UTF-7 ...) through
 * charset.c, one descriptor per call, the output bounded.  A word in a
 * charset iconv does not know is shown as ASCII, its other bytes U+FFFD,
 * and noted (display_unknown_charset): an address spelled in it stays
 * visible to addr_lookalike().
 *
 * Diagnostics: a status, and in err what was wrong at which byte offset.
 * Nothing is logged here; the caller knows whose header it was.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "charset.h"
#include "util.h"

enum tok {
	T_END,
	T_ATOM,		/* 1*atext, UTF-8 included (RFC 6532) */
	T_QSTR,		/* quoted string; its content is in lx->val */
	T_DLIT,		/* domain literal, brackets included */
	T_SPECIAL,	/* one of < > @ , ; : . */
};

struct lexer {
	const char	*s;
	size_t		len;
	size_t		pos;		/* next byte to read */
	enum tok	type;		/* the current token: */
	int		ch;		/* T_SPECIAL: which one */
	size_t		start, end;	/* its bytes in s */
	int		sep;		/* white space or a comment before it */
	struct sbuf	val;		/* T_QSTR: content, quoted-pairs undone */
};

struct parser {
	struct lexer	lx;
	struct addr_list *out;
	size_t		cap;		/* out->v has room for this many */
	enum addr_status status;
	char		*err;
	size_t		errlen;
};

/* a run of words and dots, read before we know what it is */
struct phrase {
	struct sbuf	local;		/* as a local part: joined as written */
	struct sbuf	raw;		/* as a display name: one space between */
	size_t		start;		/* offset of the first item */
	int		items;
	int		as_local;	/* still word *("." word) */
	int		as_name;	/* still word *(word / "."), obs-phrase */
	int		quoted;		/* a word was a quoted string */
};

/* fail - record a syntax error at byte offset at; always returns -1 */
static int
fail(struct parser *p, size_t at, const char *what)
{
	p->status = ADDR_SYNTAX;
	if (p->err != NULL && p->errlen > 0)
		snprintf(p->err, p->errlen, "%s at offset %zu", what, at);
	return -1;
}

/* is_wsp - WSP of RFC 5234: space or tab */
static int
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

/* is_atext - RFC 5322 atext, or any byte of a UTF-8 sequence (RFC 6532) */
static int
is_atext(int c)
{
	unsigned char u = (unsigned char)c;

	if (u >= 0x80)
		return 1;
	return u > 0x20 && u < 0x7f && strchr("()<>[]:;@\\,.\"", u) == NULL;
}

/* is_c1 - the UTF-8 character at s is a C1 control, U+0080..U+009F */
static int
is_c1(const unsigned char *s)
{
	return s[0] == 0xc2 && s[1] < 0xa0;
}

/*
 * check_bytes - reject bytes no header value may hold.  A CR must start
 * CRLF and a line break must be followed by WSP: anything else ends the
 * header and starts another one (header injection).  Control characters
 * are refused everywhere, inside quoted strings and comments too.
 */
static int
check_bytes(struct parser *p)
{
	const unsigned char *s = (const unsigned char *)p->lx.s;
	size_t len = p->lx.len, i, n;

	for (i = 0; i < len; i += n) {
		n = 1;
		if (s[i] == '\0')
			return fail(p, i, "NUL byte");
		if (s[i] == '\r' && (i + 1 >= len || s[i + 1] != '\n'))
			return fail(p, i, "CR not followed by LF");
		if (s[i] == '\n' && (i + 1 >= len || !is_wsp(s[i + 1])))
			return fail(p, i, "line break not followed by white "
				    "space");
		if ((s[i] < 0x20 && s[i] != '\t' && s[i] != '\r' &&
		     s[i] != '\n') || s[i] == 0x7f)
			return fail(p, i, "control character");
		if (s[i] >= 0x80) {
			if ((n = charset_utf8_len(s + i, len - i)) == 0)
				return fail(p, i, "invalid UTF-8");
			if (is_c1(s + i))
				return fail(p, i, "control character");
		}
	}
	return 0;
}

/* lex_fold - length of the CRLF or LF that folds the line at pos, or 0 */
static size_t
lex_fold(const struct lexer *lx, size_t pos)
{
	size_t n = 0;

	if (pos < lx->len && lx->s[pos] == '\r')
		n = 1;
	if (pos + n + 1 < lx->len && lx->s[pos + n] == '\n' &&
	    is_wsp(lx->s[pos + n + 1]))
		return n + 1;
	return 0;
}

/* lex_pair - a quoted-pair: append the quoted character to val if any */
static int
lex_pair(struct parser *p, struct sbuf *val)
{
	struct lexer *lx = &p->lx;
	char c;

	if (lx->pos + 1 >= lx->len)
		return fail(p, lx->pos, "backslash at end of input");
	c = lx->s[lx->pos + 1];
	/* obs-qp allows "\" CR and "\" LF; they only serve to confuse */
	if (c == '\r' || c == '\n')
		return fail(p, lx->pos, "backslash before a line break");
	if (val != NULL)
		sbuf_append(val, &c, 1);
	lx->pos += 2;
	return 0;
}

/* lex_comment - skip a comment, nested at most ADDR_NEST_MAX deep */
static int
lex_comment(struct parser *p)
{
	struct lexer *lx = &p->lx;
	size_t open = lx->pos, f;
	int depth = 0;

	while (lx->pos < lx->len) {
		char c = lx->s[lx->pos];

		if (c == '(') {
			if (++depth > ADDR_NEST_MAX)
				return fail(p, lx->pos, "comments nested too "
					    "deep");
			lx->pos++;
		} else if (c == ')') {
			lx->pos++;
			if (--depth == 0)
				return 0;
		} else if (c == '\\') {
			if (lex_pair(p, NULL) < 0)
				return -1;
		} else if ((f = lex_fold(lx, lx->pos)) > 0)
			lx->pos += f;
		else if (c == '\r' || c == '\n')
			return fail(p, lx->pos, "line break in a comment");
		else
			lx->pos++;
	}
	return fail(p, open, "unterminated comment");
}

/* lex_qstring - a quoted string; folds are unfolded, WSP is kept */
static int
lex_qstring(struct parser *p)
{
	struct lexer *lx = &p->lx;
	size_t open = lx->pos++, f;

	sbuf_reset(&lx->val);
	while (lx->pos < lx->len) {
		char c = lx->s[lx->pos];

		if (c == '"') {
			lx->pos++;
			return 0;
		}
		if (c == '\\') {
			if (lex_pair(p, &lx->val) < 0)
				return -1;
			continue;
		}
		if ((f = lex_fold(lx, lx->pos)) > 0) {
			lx->pos += f;
			continue;
		}
		if (c == '\r' || c == '\n')
			return fail(p, lx->pos, "line break in a quoted "
				    "string");
		sbuf_append(&lx->val, &c, 1);
		lx->pos++;
	}
	return fail(p, open, "unterminated quoted string");
}

/*
 * lex_dliteral - a domain literal.  White space and quoted-pairs in it
 * are allowed by RFC 5322 (FWS, obs-dtext) but not by RFC 5321; no mail
 * system means "[ 192.0.2.1 ]" or "[192\.0.2.1]", so they are refused.
 */
static int
lex_dliteral(struct parser *p)
{
	struct lexer *lx = &p->lx;
	size_t open = lx->pos++;

	while (lx->pos < lx->len) {
		unsigned char c = (unsigned char)lx->s[lx->pos];

		if (c == ']') {
			if (++lx->pos - open == 2)
				return fail(p, open, "empty domain literal");
			return 0;
		}
		if (c <= 0x20 || c == '[' || c == '\\')
			return fail(p, lx->pos, "white space, \"[\" or "
				    "\"\\\" in a domain literal");
		lx->pos++;
	}
	return fail(p, open, "unterminated domain literal");
}

/* lex_next - read the next token, dropping the CFWS before it */
static int
lex_next(struct parser *p)
{
	struct lexer *lx = &p->lx;
	size_t f;
	char c;

	lx->sep = 0;
	while (lx->pos < lx->len) {
		c = lx->s[lx->pos];
		if (is_wsp(c))
			lx->pos++;
		else if ((f = lex_fold(lx, lx->pos)) > 0)
			lx->pos += f;
		else if (c == '(') {
			if (lex_comment(p) < 0)
				return -1;
		} else
			break;
		lx->sep = 1;
	}
	lx->start = lx->pos;
	if (lx->pos >= lx->len) {
		lx->type = T_END;
		lx->end = lx->pos;
		return 0;
	}
	c = lx->s[lx->pos];
	if (is_atext(c)) {
		while (lx->pos < lx->len && is_atext(lx->s[lx->pos]))
			lx->pos++;
		lx->type = T_ATOM;
	} else if (c == '"') {
		if (lex_qstring(p) < 0)
			return -1;
		lx->type = T_QSTR;
	} else if (c == '[') {
		if (lex_dliteral(p) < 0)
			return -1;
		lx->type = T_DLIT;
	} else if (c != '\0' && strchr("<>@,;:.", c) != NULL) {
		lx->type = T_SPECIAL;
		lx->ch = c;
		lx->pos++;
	} else if (c == ')')
		return fail(p, lx->pos, "unbalanced \")\"");
	else if (c == ']')
		return fail(p, lx->pos, "unbalanced \"]\"");
	else if (c == '\\')
		return fail(p, lx->pos, "backslash outside a quoted string");
	else
		return fail(p, lx->pos, "unexpected character");
	lx->end = lx->pos;
	return 0;
}

/* is_special - the current token is the special character ch */
static int
is_special(const struct lexer *lx, int ch)
{
	return lx->type == T_SPECIAL && lx->ch == ch;
}

/*
 * Display names.  Encoded words are decoded wherever they appear in the
 * name, inside quoted strings and next to other text too, although RFC
 * 2047 section 5 allows them only as whole atoms: the name only feeds
 * addr_lookalike(), and many clients decode "=?...?=" in quotes, so
 * decoding more shows what a reader may see.  Decoded bytes that are no
 * text (controls, invalid UTF-8, C1) become U+FFFD, so a name is always
 * valid UTF-8 without line breaks.
 */

enum charset {
	CS_UTF8, CS_ASCII, CS_LATIN1,	/* converted here */
	CS_ICONV,			/* any other: iconv(3), if it knows it */
};

static const struct {
	const char	*name;
	enum charset	cs;
} charsets[] = {
	{ "utf-8", CS_UTF8 }, { "utf8", CS_UTF8 },
	{ "us-ascii", CS_ASCII }, { "ascii", CS_ASCII },
	{ "iso-8859-1", CS_LATIN1 }, { "iso8859-1", CS_LATIN1 },
	{ "iso_8859-1", CS_LATIN1 }, { "latin1", CS_LATIN1 },
	{ "latin-1", CS_LATIN1 },
};

/* the charset of an encoded word: its name in the text, and its kind */
struct ew_cs {
	const char	*name;		/* not terminated */
	size_t		len;
	enum charset	cs;
};

#define EW_CHARSET_MAX	40	/* longer is no charset we know */
#define EW_ICONV_MAX	(4 * ADDR_INPUT_MAX)	/* bound of one conversion */
#define REPLACEMENT	"\xef\xbf\xbd"	/* U+FFFD */

/* sbuf_cut - drop what was appended to b after its first n bytes */
static void
sbuf_cut(struct sbuf *b, size_t n)
{
	if (b->len > n) {
		b->len = n;
		b->data[n] = '\0';
	}
}

/* ew_char - a byte that may be part of an encoded word's charset or text */
static int
ew_char(int c)
{
	return c > 0x20 && c < 0x7f && c != '?';
}

/* b64_value - value of a base64 digit, -1 if it is not one */
static int
b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * ew_b - decode base64 text.  Missing padding is accepted, as clients
 * accept it; any other flaw leaves the word undecoded.
 */
static int
ew_b(const char *s, size_t n, struct sbuf *out)
{
	unsigned int acc = 0;
	size_t i, digits = 0, pad = 0;
	int bits = 0, v;
	unsigned char byte;

	for (i = 0; i < n; i++) {
		if (s[i] == '=') {
			pad++;
			continue;
		}
		if ((v = b64_value(s[i])) < 0 || pad > 0)
			return -1;
		digits++;
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			byte = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
			sbuf_append(out, &byte, 1);
		}
	}
	if (digits % 4 == 1 || pad > 2 || (pad > 0 && n % 4 != 0))
		return -1;
	return 0;
}

/* ew_q - decode Q text: "_" is a space, "=XX" a byte */
static int
ew_q(const char *s, size_t n, struct sbuf *out)
{
	size_t i;
	int hi, lo;
	unsigned char c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '_')
			c = ' ';
		else if (c == '=') {
			if (i + 2 >= n)
				return -1;
			if ((hi = util_hex_value(s[i + 1])) < 0 ||
			    (lo = util_hex_value(s[i + 2])) < 0)
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		sbuf_append(out, &c, 1);
	}
	return 0;
}

/*
 * ew_parse - if an encoded word in a charset we know starts at s[i],
 * append its decoded bytes to out, set *cs, and return the offset just
 * past it; otherwise return 0 and leave out as it was.  An optional RFC
 * 2231 language ("=?utf-8*en?q?...?=") is ignored.
 */
static size_t
ew_parse(const char *s, size_t n, size_t i, struct sbuf *out,
	 struct ew_cs *cs)
{
	size_t cs_start, cs_len, text, j, k, mark = out->len;
	const char *star;
	char enc;
	int rc;

	if (i + 2 > n || s[i] != '=' || s[i + 1] != '?')
		return 0;
	cs_start = j = i + 2;
	while (j < n && ew_char(s[j]) && j - cs_start <= EW_CHARSET_MAX)
		j++;
	if (j >= n || s[j] != '?' || j == cs_start)
		return 0;
	cs_len = j - cs_start;
	if ((star = memchr(s + cs_start, '*', cs_len)) != NULL)
		cs_len = (size_t)(star - (s + cs_start));
	if (cs_len == 0)
		return 0;
	for (k = 0; k < sizeof(charsets) / sizeof(charsets[0]); k++)
		if (strlen(charsets[k].name) == cs_len &&
		    strncasecmp(charsets[k].name, s + cs_start, cs_len) == 0)
			break;
	if (j + 3 > n || s[j + 2] != '?')
		return 0;
	enc = s[j + 1];
	text = j = j + 3;
	while (j < n && ew_char(s[j]))
		j++;
	if (j + 1 >= n || s[j] != '?' || s[j + 1] != '=')
		return 0;
	if (enc == 'B' || enc == 'b')
		rc = ew_b(s + text, j - text, out);
	else if (enc == 'Q' || enc == 'q')
		rc = ew_q(s + text, j - text, out);
	else
		rc = -1;
	if (rc < 0) {
		sbuf_cut(out, mark);
		return 0;
	}
	cs->name = s + cs_start;
	cs->len = cs_len;
	cs->cs = k < sizeof(charsets) / sizeof(charsets[0]) ?
	    charsets[k].cs : CS_ICONV;
	return j + 2;
}

/* ew_cs_same - two words in one charset: their bytes may be joined */
static int
ew_cs_same(const struct ew_cs *a, const struct ew_cs *b)
{
	if (a->cs != b->cs)
		return 0;
	return a->cs != CS_ICONV ||
	    (a->len == b->len && strncasecmp(a->name, b->name, a->len) == 0);
}

/*
 * ew_iconv_name - the charset's name as iconv_open() may see it, in buf;
 * -1 for a name that is no charset token (RFC 2047 section 2), such as
 * one with "/", which glibc would read as "//TRANSLIT" and the like.
 */
static int
ew_iconv_name(const struct ew_cs *cs, char *buf, size_t size)
{
	if (cs->len >= size || !charset_name_ok(cs->name, cs->len))
		return -1;
	memcpy(buf, cs->name, cs->len);
	buf[cs->len] = '\0';
	return 0;
}

/*
 * ew_iconv - convert bytes in a charset iconv knows to UTF-8, appended to
 * out, at most EW_ICONV_MAX bytes of it; a byte iconv cannot convert
 * becomes U+FFFD.  -1 (out unchanged) if iconv does not know the charset.
 * One conversion descriptor per call: nothing is shared between threads.
 */
static int
ew_iconv(struct sbuf *out, const unsigned char *b, size_t n,
	 const struct ew_cs *cs)
{
	char name[EW_CHARSET_MAX + 2];

	if (ew_iconv_name(cs, name, sizeof(name)) != 0)
		return -1;
	return charset_iconv(out, b, n, name, EW_ICONV_MAX) < 0 ? -1 : 0;
}

/*
 * put_decoded - append decoded bytes as UTF-8; non-text becomes U+FFFD.
 * A charset that iconv does not know either is shown as ASCII (what a
 * reader of most charsets sees of it: an address hidden in it stays
 * visible), and *unknown is set.
 */
static void
put_decoded(struct sbuf *out, const unsigned char *b, size_t n,
	    const struct ew_cs *ecs, int *unknown)
{
	enum charset cs = ecs->cs;
	unsigned char u[2];
	size_t i = 0, k;

	if (cs == CS_ICONV) {
		struct sbuf conv;

		sbuf_init(&conv);
		if (ew_iconv(&conv, b, n, ecs) == 0) {
			/* now UTF-8: controls and C1 still become U+FFFD */
			struct ew_cs utf8 = { "utf-8", 5, CS_UTF8 };

			put_decoded(out, (const unsigned char *)conv.data,
				    conv.len, &utf8, unknown);
			sbuf_free(&conv);
			return;
		}
		sbuf_free(&conv);
		*unknown = 1;
		cs = CS_ASCII;
	}

	while (i < n) {
		if (b[i] == '\t' || (b[i] >= 0x20 && b[i] < 0x7f)) {
			sbuf_append(out, b + i++, 1);
		} else if (b[i] < 0x80) {
			sbuf_puts(out, REPLACEMENT);
			i++;
		} else if (cs == CS_LATIN1) {
			if (b[i] < 0xa0)
				sbuf_puts(out, REPLACEMENT);
			else {
				u[0] = (unsigned char)(0xc0 | b[i] >> 6);
				u[1] = (unsigned char)(0x80 | (b[i] & 0x3f));
				sbuf_append(out, u, 2);
			}
			i++;
		} else if (cs == CS_UTF8 && (k = charset_utf8_len(b + i, n - i)) > 0 &&
			   !is_c1(b + i)) {
			sbuf_append(out, b + i, k);
			i += k;
		} else {
			sbuf_puts(out, REPLACEMENT);
			i++;
		}
	}
}

/*
 * name_decode - the display name as shown, from the raw words.  White
 * space between two encoded words is dropped (RFC 2047 section 6.2), and
 * the bytes of adjacent words in one charset are joined before they are
 * converted, so a character split across two words survives.  *unknown
 * is set when a word's charset is unknown (see put_decoded()).
 */
static char *
name_decode(const char *s, size_t n, int *unknown)
{
	struct sbuf out, pend, scratch;
	struct ew_cs cs, pend_cs = { "utf-8", 5, CS_UTF8 }, tmp;
	size_t i = 0, end, ws, mark;

	sbuf_init(&out);
	sbuf_init(&pend);
	sbuf_init(&scratch);
	while (i < n) {
		mark = pend.len;
		if (s[i] == '=' && (end = ew_parse(s, n, i, &pend, &cs)) > 0) {
			if (mark > 0 && !ew_cs_same(&cs, &pend_cs)) {
				put_decoded(&out, (unsigned char *)pend.data,
					    mark, &pend_cs, unknown);
				memmove(pend.data, pend.data + mark,
					pend.len - mark);
				sbuf_cut(&pend, pend.len - mark);
			}
			pend_cs = cs;
			i = end;
			for (ws = i; ws < n && is_wsp(s[ws]); ws++)
				;
			sbuf_reset(&scratch);
			if (ws > i && ew_parse(s, n, ws, &scratch, &tmp) > 0)
				i = ws;
			continue;
		}
		if (pend.len > 0) {
			put_decoded(&out, (unsigned char *)pend.data, pend.len,
				    &pend_cs, unknown);
			sbuf_reset(&pend);
		}
		sbuf_append(&out, s + i++, 1);
	}
	if (pend.len > 0)
		put_decoded(&out, (unsigned char *)pend.data, pend.len,
			    &pend_cs, unknown);
	sbuf_free(&pend);
	sbuf_free(&scratch);
	return sbuf_steal(&out);
}

/* phrase_init - an empty run of words */
static void
phrase_init(struct phrase *ph)
{
	sbuf_init(&ph->local);
	sbuf_init(&ph->raw);
	ph->start = 0;
	ph->items = 0;
	ph->as_local = ph->as_name = 1;
	ph->quoted = 0;
}

static void
phrase_free(struct phrase *ph)
{
	sbuf_free(&ph->local);
	sbuf_free(&ph->raw);
}

/*
 * phrase_read - collect words (atoms, quoted strings) and dots, both as
 * a local part and as a display name, until some other token.
 */
static int
phrase_read(struct parser *p, struct phrase *ph)
{
	struct lexer *lx = &p->lx;
	const char *text;
	size_t n;
	int dot;

	while (lx->type == T_ATOM || lx->type == T_QSTR ||
	       is_special(lx, '.')) {
		dot = lx->type == T_SPECIAL;
		if (lx->type == T_QSTR) {
			text = lx->val.len ? lx->val.data : "";
			n = lx->val.len;
			ph->quoted = 1;
		} else {
			text = lx->s + lx->start;
			n = lx->end - lx->start;
		}
		if (ph->items == 0) {
			ph->start = lx->start;
			if (dot)
				ph->as_name = 0;
		}
		/* word "." word "." word: dots at the odd places only */
		if (dot != (ph->items % 2 == 1) || (!dot && n == 0))
			ph->as_local = 0;
		sbuf_append(&ph->local, text, n);
		if (ph->items > 0 && lx->sep)
			sbuf_append(&ph->raw, " ", 1);
		sbuf_append(&ph->raw, text, n);
		ph->items++;
		if (lex_next(p) < 0)
			return -1;
	}
	return 0;
}

/* phrase_local - check the run as a local part, before "@" */
static int
phrase_local(struct parser *p, const struct phrase *ph)
{
	if (ph->items == 0)
		return fail(p, p->lx.start, "empty local part");
	if (!ph->as_local || ph->items % 2 == 0)
		return fail(p, ph->start, "bad local part");
	return 0;
}

/* parse_domain - dot-atom, obs-domain (CFWS around dots), domain literal */
static int
parse_domain(struct parser *p, struct sbuf *dom)
{
	struct lexer *lx = &p->lx;

	if (lx->type == T_DLIT) {
		sbuf_append(dom, lx->s + lx->start, lx->end - lx->start);
		return lex_next(p);
	}
	for (;;) {
		if (lx->type != T_ATOM)
			return fail(p, lx->start, dom->len > 0 ?
				    "dot not followed by a domain label" :
				    "missing domain");
		sbuf_append(dom, lx->s + lx->start, lx->end - lx->start);
		if (lex_next(p) < 0)
			return -1;
		if (!is_special(lx, '.'))
			return 0;
		sbuf_append(dom, ".", 1);
		if (lex_next(p) < 0)
			return -1;
	}
}

/* mailbox_add - append a mailbox; the local part and domain are taken */
static int
mailbox_add(struct parser *p, struct phrase *local, struct sbuf *dom,
	    const struct phrase *name, int in_group)
{
	struct addr_list *l = p->out;
	struct addr *a;

	if (l->count >= ADDR_LIST_MAX) {
		p->status = ADDR_TOO_MANY;
		if (p->err != NULL && p->errlen > 0)
			snprintf(p->err, p->errlen, "more than %d mailboxes",
				 ADDR_LIST_MAX);
		return -1;
	}
	if (l->count == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 4;
		l->v = xrealloc(l->v, p->cap * sizeof(*l->v));
	}
	a = &l->v[l->count++];
	a->local = sbuf_steal(&local->local);
	a->domain = sbuf_steal(dom);
	a->display_unknown_charset = 0;
	a->display = name && name->items > 0 ?
	    name_decode(name->raw.data, name->raw.len,
			&a->display_unknown_charset) : xstrdup("");
	a->quoted_local = local->quoted;
	a->in_group = in_group;
	return 0;
}

/* parse_at_domain - check the local part, then "@" domain, at the "@" */
static int
parse_at_domain(struct parser *p, const struct phrase *local,
		struct sbuf *dom)
{
	if (phrase_local(p, local) < 0 || lex_next(p) < 0)
		return -1;
	return parse_domain(p, dom);
}

/* parse_addr_spec - a bare local-part "@" domain, at the "@" */
static int
parse_addr_spec(struct parser *p, struct phrase *local, int in_group)
{
	struct sbuf dom;
	int rc = -1;

	sbuf_init(&dom);
	if (parse_at_domain(p, local, &dom) == 0)
		rc = mailbox_add(p, local, &dom, NULL, in_group);
	sbuf_free(&dom);
	return rc;
}

/*
 * parse_route - obs-route, "@a,@b:" before the address in "<...>".  It
 * names relays, not the mailbox, and is dropped.  RFC 5322 also allows
 * empty elements in it ("<,@a,,@b:u@d>"); no client writes them, so
 * they are refused.
 */
static int
parse_route(struct parser *p)
{
	struct lexer *lx = &p->lx;
	struct sbuf dom;
	int rc = -1;

	sbuf_init(&dom);
	for (;;) {
		if (!is_special(lx, '@')) {
			fail(p, lx->start, "bad route");
			break;
		}
		if (lex_next(p) < 0 || parse_domain(p, &dom) < 0)
			break;
		sbuf_reset(&dom);
		if (is_special(lx, ':')) {
			rc = lex_next(p);
			break;
		}
		if (!is_special(lx, ',')) {
			fail(p, lx->start, "bad route");
			break;
		}
		if (lex_next(p) < 0)
			break;
	}
	sbuf_free(&dom);
	return rc;
}

/* parse_angle - [display-name] "<" [obs-route] addr-spec ">", at "<" */
static int
parse_angle(struct parser *p, const struct phrase *name, int in_group)
{
	struct lexer *lx = &p->lx;
	struct phrase local;
	struct sbuf dom;
	size_t open = lx->start;
	int rc = -1;

	if (name->items > 0 && !name->as_name)
		return fail(p, name->start, "bad display name");
	if (lex_next(p) < 0)
		return -1;
	if (is_special(lx, '@') && parse_route(p) < 0)
		return -1;
	phrase_init(&local);
	sbuf_init(&dom);
	if (phrase_read(p, &local) < 0)
		goto out;
	if (!is_special(lx, '@')) {
		fail(p, lx->start, is_special(lx, '>') && local.items == 0 ?
		     "empty angle address" : lx->type == T_END ?
		     "unbalanced \"<\"" : "missing \"@\"");
		goto out;
	}
	if (parse_at_domain(p, &local, &dom) < 0)
		goto out;
	if (!is_special(lx, '>')) {
		fail(p, lx->type == T_END ? open : lx->start,
		     lx->type == T_END ? "unbalanced \"<\"" :
		     "expected \">\"");
		goto out;
	}
	if (lex_next(p) == 0)
		rc = mailbox_add(p, &local, &dom, name, in_group);
out:
	phrase_free(&local);
	sbuf_free(&dom);
	return rc;
}

static int parse_list(struct parser *, int);

/* parse_group - display-name ":" [mailbox-list / CFWS] ";", at ":" */
static int
parse_group(struct parser *p, const struct phrase *name, int in_group)
{
	struct lexer *lx = &p->lx;

	if (in_group)
		return fail(p, lx->start, "group inside a group");
	if (name->items == 0)
		return fail(p, lx->start, "group without a name");
	if (!name->as_name)
		return fail(p, name->start, "bad group name");
	p->out->groups++;
	if (lex_next(p) < 0)
		return -1;
	return parse_list(p, 1);
}

/*
 * parse_address - one mailbox or, outside a group, one group.  The words
 * before the next special are read once; that special says what they
 * were.  A display name can hold no "@", so "a@b.test <c@d.test>" is an
 * addr-spec followed by garbage: a syntax error, not a name.
 */
static int
parse_address(struct parser *p, int in_group)
{
	struct lexer *lx = &p->lx;
	struct phrase ph;
	int rc;

	phrase_init(&ph);
	if (phrase_read(p, &ph) < 0)
		rc = -1;
	else if (is_special(lx, '@'))
		rc = parse_addr_spec(p, &ph, in_group);
	else if (is_special(lx, '<'))
		rc = parse_angle(p, &ph, in_group);
	else if (is_special(lx, ':'))
		rc = parse_group(p, &ph, in_group);
	else if (ph.items > 0)
		rc = fail(p, lx->start, "missing \"@\"");
	else
		rc = fail(p, lx->start, "expected an address");
	phrase_free(&ph);
	return rc;
}

/*
 * parse_list - an address list, or in a group a mailbox list up to and
 * past its ";".  Empty elements ("a@x,,b@y", a trailing ",") are allowed
 * by obs-addr-list and obs-mbox-list and carry no address.
 */
static int
parse_list(struct parser *p, int in_group)
{
	struct lexer *lx = &p->lx;
	size_t open = lx->start;

	for (;;) {
		if (is_special(lx, ',')) {
			if (lex_next(p) < 0)
				return -1;
			continue;
		}
		if (lx->type == T_END)
			return in_group ? fail(p, open, "group without \";\"") : 0;
		if (in_group && is_special(lx, ';'))
			return lex_next(p);
		if (parse_address(p, in_group) < 0)
			return -1;
		if (!is_special(lx, ',') && lx->type != T_END &&
		    !(in_group && is_special(lx, ';')))
			return fail(p, lx->start, in_group ?
				    "expected \",\" or \";\"" :
				    "expected \",\"");
	}
}

enum addr_status
addr_parse_list(const char *text, size_t len, struct addr_list *out,
		char *err, size_t errlen)
{
	struct parser p;
	int groups;

	out->v = NULL;
	out->count = 0;
	out->groups = 0;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (text == NULL)
		len = 0;
	if (len > ADDR_INPUT_MAX) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%zu bytes, over %d", len,
				 ADDR_INPUT_MAX);
		return ADDR_TOO_LONG;
	}

	memset(&p, 0, sizeof(p));
	p.lx.s = text ? text : "";
	p.lx.len = len;
	sbuf_init(&p.lx.val);
	p.out = out;
	p.status = ADDR_OK;
	p.err = err;
	p.errlen = errlen;
	if (check_bytes(&p) == 0 && lex_next(&p) == 0 &&
	    parse_list(&p, 0) == 0 && out->count == 0) {
		p.status = ADDR_EMPTY;
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "no mailbox");
	}
	sbuf_free(&p.lx.val);

	/* on failure nothing half-parsed is left for the caller to trust */
	if (p.status != ADDR_OK) {
		groups = out->groups;
		addr_list_free(out);
		if (p.status == ADDR_EMPTY)
			out->groups = groups;	/* "undisclosed:;" says so */
	}
	return p.status;
}

void
addr_list_free(struct addr_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->count; i++) {
		free(l->v[i].local);
		free(l->v[i].domain);
		free(l->v[i].display);
	}
	free(l->v);
	l->v = NULL;
	l->count = 0;
	l->groups = 0;
}

/* at_len - length of an at sign at s: "@", or U+FF20 or U+FE6B (look-alikes) */
static size_t
at_len(const unsigned char *s, size_t n)
{
	if (s[0] == '@')
		return 1;
	if (n >= 3 && s[0] == 0xef && ((s[1] == 0xbc && s[2] == 0xa0) ||
				       (s[1] == 0xb9 && s[2] == 0xab)))
		return 3;
	return 0;
}

/* look_local - may be part of the local part of a look-alike address */
static int
look_local(int c)
{
	unsigned char u = (unsigned char)c;

	if (u >= 0x80)
		return 1;
	return u > 0x20 && u < 0x7f && strchr("<>()[]{}\",;:@", u) == NULL;
}

/* look_domain - may be part of the domain of a look-alike address */
static int
look_domain(int c)
{
	unsigned char u = (unsigned char)c;

	return u >= 0x80 || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
	    (u >= '0' && u <= '9') || u == '-' || u == '.' || u == '_';
}

/*
 * addr_lookalike - the first "x@y" in a display name, as written.  It
 * needs no dot in the domain: anything address-shaped misleads a reader.
 * A local part never reaches back past the previous at sign, so a name
 * full of at signs costs one pass, not one pass per at sign.
 */
char *
addr_lookalike(const char *display)
{
	const unsigned char *s = (const unsigned char *)display;
	size_t n, i, at, lo, hi, floor = 0;
	const unsigned char *rb;

	if (display == NULL)
		return NULL;
	n = strlen(display);
	for (i = 0; i < n; i++) {
		if ((at = at_len(s + i, n - i)) == 0)
			continue;
		for (lo = i; lo > floor && look_local(s[lo - 1]); lo--)
			;
		floor = i + at;
		/* sentence punctuation and quotes are not part of it */
		while (lo < i && (s[lo] == '.' || s[lo] == '\''))
			lo++;
		if (lo == i)
			continue;
		hi = i + at;
		if (hi < n && s[hi] == '[' &&
		    (rb = memchr(s + hi, ']', n - hi)) != NULL)
			hi = (size_t)(rb - s) + 1;
		else
			while (hi < n && look_domain(s[hi]))
				hi++;
		while (hi > i + at && (s[hi - 1] == '.' || s[hi - 1] == '-'))
			hi--;
		if (hi > i + at)
			return xstrndup(display + lo, hi - lo);
	}
	return NULL;
}

const char *
addr_status_name(enum addr_status st)
{
	switch (st) {
	case ADDR_OK:
		return "ok";
	case ADDR_EMPTY:
		return "empty";
	case ADDR_SYNTAX:
		return "syntax";
	case ADDR_TOO_LONG:
		return "too long";
	case ADDR_TOO_MANY:
		return "too many";
	}
	return "unknown";
}
