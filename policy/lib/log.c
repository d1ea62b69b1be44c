/*
 * log - the program's log sink (see log.h).
 *
 * stderr lines carry a timestamp and the level so that a test or an admin
 * running "relayguard -f" can follow them; syslog adds its own.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"

static enum log_sink log_sink = LOG_SINK_STDERR;
static int log_level = LOG_INFO;

/* log_open - choose where messages go */
void
log_open(enum log_sink sink, int facility, int level)
{
	log_sink = sink;
	log_level = level;
	if (sink == LOG_SINK_SYSLOG)
		openlog("relayguard", LOG_PID | LOG_NDELAY, facility);
}

void
log_set_level(int level)
{
	log_level = level;
}

static const char *
log_level_name(int level)
{
	switch (level) {
	case LOG_EMERG: case LOG_ALERT: case LOG_CRIT: return "fatal";
	case LOG_ERR: return "error";
	case LOG_WARNING: return "warning";
	case LOG_NOTICE: case LOG_INFO: return "info";
	default: return "debug";
	}
}

/* log_msg - write one message, one line */
void
log_msg(int level, const char *fmt, ...)
{
	char line[4096];
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_sink == LOG_SINK_SYSLOG) {
		syslog(level, "%s", line);
	} else {
		char stamp[32];
		time_t now = time(NULL);
		struct tm tm;

		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S",
			 localtime_r(&now, &tm));
		/* one fprintf per line: stdio locks the stream, lines stay whole */
		fprintf(stderr, "%s relayguard[%s]: %s\n", stamp,
			log_level_name(level), line);
	}
}

int
log_level_parse(const char *s)
{
	static const struct { const char *name; int level; } t[] = {
		{ "error", LOG_ERR }, { "warning", LOG_WARNING },
		{ "notice", LOG_NOTICE }, { "info", LOG_INFO },
		{ "debug", LOG_DEBUG },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcasecmp(s, t[i].name) == 0)
			return t[i].level;
	return -1;
}

int
log_facility_parse(const char *s)
{
	static const struct { const char *name; int fac; } t[] = {
		{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON },
		{ "user", LOG_USER }, { "local0", LOG_LOCAL0 },
		{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
		{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
		{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
		{ "local7", LOG_LOCAL7 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcasecmp(s, t[i].name) == 0)
			return t[i].fac;
	return -1;
}
