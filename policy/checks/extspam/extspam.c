/*
 * extspam - the engines' shared part (see extspam.h).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "extspam.h"
#include "log.h"
#include "symbols.h"
#include "txn.h"
#include "util.h"
#include "weights.h"

void
extspam_result_init(struct extspam_result *r)
{
	memset(r, 0, sizeof(*r));
	r->spam = -1;
}

int
extspam_bad(struct extspam_result *r, const char *what, const char *s,
	    size_t n)
{
	char clean[120];

	util_sanitize(clean, sizeof(clean), s, n < 60 ? n : 60);
	snprintf(r->why, sizeof(r->why), "%s%s%s%s", what, n ? " \"" : "",
		 n ? clean : "", n ? "\"" : "");
	return -1;
}

int
extspam_rule_name(char *out, size_t size, const char *prefix,
		  const char *rule, size_t len)
{
	size_t n = 0, max = size - 1 < EXTSPAM_NAME_MAX ? size - 1 :
	    EXTSPAM_NAME_MAX;
	int any = 0;

	for (const char *p = prefix; *p && n < max; p++)
		out[n++] = *p;
	if (n < max)
		out[n++] = '_';
	for (size_t i = 0; i < len && n < max; i++) {
		unsigned char ch = (unsigned char)rule[i];

		if (ch >= 'a' && ch <= 'z')
			ch = (unsigned char)(ch - 'a' + 'A');
		if ((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
			any = 1;
		else
			ch = '_';
		out[n++] = (char)ch;
	}
	out[n] = '\0';
	return any;
}

void
extspam_add_rule(struct extspam_result *r, const char *prefix,
		 const char *rule, size_t len, double score, int has_score)
{
	char name[EXTSPAM_NAME_MAX + 1];
	struct extspam_rule *slot;

	if (!extspam_rule_name(name, sizeof(name), prefix, rule, len))
		return;
	/* a rule named ERROR must not pass for SPAMD_ERROR */
	if (weights_index(name) >= 0 && strlen(name) < EXTSPAM_NAME_MAX)
		strcat(name, "_");
	else if (weights_index(name) >= 0)
		name[EXTSPAM_NAME_MAX - 1] = '_';
	for (size_t i = 0; i < r->nrules; i++)
		if (strcmp(r->rules[i].name, name) == 0)
			return;
	if (!isfinite(score))
		score = 0, has_score = 0;
	if (r->nrules < EXTSPAM_RULES_MAX) {
		slot = &r->rules[r->nrules++];
	} else {
		size_t low = 0;

		for (size_t i = 1; i < r->nrules; i++)
			if (fabs(r->rules[i].score) < fabs(r->rules[low].score))
				low = i;
		r->nmore++;
		if (fabs(score) <= fabs(r->rules[low].score))
			return;
		slot = &r->rules[low];
	}
	memcpy(slot->name, name, sizeof(name));
	slot->score = score;
	slot->has_score = has_score;
}

void
extspam_symbols(struct txn *t, const char *sym, double weight,
		const struct extspam_result *r)
{
	char more[48] = "";

	if (r->nmore > 0)
		snprintf(more, sizeof(more), ", %zu more rules not listed",
			 r->nmore);
	symbols_add_scaled(&t->symbols, sym, r->score * weight,
			   "%.2f / %.2f%s%s%s%s%s", r->score, r->required,
			   r->spam > 0 ? " spam" : r->spam == 0 ? " ham" : "",
			   *r->action ? ", action " : "", r->action,
			   r->skipped ? ", pre-result" : "", more);
	for (size_t i = 0; i < r->nrules; i++) {
		if (r->rules[i].has_score)
			symbols_add_named(&t->symbols, r->rules[i].name, 0,
					  "%.2f", r->rules[i].score);
		else
			symbols_add_named(&t->symbols, r->rules[i].name, 0,
					  "%s", "");
	}
}

void
extspam_fail(struct txn *t, const char *sym, const char *engine,
	     const char *server, const char *why)
{
	char clean[256];

	util_sanitize(clean, sizeof(clean), why, strlen(why));
	symbols_add(&t->symbols, sym, 0, "%s %s: %s", engine, server, clean);
	log_warn("%s: %s %s: %s", *t->queue_id ? t->queue_id : "NOQUEUE",
		 engine, server, clean);
}

int
extspam_virus_skip(struct txn *t, const char *skipped_sym)
{
	const struct symbol *v = symbols_find(&t->symbols, "AV_VIRUS");

	if (v == NULL)
		return 0;
	symbols_add(&t->symbols, skipped_sym, 0, "a virus (%s): not sent",
		    v->detail);
	return 1;
}
