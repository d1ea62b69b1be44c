/*
 * daemon_stub - the daemon_*() calls of milter/callbacks.c, for the
 * libFuzzer harnesses (milter/daemon.c needs libmilter).
 *
 * The current configuration is a plain reference-counted pointer, as in
 * daemon.c but without the lock (a fuzzer runs one input at a time); no
 * shutdown ever begins.  daemon_stub_inflight() tells a harness how many
 * messages the callbacks still count as in flight: none once a
 * connection is closed.
 */
#include "config.h"

#include <stdlib.h>

#include "daemon.h"

int daemon_stub_inflight(void);

static struct conf *stub_current;
static int stub_inflight;

/* daemon_conf - the current configuration, a reference for the caller */
struct conf *
daemon_conf(void)
{
	return conf_ref(stub_current);
}

/* daemon_set_conf - make c current, dropping the old one */
void
daemon_set_conf(struct conf *c)
{
	struct conf *old = stub_current;

	stub_current = c ? conf_ref(c) : NULL;
	conf_unref(old);
}

/* daemon_txn_begin - a message starts; never refused here */
int
daemon_txn_begin(void)
{
	stub_inflight++;
	return 1;
}

/* daemon_txn_end - a message is over; below zero is a broken count */
void
daemon_txn_end(void)
{
	if (--stub_inflight < 0)
		abort();
}

/* daemon_stub_inflight - messages counted and not yet ended */
int
daemon_stub_inflight(void)
{
	return stub_inflight;
}
