/*
 * av - the virus scan of every message, inbound and outbound, at end of
 * message: the spool as received, scanned whole by libclamav in process
 * (avengine.c; its mail parser opens MIME parts and archives) or by clamd
 * (avclamd.c, av_backend = clamd).
 *
 * Symbols (verdict.c turns them into actions):
 *   AV_VIRUS        the virus name; av_action (reject, 554 5.7.1)
 *   AV_ENCRYPTED    an encrypted archive or document: not scannable
 *   AV_LIMIT        a scan limit was reached (size, recursion, files, time)
 *   AV_SCAN_ERROR   the engine failed on the message
 *   AV_UNAVAILABLE  no engine to ask: no signatures loaded, a blocking
 *                   reload that took too long, clamd down or too slow
 * The last four follow av_error_action (inbound) or
 * av_outbound_error_action (tempfail 451 4.3.0 by default: nothing
 * unscanned slips through, nothing is lost).  With av_headers = yes,
 * X-Virus-Scanned and X-Virus-Status are added and incoming copies of
 * both removed.
 */
#ifndef RG_AV_H
#define RG_AV_H

#include "avscan.h"

struct conf;
struct txn;

/* av_enabled - does this configuration scan (and need the body) */
int av_enabled(const struct conf *);
void av_eom(struct txn *);
/* av_status_name - "clean", "infected" ... for logs and tests */
const char *av_status_name(enum av_status);

#endif
