/* check_addr - addr.c: hostile From header values, groups, limits, look-alikes */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "tests.h"
#include "util.h"

/*
 * Each value, the status it must get, its mailboxes as "local@domain"
 * joined by ",", and the display name of the first (NULL: not checked,
 * as when there is no mailbox).
 */
/* shared with check_sender.c, which runs each row through the gate */
const struct addr_case addr_cases[] = {
	/* the plain forms */
	{ "addr-spec", "alice@example.com", ADDR_OK,
	  "alice@example.com", "" },
	{ "name-addr", "Alice <alice@example.com>", ADDR_OK,
	  "alice@example.com", "Alice" },
	{ "quoted name", "\"Alice Smith\" <alice@example.com>", ADDR_OK,
	  "alice@example.com", "Alice Smith" },
	{ "words joined by one space", "  Alice \t  Smith   <a@x.test>",
	  ADDR_OK, "a@x.test", "Alice Smith" },
	{ "obs-phrase with a dot", "John Q. Public <jqp@example.com>",
	  ADDR_OK, "jqp@example.com", "John Q. Public" },
	{ "quoted-pairs in a name", "\"Al \\\"Big\\\" \\\\ Capone\" <al@x.test>",
	  ADDR_OK, "al@x.test", "Al \"Big\" \\ Capone" },
	{ "phrase starting with a dot", ". Alice <a@x.test>", ADDR_SYNTAX,
	  "", NULL },

	/* comments are dropped, never taken for a name or an address */
	{ "comment after", "alice@example.com (bob@evil.test)", ADDR_OK,
	  "alice@example.com", "" },
	{ "comment before", "(alice@example.com) bob@evil.test", ADDR_OK,
	  "bob@evil.test", "" },
	{ "comment glued", "bob@evil.test(alice@example.com)", ADDR_OK,
	  "bob@evil.test", "" },
	{ "comment in local part", "bob(alice@example.com)@evil.test",
	  ADDR_OK, "bob@evil.test", "" },
	{ "comment in domain", "bob@(alice@example.com)evil.test", ADDR_OK,
	  "bob@evil.test", "" },
	{ "comment is no name", "<bob@evil.test> (Alice)", ADDR_OK,
	  "bob@evil.test", "" },
	{ "comment in a name", "Bob (ceo@example.com) <bob@evil.test>",
	  ADDR_OK, "bob@evil.test", "Bob" },
	{ "nested comments", "bob@evil.test (a (b (c) \\( ) d)", ADDR_OK,
	  "bob@evil.test", "" },
	{ "quoted paren in comment", "bob@evil.test (x \\) alice@example.com)",
	  ADDR_OK, "bob@evil.test", "" },
	{ "unterminated comment", "bob@evil.test (alice@example.com",
	  ADDR_SYNTAX, "", NULL },
	{ "comment swallowed by \\)", "alice@example.com (\\)", ADDR_SYNTAX,
	  "", NULL },
	{ "unbalanced )", "bob@evil.test ) alice@example.com", ADDR_SYNTAX,
	  "", NULL },
	{ "comment only", "(alice@example.com)", ADDR_EMPTY, "", NULL },

	/* quotes and backslashes */
	{ "quoted @ in local part", "\"alice@example.com\"@evil.test",
	  ADDR_OK, "alice@example.com@evil.test", "" },
	{ "quoted @ in name", "\"alice@example.com\" <bob@evil.test>",
	  ADDR_OK, "bob@evil.test", "alice@example.com" },
	{ "escaped quote in local", "\"alice\\\"@example.com\"@evil.test",
	  ADDR_OK, "alice\"@example.com@evil.test", "" },
	{ "backslash outside quotes", "alice\\@example.com@evil.test",
	  ADDR_SYNTAX, "", NULL },
	{ "quoted dots", "\"john..doe\"@x.test", ADDR_OK,
	  "john..doe@x.test", "" },
	{ "quoted word in obs-local-part", "\"john\".doe@x.test", ADDR_OK,
	  "john.doe@x.test", "" },
	{ "empty quoted local part", "\"\"@x.test", ADDR_SYNTAX, "", NULL },
	{ "unterminated quote", "\"alice@example.com <bob@evil.test>",
	  ADDR_SYNTAX, "", NULL },
	{ "quote ends at backslash-quote", "\"alice\\\" <bob@evil.test>",
	  ADDR_SYNTAX, "", NULL },
	{ "two quoted words", "\"alice\" \"@example.com\" <bob@evil.test>",
	  ADDR_OK, "bob@evil.test", "alice @example.com" },

	/* angle brackets */
	{ "nested angles", "<<alice@example.com>>", ADDR_SYNTAX, "", NULL },
	{ "angle inside angle", "A <alice@example.com <bob@evil.test>>",
	  ADDR_SYNTAX, "", NULL },
	{ "unbalanced <", "Alice <alice@example.com", ADDR_SYNTAX, "", NULL },
	{ "unbalanced >", "alice@example.com>", ADDR_SYNTAX, "", NULL },
	{ "empty angle address", "<>", ADDR_SYNTAX, "", NULL },
	{ "name and empty angle", "alice@example.com <>", ADDR_SYNTAX, "",
	  NULL },
	{ "address after >", "<alice@example.com> bob@evil.test",
	  ADDR_SYNTAX, "", NULL },
	{ "two angle addresses", "<alice@example.com><bob@evil.test>",
	  ADDR_SYNTAX, "", NULL },
	{ "name after >", "<bob@evil.test> Alice", ADDR_SYNTAX, "", NULL },
	{ "local only in angles", "Alice <alice>", ADDR_SYNTAX, "", NULL },

	/* several addresses */
	{ "two addresses", "alice@example.com, bob@evil.test", ADDR_OK,
	  "alice@example.com,bob@evil.test", "" },
	{ "no comma", "alice@example.com bob@evil.test", ADDR_SYNTAX, "",
	  NULL },
	{ "empty elements", "a@x.test,,b@y.test", ADDR_OK,
	  "a@x.test,b@y.test", "" },
	{ "leading, trailing commas", " , a@x.test ,", ADDR_OK, "a@x.test",
	  "" },
	{ "semicolon is no comma", "a@x.test; b@y.test", ADDR_SYNTAX, "",
	  NULL },

	/* display names that pretend to be addresses */
	{ "unquoted @ in name", "alice@example.com <bob@evil.test>",
	  ADDR_SYNTAX, "", NULL },
	{ "B word hides an address",
	  "=?utf-8?B?YWxpY2VAZXhhbXBsZS5jb20=?= <bob@evil.test>", ADDR_OK,
	  "bob@evil.test", "alice@example.com" },
	{ "Q word, latin1", "=?iso-8859-1?Q?Andr=E9_M?= <andre@x.test>",
	  ADDR_OK, "andre@x.test", "Andr\xc3\xa9 M" },
	{ "adjacent words joined", "=?UTF-8?Q?a?=  =?utf-8?q?b?= <x@y.test>",
	  ADDR_OK, "x@y.test", "ab" },
	{ "word then atom", "=?UTF-8?Q?a?= b <x@y.test>", ADDR_OK,
	  "x@y.test", "a b" },
	{ "UTF-8 split over words", "=?utf-8?Q?=C3?= =?utf-8?Q?=A9?= <x@y.test>",
	  ADDR_OK, "x@y.test", "\xc3\xa9" },
	/* charsets iconv knows (windows-1252 once hid the address) */
	{ "koi8-r B word", "=?koi8-r?B?98/X?= <x@y.test>", ADDR_OK,
	  "x@y.test", "\xd0\x92\xd0\xbe\xd0\xb2" },
	{ "windows-1252 Q word hides an address",
	  "\"=?windows-1252?q?alice=40example.com?=\" <x@evil.test>", ADDR_OK,
	  "x@evil.test", "alice@example.com" },
	{ "windows-1252 8bit", "=?Windows-1252?Q?J=F6rg_=80?= <j@x.test>",
	  ADDR_OK, "j@x.test", "J\xc3\xb6rg \xe2\x82\xac" },
	{ "iso-8859-2", "=?ISO-8859-2?Q?=A3ukasz?= <l@x.test>", ADDR_OK,
	  "l@x.test", "\xc5\x81ukasz" },
	{ "utf-16be hides an address",
	  "=?utf-16be?b?AGMAZQBvAEAAZQB4AGEAbQBwAGwAZQAuAGMAbwBt?= <x@evil.test>",
	  ADDR_OK, "x@evil.test", "ceo@example.com" },
	{ "shift_jis split over words", "=?shift_jis?b?gg==?= "
	  "=?Shift_JIS?b?oA==?= <x@y.test>", ADDR_OK, "x@y.test",
	  "\xe3\x81\x82" },
	{ "two charsets not joined", "=?koi8-r?b?9w==?= =?windows-1251?b?wg==?="
	  " <x@y.test>", ADDR_OK, "x@y.test", "\xd0\x92\xd0\x92" },
	{ "iso-2022-jp, stateful", "=?iso-2022-jp?b?GyRCJCIbKEI=?= <x@y.test>",
	  ADDR_OK, "x@y.test", "\xe3\x81\x82" },
	{ "iconv: bad sequence", "=?utf-16be?b?AGHcAABi?= <x@y.test>", ADDR_OK,
	  "x@y.test", "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	{ "iconv: decoded CRLF neutered", "=?windows-1252?q?a=0D=0Ab?= <x@y.test>",
	  ADDR_OK, "x@y.test", "a\xef\xbf\xbd\xef\xbf\xbd" "b" },
	/* charsets iconv does not know: ASCII shown, noted */
	{ "unknown charset: address shown",
	  "=?x-nosuch?q?alice=40example.com?= <x@evil.test>", ADDR_OK,
	  "x@evil.test", "alice@example.com", 1 },
	{ "unknown charset: 8bit replaced", "=?x-nosuch?B?YemC?= <x@y.test>",
	  ADDR_OK, "x@y.test", "a\xef\xbf\xbd\xef\xbf\xbd", 1 },
	{ "charset with a slash is unknown",
	  "=?utf-8//TRANSLIT?q?a=40b.test?= <x@y.test>", ADDR_OK, "x@y.test",
	  "a@b.test", 1 },
	{ "bad base64 kept", "=?utf-8?B?!!!!?= <x@y.test>", ADDR_OK,
	  "x@y.test", "=?utf-8?B?!!!!?=" },
	{ "us-ascii with 8bit", "=?us-ascii?Q?a=E9?= <x@y.test>", ADDR_OK,
	  "x@y.test", "a\xef\xbf\xbd" },
	{ "decoded CRLF neutered", "=?utf-8?Q?a=0D=0AB?= <x@y.test>", ADDR_OK,
	  "x@y.test", "a\xef\xbf\xbd\xef\xbf\xbd" "B" },
	{ "decoded NUL neutered", "=?utf-8?B?YQBi?= <x@y.test>", ADDR_OK,
	  "x@y.test", "a\xef\xbf\xbd" "b" },
	{ "word in quotes decoded",
	  "\"=?utf-8?b?Y2VvQGV4YW1wbGUuY29t?=\" <x@evil.test>", ADDR_OK,
	  "x@evil.test", "ceo@example.com" },
	{ "word split by a dot", "=?utf-8?q?ceo=40example.com?= <x@evil.test>",
	  ADDR_OK, "x@evil.test", "ceo@example.com" },
	{ "RFC 2231 language", "=?utf-8*en?q?Bob?= <b@x.test>", ADDR_OK,
	  "b@x.test", "Bob" },
	{ "word with raw @ as address", "=?utf-8?q?a@b?=@evil.test",
	  ADDR_SYNTAX, "", NULL },
	{ "word as local part", "=?utf-8?q?a=40b?=@evil.test", ADDR_OK,
	  "=?utf-8?q?a=40b?=@evil.test", "" },
	{ "word as quoted local part", "\"=?utf-8?q?a@b?=\"@evil.test",
	  ADDR_OK, "=?utf-8?q?a@b?=@evil.test", "" },
	{ "word in angle local part",
	  "Bob <=?utf-8?B?YWxpY2U=?=@example.com>", ADDR_OK,
	  "=?utf-8?B?YWxpY2U=?=@example.com", "Bob" },

	/* groups */
	{ "undisclosed", "undisclosed-recipients:;", ADDR_EMPTY, "", NULL },
	{ "undisclosed, spaced", "Undisclosed : ; ", ADDR_EMPTY, "", NULL },
	{ "group of commas", "g: , ,;", ADDR_EMPTY, "", NULL },
	{ "group with members", "team: a@x.test, B <b@y.test>;", ADDR_OK,
	  "a@x.test,b@y.test", "" },
	{ "group then address", "team: a@x.test;, b@y.test", ADDR_OK,
	  "a@x.test,b@y.test", "" },
	{ "group, no comma after", "team: a@x.test; b@y.test", ADDR_SYNTAX,
	  "", NULL },
	{ "unterminated group", "team: a@x.test", ADDR_SYNTAX, "", NULL },
	{ "nested group", "a: b: c@x.test;;", ADDR_SYNTAX, "", NULL },
	{ "group without a name", ": a@x.test;", ADDR_SYNTAX, "", NULL },
	{ "stray ;", "a@x.test;", ADDR_SYNTAX, "", NULL },
	{ "header name in value", "From: alice@example.com", ADDR_SYNTAX,
	  "", NULL },

	/* line breaks and control characters */
	{ "CRLF injection", "alice@example.com\r\nBcc: x@y.test",
	  ADDR_SYNTAX, "", NULL },
	{ "LF injection", "alice@example.com\nBcc: x@y.test", ADDR_SYNTAX,
	  "", NULL },
	{ "bare CR", "alice@example.com\rbob@evil.test", ADDR_SYNTAX, "",
	  NULL },
	{ "CR before a space", "alice@example.com,\r bob@evil.test",
	  ADDR_SYNTAX, "", NULL },
	{ "CRLF at the end", "alice@example.com\r\n", ADDR_SYNTAX, "", NULL },
	{ "empty line", "a@x.test,\r\n\r\n b@y.test", ADDR_SYNTAX, "", NULL },
	{ "LF in quotes", "\"alice\nBcc: x\" <a@x.test>", ADDR_SYNTAX, "",
	  NULL },
	{ "backslash CRLF", "\"a\\\r\n b\" <a@x.test>", ADDR_SYNTAX, "",
	  NULL },
	{ "folded CRLF", "Alice\r\n <alice@example.com>,\r\n\tbob@y.test",
	  ADDR_OK, "alice@example.com,bob@y.test", "Alice" },
	{ "folded LF", "Alice\n <alice@example.com>", ADDR_OK,
	  "alice@example.com", "Alice" },
	{ "fold in quotes", "\"Alice\r\n Smith\" <a@x.test>", ADDR_OK,
	  "a@x.test", "Alice Smith" },
	{ "fold in a comment", "a@x.test (one\r\n two)", ADDR_OK, "a@x.test",
	  "" },
	{ "control character", "alice@exam\x01ple.com", ADDR_SYNTAX, "",
	  NULL },
	{ "escape in quotes", "\"a\x1b[2J\" <a@x.test>", ADDR_SYNTAX, "",
	  NULL },
	{ "DEL", "alice\x7f@x.test", ADDR_SYNTAX, "", NULL },
	{ "tabs", "Alice\t<alice@example.com>\t,\tb@y.test", ADDR_OK,
	  "alice@example.com,b@y.test", "Alice" },

	/* routes and domain literals */
	{ "route", "<@route1.test,@route2.test:user@dom.test>", ADDR_OK,
	  "user@dom.test", "" },
	{ "route with a name", "Bob <@r.test:bob@x.test>", ADDR_OK,
	  "bob@x.test", "Bob" },
	{ "route without comma", "<@r1.test @r2.test:u@d.test>", ADDR_SYNTAX,
	  "", NULL },
	{ "route without colon", "<@r1.test,u@d.test>", ADDR_SYNTAX, "",
	  NULL },
	{ "route outside angles", "@r.test:u@d.test", ADDR_SYNTAX, "", NULL },
	{ "domain literal", "alice@[192.0.2.1]", ADDR_OK,
	  "alice@[192.0.2.1]", "" },
	{ "IPv6 literal", "A <a@[IPv6:2001:db8::1]>", ADDR_OK,
	  "a@[IPv6:2001:db8::1]", "A" },
	{ "unterminated literal", "alice@[192.0.2.1", ADDR_SYNTAX, "", NULL },
	{ "space in literal", "alice@[192.0.2.1 ]", ADDR_SYNTAX, "", NULL },
	{ "literal as local part", "[alice]@x.test", ADDR_SYNTAX, "", NULL },
	{ "literal then labels", "a@[192.0.2.1].evil.test", ADDR_SYNTAX, "",
	  NULL },

	/* local parts and domains */
	{ "obs-local-part", "john . doe@x.test", ADDR_OK, "john.doe@x.test",
	  "" },
	{ "spaces around @", "alice @ example.com", ADDR_OK,
	  "alice@example.com", "" },
	{ "obs-domain", "alice@example . com", ADDR_OK, "alice@example.com",
	  "" },
	{ "trailing dot in local", "alice.@example.com", ADDR_SYNTAX, "",
	  NULL },
	{ "leading dot in local", ".alice@example.com", ADDR_SYNTAX, "",
	  NULL },
	{ "two dots in local", "alice..b@example.com", ADDR_SYNTAX, "", NULL },
	{ "trailing dot in domain", "alice@example.com.", ADDR_SYNTAX, "",
	  NULL },
	{ "two dots in domain", "alice@example..com", ADDR_SYNTAX, "", NULL },
	{ "empty domain", "alice@", ADDR_SYNTAX, "", NULL },
	{ "empty local part", "@example.com", ADDR_SYNTAX, "", NULL },
	{ "missing @", "alice", ADDR_SYNTAX, "", NULL },
	{ "two @", "a@b@c", ADDR_SYNTAX, "", NULL },
	{ "two words, no dot", "john doe@x.test", ADDR_SYNTAX, "", NULL },
	{ "quoted domain", "alice@\"example.com\"", ADDR_SYNTAX, "", NULL },

	/* UTF-8 (RFC 6532) */
	{ "UTF-8 local part", "j\xc3\xb6rg@example.com", ADDR_OK,
	  "j\xc3\xb6rg@example.com", "" },
	{ "UTF-8 domain", "a@b\xc3\xbc" "cher.example", ADDR_OK,
	  "a@b\xc3\xbc" "cher.example", "" },
	{ "UTF-8 name", "J\xc3\xb6rg <j@x.test>", ADDR_OK, "j@x.test",
	  "J\xc3\xb6rg" },
	{ "overlong", "a\xc0\xaf@x.test", ADDR_SYNTAX, "", NULL },
	{ "overlong 3 bytes", "a\xe0\x80\xaf@x.test", ADDR_SYNTAX, "", NULL },
	{ "surrogate", "a\xed\xa0\x80@x.test", ADDR_SYNTAX, "", NULL },
	{ "truncated", "a\xe2\x82@x.test", ADDR_SYNTAX, "", NULL },
	{ "truncated at end", "a@x.test \xe2\x82", ADDR_SYNTAX, "", NULL },
	{ "lone continuation", "\x80" "a@x.test", ADDR_SYNTAX, "", NULL },
	{ "bad UTF-8 in a comment", "a@x.test (\xff)", ADDR_SYNTAX, "", NULL },
	{ "over U+10FFFF", "a\xf4\x90\x80\x80@x.test", ADDR_SYNTAX, "", NULL },
	{ "C1 control", "a\xc2\x85@x.test", ADDR_SYNTAX, "", NULL },

	/* nothing there */
	{ "empty", "", ADDR_EMPTY, "", NULL },
	{ "white space", " \t ", ADDR_EMPTY, "", NULL },
	{ "folded white space", "\r\n ", ADDR_EMPTY, "", NULL },
	{ "commas", " , , ", ADDR_EMPTY, "", NULL },
};
const size_t addr_ncases = sizeof(addr_cases) / sizeof(addr_cases[0]);

/* joined - the mailboxes of l as "local@domain,..." (caller frees) */
static char *
joined(const struct addr_list *l)
{
	struct sbuf b;

	sbuf_init(&b);
	for (size_t i = 0; i < l->count; i++)
		sbuf_printf(&b, "%s%s@%s", i ? "," : "", l->v[i].local,
			    l->v[i].domain);
	return sbuf_steal(&b);
}

START_TEST(test_parse)
{
	struct addr_list l;
	char err[256];
	char *got;
	enum addr_status st;

	st = addr_parse_list(addr_cases[_i].in, strlen(addr_cases[_i].in), &l, err,
			     sizeof(err));
	ck_assert_msg(st == addr_cases[_i].status, "%s: %s (%s), want %s",
		      addr_cases[_i].label, addr_status_name(st), err,
		      addr_status_name(addr_cases[_i].status));
	got = joined(&l);
	ck_assert_msg(strcmp(got, addr_cases[_i].addrs) == 0,
		      "%s: got \"%s\", want \"%s\"", addr_cases[_i].label, got,
		      addr_cases[_i].addrs);
	free(got);
	if (addr_cases[_i].display != NULL)
		ck_assert_msg(strcmp(l.v[0].display, addr_cases[_i].display) == 0,
			      "%s: display \"%s\", want \"%s\"",
			      addr_cases[_i].label, l.v[0].display,
			      addr_cases[_i].display);
	if (st == ADDR_OK)
		ck_assert_msg(l.v[0].display_unknown_charset ==
			      addr_cases[_i].unknown_charset,
			      "%s: display_unknown_charset %d",
			      addr_cases[_i].label,
			      l.v[0].display_unknown_charset);
	if (st == ADDR_OK)
		ck_assert_str_eq(err, "");
	else {
		ck_assert_msg(err[0] != '\0', "%s: no error text",
			      addr_cases[_i].label);
		ck_assert_ptr_null(l.v);
		ck_assert_uint_eq(l.count, 0);
	}
	addr_list_free(&l);
}
END_TEST

/* generated values: long, many, deep; built by build() */
static const struct {
	const char *label;
	enum addr_status status;
	size_t count;
} gen[] = {
	{ "16384 bytes", ADDR_OK, 1 },
	{ "17000 bytes", ADDR_TOO_LONG, 0 },
	{ "64 mailboxes", ADDR_OK, 64 },
	{ "65 mailboxes", ADDR_TOO_MANY, 0 },
	{ "65 in a group", ADDR_TOO_MANY, 0 },
	{ "32 nested comments", ADDR_OK, 1 },
	{ "33 nested comments", ADDR_SYNTAX, 0 },
	{ "40 nested comments", ADDR_SYNTAX, 0 },
	{ "8000 nested comments", ADDR_SYNTAX, 0 },
	{ "5000 empty elements", ADDR_OK, 1 },
	{ "4000 dots in a name", ADDR_OK, 1 },
};

/* build - the value of gen[i] */
static void
build(int i, struct sbuf *b)
{
	int k;

	switch (i) {
	case 0:
	case 1:
		sbuf_puts(b, "a@x.test (");
		while (b->len < (i == 0 ? 16383u : 16999u))
			sbuf_puts(b, "x");
		sbuf_puts(b, ")");
		break;
	case 2:
	case 3:
		for (k = 0; k < (i == 2 ? 64 : 65); k++)
			sbuf_printf(b, "%su%d@x.test", k ? ", " : "", k);
		break;
	case 4:
		sbuf_puts(b, "g:");
		for (k = 0; k < 65; k++)
			sbuf_printf(b, "u%d@x.test,", k);
		sbuf_puts(b, ";");
		break;
	case 5:
	case 6:
	case 7:
	case 8:
		k = i == 5 ? 32 : i == 6 ? 33 : i == 7 ? 40 : 8000;
		sbuf_puts(b, "a@x.test ");
		for (int d = 0; d < k; d++)
			sbuf_puts(b, "(");
		for (int d = 0; d < k; d++)
			sbuf_puts(b, ")");
		break;
	case 9:
		for (k = 0; k < 5000; k++)
			sbuf_puts(b, ",");
		sbuf_puts(b, "a@x.test,,,");
		break;
	case 10:
		sbuf_puts(b, "A");
		for (k = 0; k < 4000; k++)
			sbuf_puts(b, ". ");
		sbuf_puts(b, "<a@x.test>");
		break;
	}
}

START_TEST(test_generated)
{
	struct addr_list l;
	struct sbuf b;
	char err[256];
	enum addr_status st;

	sbuf_init(&b);
	build(_i, &b);
	st = addr_parse_list(b.data, b.len, &l, err, sizeof(err));
	ck_assert_msg(st == gen[_i].status, "%s: %s (%s), want %s",
		      gen[_i].label, addr_status_name(st), err,
		      addr_status_name(gen[_i].status));
	ck_assert_uint_eq(l.count, gen[_i].count);
	addr_list_free(&l);
	sbuf_free(&b);
}
END_TEST

START_TEST(test_len)
{
	struct addr_list l;
	char err[64];

	/* len counts, not the NUL: a NUL inside it is an error */
	ck_assert_int_eq(addr_parse_list("a@x.test\0b@evil.test", 20, &l,
					 err, sizeof(err)), ADDR_SYNTAX);
	ck_assert(strstr(err, "NUL") != NULL);
	/* only len bytes are read */
	ck_assert_int_eq(addr_parse_list("a@x.test, b@evil.test", 8, &l,
					 NULL, 0), ADDR_OK);
	ck_assert_uint_eq(l.count, 1);
	ck_assert_str_eq(l.v[0].domain, "x.test");
	addr_list_free(&l);
	ck_assert_int_eq(addr_parse_list(NULL, 0, &l, err, sizeof(err)),
			 ADDR_EMPTY);
	/* a short error buffer is cut, not overrun */
	ck_assert_int_eq(addr_parse_list("<a@b", 4, &l, err, 5), ADDR_SYNTAX);
	ck_assert_uint_eq(strlen(err), 4);
	addr_list_free(&l);
	addr_list_free(&l);
}
END_TEST

START_TEST(test_flags)
{
	struct addr_list l;
	const char *in = "\"a b\"@x.test, g: c@y.test, \"d\".e@z.test;, "
			 "e: ;";

	ck_assert_int_eq(addr_parse_list(in, strlen(in), &l, NULL, 0),
			 ADDR_OK);
	ck_assert_uint_eq(l.count, 3);
	ck_assert_int_eq(l.groups, 2);
	ck_assert_str_eq(l.v[0].local, "a b");
	ck_assert_int_eq(l.v[0].quoted_local, 1);
	ck_assert_int_eq(l.v[0].in_group, 0);
	ck_assert_int_eq(l.v[1].quoted_local, 0);
	ck_assert_int_eq(l.v[1].in_group, 1);
	ck_assert_str_eq(l.v[2].local, "d.e");
	ck_assert_int_eq(l.v[2].quoted_local, 1);
	ck_assert_int_eq(l.v[2].in_group, 1);
	addr_list_free(&l);

	in = "a:;, b: (none) ;";
	ck_assert_int_eq(addr_parse_list(in, strlen(in), &l, NULL, 0),
			 ADDR_EMPTY);
	ck_assert_int_eq(l.groups, 2);	/* an empty list still says why */
	ck_assert_ptr_null(l.v);
	addr_list_free(&l);
}
END_TEST

/* look-alike addresses in display names: NULL for none */
static const struct { const char *in, *want; } looks[] = {
	{ "ceo@example.com", "ceo@example.com" },
	{ "CEO <ceo@example.com>", "ceo@example.com" },
	{ "\"CEO@Example.COM\" via x", "CEO@Example.COM" },
	{ "Mail from ceo@example.com.", "ceo@example.com" },
	{ "(ceo@example.com)", "ceo@example.com" },
	{ "'ceo@example.com'", "ceo@example.com" },
	{ "a@b", "a@b" },
	{ "root@[192.0.2.1] here", "root@[192.0.2.1]" },
	{ "ceo\xef\xbc\xa0" "example.com", "ceo\xef\xbc\xa0" "example.com" },
	{ "ceo\xef\xb9\xab" "example.com", "ceo\xef\xb9\xab" "example.com" },
	{ "j\xc3\xb6rg@b\xc3\xbc" "cher.example",
	  "j\xc3\xb6rg@b\xc3\xbc" "cher.example" },
	{ "Alice (at) home", NULL },
	{ "Bob", NULL },
	{ "", NULL },
	{ "@alice on X", NULL },
	{ "alice@", NULL },
	{ "alice@ home", NULL },
	{ "a @ b", NULL },
	{ "@@@", NULL },
	{ "x@.", NULL },
	{ "a@b@c", "a@b" },
	{ "\xef\xbc\xa0+\xef\xbc\xa0+", NULL },	/* no reaching back */
};

START_TEST(test_lookalike)
{
	char *got = addr_lookalike(looks[_i].in);

	if (looks[_i].want == NULL)
		ck_assert_msg(got == NULL, "\"%s\": got \"%s\"", looks[_i].in,
			      got);
	else {
		ck_assert_msg(got != NULL, "\"%s\": got NULL", looks[_i].in);
		ck_assert_str_eq(got, looks[_i].want);
	}
	free(got);
}
END_TEST

START_TEST(test_lookalike_decoded)
{
	struct addr_list l;
	const char *in = "=?utf-8?B?Q0VPIDxjZW9AZXhhbXBsZS5jb20+?= "
			 "<x@evil.test>";
	char *got;

	ck_assert_int_eq(addr_parse_list(in, strlen(in), &l, NULL, 0),
			 ADDR_OK);
	ck_assert_str_eq(l.v[0].display, "CEO <ceo@example.com>");
	got = addr_lookalike(l.v[0].display);
	ck_assert_str_eq(got, "ceo@example.com");
	free(got);
	addr_list_free(&l);
	ck_assert_ptr_null(addr_lookalike(NULL));
}
END_TEST

START_TEST(test_status_name)
{
	ck_assert_str_eq(addr_status_name(ADDR_OK), "ok");
	ck_assert_str_eq(addr_status_name(ADDR_EMPTY), "empty");
	ck_assert_str_eq(addr_status_name(ADDR_SYNTAX), "syntax");
	ck_assert_str_eq(addr_status_name(ADDR_TOO_LONG), "too long");
	ck_assert_str_eq(addr_status_name(ADDR_TOO_MANY), "too many");
}
END_TEST

Suite *
addr_suite(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("addr");

	tcase_add_loop_test(tc, test_parse, 0,
			    addr_ncases);
	tcase_add_loop_test(tc, test_generated, 0,
			    sizeof(gen) / sizeof(gen[0]));
	tcase_add_test(tc, test_len);
	tcase_add_test(tc, test_flags);
	tcase_add_loop_test(tc, test_lookalike, 0,
			    sizeof(looks) / sizeof(looks[0]));
	tcase_add_test(tc, test_lookalike_decoded);
	tcase_add_test(tc, test_status_name);
	suite_add_tcase(s, tc);
	return s;
}
