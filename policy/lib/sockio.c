/*
 * sockio - connect and wait under a deadline (see sockio.h).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sockio.h"

long long
sockio_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
sockio_wait(int fd, short events, long long end)
{
	struct pollfd pfd;

	for (;;) {
		long long left = end - sockio_now();
		int n;

		if (left <= 0)
			return 0;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return pfd.revents;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/* sockio_fail - close fd, say why connecting failed with err; -1 */
static int
sockio_fail(int fd, int err, int timeout_ms, char *why, size_t whylen)
{
	close(fd);
	if (err == ETIMEDOUT || err == 0)
		snprintf(why, whylen, "no answer within %d ms", timeout_ms);
	else if (err == ECONNREFUSED)
		snprintf(why, whylen, "connection refused");
	else if (err == ENOENT)
		snprintf(why, whylen, "no such socket");
	else
		snprintf(why, whylen, "connect: %s", strerror(err));
	return -1;
}

int
sockio_connect(const struct sockaddr_storage *ss, socklen_t len,
	       long long end, int timeout_ms, char *why, size_t whylen)
{
	int fd, err, ev;
	socklen_t elen = sizeof(err);

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0) {
		snprintf(why, whylen, "socket: %s", strerror(errno));
		return -1;
	}
	while (connect(fd, (const struct sockaddr *)ss, len) != 0) {
		if (errno == EAGAIN && ss->ss_family == AF_UNIX) {
			long long left = end - sockio_now();

			if (left <= 0)
				return sockio_fail(fd, 0, timeout_ms, why,
						   whylen);
			poll(NULL, 0, left < 10 ? (int)left : 10);
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EINPROGRESS)
			return sockio_fail(fd, errno, timeout_ms, why, whylen);
		ev = sockio_wait(fd, POLLOUT, end);
		if (ev <= 0)
			return sockio_fail(fd, ev == 0 ? 0 : errno, timeout_ms,
					   why, whylen);
		err = 0;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0)
			err = errno;
		if (err != 0)
			return sockio_fail(fd, err, timeout_ms, why, whylen);
		break;
	}
	return fd;
}
