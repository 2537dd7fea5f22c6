/*
 * e2e_rsh_cli.c - dopy-rsh's command line as a user meets it: --help
 * against dopy-rsh(1), options refused together, error messages and
 * exit statuses (dopy-rsh(1), EXIT STATUS).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

	for (p = syn; (p = strstr(p, "Fl ")) != NULL; p += 3) {
		if (strncmp(p + 3, "\\-", 2) == 0) {	/* --long */
			snprintf(want, sizeof(want), "\n  --%.*s",
			    (int)strcspn(p + 5, " \n"), p + 5);
			cr_assert_not_null(strstr(help, want), "%s is not in "
			    "--help:\n%s", want + 3, help);
			n++;
		}
		for (char *c = p + 3; *c >= 'a' && *c <= 'z'; c++, n++) {
			snprintf(want, sizeof(want), "\n  -%c", *c);
			cr_assert_not_null(strstr(help, want), "-%c is not in "
			    "--help:\n%s", *c, help);
		}
	}
	cr_assert_geq(n, 8, "the SYNOPSIS has its options: %s", syn);
	free(syn);
	free(help);
}

/* The usage lines of --help are the SYNOPSIS as mandoc renders it. */
Test(rsh_cli, usage_is_the_synopsis, .timeout = 20)
{
	char *help = help_text("-h"), *syn = man_section("SYNOPSIS");
	const char *want[] = { "[-hjov] [--deadline=ms] [--deliver=program] "
	    "[--graceful=error]\n                [--json=mode] [-k keyfile] "
	    "[-t timeout] target [object [method\n                [arg | "
	    "name=value ...]]]\n",
	    "dopy-rsh -b [-jv] [--deadline=ms] [--deliver=program] "
	    "[--graceful=error]\n                [--json=mode] [-k keyfile] "
	    "[-t timeout] target [object]\n", "dopy-rsh -i [-jv] "
	    "[--deadline=ms] [--deliver=program] [--json=mode]\n"
	    "                [--prompt=text] [-k keyfile] [-t timeout] "
	    "target\n" };
	size_t i;

	for (i = 0; i < 3; i++)
		cr_assert_not_null(strstr(help, want[i]), "no '%s' in:\n%s",
		    want[i], help);
	cr_assert_not_null(strstr(syn, ".Op Fl \\-graceful Ns = Ns Ar error"),
	    "%s", syn);
	free(help);
	free(syn);
}

/* The usage lines of --help, and the forms of target and the pointer to
 * the man page. */
Test(rsh_cli, help_usage_targets_and_page, .timeout = 20)
{
	const char *want[] = { "usage: dopy-rsh [-hjov]", "\n       dopy-rsh -b",
	    "\n       dopy-rsh -i", "\n  fd:n", "\n  tcp://host:port", "tcp:host:port", "\n  unix:path",
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

/* ---- error messages: each says its kind once ---- */

/* How often needle occurs in text. */
static int
count(const char *text, const char *needle)
{
	int n = 0;

	for (; (text = strstr(text, needle)) != NULL; text++)
		n++;
	return n;
}

/* A server that speaks another protocol version. */
Test(rsh_cli, version_mismatch_said_once, .timeout = 20)
{
	char path[512], target[1200];
	char *argv[] = RSH(target, "test", "add", "1", "2");
	struct dopy_buf b;
	struct e2e_run r;
	FILE *f;

	dopy_buf_init(&b);
	e2e_hello(&b, DOPY_PROTOCOL + 1, 1u << 20);
	snprintf(path, sizeof(path), "%s/hello", e2e_tmpdir());
	cr_assert_not_null(f = fopen(path, "w"));
	cr_assert_eq(fwrite(b.data, 1, b.len, f), b.len);
	cr_assert_eq(fclose(f), 0);
	dopy_buf_release(&b);
	snprintf(target, sizeof(target), "cat '%s'; exec cat >/dev/null",
	    path);
	e2e_run(&r, argv);
	e2e_assert_run(&r, 3, "");
	cr_assert(strncmp(r.err, "dopy-rsh: protocol version mismatch: "
	    "client speaks ", 37) == 0, "%s", r.err);
	cr_assert_eq(count(r.err, "version mismatch"), 1, "%s", r.err);
	e2e_run_free(&r);
}

/* A call the server dies in: lost, said once, exit 3. */
Test(rsh_cli, lost_call_said_once, .timeout = 20)
{
	char pidfile[512], target[1200], *text = NULL, *err;
	char *argv[] = RSH(target, "test", "sleep", "5000");
	struct e2e_proc p;
	pid_t pid = 0;
	int i, status;

	snprintf(pidfile, sizeof(pidfile), "%s/server.pid", e2e_tmpdir());
	snprintf(target, sizeof(target), "echo $$ > %s; exec %s", pidfile,
	    e2e_bin("dopyd"));
	e2e_spawn(&p, argv);
	for (i = 0; i < 500 && pid == 0; i++, free(text)) {
		if ((text = e2e_slurp(pidfile, NULL)) != NULL &&
		    strchr(text, '\n') != NULL)
			pid = (pid_t)atol(text);
		usleep(10000);
	}
	cr_assert_gt(pid, 0, "no pid in %s", pidfile);
	usleep(300000);		/* the describe is answered, it sleeps */
	cr_assert_eq(kill(pid, SIGKILL), 0);
	status = e2e_wait(&p, E2E_WAIT_MS);
	err = e2e_slurp(p.errpath, NULL);
	cr_assert(e2e_exited(status, 3), "%s: %s", e2e_status(status), err);
	cr_assert_str_eq(err, "dopy-rsh: connection lost during test.sleep "
	    "(connection closed): whether it ran is unknown\n");
	free(err);
}

/* A server silent from the start: the HELLO is named, not the
 * description dopy-rsh asks for first. */
Test(rsh_cli, timeout_before_hello_names_it, .timeout = 20)
{
	char *argv[] = RSH("-t", "1", "exec sleep 30", "test", "add", "1",
	    "2");
	struct e2e_run r;

	e2e_run(&r, argv);
	e2e_assert_run(&r, 3, "");
	cr_assert_str_eq(r.err, "dopy-rsh: timed out: no HELLO from the "
	    "server within 1000 ms\n");
	e2e_run_free(&r);
}

/*
 * A TCP server that goes with the call unread: the reset is a lost
 * connection like an EOF (kind lost on the line, the same on stderr),
 * with the reason from the system, not "system call failed".  The batch
 * asks what test's methods are first: the server answers that.
 */
Test(rsh_cli, tcp_reset_is_lost, .timeout = 20)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t salen = sizeof(sa);
	char target[128], *out, *err;
	char *argv[] = RSH("-b", "-j", target);
	struct e2e_frame fr;
	struct dopy_buf b, pl;
	struct e2e_proc p;
	struct pollfd pfd;
	int ls, fd, status;
	const char *why = "connection lost during test.m (Connection reset "
	    "by peer): whether it ran is unknown";
	char want[512];

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert((ls = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	cr_assert_eq(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(ls, 1), 0);
	cr_assert_eq(getsockname(ls, (struct sockaddr *)&sa, &salen), 0);
	snprintf(target, sizeof(target), "tcp:127.0.0.1:%d:test",
	    ntohs(sa.sin_port));
	e2e_spawn(&p, argv);
	cr_assert_eq(e2e_write(p.in, "m\n", 2), 0);
	close(p.in);		/* the end of the batch */
	p.in = -1;
	pfd = (struct pollfd){ ls, POLLIN, 0 };
	cr_assert_eq(poll(&pfd, 1, E2E_WAIT_MS), 1, "no connection");
	cr_assert((fd = accept(ls, NULL, NULL)) >= 0);
	cr_assert_eq(e2e_read_frame(fd, &fr, E2E_WAIT_MS), 1);
	cr_assert_eq(fr.type, DOPY_F_HELLO);
	free(fr.payload);
	dopy_buf_init(&b);
	e2e_hello(&b, DOPY_PROTOCOL, 1u << 20);
	cr_assert_eq(e2e_write(fd, b.data, b.len), 0);
	dopy_buf_release(&b);
	cr_assert_eq(e2e_read_frame(fd, &fr, E2E_WAIT_MS), 1);
	cr_assert_eq(fr.type, DOPY_F_CALL, "the description's call");
	free(fr.payload);
	dopy_buf_init(&b);
	dopy_buf_init(&pl);
	e2e_encode(&pl, e2e_value("(string,string,string,string)[]",
	    "[(\"m\", \"\", \"\", \"\")]"));
	e2e_frame(&b, DOPY_F_REPLY, fr.id, pl.data, pl.len);
	cr_assert_eq(e2e_write(fd, b.data, b.len), 0);
	dopy_buf_release(&pl);
	dopy_buf_release(&b);
	/* The call comes; closing with it unread sends a reset. */
	pfd = (struct pollfd){ fd, POLLIN, 0 };
	cr_assert_eq(poll(&pfd, 1, E2E_WAIT_MS), 1, "no call");
	close(fd);
	close(ls);
	out = e2e_read_all(p.out, NULL, E2E_WAIT_MS);
	status = e2e_wait(&p, E2E_WAIT_MS);
	err = e2e_slurp(p.errpath, NULL);
	cr_assert(e2e_exited(status, 3), "%s: %s", e2e_status(status), err);
	snprintf(want, sizeof(want), "{\"line\":1,\"error\":{\"kind\":"
	    "\"lost\",\"name\":\"\",\"message\":\"%s\",\"object\":"
	    "\"test\",\"method\":\"m\",\"trace\":[],\"host\":null,"
	    "\"pid\":null,\"status\":3}}\n", why);
	cr_assert_str_eq(out, want);
	snprintf(want, sizeof(want), "dopy-rsh: line 1: %s\n", why);
	cr_assert_str_eq(err, want);
	free(out);
	free(err);
}

/* ---- --graceful ---- */

struct graceful_case {
	const char	*name;
	const char	*args[8];
	const char	*input;		/* batch lines, or NULL */
	int		 status;
	const char	*err_has;
};

static const struct graceful_case graceful_cases[] = {
	{ "listed", { "--graceful=test.Failure", "test", "fail", "boom" },
	    NULL, 0, "remote error: test.Failure: boom" },
	{ "not_listed", { "--graceful=test.Other", "test", "fail", "boom" },
	    NULL, 1, "remote error: test.Failure: boom" },
	{ "repeated", { "--graceful=test.Other", "--graceful=test.Failure",
	    "test", "fail", "boom" }, NULL, 0, "test.Failure: boom" },
	{ "server_usage_error", { "--graceful=dopy.UnknownObject", "nosuch",
	    "m" }, NULL, 0, "dopy.UnknownObject" },
	{ "local_errors_have_no_name", { "--graceful=dopy.TypeError",
	    "test", "add", "1", "x" }, NULL, 2, "expected int" },
	{ "batch_listed", { "-b", "--graceful=test.Failure" },
	    "test fail x\ntest add 1 2\n", 0, "line 1: remote error" },
	{ "batch_not_listed", { "-b" }, "test fail x\ntest add 1 2\n", 1,
	    "line 1: remote error" },
	{ "batch_bad_line_is_usage", { "-b" }, "test add 1 x\n", 2,
	    "expected int" },
	{ "batch_listed_and_bad_line", { "-b", "--graceful=test.Failure" },
	    "test fail x\ntest add 1 x\n", 2, "expected int" },
};
E2E_TABLE_PARAMS(rsh_cli, graceful, graceful_cases)

/* dopy-rsh [opts] dopyd [rest]: options before the target, the rest
 * after it, as the table has them. */
ParameterizedTest(size_t *i, rsh_cli, graceful, .timeout = 20)
{
	const struct graceful_case *c = &graceful_cases[*i];
	char *argv[12];
	struct e2e_run r;
	size_t k, n = 0;

	argv[n++] = (char *)e2e_bin("dopy-rsh");
	for (k = 0; c->args[k] != NULL && c->args[k][0] == '-'; k++)
		argv[n++] = (char *)c->args[k];
	argv[n++] = (char *)e2e_bin("dopyd");
	for (; c->args[k] != NULL; k++)
		argv[n++] = (char *)c->args[k];
	argv[n] = NULL;
	e2e_run_ms(&r, c->input, c->input ? strlen(c->input) : 0,
	    E2E_WAIT_MS, argv);
	cr_assert(e2e_exited(r.status, c->status), "%s: %s, want exit %d\n"
	    "stdout: %s\nstderr: %s", c->name, e2e_status(r.status),
	    c->status, r.out, r.err);
	cr_assert_not_null(strstr(r.err, c->err_has), "%s: the error is "
	    "told as usual: %s", c->name, r.err);
	e2e_run_free(&r);
}

/* --graceful wants a name. */
Test(rsh_cli, graceful_needs_a_name, .timeout = 20)
{
	char *argv[] = RSH("--graceful=", (char *)e2e_bin("dopyd"));

	e2e_run_expect(argv, 2, "", "--graceful: an error name is needed");
}
