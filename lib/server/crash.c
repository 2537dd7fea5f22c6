/*
 * crash.c - crash reports (dopy(5): dopy.Crash).  When a method dies of
 * a fatal signal, the server answers the calls in flight with one last
 * ERROR, logs the same, and dies of the same signal.
 *
 * The handler runs in a process whose memory may be corrupt, on an
 * alternate stack (a stack overflow leaves none), and may only do what
 * is async-signal-safe: no malloc, no stdio, no locks.  So everything
 * is made before serving (dopy_crash_begin): the alternate stack, the
 * pipe for backtrace_symbols_fd, the program's symbol table
 * (crashsym.c), a socket to syslog; the handler formats into static
 * buffers, encodes the ERROR by hand (errimg.c), and writes with
 * write(2).  The trace is libgcc's _Unwind_Backtrace, which backtrace(3)
 * calls too, but backtrace(3) dlopens libgcc_s.so on its first call
 * (not async-signal-safe), so it had to be called before serving: a
 * library more to load at every exec under inetd.  dopyd and
 * libdopy.so link the unwinder in (-static-libgcc), a program linking
 * libdopy.a gets libgcc_s.so as a library of its own.  The unwinder
 * and backtrace_symbols_fd(3) take the loader's recursive lock (to
 * find each frame's object), which a crash inside dlopen in another
 * thread would hold: the handler would then hang instead of dying, a
 * risk taken for the trace.
 *
 * What it may touch of the server is read, never changed: the session
 * of its own thread (a thread-local pointer set when the session
 * starts), that session's stack of running calls (cancel.c) and the
 * calls noted queued behind them.  Other sessions, in -s mode, are
 * other threads', which may be writing a frame to their connection at
 * that instant: nothing is sent to them (dopy(3), dopyd(8)).
 *
 * Then the handler restores the default action and the signal ends the
 * process as if there had been no handler: a fault repeats when the
 * instruction runs again, anything else is raised again, so core dumps
 * and wait statuses stay what launchers and admins expect.
 */
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include <unwind.h>

#include "server/server.h"

#define DEPTH		64		/* frames in a trace */
#define ALTSTACK	(256 * 1024)	/* the unwinder, and ASan's frames */
#define WRITE_MS	2000		/* for each frame to go out */
#define FRAME_ROOM	(64 * 1024)	/* the ERROR frame, at most */
#ifndef SYS_SECCOMP
#define SYS_SECCOMP	1		/* <asm-generic/siginfo.h> */
#endif

static const int crash_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL,
    SIGABRT, SIGSYS, SIGXCPU, SIGXFSZ };
#define NSIGNALS	(sizeof(crash_signals) / sizeof(crash_signals[0]))

/* Per thread: its session, and the alternate stack it has; kept: made
 * by a listener, for the connection processes it forks to inherit. */
static __thread struct dopy_session *tls_sess;
static __thread void *tls_altstack;
static __thread int tls_altstack_kept;

/* Made once per process, under lock; the handler's own buffers. */
static struct {
	pthread_mutex_t		 lock;
	int			 installed;
	pid_t			 pid;		/* whose pipe and reports */
	int			 pipe[2];
	int			 syslog;	/* a socket on /dev/log, or -1 */
	dopy_server		*srv;		/* the last to begin */
} G = { PTHREAD_MUTEX_INITIALIZER, 0, 0, { -1, -1 }, -1, NULL };
static int crashing;
static uint8_t frame[DOPY_HDR_LEN + FRAME_ROOM];
static char msg[1024], where[600], names[DEPTH * 200], lines[DEPTH * 300];
static char logline[DEPTH * 300 + 2048];
static const char *trace[DEPTH + 1];

/* ---- formatting without stdio ---- */

struct sb {
	char	*p;
	size_t	 len, size;
};

static void
sb_str(struct sb *b, const char *s)
{
	while (*s != '\0' && b->len + 1 < b->size)
		b->p[b->len++] = *s++;
	b->p[b->len] = '\0';
}

static void
sb_num(struct sb *b, uint64_t v, unsigned base, int width)
{
	char d[24];
	int n = 0;

	do
		d[n++] = "0123456789abcdef"[v % base];
	while ((v /= base) > 0 && n < (int)sizeof(d));
	while (n < width && n < (int)sizeof(d))
		d[n++] = '0';
	while (n > 0 && b->len + 1 < b->size)
		b->p[b->len++] = d[--n];
	b->p[b->len] = '\0';
}

static void
sb_hex(struct sb *b, uint64_t v)
{
	sb_str(b, "0x");
	sb_num(b, v, 16, 0);
}

/* ---- what the signal says ---- */

static const char *
signame(int sig, const char **meaning)
{
	static const struct {
		int		 sig;
		const char	*name, *meaning;
	} t[] = {
		{ SIGSEGV, "SIGSEGV", "segmentation fault" },
		{ SIGBUS, "SIGBUS", "bus error" },
		{ SIGFPE, "SIGFPE", "arithmetic exception" },
		{ SIGILL, "SIGILL", "illegal instruction" },
		{ SIGABRT, "SIGABRT", "aborted" },
		{ SIGSYS, "SIGSYS", "bad system call" },
		{ SIGXCPU, "SIGXCPU", "CPU time limit exceeded" },
		{ SIGXFSZ, "SIGXFSZ", "file size limit exceeded" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].sig == sig) {
			*meaning = t[i].meaning;
			return t[i].name;
		}
	*meaning = "fatal signal";
	return "signal";
}

/* The kernel's reason for a fault (si_code > 0), or NULL. */
static const char *
fault_detail(int sig, int code)
{
	if (sig == SIGSEGV)
		return code == SEGV_MAPERR ? "address not mapped" :
		    code == SEGV_ACCERR ? "no permission" : NULL;
	if (sig == SIGBUS)
		return code == BUS_ADRALN ? "misaligned address" :
		    code == BUS_ADRERR ? "no such physical address" :
		    code == BUS_OBJERR ? "object error" : NULL;
	if (sig == SIGFPE)
		return code == FPE_INTDIV ? "integer divide by zero" :
		    code == FPE_INTOVF ? "integer overflow" :
		    code == FPE_FLTDIV ? "floating-point divide by zero" :
		    code == FPE_FLTINV ? "invalid floating-point operation" :
		    NULL;
	if (sig == SIGILL)
		return code == ILL_ILLOPC ? "illegal opcode" :
		    code == ILL_PRVOPC ? "privileged opcode" :
		    code == ILL_ILLOPN ? "illegal operand" : NULL;
	return NULL;
}

static uintptr_t
context_pc(const void *ucp, uintptr_t *sp)
{
	const ucontext_t *uc = ucp;

	*sp = 0;
	if (uc == NULL)
		return 0;
#if defined(__x86_64__)
	*sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
	return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
	*sp = (uintptr_t)uc->uc_mcontext.sp;
	return (uintptr_t)uc->uc_mcontext.pc;
#else
	return 0;
#endif
}

/* A fault within 64 KiB of the stack pointer is the stack's end. */
static int
stack_overflow(int sig, const siginfo_t *si, uintptr_t sp)
{
	uintptr_t a = (uintptr_t)si->si_addr;

	return sig == SIGSEGV && si->si_code > 0 && sp != 0 &&
	    (a > sp ? a - sp : sp - a) < 65536;
}

/* What the sandbox in force says of sig, ", the CPU time limit of 1 s
 * (sandbox cpu=1)"; nothing without one (sandbox.c made it ready). */
static void
sandbox_detail(struct sb *b, int sig)
{
	char text[600];

	if (dopy_sandbox_describe(sig, text, sizeof(text)) == 0)
		return;
	sb_str(b, ", ");
	sb_str(b, text);
}

/* "(SIGSEGV: segmentation fault, address not mapped) at address 0x0" */
static void
describe(struct sb *b, int sig, const siginfo_t *si, uintptr_t sp)
{
	const char *meaning, *name = signame(sig, &meaning), *d, *sc;
	int nr;

	sb_str(b, "signal ");
	sb_num(b, (uint64_t)sig, 10, 0);
	sb_str(b, " (");
	sb_str(b, name);
	sb_str(b, ": ");
	sb_str(b, meaning);
	if (sig == SIGSYS && si->si_code == SYS_SECCOMP) {
		nr = si->si_syscall;
		sb_str(b, " ");
		sb_num(b, (uint64_t)(unsigned)nr, 10, 0);
		if ((sc = dopy_sandbox_syscall_name(nr)) != NULL) {
			sb_str(b, " (");
			sb_str(b, sc);
			sb_str(b, ")");
		}
	}
	if (si->si_code > 0 && (d = fault_detail(sig, si->si_code)) != NULL) {
		sb_str(b, ", ");
		sb_str(b, stack_overflow(sig, si, sp) ? "stack overflow" : d);
	}
	if (si->si_code <= 0 && si->si_pid != getpid()) {
		sb_str(b, ", sent by pid ");
		sb_num(b, (uint64_t)si->si_pid, 10, 0);
	}
	sandbox_detail(b, sig);
	sb_str(b, ")");
	if (si->si_code > 0 && (sig == SIGSEGV || sig == SIGBUS)) {
		sb_str(b, " at address ");
		sb_hex(b, (uintptr_t)si->si_addr);
	} else if (si->si_code > 0 && (sig == SIGFPE || sig == SIGILL)) {
		sb_str(b, " at instruction ");
		sb_hex(b, (uintptr_t)si->si_addr);
	}
}

/* ---- the trace ---- */

/* The frames' lines from backtrace_symbols_fd, one per frame, in
 * names; the count read. */
static size_t
library_names(void *const *pcs, int n, char **line)
{
	size_t got = 0, len = 0, k = 0;
	ssize_t r;

	if (G.pipe[1] < 0)
		return 0;
	backtrace_symbols_fd(pcs, n, G.pipe[1]);
	while (len < sizeof(names) - 1 && (r = read(G.pipe[0], names + len,
	    sizeof(names) - 1 - len)) > 0)
		len += (size_t)r;
	names[len] = '\0';
	line[0] = names;
	for (k = 0; k < len && got < (size_t)n; k++)
		if (names[k] == '\n') {
			names[k] = '\0';
			line[++got] = names + k + 1;
		}
	return got;
}

/* The frames after the handler's: from the interrupted pc on. */
static int
first_frame(void *const *pcs, int n, uintptr_t pc)
{
	int i;

	for (i = 0; pc != 0 && i < n; i++)
		if ((uintptr_t)pcs[i] == pc)
			return i;
	return n > 2 ? 2 : n;	/* the handler, the kernel's trampoline */
}

/* "... the frame above N more times"; 0 when there is no room. */
static int
repeats(struct sb *b, size_t n, size_t *nt)
{
	if (*nt >= DEPTH - 1)
		return 0;
	trace[(*nt)++] = b->p + b->len;
	sb_str(b, "... the frame above ");
	sb_num(b, n, 10, 0);
	sb_str(b, n == 1 ? " more time" : " more times");
	if (b->len + 1 >= b->size) {
		(*nt)--;
		return 0;
	}
	b->len++;
	b->p[b->len] = '\0';
	return 1;
}

/* trace[] from the frames, then where; its length. */
static size_t
make_trace(void *const *pcs, int n, uintptr_t pc)
{
	char *line[DEPTH + 1];
	struct sb b = { lines, 0, sizeof(lines) };
	const char *fn, *path;
	uintptr_t fnoff, off, p;
	size_t nlib, nt = 0, same = 0;
	int i, skip = first_frame(pcs, n, pc);

	lines[0] = '\0';
	nlib = library_names(pcs + skip, n - skip, line);
	for (i = skip; i < n && nt < DEPTH; i++) {
		p = (uintptr_t)pcs[i];
		/* A return address: the call is the byte before. */
		fn = dopy_crashsym_lookup(p, i == skip ? p : p - 1, &fnoff,
		    &path, &off);
		if (fn == NULL && (size_t)(i - skip) >= nlib)
			continue;
		/* A recursion (a stack overflow's) says it once. */
		if (i > skip && pcs[i] == pcs[i - 1]) {
			same++;
			continue;
		}
		if (same > 0 && !repeats(&b, same, &nt))
			break;
		same = 0;
		trace[nt++] = b.p + b.len;
		if (fn == NULL)
			sb_str(&b, line[i - skip]);
		else {
			sb_str(&b, fn);
			sb_str(&b, "+");
			sb_hex(&b, fnoff);
			sb_str(&b, " (");
			sb_str(&b, path);
			sb_str(&b, "+");
			sb_hex(&b, off);
			sb_str(&b, ")");
		}
		if (b.len + 1 >= b.size) {
			nt--;		/* cut: not worth a partial line */
			break;
		}
		b.len++;	/* past the NUL: the next line starts there */
		b.p[b.len] = '\0';
	}
	if (same > 0)
		(void)repeats(&b, same, &nt);
	trace[nt++] = where;
	return nt;
}

/* ---- sending ---- */

/* All of it within WRITE_MS, or give up: the peer may not read. */
static void
write_all(const struct dopy_chan *ch, const uint8_t *p, size_t len)
{
	struct pollfd pfd = { ch->out, POLLOUT, 0 };
	int tries = 0;
	ssize_t n;

	while (len > 0) {
		if (ch->out_sock)
			n = send(ch->out, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		else
			n = write(ch->out, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (n < 0 && errno == EINTR)
			continue;
		else if (n < 0 && errno == EAGAIN && tries++ < 20)
			(void)poll(&pfd, 1, WRITE_MS / 20);
		else
			return;
	}
}

static void
send_frame(struct dopy_session *s, size_t len, uint32_t id)
{
	dopy_frame_encode(frame, DOPY_F_ERROR, id, (uint32_t)len);
	write_all(&s->ch, frame, DOPY_HDR_LEN + len);
}

/* The payload, the trace cut until it fits the connection's frames. */
static size_t
encode(struct dopy_session *s, const char *const hdr[5], size_t nt)
{
	size_t room = s->ch.max_frame < FRAME_ROOM ? s->ch.max_frame :
	    FRAME_ROOM, len;
	const char *bare[5] = { hdr[0], hdr[1], hdr[2], hdr[3], "" };

	if (s->srv->bare_errors)	/* dopy_server_set_traces(s, 0) */
		return dopy_msg_error_fixed(frame + DOPY_HDR_LEN, room, bare,
		    0, NULL, 0);
	while ((len = dopy_msg_error_fixed(frame + DOPY_HDR_LEN, room, hdr,
	    getpid(), trace, nt)) == 0 && nt > 1) {
		trace[nt - 2] = trace[nt - 1];	/* keep where */
		nt--;
	}
	return len;
}

static int
running(const struct dopy_session *s, uint32_t id)
{
	const struct dopy_running *r;

	for (r = s->running; r != NULL; r = r->up)
		if (r->id == id)
			return 1;
	return 0;
}

/*
 * Every call running on the session (innermost first, ONEWAY ones
 * excepted: nobody waits), and the calls noted queued behind them; an
 * isolated call's child answers its one call only (the parent's calls
 * are the parent's).  With none, call id 0: the connection's end.
 */
static void
send_reports(struct dopy_session *s, size_t len)
{
	struct dopy_running *r;
	size_t i, sent = 0;

	for (r = s->running; r != NULL; r = r->up) {
		if (r->id != 0) {
			send_frame(s, len, r->id);
			sent++;
		}
		if (s->iso_child)
			return;
	}
	for (i = 0; i < s->nnotes && i < DOPY_CALL_NOTES; i++)
		if (!running(s, s->notes[i].id)) {
			send_frame(s, len, s->notes[i].id);
			sent++;
		}
	if (sent == 0 && s->running == NULL)
		send_frame(s, len, 0);
}

/* ---- the log ---- */

/* "2024-01-02T03:04:05Z" from the clock, without gmtime_r. */
static void
utc_now(struct sb *b)
{
	struct timespec ts;
	int64_t days, z, era, doe, yoe, y, doy, mp, d, m, sec;

	clock_gettime(CLOCK_REALTIME, &ts);
	days = ts.tv_sec / 86400;
	sec = ts.tv_sec % 86400;
	/* Howard Hinnant's civil_from_days. */
	z = days + 719468;
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	sb_num(b, (uint64_t)(y + (m <= 2)), 10, 4);
	sb_str(b, "-");
	sb_num(b, (uint64_t)m, 10, 2);
	sb_str(b, "-");
	sb_num(b, (uint64_t)d, 10, 2);
	sb_str(b, "T");
	sb_num(b, (uint64_t)(sec / 3600), 10, 2);
	sb_str(b, ":");
	sb_num(b, (uint64_t)(sec / 60 % 60), 10, 2);
	sb_str(b, ":");
	sb_num(b, (uint64_t)(sec % 60), 10, 2);
	sb_str(b, "Z ");
}

/* One line as log.c writes it (a file, stderr), or a datagram to
 * syslog without a timestamp, which syslogd adds. */
static void
log_report(dopy_server *srv, uint32_t id, size_t nt)
{
	struct sb b = { logline, 0, sizeof(logline) - 1 };
	size_t i;
	int fd;

	if (srv == NULL)
		return;
	if (srv->log.sink == DOPY_LOG_SYSLOG) {
		sb_str(&b, "<");
		sb_num(&b, LOG_DAEMON | LOG_CRIT, 10, 0);
		sb_str(&b, ">");
		fd = G.syslog;
	} else {
		utc_now(&b);
		fd = srv->log.fd;
	}
	sb_str(&b, srv->log.ident);
	sb_str(&b, "[");
	sb_num(&b, (uint64_t)getpid(), 10, 0);
	sb_str(&b, "]: dopy.Crash: ");
	sb_str(&b, msg);
	if (id != 0) {
		sb_str(&b, "; call ");
		sb_num(&b, id, 10, 0);
	}
	sb_str(&b, "; trace: ");
	for (i = 0; i < nt; i++) {
		if (i > 0)
			sb_str(&b, " | ");
		sb_str(&b, trace[i]);
	}
	if (srv->log.sink != DOPY_LOG_SYSLOG)
		b.p[b.len++] = '\n';
	if (fd >= 0 && write(fd, logline, b.len) < 0)
		(void)errno;	/* nowhere left to say it */
}

/* ---- the handler ---- */

/* The message, and where: "in crash.segv on host H pid P". */
static void
compose(struct dopy_session *s, int sig, const siginfo_t *si, uintptr_t sp,
    const char **obj, const char **meth)
{
	struct sb m = { msg, 0, sizeof(msg) }, w = { where, 0, sizeof(where) };
	struct dopy_running *r = s != NULL ? s->running : NULL;
	const struct dopy_callmsg *cm = r != NULL && r->call != NULL ?
	    r->call->msg : NULL;
	dopy_server *srv = s != NULL ? s->srv : G.srv;

	*obj = cm != NULL ? cm->object : "";
	*meth = cm != NULL ? cm->method : "";
	if (cm != NULL) {
		sb_str(&m, *obj);
		sb_str(&m, ".");
		sb_str(&m, *meth);
		sb_str(&m, ": ");
	}
	sb_str(&m, s != NULL && s->iso_child ? "the isolated call died of " :
	    "the server died of ");
	describe(&m, sig, si, sp);
	if (r != NULL && r->id != 0) {
		sb_str(&m, " in call ");
		sb_num(&m, r->id, 10, 0);
	} else if (r == NULL)
		sb_str(&m, " outside any call");
	sb_str(&w, "in ");
	if (cm != NULL) {
		sb_str(&w, *obj);
		sb_str(&w, ".");
		sb_str(&w, *meth);
	} else
		sb_str(&w, "connection");
	sb_str(&w, " on host ");
	sb_str(&w, srv != NULL ? srv->host : "");
	sb_str(&w, " pid ");
	sb_num(&w, (uint64_t)getpid(), 10, 0);
}

static void
report(int sig, const siginfo_t *si, const void *uc, void *const *pcs,
    int n)
{
	struct dopy_session *s = tls_sess;
	const char *hdr[5], *obj, *meth;
	uintptr_t sp, pc = context_pc(uc, &sp);
	size_t nt, len;

	/* A process forked by a method, which inherited the handler and
	 * the connection: the connection is its parent's. */
	if (getpid() != G.pid)
		s = NULL;
	compose(s, sig, si, sp, &obj, &meth);
	nt = make_trace(pcs, n, pc);
	if (getpid() == G.pid)
		log_report(s != NULL ? s->srv : G.srv, s != NULL &&
		    s->running != NULL ? s->running->id : 0, nt);
	if (s == NULL || s->ch.stalled)	/* the framing is lost already */
		return;
	hdr[0] = s->iso_child ? "dopy.Crashed" : "dopy.Crash";
	hdr[1] = msg;
	hdr[2] = obj;
	hdr[3] = meth;
	hdr[4] = s->srv->host;
	if ((len = encode(s, hdr, nt)) > 0)
		send_reports(s, len);
}

/* The signal again, with its default action: the process ends by it. */
static void
die(int sig, const siginfo_t *si)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
	/* A fault happens again when the handler returns (and the core
	 * shows it as it was); anything else must be raised, a seccomp
	 * trap too: the system call is skipped, not made again. */
	if (!(si->si_code > 0 && (sig == SIGSEGV || sig == SIGBUS ||
	    sig == SIGFPE || sig == SIGILL)))
		raise(sig);
}

struct walk {
	void	**pcs;
	int	  n, max;
};

static _Unwind_Reason_Code
walk_one(struct _Unwind_Context *ctx, void *arg)
{
	struct walk *w = arg;
	_Unwind_Ptr pc = _Unwind_GetIP(ctx);

	if (pc == 0 || w->n == w->max)
		return _URC_END_OF_STACK;
	w->pcs[w->n++] = (void *)pc;
	return _URC_NO_REASON;
}

/* backtrace(3) without its dlopen: the return addresses, this
 * function's caller first. */
static int __attribute__((noinline))
stack_trace(void **pcs, int max)
{
	void *all[DEPTH + 1];
	struct walk w = { all, 0, DEPTH + 1 };
	int i;

	_Unwind_Backtrace(walk_one, &w);
	/* all[0] is in this function, which backtrace(3) leaves out too. */
	for (i = 1; i < w.n && i <= max; i++)
		pcs[i - 1] = all[i];
	return i - 1;
}

static void
handler(int sig, siginfo_t *si, void *uc)
{
	struct timespec ts = { 3, 0 };
	void *pcs[DEPTH];
	int n, e = errno;

	/* Another thread reports already: its re-raise ends us all. */
	if (__atomic_exchange_n(&crashing, 1, __ATOMIC_SEQ_CST)) {
		nanosleep(&ts, NULL);
		die(sig, si);
		return;
	}
	n = stack_trace(pcs, DEPTH);
	report(sig, si, uc, pcs, n);
	die(sig, si);
	errno = e;
}

/* ---- before serving ---- */

/* Our handler where the disposition is the default: a program's own
 * handler (or a sanitizer's) stays, put back at once.  One sigaction(2)
 * per signal, not a look and then a change: this runs in every dopyd
 * exec'd per connection.  No signal can be delivered in between, as
 * all of them are blocked meanwhile. */
static void
install(void)
{
	struct sigaction sa, old;
	sigset_t all, mask;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < NSIGNALS; i++)
		sigaddset(&sa.sa_mask, crash_signals[i]);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &mask);
	for (i = 0; i < NSIGNALS; i++)
		if (sigaction(crash_signals[i], &sa, &old) == 0 &&
		    ((old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL))
			sigaction(crash_signals[i], &old, NULL);
	pthread_sigmask(SIG_SETMASK, &mask, NULL);
}

static void
open_syslog(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	strlcpy(sun.sun_path, "/dev/log", sizeof(sun.sun_path));
	if ((G.syslog = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) >= 0 &&
	    connect(G.syslog, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(G.syslog);
		G.syslog = -1;
	}
}

/* This process's own pipe (a fork shares its parent's). */
static void
new_pipe(void)
{
	if (G.pipe[0] >= 0) {
		close(G.pipe[0]);
		close(G.pipe[1]);
	}
	if (pipe2(G.pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		G.pipe[0] = G.pipe[1] = -1;
	G.pid = getpid();
}

/* What the whole process needs, once (and once again after a fork). */
static void
prepare_process(dopy_server *srv)
{
	pthread_mutex_lock(&G.lock);
	G.srv = srv;
	if (G.pid != getpid())
		new_pipe();
	if (!G.installed) {
		dopy_crashsym_init();
		install();
		G.installed = 1;
	}
	if (srv->log.sink == DOPY_LOG_SYSLOG && G.syslog < 0)
		open_syslog();
	pthread_mutex_unlock(&G.lock);
}

/* This thread's alternate stack: a stack overflow leaves no room on
 * its own.  Kept if the thread has one (a sanitizer's). */
static void
prepare_thread(void)
{
	stack_t ss, old;
	void *p;

	if (tls_altstack != NULL || (sigaltstack(NULL, &old) == 0 &&
	    !(old.ss_flags & SS_DISABLE) && old.ss_size >= ALTSTACK))
		return;
	p = mmap(NULL, ALTSTACK, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (p == MAP_FAILED)
		return;
	ss.ss_sp = p;
	ss.ss_size = ALTSTACK;
	ss.ss_flags = 0;
	if (sigaltstack(&ss, NULL) < 0) {
		munmap(p, ALTSTACK);
		return;
	}
	tls_altstack = p;
}

static int
enabled(const dopy_server *srv)
{
	const char *e = getenv("DOPY_CRASH_REPORTS");

	return !srv->crash_off && (e == NULL || strcmp(e, "0") != 0);
}

void
dopy_crash_prepare(dopy_server *srv)
{
	if (!enabled(srv))
		return;
	prepare_process(srv);
	/* The listener's own stack, which its children inherit with
	 * their memory: five system calls fewer in each. */
	prepare_thread();
	tls_altstack_kept = tls_altstack != NULL;
}

void
dopy_crash_begin(struct dopy_session *s)
{
	if (!enabled(s->srv))
		return;
	prepare_process(s->srv);
	prepare_thread();
	tls_sess = s;
}

void
dopy_crash_end(struct dopy_session *s)
{
	stack_t ss = { .ss_flags = SS_DISABLE };

	if (tls_sess != s)
		return;
	tls_sess = NULL;
	/* A thread of -s mode ends here; a process has no more use.  A
	 * listener's child keeps the stack it inherited: it is the
	 * listener's, and unmapping it would be work for nothing. */
	if (tls_altstack != NULL && !tls_altstack_kept &&
	    sigaltstack(&ss, NULL) == 0) {
		munmap(tls_altstack, ALTSTACK);
		tls_altstack = NULL;
	}
}

void
dopy_crash_forked(struct dopy_session *s)
{
	/* One thread after fork(2): no lock, which another may have held. */
	if (tls_sess == s)
		new_pipe();
}

int
dopy_server_set_crash_reports(dopy_server *srv, int on)
{
	if (srv == NULL)
		return DOPY_E_INVAL;
	srv->crash_off = !on;
	return 0;
}
