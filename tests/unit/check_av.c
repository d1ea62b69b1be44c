/*
 * check_av - the libclamav engine: loading, refusing, scanning memory and
 * file views, reloads (concurrent and blocking) while scans run.
 * The EICAR string is built from two halves so this file is not flagged.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "avengine.h"
#include "conf.h"
#include "spool.h"
#include "tests.h"
#include "util.h"

#define SIGDIR	TEST_SRCDIR "/conf/clamav"

static const char eicar_a[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$";
static const char eicar_b[] = "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/* av_msg - a small message whose body is EICAR (or clean text) */
static char *
av_msg(int infected)
{
	struct sbuf b;

	sbuf_init(&b);
	sbuf_puts(&b, "Received: from x by y\r\nFrom: a@b.test\r\n"
		  "To: c@d.test\r\nSubject: test\r\n\r\n");
	if (infected) {
		sbuf_puts(&b, eicar_a);
		sbuf_puts(&b, eicar_b);
	} else {
		sbuf_puts(&b, "nothing to see here");
	}
	sbuf_puts(&b, "\r\n");
	return sbuf_steal(&b);
}

/* av_conf - defaults with this database and settings */
static struct conf *
av_conf(const char *db, const char *extra)
{
	char text[2048];
	const char *path;
	struct conf *c;
	char err[1024];

	snprintf(text, sizeof(text), "log = stderr\nlog_level = error\n"
		 "temp_dir = %s\nclamav_database = %s\n%s", unit_tmpdir(), db,
		 extra ? extra : "");
	path = write_file("av.conf", text);
	c = conf_load(path, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	return c;
}

/* av_scan_mem - scan text as a spool in memory */
static enum av_status
av_scan_mem(const char *text, struct av_result *r)
{
	struct spool_view v = { (const unsigned char *)text, -1,
		strlen(text) };

	av_engine_scan(&v, NULL, r);
	return r->status;
}

/* av_dir - a fresh scratch directory */
static const char *
av_dir(const char *name)
{
	static char path[600];

	snprintf(path, sizeof(path), "%s/%ld-%s", unit_tmpdir(),
		 (long)getpid(), name);
	mkdir(path, 0700);
	return path;
}

/* av_copy_sigs - the test signatures into dir */
static void
av_copy_sigs(const char *dir)
{
	char cmd[1400];

	snprintf(cmd, sizeof(cmd), "cp %s/relayguard-test.ndb %s/", SIGDIR,
		 dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_av_scan_memory_and_file)
{
	struct conf *c = av_conf(SIGDIR, NULL);
	char err[512], *bad = av_msg(1), *good = av_msg(0);
	struct av_result r;
	char path[600];
	int fd;

	ck_assert_int_eq(av_engine_start(c, err, sizeof(err)), 0);
	ck_assert(av_engine_wanted());
	ck_assert_int_eq(av_scan_mem(bad, &r), AV_INFECTED);
	ck_assert_str_eq(r.name, "Eicar-Test-Signature.UNOFFICIAL");
	ck_assert_int_eq(av_scan_mem(good, &r), AV_CLEAN);
	ck_assert_int_eq(av_scan_mem("", &r), AV_CLEAN);

	/* a spool on disk: scanned through its descriptor */
	snprintf(path, sizeof(path), "%s/%ld-spool", unit_tmpdir(),
		 (long)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	unlink(path);
	ck_assert_int_eq(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
	{
		struct spool_view v = { NULL, fd, strlen(bad) };

		av_engine_scan(&v, NULL, &r);
		ck_assert_int_eq(r.status, AV_INFECTED);
	}
	close(fd);
	av_engine_stop();
	conf_unref(c);
	free(bad);
	free(good);
}
END_TEST

START_TEST(test_av_no_signatures)
{
	const char *empty = av_dir("empty");
	char err[512], text[1024];
	struct conf *c;
	struct av_result r;
	const char *path;

	/* required (the default): -n already refuses */
	snprintf(text, sizeof(text), "clamav_database = %s\n", empty);
	path = write_file("nosig.conf", text);
	c = conf_load(path, err, sizeof(err));
	ck_assert(c == NULL);
	ck_assert_msg(strstr(err, "nosig.conf:1: clamav_database") &&
		      strstr(err, "no virus signatures") &&
		      strstr(err, "clamav-freshclam"), "%s", err);

	/* av_required = no: starts; nothing is scanned */
	c = av_conf(empty, "av_required = no\n");
	ck_assert_int_eq(av_engine_start(c, err, sizeof(err)), 0);
	ck_assert(!av_engine_wanted());
	ck_assert_int_eq(av_scan_mem("x", &r), AV_UNAVAILABLE);
	av_engine_stop();
	conf_unref(c);

	/* av = no: the key is not looked at */
	snprintf(text, sizeof(text), "av = no\nclamav_database = %s\n", empty);
	path = write_file("avno.conf", text);
	c = conf_load(path, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	conf_unref(c);
}
END_TEST

START_TEST(test_av_corrupt_at_start)
{
	const char *dir = av_dir("corrupt");
	char err[512], file[700];
	struct conf *c;
	FILE *fp;

	snprintf(file, sizeof(file), "%s/broken.ndb", dir);
	fp = fopen(file, "w");
	ck_assert(fp != NULL);
	fputs("Broken.Sig:0:*:zz-not-hex\nalso wrong\n", fp);
	fclose(fp);
	c = av_conf(dir, NULL);		/* -n only looks: files are there */
	ck_assert_int_eq(av_engine_start(c, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "cannot load the signatures"), "%s", err);
	av_engine_stop();
	conf_unref(c);
	/* not required: starts without an engine */
	c = av_conf(dir, "av_required = no\n");
	ck_assert_int_eq(av_engine_start(c, err, sizeof(err)), 0);
	ck_assert(!av_engine_wanted());
	av_engine_stop();
	conf_unref(c);
}
END_TEST

/* a thread that scans EICAR until told to stop; counts what it got */
struct av_scanner {
	pthread_t	th;
	const char	*msg;
	int		*stop;
	int		scans, bad;
};

static void *
av_scanner_main(void *arg)
{
	struct av_scanner *s = arg;
	struct av_result r;

	while (!__atomic_load_n(s->stop, __ATOMIC_ACQUIRE) || s->scans < 5) {
		if (av_scan_mem(s->msg, &r) != AV_INFECTED)
			s->bad++;
		s->scans++;
	}
	return NULL;
}

/* av_reload_under_load - reloads while 3 threads scan: none fails */
static void
av_reload_under_load(const char *mode)
{
	const char *dir = av_dir(mode);
	char err[512], extra[128], *bad = av_msg(1);
	int stop = 0;
	struct av_scanner sc[3];
	struct conf *c;
	unsigned before;

	av_copy_sigs(dir);
	snprintf(extra, sizeof(extra), "av_reload = %s\n"
		 "av_check_interval = 0\n", mode);
	c = av_conf(dir, extra);
	ck_assert_int_eq(av_engine_start(c, err, sizeof(err)), 0);
	av_engine_thread();
	for (int i = 0; i < 3; i++) {
		sc[i].msg = bad;
		sc[i].stop = &stop;
		sc[i].scans = sc[i].bad = 0;
		pthread_create(&sc[i].th, NULL, av_scanner_main, &sc[i]);
	}
	before = av_engine_reload_count();
	for (int i = 0; i < 4; i++) {
		av_engine_reconfigure(c);
		while (av_engine_reload_count() < before + (unsigned)i + 1)
			usleep(2000);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 3; i++) {
		pthread_join(sc[i].th, NULL);
		ck_assert_msg(sc[i].bad == 0, "%s: %d of %d scans failed",
			      mode, sc[i].bad, sc[i].scans);
	}
	av_engine_stop();
	conf_unref(c);
	free(bad);
}

START_TEST(test_av_reload_concurrent)
{
	av_reload_under_load("concurrent");
}
END_TEST

START_TEST(test_av_reload_blocking)
{
	av_reload_under_load("blocking");
}
END_TEST

START_TEST(test_av_reload_keeps_old)
{
	const char *dir = av_dir("keep");
	char err[512], file[700], *bad = av_msg(1);
	struct av_result r;
	struct conf *c;
	unsigned before;
	FILE *fp;

	av_copy_sigs(dir);
	c = av_conf(dir, "av_check_interval = 0\n");
	ck_assert_int_eq(av_engine_start(c, err, sizeof(err)), 0);
	av_engine_thread();
	/* a new file that does not load: the old engine stays */
	snprintf(file, sizeof(file), "%s/zz-broken.ndb", dir);
	fp = fopen(file, "w");
	ck_assert(fp != NULL);
	fputs("Broken.Sig:0:*:zz-not-hex\n", fp);
	fclose(fp);
	before = av_engine_reload_count();
	av_engine_reconfigure(c);
	while (av_engine_reload_count() == before)
		usleep(2000);
	ck_assert_int_eq(av_scan_mem(bad, &r), AV_INFECTED);
	/* fixed: the next reload takes it */
	unlink(file);
	before = av_engine_reload_count();
	av_engine_reconfigure(c);
	while (av_engine_reload_count() == before)
		usleep(2000);
	ck_assert_int_eq(av_scan_mem(bad, &r), AV_INFECTED);
	av_engine_stop();
	conf_unref(c);
	free(bad);
}
END_TEST

START_TEST(test_av_change_seen)
{
	const char *dir = av_dir("watch");
	char err[512], *bad = av_msg(1);
	struct av_result r;
	struct conf *c;
	unsigned before;

	/* starts without signatures (allowed); they appear; the background
	 * check loads them */
	c = av_conf(dir, "av_required = no\nav_check_interval = 50ms\n");
	ck_assert_int_eq(av_engine_start(c, err, sizeof(err)), 0);
	ck_assert(!av_engine_wanted());
	av_engine_thread();
	before = av_engine_reload_count();
	av_copy_sigs(dir);
	for (int i = 0; i < 400 && av_engine_reload_count() == before; i++)
		usleep(10000);
	ck_assert(av_engine_wanted());
	ck_assert_int_eq(av_scan_mem(bad, &r), AV_INFECTED);
	av_engine_stop();
	conf_unref(c);
	free(bad);
}
END_TEST

Suite *
av_suite(void)
{
	Suite *s = suite_create("av");
	TCase *tc = tcase_create("engine");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_av_scan_memory_and_file);
	tcase_add_test(tc, test_av_no_signatures);
	tcase_add_test(tc, test_av_corrupt_at_start);
	tcase_add_test(tc, test_av_reload_concurrent);
	tcase_add_test(tc, test_av_reload_blocking);
	tcase_add_test(tc, test_av_reload_keeps_old);
	tcase_add_test(tc, test_av_change_seen);
	suite_add_tcase(s, tc);
	return s;
}
