/*
 * e2e_replay.c - dopy-replay(1) and dopyd -F: a session recorded with
 * dopyd -Y through the client library (every frame type a replay can
 * carry) replays against dopyd with no difference, and against a
 * server that lacks an object with one; a fake server answers from a
 * recording through a pipe and through the listener, repeats follow
 * the rule, misses get dopy.Unrecorded; garbage crashes neither.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e_util.h"

static const char *
rec_path(const char *name)
{
	static char path[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(path[i], sizeof(path[i]), "%s/%s", e2e_tmpdir(), name);
	return path[i];
}

/* "exec dopyd -L /dev/null OPT" as a target (a static buffer). */
static const char *
dopyd_target(const char *opt)
{
	static char cmd[2][2048];
	static int i;

	i = !i;
	snprintf(cmd[i], sizeof(cmd[i]), "exec %s -L /dev/null %s",
	    e2e_bin("dopyd"), opt != NULL ? opt : "");
	return cmd[i];
}

static dopy_value *
call(dopy_proxy *p, const char *method, dopy_args *a, int want)
{
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	int r = dopy_proxy_call(p, method, a, &v, &e);

	cr_assert_eq(r, want, "%s: %d %s", method, r, dopy_error_message(e));
	dopy_args_free(a);
	dopy_error_free(e);
	return v;
}

static int64_t
call_int(dopy_proxy *p, const char *method, dopy_args *a)
{
	dopy_value *v = call(p, method, a, 0);
	int64_t i = dopy_value_get_int(v);

	dopy_value_free(v);
	return i;
}

static dopy_args *
ints(size_t n, int64_t a, int64_t b)
{
	dopy_args *x = dopy_args_new();

	dopy_args_int(x, NULL, a);
	if (n > 1)
		dopy_args_int(x, NULL, b);
	return x;
}

/* The published object a callback reaches. */
static int
client_echo(dopy_call *c)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%s!", dopy_call_string(c, 0));
	return dopy_return_string(c, buf);
}

static const struct dopy_method client_methods[] = {
	{ "echo", client_echo, "arg:string", "string", "arg!" },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_object_def client_def = {
	"client", "The test's published object.", client_methods, NULL, NULL
};

/* A stream of 3, and an upload of 1 2 3. */
static void
stream_and_upload(dopy_conn *c)
{
	dopy_proxy *s = dopy_proxy_new(c, "stream"), *u = dopy_proxy_new(c,
	    "upload");
	dopy_stream *st = NULL;
	dopy_upload *up = NULL;
	dopy_value *v = NULL;
	dopy_args *a = ints(1, 3, 0);
	int n = 0, i;

	cr_assert_eq(dopy_proxy_stream(s, "count", a, &st, NULL), 0);
	while (dopy_stream_next(st, &v, NULL) == 1) {
		n++;
		dopy_value_free(v);
	}
	cr_assert_eq(n, 3);
	dopy_stream_free(st);
	dopy_args_free(a);
	cr_assert_eq(dopy_proxy_upload(u, "sum", NULL, &up, NULL), 0);
	for (i = 1; i <= 3; i++)
		cr_assert_eq(dopy_upload_send(up, dopy_value_int(i), NULL), 0);
	cr_assert_eq(dopy_upload_finish(up, &v, NULL), 0);
	cr_assert_eq(dopy_value_get_int(v), 6);
	dopy_value_free(v);
	dopy_upload_free(up);
	dopy_proxy_free(s);
	dopy_proxy_free(u);
}

/* A reference used and released, a callback, PROGRESS, a CANCEL. */
static void
refs_callbacks_cancel(dopy_conn *c)
{
	dopy_proxy *f = dopy_proxy_new(c, "factory"), *cb = dopy_proxy_new(c,
	    "cb"), *slow = dopy_proxy_new(c, "slow"), *k;
	dopy_value *ref = call(f, "counter", NULL, 0), *v;
	dopy_args *a = dopy_args_new();
	int64_t took;

	k = dopy_proxy_ref(c, ref);
	cr_assert_eq(call_int(k, "incr", NULL), 1);
	cr_assert_eq(dopy_ref_release(c, ref, NULL), 0);
	dopy_args_string(a, NULL, "client");
	dopy_args_string(a, NULL, "echo");
	dopy_args_string(a, NULL, "hi");
	v = call(cb, "call", a, 0);
	cr_assert_str_eq(dopy_value_get_string(v), "hi!");
	dopy_value_free(v);
	cr_assert_eq(call_int(cb, "progress", ints(2, 100, 50)), 2);
	dopy_error_free(e2e_cancelled(slow, "spin", 5000, &took));
	dopy_value_free(ref);
	dopy_proxy_free(k);
	dopy_proxy_free(f);
	dopy_proxy_free(cb);
	dopy_proxy_free(slow);
}

/* The session: HELLO, CALL, REPLY, ERROR, ONEWAY, ITEM both ways,
 * PROGRESS, CANCEL, RELEASE, CALLBACK and its reply. */
static void
record_session(const char *rec)
{
	char opt[600];
	dopy_conn *c;
	dopy_proxy *t;

	snprintf(opt, sizeof(opt), "-Y %s", rec);
	c = e2e_connect(dopyd_target(opt));
	cr_assert_eq(dopy_conn_publish(c, &client_def, NULL), 0);
	t = dopy_proxy_new(c, "test");
	cr_assert_eq(call_int(t, "add", ints(2, 2, 3)), 5);
	call(t, "nosuch", NULL, DOPY_E_USAGE);
	cr_assert_eq(dopy_proxy_set_oneway(t, "notify", 1), 0);
	dopy_value_free(call(t, "notify", dopy_args_new(), 0));
	cr_assert_eq(dopy_proxy_set_oneway(t, "notify", 0), 0);
	stream_and_upload(c);
	refs_callbacks_cancel(c);
	dopy_proxy_free(t);
	dopy_conn_close(c);
}

/* dopy-replay [opts] target rec: its exit code, its stdout in out. */
static int
replay(const char *target, const char *rec, char **out)
{
	char *argv[] = { (char *)e2e_bin("dopy-replay"), "-t", "3",
	    (char *)target, (char *)rec, NULL };
	struct e2e_run r;
	int code;

	e2e_run_ms(&r, NULL, 0, 30000, argv);
	cr_assert(WIFEXITED(r.status), "dopy-replay: %s",
	    e2e_status(r.status));
	code = WEXITSTATUS(r.status);
	*out = r.out;
	r.out = NULL;
	e2e_run_free(&r);
	return code;
}

/* -v shows that the replay sent and read each kind of frame. */
static void
carried(const char *rec)
{
	static const char *const kinds[] = { "\"out\",\"frame\":\"ONEWAY\"",
	    "\"out\",\"frame\":\"ITEM\"", "\"out\",\"frame\":\"CANCEL\"",
	    "\"out\",\"frame\":\"RELEASE\"",
	    "\"out\",\"frame\":\"CALLBACK_REPLY\"",
	    "\"in\",\"frame\":\"CALLBACK\"", "\"in\",\"frame\":\"ITEM\"",
	    "\"in\",\"frame\":\"ERROR\"", "\"in\",\"frame\":\"REPLY\"" };
	char *argv[] = { (char *)e2e_bin("dopy-replay"), "-v",
	    (char *)dopyd_target(NULL), (char *)rec, NULL };
	struct e2e_run r;
	size_t i;

	e2e_run_ms(&r, NULL, 0, 30000, argv);
	e2e_assert_run(&r, 0, NULL);
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		cr_assert_not_null(strstr(r.err, kinds[i]), "no %s", kinds[i]);
	e2e_run_free(&r);
}

Test(replay, same_server_no_difference, .timeout = 60)
{
	const char *rec = rec_path("session");
	char *out;

	record_session(rec);
	cr_assert_eq(replay(dopyd_target(NULL), rec, &out), 0, "%s", out);
	cr_assert_null(strstr(out, "\"recorded\""), "%s", out);
	cr_assert_not_null(strstr(out, "\"differing\":0"), "%s", out);
	cr_assert_null(strstr(out, "\"calls\":0,"), "%s", out);
	free(out);
	carried(rec);
	/* Bare errors differ in traces, host and pid only. */
	cr_assert_eq(replay(dopyd_target("-E"), rec, &out), 0, "%s", out);
	free(out);
}

/* naming.list recorded with -N, replayed where there is no naming
 * service: one difference, naming the call. */
Test(replay, changed_server_differs, .timeout = 30)
{
	const char *rec = rec_path("naming"), *dir = rec_path("ns");
	char opt[1200], *out;
	dopy_conn *c;
	dopy_proxy *p;

	cr_assert_eq(mkdir(dir, 0700), 0);
	snprintf(opt, sizeof(opt), "-N %s -Y %s", dir, rec);
	c = e2e_connect(dopyd_target(opt));
	p = dopy_proxy_new(c, "naming");
	dopy_value_free(call(p, "list", NULL, 0));
	dopy_proxy_free(p);
	dopy_conn_close(c);
	cr_assert_eq(replay(dopyd_target(NULL), rec, &out), 1, "%s", out);
	cr_assert_not_null(strstr(out, "\"object\":\"naming\",\"method\":"
	    "\"list\""), "%s", out);
	cr_assert_not_null(strstr(out, "dopy.UnknownObject"), "%s", out);
	cr_assert_not_null(strstr(out, "\"differing\":1"), "%s", out);
	free(out);
}

/* factory.counter(), then incr twice on the counter: 1, 2. */
static void
record_counter(const char *rec)
{
	char opt[600];
	dopy_conn *c;
	dopy_proxy *f, *k;
	dopy_value *ref;

	snprintf(opt, sizeof(opt), "-Y %s", rec);
	c = e2e_connect(dopyd_target(opt));
	f = dopy_proxy_new(c, "factory");
	ref = call(f, "counter", NULL, 0);
	k = dopy_proxy_ref(c, ref);
	cr_assert_eq(call_int(k, "incr", NULL), 1);
	cr_assert_eq(call_int(k, "incr", NULL), 2);
	dopy_value_free(ref);
	dopy_proxy_free(k);
	dopy_proxy_free(f);
	dopy_conn_close(c);
}

/* The fake at target answers as recorded: incr gives 1, 2, then 2
 * again (the last answer repeats); test.add was never recorded. */
static void
fake_answers(const char *target)
{
	dopy_conn *c = e2e_connect(target);
	dopy_proxy *f = dopy_proxy_new(c, "factory"), *k,
	    *t = dopy_proxy_new(c, "test");
	dopy_value *ref = call(f, "counter", NULL, 0);
	dopy_error *e = NULL;
	dopy_value *v = NULL;
	dopy_args *a;

	k = dopy_proxy_ref(c, ref);
	cr_assert_eq(call_int(k, "incr", NULL), 1);
	cr_assert_eq(call_int(k, "incr", NULL), 2);
	cr_assert_eq(call_int(k, "incr", NULL), 2);
	a = ints(2, 2, 3);
	cr_assert_lt(dopy_proxy_call(t, "add", a, &v, &e), 0);
	dopy_args_free(a);
	cr_assert_str_eq(dopy_error_name(e), "dopy.Unrecorded");
	cr_assert_not_null(strstr(dopy_error_message(e), "test.add"));
	dopy_error_free(e);
	dopy_value_free(ref);
	dopy_proxy_free(k);
	dopy_proxy_free(f);
	dopy_proxy_free(t);
	dopy_conn_close(c);
}

Test(replay, fake_through_pipe, .timeout = 30)
{
	const char *rec = rec_path("counter");
	char opt[600];

	record_counter(rec);
	snprintf(opt, sizeof(opt), "-F %s", rec);
	fake_answers(dopyd_target(opt));
}

Test(replay, fake_through_listener, .timeout = 30)
{
	const char *rec = rec_path("counter");
	char *argv[] = { (char *)e2e_bin("dopyd"), "-d", "-B", "-l",
	    "127.0.0.1:0", "-F", (char *)rec, NULL };
	char line[64], target[128];
	struct e2e_proc l;

	record_counter(rec);
	e2e_spawn_line(&l, argv, line, sizeof(line));
	snprintf(target, sizeof(target), "tcp://127.0.0.1:%s", line);
	fake_answers(target);
	fake_answers(target);	/* each connection counts afresh */
	kill(l.pid, SIGTERM);
	cr_assert(e2e_exited(e2e_wait(&l, E2E_WAIT_MS), 0));
}

/* A recording cut short and one of garbage: both tools say so or do
 * what they can, and neither crashes. */
Test(replay, garbage_recordings, .timeout = 30)
{
	const char *rec = rec_path("counter"), *cut = rec_path("cut"),
	    *junk = rec_path("junk");
	char *argv[] = { (char *)e2e_bin("dopyd"), "-F", (char *)junk, NULL };
	char opt[600], *out, *text;
	size_t len;
	FILE *f;

	record_counter(rec);
	cr_assert_not_null(text = e2e_slurp(rec, &len));
	cr_assert_not_null(f = fopen(cut, "w"));
	fwrite(text, 1, len * 2 / 3, f);
	fclose(f);
	free(text);
	cr_assert_eq(e2e_spit(junk, "not a recording at all\n"), 0);
	cr_assert_lt(replay(dopyd_target(NULL), cut, &out), 2, "%s", out);
	cr_assert_not_null(strstr(out, "\"connections\":1"), "%s", out);
	free(out);
	cr_assert_eq(replay(dopyd_target(NULL), junk, &out), 2, "%s", out);
	free(out);
	snprintf(opt, sizeof(opt), "-F %s", cut);
	dopy_conn_close(e2e_connect(dopyd_target(opt)));
	e2e_run_expect(argv, 2, "", "not a dopy recording");
}
