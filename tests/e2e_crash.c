/*
 * e2e_crash.c - crash reports (dopy(5): dopy.Crash) from the real
 * dopyd's `crash` object: each fatal signal reaches the client as a
 * remote error with the signal, the address, the call, a trace with
 * function names, host and pid, the log has it, and the server still
 * dies of that signal; nested calls both get it; the forking listener's
 * other connections go on; in -s mode the crashing connection is told
 * and the others are lost; dopy-rsh prints it; -X and
 * DOPY_CRASH_REPORTS=0 turn it off.
 *
 * Under ASan its own SIGSEGV, SIGBUS and SIGFPE handlers come first
 * (dopy installs over the default action only): the servers spawned
 * here get handle_segv=0:handle_sigbus=0:handle_sigfpe=0, so that the
 * reports are tested there too.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e_util.h"

static const struct row {
	const char	*method;
	int		 sig;
	const char	*what;		/* in the message */
	const char	*fn;		/* in the trace */
} rows[] = {
	{ "segv", SIGSEGV, "signal 11 (SIGSEGV: segmentation fault, address "
	    "not mapped) at address 0x0", "crash_segv+" },
	{ "abort", SIGABRT, "(SIGABRT: aborted)", "crash_abort+" },
	{ "fpe", SIGFPE, "(SIGFPE: arithmetic exception, integer divide by "
	    "zero) at instruction 0x", "crash_fpe+" },
	{ "overflow", SIGSEGV, "(SIGSEGV: segmentation fault, stack overflow) "
	    "at address 0x", "crash_deeper+" },
	{ "ill", SIGILL, "(SIGILL: illegal instruction)", "crash_ill+" },
	{ "bus", SIGBUS, "(SIGBUS: bus error)", "crash_bus+" },
	{ "sys", SIGSYS, "(SIGSYS: bad system call)", "crash_sys+" },
	{ "xcpu", SIGXCPU, "(SIGXCPU: CPU time limit exceeded)",
	    "crash_xcpu+" },
	{ "xfsz", SIGXFSZ, "(SIGXFSZ: file size limit exceeded)",
	    "crash_xfsz+" },
	{ "seccomp", SIGSYS, "(SIGSYS: bad system call ", "crash_seccomp+" },
};

/* ASan's handlers out of the way of dopy's, in the servers we start. */
static void
asan_off_signals(void)
{
	const char *old = getenv("ASAN_OPTIONS");
	char opts[1024];

	snprintf(opts, sizeof(opts), "%s%shandle_segv=0:handle_sigbus=0:"
	    "handle_sigfpe=0", old != NULL ? old : "", old != NULL &&
	    *old != '\0' ? ":" : "");
	setenv("ASAN_OPTIONS", opts, 1);
}

static void
setup(void)
{
	asan_off_signals();
	unsetenv("DOPY_CRASH_REPORTS");
}

TestSuite(crash, .init = setup, .timeout = 30);

static char *
hostname(void)
{
	static char h[256];

	cr_assert_eq(gethostname(h, sizeof(h)), 0);
	return h;
}

/* Whether a line of e's trace holds s. */
static int
trace_has(const dopy_error *e, const char *s)
{
	size_t i;

	for (i = 0; i < dopy_error_trace_len(e); i++)
		if (strstr(dopy_error_trace(e, i), s) != NULL)
			return 1;
	return 0;
}

/* e is the report of crash.method dying as r says, by server pid. */
static void
assert_report(const dopy_error *e, const struct row *r, long pid,
    uint32_t id)
{
	char want[300], where[400];

	cr_assert_eq(dopy_error_code(e), DOPY_E_REMOTE, "code %d",
	    dopy_error_code(e));
	cr_assert_str_eq(dopy_error_name(e), "dopy.Crash");
	snprintf(want, sizeof(want), "crash.%s: the server died of signal %d "
	    "(", r->method, r->sig);
	cr_assert(strstr(dopy_error_message(e), want) ==
	    dopy_error_message(e), "message %s", dopy_error_message(e));
	cr_assert(strstr(dopy_error_message(e), r->what), "message %s, "
	    "want %s", dopy_error_message(e), r->what);
	snprintf(want, sizeof(want), " in call %u", id);
	cr_assert(strstr(dopy_error_message(e), want), "message %s",
	    dopy_error_message(e));
	cr_assert_str_eq(dopy_error_object(e), "crash");
	cr_assert_str_eq(dopy_error_method(e), r->method);
	cr_assert_str_eq(dopy_error_host(e), hostname());
	cr_assert_eq(dopy_error_pid(e), pid);
	cr_assert(trace_has(e, r->fn), "no %s in the trace", r->fn);
	snprintf(where, sizeof(where), "in crash.%s on host %s pid %ld",
	    r->method, hostname(), pid);
	cr_assert_str_eq(dopy_error_trace(e, dopy_error_trace_len(e) - 1),
	    where);
}

E2E_TABLE_PARAMS(crash, each_signal, rows)

ParameterizedTest(size_t *i, crash, each_signal)
{
	const struct row *r = &rows[*i];
	char log[600], want[300];
	dopy_conn *c;
	dopy_proxy *p, *iso;
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	char *text;
	long pid;
	int st;

	snprintf(log, sizeof(log), "%s/log", e2e_tmpdir());
	c = e2e_dopyd_conn(log);
	iso = dopy_proxy_new(c, "iso");
	pid = (long)e2e_call_int(iso, "pid", NULL);
	p = dopy_proxy_new(c, "crash");
	cr_assert_eq(dopy_proxy_call(p, r->method, NULL, &v, &e),
	    DOPY_E_REMOTE, "%s", dopy_error_message(e));
	assert_report(e, r, pid, 2);	/* iso.pid was call 1 */
	dopy_error_free(e);
	dopy_proxy_free(p);
	dopy_proxy_free(iso);
	/* dopy_conn_close reaps it: 128 + the signal it died of. */
	cr_assert_eq(st = dopy_conn_close(c), 128 + r->sig, "the server "
	    "ended with %d, want 128 + signal %d", st, r->sig);
	cr_assert_not_null(text = e2e_slurp(log, NULL));
	snprintf(want, sizeof(want), "]: dopy.Crash: crash.%s: the server "
	    "died of signal %d (", r->method, r->sig);
	cr_assert(strstr(text, want), "log:\n%s", text);
	cr_assert(strstr(text, r->fn), "no %s in the log:\n%s", r->fn, text);
	free(text);
}

/* ---- by hand: nested calls ---- */

static void
assert_died(int status, int sig, const char *who)
{
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == sig, "%s ended "
	    "with %s, want signal %d", who, e2e_status(status), sig);
}

static void
send_call(struct e2e_proc *p, uint32_t id, const char *object,
    const char *method, size_t argc, dopy_value *const *args)
{
	struct dopy_buf b;

	dopy_buf_init(&b);
	e2e_call(&b, id, object, method, argc, NULL, args);
	e2e_send(p, &b);
	dopy_buf_release(&b);
}

Test(crash, nested_calls_both_get_it)
{
	dopy_value *a[3] = { dopy_value_string("client"),
	    dopy_value_string("echo"), dopy_value_string("x") };
	const struct row r = { "segv", SIGSEGV, "at address 0x0",
	    "crash_segv+" };
	struct e2e_proc p;
	struct e2e_frame f;
	dopy_error *e;

	e2e_dopyd_features(&p, 0);
	/* cb.call waits for its CALLBACK's answer, serving our calls
	 * meanwhile: crash.segv runs nested inside it. */
	send_call(&p, 1, "cb", "call", 3, a);
	cr_assert_eq(e2e_read_frame(p.out, &f, E2E_WAIT_MS), 1);
	cr_assert_eq(f.type, DOPY_F_CALLBACK, "frame type %u", f.type);
	free(f.payload);
	send_call(&p, 2, "crash", "segv", 0, NULL);
	e = e2e_expect_error(p.out, 2, "dopy.Crash");
	assert_report(e, &r, p.pid, 2);
	dopy_error_free(e);
	/* The outer call: the same report, which names the inner one. */
	e = e2e_expect_error(p.out, 1, "dopy.Crash");
	assert_report(e, &r, p.pid, 2);
	dopy_error_free(e);
	cr_assert_eq(e2e_read_frame(p.out, &f, E2E_WAIT_MS), 0,
	    "more after the reports");
	e2e_close(&p);
	assert_died(e2e_wait(&p, E2E_WAIT_MS), SIGSEGV, "dopyd");
}

/* ---- listeners ---- */

static void
crash_on(dopy_conn *c)
{
	dopy_proxy *p = dopy_proxy_new(c, "crash");
	dopy_value *v = NULL;
	dopy_error *e = NULL;

	cr_assert_eq(dopy_proxy_call(p, "segv", NULL, &v, &e),
	    DOPY_E_REMOTE, "%s", dopy_error_message(e));
	cr_assert_str_eq(dopy_error_name(e), "dopy.Crash");
	cr_assert(trace_has(e, "crash_segv+"));
	dopy_error_free(e);
	dopy_proxy_free(p);
}

static int64_t
add(dopy_conn *c, int64_t x, int64_t y, dopy_error **e)
{
	dopy_proxy *p = dopy_proxy_new(c, "test");
	dopy_args *a = dopy_args_new();
	dopy_value *v = NULL;
	int64_t sum = -1;
	int r;

	dopy_args_int(a, NULL, x);
	dopy_args_int(a, NULL, y);
	if ((r = dopy_proxy_call(p, "add", a, &v, e)) == 0)
		sum = dopy_value_get_int(v);
	else
		sum = r;
	dopy_value_free(v);
	dopy_args_free(a);
	dopy_proxy_free(p);
	return sum;
}

static void
listener(struct e2e_proc *l, char *target, size_t size, const char *opt)
{
	snprintf(target, size, "unix:%s/crash.sock", e2e_tmpdir());
	e2e_listener(l, target, opt);
}

Test(crash, forking_listener_others_go_on)
{
	struct e2e_proc l;
	char target[700], *log;
	dopy_conn *a, *b;
	dopy_error *e = NULL;

	listener(&l, target, sizeof(target), NULL);
	a = e2e_connect(target);
	b = e2e_connect(target);
	cr_assert_eq(add(b, 1, 2, &e), 3);
	crash_on(a);
	cr_assert_eq(add(b, 3, 4, &e), 7, "%s", dopy_error_message(e));
	dopy_conn_close(a);
	cr_assert_eq(dopy_conn_close(b), -1);	/* not a child of ours */
	/* Another connection is served as before. */
	a = e2e_connect(target);
	cr_assert_eq(add(a, 5, 6, &e), 11);
	dopy_conn_close(a);
	kill(l.pid, SIGTERM);
	cr_assert(e2e_exited(e2e_wait(&l, 5000), 0), "listener after "
	    "SIGTERM");
	/* -d: the connection process logged it on stderr. */
	cr_assert_not_null(log = e2e_slurp(l.errpath, NULL));
	cr_assert(strstr(log, "dopy.Crash: crash.segv: the server died of "
	    "signal 11"), "log:\n%s", log);
	free(log);
}

Test(crash, single_process_tells_the_crashing_connection)
{
	struct e2e_proc l;
	char target[700];
	dopy_conn *a, *b;
	dopy_error *e = NULL;
	int64_t r;

	listener(&l, target, sizeof(target), "-s");
	a = e2e_connect(target);
	b = e2e_connect(target);
	cr_assert_eq(add(b, 1, 2, &e), 3);
	crash_on(a);
	/* The one process is gone: b's connection with it, unannounced
	 * (dopyd(8): Forking or single-process). */
	r = add(b, 3, 4, &e);
	cr_assert(r == DOPY_E_LOST || r == DOPY_E_CLOSED, "b's call: %lld "
	    "%s", (long long)r, dopy_error_message(e));
	dopy_error_free(e);
	dopy_conn_close(a);
	dopy_conn_close(b);
	assert_died(e2e_wait(&l, E2E_WAIT_MS), SIGSEGV, "the -s listener");
}

/* ---- dopy-rsh, the switch, isolated calls ---- */

Test(crash, rsh_prints_the_report)
{
	char *argv[] = { (char *)e2e_bin("dopy-rsh"), (char *)e2e_bin("dopyd"),
	    "crash", "abort", NULL };
	struct e2e_run r;

	e2e_run(&r, argv);
	cr_assert(e2e_exited(r.status, 1), "dopy-rsh %s: %s",
	    e2e_status(r.status), r.err);
	cr_assert(strstr(r.err, "remote error: dopy.Crash: crash.abort: the "
	    "server died of signal 6 (SIGABRT: aborted) in call "), "%s",
	    r.err);
	cr_assert(strstr(r.err, "remote trace (most recent first):"), "%s",
	    r.err);
	cr_assert(strstr(r.err, "    crash_abort+0x"), "%s", r.err);
	e2e_run_free(&r);
}

/* crash.segv on `dopyd opt`: the call's code, its error in *e, the
 * server's end in *end (as dopy_conn_close gives it). */
static int
segv_with(const char *opt, dopy_error **e, int *end)
{
	char cmd[1024];
	dopy_conn *c = NULL;
	dopy_proxy *p;
	dopy_value *v = NULL;
	int r;

	snprintf(cmd, sizeof(cmd), "exec %s -L /dev/null %s",
	    e2e_bin("dopyd"), opt);
	cr_assert_eq(dopy_conn_spawn(cmd, &c, e), 0);
	p = dopy_proxy_new(c, "crash");
	r = dopy_proxy_call(p, "segv", NULL, &v, e);
	dopy_proxy_free(p);
	*end = dopy_conn_close(c);
	return r;
}

/* Without reports: the connection is lost, and the signal is the same. */
static void
no_report(const char *opt)
{
	dopy_error *e = NULL;
	int end;

	cr_assert_eq(segv_with(opt, &e, &end), DOPY_E_LOST, "%s",
	    dopy_error_message(e));
	dopy_error_free(e);
	cr_assert_eq(end, 128 + SIGSEGV);
}

Test(crash, off_with_X)
{
	no_report("-X");
}

Test(crash, off_by_environment)
{
	setenv("DOPY_CRASH_REPORTS", "0", 1);
	no_report("");
}

Test(crash, without_traces_only_names)
{
	dopy_error *e = NULL;
	int end;

	cr_assert_eq(segv_with("-E", &e, &end), DOPY_E_REMOTE);
	cr_assert_str_eq(dopy_error_name(e), "dopy.Crash");
	cr_assert_eq(dopy_error_trace_len(e), 0);
	cr_assert_str_eq(dopy_error_host(e), "");
	dopy_error_free(e);
	cr_assert_eq(end, 128 + SIGSEGV);
}

/* An isolated call's child answers for itself, and the connection
 * goes on: dopy.Crashed, with the child's trace and pid. */
Test(crash, isolated_child_reports_its_call)
{
	char cmd[1024];
	dopy_conn *c = NULL;
	dopy_proxy *p, *iso;
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	long pid;

	snprintf(cmd, sizeof(cmd), "exec %s -L /dev/null -I crash.segv",
	    e2e_bin("dopyd"));
	cr_assert_eq(dopy_conn_spawn(cmd, &c, &e), 0);
	iso = dopy_proxy_new(c, "iso");
	pid = (long)e2e_call_int(iso, "pid", NULL);
	p = dopy_proxy_new(c, "crash");
	cr_assert_eq(dopy_proxy_call(p, "segv", NULL, &v, &e),
	    DOPY_E_REMOTE);
	cr_assert_str_eq(dopy_error_name(e), "dopy.Crashed");
	cr_assert(strstr(dopy_error_message(e), "crash.segv: the isolated "
	    "call died of signal 11 (SIGSEGV: segmentation fault, address not "
	    "mapped) at address 0x0 in call 2"), "%s", dopy_error_message(e));
	cr_assert(trace_has(e, "crash_segv+"), "no crash_segv in the trace");
	cr_assert(dopy_error_pid(e) > 0 && dopy_error_pid(e) != pid,
	    "pid %ld: not the child's", dopy_error_pid(e));
	dopy_error_free(e);
	cr_assert_eq(e2e_call_int(iso, "pid", NULL), pid);
	dopy_proxy_free(p);
	dopy_proxy_free(iso);
	cr_assert_eq(dopy_conn_close(c), 0);
}

/* ---- a client's callback that crashes ---- */

static int
client_segv(dopy_call *c)
{
	(void)c;
	signal(SIGSEGV, SIG_DFL);	/* a sanitizer's handler would report */
	raise(SIGSEGV);
	return 0;
}

static const struct dopy_method crashing_methods[] = {
	{ "segv", client_segv, "arg:string", "string", "Die." },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_object_def crashing_client = {
	"client", "A client whose callback dies.", crashing_methods, NULL,
	NULL
};

/* The client process: publish, call cb.call(client.segv) and die in
 * the callback.  Exits 0 only if it lived, which the test refuses. */
static void
crash_in_callback(const char *log)
{
	char cmd[1024];
	dopy_conn *c = NULL;
	dopy_proxy *p;
	dopy_args *a = dopy_args_new();
	dopy_value *v = NULL;

	snprintf(cmd, sizeof(cmd), "exec %s -L %s", e2e_bin("dopyd"), log);
	if (dopy_conn_spawn(cmd, &c, NULL) != 0 ||
	    dopy_conn_publish(c, &crashing_client, NULL) != 0)
		_exit(2);
	p = dopy_proxy_new(c, "cb");
	dopy_args_string(a, NULL, "client");
	dopy_args_string(a, NULL, "segv");
	dopy_args_string(a, NULL, "x");
	(void)dopy_proxy_call(p, "call", a, &v, NULL);
	_exit(0);
}

/*
 * A crash in the client's own callback takes the client down, not the
 * server: the method that waited for the callback sees its connection
 * lost (dopy.ConnectionLost, dopy(3)), nobody is left to answer, and
 * the server ends as at any EOF, status 0, without a crash of its own.
 */
Test(crash, client_callback_crash_loses_the_connection, .timeout = 30)
{
	char log[600], *line, *text;
	pid_t pid;
	int st;

	snprintf(log, sizeof(log), "%s/cbcrash.log", e2e_tmpdir());
	if ((pid = fork()) == 0)
		crash_in_callback(log);
	cr_assert(pid > 0);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	assert_died(st, SIGSEGV, "the client");
	line = e2e_dopyd_exit_line(log, E2E_WAIT_MS);
	cr_assert(strstr(line, " calls=1 ") && strstr(line, " status=0"),
	    "%s", line);
	free(line);
	text = e2e_slurp(log, NULL);
	cr_assert(text != NULL && strstr(text, "dopy.Crash") == NULL,
	    "log: %s", text);
	free(text);
}
