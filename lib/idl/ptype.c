/*
 * ptype.c - types, structure bodies and default values of interface
 * files.  What a type may be is dopy(5)'s rule (a structure holds
 * scalars, ref and strings; nesting is bounded); a default is checked
 * by the very parser that reads it on the wire side, dopy_value_parse(),
 * against the type's dopy text, so an interface cannot promise a value
 * the server would refuse.
 */
#include <stdlib.h>
#include <string.h>

#include "idl/parse.h"

static const struct {
	const char	*name;
	enum dopy_kind	 kind;
} scalars[] = {
	{ "bool", DOPY_BOOL }, { "int", DOPY_INT }, { "uint", DOPY_UINT },
	{ "double", DOPY_DOUBLE }, { "string", DOPY_STRING },
	{ "bytes", DOPY_BYTES }, { "ref", DOPY_REF }, { "any", DOPY_ANY },
};
#define NSCALARS (sizeof(scalars) / sizeof(scalars[0]))

#define ANY_WHERE "any is only for a whole parameter, result or attribute"

void
idl_type_free(struct idl_type *t)
{
	struct idl_type *elem;

	for (; t != NULL; t = elem) {
		elem = t->elem;
		free(t);		/* t->st belongs to the file */
	}
}

static struct idl_type *
new_type(struct parser *ps, enum dopy_kind kind)
{
	struct idl_type *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		idl_err(ps, ps->tok.pos, "out of memory");
	else
		t->kind = kind;
	return t;
}

/* Whether the token after the lookahead is a ':' (a field's name). */
static int
peek_colon(const struct parser *ps)
{
	struct lexer lx = ps->lx;
	struct tok t;
	char dummy[1];
	int r;

	memset(&t, 0, sizeof(t));
	lx.err = dummy;
	lx.errlen = sizeof(dummy);
	r = idl_lex_next(&lx, &t) == 0 && t.kind == T_PUNCT && t.c == ':';
	free(t.s);
	return r;
}

static const char *
field_problem(enum dopy_kind kind)
{
	switch (kind) {
	case DOPY_ARRAY:
		return "arrays are not allowed in a structure (dopy(5))";
	case DOPY_BYTES:
		return "bytes are not allowed in a structure (dopy(5))";
	case DOPY_STRUCT:
		return "structures do not nest (dopy(5))";
	default:
		return NULL;
	}
}

/* The type of field fl (its name read) in st, with dopy(5)'s checks. */
static int
field_type(struct parser *ps, struct idl_struct *st, struct idl_field *fl)
{
	struct idl_pos pos = ps->tok.pos;
	const char *why;
	size_t i;

	if ((fl->type = idl_parse_type(ps, 0)) == NULL)
		return -1;
	for (i = 0; fl->name != NULL && &st->fields[i] != fl; i++)
		if (strcmp(st->fields[i].name, fl->name) == 0)
			return idl_err(ps, fl->pos, "field '%s' is "
			    "declared twice in %s%s", fl->name, st->name ?
			    "struct " : "a structure", st->name ? st->name :
			    "");
	if ((why = field_problem(fl->type->kind)) == NULL)
		return 0;
	if (st->name != NULL)
		return idl_err(ps, pos, "field '%s' of struct %s: %s",
		    fl->name, st->name, why);
	if (fl->name != NULL)
		return idl_err(ps, pos, "field '%s' of a structure: %s",
		    fl->name, why);
	return idl_err(ps, pos, "field %zu of a structure: %s",
	    st->nfields, why);
}

/* One field of an anonymous structure: [ NAME ":" ] type. */
static int
anon_field(struct parser *ps, struct idl_struct *st)
{
	struct idl_field *fl;
	int named = ps->tok.kind == T_NAME && peek_colon(ps);

	if (st->nfields > 0 && named != (st->fields[0].name != NULL))
		return idl_err(ps, ps->tok.pos, "name every field of "
		    "a structure, or none");
	if ((fl = idl_grow(&st->fields, &st->nfields, sizeof(*fl))) == NULL)
		return idl_err(ps, ps->tok.pos, "out of memory");
	fl->pos = ps->tok.pos;
	if (named && (idl_take_name(ps, "a field", 0, &fl->name,
	    &fl->pos) < 0 || idl_next(ps) < 0))	/* the ':' */
		return -1;
	return field_type(ps, st, fl);
}

/* "(" field { "," field } ")", the lookahead on "(". */
static struct idl_type *
anon_struct(struct parser *ps)
{
	struct idl_struct *st, **slot;
	struct idl_type *t;

	if ((t = new_type(ps, DOPY_STRUCT)) == NULL)
		return NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (slot = idl_grow(&ps->f->structs, &ps->f->nstructs,
	    sizeof(*slot))) == NULL) {
		free(st);
		free(t);
		idl_err(ps, ps->tok.pos, "out of memory");
		return NULL;
	}
	*slot = t->st = st;
	st->pos = ps->tok.pos;
	if (idl_next(ps) < 0)
		goto fail;
	for (;;) {
		if (anon_field(ps, st) < 0)
			goto fail;
		if (idl_is_punct(ps, ')'))
			break;
		if (idl_expect(ps, ',', "a field of a structure (or ')')") < 0)
			goto fail;
	}
	if (idl_next(ps) < 0)
		goto fail;
	return t;
fail:
	free(t);
	return NULL;
}

static const struct idl_struct *
struct_find(const struct idl_file *f, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < f->nstructs; i++)
		if (f->structs[i]->name != NULL &&
		    strlen(f->structs[i]->name) == len &&
		    strncmp(f->structs[i]->name, name, len) == 0)
			return f->structs[i];
	return NULL;
}

static struct idl_type *
base(struct parser *ps, int any_ok)
{
	const struct idl_struct *st;
	struct idl_type *t;
	size_t i;

	if (idl_is_punct(ps, '('))
		return anon_struct(ps);
	if (ps->tok.kind != T_NAME) {
		idl_perr(ps, ps->tok.pos, "expected a type");
		return NULL;
	}
	for (i = 0; i < NSCALARS && !idl_is_word(ps, scalars[i].name); i++)
		;
	if (i < NSCALARS && scalars[i].kind == DOPY_ANY && !any_ok) {
		idl_perr(ps, ps->tok.pos, ANY_WHERE);
		return NULL;
	}
	st = i < NSCALARS ? NULL : struct_find(ps->f, ps->tok.p, ps->tok.len);
	if (i == NSCALARS && st == NULL) {
		idl_err(ps, ps->tok.pos, "unknown type '%.*s'",
		    (int)ps->tok.len, ps->tok.p);
		return NULL;
	}
	if ((t = new_type(ps, st != NULL ? DOPY_STRUCT :
	    scalars[i].kind)) == NULL)
		return NULL;
	t->st = (struct idl_struct *)st;
	if (idl_next(ps) < 0) {
		free(t);
		return NULL;
	}
	return t;
}

/*
 * base { "[]" }.  Nesting counts as in dopy_type_parse(): one level for
 * the base, one per "[]"; a structure's fields are a level below it,
 * but they are scalars, so only the arrays can run out of room.
 */
struct idl_type *
idl_parse_type(struct parser *ps, int any_ok)
{
	struct idl_pos pos = ps->tok.pos;
	struct idl_type *t, *a;
	int levels = 1;

	if ((t = base(ps, any_ok)) == NULL)
		return NULL;
	while (idl_is_punct(ps, '[')) {
		if (idl_next(ps) < 0 ||
		    idl_expect(ps, ']', "'[' in a type") < 0)
			goto fail;
		if (t->kind == DOPY_ANY) {
			idl_perr(ps, pos, ANY_WHERE);
			goto fail;
		}
		if (++levels > IDL_MAX_DEPTH) {
			idl_err(ps, pos, "type nested too deeply (dopy(5) "
			    "allows %d levels)", IDL_MAX_DEPTH);
			goto fail;
		}
		if ((a = new_type(ps, DOPY_ARRAY)) == NULL)
			goto fail;
		a->elem = t;
		t = a;
	}
	return t;
fail:
	idl_type_free(t);
	return NULL;
}

/* "{" { [doc] NAME ":" type ";" } "}" of struct st. */
int
idl_struct_body(struct parser *ps, struct idl_struct *st)
{
	struct idl_field *fl;
	char after[160];
	char *doc;

	snprintf(after, sizeof(after), "struct %s", st->name);
	if (idl_expect(ps, '{', after) < 0)
		return -1;
	while (!idl_is_punct(ps, '}')) {
		if (ps->tok.kind == T_EOF)
			return idl_err(ps, ps->tok.pos, "expected '}' "
			    "at the end of struct %s", st->name);
		if (idl_take_doc(ps, &doc) < 0)
			return -1;
		if ((fl = idl_grow(&st->fields, &st->nfields,
		    sizeof(*fl))) == NULL) {
			free(doc);
			return idl_perr(ps, ps->tok.pos, "out of memory");
		}
		fl->doc = doc;
		if (idl_take_name(ps, "a field", 0, &fl->name, &fl->pos) < 0)
			return -1;
		snprintf(after, sizeof(after), "field %s", fl->name);
		if (idl_expect(ps, ':', after) < 0 ||
		    field_type(ps, st, fl) < 0)
			return -1;
		snprintf(after, sizeof(after), "field %s of struct %s",
		    fl->name, st->name);
		if (idl_expect(ps, ';', after) < 0)
			return -1;
	}
	if (st->nfields == 0)
		return idl_err(ps, st->pos, "struct %s has no fields",
		    st->name);
	return idl_next(ps);
}

int
idl_type_has_ref(const struct idl_type *t)
{
	size_t i;

	for (; t->kind == DOPY_ARRAY; t = t->elem)
		;
	if (t->kind == DOPY_STRUCT)
		for (i = 0; i < t->st->nfields; i++)
			if (t->st->fields[i].type->kind == DOPY_REF)
				return 1;
	return t->kind == DOPY_REF;
}

/* The tokens of a literal: a balanced run up to ',' or ')' at depth 0.
 * *b and *e span its text; *str takes a lone string's contents. */
static int
literal_span(struct parser *ps, const char *pname, const char **b,
    const char **e, char **str)
{
	int depth = 0, ntok = 0;

	*b = *e = ps->tok.p;
	while (depth > 0 || !(idl_is_punct(ps, ',') || idl_is_punct(ps, ')'))) {
		if (idl_is_punct(ps, '(') || idl_is_punct(ps, '['))
			depth++;
		else if (idl_is_punct(ps, ')') || idl_is_punct(ps, ']')) {
			if (depth-- == 0)
				return idl_perr(ps, ps->tok.pos, "unbalanced "
				    "']' in a default");
		} else if (!(depth > 0 && idl_is_punct(ps, ',')) &&
		    ps->tok.kind != T_NAME &&
		    ps->tok.kind != T_NUMBER && ps->tok.kind != T_STRING)
			return idl_err(ps, ps->tok.pos, "expected ',' or "
			    "')' after the default of parameter %s", pname);
		free(*str);
		*str = NULL;
		if (ntok++ == 0 && ps->tok.kind == T_STRING) {
			*str = ps->tok.s;
			ps->tok.s = NULL;
		}
		*e = ps->tok.p + ps->tok.len;
		if (idl_next(ps) < 0)
			return -1;
	}
	if (ntok == 0)
		return idl_err(ps, ps->tok.pos, "expected a value after "
		    "'=' for parameter %s", pname);
	return 0;
}

/* The value text in *def, checked by dopy_value_parse(). */
static int
check_value(struct parser *ps, struct idl_param *p, const char *text,
    struct idl_pos pos)
{
	dopy_type *t = NULL;
	dopy_value *v = NULL;
	char *tt, err[200] = "";

	if ((tt = idl_type_text(p->type)) != NULL &&
	    (t = dopy_type_parse(tt, err, sizeof(err))) != NULL &&
	    (v = dopy_value_parse(t, text, err, sizeof(err))) != NULL &&
	    (p->def = dopy_value_format(v)) == NULL)
		snprintf(err, sizeof(err), "out of memory");
	free(tt);
	dopy_type_free(t);
	dopy_value_free(v);
	if (p->def == NULL)
		return idl_err(ps, pos, "parameter %s: default: %s",
		    p->name, err[0] != '\0' ? err : "out of memory");
	return 0;
}

/* "=" literal, the lookahead after the '='. */
int
idl_parse_default(struct parser *ps, struct idl_param *p)
{
	struct idl_pos pos = ps->tok.pos;
	enum dopy_kind k = p->type->kind;
	const char *b, *e;
	char *str = NULL, *text;
	int r;

	if (literal_span(ps, p->name, &b, &e, &str) < 0) {
		free(str);
		return -1;
	}
	if (k == DOPY_ANY || idl_type_has_ref(p->type)) {
		free(str);
		return idl_err(ps, pos, "parameter %s: %s", p->name,
		    k == DOPY_ANY ? "a parameter of type any takes no default" :
		    "a ref takes no default (it names an object of one "
		    "connection)");
	}
	if (k == DOPY_STRING || k == DOPY_BYTES) {
		if (str == NULL)
			return idl_err(ps, pos, "parameter %s: a string "
			    "default is one double-quoted string", p->name);
		p->def = str;
		return 0;
	}
	free(str);
	if ((text = strndup(b, (size_t)(e - b))) == NULL)
		return idl_perr(ps, pos, "out of memory");
	r = check_value(ps, p, text, pos);
	free(text);
	return r;
}
