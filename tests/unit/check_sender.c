/* check_sender - the login map and the ownership lookup order */
#include "config.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf.h"
#include "policy.h"
#include "loginmap.h"
#include "sender.h"
#include "tests.h"

static const char map_text[] =
	"# a map as Postfix's smtpd_sender_login_maps has it\n"
	"alice@example.com\talice\n"
	"Bob@Example.COM       bob\n"
	"list@example.com      alice, bob carol\n"
	"shared@example.com    alice,\n"
	"   dave                  # continued on the next line\n"
	"postmaster            admin\n"
	"@example.org          orgadmin\n"
	"*@example.com         helpdesk\n"
	"/^(.+)@regex\\.test$/  ${1}, regexadmin\n"
	"/^CASE@sensitive\\.test$/i  caseowner\n"
	"/^x\\/y@slash\\.test$/  slashowner\n"
	"/^with space@sp\\.test$/  spaceowner # a comment\n"
	"/^[a-z0-9-]{1,63}@label\\.test$/  labelowner\n"
	"alice@example.com     duplicate-ignored\n";

static struct conf *
sender_conf(int case_sensitive)
{
	struct conf *c = conf_defaults();

	c->dmarc = 0;
	strlist_parse(&c->local_domains, "example.com", 1);
	strlist_parse(&c->sender_domain_aliases, "example.net=example.com", 1);
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
	{ "anyone", "example.org", "orgadmin" },	/* @domain */
	{ "nobody", "example.com", "helpdesk" },	/* catch-all only */
	{ "alice", "example.net", "alice, helpdesk" },	/* alias domain */
	{ "zed", "regex.test", "zed, regexadmin" },
	{ "zed+x", "regex.test", "zed+x, regexadmin" },	/* full first */
	{ "CASE", "sensitive.test", "caseowner" },
	{ "case", "sensitive.test", NULL },		/* i toggles off */
	{ "x/y", "slash.test", "slashowner" },
	{ "with space", "sp.test", "spaceowner" },
	{ "abc", "label.test", "labelowner" },
	{ "alice", "evil.test", NULL },
	{ "", "example.org", "orgadmin" },
	{ "alice", "", NULL },
	{ "postmaster", "", "admin" },
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
	{ "/((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+@x/ x\n", ":1: regular "
	  "expression too complex (rep" },
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
}
END_TEST

START_TEST(test_reload_on_change)
{
	char err[256];
	const char *p = write_file("reload.map", "a@x.test a\n");
	struct loginmap_src *src = loginmap_src_open(p, 1, err, sizeof(err));
	struct loginmap *map;
	FILE *fp;

	ck_assert_msg(src != NULL, "%s", err);
	map = loginmap_src_get(src);
	ck_assert_str_eq(loginmap_get(map, "a@x.test"), "a");
	loginmap_unref(map);

	write_file("reload.map", "a@x.test a, b\n");
	sleep(1);
	map = loginmap_src_get(src);
	ck_assert_str_eq(loginmap_get(map, "a@x.test"), "a, b");

	/* a broken file keeps the loaded map; the old one stays usable */
	fp = fopen(p, "a");
	fputs("broken\n", fp);
	fclose(fp);
	sleep(1);
	struct loginmap *again = loginmap_src_get(src);
	ck_assert_ptr_eq(again, map);
	loginmap_unref(again);
	loginmap_unref(map);
	loginmap_src_free(src);
	ck_assert_ptr_null(loginmap_src_open("/nonexistent.map", 1, err,
					     sizeof(err)));
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
	tcase_add_test(tc, test_conf_loads_map);
	tcase_add_loop_test(tc, test_from_verdicts, 0, (int)addr_ncases);
	suite_add_tcase(s, tc);
	return s;
}
