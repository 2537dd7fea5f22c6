/*
 * test_conn.c - lib/client/conn.c and lib/client/proxy.c: the client
 * against a real server (dopy_server_serve in a forked child on a
 * socketpair) and against fake servers written here that misbehave on
 * purpose.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

/* ---- the real server's object ---- */

static int
t_add(dopy_call *c)
{
	return dopy_return_int(c, dopy_call_int(c, 0) + dopy_call_int(c, 1));
}

static int
t_echo(dopy_call *c)
{
	size_t len;
	const void *p = dopy_call_bytes(c, 0, &len);

	return dopy_return_bytes(c, p, len);
}

static void
helper(dopy_call *c)
{
	dopy_trace(c);
}

static int
t_fail(dopy_call *c)
{
	int r = dopy_raise(c, "t.Failure", "failed: %s", dopy_call_string(c,
	    0));

	helper(c);
	return r;
}

static int
t_die(dopy_call *c)
{
	(void)c;
	_exit(3);
}

static int
t_pid(dopy_call *c)
{
	return dopy_return_int(c, (int64_t)getpid());
}

static int
t_rows(dopy_call *c)
{
	char err[100];
	dopy_type *t = dopy_type_parse("(int,string)[]", err, sizeof(err));
	dopy_value *v = dopy_value_parse(t, dopy_call_string(c, 0), err,
	    sizeof(err));

	dopy_type_free(t);
	if (v == NULL)
		return dopy_raise(c, "t.Parse", "%s", err);
	return dopy_call_return(c, v);
}

static int
t_sleep(dopy_call *c)
{
	poll(NULL, 0, (int)dopy_call_int(c, 0));
	return dopy_return_int(c, dopy_call_int(c, 0));
}

static int
t_nothing(dopy_call *c)
{
	(void)c;
	return 0;
}

static const struct dopy_method t_methods[] = {
	{ "add", t_add, "a:int, b:int=100", "int", "Add." },
	{ "echo", t_echo, "data:bytes", "bytes", "Echo." },
	{ "fail", t_fail, "msg:string", NULL, "Fail." },
	{ "die", t_die, "", NULL, "Exit mid-call." },
	{ "pid", t_pid, "", "int", "The server's pid." },
	{ "rows", t_rows, "text:string", "(int,string)[]", "Parse rows." },
	{ "nothing", t_nothing, "", NULL, "No result." },
	{ "sleep", t_sleep, "ms:int", "int", "Sleep, then answer." },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_object_def t_def = {
	"t", "Test object.", t_methods, NULL, NULL
};

/* A server child, a connection to it and a proxy for its object t. */
struct real {
	dopy_server	*s;
	pid_t		 pid;
	int		 fd;
	dopy_conn	*c;
	dopy_proxy	*p;
};

static void
real_start(struct real *sv)
{
	dopy_error *e = NULL;

	sv->c = NULL;
	cr_assert_not_null(sv->s = tu_server());
	cr_assert_eq(dopy_server_add(sv->s, &t_def, NULL), 0);
	cr_assert_gt(sv->pid = tu_serve(sv->s, &sv->fd), 0);
	cr_assert_eq(dopy_conn_fds(sv->fd, sv->fd, &sv->c, &e), 0, "%s",
	    dopy_error_message(e));
	cr_assert_not_null(sv->c);
	cr_assert_null(e);
	cr_assert_not_null(sv->p = dopy_proxy_new(sv->c, "t"));
}

/* Free the proxy, close, then the server's exit code. */
static int
real_end(struct real *sv)
{
	int st;

	dopy_proxy_free(sv->p);
	cr_assert_eq(dopy_conn_close(sv->c), -1, "no spawned server to reap");
	st = tu_wait(sv->pid, TU_WAIT_MS);
	dopy_server_free(sv->s);
	return tu_exit_code(st);
}

/* The error's message has want in it. */
static void
msg_has(const dopy_error *e, const char *want)
{
	cr_assert(strstr(dopy_error_message(e), want) != NULL, "'%s' lacks "
	    "'%s'", dopy_error_message(e), want);
}

static int64_t
add(dopy_proxy *p, int64_t a, int64_t b)
{
	dopy_args *args = dopy_args_new();
	dopy_value *r = NULL;
	dopy_error *e = NULL;
	int64_t sum;

	cr_assert_eq(dopy_args_int(args, NULL, a), 0);
	cr_assert_eq(dopy_args_int(args, "b", b), 0);
	cr_assert_eq(dopy_proxy_call(p, "add", args, &r, &e), 0, "%s",
	    dopy_error_message(e));
	cr_assert_eq(dopy_value_kind(r), DOPY_INT);
	sum = dopy_value_get_int(r);
	dopy_value_free(r);
	dopy_args_free(args);
	return sum;
}

Test(conn, hello_and_calls, .timeout = 15)
{
	struct real sv;
	int i;

	real_start(&sv);
	cr_assert_str_eq(dopy_conn_server_version(sv.c), DOPY_SOFTWARE);
	for (i = 0; i < 50; i++)
		cr_assert_eq(add(sv.p, i, 1000), i + 1000);
	cr_assert_eq(real_end(&sv), 0);
}

Test(conn, defaults_and_no_args, .timeout = 15)
{
	struct real sv;
	dopy_args *a = dopy_args_new();
	dopy_value *r = (dopy_value *)1;
	dopy_error *e = NULL;

	real_start(&sv);
	cr_assert_eq(dopy_args_int(a, NULL, 5), 0);
	cr_assert_eq(dopy_proxy_call(sv.p, "add", a, &r, &e), 0);
	cr_assert_eq(dopy_value_get_int(r), 105);
	dopy_value_free(r);
	/* No result: *result is NULL. */
	r = (dopy_value *)1;
	cr_assert_eq(dopy_proxy_call(sv.p, "nothing", NULL, &r, &e), 0);
	cr_assert_null(r);
	cr_assert_null(e);
	dopy_args_free(a);
	cr_assert_eq(real_end(&sv), 0);
}

Test(conn, bytes_and_big_values, .timeout = 15)
{
	struct real sv;
	size_t len, n = 3u << 20, i;
	dopy_value *r = NULL;
	dopy_error *e = NULL;
	dopy_args *a;
	uint8_t *big;
	const uint8_t *got;

	real_start(&sv);
	cr_assert_not_null(big = malloc(n));
	for (i = 0; i < n; i++)
		big[i] = (uint8_t)(i * 13);
	big[0] = big[5] = 0;
	a = dopy_args_new();
	cr_assert_eq(dopy_args_bytes(a, NULL, big, n), 0);
	cr_assert_eq(dopy_proxy_call(sv.p, "echo", a, &r, &e), 0, "%s",
	    dopy_error_message(e));
	got = dopy_value_get_bytes(r, &len);
	cr_assert_eq(len, n);
	cr_assert_eq(memcmp(got, big, n), 0);
	dopy_value_free(r);
	dopy_args_free(a);
	free(big);
	cr_assert_eq(real_end(&sv), 0);
}

Test(conn, structured_result, .timeout = 15)
{
	struct real sv;
	dopy_args *a = dopy_args_new();
	dopy_value *r = NULL;
	dopy_error *e = NULL;

	real_start(&sv);
	cr_assert_eq(dopy_args_string(a, "text", "[(1, one), (2, \"t w o\")]"),
	    0);
	cr_assert_eq(dopy_proxy_call(sv.p, "rows", a, &r, &e), 0, "%s",
	    dopy_error_message(e));
	cr_assert_str_eq(dopy_type_name(dopy_value_type(r)), "(int,string)[]");
	cr_assert_eq(dopy_value_len(r), 2);
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(dopy_value_at(r,
	    1), 1)), "t w o");
	dopy_value_free(r);
	dopy_args_free(a);
	cr_assert_eq(real_end(&sv), 0);
}

Test(conn, remote_error_fields, .timeout = 15)
{
	struct real sv;
	dopy_args *a = dopy_args_new();
	dopy_value *r = (dopy_value *)1;
	dopy_error *e = NULL;
	char *text;

	real_start(&sv);
	cr_assert_eq(dopy_args_string(a, NULL, "on purpose"), 0);
	cr_assert_eq(dopy_proxy_call(sv.p, "fail", a, &r, &e), DOPY_E_REMOTE);
	cr_assert_null(r);
	cr_assert_not_null(e);
	cr_assert_eq(dopy_error_code(e), DOPY_E_REMOTE);
	cr_assert_str_eq(dopy_error_name(e), "t.Failure");
	cr_assert_str_eq(dopy_error_message(e), "failed: on purpose");
	cr_assert_str_eq(dopy_error_object(e), "t");
	cr_assert_str_eq(dopy_error_method(e), "fail");
	cr_assert_eq(dopy_error_pid(e), (long)sv.pid);
	cr_assert_str_eq(dopy_error_host(e), sv.s->host);
	cr_assert_eq(dopy_error_trace_len(e), 3);
	cr_assert(strstr(dopy_error_trace(e, 0), "test_conn.c:") != NULL &&
	    strstr(dopy_error_trace(e, 0), "t_fail") != NULL, "%s",
	    dopy_error_trace(e, 0));
	cr_assert(strstr(dopy_error_trace(e, 1), "helper") != NULL);
	cr_assert(strstr(dopy_error_trace(e, 2), "in t.fail on host") != NULL,
	    "%s", dopy_error_trace(e, 2));
	text = dopy_error_format(e);
	cr_assert(strstr(text, "t.Failure: failed: on purpose") != NULL, "%s",
	    text);
	cr_assert(strstr(text, "remote trace") != NULL, "%s", text);
	free(text);
	dopy_error_free(e);
	/* The connection is still good. */
	cr_assert_eq(add(sv.p, 1, 2), 3);
	dopy_args_free(a);
	cr_assert_eq(real_end(&sv), 0);
}

Test(conn, library_errors_map_to_codes, .timeout = 15)
{
	struct real sv;
	dopy_proxy *ghost;
	dopy_args *a = dopy_args_new();
	dopy_value *r = NULL;
	dopy_error *e = NULL;

	real_start(&sv);
	cr_assert_eq(dopy_args_string(a, NULL, "not an int"), 0);
	cr_assert_eq(dopy_proxy_call(sv.p, "add", a, &r, &e), DOPY_E_TYPE);
	cr_assert_str_eq(dopy_error_name(e), "dopy.TypeError");
	msg_has(e, "t.add: parameter a: expected int, got string");
	cr_assert_eq(dopy_proxy_call(sv.p, "nosuch", NULL, &r, &e),
	    DOPY_E_USAGE);
	cr_assert_str_eq(dopy_error_name(e), "dopy.UnknownMethod");
	ghost = dopy_proxy_new(sv.c, "ghost");
	cr_assert_eq(dopy_proxy_call(ghost, "x", NULL, &r, &e), DOPY_E_USAGE);
	cr_assert_str_eq(dopy_error_name(e), "dopy.UnknownObject");
	/* Without an error pointer the code still comes back. */
	cr_assert_eq(dopy_proxy_call(ghost, "x", NULL, &r, NULL), DOPY_E_USAGE);
	dopy_error_free(e);
	dopy_proxy_free(ghost);
	cr_assert_eq(add(sv.p, 2, 2), 4);
	dopy_args_free(a);
	cr_assert_eq(real_end(&sv), 0);
}

Test(conn, introspection, .timeout = 15)
{
	struct real sv;
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	const dopy_value *row;

	real_start(&sv);
	cr_assert_eq(dopy_list_objects(sv.c, &v, &e), 0);
	cr_assert_eq(dopy_value_len(v), 2);
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(v, 0)), "dopy");
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(v, 1)), "t");
	dopy_value_free(v);
	cr_assert_eq(dopy_describe(sv.c, "t", &v, &e), 0);
	cr_assert_eq(dopy_value_len(v), 8);
	row = dopy_value_at(v, 0);
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(row, 0)), "add");
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(row, 1)),
	    "a:int, b:int=100");
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(row, 2)), "int");
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(row, 3)), "Add.");
	dopy_value_free(v);
	cr_assert_eq(dopy_describe(sv.c, "nope", &v, &e), DOPY_E_USAGE);
	cr_assert_null(v);
	cr_assert_str_eq(dopy_error_name(e), "dopy.UnknownObject");
	dopy_error_free(e);
	cr_assert_eq(real_end(&sv), 0);
}

Test(conn, two_connections_do_not_interfere, .timeout = 15)
{
	struct real s1, s2;
	dopy_value *r1 = NULL, *r2 = NULL;
	dopy_error *e = NULL;
	int i;

	real_start(&s1);
	real_start(&s2);
	cr_assert_neq(s1.pid, s2.pid);
	for (i = 0; i < 20; i++) {
		cr_assert_eq(add(s1.p, i, 1), i + 1);
		cr_assert_eq(add(s2.p, i, 2), i + 2);
	}
	/* Each talks to its own server. */
	cr_assert_eq(dopy_proxy_call(s1.p, "pid", NULL, &r1, &e), 0);
	cr_assert_eq(dopy_proxy_call(s2.p, "pid", NULL, &r2, &e), 0);
	cr_assert_eq(dopy_value_get_int(r1), s1.pid);
	cr_assert_eq(dopy_value_get_int(r2), s2.pid);
	dopy_value_free(r1);
	dopy_value_free(r2);
	/* One failing leaves the other alone. */
	cr_assert_eq(dopy_proxy_call(s1.p, "die", NULL, &r1, &e), DOPY_E_LOST);
	cr_assert_eq(add(s2.p, 40, 2), 42);
	dopy_error_free(e);
	cr_assert_eq(real_end(&s1), 3);
	cr_assert_eq(real_end(&s2), 0);
}

Test(conn, server_closes_mid_call, .timeout = 15)
{
	struct real sv;
	dopy_value *r = (dopy_value *)1;
	dopy_error *e = NULL;
	int64_t t0;

	real_start(&sv);
	cr_assert_eq(dopy_proxy_call(sv.p, "die", NULL, &r, &e), DOPY_E_LOST);
	cr_assert_null(r);
	cr_assert_eq(dopy_error_code(e), DOPY_E_LOST);
	msg_has(e, "whether it ran is unknown");
	msg_has(e, "t.die");
	/* Later calls fail at once, without touching the stream. */
	t0 = dopy_now_ms();
	cr_assert_eq(dopy_proxy_call(sv.p, "pid", NULL, &r, &e),
	    DOPY_E_CLOSED);
	msg_has(e, "lost");
	cr_assert_lt(dopy_now_ms() - t0, 1000);
	dopy_error_free(e);
	cr_assert_eq(real_end(&sv), 3);
}

/* ---- call timeouts ---- */

static int
call_sleep(dopy_proxy *p, int ms, dopy_error **e)
{
	dopy_args *a = dopy_args_new();
	dopy_value *r = NULL;
	int rc;

	cr_assert_eq(dopy_args_int(a, NULL, ms), 0);
	rc = dopy_proxy_call(p, "sleep", a, &r, e);
	if (rc == 0)
		cr_assert_eq(dopy_value_get_int(r), ms);
	else
		cr_assert_null(r);
	dopy_value_free(r);
	dopy_args_free(a);
	return rc;
}

Test(conn, call_timeout, .timeout = 15)
{
	struct real sv;
	dopy_error *e = NULL;
	int64_t t0, dt;

	real_start(&sv);
	dopy_conn_set_timeout(sv.c, 2000);
	cr_assert_eq(call_sleep(sv.p, 10, &e), 0, "in time");
	dopy_conn_set_timeout(sv.c, 100);
	t0 = dopy_now_ms();
	cr_assert_eq(call_sleep(sv.p, 3000, &e), DOPY_E_TIMEOUT);
	dt = dopy_now_ms() - t0;
	cr_assert_geq(dt, 90, "gave up after %lld ms", (long long)dt);
	cr_assert_lt(dt, 2000, "gave up after %lld ms", (long long)dt);
	cr_assert_eq(dopy_error_code(e), DOPY_E_TIMEOUT);
	msg_has(e, "t.sleep");
	/* Answers are matched by id: the connection stays usable, and the
	 * late reply to the abandoned call is dropped. */
	dopy_conn_set_timeout(sv.c, 10000);
	cr_assert_eq(call_sleep(sv.p, 1, &e), 0, "%s", dopy_error_message(e));
	dopy_error_free(e);
	/* The server's late reply meets a closed socket: it ends (with
	 * status 1 for the failed write), it does not crash. */
	cr_assert_geq(real_end(&sv), 0);
}

Test(conn, proxy_timeout_overrides, .timeout = 15)
{
	struct real sv;
	dopy_proxy *slow;
	dopy_error *e = NULL;

	real_start(&sv);
	slow = dopy_proxy_new(sv.c, "t");
	dopy_conn_set_timeout(sv.c, 50);
	dopy_proxy_set_timeout(slow, 5000);
	cr_assert_eq(call_sleep(slow, 300, &e), 0, "%s",
	    dopy_error_message(e));
	/* Zero or less is "none": the connection's applies. */
	dopy_proxy_set_timeout(sv.p, -5);
	cr_assert_eq(call_sleep(sv.p, 1000, &e), DOPY_E_TIMEOUT);
	dopy_error_free(e);
	dopy_proxy_free(slow);
	/* The server's late reply meets a closed socket: it ends (with
	 * status 1 for the failed write), it does not crash. */
	cr_assert_geq(real_end(&sv), 0);
}

Test(conn, no_timeout_by_default, .timeout = 15)
{
	struct real sv;
	dopy_error *e = NULL;

	real_start(&sv);
	cr_assert_eq(call_sleep(sv.p, 500, &e), 0);
	dopy_conn_set_timeout(sv.c, 50);
	dopy_conn_set_timeout(sv.c, 0);
	cr_assert_eq(call_sleep(sv.p, 300, &e), 0);
	dopy_conn_set_timeout(NULL, 5);
	dopy_proxy_set_timeout(NULL, 5);
	cr_assert_eq(real_end(&sv), 0);
}

Test(conn, bad_arguments)
{
	dopy_value *r = (dopy_value *)1;
	dopy_error *e = NULL;

	cr_assert_eq(dopy_proxy_call(NULL, "m", NULL, &r, &e), DOPY_E_INVAL);
	cr_assert_null(r);
	cr_assert_eq(dopy_error_code(e), DOPY_E_INVAL);
	dopy_error_free(e);
	cr_assert_null(dopy_proxy_new(NULL, "x"));
	dopy_proxy_free(NULL);
	cr_assert_eq(dopy_conn_close(NULL), -1);
	cr_assert_str_eq(dopy_conn_server_version(NULL), "");
}

Test(conn, args)
{
	dopy_args *a = dopy_args_new();
	int i;

	cr_assert_eq(dopy_args_int(a, NULL, 1), 0);
	cr_assert_eq(dopy_args_string(a, "s", "x"), 0);
	/* Positional after named: refused (and the value freed). */
	cr_assert_eq(dopy_args_int(a, NULL, 2), DOPY_E_INVAL);
	cr_assert_eq(dopy_args_add(a, "v", NULL), DOPY_E_NOMEM);
	cr_assert_eq(dopy_args_bool(a, "b", 1), 0);
	cr_assert_eq(dopy_args_uint(a, "u", 1), 0);
	cr_assert_eq(dopy_args_double(a, "d", 1), 0);
	cr_assert_eq(dopy_args_bytes(a, "y", "\0", 1), 0);
	cr_assert_eq(a->n, 6);
	for (i = 6; i < DOPY_MAX_ARGS; i++)
		cr_assert_eq(dopy_args_int(a, "n", i), 0);
	cr_assert_eq(dopy_args_int(a, "over", 1), DOPY_E_INVAL);
	cr_assert_eq(dopy_args_int(NULL, "x", 1), DOPY_E_INVAL);
	dopy_args_free(a);
	dopy_args_free(NULL);
}

/* ---- fake servers ---- */

/* What a fake server does once the client's HELLO has come, on the
 * channel ch over fd; returns its exit status. */
typedef int (*fake_fn)(struct dopy_chan *ch, const void *arg, int fd);

struct fake {
	fake_fn		 run;
	const void	*arg;
};

/* The child: wait for the client's HELLO (exit 10 without one), then
 * run the fake. */
static int
fake_child(void *arg, int fd)
{
	const struct fake *fk = arg;
	struct dopy_chan ch;
	struct dopy_frame f;
	int r = 10;

	dopy_chan_init(&ch, fd, fd);
	dopy_chan_deadline(&ch, TU_WAIT_MS);
	if (dopy_chan_read(&ch, &f) == 0 && f.type == DOPY_F_HELLO)
		r = fk->run(&ch, fk->arg, fd);
	dopy_chan_release(&ch);
	return r;
}

/* Fork a fake server; *fd is our end. */
static pid_t
fake_fork(fake_fn run, const void *arg, int *fd)
{
	struct fake fk = { run, arg };
	pid_t pid;

	cr_assert_gt(pid = tu_fork(fake_child, &fk, fd), 0);
	return pid;
}

/* The server's HELLO: 0, or -1 when it cannot be sent. */
static int
fake_hello(struct dopy_chan *ch, uint32_t proto, const char *software)
{
	struct dopy_hello h = { .proto = proto, .max_frame = 65536,
	    .software = (char *)software };

	dopy_chan_begin(ch);
	if (dopy_msg_hello_put(&ch->wbuf, &h) < 0 ||
	    dopy_chan_send(ch, DOPY_F_HELLO, 0) < 0)
		return -1;
	return 0;
}

static int
fake_version2(struct dopy_chan *ch, const void *arg, int fd)
{
	char buf[16];

	(void)arg;
	if (fake_hello(ch, 2, "dopy 9.9.9") < 0)
		return 11;
	/* Wait for the client to hang up. */
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	return 0;
}

struct junk {
	const char	*p;
	size_t		 len;
};
#define JUNK(s)	{ s, sizeof(s) - 1 }

static int
fake_garbage(struct dopy_chan *ch, const void *arg, int fd)
{
	const struct junk *j = arg;

	(void)ch;
	if (tu_write_all(fd, j->p, j->len) < 0)
		return 11;
	return 0;
}

static int
fake_silent_close(struct dopy_chan *ch, const void *arg, int fd)
{
	(void)ch;
	(void)arg;
	(void)fd;
	return 0;		/* close without a word */
}

/* Answers HELLO with an ERROR, as a server that wants a key does. */
static int
fake_error(struct dopy_chan *ch, const void *arg, int fd)
{
	dopy_error *e;
	int r;

	(void)arg;
	(void)fd;
	e = dopy_error_new(DOPY_E_AUTH, "this server requires a shared key");
	dopy_error_set_fields(e, "dopy.AuthFailed", "", "", "fakehost", 1);
	dopy_chan_begin(ch);
	r = dopy_msg_error_put(&ch->wbuf, e) < 0 ||
	    dopy_chan_send(ch, DOPY_F_ERROR, 0) < 0 ? 11 : 0;
	dopy_error_free(e);
	return r;
}

/* How a fake server answers the first CALL: a frame of this type, with
 * the CALL's id plus delta (or id 0 when zero is set), and this payload. */
struct answer {
	uint8_t		 type;
	uint32_t	 delta;
	int		 zero;
	const char	*payload;
};
/* A REPLY with another id than the CALL's. */
static const struct answer wrong_id = { DOPY_F_REPLY, 1, 0, "" };
/* An ERROR with call id 0 (the connection's end) that is not an error. */
static const struct answer bad_error0 = { DOPY_F_ERROR, 0, 1, "junk" };

/* A proper HELLO, then for the first CALL the answer arg. */
static int
fake_answer(struct dopy_chan *ch, const void *arg, int fd)
{
	const struct answer *a = arg;
	struct dopy_frame f;

	(void)fd;
	if (fake_hello(ch, 1, "fake") < 0)
		return 11;
	ch->max_frame = 65536;
	if (dopy_chan_read(ch, &f) < 0 || f.type != DOPY_F_CALL)
		return 12;
	dopy_chan_begin(ch);
	if (dopy_buf_put(&ch->wbuf, a->payload, strlen(a->payload)) < 0 ||
	    dopy_chan_send(ch, a->type, a->zero ? 0 : f.id + a->delta) < 0)
		return 13;
	return 0;
}

/* A fake server's verdict on a connection attempt. */
static int
fake_connect(fake_fn run, const void *arg, dopy_error **e, pid_t *pid)
{
	dopy_conn *c = (dopy_conn *)1;
	int fd, r;

	*pid = fake_fork(run, arg, &fd);
	r = dopy_conn_fds(fd, fd, &c, e);
	if (r < 0)
		cr_assert_null(c, "a connection despite the error");
	else
		dopy_conn_close(c);
	return r;
}

/* The fake server ended well. */
static void
fake_exits_0(pid_t pid)
{
	cr_assert_eq(tu_exit_code(tu_wait(pid, TU_WAIT_MS)), 0);
}

Test(conn, server_speaks_version_2, .timeout = 15)
{
	dopy_error *e = NULL;
	char both[2][64];
	pid_t pid;

	cr_assert_eq(fake_connect(fake_version2, NULL, &e, &pid),
	    DOPY_E_VERSION);
	cr_assert_eq(dopy_error_code(e), DOPY_E_VERSION);
	snprintf(both[0], sizeof(both[0]), "client speaks %d", DOPY_PROTOCOL);
	snprintf(both[1], sizeof(both[1]), "server speaks 2");
	msg_has(e, both[0]);
	msg_has(e, both[1]);
	msg_has(e, "dopy 9.9.9");
	dopy_error_free(e);
	fake_exits_0(pid);
}

Test(conn, server_sends_garbage, .timeout = 15)
{
	static const struct junk junk[] = {
		JUNK("this is not a dopy frame at all\n"),
		JUNK("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"),
		/* A HELLO of 4 GiB, and one larger than a HELLO may be. */
		JUNK("dp\x01\x00\x00\x00\x00\x00\xff\xff\xff\xff"),
		JUNK("dp\x01\x00\x00\x00\x00\x00\x00\x00\x10\x01"),
		/* Five bytes promised, three sent, then EOF. */
		JUNK("dp\x01\x00\x00\x00\x00\x00\x00\x00\x00\x05" "abc"),
		/* Half a header, then EOF. */
		JUNK("dp\x01\x00"),
	};
	static const int want[] = { DOPY_E_PROTO, DOPY_E_PROTO, DOPY_E_TOOBIG,
	    DOPY_E_TOOBIG, DOPY_E_PROTO, DOPY_E_PROTO };
	dopy_error *e = NULL;
	pid_t pid;
	size_t i;
	int r;

	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		r = fake_connect(fake_garbage, &junk[i], &e, &pid);
		cr_assert_eq(r, want[i], "junk %zu: %d %s", i, r,
		    dopy_error_message(e));
		cr_assert_eq(dopy_error_code(e), want[i]);
		cr_assert(dopy_error_message(e)[0] != '\0');
		tu_wait(pid, TU_WAIT_MS);
	}
	dopy_error_free(e);
}

/* A well-formed frame that is not HELLO, or a HELLO that is not one. */
Test(conn, server_answers_nonsense, .timeout = 15)
{
	static const struct junk reply =
	    JUNK("dp\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00");
	static const struct junk bad_hello =
	    JUNK("dp\x01\x00\x00\x00\x00\x00\x00\x00\x00\x03" "abc");
	dopy_error *e = NULL;
	pid_t pid;

	cr_assert_eq(fake_connect(fake_garbage, &reply, &e, &pid),
	    DOPY_E_PROTO);
	msg_has(e, "REPLY");
	tu_wait(pid, TU_WAIT_MS);
	cr_assert_eq(fake_connect(fake_garbage, &bad_hello, &e, &pid),
	    DOPY_E_PROTO);
	msg_has(e, "malformed HELLO");
	tu_wait(pid, TU_WAIT_MS);
	dopy_error_free(e);
}

Test(conn, server_closes_before_hello, .timeout = 15)
{
	dopy_error *e = NULL;
	pid_t pid;

	cr_assert_eq(fake_connect(fake_silent_close, NULL, &e, &pid),
	    DOPY_E_CLOSED);
	msg_has(e, "before the server said HELLO");
	dopy_error_free(e);
	fake_exits_0(pid);
}

Test(conn, server_refuses_with_error, .timeout = 15)
{
	dopy_error *e = NULL;
	pid_t pid;

	cr_assert_eq(fake_connect(fake_error, NULL, &e, &pid), DOPY_E_AUTH);
	cr_assert_str_eq(dopy_error_name(e), "dopy.AuthFailed");
	cr_assert_str_eq(dopy_error_host(e), "fakehost");
	msg_has(e, "shared key");
	dopy_error_free(e);
	fake_exits_0(pid);
}

/* A call o.m against a fake server that answers with a: it fails with
 * DOPY_E_PROTO saying want, and the connection is closed after it. */
static void
first_call_fails(const struct answer *a, const char *want)
{
	dopy_conn *c = NULL;
	dopy_proxy *p;
	dopy_value *r = NULL;
	dopy_error *e = NULL;
	pid_t pid;
	int fd;

	pid = fake_fork(fake_answer, a, &fd);
	cr_assert_eq(dopy_conn_fds(fd, fd, &c, &e), 0);
	cr_assert_str_eq(dopy_conn_server_version(c), "fake");
	p = dopy_proxy_new(c, "o");
	cr_assert_eq(dopy_proxy_call(p, "m", NULL, &r, &e), DOPY_E_PROTO);
	msg_has(e, want);
	cr_assert_eq(dopy_proxy_call(p, "m", NULL, &r, &e), DOPY_E_CLOSED);
	dopy_error_free(e);
	dopy_proxy_free(p);
	dopy_conn_close(c);
	fake_exits_0(pid);
}

Test(conn, reply_with_wrong_id, .timeout = 15)
{
	first_call_fails(&wrong_id, "never sent");
}

/* The malformed error is what the caller learns (it leaked before,
 * and the caller got a bare "connection lost"). */
Test(conn, malformed_fatal_error, .timeout = 15)
{
	first_call_fails(&bad_error0, "malformed ERROR frame");
}

/* ---- spawning ---- */

Test(conn, spawn_command_not_found, .timeout = 15)
{
	dopy_conn *c = (dopy_conn *)1;
	dopy_error *e = NULL;

	cr_assert_eq(dopy_conn_spawn("exec 2>/dev/null; "
	    "/nonexistent/dopy-no-such-server", &c, &e), DOPY_E_SPAWN);
	cr_assert_null(c);
	cr_assert_eq(dopy_error_code(e), DOPY_E_SPAWN);
	msg_has(e, "command not found");
	msg_has(e, "127");
	msg_has(e, "dopy-no-such-server");
	dopy_error_free(e);
}

Test(conn, spawn_exit_status, .timeout = 15)
{
	dopy_conn *c = NULL;
	dopy_error *e = NULL;

	cr_assert_eq(dopy_conn_spawn("exit 3", &c, &e), DOPY_E_SPAWN);
	msg_has(e, "exited with status 3");
	cr_assert_null(strstr(dopy_error_message(e), "not found"));
	dopy_error_free(e);
	e = NULL;
	cr_assert_eq(dopy_conn_spawn("kill -9 $$", &c, &e), DOPY_E_SPAWN);
	msg_has(e, "killed by signal 9");
	dopy_error_free(e);
}

Test(conn, spawn_not_a_server, .timeout = 15)
{
	dopy_conn *c = NULL;
	dopy_error *e = NULL;
	int r;

	/* Talks, but not dopy. */
	cr_assert_eq(dopy_conn_spawn("echo hello there, how are you; "
	    "cat >/dev/null", &c, &e), DOPY_E_PROTO);
	cr_assert_null(c);
	dopy_error_free(e);
	e = NULL;
	/* Gone before or after our HELLO: half a header, or an exit. */
	r = dopy_conn_spawn("echo hi", &c, &e);
	cr_assert(r == DOPY_E_PROTO || r == DOPY_E_SPAWN, "%d: %s", r,
	    dopy_error_message(e));
	cr_assert_null(c);
	dopy_error_free(e);
}

/*
 * A command that writes less than a frame header and stays open (a
 * banner from a login shell, a wedged ssh): the client must give up on
 * HELLO, as the server does (its handshake deadline is 20 s), not wait
 * for ever.  Nor may giving up wait for the command to exit of its own
 * accord (it outlives this test's time limit).
 */
Test(conn, spawn_silent_server_gives_up, .timeout = 40)
{
	dopy_conn *c = NULL;
	dopy_error *e = NULL;
	int r;

	alarm(35);		/* criterion's timeout is not always kept */
	r = dopy_conn_spawn("printf hi; exec sleep 45", &c, &e);
	cr_assert_lt(r, 0);
	cr_assert_null(c);
	dopy_error_free(e);
}

Test(conn, spawn_empty_command)
{
	dopy_conn *c = NULL;
	dopy_error *e = NULL;

	cr_assert_eq(dopy_conn_spawn("", &c, &e), DOPY_E_INVAL);
	cr_assert_eq(dopy_conn_spawn(NULL, &c, &e), DOPY_E_INVAL);
	dopy_error_free(e);
}
