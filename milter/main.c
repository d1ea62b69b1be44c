/*
 * main - relayguard's command line.
 *
 *   relayguard [-c FILE] [-f] [-n] [-p] the daemon (-f: foreground,
 *                                      -n: check the configuration,
 *                                      -p: print it, every key, as a
 *                                      file that loads back)
 *   relayguard check -c FILE ...       the policy on one message
 *   relayguard spf -c FILE --ip IP ... SPF for one client and sender
 *   relayguard dkim-keygen -d D -s S   a DKIM signing key and its record
 *   relayguard dkim-check -c FILE      the key table against DNS
 *   relayguard learn --spam|--ham ...  train the spam engine
 *   relayguard release LOGIN...        lift the compromised-account brake
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
#include "loginmap.h"
#include "daemon.h"
#include "log.h"
#include "policy.h"
#include "spfcmd.h"
#include "dkimcmd.h"
#include "learncmd.h"
#include "releasecmd.h"

#define DEFAULT_CONF SYSCONFDIR "/relayguard.conf"

static void
usage(FILE *fp)
{
	fputs("usage: relayguard [-c FILE] [-f] [-n] [-p] [-V]\n"
	      "       relayguard check -c FILE [options] [MESSAGE|-]\n"
	      "       relayguard spf -c FILE --ip IP [--helo NAME] "
	      "[--mail-from ADDR]\n"
	      "       relayguard dkim-keygen -d DOMAIN -s SELECTOR "
	      "[-a rsa|ed25519] [-b BITS] [-o FILE]\n"
	      "       relayguard dkim-check -c FILE\n"
	      "       relayguard learn --spam|--ham [--forget] [-c FILE] "
	      "FILE|DIR...\n"
	      "       relayguard release [-c FILE] LOGIN...|--list\n"
	      "  -c FILE  configuration (default " DEFAULT_CONF ")\n"
	      "  -f       stay in the foreground\n"
	      "  -n       check the configuration and exit\n"
	      "  -p       print the effective configuration and exit\n"
	      "  -V       print the version\n", fp);
}

int
main(int argc, char **argv)
{
	const char *path = DEFAULT_CONF;
	int foreground = 0, test_only = 0, print = 0, ch;
	struct conf *c;
	char err[1024];

	if (argc > 1 && strcmp(argv[1], "check") == 0)
		return check_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "learn") == 0)
		return learncmd_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "release") == 0)
		return releasecmd_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "spf") == 0)
		return spfcmd_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "dkim-keygen") == 0)
		return dkimcmd_keygen(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "dkim-check") == 0)
		return dkimcmd_check(argc - 1, argv + 1);
	while ((ch = getopt(argc, argv, "c:fnpVh")) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'f': foreground = 1; break;
		case 'n': test_only = 1; break;
		case 'p': print = 1; break;
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
	if (test_only || print) {
		if (print)
			conf_dump(c, stdout);
		if (test_only) {
			char why[512];

			if (!conf_temp_dir_ok(c, why, sizeof(why)))
				fprintf(stderr, "relayguard: warning: %s\n", why);
			/* the signatures load as at start (a corrupt file) */
			log_set_level(LOG_ERR);
			if (policy_start(c, err, sizeof(err)) != 0) {
				fprintf(stderr, "%s\n", err);
				conf_unref(c);
				return 1;
			}
			policy_stop();
		}
		/* say what is read: "hash:/etc/postfix/x" means the text file */
		if (!print && c->login_map)
			printf("sender_login_maps: the text file %s, %zu "
			       "entries\n", loginmap_src_path(c->login_map),
			       loginmap_src_size(c->login_map));
		conf_unref(c);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	/*
	 * Without a syslog daemon, log to stderr (which a detached daemon
	 * keeps); with one, start-up messages go to stderr too, until the
	 * daemon has detached, so a failed start says why where it was run.
	 */
	if (c->log_sink == LOG_SINK_SYSLOG && access("/dev/log", W_OK) != 0) {
		fprintf(stderr, "relayguard: no syslog (/dev/log): logging to "
			"stderr\n");
		c->log_sink = LOG_SINK_STDERR;
	}
	log_open((enum log_sink)c->log_sink, c->log_facility, c->log_level);
	log_also_stderr(c->log_sink == LOG_SINK_SYSLOG);
	return daemon_run(c, foreground);
}
