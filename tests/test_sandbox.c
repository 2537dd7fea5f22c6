/*
 * test_sandbox.c - lib/server/sandbox.c and sbxfilter.c: the spec
 * parser, what a limit's signal is said to mean, and, in a forked
 * child, what a crash reporter's handler will read after the sandbox
 * is applied (dopy_sandbox_syscall_name, dopy_sandbox_describe).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "server/server.h"

Test(sandbox, parses_profiles_and_limits)
{
	struct dopy_sandbox b;
	char err[256] = "";

	cr_assert_eq(dopy_sandbox_parse(&b, "compute,nonet,cpu=10,nofile=64,"
	    "fsize=1M,nproc=0", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(b.profiles, DOPY_SBX_COMPUTE | DOPY_SBX_NONET);
	cr_assert(b.nnp);
	cr_assert_eq(b.lim[DOPY_SBX_CPU], 10);
	cr_assert_eq(b.lim[DOPY_SBX_NOFILE], 64);
	cr_assert_eq(b.lim[DOPY_SBX_FSIZE], 1 << 20);
	cr_assert_eq(b.lim[DOPY_SBX_NPROC], 0);
	cr_assert_eq(b.limset, (1u << DOPY_SBX_CPU) | (1u << DOPY_SBX_NOFILE) |
	    (1u << DOPY_SBX_FSIZE) | (1u << DOPY_SBX_NPROC));
	cr_assert_eq(dopy_sandbox_parse(&b, "nnp", err, sizeof(err)), 0);
	cr_assert(b.nnp && b.profiles == 0 && b.limset == 0);
}

static const struct {
	const char	*spec;
	const char	*err;
} bad[] = {
	{ "", "an empty item" },
	{ "compute,", "an empty item" },
	{ "sandy", "unknown profile 'sandy'" },
	{ "ram=1G", "unknown limit 'ram'" },
	{ "cpu=0", "cpu=0: too small" },
	{ "cpu=-1", "cpu=-1: want a number" },
	{ "as=1K", "as=1K: too small" },
	{ "fsize=1T", "fsize=1T: want a number, then K, M or G" },
	{ "fsize=99999999999G", "want a number, then K, M or G" },
	{ "nofile=1,nofile=2", "nofile=2: given twice" },
	{ "write=tmp", "write=tmp: want an absolute path" },
};

Test(sandbox, refuses_bad_specs_naming_the_item)
{
	struct dopy_sandbox b;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(dopy_sandbox_parse(&b, bad[i].spec, err,
		    sizeof(err)), DOPY_E_USAGE, "%s was taken", bad[i].spec);
		cr_assert(strstr(err, bad[i].err) != NULL, "%s: %s",
		    bad[i].spec, err);
	}
}

Test(sandbox, explains_each_limit_signal)
{
	struct dopy_sandbox b;
	char err[256], why[600];

	cr_assert_eq(dopy_sandbox_parse(&b, "readonly,cpu=10,fsize=1M", err,
	    sizeof(err)), 0);
	dopy_sandbox_explain(&b, SIGXCPU, why, sizeof(why));
	cr_assert_str_eq(why, "the CPU time limit of 10 s (sandbox "
	    "readonly,cpu=10,fsize=1M)");
	dopy_sandbox_explain(&b, SIGXFSZ, why, sizeof(why));
	cr_assert_str_eq(why, "the file-size limit of 1 MiB (sandbox "
	    "readonly,cpu=10,fsize=1M)");
	dopy_sandbox_explain(&b, SIGSYS, why, sizeof(why));
	cr_assert_str_eq(why, "a system call that the sandbox blocks (sandbox "
	    "readonly,cpu=10,fsize=1M)");
	dopy_sandbox_explain(&b, SIGSEGV, why, sizeof(why));
	cr_assert_str_eq(why, "", "no as= limit: nothing to say");
	dopy_sandbox_explain(NULL, SIGXCPU, why, sizeof(why));
	cr_assert_str_eq(why, "");
}

/* In the child: apply, report what a signal handler would read, then
 * open a file, which compute traps. */
static void
child(int fd)
{
	dopy_server *s = dopy_server_new();
	struct dopy_sandbox b;
	char err[256], out[1024], cpu[600], shortbuf[4];
	const char *name, *none;

	if (s == NULL || dopy_sandbox_parse(&b, "compute,cpu=10", err,
	    sizeof(err)) < 0 || dopy_sandbox_apply(s, &b, err, sizeof(err)) < 0)
		_exit(3);
	name = dopy_sandbox_syscall_name(SYS_openat);
	none = dopy_sandbox_syscall_name(SYS_getpid);
	dopy_sandbox_describe(SIGXCPU, cpu, sizeof(cpu));
	snprintf(out, sizeof(out), "%s|%s|%s|%zu", name ? name : "(null)",
	    none ? none : "(null)", cpu, dopy_sandbox_describe(SIGXCPU,
	    shortbuf, sizeof(shortbuf)));
	(void)write(fd, out, strlen(out));
	(void)open("/etc/passwd", O_RDONLY);
	_exit(0);
}

Test(sandbox, applied_names_the_trapped_call)
{
	char buf[1024] = "";
	int p[2], st;
	ssize_t n;
	pid_t pid;

	cr_assert_eq(pipe(p), 0);
	cr_assert((pid = fork()) >= 0);
	if (pid == 0) {
		close(p[0]);
		child(p[1]);
	}
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(n > 0, "the child wrote nothing (%d)", st);
	cr_assert_str_eq(buf, "openat|(null)|the CPU time limit of 10 s "
	    "(sandbox compute,cpu=10)|3");
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "status %#x",
	    st);
}
