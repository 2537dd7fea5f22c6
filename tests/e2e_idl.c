/*
 * e2e_idl.c - generated code end to end: stubs made by dopy-idl from
 * tests/idl/types.idl call typesd, whose skeleton comes from the same
 * file; the dynamic API calls typesd too, and stubs from
 * tests/idl/test.idl call dopyd's hand-written test object, so both
 * sides are checked against hand-written peers.  The Makefile generates
 * tests/idl/gen/ before it builds this file.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "e2e_util.h"
#include "types_client.h"
#include "test_client.h"

static dopy_conn *
typesd(const char *opt)
{
	char cmd[1200];
	dopy_error *e = NULL;
	dopy_conn *c = NULL;

	snprintf(cmd, sizeof(cmd), "%s -L %s/typesd.log%s%s",
	    e2e_bin("typesd"), e2e_tmpdir(), opt ? " " : "", opt ? opt : "");
	if (dopy_conn_spawn(cmd, &c, &e) < 0)
		cr_assert_fail("typesd: %s", dopy_error_message(e));
	return c;
}

static void
ok(int r, dopy_error **e, const char *what)
{
	char *s;

	if (r == 0)
		return;
	s = dopy_error_format(*e);
	cr_assert_fail("%s: %d %s", what, r, s ? s : "");
}

/* The echoes of every type through generated stubs, to object (the
 * generated types, or htypes, the same written by hand). */
static void
scalars_and_strings(const char *object)
{
	dopy_conn *c = typesd(NULL);
	dopy_proxy *p = dopy_proxy_new(c, object);
	dopy_error *e = NULL;
	struct dopy_bytes b;
	int64_t i;
	uint64_t u;
	double d;
	char *s;
	int t;

	ok(types_echo_bool(p, 1, &t, &e), &e, "bool");
	cr_assert_eq(t, 1);
	ok(types_echo_int(p, INT64_MIN, &i, &e), &e, "int");
	cr_assert_eq(i, INT64_MIN);
	ok(types_echo_uint(p, UINT64_MAX, &u, &e), &e, "uint");
	cr_assert_eq(u, UINT64_MAX);
	ok(types_echo_double(p, -0.125, &d, &e), &e, "double");
	cr_assert_eq(d, -0.125);
	ok(types_echo_double(p, INFINITY, &d, &e), &e, "inf");
	cr_assert(isinf(d));
	ok(types_echo_string(p, "h\xc3\xa9llo, \"w\"", &s, &e), &e, "string");
	cr_assert_str_eq(s, "h\xc3\xa9llo, \"w\"");
	free(s);
	ok(types_echo_string(p, "", &s, &e), &e, "empty string");
	cr_assert_str_eq(s, "");
	free(s);
	ok(types_echo_bytes(p, "a\0b\0", 4, &b, &e), &e, "bytes");
	cr_assert_eq(b.len, 4);
	cr_assert(memcmp(b.data, "a\0b\0", 4) == 0);
	free(b.data);
	ok(types_echo_bytes(p, "", 0, &b, &e), &e, "no bytes");
	cr_assert_eq(b.len, 0);
	free(b.data);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}

static void
arrays_and_structures(const char *object)
{
	dopy_conn *c = typesd(NULL);
	dopy_proxy *p = dopy_proxy_new(c, object);
	int64_t row0[] = { 1, 2, 3 }, row1[] = { -4 };
	struct int_array rows[] = { { row0, 3 }, { row1, 1 }, { NULL, 0 } };
	struct int_array_array m = { rows, 3 }, mr;
	char *names[] = { "a", "", "c,d" };
	struct string_array sa = { names, 3 }, sr;
	struct point pts[] = { { 1, -2, "one", 1, 0.5, 7 },
	    { INT64_MAX, INT64_MIN, "", 0, -1e300, UINT64_MAX } };
	struct point_array pa = { pts, 2 }, pr, nest_rows[2];
	struct point_array_array nest = { nest_rows, 2 }, nr;
	struct point pt;
	struct types_echo_pair_v pair = { 42, "x" };
	struct types_echo_pair_result prr;
	dopy_error *e = NULL;
	size_t i;

	ok(types_echo_matrix(p, &m, &mr, &e), &e, "int[][]");
	cr_assert_eq(mr.n, 3);
	cr_assert_eq(mr.v[0].n, 3);
	cr_assert_eq(mr.v[0].v[2], 3);
	cr_assert_eq(mr.v[1].v[0], -4);
	cr_assert_eq(mr.v[2].n, 0);
	int_array_array_clear(&mr);
	cr_assert_eq(mr.v, NULL);
	ok(types_echo_strings(p, &sa, &sr, &e), &e, "string[]");
	cr_assert_eq(sr.n, 3);
	for (i = 0; i < 3; i++)
		cr_assert_str_eq(sr.v[i], names[i]);
	string_array_clear(&sr);
	ok(types_echo_point(p, &pts[1], &pt, &e), &e, "point");
	cr_assert(pt.x == INT64_MAX && pt.y == INT64_MIN && pt.on == 0 &&
	    pt.w == -1e300 && pt.u == UINT64_MAX);
	cr_assert_str_eq(pt.name, "");
	point_clear(&pt);
	ok(types_echo_points(p, &pa, &pr, &e), &e, "point[]");
	cr_assert_eq(pr.n, 2);
	cr_assert_str_eq(pr.v[0].name, "one");
	cr_assert(pr.v[0].on == 1 && pr.v[0].w == 0.5 && pr.v[0].u == 7);
	point_array_clear(&pr);
	nest_rows[0] = pa;
	nest_rows[1].v = NULL;
	nest_rows[1].n = 0;
	ok(types_echo_nested(p, &nest, &nr, &e), &e, "point[][]");
	cr_assert(nr.n == 2 && nr.v[0].n == 2 && nr.v[1].n == 0);
	cr_assert_str_eq(nr.v[0].v[1].name, "");
	point_array_array_clear(&nr);
	ok(types_echo_pair(p, &pair, &prr, &e), &e, "(int,string)");
	cr_assert_eq(prr.f0, 42);
	cr_assert_str_eq(prr.f1, "x");
	types_echo_pair_result_clear(&prr);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}

Test(idl, scalars_and_strings_round_trip, .timeout = 30)
{
	scalars_and_strings("types");
}

Test(idl, arrays_and_structures_round_trip, .timeout = 30)
{
	arrays_and_structures("types");
}

/* Generated stubs against a hand-written table of the same signatures. */
Test(idl, stubs_against_a_handwritten_table, .timeout = 30)
{
	scalars_and_strings("htypes");
	arrays_and_structures("htypes");
}

Test(idl, any_refs_errors_oneway_and_attributes, .timeout = 30)
{
	dopy_conn *c = typesd(NULL);
	dopy_proxy *p = dopy_proxy_new(c, "types"), *cp;
	dopy_value *v = e2e_value("(int,string)[]", "[(1,\"a\")]"), *vr, *ref;
	dopy_error *e = NULL;
	int64_t i, n;
	uint32_t id;
	double lv;
	char *s;

	ok(types_echo_any(p, v, &vr, &e), &e, "any");
	cr_assert(dopy_value_equal(v, vr));
	dopy_value_free(vr);
	dopy_value_free(v);
	/* A reference, then generated stubs through a proxy for it. */
	ok(types_cell(p, 41, &id, &e), &e, "cell");
	cr_assert_gt(id, 0);
	ref = dopy_value_ref(id);
	cp = dopy_proxy_ref(c, ref);
	ok(cell_set(cp, 42, &e), &e, "cell.set");
	ok(cell_get(cp, &i, &e), &e, "cell.get");
	cr_assert_eq(i, 42);
	ok(types_peek(p, id, &i, &e), &e, "peek");
	cr_assert_eq(i, 42);
	dopy_proxy_free(cp);
	dopy_value_free(ref);
	/* Declared errors arrive by the names the header defines. */
	cr_assert_eq(types_add(p, INT64_MAX, 1, &i, &e), DOPY_E_REMOTE);
	cr_assert_str_eq(dopy_error_name(e), TYPES_E_RANGE);
	cr_assert_eq(types_check(p, 0, &e), DOPY_E_REMOTE);
	cr_assert_str_eq(dopy_error_name(e), TYPES_E_SHARED);
	dopy_error_free(e);
	e = NULL;
	/* A result nobody wants, and a method without one. */
	ok(types_greet(p, "you", "Hi", NULL, &e), &e, "greet, no result");
	ok(types_nothing(p, &e), &e, "nothing");
	ok(types_kinds(p, "x", 3, &s, &e), &e, "kinds");
	cr_assert_str_eq(s, "x 3");
	free(s);
	ok(types_note(p, "a", &e), &e, "oneway");
	ok(types_note(p, "b", &e), &e, "oneway");
	ok(types_notes(p, &n, &e), &e, "notes");
	cr_assert_eq(n, 2);
	ok(types_set_level(p, 2.5, &e), &e, "set:level");
	ok(types_get_level(p, &lv, &e), &e, "get:level");
	cr_assert_eq(lv, 2.5);
	cr_assert_eq(types_set_level(p, -1, &e), DOPY_E_REMOTE);
	cr_assert_str_eq(dopy_error_name(e), TYPES_E_RANGE);
	dopy_error_free(e);
	e = NULL;
	ok(types_get_calls(p, &i, &e), &e, "get:calls");
	cr_assert_geq(i, 6);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}

Test(idl, async_stubs, .timeout = 30)
{
	dopy_conn *c = typesd(NULL);
	dopy_proxy *p = dopy_proxy_new(c, "types");
	dopy_future *f[8];
	dopy_error *e = NULL;
	char *s[8];
	int64_t i;
	int k;

	for (k = 0; k < 8; k++) {
		char name[16];

		snprintf(name, sizeof(name), "n%d", k);
		ok(types_greet_async(p, name, "Hi", &s[k], NULL, NULL, &f[k],
		    &e), &e, "greet_async");
	}
	for (k = 7; k >= 0; k--) {
		char want[32];

		ok(dopy_future_wait(f[k], NULL, &e), &e, "wait");
		snprintf(want, sizeof(want), "Hi, n%d!", k);
		cr_assert_str_eq(s[k], want);
		free(s[k]);
		dopy_future_free(f[k]);
	}
	ok(types_add_async(p, 2, 3, &i, NULL, NULL, &f[0], &e), &e, "add");
	ok(dopy_future_wait(f[0], NULL, &e), &e, "wait add");
	cr_assert_eq(i, 5);
	dopy_future_free(f[0]);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}

/* The dynamic API is a hand-written client of the generated server:
 * names, defaults and value trees reach the typed functions. */
Test(idl, dynamic_client_of_a_generated_server, .timeout = 30)
{
	dopy_conn *c = typesd(NULL);
	dopy_proxy *p = dopy_proxy_new(c, "types");
	dopy_args *a = dopy_args_new();
	dopy_value *v = NULL, *pts;
	dopy_error *e = NULL;

	ok(dopy_proxy_call(p, "greet", NULL, &v, &e), &e, "greet()");
	cr_assert_str_eq(dopy_value_get_string(v), "Hello, there, World!");
	dopy_value_free(v);
	dopy_args_int(a, NULL, 40);
	ok(dopy_proxy_call(p, "add", a, &v, &e), &e, "add(40)");
	cr_assert_eq(dopy_value_get_int(v), 41);
	dopy_value_free(v);
	dopy_args_free(a);
	a = dopy_args_new();
	dopy_args_int(a, "b", 2);
	dopy_args_int(a, "a", 5);
	ok(dopy_proxy_call(p, "add", a, &v, &e), &e, "add(b=2, a=5)");
	cr_assert_eq(dopy_value_get_int(v), 7);
	dopy_value_free(v);
	dopy_args_free(a);
	pts = e2e_value("(x:int,y:int,name:string,on:bool,w:double,u:uint)[]",
	    "[(1,2,\"p\",true,1.5,3),(0,0,\"\",false,0,0)]");
	a = dopy_args_new();
	dopy_args_add(a, NULL, dopy_value_copy(pts));
	ok(dopy_proxy_call(p, "echo_points", a, &v, &e), &e, "echo_points");
	cr_assert(dopy_value_equal(v, pts));
	dopy_value_free(v);
	dopy_value_free(pts);
	dopy_args_free(a);
	/* A wrong type is refused before the typed function runs. */
	a = dopy_args_new();
	dopy_args_string(a, NULL, "x");
	cr_assert_lt(dopy_proxy_call(p, "echo_int", a, &v, &e), 0);
	cr_assert_str_eq(dopy_error_name(e), "dopy.TypeError", "%s",
	    dopy_error_name(e));
	dopy_error_free(e);
	dopy_args_free(a);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}

/* Uploads through generated code on both sides: 1000 points and some
 * bytes, and the same method fed by the dynamic API. */
Test(idl, generated_uploads, .timeout = 30)
{
	dopy_conn *c = typesd(NULL);
	dopy_proxy *p = dopy_proxy_new(c, "types");
	dopy_upload *u;
	dopy_error *e = NULL;
	dopy_value *v = NULL;
	struct point pt = { 0 };
	char name[24], *res = NULL;
	uint64_t total = 0;
	int k;

	ok(types_take_points(p, "pts", &res, &u, &e), &e, "take_points");
	for (k = 0; k < 1000; k++) {
		snprintf(name, sizeof(name), "n%d", k);
		pt.x = k;
		pt.name = name;
		ok(types_take_points_send(u, &pt, &e), &e, "send");
	}
	ok(dopy_upload_finish(u, NULL, &e), &e, "finish");
	cr_assert_str_eq(res, "pts 1000 499500 n999");
	free(res);
	dopy_upload_free(u);
	ok(types_take_bytes(p, &total, &u, &e), &e, "take_bytes");
	ok(types_take_bytes_send(u, "abc", 3, &e), &e, "send");
	ok(types_take_bytes_send(u, "", 0, &e), &e, "send");
	ok(types_take_bytes_send(u, "\0\1", 2, &e), &e, "send");
	ok(dopy_upload_finish(u, NULL, &e), &e, "finish");
	cr_assert_eq(total, 5);
	dopy_upload_free(u);
	/* The dynamic API, items as values. */
	ok(dopy_proxy_upload(p, "take_bytes", NULL, &u, &e), &e, "dynamic");
	ok(dopy_upload_send(u, dopy_value_bytes("xy", 2), &e), &e, "send");
	ok(dopy_upload_finish(u, &v, &e), &e, "finish");
	cr_assert_eq(dopy_value_get_uint(v), 2);
	dopy_value_free(v);
	dopy_upload_free(u);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}

/* A streaming method through generated code on both sides, and the
 * same stream read by the dynamic API. */
Test(idl, generated_streams, .timeout = 30)
{
	dopy_conn *c = typesd(NULL);
	dopy_proxy *p = dopy_proxy_new(c, "types");
	dopy_stream *s;
	dopy_error *e = NULL;
	dopy_value *v;
	struct point pt;
	dopy_args *a;
	char name[24];
	int r, k = 0;

	ok(types_points(p, 1000, &s, &e), &e, "points");
	while ((r = types_points_next(s, &pt, &e)) == 1) {
		snprintf(name, sizeof(name), "p%d", k);
		cr_assert(pt.x == k && pt.y == -k && pt.on == k % 2 &&
		    pt.w == k / 2.0 && pt.u == (uint64_t)k, "item %d", k);
		cr_assert_str_eq(pt.name, name);
		point_clear(&pt);
		k++;
	}
	ok(r, &e, "points_next");
	cr_assert_eq(k, 1000);
	dopy_stream_free(s);
	a = dopy_args_new();
	dopy_args_int(a, NULL, 3);
	ok(dopy_proxy_stream(p, "points", a, &s, &e), &e, "dynamic points");
	for (k = 0; (r = dopy_stream_next(s, &v, &e)) == 1; k++) {
		cr_assert_eq(dopy_value_get_int(dopy_value_at(v, 0)), k);
		dopy_value_free(v);
	}
	ok(r, &e, "dynamic next");
	cr_assert_eq(k, 3);
	dopy_stream_free(s);
	dopy_args_free(a);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}

/* A hand-written client (value trees) of the generated server: every
 * type goes and comes back equal. */
Test(idl, dynamic_client_every_type, .timeout = 30)
{
	static const char *const t[][3] = {
		{ "echo_bool", "bool", "true" },
		{ "echo_int", "int", "-9223372036854775808" },
		{ "echo_uint", "uint", "18446744073709551615" },
		{ "echo_double", "double", "-2.5e-300" },
		{ "echo_string", "string", "caf\xc3\xa9, \"x\"" },
		{ "echo_ints", "int[]", "[1, -2, 3]" },
		{ "echo_matrix", "int[][]", "[[1], [], [2, 3]]" },
		{ "echo_strings", "string[]", "[\"a\", \"\", \"b,c\"]" },
		{ "echo_point", "(x:int,y:int,name:string,on:bool,w:double,"
		    "u:uint)", "(1, 2, \"p\", false, 0.5, 9)" },
		{ "echo_points", "(x:int,y:int,name:string,on:bool,w:double,"
		    "u:uint)[]", "[(1, 2, \"p\", true, 0.5, 9), (0, 0, \"\", "
		    "false, 0, 0)]" },
		{ "echo_nested", "(x:int,y:int,name:string,on:bool,w:double,"
		    "u:uint)[][]", "[[], [(1, 2, \"q\", true, 1, 1)]]" },
		{ "echo_pair", "(int,string)", "(7, \"seven\")" },
		{ "echo_any", "(int,string)[]", "[(1, \"a\")]" },
	};
	dopy_conn *c = typesd(NULL);
	dopy_proxy *p = dopy_proxy_new(c, "types");
	dopy_value *v, *r;
	dopy_args *a;
	dopy_error *e = NULL;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		v = e2e_value(t[i][1], t[i][2]);
		a = dopy_args_new();
		dopy_args_add(a, NULL, dopy_value_copy(v));
		ok(dopy_proxy_call(p, t[i][0], a, &r, &e), &e, t[i][0]);
		cr_assert(dopy_value_equal(v, r), "%s", t[i][0]);
		dopy_value_free(r);
		dopy_value_free(v);
		dopy_args_free(a);
	}
	a = dopy_args_new();
	dopy_args_bytes(a, NULL, "\0\377", 2);
	ok(dopy_proxy_call(p, "echo_bytes", a, &r, &e), &e, "echo_bytes");
	{
		size_t n;
		const uint8_t *b = dopy_value_get_bytes(r, &n);

		cr_assert(n == 2 && b[0] == 0 && b[1] == 0xff);
	}
	dopy_value_free(r);
	dopy_args_free(a);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}

/* Generated stubs against dopyd's hand-written test object. */
Test(idl, stubs_of_a_handwritten_server, .timeout = 30)
{
	dopy_conn *c = e2e_dopyd_conn(NULL);
	dopy_proxy *p = dopy_proxy_new(c, "test");
	struct ht_test_caller_result who;
	struct dopy_bytes b;
	dopy_error *e = NULL;
	int64_t i;
	char *s;

	ok(ht_test_add(p, 2, 3, &i, &e), &e, "add");
	cr_assert_eq(i, 5);
	ok(ht_test_greet(p, "World", "Hello", &s, &e), &e, "greet");
	cr_assert_str_eq(s, "Hello, World");
	free(s);
	ok(ht_test_echo(p, "\0\1\2", 3, &b, &e), &e, "echo");
	cr_assert(b.len == 3 && memcmp(b.data, "\0\1\2", 3) == 0);
	free(b.data);
	cr_assert_eq(ht_test_fail(p, "boom", &e), DOPY_E_REMOTE);
	cr_assert_str_eq(dopy_error_name(e), HT_TEST_E_FAILURE);
	cr_assert_str_eq(dopy_error_message(e), "boom");
	dopy_error_free(e);
	e = NULL;
	ok(ht_test_caller(p, &who, &e), &e, "caller");
	cr_assert_str_eq(who.f0, "pipe");
	ht_test_caller_result_clear(&who);
	ok(ht_test_notify(p, 1, 0, &e), &e, "notify");
	dopy_proxy_free(p);
	dopy_conn_close(c);
}

/* A generated class through dopy-pos(7): state in a C struct. */
Test(idl, generated_class, .timeout = 30)
{
	char opt[600];
	dopy_conn *c;
	dopy_proxy *pos, *t;
	dopy_error *e = NULL;
	int64_t n;

	snprintf(opt, sizeof(opt), "-P %s/store", e2e_tmpdir());
	c = typesd(opt);
	pos = dopy_proxy_new(c, "pos");
	ok(dopy_proxy_callf(pos, "create", NULL, &e, "s s", "t1", "tally"),
	    &e, "pos.create");
	t = dopy_proxy_new(c, "pos/t1");
	ok(tally_add(t, 5, &n, &e), &e, "tally.add");
	ok(tally_add(t, 2, &n, &e), &e, "tally.add");
	cr_assert_eq(n, 7);
	ok(tally_label(t, "seven", &e), &e, "tally.label");
	ok(tally_get(t, &n, &e), &e, "tally.get");
	cr_assert_eq(n, 7);
	dopy_proxy_free(t);
	dopy_proxy_free(pos);
	dopy_conn_close(c);
}

/*
 * isolated(300) nap runs in a child of the connection process, deaf to
 * cancels: the generated registration gave it its grace, after which
 * the child is killed; isolated oneway stray runs in order, in a child
 * whose change to the object is lost.
 */
Test(idl, isolated_methods_run_in_a_child, .timeout = 30)
{
	char log[600], *text;
	dopy_conn *c = typesd(NULL);
	dopy_proxy *p = dopy_proxy_new(c, "types");
	dopy_future *f = NULL;
	dopy_error *e = NULL;
	int64_t pid, child, n, before, t0, took;

	ok(types_pid(p, &pid, &e), &e, "pid");
	ok(types_nap(p, 0, &child, &e), &e, "nap");
	cr_assert_neq(child, pid, "nap ran in the connection process");
	ok(types_pid(p, &n, &e), &e, "pid");
	cr_assert_eq(n, pid);

	ok(types_nap_async(p, 20000, &child, NULL, NULL, &f, &e), &e,
	    "nap_async");
	e2e_nap_ms(100);
	t0 = dopy_now_ms();
	ok(dopy_future_cancel(f, &e), &e, "cancel");
	cr_assert_eq(dopy_future_wait(f, NULL, &e), DOPY_E_CANCELLED);
	took = dopy_now_ms() - t0;
	cr_assert(strstr(dopy_error_message(e), "types.nap: cancelled by the "
	    "client; killed after a grace of 300 ms"), "%s",
	    dopy_error_message(e));
	cr_assert_geq(took, 300 - 20);
	cr_assert_lt(took, 300 + 700, "the answer took %lld ms",
	    (long long)took);
	dopy_error_free(e);
	e = NULL;
	dopy_future_free(f);

	ok(types_notes(p, &before, &e), &e, "notes");
	t0 = dopy_now_ms();
	ok(types_stray(p, 300, &e), &e, "stray");
	cr_assert_lt(dopy_now_ms() - t0, 250, "oneway stray was waited for");
	ok(types_notes(p, &n, &e), &e, "notes");
	took = dopy_now_ms() - t0;
	cr_assert_geq(took, 300 - 20, "stray did not run first");
	cr_assert_eq(n, before, "the child's note came back");
	ok(types_pid(p, &n, &e), &e, "pid");
	cr_assert_eq(n, pid);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
	snprintf(log, sizeof(log), "%s/typesd.log", e2e_tmpdir());
	text = e2e_slurp(log, NULL);
	cr_assert(text != NULL && strstr(text, "types.nap: isolated in pid ")
	    && strstr(text, "killed after its grace; answered for it "
	    "dopy.Cancelled"), "log: %s", text);
	free(text);
}

/* isolated("compute") in the file: the generated register function
 * sandboxes the method, whose open is trapped and reported by name. */
Test(idl, sandboxed_method_from_the_file, .timeout = 30)
{
	dopy_conn *c = typesd(NULL);
	dopy_proxy *p = dopy_proxy_new(c, "types");
	dopy_error *e = NULL;
	int64_t n = 0, pid;

	cr_assert_eq(types_sealed(p, "/etc/passwd", &n, &e), DOPY_E_REMOTE);
	cr_assert_str_eq(dopy_error_name(e), "dopy.Crashed");
	cr_assert(strstr(dopy_error_message(e), "(openat), a system call "
	    "that the sandbox blocks (sandbox compute)"), "%s",
	    dopy_error_message(e));
	dopy_error_free(e);
	e = NULL;
	ok(types_pid(p, &pid, &e), &e, "pid");	/* the connection goes on */
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}

/* A generated server takes dopy_main's -I like any: pid() runs in a
 * new child each call; what it publishes is still its file's text. */
Test(idl, option_isolates_a_generated_method, .timeout = 30)
{
	dopy_conn *c = typesd("-I types.pid=100");
	dopy_proxy *p = dopy_proxy_new(c, "types");
	dopy_error *e = NULL;
	int64_t a, b, child;
	char *text = NULL;

	ok(types_pid(p, &a, &e), &e, "pid");
	ok(types_pid(p, &b, &e), &e, "pid");
	ok(types_nap(p, 0, &child, &e), &e, "nap");
	cr_assert(a != b && a != child && b != child, "pid() ran in the "
	    "connection process: %lld %lld %lld", (long long)a, (long long)b,
	    (long long)child);
	ok(dopy_interface(c, "types", &text, &e), &e, "dopy.interface");
	cr_assert(strstr(text, "\n\tpid() -> int;\n"), "%s", text);
	free(text);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}

/* The server publishes the interface it was generated from. */
Test(idl, interface_text_is_served, .timeout = 30)
{
	char *top = e2e_top(), path[700], *want, *got = NULL;
	dopy_conn *c = typesd(NULL);
	struct e2e_run r;
	dopy_error *e = NULL;

	snprintf(path, sizeof(path), "%s/tests/idl/types.idl", top);
	{
		char *argv[] = { (char *)e2e_bin("dopy-idl"), "-P", path,
		    "types", NULL };

		e2e_run(&r, argv);
		e2e_assert_run(&r, 0, NULL);
		want = strdup(r.out);
		e2e_run_free(&r);
	}
	ok(dopy_interface(c, "types", &got, &e), &e, "dopy.interface");
	cr_assert_str_eq(got, want);
	free(got);
	free(want);
	dopy_conn_close(c);
	free(top);
}

/* What dopyd publishes for its hand-written table reads back, and is
 * compatible with the file its generated stubs were made from. */
Test(idl, handwritten_table_matches_its_file, .timeout = 30)
{
	char *top = e2e_top(), path[700];
	char *argv[] = { (char *)e2e_bin("dopy-idl"), "-C", path, "-f",
	    (char *)e2e_bin("dopyd"), "test", NULL };
	struct e2e_run r;

	snprintf(path, sizeof(path), "%s/tests/idl/test.idl", top);
	e2e_run(&r, argv);
	e2e_assert_run(&r, 0, NULL);
	cr_assert_null(strstr(r.out, "breaking"), "%s", r.out);
	e2e_run_free(&r);
	free(top);
}

Test(idl, generated_code_is_reproducible_and_builds_cleanly,
    .timeout = 120)
{
	char *top = e2e_top(), src[700], base[600], cmd[8000];
	const char *cc[] = { "gcc", "clang" }, *std[] = { "c99", "c11" };
	const char *cxx[] = { "g++", "clang++" };
	const char *hdr[] = { "types.h", "types_client.h", "types_server.h" };
	size_t i, j;

	/* Twice: the same bytes each time. */
	snprintf(src, sizeof(src), "%s/tests/idl/types.idl", top);
	snprintf(base, sizeof(base), "%s/types", e2e_tmpdir());
	snprintf(cmd, sizeof(cmd), "%s -o %s %s && cat %s*.[ch] > %s.1 && "
	    "%s -o %s %s && cat %s*.[ch] | cmp - %s.1", e2e_bin("dopy-idl"),
	    base, src, base, base, e2e_bin("dopy-idl"), base, src, base, base);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	for (i = 0; i < 2; i++)
		for (j = 0; j < 2; j++) {
			snprintf(cmd, sizeof(cmd), "cd %s && %s -std=%s -Wall "
			    "-Wextra -Wpedantic -Werror -I%s/lib -I. -c "
			    "types_client.c types_server.c", e2e_tmpdir(), cc[i],
			    std[j], top);
			cr_assert_eq(system(cmd), 0, "%s", cmd);
		}
	for (i = 0; i < 2; i++)
		for (j = 0; j < 3; j++) {
			snprintf(cmd, sizeof(cmd), "cd %s && echo '#include \"%s\"'"
			    " > x.cc && %s -Wall -Wextra -Werror -I%s/lib -I. "
			    "-fsyntax-only x.cc", e2e_tmpdir(), hdr[j], cxx[i],
			    top);
			cr_assert_eq(system(cmd), 0, "%s", cmd);
		}
	free(top);
}

Test(idl, bad_files_are_refused_with_their_place, .timeout = 30)
{
	char path[600];
	char *argv[] = { (char *)e2e_bin("dopy-idl"), "-n", path, NULL };

	snprintf(path, sizeof(path), "%s/bad.idl", e2e_tmpdir());
	e2e_spit(path, "object x {\n\tadd(a: int) -> nosuch;\n}\n");
	e2e_run_expect(argv, 2, "", "bad.idl:2:");
	e2e_spit(path, "object x {\n\tadd(a: int)\n}\n");
	e2e_run_expect(argv, 2, "", "bad.idl:3:");
}

Test(idl, compat_exit_status, .timeout = 30)
{
	char old[600], new[600];
	char *argv[] = { (char *)e2e_bin("dopy-idl"), "-C", old, new, NULL };

	snprintf(old, sizeof(old), "%s/old.idl", e2e_tmpdir());
	snprintf(new, sizeof(new), "%s/new.idl", e2e_tmpdir());
	e2e_spit(old, "object c {\n\tadd(n: int) -> int;\n}\n");
	e2e_spit(new, "object c {\n\tadd(n: int, by: int = 1) -> int;\n"
	    "\treset();\n}\n");
	e2e_run_expect(argv, 0, NULL, NULL);
	e2e_spit(new, "object c {\n\tadd(n: uint) -> int;\n}\n");
	e2e_run_expect(argv, 1, NULL, NULL);
}

/* dopy-rsh reads the published interface: a declared error says so,
 * with its doc, and named structure fields are JSON objects both
 * ways. */
Test(idl, rsh_uses_declared_errors_and_field_names, .timeout = 30)
{
	char *rsh = strdup(e2e_bin("dopy-rsh")), *srv = strdup(e2e_bin("typesd"));
	char *check[] = { rsh, srv, "types", "check", "-1", NULL };
	char *jcheck[] = { rsh, "-j", srv, "types", "check", "-1", NULL };
	char *plain[] = { rsh, srv, "test", "fail", "x", NULL };
	char *pts[] = { rsh, "-j", srv, "types", "echo_points",
	    "[[{\"x\":1,\"y\":2,\"name\":\"a\",\"on\":true,\"w\":1.5,\"u\":3}]]",
	    NULL };
	char *pair[] = { rsh, "-j", srv, "types", "echo_pair", "[[1,\"x\"]]",
	    NULL };
	struct e2e_run r;

	e2e_run_expect(check, 1, "", "  types.Range is declared by "
	    "types.check: A number was out of range.\n");
	e2e_run(&r, jcheck);
	cr_assert(strstr(r.out, "\"declared\":true,\"doc\":\"A number was "
	    "out of range.\",\"status\":1}}") != NULL, "%s", r.out);
	e2e_run_free(&r);
	/* typesd has no test object; dopyd's errors are not declared. */
	plain[1] = (char *)e2e_bin("dopyd");
	e2e_run(&r, plain);
	cr_assert_null(strstr(r.err, "declared"), "%s", r.err);
	e2e_run_free(&r);
	e2e_run_expect(pts, 0, "[{\"x\":1,\"y\":2,\"name\":\"a\",\"on\":true,"
	    "\"w\":1.5,\"u\":3}]\n", NULL);
	/* Fields without names stay an array. */
	e2e_run_expect(pair, 0, "[1,\"x\"]\n", NULL);
	free(rsh);
	free(srv);
}

/* Data a generated method cannot read (a bool of 2) is refused by
 * name, and the connection goes on. */
Test(idl, bad_argument_data_names_the_parameter, .timeout = 30)
{
	char *argv[] = { (char *)e2e_bin("typesd"), NULL };
	dopy_value *args[1] = { dopy_value_bool(1) };
	struct e2e_frame fr;
	struct e2e_proc p;
	struct dopy_buf b;
	dopy_error *e;

	e2e_spawn(&p, argv);
	dopy_buf_init(&b);
	e2e_hello(&b, DOPY_PROTOCOL, 1u << 20);
	e2e_call(&b, 1, "types", "echo_bool", 1, NULL, args);
	b.data[b.len - 1] = 2;		/* the bool's one byte of data */
	args[0] = dopy_value_bool(1);
	e2e_call(&b, 2, "types", "echo_bool", 1, NULL, args);
	cr_assert(e2e_write(p.in, b.data, b.len) == 0);
	cr_assert_eq(e2e_read_frame(p.out, &fr, 5000), 1);
	cr_assert_eq(fr.type, DOPY_F_HELLO);
	free(fr.payload);
	e = e2e_expect_error(p.out, 1, "dopy.ProtocolError");
	cr_assert(strstr(dopy_error_message(e), "parameter v") != NULL, "%s",
	    dopy_error_message(e));
	dopy_error_free(e);
	cr_assert_eq(e2e_read_frame(p.out, &fr, 5000), 1);
	cr_assert_eq(fr.type, DOPY_F_REPLY);
	free(fr.payload);
	dopy_buf_release(&b);
	e2e_close(&p);
	cr_assert(e2e_exited(e2e_wait(&p, 5000), 0));
}
