/*
 * callbacks - libmilter callbacks: copy the MTA's data into the policy
 * message, run the stage, and let mta.c apply the verdict.
 */
#ifndef RG_CALLBACKS_H
#define RG_CALLBACKS_H

struct smfiDesc;

const struct smfiDesc *callbacks_desc(void);

#endif
