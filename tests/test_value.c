/*
 * test_value.c - lib/wire/value.c: typed value trees.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"

static dopy_type *
ty(const char *text)
{
	char err[200] = "";
	dopy_type *t = dopy_type_parse(text, err, sizeof(err));

	cr_assert_not_null(t, "%s: %s", text, err);
	return t;
}

Test(value, scalars)
{
	dopy_value *b = dopy_value_bool(7), *f = dopy_value_bool(0),
	    *i = dopy_value_int(INT64_MIN), *u = dopy_value_uint(UINT64_MAX),
	    *d = dopy_value_double(-2.5);

	cr_assert_eq(dopy_value_kind(b), DOPY_BOOL);
	cr_assert_eq(dopy_value_get_bool(b), 1);	/* normalised */
	cr_assert_eq(dopy_value_get_bool(f), 0);
	cr_assert_eq(dopy_value_kind(i), DOPY_INT);
	cr_assert_eq(dopy_value_get_int(i), INT64_MIN);
	cr_assert_eq(dopy_value_kind(u), DOPY_UINT);
	cr_assert_eq(dopy_value_get_uint(u), UINT64_MAX);
	cr_assert_eq(dopy_value_kind(d), DOPY_DOUBLE);
	cr_assert_eq(dopy_value_get_double(d), -2.5);
	cr_assert_str_eq(dopy_type_name(dopy_value_type(u)), "uint");
	dopy_value_free(b);
	dopy_value_free(f);
	dopy_value_free(i);
	dopy_value_free(u);
	dopy_value_free(d);
}

Test(value, string_is_copied)
{
	char src[] = "hello";
	dopy_value *s = dopy_value_string(src);
	size_t len;

	src[0] = 'j';
	cr_assert_str_eq(dopy_value_get_string(s), "hello");
	cr_assert_eq(dopy_value_len(s), 5);
	cr_assert_eq(memcmp(dopy_value_get_bytes(s, &len), "hello", 5), 0);
	cr_assert_eq(len, 5);
	cr_assert_null(dopy_value_string(NULL));
	dopy_value_free(s);
}

Test(value, bytes_with_nuls)
{
	static const uint8_t raw[] = { 0, 1, 0, 255, 'a', 0 };
	dopy_value *v = dopy_value_bytes(raw, sizeof(raw));
	const uint8_t *p;
	size_t len;

	cr_assert_eq(dopy_value_kind(v), DOPY_BYTES);
	p = dopy_value_get_bytes(v, &len);
	cr_assert_eq(len, sizeof(raw));
	cr_assert_eq(memcmp(p, raw, len), 0);
	cr_assert_eq(p[len], 0, "bytes keep a NUL after the data");
	cr_assert_eq(dopy_value_len(v), sizeof(raw));
	dopy_value_free(v);
}

Test(value, empty_bytes)
{
	dopy_value *a = dopy_value_bytes(NULL, 0), *b = dopy_value_bytes("", 0);
	size_t len = 99;

	cr_assert_not_null(a);
	cr_assert_not_null(dopy_value_get_bytes(a, &len));
	cr_assert_eq(len, 0);
	cr_assert(dopy_value_equal(a, b));
	cr_assert_null(dopy_value_bytes(NULL, 3));
	dopy_value_free(a);
	dopy_value_free(b);
}

Test(value, wrong_kind_getters_return_zero)
{
	dopy_value *s = dopy_value_string("5"), *i = dopy_value_int(5);
	size_t len = 99;

	cr_assert_eq(dopy_value_get_int(s), 0);
	cr_assert_eq(dopy_value_get_uint(i), 0);
	cr_assert_eq(dopy_value_get_double(i), 0.0);
	cr_assert_eq(dopy_value_get_bool(i), 0);
	cr_assert_null(dopy_value_get_string(i));
	cr_assert_null(dopy_value_get_bytes(i, &len));
	cr_assert_eq(len, 0);
	cr_assert_null(dopy_value_get_bytes(i, NULL));
	cr_assert_eq(dopy_value_len(i), 0);
	cr_assert_null(dopy_value_at(i, 0));
	cr_assert_null(dopy_value_at(s, 0));
	dopy_value_free(s);
	dopy_value_free(i);
}

Test(value, null_everywhere)
{
	size_t len = 5;

	cr_assert_eq(dopy_value_kind(NULL), DOPY_VOID);
	cr_assert_null(dopy_value_type(NULL));
	cr_assert_eq(dopy_value_get_int(NULL), 0);
	cr_assert_eq(dopy_value_get_uint(NULL), 0);
	cr_assert_eq(dopy_value_get_bool(NULL), 0);
	cr_assert_eq(dopy_value_get_double(NULL), 0.0);
	cr_assert_null(dopy_value_get_string(NULL));
	cr_assert_null(dopy_value_get_bytes(NULL, &len));
	cr_assert_eq(len, 0);
	cr_assert_eq(dopy_value_len(NULL), 0);
	cr_assert_null(dopy_value_at(NULL, 0));
	cr_assert_null(dopy_value_copy(NULL));
	cr_assert_null(dopy_value_new(NULL));
	cr_assert(dopy_value_equal(NULL, NULL));
	dopy_value_free(NULL);
}

Test(value, new_array_is_empty)
{
	dopy_type *t = ty("int[]");
	dopy_value *a = dopy_value_new(t);

	dopy_type_free(t);		/* the value holds its own reference */
	cr_assert_eq(dopy_value_kind(a), DOPY_ARRAY);
	cr_assert_eq(dopy_value_len(a), 0);
	cr_assert_null(dopy_value_at(a, 0));
	cr_assert_str_eq(dopy_type_name(dopy_value_type(a)), "int[]");
	dopy_value_free(a);
}

Test(value, new_struct_is_zeroed)
{
	dopy_type *t = ty("(bool,int,uint,double,string)");
	dopy_value *v = dopy_value_new(t);

	cr_assert_eq(dopy_value_len(v), 5);
	cr_assert_eq(dopy_value_get_bool(dopy_value_at(v, 0)), 0);
	cr_assert_eq(dopy_value_kind(dopy_value_at(v, 0)), DOPY_BOOL);
	cr_assert_eq(dopy_value_get_int(dopy_value_at(v, 1)), 0);
	cr_assert_eq(dopy_value_kind(dopy_value_at(v, 2)), DOPY_UINT);
	cr_assert_eq(dopy_value_get_double(dopy_value_at(v, 3)), 0.0);
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(v, 4)), "");
	cr_assert_null(dopy_value_at(v, 5));
	dopy_value_free(v);
	dopy_type_free(t);
}

Test(value, new_scalar_is_zero)
{
	dopy_value *v = dopy_value_new(&dopy_type_string_);

	cr_assert_str_eq(dopy_value_get_string(v), "");
	dopy_value_free(v);
	v = dopy_value_new(&dopy_type_int_);
	cr_assert_eq(dopy_value_kind(v), DOPY_INT);
	cr_assert_eq(dopy_value_get_int(v), 0);
	dopy_value_free(v);
}

Test(value, append_many)
{
	dopy_type *t = ty("int[]");
	dopy_value *a = dopy_value_new(t);
	int64_t i;

	for (i = 0; i < 1000; i++)
		cr_assert_eq(dopy_value_append(a, dopy_value_int(i * 3)), 0);
	cr_assert_eq(dopy_value_len(a), 1000);
	for (i = 0; i < 1000; i++)
		cr_assert_eq(dopy_value_get_int(dopy_value_at(a, (size_t)i)),
		    i * 3);
	dopy_value_free(a);
	dopy_type_free(t);
}

/* append takes ownership also on error (valgrind checks the frees). */
Test(value, append_errors)
{
	dopy_type *t = ty("int[]");
	dopy_value *a = dopy_value_new(t), *i = dopy_value_int(1);

	cr_assert_eq(dopy_value_append(a, dopy_value_string("x")),
	    DOPY_E_TYPE);
	cr_assert_eq(dopy_value_append(a, dopy_value_uint(1)), DOPY_E_TYPE);
	cr_assert_eq(dopy_value_append(i, dopy_value_int(2)), DOPY_E_INVAL);
	cr_assert_eq(dopy_value_append(NULL, dopy_value_int(2)),
	    DOPY_E_INVAL);
	cr_assert_eq(dopy_value_append(a, NULL), DOPY_E_INVAL);
	cr_assert_eq(dopy_value_len(a), 0);
	dopy_value_free(a);
	dopy_value_free(i);
	dopy_type_free(t);
}

Test(value, set_field)
{
	dopy_type *t = ty("(int,string)");
	dopy_value *v = dopy_value_new(t);

	cr_assert_eq(dopy_value_set_field(v, 0, dopy_value_int(9)), 0);
	cr_assert_eq(dopy_value_set_field(v, 1, dopy_value_string("nine")), 0);
	cr_assert_eq(dopy_value_set_field(v, 1, dopy_value_string("NINE")), 0);
	cr_assert_eq(dopy_value_get_int(dopy_value_at(v, 0)), 9);
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(v, 1)), "NINE");
	cr_assert_eq(dopy_value_set_field(v, 2, dopy_value_int(1)),
	    DOPY_E_INVAL);
	cr_assert_eq(dopy_value_set_field(v, 0, dopy_value_string("x")),
	    DOPY_E_TYPE);
	cr_assert_eq(dopy_value_set_field(v, 0, NULL), DOPY_E_INVAL);
	cr_assert_eq(dopy_value_get_int(dopy_value_at(v, 0)), 9);
	dopy_value_free(v);
	dopy_type_free(t);
}

Test(value, set_field_on_non_struct)
{
	dopy_type *t = ty("int[]");
	dopy_value *a = dopy_value_new(t);

	cr_assert_eq(dopy_value_set_field(a, 0, dopy_value_int(1)),
	    DOPY_E_INVAL);
	cr_assert_eq(dopy_value_set_field(NULL, 0, dopy_value_int(1)),
	    DOPY_E_INVAL);
	dopy_value_free(a);
	dopy_type_free(t);
}

static dopy_value *
sample(void)
{
	dopy_type *t = ty("(int,string)[]"), *st = ty("(int,string)");
	dopy_value *a = dopy_value_new(t), *row;
	int i;
	char name[16];

	for (i = 0; i < 3; i++) {
		row = dopy_value_new(st);
		snprintf(name, sizeof(name), "row%d", i);
		cr_assert_eq(dopy_value_set_field(row, 0, dopy_value_int(i)), 0);
		cr_assert_eq(dopy_value_set_field(row, 1,
		    dopy_value_string(name)), 0);
		cr_assert_eq(dopy_value_append(a, row), 0);
	}
	dopy_type_free(t);
	dopy_type_free(st);
	return a;
}

Test(value, copy_is_deep_and_equal)
{
	dopy_value *a = sample(), *c = dopy_value_copy(a);

	cr_assert_not_null(c);
	cr_assert(dopy_value_equal(a, c));
	cr_assert_neq(dopy_value_at(a, 0), dopy_value_at(c, 0));
	cr_assert_neq(dopy_value_get_string(dopy_value_at(dopy_value_at(a, 1),
	    1)), dopy_value_get_string(dopy_value_at(dopy_value_at(c, 1), 1)));
	dopy_value_free(a);		/* the copy stands alone */
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(dopy_value_at(c,
	    2), 1)), "row2");
	dopy_value_free(c);
}

Test(value, copy_scalars_and_bytes)
{
	dopy_value *v[] = {
		dopy_value_bool(1), dopy_value_int(-5), dopy_value_uint(5),
		dopy_value_double(0.125), dopy_value_string("s"),
		dopy_value_bytes("\0\1", 2),
	};
	dopy_value *c;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		c = dopy_value_copy(v[i]);
		cr_assert(dopy_value_equal(v[i], c), "value %zu", i);
		cr_assert(dopy_type_equal(dopy_value_type(v[i]),
		    dopy_value_type(c)));
		dopy_value_free(c);
		dopy_value_free(v[i]);
	}
}

Test(value, equal)
{
	dopy_value *a = sample(), *b = sample(), *x, *y;

	cr_assert(dopy_value_equal(a, b));
	cr_assert_eq(dopy_value_set_field((dopy_value *)dopy_value_at(b, 2), 1,
	    dopy_value_string("other")), 0);
	cr_assert_not(dopy_value_equal(a, b));
	cr_assert_not(dopy_value_equal(a, NULL));
	dopy_value_free(a);
	dopy_value_free(b);

	x = dopy_value_int(1);
	y = dopy_value_uint(1);
	cr_assert_not(dopy_value_equal(x, y), "types differ");
	dopy_value_free(x);
	dopy_value_free(y);

	x = dopy_value_string("ab");
	y = dopy_value_bytes("ab", 2);
	cr_assert_not(dopy_value_equal(x, y), "string is not bytes");
	dopy_value_free(y);
	y = dopy_value_string("abc");
	cr_assert_not(dopy_value_equal(x, y));
	dopy_value_free(x);
	dopy_value_free(y);

	x = dopy_value_double(NAN);
	y = dopy_value_double(NAN);
	cr_assert(dopy_value_equal(x, y), "NaN equals NaN here");
	dopy_value_free(y);
	y = dopy_value_double(1.0);
	cr_assert_not(dopy_value_equal(x, y));
	dopy_value_free(x);
	dopy_value_free(y);

	x = dopy_value_bool(1);
	y = dopy_value_bool(2);
	cr_assert(dopy_value_equal(x, y));
	dopy_value_free(x);
	dopy_value_free(y);
}

Test(value, arrays_of_different_length_differ)
{
	dopy_type *t = ty("int[]");
	dopy_value *a = dopy_value_new(t), *b = dopy_value_new(t);

	cr_assert(dopy_value_equal(a, b));
	cr_assert_eq(dopy_value_append(a, dopy_value_int(1)), 0);
	cr_assert_not(dopy_value_equal(a, b));
	cr_assert_eq(dopy_value_append(b, dopy_value_int(2)), 0);
	cr_assert_not(dopy_value_equal(a, b));
	dopy_value_free(a);
	dopy_value_free(b);
	dopy_type_free(t);
}

Test(value, nested_arrays)
{
	dopy_type *t = ty("int[][]");
	dopy_value *outer = dopy_value_new(t), *inner;
	int i, j;

	for (i = 0; i < 4; i++) {
		inner = dopy_value_new(dopy_type_elem(t));
		for (j = 0; j < i; j++)
			cr_assert_eq(dopy_value_append(inner,
			    dopy_value_int(i * 10 + j)), 0);
		cr_assert_eq(dopy_value_append(outer, inner), 0);
	}
	cr_assert_eq(dopy_value_len(outer), 4);
	cr_assert_eq(dopy_value_len(dopy_value_at(outer, 0)), 0);
	cr_assert_eq(dopy_value_len(dopy_value_at(outer, 3)), 3);
	cr_assert_eq(dopy_value_get_int(dopy_value_at(dopy_value_at(outer, 3),
	    2)), 32);
	/* An int[] does not go into an int[][] as an element of int. */
	cr_assert_eq(dopy_value_append(outer, dopy_value_int(1)), DOPY_E_TYPE);
	dopy_value_free(outer);
	dopy_type_free(t);
}

Test(value, take_str_owns)
{
	char *p = strdup("owned");
	dopy_value *v = dopy_value_take_str(&dopy_type_string_, p, 5);

	cr_assert_eq(dopy_value_get_string(v), p);
	dopy_value_free(v);
}

Test(value, new_empty)
{
	dopy_type *t = ty("(int,string)");
	dopy_value *v = dopy_value_new_empty(t);

	cr_assert_eq(dopy_value_len(v), 0);
	cr_assert_eq(v->u.a.cap, 2);
	dopy_value_free(v);
	dopy_type_free(t);
}

/* ---- references ---- */

Test(value, ref)
{
	dopy_value *r = dopy_value_ref(7), *big = dopy_value_ref(UINT32_MAX);
	dopy_value *i = dopy_value_int(7), *c;

	cr_assert_eq(dopy_value_kind(r), DOPY_REF);
	cr_assert_str_eq(dopy_type_name(dopy_value_type(r)), "ref");
	cr_assert_eq(dopy_value_get_ref(r), 7);
	cr_assert_eq(dopy_value_get_ref(big), UINT32_MAX);
	/* Not a ref, or nothing: 0, which names no object. */
	cr_assert_eq(dopy_value_get_ref(i), 0);
	cr_assert_eq(dopy_value_get_ref(NULL), 0);
	cr_assert_eq(dopy_value_get_int(r), 0);
	cr_assert_eq(dopy_value_get_uint(r), 0);
	cr_assert_null(dopy_value_ref(0), "ids start at 1");
	c = dopy_value_copy(r);
	cr_assert_eq(dopy_value_get_ref(c), 7);
	cr_assert(dopy_value_equal(r, c));
	cr_assert_not(dopy_value_equal(r, big));
	cr_assert_not(dopy_value_equal(r, i), "a ref is not an int");
	dopy_value_free(c);
	dopy_value_free(r);
	dopy_value_free(big);
	dopy_value_free(i);
}

Test(value, refs_in_arrays_and_structs)
{
	dopy_type *ta = ty("ref[]"), *ts = ty("(string,ref)");
	dopy_value *a = dopy_value_new(ta), *s = dopy_value_new(ts), *c;

	cr_assert_eq(dopy_value_append(a, dopy_value_ref(1)), 0);
	cr_assert_eq(dopy_value_append(a, dopy_value_ref(2)), 0);
	cr_assert_eq(dopy_value_append(a, dopy_value_int(3)), DOPY_E_TYPE);
	cr_assert_eq(dopy_value_len(a), 2);
	cr_assert_eq(dopy_value_get_ref(dopy_value_at(a, 1)), 2);
	/* A zeroed structure's ref is id 0: it names nothing. */
	cr_assert_eq(dopy_value_kind(dopy_value_at(s, 1)), DOPY_REF);
	cr_assert_eq(dopy_value_get_ref(dopy_value_at(s, 1)), 0);
	cr_assert_eq(dopy_value_set_field(s, 1, dopy_value_ref(9)), 0);
	cr_assert_eq(dopy_value_set_field(s, 1, dopy_value_uint(9)),
	    DOPY_E_TYPE);
	cr_assert_eq(dopy_value_get_ref(dopy_value_at(s, 1)), 9);
	c = dopy_value_copy(s);
	cr_assert(dopy_value_equal(s, c));
	dopy_value_free(c);
	c = dopy_value_copy(a);
	cr_assert(dopy_value_equal(a, c));
	dopy_value_free(c);
	dopy_value_free(a);
	dopy_value_free(s);
	dopy_type_free(ta);
	dopy_type_free(ts);
}

/* ---- packed arrays: bool, int, uint and double elements in a block ---- */

Test(value, packed_from_c_arrays)
{
	static const int64_t is[] = { 1, -2, INT64_MAX };
	static const uint64_t us[] = { UINT64_MAX, 0 };
	static const double ds[] = { 0.5, -0.0 };
	static const uint8_t bs[] = { 0, 1, 7 };
	dopy_value *i = dopy_value_int_array(is, 3),
	    *u = dopy_value_uint_array(us, 2),
	    *d = dopy_value_double_array(ds, 2),
	    *b = dopy_value_bool_array(bs, 3);
	dopy_type *t = ty("int[]");
	size_t n;

	cr_assert(dopy_type_equal(dopy_value_type(i), t));
	cr_assert_str_eq(dopy_type_name(dopy_value_type(b)), "bool[]");
	cr_assert_eq(memcmp(dopy_value_ints(i, &n), is, sizeof(is)), 0);
	cr_assert_eq(n, 3);
	cr_assert_neq(dopy_value_ints(i, NULL), is, "a copy, not the caller's");
	cr_assert_eq(memcmp(dopy_value_uints(u, &n), us, sizeof(us)), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(memcmp(dopy_value_doubles(d, &n), ds, sizeof(ds)), 0);
	cr_assert_eq(memcmp(dopy_value_bools(b, &n), "\0\1\1", 3), 0,
	    "bools are 0 or 1");
	cr_assert_eq(dopy_value_len(b), 3);
	cr_assert_eq(dopy_value_get_bool(dopy_value_at(b, 2)), 1);
	cr_assert_eq(dopy_value_get_int(dopy_value_at(i, 2)), INT64_MAX);
	cr_assert_null(dopy_value_at(i, 3));
	dopy_value_free(i);
	dopy_value_free(u);
	dopy_value_free(d);
	dopy_value_free(b);
	dopy_type_free(t);
}

Test(value, packed_accessors_of_other_types)
{
	dopy_value *i = dopy_value_int_array(NULL, 0), *s = dopy_value_int(1);
	dopy_type *t = ty("string[]");
	dopy_value *a = dopy_value_new(t);
	size_t n = 99;

	/* Empty: a pointer all the same, so NULL always means "not one". */
	cr_assert_not_null(dopy_value_ints(i, &n));
	cr_assert_eq(n, 0);
	n = 99;
	cr_assert_null(dopy_value_uints(i, &n));
	cr_assert_eq(n, 0);
	cr_assert_null(dopy_value_ints(s, NULL));
	cr_assert_null(dopy_value_bools(a, NULL));
	cr_assert_null(dopy_value_doubles(NULL, &n));
	cr_assert_null(dopy_value_int_array(NULL, 1));
	dopy_value_free(i);
	dopy_value_free(s);
	dopy_value_free(a);
	dopy_type_free(t);
}

/* Arrays made from types read as text are packed too, and grow. */
Test(value, packed_append_grows)
{
	dopy_type *t = ty("double[]");
	dopy_value *a = dopy_value_new(t);
	const double *d;
	size_t i, n;

	for (i = 0; i < 1000; i++)
		cr_assert_eq(dopy_value_append(a, dopy_value_double(i / 2.0)),
		    0);
	cr_assert_eq(dopy_value_append(a, dopy_value_int(1)), DOPY_E_TYPE);
	d = dopy_value_doubles(a, &n);
	cr_assert_eq(n, 1000);
	for (i = 0; i < n; i++)
		cr_assert_eq(d[i], i / 2.0);
	cr_assert_eq(dopy_value_get_double(dopy_value_at(a, 999)), 499.5);
	dopy_value_free(a);
	dopy_type_free(t);
}

/* dopy_value_at makes an element once and keeps it, through appends. */
Test(value, packed_at_is_stable)
{
	static const int64_t is[] = { 10, 20 };
	dopy_value *a = dopy_value_int_array(is, 2);
	const dopy_value *e0 = dopy_value_at(a, 0), *e2;
	size_t i;

	cr_assert_eq(dopy_value_at(a, 0), e0);
	cr_assert_eq(dopy_value_get_int(e0), 10);
	for (i = 0; i < 100; i++)
		cr_assert_eq(dopy_value_append(a, dopy_value_int(i)), 0);
	cr_assert_eq(dopy_value_at(a, 0), e0, "moved by an append");
	e2 = dopy_value_at(a, 2);
	cr_assert_eq(dopy_value_get_int(e2), 0);
	cr_assert_eq(dopy_value_get_int(dopy_value_at(a, 101)), 99);
	cr_assert_eq(dopy_value_ints(a, NULL)[101], 99);
	dopy_value_free(a);
}

Test(value, packed_copy_and_equal)
{
	static const double ds[] = { NAN, 0.0, 1 };
	static const double dz[] = { NAN, -0.0, 1 };
	static const uint8_t bs[] = { 1, 0 }, bt[] = { 1, 1 };
	dopy_value *d = dopy_value_double_array(ds, 3),
	    *z = dopy_value_double_array(dz, 3), *c = dopy_value_copy(d),
	    *b = dopy_value_bool_array(bs, 2), *b2 = dopy_value_bool_array(bt, 2),
	    *shorter = dopy_value_double_array(ds, 2);

	cr_assert_not_null(c);
	cr_assert_neq(dopy_value_doubles(c, NULL), dopy_value_doubles(d, NULL));
	/* As for scalars: NaN equals NaN, -0.0 equals 0.0. */
	cr_assert(dopy_value_equal(d, c));
	cr_assert(dopy_value_equal(d, z));
	cr_assert_not(dopy_value_equal(d, shorter));
	cr_assert_not(dopy_value_equal(b, b2));
	cr_assert_not(dopy_value_equal(b, d));
	(void)dopy_value_at(c, 1);	/* a copy with an element made */
	dopy_value_free(c);
	c = dopy_value_copy(b);
	cr_assert(dopy_value_equal(b, c));
	dopy_value_free(c);
	dopy_value_free(d);
	dopy_value_free(z);
	dopy_value_free(b);
	dopy_value_free(b2);
	dopy_value_free(shorter);
}

/* Nested: the inner arrays are packed, the outer holds them. */
Test(value, packed_inside_arrays_and_item)
{
	static const uint64_t us[] = { 3, 4 };
	dopy_type *t = ty("uint[][]");
	dopy_value *a = dopy_value_new(t), tmp;
	const dopy_value *e;

	cr_assert_eq(dopy_value_append(a, dopy_value_uint_array(us, 2)), 0);
	cr_assert_eq(dopy_value_append(a, dopy_value_uint_array(us, 0)), 0);
	e = dopy_value_item(a, 0, &tmp);
	cr_assert_eq(e, dopy_value_at(a, 0));
	cr_assert_eq(dopy_value_uints(e, NULL)[1], 4);
	/* dopy_value_item reads an element without making it. */
	e = dopy_value_item(dopy_value_at(a, 0), 1, &tmp);
	cr_assert_eq(e, &tmp);
	cr_assert_eq(dopy_value_get_uint(e), 4);
	cr_assert_null(dopy_value_at(a, 0)->u.a.v, "an element was made");
	dopy_value_free(a);
	dopy_type_free(t);
}
