/*
 * fuzz_value.c - libFuzzer harness for the value codec, the code that
 * stands between tpl 1.6.1 and a peer's bytes (DEPENDENCIES.md).
 *
 * The input is a payload: tpl images back to back.  dopy_images_split
 * checks the preambles; each image is decoded with no expected type and
 * against a few expected types.  Whatever decodes must survive a round
 * trip: encoded again, split and decoded again, it must be equal, and
 * encoding that must give the same bytes.  Every decode is made twice,
 * in place (image.c: scalars, strings, arrays of scalars) and through
 * tpl, and the two must agree, the decode limit's refusals included.  A
 * mismatch aborts (a crash to libFuzzer).  The text and JSON forms are
 * made too, for the sanitizers' sake.  Generated code's reader
 * (stubio.c) reads each image as each type too: it must read what the
 * decoder took, to the same value, and survive everything else.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_IMAGES	8

static const char *type_texts[] = {
	"int", "uint", "double", "bool", "string", "bytes",
	"int[]", "string[]", "bytes[]", "int[][]", "string[][]",
	"double[][][]", "(int,string)", "(int,string)[]",
	"(int,string,double,bool,uint)[]", "(uint,uint,uint,string)",
	"(string,string,string,string,string,int)",
	"ref", "ref[]", "(string,ref)", "(bool,ref,bool)[]",
	/* packed arrays, read in place and through tpl */
	"bool[]", "uint[]", "double[]", "bool[][]",
};
#define NTYPES	(sizeof(type_texts) / sizeof(type_texts[0]))

static dopy_type *types[NTYPES];

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[200];
	size_t i;

	(void)argc;
	(void)argv;
	for (i = 0; i < NTYPES; i++)
		if ((types[i] = dopy_type_parse(type_texts[i], err,
		    sizeof(err))) == NULL) {
			fprintf(stderr, "fuzz_value: %s: %s\n", type_texts[i],
			    err);
			abort();
		}
	return 0;
}

static void
fail(const char *what, const dopy_value *v, const char *err)
{
	char *s = dopy_value_format(v);

	fprintf(stderr, "fuzz_value: %s: %s (%s): %s\n", what,
	    s != NULL ? s : "?", dopy_type_name(dopy_value_type(v)),
	    err != NULL ? err : "");
	free(s);
	abort();
}

/* Encode, split, decode: the same value, and the same bytes again. */
static void
round_trip(const dopy_value *v)
{
	struct dopy_buf b1, b2;
	struct dopy_image img[2];
	dopy_value *w;
	char err[256] = "";
	size_t n;

	dopy_buf_init(&b1);
	dopy_buf_init(&b2);
	if (dopy_encode(v, &b1) < 0)
		fail("cannot encode a decoded value", v, NULL);
	if (dopy_images_split(b1.data, b1.len, img, 2, &n, err,
	    sizeof(err)) < 0 || n != 1)
		fail("own image refused by split", v, err);
	if (dopy_decode(&img[0], dopy_value_type(v), &w, err,
	    sizeof(err)) < 0)
		fail("own image refused by decode", v, err);
	if (!dopy_value_equal(v, w))
		fail("round trip changed the value", v, NULL);
	if (dopy_encode(w, &b2) < 0 || b1.len != b2.len ||
	    memcmp(b1.data, b2.data, b1.len) != 0)
		fail("encoding is not deterministic", v, NULL);
	dopy_value_free(w);
	dopy_buf_release(&b1);
	dopy_buf_release(&b2);
}

static void
exercise(const dopy_value *v)
{
	free(dopy_value_format(v));
	free(dopy_value_json(v));
	round_trip(v);
}

/*
 * Decode img as expect both ways: image.c reads scalars and strings in
 * place, tpl reads everything; they must agree on every input, value
 * for value and refusal for refusal.
 */
static int
decode_both(const struct dopy_image *img, const dopy_type *expect,
    dopy_value **out)
{
	dopy_value *t;
	char err[256], terr[256];
	int r, tr;

	r = dopy_decode(img, expect, out, err, sizeof(err));
	tr = dopy_decode_tpl(img, expect, &t, terr, sizeof(terr));
	if (r != tr) {
		fprintf(stderr, "fuzz_value: direct decode says %d (%s), tpl "
		    "%d (%s)\n", r, r < 0 ? err : "", tr, tr < 0 ? terr : "");
		abort();
	}
	if (r == 0 && !dopy_value_equal(*out, t))
		fail("direct decode and tpl disagree", *out, NULL);
	dopy_value_free(t);
	return r;
}

/* Data of type t read by generated code's reader (stubio.c), as a
 * value to compare; NULL after a reader's error. */
static dopy_value *
in_read(dopy_in *in, const dopy_type *t)
{
	dopy_value *v = NULL, *e;
	size_t i, n;
	void *p;

	switch (dopy_type_kind(t)) {
	case DOPY_BOOL:
		return dopy_value_bool(dopy_in_bool(in));
	case DOPY_INT:
		return dopy_value_int(dopy_in_int(in));
	case DOPY_UINT:
		return dopy_value_uint(dopy_in_uint(in));
	case DOPY_DOUBLE:
		return dopy_value_double(dopy_in_double(in));
	case DOPY_REF:
		return dopy_value_ref(dopy_in_ref(in));
	case DOPY_STRING:
		if ((p = dopy_in_string(in)) != NULL)
			v = dopy_value_string(p);
		free(p);
		return v;
	case DOPY_BYTES:
		if ((p = dopy_in_bytes(in, &n)) != NULL)
			v = dopy_value_bytes(p, n);
		free(p);
		return v;
	default:
		break;
	}
	n = dopy_type_nfields(t);
	if (dopy_type_kind(t) == DOPY_ARRAY)
		free(dopy_in_array(in, &n, 1));
	if (dopy_in_error(in) < 0 || (v = dopy_value_new(t)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		e = in_read(in, dopy_type_kind(t) == DOPY_ARRAY ?
		    dopy_type_elem(t) : dopy_type_field(t, i));
		if (e == NULL || dopy_in_error(in) < 0 ||
		    (dopy_type_kind(t) == DOPY_ARRAY ? dopy_value_append(v, e) :
		    dopy_value_set_field(v, i, e)) < 0) {
			dopy_value_free(e);
			dopy_value_free(v);
			return NULL;
		}
	}
	return v;
}

/* What the reader makes of an image the decoder took as type t: the
 * same value (it may refuse less, never more); on anything, no crash. */
static void
reader_agrees(const struct dopy_image *img, const dopy_type *t,
    const dopy_value *decoded)
{
	struct dopy_in in;
	dopy_value *v;

	/* A ref of id 0 decodes but makes no value here: read only. */
	if (strstr(dopy_type_name(t), "ref") != NULL)
		decoded = NULL;
	dopy_in_init(&in, img, 1);
	dopy_in_begin(&in, dopy_type_tpl(t));
	v = in_read(&in, t);
	dopy_in_end(&in);
	if (decoded != NULL && (dopy_in_error(&in) < 0 || v == NULL))
		fail("the stub reader refused what decode took", decoded,
		    dopy_in_errmsg(&in));
	if (decoded != NULL && !dopy_value_equal(v, decoded))
		fail("the stub reader read another value", decoded, NULL);
	dopy_value_free(v);
}

/* What the server's slot reader (dopy_image_scalar) makes of an image:
 * it may pass an image to the decoder, never take one the decoder
 * refuses, nor read another value. */
static void
scalar_agrees(const struct dopy_image *img, const dopy_type *t,
    const dopy_value *decoded)
{
	struct dopy_value slot;

	if (dopy_image_scalar(img, t, &slot) != 0)
		return;
	if (decoded == NULL)
		fail("the slot reader took what decode refused", &slot, NULL);
	if (!dopy_value_equal(&slot, decoded))
		fail("the slot reader read another value", decoded, NULL);
}

static void
one_image(const struct dopy_image *img)
{
	dopy_value *v;
	size_t i;

	if (decode_both(img, NULL, &v) == 0) {
		exercise(v);
		dopy_value_free(v);
	}
	for (i = 0; i < NTYPES; i++) {
		if (decode_both(img, types[i], &v) < 0) {
			reader_agrees(img, types[i], NULL);
			scalar_agrees(img, types[i], NULL);
			continue;
		}
		reader_agrees(img, types[i], v);
		scalar_agrees(img, types[i], v);
		if (!dopy_type_equal(dopy_value_type(v), types[i]))
			fail("decoded to another type than expected", v,
			    type_texts[i]);
		exercise(v);
		dopy_value_free(v);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dopy_image imgs[MAX_IMAGES];
	char err[256];
	uint8_t *p;
	size_t n, i;

	/* A buffer of exactly the input's size: ASan sees over-reads. */
	if ((p = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(p, data, size);
	if (dopy_images_split(p, size, imgs, MAX_IMAGES, &n, err,
	    sizeof(err)) == 0)
		for (i = 0; i < n; i++)
			one_image(&imgs[i]);
	free(p);
	return 0;
}
