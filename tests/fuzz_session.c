/*
 * fuzz_session.c - libFuzzer harness for whole sessions against the real
 * server loop.
 *
 * The input is everything a client sends on one connection (HELLO, then
 * any frames).  It is served by dopy_server_serve, the loop bin/dopyd
 * runs, with dopyd's objects: test, cb (callbacks, progress, watchers),
 * factory (objects by reference), thermo (attributes), the persistent
 * classes counter and note, and pos and naming over directories of this
 * process, emptied before every input so that each input starts from
 * the same empty store.  Answers go to /dev/null; a CALLBACK's answer
 * is whatever the input says next.
 *
 * Besides crashes and sanitizer reports, libFuzzer's -timeout catches a
 * session that spins (methods that wait as long as they are told are
 * held to a small budget per input, and the HELLO deadline is off, so
 * only a real spin lasts), and LeakSanitizer what a session leaves
 * behind (the server is made and freed around every input).  Two
 * checks of our own abort, so libFuzzer keeps the input:
 *  - a stream that does not end between frames must not end the
 *    session cleanly (dopy(5): EOF inside a frame is fatal);
 *  - a session writes at most LOG_LINES_MAX log lines, whatever it
 *    sends (peer-caused lines are rate-limited).
 *
 * Built by `make tests/fuzz_session`, run by tests/run-fuzz.sh over a
 * copy of tests/corpus/session.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "testobj.h"

/* Above 256 KiB, where chan.c reads a frame into a block of its own,
 * and small enough that a length field's worth is cheap to allocate. */
#define FUZZ_MAX_FRAME	(512u * 1024)
/* Milliseconds an input may make methods wait, in all. */
#define WAIT_BUDGET_MS	20
#define LOG_LINES_MAX	100

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
size_t	LLVMFuzzerCustomMutator(uint8_t *, size_t, size_t, unsigned int);

static char			*posdir, *namedir, *logpath;
static struct dopy_object_def	 test_def, cb_def;
static int64_t			 wait_left;

/* How long a call of a stock method would wait, or -1. */
static int64_t
waits(dopy_call *c)
{
	const char *m = dopy_call_method(c);

	if (strcmp(m, "sleep") == 0 || strcmp(m, "notify") == 0 ||
	    strcmp(m, "progress") == 0)
		return dopy_call_int(c, 0);
	if (strcmp(m, "watch") == 0)
		return dopy_call_int(c, 2);
	return -1;
}

/*
 * The before hook of test and cb here: waiting is held to the input's
 * budget, so that only a spin reaches libFuzzer's time limit, and
 * test.noisy, which writes on the fuzzer's own stderr, is refused.
 */
static int
bounded(dopy_call *c)
{
	int64_t ms = waits(c);

	if (strcmp(dopy_call_method(c), "noisy") == 0)
		return dopy_raise(c, "fuzz.Refused", "not in the fuzzer");
	if (ms <= 0)
		return 0;
	if (ms > wait_left)
		return dopy_raise(c, "fuzz.Refused", "the input has waited "
		    "long enough");
	wait_left -= ms;
	return 0;
}

/* Copies of the stock test and cb objects with the hook. */
static void
wrap_stock(void)
{
	dopy_server *s = dopy_server_new();
	const struct dopy_object *o;

	if (s == NULL || testobj_cb_add(s) < 0 ||
	    (o = dopy_server_find(s, "cb")) == NULL)
		fuzz_die("cannot find the cb object");
	cb_def = *o->def;
	test_def = dopy_test_object;
	if (cb_def.before != NULL || test_def.before != NULL)
		fuzz_die("a stock object has a before hook: chain it here");
	cb_def.before = test_def.before = bounded;
	dopy_server_free(s);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	posdir = fuzz_tmpdir("pos");
	namedir = fuzz_tmpdir("naming");
	if (asprintf(&logpath, "%s/log", fuzz_tmpdir("log")) < 0)
		fuzz_die("out of memory");
	wrap_stock();
	return 0;
}

/* A server as dopyd -P -N makes it, over an empty store. */
static dopy_server *
server(void)
{
	dopy_server *s;

	fuzz_dir_empty(posdir);
	fuzz_dir_empty(namedir);
	unlink(logpath);
	if ((s = dopy_server_new()) == NULL ||
	    dopy_server_set_log(s, DOPY_LOG_FILE, logpath, 0) < 0 ||
	    dopy_server_add(s, &test_def, NULL) < 0 ||
	    dopy_server_set_oneway(s, "test", "notify") < 0 ||
	    testobj_pclasses_add(s) < 0 ||
	    dopy_server_add(s, &cb_def, NULL) < 0 ||
	    testobj_ref_add(s) < 0 || testobj_attr_add(s) < 0 ||
	    testobj_stream_add(s) < 0 || testobj_upload_add(s) < 0 ||
	    dopy_server_add_pos(s, posdir) < 0 ||
	    dopy_server_add_naming(s, namedir) < 0)
		fuzz_die("cannot set up the server: %s",
		    s ? dopy_server_errmsg(s) : "out of memory");
	dopy_server_set_max_frame(s, FUZZ_MAX_FRAME);
	/* The input is all there: a deadline could only end a spin early
	 * and hide it. */
	s->handshake_ms = 0;
	s->idle_ms = 0;
	return s;
}

static size_t
log_lines(void)
{
	FILE *f = fopen(logpath, "r");
	size_t n = 0;
	int ch;

	if (f == NULL)
		return 0;
	while ((ch = getc(f)) != EOF)
		n += ch == '\n';
	fclose(f);
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dopy_server *s = server();
	int in = fuzz_input_fd(data, size), out = fuzz_devnull(), r;
	size_t lines;

	wait_left = WAIT_BUDGET_MS;
	r = dopy_server_serve(s, in, out);
	close(in);
	close(out);
	dopy_server_free(s);
	if (r == 0 && !fuzz_frames_whole(data, size))
		fuzz_die("the input ends inside a frame, yet the session "
		    "ended cleanly (dopy_server_serve returned 0)");
	if ((lines = log_lines()) > LOG_LINES_MAX)
		fuzz_die("one session wrote %zu log lines (at most %d)",
		    lines, LOG_LINES_MAX);
	return 0;
}

size_t
LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max,
    unsigned int seed)
{
	return fuzz_frames_mutate(data, size, max, seed);
}
