/*
 * bench_rpc.c - ONC RPC (libtirpc, stubs from rpcgen) as a peer: the
 * add and echo of bench_rpc.x over TCP loopback, beside dopy's test.add
 * and test.echo.
 *
 * As dopyd -l does, the server is a process forked for the one
 * connection it serves; no portmapper: the client connects to the port
 * the server's socket was bound to.  Both ends get TCP_NODELAY, as the
 * raw baselines and dopy do, so Nagle does not hold back a record's
 * last fragment.  The record buffers are libtirpc's defaults (64 KiB
 * over TCP), as a program using the generated stubs would have them.
 */
#include <err.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "bench_rpc.h"

#define RPC_TCP_RECORD	(64 * 1024)	/* libtirpc's TCP default and cap */

struct rpc_peer {
	CLIENT	*cl;
	pid_t	 pid;
};

/* rpcgen -m writes the dispatcher but declares it nowhere. */
void	dopybench_prog_1(struct svc_req *, SVCXPRT *);

/* The server's procedures: results the dispatcher sends, then frees
 * (the echo's reply is its argument, freed after the reply is sent). */
int *
add_1_svc(rpc_pair *a, struct svc_req *rq)
{
	static int sum;

	(void)rq;
	sum = a->a + a->b;
	return &sum;
}

rpc_blob *
echo_1_svc(rpc_blob *b, struct svc_req *rq)
{
	(void)rq;
	return b;
}

/* The forked server: serve the first connection on lfd until killed. */
static void
rpc_serve(int lfd, int cpu)
{
	SVCXPRT *x;
	int fd, one = 1;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	pin_to(cpu);
	if ((fd = accept(lfd, NULL, NULL)) < 0)
		_exit(1);
	close(lfd);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* The record sizes a generated server's connections get (svc_vc
	 * asks __rpc_get_t_size: 64 KiB over TCP); svc_fd_create's 0 would
	 * mean xdrrec's 4000-byte fragments, 262 writes per MiB.  Protocol
	 * 0: not registered with rpcbind. */
	if ((x = svc_fd_create(fd, RPC_TCP_RECORD, RPC_TCP_RECORD)) == NULL ||
	    !svc_register(x, DOPYBENCH_PROG, DOPYBENCH_VERS,
	    dopybench_prog_1, 0))
		_exit(1);
	svc_run();
	_exit(0);
}

struct rpc_peer *
rpc_start(int cpu)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct rpc_peer *rp;
	int lfd, port, fd;

	if ((rp = calloc(1, sizeof(*rp))) == NULL)
		err(1, "calloc");
	lfd = tcp_listener(&port);
	if ((rp->pid = fork()) == 0)
		rpc_serve(lfd, cpu);
	close(lfd);
	fd = tcp_connect(port);			/* TCP_NODELAY */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);		/* a port: no portmapper */
	if ((rp->cl = clnttcp_create(&sin, DOPYBENCH_PROG, DOPYBENCH_VERS,
	    &fd, 0, 0)) == NULL)
		errx(1, "%s", clnt_spcreateerror("clnttcp_create"));
	return rp;
}

void
rpc_stop(struct rpc_peer *rp)
{
	clnt_destroy(rp->cl);			/* closes the socket */
	stop(rp->pid);
	free(rp);
}

/* add(i, 3) n times; the time of one. */
double
rpc_add(struct rpc_peer *rp, int n)
{
	rpc_pair a;
	int *sum;
	double t = now();

	for (int i = 0; i < n; i++) {
		a.a = i;
		a.b = 3;
		if ((sum = add_1(&a, rp->cl)) == NULL || *sum != i + 3)
			errx(1, "%s", clnt_sperror(rp->cl, "add_1"));
	}
	return (now() - t) / n;
}

/* echo of len bytes n times, the reply freed as the stubs' users do. */
double
rpc_echo(struct rpc_peer *rp, const void *data, size_t len, int n)
{
	rpc_blob in = { (u_int)len, (char *)data }, *out;
	double t = now();

	for (int i = 0; i < n; i++) {
		if ((out = echo_1(&in, rp->cl)) == NULL ||
		    out->rpc_blob_len != len)
			errx(1, "%s", clnt_sperror(rp->cl, "echo_1"));
		xdr_free((xdrproc_t)xdr_rpc_blob, (char *)out);
	}
	return (now() - t) / n;
}

/* A small call over TCP loopback: ONC RPC's add beside dopy's test.add
 * through dopyd -l, all on one CPU as small_call_tcp is, and the raw
 * ping-pong for scale. */
void
bench_rpc_small_call_tcp(const char *dopyd, const char *self)
{
	double raw[REPS], dp[REPS], rpc[REPS], r, d, o;
	char target[64];
	struct rpc_peer *rp;
	dopy_conn *c;
	dopy_proxy *p;
	dopy_error *e = NULL;
	size_t req, rep;
	int n = 10000, port;
	pid_t pid;

	(void)self;
	add_sizes(&req, &rep);
	pid = start_listener(dopyd, "", &port);
	snprintf(target, sizeof(target), "tcp://127.0.0.1:%d", port);
	if (dopy_connect(target, &c, &e) != 0)
		errx(1, "%s", dopy_error_message(e));
	p = dopy_proxy_new(c, "test");
	rp = rpc_start(bench_cpu);
	dopy_add(p, 1000);			/* warm up */
	rpc_add(rp, 1000);
	for (int i = 0; i < REPS; i++) {
		raw[i] = raw_tcp(req, rep, n);
		dp[i] = dopy_add(p, n);
		rpc[i] = rpc_add(rp, n);
	}
	rpc_stop(rp);
	dopy_proxy_free(p);
	dopy_conn_close(c);
	stop(pid);
	r = median(raw, REPS);
	d = median(dp, REPS);
	o = median(rpc, REPS);
	printf("bench: # small call over TCP loopback, one CPU: raw %.2f us, "
	    "dopy %.2f us, ONC RPC %.2f us (medians of %d x %d)\n",
	    r * 1e6, d * 1e6, o * 1e6, REPS, n);
	report("rpc_small_call_tcp", o * 1e6, "us", d / o, "<=", 1);
}
