/*
 * test_stubio.c - lib/wire/stubio.c: generated code's writer and reader.
 * What dopy_out writes, dopy_decode reads to equal values; what
 * dopy_encode writes, dopy_in reads back; and every malformed image
 * comes back as an error with a message, the process alive.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define HOST_BE	1
#else
#define HOST_BE	0
#endif

static dopy_value *
val(const char *type, const char *text)
{
	char err[200] = "";
	dopy_type *t = dopy_type_parse(type, err, sizeof(err));
	dopy_value *v;

	cr_assert_not_null(t, "%s: %s", type, err);
	v = dopy_value_parse(t, text, err, sizeof(err));
	cr_assert_not_null(v, "%s %s: %s", type, text, err);
	dopy_type_free(t);
	return v;
}

static const char *
tplof(const char *type)
{
	static char fmt[64];
	char err[200] = "";
	dopy_type *t = dopy_type_parse(type, err, sizeof(err));

	cr_assert_not_null(t, "%s: %s", type, err);
	strlcpy(fmt, dopy_type_tpl(t), sizeof(fmt));
	dopy_type_free(t);
	return fmt;
}

/* The images in b, split and checked. */
struct imgs {
	struct dopy_image	 i[8];
	size_t			 n;
};

static void
split(const struct dopy_buf *b, struct imgs *m)
{
	char err[200] = "";
	int r;

	r = dopy_images_split(b->data, b->len, m->i, 8, &m->n, err,
	    sizeof(err));
	cr_assert_eq(r, 0, "split: %s", err);
}

/* The one image in b decodes (dopy_decode) to the value of text. */
static void
decodes_to(const struct dopy_buf *b, const char *type, const char *text)
{
	struct imgs m;
	dopy_value *want = val(type, text), *got = NULL;
	char err[200] = "", *s;
	int r;

	split(b, &m);
	cr_assert_eq(m.n, 1);
	r = dopy_decode(&m.i[0], dopy_value_type(want), &got, err,
	    sizeof(err));
	cr_assert_eq(r, 0, "%s: %s", type, err);
	s = dopy_value_format(got);
	cr_assert(dopy_value_equal(want, got), "%s: got %s", type, s);
	free(s);
	dopy_value_free(want);
	dopy_value_free(got);
}

/* A buffer holding the image dopy_encode writes for the value. */
static void
encoded(struct dopy_buf *b, const char *type, const char *text)
{
	dopy_value *v = val(type, text);

	dopy_buf_init(b);
	cr_assert_eq(dopy_encode(v, b), 0);
	dopy_value_free(v);
}

/* b holds the image of v (taken). */
static void
encoded_value(struct dopy_buf *b, dopy_value *v)
{
	cr_assert_eq(dopy_encode(v, b), 0);
	dopy_value_free(v);
}

/* ---- writing ---- */

Test(stubio, out_scalars)
{
	struct dopy_buf b;
	dopy_out o;

	dopy_buf_init(&b);
#define ONE(type, text, fmt, call) do {					\
	dopy_buf_reset(&b);						\
	dopy_out_init(&o, &b);						\
	dopy_out_begin(&o, fmt);					\
	call;								\
	dopy_out_end(&o);						\
	cr_assert_eq(dopy_out_error(&o), 0, "%s", type);		\
	cr_assert_eq(o.nimages, 1);					\
	decodes_to(&b, type, text);					\
} while (0)
	ONE("bool", "true", "c", dopy_out_bool(&o, 7));
	ONE("bool", "false", "c", dopy_out_bool(&o, 0));
	ONE("int", "-42", "I", dopy_out_int(&o, -42));
	ONE("int", "9223372036854775807", "I", dopy_out_int(&o, INT64_MAX));
	ONE("uint", "18446744073709551615", "U", dopy_out_uint(&o,
	    UINT64_MAX));
	ONE("double", "2.5", "f", dopy_out_double(&o, 2.5));
	ONE("ref", "@7", "u", dopy_out_ref(&o, 7));
	ONE("string", "h\xc3\xa9llo", "s", dopy_out_string(&o,
	    "h\xc3\xa9llo"));
	ONE("string", "", "s", dopy_out_string(&o, ""));
	ONE("bytes", "a\377b", "B", dopy_out_bytes(&o, "a\377b", 3));
	ONE("bytes", "", "B", dopy_out_bytes(&o, NULL, 0));
#undef ONE
	dopy_buf_release(&b);
}

Test(stubio, out_arrays_and_structures)
{
	struct dopy_buf b;
	dopy_out o;
	int i, j;

	dopy_buf_init(&b);
	dopy_out_init(&o, &b);
	dopy_out_begin(&o, tplof("int[][]"));
	dopy_out_count(&o, 3);
	for (i = 0; i < 3; i++) {
		dopy_out_count(&o, (size_t)i);
		for (j = 0; j < i; j++)
			dopy_out_int(&o, 10 * i + j);
	}
	dopy_out_end(&o);
	cr_assert_eq(dopy_out_error(&o), 0);
	decodes_to(&b, "int[][]", "[[], [10], [20, 21]]");

	dopy_buf_reset(&b);
	dopy_out_init(&o, &b);
	dopy_out_begin(&o, tplof("(x:int,name:string)[]"));
	dopy_out_count(&o, 2);
	dopy_out_int(&o, 1);
	dopy_out_string(&o, "one");
	dopy_out_int(&o, 2);
	dopy_out_string(&o, "two");
	dopy_out_end(&o);
	cr_assert_eq(dopy_out_error(&o), 0);
	decodes_to(&b, "(x:int,name:string)[]",
	    "[(1, \"one\"), (2, \"two\")]");

	dopy_buf_reset(&b);
	dopy_out_init(&o, &b);
	dopy_out_begin(&o, tplof("(bool,ref,double)"));
	dopy_out_bool(&o, 1);
	dopy_out_ref(&o, 3);
	dopy_out_double(&o, -0.5);
	dopy_out_end(&o);
	decodes_to(&b, "(bool,ref,double)", "(true, @3, -0.5)");

	dopy_buf_reset(&b);
	dopy_out_init(&o, &b);
	dopy_out_begin(&o, tplof("string[]"));
	dopy_out_count(&o, 0);
	dopy_out_end(&o);
	decodes_to(&b, "string[]", "[]");
	dopy_buf_release(&b);
}

Test(stubio, out_several_images_and_values)
{
	struct dopy_buf b;
	struct imgs m;
	dopy_value *v = val("(int,string)[]", "[(1, \"a\")]");
	dopy_out o;

	dopy_buf_init(&b);
	dopy_out_init(&o, &b);
	dopy_out_begin(&o, "I");
	dopy_out_int(&o, 5);
	dopy_out_end(&o);
	dopy_out_value(&o, v);
	cr_assert_eq(dopy_out_error(&o), 0);
	cr_assert_eq(o.nimages, 2);
	split(&b, &m);
	cr_assert_eq(m.n, 2);
	cr_assert_str_eq(m.i[1].fmt, "A(S(Is))");
	dopy_value_free(v);
	dopy_buf_release(&b);
}

Test(stubio, out_errors_are_sticky)
{
	struct dopy_buf b;
	dopy_out o;

	dopy_buf_init(&b);
	dopy_out_init(&o, &b);
	dopy_out_int(&o, 1);			/* outside an image */
	cr_assert_eq(dopy_out_error(&o), DOPY_E_INVAL);
	dopy_out_begin(&o, "I");
	dopy_out_int(&o, 1);
	dopy_out_end(&o);
	cr_assert_eq(dopy_out_error(&o), DOPY_E_INVAL);
	cr_assert_eq(b.len, 0, "nothing written after the error");

	dopy_out_init(&o, &b);
	dopy_out_begin(&o, "A(I)");
	dopy_out_count(&o, (size_t)INT32_MAX + 1);
	dopy_out_end(&o);
	cr_assert_eq(dopy_out_error(&o), DOPY_E_TOOBIG);
	cr_assert_eq(b.len, 0, "the image is cut off");

	dopy_out_init(&o, &b);
	dopy_out_begin(&o, "s");
	dopy_out_string(&o, NULL);
	dopy_out_end(&o);
	cr_assert_eq(dopy_out_error(&o), DOPY_E_INVAL);
	cr_assert_eq(b.len, 0);

	dopy_out_init(&o, &b);
	dopy_out_end(&o);
	cr_assert_eq(dopy_out_error(&o), DOPY_E_INVAL);

	dopy_out_init(&o, &b);
	dopy_out_begin(&o, "I");
	dopy_out_begin(&o, "I");
	cr_assert_eq(dopy_out_error(&o), DOPY_E_INVAL);

	dopy_out_init(&o, &b);
	dopy_out_value(&o, NULL);
	cr_assert_lt(dopy_out_error(&o), 0);
	dopy_buf_release(&b);
}

/* ---- reading what dopy_encode wrote ---- */

/* A reader over the images of b (m must outlive it). */
static void
reader(dopy_in *in, const struct dopy_buf *b, struct imgs *m)
{
	split(b, m);
	dopy_in_init(in, m->i, m->n);
}

Test(stubio, in_scalars)
{
	struct dopy_buf b;
	struct imgs m;
	dopy_in in;
	size_t len;
	char *s;
	void *p;

	encoded(&b, "bool", "true");
	reader(&in, &b, &m);
	dopy_in_begin(&in, "c");
	cr_assert_eq(dopy_in_bool(&in), 1);
	dopy_in_end(&in);
	cr_assert_eq(dopy_in_done(&in), 0, "%s", dopy_in_errmsg(&in));
	dopy_buf_release(&b);

	encoded(&b, "int", "-7");
	encoded_value(&b, dopy_value_uint(UINT64_MAX));
	reader(&in, &b, &m);
	dopy_in_begin(&in, "I");
	cr_assert_eq(dopy_in_int(&in), -7);
	dopy_in_end(&in);
	dopy_in_begin(&in, "U");
	cr_assert_eq(dopy_in_uint(&in), UINT64_MAX);
	dopy_in_end(&in);
	cr_assert_eq(dopy_in_done(&in), 0, "%s", dopy_in_errmsg(&in));
	dopy_buf_release(&b);

	encoded(&b, "double", "0.25");
	reader(&in, &b, &m);
	dopy_in_begin(&in, "f");
	cr_assert_eq(dopy_in_double(&in), 0.25);
	dopy_in_end(&in);
	cr_assert_eq(dopy_in_error(&in), 0);
	dopy_buf_release(&b);

	encoded(&b, "ref", "@99");
	reader(&in, &b, &m);
	dopy_in_begin(&in, "u");
	cr_assert_eq(dopy_in_ref(&in), 99);
	dopy_in_end(&in);
	cr_assert_eq(dopy_in_error(&in), 0);
	dopy_buf_release(&b);

	encoded(&b, "string", "abc");
	reader(&in, &b, &m);
	dopy_in_begin(&in, "s");
	s = dopy_in_string(&in);
	dopy_in_end(&in);
	cr_assert_eq(dopy_in_error(&in), 0);
	cr_assert_str_eq(s, "abc");
	free(s);
	dopy_buf_release(&b);

	dopy_buf_init(&b);
	encoded_value(&b, dopy_value_bytes("\0\1", 2));
	reader(&in, &b, &m);
	dopy_in_begin(&in, "B");
	p = dopy_in_bytes(&in, &len);
	dopy_in_end(&in);
	cr_assert_eq(dopy_in_error(&in), 0);
	cr_assert_eq(len, 2);
	cr_assert(memcmp(p, "\0\1", 3) == 0, "bytes and a NUL after them");
	free(p);
	dopy_buf_release(&b);

	encoded(&b, "bytes", "");
	reader(&in, &b, &m);
	dopy_in_begin(&in, "B");
	p = dopy_in_bytes(&in, &len);
	dopy_in_end(&in);
	cr_assert_eq(dopy_in_error(&in), 0);
	cr_assert_eq(len, 0);
	cr_assert_not_null(p);
	free(p);
	dopy_buf_release(&b);
}

struct rec {
	int64_t	 x;
	char	*name;
};

Test(stubio, in_arrays_and_structures)
{
	struct dopy_buf b;
	struct imgs m;
	struct rec *r;
	int64_t **rows;
	size_t n, *lens, i;
	dopy_in in;

	encoded(&b, "int[][]", "[[1, 2], [], [3]]");
	reader(&in, &b, &m);
	dopy_in_begin(&in, "A(A(I))");
	rows = dopy_in_array(&in, &n, sizeof(*rows));
	cr_assert_eq(n, 3);
	lens = calloc(n, sizeof(*lens));
	for (i = 0; i < n; i++) {
		size_t j;

		rows[i] = dopy_in_array(&in, &lens[i], sizeof(**rows));
		for (j = 0; j < lens[i]; j++)
			rows[i][j] = dopy_in_int(&in);
	}
	dopy_in_end(&in);
	cr_assert_eq(dopy_in_done(&in), 0, "%s", dopy_in_errmsg(&in));
	cr_assert_eq(lens[0], 2);
	cr_assert_eq(lens[1], 0);
	cr_assert_null(rows[1], "an empty array is NULL");
	cr_assert_eq(rows[0][1], 2);
	cr_assert_eq(rows[2][0], 3);
	for (i = 0; i < n; i++)
		free(rows[i]);
	free(rows);
	free(lens);
	dopy_buf_release(&b);

	encoded(&b, "(x:int,name:string)[]", "[(1, \"a\"), (2, \"bc\")]");
	reader(&in, &b, &m);
	dopy_in_begin(&in, "A(S(Is))");
	r = dopy_in_array(&in, &n, sizeof(*r));
	for (i = 0; i < n; i++) {
		r[i].x = dopy_in_int(&in);
		r[i].name = dopy_in_string(&in);
	}
	dopy_in_end(&in);
	cr_assert_eq(dopy_in_done(&in), 0, "%s", dopy_in_errmsg(&in));
	cr_assert_eq(n, 2);
	cr_assert_eq(r[1].x, 2);
	cr_assert_str_eq(r[1].name, "bc");
	for (i = 0; i < n; i++)
		free(r[i].name);
	free(r);
	dopy_buf_release(&b);

	encoded(&b, "ref[]", "[@1, @2]");
	reader(&in, &b, &m);
	dopy_in_begin(&in, "A(u)");
	free(dopy_in_array(&in, &n, sizeof(uint32_t)));
	cr_assert_eq(n, 2);
	cr_assert_eq(dopy_in_ref(&in), 1);
	cr_assert_eq(dopy_in_ref(&in), 2);
	dopy_in_end(&in);
	cr_assert_eq(dopy_in_error(&in), 0);
	dopy_buf_release(&b);
}

Test(stubio, in_value)
{
	struct dopy_buf b;
	struct imgs m;
	dopy_value *v, *want = val("(int,string)[]", "[(3, \"x\")]");
	dopy_in in;

	encoded(&b, "(int,string)[]", "[(3, \"x\")]");
	reader(&in, &b, &m);
	v = dopy_in_value(&in);
	cr_assert_not_null(v, "%s", dopy_in_errmsg(&in));
	cr_assert(dopy_value_equal(v, want));
	cr_assert_eq(dopy_in_done(&in), 0);
	cr_assert_null(dopy_in_value(&in), "no second value");
	cr_assert_eq(dopy_in_error(&in), DOPY_E_PROTO);
	dopy_value_free(v);
	dopy_value_free(want);
	dopy_buf_release(&b);
}

/* ---- malformed images: errors, never a crash ---- */

/* An image by hand: flags (byte order added unless swapped), format,
 * data. */
static void
mkimg(struct dopy_buf *b, uint8_t flags, const char *fmt, const void *data,
    size_t dlen)
{
	uint32_t len = (uint32_t)(8 + strlen(fmt) + 1 + dlen);

	dopy_buf_init(b);
	dopy_buf_put(b, "tpl", 3);
	dopy_buf_put(b, &flags, 1);
	if ((flags & 1) != HOST_BE)
		len = __builtin_bswap32(len);
	dopy_buf_put(b, &len, 4);
	dopy_buf_put(b, fmt, strlen(fmt) + 1);
	dopy_buf_put(b, data, dlen);
}

static void
refused(dopy_in *in, int code, const char *why)
{
	cr_assert_eq(dopy_in_error(in), code, "%s: error %d (%s)", why,
	    dopy_in_error(in), dopy_in_errmsg(in));
	cr_assert(dopy_in_errmsg(in)[0] != '\0', "%s: no message", why);
}

Test(stubio, in_wrong_format)
{
	struct dopy_buf b;
	struct imgs m;
	dopy_in in;

	encoded(&b, "int", "1");
	reader(&in, &b, &m);
	dopy_in_begin(&in, "U");
	cr_assert_eq(dopy_in_uint(&in), 0);
	dopy_in_end(&in);
	refused(&in, DOPY_E_TYPE, "uint for int");
	cr_assert(strstr(dopy_in_errmsg(&in), "expected uint, got int"),
	    "%s", dopy_in_errmsg(&in));
	dopy_buf_release(&b);
}

Test(stubio, in_missing_and_extra_values)
{
	struct dopy_buf b;
	struct imgs m;
	dopy_in in;

	encoded(&b, "int", "1");
	reader(&in, &b, &m);
	dopy_in_begin(&in, "I");
	dopy_in_int(&in);
	dopy_in_end(&in);
	dopy_in_begin(&in, "I");
	refused(&in, DOPY_E_PROTO, "a second value");
	cr_assert_eq(in.errimg, 1);

	reader(&in, &b, &m);
	cr_assert_eq(dopy_in_done(&in), DOPY_E_PROTO, "a value unread");
	reader(&in, &b, &m);
	dopy_in_begin(&in, "I");
	cr_assert_eq(dopy_in_done(&in), DOPY_E_INVAL, "an image not ended");
	dopy_buf_release(&b);
}

Test(stubio, in_truncated)
{
	struct dopy_buf b;
	struct imgs m;
	uint32_t n = 10;
	uint8_t d[7];
	dopy_in in;

	mkimg(&b, HOST_BE, "I", "1234", 4);
	reader(&in, &b, &m);
	dopy_in_begin(&in, "I");
	cr_assert_eq(dopy_in_int(&in), 0);
	refused(&in, DOPY_E_PROTO, "half an int");
	dopy_buf_release(&b);

	/* A string that says 9 bytes and has 3. */
	memcpy(d, &n, 4);
	memcpy(d + 4, "abc", 3);
	mkimg(&b, HOST_BE | 2, "s", d, 7);
	reader(&in, &b, &m);
	dopy_in_begin(&in, "s");
	cr_assert_null(dopy_in_string(&in));
	refused(&in, DOPY_E_PROTO, "short string");
	dopy_buf_release(&b);
}

Test(stubio, in_bad_bool)
{
	struct dopy_buf b;
	struct imgs m;
	dopy_in in;

	mkimg(&b, HOST_BE, "c", "\2", 1);
	reader(&in, &b, &m);
	dopy_in_begin(&in, "c");
	cr_assert_eq(dopy_in_bool(&in), 0);
	dopy_in_end(&in);
	refused(&in, DOPY_E_PROTO, "bool 2");
	dopy_buf_release(&b);
}

Test(stubio, in_bad_strings)
{
	struct dopy_buf b;
	struct imgs m;
	uint8_t d[8];
	uint32_t n;
	dopy_in in;

	n = 0;			/* tpl's NULL string */
	mkimg(&b, HOST_BE | 2, "s", &n, 4);
	reader(&in, &b, &m);
	dopy_in_begin(&in, "s");
	cr_assert_null(dopy_in_string(&in));
	refused(&in, DOPY_E_PROTO, "null string");
	dopy_buf_release(&b);

	n = 4;			/* "a\0b" */
	memcpy(d, &n, 4);
	memcpy(d + 4, "a\0b", 3);
	mkimg(&b, HOST_BE | 2, "s", d, 7);
	reader(&in, &b, &m);
	dopy_in_begin(&in, "s");
	cr_assert_null(dopy_in_string(&in));
	refused(&in, DOPY_E_PROTO, "NUL inside");
	cr_assert_null(dopy_in_string(&in), "sticky");
	dopy_buf_release(&b);
}

Test(stubio, in_impossible_counts)
{
	struct dopy_buf b;
	struct imgs m;
	uint32_t d[3];
	size_t n = 99;
	dopy_in in;

	d[0] = 9;		/* nine ints in 8 bytes */
	d[1] = d[2] = 0;
	mkimg(&b, HOST_BE, "A(I)", d, 12);
	reader(&in, &b, &m);
	dopy_in_begin(&in, "A(I)");
	cr_assert_null(dopy_in_array(&in, &n, 8));
	cr_assert_eq(n, 0);
	refused(&in, DOPY_E_PROTO, "count beyond the data");
	dopy_buf_release(&b);

	d[0] = 0x80000000u;	/* tpl's bug 1 */
	mkimg(&b, HOST_BE, "A(c)", d, 12);
	reader(&in, &b, &m);
	dopy_in_begin(&in, "A(c)");
	cr_assert_null(dopy_in_array(&in, &n, 1));
	refused(&in, DOPY_E_PROTO, "count 2^31");
	dopy_buf_release(&b);
}

Test(stubio, in_trailing_data)
{
	struct dopy_buf b;
	struct imgs m;
	dopy_in in;

	mkimg(&b, HOST_BE, "I", "12345678x", 9);
	reader(&in, &b, &m);
	dopy_in_begin(&in, "I");
	dopy_in_int(&in);
	cr_assert_eq(dopy_in_error(&in), 0);
	dopy_in_end(&in);
	refused(&in, DOPY_E_PROTO, "a byte after the int");
	dopy_buf_release(&b);
}

Test(stubio, in_allocation_bound)
{
	struct dopy_buf b;
	struct imgs m;
	uint8_t d[4 + 1000];
	uint32_t n = 1000;
	size_t got;
	dopy_in in;

	/* 1000 bools, each read into a 1 KiB structure: 1 MB from a
	 * 1 KB image is past 8 x the image + 64 KiB. */
	memcpy(d, &n, 4);
	memset(d + 4, 1, 1000);
	mkimg(&b, HOST_BE, "A(c)", d, sizeof(d));
	reader(&in, &b, &m);
	dopy_in_begin(&in, "A(c)");
	cr_assert_null(dopy_in_array(&in, &got, 1024));
	refused(&in, DOPY_E_TOOBIG, "1 MB from 1 KB");

	/* The same with elements of 8 bytes is fine. */
	reader(&in, &b, &m);
	dopy_in_begin(&in, "A(c)");
	free(dopy_in_array(&in, &got, 8));
	cr_assert_eq(got, 1000);
	cr_assert_eq(dopy_in_error(&in), 0, "%s", dopy_in_errmsg(&in));
	dopy_buf_release(&b);
}

Test(stubio, in_strings_count_against_the_bound)
{
	struct dopy_buf b;
	struct imgs m;
	dopy_in in;
	size_t i;
	char *s;
	int failed = 0;

	/* Reading the same image's strings again and again (a stub that
	 * got it wrong) cannot make more than the bound either. */
	encoded(&b, "string", "0123456789");
	reader(&in, &b, &m);
	dopy_in_begin(&in, "s");
	for (i = 0; i < 10000 && !failed; i++) {
		in.p = in.end - 14;		/* rewind, as a bad stub */
		free(s = dopy_in_string(&in));
		failed = s == NULL;
	}
	refused(&in, DOPY_E_TOOBIG, "strings past the bound");
	dopy_buf_release(&b);
}

Test(stubio, in_other_byte_order)
{
	struct dopy_buf b;
	struct imgs m;
	uint8_t d[4 + 8 + 4 + 2];
	uint64_t i = __builtin_bswap64((uint64_t)-5);
	uint32_t n = __builtin_bswap32(1), l = __builtin_bswap32(3);
	double x = 1.5;
	uint64_t xu;
	size_t cnt;
	dopy_in in;
	char *s;

	memcpy(d, &n, 4);
	memcpy(d + 4, &i, 8);
	memcpy(d + 12, &l, 4);
	memcpy(d + 16, "hi", 2);
	mkimg(&b, (HOST_BE ^ 1) | 2, "A(S(Is))", d, sizeof(d));
	reader(&in, &b, &m);
	dopy_in_begin(&in, "A(S(Is))");
	free(dopy_in_array(&in, &cnt, 16));
	cr_assert_eq(cnt, 1);
	cr_assert_eq(dopy_in_int(&in), -5);
	s = dopy_in_string(&in);
	dopy_in_end(&in);
	cr_assert_eq(dopy_in_error(&in), 0, "%s", dopy_in_errmsg(&in));
	cr_assert_str_eq(s, "hi");
	free(s);
	dopy_buf_release(&b);

	memcpy(&xu, &x, 8);
	xu = __builtin_bswap64(xu);
	mkimg(&b, HOST_BE ^ 1, "f", &xu, 8);
	reader(&in, &b, &m);
	dopy_in_begin(&in, "f");
	cr_assert_eq(dopy_in_double(&in), 1.5);
	dopy_in_end(&in);
	cr_assert_eq(dopy_in_error(&in), 0);
	dopy_buf_release(&b);
}

Test(stubio, in_misuse)
{
	struct dopy_buf b;
	struct imgs m;
	dopy_in in;

	encoded(&b, "int", "1");
	reader(&in, &b, &m);
	cr_assert_eq(dopy_in_int(&in), 0);
	refused(&in, DOPY_E_INVAL, "read before begin");
	reader(&in, &b, &m);
	dopy_in_end(&in);
	refused(&in, DOPY_E_INVAL, "end before begin");
	reader(&in, &b, &m);
	dopy_in_begin(&in, "I");
	cr_assert_null(dopy_in_value(&in));
	refused(&in, DOPY_E_INVAL, "a value inside an image");
	dopy_buf_release(&b);
}
