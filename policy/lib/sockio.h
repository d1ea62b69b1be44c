/*
 * sockio - a stream socket under a deadline: the part the clients of
 * other daemons share (clamd in avclamd.c, spamd and Rspamd in
 * checks/extspam/extconn.c).
 *
 * A deadline is a CLOCK_MONOTONIC time in milliseconds (sockio_now() +
 * timeout); every wait is for what is left of it.  Reasons are the same
 * words for every client: "connection refused", "no such socket", "no
 * answer within N ms".  Nothing here logs.
 */
#ifndef RG_SOCKIO_H
#define RG_SOCKIO_H

#include <stddef.h>
#include <sys/socket.h>

/* sockio_now - CLOCK_MONOTONIC in milliseconds */
long long sockio_now(void);
/*
 * sockio_wait - poll fd for events until end: its revents, 0 when the
 * deadline passed, -1 (errno) when poll failed
 */
int sockio_wait(int fd, short events, long long end);
/*
 * sockio_connect - a non-blocking, close-on-exec socket connected to ss
 * before end; the descriptor, or -1 with why ("no answer within
 * timeout_ms ms" when the deadline passed).  A unix socket whose backlog
 * is full (EAGAIN) is tried again every 10 ms.
 */
int sockio_connect(const struct sockaddr_storage *ss, socklen_t len,
		   long long end, int timeout_ms, char *why, size_t whylen);

#endif
