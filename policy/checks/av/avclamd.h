/*
 * avclamd - scan a message through clamd (the INSTREAM command).
 *
 * One connection a scan: "zINSTREAM\0", then the message in chunks of at
 * most `chunk` bytes, each behind its length as 4 bytes in network
 * order, then a zero length; clamd answers "stream: OK", "stream: NAME
 * FOUND" or "... ERROR".  Everything (connect, send, answer) within
 * timeout_ms.  Nothing here logs; the result says what happened.
 */
#ifndef RG_AVCLAMD_H
#define RG_AVCLAMD_H

#include <stddef.h>

#include "avscan.h"
#include "spool.h"

/*
 * avclamd_scan - scan the view through clamd at sock ("unix:PATH",
 * "local:PATH", "inet:PORT@ADDR" or "inet6:PORT@ADDR", numeric
 * addresses).  A message larger than max (clamd's StreamMaxLength) is not
 * sent: AV_ERROR.  clamd that cannot be reached, resets the connection,
 * or does not answer in time: AV_UNAVAILABLE.
 */
void avclamd_scan(const char *sock, const struct spool_view *view,
		  size_t chunk, size_t max, int timeout_ms,
		  struct av_result *r);
/* avclamd_scan_prefixed - the same, prefix (a header line) sent first */
void avclamd_scan_prefixed(const char *sock, const char *prefix,
			   const struct spool_view *view, size_t chunk,
			   size_t max, int timeout_ms, struct av_result *r);

#endif
