/*
 * fuzz_client.c - libFuzzer harness for what a hostile server may answer
 * a client.
 *
 * The input is everything a server writes on one connection: HELLO,
 * then REPLY, ERROR, PROGRESS, CALLBACK and AUTH frames (or anything) in
 * any order.  The harness is the client: it says HELLO over a
 * connection reading the input (and writing to /dev/null), publishes an
 * object "cbo" so that CALLBACK frames reach lib/server/clientcb.c, and makes a
 * few calls of each kind: synchronous, asynchronous (waited for, polled
 * and forgotten), oneway, a batch, an attribute, a reference called and
 * released, introspection and dopy_conn_process; then closes.  Each call
 * has a short timeout, though none is needed: the input ends, and a
 * client at EOF fails what is pending.  The whole script runs twice per
 * input, connecting normally and with DOPY_CONNECT_EARLY (the server's
 * HELLO read with the first answer).
 *
 * Call ids go out from 1 in the order of the script; set FUZZ_TRACE=1 to
 * see what each step got (tests/mkcorpus.c makes seeds that answer each
 * in turn).
 *
 * Built by `make tests/fuzz_client`, run by tests/run-fuzz.sh over a
 * copy of tests/corpus/client.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_util.h"

#define CALL_TIMEOUT_MS		100
#define CALL_DEADLINE_MS	500

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
size_t	LLVMFuzzerCustomMutator(uint8_t *, size_t, size_t, unsigned int);

static int	trace;

/* With FUZZ_TRACE, what a step got. */
static void
note(const char *step, int r, dopy_value *v, dopy_error *e)
{
	char *s = NULL;

	if (!trace)
		return;
	if (v != NULL)
		s = dopy_value_format(v);
	else if (e != NULL)
		s = dopy_error_format(e);
	fprintf(stderr, "fuzz_client: %s: %d %s\n", step, r, s ? s : "");
	free(s);
}

/* Every call's outcome is noted, freed and cleared for the next.  By
 * address: the call filling them is an argument too, and C leaves the
 * order of evaluation open. */
static void
settle(const char *step, int r, dopy_value **v, dopy_error **e)
{
	note(step, r, v ? *v : NULL, *e);
	if (v != NULL) {
		dopy_value_free(*v);
		*v = NULL;
	}
	dopy_error_free(*e);
	*e = NULL;
}

/* ---- the object the server may call back ---- */

static int
cbo_echo(dopy_call *c)
{
	return dopy_return_string(c, dopy_call_string(c, 0));
}

static int
cbo_fail(dopy_call *c)
{
	return dopy_raise(c, "cbo.Failure", "%s", dopy_call_string(c, 0));
}

/* Calls cb.nest(cbo, depth - 1) back, as the end-to-end tests do; as
 * deep as the server's own limit, so the harness does not recurse for
 * ever on its own account. */
static int
cbo_nest(dopy_call *c)
{
	int64_t depth = dopy_call_int(c, 0);
	dopy_proxy *p;
	dopy_args *a;
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	int r;

	if (depth <= 0 || depth > DOPY_MAX_NEST)
		return dopy_return_int(c, 0);
	p = dopy_proxy_new(dopy_call_state(c), "cb");
	a = dopy_args_new();
	if (dopy_args_string(a, NULL, "cbo") < 0 ||
	    dopy_args_int(a, NULL, depth - 1) < 0)
		r = dopy_raise(c, "cbo.NoMemory", "out of memory");
	else if (dopy_proxy_call(p, "nest", a, &v, &e) < 0)
		r = dopy_call_raise_error(c, e);
	else
		r = dopy_return_int(c, dopy_value_get_int(v) + 1);
	settle("cbo.nest", r, &v, &e);
	dopy_args_free(a);
	dopy_proxy_free(p);
	return r;
}

static int
cbo_tick(dopy_call *c)
{
	(void)c;
	return 0;
}

static const struct dopy_method cbo_methods[] = {
	{ "echo", cbo_echo, "s:string", "string", "s." },
	{ "fail", cbo_fail, "s:string", NULL, "Raise cbo.Failure." },
	{ "nest", cbo_nest, "depth:int", "int", "cb.nest(cbo, depth-1)+1." },
	{ "tick", cbo_tick, "s:string", NULL, "Nothing." },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_object_def cbo_def = {
	"cbo", "The fuzzed client's callback object.", cbo_methods, NULL,
	NULL
};

/* ---- the script: one function per kind of call ---- */

static dopy_args *
two_ints(int64_t a, int64_t b)
{
	dopy_args *args = dopy_args_new();

	if (args == NULL || dopy_args_int(args, NULL, a) < 0 ||
	    dopy_args_int(args, NULL, b) < 0)
		fuzz_die("out of memory");
	return args;
}

static void
call_sync(dopy_conn *c)
{
	dopy_proxy *p = dopy_proxy_new(c, "test");
	dopy_args *a = two_ints(2, 3);
	dopy_value *v = NULL;
	dopy_error *e = NULL;

	settle("test.add", dopy_proxy_call(p, "add", a, &v, &e), &v, &e);
	settle("test.caller", dopy_proxy_call(p, "caller", NULL, &v, &e),
	    &v, &e);
	dopy_args_free(a);
	dopy_proxy_free(p);
}

static void
done(dopy_future *f, void *arg)
{
	(void)f;
	(*(int *)arg)++;
}

/*
 * Three in flight: one waited for, one polled, one forgotten.  The
 * callbacks' counter is freed with the futures: dopy.h says a future
 * freed unanswered is forgotten, so no callback may touch it after.
 */
static void
call_async(dopy_conn *c)
{
	dopy_proxy *p = dopy_proxy_new(c, "test");
	dopy_args *a = two_ints(4, 5);
	dopy_future *f[3] = { NULL, NULL, NULL };
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	int *n = calloc(1, sizeof(*n)), i, r;

	if (n == NULL)
		fuzz_die("out of memory");
	for (i = 0; i < 3; i++)
		if ((r = dopy_proxy_call_async(p, "add", a, done, n, &f[i],
		    &e)) < 0)
			settle("async start", r, NULL, &e);
	if (f[0] != NULL)
		settle("async wait", dopy_future_wait(f[0], &v, &e), &v,
		    &e);
	if (f[1] != NULL)
		note("async ready", dopy_future_ready(f[1]), NULL, NULL);
	for (i = 0; i < 3; i++)
		dopy_future_free(f[i]);
	free(n);
	dopy_args_free(a);
	dopy_proxy_free(p);
}

static void
call_oneway(dopy_conn *c)
{
	dopy_proxy *p = dopy_proxy_new(c, "test");
	dopy_args *a = two_ints(1, 0);
	dopy_value *v = NULL;
	dopy_error *e = NULL;

	if (dopy_proxy_set_oneway(p, "notify", 1) < 0)
		fuzz_die("out of memory");
	settle("oneway test.notify", dopy_proxy_call(p, "notify", a, &v,
	    &e), &v, &e);
	dopy_args_free(a);
	dopy_proxy_free(p);
}

static void
call_batch(dopy_conn *c)
{
	dopy_batch *b = dopy_batch_new(c);
	dopy_proxy *p = dopy_proxy_new(c, "test");
	dopy_args *a = two_ints(6, 7);
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	size_t i;
	int r;

	/* A lost connection refuses calls as they are added. */
	if ((r = dopy_batch_add(b, p, "add", a)) < 0 ||
	    (r = dopy_batch_add(b, p, "caller", NULL)) < 0)
		note("batch add", r, NULL, NULL);
	settle("batch run", dopy_batch_run(b, &e), NULL, &e);
	for (i = 0; i < dopy_batch_len(b); i++)
		settle("batch result", dopy_batch_result(b, i, &v, &e), &v,
		    &e);
	dopy_args_free(a);
	dopy_proxy_free(p);
	dopy_batch_free(b);
}

/* factory.counter, then the reference it returns, called and released. */
static void
call_ref(dopy_conn *c)
{
	dopy_proxy *p = dopy_proxy_new(c, "factory"), *rp;
	dopy_value *ref = NULL, *v = NULL;
	dopy_error *e = NULL;

	settle("factory.counter", dopy_proxy_call(p, "counter", NULL, &ref,
	    &e), NULL, &e);
	if ((rp = dopy_proxy_ref(c, ref)) != NULL) {
		settle("@ref.incr", dopy_proxy_call(rp, "incr", NULL, &v,
		    &e), &v, &e);
		settle("release", dopy_ref_release(c, ref, &e), NULL, &e);
		dopy_proxy_free(rp);
	}
	dopy_value_free(ref);
	dopy_proxy_free(p);
}

static void
call_attr(dopy_conn *c)
{
	dopy_proxy *p = dopy_proxy_new(c, "thermo");
	dopy_value *v = NULL;
	dopy_error *e = NULL;

	settle("get setpoint", dopy_proxy_get(p, "setpoint", &v, &e), &v,
	    &e);
	settle("set label", dopy_proxy_set(p, "label",
	    dopy_value_string("x"), &e), NULL, &e);
	dopy_proxy_free(p);
}

/* cb.call makes the server call cbo back; introspection; a poll. */
static void
call_rest(dopy_conn *c)
{
	dopy_proxy *p = dopy_proxy_new(c, "cb");
	dopy_args *a = dopy_args_new();
	dopy_value *v = NULL;
	dopy_error *e = NULL;

	if (a == NULL || dopy_args_string(a, NULL, "cbo") < 0 ||
	    dopy_args_string(a, NULL, "echo") < 0 ||
	    dopy_args_string(a, NULL, "hi") < 0)
		fuzz_die("out of memory");
	settle("cb.call", dopy_proxy_call(p, "call", a, &v, &e), &v, &e);
	settle("objects", dopy_list_objects(c, &v, &e), &v, &e);
	settle("describe", dopy_describe(c, "test", &v, &e), &v, &e);
	settle("process", dopy_conn_process(c, &e), NULL, &e);
	dopy_args_free(a);
	dopy_proxy_free(p);
}

static void (*const script[])(dopy_conn *) = {
	call_sync, call_async, call_oneway, call_batch, call_ref, call_attr,
	call_rest
};

static void
client(const uint8_t *data, size_t size, int flags)
{
	dopy_conn *c;
	dopy_error *e = NULL;
	size_t i;
	int r;

	r = dopy_conn_fds_flags(fuzz_input_fd(data, size), fuzz_devnull(),
	    NULL, flags, &c, &e);
	settle("connect", r, NULL, &e);
	if (r < 0)
		return;
	dopy_conn_set_timeout(c, CALL_TIMEOUT_MS);
	dopy_conn_set_deadline(c, CALL_DEADLINE_MS);
	dopy_conn_on_callback_error(c, NULL, NULL);
	if (dopy_conn_publish(c, &cbo_def, c) < 0)
		fuzz_die("cannot publish cbo");
	for (i = 0; i < sizeof(script) / sizeof(script[0]); i++)
		script[i](c);
	dopy_conn_close(c);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	trace = getenv("FUZZ_TRACE") != NULL;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	client(data, size, 0);
	client(data, size, DOPY_CONNECT_EARLY);
	return 0;
}

size_t
LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max,
    unsigned int seed)
{
	return fuzz_frames_mutate(data, size, max, seed);
}
