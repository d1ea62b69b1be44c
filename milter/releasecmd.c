/*
 * releasecmd - "relayguard release [-c FILE] LOGIN..." lifts the brake
 * (brake.h) from each login, and "relayguard release [-c FILE] --list"
 * prints the logins stopped now, with why and for how long.  It uses the
 * store the configuration names (the LMDB brake_store, or Redis with
 * ratelimit_backend = redis), which the daemon reads at each MAIL FROM,
 * so a login released sends again with its next message; its counters
 * start again from zero.
 *
 * Prints "LOGIN: released" or "LOGIN: not stopped" a login.  Exit 0 when
 * every login was handled, 1 when the store failed, 2 on a usage or
 * configuration error.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "brake.h"
#include "brakestore.h"
#include "conf.h"
#include "log.h"
#include "policy.h"
#include "ratelimit.h"
#include "releasecmd.h"

#define RELEASE_DEFAULT_CONF SYSCONFDIR "/relayguard.conf"

static void
release_usage(FILE *fp)
{
	fputs("usage: relayguard release [-c FILE] LOGIN...\n"
	      "       relayguard release [-c FILE] --list\n", fp);
}

/* release_print - one stopped login for --list */
static void
release_print(const char *login, const struct brake_rec *r, void *arg)
{
	const struct conf *c = arg;
	struct brake_limits l;
	char reason[256];

	brake_limits_of(c, &l);
	brake_reason(r, &l, reason, sizeof(reason));
	printf("%s: stopped for %lld s more: %s\n", login,
	       (r->until - ratelimit_clock() + 999) / 1000, reason);
}

int
releasecmd_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = RELEASE_DEFAULT_CONF;
	struct brakestore *bs;
	struct conf *c;
	char err[1024];
	int ch, list = 0, absent, rc = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'l':
			list = 1;
			break;
		case 'h':
			release_usage(stdout);
			return 0;
		default:
			release_usage(stderr);
			return 2;
		}
	}
	if (list == (optind < argc)) {
		release_usage(stderr);
		return 2;
	}
	if ((c = conf_load(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	log_open(LOG_SINK_STDERR, c->log_facility, LOG_WARNING);
	bs = brake_store(c, 0, &absent, err, sizeof(err));
	if (bs == NULL && !absent) {
		fprintf(stderr, "relayguard release: %s\n", err);
		rc = 1;
	} else if (list) {
		if (bs != NULL && brakestore_list(bs, ratelimit_clock(),
		    release_print, c, err, sizeof(err)) != 0) {
			fprintf(stderr, "relayguard release: %s\n", err);
			rc = 1;
		}
	} else {
		for (int i = optind; i < argc; i++) {
			int was = bs == NULL ? 0 : brakestore_release(bs,
			    argv[i], ratelimit_clock(), err, sizeof(err));

			if (was < 0) {
				fprintf(stderr, "relayguard release: %s: %s\n",
					argv[i], err);
				rc = 1;
			} else {
				printf("%s: %s\n", argv[i], was ? "released" :
				       "not stopped");
			}
		}
	}
	policy_stop();
	conf_unref(c);
	return rc;
}
