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

void
symbols_init(struct symbols *s)
{
	s->v = NULL;
	s->count = s->cap = 0;
}

void
symbols_clear(struct symbols *s)
{
	for (size_t i = 0; i < s->count; i++)
		free(s->v[i].detail);
	free(s->v);
	symbols_init(s);
}

/* symbols_add - append one result; a repeated NAME keeps the first detail */
void
symbols_add(struct symbols *s, const char *name, double score,
	    const char *fmt, ...)
{
	char raw[SYMBOL_DETAIL_MAX], clean[SYMBOL_DETAIL_MAX];
	va_list ap;
	int n;

	if (s->count >= SYMBOLS_MAX)
		return;
	if (symbols_find(s, name) != NULL)
		return;
	va_start(ap, fmt);
	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	if (n < 0)
		raw[0] = '\0';
	util_sanitize(clean, sizeof(clean), raw, strlen(raw));
	if (s->count == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->count].name = name;
	s->v[s->count].score = score;
	s->v[s->count].detail = xstrdup(clean);
	s->count++;
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
