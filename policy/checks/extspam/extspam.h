/*
 * extspam - what the external spam engines (spamd.c, rspamd.c) share: the
 * parsed answer, safe symbol names for the engines' rules, and turning an
 * answer or a failure into symbols.
 *
 * Symbols (weights in weights.c; ENGINE is SPAMD or RSPAMD):
 *   ENGINE           the engine's score x ENGINE_weight (the key) x the
 *                    row's weight; detail: the engine's own judgement
 *   ENGINE_<RULE>    each rule the engine matched, at most
 *                    EXTSPAM_RULES_MAX, score 0 (the engine's total holds
 *                    them already); detail: the rule's score when known
 *   ENGINE_ERROR     no usable answer (refused, timeout, garbage, cut
 *                    short, too large): spam_error_action
 *   ENGINE_SKIPPED   not sent: larger than ENGINE_max_size
 * A rule name becomes upper case A-Z, 0-9 and "_" (anything else "_"),
 * at most EXTSPAM_NAME_MAX bytes with the prefix; an empty one is dropped.
 */
#ifndef RG_EXTSPAM_H
#define RG_EXTSPAM_H

#include <stddef.h>

#define EXTSPAM_RULES_MAX	32	/* rule symbols kept an engine */
#define EXTSPAM_NAME_MAX	48	/* bytes of a rule symbol's name */

struct txn;

struct extspam_rule {
	char	name[EXTSPAM_NAME_MAX + 1];	/* PREFIX_RULE */
	double	score;
	int	has_score;			/* the engine said it */
};

struct extspam_result {
	double	score;		/* the engine's total */
	double	required;	/* its own threshold */
	int	spam;		/* its own judgement: 1, 0, -1 unknown */
	char	action[32];	/* Rspamd's action, "" for spamd */
	int	skipped;	/* Rspamd: a pre-result stopped the scan */
	struct extspam_rule rules[EXTSPAM_RULES_MAX];
	size_t	nrules;		/* kept */
	size_t	nmore;		/* matched but not kept (over the cap) */
	char	why[200];	/* what was wrong with the answer */
};

void extspam_result_init(struct extspam_result *);
/*
 * extspam_bad - the answer is not one: r->why is what, and the first
 * bytes of s (n of them, made printable) when n > 0; returns -1
 */
int extspam_bad(struct extspam_result *r, const char *what, const char *s,
		size_t n);
/*
 * extspam_rule_name - "PREFIX_" and the rule's len bytes made safe into
 * out (size > EXTSPAM_NAME_MAX); 0 when nothing of the rule is left
 */
int extspam_rule_name(char *out, size_t size, const char *prefix,
		      const char *rule, size_t len);
/*
 * extspam_add_rule - one matched rule; a repeated name counts once; past
 * the cap the rule with the smallest |score| gives way (so the rules
 * that weigh most are kept) and nmore counts what went
 */
void extspam_add_rule(struct extspam_result *, const char *prefix,
		      const char *rule, size_t len, double score,
		      int has_score);
/*
 * extspam_symbols - the answer as symbols of t: sym (the engine's,
 * scaled by weight) then its rules; engine names it in the detail
 */
void extspam_symbols(struct txn *t, const char *sym, double weight,
		     const struct extspam_result *);
/*
 * extspam_virus_skip - a message the virus scan found a virus in is
 * refused, held or dropped already: not sent to an engine (spamd takes
 * ~100-200 ms of CPU a message).  1 skipped (SYM_SKIPPED added), 0 send.
 */
int extspam_virus_skip(struct txn *t, const char *skipped_sym);
/*
 * extspam_fail - the engine at server gave no usable answer: the error
 * symbol (detail "SERVER: why") and one warning line
 */
void extspam_fail(struct txn *t, const char *sym, const char *engine,
		  const char *server, const char *why);

#endif
