/*
 * e2e_refs.c - objects by reference through the real dopyd and the
 * client library: made by the factory object (bin/testobj_ref.c),
 * called at "@ID", passed back as arguments (alone, in arrays and in
 * structures), forged ids refused, released, reaped with -R, and dead
 * with their connection.  Every wait has a deadline.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e_util.h"
#include "internal.h"	/* dopy_now_ms, frame types */

/* dopyd with extra options, over a pipe. */
static dopy_conn *
dopyd(const char *opts)
{
	char cmd[2048];
	dopy_conn *c = NULL;
	dopy_error *e = NULL;

	snprintf(cmd, sizeof(cmd), "exec %s -L /dev/null %s",
	    e2e_bin("dopyd"), opts);
	cr_assert_eq(dopy_conn_spawn(cmd, &c, &e), 0, "%s",
	    dopy_error_message(e));
	return c;
}

/* The factory object on a new connection: to dopyd with opts, or the
 * stock one for NULL. */
static dopy_proxy *
open_factory(const char *opts, dopy_conn **c)
{
	*c = opts != NULL ? dopyd(opts) : e2e_dopyd_conn(NULL);
	return dopy_proxy_new(*c, "factory");
}

/* Free the values (up to a NULL) and f, and close c, which must go
 * cleanly. */
static void
close_factory(dopy_conn *c, dopy_proxy *f, ...)
{
	dopy_value *v;
	va_list ap;

	va_start(ap, f);
	while ((v = va_arg(ap, dopy_value *)) != NULL)
		dopy_value_free(v);
	va_end(ap);
	dopy_proxy_free(f);
	cr_assert_eq(dopy_conn_close(c), 0);
}

/* Call p.method with at most one argument (taken); must succeed. */
static dopy_value *
call1(dopy_proxy *p, const char *method, dopy_value *arg)
{
	dopy_args *a = dopy_args_new();
	dopy_value *r = NULL;
	dopy_error *e = NULL;

	if (arg != NULL)
		cr_assert_eq(dopy_args_add(a, NULL, arg), 0);
	cr_assert_eq(dopy_proxy_call(p, method, a, &r, &e), 0, "%s: %s: %s",
	    method, dopy_error_name(e), dopy_error_message(e));
	dopy_args_free(a);
	return r;
}

static int64_t
int1(dopy_proxy *p, const char *method, dopy_value *arg)
{
	dopy_value *r = call1(p, method, arg);
	int64_t v;

	cr_assert_eq(dopy_value_kind(r), DOPY_INT, "%s: not an int", method);
	v = dopy_value_get_int(r);
	dopy_value_free(r);
	return v;
}

/* p.method(arg) must fail with code rc, this error name and message part. */
static void
call_fails_rc(dopy_proxy *p, const char *method, dopy_value *arg, int rc,
    const char *name, const char *want)
{
	dopy_args *a = dopy_args_new();
	dopy_value *r = NULL;
	dopy_error *e = NULL;

	if (arg != NULL)
		cr_assert_eq(dopy_args_add(a, NULL, arg), 0);
	cr_assert_eq(dopy_proxy_call(p, method, a, &r, &e), rc,
	    "%s: not refused", method);
	cr_assert_null(r);
	cr_assert_str_eq(dopy_error_name(e), name, "%s",
	    dopy_error_message(e));
	cr_assert(strstr(dopy_error_message(e), want) != NULL,
	    "'%s' lacks '%s'", dopy_error_message(e), want);
	dopy_error_free(e);
	dopy_args_free(a);
}

/* Refused by dopy itself: unknown object, method or reference. */
static void
call_fails(dopy_proxy *p, const char *method, dopy_value *arg,
    const char *name, const char *want)
{
	call_fails_rc(p, method, arg, DOPY_E_USAGE, name, want);
}

static dopy_value *
lit(const char *type, const char *text)
{
	dopy_type *t = dopy_type_parse(type, NULL, 0);
	dopy_value *v;
	char err[200] = "";

	cr_assert_not_null(t);
	v = dopy_value_parse(t, text, err, sizeof(err));
	cr_assert_not_null(v, "%s", err);
	dopy_type_free(t);
	return v;
}

/* factory.counter(start): a ref. */
static dopy_value *
counter(dopy_proxy *f, int64_t start)
{
	dopy_value *r = call1(f, "counter", dopy_value_int(start));

	cr_assert_eq(dopy_value_kind(r), DOPY_REF);
	cr_assert_neq(dopy_value_get_ref(r), 0);
	return r;
}

/* Whether factory.gone_log holds line. */
static int
gone_logged(dopy_proxy *f, const char *line)
{
	dopy_value *log = call1(f, "gone_log", NULL);
	size_t i;
	int found = 0;

	for (i = 0; i < dopy_value_len(log); i++)
		if (strcmp(dopy_value_get_string(dopy_value_at(log, i)),
		    line) == 0)
			found = 1;
	dopy_value_free(log);
	return found;
}

/* Wait for factory.live() to reach want; the time it took, or -1. */
static long
live_becomes(dopy_proxy *f, int64_t want, int ms)
{
	int64_t t0 = dopy_now_ms();

	while (dopy_now_ms() - t0 < ms) {
		if (int1(f, "live", NULL) == want)
			return (long)(dopy_now_ms() - t0);
		usleep(50 * 1000);
	}
	return -1;
}

Test(refs, create_and_call, .timeout = 20)
{
	dopy_conn *c;
	dopy_proxy *f = open_factory(NULL, &c), *p, *q;
	dopy_value *r1, *r2;

	r1 = counter(f, 5);
	r2 = counter(f, 100);
	cr_assert_eq(dopy_value_get_ref(r1), 1, "ids start at 1");
	cr_assert_eq(dopy_value_get_ref(r2), 2);
	cr_assert_not_null(p = dopy_proxy_ref(c, r1));
	cr_assert_eq(int1(p, "incr", NULL), 6);
	cr_assert_eq(int1(p, "incr", NULL), 7);
	cr_assert_eq(int1(p, "get", NULL), 7);
	/* The same object by its key. */
	q = dopy_proxy_new(c, "@2");
	cr_assert_eq(int1(q, "get", NULL), 100);
	cr_assert_eq(int1(f, "live", NULL), 2);
	call_fails(p, "nope", NULL, "dopy.UnknownMethod",
	    "counter: no method 'nope'");
	dopy_proxy_free(p);
	dopy_proxy_free(q);
	close_factory(c, f, r1, r2, NULL);
}

/* A ref made by a method of a ref. */
Test(refs, ref_from_ref, .timeout = 20)
{
	dopy_conn *c;
	dopy_proxy *f = open_factory(NULL, &c), *p, *q;
	dopy_value *r1 = counter(f, 41), *r2;

	p = dopy_proxy_ref(c, r1);
	r2 = call1(p, "spawn", NULL);
	cr_assert_eq(dopy_value_get_ref(r2), 2);
	q = dopy_proxy_ref(c, r2);
	cr_assert_eq(int1(q, "incr", NULL), 42);
	cr_assert_eq(int1(p, "get", NULL), 41, "a new object");
	dopy_proxy_free(p);
	dopy_proxy_free(q);
	close_factory(c, f, r1, r2, NULL);
}

Test(refs, passed_back_as_arguments, .timeout = 20)
{
	dopy_conn *c;
	dopy_proxy *f = open_factory(NULL, &c);
	dopy_value *r1 = counter(f, 10), *r2 = counter(f, 20), *a, *back;
	dopy_type *t;
	char *s;

	cr_assert_eq(int1(f, "value", dopy_value_copy(r2)), 20);
	t = dopy_type_parse("ref[]", NULL, 0);
	a = dopy_value_new(t);
	dopy_type_free(t);
	cr_assert_eq(dopy_value_append(a, dopy_value_copy(r1)), 0);
	cr_assert_eq(dopy_value_append(a, dopy_value_copy(r2)), 0);
	cr_assert_eq(dopy_value_append(a, dopy_value_copy(r2)), 0);
	cr_assert_eq(int1(f, "sum", a), 50);
	back = call1(f, "label", lit("(string,ref)", "(ten, @1)"));
	cr_assert_str_eq(dopy_value_get_string(back), "ten=10");
	dopy_value_free(back);
	/* Through an `any' parameter and back as the result. */
	back = call1(f, "pass", dopy_value_copy(r1));
	cr_assert(dopy_value_equal(back, r1));
	dopy_value_free(back);
	back = call1(f, "pass", lit("(string,ref)[]", "[(a, @1), (b, @2)]"));
	cr_assert_not_null(s = dopy_value_format(back));
	cr_assert_str_eq(s, "[(\"a\", @1), (\"b\", @2)]");
	free(s);
	close_factory(c, f, back, r1, r2, NULL);
}

Test(refs, arrays_and_structures_of_refs, .timeout = 20)
{
	dopy_conn *c;
	dopy_proxy *f = open_factory(NULL, &c), *p;
	dopy_value *many, *pair;
	char *json;
	size_t i;

	many = call1(f, "many", dopy_value_int(3));
	cr_assert_str_eq(dopy_type_name(dopy_value_type(many)), "ref[]");
	cr_assert_eq(dopy_value_len(many), 3);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(dopy_value_get_ref(dopy_value_at(many, i)), i + 1);
		p = dopy_proxy_ref(c, dopy_value_at(many, i));
		cr_assert_eq(int1(p, "get", NULL), (int64_t)i);
		dopy_proxy_free(p);
	}
	cr_assert_eq(int1(f, "sum", dopy_value_copy(many)), 0 + 1 + 2);
	pair = call1(f, "pair", dopy_value_string("bob"));
	cr_assert_str_eq(dopy_type_name(dopy_value_type(pair)),
	    "(string,ref)");
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(pair, 0)), "bob");
	cr_assert_eq(dopy_value_get_ref(dopy_value_at(pair, 1)), 4);
	cr_assert_not_null(json = dopy_value_json(pair));
	cr_assert_str_eq(json, "[\"bob\",{\"ref\":4}]");
	free(json);
	cr_assert_eq(int1(f, "live", NULL), 4);
	close_factory(c, f, many, pair, NULL);
}

/* The session fuzzer made counters at INT64_MAX and summed them: signed
 * overflow, which UBSan reports.  The test object refuses instead. */
Test(refs, counters_refuse_to_overflow, .timeout = 20)
{
	dopy_conn *c;
	dopy_proxy *f = open_factory(NULL, &c), *p;
	dopy_value *r = counter(f, INT64_MAX), *a;

	a = lit("ref[]", "[@1, @1]");
	call_fails_rc(f, "sum", a, DOPY_E_REMOTE, "counter.Overflow",
	    "the sum overflows");
	p = dopy_proxy_ref(c, r);
	call_fails_rc(p, "incr", NULL, DOPY_E_REMOTE, "counter.Overflow",
	    "at its limit");
	cr_assert_eq(int1(p, "get", NULL), INT64_MAX, "nothing changed");
	dopy_proxy_free(p);
	close_factory(c, f, r, NULL);
}

/* Ids are checked on every use: nothing else reaches an object. */
Test(refs, unknown_and_forged_ids, .timeout = 20)
{
	static const char *const keys[] = {
		"@0", "@99", "@-1", "@abc", "@", "@01", "@1 ", "@4294967297",
	};
	dopy_conn *c;
	dopy_proxy *f = open_factory(NULL, &c), *p;
	dopy_value *r = counter(f, 1), *forged;
	char want[128];
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		p = dopy_proxy_new(c, keys[i]);
		snprintf(want, sizeof(want), "no reference %s on this "
		    "connection", keys[i]);
		call_fails(p, "get", NULL, "dopy.UnknownObject", want);
		dopy_proxy_free(p);
	}
	call_fails(f, "value", dopy_value_ref(99), "dopy.UnknownReference",
	    "factory.value: parameter r: no reference @99 on this connection "
	    "(released, reaped, or from another connection)");
	call_fails(f, "sum", lit("ref[]", "[@1, @2]"),
	    "dopy.UnknownReference", "parameter refs: no reference @2");
	call_fails(f, "label", lit("(string,ref)", "(x, @3)"),
	    "dopy.UnknownReference", "parameter p: no reference @3");
	call_fails(f, "pass", dopy_value_ref(4), "dopy.UnknownReference",
	    "parameter v: no reference @4");
	/* A server may hand out any number; the table still decides. */
	forged = call1(f, "forge", dopy_value_int(7));
	cr_assert_eq(dopy_value_get_ref(forged), 7);
	p = dopy_proxy_ref(c, forged);
	call_fails(p, "get", NULL, "dopy.UnknownObject", "no reference @7");
	dopy_proxy_free(p);
	/* The real one still works, and the stream is in sync. */
	p = dopy_proxy_ref(c, r);
	cr_assert_eq(int1(p, "incr", NULL), 2);
	dopy_proxy_free(p);
	close_factory(c, f, forged, r, NULL);
}

Test(refs, release, .timeout = 20)
{
	dopy_conn *c;
	dopy_proxy *f = open_factory(NULL, &c), *p;
	dopy_value *r1 = counter(f, 1), *r2 = counter(f, 2), *r3;
	dopy_error *e = NULL;

	cr_assert_eq(int1(f, "live", NULL), 2);
	p = dopy_proxy_ref(c, r1);
	cr_assert_eq(dopy_ref_release(c, r1, &e), 0, "%s",
	    dopy_error_message(e));
	/* RELEASE has no answer; frames are served in order. */
	cr_assert_eq(int1(f, "live", NULL), 1);
	cr_assert(gone_logged(f, "@1 released"));
	cr_assert_not(gone_logged(f, "@2 released"));
	call_fails(p, "get", NULL, "dopy.UnknownObject", "no reference @1");
	call_fails(f, "value", dopy_value_copy(r1), "dopy.UnknownReference",
	    "no reference @1");
	/* Twice, or an id never made: logged by the server, no answer. */
	cr_assert_eq(dopy_ref_release(c, r1, NULL), 0);
	r3 = dopy_value_ref(999);
	cr_assert_eq(dopy_ref_release(c, r3, NULL), 0);
	cr_assert_eq(int1(f, "live", NULL), 1);
	cr_assert_eq(int1(f, "value", dopy_value_copy(r2)), 2);
	/* Ids are not reused. */
	dopy_value_free(r3);
	r3 = counter(f, 3);
	cr_assert_eq(dopy_value_get_ref(r3), 3);
	dopy_proxy_free(p);
	close_factory(c, f, r1, r2, r3, NULL);
}

/* The RELEASE frame by hand: no answer, whatever the id. */
Test(refs, release_frame_on_the_wire, .timeout = 20)
{
	struct e2e_proc d;
	struct dopy_buf b;
	dopy_value *a[1], *v;

	e2e_dopyd(&d, 1, 1u << 20, "-v");
	dopy_buf_init(&b);
	a[0] = dopy_value_int(5);
	e2e_call(&b, 1, "factory", "counter", 1, NULL, a);
	e2e_frame(&b, DOPY_F_RELEASE, 1, NULL, 0);
	e2e_frame(&b, DOPY_F_RELEASE, 1, NULL, 0);
	e2e_frame(&b, DOPY_F_RELEASE, 0, NULL, 0);
	e2e_frame(&b, DOPY_F_RELEASE, 0xffffffffu, NULL, 0);
	e2e_call(&b, 2, "factory", "live", 0, NULL, NULL);
	e2e_call(&b, 3, "@1", "get", 0, NULL, NULL);
	e2e_send(&d, &b);
	v = e2e_expect_reply(d.out, 1);
	cr_assert_eq(dopy_value_get_ref(v), 1);
	dopy_value_free(v);
	v = e2e_expect_reply(d.out, 2);
	cr_assert_eq(dopy_value_get_int(v), 0, "released: none alive");
	dopy_value_free(v);
	dopy_error_free(e2e_expect_error(d.out, 3, "dopy.UnknownObject"));
	e2e_close(&d);
	cr_assert(e2e_exited(e2e_wait(&d, E2E_WAIT_MS), 0));
	dopy_buf_release(&b);
}

Test(refs, reaped_after_the_age, .timeout = 30)
{
	dopy_conn *c;
	dopy_proxy *f = open_factory("-R 1", &c), *p;
	dopy_value *r = counter(f, 1);
	long ms;

	cr_assert_eq(int1(f, "live", NULL), 1);
	/* live() is not a use of the counter. */
	ms = live_becomes(f, 0, 5000);
	cr_assert_geq(ms, 0, "not reaped within 5 s");
	cr_assert_geq(ms, 700, "reaped after %ld ms, before its age", ms);
	cr_assert(gone_logged(f, "@1 reaped"));
	p = dopy_proxy_ref(c, r);
	call_fails(p, "get", NULL, "dopy.UnknownObject", "no reference @1");
	dopy_proxy_free(p);
	close_factory(c, f, r, NULL);
}

/* Calls on an object, and the object passed as an argument, keep it. */
Test(refs, use_keeps_a_ref_alive, .timeout = 30)
{
	dopy_conn *c;
	dopy_proxy *f = open_factory("-R 1", &c), *p;
	dopy_value *called = counter(f, 1), *passed = counter(f, 2),
	    *idle = counter(f, 3);
	int64_t t0 = dopy_now_ms();

	p = dopy_proxy_ref(c, called);
	while (dopy_now_ms() - t0 < 2500) {
		cr_assert_eq(int1(p, "get", NULL), 1);
		cr_assert_eq(int1(f, "value", dopy_value_copy(passed)), 2);
		usleep(200 * 1000);
	}
	cr_assert(gone_logged(f, "@3 reaped"), "the idle one is reaped");
	cr_assert_not(gone_logged(f, "@1 reaped"));
	cr_assert_not(gone_logged(f, "@2 reaped"));
	cr_assert_eq(int1(f, "live", NULL), 2);
	dopy_proxy_free(p);
	close_factory(c, f, called, passed, idle, NULL);
}

Test(refs, no_reaping_without_R, .timeout = 20)
{
	dopy_conn *c;
	dopy_proxy *f = open_factory(NULL, &c);
	dopy_value *r = counter(f, 1);

	usleep(1500 * 1000);
	cr_assert_eq(int1(f, "live", NULL), 1);
	cr_assert_eq(int1(f, "value", dopy_value_copy(r)), 1);
	close_factory(c, f, r, NULL);
}

/* Each connection its own table, and refs die with the connection. */
Test(refs, refs_belong_to_their_connection, .timeout = 20)
{
	dopy_conn *a = e2e_dopyd_conn(NULL), *b = e2e_dopyd_conn(NULL);
	dopy_proxy *fa = dopy_proxy_new(a, "factory"),
	    *fb = dopy_proxy_new(b, "factory"), *pa, *pb;
	dopy_value *ra = counter(fa, 5), *rb;

	pb = dopy_proxy_new(b, "@1");
	call_fails(pb, "get", NULL, "dopy.UnknownObject", "no reference @1");
	call_fails(fb, "value", dopy_value_copy(ra), "dopy.UnknownReference",
	    "no reference @1");
	rb = counter(fb, 0);
	cr_assert_eq(dopy_value_get_ref(rb), 1, "ids count per connection");
	pa = dopy_proxy_new(a, "@1");
	cr_assert_eq(int1(pa, "incr", NULL), 6);
	cr_assert_eq(int1(pb, "incr", NULL), 1);
	dopy_proxy_free(pa);
	dopy_proxy_free(fa);
	cr_assert_eq(dopy_conn_close(a), 0);
	/* A new connection starts with nothing. */
	a = e2e_dopyd_conn(NULL);
	fa = dopy_proxy_new(a, "factory");
	pa = dopy_proxy_new(a, "@1");
	call_fails(pa, "get", NULL, "dopy.UnknownObject", "no reference @1");
	cr_assert_eq(int1(fa, "live", NULL), 0);
	dopy_proxy_free(pa);
	dopy_proxy_free(pb);
	dopy_proxy_free(fa);
	dopy_proxy_free(fb);
	dopy_value_free(ra);
	dopy_value_free(rb);
	cr_assert_eq(dopy_conn_close(a), 0);
	cr_assert_eq(dopy_conn_close(b), 0);
}

/* Introspection sees the connection's references too. */
Test(refs, describe_a_ref, .timeout = 20)
{
	dopy_conn *c;
	dopy_proxy *f = open_factory(NULL, &c);
	dopy_value *r = counter(f, 1), *methods = NULL;
	dopy_error *e = NULL;

	cr_assert_eq(dopy_describe(c, "@1", &methods, &e), 0, "%s",
	    dopy_error_message(e));
	cr_assert_eq(dopy_value_len(methods), 3);
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(dopy_value_at(
	    methods, 0), 0)), "incr");
	dopy_value_free(methods);
	cr_assert_eq(dopy_describe(c, "@2", &methods, &e), DOPY_E_USAGE);
	dopy_error_free(e);
	close_factory(c, f, r, NULL);
}
