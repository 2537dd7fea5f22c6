/*
 * test_idl.c - lib/idl/: the interface language of dopy-idl(5): its
 * parser and messages, its dopy(5) text forms, its canonical printer
 * and its compatibility check.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "idl/idl.h"
#include "idl/lex.h"

static struct idl_file *
ok(const char *text)
{
	char err[300] = "";
	struct idl_file *f = idl_parse("t.idl", text, err, sizeof(err));

	cr_assert_not_null(f, "%s\n---\n%s", err, text);
	return f;
}

/* The message, without "t.idl:", starts with want ("LINE:COL: ..."). */
static void
bad(const char *text, const char *want)
{
	char err[300] = "";
	struct idl_file *f = idl_parse("t.idl", text, err, sizeof(err));

	if (f != NULL) {
		idl_free(f);
		cr_assert_fail("parsed:\n%s", text);
	}
	cr_assert(strncmp(err, "t.idl:", 6) == 0, "'%s'", err);
	cr_assert(strncmp(err + 6, want, strlen(want)) == 0,
	    "%s\ngot  '%s'\nwant 't.idl:%s'", text, err, want);
	cr_assert_null(idl_parse("t.idl", text, NULL, 0));
}

static const char counter[] =
    "## Points on a plane.\n"
    "struct point {\n"
    "\t## Across.\n"
    "\tx: int;\n"
    "\ty: int;\n"
    "}\n"
    "\n"
    "error naming.Exists;\n"
    "\n"
    "## A counter.\n"
    "##\n"
    "## It counts.\n"
    "object counter {\n"
    "\t## Too big.\n"
    "\terror Overflow;\n"
    "\tattr total: int;\n"
    "\t## The most it counts to.\n"
    "\tattr writable limit: int;\n"
    "\t## Add n; the new value.\n"
    "\tadd(n: int = 1) -> int raises Overflow;\n"
    "\toneway log(text: string);\n"
    "\techo(p: point, all: point[]) -> (a:int,b:string)[];\n"
    "\tname(n: string) raises naming.Exists, Overflow;\n"
    "\t## In a child, killed 500 ms after the call is stopped.\n"
    "\tisolated(500) crunch(n: int) -> int;\n"
    "\tisolated oneway drop(text: string);\n"
    "}\n"
    "\n"
    "class record {\n"
    "\tstate: (count:int,text:string);\n"
    "\treadonly get() -> int;\n"
    "\tput(count: int, text: string = \"Hello, world\");\n"
    "}\n";

Test(idl, limits_agree_with_wire)
{
	cr_assert_eq(IDL_MAX_ARGS, DOPY_MAX_ARGS);
	cr_assert_eq(IDL_MAX_DEPTH, DOPY_MAX_DEPTH);
	cr_assert_eq(IDL_GRACE_DEFAULT, DOPY_ISOLATE_GRACE_MS);
}

Test(idl, tree)
{
	struct idl_file *f = ok(counter);
	const struct idl_object *c, *r;
	const struct idl_method *m;

	cr_assert_eq(f->nstructs, 3);		/* point and two anonymous */
	cr_assert_str_eq(f->structs[0]->name, "point");
	cr_assert_str_eq(f->structs[0]->doc, "Points on a plane.");
	cr_assert_str_eq(f->structs[0]->fields[0].doc, "Across.");
	cr_assert_null(f->structs[0]->fields[1].doc);
	cr_assert_null(f->structs[1]->name);
	cr_assert_eq(f->nerrors, 1);
	cr_assert_str_eq(f->errors[0].name, "naming.Exists");
	cr_assert_eq(f->nobjects, 2);
	c = idl_object_find(f, "counter");
	r = idl_object_find(f, "record");
	cr_assert_null(idl_object_find(f, "nothing"));
	cr_assert(c != NULL && r != NULL && !c->is_class && r->is_class);
	cr_assert_str_eq(c->doc, "A counter.\n\nIt counts.");
	cr_assert_eq(c->pos.line, 13);
	cr_assert_eq(c->pos.col, 8);
	cr_assert_str_eq(c->errors[0].name, "counter.Overflow");
	cr_assert_eq(c->nattrs, 2);
	cr_assert(!c->attrs[0].writable && c->attrs[1].writable);
	m = &c->methods[0];
	cr_assert_str_eq(m->name, "add");
	cr_assert_str_eq(m->params[0].def, "1");
	cr_assert_eq(m->result->kind, DOPY_INT);
	cr_assert_eq(m->nraises, 1);
	cr_assert_str_eq(m->raises[0], "counter.Overflow");
	cr_assert(c->methods[1].oneway && c->methods[1].result == NULL);
	m = &c->methods[2];
	cr_assert_eq(m->params[0].type->st, f->structs[0]);
	cr_assert_eq(m->params[1].type->kind, DOPY_ARRAY);
	cr_assert_eq(m->params[1].type->elem->st, f->structs[0]);
	cr_assert_eq(m->result->elem->st, f->structs[1]);
	m = &c->methods[3];
	cr_assert_str_eq(m->raises[0], "naming.Exists");
	cr_assert_str_eq(m->raises[1], "counter.Overflow");
	cr_assert(!m->isolated && !c->methods[1].isolated);
	cr_assert(c->methods[4].isolated == 500 && !c->methods[4].oneway);
	cr_assert(c->methods[5].isolated == IDL_GRACE_DEFAULT &&
	    c->methods[5].oneway);
	cr_assert_eq(r->state->st, f->structs[2]);
	cr_assert(r->methods[0].readonly);
	cr_assert_str_eq(r->methods[1].params[1].def, "Hello, world");
	idl_free(f);
	idl_free(NULL);
}

Test(idl, lexical)
{
	struct idl_file *f = ok(
	    "# a comment\n"
	    "object o {   # another\n"
	    "  ## one\n"
	    "    ##   two  \n"
	    "  ##\n"
	    "  f(a:int=-3,b:double=.5,c:double=-2.5e-3,d:uint=0x10,"
	    "e:string=\"q\\\"\\\\\\n\\t\\x41\",g:bool=yes)->int;\n"
	    "}\n");
	const struct idl_method *m = &f->objects[0].methods[0];

	cr_assert_str_eq(m->doc, "one\n  two\n");
	cr_assert_str_eq(m->params[0].def, "-3");
	cr_assert_str_eq(m->params[1].def, "0.5");
	cr_assert_str_eq(m->params[2].def, "-0.0025");
	cr_assert_str_eq(m->params[3].def, "16");
	cr_assert_str_eq(m->params[4].def, "q\"\\\n\tA");
	cr_assert_str_eq(m->params[5].def, "true");
	idl_free(f);
}

Test(idl, defaults_of_every_shape)
{
	struct idl_file *f = ok("object o { f("
	    "a: int[] = [1, 2,3], s: (string,int) = (\"a,b\", 3), "
	    "t: string[] = [\"x\", \"y\\\"z\"], e: int[] = [], "
	    "n: (x:int,y:int)[] = [(1, 2), (3,4)], g: string = \"\", "
	    "h: bytes = \"\\x01\\xff\", k: bool[][] = [[true], []]); }\n");
	const struct idl_param *p = f->objects[0].methods[0].params;

	cr_assert_str_eq(p[0].def, "[1, 2, 3]");
	cr_assert_str_eq(p[1].def, "(\"a,b\", 3)");
	cr_assert_str_eq(p[2].def, "[\"x\", \"y\\\"z\"]");
	cr_assert_str_eq(p[3].def, "[]");
	cr_assert_str_eq(p[4].def, "[(1, 2), (3, 4)]");
	cr_assert_str_eq(p[5].def, "");
	cr_assert_str_eq(p[6].def, "\x01\xff");
	cr_assert_str_eq(p[7].def, "[[true], []]");
	idl_free(f);
}

Test(idl, every_type)
{
	struct idl_file *f = ok("struct s { b: bool; i: int; u: uint; "
	    "d: double; t: string; r: ref; }\n"
	    "object o {\n"
	    "\tattr a: any;\n"
	    "\tf(a: bool, b: int, c: uint, d: double, e: string, g: bytes,"
	    " h: ref, i: any, j: s, k: s[], l: int[][], m: (int,string),"
	    " n: bytes[], o: (r:ref)[][]) -> any;\n"
	    "}\n");
	const struct idl_method *m = &f->objects[0].methods[0];
	static const char *const want[] = { "bool", "int", "uint", "double",
	    "string", "bytes", "ref", "any",
	    "(b:bool,i:int,u:uint,d:double,t:string,r:ref)",
	    "(b:bool,i:int,u:uint,d:double,t:string,r:ref)[]", "int[][]",
	    "(int,string)", "bytes[]", "(r:ref)[][]" };
	dopy_type *t;
	char *text;
	size_t i;

	cr_assert_eq(m->nparams, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < m->nparams; i++) {
		text = idl_type_text(m->params[i].type);
		cr_assert_str_eq(text, want[i]);
		t = dopy_type_parse(text, NULL, 0);
		cr_assert_not_null(t, "%s", text);
		cr_assert_str_eq(dopy_type_name(t), text);
		dopy_type_free(t);
		free(text);
	}
	idl_free(f);
}

/* idl_params_text is what dopy_sig_parse() makes of it. */
Test(idl, params_text_is_sig_text)
{
	struct idl_file *f = ok("object o {\n"
	    "\ta();\n"
	    "\tb(x: int, y: double = 1.50, z: bool = yes);\n"
	    "\tc(p: (x:int,y:int)[] = [(1,2)], s: string[] = [\"a b\"]);\n"
	    "\td(s: string = \"Hello\", t: bytes = \"raw\", "
	    "u: string = \"\");\n"
	    "}\n");
	static const char *const want[] = { "", "x:int, y:double=1.5, "
	    "z:bool=true", "p:(x:int,y:int)[]=[(1, 2)], s:string[]=[\"a b\"]",
	    "s:string=Hello, t:bytes=raw, u:string=" };
	const struct idl_object *o = &f->objects[0];
	dopy_sig *s;
	char *text, err[200];
	size_t i;

	for (i = 0; i < o->nmethods; i++) {
		text = idl_params_text(&o->methods[i]);
		cr_assert_str_eq(text, want[i]);
		s = dopy_sig_parse(text, err, sizeof(err));
		cr_assert_not_null(s, "%s: %s", text, err);
		cr_assert_str_eq(s->text, text);
		dopy_sig_free(s);
		free(text);
	}
	idl_free(f);
}

/* Strings sig.c would cut short or trim go quoted, and read back. */
Test(idl, params_text_quotes_what_must_be)
{
	struct idl_file *f = ok("object o { f(a: string = \"x, y\", "
	    "b: string = \"say \\\"hi\\\"\", c: string = \" pad \", "
	    "d: string = \"(\", e: string = \"back\\\\slash\", "
	    "g: int = 2); }\n");
	static const char *const want[] = { "x, y", "say \"hi\"", " pad ",
	    "(", "back\\slash" };
	dopy_sig *s;
	char *text, err[200];
	const char *got;
	size_t i, n;

	text = idl_params_text(&f->objects[0].methods[0]);
	cr_assert_str_eq(text, "a:string=\"x, y\", b:string=\"say \\\"hi\\\"\","
	    " c:string=\" pad \", d:string=\"(\", e:string=back\\slash, "
	    "g:int=2");
	s = dopy_sig_parse(text, err, sizeof(err));
	cr_assert_not_null(s, "%s: %s", text, err);
	cr_assert_eq(dopy_sig_len(s), 6);
	for (i = 0; i < 5; i++) {
		got = (const char *)dopy_value_get_bytes(dopy_sig_default(s, i),
		    &n);
		cr_assert(n == strlen(want[i]) && memcmp(got, want[i], n) == 0,
		    "%zu: '%.*s'", i, (int)n, got);
	}
	dopy_sig_free(s);
	free(text);
	idl_free(f);
}

/* ---- the printer ---- */

static void
eq_str(const char *a, const char *b, const char *what)
{
	cr_assert((a == NULL) == (b == NULL) && (a == NULL ||
	    strcmp(a, b) == 0), "%s: '%s' vs '%s'", what, a ? a : "NULL",
	    b ? b : "NULL");
}

static void
eq_type(const struct idl_type *a, const struct idl_type *b)
{
	char *ta = idl_type_text(a), *tb = idl_type_text(b);

	cr_assert((a == NULL) == (b == NULL));
	eq_str(ta, tb, "type");
	if (a != NULL && a->kind == DOPY_STRUCT)
		eq_str(a->st->name, b->st->name, "struct name");
	free(ta);
	free(tb);
}

static void
eq_method(const struct idl_method *a, const struct idl_method *b)
{
	size_t i;

	eq_str(a->name, b->name, "method");
	eq_str(a->doc, b->doc, a->name);
	cr_assert(a->nparams == b->nparams && a->nraises == b->nraises &&
	    a->oneway == b->oneway && a->readonly == b->readonly &&
	    a->isolated == b->isolated);
	eq_str(a->sandbox, b->sandbox, "sandbox");
	for (i = 0; i < a->nparams; i++) {
		eq_str(a->params[i].name, b->params[i].name, "param");
		eq_type(a->params[i].type, b->params[i].type);
		eq_str(a->params[i].def, b->params[i].def, "default");
	}
	eq_type(a->result, b->result);
	for (i = 0; i < a->nraises; i++)
		eq_str(a->raises[i], b->raises[i], "raises");
}

static void
eq_object(const struct idl_object *a, const struct idl_object *b)
{
	size_t i;

	eq_str(a->name, b->name, "object");
	eq_str(a->doc, b->doc, a->name);
	cr_assert(a->is_class == b->is_class && a->nmethods == b->nmethods &&
	    a->nattrs == b->nattrs && a->nerrors == b->nerrors);
	eq_type(a->state, b->state);
	for (i = 0; i < a->nerrors; i++) {
		eq_str(a->errors[i].name, b->errors[i].name, "error");
		eq_str(a->errors[i].doc, b->errors[i].doc, "error doc");
	}
	for (i = 0; i < a->nattrs; i++) {
		eq_str(a->attrs[i].name, b->attrs[i].name, "attr");
		eq_str(a->attrs[i].doc, b->attrs[i].doc, "attr doc");
		eq_type(a->attrs[i].type, b->attrs[i].type);
		cr_assert_eq(a->attrs[i].writable, b->attrs[i].writable);
	}
	for (i = 0; i < a->nmethods; i++)
		eq_method(&a->methods[i], &b->methods[i]);
}

/* Equal trees, but for positions; anonymous structures compare by
 * their uses. */
static void
eq_file(const struct idl_file *a, const struct idl_file *b)
{
	size_t i, j, na = 0, nb = 0;

	for (i = 0; i < a->nstructs; i++)
		na += a->structs[i]->name != NULL;
	for (i = 0; i < b->nstructs; i++)
		nb += b->structs[i]->name != NULL;
	cr_assert_eq(na, nb);
	for (i = j = 0; i < a->nstructs; i++) {
		if (a->structs[i]->name == NULL)
			continue;
		while (b->structs[j]->name == NULL)
			j++;
		eq_str(a->structs[i]->name, b->structs[j]->name, "struct");
		eq_str(a->structs[i]->doc, b->structs[j]->doc, "struct doc");
		cr_assert_eq(a->structs[i]->nfields, b->structs[j]->nfields);
		j++;
	}
	cr_assert_eq(a->nerrors, b->nerrors);
	for (i = 0; i < a->nerrors; i++)
		eq_str(a->errors[i].name, b->errors[i].name, "error");
	cr_assert_eq(a->nobjects, b->nobjects);
	for (i = 0; i < a->nobjects; i++)
		eq_object(&a->objects[i], &b->objects[i]);
}

/* print, parse, compare; print again: the same bytes. */
static void
round_trip(const char *text, const char *object)
{
	struct idl_file *f = ok(text), *g;
	char *p1, *p2;

	p1 = idl_print(f, object);
	cr_assert_not_null(p1);
	g = ok(p1);
	if (object == NULL)
		eq_file(f, g);
	else
		eq_object(idl_object_find(f, object), &g->objects[0]);
	p2 = idl_print(g, NULL);
	cr_assert_str_eq(p1, p2);
	free(p1);
	free(p2);
	idl_free(f);
	idl_free(g);
}

Test(idl, print_is_canonical)
{
	struct idl_file *f = ok(counter);
	char *p = idl_print(f, NULL);

	cr_assert_str_eq(p, counter);
	free(p);
	cr_assert_null(idl_print(f, "nothing"));
	idl_free(f);
}

Test(idl, print_one_object)
{
	struct idl_file *f = ok(counter);
	char *p = idl_print(f, "record");

	cr_assert_str_eq(p, "class record {\n"
	    "\tstate: (count:int,text:string);\n"
	    "\treadonly get() -> int;\n"
	    "\tput(count: int, text: string = \"Hello, world\");\n"
	    "}\n");
	free(p);
	p = idl_print(f, "counter");
	cr_assert(strncmp(p, counter, strstr(counter, "class") -
	    counter - 1) == 0, "%s", p);
	free(p);
	idl_free(f);
}

Test(idl, print_normalises)
{
	struct idl_file *f = ok("object o{f(a:int=0x10,b:string=\"x\\ty\")"
	    "->int raises o.E;error E;attr writable w:(x:int)[];"
	    "isolated ( 2000 )oneway g();isolated(07)h();}"
	    "struct s{a:int;}error T;");
	char *p = idl_print(f, NULL);

	cr_assert_str_eq(p, "struct s {\n\ta: int;\n}\n\nerror T;\n\n"
	    "object o {\n\terror E;\n\tattr writable w: (x:int)[];\n"
	    "\tf(a: int = 16, b: string = \"x\\ty\") -> int raises E;\n"
	    "\tisolated oneway g();\n\tisolated(7) h();\n}\n");
	free(p);
	idl_free(f);
}

Test(idl, round_trips)
{
	round_trip(counter, NULL);
	round_trip(counter, "counter");
	round_trip(counter, "record");
	round_trip("object o { f(a: int[] = [1, 2,3], s: (string,int) = "
	    "(\"a,b\", 3), t: string[] = [\"x\", \"y\\\"z\"], "
	    "g: string = \"\\x01\\r\\n\", d: double = -2.5e10); }", NULL);
	round_trip("## one\n##\n##   three\nerror A.B;\nobject o {\n"
	    "## e\nerror E;\n## a\nattr a: any;\n"
	    "f(x: any) -> any raises E, A.B;\n}\n"
	    "class c { state: int[]; readonly g(); }\n", NULL);
	round_trip("struct u { s: string; } struct unused { x: int; }\n"
	    "object o { f(x: u[][]) -> (int,int); }\n", "o");
	round_trip("object o {\n## d\nisolated(1) oneway a();\n"
	    "isolated(3600000) b() -> int;\nisolated(2000) c();\n"
	    "isolated d(x: int = 2) -> stream int; }\n", NULL);
}

/* ---- bad files: every message, where it points ---- */

Test(idl, errors)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		/* syntax */
		{ "object counter {\n\tadd(n: int)\n}\n",
		    "3:1: expected ';' after method add" },
		{ "object c { add(n: int) -> int }",
		    "1:31: expected ';' after method add" },
		{ "object c { add(n int); }",
		    "1:18: expected ':' after parameter n" },
		{ "object c { add(n: int; }",
		    "1:22: expected ',' or ')' after parameter n" },
		{ "object c { add; }", "1:15: expected '(' after method add" },
		{ "object c { f(x: int = ); }",
		    "1:23: expected a value after '=' for parameter x" },
		{ "object c { f(x: int = 1;); }",
		    "1:24: expected ',' or ')' after the default of "
		    "parameter x" },
		{ "object c { f(x: int[] = 1]); }",
		    "1:26: unbalanced ']' in a default" },
		{ "object c {", "1:11: expected '}' at the end of object c" },
		{ "struct p { x: int;", "1:19: expected '}' at the end of "
		    "struct p" },
		{ "struct p { x int; }", "1:14: expected ':' after field x" },
		{ "struct p { x: int }", "1:19: expected ';' after field x of "
		    "struct p" },
		{ "struct p {}", "1:8: struct p has no fields" },
		{ "thing x;", "1:1: expected struct, error, object or class" },
		{ "object c { 3(); }",
		    "1:12: expected a method, attr or error in object c" },
		{ "object c { f() raises; }", "1:22: expected the name of an "
		    "error after raises" },
		{ "error;", "1:6: expected the name of an error" },
		{ "object c { f(x: int[); }", "1:21: expected ']' after '[' "
		    "in a type" },
		{ "object c { f(x: ); }", "1:17: expected a type" },
		{ "class r { f(); }", "1:11: class r: expected 'state: TYPE;' "
		    "first" },
		{ "class r { state: int; state: int; }",
		    "1:23: class r: state comes first, once" },
		{ "object o { state: int; }",
		    "1:12: object o: only a class has a state" },
		/* lexical */
		{ "object c { f(s: string = \"abc); }",
		    "1:26: unterminated string" },
		{ "object c { f(s: string = \"a\\qb\"); }",
		    "1:28: unknown escape '\\q'" },
		{ "object c { f(s: string = \"a\\0\"); }",
		    "1:28: a string here cannot hold a NUL byte" },
		{ "object c { f(s: string = \"\\x4\"); }",
		    "1:27: bad escape '\\x'" },
		{ "object c { f() @ }", "1:16: unexpected character '@'" },
		{ "object c \x01", "1:10: unexpected byte 0x01" },
		/* docs */
		{ "## lost\n\n## also\nobject c {}", "1:1: this documentation "
		    "comment documents nothing" },
		{ "object c {\n\tf();\n\t## lost\n}",
		    "3:2: this documentation comment documents nothing" },
		{ "object c {}\n## lost", "2:1: this documentation comment "
		    "documents nothing" },
		/* types */
		{ "object c { f(p: pont); }", "1:17: unknown type 'pont'" },
		{ "object c { f(p: p); } struct p { x: int; }",
		    "1:17: unknown type 'p'" },
		{ "struct point { x: int[]; }", "1:19: field 'x' of struct "
		    "point: arrays are not allowed in a structure (dopy(5))" },
		{ "struct point { x: bytes; }", "1:19: field 'x' of struct "
		    "point: bytes are not allowed in a structure (dopy(5))" },
		{ "struct q { a: int; } struct p { x: q; }", "1:36: field 'x' "
		    "of struct p: structures do not nest (dopy(5))" },
		{ "object c { f(p: (int,(int))); }", "1:22: field 2 of a "
		    "structure: structures do not nest (dopy(5))" },
		{ "object c { f(p: (a:int,b:int[])); }", "1:26: field 'b' of a "
		    "structure: arrays are not allowed in a structure" },
		{ "struct p { x: any; }", "1:15: any is only for a whole "
		    "parameter, result or attribute" },
		{ "object c { f(x: any[]); }", "1:17: any is only for a whole "
		    "parameter, result or attribute" },
		{ "class r { state: any; }", "1:18: any is only for a whole" },
		{ "object c { f(p: (a:int,int)); }",
		    "1:24: name every field of "
		    "a structure, or none" },
		{ "object c { f(p: (a:int,a:int)); }", "1:24: field 'a' is "
		    "declared twice in a structure" },
		{ "struct p { x: int; x: int; }", "1:20: field 'x' is declared "
		    "twice in struct p" },
		{ "object c { f(x: int[][][][][][][][]); }",
		    "1:17: type nested "
		    "too deeply (dopy(5) allows 8 levels)" },
		/* defaults */
		{ "object c { f(n: int = \"x\"); }",
		    "1:23: parameter n: default: expected int, got '\"x\"'" },
		{ "object c { f(n: uint = -1); }",
		    "1:24: parameter n: default: out of range for uint" },
		{ "object c { f(s: string = hello); }", "1:26: parameter s: a "
		    "string default is one double-quoted string" },
		{ "object c { f(a: int[] = [1, \"x\"]); }",
		    "1:25: parameter a: default: expected int" },
		{ "object c { f(a: (int,int) = (1)); }",
		    "1:29: parameter a: default: (int,int) wants 2 fields" },
		{ "object c { f(a: any = 1); }",
		    "1:23: parameter a: a parameter "
		    "of type any takes no default" },
		{ "object c { f(a: ref = x); }",
		    "1:23: parameter a: a ref takes no default" },
		/* names */
		{ "object class {}", "1:8: 'class' is a C++ keyword" },
		{ "object c { int(); }", "1:12: 'int' is a C keyword" },
		{ "object c { errno(); }",
		    "1:12: 'errno' is a macro of the C library" },
		{ "struct string { x: int; }", "1:8: 'string' is a word of the "
		    "interface language" },
		{ "object c { attr writable writable: int; }",
		    "1:26: 'writable' is a word of the interface language" },
		{ "object dopy_x {}",
		    "1:8: 'dopy_x': names starting with dopy_ "
		    "are dopy's own" },
		{ "object c { f(_x: int); }", "1:14: '_x': names starting with "
		    "'_' are reserved in C" },
		{ "object a.b {}", "1:8: 'a.b': only error names have dots" },
		{ "object c { error a.b; }",
		    "1:18: an error declared in object "
		    "c has a plain name" },
		/* duplicates and clashes */
		{ "object c { add(); add(); }",
		    "1:19: duplicate method 'add' in object c" },
		{ "object c { attr a: int; attr a: int; }",
		    "1:30: duplicate attr 'a' in object c" },
		{ "object c { f(a: int, a: int); }",
		    "1:22: parameter 'a' is declared twice in method f" },
		{ "object c {} object c {}",
		    "1:20: object c is already declared" },
		{ "struct c { x: int; } class c { state: int; }",
		    "1:28: struct c is already declared" },
		{ "error E; error E;", "1:16: error 'E' is already declared" },
		{ "error c.E; object c { error E; }",
		    "1:29: error 'c.E' is already declared" },
		{ "error E; object c { error E; }",
		    "1:27: error E of c hides the top-level error E" },
		{ "object c { attr x: int; get_x() -> int; }", "1:25: method "
		    "get_x of c clashes with attr x" },
		{ "object c { set_x(v: int); attr x: int; }", "1:12: method "
		    "set_x of c clashes with attr x" },
		/* methods */
		{ "object counter { add() raises Overflw; }",
		    "1:31: error 'Overflw' raised by counter.add is not "
		    "declared" },
		{ "object a { error X; } object b { f() raises a.X; }",
		    "1:45: error 'a.X' raised by b.f is not declared here" },
		{ "error E; object c { f() raises E, E; }",
		    "1:35: error 'E' is raised twice by c.f" },
		{ "object c { oneway f() -> int; }", "1:23: oneway method f "
		    "cannot have a result" },
		{ "error E; object c { oneway f() raises E; }", "1:32: oneway "
		    "method f cannot raise errors" },
		{ "object c { readonly f(); }", "1:12: readonly is for the "
		    "methods of a class" },
		{ "object c { oneway readonly f(); }", "1:19: 'readonly' is a "
		    "word of the interface language" },
		/* isolated */
		{ "object c { isolated attr x: int; }", "1:12: isolated is for "
		    "methods, not for an attr" },
		{ "object c { isolated(10) error E; }", "1:12: isolated is for "
		    "methods, not for an error" },
		{ "object c { oneway attr x: int; }", "1:12: oneway is for "
		    "methods, not for an attr" },
		{ "class c { state: int; isolated f(); }", "1:23: isolated is "
		    "for the methods of an object, and c is a class" },
		{ "object c { oneway isolated f(); }", "1:19: isolated comes "
		    "first: isolated oneway NAME(...)" },
		{ "object c { isolated isolated f(); }", "1:21: isolated is "
		    "given twice" },
		{ "object c { isolated oneway isolated f(); }", "1:28: "
		    "isolated is given twice" },
		{ "object c { readonly isolated f(); }", "1:12: readonly is "
		    "for the methods of a class" },
		{ "class c { state: int; readonly isolated f(); }", "1:32: "
		    "isolated is for the methods of an object" },
		{ "object c { isolated(0) f(); }", "1:21: expected the grace "
		    "in milliseconds, 1 to 3600000, or a sandbox in quotes, "
		    "after 'isolated('" },
		{ "object c { isolated(3600001) f(); }", "1:21: expected the "
		    "grace in milliseconds" },
		{ "object c { isolated(-5) f(); }", "1:21: expected the grace "
		    "in milliseconds" },
		{ "object c { isolated(1.5) f(); }", "1:21: expected the grace "
		    "in milliseconds" },
		{ "object c { isolated() f(); }", "1:21: expected the grace "
		    "in milliseconds" },
		{ "object c { isolated(n: int) -> int; }", "1:21: expected "
		    "the grace in milliseconds" },
		{ "object c { isolated(5 f(); }", "1:23: expected ')' after "
		    "the grace of isolated" },
		{ "object c { isolated; }", "1:20: expected a method, attr "
		    "or error in object c" },
		{ "object isolated { }", "1:8: 'isolated' is a word of the "
		    "interface language" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		bad(cases[i].text, cases[i].want);
}

Test(idl, bounds)
{
	char *text, *p, want[80];
	size_t i, n;

	p = text = malloc(65 * 16 + 64);
	p += sprintf(p, "object c { f(");
	for (i = 0; i < 65; i++)
		p += sprintf(p, "%sa%zu: int", i ? ", " : "", i);
	sprintf(p, "); }");
	snprintf(want, sizeof(want), "1:%d: method f has more than 64 "
	    "parameters (dopy(5))", (int)(strstr(text, "a64") - text + 1));
	bad(text, want);
	strcpy(strstr(text, ", a64"), "); }");	/* 64 are fine */
	idl_free(ok(text));
	free(text);
	idl_free(ok("object c { f(x: int[][][][][][][]); }"));
	n = (1 << 20) + 1;
	text = malloc(n + 1);
	memset(text, ' ', n);
	text[n] = '\0';
	bad(text, "1:1: file larger than 1048576 bytes");
	free(text);
}

Test(idl, parse_file)
{
	char err[300] = "", text[4096], *p;
	size_t n;
	FILE *fp;
	struct idl_file *f = idl_parse_file("tests/idl/counter.idl", err,
	    sizeof(err));

	cr_assert_not_null(f, "%s", err);
	cr_assert_str_eq(f->path, "tests/idl/counter.idl");
	cr_assert_not_null(idl_object_find(f, "counter"));
	/* dopy-idl(5)'s example is in canonical form */
	fp = fopen("tests/idl/counter.idl", "r");
	cr_assert_not_null(fp);
	n = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	text[n] = '\0';
	p = idl_print(f, NULL);
	cr_assert_str_eq(p, text);
	free(p);
	idl_free(f);
	cr_assert_null(idl_parse_file("tests/idl/none.idl", err,
	    sizeof(err)));
	cr_assert_str_eq(err, "tests/idl/none.idl: No such file or directory");
}

/* ---- compatibility ---- */

static const char base[] =
    "struct point { x: int; y: int; }\n"
    "error Gone;\n"
    "object counter {\n"
    "\terror Overflow;\n"
    "\tattr total: int;\n"
    "\tattr writable limit: int;\n"
    "\tadd(n: int = 1, by: string = \"me\") -> int raises Overflow;\n"
    "\toneway log(text: string);\n"
    "\techo(p: point, q: (a:int,b:string)) -> point[];\n"
    "\treset(to: int);\n"
    "\tisolated(500) crunch(n: int) -> int;\n"
    "}\n"
    "class record {\n"
    "\tstate: (count:int,text:string);\n"
    "\treadonly get() -> int;\n"
    "\tput(count: int);\n"
    "}\n";

/* A copy of base with one text replaced. */
static char *
change(const char *from, const char *to)
{
	const char *at = strstr(base, from);
	char *s;

	cr_assert_not_null(at, "'%s' not in base", from);
	s = malloc(strlen(base) + strlen(to) + 1);
	sprintf(s, "%.*s%s%s", (int)(at - base), base, to, at + strlen(from));
	return s;
}

static int
breaks(const char *out)
{
	int n = strncmp(out, "breaking: ", 10) == 0;

	while ((out = strstr(out, "\nbreaking: ")) != NULL) {
		n++;
		out++;
	}
	return n;
}

Test(idl, compat)
{
	static const struct {
		const char *from, *to, *want;
	} cases[] = {
		{ "\treset(to: int);\n", "", "breaking: counter: method reset "
		    "removed" },
		{ "}\nclass record", "\tclear();\n}\nclass record",
		    "compatible: counter: new method clear" },
		{ "\tattr total: int;\n", "", "breaking: counter: attr total "
		    "removed" },
		{ "\tattr total: int;\n", "\tattr total: int;\n\tattr avg: "
		    "double;\n", "compatible: counter: new attr avg" },
		{ "attr writable limit", "attr limit",
		    "breaking: counter: attr "
		    "limit: no longer writable" },
		{ "attr total", "attr writable total", "compatible: counter: "
		    "attr total: now writable" },
		{ "attr total: int", "attr total: uint", "breaking: counter: "
		    "attr total: type int changed to uint" },
		{ "add(n: int = 1,", "add(n: uint = 1,",
		    "breaking: counter.add: "
		    "parameter n: type int changed to uint" },
		{ "reset(to: int)", "reset(to: int, hard: bool = false)",
		    "compatible: counter.reset: new parameter hard = false" },
		{ "reset(to: int)", "reset(to: int, hard: bool)", "breaking: "
		    "counter.reset: new parameter hard without a default" },
		{ "reset(to: int)", "reset()", "breaking: counter.reset: "
		    "parameter to removed" },
		{ "reset(to: int)", "reset(value: int)", "breaking: "
		    "counter.reset: parameter to renamed to value" },
		{ "add(n: int = 1, by: string = \"me\")",
		    "add(by: string = \"me\", n: int = 1)", "breaking: "
		    "counter.add: parameter n moved from position 1 to 2" },
		{ "add(n: int = 1,", "add(n: int,", "breaking: counter.add: "
		    "parameter n: default 1 removed" },
		{ "add(n: int = 1,", "add(n: int = 2,", "compatible: "
		    "counter.add: parameter n: default 1 changed to 2" },
		{ "reset(to: int)", "reset(to: int = 0)", "compatible: "
		    "counter.reset: parameter to: now defaults to 0" },
		{ "-> int raises", "-> uint raises", "breaking: counter.add: "
		    "result: type int changed to uint" },
		{ "-> int raises", "raises",
		    "breaking: counter.add: result int "
		    "removed" },
		{ "reset(to: int)", "reset(to: int) -> int", "breaking: "
		    "counter.reset: result int added" },
		{ "oneway log", "log", "breaking: counter.log: no longer "
		    "oneway" },
		{ "\treset(to: int);\n", "\toneway reset(to: int);\n",
		    "breaking: counter.reset: now oneway" },
		{ "\treset(to: int);\n", "\tisolated reset(to: int);\n",
		    "compatible: counter.reset: now isolated with a grace of "
		    "2000 ms (each call runs in a child process" },
		{ "oneway log", "isolated(10) oneway log", "compatible: "
		    "counter.log: now isolated with a grace of 10 ms" },
		{ "isolated(500) crunch", "crunch", "compatible: "
		    "counter.crunch: no longer isolated" },
		{ "isolated(500) crunch", "isolated crunch", "compatible: "
		    "counter.crunch: isolated with a grace of 2000 ms, was "
		    "500 ms" },
		{ "raises Overflow", "raises Overflow, Gone", "compatible: "
		    "counter.add: now raises Gone" },
		{ "raises Overflow", "", "compatible: counter.add: no longer "
		    "raises counter.Overflow" },
		{ "error Gone;\n", "error Gone;\nerror Busy;\n",
		    "compatible: new error Busy" },
		{ "\terror Overflow;\n", "\terror Overflow;\n\terror Under;\n",
		    "compatible: counter: new error counter.Under" },
		{ "struct point { x: int; y: int; }", "struct point { x: int; "
		    "y: int; z: int; }", "breaking: counter.echo: parameter p: "
		    "type (x:int,y:int) changed to (x:int,y:int,z:int)" },
		{ "struct point { x: int; y: int; }",
		    "struct point { x: int; y: double; }", "breaking: "
		    "counter.echo: result: type (x:int,y:int)[] changed to "
		    "(x:int,y:double)[]" },
		{ "struct point { x: int; y: int; }",
		    "struct point { across: int; y: int; }", "compatible: "
		    "counter.echo: parameter p: type (x:int,y:int) is now "
		    "(across:int,y:int): field renamed (the wire carries no "
		    "names)" },
		{ "q: (a:int,b:string)", "q: (a:int,c:string)", "compatible: "
		    "counter.echo: parameter q: type (a:int,b:string) is now "
		    "(a:int,c:string): field renamed" },
		{ "struct point { x: int; y: int; }", "struct point { x: int; "
		    "y: int; }\nstruct line { a: int; }", "compatible: new "
		    "struct line" },
		{ "state: (count:int,text:string)", "state: (count:uint,"
		    "text:string)", "breaking: record: state: type (count:int,"
		    "text:string) changed to (count:uint,text:string) (stored "
		    "objects no longer load)" },
		{ "readonly get", "get", "compatible: record.get: no longer "
		    "read-only" },
		{ "put(count", "readonly put(count", "compatible: record.put: "
		    "now read-only" },
		{ "class record {\n\tstate: (count:int,text:string);\n"
		    "\treadonly get", "object record {\n\tget",
		    "breaking: record: class became an object" },
		{ "class record {\n\tstate: (count:int,text:string);\n"
		    "\treadonly get() -> int;\n\tput(count: int);\n}\n", "",
		    "breaking: record: class removed" },
		{ "object counter", "object counter2", "breaking: counter: "
		    "object removed" },
		{ "class record", "object extra {}\nclass record",
		    "compatible: new object extra" },
	};
	struct idl_file *old = ok(base), *new;
	char *text, *out;
	size_t i, len;
	FILE *fp;
	int n;

	/* no change, no words; docs are not changes */
	text = change("object counter", "## Counts.\nobject counter");
	new = ok(text);
	fp = open_memstream(&out, &len);
	cr_assert_eq(idl_compat(old, new, fp), 0);
	fclose(fp);
	cr_assert_str_eq(out, "");
	free(out);
	free(text);
	idl_free(new);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		text = change(cases[i].from, cases[i].to);
		new = ok(text);
		fp = open_memstream(&out, &len);
		n = idl_compat(old, new, fp);
		fclose(fp);
		cr_assert(strstr(out, cases[i].want) != NULL,
		    "change %zu: got\n%swant\n%s", i, out, cases[i].want);
		cr_assert_eq(n, breaks(out), "change %zu: %d breaking", i, n);
		cr_assert_eq(n > 0, strncmp(cases[i].want, "breaking", 8) == 0,
		    "change %zu: %d breaking", i, n);
		free(out);
		free(text);
		idl_free(new);
	}
	idl_free(old);
}

Test(idl, compat_counts_every_break)
{
	struct idl_file *old = ok(base), *new = ok("object counter { }");
	char *out;
	size_t len;
	FILE *fp = open_memstream(&out, &len);

	/* 2 attrs, 5 methods, the class; the errors go compatibly */
	cr_assert_eq(idl_compat(old, new, fp), 8);
	fclose(fp);
	cr_assert_not_null(strstr(out, "compatible: error Gone no longer "
	    "declared\n"));
	cr_assert_not_null(strstr(out, "compatible: struct point removed"));
	free(out);
	idl_free(old);
	idl_free(new);
}

/* ---- uploads: a last parameter "NAME: stream T" (dopy(5)) ---- */

static const char uploads[] =
    "struct chunk { seq: int; text: string; }\n"
    "object store {\n"
    "\tput(name: string, chunks: stream chunk) -> int;\n"
    "\tsum(xs: stream int) -> int;\n"
    "\tlog(level: int = 1, lines: stream string);\n"
    "}\n";

Test(idl, uploads_parse_print_and_text)
{
	struct idl_file *f = ok(uploads);
	const struct idl_object *o = &f->objects[0];
	static const char *const want[] = {
		"name:string, chunks:stream (seq:int,text:string)",
		"xs:stream int", "level:int=1, lines:stream string" };
	dopy_sig *s;
	char *text, err[200];
	size_t i;

	cr_assert_eq(o->methods[0].nparams, 1, "the upload is apart");
	cr_assert_str_eq(o->methods[0].upload->name, "chunks");
	cr_assert_null(o->methods[0].upload->def);
	for (i = 0; i < o->nmethods; i++) {
		text = idl_params_text(&o->methods[i]);
		cr_assert_str_eq(text, want[i]);
		s = dopy_sig_parse(text, err, sizeof(err));
		cr_assert_not_null(s, "%s: %s", text, err);
		cr_assert_str_eq(s->text, text, "sig.c reads it back");
		cr_assert_not_null(s->up.type);
		dopy_sig_free(s);
		free(text);
	}
	idl_free(f);
	round_trip(uploads, NULL);
}

Test(idl, uploads_refused)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "object o { m(a: stream int, b: int); }",
		    "1:27: stream parameter a must be the last" },
		{ "object o { m(a: stream int = 3); }",
		    "1:28: stream parameter a cannot have a default" },
		{ "object o { m(a: stream ref); }",
		    "1:14: stream parameter a cannot hold a ref" },
		{ "object o { m(a: stream (int,ref)[]); }",
		    "1:14: stream parameter a cannot hold a ref" },
		{ "object o { oneway m(a: stream int); }",
		    "1:21: oneway method m cannot take an upload" },
		{ "object o { m(a: stream int) -> stream int; }",
		    "1:32: method m takes an upload: it cannot stream its "
		    "results too" },
		{ "object o { m(a: stream stream int); }",
		    "1:24: unknown type 'stream'" },
		{ "object o { m(a: stream); }", "1:23: " },
		{ "object o { isolated m(a: stream int); }",
		    "1:23: isolated method m cannot take an upload" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		bad(cases[i].text, cases[i].want);
}

/* Old callers send the old upload's items, or none: any change to an
 * upload breaks them. */
Test(idl, uploads_compat)
{
	static const struct {
		const char *from, *to, *want;
	} cases[] = {
		{ "xs: stream int", "xs: stream double", "breaking: store.sum: "
		    "upload xs: type int changed to double" },
		{ "name: string, chunks: stream chunk", "name: string",
		    "breaking: store.put: upload chunks removed" },
		{ "sum(xs: stream int)", "sum()", "breaking: store.sum: "
		    "upload xs removed" },
		{ "log(level: int = 1, lines: stream string)",
		    "log(level: int = 1)", "breaking: store.log: upload lines "
		    "removed" },
	};
	struct idl_file *old = ok(uploads), *new;
	const char *at;
	char *text, *out;
	size_t i, len;
	FILE *fp;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		at = strstr(uploads, cases[i].from);
		cr_assert_not_null(at);
		text = malloc(strlen(uploads) + strlen(cases[i].to) + 1);
		sprintf(text, "%.*s%s%s", (int)(at - uploads), uploads,
		    cases[i].to, at + strlen(cases[i].from));
		new = ok(text);
		fp = open_memstream(&out, &len);
		cr_assert_eq(idl_compat(old, new, fp), 1, "%s", cases[i].to);
		fclose(fp);
		cr_assert(strstr(out, cases[i].want) != NULL, "got %s", out);
		free(out);
		/* The other way round: an upload added, or a type back. */
		fp = open_memstream(&out, &len);
		cr_assert_eq(idl_compat(new, old, fp), 1, "%s", cases[i].to);
		fclose(fp);
		cr_assert(strstr(out, i == 0 ? "type double changed to int" :
		    "added") != NULL, "got %s", out);
		free(out);
		free(text);
		idl_free(new);
	}
	fp = open_memstream(&out, &len);
	cr_assert_eq(idl_compat(old, old, fp), 0, "%s", out);
	fclose(fp);
	free(out);
	idl_free(old);
}

/* isolated("SPEC") and isolated(GRACE, "SPEC"): a sandbox for each call
 * (dopy_server_set_sandbox), printed back the same, compatible. */
Test(idl, isolated_with_a_sandbox)
{
	static const char text[] = "object o {\n"
	    "\tisolated(\"compute,cpu=10\") a();\n"
	    "\tisolated(500, \"readonly\") b();\n"
	    "\tisolated(\"nonet,read=/a \\\"b\\\"\") oneway c();\n"
	    "\tisolated d();\n"
	    "}\n";
	static const struct {
		const char *text, *want;
	} wrong[] = {
		{ "object o { isolated(\"\") a(); }",
		    "1:21: expected a sandbox in quotes" },
		{ "object o { isolated(500,) a(); }",
		    "1:25: expected a sandbox in quotes" },
		{ "object o { isolated(500 \"x\") a(); }",
		    "1:25: expected ')' after the grace of isolated" },
		{ "object o { isolated(\"x\", 5) a(); }",
		    "1:24: expected ')' after the sandbox of isolated" },
		{ "object o { isolated(x) a(); }",
		    "1:21: expected the grace in milliseconds, 1 to 3600000, "
		    "or a sandbox in quotes" },
	};
	struct idl_file *f = ok(text), *g;
	const struct idl_method *m = f->objects[0].methods;
	char *out = NULL;
	size_t i, len;
	FILE *fp;

	cr_assert_str_eq(m[0].sandbox, "compute,cpu=10");
	cr_assert_eq(m[0].isolated, IDL_GRACE_DEFAULT);
	cr_assert_str_eq(m[1].sandbox, "readonly");
	cr_assert_eq(m[1].isolated, 500);
	cr_assert_str_eq(m[2].sandbox, "nonet,read=/a \"b\"");
	cr_assert_null(m[3].sandbox);
	round_trip(text, NULL);
	for (i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++)
		bad(wrong[i].text, wrong[i].want);
	g = ok("object o {\n\tisolated(\"compute\") a();\n\tisolated(500) "
	    "b();\n\tisolated oneway c();\n\tisolated(\"nonet\") d();\n}\n");
	fp = open_memstream(&out, &len);
	cr_assert_eq(idl_compat(f, g, fp), 0, "a sandbox is compatible");
	fclose(fp);
	cr_assert(strstr(out, "compatible: o.a: sandboxed compute, was "
	    "compute,cpu=10") && strstr(out, "compatible: o.b: no longer "
	    "sandboxed") && strstr(out, "compatible: o.d: now sandboxed: "
	    "nonet"), "%s", out);
	free(out);
	idl_free(g);
	idl_free(f);
}
