/*
 * bench_call.c - small calls (pipe, generated stub, pipelined) and large echoes
 * over pipes, each against a raw ping-pong.
 */
#include <err.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "test_client.h"
#include "types_client.h"


/* Raw ping-pong: a child answers each req-byte message with rep bytes. */
/*
 * The raw limit over pipes: a ping-pong with a peer that, like dopyd
 * spawned by a client, is a program exec'd on the other end (exec may
 * place it on another CPU, which a forked copy would not be).
 */
double
raw_pipe(const char *self, size_t req, size_t rep, int n)
{
	char sreq[32], srep[32], sn[32];
	char *argv[] = { (char *)self, "pipe-echo", sreq, srep, sn, NULL };
	int to[2], from[2];
	char *buf = calloc(1, req > rep ? req : rep);
	pid_t pid;
	double t;

	if (buf == NULL)
		err(1, "calloc");
	snprintf(sreq, sizeof(sreq), "%zu", req);
	snprintf(srep, sizeof(srep), "%zu", rep);
	snprintf(sn, sizeof(sn), "%d", n);
	if (pipe(to) || pipe(from))
		err(1, "pipe");
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (dup2(to[0], 0) < 0 || dup2(from[1], 1) < 0)
			_exit(1);
		close(to[1]);
		close(from[0]);
		execv(self, argv);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	writefull(to[1], buf, req);		/* warm up: it has started */
	readfull(from[0], buf, rep);
	t = now();
	for (int i = 1; i < n; i++) {
		writefull(to[1], buf, req);
		readfull(from[0], buf, rep);
	}
	t = now() - t;
	close(to[1]);
	close(from[0]);
	waitpid(pid, NULL, 0);
	free(buf);
	return t / (n - 1);
}

/* The exec'd end of raw_pipe: n times, read req bytes, write rep. */
int
pipe_echo(char *argv[])
{
	size_t req = strtoul(argv[2], NULL, 10), rep = strtoul(argv[3], NULL,
	    10);
	int n = atoi(argv[4]);
	char *buf = calloc(1, req > rep ? req : rep);

	if (buf == NULL)
		return 1;
	for (int i = 0; i < n; i++) {
		readfull(0, buf, req);
		writefull(1, buf, rep);
	}
	free(buf);
	return 0;
}

/* The arguments of test.add(i, 3), made afresh as a caller would. */
dopy_args *
add_args(int i)
{
	dopy_args *a = dopy_args_new();

	dopy_args_int(a, NULL, i);
	dopy_args_int(a, NULL, 3);
	return a;
}

/* The answer to test.add(i, 3), or the bench stops: a figure is only
 * worth printing for calls that worked. */
void
add_answered(int r, dopy_value *res, int i)
{
	if (r != 0 || dopy_value_get_int(res) != i + 3)
		errx(1, "test.add failed");
	dopy_value_free(res);
}

double
dopy_add(dopy_proxy *p, int n)
{
	dopy_value *res;
	dopy_args *a;
	double t;
	int r;

	t = now();
	for (int i = 0; i < n; i++) {
		a = add_args(i);
		r = dopy_proxy_call(p, "add", a, &res, NULL);
		add_answered(r, res, i);
		dopy_args_free(a);
	}
	return (now() - t) / n;
}

/* The sizes of a test.add(i, 3) CALL and its REPLY on the wire. */
void
add_sizes(size_t *req, size_t *rep)
{
	struct dopy_buf b;
	const char *names[2] = { "", "" };
	dopy_value *v;

	dopy_buf_init(&b);
	dopy_msg_call_put(&b, "test", "add", names, 2);
	dopy_encode((v = dopy_value_int(1)), &b);
	dopy_encode(v, &b);
	*req = DOPY_HDR_LEN + b.len;
	dopy_buf_reset(&b);
	dopy_encode(v, &b);
	*rep = DOPY_HDR_LEN + b.len;
	dopy_value_free(v);
	dopy_buf_release(&b);
}
/* dopyd over a pipe, and the sizes of the small call's frames. */
dopy_conn *
small_call_conn(const char *dopyd, size_t *req, size_t *rep)
{
	dopy_error *e = NULL;
	dopy_conn *c;

	add_sizes(req, rep);
	if (dopy_conn_spawn(dopyd, &c, &e) != 0)
		errx(1, "%s", dopy_error_message(e));
	return c;
}

void
bench_small_call_pipe(const char *dopyd, const char *self)
{
	double raw[REPS], dp[REPS], r, d;
	dopy_conn *c;
	dopy_proxy *p;
	size_t req, rep;
	int n = 20000;

	c = small_call_conn(dopyd, &req, &rep);
	p = dopy_proxy_new(c, "test");
	dopy_add(p, 1000);			/* warm up */
	for (int i = 0; i < REPS; i++) {
		raw[i] = raw_pipe(self, req, rep, n);
		dp[i] = dopy_add(p, n);
	}
	dopy_proxy_free(p);
	dopy_conn_close(c);
	r = median(raw, REPS);
	d = median(dp, REPS);
	printf("bench: # small call: %zu-byte CALL, %zu-byte REPLY; raw pipe "
	    "round trip with an exec'd peer %.2f us, dopy %.2f us (medians of "
	    "%d x %d)\n",
	    req, rep, r * 1e6, d * 1e6, REPS, n);
	report("small_call_pipe", d * 1e6, "us", d / r, "<=", 1.15);
}

/* ---- a generated stub's small call ---- */

/* add(i, 3) n times through a generated stub: test.add's from
 * tests/idl/test.idl, or types.add's from tests/idl/types.idl. */
typedef int (*stub_add_fn)(dopy_proxy *, int64_t, int64_t, int64_t *,
    dopy_error **);

static double
stub_add(dopy_proxy *p, stub_add_fn add, int n)
{
	int64_t sum;
	double t;

	t = now();
	for (int i = 0; i < n; i++)
		if (add(p, i, 3, &sum, NULL) != 0 || sum != i + 3)
			errx(1, "add by stub failed");
	return (now() - t) / n;
}

static dopy_conn *
typesd_conn(const char *dopyd)
{
	dopy_error *e = NULL;
	dopy_conn *c;
	char cmd[4096];
	const char *slash = strrchr(dopyd, '/');

	/* Beside dopyd, in bin/. */
	snprintf(cmd, sizeof(cmd), "%.*stypesd", slash != NULL ?
	    (int)(slash - dopyd + 1) : 0, dopyd);
	if (dopy_conn_spawn(cmd, &c, &e) != 0)
		errx(1, "%s: %s", cmd, dopy_error_message(e));
	return c;
}

/* The same small call as small_call_pipe, made by a generated stub
 * (values straight between C and the wire), beside the dynamic one;
 * and to a server generated too (bin/typesd). */
void
bench_stub_small_call_pipe(const char *dopyd, const char *self)
{
	double raw[REPS], dp[REPS], st[REPS], ss[REPS], r, d, s;
	dopy_conn *c, *tc;
	dopy_proxy *p, *gen;
	size_t req, rep;
	int n = 20000;

	c = small_call_conn(dopyd, &req, &rep);
	p = dopy_proxy_new(c, "test");
	tc = typesd_conn(dopyd);
	gen = dopy_proxy_new(tc, "types");
	dopy_add(p, 1000);			/* warm up */
	stub_add(p, ht_test_add, 1000);
	stub_add(gen, types_add, 1000);
	for (int i = 0; i < REPS; i++) {
		raw[i] = raw_pipe(self, req, rep, n);
		dp[i] = dopy_add(p, n);
		st[i] = stub_add(p, ht_test_add, n);
		ss[i] = stub_add(gen, types_add, n);
	}
	dopy_proxy_free(gen);
	dopy_proxy_free(p);
	dopy_conn_close(tc);
	dopy_conn_close(c);
	r = median(raw, REPS);
	d = median(dp, REPS);
	s = median(st, REPS);
	printf("bench: # stub small call: raw pipe round trip %.2f us, "
	    "dynamic dopy_proxy_call %.2f us, generated stub %.2f us, "
	    "generated stub to a generated server (typesd) %.2f us (medians "
	    "of %d x %d)\n", r * 1e6, d * 1e6, s * 1e6, median(ss, REPS) * 1e6,
	    REPS, n);
	report("stub_small_call_pipe", s * 1e6, "us", s / r, "<=", 1.05);
}

/* ---- pipelining ---- */

/* n calls of test.add sent before any answer is collected. */
static double
dopy_add_pipelined(dopy_proxy *p, int n, dopy_future **f)
{
	dopy_value *res;
	dopy_args *a;
	double t;
	int r;

	t = now();
	for (int i = 0; i < n; i++) {
		a = add_args(i);
		if (dopy_proxy_call_async(p, "add", a, NULL, NULL, &f[i],
		    NULL) != 0)
			errx(1, "test.add could not be sent");
		dopy_args_free(a);
	}
	for (int i = 0; i < n; i++) {
		res = NULL;
		r = dopy_future_wait(f[i], &res, NULL);
		add_answered(r, res, i);
		dopy_future_free(f[i]);
	}
	return (now() - t) / n;
}

void
bench_pipelined(const char *dopyd, const char *self)
{
	double seq[REPS], pip[REPS], s, q;
	dopy_future **f;
	dopy_conn *c;
	dopy_proxy *p;
	dopy_error *e = NULL;
	int n = 20000;

	(void)self;
	if ((f = calloc((size_t)n, sizeof(*f))) == NULL)
		err(1, "calloc");
	/* Pipelining is overlap: the server works on one call while the
	 * client sends the next, so here the server gets a CPU of its own
	 * (when there is one), and the same server answers both ways. */
	pin_to(server_cpu);
	if (dopy_conn_spawn(dopyd, &c, &e) != 0)
		errx(1, "%s", dopy_error_message(e));
	pin_to(bench_cpu);
	p = dopy_proxy_new(c, "test");
	dopy_add(p, 1000);			/* warm up */
	for (int i = 0; i < REPS; i++) {
		seq[i] = dopy_add(p, n);
		pip[i] = dopy_add_pipelined(p, n, f);
	}
	dopy_proxy_free(p);
	dopy_conn_close(c);
	free(f);
	s = median(seq, REPS);
	q = median(pip, REPS);
	printf("bench: # pipelined test.add on one pipe connection: %.0f "
	    "calls/s; sequential %.0f calls/s (medians of %d x %d)\n",
	    1 / q, 1 / s, REPS, n);
	report("pipelined_calls", 1 / q, "calls/s", s / q, ">=", 5);
}
/* ---- large payloads ---- */

double
dopy_echo(dopy_proxy *p, const void *data, size_t len, int n)
{
	dopy_value *res;
	dopy_args *a;
	size_t got;
	double t;

	t = now();
	for (int i = 0; i < n; i++) {
		a = dopy_args_new();
		dopy_args_bytes_ref(a, NULL, data, len);	/* no copy */
		if (dopy_proxy_call(p, "echo", a, &res, NULL) != 0 ||
		    (dopy_value_get_bytes(res, &got), got) != len)
			errx(1, "test.echo failed");
		dopy_value_free(res);
		dopy_args_free(a);
	}
	return (now() - t) / n;
}

/* test.echo of len bytes over pipes against a raw echo of as many
 * bytes; above 16 MiB both ends raise their frame limit. */
static void
bench_echo(const char *dopyd, const char *self, size_t len, int n,
    const char *name)
{
	double raw[REPS], dp[REPS], r, d;
	char *data = calloc(1, len), cmd[4200];
	dopy_conn *c;
	dopy_proxy *p;
	dopy_error *e = NULL;

	if (data == NULL)
		err(1, "calloc");
	snprintf(cmd, sizeof(cmd), "%s -m 100000000", dopyd);
	setenv("DOPY_MAX_FRAME", "100000000", 1);
	if (dopy_conn_spawn(cmd, &c, &e) != 0)
		errx(1, "%s", dopy_error_message(e));
	unsetenv("DOPY_MAX_FRAME");
	p = dopy_proxy_new(c, "test");
	dopy_echo(p, data, len, 1);		/* warm up */
	for (int i = 0; i < REPS; i++) {
		/* The same bytes on the wire as the call and its reply. */
		raw[i] = raw_pipe(self, len + 100, len + 40, n);
		dp[i] = dopy_echo(p, data, len, n);
	}
	dopy_proxy_free(p);
	dopy_conn_close(c);
	free(data);
	r = median(raw, REPS);
	d = median(dp, REPS);
	printf("bench: # %zu MiB test.echo over pipes: raw %.0f us, dopy %.0f "
	    "us (medians of %d x %d)\n", len >> 20, r * 1e6, d * 1e6, REPS, n);
	report(name, d * 1e6, "us", d / r, "<=", 1.3);
}

/* The two sizes make bench runs. */
void
bench_echo_1mib(const char *dopyd, const char *self)
{
	bench_echo(dopyd, self, 1 << 20, 50, "echo_1mib_pipe");
}

void
bench_echo_64mib(const char *dopyd, const char *self)
{
	bench_echo(dopyd, self, 64 << 20, 3, "echo_64mib_pipe");
}
