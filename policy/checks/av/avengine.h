/*
 * avengine - the ClamAV engine inside relayguard (libclamav).
 *
 * One compiled engine serves every thread.  It is loaded at start, before
 * the daemon detaches, so a database that does not load stops the start
 * with the reason on standard error.  A background thread checks the
 * database for changes (cl_statchkdir) every av_check_interval and
 * reloads on SIGHUP (av_engine_reconfigure):
 *
 *   concurrent  the new engine is built beside the old one and swapped in
 *               at once; scans in flight finish on the old engine, which
 *               is freed when the last of them ends.  Mail never waits;
 *               memory holds two engines while the new one is built.
 *   blocking    new scans wait (at most av_reload_wait) while the old
 *               engine drains and is freed and the new one is built: one
 *               engine in memory, mail waits for the load.  A load that
 *               fails leaves no engine: scans then tempfail
 *               (AV_UNAVAILABLE) until a load succeeds.
 *
 * A reload that fails in concurrent mode keeps the old engine and logs
 * why.  With clamav_database empty the engine uses /var/lib/clamav once
 * it holds signatures; until then there is no engine and the check is off
 * (av_engine_wanted() says so), with a warning at start.
 */
#ifndef RG_AVENGINE_H
#define RG_AVENGINE_H

#include <stddef.h>

#include "avscan.h"
#include "spool.h"

struct conf;

/*
 * av_engine_start - load the engine for this configuration (once, at
 * start; again only through av_engine_reconfigure).  0 when the daemon
 * may go on (with or without an engine, as the configuration allows), -1
 * with why in err.  Logs what was loaded.
 */
int av_engine_start(const struct conf *, char *err, size_t errlen);
/* av_engine_thread - start the background check (after detaching) */
void av_engine_thread(void);
/* av_engine_reconfigure - SIGHUP: take these settings, reload soon */
void av_engine_reconfigure(const struct conf *);
/* av_engine_stop - stop the thread and free every engine */
void av_engine_stop(void);
/*
 * av_engine_wanted - should messages be scanned in process: an engine is
 * loaded or is required (the site named a database)
 */
int av_engine_wanted(void);
/*
 * av_engine_scan - scan the message as received, behind prefix (a header
 * line, or NULL) without copying it: libclamav reads both through one
 * file of its own (cl_fmap_open_handle)
 */
void av_engine_scan(const struct spool_view *, const char *prefix,
		    struct av_result *);
/*
 * av_engine_describe - "ClamAV 1.4.6/27000" (engine and database
 * versions) for X-Virus-Scanned
 */
void av_engine_describe(char *buf, size_t len);
/* av_engine_reload_count - reloads done (tests) */
unsigned av_engine_reload_count(void);

#endif
