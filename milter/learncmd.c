/*
 * learncmd - "relayguard learn --spam|--ham [--forget] [-c FILE]
 * FILE|DIR...": train the built-in spam engine's store (the one the
 * configuration names: LMDB or Redis).
 *
 * A FILE is one message, or an mbox (it starts with "From "; messages
 * split at each "From " line, ">From " unquoted as mboxrd does); a DIR is
 * a maildir (cur/ and new/) or a directory of message files (every
 * regular file in it, not recursing further).  Each message is learned
 * once: a second run says "known"; one learned the other way is moved;
 * --forget undoes it.  Prints the counts, then the store's totals.  Exit
 * 0 when every message went in, 1 when one failed, 2 on a usage or
 * configuration error.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf.h"
#include "learncmd.h"
#include "log.h"
#include "mime.h"
#include "policy.h"
#include "spam.h"
#include "util.h"

#define LEARN_DEFAULT_CONF SYSCONFDIR "/relayguard.conf"
#define LEARN_MAX_FILE (64LL * 1024 * 1024)	/* one message or mbox */

struct learn_run {
	const struct conf *conf;
	int		is_spam, forget;
	unsigned long	learned, known, failed, files;
	struct spam_learner *learner;
};

/* learn_done - what happened to one message (once its batch went in) */
static void
learn_done(void *arg, const char *src, int rc, const char *why)
{
	struct learn_run *r = arg;

	if (rc == 0)
		r->learned++;
	else if (rc == 1)
		r->known++;
	else {
		r->failed++;
		fprintf(stderr, "relayguard learn: %s: %s\n", src, why);
	}
}

/* learn_one - one message, learned with its batch */
static void
learn_one(struct learn_run *r, const char *src, const unsigned char *msg,
	  size_t len)
{
	if (len > 0)
		spam_learner_add(r->learner, src, msg, len);
}

/* learn_mbox - split at "From " lines; unquote ">From " */
static void
learn_mbox(struct learn_run *r, const char *src, char *data, size_t len)
{
	struct sbuf msg;
	size_t i = 0;

	sbuf_init(&msg);
	while (i < len) {
		char *eol = memchr(data + i, '\n', len - i);
		size_t n = eol ? (size_t)(eol - (data + i)) + 1 : len - i;
		const char *line = data + i;

		if (n >= 5 && strncmp(line, "From ", 5) == 0) {
			learn_one(r, src, (unsigned char *)msg.data, msg.len);
			sbuf_reset(&msg);
		} else {
			/* mboxrd: ">From " and ">>From " lose one ">" */
			size_t q = strspn(line, ">");

			if (q > 0 && q + 5 <= n &&
			    strncmp(line + q, "From ", 5) == 0) {
				line++;
				n--;
			}
			sbuf_append(&msg, line, n);
		}
		i += eol ? (size_t)(eol - (data + i)) + 1 : len - i;
	}
	learn_one(r, src, (unsigned char *)msg.data, msg.len);
	sbuf_free(&msg);
}

/* learn_file - one message or an mbox */
static void
learn_file(struct learn_run *r, const char *path)
{
	FILE *fp = fopen(path, "rb");
	struct sbuf buf;
	char chunk[65536];
	size_t n;

	if (fp == NULL) {
		fprintf(stderr, "relayguard learn: %s: %s\n", path,
			strerror(errno));
		r->failed++;
		return;
	}
	sbuf_init(&buf);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0 &&
	       (long long)buf.len <= LEARN_MAX_FILE)
		sbuf_append(&buf, chunk, n);
	fclose(fp);
	r->files++;
	if ((long long)buf.len > LEARN_MAX_FILE) {
		fprintf(stderr, "relayguard learn: %s: over %lld bytes, "
			"skipped\n", path, LEARN_MAX_FILE);
		r->failed++;
	} else if (buf.len >= 5 && strncmp(buf.data, "From ", 5) == 0) {
		learn_mbox(r, path, buf.data, buf.len);
	} else {
		learn_one(r, path, (unsigned char *)buf.data, buf.len);
	}
	sbuf_free(&buf);
}

/* learn_dir - a maildir's cur/ and new/, or the files of a directory */
static void
learn_dir(struct learn_run *r, const char *path, int depth)
{
	char sub[4096];
	struct stat st;
	struct dirent *de;
	DIR *d;

	snprintf(sub, sizeof(sub), "%s/cur", path);
	if (depth == 0 && stat(sub, &st) == 0 && S_ISDIR(st.st_mode)) {
		learn_dir(r, sub, 1);
		snprintf(sub, sizeof(sub), "%s/new", path);
		if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			learn_dir(r, sub, 1);
		return;
	}
	if ((d = opendir(path)) == NULL) {
		fprintf(stderr, "relayguard learn: %s: %s\n", path,
			strerror(errno));
		r->failed++;
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if (stat(sub, &st) == 0 && S_ISREG(st.st_mode))
			learn_file(r, sub);
	}
	closedir(d);
}

static void
learn_usage(FILE *fp)
{
	fputs("usage: relayguard learn --spam|--ham [--forget] [-c FILE] "
	      "FILE|DIR...\n"
	      "  FILE: one message or an mbox; DIR: a maildir or a directory "
	      "of messages\n", fp);
}

int
learncmd_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "spam", no_argument, NULL, 's' },
		{ "ham", no_argument, NULL, 'h' },
		{ "forget", no_argument, NULL, 'f' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = LEARN_DEFAULT_CONF;
	struct learn_run r;
	struct conf *c;
	char err[1024];
	unsigned long long ns, nh;
	int ch, class = -1;

	memset(&r, 0, sizeof(r));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (ch) {
		case 's': case 'h':
			if (class >= 0 && class != (ch == 's')) {
				learn_usage(stderr);
				return 2;
			}
			class = ch == 's';
			break;
		case 'f':
			r.forget = 1;
			break;
		case 'c':
			path = optarg;
			break;
		case 'H':
			learn_usage(stdout);
			return 0;
		default:
			learn_usage(stderr);
			return 2;
		}
	}
	if (class < 0 || optind >= argc) {
		learn_usage(stderr);
		return 2;
	}
	r.is_spam = class;
	if ((c = conf_load(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	log_open(LOG_SINK_STDERR, c->log_facility, LOG_WARNING);
	mime_global_init();
	r.conf = c;
	r.learner = spam_learner_new(c, r.is_spam, r.forget, learn_done, &r);
	for (int i = optind; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "relayguard learn: %s: %s\n", argv[i],
				strerror(errno));
			r.failed++;
		} else if (S_ISDIR(st.st_mode)) {
			learn_dir(&r, argv[i], 0);
		} else {
			learn_file(&r, argv[i]);
		}
	}
	spam_learner_free(r.learner);
	printf("%s %lu message%s as %s, %lu known already, %lu failed\n",
	       r.forget ? "forgot" : "learned", r.learned,
	       r.learned == 1 ? "" : "s", r.is_spam ? "spam" : "ham", r.known,
	       r.failed);
	if (spam_store_totals(c, &ns, &nh, err, sizeof(err)) == 0)
		printf("store: %llu spam, %llu ham\n", ns, nh);
	else
		fprintf(stderr, "relayguard learn: %s\n", err);
	policy_stop();
	conf_unref(c);
	return r.failed ? 1 : 0;
}
