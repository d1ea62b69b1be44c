/*
 * spool - a message kept once, in memory then in a file (see spool.h).
 *
 * Diagnostics: failures are kept in the spool (errno and a short text)
 * for the caller, which turns them into a verdict and one log line.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool.h"
#include "util.h"

ssize_t (*spool_write_hook)(int, const void *, size_t) = write;

void
spool_init(struct spool *sp, size_t mem_max, const char *dir)
{
	memset(sp, 0, sizeof(*sp));
	sp->mem_max = mem_max;
	sp->dir = dir && *dir ? dir : "/tmp";
	sp->fd = -1;
}

/* spool_fail - remember the first failure, drop what was kept */
static int
spool_fail(struct spool *sp, int err, const char *what)
{
	if (sp->err == 0) {
		sp->err = err ? err : EIO;
		snprintf(sp->why, sizeof(sp->why), "%s: %s", what,
			 strerror(sp->err));
	}
	return -1;
}

/* spool_put - write all of len bytes to the file, or fail */
static int
spool_put(struct spool *sp, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = spool_write_hook(sp->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return spool_fail(sp, errno, "spool write");
		if (n == 0)
			return spool_fail(sp, ENOSPC, "spool short write");
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * spool_spill - move the bytes in memory to a new unlinked file.  The
 * file is created 0600 (mkostemp) and unlinked at once, so nothing is
 * left behind whatever ends the process.
 */
static int
spool_spill(struct spool *sp)
{
	char path[4096];

	if (snprintf(path, sizeof(path), "%s/relayguard-spool.XXXXXX",
		     sp->dir) >= (int)sizeof(path))
		return spool_fail(sp, ENAMETOOLONG, "spool file");
	sp->fd = mkostemp(path, O_CLOEXEC);
	if (sp->fd < 0)
		return spool_fail(sp, errno, "spool file");
	(void)unlink(path);
	(void)fchmod(sp->fd, 0600);
	if (spool_put(sp, sp->mem, sp->len) != 0) {
		/* the copy in memory is still whole: the view stays on it */
		close(sp->fd);
		sp->fd = -1;
		return -1;
	}
	free(sp->mem);
	sp->mem = NULL;
	sp->cap = 0;
	return 0;
}

int
spool_write(struct spool *sp, const void *data, size_t len)
{
	if (sp->err)
		return -1;
	if (len == 0)
		return 0;
	if (sp->fd < 0 && sp->len + len > sp->mem_max &&
	    spool_spill(sp) != 0)
		return -1;
	if (sp->fd >= 0) {
		if (spool_put(sp, data, len) != 0)
			return -1;
	} else {
		if (sp->len + len > sp->cap) {
			size_t cap = sp->cap ? sp->cap : 8192;

			while (cap < sp->len + len)
				cap *= 2;
			if (cap > sp->mem_max && sp->mem_max >= sp->len + len)
				cap = sp->mem_max;
			sp->mem = xrealloc(sp->mem, cap);
			sp->cap = cap;
		}
		memcpy(sp->mem + sp->len, data, len);
	}
	sp->len += len;
	return 0;
}

void
spool_view(const struct spool *sp, struct spool_view *v)
{
	v->data = sp->fd < 0 ? sp->mem : NULL;
	v->fd = sp->fd;
	v->len = sp->len;
}

ssize_t
spool_read(const struct spool *sp, size_t off, void *buf, size_t len)
{
	if (off >= sp->len)
		return 0;
	if (len > sp->len - off)
		len = sp->len - off;
	if (sp->fd < 0) {
		memcpy(buf, sp->mem + off, len);
		return (ssize_t)len;
	}
	return pread(sp->fd, buf, len, (off_t)off);
}

void
spool_free(struct spool *sp)
{
	size_t mem_max = sp->mem_max;
	const char *dir = sp->dir;

	free(sp->mem);
	if (sp->fd >= 0)
		close(sp->fd);
	spool_init(sp, mem_max, dir);
}
