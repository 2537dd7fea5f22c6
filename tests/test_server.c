/*
 * test_server.c - lib/server/server.c, lib/server/dispatch.c,
 * lib/server/introspect.c and the frame-level behaviour of
 * lib/server/serve.c: registration, argument binding, hooks, result
 * checks, introspection, and a served connection spoken to frame by
 * frame.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
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

/* The first argument (a scalar, held in the call's own slot) taken and
 * handed back as the result, which the server frees after the reply. */
static int
c_take(dopy_call *c)
{
	return dopy_call_return(c, dopy_call_take_arg(c, 0));
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
	{ "take", c_take, "n:int, b:bool", "int", NULL },
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
	int			live;	/* not yet released */
};

/*
 * The fixture of the dispatch tests: a calc server, its state and the
 * last call made (released by the next call and by the fixture's end).
 */
static dopy_server		*srv;
static struct calc_state	 calc;
static struct call		 k;

static void
calc_up(void)
{
	srv = calc_server(&calc);
}

static void
call_done(void)
{
	if (!k.live)
		return;
	dopy_call_release(&k.c);
	dopy_msg_call_release(&k.msg);
	dopy_buf_release(&k.buf);
	k.live = 0;
}

static void
calc_down(void)
{
	call_done();
	dopy_server_free(srv);
}

#define CALC	.init = calc_up, .fini = calc_down

/* An argument list: the array and its length. */
#define ARGS(...)	(dopy_value *[]){ __VA_ARGS__ }, \
	sizeof((dopy_value *[]){ __VA_ARGS__ }) / sizeof(dopy_value *)
#define NOARGS		NULL, 0

/* Dispatch obj.meth on s into k; names[i] NULL or "" is positional;
 * takes the values. */
static void
dispatch(dopy_server *s, const char *obj, const char *meth,
    const char *const *names, dopy_value **args, size_t n)
{
	const char *nm[DOPY_MAX_ARGS + 1];
	char err[200] = "";
	size_t i;

	call_done();
	dopy_buf_init(&k.buf);
	for (i = 0; i < n; i++)
		nm[i] = names != NULL && names[i] != NULL ? names[i] : "";
	cr_assert_eq(dopy_msg_call_put(&k.buf, obj, meth, nm, n), 0);
	for (i = 0; i < n; i++) {
		cr_assert_eq(dopy_encode(args[i], &k.buf), 0);
		dopy_value_free(args[i]);
	}
	cr_assert_eq(dopy_msg_call_get(k.buf.data, k.buf.len, &k.msg, err,
	    sizeof(err)), 0, "%s", err);
	dopy_dispatch(s, &k.msg, &k.c);
	k.live = 1;
}

/* Dispatch on the fixture's server. */
static void
call(const char *obj, const char *meth, const char *const *names,
    dopy_value **args, size_t n)
{
	dispatch(srv, obj, meth, names, args, n);
}

/* The call failed with this error name and a message containing want. */
static void
failed(const char *name, const char *want)
{
	cr_assert_not_null(k.c.err, "no error, expected %s", name);
	cr_assert_null(k.c.result, "a result beside the error");
	cr_assert_str_eq(dopy_error_name(k.c.err), name, "message: %s",
	    dopy_error_message(k.c.err));
	cr_assert(strstr(dopy_error_message(k.c.err), want) != NULL,
	    "message '%s' lacks '%s'", dopy_error_message(k.c.err), want);
}

/* Call, and it must fail so. */
static void
fails(const char *obj, const char *meth, const char *const *names,
    dopy_value **args, size_t n, const char *name, const char *want)
{
	call(obj, meth, names, args, n);
	failed(name, want);
}

static int64_t
int_result(void)
{
	cr_assert_null(k.c.err, "error %s: %s", dopy_error_name(k.c.err),
	    dopy_error_message(k.c.err));
	cr_assert_not_null(k.c.result);
	cr_assert_eq(dopy_value_kind(k.c.result), DOPY_INT);
	return dopy_value_get_int(k.c.result);
}

/* The call succeeded; its result. */
static const dopy_value *
result(void)
{
	cr_assert_null(k.c.err, "%s", dopy_error_message(k.c.err));
	return k.c.result;
}

/* The string at index i of an array or structure. */
static const char *
str_at(const dopy_value *v, size_t i)
{
	return dopy_value_get_string(dopy_value_at(v, i));
}

/* ---- registration ---- */

static int
nop(dopy_call *c)
{
	(void)c;
	return 0;
}

/* Adding def to s is refused with code, and the message says want. */
static void
add_refused(dopy_server *s, const struct dopy_object_def *def, int code,
    const char *want)
{
	cr_assert_eq(dopy_server_add(s, def, NULL), code);
	cr_assert(strstr(dopy_server_errmsg(s), want) != NULL, "%s",
	    dopy_server_errmsg(s));
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

	add_refused(s, &d, DOPY_E_USAGE, "thing.bad");
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
	static const struct dopy_method m4[] = {
		{ "both", nop, "in:stream int", "stream int", NULL },
		{ NULL, NULL, NULL, NULL, NULL }
	};
	static const struct dopy_object_def d3 = { "o3", NULL, m3, NULL, NULL };
	static const struct dopy_object_def d4 = { "o4", NULL, m4, NULL, NULL };
	dopy_server *s = tu_server();

	add_refused(s, &d1, DOPY_E_USAGE, "o1.m: parameter n: default");
	add_refused(s, &d2, DOPY_E_USAGE, "o2.r: result");
	add_refused(s, &d3, DOPY_E_USAGE, "o3.f: no function");
	add_refused(s, &d4, DOPY_E_USAGE, "o4.both: takes an upload and "
	    "streams its results: one or the other");
	cr_assert_eq(s->nobjs, 1);
	dopy_server_free(s);
}

/* An upload's items come to the connection process, never to the
 * child an isolated call runs in. */
Test(server, upload_not_isolated)
{
	static const struct dopy_method m[] = {
		{ "feed", nop, "n:int, data:stream bytes", "int", NULL },
		{ "plain", nop, "n:int", "int", NULL },
		{ NULL, NULL, NULL, NULL, NULL }
	};
	static const struct dopy_object_def d = { "up", NULL, m, NULL, NULL };
	dopy_server *s = tu_server();

	cr_assert_eq(dopy_server_add(s, &d, NULL), 0);
	cr_assert_eq(dopy_server_set_isolated(s, "up", "feed", 0),
	    DOPY_E_USAGE);
	cr_assert_str_eq(dopy_server_errmsg(s), "up.feed takes an upload, "
	    "which an isolated call cannot read");
	cr_assert_eq(dopy_server_set_isolated(s, "up", "plain", 0), 0);
	dopy_server_free(s);
}

/* Method names travel in CALLs and in pos readonly lists: an empty one
 * or one with a space could never be called or would split. */
Test(server, bad_method_names)
{
	static const struct dopy_method m1[] = {
		{ "", nop, "", NULL, NULL },
		{ NULL, NULL, NULL, NULL, NULL }
	};
	static const struct dopy_method m2[] = {
		{ "get all", nop, "", NULL, NULL },
		{ NULL, NULL, NULL, NULL, NULL }
	};
	static const struct dopy_object_def d1 = { "o1", NULL, m1, NULL, NULL };
	static const struct dopy_object_def d2 = { "o2", NULL, m2, NULL, NULL };
	dopy_server *s = tu_server();

	add_refused(s, &d1, DOPY_E_USAGE, "o1: bad method name ''");
	add_refused(s, &d2, DOPY_E_USAGE, "o2: bad method name 'get all'");
	cr_assert_eq(s->nobjs, 1);
	dopy_server_free(s);
}

Test(server, duplicate_object, CALC)
{
	add_refused(srv, &calc_def, DOPY_E_USAGE, "calc registered twice");
	cr_assert_eq(srv->nobjs, 3);
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
	add_refused(s, &slash, DOPY_E_USAGE, "a/b");
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

Test(server, positional, CALC)
{
	call("calc", "add", NULL, ARGS(dopy_value_int(2), dopy_value_int(3)));
	cr_assert_eq(int_result(), 5);
	cr_assert_eq(calc.calls, 1);
}

/* Scalar arguments are read into the call's own slots; one taken by
 * the method is the method's (a copy), and the next call's are its own. */
Test(server, scalar_slots_taken, CALC)
{
	const char *n[] = { "b", "n" };

	call("calc", "take", NULL, ARGS(dopy_value_int(41),
	    dopy_value_bool(1)));
	cr_assert_eq(int_result(), 41);
	call("calc", "take", n, ARGS(dopy_value_bool(0), dopy_value_int(-7)));
	cr_assert_eq(int_result(), -7);
	fails("calc", "take", NULL, ARGS(dopy_value_int(1),
	    dopy_value_int(2)), "dopy.TypeError", "parameter b");
}

Test(server, named, CALC)
{
	const char *n[] = { "b", "a" }, *n2[] = { NULL, "b" };

	call("calc", "add", n, ARGS(dopy_value_int(10), dopy_value_int(-3)));
	cr_assert_eq(int_result(), 7);
	call("calc", "add", n2, ARGS(dopy_value_int(1), dopy_value_int(2)));
	cr_assert_eq(int_result(), 3);
}

Test(server, defaults, CALC)
{
	const char *n[] = { "greeting", "name" };

	call("calc", "greet", NULL, ARGS(dopy_value_string("World")));
	cr_assert_str_eq(dopy_value_get_string(result()), "Hello, World");
	call("calc", "greet", n, ARGS(dopy_value_string("Hi"),
	    dopy_value_string("you")));
	cr_assert_str_eq(dopy_value_get_string(result()), "Hi, you");
}

Test(server, missing_argument, CALC)
{
	fails("calc", "add", NULL, ARGS(dopy_value_int(2)),
	    "dopy.ArgumentError",
	    "calc.add: missing argument for parameter b (int)");
	cr_assert_eq(dopy_error_code(k.c.err), DOPY_E_USAGE);
	cr_assert_eq(calc.calls, 0, "the method ran");
	fails("calc", "greet", NULL, NOARGS, "dopy.ArgumentError",
	    "parameter name (string)");
}

Test(server, unknown_parameter_name, CALC)
{
	const char *n[] = { "a", "c" };

	fails("calc", "add", n, ARGS(dopy_value_int(1), dopy_value_int(2)),
	    "dopy.ArgumentError", "calc.add: no parameter 'c'");
	cr_assert_eq(calc.calls, 0);
}

Test(server, repeated_parameter, CALC)
{
	const char *n[] = { NULL, "a", "b" }, *n2[] = { "b", "b" };

	fails("calc", "add", n, ARGS(dopy_value_int(1), dopy_value_int(2),
	    dopy_value_int(3)), "dopy.ArgumentError",
	    "calc.add: parameter a given twice");
	fails("calc", "add", n2, ARGS(dopy_value_int(1), dopy_value_int(2)),
	    "dopy.ArgumentError", "parameter b given twice");
	cr_assert_eq(calc.calls, 0);
}

Test(server, positional_after_named, CALC)
{
	const char *n[] = { "a", NULL };

	fails("calc", "add", n, ARGS(dopy_value_int(1), dopy_value_int(2)),
	    "dopy.ArgumentError",
	    "calc.add: parameter b: positional argument after a named one");
	cr_assert_eq(calc.calls, 0);
}

Test(server, too_many_arguments, CALC)
{
	fails("calc", "add", NULL, ARGS(dopy_value_int(1), dopy_value_int(2),
	    dopy_value_int(3)), "dopy.ArgumentError",
	    "calc.add: takes 2 arguments, got 3");
	fails("calc", "wrongtype", NULL, ARGS(dopy_value_int(1)),
	    "dopy.ArgumentError", "takes 0 arguments, got 1");
	cr_assert_eq(calc.calls, 0);
}

Test(server, wrong_type, CALC)
{
	const char *n[] = { "b" };

	fails("calc", "add", NULL, ARGS(dopy_value_string("two"),
	    dopy_value_int(3)), "dopy.TypeError",
	    "calc.add: parameter a: expected int, got string");
	cr_assert_eq(dopy_error_code(k.c.err), DOPY_E_TYPE);
	fails("calc", "add", n, ARGS(dopy_value_double(1.0)), "dopy.TypeError",
	    "parameter b: expected int, got double");
	cr_assert_eq(calc.calls, 0);
}

Test(server, every_kind_reaches_the_method, CALC)
{
	call("calc", "kinds", NULL, ARGS(dopy_value_bool(1), dopy_value_int(-3),
	    dopy_value_uint(3), dopy_value_double(0.5), dopy_value_string("s"),
	    dopy_value_bytes("\0\1", 2)));
	cr_assert_eq(dopy_value_get_bool(result()), 1);
}

Test(server, array_argument, CALC)
{
	dopy_type *t = dopy_type_parse("int[]", NULL, 0);
	dopy_value *xs = dopy_value_new(t);
	int i;

	for (i = 1; i <= 100; i++)
		cr_assert_eq(dopy_value_append(xs, dopy_value_int(i)), 0);
	call("calc", "sum", NULL, ARGS(xs));
	cr_assert_eq(int_result(), 5050);
	dopy_type_free(t);
}

Test(server, unknown_object_and_method, CALC)
{
	fails("nosuch", "add", NULL, NOARGS, "dopy.UnknownObject",
	    "no object 'nosuch'");
	cr_assert_eq(dopy_error_code(k.c.err), DOPY_E_USAGE);
	fails("calc", "nosuch", NULL, NOARGS, "dopy.UnknownMethod",
	    "calc: no method 'nosuch'");
}

Test(server, raised_error_fields_and_trace, CALC)
{
	char where[300];
	size_t n;

	fails("calc", "boom", NULL, ARGS(dopy_value_string("bang")),
	    "calc.Boom", "boom: bang");
	cr_assert_eq(dopy_error_code(k.c.err), DOPY_E_REMOTE);
	cr_assert_str_eq(dopy_error_object(k.c.err), "calc");
	cr_assert_str_eq(dopy_error_method(k.c.err), "boom");
	cr_assert_str_eq(dopy_error_host(k.c.err), srv->host);
	cr_assert_eq(dopy_error_pid(k.c.err), (long)getpid());
	n = dopy_error_trace_len(k.c.err);
	cr_assert_eq(n, 3, "trace of %zu lines", n);
	cr_assert(strstr(dopy_error_trace(k.c.err, 0), "test_server.c:") !=
	    NULL && strstr(dopy_error_trace(k.c.err, 0), " c_boom") != NULL,
	    "%s", dopy_error_trace(k.c.err, 0));
	cr_assert(strstr(dopy_error_trace(k.c.err, 1), " deeper") != NULL,
	    "%s", dopy_error_trace(k.c.err, 1));
	snprintf(where, sizeof(where), "in calc.boom on host %s pid %ld",
	    srv->host, (long)getpid());
	cr_assert_str_eq(dopy_error_trace(k.c.err, 2), where);
}

Test(server, error_beats_result, CALC)
{
	fails("calc", "both", NULL, NOARGS, "dopy.Error", "both");
}

Test(server, wrong_result_type, CALC)
{
	fails("calc", "wrongtype", NULL, NOARGS, "dopy.ResultError",
	    "calc.wrongtype: returned string, declared int");
	fails("calc", "noresult", NULL, NOARGS, "dopy.ResultError",
	    "calc.noresult: returned no int");
}

Test(server, result_without_declaration_dropped, CALC)
{
	call("calc", "void", NULL, NOARGS);
	cr_assert_null(result());
	cr_assert_eq(calc.calls, 1);
}

Test(server, failure_without_raise_is_internal_error, CALC)
{
	fails("calc", "silent", NULL, NOARGS, "dopy.InternalError",
	    "calc.silent: method failed without raising an error");
}

Test(server, before_hook_refuses, CALC)
{
	calc.refuse = 1;
	fails("hooked", "add", NULL, ARGS(dopy_value_int(1), dopy_value_int(2)),
	    "calc.Refused", "not now (add)");
	cr_assert_str_eq(dopy_error_object(k.c.err), "hooked");
	cr_assert_str_eq(dopy_error_method(k.c.err), "add");
	cr_assert_eq(calc.before, 1);
	cr_assert_eq(calc.calls, 0, "the method ran after its before-hook "
	    "refused");
	/* dopy(3): nothing ran, so there is nothing for after to finish. */
	cr_assert_eq(calc.after, 0, "the after-hook ran after its "
	    "before-hook refused");
}

Test(server, hooks_run_around_the_method, CALC)
{
	call("hooked", "add", NULL, ARGS(dopy_value_int(1), dopy_value_int(2)));
	cr_assert_eq(int_result(), 3);
	cr_assert_eq(calc.before, 1);
	cr_assert_eq(calc.calls, 1);
	cr_assert_eq(calc.after, 1);
	cr_assert_eq(calc.after_saw_err, 0);
	/* No hooks on the plain object. */
	call("calc", "add", NULL, ARGS(dopy_value_int(1), dopy_value_int(2)));
	cr_assert_eq(calc.before, 1);
	cr_assert_eq(calc.after, 1);
}

Test(server, after_hook_error_ignored, CALC)
{
	calc.after_fails = 1;
	call("hooked", "add", NULL, ARGS(dopy_value_int(20),
	    dopy_value_int(22)));
	cr_assert_eq(int_result(), 42);
	cr_assert_eq(calc.after, 1);
}

/* An after-hook runs after a failed method too, and its own error does
 * not replace the method's. */
Test(server, after_hook_keeps_method_error, CALC)
{
	calc.after_fails = 1;
	fails("hooked", "boom", NULL, ARGS(dopy_value_string("x")),
	    "calc.Boom", "boom: x");
	cr_assert_eq(calc.after, 1);
}

Test(server, any_parameter_and_result, CALC)
{
	dopy_type *t = dopy_type_parse("(int,string)[]", NULL, 0);
	dopy_value *rows = dopy_value_parse(t, "[(1, a), (2, b)]", NULL, 0);
	dopy_value *want = dopy_value_copy(rows);

	call("calc", "same", NULL, ARGS(dopy_value_string("text")));
	cr_assert_str_eq(dopy_value_get_string(result()), "text");
	call("calc", "same", NULL, ARGS(rows));
	cr_assert(dopy_value_equal(result(), want));
	/* The default of an `any` parameter reads as what it looks like. */
	call("calc", "same", NULL, NOARGS);
	cr_assert_eq(int_result(), 5);
	dopy_value_free(want);
	dopy_type_free(t);
}

/* ---- introspection: the "dopy" object ---- */

Test(server, introspect_objects, CALC)
{
	call("dopy", "objects", NULL, NOARGS);
	cr_assert_str_eq(dopy_type_name(dopy_value_type(result())),
	    "string[]");
	cr_assert_eq(dopy_value_len(k.c.result), 3);
	cr_assert_str_eq(str_at(k.c.result, 0), "calc");
	cr_assert_str_eq(str_at(k.c.result, 1), "dopy");
	cr_assert_str_eq(str_at(k.c.result, 2), "hooked");
}

Test(server, introspect_describe, CALC)
{
	const dopy_value *row;

	call("dopy", "describe", NULL, ARGS(dopy_value_string("calc")));
	cr_assert_str_eq(dopy_type_name(dopy_value_type(result())),
	    "(string,string,string,string)[]");
	cr_assert_eq(dopy_value_len(k.c.result), srv->objs[0].nmethods);
	row = dopy_value_at(k.c.result, 1);
	cr_assert_str_eq(str_at(row, 0), "greet");
	cr_assert_str_eq(str_at(row, 1), "name:string, greeting:string=Hello");
	cr_assert_str_eq(str_at(row, 2), "string");
	cr_assert_str_eq(str_at(row, 3), "Greet.");
	row = dopy_value_at(k.c.result, 5);	/* boom: no result */
	cr_assert_str_eq(str_at(row, 0), "boom");
	cr_assert_str_eq(str_at(row, 2), "");
	row = dopy_value_at(k.c.result, 2);	/* wrongtype: no doc */
	cr_assert_str_eq(str_at(row, 3), "");
	cr_assert_str_eq(str_at(row, 1), "");
}

Test(server, introspect_describe_itself)
{
	dopy_server *s = tu_server();
	size_t i;
	int seen = 0;

	dispatch(s, "dopy", "describe", NULL, ARGS(dopy_value_string("dopy")));
	for (i = 0; i < dopy_value_len(result()); i++)
		if (strcmp(str_at(dopy_value_at(k.c.result, i), 0),
		    "describe") == 0)
			seen = 1;
	cr_assert(seen);
	call_done();
	dopy_server_free(s);
}

Test(server, introspect_about_and_version, CALC)
{
	call("dopy", "about", NULL, ARGS(dopy_value_string("calc")));
	cr_assert_str_eq(dopy_value_get_string(result()),
	    "A calculator for tests.");
	call("dopy", "version", NULL, NOARGS);
	cr_assert(strstr(dopy_value_get_string(result()), DOPY_VERSION) !=
	    NULL, "%s", dopy_value_get_string(k.c.result));
}

Test(server, introspect_unknown_object, CALC)
{
	fails("dopy", "describe", NULL, ARGS(dopy_value_string("ghost")),
	    "dopy.UnknownObject", "no object 'ghost'");
	fails("dopy", "about", NULL, ARGS(dopy_value_string("ghost")),
	    "dopy.UnknownObject", "no object 'ghost'");
}

/* ---- a served connection, spoken to frame by frame ---- */

struct peer {
	pid_t			pid;
	int			fd;
	struct dopy_chan	ch;
	dopy_server		*srv;
	struct calc_state	st;
	char			dir[32];	/* for a log file, or "" */
	char			log[64];
};

/* The server, to be adjusted before peer_run. */
static void
peer_new(struct peer *p)
{
	p->srv = calc_server(&p->st);
	p->dir[0] = p->log[0] = '\0';
}

/* The same, logging verbosely to a file of its own. */
static void
peer_new_logged(struct peer *p)
{
	peer_new(p);
	snprintf(p->dir, sizeof(p->dir), "/tmp/dopy-test-XXXXXX");
	cr_assert_not_null(mkdtemp(p->dir));
	snprintf(p->log, sizeof(p->log), "%s/log", p->dir);
	cr_assert_eq(dopy_server_set_log(p->srv, DOPY_LOG_FILE, p->log, 1), 0);
}

/* Serve it in a child; we speak on p->ch. */
static void
peer_run(struct peer *p)
{
	cr_assert_gt(p->pid = tu_serve(p->srv, &p->fd), 0);
	dopy_chan_init(&p->ch, p->fd, p->fd);
	p->ch.max_frame = DOPY_FRAME_DEFAULT;
	dopy_chan_deadline(&p->ch, TU_WAIT_MS);
	signal(SIGPIPE, SIG_IGN);
}

static void
peer_start(struct peer *p)
{
	peer_new(p);
	peer_run(p);
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

/* After peer_end: the log file's text in buf, and the file removed. */
static void
peer_log(struct peer *p, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	cr_assert_geq(fd = open(p->log, O_RDONLY), 0);
	n = read(fd, buf, size - 1);
	close(fd);
	cr_assert_gt(n, 0);
	buf[n] = '\0';
	unlink(p->log);
	rmdir(p->dir);
}

static void
send_raw(struct peer *p, uint8_t type, uint32_t id, const void *payload,
    size_t len)
{
	dopy_chan_begin(&p->ch);
	cr_assert_eq(dopy_buf_put(&p->ch.wbuf, payload, len), 0);
	cr_assert_eq(dopy_chan_send(&p->ch, type, id), 0);
}

/* A frame header promising len bytes, and nothing after it. */
static void
send_header(struct peer *p, uint8_t type, uint32_t id, uint32_t len)
{
	uint8_t hdr[DOPY_HDR_LEN];

	dopy_frame_encode(hdr, type, id, len);
	cr_assert_eq(tu_write_all(p->fd, hdr, sizeof(hdr)), 0);
}

static void
send_hello_as(struct peer *p, const struct dopy_hello *h)
{
	dopy_chan_begin(&p->ch);
	cr_assert_eq(dopy_msg_hello_put(&p->ch.wbuf, h), 0);
	cr_assert_eq(dopy_chan_send(&p->ch, DOPY_F_HELLO, 0), 0);
}

static void
send_hello(struct peer *p, uint32_t proto)
{
	struct dopy_hello h = { .proto = proto, .max_frame = 1u << 20,
	    .software = "test_server" };

	send_hello_as(p, &h);
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

/* Our HELLO (offering 1 MiB) and the server's. */
static void
handshake(struct peer *p)
{
	send_hello(p, DOPY_PROTOCOL);
	expect_hello(p);
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

/* Read a REPLY frame with this id. */
static void
expect_reply(struct peer *p, uint32_t id, struct dopy_frame *f)
{
	cr_assert_eq(dopy_chan_read(&p->ch, f), 0);
	cr_assert_eq(f->type, DOPY_F_REPLY);
	cr_assert_eq(f->id, id);
}

/* The server hung up. */
static void
expect_closed(struct peer *p)
{
	cr_assert_eq(dopy_chan_read(&p->ch, &(struct dopy_frame){ 0 }),
	    DOPY_E_CLOSED, "the server hung up");
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
	handshake(&p);
	send_call(&p, 9, "calc", "sum", NULL);
	expect_error(&p, 9, "dopy.ArgumentError", "missing argument");
	send_call(&p, 10, "dopy", "version", NULL);
	expect_reply(&p, 10, &f);
	cr_assert_eq(dopy_images_split(f.payload, f.len, img, 2, &n, err,
	    sizeof(err)), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(dopy_decode(&img[0], NULL, &v, err, sizeof(err)), 0);
	cr_assert(strstr(dopy_value_get_string(v), DOPY_VERSION) != NULL);
	dopy_value_free(v);
	/* A method without a result: an empty REPLY. */
	send_call(&p, 11, "calc", "void", NULL);
	expect_reply(&p, 11, &f);
	cr_assert_eq(f.len, 0);
	cr_assert_eq(peer_end(&p), 0, "clean EOF between frames");
}

Test(server, serve_call_before_hello, .timeout = 15)
{
	struct peer p;

	peer_start(&p);
	send_call(&p, 1, "calc", "void", NULL);
	expect_error(&p, 0, "dopy.ProtocolError", "expected HELLO with call "
	    "id 0, got CALL");
	expect_closed(&p);
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
	struct peer p;

	peer_start(&p);
	send_header(&p, DOPY_F_HELLO, 0, DOPY_HELLO_MAX + 1);
	expect_error(&p, 0, "dopy.FrameTooLarge", "maximum");
	cr_assert_eq(peer_end(&p), 1);
}

Test(server, serve_errors_keep_the_stream, .timeout = 15)
{
	struct peer p;

	peer_start(&p);
	handshake(&p);
	/* Each of these is answered and the connection goes on. */
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

/*
 * Call id 0 is the connection's: an ERROR carrying it is fatal, so the
 * frames that would be answered with one end the connection instead of
 * pretending to (dopy(5)), and so does a HELLO after HELLO.
 */
static const struct {
	uint8_t		 type;
	uint32_t	 id;
	const char	*want;
} id0_cases[] = {
	{ DOPY_F_HELLO, 3, "HELLO after HELLO" },
	{ DOPY_F_HELLO, 0, "HELLO after HELLO" },
	{ DOPY_F_CALL, 0, "CALL with call id 0" },
	{ DOPY_F_REPLY, 0, "REPLY with call id 0" },
	{ 99, 0, "with call id 0" },
};

ParameterizedTestParameters(server, serve_call_id_0_is_fatal)
{
	static size_t idx[sizeof(id0_cases) / sizeof(id0_cases[0])];

	for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, sizeof(idx) / sizeof(idx[0]));
}

ParameterizedTest(size_t *ip, server, serve_call_id_0_is_fatal, .timeout = 15)
{
	struct peer p;

	peer_start(&p);
	handshake(&p);
	send_raw(&p, id0_cases[*ip].type, id0_cases[*ip].id, "", 0);
	expect_error(&p, 0, "dopy.ProtocolError", id0_cases[*ip].want);
	expect_closed(&p);
	cr_assert_eq(peer_end(&p), 1);
}

/* A oneway call may use id 0 (it serves only logs), and a RELEASE of 0
 * names nothing: neither is answered, and the connection goes on. */
Test(server, serve_unanswered_id_0_is_fine, .timeout = 15)
{
	struct dopy_frame f;
	struct peer p;

	peer_start(&p);
	handshake(&p);
	send_raw(&p, DOPY_F_RELEASE, 0, "", 0);
	send_raw(&p, DOPY_F_CALLBACK_REPLY, 0, "", 0);
	send_call(&p, 1, "dopy", "version", NULL);
	expect_reply(&p, 1, &f);
	cr_assert_eq(peer_end(&p), 0);
}

Test(server, serve_hello_with_call_id, .timeout = 15)
{
	struct dopy_hello h = { .proto = DOPY_PROTOCOL, .max_frame = 1u << 20,
	    .software = "test_server" };
	struct dopy_buf b;
	struct peer p;

	peer_start(&p);
	dopy_buf_init(&b);
	dopy_buf_reserve(&b, DOPY_HDR_LEN);
	b.len = DOPY_HDR_LEN;
	cr_assert_eq(dopy_msg_hello_put(&b, &h), 0);
	dopy_frame_encode(b.data, DOPY_F_HELLO, 7, (uint32_t)(b.len -
	    DOPY_HDR_LEN));
	cr_assert_eq(tu_write_all(p.fd, b.data, b.len), 0);
	dopy_buf_release(&b);
	expect_error(&p, 0, "dopy.ProtocolError", "got HELLO with call id 7");
	expect_closed(&p);
	cr_assert_eq(peer_end(&p), 1);
}

Test(server, serve_bad_magic_ends_connection, .timeout = 15)
{
	struct peer p;

	peer_start(&p);
	handshake(&p);
	cr_assert_eq(tu_write_all(p.fd, "GET / HTTP/1.0\r\n\r\n", 18), 0);
	expect_error(&p, 0, "dopy.ProtocolError", "malformed frame header");
	expect_closed(&p);
	cr_assert_eq(peer_end(&p), 1);
}

Test(server, serve_eof_inside_frame, .timeout = 15)
{
	struct peer p;

	peer_start(&p);
	handshake(&p);
	send_header(&p, DOPY_F_CALL, 1, 100);
	cr_assert_eq(tu_write_all(p.fd, "partial", 7), 0);
	shutdown(p.fd, SHUT_WR);
	expect_error(&p, 0, "dopy.ProtocolError", "end of input");
	cr_assert_eq(peer_end(&p), 1);
}

Test(server, serve_oversized_frame_after_hello, .timeout = 15)
{
	struct peer p;

	peer_start(&p);
	handshake(&p);
	/* We said 1 MiB: more is refused before it is read. */
	send_header(&p, DOPY_F_CALL, 1, (1u << 20) + 1);
	expect_error(&p, 0, "dopy.FrameTooLarge", "1048576");
	cr_assert_eq(peer_end(&p), 1);
}

/* A result larger than the negotiated frame becomes an error reply: the
 * call's, naming its object and method, not the connection's. */
Test(server, serve_result_too_large, .timeout = 15)
{
	struct dopy_frame f;
	struct peer p;
	dopy_error *e;
	size_t n;

	peer_start(&p);
	handshake(&p);
	send_call(&p, 3, "calc", "big", dopy_value_uint(2u << 20));
	cr_assert_eq(dopy_chan_read(&p.ch, &f), 0);
	cr_assert(f.type == DOPY_F_ERROR && f.id == 3);
	cr_assert_eq(dopy_msg_error_get(f.payload, f.len, &e), 0);
	cr_assert_str_eq(dopy_error_name(e), "dopy.FrameTooLarge");
	cr_assert_str_eq(dopy_error_object(e), "calc");
	cr_assert_str_eq(dopy_error_method(e), "big");
	cr_assert_gt(n = dopy_error_trace_len(e), 0);
	cr_assert(strncmp(dopy_error_trace(e, n - 1), "in calc.big on host",
	    19) == 0, "%s", dopy_error_trace(e, n - 1));
	dopy_error_free(e);
	send_call(&p, 4, "calc", "big", dopy_value_uint(1000));
	expect_reply(&p, 4, &f);
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

	peer_new(&p);
	p.srv->handshake_ms = 200;
	peer_run(&p);
	t0 = dopy_now_ms();
	expect_error(&p, 0, "dopy.Timeout", "no complete frame in time");
	cr_assert_lt(dopy_now_ms() - t0, 5000);
	cr_assert_eq(peer_end(&p), 1);
}

Test(server, serve_idle_deadline, .timeout = 15)
{
	struct peer p;

	peer_new(&p);
	p.srv->idle_ms = 200;
	peer_run(&p);
	handshake(&p);
	expect_error(&p, 0, "dopy.Timeout", "no complete frame in time");
	cr_assert_eq(peer_end(&p), 1);
}

/* The log gets a line for a refused connection. */
Test(server, serve_logs_to_file, .timeout = 15)
{
	char buf[4096];
	struct peer p;

	peer_new_logged(&p);
	peer_run(&p);
	send_hello(&p, 7);
	expect_error(&p, 0, "dopy.VersionMismatch", "speaks 7");
	cr_assert_eq(peer_end(&p), 1);
	peer_log(&p, buf, sizeof(buf));
	cr_assert(strstr(buf, "dopy.VersionMismatch") != NULL, "%s", buf);
	cr_assert(strstr(buf, "recv {\"frame\":\"HELLO\"") != NULL,
	    "verbose: %s", buf);
}

/*
 * What a peer sends must not forge lines in a log file: every line the
 * server writes starts with its timestamp, whatever strings the peer
 * put in its HELLO.
 */
Test(server, serve_log_cannot_be_forged, .timeout = 15)
{
	struct dopy_hello h = { .proto = 2, .max_frame = 4096,
	    .software = "evil\n2026-01-01T00:00:00Z dopyd[1]: FORGED\rX" };
	char buf[4096], *line;
	struct peer p;

	peer_new_logged(&p);
	peer_run(&p);
	send_hello_as(&p, &h);
	expect_error(&p, 0, "dopy.VersionMismatch", "client speaks 2");
	cr_assert_eq(peer_end(&p), 1);
	peer_log(&p, buf, sizeof(buf));
	cr_assert_null(strchr(buf, '\r'), "raw CR in the log: %s", buf);
	for (line = buf; *line != '\0'; line = strchr(line, '\n') + 1) {
		cr_assert_neq(strchr(line, '\n'), NULL, "unterminated: %s",
		    line);
		cr_assert(line[4] == '-' && line[10] == 'T',
		    "a line the server did not write: %.80s", line);
		cr_assert(strncmp(line, "2026-01-01T00:00:00Z dopyd[1]", 29)
		    != 0, "forged line: %.80s", line);
	}
}
