/*
 * policy - runs the checks stage by stage and asks for a verdict.
 *
 * The milter callbacks and "relayguard check" both drive a message through
 * these functions in SMTP order, so both take the identical path.  Each
 * stage function returns 1 when the transaction ends at that stage (v then
 * holds a reject, tempfail or discard) and 0 to go on; policy_eom() always
 * fills v.  The summary line of a message is logged once, by whichever
 * stage reaches the verdict.  MTA macros are given with msg_set_macro()
 * before the stage they belong to.
 */
#ifndef RG_POLICY_H
#define RG_POLICY_H

#include <stddef.h>

#include "msg.h"
#include "verdict.h"

int policy_connect(struct msg *, const char *addr, const char *name,
		   struct verdict *);
int policy_helo(struct msg *, const char *helo, struct verdict *);
int policy_mail(struct msg *, const char *addr, const char *const *args,
		struct verdict *);
int policy_rcpt(struct msg *, const char *addr, struct verdict *);
int policy_header(struct msg *, const char *name, const char *value,
		  struct verdict *);
int policy_eoh(struct msg *, struct verdict *);
int policy_body(struct msg *, const unsigned char *data, size_t len,
		struct verdict *);
void policy_eom(struct msg *, struct verdict *);
/* policy_internal_error - the caller could not go on: decide and log */
void policy_internal_error(struct msg *, const char *why, struct verdict *);
/* policy_log - the one summary line of a message */
void policy_log(const struct msg *, const struct verdict *);

#endif
