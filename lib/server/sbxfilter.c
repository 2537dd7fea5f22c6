/*
 * sbxfilter.c - a sandbox's seccomp filter (libseccomp) and Landlock
 * rules (sandbox.c applies them; dopy(7) says what each profile
 * allows).
 *
 * The filter is a deny list: everything is allowed but what the
 * profiles name.  An allow list would be tighter, but every libc, every
 * sanitizer runtime and every library a method uses would need its own
 * entries, and a missing one kills a correct program.  What is denied
 * raises SIGSYS (SCMP_ACT_TRAP), so the violation is reported by name;
 * a few calls fail with an errno instead, where a library must be able
 * to fall back (see the comments at each).
 *
 * The names of the trapped system calls are kept in a static table for
 * a crash reporter's signal handler (dopy_sandbox_syscall_name).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <sched.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "server/server.h"

#define NAMES_MAX	128

/* Kernel interfaces no sandboxed method needs, and io_uring, whose
 * operations the filter would not see: denied under every profile. */
static const char *const base[] = {
	"io_uring_setup", "io_uring_enter", "io_uring_register", "bpf",
	"mount", "umount2", "pivot_root", "chroot", "fsopen", "fsmount",
	"move_mount", "open_tree", "kexec_load", "kexec_file_load",
	"init_module", "finit_module", "delete_module", "reboot", "swapon",
	"swapoff", NULL
};
/* readonly: nothing written, created, removed or renamed (and open's
 * write flags, below). */
static const char *const changes[] = {
	"creat", "truncate", "ftruncate", "fallocate", "unlink", "unlinkat",
	"rename", "renameat", "renameat2", "mkdir", "mkdirat", "rmdir",
	"link", "linkat", "symlink", "symlinkat", "mknod", "mknodat",
	"chmod", "fchmod", "fchmodat", "chown", "fchown", "lchown",
	"fchownat", "utime", "utimes", "utimensat", "futimesat", "setxattr",
	"lsetxattr", "fsetxattr", "removexattr", "lremovexattr",
	"fremovexattr", NULL
};
/* nonet: no new sockets (below) and none of these. */
static const char *const net[] = {
	"connect", "bind", "listen", "accept", "accept4", NULL
};
/* compute: besides the others, no file opened, no program run. */
static const char *const compute[] = {
	"open", "openat", "openat2", "open_by_handle_at",
	"name_to_handle_at", "execve", "execveat", "socketpair", "uselib",
	NULL
};

static struct {
	int	nr;
	char	name[32];
} names[NAMES_MAX];
static size_t nnames;

const char *
dopy_sandbox_syscall_name(int nr)
{
	size_t i;

	for (i = 0; i < nnames; i++)
		if (names[i].nr == nr)
			return names[i].name;
	return NULL;
}

/* Kept for the signal handler, once. */
static void
remember(int nr)
{
	char *n;

	if (nnames == NAMES_MAX || dopy_sandbox_syscall_name(nr) != NULL)
		return;
	if ((n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE,
	    nr)) == NULL)
		return;
	names[nnames].nr = nr;
	strlcpy(names[nnames++].name, n, sizeof(names[0].name));
	free(n);
}

/* One rule; a system call this architecture lacks (open on arm64) is
 * skipped.  0, or -1 with err. */
static int
rule(scmp_filter_ctx f, uint32_t act, const char *name, char *err,
    size_t errlen, unsigned argc, ...)
{
	struct scmp_arg_cmp cmp[3];
	va_list ap;
	unsigned i;
	int nr, r;

	if ((nr = seccomp_syscall_resolve_name(name)) == __NR_SCMP_ERROR)
		return 0;
	va_start(ap, argc);
	for (i = 0; i < argc && i < 3; i++)
		cmp[i] = va_arg(ap, struct scmp_arg_cmp);
	va_end(ap);
	if ((r = seccomp_rule_add_array(f, act, nr, i, cmp)) < 0) {
		snprintf(err, errlen, "seccomp rule for %s: %s", name,
		    strerror(-r));
		return -1;
	}
	if (act == SCMP_ACT_TRAP)
		remember(nr);
	return 0;
}

static int
trap_all(scmp_filter_ctx f, const char *const *list, char *err,
    size_t errlen)
{
	for (; *list != NULL; list++)
		if (rule(f, SCMP_ACT_TRAP, *list, err, errlen, 0) < 0)
			return -1;
	return 0;
}

/* open and openat with a flag that writes, creates or truncates. */
static int
trap_write_opens(scmp_filter_ctx f, char *err, size_t errlen)
{
	static const struct { const char *name; unsigned arg; } o[] = {
		{ "open", 1 }, { "openat", 2 }
	};
	static const int flags[][2] = {
		{ O_ACCMODE, O_WRONLY }, { O_ACCMODE, O_RDWR },
		{ O_CREAT, O_CREAT }, { O_TRUNC, O_TRUNC }
	};
	size_t i, j;

	for (i = 0; i < 2; i++)
		for (j = 0; j < 4; j++)
			if (rule(f, SCMP_ACT_TRAP, o[i].name, err, errlen, 1,
			    SCMP_CMP(o[i].arg, SCMP_CMP_MASKED_EQ,
			    flags[j][0], flags[j][1])) < 0)
				return -1;
	/* Its flags are behind a pointer, out of the filter's sight:
	 * ENOSYS makes a caller fall back to openat, which it sees. */
	return rule(f, SCMP_ACT_ERRNO(ENOSYS), "openat2", err, errlen, 0);
}

/*
 * No new sockets, but syslog(3): while it has no connection to
 * /dev/log (no syslogd, or one restarted) it makes a datagram socket
 * at every message.  That socket fails with EACCES instead of trapping,
 * so a log line is lost rather than the connection.
 */
static int
trap_sockets(scmp_filter_ctx f, char *err, size_t errlen)
{
	if (rule(f, SCMP_ACT_TRAP, "socket", err, errlen, 1,
	    SCMP_A0(SCMP_CMP_NE, AF_UNIX)) < 0 ||
	    rule(f, SCMP_ACT_TRAP, "socket", err, errlen, 2,
	    SCMP_A0(SCMP_CMP_EQ, AF_UNIX),
	    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_STREAM)) < 0 ||
	    rule(f, SCMP_ACT_TRAP, "socket", err, errlen, 2,
	    SCMP_A0(SCMP_CMP_EQ, AF_UNIX),
	    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_SEQPACKET)) < 0 ||
	    rule(f, SCMP_ACT_ERRNO(EACCES), "socket", err, errlen, 2,
	    SCMP_A0(SCMP_CMP_EQ, AF_UNIX),
	    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_DGRAM)) < 0)
		return -1;
	return trap_all(f, net, err, errlen);
}

/*
 * nproc=0 for root too, which RLIMIT_NPROC does not bind: fork fails
 * with EAGAIN, as the limit would make it; threads stay allowed.
 * clone3's flags are behind a pointer: ENOSYS makes glibc use clone.
 */
static int
no_processes(scmp_filter_ctx f, char *err, size_t errlen)
{
	return rule(f, SCMP_ACT_ERRNO(EAGAIN), "fork", err, errlen, 0) < 0 ||
	    rule(f, SCMP_ACT_ERRNO(EAGAIN), "vfork", err, errlen, 0) < 0 ||
	    rule(f, SCMP_ACT_ERRNO(EAGAIN), "clone", err, errlen, 1,
	    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0)) < 0 ||
	    rule(f, SCMP_ACT_ERRNO(ENOSYS), "clone3", err, errlen, 0) < 0 ?
	    -1 : 0;
}

/* Limits set stay set, for root too (which may raise a hard limit). */
static int
fixed_limits(scmp_filter_ctx f, char *err, size_t errlen)
{
	return rule(f, SCMP_ACT_TRAP, "setrlimit", err, errlen, 0) < 0 ||
	    rule(f, SCMP_ACT_TRAP, "prlimit64", err, errlen, 1,
	    SCMP_A2(SCMP_CMP_NE, 0)) < 0 ? -1 : 0;
}

static int
rules(scmp_filter_ctx f, const struct dopy_sandbox *b, char *err,
    size_t errlen)
{
	unsigned p = b->profiles;

	if (p != 0 && trap_all(f, base, err, errlen) < 0)
		return -1;
	if ((p & (DOPY_SBX_COMPUTE | DOPY_SBX_READONLY)) &&
	    trap_all(f, changes, err, errlen) < 0)
		return -1;
	/* compute traps every open: no rule on its flags beside that. */
	if ((p & DOPY_SBX_READONLY) && !(p & DOPY_SBX_COMPUTE) &&
	    trap_write_opens(f, err, errlen) < 0)
		return -1;
	if ((p & DOPY_SBX_COMPUTE) && trap_all(f, compute, err, errlen) < 0)
		return -1;
	if ((p & (DOPY_SBX_COMPUTE | DOPY_SBX_NONET)) &&
	    trap_sockets(f, err, errlen) < 0)
		return -1;
	if ((b->limset & (1u << DOPY_SBX_NPROC)) &&
	    b->lim[DOPY_SBX_NPROC] == 0 && no_processes(f, err, errlen) < 0)
		return -1;
	if (b->limset != 0 && fixed_limits(f, err, errlen) < 0)
		return -1;
	return 0;
}

int
dopy_sbx_seccomp(const struct dopy_sandbox *b, char *err, size_t errlen)
{
	scmp_filter_ctx f;
	int r = 0;

	if (b->profiles == 0 && b->limset == 0)
		return 0;
	if ((f = seccomp_init(SCMP_ACT_ALLOW)) == NULL) {
		snprintf(err, errlen, "seccomp_init failed");
		return -1;
	}
	/* Every thread, or none: a thread left out would be a way out. */
	if ((r = seccomp_attr_set(f, SCMP_FLTATR_CTL_TSYNC, 1)) < 0)
		snprintf(err, errlen, "seccomp tsync: %s", strerror(-r));
	else if ((r = rules(f, b, err, errlen)) == 0 &&
	    (r = seccomp_load(f)) < 0)
		snprintf(err, errlen, "seccomp_load: %s", strerror(-r));
	seccomp_release(f);
	return r < 0 ? -1 : 0;
}

/* ---- Landlock ---- */

/* Rights by ABI version: v1 bits 0-12, v2 REFER, v3 TRUNCATE, v5
 * IOCTL_DEV (numbers, for older headers). */
static uint64_t
handled_fs(int abi)
{
	uint64_t m = (1ULL << 13) - 1;

	if (abi >= 2)
		m |= 1ULL << 13;
	if (abi >= 3)
		m |= 1ULL << 14;
	if (abi >= 5)
		m |= 1ULL << 15;
	return m;
}

/* What a rule on a file (not a directory) may grant. */
#define FILE_RIGHTS	(LANDLOCK_ACCESS_FS_EXECUTE | \
	LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE | \
	(1ULL << 14) | (1ULL << 15))
#define READ_RIGHTS	(LANDLOCK_ACCESS_FS_READ_FILE | \
	LANDLOCK_ACCESS_FS_READ_DIR)

int
dopy_sbx_landlock_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);

	return v < 0 ? 0 : (int)v;
}

static int
add_path(int rs, const char *path, uint64_t rights, char *err,
    size_t errlen)
{
	struct landlock_path_beneath_attr pb = { rights, -1 };
	struct stat st;
	int r = -1;

	if ((pb.parent_fd = open(path, O_PATH | O_CLOEXEC)) < 0 ||
	    fstat(pb.parent_fd, &st) < 0)
		snprintf(err, errlen, "landlock %s: %s", path, strerror(errno));
	else {
		if (!S_ISDIR(st.st_mode))
			pb.allowed_access &= FILE_RIGHTS;
		if ((r = (int)syscall(SYS_landlock_add_rule, rs,
		    LANDLOCK_RULE_PATH_BENEATH, &pb, 0)) < 0)
			snprintf(err, errlen, "landlock %s: %s", path,
			    strerror(errno));
	}
	if (pb.parent_fd >= 0)
		close(pb.parent_fd);
	return r < 0 ? -1 : 0;
}

/* The file system but for b's read= and write= paths, closed. */
int
dopy_sbx_landlock(const struct dopy_sandbox *b, char *err, size_t errlen)
{
	struct landlock_ruleset_attr ra = { 0 };
	int abi, rs, r = 0;
	size_t i;

	if (b->nread == 0 && b->nwrite == 0)
		return 0;
	if ((abi = dopy_sbx_landlock_abi()) == 0)
		return 1;
	ra.handled_access_fs = handled_fs(abi);
	if ((rs = (int)syscall(SYS_landlock_create_ruleset, &ra, sizeof(ra),
	    0)) < 0) {
		snprintf(err, errlen, "landlock: %s", strerror(errno));
		return -1;
	}
	for (i = 0; r == 0 && i < b->nread; i++)
		r = add_path(rs, b->read[i], READ_RIGHTS, err, errlen);
	for (i = 0; r == 0 && i < b->nwrite; i++)
		r = add_path(rs, b->write[i], ra.handled_access_fs, err,
		    errlen);
	if (r == 0 && syscall(SYS_landlock_restrict_self, rs, 0) < 0) {
		snprintf(err, errlen, "landlock: %s", strerror(errno));
		r = -1;
	}
	close(rs);
	return r;
}
