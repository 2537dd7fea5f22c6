/*
 * e2e_programs.c - dopy-rsh and dopyclient as a user runs them, against
 * the real dopyd from $DOPY_BIN: output, exit statuses (dopy-rsh(1),
 * dopyclient(1)) and what lands on stderr.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "e2e_util.h"

#define RSH(...) { (char *)e2e_bin("dopy-rsh"), __VA_ARGS__, NULL }

/* Run dopy-rsh against dopyd with these arguments. */
static void
rsh(struct e2e_run *r, char *const argv[])
{
	e2e_run(r, argv);
}

static void
assert_exit(const struct e2e_run *r, int code)
{
	cr_assert(e2e_exited(r->status, code),
	    "%s, want exit %d\nstdout: %s\nstderr: %s",
	    e2e_status(r->status), code, r->out, r->err);
}

static void
assert_ok_output(const struct e2e_run *r, const char *want)
{
	assert_exit(r, 0);
	cr_assert_str_eq(r->out, want, "stdout '%s', want '%s'\nstderr: %s",
	    r->out, want, r->err);
}

static void
assert_stderr_has(const struct e2e_run *r, const char *what)
{
	cr_assert_not_null(strstr(r->err, what), "no '%s' on stderr:\n%s",
	    what, r->err);
}

/* ---- a small JSON checker for -j ---- */

static const char *json_value(const char *p, int depth);

static const char *
json_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static const char *
json_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	for (; *p != '"'; p++) {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p != '\\')
			continue;
		p++;
		if (*p == 'u') {
			if (strspn(p + 1, "0123456789abcdefABCDEF") < 4)
				return NULL;
			p += 4;
		} else if (strchr("\"\\/bfnrt", *p) == NULL || *p == '\0')
			return NULL;
	}
	return p + 1;
}

static const char *
json_number(const char *p)
{
	const char *s = p;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		p += strspn(p, "0123456789");
	else
		return NULL;
	if (*p == '.') {
		if (strspn(p + 1, "0123456789") == 0)
			return NULL;
		p += 1 + strspn(p + 1, "0123456789");
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (strspn(p, "0123456789") == 0)
			return NULL;
		p += strspn(p, "0123456789");
	}
	return p > s ? p : NULL;
}

/* Elements of [..] or members of {..}, after the opening bracket. */
static const char *
json_items(const char *p, char close, int depth)
{
	p = json_ws(p);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (close == '}') {
			if ((p = json_string(json_ws(p))) == NULL)
				return NULL;
			if (*(p = json_ws(p)) != ':')
				return NULL;
			p++;
		}
		if ((p = json_value(p, depth + 1)) == NULL)
			return NULL;
		p = json_ws(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

static const char *
json_value(const char *p, int depth)
{
	if (depth > 32)
		return NULL;
	p = json_ws(p);
	switch (*p) {
	case '[':
		return json_items(p + 1, ']', depth);
	case '{':
		return json_items(p + 1, '}', depth);
	case '"':
		return json_string(p);
	case 't':
		return strncmp(p, "true", 4) == 0 ? p + 4 : NULL;
	case 'f':
		return strncmp(p, "false", 5) == 0 ? p + 5 : NULL;
	case 'n':
		return strncmp(p, "null", 4) == 0 ? p + 4 : NULL;
	default:
		return json_number(p);
	}
}

static int
is_json(const char *text)
{
	const char *end = json_value(text, 0);

	return end != NULL && *json_ws(end) == '\0';
}

Test(json, checker_sanity, .timeout = 5)
{
	cr_assert(is_json("[1, -2.5e3, \"a\\n\\u00e9\", "
	    "{\"k\": [true, null]}]"));
	cr_assert(!is_json("[1, 2"));
	cr_assert(!is_json("(1, 2)"));
	cr_assert(!is_json("\"unterminated"));
	cr_assert(!is_json("01"));
}

/* ---- calls, errors and exit statuses: one run, its verdict ---- */

/*
 * A run of dopy-rsh with these arguments ("@dopyd" in one stands for
 * $DOPY_BIN/dopyd): it must exit with code, write exactly out (unless
 * NULL) or at least out_has, and say each of err_has on stderr.
 */
struct rsh_case {
	const char	*name;
	const char	*args[8];
	int		 code;
	const char	*out;
	const char	*out_has;
	const char	*err_has[4];
	int		 json;		/* stdout must be JSON too */
};

static const struct rsh_case rsh_cases[] = {
	/* calls */
	{ "add", { "@dopyd", "test", "add", "2", "3" }, 0, .out = "5\n" },
	{ "add_negative", { "@dopyd", "test", "add", "-7", "b=3" }, 0,
	    .out = "-4\n" },
	{ "greet_named", { "@dopyd", "test", "greet", "name=World" }, 0,
	    .out = "Hello, World\n" },
	{ "greet_positional_and_named", { "@dopyd", "test", "greet", "World",
	    "greeting=Hi" }, 0, .out = "Hi, World\n" },
	/* A string that looks like a number stays a string where one is
	 * due. */
	{ "greet_numeric_string", { "@dopyd", "test", "greet", "42",
	    "greeting=7" }, 0, .out = "7, 42\n" },
	/* Bytes go to a pipe raw, without a newline added. */
	{ "echo_raw", { "@dopyd", "test", "echo", "hello there" }, 0,
	    .out = "hello there" },
	{ "exec_target", { "exec:@dopyd", "test", "add", "40", "2" }, 0,
	    .out = "42\n" },
	/* remote errors: exit 1, the story on stderr */
	{ "fail_remote_trace", { "@dopyd", "test", "fail", "boom" }, 1,
	    .out = "", .err_has = { "boom", "test.Failure", "testobj.c",
	    "test.fail" } },
	{ "overflow_is_remote_error", { "@dopyd", "test", "add",
	    "9223372036854775807", "1" }, 1, .err_has = { "test.Overflow" } },
	/* usage errors: exit 2 */
	{ "bad_int_argument", { "@dopyd", "test", "add", "2", "x" }, 2,
	    .out = "", .err_has = { "'x'" } },
	{ "unknown_object", { "@dopyd", "nosuch", "add", "1" }, 2,
	    .err_has = { "nosuch" } },
	{ "unknown_method", { "@dopyd", "test", "nosuch" }, 2,
	    .err_has = { "nosuch" } },
	{ "too_many_arguments", { "@dopyd", "test", "add", "1", "2", "3" },
	    .code = 2 },
	{ "missing_argument", { "@dopyd", "test", "add", "1" }, 2,
	    .err_has = { "b" } },
	{ "positional_after_named", { "@dopyd", "test", "add", "a=1", "2" },
	    .code = 2 },
	{ "no_target_is_usage", { NULL }, 2, .err_has = { "usage" } },
	{ "help", { "-h" }, 0, .out_has = "usage" },
	/* connection failures: exit 3 */
	{ "missing_server", { "/nonexistent/dopyd", "test", "add", "1", "2" },
	    3, .out = "", .err_has = { "/nonexistent/dopyd" } },
	{ "server_exits_before_hello", { "sh -c \"exit 0\"", "test", "add",
	    "1", "2" }, 3, .out = "" },
	{ "server_speaks_garbage", { "echo garbage", "test", "add", "1",
	    "2" }, .code = 3 },
	/* cat echoes our own frames back: a HELLO, then a CALL as the
	 * "reply". */
	{ "server_is_a_mirror", { "cat", "test", "add", "1", "2" }, 3,
	    .err_has = { "CALL" } },
	/* The stdout guard: dopyd's stdout went to its stderr, which is
	 * ours. */
	{ "noisy_method_stays_off_the_wire", { "@dopyd", "test", "noisy" }, 0,
	    .out = "quiet\n", .err_has = { "noise on stdout from test.noisy",
	    "raw noise" } },
	/* -j */
	{ "json_scalar", { "-j", "@dopyd", "test", "add", "2", "3" }, 0,
	    .out = "5\n" },
	{ "json_string", { "-j", "@dopyd", "test", "greet", "W\"o\\rld",
	    "greeting=Hi" }, 0, .out = "\"Hi, W\\\"o\\\\rld\"\n", .json = 1 },
};

E2E_TABLE_PARAMS(rsh, runs, rsh_cases)

/* arg with "@dopyd" replaced, in buf. */
static char *
rsh_arg(const char *arg, char *buf, size_t len)
{
	const char *at = strstr(arg, "@dopyd");

	if (at == NULL)
		return (char *)arg;
	snprintf(buf, len, "%.*s%s%s", (int)(at - arg), arg, e2e_bin("dopyd"),
	    at + 6);
	return buf;
}

ParameterizedTest(size_t *ip, rsh, runs, .timeout = 20)
{
	const struct rsh_case *c = &rsh_cases[*ip];
	char *argv[10], bufs[8][PATH_MAX + 16];
	struct e2e_run r;
	size_t i;

	argv[0] = (char *)e2e_bin("dopy-rsh");
	for (i = 0; i < 8 && c->args[i] != NULL; i++)
		argv[i + 1] = rsh_arg(c->args[i], bufs[i], sizeof(bufs[i]));
	argv[i + 1] = NULL;
	rsh(&r, argv);
	cr_assert(e2e_exited(r.status, c->code),
	    "%s: %s, want exit %d\nstdout: %s\nstderr: %s", c->name,
	    e2e_status(r.status), c->code, r.out, r.err);
	if (c->out != NULL)
		cr_assert_str_eq(r.out, c->out, "%s: stdout '%s', want '%s'\n"
		    "stderr: %s", c->name, r.out, c->out, r.err);
	if (c->out_has != NULL)
		cr_assert_not_null(strstr(r.out, c->out_has), "%s: stdout: %s",
		    c->name, r.out);
	for (i = 0; i < 4 && c->err_has[i] != NULL; i++)
		assert_stderr_has(&r, c->err_has[i]);
	if (c->json)
		cr_assert(is_json(r.out), "%s: not JSON: %s", c->name, r.out);
	e2e_run_free(&r);
}

/* ---- introspection and output forms ---- */

Test(rsh, list_objects, .timeout = 20)
{
	char *argv[] = RSH((char *)e2e_bin("dopyd"));
	struct e2e_run r;

	rsh(&r, argv);
	assert_exit(&r, 0);
	/* One name a line; dopyd serves at least these two. */
	cr_assert(strncmp(r.out, "dopy\n", 5) == 0 ||
	    strstr(r.out, "\ndopy\n") != NULL, "no dopy line:\n%s", r.out);
	cr_assert(strncmp(r.out, "test\n", 5) == 0 ||
	    strstr(r.out, "\ntest\n") != NULL, "no test line:\n%s", r.out);
	e2e_run_free(&r);
}

Test(rsh, describe_object, .timeout = 20)
{
	static const char *want[] = {
		"add(a:int, b:int) -> int  Add two integers.\n",
		"echo(data:bytes) -> bytes",
		"greet(name:string, greeting:string=Hello) -> string",
		"fail(message:string)  Raise test.Failure",
		"noisy() -> string",
	};
	char *argv[] = RSH((char *)e2e_bin("dopyd"), "test");
	struct e2e_run r;
	size_t i;

	rsh(&r, argv);
	assert_exit(&r, 0);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert_not_null(strstr(r.out, want[i]), "no '%s' in:\n%s",
		    want[i], r.out);
	e2e_run_free(&r);
}

static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* An array result: one element a line, each in the text form. */
Test(rsh, array_one_per_line, .timeout = 20)
{
	static const char *method[] = { "add", "echo", "greet", "fail",
	    "noisy" };
	char *argv[] = RSH((char *)e2e_bin("dopyd"), "dopy", "describe",
	    "test");
	char want[64], *line;
	struct e2e_run r;
	size_t i;

	rsh(&r, argv);
	assert_exit(&r, 0);
	cr_assert_geq(count_lines(r.out), 5, "want 5 lines:\n%s", r.out);
	line = r.out;
	for (i = 0; i < 5; i++) {
		snprintf(want, sizeof(want), "(\"%s\", \"", method[i]);
		cr_assert(strncmp(line, want, strlen(want)) == 0,
		    "line %zu does not start with %s:\n%s", i + 1, want,
		    r.out);
		line = strchr(line, '\n') + 1;
	}
	e2e_run_free(&r);
}

Test(rsh, json_array_of_structures, .timeout = 20)
{
	char *argv[] = RSH("-j", (char *)e2e_bin("dopyd"), "dopy", "describe",
	    "test");
	struct e2e_run r;

	rsh(&r, argv);
	assert_exit(&r, 0);
	cr_assert(is_json(r.out), "not JSON:\n%s", r.out);
	cr_assert_eq(r.out[0], '[', "not an array: %s", r.out);
	cr_assert_eq(count_lines(r.out), 1, "one line of JSON:\n%s", r.out);
	cr_assert_not_null(strstr(r.out, "[\"add\",\"a:int, b:int\",\"int\","));
	e2e_run_free(&r);
}

Test(rsh, json_list_objects, .timeout = 20)
{
	char *argv[] = RSH("-j", (char *)e2e_bin("dopyd"));
	struct e2e_run r;

	rsh(&r, argv);
	assert_exit(&r, 0);
	cr_assert(is_json(r.out) && r.out[0] == '[', "not a JSON array: %s",
	    r.out);
	cr_assert_not_null(strstr(r.out, "\"dopy\""), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "\"test\""), "%s", r.out);
	e2e_run_free(&r);
}

/* ---- dopyclient ---- */

/* dopyclient run so passes every check against target. */
static void
dopyclient_passes(char *const argv[], const char *target)
{
	char want[PATH_MAX + 200];
	struct e2e_run r;

	snprintf(want, sizeof(want), "connecting to %s...\n"
	    "test of basic method invocation ok\n"
	    "test of keyword parms ok\n"
	    "test of exceptions ok\n"
	    "test of streams ok\n"
	    "test of uploads ok\n", target);
	e2e_run(&r, argv);
	assert_ok_output(&r, want);
	e2e_run_free(&r);
}

static void
assert_fails(const struct e2e_run *r)
{
	cr_assert(WIFEXITED(r->status) && WEXITSTATUS(r->status) != 0,
	    "%s, want a failure exit", e2e_status(r->status));
}

Test(dopyclient, default_target_beside_it, .timeout = 30)
{
	char *argv[] = { (char *)e2e_bin("dopyclient"), NULL };
	char dir[PATH_MAX + 8];

	cr_assert_not_null(realpath(e2e_bin("dopyd"), dir));
	strlcpy(strrchr(dir, '/'), "/dopyd", 7);
	dopyclient_passes(argv, dir);
}

Test(dopyclient, explicit_target, .timeout = 30)
{
	char *argv[] = { (char *)e2e_bin("dopyclient"),
	    (char *)e2e_bin("dopyd"), NULL };

	dopyclient_passes(argv, argv[1]);
}

Test(dopyclient, not_a_dopy_server, .timeout = 30)
{
	char *argv[] = { (char *)e2e_bin("dopyclient"),
	    "sh -c \"echo garbage\"", NULL };
	struct e2e_run r;

	e2e_run(&r, argv);
	assert_fails(&r);
	cr_assert_not_null(strstr(r.err, "dopyclient:"), "stderr: %s", r.err);
	cr_assert_not_null(strstr(r.err, "garbage"), "stderr: %s", r.err);
	cr_assert_null(strstr(r.out, " ok\n"), "stdout: %s", r.out);
	e2e_run_free(&r);
}

Test(dopyclient, missing_server, .timeout = 30)
{
	char *argv[] = { (char *)e2e_bin("dopyclient"), "/nonexistent/dopyd",
	    NULL };
	struct e2e_run r;

	e2e_run(&r, argv);
	assert_fails(&r);
	cr_assert_not_null(strstr(r.err, "/nonexistent/dopyd"), "stderr: %s",
	    r.err);
	e2e_run_free(&r);
}

/* A server that echoes frames: every check fails, and says so. */
Test(dopyclient, mirror_fails_every_check, .timeout = 30)
{
	char *argv[] = { (char *)e2e_bin("dopyclient"), "cat", NULL };
	struct e2e_run r;

	e2e_run(&r, argv);
	assert_fails(&r);
	cr_assert_eq(count_lines(r.out), 6, "stdout:\n%s", r.out);
	cr_assert_null(strstr(r.out, " ok\n"), "stdout: %s", r.out);
	e2e_run_free(&r);
}

Test(dopyclient, usage, .timeout = 20)
{
	char *argv[] = { (char *)e2e_bin("dopyclient"), "a", "b", NULL };
	char *help[] = { (char *)e2e_bin("dopyclient"), "-h", NULL };
	struct e2e_run r;

	e2e_run(&r, argv);
	assert_exit(&r, 2);
	assert_stderr_has(&r, "usage");
	e2e_run_free(&r);
	e2e_run(&r, help);
	assert_exit(&r, 0);
	cr_assert_not_null(strstr(r.out, "usage"), "stdout: %s", r.out);
	e2e_run_free(&r);
}

/* ---- dopy-rsh against servers that misbehave ---- */

/*
 * A "server" that writes a prepared byte stream whatever it is asked,
 * then reads to EOF: dopy-rsh (the client side of libdopy) must cope
 * with what comes back, and the ASan run checks it does so cleanly.
 */
static void
fake_server(char *target, size_t len, const struct dopy_buf *script)
{
	static int n;
	char path[1024];
	int fd;

	snprintf(path, sizeof(path), "%s/script.%d", e2e_tmpdir(), n++);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert(fd >= 0);
	cr_assert(e2e_write(fd, script->data, script->len) == 0);
	close(fd);
	snprintf(target, len, "cat '%s'; exec cat >/dev/null", path);
}

/* The server's side of the handshake. */
static void
server_hello(struct dopy_buf *b)
{
	dopy_buf_init(b);
	e2e_hello(b, DOPY_PROTOCOL, 1u << 20);
}

static void
reply_with(struct dopy_buf *b, uint32_t id, dopy_value *v)
{
	struct dopy_buf pl;

	dopy_buf_init(&pl);
	if (v != NULL)
		e2e_encode(&pl, v);
	e2e_frame(b, DOPY_F_REPLY, id, pl.data, pl.len);
	dopy_buf_release(&pl);
}

/* The reply to dopy.describe: one method m returning result. */
static void
describe_m(struct dopy_buf *b, uint32_t id, const char *result)
{
	char text[256];

	snprintf(text, sizeof(text), "[(\"m\", \"\", \"%s\", \"doc\")]",
	    result);
	reply_with(b, id, e2e_value("(string,string,string,string)[]", text));
}

/* Run dopy-rsh against a fake server that sends script (released). */
static void
run_fake(struct e2e_run *r, struct dopy_buf *script, const char *object,
    const char *method)
{
	char target[1200];
	char *argv[] = RSH(target, (char *)object, (char *)method);

	fake_server(target, sizeof(target), script);
	if (object == NULL)
		argv[2] = NULL;
	else if (method == NULL)
		argv[3] = NULL;
	e2e_run(r, argv);
	dopy_buf_release(script);
}

/* Structures of booleans: their 1-byte fields must be handled as such
 * (a struct of one bool is a 1-byte tpl slot). */
Test(badserver, struct_of_bools_result, .timeout = 20)
{
	static const struct {
		const char	*type, *value, *want;
	} cases[] = {
		{ "(bool)", "(true)", "(true)\n" },
		{ "(bool,bool)", "(false, true)", "(false, true)\n" },
		{ "(int,bool)", "(7, true)", "(7, true)\n" },
		{ "(bool,string,bool)", "(true, \"x\", false)",
		    "(true, \"x\", false)\n" },
	};
	struct dopy_buf b;
	struct e2e_run r;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		server_hello(&b);
		describe_m(&b, 1, cases[i].type);
		reply_with(&b, 2, e2e_value(cases[i].type, cases[i].value));
		run_fake(&r, &b, "obj", "m");
		assert_ok_output(&r, cases[i].want);
		e2e_run_free(&r);
	}
}

/* Introspection answers of the wrong shape: no crash, a clean exit. */
Test(badserver, describe_of_the_wrong_shape, .timeout = 20)
{
	static const char *replies[][2] = {
		{ "int", "5" },
		{ "string", "m" },
		{ "int[]", "[1, 2]" },
		{ "(string)[]", "[(\"m\")]" },
		{ "(int,int,int,int)[]", "[(1, 2, 3, 4)]" },
		{ "string[][]", "[[\"m\"], []]" },
	};
	struct dopy_buf b;
	struct e2e_run r;
	size_t i;

	for (i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
		server_hello(&b);
		reply_with(&b, 1, e2e_value(replies[i][0], replies[i][1]));
		run_fake(&r, &b, "obj", "m");
		cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) >= 1 &&
		    WEXITSTATUS(r.status) <= 3, "describe as %s: %s\n%s",
		    replies[i][0], e2e_status(r.status), r.err);
		e2e_run_free(&r);
	}
}

/* A reply frame whose payload is the image of v with a 32-bit word
 * replaced at offset at. */
static void
bad_reply(struct dopy_buf *b, uint32_t id, dopy_value *v, size_t at,
    uint32_t word)
{
	struct dopy_buf pl;

	dopy_buf_init(&pl);
	e2e_encode(&pl, v);
	e2e_put_le32(pl.data + at, word);
	e2e_frame(b, DOPY_F_REPLY, id, pl.data, pl.len);
	dopy_buf_release(&pl);
}

/* What breaks the conversation: exit 3, with a message. */
Test(badserver, broken_replies_exit_3, .timeout = 30)
{
	struct dopy_buf b, pl;
	struct e2e_run r;
	uint8_t hdr[DOPY_HDR_LEN];
	int k;

	for (k = 0; k < 9; k++) {
		server_hello(&b);
		dopy_buf_init(&pl);
		switch (k) {
		case 0:		/* tpl bug 1: A(s) with count 0x80000000 */
			bad_reply(&b, 1, e2e_value("string[]", "[]"), 13,
			    0x80000000u);
			break;
		case 1:		/* tpl bug 2: old string encoding */
			e2e_encode(&pl, e2e_value("string[]", "[\"a\"]"));
			pl.data[3] &= ~2;
			e2e_frame(&b, DOPY_F_REPLY, 1, pl.data, pl.len);
			break;
		case 2:		/* tpl bug 3: image length 4 */
			bad_reply(&b, 1, e2e_value("string[]", "[\"a\"]"), 4,
			    4);
			break;
		case 3:		/* an answer to a call never made */
			reply_with(&b, 7, e2e_value("string[]", "[\"a\"]"));
			break;
		case 4:		/* the server speaks protocol 2 */
			dopy_buf_reset(&b);
			e2e_hello(&b, 2, 1u << 20);
			break;
		case 5:		/* a frame longer than any limit */
			dopy_frame_encode(hdr, DOPY_F_REPLY, 1, UINT32_MAX);
			cr_assert(dopy_buf_put(&b, hdr, sizeof(hdr)) == 0);
			break;
		case 6:		/* an ERROR that is not one */
			e2e_frame(&b, DOPY_F_ERROR, 1, "junk", 4);
			break;
		case 7:		/* two values in a REPLY */
			e2e_encode(&pl, e2e_value("string[]", "[]"));
			e2e_encode(&pl, e2e_value("int", "1"));
			e2e_frame(&b, DOPY_F_REPLY, 1, pl.data, pl.len);
			break;
		default:	/* EOF in the middle of the reply */
			reply_with(&b, 1, e2e_value("string[]", "[\"a\"]"));
			b.len -= 3;
			break;
		}
		dopy_buf_release(&pl);
		run_fake(&r, &b, NULL, NULL);
		cr_assert(e2e_exited(r.status, 3), "case %d: %s, want exit 3"
		    "\nstdout: %s\nstderr: %s", k, e2e_status(r.status),
		    r.out, r.err);
		cr_assert_str_eq(r.out, "", "case %d: stdout %s", k, r.out);
		cr_assert_neq(r.err[0], '\0', "case %d: no message", k);
		e2e_run_free(&r);
	}
}

/* A remote error for the listing: exit 1 with its story. */
Test(badserver, remote_error_exit_1, .timeout = 20)
{
	struct dopy_buf b, pl;
	struct e2e_run r;
	dopy_error *e;

	server_hello(&b);
	dopy_buf_init(&pl);
	e = dopy_error_new(DOPY_E_REMOTE, "no listing today");
	dopy_error_set_fields(e, "fake.Refused", "dopy", "objects", "fakehost",
	    4242);
	dopy_error_add_trace(e, "fake.c:1 refuse");
	cr_assert(dopy_msg_error_put(&pl, e) == 0);
	dopy_error_free(e);
	e2e_frame(&b, DOPY_F_ERROR, 1, pl.data, pl.len);
	dopy_buf_release(&pl);
	run_fake(&r, &b, NULL, NULL);
	assert_exit(&r, 1);
	assert_stderr_has(&r, "fake.Refused");
	assert_stderr_has(&r, "no listing today");
	assert_stderr_has(&r, "fake.c:1 refuse");
	e2e_run_free(&r);
}

/* Every program answers --help (and -h) with its usage on stdout and
 * status 0, and an unknown long option with its usage on stderr. */
Test(programs, help_long_option, .timeout = 30)
{
	const char *progs[] = { "dopyd", "dopy-rsh", "dopyclient" };
	const char *flags[] = { "--help", "-h" };
	struct e2e_run r;
	size_t i, k;

	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		for (k = 0; k < 2; k++) {
			char *argv[] = { (char *)e2e_bin(progs[i]),
			    (char *)flags[k], NULL };

			e2e_run(&r, argv);
			cr_assert(e2e_exited(r.status, 0), "%s %s: %s",
			    progs[i], flags[k], e2e_status(r.status));
			cr_assert(strncmp(r.out, "usage: ", 7) == 0,
			    "%s %s printed: %s", progs[i], flags[k], r.out);
			e2e_run_free(&r);
		}
		char *argv[] = { (char *)e2e_bin(progs[i]), "--bogus",
		    NULL };
		e2e_run(&r, argv);
		cr_assert(e2e_exited(r.status, 2), "%s --bogus: %s", progs[i],
		    e2e_status(r.status));
		cr_assert_eq(r.outlen, 0);
		cr_assert(strstr(r.err, "usage: ") != NULL, "%s", r.err);
		e2e_run_free(&r);
	}
}
