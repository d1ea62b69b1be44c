/*
 * conf - the configuration table and its parser (see conf.h).
 *
 * Every key is one row of conf_table: name, type, where it lives in
 * struct conf, its default and, for enumerations, the words it takes.
 * Adding a key is adding a row (and documenting it in conf/relayguard.conf).
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <strings.h>
#include <netdb.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "conf.h"
#include "dkimkeys.h"
#include "dnslist.h"
#include "lines.h"
#include "log.h"
#include "loginmap.h"
#include "resolver.h"
#include "sockspec.h"
#include "util.h"
#include "verdict.h"
#include "weights.h"

enum conf_type {
	CT_STRING,	/* any text, may be empty */
	CT_SOCKET,	/* inet:PORT@ADDR, inet6:PORT@ADDR, unix:PATH, local:PATH */
	CT_SIZE,	/* bytes with k/M/G suffix */
	CT_INT,		/* decimal integer in [min, max] */
	CT_OCTAL,	/* file mode */
	CT_NETLIST,	/* networks, see netaddr.h */
	CT_RESOLVERS,	/* address[@port] ... */
	CT_LOGSINK,	/* syslog | stderr */
	CT_FACILITY,	/* syslog facility */
	CT_LOGLEVEL,	/* syslog level */
	CT_ACTION,	/* verdict action word */
	CT_BOOL,	/* yes/no */
	CT_DOMAINS,	/* list of words, lowercased */
	CT_DURATION,	/* "500ms", "5s", "2m"; a bare number is seconds */
	CT_ENUM,	/* one of words[], stored as its index */
	CT_NUMBER,	/* a decimal number (double); "off": infinity */
	CT_RATES,	/* "N/WINDOW ...", rate.h */
	CT_DNSLIST,	/* a DNS blocklist (dnslist.h); repeated: one a list */
};

struct conf_key {
	const char	*name;
	enum conf_type	type;
	size_t		offset;
	const char	*def;
	long		min, max;	/* CT_INT, CT_DURATION (ms) */
	const char *const *words;	/* CT_ENUM */
};

static const char *const spf_engines[] = { "builtin", "libspf2", NULL };
static const char *const av_backends[] = { "libclamav", "clamd", NULL };
static const char *const av_reloads[] = { "concurrent", "blocking", NULL };
static const char *const bayes_backends[] = { "lmdb", "redis", NULL };
static const char *const ratelimit_backends[] = { "memory", "redis", NULL };
static const char *const dnsbl_stages[] = { "rcpt", "connect", NULL };
/* CT_NUMBER keys that take "off" point words here (any non-NULL) */
static const char *const num_off[] = { "off", NULL };

#define OFF(field) offsetof(struct conf, field)

static const struct conf_key conf_table[] = {
	{ "socket", CT_SOCKET, OFF(socket), "inet:8894@127.0.0.1", 0, 0 },
	{ "socket_mode", CT_OCTAL, OFF(socket_mode), "0660", 0, 0777 },
	{ "pid_file", CT_STRING, OFF(pid_file), "", 0, 0 },
	{ "user", CT_STRING, OFF(user), "", 0, 0 },
	{ "log", CT_LOGSINK, OFF(log_sink), "syslog", 0, 0 },
	{ "log_facility", CT_FACILITY, OFF(log_facility), "mail", 0, 0 },
	{ "log_level", CT_LOGLEVEL, OFF(log_level), "info", 0, 0 },
	{ "shutdown_timeout", CT_INT, OFF(shutdown_timeout), "30", 0, 3600 },
	{ "trusted_networks", CT_NETLIST, OFF(trusted_networks), "", 0, 0 },
	{ "authserv_id", CT_STRING, OFF(authserv_id), "", 0, 0 },
	{ "status_header", CT_STRING, OFF(status_header), "X-Relayguard", 0, 0 },
	{ "max_message_size", CT_SIZE, OFF(max_message_size), "50M", 0, 0 },
	{ "max_header_size", CT_SIZE, OFF(max_header_size), "1M", 0, 0 },
	{ "internal_error_action", CT_ACTION, OFF(internal_error_action),
	  "tempfail", 0, 0 },
	{ "milter_no_reply", CT_BOOL, OFF(milter_no_reply), "no", 0, 0 },
	{ "max_recipients", CT_INT, OFF(max_recipients), "1000", 0, 1000000 },
	{ "spool_memory_max", CT_SIZE, OFF(spool_memory_max), "1M", 0, 0 },
	{ "temp_dir", CT_STRING, OFF(temp_dir), "/var/tmp", 0, 0 },
	{ "sender_login_maps", CT_STRING, OFF(sender_login_maps), "", 0, 0 },
	{ "sender_check_envelope", CT_BOOL, OFF(sender_check_envelope), "yes",
	  0, 0 },
	{ "sender_check_header", CT_BOOL, OFF(sender_check_header), "yes", 0, 0 },
	{ "sender_domains", CT_DOMAINS, OFF(sender_domains), "", 0, 0 },
	{ "local_domains", CT_DOMAINS, OFF(local_domains), "", 0, 0 },
	{ "sender_myorigin", CT_STRING, OFF(sender_myorigin), "", 0, 0 },
	{ "sender_domain_aliases", CT_DOMAINS, OFF(sender_domain_aliases), "",
	  0, 0 },
	{ "recipient_delimiter", CT_STRING, OFF(recipient_delimiter), "+", 0, 0 },
	{ "sender_local_part_case_sensitive", CT_BOOL,
	  OFF(sender_local_part_case_sensitive), "no", 0, 0 },
	{ "sender_allow_null", CT_BOOL, OFF(sender_allow_null), "no", 0, 0 },
	{ "sender_envelope_action", CT_ACTION, OFF(sender_envelope_action),
	  "reject", 0, 0 },
	{ "sender_unauth_action", CT_ACTION, OFF(sender_unauth_action),
	  "reject", 0, 0 },
	{ "sender_header_action", CT_ACTION, OFF(sender_header_action),
	  "reject", 0, 0 },
	{ "sender_display_spoof_action", CT_ACTION,
	  OFF(sender_display_spoof_action), "accept", 0, 0 },
	{ "sender_inbound_header_action", CT_ACTION,
	  OFF(sender_inbound_header_action), "accept", 0, 0 },
	{ "resolver", CT_RESOLVERS, OFF(resolver), "", 0, 0 },
	{ "dnssec_trust_anchor", CT_STRING, OFF(dnssec_trust_anchor), "", 0, 0 },
	{ "dns_timeout", CT_DURATION, OFF(dns_timeout), "5s", 10, 60000 },
	{ "spf", CT_BOOL, OFF(spf), "yes", 0, 0 },
	{ "spf_engine", CT_ENUM, OFF(spf_engine), "builtin", 0, 0, spf_engines },
	{ "spf_helo", CT_BOOL, OFF(spf_helo), "yes", 0, 0 },
	{ "spf_timeout", CT_DURATION, OFF(spf_timeout), "20s", 10, 300000 },
	{ "spf_fail_action", CT_ACTION, OFF(spf_fail_action), "tag", 0, 0 },
	{ "spf_softfail_action", CT_ACTION, OFF(spf_softfail_action), "tag",
	  0, 0 },
	{ "spf_temperror_action", CT_ACTION, OFF(spf_temperror_action), "tag",
	  0, 0 },
	{ "spf_permerror_action", CT_ACTION, OFF(spf_permerror_action), "tag",
	  0, 0 },
	{ "dkim", CT_BOOL, OFF(dkim), "yes", 0, 0 },
	{ "dkim_timeout", CT_DURATION, OFF(dkim_timeout), "10s", 10, 300000 },
	{ "dkim_fail_action", CT_ACTION, OFF(dkim_fail_action), "tag", 0, 0 },
	{ "dkim_neutral_action", CT_ACTION, OFF(dkim_neutral_action), "tag",
	  0, 0 },
	{ "dkim_policy_action", CT_ACTION, OFF(dkim_policy_action), "tag", 0, 0 },
	{ "dkim_permerror_action", CT_ACTION, OFF(dkim_permerror_action), "tag",
	  0, 0 },
	{ "dkim_temperror_action", CT_ACTION, OFF(dkim_temperror_action), "tag",
	  0, 0 },
	{ "dkim_key_table", CT_STRING, OFF(dkim_key_table), "", 0, 0 },
	{ "dkim_signing_table", CT_STRING, OFF(dkim_signing_table), "", 0, 0 },
	{ "dmarc", CT_BOOL, OFF(dmarc), "yes", 0, 0 },
	{ "dmarc_enforce", CT_BOOL, OFF(dmarc_enforce), "no", 0, 0 },
	{ "dmarc_timeout", CT_DURATION, OFF(dmarc_timeout), "10s", 10, 300000 },
	{ "dmarc_psl", CT_STRING, OFF(dmarc_psl),
	  "/usr/share/publicsuffix/public_suffix_list.dat", 0, 0 },
	{ "dmarc_reject_action", CT_ACTION, OFF(dmarc_reject_action), "reject",
	  0, 0 },
	{ "dmarc_quarantine_action", CT_ACTION, OFF(dmarc_quarantine_action),
	  "quarantine", 0, 0 },
	{ "dmarc_temperror_action", CT_ACTION, OFF(dmarc_temperror_action),
	  "tag", 0, 0 },
	{ "dmarc_permerror_action", CT_ACTION, OFF(dmarc_permerror_action),
	  "tag", 0, 0 },
	{ "dmarc_exempt_domains", CT_DOMAINS, OFF(dmarc_exempt_domains), "",
	  0, 0 },
	{ "dmarc_report_log", CT_STRING, OFF(dmarc_report_log), "", 0, 0 },
	{ "dnsbl_list", CT_DNSLIST, OFF(dnsbl_lists), "", 0, 0 },
	{ "dnsbl_timeout", CT_DURATION, OFF(dnsbl_timeout), "2s", 10, 60000 },
	{ "dnsbl_max_queries", CT_INT, OFF(dnsbl_max_queries), "50", 0, 10000 },
	{ "dnsbl_reject_stage", CT_ENUM, OFF(dnsbl_reject_stage), "rcpt", 0, 0,
	  dnsbl_stages },
	{ "scores", CT_STRING, OFF(scores), "", 0, 0 },
	{ "spam", CT_BOOL, OFF(spam), "yes", 0, 0 },
	{ "spam_tag_score", CT_NUMBER, OFF(spam_tag_score), "5", -1000, 1000,
	  num_off },
	{ "spam_quarantine_score", CT_NUMBER, OFF(spam_quarantine_score), "off",
	  -1000, 1000, num_off },
	{ "spam_reject_score", CT_NUMBER, OFF(spam_reject_score), "15", -1000,
	  1000, num_off },
	{ "spam_outbound_tag_score", CT_NUMBER, OFF(spam_outbound_tag_score),
	  "5", -1000, 1000, num_off },
	{ "spam_outbound_quarantine_score", CT_NUMBER,
	  OFF(spam_outbound_quarantine_score), "off", -1000, 1000, num_off },
	{ "spam_outbound_reject_score", CT_NUMBER,
	  OFF(spam_outbound_reject_score), "10", -1000, 1000, num_off },
	{ "spam_error_action", CT_ACTION, OFF(spam_error_action), "tempfail",
	  0, 0 },
	{ "spam_max_size", CT_SIZE, OFF(spam_max_size), "5M", 0, 0 },
	{ "mime_max_depth", CT_INT, OFF(mime_max_depth), "20", 1, 1000 },
	{ "mime_max_parts", CT_INT, OFF(mime_max_parts), "500", 1, 100000 },
	{ "mime_max_text", CT_SIZE, OFF(mime_max_text), "1M", 0, 0 },
	{ "mime_max_links", CT_INT, OFF(mime_max_links), "200", 0, 100000 },
	{ "bayes", CT_BOOL, OFF(bayes), "yes", 0, 0 },
	{ "bayes_backend", CT_ENUM, OFF(bayes_backend), "lmdb", 0, 0,
	  bayes_backends },
	{ "bayes_store", CT_STRING, OFF(bayes_store), "/var/lib/relayguard/bayes",
	  0, 0 },
	{ "redis_server", CT_STRING, OFF(redis_server), "", 0, 0 },
	{ "redis_password", CT_STRING, OFF(redis_password), "", 0, 0 },
	{ "redis_timeout", CT_DURATION, OFF(redis_timeout), "1s", 10, 60000 },
	{ "bayes_redis_prefix", CT_STRING, OFF(bayes_redis_prefix), "rg:", 0,
	  0 },
	{ "bayes_token_ttl_days", CT_INT, OFF(bayes_token_ttl_days), "90", 0,
	  36500 },
	{ "bayes_min_spam", CT_INT, OFF(bayes_min_spam), "50", 0, 1000000 },
	{ "bayes_min_ham", CT_INT, OFF(bayes_min_ham), "50", 0, 1000000 },
	{ "bayes_robs", CT_NUMBER, OFF(bayes_robs), "0.0178", 0, 10 },
	{ "bayes_robx", CT_NUMBER, OFF(bayes_robx), "0.52", 0, 1 },
	{ "bayes_min_dev", CT_NUMBER, OFF(bayes_min_dev), "0.375", 0, 1 },
	{ "bayes_max_tokens", CT_INT, OFF(bayes_max_tokens), "10000", 100,
	  1000000 },
	{ "bayes_autolearn", CT_BOOL, OFF(bayes_autolearn), "no", 0, 0 },
	{ "bayes_autolearn_spam_score", CT_NUMBER,
	  OFF(bayes_autolearn_spam_score), "12", -1000, 1000 },
	{ "bayes_autolearn_ham_score", CT_NUMBER,
	  OFF(bayes_autolearn_ham_score), "-2", -1000, 1000 },
	{ "spamd", CT_BOOL, OFF(spamd), "no", 0, 0 },
	{ "spamd_server", CT_STRING, OFF(spamd_server), "127.0.0.1:783", 0, 0 },
	{ "spamd_timeout", CT_DURATION, OFF(spamd_timeout), "30s", 100,
	  600000 },
	{ "spamd_user", CT_STRING, OFF(spamd_user), "", 0, 0 },
	{ "spamd_max_size", CT_SIZE, OFF(spamd_max_size), "500k", 0, 0 },
	{ "spamd_weight", CT_NUMBER, OFF(spamd_weight), "1", -100, 100 },
	{ "spamd_outbound", CT_BOOL, OFF(spamd_outbound), "yes", 0, 0 },
	{ "rspamd", CT_BOOL, OFF(rspamd), "no", 0, 0 },
	{ "rspamd_server", CT_STRING, OFF(rspamd_server), "127.0.0.1:11333", 0,
	  0 },
	{ "rspamd_timeout", CT_DURATION, OFF(rspamd_timeout), "15s", 100,
	  600000 },
	{ "rspamd_password", CT_STRING, OFF(rspamd_password), "", 0, 0 },
	{ "rspamd_max_size", CT_SIZE, OFF(rspamd_max_size), "10M", 0, 0 },
	{ "rspamd_weight", CT_NUMBER, OFF(rspamd_weight), "1", -100, 100 },
	{ "rspamd_outbound", CT_BOOL, OFF(rspamd_outbound), "yes", 0, 0 },
	{ "av", CT_BOOL, OFF(av), "yes", 0, 0 },
	{ "av_backend", CT_ENUM, OFF(av_backend), "libclamav", 0, 0,
	  av_backends },
	{ "clamav_database", CT_STRING, OFF(clamav_database), "", 0, 0 },
	{ "av_required", CT_BOOL, OFF(av_required), "yes", 0, 0 },
	{ "av_action", CT_ACTION, OFF(av_action), "reject", 0, 0 },
	{ "av_error_action", CT_ACTION, OFF(av_error_action), "tempfail", 0, 0 },
	{ "av_outbound_error_action", CT_ACTION, OFF(av_outbound_error_action),
	  "tempfail", 0, 0 },
	{ "av_headers", CT_BOOL, OFF(av_headers), "no", 0, 0 },
	{ "av_temp_dir", CT_STRING, OFF(av_temp_dir), "", 0, 0 },
	{ "av_timeout", CT_DURATION, OFF(av_timeout), "2m", 100, 3600000 },
	{ "av_max_scansize", CT_SIZE, OFF(av_max_scansize), "400M", 0, 0 },
	{ "av_max_filesize", CT_SIZE, OFF(av_max_filesize), "100M", 0, 0 },
	{ "av_max_recursion", CT_INT, OFF(av_max_recursion), "17", 1, 100 },
	{ "av_max_files", CT_INT, OFF(av_max_files), "10000", 1, 1000000 },
	{ "av_reload", CT_ENUM, OFF(av_reload), "concurrent", 0, 0, av_reloads },
	{ "av_reload_wait", CT_DURATION, OFF(av_reload_wait), "30s", 0,
	  600000 },
	{ "av_check_interval", CT_DURATION, OFF(av_check_interval), "60s", 0,
	  86400000 },
	{ "clamd_socket", CT_SOCKET, OFF(clamd_socket),
	  "unix:/run/clamav/clamd.ctl", 0, 0 },
	{ "clamd_chunk_size", CT_SIZE, OFF(clamd_chunk_size), "64k", 0, 0 },
	{ "clamd_stream_max", CT_SIZE, OFF(clamd_stream_max), "25M", 0, 0 },
	{ "ratelimit_login", CT_RATES, OFF(ratelimit_login), "", 0, 0 },
	{ "ratelimit_login_rcpt", CT_RATES, OFF(ratelimit_login_rcpt), "", 0,
	  0 },
	{ "ratelimit_client", CT_RATES, OFF(ratelimit_client), "", 0, 0 },
	{ "ratelimit_client_rcpt", CT_RATES, OFF(ratelimit_client_rcpt), "", 0,
	  0 },
	{ "ratelimit_sender_domain", CT_RATES, OFF(ratelimit_sender_domain), "",
	  0, 0 },
	{ "ratelimit_sender_domain_rcpt", CT_RATES,
	  OFF(ratelimit_sender_domain_rcpt), "", 0, 0 },
	{ "ratelimit_ipv4_prefix", CT_INT, OFF(ratelimit_ipv4_prefix), "32", 8,
	  32 },
	{ "ratelimit_ipv6_prefix", CT_INT, OFF(ratelimit_ipv6_prefix), "64", 16,
	  128 },
	{ "ratelimit_exempt", CT_NETLIST, OFF(ratelimit_exempt), "", 0, 0 },
	{ "ratelimit_backend", CT_ENUM, OFF(ratelimit_backend), "memory", 0, 0,
	  ratelimit_backends },
	{ "ratelimit_redis_prefix", CT_STRING, OFF(ratelimit_redis_prefix),
	  "rg:rl:", 0, 0 },
	{ "ratelimit_action", CT_ACTION, OFF(ratelimit_action), "tempfail", 0,
	  0 },
	{ "ratelimit_error_action", CT_ACTION, OFF(ratelimit_error_action),
	  "accept", 0, 0 },
	{ "ratelimit_memory_keys", CT_INT, OFF(ratelimit_memory_keys), "100000",
	  100, 10000000 },
	{ "brake", CT_BOOL, OFF(brake), "no", 0, 0 },
	{ "brake_window", CT_DURATION, OFF(brake_window), "1h", 1000,
	  86400000 },
	{ "brake_spam_score", CT_NUMBER, OFF(brake_spam_score), "50", 0,
	  1000000, num_off },
	{ "brake_viruses", CT_INT, OFF(brake_viruses), "2", 0, 1000000 },
	{ "brake_rejected_rcpts", CT_INT, OFF(brake_rejected_rcpts), "20", 0,
	  1000000 },
	{ "brake_action", CT_ACTION, OFF(brake_action), "tempfail", 0, 0 },
	{ "brake_store", CT_STRING, OFF(brake_store),
	  "/var/lib/relayguard/brake", 0, 0 },
};

#define CONF_NKEYS (sizeof(conf_table) / sizeof(conf_table[0]))

static char **
conf_strp(struct conf *c, const struct conf_key *k)
{
	return (char **)((char *)c + k->offset);
}

static int *
conf_intp(struct conf *c, const struct conf_key *k)
{
	return (int *)((char *)c + k->offset);
}

/* conf_check_socket - accept the socket forms the milter library takes */
static int
conf_check_socket(const char *v, char *why, size_t len)
{
	const char *colon = strchr(v, ':');

	if (*v == '/' )
		return 0;
	if (colon == NULL) {
		snprintf(why, len, "bad socket \"%s\": use inet:PORT@ADDR, "
			 "inet6:PORT@ADDR or unix:PATH", v);
		return -1;
	}
	if (strncmp(v, "unix:", 5) == 0 || strncmp(v, "local:", 6) == 0) {
		if (colon[1] != '/') {
			snprintf(why, len, "bad socket \"%s\": the path must "
				 "be absolute", v);
			return -1;
		}
		return 0;
	}
	if (strncmp(v, "inet:", 5) == 0 || strncmp(v, "inet6:", 6) == 0) {
		char *end;
		long port = strtol(colon + 1, &end, 10);

		if (end == colon + 1 || port < 1 || port > 65535 ||
		    (*end != '\0' && *end != '@') ||
		    (*end == '@' && end[1] == '\0')) {
			snprintf(why, len, "bad socket \"%s\": want "
				 "inet:PORT@ADDR with PORT 1-65535", v);
			return -1;
		}
		return 0;
	}
	snprintf(why, len, "bad socket \"%s\": unknown type (inet, inet6, "
		 "unix)", v);
	return -1;
}

/* conf_check_resolvers - "addr[@port] ..." with numeric addresses */
static int
conf_check_resolvers(const char *v, char *why, size_t len)
{
	char *copy = xstrdup(v), *save = NULL, *item;
	int rc = 0;

	for (item = strtok_r(copy, ", \t", &save); item && rc == 0;
	     item = strtok_r(NULL, ", \t", &save)) {
		char *at = strrchr(item, '@');
		struct netaddr a;

		if (at) {
			char *end;
			long port = strtol(at + 1, &end, 10);

			if (at[1] == '\0' || *end != '\0' || port < 1 ||
			    port > 65535) {
				snprintf(why, len, "bad resolver port in "
					 "\"%s\"", item);
				rc = -1;
				break;
			}
			*at = '\0';
		}
		if (netaddr_parse(item, &a) != 0) {
			snprintf(why, len, "bad resolver address \"%s\": "
				 "want an IP address[@port]", item);
			rc = -1;
		}
	}
	free(copy);
	return rc;
}

/* conf_parse_duration - "500ms", "5s", "2m", "1h", "1d", "7" (seconds)
 * to ms; -1 */
static long long
conf_parse_duration(const char *v)
{
	char *end;
	long long n;

	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || n > 86400LL * 1000)
		return -1;
	if (strcmp(end, "ms") == 0)
		return n;
	if (*end == '\0' || strcmp(end, "s") == 0)
		return n * 1000;
	if (strcmp(end, "m") == 0)
		return n * 60000;
	if (strcmp(end, "h") == 0 && n <= 24)
		return n * 3600000;
	if (strcmp(end, "d") == 0 && n <= 1)
		return n * 86400000;
	return -1;
}

/* conf_set - parse one value into its field; -1 with why on error */
static int
conf_set(struct conf *c, const struct conf_key *k, const char *v,
	 char *why, size_t len)
{
	long long n;
	char *end;
	int i;

	switch (k->type) {
	case CT_SOCKET:
		if (conf_check_socket(v, why, len) != 0)
			return -1;
		/* FALLTHROUGH */
	case CT_STRING:
		free(*conf_strp(c, k));
		*conf_strp(c, k) = xstrdup(v);
		return 0;
	case CT_RESOLVERS:
		if (conf_check_resolvers(v, why, len) != 0)
			return -1;
		free(*conf_strp(c, k));
		*conf_strp(c, k) = xstrdup(v);
		return 0;
	case CT_SIZE:
		if ((n = util_parse_size(v)) < 0) {
			snprintf(why, len, "bad size \"%s\" for %s: want a "
				 "number of bytes, with k, M or G", v, k->name);
			return -1;
		}
		*(long long *)((char *)c + k->offset) = n;
		return 0;
	case CT_INT:
	case CT_OCTAL:
		errno = 0;
		n = strtoll(v, &end, k->type == CT_OCTAL ? 8 : 10);
		if (*v == '\0' || *end != '\0' || errno || n < k->min ||
		    n > k->max) {
			snprintf(why, len, "bad value \"%s\" for %s: want %s "
				 "from %lo to %lo", v, k->name,
				 k->type == CT_OCTAL ? "an octal mode" :
				 "an integer", k->min, k->max);
			if (k->type == CT_INT)
				snprintf(why, len, "bad value \"%s\" for %s: "
					 "want an integer from %ld to %ld", v,
					 k->name, k->min, k->max);
			return -1;
		}
		*conf_intp(c, k) = (int)n;
		return 0;
	case CT_NETLIST: {
		struct netlist *nl = (struct netlist *)((char *)c + k->offset);
		struct netlist tmp;

		if (netlist_parse(v, &tmp, why, len) != 0)
			return -1;
		netlist_free(nl);
		*nl = tmp;
		return 0;
	}
	case CT_LOGSINK:
		if (strcmp(v, "syslog") == 0)
			i = LOG_SINK_SYSLOG;
		else if (strcmp(v, "stderr") == 0)
			i = LOG_SINK_STDERR;
		else {
			snprintf(why, len, "bad log \"%s\": want syslog or "
				 "stderr", v);
			return -1;
		}
		*conf_intp(c, k) = i;
		return 0;
	case CT_FACILITY:
		if ((i = log_facility_parse(v)) < 0) {
			snprintf(why, len, "bad syslog facility \"%s\"", v);
			return -1;
		}
		*conf_intp(c, k) = i;
		return 0;
	case CT_LOGLEVEL:
		if ((i = log_level_parse(v)) < 0) {
			snprintf(why, len, "bad log level \"%s\": want error, "
				 "warning, notice, info or debug", v);
			return -1;
		}
		*conf_intp(c, k) = i;
		return 0;
	case CT_BOOL:
		if ((i = util_parse_bool(v)) < 0) {
			snprintf(why, len, "bad value \"%s\" for %s: want yes "
				 "or no", v, k->name);
			return -1;
		}
		*conf_intp(c, k) = i;
		return 0;
	case CT_DOMAINS: {
		struct strlist *l = (struct strlist *)((char *)c + k->offset);

		strlist_free(l);
		strlist_parse(l, v, 1);
		return 0;
	}
	case CT_DURATION: {
		long long ms = conf_parse_duration(v);

		if (ms < k->min || ms > k->max) {
			snprintf(why, len, "bad duration \"%s\" for %s: want "
				 "%ldms to %lds, as 500ms, 5s or 2m", v,
				 k->name, k->min, k->max / 1000);
			return -1;
		}
		*conf_intp(c, k) = (int)ms;
		return 0;
	}
	case CT_NUMBER: {
		double d;

		if (strcasecmp(v, "off") == 0) {
			*(double *)((char *)c + k->offset) = INFINITY;
			return 0;
		}
		errno = 0;
		d = strtod(v, &end);
		if (*v == '\0' || *end != '\0' || errno || !isfinite(d) ||
		    d < (double)k->min || d > (double)k->max) {
			snprintf(why, len, "bad number \"%s\" for %s: want "
				 "%ld to %ld%s", v, k->name, k->min, k->max,
				 k->words ? " or off" : "");
			return -1;
		}
		*(double *)((char *)c + k->offset) = d;
		return 0;
	}
	case CT_RATES:
		if (ratelist_parse(v, (struct ratelist *)((char *)c +
		    k->offset), why, len) != 0) {
			size_t o = strlen(why);

			snprintf(why + o, len - o, " for %s", k->name);
			return -1;
		}
		return 0;
	case CT_ENUM:
		for (i = 0; k->words[i]; i++)
			if (strcasecmp(v, k->words[i]) == 0) {
				*conf_intp(c, k) = i;
				return 0;
			}
		snprintf(why, len, "bad value \"%s\" for %s", v, k->name);
		return -1;
	case CT_DNSLIST: {
		struct dnslist l;

		if (*v == '\0')
			return 0;	/* the default: no list */
		if (dnslist_parse(v, &l, why, len) != 0)
			return -1;
		c->dnsbl_lists = xrealloc(c->dnsbl_lists, (c->dnsbl_nlists + 1) *
					  sizeof(l));
		c->dnsbl_texts = xrealloc(c->dnsbl_texts, (c->dnsbl_nlists + 1) *
					  sizeof(char *));
		c->dnsbl_lines = xrealloc(c->dnsbl_lines, (c->dnsbl_nlists + 1) *
					  sizeof(int));
		c->dnsbl_lists[c->dnsbl_nlists] = l;
		c->dnsbl_texts[c->dnsbl_nlists] = xstrdup(v);
		c->dnsbl_lines[c->dnsbl_nlists] = 0;
		c->dnsbl_nlists++;
		return 0;
	}
	case CT_ACTION:
		if ((i = verdict_action_parse(v)) < 0) {
			snprintf(why, len, "bad action \"%s\" for %s: want "
				 "accept (or tag), reject, tempfail, "
				 "quarantine or discard", v, k->name);
			return -1;
		}
		*conf_intp(c, k) = i;
		return 0;
	}
	PANIC("unknown configuration type %d", k->type);
}

static const struct conf_key *
conf_find(const char *name)
{
	for (size_t i = 0; i < CONF_NKEYS; i++)
		if (strcmp(conf_table[i].name, name) == 0)
			return &conf_table[i];
	return NULL;
}

static char conf_host[256];
static pthread_once_t conf_host_once = PTHREAD_ONCE_INIT;

/*
 * conf_host_init - this host's name, once per process: gethostname(),
 * and its canonical name when that is a FQDN and the host name is not
 * (as Postfix's myhostname).  Never empty: "localhost" at worst.
 */
static void
conf_host_init(void)
{
	struct addrinfo hints, *ai = NULL;

	if (gethostname(conf_host, sizeof(conf_host)) != 0 ||
	    conf_host[0] == '\0')
		util_strlcpy(conf_host, "localhost", sizeof(conf_host));
	conf_host[sizeof(conf_host) - 1] = '\0';
	if (strchr(conf_host, '.') != NULL)
		return;
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_CANONNAME;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(conf_host, NULL, &hints, &ai) == 0 && ai != NULL &&
	    ai->ai_canonname != NULL && strchr(ai->ai_canonname, '.') != NULL &&
	    strlen(ai->ai_canonname) < sizeof(conf_host))
		util_strlcpy(conf_host, ai->ai_canonname, sizeof(conf_host));
	if (ai != NULL)
		freeaddrinfo(ai);
}

/* conf_hostname - this host's name (see conf_host_init) */
const char *
conf_hostname(void)
{
	pthread_once(&conf_host_once, conf_host_init);
	return conf_host;
}

/* conf_fill_authserv_id - an empty authserv_id means this host's name */
static void
conf_fill_authserv_id(struct conf *c)
{
	if (*c->authserv_id != '\0')
		return;
	free(c->authserv_id);
	c->authserv_id = xstrdup(conf_hostname());
}

/*
 * conf_check_authserv_id - RFC 8601 2.2: the authserv-id is a value; we
 * take a token (a host name, say), so that every header using it is valid.
 */
static int
conf_check_authserv_id(const char *v, char *why, size_t len)
{
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    strchr("()<>@,;:\\\"/[]?=", *p) != NULL) {
			snprintf(why, len, "bad authserv_id \"%.64s\": want a "
				 "host name (no white space, ';', '\"', ...)", v);
			return -1;
		}
	return 0;
}

/*
 * conf_blank - every key at its default, authserv_id still empty: the
 * host name is looked up (maybe in DNS) only when the file leaves it so.
 */
static struct conf *
conf_blank(void)
{
	struct conf *c = xcalloc(1, sizeof(*c));
	char why[256];

	c->refcount = 1;
	c->weights = weights_new();
	pthread_mutex_init(&c->resolver_lock, NULL);
	for (size_t i = 0; i < CONF_NKEYS; i++)
		if (conf_set(c, &conf_table[i], conf_table[i].def, why,
			     sizeof(why)) != 0)
			PANIC("bad default for %s: %s", conf_table[i].name, why);
	return c;
}

/* conf_defaults - every key at its default */
struct conf *
conf_defaults(void)
{
	struct conf *c = conf_blank();

	conf_fill_authserv_id(c);
	return c;
}

/* conf_line - one logical line: "key = value" */
static int
conf_line(struct conf *c, char *line, int lineno, int *seen, char *why,
	  size_t len)
{
	char *eq = strchr(line, '=');
	const struct conf_key *k;
	char *key, *val;

	if (eq == NULL) {
		snprintf(why, len, "expected \"key = value\"");
		return -1;
	}
	*eq = '\0';
	key = util_trim(line);
	val = util_trim(eq + 1);
	if (*key == '\0') {
		snprintf(why, len, "bad key name \"\"");
		return -1;
	}
	for (char *p = key; *p; p++) {
		if (!isalnum((unsigned char)*p) && *p != '_') {
			snprintf(why, len, "bad key name \"%.64s\"", key);
			return -1;
		}
	}
	if ((k = conf_find(key)) == NULL) {
		snprintf(why, len, "unknown key \"%.64s\"", key);
		return -1;
	}
	if (k->type == CT_DNSLIST) {
		/* one line a list: the key repeats */
		if (conf_set(c, k, val, why, len) != 0)
			return -1;
		if (c->dnsbl_nlists > 0)
			c->dnsbl_lines[c->dnsbl_nlists - 1] = lineno;
		if (!seen[k - conf_table])
			seen[k - conf_table] = lineno;
		return 0;
	}
	if (seen[k - conf_table]) {
		snprintf(why, len, "%s is set twice (first at line %d)",
			 key, seen[k - conf_table]);
		return -1;
	}
	seen[k - conf_table] = lineno;
	return conf_set(c, k, val, why, len);
}

/* conf_key_line - the line a key was set on (0: its default) */
static int
conf_key_line(const int *seen, const char *name)
{
	const struct conf_key *k = conf_find(name);

	return k ? seen[k - conf_table] : 0;
}

/*
 * conf_map_db_only - the text file is missing but postmap's output is
 * there: say that relayguard reads the text source, not the database.
 */
static int
conf_map_db_only(const struct conf *c, int line, char *err, size_t errlen)
{
	static const char *const dbs[] = { ".db", ".lmdb", ".cdb" };
	char db[4096];

	for (size_t i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
		snprintf(db, sizeof(db), "%s%s", c->sender_login_maps, dbs[i]);
		if (access(db, F_OK) == 0) {
			snprintf(err, errlen, "%s:%d: sender_login_maps: %s does "
				 "not exist, only %s: relayguard reads the text "
				 "file that postmap(1) compiles, not the "
				 "database", c->path, line,
				 c->sender_login_maps, db);
			return 1;
		}
	}
	return 0;
}

/*
 * conf_map_type - sender_login_maps as pasted from main.cf: "hash:FILE",
 * "lmdb:FILE", "btree:FILE" and "texthash:FILE" name the text file that
 * postmap(1) reads (or texthash: reads itself), and relayguard reads that
 * text file; the prefix is dropped.  Any other map type, or a list of
 * maps, is a configuration error at FILE:LINE.
 */
static int
conf_map_type(struct conf *c, int line, char *err, size_t errlen)
{
	static const char *const text_types[] = { "hash", "lmdb", "btree",
						  "texthash" };
	const char *v = c->sender_login_maps, *colon;
	size_t n;

	n = strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_");
	if (n == 0 || (colon = v + n, *colon != ':'))
		return 0;			/* a plain path */
	if (strpbrk(v, ", \t") != NULL) {
		snprintf(err, errlen, "%s:%d: sender_login_maps: one map file "
			 "only, not a list (\"%.128s\")", c->path, line, v);
		return -1;
	}
	for (size_t i = 0; i < sizeof(text_types) / sizeof(text_types[0]);
	     i++) {
		if (strlen(text_types[i]) == n &&
		    strncmp(v, text_types[i], n) == 0) {
			char *path = xstrdup(colon + 1);

			if (*path == '\0') {
				snprintf(err, errlen, "%s:%d: sender_login_maps "
					 "\"%s\": no file name", c->path, line,
					 v);
				free(path);
				return -1;
			}
			free(c->sender_login_maps);
			c->sender_login_maps = path;
			return 0;
		}
	}
	snprintf(err, errlen, "%s:%d: sender_login_maps: map type \"%.*s:\" "
		 "is not supported: relayguard reads one text file in "
		 "postmap(1) format (a path, or hash:, lmdb:, btree:, "
		 "texthash: before it)", c->path, line, (int)n, v);
	return -1;
}

/*
 * conf_abspath - path made absolute against dir (which ends in "/"), as a
 * new string; an absolute path (or an empty one) is copied as it is.  A
 * map type prefix ("hash:", Postfix's) is kept in front of the path.
 */
static char *
conf_abspath(const char *dir, const char *path, int typed)
{
	size_t type = 0;
	struct sbuf abs;

	if (typed) {
		while (path[type] >= 'a' && path[type] <= 'z')
			type++;
		type = type > 0 && path[type] == ':' ? type + 1 : 0;
	}
	if (path[type] == '\0' || path[type] == '/')
		return xstrdup(path);
	sbuf_init(&abs);
	sbuf_append(&abs, path, type);
	sbuf_puts(&abs, dir);
	sbuf_puts(&abs, path + type);
	return sbuf_steal(&abs);
}

/*
 * conf_cwd_path - path (of the configuration file) made absolute against
 * the working directory, as a new string; without symbolic links resolved,
 * so a link swapped for the next SIGHUP is followed.
 */
static char *
conf_cwd_path(const char *path)
{
	char cwd[PATH_MAX + 1];
	size_t n;

	if (*path == '/' || getcwd(cwd, sizeof(cwd) - 1) == NULL)
		return xstrdup(path);
	n = strlen(cwd);
	if (n == 0 || cwd[n - 1] != '/')
		util_strlcpy(cwd + n, "/", sizeof(cwd) - n);
	return conf_abspath(cwd, path, 0);
}

/*
 * conf_resolve_paths - relative file names in the configuration are
 * relative to the directory of the configuration file (whose path is
 * absolute by now), made absolute once here: the daemon runs in "/", and
 * the same file must name the same files at start, at SIGHUP, under -n
 * and in "relayguard check".
 */
static void
conf_resolve_paths(struct conf *c)
{
	char **keys[] = { &c->sender_login_maps, &c->pid_file,
			  &c->dnssec_trust_anchor, &c->clamav_database,
			  &c->dkim_key_table, &c->dkim_signing_table,
			  &c->bayes_store, &c->brake_store };
	const char *slash = strrchr(c->path, '/');
	char *dir, *abs;

	dir = slash ? xstrndup(c->path, (size_t)(slash - c->path) + 1) :
	    xstrdup("./");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		abs = conf_abspath(dir, *keys[i], keys[i] ==
				   &c->sender_login_maps);
		free(*keys[i]);
		*keys[i] = abs;
	}
	free(dir);
}

/*
 * conf_check_engines - the external spam engines' servers: ADDR:PORT,
 * [ADDR]:PORT (numeric, no DNS on the mail path) or a unix socket's
 * absolute path; spamd_user and rspamd_password without control
 * characters (each is a request header)
 */
static int
conf_check_engines(const struct conf *c, const char *name, const int *seen,
		   char *err, size_t errlen)
{
	static const char *const keys[] = { "spamd_server", "rspamd_server" };
	static const char *const hkeys[] = { "spamd_user", "rspamd_password" };
	const char *vals[] = { c->spamd_server, c->rspamd_server };
	const char *hvals[] = { c->spamd_user, c->rspamd_password };
	struct sockaddr_storage ss;
	socklen_t sslen;
	char why[200];

	for (size_t i = 0; i < 2; i++)
		if (sockspec_parse(vals[i], &ss, &sslen, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "%s:%d: %s: %s", name,
				 conf_key_line(seen, keys[i]), keys[i], why);
			return -1;
		}
	for (size_t i = 0; i < 2; i++)
		for (const unsigned char *p = (const unsigned char *)hvals[i];
		     *p; p++)
			if (*p < 0x20 || *p == 0x7f) {
				snprintf(err, errlen, "%s:%d: %s: no control "
					 "characters", name,
					 conf_key_line(seen, hkeys[i]), hkeys[i]);
				return -1;
			}
	return 0;
}

/*
 * conf_check_dnsbl - a list's symbols are its own: not a fixed symbol of
 * the weights table, not another list's (each has one weight)
 */
static int
conf_check_dnsbl(const struct conf *c, const char *name, char *err,
		 size_t errlen)
{
	for (size_t i = 0; i < c->dnsbl_nlists; i++) {
		const struct dnslist *l = &c->dnsbl_lists[i];

		for (size_t j = 0; j < l->nrules; j++) {
			const char *sym = l->rules[j].symbol;

			if (weights_index(sym) >= 0) {
				snprintf(err, errlen, "%s:%d: list %s: %s is a "
					 "symbol of relayguard's own: name the "
					 "list's symbols apart (RBL_..., "
					 "URIBL_...)", name, c->dnsbl_lines[i],
					 l->name, sym);
				return -1;
			}
			for (size_t k = 0; k < i; k++)
				for (size_t m = 0; m < c->dnsbl_lists[k].nrules;
				     m++)
					if (strcmp(c->dnsbl_lists[k].rules[m].
						   symbol, sym) == 0) {
						snprintf(err, errlen, "%s:%d: list "
							 "%s: symbol %s is list "
							 "%s's already (line %d)",
							 name,
							 c->dnsbl_lines[i],
							 l->name, sym,
							 c->dnsbl_lists[k].name,
							 c->dnsbl_lines[k]);
						return -1;
					}
		}
		for (size_t k = 0; k < i; k++)
			if (strcmp(c->dnsbl_lists[k].name, l->name) == 0) {
				snprintf(err, errlen, "%s:%d: list %s is defined "
					 "twice (first at line %d)", name,
					 c->dnsbl_lines[i], l->name,
					 c->dnsbl_lines[k]);
				return -1;
			}
	}
	return 0;
}

/*
 * conf_finish - checks across keys, and the files keys name: the login
 * map is loaded here, so -n and SIGHUP judge it with the configuration.
 * name is the file as the caller gave it, for messages.
 */
static int
conf_finish(struct conf *c, const char *name, const int *seen, char *err,
	    size_t errlen)
{
	char why[256];

	for (size_t i = 0; i < c->sender_domain_aliases.n; i++) {
		const char *a = c->sender_domain_aliases.v[i];
		const char *eq = strchr(a, '=');

		if (eq == NULL || eq == a || eq[1] == '\0' ||
		    strchr(eq + 1, '=') != NULL) {
			snprintf(err, errlen, "%s:%d: bad domain alias \"%s\": "
				 "want alias=canonical", name,
				 conf_key_line(seen, "sender_domain_aliases"), a);
			return -1;
		}
	}
	if (conf_check_authserv_id(c->authserv_id, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "%s:%d: %s", name,
			 conf_key_line(seen, "authserv_id"), why);
		return -1;
	}
	/* -n and SIGHUP judge it too, not only a start that detaches */
	if (*c->user != '\0' && getpwnam(c->user) == NULL) {
		snprintf(err, errlen, "%s:%d: unknown user \"%.64s\"", name,
			 conf_key_line(seen, "user"), c->user);
		return -1;
	}
	conf_fill_authserv_id(c);
	conf_resolve_paths(c);
	if (*c->dnssec_trust_anchor != '\0' &&
	    access(c->dnssec_trust_anchor, R_OK) != 0) {
		snprintf(err, errlen, "%s:%d: dnssec_trust_anchor %s: %s",
			 name, conf_key_line(seen, "dnssec_trust_anchor"),
			 c->dnssec_trust_anchor, strerror(errno));
		return -1;
	}
	if (*c->temp_dir != '/') {
		snprintf(err, errlen, "%s:%d: temp_dir \"%s\": want an absolute "
			 "path", name, conf_key_line(seen, "temp_dir"),
			 c->temp_dir);
		return -1;
	}
	if (*c->av_temp_dir != '\0' && *c->av_temp_dir != '/') {
		snprintf(err, errlen, "%s:%d: av_temp_dir \"%s\": want an "
			 "absolute path", name, conf_key_line(seen, "av_temp_dir"),
			 c->av_temp_dir);
		return -1;
	}
	if (conf_check_engines(c, name, seen, err, errlen) != 0)
		return -1;
	if (conf_map_type(c, conf_key_line(seen, "sender_login_maps"), err,
			  errlen) != 0)
		return -1;
	if (*c->sender_login_maps != '\0') {
		if (access(c->sender_login_maps, F_OK) != 0 &&
		    conf_map_db_only(c, conf_key_line(seen,
				     "sender_login_maps"), err, errlen))
			return -1;
		c->login_map = loginmap_src_open(c->sender_login_maps,
		    !c->sender_local_part_case_sensitive, err, errlen);
		if (c->login_map == NULL)
			return -1;
	}
	if (conf_check_dnsbl(c, name, err, errlen) != 0)
		return -1;
	c->clamav_database_line = conf_key_line(seen, "clamav_database");
	weights_free(c->weights);
	c->weights = weights_new();
	if (weights_parse(c->weights, c->scores, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "%s:%d: %s", name,
			 conf_key_line(seen, "scores"), why);
		return -1;
	}
	/* a database named must be there, unless the site says it may wait
	 * (the default, /var/lib/clamav, is used once freshclam fills it) */
	if (c->av && c->av_backend == AV_BACKEND_LIBCLAMAV && c->av_required &&
	    *c->clamav_database != '\0' &&
	    !conf_av_has_signatures(c->clamav_database, why, sizeof(why))) {
		snprintf(err, errlen, "%s:%d: clamav_database %s (install "
			 "clamav-freshclam and run freshclam, point "
			 "clamav_database at signatures, or set av_required = "
			 "no)", name, conf_key_line(seen, "clamav_database"),
			 why);
		return -1;
	}
	if (c->ratelimit_backend == RATELIMIT_REDIS && *c->redis_server == '\0') {
		snprintf(err, errlen, "%s:%d: ratelimit_backend = redis needs "
			 "redis_server", name, conf_key_line(seen,
			 "ratelimit_backend"));
		return -1;
	}
	if ((*c->dkim_key_table == '\0') != (*c->dkim_signing_table == '\0')) {
		snprintf(err, errlen, "%s:%d: dkim_key_table and "
			 "dkim_signing_table go together: set both or neither",
			 c->path, conf_key_line(seen, *c->dkim_key_table ?
			 "dkim_key_table" : "dkim_signing_table"));
		return -1;
	}
	if (*c->dkim_key_table != '\0') {
		c->dkim_keys = dkimkeys_load(c->dkim_key_table,
					     c->dkim_signing_table, err, errlen);
		if (c->dkim_keys == NULL)
			return -1;
	}
	return 0;
}

/* the endings of the files libclamav loads as signatures */
static const char *const conf_sig_exts[] = {
	".cvd", ".cld", ".cud", ".ndb", ".ndu", ".hdb", ".hdu", ".hsb", ".hsu",
	".mdb", ".mdu", ".msb", ".msu", ".ldb", ".ldu", ".cdb", ".idb", ".cbc",
	".pdb", ".gdb", ".wdb", ".yar", ".yara", ".ftm", ".crb", ".imp", NULL
};

/* conf_is_sigfile - does the name end as a signature file does */
static int
conf_is_sigfile(const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; conf_sig_exts[i]; i++) {
		size_t e = strlen(conf_sig_exts[i]);

		if (n > e && strcasecmp(name + n - e, conf_sig_exts[i]) == 0)
			return 1;
	}
	return 0;
}

const char *
conf_av_database(const struct conf *c)
{
	return *c->clamav_database ? c->clamav_database :
	    CONF_CLAMAV_DEFAULT_DB;
}

int
conf_av_has_signatures(const char *path, char *why, size_t len)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int n = 0;

	if (stat(path, &st) != 0) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return 0;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (access(path, R_OK) != 0) {
			snprintf(why, len, "%s: %s", path, strerror(errno));
			return 0;
		}
		return 1;
	}
	if ((d = opendir(path)) == NULL) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return 0;
	}
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && conf_is_sigfile(de->d_name))
			n++;
	closedir(d);
	if (n == 0)
		snprintf(why, len, "%s: no virus signatures there", path);
	return n > 0;
}

int
conf_temp_dir_ok(const struct conf *c, char *why, size_t len)
{
	struct stat st;

	errno = 0;
	if (stat(c->temp_dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    access(c->temp_dir, W_OK | X_OK) != 0) {
		snprintf(why, len, "temp_dir %s: %s: a message over "
			 "spool_memory_max will be tempfailed", c->temp_dir,
			 errno ? strerror(errno) : "not a directory");
		return 0;
	}
	return 1;
}

/* conf_load - read, check and return a configuration */
struct conf *
conf_load(const char *path, char *err, size_t errlen)
{
	struct lines in;
	struct conf *c;
	int seen[CONF_NKEYS] = { 0 };
	int start, rc;
	char *line, why[512];

	if (lines_open(&in, path, err, errlen) != 0)
		return NULL;
	c = conf_blank();
	free(c->path);
	c->path = conf_cwd_path(path);
	while ((rc = lines_next(&in, &line, &start, err, errlen)) > 0) {
		if (conf_line(c, line, start, seen, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "%s:%d: %s", path, start, why);
			rc = -1;
			break;
		}
	}
	lines_close(&in);
	if (rc == 0)
		rc = conf_finish(c, path, seen, err, errlen);
	if (rc != 0) {
		conf_unref(c);
		return NULL;
	}
	return c;
}

struct conf *
conf_ref(struct conf *c)
{
	__atomic_add_fetch(&c->refcount, 1, __ATOMIC_SEQ_CST);
	return c;
}

void
conf_unref(struct conf *c)
{
	if (c == NULL)
		return;
	if (__atomic_sub_fetch(&c->refcount, 1, __ATOMIC_SEQ_CST) > 0)
		return;
	for (size_t i = 0; i < CONF_NKEYS; i++) {
		const struct conf_key *k = &conf_table[i];

		switch (k->type) {
		case CT_STRING: case CT_SOCKET: case CT_RESOLVERS:
			free(*conf_strp(c, k));
			break;
		case CT_NETLIST:
			netlist_free((struct netlist *)((char *)c + k->offset));
			break;
		case CT_DOMAINS:
			strlist_free((struct strlist *)((char *)c + k->offset));
			break;
		default:
			break;
		}
	}
	for (size_t i = 0; i < c->dnsbl_nlists; i++) {
		dnslist_free(&c->dnsbl_lists[i]);
		free(c->dnsbl_texts[i]);
	}
	free(c->dnsbl_lists);
	free(c->dnsbl_texts);
	free(c->dnsbl_lines);
	loginmap_src_free(c->login_map);
	dkimkeys_free(c->dkim_keys);
	weights_free(c->weights);
	resolver_unref(c->dns);
	pthread_mutex_destroy(&c->resolver_lock);
	free(c->path);
	free(c);
}

struct resolver *
conf_resolver(struct conf *c, char *err, size_t errlen)
{
	struct resolver *r;

	pthread_mutex_lock(&c->resolver_lock);
	if (c->dns == NULL)
		c->dns = resolver_new(c->resolver, c->dnssec_trust_anchor, err,
				      errlen);
	r = c->dns;
	pthread_mutex_unlock(&c->resolver_lock);
	return r;
}

void
conf_adopt_resolver(struct conf *fresh, struct conf *old)
{
	if (strcmp(fresh->resolver, old->resolver) != 0 ||
	    strcmp(fresh->dnssec_trust_anchor, old->dnssec_trust_anchor) != 0)
		return;
	pthread_mutex_lock(&old->resolver_lock);
	if (old->dns != NULL && fresh->dns == NULL)
		fresh->dns = resolver_ref(old->dns);
	pthread_mutex_unlock(&old->resolver_lock);
}

/* conf_dump - the effective configuration, one "key = value" a line */
void
conf_dump(const struct conf *cc, FILE *fp)
{
	struct conf *c = (struct conf *)cc;

	for (size_t i = 0; i < CONF_NKEYS; i++) {
		const struct conf_key *k = &conf_table[i];

		if (k->type == CT_DNSLIST) {
			for (size_t j = 0; j < c->dnsbl_nlists; j++)
				fprintf(fp, "%s = %s\n", k->name,
					c->dnsbl_texts[j]);
			if (c->dnsbl_nlists == 0)	/* empty: no list */
				fprintf(fp, "%s = \n", k->name);
			continue;
		}
		fprintf(fp, "%s = ", k->name);
		switch (k->type) {
		case CT_STRING: case CT_SOCKET: case CT_RESOLVERS:
			fputs(*conf_strp(c, k), fp);
			break;
		case CT_SIZE:
			fprintf(fp, "%lld", *(long long *)((char *)c + k->offset));
			break;
		case CT_INT:
			fprintf(fp, "%d", *conf_intp(c, k));
			break;
		case CT_OCTAL:
			fprintf(fp, "%04o", *conf_intp(c, k));
			break;
		case CT_NETLIST: {
			const struct netlist *nl = (const struct netlist *)
			    ((char *)c + k->offset);
			for (size_t j = 0; j < nl->count; j++) {
				char a[64];

				netaddr_format(&nl->nets[j].addr, a, sizeof(a));
				fprintf(fp, "%s%s/%d", j ? " " : "", a,
					nl->nets[j].prefix);
			}
			break;
		}
		case CT_LOGSINK:
			fputs(*conf_intp(c, k) == LOG_SINK_SYSLOG ? "syslog" :
			      "stderr", fp);
			break;
		case CT_FACILITY:
			fputs(log_facility_word(*conf_intp(c, k)), fp);
			break;
		case CT_LOGLEVEL:
			fputs(log_level_word(*conf_intp(c, k)), fp);
			break;
		case CT_ACTION:
			fputs(verdict_action_name(*conf_intp(c, k)), fp);
			break;
		case CT_BOOL:
			fputs(*conf_intp(c, k) ? "yes" : "no", fp);
			break;
		case CT_DURATION:
			fprintf(fp, "%dms", *conf_intp(c, k));
			break;
		case CT_ENUM:
			fputs(k->words[*conf_intp(c, k)], fp);
			break;
		case CT_NUMBER: {
			double d = *(const double *)((const char *)c + k->offset);

			char num[40];

			/* the shortest that reads back the same */
			snprintf(num, sizeof(num), "%.15g", d);
			if (strtod(num, NULL) != d)
				snprintf(num, sizeof(num), "%.17g", d);
			fputs(isinf(d) ? "off" : num, fp);
			break;
		}
		case CT_DNSLIST:
			break;
		case CT_DOMAINS: {
			const struct strlist *l = (const struct strlist *)
			    ((char *)c + k->offset);
			for (size_t j = 0; j < l->n; j++)
				fprintf(fp, "%s%s", j ? " " : "", l->v[j]);
			break;
		}
		case CT_RATES: {
			char rates[RATE_MAX * 40];

			ratelist_format((const struct ratelist *)((char *)c +
					k->offset), rates, sizeof(rates));
			fputs(rates, fp);
			break;
		}
		}
		fputc('\n', fp);
	}
}
