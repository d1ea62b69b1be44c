/*
 * verdict - the only place that turns symbols into an action.
 *
 * Each symbol that can decide has a rule: its default action (or the
 * configuration key that chooses it) and its SMTP replies.  When several
 * rules fire, the strongest action wins: reject > discard > tempfail >
 * quarantine > accept.  Before end of message only reject, discard and
 * tempfail end the transaction; quarantine and the headers to add or
 * remove are settled at end of message, where the MTA allows them.
 */
#ifndef RG_VERDICT_H
#define RG_VERDICT_H

#include <stddef.h>

struct session;
struct symbols;
struct txn;

enum action {			/* in order of strength */
	ACTION_ACCEPT,
	ACTION_QUARANTINE,
	ACTION_TEMPFAIL,
	ACTION_DISCARD,
	ACTION_REJECT,
};

struct verdict_header {
	char	*name;
	char	*value;		/* NULL for a removal */
	int	index;		/* removal: 1-based among same-name fields */
	int	top;		/* add: at the top of the header, not the end */
};

struct verdict {
	enum action		action;
	int			final;		/* transaction ends here */
	char			code[4];	/* "" when there is no reply */
	char			xcode[16];
	char			*text;
	const char		*cause;		/* deciding symbol, or NULL */
	struct verdict_header	*add;
	size_t			nadd;
	struct verdict_header	*remove;
	size_t			nremove;
};

void verdict_init(struct verdict *);
void verdict_clear(struct verdict *);
/*
 * verdict_decide - look at the symbols so far: the connection's, the
 * transaction's (t may be NULL before MAIL FROM) and extra ones (one
 * recipient's, or an internal error; may be NULL).  Before end of
 * message (eom == 0) returns 1 and fills v when something must end now;
 * at end of message always fills v and returns 1.
 */
int verdict_decide(const struct session *, const struct txn *t,
		   const struct symbols *extra, int eom, struct verdict *v);

int verdict_action_parse(const char *);
const char *verdict_action_name(int);

#endif
