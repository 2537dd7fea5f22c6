/*
 * testobj_sandbox.c - the `sandbox` object: methods that do what the
 * sandboxes forbid (dopy_server_set_sandbox; dopyd -S and -M), so the
 * tests can see each limit and profile stop them.  None is sandboxed
 * by default.  A failure a method sees as an errno is raised as
 * sandbox.Failed with its strerror; what the sandbox turns into a
 * signal ends the process.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testobj.h"

#define MAX_MIB		4096
#define MAX_BYTES	(64 << 20)
#define MAX_SPIN_MS	60000

static int
failed(dopy_call *c, const char *what, const char *arg)
{
	return dopy_raise(c, "sandbox.Failed", "%s%s%s: %s", what,
	    *arg != '\0' ? " " : "", arg, strerror(errno));
}

static int
sbx_read(dopy_call *c)
{
	const char *path = dopy_call_string(c, 0);
	char buf[4096];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return failed(c, "open", path);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		return failed(c, "read", path);
	return dopy_return_int(c, (int64_t)n);
}

static int
sbx_write(dopy_call *c)
{
	const char *path = dopy_call_string(c, 0);
	int64_t n = dopy_call_int(c, 1), done = 0;
	char buf[4096];
	ssize_t w;
	int fd;

	if (n < 0 || n > MAX_BYTES)
		return dopy_raise(c, "sandbox.BadArgument", "want 0 <= n <= %d",
		    MAX_BYTES);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) < 0)
		return failed(c, "open", path);
	memset(buf, 'x', sizeof(buf));
	while (done < n) {
		w = write(fd, buf, n - done < (int64_t)sizeof(buf) ?
		    (size_t)(n - done) : sizeof(buf));
		if (w < 0) {
			close(fd);
			return failed(c, "write", path);
		}
		done += w;
	}
	close(fd);
	return dopy_return_int(c, done);
}

static int64_t
cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
sbx_spin(dopy_call *c)
{
	int64_t ms = dopy_call_int(c, 0), end;
	volatile uint64_t x = 0;

	if (ms < 0 || ms > MAX_SPIN_MS)
		return dopy_raise(c, "sandbox.BadArgument", "want 0 <= ms <= %d",
		    MAX_SPIN_MS);
	for (end = cpu_ms() + ms; cpu_ms() < end; )
		x++;
	return dopy_return_int(c, ms);
}

static int
sbx_alloc(dopy_call *c)
{
	int64_t mib = dopy_call_int(c, 0);
	size_t size;
	char *p;

	if (mib < 0 || mib > MAX_MIB)
		return dopy_raise(c, "sandbox.BadArgument", "want 0 <= mib <= "
		    "%d", MAX_MIB);
	size = (size_t)mib << 20;
	if ((p = malloc(size)) == NULL)
		return dopy_call_raise_nomem(c, size);
	memset(p, 1, size);	/* touched: the pages are really there */
	free(p);
	return dopy_return_int(c, mib);
}

static int
sbx_fork(dopy_call *c)
{
	pid_t pid;
	int st;

	if ((pid = fork()) < 0)
		return failed(c, "fork", "");
	if (pid == 0)
		_exit(7);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return failed(c, "waitpid", "");
	return dopy_return_int(c, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static int
sbx_connect(dopy_call *c)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int64_t port = dopy_call_int(c, 0);
	int fd, r;

	if (port < 1 || port > 65535)
		return dopy_raise(c, "sandbox.BadArgument", "want a port");
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return failed(c, "socket", "");
	r = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	close(fd);
	if (r < 0)
		return failed(c, "connect", "127.0.0.1");
	return dopy_return_int(c, port);
}

static int
sbx_pid(dopy_call *c)
{
	return dopy_return_int(c, (int64_t)getpid());
}

static const struct dopy_method sbx_methods[] = {
	{ "read", sbx_read, "path:string", "int",
	    "Open path for reading; the bytes read (at most 4096)." },
	{ "write", sbx_write, "path:string, n:int=1", "int",
	    "Create or truncate path and write n bytes; returns n." },
	{ "spin", sbx_spin, "ms:int", "int",
	    "Burn ms milliseconds of CPU time; returns ms." },
	{ "alloc", sbx_alloc, "mib:int", "int",
	    "Allocate mib MiB and touch every byte; returns mib." },
	{ "fork", sbx_fork, "", "int",
	    "Fork a child that exits 7 and wait for it; its status." },
	{ "connect", sbx_connect, "port:int", "int",
	    "Connect to 127.0.0.1:port over TCP; returns port." },
	{ "pid", sbx_pid, "", "int",
	    "The process that runs the call." },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_object_def sbx_object = {
	"sandbox", "Methods that sandboxes forbid (issue 16 tests).",
	sbx_methods, NULL, NULL
};

int
testobj_sandbox_add(dopy_server *s)
{
	return dopy_server_add(s, &sbx_object, NULL);
}
