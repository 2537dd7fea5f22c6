/*
 * e2e_install.c - a user's program built against an installed libdopy
 * the documented way: `make install PREFIX=...`, then
 * `cc prog.c $(pkg-config --cflags --libs dopy)`.  The program serves an
 * object of its own on a socketpair in a forked child and calls it.
 *
 * `make -o all install` installs what is built and never rebuilds the
 * tree under the feet of the tests running beside this one.
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "e2e_util.h"

static const char prog_c[] =
"#include <ctype.h>\n"
"#include <stdio.h>\n"
"#include <stdlib.h>\n"
"#include <string.h>\n"
"#include <sys/socket.h>\n"
"#include <sys/wait.h>\n"
"#include <unistd.h>\n"
"\n"
"#include <dopy.h>\n"
"\n"
"static int\n"
"mul(dopy_call *c)\n"
"{\n"
"	return dopy_return_int(c, dopy_call_int(c, 0) * dopy_call_int(c, 1));\n"
"}\n"
"\n"
"static int\n"
"shout(dopy_call *c)\n"
"{\n"
"	char buf[256];\n"
"	size_t i;\n"
"\n"
"	snprintf(buf, sizeof(buf), \"%s!\", dopy_call_string(c, 0));\n"
"	for (i = 0; buf[i] != '\\0'; i++)\n"
"		buf[i] = (char)toupper((unsigned char)buf[i]);\n"
"	return dopy_return_string(c, buf);\n"
"}\n"
"\n"
"static const struct dopy_method methods[] = {\n"
"	{ \"mul\", mul, \"a:int, b:int=10\", \"int\", \"Multiply.\" },\n"
"	{ \"shout\", shout, \"text:string\", \"string\", \"Shout.\" },\n"
"	{ NULL, NULL, NULL, NULL, NULL }\n"
"};\n"
"static const struct dopy_object_def calc = {\n"
"	\"calc\", \"An object from outside the tree.\", methods, NULL, NULL\n"
"};\n"
"\n"
"static int\n"
"serve(int fd)\n"
"{\n"
"	dopy_server *s = dopy_server_new();\n"
"	int r;\n"
"\n"
"	if (s == NULL ||\n"
"	    dopy_server_set_log(s, DOPY_LOG_STDERR, NULL, 0) < 0 ||\n"
"	    dopy_server_add(s, &calc, NULL) < 0)\n"
"		return 1;\n"
"	r = dopy_server_serve(s, fd, fd);\n"
"	dopy_server_free(s);\n"
"	return r == 0 ? 0 : 1;\n"
"}\n"
"\n"
"static void\n"
"check(int r, dopy_error *e)\n"
"{\n"
"	if (r < 0) {\n"
"		fprintf(stderr, \"prog: %s\\n\", e ? dopy_error_message(e) :\n"
"		    dopy_strerror(r));\n"
"		exit(1);\n"
"	}\n"
"}\n"
"\n"
"int\n"
"main(void)\n"
"{\n"
"	dopy_conn *conn;\n"
"	dopy_proxy *p;\n"
"	dopy_args *a;\n"
"	dopy_value *v;\n"
"	dopy_error *e = NULL;\n"
"	int sv[2], st;\n"
"	pid_t pid;\n"
"\n"
"	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)\n"
"		return 1;\n"
"	if ((pid = fork()) == 0) {\n"
"		close(sv[0]);\n"
"		_exit(serve(sv[1]));\n"
"	}\n"
"	close(sv[1]);\n"
"	check(dopy_conn_fds(sv[0], dup(sv[0]), &conn, &e), e);\n"
"	p = dopy_proxy_new(conn, \"calc\");\n"
"	a = dopy_args_new();\n"
"	dopy_args_int(a, NULL, 6);\n"
"	dopy_args_int(a, \"b\", 7);\n"
"	check(dopy_proxy_call(p, \"mul\", a, &v, &e), e);\n"
"	printf(\"calc.mul(6, b=7) = %lld\\n\",\n"
"	    (long long)dopy_value_get_int(v));\n"
"	dopy_value_free(v);\n"
"	dopy_args_free(a);\n"
"	a = dopy_args_new();\n"
"	dopy_args_int(a, NULL, 6);\n"
"	check(dopy_proxy_call(p, \"mul\", a, &v, &e), e);\n"
"	printf(\"calc.mul(6) = %lld\\n\", (long long)dopy_value_get_int(v));\n"
"	dopy_value_free(v);\n"
"	dopy_args_free(a);\n"
"	a = dopy_args_new();\n"
"	dopy_args_string(a, NULL, \"hello\");\n"
"	check(dopy_proxy_call(p, \"shout\", a, &v, &e), e);\n"
"	printf(\"calc.shout(hello) = %s\\n\", dopy_value_get_string(v));\n"
"	dopy_value_free(v);\n"
"	dopy_args_free(a);\n"
"	if (dopy_proxy_call(p, \"nosuch\", NULL, &v, &e) < 0 && e != NULL)\n"
"		printf(\"calc.nosuch: %s\\n\", dopy_error_name(e));\n"
"	dopy_error_free(e);\n"
"	dopy_proxy_free(p);\n"
"	dopy_conn_close(conn);\n"
"	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))\n"
"		return 1;\n"
"	printf(\"server exit %d\\n\", WEXITSTATUS(st));\n"
"	return 0;\n"
"}\n";

static const char want[] =
    "calc.mul(6, b=7) = 42\n"
    "calc.mul(6) = 60\n"
    "calc.shout(hello) = HELLO!\n"
    "calc.nosuch: dopy.UnknownMethod\n"
    "server exit 0\n";

static void
must_run(const char *what, char *const argv[])
{
	struct e2e_run r;

	e2e_run_ms(&r, NULL, 0, 90000, argv);
	cr_assert(e2e_exited(r.status, 0), "%s: %s\n%s%s", what,
	    e2e_status(r.status), r.out, r.err);
	e2e_run_free(&r);
}

static void
assert_file(const char *prefix, const char *rel)
{
	char path[1024];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", prefix, rel);
	cr_assert(stat(path, &st) == 0, "not installed: %s", path);
}

Test(install, pkg_config_user_program, .timeout = 120)
{
	char *top = e2e_top(), prefix[600], pfx[700], src[700], exe[700],
	    cmd[3000];
	const char *tmp = e2e_tmpdir();
	char *make[] = { "env", "-u", "MAKEFLAGS", "-u", "MFLAGS", "-u",
	    "MAKELEVEL", "make", "--no-print-directory", "-C", top, "-o", "all",
	    "install", pfx, NULL };
	char *cc[] = { "sh", "-c", cmd, NULL };
	char *run[] = { exe, NULL };
	struct e2e_run r;

	snprintf(prefix, sizeof(prefix), "%s/prefix", tmp);
	snprintf(pfx, sizeof(pfx), "PREFIX=%s", prefix);
	snprintf(src, sizeof(src), "%s/prog.c", tmp);
	snprintf(exe, sizeof(exe), "%s/prog", tmp);
	must_run("make install", make);
	assert_file(prefix, "bin/dopyd");
	assert_file(prefix, "bin/dopy-rsh");
	assert_file(prefix, "bin/dopyclient");
	assert_file(prefix, "include/dopy.h");
	assert_file(prefix, "lib/libdopy.a");
	assert_file(prefix, "lib/libdopy.so");
	assert_file(prefix, "lib/libdopy.so.0");
	assert_file(prefix, "lib/pkgconfig/dopy.pc");

	cr_assert(e2e_spit(src, prog_c) == 0, "cannot write %s", src);
	snprintf(cmd, sizeof(cmd), "cd '%s' && flags=$(PKG_CONFIG_PATH='%s/"
	    "lib/pkgconfig' pkg-config --cflags --libs dopy) && "
	    "cc -std=c11 -D_GNU_SOURCE -Wall -Werror -o '%s' '%s' $flags",
	    tmp, prefix, exe, src);
	must_run("cc prog.c $(pkg-config --cflags --libs dopy)", cc);

	e2e_run_ms(&r, NULL, 0, 20000, run);
	cr_assert(e2e_exited(r.status, 0), "prog: %s\n%s%s",
	    e2e_status(r.status), r.out, r.err);
	cr_assert_str_eq(r.out, want, "prog printed:\n%s\nwant:\n%s", r.out,
	    want);
	e2e_run_free(&r);

	/* The installed programs run from there, beside their library. */
	snprintf(exe, sizeof(exe), "%s/bin/dopyclient", prefix);
	e2e_run_ms(&r, NULL, 0, 20000, run);
	cr_assert(e2e_exited(r.status, 0), "installed dopyclient: %s\n%s%s",
	    e2e_status(r.status), r.out, r.err);
	e2e_run_free(&r);
	free(top);
}

/* make -C top -o all TARGET PREFIX=prefix, or with no prefix. */
static void
make_in(const char *top, const char *target, const char *prefix,
    struct e2e_run *r)
{
	char pfx[700];
	char *argv[] = { "env", "-u", "MAKEFLAGS", "-u", "MFLAGS", "-u",
	    "MAKELEVEL", "make", "--no-print-directory", "-C", (char *)top,
	    "-o", "all", (char *)target, pfx, NULL };

	snprintf(pfx, sizeof(pfx), "PREFIX=%s", prefix ? prefix : "/nowhere");
	e2e_run_ms(r, NULL, 0, 90000, argv);
	cr_assert(e2e_exited(r->status, 0), "make %s: %s\n%s%s", target,
	    e2e_status(r->status), r->out, r->err);
}

/* `man NAME` must open the page that documents NAME: every function of
 * lib/dopy.sym has a name in man3 that leads to dopy(3), which has it
 * in .Fn or .Fo. */
static void
assert_function_pages(const char *top, const char *prefix)
{
	char path[1200], real[PATH_MAX], *sym, *page, *p, *end, mark[200];
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/lib/dopy.sym", top);
	cr_assert_not_null(sym = e2e_slurp(path, NULL));
	snprintf(path, sizeof(path), "%s/man/dopy.3", top);
	cr_assert_not_null(page = e2e_slurp(path, NULL));
	for (p = strstr(sym, "\tdopy_"); p != NULL; p = strstr(end, "\tdopy_")) {
		p++;
		cr_assert_not_null(end = strchr(p, ';'));
		*end++ = '\0';
		snprintf(path, sizeof(path), "%s/share/man/man3/%s.3", prefix, p);
		cr_assert(realpath(path, real) != NULL, "no page: %s", path);
		cr_assert(strcmp(strrchr(real, '/'), "/dopy.3") == 0,
		    "%s leads to %s", path, real);
		snprintf(mark, sizeof(mark), ".Fn %s", p);
		if (strstr(page, mark) == NULL)
			snprintf(mark, sizeof(mark), ".Fo %s", p);
		cr_assert(strstr(page, mark) != NULL, "dopy(3) lacks %s", p);
		n++;
	}
	cr_assert_gt(n, 100, "only %zu functions in dopy.sym", n);
	free(sym);
	free(page);
}

static int
is_empty_dir(const char *path)
{
	struct dirent *de;
	DIR *d = opendir(path);
	int n = 0;

	cr_assert_not_null(d, "%s: gone", path);
	while ((de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	return n == 0;
}

Test(install, man_pages_guides_and_uninstall, .timeout = 180)
{
	char *top = e2e_top(), prefix[600];
	struct e2e_run r;

	snprintf(prefix, sizeof(prefix), "%s/prefix2", e2e_tmpdir());
	make_in(top, "install", prefix, &r);
	e2e_run_free(&r);
	assert_function_pages(top, prefix);
	assert_file(prefix, "share/man/man7/dopy.7");
	assert_file(prefix, "share/doc/dopy/inetd/inetd.conf");
	assert_file(prefix, "share/doc/dopy/inetd/xinetd.d/dopy");
	assert_file(prefix, "share/doc/dopy/ssh/README");
	make_in(top, "uninstall", prefix, &r);
	e2e_run_free(&r);
	cr_assert(is_empty_dir(prefix), "make uninstall left files in %s",
	    prefix);
	free(top);
}

/* The targets of the Makefile's .PHONY line, joined over its
 * continuation lines, as one string of names and blanks. */
static char *
phony_targets(const char *mk)
{
	const char *p = strstr(mk, "\n.PHONY:");
	char *t, *q, prev = ' ';

	cr_assert_not_null(p);
	cr_assert_not_null(t = strdup(p + 8));
	/* The list goes on past a newline after a backslash: look at the
	 * character as it was, before it became a space. */
	for (q = t; *q != '\0' && !(*q == '\n' && prev != '\\'); q++) {
		prev = *q;
		if (*q == '\\' || *q == '\n' || *q == '\t')
			*q = ' ';
	}
	*q = '\0';
	return t;
}

/* make help names every target the Makefile declares .PHONY. */
Test(install, make_help_lists_every_target, .timeout = 60)
{
	char *top = e2e_top(), path[700], *mk, *names, *name, *save, line[80];
	struct e2e_run r;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/Makefile", top);
	cr_assert_not_null(mk = e2e_slurp(path, NULL));
	make_in(top, "help", NULL, &r);
	names = phony_targets(mk);
	for (name = strtok_r(names, " ", &save); name != NULL;
	    name = strtok_r(NULL, " ", &save), n++) {
		if (strcmp(name, "all") == 0)
			snprintf(line, sizeof(line), "make            ");
		else
			snprintf(line, sizeof(line), "make %s ", name);
		cr_assert(strstr(r.out, line) != NULL, "make help lacks "
		    "'%s':\n%s", name, r.out);
	}
	cr_assert_gt(n, 10, "only %zu targets", n);
	free(names);
	e2e_run_free(&r);
	free(mk);
	free(top);
}
