/*
 * bayes - the classifier: Robinson's per-token probability with Fisher's
 * chi-square combining, as bogofilter (and SpamBayes) do.
 *
 * For a token seen in s spam and h ham messages of S and H learned:
 *   p = (s/S) / (s/S + h/H)
 *   f = (robs * robx + n * p) / (robs + n),  n = s + h
 * Tokens with |f - 0.5| < min_dev say nothing and are left out.  Then
 *   P = chi2Q(-2 sum ln(1 - f), 2k)   (near 0 when the tokens are spammy)
 *   Q = chi2Q(-2 sum ln f, 2k)        (near 0 when they are hammy)
 *   spamicity = (1 + Q - P) / 2
 * 0 is certainly ham, 1 certainly spam, 0.5 no idea.  With fewer than
 * min_spam spam or min_ham ham messages learned the answer is neutral
 * (0.5, flagged), never a guess.
 */
#ifndef RG_BAYES_H
#define RG_BAYES_H

#include <stddef.h>

#include "tokstore.h"

struct bayes_params {
	double		robs;		/* strength of the prior (0.0178) */
	double		robx;		/* the prior for a new token (0.52) */
	double		min_dev;	/* tokens nearer 0.5 left out (0.375) */
	unsigned	min_spam;	/* learned before the result counts */
	unsigned	min_ham;
};

struct bayes_result {
	double		prob;		/* spamicity, 0..1 */
	int		neutral;	/* too little training, or no token */
	size_t		used;		/* tokens that counted */
};

void bayes_params_default(struct bayes_params *);
void bayes_classify(const struct bayes_params *,
		    const struct tokstore_counts *counts, size_t n,
		    const struct tokstore_totals *totals,
		    struct bayes_result *);
/* bayes_chi2q - upper tail of chi-square with 2*half degrees of freedom */
double bayes_chi2q(double x, size_t half);

#endif
