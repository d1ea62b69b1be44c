/*
 * brake - the compromised-account brake: when an authenticated login's
 * outbound mail reaches, within brake_window, brake_spam_score (the sum
 * of its messages' positive total scores, the spam engine's total),
 * brake_viruses (messages with AV_VIRUS) or brake_rejected_rcpts
 * (recipients refused at RCPT: by relayguard, rate limits aside, or by the
 * MTA itself, which shows them with SMFIP_RCPT_REJ), its further
 * mail gets brake_action (tempfail, or quarantine: held) until an admin
 * runs "relayguard release LOGIN" or one brake_window has passed.
 *
 * State: brakestore.h (LMDB at brake_store, or Redis with
 * ratelimit_backend = redis), so that the release command, another
 * process, reaches it.  Opened on first use, after the daemon detached.
 *
 * Symbols (weight 0; verdict.c's rules act):
 *   BRAKE_STOPPED  at MAIL FROM: the login is stopped; brake_action,
 *                  "451 4.7.1 Login LOGIN stopped by the compromised
 *                  account brake: WHY"
 *   BRAKE_TRIPPED  at end of message: this message reached a threshold
 *                  (logged with why); brake_action applies to it too
 *   BRAKE_ERROR    the store could not be read or written:
 *                  ratelimit_error_action (accept and log by default)
 */
#ifndef RG_BRAKE_H
#define RG_BRAKE_H

#include <stddef.h>

struct brake_limits;
struct brakestore;
struct conf;
struct txn;

int brake_enabled(const struct conf *);
void brake_mail(struct txn *);
void brake_eom(struct txn *);
/* brake_rcpt_refused - a recipient was refused; cause: the symbol */
void brake_rcpt_refused(struct txn *, const char *cause);
/* brake_stop - close the stores (process end) */
void brake_stop(void);

/*
 * brake_store - this configuration's store, opened on first use and kept
 * (write: create an LMDB store that is not there); NULL with why, and
 * *absent = 1 when an LMDB store does not exist and write is not set
 */
struct brakestore *brake_store(const struct conf *, int write, int *absent,
			       char *why, size_t whylen);
/* brake_limits_of - the thresholds of a configuration */
void brake_limits_of(const struct conf *, struct brake_limits *);

#endif
