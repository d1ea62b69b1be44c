/*
 * milter - libmilter's side of relayguard: the smfiDesc whose callbacks
 * wrap the context in a struct mta and call callbacks.c, and the mta
 * operations as smfi_* calls.  The only file that calls smfi_* to act on
 * the MTA.
 */
#ifndef RG_MILTER_H
#define RG_MILTER_H

struct smfiDesc;

const struct smfiDesc *milter_desc(void);

#endif
