/*
 * callbacks - the milter steps: copy the MTA's data into the session,
 * run the policy stage, and apply the verdict through a struct mta.
 *
 * They know nothing of libmilter: milter.c calls them from libmilter's
 * callbacks, "relayguard check" calls them from its stand-in MTA, so
 * both take the same path.  Each returns what the step answers.
 */
#ifndef RG_CALLBACKS_H
#define RG_CALLBACKS_H

#include <stddef.h>

#include "mta.h"

struct sockaddr;

/* steps that get no reply (the milter protocol's SMFIP_NR_*) */
#define CB_NR_CONN	0x01
#define CB_NR_HELO	0x02
#define CB_NR_DATA	0x04
#define CB_NR_HDR	0x08
#define CB_NR_BODY	0x10

struct cb_negotiation {
	unsigned	needs;		/* POLICY_NEED_*: which steps to ask */
	unsigned	noreply;	/* CB_NR_*: steps answered by no reply */
};

/*
 * cb_open - protocol negotiation: make the connection's state, holding
 * the configuration current now.  leadspc: header values will arrive
 * with their leading white space; nr_offered: the CB_NR_* the MTA
 * offers.  Fills what the checks need and which steps go without a
 * reply (milter_no_reply; a verdict reached at a header or body step
 * is then given at end of headers or end of message).
 */
void cb_open(struct mta *, int leadspc, unsigned nr_offered,
	     struct cb_negotiation *);
enum mta_status cb_connect(struct mta *, const char *hostname,
			   const struct sockaddr *);
enum mta_status cb_helo(struct mta *, const char *helo);
enum mta_status cb_envfrom(struct mta *, char **argv);
enum mta_status cb_envrcpt(struct mta *, char **argv);
enum mta_status cb_data(struct mta *);
enum mta_status cb_header(struct mta *, const char *name, const char *value);
enum mta_status cb_eoh(struct mta *);
enum mta_status cb_body(struct mta *, const unsigned char *data, size_t len);
enum mta_status cb_eom(struct mta *);
enum mta_status cb_abort(struct mta *);
enum mta_status cb_close(struct mta *);

#endif
