/*
 * test_error.c - lib/wire/error.c: codes, strings and the error object.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

Test(error, every_code_has_a_distinct_string)
{
	const char *s[-DOPY_E_LAST + 1];
	int code, j;

	for (code = 0; code >= DOPY_E_LAST; code--) {
		s[-code] = dopy_strerror(code);
		cr_assert_not_null(s[-code]);
		cr_assert(s[-code][0] != '\0', "code %d: empty", code);
		cr_assert_str_neq(s[-code], "unknown error", "code %d", code);
		for (j = 0; j < -code; j++)
			cr_assert_str_neq(s[-code], s[j], "codes %d and %d "
			    "share '%s'", code, -j, s[j]);
	}
}

Test(error, named_codes)
{
	cr_assert_str_eq(dopy_strerror(DOPY_OK), "success");
	cr_assert_str_eq(dopy_strerror(DOPY_E_NOMEM), "out of memory");
	cr_assert_str_eq(dopy_strerror(DOPY_E_CLOSED), "connection closed");
	cr_assert_str_eq(dopy_strerror(DOPY_E_AUTH), "authentication failed");
	cr_assert_str_eq(dopy_strerror(DOPY_E_LOST),
	    "connection lost during the call: outcome unknown");
	cr_assert_str_eq(dopy_strerror(DOPY_E_CANCELLED), "call cancelled");
	cr_assert_eq(DOPY_E_LAST, DOPY_E_CANCELLED);
}

Test(error, unknown_codes)
{
	static const int bad[] = { 1, 2, 100, INT_MAX, DOPY_E_LAST - 1,
	    DOPY_E_LAST - 100, INT_MIN, INT_MIN + 1 };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_str_eq(dopy_strerror(bad[i]), "unknown error",
		    "code %d", bad[i]);
}

Test(error, new_and_getters)
{
	dopy_error *e = dopy_error_new(DOPY_E_USAGE, "bad %s %d", "thing", 7);

	cr_assert_not_null(e);
	cr_assert_eq(dopy_error_code(e), DOPY_E_USAGE);
	cr_assert_str_eq(dopy_error_message(e), "bad thing 7");
	cr_assert_str_eq(dopy_error_name(e), "");
	cr_assert_str_eq(dopy_error_object(e), "");
	cr_assert_str_eq(dopy_error_method(e), "");
	cr_assert_str_eq(dopy_error_host(e), "");
	cr_assert_eq(dopy_error_pid(e), -1);
	cr_assert_eq(dopy_error_trace_len(e), 0);
	cr_assert_null(dopy_error_trace(e, 0));
	dopy_error_free(e);
}

Test(error, null_getters)
{
	cr_assert_eq(dopy_error_code(NULL), DOPY_OK);
	cr_assert_str_eq(dopy_error_name(NULL), "");
	cr_assert_str_eq(dopy_error_message(NULL), "");
	cr_assert_str_eq(dopy_error_object(NULL), "");
	cr_assert_str_eq(dopy_error_method(NULL), "");
	cr_assert_str_eq(dopy_error_host(NULL), "");
	cr_assert_eq(dopy_error_pid(NULL), -1);
	cr_assert_eq(dopy_error_trace_len(NULL), 0);
	cr_assert_null(dopy_error_trace(NULL, 0));
	dopy_error_free(NULL);
}

Test(error, fields_and_trace)
{
	dopy_error *e = dopy_error_new(DOPY_E_REMOTE, "boom");

	cr_assert_eq(dopy_error_set_fields(e, "test.Failure", "test", "fail",
	    "host1", 1234), 0);
	cr_assert_str_eq(dopy_error_name(e), "test.Failure");
	cr_assert_str_eq(dopy_error_object(e), "test");
	cr_assert_str_eq(dopy_error_method(e), "fail");
	cr_assert_str_eq(dopy_error_host(e), "host1");
	cr_assert_eq(dopy_error_pid(e), 1234);
	/* NULL fields and a negative pid leave what is there. */
	cr_assert_eq(dopy_error_set_fields(e, NULL, "obj2", NULL, NULL, -1), 0);
	cr_assert_str_eq(dopy_error_name(e), "test.Failure");
	cr_assert_str_eq(dopy_error_object(e), "obj2");
	cr_assert_eq(dopy_error_pid(e), 1234);
	cr_assert_eq(dopy_error_add_trace(e, "testobj.c:40 test_fail"), 0);
	cr_assert_eq(dopy_error_add_trace(e, "in test.fail on host h pid 12"),
	    0);
	cr_assert_eq(dopy_error_trace_len(e), 2);
	cr_assert_str_eq(dopy_error_trace(e, 0), "testobj.c:40 test_fail");
	cr_assert_str_eq(dopy_error_trace(e, 1),
	    "in test.fail on host h pid 12");
	cr_assert_null(dopy_error_trace(e, 2));
	dopy_error_free(e);
}

Test(error, format_has_everything)
{
	dopy_error *e = dopy_error_new(DOPY_E_REMOTE, "it broke: %d", 42);
	char *s;

	dopy_error_set_fields(e, "test.Failure", "test", "fail", "h", 12);
	dopy_error_add_trace(e, "testobj.c:40 test_fail");
	dopy_error_add_trace(e, "helper.c:7 helper");
	dopy_error_add_trace(e, "in test.fail on host h pid 12");
	cr_assert_not_null(s = dopy_error_format(e));
	cr_assert(strstr(s, dopy_strerror(DOPY_E_REMOTE)) != NULL, "%s", s);
	cr_assert(strstr(s, "test.Failure") != NULL, "%s", s);
	cr_assert(strstr(s, "it broke: 42") != NULL, "%s", s);
	cr_assert(strstr(s, "testobj.c:40 test_fail") != NULL, "%s", s);
	cr_assert(strstr(s, "helper.c:7 helper") != NULL, "%s", s);
	cr_assert(strstr(s, "in test.fail on host h pid 12") != NULL, "%s", s);
	/* In order, most recent first, one per line. */
	cr_assert_lt(strstr(s, "testobj.c:40"), strstr(s, "helper.c:7"));
	cr_assert_lt(strstr(s, "helper.c:7"), strstr(s, "in test.fail"));
	cr_assert_eq(strstr(s, "helper.c:7")[-1], ' ');
	cr_assert(strstr(s, "\n    helper.c:7 helper\n") != NULL, "%s", s);
	free(s);
	dopy_error_free(e);
}

Test(error, format_local_error)
{
	dopy_error *e = dopy_error_new(DOPY_E_SPAWN, "no such command");
	char *s = dopy_error_format(e);

	cr_assert_not_null(s);
	cr_assert_str_eq(s, "could not start server: no such command");
	free(s);
	dopy_error_free(e);
	cr_assert_not_null(s = dopy_error_format(NULL));
	cr_assert_str_eq(s, "no error");
	free(s);
}

Test(error, set)
{
	dopy_error *e = NULL;

	cr_assert_eq(dopy_error_set(NULL, DOPY_E_PROTO, "x"), DOPY_E_PROTO);
	cr_assert_eq(dopy_error_set(&e, DOPY_E_PROTO, "first %d", 1),
	    DOPY_E_PROTO);
	cr_assert_str_eq(dopy_error_message(e), "first 1");
	/* A second set replaces (and frees) the first. */
	cr_assert_eq(dopy_error_set(&e, DOPY_E_TYPE, "second"), DOPY_E_TYPE);
	cr_assert_eq(dopy_error_code(e), DOPY_E_TYPE);
	cr_assert_str_eq(dopy_error_message(e), "second");
	dopy_error_free(e);
}

Test(error, code_for_names)
{
	static const struct {
		const char *name;
		int code;
	} map[] = {
		{ "dopy.ProtocolError", DOPY_E_PROTO },
		{ "dopy.UnknownFrame", DOPY_E_PROTO },
		{ "dopy.VersionMismatch", DOPY_E_VERSION },
		{ "dopy.FrameTooLarge", DOPY_E_TOOBIG },
		{ "dopy.UnknownObject", DOPY_E_USAGE },
		{ "dopy.UnknownMethod", DOPY_E_USAGE },
		{ "dopy.ArgumentError", DOPY_E_USAGE },
		{ "dopy.TypeError", DOPY_E_TYPE },
		{ "dopy.AuthFailed", DOPY_E_AUTH },
		{ "dopy.Timeout", DOPY_E_TIMEOUT },
		{ "dopy.Busy", DOPY_E_CLOSED },
		/* Everything else is the method's own failure. */
		{ "dopy.ResultError", DOPY_E_REMOTE },
		{ "dopy.InternalError", DOPY_E_REMOTE },
		{ "dopy.Error", DOPY_E_REMOTE },
		{ "test.Failure", DOPY_E_REMOTE },
		{ "", DOPY_E_REMOTE },
		{ "dopy.typeerror", DOPY_E_REMOTE },
		{ "dopy.TypeError ", DOPY_E_REMOTE },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		cr_assert_eq(dopy_error_code_for(map[i].name), map[i].code,
		    "'%s'", map[i].name);
}

Test(error, long_message)
{
	char big[10000];
	dopy_error *e;

	memset(big, 'm', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	e = dopy_error_new(DOPY_E_REMOTE, "%s", big);
	cr_assert_eq(strlen(dopy_error_message(e)), sizeof(big) - 1);
	dopy_error_free(e);
}

/* The kind comes first, once: a message that names it already is not
 * prefixed with it again. */
Test(error, format_says_the_kind_once)
{
	static const struct {
		int		 code;
		const char	*msg, *want;
	} cases[] = {
		{ DOPY_E_VERSION, "protocol version mismatch: client speaks 1",
		    "protocol version mismatch: client speaks 1" },
		{ DOPY_E_LOST, "connection lost during t.m (connection "
		    "closed): whether it ran is unknown", "connection lost "
		    "during t.m (connection closed): whether it ran is "
		    "unknown" },
		{ DOPY_E_CLOSED, "connection closed before the server said "
		    "HELLO", "connection closed before the server said HELLO" },
		{ DOPY_E_SYS, "system call failed", "system call failed" },
		{ DOPY_E_TIMEOUT, "no HELLO from the server within 1000 ms",
		    "timed out: no HELLO from the server within 1000 ms" },
		{ DOPY_E_PROTO, "protocols differ", "protocol error: "
		    "protocols differ" },
		{ DOPY_E_SPAWN, "cannot start 'x'", "could not start server: "
		    "cannot start 'x'" },
	};
	dopy_error *e;
	char *s;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		e = dopy_error_new(cases[i].code, "%s", cases[i].msg);
		s = dopy_error_format(e);
		cr_assert_str_eq(s, cases[i].want);
		free(s);
		dopy_error_free(e);
	}
}
