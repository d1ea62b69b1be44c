/*
 * check_mime - the MIME walk (policy/mail/mime.c) and HTML to text
 * (policy/mail/html.c): tables of decodings, charsets, RFC 2047 header
 * fields, HTML, link hosts and flags, then hostile messages, each with a
 * time bound generous enough for valgrind.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mime.h"
#include "tests.h"
#include "util.h"

#define HOSTILE_SECS	5.0	/* under valgrind too */

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* walk_lim - walk len bytes of memory with the given limits */
static int
walk_lim(const char *msg, size_t len, const struct mime_limits *lim,
	 struct mime_doc *d)
{
	struct spool_view v = { (const unsigned char *)msg, -1, len };

	return mime_walk(&v, lim, d);
}

/* walk_str - walk a message with the default limits */
static int
walk_str(const char *msg, struct mime_doc *d)
{
	struct mime_limits lim;

	mime_limits_default(&lim);
	return walk_lim(msg, strlen(msg), &lim, d);
}

#define MV "MIME-Version: 1.0\r\n"
#define TP(cs, cte) MV "Content-Type: text/plain; charset=" cs "\r\n" \
	"Content-Transfer-Encoding: " cte "\r\n\r\n"

/* decoding and charsets: the text must contain want; flags set/unset */
static const struct {
	const char	*label, *msg, *want;
	unsigned	set, clear;
} decode_cases[] = {
	{ "base64", TP("utf-8", "base64") "aGVsbG8gd29ybGQ=\r\n", "hello world",
	  0, MIME_BAD_ENCODING | MIME_BAD_CHARSET | MIME_NOT_MIME },
	{ "base64 lines", TP("utf-8", "base64") "aGVsbG8g\r\nd29ybGQ=\r\n",
	  "hello world", 0, MIME_BAD_ENCODING },
	{ "base64 bad byte", TP("utf-8", "base64") "aGVs*bG8gd29ybGQ=\r\n",
	  "hel", MIME_BAD_ENCODING, 0 },
	{ "base64 truncated", TP("utf-8", "base64") "aGVsbG8gd29ybGQ\r\n",
	  "hello wor", MIME_BAD_ENCODING, 0 },
	{ "qp", TP("utf-8", "quoted-printable") "caf=C3=A9 soft=\r\nbreak\r\n",
	  "caf\xc3\xa9 softbreak", 0, MIME_BAD_ENCODING | MIME_BAD_CHARSET },
	/* GMime does not strip the blanks a transport may add after a soft
	 * break's "=" (RFC 2045 6.7 (3)): "a= \t" stays; not flagged */
	{ "qp soft break with blanks", TP("utf-8", "quoted-printable")
	  "a= \t\r\nb\r\n", "a", 0, MIME_BAD_ENCODING },
	{ "qp =ZZ", TP("utf-8", "quoted-printable") "bad=ZZhex\r\n", "bad",
	  MIME_BAD_ENCODING, 0 },
	{ "qp = at end", TP("utf-8", "quoted-printable") "end=", "end",
	  MIME_BAD_ENCODING, 0 },
	{ "iso-8859-1", TP("iso-8859-1", "8bit") "caf\xe9\r\n", "caf\xc3\xa9",
	  0, MIME_BAD_CHARSET },
	{ "latin1 alias", TP("latin1", "8bit") "caf\xe9\r\n", "caf\xc3\xa9",
	  0, MIME_BAD_CHARSET },
	{ "windows-1252", TP("windows-1252", "8bit") "\x93q\x94 \x80\r\n",
	  "\xe2\x80\x9cq\xe2\x80\x9d \xe2\x82\xac", 0, MIME_BAD_CHARSET },
	{ "koi8-r", TP("koi8-r", "8bit") "\xf0\xd2\xc9\xd7\xc5\xd4\r\n",
	  "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", 0,
	  MIME_BAD_CHARSET },
	{ "shift_jis", TP("Shift_JIS", "8bit")
	  "\x82\xb1\x82\xf1\x82\xc9\x82\xbf\x82\xcd\r\n",
	  "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf", 0,
	  MIME_BAD_CHARSET },
	{ "iso-2022-jp", TP("ISO-2022-JP", "7bit")
	  "\x1b$B$3$s$K$A$O\x1b(B ok\r\n",
	  "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf ok", 0,
	  MIME_BAD_CHARSET },
	{ "iso-2022-jp broken escape", TP("ISO-2022-JP", "7bit")
	  "\x1b$B$3$s\x1b(Zxx\x1b$\r\n", "\xe3\x81\x93\xe3\x82\x93",
	  MIME_BAD_CHARSET, 0 },
	{ "utf-8", TP("utf-8", "8bit") "\xc3\xa9t\xc3\xa9\r\n", "\xc3\xa9t\xc3\xa9",
	  0, MIME_BAD_CHARSET },
	{ "utf-8 invalid bytes", TP("utf-8", "8bit") "ok \xff\xfe\xc0\xaf end\r\n",
	  "ok \xef\xbf\xbd\xef\xbf\xbd", MIME_BAD_CHARSET, 0 },
	{ "x-unknown", TP("x-unknown", "8bit") "plain ascii \xe9\r\n",
	  "plain ascii \xef\xbf\xbd", MIME_BAD_CHARSET, 0 },
	{ "empty charset", TP("\"\"", "8bit") "text\r\n", "text",
	  MIME_BAD_CHARSET, 0 },
	{ "charset injection", TP("\"utf-8//TRANSLIT\"", "8bit") "text\r\n",
	  "text", MIME_BAD_CHARSET, 0 },
	{ "no charset, latin-1 bytes", MV "Content-Type: text/plain\r\n\r\n"
	  "caf\xe9\r\n", "caf\xc3\xa9", 0, MIME_BAD_CHARSET },
	{ "no charset, utf-8", MV "Content-Type: text/plain\r\n\r\n"
	  "caf\xc3\xa9\r\n", "caf\xc3\xa9", 0, MIME_BAD_CHARSET },
	{ "NUL bytes", "Subject: a\r\n\r\nhello\0world\r\n", "hello", 0, 0 },
	{ "not mime", "Subject: hi\r\n\r\njust text\r\n", "just text",
	  MIME_NOT_MIME, MIME_HTML_ONLY },
};

START_TEST(test_decode)
{
	struct mime_doc d;
	const char *msg = decode_cases[_i].msg;

	ck_assert_int_eq(walk_str(msg, &d), 0);
	ck_assert_msg(strstr(d.text.data, decode_cases[_i].want) != NULL,
		      "%s: text \"%s\"", decode_cases[_i].label, d.text.data);
	ck_assert_msg((d.flags & decode_cases[_i].set) == decode_cases[_i].set,
		      "%s: flags %#x", decode_cases[_i].label, d.flags);
	ck_assert_msg((d.flags & decode_cases[_i].clear) == 0,
		      "%s: flags %#x", decode_cases[_i].label, d.flags);
	ck_assert_uint_eq(d.ntext, 1);
	mime_doc_free(&d);
}
END_TEST

START_TEST(test_nul_bytes)
{
	static const char msg[] = "Subject: a\r\n\r\nhello\0world\r\n";
	struct mime_limits lim;
	struct mime_doc d;

	mime_limits_default(&lim);
	ck_assert_int_eq(walk_lim(msg, sizeof(msg) - 1, &lim, &d), 0);
	ck_assert_str_eq(d.text.data, "hello world\n");
	mime_doc_free(&d);
}
END_TEST

/* header fields: RFC 2047 and folding */
static const struct {
	const char	*label, *field, *subject;
} subject_cases[] = {
	{ "plain", "Subject: hello\r\n", "hello" },
	{ "b utf-8", "Subject: =?UTF-8?B?w6l0w6k=?=\r\n", "\xc3\xa9t\xc3\xa9" },
	{ "q latin-1", "Subject: =?ISO-8859-1?Q?caf=E9_au_lait?=\r\n",
	  "caf\xc3\xa9 au lait" },
	{ "koi8-r", "Subject: =?koi8-r?B?8NLJ18XU?=\r\n",
	  "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82" },
	{ "iso-2022-jp", "Subject: =?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?=\r\n",
	  "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf" },
	{ "adjacent words joined", "Subject: =?utf-8?q?a?= =?utf-8?q?b?=\r\n",
	  "ab" },
	{ "folded", "Subject: Hello\r\n world\r\n", "Hello world" },
	{ "folding nightmare", "Subject:\r\n \r\n\t\r\n =?utf-8?q?a?=\r\n"
	  "   \r\n\t=?utf-8?q?b?= c\r\n", "ab c" },
	{ "unknown charset word", "Subject: =?x-bogus?q?abc?=\r\n", NULL },
	{ "8-bit raw", "Subject: caf\xc3\xa9\r\n", "caf\xc3\xa9" },
	{ "absent", "X-Other: 1\r\n", "" },
};

START_TEST(test_subject)
{
	struct sbuf m;
	struct mime_doc d;

	sbuf_init(&m);
	sbuf_printf(&m, "From: =?utf-8?q?J=C3=B6rg?= <j@example.com>\r\n"
		    "Reply-To: r@example.net\r\n%s\r\nbody\r\n",
		    subject_cases[_i].field);
	ck_assert_int_eq(walk_str(m.data, &d), 0);
	if (subject_cases[_i].subject != NULL)
		ck_assert_msg(strstr(d.subject, subject_cases[_i].subject) != NULL,
			      "%s: subject \"%s\"", subject_cases[_i].label,
			      d.subject);
	ck_assert_ptr_nonnull(strstr(d.from, "J\xc3\xb6rg"));
	ck_assert_ptr_nonnull(strstr(d.from, "j@example.com"));
	ck_assert_str_eq(d.reply_to, "r@example.net");
	mime_doc_free(&d);
	sbuf_free(&m);
}
END_TEST

/* html_to_text: exact text, and the links as "url host|url host" */
static const struct {
	const char	*label, *html, *text, *links;
} html_cases[] = {
	{ "basic entities", "a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;",
	  "a & b <c> \"d\" 'e'", "" },
	{ "latin-1 entities", "caf&eacute; &copy; &euro; &Uuml;ber &szlig;",
	  "caf\xc3\xa9 \xc2\xa9 \xe2\x82\xac \xc3\x9c" "ber \xc3\x9f", "" },
	{ "numeric", "&#65;&#x42;&#X43;&#0;&#x110000;&#xD800;&#99999999999;",
	  "ABC\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "" },
	{ "numeric windows-1252", "&#150;&#128;", "\xe2\x80\x93\xe2\x82\xac", "" },
	{ "no semicolon", "&amp &lt;x &eacute x", "& <x &eacute x", "" },
	{ "unknown entity", "&bogus; & &#; &#x;", "&bogus; & &#; &#x;", "" },
	{ "nbsp", "a&nbsp;&nbsp;b", "a b", "" },
	{ "blocks", "a<br>b<br/>c<div>d</div>e<li>f<h1>g</h1>h",
	  "a\nb\nc\nd\ne\nf\ng\nh", "" },
	{ "paragraphs", "<p>one</p><p>two</p>", "one\n\ntwo", "" },
	{ "table", "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>",
	  "a b\nc", "" },
	{ "white space", "  a \r\n\t b  ", "a b", "" },
	{ "script and style", "x<script type=\"t\">var s='<b>hi</b>';</script>y"
	  "<STYLE>p { color: red }</STYLE>z", "xyz", "" },
	{ "script unclosed", "x<script>never closed <b>", "x", "" },
	{ "comment", "a<!-- hidden <b>x</b> -->b<!-- unclosed", "ab", "" },
	{ "declaration", "<!DOCTYPE html><?xml x?>text", "text", "" },
	{ "lone lt", "1 < 2 and <3 <", "1 < 2 and <3 <", "" },
	{ "a href", "<a href=\"http://User:pw@Example.COM:8080/x\">click</a>",
	  "click", "http://User:pw@Example.COM:8080/x example.com" },
	{ "unquoted", "<a href=http://a.example/p?q=1>t</a>", "t",
	  "http://a.example/p?q=1 a.example" },
	{ "single quotes, img", "<img src='//CDN.example.net/i.png' alt=x>", "",
	  "//CDN.example.net/i.png cdn.example.net" },
	{ "form action ipv6", "<form action=\"https://[2001:DB8::1]:443/p\">",
	  "", "https://[2001:DB8::1]:443/p 2001:db8::1" },
	{ "ipv4", "<a href='http://192.0.2.1/'>", "", "http://192.0.2.1/ 192.0.2.1" },
	{ "mailto", "<a href=\"mailto:a@b.example\">m</a>", "m",
	  "mailto:a@b.example " },
	{ "relative", "<a href=\"/local/page\">r</a>", "r", "/local/page " },
	{ "entities in href", "<a href=\"http://x.test/?a=1&amp;b=2\">",
	  "", "http://x.test/?a=1&b=2 x.test" },
	{ "href with blanks", "<a href=\"  http://y.test/  \">", "",
	  "http://y.test/ y.test" },
	{ "duplicates once", "<a href=http://d.test/>1</a><a href=http://d.test/>2</a>",
	  "12", "http://d.test/ d.test" },
	{ "uppercase tag", "<A HREF=\"HTTP://UP.TEST\">u</A>", "u",
	  "HTTP://UP.TEST up.test" },
	{ "area", "<map><area href=\"http://area.test/\"></map>", "",
	  "http://area.test/ area.test" },
	{ "href at eof", "text<a href=x", "text", "x " },
	{ "quote at eof", "text<a href=\"http://q.test/", "text",
	  "http://q.test/ q.test" },
	{ "tag at eof", "text<b", "text", "" },
	{ "attr without value", "<input disabled href = \"http://s.test\">", "",
	  "http://s.test s.test" },
	{ "idn as is", "<a href=\"http://B\xc3\xbc" "cher.Example/\">", "",
	  "http://B\xc3\xbc" "cher.Example/ b\xc3\xbc" "cher.example" },
	{ "empty", "", "", "" },
};

/* links_str - the links as "url host|url host" */
static void
links_str(struct sbuf *b, const struct mime_link *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sbuf_printf(b, "%s%s %s", i ? "|" : "", l[i].url, l[i].host);
}

/* links_free - what html_to_text kept */
static void
links_free(struct mime_link *links, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(links[i].url);
		free(links[i].host);
	}
	free(links);
}

START_TEST(test_html)
{
	struct sbuf text, ls;
	struct mime_link *links = NULL;
	size_t nlinks = 0;
	const char *h = html_cases[_i].html;

	sbuf_init(&text);
	sbuf_init(&ls);
	html_to_text(h, strlen(h), &text, &links, &nlinks, 10);
	links_str(&ls, links, nlinks);
	ck_assert_msg(strcmp(text.data ? text.data : "", html_cases[_i].text) == 0,
		      "%s: text \"%s\"", html_cases[_i].label, text.data);
	ck_assert_msg(strcmp(ls.data ? ls.data : "", html_cases[_i].links) == 0,
		      "%s: links \"%s\"", html_cases[_i].label, ls.data);
	links_free(links, nlinks);
	sbuf_free(&text);
	sbuf_free(&ls);
}
END_TEST

/* found by fuzz_mime: a NUL in a value made a link with an empty URL */
START_TEST(test_html_nul)
{
	static const char h[] = "<a href=\"\0x\">t\0u</a><a href=http://ok.test>";
	struct sbuf text;
	struct mime_link *links = NULL;
	size_t nlinks = 0;

	sbuf_init(&text);
	html_to_text(h, sizeof(h) - 1, &text, &links, &nlinks, 10);
	ck_assert_str_eq(text.data, "t u");
	ck_assert_uint_eq(nlinks, 1);
	ck_assert_str_eq(links[0].host, "ok.test");
	links_free(links, nlinks);
	sbuf_free(&text);
}
END_TEST

START_TEST(test_html_max_links)
{
	struct sbuf html, text;
	struct mime_link *links = NULL;
	size_t nlinks = 0;

	sbuf_init(&html);
	sbuf_init(&text);
	for (int i = 0; i < 1000; i++)
		sbuf_printf(&html, "<a href=\"http://h%d.test/\">%d</a> ", i, i);
	html_to_text(html.data, html.len, &text, &links, &nlinks, 7);
	ck_assert_uint_eq(nlinks, 7);
	ck_assert_str_eq(links[6].host, "h6.test");
	links_free(links, nlinks);
	sbuf_free(&html);
	sbuf_free(&text);
}
END_TEST

/* link hosts */
static const struct {
	const char	*url, *host;
} host_cases[] = {
	{ "http://example.com", "example.com" },
	{ "https://WWW.Example.COM/path?q#f", "www.example.com" },
	{ "http://user:pass@host.test:8080/", "host.test" },
	{ "http://a@b@c.test/", "c.test" },
	{ "http://host.test.:80", "host.test" },
	{ "http://[::1]:25/", "::1" },
	{ "http://[2001:db8::1", "2001:db8::1" },
	{ "http://10.0.0.1:8080", "10.0.0.1" },
	{ "ftp://files.test/x", "files.test" },
	{ "//proto.relative/x", "proto.relative" },
	{ "www.NoScheme.test/x", "www.noscheme.test" },
	{ "http://host.test\\evil.test/", "host.test" },
	{ "http://xn--bcher-kva.example/", "xn--bcher-kva.example" },
	{ "mailto:a@b.test", "" },
	{ "javascript:alert(1)", "" },
	{ "/relative", "" },
	{ "page.html", "" },
	{ "http://", "" },
	{ "", "" },
};

START_TEST(test_link_host)
{
	const char *u = host_cases[_i].url;
	char *h = html_link_host(u, strlen(u));

	ck_assert_msg(strcmp(h, host_cases[_i].host) == 0, "%s: \"%s\"", u, h);
	free(h);
}
END_TEST

/* structures and flags */
#define ALT(b) MV "Content-Type: multipart/alternative; boundary=" b "\r\n\r\n"
START_TEST(test_html_only)
{
	struct mime_doc d;

	ck_assert_int_eq(walk_str(ALT("b")
	    "--b\r\nContent-Type: text/html\r\n\r\n<p>Buy <b>now</b></p>"
	    "<a href=\"http://Spam.test/x\">here</a>\r\n--b--\r\n", &d), 0);
	ck_assert_uint_eq(d.nhtml, 1);
	ck_assert_uint_eq(d.ntext, 0);
	ck_assert(d.flags & MIME_HTML_ONLY);
	ck_assert(!(d.flags & MIME_NOT_MIME));
	ck_assert_ptr_nonnull(strstr(d.text.data, "Buy now"));
	ck_assert_uint_eq(d.nlinks, 1);
	ck_assert_str_eq(d.links[0].host, "spam.test");
	ck_assert_int_eq(d.depth, 1);
	mime_doc_free(&d);
}
END_TEST

START_TEST(test_twins_agree)
{
	struct mime_doc d;

	ck_assert_int_eq(walk_str(ALT("b")
	    "--b\r\nContent-Type: text/plain\r\n\r\nHello Bob, the meeting is at noon.\r\n"
	    "--b\r\nContent-Type: text/html\r\n\r\n<p>Hello <b>Bob</b>, the meeting"
	    " is at <i>noon</i>.</p>\r\n--b--\r\n", &d), 0);
	ck_assert(!(d.flags & (MIME_TEXT_HTML_DIFFER | MIME_HTML_ONLY)));
	/* the HTML twin's text is not repeated */
	ck_assert_str_eq(d.text.data, "Hello Bob, the meeting is at noon.");
	mime_doc_free(&d);
}
END_TEST

START_TEST(test_twins_differ)
{
	struct mime_doc d;

	ck_assert_int_eq(walk_str(ALT("b")
	    "--b\r\nContent-Type: text/plain\r\n\r\nHello Bob, the meeting is at noon.\r\n"
	    "--b\r\nContent-Type: text/html\r\n\r\n<p>Cheap pills, best prices online,"
	    " order today</p>\r\n--b--\r\n", &d), 0);
	ck_assert(d.flags & MIME_TEXT_HTML_DIFFER);
	mime_doc_free(&d);
}
END_TEST

START_TEST(test_structure)
{
	struct mime_doc d;

	ck_assert_int_eq(walk_str(MV
	    "Subject: outer\r\nContent-Type: multipart/mixed; boundary=\"o\"\r\n\r\n"
	    "preamble\r\n--o\r\nContent-Type: text/plain\r\n\r\nfirst www.Example.org/a.\r\n"
	    "--o\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
	    "JVBERi0=\r\n"
	    "--o\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\n"
	    "attached text\r\n"
	    "--o\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n" MV
	    "Content-Type: text/plain\r\n\r\ninner text https://Inner.test:8443/p\r\n"
	    "--o--\r\nepilogue\r\n", &d), 0);
	ck_assert_str_eq(d.subject, "outer");
	ck_assert_uint_eq(d.nparts, 4);
	ck_assert_uint_eq(d.ntext, 2);
	ck_assert_uint_eq(d.nattach, 2);
	ck_assert_int_eq(d.depth, 2);
	ck_assert_ptr_nonnull(strstr(d.text.data, "first"));
	ck_assert_ptr_nonnull(strstr(d.text.data, "inner text"));
	ck_assert_ptr_null(strstr(d.text.data, "attached"));
	ck_assert_ptr_null(strstr(d.text.data, "preamble"));
	ck_assert_uint_eq(d.nlinks, 2);
	ck_assert_str_eq(d.links[0].url, "www.Example.org/a");
	ck_assert_str_eq(d.links[0].host, "www.example.org");
	ck_assert_str_eq(d.links[1].host, "inner.test");
	ck_assert_int_eq(d.flags & ~0u, 0);
	mime_doc_free(&d);
}
END_TEST

START_TEST(test_text_links)
{
	struct mime_doc d;

	ck_assert_int_eq(walk_str("Subject: l\r\n\r\n"
	    "see http://A.test/x, (https://b.test/y) and www.c.test.\r\n"
	    "not xhttp://d.test nor www. nor email@www.e.test\r\n", &d), 0);
	ck_assert(d.flags & MIME_NOT_MIME);
	ck_assert_uint_eq(d.nlinks, 3);
	ck_assert_str_eq(d.links[0].url, "http://A.test/x");
	ck_assert_str_eq(d.links[0].host, "a.test");
	ck_assert_str_eq(d.links[1].url, "https://b.test/y");
	ck_assert_str_eq(d.links[2].host, "www.c.test");
	mime_doc_free(&d);
}
END_TEST

/* a file spool: read from the start whatever the descriptor's offset */
START_TEST(test_file_view)
{
	const char *p = write_file("mime.eml", "Subject: file\r\n\r\nfrom a file\r\n");
	struct spool_view v = { NULL, -1, 0 };
	struct mime_limits lim;
	struct mime_doc d;
	int fd = open(p, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	v.fd = fd;
	v.len = (size_t)lseek(fd, 0, SEEK_END);
	mime_limits_default(&lim);
	ck_assert_int_eq(mime_walk(&v, &lim, &d), 0);
	ck_assert_str_eq(d.subject, "file");
	ck_assert_str_eq(d.text.data, "from a file\n");
	ck_assert_int_eq(lseek(fd, 0, SEEK_CUR), (off_t)v.len);
	mime_doc_free(&d);
	close(fd);
	unlink(p);
}
END_TEST

START_TEST(test_max_text)
{
	struct mime_limits lim;
	struct mime_doc d;
	const char *msg = ALT("b")
	    "--b\r\nContent-Type: text/plain\r\n\r\n0123456789abcdefghij\r\n"
	    "--b\r\nContent-Type: text/plain\r\n\r\nsecond\r\n--b--\r\n";

	mime_limits_default(&lim);
	lim.max_text = 10;
	ck_assert_int_eq(walk_lim(msg, strlen(msg), &lim, &d), 0);
	ck_assert(d.flags & MIME_TRUNCATED);
	ck_assert_uint_le(d.text.len, 10);
	mime_doc_free(&d);
}
END_TEST

/* --- hostile messages ------------------------------------------------- */

/* hostile - walk b with lim; no crash, and within HOSTILE_SECS */
static int
hostile(const struct sbuf *b, const struct mime_limits *lim,
	struct mime_doc *d)
{
	struct mime_limits def;
	double t = now();
	int rc;

	if (lim == NULL) {
		mime_limits_default(&def);
		lim = &def;
	}
	rc = walk_lim(b->data ? b->data : "", b->len, lim, d);
	t = now() - t;
	ck_assert_msg(t < HOSTILE_SECS, "took %.2f s", t);
	ck_assert_ptr_nonnull(d->subject);
	ck_assert_ptr_nonnull(d->from);
	ck_assert_ptr_nonnull(d->reply_to);
	ck_assert_uint_le(d->text.len, lim->max_text);
	ck_assert_uint_le(d->nlinks, lim->max_links);
	ck_assert_int_le(d->depth, lim->max_depth);
	ck_assert_uint_le(d->nparts, (size_t)lim->max_parts);
	return rc;
}

/* nest - n multiparts, each inside the one before */
static void
nest(struct sbuf *b, int n)
{
	sbuf_puts(b, MV "Subject: deep\r\n");
	for (int i = 0; i < n; i++)
		sbuf_printf(b, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n"
			    "\r\n--b%d\r\n", i, i);
	sbuf_puts(b, "Content-Type: text/plain\r\n\r\nat the bottom\r\n");
	for (int i = n - 1; i >= 0; i--)
		sbuf_printf(b, "--b%d--\r\n", i);
}

START_TEST(test_nesting_1000)
{
	struct sbuf b;
	struct mime_doc d;

	sbuf_init(&b);
	nest(&b, 1000);
	ck_assert_int_eq(hostile(&b, NULL, &d), 0);
	ck_assert(d.flags & MIME_TRUNCATED);
	ck_assert_int_eq(d.depth, 20);
	ck_assert_str_eq(d.subject, "deep");
	mime_doc_free(&d);
	sbuf_free(&b);
}
END_TEST

/* with limits that let GMime see it all: its own nesting limit holds */
START_TEST(test_nesting_1000_unlimited)
{
	struct mime_limits lim;
	struct sbuf b;
	struct mime_doc d;

	mime_limits_default(&lim);
	lim.max_depth = 2000;
	lim.max_parts = 3000;
	sbuf_init(&b);
	nest(&b, 1000);
	ck_assert_int_eq(hostile(&b, &lim, &d), 0);
	ck_assert_int_eq(d.depth, 1000);
	ck_assert_str_eq(d.text.data, "at the bottom");
	mime_doc_free(&d);
	sbuf_reset(&b);
	nest(&b, 1500);		/* past GMime's limit (1024 levels) */
	ck_assert_int_eq(hostile(&b, &lim, &d), 0);
	ck_assert(d.flags & MIME_TRUNCATED);
	mime_doc_free(&d);
	sbuf_free(&b);
}
END_TEST

START_TEST(test_missing_boundary)
{
	struct sbuf b;
	struct mime_doc d;

	sbuf_init(&b);
	sbuf_puts(&b, MV "Content-Type: multipart/mixed\r\n\r\n--x\r\n"
		  "Content-Type: text/plain\r\n\r\nhidden?\r\n--x--\r\n");
	ck_assert_int_eq(hostile(&b, NULL, &d), 0);
	ck_assert(d.flags & MIME_NO_BOUNDARY);
	mime_doc_free(&d);
	sbuf_free(&b);
}
END_TEST

START_TEST(test_boundary_never_closes)
{
	struct sbuf b;
	struct mime_doc d;

	sbuf_init(&b);
	sbuf_puts(&b, MV "Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n"
		  "Content-Type: text/plain\r\n\r\nstill read\r\n");
	ck_assert_int_eq(hostile(&b, NULL, &d), 0);
	ck_assert(d.flags & MIME_NO_BOUNDARY);
	ck_assert_ptr_nonnull(strstr(d.text.data, "still read"));
	mime_doc_free(&d);
	sbuf_free(&b);
}
END_TEST

START_TEST(test_endless_boundaries)
{
	struct sbuf b;
	struct mime_doc d;

	sbuf_init(&b);
	sbuf_puts(&b, MV "Content-Type: multipart/mixed; boundary=b\r\n\r\n");
	for (int i = 0; i < 100000; i++)
		sbuf_puts(&b, "--b\r\n\r\n");
	sbuf_puts(&b, "--b--\r\n");
	ck_assert_int_eq(hostile(&b, NULL, &d), 0);
	ck_assert(d.flags & MIME_TRUNCATED);
	mime_doc_free(&d);
	sbuf_free(&b);
}
END_TEST

#define BIG	(40u * 1024 * 1024)

START_TEST(test_40mb_line)
{
	struct sbuf b;
	struct mime_doc d;
	char *line = xmalloc(BIG);

	memset(line, 'a', BIG);
	for (size_t i = 0; i < BIG; i += 9)
		line[i] = ' ';
	sbuf_init(&b);
	sbuf_puts(&b, "Subject: long\r\n\r\n");
	sbuf_append(&b, line, BIG);
	ck_assert_int_eq(hostile(&b, NULL, &d), 0);
	ck_assert(d.flags & MIME_TRUNCATED);
	ck_assert_str_eq(d.subject, "long");
	mime_doc_free(&d);
	/* the same line as a header field */
	sbuf_reset(&b);
	sbuf_puts(&b, "From: a@b.test\r\nSubject: ");
	sbuf_append(&b, line, BIG);
	sbuf_puts(&b, "\r\n\r\nbody\r\n");
	ck_assert_int_eq(hostile(&b, NULL, &d), 0);
	ck_assert(d.flags & MIME_TRUNCATED);
	ck_assert_str_eq(d.subject, "");
	mime_doc_free(&d);
	free(line);
	sbuf_free(&b);
}
END_TEST

START_TEST(test_huge_base64)
{
	struct sbuf b;
	struct mime_doc d;

	sbuf_init(&b);
	sbuf_puts(&b, TP("utf-8", "base64"));
	while (b.len < BIG)
		sbuf_puts(&b, "SGVsbG8gd29ybGQsIGhlbGxvIHdvcmxkLCBoZWxsbyB3b3JsZCwgaGVsbG8gd29ybGQh\r\n");
	ck_assert_int_eq(hostile(&b, NULL, &d), 0);
	ck_assert(d.flags & MIME_TRUNCATED);
	ck_assert_ptr_nonnull(strstr(d.text.data, "Hello world, hello"));
	mime_doc_free(&d);
	sbuf_free(&b);
}
END_TEST

START_TEST(test_small_hostile)
{
	static const char *const msgs[] = {
		"",
		"\r\n",
		"Subject: only headers\r\nFrom: a@b.test\r\n",
		"Subject: only headers, no newline",
		"no colon at all, a line of text\r\nand another\r\n",
		":\r\n:\r\n\r\n",
		"Subject: x\r\n \r\n\t\r\n \r\n\r\n\r\n",
		"Subject: bare\rCR\r\n\r\nbody\rwith CR\r\n",
		MV "Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n\r\n----\r\n",
		MV "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b--\r\n",
		MV "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n--b\r\n--b--\r\n",
		MV "Content-Type: message/rfc822\r\n\r\n",
		MV "Content-Type: message/rfc822\r\n\r\n" MV "Content-Type: message/rfc822\r\n\r\n",
		MV "Content-Type: text/html\r\n\r\n<a href=",
		MV "Content-Type: text/plain; charset=utf-16\r\n\r\n\xff\xfe" "a",
		MV "Content-Type: text/plain; charset=utf-7\r\n\r\n+AGEAYgBj-+\r\n",
		MV "Content-Type: /\r\n\r\nx\r\n",
		MV "Content-Type: text/plain\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 a\r\n#86)C\r\n`\r\nend\r\n",
		MV "Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n====\r\n",
		MV "Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=\r\n=\r\n=",
		"Subject: =?utf-8?b?====?= =?utf-8?q?=ZZ?= =?\r\n\r\n",
	};
	struct sbuf b;
	struct mime_doc d;

	sbuf_init(&b);
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		sbuf_reset(&b);
		sbuf_puts(&b, msgs[i]);
		(void)hostile(&b, NULL, &d);
		mime_doc_free(&d);
	}
	sbuf_free(&b);
}
END_TEST

START_TEST(test_empty_message)
{
	struct sbuf b;
	struct mime_doc d;

	sbuf_init(&b);
	ck_assert_int_eq(hostile(&b, NULL, &d), 0);
	ck_assert_str_eq(d.subject, "");
	ck_assert_uint_eq(d.text.len, 0);
	mime_doc_free(&d);
	sbuf_puts(&b, "Subject: only headers\r\nFrom: a@b.test\r\n");
	ck_assert_int_eq(hostile(&b, NULL, &d), 0);
	ck_assert_str_eq(d.subject, "only headers");
	mime_doc_free(&d);
	sbuf_free(&b);
}
END_TEST

START_TEST(test_many_fields)
{
	struct sbuf b;
	struct mime_doc d;

	sbuf_init(&b);
	for (int i = 0; i < 10000; i++)
		sbuf_printf(&b, "X-Field-%d: value %d\r\n", i, i);
	sbuf_puts(&b, "Subject: last\r\n");
	/* and one field folded 10000 times */
	sbuf_puts(&b, "X-Folded: a");
	for (int i = 0; i < 10000; i++)
		sbuf_puts(&b, "\r\n b");
	sbuf_puts(&b, "\r\n\r\nbody\r\n");
	ck_assert_int_eq(hostile(&b, NULL, &d), 0);
	ck_assert_str_eq(d.subject, "last");
	ck_assert_str_eq(d.text.data, "body\n");
	mime_doc_free(&d);
	sbuf_free(&b);
}
END_TEST

START_TEST(test_many_links)
{
	struct sbuf b;
	struct mime_doc d;

	sbuf_init(&b);
	sbuf_puts(&b, MV "Content-Type: text/html\r\n\r\n");
	for (int i = 0; i < 100000; i++)
		sbuf_printf(&b, "<a href=http://x%d.test/>", i % 50000);
	ck_assert_int_eq(hostile(&b, NULL, &d), 0);
	ck_assert_uint_eq(d.nlinks, 200);
	mime_doc_free(&d);
	sbuf_free(&b);
}
END_TEST

Suite *
mime_suite(void)
{
	Suite *s = suite_create("mime");
	TCase *tc = tcase_create("tables");

	mime_global_init();
	tcase_add_loop_test(tc, test_decode, 0,
			    sizeof(decode_cases) / sizeof(decode_cases[0]));
	tcase_add_test(tc, test_nul_bytes);
	tcase_add_loop_test(tc, test_subject, 0,
			    sizeof(subject_cases) / sizeof(subject_cases[0]));
	tcase_add_loop_test(tc, test_html, 0,
			    sizeof(html_cases) / sizeof(html_cases[0]));
	tcase_add_test(tc, test_html_nul);
	tcase_add_test(tc, test_html_max_links);
	tcase_add_loop_test(tc, test_link_host, 0,
			    sizeof(host_cases) / sizeof(host_cases[0]));
	tcase_add_test(tc, test_html_only);
	tcase_add_test(tc, test_twins_agree);
	tcase_add_test(tc, test_twins_differ);
	tcase_add_test(tc, test_structure);
	tcase_add_test(tc, test_text_links);
	tcase_add_test(tc, test_file_view);
	tcase_add_test(tc, test_max_text);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_set_timeout(tc, 60);	/* the bound that counts is each test's */
	tcase_add_test(tc, test_nesting_1000);
	tcase_add_test(tc, test_nesting_1000_unlimited);
	tcase_add_test(tc, test_missing_boundary);
	tcase_add_test(tc, test_boundary_never_closes);
	tcase_add_test(tc, test_endless_boundaries);
	tcase_add_test(tc, test_40mb_line);
	tcase_add_test(tc, test_huge_base64);
	tcase_add_test(tc, test_small_hostile);
	tcase_add_test(tc, test_empty_message);
	tcase_add_test(tc, test_many_fields);
	tcase_add_test(tc, test_many_links);
	suite_add_tcase(s, tc);
	return s;
}
