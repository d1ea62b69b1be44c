/*
 * extconn - a request and its answer under one deadline (see extconn.h).
 *
 * The socket is non-blocking from the start (sockio.h); poll() waits for
 * whatever is left of the deadline.  A file
 * spool is sent through one buffer of EXTCONN_CHUNK bytes (pread), never
 * copied whole.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "extconn.h"
#include "sockio.h"
#include "sockspec.h"
#include "util.h"

#define EXTCONN_CHUNK	(64 * 1024)

/* extconn_timeout - the deadline passed */
static int
extconn_timeout(struct extconn *c)
{
	snprintf(c->why, sizeof(c->why), "no answer within %d ms",
		 c->timeout_ms);
	return -1;
}

/* extconn_wait - poll until the deadline: revents, 0 timeout, -1 */
static int
extconn_wait(struct extconn *c, short events)
{
	int ev = sockio_wait(c->fd, events, c->end);

	if (ev < 0)
		snprintf(c->why, sizeof(c->why), "poll: %s", strerror(errno));
	return ev;
}

int
extconn_open(struct extconn *c, const char *spec, int timeout_ms)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
	c->end = sockio_now() + c->timeout_ms;
	if (sockspec_parse(spec, &ss, &len, c->why, sizeof(c->why)) != 0)
		return -1;
	c->fd = sockio_connect(&ss, len, c->end, c->timeout_ms, c->why,
			       sizeof(c->why));
	return c->fd < 0 ? -1 : 0;
}

int
extconn_send(struct extconn *c, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0 && !c->peer_closed) {
		ssize_t k = send(c->fd, p, len, MSG_NOSIGNAL);
		int ev;

		if (k > 0) {
			p += k;
			len -= (size_t)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EPIPE || errno == ECONNRESET)) {
			c->peer_closed = 1;
			break;
		}
		if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			snprintf(c->why, sizeof(c->why), "send: %s",
				 strerror(errno));
			return -1;
		}
		ev = extconn_wait(c, POLLOUT);
		if (ev == 0)
			return extconn_timeout(c);
		if (ev < 0)
			return -1;
		if ((ev & (POLLHUP | POLLERR)) && !(ev & POLLOUT))
			c->peer_closed = 1;
	}
	return 0;
}

int
extconn_send_view(struct extconn *c, const struct spool_view *v, size_t len)
{
	unsigned char *buf;
	size_t off = 0;

	if (len > v->len)
		len = v->len;
	if (v->data != NULL)
		return extconn_send(c, v->data, len);
	if (len > 0 && v->fd < 0) {
		snprintf(c->why, sizeof(c->why), "no message to send");
		return -1;
	}
	buf = xmalloc(EXTCONN_CHUNK);
	while (off < len && !c->peer_closed) {
		size_t n = len - off < EXTCONN_CHUNK ? len - off : EXTCONN_CHUNK;
		ssize_t k = pread(v->fd, buf, n, (off_t)off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			snprintf(c->why, sizeof(c->why), "message read at %zu: %s",
				 off, k < 0 ? strerror(errno) : "file too short");
			free(buf);
			return -1;
		}
		if (extconn_send(c, buf, (size_t)k) != 0) {
			free(buf);
			return -1;
		}
		off += (size_t)k;
	}
	free(buf);
	return 0;
}

void
extconn_shut(struct extconn *c)
{
	if (c->fd >= 0 && !c->peer_closed)
		shutdown(c->fd, SHUT_WR);
}

long
extconn_read(struct extconn *c, char **out, size_t max,
	     int (*done)(const char *, size_t, void *), void *arg)
{
	size_t n = 0, cap = 4096;
	char *buf = xmalloc(cap + 1);

	*out = NULL;
	for (;;) {
		ssize_t k;
		int ev;

		if (n == cap) {
			if (cap > max) {
				free(buf);
				snprintf(c->why, sizeof(c->why), "answer over %zu "
					 "bytes", max);
				return -1;
			}
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
		k = recv(c->fd, buf + n, cap - n, 0);
		if (k > 0) {
			n += (size_t)k;
			if (n > max) {
				free(buf);
				snprintf(c->why, sizeof(c->why), "answer over %zu "
					 "bytes", max);
				return -1;
			}
			buf[n] = '\0';
			if (done != NULL && done(buf, n, arg))
				break;
			continue;
		}
		if (k == 0 || (k < 0 && (errno == ECONNRESET || errno == EPIPE)))
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			snprintf(c->why, sizeof(c->why), "recv: %s",
				 strerror(errno));
			free(buf);
			return -1;
		}
		ev = extconn_wait(c, POLLIN);
		if (ev <= 0) {
			free(buf);
			return ev == 0 ? extconn_timeout(c) : -1;
		}
	}
	buf[n] = '\0';
	*out = buf;
	return (long)n;
}

void
extconn_close(struct extconn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}
