/*
 * mkcorpus.c - write the seed corpora for the fuzzers (and the frame
 * corpus the end-to-end tests replay against dopyd), so that they can be
 * made again and every file is explained in tests/corpus/README.
 *
 *	cc -std=c11 -D_GNU_SOURCE -Ilib -o /tmp/mkcorpus tests/mkcorpus.c \
 *	    lib/libdopy.a -ltpl -lsodium -lbsd -lpthread
 *	/tmp/mkcorpus tests/corpus
 *
 * frame/	byte streams as a client would send them: frames one after
 *		another (tests/fuzz_frame.c, e2e dopyd::frame_corpus)
 * value/	tpl images, one or more back to back (tests/fuzz_value.c)
 * session/	whole client sessions against dopyd's objects, pos and
 *		naming: good ones, and one per finding of issue 11 that a
 *		client can cause (tests/fuzz_session.c)
 * client/	what a server answers the client harness's script, good
 *		and hostile (tests/fuzz_client.c)
 *
 * The three tpl 1.6.1 bugs of DEPENDENCIES.md are in both, as bare images
 * in value/ and as CALL arguments in frame/.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

static const char *outdir;

static void
save(const char *sub, const char *name, const struct dopy_buf *b)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", outdir, sub, name);
	if ((f = fopen(path, "wb")) == NULL)
		err(1, "%s", path);
	if (b->len > 0 && fwrite(b->data, 1, b->len, f) != b->len)
		err(1, "%s", path);
	if (fclose(f) != 0)
		err(1, "%s", path);
}

static void
put(struct dopy_buf *b, const void *p, size_t n)
{
	if (dopy_buf_put(b, p, n) < 0)
		errx(1, "out of memory");
}

static dopy_type *
type(const char *text)
{
	dopy_type *t;
	char err[200];

	if ((t = dopy_type_parse(text, err, sizeof(err))) == NULL)
		errx(1, "type %s: %s", text, err);
	return t;
}

/* ---- values ---- */

static dopy_value *
array_of(const char *t, size_t n, dopy_value **items)
{
	dopy_type *ty = type(t);
	dopy_value *a = dopy_value_new(ty);
	size_t i;

	dopy_type_free(ty);
	for (i = 0; i < n; i++)
		if (dopy_value_append(a, items[i]) < 0)
			errx(1, "append");
	return a;
}

static dopy_value *
struct_of(const char *t, size_t n, dopy_value **fields)
{
	dopy_type *ty = type(t);
	dopy_value *s = dopy_value_new(ty);
	size_t i;

	dopy_type_free(ty);
	for (i = 0; i < n; i++)
		if (dopy_value_set_field(s, i, fields[i]) < 0)
			errx(1, "set field");
	return s;
}

static dopy_value *
row(int64_t i, const char *s, double d, int b, uint64_t u)
{
	dopy_value *f[] = { dopy_value_int(i), dopy_value_string(s),
	    dopy_value_double(d), dopy_value_bool(b), dopy_value_uint(u) };

	return struct_of("(int,string,double,bool,uint)", 5, f);
}

/* Append the image of v (freed). */
static void
image(struct dopy_buf *b, dopy_value *v)
{
	if (v == NULL || dopy_encode(v, b) < 0)
		errx(1, "encode");
	dopy_value_free(v);
}

static void
value_file(const char *name, dopy_value *v)
{
	struct dopy_buf b;

	dopy_buf_init(&b);
	image(&b, v);
	save("value", name, &b);
	dopy_buf_release(&b);
}

static void
put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

/*
 * The tpl bug images.  Layout: "tpl", flags, u32 length (little-endian
 * here), the format and its NUL, then the data; an array's data starts
 * with its u32 element count.
 */

/* Bug 1: A(I) with no elements and a count of 0x80000000 (17 bytes). */
static void
bug1_alen(struct dopy_buf *b)
{
	size_t at = b->len;

	image(b, array_of("int[]", 0, NULL));
	put_le32(b->data + at + 13, 0x80000000u);
}

/* Bug 1, nested: A(A(s)), one outer element whose own count is
 * 0x80000000 (24 bytes); the guard must check the child after each
 * parent unpack. */
static void
bug1_nested(struct dopy_buf *b)
{
	dopy_value *inner[1];
	size_t at = b->len;

	inner[0] = array_of("string[]", 0, NULL);
	image(b, array_of("string[][]", 1, inner));
	put_le32(b->data + at + 20, 0x80000000u);
}

/* Bug 2: "s" with flag bit 1 clear: the old string encoding (length
 * without the +1), which makes tpl_load call the fatal hook. */
static void
bug2_oldstr(struct dopy_buf *b)
{
	size_t at = b->len;

	image(b, dopy_value_string("hi"));
	b->data[at + 3] &= ~2;
	put_le32(b->data + at + 10, 2);
}

/* Bug 3: a header length below 8 (tpl_gather and TPL_FD write past a
 * tiny buffer with it; 0 makes the gather loop forever). */
static void
bug3_len(struct dopy_buf *b, uint32_t len)
{
	size_t at = b->len;

	image(b, dopy_value_string("World"));
	put_le32(b->data + at + 4, len);
}

static void
bug_values(void)
{
	struct dopy_buf b;

	dopy_buf_init(&b);
	bug1_alen(&b);
	save("value", "tpl-bug1-alen.bin", &b);
	dopy_buf_reset(&b);
	bug1_nested(&b);
	save("value", "tpl-bug1-nested.bin", &b);
	dopy_buf_reset(&b);
	bug2_oldstr(&b);
	save("value", "tpl-bug2-oldstr.bin", &b);
	dopy_buf_reset(&b);
	bug3_len(&b, 4);
	save("value", "tpl-bug3-shortlen.bin", &b);
	dopy_buf_reset(&b);
	bug3_len(&b, 0);
	save("value", "tpl-bug3-zerolen.bin", &b);
	dopy_buf_release(&b);
}

/* References: tpl `u', a uint32 id, alone, in arrays, in structures. */
static void
ref_values(void)
{
	dopy_value *v[3];
	struct dopy_buf b;

	value_file("ref.bin", dopy_value_ref(7));
	v[0] = dopy_value_ref(1);
	v[1] = dopy_value_ref(2);
	v[2] = dopy_value_ref(UINT32_MAX);
	value_file("ref-array.bin", array_of("ref[]", 3, v));
	v[0] = dopy_value_string("name");
	v[1] = dopy_value_ref(3);
	value_file("ref-struct.bin", struct_of("(string,ref)", 2, v));
	v[0] = dopy_value_bool(1);
	v[1] = dopy_value_ref(4);
	v[2] = dopy_value_bool(0);
	v[0] = struct_of("(bool,ref,bool)", 3, v);
	v[1] = dopy_value_new(dopy_value_type(v[0]));	/* id 0 */
	value_file("ref-struct-array.bin",
	    array_of("(bool,ref,bool)[]", 2, v));

	/* Bad: an id of 3 bytes; bug 1 with a count of 0x80000000. */
	dopy_buf_init(&b);
	image(&b, dopy_value_ref(5));
	b.len--;
	put_le32(b.data + 4, (uint32_t)b.len);
	save("value", "ref-short.bin", &b);
	dopy_buf_reset(&b);
	image(&b, array_of("ref[]", 0, NULL));
	put_le32(b.data + 13, 0x80000000u);
	save("value", "ref-array-huge.bin", &b);
	dopy_buf_release(&b);
}

/* An image of fmt with n copies of elem (len bytes) as its elements. */
static void
repeated_file(const char *name, const char *fmt, uint32_t n,
    const void *elem, size_t len)
{
	struct dopy_buf b;
	uint32_t i;

	dopy_buf_init(&b);
	if (dopy_image_open(&b, fmt) < 0 || dopy_image_put_u32(&b, n) < 0)
		errx(1, "image");
	for (i = 0; i < n; i++)
		put(&b, elem, len);
	if (dopy_image_close(&b, 0, 0) < 0)
		errx(1, "image");
	save("value", name, &b);
	dopy_buf_release(&b);
}

/* Packed arrays (one block of scalars) and the decode limit. */
static void
packed_values(void)
{
	static const uint8_t bools[] = { 1, 0, 1 };
	static const uint64_t uints[] = { 0, UINT64_MAX };
	static const double doubles[] = { 0.0 / 0.0, -0.0, 1.5 };
	static const uint32_t empty_string = 1;
	dopy_value *v[2];

	value_file("bool-array.bin", dopy_value_bool_array(bools, 3));
	value_file("uint-array.bin", dopy_value_uint_array(uints, 2));
	value_file("double-array.bin", dopy_value_double_array(doubles, 3));
	v[0] = dopy_value_bool_array(bools, 1);
	v[1] = dopy_value_bool_array(NULL, 0);
	value_file("bool-array-nested.bin", array_of("bool[][]", 2, v));
	repeated_file("bool-array-2.bin", "A(c)", 3, "\2", 1);
	repeated_file("decode-limit-strings.bin", "A(s)", 5000, &empty_string,
	    sizeof(empty_string));
	repeated_file("decode-limit-structs.bin", "A(S(c))", 1000, "\1", 1);
}

static void
good_values(void)
{
	dopy_value *v[4], *nest[3];
	uint8_t all[256];
	size_t i;

	value_file("int.bin", dopy_value_int(-42));
	value_file("uint.bin", dopy_value_uint(UINT64_MAX));
	value_file("double.bin", dopy_value_double(3.25));
	value_file("double-nan.bin", dopy_value_double(0.0 / 0.0));
	value_file("bool.bin", dopy_value_bool(1));
	value_file("string.bin", dopy_value_string("h\xc3\xa9llo, world"));
	value_file("string-empty.bin", dopy_value_string(""));
	for (i = 0; i < sizeof(all); i++)
		all[i] = (uint8_t)i;
	value_file("bytes.bin", dopy_value_bytes(all, sizeof(all)));
	v[0] = dopy_value_int(1);
	v[1] = dopy_value_int(-2);
	v[2] = dopy_value_int(INT64_MAX);
	value_file("int-array.bin", array_of("int[]", 3, v));
	value_file("int-array-empty.bin", array_of("int[]", 0, NULL));
	v[0] = dopy_value_string("a");
	v[1] = dopy_value_string("");
	v[2] = dopy_value_string("ccc");
	value_file("string-array.bin", array_of("string[]", 3, v));
	v[0] = dopy_value_bytes("\0\1", 2);
	v[1] = dopy_value_bytes("", 0);
	value_file("bytes-array.bin", array_of("bytes[]", 2, v));
	v[0] = dopy_value_int(1);
	v[1] = dopy_value_int(2);
	nest[0] = array_of("int[]", 2, v);
	nest[1] = array_of("int[]", 0, NULL);
	v[0] = dopy_value_int(3);
	nest[2] = array_of("int[]", 1, v);
	value_file("nested-array.bin", array_of("int[][]", 3, nest));
	value_file("struct.bin", row(-1, "x", 2.5, 0, 99));
	v[0] = row(1, "one", 1.0, 1, 1);
	v[1] = row(2, "", -0.0, 0, 0);
	value_file("struct-array.bin",
	    array_of("(int,string,double,bool,uint)[]", 2, v));
	ref_values();
	packed_values();
}

/* Whole payloads: several images back to back. */
static void
payload_values(void)
{
	struct dopy_hello h;
	struct dopy_buf b;
	dopy_error *e;

	dopy_buf_init(&b);
	memset(&h, 0, sizeof(h));
	h.proto = DOPY_PROTOCOL;
	h.max_frame = 1u << 20;
	h.software = "dopy mkcorpus";
	if (dopy_msg_hello_put(&b, &h) < 0)
		errx(1, "hello");
	save("value", "hello.bin", &b);

	dopy_buf_reset(&b);
	e = dopy_error_new(DOPY_E_REMOTE, "boom");
	dopy_error_set_fields(e, "test.Failure", "test", "fail", "host", 42);
	dopy_error_add_trace(e, "bin/testobj.c:43 test_fail");
	dopy_error_add_trace(e, "in test.fail on host host pid 42");
	if (dopy_msg_error_put(&b, e) < 0)
		errx(1, "error");
	dopy_error_free(e);
	save("value", "error.bin", &b);

	dopy_buf_reset(&b);
	if (dopy_msg_call_put(&b, "test", "add", (const char *[]){ "", "b" },
	    2) < 0)
		errx(1, "call");
	image(&b, dopy_value_int(2));
	image(&b, dopy_value_int(3));
	save("value", "call.bin", &b);
	dopy_buf_release(&b);
}

/* Images no decoder may accept (or must survive). */
static void
bad_values(void)
{
	static const uint8_t be_int[] = {	/* a big-endian writer's 5 */
		't', 'p', 'l', 0x01, 0, 0, 0, 18, 'I', 0,
		0, 0, 0, 0, 0, 0, 0, 5
	};
	struct dopy_buf b;
	size_t len;

	dopy_buf_init(&b);
	put(&b, be_int, sizeof(be_int));
	save("value", "int-big-endian.bin", &b);

	dopy_buf_reset(&b);
	image(&b, dopy_value_int(7));
	b.data[0] = 'T';
	save("value", "bad-magic.bin", &b);
	b.data[0] = 't';
	b.data[3] = 0x04;
	save("value", "bad-flags.bin", &b);
	b.data[3] = 0;
	b.data[8] = 'X';
	save("value", "bad-format.bin", &b);
	b.data[8] = 'I';
	b.len -= 3;
	save("value", "truncated.bin", &b);

	dopy_buf_reset(&b);
	image(&b, dopy_value_int(7));
	len = b.len;
	put_le32(b.data + 4, (uint32_t)len + 100);
	save("value", "length-too-long.bin", &b);

	dopy_buf_reset(&b);
	image(&b, dopy_value_bool(1));
	b.data[b.len - 1] = 2;
	save("value", "bool-2.bin", &b);

	dopy_buf_reset(&b);
	image(&b, dopy_value_string(""));
	put_le32(b.data + 10, 0);	/* length+1 of 0: a NULL string */
	save("value", "string-null.bin", &b);

	dopy_buf_reset(&b);
	image(&b, dopy_value_string("abc"));
	b.data[15] = '\0';		/* an embedded NUL */
	save("value", "string-nul.bin", &b);
	dopy_buf_release(&b);
}

/* ---- frames ---- */

static void
frame(struct dopy_buf *b, uint8_t ty, uint32_t id, const struct dopy_buf *pl)
{
	uint8_t hdr[DOPY_HDR_LEN];

	dopy_frame_encode(hdr, ty, id, (uint32_t)pl->len);
	put(b, hdr, sizeof(hdr));
	put(b, pl->data, pl->len);
}

static void
hello_features(struct dopy_buf *b, uint32_t proto, uint64_t features)
{
	struct dopy_hello h;
	struct dopy_buf pl;

	memset(&h, 0, sizeof(h));
	h.proto = proto;
	h.features = features;
	h.max_frame = 1u << 20;
	h.software = "dopy mkcorpus";
	dopy_buf_init(&pl);
	if (dopy_msg_hello_put(&pl, &h) < 0)
		errx(1, "hello");
	frame(b, DOPY_F_HELLO, 0, &pl);
	dopy_buf_release(&pl);
}

static void
hello(struct dopy_buf *b, uint32_t proto)
{
	hello_features(b, proto, 0);
}

/* A CALL frame; names NULL for all positional; takes the values. */
static void
call(struct dopy_buf *b, uint32_t id, const char *obj, const char *method,
    size_t argc, const char *const *names, dopy_value **args)
{
	const char *none[DOPY_MAX_ARGS + 2];
	struct dopy_buf pl;
	size_t i;

	for (i = 0; i < argc; i++)
		none[i] = "";
	dopy_buf_init(&pl);
	if (dopy_msg_call_put(&pl, obj, method, names ? names : none,
	    argc) < 0)
		errx(1, "call");
	for (i = 0; i < argc; i++)
		image(&pl, args[i]);
	frame(b, DOPY_F_CALL, id, &pl);
	dopy_buf_release(&pl);
}

/* A CALL whose one argument is the raw image made by fn. */
static void
call_raw(struct dopy_buf *b, uint32_t id, const char *obj,
    const char *method, void (*fn)(struct dopy_buf *))
{
	static const char *names[] = { "" };
	struct dopy_buf pl;

	dopy_buf_init(&pl);
	if (dopy_msg_call_put(&pl, obj, method, names, 1) < 0)
		errx(1, "call");
	fn(&pl);
	frame(b, DOPY_F_CALL, id, &pl);
	dopy_buf_release(&pl);
}

static void
add(struct dopy_buf *b, uint32_t id)
{
	dopy_value *a[] = { dopy_value_int(2), dopy_value_int(3) };

	call(b, id, "test", "add", 2, NULL, a);
}

static void
save_frames(const char *name, struct dopy_buf *b)
{
	save("frame", name, b);
	dopy_buf_reset(b);
}

static void
good_frames(void)
{
	static const char *named[] = { "name" };
	static const char *mixed[] = { "", "greeting" };
	static const uint8_t bytes[] = { 0, 1, 2, 0xfe, 0xff };
	dopy_value *a[3], *rows[2], *inner[2];
	struct dopy_buf b, pl;
	dopy_error *e;

	dopy_buf_init(&b);
	hello(&b, DOPY_PROTOCOL);
	save_frames("hello.bin", &b);

	hello(&b, DOPY_PROTOCOL);
	add(&b, 1);
	save_frames("hello-call-add.bin", &b);

	hello(&b, DOPY_PROTOCOL);
	add(&b, 1);
	a[0] = dopy_value_string("World");
	call(&b, 2, "test", "greet", 1, named, a);
	a[0] = dopy_value_string("World");
	a[1] = dopy_value_string("Hi");
	call(&b, 3, "test", "greet", 2, mixed, a);
	a[0] = dopy_value_bytes(bytes, sizeof(bytes));
	call(&b, 4, "test", "echo", 1, NULL, a);
	a[0] = dopy_value_string("boom");
	call(&b, 5, "test", "fail", 1, NULL, a);
	call(&b, 6, "dopy", "objects", 0, NULL, NULL);
	a[0] = dopy_value_string("test");
	call(&b, 7, "dopy", "describe", 1, NULL, a);
	call(&b, 8, "test", "noisy", 0, NULL, NULL);
	save_frames("session.bin", &b);

	/* Array arguments: methods of the fuzzers' test object. */
	hello(&b, DOPY_PROTOCOL);
	a[0] = dopy_value_int(1);
	a[1] = dopy_value_int(2);
	a[2] = dopy_value_int(3);
	a[0] = array_of("int[]", 3, a);
	call(&b, 1, "test", "sum", 1, NULL, a);
	rows[0] = row(1, "a", 1.5, 1, 7);
	rows[1] = row(-2, "", 0.0, 0, 0);
	a[0] = array_of("(int,string,double,bool,uint)[]", 2, rows);
	call(&b, 2, "test", "rows", 1, NULL, a);
	inner[0] = dopy_value_string("a");
	inner[1] = dopy_value_string("b");
	a[0] = array_of("string[]", 2, inner);
	a[1] = array_of("string[]", 0, NULL);
	a[0] = array_of("string[][]", 2, a);
	call(&b, 3, "test", "nest", 1, NULL, a);
	save_frames("session-arrays.bin", &b);

	/* References (bin/testobj_ref.c): made, called, passed back,
	 * released, then used and forged. */
	hello(&b, DOPY_PROTOCOL);
	a[0] = dopy_value_int(5);
	call(&b, 1, "factory", "counter", 1, NULL, a);
	call(&b, 2, "@1", "incr", 0, NULL, NULL);
	a[0] = dopy_value_ref(1);
	a[1] = dopy_value_ref(1);
	a[0] = array_of("ref[]", 2, a);
	call(&b, 3, "factory", "sum", 1, NULL, a);
	a[0] = dopy_value_string("x");
	a[1] = dopy_value_ref(1);
	a[0] = struct_of("(string,ref)", 2, a);
	call(&b, 4, "factory", "label", 1, NULL, a);
	dopy_buf_init(&pl);
	frame(&b, DOPY_F_RELEASE, 1, &pl);
	frame(&b, DOPY_F_RELEASE, 1, &pl);
	call(&b, 5, "@1", "get", 0, NULL, NULL);
	a[0] = dopy_value_ref(99);
	call(&b, 6, "factory", "value", 1, NULL, a);
	call(&b, 7, "@0", "get", 0, NULL, NULL);
	call(&b, 8, "@abc", "get", 0, NULL, NULL);
	call(&b, 9, "factory", "live", 0, NULL, NULL);
	save_frames("session-refs.bin", &b);

	/* What a server sends: REPLY with and without a value, ERROR. */
	dopy_buf_init(&pl);
	image(&pl, dopy_value_int(5));
	frame(&b, DOPY_F_REPLY, 1, &pl);
	dopy_buf_reset(&pl);
	frame(&b, DOPY_F_REPLY, 2, &pl);
	save_frames("reply.bin", &b);
	e = dopy_error_new(DOPY_E_REMOTE, "boom");
	dopy_error_set_fields(e, "test.Failure", "test", "fail", "host", 42);
	dopy_error_add_trace(e, "bin/testobj.c:43 test_fail");
	dopy_error_add_trace(e, "in test.fail on host host pid 42");
	if (dopy_msg_error_put(&pl, e) < 0)
		errx(1, "error");
	dopy_error_free(e);
	frame(&b, DOPY_F_ERROR, 5, &pl);
	save_frames("error.bin", &b);
	dopy_buf_release(&pl);
	dopy_buf_release(&b);
}

static void
bad_frames(void)
{
	static const char garbage[] = "GET / HTTP/1.0\r\n\r\n";
	static const char *names2[] = { "" };
	uint8_t hdr[DOPY_HDR_LEN];
	dopy_value *many[DOPY_MAX_ARGS + 1];
	struct dopy_buf b, pl;
	size_t i;

	dopy_buf_init(&b);
	dopy_buf_init(&pl);
	add(&b, 1);
	save_frames("call-before-hello.bin", &b);

	hello(&b, 2);
	save_frames("hello-v2.bin", &b);

	hello(&b, DOPY_PROTOCOL);
	b.len = 7;
	save_frames("truncated-header.bin", &b);

	hello(&b, DOPY_PROTOCOL);
	b.len -= 5;
	save_frames("truncated-payload.bin", &b);

	hello(&b, DOPY_PROTOCOL);
	add(&b, 1);
	b.len -= 9;
	save_frames("truncated-call.bin", &b);

	hello(&b, DOPY_PROTOCOL);
	dopy_frame_encode(hdr, DOPY_F_CALL, 1, UINT32_MAX);
	put(&b, hdr, sizeof(hdr));
	save_frames("oversize-len.bin", &b);

	dopy_frame_encode(hdr, DOPY_F_HELLO, 0, DOPY_HELLO_MAX + 1);
	put(&b, hdr, sizeof(hdr));
	put(&b, garbage, sizeof(garbage) - 1);
	save_frames("hello-oversize.bin", &b);

	hello(&b, DOPY_PROTOCOL);
	b.data[0] = 'X';
	save_frames("bad-magic.bin", &b);

	put(&b, garbage, sizeof(garbage) - 1);
	save_frames("garbage.bin", &b);

	hello(&b, DOPY_PROTOCOL);
	put(&pl, "xyz", 3);
	frame(&b, 77, 0x01020304, &pl);
	add(&b, 2);
	save_frames("unknown-type.bin", &b);

	hello(&b, DOPY_PROTOCOL);
	dopy_buf_reset(&pl);
	put(&pl, garbage, sizeof(garbage) - 1);
	frame(&b, DOPY_F_CALL, 1, &pl);
	add(&b, 2);
	save_frames("call-garbage.bin", &b);

	hello(&b, DOPY_PROTOCOL);
	hello(&b, DOPY_PROTOCOL);
	add(&b, 1);
	save_frames("hello-twice.bin", &b);

	hello(&b, DOPY_PROTOCOL);
	many[0] = dopy_value_int(2);
	many[1] = dopy_value_string("x");
	call(&b, 1, "test", "add", 2, NULL, many);
	add(&b, 2);
	save_frames("call-type-error.bin", &b);

	hello(&b, DOPY_PROTOCOL);
	for (i = 0; i < DOPY_MAX_ARGS + 1; i++)
		many[i] = dopy_value_int((int64_t)i);
	call(&b, 1, "test", "add", DOPY_MAX_ARGS + 1, NULL, many);
	add(&b, 2);
	save_frames("call-too-many-args.bin", &b);

	/* The names image says one argument; two follow. */
	hello(&b, DOPY_PROTOCOL);
	dopy_buf_reset(&pl);
	if (dopy_msg_call_put(&pl, "test", "add", names2, 1) < 0)
		errx(1, "call");
	image(&pl, dopy_value_int(2));
	image(&pl, dopy_value_int(3));
	frame(&b, DOPY_F_CALL, 1, &pl);
	add(&b, 2);
	save_frames("call-names-mismatch.bin", &b);
	dopy_buf_release(&pl);
	dopy_buf_release(&b);
}

static void bug3_short(struct dopy_buf *b) { bug3_len(b, 4); }
static void bug3_zero(struct dopy_buf *b) { bug3_len(b, 0); }

static void
bug_frames(void)
{
	struct dopy_buf b, pl;

	dopy_buf_init(&b);
	dopy_buf_init(&pl);
	hello(&b, DOPY_PROTOCOL);
	call_raw(&b, 1, "test", "sum", bug1_alen);
	add(&b, 2);
	save_frames("tpl-bug1-alen.bin", &b);

	hello(&b, DOPY_PROTOCOL);
	call_raw(&b, 1, "test", "nest", bug1_nested);
	add(&b, 2);
	save_frames("tpl-bug1-nested.bin", &b);

	/* The names image of the CALL itself: A(s) with a huge count. */
	hello(&b, DOPY_PROTOCOL);
	/* No names, so the A(s) image is 17 bytes and tpl_load takes it
	 * with any count: the S(ss) image first, the names after it. */
	if (dopy_msg_call_put(&pl, "test", "greet", (const char *[]){ "" },
	    0) < 0)
		errx(1, "call");
	put_le32(pl.data + (pl.data[4] | pl.data[5] << 8) + 13,
	    0x80000000u);
	image(&pl, dopy_value_string("World"));
	frame(&b, DOPY_F_CALL, 1, &pl);
	add(&b, 2);
	save_frames("tpl-bug1-names.bin", &b);

	hello(&b, DOPY_PROTOCOL);
	call_raw(&b, 1, "test", "greet", bug2_oldstr);
	add(&b, 2);
	save_frames("tpl-bug2-oldstr.bin", &b);

	hello(&b, DOPY_PROTOCOL);
	call_raw(&b, 1, "test", "greet", bug3_short);
	add(&b, 2);
	save_frames("tpl-bug3-shortlen.bin", &b);

	hello(&b, DOPY_PROTOCOL);
	call_raw(&b, 1, "test", "greet", bug3_zero);
	add(&b, 2);
	save_frames("tpl-bug3-zerolen.bin", &b);
	dopy_buf_release(&pl);
	dopy_buf_release(&b);
}

/* ---- whole sessions (tests/fuzz_session.c) ---- */

static void
save_session(const char *name, struct dopy_buf *b)
{
	save("session", name, b);
	dopy_buf_reset(b);
}

/* A frame carrying one value (v taken), or nothing (v NULL). */
static void
value_frame(struct dopy_buf *b, uint8_t type, uint32_t id, dopy_value *v)
{
	struct dopy_buf pl;

	dopy_buf_init(&pl);
	if (v != NULL)
		image(&pl, v);
	frame(b, type, id, &pl);
	dopy_buf_release(&pl);
}

static void
error_frame(struct dopy_buf *b, uint8_t type, uint32_t id, const char *name,
    const char *msg)
{
	struct dopy_buf pl;
	dopy_error *e;

	dopy_buf_init(&pl);
	e = dopy_error_new(DOPY_E_REMOTE, "%s", msg);
	dopy_error_set_fields(e, name, "cbo", "echo", "client", 7);
	dopy_error_add_trace(e, "in cbo.echo on host client pid 7");
	if (dopy_msg_error_put(&pl, e) < 0)
		errx(1, "error");
	dopy_error_free(e);
	frame(b, type, id, &pl);
	dopy_buf_release(&pl);
}

/* A call with up to three string arguments (NULL ends them). */
static void
call_s(struct dopy_buf *b, uint32_t id, const char *obj, const char *method,
    const char *s0, const char *s1, const char *s2)
{
	const char *s[] = { s0, s1, s2 };
	dopy_value *a[3];
	size_t n;

	for (n = 0; n < 3 && s[n] != NULL; n++)
		a[n] = dopy_value_string(s[n]);
	call(b, id, obj, method, n, NULL, a);
}

static void
call_i(struct dopy_buf *b, uint32_t id, const char *obj, const char *method,
    int64_t i)
{
	dopy_value *a[] = { dopy_value_int(i) };

	call(b, id, obj, method, 1, NULL, a);
}

/* A string and an int (cb.nest, cb.watch's ms comes third). */
static void
call_si(struct dopy_buf *b, uint32_t id, const char *obj,
    const char *method, const char *s, int64_t i)
{
	dopy_value *a[] = { dopy_value_string(s), dopy_value_int(i) };

	call(b, id, obj, method, 2, NULL, a);
}

static void
bools(struct dopy_buf *b, uint32_t id, const char *obj, const char *method,
    const char *path, size_t n)
{
	dopy_type *t = type("bool[]");
	dopy_value *a[2], *v = dopy_value_new(t);
	size_t i;

	dopy_type_free(t);
	for (i = 0; i < n; i++)
		if (dopy_value_append(v, dopy_value_bool(i & 1)) < 0)
			errx(1, "append");
	a[0] = path != NULL ? dopy_value_string(path) : v;
	a[1] = v;
	call(b, id, obj, method, path != NULL ? 2 : 1, NULL, a);
}

/* The last frame in b gets header flags fl. */
static void
flag_last(struct dopy_buf *b, size_t at, uint8_t fl)
{
	dopy_frame_set_flags(b->data + at, fl);
}

/* ITEM frames of an upload: ints from..to, then its END. */
static void
items(struct dopy_buf *b, uint32_t id, int64_t from, int64_t to)
{
	size_t at;

	for (; from <= to; from++)
		value_frame(b, DOPY_F_ITEM, id, dopy_value_int(from));
	at = b->len;
	value_frame(b, DOPY_F_ITEM, id, NULL);
	flag_last(b, at, DOPY_FL_END);
}

/* Streams, uploads, CANCEL and deadlines (dopy(5)), every feature
 * announced: good uses, then the rules bent. */
static void
session_streams(struct dopy_buf *b)
{
	size_t at;

	hello_features(b, DOPY_PROTOCOL, DOPY_FEAT_ALL);
	call_i(b, 1, "stream", "count", 5);
	call_i(b, 2, "stream", "count", 100000);
	value_frame(b, DOPY_F_CANCEL, 2, NULL);
	at = b->len;
	call(b, 3, "upload", "sum", 0, NULL, NULL);
	flag_last(b, at, DOPY_FL_UPLOAD);
	items(b, 3, 1, 10);
	at = b->len;
	call_i(b, 4, "upload", "take", 2);
	flag_last(b, at, DOPY_FL_UPLOAD);
	items(b, 4, 1, 50);			/* answered after two */
	value_frame(b, DOPY_F_ITEM, 99, dopy_value_int(1));	/* no call */
	at = b->len;
	call(b, 5, "upload", "sum", 0, NULL, NULL);
	flag_last(b, at, DOPY_FL_UPLOAD);
	value_frame(b, DOPY_F_ITEM, 5, dopy_value_string("six"));
	items(b, 5, 7, 7);
	at = b->len;
	call(b, 6, "upload", "slow", 0, NULL, NULL);
	flag_last(b, at, DOPY_FL_UPLOAD);
	value_frame(b, DOPY_F_ITEM, 6, dopy_value_int(1));
	value_frame(b, DOPY_F_CANCEL, 6, NULL);
	items(b, 6, 2, 3);			/* after its cancel */
	call(b, 7, "upload", "sum", 0, NULL, NULL);	/* no flag */
	at = b->len;
	add(b, 8);
	flag_last(b, at, DOPY_FL_UPLOAD);	/* a flag, no upload */
	at = b->len;
	add(b, 9);		/* DEADLINE flagged, its image missing */
	flag_last(b, at, DOPY_FL_DEADLINE);
	at = b->len;
	call(b, 10, "upload", "sum", 0, NULL, NULL);
	flag_last(b, at, DOPY_FL_UPLOAD);
	value_frame(b, DOPY_F_ITEM, 10, dopy_value_int(1));
	/* EOF with the upload open: the method ends, nothing hangs. */
	save_session("good-streams-uploads.bin", b);
}

static void
session_test(struct dopy_buf *b)
{
	static const char *named[] = { "name" };
	dopy_value *a[2];
	size_t at;

	hello(b, DOPY_PROTOCOL);
	add(b, 1);
	a[0] = dopy_value_string("World");
	call(b, 2, "test", "greet", 1, named, a);
	a[0] = dopy_value_bytes("\0\1\377", 3);
	call(b, 3, "test", "echo", 1, NULL, a);
	call_s(b, 4, "test", "fail", "boom", NULL, NULL);
	call_i(b, 5, "test", "sleep", 5);
	call_i(b, 6, "test", "notify", 5);	/* oneway on dopyd's side */
	call(b, 7, "test", "caller", 0, NULL, NULL);
	call(b, 8, "dopy", "objects", 0, NULL, NULL);
	call_s(b, 9, "dopy", "describe", "test", NULL, NULL);
	call_s(b, 10, "dopy", "describe", "factory", NULL, NULL);
	a[0] = dopy_value_int(1);
	a[1] = dopy_value_int(2);
	call(b, 11, "test", "nosuch", 2, NULL, a);
	call(b, 12, "nosuch", "add", 0, NULL, NULL);
	/* A CALL's payload as a ONEWAY: no answer. */
	at = b->len;
	call_s(b, 13, "test", "fail", "quiet", NULL, NULL);
	b->data[at + 2] = DOPY_F_ONEWAY;
	save_session("good-test.bin", b);
}

static void
session_pos(struct dopy_buf *b)
{
	static const char *by[] = { "by" };
	dopy_value *a[2];

	hello(b, DOPY_PROTOCOL);
	a[0] = dopy_value_string("a/b");
	a[1] = dopy_value_int(5);
	call(b, 1, "pos", "store", 2, NULL, a);
	call_s(b, 2, "pos", "fetch", "a/b", NULL, NULL);
	a[0] = dopy_value_string("");
	a[1] = dopy_value_bool(1);
	call(b, 3, "pos", "list", 2, NULL, a);
	call_s(b, 4, "pos", "create", "c1", "counter", NULL);
	a[0] = dopy_value_int(2);
	call(b, 5, "pos/c1", "incr", 1, by, a);
	call(b, 6, "pos/c1", "get", 0, NULL, NULL);
	call_s(b, 7, "pos", "create", "n1", "note", NULL);
	call_s(b, 8, "pos/n1", "set", "text", NULL, NULL);
	call(b, 9, "pos/n1", "get", 0, NULL, NULL);
	call(b, 10, "pos", "classes", 0, NULL, NULL);
	call_s(b, 11, "dopy", "describe", "pos/c1", NULL, NULL);
	call_s(b, 12, "pos", "fetch", "c1", NULL, NULL);
	call_s(b, 13, "pos", "remove", "a/b", NULL, NULL);
	call_s(b, 14, "pos", "fetch", "a/b", NULL, NULL);
	call_s(b, 15, "pos", "store", "../x", "v", NULL);
	call(b, 16, "pos/a", "get", 0, NULL, NULL);
	/* A class whose state is a C struct, put with its state as text. */
	call_s(b, 17, "pos", "put", "r1", "record", "(5, \"five\")");
	call_i(b, 18, "pos/r1", "add", 2);
	call_s(b, 19, "pos/r1", "label", "seven", NULL, NULL);
	call(b, 20, "pos/r1", "get", 0, NULL, NULL);
	call_s(b, 21, "pos", "put", "r2", "record", "(1,");
	save_session("good-pos.bin", b);
}

static void
session_naming(struct dopy_buf *b)
{
	hello(b, DOPY_PROTOCOL);
	call_s(b, 1, "naming", "bind", "calc", "tcp:localhost:7000", "test");
	call_s(b, 2, "naming", "bind", "Test.calc", "unix:/tmp/s", NULL);
	call_s(b, 3, "naming", "resolve", "calc", NULL, NULL);
	call_s(b, 4, "naming", "rebind", "calc", "ssh://host", "test");
	call_s(b, 5, "naming", "bind", "calc", "tcp:h:1", NULL);
	call_s(b, 6, "naming", "list", "", NULL, NULL);
	call_s(b, 7, "naming", "list", "Test.", NULL, NULL);
	call_s(b, 8, "naming", "unbind", "calc", NULL, NULL);
	call_s(b, 9, "naming", "resolve", "calc", NULL, NULL);
	call_s(b, 10, "naming", "bind", "../x", "tcp:h:1", NULL);
	save_session("good-naming.bin", b);
}

static void
session_refs(struct dopy_buf *b)
{
	dopy_value *a[2];

	hello(b, DOPY_PROTOCOL);
	call_i(b, 1, "factory", "counter", 5);
	call(b, 2, "@1", "incr", 0, NULL, NULL);
	call(b, 3, "@1", "spawn", 0, NULL, NULL);
	a[0] = dopy_value_ref(1);
	a[1] = dopy_value_ref(2);
	a[0] = array_of("ref[]", 2, a);
	call(b, 4, "factory", "sum", 1, NULL, a);
	a[0] = dopy_value_string("x");
	a[1] = dopy_value_ref(2);
	a[0] = struct_of("(string,ref)", 2, a);
	call(b, 5, "factory", "label", 1, NULL, a);
	call_s(b, 6, "factory", "pair", "p", NULL, NULL);
	call_i(b, 7, "factory", "many", 3);
	a[0] = dopy_value_ref(1);
	call(b, 8, "factory", "value", 1, NULL, a);
	a[0] = dopy_value_ref(4);
	call(b, 9, "factory", "pass", 1, NULL, a);
	call_s(b, 10, "dopy", "describe", "@2", NULL, NULL);
	value_frame(b, DOPY_F_RELEASE, 1, NULL);
	call(b, 11, "@1", "get", 0, NULL, NULL);
	call_i(b, 12, "factory", "forge", 1);
	call(b, 13, "factory", "live", 0, NULL, NULL);
	value_frame(b, DOPY_F_RELEASE, 2, NULL);
	call(b, 14, "factory", "gone_log", 0, NULL, NULL);
	save_session("good-refs.bin", b);
}

/* The client publishes "cbo"; every CALLBACK is answered in turn. */
static void
session_callbacks(struct dopy_buf *b)
{
	dopy_value *a[2];

	hello(b, DOPY_PROTOCOL);
	call_s(b, 1, "cb", "call", "cbo", "echo", "hi");
	value_frame(b, DOPY_F_CALLBACK_REPLY, 1, dopy_value_string("hi"));
	call_s(b, 2, "cb", "call", "cbo", "echo", "err");
	error_frame(b, DOPY_F_CALLBACK_ERROR, 2, "cbo.Failure", "no");
	call_s(b, 3, "cb", "call", "cbo", "echo", "int");
	value_frame(b, DOPY_F_CALLBACK_REPLY, 3, dopy_value_int(1));
	/* cb.nest(cbo, 2): the client's cbo.nest calls cb.nest(cbo, 1)
	 * back before it answers. */
	call_si(b, 4, "cb", "nest", "cbo", 2);
	call_si(b, 5, "cb", "nest", "cbo", 0);
	value_frame(b, DOPY_F_CALLBACK_REPLY, 4, dopy_value_int(7));
	a[0] = dopy_value_int(20);
	a[1] = dopy_value_int(5);
	call(b, 6, "cb", "progress", 2, NULL, a);
	call(b, 7, "test", "add", 0, NULL, NULL);
	value_frame(b, DOPY_F_CALLBACK_REPLY, 99, dopy_value_int(7));
	save_session("good-callbacks.bin", b);
}

static void
session_attrs(struct dopy_buf *b)
{
	hello(b, DOPY_PROTOCOL);
	call(b, 1, "thermo", "get:setpoint", 0, NULL, NULL);
	call_i(b, 2, "thermo", "set:setpoint", 21);
	call(b, 3, "thermo", "get:temp", 0, NULL, NULL);
	call_i(b, 4, "thermo", "set:temp", 1);
	call_s(b, 5, "thermo", "set:label", "hall", NULL, NULL);
	call(b, 6, "thermo", "get:label", 0, NULL, NULL);
	call(b, 7, "thermo", "describe", 0, NULL, NULL);
	call_s(b, 8, "dopy", "describe", "thermo", NULL, NULL);
	save_session("good-attrs.bin", b);
}

static void
good_sessions(void)
{
	struct dopy_buf b;

	dopy_buf_init(&b);
	session_test(&b);
	session_pos(&b);
	session_naming(&b);
	session_refs(&b);
	session_callbacks(&b);
	session_attrs(&b);
	session_streams(&b);
	dopy_buf_release(&b);
}

/* The same empty frame n times, ids from id0 up. */
static void
flood(struct dopy_buf *b, uint8_t type, uint32_t id0, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		value_frame(b, type, id0 + (uint32_t)i, NULL);
}

/* A CALL of test.echo with len bytes, cut by EOF after keep of them. */
static void
echo_cut(struct dopy_buf *b, size_t len, size_t keep)
{
	uint8_t *p = calloc(1, len);
	dopy_value *a[1];
	size_t at = b->len;

	if (p == NULL)
		errx(1, "out of memory");
	a[0] = dopy_value_bytes(p, len);
	free(p);
	call(b, 1, "test", "echo", 1, NULL, a);
	b->len = at + DOPY_HDR_LEN + keep;
}

/* Severe findings of issue 11, then the smaller ones a client causes. */
static void
severe_sessions(struct dopy_buf *b)
{
	/* pos.c's readonly scan advanced by the name's length, 0. */
	hello(b, DOPY_PROTOCOL);
	call_s(b, 1, "pos", "create", "c1", "counter", NULL);
	call(b, 2, "pos/c1", "", 0, NULL, NULL);
	add(b, 3);
	save_session("pos-empty-method.bin", b);

	/* A target every client resolving calc would run. */
	hello(b, DOPY_PROTOCOL);
	call_s(b, 1, "naming", "bind", "calc",
	    "exec:touch /tmp/x; exec dopyd", "test");
	call_s(b, 2, "naming", "rebind", "calc",
	    "touch /tmp/x; exec dopyd", "test");
	call_s(b, 3, "naming", "resolve", "calc", NULL, NULL);
	save_session("naming-exec-target.bin", b);
}

static void
smaller_sessions(struct dopy_buf *b)
{
	static const char *by[] = { "by" };
	dopy_value *a[3];
	size_t i;

	hello(b, DOPY_PROTOCOL);
	bools(b, 1, "factory", "pass", NULL, 20000);
	bools(b, 2, "pos", "store", "big", 20000);
	save_session("amplify-bool-array.bin", b);

	hello(b, DOPY_PROTOCOL);
	echo_cut(b, 256 * 1024, 4096);
	save_session("eof-in-big-frame.bin", b);

	hello(b, DOPY_PROTOCOL);
	flood(b, DOPY_F_RELEASE, 1000, 3000);
	save_session("flood-release.bin", b);
	hello(b, DOPY_PROTOCOL);
	flood(b, 77, 1, 3000);
	save_session("flood-unknown-type.bin", b);
	for (i = 0; i < 600; i++)
		hello(b, DOPY_PROTOCOL);
	save_session("flood-hello.bin", b);

	hello(b, DOPY_PROTOCOL);
	for (i = 0; i < 20; i++)
		call_i(b, (uint32_t)i + 1, "factory", "many", 100000);
	save_session("many-refs.bin", b);

	hello(b, DOPY_PROTOCOL);
	hello(b, DOPY_PROTOCOL);
	add(b, 1);
	save_session("hello-second.bin", b);

	hello(b, DOPY_PROTOCOL);
	add(b, 0);
	call_s(b, 0, "test", "fail", "on id 0", NULL, NULL);
	save_session("call-id-zero.bin", b);

	hello(b, DOPY_PROTOCOL);
	call_s(b, 1, "pos", "create", "c1", "counter", NULL);
	a[0] = dopy_value_int(INT64_MAX);
	call(b, 2, "pos/c1", "incr", 1, by, a);
	call(b, 3, "pos/c1", "incr", 0, NULL, NULL);
	save_session("counter-overflow.bin", b);

	/* Found by fuzz_session in CI: factory counters at INT64_MAX,
	 * summed and incremented (signed overflow in the test object). */
	hello(b, DOPY_PROTOCOL);
	call_i(b, 1, "factory", "counter", INT64_MAX);
	a[0] = dopy_value_ref(1);
	a[1] = dopy_value_ref(1);
	a[0] = array_of("ref[]", 2, a);
	call(b, 2, "factory", "sum", 1, NULL, a);
	call(b, 3, "@1", "incr", 0, NULL, NULL);
	save_session("factory-overflow.bin", b);

	/* cb.nest adds one to what the client's nest answers. */
	hello(b, DOPY_PROTOCOL);
	call_si(b, 1, "cb", "nest", "cbo", 1);
	value_frame(b, DOPY_F_CALLBACK_REPLY, 1, dopy_value_int(INT64_MAX));
	save_session("nest-overflow.bin", b);

	/* Pending at EOF: its state and timer descriptor leaked. */
	hello(b, DOPY_PROTOCOL);
	a[0] = dopy_value_string("cbo");
	a[1] = dopy_value_string("tick");
	a[2] = dopy_value_int(150);
	call(b, 1, "cb", "watch", 3, NULL, a);
	save_session("watch-pending.bin", b);
}

static void
bad_sessions(void)
{
	struct dopy_buf b;

	dopy_buf_init(&b);
	severe_sessions(&b);
	smaller_sessions(&b);
	dopy_buf_release(&b);
}

/* ---- what a server answers (tests/fuzz_client.c) ---- */
/*
 * The harness's script takes call ids in this order: test.add 1,
 * test.caller 2, three async test.add 3-5 (3 waited for), oneway
 * test.notify 6, a batch of test.add 7 and test.caller 8,
 * factory.counter 9, @ref.incr 10 (then RELEASE), get:setpoint 11,
 * set:label 12, cb.call 13 (the server calls cbo.echo back while it
 * runs), dopy.objects 14, dopy.describe 15.
 */

static void
save_client(const char *name, struct dopy_buf *b)
{
	save("client", name, b);
	dopy_buf_reset(b);
}

/* The server's HELLO: protocol 1, max frame 1 MiB. */
static void
server_hello(struct dopy_buf *b)
{
	hello(b, DOPY_PROTOCOL);
}

static dopy_value *
caller_row(void)
{
	dopy_value *f[] = { dopy_value_string("pipe"), dopy_value_string(""),
	    dopy_value_string(""), dopy_value_int(-1), dopy_value_string(""),
	    dopy_value_bool(0) };

	return struct_of("(string,string,string,int,string,bool)", 6, f);
}

static dopy_value *
strings(size_t n, const char *const *s)
{
	dopy_value *v[8];
	size_t i;

	for (i = 0; i < n; i++)
		v[i] = dopy_value_string(s[i]);
	return array_of("string[]", n, v);
}

static dopy_value *
describe_rows(void)
{
	dopy_value *f[] = { dopy_value_string("add"),
	    dopy_value_string("a:int, b:int"), dopy_value_string("int"),
	    dopy_value_string("Add.") };

	f[0] = struct_of("(string,string,string,string)", 4, f);
	return array_of("(string,string,string,string)[]", 1, f);
}

/* A CALLBACK of cbo.METHOD with one argument (taken). */
static void
callback(struct dopy_buf *b, uint32_t id, const char *method, dopy_value *v)
{
	struct dopy_buf pl;
	size_t at = b->len;

	dopy_buf_init(&pl);
	call(b, id, "cbo", method, 1, NULL, &v);
	b->data[at + 2] = DOPY_F_CALLBACK;
	dopy_buf_release(&pl);
}

/* Every answer of the script, in order, with PROGRESS before some. */
static void
client_script(struct dopy_buf *b)
{
	static const char *objs[] = { "cb", "dopy", "test" };

	server_hello(b);
	value_frame(b, DOPY_F_REPLY, 1, dopy_value_int(5));
	value_frame(b, DOPY_F_REPLY, 2, caller_row());
	value_frame(b, DOPY_F_PROGRESS, 3, NULL);
	/* All three async answers before the wait for 3 ends (an answer
	 * to a freed future is future-freed-answered.bin). */
	value_frame(b, DOPY_F_REPLY, 4, dopy_value_int(9));
	value_frame(b, DOPY_F_REPLY, 5, dopy_value_int(9));
	value_frame(b, DOPY_F_REPLY, 3, dopy_value_int(9));
	value_frame(b, DOPY_F_REPLY, 7, dopy_value_int(13));
	value_frame(b, DOPY_F_REPLY, 8, caller_row());
	value_frame(b, DOPY_F_REPLY, 9, dopy_value_ref(1));
	value_frame(b, DOPY_F_REPLY, 10, dopy_value_int(1));
	value_frame(b, DOPY_F_REPLY, 11, dopy_value_int(20));
	value_frame(b, DOPY_F_REPLY, 12, NULL);
	callback(b, 1, "echo", dopy_value_string("hi"));
	value_frame(b, DOPY_F_PROGRESS, 13, NULL);
	value_frame(b, DOPY_F_REPLY, 13, dopy_value_string("hi"));
	value_frame(b, DOPY_F_REPLY, 14, strings(3, objs));
	value_frame(b, DOPY_F_REPLY, 15, describe_rows());
}

static void
good_clients(void)
{
	struct dopy_buf b;

	dopy_buf_init(&b);
	client_script(&b);
	save_client("good-script.bin", &b);

	/* Errors for the first calls, then the rest cut short. */
	server_hello(&b);
	error_frame(&b, DOPY_F_ERROR, 1, "test.Overflow", "too big");
	error_frame(&b, DOPY_F_ERROR, 2, "dopy.UnknownMethod", "no");
	save_client("errors.bin", &b);

	/* Callbacks before the answers: nested (cbo.nest calls cb.nest
	 * back: call 2, whose answer comes first), failing, unknown
	 * method, to an object the client does not publish. */
	server_hello(&b);
	callback(&b, 1, "nest", dopy_value_int(1));
	value_frame(&b, DOPY_F_REPLY, 2, dopy_value_int(0));
	callback(&b, 2, "fail", dopy_value_string("no"));
	callback(&b, 3, "nosuch", dopy_value_string("x"));
	callback(&b, 4, "tick", dopy_value_string("tick"));
	callback(&b, 5, "echo", dopy_value_int(3));
	value_frame(&b, DOPY_F_REPLY, 1, dopy_value_int(5));
	save_client("callbacks.bin", &b);
	dopy_buf_release(&b);
}

/* What a hostile or broken server may send. */
static void
bad_clients(void)
{
	struct dopy_buf b, pl;
	size_t i;

	dopy_buf_init(&b);
	dopy_buf_init(&pl);
	/* A malformed ERROR with call id 0: its error leaked (on_loss). */
	server_hello(&b);
	put(&pl, "not an error", 12);
	frame(&b, DOPY_F_ERROR, 0, &pl);
	save_client("error-id-zero-malformed.bin", &b);

	server_hello(&b);
	value_frame(&b, DOPY_F_REPLY, 99, dopy_value_int(5));
	save_client("reply-never-sent.bin", &b);

	server_hello(&b);
	server_hello(&b);
	value_frame(&b, DOPY_F_AUTH, 0, NULL);
	value_frame(&b, 77, 1, NULL);
	save_client("unexpected-frames.bin", &b);

	/* A REPLY of 256 KiB and more, cut by EOF. */
	server_hello(&b);
	dopy_buf_reset(&pl);
	if (dopy_buf_reserve(&pl, 256 * 1024) == NULL)
		errx(1, "out of memory");
	pl.len = 256 * 1024;
	memset(pl.data, 0, pl.len);
	frame(&b, DOPY_F_REPLY, 1, &pl);
	b.len -= 250 * 1024;
	save_client("reply-big-cut.bin", &b);

	/* Calls 4 and 5 are freed unanswered; call 5's answer comes
	 * while the batch waits. */
	server_hello(&b);
	value_frame(&b, DOPY_F_REPLY, 1, dopy_value_int(5));
	value_frame(&b, DOPY_F_REPLY, 2, caller_row());
	value_frame(&b, DOPY_F_REPLY, 3, dopy_value_int(9));
	value_frame(&b, DOPY_F_REPLY, 5, dopy_value_int(9));
	value_frame(&b, DOPY_F_REPLY, 7, dopy_value_int(13));
	save_client("future-freed-answered.bin", &b);

	/* PROGRESS for ever, and callbacks in bulk. */
	server_hello(&b);
	for (i = 0; i < 2000; i++)
		value_frame(&b, DOPY_F_PROGRESS, 1, NULL);
	save_client("flood-progress.bin", &b);
	server_hello(&b);
	for (i = 0; i < 500; i++)
		callback(&b, (uint32_t)i + 1, "echo", dopy_value_string("x"));
	save_client("flood-callbacks.bin", &b);
	dopy_buf_release(&pl);
	dopy_buf_release(&b);
}

int
main(int argc, char *argv[])
{
	char path[4096];

	if (argc != 2) {
		fprintf(stderr, "usage: mkcorpus dir\n");
		return 2;
	}
	outdir = argv[1];
	snprintf(path, sizeof(path), "%s/frame", outdir);
	mkdir(outdir, 0755);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/value", outdir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/session", outdir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/client", outdir);
	mkdir(path, 0755);
	good_values();
	payload_values();
	bad_values();
	bug_values();
	good_frames();
	bad_frames();
	bug_frames();
	good_sessions();
	bad_sessions();
	good_clients();
	bad_clients();
	return 0;
}
