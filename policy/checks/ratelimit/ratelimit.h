/*
 * ratelimit - limits per login, per client network and per sender
 * domain: messages at MAIL FROM, recipients at each RCPT, several
 * windows a key (rate.h: "100/1h 1000/1d").
 *
 * Keys (ratelimit_* in conf/relayguard.conf):
 *   login          {auth_authen}, as the MTA passed it
 *   client         the client address cut to ratelimit_ipv4_prefix or
 *                  ratelimit_ipv6_prefix bits ("192.0.2.0/24"); clients in
 *                  trusted_networks are exempt (they relay for many)
 *   sender_domain  the MAIL FROM domain, lower-cased; <> is not counted
 * Clients in ratelimit_exempt are exempt from every limit.
 *
 * A decision covers every key and window of the stage at once and is
 * atomic: in process (rlmem.h) under one mutex; in Redis
 * (ratelimit_backend = redis) one Lua script, so that every node behind
 * a load balancer counts together.  A hit over any window counts nowhere
 * (a client held back is not held back longer for trying).  A message
 * counts at MAIL FROM, whatever becomes of it later (as Postfix's anvil
 * counts MAIL FROM); a recipient counts when this check takes it.
 *
 * Symbols (weights 0: verdict.c's rules act, ratelimit_action decides):
 *   RATELIMIT_LOGIN, RATELIMIT_CLIENT, RATELIMIT_SENDER_DOMAIN  at MAIL
 *   RATELIMIT_LOGIN_RCPT, RATELIMIT_CLIENT_RCPT,
 *   RATELIMIT_SENDER_DOMAIN_RCPT                                at RCPT
 *   RATELIMIT_ERROR   Redis did not answer within redis_timeout:
 *                     ratelimit_error_action (accept, logged, default)
 * The reply names the limit: "451 4.7.1 Rate limit exceeded: login
 * alice@example.com, 100 messages per 1h".
 *
 * Redis keys: PREFIX KIND:VALUE:WINDOW ("rg:rl:l:alice@example.com:1h";
 * KIND l, c, d for messages, lr, cr, dr for recipients),
 * a hash of the window's counter (s, c, p), PEXPIRE twice the window.
 * When Redis fails, one warning is logged and Redis is not asked again
 * for RATELIMIT_RETRY_MS (every message meanwhile gets RATELIMIT_ERROR at
 * once); one notice when it answers again.
 */
#ifndef RG_RATELIMIT_H
#define RG_RATELIMIT_H

#include <stddef.h>

struct conf;
struct netaddr;
struct redispool;
struct rl_req;
struct symbols;
struct txn;
struct txn_rcpt;

#define RATELIMIT_RETRY_MS	5000

int ratelimit_enabled(const struct conf *);
void ratelimit_mail(struct txn *);
void ratelimit_rcpt(struct txn *, struct txn_rcpt *, struct symbols *);
/* ratelimit_stop - free the counters and the Redis pool (process end) */
void ratelimit_stop(void);

/*
 * ratelimit_decide - one decision over the keys of reqs (rlmem.h) by the
 * configuration's backend at ratelimit_clock(): 0 counted everywhere, 1
 * over a limit (*req, *win: the first window over), -1 error (why)
 */
int ratelimit_decide(const struct conf *, const struct rl_req *reqs,
		     size_t n, size_t *req, int *win, char *why,
		     size_t whylen);
/* ratelimit_clock - the time in ms (a test may point it elsewhere) */
extern long long (*ratelimit_clock)(void);
/*
 * ratelimit_client_key - the client network "ADDR/BITS" for the client
 * limits (ipv4 and ipv6 are the prefix lengths)
 */
void ratelimit_client_key(const struct netaddr *, int ipv4, int ipv6,
			  char *buf, size_t size);
/*
 * ratelimit_pool - the process's Redis pool for this configuration's
 * redis_server (the brake shares it); NULL with why
 */
struct redispool *ratelimit_pool(const struct conf *, char *why,
				 size_t whylen);
/*
 * ratelimit_redis_down - is Redis in its retry pause?  ratelimit_redis_
 * failed / _ok - a call failed (logged once) or worked (a recovery
 * logged once); what names the caller in the log
 */
int ratelimit_redis_down(long long now);
void ratelimit_redis_failed(const char *what, const char *why, long long now);
void ratelimit_redis_ok(void);

#endif
