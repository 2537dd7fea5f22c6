/*
 * e2e_oneway.c - oneway calls through the real dopyd: no answer, errors
 * logged on the server, and in order with the connection's other calls.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_util.h"
#include "internal.h"	/* dopy_now_ms */

static int64_t
add(dopy_proxy *p, int a, int b)
{
	dopy_args *args = dopy_args_new();
	dopy_value *r = NULL;
	dopy_error *e = NULL;
	int64_t v;

	dopy_args_int(args, NULL, a);
	dopy_args_int(args, NULL, b);
	cr_assert_eq(dopy_proxy_call(p, "add", args, &r, &e), 0, "%s",
	    dopy_error_message(e));
	v = dopy_value_get_int(r);
	dopy_value_free(r);
	dopy_args_free(args);
	return v;
}

Test(oneway, error_is_logged_not_returned, .timeout = 20)
{
	char log[512], *text;
	dopy_conn *c;
	dopy_proxy *p;
	dopy_args *a = dopy_args_new();
	dopy_value *r = (dopy_value *)1;

	snprintf(log, sizeof(log), "%s/oneway.log", e2e_tmpdir());
	c = e2e_dopyd_conn(log);
	p = dopy_proxy_new(c, "test");
	cr_assert_eq(dopy_proxy_set_oneway(p, "fail", 1), 0);
	dopy_args_string(a, NULL, "boom");
	cr_assert_eq(dopy_proxy_call(p, "fail", a, &r, NULL), 0);
	cr_assert_null(r, "a oneway call has no result");
	cr_assert_eq(add(p, 2, 3), 5, "the stream stays in sync");
	cr_assert_eq(dopy_proxy_set_oneway(p, "fail", 0), 0);
	cr_assert_eq(dopy_proxy_call(p, "fail", a, &r, NULL), DOPY_E_REMOTE,
	    "an ordinary call again");
	dopy_args_free(a);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
	text = e2e_slurp(log, NULL);
	cr_assert_not_null(text);
	cr_assert(strstr(text, "oneway test.fail: test.Failure: boom") != NULL,
	    "log: %s", text);
	free(text);
}

Test(oneway, runs_in_order, .timeout = 20)
{
	char log[512];
	dopy_conn *c;
	dopy_proxy *p;
	dopy_args *a = dopy_args_new();
	dopy_value *r;
	long t0, sent, answered;

	snprintf(log, sizeof(log), "%s/order.log", e2e_tmpdir());
	c = e2e_dopyd_conn(log);
	p = dopy_proxy_new(c, "test");
	dopy_proxy_set_oneway(p, "sleep", 1);
	dopy_args_int(a, NULL, 300);
	t0 = dopy_now_ms();
	cr_assert_eq(dopy_proxy_call(p, "sleep", a, &r, NULL), 0);
	sent = dopy_now_ms() - t0;
	cr_assert_eq(add(p, 1, 1), 2);
	answered = dopy_now_ms() - t0;
	cr_assert_lt(sent, 250, "a oneway call returns at once (%ld ms)",
	    sent);
	cr_assert_geq(answered, 300, "the next call waits for the oneway "
	    "before it (%ld ms)", answered);
	dopy_args_free(a);
	dopy_proxy_free(p);
	dopy_conn_close(c);
}

/* test.notify is declared oneway by dopyd itself: an ordinary call gets
 * its empty answer before the method runs, its error is logged, and the
 * next call still waits its turn. */
Test(oneway, declared_by_the_server, .timeout = 20)
{
	char log[512], *text;
	dopy_conn *c;
	dopy_proxy *p;
	dopy_args *a = dopy_args_new();
	dopy_value *r = (dopy_value *)1;
	dopy_error *e = NULL;
	int64_t t0;

	snprintf(log, sizeof(log), "%s/declared.log", e2e_tmpdir());
	c = e2e_dopyd_conn(log);
	p = dopy_proxy_new(c, "test");
	dopy_args_int(a, NULL, 600);
	dopy_args_bool(a, "fail", 1);
	t0 = dopy_now_ms();
	cr_assert_eq(dopy_proxy_call(p, "notify", a, &r, &e), 0, "%s",
	    dopy_error_message(e));
	cr_assert_null(r);
	cr_assert_lt(dopy_now_ms() - t0, 400, "answered before it ran");
	cr_assert_eq(add(p, 1, 2), 3);
	cr_assert_geq(dopy_now_ms() - t0, 600, "the next call ran after it");
	/* Bad arguments are still refused, before any answer. */
	dopy_args_free(a);
	a = dopy_args_new();
	dopy_args_string(a, NULL, "not a number");
	cr_assert_eq(dopy_proxy_call(p, "notify", a, &r, &e), DOPY_E_TYPE);
	dopy_error_free(e);
	dopy_args_free(a);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
	text = e2e_slurp(log, NULL);
	cr_assert_not_null(text);
	cr_assert(strstr(text, "notify failed, as asked") != NULL, "log: %s",
	    text);
	free(text);
}
