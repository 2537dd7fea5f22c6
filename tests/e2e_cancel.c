/*
 * e2e_cancel.c - cancellation and deadlines with the real dopyd's
 * `slow` object (dopy(5): Cancel, Deadlines): a cooperative method
 * cancelled, a queued call cancelled before it ran, a CANCEL after the
 * answer ignored, EOF ending a running call, deadlines sent by hand and
 * passing in a chain of three servers, and a client whose HELLO lacks
 * the feature bits (no CANCEL acted on, no flag read).
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e_util.h"
#include "internal.h"	/* dopy_now_ms */


/* slow.spin(ms) as call id; with deadline >= 0, flagged and carrying
 * it (or, with bare, flagged and carrying nothing). */
static void
put_spin(struct dopy_buf *b, uint32_t id, int64_t ms, int64_t deadline,
    int bare)
{
	dopy_value *a[1] = { dopy_value_int(ms) };
	struct dopy_buf pl, call;

	dopy_buf_init(&call);
	e2e_call(&call, id, "slow", "spin", 1, NULL, a);
	if (deadline < 0 && !bare) {
		dopy_buf_put(b, call.data, call.len);
		dopy_buf_release(&call);
		return;
	}
	dopy_buf_init(&pl);
	if (!bare)
		e2e_encode(&pl, dopy_value_uint((uint64_t)deadline));
	dopy_buf_put(&pl, call.data + DOPY_HDR_LEN, call.len - DOPY_HDR_LEN);
	e2e_frame(b, DOPY_F_CALL, id, pl.data, pl.len);
	b->data[b->len - pl.len - DOPY_HDR_LEN + 3] = DOPY_FL_DEADLINE;
	dopy_buf_release(&pl);
	dopy_buf_release(&call);
}

static void
send_spin(struct e2e_proc *p, uint32_t id, int64_t ms, int64_t deadline)
{
	struct dopy_buf b;

	dopy_buf_init(&b);
	put_spin(&b, id, ms, deadline, 0);
	e2e_send(p, &b);
	dopy_buf_release(&b);
}

static void
send_cancel(struct e2e_proc *p, uint32_t id)
{
	struct dopy_buf b;

	dopy_buf_init(&b);
	e2e_frame(&b, DOPY_F_CANCEL, id, NULL, 0);
	e2e_send(p, &b);
	dopy_buf_release(&b);
}

static void
expect_error(struct e2e_proc *p, uint32_t id, const char *name)
{
	dopy_error_free(e2e_expect_error(p->out, id, name));
}

/* Wait for dopyd to end and return its log (stderr). */
static char *
log_of(struct e2e_proc *p, int code)
{
	e2e_finish(p, code);
	return e2e_slurp(p->errpath, NULL);
}

static dopy_args *
ms_arg(const char *target, int64_t ms)
{
	dopy_args *a = dopy_args_new();

	cr_assert_not_null(a);
	if (target != NULL)
		cr_assert_eq(dopy_args_string(a, NULL, target), 0);
	cr_assert_eq(dopy_args_int(a, NULL, ms), 0);
	return a;
}

Test(cancel, cooperative_method_stops, .timeout = 30)
{
	char *logpath, *log;
	dopy_conn *c;
	dopy_proxy *p;
	dopy_future *f = NULL;
	dopy_error *e = NULL;
	dopy_value *v = NULL;
	dopy_args *a = ms_arg(NULL, 10000);
	int64_t t0;

	cr_assert(asprintf(&logpath, "%s/cancel.log", e2e_tmpdir()) > 0);
	c = e2e_dopyd_conn(logpath);
	p = dopy_proxy_new(c, "slow");
	cr_assert_eq(dopy_proxy_call_async(p, "spin", a, NULL, NULL, &f, &e),
	    0);
	dopy_args_free(a);
	usleep(100 * 1000);
	t0 = dopy_now_ms();
	cr_assert_eq(dopy_future_cancel(f, &e), 0, "%s",
	    dopy_error_message(e));
	cr_assert_eq(dopy_future_wait(f, NULL, &e), DOPY_E_CANCELLED);
	cr_assert_str_eq(dopy_error_name(e), "dopy.Cancelled");
	cr_assert(strstr(dopy_error_message(e), "cancelled by the client"),
	    "%s", dopy_error_message(e));
	cr_assert_lt(dopy_now_ms() - t0, 1000, "cancel took %lld ms",
	    (long long)(dopy_now_ms() - t0));
	dopy_error_free(e);
	e = NULL;
	dopy_future_free(f);
	/* Cancelling an answered call does nothing. */
	cr_assert_eq(dopy_future_cancel(f = NULL, NULL), DOPY_E_INVAL);
	a = ms_arg(NULL, 1);
	cr_assert_eq(dopy_proxy_call(p, "spin", a, &v, &e), 0, "%s",
	    dopy_error_message(e));
	cr_assert_eq(dopy_value_get_int(v), 1);
	dopy_value_free(v);
	dopy_args_free(a);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
	log = e2e_slurp(logpath, NULL);
	cr_assert(log != NULL && strstr(log, "slow.spin: cancelled by the "
	    "client; it ended with dopy.Cancelled"), "log: %s", log);
	free(log);
	free(logpath);
}

Test(cancel, queued_call_never_runs, .timeout = 30)
{
	struct e2e_proc p;
	struct dopy_buf b;
	int64_t t0;
	char *log;

	e2e_dopyd_features(&p, DOPY_FEAT_ALL);
	dopy_buf_init(&b);
	put_spin(&b, 1, 3000, -1, 0);
	put_spin(&b, 2, 5000, -1, 0);
	e2e_frame(&b, DOPY_F_CANCEL, 2, NULL, 0);
	t0 = dopy_now_ms();
	e2e_send(&p, &b);
	dopy_buf_release(&b);
	usleep(200 * 1000);
	send_cancel(&p, 1);
	expect_error(&p, 1, "dopy.Cancelled");
	expect_error(&p, 2, "dopy.Cancelled");
	cr_assert_lt(dopy_now_ms() - t0, 1500);
	log = log_of(&p, 0);
	cr_assert(strstr(log, "call 2 slow.spin: cancelled before it ran"),
	    "log: %s", log);
	free(log);
}

/* A CANCEL behind a large CALL (read into a block of its own) that is
 * queued behind the running one is seen as well. */
Test(cancel, queued_large_call_never_runs, .timeout = 30)
{
	static char big[600 * 1024];
	struct e2e_proc p;
	struct dopy_buf b;
	char *log;

	e2e_dopyd_features(&p, DOPY_FEAT_ALL);
	dopy_buf_init(&b);
	put_spin(&b, 1, 3000, -1, 0);
	e2e_call(&b, 2, "test", "echo", 1, NULL,
	    (dopy_value *[]){ dopy_value_bytes(big, sizeof(big)) });
	e2e_frame(&b, DOPY_F_CANCEL, 2, NULL, 0);
	e2e_send(&p, &b);
	dopy_buf_release(&b);
	usleep(300 * 1000);
	send_cancel(&p, 1);
	expect_error(&p, 1, "dopy.Cancelled");
	expect_error(&p, 2, "dopy.Cancelled");
	log = log_of(&p, 0);
	cr_assert(strstr(log, "call 2 test.echo: cancelled before it ran"),
	    "log: %s", log);
	free(log);
}

Test(cancel, after_the_answer_ignored, .timeout = 30)
{
	struct e2e_proc p;

	e2e_dopyd_features(&p, DOPY_FEAT_ALL);
	send_spin(&p, 1, 1, -1);
	e2e_expect_int(p.out, 1, 1);
	send_cancel(&p, 1);		/* answered already */
	send_cancel(&p, 77);		/* never sent */
	send_spin(&p, 2, 2, -1);
	e2e_expect_int(p.out, 2, 2);		/* the next frame: nothing between */
	e2e_finish(&p, 0);		/* and nothing after */
}

Test(cancel, eof_ends_the_running_call, .timeout = 30)
{
	struct e2e_proc p;
	int64_t t0;
	char *log;

	e2e_dopyd_features(&p, DOPY_FEAT_ALL);
	send_spin(&p, 1, 10000, -1);
	usleep(100 * 1000);
	t0 = dopy_now_ms();
	close(p.in);
	p.in = -1;
	cr_assert(e2e_exited(e2e_wait(&p, 3000), 0));
	cr_assert_lt(dopy_now_ms() - t0, 1000);
	log = e2e_slurp(p.errpath, NULL);
	cr_assert(strstr(log, "call 1 slow.spin: the client has gone; it "
	    "ended with dopy.Cancelled"), "log: %s", log);
	free(log);
}

Test(cancel, deadline_by_hand, .timeout = 30)
{
	struct e2e_proc p;
	int64_t t0;
	char *log;

	e2e_dopyd_features(&p, DOPY_FEAT_ALL);
	t0 = dopy_now_ms();
	send_spin(&p, 1, 5000, 200);
	expect_error(&p, 1, "dopy.DeadlineExceeded");
	cr_assert_geq(dopy_now_ms() - t0, 190);
	cr_assert_lt(dopy_now_ms() - t0, 1000);
	send_spin(&p, 2, 5000, 0);	/* past already: not run */
	expect_error(&p, 2, "dopy.DeadlineExceeded");
	send_spin(&p, 3, 3, 5000);	/* in time */
	e2e_expect_int(p.out, 3, 3);
	log = log_of(&p, 0);
	cr_assert(strstr(log, "call 1 slow.spin: its deadline passed; it "
	    "ended with dopy.DeadlineExceeded"), "log: %s", log);
	cr_assert(strstr(log, "call 2 slow.spin: past its deadline before "
	    "it ran"), "log: %s", log);
	free(log);
}

Test(cancel, old_client_gets_neither, .timeout = 30)
{
	struct e2e_proc p;
	struct dopy_buf b;

	e2e_dopyd_features(&p, 0);
	/* The flag means nothing to a server whose client did not
	 * announce DEADLINE: the payload is read as ever. */
	dopy_buf_init(&b);
	put_spin(&b, 1, 50, -1, 1);
	e2e_send(&p, &b);
	dopy_buf_release(&b);
	e2e_expect_int(p.out, 1, 50);
	/* A CANCEL is a frame it does not know, answered so, after the
	 * call it names has finished. */
	send_spin(&p, 2, 300, -1);
	send_cancel(&p, 2);
	e2e_expect_int(p.out, 2, 300);
	expect_error(&p, 2, "dopy.UnknownFrame");
	e2e_finish(&p, 0);
}

/* client -> A slow.hop -> B slow.hop -> C slow.spin(10000), the
 * client's deadline 500 ms: each server ends its call by the deadline. */
Test(cancel, deadline_passes_along_a_chain, .timeout = 60)
{
	char *logs[3], *targets, *log, *exitl;
	dopy_conn *c;
	dopy_proxy *p;
	dopy_error *e = NULL;
	dopy_value *v = NULL;
	dopy_args *a;
	int64_t t0, took;
	int i;

	for (i = 0; i < 3; i++)
		cr_assert(asprintf(&logs[i], "%s/chain%c.log", e2e_tmpdir(),
		    'A' + i) > 0);
	cr_assert(asprintf(&targets, "exec:exec %s -L %s\nexec:exec %s -L %s",
	    e2e_bin("dopyd"), logs[1], e2e_bin("dopyd"), logs[2]) > 0);
	c = e2e_dopyd_conn(logs[0]);
	p = dopy_proxy_new(c, "slow");
	dopy_proxy_set_deadline(p, 500);
	a = ms_arg(targets, 10000);
	t0 = dopy_now_ms();
	cr_assert_eq(dopy_proxy_call(p, "hop", a, &v, &e), DOPY_E_TIMEOUT,
	    "%s", dopy_error_message(e));
	took = dopy_now_ms() - t0;
	cr_assert_str_eq(dopy_error_name(e), "dopy.DeadlineExceeded", "%s",
	    dopy_error_message(e));
	cr_assert_geq(took, 450);
	cr_assert_lt(took, 1000, "the chain took %lld ms", (long long)took);
	dopy_error_free(e);
	dopy_args_free(a);
	dopy_proxy_free(p);
	dopy_conn_close(c);
	for (i = 0; i < 3; i++) {
		exitl = e2e_dopyd_exit_line(logs[i], E2E_WAIT_MS);
		free(exitl);
		log = e2e_slurp(logs[i], NULL);
		cr_assert(log != NULL && strstr(log, i < 2 ? "slow.hop: its "
		    "deadline passed; it ended with dopy.DeadlineExceeded" :
		    "slow.spin: its deadline passed; it ended with "
		    "dopy.DeadlineExceeded"), "server %c's log: %s", 'A' + i,
		    log);
		free(log);
		free(logs[i]);
	}
	free(targets);
}

/* dopy-rsh --deadline: the call gives up, and so does the server. */
Test(cancel, rsh_deadline, .timeout = 30)
{
	char *log, *logpath, *target, *exitl;
	char *argv[] = { (char *)e2e_bin("dopy-rsh"), "--deadline=300", NULL,
	    "slow", "spin", "5000", NULL };
	struct e2e_run r;
	int64_t t0;

	cr_assert(asprintf(&logpath, "%s/rshdl.log", e2e_tmpdir()) > 0);
	cr_assert(asprintf(&target, "exec:exec %s -L %s", e2e_bin("dopyd"),
	    logpath) > 0);
	argv[2] = target;
	t0 = dopy_now_ms();
	e2e_run(&r, argv);
	cr_assert_lt(dopy_now_ms() - t0, 2000);
	e2e_assert_run(&r, 3, "");
	cr_assert(strstr(r.err, "dopy.DeadlineExceeded"), "%s", r.err);
	e2e_run_free(&r);
	free(exitl = e2e_dopyd_exit_line(logpath, E2E_WAIT_MS));
	log = e2e_slurp(logpath, NULL);
	cr_assert(strstr(log, "slow.spin: its deadline passed; it ended with "
	    "dopy.DeadlineExceeded"), "log: %s", log);
	free(log);
	free(target);
	free(logpath);
}

/* SIGINT during a one-shot call: a CANCEL goes out before dopy-rsh
 * dies of the signal. */
Test(cancel, rsh_sigint_cancels, .timeout = 30)
{
	char *log, *logpath, *target, *exitl;
	char *argv[] = { (char *)e2e_bin("dopy-rsh"), NULL, "slow", "spin",
	    "10000", NULL };
	struct e2e_proc p;
	int st;

	cr_assert(asprintf(&logpath, "%s/rshint.log", e2e_tmpdir()) > 0);
	cr_assert(asprintf(&target, "exec:exec %s -L %s", e2e_bin("dopyd"),
	    logpath) > 0);
	argv[1] = target;
	e2e_spawn(&p, argv);
	usleep(400 * 1000);
	kill(p.pid, SIGINT);
	st = e2e_wait(&p, 3000);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGINT, "%s",
	    e2e_status(st));
	free(exitl = e2e_dopyd_exit_line(logpath, E2E_WAIT_MS));
	log = e2e_slurp(logpath, NULL);
	cr_assert(strstr(log, "slow.spin: cancelled by the client; it ended "
	    "with dopy.Cancelled"), "log: %s", log);
	free(log);
	free(target);
	free(logpath);
}
