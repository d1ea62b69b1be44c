/* check_sender - the login map and the ownership lookup order */
#include "config.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "conf.h"
#include "policy.h"
#include "loginmap.h"
#include "sender.h"
#include "symbols.h"
#include "tests.h"

static const char map_text[] =
	"# a map as Postfix's smtpd_sender_login_maps has it\n"
	"alice@example.com\talice\n"
	"Bob@Example.COM       bob\n"
	"list@example.com      alice, bob carol\n"
	"shared@example.com    alice,\n"
	"   dave\n"
	"   # a comment line inside a continued entry\n"
	"postmaster            admin\n"
	"@example.org          orgadmin\n"
	"*@example.com         helpdesk\n"
	"/^(.+)@regex\\.test$/  ${1}, regexadmin\n"
	"/^CASE@sensitive\\.test$/i  caseowner\n"
	"/^case2@sensitive\\.test$/i  case2owner\n"
	"/^x\\/y@slash\\.test$/  slashowner\n"
	"/^with space@sp\\.test$/  spaceowner\n"
	"/^[a-z0-9-]{1,63}@label\\.test$/  labelowner\n"
	"/^[a-z]{1,8}(\\.(x|[a-z]{1,8})+){0,3}@nest\\.test$/  nestowner\n"
	"alice@example.com     duplicate-ignored\n"
	/* Postfix has no inline comments: "#" and "bob" are owners */
	"inline@c.test         alice # bob\n"
	/* quoted keys, postmap since Postfix 3.2 */
	"\"john doe\"@q.test    john\n"
	"\"j..doe\"@q.test      jquoted\n"
	"j..doe@q.test        junquoted\n"
	"x..y@q.test          xunquoted\n"
	"\"a\\\"b\"@q.test      aquote\n"
	"alice@q.test         qalice\n"
	/* UTF-8 folding as Postfix's casefold() */
	"J\xc3\xb6rg@utf.test     joerg\n"
	"stra\xc3\x9f" "e@utf.test   strasse\n"
	"\xff\xfe" "BAD@utf.test   bad8\n"
	/* regexp keys come after the fixed ones, for the full address only */
	"amy@ro.test           amy\n"
	"/^amy\\+.+@ro\\.test$/  amyregex\n"
	"@rd.test              rdowner\n"
	"/^z@rd\\.test$/        zowner\n"
	"/^w\\+.*@rd\\.test$/   wowner\n"
	/* sender_myorigin */
	"carol@mx.test         carol\n";

static struct conf *
sender_conf(int case_sensitive)
{
	struct conf *c = conf_defaults();

	c->dmarc = 0;
	strlist_parse(&c->local_domains, "example.com, [127.0.0.1]", 1);
	strlist_parse(&c->sender_domain_aliases, "example.net=example.com", 1);
	free(c->sender_myorigin);
	c->sender_myorigin = xstrdup("mx.test");
	c->sender_local_part_case_sensitive = case_sensitive;
	return c;
}

static const struct {
	const char *local, *domain, *want;	/* want NULL: nobody owns it */
} lookups[] = {
	{ "alice", "example.com", "alice, helpdesk" },
	{ "ALICE", "EXAMPLE.com", "alice, helpdesk" },	/* case folded */
	{ "bob", "example.com", "bob, helpdesk" },
	{ "alice+news", "example.com", "alice, helpdesk" },	/* extension */
	{ "+alice", "example.com", "helpdesk" },	/* leading + is no ext */
	{ "list", "example.com", "alice, bob carol, helpdesk" },
	{ "shared", "example.com", "alice, dave, helpdesk" },
	{ "postmaster", "example.com", "admin, helpdesk" },	/* local */
	{ "postmaster", "example.org", "orgadmin" },	/* not local */
	{ "postmaster", "[127.0.0.1]", "admin" },	/* a literal, local */
	{ "postmaster", "mx.test", "admin" },	/* sender_myorigin */
	{ "anyone", "example.org", "orgadmin" },	/* @domain */
	{ "nobody", "example.com", "helpdesk" },	/* catch-all only */
	{ "alice", "example.net", "alice, helpdesk" },	/* alias domain */
	{ "zed", "regex.test", "zed, regexadmin" },
	{ "zed+x", "regex.test", "zed+x, regexadmin" },	/* full first */
	/* the address is folded before the regexp sees it, as in Postfix */
	{ "CASE", "sensitive.test", NULL },
	{ "CASE2", "sensitive.test", "case2owner" },
	{ "x/y", "slash.test", "slashowner" },
	{ "with space", "sp.test", "spaceowner" },
	{ "abc", "label.test", "labelowner" },
	{ "a.bc.d", "nest.test", "nestowner" },	/* repetitions 3 deep */
	{ "alice", "evil.test", NULL },
	{ "", "example.org", "orgadmin" },
	{ "alice", "", NULL },
	{ "postmaster", "", "admin" },
	{ "inline", "c.test", "alice # bob" },
	/* quoted: the quoted form first, then the unquoted one */
	{ "john doe", "q.test", "john" },
	{ "JOHN DOE", "Q.TEST", "john" },
	{ "j..doe", "q.test", "jquoted" },
	{ "j..doe", "q.test", "jquoted" },	/* the same address */
	{ "x..y", "q.test", "xunquoted" },	/* unquoted form second */
	{ "a\"b", "q.test", "aquote" },
	{ "alice", "q.test", "qalice" },	/* "alice" is alice */
	/* UTF-8 */
	{ "J\xc3\x96RG", "utf.test", "joerg" },
	{ "j\xc3\xb6rg", "UTF.TEST", "joerg" },
	{ "STRASSE", "utf.test", "strasse" },	/* full folding */
	{ "\xff\xfe" "bad", "utf.test", "bad8" },	/* ASCII folding */
	{ "\xff\xfe" "bAD", "utf.test", "bad8" },
	{ "\xc3\x28", "utf.test", NULL },		/* bad, not found */
	/* regexp keys: after the fixed full key, before user@domain */
	{ "amy", "ro.test", "amy" },
	{ "amy+x", "ro.test", "amyregex" },
	{ "z", "rd.test", "zowner" },
	{ "z+x", "rd.test", "rdowner" },	/* no regexp on z@rd.test */
	{ "w+x", "rd.test", "wowner" },
	/* routing: where the address goes is what is looked up */
	{ "bob%example.org", "example.com", "orgadmin" },
	{ "example.org!bob", "example.com", "orgadmin" },
	{ "alice%example.com", "example.com", "alice, helpdesk" },
	{ "alice%evil.test", "example.com", NULL },
	{ "bob@example.org", "example.com", "orgadmin" },
	{ "bob%example.org", "example.com", "orgadmin" },
	{ "example.org!bob", "example.com", "orgadmin" },
	{ "bob%example.org", "", "orgadmin" },	/* no domain */
	{ "example.org!bob", "", "orgadmin" },
	{ "alice%evil.test", "example.org", "orgadmin" },	/* not local */
	{ "a%b%example.org", "example.com", "orgadmin" },
	{ "carol", "", "carol" },		/* sender_myorigin appended */
};

START_TEST(test_lookup)
{
	char err[256];
	const char *p = write_file("lookup.map", map_text);
	struct conf *c = sender_conf(0);
	struct loginmap *map = loginmap_load(p, 1, err, sizeof(err));
	char *owners;

	ck_assert_msg(map != NULL, "%s", err);
	owners = sender_owners(map, c, lookups[_i].local, lookups[_i].domain);
	if (lookups[_i].want == NULL)
		ck_assert_msg(owners == NULL, "%s@%s owned by %s",
			      lookups[_i].local, lookups[_i].domain, owners);
	else
		ck_assert_msg(owners && strcmp(owners, lookups[_i].want) == 0,
			      "%s@%s: got \"%s\", want \"%s\"", lookups[_i].local,
			      lookups[_i].domain, owners ? owners : "(null)",
			      lookups[_i].want);
	free(owners);
	loginmap_unref(map);
	conf_unref(c);
	unlink(p);
}
END_TEST

/* split_addr(): these local parts keep their "extension" */
START_TEST(test_no_split)
{
	char err[256];
	const char *p = write_file("split.map", "owner@x.test o\n"
				   "list@x.test l\n" "postmaster@x.test pm\n"
				   "a@x.test a\n");
	struct conf *c = conf_defaults();
	struct loginmap *map = loginmap_load(p, 1, err, sizeof(err));
	char *o;

	ck_assert_msg(map != NULL, "%s", err);
	free(c->recipient_delimiter);
	c->recipient_delimiter = xstrdup("-");
	ck_assert_ptr_null(sender_owners(map, c, "owner-list", "x.test"));
	ck_assert_ptr_null(sender_owners(map, c, "list-request", "x.test"));
	o = sender_owners(map, c, "a-b", "x.test");
	ck_assert_str_eq(o, "a");
	free(o);
	free(c->recipient_delimiter);
	c->recipient_delimiter = xstrdup("+");
	o = sender_owners(map, c, "a+b+c", "x.test");
	ck_assert_str_eq(o, "a");
	free(o);
	loginmap_unref(map);
	conf_unref(c);
	unlink(p);
}
END_TEST

START_TEST(test_case_sensitive)
{
	char err[256];
	const char *p = write_file("case.map", "Alice@Example.com alice\n");
	struct conf *c = sender_conf(1);
	struct loginmap *map = loginmap_load(p, 0, err, sizeof(err));
	char *o;

	ck_assert_ptr_nonnull(map);
	o = sender_owners(map, c, "Alice", "EXAMPLE.COM");
	ck_assert_ptr_nonnull(o);		/* domain still folded */
	free(o);
	ck_assert_ptr_null(sender_owners(map, c, "alice", "example.com"));
	loginmap_unref(map);
	conf_unref(c);
	unlink(p);
}
END_TEST

START_TEST(test_owns)
{
	ck_assert(loginmap_owns("alice", "alice"));
	ck_assert(loginmap_owns("alice, bob carol", "BOB"));
	ck_assert(loginmap_owns("alice,bob", "bob"));
	ck_assert(!loginmap_owns("alice", "alic"));
	ck_assert(!loginmap_owns("alice", "alice2"));
	ck_assert(!loginmap_owns("alice", ""));
	ck_assert(!loginmap_owns("", "alice"));
	ck_assert(loginmap_owns("alice@mx.test", "alice@MX.TEST"));
	ck_assert(loginmap_owns("j\xc3\xb6rg", "J\xc3\x96RG"));	/* UTF-8 */
	ck_assert(loginmap_owns("alice # bob", "#"));
	ck_assert(!loginmap_owns("\xc3\x28", "\xc3\x29"));	/* bad UTF-8 */
	ck_assert(loginmap_owns("\xff" "A", "\xff" "a"));	/* ASCII folding */
}
END_TEST

static const struct { const char *text, *want; } bad_maps[] = {
	{ "alice@example.com\n", ":1: \"alice@example.com\" has no owners" },
	{ "ok a\nlonely   \n", ":2: \"lonely\" has no owners" },
	{ "  indented x\n", ":1: continuation line without a key" },
	{ "/unterminated x\n", ":1: regular expression without closing /" },
	{ "/(a/ x\n", ":1: bad regular expression" },
	{ "/a/q x\n", ":1: unknown regular expression flag 'q'" },
	{ "/(a)/ $2\n", ":1: bad substitution" },
	{ "/a/ $1\n", ":1: bad substitution" },
	{ "!/a/ x\n", ":1: \"!/a/\": negation" },
	{ "if /a/ x\n", ":1: \"if\": negation" },
	{ "# c\n@ x\n", ":2: bad key \"@\"" },
	{ "*abc x\n", ":1: bad key \"*abc\"" },
	{ "\"john doe@x.test a\n", ":1: unbalanced '\"'" },
	/* found by fuzzing: regcomp() blows up on these */
	{ "/^a++++++++++++++++++++++/ x\n", ":1: regular expression too "
	  "complex: stacked" },
	{ "/^a+*@b\\++-@c/ x\n", ":1: regular expression too complex: "
	  "stacked" },
	{ "/(a{99}){99}/ x\n", ":1: regular expression too complex (rep" },
	{ "/(((a{99}){99}){99}){99}@x/ x\n", ":1: regular expression too "
	  "complex (rep" },
	{ "/((((((((((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+@x/ "
	  "x\n", ":1: regular expression too complex: over 16 nested" },
	/* over the budget and nested too deep: either says so */
	{ "/((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+@x/ x\n", ":1: regular "
	  "expression too complex" },
	/* groups that match the empty string weigh nothing: 5 s, 1 GB */
	{ "/((((((((((()+)+)+)+)+)+)+)+)+)+)dup@example.com/ owner\n",
	  ":1: regular expression too complex: repetitions nested" },
	{ "/((((((((((a*)+)+)+)+)+)+)+)+)+)+@x/ x\n", ":1: regular "
	  "expression too complex: repetitions nested" },
	{ "/((((((a|)+))+)+)+)+@x/ x\n", ":1: regular expression too "
	  "complex: repetitions nested" },
};

START_TEST(test_bad_map)
{
	char name[32], err[512], want[512];
	const char *p;

	snprintf(name, sizeof(name), "bad%d.map", _i);
	p = write_file(name, bad_maps[_i].text);
	ck_assert_ptr_null(loginmap_load(p, 1, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s%s", p, bad_maps[_i].want);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
		      "got \"%s\", want \"%s...\"", err, want);
	unlink(p);
}
END_TEST

/* found by fuzzing: a map with no fixed-string key sorted a NULL array */
START_TEST(test_map_without_fixed_keys)
{
	char err[256];
	const char *p = write_file("empty.map", "");
	struct loginmap *map = loginmap_load(p, 1, err, sizeof(err));

	ck_assert_msg(map != NULL, "%s", err);
	ck_assert_ptr_null(loginmap_get(map, "a@b.test"));
	loginmap_unref(map);
	p = write_file("regex-only.map", "/^a@b\\.test$/ a\n");
	map = loginmap_load(p, 1, err, sizeof(err));
	ck_assert_msg(map != NULL, "%s", err);
	ck_assert_ptr_null(loginmap_get(map, "a@b.test"));
	loginmap_unref(map);
	unlink(p);
	unlink(write_file("empty.map", ""));
}
END_TEST

/* age - set a file's mtime to secs seconds ago (negative: in the future) */
static void
age(const char *path, int secs)
{
	struct timespec t[2];

	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= secs;
	t[1] = t[0];
	ck_assert_int_eq(utimensat(AT_FDCWD, path, t, 0), 0);
}

/* owner_of - the owners of key in the current map of src, or "-" */
static const char *
owner_of(struct loginmap_src *src, const char *key)
{
	static char buf[128];
	struct loginmap *map = loginmap_src_get(src);
	const char *o = loginmap_get(map, key);

	snprintf(buf, sizeof(buf), "%s", o ? o : "-");
	loginmap_unref(map);
	return buf;
}

#define FOUR	"a@x.test a\nb@x.test b\nc@x.test c\nd@x.test d\n"

/*
 * test_reload_on_change - a live reload takes a settled file, refuses a
 * broken, empty or much shrunk one (the loaded map stays, untrusted),
 * keeps the map of a deleted file, and SIGHUP (a new source) takes any
 * file that loads.
 */
START_TEST(test_reload_on_change)
{
	char err[256];
	const char *p = write_file("reload.map", FOUR);
	struct loginmap_src *src;

	age(p, 10);
	src = loginmap_src_open(p, 1, err, sizeof(err));
	ck_assert_msg(src != NULL, "%s", err);
	ck_assert_str_eq(owner_of(src, "a@x.test"), "a");
	ck_assert(loginmap_src_trusted(src));

	/* written just now: not settled, not read yet */
	write_file("reload.map", FOUR "e@x.test e\n");
	write_file("reload.map", "a@x.test a, b\nb@x.test b\nc@x.test c\n");
	loginmap_src_poll(src);
	ck_assert_str_eq(owner_of(src, "a@x.test"), "a");
	/* 2 s old: settled, read (3 of 4 entries is not "most lost") */
	age(p, 3);
	loginmap_src_poll(src);
	ck_assert_str_eq(owner_of(src, "a@x.test"), "a, b");
	ck_assert(loginmap_src_trusted(src));

	/* half written: refused, the loaded map stays, not trusted */
	write_file("reload.map", "a@x.test a\nb@x.test\n");
	age(p, 3);
	loginmap_src_poll(src);
	ck_assert_str_eq(owner_of(src, "a@x.test"), "a, b");
	ck_assert(!loginmap_src_trusted(src));
	loginmap_src_poll(src);			/* judged once */
	ck_assert(!loginmap_src_trusted(src));

	/* written in full: taken, trusted again */
	write_file("reload.map", FOUR);
	age(p, 3);
	loginmap_src_poll(src);
	ck_assert_str_eq(owner_of(src, "a@x.test"), "a");
	ck_assert(loginmap_src_trusted(src));

	/* emptied: refused */
	write_file("reload.map", "");
	age(p, 3);
	loginmap_src_poll(src);
	ck_assert_str_eq(owner_of(src, "d@x.test"), "d");
	ck_assert(!loginmap_src_trusted(src));

	/* lost more than half (1 of 4 left): refused */
	write_file("reload.map", "a@x.test z\n");
	age(p, 3);
	loginmap_src_poll(src);
	ck_assert_str_eq(owner_of(src, "a@x.test"), "a");
	ck_assert(!loginmap_src_trusted(src));
	/* half of them left: taken */
	write_file("reload.map", "a@x.test z\nb@x.test b\n");
	age(p, 3);
	loginmap_src_poll(src);
	ck_assert_str_eq(owner_of(src, "a@x.test"), "z");
	ck_assert(loginmap_src_trusted(src));

	/* deleted: the loaded map stays, still trusted */
	ck_assert_int_eq(unlink(p), 0);
	loginmap_src_poll(src);
	ck_assert_str_eq(owner_of(src, "a@x.test"), "z");
	ck_assert(loginmap_src_trusted(src));

	/* a file with an mtime in the future settles by staying unchanged */
	write_file("reload.map", "a@x.test y\nb@x.test b\n");
	age(p, -100);
	loginmap_src_set_settle(src, 200);
	loginmap_src_poll(src);
	ck_assert_str_eq(owner_of(src, "a@x.test"), "z");
	usleep(300 * 1000);
	loginmap_src_poll(src);
	ck_assert_str_eq(owner_of(src, "a@x.test"), "y");
	loginmap_src_free(src);

	/* SIGHUP loads the file again: an empty one is taken */
	write_file("reload.map", "");
	src = loginmap_src_open(p, 1, err, sizeof(err));
	ck_assert_msg(src != NULL, "%s", err);
	ck_assert_str_eq(owner_of(src, "a@x.test"), "-");
	ck_assert(loginmap_src_trusted(src));
	loginmap_src_free(src);
	unlink(p);
	ck_assert_ptr_null(loginmap_src_open("/nonexistent.map", 1, err,
					     sizeof(err)));
}
END_TEST

/* mail_verdict - the verdict at MAIL FROM for a login and a sender */
static void
mail_verdict(struct conf *c, const char *login, const char *from,
	     struct verdict *v)
{
	struct session *m = session_new(c);
	char bracketed[256];

	verdict_init(v);
	if (*login)
		session_set_macro(m, "{auth_authen}", login);
	snprintf(bracketed, sizeof(bracketed), "<%s>", from);
	policy_mail(m, bracketed, NULL, v);
	session_free(m);
}

/*
 * test_untrusted_tempfails - while a changed map is refused, what the
 * loaded map would reject is tempfailed (451 4.7.1), what it accepts
 * passes, and an action of accept stays accept: never stricter.
 */
START_TEST(test_untrusted_tempfails)
{
	char err[256];
	const char *p = write_file("untrusted.map", FOUR);
	struct conf *c = conf_defaults();
	struct verdict v;

	age(p, 10);
	c->login_map = loginmap_src_open(p, 1, err, sizeof(err));
	ck_assert_msg(c->login_map != NULL, "%s", err);
	mail_verdict(c, "a", "b@x.test", &v);
	ck_assert_int_eq(v.action, ACTION_REJECT);
	ck_assert_str_eq(v.code, "553");
	verdict_clear(&v);

	write_file("untrusted.map", "a@x.test a\nb@x.test\n");
	age(p, 3);
	loginmap_src_poll(c->login_map);
	ck_assert(!loginmap_src_trusted(c->login_map));
	mail_verdict(c, "a", "b@x.test", &v);
	ck_assert_int_eq(v.action, ACTION_TEMPFAIL);
	ck_assert_str_eq(v.code, "451");
	ck_assert_str_eq(v.xcode, "4.7.1");
	ck_assert_str_eq(v.cause, "SENDER_MAP_UNTRUSTED");
	verdict_clear(&v);
	mail_verdict(c, "a", "a@x.test", &v);	/* owned: passes */
	ck_assert_int_eq(v.action, ACTION_ACCEPT);
	verdict_clear(&v);
	mail_verdict(c, "", "a@x.test", &v);	/* no login: tempfail too */
	ck_assert_int_eq(v.action, ACTION_TEMPFAIL);
	verdict_clear(&v);
	c->sender_envelope_action = ACTION_ACCEPT;
	mail_verdict(c, "a", "b@x.test", &v);	/* accept stays accept */
	ck_assert_int_eq(v.action, ACTION_ACCEPT);
	verdict_clear(&v);
	conf_unref(c);
	unlink(p);
}
END_TEST

START_TEST(test_conf_loads_map)
{
	char err[512], text[512];
	const char *m = write_file("conf.map", "a@x.test a\n");
	const char *p;
	struct conf *c;

	snprintf(text, sizeof(text), "sender_login_maps = %s\n", m);
	p = write_file("map.conf", text);
	c = conf_load(p, err, sizeof(err));
	ck_assert_msg(c != NULL && c->login_map != NULL, "%s", err);
	conf_unref(c);
	/* a broken map fails the configuration with the map's FILE:LINE */
	write_file("conf.map", "a@x.test\n");
	ck_assert_ptr_null(conf_load(p, err, sizeof(err)));
	ck_assert_msg(strstr(err, "conf.map:1: ") != NULL, "%s", err);
	p = write_file("alias.conf", "sender_domain_aliases = a.test\n");
	ck_assert_ptr_null(conf_load(p, err, sizeof(err)));
	ck_assert_msg(strstr(err, "alias.conf:1: bad domain alias") != NULL,
		      "%s", err);
	unlink(p);
	unlink(write_file("conf.map", ""));
	unlink(write_file("map.conf", ""));
}
END_TEST

/* test_map_prefixes - Postfix's map types that name a text file */
START_TEST(test_map_prefixes)
{
	char err[512], text[600], db[300], m[256];

	const char *p;
	struct conf *c;
	static const char *const ok[] = { "hash", "lmdb", "btree",
					  "texthash" };

	snprintf(m, sizeof(m), "%s", write_file("prefix.map", "a@x.test a\n"));

	for (size_t i = 0; i < 4; i++) {
		snprintf(text, sizeof(text), "sender_login_maps = %s:%s\n",
			 ok[i], m);
		p = write_file("prefix.conf", text);
		c = conf_load(p, err, sizeof(err));
		ck_assert_msg(c != NULL, "%s: %s", ok[i], err);
		ck_assert_str_eq(c->sender_login_maps, m);	/* the text */
		conf_unref(c);
	}
	snprintf(text, sizeof(text), "log = stderr\nsender_login_maps = "
		 "regexp:%s\n", m);
	p = write_file("prefix.conf", text);
	ck_assert_ptr_null(conf_load(p, err, sizeof(err)));
	ck_assert_msg(strstr(err, "prefix.conf:2: sender_login_maps: map type "
			     "\"regexp:\" is not supported") != NULL, "%s", err);
	p = write_file("prefix.conf", "sender_login_maps = mysql:/etc/x.cf\n");
	ck_assert_ptr_null(conf_load(p, err, sizeof(err)));
	ck_assert_msg(strstr(err, ":1: sender_login_maps: map type \"mysql:\"")
		      != NULL, "%s", err);
	snprintf(text, sizeof(text), "sender_login_maps = hash:%s, hash:%s\n",
		 m, m);
	p = write_file("prefix.conf", text);
	ck_assert_ptr_null(conf_load(p, err, sizeof(err)));
	ck_assert_msg(strstr(err, ":1: sender_login_maps: one map file only")
		      != NULL, "%s", err);
	/* only postmap's .db there, no text file */
	snprintf(db, sizeof(db), "%s.db", m);
	ck_assert_int_eq(rename(m, db), 0);
	snprintf(text, sizeof(text), "sender_login_maps = hash:%s\n", m);
	p = write_file("prefix.conf", text);
	ck_assert_ptr_null(conf_load(p, err, sizeof(err)));
	ck_assert_msg(strstr(err, ":1: sender_login_maps: ") != NULL &&
		      strstr(err, "does not exist, only") != NULL, "%s", err);
	unlink(db);
	unlink(p);
}
END_TEST

/*
 * test_from_verdicts - every row of the From-header table (check_addr.c:
 * comment tricks, quoted "@", nested angles, encoded words, groups,
 * CR/LF injection, overlong input ...) through the gate at end of
 * headers, logged in as alice who owns only alice@example.com.  The
 * verdict must be accept exactly when the header parses and every address
 * in it is alice's, and a reject names FROM_INVALID or
 * FROM_LOGIN_MISMATCH accordingly.
 */
START_TEST(test_from_verdicts)
{
	const struct addr_case *t = &addr_cases[_i];
	char err[256], text[128];
	const char *map = write_file("verdicts.map", "alice@example.com alice\n");
	struct conf *c = conf_defaults();
	struct session *m;
	struct verdict v;
	int own = t->status == ADDR_OK && *t->addrs != '\0';
	const char *p = t->addrs;

	c->dmarc = 0;

	/* the table's "a@b,c@d": every one must be alice@example.com */
	while (own && *p) {
		size_t n = strcspn(p, ",");

		own = n == 17 && strncasecmp(p, "alice@example.com", n) == 0;
		p += n + (p[n] == ',');
	}
	snprintf(text, sizeof(text), "%s", t->in);
	c->login_map = loginmap_src_open(map, 1, err, sizeof(err));
	ck_assert_ptr_nonnull(c->login_map);
	m = session_new(c);
	verdict_init(&v);
	session_set_macro(m, "{auth_authen}", "alice");
	ck_assert_int_eq(policy_mail(m, "<alice@example.com>", NULL, &v), 0);
	if (policy_header(m, "From", t->in, 0, &v) == 0 && policy_eoh(m, &v) == 0)
		policy_eom(m, &v);
	if (own) {
		ck_assert_msg(v.action == ACTION_ACCEPT, "%s: %s refused (%s)",
			      t->label, text, v.cause ? v.cause : "-");
	} else {
		ck_assert_msg(v.action == ACTION_REJECT && strcmp(v.code, "550")
			      == 0, "%s: %s accepted", t->label, text);
		/* a parsed header may still be refused as a group */
		ck_assert_msg(strcmp(v.cause, "FROM_INVALID") == 0 ||
			      (t->status == ADDR_OK &&
			       strcmp(v.cause, "FROM_LOGIN_MISMATCH") == 0),
			      "%s: cause %s", t->label, v.cause);
	}
	verdict_clear(&v);
	session_free(m);
	conf_unref(c);
	unlink(map);
}
END_TEST

/*
 * Display names through the gate, logged in as alice: an address shown in
 * an encoded word of any charset is FROM_DISPLAY_SPOOF, as in UTF-8
 * (windows-1252 once escaped); a charset iconv does not know is noted.
 */
static const struct {
	const char	*label, *from;
	int		spoof, unknown;
} displays[] = {
	{ "utf-8", "\"=?utf-8?q?bob=40example.com?=\" <alice@example.com>", 1, 0 },
	{ "windows-1252", "\"=?windows-1252?q?bob=40example.com?=\" "
	  "<alice@example.com>", 1, 0 },
	{ "iso-8859-15 B", "=?iso-8859-15?B?Ym9iQGV4YW1wbGUuY29t?= "
	  "<alice@example.com>", 1, 0 },
	{ "koi8-r", "=?koi8-r?q?bob=40example.com?= <alice@example.com>", 1, 0 },
	{ "utf-16le", "=?utf-16le?b?YgBvAGIAQABlAHgAYQBtAHAAbABlAC4AYwBvAG0A?= "
	  "<alice@example.com>", 1, 0 },
	{ "unknown charset", "=?x-unheard-of?q?bob=40example.com?= "
	  "<alice@example.com>", 1, 1 },
	{ "unknown charset, no address", "=?x-unheard-of?q?Bob?= "
	  "<alice@example.com>", 0, 1 },
	{ "windows-1252 own address", "=?windows-1252?q?alice=40example.com?= "
	  "<alice@example.com>", 0, 0 },
	{ "windows-1252 name", "=?windows-1252?q?Andr=E9?= <alice@example.com>",
	  0, 0 },
};

START_TEST(test_display_charsets)
{
	char err[256];
	const char *map = write_file("display.map", "alice@example.com alice\n"
				     "bob@example.com bob\n");
	struct conf *c = conf_defaults();
	struct session *m;
	struct verdict v;

	c->login_map = loginmap_src_open(map, 1, err, sizeof(err));
	ck_assert_ptr_nonnull(c->login_map);
	m = session_new(c);
	verdict_init(&v);
	session_set_macro(m, "{auth_authen}", "alice");
	ck_assert_int_eq(policy_mail(m, "<alice@example.com>", NULL, &v), 0);
	ck_assert_int_eq(policy_header(m, "From", displays[_i].from, 0, &v), 0);
	policy_eoh(m, &v);
	ck_assert_msg((symbols_find(&m->txn->symbols, "FROM_DISPLAY_SPOOF") != NULL)
		      == displays[_i].spoof, "%s: FROM_DISPLAY_SPOOF %s",
		      displays[_i].label, displays[_i].spoof ? "missing" :
		      "unexpected");
	ck_assert_msg((symbols_find(&m->txn->symbols,
				    "FROM_DISPLAY_CHARSET_UNKNOWN") != NULL) ==
		      displays[_i].unknown, "%s: FROM_DISPLAY_CHARSET_UNKNOWN %s",
		      displays[_i].label, displays[_i].unknown ? "missing" :
		      "unexpected");
	verdict_clear(&v);
	session_free(m);
	conf_unref(c);
}
END_TEST

Suite *
sender_suite(void)
{
	Suite *s = suite_create("sender");
	TCase *tc = tcase_create("sender");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_lookup, 0,
			    sizeof(lookups) / sizeof(lookups[0]));
	tcase_add_test(tc, test_case_sensitive);
	tcase_add_test(tc, test_owns);
	tcase_add_loop_test(tc, test_bad_map, 0,
			    sizeof(bad_maps) / sizeof(bad_maps[0]));
	tcase_add_test(tc, test_map_without_fixed_keys);
	tcase_add_test(tc, test_reload_on_change);
	tcase_add_test(tc, test_untrusted_tempfails);
	tcase_add_test(tc, test_no_split);
	tcase_add_test(tc, test_map_prefixes);
	tcase_add_test(tc, test_conf_loads_map);
	tcase_add_loop_test(tc, test_from_verdicts, 0, (int)addr_ncases);
	tcase_add_loop_test(tc, test_display_charsets, 0,
			    sizeof(displays) / sizeof(displays[0]));
	suite_add_tcase(s, tc);
	return s;
}
