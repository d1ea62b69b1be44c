/*
 * weights - the weight of every symbol, in one table (as Rspamd's
 * scores): the defaults below, overridden by the configuration's
 * "scores = NAME=WEIGHT ..." key.  A symbol's score in a message is its
 * weight (times a factor for the symbols that scale, such as the Bayes
 * result by its probability); the spam thresholds look at the total.
 * Checks name what they saw; only this table says what it is worth.
 */
#ifndef RG_WEIGHTS_H
#define RG_WEIGHTS_H

#include <stddef.h>

struct weight_def {
	const char	*name;
	double		weight;		/* default */
	const char	*what;		/* one line for the documentation */
};

struct weights {
	size_t		n;
	double		*w;		/* parallel to weights_table() */
};

/* weights_table - the table of every symbol, sorted by name */
const struct weight_def *weights_table(size_t *n);
/* weights_new - the defaults */
struct weights *weights_new(void);
void weights_free(struct weights *);
/*
 * weights_parse - "NAME=WEIGHT NAME=WEIGHT ..." (white space or commas
 * between items) over the defaults; -1 with why for an unknown name or a
 * bad number
 */
int weights_parse(struct weights *, const char *text, char *why,
		  size_t whylen);
/* weights_index - the symbol's row, or -1 */
int weights_index(const char *name);
/* weights_get - the weight of NAME (0 for a name not in the table) */
double weights_get(const struct weights *, const char *name);

#endif
