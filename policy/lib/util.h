/*
 * util - memory and string helpers that never return NULL.
 *
 * The allocators abort the process with file and line when memory runs out,
 * so callers never check for NULL.  sbuf is a growable byte buffer that
 * keeps a NUL after its data, with an optional hard limit.
 */
#ifndef RG_UTIL_H
#define RG_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

#define xmalloc(n)	util_malloc((n), __FILE__, __LINE__)
#define xcalloc(c, n)	util_calloc((c), (n), __FILE__, __LINE__)
#define xrealloc(p, n)	util_realloc((p), (n), __FILE__, __LINE__)
#define xstrdup(s)	util_strdup((s), __FILE__, __LINE__)
#define xstrndup(s, n)	util_strndup((s), (n), __FILE__, __LINE__)

void *util_malloc(size_t, const char *, int);
void *util_calloc(size_t, size_t, const char *, int);
void *util_realloc(void *, size_t, const char *, int);
char *util_strdup(const char *, const char *, int);
char *util_strndup(const char *, size_t, const char *, int);

/* util_panic - report a broken invariant with file and line, then abort */
void util_panic(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));
#define PANIC(...) util_panic(__FILE__, __LINE__, __VA_ARGS__)

/* util_strlcpy - bounded copy that always terminates; returns strlen(src) */
size_t util_strlcpy(char *dst, const char *src, size_t size);
/* util_hex_value - value of a hex digit, -1 if it is not one */
int util_hex_value(int c);
/* util_trim - strip leading and trailing white space in place */
char *util_trim(char *s);
/* util_parse_size - "10240000", "10k", "50M", "1G" to bytes; -1 if bad */
long long util_parse_size(const char *s);
/* util_parse_bool - yes/no/true/false/on/off/1/0; -1 if bad */
int util_parse_bool(const char *s);
/*
 * util_sort_unique_u64 - sort n 64-bit values ascending and drop repeats
 * in place (an LSD radix sort: no compare callback; passes whose byte is
 * the same in every value are skipped); returns how many are left
 */
size_t util_sort_unique_u64(uint64_t *v, size_t n);
/* util_sanitize - copy printable ASCII, escaping the rest as \xNN */
void util_sanitize(char *dst, size_t size, const char *src, size_t len);

struct sbuf {
	char	*data;
	size_t	len;
	size_t	cap;
};

void sbuf_init(struct sbuf *);
void sbuf_free(struct sbuf *);
void sbuf_reset(struct sbuf *);
void sbuf_append(struct sbuf *, const void *data, size_t len);
void sbuf_puts(struct sbuf *, const char *);
void sbuf_printf(struct sbuf *, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* sbuf_steal - hand over the NUL-terminated data; the buffer is empty after */
char *sbuf_steal(struct sbuf *);

/* strlist - a list of words from "a, b c" (commas and/or white space) */
struct strlist {
	char	**v;
	size_t	n;
};

void strlist_parse(struct strlist *, const char *text, int lower);
void strlist_free(struct strlist *);
/* strlist_has - is s in the list, ignoring ASCII case */
int strlist_has(const struct strlist *, const char *s);

#endif
