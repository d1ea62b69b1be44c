/*
 * extconn - one request and its answer over a stream socket, with one
 * deadline for all of it: the client side of the external spam engines
 * (spamd, Rspamd).
 *
 * A server is as sockspec.h takes it.  Every step (connect, each send, each read) waits at most what
 * is left of timeout_ms from extconn_open(); send() has MSG_NOSIGNAL.
 * Nothing here logs: a step that fails returns -1 and leaves why
 * ("connection refused", "no answer within 2000 ms" ...) in the struct.
 */
#ifndef RG_EXTCONN_H
#define RG_EXTCONN_H

#include <stddef.h>

#include "spool.h"

struct extconn {
	int		fd;
	int		timeout_ms;
	long long	end;		/* deadline, CLOCK_MONOTONIC ms */
	int		peer_closed;	/* a send found the connection gone */
	char		why[160];
};

/* extconn_open - connect before the deadline; 0, or -1 with c->why */
int extconn_open(struct extconn *c, const char *spec, int timeout_ms);
/*
 * extconn_send - send len bytes whole; 0, or -1 with why.  A peer that
 * closed or reset the connection is not an error here (c->peer_closed):
 * it may have answered, and the answer is read next.
 */
int extconn_send(struct extconn *c, const void *data, size_t len);
/* extconn_send_view - the first len bytes of a spool view (memory or file) */
int extconn_send_view(struct extconn *c, const struct spool_view *v,
		      size_t len);
/* extconn_shut - no more to send (shutdown(SHUT_WR)) */
void extconn_shut(struct extconn *c);
/*
 * extconn_read - read until the peer closes, or until done(buf, n, arg)
 * says the answer is whole (NULL: until EOF), at most max bytes.  Returns
 * the bytes read (buf NUL-terminated, malloc'ed, the caller frees it) or
 * -1 with why; more than max bytes is an error ("answer over N bytes").
 */
long extconn_read(struct extconn *c, char **buf, size_t max,
		  int (*done)(const char *, size_t, void *), void *arg);
void extconn_close(struct extconn *c);

#endif
