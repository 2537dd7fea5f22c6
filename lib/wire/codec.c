/*
 * codec.c - values <-> tpl images.  The only file that includes <tpl.h>.
 *
 * tpl 1.6.1 must never see unchecked peer bytes (DEPENDENCIES.md):
 *  - we read frames ourselves and hand tpl only memory images whose
 *    preamble we checked: magic, flag bits 0-1 only, the new string
 *    encoding whenever the format has 's', a length that fits;
 *  - before unpacking array k we require tpl_Alen(k) >= 0 (bug 1: a count
 *    of 0x80000000 or more reads out of bounds), again for each nested
 *    array after each parent unpack, and no more elements than bytes;
 *  - tpl_hook.oops prints and tpl_hook.fatal exits by default: both are
 *    replaced, fatal by a jump back into the codec call that reached it.
 *
 * Each image holds one value.  An array nests A(...) around its element;
 * every type has one leaf (a scalar, a string, bytes or a structure)
 * mapped to one slot of memory, and array k (counted from the outside,
 * 1-based) is the one at nesting depth k.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tpl.h>

/* Defined by libtpl, not declared in its header. */
extern tpl_hook_t tpl_hook;

#include "wire/wire.h"

static _Thread_local jmp_buf *fatal_jmp;

static void
fatal_hook(const char *fmt, ...)
{
	(void)fmt;
	if (fatal_jmp != NULL)
		longjmp(*fatal_jmp, 1);
	abort();	/* tpl reached outside the codec: a libdopy bug */
}

static int
oops_hook(const char *fmt, ...)
{
	(void)fmt;
	return 0;
}

static void
set_hooks(void)
{
	tpl_hook.oops = oops_hook;
	tpl_hook.fatal = fatal_hook;
}

void
dopy_codec_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, set_hooks);
}

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- the preamble guard ---- */

/* A u32 of the image at q, in the writer's byte order. */
static inline uint32_t
image_u32(const uint8_t *img, const uint8_t *q)
{
	if (img[3] & 1)		/* writer was big-endian */
		return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 |
		    (uint32_t)q[2] << 8 | q[3];
	return (uint32_t)q[3] << 24 | (uint32_t)q[2] << 16 |
	    (uint32_t)q[1] << 8 | q[0];
}

static uint32_t
image_len(const uint8_t *p)
{
	return image_u32(p, p + 4);
}

/* The characters our types' formats use: F_CHAR, and F_S for 's'. */
#define F_CHAR	1
#define F_S	2
static const unsigned char format_chars[256] = {
	['A'] = F_CHAR, ['S'] = F_CHAR, ['('] = F_CHAR, [')'] = F_CHAR,
	['c'] = F_CHAR, ['I'] = F_CHAR, ['U'] = F_CHAR, ['f'] = F_CHAR,
	['B'] = F_CHAR, ['u'] = F_CHAR, ['s'] = F_CHAR | F_S
};

/* Whether the n bytes at fmt start with a NUL-terminated, non-empty
 * format of the characters our types use; one pass, by table, as every
 * argument of every call comes through here. */
static int
format_ok(const char *fmt, size_t n, int *has_s)
{
	unsigned char k, seen = 0;
	size_t i;

	for (i = 0; i < n && fmt[i] != '\0'; i++) {
		if ((k = format_chars[(unsigned char)fmt[i]]) == 0)
			return 0;
		seen |= k;
	}
	*has_s = (seen & F_S) != 0;
	return i > 0 && i < n;
}

static int
check_image(const uint8_t *p, size_t avail, struct dopy_image *img,
    char *err, size_t errlen)
{
	const char *fmt;
	uint32_t len;
	int has_s;

	if (avail < 9 || memcmp(p, "tpl", 3) != 0) {
		seterr(err, errlen, "not a tpl image");
		return DOPY_E_PROTO;
	}
	if (p[3] & ~3) {
		seterr(err, errlen, "tpl image with unknown flags 0x%02x",
		    p[3]);
		return DOPY_E_PROTO;
	}
	len = image_len(p);
	if (len < 9 || len > avail) {
		seterr(err, errlen, "tpl image length %u does not fit the "
		    "%zu bytes left", len, avail);
		return DOPY_E_PROTO;
	}
	fmt = (const char *)p + 8;
	if (!format_ok(fmt, len - 8, &has_s)) {
		seterr(err, errlen, "tpl image with a bad format string");
		return DOPY_E_PROTO;
	}
	if (has_s && !(p[3] & 2)) {
		seterr(err, errlen, "tpl image with the old string encoding");
		return DOPY_E_PROTO;
	}
	img->p = p;
	img->len = len;
	img->fmt = fmt;
	img->lend = NULL;
	return 0;
}

int
dopy_images_split(const uint8_t *p, size_t len, struct dopy_image *imgs,
    size_t max, size_t *n, char *err, size_t errlen)
{
	size_t off = 0;
	int r;

	*n = 0;
	while (off < len) {
		if (*n == max) {
			seterr(err, errlen, "more than %zu values", max);
			return DOPY_E_PROTO;
		}
		if ((r = check_image(p + off, len - off, &imgs[*n], err,
		    errlen)) < 0)
			return r;
		off += imgs[(*n)++].len;
	}
	return 0;
}

/* ---- the leaf slot ---- */

static const dopy_type *
leaf_of(const dopy_type *t)
{
	while (t->kind == DOPY_ARRAY)
		t = t->elem;
	return t;
}

static size_t
slot_size(const dopy_type *leaf)
{
	if (leaf->kind == DOPY_STRUCT)
		return leaf->size;
	if (leaf->kind == DOPY_BYTES)
		return sizeof(tpl_bin);
	return 8;
}

static size_t
field_off(const dopy_type *st, size_t i)
{
	size_t off = 0, k;
	const dopy_type *f;

	for (k = 0; k <= i; k++) {
		f = st->fields[k];
		off = (off + f->align - 1) / f->align * f->align;
		if (k < i)
			off += f->size;
	}
	return off;
}

/*
 * Encoding writes the tpl image directly rather than through tpl_map,
 * tpl_pack and tpl_dump, which malloc per node and copy every byte
 * twice: the layout is simple and fixed (tpl.h 1.6), the output is
 * byte-for-byte what tpl_dump writes (tests/test_codec.c compares the
 * two), and peers still decode it with tpl.  After the preamble each
 * value's data is, in the writer's byte order: c one byte; u (a ref's
 * id) four; I U f eight; s a u32 of length+1 then the bytes; B a u32 length then the bytes;
 * A(...) a u32 count then the elements; S(...) its fields in order.
 */
int
dopy_image_put_u32(struct dopy_buf *b, uint32_t v)
{
	return dopy_buf_put(b, &v, sizeof(v));
}

static int
put_data(struct dopy_buf *b, const dopy_value *v)
{
	size_t i;
	uint8_t c;
	int r;

	switch (v->type->kind) {
	case DOPY_BOOL:
		c = (uint8_t)v->u.b;
		return dopy_buf_put(b, &c, 1);
	case DOPY_INT:
	case DOPY_UINT:
	case DOPY_DOUBLE:
		return dopy_buf_put(b, &v->u, 8);
	case DOPY_REF:
		if (v->u.u > UINT32_MAX)
			return DOPY_E_INVAL;
		return dopy_image_put_u32(b, (uint32_t)v->u.u);
	case DOPY_STRING:
	case DOPY_BYTES:
		if (v->u.s.len >= UINT32_MAX)
			return DOPY_E_TOOBIG;
		if ((r = dopy_image_put_u32(b, (uint32_t)v->u.s.len +
		    (v->type->kind == DOPY_STRING))) < 0)
			return r;
		return dopy_buf_put_ref(b, v->u.s.p, v->u.s.len);
	case DOPY_ARRAY:
		if (v->u.a.n > UINT32_MAX)
			return DOPY_E_TOOBIG;
		if ((r = dopy_image_put_u32(b, (uint32_t)v->u.a.n)) < 0)
			return r;
		/* A packed block is the data as it goes on the wire. */
		if ((i = dopy_packed_size(v->type)) > 0)
			return dopy_buf_put_ref(b, v->u.a.p, v->u.a.n * i);
		/* FALLTHROUGH */
	case DOPY_STRUCT:
		for (i = 0; i < v->u.a.n; i++)
			if ((r = put_data(b, v->u.a.v[i])) < 0)
				return r;
		return 0;
	default:
		return DOPY_E_INVAL;
	}
}

/* The size put_data() writes for v. */
static size_t
data_size(const dopy_value *v)
{
	size_t i, n;

	switch (v->type->kind) {
	case DOPY_BOOL:
		return 1;
	case DOPY_REF:
		return 4;
	case DOPY_STRING:
	case DOPY_BYTES:
		return 4 + v->u.s.len;
	case DOPY_ARRAY:
	case DOPY_STRUCT:
		if ((n = dopy_packed_size(v->type)) > 0)
			return 4 + v->u.a.n * n;
		n = v->type->kind == DOPY_ARRAY ? 4 : 0;
		for (i = 0; i < v->u.a.n; i++)
			n += data_size(v->u.a.v[i]);
		return n;
	default:
		return 8;
	}
}

int
dopy_image_open(struct dopy_buf *b, const char *fmt)
{
	uint8_t *p, strings = 0;
	size_t n;

	/* One pass over a format of a few characters for its length and
	 * whether it holds a string, and one reservation: every value of
	 * every call comes through here. */
	for (n = 0; fmt[n] != '\0'; n++)
		strings |= fmt[n] == 's';
	if ((p = dopy_buf_room(b, 8 + n + 1)) == NULL)
		return DOPY_E_NOMEM;
	p[0] = 't';
	p[1] = 'p';
	p[2] = 'l';
	p[3] = DOPY_TPL_HOST_ORDER | (strings ? 2 : 0);	/* 2: new strings */
	memset(p + 4, 0, 4);		/* the length, set by dopy_image_close */
	for (size_t i = 0; i <= n; i++)	/* shorter than a call of memcpy */
		p[8 + i] = (uint8_t)fmt[i];
	b->len += 8 + n + 1;
	return 0;
}

int
dopy_image_close(struct dopy_buf *b, size_t start, int r)
{
	size_t len = dopy_buf_size(b, start);
	uint32_t len32;

	if (r == 0 && len > UINT32_MAX)
		r = DOPY_E_TOOBIG;
	if (r < 0) {
		dopy_buf_truncate(b, start);
		return r;
	}
	len32 = (uint32_t)len;
	memcpy(b->data + start + 4, &len32, sizeof(len32));
	return 0;
}

int
dopy_encode(const dopy_value *v, struct dopy_buf *b)
{
	size_t start = b->len;
	int r;

	if (v == NULL)
		return DOPY_E_INVAL;
	if ((r = dopy_image_open(b, v->type->tpl)) == 0)
		r = put_data(b, v);
	return dopy_image_close(b, start, r);
}

/* ---- decoding ---- */

/*
 * The memory a decoded value may take, so that no message amplifies:
 * before packed arrays a bool[] took 115 times its image.  Strings,
 * bytes and packed arrays take about their image's size plus a value
 * (40 bytes); what costs more is many small values, each a value and a
 * pointer: 12 times the image for string[] of empty strings or ref[],
 * 7 for records (int,string) with 10-byte strings, 5 for strings of 8
 * bytes, 96 for structures of one bool.  8 times the image lets the
 * ordinary shapes through and refuses the degenerate ones once they are
 * large; the slack covers any small value (a call's arguments are a
 * few hundred bytes).  A 16 MiB frame then decodes to at most 128 MiB.
 */
size_t
dopy_decode_limit(size_t len)
{
	if (len > (SIZE_MAX - DOPY_DECODE_SLACK) / DOPY_DECODE_FACTOR)
		return SIZE_MAX;
	return len * DOPY_DECODE_FACTOR + DOPY_DECODE_SLACK;
}

struct reader {
	tpl_node	*tn;
	uint8_t		*slot;
	size_t		 budget;	/* elements left, at most one a byte */
	size_t		 mem;		/* bytes the value may still take */
	size_t		 limit;		/* mem at the start */
	int		 r;		/* the error when a take fails */
	char		*err;
	size_t		 errlen;
};

/* Count n bytes of the value against the limit, before allocating. */
static int
charge(struct reader *rd, size_t n)
{
	if (n <= rd->mem) {
		rd->mem -= n;
		return 0;
	}
	seterr(rd->err, rd->errlen, "decoded size exceeds %zu bytes "
	    "(%d x the image + %d)", rd->limit, DOPY_DECODE_FACTOR,
	    DOPY_DECODE_SLACK);
	rd->r = DOPY_E_TOOBIG;
	return -1;
}

static void
free_slot_strings(const dopy_type *leaf, uint8_t *slot)
{
	char *s;
	size_t i;
	tpl_bin bin;

	if (leaf->kind == DOPY_STRING) {
		memcpy(&s, slot, sizeof(s));
		free(s);
	} else if (leaf->kind == DOPY_BYTES) {
		memcpy(&bin, slot, sizeof(bin));
		free(bin.addr);
	} else if (leaf->kind == DOPY_STRUCT)
		for (i = 0; i < leaf->nfields; i++)
			free_slot_strings(leaf->fields[i],
			    slot + field_off(leaf, i));
	/* A field's own size: a bool in a structure is one byte. */
	memset(slot, 0, leaf->kind == DOPY_BYTES ? sizeof(tpl_bin) :
	    leaf->size);
}

static dopy_value *
take_string(struct reader *rd, const dopy_type *t, uint8_t *slot)
{
	char *s, *p;
	tpl_bin bin;
	size_t len;

	if (t->kind == DOPY_STRING) {
		memcpy(&s, slot, sizeof(s));
		memset(slot, 0, sizeof(s));
		if (s == NULL) {
			seterr(rd->err, rd->errlen, "null string");
			return NULL;
		}
		/* tpl made it already, within the image's size. */
		if (charge(rd, (len = strlen(s)) + 1) < 0) {
			free(s);
			return NULL;
		}
		return dopy_value_take_str((dopy_type *)t, s, len);
	}
	memcpy(&bin, slot, sizeof(bin));
	memset(slot, 0, sizeof(bin));
	len = bin.sz;
	if (charge(rd, len + 1) < 0) {
		free(bin.addr);
		return NULL;
	}
	/* Our bytes keep a NUL after the data. */
	if ((p = realloc(bin.addr, len + 1)) == NULL) {
		free(bin.addr);
		return NULL;
	}
	p[len] = '\0';
	return dopy_value_take_str((dopy_type *)t, p, len);
}

static dopy_value *
take_leaf(struct reader *rd, const dopy_type *t, uint8_t *slot)
{
	dopy_value *v;
	uint32_t id;
	size_t i;

	if (charge(rd, sizeof(*v) + (t->kind == DOPY_STRUCT ?
	    t->nfields * sizeof(v) : 0)) < 0)
		return NULL;
	switch (t->kind) {
	case DOPY_BOOL:
		if (*slot > 1) {
			seterr(rd->err, rd->errlen, "bool other than 0 or 1");
			return NULL;
		}
		return dopy_value_bool(*slot);
	case DOPY_INT:
	case DOPY_UINT:
	case DOPY_DOUBLE:
		if ((v = dopy_value_new(t)) != NULL)
			memcpy(&v->u, slot, 8);
		return v;
	case DOPY_REF:
		/* Any id decodes; whether it names a live object is the
		 * reference table's question, asked on every use. */
		if ((v = dopy_value_new(t)) != NULL) {
			memcpy(&id, slot, sizeof(id));
			v->u.u = id;
		}
		return v;
	case DOPY_STRING:
	case DOPY_BYTES:
		return take_string(rd, t, slot);
	case DOPY_STRUCT:
		if ((v = dopy_value_new_empty(t)) == NULL)
			return NULL;
		for (i = 0; i < t->nfields; i++) {
			v->u.a.v[v->u.a.n] = take_leaf(rd, t->fields[i],
			    slot + field_off(t, i));
			if (v->u.a.v[v->u.a.n++] == NULL) {
				dopy_value_free(v);
				return NULL;
			}
		}
		return v;
	default:
		return NULL;
	}
}

/* The element of packed array a that tpl unpacked into the slot. */
static int
take_packed(struct reader *rd, dopy_value *a, size_t es)
{
	if (es == 1 && *rd->slot > 1) {
		seterr(rd->err, rd->errlen, "bool other than 0 or 1");
		return -1;
	}
	memcpy((uint8_t *)a->u.a.p + a->u.a.n++ * es, rd->slot, es);
	return 0;
}

/* An array of n elements with room for them, once they are counted. */
static dopy_value *
new_array(struct reader *rd, const dopy_type *t, size_t n)
{
	size_t es = dopy_packed_size(t);
	dopy_value *a;

	if (charge(rd, sizeof(*a) + n * (es > 0 ? es : sizeof(a))) < 0)
		return NULL;
	if ((a = dopy_value_new(t)) != NULL && dopy_value_reserve(a, n) < 0) {
		dopy_value_free(a);
		a = NULL;
	}
	if (a == NULL)
		rd->r = DOPY_E_NOMEM;
	return a;
}

/* The element of array d (or the top, d == 0) has been unpacked. */
static dopy_value *
take(struct reader *rd, const dopy_type *t, int d)
{
	dopy_value *a, *item;
	size_t es = dopy_packed_size(t);
	int n, i;

	if (t->kind != DOPY_ARRAY)
		return take_leaf(rd, t, rd->slot);
	n = tpl_Alen(rd->tn, d + 1);
	if (n < 0 || (size_t)n > rd->budget) {
		seterr(rd->err, rd->errlen, "array count %d is impossible",
		    n);
		return NULL;
	}
	rd->budget -= (size_t)n;
	if ((a = new_array(rd, t, (size_t)n)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (tpl_unpack(rd->tn, d + 1) <= 0) {
			seterr(rd->err, rd->errlen, "short array");
			goto fail;
		}
		if (es > 0) {
			if (take_packed(rd, a, es) < 0)
				goto fail;
		} else if ((item = take(rd, t->elem, d + 1)) == NULL)
			goto fail;
		else
			a->u.a.v[a->u.a.n++] = item;
	}
	return a;
fail:
	dopy_value_free(a);
	return NULL;
}

static dopy_type *
image_type(const struct dopy_image *img, const dopy_type *expect, char *err,
    size_t errlen)
{
	dopy_type *t;

	if (expect != NULL && expect->kind != DOPY_ANY) {
		if (strcmp(expect->tpl, img->fmt) == 0)
			return dopy_type_ref(expect);
		t = dopy_type_from_tpl(img->fmt);
		seterr(err, errlen, "expected %s, got %s", expect->name,
		    t != NULL ? t->name : img->fmt);
		dopy_type_free(t);
		return NULL;
	}
	if ((t = dopy_type_from_tpl(img->fmt)) == NULL)
		seterr(err, errlen, "no dopy type has tpl format %s (or "
		    "arrays nest more than %d deep)", img->fmt,
		    DOPY_MAX_DEPTH);
	return t;
}

/*
 * tpl_map and tpl_free cost more than the decoding itself (a malloc per
 * node), so each thread keeps its last few maps, keyed by format, and
 * tpl_load resets one for the next image.  A map whose load or unpack
 * failed is freed, never reused.
 */
#define MAPCACHE	8

struct cached_map {
	char		 fmt[64];
	tpl_node	*tn;
	uint8_t		*slot;
};

struct mapcache {
	struct cached_map	 m[MAPCACHE];
	unsigned		 next;
};

static pthread_key_t cache_key;
static _Thread_local struct mapcache *cache;

static void
map_release(struct cached_map *m)
{
	if (m->tn != NULL)
		tpl_free(m->tn);
	free(m->slot);
	memset(m, 0, sizeof(*m));
}

static void
cache_free(void *p)
{
	struct mapcache *c = p;
	unsigned i;

	for (i = 0; i < MAPCACHE; i++)
		map_release(&c->m[i]);
	free(c);
}

static void
cache_key_init(void)
{
	pthread_key_create(&cache_key, cache_free);
}

/* A map for t, from the cache or new; NULL when out of memory. */
static struct cached_map *
map_get(const dopy_type *t)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct cached_map *m;
	unsigned i;

	if (cache == NULL) {
		pthread_once(&once, cache_key_init);
		if ((cache = calloc(1, sizeof(*cache))) == NULL)
			return NULL;
		pthread_setspecific(cache_key, cache);
	}
	for (i = 0; i < MAPCACHE; i++)
		if (cache->m[i].tn != NULL &&
		    strcmp(cache->m[i].fmt, t->tpl) == 0)
			return &cache->m[i];
	m = &cache->m[cache->next++ % MAPCACHE];
	map_release(m);
	if (strlcpy(m->fmt, t->tpl, sizeof(m->fmt)) >= sizeof(m->fmt))
		m->fmt[0] = '\0';	/* too long to find again: used once */
	if ((m->slot = calloc(1, slot_size(leaf_of(t)))) == NULL ||
	    (m->tn = tpl_map(t->tpl, m->slot)) == NULL) {
		map_release(m);
		return NULL;
	}
	return m;
}

/*
 * A bytes value alone in its image ("B"), the way large ones travel,
 * once tpl_load has checked the image: read here, not by tpl_unpack,
 * which copies the data into a fresh block that we would then grow for
 * our NUL.  The data is "tpl", flags, length, "B\0", a u32 count and
 * the bytes, which must end the image.
 */
#define B_DATA		14

/* The frame's block, if the data can stay in it: it fills most of the
 * block (a small value must not pin a large block) and ends it, so the
 * byte after it, which becomes our NUL, is no other image's. */
uint8_t *
dopy_image_lent_block(const struct dopy_image *img, size_t n)
{
	struct dopy_buf *b = img->lend;

	if (b == NULL || b->data == NULL || img->p < b->data ||
	    img->p + img->len != b->data + b->len || b->cap <= b->len ||
	    n < b->len / 2)
		return NULL;
	return dopy_buf_take(b);
}

static int
take_bytes_image(const struct dopy_image *img, dopy_value **out, char *err,
    size_t errlen)
{
	uint8_t *block;
	char *p;
	uint32_t n;

	if (img->len < B_DATA || img->len - B_DATA !=
	    (n = image_u32(img->p, img->p + B_DATA - 4))) {
		seterr(err, errlen, "bytes value that does not fill its "
		    "image");
		return DOPY_E_PROTO;
	}
	if ((block = dopy_image_lent_block(img, n)) != NULL)
		p = (char *)img->p + B_DATA;
	else if ((p = dopy_alloc_large((size_t)n + 1)) != NULL)
		memcpy(p, img->p + B_DATA, n);
	else {
		seterr(err, errlen, "out of memory");
		return DOPY_E_NOMEM;
	}
	p[n] = '\0';
	if ((*out = dopy_value_take_block(&dopy_type_bytes_, block, p,
	    n)) == NULL) {
		if (block == NULL)
			free(p);
		seterr(err, errlen, "out of memory");
		return DOPY_E_NOMEM;
	}
	return 0;
}

static int
decode(const struct dopy_image *img, const dopy_type *expect,
    dopy_value **out, char *err, size_t errlen, int direct)
{
	struct reader rd = { NULL, NULL, img->len, 0, 0, DOPY_E_PROTO, err,
	    errlen };
	struct cached_map *volatile m = NULL;
	dopy_type *t;
	jmp_buf jb;
	volatile int r = DOPY_E_PROTO;

	*out = NULL;
	dopy_codec_init();
	if ((t = image_type(img, expect, err, errlen)) == NULL)
		return DOPY_E_TYPE;
	if (direct && (r = dopy_image_leaf(img, t, out, err, errlen)) != 1) {
		dopy_type_free(t);
		return r;
	}
	r = DOPY_E_PROTO;
	fatal_jmp = &jb;
	if (setjmp(jb) != 0) {
		fatal_jmp = NULL;	/* guarded against; the map leaks */
		dopy_type_free(t);
		if (m != NULL)
			memset(m, 0, sizeof(*m));
		seterr(err, errlen, "tpl refused the image");
		return DOPY_E_PROTO;
	}
	if ((m = map_get(t)) == NULL) {
		seterr(err, errlen, "out of memory");
		r = DOPY_E_NOMEM;
		goto out;
	}
	rd.tn = m->tn;
	rd.slot = m->slot;
	rd.mem = rd.limit = dopy_decode_limit(img->len);
	if (tpl_load(rd.tn, TPL_MEM, (void *)img->p, img->len) != 0)
		seterr(err, errlen, "malformed tpl image");
	else if (t->kind == DOPY_BYTES)
		r = take_bytes_image(img, out, err, errlen);
	else if (tpl_unpack(rd.tn, 0) < 0)
		seterr(err, errlen, "malformed tpl data");
	else if ((*out = take(&rd, t, 0)) != NULL)
		r = 0;
	else
		r = rd.r;
	/* tpl ends a string at its first NUL and does not say so: a value
	 * that re-encodes shorter than its image had one (or junk). */
	if (r == 0 && 8 + strlen(img->fmt) + 1 + data_size(*out) != img->len) {
		seterr(err, errlen, "string with a NUL byte, or bytes after "
		    "the value");
		dopy_value_free(*out);
		*out = NULL;
		r = DOPY_E_PROTO;
	}
	free_slot_strings(leaf_of(t), rd.slot);
	if (r != 0)
		map_release(m);
out:
	fatal_jmp = NULL;
	dopy_type_free(t);
	return r;
}

int
dopy_decode(const struct dopy_image *img, const dopy_type *expect,
    dopy_value **out, char *err, size_t errlen)
{
	return decode(img, expect, out, err, errlen, 1);
}

int
dopy_decode_tpl(const struct dopy_image *img, const dopy_type *expect,
    dopy_value **out, char *err, size_t errlen)
{
	return decode(img, expect, out, err, errlen, 0);
}
