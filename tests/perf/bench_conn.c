/*
 * bench_conn.c - the shell client, small calls over TCP and UNIX sockets
 * through dopyd -l, and connection rates (forking listener, exec per
 * connection).
 */
#include <err.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

/* ---- the shell client ---- */

static double
run_n(char *const argv[], int n)
{
	double t = now();
	int status;
	pid_t pid;

	for (int i = 0; i < n; i++) {
		if ((pid = fork()) == 0) {
			int null = open("/dev/null", O_WRONLY);

			dup2(null, 1);
			execv(argv[0], argv);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			errx(1, "%s failed", argv[0]);
	}
	return (now() - t) / n;
}

void
bench_rsh(const char *dopyd, const char *self)
{
	char rsh[4096];
	char *rsh_argv[] = { rsh, (char *)dopyd, "test", "add", "1", "2",
	    NULL };
	char *true_argv[] = { "/bin/true", NULL };
	double raw[REPS], dp[REPS], r, d;
	int n = 30;

	(void)self;
	/* dopy-rsh lives beside dopyd */
	snprintf(rsh, sizeof(rsh), "%.*s/dopy-rsh",
	    (int)(strrchr(dopyd, '/') - dopyd), dopyd);
	run_n(rsh_argv, 2);			/* warm up */
	for (int i = 0; i < REPS; i++) {
		raw[i] = 3 * run_n(true_argv, n);
		dp[i] = run_n(rsh_argv, n);
	}
	r = median(raw, REPS);
	d = median(dp, REPS);
	printf("bench: # dopy-rsh DOPYD test add 1 2: %.0f us; 3 x fork+exec+"
	    "wait of /bin/true %.0f us\n", d * 1e6, r * 1e6);
	report("rsh_oneshot", d * 1e6, "us", d / r, "<=", 2);
}

/* ---- TCP ---- */

int
tcp_listener(int *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd, one = 1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(fd, 128) || getsockname(fd, (struct sockaddr *)&sin, &len))
		err(1, "listen");
	*port = ntohs(sin.sin_port);
	return fd;
}

int
tcp_connect(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd, one = 1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		err(1, "connect");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Raw TCP ping-pong over one connection, both ends TCP_NODELAY. */
double
raw_tcp(size_t req, size_t rep, int n)
{
	char buf[4096] = { 0 };
	int lfd, port, fd, one = 1;
	pid_t pid;
	double t;

	lfd = tcp_listener(&port);
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = accept(lfd, NULL, NULL);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		for (int i = 0; i < n; i++) {
			readfull(fd, buf, req);
			writefull(fd, buf, rep);
		}
		_exit(0);
	}
	close(lfd);
	fd = tcp_connect(port);
	t = now();
	for (int i = 0; i < n; i++) {
		writefull(fd, buf, req);
		readfull(fd, buf, rep);
	}
	t = now() - t;
	close(fd);
	waitpid(pid, NULL, 0);
	return t / n;
}

/* Start `dopyd -l ADDR -B [extra]` and read the port or path it
 * prints into line. */
pid_t
start_listener_at(const char *dopyd, const char *addr, const char *extra,
    char *line, size_t len)
{
	char cmd[4400];
	int p[2];
	pid_t pid;
	ssize_t n;

	snprintf(cmd, sizeof(cmd), "exec %s -l %s -B -c 1000 %s "
	    "2>/dev/null", dopyd, addr, extra);
	if (pipe(p))
		err(1, "pipe");
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(p[1], 1);
		close(p[0]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	if ((n = read(p[0], line, len - 1)) <= 0)
		errx(1, "%s printed no port", dopyd);
	line[n] = '\0';
	line[strcspn(line, "\n")] = '\0';
	close(p[0]);
	return pid;
}

pid_t
start_listener(const char *dopyd, const char *extra, int *port)
{
	char line[64];
	pid_t pid = start_listener_at(dopyd, "127.0.0.1:0", extra, line,
	    sizeof(line));

	*port = atoi(line);
	return pid;
}

void
stop(pid_t pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* A small call through dopyd's own listener at addr, against raw. */
static void
small_call_via_listener(const char *dopyd, const char *addr,
    const char *name, const char *what, double (*rawfn)(size_t, size_t,
    int), double target)
{
	double raw[REPS], dp[REPS], r, d;
	char bound[128], tgt[160];
	dopy_conn *c;
	dopy_proxy *p;
	dopy_error *e = NULL;
	size_t req, rep;
	int n = 10000;
	pid_t pid;

	add_sizes(&req, &rep);
	pid = start_listener_at(dopyd, addr, "", bound, sizeof(bound));
	if (strncmp(addr, "unix:", 5) == 0)
		snprintf(tgt, sizeof(tgt), "%s", addr);
	else
		snprintf(tgt, sizeof(tgt), "tcp://127.0.0.1:%s", bound);
	if (dopy_connect(tgt, &c, &e) != 0)
		errx(1, "%s", dopy_error_message(e));
	p = dopy_proxy_new(c, "test");
	dopy_add(p, 1000);
	for (int i = 0; i < REPS; i++) {
		raw[i] = rawfn(req, rep, n);
		dp[i] = dopy_add(p, n);
	}
	dopy_proxy_free(p);
	dopy_conn_close(c);
	stop(pid);
	if (strncmp(addr, "unix:", 5) == 0)
		unlink(addr + 5);
	r = median(raw, REPS);
	d = median(dp, REPS);
	printf("bench: # small call over %s: raw %.2f us, dopy %.2f us\n",
	    what, r * 1e6, d * 1e6);
	report(name, d * 1e6, "us", d / r, "<=", target);
}

void
bench_small_call_tcp(const char *dopyd, const char *self)
{
	(void)self;
	small_call_via_listener(dopyd, "127.0.0.1:0", "small_call_tcp",
	    "TCP loopback", raw_tcp, 1.05);
}

/* ---- UNIX sockets ---- */

/* Raw ping-pong over a UNIX stream socket, with a forked peer as the
 * listener's children are. */
static double
raw_unix(size_t req, size_t rep, int n)
{
	char buf[4096] = { 0 };
	int sv[2];
	pid_t pid;
	double t;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		err(1, "socketpair");
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(sv[0]);
		for (int i = 0; i < n; i++) {
			readfull(sv[1], buf, req);
			writefull(sv[1], buf, rep);
		}
		_exit(0);
	}
	close(sv[1]);
	t = now();
	for (int i = 0; i < n; i++) {
		writefull(sv[0], buf, req);
		readfull(sv[0], buf, rep);
	}
	t = now() - t;
	close(sv[0]);
	waitpid(pid, NULL, 0);
	return t / n;
}

void
bench_small_call_unix(const char *dopyd, const char *self)
{
	(void)self;
	char addr[128];

	snprintf(addr, sizeof(addr), "unix:/tmp/dopy-bench.%d.sock",
	    (int)getpid());
	small_call_via_listener(dopyd, addr, "small_call_unix",
	    "a UNIX socket", raw_unix, 1.05);
}

/* ---- connection rates ---- */

/* A raw server: accept, fork, and in the child answer one 32-byte
 * message, or exec argv (the inetd way: tests/perf/echo, or dopyd)
 * with the socket on 0 and 1. */
static pid_t
raw_server(int lfd, char *const *argv)
{
	char buf[32];
	pid_t pid;
	int fd;

	if ((pid = fork()) != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGCHLD, SIG_IGN);		/* no zombies */
	for (;;) {
		if ((fd = accept(lfd, NULL, NULL)) < 0)
			continue;
		if (fork() == 0) {
			if (argv != NULL) {
				dup2(fd, 0);
				dup2(fd, 1);
				execv(argv[0], argv);
				_exit(127);
			}
			readfull(fd, buf, sizeof(buf));
			writefull(fd, buf, sizeof(buf));
			_exit(0);
		}
		close(fd);
	}
}

/* n raw connections: connect, 32 bytes each way, close. */
static double
raw_conns(int port, int n)
{
	char buf[32] = { 0 };
	double t = now();
	int fd;

	for (int i = 0; i < n; i++) {
		fd = tcp_connect(port);
		writefull(fd, buf, sizeof(buf));
		readfull(fd, buf, sizeof(buf));
		close(fd);
	}
	return (now() - t) / n;
}

/* n dopy connections: connect, HELLO, test.add, close.  Early
 * (DOPY_CONNECT_EARLY), as dopy-rsh connects: the call goes out with
 * the HELLO, one round trip like the raw ping-pong. */
static double
dopy_conns(int port, int n)
{
	char target[64];
	dopy_conn *c;
	dopy_proxy *p;
	double t = now();

	snprintf(target, sizeof(target), "tcp://127.0.0.1:%d", port);
	for (int i = 0; i < n; i++) {
		if (dopy_connect_flags(target, NULL, DOPY_CONNECT_EARLY, &c,
		    NULL) != 0)
			errx(1, "connect to %s failed", target);
		p = dopy_proxy_new(c, "test");
		dopy_add(p, 1);
		dopy_proxy_free(p);
		dopy_conn_close(c);
	}
	return (now() - t) / n;
}

void
bench_conn_rate(const char *dopyd, const char *self)
{
	double raw[REPS], dp[REPS], rawx[REPS], dpx[REPS], r, d;
	char echo[4096], *echo_argv[] = { echo, NULL };
	char *dopyd_argv[] = { (char *)dopyd, NULL };
	int n = 200, lport, rport, xport, dxport, lfd, xfd, dxfd;
	pid_t lpid, rpid, xpid, dxpid;

	/* The smallest C program, beside this one (tests/perf/echo). */
	snprintf(echo, sizeof(echo), "%.*s/perf/echo",
	    (int)(strrchr(self, '/') - self), self);
	if (access(echo, X_OK) != 0)
		err(1, "%s (make tests/perf/echo)", echo);
	lpid = start_listener(dopyd, "", &lport);
	lfd = tcp_listener(&rport);
	rpid = raw_server(lfd, NULL);
	xfd = tcp_listener(&xport);
	xpid = raw_server(xfd, echo_argv);
	dxfd = tcp_listener(&dxport);
	dxpid = raw_server(dxfd, dopyd_argv);
	close(lfd);
	close(xfd);
	close(dxfd);
	for (int i = 0; i < REPS; i++) {
		raw[i] = raw_conns(rport, n);
		dp[i] = dopy_conns(lport, n);
		rawx[i] = raw_conns(xport, n);
		dpx[i] = dopy_conns(dxport, n);
	}
	stop(lpid);
	stop(rpid);
	stop(xpid);
	stop(dxpid);
	r = median(raw, REPS);
	d = median(dp, REPS);
	printf("bench: # connection (connect+HELLO+call+close): raw "
	    "accept+fork %.0f us, dopyd -l %.0f us\n", r * 1e6, d * 1e6);
	report("conn_rate_listener", 1 / d, "conn/s", r / d, ">=", 0.8);
	r = median(rawx, REPS);
	d = median(dpx, REPS);
	printf("bench: # connection, exec per connection: raw accept+fork+exec "
	    "of the smallest C echo %.0f us, of dopyd %.0f us\n", r * 1e6,
	    d * 1e6);
	report("conn_rate_exec", 1 / d, "conn/s", r / d, ">=", 1.0);
}
