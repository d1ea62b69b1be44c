/*
 * bayes - Robinson-Fisher spamicity (see bayes.h).
 */
#include "config.h"

#include <math.h>

#include "bayes.h"

void
bayes_params_default(struct bayes_params *p)
{
	p->robs = 0.0178;
	p->robx = 0.52;
	p->min_dev = 0.375;
	p->min_spam = 50;
	p->min_ham = 50;
}

double
bayes_chi2q(double x, size_t half)
{
	double m = x / 2.0, term, sum;

	if (x <= 0)
		return 1.0;
	/* even degrees of freedom: e^-m * sum m^i / i!, in logs for a large
	 * m, where e^-m alone would underflow before the sum grows */
	term = exp(-m);
	sum = term;
	if (term == 0.0) {
		double lt = -m, ls = -m;

		for (size_t i = 1; i < half; i++) {
			lt += log(m / (double)i);
			ls = ls > lt ? ls + log1p(exp(lt - ls)) :
			    lt + log1p(exp(ls - lt));
		}
		sum = exp(ls);
	} else {
		for (size_t i = 1; i < half; i++) {
			term *= m / (double)i;
			sum += term;
		}
	}
	return sum < 1.0 ? sum : 1.0;
}

void
bayes_classify(const struct bayes_params *p,
	       const struct tokstore_counts *counts, size_t n,
	       const struct tokstore_totals *tot, struct bayes_result *r)
{
	double ln_f = 0, ln_1f = 0;
	size_t k = 0;

	r->prob = 0.5;
	r->neutral = 1;
	r->used = 0;
	if (tot->spam < p->min_spam || tot->ham < p->min_ham ||
	    tot->spam == 0 || tot->ham == 0)
		return;
	for (size_t i = 0; i < n; i++) {
		double s = counts[i].spam, h = counts[i].ham, ps, ph, pw, f;
		double nn = s + h;

		if (nn == 0)
			continue;	/* unknown: f = robx, inside min_dev */
		ps = s / (double)tot->spam;
		ph = h / (double)tot->ham;
		pw = ps / (ps + ph);
		f = (p->robs * p->robx + nn * pw) / (p->robs + nn);
		if (fabs(f - 0.5) < p->min_dev)
			continue;
		if (f < 1e-9)
			f = 1e-9;
		if (f > 1 - 1e-9)
			f = 1 - 1e-9;
		ln_f += log(f);
		ln_1f += log(1 - f);
		k++;
	}
	r->used = k;
	if (k == 0)
		return;
	{
		double P = bayes_chi2q(-2.0 * ln_1f, k);
		double Q = bayes_chi2q(-2.0 * ln_f, k);

		r->prob = (1.0 + Q - P) / 2.0;
		r->neutral = 0;
	}
}
