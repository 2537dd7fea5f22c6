/*
 * testobj_slow.c - the `slow` object: cooperative cancellation and
 * deadlines (dopy(5): Cancel, Deadlines).  spin runs until its time is
 * up or it is told to stop; hop calls spin on another server, where the
 * deadline it inherits from its own call goes along.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "testobj.h"

#define POLL_MS		5

static int
slow_spin(dopy_call *c)
{
	int64_t ms = dopy_call_int(c, 0), end = testobj_now_ms() + ms;
	struct timespec ts = { 0, POLL_MS * 1000000L };

	if (ms < 0 || ms > 600000)
		return dopy_raise(c, "slow.BadArgument", "want 0 <= ms <= "
		    "600000");
	while (testobj_now_ms() < end) {
		if (dopy_call_cancelled(c) < 0)
			return dopy_call_raise_cancelled(c);
		nanosleep(&ts, NULL);
	}
	return dopy_return_int(c, ms);
}

/* hop's call: spin(ms) on the last target, else hop(rest, ms). */
static dopy_args *
hop_args(const char *rest, int64_t ms)
{
	dopy_args *a = dopy_args_new();

	if (a != NULL && ((rest != NULL && dopy_args_string(a, NULL,
	    rest) < 0) || dopy_args_int(a, NULL, ms) < 0)) {
		dopy_args_free(a);
		return NULL;
	}
	return a;
}

static int
slow_hop(dopy_call *c)
{
	const char *targets = dopy_call_string(c, 0), *nl;
	dopy_proxy *p = NULL;
	dopy_error *e = NULL;
	dopy_args *a = NULL;
	char first[1024];
	int r;

	nl = strchr(targets, '\n');
	if ((size_t)(nl != NULL ? nl - targets : (ptrdiff_t)strlen(targets)) >=
	    sizeof(first))
		return dopy_raise(c, "slow.BadArgument", "target too long");
	strlcpy(first, targets, nl != NULL ? (size_t)(nl - targets) + 1 :
	    sizeof(first));
	if ((r = dopy_open(first, "slow", NULL, &p, &e)) == 0) {
		if ((a = hop_args(nl != NULL ? nl + 1 : NULL,
		    dopy_call_int(c, 1))) == NULL)
			r = dopy_raise(c, "dopy.InternalError", "out of memory");
		else
			r = dopy_proxy_call(p, nl != NULL ? "hop" : "spin", a,
			    NULL, &e);
	}
	dopy_args_free(a);
	dopy_proxy_free(p);
	if (r < 0 && e != NULL)
		r = dopy_call_raise_error(c, e);
	dopy_error_free(e);
	return r < 0 ? r : dopy_return_string(c, "ok");
}

static const struct dopy_method slow_methods[] = {
	{ "spin", slow_spin, "ms:int", "int",
	    "Spin ms milliseconds, stopping early when cancelled or past the "
	    "call's deadline; returns ms." },
	{ "hop", slow_hop, "target:string, ms:int", "string",
	    "Call slow.spin(ms) on the server at target (inheriting this "
	    "call's deadline); returns ok or raises its error.  Several "
	    "targets, one a line, make a chain: the first is called "
	    "slow.hop(the rest, ms)." },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_object_def slow_object = {
	"slow", "Cancellation and deadlines (issue 15 tests).",
	slow_methods, NULL, NULL
};

int
testobj_slow_add(dopy_server *s)
{
	return dopy_server_add(s, &slow_object, NULL);
}
