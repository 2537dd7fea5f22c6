/*
 * test_literal.c - lib/wire/literal.c: the text forms of values (what
 * dopy-rsh reads and writes) and their JSON form.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static dopy_type *
ty(const char *text)
{
	char err[200] = "";
	dopy_type *t = dopy_type_parse(text, err, sizeof(err));

	cr_assert_not_null(t, "%s: %s", text, err);
	return t;
}

static dopy_value *
parse_ok(const char *type, const char *text)
{
	dopy_type *t = ty(type);
	char err[200] = "";
	dopy_value *v = dopy_value_parse(t, text, err, sizeof(err));

	cr_assert_not_null(v, "%s '%s': %s", type, text, err);
	cr_assert(dopy_type_equal(dopy_value_type(v), t));
	dopy_type_free(t);
	return v;
}

static void
parse_bad(const char *type, const char *text, const char *want)
{
	dopy_type *t = ty(type);
	char err[200] = "";
	dopy_value *v = dopy_value_parse(t, text, err, sizeof(err));

	if (v != NULL) {
		char *f = dopy_value_format(v);

		dopy_value_free(v);
		cr_assert_fail("%s '%s' parsed as %s", type, text, f);
	}
	cr_assert(strstr(err, want) != NULL, "%s '%s': message '%s' lacks "
	    "'%s'", type, text, err, want);
	cr_assert_null(dopy_value_parse(t, text, NULL, 0));
	dopy_type_free(t);
}

/* Parse and format back; the text must be as expected. */
static void
reads_as(const char *type, const char *text, const char *formatted)
{
	dopy_value *v = parse_ok(type, text);
	char *f = dopy_value_format(v);

	cr_assert_not_null(f);
	cr_assert_str_eq(f, formatted, "%s '%s'", type, text);
	free(f);
	dopy_value_free(v);
}

static void
json_is(dopy_value *v, const char *want)
{
	char *j = dopy_value_json(v);

	cr_assert_not_null(j);
	cr_assert_str_eq(j, want);
	free(j);
	dopy_value_free(v);
}

/* Format v (and free it); the text must be want. */
static void
formats_as(dopy_value *v, const char *want)
{
	char *f = dopy_value_format(v);

	cr_assert_not_null(f);
	cr_assert_str_eq(f, want);
	free(f);
	dopy_value_free(v);
}

/* A new (zeroed or empty) value of this type. */
static dopy_value *
new_of(const char *type)
{
	dopy_type *t = ty(type);
	dopy_value *v = dopy_value_new(t);

	cr_assert_not_null(v);
	dopy_type_free(t);
	return v;
}

/*
 * text read as type, kept until the next call (or the test's end): for
 * checking a scalar in one expression.
 */
static dopy_value *last;

static const dopy_value *
read_as(const char *type, const char *text)
{
	dopy_value_free(last);
	last = parse_ok(type, text);
	return last;
}

static void
forget_last(void)
{
	dopy_value_free(last);
	last = NULL;
}

TestSuite(literal, .fini = forget_last);

static int
bool_of(const char *text)
{
	return dopy_value_get_bool(read_as("bool", text));
}

static int64_t
int_of(const char *text)
{
	return dopy_value_get_int(read_as("int", text));
}

static uint64_t
uint_of(const char *text)
{
	return dopy_value_get_uint(read_as("uint", text));
}

static double
double_of(const char *text)
{
	return dopy_value_get_double(read_as("double", text));
}

/* text read as `any` has this kind; the value (free it). */
static dopy_value *
any_as(const char *text, enum dopy_kind kind)
{
	dopy_type *t = ty("any");
	char err[100] = "";
	dopy_value *v = dopy_value_parse(t, text, err, sizeof(err));

	cr_assert_not_null(v, "'%s': %s", text, err);
	cr_assert_eq(dopy_value_kind(v), kind, "'%s' read as kind %d", text,
	    (int)dopy_value_kind(v));
	dopy_type_free(t);
	return v;
}

/* ---- scalars ---- */

Test(literal, bool)
{
	static const char *const yes[] = { "true", "TRUE", "yes", "on", "1",
	    " true ", "True" };
	static const char *const no[] = { "false", "no", "off", "0", "OFF" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		cr_assert_eq(bool_of(yes[i]), 1, "'%s'", yes[i]);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		cr_assert_eq(bool_of(no[i]), 0, "'%s'", no[i]);
	parse_bad("bool", "maybe", "expected bool, got 'maybe'");
	parse_bad("bool", "2", "expected bool");
	parse_bad("bool", "", "expected bool");
	reads_as("bool", "yes", "true");
	reads_as("bool", "off", "false");
}

Test(literal, int)
{
	cr_assert_eq(int_of("-9223372036854775808"), INT64_MIN);
	cr_assert_eq(int_of("9223372036854775807"), INT64_MAX);
	cr_assert_eq(int_of("0x7f"), 127);
	cr_assert_eq(int_of("-0x10"), -16);
	cr_assert_eq(int_of("  +42  "), 42);
	reads_as("int", "007", "7");
	parse_bad("int", "9223372036854775808", "out of range for int");
	parse_bad("int", "-9223372036854775809", "out of range");
	parse_bad("int", "99999999999999999999999", "out of range");
	parse_bad("int", "abc", "expected int, got 'abc'");
	parse_bad("int", "1.5", "expected int");
	parse_bad("int", "12abc", "expected int");
	parse_bad("int", "", "expected int");
	parse_bad("int", "-", "expected int");
	parse_bad("int", "0x", "expected int");
	parse_bad("int", "--1", "expected int");
	parse_bad("int", "1 2", "expected int");
}

Test(literal, uint)
{
	cr_assert_eq(uint_of("18446744073709551615"), UINT64_MAX);
	cr_assert_eq(uint_of("0xFFFFFFFFFFFFFFFF"), UINT64_MAX);
	cr_assert_eq(uint_of("-0"), 0);
	parse_bad("uint", "-1", "out of range for uint");
	parse_bad("uint", "18446744073709551616", "out of range");
	parse_bad("uint", "x", "expected uint");
}

Test(literal, double)
{
	cr_assert_eq(double_of("1.5"), 1.5);
	cr_assert_eq(double_of("-2e-3"), -2e-3);
	cr_assert_eq(double_of("7"), 7.0);
	cr_assert(isinf(double_of("inf")));
	cr_assert(isnan(double_of("nan")));
	/* Underflow is as close as it gets. */
	cr_assert_eq(double_of("1e-400"), 0.0);
	parse_bad("double", "1e400", "out of range for double");
	parse_bad("double", "one", "expected double");
	parse_bad("double", "1.5x", "expected double");
	parse_bad("double", "", "expected double");
	reads_as("double", "0.1", "0.1");
	reads_as("double", "1e300", "1e+300");
	reads_as("double", "-0", "-0");
	reads_as("double", "inf", "inf");
	reads_as("double", "-inf", "-inf");
	reads_as("double", "nan", "nan");
}

/* The shortest text that reads back as the same double. */
Test(literal, double_round_trips_exactly)
{
	static const double ds[] = { 0.1, 1.0 / 3, 2.0 / 3, 1e-300, 5e-324,
	    1.7976931348623157e308, 123456789.123456789, -0.000001 };
	dopy_type *t = ty("double");
	dopy_value *v, *back;
	char err[100], *f;
	size_t i;

	for (i = 0; i < sizeof(ds) / sizeof(ds[0]); i++) {
		v = dopy_value_double(ds[i]);
		f = dopy_value_format(v);
		back = dopy_value_parse(t, f, err, sizeof(err));
		cr_assert_not_null(back, "%s: %s", f, err);
		cr_assert_eq(dopy_value_get_double(back), ds[i], "%.17g -> %s",
		    ds[i], f);
		cr_assert_leq(strlen(f), 24);
		free(f);
		dopy_value_free(v);
		dopy_value_free(back);
	}
	dopy_type_free(t);
}

/* ---- strings and bytes ---- */

Test(literal, top_level_string_is_verbatim)
{
	static const char *const texts[] = { "", "plain", "with, comma",
	    "\"quoted\"", " leading and trailing ", "[1, 2]", "back\\slash",
	    "(a,b)", "tab\there", "h\xc3\xa9llo" };
	dopy_value *v;
	char *f;
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		v = parse_ok("string", texts[i]);
		cr_assert_str_eq(dopy_value_get_string(v), texts[i]);
		f = dopy_value_format(v);
		cr_assert_str_eq(f, texts[i]);
		free(f);
		dopy_value_free(v);
		v = parse_ok("bytes", texts[i]);
		cr_assert_eq(dopy_value_len(v), strlen(texts[i]));
		dopy_value_free(v);
	}
}

Test(literal, top_level_bytes_format_raw)
{
	dopy_value *v = dopy_value_bytes("a\0b\xff", 4);
	char *f = dopy_value_format(v);

	cr_assert_not_null(f);
	cr_assert_eq(memcmp(f, "a\0b\xff", 4), 0);
	free(f);
	dopy_value_free(v);
}

Test(literal, quoted_strings_inside)
{
	dopy_value *v = parse_ok("string[]",
	    "[\"a, b\", \"q\\\"q\", \"back\\\\\", \"n\\nt\\tr\\r\", \"\\x41\", "
	    "word, \"\"]");

	cr_assert_eq(dopy_value_len(v), 7);
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(v, 0)), "a, b");
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(v, 1)), "q\"q");
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(v, 2)), "back\\");
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(v, 3)),
	    "n\nt\tr\r");
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(v, 4)), "A");
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(v, 5)), "word");
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(v, 6)), "");
	dopy_value_free(v);
}

Test(literal, bytes_escapes)
{
	dopy_value *v = parse_ok("bytes[]", "[\"\\x00\\xff\\0a\", raw]");
	const uint8_t *p;
	size_t len;

	p = dopy_value_get_bytes(dopy_value_at(v, 0), &len);
	cr_assert_eq(len, 4);
	cr_assert_eq(memcmp(p, "\0\xff\0a", 4), 0);
	p = dopy_value_get_bytes(dopy_value_at(v, 1), &len);
	cr_assert_eq(len, 3);
	dopy_value_free(v);
}

Test(literal, string_escape_errors)
{
	parse_bad("string[]", "[\"abc]", "unterminated string");
	parse_bad("string[]", "[\"abc\\", "unterminated string");
	parse_bad("string[]", "[\"\\q\"]", "unknown escape");
	parse_bad("string[]", "[\"\\xZZ\"]", "bad escape");
	parse_bad("string[]", "[\"\\x4\"]", "bad escape");
	parse_bad("string[]", "[\"\\0\"]", "cannot hold a NUL");
	parse_bad("string[]", "[\"\\x00\"]", "cannot hold a NUL");
}

Test(literal, format_quotes_inside)
{
	dopy_value *a = new_of("string[]");

	dopy_value_append(a, dopy_value_string("plain"));
	dopy_value_append(a, dopy_value_string("q\"b\\"));
	dopy_value_append(a, dopy_value_string("\n\t\r\x01\x7f"));
	dopy_value_append(a, dopy_value_string("h\xc3\xa9"));
	formats_as(a, "[\"plain\", \"q\\\"b\\\\\", "
	    "\"\\n\\t\\r\\x01\\x7f\", \"h\xc3\xa9\"]");
}

Test(literal, format_bytes_inside)
{
	dopy_value *a = new_of("bytes[]");

	dopy_value_append(a, dopy_value_bytes("\0a\xff\xc3\xa9", 5));
	formats_as(a, "[\"\\x00a\\xff\\xc3\\xa9\"]");
}

/* ---- arrays and structures ---- */

Test(literal, arrays)
{
	reads_as("int[]", "[1, 2, 3]", "[1, 2, 3]");
	reads_as("int[]", "[1,2,3]", "[1, 2, 3]");
	reads_as("int[]", " [ 1 , 2 ] ", "[1, 2]");
	reads_as("int[]", "[]", "[]");
	reads_as("int[]", "[ ]", "[]");
	/* A bare list at the top: a convenience for shell arguments. */
	reads_as("int[]", "1,2,3", "[1, 2, 3]");
	reads_as("int[]", "", "[]");
	reads_as("int[]", "7", "[7]");
	reads_as("bool[]", "[true, no]", "[true, false]");
	reads_as("string[]", "a,b", "[\"a\", \"b\"]");
}

Test(literal, nested_arrays)
{
	dopy_value *v = parse_ok("int[][]", "[[1], [2, 3], []]");

	cr_assert_eq(dopy_value_len(v), 3);
	cr_assert_eq(dopy_value_len(dopy_value_at(v, 2)), 0);
	cr_assert_eq(dopy_value_get_int(dopy_value_at(dopy_value_at(v, 1), 1)),
	    3);
	dopy_value_free(v);
	reads_as("int[][]", "[[1],[2,3],[]]", "[[1], [2, 3], []]");
	reads_as("int[][][]", "[[[1]], []]", "[[[1]], []]");
}

Test(literal, structs)
{
	dopy_value *v = parse_ok("(int,string)", "(1, \"a b\")");

	cr_assert_eq(dopy_value_get_int(dopy_value_at(v, 0)), 1);
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(v, 1)), "a b");
	dopy_value_free(v);
	reads_as("(int,string)", "(1,a)", "(1, \"a\")");
	reads_as("(int,string)", "1, a", "(1, \"a\")");
	reads_as("(int,string)[]", "[(1, a), (2, \"b\")]",
	    "[(1, \"a\"), (2, \"b\")]");
	reads_as("(bool,double,uint)", "(yes, 0.5, 3)", "(true, 0.5, 3)");
}

Test(literal, list_errors)
{
	parse_bad("int[]", "[1, 2", "expected ',' or ']', got end of text");
	parse_bad("int[]", "[1 2]", "expected ',' or ']'");
	parse_bad("int[]", "[1, x]", "expected int, got 'x'");
	parse_bad("int[]", "[1,]", "expected int");
	parse_bad("int[]", "[1] x", "junk after int[]");
	parse_bad("int[]", "(1)", "expected int");
	parse_bad("int[][]", "[1]", "expected int[], got '1'");
	parse_bad("int[]", "[[1]]", "expected int");
	parse_bad("(int,string)", "(1)", "wants 2 fields, got 1");
	parse_bad("(int,string)", "(1, a, b)", "wants 2 fields, got more");
	parse_bad("(int,string)", "(x, a)", "expected int");
	parse_bad("(int,string)", "()", "expected int");
	parse_bad("(int,string)[]", "[(1, a), 2]", "expected (int,string)");
}

Test(literal, nesting_limit)
{
	dopy_type *t;
	char text[64];
	dopy_value *v;
	char err[200];
	int i;

	/* A type as deep as allowed takes a value as deep. */
	snprintf(text, sizeof(text), "int");
	for (i = 1; i < DOPY_MAX_DEPTH; i++)
		strlcat(text, "[]", sizeof(text));
	t = ty(text);
	text[0] = '\0';
	for (i = 1; i < DOPY_MAX_DEPTH; i++)
		strlcat(text, "[", sizeof(text));
	strlcat(text, "5", sizeof(text));
	for (i = 1; i < DOPY_MAX_DEPTH; i++)
		strlcat(text, "]", sizeof(text));
	v = dopy_value_parse(t, text, err, sizeof(err));
	cr_assert_not_null(v, "%s", err);
	dopy_value_free(v);
	dopy_type_free(t);
}

Test(literal, null_arguments)
{
	char err[100];

	cr_assert_null(dopy_value_parse(NULL, "1", err, sizeof(err)));
	cr_assert(err[0] != '\0');
	cr_assert_null(dopy_value_parse(&dopy_type_int_, NULL, err,
	    sizeof(err)));
	cr_assert_null(dopy_value_format(NULL));
	cr_assert_null(dopy_value_json(NULL));
}

Test(literal, error_text_is_snipped_and_safe)
{
	char text[200], err[300];
	dopy_value *v;

	memset(text, 'z', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	text[3] = '\x01';
	v = dopy_value_parse(&dopy_type_int_, text, err, sizeof(err));
	cr_assert_null(v);
	cr_assert_lt(strlen(err), 100, "%s", err);
	cr_assert_null(strchr(err, '\x01'), "%s", err);
	cr_assert(strstr(err, "...") != NULL, "%s", err);
}

/* `any` takes what the text looks like. */
Test(literal, any_guesses)
{
	dopy_value *v;

	v = any_as("42", DOPY_INT);
	cr_assert_eq(dopy_value_get_int(v), 42);
	dopy_value_free(v);
	dopy_value_free(any_as("4.5", DOPY_DOUBLE));
	dopy_value_free(any_as("true", DOPY_BOOL));
	v = any_as("hello, world", DOPY_STRING);
	cr_assert_str_eq(dopy_value_get_string(v), "hello, world");
	dopy_value_free(v);
	dopy_value_free(any_as("", DOPY_STRING));
}

/* ---- format, then parse: the same value ---- */

static void
format_parse(const char *type, const char *text)
{
	dopy_value *v = parse_ok(type, text), *back;
	char *f = dopy_value_format(v), err[200] = "";

	cr_assert_not_null(f);
	back = dopy_value_parse(dopy_value_type(v), f, err, sizeof(err));
	cr_assert_not_null(back, "%s: '%s' does not parse: %s", type, f, err);
	cr_assert(dopy_value_equal(v, back), "%s: '%s' -> '%s' differs", type,
	    text, f);
	free(f);
	dopy_value_free(v);
	dopy_value_free(back);
}

Test(literal, format_then_parse)
{
	format_parse("bool", "true");
	format_parse("int", "-123");
	format_parse("uint", "18446744073709551615");
	format_parse("double", "0.30000000000000004");
	format_parse("double", "nan");
	format_parse("double", "-inf");
	format_parse("string", "any text, at all \"here\"");
	format_parse("string", "");
	format_parse("bytes", "raw bytes");
	format_parse("int[]", "[]");
	format_parse("string[]", "[\"\", \"a,b\", \"q\\\"\", \"\\n\\x01\"]");
	format_parse("bytes[]", "[\"\\x00\\xff\", \"\"]");
	format_parse("(int,string)[]", "[(1, \"x, y\"), (-2, \"\")]");
	format_parse("(bool,double,string,uint)", "(false, 1e-10, s, 9)");
	format_parse("int[][]", "[[], [1], [2, 3]]");
	format_parse("string[][]", "[[\"]\"], [\")\", \"[\"]]");
	format_parse("double[]", "[0.1, 1e+300, -0]");
}

/* ---- JSON ---- */

Test(literal, json_scalars)
{
	json_is(dopy_value_bool(1), "true");
	json_is(dopy_value_bool(0), "false");
	json_is(dopy_value_int(INT64_MIN), "-9223372036854775808");
	json_is(dopy_value_uint(UINT64_MAX), "18446744073709551615");
	json_is(dopy_value_double(0.5), "0.5");
	json_is(dopy_value_double(NAN), "null");
	json_is(dopy_value_double(INFINITY), "null");
	json_is(dopy_value_double(-INFINITY), "null");
	json_is(dopy_value_string(""), "\"\"");
}

Test(literal, json_string_escaping)
{
	json_is(dopy_value_string("say \"hi\" \\o/"),
	    "\"say \\\"hi\\\" \\\\o/\"");
	json_is(dopy_value_string("\n\t\r\x01\x1f"),
	    "\"\\u000a\\u0009\\u000d\\u0001\\u001f\"");
	json_is(dopy_value_string("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"),
	    "\"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80\"");
	json_is(dopy_value_string("\x7f"), "\"\x7f\"");
	json_is(dopy_value_string("/"), "\"/\"");
}

/* JSON text must be UTF-8: each bad byte of a string becomes U+FFFD. */
Test(literal, json_invalid_utf8)
{
	json_is(dopy_value_string("a\xff" "b"), "\"a\\ufffdb\"");
	json_is(dopy_value_string("\xc3"), "\"\\ufffd\"");		/* cut */
	json_is(dopy_value_string("\xc0\xaf"), "\"\\ufffd\\ufffd\"");	/* overlong */
	json_is(dopy_value_string("\xed\xa0\x80"),
	    "\"\\ufffd\\ufffd\\ufffd\"");				/* surrogate */
	json_is(dopy_value_string("\xf4\x90\x80\x80"),
	    "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");			/* > U+10FFFF */
	json_is(dopy_value_string("\xe2\x82"), "\"\\ufffd\\ufffd\"");
}

/* Bytes are latin-1: every byte its own code point, losslessly. */
Test(literal, json_bytes)
{
	json_is(dopy_value_bytes("\0A\x80\xff\"", 5),
	    "\"\\u0000A\\u0080\\u00ff\\\"\"");
	json_is(dopy_value_bytes(NULL, 0), "\"\"");
}

Test(literal, json_arrays_and_structs)
{
	json_is(parse_ok("int[]", "[]"), "[]");
	json_is(parse_ok("int[]", "[1, 2]"), "[1,2]");
	json_is(parse_ok("(int,string,bool)", "(1, x, true)"),
	    "[1,\"x\",true]");
	json_is(parse_ok("(int,string)[]", "[(1, a), (2, \"b\\\"\")]"),
	    "[[1,\"a\"],[2,\"b\\\"\"]]");
	json_is(parse_ok("int[][]", "[[], [1]]"), "[[],[1]]");
	json_is(parse_ok("double[]", "[nan, 1.5]"), "[null,1.5]");
}

/* ---- references: "@ID" and {"ref":ID} ---- */

Test(literal, ref)
{
	dopy_value *v = parse_ok("ref", "@7");

	cr_assert_eq(dopy_value_get_ref(v), 7);
	dopy_value_free(v);
	reads_as("ref", " @4294967295 ", "@4294967295");
	reads_as("ref[]", "[@1, @2,@3]", "[@1, @2, @3]");
	reads_as("ref[]", "@1,@2", "[@1, @2]");
	reads_as("(string,ref)", "(\"a b\", @9)", "(\"a b\", @9)");
	reads_as("(string,ref)[]", "[(a, @1), (b, @2)]",
	    "[(\"a\", @1), (\"b\", @2)]");
	format_parse("ref", "@12");
	format_parse("(ref,ref)[]", "[(@1, @2)]");
}

/* One id, one spelling: the object key "@ID" has no other form. */
Test(literal, ref_errors)
{
	parse_bad("ref", "7", "expected ref, got '7'");
	parse_bad("ref", "@", "expected ref");
	parse_bad("ref", "@0", "expected ref");
	parse_bad("ref", "@07", "expected ref");
	parse_bad("ref", "@-1", "expected ref");
	parse_bad("ref", "@+1", "expected ref");
	parse_bad("ref", "@abc", "expected ref");
	parse_bad("ref", "@1x", "expected ref");
	parse_bad("ref", "@0x10", "expected ref");
	parse_bad("ref", "@ 1", "expected ref");
	parse_bad("ref", "@4294967296", "out of range for ref");
	parse_bad("ref", "@99999999999999999999999", "out of range for ref");
	parse_bad("ref[]", "[@1, 2]", "expected ref, got '2'");
	parse_bad("(string,ref)", "(a, b)", "expected ref, got 'b'");
}

Test(literal, ref_zero_formats_but_does_not_parse)
{
	/* A zeroed ref: id 0. */
	formats_as(new_of("(string,ref)"), "(\"\", @0)");
}

Test(literal, any_takes_a_ref)
{
	dopy_value *v = any_as("@3", DOPY_REF);

	cr_assert_eq(dopy_value_get_ref(v), 3);
	dopy_value_free(v);
	/* Not an id: a string. */
	dopy_value_free(any_as("@0", DOPY_STRING));
}

Test(literal, json_refs)
{
	json_is(dopy_value_ref(1), "{\"ref\":1}");
	json_is(dopy_value_ref(UINT32_MAX), "{\"ref\":4294967295}");
	json_is(parse_ok("ref[]", "[@1, @2]"), "[{\"ref\":1},{\"ref\":2}]");
	json_is(parse_ok("(string,ref)", "(x, @5)"), "[\"x\",{\"ref\":5}]");
}

/* ---- packed arrays print without a value per element ---- */

/* Format v both ways (and free it): no element may have been made. */
static void
packed_prints(dopy_value *v, const char *text, const char *json)
{
	char *f = dopy_value_format(v), *j = dopy_value_json(v);

	cr_assert_not_null(f);
	cr_assert_not_null(j);
	cr_assert_str_eq(f, text);
	cr_assert_str_eq(j, json);
	cr_assert_null(v->u.a.v, "%s: an element was made", text);
	free(f);
	free(j);
	dopy_value_free(v);
}

Test(literal, packed_arrays)
{
	static const uint8_t bs[] = { 1, 0 };
	static const int64_t is[] = { -1, INT64_MAX };
	static const uint64_t us[] = { UINT64_MAX };
	static const double ds[] = { 0.5, NAN, -INFINITY };
	dopy_value *v;

	packed_prints(dopy_value_bool_array(bs, 2), "[true, false]",
	    "[true,false]");
	packed_prints(dopy_value_int_array(is, 2),
	    "[-1, 9223372036854775807]", "[-1,9223372036854775807]");
	packed_prints(dopy_value_uint_array(us, 1),
	    "[18446744073709551615]", "[18446744073709551615]");
	packed_prints(dopy_value_double_array(ds, 3), "[0.5, nan, -inf]",
	    "[0.5,null,null]");
	packed_prints(dopy_value_int_array(NULL, 0), "[]", "[]");
	/* Parsed text is packed too, and reads back the same. */
	v = parse_ok("double[]", "[1.5, -2]");
	cr_assert_not_null(dopy_value_doubles(v, NULL));
	packed_prints(v, "[1.5, -2]", "[1.5,-2]");
}
