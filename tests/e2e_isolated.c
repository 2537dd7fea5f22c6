/*
 * e2e_isolated.c - methods run isolated (dopy_server_set_isolated) with
 * the real dopyd's `iso` object, whose isolated methods have a grace of
 * 300 ms: one deaf to cancels killed after its grace (cancel, deadline,
 * EOF), a cooperative one ending at once, a stream relayed whole, a
 * crash answered, the child's state lost, no child or descriptor left
 * behind, and the interface it publishes marking them; and -I.  The
 * same suite has tests under the launchers in e2e_launchers.c.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e_util.h"
#include "internal.h"	/* dopy_now_ms */

#define GRACE_MS	300	/* bin/testobj_iso.c */
#define SLACK_MS	700	/* from the end of the grace to the answer */

static int
fds_of(long pid)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
	cr_assert_not_null(dir = opendir(path));
	while ((d = readdir(dir)) != NULL)
		n += d->d_name[0] != '.';
	closedir(dir);
	return n;
}

static char *
log_path(const char *name)
{
	char *path;

	cr_assert(asprintf(&path, "%s/%s.log", e2e_tmpdir(), name) > 0);
	return path;
}

/* The log of a dopyd whose connection is closed, once it has exited. */
static char *
log_after(dopy_conn *c, const char *path)
{
	cr_assert_eq(dopy_conn_close(c), 0);
	free(e2e_dopyd_exit_line(path, E2E_WAIT_MS));
	return e2e_slurp(path, NULL);
}

Test(isolated, deaf_method_killed_after_its_grace, .timeout = 30)
{
	char *path = log_path("deaf"), *log;
	dopy_conn *c = e2e_dopyd_conn(path);
	dopy_proxy *p = dopy_proxy_new(c, "iso");
	dopy_error *e;
	int64_t took, pid;

	pid = e2e_call_int(p, "pid", NULL);
	e = e2e_cancelled(p, "stubborn", 10000, &took);
	cr_assert_str_eq(dopy_error_name(e), "dopy.Cancelled");
	cr_assert(strstr(dopy_error_message(e), "cancelled by the client; "
	    "killed after a grace of 300 ms"), "%s", dopy_error_message(e));
	cr_assert_geq(took, GRACE_MS - 20);
	cr_assert_lt(took, GRACE_MS + SLACK_MS, "the answer took %lld ms",
	    (long long)took);
	cr_log_info("isolated: cancel to answer %lld ms (grace %d ms)",
	    (long long)took, GRACE_MS);
	dopy_error_free(e);
	/* The connection goes on, in the same process, with no child. */
	cr_assert_eq(e2e_call_int(p, "stubborn", e2e_int_arg(5)), 5);
	cr_assert_eq(e2e_call_int(p, "pid", NULL), pid);
	cr_assert_eq(e2e_children_of(pid), 0);
	dopy_proxy_free(p);
	log = log_after(c, path);
	cr_assert(strstr(log, "iso.stubborn: isolated in pid ") &&
	    strstr(log, "killed after its grace; answered for it "
	    "dopy.Cancelled"), "log: %s", log);
	cr_assert(strstr(log, "iso.stubborn: cancelled by the client; it "
	    "ended with dopy.Cancelled"), "log: %s", log);
	free(log);
	free(path);
}

Test(isolated, deaf_method_past_its_deadline, .timeout = 30)
{
	char *path = log_path("deadline"), *log;
	dopy_conn *c = e2e_dopyd_conn(path);
	dopy_proxy *p = dopy_proxy_new(c, "iso");
	int64_t took = e2e_stubborn_past(c, p, 200);

	cr_assert_geq(took, 200 + GRACE_MS - 20);
	cr_assert_lt(took, 200 + GRACE_MS + SLACK_MS, "took %lld ms",
	    (long long)took);
	dopy_proxy_free(p);
	log = log_after(c, path);
	cr_assert(strstr(log, "killed after its grace; answered for it "
	    "dopy.DeadlineExceeded"), "log: %s", log);
	cr_assert(strstr(log, "iso.stubborn: its deadline passed; it ended "
	    "with dopy.DeadlineExceeded"), "log: %s", log);
	free(log);
	free(path);
}

/* ---- dopyd spoken to by hand: the server's own answers ---- */

/* iso.method(ms) as call id (argc 0: no argument), with a deadline
 * when deadline >= 0. */
static void
send_call(struct e2e_proc *p, uint32_t id, const char *method, int argc,
    int64_t ms, int64_t deadline)
{
	dopy_value *a[1] = { dopy_value_int(ms) };
	struct dopy_buf b, pl, call;

	dopy_buf_init(&b);
	dopy_buf_init(&call);
	e2e_call(&call, id, "iso", method, (size_t)argc, NULL, a);
	if (argc == 0)
		dopy_value_free(a[0]);
	if (deadline < 0) {
		e2e_send(p, &call);
		dopy_buf_release(&call);
		dopy_buf_release(&b);
		return;
	}
	dopy_buf_init(&pl);
	e2e_encode(&pl, dopy_value_uint((uint64_t)deadline));
	dopy_buf_put(&pl, call.data + DOPY_HDR_LEN, call.len - DOPY_HDR_LEN);
	e2e_frame(&b, DOPY_F_CALL, id, pl.data, pl.len);
	b.data[3] = DOPY_FL_DEADLINE;
	e2e_send(p, &b);
	dopy_buf_release(&pl);
	dopy_buf_release(&call);
	dopy_buf_release(&b);
}

static void
expect_error(struct e2e_proc *p, uint32_t id, const char *name,
    const char *msg)
{
	dopy_error *e = e2e_expect_error(p->out, id, name);

	cr_assert(strstr(dopy_error_message(e), msg), "%s",
	    dopy_error_message(e));
	dopy_error_free(e);
}

Test(isolated, deadline_answered_by_the_server, .timeout = 30)
{
	struct e2e_proc p;
	int64_t t0, took;

	e2e_dopyd_features(&p, DOPY_FEAT_ALL);
	t0 = dopy_now_ms();
	send_call(&p, 1, "stubborn", 1, 10000, 200);
	expect_error(&p, 1, "dopy.DeadlineExceeded", "iso.stubborn: its "
	    "deadline passed; killed after a grace of 300 ms");
	took = dopy_now_ms() - t0;
	cr_assert_geq(took, 200 + GRACE_MS - 20);
	cr_assert_lt(took, 200 + GRACE_MS + SLACK_MS);
	cr_log_info("isolated: deadline 200 ms, answer after %lld ms",
	    (long long)took);
	send_call(&p, 2, "stubborn", 1, 2, -1);
	e2e_expect_int(p.out, 2, 2);
	e2e_finish(&p, 0);
}

Test(isolated, cooperative_method_ends_at_once, .timeout = 30)
{
	char *path = log_path("polite"), *log;
	dopy_conn *c = e2e_dopyd_conn(path);
	dopy_proxy *p = dopy_proxy_new(c, "iso");
	dopy_error *e;
	int64_t took;

	e = e2e_cancelled(p, "polite", 10000, &took);
	cr_assert_str_eq(dopy_error_name(e), "dopy.Cancelled");
	cr_assert(strstr(dopy_error_message(e), "iso.polite: cancelled by "
	    "the client") && !strstr(dopy_error_message(e), "killed"), "%s",
	    dopy_error_message(e));
	cr_assert_lt(took, GRACE_MS - 50, "the answer took %lld ms",
	    (long long)took);
	cr_log_info("isolated: cooperative cancel to answer %lld ms",
	    (long long)took);
	dopy_error_free(e);
	cr_assert_eq(e2e_call_int(p, "stubborn", e2e_int_arg(3)), 3);
	dopy_proxy_free(p);
	log = log_after(c, path);
	cr_assert(strstr(log, "it answered dopy.Cancelled"), "log: %s", log);
	free(log);
	free(path);
}

Test(isolated, stream_arrives_whole, .timeout = 30)
{
	dopy_conn *c = e2e_dopyd_conn(NULL);
	dopy_proxy *p = dopy_proxy_new(c, "iso");
	dopy_stream *s = NULL;
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	dopy_args *a = e2e_int_arg(5000);
	int64_t i;

	cr_assert_eq(dopy_proxy_stream(p, "count", a, &s, &e), 0, "%s",
	    dopy_error_message(e));
	dopy_args_free(a);
	for (i = 1; i <= 5000; i++) {
		cr_assert_eq(dopy_stream_next(s, &v, &e), 1, "item %lld: %s",
		    (long long)i, dopy_error_message(e));
		cr_assert_eq(dopy_value_get_int(v), i);
		dopy_value_free(v);
		v = NULL;
	}
	cr_assert_eq(dopy_stream_next(s, &v, &e), 0, "%s",
	    dopy_error_message(e));
	dopy_stream_free(s);
	cr_assert_eq(e2e_call_int(p, "stubborn", e2e_int_arg(4)), 4);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}

Test(isolated, crash_is_an_error, .timeout = 30)
{
	dopy_conn *c = e2e_dopyd_conn(NULL);
	dopy_proxy *p = dopy_proxy_new(c, "iso");
	dopy_value *v = NULL;
	dopy_error *e = NULL;

	cr_assert_eq(dopy_proxy_call(p, "crash", NULL, &v, &e),
	    DOPY_E_REMOTE);
	cr_assert_str_eq(dopy_error_name(e), "dopy.Crashed");
	cr_assert(strstr(dopy_error_message(e), "iso.crash: the isolated "
	    "call died of signal 11"), "%s", dopy_error_message(e));
	dopy_error_free(e);
	cr_assert_eq(e2e_call_int(p, "stubborn", e2e_int_arg(6)), 6);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}

Test(isolated, state_change_is_lost, .timeout = 30)
{
	dopy_conn *c = e2e_dopyd_conn(NULL);
	dopy_proxy *p = dopy_proxy_new(c, "iso");
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	dopy_args *a = e2e_int_arg(7);
	int64_t pid;

	cr_assert_eq(dopy_proxy_call(p, "setv", a, &v, &e), 0, "%s",
	    dopy_error_message(e));
	dopy_args_free(a);
	cr_assert_null(v);
	cr_assert_eq(e2e_call_int(p, "getv", NULL), 0, "the child's change "
	    "came back");
	pid = e2e_call_int(p, "pid", NULL);
	cr_assert_neq(e2e_call_int(p, "childpid", NULL), pid);
	cr_assert_eq(e2e_call_int(p, "pid", NULL), pid);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}

Test(isolated, callbacks_and_references_refused, .timeout = 30)
{
	static const char *const methods[] = { "callback", "mkref" };
	static const char *const why[] = { "cannot call the client back",
	    "cannot return objects by reference" };
	dopy_conn *c = e2e_dopyd_conn(NULL);
	dopy_proxy *p = dopy_proxy_new(c, "iso");
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	size_t i;

	for (i = 0; i < 2; i++) {
		cr_assert_lt(dopy_proxy_call(p, methods[i], NULL, &v, &e), 0);
		cr_assert_str_eq(dopy_error_name(e), "dopy.Unsupported", "%s",
		    dopy_error_message(e));
		cr_assert(strstr(dopy_error_message(e), why[i]), "%s",
		    dopy_error_message(e));
		dopy_error_free(e);
		e = NULL;
	}
	cr_assert_eq(e2e_call_int(p, "stubborn", e2e_int_arg(8)), 8);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}

/* The child's output held open by a process it left: its exit is the
 * end of the call all the same. */
Test(isolated, grandchild_holding_the_pipe, .timeout = 30)
{
	dopy_conn *c = e2e_dopyd_conn(NULL);
	dopy_proxy *p = dopy_proxy_new(c, "iso");
	int64_t t0 = dopy_now_ms(), orphan, took;

	orphan = e2e_call_int(p, "orphan", NULL);
	cr_assert_eq(e2e_call_int(p, "stubborn", e2e_int_arg(9)), 9);
	took = dopy_now_ms() - t0;
	kill((pid_t)orphan, SIGKILL);
	cr_assert_lt(took, 1000, "took %lld ms", (long long)took);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}

/* After every kind of ending, the server has no child and no more
 * descriptors than before. */
Test(isolated, no_child_or_descriptor_left, .timeout = 30)
{
	struct e2e_proc p;
	struct dopy_buf b;
	struct e2e_frame f;
	int fds, i;

	e2e_dopyd_features(&p, DOPY_FEAT_ALL);
	send_call(&p, 1, "pid", 0, 0, -1);
	e2e_expect_int(p.out, 1, p.pid);
	fds = fds_of(p.pid);
	send_call(&p, 2, "crash", 0, 0, -1);
	expect_error(&p, 2, "dopy.Crashed", "signal 11");
	send_call(&p, 3, "stubborn", 1, 10000, 100);
	expect_error(&p, 3, "dopy.DeadlineExceeded", "killed");
	send_call(&p, 4, "stubborn", 1, 10000, -1);
	usleep(50 * 1000);
	dopy_buf_init(&b);
	e2e_frame(&b, DOPY_F_CANCEL, 4, NULL, 0);
	e2e_send(&p, &b);
	dopy_buf_release(&b);
	expect_error(&p, 4, "dopy.Cancelled", "killed");
	send_call(&p, 5, "count", 1, 3, -1);
	for (i = 1; i <= 3; i++) {
		cr_assert_eq(e2e_read_frame(p.out, &f, E2E_WAIT_MS), 1);
		cr_assert_eq(f.type, DOPY_F_ITEM);
		free(f.payload);
	}
	cr_assert_null(e2e_expect_reply(p.out, 5));
	/* The child's answer goes out before it is reaped: the answer to
	 * the next call comes after. */
	send_call(&p, 6, "pid", 0, 0, -1);
	e2e_expect_int(p.out, 6, p.pid);
	cr_assert_eq(e2e_children_of(p.pid), 0);
	cr_assert_eq(fds_of(p.pid), fds, "%d descriptors, %d before",
	    fds_of(p.pid), fds);
	e2e_finish(&p, 0);
}

Test(isolated, eof_ends_the_running_call, .timeout = 30)
{
	struct e2e_proc p;
	int64_t t0, took;
	char *log;

	e2e_dopyd_features(&p, DOPY_FEAT_ALL);
	send_call(&p, 1, "stubborn", 1, 10000, -1);
	usleep(100 * 1000);
	t0 = dopy_now_ms();
	close(p.in);
	p.in = -1;
	cr_assert(e2e_exited(e2e_wait(&p, 3000), 0));
	took = dopy_now_ms() - t0;
	cr_assert_geq(took, GRACE_MS - 20);
	cr_assert_lt(took, GRACE_MS + SLACK_MS, "exit took %lld ms",
	    (long long)took);
	log = e2e_slurp(p.errpath, NULL);
	cr_assert(strstr(log, "killed after its grace; answered for it "
	    "dopy.Cancelled"), "log: %s", log);
	cr_assert(strstr(log, "call 1 iso.stubborn: the client has gone; it "
	    "ended with dopy.Cancelled"), "log: %s", log);
	free(log);
}

/* A hand-written table publishes its isolated methods as an interface
 * file marks them (dopy-idl(5)), which dopy-idl reads back. */
Test(isolated, published_interface_marks_them, .timeout = 30)
{
	char *argv[] = { (char *)e2e_bin("dopy-idl"), "-P", "-f",
	    (char *)e2e_bin("dopyd"), "iso", NULL };
	struct e2e_run r;

	e2e_run(&r, argv);
	e2e_assert_run(&r, 0, NULL);
	cr_assert(strstr(r.out, "\n\tisolated(300) stubborn(ms: int) -> "
	    "int;\n") && strstr(r.out, "\n\tisolated(300) count(n: int) -> "
	    "stream int;\n") && strstr(r.out, "\n\tgetv() -> int;\n"), "%s",
	    r.out);
	e2e_run_free(&r);
}

/* ---- -I: methods isolated at start (dopyd(8)) ---- */

static dopy_conn *
dopyd_with(const char *opts)
{
	char cmd[1200];
	dopy_error *e = NULL;
	dopy_conn *c = NULL;

	snprintf(cmd, sizeof(cmd), "%s %s", e2e_bin("dopyd"), opts);
	if (dopy_conn_spawn(cmd, &c, &e) < 0)
		cr_assert_fail("%s: %s", cmd, dopy_error_message(e));
	return c;
}

/* test.sleep, deaf and in process by default, is isolated by -I; a
 * second -I sets the grace of a method isolated already. */
Test(isolated, option_isolates_at_start, .timeout = 30)
{
	dopy_conn *c = dopyd_with("-I test.sleep=200 -I iso.stubborn=50");
	dopy_proxy *t = dopy_proxy_new(c, "test"), *p = dopy_proxy_new(c,
	    "iso");
	dopy_error *e;
	int64_t took;

	e = e2e_cancelled(t, "sleep", 10000, &took);
	cr_assert(strstr(dopy_error_message(e), "test.sleep: cancelled by "
	    "the client; killed after a grace of 200 ms"), "%s",
	    dopy_error_message(e));
	cr_assert_geq(took, 200 - 20);
	cr_assert_lt(took, 200 + SLACK_MS, "took %lld ms", (long long)took);
	dopy_error_free(e);
	e = e2e_cancelled(p, "stubborn", 10000, &took);
	cr_assert(strstr(dopy_error_message(e), "killed after a grace of "
	    "50 ms"), "%s", dopy_error_message(e));
	cr_assert_lt(took, 50 + SLACK_MS, "took %lld ms", (long long)took);
	dopy_error_free(e);
	cr_assert_eq(e2e_call_int(p, "stubborn", e2e_int_arg(2)), 2);
	dopy_proxy_free(t);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}

/* What -I names must be there at start, or the server does not start:
 * not even a listener, which would fail at the first call. */
Test(isolated, option_refuses_what_is_not_there, .timeout = 30)
{
	static const struct {
		const char *arg, *err;
	} bad[] = {
		{ "nope.x", "dopyd: -I nope.x: no object nope\n" },
		{ "test.nosuch", "dopyd: -I test.nosuch: test: no method "
		    "nosuch\n" },
		{ "test", "dopyd: -I test: want object.method[=grace]\n" },
		{ "test.", "dopyd: -I test.: want object.method[=grace]\n" },
		{ "test.sleep=0", "dopyd: -I test.sleep=0: grace 0: too small "
		    "(want 1 to 3600000 ms)\n" },
		{ "test.sleep=3600001", "grace 3600001: too large" },
		{ "test.sleep=2s", "grace 2s: invalid" },
	};
	char dir[600], arg[64] = "";
	char *argv[] = { (char *)e2e_bin("dopyd"), "-I", arg, NULL, NULL,
	    NULL, NULL, NULL };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strlcpy(arg, bad[i].arg, sizeof(arg));
		e2e_run_expect(argv, 2, "", bad[i].err);
	}
	strlcpy(arg, "test.nosuch", sizeof(arg));
	argv[3] = "-B";
	argv[4] = "-l";
	argv[5] = "127.0.0.1:0";
	e2e_run_expect(argv, 2, "", "dopyd: -I test.nosuch: test: no method "
	    "nosuch\n");
	/* The services' objects are there by then. */
	snprintf(dir, sizeof(dir), "%s/ns", e2e_tmpdir());
	strlcpy(arg, "naming.resolve", sizeof(arg));
	argv[3] = "-N";
	argv[4] = dir;
	argv[5] = NULL;
	e2e_run_expect(argv, 0, "", NULL);
}
