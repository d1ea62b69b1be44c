/*
 * signals - SIGHUP reloads (see signals.h).
 *
 * The wrapper never does the reload itself: it only raises a flag under a
 * mutex and signals a condition, so libmilter's signal thread stays free
 * for SIGTERM while a slow reload runs.
 *
 * SIGTERM and SIGINT first drain the messages in flight, then go on to
 * libmilter: its worker pool stops serving open sessions the moment it
 * learns of the stop, so the draining must come before.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "log.h"
#include "signals.h"
#include "util.h"

int __real_sigwait(const sigset_t *, int *);
int __wrap_sigwait(const sigset_t *, int *);

static pthread_mutex_t sig_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sig_cond = PTHREAD_COND_INITIALIZER;
static int sig_hup_pending;
static void (*sig_reload)(void);
static void (*sig_drain)(void);

/* __wrap_sigwait - sigwait() as libmilter sees it, minus SIGHUP */
int
__wrap_sigwait(const sigset_t *set, int *sig)
{
	for (;;) {
		int rc = __real_sigwait(set, sig);

		if (rc == 0 && (*sig == SIGTERM || *sig == SIGINT) &&
		    sig_drain != NULL) {
			log_info("%s: stopping", *sig == SIGTERM ? "SIGTERM" :
				 "SIGINT");
			sig_drain();
		}
		if (rc != 0 || *sig != SIGHUP || sig_reload == NULL)
			return rc;
		pthread_mutex_lock(&sig_lock);
		sig_hup_pending = 1;
		pthread_cond_signal(&sig_cond);
		pthread_mutex_unlock(&sig_lock);
	}
}

void
signals_block(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* signals_reloader - wait for SIGHUP, reload, repeat */
static void *
signals_reloader(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&sig_lock);
		while (!sig_hup_pending)
			pthread_cond_wait(&sig_cond, &sig_lock);
		sig_hup_pending = 0;
		pthread_mutex_unlock(&sig_lock);
		log_info("SIGHUP: reloading");
		sig_reload();
	}
	return NULL;
}

void
signals_start(void (*reload)(void), void (*drain)(void))
{
	pthread_t tid;
	int rc;

	sig_reload = reload;
	sig_drain = drain;
	if ((rc = pthread_create(&tid, NULL, signals_reloader, NULL)) != 0)
		PANIC("cannot start the reload thread: %s", strerror(rc));
	pthread_detach(tid);
}
