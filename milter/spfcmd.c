/*
 * spfcmd - the "relayguard spf" command (see spfcmd.h).
 *
 *   relayguard spf -c FILE --ip IP [--helo NAME] [--mail-from ADDR]
 *                  [--engine builtin|libspf2]
 *
 * prints "result: WORD", then the identity, domain, deciding mechanism,
 * explanation or problem, the lookup counts and one "query:" line per DNS
 * query made.  With both --helo and a non-null --mail-from the HELO
 * identity is checked too ("helo-result:").  Exit 0 with a result, 2 for
 * bad usage or configuration.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "txn.h"
#include "spfcheck.h"
#include "spfcmd.h"
#include "util.h"

static void
spfcmd_usage(FILE *fp)
{
	fputs("usage: relayguard spf -c FILE --ip IP [--helo NAME] "
	      "[--mail-from ADDR] [--engine builtin|libspf2]\n", fp);
}

/* spfcmd_print - one response, lines prefixed for the HELO check */
static void
spfcmd_print(const char *prefix, enum spf_result res,
	     const struct spf_response *r)
{
	printf("%sresult: %s\n", prefix, spf_result_name(res));
	if (*prefix)
		return;
	printf("identity: %s\n", r->identity ? r->identity : "-");
	printf("domain: %s\n", r->domain ? r->domain : "-");
	if (r->sender)
		printf("sender: %s\n", r->sender);
	if (r->mechanism)
		printf("mechanism: %s\n", r->mechanism);
	if (r->explanation)
		printf("explanation: %s\n", r->explanation);
	if (r->problem)
		printf("problem: %s\n", r->problem);
	printf("lookups: %d (void: %d)\n", r->lookups, r->void_lookups);
	if (r->trace.len) {
		const char *p = r->trace.data;

		while (*p) {
			size_t n = strcspn(p, "\n");

			printf("query: %.*s\n", (int)n, p);
			p += n;
			if (*p == '\n')
				p++;
		}
	}
}

int
spfcmd_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "ip", required_argument, NULL, 'i' },
		{ "helo", required_argument, NULL, 'H' },
		{ "mail-from", required_argument, NULL, 'f' },
		{ "engine", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *ip = NULL, *helo = "", *engine = NULL;
	char *from = xstrdup(""), err[1024];
	struct spf_request req;
	struct spf_response r;
	struct spfcheck_budget budget;
	struct spf_dns dns;
	struct resolver *res;
	struct conf *c;
	enum spf_result result;
	int ch, eng;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'i': ip = optarg; break;
		case 'H': helo = optarg; break;
		case 'f':
			free(from);
			from = txn_addr_strip(optarg);
			if (from == NULL) {
				fprintf(stderr, "relayguard spf: --mail-from "
					"longer than %d bytes\n", TXN_ADDR_MAX);
				return 2;
			}
			break;
		case 'e': engine = optarg; break;
		case 'h':
			spfcmd_usage(stdout);
			free(from);
			return 0;
		default:
			spfcmd_usage(stderr);
			free(from);
			return 2;
		}
	}
	memset(&req, 0, sizeof(req));
	if (path == NULL || ip == NULL || optind != argc ||
	    netaddr_parse(ip, &req.ip) != 0) {
		if (ip && netaddr_parse(ip, &req.ip) != 0)
			fprintf(stderr, "relayguard spf: bad IP address %s\n",
				ip);
		spfcmd_usage(stderr);
		free(from);
		return 2;
	}
	if ((c = conf_load(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		free(from);
		return 2;
	}
	log_open(LOG_SINK_STDERR, c->log_facility, c->log_level);
	eng = c->spf_engine;
	if (engine && strcmp(engine, "builtin") == 0)
		eng = SPF_ENGINE_BUILTIN;
	else if (engine && strcmp(engine, "libspf2") == 0)
		eng = SPF_ENGINE_LIBSPF2;
	else if (engine) {
		fprintf(stderr, "relayguard spf: unknown engine %s\n", engine);
		conf_unref(c);
		free(from);
		return 2;
	}
	if ((res = conf_resolver(c, err, sizeof(err))) == NULL) {
		fprintf(stderr, "relayguard spf: DNS resolver: %s\n", err);
		conf_unref(c);
		free(from);
		return 2;
	}
	req.helo = helo;
	req.mail_from = from;
	req.receiver = c->authserv_id;
	spfcheck_dns(&dns, &budget, res, c->dns_timeout, c->spf_timeout);
	spf_response_init(&r);
	result = spf_eval((enum spf_engine)eng, &dns, &req, &r);
	spfcmd_print("", result, &r);
	spf_response_free(&r);
	if (*helo && *from) {
		spf_response_init(&r);
		result = spf_eval_helo((enum spf_engine)eng, &dns, &req, &r);
		spfcmd_print("helo-", result, &r);
		spf_response_free(&r);
	}
	conf_unref(c);
	free(from);
	return 0;
}
