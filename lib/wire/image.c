/*
 * image.c - the images every call carries, read and written without tpl:
 * a single scalar or string value (most arguments and results), an
 * array of scalars (bool, int, uint, double: its data is the packed
 * block itself, see value.c), and the CALL header's two strings and its
 * argument names.
 *
 * tpl_load validates a whole image and tpl_unpack copies it through a
 * map: about 700 instructions for an 8-byte integer, several times the
 * rest of a small call.  These images have a fixed layout (codec.c says
 * which), so they are read here in place; arrays, structures and any
 * image from a writer of the other byte order still go through tpl.
 * The two readers must agree on every input: tests/fuzz_value.c decodes
 * each input both ways and aborts on any difference.
 *
 * Every image reaching here has passed the preamble guard in codec.c
 * (magic, flags, a length that fits, a known format string).
 */
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

/* Where an image's data starts and ends. */
struct span {
	const uint8_t	*p, *end;
};

/* The data of img, or -1 when its writer's byte order is not ours. */
static int
span_of(const struct dopy_image *img, struct span *s)
{
	const char *q;

	if ((img->p[3] & 1) != DOPY_TPL_HOST_ORDER)
		return -1;
	/* A format is a few characters: cheaper than a call of strlen. */
	for (q = img->fmt; *q != '\0'; q++)
		;
	s->p = (const uint8_t *)q + 1;
	s->end = img->p + img->len;
	return 0;
}

static inline int
take_bytes(struct span *s, void *dst, size_t n)
{
	if ((size_t)(s->end - s->p) < n)
		return -1;
	memcpy(dst, s->p, n);
	s->p += n;
	return 0;
}

/*
 * A string: a u32 of length + 1 (0 for tpl's NULL), then the bytes.  *p
 * points into the image; -1 when the data is short.
 */
static inline int
take_string(struct span *s, const uint8_t **p, size_t *len, int *null)
{
	uint32_t n;

	if (take_bytes(s, &n, sizeof(n)) < 0)
		return -1;
	*null = n == 0;
	if (n > 0)
		n--;
	if ((size_t)(s->end - s->p) < n)
		return -1;
	*p = s->p;
	*len = n;
	s->p += n;
	return 0;
}

static void
seterr(char *err, size_t errlen, const char *msg)
{
	if (errlen > 0)
		strlcpy(err, msg, errlen);
}

/* The errors tpl's path gives for the same faults: tpl_load refuses an
 * image whose data is not exactly what its format and counts make, and
 * codec.c what tpl would silently cut at a NUL. */
#define E_SHORT		"malformed tpl image"
#define E_NULL		"null string"
#define E_NUL		"string with a NUL byte, or bytes after the value"
#define E_BOOL		"bool other than 0 or 1"

/* Whether any of the n bytes at p is more than 1: a bool that is not. */
static int
any_above_1(const uint8_t *p, size_t n)
{
	uint8_t any = 0;
	size_t i;

	/* OR-ing, not branching, lets the compiler do 16 bytes at once. */
	for (i = 0; i < n; i++)
		any |= p[i];
	return (any & 0xfe) != 0;
}

/* A string from len bytes at p, which end img: in the block of img's
 * frame when it can keep it (a large REPLY, a stream's ITEM), else a
 * copy. */
static dopy_value *
string_value(const struct dopy_image *img, const dopy_type *t,
    const uint8_t *p, size_t len)
{
	uint8_t *block;
	char *c;

	if ((block = dopy_image_lent_block(img, len)) != NULL) {
		c = (char *)block + (p - block);	/* ours now */
		c[len] = '\0';
		return dopy_value_take_block((dopy_type *)t, block, c, len);
	}
	if ((c = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(c, p, len);
	c[len] = '\0';
	return dopy_value_take_str((dopy_type *)t, c, len);
}

/*
 * A packed array: a u32 count, then exactly that many elements, which
 * are the block as it is.  tpl's path refuses the same images: the
 * count is checked against the data before anything is allocated.
 */
static int
packed_array(struct span *s, const dopy_type *t, dopy_value **out,
    char *err, size_t errlen)
{
	size_t es = dopy_packed_size(t);
	uint32_t n;

	if (take_bytes(s, &n, sizeof(n)) < 0 || n > INT32_MAX ||
	    (size_t)(s->end - s->p) != (size_t)n * es) {
		seterr(err, errlen, E_SHORT);
		return DOPY_E_PROTO;
	}
	if (es == 1 && n > 0 && any_above_1(s->p, n)) {
		seterr(err, errlen, E_BOOL);
		return DOPY_E_PROTO;
	}
	if ((*out = dopy_value_new(t)) == NULL ||
	    dopy_value_reserve(*out, n) < 0) {
		dopy_value_free(*out);
		*out = NULL;
		seterr(err, errlen, "out of memory");
		return DOPY_E_NOMEM;
	}
	if (n > 0)
		memcpy((*out)->u.a.p, s->p, (size_t)n * es);
	(*out)->u.a.n = n;
	return 0;
}

int
dopy_image_leaf(const struct dopy_image *img, const dopy_type *t,
    dopy_value **out, char *err, size_t errlen)
{
	struct span s;
	const uint8_t *p;
	size_t len;
	uint32_t id;
	uint8_t c;
	int null;

	*out = NULL;
	/* Bytes have their own reader in codec.c, which can keep a large
	 * value in the block its frame was read into. */
	if ((t->kind == DOPY_ARRAY && dopy_packed_size(t) == 0) ||
	    t->kind == DOPY_STRUCT || t->kind == DOPY_ANY ||
	    t->kind == DOPY_BYTES || span_of(img, &s) < 0)
		return 1;
	switch (t->kind) {
	case DOPY_ARRAY:
		return packed_array(&s, t, out, err, errlen);
	case DOPY_BOOL:
		if (take_bytes(&s, &c, 1) < 0)
			goto short_data;
		if (c > 1) {
			seterr(err, errlen, E_BOOL);
			return DOPY_E_PROTO;
		}
		*out = dopy_value_bool(c);
		break;
	case DOPY_INT:
	case DOPY_UINT:
	case DOPY_DOUBLE:
		if ((size_t)(s.end - s.p) < 8)
			goto short_data;
		if ((*out = dopy_value_new(t)) != NULL)
			memcpy(&(*out)->u, s.p, 8);
		s.p += 8;
		break;
	case DOPY_REF:
		if (take_bytes(&s, &id, sizeof(id)) < 0)
			goto short_data;
		if ((*out = dopy_value_new(t)) != NULL)
			(*out)->u.u = id;
		break;
	case DOPY_STRING:
		if (take_string(&s, &p, &len, &null) < 0)
			goto short_data;
		if (null) {
			seterr(err, errlen, E_NULL);
			return DOPY_E_PROTO;
		}
		if (s.p != s.end)
			goto short_data;
		if (memchr(p, '\0', len) != NULL) {
			seterr(err, errlen, E_NUL);	/* tpl stops there */
			return DOPY_E_PROTO;
		}
		*out = string_value(img, t, p, len);
		break;
	default:
		return 1;
	}
	if (*out == NULL) {
		seterr(err, errlen, "out of memory");
		return DOPY_E_NOMEM;
	}
	if (s.p != s.end) {		/* tpl_load checks the length */
		dopy_value_free(*out);
		*out = NULL;
		goto short_data;
	}
	return 0;
short_data:
	seterr(err, errlen, E_SHORT);
	return DOPY_E_PROTO;
}

/*
 * A scalar argument read into a value the caller holds (the server's
 * call keeps its first arguments' values in slots of its own): 0 when
 * img is exactly an image of t, a bool, int, uint or double, in our byte
 * order and holding a good value; else 1, and the full decoder says what
 * the image is.  t must outlive into, which takes no reference.
 */
int
dopy_image_scalar(const struct dopy_image *img, const dopy_type *t,
    dopy_value *into)
{
	struct span s;
	size_t want = t->kind == DOPY_BOOL ? 1 : 8;

	if ((t->kind != DOPY_BOOL && t->kind != DOPY_INT &&
	    t->kind != DOPY_UINT && t->kind != DOPY_DOUBLE) ||
	    strcmp(img->fmt, t->tpl) != 0 || span_of(img, &s) < 0 ||
	    (size_t)(s.end - s.p) != want || (want == 1 && s.p[0] > 1))
		return 1;
	into->type = (dopy_type *)t;
	if (want == 1)
		into->u.b = s.p[0];
	else
		memcpy(&into->u, s.p, 8);
	return 0;
}

/*
 * Copy len bytes and a NUL to dst; whether the bytes hold a NUL.  The
 * CALL header's strings are names of a few bytes, where a loop costs
 * less than calls to memchr and memcpy.
 */
static int
copy_cstr(char *dst, const uint8_t *p, size_t len)
{
	size_t i;
	int nul = 0;

	if (len > 32) {
		memcpy(dst, p, len);
		dst[len] = '\0';
		return memchr(p, '\0', len) != NULL;
	}
	for (i = 0; i < len; i++)
		nul |= (dst[i] = (char)p[i]) == '\0';
	dst[len] = '\0';
	return nul;
}

/*
 * The strings of an image of format fmt: S(s...), a structure of max
 * strings, or with array set A(s), at most max of them: as C strings copied into one
 * block: room (roomlen bytes) when they fit, else *block, which the
 * caller frees; out[i] point into it.  1 when the
 * image is not ours to read (tpl must, and says what is wrong with an
 * array longer than max), else 0 or an error.
 */
int
dopy_image_strings(const struct dopy_image *img, const char *fmt, int array,
    char **out, size_t max, size_t *n, char **block, char *room,
    size_t roomlen, char *err, size_t errlen)
{
	struct span s;
	const uint8_t *p;
	size_t len, i, count;
	uint32_t n32;
	char *b;
	int null, nul = 0;

	*block = NULL;
	*n = 0;
	if (strcmp(img->fmt, fmt) != 0 || span_of(img, &s) < 0)
		return 1;
	count = max;
	if (array) {
		if (take_bytes(&s, &n32, sizeof(n32)) < 0)
			goto short_data;
		if ((count = n32) > max)
			return 1;	/* tpl's path says what is wrong */
	}
	/* Each string's 4-byte count becomes a 1-byte NUL: the block needs
	 * no more room than the data, and the caller's room nearly always
	 * has that much. */
	if ((size_t)(s.end - s.p) < roomlen)
		b = room;
	else if ((*block = b = malloc((size_t)(s.end - s.p) + 1)) == NULL) {
		seterr(err, errlen, "out of memory");
		return DOPY_E_NOMEM;
	}
	for (i = 0; i < count; i++) {
		if (take_string(&s, &p, &len, &null) < 0)
			goto short_data;
		if (null) {
			seterr(err, errlen, E_NULL);
			goto fail;
		}
		nul |= copy_cstr(b, p, len);
		out[i] = b;
		b += len + 1;
	}
	if (s.p != s.end)
		goto short_data;	/* tpl_load checks the length */
	if (nul) {
		seterr(err, errlen, E_NUL);	/* tpl would stop there */
		goto fail;
	}
	*n = count;
	return 0;
short_data:
	seterr(err, errlen, E_SHORT);
fail:
	free(*block);
	*block = NULL;
	return DOPY_E_PROTO;
}

/* ---- writing: the same bytes dopy_encode writes for these values ---- */

/* A string as tpl writes it, its length + 1 and its bytes, in one
 * reservation: the CALL header is two of these and each name one. */
static int
put_counted(struct dopy_buf *b, const char *s, size_t len)
{
	uint32_t n = (uint32_t)len + 1;
	uint8_t *p;

	if ((p = dopy_buf_room(b, sizeof(n) + len)) == NULL)
		return DOPY_E_NOMEM;
	memcpy(p, &n, sizeof(n));
	memcpy(p + sizeof(n), s, len);
	b->len += sizeof(n) + len;
	return 0;
}

/*
 * Append an image of strings: the structure S(s...) of n strings, or with
 * array set the string[] A(s) of n strings.  fmt is the format string.
 */
int
dopy_image_put_strings(struct dopy_buf *b, const char *fmt, int array,
    const char *const *s, size_t n)
{
	size_t start = b->len, i, len;
	int r;

	if ((r = dopy_image_open(b, fmt)) == 0 && array)
		r = dopy_image_put_u32(b, (uint32_t)n);
	for (i = 0; r == 0 && i < n; i++) {
		if ((len = strlen(s[i])) >= UINT32_MAX)
			r = DOPY_E_TOOBIG;
		else
			r = put_counted(b, s[i], len);
	}
	return dopy_image_close(b, start, r);
}
