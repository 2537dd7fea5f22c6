/*
 * gen_types.c - BASE.h: the C types of an interface (its structures
 * and the arrays it uses), their helpers, and its error names.  Both
 * the client and the server files include it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idl/gen.h"
#include "util.h"

/* "TYPE NAME" with the blank only where the type does not end in '*'. */
static void
declare(FILE *o, const char *ctype, const char *name)
{
	size_t n = strlen(ctype);

	fprintf(o, "%s%s%s", ctype, n > 0 && ctype[n - 1] == '*' ? "" : " ",
	    name);
}

/* The guard around a shared type: "#ifndef PREFIXTAG_DEFINED". */
static void
guard_open(const struct gen *g, const char *tag)
{
	char *m = dopy_asprintf("%s%s_DEFINED", g->opt->prefix, tag), *p;

	for (p = m; m != NULL && *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
	fprintf(g->o, "#ifndef %s\n#define %s\n", m ? m : "?", m ? m : "?");
	free(m);
}

static const char *
field_name(const struct idl_field *fd, size_t i, char *buf, size_t size)
{
	if (fd->name != NULL)
		return fd->name;
	snprintf(buf, size, "f%zu", i);
	return buf;
}

static void
struct_decl(const struct gen *g, const struct idl_struct *st,
    const char *tag)
{
	char buf[32], *ct;
	size_t i;

	gen_comment(g->o, "", st->doc);
	fprintf(g->o, "struct %s%s {\n", g->opt->prefix, tag);
	for (i = 0; i < st->nfields; i++) {
		gen_comment(g->o, "\t", st->fields[i].doc);
		ct = gen_ctype(g, st->fields[i].type);
		fputc('\t', g->o);
		declare(g->o, ct ? ct : "?", field_name(&st->fields[i], i, buf,
		    sizeof(buf)));
		fputs(";\n", g->o);
		free(ct);
	}
	fputs("};\n", g->o);
}

/* Each field of *v through op (put, get or clear). */
static void
struct_fields(const struct gen *g, const struct idl_struct *st,
    const char *op)
{
	char buf[32], *expr;
	size_t i;

	for (i = 0; i < st->nfields; i++) {
		expr = dopy_asprintf("v->%s", field_name(&st->fields[i], i, buf,
		    sizeof(buf)));
		if (expr == NULL)
			continue;
		if (op[0] == 'p')
			gen_put(g, st->fields[i].type, "w", expr, "\t");
		else if (op[0] == 'g')
			gen_get(g, st->fields[i].type, "r", expr, "\t");
		else
			gen_clear(g, st->fields[i].type, expr, "\t");
		free(expr);
	}
}

static void
struct_helpers(const struct gen *g, const struct idl_struct *st,
    const char *tag, int owns)
{
	const char *px = g->opt->prefix;

	fprintf(g->o, "\nstatic inline void\n%s%s_put(dopy_out *w, "
	    "const struct %s%s *v)\n{\n", px, tag, px, tag);
	struct_fields(g, st, "put");
	fprintf(g->o, "}\n\nstatic inline void\n%s%s_get(dopy_in *r, "
	    "struct %s%s *v)\n{\n", px, tag, px, tag);
	struct_fields(g, st, "get");
	fputs("}\n", g->o);
	if (!owns)
		return;
	fprintf(g->o, "\n/* Free what *v holds (not v) and zero it. */\n"
	    "static inline void\n%s%s_clear(struct %s%s *v)\n{\n", px, tag,
	    px, tag);
	struct_fields(g, st, "clear");
	fputs("\tmemset(v, 0, sizeof(*v));\n}\n", g->o);
}

static void
one_struct(const struct gen *g, size_t i)
{
	const struct idl_struct *st = g->f->structs[i];
	struct idl_type t = { .kind = DOPY_STRUCT, .st = (struct idl_struct *)st };
	const char *tag = g->snames[i];

	if (tag == NULL)		/* used nowhere the generator names */
		return;
	fputc('\n', g->o);
	guard_open(g, tag);
	struct_decl(g, st, tag);
	struct_helpers(g, st, tag, gen_owns(&t));
	fputs("#endif\n", g->o);
}

static void
array_helpers(const struct gen *g, const struct idl_type *t, const char *tag,
    const char *ct)
{
	const char *px = g->opt->prefix;
	int owns = gen_owns(t->elem);

	fprintf(g->o, "\nstatic inline void\n%s%s_put(dopy_out *w, "
	    "const struct %s%s *a)\n{\n\tsize_t i;\n\n"
	    "\tdopy_out_count(w, a->n);\n\tfor (i = 0; i < a->n; i++)\n",
	    px, tag, px, tag);
	gen_put(g, t->elem, "w", "a->v[i]", "\t\t");
	fprintf(g->o, "}\n\nstatic inline void\n%s%s_get(dopy_in *r, "
	    "struct %s%s *a)\n{\n\tsize_t i;\n\n\ta->v = (", px, tag, px, tag);
	declare(g->o, ct, "*)");
	fputs("dopy_in_array(r, &a->n, sizeof(*a->v));\n"
	    "\tfor (i = 0; i < a->n; i++)\n", g->o);
	gen_get(g, t->elem, "r", "a->v[i]", "\t\t");
	fprintf(g->o, "}\n\n/* Free what *a holds (not a) and empty it. */\n"
	    "static inline void\n%s%s_clear(struct %s%s *a)\n{\n", px, tag,
	    px, tag);
	if (owns) {
		fputs("\tsize_t i;\n\n\tfor (i = 0; i < a->n; i++)\n", g->o);
		gen_clear(g, t->elem, "a->v[i]", "\t\t");
	}
	fputs("\tfree(a->v);\n\ta->v = NULL;\n\ta->n = 0;\n}\n", g->o);
}

static void
one_array(const struct gen *g, const struct idl_type *t, const char *tag)
{
	char *ct = gen_ctype(g, t->elem);

	fputc('\n', g->o);
	guard_open(g, tag);
	fprintf(g->o, "struct %s%s {\n\t", g->opt->prefix, tag);
	declare(g->o, ct ? ct : "?", "*v;");
	fputs("\n\tsize_t n;\n};\n", g->o);
	array_helpers(g, t, tag, ct ? ct : "?");
	fputs("#endif\n", g->o);
	free(ct);
}

/* The array types written so far, by tag. */
struct seen {
	char	**tags;
	size_t	  n;
};

static int
seen_add(struct seen *s, char *tag)
{
	char **nt;
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->tags[i], tag) == 0) {
			free(tag);
			return 0;
		}
	if ((nt = reallocarray(s->tags, s->n + 1, sizeof(*nt))) == NULL) {
		free(tag);
		return 0;
	}
	s->tags = nt;
	s->tags[s->n++] = tag;
	return 1;
}

/* The arrays of t, innermost first, each once. */
static void
arrays_of(const struct gen *g, struct seen *s, const struct idl_type *t)
{
	char *tag;

	if (t == NULL || t->kind != DOPY_ARRAY)
		return;
	arrays_of(g, s, t->elem);
	if ((tag = gen_tag(g, t)) != NULL && seen_add(s, tag))
		one_array(g, t, s->tags[s->n - 1]);
}

static void
object_arrays(const struct gen *g, struct seen *s, const struct idl_object *ob)
{
	const struct idl_method *m;
	size_t i, j;

	if (ob->is_class)
		arrays_of(g, s, ob->state);
	for (i = 0; i < ob->nattrs; i++)
		arrays_of(g, s, ob->attrs[i].type);
	for (i = 0; i < ob->nmethods; i++) {
		m = &ob->methods[i];
		for (j = 0; j < m->nparams; j++)
			arrays_of(g, s, m->params[j].type);
		if (m->upload != NULL)
			arrays_of(g, s, m->upload->type);
		arrays_of(g, s, m->result);
	}
}

static void
one_error(const struct gen *g, const struct idl_error *e)
{
	char *m = gen_errmacro(g, e->name);

	gen_comment(g->o, "", e->doc);
	fprintf(g->o, "#define %s\t\"%s\"\n", m ? m : "?", e->name);
	free(m);
}

static void
errors(const struct gen *g)
{
	const struct idl_object *ob;
	size_t i, j, n = g->f->nerrors;

	for (i = 0; i < g->f->nobjects; i++)
		n += g->f->objects[i].nerrors;
	if (n == 0)
		return;
	fputs("\n/* The errors the interface declares, as dopy_error_name() "
	    "gives them. */\n", g->o);
	for (i = 0; i < g->f->nerrors; i++)
		one_error(g, &g->f->errors[i]);
	for (i = 0; i < g->f->nobjects; i++) {
		ob = &g->f->objects[i];
		for (j = 0; j < ob->nerrors; j++)
			one_error(g, &ob->errors[j]);
	}
}

int
gen_types(struct gen *g)
{
	struct seen s = { NULL, 0 };
	size_t i;

	gen_banner(g, ".h");
	fprintf(g->o, "#ifndef %s\n#define %s\n\n#include <stddef.h>\n"
	    "#include <stdint.h>\n#include <stdlib.h>\n#include <string.h>\n\n"
	    "#include <dopy.h>\n\n#ifdef __cplusplus\nextern \"C\" {\n"
	    "#endif\n", g->guard, g->guard);
	errors(g);
	for (i = 0; i < g->f->nstructs; i++)
		one_struct(g, i);
	for (i = 0; i < g->f->nobjects; i++)
		object_arrays(g, &s, &g->f->objects[i]);
	for (i = 0; i < s.n; i++)
		free(s.tags[i]);
	free(s.tags);
	fprintf(g->o, "\n#ifdef __cplusplus\n}\n#endif\n#endif /* %s */\n",
	    g->guard);
	return ferror(g->o) ? -1 : 0;
}
