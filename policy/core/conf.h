/*
 * conf - relayguard's configuration: one typed table, one parser.
 *
 * conf_load() reads "key = value" lines (full-line "#" comments, and
 * " # ..." after a value; a line that starts with white space continues
 * the previous one, as in Postfix's main.cf).  Unknown keys, repeated
 * keys and bad values are errors reported as "FILE:LINE: why".
 *
 * Relative file names in it (sender_login_maps, pid_file,
 * dnssec_trust_anchor, clamav_database) are relative to the directory of
 * the file, and the file's own path to the working directory at load:
 * all are made absolute, so a daemon in "/" and every SIGHUP find them.
 * An empty authserv_id is this host's name.
 *
 * A loaded configuration is reference-counted: every connection holds the
 * one it started with while a SIGHUP swaps in a new one.
 */
#ifndef RG_CONF_H
#define RG_CONF_H

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

#include "netaddr.h"
#include "rate.h"
#include "util.h"

struct dkimkeys;
struct dnslist;
struct loginmap_src;
struct resolver;

struct conf {
	int		refcount;
	char		*path;

	/* daemon */
	char		*socket;
	int		socket_mode;
	char		*pid_file;
	char		*user;
	int		log_sink;	/* enum log_sink */
	int		log_facility;
	int		log_level;
	int		shutdown_timeout;

	/* policy */
	struct netlist	trusted_networks;
	char		*authserv_id;
	char		*status_header;
	long long	max_message_size;
	long long	max_header_size;
	int		internal_error_action;	/* enum action */
	int		max_recipients;		/* 0: no limit */
	int		milter_no_reply;	/* SMFIP_NR_* where no check
						   decides */
	long long	spool_memory_max;	/* then a file in temp_dir */
	char		*temp_dir;

	/* sender identity gate (sender.c) */
	char		*sender_login_maps;
	struct loginmap_src *login_map;		/* NULL without a map */
	int		sender_check_envelope;
	int		sender_check_header;
	struct strlist	sender_domains;
	struct strlist	local_domains;
	char		*sender_myorigin;	/* Postfix's $myorigin, or "" */
	struct strlist	sender_domain_aliases;	/* "alias=canonical" */
	char		*recipient_delimiter;
	int		sender_local_part_case_sensitive;
	int		sender_allow_null;
	int		sender_envelope_action;
	int		sender_unauth_action;
	int		sender_header_action;
	int		sender_display_spoof_action;
	int		sender_inbound_header_action;

	/* DNS (resolver.c): created on first use, shared across reloads */
	char		*resolver;
	char		*dnssec_trust_anchor;
	int		dns_timeout;		/* ms, per query */
	pthread_mutex_t	resolver_lock;
	struct resolver	*dns;

	/* SPF (spfcheck.c) */
	int		spf;
	int		spf_engine;		/* enum spf_engine */
	int		spf_helo;
	int		spf_timeout;		/* ms, per evaluation */
	int		spf_fail_action;
	int		spf_softfail_action;
	int		spf_temperror_action;
	int		spf_permerror_action;

	/* DKIM (dkim.c verifies inbound, dkimsign.c signs outbound) */
	int		dkim;
	int		dkim_timeout;		/* ms, all key lookups of a
						   message */
	int		dkim_fail_action;
	int		dkim_neutral_action;
	int		dkim_policy_action;
	int		dkim_permerror_action;
	int		dkim_temperror_action;
	char		*dkim_key_table;
	char		*dkim_signing_table;
	struct dkimkeys	*dkim_keys;		/* NULL: no signing */

	/* DMARC (dmarc.c): inbound, at end of message */
	int		dmarc;
	int		dmarc_enforce;		/* honour p=reject/quarantine */
	int		dmarc_timeout;		/* ms, all lookups of a message */
	char		*dmarc_psl;		/* Public Suffix List file */
	int		dmarc_reject_action;	/* when enforced */
	int		dmarc_quarantine_action;	/* when enforced */
	int		dmarc_temperror_action;
	int		dmarc_permerror_action;
	struct strlist	dmarc_exempt_domains;	/* policy never enforced */
	char		*dmarc_report_log;	/* JSON lines; "" none */

	/* DNS blocklists (dnsbl.c): one dnsbl_list line a list */
	struct dnslist	*dnsbl_lists;
	char		**dnsbl_texts;		/* each line as written */
	int		*dnsbl_lines;		/* where each was set */
	size_t		dnsbl_nlists;
	int		dnsbl_timeout;		/* ms, all lookups of a stage */
	int		dnsbl_max_queries;	/* a message: sender and links */
	int		dnsbl_reject_stage;	/* enum dnsbl_stage */

	/* every symbol's weight (weights.h): defaults, then "scores" */
	char		*scores;
	struct weights	*weights;

	/* spam engine (spam.c): thresholds on the total score */
	int		spam;
	double		spam_tag_score;		/* INFINITY: off */
	double		spam_quarantine_score;
	double		spam_reject_score;
	double		spam_outbound_tag_score;
	double		spam_outbound_quarantine_score;
	double		spam_outbound_reject_score;
	int		spam_error_action;	/* the store cannot be read */
	long long	spam_max_size;		/* larger: header rules only */
	int		mime_max_depth;
	int		mime_max_parts;
	long long	mime_max_text;
	int		mime_max_links;
	int		bayes;
	int		bayes_backend;		/* enum tokstore_backend */
	char		*bayes_store;		/* LMDB directory */
	char		*redis_server;		/* unix:PATH or HOST:PORT */
	char		*redis_password;
	int		redis_timeout;		/* ms, per call */
	char		*bayes_redis_prefix;
	int		bayes_token_ttl_days;	/* Redis: token expiry, 0 none */
	int		bayes_min_spam, bayes_min_ham;
	double		bayes_robs, bayes_robx, bayes_min_dev;
	int		bayes_max_tokens;
	int		bayes_autolearn;
	double		bayes_autolearn_spam_score;
	double		bayes_autolearn_ham_score;

	/* external spam engines (checks/extspam/): before the thresholds */
	int		spamd;
	char		*spamd_server;		/* ADDR:PORT or a socket path */
	int		spamd_timeout;		/* ms, one message */
	char		*spamd_user;
	long long	spamd_max_size;		/* larger: not sent */
	double		spamd_weight;		/* factor of spamd's score */
	int		spamd_outbound;		/* scan the site's own users' */
	int		rspamd;
	char		*rspamd_server;
	int		rspamd_timeout;
	char		*rspamd_password;
	long long	rspamd_max_size;
	double		rspamd_weight;
	int		rspamd_outbound;

	/* virus scan (av.c, avengine.c, avclamd.c): every message */
	int		av;
	int		av_backend;		/* enum av_backend */
	char		*clamav_database;	/* "": /var/lib/clamav when it
						   holds signatures */
	int		clamav_database_line;	/* where it was set, or 0 */
	int		av_required;		/* refuse to start without */
	int		av_action;		/* a virus */
	int		av_error_action;	/* not scanned whole, inbound */
	int		av_outbound_error_action;
	int		av_headers;		/* X-Virus-Scanned/-Status */
	char		*av_temp_dir;		/* libclamav's; "": temp_dir */
	int		av_timeout;		/* ms, one scan */
	long long	av_max_scansize;	/* libclamav's limits */
	long long	av_max_filesize;
	int		av_max_recursion;
	int		av_max_files;
	int		av_reload;		/* enum av_reload */
	int		av_reload_wait;		/* ms, blocking reload */
	int		av_check_interval;	/* ms, 0: no background check */
	char		*clamd_socket;
	long long	clamd_chunk_size;
	long long	clamd_stream_max;	/* clamd's StreamMaxLength */

	/* rate limits (ratelimit.c) and the brake (brake.c) */
	struct ratelist	ratelimit_login;	/* messages per login */
	struct ratelist	ratelimit_login_rcpt;	/* recipients per login */
	struct ratelist	ratelimit_client;	/* per client network */
	struct ratelist	ratelimit_client_rcpt;
	struct ratelist	ratelimit_sender_domain;	/* MAIL FROM domain */
	struct ratelist	ratelimit_sender_domain_rcpt;
	int		ratelimit_ipv4_prefix;
	int		ratelimit_ipv6_prefix;
	struct netlist	ratelimit_exempt;	/* no limit at all */
	int		ratelimit_backend;	/* enum ratelimit_backend */
	char		*ratelimit_redis_prefix;
	int		ratelimit_action;
	int		ratelimit_error_action;	/* the counters cannot be read */
	int		ratelimit_memory_keys;	/* in process: keys kept */
	int		brake;
	int		brake_window;		/* ms */
	double		brake_spam_score;	/* INFINITY: off */
	int		brake_viruses;		/* 0: off */
	int		brake_rejected_rcpts;	/* 0: off */
	int		brake_action;
	char		*brake_store;		/* LMDB directory (memory
						   backend) */
};

enum ratelimit_backend { RATELIMIT_MEMORY, RATELIMIT_REDIS };

enum dnsbl_stage { DNSBL_REJECT_RCPT, DNSBL_REJECT_CONNECT };
enum av_backend { AV_BACKEND_LIBCLAMAV, AV_BACKEND_CLAMD };
enum av_reload { AV_RELOAD_CONCURRENT, AV_RELOAD_BLOCKING };
/* the database when clamav_database is empty (Debian's freshclam) */
#define CONF_CLAMAV_DEFAULT_DB	"/var/lib/clamav"

/*
 * conf_load - read and check a file; NULL with "FILE:LINE: why" in err.
 * The result has a reference count of one.
 */
struct conf *conf_load(const char *path, char *err, size_t errlen);
/* conf_defaults - a configuration with every default (no file) */
struct conf *conf_defaults(void);
struct conf *conf_ref(struct conf *);
void conf_unref(struct conf *);
/*
 * conf_resolver - the shared DNS resolver, created on first use (after
 * the daemon has forked); NULL with why in err if it cannot be made.
 */
struct resolver *conf_resolver(struct conf *, char *err, size_t errlen);
/* conf_adopt_resolver - keep old's resolver (and cache) if DNS is unchanged */
void conf_adopt_resolver(struct conf *fresh, struct conf *old);
/*
 * conf_dump - print every key and its value as a configuration file that
 * loads back to the same configuration (relayguard -p prints it).
 */
void conf_dump(const struct conf *, FILE *);
/*
 * conf_temp_dir_ok - can the spool use temp_dir now?  0 with a warning in
 * why: not an error (the directory may come later, and each message
 * that needs it is tempfailed meanwhile), but worth saying at start
 */
int conf_temp_dir_ok(const struct conf *, char *why, size_t len);
/* conf_av_database - the signature database to load (file or directory) */
const char *conf_av_database(const struct conf *);
/*
 * conf_av_has_signatures - does path hold signature files (a directory)
 * or is it a readable file?  0 with why filled if not.  A quick look, not
 * a load: a corrupt file is found when the engine loads it.
 */
int conf_av_has_signatures(const char *path, char *why, size_t len);
/* conf_hostname - this host's name: the default of authserv_id */
const char *conf_hostname(void);

#endif
