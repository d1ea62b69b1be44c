/*
 * tokens - words and sparse word pairs as 64-bit hashes (see tokens.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "casefold.h"
#include "mime.h"
#include "tokens.h"
#include "util.h"

#define TOKENS_WORD_MIN		2
#define TOKENS_WORD_MAX		40
#define TOKENS_LONG_PREFIX	8	/* a long word: its first bytes */

/* tokens_mix - splitmix64's finalizer: every input bit reaches every
 * output bit */
static uint64_t
tokens_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* tokens_hash - FNV-1a over the context byte and the text, mixed */
static uint64_t
tokens_hash(char context, const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	h ^= (unsigned char)context;
	h *= 0x100000001b3ULL;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return tokens_mix(h);
}

void
tokens_init(struct tokens *t, size_t max)
{
	memset(t, 0, sizeof(*t));
	t->max = max ? max : 1;
}

void
tokens_free(struct tokens *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* tokens_compact - sort and drop repeats, keep at most max */
static void
tokens_compact(struct tokens *t)
{
	size_t o = util_sort_unique_u64(t->v, t->n);

	t->n = o > t->max ? t->max : o;
}

/* tokens_push - one hash; the raw buffer is compacted when it fills */
static void
tokens_push(struct tokens *t, uint64_t h)
{
	if (t->n == t->cap) {
		if (t->cap >= t->max * 4) {
			tokens_compact(t);
			if (t->n >= t->max)
				return;		/* full: later tokens dropped */
		}
		if (t->n == t->cap) {
			t->cap = t->cap ? t->cap * 2 : 256;
			t->v = xrealloc(t->v, t->cap * sizeof(*t->v));
		}
	}
	t->v[t->n++] = h;
}

void
tokens_add(struct tokens *t, char context, const char *text, size_t len)
{
	tokens_push(t, tokens_hash(context, text, len));
}

void
tokens_finish(struct tokens *t)
{
	tokens_compact(t);
}

/* tokens_wordbyte - part of a word: ASCII letters and digits, any byte of
 * a UTF-8 sequence (non-ASCII letters; punctuation beyond ASCII is rare
 * enough to count as letters) */
static int
tokens_wordbyte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c >= 0x80;
}

/* tokens_joiner - a mark that joins two word bytes: don't, e-mail,
 * snake_case, example.com */
static int
tokens_joiner(unsigned char c)
{
	return c == '\'' || c == '-' || c == '_' || c == '.';
}

/*
 * tokens_word - fold one word into a token text in buf (size at least
 * TOKENS_WORD_MAX * 4 + 16); its length, or 0 to skip it
 */
static size_t
tokens_word(const char *w, size_t len, char *buf, size_t size)
{
	int ascii = 1, digits = 1;
	size_t n;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)w[i];

		if (c >= 0x80)
			ascii = 0;
		if (c < '0' || c > '9')
			digits = 0;
	}
	if (len < TOKENS_WORD_MIN)
		return 0;
	if (digits && len > 4)
		return (size_t)snprintf(buf, size, "#num%zu", len);
	if (len > TOKENS_WORD_MAX) {
		/* a long run (base64 left in text, CJK without spaces): its
		 * start, cut on a UTF-8 boundary */
		size_t cut = TOKENS_LONG_PREFIX;

		while (cut < len && ((unsigned char)w[cut] & 0xc0) == 0x80)
			cut++;
		len = cut;
		n = (size_t)snprintf(buf, size, "#long:");
	} else {
		n = 0;
	}
	if (ascii) {
		for (size_t i = 0; i < len && n + 1 < size; i++) {
			char c = w[i];

			buf[n++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
		}
	} else {
		char *f = casefold_len(w, len);
		size_t fl = strlen(f);

		if (fl > size - n - 1)
			fl = size - n - 1;
		memcpy(buf + n, f, fl);
		n += fl;
		free(f);
	}
	return n;
}

void
tokens_text(struct tokens *t, char context, const char *text, size_t len)
{
	uint64_t ring[TOKENS_WINDOW];
	size_t seen = 0, i = 0;
	char word[TOKENS_WORD_MAX * 4 + 16];

	while (i < len) {
		size_t start, wl;
		uint64_t h;

		while (i < len && !tokens_wordbyte((unsigned char)text[i]))
			i++;
		start = i;
		while (i < len && (tokens_wordbyte((unsigned char)text[i]) ||
		       (tokens_joiner((unsigned char)text[i]) && i + 1 < len &&
			i > start &&
			tokens_wordbyte((unsigned char)text[i + 1]))))
			i++;
		if (i == start)
			continue;
		t->words++;
		wl = tokens_word(text + start, i - start, word, sizeof(word));
		if (wl == 0)
			continue;
		h = tokens_hash(context, word, wl);
		tokens_push(t, h);
		/* OSB: this word with each of the ones before it, apart */
		for (size_t d = 1; d < TOKENS_WINDOW && d <= seen; d++) {
			uint64_t prev = ring[(seen - d) % TOKENS_WINDOW];

			tokens_push(t, tokens_mix(prev * 0x9e3779b97f4a7c15ULL ^
						  h ^ (uint64_t)d));
		}
		ring[seen % TOKENS_WINDOW] = h;
		seen++;
		if (t->n >= t->max && t->cap >= t->max * 4)
			break;
	}
}

/* tokens_from_field - the From field: the words of its display name (what
 * the reader sees: "PayPal Security", "Dr. John"), and its domain */
static void
tokens_from_field(struct tokens *t, const char *from)
{
	const char *lt = strchr(from, '<'), *at;
	size_t n;

	if (lt != NULL && lt > from)
		tokens_text(t, 'n', from, (size_t)(lt - from));
	at = strrchr(from, '@');
	if (at == NULL)
		return;
	at++;
	n = strcspn(at, "> \t\r\n,;");
	if (n > 0 && n < 256)
		tokens_text(t, 'f', at, n);
}

/*
 * tokens_header_field - one field of the message's header: its name's
 * presence, and for the fields that tell senders apart their words or
 * domains (Received: the first three only, the hops nearest the sender
 * being forged the most and told the least)
 */
static void
tokens_header_field(struct tokens *t, const char *name, size_t nlen,
		    const char *val, size_t vlen, int *received)
{
	char lname[64];
	size_t n = nlen < sizeof(lname) - 1 ? nlen : sizeof(lname) - 1;

	for (size_t i = 0; i < n; i++)
		lname[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ?
		    name[i] + 32 : name[i]);
	lname[n] = '\0';
	tokens_add(t, 'H', lname, n);
	if (strcmp(lname, "received") == 0) {
		/* not the date after ";": times say when, not who */
		const char *semi = memchr(val, ';', vlen);

		if ((*received)++ < 3)
			tokens_text(t, 'r', val, semi ? (size_t)(semi - val) :
				    vlen);
	} else if (strcmp(lname, "x-mailer") == 0 ||
		   strcmp(lname, "user-agent") == 0) {
		tokens_text(t, 'm', val, vlen);
	} else if (strcmp(lname, "content-type") == 0) {
		tokens_text(t, 'c', val, vlen);
	} else if (strcmp(lname, "to") == 0 || strcmp(lname, "cc") == 0 ||
		   strcmp(lname, "message-id") == 0 ||
		   strcmp(lname, "return-path") == 0 ||
		   strcmp(lname, "reply-to") == 0) {
		/* the domains only: the local parts are the recipients' */
		char ctx = strcmp(lname, "message-id") == 0 ? 'i' :
		    strcmp(lname, "return-path") == 0 ? 'p' :
		    strcmp(lname, "reply-to") == 0 ? 'y' : 't';

		for (size_t i = 0; i < vlen; i++) {
			size_t j;

			if (val[i] != '@')
				continue;
			for (j = i + 1; j < vlen && !strchr("> \t\r\n,;\"",
			     val[j]); j++)
				;
			if (j > i + 1)
				tokens_text(t, ctx, val + i + 1, j - i - 1);
			i = j;
		}
	}
}

/* tokens_header - the fields of a header block, unfolded */
static void
tokens_header(struct tokens *t, const char *h, size_t len)
{
	size_t i = 0;
	int received = 0, fields = 0;

	while (i < len && fields < 200) {
		size_t start = i, colon, end;

		/* one field: up to a line break not followed by white space */
		for (end = i; end < len; end++)
			if (h[end] == '\n' && (end + 1 >= len ||
			    (h[end + 1] != ' ' && h[end + 1] != '\t')))
				break;
		i = end < len ? end + 1 : len;
		for (colon = start; colon < end && h[colon] != ':'; colon++)
			;
		if (colon == start || colon >= end)
			continue;
		fields++;
		tokens_header_field(t, h + start, colon - start, h + colon + 1,
				    end - colon - 1, &received);
	}
}

void
tokens_from_doc(struct tokens *t, const struct mime_doc *doc)
{
	if (doc->header.len > 0)
		tokens_header(t, doc->header.data, doc->header.len);
	tokens_text(t, 's', doc->subject, strlen(doc->subject));
	tokens_from_field(t, doc->from);
	for (size_t i = 0; i < doc->nlinks; i++)
		if (doc->links[i].host && *doc->links[i].host)
			tokens_add(t, 'u', doc->links[i].host,
				   strlen(doc->links[i].host));
	if (doc->text.len > 0)
		tokens_text(t, 'b', doc->text.data, doc->text.len);
	tokens_finish(t);
}
