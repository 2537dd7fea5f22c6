/*
 * testobj_cb.c - object "cb": callbacks to the client, progress frames
 * and fd watchers, for the tests of issue 5 and for trying them by hand.
 */
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "testobj.h"

/* Call object.method on the client with one argument (taken). */
static int
call_back(dopy_call *c, const char *object, const char *method,
    dopy_value *arg, dopy_value **out)
{
	dopy_proxy *p = dopy_call_peer_proxy(c, object);
	dopy_args *a = dopy_args_new();
	dopy_error *e = NULL;
	int r;

	*out = NULL;
	if (p == NULL || a == NULL || dopy_args_add(a, NULL, arg) < 0)
		r = dopy_raise(c, "cb.NoMemory", "cannot call %s.%s back",
		    object, method);
	else if (dopy_proxy_call(p, method, a, out, &e) < 0)
		r = dopy_call_raise_error(c, e);
	else
		r = 0;
	if (a == NULL)
		dopy_value_free(arg);
	dopy_error_free(e);
	dopy_args_free(a);
	dopy_proxy_free(p);
	return r;
}

static int
cb_call(dopy_call *c)
{
	dopy_value *v;
	int r;

	if ((r = call_back(c, dopy_call_string(c, 0), dopy_call_string(c, 1),
	    dopy_value_string(dopy_call_string(c, 2)), &v)) < 0)
		return r;
	if (dopy_value_kind(v) != DOPY_STRING) {
		dopy_value_free(v);
		return dopy_raise(c, "cb.BadAnswer", "%s.%s did not return a "
		    "string", dopy_call_string(c, 0), dopy_call_string(c, 1));
	}
	return dopy_call_return(c, v);
}

static int
cb_nest(dopy_call *c)
{
	int64_t depth = dopy_call_int(c, 1);
	dopy_value *v;
	int r;

	if (depth <= 0)
		return dopy_return_int(c, 0);
	if ((r = call_back(c, dopy_call_string(c, 0), "nest",
	    dopy_value_int(depth), &v)) < 0)
		return r;
	/* The client's answer is the peer's to choose: INT64_MAX too. */
	if (dopy_value_kind(v) != DOPY_INT ||
	    dopy_value_get_int(v) == INT64_MAX) {
		dopy_value_free(v);
		return dopy_raise(c, "cb.BadAnswer", "%s.nest did not return "
		    "an int below 2^63-1", dopy_call_string(c, 0));
	}
	r = dopy_return_int(c, dopy_value_get_int(v) + 1);
	dopy_value_free(v);
	return r;
}

int64_t
testobj_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
cb_progress(dopy_call *c)
{
	int64_t ms = dopy_call_int(c, 0), step = dopy_call_int(c, 1), n = 0;
	int64_t end = testobj_now_ms() + ms;
	struct timespec ts;

	if (ms < 0 || ms > 60000 || step < 1 || step > ms + 1)
		return dopy_raise(c, "cb.BadArgument", "want 0 <= ms <= 60000 "
		    "and 1 <= step <= ms + 1");
	ts.tv_sec = step / 1000;
	ts.tv_nsec = (long)(step % 1000) * 1000000;
	while (testobj_now_ms() < end) {
		nanosleep(&ts, NULL);
		if (dopy_call_progress(c) < 0)
			return dopy_raise(c, "cb.Gone", "the client has gone");
		n++;
	}
	return dopy_return_int(c, n);
}

/* A watch: a one-shot timerfd and the client object to tell. */
struct tick {
	dopy_proxy	*peer;
	char		*method;
};

static void
tick_free(struct tick *t)
{
	dopy_proxy_free(t->peer);
	free(t->method);
	free(t);
}

static int
tick_fired(dopy_server *s, int fd, short revents, void *arg)
{
	struct tick *t = arg;
	dopy_args *a = dopy_args_new();
	dopy_value *v = NULL;
	uint64_t n;

	(void)s;
	/* revents 0: the server is going, the client with it. */
	if (revents != 0 && read(fd, &n, sizeof(n)) != sizeof(n)) {
		dopy_args_free(a);
		return 0;		/* not yet: keep watching */
	}
	/* The answer does not matter here; the client sees the call. */
	if (revents != 0 && a != NULL &&
	    dopy_args_string(a, NULL, "tick") == 0)
		dopy_proxy_call(t->peer, t->method, a, &v, NULL);
	dopy_value_free(v);
	dopy_args_free(a);
	close(fd);
	tick_free(t);
	return -1;
}

static int
cb_watch(dopy_call *c)
{
	struct itimerspec it = { { 0, 0 }, { 0, 0 } };
	int64_t ms = dopy_call_int(c, 2);
	struct tick *t;
	int fd, r = 0;

	if (ms < 1 || ms > 60000)
		return dopy_raise(c, "cb.BadArgument", "want 1 <= ms <= 60000");
	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_nsec = (long)(ms % 1000) * 1000000;
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->peer = dopy_call_peer_proxy(c, dopy_call_string(c, 0))) ==
	    NULL || (t->method = strdup(dopy_call_string(c, 1))) == NULL) {
		if (t != NULL)
			tick_free(t);
		return dopy_raise(c, "cb.NoMemory", "out of memory");
	}
	if ((fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK |
	    TFD_CLOEXEC)) < 0 || timerfd_settime(fd, 0, &it, NULL) < 0 ||
	    (r = dopy_server_watch_fd(dopy_call_server(c), fd, POLLIN,
	    tick_fired, t)) < 0) {
		if (fd >= 0)
			close(fd);
		tick_free(t);
		return dopy_raise(c, "cb.NoTimer", "cannot set a timer: %s",
		    r == DOPY_E_USAGE ? dopy_server_errmsg(dopy_call_server(c)) :
		    "no timer descriptor");
	}
	return 0;
}

/* A reference that makes its connection's end slow: its gone hook
 * sleeps, as a real object flushing state might. */
static void
linger_gone(void *state, enum dopy_ref_why why)
{
	int64_t *ms = state;
	struct timespec ts = { *ms / 1000, (long)(*ms % 1000) * 1000000 };

	(void)why;
	nanosleep(&ts, NULL);
	free(ms);
}

static int
linger_ms(dopy_call *c)
{
	return dopy_return_int(c, *(int64_t *)dopy_call_state(c));
}

static const struct dopy_method linger_methods[] = {
	{ "ms", linger_ms, "", "int", "How long its gone hook sleeps." },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_object_def linger_def = {
	"lingerer", "Its gone hook sleeps.", linger_methods, NULL, NULL
};

static int
cb_linger(dopy_call *c)
{
	int64_t *ms;
	dopy_value *v;

	if (dopy_call_int(c, 0) < 0 || dopy_call_int(c, 0) > 60000)
		return dopy_raise(c, "cb.BadArgument", "want 0 <= ms <= 60000");
	if ((ms = malloc(sizeof(*ms))) == NULL)
		return dopy_raise(c, "cb.NoMemory", "out of memory");
	*ms = dopy_call_int(c, 0);
	if ((v = dopy_call_new_ref(c, &linger_def, ms, linger_gone)) == NULL) {
		free(ms);
		return dopy_raise(c, "cb.NoMemory", "out of memory");
	}
	return dopy_call_return(c, v);
}

static const struct dopy_method cb_methods[] = {
	{ "call", cb_call, "object:string, method:string, arg:string",
	    "string", "Call the client's object.method(arg) back and return "
	    "its string; its error is raised as ours." },
	{ "linger", cb_linger, "ms:int", "ref",
	    "An object by reference whose gone hook sleeps ms milliseconds: "
	    "the connection's end waits for it." },
	{ "nest", cb_nest, "object:string, depth:int", "int",
	    "0 if depth <= 0, else the client's object.nest(depth) + 1: the "
	    "client may call cb.nest(object, depth - 1) from there." },
	{ "progress", cb_progress, "ms:int, step:int", "int",
	    "Run ms milliseconds, reporting progress every step ms; returns "
	    "how many times it reported (frames are sent at most every "
	    "50 ms)." },
	{ "watch", cb_watch, "object:string, method:string, ms:int=100", NULL,
	    "Return at once; after ms milliseconds a timerfd watcher calls "
	    "the client's object.method(\"tick\") back (once)." },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_object_def cb_object = {
	"cb", "Callbacks, progress and fd watchers (issue 5 tests).",
	cb_methods, NULL, NULL
};

int
testobj_cb_add(dopy_server *s)
{
	return dopy_server_add(s, &cb_object, NULL);
}
