/*
 * fuzz.h - helpers shared by the libFuzzer harnesses in tests/fuzz/.
 *
 * Header-only (static inline functions, so a harness that uses only some
 * of them builds without warnings), so each harness is one translation
 * unit built by scripts/fuzz.  An invariant that does not hold is reported
 * with FZ_CHECK: a message with the harness's file and line on stderr,
 * then abort(), which libFuzzer records as a crash with its input.
 *
 * Scratch files live in one private directory per process, made under
 * $TMPDIR (scripts/fuzz points it at its scratch directory, else /tmp)
 * and removed at exit.
 */
#ifndef RG_FUZZ_H
#define RG_FUZZ_H

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* FZ_CHECK - an invariant; a broken one aborts with its text */
#define FZ_CHECK(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "\n%s:%d: invariant broken: %s: ",	\
			__FILE__, __LINE__, #cond);			\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		abort();						\
	}								\
} while (0)

/* fz_strndup - the input as a C string (cut at its first NUL) */
static inline char *
fz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* fz_hash - FNV-1a over bytes, ASCII case folded: DNS names ignore case */
static inline uint32_t
fz_hash(const char *s, size_t n, uint32_t seed)
{
	uint32_t h = 2166136261u ^ seed;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		h ^= c;
		h *= 16777619u;
	}
	return h;
}

/* fz_printable - only printable ASCII (and, if nl_ok, newlines) */
static inline int
fz_printable(const char *s, size_t n, int nl_ok)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 || c > 0x7e) && !(nl_ok && c == '\n'))
			return 0;
	}
	return 1;
}

/*
 * fz_known - is a known, reported bug listed in RG_FUZZ_KNOWN (words
 * separated by commas or spaces)?  Harnesses then let that one case pass,
 * so a run can look for other bugs until it is fixed.
 */
static inline int
fz_known(const char *name)
{
	const char *k = getenv("RG_FUZZ_KNOWN");
	size_t n = strlen(name);

	for (; k != NULL && *k; k += strcspn(k, ", ")) {
		k += strspn(k, ", ");
		if (strncmp(k, name, n) == 0 && (k[n] == '\0' || k[n] == ',' ||
						  k[n] == ' '))
			return 1;
	}
	return 0;
}

static char fz_dir_path[4096];

/* fz_dir_remove - atexit: remove the private directory and its files */
static inline void
fz_dir_remove(void)
{
	DIR *d;
	struct dirent *e;
	char p[8192];

	if (fz_dir_path[0] == '\0' || (d = opendir(fz_dir_path)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", fz_dir_path, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(fz_dir_path);
}

/* fz_dir - the private scratch directory of this process */
static inline const char *
fz_dir(void)
{
	const char *tmp;

	if (fz_dir_path[0])
		return fz_dir_path;
	tmp = getenv("TMPDIR");
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(fz_dir_path, sizeof(fz_dir_path), "%s/rgfuzz.XXXXXX", tmp);
	if (mkdtemp(fz_dir_path) == NULL) {
		fprintf(stderr, "fuzz: mkdtemp %s: %s\n", fz_dir_path,
			strerror(errno));
		abort();
	}
	atexit(fz_dir_remove);
	return fz_dir_path;
}

/* fz_write_fd - all of it, or abort (a harness problem, not a finding) */
static inline void
fz_write_fd(int fd, const void *data, size_t size, const char *path)
{
	const char *p = data;

	while (size > 0) {
		ssize_t n = write(fd, p, size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "fuzz: write %s: %s\n", path,
				strerror(errno));
			abort();
		}
		p += n;
		size -= (size_t)n;
	}
}

/*
 * fz_temp_file - a new file (mkstemp) in the private directory holding
 * data; its path goes to path (PATH_MAX bytes).  The caller unlinks it.
 */
static inline void
fz_temp_file(const char *stem, const void *data, size_t size, char *path,
	     size_t pathlen)
{
	int fd;

	snprintf(path, pathlen, "%s/%s.XXXXXX", fz_dir(), stem);
	if ((fd = mkstemp(path)) < 0) {
		fprintf(stderr, "fuzz: mkstemp %s: %s\n", path,
			strerror(errno));
		abort();
	}
	fz_write_fd(fd, data, size, path);
	close(fd);
}

/* fz_fixed_file - a file with a fixed name in the private directory */
static inline void
fz_fixed_file(const char *name, const char *text, char *path, size_t pathlen)
{
	FILE *fp;

	snprintf(path, pathlen, "%s/%s", fz_dir(), name);
	if ((fp = fopen(path, "w")) == NULL ||
	    fputs(text, fp) == EOF || fclose(fp) != 0) {
		fprintf(stderr, "fuzz: %s: %s\n", path, strerror(errno));
		abort();
	}
}

/*
 * fz_err_line - does err read "PREFIX:LINE: why"?  Returns LINE, or -1.
 * prefix NULL: any prefix (the last ":DIGITS: " before the text).
 */
static inline long
fz_err_line(const char *err, const char *prefix)
{
	const char *p;
	char *end;
	long line;

	if (prefix != NULL) {
		size_t n = strlen(prefix);

		if (strncmp(err, prefix, n) != 0 || err[n] != ':')
			return -1;
		p = err + n + 1;
	} else {
		/* the first ":DIGITS:" in err */
		for (p = strchr(err, ':'); p != NULL; p = strchr(p + 1, ':'))
			if (p[1] >= '0' && p[1] <= '9' &&
			    p[1 + strspn(p + 1, "0123456789")] == ':')
				break;
		if (p == NULL)
			return -1;
		p++;
	}
	if (*p < '0' || *p > '9')
		return -1;
	line = strtol(p, &end, 10);
	if (*end != ':')
		return -1;
	return line;
}

/* fz_count_lines - physical lines as getline(3) sees them */
static inline long
fz_count_lines(const uint8_t *data, size_t size)
{
	long n = 0;

	for (size_t i = 0; i < size; i++)
		if (data[i] == '\n')
			n++;
	if (size > 0 && data[size - 1] != '\n')
		n++;
	return n;
}

#endif
