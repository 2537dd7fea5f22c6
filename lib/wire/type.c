/*
 * type.c - dopy types: their text form, their tpl format, their layout.
 *
 *	type	= base { "[]" }
 *	base	= "bool" | "int" | "uint" | "double" | "string" | "bytes"
 *		| "ref" | "(" type { "," type } ")"
 *
 * A structure holds scalars and strings only: tpl cannot put A(...) or
 * B inside S(...).  Types are immutable and shared by reference count;
 * the scalar types are static.  A ref is a scalar too: an object's id
 * on one connection, a uint32 on the wire (tpl `u').
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

#define STATIC_TYPE(var, k, n, t, sz) \
	struct dopy_type var = { .kind = k, .refs = -1, .size = sz, \
	    .align = sz, .name = n, .tpl = t }
STATIC_TYPE(dopy_type_bool_, DOPY_BOOL, "bool", "c", 1);
STATIC_TYPE(dopy_type_int_, DOPY_INT, "int", "I", 8);
STATIC_TYPE(dopy_type_uint_, DOPY_UINT, "uint", "U", 8);
STATIC_TYPE(dopy_type_double_, DOPY_DOUBLE, "double", "f", 8);
STATIC_TYPE(dopy_type_string_, DOPY_STRING, "string", "s", sizeof(char *));
STATIC_TYPE(dopy_type_bytes_, DOPY_BYTES, "bytes", "B", 0);
STATIC_TYPE(dopy_type_ref_, DOPY_REF, "ref", "u", 4);
STATIC_TYPE(dopy_type_any_, DOPY_ANY, "any", "", 0);

/* The packed arrays (wire.h), for dopy_value_int_array and the
 * like; equal to the same types parsed from text. */
#define STATIC_ARRAY(var, e, n, t) \
	struct dopy_type var = { .kind = DOPY_ARRAY, .refs = -1, \
	    .elem = &e, .name = n, .tpl = t }
STATIC_ARRAY(dopy_type_bools_, dopy_type_bool_, "bool[]", "A(c)");
STATIC_ARRAY(dopy_type_ints_, dopy_type_int_, "int[]", "A(I)");
STATIC_ARRAY(dopy_type_uints_, dopy_type_uint_, "uint[]", "A(U)");
STATIC_ARRAY(dopy_type_doubles_, dopy_type_double_, "double[]", "A(f)");

static struct dopy_type *const scalars[] = {
	&dopy_type_bool_, &dopy_type_int_, &dopy_type_uint_,
	&dopy_type_double_, &dopy_type_string_, &dopy_type_bytes_,
	&dopy_type_ref_,
};
#define NSCALARS (sizeof(scalars) / sizeof(scalars[0]))

dopy_type *
dopy_type_ref(const dopy_type *ct)
{
	dopy_type *t = (dopy_type *)ct;

	if (t != NULL && t->refs >= 0)
		__atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
	return t;
}

dopy_type *
dopy_type_copy(const dopy_type *t)
{
	return dopy_type_ref(t);
}

void
dopy_type_free(dopy_type *t)
{
	size_t i;

	if (t == NULL || t->refs < 0)
		return;
	if (__atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	dopy_type_free(t->elem);
	for (i = 0; i < t->nfields; i++) {
		dopy_type_free(t->fields[i]);
		if (t->fnames != NULL)
			free(t->fnames[i]);
	}
	free(t->fields);
	free(t->fnames);
	free(t->name);
	free(t->tpl);
	free(t);
}

static dopy_type *
array_of(dopy_type *elem)
{
	dopy_type *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		goto fail;
	t->kind = DOPY_ARRAY;
	t->refs = 1;
	t->elem = elem;
	t->name = dopy_asprintf("%s[]", elem->name);
	t->tpl = dopy_asprintf("A(%s)", elem->tpl);
	if (t->name == NULL || t->tpl == NULL)
		goto fail;
	return t;
fail:
	if (t == NULL)
		dopy_type_free(elem);
	dopy_type_free(t);
	return NULL;
}

/* Names, tpl format and C layout of a structure whose fields are set. */
static int
struct_finish(dopy_type *t)
{
	size_t i, off = 0, maxal = 1, nlen = 3, tlen = 4;
	const dopy_type *f;

	for (i = 0; i < t->nfields; i++) {
		nlen += strlen(t->fields[i]->name) + 1;
		nlen += t->fnames != NULL ? strlen(t->fnames[i]) + 1 : 0;
		tlen += strlen(t->fields[i]->tpl);
	}
	if ((t->name = calloc(1, nlen)) == NULL ||
	    (t->tpl = calloc(1, tlen)) == NULL)
		return DOPY_E_NOMEM;
	strlcat(t->name, "(", nlen);
	strlcat(t->tpl, "S(", tlen);
	for (i = 0; i < t->nfields; i++) {
		f = t->fields[i];
		if (i > 0)
			strlcat(t->name, ",", nlen);
		if (t->fnames != NULL) {
			strlcat(t->name, t->fnames[i], nlen);
			strlcat(t->name, ":", nlen);
		}
		strlcat(t->name, f->name, nlen);
		strlcat(t->tpl, f->tpl, tlen);
		/* tpl lays fields out like the C compiler: each on a
		 * multiple of its own size (8 for double and int64). */
		off = (off + f->align - 1) / f->align * f->align + f->size;
		if (f->align > maxal)
			maxal = f->align;
	}
	strlcat(t->name, ")", nlen);
	strlcat(t->tpl, ")", tlen);
	t->align = maxal;
	t->size = (off + maxal - 1) / maxal * maxal;
	return 0;
}

static int
field_ok(const dopy_type *f)
{
	return f->kind != DOPY_ARRAY && f->kind != DOPY_BYTES &&
	    f->kind != DOPY_STRUCT && f->kind != DOPY_ANY;
}

struct parser {
	const char	*p;
	char		*err;
	size_t		 errlen;
	int		 depth;
};

static dopy_type *parse_type(struct parser *);

static void
skipws(struct parser *ps)
{
	while (isspace((unsigned char)*ps->p))
		ps->p++;
}

static dopy_type *
perr(struct parser *ps, const char *what)
{
	if (ps->errlen > 0)
		snprintf(ps->err, ps->errlen, "%s at '%.20s'", what, ps->p);
	return NULL;
}

/* The length of the identifier at p, if a ':' follows it (after blanks,
 * which *skip counts). */
static size_t
name_before_colon(const char *p, size_t *skip)
{
	size_t n = 0, k;

	if (!isalpha((unsigned char)*p) && *p != '_')
		return 0;
	while (isalnum((unsigned char)p[n]) || p[n] == '_')
		n++;
	for (k = n; isspace((unsigned char)p[k]); k++)
		;
	*skip = k - n;
	return p[k] == ':' ? n : 0;
}

/*
 * A field's name, NAME: before its type, as in (count:int, text:string),
 * in *namep (NULL when it has none).  Every field has one or none has;
 * names are unique.  Names are for people and for C struct mappings:
 * the wire and type equality see only the types.
 */
static int
field_name(struct parser *ps, const dopy_type *t, char **namep)
{
	size_t n, i, blanks;

	*namep = NULL;
	skipws(ps);
	n = name_before_colon(ps->p, &blanks);
	if (t->nfields > 0 && (n > 0) != (t->fnames != NULL)) {
		perr(ps, "name every field of a structure, or none");
		return -1;
	}
	if (n == 0)
		return 0;
	if ((*namep = strndup(ps->p, n)) == NULL) {
		perr(ps, "out of memory");
		return -1;
	}
	for (i = 0; t->fnames != NULL && i < t->nfields; i++)
		if (strcmp(t->fnames[i], *namep) == 0) {
			perr(ps, "two fields of one name");
			return -1;
		}
	ps->p += n + blanks + 1;		/* the name and its ':' */
	return 0;
}

/* Append field f, named name or not; both are taken. */
static int
add_field(dopy_type *t, dopy_type *f, char *name)
{
	dopy_type **nf;
	char **fn;

	if ((nf = reallocarray(t->fields, t->nfields + 1, sizeof(*nf))) !=
	    NULL)
		t->fields = nf;
	if (nf != NULL && name != NULL && (fn = reallocarray(t->fnames,
	    t->nfields + 1, sizeof(*fn))) != NULL) {
		t->fnames = fn;
		fn[t->nfields] = name;
	} else if (name != NULL)
		nf = NULL;
	if (nf == NULL) {
		dopy_type_free(f);
		free(name);
		return DOPY_E_NOMEM;
	}
	t->fields[t->nfields++] = f;
	return 0;
}

static dopy_type *
parse_struct(struct parser *ps)
{
	dopy_type *t, *f;
	char *name = NULL;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return perr(ps, "out of memory");
	t->kind = DOPY_STRUCT;
	t->refs = 1;
	ps->p++;				/* '(' */
	for (;;) {
		if (field_name(ps, t, &name) < 0 ||
		    (f = parse_type(ps)) == NULL)
			goto fail;
		if (!field_ok(f)) {
			dopy_type_free(f);
			perr(ps, "structure fields must be scalars or strings");
			goto fail;
		}
		if (add_field(t, f, name) < 0) {
			name = NULL;
			perr(ps, "out of memory");
			goto fail;
		}
		name = NULL;
		skipws(ps);
		if (*ps->p == ')')
			break;
		if (*ps->p != ',') {
			perr(ps, "expected ',' or ')'");
			goto fail;
		}
		ps->p++;
	}
	ps->p++;
	if (struct_finish(t) < 0) {
		perr(ps, "out of memory");
		goto fail;
	}
	return t;
fail:
	free(name);
	dopy_type_free(t);
	return NULL;
}

static dopy_type *
parse_base(struct parser *ps)
{
	size_t i, n;

	skipws(ps);
	if (*ps->p == '(')
		return parse_struct(ps);
	for (n = 0; isalpha((unsigned char)ps->p[n]); n++)
		;
	for (i = 0; i < NSCALARS; i++)
		if (strlen(scalars[i]->name) == n &&
		    strncmp(scalars[i]->name, ps->p, n) == 0) {
			ps->p += n;
			return scalars[i];
		}
	if (n == 3 && strncmp(ps->p, "any", 3) == 0 && ps->depth == 1) {
		ps->p += n;
		return &dopy_type_any_;
	}
	return perr(ps, n == 3 && strncmp(ps->p, "any", 3) == 0 ?
	    "any is only for a whole parameter or result" : "unknown type");
}

/* Depth counts nesting (structures and array levels), not width. */
static dopy_type *
parse_type(struct parser *ps)
{
	int depth = ps->depth;
	dopy_type *t;

	if (++ps->depth > DOPY_MAX_DEPTH)
		return perr(ps, "type nested too deeply");
	t = parse_base(ps);
	while (t != NULL) {
		skipws(ps);
		if (ps->p[0] != '[' || ps->p[1] != ']')
			break;
		ps->p += 2;
		if (t->kind == DOPY_ANY) {
			t = perr(ps, "any is only for a whole parameter or "
			    "result");
		} else if (++ps->depth > DOPY_MAX_DEPTH) {
			dopy_type_free(t);
			t = perr(ps, "type nested too deeply");
		} else if ((t = array_of(t)) == NULL)
			t = perr(ps, "out of memory");
	}
	ps->depth = depth;
	return t;
}

dopy_type *
dopy_type_parse(const char *text, char *err, size_t errlen)
{
	struct parser ps = { text, err, errlen, 0 };
	dopy_type *t;

	if (text == NULL) {
		ps.p = "";
		return perr(&ps, "no type");
	}
	if ((t = parse_type(&ps)) == NULL)
		return NULL;
	skipws(&ps);
	if (*ps.p != '\0') {
		dopy_type_free(t);
		return perr(&ps, "junk after type");
	}
	return t;
}

/* The inverse mapping, for values that arrive without an expected type
 * (a client reading a result it never introspected). */
static dopy_type *
from_tpl(const char **pp, int depth)
{
	dopy_type *t, *f, **nf;
	const char *p = *pp;
	size_t i;

	if (depth > DOPY_MAX_DEPTH)
		return NULL;
	if (p[0] == 'A' && p[1] == '(') {
		*pp = p + 2;
		if ((t = from_tpl(pp, depth + 1)) == NULL)
			return NULL;
		if (**pp != ')') {
			dopy_type_free(t);
			return NULL;
		}
		(*pp)++;
		return array_of(t);
	}
	if (p[0] == 'S' && p[1] == '(') {
		if ((t = calloc(1, sizeof(*t))) == NULL)
			return NULL;
		t->kind = DOPY_STRUCT;
		t->refs = 1;
		for (*pp = p + 2; **pp != ')'; ) {
			if ((f = from_tpl(pp, depth + 1)) == NULL ||
			    !field_ok(f) || (nf = reallocarray(t->fields,
			    t->nfields + 1, sizeof(*nf))) == NULL) {
				dopy_type_free(f);
				dopy_type_free(t);
				return NULL;
			}
			t->fields = nf;
			t->fields[t->nfields++] = f;
		}
		(*pp)++;
		if (t->nfields == 0 || struct_finish(t) < 0) {
			dopy_type_free(t);
			return NULL;
		}
		return t;
	}
	for (i = 0; i < NSCALARS; i++)
		if (p[0] == scalars[i]->tpl[0]) {
			*pp = p + 1;
			return scalars[i];
		}
	return NULL;
}

dopy_type *
dopy_type_from_tpl(const char *fmt)
{
	dopy_type *t;

	if ((t = from_tpl(&fmt, 0)) != NULL && *fmt != '\0') {
		dopy_type_free(t);
		return NULL;
	}
	return t;
}

enum dopy_kind
dopy_type_kind(const dopy_type *t)
{
	return t != NULL ? t->kind : DOPY_VOID;
}

const dopy_type *
dopy_type_elem(const dopy_type *t)
{
	return t != NULL ? t->elem : NULL;
}

size_t
dopy_type_nfields(const dopy_type *t)
{
	return t != NULL ? t->nfields : 0;
}

const dopy_type *
dopy_type_field(const dopy_type *t, size_t i)
{
	return t != NULL && i < t->nfields ? t->fields[i] : NULL;
}

const char *
dopy_type_name(const dopy_type *t)
{
	return t != NULL ? t->name : "void";
}

const char *
dopy_type_tpl(const dopy_type *t)
{
	return t != NULL ? t->tpl : "";
}

int
dopy_type_equal(const dopy_type *a, const dopy_type *b)
{
	if (a == b)
		return 1;
	if (a == NULL || b == NULL)
		return 0;
	return strcmp(a->tpl, b->tpl) == 0;
}

const char *
dopy_type_field_name(const dopy_type *t, size_t i)
{
	if (t == NULL || t->kind != DOPY_STRUCT || i >= t->nfields ||
	    t->fnames == NULL)
		return NULL;
	return t->fnames[i];
}

int
dopy_type_has_ref(const dopy_type *t)
{
	size_t i;

	switch (t->kind) {
	case DOPY_REF:
		return 1;
	case DOPY_ARRAY:
		return dopy_type_has_ref(t->elem);
	case DOPY_STRUCT:
		for (i = 0; i < t->nfields; i++)
			if (dopy_type_has_ref(t->fields[i]))
				return 1;
		return 0;
	default:
		return 0;
	}
}
