/*
 * bench_stream.c - streams, uploads and the event service against a raw pipe
 * of the same bytes.
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
	/* throughput: dopy's over the raw pipe's, higher is better */
	report(row, STREAM_N * (double)STREAM_ITEM / d / 1e6, "MB/s", r / d,
	    ">=", 0.9);
}

void
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

void
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
void
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
