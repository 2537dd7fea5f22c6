/*
 * bench.h - what the sections of make bench share: timing and medians,
 * the report line, whole reads and writes, CPU pinning, the test.add
 * call, loopback TCP and dopyd's listener.
 */
#ifndef DOPY_BENCH_H
#define DOPY_BENCH_H

#include <stddef.h>
#include <sys/types.h>

#include "internal.h"

#define REPS	7		/* repetitions of each figure; medians */

/* The CPU everything runs on, and another for the pipelined server and
 * the cross-CPU figures (the same when there is no other). */
extern int bench_cpu, server_cpu;

double	now(void);
double	median(double *, int);
void	report(const char *, double, const char *, double, const char *,
	    double);
void	readfull(int, void *, size_t);
void	writefull(int, const void *, size_t);
void	pin_to(int);
void	pin_here(void);

/* test.add(i, 3), the small call of every figure */
dopy_args *add_args(int);
void	add_answered(int, dopy_value *, int);
double	dopy_add(dopy_proxy *, int);
void	add_sizes(size_t *, size_t *);
double	raw_pipe(const char *, size_t, size_t, int);
double	dopy_echo(dopy_proxy *, const void *, size_t, int);
int	pipe_echo(char *[]);

/* loopback TCP and dopyd -l */
int	tcp_listener(int *);
int	tcp_connect(int);
double	raw_tcp(size_t, size_t, int);
pid_t	start_listener_at(const char *, const char *, const char *, char *,
	    size_t);
pid_t	start_listener(const char *, const char *, int *);
void	stop(pid_t);
dopy_conn *small_call_conn(const char *, size_t *, size_t *);

/* ONC RPC's add and echo (bench_rpc.c): a forked server on cpu serving
 * one TCP connection, and a client of it */
struct rpc_peer;
struct rpc_peer *rpc_start(int);
double	rpc_add(struct rpc_peer *, int);
double	rpc_echo(struct rpc_peer *, const void *, size_t, int);
void	rpc_stop(struct rpc_peer *);

/* the sections, in bench.c's table: (dopyd, this program) */
void	bench_small_call_pipe(const char *, const char *);
void	bench_stub_small_call_pipe(const char *, const char *);
void	bench_pipelined(const char *, const char *);
void	bench_echo_1mib(const char *, const char *);
void	bench_echo_64mib(const char *, const char *);
void	bench_rss(const char *, const char *);
void	bench_rsh(const char *, const char *);
void	bench_small_call_tcp(const char *, const char *);
void	bench_small_call_unix(const char *, const char *);
void	bench_rpc_small_call_tcp(const char *, const char *);
void	bench_echo_1mib_tcp(const char *, const char *);
void	bench_conn_rate(const char *, const char *);
void	bench_pos(const char *, const char *);
void	bench_stream_pipe(const char *, const char *);
void	bench_upload_pipe(const char *, const char *);
void	bench_events(const char *, const char *);

#endif
