/*
 * bench_tcp.c - a 1 MiB echo over TCP loopback with the client and the
 * server on different CPUs: a raw echo written for speed, dopy through
 * dopyd -l, and ONC RPC's echo, taking turns.
 *
 * Across CPUs a large echo is a pipeline: the receiver copies out of
 * the socket while the sender is still copying in, so what counts is
 * how early each side starts and how few times it stops (a full send
 * buffer, a wake-up per chunk).  Issue 18 asks that dopy take no longer
 * than the fastest peer measured beside it.
 */
#include <err.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define ECHO_LEN	(1u << 20)
#define ECHO_N		50
#define RAW_SOCKBUF	(4 << 20)	/* the whole message fits, both ways */

/* Buffers that hold a whole message: one write and one read at most
 * wait for the peer, never for room. */
static void
raw_sockopts(int fd)
{
	int one = 1, sz = RAW_SOCKBUF;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
}

/* The raw echo: the peer on server_cpu reads each req-byte message
 * whole and writes rep bytes back from a buffer already touched. */
static double
raw_tcp_2cpu(size_t req, size_t rep, int n)
{
	char *buf = malloc(req > rep ? req : rep);
	int lfd, port, fd;
	pid_t pid;
	double t;

	if (buf == NULL)
		err(1, "malloc");
	memset(buf, 0, req > rep ? req : rep);
	lfd = tcp_listener(&port);
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pin_to(server_cpu);
		fd = accept(lfd, NULL, NULL);
		raw_sockopts(fd);
		for (int i = 0; i <= n; i++) {
			readfull(fd, buf, req);
			writefull(fd, buf, rep);
		}
		_exit(0);
	}
	close(lfd);
	fd = tcp_connect(port);
	raw_sockopts(fd);
	writefull(fd, buf, req);		/* warm up: it has started */
	readfull(fd, buf, rep);
	t = now();
	for (int i = 0; i < n; i++) {
		writefull(fd, buf, req);
		readfull(fd, buf, rep);
	}
	t = now() - t;
	close(fd);
	waitpid(pid, NULL, 0);
	free(buf);
	return t / n;
}

/* dopyd -l on server_cpu: its children, forked per connection, stay
 * there. */
static pid_t
listener_on_server_cpu(const char *dopyd, int *port)
{
	pid_t pid;

	pin_to(server_cpu);
	pid = start_listener(dopyd, "", port);
	pin_to(bench_cpu);
	return pid;
}

void
bench_echo_1mib_tcp(const char *dopyd, const char *self)
{
	double raw[REPS], dp[REPS], rpc[REPS], r, d, o;
	char *data = calloc(1, ECHO_LEN), target[64];
	struct rpc_peer *rp;
	dopy_conn *c;
	dopy_proxy *p;
	dopy_error *e = NULL;
	int port;
	pid_t pid;

	(void)self;
	if (data == NULL)
		err(1, "calloc");
	pid = listener_on_server_cpu(dopyd, &port);
	snprintf(target, sizeof(target), "tcp://127.0.0.1:%d", port);
	if (dopy_connect(target, &c, &e) != 0)
		errx(1, "%s", dopy_error_message(e));
	p = dopy_proxy_new(c, "test");
	rp = rpc_start(server_cpu);
	dopy_echo(p, data, ECHO_LEN, 1);	/* warm up */
	rpc_echo(rp, data, ECHO_LEN, 1);
	for (int i = 0; i < REPS; i++) {
		/* The same bytes on the wire as dopy's call and reply. */
		raw[i] = raw_tcp_2cpu(ECHO_LEN + 100, ECHO_LEN + 40, ECHO_N);
		dp[i] = dopy_echo(p, data, ECHO_LEN, ECHO_N);
		rpc[i] = rpc_echo(rp, data, ECHO_LEN, ECHO_N);
	}
	rpc_stop(rp);
	dopy_proxy_free(p);
	dopy_conn_close(c);
	stop(pid);
	free(data);
	r = median(raw, REPS);
	d = median(dp, REPS);
	o = median(rpc, REPS);
	printf("bench: # 1 MiB echo over TCP, client on CPU %d, server on CPU "
	    "%d: raw %.0f us, dopy %.0f us, ONC RPC %.0f us (medians of %d x "
	    "%d)\n", bench_cpu, server_cpu, r * 1e6, d * 1e6, o * 1e6, REPS,
	    ECHO_N);
	printf("bench: # acceptance (issue 18): 1 MiB echo over TCP across "
	    "CPUs: <= fastest peer's time; dopy/ONC RPC %.2f\n", d / o);
	report("echo_1mib_tcp_2cpu", d * 1e6, "us", d / r, "<=", 1.3);
	report("rpc_echo_1mib_tcp_2cpu", o * 1e6, "us", d / o, "<=", 1);
}
