/*
 * symbols - the list of named results of one message (see symbols.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbols.h"
#include "util.h"
#include "weights.h"

void
symbols_init(struct symbols *s)
{
	s->v = NULL;
	s->count = s->cap = 0;
	s->weights = NULL;
}

void
symbols_set_weights(struct symbols *s, const struct weights *w)
{
	s->weights = w;
}

void
symbols_clear(struct symbols *s)
{
	for (size_t i = 0; i < s->count; i++) {
		free(s->v[i].detail);
		free(s->v[i].opt[0]);
		free(s->v[i].opt[1]);
	}
	free(s->v);
	s->v = NULL;
	s->count = s->cap = 0;
}

/* symbols_opt - a sanitized copy of a reply argument, or NULL */
static char *
symbols_opt(const char *opt)
{
	char clean[SYMBOL_OPT_MAX];

	if (opt == NULL)
		return NULL;
	util_sanitize(clean, sizeof(clean), opt, strlen(opt));
	return xstrdup(clean);
}

/* symbols_vadd - append one result; a repeated NAME keeps the first */
static void
symbols_vadd(struct symbols *s, const char *name, double score,
	     const char *opt0, const char *opt1, const char *fmt, va_list ap)
{
	char raw[SYMBOL_DETAIL_MAX], clean[SYMBOL_DETAIL_MAX];
	struct symbol *sym;

	if (s->count >= SYMBOLS_MAX || symbols_find(s, name) != NULL)
		return;
	if (vsnprintf(raw, sizeof(raw), fmt, ap) < 0)
		raw[0] = '\0';
	util_sanitize(clean, sizeof(clean), raw, strlen(raw));
	if (s->count == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	sym = &s->v[s->count++];
	sym->name = name;
	sym->score = score;
	sym->detail = xstrdup(clean);
	sym->opt[0] = symbols_opt(opt0);
	sym->opt[1] = symbols_opt(opt1);
}

void
symbols_add(struct symbols *s, const char *name, double score,
	    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	symbols_vadd(s, name, s->weights ? weights_get(s->weights, name) :
		     score, NULL, NULL, fmt, ap);
	va_end(ap);
}

void
symbols_add_scaled(struct symbols *s, const char *name, double factor,
		   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	symbols_vadd(s, name, weights_get(s->weights, name) * factor, NULL,
		     NULL, fmt, ap);
	va_end(ap);
}

void
symbols_add_opts(struct symbols *s, const char *name, double score,
		 const char *opt0, const char *opt1, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	symbols_vadd(s, name, s->weights ? weights_get(s->weights, name) :
		     score, opt0, opt1, fmt, ap);
	va_end(ap);
}

void
symbols_add_named(struct symbols *s, const char *name, double score,
		  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	symbols_vadd(s, name, score, NULL, NULL, fmt, ap);
	va_end(ap);
}

const struct symbol *
symbols_find(const struct symbols *s, const char *name)
{
	for (size_t i = 0; i < s->count; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	return NULL;
}

double
symbols_score(const struct symbols *s)
{
	double sum = 0;

	for (size_t i = 0; i < s->count; i++)
		sum += s->v[i].score;
	return sum;
}
