/*
 * main - relayguard's command line.
 *
 *   relayguard [-c FILE] [-f] [-n]     the daemon (-f: foreground,
 *                                      -n: check the configuration)
 *   relayguard check -c FILE ...       the policy on one message
 *   relayguard spf -c FILE --ip IP ... SPF for one client and sender
 *   relayguard dkim-keygen -d D -s S   a DKIM signing key and its record
 *   relayguard dkim-check -c FILE      the key table against DNS
 *
 * Diagnostics: configuration errors go to stderr as FILE:LINE: why, with
 * exit status 1 (2 for usage errors).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "spfcmd.h"
#include "dkimcmd.h"

#define DEFAULT_CONF SYSCONFDIR "/relayguard.conf"

static void
usage(FILE *fp)
{
	fputs("usage: relayguard [-c FILE] [-f] [-n] [-V]\n"
	      "       relayguard check -c FILE [options] [MESSAGE|-]\n"
	      "       relayguard spf -c FILE --ip IP [--helo NAME] "
	      "[--mail-from ADDR]\n"
	      "       relayguard dkim-keygen -d DOMAIN -s SELECTOR "
	      "[-a rsa|ed25519] [-b BITS] [-o FILE]\n"
	      "       relayguard dkim-check -c FILE\n"
	      "  -c FILE  configuration (default " DEFAULT_CONF ")\n"
	      "  -f       stay in the foreground\n"
	      "  -n       check the configuration and exit\n"
	      "  -V       print the version\n", fp);
}

int
main(int argc, char **argv)
{
	const char *path = DEFAULT_CONF;
	int foreground = 0, test_only = 0, ch;
	struct conf *c;
	char err[1024];

	if (argc > 1 && strcmp(argv[1], "check") == 0)
		return check_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "spf") == 0)
		return spfcmd_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "dkim-keygen") == 0)
		return dkimcmd_keygen(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "dkim-check") == 0)
		return dkimcmd_check(argc - 1, argv + 1);
	while ((ch = getopt(argc, argv, "c:fnVh")) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'f': foreground = 1; break;
		case 'n': test_only = 1; break;
		case 'V':
			printf("relayguard %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if ((c = conf_load(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (test_only) {
		conf_unref(c);
		return 0;
	}
	/* in the foreground without a syslog daemon, log to the terminal */
	if (c->log_sink == LOG_SINK_SYSLOG && foreground &&
	    access("/dev/log", W_OK) != 0) {
		fprintf(stderr, "relayguard: no syslog (/dev/log): logging to "
			"stderr\n");
		c->log_sink = LOG_SINK_STDERR;
	}
	log_open((enum log_sink)c->log_sink, c->log_facility, c->log_level);
	return daemon_run(c, foreground);
}
