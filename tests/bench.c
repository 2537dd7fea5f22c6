/*
 * bench.c - make bench: dopy against the raw limit, in the same run.
 *
 * Each figure alternates baseline and dopy repetitions so that a change
 * in machine load hits both alike, and reports medians:
 *	bench: NAME value=V unit=U ratio=R target=T ok|miss
 * It measures; it does not gate: the exit status is 0 unless a
 * measurement could not be made at all.
 */
#include <err.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "test_client.h"
#include "types_client.h"

#define REPS	7

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void
report(const char *name, double value, const char *unit, double ratio,
    const char *op, double target)
{
	int ok = op[0] == '<' ? ratio <= target : ratio >= target;

	printf("bench: %s value=%.3f unit=%s ratio=%.3f target=%s%.2f %s\n",
	    name, value, unit, ratio, op, target, ok ? "ok" : "miss");
	fflush(stdout);
}

static void
readfull(int fd, void *p, size_t n)
{
	ssize_t r;

	for (size_t done = 0; done < n; done += (size_t)r)
		if ((r = read(fd, (char *)p + done, n - done)) <= 0)
			_exit(1);
}

static void
writefull(int fd, const void *p, size_t n)
{
	ssize_t r;

	for (size_t done = 0; done < n; done += (size_t)r)
		if ((r = write(fd, (const char *)p + done, n - done)) <= 0)
			_exit(1);
}

/* Raw ping-pong: a child answers each req-byte message with rep bytes. */
/*
 * The raw limit over pipes: a ping-pong with a peer that, like dopyd
 * spawned by a client, is a program exec'd on the other end (exec may
 * place it on another CPU, which a forked copy would not be).
 */
static double
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
static int
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
static dopy_args *
add_args(int i)
{
	dopy_args *a = dopy_args_new();

	dopy_args_int(a, NULL, i);
	dopy_args_int(a, NULL, 3);
	return a;
}

/* The answer to test.add(i, 3), or the bench stops: a figure is only
 * worth printing for calls that worked. */
static void
add_answered(int r, dopy_value *res, int i)
{
	if (r != 0 || dopy_value_get_int(res) != i + 3)
		errx(1, "test.add failed");
	dopy_value_free(res);
}

static double
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
static void
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

/*
 * Keep this process, and every process it starts, on the CPU it runs on.
 * A ping-pong is fastest when both ends share a CPU: a wake-up on the
 * other one costs 2 us on bare metal and 25-50 us on this project's VMs,
 * and where the kernel puts an exec'd peer varies from run to run and
 * from peer to peer (unpinned, a raw 1 MiB pipe echo took 2 ms while
 * dopy's took 0.35 ms, only because dopyd happened to share the CPU).
 * Pinned, every raw figure is the physical limit of one CPU and every
 * ratio is dopy's own cost.
 */
/* The CPU everything runs on, and another for the pipelined server (the
 * same when there is no other). */
static int bench_cpu, server_cpu;

static void
pin_to(int cpu)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one) != 0)
		warn("sched_setaffinity");
}

static void
pin_here(void)
{
	cpu_set_t all;

	if ((bench_cpu = sched_getcpu()) < 0)
		bench_cpu = 0;
	CPU_ZERO(&all);
	sched_getaffinity(0, sizeof(all), &all);
	pin_to(bench_cpu);
	printf("bench: # all processes pinned to CPU %d, but for the "
	    "pipelined server\n", bench_cpu);
	CPU_CLR(bench_cpu, &all);
	server_cpu = CPU_COUNT(&all) > 0 ? -1 : bench_cpu;
	for (int i = 0; server_cpu < 0 && i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &all))
			server_cpu = i;
}

/* dopyd over a pipe, and the sizes of the small call's frames. */
static dopy_conn *
small_call_conn(const char *dopyd, size_t *req, size_t *rep)
{
	dopy_error *e = NULL;
	dopy_conn *c;

	add_sizes(req, rep);
	if (dopy_conn_spawn(dopyd, &c, &e) != 0)
		errx(1, "%s", dopy_error_message(e));
	return c;
}

static void
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
	report("small_call_pipe", d * 1e6, "us", d / r, "<=", 1.3);
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
static void
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
	report("stub_small_call_pipe", s * 1e6, "us", s / r, "<=", 1.3);
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

static void
bench_pipelined(const char *dopyd)
{
	double seq[REPS], pip[REPS], s, q;
	dopy_future **f;
	dopy_conn *c;
	dopy_proxy *p;
	dopy_error *e = NULL;
	int n = 20000;

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

static double
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

/* ---- memory ---- */

static long
rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = atol(line + 6);
	fclose(f);
	return kib;
}

static void
bench_rss(const char *dopyd)
{
	char cmd[4300], pidfile[] = "/tmp/dopy-bench-rss.XXXXXX";
	dopy_conn *c;
	dopy_proxy *p;
	dopy_error *e = NULL;
	pid_t pid;
	long kib;
	FILE *f;
	int fd;

	if ((fd = mkstemp(pidfile)) < 0)
		err(1, "mkstemp");
	close(fd);
	snprintf(cmd, sizeof(cmd), "echo $$ > %s; exec %s", pidfile, dopyd);
	if (dopy_conn_spawn(cmd, &c, &e) != 0)
		errx(1, "%s", dopy_error_message(e));
	p = dopy_proxy_new(c, "test");
	dopy_add(p, 1000);
	if ((f = fopen(pidfile, "r")) == NULL || fscanf(f, "%d", &fd) != 1)
		errx(1, "no pid in %s", pidfile);
	fclose(f);
	unlink(pidfile);
	pid = (pid_t)fd;
	kib = rss_kib(pid);
	dopy_proxy_free(p);
	dopy_conn_close(c);
	printf("bench: # dopyd resident set after HELLO and 1000 calls: %ld "
	    "KiB (libc, libtpl, libsodium, libbsd mapped)\n", kib);
	/* A size, not a ratio: the ratio column is the size over 2 MiB. */
	report("server_rss", kib / 1024.0, "MiB", kib / 2048.0, "<=", 1.0);
}

/* ---- streams ---- */

#define STREAM_ITEM	4096
#define STREAM_N	20000

/* A child writes n blocks of len bytes into a pipe; we read them all. */
static double
raw_stream(size_t len, int n)
{
	char *buf = calloc(1, len);
	int fd[2], status;
	double t;
	pid_t pid;

	if (buf == NULL || pipe(fd) < 0)
		err(1, "raw stream");
	t = now();
	if ((pid = fork()) == 0) {
		close(fd[0]);
		for (int i = 0; i < n; i++)
			if (write(fd[1], buf, len) != (ssize_t)len)
				_exit(1);
		_exit(0);
	}
	close(fd[1]);
	readfull(fd[0], buf, len);
	for (int i = 1; i < n; i++)
		readfull(fd[0], buf, len);
	close(fd[0]);
	waitpid(pid, &status, 0);
	t = now() - t;
	free(buf);
	return t;
}

/* stream.lines(n, len) read item by item. */
static double
dopy_stream_lines(dopy_proxy *p, size_t len, int n)
{
	dopy_stream *s = NULL;
	dopy_value *v;
	dopy_args *a = dopy_args_new();
	double t = now();
	int got = 0;

	dopy_args_int(a, NULL, n);
	dopy_args_int(a, NULL, (int64_t)len);
	if (dopy_proxy_stream(p, "lines", a, &s, NULL) != 0)
		errx(1, "stream.lines failed");
	while (dopy_stream_next(s, &v, NULL) == 1) {
		got++;
		dopy_value_free(v);
	}
	dopy_stream_free(s);
	dopy_args_free(a);
	if (got != n)
		errx(1, "stream.lines: %d items of %d", got, n);
	return now() - t;
}

/* Items of STREAM_ITEM bytes through a pipe, read (a stream) or sent (an
 * upload) by fn, against a raw pipe of the same bytes: the ratio is
 * dopy's time over the raw pipe's. */
static void
items_vs_raw(const char *dopyd, const char *object,
    double (*fn)(dopy_proxy *, size_t, int), const char *row,
    const char *how)
{
	double raw[REPS], dp[REPS], r, d;
	dopy_conn *c;
	dopy_proxy *p;
	dopy_error *e = NULL;

	if (dopy_conn_spawn(dopyd, &c, &e) != 0)
		errx(1, "%s", dopy_error_message(e));
	p = dopy_proxy_new(c, object);
	fn(p, STREAM_ITEM, 100);	/* warm up */
	for (int i = 0; i < REPS; i++) {
		raw[i] = raw_stream(STREAM_ITEM, STREAM_N);
		dp[i] = fn(p, STREAM_ITEM, STREAM_N);
	}
	dopy_proxy_free(p);
	dopy_conn_close(c);
	r = median(raw, REPS);
	d = median(dp, REPS);
	printf("bench: # %d items of %d bytes %s a pipe: raw %.1f MB/s, "
	    "dopy %.1f MB/s, %.0f items/s (medians of %d)\n", STREAM_N,
	    STREAM_ITEM, how, STREAM_N * (double)STREAM_ITEM / r / 1e6,
	    STREAM_N * (double)STREAM_ITEM / d / 1e6, STREAM_N / d, REPS);
	report(row, STREAM_N * (double)STREAM_ITEM / d / 1e6, "MB/s", d / r,
	    "<=", 3.0);
}

static void
bench_stream_pipe(const char *dopyd, const char *self)
{
	(void)self;
	items_vs_raw(dopyd, "stream", dopy_stream_lines, "stream_pipe",
	    "streamed over");
}

/* upload.size of n items of len bytes, sent one by one. */
static double
dopy_upload_items(dopy_proxy *p, size_t len, int n)
{
	char *buf = calloc(1, len);
	dopy_upload *u = NULL;
	dopy_value *v = NULL;
	double t = now();

	if (buf == NULL || dopy_proxy_upload(p, "size", NULL, &u,
	    NULL) != 0)
		errx(1, "upload.size failed");
	for (int i = 0; i < n; i++)
		if (dopy_upload_send(u, dopy_value_bytes(buf, len), NULL) != 0)
			errx(1, "upload.size: item %d not sent", i);
	if (dopy_upload_finish(u, &v, NULL) != 0)
		errx(1, "upload.size failed");
	t = now() - t;
	if (dopy_value_get_uint(v) != len * (size_t)n)
		errx(1, "upload.size: %llu bytes",
		    (unsigned long long)dopy_value_get_uint(v));
	dopy_value_free(v);
	dopy_upload_free(u);
	free(buf);
	return t;
}

static void
bench_upload_pipe(const char *dopyd, const char *self)
{
	(void)self;
	items_vs_raw(dopyd, "upload", dopy_upload_items, "upload_pipe",
	    "uploaded over");
}

/* ---- the event service ---- */

#define EVENTS_N	5000

static uint64_t
ev_publish(dopy_proxy *p, const char *topic, int64_t v)
{
	dopy_args *a = dopy_args_new();
	dopy_value *res = NULL;
	uint64_t seq;

	dopy_args_string(a, NULL, topic);
	dopy_args_int(a, NULL, v);
	if (dopy_proxy_call(p, "publish", a, &res, NULL) != 0)
		errx(1, "events.publish failed");
	seq = dopy_value_get_uint(res);
	dopy_value_free(res);
	dopy_args_free(a);
	return seq;
}

/* A subscription to bench.* from event since on. */
static dopy_stream *
ev_subscribe(dopy_proxy *p, uint64_t since)
{
	dopy_stream *s = NULL;
	dopy_args *a = dopy_args_new();

	dopy_args_string(a, NULL, "bench.*");
	dopy_args_uint(a, NULL, since);
	if (dopy_proxy_stream(p, "subscribe", a, &s, NULL) != 0)
		errx(1, "events.subscribe failed");
	dopy_args_free(a);
	return s;
}

/* n items of s, numbered from first on, or the bench stops. */
static void
ev_read(dopy_stream *s, uint64_t first, int n)
{
	dopy_value *v;
	int got = 0;

	while (got < n && dopy_stream_next(s, &v, NULL) == 1) {
		if (dopy_value_get_uint(dopy_value_at(v, 0)) != first + got)
			errx(1, "events: out of order");
		got++;
		dopy_value_free(v);
	}
	if (got != n)
		errx(1, "events: %d of %d", got, n);
}

/* n events from a publisher (a child, its own connection) to a
 * subscriber, until the subscriber has the last: seconds an event.
 * *firstp: the first one's number. */
static double
events_run(const char *cmd, int n, uint64_t *firstp)
{
	dopy_conn *sc, *pc;
	dopy_proxy *sp, *pp;
	dopy_stream *s;
	uint64_t first;
	double t;
	pid_t pid;

	if (dopy_conn_spawn(cmd, &sc, NULL) != 0 ||
	    dopy_conn_spawn(cmd, &pc, NULL) != 0)
		errx(1, "cannot start %s", cmd);
	sp = dopy_proxy_new(sc, "events");
	pp = dopy_proxy_new(pc, "events");
	first = ev_publish(pp, "bench.start", 0) + 1;
	s = ev_subscribe(sp, first);
	t = now();
	if ((pid = fork()) == 0) {
		for (int i = 0; i < n; i++)
			ev_publish(pp, "bench.x", i);
		_exit(0);
	}
	ev_read(s, first, n);
	t = now() - t;
	waitpid(pid, NULL, 0);
	dopy_stream_free(s);
	dopy_proxy_free(sp);
	dopy_proxy_free(pp);
	dopy_conn_close(sc);
	dopy_conn_close(pc);
	*firstp = first;
	return t / n;
}

/* n publishes with nobody subscribed: what the publisher's half of an
 * event costs, the most the events figure could be (seconds each). */
static double
events_publish(dopy_proxy *pp, int n)
{
	double t = now();

	for (int i = 0; i < n; i++)
		ev_publish(pp, "bench.x", i);
	return (now() - t) / n;
}

/* A new subscriber replaying n events of the log from first: the
 * subscriber's half alone, read in batches (seconds an event). */
static double
events_replay(const char *cmd, uint64_t first, int n)
{
	dopy_conn *sc;
	dopy_proxy *sp;
	dopy_stream *s;
	double t;

	if (dopy_conn_spawn(cmd, &sc, NULL) != 0)
		errx(1, "cannot start %s", cmd);
	sp = dopy_proxy_new(sc, "events");
	t = now();
	s = ev_subscribe(sp, first);
	ev_read(s, first, n);
	t = now() - t;
	dopy_stream_free(s);
	dopy_proxy_free(sp);
	dopy_conn_close(sc);
	return t / n;
}

/*
 * Events per second from one publisher to one subscriber through the
 * log, against small calls per second over a pipe: an event is a
 * publish call and a stream item, so about half as many is the mark.
 * Two halves are shown beside it: publishes alone (the ceiling: the
 * figure cannot pass their ratio) and a subscriber replaying the log.
 */
static void
bench_events(const char *dopyd, const char *self)
{
	double call[REPS], ev[REPS], pub[REPS], rep[REPS], r, d, p, b;
	char dir[] = "/tmp/dopy-bench.XXXXXX", cmd[8400], rm[8400];
	dopy_conn *c, *pc;
	dopy_proxy *tp, *pp;
	uint64_t first;
	size_t req, rep_len;

	(void)self;
	if (mkdtemp(dir) == NULL)
		err(1, "mkdtemp");
	snprintf(cmd, sizeof(cmd), "exec %s -e %s/ev 2>/dev/null", dopyd,
	    dir);
	c = small_call_conn(dopyd, &req, &rep_len);
	tp = dopy_proxy_new(c, "test");
	if (dopy_conn_spawn(cmd, &pc, NULL) != 0)
		errx(1, "cannot start %s", cmd);
	pp = dopy_proxy_new(pc, "events");
	dopy_add(tp, 1000);			/* warm up */
	events_run(cmd, 100, &first);
	events_publish(pp, 100);
	for (int i = 0; i < REPS; i++) {
		call[i] = dopy_add(tp, EVENTS_N);
		ev[i] = events_run(cmd, EVENTS_N, &first);
		pub[i] = events_publish(pp, EVENTS_N);
		rep[i] = events_replay(cmd, first, EVENTS_N);
	}
	dopy_proxy_free(pp);
	dopy_conn_close(pc);
	dopy_proxy_free(tp);
	dopy_conn_close(c);
	r = median(call, REPS);
	d = median(ev, REPS);
	p = median(pub, REPS);
	b = median(rep, REPS);
	printf("bench: # events: %d from one publisher to one subscriber "
	    "through the log, %.0f events/s (%.1f us each); small calls "
	    "%.0f/s (medians of %d)\n", EVENTS_N, 1 / d, d * 1e6, 1 / r,
	    REPS);
	printf("bench: # events: the halves: publishes alone %.0f/s (ratio "
	    "%.3f, the ceiling), a subscriber replaying the log %.0f "
	    "events/s\n", 1 / p, r / p, 1 / b);
	report("events", 1 / d, "events/s", r / d, ">=", 0.5);
	snprintf(rm, sizeof(rm), "rm -rf %s", dir);
	if (system(rm) != 0)
		warnx("could not remove %s", dir);
}

/* ---- the shell client ---- */

static double
run_n(char *const argv[], int n)
{
	double t = now();
	int status;
	pid_t pid;

	for (int i = 0; i < n; i++) {
		if ((pid = fork()) == 0) {
			int null = open("/dev/null", O_WRONLY);

			dup2(null, 1);
			execv(argv[0], argv);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			errx(1, "%s failed", argv[0]);
	}
	return (now() - t) / n;
}

static void
bench_rsh(const char *bindir)
{
	char rsh[4096], dopyd[4096];
	char *rsh_argv[] = { rsh, dopyd, "test", "add", "1", "2", NULL };
	char *true_argv[] = { "/bin/true", NULL };
	double raw[REPS], dp[REPS], r, d;
	int n = 30;

	snprintf(rsh, sizeof(rsh), "%s/dopy-rsh", bindir);
	snprintf(dopyd, sizeof(dopyd), "%s/dopyd", bindir);
	run_n(rsh_argv, 2);			/* warm up */
	for (int i = 0; i < REPS; i++) {
		raw[i] = 3 * run_n(true_argv, n);
		dp[i] = run_n(rsh_argv, n);
	}
	r = median(raw, REPS);
	d = median(dp, REPS);
	printf("bench: # dopy-rsh DOPYD test add 1 2: %.0f us; 3 x fork+exec+"
	    "wait of /bin/true %.0f us\n", d * 1e6, r * 1e6);
	report("rsh_oneshot", d * 1e6, "us", d / r, "<=", 2);
}

/* ---- TCP ---- */

static int
tcp_listener(int *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd, one = 1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(fd, 128) || getsockname(fd, (struct sockaddr *)&sin, &len))
		err(1, "listen");
	*port = ntohs(sin.sin_port);
	return fd;
}

static int
tcp_connect(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd, one = 1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		err(1, "connect");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Raw TCP ping-pong over one connection, both ends TCP_NODELAY. */
static double
raw_tcp(size_t req, size_t rep, int n)
{
	char buf[4096] = { 0 };
	int lfd, port, fd, one = 1;
	pid_t pid;
	double t;

	lfd = tcp_listener(&port);
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = accept(lfd, NULL, NULL);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		for (int i = 0; i < n; i++) {
			readfull(fd, buf, req);
			writefull(fd, buf, rep);
		}
		_exit(0);
	}
	close(lfd);
	fd = tcp_connect(port);
	t = now();
	for (int i = 0; i < n; i++) {
		writefull(fd, buf, req);
		readfull(fd, buf, rep);
	}
	t = now() - t;
	close(fd);
	waitpid(pid, NULL, 0);
	return t / n;
}

/* Start `dopyd -l ADDR -B [extra]` and read the port or path it
 * prints into line. */
static pid_t
start_listener_at(const char *dopyd, const char *addr, const char *extra,
    char *line, size_t len)
{
	char cmd[4400];
	int p[2];
	pid_t pid;
	ssize_t n;

	snprintf(cmd, sizeof(cmd), "exec %s -l %s -B -c 1000 %s "
	    "2>/dev/null", dopyd, addr, extra);
	if (pipe(p))
		err(1, "pipe");
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(p[1], 1);
		close(p[0]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	if ((n = read(p[0], line, len - 1)) <= 0)
		errx(1, "%s printed no port", dopyd);
	line[n] = '\0';
	line[strcspn(line, "\n")] = '\0';
	close(p[0]);
	return pid;
}

static pid_t
start_listener(const char *dopyd, const char *extra, int *port)
{
	char line[64];
	pid_t pid = start_listener_at(dopyd, "127.0.0.1:0", extra, line,
	    sizeof(line));

	*port = atoi(line);
	return pid;
}

static void
stop(pid_t pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* A small call through dopyd's own listener at addr, against raw. */
static void
small_call_via_listener(const char *dopyd, const char *addr,
    const char *name, const char *what, double (*rawfn)(size_t, size_t,
    int), double target)
{
	double raw[REPS], dp[REPS], r, d;
	char bound[128], tgt[160];
	dopy_conn *c;
	dopy_proxy *p;
	dopy_error *e = NULL;
	size_t req, rep;
	int n = 10000;
	pid_t pid;

	add_sizes(&req, &rep);
	pid = start_listener_at(dopyd, addr, "", bound, sizeof(bound));
	if (strncmp(addr, "unix:", 5) == 0)
		snprintf(tgt, sizeof(tgt), "%s", addr);
	else
		snprintf(tgt, sizeof(tgt), "tcp://127.0.0.1:%s", bound);
	if (dopy_connect(tgt, &c, &e) != 0)
		errx(1, "%s", dopy_error_message(e));
	p = dopy_proxy_new(c, "test");
	dopy_add(p, 1000);
	for (int i = 0; i < REPS; i++) {
		raw[i] = rawfn(req, rep, n);
		dp[i] = dopy_add(p, n);
	}
	dopy_proxy_free(p);
	dopy_conn_close(c);
	stop(pid);
	if (strncmp(addr, "unix:", 5) == 0)
		unlink(addr + 5);
	r = median(raw, REPS);
	d = median(dp, REPS);
	printf("bench: # small call over %s: raw %.2f us, dopy %.2f us\n",
	    what, r * 1e6, d * 1e6);
	report(name, d * 1e6, "us", d / r, "<=", target);
}

static void
bench_small_call_tcp(const char *dopyd)
{
	small_call_via_listener(dopyd, "127.0.0.1:0", "small_call_tcp",
	    "TCP loopback", raw_tcp, 1.1);
}

/* ---- UNIX sockets ---- */

/* Raw ping-pong over a UNIX stream socket, with a forked peer as the
 * listener's children are. */
static double
raw_unix(size_t req, size_t rep, int n)
{
	char buf[4096] = { 0 };
	int sv[2];
	pid_t pid;
	double t;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		err(1, "socketpair");
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(sv[0]);
		for (int i = 0; i < n; i++) {
			readfull(sv[1], buf, req);
			writefull(sv[1], buf, rep);
		}
		_exit(0);
	}
	close(sv[1]);
	t = now();
	for (int i = 0; i < n; i++) {
		writefull(sv[0], buf, req);
		readfull(sv[0], buf, rep);
	}
	t = now() - t;
	close(sv[0]);
	waitpid(pid, NULL, 0);
	return t / n;
}

static void
bench_small_call_unix(const char *dopyd)
{
	char addr[128];

	snprintf(addr, sizeof(addr), "unix:/tmp/dopy-bench.%d.sock",
	    (int)getpid());
	small_call_via_listener(dopyd, addr, "small_call_unix",
	    "a UNIX socket", raw_unix, 1.2);
}

/* ---- connection rates ---- */

/* A raw server: accept, fork, and in the child answer one 32-byte
 * message, or exec argv (the inetd way) with the socket on 0 and 1. */
static pid_t
raw_server(int lfd, char *const *argv)
{
	char buf[32];
	pid_t pid;
	int fd;

	if ((pid = fork()) != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGCHLD, SIG_IGN);		/* no zombies */
	for (;;) {
		if ((fd = accept(lfd, NULL, NULL)) < 0)
			continue;
		if (fork() == 0) {
			if (argv != NULL) {
				dup2(fd, 0);
				dup2(fd, 1);
				execv(argv[0], argv);
				_exit(127);
			}
			readfull(fd, buf, sizeof(buf));
			writefull(fd, buf, sizeof(buf));
			_exit(0);
		}
		close(fd);
	}
}

/* n raw connections: connect, 32 bytes each way, close. */
static double
raw_conns(int port, int n)
{
	char buf[32] = { 0 };
	double t = now();
	int fd;

	for (int i = 0; i < n; i++) {
		fd = tcp_connect(port);
		writefull(fd, buf, sizeof(buf));
		readfull(fd, buf, sizeof(buf));
		close(fd);
	}
	return (now() - t) / n;
}

/* n dopy connections: connect, HELLO, test.add, close.  Early
 * (DOPY_CONNECT_EARLY), as dopy-rsh connects: the call goes out with
 * the HELLO, one round trip like the raw ping-pong. */
static double
dopy_conns(int port, int n)
{
	char target[64];
	dopy_conn *c;
	dopy_proxy *p;
	double t = now();

	snprintf(target, sizeof(target), "tcp://127.0.0.1:%d", port);
	for (int i = 0; i < n; i++) {
		if (dopy_connect_flags(target, NULL, DOPY_CONNECT_EARLY, &c,
		    NULL) != 0)
			errx(1, "connect to %s failed", target);
		p = dopy_proxy_new(c, "test");
		dopy_add(p, 1);
		dopy_proxy_free(p);
		dopy_conn_close(c);
	}
	return (now() - t) / n;
}

static void
bench_conn_rate(const char *dopyd, const char *self)
{
	double raw[REPS], dp[REPS], rawx[REPS], dpx[REPS], r, d;
	char *echo_argv[] = { (char *)self, "echo-child", NULL };
	char *dopyd_argv[] = { (char *)dopyd, NULL };
	int n = 200, lport, rport, xport, dxport, lfd, xfd, dxfd;
	pid_t lpid, rpid, xpid, dxpid;

	lpid = start_listener(dopyd, "", &lport);
	lfd = tcp_listener(&rport);
	rpid = raw_server(lfd, NULL);
	xfd = tcp_listener(&xport);
	xpid = raw_server(xfd, echo_argv);
	dxfd = tcp_listener(&dxport);
	dxpid = raw_server(dxfd, dopyd_argv);
	close(lfd);
	close(xfd);
	close(dxfd);
	for (int i = 0; i < REPS; i++) {
		raw[i] = raw_conns(rport, n);
		dp[i] = dopy_conns(lport, n);
		rawx[i] = raw_conns(xport, n);
		dpx[i] = dopy_conns(dxport, n);
	}
	stop(lpid);
	stop(rpid);
	stop(xpid);
	stop(dxpid);
	r = median(raw, REPS);
	d = median(dp, REPS);
	printf("bench: # connection (connect+HELLO+call+close): raw "
	    "accept+fork %.0f us, dopyd -l %.0f us\n", r * 1e6, d * 1e6);
	report("conn_rate_listener", 1 / d, "conn/s", r / d, ">=", 0.7);
	r = median(rawx, REPS);
	d = median(dpx, REPS);
	printf("bench: # connection, exec per connection: raw accept+fork+exec "
	    "of a C echo %.0f us, of dopyd %.0f us\n", r * 1e6, d * 1e6);
	report("conn_rate_exec", 1 / d, "conn/s", r / d, ">=", 0.8);
}

/* ---- persistence ---- */

/* The physical limit of a persistent update: write a temporary file,
 * fsync it, rename it over the name, fsync the directory. */
static double
raw_atomic_writes(const char *dir, int n)
{
	char tmp[4200], dst[4200], buf[40] = { 0 };
	double t = now();
	int fd, dfd;

	snprintf(tmp, sizeof(tmp), "%s/.raw.tmp", dir);
	snprintf(dst, sizeof(dst), "%s/raw", dir);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY)) < 0)
		err(1, "%s", dir);
	for (int i = 0; i < n; i++) {
		if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
			err(1, "%s", tmp);
		writefull(fd, buf, sizeof(buf));
		fsync(fd);
		close(fd);
		if (rename(tmp, dst) != 0)
			err(1, "rename");
		fsync(dfd);
	}
	close(dfd);
	return (now() - t) / n;
}

/* n incr calls on pos/c from each of k client processes, each with its
 * own connection (and so its own server process); seconds per call. */
static double
pos_incr(const char *cmd, int k, int n)
{
	double t = now();
	pid_t pids[8];

	for (int j = 0; j < k; j++) {
		if ((pids[j] = fork()) != 0)
			continue;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dopy_conn *c;
		dopy_proxy *p;
		dopy_value *res;
		if (dopy_conn_spawn(cmd, &c, NULL) != 0)
			_exit(1);
		p = dopy_proxy_new(c, "pos/c");
		for (int i = 0; i < n; i++) {
			if (dopy_proxy_call(p, "incr", NULL, &res, NULL) != 0)
				_exit(1);
			dopy_value_free(res);
		}
		dopy_proxy_free(p);
		dopy_conn_close(c);
		_exit(0);
	}
	for (int j = 0; j < k; j++)
		waitpid(pids[j], NULL, 0);
	return (now() - t) / (k * n);
}

static void
bench_pos(const char *dopyd)
{
	double raw[REPS], one[REPS], eight[REPS], r, d1, d8;
	char dir[] = "/tmp/dopy-bench.XXXXXX", cmd[8400], rm[8400];
	dopy_conn *c;
	dopy_proxy *p;
	dopy_args *a;
	dopy_value *res;
	int n = 100;

	if (mkdtemp(dir) == NULL)
		err(1, "mkdtemp");
	snprintf(cmd, sizeof(cmd), "exec %s -P %s/pos 2>/dev/null", dopyd,
	    dir);
	if (dopy_conn_spawn(cmd, &c, NULL) != 0)
		errx(1, "cannot start %s", cmd);
	p = dopy_proxy_new(c, "pos");
	a = dopy_args_new();
	dopy_args_string(a, NULL, "c");
	dopy_args_string(a, NULL, "counter");
	if (dopy_proxy_call(p, "create", a, &res, NULL) != 0)
		errx(1, "pos.create failed");
	dopy_args_free(a);
	dopy_proxy_free(p);
	dopy_conn_close(c);
	for (int i = 0; i < REPS; i++) {
		raw[i] = raw_atomic_writes(dir, n);
		one[i] = pos_incr(cmd, 1, n);
		eight[i] = pos_incr(cmd, 8, n / 4);
	}
	r = median(raw, REPS);
	d1 = median(one, REPS);
	d8 = median(eight, REPS);
	printf("bench: # persistent counter.incr: raw temp+fsync+rename+fsync "
	    "%.0f us; dopy 1 client %.0f us/call, 8 clients %.0f us/call\n",
	    r * 1e6, d1 * 1e6, d8 * 1e6);
	report("pos_incr_1client", 1 / d1, "calls/s", r / d1, ">=", 0.5);
	report("pos_incr_8clients", 1 / d8, "calls/s", r / d8, ">=", 0.5);
	snprintf(rm, sizeof(rm), "rm -rf %s", dir);
	if (system(rm) != 0)
		warnx("could not remove %s", dir);
}

/* The trivial C echo the exec baseline runs: 32 bytes back. */
static int
echo_child(void)
{
	char buf[32];

	readfull(0, buf, sizeof(buf));
	writefull(1, buf, sizeof(buf));
	return 0;
}

/* Sections whose runner needs other arguments than (dopyd, self). */
static void
echo_1mib(const char *dopyd, const char *self)
{
	bench_echo(dopyd, self, 1 << 20, 50, "echo_1mib_pipe");
}

static void
echo_64mib(const char *dopyd, const char *self)
{
	bench_echo(dopyd, self, 64 << 20, 3, "echo_64mib_pipe");
}

#define ONLY_DOPYD(fn)							\
	static void fn##_section(const char *dopyd, const char *self)	\
	{								\
		(void)self;						\
		fn(dopyd);						\
	}
ONLY_DOPYD(bench_pipelined)
ONLY_DOPYD(bench_rss)
ONLY_DOPYD(bench_small_call_tcp)
ONLY_DOPYD(bench_small_call_unix)
ONLY_DOPYD(bench_pos)

/* The sections in the order make bench runs them; a name on the command
 * line (make bench ONLY="conn_rate echo_64mib") runs just those. */
static const struct section {
	const char	*name;
	void		(*run)(const char *dopyd, const char *self);
} sections[] = {
	{ "small_call_pipe",	bench_small_call_pipe },
	{ "stub_small_call_pipe", bench_stub_small_call_pipe },
	{ "pipelined",		bench_pipelined_section },
	{ "echo_1mib",		echo_1mib },
	{ "echo_64mib",		echo_64mib },
	{ "rss",		bench_rss_section },
	{ "rsh",		NULL },		/* takes the bin directory */
	{ "small_call_tcp",	bench_small_call_tcp_section },
	{ "small_call_unix",	bench_small_call_unix_section },
	{ "conn_rate",		bench_conn_rate },
	{ "pos",		bench_pos_section },
	{ "stream_pipe",	bench_stream_pipe },
	{ "upload_pipe",	bench_upload_pipe },
	{ "events",		bench_events },
};

static int
wanted(const char *name, int argc, char *argv[])
{
	if (argc <= 2)
		return 1;
	for (int i = 2; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

int
main(int argc, char *argv[])
{
	const char *bindir = argc > 1 ? argv[1] : "bin";
	char dopyd[4096], self[4096];
	ssize_t n;
	size_t i;

	if (argc > 1 && strcmp(argv[1], "echo-child") == 0)
		return echo_child();
	if (argc == 5 && strcmp(argv[1], "pipe-echo") == 0)
		return pipe_echo(argv);
	for (i = 2; i < (size_t)argc; i++) {
		size_t k;
		for (k = 0; k < sizeof(sections) / sizeof(sections[0]); k++)
			if (strcmp(argv[i], sections[k].name) == 0)
				break;
		if (k == sizeof(sections) / sizeof(sections[0]))
			errx(2, "no section %s", argv[i]);
	}
	signal(SIGPIPE, SIG_IGN);
	pin_here();
	snprintf(dopyd, sizeof(dopyd), "%s/dopyd", bindir);
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) < 0)
		err(1, "readlink");
	self[n] = '\0';
	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		if (!wanted(sections[i].name, argc, argv))
			continue;
		if (sections[i].run == NULL)
			bench_rsh(bindir);
		else
			sections[i].run(dopyd, self);
	}
	return 0;
}
