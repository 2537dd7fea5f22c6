/*
 * test_type.c - lib/wire/type.c: the text form, tpl format and C layout of
 * dopy types, and the mapping back from tpl formats.
 */
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"

static dopy_type *
parse_ok(const char *text)
{
	char err[200] = "";
	dopy_type *t;

	t = dopy_type_parse(text, err, sizeof(err));
	cr_assert_not_null(t, "parse '%s': %s", text, err);
	return t;
}

/* Parsing must fail with a message containing want. */
static void
parse_bad(const char *text, const char *want)
{
	char err[200] = "";
	dopy_type *t;

	t = dopy_type_parse(text, err, sizeof(err));
	if (t != NULL) {
		dopy_type_free(t);
		cr_assert_fail("'%s' parsed as a type", text);
	}
	cr_assert(strstr(err, want) != NULL, "'%s': message '%s' lacks '%s'",
	    text, err, want);
	/* And without a message buffer it fails the same way. */
	cr_assert_null(dopy_type_parse(text, NULL, 0));
}

static void
check(const char *text, enum dopy_kind kind, const char *name,
    const char *tpl)
{
	dopy_type *t = parse_ok(text), *back;

	cr_assert_eq(dopy_type_kind(t), kind, "kind of %s", text);
	cr_assert_str_eq(dopy_type_name(t), name);
	cr_assert_str_eq(dopy_type_tpl(t), tpl);
	/* The inverse mapping gives the same type. */
	back = dopy_type_from_tpl(tpl);
	cr_assert_not_null(back, "from_tpl %s", tpl);
	cr_assert_str_eq(dopy_type_name(back), name);
	cr_assert(dopy_type_equal(t, back));
	dopy_type_free(back);
	dopy_type_free(t);
}

Test(type, scalars)
{
	check("bool", DOPY_BOOL, "bool", "c");
	check("int", DOPY_INT, "int", "I");
	check("uint", DOPY_UINT, "uint", "U");
	check("double", DOPY_DOUBLE, "double", "f");
	check("string", DOPY_STRING, "string", "s");
	check("bytes", DOPY_BYTES, "bytes", "B");
	check("ref", DOPY_REF, "ref", "u");
}

/* A ref goes wherever a scalar goes: arrays, structures. */
Test(type, refs)
{
	check("ref[]", DOPY_ARRAY, "ref[]", "A(u)");
	check("ref[][]", DOPY_ARRAY, "ref[][]", "A(A(u))");
	check("(string,ref)", DOPY_STRUCT, "(string,ref)", "S(su)");
	check("(string,ref)[]", DOPY_ARRAY, "(string,ref)[]", "A(S(su))");
	check("(ref,ref,bool)", DOPY_STRUCT, "(ref,ref,bool)", "S(uuc)");
	parse_bad("refs", "unknown type");
	parse_bad("re", "unknown type");
}

Test(type, arrays)
{
	check("int[]", DOPY_ARRAY, "int[]", "A(I)");
	check("int[][]", DOPY_ARRAY, "int[][]", "A(A(I))");
	check("string[]", DOPY_ARRAY, "string[]", "A(s)");
	check("bytes[]", DOPY_ARRAY, "bytes[]", "A(B)");
	check("bool[][][]", DOPY_ARRAY, "bool[][][]", "A(A(A(c)))");
	check("double[]", DOPY_ARRAY, "double[]", "A(f)");
	check("uint[]", DOPY_ARRAY, "uint[]", "A(U)");
}

Test(type, structs)
{
	check("(int,string)", DOPY_STRUCT, "(int,string)", "S(Is)");
	check("(int,string)[]", DOPY_ARRAY, "(int,string)[]", "A(S(Is))");
	check("(int,string)[][]", DOPY_ARRAY, "(int,string)[][]",
	    "A(A(S(Is)))");
	check("(bool)", DOPY_STRUCT, "(bool)", "S(c)");
	check("(bool,int,uint,double,string)", DOPY_STRUCT,
	    "(bool,int,uint,double,string)", "S(cIUfs)");
}

Test(type, blanks_are_allowed)
{
	check("  int  ", DOPY_INT, "int", "I");
	check(" ( int , string ) [] ", DOPY_ARRAY, "(int,string)[]",
	    "A(S(Is))");
	check("int [] []", DOPY_ARRAY, "int[][]", "A(A(I))");
	check("\tstring\n", DOPY_STRING, "string", "s");
}

Test(type, accessors)
{
	dopy_type *t = parse_ok("(int,string)[]");
	const dopy_type *e;

	e = dopy_type_elem(t);
	cr_assert_not_null(e);
	cr_assert_eq(dopy_type_kind(e), DOPY_STRUCT);
	cr_assert_eq(dopy_type_nfields(e), 2);
	cr_assert_eq(dopy_type_kind(dopy_type_field(e, 0)), DOPY_INT);
	cr_assert_eq(dopy_type_kind(dopy_type_field(e, 1)), DOPY_STRING);
	cr_assert_null(dopy_type_field(e, 2));
	cr_assert_eq(dopy_type_nfields(t), 0);
	cr_assert_null(dopy_type_elem(e));
	cr_assert_null(dopy_type_field(t, 0));
	dopy_type_free(t);
}

Test(type, null_accessors)
{
	cr_assert_eq(dopy_type_kind(NULL), DOPY_VOID);
	cr_assert_null(dopy_type_elem(NULL));
	cr_assert_eq(dopy_type_nfields(NULL), 0);
	cr_assert_null(dopy_type_field(NULL, 0));
	cr_assert_str_eq(dopy_type_name(NULL), "void");
	cr_assert_str_eq(dopy_type_tpl(NULL), "");
	cr_assert_null(dopy_type_copy(NULL));
	dopy_type_free(NULL);
}

Test(type, equal)
{
	dopy_type *a = parse_ok("(int,string)[]"),
	    *b = parse_ok(" (int, string)[]"), *c = parse_ok("(string,int)[]"),
	    *d = parse_ok("int[]");

	cr_assert(dopy_type_equal(a, b));
	cr_assert(dopy_type_equal(a, a));
	cr_assert_not(dopy_type_equal(a, c));
	cr_assert_not(dopy_type_equal(a, d));
	cr_assert_not(dopy_type_equal(a, NULL));
	cr_assert_not(dopy_type_equal(NULL, a));
	cr_assert(dopy_type_equal(NULL, NULL));
	cr_assert(dopy_type_equal(&dopy_type_int_, dopy_type_elem(d)));
	dopy_type_free(a);
	dopy_type_free(b);
	dopy_type_free(c);
	dopy_type_free(d);
}

Test(type, scalars_are_shared_statics)
{
	dopy_type *a = parse_ok("int"), *b = parse_ok("int");

	cr_assert_eq(a, b);
	cr_assert_eq(a, &dopy_type_int_);
	dopy_type_free(a);
	dopy_type_free(b);
	cr_assert_eq(dopy_type_int_.refs, -1);	/* never freed */
	cr_assert_str_eq(dopy_type_name(&dopy_type_int_), "int");
}

Test(type, copy_is_a_reference)
{
	dopy_type *t = parse_ok("int[]"), *c;

	cr_assert_eq(t->refs, 1);
	c = dopy_type_copy(t);
	cr_assert_eq(c, t);
	cr_assert_eq(t->refs, 2);
	dopy_type_free(t);
	cr_assert_eq(c->refs, 1);
	cr_assert_str_eq(dopy_type_name(c), "int[]");
	dopy_type_free(c);
}

Test(type, unknown_type)
{
	parse_bad("integer", "unknown type");
	parse_bad("str", "unknown type");
	parse_bad("Int", "unknown type");
	parse_bad("void", "unknown type");
	parse_bad("", "unknown type");
	parse_bad("   ", "unknown type");
	parse_bad("[]", "unknown type");
	parse_bad("()", "unknown type");
	parse_bad("int8", "junk");
}

Test(type, null_text)
{
	char err[100] = "";

	cr_assert_null(dopy_type_parse(NULL, err, sizeof(err)));
	cr_assert(err[0] != '\0');
}

Test(type, junk_after_type)
{
	parse_bad("int x", "junk after type");
	parse_bad("int[", "junk after type");
	parse_bad("int]", "junk after type");
	parse_bad("int[ ]", "junk after type");
	parse_bad("(int)(int)", "junk after type");
	parse_bad("int,string", "junk after type");
}

Test(type, struct_syntax_errors)
{
	parse_bad("(int", "expected ',' or ')'");
	parse_bad("(int string)", "expected ',' or ')'");
	parse_bad("(int,)", "unknown type");
	parse_bad("(,int)", "unknown type");
}

/* tpl cannot put A(...) or B inside S(...); nor do we nest structs. */
Test(type, struct_fields_are_scalars_or_strings)
{
	parse_bad("(int,int[])", "structure fields");
	parse_bad("(int[])", "structure fields");
	parse_bad("(bytes)", "structure fields");
	parse_bad("(string,bytes)", "structure fields");
	parse_bad("((int,string))", "structure fields");
	parse_bad("(int,(int))", "structure fields");
}

Test(type, nesting_limit)
{
	char text[100] = "int";
	dopy_type *t;
	int i;

	/* The base and its arrays count; DOPY_MAX_DEPTH levels in all. */
	for (i = 1; i < DOPY_MAX_DEPTH; i++)
		strlcat(text, "[]", sizeof(text));
	t = parse_ok(text);
	cr_assert_eq(dopy_type_kind(t), DOPY_ARRAY);
	dopy_type_free(t);
	strlcat(text, "[]", sizeof(text));
	parse_bad(text, "nested too deeply");
	strlcat(text, "[][][][][][][][][][][][][][][][]", sizeof(text));
	parse_bad(text, "nested too deeply");
}

/* A structure's fields are side by side, not nested: a wide structure
 * is no deeper than a narrow one. */
Test(type, wide_struct_is_not_deep)
{
	dopy_type *t;

	t = parse_ok("(int,int,int,int,int,int,int,int,int,int,int,int)");
	cr_assert_eq(dopy_type_nfields(t), 12);
	cr_assert_str_eq(dopy_type_tpl(t), "S(IIIIIIIIIIII)");
	dopy_type_free(t);
	t = parse_ok("(string,string,string,string,string,string,string,"
	    "string)[]");
	cr_assert_eq(dopy_type_nfields(dopy_type_elem(t)), 8);
	dopy_type_free(t);
}

Test(type, error_message_quotes_position)
{
	char err[200];

	cr_assert_null(dopy_type_parse("(int,floaty)", err, sizeof(err)));
	cr_assert(strstr(err, "floaty") != NULL, "%s", err);
}

Test(type, tiny_error_buffer)
{
	char err[4] = "zzz";

	cr_assert_null(dopy_type_parse("nope", err, sizeof(err)));
	cr_assert_eq(strlen(err), 3);	/* truncated, terminated */
}

Test(type, from_tpl_rejects)
{
	static const char *const bad[] = {
		"", "X", "i", "#", "$", "A(", "A(I", "A()", "A(I)x", "II",
		"S()", "S(I", "S(A(I))", "S(B)", "S(S(I))", "A(I))", "S(Is",
		"AI", "SI", ")", "(", "A(A(A(A(A(A(A(A(A(A(I))))))))))",
	};
	dopy_type *t;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = dopy_type_from_tpl(bad[i]);
		cr_assert_null(t, "'%s' mapped to %s", bad[i],
		    dopy_type_name(t));
	}
}

Test(type, from_tpl_accepts)
{
	static const char *const good[] = {
		"c", "I", "U", "f", "s", "B", "A(I)", "A(A(s))", "S(I)",
		"S(cIUfs)", "A(S(Is))", "A(B)", "u", "A(u)", "S(su)",
		"A(S(uIu))",
	};
	dopy_type *t, *u;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		t = dopy_type_from_tpl(good[i]);
		cr_assert_not_null(t, "'%s'", good[i]);
		cr_assert_str_eq(dopy_type_tpl(t), good[i]);
		/* Its name parses back to the same type. */
		u = parse_ok(dopy_type_name(t));
		cr_assert(dopy_type_equal(t, u));
		dopy_type_free(u);
		dopy_type_free(t);
	}
}

/* tpl lays a structure out like the C compiler: compare with it. */
Test(type, struct_layout_matches_c)
{
	struct s1 { char a; int64_t b; };
	struct s2 { char a; char b; };
	struct s3 { int64_t a; char *b; };
	struct s4 { char a; char *b; char c; };
	struct s5 { double a; char b; };
	struct s6 { char a; uint64_t b; double c; char *d; char e; };
	struct s7 { char *a; uint32_t b; };
	struct s8 { char a; uint32_t b; char c; };
	struct s9 { uint32_t a, b, c; };
	struct s10 { uint32_t a; int64_t b; };
	static const struct {
		const char *text;
		size_t size, align;
	} cases[] = {
		{ "(bool,int)", sizeof(struct s1), _Alignof(struct s1) },
		{ "(bool,bool)", sizeof(struct s2), _Alignof(struct s2) },
		{ "(int,string)", sizeof(struct s3), _Alignof(struct s3) },
		{ "(bool,string,bool)", sizeof(struct s4),
		    _Alignof(struct s4) },
		{ "(double,bool)", sizeof(struct s5), _Alignof(struct s5) },
		{ "(bool,uint,double,string,bool)", sizeof(struct s6),
		    _Alignof(struct s6) },
		{ "(string,ref)", sizeof(struct s7), _Alignof(struct s7) },
		{ "(bool,ref,bool)", sizeof(struct s8), _Alignof(struct s8) },
		{ "(ref,ref,ref)", sizeof(struct s9), _Alignof(struct s9) },
		{ "(ref,int)", sizeof(struct s10), _Alignof(struct s10) },
	};
	dopy_type *t;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t = parse_ok(cases[i].text);
		cr_assert_eq(t->size, cases[i].size, "%s: size %zu, C says "
		    "%zu", cases[i].text, t->size, cases[i].size);
		cr_assert_eq(t->align, cases[i].align, "%s: align",
		    cases[i].text);
		dopy_type_free(t);
	}
}

/* `any` is for a whole parameter or result, never inside a type. */
Test(type, any)
{
	dopy_type *t = parse_ok(" any ");

	cr_assert_eq(dopy_type_kind(t), DOPY_ANY);
	cr_assert_str_eq(dopy_type_name(t), "any");
	dopy_type_free(t);
	parse_bad("any[]", "any is only for a whole");
	parse_bad("(int,any)", "any is only for a whole");
	parse_bad("(any)", "any is only for a whole");
	parse_bad("anything", "unknown type");
	cr_assert_null(dopy_type_from_tpl(""));
}

/* Named fields: for people and C mappings; the wire sees the types. */
Test(type, struct_field_names)
{
	dopy_type *a = dopy_type_parse("( count : int, text:string )", NULL,
	    0), *b = dopy_type_parse("(int,string)", NULL, 0);

	cr_assert_not_null(a);
	cr_assert_str_eq(dopy_type_name(a), "(count:int,text:string)");
	cr_assert_str_eq(dopy_type_tpl(a), "S(Is)");
	cr_assert_str_eq(dopy_type_field_name(a, 0), "count");
	cr_assert_str_eq(dopy_type_field_name(a, 1), "text");
	cr_assert_null(dopy_type_field_name(a, 2));
	cr_assert_null(dopy_type_field_name(b, 0), "unnamed");
	cr_assert(dopy_type_equal(a, b), "names do not change the type");
	dopy_type_free(a);
	dopy_type_free(b);
	a = parse_ok("(n:int,s:string)[]");
	cr_assert_str_eq(dopy_type_name(a), "(n:int,s:string)[]");
	cr_assert_str_eq(dopy_type_tpl(a), "A(S(Is))");
	cr_assert_str_eq(dopy_type_field_name(dopy_type_elem(a), 1), "s");
	dopy_type_free(a);
}

Test(type, struct_field_name_errors)
{
	parse_bad("(a:int,string)", "name every field of a structure, or none");
	parse_bad("(int,b:string)", "name every field of a structure, or none");
	parse_bad("(a:int,a:string)", "two fields of one name");
	parse_bad("(a:)", "unknown type");
	parse_bad("(:int)", "unknown type");
	parse_bad("(1a:int)", "unknown type");
}
