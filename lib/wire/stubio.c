/*
 * stubio.c - generated code's values straight between C and the wire
 * (dopy.h, "Generated code"): a writer of images and a reader of them,
 * without dopy_value trees.
 *
 * The images are the ones dopy_encode writes (codec.c says the layout):
 * a writer appends the same bytes in this host's order; a reader checks
 * each image's format against the one the stub expects, then reads the
 * data in the order the stub asks for it, with the checks codec.c makes
 * of what a peer sends: bools 0 or 1, no null string and no NUL inside
 * one, counts within the bytes left and below 2^31, and what one image
 * may make us allocate within dopy_decode_limit().  Either side keeps
 * its first error and ignores the calls after it, so a stub checks once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

/* ---- writing ---- */

void
dopy_out_init(struct dopy_out *o, struct dopy_buf *b)
{
	memset(o, 0, sizeof(*o));
	o->b = b;
}

static void
out_fail(dopy_out *o, int r)
{
	if (o->err == 0)
		o->err = r;
}

/* Whether data may go out now: an image open, no error yet. */
static int
out_ok(dopy_out *o)
{
	if (o->err == 0 && !o->open)
		o->err = DOPY_E_INVAL;		/* a stub's bug */
	return o->err == 0;
}

static void
out_put(dopy_out *o, const void *p, size_t n)
{
	int r;

	if (out_ok(o) && (r = dopy_buf_put(o->b, p, n)) < 0)
		out_fail(o, r);
}

void
dopy_out_begin(dopy_out *o, const char *fmt)
{
	int r;

	if (o->err != 0)
		return;
	if (o->open || fmt == NULL) {
		out_fail(o, DOPY_E_INVAL);
		return;
	}
	o->start = o->b->len;
	if ((r = dopy_image_open(o->b, fmt)) < 0) {
		dopy_buf_truncate(o->b, o->start);
		out_fail(o, r);
		return;
	}
	o->open = 1;
}

void
dopy_out_bool(dopy_out *o, int b)
{
	uint8_t c = b != 0;

	out_put(o, &c, 1);
}

void
dopy_out_int(dopy_out *o, int64_t i)
{
	out_put(o, &i, sizeof(i));
}

void
dopy_out_uint(dopy_out *o, uint64_t u)
{
	out_put(o, &u, sizeof(u));
}

void
dopy_out_double(dopy_out *o, double d)
{
	out_put(o, &d, sizeof(d));
}

void
dopy_out_ref(dopy_out *o, uint32_t id)
{
	out_put(o, &id, sizeof(id));
}

/* A u32 length (plus extra: 1 for a string's NUL-less count) and the
 * bytes, large ones by reference where the buffer allows (a call's). */
static void
out_counted(dopy_out *o, const void *p, size_t len, uint32_t extra)
{
	uint32_t n;
	int r;

	if (len >= UINT32_MAX) {
		out_fail(o, DOPY_E_TOOBIG);
		return;
	}
	n = (uint32_t)len + extra;
	out_put(o, &n, sizeof(n));
	if (o->err == 0 && len > 0 && (r = dopy_buf_put_ref(o->b, p, len)) < 0)
		out_fail(o, r);
}

void
dopy_out_string(dopy_out *o, const char *s)
{
	if (s == NULL) {
		out_fail(o, DOPY_E_INVAL);
		return;
	}
	out_counted(o, s, strlen(s), 1);
}

void
dopy_out_bytes(dopy_out *o, const void *p, size_t len)
{
	if (p == NULL && len > 0) {
		out_fail(o, DOPY_E_INVAL);
		return;
	}
	out_counted(o, p, len, 0);
}

void
dopy_out_count(dopy_out *o, size_t n)
{
	uint32_t n32;

	/* Readers refuse 2^31 and more (tpl's bug 1, DEPENDENCIES.md). */
	if (n > INT32_MAX) {
		out_fail(o, DOPY_E_TOOBIG);
		return;
	}
	n32 = (uint32_t)n;
	out_put(o, &n32, sizeof(n32));
}

void
dopy_out_end(dopy_out *o)
{
	int r;

	if (!o->open) {
		out_fail(o, DOPY_E_INVAL);
		return;
	}
	o->open = 0;
	/* On an error the image is cut off again. */
	if ((r = dopy_image_close(o->b, o->start, o->err)) < 0)
		out_fail(o, r);
	else
		o->nimages++;
}

void
dopy_out_value(dopy_out *o, const dopy_value *v)
{
	int r;

	if (o->err != 0)
		return;
	if (o->open || v == NULL) {
		out_fail(o, v == NULL ? DOPY_E_NOMEM : DOPY_E_INVAL);
		return;
	}
	if ((r = dopy_encode(v, o->b)) < 0)
		out_fail(o, r);
	else
		o->nimages++;
}

int
dopy_out_error(const dopy_out *o)
{
	return o->err;
}

/* ---- reading ---- */

void
dopy_in_init(struct dopy_in *in, const struct dopy_image *imgs, size_t n)
{
	in->imgs = imgs;
	in->n = n;
	in->next = 0;
	in->p = in->end = NULL;
	in->open = 0;
	in->swap = 0;
	in->mem = 0;
	in->err = 0;
	in->errimg = 0;
	in->msg[0] = '\0';
}

static void
in_fail(dopy_in *in, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
in_fail(dopy_in *in, int code, const char *fmt, ...)
{
	va_list ap;

	if (in->err != 0)
		return;
	in->err = code;
	/* The image being read, or the next one (missing, or bad). */
	in->errimg = in->open ? in->next - 1 : in->next;
	va_start(ap, fmt);
	vsnprintf(in->msg, sizeof(in->msg), fmt, ap);
	va_end(ap);
}

/* The name of the type of tpl format fmt, for messages. */
static void
in_fail_format(dopy_in *in, const char *want, const char *got)
{
	dopy_type *w = dopy_type_from_tpl(want), *g = dopy_type_from_tpl(got);

	in_fail(in, DOPY_E_TYPE, "expected %s, got %s", w ? w->name : want,
	    g ? g->name : got);
	dopy_type_free(w);
	dopy_type_free(g);
}

void
dopy_in_begin(dopy_in *in, const char *fmt)
{
	const struct dopy_image *img;
	const char *q;

	if (in->err != 0)
		return;
	if (in->open || fmt == NULL) {
		in_fail(in, DOPY_E_INVAL, "a value begun inside another");
		return;
	}
	if (in->next >= in->n) {
		in_fail(in, DOPY_E_PROTO, "no value where %s was expected",
		    fmt);
		return;
	}
	img = &in->imgs[in->next++];
	in->open = 1;
	if (strcmp(img->fmt, fmt) != 0) {
		in_fail_format(in, fmt, img->fmt);
		return;
	}
	for (q = img->fmt; *q != '\0'; q++)
		;
	in->p = (const uint8_t *)q + 1;
	in->end = img->p + img->len;
	in->swap = (img->p[3] & 1) != DOPY_TPL_HOST_ORDER;
	in->mem = dopy_decode_limit(img->len);
}

/* The next n bytes of the open image, or NULL (the error set). */
static const uint8_t *
in_take(dopy_in *in, size_t n)
{
	const uint8_t *p;

	if (in->err != 0)
		return NULL;
	if (!in->open) {
		in_fail(in, DOPY_E_INVAL, "a value read outside its image");
		return NULL;
	}
	if ((size_t)(in->end - in->p) < n) {
		in_fail(in, DOPY_E_PROTO, "malformed tpl image (its data is "
		    "short)");
		return NULL;
	}
	p = in->p;
	in->p += n;
	return p;
}

static uint32_t
in_u32(dopy_in *in)
{
	const uint8_t *p = in_take(in, 4);
	uint32_t v;

	if (p == NULL)
		return 0;
	memcpy(&v, p, sizeof(v));
	return in->swap ? __builtin_bswap32(v) : v;
}

static uint64_t
in_u64(dopy_in *in)
{
	const uint8_t *p = in_take(in, 8);
	uint64_t v;

	if (p == NULL)
		return 0;
	memcpy(&v, p, sizeof(v));
	return in->swap ? __builtin_bswap64(v) : v;
}

/* Count n bytes that reading makes us allocate against the bound. */
static int
in_charge(dopy_in *in, size_t n)
{
	if (in->err != 0)
		return -1;
	if (n <= in->mem) {
		in->mem -= n;
		return 0;
	}
	in_fail(in, DOPY_E_TOOBIG, "decoded size exceeds %d x the image + %d "
	    "bytes", DOPY_DECODE_FACTOR, DOPY_DECODE_SLACK);
	return -1;
}

int
dopy_in_bool(dopy_in *in)
{
	const uint8_t *p = in_take(in, 1);

	if (p == NULL)
		return 0;
	if (*p > 1) {
		in_fail(in, DOPY_E_PROTO, "bool other than 0 or 1");
		return 0;
	}
	return *p;
}

int64_t
dopy_in_int(dopy_in *in)
{
	return (int64_t)in_u64(in);
}

uint64_t
dopy_in_uint(dopy_in *in)
{
	return in_u64(in);
}

double
dopy_in_double(dopy_in *in)
{
	uint64_t u = in_u64(in);
	double d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

uint32_t
dopy_in_ref(dopy_in *in)
{
	return in_u32(in);
}

/* A u32 length then that many bytes (a string's count is one more, 0
 * its null): a malloc'd copy with a NUL after it. */
static char *
in_counted(dopy_in *in, int string, size_t *lenp)
{
	const uint8_t *p;
	uint32_t n = in_u32(in);
	char *c;

	*lenp = 0;
	if (in->err != 0)
		return NULL;
	if (string && n-- == 0) {
		in_fail(in, DOPY_E_PROTO, "null string");
		return NULL;
	}
	if ((p = in_take(in, n)) == NULL || in_charge(in, (size_t)n + 1) < 0)
		return NULL;
	if (string && memchr(p, '\0', n) != NULL) {
		in_fail(in, DOPY_E_PROTO, "string with a NUL byte");
		return NULL;
	}
	if ((c = malloc((size_t)n + 1)) == NULL) {
		in_fail(in, DOPY_E_NOMEM, "out of memory");
		return NULL;
	}
	memcpy(c, p, n);
	c[n] = '\0';
	*lenp = n;
	return c;
}

char *
dopy_in_string(dopy_in *in)
{
	size_t len;

	return in_counted(in, 1, &len);
}

void *
dopy_in_bytes(dopy_in *in, size_t *len)
{
	size_t n;
	char *p = in_counted(in, 0, &n);

	if (len != NULL)
		*len = n;
	return p;
}

void *
dopy_in_array(dopy_in *in, size_t *np, size_t size)
{
	uint32_t n = in_u32(in);
	void *a;

	*np = 0;
	if (in->err != 0)
		return NULL;
	/* Every element takes a byte at least: no more of them than
	 * bytes left, and below tpl's bug 1 (DEPENDENCIES.md). */
	if (n > INT32_MAX || n > (size_t)(in->end - in->p)) {
		in_fail(in, DOPY_E_PROTO, "array count %u is impossible", n);
		return NULL;
	}
	if (size == 0 || (size_t)n > SIZE_MAX / size) {
		in_fail(in, DOPY_E_INVAL, "array of elements of %zu bytes",
		    size);
		return NULL;
	}
	if (n == 0 || in_charge(in, (size_t)n * size) < 0)
		return NULL;
	if ((a = calloc(n, size)) == NULL) {
		in_fail(in, DOPY_E_NOMEM, "out of memory");
		return NULL;
	}
	*np = n;
	return a;
}

void
dopy_in_end(dopy_in *in)
{
	if (in->err != 0)
		return;
	if (!in->open) {
		in_fail(in, DOPY_E_INVAL, "a value ended that was not begun");
		return;
	}
	if (in->p != in->end) {
		in_fail(in, DOPY_E_PROTO, "bytes after the value");
		return;
	}
	in->open = 0;
}

dopy_value *
dopy_in_value(dopy_in *in)
{
	dopy_value *v;
	char err[sizeof(in->msg)];
	int r;

	if (in->err != 0)
		return NULL;
	if (in->open) {
		in_fail(in, DOPY_E_INVAL, "a value begun inside another");
		return NULL;
	}
	if (in->next >= in->n) {
		in_fail(in, DOPY_E_PROTO, "no value where one was expected");
		return NULL;
	}
	if ((r = dopy_decode(&in->imgs[in->next], NULL, &v, err,
	    sizeof(err))) < 0) {
		in_fail(in, r, "%s", err);
		return NULL;
	}
	in->next++;
	return v;
}

int
dopy_in_done(struct dopy_in *in)
{
	if (in->err == 0 && in->open)
		in_fail(in, DOPY_E_INVAL, "a value was not ended");
	else if (in->err == 0 && in->next < in->n)
		in_fail(in, DOPY_E_PROTO, "%zu value%s more than expected",
		    in->n - in->next, in->n - in->next == 1 ? "" : "s");
	return in->err;
}

int
dopy_in_error(const dopy_in *in)
{
	return in->err;
}

const char *
dopy_in_errmsg(const dopy_in *in)
{
	return in->err != 0 ? in->msg : "";
}
