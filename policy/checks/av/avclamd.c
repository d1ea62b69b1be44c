/* avclamd - placeholder until the clamd client lands */
#include "config.h"

#include "avclamd.h"
#include "util.h"

void
avclamd_scan(const char *sock, const struct spool_view *view, size_t chunk,
	     size_t max, int timeout_ms, struct av_result *r)
{
	r->status = AV_UNAVAILABLE;
	util_strlcpy(r->name, "clamd backend not built", sizeof(r->name));
}
