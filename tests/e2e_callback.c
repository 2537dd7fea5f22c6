/*
 * e2e_callback.c - the server calling its client back (object "cb" of
 * the real dopyd), with the test acting as the client frame by frame:
 * CALLBACK out, CALLBACK_REPLY and CALLBACK_ERROR in, the client's own
 * calls served while a callback waits, nesting limits, an error's trace
 * crossing both ways, the client vanishing mid-callback, and callbacks
 * made later from an fd watcher.
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e_util.h"

#define MAX_FRAME	(1u << 20)

static void
send_call(struct e2e_proc *p, uint8_t type, uint32_t id, const char *object,
    const char *method, size_t argc, dopy_value *const *args)
{
	struct dopy_buf b;

	dopy_buf_init(&b);
	e2e_call(&b, id, object, method, argc, NULL, args);
	b.data[2] = type;		/* e2e_call makes a CALL */
	e2e_send(p, &b);
	dopy_buf_release(&b);
}

/* cb.call(client, method, arg) as CALL id. */
static void
call_cb(struct e2e_proc *p, uint32_t id, const char *method, const char *arg)
{
	dopy_value *a[3] = { dopy_value_string("client"),
	    dopy_value_string(method), dopy_value_string(arg) };

	send_call(p, DOPY_F_CALL, id, "cb", "call", 3, a);
}

static void
call_add(struct e2e_proc *p, uint32_t id, int64_t x, int64_t y)
{
	dopy_value *a[2] = { dopy_value_int(x), dopy_value_int(y) };

	send_call(p, DOPY_F_CALL, id, "test", "add", 2, a);
}

/* The next frame must be a CALLBACK of client.method; returns its id
 * and its first argument (if arg is not NULL). */
static uint32_t
expect_callback(struct e2e_proc *p, const char *method, dopy_value **arg)
{
	struct dopy_callmsg m;
	struct e2e_frame f;
	char err[200];
	uint32_t id;

	cr_assert_eq(e2e_read_frame(p->out, &f, E2E_WAIT_MS), 1,
	    "no CALLBACK came");
	cr_assert_eq(f.type, DOPY_F_CALLBACK, "frame type %u (%s), want "
	    "CALLBACK", f.type, dopy_frame_type_name(f.type));
	cr_assert_eq(dopy_msg_call_get(f.payload, f.len, &m, err,
	    sizeof(err)), 0, "CALLBACK payload: %s", err);
	cr_assert_str_eq(m.object, "client");
	cr_assert_str_eq(m.method, method);
	if (arg != NULL) {
		cr_assert_eq(m.argc, 1, "%zu arguments", m.argc);
		cr_assert_eq(dopy_decode(&m.args[0], NULL, arg, err,
		    sizeof(err)), 0, "argument: %s", err);
	}
	id = f.id;
	dopy_msg_call_release(&m);
	free(f.payload);
	return id;
}

/* A frame with payload pl (released). */
static void
send_payload(struct e2e_proc *p, uint8_t type, uint32_t id,
    struct dopy_buf *pl)
{
	struct dopy_buf b;

	dopy_buf_init(&b);
	e2e_frame(&b, type, id, pl->data, pl->len);
	e2e_send(p, &b);
	dopy_buf_release(&b);
	dopy_buf_release(pl);
}

/* Answer callback id with v (taken), as the client's REPLY would be. */
static void
answer(struct e2e_proc *p, uint32_t id, dopy_value *v)
{
	struct dopy_buf pl;

	dopy_buf_init(&pl);
	cr_assert_eq(dopy_encode(v, &pl), 0);
	dopy_value_free(v);
	send_payload(p, DOPY_F_CALLBACK_REPLY, id, &pl);
}

static void
answer_error(struct e2e_proc *p, uint32_t id, const dopy_error *e)
{
	struct dopy_buf pl;

	dopy_buf_init(&pl);
	cr_assert_eq(dopy_msg_error_put(&pl, e), 0);
	send_payload(p, DOPY_F_CALLBACK_ERROR, id, &pl);
}

static void
expect_string(struct e2e_proc *p, uint32_t id, const char *want)
{
	dopy_value *v = e2e_expect_reply(p->out, id);

	cr_assert_str_eq(dopy_value_get_string(v), want);
	dopy_value_free(v);
}

static char *
log_of(struct e2e_proc *p)
{
	char *log = e2e_slurp(p->errpath, NULL);

	cr_assert_not_null(log);
	return log;
}

Test(callback, reply_comes_back, .timeout = 30)
{
	struct e2e_proc p;
	dopy_value *arg;
	uint32_t id;

	e2e_dopyd(&p, 1, MAX_FRAME, NULL);
	call_cb(&p, 1, "echo", "hi");
	id = expect_callback(&p, "echo", &arg);
	cr_assert_eq(id, 1, "the server numbers its callbacks from 1");
	cr_assert_str_eq(dopy_value_get_string(arg), "hi");
	dopy_value_free(arg);
	answer(&p, id, dopy_value_string("hi!"));
	expect_string(&p, 1, "hi!");
	call_cb(&p, 2, "echo", "again");
	id = expect_callback(&p, "echo", NULL);
	cr_assert_eq(id, 2, "callback ids are the server's own counter");
	answer(&p, id, dopy_value_string("yes"));
	expect_string(&p, 2, "yes");
	e2e_finish(&p, 0);
}

Test(callback, client_calls_are_served_while_it_waits, .timeout = 30)
{
	struct e2e_proc p;
	uint32_t id;

	e2e_dopyd(&p, 1, MAX_FRAME, NULL);
	call_cb(&p, 1, "echo", "x");
	id = expect_callback(&p, "echo", NULL);
	call_add(&p, 2, 2, 3);
	e2e_expect_int(p.out, 2, 5);		/* answered before the outer call */
	call_add(&p, 3, 4, 5);
	e2e_expect_int(p.out, 3, 9);
	answer(&p, id, dopy_value_string("done"));
	expect_string(&p, 1, "done");
	e2e_finish(&p, 0);
}

Test(callback, error_keeps_the_client_trace, .timeout = 30)
{
	struct e2e_proc p;
	dopy_error *sent, *got;
	uint32_t id;

	e2e_dopyd(&p, 1, MAX_FRAME, NULL);
	call_cb(&p, 1, "echo", "x");
	id = expect_callback(&p, "echo", NULL);
	sent = dopy_error_new(DOPY_E_REMOTE, "boom");
	dopy_error_set_fields(sent, "client.Failure", "client", "echo",
	    "clienthost", 4242);
	dopy_error_add_trace(sent, "client.c:10 echo");
	dopy_error_add_trace(sent, "in client.echo on host clienthost pid "
	    "4242");
	answer_error(&p, id, sent);
	got = e2e_expect_error(p.out, 1, "client.Failure");
	cr_assert_str_eq(dopy_error_message(got), "boom");
	cr_assert_str_eq(dopy_error_object(got), "client");
	cr_assert_str_eq(dopy_error_method(got), "echo");
	cr_assert_str_eq(dopy_error_host(got), "clienthost");
	cr_assert_eq(dopy_error_pid(got), 4242);
	cr_assert_eq(dopy_error_trace_len(got), 3, "%zu trace lines",
	    dopy_error_trace_len(got));
	cr_assert_str_eq(dopy_error_trace(got, 0), "client.c:10 echo");
	cr_assert_str_eq(dopy_error_trace(got, 1), dopy_error_trace(sent, 1));
	cr_assert(strncmp(dopy_error_trace(got, 2), "in cb.call on host ",
	    19) == 0, "last line: %s", dopy_error_trace(got, 2));
	dopy_error_free(sent);
	dopy_error_free(got);
	call_add(&p, 2, 1, 1);		/* still in sync */
	e2e_expect_int(p.out, 2, 2);
	e2e_finish(&p, 0);
}

/*
 * cb.nest calls client.nest back; we answer each callback with another
 * cb.nest call, until the server refuses one: calls and callbacks count
 * alike, so DOPY_MAX_NEST / 2 calls fit.  Then we unwind, answering the
 * innermost callback first.
 */
Test(callback, nesting_is_limited, .timeout = 30)
{
	uint32_t cbs[DOPY_MAX_NEST + 2];
	struct e2e_proc p;
	dopy_error *e;
	dopy_value *a[2];
	size_t n = 0;
	uint32_t id;

	e2e_dopyd(&p, 1, MAX_FRAME, NULL);
	for (id = 1;; id++) {
		a[0] = dopy_value_string("client");
		a[1] = dopy_value_int(100);
		send_call(&p, DOPY_F_CALL, id, "cb", "nest", 2, a);
		if (id > DOPY_MAX_NEST / 2)
			break;
		cbs[n++] = expect_callback(&p, "nest", NULL);
	}
	e = e2e_expect_error(p.out, id, "dopy.NestingTooDeep");
	dopy_error_free(e);
	cr_assert_eq(n, DOPY_MAX_NEST / 2);
	while (n > 0) {
		answer(&p, cbs[n - 1], dopy_value_int((int64_t)(id - 1 - n)));
		e2e_expect_int(p.out, (uint32_t)n, (int64_t)(id - n));
		n--;
	}
	e2e_finish(&p, 0);
}

Test(callback, client_gone_mid_callback, .timeout = 30)
{
	struct e2e_proc p;
	dopy_error *e;

	e2e_dopyd(&p, 1, MAX_FRAME, NULL);
	call_cb(&p, 1, "echo", "x");
	expect_callback(&p, "echo", NULL);
	close(p.in);			/* the client stops talking */
	p.in = -1;
	e = e2e_expect_error(p.out, 1, "dopy.ConnectionLost");
	cr_assert(strstr(dopy_error_message(e), "may or may not") != NULL,
	    "%s", dopy_error_message(e));
	dopy_error_free(e);
	e2e_finish(&p, 0);
}

Test(callback, broken_framing_mid_callback_is_fatal, .timeout = 30)
{
	static const uint8_t junk[DOPY_HDR_LEN] = "not a frame";
	struct e2e_proc p;
	dopy_error *e;

	e2e_dopyd(&p, 1, MAX_FRAME, NULL);
	call_cb(&p, 1, "echo", "x");
	expect_callback(&p, "echo", NULL);
	cr_assert_eq(e2e_write(p.in, junk, sizeof(junk)), 0);
	e = e2e_expect_error(p.out, 0, "dopy.ProtocolError");
	dopy_error_free(e);
	e2e_finish(&p, 1);		/* and no answer to call 1 */
}

Test(callback, unasked_answers_are_ignored, .timeout = 30)
{
	struct e2e_proc p;
	dopy_error *e = dopy_error_new(DOPY_E_REMOTE, "late");
	char *log;

	e2e_dopyd(&p, 1, MAX_FRAME, NULL);
	dopy_error_set_fields(e, "client.Late", "client", "echo", "h", 1);
	answer(&p, 77, dopy_value_string("nobody asked"));
	answer_error(&p, 78, e);
	dopy_error_free(e);
	call_add(&p, 1, 20, 22);
	e2e_expect_int(p.out, 1, 42);
	e2e_finish(&p, 0);
	log = log_of(&p);
	cr_assert(strstr(log, "CALLBACK_REPLY 77 answers no waiting") != NULL,
	    "log: %s", log);
	free(log);
}

/* With -i 1, a callback nobody answers fails with dopy.Timeout after a
 * second of silence; the connection goes on, and a late answer is
 * dropped. */
Test(callback, silent_client_times_out, .timeout = 30)
{
	struct e2e_proc p;
	dopy_error *e;
	int64_t t0;
	uint32_t id;

	e2e_dopyd(&p, 1, MAX_FRAME, "-i1");
	call_cb(&p, 1, "echo", "x");
	id = expect_callback(&p, "echo", NULL);
	t0 = dopy_now_ms();
	e = e2e_expect_error(p.out, 1, "dopy.Timeout");
	cr_assert(dopy_now_ms() - t0 >= 500, "after %lld ms",
	    (long long)(dopy_now_ms() - t0));
	dopy_error_free(e);
	answer(&p, id, dopy_value_string("too late"));
	call_add(&p, 2, 1, 2);
	e2e_expect_int(p.out, 2, 3);
	e2e_finish(&p, 0);
}

/*
 * cb.watch arms a timerfd; its watcher calls client.tick back later,
 * between calls, even while half of our next frame has arrived.
 */
Test(callback, watcher_calls_back_later, .timeout = 30)
{
	dopy_value *a[3] = { dopy_value_string("client"),
	    dopy_value_string("tick"), dopy_value_int(150) };
	struct dopy_buf b;
	struct e2e_proc p;
	dopy_value *v, *arg;
	size_t half;
	int64_t t0;
	uint32_t id;

	e2e_dopyd(&p, 1, MAX_FRAME, NULL);
	t0 = dopy_now_ms();
	send_call(&p, DOPY_F_CALL, 1, "cb", "watch", 3, a);
	v = e2e_expect_reply(p.out, 1);
	cr_assert_null(v, "watch returns nothing");
	dopy_buf_init(&b);
	a[0] = dopy_value_int(40);
	a[1] = dopy_value_int(2);
	e2e_call(&b, 2, "test", "add", 2, NULL, a);
	half = b.len / 2;
	cr_assert_eq(e2e_write(p.in, b.data, half), 0);
	id = expect_callback(&p, "tick", &arg);
	cr_assert(dopy_now_ms() - t0 >= 140, "tick after %lld ms",
	    (long long)(dopy_now_ms() - t0));
	cr_assert_str_eq(dopy_value_get_string(arg), "tick");
	dopy_value_free(arg);
	/* Frames are whole on the wire: finish the call (served while the
	 * callback waits), then answer. */
	cr_assert_eq(e2e_write(p.in, b.data + half, b.len - half), 0);
	dopy_buf_release(&b);
	e2e_expect_int(p.out, 2, 42);
	answer(&p, id, dopy_value_string("ok"));
	call_add(&p, 3, 1, 1);
	e2e_expect_int(p.out, 3, 2);
	e2e_finish(&p, 0);
}

/*
 * A watch still pending when the client leaves: its state, proxy and
 * timer are released when the server goes (the ASan run's leak check
 * fails this test otherwise).
 */
Test(callback, watcher_pending_at_eof_is_released, .timeout = 30)
{
	dopy_value *a[3] = { dopy_value_string("client"),
	    dopy_value_string("tick"), dopy_value_int(60000) };
	struct e2e_proc p;

	e2e_dopyd(&p, 1, MAX_FRAME, NULL);
	send_call(&p, DOPY_F_CALL, 1, "cb", "watch", 3, a);
	cr_assert_null(e2e_expect_reply(p.out, 1), "watch returns nothing");
	e2e_finish(&p, 0);
}

/* ---- the same through the client library (dopy_conn_publish) ---- */

struct client {
	dopy_proxy	*cb;		/* the server's cb object */
	int		 ticks;
	int		 errors;	/* on_callback_error runs */
	char		 last[64];	/* its error name */
};

static int
client_echo(dopy_call *c)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%s!", dopy_call_string(c, 0));
	return dopy_return_string(c, buf);
}

static int
client_fail(dopy_call *c)
{
	return dopy_raise(c, "client.Failure", "no %s here",
	    dopy_call_string(c, 0));
}

/* client.nest(d) = cb.nest(client, d - 1) + 1: calls the server from
 * inside its callback. */
static int
client_nest(dopy_call *c)
{
	struct client *st = dopy_call_state(c);
	dopy_args *a = dopy_args_new();
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	int r;

	dopy_args_string(a, NULL, "client");
	dopy_args_int(a, NULL, dopy_call_int(c, 0) - 1);
	if (dopy_proxy_call(st->cb, "nest", a, &v, &e) < 0)
		r = dopy_call_raise_error(c, e);
	else
		r = dopy_return_int(c, dopy_value_get_int(v) + 1);
	dopy_value_free(v);
	dopy_error_free(e);
	dopy_args_free(a);
	return r;
}

static int
client_tick(dopy_call *c)
{
	struct client *st = dopy_call_state(c);

	st->ticks++;
	return dopy_return_string(c, "ok");
}

static const struct dopy_method client_methods[] = {
	{ "echo", client_echo, "arg:string", "string", "arg!" },
	{ "fail", client_fail, "arg:string", "string", "Raise." },
	{ "nest", client_nest, "depth:int", "int", "cb.nest(depth-1)+1" },
	{ "tick", client_tick, "arg:string", "string", "Count ticks." },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_object_def client_def = {
	"client", "The test's published object.", client_methods, NULL, NULL
};

static void
on_cb_error(const dopy_error *e, void *arg)
{
	struct client *st = arg;

	st->errors++;
	snprintf(st->last, sizeof(st->last), "%s", dopy_error_name(e));
}

/* Connect to target, or spawn dopyd when it is NULL, and publish. */
static dopy_conn *
lib_connect(struct client *st, const char *target)
{
	char cmd[1024];
	dopy_conn *c = NULL;
	dopy_error *e = NULL;

	memset(st, 0, sizeof(*st));
	snprintf(cmd, sizeof(cmd), "exec %s -L /dev/null", e2e_bin("dopyd"));
	cr_assert_eq(dopy_connect(target != NULL ? target : cmd, &c, &e), 0,
	    "%s", dopy_error_message(e));
	cr_assert_eq(dopy_conn_publish(c, &client_def, st), 0);
	dopy_conn_on_callback_error(c, on_cb_error, st);
	st->cb = dopy_proxy_new(c, "cb");
	cr_assert_not_null(st->cb);
	return c;
}

static dopy_conn *
lib_open(struct client *st)
{
	return lib_connect(st, NULL);
}

/* Close; returns dopyd's exit status (-1 for a socket). */
static int
lib_close(dopy_conn *c, struct client *st)
{
	dopy_proxy_free(st->cb);
	return dopy_conn_close(c);
}

/* cb.call(client, method, arg) through the library. */
static int
lib_call(struct client *st, const char *method, const char *arg,
    dopy_value **v, dopy_error **e)
{
	dopy_args *a = dopy_args_new();
	int r;

	dopy_args_string(a, NULL, "client");
	dopy_args_string(a, NULL, method);
	dopy_args_string(a, NULL, arg);
	r = dopy_proxy_call(st->cb, "call", a, v, e);
	dopy_args_free(a);
	return r;
}

Test(callback_lib, round_trip, .timeout = 30)
{
	struct client st;
	dopy_conn *c = lib_open(&st);
	dopy_value *v = NULL;
	dopy_error *e = NULL;

	cr_assert_eq(lib_call(&st, "echo", "hi", &v, &e), 0, "%s",
	    dopy_error_message(e));
	cr_assert_str_eq(dopy_value_get_string(v), "hi!");
	dopy_value_free(v);
	cr_assert_eq(st.errors, 0);
	cr_assert_eq(lib_close(c, &st), 0);
}

Test(callback_lib, error_reported_on_both_sides, .timeout = 30)
{
	struct client st;
	dopy_conn *c = lib_open(&st);
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	size_t n;

	cr_assert_eq(lib_call(&st, "fail", "cheese", &v, &e), DOPY_E_REMOTE);
	cr_assert_null(v);
	cr_assert_str_eq(dopy_error_name(e), "client.Failure");
	cr_assert_str_eq(dopy_error_message(e), "no cheese here");
	cr_assert_str_eq(dopy_error_object(e), "client");
	n = dopy_error_trace_len(e);
	cr_assert(n >= 3, "%zu trace lines", n);
	cr_assert(strstr(dopy_error_trace(e, 0), "client_fail") != NULL,
	    "first line: %s", dopy_error_trace(e, 0));
	cr_assert(strncmp(dopy_error_trace(e, n - 1), "in cb.call on host ",
	    19) == 0, "last line: %s", dopy_error_trace(e, n - 1));
	dopy_error_free(e);
	cr_assert_eq(st.errors, 1, "on_callback_error ran %d times",
	    st.errors);
	cr_assert_str_eq(st.last, "client.Failure");
	cr_assert_eq(lib_close(c, &st), 0);
}

Test(callback_lib, nesting_both_ways, .timeout = 30)
{
	struct client st;
	dopy_conn *c = lib_open(&st);
	dopy_args *a = dopy_args_new();
	dopy_value *v = NULL;
	dopy_error *e = NULL;

	dopy_args_string(a, NULL, "client");
	dopy_args_int(a, NULL, 3);
	/* cb.nest(3) = client.nest(3) + 1 = cb.nest(2) + 2 = ... = 6 */
	cr_assert_eq(dopy_proxy_call(st.cb, "nest", a, &v, &e), 0, "%s",
	    dopy_error_message(e));
	cr_assert_eq(dopy_value_get_int(v), 6);
	dopy_value_free(v);
	dopy_args_free(a);
	cr_assert_eq(lib_close(c, &st), 0);
}

/* A watcher's callback arrives between calls: the caller's own loop
 * polls dopy_conn_fd() and runs dopy_conn_process(). */
Test(callback_lib, watcher_through_process, .timeout = 30)
{
	struct client st;
	dopy_conn *c = lib_open(&st);
	dopy_args *a = dopy_args_new();
	struct pollfd pfd;
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	int64_t end;

	dopy_args_string(a, NULL, "client");
	dopy_args_string(a, NULL, "tick");
	dopy_args_int(a, NULL, 100);
	cr_assert_eq(dopy_proxy_call(st.cb, "watch", a, &v, &e), 0, "%s",
	    dopy_error_message(e));
	dopy_args_free(a);
	end = dopy_now_ms() + 5000;
	while (st.ticks == 0 && dopy_now_ms() < end) {
		pfd = (struct pollfd){ dopy_conn_fd(c), POLLIN, 0 };
		if (poll(&pfd, 1, 100) > 0)
			cr_assert_eq(dopy_conn_process(c, &e), 0, "%s",
			    dopy_error_message(e));
	}
	cr_assert_eq(st.ticks, 1, "%d ticks", st.ticks);
	cr_assert_eq(lib_close(c, &st), 0);
}

/* The single-process listener (-s) holds its lock through a call: the
 * client's calls nested in a callback must not wait for it. */
Test(callback_lib, single_process_listener, .timeout = 30)
{
	char path[512], line[512], target[600];
	char *argv[] = { (char *)e2e_bin("dopyd"), "-d", "-s", "-B", "-l",
	    path, NULL };
	struct e2e_proc p;
	struct client st;
	dopy_conn *c;
	dopy_args *a = dopy_args_new();
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	size_t n = 0;

	snprintf(path, sizeof(path), "unix:%s/s.sock", e2e_tmpdir());
	e2e_spawn(&p, argv);
	while (n < sizeof(line) - 1 && e2e_read(p.out, line + n, 1,
	    E2E_WAIT_MS) == 1 && line[n] != '\n')
		n++;
	line[n] = '\0';
	cr_assert(n > 0, "dopyd -B printed nothing");
	snprintf(target, sizeof(target), "unix:%s", line);
	c = lib_connect(&st, target);
	dopy_args_string(a, NULL, "client");
	dopy_args_int(a, NULL, 2);
	cr_assert_eq(dopy_proxy_call(st.cb, "nest", a, &v, &e), 0, "%s",
	    dopy_error_message(e));
	cr_assert_eq(dopy_value_get_int(v), 4);
	dopy_value_free(v);
	dopy_args_free(a);
	lib_close(c, &st);
	kill(p.pid, SIGTERM);
	e2e_wait(&p, E2E_WAIT_MS);
}
