/*
 * avengine - the shared libclamav engine, its reloads and scans (see
 * avengine.h).
 *
 * av.cur is the engine new scans take; each scan holds a reference.  An
 * engine replaced while scans hold it is marked retired and freed when
 * its last scan ends: by the background thread when one runs (freeing a
 * large engine takes a while, and a mail thread should not), else at
 * once.  Only the loader (the start, then the background thread) touches
 * av.st, the state cl_statchkdir compares against.
 */
#include "config.h"

#include <clamav.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "avengine.h"
#include "conf.h"
#include "log.h"
#include "util.h"

/* fewer than this: test signatures, not a real database (millions) */
#define AV_FEW_SIGNATURES	1000

struct av_settings {
	char		path[1024];
	char		tmpdir[1024];
	int		required;	/* no engine: scans tempfail */
	int		off;		/* no scan in process: unload */
	long long	max_scansize, max_filesize;
	int		max_recursion, max_files, timeout;
	int		reload_mode, reload_wait, interval;
};

struct av_engine {
	struct cl_engine *cl;
	unsigned	refs;
	int		retired;	/* replaced: free at the last release */
	unsigned	sigs;
	unsigned	version;	/* database version, 0 if unofficial */
	struct av_engine *next;		/* on the list to free */
};

static struct {
	pthread_mutex_t	lock;
	pthread_cond_t	wake;		/* the thread: reload, stop, free */
	pthread_cond_t	changed;	/* blocking reload: drained, done */
	struct av_settings set;
	struct av_engine *cur;
	struct av_engine *retired;	/* no scan holds them: to free */
	int		reloading;	/* blocking reload under way */
	int		want;		/* reload asked (SIGHUP) */
	int		stop;
	int		thread_on;
	pthread_t	thread;
	unsigned	reloads;
	char		why[256];	/* why there is no engine */
	/* the loader's own */
	struct cl_stat	st;
	int		have_st;
	time_t		file_mtime;	/* a database that is one file */
	char		last_err[256];	/* not logged twice in a row */
} av = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
	.changed = PTHREAD_COND_INITIALIZER,
};

static pthread_once_t av_once = PTHREAD_ONCE_INIT;
static cl_error_t av_init_rc = CL_SUCCESS;

/* av_clamav_msg - libclamav's own messages, into relayguard's log */
static void
av_clamav_msg(enum cl_msg severity, const char *fullmsg, const char *msg,
	      void *ctx)
{
	char line[512];
	size_t n;

	util_strlcpy(line, msg ? msg : "", sizeof(line));
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (severity == CL_MSG_ERROR)
		log_warn("libclamav: %s", line);
	else
		log_debug("libclamav: %s", line);
}

/* av_init - cl_init once for the process */
static void
av_init(void)
{
	cl_set_clcb_msg(av_clamav_msg);
	av_init_rc = cl_init(CL_INIT_DEFAULT);
}

/* av_now_ms - a monotonic clock in milliseconds */
static long long
av_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* av_rss_kb - this process's resident memory */
static long
av_rss_kb(void)
{
	FILE *fp = fopen("/proc/self/statm", "r");
	long size = 0, res = 0;

	if (fp == NULL)
		return 0;
	if (fscanf(fp, "%ld %ld", &size, &res) != 2)
		res = 0;
	fclose(fp);
	return res * (sysconf(_SC_PAGESIZE) / 1024);
}

/* av_settings_from - what the engine needs of a configuration */
static void
av_settings_from(const struct conf *c, struct av_settings *s)
{
	char why[256];

	memset(s, 0, sizeof(*s));
	s->off = !c->av || c->av_backend != AV_BACKEND_LIBCLAMAV;
	util_strlcpy(s->path, conf_av_database(c), sizeof(s->path));
	util_strlcpy(s->tmpdir, *c->av_temp_dir ? c->av_temp_dir : c->temp_dir,
		     sizeof(s->tmpdir));
	/* the database named, or the default once it holds signatures */
	s->required = c->av_required && (*c->clamav_database != '\0' ||
	    conf_av_has_signatures(s->path, why, sizeof(why)));
	s->max_scansize = c->av_max_scansize;
	s->max_filesize = c->av_max_filesize;
	s->max_recursion = c->av_max_recursion;
	s->max_files = c->av_max_files;
	s->timeout = c->av_timeout;
	s->reload_mode = c->av_reload;
	s->reload_wait = c->av_reload_wait;
	s->interval = c->av_check_interval;
}

/* av_free - free an engine no scan holds */
static void
av_free(struct av_engine *e)
{
	if (e == NULL)
		return;
	cl_engine_free(e->cl);
	free(e);
}

/* av_limits - the configured limits on a new engine; 0 or why */
static int
av_limits(struct cl_engine *cl, const struct av_settings *s, char *why,
	  size_t len)
{
	struct {
		enum cl_engine_field	f;
		long long		v;
	} nums[] = {
		{ CL_ENGINE_MAX_SCANSIZE, s->max_scansize },
		{ CL_ENGINE_MAX_FILESIZE, s->max_filesize },
		{ CL_ENGINE_MAX_RECURSION, s->max_recursion },
		{ CL_ENGINE_MAX_FILES, s->max_files },
		{ CL_ENGINE_MAX_SCANTIME, s->timeout },
	};
	cl_error_t rc;

	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		if ((rc = cl_engine_set_num(cl, nums[i].f, nums[i].v)) !=
		    CL_SUCCESS) {
			snprintf(why, len, "setting a scan limit: %s",
				 cl_strerror(rc));
			return -1;
		}
	/* archives are unpacked there, not in /tmp */
	if ((rc = cl_engine_set_str(cl, CL_ENGINE_TMPDIR, s->tmpdir)) !=
	    CL_SUCCESS) {
		snprintf(why, len, "temp_dir %.200s: %s", s->tmpdir,
			 cl_strerror(rc));
		return -1;
	}
	return 0;
}

/*
 * av_found - libclamav names what it found here too: cl_scandesc leaves
 * its own name pointer NULL for some heuristics (a message over
 * MaxFileSize), the callback still has it.  context is the result.
 */
static void
av_found(int fd, const char *virname, void *context)
{
	struct av_result *r = context;

	if (r != NULL && virname != NULL && r->name[0] == '\0')
		util_strlcpy(r->name, virname, sizeof(r->name));
}

/* av_load - load and compile a new engine; NULL with why */
static struct av_engine *
av_load(const struct av_settings *s, char *why, size_t len)
{
	struct cl_engine *cl;
	struct av_engine *e;
	unsigned sigs = 0;
	cl_error_t rc;
	long long t0 = av_now_ms();
	long rss0 = av_rss_kb();
	int err;

	pthread_once(&av_once, av_init);
	if (av_init_rc != CL_SUCCESS) {
		snprintf(why, len, "libclamav: cl_init: %s",
			 cl_strerror(av_init_rc));
		return NULL;
	}
	if ((cl = cl_engine_new()) == NULL) {
		snprintf(why, len, "cl_engine_new failed (out of memory?)");
		return NULL;
	}
	if (av_limits(cl, s, why, len) != 0) {
		cl_engine_free(cl);
		return NULL;
	}
	rc = cl_load(s->path, cl, &sigs, CL_DB_STDOPT);
	if (rc == CL_SUCCESS && sigs == 0)
		snprintf(why, len, "%.200s: no virus signatures there", s->path);
	else if (rc != CL_SUCCESS)
		snprintf(why, len, "%.200s: cannot load the signatures: %s",
			 s->path, cl_strerror(rc));
	else if ((rc = cl_engine_compile(cl)) != CL_SUCCESS)
		snprintf(why, len, "%.200s: cannot compile the signatures: %s",
			 s->path, cl_strerror(rc));
	if (rc != CL_SUCCESS || sigs == 0) {
		cl_engine_free(cl);
		return NULL;
	}
	cl_engine_set_clcb_virus_found(cl, av_found);
	e = xcalloc(1, sizeof(*e));
	e->cl = cl;
	e->sigs = sigs;
	e->version = (unsigned)cl_engine_get_num(cl, CL_ENGINE_DB_VERSION,
						 &err);
	log_info("virus signatures: %u loaded from %s (database version %u) "
		 "in %lld ms, engine about %ld MB", sigs, s->path, e->version,
		 av_now_ms() - t0, (av_rss_kb() - rss0) / 1024);
	if (sigs < AV_FEW_SIGNATURES)
		log_warn("virus signatures: only %u in %s: test signatures "
			 "only, real viruses will pass (install "
			 "clamav-freshclam for the real database)", sigs,
			 s->path);
	return e;
}

/* av_watch - remember the database's state, for av_db_changed() */
static void
av_watch(const char *path)
{
	struct stat st;

	if (av.have_st)
		cl_statfree(&av.st);
	av.have_st = 0;
	av.file_mtime = 0;
	if (stat(path, &st) != 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		av.file_mtime = st.st_mtime;
		return;
	}
	memset(&av.st, 0, sizeof(av.st));
	if (cl_statinidir(path, &av.st) == CL_SUCCESS)
		av.have_st = 1;
}

/* av_db_changed - has the database changed since it was loaded, or
 * (no engine yet) do signatures wait to be loaded */
static int
av_db_changed(const char *path, int have_engine)
{
	struct stat st;
	char why[256];

	if (!have_engine)
		return conf_av_has_signatures(path, why, sizeof(why));
	if (av.have_st)
		return cl_statchkdir(&av.st) == 1;
	return stat(path, &st) == 0 && st.st_mtime != av.file_mtime;
}

/* av_no_engine - say once why there is no engine now */
static void
av_no_engine(const struct av_settings *s, const char *why)
{
	pthread_mutex_lock(&av.lock);
	util_strlcpy(av.why, why, sizeof(av.why));
	pthread_mutex_unlock(&av.lock);
	if (strcmp(av.last_err, why) == 0)
		return;
	util_strlcpy(av.last_err, why, sizeof(av.last_err));
	if (s->required)
		log_err("virus scanning: %s; mail is tempfailed until the "
			"signatures load", why);
	else
		log_warn("virus scanning is off: %s (install clamav-freshclam, "
			 "or set clamav_database)", why);
}

/*
 * av_reload - build a new engine from the settings now and put it in
 * place, as av_reload asks; the old one stays when a concurrent load
 * fails
 */
static void
av_reload(void)
{
	struct av_settings s;
	struct av_engine *fresh, *old = NULL;
	char why[256];

	pthread_mutex_lock(&av.lock);
	s = av.set;
	if (s.off) {
		/* the scan is off now (av = no, or clamd): free the engine */
		old = av.cur;
		av.cur = NULL;
		if (old != NULL && old->refs > 0) {
			old->retired = 1;
			old = NULL;
		}
		av.reloads++;
		util_strlcpy(av.why, "virus scanning in process is off",
			     sizeof(av.why));
		pthread_mutex_unlock(&av.lock);
		if (old != NULL || av.have_st)
			log_info("virus signatures unloaded: the scan in "
				 "process is off");
		av_free(old);
		if (av.have_st)
			cl_statfree(&av.st);
		av.have_st = 0;
		return;
	}
	if (s.reload_mode == AV_RELOAD_BLOCKING && av.cur != NULL) {
		/* new scans wait; the ones in flight finish first */
		av.reloading = 1;
		while (av.cur->refs > 0)
			pthread_cond_wait(&av.changed, &av.lock);
		old = av.cur;
		av.cur = NULL;
		pthread_mutex_unlock(&av.lock);
		av_free(old);
		old = NULL;
		fresh = av_load(&s, why, sizeof(why));
		pthread_mutex_lock(&av.lock);
		av.cur = fresh;
		av.reloading = 0;
		pthread_cond_broadcast(&av.changed);
	} else {
		pthread_mutex_unlock(&av.lock);
		fresh = av_load(&s, why, sizeof(why));
		pthread_mutex_lock(&av.lock);
		if (fresh != NULL) {
			old = av.cur;
			av.cur = fresh;
			if (old != NULL && old->refs > 0) {
				old->retired = 1;	/* its last scan frees it */
				old = NULL;
			}
		}
	}
	av.reloads++;
	pthread_mutex_unlock(&av.lock);
	av_free(old);
	av_watch(s.path);
	if (fresh != NULL) {
		av.last_err[0] = '\0';
		log_info("virus signatures reloaded from %s", s.path);
	} else if (s.reload_mode == AV_RELOAD_CONCURRENT && av.cur != NULL) {
		log_err("virus signatures: reload failed: %s; keeping the "
			"signatures loaded before", why);
	} else {
		av_no_engine(&s, why);
	}
}

/* av_free_retired - free the engines no scan holds any more */
static void
av_free_retired(void)
{
	struct av_engine *list;

	pthread_mutex_lock(&av.lock);
	list = av.retired;
	av.retired = NULL;
	pthread_mutex_unlock(&av.lock);
	while (list != NULL) {
		struct av_engine *next = list->next;

		av_free(list);
		list = next;
	}
}

/* av_deadline - CLOCK_REALTIME plus ms, for pthread_cond_timedwait */
static void
av_deadline(struct timespec *ts, long long ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

/* av_thread_main - reload on request or when the database changed */
static void *
av_thread_main(void *arg)
{
	long long next = av_now_ms() + av.set.interval;

	pthread_mutex_lock(&av.lock);
	while (!av.stop) {
		long long now = av_now_ms();
		int want, have, off;
		char path[sizeof(av.set.path)];

		if (av.retired != NULL) {
			pthread_mutex_unlock(&av.lock);
			av_free_retired();
			pthread_mutex_lock(&av.lock);
			continue;
		}
		if (!av.want && (av.set.interval <= 0 || now < next)) {
			struct timespec ts;

			av_deadline(&ts, av.set.interval > 0 ? next - now :
				    3600 * 1000);
			pthread_cond_timedwait(&av.wake, &av.lock, &ts);
			continue;
		}
		next = now + av.set.interval;
		want = av.want;
		av.want = 0;
		have = av.cur != NULL;
		off = av.set.off;
		util_strlcpy(path, av.set.path, sizeof(path));
		pthread_mutex_unlock(&av.lock);
		if (want || (!off && av_db_changed(path, have)))
			av_reload();
		pthread_mutex_lock(&av.lock);
	}
	pthread_mutex_unlock(&av.lock);
	return NULL;
}

int
av_engine_start(const struct conf *c, char *err, size_t errlen)
{
	struct av_settings s;
	struct av_engine *e;
	char why[256];

	pthread_once(&av_once, av_init);
	if (av_init_rc != CL_SUCCESS) {
		snprintf(err, errlen, "libclamav: cl_init: %s",
			 cl_strerror(av_init_rc));
		return -1;
	}
	av_settings_from(c, &s);
	pthread_mutex_lock(&av.lock);
	av.set = s;
	pthread_mutex_unlock(&av.lock);
	if (!conf_av_has_signatures(s.path, why, sizeof(why)))
		e = NULL;
	else
		e = av_load(&s, why, sizeof(why));
	av_watch(s.path);
	if (e == NULL && s.required) {
		snprintf(err, errlen, "%s:%d: clamav_database %s (set "
			 "av_required = no to start without)", c->path,
			 c->clamav_database_line, why);
		return -1;
	}
	pthread_mutex_lock(&av.lock);
	av_free(av.cur);
	av.cur = e;
	pthread_mutex_unlock(&av.lock);
	if (e == NULL)
		av_no_engine(&s, why);
	return 0;
}

void
av_engine_thread(void)
{
	pthread_mutex_lock(&av.lock);
	if (!av.thread_on) {
		av.stop = 0;
		if (pthread_create(&av.thread, NULL, av_thread_main, NULL) == 0)
			av.thread_on = 1;
		else
			log_err("virus signatures: cannot start the reload "
				"thread: %s", strerror(errno));
	}
	pthread_mutex_unlock(&av.lock);
}

void
av_engine_reconfigure(const struct conf *c)
{
	struct av_settings s;

	av_settings_from(c, &s);
	pthread_mutex_lock(&av.lock);
	av.set = s;
	av.want = 1;
	pthread_cond_signal(&av.wake);
	pthread_mutex_unlock(&av.lock);
}

void
av_engine_stop(void)
{
	pthread_mutex_lock(&av.lock);
	av.stop = 1;
	pthread_cond_broadcast(&av.wake);
	pthread_mutex_unlock(&av.lock);
	if (av.thread_on) {
		pthread_join(av.thread, NULL);
		av.thread_on = 0;
	}
	av_free_retired();
	pthread_mutex_lock(&av.lock);
	av_free(av.cur);
	av.cur = NULL;
	pthread_mutex_unlock(&av.lock);
	if (av.have_st)
		cl_statfree(&av.st);
	av.have_st = 0;
}

int
av_engine_wanted(void)
{
	int yes;

	pthread_mutex_lock(&av.lock);
	yes = av.cur != NULL || av.set.required || av.reloading;
	pthread_mutex_unlock(&av.lock);
	return yes;
}

/* av_acquire - the engine for one scan, or NULL with r filled */
static struct av_engine *
av_acquire(struct av_result *r)
{
	struct av_engine *e;

	pthread_mutex_lock(&av.lock);
	if (av.reloading) {
		struct timespec ts;

		av_deadline(&ts, av.set.reload_wait);
		while (av.reloading &&
		       pthread_cond_timedwait(&av.changed, &av.lock, &ts) == 0)
			;
	}
	if (av.reloading) {
		pthread_mutex_unlock(&av.lock);
		r->status = AV_UNAVAILABLE;
		util_strlcpy(r->name, "the virus signatures are being "
			     "reloaded", sizeof(r->name));
		return NULL;
	}
	if ((e = av.cur) != NULL)
		e->refs++;
	else {
		r->status = AV_UNAVAILABLE;
		snprintf(r->name, sizeof(r->name), "no virus signatures "
			 "loaded: %.200s", av.why);
	}
	pthread_mutex_unlock(&av.lock);
	return e;
}

/* av_release - a scan is done with the engine */
static void
av_release(struct av_engine *e)
{
	int now = 0;

	pthread_mutex_lock(&av.lock);
	if (--e->refs == 0) {
		if (e->retired) {
			if (av.thread_on) {
				e->next = av.retired;
				av.retired = e;
				pthread_cond_signal(&av.wake);
			} else {
				now = 1;
			}
		}
		if (av.reloading)
			pthread_cond_broadcast(&av.changed);
	}
	pthread_mutex_unlock(&av.lock);
	if (now)
		av_free(e);
}

/* av_limit_rc - is this libclamav result a limit reached */
static int
av_limit_rc(cl_error_t rc)
{
	return rc == CL_ETIMEOUT || rc == CL_EMAXREC || rc == CL_EMAXSIZE ||
	    rc == CL_EMAXFILES;
}

/* the prefix and the spool behind it, as one file for libclamav */
struct av_vfile {
	const char		*prefix;
	size_t			plen;
	const struct spool_view	*view;
};

/* av_vread - libclamav's pread on an av_vfile */
static off_t
av_vread(void *handle, void *buf, size_t count, off_t offset)
{
	const struct av_vfile *f = handle;
	size_t off = (size_t)offset, done = 0, total = f->plen + f->view->len;

	if (off >= total)
		return 0;
	if (count > total - off)
		count = total - off;
	if (off < f->plen) {
		size_t n = f->plen - off < count ? f->plen - off : count;

		memcpy(buf, f->prefix + off, n);
		done = n;
		off += n;
	}
	if (done < count) {
		size_t at = off - f->plen, n = count - done;

		if (f->view->data != NULL) {
			memcpy((char *)buf + done, f->view->data + at, n);
		} else {
			ssize_t got = pread(f->view->fd, (char *)buf + done, n,
					    (off_t)at);

			if (got < 0)
				return done > 0 ? (off_t)done : -1;
			n = (size_t)got;
		}
		done += n;
	}
	return (off_t)done;
}

void
av_engine_scan(const struct spool_view *view, const char *prefix,
	       struct av_result *r)
{
	struct av_vfile vf = { prefix, prefix ? strlen(prefix) : 0, view };
	struct cl_scan_options opts;
	struct av_engine *e;
	const char *name = NULL;
	unsigned long scanned = 0;
	cl_error_t rc;

	memset(r, 0, sizeof(*r));
	if ((e = av_acquire(r)) == NULL)
		return;
	/*
	 * every parser (mail, archives, documents); heuristics only for what
	 * cannot be scanned (encrypted, over a limit), reported after a real
	 * virus (no HEURISTIC_PRECEDENCE), never phishing guesses
	 */
	memset(&opts, 0, sizeof(opts));
	opts.general = CL_SCAN_GENERAL_HEURISTICS;
	opts.parse = ~0u;
	opts.heuristic = CL_SCAN_HEURISTIC_ENCRYPTED_ARCHIVE |
	    CL_SCAN_HEURISTIC_ENCRYPTED_DOC | CL_SCAN_HEURISTIC_EXCEEDS_MAX;
	if (view->len == 0) {
		rc = CL_CLEAN;
	} else if (vf.plen > 0) {
		cl_fmap_t *map = cl_fmap_open_handle(&vf, 0, vf.plen + view->len,
						     av_vread, 1);

		if (map == NULL) {
			rc = CL_EMEM;
		} else {
			rc = cl_scanmap_callback(map, NULL, &name, &scanned,
						 e->cl, &opts, r);
			cl_fmap_close(map);
		}
	} else if (view->data != NULL) {
		cl_fmap_t *map = cl_fmap_open_memory(view->data, view->len);

		if (map == NULL) {
			rc = CL_EMEM;
		} else {
			rc = cl_scanmap_callback(map, NULL, &name, &scanned,
						 e->cl, &opts, r);
			cl_fmap_close(map);
		}
	} else {
		rc = cl_scandesc_callback(view->fd, NULL, &name, &scanned,
					  e->cl, &opts, r);
	}
	if (rc == CL_VIRUS) {
		r->status = AV_INFECTED;
		if (name != NULL)
			util_strlcpy(r->name, name, sizeof(r->name));
		else if (r->name[0] == '\0')
			util_strlcpy(r->name, "unnamed", sizeof(r->name));
	} else if (rc == CL_CLEAN) {
		r->status = AV_CLEAN;
	} else if (av_limit_rc(rc)) {
		r->status = AV_LIMIT;
		util_strlcpy(r->name, cl_strerror(rc), sizeof(r->name));
	} else {
		r->status = AV_ERROR;
		snprintf(r->name, sizeof(r->name), "libclamav: %s",
			 cl_strerror(rc));
	}
	av_release(e);
}

void
av_engine_describe(char *buf, size_t len)
{
	unsigned version = 0;

	pthread_mutex_lock(&av.lock);
	if (av.cur != NULL)
		version = av.cur->version;
	pthread_mutex_unlock(&av.lock);
	if (version > 0)
		snprintf(buf, len, "ClamAV %s/%u", cl_retver(), version);
	else
		snprintf(buf, len, "ClamAV %s", cl_retver());
}

unsigned
av_engine_reload_count(void)
{
	unsigned n;

	pthread_mutex_lock(&av.lock);
	n = av.reloads;
	pthread_mutex_unlock(&av.lock);
	return n;
}
