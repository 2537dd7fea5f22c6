/*
 * testutil.h - helpers shared by the unit tests (tests/test_*.c).
 *
 * Criterion re-executes the test binary for every test, in parallel, and
 * runs no .fini after a crash or a timeout.  So every child forked here
 * dies with its parent (PR_SET_PDEATHSIG), checks that it was not already
 * orphaned, arms an alarm of its own, and is reaped by pid within a
 * deadline (killed after it).  Children report by exit status: criterion
 * assertions belong to the parent.
 */
#ifndef DOPY_TESTUTIL_H
#define DOPY_TESTUTIL_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

#define TU_WAIT_MS	10000	/* how long a child may take by default */
#define TU_CHILD_ALARM	20	/* seconds a child lives at most */

/* What a child runs on its end of the socketpair; returns the exit
 * status. */
typedef int (*tu_child_fn)(void *arg, int fd);

/* Make a freshly forked child safe: it dies with the parent. */
static inline void
tu_child_setup(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(126);
	alarm(TU_CHILD_ALARM);
}

/* Fork a child running fn(arg, fd) on one end of a UNIX socketpair;
 * *fd gets the other end.  Returns the child's pid or -1. */
static inline pid_t
tu_fork(tu_child_fn fn, void *arg, int *fd)
{
	pid_t parent = getpid(), pid;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		tu_child_setup(parent);
		close(sv[0]);
		_exit(fn(arg, sv[1]));
	}
	close(sv[1]);
	*fd = sv[0];
	return pid;
}

/* Reap pid within ms; after that kill it, reap it, and return -1.
 * Otherwise the wait status. */
static inline int
tu_wait(pid_t pid, int ms)
{
	int status;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -1;
		if (ms <= 0) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			return -1;
		}
		poll(NULL, 0, 5);
		ms -= 5;
	}
}

/* The exit code of a child that exited, or -1 (signal, timeout). */
static inline int
tu_exit_code(int status)
{
	if (status == -1 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* A server whose log goes nowhere (no syslog from the tests). */
static inline dopy_server *
tu_server(void)
{
	dopy_server *s;

	if ((s = dopy_server_new()) == NULL)
		return NULL;
	if (dopy_server_set_log(s, DOPY_LOG_FILE, "/dev/null", 0) < 0) {
		dopy_server_free(s);
		return NULL;
	}
	return s;
}

/* The child side of tu_serve: serve one connection on fd. */
static inline int
tu_serve_child(void *arg, int fd)
{
	int r = dopy_server_serve((dopy_server *)arg, fd, fd);

	return r == 0 ? 0 : 1;
}

/* Fork a child serving s on a socketpair: 0 when it ended cleanly. */
static inline pid_t
tu_serve(dopy_server *s, int *fd)
{
	return tu_fork(tu_serve_child, s, fd);
}

/* Read until EOF or until cap bytes, waiting at most ms; returns the
 * count or -1. */
static inline ssize_t
tu_read_all(int fd, void *buf, size_t cap, int ms)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	size_t got = 0;
	ssize_t n;

	while (got < cap) {
		if (poll(&pfd, 1, ms) <= 0)
			return -1;
		n = read(fd, (char *)buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Write all n bytes. */
static inline int
tu_write_all(int fd, const void *p, size_t n)
{
	size_t done = 0;
	ssize_t w;

	while (done < n) {
		w = write(fd, (const char *)p + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		done += (size_t)w;
	}
	return 0;
}

/* A frame: header and payload in one buffer (malloc'd, *len set). */
static inline uint8_t *
tu_frame(uint8_t type, uint32_t id, const void *payload, size_t plen,
    size_t *len)
{
	uint8_t *f;

	if ((f = malloc(DOPY_HDR_LEN + plen + 1)) == NULL)
		return NULL;
	dopy_frame_encode(f, type, id, (uint32_t)plen);
	if (plen > 0)
		memcpy(f + DOPY_HDR_LEN, payload, plen);
	*len = DOPY_HDR_LEN + plen;
	return f;
}

#endif /* DOPY_TESTUTIL_H */
