/*
 * mta - what the callbacks may ask of the MTA, and verdicts applied to it.
 *
 * The callbacks (callbacks.c) never call libmilter: they talk to a struct
 * mta, whose operations are libmilter's smfi_* calls in the daemon
 * (milter.c, the only file that calls them) and a recording stand-in in
 * "relayguard check" (check.c).  So both run the same callback code.
 */
#ifndef RG_MTA_H
#define RG_MTA_H

#include "verdict.h"

struct session;
struct txn;

/* what a callback answers (libmilter's SMFIS_* in the daemon) */
enum mta_status {
	MTA_CONTINUE, MTA_ACCEPT, MTA_REJECT, MTA_TEMPFAIL, MTA_DISCARD,
	MTA_SKIP, MTA_NOREPLY,
};

struct mta;

struct mta_ops {
	const char *(*macro)(struct mta *, const char *name);
	void	*(*get_priv)(struct mta *);
	void	(*set_priv)(struct mta *, void *);
	/* each returns 0 on success, -1 when the MTA refused it */
	int	(*reply)(struct mta *, const char *code, const char *xcode,
			 const char *text);
	int	(*add_header)(struct mta *, const char *name, const char *value);
	int	(*ins_header)(struct mta *, int index, const char *name,
			      const char *value);
	int	(*chg_header)(struct mta *, const char *name, int index,
			      const char *value);
	int	(*quarantine)(struct mta *, const char *reason);
	/* observer of every logged verdict (check prints the symbols) */
	void	(*verdict)(struct mta *, const struct session *,
			   const struct txn *, const struct verdict *);
};

struct mta {
	const struct mta_ops	*ops;
	void			*ctx;		/* SMFICTX, or check's state */
	/*
	 * SMFIP_HDR_LEADSPC was negotiated: header values go both ways
	 * with their leading white space, so added ones need theirs
	 */
	int			leadspc;
};

/* mta_stage - the reply for a verdict that ends a stage early */
enum mta_status mta_stage(struct mta *, const struct verdict *);
/* mta_eom - apply the end-of-message verdict: edits, quarantine, reply */
enum mta_status mta_eom(struct mta *, const struct verdict *);
/* mta_text - reply text safe for the MTA: printable, '%' doubled */
void mta_text(char *dst, size_t size, const char *src);

#endif
