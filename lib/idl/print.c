/*
 * print.c - the canonical text of an interface: what a server publishes
 * through dopy.interface, and what idl_parse() reads back to the same
 * tree.  One form for every input, so that texts compare byte for byte:
 * declarations in a fixed order, one per line, tab-indented, one blank
 * line between top-level ones, defaults as dopy's value text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idl/lex.h"

struct printer {
	FILE				*o;
	const struct idl_file		*f;
	const struct idl_object		*only;	/* or NULL: all */
	int				 started;
};

/* Before each top-level declaration but the first: a blank line. */
static void
top(struct printer *p)
{
	if (p->started)
		fputc('\n', p->o);
	p->started = 1;
}

static void
doc(FILE *o, const char *doc, const char *indent)
{
	const char *e;

	for (; doc != NULL; doc = *e != '\0' ? e + 1 : NULL) {
		e = doc + strcspn(doc, "\n");
		if (e == doc)
			fprintf(o, "%s##\n", indent);
		else
			fprintf(o, "%s## %.*s\n", indent, (int)(e - doc), doc);
	}
}

/* Named structures by name, anonymous ones as dopy's type text. */
static void
type(FILE *o, const struct idl_type *t)
{
	char *text;

	if (t->kind == DOPY_ARRAY) {
		type(o, t->elem);
		fputs("[]", o);
	} else if (t->kind == DOPY_STRUCT && t->st->name != NULL)
		fputs(t->st->name, o);
	else if (t->kind == DOPY_STRUCT) {
		if ((text = idl_type_text(t)) == NULL)
			fputc('\0', o);		/* spoils the text */
		else
			fputs(text, o);
		free(text);
	} else
		fputs(idl_kind_name(t->kind), o);
}

static int
type_uses(const struct idl_type *t, const struct idl_struct *st)
{
	while (t != NULL && t->kind == DOPY_ARRAY)
		t = t->elem;
	return t != NULL && t->kind == DOPY_STRUCT && t->st == st;
}

/* Whether the object's text needs structure st declared. */
static int
object_uses_struct(const struct idl_object *obj, const struct idl_struct *st)
{
	const struct idl_method *m;
	size_t i, j;

	if (type_uses(obj->state, st))
		return 1;
	for (i = 0; i < obj->nattrs; i++)
		if (type_uses(obj->attrs[i].type, st))
			return 1;
	for (i = 0; i < obj->nmethods; i++) {
		m = &obj->methods[i];
		if (type_uses(m->result, st) || (m->upload != NULL &&
		    type_uses(m->upload->type, st)))
			return 1;
		for (j = 0; j < m->nparams; j++)
			if (type_uses(m->params[j].type, st))
				return 1;
	}
	return 0;
}

static int
object_raises(const struct idl_object *obj, const char *name)
{
	size_t i, j;

	for (i = 0; i < obj->nmethods; i++)
		for (j = 0; j < obj->methods[i].nraises; j++)
			if (strcmp(obj->methods[i].raises[j], name) == 0)
				return 1;
	return 0;
}

static void
print_struct(struct printer *p, const struct idl_struct *st)
{
	size_t i;

	top(p);
	doc(p->o, st->doc, "");
	fprintf(p->o, "struct %s {\n", st->name);
	for (i = 0; i < st->nfields; i++) {
		doc(p->o, st->fields[i].doc, "\t");
		fprintf(p->o, "\t%s: ", st->fields[i].name);
		type(p->o, st->fields[i].type);
		fputs(";\n", p->o);
	}
	fputs("}\n", p->o);
}

/* An error of obj by its short name, as "raises" finds it again. */
static const char *
short_name(const struct idl_object *obj, const char *name)
{
	size_t i, n = strlen(obj->name);

	for (i = 0; i < obj->nerrors; i++)
		if (strcmp(obj->errors[i].name, name) == 0 &&
		    strncmp(name, obj->name, n) == 0 && name[n] == '.')
			return name + n + 1;
	return name;
}

/* isolated, isolated(GRACE), isolated("SPEC"), isolated(GRACE, "SPEC"):
 * the default grace goes without saying. */
static void
print_isolated(FILE *o, const struct idl_method *m)
{
	char *q = m->sandbox != NULL ? idl_quote(m->sandbox) : NULL;

	if (m->isolated == 0)
		return;
	fputs("isolated", o);
	if (m->isolated != IDL_GRACE_DEFAULT || q != NULL)
		fputc('(', o);
	if (m->isolated != IDL_GRACE_DEFAULT)
		fprintf(o, "%d%s", m->isolated, q != NULL ? ", " : "");
	if (q != NULL)
		fputs(q, o);
	if (m->isolated != IDL_GRACE_DEFAULT || q != NULL)
		fputc(')', o);
	fputc(' ', o);
	free(q);
}

static void
print_method(FILE *o, const struct idl_object *obj,
    const struct idl_method *m)
{
	const struct idl_param *pa;
	char *lit;
	size_t i;

	doc(o, m->doc, "\t");
	fputc('\t', o);
	print_isolated(o, m);
	fprintf(o, "%s%s(", m->oneway ? "oneway " : m->readonly ?
	    "readonly " : "", m->name);
	for (i = 0; i < m->nparams; i++) {
		pa = &m->params[i];
		fprintf(o, "%s%s: ", i > 0 ? ", " : "", pa->name);
		type(o, pa->type);
		if (pa->def == NULL)
			continue;
		if ((lit = idl_literal(pa->type, pa->def)) == NULL)
			fputc('\0', o);
		else
			fprintf(o, " = %s", lit);
		free(lit);
	}
	if ((pa = m->upload) != NULL) {
		fprintf(o, "%s%s: stream ", i > 0 ? ", " : "", pa->name);
		type(o, pa->type);
	}
	fputc(')', o);
	if (m->result != NULL) {
		fputs(m->stream ? " -> stream " : " -> ", o);
		type(o, m->result);
	}
	for (i = 0; i < m->nraises; i++)
		fprintf(o, "%s%s", i > 0 ? ", " : " raises ",
		    short_name(obj, m->raises[i]));
	fputs(";\n", o);
}

static void
print_object(struct printer *p, const struct idl_object *obj)
{
	const struct idl_attr *a;
	size_t i;

	top(p);
	doc(p->o, obj->doc, "");
	fprintf(p->o, "%s %s {\n", obj->is_class ? "class" : "object",
	    obj->name);
	if (obj->is_class) {
		fputs("\tstate: ", p->o);
		type(p->o, obj->state);
		fputs(";\n", p->o);
	}
	for (i = 0; i < obj->nerrors; i++) {
		doc(p->o, obj->errors[i].doc, "\t");
		fprintf(p->o, "\terror %s;\n",
		    short_name(obj, obj->errors[i].name));
	}
	for (i = 0; i < obj->nattrs; i++) {
		a = &obj->attrs[i];
		doc(p->o, a->doc, "\t");
		fprintf(p->o, "\tattr %s%s: ", a->writable ? "writable " : "",
		    a->name);
		type(p->o, a->type);
		fputs(";\n", p->o);
	}
	for (i = 0; i < obj->nmethods; i++)
		print_method(p->o, obj, &obj->methods[i]);
	fputs("}\n", p->o);
}

static void
print_file(struct printer *p)
{
	const struct idl_file *f = p->f;
	size_t i;

	for (i = 0; i < f->nstructs; i++)
		if (f->structs[i]->name != NULL && (p->only == NULL ||
		    object_uses_struct(p->only, f->structs[i])))
			print_struct(p, f->structs[i]);
	for (i = 0; i < f->nerrors; i++)
		if (p->only == NULL || object_raises(p->only,
		    f->errors[i].name)) {
			top(p);
			doc(p->o, f->errors[i].doc, "");
			fprintf(p->o, "error %s;\n", f->errors[i].name);
		}
	for (i = 0; i < f->nobjects; i++)
		if (p->only == NULL || p->only == &f->objects[i])
			print_object(p, &f->objects[i]);
}

char *
idl_print(const struct idl_file *f, const char *object)
{
	struct printer p = { NULL, f, NULL, 0 };
	char *buf = NULL;
	size_t len;
	int bad;

	if (object != NULL && (p.only = idl_object_find(f, object)) == NULL)
		return NULL;
	if ((p.o = open_memstream(&buf, &len)) == NULL)
		return NULL;
	print_file(&p);
	bad = ferror(p.o);
	if (fclose(p.o) != 0 || bad || memchr(buf, '\0', len) != NULL) {
		free(buf);
		return NULL;
	}
	return buf;
}
