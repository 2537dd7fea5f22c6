/*
 * tty.c - a server started by hand, on a terminal: frames will never
 * come from a keyboard, so rather than wait in silence it says what it
 * is and offers dopy-rsh's console on its own objects (DOPY's
 * MiniComLine was the server's own prompt).  With main.c, the only
 * code in libdopy that writes to the terminal.
 *
 * The server runs in a child over one end of a socketpair, through the
 * same stdio path as under inetd, so every option applies; dopy-rsh -i
 * fd:N runs in another child on the other end.  We wait for both: the
 * console first, then the server, which sees EOF when the console ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tools/tools.h"

/* dir/name if it is an executable file; 0 or -1. */
static int
try_path(char *buf, size_t len, const char *dir, size_t dlen)
{
	if ((size_t)snprintf(buf, len, "%.*s/dopy-rsh", (int)dlen, dir) >= len)
		return -1;
	return access(buf, X_OK);
}

/* dopy-rsh next to the running program. */
static int
beside_us(char *buf, size_t len)
{
	char self[PATH_MAX], *slash;
	ssize_t n;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) < 0)
		return -1;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) == NULL)
		return -1;
	return try_path(buf, len, self, slash - self);
}

static int
in_path(char *buf, size_t len)
{
	const char *p = getenv("PATH"), *end;

	for (; p != NULL && *p != '\0'; p = *end != '\0' ? end + 1 : end) {
		end = p + strcspn(p, ":");
		if (end > p && try_path(buf, len, p, end - p) == 0)
			return 0;
	}
	return -1;
}

/* $DOPY_RSH, else beside us, else in PATH; 0 or -1. */
static int
find_rsh(char *buf, size_t len)
{
	const char *env = getenv("DOPY_RSH");

	if (env != NULL) {
		if (strlcpy(buf, env, len) >= len)
			return -1;
		return access(buf, X_OK);
	}
	if (beside_us(buf, len) == 0)
		return 0;
	return in_path(buf, len);
}

/* The console child: dopy-rsh -i on descriptor fd. */
static void __attribute__((noreturn))
exec_console(const char *rsh, const char *prog, int fd)
{
	char target[32], prompt[300];

	snprintf(target, sizeof(target), "fd:%d", fd);
	snprintf(prompt, sizeof(prompt), "--prompt=%s", prog);
	fcntl(fd, F_SETFD, 0);		/* the one descriptor it inherits */
	signal(SIGINT, SIG_DFL);
	execl(rsh, "dopy-rsh", "-i", prompt, target, (char *)NULL);
	fprintf(stderr, "%s: %s: %s\n", prog, rsh, strerror(errno));
	_exit(2);
}

/* The exit status of pid, as a shell would give it. */
static int
reap(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

/* The parent: start the console, wait for it, then for the server.
 * Ctrl-C is the console's, to abandon a call, not ours. */
static int
run_console(const char *rsh, const char *prog, int sv[2], pid_t server)
{
	pid_t console;
	int st;

	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	close(sv[1]);
	if ((console = fork()) == 0)
		exec_console(rsh, prog, sv[0]);
	close(sv[0]);
	st = console < 0 ? 1 : reap(console);
	reap(server);
	return st;
}

int
dopy_tty_console(const char *prog)
{
	char rsh[PATH_MAX];
	pid_t server;
	int sv[2];

	fprintf(stderr, "%s: a dopy server: it speaks the dopy protocol on "
	    "stdin and stdout,\n%s: to be run by inetd, ssh or dopy-rsh "
	    "(dopyd(8)).\n", prog, prog);
	if (find_rsh(rsh, sizeof(rsh)) < 0) {
		fprintf(stderr, "%s: no dopy-rsh (set DOPY_RSH) for a console "
		    "on this terminal; try: dopy-rsh -i %s\n", prog, prog);
		return 2;
	}
	fprintf(stderr, "%s: stdin is a terminal: a console on its objects "
	    "(dopy-rsh(1); Ctrl-D ends it).\n", prog);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    (server = fork()) < 0) {
		fprintf(stderr, "%s: %s\n", prog, strerror(errno));
		return 1;
	}
	if (server > 0)
		return run_console(rsh, prog, sv, server);
	/* The server: the socket as stdin and stdout, the terminal's
	 * Ctrl-C left to the console. */
	signal(SIGINT, SIG_IGN);
	close(sv[0]);
	if (dup2(sv[1], STDIN_FILENO) < 0 || dup2(sv[1], STDOUT_FILENO) < 0)
		_exit(1);
	close(sv[1]);
	return -1;
}
