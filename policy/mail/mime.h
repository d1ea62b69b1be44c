/*
 * mime - one walk of a message's MIME structure (GMime 3), for the spam
 * engine's rules and tokens and the URI blocklists.
 *
 * The message comes from the transaction's spool (memory or file).  Every
 * text part is decoded (base64, quoted-printable) and converted to UTF-8
 * from its charset (an unknown or broken charset: the bytes are kept as
 * far as they are valid UTF-8, the rest replaced, and the part flagged);
 * HTML parts are reduced to text with their links collected; header
 * fields that the rules read are decoded from RFC 2047.  Everything is
 * bounded by struct mime_limits: past a limit the walk stops where it is
 * and says so (MIME_TRUNCATED); a message that is not MIME at all is one
 * text/plain part.  Never a crash, never a hang, whatever the input.
 */
#ifndef RG_MIME_H
#define RG_MIME_H

#include <stddef.h>

#include "spool.h"
#include "util.h"

struct mime_limits {
	int		max_depth;	/* nesting of multiparts/messages (20) */
	int		max_parts;	/* parts visited (500) */
	size_t		max_text;	/* bytes of decoded text kept, all parts
					   together (1 MB) */
	size_t		max_links;	/* links kept (200) */
};

enum mime_flag {
	MIME_TRUNCATED		= 1 << 0,	/* a limit stopped the walk */
	MIME_BAD_CHARSET	= 1 << 1,	/* unknown charset, or bytes
						   invalid in it */
	MIME_BAD_ENCODING	= 1 << 2,	/* base64/QP that did not decode
						   cleanly */
	MIME_HTML_ONLY		= 1 << 3,	/* HTML and no text/plain */
	MIME_TEXT_HTML_DIFFER	= 1 << 4,	/* a multipart/alternative whose
						   text and HTML twins say
						   different things */
	MIME_NO_BOUNDARY	= 1 << 5,	/* a multipart without boundary,
						   or whose closing boundary
						   never came */
	MIME_NOT_MIME		= 1 << 6,	/* no MIME-Version / plain body */
};

#define MIME_HEADER_KEEP	(32 * 1024)

struct mime_link {
	char	*url;		/* as written, entities decoded */
	char	*host;		/* lower-cased host name or IP literal, "" if
				   none (mailto:, relative) */
};

struct mime_doc {
	/* decoded header fields (UTF-8, RFC 2047 decoded), "" if absent */
	char		*subject;
	char		*from;		/* the whole From field value */
	char		*reply_to;
	long long	date;		/* the Date field, seconds since the
					   epoch ... */
	int		date_state;	/* ... when 1; 0: no Date field; -1:
					   one that does not parse */
	long long	received_date;	/* the date of the topmost Received
					   field that has one, 0 if none */
	/* the message's own header block as received (folded lines and
	 * all, up to MIME_HEADER_KEEP bytes), for header tokens */
	struct sbuf	header;
	/* all text: the text/plain parts, then the text of the HTML parts
	 * that have no text/plain twin, separated by newlines, UTF-8 */
	struct sbuf	text;
	size_t		nparts;		/* leaf parts seen */
	size_t		ntext;		/* text/plain parts */
	size_t		nhtml;		/* text/html parts */
	size_t		nattach;	/* other leaf parts (attachments) */
	int		depth;		/* deepest nesting seen */
	unsigned	flags;		/* enum mime_flag */
	struct mime_link *links;	/* from HTML (href, src) and from text
					   (http://, https://, www.) */
	size_t		nlinks;
};

/* mime_global_init - once per process, before threads (g_mime_init) */
void mime_global_init(void);
/* mime_limits_default - the limits above */
void mime_limits_default(struct mime_limits *);
/*
 * mime_walk - walk the message in view into doc (which it initializes).
 * 0, or -1 when nothing could be parsed (doc then holds what it could:
 * at least empty strings); doc must be freed with mime_doc_free in both
 * cases.  An empty message is a document (0, MIME_NOT_MIME, no part).
 * Thread-safe: GMime objects live for one call (mime_global_init first).
 * GMime's headers stay in mime.c: users of this header need none.
 */
int mime_walk(const struct spool_view *view, const struct mime_limits *,
	      struct mime_doc *doc);
void mime_doc_free(struct mime_doc *);

/*
 * html_to_text - text of an HTML document (tags dropped, block elements
 * as line breaks, script/style/comments dropped, entities decoded to
 * UTF-8), links (a href, img src, area href, form action) appended to
 * links (at most max_links in all); bounded work for any input.
 */
void html_to_text(const char *html, size_t len, struct sbuf *text,
		  struct mime_link **links, size_t *nlinks, size_t max_links);
/*
 * html_link_host - the host of a URL of len bytes, new string: the
 * authority of "scheme://..." or "//...", or a "www." prefix, without
 * userinfo and port, ASCII lower-cased (an IDN as written), an IPv6
 * literal without its brackets; "" when there is none (mailto:, a
 * relative link).  Used for HTML and text links alike.
 */
char *html_link_host(const char *url, size_t len);
/*
 * html_link_add - append the URL (len bytes, as written) and its host to
 * links, unless it is there already, longer than 4096 bytes, holds a
 * NUL, or *nlinks has reached max.
 */
void html_link_add(struct mime_link **links, size_t *nlinks, size_t max,
		   const char *url, size_t len);

#endif
