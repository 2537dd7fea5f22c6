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
	    "[\"cb\",\"dopy\",\"factory\",\"test\",\"thermo\"]\n", NULL);
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

	expect(argv, NULL, 1, "{\"error\":{\"name\":\"test.Failure\","
	    "\"message\":\"bo\\\"om\",\"object\":\"test\",\"method\":\"fail\","
	    "\"trace\":[\"bin/testobj.c:41 test_fail\",\"in test.fail on host "
	    "HOST pid PID\"],\"host\":\"HOST\",\"pid\":PID,\"status\":1}}\n",
	    "remote error: test.Failure: bo\"om");
}

/* Refused before anything is sent: exit 2, the call's names kept. */
Test(rshjson, usage_error, .timeout = 20)
{
	char *argv[] = RSH("-j", DOPYD, "test", "add", "1", "x");

	expect(argv, NULL, 2, "{\"error\":{\"name\":\"dopy.TypeError\","
	    "\"message\":\"test.add: parameter b: expected int, got 'x'\","
	    "\"object\":\"test\",\"method\":\"add\",\"trace\":[],\"host\":null,"
	    "\"pid\":null,\"status\":2}}\n", "got 'x'");
}

Test(rshjson, connection_error, .timeout = 20)
{
	char *argv[] = RSH("-j", "sh -c \"exit 0\"", "test", "add", "1", "2");
	struct e2e_run r;

	e2e_run(&r, argv);
	e2e_assert_run(&r, 3, NULL);
	cr_assert(strncmp(r.out, "{\"error\":{\"name\":", 17) == 0 &&
	    strstr(r.out, ",\"status\":3}}\n") != NULL, "stdout: %s", r.out);
	e2e_run_free(&r);
}
