/*
 * check_main - runs every unit suite.  Prints "Unit: N passed, N failed".
 * Scratch files live in one directory per run (unit_tmpdir()), removed
 * when the run ends.
 */
#include "config.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "tests.h"

static char unit_dir[512];	/* this run's scratch directory */

/*
 * unit_dir_make - one scratch directory for the run, under $RG_TMP (as
 * scripts/test sets it), else $TMPDIR, else /tmp; removed at the end, so
 * a run leaves nothing behind.  Forked tests share it.
 */
static void
unit_dir_make(void)
{
	const char *base = getenv("RG_TMP");

	if (base == NULL || *base == '\0')
		base = getenv("TMPDIR");
	if (base == NULL || *base == '\0')
		base = "/tmp";
	mkdir(base, 0755);
	snprintf(unit_dir, sizeof(unit_dir), "%s/rg-unit-XXXXXX", base);
	if (mkdtemp(unit_dir) == NULL) {
		perror(unit_dir);
		exit(EXIT_FAILURE);
	}
}

/* unit_dir_rm1 - nftw callback: remove one entry, depth first */
static int
unit_dir_rm1(const char *path, const struct stat *st, int flag,
	     struct FTW *ftw)
{
	if (remove(path) != 0)
		perror(path);
	return 0;
}

/* unit_dir_remove - remove the scratch directory and all it holds */
static void
unit_dir_remove(void)
{
	if (*unit_dir != '\0')
		nftw(unit_dir, unit_dir_rm1, 16, FTW_DEPTH | FTW_PHYS);
}

/* unit_tmpdir - this run's scratch directory */
const char *
unit_tmpdir(void)
{
	return unit_dir;
}

/* write_file - a scratch file with the given text; returns its path */
const char *
write_file(const char *name, const char *text)
{
	static char path[4][768];
	static int slot;
	char *p = path[slot++ % 4];
	FILE *fp;

	snprintf(p, sizeof(path[0]), "%s/%ld-%s", unit_dir, (long)getpid(),
		 name);
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

	unit_dir_make();
	log_open(LOG_SINK_STDERR, LOG_MAIL, LOG_ERR);
	srunner_add_suite(sr, conf_suite());
	srunner_add_suite(sr, netaddr_suite());
	srunner_add_suite(sr, msg_suite());
	srunner_add_suite(sr, rawmsg_suite());
	srunner_add_suite(sr, txn_suite());
	srunner_add_suite(sr, addr_suite());
	srunner_add_suite(sr, sender_suite());
	srunner_add_suite(sr, spf_suite());
	srunner_add_suite(sr, resolver_suite());
	srunner_add_suite(sr, dkim_suite());
	srunner_add_suite(sr, dmarc_suite());
	srunner_add_suite(sr, av_suite());
	srunner_add_suite(sr, avclamd_suite());
	srunner_add_suite(sr, tokstore_suite());
	srunner_add_suite(sr, spam_suite());
	srunner_add_suite(sr, mime_suite());
	srunner_add_suite(sr, extspam_suite());
	srunner_add_suite(sr, ratelimit_suite());
	srunner_add_suite(sr, dnsbl_suite());
	srunner_run_all(sr, CK_ENV);	/* CK_VERBOSITY=verbose: a line per test */
	run = srunner_ntests_run(sr);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	unit_dir_remove();
	printf("Unit: %d passed, %d failed\n", run - failed, failed);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
