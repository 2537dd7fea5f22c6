/*
 * gen_client.c - BASE_client.h and BASE_client.c: a typed stub per
 * method and attribute, which writes its arguments straight into the
 * call (dopy_stub_call) and reads its result straight into C.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idl/gen.h"
#include "util.h"

/* A parameter list being built: strings owned. */
struct plist {
	char	*v[64 + 8];
	size_t	 n;
};

static void
push(struct plist *l, char *s)
{
	if (s != NULL && l->n < sizeof(l->v) / sizeof(l->v[0]))
		l->v[l->n++] = s;
	else
		free(s);
}

static void
plist_free(struct plist *l)
{
	while (l->n > 0)
		free(l->v[--l->n]);
}

/* The stub's parameters; async adds the future's. */
static void
stub_params(const struct gen *g, const struct gstub *st, int async,
    struct plist *l)
{
	char buf[80], *pt;
	size_t i;

	push(l, strdup("dopy_proxy *proxy"));
	for (i = 0; i < st->nparams; i++)
		push(l, gen_cparam(g, st->params[i].type,
		    gen_cname(st->params[i].name, buf, sizeof(buf))));
	if (st->stream)
		push(l, strdup("dopy_stream **stream"));
	else if (st->result != NULL &&
	    (pt = gen_ptype(g, st->result)) != NULL) {
		push(l, dopy_asprintf("%sresult", pt));
		free(pt);
	}
	if (st->upload != NULL)
		push(l, strdup("dopy_upload **upload"));
	if (async) {
		push(l, strdup("dopy_future_fn done"));
		push(l, strdup("void *arg"));
		push(l, strdup("dopy_future **future"));
	}
	push(l, strdup("dopy_error **err"));
}

static void
prototype(const struct gen *g, const struct gstub *st, int async, int decl)
{
	struct plist l = { .n = 0 };
	const char *sfx = async ? "_async" : "";

	stub_params(g, st, async, &l);
	if (decl) {
		fprintf(g->o, "int\t%s%s", st->cname, sfx);
		gen_params(g->o, 8 + strlen(st->cname) + strlen(sfx),
		    (const char *const *)l.v, l.n);
		fputs(";\n", g->o);
	} else {
		fprintf(g->o, "int\n%s%s", st->cname, sfx);
		gen_params(g->o, strlen(st->cname) + strlen(sfx),
		    (const char *const *)l.v, l.n);
		fputc('\n', g->o);
	}
	plist_free(&l);
}

/* A streaming method's reader: o_m_next(stream, &item, err). */
static void
next_prototype(const struct gen *g, const struct gstub *st, int decl)
{
	char *pt = gen_ptype(g, st->result);
	const char *v[3] = { "dopy_stream *stream", NULL, "dopy_error **err" };
	char *item = dopy_asprintf("%sitem", pt ? pt : "?");

	v[1] = item != NULL ? item : "?";
	gen_proto(g, st->cname, "_next", v, 3, decl);
	free(item);
	free(pt);
}

/* An upload's sender: o_m_send(upload, item, err). */
static void
send_prototype(const struct gen *g, const struct gstub *st, int decl)
{
	char *item = gen_cparam(g, st->upload->type, "item");
	const char *v[3] = { "dopy_upload *upload", NULL, "dopy_error **err" };

	v[1] = item != NULL ? item : "?";
	gen_proto(g, st->cname, "_send", v, 3, decl);
	free(item);
}

static void
header_object(const struct gen *g, const struct idl_object *ob)
{
	struct gstub *st;
	size_t i, n;

	fprintf(g->o, "\n/* %s %s", ob->is_class ? "Class" : "Object",
	    ob->name);
	if (ob->is_class)
		fputs(": call it through a proxy for \"pos/PATH\"", g->o);
	fputs(". */\n", g->o);
	gen_comment(g->o, "", ob->doc);
	if ((st = gen_stubs(g, ob, &n)) == NULL)
		return;
	for (i = 0; i < n; i++) {
		gen_comment(g->o, "", st[i].doc);
		prototype(g, &st[i], 0, 1);
		if (st[i].stream)
			next_prototype(g, &st[i], 1);
		else if (st[i].upload != NULL)
			send_prototype(g, &st[i], 1);
		else if (!st[i].oneway)
			prototype(g, &st[i], 1, 1);
	}
	gen_stubs_free(st, n);
}

int
gen_client_h(struct gen *g)
{
	size_t i;

	gen_banner(g, "_client.h");
	fprintf(g->o, "#ifndef %s_CLIENT\n#define %s_CLIENT\n\n"
	    "#include \"%s.h\"\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n"
	    "\n/*\n"
	    " * Each call returns 0 or a DOPY_E_* code, with the details in\n"
	    " * *err when err is not NULL (free it with dopy_error_free()).\n"
	    " * A result is the caller's: free a string or bytes' data with\n"
	    " * free(), a structure or array with its _clear(), an any with\n"
	    " * dopy_value_free(); result may be NULL when it is not wanted.\n"
	    " * The _async forms return once the call is sent: *result is\n"
	    " * filled in before dopy_future_wait() returns, so it must stay\n"
	    " * valid (and not NULL) until the future is waited for or freed.\n"
	    " * A streaming method's call gives a dopy_stream, read with its\n"
	    " * _next: 1 with an item (the caller's), 0 at the end, or the\n"
	    " * error; dopy_stream_free() it after.\n"
	    " * A method that takes an upload gives a dopy_upload: send its\n"
	    " * items with its _send (1 when the call has been answered\n"
	    " * already), then dopy_upload_finish(upload, NULL, err) fills in\n"
	    " * *result, which must stay valid until then; and\n"
	    " * dopy_upload_free() it after.\n"
	    " */\n", g->guard, g->guard, g->hbase);
	for (i = 0; i < g->f->nobjects; i++)
		header_object(g, &g->f->objects[i]);
	fprintf(g->o, "\n#ifdef __cplusplus\n}\n#endif\n#endif /* %s_CLIENT */"
	    "\n", g->guard);
	return ferror(g->o) ? -1 : 0;
}

/* The arguments struct: how a value is held while put writes it. */
static char *
arg_member(const struct gen *g, const struct idl_param *p, const char *name)
{
	char *ct, *s;

	switch (p->type->kind) {
	case DOPY_STRING:
		return dopy_asprintf("const char *%s", name);
	case DOPY_BYTES:
		return dopy_asprintf("struct dopy_bytes %s", name);
	case DOPY_ANY:
		return dopy_asprintf("const dopy_value *%s", name);
	case DOPY_ARRAY: case DOPY_STRUCT:
		ct = gen_ctype(g, p->type);
		s = dopy_asprintf("const %s *%s", ct ? ct : "?", name);
		free(ct);
		return s;
	default:
		return gen_cparam(g, p->type, name);
	}
}

static void
args_struct(const struct gen *g, const struct gstub *st)
{
	char buf[80], *m;
	size_t i;

	fprintf(g->o, "\nstruct %s_args {\n", st->cname);
	for (i = 0; i < st->nparams; i++) {
		m = arg_member(g, &st->params[i], gen_cname(
		    st->params[i].name, buf, sizeof(buf)));
		fprintf(g->o, "\t%s;\n", m ? m : "?");
		free(m);
	}
	fputs("};\n", g->o);
}

static void
put_fn(const struct gen *g, const struct gstub *st)
{
	char buf[80], *e;
	size_t i;

	fprintf(g->o, "\nstatic void\n%s_put(dopy_out *w, const void *args)\n"
	    "{\n\tconst struct %s_args *a = args;\n\n", st->cname,
	    st->cname);
	for (i = 0; i < st->nparams; i++) {
		e = dopy_asprintf("%sa->%s", gen_aggregate(
		    st->params[i].type) ? "*" : "", gen_cname(
		    st->params[i].name, buf, sizeof(buf)));
		if (e != NULL)
			gen_put_image(g, st->params[i].type, "w", e, "\t");
		free(e);
	}
	fputs("}\n", g->o);
}

/* How *v is written in an expression: bytes needs the brackets. */
static const char *
deref(const struct idl_type *t, const char *p)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), t->kind == DOPY_BYTES ? "(*%s)" : "*%s",
	    p);
	return buf;
}

static void
get_fn(const struct gen *g, const struct gstub *st)
{
	char *pt = gen_ptype(g, st->result);

	fprintf(g->o, "\nstatic void\n%s_get(dopy_in *r, void *result)\n"
	    "{\n\t%sv = result;\n\n", st->cname, pt ? pt : "?");
	gen_get_image(g, st->result, "r", deref(st->result, "v"), "\t");
	fputs("}\n", g->o);
	free(pt);
}

/* Fill the arguments struct a from the stub's parameters. */
static void
fill_args(const struct gen *g, const struct gstub *st)
{
	char buf[80];
	const char *n;
	size_t i;

	for (i = 0; i < st->nparams; i++) {
		n = gen_cname(st->params[i].name, buf, sizeof(buf));
		if (st->params[i].type->kind == DOPY_BYTES)
			fprintf(g->o, "\tdopy_a.%s.data = (void *)%s;\n"
			    "\tdopy_a.%s.len = %s_len;\n", n, n, n, n);
		else
			fprintf(g->o, "\tdopy_a.%s = %s;\n", n, n);
	}
}

/* The library call: dopy_stub_KIND(proxy, "method", ...). */
static void
lib_call(const struct gen *g, const struct gstub *st, const char *kind,
    const char *lead)
{
	char *v[12];
	size_t n = 0, i;
	int args = st->nparams > 0, res = st->result != NULL;

	v[n++] = strdup("proxy");
	v[n++] = dopy_asprintf("\"%s\"", st->wire);
	v[n++] = dopy_asprintf("%zu", st->nparams);
	v[n++] = args ? dopy_asprintf("%s_put", st->cname) : strdup("NULL");
	v[n++] = strdup(args ? "&dopy_a" : "NULL");
	if (strcmp(kind, "stream") == 0)
		v[n++] = strdup("stream");
	else if (strcmp(kind, "upload") == 0) {
		/* It reads the answer after the call returns: into result
		 * only if there is one. */
		v[n++] = res ? dopy_asprintf("result != NULL ? %s_get : NULL",
		    st->cname) : strdup("NULL");
		v[n++] = strdup(res ? "result" : "NULL");
		v[n++] = strdup("upload");
	} else if (strcmp(kind, "oneway") != 0) {
		v[n++] = res ? dopy_asprintf("%s_get", st->cname) :
		    strdup("NULL");
		v[n++] = strdup(res ? "result" : "NULL");
	}
	if (strcmp(kind, "call_async") == 0) {
		v[n++] = strdup("done");
		v[n++] = strdup("arg");
		v[n++] = strdup("future");
	}
	v[n++] = strdup("err");
	for (i = 0; i < n; i++)
		if (v[i] == NULL)
			v[i] = strdup("?");
	fprintf(g->o, "\t%sdopy_stub_%s", lead, kind);
	gen_args(g->o, 8 + strlen(lead) + 10 + strlen(kind), "\t    ",
	    (const char *const *)v, n);
	fputs(";\n", g->o);
	while (n > 0)
		free(v[--n]);
}

static void
sync_body(const struct gen *g, const struct gstub *st)
{
	char *ct = st->result != NULL ? gen_ctype(g, st->result) : NULL;

	if (st->nparams > 0)
		fprintf(g->o, "\tstruct %s_args dopy_a;\n", st->cname);
	if (ct != NULL)
		fprintf(g->o, "\t%s%sdopy_spare;\n\tint dopy_rc;\n", ct,
		    ct[strlen(ct) - 1] == '*' ? "" : " ");
	if (st->nparams > 0 || ct != NULL)
		fputc('\n', g->o);
	fill_args(g, st);
	if (ct != NULL)
		fputs("\tif (result == NULL)\n\t\tresult = &dopy_spare;\n"
		    "\tmemset(result, 0, sizeof(*result));\n", g->o);
	lib_call(g, st, st->oneway ? "oneway" : "call", ct != NULL ?
	    "dopy_rc = " : "return ");
	if (ct != NULL && gen_owns(st->result)) {
		fputs("\tif (dopy_rc < 0 || result == &dopy_spare) {\n", g->o);
		gen_clear(g, st->result, deref(st->result, "result"), "\t\t");
		fputs("\t\tmemset(result, 0, sizeof(*result));\n\t}\n", g->o);
	}
	if (ct != NULL)
		fputs("\treturn dopy_rc;\n", g->o);
	free(ct);
}

static void
async_body(const struct gen *g, const struct gstub *st)
{
	if (st->nparams > 0)
		fprintf(g->o, "\tstruct %s_args dopy_a;\n\n", st->cname);
	fill_args(g, st);
	if (st->result != NULL)
		fputs("\tif (result != NULL)\n"
		    "\t\tmemset(result, 0, sizeof(*result));\n", g->o);
	lib_call(g, st, st->upload != NULL ? "upload" : "call_async",
	    "return ");
}

/* A streaming method: the call, then its reader. */
static void
stream_bodies(const struct gen *g, const struct gstub *st)
{
	fputs("{\n", g->o);
	if (st->nparams > 0)
		fprintf(g->o, "\tstruct %s_args dopy_a;\n\n", st->cname);
	fill_args(g, st);
	lib_call(g, st, "stream", "return ");
	fputs("}\n\n", g->o);
	next_prototype(g, st, 0);
	fprintf(g->o, "{\n\tint dopy_rc;\n\n"
	    "\tmemset(item, 0, sizeof(*item));\n"
	    "\tdopy_rc = dopy_stream_next_stub(stream, %s_get, item, err);\n",
	    st->cname);
	if (gen_owns(st->result)) {
		fputs("\tif (dopy_rc < 0) {\n", g->o);
		gen_clear(g, st->result, deref(st->result, "item"), "\t\t");
		fputs("\t\tmemset(item, 0, sizeof(*item));\n\t}\n", g->o);
	}
	fputs("\treturn dopy_rc;\n}\n", g->o);
}

/* An upload: the call, then its items' sender. */
static void
upload_bodies(const struct gen *g, const struct gstub *st)
{
	const struct idl_type *t = st->upload->type;
	char *m = arg_member(g, st->upload, "item");

	fputs("{\n", g->o);
	async_body(g, st);
	fputs("}\n", g->o);
	fprintf(g->o, "\nstruct %s_item {\n\t%s;\n};\n\nstatic void\n"
	    "%s_item_put(dopy_out *w, const void *arg)\n{\n"
	    "\tconst struct %s_item *a = arg;\n\n", st->cname, m ? m : "?",
	    st->cname, st->cname);
	gen_put_image(g, t, "w", gen_aggregate(t) ? "*a->item" : "a->item",
	    "\t");
	fputs("}\n\n", g->o);
	send_prototype(g, st, 0);
	fprintf(g->o, "{\n\tstruct %s_item dopy_a;\n\n", st->cname);
	if (t->kind == DOPY_BYTES)
		fputs("\tdopy_a.item.data = (void *)item;\n"
		    "\tdopy_a.item.len = item_len;\n", g->o);
	else
		fputs("\tdopy_a.item = item;\n", g->o);
	fprintf(g->o, "\treturn dopy_upload_send_stub(upload, %s_item_put, "
	    "&dopy_a, err);\n}\n", st->cname);
	free(m);
}

static void
stub(const struct gen *g, const struct gstub *st)
{
	if (st->nparams > 0) {
		args_struct(g, st);
		put_fn(g, st);
	}
	if (st->result != NULL)
		get_fn(g, st);
	fputc('\n', g->o);
	prototype(g, st, 0, 0);
	if (st->stream) {
		stream_bodies(g, st);
		return;
	}
	if (st->upload != NULL) {
		upload_bodies(g, st);
		return;
	}
	fputs("{\n", g->o);
	sync_body(g, st);
	fputs("}\n", g->o);
	if (st->oneway)
		return;
	fputc('\n', g->o);
	prototype(g, st, 1, 0);
	fputs("{\n", g->o);
	async_body(g, st);
	fputs("}\n", g->o);
}

int
gen_client_c(struct gen *g)
{
	struct gstub *st;
	size_t i, j, n;

	gen_banner(g, "_client.c");
	fprintf(g->o, "#include <stdlib.h>\n#include <string.h>\n\n"
	    "#include \"%s_client.h\"\n", g->hbase);
	for (i = 0; i < g->f->nobjects; i++) {
		if ((st = gen_stubs(g, &g->f->objects[i], &n)) == NULL)
			return -1;
		for (j = 0; j < n; j++)
			stub(g, &st[j]);
		gen_stubs_free(st, n);
	}
	return ferror(g->o) ? -1 : 0;
}
