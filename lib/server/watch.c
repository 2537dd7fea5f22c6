/*
 * watch.c - extra descriptors in the connection's loop (DOPY's
 * reactors): a server may watch a pipe, a timerfd or a socket of its own
 * and act between calls, calling its client back if it likes.
 *
 * Watchers run only from the connection's own loop, never inside a
 * callback wait, so they do not nest; one added by a watcher (or by a
 * method) is appended and polled from the next round on.  The threaded
 * listener (-s) serves many connections in one process: there watchers
 * do not run, so adding one is refused rather than left to leak.  When
 * the server is freed (the end of a connection's process), each watcher
 * still there is called once with no events, to release what it holds.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <syslog.h>

#include "server/server.h"

#define POLL_STACK	8	/* pollfds without malloc */

static void
free_watches(void *p)
{
	dopy_server *s = p;
	size_t i;

	for (i = 0; i < s->nwatches; i++)
		s->watches[i].fn(s, s->watches[i].fd, 0, s->watches[i].arg);
	free(s->watches);
	s->watches = NULL;
	s->nwatches = 0;
}

int
dopy_server_watch_fd(dopy_server *s, int fd, short events, dopy_fd_fn fn,
    void *arg)
{
	struct dopy_watch *w;

	if (s == NULL || fd < 0 || events == 0 || fn == NULL)
		return DOPY_E_INVAL;
	if (s->locking)
		return dopy_server_fail(s, "fd watchers do not run in "
		    "single-process mode (-s)");
	/* The array goes with the server; free_watches may run twice. */
	if (s->watches == NULL && dopy_server_own(s, s, free_watches) < 0)
		return DOPY_E_NOMEM;
	if ((w = reallocarray(s->watches, s->nwatches + 1, sizeof(*w))) ==
	    NULL)
		return DOPY_E_NOMEM;
	s->watches = w;
	s->watches[s->nwatches++] = (struct dopy_watch){ fd, events, fn, arg };
	return 0;
}

/* Drop the watchers marked with fd -1, keeping the others in order. */
static void
compact(dopy_server *s)
{
	size_t i, j;

	for (i = j = 0; i < s->nwatches; i++)
		if (s->watches[i].fd >= 0)
			s->watches[j++] = s->watches[i];
	s->nwatches = j;
}

/* Run the watchers whose fds are ready; pfd[i] is watches[i]. */
static void
run(dopy_server *s, const struct pollfd *pfd, size_t n)
{
	struct dopy_watch w;
	size_t i;

	for (i = 0; i < n; i++) {
		if (pfd[i].revents == 0)
			continue;
		w = s->watches[i];	/* fn may append: the array moves */
		if (pfd[i].revents & POLLNVAL) {
			dopy_log(&s->log, LOG_WARNING, "watched fd %d is not "
			    "open; no longer watched", w.fd);
			s->watches[i].fd = -1;
		} else if (w.fn(s, w.fd, pfd[i].revents, w.arg) < 0)
			s->watches[i].fd = -1;
	}
	compact(s);
}

int
dopy_watch_poll(dopy_server *s, int in, int ms, int watchers)
{
	struct pollfd stack[POLL_STACK], *pfd = stack;
	size_t n = watchers ? s->nwatches : 0, i;
	int r;

	if (n + 1 > POLL_STACK &&
	    (pfd = calloc(n + 1, sizeof(*pfd))) == NULL)
		return DOPY_E_NOMEM;
	pfd[0] = (struct pollfd){ in, POLLIN, 0 };
	for (i = 0; i < n; i++)
		pfd[i + 1] = (struct pollfd){ s->watches[i].fd,
		    s->watches[i].events, 0 };
	if ((r = poll(pfd, n + 1, ms)) < 0)
		r = errno == EINTR ? 0 : DOPY_E_SYS;
	else {
		if (r > 0 && n > 0)
			run(s, pfd + 1, n);
		r = pfd[0].revents != 0;
	}
	if (pfd != stack)
		free(pfd);
	return r;
}

dopy_server *
dopy_call_server(dopy_call *c)
{
	return c != NULL ? c->srv : NULL;
}
