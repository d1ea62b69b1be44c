/*
 * util - memory and string helpers (see util.h).
 *
 * Diagnostics: running out of memory and a broken invariant are fatal and
 * reported on stderr with the caller's file and line; nothing here logs.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

/* util_panic - report a broken invariant and abort */
void
util_panic(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "relayguard: panic: %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* util_malloc - malloc that never returns NULL */
void *
util_malloc(size_t n, const char *file, int line)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		util_panic(file, line, "out of memory (%zu bytes)", n);
	return p;
}

/* util_calloc - calloc that never returns NULL */
void *
util_calloc(size_t c, size_t n, const char *file, int line)
{
	void *p = calloc(c ? c : 1, n ? n : 1);

	if (p == NULL)
		util_panic(file, line, "out of memory (%zu x %zu bytes)", c, n);
	return p;
}

/* util_realloc - realloc that never returns NULL */
void *
util_realloc(void *old, size_t n, const char *file, int line)
{
	void *p = realloc(old, n ? n : 1);

	if (p == NULL)
		util_panic(file, line, "out of memory (%zu bytes)", n);
	return p;
}

/* util_strdup - strdup that never returns NULL */
char *
util_strdup(const char *s, const char *file, int line)
{
	return util_strndup(s, strlen(s), file, line);
}

/* util_strndup - copy at most n bytes of s, always terminated */
char *
util_strndup(const char *s, size_t n, const char *file, int line)
{
	size_t len = strnlen(s, n);
	char *p = util_malloc(len + 1, file, line);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* util_strlcpy - bounded copy that always terminates */
size_t
util_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size > 0) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

/* util_trim - strip white space at both ends, in place */
char *
util_trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* util_parse_size - parse a byte count with an optional k/M/G suffix */
long long
util_parse_size(const char *s)
{
	char *end;
	unsigned long long v, mult = 1;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K':
		mult = 1024ULL;
		end++;
		break;
	case 'm': case 'M':
		mult = 1024ULL * 1024;
		end++;
		break;
	case 'g': case 'G':
		mult = 1024ULL * 1024 * 1024;
		end++;
		break;
	default:
		return -1;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end != '\0' || v > (unsigned long long)(1LL << 50) / mult)
		return -1;
	return (long long)(v * mult);
}

/* util_parse_bool - parse the usual spellings of a boolean */
int
util_parse_bool(const char *s)
{
	static const char *yes[] = { "yes", "true", "on", "1" };
	static const char *no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

/* util_hex_value - value of a hex digit, -1 if it is not one */
int
util_hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* util_sanitize - make untrusted bytes safe for a log line */
void
util_sanitize(char *dst, size_t size, const char *src, size_t len)
{
	size_t o = 0;

	if (size == 0)
		return;
	for (size_t i = 0; i < len && o + 1 < size; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			dst[o++] = (char)c;
		} else {
			if (o + 5 > size)
				break;
			snprintf(dst + o, 5, "\\x%02x", c);
			o += 4;
		}
	}
	dst[o] = '\0';
}

void
sbuf_init(struct sbuf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

void
sbuf_free(struct sbuf *b)
{
	free(b->data);
	sbuf_init(b);
}

void
sbuf_reset(struct sbuf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* sbuf_grow - make room for n more bytes and the NUL */
static void
sbuf_grow(struct sbuf *b, size_t n)
{
	size_t need = b->len + n + 1;

	if (need <= b->cap)
		return;
	if (need < b->len)
		PANIC("sbuf size overflow");
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

void
sbuf_append(struct sbuf *b, const void *data, size_t len)
{
	sbuf_grow(b, len);
	if (len > 0)	/* an empty sbuf's data is NULL: memcpy wants none */
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void
sbuf_puts(struct sbuf *b, const char *s)
{
	sbuf_append(b, s, strlen(s));
}

void
sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		PANIC("bad format %s", fmt);
	sbuf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *
sbuf_steal(struct sbuf *b)
{
	char *p = b->data ? b->data : xstrdup("");

	sbuf_init(b);
	return p;
}

void
strlist_parse(struct strlist *l, const char *text, int lower)
{
	char *copy = xstrdup(text), *save = NULL, *w;

	l->v = NULL;
	l->n = 0;
	for (w = strtok_r(copy, ", \t", &save); w; w = strtok_r(NULL, ", \t",
	     &save)) {
		if (lower)
			for (char *p = w; *p; p++)
				if (*p >= 'A' && *p <= 'Z')
					*p = (char)(*p - 'A' + 'a');
		l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
		l->v[l->n++] = xstrdup(w);
	}
	free(copy);
}

void
strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int
strlist_has(const struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcasecmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

/* util_isort_u64 - insertion sort, for short runs */
static void
util_isort_u64(uint64_t *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		uint64_t x = v[i];
		size_t j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

size_t
util_sort_unique_u64(uint64_t *v, size_t n)
{
	size_t m = 0;

	if (n < 64) {
		util_isort_u64(v, n);
	} else {
		uint64_t *tmp = xmalloc(n * sizeof(*tmp)), *src = v, *dst = tmp;
		size_t (*count)[256] = xcalloc(8, sizeof(*count));

		/* one pass over the data counts every byte position */
		for (size_t i = 0; i < n; i++)
			for (int b = 0; b < 8; b++)
				count[b][(v[i] >> (8 * b)) & 0xff]++;
		for (int b = 0; b < 8; b++) {
			size_t pos = 0, c;
			uint64_t *sw;

			if (count[b][(v[0] >> (8 * b)) & 0xff] == n)
				continue;	/* every value has this byte */
			for (int k = 0; k < 256; k++) {
				c = count[b][k];
				count[b][k] = pos;
				pos += c;
			}
			for (size_t i = 0; i < n; i++)
				dst[count[b][(src[i] >> (8 * b)) & 0xff]++] =
				    src[i];
			sw = src;
			src = dst;
			dst = sw;
		}
		if (src != v)
			memcpy(v, src, n * sizeof(*v));
		free(count);
		free(tmp);
	}
	for (size_t i = 0; i < n; i++)
		if (m == 0 || v[m - 1] != v[i])
			v[m++] = v[i];
	return m;
}
