/*
 * redispool - pooled hiredis connections (see redispool.h).
 *
 * Diagnostics: every failure is a reason in the caller's buffer and a
 * NULL or -1; the pool never logs and never exits.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "redispool.h"
#include "util.h"

struct redispool {
	char		*server;	/* as given, for the reasons */
	char		*host;		/* TCP, or NULL */
	char		*sock;		/* unix socket, or NULL */
	int		port;
	char		*password;	/* AUTH, or NULL */
	struct timeval	tv;
	pthread_mutex_t	mu;		/* guards idle, nidle, pid */
	pid_t		pid;		/* whose the idle connections are */
	redisContext	*idle[REDISPOOL_IDLE];
	int		nidle;
};

int
redispool_fail(const struct redispool *p, char *why, size_t whylen,
	       const char *what, const char *reason)
{
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "redis %s: %s: %s", p->server, what,
			 reason);
	return -1;
}

const char *
redispool_server(const struct redispool *p)
{
	return p->server;
}

/* redispool_drop_idle - free every idle connection */
static void
redispool_drop_idle(struct redispool *p)
{
	redisContext *gone[REDISPOOL_IDLE];
	int i, n;

	pthread_mutex_lock(&p->mu);
	n = p->nidle;
	memcpy(gone, p->idle, (size_t)n * sizeof(gone[0]));
	p->nidle = 0;
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < n; i++)
		redisFree(gone[i]);
}

/* redispool_auth - AUTH on a new connection; -1 (why: Redis' answer) */
static int
redispool_auth(struct redispool *p, redisContext *c, char *why, size_t whylen)
{
	const char *argv[2] = { "AUTH", p->password };
	size_t lens[2] = { 4, strlen(p->password) };
	redisReply *r = redisCommandArgv(c, 2, argv, lens);
	int rc = -1;

	if (r == NULL)
		redispool_fail(p, why, whylen, "AUTH", c->errstr[0] ?
			       c->errstr : "no reply");
	else if (r->type == REDIS_REPLY_ERROR)
		redispool_fail(p, why, whylen, "AUTH", r->str);
	else
		rc = 0;
	if (r != NULL)
		freeReplyObject(r);
	return rc;
}

/* redispool_connect - a new connection with the timeouts set, or NULL */
static redisContext *
redispool_connect(struct redispool *p, char *why, size_t whylen)
{
	redisContext *c;

	if (p->sock != NULL)
		c = redisConnectUnixWithTimeout(p->sock, p->tv);
	else
		c = redisConnectWithTimeout(p->host, p->port, p->tv);
	if (c == NULL) {
		redispool_fail(p, why, whylen, "connect", "out of memory");
		return NULL;
	}
	if (c->err == 0 && redisSetTimeout(c, p->tv) != REDIS_OK && c->err == 0)
		c->err = REDIS_ERR_OTHER;
	if (c->err != 0) {
		redispool_fail(p, why, whylen, "connect", c->errstr[0] ?
			       c->errstr : "cannot set the timeout");
		redisFree(c);
		redispool_drop_idle(p);
		return NULL;
	}
	if (p->password != NULL && redispool_auth(p, c, why, whylen) != 0) {
		redisFree(c);
		return NULL;
	}
	return c;
}

/* redispool_get - an idle connection (*reused set) or a new one; NULL */
static redisContext *
redispool_get(struct redispool *p, int *reused, char *why, size_t whylen)
{
	redisContext *c = NULL;

	pthread_mutex_lock(&p->mu);
	if (p->pid != getpid()) {
		/* forked: the sockets are the parent's; close our copies */
		while (p->nidle > 0)
			redisFree(p->idle[--p->nidle]);
		p->pid = getpid();
	}
	if (p->nidle > 0)
		c = p->idle[--p->nidle];
	pthread_mutex_unlock(&p->mu);
	*reused = c != NULL;
	return c != NULL ? c : redispool_connect(p, why, whylen);
}

/* redispool_put - keep a connection that worked for the next call */
static void
redispool_put(struct redispool *p, redisContext *c)
{
	pthread_mutex_lock(&p->mu);
	if (p->nidle < REDISPOOL_IDLE) {
		p->idle[p->nidle++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&p->mu);
	if (c != NULL)
		redisFree(c);
}

redisReply *
redispool_call(struct redispool *p, int argc, const char **argv,
	       const size_t *lens, const char *what, char *why, size_t whylen)
{
	redisContext *c;
	redisReply *r;
	int reused, tries, err, kind;

	for (tries = 0; tries < 2; tries++) {
		if ((c = redispool_get(p, &reused, why, whylen)) == NULL)
			return NULL;
		r = redisCommandArgv(c, argc, argv, lens);
		err = errno;
		if (r != NULL) {
			redispool_put(p, c);
			return r;
		}
		if (c->err == REDIS_ERR_IO && (err == EAGAIN ||
		    err == EWOULDBLOCK || err == EINTR))
			redispool_fail(p, why, whylen, what, "timed out");
		else
			redispool_fail(p, why, whylen, what, c->errstr[0] ?
				       c->errstr : "no reply");
		kind = c->err;
		redisFree(c);
		if (!reused || !(kind == REDIS_ERR_EOF ||
		    (kind == REDIS_ERR_IO && (err == ECONNRESET ||
		    err == EPIPE))))
			break;
	}
	return NULL;
}

redisReply *
redispool_eval(struct redispool *p, const char *sha, const char *script,
	       int argc, const char **argv, size_t *lens, const char *what,
	       char *why, size_t whylen)
{
	redisReply *r;

	argv[0] = "EVALSHA";
	lens[0] = 7;
	argv[1] = sha;
	lens[1] = strlen(sha);
	r = redispool_call(p, argc, argv, lens, what, why, whylen);
	if (r != NULL && r->type == REDIS_REPLY_ERROR &&
	    strncmp(r->str, "NOSCRIPT", 8) == 0) {
		freeReplyObject(r);
		argv[0] = "EVAL";
		lens[0] = 4;
		argv[1] = script;
		lens[1] = strlen(script);
		r = redispool_call(p, argc, argv, lens, what, why, whylen);
	}
	return r;
}

int
redispool_load(struct redispool *p, const char *script, char sha[41],
	       char *why, size_t whylen)
{
	const char *argv[3] = { "SCRIPT", "LOAD", script };
	size_t lens[3] = { 6, 4, strlen(script) };
	redisReply *r;

	r = redispool_call(p, 3, argv, lens, "SCRIPT LOAD", why, whylen);
	if (r == NULL)
		return -1;
	if (r->type != REDIS_REPLY_STRING || r->len != 40) {
		redispool_fail(p, why, whylen, "SCRIPT LOAD",
			       r->type == REDIS_REPLY_ERROR ? r->str :
			       "unexpected reply");
		freeReplyObject(r);
		return -1;
	}
	memcpy(sha, r->str, 40);
	sha[40] = '\0';
	freeReplyObject(r);
	return 0;
}

/*
 * redispool_address - unix:PATH, HOST:PORT or [IPV6]:PORT into the pool;
 * -1 (why) when it is none of them
 */
static int
redispool_address(struct redispool *p, char *why, size_t whylen)
{
	const char *a = p->server, *colon;
	char *end;
	long port;

	if (strncmp(a, "unix:", 5) == 0 && a[5] != '\0') {
		p->sock = xstrdup(a + 5);
		return 0;
	}
	if (*a == '[') {
		colon = strchr(a, ']');
		if (colon == NULL || colon[1] != ':')
			goto bad;
		p->host = xstrndup(a + 1, (size_t)(colon - a - 1));
		colon++;
	} else {
		colon = strrchr(a, ':');
		if (colon == NULL || colon == a)
			goto bad;
		p->host = xstrndup(a, (size_t)(colon - a));
	}
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || port < 1 || port > 65535)
		goto bad;
	p->port = (int)port;
	return 0;
bad:
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "redis %s: not unix:PATH or HOST:PORT",
			 p->server);
	return -1;
}

struct redispool *
redispool_new(const char *server, const char *password, int timeout_ms,
	      char *why, size_t whylen)
{
	struct redispool *p;
	int ms = timeout_ms > 0 ? timeout_ms : REDISPOOL_TIMEOUT;

	if (server == NULL || *server == '\0') {
		if (why != NULL && whylen > 0)
			snprintf(why, whylen, "redis: no server");
		return NULL;
	}
	p = xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	p->pid = getpid();
	p->server = xstrdup(server);
	if (password != NULL && *password != '\0')
		p->password = xstrdup(password);
	p->tv.tv_sec = ms / 1000;
	p->tv.tv_usec = (ms % 1000) * 1000;
	if (redispool_address(p, why, whylen) != 0) {
		redispool_free(p);
		return NULL;
	}
	return p;
}

void
redispool_free(struct redispool *p)
{
	if (p == NULL)
		return;
	redispool_drop_idle(p);
	pthread_mutex_destroy(&p->mu);
	free(p->server);
	free(p->host);
	free(p->sock);
	if (p->password != NULL) {
		memset(p->password, 0, strlen(p->password));
		free(p->password);
	}
	free(p);
}
