/*
 * bench_pos.c - persistent updates against write+fsync+rename.
 */
#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

/* ---- persistence ---- */

/* The physical limit of a persistent update: write a temporary file,
 * fsync it, rename it over the name, fsync the directory. */
static double
raw_atomic_writes(const char *dir, int n)
{
	char tmp[4200], dst[4200], buf[40] = { 0 };
	double t = now();
	int fd, dfd;

	snprintf(tmp, sizeof(tmp), "%s/.raw.tmp", dir);
	snprintf(dst, sizeof(dst), "%s/raw", dir);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY)) < 0)
		err(1, "%s", dir);
	for (int i = 0; i < n; i++) {
		if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
			err(1, "%s", tmp);
		writefull(fd, buf, sizeof(buf));
		fsync(fd);
		close(fd);
		if (rename(tmp, dst) != 0)
			err(1, "rename");
		fsync(dfd);
	}
	close(dfd);
	return (now() - t) / n;
}

/* n incr calls on pos/c from each of k client processes, each with its
 * own connection (and so its own server process); seconds per call. */
static double
pos_incr(const char *cmd, int k, int n)
{
	double t = now();
	pid_t pids[8];

	for (int j = 0; j < k; j++) {
		if ((pids[j] = fork()) != 0)
			continue;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dopy_conn *c;
		dopy_proxy *p;
		dopy_value *res;
		if (dopy_conn_spawn(cmd, &c, NULL) != 0)
			_exit(1);
		p = dopy_proxy_new(c, "pos/c");
		for (int i = 0; i < n; i++) {
			if (dopy_proxy_call(p, "incr", NULL, &res, NULL) != 0)
				_exit(1);
			dopy_value_free(res);
		}
		dopy_proxy_free(p);
		dopy_conn_close(c);
		_exit(0);
	}
	for (int j = 0; j < k; j++)
		waitpid(pids[j], NULL, 0);
	return (now() - t) / (k * n);
}

void
bench_pos(const char *dopyd, const char *self)
{
	double raw[REPS], one[REPS], eight[REPS], r, d1, d8;
	char dir[] = "/tmp/dopy-bench.XXXXXX", cmd[8400], rm[8400];
	dopy_conn *c;
	dopy_proxy *p;
	dopy_args *a;
	dopy_value *res;
	int n = 100;

	(void)self;
	if (mkdtemp(dir) == NULL)
		err(1, "mkdtemp");
	snprintf(cmd, sizeof(cmd), "exec %s -P %s/pos 2>/dev/null", dopyd,
	    dir);
	if (dopy_conn_spawn(cmd, &c, NULL) != 0)
		errx(1, "cannot start %s", cmd);
	p = dopy_proxy_new(c, "pos");
	a = dopy_args_new();
	dopy_args_string(a, NULL, "c");
	dopy_args_string(a, NULL, "counter");
	if (dopy_proxy_call(p, "create", a, &res, NULL) != 0)
		errx(1, "pos.create failed");
	dopy_args_free(a);
	dopy_proxy_free(p);
	dopy_conn_close(c);
	for (int i = 0; i < REPS; i++) {
		raw[i] = raw_atomic_writes(dir, n);
		one[i] = pos_incr(cmd, 1, n);
		eight[i] = pos_incr(cmd, 8, n / 4);
	}
	r = median(raw, REPS);
	d1 = median(one, REPS);
	d8 = median(eight, REPS);
	printf("bench: # persistent counter.incr: raw temp+fsync+rename+fsync "
	    "%.0f us; dopy 1 client %.0f us/call, 8 clients %.0f us/call\n",
	    r * 1e6, d1 * 1e6, d8 * 1e6);
	report("pos_incr_1client", 1 / d1, "calls/s", r / d1, ">=", 0.5);
	report("pos_incr_8clients", 1 / d8, "calls/s", r / d8, ">=", 0.5);
	snprintf(rm, sizeof(rm), "rm -rf %s", dir);
	if (system(rm) != 0)
		warnx("could not remove %s", dir);
}

/* The trivial C echo the exec baseline runs: 32 bytes back. */
