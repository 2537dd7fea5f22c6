/*
 * e2e_stub.c - the run-time half of generated code against the real
 * dopyd: the `stub` object (bin/testobj_stub.c, written by hand the way
 * dopy-idl(1)'s trampolines are) called by the dynamic client and by
 * stub calls (dopy_stub_call with hand-written put and get), stub calls
 * of the hand-written `test` object, named arguments and defaults,
 * oneway and asynchronous stub calls, a pos class in stub mode (served
 * in this process), a reply
 * a stub cannot read (from a fake server), and the interface texts
 * (dopy.interface, dopy_interface, dopy-rsh --interface).
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "e2e_util.h"

static dopy_proxy *
stub_proxy(const char *object)
{
	dopy_proxy *p = dopy_proxy_new(e2e_dopyd_conn(NULL), object);

	cr_assert_not_null(p);
	return p;
}

static void
proxy_done(dopy_proxy *p)
{
	dopy_conn *c = dopy_proxy_conn(p);

	dopy_proxy_free(p);
	dopy_conn_close(c);
}

/* ---- the dynamic client against a generated object ---- */

/* A call that must succeed; its result's text (malloc'd). */
static char *
dyn(dopy_proxy *p, const char *method, const char *const *names,
    const char *const *types, const char *const *texts, size_t n)
{
	dopy_args *a = dopy_args_new();
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	char *s;
	size_t i;

	for (i = 0; i < n; i++)
		cr_assert_eq(dopy_args_add(a, names ? names[i] : NULL,
		    e2e_value(types[i], texts[i])), 0);
	cr_assert_eq(dopy_proxy_call(p, method, a, &v, &e), 0, "%s: %s",
	    method, dopy_error_message(e));
	dopy_args_free(a);
	s = v != NULL ? dopy_value_format(v) : strdup("(none)");
	dopy_value_free(v);
	return s;
}

static void
dyn_is(dopy_proxy *p, const char *method, const char *type,
    const char *text, const char *want)
{
	const char *types[1] = { type }, *texts[1] = { text };
	char *s = dyn(p, method, NULL, types, texts, type != NULL);

	cr_assert_str_eq(s, want, "%s(%s)", method, text);
	free(s);
}

/* A call that must fail with the remote error name. */
static void
dyn_fails(dopy_proxy *p, const char *method, dopy_args *a, const char *name)
{
	dopy_value *v = NULL;
	dopy_error *e = NULL;

	cr_assert_lt(dopy_proxy_call(p, method, a, &v, &e), 0, "%s", method);
	cr_assert_str_eq(dopy_error_name(e), name, "%s: %s", method,
	    dopy_error_message(e));
	dopy_error_free(e);
	dopy_args_free(a);
}

Test(stub, dynamic_client, .timeout = 20)
{
	dopy_proxy *p = stub_proxy("stub");
	const char *names[2] = { "b", "a" }, *ints[2] = { "int", "int" },
	    *texts[2] = { "5", "1" }, *gn[2] = { "greeting", "name" },
	    *gs[2] = { "string", "string" }, *gt[2] = { "Hi", "Bob" };
	dopy_args *a;
	char *s;

	s = dyn(p, "add", NULL, ints, texts, 2);
	cr_assert_str_eq(s, "6");
	free(s);
	s = dyn(p, "add", names, ints, texts, 2);
	cr_assert_str_eq(s, "6");
	free(s);
	dyn_is(p, "greet", "string", "World", "Hello, World!");
	s = dyn(p, "greet", gn, gs, gt, 2);
	cr_assert_str_eq(s, "Hi, Bob!");
	free(s);
	dyn_is(p, "echo", "string", "h\xc3\xa9", "h\xc3\xa9");
	dyn_is(p, "grid", "int[][]", "[[1, 2], [], [3]]",
	    "[[3], [], [1, 2]]");
	dyn_is(p, "recs", "(x:int,name:string)[]", "[(1, a), (2, bb)]",
	    "[(2, \"a\"), (4, \"bb\")]");
	dyn_is(p, "anyv", "(int,string)", "(1, x)", "(1, \"x\")");
	dyn_is(p, "dynamic", NULL, NULL, "7");

	a = dopy_args_new();
	dopy_args_int(a, NULL, 1);
	dyn_fails(p, "add", a, "dopy.ArgumentError");	/* b missing */
	a = dopy_args_new();
	dopy_args_string(a, NULL, "1");
	dopy_args_int(a, NULL, 1);
	dyn_fails(p, "add", a, "dopy.TypeError");
	a = dopy_args_new();
	dopy_args_int(a, NULL, 1);
	dopy_args_int(a, "a", 1);
	dyn_fails(p, "add", a, "dopy.ArgumentError");	/* a twice */
	a = dopy_args_new();
	dopy_args_add(a, NULL, dopy_value_ref(9));
	dyn_fails(p, "same", a, "dopy.UnknownReference");
	dyn_fails(p, "oops", NULL, "stub.Oops");
	dyn_fails(p, "wrong", NULL, "dopy.ResultError");
	proxy_done(p);
}

/* ---- stub calls, put and get written by hand ---- */

struct two {
	int64_t	a, b;
};

static void
put_two(dopy_out *o, const void *arg)
{
	const struct two *t = arg;

	dopy_out_begin(o, "I");
	dopy_out_int(o, t->a);
	dopy_out_end(o);
	dopy_out_begin(o, "I");
	dopy_out_int(o, t->b);
	dopy_out_end(o);
}

static void
get_int(dopy_in *in, void *res)
{
	dopy_in_begin(in, "I");
	*(int64_t *)res = dopy_in_int(in);
	dopy_in_end(in);
}

static void
put_string(dopy_out *o, const void *arg)
{
	dopy_out_begin(o, "s");
	dopy_out_string(o, arg);
	dopy_out_end(o);
}

static void
get_string(dopy_in *in, void *res)
{
	dopy_in_begin(in, "s");
	*(char **)res = dopy_in_string(in);
	dopy_in_end(in);
}

static int64_t
stub_add(dopy_proxy *p, int64_t a, int64_t b)
{
	struct two t = { a, b };
	dopy_error *e = NULL;
	int64_t sum = -1;

	cr_assert_eq(dopy_stub_call(p, "add", 2, put_two, &t, get_int, &sum,
	    &e), 0, "%s", dopy_error_message(e));
	return sum;
}

struct blob {
	const void	*p;
	size_t		 len;
};

static void
put_bytes(dopy_out *o, const void *arg)
{
	const struct blob *b = arg;

	dopy_out_begin(o, "B");
	dopy_out_bytes(o, b->p, b->len);
	dopy_out_end(o);
}

static void
get_bytes(dopy_in *in, void *res)
{
	struct blob *b = res;

	dopy_in_begin(in, "B");
	b->p = dopy_in_bytes(in, &b->len);
	dopy_in_end(in);
}

struct ints {
	int64_t	*v;
	size_t	 n;
};
struct grid {
	struct ints	*rows;
	size_t		 n;
};

static void
put_grid(dopy_out *o, const void *arg)
{
	const struct grid *g = arg;
	size_t i, j;

	dopy_out_begin(o, "A(A(I))");
	dopy_out_count(o, g->n);
	for (i = 0; i < g->n; i++) {
		dopy_out_count(o, g->rows[i].n);
		for (j = 0; j < g->rows[i].n; j++)
			dopy_out_int(o, g->rows[i].v[j]);
	}
	dopy_out_end(o);
}

static void
get_grid(dopy_in *in, void *res)
{
	struct grid *g = res;
	size_t i, j;

	dopy_in_begin(in, "A(A(I))");
	g->rows = dopy_in_array(in, &g->n, sizeof(*g->rows));
	for (i = 0; i < g->n; i++) {
		g->rows[i].v = dopy_in_array(in, &g->rows[i].n,
		    sizeof(int64_t));
		for (j = 0; j < g->rows[i].n; j++)
			g->rows[i].v[j] = dopy_in_int(in);
	}
	dopy_in_end(in);
}

struct rec {
	int64_t	 x;
	char	*name;
};
struct recs {
	struct rec	*r;
	size_t		 n;
};

static void
put_recs(dopy_out *o, const void *arg)
{
	const struct recs *rs = arg;
	size_t i;

	dopy_out_begin(o, "A(S(Is))");
	dopy_out_count(o, rs->n);
	for (i = 0; i < rs->n; i++) {
		dopy_out_int(o, rs->r[i].x);
		dopy_out_string(o, rs->r[i].name);
	}
	dopy_out_end(o);
}

static void
get_recs(dopy_in *in, void *res)
{
	struct recs *rs = res;
	size_t i;

	dopy_in_begin(in, "A(S(Is))");
	rs->r = dopy_in_array(in, &rs->n, sizeof(*rs->r));
	for (i = 0; i < rs->n; i++) {
		rs->r[i].x = dopy_in_int(in);
		rs->r[i].name = dopy_in_string(in);
	}
	dopy_in_end(in);
}

Test(stub, stub_client, .timeout = 20)
{
	dopy_proxy *p = stub_proxy("stub");
	int64_t r0[2] = { 1, 2 }, r2[1] = { 3 };
	struct ints rows[3] = { { r0, 2 }, { NULL, 0 }, { r2, 1 } };
	struct grid g = { rows, 3 }, gback = { NULL, 0 };
	struct rec rv[2] = { { 1, "a" }, { -2, "" } };
	struct recs rs = { rv, 2 }, rback = { NULL, 0 };
	struct blob b = { "a\0b", 3 }, bback = { NULL, 0 };
	dopy_error *e = NULL;
	char *s = NULL;
	size_t i;

	cr_assert_eq(stub_add(p, 40, 2), 42);
	cr_assert_eq(dopy_stub_call(p, "echo", 1, put_string, "h\xc3\xa9",
	    get_string, &s, &e), 0, "%s", dopy_error_message(e));
	cr_assert_str_eq(s, "h\xc3\xa9");
	free(s);
	/* One argument of two: the other's default, filled in there. */
	cr_assert_eq(dopy_stub_call(p, "greet", 1, put_string, "You",
	    get_string, &s, &e), 0, "%s", dopy_error_message(e));
	cr_assert_str_eq(s, "Hello, You!");
	free(s);
	cr_assert_eq(dopy_stub_call(p, "echob", 1, put_bytes, &b, get_bytes,
	    &bback, &e), 0, "%s", dopy_error_message(e));
	cr_assert_eq(bback.len, 3);
	cr_assert(memcmp(bback.p, "a\0b", 4) == 0);
	free((void *)bback.p);
	cr_assert_eq(dopy_stub_call(p, "grid", 1, put_grid, &g, get_grid,
	    &gback, &e), 0, "%s", dopy_error_message(e));
	cr_assert_eq(gback.n, 3);
	cr_assert_eq(gback.rows[0].n, 1);
	cr_assert_eq(gback.rows[0].v[0], 3);
	cr_assert_eq(gback.rows[1].n, 0);
	cr_assert_eq(gback.rows[2].v[1], 2);
	for (i = 0; i < gback.n; i++)
		free(gback.rows[i].v);
	free(gback.rows);
	cr_assert_eq(dopy_stub_call(p, "recs", 1, put_recs, &rs, get_recs,
	    &rback, &e), 0, "%s", dopy_error_message(e));
	cr_assert_eq(rback.n, 2);
	cr_assert_eq(rback.r[1].x, -4);
	cr_assert_str_eq(rback.r[0].name, "a");
	cr_assert_str_eq(rback.r[1].name, "");
	for (i = 0; i < rback.n; i++)
		free(rback.r[i].name);
	free(rback.r);

	/* A raise comes back as the error, named. */
	cr_assert_eq(dopy_stub_call(p, "oops", 0, NULL, NULL, NULL, NULL, &e),
	    DOPY_E_REMOTE);
	cr_assert_str_eq(dopy_error_name(e), "stub.Oops");
	/* A result the stub does not read is dropped. */
	cr_assert_eq(dopy_stub_call(p, "notes", 0, NULL, NULL, NULL, NULL,
	    &e), 0, "%s", dopy_error_message(e));
	/* A put that writes too few images is refused before sending. */
	cr_assert_eq(dopy_stub_call(p, "add", 3, put_two, &(struct two){ 1,
	    2 }, get_int, &(int64_t){ 0 }, &e), DOPY_E_INVAL);
	dopy_error_free(e);
	proxy_done(p);
}

Test(stub, stub_client_hand_written_object, .timeout = 20)
{
	dopy_proxy *p = stub_proxy("test");
	dopy_error *e = NULL;
	int64_t r = 0;

	cr_assert_eq(stub_add(p, 2, 3), 5);
	cr_assert_eq(stub_add(p, -7, INT64_MAX), INT64_MAX - 7);
	/* A wrong type is the server's dopy.TypeError, as for any client. */
	cr_assert_eq(dopy_stub_call(p, "add", 2, put_two, &(struct two){ 1,
	    2 }, get_string, &r, &e), DOPY_E_PROTO);
	cr_assert(strstr(dopy_error_message(e), "malformed REPLY") != NULL,
	    "%s", dopy_error_message(e));
	dopy_error_free(e);
	e = NULL;
	cr_assert_lt(dopy_stub_call(p, "add", 1, put_string, "x", get_int,
	    &r, &e), 0);
	cr_assert_str_eq(dopy_error_name(e), "dopy.TypeError");
	dopy_error_free(e);
	proxy_done(p);
}

Test(stub, oneway, .timeout = 20)
{
	dopy_proxy *p = stub_proxy("stub");
	dopy_error *e = NULL;
	int64_t n = -1;
	int i;

	for (i = 0; i < 3; i++)
		cr_assert_eq(dopy_stub_oneway(p, "note", 1, put_string, "hi",
		    &e), 0, "%s", dopy_error_message(e));
	/* A plain call of a method the server declared oneway: answered
	 * at once, before it runs. */
	cr_assert_eq(dopy_stub_call(p, "note", 1, put_string, "hi", NULL,
	    NULL, &e), 0, "%s", dopy_error_message(e));
	/* As the proxy says: oneway from dopy_stub_call too. */
	cr_assert_eq(dopy_proxy_set_oneway(p, "note", 1), 0);
	cr_assert_eq(dopy_stub_call(p, "note", 1, put_string, "hi", NULL,
	    NULL, &e), 0, "%s", dopy_error_message(e));
	/* Calls run in order: the notes are counted before this. */
	cr_assert_eq(dopy_stub_call(p, "notes", 0, NULL, NULL, get_int, &n,
	    &e), 0, "%s", dopy_error_message(e));
	cr_assert_eq(n, 5);
	proxy_done(p);
}

Test(stub, async, .timeout = 20)
{
	dopy_proxy *p = stub_proxy("stub");
	struct two t[8];
	int64_t sum[8];
	dopy_future *f[8];
	dopy_error *e = NULL;
	int i;

	for (i = 0; i < 8; i++) {
		t[i] = (struct two){ i, 100 };
		cr_assert_eq(dopy_stub_call_async(p, "add", 2, put_two, &t[i],
		    get_int, &sum[i], NULL, NULL, &f[i], &e), 0, "%s",
		    dopy_error_message(e));
	}
	/* Waited for in reverse: answers are matched by id. */
	for (i = 8; i-- > 0; ) {
		cr_assert_eq(dopy_future_wait(f[i], NULL, &e), 0, "%s",
		    dopy_error_message(e));
		cr_assert_eq(sum[i], 100 + i);
		dopy_future_free(f[i]);
	}
	/* A future freed unwaited: its answer is read into nothing. */
	cr_assert_eq(dopy_stub_call_async(p, "add", 2, put_two, &t[0],
	    get_int, &sum[0], NULL, NULL, &f[0], &e), 0);
	dopy_future_free(f[0]);
	cr_assert_eq(stub_add(p, 1, 1), 2);
	proxy_done(p);
}

/* A persistent class in stub mode, served here: the pos route
 * dispatches it with the class's object. */
static int
count_add(dopy_call *c)
{
	dopy_in *in = dopy_call_in(c);
	dopy_out *out = dopy_call_out(c);
	int64_t by, n;

	dopy_in_begin(in, "I");
	by = dopy_in_int(in);
	dopy_in_end(in);
	if (dopy_in_error(in) != 0)
		return -1;
	n = dopy_value_get_int(dopy_call_pstate(c)) + by;
	if (dopy_call_set_pstate(c, dopy_value_int(n)) < 0)
		return -1;
	dopy_out_begin(out, "I");
	dopy_out_int(out, n);
	dopy_out_end(out);
	return 0;
}

static const struct dopy_method count_methods[] = {
	{ "add", count_add, "by:int = 1", "int", "Count by; the sum." },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_pclass count_class = {
	"stubcount", "A counter, generated.", "int", count_methods, NULL,
	NULL, NULL, NULL
};

static void *
serve_thread(void *arg)
{
	void **a = arg;

	dopy_server_serve(a[0], *(int *)a[1], *(int *)a[1]);
	return NULL;
}

Test(stub, pos_class, .timeout = 20)
{
	dopy_server *s = dopy_server_new();
	dopy_conn *c = NULL;
	dopy_error *e = NULL;
	dopy_proxy *pos, *obj;
	dopy_args *a;
	pthread_t th;
	void *targ[2];
	int64_t n = 0;
	int sv[2];

	cr_assert_not_null(s);
	cr_assert_eq(dopy_server_add_pclass(s, &count_class), 0);
	cr_assert_eq(dopy_server_add_pos(s, e2e_tmpdir()), 0, "%s",
	    dopy_server_errmsg(s));
	cr_assert_eq(dopy_server_set_stub(s, "stubcount", NULL), 0, "%s",
	    dopy_server_errmsg(s));
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	targ[0] = s;
	targ[1] = &sv[1];
	cr_assert_eq(pthread_create(&th, NULL, serve_thread, targ), 0);
	cr_assert_eq(dopy_conn_fds(sv[0], sv[0], &c, &e), 0, "%s",
	    dopy_error_message(e));
	pos = dopy_proxy_new(c, "pos");
	a = dopy_args_new();
	dopy_args_string(a, NULL, "sc");
	dopy_args_string(a, NULL, "stubcount");
	cr_assert_eq(dopy_proxy_call(pos, "create", a, NULL, &e), 0, "%s",
	    dopy_error_message(e));
	dopy_args_free(a);
	obj = dopy_proxy_new(c, "pos/sc");
	/* No argument: the default 1. */
	cr_assert_eq(dopy_stub_call(obj, "add", 0, NULL, NULL, get_int, &n,
	    &e), 0, "%s", dopy_error_message(e));
	cr_assert_eq(n, 1);
	a = dopy_args_new();
	dopy_args_int(a, "by", 41);
	cr_assert_eq(dopy_proxy_call(obj, "add", a, NULL, &e), 0, "%s",
	    dopy_error_message(e));
	dopy_args_free(a);
	cr_assert_eq(dopy_stub_call(obj, "add", 0, NULL, NULL, get_int, &n,
	    &e), 0, "%s", dopy_error_message(e));
	cr_assert_eq(n, 43);
	dopy_proxy_free(obj);
	dopy_proxy_free(pos);
	dopy_conn_close(c);
	pthread_join(th, NULL);
	close(sv[1]);
	dopy_server_free(s);
}

/* ---- a reply a stub cannot read, from a fake server ---- */

static void
send_frame(int fd, uint8_t type, uint32_t id, const struct dopy_buf *pl)
{
	uint8_t hdr[DOPY_HDR_LEN];

	dopy_frame_encode(hdr, type, id, (uint32_t)pl->len);
	if (write(fd, hdr, sizeof(hdr)) != sizeof(hdr) ||
	    (pl->len > 0 && write(fd, pl->data, pl->len) != (ssize_t)pl->len))
		_exit(1);
}

static void
put_value(struct dopy_buf *b, dopy_value *v)
{
	dopy_encode(v, b);
	dopy_value_free(v);
}

/* Answers HELLO, then each CALL with the next of these replies. */
static void *
fake_server(void *arg)
{
	int fd = *(int *)arg;
	struct dopy_hello h = { .proto = DOPY_PROTOCOL, .max_frame = 1 << 20,
	    .software = "fake" };
	struct e2e_frame f;
	struct dopy_buf pl;
	int k = 0;

	dopy_buf_init(&pl);
	while (e2e_read_frame(fd, &f, 10000) == 1) {
		dopy_buf_reset(&pl);
		if (f.type == DOPY_F_HELLO) {
			dopy_msg_hello_put(&pl, &h);
			send_frame(fd, DOPY_F_HELLO, 0, &pl);
		} else {
			switch (k++) {
			case 0:		/* a string for an int */
				put_value(&pl, dopy_value_string("x"));
				break;
			case 1:		/* two ints for one */
				put_value(&pl, dopy_value_int(1));
				put_value(&pl, dopy_value_int(2));
				break;
			case 2:		/* nothing for an int */
				break;
			case 3:		/* not an image at all */
				dopy_buf_put(&pl, "junk", 4);
				break;
			default:	/* good */
				put_value(&pl, dopy_value_int(42));
				break;
			}
			send_frame(fd, DOPY_F_REPLY, f.id, &pl);
		}
		free(f.payload);
	}
	dopy_buf_release(&pl);
	return NULL;
}

Test(stub, malformed_reply, .timeout = 20)
{
	const char *why[] = { "expected int, got string", "1 value more",
	    "no value", "not a tpl image" };
	dopy_conn *c = NULL;
	dopy_error *e = NULL;
	dopy_proxy *p;
	pthread_t th;
	int sv[2], i;
	int64_t n;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	cr_assert_eq(pthread_create(&th, NULL, fake_server, &sv[1]), 0);
	cr_assert_eq(dopy_conn_fds(sv[0], sv[0], &c, &e), 0, "%s",
	    dopy_error_message(e));
	p = dopy_proxy_new(c, "x");
	for (i = 0; i < 4; i++) {
		n = -1;
		cr_assert_eq(dopy_stub_call(p, "m", 0, NULL, NULL, get_int, &n,
		    &e), DOPY_E_PROTO, "reply %d", i);
		cr_assert(strstr(dopy_error_message(e), "malformed REPLY: ") &&
		    strstr(dopy_error_message(e), why[i]), "reply %d: %s", i,
		    dopy_error_message(e));
	}
	/* The connection is still good. */
	cr_assert_eq(dopy_stub_call(p, "m", 0, NULL, NULL, get_int, &n, &e),
	    0, "%s", dopy_error_message(e));
	cr_assert_eq(n, 42);
	dopy_error_free(e);
	dopy_proxy_free(p);
	dopy_conn_close(c);
	shutdown(sv[1], SHUT_RDWR);
	pthread_join(th, NULL);
	close(sv[1]);
}

/* ---- interface texts ---- */

static char *
iface(dopy_conn *c, const char *object)
{
	dopy_error *e = NULL;
	char *text = NULL;

	cr_assert_eq(dopy_interface(c, object, &text, &e), 0, "%s: %s", object,
	    dopy_error_message(e));
	return text;
}

Test(stub, interface_texts, .timeout = 20)
{
	dopy_conn *c = e2e_dopyd_conn(NULL);
	dopy_proxy *f = dopy_proxy_new(c, "factory");
	dopy_value *ref = NULL;
	dopy_error *e = NULL;
	char *t, key[32];

	/* A generated object's: the text it was registered with. */
	t = iface(c, "stub");
	cr_assert_str_eq(t, "## A generated object, written by hand.\n"
	    "object stub {\n\terror Oops;\n\tadd(a: int, b: int) -> int;\n}\n");
	free(t);
	/* A hand-written one's, from its table, in the canonical form. */
	t = iface(c, "test");
	cr_assert(strncmp(t, "## Methods for trying dopy out and for its "
	    "tests.\nobject test {\n\t## Add two integers.\n\tadd(a: int, "
	    "b: int) -> int;\n", 96) == 0, "%s", t);
	cr_assert_not_null(strstr(t, "\tgreet(name: string, greeting: string "
	    "= \"Hello\") -> string;\n"), "%s", t);
	cr_assert_not_null(strstr(t, "\toneway notify(ms: int, fail: bool = "
	    "false);\n"), "%s", t);
	cr_assert_not_null(strstr(t, "\tfail(message: string);\n"), "%s", t);
	cr_assert_str_eq(t + strlen(t) - 2, "}\n");
	free(t);
	t = iface(c, "thermo");
	cr_assert_not_null(strstr(t, "\t## The temperature wanted.\n\tattr "
	    "writable setpoint: int;\n"), "%s", t);
	cr_assert_not_null(strstr(t, "\tattr temp: double;\n"), "%s", t);
	cr_assert_null(strstr(t, "get:"), "%s", t);
	free(t);
	/* A class, by name. */
	t = iface(c, "counter");
	cr_assert_str_eq(t, "## A persistent counter.\nclass counter {\n"
	    "\tstate: int;\n\t## Add by to the counter and return the new "
	    "value.\n\tincr(by: int = 1) -> int;\n\t## The counter's value.\n"
	    "\treadonly get() -> int;\n}\n");
	free(t);
	/* An object by reference. */
	cr_assert_eq(dopy_proxy_call(f, "counter", NULL, &ref, &e), 0);
	snprintf(key, sizeof(key), "@%u", dopy_value_get_ref(ref));
	t = iface(c, key);
	cr_assert_not_null(strstr(t, "\tincr() -> int;\n"), "%s", t);
	free(t);
	dopy_value_free(ref);
	cr_assert_lt(dopy_interface(c, "nothere", &t, &e), 0);
	cr_assert_null(t);
	cr_assert_str_eq(dopy_error_name(e), "dopy.UnknownObject");
	dopy_error_free(e);
	dopy_proxy_free(f);
	dopy_conn_close(c);
}

Test(stub, rsh_interface, .timeout = 20)
{
	char *a1[] = { (char *)e2e_bin("dopy-rsh"), (char *)e2e_bin("dopyd"),
	    "stub", "--interface", NULL };
	char *a2[] = { (char *)e2e_bin("dopy-rsh"), "--interface",
	    (char *)e2e_bin("dopyd"), "stub", NULL };
	char *a3[] = { (char *)e2e_bin("dopy-rsh"), (char *)e2e_bin("dopyd"),
	    "--interface", NULL };
	const char *want = "## A generated object, written by hand.\n"
	    "object stub {\n\terror Oops;\n\tadd(a: int, b: int) -> int;\n}\n";

	e2e_run_expect(a1, 0, want, NULL);
	e2e_run_expect(a2, 0, want, NULL);
	e2e_run_expect(a3, 2, "", "--interface needs an object");
}
