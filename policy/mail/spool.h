/*
 * spool - one message as the MTA sent it, kept once.
 *
 * Header fields with their original spacing and CRLF line ends, the empty
 * line, then the body.  The bytes stay in memory up to a bound; past it
 * they move, once, to an unlinked mode-0600 file in a temporary
 * directory, so memory per transaction is bounded whatever the message.
 * Readers get a read-only view: a pointer and a length, or a file
 * descriptor and a length.  A write that fails (directory missing or
 * full, short write) leaves the spool failed with errno kept; later
 * writes are ignored, so the caller decides once.  Nothing here logs.
 */
#ifndef RG_SPOOL_H
#define RG_SPOOL_H

#include <stddef.h>
#include <sys/types.h>

struct spool {
	unsigned char	*mem;		/* NULL once on disk */
	size_t		len;		/* bytes kept, memory or file */
	size_t		cap;
	size_t		mem_max;	/* spill to a file past this */
	const char	*dir;		/* for the file (not copied) */
	int		fd;		/* -1 while in memory */
	int		err;		/* errno of the failure, 0 if none */
	char		why[128];	/* what failed, for the log */
};

struct spool_view {
	const unsigned char *data;	/* NULL when the spool is a file */
	int		fd;		/* -1 when the spool is in memory */
	size_t		len;
};

/* spool_init - an empty spool; dir must outlive it */
void spool_init(struct spool *, size_t mem_max, const char *dir);
/* spool_write - append bytes; 0, or -1 once the spool has failed */
int spool_write(struct spool *, const void *data, size_t len);
/* spool_view - read-only access to what was kept */
void spool_view(const struct spool *, struct spool_view *);
/* spool_read - copy up to len bytes at off into buf; bytes or -1 */
ssize_t spool_read(const struct spool *, size_t off, void *buf, size_t len);
/* spool_free - release memory and file; the spool can be reused */
void spool_free(struct spool *);

/* test hook: a write(2) stand-in, to inject short writes and ENOSPC */
extern ssize_t (*spool_write_hook)(int, const void *, size_t);

#endif
