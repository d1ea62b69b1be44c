/*
 * fuzz_mime - the MIME walk (policy/mail/mime.c, GMime 3) and HTML to
 * text (policy/mail/html.c) on arbitrary bytes.
 *
 * Feeds: byte 0 chooses what and with which limits: bit 0 set, the rest
 * of the input is HTML for html_to_text() (at most (byte 0 >> 1) % 8
 * links); clear, it is a message for mime_walk(), from memory, with the
 * default limits when bit 1 is clear, else small ones (depth 3, parts 8,
 * text 300 bytes, links 3) so the cut-offs are reached often.  The rest
 * is passed with its exact length, not NUL-terminated.
 *
 * Invariants beyond "no crash, no leak, no hang":
 *   - mime_walk returns 0 or -1 and the document is filled either way:
 *     subject, from and reply_to non-NULL, and they and the text valid
 *     UTF-8; the text within max_text, the links within max_links, the
 *     depth within max_depth, the leaf parts within max_parts, the part
 *     counts adding up (ntext + nhtml + nattach == nparts);
 *   - every link (both functions) has a non-empty URL of at most 4096
 *     bytes and a host with no ASCII upper case and no "/", "@" or space;
 *   - html_to_text from valid UTF-8 gives valid UTF-8.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "fuzz.h"
#include "mime.h"

/* utf8_ok - the bytes are well-formed UTF-8 */
static int
utf8_ok(const char *s, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		if ((k = charset_utf8_len((const unsigned char *)s + i, n - i)) == 0)
			return 0;
		i += k;
	}
	return 1;
}

static void
check_links(const struct mime_link *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t ul = strlen(l[i].url);

		FZ_CHECK(ul > 0 && ul <= 4096, "link %zu: url of %zu bytes", i, ul);
		FZ_CHECK(l[i].host != NULL, "link %zu: no host", i);
		for (const char *h = l[i].host; *h; h++)
			FZ_CHECK(!(*h >= 'A' && *h <= 'Z') && *h != '/' &&
				 *h != '@' && *h != ' ',
				 "link %zu: host \"%s\"", i, l[i].host);
	}
}

static void
free_links(struct mime_link *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(l[i].url);
		free(l[i].host);
	}
	free(l);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_limits lim;
	struct mime_doc d;
	struct spool_view v;
	unsigned char *copy;
	int rc;

	if (size < 1)
		return 0;
	copy = malloc(size - 1 + 1);	/* exact: ASan sees reads past it */
	memcpy(copy, data + 1, size - 1);
	if (data[0] & 1) {
		struct sbuf text;
		struct mime_link *links = NULL;
		size_t nlinks = 0, max = (size_t)(data[0] >> 1) % 8;

		sbuf_init(&text);
		html_to_text((const char *)copy, size - 1, &text, &links,
			     &nlinks, max);
		FZ_CHECK(nlinks <= max, "%zu links, max %zu", nlinks, max);
		check_links(links, nlinks);
		if (utf8_ok((const char *)copy, size - 1))
			FZ_CHECK(utf8_ok(text.data ? text.data : "", text.len),
				 "text not UTF-8");
		free_links(links, nlinks);
		sbuf_free(&text);
		free(copy);
		return 0;
	}
	mime_global_init();
	mime_limits_default(&lim);
	if (data[0] & 2) {
		lim.max_depth = 3;
		lim.max_parts = 8;
		lim.max_text = 300;
		lim.max_links = 3;
	}
	v.data = copy;
	v.fd = -1;
	v.len = size - 1;
	rc = mime_walk(&v, &lim, &d);
	FZ_CHECK(rc == 0 || rc == -1, "rc %d", rc);
	FZ_CHECK(d.subject && d.from && d.reply_to, "a header field is NULL");
	FZ_CHECK(utf8_ok(d.subject, strlen(d.subject)), "subject not UTF-8");
	FZ_CHECK(utf8_ok(d.from, strlen(d.from)), "from not UTF-8");
	FZ_CHECK(utf8_ok(d.reply_to, strlen(d.reply_to)), "reply-to not UTF-8");
	FZ_CHECK(utf8_ok(d.text.data ? d.text.data : "", d.text.len),
		 "text not UTF-8");
	FZ_CHECK(d.text.len <= lim.max_text, "text %zu bytes", d.text.len);
	FZ_CHECK(d.nlinks <= lim.max_links, "%zu links", d.nlinks);
	FZ_CHECK(d.depth <= lim.max_depth, "depth %d", d.depth);
	FZ_CHECK(d.nparts <= (size_t)lim.max_parts, "%zu parts", d.nparts);
	FZ_CHECK(d.ntext + d.nhtml + d.nattach == d.nparts,
		 "%zu + %zu + %zu != %zu parts", d.ntext, d.nhtml, d.nattach,
		 d.nparts);
	check_links(d.links, d.nlinks);
	mime_doc_free(&d);
	free(copy);
	return 0;
}
