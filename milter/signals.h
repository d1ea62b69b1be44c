/*
 * signals - SIGHUP means "reload", not "stop".
 *
 * libmilter's signal thread sigwait()s for SIGHUP, SIGTERM and SIGINT and
 * stops the milter on any of them.  The link wraps sigwait() (ld
 * --wrap=sigwait, libmilter linked statically): the wrapper takes SIGHUP
 * for itself and wakes the reload thread, and hands SIGTERM and SIGINT to
 * libmilter as before.  Signals are blocked in every thread but that one.
 */
#ifndef RG_SIGNALS_H
#define RG_SIGNALS_H

/* signals_block - block HUP, TERM, INT here and in threads started later */
void signals_block(void);
/* signals_start_reloader - run fn in its own thread on every SIGHUP */
void signals_start_reloader(void (*fn)(void));

#endif
