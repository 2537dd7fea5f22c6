/*
 * member.c - objects and classes, and their members: attributes and
 * methods with their parameters (errors are parse.c's).  Names must be
 * unique where they would meet on the wire or in generated C.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idl/parse.h"

static const char *
kind(const struct idl_object *obj)
{
	return obj->is_class ? "class" : "object";
}

/* "state" ":" type ";" opens a class. */
static int
class_state(struct parser *ps, struct idl_object *obj)
{
	char after[160];

	if (!idl_is_word(ps, "state"))
		return idl_err(ps, ps->tok.pos, "class %s: expected "
		    "'state: TYPE;' first", obj->name);
	if (idl_next(ps) < 0 || idl_expect(ps, ':', "state") < 0 ||
	    (obj->state = idl_parse_type(ps, 0)) == NULL)
		return -1;
	snprintf(after, sizeof(after), "the state of class %s", obj->name);
	return idl_expect(ps, ';', after);
}

/* "object" NAME "{" members "}", or a class; the lookahead on the word. */
int
idl_object_decl(struct parser *ps, char *doc)
{
	struct idl_object *obj;
	struct idl_pos pos;
	int is_class = idl_is_word(ps, "class");
	char *name = NULL, after[160];

	if (idl_next(ps) < 0 || idl_take_name(ps, is_class ? "a class" :
	    "an object", 1, &name, &pos) < 0 ||
	    idl_dup_name(ps, name, pos) < 0 ||
	    (obj = idl_grow(&ps->f->objects, &ps->f->nobjects,
	    sizeof(*obj))) == NULL) {
		free(name);
		free(doc);
		return -1;
	}
	obj->name = name;
	obj->doc = doc;
	obj->pos = pos;
	obj->is_class = is_class;
	snprintf(after, sizeof(after), "%s %s", kind(obj), name);
	if (idl_expect(ps, '{', after) < 0 ||
	    (is_class && class_state(ps, obj) < 0))
		return -1;
	while (!idl_is_punct(ps, '}')) {
		if (ps->tok.kind == T_EOF)
			return idl_err(ps, ps->tok.pos, "expected '}' "
			    "at the end of %s %s", kind(obj), obj->name);
		if (idl_member(ps, obj) < 0)
			return -1;
	}
	return idl_next(ps);
}

int
idl_attr_decl(struct parser *ps, struct idl_object *obj, char *doc)
{
	struct idl_attr *a;
	char after[160];
	size_t i;

	if ((a = idl_grow(&obj->attrs, &obj->nattrs, sizeof(*a))) == NULL) {
		free(doc);
		return idl_perr(ps, ps->tok.pos, "out of memory");
	}
	a->doc = doc;
	if (idl_next(ps) < 0)
		return -1;
	if (idl_is_word(ps, "writable")) {
		a->writable = 1;
		if (idl_next(ps) < 0)
			return -1;
	}
	if (idl_take_name(ps, "an attribute", 1, &a->name, &a->pos) < 0)
		return -1;
	for (i = 0; i + 1 < obj->nattrs; i++)
		if (strcmp(obj->attrs[i].name, a->name) == 0)
			return idl_err(ps, a->pos, "duplicate attr '%s' "
			    "in %s %s", a->name, kind(obj), obj->name);
	snprintf(after, sizeof(after), "attr %s", a->name);
	if (idl_expect(ps, ':', after) < 0 ||
	    (a->type = idl_parse_type(ps, 1)) == NULL)
		return -1;
	return idl_expect(ps, ';', after);
}

/* The parameter just parsed, "NAME: stream T", becomes m's upload:
 * last, without a default, holding no ref (dopy(5), Uploads). */
static int
upload(struct parser *ps, struct idl_method *m)
{
	struct idl_param *p = &m->params[m->nparams - 1];

	if (idl_is_punct(ps, '='))
		return idl_err(ps, ps->tok.pos, "stream parameter %s cannot "
		    "have a default", p->name);
	if (!idl_is_punct(ps, ')'))
		return idl_err(ps, ps->tok.pos, "stream parameter %s must be "
		    "the last", p->name);
	if (idl_type_has_ref(p->type))
		return idl_err(ps, p->pos, "stream parameter %s cannot hold "
		    "a ref (items are not checked as arguments are)",
		    p->name);
	if ((m->upload = malloc(sizeof(*m->upload))) == NULL)
		return idl_perr(ps, p->pos, "out of memory");
	*m->upload = *p;
	m->nparams--;
	return 0;
}

/* NAME ":" [ "stream" ] type [ "=" literal ] */
static int
param(struct parser *ps, struct idl_method *m)
{
	struct idl_param *p;
	char after[160];
	size_t i;
	int stream;

	if (m->nparams == IDL_MAX_ARGS)
		return idl_err(ps, ps->tok.pos, "method %s has more "
		    "than %d parameters (dopy(5))", m->name, IDL_MAX_ARGS);
	if ((p = idl_grow(&m->params, &m->nparams, sizeof(*p))) == NULL)
		return idl_perr(ps, ps->tok.pos, "out of memory");
	if (idl_take_name(ps, "a parameter", -1, &p->name, &p->pos) < 0)
		return -1;
	for (i = 0; i + 1 < m->nparams; i++)
		if (strcmp(m->params[i].name, p->name) == 0)
			return idl_err(ps, p->pos, "parameter '%s' is "
			    "declared twice in method %s", p->name, m->name);
	snprintf(after, sizeof(after), "parameter %s", p->name);
	if (idl_expect(ps, ':', after) < 0)
		return -1;
	if ((stream = idl_is_word(ps, "stream")) && idl_next(ps) < 0)
		return -1;
	if ((p->type = idl_parse_type(ps, 1)) == NULL)
		return -1;
	if (stream)
		return upload(ps, m);
	if (!idl_is_punct(ps, '='))
		return 0;
	return idl_next(ps) < 0 ? -1 : idl_parse_default(ps, p);
}

/* "(" [ param { "," param } ] ")" */
static int
params(struct parser *ps, struct idl_method *m)
{
	char after[160];

	snprintf(after, sizeof(after), "method %s", m->name);
	if (idl_expect(ps, '(', after) < 0)
		return -1;
	while (!idl_is_punct(ps, ')')) {
		if (param(ps, m) < 0)
			return -1;
		if (idl_is_punct(ps, ')'))
			break;
		snprintf(after, sizeof(after), "parameter %s",
		    m->params[m->nparams - 1].name);
		if (!idl_is_punct(ps, ','))
			return idl_err(ps, ps->tok.pos, "expected ',' "
			    "or ')' after %s", after);
		if (idl_next(ps) < 0)
			return -1;
	}
	return idl_next(ps);
}

/* "raises" ename { "," ename }, resolved by check.c at the end. */
static int
raises(struct parser *ps, struct idl_method *m)
{
	struct raise_ref *r;
	char **slot;

	do {
		if (idl_next(ps) < 0)
			return -1;
		if (ps->tok.kind != T_NAME)
			return idl_perr(ps, ps->tok.pos, "expected the name "
			    "of an error after raises");
		if ((r = idl_grow(&ps->raises, &ps->nraises,
		    sizeof(*r))) == NULL || (slot = idl_grow(&m->raises,
		    &m->nraises, sizeof(*slot))) == NULL ||
		    (*slot = strndup(ps->tok.p, ps->tok.len)) == NULL)
			return idl_perr(ps, ps->tok.pos, "out of memory");
		r->obj = ps->f->nobjects - 1;
		r->meth = (size_t)-1;		/* set by the caller */
		r->i = m->nraises - 1;
		r->pos = ps->tok.pos;
		if (idl_next(ps) < 0)
			return -1;
	} while (idl_is_punct(ps, ','));
	return 0;
}

/* What follows the parameters: [ "->" type ] [ raises ] ";" */
static int
method_tail(struct parser *ps, struct idl_method *m)
{
	char after[160];
	size_t i, first = ps->nraises;

	if (m->upload != NULL && m->oneway)
		return idl_err(ps, m->upload->pos, "oneway method %s cannot "
		    "take an upload (its items would carry call id 0)",
		    m->name);
	if (m->upload != NULL && m->isolated)
		return idl_err(ps, m->upload->pos, "isolated method %s cannot "
		    "take an upload (its items come to the connection's "
		    "process)", m->name);
	if (ps->tok.kind == T_ARROW) {
		if (m->oneway)
			return idl_err(ps, ps->tok.pos, "oneway method "
			    "%s cannot have a result (no reply comes back)",
			    m->name);
		if (idl_next(ps) < 0)
			return -1;
		/* "stream T": items of T, then the end (dopy(5)). */
		if (idl_is_word(ps, "stream")) {
			if (m->upload != NULL)
				return idl_err(ps, ps->tok.pos, "method %s "
				    "takes an upload: it cannot stream its "
				    "results too", m->name);
			m->stream = 1;
			if (idl_next(ps) < 0)
				return -1;
		}
		if ((m->result = idl_parse_type(ps, 1)) == NULL)
			return -1;
	}
	if (idl_is_word(ps, "raises")) {
		if (m->oneway)
			return idl_err(ps, ps->tok.pos, "oneway method "
			    "%s cannot raise errors (no reply comes back)",
			    m->name);
		if (raises(ps, m) < 0)
			return -1;
	}
	for (i = first; i < ps->nraises; i++)
		ps->raises[i].meth = ps->f->objects[ps->f->nobjects - 1].
		    nmethods - 1;
	snprintf(after, sizeof(after), "method %s", m->name);
	return idl_expect(ps, ';', after);
}

/* The sandbox of isolated(..., "SPEC"): its text, checked when the
 * server registers the method (dopy_server_set_sandbox), as -M's is. */
static int
sandbox(struct parser *ps, struct idl_method *m)
{
	if (ps->tok.kind != T_STRING || ps->tok.s == NULL ||
	    ps->tok.s[0] == '\0')
		return idl_err(ps, ps->tok.pos, "expected a sandbox in quotes, "
		    "such as \"compute,cpu=10\" (dopyd(8) -M)");
	m->sandbox = ps->tok.s;
	ps->tok.s = NULL;
	if (idl_next(ps) < 0)
		return -1;
	return idl_expect(ps, ')', "the sandbox of isolated");
}

/* isolated(GRACE), isolated("SPEC") or isolated(GRACE, "SPEC"), the
 * word and '(' read: the grace in decimal milliseconds, up to an hour
 * (more would be a typo); the default with a sandbox alone. */
static int
grace(struct parser *ps, struct idl_method *m)
{
	char digits[16];
	const char *errstr = NULL;

	if (ps->tok.kind == T_STRING) {
		m->isolated = IDL_GRACE_DEFAULT;
		return sandbox(ps, m);
	}
	if (ps->tok.kind == T_NUMBER && ps->tok.len < sizeof(digits) &&
	    strspn(ps->tok.p, "0123456789") >= ps->tok.len) {
		memcpy(digits, ps->tok.p, ps->tok.len);
		digits[ps->tok.len] = '\0';
		m->isolated = (int)strtonum(digits, 1, IDL_GRACE_MAX, &errstr);
	}
	if (m->isolated == 0)
		return idl_err(ps, ps->tok.pos, "expected the grace in "
		    "milliseconds, 1 to %d, or a sandbox in quotes, after "
		    "'isolated('", IDL_GRACE_MAX);
	if (idl_next(ps) < 0)
		return -1;
	if (!idl_is_punct(ps, ','))
		return idl_expect(ps, ')', "the grace of isolated");
	return idl_next(ps) < 0 ? -1 : sandbox(ps, m);
}

/*
 * "isolated" [ "(" GRACE ")" ], the lookahead on the word.  Only an
 * object's methods: dopy_server_set_isolated names an object, and the
 * objects of a class (dopy-pos(7)) are made per call from the store.
 */
static int
isolated(struct parser *ps, const struct idl_object *obj,
    struct idl_method *m)
{
	if (obj->is_class)
		return idl_err(ps, ps->tok.pos, "isolated is for the methods "
		    "of an object, and %s is a class (dopy-pos(7))",
		    obj->name);
	m->isolated = IDL_GRACE_DEFAULT;
	if (idl_next(ps) < 0)
		return -1;
	if (!idl_is_punct(ps, '('))
		return 0;
	m->isolated = 0;
	return idl_next(ps) < 0 ? -1 : grace(ps, m);
}

/* The words before a method's name: [ isolated ] [ oneway | readonly ]. */
static int
modifiers(struct parser *ps, const struct idl_object *obj,
    struct idl_method *m)
{
	struct idl_pos pos = ps->tok.pos;

	if (idl_is_word(ps, "isolated") && isolated(ps, obj, m) < 0)
		return -1;
	if (idl_is_word(ps, "readonly") && !obj->is_class)
		return idl_err(ps, ps->tok.pos, "readonly is for the "
		    "methods of a class (dopy-pos(7)), and %s is an object",
		    obj->name);
	m->oneway = idl_is_word(ps, "oneway");
	m->readonly = idl_is_word(ps, "readonly");
	if ((m->oneway || m->readonly) && idl_next(ps) < 0)
		return -1;
	if (idl_is_word(ps, "isolated") && m->isolated)
		return idl_err(ps, ps->tok.pos, "isolated is given twice");
	if (idl_is_word(ps, "isolated") && obj->is_class)
		return isolated(ps, obj, m);	/* says why not */
	if (idl_is_word(ps, "isolated"))
		return idl_err(ps, ps->tok.pos, "isolated comes first: "
		    "isolated %s NAME(...)", m->oneway ? "oneway" : "readonly");
	/* What would read as a method named attr or error. */
	if ((m->isolated || m->oneway || m->readonly) &&
	    (idl_is_word(ps, "attr") || idl_is_word(ps, "error")))
		return idl_err(ps, pos, "%s is for methods, not for an %.*s",
		    m->isolated ? "isolated" : m->oneway ? "oneway" :
		    "readonly", (int)ps->tok.len, ps->tok.p);
	return 0;
}

int
idl_method_decl(struct parser *ps, struct idl_object *obj, char *doc)
{
	struct idl_method *m;
	size_t i;

	if ((m = idl_grow(&obj->methods, &obj->nmethods,
	    sizeof(*m))) == NULL) {
		free(doc);
		return idl_perr(ps, ps->tok.pos, "out of memory");
	}
	m->doc = doc;
	m->pos = ps->tok.pos;
	if (modifiers(ps, obj, m) < 0)
		return -1;
	if (ps->tok.kind != T_NAME)
		return idl_err(ps, ps->tok.pos, "expected a method, "
		    "attr or error in %s %s", kind(obj), obj->name);
	if (idl_take_name(ps, "a method", 1, &m->name, &m->pos) < 0)
		return -1;
	for (i = 0; i + 1 < obj->nmethods; i++)
		if (strcmp(obj->methods[i].name, m->name) == 0)
			return idl_err(ps, m->pos, "duplicate method "
			    "'%s' in %s %s", m->name, kind(obj), obj->name);
	if (params(ps, m) < 0)
		return -1;
	return method_tail(ps, m);
}
