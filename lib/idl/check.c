/*
 * check.c - the checks that need a whole interface file, and freeing
 * it.  Errors may be declared after the methods that raise them, so
 * raises names resolve here, at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idl/parse.h"

static int
declared_in(const struct idl_error *e, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(e[i].name, name) == 0)
			return 1;
	return 0;
}

/*
 * A raises name becomes the full name of a declared error: NAME is
 * OBJ.NAME when the object declares it, else the top-level NAME; a
 * dotted name is the object's error written in full, or a top-level
 * one.  Other objects' errors are out of reach, so that the text of
 * one object (idl_print) declares all that it raises.
 */
static int
resolve(struct parser *ps, const struct raise_ref *r)
{
	struct idl_file *f = ps->f;
	struct idl_object *obj = &f->objects[r->obj];
	struct idl_method *m = &obj->methods[r->meth];
	char *name = m->raises[r->i], *full;
	size_t j;

	if ((full = idl_printf("%s.%s", obj->name, name)) == NULL)
		return idl_perr(ps, r->pos, "out of memory");
	if (declared_in(obj->errors, obj->nerrors, full)) {
		free(name);
		m->raises[r->i] = name = full;
	} else {
		free(full);
		if (!declared_in(f->errors, f->nerrors, name) &&
		    !declared_in(obj->errors, obj->nerrors, name))
			return idl_err(ps, r->pos, "error '%s' raised "
			    "by %s.%s is not declared%s", name, obj->name,
			    m->name, idl_error_find(f, name) == NULL ? "" :
			    " here (it is another object's: declare it at the "
			    "top level to share it)");
	}
	for (j = 0; j < r->i; j++)
		if (strcmp(m->raises[j], name) == 0)
			return idl_err(ps, r->pos, "error '%s' is raised "
			    "twice by %s.%s", name, obj->name, m->name);
	return 0;
}

/* OBJ.X next to a top-level X would make "raises X" mean two things. */
static int
shadows(struct parser *ps, const struct idl_object *obj)
{
	const struct idl_error *e;
	size_t i, skip = strlen(obj->name) + 1;

	for (i = 0; i < obj->nerrors; i++) {
		e = &obj->errors[i];
		if (declared_in(ps->f->errors, ps->f->nerrors, e->name + skip))
			return idl_err(ps, e->pos, "error %s of %s hides "
			    "the top-level error %s", e->name + skip,
			    obj->name, e->name + skip);
	}
	return 0;
}

/* Attribute NAME makes C accessors OBJ_get_NAME and OBJ_set_NAME
 * (dopy-idl(1)), which a method get_NAME or set_NAME would collide with
 * (on the wire they are get:NAME and set:NAME, which no method name,
 * a C identifier, can be). */
static int
accessors(struct parser *ps, const struct idl_object *obj)
{
	const struct idl_method *m;
	const char *a;
	size_t i, j;

	for (i = 0; i < obj->nmethods; i++) {
		m = &obj->methods[i];
		if (strncmp(m->name, "get_", 4) != 0 &&
		    strncmp(m->name, "set_", 4) != 0)
			continue;
		for (j = 0; j < obj->nattrs; j++) {
			a = obj->attrs[j].name;
			if (strcmp(m->name + 4, a) == 0)
				return idl_err(ps, m->pos, "method %s of "
				    "%s clashes with attr %s, whose accessors "
				    "are get_%s and set_%s", m->name, obj->name,
				    a, a, a);
		}
	}
	return 0;
}

int
idl_check(struct parser *ps)
{
	size_t i;

	for (i = 0; i < ps->f->nobjects; i++)
		if (shadows(ps, &ps->f->objects[i]) < 0 ||
		    accessors(ps, &ps->f->objects[i]) < 0)
			return -1;
	for (i = 0; i < ps->nraises; i++)
		if (resolve(ps, &ps->raises[i]) < 0)
			return -1;
	return 0;
}

/* ---- freeing ---- */

static void
errors_free(struct idl_error *e, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(e[i].name);
		free(e[i].doc);
	}
	free(e);
}

static void
method_free(struct idl_method *m)
{
	size_t i;

	free(m->name);
	free(m->doc);
	for (i = 0; i < m->nparams; i++) {
		free(m->params[i].name);
		idl_type_free(m->params[i].type);
		free(m->params[i].def);
	}
	free(m->params);
	free(m->sandbox);
	if (m->upload != NULL) {
		free(m->upload->name);
		idl_type_free(m->upload->type);
		free(m->upload);
	}
	idl_type_free(m->result);
	for (i = 0; i < m->nraises; i++)
		free(m->raises[i]);
	free(m->raises);
}

static void
object_free(struct idl_object *obj)
{
	size_t i;

	free(obj->name);
	free(obj->doc);
	idl_type_free(obj->state);
	for (i = 0; i < obj->nmethods; i++)
		method_free(&obj->methods[i]);
	free(obj->methods);
	for (i = 0; i < obj->nattrs; i++) {
		free(obj->attrs[i].name);
		idl_type_free(obj->attrs[i].type);
		free(obj->attrs[i].doc);
	}
	free(obj->attrs);
	errors_free(obj->errors, obj->nerrors);
}

static void
struct_free(struct idl_struct *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < st->nfields; i++) {
		free(st->fields[i].name);
		idl_type_free(st->fields[i].type);
		free(st->fields[i].doc);
	}
	free(st->fields);
	free(st->name);
	free(st->doc);
	free(st);
}

void
idl_free(struct idl_file *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->nobjects; i++)
		object_free(&f->objects[i]);
	free(f->objects);
	for (i = 0; i < f->nstructs; i++)
		struct_free(f->structs[i]);
	free(f->structs);
	errors_free(f->errors, f->nerrors);
	free(f->path);
	free(f);
}
