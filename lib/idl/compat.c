/*
 * compat.c - whether a new version of an interface breaks clients of
 * the old one (dopy-idl(5), "Evolving an interface").  The test is the
 * wire: a change breaks when a call an old client makes, or a reply it
 * reads, no longer means the same; documentation, names the wire does
 * not carry, and what old clients never send or see are compatible.
 * Every difference is reported, in the order of the old file, then
 * what is new.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idl/lex.h"

struct cmp {
	FILE	*out;
	int	 breaking;
};

static void say(struct cmp *, int breaking, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(struct cmp *c, int breaking, const char *fmt, ...)
{
	va_list ap;

	c->breaking += breaking;
	fputs(breaking ? "breaking: " : "compatible: ", c->out);
	va_start(ap, fmt);
	vfprintf(c->out, fmt, ap);
	va_end(ap);
	fputc('\n', c->out);
}

/* Types: the wire's shape decides; names alone are compatible. */
static void
cmp_type(struct cmp *c, const char *where, const struct idl_type *o,
    const struct idl_type *n, const char *why)
{
	char *ow = idl_wire_text(o), *nw = idl_wire_text(n);
	char *ot = idl_type_text(o), *nt = idl_type_text(n);

	if (ow == NULL || nw == NULL || ot == NULL || nt == NULL)
		say(c, 1, "%s: out of memory comparing types", where);
	else if (strcmp(ow, nw) != 0)
		say(c, 1, "%s: type %s changed to %s%s", where, ot, nt, why);
	else if (strcmp(ot, nt) != 0)
		say(c, 0, "%s: type %s is now %s: field renamed (the wire "
		    "carries no names)", where, ot, nt);
	free(ow);
	free(nw);
	free(ot);
	free(nt);
}

static void
cmp_errors(struct cmp *c, const char *where, const struct idl_error *o,
    size_t no, const struct idl_error *n, size_t nn)
{
	size_t i, j;

	for (i = 0; i < no; i++) {
		for (j = 0; j < nn && strcmp(o[i].name, n[j].name) != 0; j++)
			;
		if (j == nn)
			say(c, 0, "%serror %s no longer declared", where,
			    o[i].name);
	}
	for (j = 0; j < nn; j++) {
		for (i = 0; i < no && strcmp(o[i].name, n[j].name) != 0; i++)
			;
		if (i == no)
			say(c, 0, "%snew error %s", where, n[j].name);
	}
}

static int
param_find(const struct idl_method *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nparams; i++)
		if (strcmp(m->params[i].name, name) == 0)
			return (int)i;
	return -1;
}

static void
cmp_default(struct cmp *c, const char *where, const struct idl_param *o,
    const struct idl_param *n)
{
	char *ol = o->def ? idl_literal(o->type, o->def) : NULL;
	char *nl = n->def ? idl_literal(n->type, n->def) : NULL;

	if (o->def != NULL && n->def == NULL)
		say(c, 1, "%s: parameter %s: default %s removed", where,
		    o->name, ol ? ol : "?");
	else if (o->def == NULL && n->def != NULL)
		say(c, 0, "%s: parameter %s: now defaults to %s", where,
		    n->name, nl ? nl : "?");
	else if (o->def != NULL && strcmp(o->def, n->def) != 0)
		say(c, 0, "%s: parameter %s: default %s changed to %s", where,
		    o->name, ol ? ol : "?", nl ? nl : "?");
	free(ol);
	free(nl);
}

/* An old parameter against the new method: by name, else as renamed
 * when its place holds a name the old method did not have. */
static void
cmp_param(struct cmp *c, const char *where, const struct idl_method *om,
    size_t i, const struct idl_method *nm)
{
	const struct idl_param *op = &om->params[i];
	char what[600];
	int j;

	if ((j = param_find(nm, op->name)) < 0) {
		if (i < nm->nparams &&
		    param_find(om, nm->params[i].name) < 0) {
			say(c, 1, "%s: parameter %s renamed to %s (callers "
			    "may name it)", where, op->name,
			    nm->params[i].name);
			return;
		}
		say(c, 1, "%s: parameter %s removed", where, op->name);
		return;
	}
	if ((size_t)j != i)
		say(c, 1, "%s: parameter %s moved from position %zu to %d",
		    where, op->name, i + 1, j + 1);
	snprintf(what, sizeof(what), "%s: parameter %s", where, op->name);
	cmp_type(c, what, op->type, nm->params[j].type, "");
	cmp_default(c, where, op, &nm->params[j]);
}

static void
cmp_params(struct cmp *c, const char *where, const struct idl_method *om,
    const struct idl_method *nm)
{
	const struct idl_param *np;
	size_t i;
	char *lit;

	for (i = 0; i < om->nparams; i++)
		cmp_param(c, where, om, i, nm);
	for (i = 0; i < nm->nparams; i++) {
		np = &nm->params[i];
		if (param_find(om, np->name) >= 0 || (i < om->nparams &&
		    param_find(nm, om->params[i].name) < 0))
			continue;		/* old, or a renamed one */
		if (np->def == NULL) {
			say(c, 1, "%s: new parameter %s without a default (old "
			    "callers do not send it)", where, np->name);
			continue;
		}
		lit = idl_literal(np->type, np->def);
		say(c, 0, "%s: new parameter %s = %s", where, np->name,
		    lit ? lit : "?");
		free(lit);
	}
}

static int
raises(const struct idl_method *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nraises; i++)
		if (strcmp(m->raises[i], name) == 0)
			return 1;
	return 0;
}

/* Old callers send the items the old upload took, or none. */
static void
cmp_upload(struct cmp *c, const char *where, const struct idl_method *om,
    const struct idl_method *nm)
{
	char what[600];

	if (om->upload != NULL && nm->upload != NULL) {
		snprintf(what, sizeof(what), "%s: upload %s", where,
		    nm->upload->name);
		cmp_type(c, what, om->upload->type, nm->upload->type, "");
	} else if (om->upload != NULL || nm->upload != NULL)
		say(c, 1, "%s: upload %s %s", where, om->upload ?
		    om->upload->name : nm->upload->name, om->upload ?
		    "removed" : "added");
}

static void
cmp_result(struct cmp *c, const char *where, const struct idl_method *om,
    const struct idl_method *nm)
{
	char what[600], *t;

	/* A client reads items or one result, never both. */
	if (om->result != NULL && nm->result != NULL &&
	    om->stream != nm->stream)
		say(c, 1, "%s: result %s", where, nm->stream ?
		    "now streams" : "no longer streams");
	else if (om->result != NULL && nm->result != NULL) {
		snprintf(what, sizeof(what), "%s: result", where);
		cmp_type(c, what, om->result, nm->result, "");
	} else if (om->result != NULL || nm->result != NULL) {
		t = idl_type_text(om->result ? om->result : nm->result);
		say(c, 1, "%s: result %s %s", where, t ? t : "?",
		    om->result ? "removed" : "added");
		free(t);
	}
}

/* Where a method runs is the server's business: the wire is the same,
 * only what the method may do changes (dopy-idl(5)). */
static void
cmp_isolated(struct cmp *c, const char *where, int old, int new)
{
	if (old == new)
		return;
	if (old == 0)
		say(c, 0, "%s: now isolated with a grace of %d ms (each call "
		    "runs in a child process, and what it changes in memory "
		    "is lost)", where, new);
	else if (new == 0)
		say(c, 0, "%s: no longer isolated", where);
	else
		say(c, 0, "%s: isolated with a grace of %d ms, was %d ms",
		    where, new, old);
}

/* A sandbox too is the server's business (dopy-idl(5)). */
static void
cmp_sandbox(struct cmp *c, const char *where, const char *old,
    const char *new)
{
	if (old == NULL && new == NULL)
		return;
	if (old == NULL)
		say(c, 0, "%s: now sandboxed: %s", where, new);
	else if (new == NULL)
		say(c, 0, "%s: no longer sandboxed", where);
	else if (strcmp(old, new) != 0)
		say(c, 0, "%s: sandboxed %s, was %s", where, new, old);
}

static void
cmp_method(struct cmp *c, const char *obj, const struct idl_method *om,
    const struct idl_method *nm)
{
	char where[256];
	size_t i;

	snprintf(where, sizeof(where), "%s.%s", obj, om->name);
	if (om->oneway != nm->oneway)
		say(c, 1, "%s: %s oneway", where, nm->oneway ? "now" :
		    "no longer");
	if (om->readonly != nm->readonly)
		say(c, 0, "%s: %s", where, nm->readonly ? "now read-only (the "
		    "changes it makes to the state are dropped)" :
		    "no longer read-only");
	cmp_isolated(c, where, om->isolated, nm->isolated);
	cmp_sandbox(c, where, om->sandbox, nm->sandbox);
	cmp_params(c, where, om, nm);
	cmp_upload(c, where, om, nm);
	cmp_result(c, where, om, nm);
	for (i = 0; i < om->nraises; i++)
		if (!raises(nm, om->raises[i]))
			say(c, 0, "%s: no longer raises %s", where,
			    om->raises[i]);
	for (i = 0; i < nm->nraises; i++)
		if (!raises(om, nm->raises[i]))
			say(c, 0, "%s: now raises %s", where, nm->raises[i]);
}

static const struct idl_method *
method_find(const struct idl_object *obj, const char *name)
{
	size_t i;

	for (i = 0; i < obj->nmethods; i++)
		if (strcmp(obj->methods[i].name, name) == 0)
			return &obj->methods[i];
	return NULL;
}

static const struct idl_attr *
attr_find(const struct idl_object *obj, const char *name)
{
	size_t i;

	for (i = 0; i < obj->nattrs; i++)
		if (strcmp(obj->attrs[i].name, name) == 0)
			return &obj->attrs[i];
	return NULL;
}

static void
cmp_attrs(struct cmp *c, const struct idl_object *o,
    const struct idl_object *n)
{
	const struct idl_attr *oa, *na;
	char where[256];
	size_t i;

	for (i = 0; i < o->nattrs; i++) {
		oa = &o->attrs[i];
		snprintf(where, sizeof(where), "%s: attr %s", o->name,
		    oa->name);
		if ((na = attr_find(n, oa->name)) == NULL) {
			say(c, 1, "%s removed", where);
			continue;
		}
		cmp_type(c, where, oa->type, na->type, "");
		if (oa->writable != na->writable)
			say(c, oa->writable, "%s: %s", where, oa->writable ?
			    "no longer writable" : "now writable");
	}
	for (i = 0; i < n->nattrs; i++)
		if (attr_find(o, n->attrs[i].name) == NULL)
			say(c, 0, "%s: new attr %s", n->name,
			    n->attrs[i].name);
}

static void
cmp_object(struct cmp *c, const struct idl_object *o,
    const struct idl_object *n)
{
	const struct idl_method *nm;
	char where[256];
	size_t i;

	if (o->is_class != n->is_class) {
		say(c, 1, "%s: %s", o->name, o->is_class ? "class became an "
		    "object" : "object became a class");
		return;
	}
	snprintf(where, sizeof(where), "%s: state", o->name);
	if (o->is_class)
		cmp_type(c, where, o->state, n->state, " (stored objects no "
		    "longer load)");
	snprintf(where, sizeof(where), "%s: ", o->name);
	cmp_errors(c, where, o->errors, o->nerrors, n->errors, n->nerrors);
	cmp_attrs(c, o, n);
	for (i = 0; i < o->nmethods; i++) {
		if ((nm = method_find(n, o->methods[i].name)) == NULL)
			say(c, 1, "%s: method %s removed", o->name,
			    o->methods[i].name);
		else
			cmp_method(c, o->name, &o->methods[i], nm);
	}
	for (i = 0; i < n->nmethods; i++)
		if (method_find(o, n->methods[i].name) == NULL)
			say(c, 0, "%s: new method %s", n->name,
			    n->methods[i].name);
}

static const struct idl_struct *
struct_find(const struct idl_file *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->nstructs; i++)
		if (f->structs[i]->name != NULL &&
		    strcmp(f->structs[i]->name, name) == 0)
			return f->structs[i];
	return NULL;
}

/* Named structures: what changes their shape shows where they are
 * used; here, only what the uses would not tell. */
static void
cmp_structs(struct cmp *c, const struct idl_file *old,
    const struct idl_file *new)
{
	const struct idl_struct *os, *ns;
	size_t i;

	for (i = 0; i < old->nstructs; i++)
		if ((os = old->structs[i])->name != NULL &&
		    struct_find(new, os->name) == NULL)
			say(c, 0, "struct %s removed (its uses tell whether "
			    "that matters)", os->name);
	for (i = 0; i < new->nstructs; i++)
		if ((ns = new->structs[i])->name != NULL &&
		    struct_find(old, ns->name) == NULL)
			say(c, 0, "new struct %s", ns->name);
}

int
idl_compat(const struct idl_file *old, const struct idl_file *new,
    FILE *out)
{
	struct cmp c = { out, 0 };
	const struct idl_object *n;
	size_t i;

	cmp_structs(&c, old, new);
	cmp_errors(&c, "", old->errors, old->nerrors, new->errors,
	    new->nerrors);
	for (i = 0; i < old->nobjects; i++) {
		if ((n = idl_object_find(new, old->objects[i].name)) == NULL)
			say(&c, 1, "%s: %s removed", old->objects[i].name,
			    old->objects[i].is_class ? "class" : "object");
		else
			cmp_object(&c, &old->objects[i], n);
	}
	for (i = 0; i < new->nobjects; i++)
		if (idl_object_find(old, new->objects[i].name) == NULL)
			say(&c, 0, "new %s %s", new->objects[i].is_class ?
			    "class" : "object", new->objects[i].name);
	return c.breaking;
}
