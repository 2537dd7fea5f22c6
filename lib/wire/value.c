/*
 * value.c - typed value trees.  Arguments and results travel by copy, so
 * a value owns everything below it; its type is shared by reference.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

static dopy_value *
alloc(const dopy_type *t)
{
	dopy_value *v;

	/* malloc and stores, not calloc (nor malloc and memset, which the
	 * compiler turns into calloc): glibc's calloc skips its per-thread
	 * cache and costs several times as much. */
	if ((v = malloc(sizeof(*v))) == NULL)
		return NULL;
	v->type = dopy_type_ref(t);
	v->u.a.v = NULL;		/* the widest member: all of u */
	v->u.a.n = 0;
	v->u.a.cap = 0;
	v->u.a.p = NULL;
	return v;
}

dopy_value *
dopy_value_bool(int b)
{
	dopy_value *v;

	if ((v = alloc(&dopy_type_bool_)) != NULL)
		v->u.b = b != 0;
	return v;
}

dopy_value *
dopy_value_int(int64_t i)
{
	dopy_value *v;

	if ((v = alloc(&dopy_type_int_)) != NULL)
		v->u.i = i;
	return v;
}

dopy_value *
dopy_value_uint(uint64_t u)
{
	dopy_value *v;

	if ((v = alloc(&dopy_type_uint_)) != NULL)
		v->u.u = u;
	return v;
}

dopy_value *
dopy_value_double(double d)
{
	dopy_value *v;

	if ((v = alloc(&dopy_type_double_)) != NULL)
		v->u.d = d;
	return v;
}

/* 0 names no object: ids start at 1 on every connection. */
dopy_value *
dopy_value_ref(uint32_t id)
{
	dopy_value *v;

	if (id == 0)
		return NULL;
	if ((v = alloc(&dopy_type_ref_)) != NULL)
		v->u.u = id;
	return v;
}

dopy_value *
dopy_value_take_str(dopy_type *t, char *p, size_t len)
{
	dopy_value *v;

	if ((v = alloc(t)) == NULL) {
		free(p);
		return NULL;
	}
	v->u.s.p = p;
	v->u.s.len = len;
	return v;
}

dopy_value *
dopy_value_take_block(dopy_type *t, void *block, char *p, size_t len)
{
	dopy_value *v;

	if ((v = alloc(t)) == NULL) {
		free(block);
		return NULL;
	}
	v->u.s.p = p;
	v->u.s.len = len;
	v->u.s.block = block;
	return v;
}

/* The block of bytes its creator keeps (dopy_args_bytes_ref): there is
 * nothing to free, and no NUL after them. */
static char borrowed;

dopy_value *
dopy_value_borrow_bytes(const void *p, size_t len)
{
	dopy_value *v;

	if ((v = alloc(&dopy_type_bytes_)) == NULL)
		return NULL;
	v->u.s.p = (char *)p;
	v->u.s.len = len;
	v->u.s.block = &borrowed;
	return v;
}

/* Strings and bytes keep a NUL after their bytes, so a string's bytes
 * are always a C string. */
static dopy_value *
dup_bytes(dopy_type *t, const void *p, size_t len)
{
	char *c;

	if (len == SIZE_MAX || (c = dopy_alloc_large(len + 1)) == NULL)
		return NULL;
	if (len > 0)
		memcpy(c, p, len);
	c[len] = '\0';
	return dopy_value_take_str(t, c, len);
}

dopy_value *
dopy_value_string(const char *s)
{
	if (s == NULL)
		return NULL;
	return dup_bytes(&dopy_type_string_, s, strlen(s));
}

dopy_value *
dopy_value_bytes(const void *p, size_t len)
{
	if (p == NULL && len > 0)
		return NULL;
	return dup_bytes(&dopy_type_bytes_, p != NULL ? p : "", len);
}

static dopy_value *zero(const dopy_type *);

/* An array or structure with room for its elements and none set: the
 * decoder fills it without making zero values first. */
dopy_value *
dopy_value_new_empty(const dopy_type *t)
{
	dopy_value *v;
	size_t n = t->kind == DOPY_STRUCT ? t->nfields : 0;

	if ((v = alloc(t)) == NULL || n == 0)
		return v;
	if ((v->u.a.v = calloc(n, sizeof(*v->u.a.v))) == NULL) {
		dopy_value_free(v);
		return NULL;
	}
	v->u.a.cap = n;
	return v;
}

dopy_value *
dopy_value_new(const dopy_type *t)
{
	dopy_value *v;
	size_t i;

	if (t == NULL || t->kind == DOPY_ANY)
		return NULL;
	switch (t->kind) {
	case DOPY_ARRAY:
		return alloc(t);
	case DOPY_STRUCT:
		if ((v = alloc(t)) == NULL)
			return NULL;
		v->u.a.v = calloc(t->nfields, sizeof(*v->u.a.v));
		if (v->u.a.v == NULL) {
			dopy_value_free(v);
			return NULL;
		}
		v->u.a.n = v->u.a.cap = t->nfields;
		for (i = 0; i < t->nfields; i++)
			if ((v->u.a.v[i] = zero(t->fields[i])) == NULL) {
				dopy_value_free(v);
				return NULL;
			}
		return v;
	default:
		return zero(t);
	}
}

static dopy_value *
zero(const dopy_type *t)
{
	switch (t->kind) {
	case DOPY_STRING:
	case DOPY_BYTES:
		return dup_bytes((dopy_type *)t, "", 0);
	case DOPY_ARRAY:
	case DOPY_STRUCT:
		return dopy_value_new(t);
	default:
		return alloc(t);	/* calloc: 0, false, 0.0 */
	}
}

/* Arrays hold their elements by pointer; grow by doubling. */
static int
push(dopy_value *a, dopy_value *v)
{
	dopy_value **nv;
	size_t ncap;

	if (a->u.a.n == a->u.a.cap) {
		ncap = a->u.a.cap ? a->u.a.cap * 2 : 4;
		if ((nv = reallocarray(a->u.a.v, ncap, sizeof(*nv))) == NULL)
			return DOPY_E_NOMEM;
		a->u.a.v = nv;
		a->u.a.cap = ncap;
	}
	a->u.a.v[a->u.a.n++] = v;
	return 0;
}

/* ---- packed arrays (wire.h) ---- */

int
dopy_value_reserve(dopy_value *a, size_t n)
{
	size_t es = dopy_packed_size(a->type);

	if (n == 0)
		return 0;
	if (es > 0) {
		if (n > SIZE_MAX / 8 ||
		    (a->u.a.p = dopy_alloc_large(n * es)) == NULL)
			return DOPY_E_NOMEM;
	} else if ((a->u.a.v = reallocarray(NULL, n, sizeof(*a->u.a.v))) ==
	    NULL)
		return DOPY_E_NOMEM;
	a->u.a.cap = n;
	return 0;
}

/* Element i of a packed array as a value on the caller's stack. */
static void
packed_get(const dopy_value *a, size_t i, dopy_value *tmp)
{
	size_t es = dopy_packed_size(a->type);
	const uint8_t *p = (const uint8_t *)a->u.a.p + i * es;

	memset(&tmp->u, 0, sizeof(tmp->u));
	tmp->type = a->type->elem;
	if (es == 1)
		tmp->u.b = *p;
	else
		memcpy(&tmp->u, p, 8);
}

const dopy_value *
dopy_value_item(const dopy_value *v, size_t i, dopy_value *tmp)
{
	if (dopy_packed_size(v->type) == 0)
		return v->u.a.v[i];
	packed_get(v, i, tmp);
	return tmp;
}

/* The block grows by doubling; so do the elements dopy_value_at made,
 * if it made any, which stay valid. */
static int
packed_grow(dopy_value *a, size_t es)
{
	size_t ncap = a->u.a.cap ? a->u.a.cap * 2 : 8;
	dopy_value **nv;
	void *np;

	if (ncap > SIZE_MAX / 8 || (np = realloc(a->u.a.p, ncap * es)) == NULL)
		return DOPY_E_NOMEM;
	a->u.a.p = np;
	if (a->u.a.v != NULL) {
		if ((nv = reallocarray(a->u.a.v, ncap, sizeof(*nv))) == NULL)
			return DOPY_E_NOMEM;	/* the larger block is fine */
		memset(nv + a->u.a.cap, 0, (ncap - a->u.a.cap) * sizeof(*nv));
		a->u.a.v = nv;
	}
	a->u.a.cap = ncap;
	return 0;
}

/* Takes v: its C value goes into the block, and v itself is kept as the
 * element dopy_value_at gives, if that made any, else freed. */
static int
packed_push(dopy_value *a, dopy_value *v)
{
	size_t es = dopy_packed_size(a->type);
	uint8_t *p;
	int r;

	if (a->u.a.n == a->u.a.cap && (r = packed_grow(a, es)) < 0)
		return r;
	p = (uint8_t *)a->u.a.p + a->u.a.n * es;
	if (es == 1)
		*p = (uint8_t)v->u.b;
	else
		memcpy(p, &v->u, 8);
	if (a->u.a.v != NULL)
		a->u.a.v[a->u.a.n] = v;
	else
		dopy_value_free(v);
	a->u.a.n++;
	return 0;
}

/*
 * dopy_value_at on a packed array makes the element's value on first
 * use and keeps it until the array is freed.  The array is const to
 * its readers, who may be several threads: the table and each element
 * are published with compare-and-swap, and a loser frees its own.
 */
static dopy_value **
made_table(const dopy_value *a)
{
	dopy_value ***slot = (dopy_value ***)&a->u.a.v;
	dopy_value **made, **none = NULL;

	if ((made = __atomic_load_n(slot, __ATOMIC_ACQUIRE)) != NULL)
		return made;
	if ((made = calloc(a->u.a.cap, sizeof(*made))) == NULL)
		return NULL;
	if (__atomic_compare_exchange_n(slot, &none, made, 0,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return made;
	free(made);
	return none;
}

static const dopy_value *
packed_at(const dopy_value *a, size_t i)
{
	dopy_value **made, *v, *none = NULL, tmp;

	if ((made = made_table(a)) == NULL)
		return NULL;
	if ((v = __atomic_load_n(&made[i], __ATOMIC_ACQUIRE)) != NULL)
		return v;
	packed_get(a, i, &tmp);
	if ((v = dopy_value_copy(&tmp)) == NULL)
		return NULL;
	if (__atomic_compare_exchange_n(&made[i], &none, v, 0,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return v;
	dopy_value_free(v);
	return none;
}

/* A packed array of type t holding a copy of n C values at p. */
static dopy_value *
packed_new(const dopy_type *t, const void *p, size_t n)
{
	dopy_value *v;

	if ((p == NULL && n > 0) || (v = alloc(t)) == NULL)
		return NULL;
	if (dopy_value_reserve(v, n) < 0) {
		dopy_value_free(v);
		return NULL;
	}
	if (n > 0)
		memcpy(v->u.a.p, p, n * dopy_packed_size(t));
	v->u.a.n = n;
	return v;
}

dopy_value *
dopy_value_bool_array(const uint8_t *p, size_t n)
{
	dopy_value *v;
	uint8_t *b;
	size_t i;

	/* On the wire a bool is 0 or 1, and the block is sent as it is. */
	if ((v = packed_new(&dopy_type_bools_, p, n)) != NULL)
		for (b = v->u.a.p, i = 0; i < n; i++)
			b[i] = b[i] != 0;
	return v;
}

dopy_value *
dopy_value_int_array(const int64_t *p, size_t n)
{
	return packed_new(&dopy_type_ints_, p, n);
}

dopy_value *
dopy_value_uint_array(const uint64_t *p, size_t n)
{
	return packed_new(&dopy_type_uints_, p, n);
}

dopy_value *
dopy_value_double_array(const double *p, size_t n)
{
	return packed_new(&dopy_type_doubles_, p, n);
}

/* The block of v if it is an array of kind k, never NULL then. */
static const void *
packed_block(const dopy_value *v, enum dopy_kind k, size_t *n)
{
	static const uint64_t none;

	if (v == NULL || v->type->kind != DOPY_ARRAY ||
	    v->type->elem->kind != k) {
		if (n != NULL)
			*n = 0;
		return NULL;
	}
	if (n != NULL)
		*n = v->u.a.n;
	return v->u.a.p != NULL ? v->u.a.p : &none;
}

const uint8_t *
dopy_value_bools(const dopy_value *v, size_t *n)
{
	return packed_block(v, DOPY_BOOL, n);
}

const int64_t *
dopy_value_ints(const dopy_value *v, size_t *n)
{
	return packed_block(v, DOPY_INT, n);
}

const uint64_t *
dopy_value_uints(const dopy_value *v, size_t *n)
{
	return packed_block(v, DOPY_UINT, n);
}

const double *
dopy_value_doubles(const dopy_value *v, size_t *n)
{
	return packed_block(v, DOPY_DOUBLE, n);
}

static int
doubles_equal(double a, double b)
{
	return a == b || (isnan(a) && isnan(b));
}

static int
packed_equal(const dopy_value *a, const dopy_value *b)
{
	const double *x = a->u.a.p, *y = b->u.a.p;
	size_t i, n = a->u.a.n;

	if (a->type->elem->kind != DOPY_DOUBLE)
		return n == 0 ||
		    memcmp(x, y, n * dopy_packed_size(a->type)) == 0;
	for (i = 0; i < n; i++)
		if (!doubles_equal(x[i], y[i]))
			return 0;
	return 1;
}

/* ---- building and copying ---- */

int
dopy_value_append(dopy_value *a, dopy_value *v)
{
	int r;

	if (a == NULL || v == NULL || a->type->kind != DOPY_ARRAY)
		r = DOPY_E_INVAL;
	else if (!dopy_type_equal(a->type->elem, v->type))
		r = DOPY_E_TYPE;
	else if ((r = dopy_packed_size(a->type) > 0 ? packed_push(a, v) :
	    push(a, v)) == 0)
		return 0;
	dopy_value_free(v);
	return r;
}

int
dopy_value_set_field(dopy_value *st, size_t i, dopy_value *v)
{
	int r;

	if (st == NULL || v == NULL || st->type->kind != DOPY_STRUCT ||
	    i >= st->u.a.n)
		r = DOPY_E_INVAL;
	else if (!dopy_type_equal(st->type->fields[i], v->type))
		r = DOPY_E_TYPE;
	else {
		dopy_value_free(st->u.a.v[i]);
		st->u.a.v[i] = v;
		return 0;
	}
	dopy_value_free(v);
	return r;
}

dopy_value *
dopy_value_copy(const dopy_value *v)
{
	dopy_value *c;
	size_t i;

	if (v == NULL)
		return NULL;
	switch (v->type->kind) {
	case DOPY_STRING:
	case DOPY_BYTES:
		return dup_bytes(v->type, v->u.s.p, v->u.s.len);
	case DOPY_ARRAY:
		if (dopy_packed_size(v->type) > 0)
			return packed_new(v->type, v->u.a.p, v->u.a.n);
		/* FALLTHROUGH */
	case DOPY_STRUCT:
		if ((c = alloc(v->type)) == NULL)
			return NULL;
		for (i = 0; i < v->u.a.n; i++)
			if (push(c, dopy_value_copy(v->u.a.v[i])) < 0 ||
			    c->u.a.v[i] == NULL) {
				dopy_value_free(c);
				return NULL;
			}
		return c;
	default:
		if ((c = alloc(v->type)) != NULL)
			c->u = v->u;
		return c;
	}
}

void
dopy_value_free(dopy_value *v)
{
	size_t i;

	if (v == NULL)
		return;
	switch (v->type->kind) {
	case DOPY_STRING:
	case DOPY_BYTES:
		if (v->u.s.block != &borrowed)
			free(v->u.s.block != NULL ? v->u.s.block : v->u.s.p);
		break;
	case DOPY_ARRAY:
	case DOPY_STRUCT:
		/* A packed array's u.a.v: the elements made, if any. */
		if (v->u.a.v != NULL)
			for (i = 0; i < v->u.a.n; i++)
				dopy_value_free(v->u.a.v[i]);
		free(v->u.a.v);
		free(v->u.a.p);
		break;
	default:
		break;
	}
	dopy_type_free(v->type);
	free(v);
}

const dopy_type *
dopy_value_type(const dopy_value *v)
{
	return v != NULL ? v->type : NULL;
}

enum dopy_kind
dopy_value_kind(const dopy_value *v)
{
	return v != NULL ? v->type->kind : DOPY_VOID;
}

/* Accessors return a zero value for the wrong kind rather than crash:
 * the signature check in dispatch makes that a caller's bug. */
int
dopy_value_get_bool(const dopy_value *v)
{
	return v != NULL && v->type->kind == DOPY_BOOL ? v->u.b : 0;
}

int64_t
dopy_value_get_int(const dopy_value *v)
{
	return v != NULL && v->type->kind == DOPY_INT ? v->u.i : 0;
}

uint64_t
dopy_value_get_uint(const dopy_value *v)
{
	return v != NULL && v->type->kind == DOPY_UINT ? v->u.u : 0;
}

double
dopy_value_get_double(const dopy_value *v)
{
	return v != NULL && v->type->kind == DOPY_DOUBLE ? v->u.d : 0.0;
}

uint32_t
dopy_value_get_ref(const dopy_value *v)
{
	return v != NULL && v->type->kind == DOPY_REF ? (uint32_t)v->u.u : 0;
}

const char *
dopy_value_get_string(const dopy_value *v)
{
	if (v == NULL || (v->type->kind != DOPY_STRING &&
	    v->type->kind != DOPY_BYTES))
		return NULL;
	return v->u.s.p;
}

const void *
dopy_value_get_bytes(const dopy_value *v, size_t *len)
{
	if (v == NULL || (v->type->kind != DOPY_STRING &&
	    v->type->kind != DOPY_BYTES)) {
		if (len != NULL)
			*len = 0;
		return NULL;
	}
	if (len != NULL)
		*len = v->u.s.len;
	return v->u.s.p;
}

size_t
dopy_value_len(const dopy_value *v)
{
	if (v == NULL)
		return 0;
	if (v->type->kind == DOPY_ARRAY || v->type->kind == DOPY_STRUCT)
		return v->u.a.n;
	if (v->type->kind == DOPY_STRING || v->type->kind == DOPY_BYTES)
		return v->u.s.len;
	return 0;
}

const dopy_value *
dopy_value_at(const dopy_value *v, size_t i)
{
	if (v == NULL || (v->type->kind != DOPY_ARRAY &&
	    v->type->kind != DOPY_STRUCT) || i >= v->u.a.n)
		return NULL;
	if (dopy_packed_size(v->type) > 0)
		return packed_at(v, i);
	return v->u.a.v[i];
}

int
dopy_value_equal(const dopy_value *a, const dopy_value *b)
{
	size_t i;

	if (a == NULL || b == NULL)
		return a == b;
	if (!dopy_type_equal(a->type, b->type))
		return 0;
	switch (a->type->kind) {
	case DOPY_BOOL:
		return a->u.b == b->u.b;
	case DOPY_INT:
		return a->u.i == b->u.i;
	case DOPY_UINT:
	case DOPY_REF:
		return a->u.u == b->u.u;
	case DOPY_DOUBLE:
		return doubles_equal(a->u.d, b->u.d);
	case DOPY_STRING:
	case DOPY_BYTES:
		return a->u.s.len == b->u.s.len &&
		    memcmp(a->u.s.p, b->u.s.p, a->u.s.len) == 0;
	case DOPY_ARRAY:
	case DOPY_STRUCT:
		if (a->u.a.n != b->u.a.n)
			return 0;
		if (dopy_packed_size(a->type) > 0)
			return packed_equal(a, b);
		for (i = 0; i < a->u.a.n; i++)
			if (!dopy_value_equal(a->u.a.v[i], b->u.a.v[i]))
				return 0;
		return 1;
	default:
		return 0;
	}
}
