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
#define SYMBOL_OPT_MAX		256

struct symbol {
	const char	*name;		/* static string owned by the check */
	double		score;
	char		*detail;	/* sanitized, never NULL */
	char		*opt[2];	/* reply arguments (an address, a
					   login), sanitized; NULL if none */
};

struct weights;

struct symbols {
	struct symbol	*v;
	size_t		count;
	size_t		cap;
	const struct weights *weights;	/* the configuration's: each
					   symbol's score is its weight */
};

void symbols_init(struct symbols *);
/* symbols_clear - empty the set (its weights stay) */
void symbols_clear(struct symbols *);
/*
 * symbols_set_weights - from now on a symbol added scores its weight in
 * w (weights.h), whatever score the check passed; without weights (unit
 * tests) the score passed stands
 */
void symbols_set_weights(struct symbols *, const struct weights *w);
/* symbols_add - add NAME (a static string) with a printf-style detail */
void symbols_add(struct symbols *, const char *name, double score,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* symbols_add_opts - the same, with up to two reply arguments */
void symbols_add_opts(struct symbols *, const char *name, double score,
		      const char *opt0, const char *opt1, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/*
 * symbols_add_scaled - NAME scoring its weight times factor (the Bayes
 * result by its probability)
 */
void symbols_add_scaled(struct symbols *, const char *name, double factor,
			const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/*
 * symbols_add_named - NAME scoring the score passed, not a weight: the
 * symbols a configuration line defines (a DNS blocklist's codes, with
 * the weight on that line), which are not in the weights table; name must
 * live as long as the set (the configuration's).  Same signature as the
 * external spam engines' symbols_add_named on main, which also copies
 * the name.
 */
void symbols_add_named(struct symbols *, const char *name, double score,
		       const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
const struct symbol *symbols_find(const struct symbols *, const char *name);
double symbols_score(const struct symbols *);

#endif
