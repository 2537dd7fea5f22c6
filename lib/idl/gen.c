/*
 * gen.c - the C generator of dopy-idl(1): names, C types, and the
 * statements that move a value between C and a reader or writer.  The
 * files themselves are written by gen_types.c, gen_client.c and
 * gen_server.c.  Output depends on the interface alone (no dates, no
 * paths but the file's base name), so the same input gives the same
 * bytes.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "idl/gen.h"
#include "util.h"

static const char *const scalar_tag[] = {
	[DOPY_BOOL] = "bool", [DOPY_INT] = "int", [DOPY_UINT] = "uint",
	[DOPY_DOUBLE] = "double", [DOPY_STRING] = "string",
	[DOPY_BYTES] = "bytes", [DOPY_REF] = "ref", [DOPY_ANY] = "any",
};

static const char *const scalar_ctype[] = {
	[DOPY_BOOL] = "int", [DOPY_INT] = "int64_t", [DOPY_UINT] = "uint64_t",
	[DOPY_DOUBLE] = "double", [DOPY_STRING] = "char *",
	[DOPY_BYTES] = "struct dopy_bytes", [DOPY_REF] = "uint32_t",
	[DOPY_ANY] = "dopy_value *",
};

/* The writer and reader call for each scalar kind. */
static const char *const scalar_io[] = {
	[DOPY_BOOL] = "bool", [DOPY_INT] = "int", [DOPY_UINT] = "uint",
	[DOPY_DOUBLE] = "double", [DOPY_STRING] = "string",
	[DOPY_REF] = "ref",
};

static size_t
struct_index(const struct gen *g, const struct idl_struct *st)
{
	size_t i;

	for (i = 0; i < g->f->nstructs; i++)
		if (g->f->structs[i] == st)
			break;
	return i;
}

char *
gen_tag(const struct gen *g, const struct idl_type *t)
{
	char *e, *s;
	size_t i;

	switch (t->kind) {
	case DOPY_ARRAY:
		if ((e = gen_tag(g, t->elem)) == NULL)
			return NULL;
		s = dopy_asprintf("%s_array", e);
		free(e);
		return s;
	case DOPY_STRUCT:
		i = struct_index(g, t->st);
		return strdup(i < g->f->nstructs && g->snames[i] != NULL ?
		    g->snames[i] : "anonymous");
	default:
		return strdup(scalar_tag[t->kind]);
	}
}

int
gen_aggregate(const struct idl_type *t)
{
	return t->kind == DOPY_ARRAY || t->kind == DOPY_STRUCT;
}

int
gen_owns(const struct idl_type *t)
{
	size_t i;

	switch (t->kind) {
	case DOPY_STRING: case DOPY_BYTES: case DOPY_ANY: case DOPY_ARRAY:
		return 1;
	case DOPY_STRUCT:
		for (i = 0; i < t->st->nfields; i++)
			if (gen_owns(t->st->fields[i].type))
				return 1;
		return 0;
	default:
		return 0;
	}
}

char *
gen_ctype(const struct gen *g, const struct idl_type *t)
{
	char *tag, *s;

	if (!gen_aggregate(t))
		return strdup(scalar_ctype[t->kind]);
	if ((tag = gen_tag(g, t)) == NULL)
		return NULL;
	s = dopy_asprintf("struct %s%s", g->opt->prefix, tag);
	free(tag);
	return s;
}

char *
gen_cparam(const struct gen *g, const struct idl_type *t, const char *name)
{
	char *ct, *s;

	switch (t->kind) {
	case DOPY_STRING:
		return dopy_asprintf("const char *%s", name);
	case DOPY_BYTES:
		return dopy_asprintf("const void *%s, size_t %s_len", name,
		    name);
	case DOPY_ANY:
		return dopy_asprintf("const dopy_value *%s", name);
	case DOPY_ARRAY: case DOPY_STRUCT:
		if ((ct = gen_ctype(g, t)) == NULL)
			return NULL;
		s = dopy_asprintf("const %s *%s", ct, name);
		free(ct);
		return s;
	default:
		return dopy_asprintf("%s %s", scalar_ctype[t->kind], name);
	}
}

/* Names the generated functions give their own parameters (their
 * locals begin with dopy_, which no name in an interface may). */
static const char *const taken[] = {
	"call", "self", "result", "err", "done", "arg", "future", "proxy",
	"server", NULL
};

const char *
gen_cname(const char *name, char *buf, size_t size)
{
	size_t i;

	for (i = 0; taken[i] != NULL; i++)
		if (strcmp(name, taken[i]) == 0)
			break;
	if (taken[i] == NULL && !idl_name_reserved(name))
		return name;
	snprintf(buf, size, "%s_", name);
	return buf;
}

char *
gen_tpl(const struct idl_type *t)
{
	dopy_type *dt;
	char *text, *s, err[160];

	if ((text = idl_type_text(t)) == NULL)
		return NULL;
	dt = dopy_type_parse(text, err, sizeof(err));
	free(text);
	if (dt == NULL)
		return NULL;
	s = strdup(dopy_type_tpl(dt));
	dopy_type_free(dt);
	return s;
}

void
gen_cstring(FILE *o, const char *s)
{
	fputc('"', o);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(o, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", o);
		else if (*s == '\t')
			fputs("\\t", o);
		else if (!isprint((unsigned char)*s))
			fprintf(o, "\\%03o", (unsigned char)*s);
		else
			fputc(*s, o);
	}
	fputc('"', o);
}

/* A documentation comment, each line of doc after indent " * ". */
void
gen_comment(FILE *o, const char *indent, const char *doc)
{
	const char *p, *e;

	if (doc == NULL || *doc == '\0')
		return;
	if (strchr(doc, '\n') == NULL && strstr(doc, "*/") == NULL &&
	    strspn(indent, "\t") * 8 + strlen(doc) + 6 <= 80) {
		fprintf(o, "%s/* %s */\n", indent, doc);
		return;
	}
	fprintf(o, "%s/*\n", indent);
	for (p = doc; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		if ((e = strchr(p, '\n')) == NULL)
			e = p + strlen(p);
		/* A doc must not end the comment early. */
		fprintf(o, "%s *%s", indent, e > p ? " " : "");
		for (; p < e; p++) {
			fputc(*p, o);
			if (p[0] == '*' && p[1] == '/')
				fputc(' ', o);
		}
		fputc('\n', o);
	}
	fprintf(o, "%s */\n", indent);
}

/* expr as a pointer: "*a->p" is "a->p", anything else "&(expr)". */
static void
address_of(FILE *o, const char *expr)
{
	if (expr[0] == '*')
		fputs(expr + 1, o);
	else
		fprintf(o, "&%s", expr);
}

static void
helper_call(const struct gen *g, const struct idl_type *t, const char *op,
    const char *rw, const char *expr, const char *indent)
{
	char *tag = gen_tag(g, t);

	fprintf(g->o, "%s%s%s_%s(", indent, g->opt->prefix, tag ? tag : "?",
	    op);
	if (rw != NULL)
		fprintf(g->o, "%s, ", rw);
	address_of(g->o, expr);
	fputs(");\n", g->o);
	free(tag);
}

void
gen_put(const struct gen *g, const struct idl_type *t, const char *w,
    const char *expr, const char *indent)
{
	if (gen_aggregate(t))
		helper_call(g, t, "put", w, expr, indent);
	else if (t->kind == DOPY_BYTES)
		fprintf(g->o, "%sdopy_out_bytes(%s, %s.data, %s.len);\n",
		    indent, w, expr, expr);
	else if (t->kind == DOPY_ANY)
		fprintf(g->o, "%sdopy_out_value(%s, %s);\n", indent, w, expr);
	else
		fprintf(g->o, "%sdopy_out_%s(%s, %s);\n", indent,
		    scalar_io[t->kind], w, expr);
}

void
gen_get(const struct gen *g, const struct idl_type *t, const char *r,
    const char *expr, const char *indent)
{
	if (gen_aggregate(t))
		helper_call(g, t, "get", r, expr, indent);
	else if (t->kind == DOPY_BYTES)
		fprintf(g->o, "%s%s.data = dopy_in_bytes(%s, &%s.len);\n",
		    indent, expr, r, expr);
	else if (t->kind == DOPY_ANY)
		fprintf(g->o, "%s%s = dopy_in_value(%s);\n", indent, expr, r);
	else
		fprintf(g->o, "%s%s = dopy_in_%s(%s);\n", indent, expr,
		    scalar_io[t->kind], r);
}

void
gen_clear(const struct gen *g, const struct idl_type *t, const char *expr,
    const char *indent)
{
	if (gen_aggregate(t)) {
		if (gen_owns(t))
			helper_call(g, t, "clear", NULL, expr, indent);
	} else if (t->kind == DOPY_STRING)
		fprintf(g->o, "%sfree(%s);\n", indent, expr);
	else if (t->kind == DOPY_BYTES)
		fprintf(g->o, "%sfree(%s.data);\n", indent, expr);
	else if (t->kind == DOPY_ANY)
		fprintf(g->o, "%sdopy_value_free(%s);\n", indent, expr);
}

void
gen_put_image(const struct gen *g, const struct idl_type *t, const char *w,
    const char *expr, const char *indent)
{
	char *tpl;

	if (t->kind == DOPY_ANY) {
		gen_put(g, t, w, expr, indent);
		return;
	}
	tpl = gen_tpl(t);
	fprintf(g->o, "%sdopy_out_begin(%s, \"%s\");\n", indent, w,
	    tpl ? tpl : "?");
	gen_put(g, t, w, expr, indent);
	fprintf(g->o, "%sdopy_out_end(%s);\n", indent, w);
	free(tpl);
}

void
gen_get_image(const struct gen *g, const struct idl_type *t, const char *r,
    const char *expr, const char *indent)
{
	char *tpl;

	if (t->kind == DOPY_ANY) {
		gen_get(g, t, r, expr, indent);
		return;
	}
	tpl = gen_tpl(t);
	fprintf(g->o, "%sdopy_in_begin(%s, \"%s\");\n", indent, r,
	    tpl ? tpl : "?");
	gen_get(g, t, r, expr, indent);
	fprintf(g->o, "%sdopy_in_end(%s);\n", indent, r);
	free(tpl);
}

char *
gen_fname(const struct gen *g, const struct idl_object *ob,
    const char *name)
{
	return dopy_asprintf("%s%s_%s", g->opt->prefix, ob->name, name);
}

char *
gen_errmacro(const struct gen *g, const char *fullname)
{
	const char *dot = strrchr(fullname, '.');
	char *s, *p;

	if (dot == NULL)
		s = dopy_asprintf("%sE_%s", g->opt->prefix, fullname);
	else
		s = dopy_asprintf("%s%.*s_E_%s", g->opt->prefix,
		    (int)(dot - fullname), fullname, dot + 1);
	for (p = s; p != NULL && *p != '\0'; p++)
		*p = *p == '.' ? '_' : (char)toupper((unsigned char)*p);
	return s;
}

void
gen_banner(const struct gen *g, const char *what)
{
	fprintf(g->o, "/*\n * %s%s - %s, made by dopy-idl(1) from %s.idl.\n"
	    " * Do not edit: change the interface and run dopy-idl again.\n"
	    " */\n", g->hbase, what, what[0] == '.' ? "its types" :
	    strstr(what, "client") ? "client stubs" : "server skeleton",
	    g->hbase);
}

int
gen_open(struct gen *g, char **text, size_t *len)
{
	*text = NULL;
	*len = 0;
	g->o = open_memstream(text, len);
	return g->o != NULL ? 0 : -1;
}

static int
write_file(const char *path, const char *text, size_t len)
{
	FILE *f;
	int r;

	if ((f = fopen(path, "w")) == NULL)
		return -1;
	r = fwrite(text, 1, len, f) == len ? 0 : -1;
	if (fclose(f) != 0)
		r = -1;
	return r;
}

/* Write the text to BASE SUFFIX through a temporary file and rename,
 * so a reader (make) never sees half a file. */
int
gen_close(struct gen *g, const char *suffix, char *text, size_t len,
    char *err, size_t errlen)
{
	char *path = NULL, *tmp = NULL;
	int r = -1;

	path = dopy_asprintf("%s%s", g->opt->base, suffix);
	tmp = dopy_asprintf("%s%s.tmp%ld", g->opt->base, suffix,
	    (long)getpid());
	if (path == NULL || tmp == NULL)
		snprintf(err, errlen, "out of memory");
	else if (write_file(tmp, text, len) < 0 || rename(tmp, path) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
	} else
		r = 0;
	free(text);
	free(path);
	free(tmp);
	return r;
}

char *
gen_ptype(const struct gen *g, const struct idl_type *t)
{
	char *ct = gen_ctype(g, t), *s;
	size_t n;

	if (ct == NULL)
		return NULL;
	n = strlen(ct);
	s = dopy_asprintf("%s%s*", ct, n > 0 && ct[n - 1] == '*' ? "" : " ");
	free(ct);
	return s;
}

void
gen_args(FILE *o, size_t col, const char *cont, const char *const *items,
    size_t n)
{
	size_t i, len;

	fputc('(', o);
	col++;
	for (i = 0; i < n; i++) {
		len = strlen(items[i]) + 1;	/* and its ',' or ')' */
		if (i > 0 && col + 1 + len > 80) {
			fprintf(o, "\n%s", cont);
			col = strspn(cont, "\t") * 8 + strlen(cont) -
			    strspn(cont, "\t");
		} else if (i > 0) {
			fputc(' ', o);
			col++;
		}
		fprintf(o, "%s%c", items[i], i + 1 < n ? ',' : ')');
		col += len;
	}
	if (n == 0)
		fputs("void)", o);
}

void
gen_proto(const struct gen *g, const char *name, const char *sfx,
    const char *const *items, size_t n, int decl)
{
	fprintf(g->o, decl ? "int\t%s%s" : "int\n%s%s", name, sfx);
	gen_params(g->o, strlen(name) + strlen(sfx) + (decl ? 8 : 0), items,
	    n);
	fputs(decl ? ";\n" : "\n", g->o);
}

void
gen_params(FILE *o, size_t col, const char *const *items, size_t n)
{
	gen_args(o, col, "    ", items, n);
}

static int
stub_attr(const struct gen *g, const struct idl_object *ob,
    const struct idl_attr *at, int set, struct gstub *st)
{
	st->wirebuf = dopy_asprintf("%s:%s", set ? "set" : "get", at->name);
	st->cname = dopy_asprintf("%s%s_%s_%s", g->opt->prefix, ob->name,
	    set ? "set" : "get", at->name);
	st->wire = st->wirebuf;
	st->doc = at->doc;
	if (set) {
		st->value.name = (char *)"value";
		st->value.type = at->type;
		st->params = &st->value;
		st->nparams = 1;
	} else
		st->result = at->type;
	return st->wirebuf != NULL && st->cname != NULL ? 0 : -1;
}

struct gstub *
gen_stubs(const struct gen *g, const struct idl_object *ob, size_t *n)
{
	const struct idl_method *m;
	struct gstub *v;
	size_t i;
	int r = 0;

	*n = 0;
	if ((v = calloc(ob->nmethods + 2 * ob->nattrs + 1,
	    sizeof(*v))) == NULL)
		return NULL;
	/* Methods first, then attributes: dopy_server_add_attrs' order. */
	for (i = 0; i < ob->nmethods && r == 0; i++, (*n)++) {
		m = &ob->methods[i];
		v[*n].wire = m->name;
		v[*n].cname = gen_fname(g, ob, m->name);
		v[*n].params = m->params;
		v[*n].nparams = m->nparams;
		v[*n].result = m->result;
		v[*n].oneway = m->oneway;
		v[*n].isolated = m->isolated;
		v[*n].stream = m->stream;
		v[*n].upload = m->upload;
		v[*n].doc = m->doc;
		r = v[*n].cname != NULL ? 0 : -1;
	}
	for (i = 0; i < ob->nattrs && r == 0; i++) {
		r = stub_attr(g, ob, &ob->attrs[i], 0, &v[(*n)++]);
		if (r == 0 && ob->attrs[i].writable)
			r = stub_attr(g, ob, &ob->attrs[i], 1, &v[(*n)++]);
	}
	if (r < 0) {
		gen_stubs_free(v, *n);
		return NULL;
	}
	return v;
}

void
gen_stubs_free(struct gstub *v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++) {
		free(v[i].cname);
		free(v[i].wirebuf);
	}
	free(v);
}

/* Names for anonymous structures, from where each is first written. */
static int
name_type(struct gen *g, const struct idl_type *t, const char *obj,
    const char *where)
{
	size_t i;

	while (t != NULL && t->kind == DOPY_ARRAY)
		t = t->elem;
	if (t == NULL || t->kind != DOPY_STRUCT)
		return 0;
	i = struct_index(g, t->st);
	if (i == g->f->nstructs || g->snames[i] != NULL)
		return 0;
	g->snames[i] = dopy_asprintf("%s_%s", obj, where);
	return g->snames[i] != NULL ? 0 : -1;
}

static int
name_method(struct gen *g, const struct idl_object *ob,
    const struct idl_method *m)
{
	char *w;
	size_t i;
	int r = 0;

	for (i = 0; r == 0 && i < m->nparams; i++) {
		if ((w = dopy_asprintf("%s_%s", m->name,
		    m->params[i].name)) == NULL)
			return -1;
		r = name_type(g, m->params[i].type, ob->name, w);
		free(w);
	}
	if (r == 0 && m->upload != NULL) {
		if ((w = dopy_asprintf("%s_%s", m->name,
		    m->upload->name)) == NULL)
			return -1;
		r = name_type(g, m->upload->type, ob->name, w);
		free(w);
	}
	if (r == 0 && m->result != NULL) {
		if ((w = dopy_asprintf("%s_result", m->name)) == NULL)
			return -1;
		r = name_type(g, m->result, ob->name, w);
		free(w);
	}
	return r;
}

static int
name_structs(struct gen *g)
{
	const struct idl_object *ob;
	size_t i, j;
	int r = 0;

	g->snames = calloc(g->f->nstructs + 1, sizeof(*g->snames));
	if (g->snames == NULL)
		return -1;
	for (i = 0; i < g->f->nstructs; i++)
		if (g->f->structs[i]->name != NULL &&
		    (g->snames[i] = strdup(g->f->structs[i]->name)) == NULL)
			return -1;
	for (i = 0; r == 0 && i < g->f->nobjects; i++) {
		ob = &g->f->objects[i];
		if (ob->is_class)
			r = name_type(g, ob->state, ob->name, "state");
		for (j = 0; r == 0 && j < ob->nattrs; j++)
			r = name_type(g, ob->attrs[j].type, ob->name,
			    ob->attrs[j].name);
		for (j = 0; r == 0 && j < ob->nmethods; j++)
			r = name_method(g, ob, &ob->methods[j]);
	}
	return r;
}

static void
gen_release(struct gen *g)
{
	size_t i;

	if (g->snames != NULL)
		for (i = 0; i < g->f->nstructs; i++)
			free(g->snames[i]);
	free(g->snames);
	free(g->guard);
	free(g->hbase);
}

/* One output file: gen_open, fn, gen_close. */
static int
one_file(struct gen *g, int (*fn)(struct gen *), const char *suffix,
    char *err, size_t errlen)
{
	char *text;
	size_t len;

	if (gen_open(g, &text, &len) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (fn(g) < 0) {
		fclose(g->o);
		free(text);
		snprintf(err, errlen, "cannot generate %s%s", g->opt->base,
		    suffix);
		return -1;
	}
	/* The stream's text and length are only set by fclose. */
	if (fclose(g->o) != 0 || text == NULL) {
		free(text);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return gen_close(g, suffix, text, len, err, errlen);
}

static int
set_names(struct gen *g)
{
	const char *b = strrchr(g->opt->base, '/');
	char *p;

	g->hbase = strdup(b != NULL ? b + 1 : g->opt->base);
	if (g->hbase == NULL || (g->guard = dopy_asprintf("%s%s_H",
	    g->opt->prefix, g->hbase)) == NULL)
		return -1;
	for (p = g->guard; *p != '\0'; p++)
		*p = isalnum((unsigned char)*p) ? (char)toupper(
		    (unsigned char)*p) : '_';
	return name_structs(g);
}

/* What the generator cannot map, with the place it is written. */
static int
check(const struct idl_file *f, char *err, size_t errlen)
{
	const struct idl_object *ob;
	const struct idl_type *t;
	size_t i, j;

	for (i = 0; i < f->nobjects; i++) {
		ob = &f->objects[i];
		for (j = 0; j < f->nstructs; j++)
			if (f->structs[j]->name != NULL &&
			    strcmp(f->structs[j]->name, ob->name) == 0) {
				snprintf(err, errlen, "%s:%d:%d: struct %s has "
				    "the name of an object, and both are C "
				    "structs", f->path, f->structs[j]->pos.line,
				    f->structs[j]->pos.col, ob->name);
				return -1;
			}
		if (!ob->is_class)
			continue;
		t = ob->state;
		for (j = 0; t->kind == DOPY_STRUCT && j < t->st->nfields; j++)
			if (t->st->fields[j].type->kind == DOPY_REF)
				break;
		if (t->kind == DOPY_ARRAY || t->kind == DOPY_BYTES ||
		    t->kind == DOPY_ANY || t->kind == DOPY_REF ||
		    (t->kind == DOPY_STRUCT && j < t->st->nfields)) {
			snprintf(err, errlen, "%s:%d:%d: class %s: generated "
			    "code keeps a state of scalars and strings only "
			    "(dopy_call_pstruct)", f->path, ob->pos.line,
			    ob->pos.col, ob->name);
			return -1;
		}
	}
	return 0;
}

int
idl_generate(const struct idl_file *f, const struct idl_gen_opts *opt,
    char *err, size_t errlen)
{
	struct gen g = { .f = f, .opt = opt };
	int r;

	if ((r = check(f, err, errlen)) < 0)
		return r;
	if ((r = set_names(&g)) < 0)
		snprintf(err, errlen, "out of memory");
	if (r == 0)
		r = one_file(&g, gen_types, ".h", err, errlen);
	if (r == 0 && opt->client)
		r = one_file(&g, gen_client_h, "_client.h", err, errlen);
	if (r == 0 && opt->client)
		r = one_file(&g, gen_client_c, "_client.c", err, errlen);
	if (r == 0 && opt->server)
		r = one_file(&g, gen_server_h, "_server.h", err, errlen);
	if (r == 0 && opt->server)
		r = one_file(&g, gen_server_c, "_server.c", err, errlen);
	gen_release(&g);
	return r;
}
