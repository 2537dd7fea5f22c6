/*
 * e2e_mainopt.c - a server's own options beside dopy_main's, through
 * dopy_main_opts() run in a child of the test as a server's main()
 * would run it: the option's value reaches the method, -h lists it,
 * a letter dopy takes or one declared twice stops the server at start,
 * a value set refuses exits 2, and dopy's options still work beside the
 * program's in any order.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e_util.h"

/* The child's copy of what the options set. */
static const char *greeting = "Hello";
static int excited;

static int
set_greeting(const char *arg, void *ctx)
{
	(void)ctx;
	if (strcmp(arg, "bad") == 0)
		return -1;
	greeting = arg;
	return 0;
}

static int
set_excited(const char *arg, void *ctx)
{
	*(int *)ctx = arg == NULL;
	return 0;
}

static int
greet(dopy_call *c)
{
	char text[256];

	snprintf(text, sizeof(text), "%s, %s%s", greeting,
	    dopy_call_string(c, 0), excited ? "!" : "");
	return dopy_return_string(c, text);
}

static const struct dopy_method greeter_methods[] = {
	{ "greet", greet, "name:string", "string", "Greet name." },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_object_def greeter = {
	"greeter", "Greets whoever calls.", greeter_methods, NULL, NULL
};

static const struct dopy_option options[] = {
	{ 'x', NULL, "end with an exclamation mark", set_excited, &excited },
	{ 'g', "greeting", "greet with greeting", set_greeting, NULL },
	{ 0, NULL, NULL, NULL, NULL }
};

/* argv in one writable block, as main's: setproctitle writes there. */
static char **
writable_argv(char *const args[], int *argc)
{
	size_t n, len = 0, i;
	char **argv, *p;

	for (n = 0; args[n] != NULL; n++)
		len += strlen(args[n]) + 1;
	if ((argv = calloc(n + 2, sizeof(*argv))) == NULL ||
	    (p = malloc(len + 7)) == NULL)
		_exit(90);
	argv[0] = strcpy(p, "greetd");
	p += 7;
	for (i = 0; i < n; i++) {
		argv[i + 1] = strcpy(p, args[i]);
		p += strlen(args[i]) + 1;
	}
	*argc = (int)n + 1;
	return argv;
}

/* The server: dopy_main_opts() on fd io (stdin and stdout) with
 * these options; stdout to out instead when out is not -1. */
static void
server(int io, int out, const char *errpath,
    const struct dopy_option *opts, char *const args[])
{
	dopy_server *s;
	char **argv;
	int argc, r, err;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	err = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (err < 0 || dup2(io, STDIN_FILENO) < 0 || dup2(out >= 0 ? out :
	    io, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0)
		_exit(91);
	setprogname("greetd");
	argv = writable_argv(args, &argc);
	if ((s = dopy_server_new()) == NULL ||
	    dopy_server_add(s, &greeter, NULL) < 0)
		_exit(90);
	r = dopy_main_opts(s, argc, argv, opts);
	dopy_server_free(s);
	fflush(NULL);
	_exit(r);
}

/* Start the server with stdin and stdout on a socket; *fd is ours. */
static void
start(struct e2e_proc *p, int *fd, int out,
    const struct dopy_option *opts, char *const args[])
{
	int sv[2];

	memset(p, 0, sizeof(*p));
	p->in = p->out = -1;
	snprintf(p->name, sizeof(p->name), "greetd");
	snprintf(p->errpath, sizeof(p->errpath), "%s/greetd.%d.err",
	    e2e_tmpdir(), rand());
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
	    0);
	cr_assert_geq(p->pid = fork(), 0);
	if (p->pid == 0) {
		close(sv[0]);
		server(sv[1], out, p->errpath, opts, args);
	}
	close(sv[1]);
	*fd = sv[0];
}

/* Run the server to its end, serving nothing: its exit code, and what
 * it wrote on stdout and stderr (malloc'd). */
static int
run(const struct dopy_option *opts, char *const args[], char **out,
    char **err)
{
	struct e2e_proc p;
	char path[600];
	int fd, o, st;

	snprintf(path, sizeof(path), "%s/greetd.out", e2e_tmpdir());
	cr_assert_geq(o = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600), 0);
	start(&p, &fd, o, opts, args);
	close(o);
	close(fd);		/* EOF, should it serve after all */
	st = e2e_wait(&p, E2E_WAIT_MS);
	cr_assert(WIFEXITED(st), "greetd: %s", e2e_status(st));
	cr_assert_not_null(*out = e2e_slurp(path, NULL));
	cr_assert_not_null(*err = e2e_slurp(p.errpath, NULL));
	return WEXITSTATUS(st);
}

/* greeter.greet("World") from a server started with args; its stderr
 * when errp is not NULL. */
static char *
greet_with(char *const args[], char **errp)
{
	struct e2e_proc p;
	dopy_error *e = NULL;
	dopy_conn *c;
	dopy_proxy *g;
	dopy_args *a = dopy_args_new();
	dopy_value *v = NULL;
	char *text;
	int fd;

	start(&p, &fd, -1, options, args);
	cr_assert_eq(dopy_conn_fds(fd, fd, &c, &e), 0, "%s",
	    dopy_error_message(e));
	g = dopy_proxy_new(c, "greeter");
	dopy_args_string(a, NULL, "World");
	cr_assert_eq(dopy_proxy_call(g, "greet", a, &v, &e), 0, "%s",
	    dopy_error_message(e));
	cr_assert_not_null(text = strdup(dopy_value_get_string(v)));
	dopy_value_free(v);
	dopy_args_free(a);
	dopy_proxy_free(g);
	dopy_conn_close(c);
	cr_assert(e2e_exited(e2e_wait(&p, E2E_WAIT_MS), 0));
	if (errp != NULL)
		cr_assert_not_null(*errp = e2e_slurp(p.errpath, NULL));
	return text;
}

Test(mainopt, value_reaches_the_method, .timeout = 30)
{
	char *const none[] = { NULL };
	char *const both[] = { "-g", "Howdy", "-x", NULL };
	char *text;

	text = greet_with(none, NULL);
	cr_assert_str_eq(text, "Hello, World");
	free(text);
	text = greet_with(both, NULL);
	cr_assert_str_eq(text, "Howdy, World!");
	free(text);
}

/* -d and -v beside the program's options, before, between and after
 * them, joined or not: one getopt pass takes them all. */
Test(mainopt, dopy_options_beside_in_any_order, .timeout = 30)
{
	char *const orders[][6] = {
		{ "-d", "-v", "-g", "Hi", "-x", NULL },
		{ "-x", "-gHi", "-dv", NULL },
		{ "-g", "Hi", "-d", "-x", "-v", NULL },
	};
	char *text, *err;
	size_t i;

	for (i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
		text = greet_with(orders[i], &err);
		cr_assert_str_eq(text, "Hi, World!", "order %zu", i);
		cr_assert_not_null(strstr(err, "greetd["), "order %zu: -d: %s",
		    i, err);
		cr_assert_not_null(strstr(err, "recv {\"frame\":\"CALL\""),
		    "order %zu: -v: %s", i, err);
		free(text);
		free(err);
	}
}

Test(mainopt, help_lists_the_programs_options, .timeout = 30)
{
	char *const args[] = { "-g", "Hi", "-h", NULL };
	char *out, *err;

	cr_assert_eq(run(options, args, &out, &err), 0, "%s", err);
	cr_assert_str_eq(err, "");
	cr_assert_not_null(strstr(out, "\n  -v           log every frame"),
	    "%s", out);
	cr_assert_not_null(strstr(out, "[-Y recording]\n"
	    "              [-x] [-g greeting]\n"), "%s", out);
	/* Last, after dopy's own lines. */
	cr_assert_not_null(strstr(out, "\nOptions of greetd:\n"
	    "  -x           end with an exclamation mark\n"
	    "  -g greeting  greet with greeting\n"), "%s", out);
	cr_assert_eq(strstr(out, "greet with greeting\n")[20], '\0', "%s",
	    out);
	free(out);
	free(err);
}

Test(mainopt, unknown_option_shows_the_programs_too, .timeout = 30)
{
	char *const args[] = { "-q", NULL };
	char *out, *err;

	cr_assert_eq(run(options, args, &out, &err), 2);
	cr_assert_str_eq(out, "");
	cr_assert_not_null(strstr(err, "usage: greetd "), "%s", err);
	cr_assert_not_null(strstr(err, " [-x] [-g greeting]\n"), "%s", err);
	free(out);
	free(err);
}

/* The program author's mistakes, seen at the first run, even one with
 * no arguments at all. */
Test(mainopt, bad_letter_exits_2_naming_it, .timeout = 30)
{
	static const struct dopy_option dopys[] = {
		{ 'g', "greeting", "", set_greeting, NULL },
		{ 'd', NULL, "", set_excited, &excited },
		{ 0, NULL, NULL, NULL, NULL }
	}, help[] = {
		{ 'h', NULL, "", set_excited, &excited },
		{ 0, NULL, NULL, NULL, NULL }
	}, twice[] = {
		{ 'g', "greeting", "", set_greeting, NULL },
		{ 'x', NULL, "", set_excited, &excited },
		{ 'g', "again", "", set_greeting, NULL },
		{ 0, NULL, NULL, NULL, NULL }
	}, colon[] = {
		{ ':', NULL, "", set_excited, &excited },
		{ 0, NULL, NULL, NULL, NULL }
	};
	static const struct {
		const struct dopy_option	*opts;
		const char			*err;
	} bad[] = {
		{ dopys, "greetd: option -d is one of dopy's own\n" },
		{ help, "greetd: option -h is one of dopy's own\n" },
		{ twice, "greetd: option -g is declared twice\n" },
		{ colon, "greetd: option -: is not a letter or digit\n" },
	};
	char *const none[] = { NULL }, *const some[] = { "-x", "-d", NULL };
	char *out, *err;
	size_t i, k;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (k = 0; k < 2; k++) {
			cr_assert_eq(run(bad[i].opts, k ? some : none, &out,
			    &err), 2, "table %zu", i);
			cr_assert_str_eq(err, bad[i].err, "table %zu", i);
			cr_assert_str_eq(out, "");
			free(out);
			free(err);
		}
	}
}

Test(mainopt, refused_value_exits_2, .timeout = 30)
{
	char *const args[] = { "-d", "-g", "bad", "-x", NULL };
	char *out, *err;

	cr_assert_eq(run(options, args, &out, &err), 2);
	cr_assert_str_eq(err, "greetd: -g bad: invalid\n");
	cr_assert_str_eq(out, "");
	free(out);
	free(err);
}
