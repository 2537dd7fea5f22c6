/*
 * iface.c - an object's interface text (dopy-idl(5)) made from its
 * method table, for dopy.interface: hand-written objects publish their
 * interface as generated ones do, so a client can make stubs from any
 * running server.
 *
 * The text is the canonical form dopy-idl's printer writes (lib/idl/
 * print.c), so the parser reads it back and a table and the file it
 * came from print alike: the object's doc as "## " lines, then one tab
 * in, its attributes (get:NAME, with set:NAME writable) and then its
 * methods, each after its doc; "name: type = literal" parameters;
 * types by their dopy names ("(x:int,y:int)[]"); a default as
 * dopy_value_format() writes it, but a string or bytes one quoted.
 * A persistent class (dopy-pos(7)) is "class NAME" with its state type
 * and its readonly methods so marked; methods run isolated
 * (dopy_server_set_isolated) are marked with their grace.  A table
 * declares no errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

/* doc as "## " lines at the indentation. */
static void
put_doc(FILE *f, const char *indent, const char *doc)
{
	size_t n;

	if (doc == NULL || *doc == '\0')
		return;
	while (*doc != '\0') {
		n = strcspn(doc, "\n");
		if (n == 0)
			fprintf(f, "%s##\n", indent);
		else
			fprintf(f, "%s## %.*s\n", indent, (int)n, doc);
		doc += n;
		if (*doc == '\n')
			doc++;
	}
}

/* A default: a string's or bytes' quoted, " and \ escaped. */
static void
put_literal(FILE *f, const dopy_value *v)
{
	const char *p;
	size_t len, i;
	char *s;

	if (v->type->kind == DOPY_STRING || v->type->kind == DOPY_BYTES) {
		p = v->u.s.p;
		len = v->u.s.len;
		fputc('"', f);
		for (i = 0; i < len; i++) {
			if (p[i] == '"' || p[i] == '\\')
				fputc('\\', f);
			fputc(p[i], f);
		}
		fputc('"', f);
		return;
	}
	if ((s = dopy_value_format(v)) != NULL)
		fputs(s, f);
	free(s);
}

static void
put_params(FILE *f, const struct dopy_sig *sig)
{
	size_t k;

	for (k = 0; k < sig->n; k++) {
		fprintf(f, "%s%s: %s", k > 0 ? ", " : "", sig->p[k].name,
		    sig->p[k].type->name);
		if (sig->p[k].def != NULL) {
			fputs(" = ", f);
			put_literal(f, sig->p[k].def);
		}
	}
	if (sig->up.type != NULL)
		fprintf(f, "%s%s: stream %s", k > 0 ? ", " : "", sig->up.name,
		    sig->up.type->name);
}

/* Whether method i is an attribute's getter or setter (prefix). */
static int
is_accessor(const struct dopy_object *o, size_t i, const char *prefix)
{
	return strncmp(o->def->methods[i].name, prefix, 4) == 0;
}

/* The index of the accessor prefix of the attribute whose accessor is
 * method i ("get:x" for "set:x"), or -1. */
static int
partner(const struct dopy_object *o, size_t i, const char *prefix)
{
	const char *attr = o->def->methods[i].name + 4;
	size_t j;

	for (j = 0; j < o->nmethods; j++)
		if (is_accessor(o, j, prefix) &&
		    strcmp(o->def->methods[j].name + 4, attr) == 0)
			return (int)j;
	return -1;
}

/* Whether method i is printed as an attribute: a getter with a result,
 * or the setter of one. */
static int
in_attr(const struct dopy_object *o, size_t i)
{
	int g;

	if (o->streams != NULL && o->streams[i])
		return 0;
	if (is_accessor(o, i, "get:"))
		return o->results[i] != NULL;
	if (!is_accessor(o, i, "set:") || (g = partner(o, i, "get:")) < 0)
		return 0;
	return o->results[g] != NULL;
}

static void
put_attrs(FILE *f, const struct dopy_object *o)
{
	const struct dopy_method *m;
	size_t i;

	for (i = 0; i < o->nmethods; i++) {
		m = &o->def->methods[i];
		if (!is_accessor(o, i, "get:") || !in_attr(o, i))
			continue;
		put_doc(f, "\t", m->doc);
		fprintf(f, "\tattr %s%s: %s;\n", partner(o, i, "set:") >= 0 ?
		    "writable " : "", m->name + 4, o->results[i]->name);
	}
}

/* s as an interface file's string (dopy-idl(5)): in quotes, with the
 * escapes its lexer reads. */
static void
put_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++)
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			fprintf(f, "\\x%02x", (unsigned char)*s);
		else
			fputc(*s, f);
	fputc('"', f);
}

/* As print.c writes it: the default grace goes without saying, and a
 * sandbox is its spec in quotes. */
static void
put_isolated(FILE *f, int grace, const struct dopy_sandbox *b)
{
	if (b == NULL && grace == DOPY_ISOLATE_GRACE_MS) {
		fputs("isolated ", f);
		return;
	}
	fputs("isolated(", f);
	if (grace != DOPY_ISOLATE_GRACE_MS)
		fprintf(f, "%d%s", grace, b != NULL ? ", " : "");
	if (b != NULL)
		put_quoted(f, b->spec);
	fputs(") ", f);
}

static void
put_methods(FILE *f, const struct dopy_object *o,
    const struct dopy_pclass *cls)
{
	const struct dopy_method *m;
	size_t i;

	for (i = 0; i < o->nmethods; i++) {
		m = &o->def->methods[i];
		if (in_attr(o, i))	/* printed as the attribute */
			continue;
		put_doc(f, "\t", m->doc);
		fputc('\t', f);
		if (i < o->nisolated && o->isolated != NULL &&
		    o->isolated[i] != 0)
			put_isolated(f, o->isolated[i], o->sandbox != NULL ?
			    o->sandbox[i] : NULL);
		if (i < o->noneway && o->oneway != NULL && o->oneway[i])
			fputs("oneway ", f);
		if (cls != NULL && dopy_pclass_readonly(cls, m->name))
			fputs("readonly ", f);
		fprintf(f, "%s(", m->name);
		put_params(f, o->sigs[i]);
		fputc(')', f);
		if (o->results[i] != NULL)
			fprintf(f, " -> %s%s", o->streams != NULL &&
			    o->streams[i] ? "stream " : "",
			    o->results[i]->name);
		fputs(";\n", f);
	}
}

/* The class entry whose object o is, or NULL. */
static const struct dopy_pclass_ent *
class_of(const dopy_server *s, const struct dopy_object *o)
{
	size_t i;

	for (i = 0; i < s->npclasses; i++)
		if (&s->pclasses[i].obj == o)
			return &s->pclasses[i];
	return NULL;
}

char *
dopy_iface_text(dopy_server *s, const struct dopy_object *o)
{
	const struct dopy_pclass_ent *e = class_of(s, o);
	char *text = NULL;
	size_t len;
	FILE *f;

	if (o->stub != NULL && o->stub->text != NULL)
		return strdup(o->stub->text);
	if ((f = open_memstream(&text, &len)) == NULL)
		return NULL;
	put_doc(f, "", o->def->doc);
	if (e != NULL)
		fprintf(f, "class %s {\n\tstate: %s;\n", e->def->name,
		    e->state->name);
	else
		fprintf(f, "object %s {\n", o->def->name);
	put_attrs(f, o);
	put_methods(f, o, e != NULL ? e->def : NULL);
	fputs("}\n", f);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}
