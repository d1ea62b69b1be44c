/*
 * daemon - the life cycle of the milter process.
 *
 * Holds the current configuration (reference-counted: a connection keeps
 * the one it started with), reloads it on SIGHUP, counts the messages in
 * flight so that SIGTERM lets them finish, and runs libmilter.
 */
#ifndef RG_DAEMON_H
#define RG_DAEMON_H

#include "conf.h"

/* daemon_run - serve until SIGTERM; returns the process exit status */
int daemon_run(struct conf *, int foreground);
/* daemon_conf - the current configuration, with a reference for the caller */
struct conf *daemon_conf(void);
/* daemon_set_conf - make c current (relayguard check: no daemon runs) */
void daemon_set_conf(struct conf *);
/*
 * daemon_txn_begin - a message starts; 0 when the daemon is shutting down
 * and the message must be tempfailed.  daemon_txn_end - it is over.
 */
int daemon_txn_begin(void);
void daemon_txn_end(void);

#endif
