/*
 * log - one logging interface for the whole program.
 *
 * The daemon chooses the sink once at start (syslog or stderr); library
 * code only calls log_msg().  Messages at a level above the configured one
 * are dropped.
 */
#ifndef RG_LOG_H
#define RG_LOG_H

#include <syslog.h>

enum log_sink { LOG_SINK_STDERR, LOG_SINK_SYSLOG };

void log_open(enum log_sink, int facility, int level);
void log_set_level(int level);
/* log_also_stderr - syslog lines go to stderr too while on (start-up) */
void log_also_stderr(int on);
void log_msg(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* log_level_parse - "debug", "info", ... to a syslog level; -1 if bad */
int log_level_parse(const char *);
/* log_facility_parse - "mail", "local0" ... to a syslog facility; -1 if bad */
int log_facility_parse(const char *);
/*
 * log_level_word, log_facility_word - the configuration word for a level
 * or facility (the inverse of the parsers); NULL if it has none.
 */
const char *log_level_word(int level);
const char *log_facility_word(int facility);

#define log_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
