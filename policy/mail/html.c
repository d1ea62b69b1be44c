/*
 * html - HTML to text and links, for the MIME walk (see mime.h).
 *
 * One pass over the bytes, a small state machine: text, and at "<" a
 * comment ("<!--" to "-->"), a declaration or processing instruction
 * ("<!" or "<?" to ">"), or a tag (name, then attributes to ">", quotes
 * respected).  Every search for an end (of a comment, of a script or
 * style element, of a quoted value) goes forward from where it is and,
 * when the end never comes, stops at the end of the input, so no byte is
 * read more than twice: the work is linear whatever the input, and the
 * text is at most about three times the input (an entity such as "&#0;"
 * becomes U+FFFD).
 *
 * The text: tags dropped; <br>, <p>, <div>, <tr>, <li>, headings and a
 * few other block elements as line breaks; <td>/<th> as a space; <script>
 * and <style> dropped with their content, comments too; runs of white
 * space made one space, and at most one empty line in a row.  Entities:
 * named (the HTML 4 Latin-1 set and the common punctuation; amp, lt, gt,
 * quot and nbsp also without their ";", as browsers accept them),
 * decimal and hex numeric to UTF-8 (0, surrogates and values over
 * U+10FFFF as U+FFFD, 128-159 as windows-1252, as HTML5 says); an
 * unknown entity stays as written.
 *
 * Links: the values of href, src and action on any element, entities
 * decoded, white space trimmed, at most HTML_URL_MAX bytes (a longer
 * value is no link anyone clicks; it is dropped).  The same URL is kept
 * once.  html_link_host() extracts the host: the authority of a
 * "scheme://" or "//" URL, or a "www." prefix, without userinfo and port,
 * lower-cased (ASCII; an IDN stays as written), IPv6 literals without
 * their brackets; "" for mailto:, relative links and the like.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "charset.h"
#include "mime.h"
#include "util.h"

#define HTML_URL_MAX	4096	/* longer attribute values are no link */
#define HTML_NAME_MAX	16	/* tag and attribute names kept */
#define HTML_ENT_MAX	32	/* longest entity name looked up */

struct html {
	const unsigned char *s;
	size_t		n, i;
	struct sbuf	*out;
	int		space;		/* a space is pending */
	int		nl;		/* line breaks at the end of out (0-2) */
	struct mime_link **links;
	size_t		*nlinks, max_links;
};

static const struct {
	const char	*name;
	uint32_t	cp;
} entities[] = {
	{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' },
	{ "apos", '\'' }, { "nbsp", 0xa0 },
	{ "iexcl", 0xa1 }, { "cent", 0xa2 }, { "pound", 0xa3 },
	{ "curren", 0xa4 }, { "yen", 0xa5 }, { "brvbar", 0xa6 },
	{ "sect", 0xa7 }, { "uml", 0xa8 }, { "copy", 0xa9 }, { "ordf", 0xaa },
	{ "laquo", 0xab }, { "not", 0xac }, { "shy", 0xad }, { "reg", 0xae },
	{ "macr", 0xaf }, { "deg", 0xb0 }, { "plusmn", 0xb1 },
	{ "sup2", 0xb2 }, { "sup3", 0xb3 }, { "acute", 0xb4 },
	{ "micro", 0xb5 }, { "para", 0xb6 }, { "middot", 0xb7 },
	{ "cedil", 0xb8 }, { "sup1", 0xb9 }, { "ordm", 0xba },
	{ "raquo", 0xbb }, { "frac14", 0xbc }, { "frac12", 0xbd },
	{ "frac34", 0xbe }, { "iquest", 0xbf },
	{ "Agrave", 0xc0 }, { "Aacute", 0xc1 }, { "Acirc", 0xc2 },
	{ "Atilde", 0xc3 }, { "Auml", 0xc4 }, { "Aring", 0xc5 },
	{ "AElig", 0xc6 }, { "Ccedil", 0xc7 }, { "Egrave", 0xc8 },
	{ "Eacute", 0xc9 }, { "Ecirc", 0xca }, { "Euml", 0xcb },
	{ "Igrave", 0xcc }, { "Iacute", 0xcd }, { "Icirc", 0xce },
	{ "Iuml", 0xcf }, { "ETH", 0xd0 }, { "Ntilde", 0xd1 },
	{ "Ograve", 0xd2 }, { "Oacute", 0xd3 }, { "Ocirc", 0xd4 },
	{ "Otilde", 0xd5 }, { "Ouml", 0xd6 }, { "times", 0xd7 },
	{ "Oslash", 0xd8 }, { "Ugrave", 0xd9 }, { "Uacute", 0xda },
	{ "Ucirc", 0xdb }, { "Uuml", 0xdc }, { "Yacute", 0xdd },
	{ "THORN", 0xde }, { "szlig", 0xdf }, { "agrave", 0xe0 },
	{ "aacute", 0xe1 }, { "acirc", 0xe2 }, { "atilde", 0xe3 },
	{ "auml", 0xe4 }, { "aring", 0xe5 }, { "aelig", 0xe6 },
	{ "ccedil", 0xe7 }, { "egrave", 0xe8 }, { "eacute", 0xe9 },
	{ "ecirc", 0xea }, { "euml", 0xeb }, { "igrave", 0xec },
	{ "iacute", 0xed }, { "icirc", 0xee }, { "iuml", 0xef },
	{ "eth", 0xf0 }, { "ntilde", 0xf1 }, { "ograve", 0xf2 },
	{ "oacute", 0xf3 }, { "ocirc", 0xf4 }, { "otilde", 0xf5 },
	{ "ouml", 0xf6 }, { "divide", 0xf7 }, { "oslash", 0xf8 },
	{ "ugrave", 0xf9 }, { "uacute", 0xfa }, { "ucirc", 0xfb },
	{ "uuml", 0xfc }, { "yacute", 0xfd }, { "thorn", 0xfe },
	{ "yuml", 0xff },
	{ "OElig", 0x152 }, { "oelig", 0x153 }, { "Scaron", 0x160 },
	{ "scaron", 0x161 }, { "Yuml", 0x178 }, { "fnof", 0x192 },
	{ "circ", 0x2c6 }, { "tilde", 0x2dc },
	{ "ensp", 0x2002 }, { "emsp", 0x2003 }, { "thinsp", 0x2009 },
	{ "zwnj", 0x200c }, { "zwj", 0x200d }, { "lrm", 0x200e },
	{ "rlm", 0x200f }, { "ndash", 0x2013 }, { "mdash", 0x2014 },
	{ "lsquo", 0x2018 }, { "rsquo", 0x2019 }, { "sbquo", 0x201a },
	{ "ldquo", 0x201c }, { "rdquo", 0x201d }, { "bdquo", 0x201e },
	{ "dagger", 0x2020 }, { "Dagger", 0x2021 }, { "bull", 0x2022 },
	{ "hellip", 0x2026 }, { "permil", 0x2030 }, { "prime", 0x2032 },
	{ "lsaquo", 0x2039 }, { "rsaquo", 0x203a }, { "euro", 0x20ac },
	{ "trade", 0x2122 },
};

/* HTML5: &#128; to &#159; are read as windows-1252 (0 where undefined) */
static const uint16_t cp1252[32] = {
	0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
	0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
};

/* elements that end a line of text */
static const char *const blocks[] = {
	"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6",
	"table", "ul", "ol", "dl", "dt", "dd", "blockquote", "hr", "pre",
	"title", "section", "article", "header", "footer", "center",
	"address", "form", "body", "html",
};

/* put_utf8 - append code point cp as UTF-8; invalid ones as U+FFFD */
static void
put_utf8(struct sbuf *b, uint32_t cp)
{
	unsigned char u[4];

	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
		sbuf_puts(b, CHARSET_REPLACEMENT);
		return;
	}
	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		sbuf_append(b, u, 1);
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | cp >> 6);
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		sbuf_append(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | cp >> 12);
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		sbuf_append(b, u, 3);
	} else {
		u[0] = (unsigned char)(0xf0 | cp >> 18);
		u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (unsigned char)(0x80 | (cp & 0x3f));
		sbuf_append(b, u, 4);
	}
}

static int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_alnum(int c)
{
	return is_alpha(c) || (c >= '0' && c <= '9');
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/*
 * entity - if an entity starts at s[0] ('&'), its code point in *cp and
 * its length; 0 if it is none (the "&" is then text).
 */
static size_t
entity(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t i = 1, len;
	uint32_t v = 0;
	int d, digits = 0, hex = 0;

	if (n > 1 && s[1] == '#') {
		i = 2;
		if (i < n && (s[i] == 'x' || s[i] == 'X')) {
			hex = 1;
			i++;
		}
		for (; i < n; i++) {
			d = hex ? util_hex_value(s[i]) :
			    (s[i] >= '0' && s[i] <= '9' ? s[i] - '0' : -1);
			if (d < 0)
				break;
			if (v <= 0x10ffff)	/* past it: U+FFFD, keep reading */
				v = v * (hex ? 16 : 10) + (uint32_t)d;
			digits++;
		}
		if (digits == 0)
			return 0;
		if (i < n && s[i] == ';')
			i++;
		if (v >= 0x80 && v <= 0x9f)
			v = cp1252[v - 0x80];
		*cp = v;
		return i;
	}
	while (i < n && i <= HTML_ENT_MAX && is_alnum(s[i]))
		i++;
	len = i - 1;
	if (len == 0)
		return 0;
	for (size_t k = 0; k < sizeof(entities) / sizeof(entities[0]); k++) {
		if (strlen(entities[k].name) != len ||
		    memcmp(entities[k].name, s + 1, len) != 0)
			continue;
		if (i < n && s[i] == ';')
			i++;
		else if (k > 5)		/* only the first six without ";" */
			return 0;
		*cp = entities[k].cp;
		return i;
	}
	return 0;
}

/* decode_entities - n bytes of an attribute value, entities decoded */
static void
decode_entities(struct sbuf *b, const unsigned char *s, size_t n)
{
	size_t i = 0, k;
	uint32_t cp;

	while (i < n) {
		if (s[i] == '&' && (k = entity(s + i, n - i, &cp)) > 0) {
			put_utf8(b, cp);
			i += k;
		} else
			sbuf_append(b, s + i++, 1);
	}
}

/* html_link_host - the host of a URL (see the header comment) */
char *
html_link_host(const char *url, size_t len)
{
	const char *s = url, *e = url + len, *a, *h, *he;
	char *host;
	size_t i;

	while (s < e && is_space((unsigned char)*s))
		s++;
	for (a = s; a < e && (is_alnum((unsigned char)*a) || *a == '+' ||
			      *a == '-' || *a == '.'); a++)
		;
	if (a < e && *a == ':' && a > s && is_alpha((unsigned char)*s)) {
		a++;		/* past "scheme:" */
		if (e - a < 2 || a[0] != '/' || a[1] != '/')
			return xstrdup("");	/* mailto:, javascript:, ... */
		a += 2;
	} else if (e - s >= 2 && s[0] == '/' && s[1] == '/')
		a = s + 2;
	else if (e - s >= 4 && strncasecmp(s, "www.", 4) == 0)
		a = s;
	else
		return xstrdup("");		/* relative */
	/* the authority ends at the path, query or fragment */
	for (he = a; he < e && *he != '/' && *he != '?' && *he != '#' &&
		     *he != '\\' && !is_space((unsigned char)*he) &&
		     (unsigned char)*he >= 0x20; he++)
		;
	h = a;
	for (const char *p = a; p < he; p++)
		if (*p == '@')
			h = p + 1;	/* userinfo dropped */
	if (h < he && *h == '[') {
		const char *rb = memchr(h, ']', (size_t)(he - h));

		h++;
		he = rb != NULL ? rb : he;
	} else {
		const char *colon = memchr(h, ':', (size_t)(he - h));

		if (colon != NULL)
			he = colon;	/* port dropped */
	}
	while (he > h && he[-1] == '.')
		he--;
	host = xstrndup(h, (size_t)(he - h));
	for (i = 0; host[i] != '\0'; i++)
		if (host[i] >= 'A' && host[i] <= 'Z')
			host[i] = (char)(host[i] - 'A' + 'a');
	return host;
}

/* html_link_add - keep the URL (len bytes) once, up to max links */
void
html_link_add(struct mime_link **links, size_t *nlinks, size_t max,
	      const char *url, size_t len)
{
	size_t n = *nlinks;
	struct mime_link *l;

	if (len == 0 || len > HTML_URL_MAX || n >= max ||
	    memchr(url, '\0', len) != NULL)	/* raw bytes: no C string */
		return;
	for (size_t k = 0; k < n; k++)
		if (strlen((*links)[k].url) == len &&
		    memcmp((*links)[k].url, url, len) == 0)
			return;
	if ((n & (n - 1)) == 0)		/* 0, 1, 2, 4, ...: grow */
		*links = xrealloc(*links, (n ? 2 * n : 1) * sizeof(**links));
	l = &(*links)[n];
	l->url = xstrndup(url, len);
	l->host = html_link_host(url, len);
	*nlinks = n + 1;
}

/* text_space - white space in the text: one pending space */
static void
text_space(struct html *h)
{
	if (h->out->len > 0 && h->nl == 0)
		h->space = 1;
}

/* text_break - a line break (two for an empty line), never more */
static void
text_break(struct html *h, int lines)
{
	h->space = 0;
	if (h->out->len == 0)
		return;
	while (h->nl < lines) {
		sbuf_append(h->out, "\n", 1);
		h->nl++;
	}
}

/* text_put - visible bytes */
static void
text_put(struct html *h, const void *p, size_t n)
{
	if (h->space) {
		sbuf_append(h->out, " ", 1);
		h->space = 0;
	}
	sbuf_append(h->out, p, n);
	h->nl = 0;
}

/* find_ci - offset of the lower-case ASCII word w at or after from, or n */
static size_t
find_ci(const unsigned char *s, size_t n, size_t from, const char *w)
{
	size_t wl = strlen(w);

	for (size_t i = from; i + wl <= n; i++) {
		if (s[i] != (unsigned char)w[0])
			continue;
		if (strncasecmp((const char *)s + i, w, wl) == 0)
			return i;
	}
	return n;
}

/*
 * tag_attrs - read the attributes of a tag from h->i to its ">" (or the
 * end), keeping href/src/action values as links.
 */
static void
tag_attrs(struct html *h)
{
	const unsigned char *s = h->s;
	char name[HTML_NAME_MAX + 1];
	size_t n = h->n, i = h->i, nl, vs, ve;
	struct sbuf val;

	sbuf_init(&val);
	while (i < n && s[i] != '>') {
		if (is_space(s[i]) || s[i] == '/') {
			i++;
			continue;
		}
		nl = 0;
		while (i < n && !is_space(s[i]) && s[i] != '>' && s[i] != '=' &&
		       s[i] != '/') {
			if (nl < HTML_NAME_MAX)
				name[nl++] = (char)(s[i] | 0x20);
			i++;
		}
		if (nl == 0 && i < n && s[i] == '=')
			i++;	/* "=" with no name: skip it */
		name[nl] = '\0';
		while (i < n && is_space(s[i]))
			i++;
		if (i >= n || s[i] != '=')
			continue;		/* an attribute with no value */
		i++;
		while (i < n && is_space(s[i]))
			i++;
		if (i < n && (s[i] == '"' || s[i] == '\'')) {
			const unsigned char *q = memchr(s + i + 1, s[i], n - i - 1);

			vs = i + 1;
			ve = q != NULL ? (size_t)(q - s) : n;
			i = q != NULL ? ve + 1 : n;
		} else {
			vs = i;
			while (i < n && !is_space(s[i]) && s[i] != '>')
				i++;
			ve = i;
		}
		if ((strcmp(name, "href") == 0 || strcmp(name, "src") == 0 ||
		     strcmp(name, "action") == 0) && ve - vs <= HTML_URL_MAX) {
			const unsigned char *v = s + vs;
			size_t vl = ve - vs;

			sbuf_reset(&val);
			decode_entities(&val, v, vl);
			v = (const unsigned char *)val.data;
			vl = val.len;
			while (vl > 0 && is_space(*v))
				v++, vl--;
			while (vl > 0 && is_space(v[vl - 1]))
				vl--;
			html_link_add(h->links, h->nlinks, h->max_links,
				      (const char *)v, vl);
		}
	}
	sbuf_free(&val);
	h->i = i < n ? i + 1 : n;
}

/* tag - a tag at h->i ("<" and a letter or "/") */
static void
tag(struct html *h)
{
	const unsigned char *s = h->s;
	char name[HTML_NAME_MAX + 1];
	size_t n = h->n, i = h->i + 1, nl = 0, k;
	int closing = 0;

	if (s[i] == '/') {
		closing = 1;
		i++;
	}
	while (i < n && is_alnum(s[i])) {
		if (nl < HTML_NAME_MAX)
			name[nl++] = (char)(s[i] | 0x20);
		i++;
	}
	name[nl] = '\0';
	h->i = i;
	tag_attrs(h);
	for (k = 0; k < sizeof(blocks) / sizeof(blocks[0]); k++)
		if (strcmp(name, blocks[k]) == 0)
			break;
	if (k < sizeof(blocks) / sizeof(blocks[0]))
		text_break(h, strcmp(name, "p") == 0 && !closing ? 2 : 1);
	else if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0)
		text_space(h);
	if (!closing && (strcmp(name, "script") == 0 ||
			 strcmp(name, "style") == 0)) {
		/* the content, to the closing tag (or the end), is dropped */
		size_t end = find_ci(s, n, h->i,
				     name[1] == 'c' ? "</script" : "</style");
		const unsigned char *gt;

		if (end >= n) {
			h->i = n;
			return;
		}
		gt = memchr(s + end, '>', n - end);
		h->i = gt != NULL ? (size_t)(gt - s) + 1 : n;
	}
}

/* markup - "<" at h->i: a comment, a declaration, a tag, or text */
static void
markup(struct html *h)
{
	const unsigned char *s = h->s, *p;
	size_t n = h->n, i = h->i;

	if (i + 3 < n && memcmp(s + i, "<!--", 4) == 0) {
		p = memmem(s + i + 4, n - i - 4, "-->", 3);
		h->i = p != NULL ? (size_t)(p - s) + 3 : n;
	} else if (i + 1 < n && (s[i + 1] == '!' || s[i + 1] == '?')) {
		p = memchr(s + i, '>', n - i);
		h->i = p != NULL ? (size_t)(p - s) + 1 : n;
	} else if (i + 1 < n && (is_alpha(s[i + 1]) || s[i + 1] == '/')) {
		tag(h);
	} else {
		text_put(h, "<", 1);
		h->i++;
	}
}

/* html_to_text - the text and links of an HTML document */
void
html_to_text(const char *html, size_t len, struct sbuf *text,
	     struct mime_link **links, size_t *nlinks, size_t max_links)
{
	struct html h = {
		.s = (const unsigned char *)html, .n = len, .out = text,
		.links = links, .nlinks = nlinks, .max_links = max_links,
		.nl = 2,		/* nothing before: no break needed */
	};
	const unsigned char *s = h.s;
	size_t start = text->len, run, k;
	uint32_t cp;

	while (h.i < h.n) {
		unsigned char c = s[h.i];

		if (c == '<') {
			markup(&h);
		} else if (c == '&' && (k = entity(s + h.i, h.n - h.i, &cp)) > 0) {
			if (cp == 0xa0 || is_space((int)cp)) {
				text_space(&h);
			} else {
				text_put(&h, "", 0);
				put_utf8(text, cp);
			}
			h.i += k;
		} else if (is_space(c) || c == 0) {
			text_space(&h);
			h.i++;
		} else {
			for (run = h.i + 1; run < h.n && s[run] != '<' &&
			     s[run] != '&' && !is_space(s[run]) && s[run] != 0; run++)
				;
			text_put(&h, s + h.i, run - h.i);
			h.i = run;
		}
	}
	/* no trailing break */
	while (text->len > start && text->data[text->len - 1] == '\n')
		text->data[--text->len] = '\0';
}
