/*
 * floor - a libmilter milter that does nothing, the floor against which
 * scripts/bench measures relayguard (issue 15, section 3).
 *
 * Usage: bench/floor -p SOCKET [-n] [-r]
 *
 *   -p SOCKET  libmilter's socket, as for any classic milter:
 *              inet:PORT@127.0.0.1, inet6:PORT@::1 or unix:/path
 *   -n         leave Nagle's algorithm on (a plain libmilter milter); by
 *              default the listening TCP socket gets TCP_NODELAY, as
 *              relayguard's does (milter/daemon.c), so that the floor
 *              differs from relayguard in the work done, not in a socket
 *              option worth two 40 ms delayed-ACK stalls a message
 *   -r         a negotiation variant: ask the MTA for every "no reply"
 *              option it offers (SMFIP_NR_CONN ... SMFIP_NR_HDR) and answer
 *              SMFIS_NOREPLY on those steps; end of message, abort and
 *              close are answered as usual
 *
 * Behaviour: every step is negotiated (connect, HELO, MAIL, RCPT, DATA,
 * header, end of headers, body, end of message, abort, close, unknown
 * command); each answers SMFIS_CONTINUE (or SMFIS_NOREPLY with -r); at end
 * of message one header field "X-Floor: 1" is added (SMFIF_ADDHDRS), so
 * the MTA takes the same end-of-message path as for a milter that edits.
 * No state is kept, nothing is logged per message.
 *
 * Runs in the foreground.  libmilter's own signal thread handles SIGTERM,
 * SIGINT and SIGHUP: each stops the milter, and floor exits 0.  Not
 * installed (noinst_PROGRAMS): a benchmark fixture, linked with plain
 * libmilter (MILTER_PLAIN_LIBS, without relayguard's sigwait wrap).
 *
 * Diagnostics: usage errors and a socket that cannot be opened go to
 * stderr, exit status 2; libmilter failing at run time, exit status 1.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

/* the "no reply" options of -r, the steps that have one */
#define FLOOR_NR_ALL	(SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | \
			 SMFIP_NR_RCPT | SMFIP_NR_DATA | SMFIP_NR_UNKN | \
			 SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_NR_HDR)

/* what a step with a possible "no reply" answers: set once by -r */
static sfsistat floor_reply = SMFIS_CONTINUE;

/* floor_connect - connect step */
static sfsistat
floor_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	(void)ctx;
	(void)host;
	(void)addr;
	return floor_reply;
}

/* floor_helo - HELO/EHLO step */
static sfsistat
floor_helo(SMFICTX *ctx, char *name)
{
	(void)ctx;
	(void)name;
	return floor_reply;
}

/* floor_envfrom - MAIL FROM step */
static sfsistat
floor_envfrom(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return floor_reply;
}

/* floor_envrcpt - RCPT TO step */
static sfsistat
floor_envrcpt(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return floor_reply;
}

/* floor_data - DATA step */
static sfsistat
floor_data(SMFICTX *ctx)
{
	(void)ctx;
	return floor_reply;
}

/* floor_unknown - an SMTP command the MTA did not know */
static sfsistat
floor_unknown(SMFICTX *ctx, const char *cmd)
{
	(void)ctx;
	(void)cmd;
	return floor_reply;
}

/* floor_header - one header field */
static sfsistat
floor_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx;
	(void)name;
	(void)value;
	return floor_reply;
}

/* floor_eoh - end of headers */
static sfsistat
floor_eoh(SMFICTX *ctx)
{
	(void)ctx;
	return floor_reply;
}

/* floor_body - one body chunk */
static sfsistat
floor_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	(void)ctx;
	(void)chunk;
	(void)len;
	return floor_reply;
}

/* floor_eom - end of message: the one header edit, then continue */
static sfsistat
floor_eom(SMFICTX *ctx)
{
	if (smfi_addheader(ctx, "X-Floor", "1") != MI_SUCCESS)
		fprintf(stderr, "floor: smfi_addheader failed\n");
	return SMFIS_CONTINUE;
}

/* floor_abort - the MTA gave up on the message */
static sfsistat
floor_abort(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

/* floor_close - end of the connection */
static sfsistat
floor_close(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

/* floor_negotiate - -r only: keep every step, take every "no reply" */
static sfsistat
floor_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
		unsigned long f2, unsigned long f3, unsigned long *pf0,
		unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	(void)ctx;
	(void)f2;
	(void)f3;
	if ((f0 & SMFIF_ADDHDRS) == 0 || (f1 & FLOOR_NR_ALL) != FLOOR_NR_ALL)
		fprintf(stderr, "floor: the MTA offers actions %#lx, protocol "
			"%#lx: not every no-reply option\n", f0, f1);
	*pf0 = SMFIF_ADDHDRS & f0;
	*pf1 = FLOOR_NR_ALL & f1;
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

static struct smfiDesc floor_desc = {
	.xxfi_name = "floor",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS,
	.xxfi_connect = floor_connect,
	.xxfi_helo = floor_helo,
	.xxfi_envfrom = floor_envfrom,
	.xxfi_envrcpt = floor_envrcpt,
	.xxfi_header = floor_header,
	.xxfi_eoh = floor_eoh,
	.xxfi_body = floor_body,
	.xxfi_eom = floor_eom,
	.xxfi_abort = floor_abort,
	.xxfi_close = floor_close,
	.xxfi_unknown = floor_unknown,
	.xxfi_data = floor_data,
	.xxfi_negotiate = NULL,		/* libmilter's default: every step */
};

/*
 * floor_nodelay - TCP_NODELAY on libmilter's listening socket (accepted
 * sockets inherit it).  libmilter keeps the socket to itself: find the
 * listening TCP socket among our descriptors, as milter/daemon.c does.
 */
static void
floor_nodelay(void)
{
	int one = 1;

	for (int fd = 0; fd < 1024; fd++) {
		int listening = 0, type = 0;
		socklen_t len = sizeof(listening);
		struct sockaddr_storage ss;
		socklen_t sslen = sizeof(ss);

		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening,
			       &len) != 0 || !listening)
			continue;
		len = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
		    type != SOCK_STREAM ||
		    getsockname(fd, (struct sockaddr *)&ss, &sslen) != 0 ||
		    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
			continue;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			       sizeof(one)) != 0)
			fprintf(stderr, "floor: TCP_NODELAY: %s\n",
				strerror(errno));
	}
}

/* floor_usage - the synopsis, then exit 2 */
static void
floor_usage(void)
{
	fprintf(stderr, "usage: floor -p SOCKET [-n] [-r]\n"
		"  SOCKET: inet:PORT@127.0.0.1, inet6:PORT@::1 or unix:/path\n"
		"  -n: keep Nagle's algorithm; -r: every no-reply option\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *sock = NULL;
	int nagle = 0, c;

	while ((c = getopt(argc, argv, "p:nr")) != -1) {
		switch (c) {
		case 'p':
			sock = optarg;
			break;
		case 'n':
			nagle = 1;
			break;
		case 'r':
			floor_reply = SMFIS_NOREPLY;
			floor_desc.xxfi_negotiate = floor_negotiate;
			break;
		default:
			floor_usage();
		}
	}
	if (sock == NULL || optind != argc)
		floor_usage();
	signal(SIGPIPE, SIG_IGN);
	if (smfi_register(floor_desc) == MI_FAILURE) {
		fprintf(stderr, "floor: smfi_register failed\n");
		return 2;
	}
	if (smfi_setconn((char *)sock) == MI_FAILURE ||
	    smfi_opensocket(1) == MI_FAILURE) {
		fprintf(stderr, "floor: cannot listen on %s\n", sock);
		return 2;
	}
	if (!nagle)
		floor_nodelay();
	fprintf(stderr, "floor: listening on %s%s%s\n", sock,
		nagle ? " (Nagle on)" : "", floor_reply == SMFIS_NOREPLY ?
		" (no-reply options)" : "");
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
