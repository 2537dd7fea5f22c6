/*
 * bench_mem.c - the server's resident memory after HELLO and 1000 calls.
 */
#include <err.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

/* ---- memory ---- */

/* A line of /proc/PID/status in KiB ("VmRSS:"), or -1. */
static long
status_kib(pid_t pid, const char *name)
{
	char path[64], line[256];
	size_t n = strlen(name);
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, name, n) == 0)
			kib = atol(line + n);
	fclose(f);
	return kib;
}

void
bench_rss(const char *dopyd, const char *self)
{
	char cmd[4300], pidfile[] = "/tmp/dopy-bench-rss.XXXXXX";
	dopy_conn *c;
	dopy_proxy *p;
	dopy_error *e = NULL;
	pid_t pid;
	long kib, anon, file;
	FILE *f;
	int fd;

	(void)self;
	if ((fd = mkstemp(pidfile)) < 0)
		err(1, "mkstemp");
	close(fd);
	snprintf(cmd, sizeof(cmd), "echo $$ > %s; exec %s", pidfile, dopyd);
	if (dopy_conn_spawn(cmd, &c, &e) != 0)
		errx(1, "%s", dopy_error_message(e));
	p = dopy_proxy_new(c, "test");
	dopy_add(p, 1000);
	if ((f = fopen(pidfile, "r")) == NULL || fscanf(f, "%d", &fd) != 1)
		errx(1, "no pid in %s", pidfile);
	fclose(f);
	unlink(pidfile);
	pid = (pid_t)fd;
	kib = status_kib(pid, "VmRSS:");
	anon = status_kib(pid, "RssAnon:");
	file = status_kib(pid, "RssFile:");
	dopy_proxy_free(p);
	dopy_conn_close(c);
	/* The kernel counts the pages of the shared libraries' text that
	 * the process has mapped, 64 KiB around each page it ran
	 * (fault-around): most of the figure, shared with every process. */
	printf("bench: # dopyd resident set after HELLO and 1000 calls: %ld "
	    "KiB, %ld of its own memory and %ld of mapped files (libc, "
	    "libtpl, libsodium, libseccomp, libbsd, libmd, ld.so, dopyd)\n",
	    kib, anon, file);
	/* A size, not a ratio: the ratio column is the size over the
	 * 1.2 MiB aimed at (a dynamically linked C echo keeps 0.9 to
	 * 1.1 MiB, most of it libc's text). */
	report("server_rss", kib / 1024.0, "MiB", kib / (1.2 * 1024), "<=",
	    1.0);
}
