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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

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
static double
raw_pipe(size_t req, size_t rep, int n)
{
	int to[2], from[2];
	char buf[4096] = { 0 };
	pid_t pid;
	double t;

	if (pipe(to) || pipe(from))
		err(1, "pipe");
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(to[1]);
		close(from[0]);
		for (int i = 0; i < n; i++) {
			readfull(to[0], buf, req);
			writefull(from[1], buf, rep);
		}
		_exit(0);
	}
	close(to[0]);
	close(from[1]);
	t = now();
	for (int i = 0; i < n; i++) {
		writefull(to[1], buf, req);
		readfull(from[0], buf, rep);
	}
	t = now() - t;
	close(to[1]);
	close(from[0]);
	waitpid(pid, NULL, 0);
	return t / n;
}

static double
dopy_add(dopy_proxy *p, int n)
{
	dopy_value *res;
	dopy_args *a;
	double t;

	t = now();
	for (int i = 0; i < n; i++) {
		a = dopy_args_new();
		dopy_args_int(a, NULL, i);
		dopy_args_int(a, NULL, 3);
		if (dopy_proxy_call(p, "add", a, &res, NULL) != 0 ||
		    dopy_value_get_int(res) != i + 3)
			errx(1, "test.add failed");
		dopy_value_free(res);
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

static void
bench_small_call_pipe(const char *dopyd)
{
	double raw[REPS], dp[REPS], r, d;
	dopy_conn *c;
	dopy_proxy *p;
	dopy_error *e = NULL;
	size_t req, rep;
	int n = 20000;

	add_sizes(&req, &rep);
	if (dopy_conn_spawn(dopyd, &c, &e) != 0)
		errx(1, "%s", dopy_error_message(e));
	p = dopy_proxy_new(c, "test");
	dopy_add(p, 1000);			/* warm up */
	for (int i = 0; i < REPS; i++) {
		raw[i] = raw_pipe(req, rep, n);
		dp[i] = dopy_add(p, n);
	}
	dopy_proxy_free(p);
	dopy_conn_close(c);
	r = median(raw, REPS);
	d = median(dp, REPS);
	printf("bench: # small call: %zu-byte CALL, %zu-byte REPLY; raw pipe "
	    "round trip %.2f us, dopy %.2f us (medians of %d x %d)\n",
	    req, rep, r * 1e6, d * 1e6, REPS, n);
	report("small_call_pipe", d * 1e6, "us", d / r, "<=", 1.3);
}

int
main(int argc, char *argv[])
{
	const char *bindir = argc > 1 ? argv[1] : "bin";
	char dopyd[4096];

	snprintf(dopyd, sizeof(dopyd), "%s/dopyd", bindir);
	bench_small_call_pipe(dopyd);
	return 0;
}
