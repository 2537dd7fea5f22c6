/*
 * testobj_crash.c - the `crash` object: methods that die of each fatal
 * signal a crash report covers (dopy(5): dopy.Crash), for the tests of
 * issue 16 and for trying a report by hand.  Each method is its own
 * function, whose name the report's trace must show.
 */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "testobj.h"

/* Volatile, so the compiler keeps what it could prove undefined. */
static int *volatile nowhere;
static volatile int zero, seven = 7;

/* The sanitizer build's UBSan would report these and exit before the
 * signal: they are the signal's to report. */
#define UNCHECKED	__attribute__((no_sanitize("undefined")))

UNCHECKED static int
crash_segv(dopy_call *c)
{
	*nowhere = 1;
	return dopy_return_int(c, 0);
}

static int
crash_abort(dopy_call *c)
{
	abort();
	return dopy_return_int(c, 0);
}

UNCHECKED static int
crash_fpe(dopy_call *c)
{
	return dopy_return_int(c, seven / zero);
}

/* Not a tail call: each level keeps a frame of its own.  The limit is
 * never reached (the stack ends first) but tells the compiler that the
 * recursion is meant to end. */
static int
crash_deeper(volatile char *up, long n)
{
	volatile char frame[512];

	if (n == 0)
		return 0;
	frame[0] = up != NULL ? up[0] + 1 : 0;
	return crash_deeper(frame, n - 1) + frame[0];
}

static int
crash_overflow(dopy_call *c)
{
	return dopy_return_int(c, crash_deeper(NULL, 1L << 40));
}

static int
crash_ill(dopy_call *c)
{
	raise(SIGILL);
	return dopy_return_int(c, 0);
}

static int
crash_bus(dopy_call *c)
{
	raise(SIGBUS);
	return dopy_return_int(c, 0);
}

static int
crash_sys(dopy_call *c)
{
	raise(SIGSYS);
	return dopy_return_int(c, 0);
}

static int
crash_xcpu(dopy_call *c)
{
	raise(SIGXCPU);
	return dopy_return_int(c, 0);
}

static int
crash_xfsz(dopy_call *c)
{
	raise(SIGXFSZ);
	return dopy_return_int(c, 0);
}

/*
 * A real seccomp trap: getppid(2) made to raise SIGSYS, as a sandbox's
 * filter would (the kernel gives the system call's number).
 */
static int
crash_seccomp(dopy_call *c)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		return dopy_raise(c, "crash.NoSeccomp", "cannot install a "
		    "seccomp filter here");
	return dopy_return_int(c, (int64_t)syscall(SYS_getppid));
}

static const struct dopy_method crash_methods[] = {
	{ "segv", crash_segv, "", "int",
	    "Write through a NULL pointer (SIGSEGV)." },
	{ "abort", crash_abort, "", "int", "Call abort(3) (SIGABRT)." },
	{ "fpe", crash_fpe, "", "int", "Divide an integer by zero (SIGFPE)." },
	{ "overflow", crash_overflow, "", "int",
	    "Recurse until the stack overflows (SIGSEGV)." },
	{ "ill", crash_ill, "", "int", "Raise SIGILL." },
	{ "bus", crash_bus, "", "int", "Raise SIGBUS." },
	{ "sys", crash_sys, "", "int", "Raise SIGSYS." },
	{ "xcpu", crash_xcpu, "", "int", "Raise SIGXCPU." },
	{ "xfsz", crash_xfsz, "", "int", "Raise SIGXFSZ." },
	{ "seccomp", crash_seccomp, "", "int",
	    "Call getppid(2) under a seccomp filter that traps it (SIGSYS)." },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_object_def crash_object = {
	"crash", "Methods that die of a fatal signal (crash reports).",
	crash_methods, NULL, NULL
};

int
testobj_crash_add(dopy_server *s)
{
	return dopy_server_add(s, &crash_object, NULL);
}
