/*
 * e2e_store.c - the naming service and pos against the real dopyd, the
 * way they are used: many connection processes (each its own server
 * process) sharing one store directory at once, servers SIGKILLed in
 * the middle of writes, hostile paths, symlinks and damaged files,
 * name: targets, and the walk-through a new user makes with dopy-rsh.
 *
 * Client processes forked here never call criterion: they report
 * through a pipe and leave with _exit(), so neither criterion's state
 * nor e2e_util's tmpdir cleanup runs in them.  Every process started
 * here dies with its parent (PR_SET_PDEATHSIG) and is reaped by PID
 * within a deadline.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/logging.h>

#include "e2e_util.h"

#define NWORKERS	8
#define CALL_MS		20000	/* a single call's limit */

static char	dopyd_path[PATH_MAX];

static int64_t
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A fresh directory (mkdtemp) inside the test's private one; also
 * notes where dopyd is, for srv_start (which may not call criterion). */
static char *
fresh_dir(const char *what)
{
	char *d;

	cr_assert(asprintf(&d, "%s/%s.XXXXXX", e2e_tmpdir(), what) > 0);
	cr_assert_not_null(mkdtemp(d), "mkdtemp %s: %s", d, strerror(errno));
	snprintf(dopyd_path, sizeof(dopyd_path), "%s", e2e_bin("dopyd"));
	return d;
}

static char *
path_join(const char *a, const char *b)
{
	char *p;

	cr_assert(asprintf(&p, "%s/%s", a, b) > 0);
	return p;
}

/* ---- servers on our own pipes: no criterion calls (workers use it) ---- */

struct srv {
	pid_t		 pid;
	dopy_conn	*conn;
	char		 errpath[PATH_MAX];	/* dopyd's stderr */
};

/*
 * Start `dopyd -d [-N ns] [-P pos]` with its stderr in errpath and make
 * the HELLO exchange.  0, or -1 with the reason in msg.
 */
static int
srv_start(struct srv *s, const char *ns, const char *pos,
    const char *errpath, char *msg, size_t msglen)
{
	char *argv[8];
	int to[2], from[2], errfd, argc = 0, r;
	pid_t parent = getpid();
	dopy_error *e = NULL;

	s->pid = 0;
	s->conn = NULL;
	snprintf(s->errpath, sizeof(s->errpath), "%s", errpath);
	argv[argc++] = dopyd_path;
	argv[argc++] = "-d";
	if (ns != NULL) {
		argv[argc++] = "-N";
		argv[argc++] = (char *)ns;
	}
	if (pos != NULL) {
		argv[argc++] = "-P";
		argv[argc++] = (char *)pos;
	}
	argv[argc] = NULL;
	errfd = open(errpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (errfd < 0 || pipe2(to, O_CLOEXEC) != 0 ||
	    pipe2(from, O_CLOEXEC) != 0) {
		snprintf(msg, msglen, "%s: %s", errpath, strerror(errno));
		return -1;
	}
	if ((s->pid = fork()) < 0) {
		snprintf(msg, msglen, "fork: %s", strerror(errno));
		return -1;
	}
	if (s->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		if (dup2(to[0], 0) < 0 || dup2(from[1], 1) < 0 ||
		    dup2(errfd, 2) < 0)
			_exit(126);
		signal(SIGPIPE, SIG_DFL);
		execv(argv[0], argv);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	close(errfd);
	if ((r = dopy_conn_fds(from[0], to[1], &s->conn, &e)) < 0) {
		snprintf(msg, msglen, "HELLO with dopyd: %s", e != NULL ?
		    dopy_error_message(e) : dopy_strerror(r));
		dopy_error_free(e);
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
		return -1;
	}
	dopy_conn_set_timeout(s->conn, CALL_MS);
	return 0;
}

/* Wait for pid up to ms; SIGKILL it after.  The status, or -1 if it had
 * to be killed. */
static int
reap_pid(pid_t pid, int ms)
{
	int64_t end = ms_now() + ms;
	int status;
	pid_t r;

	while ((r = waitpid(pid, &status, WNOHANG)) == 0 && ms_now() < end)
		usleep(1000);
	if (r == pid)
		return status;
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

/* Close the connection (EOF: dopyd ends) and reap the server. */
static int
srv_stop(struct srv *s)
{
	int status = -1;

	dopy_conn_close(s->conn);
	s->conn = NULL;
	if (s->pid > 0)
		status = reap_pid(s->pid, 5000);
	s->pid = 0;
	return status;
}

/* ---- calls ---- */

#define S(x)	dopy_value_string(x)
#define I(x)	dopy_value_int(x)

/* Positional arguments, NULL-terminated; takes the values. */
static dopy_args *
args(dopy_value *v, ...)
{
	dopy_args *a = dopy_args_new();
	va_list ap;

	va_start(ap, v);
	for (; v != NULL; v = va_arg(ap, dopy_value *))
		if (a != NULL)
			dopy_args_add(a, NULL, v);
		else
			dopy_value_free(v);
	va_end(ap);
	return a;
}

/* One call; frees a.  0 or the code, with *err set on failure. */
static int
call(dopy_conn *c, const char *obj, const char *meth, dopy_args *a,
    dopy_value **res, dopy_error **err)
{
	dopy_proxy *p = dopy_proxy_new(c, obj);
	int r;

	*res = NULL;
	*err = NULL;
	r = p == NULL ? DOPY_E_NOMEM : dopy_proxy_call(p, meth, a, res, err);
	dopy_proxy_free(p);
	dopy_args_free(a);
	return r;
}

static const char *
ename(const dopy_error *e)
{
	return e != NULL && dopy_error_name(e) != NULL ?
	    dopy_error_name(e) : "(none)";
}

/* The call must succeed; its result (may be NULL). */
static dopy_value *
ok(struct srv *s, const char *obj, const char *meth, dopy_args *a)
{
	dopy_value *v;
	dopy_error *e;
	char *text;
	int r;

	if ((r = call(s->conn, obj, meth, a, &v, &e)) < 0) {
		text = e != NULL ? dopy_error_format(e) : NULL;
		cr_assert_fail("%s.%s failed: %s", obj, meth, text != NULL ?
		    text : dopy_strerror(r));
	}
	return v;
}

static void
ok_void(struct srv *s, const char *obj, const char *meth, dopy_args *a)
{
	dopy_value_free(ok(s, obj, meth, a));
}

static int64_t
ok_int(struct srv *s, const char *obj, const char *meth, dopy_args *a)
{
	dopy_value *v = ok(s, obj, meth, a);
	int64_t n;

	cr_assert(v != NULL && dopy_value_kind(v) == DOPY_INT,
	    "%s.%s: want an int", obj, meth);
	n = dopy_value_get_int(v);
	dopy_value_free(v);
	return n;
}

/* The call must fail with the remote error name; returns the error. */
static dopy_error *
refused_e(struct srv *s, const char *obj, const char *meth, dopy_args *a,
    const char *name, const char *what)
{
	dopy_value *v;
	dopy_error *e;
	char *fv;
	int r;

	r = call(s->conn, obj, meth, a, &v, &e);
	if (r == 0) {
		fv = v != NULL ? dopy_value_format(v) : NULL;
		cr_assert_fail("%s.%s(%s) succeeded (%s), want %s", obj, meth,
		    what, fv != NULL ? fv : "no result", name);
	}
	cr_assert(e != NULL && dopy_error_name(e) != NULL &&
	    strcmp(dopy_error_name(e), name) == 0,
	    "%s.%s(%s): %s: %s (code %d), want %s", obj, meth, what, ename(e),
	    e != NULL ? dopy_error_message(e) : "", r, name);
	return e;
}

static void
refused(struct srv *s, const char *obj, const char *meth, dopy_args *a,
    const char *name, const char *what)
{
	dopy_error_free(refused_e(s, obj, meth, a, name, what));
}

/* Start a server for the test process itself. */
static void
start(struct srv *s, const char *ns, const char *pos)
{
	char msg[300], *errpath;
	static int n;

	cr_assert(asprintf(&errpath, "%s/dopyd.%d.err", e2e_tmpdir(),
	    n++) > 0);
	cr_assert(srv_start(s, ns, pos, errpath, msg, sizeof(msg)) == 0,
	    "%s", msg);
	free(errpath);
}

static void
stop(struct srv *s)
{
	int status = srv_stop(s);

	e2e_check_sanitizers(s->errpath, "dopyd");
	cr_assert(status != -1 && e2e_exited(status, 0),
	    "dopyd ended with %s after EOF", status == -1 ? "a kill" :
	    e2e_status(status));
}

/* Fail the test if any dopyd stderr in the test's directory holds a
 * sanitizer report. */
static void
check_server_logs(void)
{
	struct dirent *de;
	char *p;
	DIR *d;

	cr_assert_not_null(d = opendir(e2e_tmpdir()));
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "dopyd.", 6) == 0 ||
		    strncmp(de->d_name, "stderr.", 7) == 0) {
			p = path_join(e2e_tmpdir(), de->d_name);
			e2e_check_sanitizers(p, de->d_name);
			free(p);
		}
	closedir(d);
}

/* ---- client processes ---- */

struct job {
	const char	*ns, *pos;
	int		 n;		/* calls per worker */
	const char	*target;	/* connect here instead of spawning */
};

struct wres {
	int	rc;		/* 0: all as expected */
	long	v[4];
	char	msg[400];
};

typedef void (*work_fn)(int k, const struct job *, struct srv *,
    struct wres *);

static void __attribute__((format(printf, 2, 3)))
wfail(struct wres *w, const char *fmt, ...)
{
	va_list ap;

	if (w->rc != 0)
		return;		/* keep the first */
	w->rc = 1;
	va_start(ap, fmt);
	vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
	va_end(ap);
}

static void
worker_main(int k, work_fn fn, const struct job *j, int fd)
{
	struct wres w;
	struct srv s;
	char errpath[PATH_MAX];

	memset(&w, 0, sizeof(w));
	snprintf(errpath, sizeof(errpath), "%s/dopyd.w%d.err", e2e_tmpdir(),
	    k);
	if (j->target != NULL) {
		dopy_error *e = NULL;

		memset(&s, 0, sizeof(s));
		if (dopy_connect(j->target, &s.conn, &e) < 0) {
			wfail(&w, "connect %s: %s", j->target,
			    e != NULL ? dopy_error_message(e) : "failed");
			dopy_error_free(e);
		} else {
			dopy_conn_set_timeout(s.conn, CALL_MS);
			fn(k, j, &s, &w);
			dopy_conn_close(s.conn);
		}
	} else if (srv_start(&s, j->ns, j->pos, errpath, w.msg,
	    sizeof(w.msg)) < 0)
		w.rc = 1;
	else {
		fn(k, j, &s, &w);
		if (srv_stop(&s) != 0)
			wfail(&w, "its dopyd did not end cleanly");
	}
	if (write(fd, &w, sizeof(w)) != (ssize_t)sizeof(w))
		_exit(2);
	_exit(0);
}

/*
 * Fork NWORKERS client processes running fn, each with its own dopyd,
 * all started together; reap them by PID within ms and fail the test
 * unless every one reports success.  Their reports go to out.
 */
static void
run_workers(work_fn fn, const struct job *j, int ms, struct wres *out)
{
	pid_t pids[NWORKERS], parent = getpid();
	int fds[NWORKERS][2], go[2], k, st[NWORKERS];
	ssize_t n[NWORKERS];
	int64_t end;
	char c;

	(void)e2e_tmpdir();	/* made before the fork */
	cr_assert(pipe2(go, O_CLOEXEC) == 0);
	for (k = 0; k < NWORKERS; k++) {
		cr_assert(pipe2(fds[k], O_CLOEXEC) == 0);
		pids[k] = fork();
		cr_assert(pids[k] >= 0, "fork: %s", strerror(errno));
		if (pids[k] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(1);
			close(go[1]);
			/* Start line: all begin at once. */
			if (read(go[0], &c, 1) < 0)
				_exit(1);
			worker_main(k, fn, j, fds[k][1]);
		}
		close(fds[k][1]);
	}
	close(go[0]);
	close(go[1]);		/* EOF: go */
	end = ms_now() + ms;
	for (k = 0; k < NWORKERS; k++) {
		int64_t left = end - ms_now();

		/* Past the deadline the rest are killed, but all reaped. */
		st[k] = reap_pid(pids[k], left > 0 ? (int)left : 0);
		memset(&out[k], 0, sizeof(out[k]));
		n[k] = read(fds[k][0], &out[k], sizeof(out[k]));
		close(fds[k][0]);
	}
	for (k = 0; k < NWORKERS; k++) {
		cr_assert(st[k] != -1, "client %d did not finish within %d ms "
		    "(killed)", k, ms);
		cr_assert(e2e_exited(st[k], 0) &&
		    n[k] == (ssize_t)sizeof(out[k]),
		    "client %d: %s without a report", k, e2e_status(st[k]));
		cr_assert(out[k].rc == 0, "client %d: %s", k, out[k].msg);
	}
	check_server_logs();
}

/* ---- concurrency ---- */

static void
w_incr(int k, const struct job *j, struct srv *s, struct wres *w)
{
	dopy_value *v;
	dopy_error *e;
	int64_t prev = 0, n;
	int i, r;

	(void)k;	/* all clients do the same */
	for (i = 0; i < j->n && w->rc == 0; i++) {
		r = call(s->conn, "pos/c", "incr", NULL, &v, &e);
		if (r < 0)
			wfail(w, "incr %d: %s: %s", i, ename(e),
			    e != NULL ? dopy_error_message(e) :
			    dopy_strerror(r));
		/* Others only add: each value we see is above the last. */
		else if ((n = dopy_value_get_int(v)) <= prev ||
		    n > NWORKERS * j->n)
			wfail(w, "incr %d: got %lld after %lld", i,
			    (long long)n, (long long)prev);
		else
			prev = n;
		dopy_value_free(v);
		dopy_error_free(e);
	}
	w->v[0] = (long)prev;
}

Test(store_concurrency, counter_8x500, .timeout = 150)
{
	char *dir = fresh_dir("st"), *pos = path_join(dir, "pos");
	struct job j = { NULL, pos, 500, NULL };
	struct wres res[NWORKERS];
	struct srv s;
	dopy_value *v;
	int64_t t0, n;
	int k;

	start(&s, NULL, pos);
	ok_void(&s, "pos", "create", args(S("c"), S("counter"), NULL));
	stop(&s);
	t0 = ms_now();
	run_workers(w_incr, &j, 140000, res);
	cr_log_info("8 x 500 incr: %lld ms", (long long)(ms_now() - t0));
	start(&s, NULL, pos);
	n = ok_int(&s, "pos/c", "get", NULL);
	cr_assert_eq(n, 4000, "counter is %lld after 8 x 500 incr",
	    (long long)n);
	cr_assert_eq(ok_int(&s, "pos", "fetch", args(S("c"), NULL)), 4000);
	for (k = 0; k < NWORKERS; k++)
		cr_assert(res[k].v[0] >= 500, "client %d last saw %ld", k,
		    res[k].v[0]);
	v = ok(&s, "pos", "list", args(S(""), dopy_value_bool(1), NULL));
	cr_assert(dopy_value_len(v) == 1 && strcmp(dopy_value_get_string(
	    dopy_value_at(v, 0)), "c") == 0, "list: %s",
	    dopy_value_format(v));
	dopy_value_free(v);
	stop(&s);
	free(pos);
	free(dir);
}

/* Start a listener `dopyd ... -B -l 127.0.0.1:0 ...` (argv) and return
 * its target, tcp:127.0.0.1:PORT, from the port it prints. */
static char *
listen_tcp(struct e2e_proc *lp, char *const argv[])
{
	char port[16], *target;
	ssize_t n;

	e2e_spawn(lp, argv);
	memset(port, 0, sizeof(port));
	for (n = 0; n < (ssize_t)sizeof(port) - 1; n++)
		if (e2e_read(lp->out, port + n, 1, E2E_WAIT_MS) != 1 ||
		    port[n] == '\n')
			break;
	port[n] = '\0';
	cr_assert(n > 0 && strspn(port, "0123456789") == (size_t)n,
	    "dopyd -B printed '%s'", port);
	cr_assert(asprintf(&target, "tcp:127.0.0.1:%s", port) > 0);
	return target;
}

/* The same through the forking TCP listener: a process per connection
 * that the listener forked, not one we spawned. */
Test(store_concurrency, counter_tcp_listener_8x100, .timeout = 120)
{
	char *dir = fresh_dir("st"), *pos = path_join(dir, "pos"), *target;
	/* -T 1: on SIGTERM, connections get a second, then SIGTERM, well
	 * within our wait (its children are not ours to reap). */
	char *argv[] = { (char *)e2e_bin("dopyd"), "-d", "-T", "1", "-l",
	    "127.0.0.1:0", "-B", "-P", pos, NULL };
	struct job j = { NULL, NULL, 100, NULL };
	struct wres res[NWORKERS];
	struct e2e_proc lp;
	dopy_value *v;
	dopy_error *e;
	dopy_conn *c;
	int64_t t0;
	int st;

	target = listen_tcp(&lp, argv);
	cr_assert(dopy_connect(target, &c, &e) == 0, "%s: %s", target,
	    e != NULL ? dopy_error_message(e) : "failed");
	{
		struct srv s = { 0, c, "" };

		ok_void(&s, "pos", "create", args(S("c"), S("counter"), NULL));
	}
	dopy_conn_close(c);
	j.target = target;
	t0 = ms_now();
	run_workers(w_incr, &j, 110000, res);
	cr_log_info("8 x 100 incr over TCP: %lld ms",
	    (long long)(ms_now() - t0));
	cr_assert(dopy_connect(target, &c, &e) == 0);
	{
		struct srv s = { 0, c, "" };

		cr_assert_eq(ok_int(&s, "pos/c", "get", NULL), NWORKERS * 100);
		v = ok(&s, "pos", "list", args(S(""), dopy_value_bool(1),
		    NULL));
		cr_assert_eq(dopy_value_len(v), 1);
		dopy_value_free(v);
	}
	dopy_conn_close(c);
	kill(lp.pid, SIGTERM);
	st = e2e_wait(&lp, 10000);
	cr_assert(e2e_exited(st, 0), "listener: %s", e2e_status(st));
	free(target);
	free(pos);
	free(dir);
}

static void
w_bind_distinct(int k, const struct job *j, struct srv *s, struct wres *w)
{
	char name[64], t[64], o[64], m[64];
	dopy_value *v;
	dopy_error *e;
	int i;

	for (i = 0; i < j->n && w->rc == 0; i++) {
		snprintf(name, sizeof(name), "g%d.n%d", k, i);
		snprintf(t, sizeof(t), "t-%d-%d", k, i);
		snprintf(o, sizeof(o), "o-%d-%d", k, i);
		snprintf(m, sizeof(m), "m-%d-%d", k, i);
		if (call(s->conn, "naming", "bind", args(S(name), S(t), S(o),
		    S(m), NULL), &v, &e) < 0)
			wfail(w, "bind %s: %s: %s", name, ename(e),
			    e != NULL ? dopy_error_message(e) : "");
		dopy_value_free(v);
		dopy_error_free(e);
	}
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

Test(store_concurrency, naming_distinct_8x200, .timeout = 120)
{
	char *dir = fresh_dir("st"), *ns = path_join(dir, "ns");
	struct job j = { ns, NULL, 200, NULL };
	struct wres res[NWORKERS];
	char *names[NWORKERS * 200], want[64];
	dopy_value *v, *entry;
	struct srv s;
	int64_t t0;
	size_t i, n;
	int k, wi;

	t0 = ms_now();
	run_workers(w_bind_distinct, &j, 110000, res);
	cr_log_info("8 x 200 distinct binds: %lld ms",
	    (long long)(ms_now() - t0));
	start(&s, ns, NULL);
	v = ok(&s, "naming", "list", args(S(""), dopy_value_bool(1), NULL));
	n = dopy_value_len(v);
	cr_assert_eq(n, (size_t)NWORKERS * 200, "list shows %zu names", n);
	for (i = 0; i < n; i++)
		names[i] = (char *)dopy_value_get_string(dopy_value_at(v, i));
	qsort(names, n, sizeof(names[0]), cmp_str);
	for (i = 1; i < n; i++)
		cr_assert(strcmp(names[i - 1], names[i]) != 0,
		    "%s listed twice", names[i]);
	for (i = 0; i < n; i++) {
		cr_assert(sscanf(names[i], "g%d.n%d", &k, &wi) == 2 &&
		    k >= 0 && k < NWORKERS && wi >= 0 && wi < 200,
		    "unexpected name %s", names[i]);
		snprintf(want, sizeof(want), "g%d.n%d", k, wi);
		cr_assert_str_eq(names[i], want);
		entry = ok(&s, "naming", "resolve", args(S(names[i]), NULL));
		snprintf(want, sizeof(want), "t-%d-%d", k, wi);
		cr_assert_str_eq(dopy_value_get_string(dopy_value_at(entry,
		    0)), want, "%s", names[i]);
		snprintf(want, sizeof(want), "o-%d-%d", k, wi);
		cr_assert_str_eq(dopy_value_get_string(dopy_value_at(entry,
		    1)), want, "%s", names[i]);
		snprintf(want, sizeof(want), "m-%d-%d", k, wi);
		cr_assert_str_eq(dopy_value_get_string(dopy_value_at(entry,
		    2)), want, "%s", names[i]);
		dopy_value_free(entry);
	}
	dopy_value_free(v);
	/* A group as list prints it ("g3.") lists that group. */
	v = ok(&s, "naming", "list", args(S("g3."), NULL));
	cr_assert_eq(dopy_value_len(v), 200, "list g3.: %zu names",
	    dopy_value_len(v));
	cr_assert_eq(strncmp(dopy_value_get_string(dopy_value_at(v, 0)),
	    "g3.n", 4), 0, "list g3.: %s", dopy_value_get_string(
	    dopy_value_at(v, 0)));
	dopy_value_free(v);
	/* The groups, each once. */
	v = ok(&s, "naming", "list", args(S(""), NULL));
	cr_assert_eq(dopy_value_len(v), (size_t)NWORKERS, "%s",
	    dopy_value_format(v));
	for (i = 0; i < dopy_value_len(v); i++) {
		const char *g = dopy_value_get_string(dopy_value_at(v, i));

		cr_assert(g[0] == 'g' && g[strlen(g) - 1] == '.',
		    "group %s", g);
	}
	dopy_value_free(v);
	stop(&s);
	free(ns);
	free(dir);
}

/* Padding in meta, so an entry spans more than a page. */
#define PAD	5000

static char *
meta_for(int k, int i)
{
	char *m, *p;
	int len;

	cr_assert_not_null(m = malloc(PAD + 64));
	len = snprintf(m, 64, "m-%d-%d:", k, i);
	for (p = m + len; p < m + len + PAD; p++)
		*p = (char)('a' + (p - m) % 26);
	*p = '\0';
	return m;
}

/* A resolved entry is one writer's, whole: its (k, i), or -1. */
static int
entry_owner(const dopy_value *e, int *k, int *i)
{
	const char *t, *o, *m;
	char want[64];
	size_t len;
	int n;

	if (e == NULL || dopy_value_len(e) != 3)
		return -1;
	t = dopy_value_get_string(dopy_value_at(e, 0));
	o = dopy_value_get_string(dopy_value_at(e, 1));
	m = dopy_value_get_string(dopy_value_at(e, 2));
	if (sscanf(t, "t-%d-%d%n", k, i, &n) != 2 || t[n] != '\0')
		return -1;
	snprintf(want, sizeof(want), "o-%d-%d", *k, *i);
	if (strcmp(o, want) != 0)
		return -1;
	len = (size_t)snprintf(want, sizeof(want), "m-%d-%d:", *k, *i);
	if (strncmp(m, want, len) != 0 || strlen(m) != len + PAD)
		return -1;
	for (size_t p = len; p < len + PAD; p++)
		if (m[p] != (char)('a' + p % 26))
			return -1;
	return 0;
}

static dopy_args *
entry_args(const char *name, int k, int i)
{
	char t[64], o[64], *m = meta_for(k, i);
	dopy_args *a;

	snprintf(t, sizeof(t), "t-%d-%d", k, i);
	snprintf(o, sizeof(o), "o-%d-%d", k, i);
	a = args(S(name), S(t), S(o), S(m), NULL);
	free(m);
	return a;
}

static void
w_bind_one(int k, const struct job *j, struct srv *s, struct wres *w)
{
	dopy_value *v;
	dopy_error *e;
	int i, r;

	for (i = 0; i < j->n && w->rc == 0; i++) {
		r = call(s->conn, "naming", "bind", entry_args("the.one", k,
		    i), &v, &e);
		if (r == 0) {
			w->v[0]++;
			w->v[1] = i;
		} else if (strcmp(ename(e), "naming.Exists") != 0)
			wfail(w, "bind %d: %s: %s, want success or "
			    "naming.Exists", i, ename(e), e != NULL ?
			    dopy_error_message(e) : dopy_strerror(r));
		dopy_value_free(v);
		dopy_error_free(e);
	}
}

Test(store_concurrency, naming_bind_one_name, .timeout = 120)
{
	char *dir = fresh_dir("st"), *ns = path_join(dir, "ns");
	struct job j = { ns, NULL, 200, NULL };
	struct wres res[NWORKERS];
	dopy_value *entry;
	struct srv s;
	long wins = 0;
	int k, wk = -1, wi = -1, ek, ei;
	int64_t t0;

	t0 = ms_now();
	run_workers(w_bind_one, &j, 110000, res);
	cr_log_info("8 x 200 binds of one name: %lld ms",
	    (long long)(ms_now() - t0));
	for (k = 0; k < NWORKERS; k++) {
		wins += res[k].v[0];
		if (res[k].v[0] > 0) {
			wk = k;
			wi = (int)res[k].v[1];
		}
	}
	cr_assert_eq(wins, 1, "%ld binds of one name succeeded", wins);
	start(&s, ns, NULL);
	entry = ok(&s, "naming", "resolve", args(S("the.one"), NULL));
	cr_assert(entry_owner(entry, &ek, &ei) == 0, "torn entry: %s",
	    dopy_value_format(entry));
	cr_assert(ek == wk && ei == wi, "entry of client %d call %d, but "
	    "client %d call %d won", ek, ei, wk, wi);
	dopy_value_free(entry);
	refused(&s, "naming", "bind", entry_args("the.one", 0, 0),
	    "naming.Exists", "the.one");
	stop(&s);
	free(ns);
	free(dir);
}

static void
w_rebind(int k, const struct job *j, struct srv *s, struct wres *w)
{
	dopy_value *v;
	dopy_error *e;
	int i, ek, ei;

	for (i = 0; i < j->n && w->rc == 0; i++) {
		if (call(s->conn, "naming", "rebind", entry_args("the.one", k,
		    i), &v, &e) < 0)
			wfail(w, "rebind %d: %s: %s", i, ename(e),
			    e != NULL ? dopy_error_message(e) : "");
		dopy_value_free(v);
		dopy_error_free(e);
		/* Read back: whole, and ours unless someone wrote since. */
		if (call(s->conn, "naming", "resolve", args(S("the.one"),
		    NULL), &v, &e) < 0)
			wfail(w, "resolve %d: %s: %s", i, ename(e),
			    e != NULL ? dopy_error_message(e) : "");
		else if (entry_owner(v, &ek, &ei) < 0)
			wfail(w, "resolve %d: torn entry (%.60s)", i,
			    dopy_value_get_string(dopy_value_at(v, 0)));
		else if (ek == k && ei != i)
			wfail(w, "resolve after rebind %d: its own "
			    "older entry %d", i, ei);
		else if (ek < 0 || ek >= NWORKERS || ei < 0 || ei >= j->n)
			wfail(w, "entry %d-%d never written", ek, ei);
		dopy_value_free(v);
		dopy_error_free(e);
	}
}

Test(store_concurrency, naming_rebind_one_name, .timeout = 120)
{
	char *dir = fresh_dir("st"), *ns = path_join(dir, "ns");
	struct job j = { ns, NULL, 200, NULL };
	struct wres res[NWORKERS];
	dopy_value *entry;
	struct srv s;
	int64_t t0;
	int ek, ei;

	t0 = ms_now();
	run_workers(w_rebind, &j, 110000, res);
	cr_log_info("8 x 200 rebinds (+ resolves) of one name: %lld ms",
	    (long long)(ms_now() - t0));
	start(&s, ns, NULL);
	entry = ok(&s, "naming", "resolve", args(S("the.one"), NULL));
	cr_assert(entry_owner(entry, &ek, &ei) == 0, "torn entry: %.80s",
	    dopy_value_format(entry));
	/* The last rename anyone made is some client's last rebind. */
	cr_assert(ek >= 0 && ek < NWORKERS && ei == 199,
	    "final entry is client %d call %d, want a last call (199)", ek,
	    ei);
	dopy_value_free(entry);
	entry = ok(&s, "naming", "list", args(S(""), dopy_value_bool(1),
	    NULL));
	cr_assert(dopy_value_len(entry) == 1 && strcmp(dopy_value_get_string(
	    dopy_value_at(entry, 0)), "the.one") == 0, "list: %s",
	    dopy_value_format(entry));
	dopy_value_free(entry);
	stop(&s);
	free(ns);
	free(dir);
}

/* Listing the root twice on one connection (one server process) must
 * give the same names both times. */
Test(store_list, root_twice_one_connection, .timeout = 20)
{
	char *dir = fresh_dir("st"), *ns = path_join(dir, "ns"),
	    *pos = path_join(dir, "pos"), *a, *b;
	dopy_value *v;
	struct srv s;
	int i;

	start(&s, ns, pos);
	ok_void(&s, "pos", "store", args(S("x"), I(1), NULL));
	ok_void(&s, "pos", "store", args(S("d/y"), I(2), NULL));
	ok_void(&s, "naming", "bind", args(S("g.n"), S("t"), NULL));
	ok_void(&s, "naming", "bind", args(S("m"), S("t"), NULL));
	for (i = 0; i < 2; i++) {
		v = ok(&s, "pos", "list", args(S(""), dopy_value_bool(i),
		    NULL));
		a = dopy_value_format(v);
		dopy_value_free(v);
		v = ok(&s, "pos", "list", args(S(""), dopy_value_bool(i),
		    NULL));
		b = dopy_value_format(v);
		dopy_value_free(v);
		cr_assert_str_eq(a, b, "pos.list(\"\", %d) gave %s, then %s",
		    i, a, b);
		cr_assert(strstr(a, "x") != NULL, "pos.list: %s", a);
		free(a);
		free(b);
		v = ok(&s, "naming", "list", args(S(""), dopy_value_bool(i),
		    NULL));
		a = dopy_value_format(v);
		dopy_value_free(v);
		v = ok(&s, "naming", "list", args(S(""), dopy_value_bool(i),
		    NULL));
		b = dopy_value_format(v);
		dopy_value_free(v);
		cr_assert_str_eq(a, b, "naming.list(\"\", %d) gave %s, then %s",
		    i, a, b);
		cr_assert(strstr(a, "m") != NULL, "naming.list: %s", a);
		free(a);
		free(b);
	}
	stop(&s);
	free(ns);
	free(pos);
	free(dir);
}

/* ---- crash safety: servers SIGKILLed in the middle of writes ---- */

#define CRASH_ITERS	150
#define CRASH_MS	20000
#define VAL_LEN		6000	/* more than a page */

/* The value stored at sequence n: "seq=N;" then "N," up to VAL_LEN. */
static char *
seq_value(long n)
{
	char *v, item[24];
	size_t len, il;

	cr_assert_not_null(v = malloc(VAL_LEN + 64));
	len = (size_t)snprintf(v, 64, "seq=%ld;", n);
	il = (size_t)snprintf(item, sizeof(item), "%ld,", n);
	while (len < VAL_LEN) {
		memcpy(v + len, item, il);
		len += il;
	}
	v[len] = '\0';
	return v;
}

/* The sequence number of a stored value, or -1 if it is not exactly one
 * that was written (torn, empty, foreign). */
static long
seq_of(const dopy_value *v)
{
	const char *s;
	char *want;
	long n;
	int ok_;

	if (v == NULL || dopy_value_kind(v) != DOPY_STRING)
		return -1;
	s = dopy_value_get_string(v);
	if (sscanf(s, "seq=%ld;", &n) != 1 || n < 0)
		return -1;
	want = seq_value(n);
	ok_ = strcmp(s, want) == 0;
	free(want);
	return ok_ ? n : -1;
}

/* The value of a REPLY frame (NULL when it carries none). */
static dopy_value *
reply_value(const struct e2e_frame *f)
{
	struct dopy_image img[2];
	dopy_value *v = NULL;
	char err[200];
	size_t n;

	cr_assert(f->type == DOPY_F_REPLY, "frame type %u for call %u, want "
	    "REPLY", f->type, f->id);
	cr_assert(dopy_images_split(f->payload, f->len, img, 2, &n, err,
	    sizeof(err)) == 0 && n <= 1, "REPLY %u: %s", f->id, err);
	if (n == 1)
		cr_assert(dopy_decode(&img[0], NULL, &v, err,
		    sizeof(err)) == 0, "REPLY %u: %s", f->id, err);
	return v;
}

enum { C_FETCH = 1, C_STORE, C_INCR, C_CREATE, C_GET, C_N };

struct crash {
	long	 acked_seq;	/* the last store acknowledged */
	long	 acked_incr, unknown_incr;
	char	 created[CRASH_ITERS + 1];	/* 1 acked, 2 unknown */
	long	 n[C_N][2];	/* per call: [0] acked, [1] unknown */
	int	 iters;
};

static int64_t
us_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * One server: five calls in flight, a SIGKILL after kill_us (or, when
 * kill_us < 0, none: the server ends at EOF), then what the replies that
 * came back prove.  Returns the microseconds from sending the calls to
 * the last reply.
 */
static int64_t
crash_once(struct crash *cr, const char *popt, long i, int64_t kill_us)
{
	struct e2e_proc p;
	struct e2e_frame f;
	struct dopy_buf b;
	dopy_value *v;
	char path[64], *val = seq_value(i);
	int got[C_N] = { 0 }, id, r;
	long s, acked_before = cr->acked_seq;
	int64_t t0, last = 0;

	e2e_dopyd(&p, 1, DOPY_FRAME_DEFAULT, popt);
	snprintf(path, sizeof(path), "objs/o%ld", i);
	dopy_buf_init(&b);
	e2e_call(&b, C_FETCH, "pos", "fetch", 1, NULL,
	    (dopy_value *[]){ S("v") });
	e2e_call(&b, C_STORE, "pos", "store", 2, NULL,
	    (dopy_value *[]){ S("v"), S(val) });
	e2e_call(&b, C_INCR, "pos/c", "incr", 0, NULL, NULL);
	e2e_call(&b, C_CREATE, "pos", "create", 2, NULL,
	    (dopy_value *[]){ S(path), S("counter") });
	e2e_call(&b, C_GET, "pos", "fetch", 1, NULL,
	    (dopy_value *[]){ S("c") });
	free(val);
	t0 = us_now();
	e2e_send(&p, &b);
	dopy_buf_release(&b);
	if (kill_us >= 0) {
		usleep((useconds_t)kill_us);
		kill(p.pid, SIGKILL);
	} else {
		close(p.in);	/* EOF after the calls: a clean end */
		p.in = -1;
	}
	while ((r = e2e_read_frame(p.out, &f, 5000)) == 1) {
		last = us_now() - t0;
		id = (int)f.id;
		cr_assert(id > 0 && id < C_N && !got[id], "stray reply %d",
		    id);
		got[id] = 1;
		if (f.type == DOPY_F_ERROR) {
			dopy_error *e = NULL;

			dopy_msg_error_get(f.payload, f.len, &e);
			cr_assert_fail("iteration %ld call %d: ERROR %s: %s", i,
			    id, ename(e), e != NULL ? dopy_error_message(e) :
			    "");
		}
		v = reply_value(&f);
		free(f.payload);
		switch (id) {
		case C_FETCH:
			/* Whole, and not older than what was acknowledged. */
			s = seq_of(v);
			cr_assert(s >= acked_before && s < i, "iteration %ld: "
			    "fetch saw sequence %ld, last acknowledged %ld", i,
			    s, acked_before);
			break;
		case C_STORE:
			cr_assert(got[C_FETCH], "store answered before fetch");
			cr_assert_null(v);
			cr->acked_seq = i;
			break;
		case C_INCR:
			cr->acked_incr++;
			/* FALLTHROUGH */
		case C_GET:
			cr_assert(v != NULL && dopy_value_kind(v) == DOPY_INT);
			cr_assert(dopy_value_get_int(v) >= cr->acked_incr &&
			    dopy_value_get_int(v) <= cr->acked_incr +
			    cr->unknown_incr + (got[C_INCR] ? 0 : 1),
			    "iteration %ld: counter %lld, acknowledged %ld, "
			    "unknown %ld", i, (long long)dopy_value_get_int(v),
			    cr->acked_incr, cr->unknown_incr);
			break;
		case C_CREATE:
			cr->created[i] = 1;
			break;
		}
		dopy_value_free(v);
	}
	/* The kill ends the stream: EOF, or a frame cut short. */
	cr_assert(r == 0 || r == -1);
	for (id = 1; id < C_N && kill_us < 0; id++)
		cr_assert(got[id], "call %d unanswered without a kill", id);
	if (!got[C_INCR])
		cr->unknown_incr++;
	if (!got[C_CREATE])
		cr->created[i] = 2;
	for (id = 1; id < C_N; id++)
		cr->n[id][got[id] ? 0 : 1]++;
	r = e2e_wait(&p, 5000);
	cr_assert(kill_us >= 0 ? WIFSIGNALED(r) || e2e_exited(r, 0) :
	    e2e_exited(r, 0), "dopyd: %s", e2e_status(r));
	return last;
}

/* Relative paths of every file under dir (hidden ones too), so that
 * the test sees what the server should not show. */
static void
walk(const char *root, const char *rel, char ***out, size_t *n)
{
	char *full = *rel ? path_join(root, rel) : strdup(root), *sub;
	struct dirent *de;
	struct stat sb;
	DIR *d;

	cr_assert_not_null(d = opendir(full), "%s: %s", full,
	    strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (*rel)
			cr_assert(asprintf(&sub, "%s/%s", rel, de->d_name) > 0);
		else
			sub = strdup(de->d_name);
		char *fp = path_join(root, sub);
		cr_assert(lstat(fp, &sb) == 0);
		free(fp);
		if (S_ISDIR(sb.st_mode)) {
			walk(root, sub, out, n);
			free(sub);
			continue;
		}
		*out = realloc(*out, (*n + 1) * sizeof(**out));
		cr_assert_not_null(*out);
		(*out)[(*n)++] = sub;
	}
	closedir(d);
	free(full);
}

static int
is_hidden(const char *rel)
{
	const char *base = strrchr(rel, '/');

	return (base != NULL ? base[1] : rel[0]) == '.';
}

/* Every name pos lists is a file that fetches whole; none is hidden. */
static size_t
check_listing(struct srv *s, const struct crash *cr)
{
	dopy_value *l, *v;
	const char *name;
	long o;
	size_t i;

	l = ok(s, "pos", "list", args(S(""), dopy_value_bool(1), NULL));
	for (i = 0; i < dopy_value_len(l); i++) {
		name = dopy_value_get_string(dopy_value_at(l, i));
		cr_assert(!is_hidden(name) && strstr(name, ".tmp.") == NULL,
		    "list shows %s", name);
		v = ok(s, "pos", "fetch", args(S(name), NULL));
		if (strcmp(name, "v") == 0)
			cr_assert(seq_of(v) >= cr->acked_seq, "v: sequence "
			    "%ld, last acknowledged %ld", seq_of(v),
			    cr->acked_seq);
		else if (strcmp(name, "c") != 0) {
			cr_assert(sscanf(name, "objs/o%ld", &o) == 1 &&
			    o >= 1 && o <= cr->iters && cr->created[o] != 0,
			    "list shows %s, never created", name);
			cr_assert(v != NULL && dopy_value_kind(v) == DOPY_INT &&
			    dopy_value_get_int(v) == 0, "%s holds no new "
			    "counter", name);
		}
		dopy_value_free(v);
	}
	i = dopy_value_len(l);
	dopy_value_free(l);
	return i;
}

Test(store_crash, sigkill_mid_write, .timeout = 90)
{
	char *dir = fresh_dir("st"), *pos = path_join(dir, "pos"), *popt,
	    **files = NULL, *p;
	struct crash *cr = calloc(1, sizeof(*cr));
	unsigned seed = (unsigned)getpid() ^ (unsigned)time(NULL);
	size_t nfiles = 0, ntmp = 0, nlisted, i;
	dopy_value *v;
	struct srv s;
	int64_t t0 = ms_now(), c, o, span = 0;
	long it;

	srandom(seed);
	cr_log_info("seed %u", seed);
	cr_assert(asprintf(&popt, "-P%s", pos) > 0);
	/* Created and acknowledged before any kill. */
	start(&s, NULL, pos);
	ok_void(&s, "pos", "create", args(S("c"), S("counter"), NULL));
	p = seq_value(0);
	ok_void(&s, "pos", "store", args(S("v"), S(p), NULL));
	free(p);
	stop(&s);
	/*
	 * Now and then a round without a kill says how long the five calls
	 * take (fsync speed varies with the disk and the load); the kills
	 * fall anywhere from the first write to just after the last.
	 */
	for (it = 1; it <= CRASH_ITERS && ms_now() - t0 < CRASH_MS; it++) {
		cr->iters = (int)it;
		if (it % 25 == 1)
			span = crash_once(cr, popt, it, -1);
		else
			crash_once(cr, popt, it, random() % (span * 6 / 5 + 1));
	}
	cr_log_info("%d rounds in %lld ms; acknowledged/unknown: fetch "
	    "%ld/%ld store %ld/%ld incr %ld/%ld create %ld/%ld get %ld/%ld",
	    cr->iters, (long long)(ms_now() - t0), cr->n[C_FETCH][0],
	    cr->n[C_FETCH][1], cr->n[C_STORE][0], cr->n[C_STORE][1],
	    cr->n[C_INCR][0], cr->n[C_INCR][1], cr->n[C_CREATE][0],
	    cr->n[C_CREATE][1], cr->n[C_GET][0], cr->n[C_GET][1]);
	cr_assert(cr->n[C_STORE][0] > 0 && cr->n[C_STORE][1] > 0,
	    "the kills never (or always) hit a store: timing is off");

	/* Afterwards, with a server nobody kills. */
	start(&s, NULL, pos);
	c = ok_int(&s, "pos/c", "get", NULL);
	cr_assert(c >= cr->acked_incr && c <= cr->acked_incr +
	    cr->unknown_incr, "counter %lld: %ld acknowledged, %ld unknown",
	    (long long)c, cr->acked_incr, cr->unknown_incr);
	for (o = 1; o <= cr->iters; o++)
		if (cr->created[o] == 1) {
			cr_assert(asprintf(&p, "objs/o%lld", (long long)o) > 0);
			cr_assert_eq(ok_int(&s, "pos", "fetch", args(S(p),
			    NULL)), 0, "%s", p);
			free(p);
		}
	nlisted = check_listing(&s, cr);
	/* Every visible file on disk decodes; temporaries are not listed. */
	walk(pos, "", &files, &nfiles);
	for (i = 0; i < nfiles; i++) {
		if (strstr(files[i], ".tmp.") != NULL)
			ntmp++;
		if (is_hidden(files[i]))
			continue;
		dopy_value_free(ok(&s, "pos", "fetch", args(S(files[i]),
		    NULL)));
	}
	cr_log_info("%zu files listed, %zu leftover temporaries", nlisted,
	    ntmp);
	/* Leftovers of our own making, where a kill might leave them. */
	p = path_join(pos, ".v.tmp.99999.deadbeef");
	cr_assert(e2e_spit(p, "torn garbage") == 0);
	free(p);
	p = path_join(pos, "objs");
	cr_assert(mkdir(p, 0755) == 0 || errno == EEXIST);
	free(p);
	p = path_join(pos, "objs/.o1.tmp.99999.0badf00d");
	cr_assert(e2e_spit(p, "") == 0);
	free(p);
	cr_assert_eq(check_listing(&s, cr), nlisted, "temporaries listed");
	cr_assert_eq(ok_int(&s, "pos/c", "incr", NULL), c + 1);
	p = seq_value(CRASH_ITERS + 1);
	ok_void(&s, "pos", "store", args(S("v"), S(p), NULL));
	free(p);
	v = ok(&s, "pos", "fetch", args(S("v"), NULL));
	cr_assert_eq(seq_of(v), CRASH_ITERS + 1);
	dopy_value_free(v);
	stop(&s);
	check_server_logs();
	for (i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	free(popt);
	free(pos);
	free(dir);
	free(cr);
}

/* ---- bad input ---- */

/* A directory must hold exactly these names (NULL-terminated). */
static void
assert_dir_is(const char *dir, const char *const *want)
{
	char **files = NULL;
	size_t n = 0, i, nwant = 0;

	walk(dir, "", &files, &n);
	while (want[nwant] != NULL)
		nwant++;
	for (i = 0; i < n; i++) {
		size_t k;

		for (k = 0; k < nwant && strcmp(files[i], want[k]) != 0; k++)
			;
		cr_assert(k < nwant, "%s: unexpected file %s", dir, files[i]);
		free(files[i]);
	}
	cr_assert_eq(n, nwant, "%s: %zu files, want %zu", dir, n, nwant);
	free(files);
}

static int
there(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
}

static int
exists_in(const char *dir, const char *name)
{
	char *p = path_join(dir, name);
	int r = there(p);

	free(p);
	return r;
}

static char *
long_name(size_t n)
{
	char *s = malloc(n + 1);

	cr_assert_not_null(s);
	memset(s, 'x', n);
	s[n] = '\0';
	return s;
}

Test(store_badinput, refused_paths, .timeout = 30)
{
	char *dir = fresh_dir("st"), *pos = path_join(dir, "pos"),
	    *ns = path_join(dir, "ns"), *l200 = long_name(200), key[300];
	const char *bad[] = { "../x", "a/../b", "/etc/passwd", ".hidden",
	    "a/.b", "..", ".", "./a", "a/./b", "a/..", "", "/", l200,
	    "a\001b", "a b", "a\\b", "a*b", "a\nb", "caf\xc3\xa9",
	    ".a.lock", ".v.tmp.1.2", NULL };
	const char *none[] = { NULL };
	struct srv s;
	size_t i;

	start(&s, ns, pos);
	for (i = 0; bad[i] != NULL; i++) {
		refused(&s, "pos", "store", args(S(bad[i]), I(1), NULL),
		    "pos.BadPath", bad[i]);
		refused(&s, "pos", "fetch", args(S(bad[i]), NULL),
		    "pos.BadPath", bad[i]);
		refused(&s, "pos", "create", args(S(bad[i]), S("counter"),
		    NULL), "pos.BadPath", bad[i]);
		refused(&s, "pos", "remove", args(S(bad[i]), NULL),
		    "pos.BadPath", bad[i]);
		if (*bad[i] == '\0' || strcmp(bad[i], "/") == 0)
			continue;	/* "pos/" and "pos//": no object */
		snprintf(key, sizeof(key), "pos/%s", bad[i]);
		refused(&s, key, "incr", NULL, "pos.BadPath", key);
		if (*bad[i] != '\0' && strcmp(bad[i], ".") != 0)
			refused(&s, "pos", "list", args(S(bad[i]), NULL),
			    "pos.BadPath", bad[i]);
	}
	/* Nothing was made, inside the store or beside it. */
	assert_dir_is(pos, none);
	cr_assert(!exists_in(dir, "x") && !exists_in(dir, "b"));
	stop(&s);
	free(l200);
	free(ns);
	free(pos);
	free(dir);
}

Test(store_badinput, refused_names, .timeout = 30)
{
	char *dir = fresh_dir("st"), *ns = path_join(dir, "ns"),
	    *l200 = long_name(200);
	const char *bad[] = { "../x", "a/b", "/etc/passwd", ".hidden",
	    "a..b", "a.", ".", "..", ":", "", l200, "a\001b", "a b",
	    "a.\xc3\xa9", "a.-", NULL };
	const char *none[] = { NULL };
	struct srv s;
	size_t i;

	start(&s, ns, NULL);
	for (i = 0; bad[i] != NULL; i++) {
		if (strcmp(bad[i], "a.-") == 0)
			continue;	/* allowed: kept as a boundary below */
		refused(&s, "naming", "bind", args(S(bad[i]), S("t"), NULL),
		    "naming.BadName", bad[i]);
		refused(&s, "naming", "rebind", args(S(bad[i]), S("t"),
		    NULL), "naming.BadName", bad[i]);
		refused(&s, "naming", "resolve", args(S(bad[i]), NULL),
		    "naming.BadName", bad[i]);
		refused(&s, "naming", "unbind", args(S(bad[i]), NULL),
		    "naming.BadName", bad[i]);
	}
	refused(&s, "naming", "list", args(S("../x"), NULL),
	    "naming.BadName", "../x");
	refused(&s, "naming", "bind", args(S("ok"), S(""), NULL),
	    "naming.BadName", "empty target");
	assert_dir_is(ns, none);
	cr_assert(!exists_in(dir, "x"));
	/* The boundaries that are allowed. */
	ok_void(&s, "naming", "bind", args(S("a.-"), S("t"), NULL));
	ok_void(&s, "naming", "bind", args(S(":Test.My_obj-1"), S("t"),
	    NULL));
	dopy_value_free(ok(&s, "naming", "resolve", args(S("Test.My_obj-1"),
	    NULL)));
	stop(&s);
	free(l200);
	free(ns);
	free(dir);
}

/* Names up to 128 bytes, paths up to 32 deep; one past is refused. */
Test(store_badinput, length_limits, .timeout = 30)
{
	char *dir = fresh_dir("st"), *pos = path_join(dir, "pos"),
	    *n128 = long_name(128), *n129 = long_name(129), deep[200];
	struct srv s;
	int i;

	start(&s, NULL, pos);
	ok_void(&s, "pos", "store", args(S(n128), I(1), NULL));
	cr_assert_eq(ok_int(&s, "pos", "fetch", args(S(n128), NULL)), 1);
	refused(&s, "pos", "store", args(S(n129), I(1), NULL), "pos.BadPath",
	    "129 bytes");
	deep[0] = '\0';
	for (i = 0; i < 32; i++)
		strcat(deep, i ? "/d" : "d");
	ok_void(&s, "pos", "store", args(S(deep), I(32), NULL));
	cr_assert_eq(ok_int(&s, "pos", "fetch", args(S(deep), NULL)), 32);
	strcat(deep, "/d");
	refused(&s, "pos", "store", args(S(deep), I(33), NULL), "pos.BadPath",
	    "33 deep");
	stop(&s);
	free(n128);
	free(n129);
	free(pos);
	free(dir);
}

/* "a//b" and "a/b/" are "a/b": one name per file. */
Test(store_badinput, double_slash_is_one_name, .timeout = 30)
{
	char *dir = fresh_dir("st"), *pos = path_join(dir, "pos");
	const char *files[] = { "a/b", "a/.b.lock", "k/.c.lock", NULL };
	dopy_value *v;
	struct srv s;

	start(&s, NULL, pos);
	ok_void(&s, "pos", "store", args(S("a//b"), I(1), NULL));
	cr_assert_eq(ok_int(&s, "pos", "fetch", args(S("a/b"), NULL)), 1);
	ok_void(&s, "pos", "store", args(S("a/b/"), I(2), NULL));
	cr_assert_eq(ok_int(&s, "pos", "fetch", args(S("a//b"), NULL)), 2);
	ok_void(&s, "pos", "store", args(S("a///b//"), I(3), NULL));
	cr_assert_eq(ok_int(&s, "pos", "fetch", args(S("a/b"), NULL)), 3);
	/* Object keys too. */
	ok_void(&s, "pos", "create", args(S("k//c/"), S("counter"), NULL));
	cr_assert_eq(ok_int(&s, "pos/k//c", "incr", NULL), 1);
	cr_assert_eq(ok_int(&s, "pos/k/c/", "incr", NULL), 2);
	cr_assert_eq(ok_int(&s, "pos/k/c", "get", NULL), 2);
	ok_void(&s, "pos", "remove", args(S("k//c"), NULL));
	refused(&s, "pos/k/c", "get", NULL, "pos.NotFound", "removed");
	v = ok(&s, "pos", "list", args(S(""), dopy_value_bool(1), NULL));
	cr_assert(dopy_value_len(v) == 1 && strcmp(dopy_value_get_string(
	    dopy_value_at(v, 0)), "a/b") == 0, "list: %s",
	    dopy_value_format(v));
	dopy_value_free(v);
	refused(&s, "pos", "create", args(S("a//b"), S("counter"), NULL),
	    "pos.Exists", "a//b");
	stop(&s);
	/* Only the data file and the locks. */
	assert_dir_is(pos, files);
	free(pos);
	free(dir);
}

/* The call must fail (any error but success or NotFound) and say why. */
static void
refused_symlink(struct srv *s, const char *obj, const char *meth,
    dopy_args *a, const char *what)
{
	dopy_value *v;
	dopy_error *e;
	int r;

	r = call(s->conn, obj, meth, a, &v, &e);
	cr_assert(r < 0, "%s.%s(%s) through a symlink succeeded: %s", obj,
	    meth, what, v != NULL ? dopy_value_format(v) : "no result");
	cr_assert(strcmp(ename(e), "pos.StoreError") == 0 ||
	    strcmp(ename(e), "pos.BadPath") == 0 ||
	    strcmp(ename(e), "naming.StoreError") == 0 ||
	    strcmp(ename(e), "naming.BadName") == 0,
	    "%s.%s(%s): %s: %s, want a refusal", obj, meth, what, ename(e),
	    e != NULL ? dopy_error_message(e) : dopy_strerror(r));
	/* list says only "Not a directory" (O_DIRECTORY beats O_NOFOLLOW). */
	cr_assert(strstr(dopy_error_message(e), "symlink") != NULL ||
	    strstr(dopy_error_message(e), "symbolic link") != NULL ||
	    (strcmp(meth, "list") == 0 && strstr(dopy_error_message(e),
	    "Not a directory") != NULL),
	    "%s.%s(%s): '%s' does not say symlink", obj, meth, what,
	    dopy_error_message(e));
	dopy_error_free(e);
}

static char *
slurp_or_die(const char *path, size_t *len)
{
	char *t = e2e_slurp(path, len);

	cr_assert_not_null(t, "%s: %s", path, strerror(errno));
	return t;
}

Test(store_badinput, symlinks_refused, .timeout = 30)
{
	char *dir = fresh_dir("st"), *pos = path_join(dir, "pos"),
	    *ns = path_join(dir, "ns"), *out = path_join(dir, "out"),
	    *secret, *ctr, *entry, *before_s, *before_c, *after, *p;
	size_t ls, lc, la;
	dopy_value *v;
	struct srv s;

	/* Valid files outside the store: followed, they would work. */
	start(&s, ns, pos);
	ok_void(&s, "pos", "store", args(S("secret"), S("outside"), NULL));
	ok_void(&s, "pos", "create", args(S("ctr"), S("counter"), NULL));
	ok_void(&s, "naming", "bind", args(S("secret"), S("outside"), NULL));
	cr_assert(mkdir(out, 0755) == 0);
	secret = path_join(out, "secret");
	ctr = path_join(out, "ctr");
	cr_assert(rename(p = path_join(pos, "secret"), secret) == 0);
	free(p);
	cr_assert(rename(p = path_join(pos, "ctr"), ctr) == 0);
	free(p);
	entry = path_join(out, "entry");
	cr_assert(rename(p = path_join(ns, "secret"), entry) == 0);
	free(p);
	before_s = slurp_or_die(secret, &ls);
	before_c = slurp_or_die(ctr, &lc);
	/* Links inside the store: to files, to a directory, relative. */
	cr_assert(symlink(secret, p = path_join(pos, "link")) == 0);
	free(p);
	cr_assert(symlink("../out/secret", p = path_join(pos, "rel")) == 0);
	free(p);
	cr_assert(symlink(ctr, p = path_join(pos, "clink")) == 0);
	free(p);
	cr_assert(symlink(out, p = path_join(pos, "dlink")) == 0);
	free(p);
	cr_assert(mkdir(p = path_join(pos, "sub"), 0755) == 0);
	free(p);
	cr_assert(symlink(out, p = path_join(pos, "sub/deeper")) == 0);
	free(p);
	cr_assert(symlink(entry, p = path_join(ns, "evil")) == 0);
	free(p);
	cr_assert(symlink(out, p = path_join(ns, "grp")) == 0);
	free(p);

	refused_symlink(&s, "pos", "fetch", args(S("link"), NULL), "link");
	refused_symlink(&s, "pos", "fetch", args(S("rel"), NULL), "rel");
	refused_symlink(&s, "pos", "fetch", args(S("dlink/secret"), NULL),
	    "dlink/secret");
	refused_symlink(&s, "pos", "fetch", args(S("sub/deeper/secret"),
	    NULL), "sub/deeper/secret");
	refused_symlink(&s, "pos/clink", "incr", NULL, "clink");
	refused_symlink(&s, "pos/clink", "get", NULL, "clink");
	refused_symlink(&s, "pos/dlink/ctr", "incr", NULL, "dlink/ctr");
	refused_symlink(&s, "pos", "store", args(S("dlink/secret"), I(7),
	    NULL), "dlink/secret");
	refused_symlink(&s, "pos", "store", args(S("dlink/new"), I(7),
	    NULL), "dlink/new");
	refused_symlink(&s, "pos", "create", args(S("dlink/new"),
	    S("counter"), NULL), "dlink/new");
	refused_symlink(&s, "pos", "remove", args(S("dlink/secret"), NULL),
	    "dlink/secret");
	refused_symlink(&s, "pos", "list", args(S("dlink"), NULL), "dlink");
	refused_symlink(&s, "naming", "resolve", args(S("evil"), NULL),
	    "evil");
	refused_symlink(&s, "naming", "resolve", args(S("grp.entry"), NULL),
	    "grp.entry");
	refused_symlink(&s, "naming", "rebind", args(S("grp.entry"), S("t"),
	    NULL), "grp.entry");
	/* Listings do not show links nor go through them. */
	v = ok(&s, "pos", "list", args(S(""), dopy_value_bool(1), NULL));
	cr_assert_eq(dopy_value_len(v), 0, "list: %s", dopy_value_format(v));
	dopy_value_free(v);
	v = ok(&s, "pos", "list", args(S(""), NULL));
	cr_assert(dopy_value_len(v) == 1 && strcmp(dopy_value_get_string(
	    dopy_value_at(v, 0)), "sub/") == 0, "list: %s",
	    dopy_value_format(v));
	dopy_value_free(v);
	v = ok(&s, "naming", "list", args(S(""), dopy_value_bool(1), NULL));
	cr_assert_eq(dopy_value_len(v), 0, "list: %s", dopy_value_format(v));
	dopy_value_free(v);
	/* Storing over a link's own name must leave its target alone. */
	{
		dopy_value *rv;
		dopy_error *e;

		if (call(s.conn, "pos", "store", args(S("link"), I(9), NULL),
		    &rv, &e) == 0)
			cr_log_warn("pos.store over a symlink replaced the "
			    "link instead of refusing");
		dopy_value_free(rv);
		dopy_error_free(e);
	}
	after = slurp_or_die(secret, &la);
	cr_assert(la == ls && memcmp(after, before_s, ls) == 0,
	    "the file outside the store changed");
	free(after);
	after = slurp_or_die(ctr, &la);
	cr_assert(la == lc && memcmp(after, before_c, lc) == 0,
	    "the counter outside the store changed");
	free(after);
	cr_assert(access(p = path_join(out, "new"), F_OK) != 0,
	    "a file was made outside the store");
	free(p);
	/* A lock file that is a link: refused, its target untouched. */
	cr_assert(symlink(ctr, p = path_join(pos, ".locked.lock")) == 0);
	free(p);
	refused_symlink(&s, "pos", "store", args(S("locked"), I(1), NULL),
	    ".locked.lock");
	after = slurp_or_die(ctr, &la);
	cr_assert(la == lc && memcmp(after, before_c, lc) == 0,
	    "the counter outside the store changed");
	free(after);
	/* Still serving. */
	ok_void(&s, "pos", "store", args(S("fine"), I(1), NULL));
	stop(&s);
	free(before_s);
	free(before_c);
	free(entry);
	free(secret);
	free(ctr);
	free(out);
	free(ns);
	free(pos);
	free(dir);
}

/* ---- a NUL inside a name: built by hand, since no API can send it ---- */

#define NUL_MARK	'\x7f'	/* stands for the NUL in the strings below */

/* Replace the marks in the first occurrence of s in the payload. */
static void
patch_nul(struct dopy_buf *pl, const char *s)
{
	uint8_t *at = memmem(pl->data, pl->len, s, strlen(s));
	size_t i;

	cr_assert_not_null(at, "'%s' not found in the payload", s);
	for (i = 0; s[i] != '\0'; i++)
		if (s[i] == NUL_MARK)
			at[i] = '\0';
}

/* A CALL of string arguments, where NUL_MARK becomes a NUL byte in the
 * image (the image keeps its length: tpl strings carry one). */
static void
nul_call(struct e2e_proc *p, uint32_t id, const char *obj, const char *meth,
    size_t argc, const char *const *sargs)
{
	const char *names[8] = { "", "", "", "", "", "", "", "" };
	struct dopy_buf pl, b;
	dopy_value *v;
	size_t i;

	dopy_buf_init(&pl);
	dopy_buf_init(&b);
	cr_assert(dopy_msg_call_put(&pl, obj, meth, names, argc) == 0);
	for (i = 0; i < argc; i++) {
		cr_assert(dopy_encode(v = S(sargs[i]), &pl) == 0);
		dopy_value_free(v);
	}
	if (strchr(obj, NUL_MARK) != NULL)
		patch_nul(&pl, obj);
	if (strchr(meth, NUL_MARK) != NULL)
		patch_nul(&pl, meth);
	for (i = 0; i < argc; i++)
		if (strchr(sargs[i], NUL_MARK) != NULL)
			patch_nul(&pl, sargs[i]);
	e2e_frame(&b, DOPY_F_CALL, id, pl.data, pl.len);
	e2e_send(p, &b);
	dopy_buf_release(&pl);
	dopy_buf_release(&b);
}

/* The answer to call id must be an ERROR (any name); returns the name. */
static char *
expect_any_error(struct e2e_proc *p, uint32_t id, const char *what)
{
	struct e2e_frame f;
	dopy_error *e = NULL;
	dopy_value *v;
	char *name;
	int r;

	r = e2e_read_frame(p->out, &f, E2E_WAIT_MS);
	cr_assert(r == 1, "%s: no answer (the server closed or hung)", what);
	cr_assert(f.id == id, "%s: answer to call %u, want %u", what, f.id,
	    id);
	if (f.type == DOPY_F_REPLY) {
		v = reply_value(&f);
		cr_assert_fail("%s: REPLY %s, want an ERROR", what,
		    v != NULL ? dopy_value_format(v) : "(none)");
	}
	cr_assert(f.type == DOPY_F_ERROR, "%s: frame type %u", what, f.type);
	cr_assert(dopy_msg_error_get(f.payload, f.len, &e) == 0,
	    "%s: malformed ERROR", what);
	free(f.payload);
	name = strdup(ename(e));
	dopy_error_free(e);
	return name;
}

/* A normal string call on the raw connection; the reply's value. */
static dopy_value *
raw_ok(struct e2e_proc *p, uint32_t id, const char *obj, const char *meth,
    size_t argc, const char *const *sargs)
{
	nul_call(p, id, obj, meth, argc, sargs);
	return e2e_expect_reply(p->out, id);
}

Test(store_badinput, nul_in_names, .timeout = 30)
{
	char *dir = fresh_dir("st"), *pos = path_join(dir, "pos"),
	    *ns = path_join(dir, "ns"), *opt, *name;
	/* No .k.lock: no call on k got as far as taking its lock. */
	const char *files[] = { "a", ".a.lock", "k", NULL };
	const char *nsfiles[] = { "n", NULL };
	struct e2e_proc p, q;
	dopy_value *v;
	uint32_t id = 1;
	size_t i;
	struct {
		const char *obj, *meth;
		size_t argc;
		const char *a[2];
	} bad[] = {
		{ "pos", "store", 2, { "a\x7f" "b", "x" } },
		{ "pos", "fetch", 1, { "a\x7f" "b" } },
		{ "pos", "fetch", 1, { "a\x7f" } },
		{ "pos", "remove", 1, { "a\x7f" "b" } },
		{ "pos", "create", 2, { "x\x7f" "y", "counter" } },
		{ "pos", "create", 2, { "ok", "counter\x7f" "x" } },
		{ "pos/k\x7f" "b", "incr", 0, { NULL } },
		{ "pos/k\x7f", "incr", 0, { NULL } },
		{ "pos/k", "incr\x7f" "x", 0, { NULL } },
	}, nbad[] = {
		{ "naming", "bind", 2, { "n\x7f" "m", "t" } },
		{ "naming", "bind", 2, { "o", "t\x7f" "u" } },
		{ "naming", "rebind", 2, { "n\x7f" "m", "t" } },
		{ "naming", "resolve", 1, { "n\x7f" "m" } },
		{ "naming", "unbind", 1, { "n\x7f" "m" } },
	};

	cr_assert(asprintf(&opt, "-P%s", pos) > 0);
	e2e_dopyd(&p, 1, DOPY_FRAME_DEFAULT, opt);
	free(opt);
	cr_assert(asprintf(&opt, "-N%s", ns) > 0);
	e2e_dopyd(&q, 1, DOPY_FRAME_DEFAULT, opt);
	free(opt);
	dopy_value_free(raw_ok(&p, id++, "pos", "store", 2,
	    (const char *[]){ "a", "held by a" }));
	dopy_value_free(raw_ok(&p, id++, "pos", "create", 2,
	    (const char *[]){ "k", "counter" }));
	dopy_value_free(raw_ok(&q, id++, "naming", "bind", 2,
	    (const char *[]){ "n", "held by n" }));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]) * 2; i++) {
		int isn = i >= sizeof(bad) / sizeof(bad[0]);
		size_t k = isn ? i - sizeof(bad) / sizeof(bad[0]) : i;
		struct e2e_proc *pp = isn ? &q : &p;
		char what[128];

		if (isn && k >= sizeof(nbad) / sizeof(nbad[0]))
			break;
		snprintf(what, sizeof(what), "%s.%s #%zu",
		    isn ? nbad[k].obj : bad[k].obj,
		    isn ? nbad[k].meth : bad[k].meth, k);
		if (isn)
			nul_call(pp, id, nbad[k].obj, nbad[k].meth,
			    nbad[k].argc, nbad[k].a);
		else
			nul_call(pp, id, bad[k].obj, bad[k].meth, bad[k].argc,
			    bad[k].a);
		name = expect_any_error(pp, id++, what);
		cr_assert_str_eq(name, "dopy.ProtocolError", "%s: error %s",
		    what, name);
		free(name);
	}
	/* Nothing acted on the truncated names. */
	v = raw_ok(&p, id, "pos", "fetch", 1, (const char *[]){ "a" });
	id++;
	cr_assert_str_eq(dopy_value_get_string(v), "held by a");
	dopy_value_free(v);
	v = raw_ok(&p, id, "pos", "fetch", 1, (const char *[]){ "k" });
	id++;
	cr_assert_eq(dopy_value_get_int(v), 0, "counter k was incremented");
	dopy_value_free(v);
	v = raw_ok(&q, id, "naming", "resolve", 1, (const char *[]){ "n" });
	id++;
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(v, 1 - 1)),
	    "held by n");
	dopy_value_free(v);
	assert_dir_is(pos, files);
	assert_dir_is(ns, nsfiles);
	e2e_close(&p);
	e2e_close(&q);
	cr_assert(e2e_exited(e2e_wait(&p, 5000), 0));
	cr_assert(e2e_exited(e2e_wait(&q, 5000), 0));
	free(ns);
	free(pos);
	free(dir);
}

/* ---- damaged files ---- */

static void
spit_bytes(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	cr_assert(fd >= 0, "%s: %s", path, strerror(errno));
	cr_assert(e2e_write(fd, p, n) == 0);
	close(fd);
}

/* The images of values, one after another. */
static void
images(struct dopy_buf *b, dopy_value *v, ...)
{
	va_list ap;

	dopy_buf_init(b);
	va_start(ap, v);
	for (; v != NULL; v = va_arg(ap, dopy_value *)) {
		cr_assert(dopy_encode(v, b) == 0);
		dopy_value_free(v);
	}
	va_end(ap);
}

Test(store_badinput, corrupt_files, .timeout = 30)
{
	char *dir = fresh_dir("st"), *pos = path_join(dir, "pos"),
	    *ns = path_join(dir, "ns"), *good, *p, *after, key[64];
	struct dopy_buf b;
	dopy_type *t;
	dopy_value *arr;
	size_t glen, alen, i;
	struct srv s;
	struct {
		const char	*name;
		struct dopy_buf	 b;
		const char	*want;		/* for incr */
	} bad[10];
	size_t nbad = 0;

	start(&s, ns, pos);
	ok_void(&s, "pos", "create", args(S("good"), S("counter"), NULL));
	good = slurp_or_die(p = path_join(pos, "good"), &glen);
	free(p);
	/* Each damaged file is a counter first, so its lock exists. */
#define BAD(n, w) (bad[nbad].name = (n), bad[nbad].want = (w), \
	dopy_buf_init(&bad[nbad].b), &bad[nbad++].b)
	dopy_buf_put(BAD("garbage", "pos.Corrupt"), "not a pos file\n", 15);
	BAD("empty", "pos.Corrupt");
	dopy_buf_put(BAD("half", "pos.Corrupt"), good, glen / 2);
	dopy_buf_put(BAD("short", "pos.Corrupt"), good, glen - 1);
	{
		struct dopy_buf *x = BAD("extra", "pos.Corrupt");

		dopy_buf_put(x, good, glen);
		dopy_buf_put(x, "junk", 4);
	}
	{
		struct dopy_buf *x = BAD("flags", "pos.Corrupt");

		/* The class image without its string-encoding flag: tpl's
		 * fatal path, which must not end the server. */
		dopy_buf_put(x, good, glen);
		x->data[3] &= (uint8_t)~2;
	}
	images(&b, S("counter"), S("a string"), NULL);
	dopy_buf_put(BAD("wrongstate", "pos.Corrupt"), b.data, b.len);
	dopy_buf_release(&b);
	images(&b, S("counter"), NULL);
	dopy_buf_put(BAD("noval", "pos.Corrupt"), b.data, b.len);
	dopy_buf_release(&b);
	images(&b, S("nosuch"), I(0), NULL);
	dopy_buf_put(BAD("noclass", "pos.NoClass"), b.data, b.len);
	dopy_buf_release(&b);
	/* An array count tpl would read past the buffer for. */
	cr_assert_not_null(t = dopy_type_parse("int[]", NULL, 0));
	arr = dopy_value_new(t);
	dopy_type_free(t);
	cr_assert(dopy_value_append(arr, I(7)) == 0);
	images(&b, S("counter"), arr, NULL);
	{
		uint8_t *a = memmem(b.data, b.len, "A(I)", 5);
		uint32_t huge = 0x80000000u;

		cr_assert_not_null(a);
		memcpy(a + 5, &huge, 4);	/* the count, host order */
	}
	dopy_buf_put(BAD("hugearray", "pos.Corrupt"), b.data, b.len);
	dopy_buf_release(&b);
#undef BAD

	for (i = 0; i < nbad; i++) {
		ok_void(&s, "pos", "create", args(S(bad[i].name),
		    S("counter"), NULL));
		p = path_join(pos, bad[i].name);
		spit_bytes(p, bad[i].b.data, bad[i].b.len);
		snprintf(key, sizeof(key), "pos/%s", bad[i].name);
		refused(&s, key, "incr", NULL, bad[i].want, bad[i].name);
		refused(&s, key, "get", NULL, bad[i].want, bad[i].name);
		/* fetch decodes without a class check: these two load. */
		if (strcmp(bad[i].name, "noclass") != 0 &&
		    strcmp(bad[i].name, "wrongstate") != 0)
			refused(&s, "pos", "fetch", args(S(bad[i].name), NULL),
			    "pos.Corrupt", bad[i].name);
		/* Left as it was, and the server still serves. */
		after = slurp_or_die(p, &alen);
		cr_assert(alen == bad[i].b.len && (alen == 0 || memcmp(after,
		    bad[i].b.data, alen) == 0), "%s was rewritten",
		    bad[i].name);
		free(after);
		cr_assert_eq(ok_int(&s, "pos/good", "incr", NULL),
		    (int64_t)i + 1, "after %s", bad[i].name);
		/* Replacing a damaged file with store works. */
		if (i == 0) {
			ok_void(&s, "pos", "store", args(S(bad[i].name), I(5),
			    NULL));
			cr_assert_eq(ok_int(&s, "pos", "fetch",
			    args(S(bad[i].name), NULL)), 5);
		}
		free(p);
		dopy_buf_release(&bad[i].b);
	}
	/* A plain value is no object. */
	refused(&s, "pos/garbage", "incr", NULL, "pos.NoClass", "value");

	/* The naming service's entries too. */
	ok_void(&s, "naming", "bind", args(S("fine"), S("t"), NULL));
	ok_void(&s, "naming", "bind", args(S("g1"), S("t"), NULL));
	ok_void(&s, "naming", "bind", args(S("g2"), S("t"), NULL));
	ok_void(&s, "naming", "bind", args(S("g3"), S("t"), NULL));
	spit_bytes(p = path_join(ns, "g1"), "garbage", 7);
	free(p);
	images(&b, I(1), NULL);
	spit_bytes(p = path_join(ns, "g2"), b.data, b.len);
	free(p);
	dopy_buf_release(&b);
	images(&b, S("t"), S("t"), NULL);
	spit_bytes(p = path_join(ns, "g3"), b.data, b.len);
	free(p);
	dopy_buf_release(&b);
	for (i = 1; i <= 3; i++) {
		snprintf(key, sizeof(key), "g%zu", i);
		refused(&s, "naming", "resolve", args(S(key), NULL),
		    "naming.Corrupt", key);
		dopy_value_free(ok(&s, "naming", "resolve", args(S("fine"),
		    NULL)));
		/* rebind repairs it. */
		ok_void(&s, "naming", "rebind", args(S(key), S("t2"), NULL));
		dopy_value_free(ok(&s, "naming", "resolve", args(S(key),
		    NULL)));
	}
	stop(&s);
	check_server_logs();
	free(good);
	free(ns);
	free(pos);
	free(dir);
}

/* Each refusal carries its own name. */
Test(store_badinput, error_names, .timeout = 30)
{
	char *dir = fresh_dir("st"), *pos = path_join(dir, "pos"),
	    *ns = path_join(dir, "ns");
	dopy_value *v;
	struct srv s;

	start(&s, ns, pos);
	refused(&s, "pos", "fetch", args(S("missing"), NULL), "pos.NotFound",
	    "missing");
	refused(&s, "pos", "fetch", args(S("no/such/dir"), NULL),
	    "pos.NotFound", "no/such/dir");
	refused(&s, "pos", "remove", args(S("missing"), NULL),
	    "pos.NotFound", "missing");
	refused(&s, "pos/missing", "incr", NULL, "pos.NotFound", "missing");
	refused(&s, "pos/no/such", "get", NULL, "pos.NotFound", "no/such");
	refused(&s, "pos", "list", args(S("nodir"), NULL), "pos.NotFound",
	    "nodir");
	ok_void(&s, "pos", "create", args(S("c"), S("counter"), NULL));
	refused(&s, "pos", "create", args(S("c"), S("counter"), NULL),
	    "pos.Exists", "c");
	refused(&s, "pos", "create", args(S("c"), S("note"), NULL),
	    "pos.Exists", "c as a note");
	refused(&s, "pos", "create", args(S("d"), S("nosuch"), NULL),
	    "pos.NoClass", "nosuch");
	refused(&s, "pos", "fetch", args(S("d"), NULL), "pos.NotFound",
	    "d after NoClass");
	ok_void(&s, "pos", "store", args(S("plain"), I(3), NULL));
	refused(&s, "pos/plain", "incr", NULL, "pos.NoClass", "plain");
	refused(&s, "pos", "create", args(S("plain"), S("counter"), NULL),
	    "pos.Exists", "plain");
	refused(&s, "pos/c", "nosuch", NULL, "dopy.UnknownMethod", "c");
	refused(&s, "pos/c", "get", args(I(1), NULL), "dopy.ArgumentError",
	    "get(1)");
	refused(&s, "pos/c", "incr", args(S("x"), NULL), "dopy.TypeError",
	    "incr(\"x\")");
	cr_assert_eq(ok_int(&s, "pos/c", "get", NULL), 0,
	    "refused calls changed the counter");
	/* A file in place of a directory. */
	refused(&s, "pos", "store", args(S("plain/x"), I(1), NULL),
	    "pos.StoreError", "plain/x");
	/* The note class, for the other state type. */
	ok_void(&s, "pos", "create", args(S("n"), S("note"), NULL));
	ok_void(&s, "pos/n", "set", args(S("hello"), NULL));
	v = ok(&s, "pos/n", "get", NULL);
	cr_assert_str_eq(dopy_value_get_string(v), "hello");
	dopy_value_free(v);
	refused(&s, "pos/n", "incr", NULL, "dopy.UnknownMethod", "n");
	v = ok(&s, "pos", "classes", NULL);
	{
		char *text = dopy_value_format(v);

		cr_assert_str_eq(text, "[\"counter\", \"note\", \"record\"]");
		free(text);
	}
	dopy_value_free(v);
	ok_void(&s, "pos", "remove", args(S("c"), NULL));
	refused(&s, "pos/c", "get", NULL, "pos.NotFound", "removed c");
	/* Refusals leave no directories behind. */
	refused(&s, "pos", "remove", args(S("gone/deep/x"), NULL),
	    "pos.NotFound", "gone/deep/x");
	refused(&s, "pos/gone2/deep/x", "incr", NULL, "pos.NotFound",
	    "gone2/deep/x");
	refused(&s, "pos", "create", args(S("gone3/x"), S("nosuch"), NULL),
	    "pos.NoClass", "gone3/x");
	cr_assert(!exists_in(pos, "gone") && !exists_in(pos, "gone2") &&
	    !exists_in(pos, "gone3"), "a refused call made directories");
	/* naming */
	refused(&s, "naming", "resolve", args(S("nobody"), NULL),
	    "naming.NotFound", "nobody");
	refused(&s, "naming", "unbind", args(S("nobody"), NULL),
	    "naming.NotFound", "nobody");
	refused(&s, "naming", "list", args(S("nogroup"), NULL),
	    "naming.NotFound", "nogroup");
	ok_void(&s, "naming", "bind", args(S("x.y"), S("t"), NULL));
	refused(&s, "naming", "bind", args(S("x.y"), S("u"), NULL),
	    "naming.Exists", "x.y");
	refused(&s, "naming", "bind", args(S(":x.y"), S("u"), NULL),
	    "naming.Exists", ":x.y");
	ok_void(&s, "naming", "unbind", args(S("x.y"), NULL));
	refused(&s, "naming", "resolve", args(S("x.y"), NULL),
	    "naming.NotFound", "x.y after unbind");
	/* Names that look like the store's own messages. */
	refused(&s, "naming", "resolve", args(S("exists"), NULL),
	    "naming.NotFound", "exists");
	refused(&s, "naming", "unbind", args(S("not-found.exists"), NULL),
	    "naming.NotFound", "not-found.exists");
	ok_void(&s, "naming", "bind", args(S("exists"), S("t"), NULL));
	refused(&s, "pos", "fetch", args(S("exists"), NULL), "pos.NotFound",
	    "exists");
	stop(&s);
	free(ns);
	free(pos);
	free(dir);
}

/* ---- files that are not ours: FIFOs, devices, links, huge files ---- */

#define PLANT_MS	5000	/* every refusal must come sooner */

struct planted {
	const char	*name;
	char		 kind;	/* p FIFO, c device, l link to one, b huge */
	const char	*why;	/* in the error message */
};

static const struct planted planted[] = {
	{ "fifo", 'p', "not a regular file (a FIFO)" },
	{ "dev", 'c', "not a regular file (a device)" },
	{ "zero", 'l', "symlink" },
	{ "big", 'b', "larger than the store's limit" },
};

/* Make dir/name: a FIFO, a device like /dev/zero (a link to it where
 * mknod is not allowed: the tests run as root in CI), a link to
 * /dev/zero, or a 3 GiB sparse file. */
static void
plant(const char *dir, const struct planted *pl)
{
	char *p = path_join(dir, pl->name);
	int fd;

	switch (pl->kind) {
	case 'p':
		cr_assert(mkfifo(p, 0644) == 0, "%s: %s", p, strerror(errno));
		break;
	case 'c':
		if (mknod(p, S_IFCHR | 0644, makedev(1, 5)) == 0)
			break;
		/* FALLTHROUGH */
	case 'l':
		cr_assert(symlink("/dev/zero", p) == 0, "%s: %s", p,
		    strerror(errno));
		break;
	default:
		fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		cr_assert(fd >= 0 && ftruncate(fd, (off_t)3 << 30) == 0,
		    "%s: %s", p, strerror(errno));
		close(fd);
	}
	free(p);
}

/* The call must fail with name, saying why, within PLANT_MS. */
static void
refused_why(struct srv *s, const char *obj, const char *meth, dopy_args *a,
    const char *name, const struct planted *pl)
{
	int64_t t0 = ms_now();
	dopy_error *e;
	char what[64];

	snprintf(what, sizeof(what), "%s, a planted '%c'", pl->name,
	    pl->kind);
	e = refused_e(s, obj, meth, a, name, what);
	cr_assert(strstr(dopy_error_message(e), pl->why) != NULL,
	    "%s.%s(%s): '%s' does not say '%s'", obj, meth, what,
	    dopy_error_message(e), pl->why);
	cr_assert_lt(ms_now() - t0, PLANT_MS, "%s.%s(%s) took %lld ms", obj,
	    meth, what, (long long)(ms_now() - t0));
	dopy_error_free(e);
}

/* v must print as want; takes v. */
static void
formats_as(dopy_value *v, const char *want)
{
	char *text = dopy_value_format(v);

	cr_assert(text != NULL && strcmp(text, want) == 0, "got %s, want %s",
	    text != NULL ? text : "nothing", want);
	free(text);
	dopy_value_free(v);
}

Test(store_badinput, planted_special_files, .timeout = 120)
{
	char *dir = fresh_dir("st"), *pos = path_join(dir, "pos"),
	    *ns = path_join(dir, "ns"), key[64];
	const struct planted *pl;
	struct srv s;
	size_t i;

	start(&s, ns, pos);
	dopy_conn_set_timeout(s.conn, PLANT_MS);
	ok_void(&s, "pos", "create", args(S("c1"), S("counter"), NULL));
	for (i = 0; i < sizeof(planted) / sizeof(planted[0]); i++) {
		plant(pos, pl = &planted[i]);
		plant(ns, pl);
		snprintf(key, sizeof(key), "pos/%s", pl->name);
		refused_why(&s, "pos", "fetch", args(S(pl->name), NULL),
		    "pos.StoreError", pl);
		refused_why(&s, key, "get", NULL, "pos.StoreError", pl);
		refused_why(&s, key, "incr", NULL, "pos.StoreError", pl);
		refused(&s, "dopy", "describe", args(S(key), NULL),
		    "dopy.UnknownObject", key);
		refused_why(&s, "naming", "resolve", args(S(pl->name), NULL),
		    "naming.StoreError", pl);
	}
	/* Listings neither hang nor show what is not a file. */
	formats_as(ok(&s, "pos", "list", args(S(""), dopy_value_bool(1),
	    NULL)), "[\"big\", \"c1\"]");
	formats_as(ok(&s, "naming", "list", args(S(""), NULL)),
	    "[\"big\"]");
	/* A lock file that is a FIFO or a device is not used either. */
	ok_void(&s, "pos", "create", args(S("c2"), S("counter"), NULL));
	plant(pos, &(struct planted){ ".c2.lock", 'p', NULL });
	refused(&s, "pos/c2", "incr", NULL, "pos.StoreError", ".c2.lock");
	/* Still serving, and every refusal left the counter alone. */
	cr_assert_eq(ok_int(&s, "pos/c1", "incr", NULL), 1);
	stop(&s);
	free(ns);
	free(pos);
	free(dir);
}

/* ---- temporary files: random names, stale ones cleaned ---- */

/* dir/name with this content, its times set back by age seconds. */
static char *
plant_tmp(const char *dir, const char *name, long age)
{
	struct timespec ts[2];
	char *p = path_join(dir, name);

	cr_assert(e2e_spit(p, "left by a killed writer") == 0, "%s", p);
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= age;
	ts[1] = ts[0];
	cr_assert(utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW) == 0);
	return p;
}

/*
 * Before, the store named its temporaries with random() never seeded:
 * every process's first was .NAME.tmp.PID.6b8b4567 and its second
 * .NAME.tmp.PID.327b23c6, so one left by a killed server made the next
 * server with its pid fail its writes with "File exists".
 */
Test(store_crash, leftover_temporary_names, .timeout = 30)
{
	char *dir = fresh_dir("st"), *pos = path_join(dir, "pos"),
	    *ns = path_join(dir, "ns"), name[64];
	struct srv s;

	start(&s, ns, pos);
	snprintf(name, sizeof(name), ".n.tmp.%d.6b8b4567", (int)s.pid);
	free(plant_tmp(ns, name, 0));
	snprintf(name, sizeof(name), ".c.tmp.%d.327b23c6", (int)s.pid);
	free(plant_tmp(pos, name, 0));
	ok_void(&s, "naming", "bind", args(S("n"), S("tcp:h:1"), NULL));
	ok_void(&s, "pos", "create", args(S("c"), S("counter"), NULL));
	cr_assert_eq(ok_int(&s, "pos/c", "incr", NULL), 1);
	stop(&s);
	free(ns);
	free(pos);
	free(dir);
}

/*
 * Stale temporaries go with a server process's first write in their
 * directory: those of either naming scheme, old and unlocked.  A fresh
 * one may be a writer's that has not locked it yet, a locked one a live
 * writer's: both stay, and so does what is not ours (a lock file, a FIFO
 * with a temporary name).  Each sweep is a new server process, since a
 * process sweeps a directory at most once a minute.
 */
struct sweep {
	const char	*sub;		/* "pos", "pos/sub" or "ns/g" */
	const char	*obj, *meth, *path;
};

/* One write by a new server, then the files of dir checked. */
static void
sweep_write(const char *top, const struct sweep *w)
{
	char *ns = path_join(top, "ns"), *pos = path_join(top, "pos");
	struct srv s;

	start(&s, ns, pos);
	if (strcmp(w->obj, "pos") == 0)
		ok_void(&s, "pos", "store", args(S(w->path), I(1), NULL));
	else
		ok_void(&s, "naming", "rebind", args(S(w->path),
		    S("tcp:h:1"), NULL));
	stop(&s);
	free(pos);
	free(ns);
}

static void
check_sweep(const char *top, const struct sweep *w)
{
	char *dir = path_join(top, w->sub),
	    *oldfmt = plant_tmp(dir, ".a.tmp.4242.6b8b4567", 3600),
	    *newfmt = plant_tmp(dir, ".b.tmp.0123456789abcdef", 120),
	    *fresh = plant_tmp(dir, ".c.tmp.00000000000000aa", 0),
	    *held = plant_tmp(dir, ".d.tmp.00000000000000bb", 3600),
	    *lock = plant_tmp(dir, ".a.tmp.4242.lock", 3600),
	    *fifo = path_join(dir, ".e.tmp.00000000000000cc");
	int fd;

	cr_assert(mkfifo(fifo, 0644) == 0);
	cr_assert((fd = open(held, O_RDONLY | O_CLOEXEC)) >= 0 &&
	    flock(fd, LOCK_EX) == 0);
	sweep_write(top, w);
	cr_assert(!there(oldfmt) && !there(newfmt), "stale temporaries "
	    "stayed in %s", dir);
	cr_assert(there(fresh) && there(held) && there(lock) &&
	    there(fifo), "a live, fresh or foreign file went from %s", dir);
	close(fd);			/* its writer is gone now */
	sweep_write(top, w);
	cr_assert(!there(held), "an unlocked stale temporary stayed");
	cr_assert(there(fresh) && there(lock) && there(fifo));
	free(oldfmt);
	free(newfmt);
	free(fresh);
	free(held);
	free(lock);
	free(fifo);
	free(dir);
}

Test(store_crash, stale_temporaries_cleaned, .timeout = 60)
{
	static const struct sweep sweeps[] = {
		{ "pos", "pos", "store", "v" },
		{ "pos/sub", "pos", "store", "sub/v" },
		{ "ns/g", "naming", "rebind", "g.n" },
	};
	static const char *const dirs[] = { "pos", "pos/sub", "ns", "ns/g" };
	char *top = fresh_dir("st"), *p;
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		cr_assert(mkdir(p = path_join(top, dirs[i]), 0755) == 0,
		    "%s: %s", p, strerror(errno));
		free(p);
	}
	for (i = 0; i < sizeof(sweeps) / sizeof(sweeps[0]); i++)
		check_sweep(top, &sweeps[i]);
	free(top);
}

/* ---- dopy-rsh, name: targets and the walk-through ---- */

/* 'text', for sh -c. */
static char *
shq(const char *text)
{
	char *out = malloc(strlen(text) * 4 + 3), *o = out;

	cr_assert_not_null(out);
	*o++ = '\'';
	for (; *text != '\0'; text++)
		if (*text == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else
			*o++ = *text;
	*o++ = '\'';
	*o = '\0';
	return out;
}

/* "'dopyd' -N 'dir'" and the like: a target as a user writes it. */
static char *
dopyd_cmd(const char *opt, const char *dir)
{
	char *d = shq(e2e_bin("dopyd")), *q = shq(dir), *cmd;

	cr_assert(asprintf(&cmd, "%s %s %s", d, opt, q) > 0);
	free(d);
	free(q);
	return cmd;
}

/* Run dopy-rsh with up to 6 arguments (NULL-terminated) and check its
 * exit status; the caller frees r. */
static void
rsh_run(struct e2e_run *r, int want, const char *a0, ...)
{
	char *argv[10];
	const char *a;
	va_list ap;
	int n = 0;

	argv[n++] = (char *)e2e_bin("dopy-rsh");
	va_start(ap, a0);
	for (a = a0; a != NULL && n < 9; a = va_arg(ap, const char *))
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	e2e_run_ms(r, NULL, 0, 20000, argv);
	cr_assert(e2e_exited(r->status, want), "dopy-rsh %s %s %s: %s, want "
	    "exit %d\nstdout: %s\nstderr: %s", a0, n > 2 ? argv[2] : "",
	    n > 3 ? argv[3] : "", e2e_status(r->status), want, r->out,
	    r->err);
}

/* dopy-rsh must succeed, print exactly out, and say nothing on stderr. */
static void
rsh_says(const char *out, const char *a0, ...)
{
	const char *a[8] = { NULL };
	struct e2e_run r;
	va_list ap;
	int n = 0;

	a[n++] = a0;
	va_start(ap, a0);
	while (n < 7 && (a[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	rsh_run(&r, 0, a[0], a[1], a[2], a[3], a[4], a[5], a[6], NULL);
	cr_assert_str_eq(r.out, out, "dopy-rsh %s %s %s printed '%s', want "
	    "'%s'", a[0], a[1] ? a[1] : "", a[2] ? a[2] : "", r.out, out);
	cr_assert_str_eq(r.err, "", "dopy-rsh %s %s: stderr: %s", a[0],
	    a[1] ? a[1] : "", r.err);
	e2e_run_free(&r);
}

static int
cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Listings come in directory order: compare them sorted. */
static void
rsh_lists(const char *sorted, const char *a0, const char *a1,
    const char *a2, const char *a3, const char *a4)
{
	struct e2e_run r;
	char *lines[64], *save, *l, got[4096] = "";
	size_t n = 0, i;

	rsh_run(&r, 0, a0, a1, a2, a3, a4, NULL);
	for (l = strtok_r(r.out, "\n", &save); l != NULL && n < 64;
	    l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	qsort(lines, n, sizeof(lines[0]), cmp_line);
	for (i = 0; i < n; i++) {
		strlcat(got, lines[i], sizeof(got));
		strlcat(got, "\n", sizeof(got));
	}
	cr_assert_str_eq(got, sorted, "dopy-rsh %s %s %s listed (sorted) "
	    "'%s', want '%s'", a0, a1, a2 ? a2 : "", got, sorted);
	cr_assert_str_eq(r.err, "", "stderr: %s", r.err);
	e2e_run_free(&r);
}

static void
rsh_fails(int want, const char *needle, const char *a0, ...)
{
	const char *a[8] = { NULL };
	struct e2e_run r;
	va_list ap;
	int n = 0;

	a[n++] = a0;
	va_start(ap, a0);
	while (n < 7 && (a[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	rsh_run(&r, want, a[0], a[1], a[2], a[3], a[4], a[5], a[6], NULL);
	cr_assert_not_null(strstr(r.err, needle), "dopy-rsh %s: no '%s' on "
	    "stderr:\n%s", a[0], needle, r.err);
	e2e_run_free(&r);
}

Test(store_name, name_targets, .timeout = 60)
{
	char *dir = fresh_dir("st"), *ns = path_join(dir, "ns"),
	    *pos = path_join(dir, "pos"), *nsd = dopyd_cmd("-N", ns),
	    *posd = dopyd_cmd("-P", pos);

	cr_assert(setenv("DOPY_NS", nsd, 1) == 0);
	/* These names run commands: trust the naming service (our own). */
	cr_assert(setenv("DOPY_NS_TRUST", "1", 1) == 0);
	rsh_says("", posd, "pos", "create", "c", "counter", NULL);
	rsh_says("", nsd, "naming", "bind", "srv", posd, NULL);
	rsh_says("", nsd, "naming", "bind", "app.ctr", posd, "pos/c", NULL);
	/* A name with an object key, and one without. */
	rsh_says("1\n", "name:app.ctr", "incr", NULL);
	rsh_says("3\n", "name:app.ctr", "incr", "by=2", NULL);
	rsh_says("3\n", "name:srv", "pos/c", "get", NULL);
	rsh_says("3\n", "name:srv", "pos", "fetch", "c", NULL);
	rsh_says("3\n", "name::app.ctr", "get", NULL);
	/* The naming service found through itself. */
	rsh_says("", nsd, "naming", "bind", "ns", nsd, "naming", NULL);
	rsh_lists("app.\nns\nsrv\n", "name:ns", "list", NULL, NULL, NULL);
	/* Errors: unset, unknown, a name: naming service, a dead target. */
	rsh_fails(1, "naming.NotFound", "name:nobody", "get", NULL);
	rsh_fails(1, "naming.NotFound", "name:app.nobody", "get", NULL);
	rsh_fails(1, "naming.BadName", "name:a..b", "get", NULL);
	rsh_says("", nsd, "naming", "bind", "dead", "/nonexistent/dopyd",
	    NULL);
	rsh_fails(3, "/nonexistent/dopyd", "name:dead", "test", "add", "1",
	    "2", NULL);
	/* A name bound to a name: neither a chain nor a loop. */
	rsh_fails(1, "naming.BadName", nsd, "naming", "bind", "loop",
	    "name:loop", NULL);
	rsh_fails(1, "names do not chain", nsd, "naming", "rebind", "srv",
	    "name:app.ctr", NULL);
	rsh_says("3\n", "name:srv", "pos/c", "get", NULL);
	cr_assert(setenv("DOPY_NS", "name:ns", 1) == 0);
	rsh_fails(2, "DOPY_NS", "name:srv", "pos", "fetch", "c", NULL);
	cr_assert(setenv("DOPY_NS", "", 1) == 0);
	rsh_fails(2, "DOPY_NS", "name:srv", "pos", "fetch", "c", NULL);
	cr_assert(unsetenv("DOPY_NS") == 0);
	rsh_fails(2, "DOPY_NS", "name:srv", "pos", "fetch", "c", NULL);
	rsh_fails(2, "DOPY_NS", "name:app.ctr", "get", NULL);
	cr_assert(unsetenv("DOPY_NS_TRUST") == 0);
	free(nsd);
	free(posd);
	free(ns);
	free(pos);
	free(dir);
}

/* ---- what a name may dial ---- */

/* An ssh for DOPY_SSH that logs its arguments to *log, then runs the
 * remote command here through a shell, as sshd would run it there. */
static char *
fake_ssh(const char *dir, char **log)
{
	char *path = path_join(dir, "ssh"), *text;

	*log = path_join(dir, "ssh.log");
	cr_assert(asprintf(&text, "#!/bin/sh\n"
	    "echo \"$@\" >> '%s'\n"
	    "while [ $# -gt 0 ] && [ \"$1\" != -- ]; do shift; done\n"
	    "shift 2\n"
	    "exec /bin/sh -c \"$1\"\n", *log) > 0);
	cr_assert(e2e_spit(path, text) == 0 && chmod(path, 0755) == 0);
	free(text);
	return path;
}

/* name:calc bound to target must be refused, saying why and how to opt
 * in, and run nothing: no file made, no ssh started. */
static void
calc_refused(const char *nsd, const char *target, const char *why,
    const char *file, const char *sshlog)
{
	struct e2e_run r;

	rsh_says("", nsd, "naming", "rebind", "calc", target, NULL);
	rsh_run(&r, 2, "name:calc", "test", "add", "2", "3", NULL);
	cr_assert(strstr(r.err, "name:calc is bound to '") != NULL &&
	    strstr(r.err, why) != NULL &&
	    strstr(r.err, "set DOPY_NS_TRUST=1") != NULL,
	    "%s: stderr says '%s', want '%s'", target, r.err, why);
	cr_assert(!there(file), "%s ran a command here", target);
	cr_assert(!there(sshlog), "%s started ssh", target);
	e2e_run_free(&r);
}

/*
 * Anyone who may rebind a name could make every client that resolves it
 * run a command: a naming entry may lead only to a server (tcp, unix,
 * ssh to a plain host running one program), unless the client trusts
 * the naming service.
 */
Test(store_name, entries_may_not_run_commands, .timeout = 90)
{
	char *dir = fresh_dir("st"), *ns = path_join(dir, "ns"),
	    *nsd = dopyd_cmd("-N", ns), *file = path_join(dir, "pwned"),
	    *dopyd = shq(e2e_bin("dopyd")), *sshlog, *ssh, *tcp, *t;
	char *argv[] = { (char *)e2e_bin("dopyd"), "-d", "-B", "-l",
	    "127.0.0.1:0", NULL };
	struct e2e_proc lp;
	int st;

	ssh = fake_ssh(dir, &sshlog);
	tcp = listen_tcp(&lp, argv);
	cr_assert(setenv("DOPY_NS", nsd, 1) == 0 &&
	    unsetenv("DOPY_NS_TRUST") == 0 && setenv("DOPY_SSH", ssh, 1) == 0);
	rsh_says("", nsd, "naming", "bind", "calc", tcp, NULL);
	rsh_says("5\n", "name:calc", "test", "add", "2", "3", NULL);
	/* A command, with exec: or bare. */
	cr_assert(asprintf(&t, "exec:touch '%s'; exec %s", file, dopyd) > 0);
	calc_refused(nsd, t, "a command, which a name may not run", file,
	    sshlog);
	calc_refused(nsd, t + 5, "a command", file, sshlog);
	free(t);
	/* ssh running a shell line there, or given an option for ssh. */
	cr_assert(asprintf(&t, "ssh://localhost/touch '%s'; exec %s", file,
	    dopyd) > 0);
	calc_refused(nsd, t, "not one program path", file, sshlog);
	free(t);
	calc_refused(nsd, "ssh://-oProxyCommand=sh@localhost",
	    "not a plain name", file, sshlog);
	calc_refused(nsd, "ssh://-oProxyCommand=sh", "not a plain name",
	    file, sshlog);
	calc_refused(nsd, "ssh://local$(sh)host", "not a plain name", file,
	    sshlog);
	/* ssh to a host, running one program there: allowed. */
	cr_assert(asprintf(&t, "ssh://localhost/%s", e2e_bin("dopyd")) > 0);
	rsh_says("", nsd, "naming", "rebind", "calc", t, NULL);
	rsh_says("5\n", "name:calc", "test", "add", "2", "3", NULL);
	cr_assert(there(sshlog), "ssh was not used");
	free(t);
	/* The opt-in: the client trusts this naming service. */
	cr_assert(asprintf(&t, "exec:touch '%s'; exec %s", file, dopyd) > 0);
	rsh_says("", nsd, "naming", "rebind", "calc", t, NULL);
	cr_assert(setenv("DOPY_NS_TRUST", "1", 1) == 0);
	rsh_says("5\n", "name:calc", "test", "add", "2", "3", NULL);
	cr_assert(there(file), "the trusted entry did not run");
	free(t);
	cr_assert(unsetenv("DOPY_NS_TRUST") == 0 && unsetenv("DOPY_SSH") == 0);
	kill(lp.pid, SIGTERM);
	st = e2e_wait(&lp, 10000);
	cr_assert(e2e_exited(st, 0), "listener: %s", e2e_status(st));
	free(tcp);
	free(ssh);
	free(sshlog);
	free(dopyd);
	free(file);
	free(nsd);
	free(ns);
	free(dir);
}

/* A name: entry is refused when bound, and, written before that rule,
 * when resolved, trusted or not: names do not chain, and loops end. */
Test(store_name, chains_refused, .timeout = 60)
{
	char *dir = fresh_dir("st"), *ns = path_join(dir, "ns"),
	    *nsd = dopyd_cmd("-N", ns), *p;
	struct dopy_buf b;
	struct srv s;

	start(&s, ns, NULL);
	refused(&s, "naming", "bind", args(S("a"), S("name:b"), NULL),
	    "naming.BadName", "bind a name:b");
	refused(&s, "naming", "rebind", args(S("a"), S("name:a"), NULL),
	    "naming.BadName", "rebind a name:a");
	stop(&s);
	cr_assert(!exists_in(ns, "a"), "a refused bind made a file");
	images(&b, e2e_value("(string,string,string)",
	    "(\"name:loop\", \"\", \"\")"), NULL);
	spit_bytes(p = path_join(ns, "loop"), b.data, b.len);
	dopy_buf_release(&b);
	free(p);
	cr_assert(setenv("DOPY_NS", nsd, 1) == 0);
	rsh_fails(2, "names do not chain", "name:loop", "test", "add", "1",
	    "2", NULL);
	cr_assert(setenv("DOPY_NS_TRUST", "1", 1) == 0);
	rsh_fails(2, "names do not chain", "name:loop", "test", "add", "1",
	    "2", NULL);
	cr_assert(unsetenv("DOPY_NS_TRUST") == 0);
	free(nsd);
	free(ns);
	free(dir);
}

/* A name under a bound name (not a group) says that the parent is a
 * name, for every method that walks the path. */
Test(store_name, parent_is_a_name, .timeout = 60)
{
	static const char *const meths[] = { "bind", "rebind", "resolve",
	    "unbind", "list" };
	char *dir = fresh_dir("st"), *ns = path_join(dir, "ns");
	char *pos = path_join(dir, "pos");
	dopy_error *e;
	struct srv s;
	dopy_args *a;
	size_t i;

	start(&s, ns, pos);
	ok_void(&s, "naming", "bind", args(S("a"), S("tcp:h:1"), NULL));
	for (i = 0; i < sizeof(meths) / sizeof(meths[0]); i++) {
		a = i < 2 ? args(S("a.b.c"), S("tcp:h:1"), NULL) :
		    args(S("a.b.c"), NULL);
		e = refused_e(&s, "naming", meths[i], a, "naming.StoreError",
		    meths[i]);
		cr_assert_str_eq(dopy_error_message(e), "a.b.c: a is a name, "
		    "not a group", "naming.%s", meths[i]);
		dopy_error_free(e);
	}
	/* pos says the same of a value. */
	ok_void(&s, "pos", "store", args(S("x"), I(1), NULL));
	e = refused_e(&s, "pos", "store", args(S("x/y"), I(2), NULL),
	    "pos.StoreError", "store x/y");
	cr_assert_str_eq(dopy_error_message(e), "x is a value or an object, "
	    "not a directory");
	dopy_error_free(e);
	stop(&s);
	free(pos);
	free(ns);
	free(dir);
}

/*
 * The acceptance walk-through, as a new user makes it with dopy-rsh
 * alone: bind a name, call through name:, make a counter under pos,
 * increment it from two separate runs (two connections, two server
 * processes), read it back.
 */
Test(store_accept, walkthrough, .timeout = 60)
{
	char *dir = fresh_dir("st"), *ns = path_join(dir, "ns"),
	    *pos = path_join(dir, "pos"), *nsd = dopyd_cmd("-N", ns),
	    *posd = dopyd_cmd("-P", pos), *want;

	cr_assert(unsetenv("DOPY_NS") == 0);
	/* The naming service, and a name for the pos server. */
	rsh_says("", nsd, "naming", "bind", "demo.server", posd, NULL);
	cr_assert(asprintf(&want, "(\"%s\", \"\", \"\")\n", posd) > 0);
	rsh_says(want, nsd, "naming", "resolve", "demo.server", NULL);
	free(want);
	cr_assert(setenv("DOPY_NS", nsd, 1) == 0);
	/* The names run commands here: the user trusts the service. */
	rsh_fails(2, "DOPY_NS_TRUST=1", "name:demo.server", "test", "add",
	    "1", "2", NULL);
	cr_assert(setenv("DOPY_NS_TRUST", "1", 1) == 0);
	rsh_says("3\n", "name:demo.server", "test", "add", "1", "2", NULL);
	/* A counter under pos, found by name. */
	rsh_says("", "name:demo.server", "pos", "create", "counters/visits",
	    "counter", NULL);
	rsh_says("counters/\n", "name:demo.server", "pos", "list", NULL);
	rsh_says("", nsd, "naming", "bind", "demo.visits", posd,
	    "pos/counters/visits", NULL);
	rsh_lists("demo.server\ndemo.visits\n", nsd, "naming", "list", "",
	    "true");
	/* Two runs: two connections, two server processes. */
	rsh_says("1\n", "name:demo.visits", "incr", NULL);
	rsh_says("2\n", "name:demo.visits", "incr", NULL);
	rsh_says("2\n", "name:demo.visits", "get", NULL);
	rsh_says("2\n", posd, "pos/counters/visits", "get", NULL);
	rsh_says("2\n", posd, "pos", "fetch", "counters/visits", NULL);
	cr_assert(unsetenv("DOPY_NS_TRUST") == 0);
	free(nsd);
	free(posd);
	free(ns);
	free(pos);
	free(dir);
}
