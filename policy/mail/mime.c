/*
 * mime - one walk of a message's MIME structure with GMime 3 (see mime.h).
 *
 * The bytes: a memory spool is handed to GMime as it is, a file spool is
 * mapped (mmap, so the descriptor's offset is never used or moved); in
 * both cases a GMimeStreamMem that does not own them wraps them, so a
 * 40 MB message costs no copy.  Before GMime sees them, prescan() cuts
 * the message short where it could only make GMime build a huge tree:
 * GMime's parser recurses once per multipart level and builds every part
 * it finds, however many, before we may look at the first (measurements
 * in DESIGN-NOTES.md), so the message is cut at the line of its
 * (max_parts)th multipart Content-Type field or of its (4 * max_parts)th
 * line that starts with "--" (a boundary, or a signature separator), and
 * at a header field longer than MIME_FIELD_MAX (64 KB, 65 times what RFC
 * 5322 allows), which GMime would copy several times over: a 40 MB
 * Subject cost 1 s and 160 MB.  Such a cut is MIME_TRUNCATED.
 *
 * The walk recurses over multiparts and message/rfc822 parts with a depth
 * counter and stops at max_depth and max_parts.  A leaf text part is
 * decoded by reading its encoded content in chunks through GMime's
 * GMimeEncoding decoder (base64, quoted-printable, uuencode) and stops
 * once the bytes still allowed by max_text are decoded: a huge part costs
 * no more than the budget, however it is encoded.  The encoded bytes read
 * are checked on the way for what GMime's decoder passes over silently
 * (MIME_BAD_ENCODING): base64 with bytes outside its alphabet or cut
 * short (a number of digits that is no multiple of four), quoted-
 * printable with "=" not followed by two hex digits or a line break
 * (an "=" as the part's last byte included).  The text is converted to
 * UTF-8 by charset.c (iconv); a part without charset is UTF-8 if it is
 * valid UTF-8, else windows-1252, unflagged; a charset iconv does not
 * know, an empty or malformed name, or bytes invalid in the charset are
 * MIME_BAD_CHARSET, the bytes then kept as far as they are UTF-8.
 *
 * Text of a multipart/alternative: its text/plain parts go to the text,
 * its text/html parts only when it has no text/plain part.  When it has
 * both, their words are compared: each side's set of distinct words
 * (letters, digits and non-ASCII bytes, at least two bytes, ASCII
 * lower-cased, at most MIME_WORDS_MAX a side), and the twins differ
 * (MIME_TEXT_HTML_DIFFER) when they share fewer than half the words of
 * the two sets together (|A and B| < |A or B| / 2), the Jaccard index
 * under 1/2: a text twin made from the HTML shares nearly all of them, a
 * text twin written for the filters shares few.
 *
 * GMime's parser warnings set flags: a multipart without boundary, or a
 * truncated or malformed multipart (its closing boundary never came) is
 * MIME_NO_BOUNDARY; GMime's own nesting limit is MIME_TRUNCATED.
 * GMime objects live for one call, so calls in several threads share
 * nothing but GMime's process-wide tables, set up by mime_global_init.
 * Nothing is logged here.
 */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>

#include <gmime/gmime.h>

#include "charset.h"
#include "mime.h"
#include "util.h"

#define MIME_HEADER_MAX	16384	/* bytes of a header field decoded */
#define MIME_WORDS_MAX	4096	/* words a side compared */
#define MIME_CHUNK	8192	/* encoded bytes read at a time */
#define MIME_FIELD_MAX	65536	/* a longer header field cuts the message */

/* the text of one multipart/alternative */
struct group {
	struct sbuf	plain, html;
	int		has_plain, has_html;
};

struct walk {
	const struct mime_limits *lim;
	struct mime_doc	*doc;
	size_t		used;		/* decoded text bytes so far */
	size_t		visited;	/* parts visited */
	struct sbuf	html;		/* text of HTML parts with no twin */
};

static pthread_once_t mime_once = PTHREAD_ONCE_INIT;

/* mime_init_once - GMime's process-wide set-up */
static void
mime_init_once(void)
{
	g_mime_init();
}

/* mime_global_init - once per process, before threads */
void
mime_global_init(void)
{
	pthread_once(&mime_once, mime_init_once);
}

/* mime_limits_default - the limits of mime.h */
void
mime_limits_default(struct mime_limits *lim)
{
	lim->max_depth = 20;
	lim->max_parts = 500;
	lim->max_text = 1024 * 1024;
	lim->max_links = 200;
}

/* line_starts_ci - the line at s (n bytes) starts with w, ignoring case */
static int
line_starts_ci(const unsigned char *s, size_t n, const char *w)
{
	size_t wl = strlen(w);

	return n >= wl && strncasecmp((const char *)s, w, wl) == 0;
}

/* has_multipart - "multipart" in the first bytes of s */
static int
has_multipart(const unsigned char *s, size_t n)
{
	if (n > 256)
		n = 256;
	for (size_t i = 0; i + 9 <= n; i++)
		if ((s[i] | 0x20) == 'm' &&
		    strncasecmp((const char *)s + i, "multipart", 9) == 0)
			return 1;
	return 0;
}

/*
 * prescan - the length of the message GMime may see (see the header
 * comment); len when nothing needs to be cut.  A header block is the
 * message's own, or one after a line that starts with "--" (a boundary,
 * as far as one can tell without parsing), up to its empty line.
 */
static size_t
prescan(const unsigned char *s, size_t len, const struct mime_limits *lim)
{
	size_t i = 0, nmulti = 0, ndash = 0, eol, next, field = 0;
	size_t max_multi = lim->max_parts > 0 ? (size_t)lim->max_parts : 1;
	size_t max_dash = 4 * max_multi;
	const unsigned char *nl;
	int in_header = 1;

	while (i < len) {
		nl = memchr(s + i, '\n', len - i);
		eol = nl != NULL ? (size_t)(nl - s) : len;
		next = nl != NULL ? eol + 1 : len;
		if (in_header) {
			if (eol - i == 0 || (eol - i == 1 && s[i] == '\r'))
				in_header = 0;
			else if (s[i] == ' ' || s[i] == '\t')
				field += next - i;	/* folded */
			else
				field = next - i;
			if (field > MIME_FIELD_MAX)
				return i;
		}
		if (line_starts_ci(s + i, eol - i, "content-type:")) {
			/* the value may be folded onto the next line */
			size_t end = eol;

			if (next < len && (s[next] == ' ' || s[next] == '\t')) {
				nl = memchr(s + next, '\n', len - next);
				end = nl != NULL ? (size_t)(nl - s) : len;
			}
			if (has_multipart(s + i + 13, end - i - 13) &&
			    ++nmulti > max_multi)
				return i;
		} else if (eol - i >= 2 && s[i] == '-' && s[i + 1] == '-') {
			if (++ndash > max_dash)
				return i;
			in_header = 1;
			field = 0;
		}
		i = next;
	}
	return len;
}

/* on_warning - GMime's parser warnings, as flags */
static void
on_warning(gint64 offset, GMimeParserWarning code, const gchar *item,
	   gpointer user)
{
	struct walk *w = user;

	switch (code) {
	case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
	case GMIME_WARN_MALFORMED_MULTIPART:
	case GMIME_WARN_TRUNCATED_MESSAGE:
		w->doc->flags |= MIME_NO_BOUNDARY;
		break;
	case GMIME_CRIT_NESTING_OVERFLOW:
		w->doc->flags |= MIME_TRUNCATED;
		break;
	default:
		break;
	}
}

/* header_text - a header field of msg, unfolded, RFC 2047 decoded, UTF-8 */
static char *
header_text(GMimeObject *obj, const char *name, GMimeParserOptions *opts)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
	GMimeHeader *h;
	const char *raw;
	char *cut, *unfolded, *dec;
	struct sbuf out;

	if (hl == NULL || (h = g_mime_header_list_get_header(hl, name)) == NULL ||
	    (raw = g_mime_header_get_raw_value(h)) == NULL)
		return xstrdup("");
	cut = g_strndup(raw, MIME_HEADER_MAX);
	unfolded = g_mime_utils_header_unfold(cut);
	dec = g_mime_utils_header_decode_text(opts, unfolded);
	sbuf_init(&out);
	if (dec != NULL)
		charset_utf8_clean(&out, (const unsigned char *)dec,
				   strlen(dec), 4 * MIME_HEADER_MAX);
	g_free(dec);
	g_free(unfolded);
	g_free(cut);
	return sbuf_steal(&out);
}

/* mime_date - the Date field as a time: 1 parsed, -1 there but not
 * parsed, 0 none */
static void
mime_date(GMimeObject *obj, struct mime_doc *d)
{
	const char *raw = g_mime_object_get_header(obj, "Date");
	GDateTime *dt;

	d->date = 0;
	d->date_state = 0;
	if (raw == NULL)
		return;
	d->date_state = -1;
	if ((dt = g_mime_utils_header_decode_date(raw)) == NULL)
		return;
	d->date = (long long)g_date_time_to_unix(dt);
	d->date_state = 1;
	g_date_time_unref(dt);
}

/*
 * mime_received_date - the date after the last ";" of the topmost
 * Received field that has one that parses: when the message reached the
 * last hop before us (Postfix does not pass milters its own Received),
 * or when a stored message was delivered.  GMime keeps the fields in
 * order, topmost first; at most 8 are tried.
 */
static void
mime_received_date(GMimeObject *obj, struct mime_doc *d)
{
	GMimeHeaderList *list = g_mime_object_get_header_list(obj);
	int n = list ? g_mime_header_list_get_count(list) : 0;
	int tried = 0;

	d->received_date = 0;
	for (int i = 0; i < n && tried < 8; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(list, i);
		const char *v, *semi;
		GDateTime *dt;

		if (g_ascii_strcasecmp(g_mime_header_get_name(h),
				       "Received") != 0)
			continue;
		tried++;
		if ((v = g_mime_header_get_raw_value(h)) == NULL ||
		    (semi = strrchr(v, ';')) == NULL)
			continue;
		if ((dt = g_mime_utils_header_decode_date(semi + 1)) == NULL)
			continue;
		d->received_date = (long long)g_date_time_to_unix(dt);
		g_date_time_unref(dt);
		if (d->received_date > 0)
			return;
		d->received_date = 0;
	}
}

/* b64_char - a byte of the base64 alphabet (padding apart) */
static int
b64_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* the check of encoded bytes, kept across chunks */
struct enc_check {
	GMimeContentEncoding enc;
	size_t		digits;		/* base64: digits and pads seen */
	int		qp;		/* QP: 0 text, 1 "=", 2 "=X", 3 "= " */
	int		bad;
};

/* enc_check - look at n encoded bytes for flaws the decoder hides */
static void
enc_check(struct enc_check *c, const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n && !c->bad; i++) {
		unsigned char b = s[i];

		if (c->enc == GMIME_CONTENT_ENCODING_BASE64) {
			if (b64_char(b) || b == '=')
				c->digits++;
			else if (b != '\r' && b != '\n' && b != ' ' && b != '\t')
				c->bad = 1;
			continue;
		}
		switch (c->qp) {
		case 0:
			if (b == '=')
				c->qp = 1;
			break;
		case 1:
			if (util_hex_value(b) >= 0)
				c->qp = 2;
			else if (b == '\n')
				c->qp = 0;
			else if (b == ' ' || b == '\t' || b == '\r')
				c->qp = 3;
			else
				c->bad = 1;
			break;
		case 2:
			if (util_hex_value(b) >= 0)
				c->qp = 0;
			else
				c->bad = 1;
			break;
		default:	/* a soft break with white space before it */
			if (b == '\n')
				c->qp = 0;
			else if (b != ' ' && b != '\t' && b != '\r')
				c->bad = 1;
			break;
		}
	}
}

/*
 * part_bytes - the decoded content of part, at most room bytes, into raw;
 * 1 when room stopped it.
 */
static int
part_bytes(struct walk *w, GMimePart *part, size_t room, struct sbuf *raw)
{
	GMimeDataWrapper *dw = g_mime_part_get_content(part);
	GMimeStream *st;
	GMimeEncoding state;
	struct enc_check chk = { 0 };
	char in[MIME_CHUNK], *out;
	int decode, cut = 0;
	ssize_t n;
	size_t k;

	if (dw == NULL || (st = g_mime_data_wrapper_get_stream(dw)) == NULL)
		return 0;
	chk.enc = g_mime_data_wrapper_get_encoding(dw);
	decode = chk.enc == GMIME_CONTENT_ENCODING_BASE64 ||
	    chk.enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    chk.enc == GMIME_CONTENT_ENCODING_UUENCODE;
	if (decode)
		g_mime_encoding_init_decode(&state, chk.enc);
	out = xmalloc(2 * MIME_CHUNK + 64);
	g_mime_stream_reset(st);
	while (!cut && (n = g_mime_stream_read(st, in, sizeof(in))) > 0) {
		if (!decode) {
			k = (size_t)n;
			memcpy(out, in, k);
		} else {
			if (chk.enc != GMIME_CONTENT_ENCODING_UUENCODE)
				enc_check(&chk, (unsigned char *)in, (size_t)n);
			k = g_mime_encoding_step(&state, in, (size_t)n, out);
		}
		if (k >= room - raw->len) {
			k = room - raw->len;
			cut = 1;
		}
		sbuf_append(raw, out, k);
	}
	if (decode && !cut) {
		k = g_mime_encoding_flush(&state, "", 0, out);
		if (k > room - raw->len) {
			k = room - raw->len;
			cut = 1;
		}
		sbuf_append(raw, out, k);
		if (chk.enc == GMIME_CONTENT_ENCODING_BASE64 && chk.digits % 4)
			chk.bad = 1;	/* cut short */
		if (chk.enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE &&
		    chk.qp != 0)
			chk.bad = 1;	/* "=" at the end */
	}
	free(out);
	if (chk.bad)
		w->doc->flags |= MIME_BAD_ENCODING;
	return cut;
}

/* cs_is - the charset name is one of the list (NULL-terminated) */
static int
cs_is(const char *cs, const char *const *names)
{
	for (; *names != NULL; names++)
		if (strcasecmp(cs, *names) == 0)
			return 1;
	return 0;
}

/* to_utf8 - raw bytes in charset cs (NULL: none given) to UTF-8 in out */
static void
to_utf8(struct walk *w, const char *cs, const struct sbuf *raw,
	size_t room, struct sbuf *out)
{
	static const char *const utf8[] = { "utf-8", "utf8", "us-ascii",
					    "ascii", NULL };
	const unsigned char *b = (const unsigned char *)raw->data;
	struct sbuf conv;
	size_t i, k;
	long bad;

	if (cs == NULL) {
		for (i = 0; i < raw->len; i += k)
			if ((k = charset_utf8_len(b + i, raw->len - i)) == 0)
				break;
		if (i < raw->len) {
			cs = "windows-1252";	/* not UTF-8: the usual guess */
		} else {
			charset_utf8_clean(out, b, raw->len, room);
			return;
		}
	} else if (cs_is(cs, utf8)) {
		if (charset_utf8_clean(out, b, raw->len, room) > 0)
			w->doc->flags |= MIME_BAD_CHARSET;
		return;
	}
	sbuf_init(&conv);
	bad = charset_iconv(&conv, b, raw->len, g_mime_charset_iconv_name(cs),
			    room);
	if (bad != 0)
		w->doc->flags |= MIME_BAD_CHARSET;
	if (bad < 0)
		charset_utf8_clean(out, b, raw->len, room);
	else	/* UTF-8 now; controls still become spaces */
		charset_utf8_clean(out, (unsigned char *)conv.data, conv.len, room);
	sbuf_free(&conv);
}

/* doc_text - append n bytes of text to the document, within max_text */
static void
doc_text(struct walk *w, const char *s, size_t n)
{
	struct sbuf *t = &w->doc->text;
	size_t max = w->lim->max_text;

	if (n == 0)
		return;
	if (t->len > 0 && t->len < max)
		sbuf_append(t, "\n", 1);
	if (t->len + n > max) {
		n = max > t->len ? max - t->len : 0;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;	/* not in the middle of a character */
		w->doc->flags |= MIME_TRUNCATED;
	}
	sbuf_append(t, s, n);
}

/* is_url_char - a byte that may be part of a URL written in text */
static int
is_url_char(unsigned char c)
{
	return c > 0x20 && c != '<' && c != '>' && c != '"' && c != '\'' &&
	    c != '`' && c != 0x7f;
}

/* text_links - http://, https:// and www. links written in text */
static void
text_links(struct walk *w, const char *s, size_t n)
{
	struct mime_doc *d = w->doc;
	size_t i, e;

	for (i = 0; i < n && d->nlinks < w->lim->max_links; i++) {
		if ((s[i] | 0x20) != 'h' && (s[i] | 0x20) != 'w')
			continue;
		if (i > 0 && (isalnum((unsigned char)s[i - 1]) ||
			      s[i - 1] == '.' || s[i - 1] == '/' ||
			      s[i - 1] == '@'))
			continue;
		if (!(n - i >= 7 && strncasecmp(s + i, "http://", 7) == 0) &&
		    !(n - i >= 8 && strncasecmp(s + i, "https://", 8) == 0) &&
		    !(n - i >= 5 && strncasecmp(s + i, "www.", 4) == 0 &&
		      isalnum((unsigned char)s[i + 4])))
			continue;
		for (e = i; e < n && is_url_char((unsigned char)s[e]); e++)
			;
		while (e > i && strchr(".,;:!?)]}", s[e - 1]) != NULL)
			e--;
		html_link_add(&d->links, &d->nlinks, w->lim->max_links,
			      s + i, e - i);
		i = e;
	}
}

/* leaf - a part that is no container */
static void
leaf(struct walk *w, GMimeObject *obj, struct group *g)
{
	struct mime_doc *d = w->doc;
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	int plain, html;
	size_t room;
	struct sbuf raw, text, htext;

	d->nparts++;
	plain = ct == NULL || g_mime_content_type_is_type(ct, "text", "plain");
	html = ct != NULL && g_mime_content_type_is_type(ct, "text", "html");
	if (!GMIME_IS_PART(obj) ||
	    g_mime_part_is_attachment(GMIME_PART(obj)) || (!plain && !html)) {
		d->nattach++;
		return;
	}
	if (plain)
		d->ntext++;
	else
		d->nhtml++;
	if (w->used >= w->lim->max_text) {
		d->flags |= MIME_TRUNCATED;
		return;
	}
	room = w->lim->max_text - w->used;
	sbuf_init(&raw);
	sbuf_init(&text);
	if (part_bytes(w, GMIME_PART(obj), room, &raw))
		d->flags |= MIME_TRUNCATED;
	to_utf8(w, g_mime_object_get_content_type_parameter(obj, "charset"),
		&raw, room, &text);
	sbuf_free(&raw);
	w->used += text.len;
	if (plain) {
		doc_text(w, text.data, text.len);
		text_links(w, text.data, text.len);
		if (g != NULL) {
			g->has_plain = 1;
			sbuf_append(&g->plain, text.data, text.len);
			sbuf_append(&g->plain, "\n", 1);
		}
	} else {
		sbuf_init(&htext);
		html_to_text(text.data, text.len, &htext, &d->links, &d->nlinks,
			     w->lim->max_links);
		if (g != NULL) {
			g->has_html = 1;
			sbuf_append(&g->html, htext.data, htext.len);
			sbuf_append(&g->html, "\n", 1);
		} else if (htext.len > 0) {
			sbuf_append(&w->html, htext.data, htext.len);
			sbuf_append(&w->html, "\n", 1);
		}
		sbuf_free(&htext);
	}
	sbuf_free(&text);
}

/* word_cmp - qsort on strings */
static int
word_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* word_set - the distinct words of s, sorted; their number */
static size_t
word_set(const char *s, size_t n, char ***out)
{
	char **v = xmalloc(MIME_WORDS_MAX * sizeof(*v));
	size_t i = 0, j, k, cnt = 0, u;

	while (i < n && cnt < MIME_WORDS_MAX) {
		unsigned char c = (unsigned char)s[i];

		if (!isalnum(c) && c < 0x80) {
			i++;
			continue;
		}
		for (j = i; j < n && (isalnum((unsigned char)s[j]) ||
				      (unsigned char)s[j] >= 0x80); j++)
			;
		if (j - i >= 2) {
			v[cnt] = xstrndup(s + i, j - i);
			for (k = 0; v[cnt][k] != '\0'; k++)
				if (v[cnt][k] >= 'A' && v[cnt][k] <= 'Z')
					v[cnt][k] = (char)(v[cnt][k] + 32);
			cnt++;
		}
		i = j;
	}
	qsort(v, cnt, sizeof(*v), word_cmp);
	for (i = 0, u = 0; i < cnt; i++) {
		if (u > 0 && strcmp(v[u - 1], v[i]) == 0)
			free(v[i]);
		else
			v[u++] = v[i];
	}
	*out = v;
	return u;
}

/* twins_differ - the rule of the header comment */
static int
twins_differ(const struct sbuf *plain, const struct sbuf *html)
{
	char **a, **b;
	size_t na = word_set(plain->data, plain->len, &a);
	size_t nb = word_set(html->data, html->len, &b);
	size_t i = 0, j = 0, shared = 0, all;
	int c;

	while (i < na && j < nb) {
		if ((c = strcmp(a[i], b[j])) == 0)
			shared++, i++, j++;
		else if (c < 0)
			i++;
		else
			j++;
	}
	all = na + nb - shared;
	for (i = 0; i < na; i++)
		free(a[i]);
	for (j = 0; j < nb; j++)
		free(b[j]);
	free(a);
	free(b);
	return all > 0 && 2 * shared < all;
}

/* group_end - the end of a multipart/alternative */
static void
group_end(struct walk *w, struct group *ng, struct group *outer)
{
	if (ng->has_plain && ng->has_html &&
	    twins_differ(&ng->plain, &ng->html))
		w->doc->flags |= MIME_TEXT_HTML_DIFFER;
	if (outer != NULL) {
		/* a nested alternative: its text is the outer one's */
		outer->has_plain |= ng->has_plain;
		sbuf_append(&outer->plain, ng->plain.data, ng->plain.len);
		if (!ng->has_plain) {
			outer->has_html |= ng->has_html;
			sbuf_append(&outer->html, ng->html.data, ng->html.len);
		}
	} else if (!ng->has_plain)
		sbuf_append(&w->html, ng->html.data, ng->html.len);
	sbuf_free(&ng->plain);
	sbuf_free(&ng->html);
}

/* walk - a part at depth, inside the alternative g (or none) */
static void
walk(struct walk *w, GMimeObject *obj, int depth, struct group *g)
{
	struct mime_doc *d = w->doc;

	if (obj == NULL)
		return;
	if (depth > w->lim->max_depth ||
	    w->visited >= (size_t)w->lim->max_parts) {
		d->flags |= MIME_TRUNCATED;
		return;
	}
	w->visited++;
	if (depth > d->depth)
		d->depth = depth;
	if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *m =
		    g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));

		if (m != NULL)
			walk(w, g_mime_message_get_mime_part(m), depth + 1, g);
	} else if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		GMimeContentType *ct = g_mime_object_get_content_type(obj);
		struct group ng = { 0 }, *in = g;
		int n = g_mime_multipart_get_count(mp);

		if (ct == NULL ||
		    g_mime_content_type_get_parameter(ct, "boundary") == NULL)
			d->flags |= MIME_NO_BOUNDARY;
		if (ct != NULL &&
		    g_mime_content_type_is_type(ct, "multipart", "alternative")) {
			sbuf_init(&ng.plain);
			sbuf_init(&ng.html);
			in = &ng;
		}
		for (int i = 0; i < n; i++)
			walk(w, g_mime_multipart_get_part(mp, i), depth + 1, in);
		if (in == &ng)
			group_end(w, &ng, g);
	} else {
		leaf(w, obj, g);
	}
}

/* doc_init - an empty document */
static void
doc_init(struct mime_doc *d)
{
	memset(d, 0, sizeof(*d));
	d->subject = xstrdup("");
	d->from = xstrdup("");
	d->reply_to = xstrdup("");
	sbuf_init(&d->header);
	sbuf_init(&d->text);
}

/* parse - the message in len bytes at s into doc; 0 or -1 */
static int
parse(struct walk *w, const unsigned char *s, size_t len)
{
	static const guint8 empty[1];
	struct mime_doc *d = w->doc;
	size_t cut = prescan(s, len, w->lim);
	GByteArray *ba;
	GMimeStream *st;
	GMimeParser *parser;
	GMimeParserOptions *opts;
	GMimeMessage *msg;
	GMimeObject *top;

	if (cut < len)
		d->flags |= MIME_TRUNCATED;
	/* a byte array that GMime reads but neither owns nor frees */
	ba = g_byte_array_new_take(cut > 0 ? (guint8 *)s : (guint8 *)empty, cut);
	st = g_mime_stream_mem_new_with_byte_array(ba);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(st), FALSE);
	opts = g_mime_parser_options_new();
	g_mime_parser_options_set_rfc2047_compliance_mode(opts,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_address_compliance_mode(opts,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_parameter_compliance_mode(opts,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_warning_callback(opts, on_warning, w);
	parser = g_mime_parser_new_with_stream(st);
	msg = g_mime_parser_construct_message(parser, opts);
	if (msg != NULL) {
		top = GMIME_OBJECT(msg);
		free(d->subject);
		free(d->from);
		free(d->reply_to);
		d->subject = header_text(top, "Subject", opts);
		d->from = header_text(top, "From", opts);
		d->reply_to = header_text(top, "Reply-To", opts);
		mime_date(top, d);
		mime_received_date(top, d);
		if (g_mime_object_get_header(top, "MIME-Version") == NULL)
			d->flags |= MIME_NOT_MIME;
		walk(w, g_mime_message_get_mime_part(msg), 0, NULL);
		g_object_unref(msg);
	}
	g_object_unref(parser);
	g_object_unref(st);
	g_mime_parser_options_free(opts);
	g_byte_array_free(ba, FALSE);	/* the wrapper only: s is not ours */
	if (msg == NULL && cut == 0) {
		/* nothing left for GMime: an empty message, or one cut at
		 * its first line; a document, not a failure */
		d->flags |= MIME_NOT_MIME;
		return 0;
	}
	return msg != NULL ? 0 : -1;
}

/* mime_walk - walk the message in view into doc */
int
mime_walk(const struct spool_view *view, const struct mime_limits *lim,
	  struct mime_doc *doc)
{
	struct walk w = { .lim = lim, .doc = doc };
	void *map = NULL;
	const unsigned char *s = view->data;
	int rc;

	mime_global_init();
	doc_init(doc);
	if (s == NULL && view->fd >= 0 && view->len > 0) {
		map = mmap(NULL, view->len, PROT_READ, MAP_PRIVATE, view->fd, 0);
		if (map == MAP_FAILED)
			return -1;
		s = map;
	}
	if (s != NULL) {
		/* the header block: up to the empty line, bounded */
		size_t n = view->len < MIME_HEADER_KEEP ? view->len :
		    MIME_HEADER_KEEP;
		const unsigned char *end = memmem(s, n, "\r\n\r\n", 4);

		if (end == NULL)
			end = memmem(s, n, "\n\n", 2);
		sbuf_append(&doc->header, s, end ? (size_t)(end - s) : n);
	}
	sbuf_init(&w.html);
	rc = parse(&w, s != NULL ? s : (const unsigned char *)"",
		   s != NULL ? view->len : 0);
	if (w.html.len > 0)
		doc_text(&w, w.html.data, w.html.len - 1);
	sbuf_free(&w.html);
	if (doc->nhtml > 0 && doc->ntext == 0)
		doc->flags |= MIME_HTML_ONLY;
	if (map != NULL)
		munmap(map, view->len);
	return rc;
}

/* mime_doc_free - release what mime_walk made */
void
mime_doc_free(struct mime_doc *doc)
{
	free(doc->subject);
	free(doc->from);
	free(doc->reply_to);
	sbuf_free(&doc->header);
	sbuf_free(&doc->text);
	for (size_t i = 0; i < doc->nlinks; i++) {
		free(doc->links[i].url);
		free(doc->links[i].host);
	}
	free(doc->links);
	memset(doc, 0, sizeof(*doc));
}
