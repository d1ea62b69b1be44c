/*
 * redispool - a pool of synchronous hiredis connections to one Redis
 * server, shared by the threads of a process (the Bayes token store, the
 * rate limits and the brake use it).
 *
 * The server is "unix:PATH", "HOST:PORT" or "[IPV6]:PORT".  A call takes
 * an idle connection or connects a new one, and puts it back when it
 * worked (at most REDISPOOL_IDLE are kept).  A connection that failed is
 * freed; when a connect fails the idle ones are dropped too (Redis is
 * gone or restarted).  A call that fails on a reused connection that was
 * closed or reset is tried once more on a new one: Redis restarted under
 * us.  A new connection sends AUTH first when a password is set (the
 * password never appears in a reason).  Connect and every read and write
 * are bounded by the timeout (hiredis' socket timeouts).  hiredis writes
 * with write(2): the process must ignore SIGPIPE.  After fork() a child
 * closes its copies of the parent's idle connections and connects its
 * own.  Errors are reasons in a caller's buffer, "redis SERVER: what:
 * why"; nothing here logs.
 */
#ifndef RG_REDISPOOL_H
#define RG_REDISPOOL_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#define REDISPOOL_IDLE		16	/* idle connections kept */
#define REDISPOOL_TIMEOUT	1000	/* ms, when none is given */

struct redispool;

/*
 * redispool_new - check the address (no connection yet); NULL with why.
 * timeout_ms <= 0: REDISPOOL_TIMEOUT; password NULL or "": no AUTH.
 */
struct redispool *redispool_new(const char *server, const char *password,
				int timeout_ms, char *why, size_t whylen);
void redispool_free(struct redispool *);
/* redispool_server - the address as given, for reasons */
const char *redispool_server(const struct redispool *);
/*
 * redispool_call - one command; its reply (freeReplyObject it) or NULL
 * with why ("what" names the command in the reason).  An error reply is a
 * reply: the caller looks at its type.
 */
redisReply *redispool_call(struct redispool *, int argc, const char **argv,
			   const size_t *lens, const char *what, char *why,
			   size_t whylen);
/*
 * redispool_eval - a Lua script by its SHA-1 (EVALSHA), sent whole
 * (EVAL, which caches it again) when Redis answers NOSCRIPT.  argv[0]
 * and argv[1] are filled here; the caller sets argv[2] (numkeys) onward.
 */
redisReply *redispool_eval(struct redispool *, const char *sha,
			   const char *script, int argc, const char **argv,
			   size_t *lens, const char *what, char *why,
			   size_t whylen);
/* redispool_load - SCRIPT LOAD: the script's SHA-1 into sha[41]; -1 */
int redispool_load(struct redispool *, const char *script, char sha[41],
		   char *why, size_t whylen);
/* redispool_fail - "redis SERVER: what: reason" into why; returns -1 */
int redispool_fail(const struct redispool *, char *why, size_t whylen,
		   const char *what, const char *reason);

#endif
