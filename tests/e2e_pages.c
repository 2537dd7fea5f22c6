/*
 * e2e_pages.c - what the manual pages say, against what the programs do
 * (issue 13: each mismatch found once is pinned here, so that the page
 * and the code cannot drift apart again unnoticed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "e2e_util.h"

/* man/name from the source tree (malloc'd). */
static char *
page(const char *name)
{
	char path[4096], *top = e2e_top(), *text;

	snprintf(path, sizeof(path), "%s/man/%s", top, name);
	free(top);
	text = e2e_slurp(path, NULL);
	cr_assert_not_null(text, "cannot read %s", path);
	return text;
}

/* The lines after the heading ".Ss title" (or ".Sh title") up to the
 * next heading (malloc'd). */
static char *
part(const char *name, const char *title)
{
	char *text = page(name), head[128], *p, *end, *out;

	snprintf(head, sizeof(head), " %s\n", title);
	for (p = text; (p = strstr(p, head)) != NULL; p++)
		if (p - text >= 4 && p[-4] == '\n' && p[-3] == '.' &&
		    p[-2] == 'S' && (p[-1] == 's' || p[-1] == 'h'))
			break;
	cr_assert_not_null(p, "%s has no heading '%s'", name, title);
	p += strlen(head);
	for (end = p; (end = strstr(end, "\n.S")) != NULL; end++)
		if (end[3] == 's' || end[3] == 'h')
			break;
	out = end != NULL ? strndup(p, (size_t)(end - p + 1)) : strdup(p);
	free(text);
	cr_assert_not_null(out);
	return out;
}

/* What dopy-rsh prints for these arguments (exit 0; malloc'd). */
static char *
rsh_out(const char *a1, const char *a2)
{
	char *argv[] = { (char *)e2e_bin("dopy-rsh"), (char *)a1, (char *)a2,
	    NULL };
	struct e2e_run r;

	e2e_run(&r, argv);
	e2e_assert_run(&r, 0, NULL);
	free(r.err);
	return r.out;
}

/* How many "\n.It MACRO word" items text has, word ending in a blank. */
static int
items(const char *text, const char *macro)
{
	char want[32];
	const char *p;
	int n = 0;

	snprintf(want, sizeof(want), "\n.It %s ", macro);
	for (p = text; (p = strstr(p, want)) != NULL; p += strlen(want))
		n++;
	return n;
}

/*
 * One method line of `dopy-rsh dopyd OBJECT` against the object's part
 * of dopyd(8): a method is an ".It Fn name" item, an attribute (get:x
 * and set:x) an ".It Va x" item.  Returns 1 for a method, 0 for the
 * setter of an attribute (its getter counts it once).
 */
static int
documented(const char *object, const char *doc, const char *line)
{
	char name[128], want[160];
	int attr, setter;

	snprintf(name, sizeof(name), "%.*s", (int)strcspn(line, "("), line);
	setter = strncmp(name, "set:", 4) == 0;
	attr = setter || strncmp(name, "get:", 4) == 0;
	snprintf(want, sizeof(want), "\n.It %s %s ", attr ? "Va" : "Fn",
	    name + (attr ? 4 : 0));
	cr_assert_not_null(strstr(doc, want), "dopyd(8), 'The %s object', "
	    "does not document %s:\n%s", object, name, line);
	return !setter;
}

/*
 * Every method and attribute of every object dopyd serves has its item
 * in dopyd(8), and the page has no item for one that is gone: a new
 * method without a doc line fails here.
 */
Test(pages, dopyd_documents_every_stock_method, .timeout = 60)
{
	char *objects = rsh_out(e2e_bin("dopyd"), NULL), *o, *so, *list;
	char *line, *sl, *doc, title[64];
	int n, nobj = 0;

	for (o = strtok_r(objects, "\n", &so); o != NULL;
	    o = strtok_r(NULL, "\n", &so), nobj++) {
		snprintf(title, sizeof(title), "The %s object", o);
		doc = part("dopyd.8", title);
		list = rsh_out(e2e_bin("dopyd"), o);
		n = 0;
		for (line = strtok_r(list, "\n", &sl); line != NULL;
		    line = strtok_r(NULL, "\n", &sl)) {
			if (strcmp(o, "dopy") == 0) {	/* named in prose */
				char fn[64];

				snprintf(fn, sizeof(fn), ".Fn %.*s",
				    (int)strcspn(line, "("), line);
				cr_assert_not_null(strstr(doc, fn), "dopyd(8) "
				    "does not name dopy.%s", fn + 4);
				continue;
			}
			n += documented(o, doc, line);
		}
		if (strcmp(o, "dopy") != 0)
			cr_assert_eq(items(doc, "Fn") + items(doc, "Va"), n,
			    "dopyd(8), '%s', has %d items for %d methods and "
			    "attributes: one is documented that is not served",
			    title, items(doc, "Fn") + items(doc, "Va"), n);
		free(list);
		free(doc);
	}
	cr_assert_geq(nobj, 5, "dopyd serves cb, dopy, factory, iso, slow, stream, stub, test, thermo");
	free(objects);
}

/*
 * The sample traces of test.fail in the pages name the line the code
 * really raises at.  dopy-rsh(1) is left to the console work, which
 * owns that page.
 */
Test(pages, traces_name_the_raising_line, .timeout = 30)
{
	static const char *const pages[] = { "dopy.3", "dopy.5", "dopyd.8" };
	char *argv[] = { (char *)e2e_bin("dopy-rsh"), (char *)e2e_bin("dopyd"),
	    "test", "fail", "boom", NULL };
	char *text, *p, want[64];
	struct e2e_run r;
	size_t i, n = 0;

	e2e_run(&r, argv);
	e2e_assert_run(&r, 1, "");
	cr_assert_not_null(p = strstr(r.err, "bin/testobj.c:"), "%s", r.err);
	snprintf(want, sizeof(want), "%.*s", (int)strcspn(p, "\n\""), p);
	e2e_run_free(&r);
	for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		text = page(pages[i]);
		for (p = text; (p = strstr(p, "testobj.c:")) != NULL; p++, n++)
			cr_assert(strncmp(p - 4, want, strlen(want)) == 0,
			    "%s shows '%.*s', the code raises at '%s'",
			    pages[i], (int)strcspn(p, "\n\""), p, want);
		free(text);
	}
	cr_assert_geq(n, 3, "the pages show fewer traces than they did");
}

/*
 * dopy-naming(7) says names do not chain and that bind and rebind
 * refuse a name: target with naming.BadName; the service does.
 */
Test(pages, naming_chains_refused_as_documented, .timeout = 30)
{
	static const char *const how[] = { "bind", "rebind" };
	char *doc = part("dopy-naming.7", "The name: target"), *cmd;
	struct e2e_run r;
	size_t i;

	cr_assert_not_null(strstr(doc, "\nNames do not chain:"), "%s", doc);
	cr_assert_not_null(strstr(doc, "refuse such a target with\n"
	    ".Sy naming.BadName"), "%s", doc);
	free(doc);
	cr_assert(asprintf(&cmd, "%s -N %s/names", e2e_bin("dopyd"),
	    e2e_tmpdir()) > 0);
	for (i = 0; i < 2; i++) {
		char *argv[] = { (char *)e2e_bin("dopy-rsh"), cmd, "naming",
		    (char *)how[i], "a", "name:b", NULL };

		e2e_run_expect(argv, 1, "", "naming.BadName");
		e2e_run(&r, argv);
		cr_assert_not_null(strstr(r.err, "names do not chain"), "%s",
		    r.err);
		e2e_run_free(&r);
	}
	free(cmd);
}

/* The option letters in text: each "-X" or "Fl X" group of letters. */
static void
letters(const char *text, const char *mark, char set[128])
{
	const char *p;

	for (p = text; (p = strstr(p, mark)) != NULL; ) {
		for (p += strlen(mark); (*p >= 'a' && *p <= 'z') ||
		    (*p >= 'A' && *p <= 'Z'); p++)
			set[(int)*p] = 1;
	}
}

static void
same_letters(const char *what, const char *a, const char *b)
{
	int i;

	for (i = 'A'; i <= 'z'; i++)
		cr_assert_eq(a[i], b[i], "-%c is %s in %s", i,
		    a[i] ? "missing" : "extra", what);
}

/*
 * dopy_main()'s options, as dopyd --help lists them, are the ones in
 * dopyd(8)'s SYNOPSIS and in dopy(3)'s list under dopy_main().
 */
Test(pages, dopy_main_options_everywhere, .timeout = 30)
{
	char *argv[] = { (char *)e2e_bin("dopyd"), "-h", NULL };
	char help[128] = { 0 }, syn[128] = { 0 }, lib[128] = { 0 };
	char *text, *p, *end;
	struct e2e_run r;

	e2e_run(&r, argv);
	e2e_assert_run(&r, 0, NULL);
	letters(r.out, "\n  -", help);
	e2e_run_free(&r);
	text = part("dopyd.8", "SYNOPSIS");
	letters(text, "Fl ", syn);
	free(text);
	text = page("dopy.3");
	p = strstr(text, "It takes the standard server options");
	cr_assert_not_null(p, "dopy(3) lost dopy_main's option list");
	cr_assert_not_null(p = strstr(p, ".Bd -literal"));
	cr_assert_not_null(end = strstr(p, "\n.Ed"));
	*end = '\0';
	letters(p, "[-", lib);
	free(text);
	cr_assert(help['R'] && help['v'] && help['w'], "dopyd -h: no options");
	same_letters("dopyd(8) SYNOPSIS", help, syn);
	same_letters("dopy(3), dopy_main()", help, lib);
}

/* The C examples link with `pkg-config --libs dopy` and libc alone: no
 * function of libbsd, which the library uses but does not pass on. */
Test(pages, examples_need_no_libbsd, .timeout = 10)
{
	static const char *const pages[] = { "dopy.3", "dopy.7",
	    "dopy-naming.7", "dopy-pos.7" };
	static const char *const bsd[] = { "strlcpy(", "strlcat(",
	    "strtonum(", "setproctitle(", "getprogname(", "fparseln(" };
	char *text;
	size_t i, k;

	for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		text = page(pages[i]);
		for (k = 0; k < sizeof(bsd) / sizeof(bsd[0]); k++)
			cr_assert_null(strstr(text, bsd[k]), "%s uses %s), "
			    "which is in libbsd, not libc", pages[i], bsd[k]);
		free(text);
	}
}
