/*
 * symbols - named results of the checks, as in Rspamd.
 *
 * A check never decides: it adds symbols (a NAME, a score, a detail for
 * the log) and verdict.c alone turns them into an action.  A message holds
 * at most SYMBOLS_MAX symbols and each detail at most SYMBOL_DETAIL_MAX
 * bytes, sanitized to printable ASCII, so hostile input cannot grow them.
 */
#ifndef RG_SYMBOLS_H
#define RG_SYMBOLS_H

#include <stddef.h>

#define SYMBOLS_MAX		128
#define SYMBOL_DETAIL_MAX	256

struct symbol {
	const char	*name;		/* static string owned by the check */
	double		score;
	char		*detail;	/* sanitized, never NULL */
};

struct symbols {
	struct symbol	*v;
	size_t		count;
	size_t		cap;
};

void symbols_init(struct symbols *);
void symbols_clear(struct symbols *);
/* symbols_add - add NAME (a static string) with a printf-style detail */
void symbols_add(struct symbols *, const char *name, double score,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
const struct symbol *symbols_find(const struct symbols *, const char *name);
double symbols_score(const struct symbols *);

#endif
