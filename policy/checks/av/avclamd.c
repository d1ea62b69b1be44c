/*
 * avclamd - scan a message through clamd's INSTREAM command (see
 * avclamd.h).
 *
 * One non-blocking connection a scan, and one deadline (timeout_ms from
 * the call) for all of it: connect, every send, the answer; poll() waits
 * for whatever is left of it.  send() has MSG_NOSIGNAL, so a clamd that
 * goes away costs no SIGPIPE.  A message in memory is sent from where it
 * lies; one in a file is read with pread() into one buffer of `chunk`
 * bytes (clamped to 1 .. AVCLAMD_CHUNK_MAX), never copied whole.
 *
 * clamd stops reading and closes the connection when a stream passes its
 * StreamMaxLength, after writing "INSTREAM size limit exceeded. ERROR":
 * so a send that fails with EPIPE or ECONNRESET, or finds the socket
 * readable, goes on to read what clamd said before anything is judged
 * (an OK then is not believed: the message was not sent whole).
 * The answer is read up to its NUL, EOF, or AVCLAMD_REPLY_MAX bytes.
 *
 * Results: "stream: OK" is AV_CLEAN; "stream: NAME FOUND" AV_INFECTED
 * with NAME (clamd adds ".UNOFFICIAL" to names from unofficial
 * databases); "... ERROR" and any reply not understood AV_ERROR; no
 * connection, no answer in time, or a connection closed without an
 * answer AV_UNAVAILABLE.  Every text in the result is printable ASCII
 * (util_sanitize), whatever clamd sent.
 *
 * Diagnostics: none logged; the result's name says what happened, as
 * "clamd SOCKET: why".
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "avclamd.h"
#include "sockio.h"
#include "util.h"

#define AVCLAMD_CHUNK_MAX	(1024 * 1024)	/* bytes a chunk, at most */
#define AVCLAMD_REPLY_MAX	1024		/* bytes of answer kept */

enum {
	SEND_OK,		/* all sent */
	SEND_STOPPED,		/* clamd closed or answered early: read */
	SEND_FAILED,		/* result set */
};

struct clamd {
	const char	*sock;		/* as given, for the reasons */
	int		fd;
	int		timeout_ms;
	long long	end;		/* deadline, CLOCK_MONOTONIC ms */
	struct av_result *r;
};

/* clamd_result - set the result to "clamd SOCKET: why", made printable */
static void __attribute__((format(printf, 3, 4)))
clamd_result(struct clamd *c, enum av_status status, const char *fmt, ...)
{
	char why[512];
	int n;
	va_list ap;

	n = snprintf(why, sizeof(why), "clamd %s: ", c->sock);
	if (n < 0 || (size_t)n >= sizeof(why))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(why + n, sizeof(why) - (size_t)n, fmt, ap);
	va_end(ap);
	c->r->status = status;
	util_sanitize(c->r->name, sizeof(c->r->name), why, strlen(why));
}

/* clamd_timeout - the result for a deadline passed */
static int
clamd_timeout(struct clamd *c)
{
	clamd_result(c, AV_UNAVAILABLE, "no answer within %d ms",
		     c->timeout_ms);
	return -1;
}

/* clamd_wait - poll for events until the deadline: revents, 0 timeout, -1 */
static int
clamd_wait(struct clamd *c, short events)
{
	int n = sockio_wait(c->fd, events, c->end);

	if (n < 0)
		clamd_result(c, AV_UNAVAILABLE, "poll: %s", strerror(errno));
	return n;
}

/* clamd_inet - "PORT@ADDR" (numeric) of family to an address */
static int
clamd_inet(const char *spec, int family, struct sockaddr_storage *ss,
	   socklen_t *len)
{
	char port[8], addr[INET6_ADDRSTRLEN + 2];
	const char *at = strchr(spec, '@');
	size_t plen, alen;
	struct addrinfo hints, *res = NULL;

	if (at == NULL)
		return -1;
	plen = (size_t)(at - spec);
	alen = strlen(at + 1);
	if (plen == 0 || plen >= sizeof(port) || alen == 0 ||
	    alen >= sizeof(addr) || strspn(spec, "0123456789") != plen)
		return -1;
	memcpy(port, spec, plen);
	port[plen] = '\0';
	if (atoi(port) < 1 || atoi(port) > 65535)
		return -1;
	/* inet6:PORT@[::1] as well as inet6:PORT@::1 */
	if (family == AF_INET6 && at[1] == '[' && at[alen] == ']') {
		memcpy(addr, at + 2, alen - 2);
		addr[alen - 2] = '\0';
	} else {
		memcpy(addr, at + 1, alen + 1);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(addr, port, &hints, &res) != 0 || res == NULL)
		return -1;
	if (res->ai_addrlen > sizeof(*ss)) {
		freeaddrinfo(res);
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* clamd_addr - the socket spec to an address; -1 when it is not one */
static int
clamd_addr(const char *sock, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)ss;
	const char *path = NULL;

	memset(ss, 0, sizeof(*ss));
	if (strncmp(sock, "unix:", 5) == 0)
		path = sock + 5;
	else if (strncmp(sock, "local:", 6) == 0)
		path = sock + 6;
	else if (strncmp(sock, "inet:", 5) == 0)
		return clamd_inet(sock + 5, AF_INET, ss, len);
	else if (strncmp(sock, "inet6:", 6) == 0)
		return clamd_inet(sock + 6, AF_INET6, ss, len);
	if (path == NULL || *path == '\0' ||
	    strlen(path) >= sizeof(sun->sun_path))
		return -1;
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, strlen(path) + 1);
	*len = (socklen_t)sizeof(*sun);
	return 0;
}

/* clamd_connect - open c->fd to clamd before the deadline (sockio.h) */
static int
clamd_connect(struct clamd *c)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	char why[160];

	if (clamd_addr(c->sock, &ss, &len) != 0) {
		clamd_result(c, AV_UNAVAILABLE, "not a socket (unix:PATH, "
			     "inet:PORT@ADDR or inet6:PORT@ADDR)");
		return -1;
	}
	c->fd = sockio_connect(&ss, len, c->end, c->timeout_ms, why,
			       sizeof(why));
	if (c->fd < 0) {
		clamd_result(c, AV_UNAVAILABLE, "%s", why);
		return -1;
	}
	return 0;
}

/*
 * clamd_send - send the iovecs whole before the deadline.  SEND_STOPPED
 * when clamd closed the connection or has something to say: its answer
 * comes before the rest of the stream.
 */
static int
clamd_send(struct clamd *c, struct iovec *iov, int n)
{
	struct msghdr mh;

	while (n > 0) {
		ssize_t k;
		int ev;

		if (iov->iov_len == 0) {
			iov++;
			n--;
			continue;
		}
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = iov;
		mh.msg_iovlen = (size_t)n;
		k = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EPIPE || errno == ECONNRESET))
			return SEND_STOPPED;
		if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			clamd_result(c, AV_UNAVAILABLE, "send: %s",
				     strerror(errno));
			return SEND_FAILED;
		}
		if (k < 0) {
			ev = clamd_wait(c, POLLOUT | POLLIN);
			if (ev == 0) {
				clamd_timeout(c);
				return SEND_FAILED;
			}
			if (ev < 0)
				return SEND_FAILED;
			if (ev & POLLIN)
				return SEND_STOPPED;
			continue;
		}
		while (n > 0 && (size_t)k >= iov->iov_len) {
			k -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + k;
			iov->iov_len -= (size_t)k;
		}
	}
	return SEND_OK;
}

/* clamd_chunk - send one chunk: its length in network order, then it */
static int
clamd_chunk(struct clamd *c, const void *data, size_t len)
{
	unsigned char hdr[4];
	struct iovec iov[2];

	hdr[0] = (unsigned char)(len >> 24);
	hdr[1] = (unsigned char)(len >> 16);
	hdr[2] = (unsigned char)(len >> 8);
	hdr[3] = (unsigned char)len;
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)data;
	iov[1].iov_len = len;
	return clamd_send(c, iov, 2);
}

/* clamd_pread - read len bytes at off of the spool file, or fail */
static int
clamd_pread(struct clamd *c, int fd, unsigned char *buf, size_t len,
	    size_t off)
{
	while (len > 0) {
		ssize_t k = pread(fd, buf, len, (off_t)off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			clamd_result(c, AV_ERROR, "message read at %zu: %s",
				     off, k < 0 ? strerror(errno) :
				     "file shorter than the message");
			return -1;
		}
		buf += k;
		len -= (size_t)k;
		off += (size_t)k;
	}
	return 0;
}

/* clamd_stream - the command, the message in chunks, the zero chunk */
static int
clamd_stream(struct clamd *c, const char *prefix, const struct spool_view *v,
	     size_t chunk)
{
	static const char cmd[] = "zINSTREAM";	/* sent with its NUL */
	struct iovec iov;
	unsigned char *buf = NULL;
	size_t off = 0;
	int rc;

	iov.iov_base = (void *)cmd;
	iov.iov_len = sizeof(cmd);
	rc = clamd_send(c, &iov, 1);
	if (rc == SEND_OK && prefix != NULL && *prefix)
		rc = clamd_chunk(c, prefix, strlen(prefix));
	if (rc == SEND_OK && v->data == NULL && v->len > 0)
		buf = xmalloc(chunk);
	while (rc == SEND_OK && off < v->len) {
		size_t n = v->len - off < chunk ? v->len - off : chunk;

		if (buf == NULL) {
			rc = clamd_chunk(c, v->data + off, n);
		} else if (clamd_pread(c, v->fd, buf, n, off) != 0) {
			rc = SEND_FAILED;
		} else {
			rc = clamd_chunk(c, buf, n);
		}
		off += n;
	}
	free(buf);
	if (rc == SEND_OK)
		rc = clamd_chunk(c, "", 0);
	return rc;
}

/* clamd_read - read the answer up to its NUL, EOF or size-1 bytes */
static ssize_t
clamd_read(struct clamd *c, char *buf, size_t size)
{
	size_t n = 0;

	while (n + 1 < size && memchr(buf, '\0', n) == NULL) {
		ssize_t k = recv(c->fd, buf + n, size - 1 - n, 0);
		int ev;

		if (k > 0) {
			n += (size_t)k;
			continue;
		}
		if (k == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == ECONNRESET || errno == EPIPE)
			break;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			clamd_result(c, AV_UNAVAILABLE, "recv: %s",
				     strerror(errno));
			return -1;
		}
		ev = clamd_wait(c, POLLIN);
		if (ev == 0)
			return clamd_timeout(c);
		if (ev < 0)
			return -1;
	}
	buf[n] = '\0';
	return (ssize_t)n;
}

/* clamd_ends - does the len bytes at s end with suffix */
static int
clamd_ends(const char *s, size_t len, const char *suffix)
{
	size_t sl = strlen(suffix);

	return len >= sl && memcmp(s + len - sl, suffix, sl) == 0;
}

/* clamd_judge - turn the answer (NUL-terminated) into the result */
static void
clamd_judge(struct clamd *c, char *buf, int stopped)
{
	size_t len = strlen(buf);
	char *p = buf;

	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
			   buf[len - 1] == ' '))
		buf[--len] = '\0';
	if (len == 0) {
		clamd_result(c, AV_UNAVAILABLE, "connection closed %s",
			     stopped ? "while the message was sent" :
			     "without an answer");
		return;
	}
	if (strncmp(p, "stream: ", 8) == 0)
		p += 8;
	len = strlen(p);
	if (strcmp(p, "OK") == 0 && p != buf && stopped) {
		/* whatever said it, it did not see the whole message */
		clamd_result(c, AV_ERROR, "answered OK before the whole "
			     "message was sent");
	} else if (strcmp(p, "OK") == 0 && p != buf) {
		c->r->status = AV_CLEAN;
		c->r->name[0] = '\0';
	} else if (p != buf && clamd_ends(p, len, " FOUND") && len > 6) {
		c->r->status = AV_INFECTED;
		util_sanitize(c->r->name, sizeof(c->r->name), p, len - 6);
	} else if (strcmp(buf, "INSTREAM size limit exceeded. ERROR") == 0) {
		clamd_result(c, AV_ERROR, "message over clamd's "
			     "StreamMaxLength (INSTREAM size limit exceeded)");
	} else if (clamd_ends(p, len, " ERROR")) {
		clamd_result(c, AV_ERROR, "%.*s", (int)(len - 6), p);
	} else {
		clamd_result(c, AV_ERROR, "unexpected answer \"%s\"", buf);
	}
}

void
avclamd_scan(const char *sock, const struct spool_view *view,
	     size_t chunk, size_t max, int timeout_ms, struct av_result *r)
{
	avclamd_scan_prefixed(sock, NULL, view, chunk, max, timeout_ms, r);
}

void
avclamd_scan_prefixed(const char *sock, const char *prefix,
		      const struct spool_view *view, size_t chunk, size_t max,
		      int timeout_ms, struct av_result *r)
{
	struct clamd c;
	char reply[AVCLAMD_REPLY_MAX];
	size_t plen = prefix ? strlen(prefix) : 0;
	int rc;

	c.sock = sock != NULL ? sock : "";
	c.fd = -1;
	c.timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
	c.end = sockio_now() + c.timeout_ms;
	c.r = r;
	r->status = AV_ERROR;
	r->name[0] = '\0';
	if (view->len + plen > max) {
		clamd_result(&c, AV_ERROR, "message of %zu bytes is larger "
			     "than clamd_stream_max %zu", view->len + plen, max);
		return;
	}
	if (view->len > 0 && view->data == NULL && view->fd < 0) {
		clamd_result(&c, AV_ERROR, "no message to scan");
		return;
	}
	if (chunk < 1)
		chunk = 1;
	if (chunk > AVCLAMD_CHUNK_MAX)
		chunk = AVCLAMD_CHUNK_MAX;
	if (clamd_connect(&c) == 0 &&
	    (rc = clamd_stream(&c, prefix, view, chunk)) != SEND_FAILED &&
	    clamd_read(&c, reply, sizeof(reply)) >= 0)
		clamd_judge(&c, reply, rc == SEND_STOPPED);
	if (c.fd >= 0)
		close(c.fd);
}
