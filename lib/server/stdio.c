/*
 * stdio.c - the stdout guard.
 *
 * DOPY's manual had to warn "do not write to standard output": under
 * rsh or inetd stdout is the connection, and one stray printf corrupts
 * it.  Here the protocol moves to private descriptors first; then fd 0
 * reads /dev/null, fd 1 goes to stderr when stderr is a separate channel
 * (so a method's output is still seen, as under ssh) or else to
 * /dev/null, and fd 2 is pointed away too when it is the connection
 * (inetd hands the socket on 0, 1 and 2; systemd may hand it on 0, 1
 * and 3).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/server.h"

static int
same_file(int a, int b)
{
	struct stat sa, sb;

	if (fstat(a, &sa) != 0 || fstat(b, &sb) != 0)
		return 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int
is_channel(int fd, int in, int out)
{
	return same_file(fd, in) || same_file(fd, out);
}

/* With the connection on private in/out, point fds 0-2 away from it. */
int
dopy_stdio_away(dopy_server *s, int in, int out)
{
	int null, stderr_ok, r = 0;

	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		return DOPY_E_SYS;
	stderr_ok = fcntl(STDERR_FILENO, F_GETFD) >= 0 &&
	    !is_channel(STDERR_FILENO, in, out);
	/* A log "to stderr" must not be the connection either. */
	if (s->log.fd >= 0 && is_channel(s->log.fd, in, out))
		dopy_log_open(&s->log, DOPY_LOG_SYSLOG, NULL);
	if (dup2(null, STDIN_FILENO) < 0 ||
	    dup2(stderr_ok ? STDERR_FILENO : null, STDOUT_FILENO) < 0 ||
	    (!stderr_ok && dup2(null, STDERR_FILENO) < 0))
		r = DOPY_E_SYS;
	close(null);
	return r;
}

int
dopy_stdio_guard(dopy_server *s, int *in, int *out)
{
	if (fcntl(STDIN_FILENO, F_GETFD) < 0 ||
	    fcntl(STDOUT_FILENO, F_GETFD) < 0)
		return DOPY_E_INVAL;		/* no connection to serve */
	*in = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	*out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	if (*in < 0 || *out < 0 || dopy_stdio_away(s, *in, *out) < 0) {
		if (*in >= 0)
			close(*in);
		if (*out >= 0)
			close(*out);
		return DOPY_E_SYS;
	}
	return 0;
}
