/*
 * signals - SIGHUP means "reload", not "stop".
 *
 * libmilter's signal thread sigwait()s for SIGHUP, SIGTERM and SIGINT and
 * stops the milter on any of them.  The link wraps sigwait() (ld
 * --wrap=sigwait, libmilter linked statically): the wrapper takes SIGHUP
 * for itself and wakes the reload thread, and hands SIGTERM and SIGINT to
 * libmilter once the messages in flight are done.  Signals are blocked in every thread but that one.
 */
#ifndef RG_SIGNALS_H
#define RG_SIGNALS_H

/* signals_block - block HUP, TERM, INT here and in threads started later */
void signals_block(void);
/*
 * signals_start - run reload in its own thread on every SIGHUP; on SIGTERM
 * or SIGINT run drain (in the signal thread) before libmilter stops.
 */
void signals_start(void (*reload)(void), void (*drain)(void));

#endif
