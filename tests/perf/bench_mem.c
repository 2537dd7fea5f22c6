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

static long
rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = atol(line + 6);
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
	long kib;
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
	kib = rss_kib(pid);
	dopy_proxy_free(p);
	dopy_conn_close(c);
	printf("bench: # dopyd resident set after HELLO and 1000 calls: %ld "
	    "KiB (libc, libtpl, libsodium, libbsd mapped)\n", kib);
	/* A size, not a ratio: the ratio column is the size over the
	 * 1.2 MiB aimed at (a dynamically linked C echo keeps 0.9 to
	 * 1.1 MiB, most of it libc's text). */
	report("server_rss", kib / 1024.0, "MiB", kib / (1.2 * 1024), "<=",
	    1.0);
}
