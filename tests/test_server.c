/*
 * test_server.c - lib/server.c, lib/dispatch.c, lib/introspect.c and the
 * frame-level behaviour of lib/serve.c: registration, argument binding,
 * hooks, result checks, introspection, and a served connection spoken
 * to frame by frame.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "testutil.h"

/* ---- a test object ---- */

struct calc_state {
	int	calls;		/* methods run */
	int	before;		/* before-hook runs */
	int	after;		/* after-hook runs */
	int	refuse;		/* before-hook raises */
	int	after_fails;	/* after-hook raises */
	int	after_saw_err;	/* the after-hook saw the reply's error */
};

static int
c_add(dopy_call *c)
{
	struct calc_state *st = dopy_call_state(c);

	st->calls++;
	return dopy_return_int(c, dopy_call_int(c, 0) + dopy_call_int(c, 1));
}

static int
c_greet(dopy_call *c)
{
	char buf[200];

	snprintf(buf, sizeof(buf), "%s, %s", dopy_call_string(c, 1),
	    dopy_call_string(c, 0));
	return dopy_return_string(c, buf);
}

static int
c_wrongtype(dopy_call *c)
{
	return dopy_return_string(c, "not an int");
}

static int
c_noresult(dopy_call *c)
{
	(void)c;
	return 0;
}

static int
c_silent(dopy_call *c)
{
	(void)c;
	return -1;
}

static void
deeper(dopy_call *c)
{
	dopy_trace(c);
}

static int
c_boom(dopy_call *c)
{
	int r = dopy_raise(c, "calc.Boom", "boom: %s", dopy_call_string(c, 0));

	deeper(c);
	return r;
}

/* Raise, then also set a result: the error wins. */
static int
c_both(dopy_call *c)
{
	dopy_return_int(c, 5);
	return dopy_raise(c, NULL, "both");
}

static int
c_void(dopy_call *c)
{
	struct calc_state *st = dopy_call_state(c);

	st->calls++;
	return dopy_return_int(c, 1);	/* no result declared: dropped */
}

/* Every accessor, checked inside the method. */
static int
c_kinds(dopy_call *c)
{
	size_t len;
	const void *p;

	if (dopy_call_argc(c) != 6)
		return dopy_raise(c, "calc.Bad", "argc %zu",
		    dopy_call_argc(c));
	if (dopy_call_bool(c, 0) != 1 || dopy_call_int(c, 1) != -3 ||
	    dopy_call_uint(c, 2) != 3 || dopy_call_double(c, 3) != 0.5)
		return dopy_raise(c, "calc.Bad", "scalars");
	if (strcmp(dopy_call_string(c, 4), "s") != 0)
		return dopy_raise(c, "calc.Bad", "string");
	p = dopy_call_bytes(c, 5, &len);
	if (len != 2 || memcmp(p, "\0\1", 2) != 0)
		return dopy_raise(c, "calc.Bad", "bytes");
	if (dopy_call_arg(c, 6) != NULL || dopy_call_string(c, 0) != NULL)
		return dopy_raise(c, "calc.Bad", "out of range");
	if (strcmp(dopy_call_object(c), "calc") != 0 ||
	    strcmp(dopy_call_method(c), "kinds") != 0)
		return dopy_raise(c, "calc.Bad", "names");
	if (strcmp(dopy_call_transport(c), "pipe") != 0 ||
	    dopy_call_peer_uid(c) != -1 || dopy_call_authenticated(c))
		return dopy_raise(c, "calc.Bad", "peer");
	return dopy_return_bool(c, 1);
}

static int
c_sum(dopy_call *c)
{
	const dopy_value *a = dopy_call_arg(c, 0);
	int64_t sum = 0;
	size_t i;

	for (i = 0; i < dopy_value_len(a); i++)
		sum += dopy_value_get_int(dopy_value_at(a, i));
	return dopy_return_int(c, sum);
}

/* Ends the serving process in the middle of a call. */
static int
c_die(dopy_call *c)
{
	(void)c;
	_exit(7);
}

static int
c_big(dopy_call *c)
{
	size_t n = (size_t)dopy_call_uint(c, 0);
	char *p = malloc(n + 1);
	int r;

	if (p == NULL)
		return dopy_raise(c, "calc.NoMem", "no memory");
	memset(p, 'b', n);
	r = dopy_return_bytes(c, p, n);
	free(p);
	return r;
}

/* Whatever came, back again. */
static int
c_same(dopy_call *c)
{
	return dopy_call_return(c, dopy_value_copy(dopy_call_arg(c, 0)));
}

static int
calc_before(dopy_call *c)
{
	struct calc_state *st = dopy_call_state(c);

	st->before++;
	if (st->refuse)
		return dopy_raise(c, "calc.Refused", "not now (%s)",
		    dopy_call_method(c));
	return 0;
}

static int
calc_after(dopy_call *c)
{
	struct calc_state *st = dopy_call_state(c);

	st->after++;
	if (c->err != NULL)
		st->after_saw_err = 1;
	if (st->after_fails)
		return dopy_raise(c, "calc.AfterFailed", "after hook");
	return 0;
}

static const struct dopy_method calc_methods[] = {
	{ "add", c_add, "a:int, b:int", "int", "Add." },
	{ "greet", c_greet, "name:string, greeting:string=Hello", "string",
	    "Greet." },
	{ "wrongtype", c_wrongtype, "", "int", NULL },
	{ "noresult", c_noresult, "", "int", NULL },
	{ "silent", c_silent, "", "int", NULL },
	{ "boom", c_boom, "msg:string", NULL, "Raise." },
	{ "both", c_both, "", "int", NULL },
	{ "void", c_void, "", NULL, NULL },
	{ "kinds", c_kinds, "b:bool, i:int, u:uint, d:double, s:string, "
	    "x:bytes", "bool", NULL },
	{ "sum", c_sum, "xs:int[]", "int", NULL },
	{ "die", c_die, "", NULL, NULL },
	{ "big", c_big, "n:uint", "bytes", NULL },
	{ "same", c_same, "x:any=5", "any", NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_object_def calc_def = {
	"calc", "A calculator for tests.", calc_methods, NULL, NULL
};

static const struct dopy_object_def hooked_def = {
	"hooked", "With hooks.", calc_methods, calc_before, calc_after
};

static dopy_server *
calc_server(struct calc_state *st)
{
	dopy_server *s = tu_server();

	cr_assert_not_null(s);
	memset(st, 0, sizeof(*st));
	cr_assert_eq(dopy_server_add(s, &calc_def, st), 0, "%s",
	    dopy_server_errmsg(s));
	cr_assert_eq(dopy_server_add(s, &hooked_def, st), 0, "%s",
	    dopy_server_errmsg(s));
	return s;
}

/* ---- calling dopy_dispatch with a real CALL payload ---- */

struct call {
	struct dopy_buf		buf;	/* the payload the images point into */
	struct dopy_callmsg	msg;
	dopy_call		c;
};

/* names[i] NULL or "" is positional; takes the values. */
static void
dispatch(dopy_server *s, struct call *k, const char *obj, const char *meth,
    const char *const *names, dopy_value **args, size_t n)
{
	const char *nm[DOPY_MAX_ARGS + 1];
	char err[200] = "";
	size_t i;

	dopy_buf_init(&k->buf);
	for (i = 0; i < n; i++)
		nm[i] = names != NULL && names[i] != NULL ? names[i] : "";
	cr_assert_eq(dopy_msg_call_put(&k->buf, obj, meth, nm, n), 0);
	for (i = 0; i < n; i++) {
		cr_assert_eq(dopy_encode(args[i], &k->buf), 0);
		dopy_value_free(args[i]);
	}
	cr_assert_eq(dopy_msg_call_get(k->buf.data, k->buf.len, &k->msg, err,
	    sizeof(err)), 0, "%s", err);
	dopy_dispatch(s, &k->msg, &k->c);
}

static void
call_done(struct call *k)
{
	dopy_call_release(&k->c);
	dopy_msg_call_release(&k->msg);
	dopy_buf_release(&k->buf);
}

/* The call failed with this error name and a message containing want. */
static void
failed(struct call *k, const char *name, const char *want)
{
	cr_assert_not_null(k->c.err, "no error, expected %s", name);
	cr_assert_null(k->c.result, "a result beside the error");
	cr_assert_str_eq(dopy_error_name(k->c.err), name, "message: %s",
	    dopy_error_message(k->c.err));
	cr_assert(strstr(dopy_error_message(k->c.err), want) != NULL,
	    "message '%s' lacks '%s'", dopy_error_message(k->c.err), want);
}

static int64_t
int_result(struct call *k)
{
	cr_assert_null(k->c.err, "error %s: %s", dopy_error_name(k->c.err),
	    dopy_error_message(k->c.err));
	cr_assert_not_null(k->c.result);
	cr_assert_eq(dopy_value_kind(k->c.result), DOPY_INT);
	return dopy_value_get_int(k->c.result);
}

/* ---- registration ---- */

static int
nop(dopy_call *c)
{
	(void)c;
	return 0;
}

Test(server, new_has_introspection)
{
	dopy_server *s = tu_server();

	cr_assert_not_null(s);
	cr_assert_eq(s->nobjs, 1);
	cr_assert_not_null(dopy_server_find(s, "dopy"));
	cr_assert_null(dopy_server_find(s, "calc"));
	cr_assert_eq(s->max_frame, DOPY_FRAME_DEFAULT);
	cr_assert_str_eq(dopy_server_errmsg(s), "");
	dopy_server_free(s);
	dopy_server_free(NULL);
}

Test(server, bad_signature_names_object_and_method)
{
	static const struct dopy_method m[] = {
		{ "good", nop, "a:int", NULL, NULL },
		{ "bad", nop, "a:integer", NULL, NULL },
		{ NULL, NULL, NULL, NULL, NULL }
	};
	static const struct dopy_object_def d = { "thing", NULL, m, NULL,
	    NULL };
	dopy_server *s = tu_server();

	cr_assert_eq(dopy_server_add(s, &d, NULL), DOPY_E_USAGE);
	cr_assert(strstr(dopy_server_errmsg(s), "thing.bad") != NULL, "%s",
	    dopy_server_errmsg(s));
	cr_assert(strstr(dopy_server_errmsg(s), "unknown type") != NULL, "%s",
	    dopy_server_errmsg(s));
	cr_assert_null(dopy_server_find(s, "thing"));
	dopy_server_free(s);
}

Test(server, bad_default_and_result)
{
	static const struct dopy_method m1[] = {
		{ "m", nop, "n:int=zero", NULL, NULL },
		{ NULL, NULL, NULL, NULL, NULL }
	};
	static const struct dopy_method m2[] = {
		{ "r", nop, "", "int[", NULL },
		{ NULL, NULL, NULL, NULL, NULL }
	};
	static const struct dopy_method m3[] = {
		{ "f", NULL, "", NULL, NULL },
		{ NULL, NULL, NULL, NULL, NULL }
	};
	static const struct dopy_object_def d1 = { "o1", NULL, m1, NULL, NULL };
	static const struct dopy_object_def d2 = { "o2", NULL, m2, NULL, NULL };
	static const struct dopy_object_def d3 = { "o3", NULL, m3, NULL, NULL };
	dopy_server *s = tu_server();

	cr_assert_eq(dopy_server_add(s, &d1, NULL), DOPY_E_USAGE);
	cr_assert(strstr(dopy_server_errmsg(s), "o1.m: parameter n: default")
	    != NULL, "%s", dopy_server_errmsg(s));
	cr_assert_eq(dopy_server_add(s, &d2, NULL), DOPY_E_USAGE);
	cr_assert(strstr(dopy_server_errmsg(s), "o2.r: result") != NULL, "%s",
	    dopy_server_errmsg(s));
	cr_assert_eq(dopy_server_add(s, &d3, NULL), DOPY_E_USAGE);
	cr_assert(strstr(dopy_server_errmsg(s), "o3.f: no function") != NULL,
	    "%s", dopy_server_errmsg(s));
	cr_assert_eq(s->nobjs, 1);
	dopy_server_free(s);
}

Test(server, duplicate_object)
{
	struct calc_state st;
	dopy_server *s = calc_server(&st);

	cr_assert_eq(dopy_server_add(s, &calc_def, NULL), DOPY_E_USAGE);
	cr_assert(strstr(dopy_server_errmsg(s), "calc registered twice")
	    != NULL, "%s", dopy_server_errmsg(s));
	cr_assert_eq(s->nobjs, 3);
	dopy_server_free(s);
}

Test(server, bad_object_names)
{
	static const struct dopy_method m[] = {
		{ NULL, NULL, NULL, NULL, NULL }
	};
	static const struct dopy_object_def empty = { "", NULL, m, NULL, NULL };
	static const struct dopy_object_def slash = { "a/b", NULL, m, NULL,
	    NULL };
	static const struct dopy_object_def noname = { NULL, NULL, m, NULL,
	    NULL };
	static const struct dopy_object_def nometh = { "x", NULL, NULL, NULL,
	    NULL };
	dopy_server *s = tu_server();

	cr_assert_eq(dopy_server_add(s, &empty, NULL), DOPY_E_USAGE);
	cr_assert_eq(dopy_server_add(s, &slash, NULL), DOPY_E_USAGE);
	cr_assert(strstr(dopy_server_errmsg(s), "a/b") != NULL);
	cr_assert_eq(dopy_server_add(s, &noname, NULL), DOPY_E_INVAL);
	cr_assert_eq(dopy_server_add(s, &nometh, NULL), DOPY_E_INVAL);
	cr_assert_eq(dopy_server_add(s, NULL, NULL), DOPY_E_INVAL);
	cr_assert_eq(dopy_server_add(NULL, &empty, NULL), DOPY_E_INVAL);
	cr_assert_eq(s->nobjs, 1);
	dopy_server_free(s);
}

Test(server, objects_sorted)
{
	static const struct dopy_method m[] = {
		{ "m", nop, "", NULL, NULL },
		{ NULL, NULL, NULL, NULL, NULL }
	};
	static const char *const names[] = { "zeta", "alpha", "mid", "beta",
	    "omega", "a", "zz" };
	struct dopy_object_def defs[7];
	dopy_server *s = tu_server();
	size_t i;

	for (i = 0; i < 7; i++) {
		defs[i] = (struct dopy_object_def){ names[i], NULL, m, NULL,
		    NULL };
		cr_assert_eq(dopy_server_add(s, &defs[i], NULL), 0);
	}
	cr_assert_eq(s->nobjs, 8);
	for (i = 1; i < s->nobjs; i++)
		cr_assert_lt(strcmp(s->objs[i - 1].def->name,
		    s->objs[i].def->name), 0, "%s before %s",
		    s->objs[i - 1].def->name, s->objs[i].def->name);
	for (i = 0; i < 7; i++)
		cr_assert_eq(dopy_server_find(s, names[i])->def, &defs[i]);
	cr_assert_null(dopy_server_find(s, "b"));
	cr_assert_null(dopy_server_find(s, ""));
	dopy_server_free(s);
}

Test(server, max_frame_floor)
{
	dopy_server *s = tu_server();

	dopy_server_set_max_frame(s, 100);
	cr_assert_eq(s->max_frame, DOPY_FRAME_MIN);
	dopy_server_set_max_frame(s, 1u << 20);
	cr_assert_eq(s->max_frame, 1u << 20);
	dopy_server_free(s);
}

/* ---- dispatch ---- */

Test(server, positional)
{
	struct calc_state st;
	dopy_server *s = calc_server(&st);
	dopy_value *a[] = { dopy_value_int(2), dopy_value_int(3) };
	struct call k;

	dispatch(s, &k, "calc", "add", NULL, a, 2);
	cr_assert_eq(int_result(&k), 5);
	cr_assert_eq(st.calls, 1);
	call_done(&k);
	dopy_server_free(s);
}

Test(server, named)
{
	struct calc_state st;
	dopy_server *s = calc_server(&st);
	const char *n[] = { "b", "a" };
	dopy_value *a[] = { dopy_value_int(10), dopy_value_int(-3) };
	const char *n2[] = { NULL, "b" };
	dopy_value *a2[] = { dopy_value_int(1), dopy_value_int(2) };
	struct call k;

	dispatch(s, &k, "calc", "add", n, a, 2);
	cr_assert_eq(int_result(&k), 7);
	call_done(&k);
	dispatch(s, &k, "calc", "add", n2, a2, 2);
	cr_assert_eq(int_result(&k), 3);
	call_done(&k);
	dopy_server_free(s);
}

Test(server, defaults)
{
	struct calc_state st;
	dopy_server *s = calc_server(&st);
	dopy_value *a[] = { dopy_value_string("World") };
	const char *n[] = { "greeting", "name" };
	dopy_value *b[] = { dopy_value_string("Hi"), dopy_value_string("you") };
	struct call k;

	dispatch(s, &k, "calc", "greet", NULL, a, 1);
	cr_assert_null(k.c.err);
	cr_assert_str_eq(dopy_value_get_string(k.c.result), "Hello, World");
	call_done(&k);
	dispatch(s, &k, "calc", "greet", n, b, 2);
	cr_assert_str_eq(dopy_value_get_string(k.c.result), "Hi, you");
	call_done(&k);
	dopy_server_free(s);
}

Test(server, missing_argument)
{
	struct calc_state st;
	dopy_server *s = calc_server(&st);
	dopy_value *a[] = { dopy_value_int(2) };
	struct call k;

	dispatch(s, &k, "calc", "add", NULL, a, 1);
	failed(&k, "dopy.ArgumentError",
	    "calc.add: missing argument for parameter b (int)");
	cr_assert_eq(dopy_error_code(k.c.err), DOPY_E_USAGE);
	cr_assert_eq(st.calls, 0, "the method ran");
	call_done(&k);
	dispatch(s, &k, "calc", "greet", NULL, NULL, 0);
	failed(&k, "dopy.ArgumentError", "parameter name (string)");
	call_done(&k);
	dopy_server_free(s);
}

Test(server, unknown_parameter_name)
{
	struct calc_state st;
	dopy_server *s = calc_server(&st);
	const char *n[] = { "a", "c" };
	dopy_value *a[] = { dopy_value_int(1), dopy_value_int(2) };
	struct call k;

	dispatch(s, &k, "calc", "add", n, a, 2);
	failed(&k, "dopy.ArgumentError", "calc.add: no parameter 'c'");
	cr_assert_eq(st.calls, 0);
	call_done(&k);
	dopy_server_free(s);
}

Test(server, repeated_parameter)
{
	struct calc_state st;
	dopy_server *s = calc_server(&st);
	const char *n[] = { NULL, "a", "b" };
	dopy_value *a[] = { dopy_value_int(1), dopy_value_int(2),
	    dopy_value_int(3) };
	const char *n2[] = { "b", "b" };
	dopy_value *a2[] = { dopy_value_int(1), dopy_value_int(2) };
	struct call k;

	dispatch(s, &k, "calc", "add", n, a, 3);
	failed(&k, "dopy.ArgumentError", "calc.add: parameter a given twice");
	call_done(&k);
	dispatch(s, &k, "calc", "add", n2, a2, 2);
	failed(&k, "dopy.ArgumentError", "parameter b given twice");
	call_done(&k);
	cr_assert_eq(st.calls, 0);
	dopy_server_free(s);
}

Test(server, positional_after_named)
{
	struct calc_state st;
	dopy_server *s = calc_server(&st);
	const char *n[] = { "a", NULL };
	dopy_value *a[] = { dopy_value_int(1), dopy_value_int(2) };
	struct call k;

	dispatch(s, &k, "calc", "add", n, a, 2);
	failed(&k, "dopy.ArgumentError",
	    "calc.add: positional argument after a named one");
	cr_assert_eq(st.calls, 0);
	call_done(&k);
	dopy_server_free(s);
}

Test(server, too_many_arguments)
{
	struct calc_state st;
	dopy_server *s = calc_server(&st);
	dopy_value *a[] = { dopy_value_int(1), dopy_value_int(2),
	    dopy_value_int(3) };
	dopy_value *b[] = { dopy_value_int(1) };
	struct call k;

	dispatch(s, &k, "calc", "add", NULL, a, 3);
	failed(&k, "dopy.ArgumentError", "calc.add: takes 2 arguments, got 3");
	call_done(&k);
	dispatch(s, &k, "calc", "wrongtype", NULL, b, 1);
	failed(&k, "dopy.ArgumentError", "takes 0 arguments, got 1");
	call_done(&k);
	cr_assert_eq(st.calls, 0);
	dopy_server_free(s);
}

Test(server, wrong_type)
{
	struct calc_state st;
	dopy_server *s = calc_server(&st);
	dopy_value *a[] = { dopy_value_string("two"), dopy_value_int(3) };
	const char *n[] = { "b" };
	dopy_value *b[] = { dopy_value_double(1.0) };
	struct call k;

	dispatch(s, &k, "calc", "add", NULL, a, 2);
	failed(&k, "dopy.TypeError",
	    "calc.add: parameter a: expected int, got string");
	cr_assert_eq(dopy_error_code(k.c.err), DOPY_E_TYPE);
	call_done(&k);
	dispatch(s, &k, "calc", "add", n, b, 1);
	failed(&k, "dopy.TypeError", "parameter b: expected int, got double");
	call_done(&k);
	cr_assert_eq(st.calls, 0);
	dopy_server_free(s);
}

Test(server, every_kind_reaches_the_method)
{
	struct calc_state st;
	dopy_server *s = calc_server(&st);
	dopy_value *a[] = { dopy_value_bool(1), dopy_value_int(-3),
	    dopy_value_uint(3), dopy_value_double(0.5), dopy_value_string("s"),
	    dopy_value_bytes("\0\1", 2) };
	struct call k;

	dispatch(s, &k, "calc", "kinds", NULL, a, 6);
	cr_assert_null(k.c.err, "%s", dopy_error_message(k.c.err));
	cr_assert_eq(dopy_value_get_bool(k.c.result), 1);
	call_done(&k);
	dopy_server_free(s);
}

Test(server, array_argument)
{
	struct calc_state st;
	dopy_server *s = calc_server(&st);
	dopy_type *t = dopy_type_parse("int[]", NULL, 0);
	dopy_value *xs = dopy_value_new(t), *a[1];
	struct call k;
	int i;

	for (i = 1; i <= 100; i++)
		cr_assert_eq(dopy_value_append(xs, dopy_value_int(i)), 0);
	a[0] = xs;
	dispatch(s, &k, "calc", "sum", NULL, a, 1);
	cr_assert_eq(int_result(&k), 5050);
	call_done(&k);
	dopy_type_free(t);
	dopy_server_free(s);
}

Test(server, unknown_object_and_method)
{
	struct calc_state st;
	dopy_server *s = calc_server(&st);
	struct call k;

	dispatch(s, &k, "nosuch", "add", NULL, NULL, 0);
	failed(&k, "dopy.UnknownObject", "no object 'nosuch'");
	cr_assert_eq(dopy_error_code(k.c.err), DOPY_E_USAGE);
	call_done(&k);
	dispatch(s, &k, "calc", "nosuch", NULL, NULL, 0);
	failed(&k, "dopy.UnknownMethod", "calc: no method 'nosuch'");
	call_done(&k);
	dopy_server_free(s);
}

Test(server, raised_error_fields_and_trace)
{
	struct calc_state st;
	dopy_server *s = calc_server(&st);
	dopy_value *a[] = { dopy_value_string("bang") };
	struct call k;
	char where[300];
	size_t n;

	dispatch(s, &k, "calc", "boom", NULL, a, 1);
	failed(&k, "calc.Boom", "boom: bang");
	cr_assert_eq(dopy_error_code(k.c.err), DOPY_E_REMOTE);
	cr_assert_str_eq(dopy_error_object(k.c.err), "calc");
	cr_assert_str_eq(dopy_error_method(k.c.err), "boom");
	cr_assert_str_eq(dopy_error_host(k.c.err), s->host);
	cr_assert_eq(dopy_error_pid(k.c.err), (long)getpid());
	n = dopy_error_trace_len(k.c.err);
	cr_assert_eq(n, 3, "trace of %zu lines", n);
	cr_assert(strstr(dopy_error_trace(k.c.err, 0), "test_server.c:") !=
	    NULL && strstr(dopy_error_trace(k.c.err, 0), " c_boom") != NULL,
	    "%s", dopy_error_trace(k.c.err, 0));
	cr_assert(strstr(dopy_error_trace(k.c.err, 1), " deeper") != NULL,
	    "%s", dopy_error_trace(k.c.err, 1));
	snprintf(where, sizeof(where), "in calc.boom on host %s pid %ld",
	    s->host, (long)getpid());
	cr_assert_str_eq(dopy_error_trace(k.c.err, 2), where);
	call_done(&k);
	dopy_server_free(s);
}

Test(server, error_beats_result)
{
	struct calc_state st;
	dopy_server *s = calc_server(&st);
	struct call k;

	dispatch(s, &k, "calc", "both", NULL, NULL, 0);
	failed(&k, "dopy.Error", "both");
	call_done(&k);
	dopy_server_free(s);
}

Test(server, wrong_result_type)
{
	struct calc_state st;
	dopy_server *s = calc_server(&st);
	struct call k;

	dispatch(s, &k, "calc", "wrongtype", NULL, NULL, 0);
	failed(&k, "dopy.ResultError",
	    "calc.wrongtype: returned string, declared int");
	call_done(&k);
	dispatch(s, &k, "calc", "noresult", NULL, NULL, 0);
	failed(&k, "dopy.ResultError", "calc.noresult: returned no int");
	call_done(&k);
	dopy_server_free(s);
}

Test(server, result_without_declaration_dropped)
{
	struct calc_state st;
	dopy_server *s = calc_server(&st);
	struct call k;

	dispatch(s, &k, "calc", "void", NULL, NULL, 0);
	cr_assert_null(k.c.err);
	cr_assert_null(k.c.result);
	cr_assert_eq(st.calls, 1);
	call_done(&k);
	dopy_server_free(s);
}

Test(server, failure_without_raise_is_internal_error)
{
	struct calc_state st;
	dopy_server *s = calc_server(&st);
	struct call k;

	dispatch(s, &k, "calc", "silent", NULL, NULL, 0);
	failed(&k, "dopy.InternalError",
	    "calc.silent: method failed without raising an error");
	call_done(&k);
	dopy_server_free(s);
}

Test(server, before_hook_refuses)
{
	struct calc_state st;
	dopy_server *s = calc_server(&st);
	dopy_value *a[] = { dopy_value_int(1), dopy_value_int(2) };
	struct call k;

	st.refuse = 1;
	dispatch(s, &k, "hooked", "add", NULL, a, 2);
	failed(&k, "calc.Refused", "not now (add)");
	cr_assert_str_eq(dopy_error_object(k.c.err), "hooked");
	cr_assert_str_eq(dopy_error_method(k.c.err), "add");
	cr_assert_eq(st.before, 1);
	cr_assert_eq(st.calls, 0, "the method ran after its before-hook "
	    "refused");
	call_done(&k);
	dopy_server_free(s);
}

Test(server, hooks_run_around_the_method)
{
	struct calc_state st;
	dopy_server *s = calc_server(&st);
	dopy_value *a[] = { dopy_value_int(1), dopy_value_int(2) };
	struct call k;

	dispatch(s, &k, "hooked", "add", NULL, a, 2);
	cr_assert_eq(int_result(&k), 3);
	cr_assert_eq(st.before, 1);
	cr_assert_eq(st.calls, 1);
	cr_assert_eq(st.after, 1);
	cr_assert_eq(st.after_saw_err, 0);
	call_done(&k);
	/* No hooks on the plain object. */
	a[0] = dopy_value_int(1);
	a[1] = dopy_value_int(2);
	dispatch(s, &k, "calc", "add", NULL, a, 2);
	cr_assert_eq(st.before, 1);
	cr_assert_eq(st.after, 1);
	call_done(&k);
	dopy_server_free(s);
}

Test(server, after_hook_error_ignored)
{
	struct calc_state st;
	dopy_server *s = calc_server(&st);
	dopy_value *a[] = { dopy_value_int(20), dopy_value_int(22) };
	struct call k;

	st.after_fails = 1;
	dispatch(s, &k, "hooked", "add", NULL, a, 2);
	cr_assert_eq(int_result(&k), 42);
	cr_assert_eq(st.after, 1);
	call_done(&k);
	dopy_server_free(s);
}

/* An after-hook runs after a failed method too, and its own error does
 * not replace the method's. */
Test(server, after_hook_keeps_method_error)
{
	struct calc_state st;
	dopy_server *s = calc_server(&st);
	dopy_value *a[] = { dopy_value_string("x") };
	struct call k;

	st.after_fails = 1;
	dispatch(s, &k, "hooked", "boom", NULL, a, 1);
	failed(&k, "calc.Boom", "boom: x");
	cr_assert_eq(st.after, 1);
	call_done(&k);
	dopy_server_free(s);
}

Test(server, any_parameter_and_result)
{
	struct calc_state st;
	dopy_server *s = calc_server(&st);
	dopy_type *t = dopy_type_parse("(int,string)[]", NULL, 0);
	dopy_value *rows = dopy_value_parse(t, "[(1, a), (2, b)]", NULL, 0);
	dopy_value *want = dopy_value_copy(rows);
	dopy_value *a[] = { dopy_value_string("text") }, *b[] = { rows };
	struct call k;

	dispatch(s, &k, "calc", "same", NULL, a, 1);
	cr_assert_null(k.c.err, "%s", dopy_error_message(k.c.err));
	cr_assert_str_eq(dopy_value_get_string(k.c.result), "text");
	call_done(&k);
	dispatch(s, &k, "calc", "same", NULL, b, 1);
	cr_assert_null(k.c.err, "%s", dopy_error_message(k.c.err));
	cr_assert(dopy_value_equal(k.c.result, want));
	call_done(&k);
	/* The default of an `any` parameter reads as what it looks like. */
	dispatch(s, &k, "calc", "same", NULL, NULL, 0);
	cr_assert_eq(int_result(&k), 5);
	call_done(&k);
	dopy_value_free(want);
	dopy_type_free(t);
	dopy_server_free(s);
}

/* ---- introspection: the "dopy" object ---- */

Test(server, introspect_objects)
{
	struct calc_state st;
	dopy_server *s = calc_server(&st);
	struct call k;

	dispatch(s, &k, "dopy", "objects", NULL, NULL, 0);
	cr_assert_null(k.c.err);
	cr_assert_str_eq(dopy_type_name(dopy_value_type(k.c.result)),
	    "string[]");
	cr_assert_eq(dopy_value_len(k.c.result), 3);
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(k.c.result, 0)),
	    "calc");
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(k.c.result, 1)),
	    "dopy");
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(k.c.result, 2)),
	    "hooked");
	call_done(&k);
	dopy_server_free(s);
}

Test(server, introspect_describe)
{
	struct calc_state st;
	dopy_server *s = calc_server(&st);
	dopy_value *a[] = { dopy_value_string("calc") };
	const dopy_value *row;
	struct call k;

	dispatch(s, &k, "dopy", "describe", NULL, a, 1);
	cr_assert_null(k.c.err, "%s", dopy_error_message(k.c.err));
	cr_assert_str_eq(dopy_type_name(dopy_value_type(k.c.result)),
	    "(string,string,string,string)[]");
	cr_assert_eq(dopy_value_len(k.c.result), s->objs[0].nmethods);
	row = dopy_value_at(k.c.result, 1);
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(row, 0)),
	    "greet");
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(row, 1)),
	    "name:string, greeting:string=Hello");
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(row, 2)),
	    "string");
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(row, 3)),
	    "Greet.");
	row = dopy_value_at(k.c.result, 5);	/* boom: no result */
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(row, 0)), "boom");
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(row, 2)), "");
	row = dopy_value_at(k.c.result, 2);	/* wrongtype: no doc */
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(row, 3)), "");
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(row, 1)), "");
	call_done(&k);
	dopy_server_free(s);
}

Test(server, introspect_describe_itself)
{
	dopy_server *s = tu_server();
	dopy_value *a[] = { dopy_value_string("dopy") };
	struct call k;
	size_t i;
	int seen = 0;

	dispatch(s, &k, "dopy", "describe", NULL, a, 1);
	cr_assert_null(k.c.err);
	for (i = 0; i < dopy_value_len(k.c.result); i++)
		if (strcmp(dopy_value_get_string(dopy_value_at(dopy_value_at(
		    k.c.result, i), 0)), "describe") == 0)
			seen = 1;
	cr_assert(seen);
	call_done(&k);
	dopy_server_free(s);
}

Test(server, introspect_about_and_version)
{
	struct calc_state st;
	dopy_server *s = calc_server(&st);
	dopy_value *a[] = { dopy_value_string("calc") };
	struct call k;

	dispatch(s, &k, "dopy", "about", NULL, a, 1);
	cr_assert_null(k.c.err);
	cr_assert_str_eq(dopy_value_get_string(k.c.result),
	    "A calculator for tests.");
	call_done(&k);
	dispatch(s, &k, "dopy", "version", NULL, NULL, 0);
	cr_assert_null(k.c.err);
	cr_assert(strstr(dopy_value_get_string(k.c.result), DOPY_VERSION) !=
	    NULL, "%s", dopy_value_get_string(k.c.result));
	call_done(&k);
	dopy_server_free(s);
}

Test(server, introspect_unknown_object)
{
	struct calc_state st;
	dopy_server *s = calc_server(&st);
	dopy_value *a[] = { dopy_value_string("ghost") };
	dopy_value *b[] = { dopy_value_string("ghost") };
	struct call k;

	dispatch(s, &k, "dopy", "describe", NULL, a, 1);
	failed(&k, "dopy.UnknownObject", "no object 'ghost'");
	call_done(&k);
	dispatch(s, &k, "dopy", "about", NULL, b, 1);
	failed(&k, "dopy.UnknownObject", "no object 'ghost'");
	call_done(&k);
	dopy_server_free(s);
}

/* ---- a served connection, spoken to frame by frame ---- */

struct peer {
	pid_t			pid;
	int			fd;
	struct dopy_chan	ch;
	dopy_server		*srv;
	struct calc_state	st;
};

static void
peer_start(struct peer *p)
{
	p->srv = calc_server(&p->st);
	cr_assert_gt(p->pid = tu_serve(p->srv, &p->fd), 0);
	dopy_chan_init(&p->ch, p->fd, p->fd);
	p->ch.max_frame = DOPY_FRAME_DEFAULT;
	dopy_chan_deadline(&p->ch, TU_WAIT_MS);
	signal(SIGPIPE, SIG_IGN);
}

/* Close our end; the server's exit code. */
static int
peer_end(struct peer *p)
{
	int st;

	close(p->fd);
	st = tu_wait(p->pid, TU_WAIT_MS);
	dopy_chan_release(&p->ch);
	dopy_server_free(p->srv);
	return tu_exit_code(st);
}

static void
send_raw(struct peer *p, uint8_t type, uint32_t id, const void *payload,
    size_t len)
{
	dopy_chan_begin(&p->ch);
	cr_assert_eq(dopy_buf_put(&p->ch.wbuf, payload, len), 0);
	cr_assert_eq(dopy_chan_send(&p->ch, type, id), 0);
}

static void
send_hello(struct peer *p, uint32_t proto)
{
	struct dopy_hello h = { .proto = proto, .max_frame = 1u << 20,
	    .software = "test_server" };

	dopy_chan_begin(&p->ch);
	cr_assert_eq(dopy_msg_hello_put(&p->ch.wbuf, &h), 0);
	cr_assert_eq(dopy_chan_send(&p->ch, DOPY_F_HELLO, 0), 0);
}

static void
expect_hello(struct peer *p)
{
	struct dopy_frame f;
	struct dopy_hello h;
	char err[200] = "";

	cr_assert_eq(dopy_chan_read(&p->ch, &f), 0);
	cr_assert_eq(f.type, DOPY_F_HELLO, "got %s",
	    dopy_frame_type_name(f.type));
	cr_assert_eq(dopy_msg_hello_get(f.payload, f.len, &h, err,
	    sizeof(err)), 0, "%s", err);
	cr_assert_eq(h.proto, DOPY_PROTOCOL);
	cr_assert_str_eq(h.software, DOPY_SOFTWARE);
	cr_assert_eq(h.max_frame, DOPY_FRAME_DEFAULT);
	dopy_msg_hello_release(&h);
}

/* Read an ERROR frame: its id, name and message. */
static void
expect_error(struct peer *p, uint32_t id, const char *name, const char *want)
{
	struct dopy_frame f;
	dopy_error *e;

	cr_assert_eq(dopy_chan_read(&p->ch, &f), 0);
	cr_assert_eq(f.type, DOPY_F_ERROR, "got %s",
	    dopy_frame_type_name(f.type));
	cr_assert_eq(f.id, id);
	cr_assert_eq(dopy_msg_error_get(f.payload, f.len, &e), 0);
	cr_assert_str_eq(dopy_error_name(e), name, "%s",
	    dopy_error_message(e));
	cr_assert(strstr(dopy_error_message(e), want) != NULL, "'%s' lacks "
	    "'%s'", dopy_error_message(e), want);
	dopy_error_free(e);
}

static void
send_call(struct peer *p, uint32_t id, const char *obj, const char *meth,
    dopy_value *arg)
{
	const char *names[] = { "" };

	dopy_chan_begin(&p->ch);
	cr_assert_eq(dopy_msg_call_put(&p->ch.wbuf, obj, meth, names,
	    arg != NULL), 0);
	if (arg != NULL) {
		cr_assert_eq(dopy_encode(arg, &p->ch.wbuf), 0);
		dopy_value_free(arg);
	}
	cr_assert_eq(dopy_chan_send(&p->ch, DOPY_F_CALL, id), 0);
}

Test(server, serve_hello_then_calls, .timeout = 15)
{
	struct dopy_image img[2];
	struct dopy_frame f;
	struct peer p;
	dopy_value *v;
	char err[200];
	size_t n;

	peer_start(&p);
	send_hello(&p, DOPY_PROTOCOL);
	expect_hello(&p);
	send_call(&p, 9, "calc", "sum", NULL);
	expect_error(&p, 9, "dopy.ArgumentError", "missing argument");
	send_call(&p, 10, "dopy", "version", NULL);
	cr_assert_eq(dopy_chan_read(&p.ch, &f), 0);
	cr_assert_eq(f.type, DOPY_F_REPLY);
	cr_assert_eq(f.id, 10);
	cr_assert_eq(dopy_images_split(f.payload, f.len, img, 2, &n, err,
	    sizeof(err)), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(dopy_decode(&img[0], NULL, &v, err, sizeof(err)), 0);
	cr_assert(strstr(dopy_value_get_string(v), DOPY_VERSION) != NULL);
	dopy_value_free(v);
	/* A method without a result: an empty REPLY. */
	send_call(&p, 11, "calc", "void", NULL);
	cr_assert_eq(dopy_chan_read(&p.ch, &f), 0);
	cr_assert_eq(f.type, DOPY_F_REPLY);
	cr_assert_eq(f.id, 11);
	cr_assert_eq(f.len, 0);
	cr_assert_eq(peer_end(&p), 0, "clean EOF between frames");
}

Test(server, serve_call_before_hello, .timeout = 15)
{
	struct peer p;

	peer_start(&p);
	send_call(&p, 1, "calc", "void", NULL);
	expect_error(&p, 0, "dopy.ProtocolError", "expected HELLO, got CALL");
	cr_assert_eq(dopy_chan_read(&p.ch, &(struct dopy_frame){ 0 }),
	    DOPY_E_CLOSED, "the server hung up");
	cr_assert_eq(peer_end(&p), 1);
}

Test(server, serve_version_mismatch, .timeout = 15)
{
	struct peer p;

	peer_start(&p);
	send_hello(&p, 2);
	expect_error(&p, 0, "dopy.VersionMismatch", "client speaks 2");
	cr_assert_eq(peer_end(&p), 1);
}

Test(server, serve_malformed_hello, .timeout = 15)
{
	struct peer p;

	peer_start(&p);
	send_raw(&p, DOPY_F_HELLO, 0, "not tpl", 7);
	expect_error(&p, 0, "dopy.ProtocolError", "malformed HELLO");
	cr_assert_eq(peer_end(&p), 1);
}

/* Before HELLO only DOPY_HELLO_MAX bytes are accepted. */
Test(server, serve_big_frame_before_hello, .timeout = 15)
{
	uint8_t hdr[DOPY_HDR_LEN];
	struct peer p;

	peer_start(&p);
	dopy_frame_encode(hdr, DOPY_F_HELLO, 0, DOPY_HELLO_MAX + 1);
	cr_assert_eq(tu_write_all(p.fd, hdr, sizeof(hdr)), 0);
	expect_error(&p, 0, "dopy.FrameTooLarge", "maximum");
	cr_assert_eq(peer_end(&p), 1);
}

Test(server, serve_errors_keep_the_stream, .timeout = 15)
{
	struct peer p;

	peer_start(&p);
	send_hello(&p, DOPY_PROTOCOL);
	expect_hello(&p);
	/* Each of these is answered and the connection goes on. */
	send_raw(&p, DOPY_F_HELLO, 3, "", 0);
	expect_error(&p, 3, "dopy.ProtocolError", "HELLO after HELLO");
	send_raw(&p, DOPY_F_REPLY, 4, "", 0);
	expect_error(&p, 4, "dopy.ProtocolError", "a client does not send "
	    "REPLY");
	send_raw(&p, 99, 5, "xyz", 3);
	expect_error(&p, 5, "dopy.UnknownFrame", "unknown frame type 99");
	send_raw(&p, DOPY_F_CALL, 6, "garbage", 7);
	expect_error(&p, 6, "dopy.ProtocolError", "malformed CALL");
	send_call(&p, 7, "calc", "wrongtype", NULL);
	expect_error(&p, 7, "dopy.ResultError", "returned string");
	send_call(&p, 8, "calc", "add", dopy_value_string("x"));
	expect_error(&p, 8, "dopy.TypeError", "expected int, got string");
	cr_assert_eq(peer_end(&p), 0);
}

Test(server, serve_bad_magic_ends_connection, .timeout = 15)
{
	struct peer p;

	peer_start(&p);
	send_hello(&p, DOPY_PROTOCOL);
	expect_hello(&p);
	cr_assert_eq(tu_write_all(p.fd, "GET / HTTP/1.0\r\n\r\n", 18), 0);
	expect_error(&p, 0, "dopy.ProtocolError", "malformed frame header");
	cr_assert_eq(dopy_chan_read(&p.ch, &(struct dopy_frame){ 0 }),
	    DOPY_E_CLOSED);
	cr_assert_eq(peer_end(&p), 1);
}

Test(server, serve_eof_inside_frame, .timeout = 15)
{
	uint8_t hdr[DOPY_HDR_LEN];
	struct peer p;

	peer_start(&p);
	send_hello(&p, DOPY_PROTOCOL);
	expect_hello(&p);
	dopy_frame_encode(hdr, DOPY_F_CALL, 1, 100);
	cr_assert_eq(tu_write_all(p.fd, hdr, sizeof(hdr)), 0);
	cr_assert_eq(tu_write_all(p.fd, "partial", 7), 0);
	shutdown(p.fd, SHUT_WR);
	expect_error(&p, 0, "dopy.ProtocolError", "end of input");
	cr_assert_eq(peer_end(&p), 1);
}

Test(server, serve_oversized_frame_after_hello, .timeout = 15)
{
	uint8_t hdr[DOPY_HDR_LEN];
	struct peer p;

	peer_start(&p);
	send_hello(&p, DOPY_PROTOCOL);
	expect_hello(&p);
	/* We said 1 MiB: more is refused before it is read. */
	dopy_frame_encode(hdr, DOPY_F_CALL, 1, (1u << 20) + 1);
	cr_assert_eq(tu_write_all(p.fd, hdr, sizeof(hdr)), 0);
	expect_error(&p, 0, "dopy.FrameTooLarge", "1048576");
	cr_assert_eq(peer_end(&p), 1);
}

/* A result larger than the negotiated frame becomes an error reply. */
Test(server, serve_result_too_large, .timeout = 15)
{
	struct dopy_frame f;
	struct peer p;

	peer_start(&p);
	send_hello(&p, DOPY_PROTOCOL);
	expect_hello(&p);
	send_call(&p, 3, "calc", "big", dopy_value_uint(2u << 20));
	expect_error(&p, 3, "dopy.FrameTooLarge", "calc.big");
	send_call(&p, 4, "calc", "big", dopy_value_uint(1000));
	cr_assert_eq(dopy_chan_read(&p.ch, &f), 0);
	cr_assert_eq(f.type, DOPY_F_REPLY);
	cr_assert_eq(f.id, 4);
	cr_assert_eq(peer_end(&p), 0);
}

Test(server, serve_eof_before_hello_is_clean, .timeout = 15)
{
	struct peer p;

	peer_start(&p);
	cr_assert_eq(peer_end(&p), 0);
}

Test(server, serve_handshake_deadline, .timeout = 15)
{
	struct peer p;
	int64_t t0;

	p.srv = calc_server(&p.st);
	p.srv->handshake_ms = 200;
	cr_assert_gt(p.pid = tu_serve(p.srv, &p.fd), 0);
	dopy_chan_init(&p.ch, p.fd, p.fd);
	dopy_chan_deadline(&p.ch, TU_WAIT_MS);
	t0 = dopy_now_ms();
	expect_error(&p, 0, "dopy.Timeout", "no complete frame in time");
	cr_assert_lt(dopy_now_ms() - t0, 5000);
	cr_assert_eq(peer_end(&p), 1);
}

Test(server, serve_idle_deadline, .timeout = 15)
{
	struct peer p;

	p.srv = calc_server(&p.st);
	p.srv->idle_ms = 200;
	cr_assert_gt(p.pid = tu_serve(p.srv, &p.fd), 0);
	dopy_chan_init(&p.ch, p.fd, p.fd);
	dopy_chan_deadline(&p.ch, TU_WAIT_MS);
	signal(SIGPIPE, SIG_IGN);
	send_hello(&p, DOPY_PROTOCOL);
	expect_hello(&p);
	expect_error(&p, 0, "dopy.Timeout", "no complete frame in time");
	cr_assert_eq(peer_end(&p), 1);
}

/* The log gets a line for a refused connection. */
Test(server, serve_logs_to_file, .timeout = 15)
{
	char dir[] = "/tmp/dopy-test-XXXXXX", path[100], buf[4096];
	struct peer p;
	ssize_t n;
	int fd;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/log", dir);
	p.srv = calc_server(&p.st);
	cr_assert_eq(dopy_server_set_log(p.srv, DOPY_LOG_FILE, path, 1), 0);
	cr_assert_gt(p.pid = tu_serve(p.srv, &p.fd), 0);
	dopy_chan_init(&p.ch, p.fd, p.fd);
	dopy_chan_deadline(&p.ch, TU_WAIT_MS);
	send_hello(&p, 7);
	expect_error(&p, 0, "dopy.VersionMismatch", "speaks 7");
	cr_assert_eq(peer_end(&p), 1);
	cr_assert_geq(fd = open(path, O_RDONLY), 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	cr_assert_gt(n, 0);
	buf[n] = '\0';
	cr_assert(strstr(buf, "dopy.VersionMismatch") != NULL, "%s", buf);
	cr_assert(strstr(buf, "recv HELLO") != NULL, "verbose: %s", buf);
	unlink(path);
	rmdir(dir);
}

/*
 * What a peer sends must not forge lines in a log file: every line the
 * server writes starts with its timestamp, whatever strings the peer
 * put in its HELLO.
 */
Test(server, serve_log_cannot_be_forged, .timeout = 15)
{
	char dir[] = "/tmp/dopy-test-XXXXXX", path[100], buf[4096], *line;
	struct dopy_hello h = { .proto = 2, .max_frame = 4096,
	    .software = "evil\n2026-01-01T00:00:00Z dopyd[1]: FORGED\rX" };
	struct peer p;
	ssize_t n;
	int fd;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/log", dir);
	p.srv = calc_server(&p.st);
	cr_assert_eq(dopy_server_set_log(p.srv, DOPY_LOG_FILE, path, 1), 0);
	cr_assert_gt(p.pid = tu_serve(p.srv, &p.fd), 0);
	dopy_chan_init(&p.ch, p.fd, p.fd);
	dopy_chan_deadline(&p.ch, TU_WAIT_MS);
	dopy_chan_begin(&p.ch);
	cr_assert_eq(dopy_msg_hello_put(&p.ch.wbuf, &h), 0);
	cr_assert_eq(dopy_chan_send(&p.ch, DOPY_F_HELLO, 0), 0);
	expect_error(&p, 0, "dopy.VersionMismatch", "client speaks 2");
	cr_assert_eq(peer_end(&p), 1);
	cr_assert_geq(fd = open(path, O_RDONLY), 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	cr_assert_gt(n, 0);
	buf[n] = '\0';
	cr_assert_null(strchr(buf, '\r'), "raw CR in the log: %s", buf);
	for (line = buf; *line != '\0'; line = strchr(line, '\n') + 1) {
		cr_assert_neq(strchr(line, '\n'), NULL, "unterminated: %s",
		    line);
		cr_assert(line[4] == '-' && line[10] == 'T',
		    "a line the server did not write: %.80s", line);
		cr_assert(strncmp(line, "2026-01-01T00:00:00Z dopyd[1]", 29)
		    != 0, "forged line: %.80s", line);
	}
	unlink(path);
	rmdir(dir);
}
