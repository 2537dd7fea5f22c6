/*
 * e2e_rsh_json.c - dopy-rsh -j against the real dopyd: every output as
 * JSON, byte for byte (listings, descriptions, results, errors), and
 * arguments and batch lines read as JSON (dopy-rsh(1), JSON).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "e2e_util.h"

#define RSH(...) { (char *)e2e_bin("dopy-rsh"), __VA_ARGS__, NULL }
#define DOPYD	(char *)e2e_bin("dopyd")

/* Run argv with input; it must exit with code and write out on stdout
 * once masked (e2e_mask), and errpart on stderr unless NULL. */
static void
expect(char *const argv[], const char *input, int code, const char *out,
    const char *errpart)
{
	struct e2e_run r;
	char *m;

	e2e_run_ms(&r, input, input != NULL ? strlen(input) : 0, E2E_WAIT_MS,
	    argv);
	e2e_assert_run(&r, code, NULL);
	m = e2e_mask(r.out);
	cr_assert_str_eq(m, out, "stdout:\n%s\nwant:\n%s\nstderr: %s", m, out,
	    r.err);
	if (errpart != NULL)
		cr_assert_not_null(strstr(r.err, errpart), "no '%s' in:\n%s",
		    errpart, r.err);
	free(m);
	e2e_run_free(&r);
}

/* ---- output ---- */

Test(rshjson, list_objects, .timeout = 20)
{
	char *argv[] = RSH("-j", DOPYD);

	expect(argv, NULL, 0,
	    "[\"cb\",\"crash\",\"dopy\",\"factory\",\"iso\",\"sandbox\",\"slow\","
	    "\"stream\",\"stub\",\"test\","
	    "\"thermo\",\"upload\"]\n", NULL);
}

Test(rshjson, describe, .timeout = 20)
{
	char *argv[] = RSH("-j", DOPYD, "test");

	expect(argv, NULL, 0, "[{\"name\":\"add\",\"params\":[{\"name\":\"a\","
	    "\"type\":\"int\"},{\"name\":\"b\",\"type\":\"int\"}],\"result\":"
	    "\"int\",\"doc\":\"Add two integers.\"},{\"name\":\"echo\","
	    "\"params\":[{\"name\":\"data\",\"type\":\"bytes\"}],\"result\":"
	    "\"bytes\",\"doc\":\"Return the bytes unchanged.\"},{\"name\":"
	    "\"greet\",\"params\":[{\"name\":\"name\",\"type\":\"string\"},"
	    "{\"name\":\"greeting\",\"type\":\"string\",\"default\":\"Hello\"}],"
	    "\"result\":\"string\",\"doc\":\"Return \\\"<greeting>, <name>\\\".\"},"
	    "{\"name\":\"fail\",\"params\":[{\"name\":\"message\",\"type\":"
	    "\"string\"}],\"result\":null,\"doc\":\"Raise test.Failure with the "
	    "message.\"},{\"name\":\"noisy\",\"params\":[],\"result\":\"string\","
	    "\"doc\":\"Write to stdout and stderr, then return \\\"quiet\\\".\"},"
	    "{\"name\":\"sleep\",\"params\":[{\"name\":\"ms\",\"type\":\"int\"}],"
	    "\"result\":null,\"doc\":\"Sleep for ms milliseconds (at most a "
	    "minute).\"},{\"name\":\"notify\",\"params\":[{\"name\":\"ms\","
	    "\"type\":\"int\"},{\"name\":\"fail\",\"type\":\"bool\",\"default\":"
	    "false}],\"result\":null,\"doc\":\"Oneway on the server's side: "
	    "answered at once, then sleeps ms and fails if asked (logged).\"},"
	    "{\"name\":\"caller\",\"params\":[],\"result\":\"(string,string,"
	    "string,int,string,bool)\",\"doc\":\"Who called: transport, address, "
	    "port, uid, SSH_CONNECTION, whether the key was verified.\"}]\n",
	    NULL);
}

Test(rshjson, void_result_is_null, .timeout = 20)
{
	char *argv[] = RSH("-j", DOPYD, "test", "sleep", "0");

	expect(argv, NULL, 0, "null\n", NULL);
}

/* Without -j a method without a result still prints nothing. */
Test(rshjson, void_result_text_is_empty, .timeout = 20)
{
	char *argv[] = RSH(DOPYD, "test", "sleep", "0");

	expect(argv, NULL, 0, "", NULL);
}

Test(rshjson, structure_result, .timeout = 20)
{
	char *argv[] = RSH("-j", DOPYD, "test", "caller");

	expect(argv, NULL, 0, "[\"pipe\",\"\",\"\",-1,\"\",false]\n", NULL);
}

/* A remote error: one object on stdout, the usual story on stderr. */
Test(rshjson, remote_error, .timeout = 20)
{
	char *argv[] = RSH("-j", DOPYD, "test", "fail", "bo\"om");

	expect(argv, NULL, 1, "{\"error\":{\"kind\":\"remote\",\"name\":"
	    "\"test.Failure\","
	    "\"message\":\"bo\\\"om\",\"object\":\"test\",\"method\":\"fail\","
	    "\"trace\":[\"bin/testobj.c:41 test_fail\",\"in test.fail on host "
	    "HOST pid PID\"],\"host\":\"HOST\",\"pid\":PID,\"status\":1}}\n",
	    "remote error: test.Failure: bo\"om");
}

/* Refused before anything is sent: exit 2, the call's names kept. */
Test(rshjson, usage_error, .timeout = 20)
{
	char *argv[] = RSH("-j", DOPYD, "test", "add", "1", "x");

	expect(argv, NULL, 2, "{\"error\":{\"kind\":\"usage\",\"name\":"
	    "\"dopy.TypeError\","
	    "\"message\":\"test.add: parameter b: expected int, got 'x'\","
	    "\"object\":\"test\",\"method\":\"add\",\"trace\":[],\"host\":null,"
	    "\"pid\":null,\"status\":2}}\n", "got 'x'");
}

/* The object and method are the call's, not the dopy.describe that
 * found the object missing. */
Test(rshjson, unknown_object, .timeout = 20)
{
	char *argv[] = RSH("-j", DOPYD, "nosuch", "add", "1");

	expect(argv, NULL, 2, "{\"error\":{\"kind\":\"usage\",\"name\":"
	    "\"dopy.UnknownObject\","
	    "\"message\":\"no object 'nosuch'\",\"object\":\"nosuch\","
	    "\"method\":\"add\",\"trace\":[\"lib/server/introspect.c:18 lookup\","
	    "\"in dopy.describe on host HOST pid PID\"],\"host\":\"HOST\","
	    "\"pid\":PID,\"status\":2}}\n", NULL);
}

Test(rshjson, connection_error, .timeout = 20)
{
	char *argv[] = RSH("-j", "sh -c \"exit 0\"", "test", "add", "1", "2");
	struct e2e_run r;

	e2e_run(&r, argv);
	e2e_assert_run(&r, 3, NULL);
	cr_assert(strncmp(r.out, "{\"error\":{\"kind\":\"notrun\",\"name\":",
	    33) == 0 &&
	    strstr(r.out, ",\"status\":3}}\n") != NULL, "stdout: %s", r.out);
	e2e_run_free(&r);
}

/* ---- --json=pretty and --json=short ---- */

/* Indented as jq does; an empty array stays [], and the commas, colons
 * and brackets inside strings are left as they are. */
Test(rshjson, pretty_result, .timeout = 20)
{
	char *argv[] = RSH("--json=pretty", DOPYD, "factory", "pair",
	    "a, b: [c]");
	char *eargv[] = RSH("--json=pretty", DOPYD, "factory", "many", "0");

	expect(argv, NULL, 0, "[\n  \"a, b: [c]\",\n  {\n    \"ref\": 1\n"
	    "  }\n]\n", NULL);
	expect(eargv, NULL, 0, "[]\n", NULL);
}

/* Numbers keep the library's text: a uint above 2^63, a double. */
Test(rshjson, pretty_keeps_numbers, .timeout = 20)
{
	char *argv[] = RSH("--json=pretty", DOPYD, "factory", "kinds",
	    "[true,-1,\"18446744073709551615\",0.1,\"s\",\"y\",[]]");

	expect(argv, NULL, 0, "\"bool:true int:-1 uint:18446744073709551615 "
	    "double:0.1 string:\\\"s\\\" bytes:\\\"y\\\" (string,int)[]:[]\"\n",
	    NULL);
}

/* Each batch line indented in turn, an error found here (no host nor
 * pid to mask) as well as a result. */
Test(rshjson, pretty_batch_lines, .timeout = 20)
{
	char *argv[] = RSH("-b", "--json=pretty", DOPYD, "test");

	expect(argv, "add 2 3\nadd 1 x\n", 2, "{\n  \"line\": 1,\n"
	    "  \"result\": 5\n}\n{\n  \"line\": 2,\n  \"error\": {\n"
	    "    \"kind\": \"usage\",\n    \"name\": \"dopy.TypeError\",\n"
	    "    \"message\": \"test.add: parameter b: expected int, got 'x'\",\n"
	    "    \"object\": \"test\",\n    \"method\": \"add\",\n"
	    "    \"trace\": [],\n    \"host\": null,\n    \"pid\": null,\n"
	    "    \"status\": 2\n  }\n}\n", "line 2");
}

/* --json=short is -j's compact line, even where -j would indent (on
 * a terminal); the tests' stdout is a pipe, where -j is short too. */
Test(rshjson, short_is_compact, .timeout = 20)
{
	char *argv[] = RSH("--json=short", DOPYD, "test", "caller");
	char *jargv[] = RSH("-j", DOPYD, "test", "caller");
	char *bad[] = RSH("--json=wide", DOPYD);

	expect(argv, NULL, 0, "[\"pipe\",\"\",\"\",-1,\"\",false]\n", NULL);
	expect(jargv, NULL, 0, "[\"pipe\",\"\",\"\",-1,\"\",false]\n", NULL);
	e2e_run_expect(bad, 2, "", "--json=wide: short or pretty");
}

/* ---- arguments as JSON ---- */

/* factory.kinds prints each argument as TYPE:JSON. */
#define KINDS_ARGS	"[true,-1,\"18446744073709551615\",2.5,\"s\\u00e9\"," \
			"\"\\u00ff\\u0000a\",[[\"a\",1],[\"b\",2]]]"
#define KINDS_RES	"\"bool:true int:-1 uint:18446744073709551615 " \
			"double:2.5 string:\\\"s\xc3\xa9\\\" " \
			"bytes:\\\"\\\\u00ff\\\\u0000a\\\" (string,int)[]:" \
			"[[\\\"a\\\",1],[\\\"b\\\",2]]\""
#define KINDS_OUT	KINDS_RES "\n"

/* Every value type by position: a uint above 2^63 as a string, bytes
 * one character a byte (as -j prints them), an array of structures as
 * arrays. */
Test(rshjson, args_array_every_type, .timeout = 20)
{
	char *argv[] = RSH("-j", DOPYD, "factory", "kinds", KINDS_ARGS);

	expect(argv, NULL, 0, KINDS_OUT, NULL);
}

/* "-": the same from standard input, as jq would hand it over. */
Test(rshjson, args_from_stdin, .timeout = 20)
{
	char *argv[] = RSH("-j", DOPYD, "factory", "kinds", "-");

	expect(argv, KINDS_ARGS "\n", 0, KINDS_OUT, NULL);
}

Test(rshjson, args_object_named, .timeout = 20)
{
	char *argv[] = RSH("-j", DOPYD, "factory", "kinds", "{\"a\":[],"
	    "\"y\":\"\",\"s\":\"\",\"d\":1,\"u\":7,\"i\":3,\"b\":false}");

	expect(argv, NULL, 0, "\"bool:false int:3 uint:7 double:1 "
	    "string:\\\"\\\" bytes:\\\"\\\" (string,int)[]:[]\"\n", NULL);
}

/* Named ones with a default left out; without -j the text is text. */
Test(rshjson, args_object_default, .timeout = 20)
{
	char *argv[] = RSH("-j", DOPYD, "test", "greet", "{\"name\":\"W\"}");
	char *targv[] = RSH(DOPYD, "test", "greet", "{\"name\":\"W\"}");

	expect(argv, NULL, 0, "\"Hello, W\"\n", NULL);
	expect(targv, NULL, 0, "Hello, {\"name\":\"W\"}\n", NULL);
}

/* `any` takes its type from the JSON. */
Test(rshjson, args_any_inferred, .timeout = 20)
{
	static const char *cases[][2] = {
		{ "[true]", "true\n" },
		{ "[-3]", "-3\n" },
		{ "[1.5]", "1.5\n" },
		{ "[\"x\"]", "\"x\"\n" },
		{ "[[true,false]]", "[true,false]\n" },
		{ "[[1,2.5]]", "[1,2.5]\n" },
		{ "[[\"a\",\"b\"]]", "[\"a\",\"b\"]\n" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[] = RSH("-j", DOPYD, "factory", "pass",
		    (char *)cases[i][0]);

		expect(argv, NULL, 0, cases[i][1], NULL);
	}
}

/* A reference, {"ref":N} as -j prints it or "@N", reaches the server
 * as one: this new connection has none, and the server says which. */
Test(rshjson, args_refs, .timeout = 20)
{
	char *argv[] = RSH("-j", DOPYD, "factory", "sum",
	    "{\"refs\":[{\"ref\":2},\"@3\"]}");
	char *largv[] = RSH("-j", DOPYD, "factory", "label",
	    "[[\"x\",\"@4\"]]");

	expect(argv, NULL, 2, "{\"error\":{\"kind\":\"usage\",\"name\":"
	    "\"dopy.UnknownReference\","
	    "\"message\":\"factory.sum: parameter refs: no reference @2 on this "
	    "connection (released, reaped, or from another connection)\","
	    "\"object\":\"factory\",\"method\":\"sum\",\"trace\":[\"in "
	    "factory.sum on host HOST pid PID\"],\"host\":\"HOST\",\"pid\":PID,"
	    "\"status\":2}}\n", NULL);
	expect(largv, NULL, 2, "{\"error\":{\"kind\":\"usage\",\"name\":"
	    "\"dopy.UnknownReference\","
	    "\"message\":\"factory.label: parameter p: no reference @4 on this "
	    "connection (released, reaped, or from another connection)\","
	    "\"object\":\"factory\",\"method\":\"label\",\"trace\":[\"in "
	    "factory.label on host HOST pid PID\"],\"host\":\"HOST\",\"pid\":PID,"
	    "\"status\":2}}\n", NULL);
}

/* A refused argument: exit 2, the reason, nothing sent. */
struct bad_case {
	const char	*method, *json, *name, *message;
};

static const struct bad_case bad_cases[] = {
	{ "add", "[1,", "dopy-rsh.JSONError", "test.add: bad JSON at line 1 "
	    "column 3: ']' expected near end of file" },
	{ "add", "[1,2] x", "dopy-rsh.JSONError", "test.add: bad JSON at "
	    "line 1 column 7: end of file expected near 'x'" },
	{ "add", "[1,\"x\"]", "dopy.TypeError", "test.add: parameter b: "
	    "expected int, got 'x'" },
	{ "add", "[1,2.5]", "dopy.TypeError", "test.add: parameter b: int "
	    "wanted, not a number" },
	{ "add", "[1,2,3]", "dopy.ArgumentError", "test.add: too many "
	    "arguments (it takes 2)" },
	{ "add", "{\"c\":1}", "dopy.ArgumentError", "test.add: no parameter "
	    "'c'" },
	{ "echo", "[\"\\u0100\"]", "dopy.TypeError", "test.echo: parameter "
	    "data: bytes are characters U+0000 to U+00FF, one a byte" },
	{ "greet", "[null]", "dopy.TypeError", "test.greet: parameter name: "
	    "string wanted (without NUL), not null" },
	{ "greet", "[\"a\\u0000b\"]", "dopy.TypeError", "test.greet: "
	    "parameter name: string wanted (without NUL), not a string" },
};

E2E_TABLE_PARAMS(rshjson, bad_args, bad_cases)

ParameterizedTest(size_t *ip, rshjson, bad_args, .timeout = 20)
{
	const struct bad_case *c = &bad_cases[*ip];
	char target[4200], want[1024], *log;
	char *argv[] = RSH("-j", target, "test", (char *)c->method,
	    (char *)c->json);

	/* The server's log counts the calls: only dopy.describe came. */
	snprintf(target, sizeof(target), "%s -v -L %s/log", e2e_bin("dopyd"),
	    e2e_tmpdir());
	snprintf(want, sizeof(want), "{\"error\":{\"kind\":\"usage\","
	    "\"name\":\"%s\",\"message\":\"%s\",\"object\":\"test\",\"method\":\"%s\",\"trace\":[],"
	    "\"host\":null,\"pid\":null,\"status\":2}}\n", c->name, c->message,
	    c->method);
	expect(argv, NULL, 2, want, c->message);
	snprintf(target, sizeof(target), "%s/log", e2e_tmpdir());
	log = e2e_slurp(target, NULL);
	cr_assert_not_null(log);
	cr_assert_not_null(strstr(log, " calls=1 "), "%s", log);
	cr_assert_null(strstr(log, "\"object\":\"test\""), "%s", log);
	free(log);
}

/* The example of dopy-rsh(1), with what jq -n prints. */
Test(rshjson, args_example_jq, .timeout = 20)
{
	char *argv[] = RSH("-j", DOPYD, "test", "greet", "-");

	expect(argv, "{\n  \"name\": \"World\",\n  \"greeting\": \"Hi\"\n}\n",
	    0, "\"Hi, World\"\n", NULL);
}

/* ---- batch lines as JSON (-b -j) ---- */

/* References made by one line serve the lines after it; text lines
 * still work beside JSON ones; a bad line is reported on its own line
 * and the batch goes on. */
Test(rshjson, batch_lines, .timeout = 20)
{
	char *argv[] = RSH("-b", "-j", DOPYD);

	expect(argv,
	    "{\"object\":\"factory\",\"method\":\"counter\",\"args\":"
	    "{\"start\":5}}\n"
	    "{\"object\":\"factory\",\"method\":\"value\",\"args\":[\"@1\"]}\n"
	    "{\"object\":\"factory\",\"method\":\"sum\",\"args\":{\"refs\":"
	    "[{\"ref\":1},\"@1\"]}}\n"
	    "{\"object\":\"factory\",\"method\":\"label\",\"args\":[[\"n\","
	    "{\"ref\":1}]]}\n"
	    "  {\"object\":\"test\",\"method\":\"sleep\",\"args\":[0]}\n"
	    "{\"object\":\"test\",\"method\":\"caller\"}\n"
	    "test add 2 3\n"
	    "{\"method\":\"add\"}\n"
	    "{\"object\":\"test\",\"method\":\"add\",\"args\":[1,\n"
	    "{\"object\":\"test\",\"method\":\"add\",\"args\":[1,\"x\"]}\n"
	    "{\"object\":\"test\",\"method\":\"add\",\"args\":3}\n"
	    "{\"object\":\"test\",\"method\":\"add\",\"x\":3}\n"
	    "{\"object\":\"test\",\"method\":7}\n"
	    "{\"object\":\"factory\",\"method\":\"kinds\",\"args\":"
	    KINDS_ARGS "}\n",
	    2,
	    "{\"line\":1,\"result\":{\"ref\":1}}\n"
	    "{\"line\":2,\"result\":5}\n"
	    "{\"line\":3,\"result\":10}\n"
	    "{\"line\":4,\"result\":\"n=5\"}\n"
	    "{\"line\":5,\"result\":null}\n"
	    "{\"line\":6,\"result\":[\"pipe\",\"\",\"\",-1,\"\",false]}\n"
	    "{\"line\":7,\"result\":5}\n"
	    "{\"line\":8,\"error\":{\"kind\":\"usage\",\"name\":"
	    "\"dopy-rsh.JSONError\",\"message\":\"no \\\"object\\\"\","
	    "\"object\":null,\"method\":null,\"trace\":[],\"host\":null,"
	    "\"pid\":null,\"status\":2}}\n"
	    "{\"line\":9,\"error\":{\"kind\":\"usage\",\"name\":"
	    "\"dopy-rsh.JSONError\",\"message\":\"bad JSON at line 1 column "
	    "42: ']' expected near end of file\",\"object\":null,\"method\":"
	    "null,\"trace\":[],\"host\":null,\"pid\":null,\"status\":2}}\n"
	    "{\"line\":10,\"error\":{\"kind\":\"usage\",\"name\":"
	    "\"dopy.TypeError\",\"message\":\"test.add: parameter b: expected "
	    "int, got 'x'\",\"object\":\"test\",\"method\":\"add\","
	    "\"trace\":[],\"host\":null,\"pid\":null,\"status\":2}}\n"
	    "{\"line\":11,\"error\":{\"kind\":\"usage\",\"name\":"
	    "\"dopy-rsh.JSONError\",\"message\":\"test.add: arguments are an "
	    "object or an array, not an integer\",\"object\":\"test\","
	    "\"method\":\"add\",\"trace\":[],\"host\":null,\"pid\":null,\"status\":2}}\n"
	    "{\"line\":12,\"error\":{\"kind\":\"usage\",\"name\":"
	    "\"dopy-rsh.JSONError\",\"message\":\"unknown member \\\"x\\\"\","
	    "\"object\":null,\"method\":null,\"trace\":[],\"host\":null,"
	    "\"pid\":null,\"status\":2}}\n"
	    "{\"line\":13,\"error\":{\"kind\":\"usage\",\"name\":"
	    "\"dopy-rsh.JSONError\",\"message\":\"\\\"method\\\" is a string, "
	    "not an integer\",\"object\":null,\"method\":null,\"trace\":[],"
	    "\"host\":null,\"pid\":null,\"status\":2}}\n"
	    "{\"line\":14,\"result\":" KINDS_RES "}\n",
	    "line 10: test.add: parameter b: expected int, got 'x'");
}

/* The object on the command line, unless a line names another. */
Test(rshjson, batch_lines_object_given, .timeout = 20)
{
	char *argv[] = RSH("-b", "-j", DOPYD, "test");

	expect(argv, "{\"method\":\"add\",\"args\":[2,3]}\n"
	    "{\"method\":\"greet\",\"args\":{\"greeting\":\"Hi\",\"name\":"
	    "\"W\"}}\n"
	    "{\"object\":\"factory\",\"method\":\"live\",\"args\":[]}\n",
	    0, "{\"line\":1,\"result\":5}\n"
	    "{\"line\":2,\"result\":\"Hi, W\"}\n"
	    "{\"line\":3,\"result\":0}\n", NULL);
}
