/*
 * e2e_progress.c - PROGRESS frames from the real dopyd (cb.progress),
 * spoken to frame by frame: the running call's id, an empty payload, at
 * most one per DOPY_PROGRESS_MS; none for ONEWAY calls.  Also RELEASE of
 * a reference the server does not have (no answer, stream in sync) and
 * the idle timeout of the new loop.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e_util.h"

#define MAX_FRAME	(1u << 20)

static void
send_call(struct e2e_proc *p, uint8_t type, uint32_t id, const char *object,
    const char *method, int64_t x, int64_t y)
{
	dopy_value *a[2] = { dopy_value_int(x), dopy_value_int(y) };
	struct dopy_buf b;

	dopy_buf_init(&b);
	e2e_call(&b, id, object, method, 2, NULL, a);
	b.data[2] = type;		/* e2e_call makes a CALL */
	e2e_send(p, &b);
	dopy_buf_release(&b);
}

/* The int a REPLY frame carries. */
static int64_t
reply_int(const struct e2e_frame *f)
{
	struct dopy_image img[2];
	dopy_value *v = NULL;
	char err[200];
	int64_t i;
	size_t n;

	cr_assert_eq(f->type, DOPY_F_REPLY, "frame type %u (%s), want REPLY",
	    f->type, dopy_frame_type_name(f->type));
	cr_assert_eq(dopy_images_split(f->payload, f->len, img, 2, &n, err,
	    sizeof(err)), 0, "%s", err);
	cr_assert_eq(n, 1);
	cr_assert_eq(dopy_decode(&img[0], NULL, &v, err, sizeof(err)), 0);
	i = dopy_value_get_int(v);
	dopy_value_free(v);
	return i;
}

Test(progress, frames_carry_the_call_id_rate_limited, .timeout = 30)
{
	const int64_t ms = 500, step = 2;
	int64_t calls;
	struct e2e_frame f;
	struct e2e_proc p;
	int n = 0;

	e2e_dopyd(&p, 1, MAX_FRAME, NULL);
	send_call(&p, DOPY_F_CALL, 7, "cb", "progress", ms, step);
	for (;;) {
		cr_assert_eq(e2e_read_frame(p.out, &f, E2E_WAIT_MS), 1);
		if (f.type != DOPY_F_PROGRESS)
			break;
		cr_assert_eq(f.id, 7, "PROGRESS for call %u", f.id);
		cr_assert_eq(f.len, 0, "PROGRESS with %u payload bytes", f.len);
		n++;
		free(f.payload);
	}
	cr_assert_eq(f.id, 7);
	calls = reply_int(&f);
	free(f.payload);
	/* The method reported a hundred times or more; at most one frame
	 * per DOPY_PROGRESS_MS went out, and they kept coming. */
	cr_assert(calls >= 100, "cb.progress reported %lld times",
	    (long long)calls);
	cr_assert(n >= 4 && n <= ms / DOPY_PROGRESS_MS + 1, "%d PROGRESS "
	    "frames in %lld ms", n, (long long)ms);
	send_call(&p, DOPY_F_CALL, 8, "test", "add", 1, 2);
	e2e_expect_int(p.out, 8, 3);
	e2e_finish(&p, 0);
}

Test(progress, none_for_oneway_calls, .timeout = 30)
{
	struct e2e_proc p;

	e2e_dopyd(&p, 1, MAX_FRAME, NULL);
	send_call(&p, DOPY_F_ONEWAY, 5, "cb", "progress", 300, 2);
	send_call(&p, DOPY_F_CALL, 6, "test", "add", 2, 3);
	e2e_expect_int(p.out, 6, 5);		/* the first frame back */
	e2e_finish(&p, 0);
}

Test(progress, nested_call_reports_its_own_id, .timeout = 30)
{
	dopy_value *a[3] = { dopy_value_string("client"),
	    dopy_value_string("echo"), dopy_value_string("x") };
	struct dopy_buf b, pl;
	struct e2e_frame f;
	struct e2e_proc p;
	uint32_t cbid;
	int n = 0;

	e2e_dopyd(&p, 1, MAX_FRAME, NULL);
	dopy_buf_init(&b);
	e2e_call(&b, 1, "cb", "call", 3, NULL, a);
	e2e_send(&p, &b);
	cr_assert_eq(e2e_read_frame(p.out, &f, E2E_WAIT_MS), 1);
	cr_assert_eq(f.type, DOPY_F_CALLBACK);
	cbid = f.id;
	send_call(&p, DOPY_F_CALL, 2, "cb", "progress", 200, 5);
	for (;;) {
		free(f.payload);
		cr_assert_eq(e2e_read_frame(p.out, &f, E2E_WAIT_MS), 1);
		if (f.type != DOPY_F_PROGRESS)
			break;
		cr_assert_eq(f.id, 2, "PROGRESS for call %u", f.id);
		n++;
	}
	cr_assert_eq(f.id, 2);
	cr_assert(reply_int(&f) > 0 && n >= 2, "%d PROGRESS frames", n);
	dopy_buf_reset(&b);
	dopy_buf_init(&pl);
	a[0] = dopy_value_string("back");
	cr_assert_eq(dopy_encode(a[0], &pl), 0);
	dopy_value_free(a[0]);
	e2e_frame(&b, DOPY_F_CALLBACK_REPLY, cbid, pl.data, pl.len);
	free(f.payload);
	e2e_send(&p, &b);
	dopy_buf_release(&b);
	dopy_buf_release(&pl);
	a[0] = e2e_expect_reply(p.out, 1);
	cr_assert_str_eq(dopy_value_get_string(a[0]), "back");
	dopy_value_free(a[0]);
	e2e_finish(&p, 0);
}

Test(progress, release_of_unknown_reference_is_harmless, .timeout = 30)
{
	struct e2e_proc p;
	struct dopy_buf b;
	char *log;

	e2e_dopyd(&p, 1, MAX_FRAME, NULL);
	dopy_buf_init(&b);
	e2e_frame(&b, DOPY_F_RELEASE, 42, NULL, 0);
	e2e_frame(&b, DOPY_F_RELEASE, 0, NULL, 0);
	e2e_send(&p, &b);
	dopy_buf_release(&b);
	send_call(&p, DOPY_F_CALL, 1, "test", "add", 40, 2);
	e2e_expect_int(p.out, 1, 42);		/* no answer to RELEASE */
	e2e_finish(&p, 0);
	log = e2e_slurp(p.errpath, NULL);
	cr_assert(log != NULL && strstr(log, "RELEASE of reference 42") !=
	    NULL, "log: %s", log != NULL ? log : "(none)");
	free(log);
}

/* -i 1: a second of silence between calls ends the connection with
 * dopy.Timeout (call id 0), and only silence does. */
Test(progress, idle_timeout_still_fires, .timeout = 30)
{
	struct e2e_proc p;
	dopy_error *e;
	int64_t t0;

	e2e_dopyd(&p, 1, MAX_FRAME, "-i1");
	usleep(600 * 1000);
	send_call(&p, DOPY_F_CALL, 1, "test", "add", 1, 1);
	e2e_expect_int(p.out, 1, 2);
	t0 = dopy_now_ms();
	e = e2e_expect_error(p.out, 0, "dopy.Timeout");
	cr_assert(dopy_now_ms() - t0 >= 500 && dopy_now_ms() - t0 < 5000,
	    "after %lld ms", (long long)(dopy_now_ms() - t0));
	dopy_error_free(e);
	e2e_finish(&p, 1);
}

/* ---- through the client library ---- */

static int
lib_call(dopy_proxy *p, const char *method, int64_t x, int64_t y, int n,
    dopy_error **e)
{
	dopy_args *a = dopy_args_new();
	dopy_value *v = NULL;
	int r;

	dopy_args_int(a, NULL, x);
	if (n > 1)
		dopy_args_int(a, NULL, y);
	r = dopy_proxy_call(p, method, a, &v, e);
	dopy_value_free(v);
	dopy_args_free(a);
	return r;
}

/* A 300 ms timeout measures silence: a 1000 ms call that reports
 * progress completes, a silent one of the same length does not. */
Test(progress, keeps_a_long_call_alive, .timeout = 30)
{
	dopy_conn *c = e2e_dopyd_conn(NULL);
	dopy_proxy *p = dopy_proxy_new(c, "cb"), *t = dopy_proxy_new(c, "test");
	dopy_error *e = NULL;

	dopy_conn_set_timeout(c, 300);
	cr_assert_eq(lib_call(p, "progress", 1000, 5, 2, &e), 0, "%s",
	    dopy_error_message(e));
	cr_assert_eq(lib_call(t, "sleep", 1000, 0, 1, &e), DOPY_E_TIMEOUT,
	    "%s", dopy_error_message(e));
	dopy_error_free(e);
	dopy_proxy_free(p);
	dopy_proxy_free(t);
	dopy_conn_close(c);
}

/* The overall deadline is not extended by progress. */
Test(progress, does_not_extend_the_deadline, .timeout = 30)
{
	dopy_conn *c = e2e_dopyd_conn(NULL);
	dopy_proxy *p = dopy_proxy_new(c, "cb");
	dopy_error *e = NULL;
	int64_t t0 = dopy_now_ms();

	dopy_proxy_set_timeout(p, 300);
	dopy_proxy_set_deadline(p, 400);
	cr_assert_eq(lib_call(p, "progress", 1500, 5, 2, &e), DOPY_E_TIMEOUT,
	    "%s", dopy_error_message(e));
	cr_assert(dopy_now_ms() - t0 < 1200, "gave up after %lld ms",
	    (long long)(dopy_now_ms() - t0));
	dopy_error_free(e);
	dopy_proxy_free(p);
	dopy_conn_close(c);
}
