/*
 * e2e_rsh_batch.c - dopy-rsh -b (calls from standard input, pipelined
 * over one connection) and -o (oneway), against the real dopyd:
 * output order, JSON lines, streams, the rule for errors in the middle,
 * a server that dies mid-batch, comments and quoting (dopy-rsh(1),
 * BATCH MODE).
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "e2e_util.h"

#define RSH(...) { (char *)e2e_bin("dopy-rsh"), __VA_ARGS__, NULL }

static void
batch(struct e2e_run *r, const char *in, char *const argv[])
{
	e2e_run_ms(r, in, strlen(in), E2E_WAIT_MS, argv);
}

/* Run the batch in; it must exit with code, out on stdout. */
static void
batch_expect(char *const argv[], const char *in, int code, const char *out)
{
	struct e2e_run r;

	batch(&r, in, argv);
	e2e_assert_run(&r, code, out);
	e2e_run_free(&r);
}

Test(rsh_batch, two_hundred_lines_in_order, .timeout = 30)
{
	char *argv[] = RSH("-b", (char *)e2e_bin("dopyd"));
	char *in, *want;
	size_t i, inlen = 0, wantlen = 0;
	FILE *fi, *fw;
	struct e2e_run r;

	fi = open_memstream(&in, &inlen);
	fw = open_memstream(&want, &wantlen);
	for (i = 1; i <= 200; i++) {
		/* Different methods, so a reply matched to the wrong call
		 * would show. */
		if (i % 3 == 0) {
			fprintf(fi, "test greet n%zu\n", i);
			fprintf(fw, "Hello, n%zu\n", i);
		} else {
			fprintf(fi, "test add %zu %zu\n", i, 1000 * i);
			fprintf(fw, "%zu\n", 1001 * i);
		}
	}
	fclose(fi);
	fclose(fw);
	batch(&r, in, argv);
	e2e_assert_run(&r, 0, want);
	cr_assert_str_eq(r.err, "", "nothing on stderr");
	e2e_run_free(&r);
	free(in);
	free(want);
}

/* Run the batch in; it must exit with code, out on stdout once the host
 * name and pids are masked (e2e_mask). */
static void
batch_expect_masked(char *const argv[], const char *in, int code,
    const char *out)
{
	struct e2e_run r;
	char *m;

	batch(&r, in, argv);
	e2e_assert_run(&r, code, NULL);
	m = e2e_mask(r.out);
	cr_assert_str_eq(m, out, "stdout:\n%s\nwant:\n%s", m, out);
	free(m);
	e2e_run_free(&r);
}

Test(rsh_batch, json_lines, .timeout = 20)
{
	char *argv[] = RSH("-b", "-j", (char *)e2e_bin("dopyd"));

	batch_expect_masked(argv, "test add 2 3\n"
	    "\n"
	    "test greet \"W \\\"x\\\"\"\n"
	    "test sleep 0\n"
	    "test caller\n"
	    "test fail 'a \"quoted\" message'\n"
	    "test add 1 x\n",
	    2,
	    "{\"line\":1,\"result\":5}\n"
	    "{\"line\":3,\"result\":\"Hello, W \\\"x\\\"\"}\n"
	    "{\"line\":4,\"result\":null}\n"
	    "{\"line\":5,\"result\":[\"pipe\",\"\",\"\",-1,\"\",false]}\n"
	    "{\"line\":6,\"error\":{\"kind\":\"remote\",\"name\":"
	    "\"test.Failure\",\"message\":\"a \\\"quoted\\\" message\","
	    "\"object\":\"test\",\"method\":\"fail\",\"trace\":["
	    "\"bin/testobj.c:41 test_fail\",\"in test.fail on host HOST pid "
	    "PID\"],\"host\":\"HOST\",\"pid\":PID,\"status\":1}}\n"
	    "{\"line\":7,\"error\":{\"kind\":\"usage\",\"name\":"
	    "\"dopy.TypeError\",\"message\":\"test.add: parameter b: "
	    "expected int, got 'x'\",\"object\":\"test\",\"method\":\"add\","
	    "\"trace\":[],\"host\":null,\"pid\":null,\"status\":2}}\n");
}

/* A streaming method's items, each on a line of its own before its
 * call's line; pipelined with the calls around it, in order. */
Test(rsh_batch, streams, .timeout = 20)
{
	char *text[] = RSH("-b", (char *)e2e_bin("dopyd"));
	char *json[] = RSH("-b", "-j", (char *)e2e_bin("dopyd"));
	const char *in = "stream count 3\n"
	    "test add 1 2\n"
	    "stream fail_after 2\n"
	    "stream lines 2 3\n";

	batch_expect(text, in, 1, "1\n2\n3\n\n3\n1\n2\n"
	    "error: remote: stream.Failure: failed after 2 items\n"
	    "1..\n2..\n\n");
	batch_expect(json, "stream count 2\n"
	    "{\"object\":\"stream\",\"method\":\"lines\",\"args\":[1,2]}\n",
	    0, "{\"line\":1,\"item\":1}\n{\"line\":1,\"item\":2}\n"
	    "{\"line\":1,\"result\":null}\n{\"line\":2,\"item\":\"1.\"}\n"
	    "{\"line\":2,\"result\":null}\n");
}

/* A remote error and bad lines are reported on their lines; the batch
 * goes on, and exits 2, the highest of its lines (a bad line alone
 * would, dopy-rsh(1) EXIT STATUS). */
Test(rsh_batch, errors_in_the_middle, .timeout = 20)
{
	char *argv[] = RSH("-b", (char *)e2e_bin("dopyd"));
	struct e2e_run r;

	batch(&r, "test add 1 1\n"
	    "test fail boom\n"
	    "test add 2 two\n"
	    "test nosuch\n"
	    "nosuch add 1 2\n"
	    "test greet \"open\n"
	    "test\n"
	    "test add 3 3\n", argv);
	e2e_assert_run(&r, 2, "2\n"
	    "error: remote: test.Failure: boom\n"
	    "error: usage: dopy.TypeError: test.add: parameter b: expected "
	    "int, got 'two'\n"
	    "error: usage: dopy.UnknownMethod: test: no method 'nosuch'\n"
	    "error: usage: dopy.UnknownObject: no object 'nosuch'\n"
	    "error: usage: dopy-rsh.SyntaxError: unterminated \"\n"
	    "error: usage: dopy-rsh.SyntaxError: no method\n"
	    "6\n");
	cr_assert_not_null(strstr(r.err, "line 2: remote error: "
	    "test.Failure: boom"), "%s", r.err);
	cr_assert_not_null(strstr(r.err, "testobj.c"), "the remote trace");
	e2e_run_free(&r);
}

Test(rsh_batch, comments_blanks_and_quoting, .timeout = 20)
{
	char *argv[] = RSH("-b", "-j", (char *)e2e_bin("dopyd"), "test");

	batch_expect(argv, "# a comment\n"
	    "\n"
	    "   \t\n"
	    "  # an indented comment\n"
	    "greet 'a  b' \"greeting=Hi there\"\n"
	    "greet it\\'s # a comment after the words\n"
	    "greet x#y greeting=''\n"
	    "greet \"a\\\\b\\$c\" 'q\\n'\n"
	    "greet a\\ b\r\n"
	    "greet 'last line without a newline'",
	    0,
	    "{\"line\":5,\"result\":\"Hi there, a  b\"}\n"
	    "{\"line\":6,\"result\":\"Hello, it's\"}\n"
	    "{\"line\":7,\"result\":\", x#y\"}\n"
	    "{\"line\":8,\"result\":\"q\\\\n, a\\\\b$c\"}\n"
	    "{\"line\":9,\"result\":\"Hello, a b\"}\n"
	    "{\"line\":10,\"result\":\"Hello, last line without a "
	    "newline\"}\n");
}

/* Results on one line each: arrays and structures in their text form,
 * strings with control characters and bytes quoted. */
Test(rsh_batch, one_line_per_result, .timeout = 20)
{
	char *argv[] = RSH("-b", (char *)e2e_bin("dopyd"), "test");

	batch_expect(argv, "greet \"a\tb\" ''\n"
	    "echo abc\n"
	    "caller\n"
	    "sleep 1\n",
	    0,
	    "\", a\\tb\"\n"
	    "\"abc\"\n"
	    "(\"pipe\", \"\", \"\", -1, \"\", false)\n"
	    "\n");
}

/* Read a pid the target's shell wrote, waiting for it to appear. */
static pid_t
read_pid(const char *path)
{
	char *text;
	int i;
	pid_t pid = 0;

	for (i = 0; i < 500 && pid == 0; i++) {
		if ((text = e2e_slurp(path, NULL)) != NULL &&
		    strchr(text, '\n') != NULL)
			pid = (pid_t)atol(text);
		free(text);
		if (pid == 0)
			usleep(10000);
	}
	cr_assert(pid > 0, "no pid in %s", path);
	return pid;
}

/*
 * Line by line: dopyd holds answers back while more calls are waiting to
 * be read (one write for many), so a test that wants an answer before
 * the next call writes that call only after the answer came.
 */
static void
step(struct e2e_proc *p, const char *text, const char *want)
{
	char buf[512];
	size_t n = strlen(want);

	cr_assert_eq(e2e_write(p->in, text, strlen(text)), 0);
	cr_assert_lt(n, sizeof(buf));
	if (n == 0)
		return;
	cr_assert_eq(e2e_read(p->out, buf, n, E2E_WAIT_MS), (ssize_t)n);
	buf[n] = '\0';
	cr_assert_str_eq(buf, want);
}

/* End of input; the rest of the output (malloc'd), and the stderr in
 * *err, once dopy-rsh exited with code. */
static char *
finish(struct e2e_proc *p, int code, char **err)
{
	char *out;
	int status;

	close(p->in);
	p->in = -1;
	out = e2e_read_all(p->out, NULL, E2E_WAIT_MS);
	status = e2e_wait(p, E2E_WAIT_MS);
	*err = e2e_slurp(p->errpath, NULL);
	cr_assert(e2e_exited(status, code), "%s, want %d\nstdout: %s\n"
	    "stderr: %s", e2e_status(status), code, out, *err);
	return out;
}

/* A target that runs dopyd and leaves its pid in a file. */
static void
pid_target(char *target, size_t len, char *pidfile, size_t plen)
{
	snprintf(pidfile, plen, "%s/server.pid", e2e_tmpdir());
	snprintf(target, len, "echo $$ > %s; exec %s", pidfile,
	    e2e_bin("dopyd"));
}

#define NOT_SENT	"not sent: the connection was lost before this line"
/* The fields of an error of a call of test.m found by dopy-rsh, not by a
 * server. */
#define NO_WHERE(m)	"\"object\":\"test\",\"method\":\"" m "\"," \
			"\"trace\":[],\"host\":null,\"pid\":null,"
/* Those of a line not even read: no call. */
#define NO_CALL		"\"object\":null,\"method\":null,\"trace\":[]," \
			"\"host\":null,\"pid\":null,"

/* The server dies with a call in flight: that call is lost (outcome
 * unknown), the calls after it are not run, the exit status is 3. */
Test(rsh_batch, server_killed_mid_batch, .timeout = 30)
{
	char pidfile[512], target[2048], *out, *err;
	char *argv[] = RSH("-b", "-j", target, "test");
	struct e2e_proc p;
	pid_t server;

	pid_target(target, sizeof(target), pidfile, sizeof(pidfile));
	e2e_spawn(&p, argv);
	step(&p, "add 1 2\n", "{\"line\":1,\"result\":3}\n");
	server = read_pid(pidfile);
	step(&p, "sleep 5000\n", "");
	usleep(300000);		/* sent at once: the server sleeps now */
	cr_assert_eq(kill(server, SIGKILL), 0);
	usleep(100000);
	step(&p, "add 3 4\n# comment\nadd 5 6\n", "");
	out = finish(&p, 3, &err);
	cr_assert_str_eq(out, "{\"line\":2,\"error\":{\"kind\":\"lost\","
	    "\"name\":\"\",\"message\":\"connection lost during test.sleep "
	    "(connection closed): whether it ran is unknown\"," NO_WHERE("sleep")
	    "\"status\":3}}\n"
	    "{\"line\":3,\"error\":{\"kind\":\"notrun\",\"name\":\"\","
	    "\"message\":\"" NOT_SENT "\"," NO_CALL "\"status\":3}}\n"
	    "{\"line\":5,\"error\":{\"kind\":\"notrun\",\"name\":\"\","
	    "\"message\":\"" NOT_SENT "\"," NO_CALL "\"status\":3}}\n",
	    "stderr: %s", err);
	cr_assert_not_null(strstr(err, "2 lines not run"), "%s", err);
	free(out);
	free(err);
}

/* A server gone between calls: the next call cannot be sent, and is not
 * run either. */
Test(rsh_batch, server_gone_between_calls, .timeout = 30)
{
	char pidfile[512], target[2048], *out, *err;
	char *argv[] = RSH("-b", target, "test");
	struct e2e_proc p;

	pid_target(target, sizeof(target), pidfile, sizeof(pidfile));
	e2e_spawn(&p, argv);
	step(&p, "add 1 2\n", "3\n");
	cr_assert_eq(kill(read_pid(pidfile), SIGKILL), 0);
	usleep(200000);		/* so that the pipe is closed for sure */
	step(&p, "add 3 4\nadd 5 6\n", "");
	out = finish(&p, 3, &err);
	cr_assert_str_eq(out, "error: notrun: cannot send the call of "
	    "test.add: the server has gone\n"
	    "error: notrun: " NOT_SENT "\n", "stderr: %s", err);
	free(out);
	free(err);
}

/* -t: a call without an answer in time ends the batch like a lost
 * connection; one sent with it is as unknown. */
Test(rsh_batch, timeout_ends_the_batch, .timeout = 30)
{
	char *argv[] = RSH("-b", "-t", "1", (char *)e2e_bin("dopyd"), "test");
	struct e2e_proc p;
	char *out, *err;
	int64_t t0;

	e2e_spawn(&p, argv);
	step(&p, "add 1 1\n", "2\n");
	t0 = dopy_now_ms();
	step(&p, "sleep 4000\nadd 2 2\n", "");
	out = finish(&p, 3, &err);
	cr_assert_lt(dopy_now_ms() - t0, 3500, "gave up after about 1 s");
	cr_assert_str_eq(out, "error: timeout: no word about test.sleep for "
	    "1000 ms; whether it ran is unknown\n"
	    "error: timeout: no word about test.add for 1000 ms; whether it "
	    "ran is unknown\n", "stderr: %s", err);
	free(out);
	free(err);
}

Test(rsh_batch, oneway, .timeout = 20)
{
	char log[512], cmd[1024], *text;
	char *argv[] = RSH("-o", cmd, "test", "fail", "boom");
	char *badarg[] = RSH("-o", cmd, "test", "add", "x");
	char *withb[] = RSH("-b", "-o", cmd);
	struct e2e_run r;

	snprintf(log, sizeof(log), "%s/oneway.log", e2e_tmpdir());
	snprintf(cmd, sizeof(cmd), "%s -L %s", e2e_bin("dopyd"), log);
	e2e_run(&r, argv);
	e2e_assert_run(&r, 0, "");
	cr_assert_str_eq(r.err, "", "nothing raised here");
	e2e_run_free(&r);
	/* dopy-rsh is back once the call is sent: the server logs the
	 * failure on its own time, before its exit line. */
	free(e2e_dopyd_exit_line(log, E2E_WAIT_MS));
	text = e2e_slurp(log, NULL);
	cr_assert_not_null(text);
	cr_assert_not_null(strstr(text, "oneway test.fail: test.Failure: "
	    "boom"), "log: %s", text);
	free(text);
	/* The arguments are checked before anything is sent. */
	e2e_run_expect(badarg, 2, "", "expected int");
	e2e_run_expect(withb, 2, "", "usage");
}

/*
 * -o returns once the call is sent, and the server it started goes on
 * to run the call to the end and exit on its own: its log's exit line
 * comes some 2 s later, after both calls (the description and the
 * sleep), with status 0.
 */
Test(rsh_batch, oneway_returns_at_once, .timeout = 30)
{
	char log[512], cmd[1024], *line, *d;
	char *argv[] = RSH("-o", cmd, "test", "sleep", "2000");
	struct e2e_run r;
	int64_t t0, took;

	snprintf(log, sizeof(log), "%s/sleep.log", e2e_tmpdir());
	snprintf(cmd, sizeof(cmd), "%s -L %s", e2e_bin("dopyd"), log);
	t0 = dopy_now_ms();
	e2e_run(&r, argv);
	took = dopy_now_ms() - t0;
	e2e_assert_run(&r, 0, "");
	cr_assert_str_eq(r.err, "", "nothing on stderr");
	e2e_run_free(&r);
	cr_assert_lt(took, 1000, "dopy-rsh -o waited %lld ms for the method",
	    (long long)took);
	line = e2e_dopyd_exit_line(log, 10000);
	cr_assert_not_null(strstr(line, " calls=2 "), "%s", line);
	cr_assert_not_null(strstr(line, " status=0"), "%s", line);
	cr_assert_not_null(d = strstr(line, "duration="), "%s", line);
	cr_assert_geq(atof(d + 9), 2.0, "the sleep ran to its end: %s", line);
	free(line);
}

Test(rsh_batch, usage, .timeout = 20)
{
	char *two[] = RSH("-b", (char *)e2e_bin("dopyd"), "test", "add");
	char *h[] = RSH("-h");
	struct e2e_run r;

	e2e_run_expect(two, 2, "", "usage");
	e2e_run(&r, h);
	e2e_assert_run(&r, 0, NULL);
	cr_assert_not_null(strstr(r.out, "-b [-jv]"), "%s", r.out);
	e2e_run_free(&r);
}

/* Nothing to do: no lines, no calls, exit 0. */
Test(rsh_batch, empty_input, .timeout = 20)
{
	char *argv[] = RSH("-b", (char *)e2e_bin("dopyd"));

	batch_expect(argv, "# only a comment\n\n", 0, "");
}

/* A reference made on one line is an object on the lines after it: the
 * batch is one connection.  Arguments to @ID are typed by describing it. */
Test(rsh_batch, references_across_lines, .timeout = 20)
{
	char *argv[] = RSH("-b", (char *)e2e_bin("dopyd"));

	batch_expect(argv, "factory counter 5\n@1 incr\n@1 incr\n"
	    "factory value @1\nfactory live\n", 0, "@1\n6\n7\n7\n1\n");
}
