/*
 * test_callback.c - lib/server/callback.c and lib/server/watch.c, and
 * the parts of progress that need no connection: raising a callback's
 * error as a method's own, what a call outside a connection may not do,
 * and the fd watchers of the server loop (run, kept, dropped).  The
 * wire side is tested in tests/e2e_callback.c and tests/e2e_progress.c.
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

/* What the method raises, and what it saw. */
static dopy_error *to_raise;
static int progress_r, raise_r;
static dopy_proxy *peer;

static int
m_raise(dopy_call *c)
{
	raise_r = dopy_call_raise_error(c, to_raise);
	return raise_r;
}

static int
m_outside(dopy_call *c)
{
	progress_r = dopy_call_progress(c);
	peer = dopy_call_peer_proxy(c, "client");
	return 0;
}

static const struct dopy_method methods[] = {
	{ "raise", m_raise, "", NULL, "Raise to_raise." },
	{ "outside", m_outside, "", NULL, "Progress and a peer proxy." },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_object_def obj = { "obj", "", methods, NULL, NULL };

/* Run obj.method as dopy_dispatch does, with no connection. */
static void
run(dopy_server *s, const char *method, dopy_call *call)
{
	struct dopy_callmsg m;

	memset(&m, 0, sizeof(m));
	m.object = "obj";
	m.method = (char *)method;
	dopy_dispatch(s, &m, call);
}

static dopy_server *
server(void)
{
	dopy_server *s = dopy_server_new();

	cr_assert_not_null(s);
	cr_assert_eq(dopy_server_add(s, &obj, NULL), 0);
	return s;
}

Test(callback, raise_error_keeps_the_remote_story)
{
	dopy_server *s = server();
	dopy_call call;
	char line[400];

	to_raise = dopy_error_new(DOPY_E_REMOTE, "boom");
	dopy_error_set_fields(to_raise, "client.Failure", "client", "echo",
	    "far", 77);
	dopy_error_add_trace(to_raise, "client.c:3 echo");
	run(s, "raise", &call);
	cr_assert_eq(raise_r, DOPY_E_REMOTE);
	cr_assert_not_null(call.err);
	cr_assert_eq(dopy_error_code(call.err), DOPY_E_REMOTE);
	cr_assert_str_eq(dopy_error_name(call.err), "client.Failure");
	cr_assert_str_eq(dopy_error_message(call.err), "boom");
	cr_assert_str_eq(dopy_error_object(call.err), "client");
	cr_assert_str_eq(dopy_error_method(call.err), "echo");
	cr_assert_str_eq(dopy_error_host(call.err), "far");
	cr_assert_eq(dopy_error_pid(call.err), 77);
	cr_assert_eq(dopy_error_trace_len(call.err), 2);
	cr_assert_str_eq(dopy_error_trace(call.err, 0), "client.c:3 echo");
	snprintf(line, sizeof(line), "in obj.raise on host %s pid %ld",
	    s->host, s->pid);
	cr_assert_str_eq(dopy_error_trace(call.err, 1), line);
	cr_assert_eq(dopy_error_trace_len(to_raise), 1, "e is not changed");
	dopy_call_release(&call);
	dopy_error_free(to_raise);
	dopy_server_free(s);
}

/* A local failure (a timeout, say) names no remote place: the error
 * then says this method, and gets a name. */
Test(callback, raise_error_of_a_local_failure)
{
	dopy_server *s = server();
	dopy_call call;

	to_raise = dopy_error_new(DOPY_E_TIMEOUT, "no answer");
	run(s, "raise", &call);
	cr_assert_eq(dopy_error_code(call.err), DOPY_E_TIMEOUT);
	cr_assert_str_eq(dopy_error_name(call.err), "dopy.Error");
	cr_assert_str_eq(dopy_error_message(call.err), "no answer");
	cr_assert_str_eq(dopy_error_object(call.err), "obj");
	cr_assert_str_eq(dopy_error_method(call.err), "raise");
	cr_assert_str_eq(dopy_error_host(call.err), s->host);
	dopy_call_release(&call);
	dopy_error_free(to_raise);
	to_raise = NULL;
	run(s, "raise", &call);		/* NULL: still an error */
	cr_assert_str_eq(dopy_error_name(call.err), "dopy.InternalError");
	dopy_call_release(&call);
	cr_assert_eq(dopy_call_raise_error(NULL, NULL), DOPY_E_INVAL);
	dopy_server_free(s);
}

Test(callback, outside_a_connection)
{
	dopy_server *s = server();
	dopy_call call;

	progress_r = -99;
	peer = (dopy_proxy *)1;
	run(s, "outside", &call);
	cr_assert_null(call.err);
	cr_assert_eq(progress_r, 0, "progress is a no-op without a client");
	cr_assert_null(peer, "no client to call back");
	cr_assert_eq(dopy_call_progress(NULL), 0);
	cr_assert_null(dopy_call_peer_proxy(NULL, "x"));
	dopy_call_release(&call);
	dopy_server_free(s);
}

/* ---- watch.c ---- */

struct seen {
	int	runs;
	short	revents;
	int	ret;		/* what the watcher returns */
};

static int
watcher(dopy_server *s, int fd, short revents, void *arg)
{
	struct seen *w = arg;
	char c;

	(void)s;
	if (revents & POLLIN)
		cr_assert_eq(read(fd, &c, 1), 1);
	w->runs++;
	w->revents = revents;
	return w->ret;
}

Test(watch, bad_arguments)
{
	dopy_server *s = server();
	struct seen w = { 0 };

	cr_assert_eq(dopy_server_watch_fd(NULL, 0, POLLIN, watcher, &w),
	    DOPY_E_INVAL);
	cr_assert_eq(dopy_server_watch_fd(s, -1, POLLIN, watcher, &w),
	    DOPY_E_INVAL);
	cr_assert_eq(dopy_server_watch_fd(s, 0, 0, watcher, &w),
	    DOPY_E_INVAL);
	cr_assert_eq(dopy_server_watch_fd(s, 0, POLLIN, NULL, &w),
	    DOPY_E_INVAL);
	cr_assert_eq(s->nwatches, 0);
	dopy_server_free(s);
}

Test(watch, runs_keeps_and_drops)
{
	dopy_server *s = server();
	struct seen keep = { 0, 0, 0 }, once = { 0, 0, -1 };
	int a[2], b[2], in[2];

	cr_assert_eq(pipe(a), 0);
	cr_assert_eq(pipe(b), 0);
	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(dopy_server_watch_fd(s, a[0], POLLIN, watcher, &keep), 0);
	cr_assert_eq(dopy_server_watch_fd(s, b[0], POLLIN, watcher, &once), 0);
	cr_assert_eq(dopy_watch_poll(s, in[0], 0, 1), 0, "nothing ready");
	cr_assert_eq(keep.runs + once.runs, 0);
	cr_assert_eq(write(a[1], "x", 1), 1);
	cr_assert_eq(write(b[1], "y", 1), 1);
	cr_assert_eq(dopy_watch_poll(s, in[0], 0, 0), 0);
	cr_assert_eq(keep.runs + once.runs, 0, "watchers off: not run");
	cr_assert_eq(dopy_watch_poll(s, in[0], 1000, 1), 0);
	cr_assert_eq(keep.runs, 1);
	cr_assert_eq(once.runs, 1);
	cr_assert(keep.revents & POLLIN);
	cr_assert_eq(s->nwatches, 1, "a watcher returning < 0 is dropped");
	cr_assert_eq(s->watches[0].fd, a[0]);
	cr_assert_eq(write(a[1], "x", 1), 1);
	cr_assert_eq(write(b[1], "y", 1), 1);
	cr_assert_eq(write(in[1], "z", 1), 1);
	cr_assert_eq(dopy_watch_poll(s, in[0], 1000, 1), 1, "input ready");
	cr_assert_eq(keep.runs, 2);
	cr_assert_eq(once.runs, 1, "dropped for good");
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
	close(in[0]);
	close(in[1]);
	dopy_server_free(s);	/* frees the array (ASan checks) */
}

Test(watch, closed_fd_is_dropped)
{
	dopy_server *s = server();
	struct seen w = { 0 };
	int fds[2], in[2];

	cr_assert_eq(pipe(fds), 0);
	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(dopy_server_watch_fd(s, fds[0], POLLIN, watcher, &w), 0);
	close(fds[0]);
	close(fds[1]);
	cr_assert_eq(dopy_watch_poll(s, in[0], 1000, 1), 0);
	cr_assert_eq(w.runs, 0, "not run on a closed fd");
	cr_assert_eq(s->nwatches, 0);
	close(in[0]);
	close(in[1]);
	dopy_server_free(s);
}
