/*
 * e2e_async.c - many calls in flight on one connection to the real
 * dopyd: futures from several threads, completion callbacks, batches,
 * the caller's own poll loop, timeouts and their tolerance.
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_util.h"
#include "internal.h"	/* dopy_now_ms */

/* The test object on a new connection to dopyd. */
static dopy_proxy *
open_test(dopy_conn **c)
{
	*c = e2e_dopyd_conn(NULL);
	return dopy_proxy_new(*c, "test");
}

/* Free p and close c; with clean, the close must succeed (a server
 * still busy is killed, and that is not clean). */
static void
close_test(dopy_conn *c, dopy_proxy *p, int clean)
{
	dopy_proxy_free(p);
	if (clean)
		cr_assert_eq(dopy_conn_close(c), 0);
	else
		dopy_conn_close(c);
}

static dopy_args *
two_ints(int64_t a, int64_t b)
{
	dopy_args *args = dopy_args_new();

	cr_assert_not_null(args);
	cr_assert_eq(dopy_args_int(args, NULL, a), 0);
	cr_assert_eq(dopy_args_int(args, NULL, b), 0);
	return args;
}

static dopy_future *
add_async(dopy_proxy *p, int64_t a, int64_t b, dopy_future_fn fn, void *arg)
{
	dopy_args *args = two_ints(a, b);
	dopy_future *f = NULL;
	dopy_error *e = NULL;

	cr_assert_eq(dopy_proxy_call_async(p, "add", args, fn, arg, &f, &e),
	    0, "%s", dopy_error_message(e));
	dopy_args_free(args);	/* encoded when sent */
	return f;
}

static int64_t
take_int(dopy_future *f)
{
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	int64_t n;

	cr_assert_eq(dopy_future_wait(f, &v, &e), 0, "%s",
	    dopy_error_message(e));
	n = dopy_value_get_int(v);
	dopy_value_free(v);
	return n;
}

/* ---- pipelining from several threads ---- */

#define THREADS		4
#define PER_THREAD	250	/* 1000 calls in all */

struct worker {
	dopy_conn	*conn;
	int		 tid;
	int		 right;	/* answers that were the right sum */
};

/* Each thread sends all its calls before collecting any answer, so
 * hundreds are in flight at once, interleaved with other threads'. */
static void *
work(void *arg)
{
	struct worker *w = arg;
	dopy_proxy *p = dopy_proxy_new(w->conn, "test");
	dopy_future *f[PER_THREAD];
	int i;

	for (i = 0; i < PER_THREAD; i++)
		f[i] = add_async(p, i, w->tid * 100000, NULL, NULL);
	for (i = PER_THREAD - 1; i >= 0; i--) {	/* out of order */
		if (take_int(f[i]) == i + w->tid * 100000)
			w->right++;
		dopy_future_free(f[i]);
	}
	dopy_proxy_free(p);
	return NULL;
}

/* THREADS workers on c, each running fn, numbered from 1; joined. */
static void
run_workers(dopy_conn *c, void *(*fn)(void *), struct worker w[THREADS])
{
	pthread_t t[THREADS];
	int i;

	for (i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ c, i + 1, 0 };
		cr_assert_eq(pthread_create(&t[i], NULL, fn, &w[i]), 0);
	}
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
}

Test(async, thousand_pipelined_calls_from_threads, .timeout = 60)
{
	dopy_conn *c = e2e_dopyd_conn(NULL);
	struct worker w[THREADS];
	int i, total = 0;

	run_workers(c, work, w);
	for (i = 0; i < THREADS; i++)
		total += w[i].right;
	cr_assert_eq(total, THREADS * PER_THREAD, "%d of %d answers right",
	    total, THREADS * PER_THREAD);
	cr_assert_eq(dopy_conn_close(c), 0);
}

/*
 * One thread sends far more than the pipes hold before reading a single
 * answer: the sender must take answers in while it waits for room, or
 * both sides block writing (the classic pipelining deadlock).
 */
Test(async, one_thread_floods_without_deadlock, .timeout = 60)
{
	dopy_conn *c;
	dopy_proxy *p = open_test(&c);
	dopy_future **f = calloc(20000, sizeof(*f));
	int i, right = 0;

	cr_assert_not_null(f);
	for (i = 0; i < 20000; i++)
		f[i] = add_async(p, i, 1, NULL, NULL);
	for (i = 0; i < 20000; i++) {
		right += take_int(f[i]) == i + 1;
		dopy_future_free(f[i]);
	}
	cr_assert_eq(right, 20000);
	free(f);
	close_test(c, p, 1);
}

/*
 * The same with large frames both ways: 8 echoes of len bytes in flight,
 * the argument copied or borrowed.  A borrowed argument need only last
 * until the call function returns: the buffer is rewritten for the next
 * call while the answers are still to come.
 */
static void
echoes_in_flight(size_t len, int borrow)
{
	dopy_conn *c;
	dopy_proxy *p = open_test(&c);
	unsigned char *buf = malloc(len);
	const unsigned char *q;
	dopy_future *f[8];
	dopy_value *v;
	dopy_args *a;
	size_t got;
	int i;

	cr_assert_not_null(buf);
	for (i = 0; i < 8; i++) {
		memset(buf, 'a' + i, len);
		a = dopy_args_new();
		if (borrow)
			dopy_args_bytes_ref(a, NULL, buf, len);
		else
			dopy_args_bytes(a, NULL, buf, len);
		cr_assert_eq(dopy_proxy_call_async(p, "echo", a, NULL, NULL,
		    &f[i], NULL), 0);
		dopy_args_free(a);
	}
	for (i = 0; i < 8; i++) {
		v = NULL;
		cr_assert_eq(dopy_future_wait(f[i], &v, NULL), 0);
		q = dopy_value_get_bytes(v, &got);
		cr_assert_eq(got, len);
		cr_assert(q[0] == 'a' + i && q[len / 2] == 'a' + i &&
		    q[len - 1] == 'a' + i, "echo %d came back changed", i);
		dopy_value_free(v);
		dopy_future_free(f[i]);
	}
	free(buf);
	close_test(c, p, 1);
}

Test(async, large_echoes_in_flight, .timeout = 60)
{
	echoes_in_flight(1 << 20, 0);
}

/* dopy_args_bytes_ref: above 64 KiB the bytes go out by reference,
 * below they are copied; the caller's buffer is never freed. */
Test(async, borrowed_arguments_in_flight, .timeout = 60)
{
	echoes_in_flight(1 << 20, 1);
	echoes_in_flight(1000, 1);
}

/* Frames above the 16 MiB default: both ends raise their limit (dopyd -m,
 * $DOPY_MAX_FRAME for the client); a bad setting is refused. */
Test(async, max_frame_from_the_environment, .timeout = 60)
{
	size_t len = 64u << 20, got;
	char cmd[2048], *buf = malloc(len);
	dopy_conn *c = NULL;
	dopy_proxy *p;
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	dopy_args *a;

	cr_assert_not_null(buf);
	memset(buf, 'x', len);
	snprintf(cmd, sizeof(cmd), "exec %s -L /dev/null -m 100000000",
	    e2e_bin("dopyd"));
	cr_assert_eq(setenv("DOPY_MAX_FRAME", "12", 1), 0);
	cr_assert_eq(dopy_conn_spawn(cmd, &c, &e), DOPY_E_USAGE);
	cr_assert(strstr(dopy_error_message(e), "DOPY_MAX_FRAME") != NULL);
	cr_assert_eq(unsetenv("DOPY_MAX_FRAME"), 0);
	cr_assert_eq(dopy_conn_spawn(cmd, &c, &e), 0);
	p = dopy_proxy_new(c, "test");
	a = dopy_args_new();
	dopy_args_bytes(a, NULL, buf, len);
	cr_assert_eq(dopy_proxy_call(p, "echo", a, &v, &e), DOPY_E_TOOBIG,
	    "above the default, refused before sending");
	close_test(c, p, 0);
	cr_assert_eq(setenv("DOPY_MAX_FRAME", "100000000", 1), 0);
	cr_assert_eq(dopy_conn_spawn(cmd, &c, &e), 0, "%s",
	    dopy_error_message(e));
	p = dopy_proxy_new(c, "test");
	cr_assert_eq(dopy_proxy_call(p, "echo", a, &v, &e), 0, "%s",
	    dopy_error_message(e));
	cr_assert(dopy_value_get_bytes(v, &got) != NULL && got == len);
	dopy_value_free(v);
	dopy_error_free(e);
	dopy_args_free(a);
	close_test(c, p, 1);
	free(buf);
}

/* Synchronous calls from threads sharing one proxy. */
static void *
sync_work(void *arg)
{
	struct worker *w = arg;
	dopy_proxy *p = dopy_proxy_new(w->conn, "test");
	dopy_args *args;
	dopy_value *v;
	int i;

	for (i = 0; i < 100; i++) {
		args = two_ints(i, w->tid);
		v = NULL;
		if (dopy_proxy_call(p, "add", args, &v, NULL) == 0 &&
		    dopy_value_get_int(v) == i + w->tid)
			w->right++;
		dopy_value_free(v);
		dopy_args_free(args);
	}
	dopy_proxy_free(p);
	return NULL;
}

Test(async, sync_calls_from_threads_share_a_connection, .timeout = 60)
{
	dopy_conn *c = e2e_dopyd_conn(NULL);
	struct worker w[THREADS];
	int i;

	run_workers(c, sync_work, w);
	for (i = 0; i < THREADS; i++)
		cr_assert_eq(w[i].right, 100, "thread %d: %d right", i,
		    w[i].right);
	cr_assert_eq(dopy_conn_close(c), 0);
}

/* ---- completion callbacks ---- */

struct tally {
	pthread_mutex_t	 lock;
	int		 calls, sum;
};

static void
count_done(dopy_future *f, void *arg)
{
	struct tally *t = arg;
	dopy_value *v = NULL;

	/* The result can be taken inside the callback. */
	if (dopy_future_wait(f, &v, NULL) == 0) {
		pthread_mutex_lock(&t->lock);
		t->calls++;
		t->sum += (int)dopy_value_get_int(v);
		pthread_mutex_unlock(&t->lock);
	}
	dopy_value_free(v);
}

Test(async, completion_callbacks_run_once_each, .timeout = 30)
{
	struct tally t = { PTHREAD_MUTEX_INITIALIZER, 0, 0 };
	dopy_conn *c;
	dopy_proxy *p = open_test(&c);
	dopy_future *f[50];
	int i, want = 0;

	for (i = 0; i < 50; i++) {
		f[i] = add_async(p, i, 1, count_done, &t);
		want += i + 1;
	}
	/* Waiting on the last reads every answer before it. */
	cr_assert_eq(dopy_future_wait(f[49], NULL, NULL), 0);
	for (i = 0; i < 50; i++) {
		cr_assert(dopy_future_ready(f[i]), "future %d not ready", i);
		dopy_future_free(f[i]);
	}
	cr_assert_eq(t.calls, 50);
	cr_assert_eq(t.sum, want);
	close_test(c, p, 1);
}

Test(async, freed_future_answer_is_dropped, .timeout = 30)
{
	dopy_conn *c;
	dopy_proxy *p = open_test(&c);
	dopy_future *f;

	f = add_async(p, 1, 2, NULL, NULL);
	dopy_future_free(f);			/* forgotten unanswered */
	f = add_async(p, 3, 4, NULL, NULL);
	cr_assert_eq(take_int(f), 7, "the next answer is still its own");
	dopy_future_free(f);
	close_test(c, p, 1);
}

/* ---- batches ---- */

Test(async, batch_keeps_each_result_and_error, .timeout = 30)
{
	dopy_conn *c;
	dopy_proxy *p = open_test(&c);
	dopy_batch *b = dopy_batch_new(c);
	dopy_args *a;
	dopy_value *v;
	dopy_error *e = NULL;
	size_t i;

	for (i = 0; i < 100; i++) {
		if (i == 50) {
			a = dopy_args_new();
			dopy_args_string(a, NULL, "in the middle");
			cr_assert_eq(dopy_batch_add(b, p, "fail", a), 0);
		} else {
			a = two_ints((int64_t)i, 1000);
			cr_assert_eq(dopy_batch_add(b, p, "add", a), 0);
		}
		dopy_args_free(a);
	}
	cr_assert_eq(dopy_batch_len(b), 100);
	cr_assert_eq(dopy_batch_run(b, &e), 0, "%s", dopy_error_message(e));
	for (i = 0; i < 100; i++) {
		v = NULL;
		if (i == 50) {
			cr_assert_eq(dopy_batch_result(b, i, &v, &e),
			    DOPY_E_REMOTE);
			cr_assert_str_eq(dopy_error_name(e), "test.Failure");
			cr_assert_str_eq(dopy_error_message(e),
			    "in the middle");
			continue;
		}
		cr_assert_eq(dopy_batch_result(b, i, &v, &e), 0);
		cr_assert_eq(dopy_value_get_int(v), (int64_t)i + 1000);
		dopy_value_free(v);
	}
	cr_assert_eq(dopy_batch_result(b, 100, &v, &e), DOPY_E_INVAL);
	cr_assert_eq(dopy_batch_run(b, &e), DOPY_E_INVAL, "runs once");
	dopy_error_free(e);
	dopy_batch_free(b);
	close_test(c, p, 1);
}

/* ---- the caller's own poll loop ---- */

Test(async, event_loop_drives_the_connection, .timeout = 30)
{
	struct tally t = { PTHREAD_MUTEX_INITIALIZER, 0, 0 };
	dopy_conn *c;
	dopy_proxy *p = open_test(&c);
	dopy_future *f[20];
	struct pollfd pfd;
	int i, rounds = 0;

	for (i = 0; i < 20; i++)
		f[i] = add_async(p, i, i, count_done, &t);
	pfd.fd = dopy_conn_fd(c);
	pfd.events = POLLIN;
	cr_assert_geq(pfd.fd, 0);
	while (t.calls < 20 && rounds++ < 1000) {
		cr_assert_geq(poll(&pfd, 1, 5000), 0);
		cr_assert_eq(dopy_conn_process(c, NULL), 0);
	}
	cr_assert_eq(t.calls, 20, "%d answers after %d rounds", t.calls,
	    rounds);
	cr_assert_eq(t.sum, 2 * (19 * 20 / 2));
	/* Nothing waits: process returns at once. */
	cr_assert_eq(dopy_conn_process(c, NULL), 0);
	for (i = 0; i < 20; i++)
		dopy_future_free(f[i]);
	close_test(c, p, 1);
}

/* ---- timeouts ---- */

static dopy_future *
sleep_async(dopy_proxy *p, int ms)
{
	dopy_args *a = dopy_args_new();
	dopy_future *f = NULL;

	dopy_args_int(a, NULL, ms);
	cr_assert_eq(dopy_proxy_call_async(p, "sleep", a, NULL, NULL, &f,
	    NULL), 0);
	dopy_args_free(a);
	return f;
}

/* p.sleep(3000) must time out: the time that took, with the error in
 * *e. */
static int64_t
sleep_times_out(dopy_proxy *p, dopy_error **e)
{
	int64_t t0 = dopy_now_ms(), dt;
	dopy_future *f = sleep_async(p, 3000);

	cr_assert_eq(dopy_future_wait(f, NULL, e), DOPY_E_TIMEOUT);
	dt = dopy_now_ms() - t0;
	dopy_future_free(f);
	return dt;
}

/*
 * The documented tolerance: a timeout fires no earlier than asked and at
 * most 100 ms late on an idle machine; these machines are noisy, so the
 * test allows 500 ms.
 */
Test(async, timeout_fires_within_tolerance, .timeout = 30)
{
	dopy_conn *c;
	dopy_proxy *p = open_test(&c);
	dopy_error *e = NULL;
	int64_t dt;

	dopy_proxy_set_timeout(p, 300);
	dt = sleep_times_out(p, &e);
	cr_assert_geq(dt, 300, "fired after %lld ms", (long long)dt);
	cr_assert_lt(dt, 800, "fired after %lld ms", (long long)dt);
	cr_assert(strstr(dopy_error_message(e), "test.sleep") != NULL);
	cr_assert(strstr(dopy_error_message(e), "unknown") != NULL);
	dopy_error_free(e);
	close_test(c, p, 0);	/* kills the busy server */
}

Test(async, deadline_holds_without_timeout, .timeout = 30)
{
	dopy_conn *c;
	dopy_proxy *p = open_test(&c);
	dopy_error *e = NULL;
	int64_t dt;

	dopy_conn_set_deadline(c, 400);
	dt = sleep_times_out(p, &e);
	cr_assert_geq(dt, 400);
	cr_assert_lt(dt, 900, "fired after %lld ms", (long long)dt);
	cr_assert(strstr(dopy_error_message(e), "deadline") != NULL, "%s",
	    dopy_error_message(e));
	dopy_error_free(e);
	close_test(c, p, 0);
}

/* A quick call's answer is sent when it is ready, not held back until
 * the slow call sent after it finishes. */
Test(async, answers_are_not_held_behind_later_calls, .timeout = 30)
{
	dopy_conn *c;
	dopy_proxy *p = open_test(&c);
	dopy_future *quick, *slow;
	int64_t t0;

	dopy_proxy_set_timeout(p, 800);
	t0 = dopy_now_ms();
	quick = add_async(p, 1, 1, NULL, NULL);
	slow = sleep_async(p, 2000);
	cr_assert_eq(take_int(quick), 2);
	cr_assert_lt(dopy_now_ms() - t0, 800);
	cr_assert_eq(dopy_future_wait(slow, NULL, NULL), DOPY_E_TIMEOUT);
	dopy_future_free(quick);
	dopy_future_free(slow);
	close_test(c, p, 0);
}

/* Two calls in flight, one with a short timeout: only that one fails. */
Test(async, timeouts_are_per_call, .timeout = 30)
{
	dopy_conn *c = e2e_dopyd_conn(NULL);
	dopy_proxy *slow = dopy_proxy_new(c, "test");
	dopy_proxy *quick = dopy_proxy_new(c, "test");
	dopy_future *a, *b;

	dopy_proxy_set_timeout(quick, 100);
	a = sleep_async(slow, 600);
	b = sleep_async(quick, 600);	/* queued behind a: times out */
	cr_assert_eq(dopy_future_wait(b, NULL, NULL), DOPY_E_TIMEOUT);
	cr_assert_eq(dopy_future_wait(a, NULL, NULL), 0, "a has no timeout");
	dopy_future_free(a);
	dopy_future_free(b);
	dopy_proxy_free(slow);
	dopy_proxy_free(quick);
	dopy_conn_close(c);
}
