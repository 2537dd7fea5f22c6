/*
 * e2e_rsh_cli.c - dopy-rsh's command line as a user meets it: --help
 * against dopy-rsh(1), options refused together, error messages and
 * exit statuses (dopy-rsh(1), EXIT STATUS).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "e2e_util.h"

#define RSH(...) { (char *)e2e_bin("dopy-rsh"), __VA_ARGS__, NULL }

/* The text of man/dopy-rsh.1 from section sh to the next (malloc'd). */
static char *
man_section(const char *sh)
{
	char path[4096], head[64], *top = e2e_top(), *text, *p, *end;

	snprintf(path, sizeof(path), "%s/man/dopy-rsh.1", top);
	free(top);
	cr_assert_not_null(text = e2e_slurp(path, NULL), "%s", path);
	snprintf(head, sizeof(head), "\n.Sh %s\n", sh);
	cr_assert_not_null(p = strstr(text, head), "no %s in %s", sh, path);
	p += strlen(head);
	if ((end = strstr(p, "\n.Sh ")) != NULL)
		*end = '\0';
	p = strdup(p);
	free(text);
	cr_assert_not_null(p);
	return p;
}

static char *
help_text(const char *flag)
{
	char *argv[] = RSH((char *)flag);
	struct e2e_run r;

	e2e_run(&r, argv);
	e2e_assert_run(&r, 0, NULL);
	cr_assert_str_eq(r.err, "", "%s", r.err);
	free(r.err);
	return r.out;
}

/* Every option letter of the SYNOPSIS has a line of its own in --help. */
Test(rsh_cli, help_names_every_option, .timeout = 20)
{
	char *syn = man_section("SYNOPSIS"), *help = help_text("--help");
	char *p, want[16];
	int n = 0;

	for (p = syn; (p = strstr(p, "Fl ")) != NULL; p += 3)
		for (char *c = p + 3; *c >= 'a' && *c <= 'z'; c++, n++) {
			snprintf(want, sizeof(want), "\n  -%c", *c);
			cr_assert_not_null(strstr(help, want), "-%c is not in "
			    "--help:\n%s", *c, help);
		}
	cr_assert_geq(n, 6, "the SYNOPSIS has its options: %s", syn);
	free(syn);
	free(help);
}

/* The usage lines of --help, and the forms of target and the pointer to
 * the man page. */
Test(rsh_cli, help_usage_targets_and_page, .timeout = 20)
{
	const char *want[] = { "usage: dopy-rsh [-hjo]", "\n       dopy-rsh -b",
	    "\n  tcp://host:port", "tcp:host:port", "\n  unix:path",
	    "\n  ssh://", "\n  name:", "\n  exec:command", "dopy-rsh(1)" };
	char *help = help_text("-h"), *h2 = help_text("--help");
	size_t i;

	cr_assert_str_eq(help, h2, "-h and --help say the same");
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert_not_null(strstr(help, want[i]), "no '%s' in:\n%s",
		    want[i], help);
	free(help);
	free(h2);
}

/* The exit statuses of --help are those of the man page, one a line. */
Test(rsh_cli, help_exit_statuses_match_the_page, .timeout = 20)
{
	char *st = man_section("EXIT STATUS"), *help = help_text("--help");
	char *p, want[16];
	int n = 0;

	for (p = st; (p = strstr(p, "\n.It ")) != NULL; p += 5, n++) {
		snprintf(want, sizeof(want), "\n  %c  ", p[5]);
		cr_assert_not_null(strstr(help, want), "status %c is not in "
		    "--help:\n%s", p[5], help);
	}
	cr_assert_geq(n, 4, "%s", st);
	free(st);
	free(help);
}

/* -b -o says why, exits 2 and starts nothing: the target, run, would
 * leave a file behind. */
Test(rsh_cli, batch_and_oneway_refused, .timeout = 20)
{
	char mark[512], cmd[1024];
	char *argv[] = RSH("-b", "-o", cmd);
	char *argv2[] = RSH("-o", "-b", cmd, "test");
	struct stat sb;

	snprintf(mark, sizeof(mark), "%s/started", e2e_tmpdir());
	snprintf(cmd, sizeof(cmd), "touch %s", mark);
	e2e_run_expect(argv, 2, "", "-b and -o cannot go together: a batch "
	    "prints every call's answer");
	e2e_run_expect(argv2, 2, "", "usage: ");
	cr_assert_neq(stat(mark, &sb), 0, "the target was started");
}

/* -b with a method says that the calls come from standard input. */
Test(rsh_cli, batch_with_a_method_refused, .timeout = 20)
{
	char *argv[] = RSH("-b", (char *)e2e_bin("dopyd"), "test", "add");

	e2e_run_expect(argv, 2, "", "-b reads the calls from standard input");
}

/* -o without a method has nothing to send oneway. */
Test(rsh_cli, oneway_without_a_method_refused, .timeout = 20)
{
	char *argv[] = RSH("-o", (char *)e2e_bin("dopyd"), "test");
	char *argv2[] = RSH("-o", (char *)e2e_bin("dopyd"));

	e2e_run_expect(argv, 2, "", "-o needs a method to call");
	e2e_run_expect(argv2, 2, "", "-o needs a method to call");
}
