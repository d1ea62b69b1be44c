/*
 * mta - the only module that acts on the MTA (smfi_setreply, header edits,
 * quarantine).  "relayguard check" prints the same verdict instead.
 */
#ifndef RG_MTA_H
#define RG_MTA_H

#include <libmilter/mfapi.h>

#include "verdict.h"

/* mta_stage - the reply for a verdict that ends the transaction early */
sfsistat mta_stage(SMFICTX *, const struct verdict *);
/* mta_eom - apply the end-of-message verdict: edits, quarantine, reply */
sfsistat mta_eom(SMFICTX *, const struct verdict *);
/* mta_tempfail - 451 with an enhanced code and text, outside the policy */
sfsistat mta_tempfail(SMFICTX *, const char *xcode, const char *text);

#endif
