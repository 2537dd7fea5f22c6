/*
 * e2e_stream.c - streaming results (dopy(5), Streams) against the real
 * dopyd and its `stream` object: items in order through a pipe, the
 * listener (a UNIX socket) and -s; an error after some items; a slow
 * reader of 100,000 items keeping both sides' memory flat; a client
 * that did not announce streams; a dynamic call of a streaming method.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "e2e_util.h"

static dopy_args *
ints(int n, int64_t a, int64_t b)
{
	dopy_args *args = dopy_args_new();

	cr_assert_not_null(args);
	cr_assert_eq(dopy_args_int(args, NULL, a), 0);
	if (n > 1)
		cr_assert_eq(dopy_args_int(args, NULL, b), 0);
	return args;
}

static dopy_stream *
open_stream(dopy_proxy *p, const char *method, dopy_args *args)
{
	dopy_stream *s = NULL;
	dopy_error *e = NULL;

	cr_assert_eq(dopy_proxy_stream(p, method, args, &s, &e), 0, "%s",
	    dopy_error_message(e));
	dopy_args_free(args);
	return s;
}

/* count(n) through p: 1..n in order, then the end. */
static void
expect_count(dopy_proxy *p, int64_t n)
{
	dopy_stream *s = open_stream(p, "count", ints(1, n, 0));
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	int64_t i;

	for (i = 1; i <= n; i++) {
		cr_assert_eq(dopy_stream_next(s, &v, &e), 1, "item %lld: %s",
		    (long long)i, dopy_error_message(e));
		cr_assert_eq(dopy_value_get_int(v), i);
		dopy_value_free(v);
	}
	cr_assert_eq(dopy_stream_next(s, &v, &e), 0, "%s",
	    dopy_error_message(e));
	cr_assert_null(v);
	cr_assert(dopy_stream_ready(s));
	cr_assert_eq(dopy_stream_next(s, &v, &e), 0, "the end stays");
	dopy_stream_free(s);
}

static void
serves_streams(const char *target)
{
	dopy_conn *c = NULL;
	dopy_proxy *p;
	dopy_error *e = NULL;

	cr_assert_eq(dopy_connect(target, &c, &e), 0, "%s: %s", target,
	    dopy_error_message(e));
	cr_assert_not_null(p = dopy_proxy_new(c, "stream"));
	expect_count(p, 100);
	expect_count(p, 0);
	expect_count(p, 1000);
	dopy_proxy_free(p);
	dopy_conn_close(c);	/* -1: no child of ours */
}

Test(stream, pipe_in_order, .timeout = 30)
{
	dopy_conn *c = e2e_dopyd_conn(NULL);
	dopy_proxy *p = dopy_proxy_new(c, "stream"), *t;
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	dopy_args *a = ints(2, 3, 4);

	expect_count(p, 5);
	/* The connection serves ordinary calls after a stream. */
	cr_assert_not_null(t = dopy_proxy_new(c, "test"));
	cr_assert_eq(dopy_proxy_call(t, "add", a, &v, &e), 0, "%s",
	    dopy_error_message(e));
	cr_assert_eq(dopy_value_get_int(v), 7);
	dopy_value_free(v);
	dopy_args_free(a);
	expect_count(p, 3);
	dopy_proxy_free(t);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}

/* lines(n, size): item i is its number, then dots up to size bytes.
 * Items of 64 KiB and more go out from the server's value by reference
 * (writev); it once freed the value first, and an item over 128 KiB
 * (glibc's mmap'd blocks) then failed with EFAULT, a smaller one read
 * freed memory.  Every item whole, and the strings the client keeps in
 * the item's own block whole too. */
static void
expect_lines(dopy_proxy *p, int64_t n, int64_t size)
{
	dopy_stream *s = open_stream(p, "lines", ints(2, n, size));
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	char num[32];
	const char *str;
	int64_t i, k;

	for (i = 1; i <= n; i++) {
		cr_assert_eq(dopy_stream_next(s, &v, &e), 1, "item %lld of %lld "
		    "bytes: %s", (long long)i, (long long)size,
		    dopy_error_message(e));
		str = dopy_value_get_string(v);
		cr_assert_eq(dopy_value_len(v), (size_t)size);
		cr_assert_eq(strlen(str), (size_t)size);
		k = snprintf(num, sizeof(num), "%lld", (long long)i);
		cr_assert_eq(strncmp(str, num, (size_t)k), 0);
		cr_assert_eq(strspn(str + k, "."), (size_t)(size - k),
		    "item %lld is not dots after its number", (long long)i);
		dopy_value_free(v);
	}
	cr_assert_eq(dopy_stream_next(s, &v, &e), 0, "%s",
	    dopy_error_message(e));
	dopy_stream_free(s);
}

Test(stream, large_items_whole, .timeout = 30)
{
	dopy_conn *c = e2e_dopyd_conn(NULL);
	dopy_proxy *p = dopy_proxy_new(c, "stream");

	expect_lines(p, 3, 10);
	expect_lines(p, 5, 4096);
	expect_lines(p, 5, 70000);
	expect_lines(p, 4, 200000);
	expect_lines(p, 2, 1 << 20);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}

static void
through_listener(const char *opt)
{
	e2e_twice_through_listener(opt, serves_streams);
}

Test(stream, listener_unix, .timeout = 30)
{
	through_listener(NULL);
}

Test(stream, listener_single_process, .timeout = 30)
{
	through_listener("-s");
}

Test(stream, error_after_items, .timeout = 30)
{
	dopy_conn *c = e2e_dopyd_conn(NULL);
	dopy_proxy *p = dopy_proxy_new(c, "stream");
	dopy_stream *s = open_stream(p, "fail_after", ints(1, 3, 0));
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	int64_t i;

	for (i = 1; i <= 3; i++) {
		cr_assert_eq(dopy_stream_next(s, &v, &e), 1);
		cr_assert_eq(dopy_value_get_int(v), i);
		dopy_value_free(v);
	}
	cr_assert_eq(dopy_stream_next(s, &v, &e), DOPY_E_REMOTE);
	cr_assert_str_eq(dopy_error_name(e), "stream.Failure");
	cr_assert_str_eq(dopy_error_message(e), "failed after 3 items");
	dopy_error_free(e);
	dopy_stream_free(s);
	/* A method that fails before its first item. */
	s = open_stream(p, "lines", ints(2, 1, 0));
	e = NULL;
	cr_assert_eq(dopy_stream_next(s, &v, &e), DOPY_E_REMOTE);
	cr_assert_str_eq(dopy_error_name(e), "stream.BadSize");
	dopy_error_free(e);
	dopy_stream_free(s);
	expect_count(p, 2);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}

/* A dynamic call of a streaming method: its items are dropped, and its
 * empty REPLY completes it with no result. */
Test(stream, dynamic_call_drops_items, .timeout = 30)
{
	dopy_conn *c = e2e_dopyd_conn(NULL);
	dopy_proxy *p = dopy_proxy_new(c, "stream");
	dopy_value *sentinel = dopy_value_int(1), *v = sentinel;
	dopy_error *e = NULL;
	dopy_args *a = ints(1, 500, 0);

	cr_assert_eq(dopy_proxy_call(p, "count", a, &v, &e), 0, "%s",
	    dopy_error_message(e));
	cr_assert_null(v);		/* set to no result, not left */
	dopy_value_free(sentinel);
	dopy_args_free(a);
	expect_count(p, 3);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}

/* A freed stream drops the rest; the connection goes on. */
Test(stream, free_midway, .timeout = 30)
{
	dopy_conn *c = e2e_dopyd_conn(NULL);
	dopy_proxy *p = dopy_proxy_new(c, "stream");
	dopy_stream *s = open_stream(p, "count", ints(1, 5000, 0));
	dopy_value *v = NULL;
	dopy_error *e = NULL;

	cr_assert_eq(dopy_stream_next(s, &v, &e), 1);
	dopy_value_free(v);
	dopy_stream_free(s);
	s = open_stream(p, "count", ints(1, 5000, 0));
	cr_assert_eq(dopy_stream_next(s, &v, &e), 1);
	dopy_value_free(v);
	cr_assert_eq(dopy_stream_cancel(s, &e), 0);
	cr_assert_eq(dopy_stream_next(s, &v, &e), DOPY_E_CANCELLED);
	dopy_error_free(e);
	dopy_stream_free(s);
	expect_count(p, 10);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}

/* Cancelling a stream stops the method (CANCEL): a paced stream of
 * 100,000 items, 10 ms apart, gives way to the next call at once. */
Test(stream, cancel_stops_the_server, .timeout = 30)
{
	dopy_conn *c = e2e_dopyd_conn(NULL);
	dopy_proxy *p = dopy_proxy_new(c, "stream");
	dopy_stream *s = open_stream(p, "count", ints(2, 100000, 10));
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	int64_t t0;
	int i;

	for (i = 0; i < 3; i++) {
		cr_assert_eq(dopy_stream_next(s, &v, &e), 1);
		dopy_value_free(v);
	}
	t0 = dopy_now_ms();
	cr_assert_eq(dopy_stream_cancel(s, &e), 0);
	dopy_stream_free(s);
	expect_count(p, 10);
	cr_assert_lt(dopy_now_ms() - t0, 2000, "the server went on streaming");
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}

/* A client whose HELLO does not announce streams is refused, and the
 * method does not run; other calls go on. */
Test(stream, old_client_unsupported, .timeout = 30)
{
	struct e2e_proc p;
	struct dopy_buf b;
	dopy_value *args[1] = { dopy_value_int(3) }, *v;
	dopy_error *e;

	e2e_dopyd(&p, 1, 1 << 20, NULL);
	dopy_buf_init(&b);
	e2e_call(&b, 1, "stream", "count", 1, NULL, args);
	e2e_call(&b, 2, "test", "echo", 1, NULL,
	    (dopy_value *[]){ dopy_value_bytes("hi", 2) });
	e2e_send(&p, &b);
	dopy_buf_release(&b);
	e = e2e_expect_error(p.out, 1, "dopy.Unsupported");
	cr_assert_not_null(strstr(dopy_error_message(e), "stream.count "
	    "streams its results; the client did not announce streams"),
	    "%s", dopy_error_message(e));
	dopy_error_free(e);
	v = e2e_expect_reply(p.out, 2);
	cr_assert_eq(dopy_value_len(v), 2);
	dopy_value_free(v);
	e2e_finish(&p, 0);
}


/*
 * 100,000 items of 512 bytes (some 50 MB) read slowly: the server's
 * writes wait for the reader, so neither side's memory grows.
 */
#define MEM_ITEMS	100000
#define MEM_SIZE	512
/* Under AddressSanitizer freed memory waits in its quarantine (256 MiB)
 * and resident size says nothing of ours: there the stream is checked
 * whole and in order, and its memory in the plain run of the suite. */
#if defined(__SANITIZE_ADDRESS__)
#define MEM_SLACK_KIB	(1024L * 1024)
#else
#define MEM_SLACK_KIB	4096L
#endif

Test(stream, slow_reader_memory_flat, .timeout = 120)
{
	char *argv[] = { (char *)e2e_bin("dopyd"), "-d", NULL };
	long srv0 = 0, cli0 = 0, srv1, cli1;
	struct e2e_proc p;
	dopy_conn *c = NULL;
	dopy_proxy *px;
	dopy_stream *s;
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	char want[32];
	long i;

	e2e_spawn(&p, argv);
	cr_assert_eq(dopy_conn_fds(p.out, p.in, &c, &e), 0, "%s",
	    dopy_error_message(e));
	px = dopy_proxy_new(c, "stream");
	s = open_stream(px, "lines", ints(2, MEM_ITEMS, MEM_SIZE));
	for (i = 1; i <= MEM_ITEMS; i++) {
		cr_assert_eq(dopy_stream_next(s, &v, &e), 1, "item %ld: %s",
		    i, dopy_error_message(e));
		snprintf(want, sizeof(want), "%ld.", i);
		cr_assert(strncmp(dopy_value_get_string(v), want,
		    strlen(want)) == 0, "item %ld out of order", i);
		cr_assert_eq(strlen(dopy_value_get_string(v)), MEM_SIZE);
		dopy_value_free(v);
		if (i % 500 == 0)	/* slow: the pipe and queue fill */
			e2e_nap_ms(5);
		if (i == 2000) {
			srv0 = e2e_rss_kib(p.pid);
			cli0 = e2e_rss_kib(getpid());
		}
		if (i == MEM_ITEMS - 2000) {
			srv1 = e2e_rss_kib(p.pid);
			cli1 = e2e_rss_kib(getpid());
			cr_log_info("stream memory: server %ld -> %ld KiB, "
			    "client %ld -> %ld KiB", srv0, srv1, cli0, cli1);
			fprintf(stderr, "stream memory: server %ld -> %ld KiB, "
			    "client %ld -> %ld KiB\n", srv0, srv1, cli0, cli1);
			cr_assert(srv1 - srv0 < MEM_SLACK_KIB, "the server grew "
			    "from %ld to %ld KiB", srv0, srv1);
			cr_assert(cli1 - cli0 < MEM_SLACK_KIB, "the client grew "
			    "from %ld to %ld KiB", cli0, cli1);
		}
	}
	cr_assert_eq(dopy_stream_next(s, &v, &e), 0, "%s",
	    dopy_error_message(e));
	dopy_stream_free(s);
	dopy_proxy_free(px);
	dopy_conn_close(c);	/* -1: no child of its own */
	p.in = p.out = -1;	/* closed with the connection */
	cr_assert(e2e_exited(e2e_wait(&p, 5000), 0));
}

/* The queue is bounded: a stream nobody reads stops the reading. */
Test(stream, queue_bounded, .timeout = 30)
{
	dopy_conn *c = e2e_dopyd_conn(NULL);
	dopy_proxy *p = dopy_proxy_new(c, "stream");
	dopy_stream *s = open_stream(p, "count", ints(1, 100000, 0));
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	long n = 1;

	cr_assert_eq(dopy_stream_next(s, &v, &e), 1);
	dopy_value_free(v);
	e2e_nap_ms(300);		/* the server fills the pipe, we the queue */
	cr_assert_eq(dopy_conn_process(c, &e), 0);
	cr_assert(dopy_stream_ready(s));
	while (dopy_stream_next(s, &v, &e) == 1) {
		cr_assert_eq(dopy_value_get_int(v), ++n);
		dopy_value_free(v);
	}
	cr_assert_eq(n, 100000);
	dopy_stream_free(s);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}
