/*
 * e2e_launchers.c - dopyd under the launchers it is made for, on
 * loopback: openbsd-inetd, xinetd, systemd-socket-activate (inetd style,
 * Accept=yes on fd 3, and $LISTEN_FDS), tcpserver, sshd (a command= key,
 * a ForceCommand account, a subsystem), and its own listener (TCP, UNIX,
 * single-process, shared keys, the handshake deadline, the caps); and,
 * in suite isolated, isolated calls through the forking listener, -s
 * and sshd.
 *
 * Each daemon is a private foreground copy with its configuration in the
 * test's directory, started by the test and stopped by its pid (SIGTERM,
 * a bounded wait, then SIGKILL).  e2e_spawn() gives every child
 * PR_SET_PDEATHSIG, so a test that crashes or times out takes its
 * daemon with it.  Ports come from the launcher itself where it can say
 * which it bound (dopyd -B, tcpserver -1); elsewhere from binding port 0,
 * and the test waits until the daemon's own pid holds a listening socket
 * on that port (so a port taken by someone else in the meantime means a
 * retry, never a test against the wrong server).
 *
 * The configurations are made from the ready-to-install files in inetd/
 * and ssh/, with the port, address, user and path to dopyd replaced, so
 * those files are tested too.  A launcher that is not installed fails
 * its test (make deps-check installs them); nothing is skipped.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "e2e_util.h"

#define STOP_MS		5000	/* a daemon gets this long after SIGTERM */
#define LISTEN_MS	5000	/* and this long to start listening */

static const char *const CLIENT_OK[] = {
	"test of basic method invocation ok",
	"test of keyword parms ok",
	"test of exceptions ok",
	"test of streams ok",
	"test of uploads ok",
};

/* ------------------------------------------------------------------ */
/* Small things. */

/*
 * Strings made here live as long as the test (one process): kept
 * reachable from this table rather than freed one by one, so
 * LeakSanitizer in the ASan run has nothing to say about them.
 */
static void	*kept[2048];
static size_t	 nkept;

static void *
keep(void *p)
{
	cr_assert_not_null(p, "out of memory");
	cr_assert(nkept < sizeof(kept) / sizeof(kept[0]), "keep: full");
	kept[nkept++] = p;
	return p;
}

static char *
xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	cr_assert(n >= 0, "out of memory");
	return keep(s);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
nap_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* A file in the test's private directory. */
static char *
tpath(const char *name)
{
	return xasprintf("%s/%s", e2e_tmpdir(), name);
}

/* $DOPY_BIN/prog as an absolute path: launchers insist on one. */
static char *
bin(const char *prog)
{
	char buf[PATH_MAX];

	cr_assert_not_null(realpath(e2e_bin(prog), buf), "realpath %s",
	    e2e_bin(prog));
	return keep(strdup(buf));
}

/* A ready-to-install file from the source tree. */
static char *
shipped(const char *rel)
{
	char *top = keep(e2e_top()), *path = xasprintf("%s/%s", top, rel);
	char *text = e2e_slurp(path, NULL);

	cr_assert_not_null(text, "%s: %s", path, strerror(errno));
	return keep(text);
}

static void
spit(const char *path, const char *text)
{
	cr_assert(e2e_spit(path, text) == 0, "%s: %s", path, strerror(errno));
}

/* Every from in text replaced by to. */
static char *
replace_all(const char *text, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to), n = 0;
	const char *p, *q;
	char *out, *o;

	for (p = text; (q = strstr(p, from)) != NULL; p = q + fl)
		n++;
	out = keep(malloc(strlen(text) + n * tl + 1));
	for (o = out, p = text; (q = strstr(p, from)) != NULL; p = q + fl) {
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		memcpy(o, to, tl);
		o += tl;
	}
	strcpy(o, p);
	return out;
}

/* How many times needle is in the file (0 when it is not there). */
static int
count_in_file(const char *path, const char *needle)
{
	char *text = e2e_slurp(path, NULL);
	const char *p;
	int n = 0;

	if (text == NULL)
		return 0;
	for (p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	free(text);
	return n;
}

/* Wait until needle is in the file n times; returns the count. */
static int
wait_in_file(const char *path, const char *needle, int n, int ms)
{
	int64_t end = now_ms() + ms;
	int c;

	while ((c = count_in_file(path, needle)) < n && now_ms() < end)
		nap_ms(20);
	return c;
}

/*
 * The exit statuses a launcher logged for the servers it ran: on every
 * line holding `line`, the number after `after`.  All must be 0 (a
 * sanitizer report or a protocol error in dopyd shows here, since under
 * inetd its stderr is the socket).  Returns how many there were.
 */
static int
statuses_zero(const char *path, const char *line, const char *after)
{
	char *text = e2e_slurp(path, NULL), *p, *eol, *a, *end;
	long v;
	int n = 0;

	cr_assert_not_null(text, "%s", path);
	keep(text);
	for (p = text; (p = strstr(p, line)) != NULL; p = eol) {
		if ((eol = strchr(p, '\n')) == NULL)
			eol = p + strlen(p);
		if ((a = strstr(p, after)) == NULL || a > eol)
			continue;
		v = strtol(a + strlen(after), &end, 0);
		cr_assert(end != a + strlen(after) && v == 0,
		    "a server exited with status %.*s\n%s",
		    (int)(eol - a), a, text);
		n++;
	}
	return n;
}

static void
log_file(const char *what, const char *path)
{
	char *text = e2e_slurp(path, NULL);

	cr_log_info("%s (%s):\n%s", what, path, text ? text : "(none)");
	free(text);
}

/* ------------------------------------------------------------------ */
/* Clients. */

static void
assert_exit(const struct e2e_run *r, int code, const char *what)
{
	cr_assert(e2e_exited(r->status, code),
	    "%s: %s, want exit %d\nstdout: %s\nstderr: %s", what,
	    e2e_status(r->status), code, r->out, r->err);
}

/* Run argv with input; its output stays for the rest of the test. */
static void
run(struct e2e_run *r, const char *input, int ms, char *const argv[])
{
	e2e_run_ms(r, input, input ? strlen(input) : 0, ms, argv);
	keep(r->out);
	keep(r->err);
}

/* dopyclient passes: exit 0 and its lines. */
static void
client_ok(const char *target, const char *keyfile)
{
	char *want = xasprintf("connecting to %s...\n%s\n%s\n%s\n%s\n%s\n",
	    target, CLIENT_OK[0], CLIENT_OK[1], CLIENT_OK[2], CLIENT_OK[3],
	    CLIENT_OK[4]);
	char *argv[5];
	struct e2e_run r;
	int i = 0;

	argv[i++] = (char *)e2e_bin("dopyclient");
	if (keyfile != NULL) {
		argv[i++] = "-k";
		argv[i++] = (char *)keyfile;
	}
	argv[i++] = (char *)target;
	argv[i] = NULL;
	run(&r, NULL, 20000, argv);
	assert_exit(&r, 0, "dopyclient");
	cr_assert_str_eq(r.out, want, "dopyclient %s printed:\n%s\nwant:\n%s"
	    "stderr: %s", target, r.out, want, r.err);
}

/* dopy-rsh [-k keyfile] target test method [arg...] */
static void
rsh(struct e2e_run *r, const char *keyfile, const char *target,
    const char *method, const char *a1, const char *a2)
{
	char *argv[9];
	int i = 0;

	argv[i++] = (char *)e2e_bin("dopy-rsh");
	if (keyfile != NULL) {
		argv[i++] = "-k";
		argv[i++] = (char *)keyfile;
	}
	argv[i++] = (char *)target;
	argv[i++] = "test";
	argv[i++] = (char *)method;
	if (a1 != NULL)
		argv[i++] = (char *)a1;
	if (a2 != NULL)
		argv[i++] = (char *)a2;
	argv[i] = NULL;
	run(r, NULL, 20000, argv);
}

static void
rsh_ok(const char *keyfile, const char *target, const char *method,
    const char *a1, const char *a2, const char *want)
{
	struct e2e_run r;

	rsh(&r, keyfile, target, method, a1, a2);
	assert_exit(&r, 0, "dopy-rsh");
	cr_assert_str_eq(r.out, want, "dopy-rsh %s test %s: '%s', want '%s'"
	    "\nstderr: %s", target, method, r.out, want, r.err);
}

/*
 * What every launcher must carry: dopyclient's self-test, a call, and a
 * method that writes to stdout and stderr (under inetd both are the
 * socket) without spoiling the stream.  Three connections.
 */
static void
serves(const char *target)
{
	client_ok(target, NULL);
	rsh_ok(NULL, target, "add", "2", "3", "5\n");
	rsh_ok(NULL, target, "noisy", NULL, NULL, "quiet\n");
}

/* ------------------------------------------------------------------ */
/* Raw connections. */

/* rcvbuf, unless 0: a client that takes little at a time, so what the
 * server writes to it backs up after a few hundred KiB, not megabytes. */
static int
tcp_connect_buf(const char *from, int port, int rcvbuf)
{
	struct sockaddr_in sin;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(fd >= 0, "socket: %s", strerror(errno));
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (from != NULL) {
		inet_pton(AF_INET, from, &sin.sin_addr);
		cr_assert(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0,
		    "bind %s: %s", from, strerror(errno));
	}
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	cr_assert(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0,
	    "connect 127.0.0.1 port %d: %s", port, strerror(errno));
	return fd;
}

static int
tcp_connect(const char *from, int port)
{
	return tcp_connect_buf(from, port, 0);
}

/* Send a HELLO and read the server's; the connection is then served. */
static void
raw_hello(int fd)
{
	struct dopy_buf b;
	struct e2e_frame f;

	dopy_buf_init(&b);
	e2e_hello(&b, DOPY_PROTOCOL, DOPY_FRAME_DEFAULT);
	cr_assert(e2e_write(fd, b.data + b.off, b.len - b.off) == 0,
	    "write HELLO: %s", strerror(errno));
	dopy_buf_release(&b);
	cr_assert(e2e_read_frame(fd, &f, E2E_WAIT_MS) == 1,
	    "no HELLO came back");
	keep(f.payload);
	cr_assert(f.type == DOPY_F_HELLO, "frame type %u, want HELLO",
	    f.type);
}

/*
 * Read what a server that drops us sends: either one ERROR frame named
 * name, then EOF (returns 1), or EOF alone (returns 0).  Anything else,
 * a reset included, fails.
 */
static int
read_dropped(int fd, const char *name, int ms)
{
	struct e2e_frame f;
	dopy_error *e = NULL;
	int r;

	r = e2e_read_frame(fd, &f, ms);
	cr_assert(r >= 0, "want ERROR %s or EOF; got a bad frame, a reset "
	    "(%s) or nothing within %d ms", name, strerror(errno), ms);
	if (r == 0)
		return 0;
	keep(f.payload);
	cr_assert(f.type == DOPY_F_ERROR, "frame type %u (%s), want ERROR %s",
	    f.type, dopy_frame_type_name(f.type), name);
	cr_assert(dopy_msg_error_get(f.payload, f.len, &e) == 0,
	    "malformed ERROR payload");
	keep(e);
	cr_assert_str_eq(dopy_error_name(e), name, "ERROR %s (%s), want %s",
	    dopy_error_name(e), dopy_error_message(e), name);
	r = e2e_read_frame(fd, &f, ms);
	cr_assert(r == 0, "no EOF after ERROR %s (%d)", name, r);
	return 1;
}

/* ------------------------------------------------------------------ */
/* Daemons. */

/* SIGTERM, a bounded wait (e2e_wait kills and fails after it). */
static int
stop(struct e2e_proc *p)
{
	if (p->pid <= 0)
		return 0;
	kill(p->pid, SIGTERM);
	return e2e_wait(p, STOP_MS);
}

/* A line from fd within ms (the port dopyd -B and tcpserver -1 print). */
static char *
read_line(int fd, int ms)
{
	char buf[PATH_MAX];
	size_t n = 0;

	while (n < sizeof(buf) - 1) {
		cr_assert(e2e_read(fd, buf + n, 1, ms) == 1,
		    "no line within %d ms (got '%.*s')", ms, (int)n, buf);
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return keep(strdup(buf));
}

/* Find a launcher: installed, or unpacked by tests/install-deps.sh (the
 * two inetds conflict as Debian packages). */
static char *
launcher(const char *pkg, const char *sys)
{
	char *top = keep(e2e_top()), *p = xasprintf("%s/tests/.work/%s%s",
	    top, pkg, sys);

	if (access(p, X_OK) == 0)
		return p;
	cr_assert(access(sys, X_OK) == 0, "%s (%s) is not installed: run "
	    "make deps-check, or sh tests/install-deps.sh %s", sys, pkg, pkg);
	return (char *)sys;
}

/* ------------------------------------------------------------------ */
/* openbsd-inetd, from inetd/inetd.conf. */

/* The shipped line with our address, port, user and path. */
static char *
inetd_conf(int port, const char *server)
{
	char *text = shipped("inetd/inetd.conf"), *line, *save, *fs, *f[16];
	char *out = NULL, *rest;
	int i, n;

	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' || strspn(line, " \t") == strlen(line))
			continue;
		f[0] = strtok_r(line, " \t", &fs);
		for (n = 1; n < 16 && (f[n] = strtok_r(NULL, " \t", &fs)) !=
		    NULL; n++)
			;
		cr_assert(n >= 7 && strcmp(f[5] + strlen(f[5]) - 6, "/dopyd")
		    == 0, "inetd/inetd.conf: want 'port stream tcp nowait "
		    "user /path/dopyd dopyd [options]'");
		rest = f[6];
		for (i = 7; i < n; i++)
			rest = xasprintf("%s %s", rest, f[i]);
		out = xasprintf("127.0.0.1:%d\t%s\t%s\t%s\troot\t%s\t%s\n",
		    port, f[1], f[2], f[3], server, rest);
		break;
	}
	cr_assert_not_null(out, "inetd/inetd.conf has no service line");
	return out;
}

static void
launch_inetd(struct e2e_proc *p, int port, void *arg)
{
	char *conf = tpath("inetd.conf");
	char *argv[] = { (char *)arg, "-d", conf, NULL };

	spit(conf, inetd_conf(port, bin("dopyd")));
	e2e_spawn(p, argv);
}

Test(launch, openbsd_inetd, .timeout = 40)
{
	struct e2e_proc p;
	char *target;
	int port;

	port = e2e_start_on_port(&p, launch_inetd,
	    launcher("openbsd-inetd", "/usr/sbin/inetd"));
	target = xasprintf("tcp://127.0.0.1:%d", port);
	serves(target);
	target = xasprintf("tcp:127.0.0.1:%d", port);
	rsh_ok(NULL, target, "add", "40", "2", "42\n");
	/* inetd -d says "PID reaped, status N" for each dopyd. */
	cr_assert(wait_in_file(p.errpath, "reaped, status", 4, 5000) >= 4,
	    "inetd reaped fewer than 4 servers");
	cr_assert_eq(statuses_zero(p.errpath, "reaped", "status "), 4);
	stop(&p);
}

/* The shipped line in "wait" mode, dopyd writing its pid to pidfile. */
static void
launch_inetd_wait(struct e2e_proc *p, int port, void *arg)
{
	char *conf = tpath("inetd.conf");
	char *argv[] = { (char *)arg, "-d", conf, NULL };
	char *line = inetd_conf(port, bin("dopyd"));

	line = replace_all(line, "\tnowait\t", "\twait\t");
	cr_assert_not_null(strstr(line, "\twait\t"), "%s", line);
	line[strlen(line) - 1] = '\0';
	spit(conf, xasprintf("%s -d -p %s\n", line, tpath("wait.pid")));
	e2e_spawn(p, argv);
}

/* inetd's child is not ours, and does not die with inetd: after a
 * failed assertion, stop it by the pid in its pidfile. */
static void
stop_inetd_wait_child(void)
{
	char *text = e2e_slurp(tpath("wait.pid"), NULL);

	if (text != NULL && atoi(text) > 1)
		kill(atoi(text), SIGKILL);
	free(text);
}

/*
 * inetd "wait": inetd hands dopyd the listening socket on fd 0 at the
 * first connection, and dopyd accepts on it as its own listener, for
 * that client and every later one, until it is stopped.
 */
Test(launch, openbsd_inetd_wait, .timeout = 40,
    .fini = stop_inetd_wait_child)
{
	struct e2e_proc p;
	char *target, *pidfile = tpath("wait.pid"), *text;
	int port, pid;

	port = e2e_start_on_port(&p, launch_inetd_wait,
	    launcher("openbsd-inetd", "/usr/sbin/inetd"));
	target = xasprintf("tcp://127.0.0.1:%d", port);
	serves(target);
	cr_assert_not_null(text = keep(e2e_slurp(pidfile, NULL)),
	    "dopyd wrote no pidfile");
	pid = atoi(text);
	cr_assert(pid > 1 && pid != p.pid, "pidfile says '%s'", text);
	/* One dopyd served the three connections: inetd started one. */
	cr_assert_eq(count_in_file(p.errpath, "reaped"), 0,
	    "the dopyd of a wait service ended early");
	cr_assert(kill(pid, SIGTERM) == 0, "dopyd %d: %s", pid,
	    strerror(errno));
	cr_assert(wait_in_file(p.errpath, "reaped, status", 1, STOP_MS) >= 1,
	    "dopyd %d did not end on SIGTERM", pid);
	cr_assert_eq(statuses_zero(p.errpath, "reaped", "status "), 1);
	stop(&p);
}

/*
 * Listener-only options on a server of one stdio connection, as in an
 * inetd.conf line shared with dopyd -l: ignored (dopyd(8)), said once
 * in the log with -v, never an exit 2 on every connection.
 */
Test(launch, stdio_ignores_listener_options, .timeout = 30)
{
	char *log = tpath("stdio.log");
	char *cmd = xasprintf("%s -c 5 -s -T 3 -v -L %s", bin("dopyd"), log);

	rsh_ok(NULL, cmd, "add", "2", "3", "5\n");
	cr_assert_eq(count_in_file(log, "options -B -C -c -n -p -s -T -u are "
	    "ignored"), 1, "no line about the ignored options in %s", log);
	cmd = xasprintf("%s -c 5 -L %s", bin("dopyd"), log);
	rsh_ok(NULL, cmd, "add", "40", "2", "42\n");
	cr_assert_eq(count_in_file(log, "are ignored"), 1, "logged without "
	    "-v");
}

/* ------------------------------------------------------------------ */
/* xinetd, from inetd/xinetd.d/dopy. */

/* The shipped service with these keys set (commented out or not). */
static char *
xinetd_service(const char *const keys[], const char *const vals[],
    size_t nkeys)
{
	char *text = shipped("inetd/xinetd.d/dopy"), *line, *save, *out;
	char key[32];
	int used[8] = { 0 };
	size_t i;
	const char *k;

	cr_assert(nkeys <= 8);
	out = "";
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		k = line + strspn(line, " \t#");
		if (sscanf(k, "%31[a-z_] =", key) == 1 &&
		    strchr(k, '=') != NULL) {
			for (i = 0; i < nkeys; i++)
				if (strcmp(key, keys[i]) == 0)
					break;
			if (i < nkeys) {
				out = xasprintf("%s\t%s = %s\n", out, keys[i],
				    vals[i]);
				used[i] = 1;
				continue;
			}
		}
		if (strcmp(line + strspn(line, " \t"), "}") == 0)
			for (i = 0; i < nkeys; i++)
				if (!used[i])
					out = xasprintf("%s\t%s = %s\n", out,
					    keys[i], vals[i]);
		out = xasprintf("%s%s\n", out, line);
	}
	return out;
}

static void
launch_xinetd(struct e2e_proc *p, int port, void *arg)
{
	static const char *const keys[] = { "port", "bind", "user", "server" };
	char *conf = tpath("xinetd.conf"), *pid = tpath("xinetd.pid");
	char *argv[] = { (char *)arg, "-dontfork", "-stayalive", "-f", conf,
	    "-pidfile", pid, NULL };
	const char *vals[4];

	vals[0] = xasprintf("%d", port);
	vals[1] = "127.0.0.1";
	vals[2] = "root";
	vals[3] = bin("dopyd");
	spit(conf, xasprintf("defaults\n{\n\tlog_type = FILE %s\n}\n\n%s",
	    tpath("xinetd.log"), xinetd_service(keys, vals, 4)));
	e2e_spawn(p, argv);
}

Test(launch, xinetd, .timeout = 40)
{
	struct e2e_proc p;
	char *target, *log = tpath("xinetd.log");
	int port;

	port = e2e_start_on_port(&p, launch_xinetd,
	    launcher("xinetd", "/usr/sbin/xinetd"));
	target = xasprintf("tcp://127.0.0.1:%d", port);
	serves(target);
	cr_assert(wait_in_file(log, "EXIT: dopy", 3, 5000) >= 3,
	    "xinetd logged fewer than 3 exits");
	cr_assert_eq(statuses_zero(log, "EXIT: dopy", "status="), 3);
	cr_assert_eq(count_in_file(log, "START: dopy"), 3);
	stop(&p);
}

/* ------------------------------------------------------------------ */
/* systemd-socket-activate: the units in inetd/ without systemd. */

/* ExecStart= of a shipped unit as argv, dopyd from $DOPY_BIN. */
static char **
unit_exec(const char *unit, char **argv, size_t max)
{
	char *text = shipped(unit), *line, *save, *w;
	size_t n = 0;

	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "ExecStart=", 10) == 0)
			break;
	cr_assert_not_null(line, "%s has no ExecStart=", unit);
	for (w = strtok_r(line + 10, " \t", &save); w != NULL &&
	    n < max - 1; w = strtok_r(NULL, " \t", &save), n++)
		argv[n] = n == 0 ? bin("dopyd") : w;
	cr_assert(n > 0 && n < max - 1);
	argv[n] = NULL;
	return argv;
}

struct ssa {
	const char	*mode[2];	/* --inetd, --accept, or NULL */
	const char	*unit;		/* whose ExecStart= to run */
};

static void
launch_ssa(struct e2e_proc *p, int port, void *arg)
{
	struct ssa *s = arg;
	char *argv[32], *cmd[24];
	size_t i, n = 0;

	argv[n++] = "systemd-socket-activate";
	for (i = 0; i < 2; i++)
		if (s->mode[i] != NULL)
			argv[n++] = (char *)s->mode[i];
	argv[n++] = "-l";
	argv[n++] = xasprintf("127.0.0.1:%d", port);
	unit_exec(s->unit, cmd, 24);
	for (i = 0; cmd[i] != NULL; i++)
		argv[n++] = cmd[i];
	argv[n] = NULL;
	e2e_spawn(p, argv);
}

/*
 * Where test.noisy's stdout went under systemd Accept=yes: to standard
 * error (the journal under systemd; the launcher's stderr, our file,
 * here), as dopyd(8) says, whether the connection came on fd 0 and 1 or
 * on fd 3.
 */
static void
noise_on_stderr(const struct e2e_proc *p)
{
	cr_assert(wait_in_file(p->errpath, "noise on stdout from test.noisy",
	    1, 5000) >= 1 && count_in_file(p->errpath, "raw noise") >= 1,
	    "a method's stdout did not go to stderr");
	cr_assert(count_in_file(p->errpath, "noise on stderr from") >= 1);
}

/*
 * Accept=yes with StandardInput=socket (dopy.socket + dopy@.service):
 * one dopyd per connection, the connection on fd 0 and 1.
 */
Test(launch, socket_activate_inetd_accept, .timeout = 40)
{
	struct ssa s = { { "--inetd", "--accept" }, "inetd/dopy@.service" };
	struct e2e_proc p;
	char *target;
	int port;

	launcher("systemd", "/usr/bin/systemd-socket-activate");
	port = e2e_start_on_port(&p, launch_ssa, &s);
	target = xasprintf("tcp://127.0.0.1:%d", port);
	serves(target);
	noise_on_stderr(&p);
	cr_assert(wait_in_file(p.errpath, "died with code", 3, 5000) >= 3);
	cr_assert_eq(statuses_zero(p.errpath, "Child ", "died with code "),
	    3);
	stop(&p);
}

/* Accept=yes without StandardInput=socket: the connection is fd 3
 * ($LISTEN_FDS=1) and stdin/stdout are not the peer. */
Test(launch, socket_activate_accept_fd3, .timeout = 40)
{
	struct ssa s = { { "--accept", NULL }, "inetd/dopy@.service" };
	struct e2e_proc p;
	char *target;
	int port;

	launcher("systemd", "/usr/bin/systemd-socket-activate");
	port = e2e_start_on_port(&p, launch_ssa, &s);
	target = xasprintf("tcp://127.0.0.1:%d", port);
	serves(target);
	noise_on_stderr(&p);
	cr_assert(wait_in_file(p.errpath, "died with code", 3, 5000) >= 3);
	cr_assert_eq(statuses_zero(p.errpath, "Child ", "died with code "),
	    3);
	stop(&p);
}

/*
 * Accept=no (dopy-listen.socket + dopy-listen.service): dopyd takes the
 * listening socket from $LISTEN_FDS, accepts and forks per connection,
 * and stops cleanly on SIGTERM.  systemd-socket-activate execs it in
 * place, so the pid we hold is dopyd's.
 */
Test(launch, socket_activate_listen_fds, .timeout = 40)
{
	struct ssa s = { { NULL, NULL }, "inetd/dopy-listen.service" };
	struct e2e_proc p;
	char *target;
	int port, status;

	launcher("systemd", "/usr/bin/systemd-socket-activate");
	port = e2e_start_on_port(&p, launch_ssa, &s);
	target = xasprintf("tcp://127.0.0.1:%d", port);
	serves(target);
	serves(target);
	cr_assert(wait_in_file(p.errpath, "]: exit 127.0.0.1", 6, 5000) >= 6,
	    "want 6 connections in dopyd's log");
	cr_assert_eq(statuses_zero(p.errpath, "]: exit ", "status="), 6);
	cr_assert(count_in_file(p.errpath, "listening on systemd") == 1);
	status = stop(&p);
	cr_assert(e2e_exited(status, 0), "dopyd after SIGTERM: %s",
	    e2e_status(status));
	cr_assert(count_in_file(p.errpath, "stopping") == 1);
}

/*
 * systemd-socket-activate --inetd without --accept (systemd Accept=no
 * with StandardInput=socket; inetd.conf "wait" for a stream service):
 * the LISTENING socket is on fd 0 and 1.  dopyd must accept on it, as it
 * does on a $LISTEN_FDS socket, rather than read from it.
 */
Test(launch, socket_activate_inetd_listening_stdin, .timeout = 40)
{
	struct ssa s = { { "--inetd", NULL }, "inetd/dopy@.service" };
	struct e2e_proc p;
	char *target;
	int port;

	launcher("systemd", "/usr/bin/systemd-socket-activate");
	port = e2e_start_on_port(&p, launch_ssa, &s);
	target = xasprintf("tcp://127.0.0.1:%d", port);
	serves(target);
	stop(&p);
}

/* ------------------------------------------------------------------ */
/* tcpserver (ucspi-tcp). */

/* Rules for tcpserver -x, compiled with tcprules into path. */
static void
tcprules(const char *path, const char *rules)
{
	char *tmp = xasprintf("%s.tmp", path);
	char *argv[] = { "tcprules", (char *)path, tmp, NULL };
	struct e2e_run r;

	run(&r, rules, E2E_WAIT_MS, argv);
	assert_exit(&r, 0, "tcprules");
}

/* tcpserver with -1 prints the port it bound (port 0: no race). */
static int
start_tcpserver(struct e2e_proc *p, const char *rules)
{
	char *cdb = tpath("tcp.cdb"), *line;
	char *argv[] = { "tcpserver", "-1", "-v", "-c", "40", "-R", "-H",
	    "-l", "0", "-x", cdb, "127.0.0.1", "0", bin("dopyd"), "-d", NULL };
	int port;

	launcher("ucspi-tcp", "/usr/bin/tcpserver");
	tcprules(cdb, rules);
	e2e_spawn(p, argv);
	line = read_line(p->out, E2E_WAIT_MS);
	port = atoi(line);
	cr_assert(port > 0, "tcpserver -1 printed '%s'", line);
	return port;
}

Test(launch, tcpserver, .timeout = 40)
{
	struct e2e_proc p;
	char *target;
	int port;

	port = start_tcpserver(&p, "127.0.0.1:allow\n:deny\n");
	target = xasprintf("tcp://127.0.0.1:%d", port);
	serves(target);
	cr_assert(wait_in_file(p.errpath, "tcpserver: end ", 3, 5000) >= 3);
	cr_assert_eq(statuses_zero(p.errpath, "tcpserver: end ", "status "),
	    3);
	stop(&p);
}

/* The launcher's access rules turn a peer away before dopyd runs. */
Test(launch, tcpserver_rules_deny, .timeout = 40)
{
	struct e2e_proc p;
	struct e2e_run r;
	char *target;
	int port;

	port = start_tcpserver(&p, "127.0.0.1:deny\n:allow\n");
	target = xasprintf("tcp:127.0.0.1:%d", port);
	rsh(&r, NULL, target, "add", "2", "3");
	assert_exit(&r, 3, "dopy-rsh refused by tcpserver rules");
	cr_assert_str_eq(r.out, "");
	cr_assert(wait_in_file(p.errpath, "tcpserver: deny ", 1, 5000) == 1,
	    "tcpserver logged no deny");
	cr_assert_eq(count_in_file(p.errpath, "tcpserver: ok "), 0,
	    "tcpserver ran dopyd for a denied peer");
	stop(&p);
}

/*
 * The shipped daemontools run script, with envuidgid stubbed (it only
 * sets $UID and $GID for -U), port 0 and -1, and its own rules file.
 */
Test(launch, tcpserver_run_script, .timeout = 40)
{
	char *script = tpath("run"), *stub = tpath("envuidgid");
	char *cdb = tpath("tcp.cdb"), *text, *t, *line, *target;
	char *argv[] = { "/bin/sh", script, NULL };
	struct e2e_proc p;
	int port = 0, i;

	launcher("ucspi-tcp", "/usr/bin/tcpserver");
	tcprules(cdb, "127.0.0.1:allow\n:deny\n");
	spit(stub, "#!/bin/sh\nshift\nUID=0 GID=0 exec \"$@\"\n");
	chmod(stub, 0755);
	text = shipped("inetd/tcpserver.run");
	cr_assert_not_null(strstr(text, " 0 9600 /usr/local/bin/dopyd"),
	    "inetd/tcpserver.run: want '0 9600 /usr/local/bin/dopyd'");
	t = replace_all(text, "/usr/local/bin/dopyd", bin("dopyd"));
	t = replace_all(t, " 0 9600 ", " 127.0.0.1 0 ");
	t = replace_all(t, "tcpserver -v", "tcpserver -1 -v");
	t = replace_all(t, "exec envuidgid ", xasprintf("exec %s ", stub));
	t = replace_all(t, "/etc/dopy/tcp.cdb", cdb);
	cr_assert(strcmp(t, text) != 0);
	spit(script, t);
	e2e_spawn(&p, argv);
	/* stderr goes to stdout (exec 2>&1): the port is one of the lines. */
	for (i = 0; i < 10 && port == 0; i++) {
		line = read_line(p.out, E2E_WAIT_MS);
		if (line[0] != '\0' && strspn(line, "0123456789") ==
		    strlen(line))
			port = atoi(line);
	}
	cr_assert(port > 0, "the run script's tcpserver printed no port");
	target = xasprintf("tcp://127.0.0.1:%d", port);
	serves(target);
	stop(&p);
}

/* ------------------------------------------------------------------ */
/* sshd: ssh/authorized_keys.example and ssh/sshd_config.snippet. */

/* The options of the first key in ssh/authorized_keys.example. */
static char *
example_key_options(void)
{
	char *text = shipped("ssh/authorized_keys.example"), *line, *save;
	char *k;

	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		if (line[0] != '#' && (k = strstr(line, " ssh-")) != NULL) {
			*k = '\0';
			cr_assert_not_null(strstr(line, "/usr/local/bin/dopyd"),
			    "authorized_keys.example: first key not for dopyd");
			return replace_all(line, "/usr/local/bin/dopyd",
			    bin("dopyd"));
		}
	cr_assert_fail("ssh/authorized_keys.example has no key line");
	return NULL;
}

/* The snippet with our dopyd, its Match User block for user. */
static char *
snippet(const char *user)
{
	char *text = shipped("ssh/sshd_config.snippet"), *t, *m;

	cr_assert_not_null(strstr(text, "Match User dopy\n"));
	t = replace_all(text, "/usr/local/bin/dopyd", bin("dopyd"));
	m = xasprintf("Match User %s\n", user);
	return replace_all(t, "Match User dopy\n", m);
}

/*
 * A key tied to dopyd with restrict,command= (authorized_keys.example):
 * whatever command the client names, it gets dopyd.
 */
Test(launch, sshd_forced_command_key, .timeout = 60)
{
	struct e2e_sshd s = { .rootlogin = "forced-commands-only" };
	char *target;

	e2e_sshd_start(&s, example_key_options());
	target = xasprintf("ssh://root@127.0.0.1:%d", s.port);
	serves(target);
	target = xasprintf("ssh://root@127.0.0.1:%d/dopyd", s.port);
	rsh_ok(NULL, target, "add", "2", "3", "5\n");
	target = xasprintf("ssh://root@127.0.0.1:%d/bin/false", s.port);
	rsh_ok(NULL, target, "add", "4", "5", "9\n");
	cr_assert(count_in_file(s.p.errpath,
	    "Starting session: forced-command (key-option)") >= 5,
	    "sshd did not run the key's command=");
	stop(&s.p);
}

/* The snippet's Match block (ForceCommand) for a plain key. */
Test(launch, sshd_match_force_command, .timeout = 60)
{
	struct e2e_sshd s = { .rootlogin = "prohibit-password" };
	char *target;

	s.extra = snippet("root");
	e2e_sshd_start(&s, "restrict");
	target = xasprintf("ssh://root@127.0.0.1:%d/bin/false", s.port);
	client_ok(target, NULL);
	rsh_ok(NULL, target, "add", "2", "3", "5\n");
	cr_assert(count_in_file(s.p.errpath,
	    "Starting session: forced-command (config)") >= 2,
	    "sshd did not run the ForceCommand");
	stop(&s.p);
}

/* The snippet's Subsystem line: ssh -s host dopy (a bare command target). */
Test(launch, sshd_subsystem, .timeout = 60)
{
	struct e2e_sshd s = { .rootlogin = "prohibit-password" };
	char *target;

	s.extra = snippet("dopy");		/* root is not matched */
	e2e_sshd_start(&s, "restrict");
	target = xasprintf("%s -T -o BatchMode=yes -p %d -s root@127.0.0.1 "
	    "dopy", s.ssh, s.port);
	client_ok(target, NULL);
	rsh_ok(NULL, target, "add", "2", "3", "5\n");
	cr_assert(count_in_file(s.p.errpath,
	    "Starting session: subsystem 'dopy'") >= 2,
	    "sshd did not start the dopy subsystem");
	stop(&s.p);
}

/*
 * dopy-rsh -o over ssh returns once the call is sent, not when the
 * method ends (2 s here); the remote dopyd still runs it to the end
 * (its log's exit line, status 0 after both calls).  The bound leaves
 * room for the ssh handshake, which takes most of it.
 */
Test(launch, sshd_oneway_returns_at_once, .timeout = 60)
{
	struct e2e_sshd s = { .rootlogin = "prohibit-password" };
	char *log = tpath("oneway.log"), *target, *line, *d;
	struct e2e_run r;
	int64_t t0, took;

	e2e_sshd_start(&s, "restrict");
	target = xasprintf("ssh://root@127.0.0.1:%d/%s -L %s", s.port,
	    bin("dopyd"), log);
	char *argv[] = { (char *)e2e_bin("dopy-rsh"), "-o", target, "test",
	    "sleep", "2000", NULL };
	t0 = now_ms();
	run(&r, NULL, 20000, argv);
	took = now_ms() - t0;
	assert_exit(&r, 0, "dopy-rsh -o");
	cr_assert_lt(took, 1800, "dopy-rsh -o over ssh took %lld ms",
	    (long long)took);
	line = keep(e2e_dopyd_exit_line(log, 15000));
	cr_assert_not_null(strstr(line, " calls=2 "), "%s", line);
	cr_assert_not_null(strstr(line, " status=0"), "%s", line);
	cr_assert_not_null(d = strstr(line, "duration="), "%s", line);
	cr_assert_geq(atof(d + 9), 2.0, "the sleep ran to its end: %s", line);
	stop(&s.p);
}

/*
 * The event service over ssh (dopy-events(7)): a subscriber reached
 * through sshd gets what a local client publishes, and its dopyd ends
 * when the ssh session does.
 */
Test(launch, sshd_events_subscribe, .timeout = 60)
{
	struct e2e_sshd s = { .rootlogin = "prohibit-password" };
	char *log = tpath("events.log"), *dir = tpath("ev"), *target, *line;
	char *local = xasprintf("exec %s -L /dev/null -e %s", bin("dopyd"),
	    dir);
	dopy_conn *sc = NULL, *pc = NULL;
	dopy_proxy *sp, *pp;
	dopy_stream *st = NULL;
	dopy_error *e = NULL;
	dopy_args *a;
	dopy_value *v = NULL;

	e2e_sshd_start(&s, "restrict");
	target = xasprintf("ssh://root@127.0.0.1:%d/%s -L %s -e %s", s.port,
	    bin("dopyd"), log, dir);
	cr_assert_eq(dopy_connect(target, &sc, &e), 0, "%s",
	    dopy_error_message(e));
	cr_assert_eq(dopy_conn_spawn(local, &pc, &e), 0, "%s",
	    dopy_error_message(e));
	sp = dopy_proxy_new(sc, "events");
	pp = dopy_proxy_new(pc, "events");
	a = dopy_args_new();
	dopy_args_string(a, NULL, "ssh.*");
	dopy_args_uint(a, NULL, 1);
	cr_assert_eq(dopy_proxy_stream(sp, "subscribe", a, &st, &e), 0, "%s",
	    dopy_error_message(e));
	dopy_args_free(a);
	a = dopy_args_new();
	dopy_args_string(a, NULL, "ssh.t1");
	dopy_args_double(a, NULL, 21.5);
	cr_assert_eq(dopy_proxy_call(pp, "publish", a, &v, &e), 0, "%s",
	    dopy_error_message(e));
	dopy_value_free(v);
	dopy_args_free(a);
	cr_assert_eq(dopy_stream_next(st, &v, &e), 1, "%s",
	    dopy_error_message(e));
	cr_assert_eq(dopy_value_get_uint(dopy_value_at(v, 0)), 1);
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(v, 1)),
	    "ssh.t1");
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(v, 2)), "21.5");
	dopy_value_free(v);
	dopy_stream_free(st);
	dopy_proxy_free(sp);
	dopy_proxy_free(pp);
	dopy_conn_close(sc);
	dopy_conn_close(pc);
	line = keep(e2e_dopyd_exit_line(log, 15000));
	cr_assert_not_null(strstr(line, "exit"), "%s", line);
	stop(&s.p);
}

/*
 * dopy-idl -f over ssh: the interface a generated server (typesd)
 * publishes comes back whole, the text its file prints, and client
 * stubs are made from it.
 */
Test(launch, sshd_interface_from_a_server, .timeout = 60)
{
	struct e2e_sshd s = { .rootlogin = "prohibit-password" };
	char *top = e2e_top(), *target, *file, *base;
	struct e2e_run r, w;

	e2e_sshd_start(&s, "restrict");
	target = xasprintf("ssh://root@127.0.0.1:%d/%s", s.port,
	    bin("typesd"));
	file = xasprintf("%s/tests/idl/types.idl", top);
	char *want[] = { (char *)e2e_bin("dopy-idl"), "-P", file, "types",
	    NULL };
	char *got[] = { (char *)e2e_bin("dopy-idl"), "-P", "-f", target,
	    "types", NULL };
	run(&w, NULL, 20000, want);
	assert_exit(&w, 0, "dopy-idl -P file");
	run(&r, NULL, 20000, got);
	assert_exit(&r, 0, "dopy-idl -P -f ssh://");
	cr_assert_str_eq(r.out, w.out);
	e2e_run_free(&r);
	e2e_run_free(&w);
	base = tpath("remote");
	char *gen[] = { (char *)e2e_bin("dopy-idl"), "-c", "-o", base, "-f",
	    target, "types", NULL };
	run(&r, NULL, 20000, gen);
	assert_exit(&r, 0, "dopy-idl -c -f ssh://");
	e2e_run_free(&r);
	cr_assert(count_in_file(tpath("remote_client.h"), "types_echo_points(")
	    == 1, "no stub for types.echo_points");
	free(top);
	stop(&s.p);
}

/* ------------------------------------------------------------------ */
/* dopyd's own listener. */

/*
 * dopyd -d -B -l addr [more options...]: the port (or path) it prints.
 * -T 1 bounds its goodbye at SIGTERM.  Its log is p->errpath.
 */
static char *
start_dopyd(struct e2e_proc *p, const char *addr, const char *const *opts)
{
	char *argv[24], *line;
	size_t n = 0;

	argv[n++] = bin("dopyd");
	argv[n++] = "-d";
	argv[n++] = "-B";
	argv[n++] = "-T";
	argv[n++] = "1";
	argv[n++] = "-l";
	argv[n++] = (char *)addr;
	while (opts != NULL && *opts != NULL && n < 23)
		argv[n++] = (char *)*opts++;
	argv[n] = NULL;
	e2e_spawn(p, argv);
	line = read_line(p->out, E2E_WAIT_MS);
	cr_assert(line[0] != '\0', "dopyd -B printed an empty line");
	return line;
}

static int
start_dopyd_tcp(struct e2e_proc *p, const char *const *opts)
{
	char *line = start_dopyd(p, "127.0.0.1:0", opts);
	int port = atoi(line);

	cr_assert(port > 0 && port < 65536, "dopyd -B printed '%s'", line);
	return port;
}

/* Stop dopyd: SIGTERM must end it with status 0. */
static void
stop_dopyd(struct e2e_proc *p)
{
	int status = stop(p);

	cr_assert(e2e_exited(status, 0), "dopyd after SIGTERM: %s",
	    e2e_status(status));
}

Test(launch, listener_tcp, .timeout = 40)
{
	struct e2e_proc p;
	char *target;
	int port;

	port = start_dopyd_tcp(&p, NULL);
	target = xasprintf("tcp://127.0.0.1:%d", port);
	serves(target);
	/* tcp:HOST:PORT:OBJECT names the object: the method comes next. */
	target = xasprintf("tcp:127.0.0.1:%d:test", port);
	{
		char *argv[] = { (char *)e2e_bin("dopy-rsh"), target, "greet",
		    "name=World", NULL };
		struct e2e_run r;

		run(&r, NULL, E2E_WAIT_MS, argv);
		assert_exit(&r, 0, "dopy-rsh tcp:HOST:PORT:OBJECT");
		cr_assert_str_eq(r.out, "Hello, World\n", "stderr: %s", r.err);
	}
	cr_assert(wait_in_file(p.errpath, "]: exit 127.0.0.1", 4, 5000) >= 4);
	cr_assert_eq(statuses_zero(p.errpath, "]: exit ", "status="), 4);
	stop_dopyd(&p);
}

Test(launch, listener_unix, .timeout = 40)
{
	char *path = tpath("dopy.sock"), *addr = xasprintf("unix:%s", path);
	struct e2e_proc p;
	struct stat st;
	char *line;

	line = start_dopyd(&p, addr, NULL);
	cr_assert_str_eq(line, path, "dopyd -B printed '%s', want '%s'",
	    line, path);
	cr_assert(stat(path, &st) == 0 && S_ISSOCK(st.st_mode));
	serves(addr);
	stop_dopyd(&p);
	cr_assert(stat(path, &st) < 0 && errno == ENOENT,
	    "dopyd left %s behind", path);
}

/*
 * -s: every connection in the one process.  A client that sits after
 * its HELLO does not keep the others out, and no child is forked (every
 * log line carries the listener's pid).
 */
Test(launch, listener_single_process, .timeout = 40)
{
	static const char *const opts[] = { "-s", NULL };
	struct e2e_proc p;
	char *target, *mine;
	int port, fd, all, ours;

	port = start_dopyd_tcp(&p, opts);
	mine = xasprintf("dopyd[%d]: ", (int)p.pid);
	fd = tcp_connect(NULL, port);
	raw_hello(fd);
	target = xasprintf("tcp://127.0.0.1:%d", port);
	serves(target);
	close(fd);
	cr_assert(wait_in_file(p.errpath, "]: exit ", 4, 5000) >= 4);
	cr_assert_eq(statuses_zero(p.errpath, "]: exit ", "status="), 4);
	stop_dopyd(&p);
	all = count_in_file(p.errpath, "]: ");
	ours = count_in_file(p.errpath, mine);
	if (all != ours || all < 10)
		log_file("dopyd -s", p.errpath);
	cr_assert(all >= 10, "%d log lines, want 10 or more", all);
	cr_assert_eq(ours, all, "-s forked: %d of %d log lines are not from "
	    "the listener", all - ours, all);
}

/* A pid that has ended: a child of ours, reaped. */
static pid_t
dead_pid(void)
{
	pid_t pid = fork();

	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0)
		_exit(0);
	cr_assert(waitpid(pid, NULL, 0) == pid);
	return pid;
}

/*
 * -p: a second listener on the same pidfile says which pid holds it; a
 * pidfile a dead listener left is taken over, and the log says from
 * which pid; the file goes when the listener stops.
 */
Test(launch, pidfile_names_its_holder, .timeout = 40)
{
	char *pf = tpath("dopyd.pid"), *want;
	const char *opts[] = { "-p", pf, NULL };
	char *argv[] = { bin("dopyd"), "-l", "127.0.0.1:0", "-p", pf, NULL };
	struct e2e_proc p;
	struct e2e_run r;
	struct stat st;
	pid_t gone = dead_pid();

	spit(pf, xasprintf("%d\n", (int)gone));
	start_dopyd_tcp(&p, opts);
	cr_assert(wait_in_file(p.errpath, "listening on", 1, LISTEN_MS) == 1);
	want = xasprintf("%s: taken over from pid %d,", pf, (int)gone);
	cr_assert_eq(count_in_file(p.errpath, want), 1, "no '%s'", want);
	cr_assert_not_null(want = keep(e2e_slurp(pf, NULL)));
	cr_assert_eq(atoi(want), (int)p.pid, "%s holds '%s'", pf, want);
	run(&r, NULL, E2E_WAIT_MS, argv);
	assert_exit(&r, 1, "a second dopyd -p on a held pidfile");
	want = xasprintf("another listener, pid %d, holds it", (int)p.pid);
	cr_assert_not_null(strstr(r.err, want), "want '%s' in: %s", want,
	    r.err);
	stop_dopyd(&p);
	cr_assert(stat(pf, &st) < 0 && errno == ENOENT, "%s stayed", pf);
}

/*
 * -u: the listener removes its pidfile as that user; when it may not,
 * the log says why (the file then stays, and the next start takes it
 * over, since nobody holds its lock).
 */
Test(launch, pidfile_kept_by_user_says_why, .timeout = 40)
{
	char *dir = tpath("run"), *pf = xasprintf("%s/dopyd.pid", dir);
	const char *opts[] = { "-u", "nobody", "-p", pf, NULL };
	struct e2e_proc p;
	struct stat st;

	cr_assert(geteuid() == 0, "-u needs root: run the launcher tests as "
	    "root");
	cr_assert(mkdir(dir, 0755) == 0, "%s: %s", dir, strerror(errno));
	start_dopyd_tcp(&p, opts);
	cr_assert(wait_in_file(p.errpath, "listening on", 1, LISTEN_MS) == 1);
	stop_dopyd(&p);
	cr_assert(stat(pf, &st) == 0, "nobody removed %s", pf);
	cr_assert_eq(count_in_file(p.errpath, xasprintf("cannot remove %s: "
	    "Permission denied (as the user of -u", pf)), 1,
	    "the log does not say why %s stayed", pf);
}

/* ------------------------------------------------------------------ */
/* Shared keys. */

static char *
make_key(const char *name, mode_t mode)
{
	char *path = tpath(name);
	unsigned char k[32];
	int fd;

	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0 && e2e_read(fd, k, sizeof(k), 1000) ==
	    (ssize_t)sizeof(k));
	close(fd);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	cr_assert(fd >= 0 && e2e_write(fd, k, sizeof(k)) == 0);
	close(fd);
	chmod(path, mode);
	return path;
}

/*
 * The exit line logged by the process that logged the line at `at` in
 * the log text: "... dopyd[PID]: exit ..." further on.
 */
static char *
exit_line_of(const char *text, const char *at)
{
	const char *b, *q;
	char *tag;

	for (b = at; b > text && b[-1] != '\n'; b--)
		;
	b = strchr(b, '[');
	cr_assert(b != NULL && b < at, "no [pid] on the line of '%.40s'", at);
	tag = xasprintf("[%d]: exit ", atoi(b + 1));
	q = strstr(at, tag);
	cr_assert_not_null(q, "no '%s' after '%.40s' in the log:\n%s", tag,
	    at, text);
	return keep(strndup(q, strcspn(q, "\n")));
}

#define FAILED	"authentication failed for 127.0.0.1"

Test(launch, key_required, .timeout = 40)
{
	char *k1 = make_key("k1", 0600), *k2 = make_key("k2", 0600);
	char *log = tpath("dopyd.log"), *text, *l, *ex, *target;
	const char *opts[] = { "-k", k1, "-L", log, NULL };
	struct e2e_proc p;
	struct e2e_run r;
	int port;

	port = start_dopyd_tcp(&p, opts);
	target = xasprintf("tcp:127.0.0.1:%d", port);
	rsh_ok(k1, target, "add", "2", "3", "5\n");

	rsh(&r, NULL, target, "add", "2", "3");
	assert_exit(&r, 3, "dopy-rsh without a key");
	cr_assert_str_eq(r.out, "");
	cr_assert_not_null(strstr(r.err, "authentication failed"),
	    "stderr: %s", r.err);

	rsh(&r, k2, target, "add", "2", "3");
	assert_exit(&r, 3, "dopy-rsh with the wrong key");
	cr_assert_str_eq(r.out, "");
	cr_assert_not_null(strstr(r.err, "authentication failed"),
	    "stderr: %s", r.err);

	target = xasprintf("tcp://127.0.0.1:%d", port);
	client_ok(target, k1);

	cr_assert(wait_in_file(log, "]: exit 127.0.0.1", 4, 5000) >= 4,
	    "want 4 exit lines in %s", log);
	stop_dopyd(&p);
	text = keep(e2e_slurp(log, NULL));
	cr_assert_eq(count_in_file(log, "authentication failed for 127.0.0.1"),
	    2, "want 2 failures logged with the peer:\n%s", text);
	cr_assert_eq(count_in_file(log, "authenticated 127.0.0.1"), 2);
	/* The refused ones ran no method. */
	for (l = strstr(text, FAILED); l != NULL; l = strstr(l + 1, FAILED)) {
		ex = exit_line_of(text, l);
		cr_assert_not_null(strstr(ex, " calls=0 "), "%s", ex);
		cr_assert_not_null(strstr(ex, " status=1"), "%s", ex);
	}
}

/* A key file others can read is refused at start, before listening. */
Test(launch, key_file_mode, .timeout = 20)
{
	char *k = make_key("k644", 0644);
	char *argv[] = { bin("dopyd"), "-d", "-B", "-l", "127.0.0.1:0", "-k",
	    k, NULL };
	struct e2e_run r;

	run(&r, NULL, E2E_WAIT_MS, argv);
	assert_exit(&r, 2, "dopyd -k with a mode 644 key");
	cr_assert_str_eq(r.out, "", "it listened: %s", r.out);
	cr_assert_not_null(strstr(r.err, "644"), "stderr: %s", r.err);
}

/* ------------------------------------------------------------------ */
/* Deadlines and caps. */

/* -t 1: a client that says nothing, or half a header, is dropped. */
Test(launch, handshake_deadline, .timeout = 10)
{
	static const char *const opts[] = { "-t", "1", NULL };
	struct e2e_proc p;
	int64_t t0, dt;
	int port, fd, i;

	port = start_dopyd_tcp(&p, opts);
	for (i = 0; i < 2; i++) {
		fd = tcp_connect(NULL, port);
		if (i == 1)
			cr_assert(e2e_write(fd, "dp\001", 3) == 0);
		t0 = now_ms();
		read_dropped(fd, "dopy.Timeout", 5000);
		dt = now_ms() - t0;
		cr_assert(dt >= 700 && dt <= 3500,
		    "dropped after %lld ms, want about 1000",
		    (long long)dt);
		close(fd);
	}
	cr_assert(wait_in_file(p.errpath, "dopy.Timeout", 2, 3000) == 2);
	stop_dopyd(&p);
}

/*
 * -c 3: three clients sit; twenty more are turned away cleanly (ERROR
 * dopy.Busy, or just EOF) and so is a real client; the listener stays
 * up and serves again once the three have gone.
 */
Test(launch, connection_cap_flood, .timeout = 40)
{
	static const char *const opts[] = { "-c", "3", NULL };
	struct e2e_proc p;
	struct e2e_run r;
	int64_t end;
	char *target;
	int port, sit[3], extra[20], busy = 0, i, status;

	port = start_dopyd_tcp(&p, opts);
	for (i = 0; i < 3; i++) {
		sit[i] = tcp_connect(NULL, port);
		if (i != 1)
			raw_hello(sit[i]);	/* one has said nothing yet */
	}
	cr_assert(wait_in_file(p.errpath, "accept 127.0.0.1", 3, 5000) == 3);
	for (i = 0; i < 20; i++)
		extra[i] = tcp_connect(NULL, port);
	for (i = 0; i < 20; i++) {
		busy += read_dropped(extra[i], "dopy.Busy", 5000);
		close(extra[i]);
	}
	cr_log_info("%d of 20 refused with dopy.Busy, the rest with EOF",
	    busy);
	target = xasprintf("tcp:127.0.0.1:%d", port);
	rsh(&r, NULL, target, "add", "2", "3");
	assert_exit(&r, 3, "dopy-rsh while full");
	cr_assert_not_null(strstr(r.err, "dopy.Busy"), "stderr: %s", r.err);
	cr_assert(waitpid(p.pid, &status, WNOHANG) == 0,
	    "the listener died: %s", e2e_status(status));
	cr_assert(wait_in_file(p.errpath, "too many connections", 21, 5000)
	    == 21, "want 21 refusals logged");
	cr_assert_eq(count_in_file(p.errpath, "accept 127.0.0.1"), 3,
	    "a refused connection was served");

	/* The sitters go; the listener reaps them and serves again. */
	for (i = 0; i < 3; i++)
		close(sit[i]);
	cr_assert(wait_in_file(p.errpath, "]: exit 127.0.0.1", 3, 5000) == 3);
	target = xasprintf("tcp://127.0.0.1:%d", port);
	for (end = now_ms() + 3000;; nap_ms(50)) {
		rsh(&r, NULL, target, "add", "2", "3");
		if (e2e_exited(r.status, 0) || now_ms() > end)
			break;
	}
	assert_exit(&r, 0, "dopy-rsh after the sitters left");
	client_ok(target, NULL);
	stop_dopyd(&p);
}

/* -C 2: a third connection from 127.0.0.1 is refused, one from
 * 127.0.0.2 is served. */
Test(launch, per_peer_cap, .timeout = 40)
{
	static const char *const opts[] = { "-C", "2", NULL };
	struct e2e_proc p;
	int port, a, b, c, d;

	port = start_dopyd_tcp(&p, opts);
	a = tcp_connect("127.0.0.1", port);
	raw_hello(a);
	b = tcp_connect("127.0.0.1", port);
	raw_hello(b);
	c = tcp_connect("127.0.0.1", port);
	read_dropped(c, "dopy.Busy", 5000);
	d = tcp_connect("127.0.0.2", port);
	raw_hello(d);
	cr_assert_eq(count_in_file(p.errpath, "accept 127.0.0.2"), 1);
	cr_assert(wait_in_file(p.errpath, "refused 127.0.0.1", 1, 3000) == 1);
	close(a);
	close(b);
	close(c);
	close(d);
	cr_assert(wait_in_file(p.errpath, "]: exit 127.0.0.", 3, 5000) == 3);
	stop_dopyd(&p);
}

/* s with every run of digits as one '#': the shape of a log line. */
static char *
shape(const char *s, size_t len)
{
	char *out = keep(malloc(len + 1)), *o = out;
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9') {
			if (o == out || o[-1] != '#')
				*o++ = '#';
		} else
			*o++ = s[i];
	}
	*o = '\0';
	return out;
}

/* "stopping; N connection(s) open": the singular for one.  N is 1, the
 * raw HELLO, or 2 if the first call's child is not reaped yet (a slow
 * exit, as under ASan). */
static void
stopping_line_counts(const char *path)
{
	char *log = e2e_slurp(path, NULL), *p;
	int n;

	cr_assert_not_null(log);
	cr_assert_not_null(p = strstr(log, "stopping; "));
	n = atoi(p + 10);
	cr_assert(n == 1 || n == 2, "%.40s", p);
	cr_assert(strncmp(strchr(p + 10, ' '), n == 1 ? " connection open" :
	    " connections open", n == 1 ? 16 : 17) == 0, "%.40s", p);
	free(log);
}

/*
 * The listener's log: counts in the singular for one ("1 connection
 * open", not "1 connections open"), and every sample line of dopyd(8)'s
 * 'The listener' has the shape of a line the listener really logs.
 */
Test(launch, listener_log_lines, .timeout = 40)
{
	static const char *const opts[] = { "-C", "1", NULL };
	char *log, *page, *sample, *end, *line, *save, *want;
	struct e2e_proc p;
	int port, a, b, status, n = 0;

	port = start_dopyd_tcp(&p, opts);
	rsh_ok(NULL, xasprintf("tcp:127.0.0.1:%d", port), "add", "2", "3",
	    "5\n");
	a = tcp_connect("127.0.0.1", port);
	raw_hello(a);
	b = tcp_connect("127.0.0.1", port);
	read_dropped(b, "dopy.Busy", 5000);
	close(b);
	cr_assert(wait_in_file(p.errpath, "refused 127.0.0.1", 1, 3000) == 1);
	kill(p.pid, SIGTERM);
	cr_assert(wait_in_file(p.errpath, "stopping;", 1, STOP_MS) == 1);
	stopping_line_counts(p.errpath);
	close(a);
	status = e2e_wait(&p, STOP_MS);
	cr_assert(e2e_exited(status, 0), "dopyd: %s", e2e_status(status));
	cr_assert_not_null(log = keep(e2e_slurp(p.errpath, NULL)));
	log = shape(log, strlen(log));
	page = shipped("man/dopyd.8");
	sample = strstr(page, "\nlistening on ");
	cr_assert_not_null(sample, "dopyd(8) lost its sample log");
	end = strstr(sample, "\n.Ed");
	cr_assert_not_null(end);
	*end = '\0';
	for (line = strtok_r(sample, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), n++) {
		want = shape(line, strlen(line));
		cr_assert_not_null(strstr(log, xasprintf("]: %s\n", want)),
		    "dopyd(8)'s sample '%s' is no line dopyd logs:\n%s",
		    line, log);
	}
	cr_assert_geq(n, 5);
}

/* ------------------------------------------------------------------ */
/* Hostile clients of the listener (issue 11). */

/* CALL test.echo with n bytes on fd. */
static void
raw_echo(int fd, uint32_t id, size_t n)
{
	struct dopy_buf b;
	dopy_value *v;
	void *data = calloc(1, n);

	cr_assert_not_null(data);
	v = dopy_value_bytes(data, n);
	free(data);
	cr_assert_not_null(v);
	dopy_buf_init(&b);
	e2e_call(&b, id, "test", "echo", 1, NULL, &v);
	cr_assert(e2e_write(fd, b.data + b.off, b.len - b.off) == 0,
	    "write CALL: %s", strerror(errno));
	dopy_buf_release(&b);
}

static const char *const deadline_opts[] = { "-w1", "-i1" };
E2E_TABLE_PARAMS(launch, write_deadline_pipe, deadline_opts)

/*
 * Over pipes: the client asks for 8 MiB back and never reads.  With
 * -w 1, or -i 1 and no -w (the idle limit is then the write deadline),
 * dopyd gives up the write and exits about a second later, saying why
 * once.  Our end of its stdin stays open: no EOF tells it to stop.
 */
ParameterizedTest(size_t *i, launch, write_deadline_pipe, .timeout = 30)
{
	struct e2e_proc p;
	int st;

	e2e_dopyd(&p, 1, DOPY_FRAME_DEFAULT, deadline_opts[*i]);
	raw_echo(p.in, 1, 8u * 1024 * 1024);
	st = e2e_wait(&p, 6000);
	cr_assert(WIFEXITED(st), "dopyd %s: %s", deadline_opts[*i],
	    e2e_status(st));
	cr_assert_eq(count_in_file(p.errpath, "cannot reply"), 1,
	    "dopyd %s logged cannot reply other than once", deadline_opts[*i]);
	cr_assert_eq(count_in_file(p.errpath, "cannot reply: timed out"), 1);
	e2e_close(&p);
}

static const char *const listener_modes[] = { "-c64", "-s" };
E2E_TABLE_PARAMS(launch, write_deadline, listener_modes)

/*
 * A client asks for 8 MiB back and never reads: with -w 1 its
 * connection ends about a second later (forked child or -s thread),
 * and the listener serves others all the while.
 */
ParameterizedTest(size_t *i, launch, write_deadline, .timeout = 40)
{
	const char *opts[] = { listener_modes[*i], "-w", "1", NULL };
	struct e2e_proc p;
	int port, fd;

	port = start_dopyd_tcp(&p, opts);
	fd = tcp_connect_buf(NULL, port, 4096);
	raw_hello(fd);
	raw_echo(fd, 1, 8u * 1024 * 1024);
	cr_assert(wait_in_file(p.errpath, "cannot reply: timed out", 1,
	    6000) == 1, "the write did not time out");
	cr_assert(wait_in_file(p.errpath, "]: exit 127.0.0.1", 1, 3000) == 1,
	    "the connection did not end");
	rsh_ok(NULL, xasprintf("tcp:127.0.0.1:%d", port), "add", "2", "3",
	    "5\n");
	close(fd);
	stop_dopyd(&p);
}

/* utime + stime of pid, in clock ticks. */
static long
cpu_ticks(pid_t pid)
{
	char path[64], *text, *p;
	unsigned long ut = 0, st = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	text = e2e_slurp(path, NULL);
	cr_assert_not_null(text, "%s", path);
	/* After the command's closing parenthesis: state is field 3,
	 * utime and stime fields 14 and 15. */
	p = strrchr(text, ')');
	cr_assert(p != NULL && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u "
	    "%*u %*u %*u %*u %lu %lu", &ut, &st) == 2, "%s: %s", path, text);
	free(text);
	return (long)(ut + st);
}

static int
count_fds(pid_t pid)
{
	char dir[64];
	struct dirent *d;
	DIR *dp;
	int n = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	cr_assert_not_null(dp = opendir(dir), "%s", dir);
	while ((d = readdir(dp)) != NULL)
		n += d->d_name[0] != '.';
	closedir(dp);
	return n;
}

/* Serve a client again within ms (the listener reaps, sheds, pauses). */
static void
serves_again(int port, int ms)
{
	char *target = xasprintf("tcp:127.0.0.1:%d", port);
	struct e2e_run r;
	int64_t end;

	for (end = now_ms() + ms;; nap_ms(50)) {
		rsh(&r, NULL, target, "add", "2", "3");
		if (e2e_exited(r.status, 0) || now_ms() > end)
			break;
	}
	assert_exit(&r, 0, "dopy-rsh after the others left");
	cr_assert_str_eq(r.out, "5\n");
}

/* A forking listener keeps no connection's descriptor: only with none
 * to spare is it out of them. */
static const struct {
	const char	*mode;
	int		 spare;		/* descriptors over those it has */
} fd_limits[] = { { "-c64", 0 }, { "-s", 6 } };
E2E_TABLE_PARAMS(launch, out_of_descriptors, fd_limits)

/*
 * The listener may open few or no more descriptors than it has, and
 * thirty clients connect: those it cannot take are told dopy.Busy (or
 * just closed), it does not spin on the pending connections, and once
 * they leave (and the limit is back) it serves again.
 */
ParameterizedTest(size_t *i, launch, out_of_descriptors, .timeout = 40)
{
	const char *opts[] = { fd_limits[*i].mode, NULL };
	struct rlimit rl, old;
	struct e2e_proc p;
	struct e2e_frame f;
	int port, fd[30], n, busy = 0, r;
	long ticks, hz = sysconf(_SC_CLK_TCK);

	port = start_dopyd_tcp(&p, opts);
	/* -B prints the port before the listener has all it keeps open. */
	cr_assert(wait_in_file(p.errpath, "listening on", 1, 5000) == 1);
	cr_assert_eq(prlimit(p.pid, RLIMIT_NOFILE, NULL, &old), 0);
	rl.rlim_cur = (rlim_t)(count_fds(p.pid) + fd_limits[*i].spare);
	rl.rlim_max = old.rlim_max;	/* so the limit can come back */
	cr_assert_eq(prlimit(p.pid, RLIMIT_NOFILE, &rl, NULL), 0,
	    "prlimit: %s", strerror(errno));
	for (n = 0; n < 30; n++)
		fd[n] = tcp_connect(NULL, port);
	nap_ms(300);
	ticks = cpu_ticks(p.pid);
	nap_ms(2000);
	ticks = cpu_ticks(p.pid) - ticks;
	cr_log_info("%s: %ld ticks of CPU in 2 s", opts[0], ticks);
	cr_assert(ticks < hz / 5, "the listener (%s) used %ld ticks of CPU in "
	    "2 s, want under %ld", opts[0], ticks, hz / 5);
	for (n = 0; n < 30; n++) {
		/* Served ones wait for our HELLO: nothing comes (-1). */
		if ((r = e2e_read_frame(fd[n], &f, 100)) == 1) {
			keep(f.payload);
			busy += f.type == DOPY_F_ERROR;
		}
		close(fd[n]);
	}
	cr_log_info("%d of 30 told dopy.Busy", busy);
	cr_assert_gt(busy, 0, "nobody was told the server is busy");
	cr_assert_gt(count_in_file(p.errpath, "out of descriptors"), 0);
	cr_assert_eq(prlimit(p.pid, RLIMIT_NOFILE, &old, NULL), 0);
	serves_again(port, 5000);
	stop_dopyd(&p);
}

/* One call of cb.watch(object, method, ms) as CALL id, into b. */
static void
put_watch(struct dopy_buf *b, uint32_t id)
{
	dopy_value *a[3] = { dopy_value_string("client"),
	    dopy_value_string("tick"), dopy_value_int(60000) };

	e2e_call(b, id, "cb", "watch", 3, NULL, a);
}

/*
 * -s runs no watchers, so cb.watch is refused there with a clear error
 * rather than leaving a timer descriptor behind: 300 calls do not grow
 * the listener's descriptors.
 */
Test(launch, single_process_refuses_watchers, .timeout = 40)
{
	static const char *const opts[] = { "-s", NULL };
	struct dopy_buf b;
	struct e2e_proc p;
	dopy_error *e;
	int port, fd, before, after;
	uint32_t id;

	port = start_dopyd_tcp(&p, opts);
	fd = tcp_connect(NULL, port);
	raw_hello(fd);
	before = count_fds(p.pid);
	dopy_buf_init(&b);
	for (id = 1; id <= 300; id++)
		put_watch(&b, id);
	cr_assert(e2e_write(fd, b.data + b.off, b.len - b.off) == 0);
	dopy_buf_release(&b);
	for (id = 1; id <= 300; id++) {
		e = e2e_expect_error(fd, id, "cb.NoTimer");
		keep(e);
	}
	cr_assert_not_null(strstr(dopy_error_message(e), "(-s)"),
	    "cb.watch: %s", dopy_error_message(e));
	after = count_fds(p.pid);
	cr_assert(after <= before, "%d descriptors before 300 cb.watch, %d "
	    "after", before, after);
	close(fd);
	stop_dopyd(&p);
}

/*
 * -c 1: a client leaves while its process is still busy ending (a gone
 * hook sleeping 3 s); the cap counts connections, so the next client is
 * served at once, not told dopy.Busy.
 */
Test(launch, cap_counts_connections, .timeout = 40)
{
	static const char *const opts[] = { "-c", "1", NULL };
	dopy_value *a[1] = { dopy_value_int(3000) };
	struct dopy_buf b;
	struct e2e_proc p;
	int port, fd;
	int64_t t0;

	port = start_dopyd_tcp(&p, opts);
	fd = tcp_connect(NULL, port);
	raw_hello(fd);
	dopy_buf_init(&b);
	e2e_call(&b, 1, "cb", "linger", 1, NULL, a);
	cr_assert(e2e_write(fd, b.data + b.off, b.len - b.off) == 0);
	dopy_buf_release(&b);
	dopy_value_free(e2e_expect_reply(fd, 1));
	close(fd);
	t0 = now_ms();
	cr_assert(wait_in_file(p.errpath, "]: exit 127.0.0.1", 1, 2000) == 1,
	    "the connection did not end");
	rsh_ok(NULL, xasprintf("tcp:127.0.0.1:%d", port), "add", "2", "3",
	    "5\n");
	cr_assert(now_ms() - t0 < 2500, "served only after %lld ms",
	    (long long)(now_ms() - t0));
	cr_assert_eq(count_in_file(p.errpath, "too many connections"), 0);
	stop_dopyd(&p);
}

/* ------------------------------------------------------------------ */
/* The systemd units, checked by systemd itself. */

Test(launch, systemd_units_verify, .timeout = 30)
{
	static const char *const units[] = { "dopy.socket", "dopy@.service",
	    "dopy-listen.socket", "dopy-listen.service" };
	char *argv[8], *rel, *path;
	struct e2e_run r;
	size_t i;

	launcher("systemd", "/usr/bin/systemd-analyze");
	argv[0] = "systemd-analyze";
	argv[1] = "verify";
	argv[2] = "--man=no";
	for (i = 0; i < 4; i++) {
		rel = xasprintf("inetd/%s", units[i]);
		path = tpath(units[i]);
		spit(path, replace_all(shipped(rel), "/usr/local/bin/dopyd",
		    bin("dopyd")));
		argv[3 + i] = path;
	}
	argv[7] = NULL;
	run(&r, NULL, E2E_WAIT_MS, argv);
	assert_exit(&r, 0, "systemd-analyze verify");
	cr_assert_str_eq(r.err, "", "systemd-analyze verify:\n%s", r.err);
}

/* ------------------------------------------------------------------ */
/* Isolated calls under the launchers (suite isolated; e2e_isolated.c
 * has them over pipes): iso's methods have a grace of 300 ms. */

#define ISO_GRACE_MS	300	/* bin/testobj_iso.c */
#define ISO_SLACK_MS	700	/* from the end of the grace to the answer */

static dopy_conn *
connect_to(const char *target)
{
	dopy_conn *c = NULL;
	dopy_error *e = NULL;

	if (dopy_connect(target, &c, &e) < 0)
		cr_assert_fail("%s: %s", target, dopy_error_message(e));
	return c;
}

static void
took_a_grace(int64_t took, int64_t before, const char *what)
{
	cr_assert_geq(took, before + ISO_GRACE_MS - 20, "%s: %lld ms",
	    what, (long long)took);
	cr_assert_lt(took, before + ISO_GRACE_MS + ISO_SLACK_MS, "%s: %lld "
	    "ms", what, (long long)took);
}

/*
 * Through target: iso.stubborn, deaf to cancels, killed after its grace
 * once cancelled and once past its deadline; crashes answered with
 * their signal (the child's status is the call's, whoever else waits);
 * the connection going on in the same process, no child left.  Returns
 * that process's pid.
 */
static long
isolated_calls(const char *target)
{
	dopy_conn *c = connect_to(target);
	dopy_proxy *p = dopy_proxy_new(c, "iso");
	dopy_value *v = NULL;
	dopy_error *e;
	int64_t pid, took;
	int i;

	pid = e2e_call_int(p, "pid", NULL);
	e = e2e_cancelled(p, "stubborn", 10000, &took);
	cr_assert(strstr(dopy_error_message(e), "iso.stubborn: cancelled by "
	    "the client; killed after a grace of 300 ms"), "%s",
	    dopy_error_message(e));
	took_a_grace(took, 0, "cancel to answer");
	dopy_error_free(e);
	took_a_grace(e2e_stubborn_past(c, p, 200), 200, "deadline to the "
	    "next answer");
	for (i = 0; i < 12; i++) {
		e = NULL;
		cr_assert_eq(dopy_proxy_call(p, "crash", NULL, &v, &e),
		    DOPY_E_REMOTE);
		cr_assert(strstr(dopy_error_message(e), "iso.crash: the "
		    "isolated call died of signal 11"), "crash %d: %s", i,
		    dopy_error_message(e));
		dopy_error_free(e);
	}
	cr_assert_neq(e2e_call_int(p, "childpid", NULL), pid);
	cr_assert_eq(e2e_call_int(p, "stubborn", e2e_int_arg(5)), 5);
	/* A child is reaped after its answer, before the next call. */
	cr_assert_eq(e2e_call_int(p, "pid", NULL), pid);
	cr_assert_eq(e2e_children_of(pid), 0, "a child outlived its call");
	dopy_proxy_free(p);
	dopy_conn_close(c);
	return (long)pid;
}

/* HELLO, then iso.stubborn(10000) as call 1, on a raw connection. */
static void
raw_stubborn(int out, int in)
{
	dopy_value *args[1] = { dopy_value_int(10000) };
	struct dopy_buf b;
	struct e2e_frame f;

	dopy_buf_init(&b);
	e2e_hello(&b, DOPY_PROTOCOL, DOPY_FRAME_DEFAULT);
	e2e_call(&b, 1, "iso", "stubborn", 1, NULL, args);
	cr_assert(e2e_write(out, b.data + b.off, b.len - b.off) == 0);
	dopy_buf_release(&b);
	cr_assert(e2e_read_frame(in, &f, E2E_WAIT_MS) == 1 &&
	    f.type == DOPY_F_HELLO, "no HELLO came back");
	free(f.payload);
	nap_ms(100);
}

/* A client that leaves in the middle of the call: its connection's
 * process kills it after its grace (the listener's log says so). */
static void
client_leaves(int port, const char *log)
{
	int fd = tcp_connect(NULL, port), n = count_in_file(log,
	    "the client has gone; it ended with dopy.Cancelled");
	int64_t t0;

	raw_stubborn(fd, fd);
	t0 = now_ms();
	close(fd);
	cr_assert_eq(wait_in_file(log, "the client has gone; it ended with "
	    "dopy.Cancelled", n + 1, 5000), n + 1, "the call was not "
	    "stopped");
	took_a_grace(now_ms() - t0, 0, "EOF to the kill");
	cr_assert(count_in_file(log, "killed after its grace; answered for "
	    "it dopy.Cancelled") > 0);
}

Test(isolated, forking_listener, .timeout = 40)
{
	struct e2e_proc p;
	int port = start_dopyd_tcp(&p, NULL);
	long pid;

	pid = isolated_calls(xasprintf("tcp://127.0.0.1:%d", port));
	cr_assert_neq(pid, (long)p.pid, "the call ran in the listener");
	client_leaves(port, p.errpath);
	stop_dopyd(&p);
}

/*
 * -s: one process serves every connection, one method at a time; an
 * isolated call runs in a child, so while it does, the others' calls
 * (in process, or isolated too) go on.
 */
Test(isolated, single_process_serves_others_meanwhile, .timeout = 40)
{
	static const char *const opts[] = { "-s", NULL };
	struct e2e_proc p;
	int port = start_dopyd_tcp(&p, opts);
	char *target = xasprintf("tcp://127.0.0.1:%d", port);
	dopy_conn *a, *b;
	dopy_proxy *pa, *pb;
	dopy_future *f = NULL;
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	dopy_args *args = e2e_int_arg(1500);
	int64_t t0, took;

	cr_assert_eq(isolated_calls(target), (long)p.pid);
	a = connect_to(target);
	b = connect_to(target);
	pa = dopy_proxy_new(a, "iso");
	pb = dopy_proxy_new(b, "iso");
	t0 = now_ms();
	cr_assert_eq(dopy_proxy_call_async(pa, "stubborn", args, NULL, NULL,
	    &f, &e), 0, "%s", dopy_error_message(e));
	dopy_args_free(args);
	nap_ms(100);
	cr_assert_eq(e2e_call_int(pb, "pid", NULL), p.pid);
	took = now_ms() - t0;
	cr_log_info("-s: a call beside an isolated one answered after %lld "
	    "ms", (long long)took);
	cr_assert_lt(took, 600, "the other connection waited %lld ms for "
	    "the isolated call", (long long)took);
	cr_assert_eq(e2e_call_int(pb, "stubborn", e2e_int_arg(50)), 50);
	cr_assert_lt(now_ms() - t0, 1000);
	cr_assert_eq(dopy_future_wait(f, &v, &e), 0, "%s",
	    dopy_error_message(e));
	cr_assert_eq(dopy_value_get_int(v), 1500);
	dopy_value_free(v);
	dopy_future_free(f);
	dopy_proxy_free(pa);
	dopy_proxy_free(pb);
	dopy_conn_close(a);
	dopy_conn_close(b);
	client_leaves(port, p.errpath);
	stop_dopyd(&p);
}

/*
 * -s: a call's child keeps none of the listener's descriptors, as a
 * forked connection's process does not: a connection the server drops
 * while the call runs (at its handshake deadline here) ends for its
 * client then, not when the call's child does.
 */
Test(isolated, single_process_child_keeps_no_connection, .timeout = 40)
{
	static const char *const opts[] = { "-s", "-t", "1", NULL };
	struct e2e_proc p;
	int port = start_dopyd_tcp(&p, opts), fd;
	dopy_conn *a;
	dopy_proxy *pa;
	dopy_future *f = NULL;
	dopy_error *e = NULL;
	dopy_args *args = e2e_int_arg(4000);
	int64_t t0, dt;

	fd = tcp_connect(NULL, port);		/* no HELLO: dropped at 1 s */
	t0 = now_ms();
	a = connect_to(xasprintf("tcp://127.0.0.1:%d", port));
	pa = dopy_proxy_new(a, "iso");
	cr_assert_eq(dopy_proxy_call_async(pa, "stubborn", args, NULL, NULL,
	    &f, &e), 0, "%s", dopy_error_message(e));
	dopy_args_free(args);
	read_dropped(fd, "dopy.Timeout", 8000);
	dt = now_ms() - t0;
	close(fd);
	cr_assert_lt(dt, 2500, "dropped after %lld ms: the call's child held "
	    "the connection", (long long)dt);
	cr_assert_eq(dopy_future_cancel(f, &e), 0, "%s",
	    dopy_error_message(e));
	cr_assert_eq(dopy_future_wait(f, NULL, &e), DOPY_E_CANCELLED, "%s",
	    dopy_error_message(e));
	dopy_error_free(e);
	dopy_future_free(f);
	dopy_proxy_free(pa);
	dopy_conn_close(a);
	stop_dopyd(&p);
}

/* Over ssh: the calls, and a client whose ssh session ends. */
Test(isolated, over_ssh, .timeout = 60)
{
	struct e2e_sshd s = { .rootlogin = "prohibit-password" };
	char *log = tpath("iso-ssh.log"), *cmd, *line;
	char *argv[] = { "sh", "-c", NULL, NULL };
	struct e2e_proc c;
	int64_t t0;

	e2e_sshd_start(&s, "restrict");
	isolated_calls(xasprintf("ssh://root@127.0.0.1:%d/%s -L %s", s.port,
	    bin("dopyd"), tpath("iso-calls.log")));
	cmd = xasprintf("exec %s -T -o BatchMode=yes -p %d root@127.0.0.1 "
	    "%s -L %s", s.ssh, s.port, bin("dopyd"), log);
	argv[2] = cmd;
	e2e_spawn(&c, argv);
	raw_stubborn(c.in, c.out);
	t0 = now_ms();
	e2e_close(&c);
	line = keep(e2e_dopyd_exit_line(log, 5000));
	took_a_grace(now_ms() - t0, 0, "end of the ssh session to dopyd's "
	    "exit");
	cr_assert_not_null(strstr(line, " calls=1 "), "%s", line);
	cr_assert_eq(count_in_file(log, "iso.stubborn: the client has gone; "
	    "it ended with dopy.Cancelled"), 1);
	cr_assert(e2e_exited(e2e_wait(&c, 5000), 0), "ssh");
	stop(&s.p);
}
