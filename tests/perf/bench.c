/*
 * bench.c - make bench: dopy against the raw limit, in the same run.
 *
 * Each figure alternates baseline and dopy repetitions so that a change
 * in machine load hits both alike, and reports medians:
 *	bench: NAME value=V unit=U ratio=R target=T ok|miss
 * It measures; it does not gate: the exit status is 0 unless a
 * measurement could not be made at all.
 */
#include <err.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

int bench_cpu, server_cpu;

double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double
median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void
report(const char *name, double value, const char *unit, double ratio,
    const char *op, double target)
{
	int ok = op[0] == '<' ? ratio <= target : ratio >= target;

	printf("bench: %s value=%.3f unit=%s ratio=%.3f target=%s%.2f %s\n",
	    name, value, unit, ratio, op, target, ok ? "ok" : "miss");
	fflush(stdout);
}

void
readfull(int fd, void *p, size_t n)
{
	ssize_t r;

	for (size_t done = 0; done < n; done += (size_t)r)
		if ((r = read(fd, (char *)p + done, n - done)) <= 0)
			_exit(1);
}

void
writefull(int fd, const void *p, size_t n)
{
	ssize_t r;

	for (size_t done = 0; done < n; done += (size_t)r)
		if ((r = write(fd, (const char *)p + done, n - done)) <= 0)
			_exit(1);
}

/*
 * Keep this process, and every process it starts, on the CPU it runs on.
 * A ping-pong is fastest when both ends share a CPU: a wake-up on the
 * other one costs 2 us on bare metal and 25-50 us on this project's VMs,
 * and where the kernel puts an exec'd peer varies from run to run and
 * from peer to peer (unpinned, a raw 1 MiB pipe echo took 2 ms while
 * dopy's took 0.35 ms, only because dopyd happened to share the CPU).
 * Pinned, every raw figure is the physical limit of one CPU and every
 * ratio is dopy's own cost.
 */

void
pin_to(int cpu)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one) != 0)
		warn("sched_setaffinity");
}

void
pin_here(void)
{
	cpu_set_t all;

	if ((bench_cpu = sched_getcpu()) < 0)
		bench_cpu = 0;
	CPU_ZERO(&all);
	sched_getaffinity(0, sizeof(all), &all);
	pin_to(bench_cpu);
	printf("bench: # all processes pinned to CPU %d, but for the "
	    "pipelined server and the cross-CPU echo's servers\n", bench_cpu);
	CPU_CLR(bench_cpu, &all);
	server_cpu = CPU_COUNT(&all) > 0 ? -1 : bench_cpu;
	for (int i = 0; server_cpu < 0 && i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &all))
			server_cpu = i;
}

/* The sections in the order make bench runs them; a name on the command
 * line (make bench ONLY="conn_rate echo_64mib") runs just those. */
static const struct section {
	const char	*name;
	void		(*run)(const char *dopyd, const char *self);
} sections[] = {
	{ "small_call_pipe",	bench_small_call_pipe },
	{ "stub_small_call_pipe", bench_stub_small_call_pipe },
	{ "pipelined",		bench_pipelined },
	{ "echo_1mib",		bench_echo_1mib },
	{ "echo_64mib",		bench_echo_64mib },
	{ "rss",		bench_rss },
	{ "rsh",		bench_rsh },
	{ "small_call_tcp",	bench_small_call_tcp },
	{ "small_call_unix",	bench_small_call_unix },
	{ "rpc_small_call_tcp",	bench_rpc_small_call_tcp },
	{ "echo_1mib_tcp",	bench_echo_1mib_tcp },
	{ "conn_rate",		bench_conn_rate },
	{ "pos",		bench_pos },
	{ "stream_pipe",	bench_stream_pipe },
	{ "upload_pipe",	bench_upload_pipe },
	{ "events",		bench_events },
};

static int
wanted(const char *name, int argc, char *argv[])
{
	if (argc <= 2)
		return 1;
	for (int i = 2; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

int
main(int argc, char *argv[])
{
	const char *bindir = argc > 1 ? argv[1] : "bin";
	char dopyd[4096], self[4096];
	ssize_t n;
	size_t i;

	if (argc == 5 && strcmp(argv[1], "pipe-echo") == 0)
		return pipe_echo(argv);
	for (i = 2; i < (size_t)argc; i++) {
		size_t k;
		for (k = 0; k < sizeof(sections) / sizeof(sections[0]); k++)
			if (strcmp(argv[i], sections[k].name) == 0)
				break;
		if (k == sizeof(sections) / sizeof(sections[0]))
			errx(2, "no section %s", argv[i]);
	}
	signal(SIGPIPE, SIG_IGN);
	pin_here();
	snprintf(dopyd, sizeof(dopyd), "%s/dopyd", bindir);
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) < 0)
		err(1, "readlink");
	self[n] = '\0';
	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		if (!wanted(sections[i].name, argc, argv))
			continue;
		sections[i].run(dopyd, self);
	}
	return 0;
}
