/*
 * testobj.c - the `test` object: what dopyclient, dopy-rsh examples and
 * the end-to-end tests call.  Each method shows one part of the API.
 */
#include <stdio.h>
#include <unistd.h>

#include "testobj.h"

static int
test_add(dopy_call *c)
{
	int64_t a = dopy_call_int(c, 0), b = dopy_call_int(c, 1), sum;

	if (__builtin_add_overflow(a, b, &sum))
		return dopy_raise(c, "test.Overflow", "%lld + %lld overflows",
		    (long long)a, (long long)b);
	return dopy_return_int(c, sum);
}

/* The argument itself goes back: no copy of a large payload. */
static int
test_echo(dopy_call *c)
{
	return dopy_call_return(c, dopy_call_take_arg(c, 0));
}

static int
test_greet(dopy_call *c)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), "%s, %s", dopy_call_string(c, 1),
	    dopy_call_string(c, 0));
	return dopy_return_string(c, buf);
}

static int
test_fail(dopy_call *c)
{
	return dopy_raise(c, "test.Failure", "%s", dopy_call_string(c, 0));
}

/* Writes where a careless method would: the stdout guard must keep
 * this off the wire. */
static int
test_noisy(dopy_call *c)
{
	printf("noise on stdout from test.noisy\n");
	fflush(stdout);
	fprintf(stderr, "noise on stderr from test.noisy\n");
	if (write(STDOUT_FILENO, "raw noise\n", 10) < 0)
		return dopy_raise(c, "test.Failure", "write to fd 1 failed");
	return dopy_return_string(c, "quiet");
}

/* A slow method, for timeouts. */
static int
test_sleep(dopy_call *c)
{
	int64_t ms = dopy_call_int(c, 0);

	if (ms < 0 || ms > 60000)
		return dopy_raise(c, "test.Failure", "sleep: 0 to 60000 ms");
	usleep((useconds_t)ms * 1000);
	return 0;
}

/* Declared oneway by dopyd: the caller is answered before it runs. */
static int
test_notify(dopy_call *c)
{
	int r = test_sleep(c);

	if (r == 0 && dopy_call_bool(c, 1))
		return dopy_raise(c, "test.Failure", "notify failed, as asked");
	return r;
}

/* Who called, as libdopy sees it under whichever launcher. */
static int
test_caller(dopy_call *c)
{
	char err[100];
	dopy_type *t = dopy_type_parse("(string,string,string,int,string,"
	    "bool)", err, sizeof(err));
	dopy_value *v = dopy_value_new(t);

	dopy_type_free(t);
	if (v == NULL ||
	    dopy_value_set_field(v, 0, dopy_value_string(
	    dopy_call_transport(c))) < 0 ||
	    dopy_value_set_field(v, 1, dopy_value_string(
	    dopy_call_peer_addr(c))) < 0 ||
	    dopy_value_set_field(v, 2, dopy_value_string(
	    dopy_call_peer_port(c))) < 0 ||
	    dopy_value_set_field(v, 3, dopy_value_int(
	    dopy_call_peer_uid(c))) < 0 ||
	    dopy_value_set_field(v, 4, dopy_value_string(
	    dopy_call_ssh_connection(c))) < 0 ||
	    dopy_value_set_field(v, 5, dopy_value_bool(
	    dopy_call_authenticated(c))) < 0) {
		dopy_value_free(v);
		return dopy_raise(c, "test.Failure", "out of memory");
	}
	return dopy_call_return(c, v);
}

static const struct dopy_method test_methods[] = {
	{ "add", test_add, "a:int, b:int", "int", "Add two integers." },
	{ "echo", test_echo, "data:bytes", "bytes",
	    "Return the bytes unchanged." },
	{ "greet", test_greet, "name:string, greeting:string=Hello",
	    "string", "Return \"<greeting>, <name>\"." },
	{ "fail", test_fail, "message:string", NULL,
	    "Raise test.Failure with the message." },
	{ "noisy", test_noisy, "", "string",
	    "Write to stdout and stderr, then return \"quiet\"." },
	{ "sleep", test_sleep, "ms:int", NULL,
	    "Sleep for ms milliseconds (at most a minute)." },
	{ "notify", test_notify, "ms:int, fail:bool=false", NULL,
	    "Oneway on the server's side: answered at once, then sleeps ms "
	    "and fails if asked (logged)." },
	{ "caller", test_caller, "", "(string,string,string,int,string,bool)",
	    "Who called: transport, address, port, uid, SSH_CONNECTION, "
	    "whether the key was verified." },
	{ NULL, NULL, NULL, NULL, NULL }
};

const struct dopy_object_def dopy_test_object = {
	"test", "Methods for trying dopy out and for its tests.",
	test_methods, NULL, NULL
};

/* ---- the demo persistent classes (dopyd -P dir) ---- */

/* Sample code is copied: check the sum as test.add does. */
static int
counter_incr(dopy_call *c)
{
	int64_t cur = dopy_value_get_int(dopy_call_pstate(c)), n,
	    by = dopy_call_int(c, 0);

	if (__builtin_add_overflow(cur, by, &n))
		return dopy_raise(c, "counter.Overflow", "%lld + %lld "
		    "overflows", (long long)cur, (long long)by);
	if (dopy_call_set_pstate(c, dopy_value_int(n)) < 0)
		return -1;
	return dopy_return_int(c, n);
}

static int
counter_get(dopy_call *c)
{
	return dopy_return_int(c, dopy_value_get_int(dopy_call_pstate(c)));
}

static const struct dopy_method counter_methods[] = {
	{ "incr", counter_incr, "by:int=1", "int",
	    "Add by to the counter and return the new value." },
	{ "get", counter_get, "", "int", "The counter's value." },
	{ NULL, NULL, NULL, NULL, NULL }
};

const struct dopy_pclass dopy_counter_class = {
	"counter", "A persistent counter.", "int", counter_methods, "get",
	NULL, NULL, NULL
};

static int
note_set(dopy_call *c)
{
	return dopy_call_set_pstate(c, dopy_value_string(
	    dopy_call_string(c, 0)));
}

static int
note_get(dopy_call *c)
{
	return dopy_return_string(c, dopy_value_get_string(
	    dopy_call_pstate(c)));
}

static const struct dopy_method note_methods[] = {
	{ "set", note_set, "text:string", NULL, "Replace the note's text." },
	{ "get", note_get, "", "string", "The note's text." },
	{ NULL, NULL, NULL, NULL, NULL }
};

const struct dopy_pclass dopy_note_class = {
	"note", "A persistent note.", "string", note_methods, "get",
	NULL, NULL, NULL
};
