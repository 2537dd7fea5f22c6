/*
 * test_stdio.c - lib/server/stdio.c: the stdout guard.  Each test forks a child
 * whose fds 0 and 1 (and in some tests 2) are one end of a socketpair,
 * as under inetd; the child reports by exit status, the parent reads
 * what reached the other end.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "testutil.h"

enum mode {
	STDERR_APART,		/* fd 2 is a separate pipe (ssh) */
	STDERR_SOCKET,		/* fd 2 is the connection too (inetd) */
	STDERR_CLOSED,		/* fd 2 is not open */
	LOG_ON_SOCKET,		/* and the log was opened "to stderr" */
	SYSTEMD_FD3,		/* the connection on its own fd, 0-1 too */
};

struct job {
	enum mode	mode;
	int		errfd;	/* write end of the stderr pipe, or -1 */
};

static int
guard_child(void *arg, int fd)
{
	struct job *j = arg;
	dopy_server *s;
	char c;
	int in, out, r;

	if (dup2(fd, STDIN_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0)
		return 20;
	if (j->mode == STDERR_APART && dup2(j->errfd, STDERR_FILENO) < 0)
		return 21;
	if ((j->mode == STDERR_SOCKET || j->mode == LOG_ON_SOCKET ||
	    j->mode == SYSTEMD_FD3) && dup2(fd, STDERR_FILENO) < 0)
		return 22;
	if (j->mode == STDERR_CLOSED)
		close(STDERR_FILENO);
	if (j->errfd >= 0)
		close(j->errfd);
	if ((s = tu_server()) == NULL)
		return 23;
	if (j->mode == LOG_ON_SOCKET &&
	    dopy_server_set_log(s, DOPY_LOG_STDERR, NULL, 1) < 0)
		return 24;
	if (j->mode == SYSTEMD_FD3) {
		in = out = fd;
		if ((r = dopy_stdio_away(s, in, out)) < 0)
			return 25;
	} else {
		close(fd);
		if ((r = dopy_stdio_guard(s, &in, &out)) < 0)
			return 26;
		if (in < 3 || out < 3)
			return 27;
		if (!(fcntl(in, F_GETFD) & FD_CLOEXEC) ||
		    !(fcntl(out, F_GETFD) & FD_CLOEXEC))
			return 28;
	}
	/* A stray write to each standard descriptor... */
	printf("STRAY-PRINTF\n");
	fflush(stdout);
	if (write(STDOUT_FILENO, "STRAY-WRITE1\n", 13) < 0)
		return 29;
	if (j->mode != STDERR_CLOSED &&
	    write(STDERR_FILENO, "STRAY-WRITE2\n", 13) < 0)
		return 30;
	dopy_log(&s->log, LOG_ERR, "STRAY-LOG");
	/* ...stdin reads nothing... */
	if (read(STDIN_FILENO, &c, 1) != 0)
		return 31;
	if (j->mode == LOG_ON_SOCKET && s->log.sink != DOPY_LOG_SYSLOG)
		return 32;
	/* ...and only this reaches the peer. */
	if (tu_write_all(out, "WIRE", 4) < 0)
		return 33;
	close(in);
	if (out != in)
		close(out);
	dopy_server_free(s);
	return 0;
}

/* Run the child; what reached the socket and the stderr pipe. */
static void
run(enum mode mode, char *wire, size_t wlen, char *err, size_t elen)
{
	struct job j = { mode, -1 };
	int p[2] = { -1, -1 }, fd, st;
	ssize_t n;
	pid_t pid;

	if (mode == STDERR_APART) {
		cr_assert_eq(pipe(p), 0);
		j.errfd = p[1];
	}
	cr_assert_gt(pid = tu_fork(guard_child, &j, &fd), 0);
	if (p[1] >= 0)
		close(p[1]);
	n = tu_read_all(fd, wire, wlen - 1, TU_WAIT_MS);
	cr_assert_geq(n, 0, "reading the socket");
	wire[n] = '\0';
	err[0] = '\0';
	if (p[0] >= 0) {
		n = tu_read_all(p[0], err, elen - 1, TU_WAIT_MS);
		cr_assert_geq(n, 0);
		err[n] = '\0';
		close(p[0]);
	}
	st = tu_wait(pid, TU_WAIT_MS);
	close(fd);
	cr_assert_eq(tu_exit_code(st), 0, "child failed: status 0x%x", st);
}

Test(stdio, stdout_off_the_wire, .timeout = 15)
{
	char wire[256], err[256];

	run(STDERR_APART, wire, sizeof(wire), err, sizeof(err));
	cr_assert_str_eq(wire, "WIRE");
	/* With a separate stderr, a method's stdout is still seen there. */
	cr_assert(strstr(err, "STRAY-PRINTF") != NULL, "stderr: %s", err);
	cr_assert(strstr(err, "STRAY-WRITE1") != NULL, "stderr: %s", err);
	cr_assert(strstr(err, "STRAY-WRITE2") != NULL, "stderr: %s", err);
}

Test(stdio, stderr_on_the_socket_redirected, .timeout = 15)
{
	char wire[256], err[8];

	run(STDERR_SOCKET, wire, sizeof(wire), err, sizeof(err));
	cr_assert_str_eq(wire, "WIRE");
}

Test(stdio, stderr_closed, .timeout = 15)
{
	char wire[256], err[8];

	run(STDERR_CLOSED, wire, sizeof(wire), err, sizeof(err));
	cr_assert_str_eq(wire, "WIRE");
}

Test(stdio, log_on_the_socket_moves, .timeout = 15)
{
	char wire[256], err[8];

	run(LOG_ON_SOCKET, wire, sizeof(wire), err, sizeof(err));
	cr_assert_str_eq(wire, "WIRE");
}

Test(stdio, connection_on_another_fd, .timeout = 15)
{
	char wire[256], err[8];

	run(SYSTEMD_FD3, wire, sizeof(wire), err, sizeof(err));
	cr_assert_str_eq(wire, "WIRE");
}

static int
closed_stdin_child(void *arg, int fd)
{
	dopy_server *s = tu_server();
	int in = -5, out = -5;

	(void)arg;
	if (dup2(fd, STDOUT_FILENO) < 0)
		return 20;
	close(STDIN_FILENO);
	if (dopy_stdio_guard(s, &in, &out) != DOPY_E_INVAL)
		return 21;
	dopy_server_free(s);
	return 0;
}

Test(stdio, nothing_to_serve, .timeout = 15)
{
	pid_t pid;
	int fd;

	cr_assert_gt(pid = tu_fork(closed_stdin_child, NULL, &fd), 0);
	cr_assert_eq(tu_exit_code(tu_wait(pid, TU_WAIT_MS)), 0);
	close(fd);
}

/* The whole server behind the guard: a method that prints does not
 * corrupt the stream. */
static int
noisy(dopy_call *c)
{
	printf("noise from a method\n");
	fflush(stdout);
	fprintf(stderr, "more noise\n");
	return dopy_return_string(c, "quiet");
}

static const struct dopy_method noisy_methods[] = {
	{ "noisy", noisy, "", "string", NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_object_def noisy_def = {
	"n", NULL, noisy_methods, NULL, NULL
};

static int
inetd_child(void *arg, int fd)
{
	dopy_server *s = tu_server();
	int in, out, r;

	(void)arg;
	if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		return 20;
	close(fd);
	if (dopy_server_add(s, &noisy_def, NULL) < 0)
		return 21;
	if (dopy_stdio_guard(s, &in, &out) < 0)
		return 22;
	r = dopy_server_serve(s, in, out);
	dopy_server_free(s);
	return r == 0 ? 0 : 23;
}

Test(stdio, noisy_method_under_inetd, .timeout = 15)
{
	dopy_conn *c = NULL;
	dopy_error *e = NULL;
	dopy_value *r = NULL;
	dopy_proxy *p;
	pid_t pid;
	int fd, i;

	cr_assert_gt(pid = tu_fork(inetd_child, NULL, &fd), 0);
	cr_assert_eq(dopy_conn_fds(fd, fd, &c, &e), 0, "%s",
	    dopy_error_message(e));
	p = dopy_proxy_new(c, "n");
	for (i = 0; i < 3; i++) {
		cr_assert_eq(dopy_proxy_call(p, "noisy", NULL, &r, &e), 0,
		    "%s", dopy_error_message(e));
		cr_assert_str_eq(dopy_value_get_string(r), "quiet");
		dopy_value_free(r);
	}
	dopy_proxy_free(p);
	dopy_conn_close(c);
	cr_assert_eq(tu_exit_code(tu_wait(pid, TU_WAIT_MS)), 0);
}
