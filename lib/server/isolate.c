/*
 * isolate.c - methods run isolated, in a forked child of the connection
 * process (dopy_server_set_isolated; dopy(7): Isolated methods).
 *
 * Cancellation is cooperative (cancel.c): a method that never asks
 * runs on.  An isolated one runs in a child that can be killed.  Once
 * the arguments are bound the connection process forks; the child runs
 * the method with its session's channel turned to two pipes:
 *
 *   out  the child's frames (PROGRESS, ITEM, then REPLY or ERROR), which
 *        the parent relays to the client a whole frame at a time: a
 *        child killed mid-frame leaves a partial frame in a pipe, never
 *        on the connection;
 *   ctl  the child's input: the parent forwards a CANCEL frame on it
 *        when the client cancels or the deadline passes, and closes it
 *        when the client has gone, so the method's dopy_call_cancelled
 *        sees what it would have seen in process.
 *
 * The parent serves nothing else meanwhile (calls are in order) but
 * polls the client's input (for CANCEL and EOF, as cancel.c scans it),
 * the child's output and one timer; in -s mode it lets the other
 * connections' calls run meanwhile, and the listener's hook around the
 * fork (listen.c) leaves the child none of their descriptors.  When the
 * call is stopped the child gets its grace; a child still running at
 * its end is killed (SIGKILL), reaped, and the parent answers for it.
 * A child that dies any other way without answering is answered
 * dopy.Crashed.  Its exit is waited for on a pidfd, not on the end of
 * its output, which a process it forked may hold open; it dies with the
 * parent (PR_SET_PDEATHSIG), so none outlives a connection process
 * killed.
 *
 * The child answers its one call and _exit()s: it never returns to the
 * connection's loop, runs no atexit handlers or destructors, and
 * nothing it changed in memory (the object's state, references,
 * buffers) comes back.  Callbacks to the client and new references are
 * refused in it (callback.c, ref.c): the client's answer would come to
 * the parent, and a reference would name an object that dies with the
 * child.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "server/server.h"

#define REAP_POLL_MS	10	/* output closed, exit not yet reapable,
				 * and no pidfd to wait on */

struct iso {
	dopy_call		*call;
	struct dopy_session	*sess;
	pid_t			 pid;
	int			 pidfd;		/* readable at its exit; -1: none */
	int			 ctl;		/* write end; -1 once closed */
	struct dopy_chan	 out;		/* the child's frames */
	int			 grace;
	int64_t			 t0, kill_at;	/* kill_at 0: not stopped */
	int			 eof;		/* out closed (or broken) */
	int			 answered;	/* its REPLY or ERROR went out */
	int			 reaped, status, killed;
	int			 lost;		/* the client cannot be written */
	int			 deaf;		/* nor read (POLLERR, POLLNVAL) */
	int			 broken;	/* poll(2) failed */
	dopy_error		*err;		/* the ERROR relayed, for the log */
};

int
dopy_server_set_isolated(dopy_server *s, const char *object,
    const char *method, int grace_ms)
{
	struct dopy_object *o;
	size_t i;
	int *g, r;

	if ((r = dopy_server_method(s, object, method, &o, &i)) < 0)
		return r;
	/* Its items would come to the connection process. */
	if (o->sigs[i]->up.type != NULL)
		return dopy_server_fail(s, "%s.%s takes an upload, which an "
		    "isolated call cannot read", object, method);
	if (o->isolated == NULL || o->nisolated < o->nmethods) {
		if ((g = calloc(o->nmethods, sizeof(*g))) == NULL ||
		    dopy_server_own(s, g, free) < 0)
			return dopy_server_fail(s, "out of memory");
		if (o->isolated != NULL)
			memcpy(g, o->isolated, o->nisolated * sizeof(*g));
		o->isolated = g;
		o->nisolated = o->nmethods;
	}
	o->isolated[i] = grace_ms > 0 ? grace_ms :
	    DOPY_ISOLATE_GRACE_MS;
	return 0;
}

/* The grace of c's method when it runs isolated here, else 0. */
static int
grace_of(const dopy_call *c)
{
	const struct dopy_object *o = c->obj;

	if (c->sess == NULL || c->sess->iso_child || o == NULL ||
	    o->isolated == NULL || c->midx >= o->nisolated)
		return 0;
	return o->isolated[c->midx];
}

/* ---- the child ---- */

/* The session's channel turned to the pipes; what the parent had read
 * of the client's input is the parent's. */
static void
child_setup(struct dopy_session *s, pid_t parent, int in, int out)
{
	struct dopy_chan *ch = &s->ch;

	/* Never outlive the connection process, however it ends. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(1);

	close(ch->in);
	if (ch->out != ch->in)
		close(ch->out);
	ch->in = in;
	ch->out = out;
	dopy_buf_reset(&ch->rbuf);
	ch->big_open = 0;
	ch->out_sock = 0;
	ch->send_ms = 0;
	ch->stalled = 0;
	ch->deadline = 0;
	ch->drain = NULL;
	/* What it sends the parent forwards: recorded and logged there,
	 * once. */
	dopy_record_end(s);
	s->nnotes = 0;
	s->scan_ms = 0;
	/* The parent speaks CANCEL to it whatever the client announced. */
	s->features |= DOPY_FEAT_CANCEL;
	s->iso_child = 1;
	dopy_crash_forked(s);	/* its crash report is its call's answer */
}

void
dopy_isolate_exit(struct dopy_session *s, int r)
{
	if (!s->iso_child)
		return;
	fflush(NULL);
	_exit(r == 0 ? 0 : 1);
}

/* ---- the parent ---- */

static void
stop_child(struct iso *x, int64_t now)
{
	uint8_t hdr[DOPY_HDR_LEN];
	ssize_t n;

	x->kill_at = now + x->grace;
	if (x->ctl < 0)
		return;
	if (x->sess->gone) {		/* its dopy_call_cancelled sees EOF */
		close(x->ctl);
		x->ctl = -1;
		return;
	}
	/* Eight bytes into an empty pipe: never blocks. */
	dopy_frame_encode(hdr, DOPY_F_CANCEL, x->call->id, 0);
	do
		n = write(x->ctl, hdr, sizeof(hdr));
	while (n < 0 && errno == EINTR);
}

/* A frame from the child goes to the client whole, or not at all. */
static void
relay(struct iso *x, const struct dopy_frame *f)
{
	struct dopy_session *s = x->sess;
	int final = f->type == DOPY_F_REPLY || f->type == DOPY_F_ERROR, r;

	if (x->answered || x->lost || f->id != x->call->id || (!final &&
	    f->type != DOPY_F_ITEM && f->type != DOPY_F_PROGRESS))
		return;
	/* Stopped: no more PROGRESS or ITEM go out (dopy(5)). */
	if (!final && x->kill_at != 0)
		return;
	dopy_chan_begin(&s->ch);
	if ((r = dopy_buf_put(&s->ch.wbuf, f->payload, f->len)) == 0)
		r = dopy_session_send(s, f->type, f->id);
	if (final && r == 0) {
		x->answered = 1;
		if (f->type == DOPY_F_ERROR)
			(void)dopy_msg_error_get(f->payload, f->len, &x->err);
	} else if (r < 0) {	/* the client cannot be written to: gone */
		x->lost = 1;
		dopy_callback_set_over(s, r);
	}
}

/* What the child has written, whole frames relayed. */
static void
drain(struct iso *x)
{
	struct dopy_frame f;
	int r;

	r = dopy_chan_take_input(&x->out, 0);
	while (dopy_chan_frame_ready(&x->out) &&
	    dopy_chan_read(&x->out, &f) == 0)
		relay(x, &f);
	if (r == DOPY_E_CLOSED || r == DOPY_E_PROTO || r == DOPY_E_SYS ||
	    r == DOPY_E_TOOBIG || r == DOPY_E_NOMEM)
		x->eof = 1;	/* a partial frame dies with the pipe */
}

static void
reap(struct iso *x, int flags)
{
	pid_t p;

	while ((p = waitpid(x->pid, &x->status, flags)) < 0 &&
	    errno == EINTR)
		;
	/* ECHILD: someone else reaped it (a listener's SIGCHLD in -s
	 * mode); its status is lost. */
	if (p == x->pid || p < 0) {
		x->reaped = 1;
		if (p < 0)
			x->status = -1;
	}
}

/* The poll(2) timeout: the deadline, the grace, or the exit to reap. */
static int
wait_ms(struct iso *x, int64_t now)
{
	int64_t t = 0, left;

	if (x->kill_at != 0)
		t = x->kill_at;
	else if ((left = dopy_call_remaining_ms(x->call)) >= 0)
		t = now + left;
	if (x->eof && x->pidfd < 0 && (t == 0 || t > now + REAP_POLL_MS))
		t = now + REAP_POLL_MS;
	if (t == 0)
		return -1;
	return t <= now ? 0 : t - now > 60000 ? 60000 : (int)(t - now);
}

/* SIGKILL through the pidfd when there is one: in -s mode a listener's
 * reaper may have taken the child, and its pid may name another. */
static void
kill_child(struct iso *x)
{
	if (x->pidfd >= 0 && (syscall(SYS_pidfd_send_signal, x->pidfd,
	    SIGKILL, NULL, 0) == 0 || errno != ENOSYS))
		return;		/* sent, or it is gone already */
	kill(x->pid, SIGKILL);
}

/* Stopped by the client, its deadline, or a client that cannot be
 * reached: time to tell the child and start its grace. */
static int
stopping(struct iso *x)
{
	return x->kill_at == 0 && !x->answered &&
	    (x->lost || x->deaf || dopy_call_stopped(x->call));
}

/* The child has exited: what it wrote is read, and it is reaped.  Its
 * output may still be open (a grandchild holds it): not waited for. */
static void
exited(struct iso *x)
{
	uint64_t before;
	int i;

	for (i = 0; i < 16 && !x->eof; i++) {
		before = x->out.bytes_in;
		drain(x);
		if (x->out.bytes_in == before)
			break;
	}
	reap(x, WNOHANG);
}

/* One wait for the client's input (until the call is stopped or
 * answered), the child's output and its exit, or the timer. */
static void
wait_once(struct iso *x, int64_t now)
{
	struct pollfd pfd[3];
	nfds_t n = 0;
	int ci = -1, oi = -1, pi = -1;

	if (x->kill_at == 0 && !x->answered && !x->deaf &&
	    dopy_cancel_readable(x->sess))
		pfd[ci = n++] = (struct pollfd){ x->sess->ch.in, POLLIN, 0 };
	if (!x->eof)
		pfd[oi = n++] = (struct pollfd){ x->out.in, POLLIN, 0 };
	if (x->pidfd >= 0)
		pfd[pi = n++] = (struct pollfd){ x->pidfd, POLLIN, 0 };
	if (poll(pfd, n, wait_ms(x, now)) < 0) {
		x->broken = errno != EINTR;
		return;
	}
	if (ci >= 0 && (pfd[ci].revents & (POLLERR | POLLNVAL)))
		x->deaf = 1;
	else if (ci >= 0 && pfd[ci].revents != 0)
		(void)dopy_call_cancelled(x->call);
	if (oi >= 0 && pfd[oi].revents != 0)
		drain(x);
	if (pi >= 0 && pfd[pi].revents != 0)
		exited(x);
	else if (x->eof && x->pidfd < 0)
		reap(x, WNOHANG);
}

static void
watch(struct iso *x)
{
	int64_t now;

	while (!x->reaped && !x->broken) {
		now = dopy_now_ms();
		if (stopping(x))
			stop_child(x, now);
		if (x->kill_at != 0 && now >= x->kill_at) {
			kill_child(x);
			x->killed = 1;
			break;
		}
		wait_once(x, now);
	}
	if (!x->reaped) {
		kill_child(x);
		reap(x, 0);
	}
}

/* The call's answer when the child gave none. */
static void
answer_for(struct iso *x)
{
	dopy_call *c = x->call;
	const char *o = dopy_call_object(c), *m = dopy_call_method(c);
	const char *name = dopy_call_cancel_name(c);
	char why[DOPY_SBX_SPEC + 80];
	int st = x->status;

	if (x->answered || x->lost)
		return;
	if (x->killed)
		dopy_call_fail(c, name != NULL ? name : "dopy.Cancelled",
		    "%s.%s: %s; killed after a grace of %d ms", o, m,
		    name != NULL && strcmp(name, "dopy.DeadlineExceeded") ==
		    0 ? "its deadline passed" : x->sess->gone ? "the client "
		    "has gone" : "cancelled by the client", x->grace);
	else if (st != -1 && WIFSIGNALED(st)) {
		/* Under a sandbox, the signal may be its limit's. */
		dopy_sandbox_explain(dopy_sandbox_of(c), WTERMSIG(st), why,
		    sizeof(why));
		dopy_call_fail(c, "dopy.Crashed", "%s.%s: the isolated call "
		    "died of signal %d (%s)%s%s", o, m, WTERMSIG(st),
		    strsignal(WTERMSIG(st)), *why != '\0' ? ": " : "", why);
	}
	else if (c->id == 0 || c->answered)
		return;		/* nobody waits for an answer */
	else if (st != -1 && WIFEXITED(st))
		dopy_call_fail(c, "dopy.Crashed", "%s.%s: the isolated call "
		    "exited with status %d without answering", o, m,
		    WEXITSTATUS(st));
	else
		dopy_call_fail(c, "dopy.Crashed", "%s.%s: the isolated call "
		    "ended without answering", o, m);
}

static void
finish(struct iso *x)
{
	dopy_call *c = x->call;
	int st = x->status;

	if (x->ctl >= 0)
		close(x->ctl);
	if (x->pidfd >= 0)
		close(x->pidfd);
	close(x->out.in);
	dopy_chan_release(&x->out);
	answer_for(x);
	if (x->answered) {
		c->answered = 1;	/* handle_call sends nothing more */
		c->relayed = 1;
		c->err = x->err;	/* for the log; sent already */
	}
	if (x->killed || (st != -1 && WIFSIGNALED(st)) || c->err != NULL)
		dopy_session_complain(x->sess, LOG_INFO, "call %u %s.%s: "
		    "isolated in pid %ld for %lld ms: %s%s%s", c->id,
		    dopy_call_object(c), dopy_call_method(c), (long)x->pid,
		    (long long)(dopy_now_ms() - x->t0), x->killed ?
		    "killed after its grace; " : "", x->answered ?
		    "it answered " : "answered for it ", c->err != NULL ?
		    dopy_error_name(c->err) : "a result");
}

/* fork(2), with the listener's hook around it (-s mode). */
static pid_t
fork_call(const dopy_server *s)
{
	const struct dopy_forkhook *h = &s->forkhook;
	pid_t pid;
	int e;

	if (h->before != NULL)
		h->before(h->arg);
	pid = fork();
	e = errno;
	if (h->after != NULL)
		h->after(h->arg, pid == 0);
	errno = e;
	return pid;
}

/* Fork with the two pipes (close-on-exec: a program the method runs
 * gets neither); the pid, 0 in the child, or -1 with errno. */
static pid_t
spawn(struct iso *x)
{
	int ctl[2], out[2];
	pid_t pid, parent = getpid();

	if (pipe2(ctl, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(ctl[0]);
		close(ctl[1]);
		return -1;
	}
	if ((pid = fork_call(x->sess->srv)) < 0) {
		close(ctl[0]);
		close(ctl[1]);
		close(out[0]);
		close(out[1]);
		return -1;
	}
	if (pid == 0) {
		close(ctl[1]);
		close(out[0]);
		child_setup(x->sess, parent, ctl[0], out[1]);
		return 0;
	}
	close(ctl[0]);
	close(out[1]);
	/* Linux 5.3; without it, the exit is looked for every few ms. */
	x->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	x->ctl = ctl[1];
	dopy_chan_init(&x->out, out[0], -1);
	x->out.max_frame = x->sess->ch.max_frame;
	return pid;
}

/*
 * In -s mode the outermost call holds the server's lock (serve.c's
 * serialise), so that one method runs at a time.  The child has its own
 * copy of the objects, taken under the lock, and meanwhile this thread
 * only relays for its own connection: the other connections' calls go
 * on instead of waiting for one that may hang until its grace runs out.
 * A call nested in a callback keeps the lock, which the method it
 * interrupted holds.  Whether it let go.
 */
static int
let_others_run(struct dopy_session *s)
{
	if (!s->srv->locking || s->depth != 1)
		return 0;
	pthread_mutex_unlock(&s->srv->lock);
	return 1;
}

int
dopy_isolate(dopy_call *c)
{
	struct iso x;
	int grace = grace_of(c), unlocked;

	if (grace == 0)
		return 1;
	memset(&x, 0, sizeof(x));
	x.call = c;
	x.sess = c->sess;
	x.grace = grace;
	x.t0 = dopy_now_ms();
	/* What the method's process would write is written now, not
	 * twice (once by each). */
	fflush(NULL);
	if ((x.pid = spawn(&x)) == 0)	/* the child: run it */
		return c->obj->sandbox == NULL ? 1 : dopy_sandbox_enter_call(c);
	if (x.pid < 0) {
		dopy_call_fail(c, "dopy.InternalError", "%s.%s: cannot fork "
		    "to isolate the call: %s", dopy_call_object(c),
		    dopy_call_method(c), strerror(errno));
		return 0;
	}
	unlocked = let_others_run(x.sess);
	watch(&x);
	if (unlocked)
		pthread_mutex_lock(&x.sess->srv->lock);
	finish(&x);
	return 0;
}
