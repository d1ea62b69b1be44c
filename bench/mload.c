/*
 * mload - a milter load generator: the MTA side of the milter protocol,
 * spoken as Postfix 3.7 speaks it, to measure a milter without an MTA in
 * the way (issue 20).
 *
 * Usage: bench/mload -s SOCKET [-c CONN] [-n MSGS] [-m DIR] [-r]
 *                    [-p PID]... [-R RATE] [-t SECONDS] [-a] [-o] [-v] [-S]
 *                    [-l FILE] [-u]
 *
 *   -s SOCKET  the milter: inet:PORT@HOST (HOST an IPv4 address) or
 *              unix:PATH
 *   -c CONN    concurrent connections (threads), default 10
 *   -n MSGS    messages in all, default 1000
 *   -m DIR     the message mix: every regular file of DIR is one message
 *              kind (its name without the extension is the kind's name),
 *              sent in turn; default: the built-in kinds text, html,
 *              multipart, gtube and eicar (generated in memory)
 *   -r         reuse connections: one milter session per thread, every
 *              message after the first starts at MAIL (after an ABORT, as
 *              Postfix resets a transaction); default one session a
 *              message (connect, HELO, ..., end of message, QUIT)
 *   -p PID     sample the daemon's RSS from /proc/PID/status every 20 ms
 *              (VmRSS; VmHWM at the end) and its CPU (utime+stime) before
 *              and after; repeatable, the figures are summed
 *   -R RATE    pace the messages: message i starts at i / RATE seconds
 *              from the start at the earliest (open loop, for latency at a
 *              given load); default as fast as the connections go
 *   -t SECONDS a reply that takes longer fails the message; default 30
 *   -a         authenticated sessions: {auth_type}, {auth_authen} and
 *              {auth_author} are sent with MAIL, as for submission
 *   -o         machine-readable output: one "key=value ..." line
 *   -v         print each failure as it happens
 *   -l FILE    write the latency of every answered message to FILE, in ms,
 *              one a line, in the order they were sent
 *   -u         unique messages: every occurrence of the marker
 *              XRGUNIQUEMARKERX (16 characters of the base64 alphabet, so
 *              that it may stand inside a base64 line) in a header value
 *              or the body is replaced by a token of the same length
 *              made of the message's number and the run's seed; without
 *              it every copy of a kind is identical, and filters that
 *              cache verdicts by digest (Rspamd's antivirus module, the
 *              clean-file cache of ClamAV) answer most of a run from
 *              their cache, which real mail does not allow
 *   -S         speak SMTP to an MTA instead (SOCKET its smtpd): the same
 *              threads, mix, pacing and figures, a message sent as
 *              EHLO client.bench.example, MAIL FROM:<sender@bench.example>,
 *              RCPT TO:<x@sink.test>, DATA; its latency from connect (or
 *              MAIL with -r) to the reply to "."; 2xx counts as accept,
 *              4xx tempfail, 5xx reject (scripts/bench: latency through
 *              Postfix at a given rate)
 *
 * The protocol, as Postfix 3.7 (milter_protocol = 6) drives it: OPTNEG
 * offering version 6, every action (SMFIF_ 0x1ff) and every protocol
 * option Postfix knows (SMFIP_ 0x1fffff); then for each step its macros
 * (SMFIC_MACRO) and the step: CONNECT (family 4, port, 127.0.0.1), HELO,
 * MAIL, RCPT, DATA, one HEADER a field, EOH, BODY in chunks of at most
 * 65535 bytes (CRLF line ends), end of message.  The options the milter
 * negotiates are honoured: a step it declines (SMFIP_NOCONNECT ... NODATA,
 * NOHDRS, NOEOH, NOBODY) is not sent, nor its macros; a step it will not
 * answer (SMFIP_NR_*, SMFIP_NOHREPL) is not waited for; SMFIR_SKIP ends
 * the body early; with SMFIP_HDR_LEADSPC header values keep the space
 * after the colon.  The macros sent are the ones Postfix sends by
 * default (postconf -d milter_*_macros: connect j {daemon_name}
 * {daemon_addr} v _, MAIL i and {mail_*} (and {auth_*} with -a), RCPT i
 * and {rcpt_*}, DATA, end of headers and end of message i; none at HELO
 * without TLS) plus {client_addr} and {client_name} at connect; the
 * milter's SMFIM_ lists, if any, are read and ignored.
 *
 * The verdict of a message is the first reply other than CONTINUE
 * (ACCEPT, REJECT, TEMPFAIL, DISCARD, a REPLYCODE counted as reject or
 * tempfail by its first digit) or the final reply to end of message;
 * QUARANTINE and the header changes (SMFIR_ADDHEADER, INSHEADER,
 * CHGHEADER) at end of message are counted too.  A verdict at CONNECT or
 * HELO is the session's: with -r the session is closed and the next
 * message opens a new one.
 *
 * Latency: from the start of the message's first step (the connect() of
 * its session without -r, its MAIL with -r) to the reply to end of
 * message.  Throughput: messages / (first start to last reply).
 *
 * Output: msg/s, latency p50/p90/p99/max, verdict counts per kind, peak
 * RSS and CPU per message of the -p processes; with -o one line:
 *   msgs=N ok=N failed=N elapsed=S msgs_per_s=R p50_ms= p90_ms= p99_ms=
 *   max_ms= peak_rss_kb= hwm_kb= cpu_us_per_msg= hdr_changes=N
 *   v_KIND_VERDICT=N ...
 *
 * Exit status: 0 when every message got a verdict, 1 when one failed (no
 * connection, a closed connection, a timeout, a protocol error), 2 for a
 * usage error.
 */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* milter protocol: commands (MTA to milter) */
#define C_ABORT		'A'
#define C_BODY		'B'
#define C_CONNECT	'C'
#define C_BODYEOB	'E'
#define C_HELO		'H'
#define C_HEADER	'L'
#define C_MAIL		'M'
#define C_EOH		'N'
#define C_OPTNEG	'O'
#define C_QUIT		'Q'
#define C_RCPT		'R'
#define C_DATA		'T'
#define C_MACRO		'D'

/* protocol options */
#define P_NOCONNECT	0x000001
#define P_NOHELO	0x000002
#define P_NOMAIL	0x000004
#define P_NORCPT	0x000008
#define P_NOBODY	0x000010
#define P_NOHDRS	0x000020
#define P_NOEOH		0x000040
#define P_NR_HDR	0x000080
#define P_NODATA	0x000200
#define P_SKIP		0x000400
#define P_NR_CONN	0x001000
#define P_NR_HELO	0x002000
#define P_NR_MAIL	0x004000
#define P_NR_RCPT	0x008000
#define P_NR_DATA	0x010000
#define P_NR_EOH	0x040000
#define P_NR_BODY	0x080000
#define P_HDR_LEADSPC	0x100000
#define P_POSTFIX37	0x1fffff	/* every option Postfix 3.7 offers */
#define F_POSTFIX37	0x1ff		/* every action */
#define MILTER_CHUNK	65535
#define MAX_PACKET	(1 << 20)

/* verdicts, in the order of the report's columns */
enum { V_CONTINUE, V_ACCEPT, V_REJECT, V_TEMPFAIL, V_DISCARD, V_QUARANTINE, V_FAILED, V_N };
static const char *const verdict_name[V_N] = {
	"continue", "accept", "reject", "tempfail", "discard", "quarantine", "failed"
};

/* one message kind: headers split into fields, the body with CRLF */
struct kind {
	char *name;
	int nhdr;
	char **hname, **hvalue;	/* hvalue with its leading white space */
	char *body;
	size_t body_len;
	char *raw;		/* the whole message for SMTP: CRLF, dot-stuffed */
	size_t raw_len;
	int marked;		/* the raw message holds the -u marker */
	atomic_int count[V_N];
};

/* the run's settings, set once by main() */
static struct {
	int inet;
	struct sockaddr_in sin;
	struct sockaddr_un sun;
	int conns, msgs, reuse, auth, out, verbose, smtp, unique;
	uint64_t seed;
	const char *latfile;
	double rate, timeout;
	pid_t pids[16];
	int npids;
} cf;

static struct kind *kinds;
static int nkinds;
static double *lat;		/* per message, ms; < 0 failed */
static atomic_int next_msg, done_msgs, failed_msgs, hdr_changes;
static atomic_long peak_rss;
static atomic_int sampling;
static double t_start;

/* now - monotonic seconds */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* die - a usage or set-up error */
static void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("mload: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* xmalloc - malloc that never returns NULL */
static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die("out of memory");
	return p;
}

/* xrealloc - realloc that never returns NULL */
static void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

/* ------------------------------------------------------ message mix -- */

/* buf - a growing byte buffer */
struct buf {
	char *p;
	size_t len, cap;
};

/* buf_add - append N bytes */
static void
buf_add(struct buf *b, const void *d, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
	b->p[b->len] = 0;
}

/* buf_str - append a string */
static void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* kind_raw - the message as DATA sends it: CRLF line ends, dot-stuffed */
static void
kind_raw(struct kind *k, const char *msg, size_t len)
{
	const char *p = msg, *end = msg + len;
	struct buf r = { 0 };

	while (p < end) {
		const char *eol = memchr(p, '\n', end - p), *le;

		if (!eol)
			eol = end;
		le = eol;
		if (le > p && le[-1] == '\r')
			le--;
		if (*p == '.')
			buf_str(&r, ".");
		buf_add(&r, p, le - p);
		buf_str(&r, "\r\n");
		p = eol < end ? eol + 1 : end;
	}
	k->raw = r.p ? r.p : strdup("");
	k->raw_len = r.len;
}

/* kind_parse - split a message (LF or CRLF) into a kind */
static void
kind_parse(struct kind *k, const char *name, const char *msg, size_t len)
{
	const char *p = msg, *end = msg + len;
	struct buf body = { 0 };

	memset(k, 0, sizeof(*k));
	k->name = strdup(name);
	while (p < end) {
		const char *eol = memchr(p, '\n', end - p), *le, *colon;
		size_t n;

		if (!eol)
			eol = end;
		le = eol;
		if (le > p && le[-1] == '\r')
			le--;
		if (le == p) {			/* the empty line */
			p = eol < end ? eol + 1 : end;
			break;
		}
		if ((*p == ' ' || *p == '\t') && k->nhdr > 0) {
			/* a folded line: joined with CRLF, as the MTA passes it */
			struct buf v = { 0 };

			buf_str(&v, k->hvalue[k->nhdr - 1]);
			buf_str(&v, "\r\n");
			buf_add(&v, p, le - p);
			free(k->hvalue[k->nhdr - 1]);
			k->hvalue[k->nhdr - 1] = v.p;
		} else if ((colon = memchr(p, ':', le - p)) != NULL) {
			k->hname = xrealloc(k->hname, (k->nhdr + 1) * sizeof(char *));
			k->hvalue = xrealloc(k->hvalue, (k->nhdr + 1) * sizeof(char *));
			n = colon - p;
			while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
				n--;
			k->hname[k->nhdr] = strndup(p, n);
			k->hvalue[k->nhdr] = strndup(colon + 1, le - colon - 1);
			k->nhdr++;
		}
		p = eol < end ? eol + 1 : end;
	}
	/* the body with CRLF line ends */
	while (p < end) {
		const char *eol = memchr(p, '\n', end - p), *le;

		if (!eol) {
			buf_add(&body, p, end - p);
			buf_str(&body, "\r\n");
			break;
		}
		le = eol;
		if (le > p && le[-1] == '\r')
			le--;
		buf_add(&body, p, le - p);
		buf_str(&body, "\r\n");
		p = eol + 1;
	}
	k->body = body.p ? body.p : strdup("");
	k->body_len = body.len;
	kind_raw(k, msg, len);
}

/* the marker that -u replaces, and its length */
#define UNIQ_MARK	"XRGUNIQUEMARKERX"
#define UNIQ_LEN	16

/* uniq_token - message id's token: 6 base-62 digits of the id, then 10
 * of a hash of the id and the run's seed (UNIQ_LEN characters, no NUL) */
static void
uniq_token(long id, char *tok)
{
	static const char a62[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	uint64_t v = (uint64_t)id, h = cf.seed ^ ((uint64_t)id * 0x9e3779b97f4a7c15ULL);
	int i;

	for (i = 5; i >= 0; i--, v /= 62)
		tok[i] = a62[v % 62];
	/* splitmix64's finaliser */
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
	h ^= h >> 31;
	for (i = 6; i < UNIQ_LEN; i++, h /= 62)
		tok[i] = a62[h % 62];
}

/* uniq_copy - a copy of p (len bytes, plus a NUL) with every marker
 * replaced by tok */
static char *
uniq_copy(const char *p, size_t len, const char *tok)
{
	char *c = xmalloc(len + 1), *m = c;

	memcpy(c, p, len);
	c[len] = '\0';
	while ((m = memmem(m, len - (m - c), UNIQ_MARK, UNIQ_LEN)) != NULL) {
		memcpy(m, tok, UNIQ_LEN);
		m += UNIQ_LEN;
	}
	return c;
}

/* uniq_kind - with -u, message id's copy of kind k in *u (returned);
 * without, or when k has no marker, k itself.  uniq_free() releases the copy. */
static struct kind *
uniq_kind(struct kind *k, long id, struct kind *u)
{
	char tok[UNIQ_LEN];
	int i;

	if (!cf.unique || !k->marked)
		return k;
	uniq_token(id, tok);
	*u = *k;
	u->body = uniq_copy(k->body, k->body_len, tok);
	u->raw = uniq_copy(k->raw, k->raw_len, tok);
	u->hvalue = xmalloc((k->nhdr ? k->nhdr : 1) * sizeof(char *));
	for (i = 0; i < k->nhdr; i++)
		u->hvalue[i] = uniq_copy(k->hvalue[i], strlen(k->hvalue[i]), tok);
	return u;
}

static void
uniq_free(struct kind *k, struct kind *u)
{
	int i;

	if (u == k)
		return;
	for (i = 0; i < u->nhdr; i++)
		free(u->hvalue[i]);
	free(u->hvalue);
	free(u->body);
	free(u->raw);
}

/* mix_load - one kind per regular file of DIR, in name order */
static void
mix_load(const char *dir)
{
	struct dirent **ents;
	int n, i;

	n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0)
		die("%s: %s", dir, strerror(errno));
	for (i = 0; i < n; i++) {
		char path[4096], name[256], *dot;
		struct stat st;
		FILE *f;
		char *data;

		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		if (ents[i]->d_name[0] == '.' || stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
			free(ents[i]);
			continue;
		}
		snprintf(name, sizeof(name), "%s", ents[i]->d_name);
		if ((dot = strchr(name, '.')) != NULL && dot != name)
			*dot = 0;
		if (!(f = fopen(path, "rb")))
			die("%s: %s", path, strerror(errno));
		data = xmalloc(st.st_size + 1);
		if (fread(data, 1, st.st_size, f) != (size_t)st.st_size)
			die("%s: short read", path);
		fclose(f);
		kinds = xrealloc(kinds, (nkinds + 1) * sizeof(*kinds));
		kind_parse(&kinds[nkinds++], name, data, st.st_size);
		free(data);
		free(ents[i]);
	}
	free(ents);
	if (nkinds == 0)
		die("%s: no message files", dir);
}

/* mix_builtin - the built-in kinds, generated in memory */
static void
mix_builtin(void)
{
	static const char *const names[] = { "text", "html", "multipart", "gtube", "eicar" };
	const char *head =
	    "Received: from client.bench.example (client.bench.example [127.0.0.1])\n"
	    "\tby mx.test (Postfix) with ESMTP id 4ABCDEF\n"
	    "\tfor <x@sink.test>; Tue, 1 Dec 2026 10:00:00 +0000\n"
	    "From: Sender <sender@bench.example>\n"
	    "To: <x@sink.test>\n"
	    "Date: Tue, 1 Dec 2026 10:00:00 +0000\n";
	size_t i;
	int j;

	kinds = xmalloc(sizeof(names) / sizeof(names[0]) * sizeof(*kinds));
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct buf m = { 0 };
		char line[256];

		buf_str(&m, head);
		snprintf(line, sizeof(line), "Message-ID: <%s.%zu@bench.example>\nSubject: a %s message\n",
		    names[i], i, names[i]);
		buf_str(&m, line);
		switch (i) {
		case 0:
			buf_str(&m, "\n");
			for (j = 0; j < 20; j++)
				buf_str(&m, "The quarterly figures are attached to the minutes of the meeting.\n");
			break;
		case 1:
			buf_str(&m, "MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n<html><body>\n");
			for (j = 0; j < 30; j++)
				buf_str(&m, "<p>The <b>meeting</b> moved to <a href=\"https://bench.example/cal\">Thursday</a>.</p>\n");
			buf_str(&m, "</body></html>\n");
			break;
		case 2:
			buf_str(&m, "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n"
			    "--b1\nContent-Type: text/plain; charset=utf-8\n\nThe report, as promised.\n"
			    "--b1\nContent-Type: application/octet-stream; name=\"r.bin\"\n"
			    "Content-Disposition: attachment; filename=\"r.bin\"\nContent-Transfer-Encoding: base64\n\n");
			for (j = 0; j < 400; j++)
				buf_str(&m, "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2\n");
			buf_str(&m, "--b1--\n");
			break;
		case 3:
			/* in two halves, so this file is not itself taken for spam */
			buf_str(&m, "\nXJS*C4JDBQADN1.NSBN3*2IDNEN*");
			buf_str(&m, "GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\n");
			break;
		case 4:
			/* in two halves, so this file is not itself a virus */
			buf_str(&m, "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b2\"\n\n"
			    "--b2\nContent-Type: text/plain\n\nsee attachment\n"
			    "--b2\nContent-Type: application/octet-stream; name=\"e.com\"\n"
			    "Content-Disposition: attachment; filename=\"e.com\"\n\n");
			buf_str(&m, "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR");
			buf_str(&m, "-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*\n--b2--\n");
			break;
		}
		kind_parse(&kinds[nkinds++], names[i], m.p, m.len);
		free(m.p);
	}
}

/* -------------------------------------------------------- the wire -- */

/* one milter session */
struct sess {
	int fd;
	uint32_t proto;		/* the options the milter negotiated */
	struct buf out;		/* commands not yet written */
};

/* pkt - append one packet (command and data) to the session's output */
static void
pkt(struct sess *s, char cmd, const void *data, size_t len)
{
	uint32_t n = htonl((uint32_t)len + 1);

	buf_add(&s->out, &n, 4);
	buf_add(&s->out, &cmd, 1);
	if (len)
		buf_add(&s->out, data, len);
}

/* flush - write the pending output; -1 on error */
static int
flush(struct sess *s)
{
	size_t off = 0;

	while (off < s->out.len) {
		ssize_t n = write(s->fd, s->out.p + off, s->out.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += n;
	}
	s->out.len = 0;
	return 0;
}

/* read_full - N bytes within the timeout; -1 on error, EOF or timeout */
static int
read_full(int fd, void *p, size_t n)
{
	size_t off = 0;

	while (off < n) {
		struct pollfd pf = { fd, POLLIN, 0 };
		int r = poll(&pf, 1, (int)(cf.timeout * 1000));
		ssize_t got;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got = read(fd, (char *)p + off, n - off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return -1;
		off += got;
	}
	return 0;
}

/* reply - read one reply packet: its command, its data in *data (NUL
 * terminated, the caller frees); -1 on error */
static int
reply(struct sess *s, char **data, uint32_t *len)
{
	uint32_t n;
	char cmd;

	if (flush(s) < 0 || read_full(s->fd, &n, 4) < 0)
		return -1;
	n = ntohl(n);
	if (n < 1 || n > MAX_PACKET || read_full(s->fd, &cmd, 1) < 0)
		return -1;
	*len = n - 1;
	*data = xmalloc(n);
	if (*len && read_full(s->fd, *data, *len) < 0) {
		free(*data);
		return -1;
	}
	(*data)[*len] = 0;
	return (unsigned char)cmd;
}

/* macro - append a macro packet for STEP: pairs of name, value */
static void
macro(struct sess *s, char step, const char *const *nv)
{
	struct buf b = { 0 };

	buf_add(&b, &step, 1);
	for (; nv[0]; nv += 2) {
		buf_add(&b, nv[0], strlen(nv[0]) + 1);
		buf_add(&b, nv[1], strlen(nv[1]) + 1);
	}
	pkt(s, C_MACRO, b.p, b.len);
	free(b.p);
}

/* outcome of a step */
enum { S_CONT, S_SKIP, S_DONE, S_ERR };

/* wait_step - read replies to a step up to its verdict; S_CONT, S_SKIP
 * (body: the milter wants no more), S_DONE with *v set, or S_ERR.  At end
 * of message the modification replies before the verdict are counted. */
static int
wait_step(struct sess *s, int *v, int eom, int *quarantined)
{
	for (;;) {
		char *d;
		uint32_t len;
		int c = reply(s, &d, &len);

		switch (c) {
		case -1:
			return S_ERR;
		case 'c':
			free(d);
			if (eom) {
				*v = *quarantined ? V_QUARANTINE : V_CONTINUE;
				return S_DONE;
			}
			return S_CONT;
		case 's':
			free(d);
			return S_SKIP;
		case 'a':
			*v = *quarantined && eom ? V_QUARANTINE : V_ACCEPT;
			free(d);
			return S_DONE;
		case 'r':
			*v = V_REJECT;
			free(d);
			return S_DONE;
		case 't':
			*v = V_TEMPFAIL;
			free(d);
			return S_DONE;
		case 'd':
			*v = V_DISCARD;
			free(d);
			return S_DONE;
		case 'y':
			*v = d[0] == '4' ? V_TEMPFAIL : V_REJECT;
			free(d);
			return S_DONE;
		case 'q':
			*quarantined = 1;
			free(d);
			break;
		case 'h': case 'i': case 'm':
			atomic_fetch_add(&hdr_changes, 1);
			free(d);
			break;
		case 'p': case '+': case '-': case '2': case 'b': case 'e': case 'l':
			free(d);
			break;
		default:	/* 'f' connection failure, '4' shutdown, or unknown */
			free(d);
			return S_ERR;
		}
	}
}

/* step - send the pending packets and, unless the milter said it will
 * not answer (NR), wait for the reply */
static int
step(struct sess *s, uint32_t nr, int *v)
{
	int q = 0;

	if (s->proto & nr)
		return S_CONT;
	return wait_step(s, v, 0, &q);
}

/* sess_open - connect and negotiate; 0 or -1 */
static int
sess_open(struct sess *s)
{
	uint32_t opt[3], len;
	char *d;
	int one = 1, c;

	s->out.len = 0;
	s->fd = socket(cf.inet ? AF_INET : AF_UNIX, SOCK_STREAM, 0);
	if (s->fd < 0)
		return -1;
	if (cf.inet)
		setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(s->fd, cf.inet ? (struct sockaddr *)&cf.sin : (struct sockaddr *)&cf.sun,
	    cf.inet ? sizeof(cf.sin) : sizeof(cf.sun)) < 0)
		goto fail;
	opt[0] = htonl(6);
	opt[1] = htonl(F_POSTFIX37);
	opt[2] = htonl(P_POSTFIX37);
	pkt(s, C_OPTNEG, opt, sizeof(opt));
	c = reply(s, &d, &len);
	if (c != C_OPTNEG || len < 12) {
		if (c >= 0)
			free(d);
		goto fail;
	}
	memcpy(opt, d, 12);
	/* SMFIM_ macro lists may follow: read and ignored */
	free(d);
	s->proto = ntohl(opt[2]) & P_POSTFIX37;
	return 0;
fail:
	close(s->fd);
	s->fd = -1;
	return -1;
}

/* sess_close - QUIT and close */
static void
sess_close(struct sess *s)
{
	if (s->fd < 0)
		return;
	pkt(s, C_QUIT, NULL, 0);
	flush(s);
	close(s->fd);
	s->fd = -1;
}

/* sess_hello - the connection's steps: CONNECT, HELO */
static int
sess_hello(struct sess *s, int *v, long id)
{
	char name[64];
	const char *conn_macros[] = {
		"j", "mx.test", "{daemon_name}", "mx.test", "{daemon_addr}", "127.0.0.1",
		"v", "Postfix 3.7.11", "_", "client.bench.example [127.0.0.1]",
		"{client_addr}", "127.0.0.1", "{client_name}", "client.bench.example", NULL
	};
	const char *helo_macros[] = { NULL };
	struct buf b = { 0 };
	uint16_t port = htons((uint16_t)(40000 + id % 20000));
	int r;

	if (!(s->proto & P_NOCONNECT)) {
		macro(s, C_CONNECT, conn_macros);
		buf_str(&b, "client.bench.example");
		buf_add(&b, "", 1);
		buf_add(&b, "4", 1);
		buf_add(&b, &port, 2);
		buf_add(&b, "127.0.0.1", 10);
		pkt(s, C_CONNECT, b.p, b.len);
		free(b.p);
		if ((r = step(s, P_NR_CONN, v)) != S_CONT)
			return r;
	}
	if (!(s->proto & P_NOHELO)) {
		macro(s, C_HELO, helo_macros);
		snprintf(name, sizeof(name), "client.bench.example");
		pkt(s, C_HELO, name, strlen(name) + 1);
		if ((r = step(s, P_NR_HELO, v)) != S_CONT)
			return r;
	}
	return S_CONT;
}

/* sess_message - one transaction, MAIL to end of message */
static int
sess_message(struct sess *s, struct kind *k, int *v, long id)
{
	char qid[32], arg[320];
	const char *mail_plain[] = {
		"i", qid, "{mail_addr}", "sender@bench.example", "{mail_host}", "bench.example",
		"{mail_mailer}", "smtp", NULL
	};
	const char *mail_auth[] = {
		"i", qid, "{auth_type}", "PLAIN", "{auth_authen}", "user@bench.example",
		"{auth_author}", "", "{mail_addr}", "sender@bench.example",
		"{mail_host}", "bench.example", "{mail_mailer}", "smtp", NULL
	};
	const char *rcpt_macros[] = {
		"i", qid, "{rcpt_addr}", "x@sink.test", "{rcpt_host}", "sink.test", "{rcpt_mailer}", "smtp", NULL
	};
	const char *data_macros[] = { "i", qid, NULL };
	int r, q = 0, lead = (s->proto & P_HDR_LEADSPC) != 0;
	size_t off;

	snprintf(qid, sizeof(qid), "%lX", 0x10000000L + id);
	if (!(s->proto & P_NOMAIL)) {
		macro(s, C_MAIL, cf.auth ? mail_auth : mail_plain);
		snprintf(arg, sizeof(arg), "<sender@bench.example>");
		pkt(s, C_MAIL, arg, strlen(arg) + 1);
		if ((r = step(s, P_NR_MAIL, v)) != S_CONT)
			return r;
	}
	if (!(s->proto & P_NORCPT)) {
		macro(s, C_RCPT, rcpt_macros);
		snprintf(arg, sizeof(arg), "<x@sink.test>");
		pkt(s, C_RCPT, arg, strlen(arg) + 1);
		if ((r = step(s, P_NR_RCPT, v)) != S_CONT)
			return r;
	}
	if (!(s->proto & P_NODATA)) {
		macro(s, C_DATA, data_macros);
		pkt(s, C_DATA, NULL, 0);
		if ((r = step(s, P_NR_DATA, v)) != S_CONT)
			return r;
	}
	if (!(s->proto & P_NOHDRS)) {
		int i;

		for (i = 0; i < k->nhdr; i++) {
			struct buf b = { 0 };
			const char *val = k->hvalue[i];

			if (!lead && (*val == ' ' || *val == '\t'))
				val++;
			buf_add(&b, k->hname[i], strlen(k->hname[i]) + 1);
			buf_add(&b, val, strlen(val) + 1);
			pkt(s, C_HEADER, b.p, b.len);
			free(b.p);
			if ((r = step(s, P_NR_HDR, v)) != S_CONT)
				return r;
		}
	}
	if (!(s->proto & P_NOEOH)) {
		macro(s, C_EOH, data_macros);
		pkt(s, C_EOH, NULL, 0);
		if ((r = step(s, P_NR_EOH, v)) != S_CONT)
			return r;
	}
	if (!(s->proto & P_NOBODY)) {
		for (off = 0; off < k->body_len; off += MILTER_CHUNK) {
			size_t n = k->body_len - off < MILTER_CHUNK ? k->body_len - off : MILTER_CHUNK;

			pkt(s, C_BODY, k->body + off, n);
			r = step(s, P_NR_BODY, v);
			if (r == S_SKIP)
				break;
			if (r != S_CONT)
				return r;
		}
	}
	macro(s, C_BODYEOB, data_macros);
	pkt(s, C_BODYEOB, NULL, 0);
	return wait_step(s, v, 1, &q);
}

/* ------------------------------------------------------------ load -- */

/* count - one message's verdict */
static void
count(long id, struct kind *k, int v, double t0)
{
	k->count[v]++;
	if (v == V_FAILED) {
		lat[id] = -1;
		atomic_fetch_add(&failed_msgs, 1);
	} else {
		lat[id] = (now() - t0) * 1000;
	}
	atomic_fetch_add(&done_msgs, 1);
}

/* pace - with -R, wait until message ID's start time */
static void
pace(long id)
{
	double d;

	if (cf.rate <= 0)
		return;
	d = t_start + id / cf.rate - now();
	if (d > 0) {
		struct timespec ts = { (time_t)d, (long)((d - (time_t)d) * 1e9) };

		nanosleep(&ts, NULL);
	}
}

/* worker - one connection's loop: claim the next message, send it */
static void *
worker(void *arg)
{
	struct sess s = { -1, 0, { 0 } };
	int open_hello = 0;

	(void)arg;
	for (;;) {
		long id = atomic_fetch_add(&next_msg, 1);
		struct kind *k, *u, ucopy;
		double t0;
		int v = V_CONTINUE, r;

		if (id >= cf.msgs)
			break;
		k = &kinds[id % nkinds];
		pace(id);
		t0 = now();
		if (!cf.reuse || s.fd < 0 || !open_hello) {
			if (s.fd >= 0)
				sess_close(&s);
			if (sess_open(&s) < 0) {
				if (cf.verbose)
					fprintf(stderr, "mload: message %ld: cannot connect or negotiate\n", id);
				count(id, k, V_FAILED, t0);
				continue;
			}
			r = sess_hello(&s, &v, id);
			if (r != S_CONT) {
				/* the session's verdict; a new session next time */
				if (r == S_ERR && cf.verbose)
					fprintf(stderr, "mload: message %ld: failed at connect/helo\n", id);
				count(id, k, r == S_ERR ? V_FAILED : v, t0);
				sess_close(&s);
				continue;
			}
			open_hello = 1;
		}
		u = uniq_kind(k, id, &ucopy);
		r = sess_message(&s, u, &v, id);
		uniq_free(k, u);
		if (r == S_ERR) {
			if (cf.verbose)
				fprintf(stderr, "mload: message %ld (%s): connection failed\n", id, k->name);
			count(id, k, V_FAILED, t0);
			close(s.fd);
			s.fd = -1;
			open_hello = 0;
			continue;
		}
		count(id, k, v, t0);
		if (cf.reuse) {
			/* Postfix resets the transaction (mail_reset): ABORT, no reply */
			pkt(&s, C_ABORT, NULL, 0);
			if (flush(&s) < 0) {
				close(s.fd);
				s.fd = -1;
				open_hello = 0;
			}
		} else {
			sess_close(&s);
			open_hello = 0;
		}
	}
	sess_close(&s);
	free(s.out.p);
	return NULL;
}

/* ------------------------------------------------------------ SMTP -- */

/* an SMTP connection with its read buffer */
struct sconn {
	int fd;
	char rb[4096];
	size_t rlen;
};

/* smtp_reply - read a (multi-line) reply; its code, -1 on error */
static int
smtp_reply(struct sconn *c)
{
	for (;;) {
		char *nl;

		while (!(nl = memchr(c->rb, '\n', c->rlen))) {
			struct pollfd pf = { c->fd, POLLIN, 0 };
			ssize_t n;

			if (c->rlen == sizeof(c->rb))
				c->rlen = 0;	/* an overlong line: its end will do */
			if (poll(&pf, 1, (int)(cf.timeout * 1000)) <= 0)
				return -1;
			n = read(c->fd, c->rb + c->rlen, sizeof(c->rb) - c->rlen);
			if (n <= 0)
				return -1;
			c->rlen += n;
		}
		{
			size_t ll = nl - c->rb + 1;
			int code = -1, last = 0;

			if (ll >= 4 && c->rb[0] >= '2' && c->rb[0] <= '5') {
				code = atoi(c->rb);
				last = c->rb[3] != '-';
			}
			memmove(c->rb, nl + 1, c->rlen - ll);
			c->rlen -= ll;
			if (code < 0)
				return -1;
			if (last)
				return code;
		}
	}
}

/* smtp_send - write N bytes; -1 on error */
static int
smtp_send(struct sconn *c, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(c->fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= w;
	}
	return 0;
}

/* smtp_cmd - a command line and its reply code */
static int
smtp_cmd(struct sconn *c, const char *line)
{
	if (smtp_send(c, line, strlen(line)) < 0)
		return -1;
	return smtp_reply(c);
}

/* smtp_open - connect, greeting, EHLO; 0 or -1 */
static int
smtp_open(struct sconn *c)
{
	int one = 1;

	c->rlen = 0;
	c->fd = socket(cf.inet ? AF_INET : AF_UNIX, SOCK_STREAM, 0);
	if (c->fd < 0)
		return -1;
	if (cf.inet)
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, cf.inet ? (struct sockaddr *)&cf.sin : (struct sockaddr *)&cf.sun,
	    cf.inet ? sizeof(cf.sin) : sizeof(cf.sun)) < 0 || smtp_reply(c) != 220 ||
	    smtp_cmd(c, "EHLO client.bench.example\r\n") != 250) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

/* smtp_verdict - a reply code as a verdict */
static int
smtp_verdict(int code)
{
	return code < 0 ? V_FAILED : code >= 500 ? V_REJECT : code >= 400 ? V_TEMPFAIL : V_ACCEPT;
}

/* smtp_message - one transaction; the verdict */
static int
smtp_message(struct sconn *c, struct kind *k)
{
	int r;

	if ((r = smtp_cmd(c, "MAIL FROM:<sender@bench.example>\r\n")) != 250)
		return smtp_verdict(r);
	if ((r = smtp_cmd(c, "RCPT TO:<x@sink.test>\r\n")) != 250)
		return smtp_verdict(r);
	if ((r = smtp_cmd(c, "DATA\r\n")) != 354)
		return r < 0 ? V_FAILED : smtp_verdict(r >= 400 ? r : 500);
	if (smtp_send(c, k->raw, k->raw_len) < 0)
		return V_FAILED;
	return smtp_verdict(smtp_cmd(c, ".\r\n"));
}

/* smtp_worker - worker() for -S: the MTA's SMTP server instead of a milter */
static void *
smtp_worker(void *arg)
{
	struct sconn c = { -1, { 0 }, 0 };

	(void)arg;
	for (;;) {
		long id = atomic_fetch_add(&next_msg, 1);
		struct kind *k, *u, ucopy;
		double t0;
		int v;

		if (id >= cf.msgs)
			break;
		k = &kinds[id % nkinds];
		pace(id);
		t0 = now();
		if (c.fd < 0 && smtp_open(&c) < 0) {
			if (cf.verbose)
				fprintf(stderr, "mload: message %ld: cannot connect or EHLO\n", id);
			count(id, k, V_FAILED, t0);
			continue;
		}
		u = uniq_kind(k, id, &ucopy);
		v = smtp_message(&c, u);
		uniq_free(k, u);
		if (v == V_FAILED && cf.verbose)
			fprintf(stderr, "mload: message %ld (%s): SMTP session failed\n", id, k->name);
		count(id, k, v, t0);
		if (v == V_FAILED || !cf.reuse) {
			if (v != V_FAILED)
				smtp_cmd(&c, "QUIT\r\n");
			close(c.fd);
			c.fd = -1;
		} else if (v != V_ACCEPT && smtp_cmd(&c, "RSET\r\n") != 250) {
			close(c.fd);
			c.fd = -1;
		}
	}
	if (c.fd >= 0) {
		smtp_cmd(&c, "QUIT\r\n");
		close(c.fd);
	}
	return NULL;
}

/* proc_kb - a kB field of /proc/PID/status, -1 when none */
static long
proc_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t fl = strlen(field);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
			v = atol(line + fl + 1);
			break;
		}
	fclose(f);
	return v;
}

/* proc_cpu - utime+stime of PID in clock ticks, 0 when unreadable */
static long long
proc_cpu(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "r")))
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	if (!(p = strrchr(buf, ')')))
		return 0;
	/* after ") ": state is field 3; utime 14, stime 15 */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return 0;
	return (long long)(ut + st);
}

/* sampler - the -p processes' summed RSS, every 20 ms, keeping the peak */
static void *
sampler(void *arg)
{
	(void)arg;
	while (atomic_load(&sampling)) {
		long sum = 0;
		int i;

		for (i = 0; i < cf.npids; i++) {
			long r = proc_kb(cf.pids[i], "VmRSS");

			if (r > 0)
				sum += r;
		}
		if (sum > atomic_load(&peak_rss))
			atomic_store(&peak_rss, sum);
		usleep(20000);
	}
	return NULL;
}

/* cmp_double - qsort order */
static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* pct - the P-th percentile (nearest rank) of N sorted values */
static double
pct(const double *v, int n, double p)
{
	int i;

	if (n == 0)
		return -1;
	i = (int)(n * p / 100 + 0.999999);
	if (i < 1)
		i = 1;
	if (i > n)
		i = n;
	return v[i - 1];
}

/* set_socket - parse -s */
static void
set_socket(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0 || spec[0] == '/') {
		const char *path = spec[0] == '/' ? spec : spec + 5;

		if (strlen(path) >= sizeof(cf.sun.sun_path))
			die("socket path too long: %s", path);
		cf.sun.sun_family = AF_UNIX;
		strcpy(cf.sun.sun_path, path);
		cf.inet = 0;
	} else if (strncmp(spec, "inet:", 5) == 0) {
		const char *at = strchr(spec, '@');
		char host[64] = "127.0.0.1";
		int port = atoi(spec + 5);

		if (at)
			snprintf(host, sizeof(host), "%s", at + 1);
		if (port <= 0 || port > 65535)
			die("bad port in %s", spec);
		cf.sin.sin_family = AF_INET;
		cf.sin.sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &cf.sin.sin_addr) != 1)
			die("bad IPv4 address in %s", spec);
		cf.inet = 1;
	} else {
		die("socket: inet:PORT@HOST or unix:PATH, not %s", spec);
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: mload -s SOCKET [-c CONN] [-n MSGS] [-m DIR] [-r] [-p PID]... "
	    "[-R RATE] [-t SECONDS] [-a] [-o] [-v] [-S] [-l FILE] [-u]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *mixdir = NULL, *sock = NULL;
	pthread_t *th, smp;
	long long cpu0 = 0, cpu1 = 0;
	long hwm = 0;
	double elapsed, *ok, hz = (double)sysconf(_SC_CLK_TCK);
	int c, i, nok = 0, j;

	cf.conns = 10;
	cf.msgs = 1000;
	cf.timeout = 30;
	while ((c = getopt(argc, argv, "s:c:n:m:rp:R:t:aovSl:u")) != -1) {
		switch (c) {
		case 's': sock = optarg; break;
		case 'c': cf.conns = atoi(optarg); break;
		case 'n': cf.msgs = atoi(optarg); break;
		case 'm': mixdir = optarg; break;
		case 'r': cf.reuse = 1; break;
		case 'p':
			if (cf.npids >= (int)(sizeof(cf.pids) / sizeof(cf.pids[0])))
				die("too many -p");
			cf.pids[cf.npids++] = (pid_t)atoi(optarg);
			break;
		case 'R': cf.rate = atof(optarg); break;
		case 't': cf.timeout = atof(optarg); break;
		case 'a': cf.auth = 1; break;
		case 'o': cf.out = 1; break;
		case 'v': cf.verbose = 1; break;
		case 'S': cf.smtp = 1; break;
		case 'l': cf.latfile = optarg; break;
		case 'u': cf.unique = 1; break;
		default: usage();
		}
	}
	if (!sock || optind != argc || cf.conns < 1 || cf.msgs < 1 || cf.timeout <= 0)
		usage();
	set_socket(sock);
	signal(SIGPIPE, SIG_IGN);
	cf.seed = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ (uint64_t)(now() * 1e9);
	if (mixdir)
		mix_load(mixdir);
	else
		mix_builtin();
	for (i = 0; i < nkinds; i++)
		kinds[i].marked = memmem(kinds[i].raw, kinds[i].raw_len, UNIQ_MARK, UNIQ_LEN) != NULL;
	if (cf.conns > cf.msgs)
		cf.conns = cf.msgs;
	lat = xmalloc(cf.msgs * sizeof(double));
	th = xmalloc(cf.conns * sizeof(pthread_t));

	for (i = 0; i < cf.npids; i++)
		cpu0 += proc_cpu(cf.pids[i]);
	atomic_store(&sampling, 1);
	if (cf.npids && pthread_create(&smp, NULL, sampler, NULL) != 0)
		die("cannot start the sampler");
	t_start = now();
	for (i = 0; i < cf.conns; i++)
		if (pthread_create(&th[i], NULL, cf.smtp ? smtp_worker : worker, NULL) != 0)
			die("cannot start thread %d", i);
	for (i = 0; i < cf.conns; i++)
		pthread_join(th[i], NULL);
	elapsed = now() - t_start;
	atomic_store(&sampling, 0);
	if (cf.npids)
		pthread_join(smp, NULL);
	for (i = 0; i < cf.npids; i++) {
		long h = proc_kb(cf.pids[i], "VmHWM");

		cpu1 += proc_cpu(cf.pids[i]);
		if (h > 0)
			hwm += h;
	}

	ok = xmalloc(cf.msgs * sizeof(double));
	for (i = 0; i < cf.msgs; i++)
		if (lat[i] >= 0)
			ok[nok++] = lat[i];
	if (cf.latfile) {
		FILE *lf = fopen(cf.latfile, "w");

		if (!lf)
			die("%s: %s", cf.latfile, strerror(errno));
		for (i = 0; i < nok; i++)
			fprintf(lf, "%.3f\n", ok[i]);
		fclose(lf);
	}
	qsort(ok, nok, sizeof(double), cmp_double);
	{
		double rate = elapsed > 0 ? cf.msgs / elapsed : 0;
		double cpu_us = cf.npids ? (cpu1 - cpu0) / hz * 1e6 / cf.msgs : -1;
		int failed = atomic_load(&failed_msgs);

		if (cf.out) {
			printf("msgs=%d ok=%d failed=%d elapsed=%.3f msgs_per_s=%.1f p50_ms=%.2f p90_ms=%.2f "
			    "p99_ms=%.2f max_ms=%.2f peak_rss_kb=%ld hwm_kb=%ld cpu_us_per_msg=%.0f hdr_changes=%d",
			    cf.msgs, nok, failed, elapsed, rate, pct(ok, nok, 50), pct(ok, nok, 90),
			    pct(ok, nok, 99), pct(ok, nok, 100), cf.npids ? atomic_load(&peak_rss) : -1,
			    cf.npids ? hwm : -1, cpu_us, atomic_load(&hdr_changes));
			for (i = 0; i < nkinds; i++)
				for (j = 0; j < V_N; j++)
					if (kinds[i].count[j])
						printf(" v_%s_%s=%d", kinds[i].name, verdict_name[j], kinds[i].count[j]);
			printf("\n");
		} else {
			printf("%d messages over %d connections (%s) in %.3f s: %.1f msg/s; %d failed\n",
			    cf.msgs, cf.conns, cf.reuse ? "reused" : "one a message", elapsed, rate, failed);
			printf("latency ms: p50 %.2f p90 %.2f p99 %.2f max %.2f\n", pct(ok, nok, 50),
			    pct(ok, nok, 90), pct(ok, nok, 99), pct(ok, nok, 100));
			if (cf.npids)
				printf("daemon: peak RSS %ld kB (VmHWM %ld kB), CPU %.0f us per message\n",
				    atomic_load(&peak_rss), hwm, cpu_us);
			printf("header changes: %d\n%-12s", atomic_load(&hdr_changes), "kind");
			for (j = 0; j < V_N; j++)
				printf(" %10s", verdict_name[j]);
			printf("\n");
			for (i = 0; i < nkinds; i++) {
				printf("%-12s", kinds[i].name);
				for (j = 0; j < V_N; j++)
					printf(" %10d", kinds[i].count[j]);
				printf("\n");
			}
		}
		return failed || nok != cf.msgs ? 1 : 0;
	}
}
