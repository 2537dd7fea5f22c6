/*
 * test_image.c - the images read and written without tpl (image.c) must
 * be exactly what tpl reads and writes.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "internal.h"

static dopy_type *
type(const char *text)
{
	char err[200];
	dopy_type *t = dopy_type_parse(text, err, sizeof(err));

	cr_assert_not_null(t, "%s: %s", text, err);
	return t;
}

/* The one image in b. */
static struct dopy_image
image_of(const struct dopy_buf *b)
{
	struct dopy_image img[2];
	char err[200];
	size_t n;

	cr_assert_eq(dopy_images_split(b->data, b->len, img, 2, &n, err,
	    sizeof(err)), 0, "%s", err);
	cr_assert_eq(n, 1);
	return img[0];
}

/* Decode b's image as text both ways: the same outcome and value. */
static int
decode_both(const struct dopy_buf *b, const char *text, char *err,
    size_t errlen)
{
	struct dopy_image img = image_of(b);
	dopy_type *t = type(text);
	dopy_value *v, *w;
	char terr[200];
	int r, tr;

	r = dopy_decode(&img, t, &v, err, errlen);
	tr = dopy_decode_tpl(&img, t, &w, terr, sizeof(terr));
	cr_assert_eq(r, tr, "%s: direct %d (%s), tpl %d (%s)", text, r,
	    r < 0 ? err : "", tr, tr < 0 ? terr : "");
	if (r == 0)
		cr_assert(dopy_value_equal(v, w), "%s: values differ", text);
	else
		cr_assert_str_eq(err, terr, "%s: errors differ", text);
	dopy_value_free(v);
	dopy_value_free(w);
	dopy_type_free(t);
	return r;
}

static void
encode(struct dopy_buf *b, dopy_value *v)
{
	dopy_buf_init(b);
	cr_assert_not_null(v);
	cr_assert_eq(dopy_encode(v, b), 0);
	dopy_value_free(v);
}

Test(image, scalars_as_tpl_reads_them)
{
	struct dopy_buf b;
	char err[200];

	encode(&b, dopy_value_int(-123456789012345));
	cr_assert_eq(decode_both(&b, "int", err, sizeof(err)), 0);
	dopy_buf_release(&b);
	encode(&b, dopy_value_uint(UINT64_MAX));
	cr_assert_eq(decode_both(&b, "uint", err, sizeof(err)), 0);
	dopy_buf_release(&b);
	encode(&b, dopy_value_double(-0.25));
	cr_assert_eq(decode_both(&b, "double", err, sizeof(err)), 0);
	dopy_buf_release(&b);
	encode(&b, dopy_value_bool(1));
	cr_assert_eq(decode_both(&b, "bool", err, sizeof(err)), 0);
	dopy_buf_release(&b);
	encode(&b, dopy_value_string("h\xc3\xa9llo"));
	cr_assert_eq(decode_both(&b, "string", err, sizeof(err)), 0);
	dopy_buf_release(&b);
	encode(&b, dopy_value_string(""));
	cr_assert_eq(decode_both(&b, "string", err, sizeof(err)), 0);
	dopy_buf_release(&b);
	encode(&b, dopy_value_bytes("a\0b\xff", 4));
	cr_assert_eq(decode_both(&b, "bytes", err, sizeof(err)), 0);
	dopy_buf_release(&b);
}

/* Offset of the data in a one-image buffer whose format is fmt. */
static size_t
data_at(const char *fmt)
{
	return 8 + strlen(fmt) + 1;
}

Test(image, faults_refused_as_tpl_refuses_them)
{
	struct dopy_buf b;
	char err[200];
	uint32_t zero = 0;

	encode(&b, dopy_value_bool(1));
	b.data[data_at("c")] = 2;
	cr_assert_lt(decode_both(&b, "bool", err, sizeof(err)), 0);
	dopy_buf_release(&b);

	/* A string count of 0 is tpl's NULL. */
	encode(&b, dopy_value_string("x"));
	b.len = data_at("s");
	dopy_buf_put(&b, &zero, sizeof(zero));
	memcpy(b.data + 4, &(uint32_t){ (uint32_t)b.len }, 4);
	cr_assert_lt(decode_both(&b, "string", err, sizeof(err)), 0);
	cr_assert(strstr(err, "null") != NULL, "%s", err);
	dopy_buf_release(&b);

	/* A NUL inside a string: tpl would cut it there. */
	encode(&b, dopy_value_string("abc"));
	b.data[data_at("s") + 5] = '\0';
	cr_assert_lt(decode_both(&b, "string", err, sizeof(err)), 0);
	dopy_buf_release(&b);

	/* A string count past the data. */
	encode(&b, dopy_value_string("abc"));
	b.data[data_at("s")] = 9;
	cr_assert_lt(decode_both(&b, "string", err, sizeof(err)), 0);
	dopy_buf_release(&b);

	/* Bytes after the value, the length field saying so. */
	encode(&b, dopy_value_int(5));
	dopy_buf_put(&b, "zz", 2);
	memcpy(b.data + 4, &(uint32_t){ (uint32_t)b.len }, 4);
	cr_assert_lt(decode_both(&b, "int", err, sizeof(err)), 0);
	dopy_buf_release(&b);

	/* An int cut short. */
	encode(&b, dopy_value_int(5));
	b.len -= 3;
	memcpy(b.data + 4, &(uint32_t){ (uint32_t)b.len }, 4);
	cr_assert_lt(decode_both(&b, "int", err, sizeof(err)), 0);
	dopy_buf_release(&b);
}

Test(image, other_byte_order_is_left_to_tpl)
{
	struct dopy_buf b;
	struct dopy_image img;
	dopy_value *v;
	char err[200];

	encode(&b, dopy_value_int(1));
	b.data[3] ^= 1;			/* the writer's byte order flag */
	for (int i = 0; i < 2; i++) {	/* and the length in that order */
		uint8_t x = b.data[4 + i];
		b.data[4 + i] = b.data[7 - i];
		b.data[7 - i] = x;
	}
	img = image_of(&b);
	cr_assert_eq(dopy_image_leaf(&img, &dopy_type_int_, &v, err,
	    sizeof(err)), 1);
	cr_assert_null(v);
	dopy_buf_release(&b);
}

/* The strings writer gives the bytes dopy_encode gives for the values. */
Test(image, put_strings_is_dopy_encode)
{
	const char *s[3] = { "obj", "", "m\xc3\xa9thod" };
	struct dopy_buf direct, via;
	dopy_value *v;
	dopy_type *t;
	size_t n, i;

	for (n = 0; n <= 3; n++) {
		dopy_buf_init(&direct);
		cr_assert_eq(dopy_image_put_strings(&direct, "A(s)", 1, s, n),
		    0);
		t = type("string[]");
		v = dopy_value_new(t);
		for (i = 0; i < n; i++)
			cr_assert_eq(dopy_value_append(v,
			    dopy_value_string(s[i])), 0);
		encode(&via, v);
		cr_assert_eq(direct.len, via.len);
		cr_assert_eq(memcmp(direct.data, via.data, via.len), 0);
		dopy_buf_release(&direct);
		dopy_buf_release(&via);
		dopy_type_free(t);
	}
	dopy_buf_init(&direct);
	cr_assert_eq(dopy_image_put_strings(&direct, "S(ss)", 0, s, 2), 0);
	t = type("(string,string)");
	v = dopy_value_new(t);
	cr_assert_eq(dopy_value_set_field(v, 0, dopy_value_string(s[0])), 0);
	cr_assert_eq(dopy_value_set_field(v, 1, dopy_value_string(s[1])), 0);
	encode(&via, v);
	cr_assert_eq(direct.len, via.len);
	cr_assert_eq(memcmp(direct.data, via.data, via.len), 0);
	dopy_buf_release(&direct);
	dopy_buf_release(&via);
	dopy_type_free(t);
}

Test(image, call_header_read_in_place)
{
	const char *names[2] = { "", "x" };
	struct dopy_callmsg m;
	struct dopy_buf b;
	dopy_value *a = dopy_value_int(1), *c = dopy_value_string("two");
	char err[200];

	dopy_buf_init(&b);
	cr_assert_eq(dopy_msg_call_put(&b, "calc", "add", names, 2), 0);
	cr_assert_eq(dopy_encode(a, &b), 0);
	cr_assert_eq(dopy_encode(c, &b), 0);
	cr_assert_eq(dopy_msg_call_get(b.data, b.len, &m, err, sizeof(err)),
	    0, "%s", err);
	cr_assert_str_eq(m.object, "calc");
	cr_assert_str_eq(m.method, "add");
	cr_assert_eq(m.argc, 2);
	cr_assert_str_eq(m.names[0], "");
	cr_assert_str_eq(m.names[1], "x");
	dopy_msg_call_release(&m);
	cr_assert_null(m.object);

	/* Names for two arguments, one argument. */
	dopy_buf_reset(&b);
	cr_assert_eq(dopy_msg_call_put(&b, "calc", "add", names, 2), 0);
	cr_assert_eq(dopy_encode(a, &b), 0);
	cr_assert_eq(dopy_msg_call_get(b.data, b.len, &m, err, sizeof(err)),
	    DOPY_E_PROTO);
	cr_assert(strstr(err, "names 2 arguments but carries 1") != NULL,
	    "%s", err);
	cr_assert_null(m.object);
	dopy_buf_release(&b);
	dopy_value_free(a);
	dopy_value_free(c);
}

/* Arrays of bool, int, uint and double are read here, straight into
 * their block; other arrays, and nested ones, are tpl's. */
Test(image, packed_arrays_read_in_place)
{
	static const int64_t is[] = { 7, -7 };
	static const uint8_t bs[] = { 1, 0, 1 };
	struct dopy_buf b;
	struct dopy_image img;
	dopy_type *t;
	dopy_value *v;
	char err[200];

	encode(&b, dopy_value_int_array(is, 2));
	img = image_of(&b);
	cr_assert_eq(dopy_image_leaf(&img, &dopy_type_ints_, &v, err,
	    sizeof(err)), 0, "%s", err);
	cr_assert_eq(memcmp(dopy_value_ints(v, NULL), is, sizeof(is)), 0);
	dopy_value_free(v);
	cr_assert_eq(decode_both(&b, "int[]", err, sizeof(err)), 0);
	dopy_buf_release(&b);

	encode(&b, dopy_value_bool_array(bs, 3));
	cr_assert_eq(decode_both(&b, "bool[]", err, sizeof(err)), 0);
	b.data[data_at("A(c)") + 4 + 1] = 2;
	cr_assert_lt(decode_both(&b, "bool[]", err, sizeof(err)), 0);
	cr_assert(strstr(err, "bool") != NULL, "%s", err);
	dopy_buf_release(&b);

	/* A count one short of the data, and one past it. */
	encode(&b, dopy_value_double_array((const double[]){ 1, 2 }, 2));
	b.data[data_at("A(f)")] = 1;
	cr_assert_lt(decode_both(&b, "double[]", err, sizeof(err)), 0);
	b.data[data_at("A(f)")] = 3;
	cr_assert_lt(decode_both(&b, "double[]", err, sizeof(err)), 0);
	dopy_buf_release(&b);

	t = type("int[][]");
	encode(&b, dopy_value_new(t));
	img = image_of(&b);
	cr_assert_eq(dopy_image_leaf(&img, t, &v, err, sizeof(err)), 1);
	dopy_buf_release(&b);
	dopy_type_free(t);
}
