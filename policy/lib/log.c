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
static int log_stderr_too;	/* start-up: syslog and the terminal */

/* log_open - choose where messages go */
void
log_open(enum log_sink sink, int facility, int level)
{
	log_sink = sink;
	log_level = level;
	if (sink == LOG_SINK_SYSLOG)
		openlog("relayguard", LOG_PID | LOG_NDELAY, facility);
}

/*
 * log_also_stderr - while on, syslog lines are written to stderr too: at
 * start-up, until the daemon has detached, the admin sees every reason.
 */
void
log_also_stderr(int on)
{
	log_stderr_too = on;
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
	if (log_sink == LOG_SINK_SYSLOG)
		syslog(level, "%s", line);
	if (log_sink != LOG_SINK_SYSLOG || log_stderr_too) {
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

static const struct log_word {
	const char	*name;
	int		value;
} log_levels[] = {
	{ "error", LOG_ERR }, { "warning", LOG_WARNING },
	{ "notice", LOG_NOTICE }, { "info", LOG_INFO },
	{ "debug", LOG_DEBUG },
}, log_facilities[] = {
	{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON },
	{ "user", LOG_USER }, { "local0", LOG_LOCAL0 },
	{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
	{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
	{ "local7", LOG_LOCAL7 },
};

#define LOG_NWORDS(t)	(sizeof(t) / sizeof((t)[0]))

/* log_word_value - the value of a word in a table; -1 if it is none */
static int
log_word_value(const struct log_word *t, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(s, t[i].name) == 0)
			return t[i].value;
	return -1;
}

/* log_word_name - the word for a value in a table; NULL if it is none */
static const char *
log_word_name(const struct log_word *t, size_t n, int value)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].value == value)
			return t[i].name;
	return NULL;
}

int
log_level_parse(const char *s)
{
	return log_word_value(log_levels, LOG_NWORDS(log_levels), s);
}

int
log_facility_parse(const char *s)
{
	return log_word_value(log_facilities, LOG_NWORDS(log_facilities), s);
}

const char *
log_level_word(int level)
{
	return log_word_name(log_levels, LOG_NWORDS(log_levels), level);
}

const char *
log_facility_word(int facility)
{
	return log_word_name(log_facilities, LOG_NWORDS(log_facilities),
			     facility);
}
