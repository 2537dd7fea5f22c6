/*
 * e2e_sandbox.c - sandboxes (dopy_server_set_sandbox; dopyd -S and -M)
 * with the real dopyd's `sandbox` object: per method, what each
 * profile and limit stops is reported to the client by name and the
 * connection goes on; per connection, the process ends by the limit's
 * signal and the listener's other connections are unaffected; and the
 * option errors, at start.
 *
 * Until the crash reporter lands, a connection sandbox's violation
 * reaches the client as a lost connection: those tests check the
 * signal the server died of (and accept a dopy.Crash frame, which the
 * reporter will add).  Under AddressSanitizer an address-space limit
 * cannot work (dopyd refuses it), and the sanitizer's exit-time leak
 * check opens files that compute traps, after which the process spins
 * instead of ending: those tests are skipped with the reason.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e_util.h"
#include "internal.h"	/* dopy_now_ms */

#if defined(__SANITIZE_ADDRESS__)
#define ASAN	1
#else
#define ASAN	0
#endif

static void
skip_as_under_asan(void)
{
	if (ASAN)
		cr_skip_test("AddressSanitizer reserves terabytes of address "
		    "space: an address-space limit cannot work (dopyd refuses "
		    "as= there)");
}

/* dopyd with these options (one string, split by the shell), over a
 * pipe, logging to its own file in the test's directory. */
static dopy_conn *
sandboxed(const char *opts)
{
	char cmd[2048];
	dopy_conn *c = NULL;
	dopy_error *e = NULL;

	snprintf(cmd, sizeof(cmd), "exec %s -L %s/dopyd.log %s",
	    e2e_bin("dopyd"), e2e_tmpdir(), opts);
	cr_assert_eq(dopy_conn_spawn(cmd, &c, &e), 0, "%s",
	    dopy_error_message(e));
	return c;
}

static dopy_args *
str_arg(const char *name, const char *s)
{
	dopy_args *a = dopy_args_new();

	cr_assert_not_null(a);
	cr_assert_eq(dopy_args_string(a, name, s), 0);
	return a;
}

static dopy_args *
int_arg(const char *name, int64_t i)
{
	dopy_args *a = dopy_args_new();

	cr_assert_not_null(a);
	cr_assert_eq(dopy_args_int(a, name, i), 0);
	return a;
}

/* method(a) must fail with the error name whose message holds want. */
static void
expect_error(dopy_proxy *p, const char *method, dopy_args *a,
    const char *name, const char *want)
{
	dopy_value *v = NULL;
	dopy_error *e = NULL;

	cr_assert_eq(dopy_proxy_call(p, method, a, &v, &e), DOPY_E_REMOTE,
	    "%s succeeded", method);
	dopy_args_free(a);
	cr_assert_str_eq(dopy_error_name(e), name, "%s: %s",
	    dopy_error_name(e), dopy_error_message(e));
	cr_assert(strstr(dopy_error_message(e), want) != NULL, "%s",
	    dopy_error_message(e));
	cr_log_info("sandbox: %s: %s", dopy_error_name(e),
	    dopy_error_message(e));
	dopy_error_free(e);
}

static char *
tmp_path(const char *name)
{
	/* A few at once, none to free: a test's leak would be reported. */
	static char ring[4][600];
	static int next;
	char *p = ring[next++ % 4];

	snprintf(p, sizeof(ring[0]), "%s/%s", e2e_tmpdir(), name);
	return p;
}

/* The connection (and its process) goes on after a sandboxed call. */
static void
still_serves(dopy_proxy *p, int64_t pid)
{
	cr_assert_eq(e2e_call_int(p, "pid", NULL), pid);
	cr_assert_eq(e2e_call_int(p, "spin", int_arg("ms", 1)), 1);
}

static void
done(dopy_conn *c, dopy_proxy *p)
{
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}

/* ---- per method (-M): the child's signal, answered for by name ---- */

Test(sandbox, method_compute_cannot_open, .timeout = 30)
{
	dopy_conn *c = sandboxed("-M sandbox.read=compute");
	dopy_proxy *p = dopy_proxy_new(c, "sandbox");
	int64_t pid = e2e_call_int(p, "pid", NULL);

	expect_error(p, "read", str_arg("path", "/etc/passwd"),
	    "dopy.Crashed", "(openat), a system call that the sandbox blocks "
	    "(sandbox compute))");
	still_serves(p, pid);
	/* Only the method is sandboxed: another one opens files. */
	cr_assert_gt(e2e_call_int(p, "write", str_arg("path",
	    tmp_path("w"))), 0);
	done(c, p);
}

Test(sandbox, method_readonly_cannot_write, .timeout = 30)
{
	dopy_conn *c = sandboxed("-M sandbox.write=readonly "
	    "-M sandbox.read=readonly");
	dopy_proxy *p = dopy_proxy_new(c, "sandbox");
	char *path = tmp_path("ro");

	expect_error(p, "write", str_arg("path", path), "dopy.Crashed",
	    "(openat), a system call that the sandbox blocks (sandbox "
	    "readonly))");
	cr_assert(access(path, F_OK) < 0, "%s was created", path);
	/* Reading is what readonly allows. */
	cr_assert_gt(e2e_call_int(p, "read", str_arg("path", "/etc/passwd")),
	    0);
	done(c, p);
}

Test(sandbox, method_nonet_cannot_connect, .timeout = 30)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	dopy_conn *c = sandboxed("-M sandbox.connect=nonet");
	dopy_proxy *p = dopy_proxy_new(c, "sandbox");
	int fd;

	/* A port that accepts, so that only the sandbox can refuse. */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(listen(fd, 4), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	expect_error(p, "connect", int_arg("port", ntohs(sin.sin_port)),
	    "dopy.Crashed", "(sandbox nonet)");
	done(c, p);
	/* The same method, unsandboxed, connects. */
	c = sandboxed("");
	p = dopy_proxy_new(c, "sandbox");
	cr_assert_eq(e2e_call_int(p, "connect", int_arg("port",
	    ntohs(sin.sin_port))), ntohs(sin.sin_port));
	done(c, p);
	close(fd);
}

Test(sandbox, method_past_its_cpu_limit, .timeout = 30)
{
	dopy_conn *c = sandboxed("-M sandbox.spin=cpu=1");
	dopy_proxy *p = dopy_proxy_new(c, "sandbox");
	int64_t t0 = dopy_now_ms(), took;

	expect_error(p, "spin", int_arg("ms", 20000), "dopy.Crashed",
	    "signal 24 (SIGXCPU: CPU time limit exceeded, the CPU time limit "
	    "of 1 s (sandbox cpu=1))");
	took = dopy_now_ms() - t0;
	cr_log_info("sandbox: cpu=1 stopped a spin after %lld ms",
	    (long long)took);
	cr_assert_lt(took, 5000, "took %lld ms", (long long)took);
	/* Under the limit, it answers. */
	cr_assert_eq(e2e_call_int(p, "spin", int_arg("ms", 100)), 100);
	done(c, p);
}

Test(sandbox, method_past_its_file_size_limit, .timeout = 30)
{
	dopy_conn *c = sandboxed("-M sandbox.write=fsize=4K");
	dopy_proxy *p = dopy_proxy_new(c, "sandbox");
	dopy_args *a = str_arg("path", tmp_path("big"));

	cr_assert_eq(dopy_args_int(a, "n", 10000), 0);
	expect_error(p, "write", a, "dopy.Crashed", "signal 25 (SIGXFSZ: file "
	    "size limit exceeded, the file-size limit of 4 KiB (sandbox "
	    "fsize=4K))");
	a = str_arg("path", tmp_path("small"));
	cr_assert_eq(dopy_args_int(a, "n", 4096), 0);
	cr_assert_eq(e2e_call_int(p, "write", a), 4096);
	done(c, p);
}

Test(sandbox, method_past_its_address_space_limit, .timeout = 30)
{
	dopy_conn *c;
	dopy_proxy *p;

	skip_as_under_asan();
	c = sandboxed("-M sandbox.alloc=as=128M");
	p = dopy_proxy_new(c, "sandbox");
	expect_error(p, "alloc", int_arg("mib", 512), "dopy.NoMemory",
	    "cannot allocate 536870912 bytes: the address-space limit of "
	    "128 MiB (sandbox as=128M)");
	cr_assert_eq(e2e_call_int(p, "alloc", int_arg("mib", 16)), 16);
	done(c, p);
}

Test(sandbox, method_under_a_process_limit, .timeout = 30)
{
	dopy_conn *c = sandboxed("-M sandbox.fork=nproc=0");
	dopy_proxy *p = dopy_proxy_new(c, "sandbox");

	expect_error(p, "fork", NULL, "sandbox.Failed",
	    "fork: Resource temporarily unavailable");
	done(c, p);
	c = sandboxed("");
	p = dopy_proxy_new(c, "sandbox");
	cr_assert_eq(e2e_call_int(p, "fork", NULL), 7);
	done(c, p);
}

/* A Landlock denial is an errno the method sees, not a signal. */
Test(sandbox, method_landlock_paths, .timeout = 30)
{
	dopy_conn *c = sandboxed("-M sandbox.read=read=/etc/hostname");
	dopy_proxy *p = dopy_proxy_new(c, "sandbox");

	cr_assert_geq(e2e_call_int(p, "read", str_arg("path",
	    "/etc/hostname")), 0);
	expect_error(p, "read", str_arg("path", "/etc/passwd"),
	    "sandbox.Failed", "open /etc/passwd: Permission denied");
	done(c, p);
}

/* A method sandboxed through the API keeps -I's grace and stays
 * isolated: the interface it publishes says so. */
Test(sandbox, method_made_isolated, .timeout = 30)
{
	dopy_conn *c = sandboxed("-M sandbox.pid=nonet");
	dopy_proxy *p = dopy_proxy_new(c, "sandbox");
	dopy_proxy *iso = dopy_proxy_new(c, "iso");
	int64_t conn_pid = e2e_call_int(iso, "pid", NULL);

	cr_assert_neq(e2e_call_int(p, "pid", NULL), conn_pid,
	    "the sandboxed method ran in the connection process");
	dopy_proxy_free(iso);
	done(c, p);
}

/* ---- per connection (-S): the process ends by the limit's signal ---- */

/* dopyd -S spec over a pipe: HELLO, then sandbox.method(arg) as call
 * 1; the client gets the crash reporter's dopy.Crash, whose message
 * says want (the system call, the limit), and the server ends by signal
 * sig. */
static void
connection_dies(const char *spec, const char *method, const char *pname,
    dopy_value *arg, int sig, const char *want)
{
	const char *names[] = { pname };
	char opt[256];
	struct e2e_proc p;
	struct dopy_buf b;
	struct e2e_frame f;
	dopy_error *e = NULL;
	int st, r;

	snprintf(opt, sizeof(opt), "-S%s", spec);
	e2e_dopyd(&p, 1, E2E_MAX_FRAME, opt);
	dopy_buf_init(&b);
	e2e_call(&b, 1, "sandbox", method, 1, names, &arg);
	e2e_send(&p, &b);
	dopy_buf_release(&b);
	r = e2e_read_frame(p.out, &f, E2E_WAIT_MS);
	cr_assert_eq(r, 1, "no crash report from dopyd -S %s", spec);
	cr_assert_eq(f.type, DOPY_F_ERROR, "frame type %u", f.type);
	cr_assert_eq(dopy_msg_error_get(f.payload, f.len, &e), 0);
	cr_assert_str_eq(dopy_error_name(e), "dopy.Crash");
	cr_assert_not_null(strstr(dopy_error_message(e), want), "-S %s: '%s' "
	    "lacks '%s'", spec, dopy_error_message(e), want);
	cr_log_info("sandbox: -S %s: %s", spec, dopy_error_message(e));
	dopy_error_free(e);
	free(f.payload);
	e2e_close(&p);
	st = e2e_wait(&p, E2E_WAIT_MS);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == sig, "dopyd -S %s "
	    "ended with %s, not signal %d", spec, e2e_status(st), sig);
}

Test(sandbox, connection_compute_cannot_open, .timeout = 30)
{
	connection_dies("compute", "read", "path",
	    dopy_value_string("/etc/passwd"), SIGSYS, "(openat), a system call "
	    "that the sandbox blocks (sandbox compute)");
}

Test(sandbox, connection_readonly_cannot_write, .timeout = 30)
{
	char *path = tmp_path("conn-ro");

	connection_dies("readonly", "write", "path", dopy_value_string(path),
	    SIGSYS, "(openat), a system call that the sandbox blocks (sandbox "
	    "readonly)");
	cr_assert(access(path, F_OK) < 0, "%s was created", path);
}

Test(sandbox, connection_past_its_cpu_limit, .timeout = 30)
{
	connection_dies("cpu=1", "spin", "ms", dopy_value_int(20000),
	    SIGXCPU, "(SIGXCPU: CPU time limit exceeded, the CPU time limit of "
	    "1 s (sandbox cpu=1))");
}

Test(sandbox, connection_past_its_file_size_limit, .timeout = 30)
{
#define LIMIT	"the file-size limit of 4 KiB (sandbox fsize=4K)"
	dopy_value *n = dopy_value_int(10000);
	const char *names[] = { "path", "n" };
	dopy_value *args[2];
	struct e2e_proc p;
	struct dopy_buf b;
	struct e2e_frame f;
	int st;

	args[0] = dopy_value_string(tmp_path("conn-big"));
	args[1] = n;
	e2e_dopyd(&p, 1, E2E_MAX_FRAME, "-Sfsize=4K");
	dopy_buf_init(&b);
	e2e_call(&b, 1, "sandbox", "write", 2, names, args);
	e2e_send(&p, &b);
	dopy_buf_release(&b);
	cr_assert_eq(e2e_read_frame(p.out, &f, E2E_WAIT_MS), 1,
	    "no crash report");
	cr_assert_not_null(memmem(f.payload, f.len, LIMIT, strlen(LIMIT)),
	    "the report does not name the limit");
	free(f.payload);
	e2e_close(&p);
	st = e2e_wait(&p, E2E_WAIT_MS);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGXFSZ, "ended with %s",
	    e2e_status(st));
}

/* The limit is the connection process's: its own malloc fails, the
 * method says so, and the connection goes on. */
Test(sandbox, connection_address_space_limit, .timeout = 30)
{
	dopy_conn *c;
	dopy_proxy *p;
	int64_t pid;

	skip_as_under_asan();
	c = sandboxed("-S as=256M");
	p = dopy_proxy_new(c, "sandbox");
	pid = e2e_call_int(p, "pid", NULL);
	expect_error(p, "alloc", int_arg("mib", 1024), "dopy.NoMemory",
	    "the address-space limit of 256 MiB (sandbox as=256M)");
	still_serves(p, pid);
	done(c, p);
}

/* What the profile allows still works, and the protocol with it:
 * introspection, errors, an isolated method's fork. */
Test(sandbox, connection_compute_serves, .timeout = 30)
{
	dopy_conn *c;
	dopy_proxy *p, *iso;
	int64_t pid;

	if (ASAN)
		cr_skip_test("AddressSanitizer's exit-time leak check opens "
		    "/proc files, which compute traps: the process then "
		    "spins at exit instead of ending");
	c = sandboxed("-S compute,cpu=30,nofile=64");
	p = dopy_proxy_new(c, "sandbox");
	iso = dopy_proxy_new(c, "iso");
	pid = e2e_call_int(p, "pid", NULL);
	still_serves(p, pid);
	cr_assert_neq(e2e_call_int(iso, "childpid", NULL), pid);
	expect_error(p, "spin", int_arg("ms", -1), "sandbox.BadArgument",
	    "want 0 <= ms");
	dopy_proxy_free(iso);
	done(c, p);
}

/* ---- the listener: one connection's violation is its own ---- */

static void
stop(struct e2e_proc *p)
{
	kill(p->pid, SIGTERM);
	cr_assert(e2e_exited(e2e_wait(p, 5000), 0), "dopyd after SIGTERM");
}

static void
others_unaffected(const char *opt, int per_method)
{
	char target[700];
	struct e2e_proc l;
	dopy_conn *c1, *c2, *c3;
	dopy_proxy *p1, *p2, *p3;
	dopy_args *a = str_arg("path", "/etc/passwd");
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	int64_t pid2;
	int r;

	snprintf(target, sizeof(target), "unix:%s/sbx.sock", e2e_tmpdir());
	e2e_listener(&l, target, opt);
	c1 = e2e_connect(target);
	c2 = e2e_connect(target);
	p1 = dopy_proxy_new(c1, "sandbox");
	p2 = dopy_proxy_new(c2, "sandbox");
	pid2 = e2e_call_int(p2, "pid", NULL);
	r = dopy_proxy_call(p1, "read", a, &v, &e);
	dopy_args_free(a);
	cr_assert_lt(r, 0, "the sandbox let read through");
	if (per_method)
		cr_assert_str_eq(dopy_error_name(e), "dopy.Crashed");
	dopy_error_free(e);
	/* The other connection, its process, and new ones go on. */
	still_serves(p2, pid2);
	c3 = e2e_connect(target);
	p3 = dopy_proxy_new(c3, "sandbox");
	cr_assert_gt(e2e_call_int(p3, "pid", NULL), 0);
	dopy_proxy_free(p3);
	dopy_proxy_free(p2);
	dopy_proxy_free(p1);
	dopy_conn_close(c3);	/* -1: no child of ours */
	dopy_conn_close(c2);
	dopy_conn_close(c1);
	stop(&l);
}

Test(sandbox, listener_method_others_unaffected, .timeout = 30)
{
	others_unaffected("-Msandbox.read=compute", 1);
}

Test(sandbox, listener_connection_others_unaffected, .timeout = 30)
{
	if (ASAN)
		cr_skip_test("AddressSanitizer's exit-time leak check opens "
		    "/proc files, which compute traps: the process then "
		    "spins at exit instead of ending");
	others_unaffected("-Scompute", 0);
}

/* ---- options: errors at start, naming what is wrong ---- */

static const struct {
	const char	*opt[4];
	const char	*err;
} bad[] = {
	{ { "-S", "comptue" }, "-S comptue: unknown profile 'comptue'" },
	{ { "-S", "compute,mem=1G" }, "unknown limit 'mem'" },
	{ { "-S", "cpu=ten" }, "cpu=ten: want a number" },
	{ { "-S", "as=12Q" }, "as=12Q: want a number, then K, M or G" },
	{ { "-S", "cpu=1,cpu=2" }, "cpu=2: given twice" },
	{ { "-S", "nonet,,cpu=1" }, "an empty item" },
	{ { "-S", "read=etc" }, "read=etc: want an absolute path" },
	{ { "-S", "read=/nonexistent/dopy" }, "No such file or directory" },
	{ { "-M", "sandbox.read" }, "want object.method=sandbox" },
	{ { "-M", "sandbox.nosuch=compute" }, "no method nosuch" },
	{ { "-M", "sandbox.read=bogus" }, "unknown profile 'bogus'" },
	{ { "-S", "nproc=0" }, "nproc=0 forbids the fork of isolated "
	    "methods (iso." },
	{ { "-S", "readonly", "-P", "/tmp" }, "forbid the files of the -N, "
	    "-P and -e stores" },
	{ { "-S", "fsize=1M", "-L", "/dev/null" }, "fsize= would end the "
	    "connection once the log file" },
	{ { "-S", "nonet", "-s" }, "cannot work in -s mode" },
};
E2E_TABLE_PARAMS(sandbox, option_errors, bad)

ParameterizedTest(size_t *i, sandbox, option_errors, .timeout = 30)
{
	char *argv[8] = { (char *)e2e_bin("dopyd") };
	size_t k;

	for (k = 0; k < 4 && bad[*i].opt[k] != NULL; k++)
		argv[k + 1] = (char *)bad[*i].opt[k];
	e2e_run_expect(argv, 2, "", bad[*i].err);
}
