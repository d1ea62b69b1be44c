/*
 * fuzz_conf - conf_load() (policy/core/conf.c, with policy/lib/lines.c under it and
 * the login map that sender_login_maps names).
 *
 * Feeds: the input written to a new mkstemp file in a private directory
 * under $TMPDIR, loaded with conf_load(), then unlinked.  The directory
 * also holds "login.map", a small valid map, so a relative
 * "sender_login_maps = login.map" (resolved against the configuration's
 * directory) loads a real map.  Inputs naming /dev, /proc or /sys are
 * skipped: conf_load would read whatever file sender_login_maps names, and
 * a device (/dev/zero, /dev/stdin) would hang the fuzzer, not find a bug.
 *
 * Invariants beyond "no crash, no leak":
 *   - failure: err is "PATH:LINE: why" with PATH the configuration's path
 *     and LINE in 0..(physical lines in the file), or, when the file names
 *     a login map, "MAP:LINE: why" for that map (unless a map path of ~1 KB
 *     filled the 1 KB err buffer);
 *   - success: refcount 1, path as given, every size >= 0, max_recipients
 *     and every action and enum within its table, temp_dir absolute;
 *     conf_dump() prints one line per key, each "key = value"; a loaded
 *     map answers sender_owners() for a few addresses; conf_ref() and
 *     conf_unref() balance.
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz.h"
#include "log.h"
#include "loginmap.h"
#include "sender.h"
#include "verdict.h"

static const char map_text[] =
	"alice@example.com\talice\n"
	"@example.org\torgadmin\n"
	"*@example.com\thelpdesk\n"
	"postmaster\tadmin\n"
	"/^([a-z0-9._-]+)@example\\.edu$/ ${1}\n";

static FILE *devnull;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[PATH_MAX];

	(void)argc;
	(void)argv;
	log_open(LOG_SINK_STDERR, LOG_MAIL, LOG_EMERG);	/* quiet */
	fz_fixed_file("login.map", map_text, path, sizeof(path));
	if ((devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	return 0;
}

static int
named_device(const uint8_t *data, size_t size)
{
	static const char *const bad[] = { "/dev", "/proc", "/sys" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (memmem(data, size, bad[i], strlen(bad[i])) != NULL)
			return 1;
	return 0;
}

/* check_dump - conf_dump() prints one "key = value" line per key */
static void
check_dump(const struct conf *c)
{
	char *buf = NULL;
	size_t len = 0, lines = 0;
	FILE *mem = open_memstream(&buf, &len);

	if (mem == NULL)
		abort();
	conf_dump(c, mem);
	fclose(mem);
	for (char *line = buf, *nl; *line; line = nl + 1) {
		size_t key;

		nl = strchr(line, '\n');
		FZ_CHECK(nl != NULL, "dump ends without a newline");
		key = strspn(line, "abcdefghijklmnopqrstuvwxyz_0123456789");
		FZ_CHECK(key > 0 && strncmp(line + key, " = ", 3) == 0,
			 "dump line \"%.*s\"", (int)(nl - line), line);
		lines++;
	}
	FZ_CHECK(lines > 30, "dump has %zu lines", lines);
	free(buf);
	conf_dump(c, devnull);
}

static void
check_conf(struct conf *c, const char *path)
{
	static const char *const probes[][2] = {
		{ "alice", "example.com" }, { "bob+x", "example.org" },
		{ "postmaster", "" }, { "Joe", "Example.EDU" },
		{ "", "example.com" },
	};
	const int actions[] = {
		c->internal_error_action, c->sender_envelope_action,
		c->sender_unauth_action, c->sender_header_action,
		c->sender_display_spoof_action,
		c->sender_inbound_header_action, c->spf_fail_action,
		c->spf_softfail_action, c->spf_temperror_action,
		c->spf_permerror_action,
	};

	FZ_CHECK(c->refcount == 1, "refcount %d", c->refcount);
	FZ_CHECK(c->path && strcmp(c->path, path) == 0, "path %s", c->path);
	FZ_CHECK(c->max_message_size >= 0 && c->max_header_size >= 0 &&
		 c->spool_memory_max >= 0,
		 "negative size %lld/%lld/%lld", c->max_message_size,
		 c->max_header_size, c->spool_memory_max);
	FZ_CHECK(c->max_recipients >= 0 && c->max_recipients <= 1000000,
		 "max_recipients %d", c->max_recipients);
	FZ_CHECK(c->milter_no_reply == 0 || c->milter_no_reply == 1,
		 "milter_no_reply %d", c->milter_no_reply);
	FZ_CHECK(c->temp_dir && c->temp_dir[0] == '/', "temp_dir \"%s\"",
		 c->temp_dir ? c->temp_dir : "(null)");
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		FZ_CHECK(actions[i] >= ACTION_ACCEPT &&
			 actions[i] <= ACTION_REJECT, "action %d", actions[i]);
	FZ_CHECK(c->spf_engine == 0 || c->spf_engine == 1, "spf_engine %d",
		 c->spf_engine);
	FZ_CHECK(c->socket && c->status_header && c->authserv_id &&
		 c->resolver && c->recipient_delimiter, "a NULL string");
	FZ_CHECK((c->login_map != NULL) == (*c->sender_login_maps != '\0'),
		 "login map %p for \"%s\"", (void *)c->login_map,
		 c->sender_login_maps);
	check_dump(c);
	if (c->login_map != NULL) {
		struct loginmap *map = loginmap_src_get(c->login_map);

		for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
			free(sender_owners(map, c, probes[i][0], probes[i][1]));
		loginmap_unref(map);
	}
	conf_unref(conf_ref(c));
	FZ_CHECK(c->refcount == 1, "refcount %d after ref/unref", c->refcount);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[PATH_MAX], err[1024];
	struct conf *c;
	long line;

	if (named_device(data, size))
		return 0;
	fz_temp_file("relayguard.conf", data, size, path, sizeof(path));
	err[0] = '\0';
	c = conf_load(path, err, sizeof(err));
	if (c == NULL) {
		FZ_CHECK(err[0] != '\0', "conf_load failed without a reason");
		line = fz_err_line(err, path);
		if (line < 0 && strlen(err) == sizeof(err) - 1) {
			/* a map path of ~1 KB: the message was cut (as
			   "relayguard -n" would cut it, err is 1 KB there) */
		} else if (line < 0) {
			/* only a login map may report under its own name */
			FZ_CHECK(memmem(data, size, "sender_login_maps", 17),
				 "err \"%s\" does not start with \"%s:LINE:\"",
				 err, path);
			FZ_CHECK(fz_err_line(err, NULL) >= 0,
				 "map err \"%s\" has no \":LINE:\"", err);
		} else {
			FZ_CHECK(line <= fz_count_lines(data, size),
				 "err \"%s\": line past the %ld of the file",
				 err, fz_count_lines(data, size));
		}
	} else {
		check_conf(c, path);
		conf_unref(c);
	}
	unlink(path);
	return 0;
}
