/*
 * test_sig.c - lib/wire/sig.c: method signatures "a:int, greeting:string=Hi".
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static dopy_sig *
sig_ok(const char *text)
{
	char err[200] = "";
	dopy_sig *s = dopy_sig_parse(text, err, sizeof(err));

	cr_assert_not_null(s, "'%s': %s", text, err);
	return s;
}

static void
sig_bad(const char *text, const char *want)
{
	char err[200] = "";
	dopy_sig *s = dopy_sig_parse(text, err, sizeof(err));

	if (s != NULL) {
		dopy_sig_free(s);
		cr_assert_fail("'%s' parsed", text);
	}
	cr_assert(strstr(err, want) != NULL, "'%s': message '%s' lacks '%s'",
	    text, err, want);
	/* NULL error buffer: still fails, does not crash. */
	cr_assert_null(dopy_sig_parse(text, NULL, 0));
}

Test(sig, empty)
{
	static const char *const empties[] = { "", "  ", "\t" };
	dopy_sig *s;
	size_t i;

	for (i = 0; i < 3; i++) {
		s = sig_ok(empties[i]);
		cr_assert_eq(dopy_sig_len(s), 0);
		cr_assert_null(dopy_sig_name(s, 0));
		cr_assert_str_eq(s->text, "");
		dopy_sig_free(s);
	}
	s = dopy_sig_parse(NULL, NULL, 0);
	cr_assert_not_null(s);
	cr_assert_eq(dopy_sig_len(s), 0);
	dopy_sig_free(s);
}

Test(sig, required_and_defaults)
{
	dopy_sig *s = sig_ok("name:string, greeting:string=Hello");

	cr_assert_eq(dopy_sig_len(s), 2);
	cr_assert_str_eq(dopy_sig_name(s, 0), "name");
	cr_assert_str_eq(dopy_sig_name(s, 1), "greeting");
	cr_assert_eq(dopy_type_kind(dopy_sig_type(s, 0)), DOPY_STRING);
	cr_assert_null(dopy_sig_default(s, 0));
	cr_assert_not_null(dopy_sig_default(s, 1));
	cr_assert_str_eq(dopy_value_get_string(dopy_sig_default(s, 1)),
	    "Hello");
	cr_assert_null(dopy_sig_name(s, 2));
	cr_assert_null(dopy_sig_type(s, 2));
	cr_assert_null(dopy_sig_default(s, 2));
	cr_assert_eq(dopy_sig_find(s, "greeting"), 1);
	cr_assert_eq(dopy_sig_find(s, "name"), 0);
	cr_assert_eq(dopy_sig_find(s, "nope"), -1);
	dopy_sig_free(s);
}

Test(sig, typed_defaults)
{
	dopy_sig *s = sig_ok("a:int=-5, b:uint=7, c:double=0.5, d:bool=true, "
	    "e:bytes=raw, f:int[]=[1, 2, 3], g:(int,string)=(1, \"x\")");
	const dopy_value *f;

	cr_assert_eq(dopy_sig_len(s), 7);
	cr_assert_eq(dopy_value_get_int(dopy_sig_default(s, 0)), -5);
	cr_assert_eq(dopy_value_get_uint(dopy_sig_default(s, 1)), 7);
	cr_assert_eq(dopy_value_get_double(dopy_sig_default(s, 2)), 0.5);
	cr_assert_eq(dopy_value_get_bool(dopy_sig_default(s, 3)), 1);
	cr_assert_eq(dopy_value_kind(dopy_sig_default(s, 4)), DOPY_BYTES);
	cr_assert_str_eq(dopy_value_get_string(dopy_sig_default(s, 4)), "raw");
	f = dopy_sig_default(s, 5);
	cr_assert_eq(dopy_value_len(f), 3);
	cr_assert_eq(dopy_value_get_int(dopy_value_at(f, 2)), 3);
	f = dopy_sig_default(s, 6);
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(f, 1)), "x");
	cr_assert_str_eq(dopy_type_name(dopy_sig_type(s, 6)), "(int,string)");
	dopy_sig_free(s);
}

Test(sig, quoted_default_with_comma)
{
	dopy_sig *s = sig_ok("greeting:string=\"Hello, world\", n:int=1");

	cr_assert_eq(dopy_sig_len(s), 2);
	cr_assert_str_eq(dopy_value_get_string(dopy_sig_default(s, 0)),
	    "Hello, world");
	cr_assert_eq(dopy_value_get_int(dopy_sig_default(s, 1)), 1);
	dopy_sig_free(s);
}

Test(sig, quoted_default_escapes)
{
	dopy_sig *s = sig_ok("q:string=\"say \\\"hi\\\", \\\\o/\"");

	cr_assert_eq(dopy_sig_len(s), 1);
	cr_assert_str_eq(dopy_value_get_string(dopy_sig_default(s, 0)),
	    "say \"hi\", \\o/");
	dopy_sig_free(s);
}

Test(sig, empty_string_default)
{
	dopy_sig *s = sig_ok("a:string=, b:string=\"\"");

	cr_assert_eq(dopy_sig_len(s), 2);
	cr_assert_not_null(dopy_sig_default(s, 0));
	cr_assert_str_eq(dopy_value_get_string(dopy_sig_default(s, 0)), "");
	cr_assert_str_eq(dopy_value_get_string(dopy_sig_default(s, 1)), "");
	dopy_sig_free(s);
}

Test(sig, blanks_are_trimmed)
{
	dopy_sig *s = sig_ok("  a : int ,b:( int , string )[] = [] ");

	cr_assert_eq(dopy_sig_len(s), 2);
	cr_assert_str_eq(dopy_sig_name(s, 0), "a");
	cr_assert_str_eq(dopy_sig_name(s, 1), "b");
	cr_assert_str_eq(dopy_type_name(dopy_sig_type(s, 1)),
	    "(int,string)[]");
	cr_assert_eq(dopy_value_len(dopy_sig_default(s, 1)), 0);
	dopy_sig_free(s);
}

Test(sig, normalised_text)
{
	dopy_sig *s = sig_ok(" a:int,greeting : string = Hello ,xs:int[]=[1,2]");

	cr_assert_str_eq(s->text, "a:int, greeting:string=Hello, xs:int[]=[1, 2]");
	dopy_sig_free(s);
}

Test(sig, duplicate_names)
{
	sig_bad("a:int, a:string", "parameter a declared twice");
	sig_bad("a:int, b:int, a:int=1", "declared twice");
}

Test(sig, bad_names)
{
	sig_bad("a-b:int", "bad parameter name 'a-b'");
	sig_bad(":int", "bad parameter name");
	sig_bad(" :int", "bad parameter name");
	sig_bad("a b:int", "bad parameter name");
	sig_bad("na.me:int", "bad parameter name");
	sig_bad("\"a\":int", "bad parameter name");
}

Test(sig, good_names)
{
	dopy_sig *s = sig_ok("_x:int, A9:int, snake_case_1:int");

	cr_assert_eq(dopy_sig_len(s), 3);
	dopy_sig_free(s);
}

Test(sig, missing_type)
{
	sig_bad("a", "parameter 'a' has no :TYPE");
	sig_bad("a:int, b", "b' has no :TYPE");
	sig_bad("a:int,", "has no :TYPE");
	sig_bad(",a:int", "has no :TYPE");
	sig_bad("a=5", "has no :TYPE");
}

Test(sig, bad_types)
{
	sig_bad("a:integer", "parameter a: unknown type");
	sig_bad("a:", "parameter a: unknown type");
	sig_bad("a:int[", "parameter a: junk");
	sig_bad("a:(int,int[])", "parameter a: structure fields");
	sig_bad("a:int, b:strin", "parameter b: unknown type");
}

Test(sig, bad_defaults)
{
	sig_bad("n:int=abc", "parameter n: default:");
	sig_bad("n:int=1.5", "parameter n: default:");
	sig_bad("n:uint=-1", "parameter n: default:");
	sig_bad("b:bool=maybe", "parameter b: default:");
	sig_bad("xs:int[]=[1,x]", "parameter xs: default:");
	sig_bad("p:(int,string)=(1)", "parameter p: default:");
}

Test(sig, too_many)
{
	char text[4096] = "";
	char one[32];
	dopy_sig *s;
	int i;

	for (i = 0; i < DOPY_MAX_ARGS; i++) {
		snprintf(one, sizeof(one), "%sp%d:int", i ? "," : "", i);
		strlcat(text, one, sizeof(text));
	}
	s = sig_ok(text);
	cr_assert_eq(dopy_sig_len(s), DOPY_MAX_ARGS);
	dopy_sig_free(s);
	strlcat(text, ",last:int", sizeof(text));
	sig_bad(text, "too many parameters");
}

Test(sig, null_accessors)
{
	cr_assert_eq(dopy_sig_len(NULL), 0);
	cr_assert_null(dopy_sig_name(NULL, 0));
	cr_assert_null(dopy_sig_type(NULL, 0));
	cr_assert_null(dopy_sig_default(NULL, 0));
	dopy_sig_free(NULL);
}

/* A structure with named fields, and a default for it. */
Test(sig, struct_with_field_names)
{
	dopy_sig *s = sig_ok("p:(count:int, text:string), q:(n:int)[]=[]");

	cr_assert_eq(dopy_sig_len(s), 2);
	cr_assert_str_eq(dopy_sig_name(s, 0), "p");
	cr_assert_str_eq(dopy_type_name(dopy_sig_type(s, 0)),
	    "(count:int,text:string)");
	cr_assert_str_eq(dopy_type_field_name(dopy_sig_type(s, 0), 1), "text");
	cr_assert_str_eq(dopy_sig_name(s, 1), "q");
	dopy_sig_free(s);
}

/* The normalised text reads back to the same defaults: a string that a
 * bare default would split, trim or unquote is shown quoted. */
Test(sig, text_reads_back)
{
	const char *in = "a:string=\"Hello, world\", b:string=\" x \", "
	    "c:string=\"say \\\"hi\\\"\", d:string=(x), e:string=plain";
	dopy_sig *s = dopy_sig_parse(in, NULL, 0), *t;
	size_t i;

	cr_assert_not_null(s);
	cr_assert_str_eq(dopy_sig_text(s), "a:string=\"Hello, world\", "
	    "b:string=\" x \", c:string=\"say \\\"hi\\\"\", d:string=\"(x)\", "
	    "e:string=plain");
	t = dopy_sig_parse(dopy_sig_text(s), NULL, 0);
	cr_assert_not_null(t);
	for (i = 0; i < dopy_sig_len(s); i++)
		cr_assert(dopy_value_equal(dopy_sig_default(s, i),
		    dopy_sig_default(t, i)), "%zu", i);
	dopy_sig_free(s);
	dopy_sig_free(t);
}

/* "NAME:stream T" last: the upload, not among the others. */
Test(sig, upload_parameter)
{
	const char *name = NULL;
	dopy_sig *s = sig_ok("tag: string, data: stream  bytes");

	cr_assert_eq(dopy_sig_len(s), 1);
	cr_assert_str_eq(dopy_sig_name(s, 0), "tag");
	cr_assert_not_null(dopy_sig_upload(s, &name));
	cr_assert_str_eq(dopy_type_name(dopy_sig_upload(s, NULL)), "bytes");
	cr_assert_str_eq(name, "data");
	cr_assert_str_eq(dopy_sig_text(s), "tag:string, data:stream bytes");
	dopy_sig_free(s);
	s = sig_ok("lines:stream (n:int,s:string)");
	cr_assert_eq(dopy_sig_len(s), 0);
	cr_assert_str_eq(dopy_sig_text(s), "lines:stream (n:int,s:string)");
	dopy_sig_free(s);
	s = sig_ok("a:int");
	cr_assert_null(dopy_sig_upload(s, &name));
	cr_assert_null(name);
	dopy_sig_free(s);
	/* "stream" alone, or glued, is a type name that does not exist. */
	sig_bad("a:stream", "parameter a");
	sig_bad("a:streamint", "parameter a");
	sig_bad("a:stream int, b:int", "only the last parameter may be a "
	    "stream");
	sig_bad("a:stream int=1", "a stream has no default");
	sig_bad("a:int, a:stream int", "parameter a declared twice");
	sig_bad("a:stream ref", "a stream of references");
	sig_bad("a:stream stream int", "parameter a");
}
