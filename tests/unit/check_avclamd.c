/*
 * check_avclamd - the clamd client against a fake clamd in this process
 * (a thread serving one connection on a unix socket under unit_tmpdir(),
 * or on 127.0.0.1 with an ephemeral port): answers clean, infected, the
 * size limit (also mid-stream) and other errors, an answer before the
 * whole message was sent, silence (the deadline), a connection
 * closed or reset, refused, a missing socket, answers without a NUL or
 * not printable, a message from a file in several chunks (the fake
 * checks every byte), an empty message, and a message over max (no
 * connection at all).
 *
 * With RG_CLAMD_SOCKET (unix:PATH) and RG_CLAMD_INET (inet:PORT@ADDR)
 * set, as tests/av/clamd_client.sh does, the case "real" scans through a
 * real clamd that loaded conf/clamav: EICAR (built at run time from two
 * halves, so no file holds it whole), the relayguard test marker, a clean
 * message, and messages at and over RG_CLAMD_STREAM_MAX (clamd's
 * StreamMaxLength).  With RG_CLAMD_STOPPED set too, the case "stopped"
 * expects AV_UNAVAILABLE from both sockets instead.  Unset: skipped.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "avclamd.h"
#include "tests.h"
#include "util.h"

#define FAKE_WAIT_MS	10000	/* the fake gives up on a client after */

enum fake_mode {
	FAKE_REPLY,		/* read the stream, answer, close */
	FAKE_SILENT,		/* read the stream, never answer */
	FAKE_CLOSE,		/* close at once */
	FAKE_LIMIT,		/* past limit bytes: answer, close */
	FAKE_RESET,		/* read some, then reset (RST), no answer */
};

struct fake {
	enum fake_mode	mode;
	const char	*reply;		/* what FAKE_REPLY, FAKE_LIMIT answer */
	size_t		replylen;	/* with or without its NUL */
	size_t		limit;		/* FAKE_LIMIT, FAKE_RESET */
	int		lfd;		/* listening socket */
	char		sock[200];	/* for avclamd_scan */
	char		path[160];	/* unix socket file, "" for inet */
	pthread_t	th;
	/* what the thread saw, read after the join */
	int		accepted;
	int		wellformed;	/* command and framing as expected */
	unsigned char	*got;		/* the message as received */
	size_t		gotlen;
	size_t		nchunks, maxchunk;
};

static const char eicar_a[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$";
static const char eicar_b[] = "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
static const char marker_a[] = "RELAYGUARD-TEST-";
static const char marker_b[] = "MALWARE-MARKER-1";

/* ms_now - CLOCK_MONOTONIC in milliseconds */
static long long
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* fake_path - a fresh socket path under the run's scratch directory */
static void
fake_path(char *buf, size_t size, const char *what)
{
	static int n;

	snprintf(buf, size, "%s/%ld-%s-%d.sock", unit_tmpdir(),
		 (long)getpid(), what, n++);
	unlink(buf);
}

/* fake_unix - a listening unix socket; fills sock and path */
static void
fake_unix(struct fake *f)
{
	struct sockaddr_un sun;

	fake_path(f->path, sizeof(f->path), "clamd");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	util_strlcpy(sun.sun_path, f->path, sizeof(sun.sun_path));
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(f->lfd, 0);
	ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(f->lfd, 4), 0);
	snprintf(f->sock, sizeof(f->sock), "unix:%s", f->path);
}

/* fake_inet - a listening socket on 127.0.0.1, an ephemeral port */
static void
fake_inet(struct fake *f)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int rcvbuf = 4096;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(f->lfd, 0);
	/*
	 * a small window (set before listen, so the connection has it), so
	 * a client cannot hand a whole big message to the kernels while the
	 * fake stops reading: loopback TCP buffers grow to megabytes
	 */
	setsockopt(f->lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(f->lfd, 4), 0);
	ck_assert_int_eq(getsockname(f->lfd, (struct sockaddr *)&sin, &len), 0);
	snprintf(f->sock, sizeof(f->sock), "inet:%u@127.0.0.1",
		 (unsigned)ntohs(sin.sin_port));
	f->path[0] = '\0';
}

/* fake_recv - read exactly n bytes (10 s at most); 0, or -1 */
static int
fake_recv(int fd, void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t k = recv(fd, p, n, 0);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* fake_drain - wait until the client closes (bounded) */
static void
fake_drain(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char buf[512];

	while (poll(&pfd, 1, FAKE_WAIT_MS) > 0 &&
	       recv(fd, buf, sizeof(buf), 0) > 0)
		;
}

/* fake_stream - read the command and chunks; stop early for LIMIT/RESET */
static void
fake_stream(struct fake *f, int fd)
{
	unsigned char cmd[10], hdr[4];

	if (fake_recv(fd, cmd, sizeof(cmd)) != 0 ||
	    memcmp(cmd, "zINSTREAM", sizeof(cmd)) != 0)
		return;
	for (;;) {
		uint32_t n;

		if (fake_recv(fd, hdr, sizeof(hdr)) != 0)
			return;
		n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
		    (uint32_t)hdr[2] << 8 | hdr[3];
		if (n == 0)
			break;
		f->got = xrealloc(f->got, f->gotlen + n);
		if (fake_recv(fd, f->got + f->gotlen, n) != 0)
			return;
		f->gotlen += n;
		f->nchunks++;
		if (n > f->maxchunk)
			f->maxchunk = n;
		if ((f->mode == FAKE_LIMIT || f->mode == FAKE_RESET) &&
		    f->gotlen > f->limit)
			return;
	}
	f->wellformed = 1;
}

/* fake_main - the fake clamd: serve one connection as f->mode says */
static void *
fake_main(void *arg)
{
	struct fake *f = arg;
	struct pollfd pfd = { .fd = f->lfd, .events = POLLIN };
	struct timeval tv = { .tv_sec = FAKE_WAIT_MS / 1000 };
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int fd;

	if (poll(&pfd, 1, FAKE_WAIT_MS) <= 0)
		return NULL;
	fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return NULL;
	f->accepted = 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (f->mode != FAKE_CLOSE)
		fake_stream(f, fd);
	switch (f->mode) {
	case FAKE_REPLY:
	case FAKE_LIMIT:
		/* FAKE_LIMIT as clamd: answer, close with the rest unread */
		send(fd, f->reply, f->replylen, MSG_NOSIGNAL);
		break;
	case FAKE_SILENT:
		fake_drain(fd);
		break;
	case FAKE_RESET:
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		break;
	case FAKE_CLOSE:
		break;
	}
	close(fd);
	return NULL;
}

/* fake_start - listen (unix or inet) and serve one connection in a thread */
static void
fake_start(struct fake *f, int inet, enum fake_mode mode, const char *reply,
	   size_t replylen, size_t limit)
{
	memset(f, 0, sizeof(*f));
	f->mode = mode;
	f->reply = reply;
	f->replylen = replylen;
	f->limit = limit;
	if (inet)
		fake_inet(f);
	else
		fake_unix(f);
	ck_assert_int_eq(pthread_create(&f->th, NULL, fake_main, f), 0);
}

/* fake_end - join the thread, close and remove the socket */
static void
fake_end(struct fake *f)
{
	pthread_join(f->th, NULL);
	close(f->lfd);
	if (f->path[0] != '\0')
		unlink(f->path);
}

/* fake_free - release what the fake received */
static void
fake_free(struct fake *f)
{
	free(f->got);
	f->got = NULL;
}

/* mem_view - a view of len bytes in memory */
static struct spool_view
mem_view(const void *data, size_t len)
{
	struct spool_view v = { .data = data, .fd = -1, .len = len };

	return v;
}

/* printable - is s printable ASCII, and shorter than the name field */
static int
printable(const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return n < sizeof(((struct av_result *)0)->name);
}

/* scan_reply - scan text through a fake (unix and inet) that answers reply */
static void
scan_reply(int inet, const char *text, const char *reply, size_t replylen,
	   struct av_result *r)
{
	struct fake f;
	struct spool_view v = mem_view(text, strlen(text));

	fake_start(&f, inet, FAKE_REPLY, reply, replylen, 0);
	avclamd_scan(f.sock, &v, 8192, 1 << 20, 2000, r);
	fake_end(&f);
	ck_assert_msg(f.wellformed, "the fake did not get a whole stream");
	ck_assert_uint_eq(f.gotlen, strlen(text));
	ck_assert(memcmp(f.got, text, f.gotlen) == 0);
	ck_assert_msg(printable(r->name), "not printable: %s", r->name);
	fake_free(&f);
}

#define R(s)	s, sizeof(s)	/* a reply with its NUL */
#define RN(s)	s, sizeof(s) - 1	/* without */

/* what the fake answers, and what the client makes of it */
static const struct reply_case {
	const char	*label, *msg, *reply;
	size_t		replylen;
	enum av_status	status;
	const char	*name;		/* exactly, or with a leading '~' in it */
} reply_cases[] = {
	{ "clean", "Subject: hi\r\n\r\nhello\r\n", R("stream: OK"),
	  AV_CLEAN, "" },
	{ "found", "Subject: x\r\n\r\nbad\r\n",
	  R("stream: Eicar-Test-Signature FOUND"), AV_INFECTED,
	  "Eicar-Test-Signature" },
	{ "found-unprintable", "x", R("stream: Bad\x01Name\xff FOUND"),
	  AV_INFECTED, "Bad\\x01Name\\xff" },
	{ "error", "x", R("stream: Can't allocate memory ERROR"), AV_ERROR,
	  "~: Can't allocate memory" },
	{ "size-limit", "x", R("INSTREAM size limit exceeded. ERROR"),
	  AV_ERROR, "~: message over clamd's StreamMaxLength (INSTREAM size "
	  "limit exceeded)" },
	{ "no-nul", "x", RN("stream: OK"), AV_CLEAN, "" },
	{ "no-nul-found", "x", RN("stream: X.Y FOUND\n"), AV_INFECTED, "X.Y" },
	{ "garbage", "x", RN("\x01\x02garbage\xff\x7f\r\n"), AV_ERROR,
	  "~: unexpected answer \"\\x01\\x02garbage\\xff\\x7f\"" },
	{ "unknown-command", "x", R("UNKNOWN COMMAND"), AV_ERROR,
	  "~: unexpected answer \"UNKNOWN COMMAND\"" },
	{ "ok-without-stream", "x", R("OK"), AV_ERROR,
	  "~: unexpected answer \"OK\"" },
	{ "found-empty-name", "x", R("stream:  FOUND"), AV_ERROR,
	  "~unexpected answer" },
};
#define NREPLY	(sizeof(reply_cases) / sizeof(reply_cases[0]))

/* a row of reply_cases: _i / 2, on the unix socket (even) or inet (odd) */
START_TEST(test_reply)
{
	const struct reply_case *rc = &reply_cases[_i / 2];
	struct av_result r;

	scan_reply(_i % 2, rc->msg, rc->reply, rc->replylen, &r);
	ck_assert_msg(r.status == rc->status, "%s: status %d, want %d (%s)",
		      rc->label, r.status, rc->status, r.name);
	if (rc->name[0] == '~')
		ck_assert_msg(strstr(r.name, rc->name + 1) != NULL &&
			      strncmp(r.name, "clamd ", 6) == 0,
			      "%s: %s", rc->label, r.name);
	else
		ck_assert_msg(strcmp(r.name, rc->name) == 0, "%s: %s",
			      rc->label, r.name);
}
END_TEST

/* scan_big - 4 MB through a fake that stops reading past limit bytes */
static void
scan_big(int inet, enum fake_mode mode, size_t limit, const char *reply,
	 struct av_result *r)
{
	size_t len = 4 << 20;
	unsigned char *big = xmalloc(len);
	struct spool_view v = mem_view(big, len);
	struct fake f;

	memset(big, 'a', len);
	fake_start(&f, inet, mode, reply, reply ? strlen(reply) + 1 : 0, limit);
	avclamd_scan(f.sock, &v, 65536, len, 5000, r);
	fake_end(&f);
	ck_assert_msg(printable(r->name), "not printable: %s", r->name);
	fake_free(&f);
	free(big);
}

/*
 * A stream past the fake's limit: the fake answers and closes with the
 * rest unread (a reset on TCP), as clamd does; the client, blocked in a
 * send or failing with EPIPE, reads the answer first.
 */
START_TEST(test_limit_midstream)
{
	struct av_result r;

	scan_big(_i, FAKE_LIMIT, 1000, "INSTREAM size limit exceeded. ERROR",
		 &r);
	ck_assert_int_eq(r.status, AV_ERROR);
	ck_assert_msg(strstr(r.name, "StreamMaxLength") != NULL, "%s", r.name);
}
END_TEST

/* "OK" before the whole message was sent is not clean; a virus is one */
START_TEST(test_early_answer)
{
	struct av_result r;

	scan_big(_i, FAKE_LIMIT, 1000, "stream: OK", &r);
	ck_assert_int_eq(r.status, AV_ERROR);
	ck_assert_msg(strstr(r.name, "answered OK before the whole message")
		      != NULL, "%s", r.name);
	scan_big(_i, FAKE_LIMIT, 1000, "stream: Early.Virus FOUND", &r);
	ck_assert_int_eq(r.status, AV_INFECTED);
	ck_assert_str_eq(r.name, "Early.Virus");
}
END_TEST

START_TEST(test_long_reply)
{
	char *junk = xmalloc(5000);
	struct av_result r;

	memset(junk, 'z', 5000);
	scan_reply(_i, "x", junk, 5000, &r);
	ck_assert_int_eq(r.status, AV_ERROR);
	ck_assert_uint_eq(strlen(r.name), sizeof(r.name) - 1);
	free(junk);
}
END_TEST

/* a fake that reads all and never answers: the deadline ends the scan */
START_TEST(test_timeout)
{
	struct spool_view v = mem_view("hello", 5);
	struct av_result r;
	struct fake f;
	char want[300];
	long long t0, ms;

	fake_start(&f, _i, FAKE_SILENT, NULL, 0, 0);
	t0 = ms_now();
	avclamd_scan(f.sock, &v, 8192, 1 << 20, 300, &r);
	ms = ms_now() - t0;
	fake_end(&f);
	ck_assert_int_eq(r.status, AV_UNAVAILABLE);
	snprintf(want, sizeof(want), "clamd %s: no answer within 300 ms",
		 f.sock);
	ck_assert_str_eq(r.name, want);
	ck_assert_msg(ms >= 290 && ms < 300 + 3000, "took %lld ms", ms);
	ck_assert(f.wellformed);
	fake_free(&f);
}
END_TEST

START_TEST(test_closed)
{
	struct spool_view v = mem_view("hello", 5);
	struct av_result r;
	struct fake f;

	fake_start(&f, _i, FAKE_CLOSE, NULL, 0, 0);
	avclamd_scan(f.sock, &v, 8192, 1 << 20, 2000, &r);
	fake_end(&f);
	ck_assert(f.accepted);
	ck_assert_int_eq(r.status, AV_UNAVAILABLE);
	ck_assert_msg(strstr(r.name, "connection closed") != NULL, "%s",
		      r.name);
}
END_TEST

/* reset mid-stream, nothing said: unavailable */
START_TEST(test_reset)
{
	struct av_result r;

	scan_big(_i, FAKE_RESET, 5000, NULL, &r);
	ck_assert_int_eq(r.status, AV_UNAVAILABLE);
	ck_assert_msg(strstr(r.name, "connection closed") != NULL, "%s",
		      r.name);
}
END_TEST

/* a unix socket file nobody listens on, and a bound TCP port */
START_TEST(test_refused)
{
	struct spool_view v = mem_view("hello", 5);
	struct av_result r;
	struct fake f;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	char want[256];

	memset(&f, 0, sizeof(f));
	if (_i) {
		/* bound, not listening: connect is refused */
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		f.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ck_assert_int_eq(bind(f.lfd, (struct sockaddr *)&sin,
				      sizeof(sin)), 0);
		ck_assert_int_eq(getsockname(f.lfd, (struct sockaddr *)&sin,
					     &sl), 0);
		snprintf(f.sock, sizeof(f.sock), "inet:%u@127.0.0.1",
			 (unsigned)ntohs(sin.sin_port));
	} else {
		fake_unix(&f);
		close(f.lfd);	/* the file stays */
		f.lfd = -1;
	}
	avclamd_scan(f.sock, &v, 8192, 1 << 20, 2000, &r);
	if (f.lfd >= 0)
		close(f.lfd);
	if (f.path[0] != '\0')
		unlink(f.path);
	ck_assert_int_eq(r.status, AV_UNAVAILABLE);
	snprintf(want, sizeof(want), "clamd %s: connection refused", f.sock);
	ck_assert_str_eq(r.name, want);
}
END_TEST

START_TEST(test_missing)
{
	struct spool_view v = mem_view("hello", 5);
	struct av_result r;
	char path[200], sock[220], want[300];

	fake_path(path, sizeof(path), "none");
	snprintf(sock, sizeof(sock), "%s:%s", _i ? "local" : "unix", path);
	avclamd_scan(sock, &v, 8192, 1 << 20, 2000, &r);
	ck_assert_int_eq(r.status, AV_UNAVAILABLE);
	snprintf(want, sizeof(want), "clamd %s: no such socket", sock);
	ck_assert_str_eq(r.name, want);
}
END_TEST

START_TEST(test_bad_socket)
{
	static const char *bad[] = {
		"", "tcp:3310@127.0.0.1", "unix:", "inet:3310", "inet:@1.2.3.4",
		"inet:x@127.0.0.1", "inet:70000@127.0.0.1",
		"inet:3310@localhost", "inet6:3310@127.0.0.1",
		"inet:3310@::1", NULL,
	};
	struct spool_view v = mem_view("hello", 5);
	struct av_result r;

	for (int i = 0; bad[i] != NULL; i++) {
		avclamd_scan(bad[i], &v, 8192, 1 << 20, 2000, &r);
		ck_assert_int_eq(r.status, AV_UNAVAILABLE);
		ck_assert_msg(strstr(r.name, "not a socket") != NULL, "%s: %s",
			      bad[i], r.name);
	}
}
END_TEST

/* inet6 on ::1, when the host has IPv6 loopback (skipped otherwise) */
START_TEST(test_inet6)
{
	static const char ok[] = "stream: OK";
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	socklen_t len = sizeof(sin6);
	struct spool_view v = mem_view("hello", 5);
	struct av_result r;
	struct fake f;

	memset(&f, 0, sizeof(f));
	f.mode = FAKE_REPLY;
	f.reply = ok;
	f.replylen = sizeof(ok);
	sin6.sin6_addr = in6addr_loopback;
	f.lfd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (f.lfd < 0)
		return;
	if (bind(f.lfd, (struct sockaddr *)&sin6, sizeof(sin6)) != 0) {
		close(f.lfd);
		return;
	}
	ck_assert_int_eq(listen(f.lfd, 4), 0);
	ck_assert_int_eq(getsockname(f.lfd, (struct sockaddr *)&sin6, &len), 0);
	snprintf(f.sock, sizeof(f.sock), _i ? "inet6:%u@[::1]" : "inet6:%u@::1",
		 (unsigned)ntohs(sin6.sin6_port));
	ck_assert_int_eq(pthread_create(&f.th, NULL, fake_main, &f), 0);
	avclamd_scan(f.sock, &v, 8192, 1 << 20, 2000, &r);
	fake_end(&f);
	ck_assert_int_eq(r.status, AV_CLEAN);
	ck_assert(f.wellformed);
	fake_free(&f);
}
END_TEST

/* a message in a file, sent in many chunks; the fake checks each byte */
START_TEST(test_file_chunks)
{
	static const char ok[] = "stream: OK";
	size_t len = 100000, chunk = 4096;
	unsigned char *data = xmalloc(len);
	char path[200];
	struct spool_view v;
	struct av_result r;
	struct fake f;
	int fd;

	for (size_t i = 0; i < len; i++)
		data[i] = (unsigned char)(i * 7 + i / 251);
	fake_path(path, sizeof(path), "msg");
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	unlink(path);
	v.data = NULL;
	v.fd = fd;
	v.len = len;
	fake_start(&f, _i, FAKE_REPLY, ok, sizeof(ok), 0);
	avclamd_scan(f.sock, &v, chunk, len, 5000, &r);
	fake_end(&f);
	close(fd);
	ck_assert_int_eq(r.status, AV_CLEAN);
	ck_assert(f.wellformed);
	ck_assert_uint_eq(f.gotlen, len);
	ck_assert(memcmp(f.got, data, len) == 0);
	ck_assert_uint_eq(f.nchunks, (len + chunk - 1) / chunk);
	ck_assert_uint_eq(f.maxchunk, chunk);
	fake_free(&f);
	free(data);
}
END_TEST

/* a file shorter than the view says: a read error, not a clean scan */
START_TEST(test_file_short)
{
	char path[200];
	struct spool_view v;
	struct av_result r;
	struct fake f;
	int fd;

	fake_path(path, sizeof(path), "short");
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "abc", 3), 3);
	unlink(path);
	v.data = NULL;
	v.fd = fd;
	v.len = 10;
	/* silent: it waits for the stream, whatever the client does */
	fake_start(&f, 0, FAKE_SILENT, NULL, 0, 0);
	avclamd_scan(f.sock, &v, 4, 100, 2000, &r);
	fake_end(&f);
	close(fd);
	ck_assert_int_eq(r.status, AV_ERROR);
	ck_assert_msg(strstr(r.name, "message read at 3: file shorter") != NULL, "%s",
		      r.name);
}
END_TEST

/* chunk 0 is clamped to 1: three bytes, three chunks */
START_TEST(test_chunk_clamp)
{
	static const char ok[] = "stream: OK";
	struct spool_view v = mem_view("abc", 3);
	struct av_result r;
	struct fake f;

	fake_start(&f, 0, FAKE_REPLY, ok, sizeof(ok), 0);
	avclamd_scan(f.sock, &v, 0, 100, 2000, &r);
	fake_end(&f);
	ck_assert_int_eq(r.status, AV_CLEAN);
	ck_assert_uint_eq(f.nchunks, 3);
	ck_assert_uint_eq(f.gotlen, 3);
	fake_free(&f);
}
END_TEST

START_TEST(test_empty)
{
	static const char ok[] = "stream: OK";
	struct spool_view v = mem_view(NULL, 0);
	struct av_result r;
	struct fake f;

	fake_start(&f, _i, FAKE_REPLY, ok, sizeof(ok), 0);
	avclamd_scan(f.sock, &v, 8192, 0, 2000, &r);
	fake_end(&f);
	ck_assert_int_eq(r.status, AV_CLEAN);
	ck_assert(f.wellformed);
	ck_assert_uint_eq(f.gotlen, 0);
	ck_assert_uint_eq(f.nchunks, 0);
}
END_TEST

/* over max: refused before any connection (the listener has none) */
START_TEST(test_over_max)
{
	struct spool_view v = mem_view("0123456789", 10);
	struct av_result r;
	struct fake f;
	struct pollfd pfd = { .events = POLLIN };
	char want[300];

	memset(&f, 0, sizeof(f));
	if (_i)
		fake_inet(&f);
	else
		fake_unix(&f);
	avclamd_scan(f.sock, &v, 8192, 9, 2000, &r);
	ck_assert_int_eq(r.status, AV_ERROR);
	snprintf(want, sizeof(want), "clamd %s: message of 10 bytes is "
		 "larger than clamd_stream_max 9", f.sock);
	ck_assert_str_eq(r.name, want);
	pfd.fd = f.lfd;
	ck_assert_msg(poll(&pfd, 1, 0) == 0, "avclamd_scan connected");
	close(f.lfd);
	if (f.path[0] != '\0')
		unlink(f.path);
}
END_TEST

/* real_sock - RG_CLAMD_SOCKET (i 0) or RG_CLAMD_INET (i 1) */
static const char *
real_sock(int i)
{
	const char *s = getenv(i ? "RG_CLAMD_INET" : "RG_CLAMD_SOCKET");

	ck_assert_ptr_nonnull(s);
	return s;
}

/* real_scan - scan text through the real clamd, in chunks of chunk */
static void
real_scan(int i, const char *text, size_t len, size_t chunk,
	  struct av_result *r)
{
	struct spool_view v = mem_view(text, len);

	avclamd_scan(real_sock(i), &v, chunk, (size_t)1 << 30, 10000, r);
	ck_assert_msg(printable(r->name), "not printable: %s", r->name);
}

/* EICAR in a message, split over chunk boundaries */
START_TEST(test_real_eicar)
{
	char msg[512];
	struct av_result r;
	int n;

	n = snprintf(msg, sizeof(msg), "From: a@example.org\r\n"
		     "Subject: test\r\n\r\n%s%s\r\n", eicar_a, eicar_b);
	real_scan(_i, msg, (size_t)n, 7, &r);
	ck_assert_int_eq(r.status, AV_INFECTED);
	ck_assert_msg(strncmp(r.name, "Eicar-Test-Signature", 20) == 0, "%s",
		      r.name);
}
END_TEST

START_TEST(test_real_marker)
{
	char msg[512];
	struct av_result r;
	int n;

	n = snprintf(msg, sizeof(msg), "From: a@example.org\r\n"
		     "Subject: test\r\n\r\nsome text %s%s more\r\n", marker_a,
		     marker_b);
	real_scan(_i, msg, (size_t)n, 8192, &r);
	ck_assert_int_eq(r.status, AV_INFECTED);
	ck_assert_msg(strncmp(r.name, "Relayguard.Test.Marker", 22) == 0,
		      "%s", r.name);
}
END_TEST

START_TEST(test_real_clean)
{
	static const char msg[] = "From: a@example.org\r\nSubject: hi\r\n\r\n"
		"RELAYGUARD-TEST-MALWARE-MARKER-2 is not the marker\r\n";
	struct av_result r;

	real_scan(_i, msg, sizeof(msg) - 1, 8192, &r);
	ck_assert_int_eq(r.status, AV_CLEAN);
	ck_assert_str_eq(r.name, "");
	real_scan(_i, "", 0, 8192, &r);
	ck_assert_int_eq(r.status, AV_CLEAN);
}
END_TEST

/* StreamMaxLength bytes pass; one more is clamd's size-limit error */
START_TEST(test_real_stream_max)
{
	const char *env = getenv("RG_CLAMD_STREAM_MAX");
	long long max = util_parse_size(env != NULL ? env : "25M");
	char *big;
	struct av_result r;

	ck_assert(max > 0 && max <= 64LL << 20);
	big = xmalloc((size_t)max + 1);
	memset(big, 'c', (size_t)max + 1);
	real_scan(_i, big, (size_t)max, 65536, &r);
	ck_assert_int_eq(r.status, AV_CLEAN);
	real_scan(_i, big, (size_t)max + 1, 65536, &r);
	ck_assert_int_eq(r.status, AV_ERROR);
	ck_assert_msg(strstr(r.name, "StreamMaxLength") != NULL, "%s", r.name);
	free(big);
}
END_TEST

/* clamd stopped: its socket file gone, its port closed */
START_TEST(test_real_stopped)
{
	struct av_result r;
	char want[300];

	real_scan(_i, "hello", 5, 8192, &r);
	ck_assert_int_eq(r.status, AV_UNAVAILABLE);
	snprintf(want, sizeof(want), "clamd %s: %s", real_sock(_i),
		 _i ? "connection refused" : "no such socket");
	ck_assert_str_eq(r.name, want);
}
END_TEST

Suite *
avclamd_suite(void)
{
	Suite *s = suite_create("avclamd");
	TCase *tc = tcase_create("fake");

	/* loop tests: 0 on the unix socket, 1 on 127.0.0.1 */
	tcase_add_loop_test(tc, test_reply, 0, 2 * NREPLY);
	tcase_add_loop_test(tc, test_limit_midstream, 0, 2);
	tcase_add_loop_test(tc, test_early_answer, 0, 2);
	tcase_add_loop_test(tc, test_long_reply, 0, 2);
	tcase_add_loop_test(tc, test_timeout, 0, 2);
	tcase_add_loop_test(tc, test_closed, 0, 2);
	tcase_add_loop_test(tc, test_reset, 0, 2);
	tcase_add_loop_test(tc, test_refused, 0, 2);
	tcase_add_loop_test(tc, test_missing, 0, 2);
	tcase_add_test(tc, test_bad_socket);
	tcase_add_loop_test(tc, test_inet6, 0, 2);
	tcase_add_loop_test(tc, test_file_chunks, 0, 2);
	tcase_add_test(tc, test_file_short);
	tcase_add_test(tc, test_chunk_clamp);
	tcase_add_loop_test(tc, test_empty, 0, 2);
	tcase_add_loop_test(tc, test_over_max, 0, 2);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	if (getenv("RG_CLAMD_SOCKET") != NULL && getenv("RG_CLAMD_INET") != NULL) {
		tc = tcase_create(getenv("RG_CLAMD_STOPPED") ? "stopped" : "real");
		if (getenv("RG_CLAMD_STOPPED") != NULL) {
			tcase_add_loop_test(tc, test_real_stopped, 0, 2);
		} else {
			tcase_add_loop_test(tc, test_real_eicar, 0, 2);
			tcase_add_loop_test(tc, test_real_marker, 0, 2);
			tcase_add_loop_test(tc, test_real_clean, 0, 2);
			tcase_add_loop_test(tc, test_real_stream_max, 0, 2);
		}
		tcase_set_timeout(tc, 60);
		suite_add_tcase(s, tc);
	}
	return s;
}
