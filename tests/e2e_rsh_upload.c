/*
 * e2e_rsh_upload.c - dopy-rsh calling a method that takes an upload:
 * the items come from standard input (bytes in chunks, strings a line
 * each, other types a literal or, with -j, a JSON value a line), and
 * the call is refused where standard input is taken (dopy-rsh(1)).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_util.h"

#define RSH(...) { (char *)e2e_bin("dopy-rsh"), __VA_ARGS__, NULL }
#define DOPYD	(char *)e2e_bin("dopyd")

static void
expect_in(char *const argv[], const void *in, size_t len, int code,
    const char *out, const char *errpart)
{
	struct e2e_run r;

	e2e_run_ms(&r, in, len, 30000, argv);
	e2e_assert_run(&r, code, out);
	if (errpart != NULL)
		cr_assert_not_null(strstr(r.err, errpart), "stderr: %s",
		    r.err);
	else
		cr_assert_str_eq(r.err, "", "stderr: %s", r.err);
	e2e_run_free(&r);
}

Test(rsh_upload, ints_strings_and_json, .timeout = 60)
{
	char *sum[] = RSH(DOPYD, "upload", "sum");
	char *jsum[] = RSH("-j", DOPYD, "upload", "sum");
	char *count[] = RSH(DOPYD, "upload", "count", "ERROR");
	char *take[] = RSH(DOPYD, "upload", "take", "2");

	expect_in(sum, "1\n2\n3\n", 6, 0, "6\n", NULL);
	expect_in(sum, "", 0, 0, "0\n", NULL);
	/* The last line needs no newline. */
	expect_in(sum, "40\n2", 4, 0, "42\n", NULL);
	expect_in(jsum, "1\n-2\n10\n", 8, 0, "9\n", NULL);
	expect_in(count, "ERROR a\nINFO b\nERROR c\n\nERR", 27, 0, "2\n",
	    NULL);
	/* The method wants two: the rest is not sent. */
	expect_in(take, "5\n6\n7\n8\n", 8, 0, "11\n", NULL);
}

/* Bytes in chunks, NULs and all: 200,000 bytes hashed by the server
 * as the test hashes them. */
Test(rsh_upload, bytes_from_stdin, .timeout = 60)
{
	char *argv[] = RSH(DOPYD, "upload", "digest");
	unsigned char *in = malloc(200000);
	uint64_t h = 0xcbf29ce484222325ull;
	char want[64];
	size_t i;

	cr_assert_not_null(in);
	for (i = 0; i < 200000; i++) {
		in[i] = (unsigned char)(i % 251);
		h = (h ^ in[i]) * 0x100000001b3ull;
	}
	snprintf(want, sizeof(want), "200000 %016llx\n",
	    (unsigned long long)h);
	expect_in(argv, in, 200000, 0, want, NULL);
	free(in);
}

Test(rsh_upload, refusals, .timeout = 60)
{
	char *sum[] = RSH(DOPYD, "upload", "sum");
	char *oneway[] = RSH("-o", DOPYD, "upload", "sum");
	char *jargs[] = RSH("-j", DOPYD, "upload", "take", "-");
	char *batch[] = RSH("-b", DOPYD, "upload");
	char *fail[] = RSH(DOPYD, "upload", "fail_at", "2");

	expect_in(sum, "1\nx\n3\n", 6, 2, "", "upload.sum: standard input, "
	    "line 2: expected int, got 'x'");
	expect_in(oneway, "1\n", 2, 2, "", "upload.sum takes its last "
	    "argument from standard input");
	expect_in(jargs, "[2]", 3, 2, NULL, "its arguments cannot come from "
	    "there");
	/* A batch does not describe what it calls without arguments: the
	 * server refuses the call, which sends no upload. */
	expect_in(batch, "sum\n", 4, 2, NULL, "upload.sum takes its data as "
	    "an upload (stream int), which this call does not send");
	expect_in(fail, "1\n2\n3\n", 6, 1, "", "upload.Failure: failed at "
	    "item 2");
}
