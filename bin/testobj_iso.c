/*
 * testobj_iso.c - the `iso` object: methods run isolated, in a child of
 * the connection process (dopy_server_set_isolated).  stubborn never
 * checks for a cancel, polite does, count streams, crash dies, setv
 * changes a value that getv (run in process) shows unchanged, pid says
 * which process ran it.  Every isolated method has a grace of
 * ISO_GRACE_MS.
 */
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testobj.h"

#define ISO_GRACE_MS	300
#define POLL_MS		5

static int64_t value;

static void
pause_ms(int64_t ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (ms > 0 && nanosleep(&ts, &ts) != 0)
		;
}

static int
bad_ms(dopy_call *c, int64_t ms)
{
	if (ms >= 0 && ms <= 600000)
		return 0;
	return dopy_raise(c, "iso.BadArgument", "want 0 <= ms <= 600000");
}

static int
iso_stubborn(dopy_call *c)
{
	int64_t ms = dopy_call_int(c, 0);

	if (bad_ms(c, ms) < 0)
		return DOPY_E_REMOTE;
	pause_ms(ms);		/* deaf to cancels and deadlines */
	return dopy_return_int(c, ms);
}

static int
iso_polite(dopy_call *c)
{
	int64_t ms = dopy_call_int(c, 0), end = testobj_now_ms() + ms;

	if (bad_ms(c, ms) < 0)
		return DOPY_E_REMOTE;
	while (testobj_now_ms() < end) {
		if (dopy_call_cancelled(c) < 0)
			return dopy_call_raise_cancelled(c);
		pause_ms(POLL_MS);
	}
	return 0;
}

static int
iso_count(dopy_call *c)
{
	int64_t i, n = dopy_call_int(c, 0);
	int r;

	for (i = 1; i <= n; i++)
		if ((r = dopy_call_send_item(c, dopy_value_int(i))) < 0)
			return r;
	return 0;
}

static int
iso_crash(dopy_call *c)
{
	struct sigaction sa;

	(void)c;
	/* The default action, not a sanitizer's report and exit. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGSEGV, &sa, NULL);
	raise(SIGSEGV);
	return 0;
}

static int
iso_setv(dopy_call *c)
{
	value = dopy_call_int(c, 0);
	return 0;
}

static int
iso_getv(dopy_call *c)
{
	return dopy_return_int(c, value);
}

static int
iso_pid(dopy_call *c)
{
	return dopy_return_int(c, (int64_t)getpid());
}

/* Refused in the child: the client's answer would not come to it. */
static int
iso_callback(dopy_call *c)
{
	dopy_proxy *p = dopy_call_peer_proxy(c, "client");
	dopy_error *e = NULL;
	dopy_value *v = NULL;
	int r;

	if (p == NULL)
		return dopy_raise(c, "dopy.InternalError", "out of memory");
	r = dopy_proxy_call(p, "hello", NULL, &v, &e);
	dopy_proxy_free(p);
	dopy_value_free(v);
	if (r < 0)
		r = dopy_call_raise_error(c, e);
	dopy_error_free(e);
	return r;
}

static const struct dopy_object_def iso_object;

/* A grandchild holds the call's output open after the child is gone. */
static int
iso_orphan(dopy_call *c)
{
	pid_t pid = fork();

	if (pid < 0)
		return dopy_raise(c, "iso.Fork", "cannot fork");
	if (pid == 0) {
		pause_ms(2000);
		_exit(0);
	}
	return dopy_return_int(c, (int64_t)pid);
}

/* Refused in the child: the object would die with it. */
static int
iso_mkref(dopy_call *c)
{
	return dopy_call_return(c, dopy_call_new_ref(c, &iso_object, NULL,
	    NULL));
}

static const struct dopy_method iso_methods[] = {
	{ "stubborn", iso_stubborn, "ms:int", "int",
	    "Isolated: sleep ms milliseconds, deaf to cancels; returns ms." },
	{ "polite", iso_polite, "ms:int", "",
	    "Isolated: sleep ms milliseconds, stopping when cancelled." },
	{ "count", iso_count, "n:int", "stream int",
	    "Isolated: send 1 to n." },
	{ "crash", iso_crash, "", "",
	    "Isolated: die of SIGSEGV." },
	{ "setv", iso_setv, "v:int", "",
	    "Isolated: set the value (in the child only)." },
	{ "getv", iso_getv, "", "int",
	    "The value (in process)." },
	{ "pid", iso_pid, "", "int",
	    "The process that runs the call (in process)." },
	{ "childpid", iso_pid, "", "int",
	    "Isolated: the process that runs the call." },
	{ "orphan", iso_orphan, "", "int",
	    "Isolated: leave a process that holds the call's output open for "
	    "2 s; returns its pid." },
	{ "callback", iso_callback, "", "",
	    "Isolated: call the client back, which fails." },
	{ "mkref", iso_mkref, "", "ref",
	    "Isolated: return an object by reference, which fails." },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_object_def iso_object = {
	"iso", "Isolated methods (issue 15 tests).",
	iso_methods, NULL, NULL
};

int
testobj_iso_add(dopy_server *s)
{
	static const char *const isolated[] = { "stubborn", "polite",
	    "count", "crash", "setv", "childpid", "orphan", "callback",
	    "mkref" };
	size_t i;
	int r;

	if ((r = dopy_server_add(s, &iso_object, NULL)) < 0)
		return r;
	for (i = 0; i < sizeof(isolated) / sizeof(isolated[0]); i++)
		if ((r = dopy_server_set_isolated(s, "iso", isolated[i],
		    ISO_GRACE_MS)) < 0)
			return r;
	return 0;
}
