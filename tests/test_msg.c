/*
 * test_msg.c - lib/wire/msg.c: the payloads of HELLO, CALL and ERROR.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

Test(msg, hello_round_trip)
{
	struct dopy_hello h = { .proto = DOPY_PROTOCOL, .max_frame = 123456,
	    .features = 0x8000000000000001u, .software = "dopy test 9" }, g;
	struct dopy_buf b;
	char err[200] = "";

	dopy_buf_init(&b);
	cr_assert_eq(dopy_msg_hello_put(&b, &h), 0);
	cr_assert_eq(dopy_msg_hello_get(b.data, b.len, &g, err, sizeof(err)),
	    0, "%s", err);
	cr_assert_eq(g.proto, DOPY_PROTOCOL);
	cr_assert_eq(g.max_frame, 123456);
	cr_assert_eq(g.features, 0x8000000000000001u);
	cr_assert_str_eq(g.software, "dopy test 9");
	cr_assert_eq(g.next, 0);
	dopy_msg_hello_release(&g);
	cr_assert_null(g.software);
	dopy_msg_hello_release(&g);	/* twice is harmless */
	dopy_buf_release(&b);
}

Test(msg, hello_extensions)
{
	struct dopy_hello h = { .proto = 1, .max_frame = 4096,
	    .features = DOPY_FEAT_AUTH, .software = "x", .next = 2 }, g;
	struct dopy_buf b;
	char err[200] = "";
	int i;

	for (i = 0; i < 32; i++) {
		h.ext[0][i] = (uint8_t)i;
		h.ext[1][i] = (uint8_t)(255 - i);
	}
	dopy_buf_init(&b);
	cr_assert_eq(dopy_msg_hello_put(&b, &h), 0);
	cr_assert_eq(dopy_msg_hello_get(b.data, b.len, &g, err, sizeof(err)),
	    0, "%s", err);
	cr_assert_eq(g.next, 2);
	cr_assert_eq(memcmp(g.ext[0], h.ext[0], 32), 0);
	cr_assert_eq(memcmp(g.ext[1], h.ext[1], 32), 0);
	cr_assert_eq(g.features, DOPY_FEAT_AUTH);
	dopy_msg_hello_release(&g);
	dopy_buf_release(&b);
}

/* Extensions of a later version (other types, other sizes) are
 * skipped, not refused. */
Test(msg, hello_unknown_extensions_ignored)
{
	struct dopy_hello h = { .proto = 1, .max_frame = 4096,
	    .software = "future" }, g;
	struct dopy_buf b;
	dopy_value *v;
	char err[200] = "";

	dopy_buf_init(&b);
	cr_assert_eq(dopy_msg_hello_put(&b, &h), 0);
	v = dopy_value_string("a string extension");
	cr_assert_eq(dopy_encode(v, &b), 0);
	dopy_value_free(v);
	v = dopy_value_bytes("short", 5);
	cr_assert_eq(dopy_encode(v, &b), 0);
	dopy_value_free(v);
	cr_assert_eq(dopy_msg_hello_get(b.data, b.len, &g, err, sizeof(err)),
	    0, "%s", err);
	cr_assert_eq(g.next, 0);
	cr_assert_str_eq(g.software, "future");
	dopy_msg_hello_release(&g);
	dopy_buf_release(&b);
}

Test(msg, hello_errors)
{
	struct dopy_hello g;
	struct dopy_buf b;
	dopy_value *v;
	char err[200];

	err[0] = '\0';
	cr_assert_lt(dopy_msg_hello_get((const uint8_t *)"", 0, &g, err,
	    sizeof(err)), 0);
	cr_assert(strstr(err, "empty HELLO") != NULL, "%s", err);
	cr_assert_null(g.software);
	err[0] = '\0';
	cr_assert_eq(dopy_msg_hello_get((const uint8_t *)"hello there", 11,
	    &g, err, sizeof(err)), DOPY_E_PROTO);
	cr_assert(err[0] != '\0');
	/* A value of the wrong type first. */
	dopy_buf_init(&b);
	v = dopy_value_string("HELLO");
	cr_assert_eq(dopy_encode(v, &b), 0);
	dopy_value_free(v);
	err[0] = '\0';
	cr_assert_eq(dopy_msg_hello_get(b.data, b.len, &g, err, sizeof(err)),
	    DOPY_E_PROTO);
	cr_assert(strstr(err, "expected") != NULL, "%s", err);
	cr_assert_null(g.software);
	dopy_buf_release(&b);
}

/* A CALL payload: header images, then the arguments. */
static void
build_call(struct dopy_buf *b, const char *obj, const char *meth,
    const char *const *names, dopy_value **args, size_t n, size_t nargs)
{
	size_t i;

	dopy_buf_init(b);
	cr_assert_eq(dopy_msg_call_put(b, obj, meth, names, n), 0);
	for (i = 0; i < nargs; i++) {
		cr_assert_eq(dopy_encode(args[i], b), 0);
		dopy_value_free(args[i]);
	}
}

Test(msg, call_round_trip)
{
	const char *names[] = { "", "", "greeting" };
	dopy_value *args[] = { dopy_value_int(1), dopy_value_string("two"),
	    dopy_value_bytes("\0\3", 2) };
	struct dopy_callmsg m;
	struct dopy_buf b;
	dopy_value *v;
	char err[200] = "";

	build_call(&b, "test", "greet", names, args, 3, 3);
	cr_assert_eq(dopy_msg_call_get(b.data, b.len, &m, err, sizeof(err)),
	    0, "%s", err);
	cr_assert_str_eq(m.object, "test");
	cr_assert_str_eq(m.method, "greet");
	cr_assert_eq(m.argc, 3);
	cr_assert_str_eq(m.names[0], "");
	cr_assert_str_eq(m.names[1], "");
	cr_assert_str_eq(m.names[2], "greeting");
	cr_assert_str_eq(m.args[0].fmt, "I");
	cr_assert_str_eq(m.args[1].fmt, "s");
	cr_assert_str_eq(m.args[2].fmt, "B");
	cr_assert_eq(dopy_decode(&m.args[1], &dopy_type_string_, &v, err,
	    sizeof(err)), 0);
	cr_assert_str_eq(dopy_value_get_string(v), "two");
	dopy_value_free(v);
	dopy_msg_call_release(&m);
	cr_assert_null(m.object);
	cr_assert_eq(m.argc, 0);
	dopy_buf_release(&b);
}

Test(msg, call_without_arguments)
{
	struct dopy_callmsg m;
	struct dopy_buf b;
	char err[200] = "";

	build_call(&b, "dopy", "objects", NULL, NULL, 0, 0);
	cr_assert_eq(dopy_msg_call_get(b.data, b.len, &m, err, sizeof(err)),
	    0, "%s", err);
	cr_assert_str_eq(m.object, "dopy");
	cr_assert_str_eq(m.method, "objects");
	cr_assert_eq(m.argc, 0);
	dopy_msg_call_release(&m);
	dopy_buf_release(&b);
}

Test(msg, call_names_count_differs)
{
	const char *names[] = { "", "" };
	dopy_value *one[] = { dopy_value_int(1) };
	dopy_value *three[] = { dopy_value_int(1), dopy_value_int(2),
	    dopy_value_int(3) };
	struct dopy_callmsg m;
	struct dopy_buf b;
	char err[200] = "";

	/* Two names, one argument. */
	build_call(&b, "o", "m", names, one, 2, 1);
	cr_assert_eq(dopy_msg_call_get(b.data, b.len, &m, err, sizeof(err)),
	    DOPY_E_PROTO);
	cr_assert(strstr(err, "names 2 arguments but carries 1") != NULL,
	    "%s", err);
	cr_assert_null(m.object);
	dopy_buf_release(&b);
	/* Two names, three arguments. */
	build_call(&b, "o", "m", names, three, 2, 3);
	cr_assert_eq(dopy_msg_call_get(b.data, b.len, &m, err, sizeof(err)),
	    DOPY_E_PROTO);
	cr_assert(strstr(err, "names 2 arguments but carries 3") != NULL,
	    "%s", err);
	dopy_buf_release(&b);
}

Test(msg, call_too_short)
{
	struct dopy_callmsg m;
	struct dopy_buf b;
	dopy_value *v;
	char err[200] = "";

	cr_assert_eq(dopy_msg_call_get((const uint8_t *)"", 0, &m, err,
	    sizeof(err)), DOPY_E_PROTO);
	cr_assert(strstr(err, "CALL needs") != NULL, "%s", err);
	dopy_buf_init(&b);
	v = dopy_value_new(&dopy_type_string_);
	cr_assert_eq(dopy_encode(v, &b), 0);
	dopy_value_free(v);
	cr_assert_eq(dopy_msg_call_get(b.data, b.len, &m, err, sizeof(err)),
	    DOPY_E_PROTO);
	dopy_buf_release(&b);
}

Test(msg, call_wrong_header_types)
{
	struct dopy_callmsg m;
	struct dopy_buf b;
	dopy_value *v;
	char err[200] = "";

	/* An int where (string,string) belongs, then names. */
	dopy_buf_init(&b);
	v = dopy_value_int(1);
	cr_assert_eq(dopy_encode(v, &b), 0);
	cr_assert_eq(dopy_encode(v, &b), 0);
	dopy_value_free(v);
	cr_assert_eq(dopy_msg_call_get(b.data, b.len, &m, err, sizeof(err)),
	    DOPY_E_PROTO);
	cr_assert(strstr(err, "expected") != NULL, "%s", err);
	cr_assert_null(m.object);
	dopy_buf_release(&b);
}

Test(msg, call_too_many_arguments)
{
	const char *names[DOPY_MAX_ARGS + 1];
	dopy_value *args[DOPY_MAX_ARGS + 1];
	struct dopy_callmsg m;
	struct dopy_buf b;
	char err[200] = "";
	size_t i;

	for (i = 0; i <= DOPY_MAX_ARGS; i++) {
		names[i] = "";
		args[i] = dopy_value_int((int64_t)i);
	}
	build_call(&b, "o", "m", names, args, DOPY_MAX_ARGS + 1,
	    DOPY_MAX_ARGS + 1);
	cr_assert_eq(dopy_msg_call_get(b.data, b.len, &m, err, sizeof(err)),
	    DOPY_E_USAGE, "too many is the caller's mistake, not malformed");
	cr_assert(strstr(err, "at most 64 arguments") != NULL, "%s", err);
	dopy_buf_release(&b);
	/* Exactly the maximum is fine. */
	for (i = 0; i < DOPY_MAX_ARGS; i++)
		args[i] = dopy_value_int((int64_t)i);
	build_call(&b, "o", "m", names, args, DOPY_MAX_ARGS, DOPY_MAX_ARGS);
	cr_assert_eq(dopy_msg_call_get(b.data, b.len, &m, err, sizeof(err)),
	    0, "%s", err);
	cr_assert_eq(m.argc, DOPY_MAX_ARGS);
	dopy_msg_call_release(&m);
	dopy_buf_release(&b);
}

Test(msg, error_round_trip)
{
	dopy_error *e = dopy_error_new(DOPY_E_REMOTE, "it failed: %d", 3), *g;
	struct dopy_buf b;

	dopy_error_set_fields(e, "test.Failure", "test", "fail", "hostA", 4321);
	dopy_error_add_trace(e, "testobj.c:40 test_fail");
	dopy_error_add_trace(e, "in test.fail on host hostA pid 4321");
	dopy_buf_init(&b);
	cr_assert_eq(dopy_msg_error_put(&b, e), 0);
	cr_assert_eq(dopy_msg_error_get(b.data, b.len, &g), 0);
	cr_assert_not_null(g);
	cr_assert_eq(dopy_error_code(g), DOPY_E_REMOTE);
	cr_assert_str_eq(dopy_error_name(g), "test.Failure");
	cr_assert_str_eq(dopy_error_message(g), "it failed: 3");
	cr_assert_str_eq(dopy_error_object(g), "test");
	cr_assert_str_eq(dopy_error_method(g), "fail");
	cr_assert_str_eq(dopy_error_host(g), "hostA");
	cr_assert_eq(dopy_error_pid(g), 4321);
	cr_assert_eq(dopy_error_trace_len(g), 2);
	cr_assert_str_eq(dopy_error_trace(g, 0), "testobj.c:40 test_fail");
	cr_assert_str_eq(dopy_error_trace(g, 1),
	    "in test.fail on host hostA pid 4321");
	dopy_error_free(g);
	dopy_error_free(e);
	dopy_buf_release(&b);
}

/* The code travels as the name: the receiver maps it. */
Test(msg, error_code_from_name)
{
	dopy_error *e = dopy_error_new(DOPY_E_REMOTE, "bad"), *g;
	struct dopy_buf b;

	dopy_error_set_fields(e, "dopy.TypeError", NULL, NULL, NULL, -1);
	dopy_buf_init(&b);
	cr_assert_eq(dopy_msg_error_put(&b, e), 0);
	cr_assert_eq(dopy_msg_error_get(b.data, b.len, &g), 0);
	cr_assert_eq(dopy_error_code(g), DOPY_E_TYPE);
	cr_assert_eq(dopy_error_trace_len(g), 0);
	cr_assert_str_eq(dopy_error_object(g), "");
	dopy_error_free(g);
	dopy_error_free(e);
	dopy_buf_release(&b);
}

Test(msg, error_malformed)
{
	struct dopy_buf b;
	dopy_value *v;
	dopy_error *g = (dopy_error *)1;

	/* One image, not two. */
	dopy_buf_init(&b);
	v = dopy_value_string("only one");
	cr_assert_eq(dopy_encode(v, &b), 0);
	dopy_value_free(v);
	cr_assert_eq(dopy_msg_error_get(b.data, b.len, &g), DOPY_E_PROTO);
	cr_assert_not_null(g);
	cr_assert_eq(dopy_error_code(g), DOPY_E_PROTO);
	cr_assert(strstr(dopy_error_message(g), "malformed ERROR") != NULL,
	    "%s", dopy_error_message(g));
	dopy_error_free(g);
	/* Two images of the wrong types. */
	v = dopy_value_int(5);
	cr_assert_eq(dopy_encode(v, &b), 0);
	dopy_value_free(v);
	cr_assert_eq(dopy_msg_error_get(b.data, b.len, &g), DOPY_E_PROTO);
	cr_assert(strstr(dopy_error_message(g), "malformed ERROR") != NULL);
	dopy_error_free(g);
	/* Garbage. */
	cr_assert_eq(dopy_msg_error_get((const uint8_t *)"junk", 4, &g),
	    DOPY_E_PROTO);
	cr_assert_eq(dopy_error_code(g), DOPY_E_PROTO);
	dopy_error_free(g);
	/* Nothing at all. */
	cr_assert_eq(dopy_msg_error_get((const uint8_t *)"", 0, &g),
	    DOPY_E_PROTO);
	dopy_error_free(g);
	dopy_buf_release(&b);
}

/* dopy_args keeps its first scalar arguments' values in slots of its
 * own: six of each kind (four in the slots, two made on the heap), a
 * refused positional one after a named one, and every value encoded as
 * given; under make asan a slot freed as a value would show. */
Test(msg, args_scalar_slots)
{
	dopy_args *a = dopy_args_new();
	struct dopy_callmsg m;
	struct dopy_buf b;
	dopy_value *v;
	char err[200] = "";
	size_t i;

	cr_assert_not_null(a);
	for (i = 0; i < 6; i++)
		cr_assert_eq(dopy_args_int(a, NULL, (int64_t)i - 3), 0);
	cr_assert_eq(dopy_args_double(a, "d", 0.5), 0);
	cr_assert_eq(dopy_args_bool(a, NULL, 1), DOPY_E_INVAL);
	cr_assert_eq(dopy_args_bool(a, "flag", 7), 0);
	dopy_buf_init(&b);
	cr_assert_eq(dopy_put_call(&b, DOPY_F_CALL, 1, "o", "m", a, 1 << 20,
	    NULL), 0);
	cr_assert_eq(dopy_msg_call_get(b.data + DOPY_HDR_LEN,
	    b.len - DOPY_HDR_LEN, &m, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(m.argc, 8);
	for (i = 0; i < 6; i++) {
		cr_assert_eq(dopy_decode(&m.args[i], &dopy_type_int_, &v, err,
		    sizeof(err)), 0, "%s", err);
		cr_assert_eq(dopy_value_get_int(v), (int64_t)i - 3);
		dopy_value_free(v);
	}
	cr_assert_str_eq(m.names[6], "d");
	cr_assert_eq(dopy_decode(&m.args[7], &dopy_type_bool_, &v, err,
	    sizeof(err)), 0, "%s", err);
	cr_assert_eq(dopy_value_get_bool(v), 1);
	dopy_value_free(v);
	dopy_msg_call_release(&m);
	dopy_buf_release(&b);
	dopy_args_free(a);
}
