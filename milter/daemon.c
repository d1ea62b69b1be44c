/*
 * daemon - process life cycle (see daemon.h).
 *
 * Start-up order matters: whatever can fail is tried first, while errors
 * still reach the terminal and while we may still bind as root: the user
 * is looked up (by conf_load(), so -n says so too), the socket opened,
 * the pid file opened.  Then the process
 * detaches, writes its pid file, drops privileges, blocks the signals that
 * libmilter's signal thread handles, and only then starts threads.  The
 * process that was started waits (on a pipe) until the daemon is ready,
 * and exits non-zero if it is not, so an init script sees a failed start.
 *
 * Diagnostics: start-up problems are fatal with a message on stderr (and
 * in syslog); a failed start leaves no pid file; a bad file at SIGHUP is
 * logged as FILE:LINE and the running configuration stays.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "milter.h"
#include "daemon.h"
#include "dkimcmd.h"
#include "log.h"
#include "loginmap.h"
#include "policy.h"
#include "signals.h"
#include "util.h"

static pthread_mutex_t daemon_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t daemon_idle = PTHREAD_COND_INITIALIZER;
static struct conf *daemon_current;
static int daemon_inflight;
static int daemon_closing;
static char *daemon_pid_file;		/* as at start: changes need a restart */
static int daemon_pid_fd = -1;		/* open from before detaching */

struct conf *
daemon_conf(void)
{
	struct conf *c;

	pthread_mutex_lock(&daemon_lock);
	c = conf_ref(daemon_current);
	pthread_mutex_unlock(&daemon_lock);
	return c;
}

void
daemon_set_conf(struct conf *c)
{
	struct conf *old;

	pthread_mutex_lock(&daemon_lock);
	old = daemon_current;
	daemon_current = c ? conf_ref(c) : NULL;
	pthread_mutex_unlock(&daemon_lock);
	conf_unref(old);
}

/* daemon_warnings - what is allowed but will hurt */
static void
daemon_warnings(const struct conf *c)
{
	char why[512];

	if (!conf_temp_dir_ok(c, why, sizeof(why)))
		log_warn("%s", why);
}

/* daemon_reload - SIGHUP: swap in a new configuration if it is good */
static void
daemon_reload(void)
{
	struct conf *old = daemon_conf(), *fresh;
	char err[1024];

	fresh = conf_load(old->path, err, sizeof(err));
	if (fresh == NULL) {
		log_err("%s; keeping the running configuration", err);
		conf_unref(old);
		return;
	}
	if (strcmp(fresh->socket, old->socket) != 0 ||
	    strcmp(fresh->user, old->user) != 0 ||
	    strcmp(fresh->pid_file, old->pid_file) != 0)
		log_warn("%s: socket, user and pid_file take effect at the "
			 "next restart", fresh->path);
	log_set_level(fresh->log_level);
	conf_adopt_resolver(fresh, old);	/* same servers: keep the cache */
	pthread_mutex_lock(&daemon_lock);
	conf_unref(daemon_current);	/* connections may still hold it */
	daemon_current = fresh;
	pthread_mutex_unlock(&daemon_lock);
	log_info("configuration reloaded from %s", fresh->path);
	policy_reload(fresh);
	daemon_warnings(fresh);
	if (fresh->login_map)
		log_info("sender_login_maps: the text file %s, %zu entries",
			 loginmap_src_path(fresh->login_map),
			 loginmap_src_size(fresh->login_map));
	conf_unref(old);
	/* the published keys, checked again: key rotation's usual slip */
	old = daemon_conf();
	dkimcmd_log_keys(old);
	conf_unref(old);
}

int
daemon_txn_begin(void)
{
	int ok;

	pthread_mutex_lock(&daemon_lock);
	ok = !daemon_closing;
	if (ok)
		daemon_inflight++;
	pthread_mutex_unlock(&daemon_lock);
	return ok;
}

void
daemon_txn_end(void)
{
	pthread_mutex_lock(&daemon_lock);
	if (--daemon_inflight == 0)
		pthread_cond_broadcast(&daemon_idle);
	pthread_mutex_unlock(&daemon_lock);
}

/* daemon_finish - remove the pid file, say so */
static void
daemon_finish(void)
{
	/* after dropping privileges the directory may not be ours: empty it */
	if (daemon_pid_file && *daemon_pid_file &&
	    unlink(daemon_pid_file) != 0 && truncate(daemon_pid_file, 0) != 0)
		log_warn("cannot remove pid file %s: %s", daemon_pid_file,
			 strerror(errno));
	log_info("stopped");
}

/*
 * daemon_drain - SIGTERM: refuse new messages (451 4.3.2), let those in
 * flight finish, for at most shutdown_timeout seconds.
 */
static void
daemon_drain(void)
{
	struct conf *c = daemon_conf();
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += c->shutdown_timeout;
	pthread_mutex_lock(&daemon_lock);
	daemon_closing = 1;
	if (daemon_inflight > 0)
		log_info("stopping: waiting up to %ds for %d message(s) in "
			 "flight", c->shutdown_timeout, daemon_inflight);
	while (daemon_inflight > 0) {
		if (pthread_cond_timedwait(&daemon_idle, &daemon_lock,
					   &until) == ETIMEDOUT)
			break;
	}
	if (daemon_inflight > 0)
		log_warn("stopping with %d message(s) still in flight; the "
			 "MTA will retry them", daemon_inflight);
	pthread_mutex_unlock(&daemon_lock);
	conf_unref(c);
	/*
	 * Nothing is in flight any more: exit now rather than wait up to
	 * five seconds for libmilter's listener to notice the stop.  A
	 * message counts as done only at the step after its end (or the
	 * close), so its reply has been written.  Idle MTA connections then
	 * just see the milter go, as with any restart.
	 */
	daemon_finish();
	exit(0);
}

/* daemon_socket_path - the file behind unix:/local:/bare path, or NULL */
static const char *
daemon_socket_path(const char *sock)
{
	if (*sock == '/')
		return sock;
	if (strncmp(sock, "unix:", 5) == 0)
		return sock + 5;
	if (strncmp(sock, "local:", 6) == 0)
		return sock + 6;
	return NULL;
}

/*
 * daemon_nodelay - TCP_NODELAY on libmilter's listening socket, which
 * accepted connections inherit.  The reply to end of message goes out as
 * several small packets (header edits, then the verdict); with Nagle's
 * algorithm each waits for the MTA's delayed ACK.  libmilter keeps its
 * socket to itself, so find it: the one listening TCP socket we have.
 */
static void
daemon_nodelay(void)
{
	int one = 1;

	for (int fd = 0; fd < 1024; fd++) {
		int listening = 0, type = 0;
		socklen_t len = sizeof(listening);
		struct sockaddr_storage ss;
		socklen_t sslen = sizeof(ss);

		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening,
			       &len) != 0 || !listening)
			continue;
		len = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
		    type != SOCK_STREAM ||
		    getsockname(fd, (struct sockaddr *)&ss, &sslen) != 0 ||
		    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
			continue;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			       sizeof(one)) != 0)
			log_warn("TCP_NODELAY: %s", strerror(errno));
	}
}

/*
 * daemon_detach - the usual double fork.  The first process stays until
 * the daemon reports on the pipe that it is ready (daemon_ready()), and
 * exits 0 only then: a start that fails after the fork still exits non-
 * zero where it was run, its reason already on stderr.  stdio stays as it
 * was until then.
 */
static int
daemon_detach(int *ready)
{
	int fds[2];
	pid_t pid;
	char ok = 0;
	ssize_t n;

	if (pipe(fds) != 0)
		return -1;
	if ((pid = fork()) < 0)
		return -1;
	if (pid > 0) {
		close(fds[1]);
		waitpid(pid, NULL, 0);	/* the middle one exits at once */
		while ((n = read(fds[0], &ok, 1)) < 0 && errno == EINTR)
			;
		if (n != 1 || ok != '0') {
			/* the daemon died before it was ready: its pid file too */
			if (daemon_pid_file && *daemon_pid_file &&
			    daemon_pid_fd >= 0)
				unlink(daemon_pid_file);
			fprintf(stderr, "relayguard: start failed\n");
			_exit(1);
		}
		_exit(0);
	}
	close(fds[0]);
	setsid();
	if ((pid = fork()) < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (chdir("/") != 0)
		return -1;
	*ready = fds[1];
	return 0;
}

/*
 * daemon_ready - the daemon is up: tell the first process, and give stdio
 * up (stderr stays when it is the log, as without a syslog daemon).
 */
static void
daemon_ready(int ready, const struct conf *c)
{
	int fd;

	if (ready < 0)
		return;
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		if (c->log_sink == LOG_SINK_SYSLOG)
			dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	log_also_stderr(0);
	if (write(ready, "0", 1) != 1)
		log_warn("cannot report start-up: %s", strerror(errno));
	close(ready);
}

/*
 * daemon_pidfile_open - open (create) the pid file before detaching, so
 * an unwritable one stops the start where the admin sees it.  It is not
 * truncated yet: a running instance's file stays intact until we are sure.
 */
static int
daemon_pidfile_open(const char *path)
{
	if (*path == '\0')
		return 0;
	if ((daemon_pid_fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW |
				  O_CLOEXEC, 0644)) < 0) {
		log_err("cannot write pid file %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* daemon_pidfile_write - our (final) pid into the opened pid file */
static int
daemon_pidfile_write(const char *path)
{
	char b[32];
	int n, fd = daemon_pid_fd, ok;

	if (fd < 0)
		return 0;
	n = snprintf(b, sizeof(b), "%ld\n", (long)getpid());
	ok = ftruncate(fd, 0) == 0 && write(fd, b, (size_t)n) == n;
	if (!ok)
		log_err("cannot write pid file %s: %s", path, strerror(errno));
	if (close(fd) != 0 && ok) {
		log_err("cannot write pid file %s: %s", path, strerror(errno));
		ok = 0;
	}
	daemon_pid_fd = -1;
	return ok ? 0 : -1;
}

/* daemon_drop - become the configured user, giving the socket to it */
static int
daemon_drop(const struct conf *c)
{
	struct passwd *pw;
	const char *path = daemon_socket_path(c->socket);

	if (path && chmod(path, (mode_t)c->socket_mode) != 0)
		log_warn("chmod %s: %s", path, strerror(errno));
	if (*c->user == '\0')
		return 0;
	if ((pw = getpwnam(c->user)) == NULL) {
		log_err("%s: unknown user \"%s\"", c->path, c->user);
		return -1;
	}
	if (getuid() == pw->pw_uid && geteuid() == pw->pw_uid)
		return 0;
	if (path && chown(path, pw->pw_uid, pw->pw_gid) != 0)
		log_warn("chown %s: %s", path, strerror(errno));
	if (*c->pid_file && chown(c->pid_file, pw->pw_uid, pw->pw_gid) != 0)
		log_warn("chown %s: %s", c->pid_file, strerror(errno));
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 ||
	    setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		log_err("cannot become user %s: %s", c->user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		log_err("dropping privileges to %s did not stick", c->user);
		return -1;
	}
	log_info("running as user %s", c->user);
	return 0;
}

/*
 * daemon_fail - a start that failed after the pid file was opened: remove
 * it (nothing of ours may be left behind) and return the exit status.
 */
static int
daemon_fail(void)
{
	if (daemon_pid_fd >= 0) {
		close(daemon_pid_fd);
		daemon_pid_fd = -1;
	}
	if (daemon_pid_file && *daemon_pid_file)
		unlink(daemon_pid_file);
	return 1;
}

int
daemon_run(struct conf *c, int foreground)
{
	int rc, ready = -1;

	daemon_current = c;	/* takes the caller's reference */
	daemon_pid_file = xstrdup(c->pid_file);
	/* from here on SIGHUP and SIGTERM wait for libmilter's handler: one
	 * sent while the signatures load must not kill the daemon */
	signals_block();
	/* everything that can fail, before detaching, with stderr (the
	 * user was looked up by conf_load()) */
	if (smfi_register(*milter_desc()) == MI_FAILURE) {
		log_err("smfi_register failed");
		return 1;
	}
	if (smfi_setconn(c->socket) == MI_FAILURE ||
	    smfi_opensocket(1) == MI_FAILURE) {
		log_err("%s: cannot listen on %s (in use, or no permission?)",
			c->path, c->socket);
		return 1;
	}
	daemon_nodelay();
	if (daemon_pidfile_open(c->pid_file) != 0) {
		free(daemon_pid_file);
		daemon_pid_file = NULL;	/* not ours: leave it alone */
		return 1;
	}
	/* the virus signatures: a database that does not load stops here */
	{
		char err[1024];

		if (policy_start(c, err, sizeof(err)) != 0) {
			log_err("%s", err);
			return daemon_fail();
		}
	}
	if (!foreground && daemon_detach(&ready) != 0) {
		log_err("cannot detach: %s", strerror(errno));
		return daemon_fail();
	}
	if (daemon_pidfile_write(c->pid_file) != 0 || daemon_drop(c) != 0)
		return daemon_fail();

	signals_start(daemon_reload, daemon_drain);
	policy_background();
	daemon_warnings(c);
	log_info("relayguard %s listening on %s (%s)", PACKAGE_VERSION,
		 c->socket, c->path);
	if (c->login_map)
		log_info("sender_login_maps: the text file %s, %zu entries",
			 loginmap_src_path(c->login_map),
			 loginmap_src_size(c->login_map));
	dkimcmd_log_keys(c);	/* mail waits in the listen queue meanwhile */
	daemon_ready(ready, c);
	if (foreground)
		log_also_stderr(0);
	rc = smfi_main();		/* returns only if libmilter fails */
	log_err("the milter library stopped (%s)",
		rc == MI_SUCCESS ? "no error" : "error");
	daemon_finish();
	return rc == MI_SUCCESS ? 0 : 1;
}
