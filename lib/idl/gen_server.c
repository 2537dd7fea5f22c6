/*
 * gen_server.c - BASE_server.h and BASE_server.c: the method table of
 * each object or class, a trampoline per method that reads the
 * arguments straight into C, calls the function the user writes and
 * writes its result, and a registration function.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idl/gen.h"
#include "util.h"

/* The type of self: the object's own struct, or a class's state. */
static char *
self_type(const struct gen *g, const struct idl_object *ob)
{
	if (ob->is_class)
		return gen_ptype(g, ob->state);
	return dopy_asprintf("struct %s%s *", g->opt->prefix, ob->name);
}

static void
push(char **v, size_t *n, char *s)
{
	if (s != NULL)
		v[(*n)++] = s;
}

static void
prototype(const struct gen *g, const struct idl_object *ob,
    const struct gstub *st, int decl)
{
	char *v[64 + 4], buf[80], *t;
	size_t n = 0, i;

	push(v, &n, strdup("dopy_call *call"));
	if ((t = self_type(g, ob)) != NULL)
		push(v, &n, dopy_asprintf("%sself", t));
	free(t);
	for (i = 0; i < st->nparams; i++)
		push(v, &n, gen_cparam(g, st->params[i].type,
		    gen_cname(st->params[i].name, buf, sizeof(buf))));
	t = st->result != NULL && !st->stream ? gen_ptype(g, st->result) :
	    NULL;
	if (t != NULL)
		push(v, &n, dopy_asprintf("%sresult", t));
	free(t);
	fprintf(g->o, decl ? "int\t%s" : "int\n%s", st->cname);
	gen_params(g->o, strlen(st->cname) + (decl ? 8 : 0),
	    (const char *const *)v, n);
	fputs(decl ? ";\n" : "\n", g->o);
	while (n > 0)
		free(v[--n]);
}

/* A streaming method's sender, which the method calls per item:
 * o_m_send(call, item). */
static void
send_prototype(const struct gen *g, const struct gstub *st, int decl)
{
	char *item = gen_cparam(g, st->result, "item");
	const char *v[2] = { "dopy_call *call", NULL };

	v[1] = item != NULL ? item : "?";
	if (decl)
		fputs("/* Send one item of its stream: 0, or DOPY_E_CANCELLED "
		    "when the call\n * should stop (return that), or another "
		    "error. */\n", g->o);
	gen_proto(g, st->cname, "_send", v, 2, decl);
	free(item);
}

static void
send_body(const struct gen *g, const struct gstub *st)
{
	char *tpl = gen_tpl(st->result);

	fputc('\n', g->o);
	send_prototype(g, st, 0);
	fputs("{\n\tdopy_out *dopy_w = dopy_call_item_out(call);\n\n"
	    "\tif (dopy_w == NULL)\n\t\treturn DOPY_E_USAGE;\n", g->o);
	if (st->result->kind == DOPY_BYTES)
		fprintf(g->o, "\tdopy_out_begin(dopy_w, \"%s\");\n"
		    "\tdopy_out_bytes(dopy_w, item, item_len);\n"
		    "\tdopy_out_end(dopy_w);\n", tpl ? tpl : "?");
	else
		gen_put_image(g, st->result, "dopy_w", gen_aggregate(
		    st->result) ? "*item" : "item", "\t");
	fputs("\treturn dopy_call_item_send(call);\n}\n", g->o);
	free(tpl);
}

/* An upload's reader, which the method calls per item:
 * o_m_next(call, &item). */
static void
next_prototype(const struct gen *g, const struct gstub *st, int decl)
{
	char *pt = gen_ptype(g, st->upload->type);
	char *item = dopy_asprintf("%sitem", pt ? pt : "?");
	const char *v[2] = { "dopy_call *call", NULL };

	v[1] = item != NULL ? item : "?";
	if (decl)
		fputs("/* Read the next item of its upload: 1 with *item set "
		    "(yours to free),\n * 0 at the end, or DOPY_E_CANCELLED "
		    "when the call should stop (return\n * that), or another "
		    "error, raised already (return it). */\n", g->o);
	gen_proto(g, st->cname, "_next", v, 2, decl);
	free(item);
	free(pt);
}

static void
next_body(const struct gen *g, const struct gstub *st)
{
	const struct idl_type *t = st->upload->type;
	char *pt = gen_ptype(g, t);

	fprintf(g->o, "\nstatic void\n%s_item_get(dopy_in *r, void *item)\n"
	    "{\n\t%sv = item;\n\n", st->cname, pt ? pt : "?");
	gen_get_image(g, t, "r", t->kind == DOPY_BYTES ? "(*v)" : "*v",
	    "\t");
	fputs("}\n\n", g->o);
	next_prototype(g, st, 0);
	fprintf(g->o, "{\n\tint dopy_rc;\n\n"
	    "\tmemset(item, 0, sizeof(*item));\n"
	    "\tdopy_rc = dopy_call_next_item_stub(call, %s_item_get, item);\n",
	    st->cname);
	if (gen_owns(t)) {
		fputs("\tif (dopy_rc < 0) {\n", g->o);
		gen_clear(g, t, t->kind == DOPY_BYTES ? "(*item)" : "*item",
		    "\t\t");
		fputs("\t\tmemset(item, 0, sizeof(*item));\n\t}\n", g->o);
	}
	fputs("\treturn dopy_rc;\n}\n", g->o);
	free(pt);
}

/* The method's doc, and what the one who writes it must know of it. */
static void
method_comment(const struct gen *g, const struct gstub *st)
{
	char *doc;

	if (!st->isolated) {
		gen_comment(g->o, "", st->doc);
		return;
	}
	doc = dopy_asprintf("%s%sIsolated: each call runs in a child process,"
	    " killed %d ms after\nthe call is stopped; what it changes in self "
	    "is lost.", st->doc != NULL ? st->doc : "", st->doc != NULL ?
	    "\n\n" : "", st->isolated);
	gen_comment(g->o, "", doc != NULL ? doc : st->doc);
	free(doc);
}

static void
header_object(const struct gen *g, const struct idl_object *ob)
{
	struct gstub *st;
	size_t i, n;

	if (ob->is_class)
		fprintf(g->o, "\n/*\n * Class %s (dopy-pos(7)): self is the "
		    "stored state, read before each\n * method and written "
		    "back after it unless it is readonly or fails.\n */\n",
		    ob->name);
	else
		fprintf(g->o, "\n/* Object %s: struct %s%s is yours to define "
		    "(the state it serves). */\nstruct %s%s;\n", ob->name,
		    g->opt->prefix, ob->name, g->opt->prefix, ob->name);
	gen_comment(g->o, "", ob->doc);
	if ((st = gen_stubs(g, ob, &n)) == NULL)
		return;
	for (i = 0; i < n; i++) {
		method_comment(g, &st[i]);
		prototype(g, ob, &st[i], 1);
		if (st[i].stream)
			send_prototype(g, &st[i], 1);
		if (st[i].upload != NULL)
			next_prototype(g, &st[i], 1);
	}
	gen_stubs_free(st, n);
	if (ob->is_class)
		fprintf(g->o, "/* Register class %s (before or after "
		    "dopy_server_add_pos()). */\nint\t%s%s_register("
		    "dopy_server *server);\n", ob->name, g->opt->prefix,
		    ob->name);
	else
		fprintf(g->o, "/* Its table, for dopy_call_new_ref(). */\n"
		    "extern const struct dopy_object_def %s%s_def;\n"
		    "/* Register object %s, serving self. */\n"
		    "int\t%s%s_register(dopy_server *server, struct %s%s "
		    "*self);\n", g->opt->prefix, ob->name, ob->name,
		    g->opt->prefix, ob->name, g->opt->prefix, ob->name);
}

int
gen_server_h(struct gen *g)
{
	size_t i;

	gen_banner(g, "_server.h");
	fprintf(g->o, "#ifndef %s_SERVER\n#define %s_SERVER\n\n"
	    "#include \"%s.h\"\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n"
	    "\n/*\n"
	    " * You write these functions: each returns 0, or the value of\n"
	    " * dopy_raise(call, ...).  Arguments are lent for the call: copy\n"
	    " * what you keep.  A result you set is taken after the call and\n"
	    " * freed once it is sent: malloc strings and bytes' data, and\n"
	    " * whatever a structure or array holds.\n"
	    " */\n", g->guard, g->guard, g->hbase);
	for (i = 0; i < g->f->nobjects; i++)
		header_object(g, &g->f->objects[i]);
	fprintf(g->o, "\n#ifdef __cplusplus\n}\n#endif\n#endif /* %s_SERVER */"
	    "\n", g->guard);
	return ferror(g->o) ? -1 : 0;
}

static void
local(const struct gen *g, const struct idl_type *t, const char *name)
{
	char *ct = gen_ctype(g, t);
	const char *init = "";

	if (!gen_aggregate(t) && t->kind != DOPY_BYTES)
		init = t->kind == DOPY_STRING || t->kind == DOPY_ANY ?
		    " = NULL" : " = 0";
	fprintf(g->o, "\t%s%s%s%s;\n", ct ? ct : "?",
	    ct != NULL && ct[strlen(ct) - 1] == '*' ? "" : " ", name, init);
	free(ct);
}

static void
zero(const struct gen *g, const struct idl_type *t, const char *name)
{
	if (gen_aggregate(t) || t->kind == DOPY_BYTES)
		fprintf(g->o, "\tmemset(&%s, 0, sizeof(%s));\n", name, name);
}

/* The user's function called with the decoded arguments. */
static void
call_user(const struct gen *g, const struct idl_object *ob,
    const struct gstub *st)
{
	char *v[64 + 4], buf[80], *t = self_type(g, ob);
	const char *n, *lead = st->nparams > 0 ? "\telse\n\t\t" : "\t";
	size_t k = 0, i;

	v[k++] = strdup("call");
	v[k++] = dopy_asprintf("(%s)dopy_call_%s(call)", t ? t : "?",
	    ob->is_class ? "pstruct" : "state");
	free(t);
	for (i = 0; i < st->nparams; i++) {
		n = gen_cname(st->params[i].name, buf, sizeof(buf));
		if (st->params[i].type->kind == DOPY_BYTES) {
			v[k++] = dopy_asprintf("%s.data", n);
			v[k++] = dopy_asprintf("%s.len", n);
		} else
			v[k++] = dopy_asprintf("%s%s", gen_aggregate(
			    st->params[i].type) ? "&" : "", n);
	}
	if (st->result != NULL && !st->stream)
		v[k++] = strdup("&result");
	for (i = 0; i < k; i++)
		if (v[i] == NULL)
			v[i] = strdup("?");
	fprintf(g->o, "%sdopy_rc = %s", lead, st->cname);
	gen_args(g->o, (st->nparams > 0 ? 16 : 8) + 10 + strlen(st->cname),
	    st->nparams > 0 ? "\t\t    " : "\t    ", (const char *const *)v,
	    k);
	fputs(";\n", g->o);
	while (k > 0)
		free(v[--k]);
}

static void
trampoline(const struct gen *g, const struct idl_object *ob,
    const struct gstub *st)
{
	char buf[80];
	const char *n;
	size_t i;

	fprintf(g->o, "\nstatic int\n%s_run(dopy_call *call)\n{\n", st->cname);
	if (st->nparams > 0)
		fputs("\tdopy_in *dopy_r = dopy_call_in(call);\n", g->o);
	for (i = 0; i < st->nparams; i++)
		local(g, st->params[i].type, gen_cname(st->params[i].name,
		    buf, sizeof(buf)));
	if (st->result != NULL && !st->stream)
		local(g, st->result, "result");
	fputs("\tint dopy_rc;\n\n", g->o);
	for (i = 0; i < st->nparams; i++)
		zero(g, st->params[i].type, gen_cname(st->params[i].name,
		    buf, sizeof(buf)));
	if (st->result != NULL && !st->stream)
		zero(g, st->result, "result");
	for (i = 0; i < st->nparams; i++)
		gen_get_image(g, st->params[i].type, "dopy_r", gen_cname(
		    st->params[i].name, buf, sizeof(buf)), "\t");
	if (st->nparams > 0)
		fputs("\t/* Bad data: the library raises it, naming the "
		    "argument. */\n\tif (dopy_in_error(dopy_r) < 0)\n"
		    "\t\tdopy_rc = -1;\n", g->o);
	call_user(g, ob, st);
	if (st->result != NULL && !st->stream) {
		fputs("\tif (dopy_rc == 0) {\n"
		    "\t\tdopy_out *dopy_w = dopy_call_out(call);\n\n", g->o);
		gen_put_image(g, st->result, "dopy_w", "result", "\t\t");
		fputs("\t}\n", g->o);
	}
	for (i = 0; i < st->nparams; i++) {
		n = gen_cname(st->params[i].name, buf, sizeof(buf));
		gen_clear(g, st->params[i].type, n, "\t");
	}
	if (st->result != NULL && !st->stream)
		gen_clear(g, st->result, "result", "\t");
	fputs("\treturn dopy_rc;\n}\n", g->o);
	if (st->stream)
		send_body(g, st);
	if (st->upload != NULL)
		next_body(g, st);
}

static void
table_row(const struct gen *g, const struct gstub *st)
{
	struct idl_method m = { .params = (struct idl_param *)st->params,
	    .nparams = st->nparams, .upload = (struct idl_param *)st->upload };
	char *params = idl_params_text(&m);
	char *item = st->result != NULL ? idl_type_text(st->result) : NULL;
	char *result = st->stream && item != NULL ?
	    dopy_asprintf("stream %s", item) : item;

	fputs("\t{ ", g->o);
	gen_cstring(g->o, st->wire);
	fprintf(g->o, ", %s_run,\n\t    ", st->cname);
	gen_cstring(g->o, params ? params : "");
	fputs(",\n\t    ", g->o);
	if (result != NULL)
		gen_cstring(g->o, result);
	else
		fputs("NULL", g->o);
	fputs(",\n\t    ", g->o);
	if (st->doc != NULL)
		gen_cstring(g->o, st->doc);
	else
		fputs("NULL", g->o);
	fputs(" },\n", g->o);
	free(params);
	if (result != item)
		free(result);
	free(item);
}

/* The interface text as a C string, a line of it per line. */
static void
interface_text(const struct gen *g, const struct idl_object *ob)
{
	char *text = idl_print(g->f, ob->name), *p, *e;

	fprintf(g->o, "\nstatic const char %s%s_interface[] =\n",
	    g->opt->prefix, ob->name);
	for (p = text; p != NULL && *p != '\0'; p = e) {
		e = strchr(p, '\n');
		e = e != NULL ? e + 1 : p + strlen(p);
		fputs("    ", g->o);
		fputc('"', g->o);
		for (; p < e; p++)
			if (*p == '\n')
				fputs("\\n", g->o);
			else if (*p == '\t')
				fputs("\\t", g->o);
			else if (*p == '"' || *p == '\\')
				fprintf(g->o, "\\%c", *p);
			else
				fputc(*p, g->o);
		fputs(*e != '\0' ? "\"\n" : "\";\n", g->o);
	}
	if (text == NULL || *text == '\0')
		fputs("    \"\";\n", g->o);
	free(text);
}

static void
readonly_list(const struct gen *g, const struct idl_object *ob)
{
	size_t i, k = 0;

	fputs("\"", g->o);
	for (i = 0; i < ob->nmethods; i++)
		if (ob->methods[i].readonly)
			fprintf(g->o, "%s%s", k++ ? " " : "",
			    ob->methods[i].name);
	fputs("\"", g->o);
}

static void
class_def(const struct gen *g, const struct idl_object *ob)
{
	const char *px = g->opt->prefix;
	char *state = idl_type_text(ob->state), *ct = gen_ctype(g, ob->state);
	char buf[32];
	size_t i;

	fprintf(g->o, "\nstatic const size_t %s%s_offsets[] = {\n", px,
	    ob->name);
	if (ob->state->kind != DOPY_STRUCT)
		fputs("\t0\n", g->o);
	for (i = 0; ob->state->kind == DOPY_STRUCT &&
	    i < ob->state->st->nfields; i++) {
		if (ob->state->st->fields[i].name == NULL)
			snprintf(buf, sizeof(buf), "f%zu", i);
		fprintf(g->o, "\toffsetof(%s, %s)%s\n", ct ? ct : "?",
		    ob->state->st->fields[i].name != NULL ?
		    ob->state->st->fields[i].name : buf,
		    i + 1 < ob->state->st->nfields ? "," : "");
	}
	fprintf(g->o, "};\n\nstatic const struct dopy_pclass %s%s_class = {\n"
	    "\t", px, ob->name);
	gen_cstring(g->o, ob->name);
	fputs(", ", g->o);
	if (ob->doc != NULL)
		gen_cstring(g->o, ob->doc);
	else
		fputs("NULL", g->o);
	fputs(",\n\t", g->o);
	gen_cstring(g->o, state ? state : "?");
	fprintf(g->o, ", %s%s_methods, ", px, ob->name);
	readonly_list(g, ob);
	fputs(", NULL, NULL, NULL\n};\n", g->o);
	fprintf(g->o, "\nint\n%s%s_register(dopy_server *server)\n{\n\tint r;\n"
	    "\n\tif ((r = declare(server)) < 0)\n\t\treturn r;\n"
	    "\tif ((r = dopy_server_add_pclass_struct(server, &%s%s_class,\n"
	    "\t    sizeof(%s), %s%s_offsets)) < 0)\n\t\treturn r;\n"
	    "\treturn dopy_server_set_stub(server, \"%s\", %s%s_interface);\n"
	    "}\n", px, ob->name, px, ob->name, ct ? ct : "?", px, ob->name,
	    ob->name, px, ob->name);
	free(state);
	free(ct);
}

/* The register function's line for a method's sandbox, after its
 * isolation (dopy_server_set_sandbox keeps the grace). */
static void
set_sandbox(const struct gen *g, const char *obj, const struct idl_method *m)
{
	fprintf(g->o, "\tif ((r = dopy_server_set_sandbox(server, \"%s\", "
	    "\"%s\",\n\t    ", obj, m->name);
	gen_cstring(g->o, m->sandbox);
	fputs(")) < 0)\n\t\treturn r;\n", g->o);
}

static void
object_def(const struct gen *g, const struct idl_object *ob)
{
	const char *px = g->opt->prefix;
	size_t i;

	fprintf(g->o, "\nconst struct dopy_object_def %s%s_def = {\n\t",
	    px, ob->name);
	gen_cstring(g->o, ob->name);
	fputs(",\n\t", g->o);
	if (ob->doc != NULL)
		gen_cstring(g->o, ob->doc);
	else
		fputs("NULL", g->o);
	fprintf(g->o, ",\n\t%s%s_methods, NULL, NULL\n};\n", px, ob->name);
	fprintf(g->o, "\nint\n%s%s_register(dopy_server *server, struct %s%s "
	    "*self)\n{\n\tint r;\n\n\tif ((r = declare(server)) < 0)\n"
	    "\t\treturn r;\n\tif ((r = dopy_server_add(server, "
	    "&%s%s_def, self)) < 0)\n\t\treturn r;\n", px, ob->name, px,
	    ob->name, px, ob->name);
	for (i = 0; i < ob->nmethods; i++) {
		if (ob->methods[i].oneway)
			fprintf(g->o, "\tif ((r = dopy_server_set_oneway(server, "
			    "\"%s\", \"%s\")) < 0)\n\t\treturn r;\n", ob->name,
			    ob->methods[i].name);
		if (ob->methods[i].isolated)
			fprintf(g->o, "\tif ((r = dopy_server_set_isolated("
			    "server, \"%s\", \"%s\",\n\t    %d)) < 0)\n"
			    "\t\treturn r;\n", ob->name, ob->methods[i].name,
			    ob->methods[i].isolated);
		if (ob->methods[i].sandbox != NULL)
			set_sandbox(g, ob->name, &ob->methods[i]);
	}
	fprintf(g->o, "\treturn dopy_server_set_stub(server, \"%s\", "
	    "%s%s_interface);\n}\n", ob->name, px, ob->name);
}

static int
server_object(const struct gen *g, const struct idl_object *ob)
{
	struct gstub *st;
	size_t i, n;

	if ((st = gen_stubs(g, ob, &n)) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		trampoline(g, ob, &st[i]);
	fprintf(g->o, "\nstatic const struct dopy_method %s%s_methods[] = {\n",
	    g->opt->prefix, ob->name);
	for (i = 0; i < n; i++)
		table_row(g, &st[i]);
	fputs("\t{ NULL, NULL, NULL, NULL, NULL }\n};\n", g->o);
	gen_stubs_free(st, n);
	interface_text(g, ob);
	if (ob->is_class)
		class_def(g, ob);
	else
		object_def(g, ob);
	return 0;
}

/* Objects by reference of every object of the file are generated ones,
 * whichever of the file's register functions runs. */
static void
declare(const struct gen *g)
{
	const struct idl_object *ob;
	size_t i;

	fputs("\nstatic int\ndeclare(dopy_server *server)\n{\n\tint r = 0;\n\n"
	    "\t(void)server;\t\t/* a file of classes only */\n", g->o);
	for (i = 0; i < g->f->nobjects; i++) {
		ob = &g->f->objects[i];
		if (!ob->is_class)
			fprintf(g->o, "\tif (r == 0)\n\t\tr = dopy_server_set_"
			    "stub_def(server, &%s%s_def,\n\t\t    %s%s_interface);"
			    "\n", g->opt->prefix, ob->name, g->opt->prefix,
			    ob->name);
	}
	fputs("\treturn r;\n}\n", g->o);
}

int
gen_server_c(struct gen *g)
{
	size_t i;

	gen_banner(g, "_server.c");
	fprintf(g->o, "#include <stddef.h>\n#include <stdlib.h>\n"
	    "#include <string.h>\n\n#include \"%s_server.h\"\n\n"
	    "static int declare(dopy_server *);\n", g->hbase);
	for (i = 0; i < g->f->nobjects; i++)
		if (server_object(g, &g->f->objects[i]) < 0)
			return -1;
	declare(g);
	return ferror(g->o) ? -1 : 0;
}
