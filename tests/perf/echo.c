/*
 * echo.c - the smallest C server, the baseline of conn_rate_exec: read
 * 32 bytes from stdin, write them to stdout.  A program of its own,
 * linked with libc alone, so that exec'ing it costs what exec'ing the
 * smallest dynamically linked C program costs (the bench itself links
 * libdopy, tpl, libsodium, libseccomp and libbsd).
 */
#include <unistd.h>

int
main(void)
{
	char buf[32];
	size_t done;
	ssize_t r;

	for (done = 0; done < sizeof(buf); done += (size_t)r)
		if ((r = read(STDIN_FILENO, buf + done,
		    sizeof(buf) - done)) <= 0)
			return 1;
	return write(STDOUT_FILENO, buf, sizeof(buf)) == sizeof(buf) ? 0 : 1;
}
