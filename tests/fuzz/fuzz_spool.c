/*
 * fuzz_spool - the message spool (policy/mail/spool.c): memory up to
 * spool_memory_max, then an unlinked file, with write faults injected
 * through spool_write_hook.
 *
 * Feeds: byte 0 chooses mem_max (bits 0-2: 0, 1, 100, 8191, 8192, 8193,
 * 65536, 1 MiB; plus bits 3-7 as a small offset), byte 1 the write(2)
 * stand-in (bits 0-2: 0 plain write; 1 at most N bytes a call; 2 EINTR
 * every other call; 3 ENOSPC after N bytes; 4 a zero-byte write after N
 * bytes; 5-7 plain; bits 3-7 give N), the rest is a list of steps, one
 * byte each: below 0xe0 a write of that many bytes, 0xe0-0xf7 a write of
 * (b - 0xdf) * 777 bytes, 0xf8 spool_free() and start again, 0xf9 a read
 * at the offset of the next two bytes, others a write of nothing.  The
 * bytes written are a pattern of their position.  The spool's directory
 * is the harness's private one under $TMPDIR (fuzz.h), removed at exit.
 *
 * Invariants beyond "no crash, no leak":
 *   - without a fault, every write returns 0, len is the bytes written,
 *     the view is memory (data, fd -1; data may be NULL while empty) up
 *     to mem_max and a file (no data, fd >= 0) past it, and spool_read() at any offset gives back exactly
 *     what was written there (0 bytes at or past the end);
 *   - the file is mode 0600 and unlinked: the directory stays empty;
 *   - an injected fault makes the write return -1 with err and why set;
 *     every later write returns -1 and len no longer moves, until
 *     spool_free(), after which the spool is empty and works again;
 *   - spool_free() closes the file.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "spool.h"

#define FZ_SPOOL_TOTAL	(4u << 20)	/* bytes written per input, at most */

static const size_t mem_maxes[8] = {
	0, 1, 100, 8191, 8192, 8193, 65536, 1024 * 1024,
};

static int hook_mode;
static size_t hook_n;		/* the N of byte 1 */
static size_t hook_done;	/* bytes the stand-in wrote so far */
static unsigned hook_calls;

/* fz_write - write(2) with the fault of this input */
static ssize_t
fz_write(int fd, const void *p, size_t len)
{
	ssize_t n;

	hook_calls++;
	switch (hook_mode) {
	case 1:
		if (len > hook_n + 1)
			len = hook_n + 1;
		break;
	case 2:
		if (hook_calls % 2) {
			errno = EINTR;
			return -1;
		}
		break;
	case 3:
		if (hook_done + len > hook_n) {
			errno = ENOSPC;
			return -1;
		}
		break;
	case 4:
		if (hook_done + len > hook_n)
			return 0;
		break;
	}
	n = write(fd, p, len);
	if (n > 0)
		hook_done += (size_t)n;
	return n;
}

/* pattern - the byte written at offset off */
static unsigned char
pattern(size_t off)
{
	return (unsigned char)((off * 131u) ^ (off >> 8) ^ 0x5a);
}

/* dir_empty - no file is left in the spool's directory */
static int
dir_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		abort();
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n == 0;
}

/* check_read - spool_read from off gives back the pattern, or nothing */
static void
check_read(const struct spool *sp, size_t off, size_t want)
{
	static unsigned char buf[70000];

	do {
		size_t len = want < sizeof(buf) ? want : sizeof(buf);
		ssize_t n = spool_read(sp, off, buf, len);
		size_t expect = off >= sp->len ? 0 :
		    (sp->len - off < len ? sp->len - off : len);

		FZ_CHECK(n == (ssize_t)expect,
			 "spool_read(%zu, %zu) of %zu: %zd", off, len, sp->len,
			 n);
		for (size_t i = 0; i < expect; i++)
			FZ_CHECK(buf[i] == pattern(off + i),
				 "spool_read: byte %zu of %zu differs (%s)",
				 off + i, sp->len,
				 sp->fd >= 0 ? "file" : "memory");
		off += len;
		want -= len;
	} while (want > 0 && off < sp->len);
}

/*
 * check_state - the view and the file of a spool without a fault; the
 * bytes from "from" on are checked in memory (the file: by check_read)
 */
static void
check_state(const struct spool *sp, size_t from, size_t written)
{
	struct spool_view v;
	struct stat st;

	spool_view(sp, &v);
	FZ_CHECK(sp->len == written && v.len == written,
		 "len %zu, view %zu, written %zu", sp->len, v.len, written);
	/* an empty spool in memory may have no buffer yet */
	FZ_CHECK((v.data == NULL) == (v.fd >= 0) || (v.len == 0 && v.fd < 0),
		 "view data %p with fd %d", (const void *)v.data, v.fd);
	FZ_CHECK(v.fd >= 0 || written <= sp->mem_max,
		 "%zu bytes in memory past mem_max %zu", written, sp->mem_max);
	FZ_CHECK(v.fd < 0 || written > sp->mem_max,
		 "in a file with %zu bytes, mem_max %zu", written,
		 sp->mem_max);
	if (v.fd >= 0) {
		FZ_CHECK(fstat(v.fd, &st) == 0 && (st.st_mode & 0777) == 0600 &&
			 st.st_nlink == 0 && (size_t)st.st_size == written,
			 "spool file mode %o, %lu links, %lld bytes of %zu",
			 (unsigned)(st.st_mode & 0777),
			 (unsigned long)st.st_nlink, (long long)st.st_size,
			 written);
	} else if (written > 0) {
		for (size_t i = from; i < written; i++)
			FZ_CHECK(v.data[i] == pattern(i),
				 "memory byte %zu of %zu differs", i, written);
	}
}

/* spool_reset - spool_free(), which must close the file */
static void
spool_reset(struct spool *sp)
{
	int fd = sp->fd;

	spool_free(sp);
	FZ_CHECK(fd < 0 || (fcntl(fd, F_GETFD) == -1 && errno == EBADF),
		 "spool_free left fd %d open", fd);
	FZ_CHECK(sp->len == 0 && sp->fd < 0 && sp->mem == NULL && sp->err == 0,
		 "after spool_free: len %zu, fd %d, err %d", sp->len, sp->fd,
		 sp->err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char buf[24 * 777];
	struct spool sp;
	size_t written = 0, total = 0;
	int failed = 0;

	if (size < 2)
		return 0;
	hook_mode = data[1] & 7;
	hook_n = (size_t)(data[1] >> 3) * 997;
	hook_done = 0;
	hook_calls = 0;
	spool_write_hook = hook_mode >= 1 && hook_mode <= 4 ? fz_write : write;
	spool_init(&sp, mem_maxes[data[0] & 7] + (data[0] >> 3), fz_dir());

	for (size_t i = 2; i < size && total < FZ_SPOOL_TOTAL; i++) {
		unsigned b = data[i];
		size_t len = 0;
		int rc;

		if (b == 0xf8) {
			spool_reset(&sp);
			written = 0;
			failed = 0;
			continue;
		}
		if (b == 0xf9) {
			size_t off = 0;

			if (i + 2 < size)
				off = (size_t)data[i + 1] << 8 | data[i + 2];
			i += 2;
			if (!failed)
				check_read(&sp, off, 70000);
			continue;
		}
		if (b < 0xe0)
			len = b;
		else if (b < 0xf8)
			len = (b - 0xdf) * 777;
		for (size_t k = 0; k < len; k++)
			buf[k] = pattern(written + k);
		rc = spool_write(&sp, buf, len);
		total += len;
		if (failed) {
			FZ_CHECK(rc == -1 && sp.len == written,
				 "a write after a failure: %d, len %zu of %zu",
				 rc, sp.len, written);
			continue;
		}
		if (rc != 0) {
			FZ_CHECK(rc == -1 && sp.err != 0 && *sp.why,
				 "failed write: %d, err %d, why \"%s\"", rc,
				 sp.err, sp.why);
			FZ_CHECK(hook_mode == 3 || hook_mode == 4,
				 "write of %zu at %zu failed without a fault: "
				 "%s", len, written, sp.why);
			FZ_CHECK(sp.len == written, "failed write moved len "
				 "from %zu to %zu", written, sp.len);
			failed = 1;
			continue;
		}
		written += len;
		check_state(&sp, written - len, written);
	}
	if (!failed) {
		check_state(&sp, 0, written);
		check_read(&sp, 0, written);
	}
	spool_reset(&sp);
	spool_write_hook = write;
	FZ_CHECK(dir_empty(fz_dir()), "a file left in %s", fz_dir());
	return 0;
}
