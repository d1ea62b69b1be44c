/*
 * check_main - runs every unit suite.  Prints "Unit: N passed, N failed".
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "tests.h"

const char *
write_file(const char *name, const char *text)
{
	static char path[4][256];
	static int slot;
	char *p = path[slot++ % 4];
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	FILE *fp;

	snprintf(p, 256, "%s/rg-unit-%ld-%s", dir, (long)getpid(), name);
	fp = fopen(p, "w");
	if (fp == NULL)
		abort();
	fputs(text, fp);
	fclose(fp);
	return p;
}

int
main(void)
{
	SRunner *sr = srunner_create(util_suite());
	int run, failed;

	log_open(LOG_SINK_STDERR, LOG_MAIL, LOG_ERR);
	srunner_add_suite(sr, conf_suite());
	srunner_add_suite(sr, netaddr_suite());
	srunner_add_suite(sr, msg_suite());
	srunner_add_suite(sr, rawmsg_suite());
	srunner_add_suite(sr, txn_suite());
	srunner_add_suite(sr, addr_suite());
	srunner_add_suite(sr, sender_suite());
	srunner_add_suite(sr, spf_suite());
	srunner_add_suite(sr, dkim_suite());
	srunner_add_suite(sr, dmarc_suite());
	srunner_run_all(sr, CK_ENV);	/* CK_VERBOSITY=verbose: a line per test */
	run = srunner_ntests_run(sr);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	printf("Unit: %d passed, %d failed\n", run - failed, failed);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
