/*
 * conn.c - the client's connection: a spawned command or an fd pair,
 * the HELLO exchange, and closing (reaping a spawned server).
 *
 * An early connection (DOPY_CONNECT_EARLY) does not wait for the
 * server's HELLO: ours is queued, goes out in one write with the first
 * call (proxy.c), and the server's is checked by whichever thread reads
 * first (future.c).  Until then, calls are limited to the smallest frame
 * limit a server may announce.
 *
 * A connection made from a target remembers it, so that it can be
 * released and dialled again (Pyro's _release and rebind).  No globals:
 * two connections in one process share nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client/client.h"

static dopy_conn *
conn_new(int in, int out)
{
	dopy_conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	dopy_codec_init();
	dopy_chan_init(&c->chan, in, out);
	/* Writes that never block, so that a writer with many calls in
	 * flight reads answers while it waits for room (chan.c's drain);
	 * reads stay blocking, one system call each. */
	if (dopy_chan_nonblocking_writes(&c->chan) == 0) {
		c->chan.drain = dopy_conn_drain;
		c->chan.drain_arg = c;
	}
	dopy_buf_init(&c->hello_out);
	if (in >= 0)
		dopy_conn_trace_begin(c);
	c->pid = -1;
	c->next_id = 1;
	c->gen = 1;
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->wlock, NULL);
	pthread_cond_init(&c->cond, NULL);
	return c;
}

/* An ERROR frame as the caller's error; returns its code. */
static int
take_error(const struct dopy_frame *f, dopy_error **ep)
{
	dopy_error *e;
	int r;

	if ((r = dopy_msg_error_get(f->payload, f->len, &e)) == 0)
		r = e->code;
	if (ep != NULL) {
		dopy_error_free(*ep);
		*ep = e;
	} else
		dopy_error_free(e);
	return r < 0 ? r : DOPY_E_PROTO;
}

/* Our MAC over both nonces in an AUTH frame; the server acks with AUTH. */
static int
respond(dopy_conn *c, const uint8_t *ns, dopy_error **ep)
{
	uint8_t mac[DOPY_MAC_LEN];
	struct dopy_frame f;
	dopy_value *v;
	int r;

	if (dopy_auth_mac(c->key, "client", c->nonce, ns, mac) < 0 ||
	    (v = dopy_value_bytes(mac, sizeof(mac))) == NULL)
		return dopy_error_set(ep, DOPY_E_NOMEM, "cannot compute MAC");
	dopy_chan_begin(&c->chan);
	r = dopy_encode(v, &c->chan.wbuf);
	dopy_value_free(v);
	if (r < 0 || (r = dopy_chan_send(&c->chan, DOPY_F_AUTH, 0)) < 0 ||
	    (r = dopy_chan_read(&c->chan, &f)) < 0)
		return dopy_error_set(ep, r == DOPY_E_CLOSED ? DOPY_E_AUTH : r,
		    "%s", r == DOPY_E_CLOSED ?
		    "the server closed the connection" : dopy_strerror(r));
	if (f.type == DOPY_F_ERROR)
		return take_error(&f, ep);
	if (f.type != DOPY_F_AUTH)
		return dopy_error_set(ep, DOPY_E_PROTO, "server answered AUTH "
		    "with %s", dopy_frame_type_name(f.type));
	return 0;
}

/* The answer to our HELLO: the server's HELLO, or an ERROR. */
static int
hello_answer(dopy_conn *c, const struct dopy_frame *f, dopy_error **ep)
{
	struct dopy_hello h;
	char err[200];
	int r;

	if (f->type == DOPY_F_ERROR)
		return take_error(f, ep);
	if (f->type != DOPY_F_HELLO)
		return dopy_error_set(ep, DOPY_E_PROTO, "server answered "
		    "HELLO with %s", dopy_frame_type_name(f->type));
	if (dopy_msg_hello_get(f->payload, f->len, &h, err, sizeof(err)) < 0)
		return dopy_error_set(ep, DOPY_E_PROTO, "malformed HELLO "
		    "from server: %s", err);
	if (h.proto != DOPY_PROTOCOL) {
		r = dopy_error_set(ep, DOPY_E_VERSION, "protocol version "
		    "mismatch: client speaks %u (%s), server speaks %u (%s)",
		    DOPY_PROTOCOL, DOPY_SOFTWARE, h.proto, h.software);
		dopy_msg_hello_release(&h);
		return r;
	}
	if (h.max_frame < c->chan.max_frame)
		c->chan.max_frame = h.max_frame < DOPY_FRAME_MIN ?
		    DOPY_FRAME_MIN : h.max_frame;
	c->server_software = h.software;	/* keep it */
	c->features = h.features & DOPY_FEAT_ALL;	/* in use: both announce */
	if (c->key == NULL)
		return 0;
	if (!(h.features & DOPY_FEAT_AUTH) || h.next < 2)
		return dopy_error_set(ep, DOPY_E_AUTH, "the server did not "
		    "prove it holds the key (does it run with -k?)");
	if (dopy_auth_verify(c->key, "server", c->nonce, h.ext[0],
	    h.ext[1]) < 0)
		return dopy_error_set(ep, DOPY_E_AUTH, "the server holds a "
		    "different key");
	return respond(c, h.ext[0], ep);
}

/* The largest frame we take: $DOPY_MAX_FRAME (bytes), or the default,
 * as dopyd -m sets the server's. */
static int
client_max_frame(uint32_t *max, dopy_error **ep)
{
	const char *env = getenv("DOPY_MAX_FRAME"), *why = NULL;
	long long v;

	*max = DOPY_FRAME_DEFAULT;
	if (env == NULL || *env == '\0')
		return 0;
	v = strtonum(env, DOPY_FRAME_MIN, UINT32_MAX, &why);
	if (why != NULL)
		return dopy_error_set(ep, DOPY_E_USAGE, "DOPY_MAX_FRAME=%s: "
		    "%s (from %u to %u bytes)", env, why, DOPY_FRAME_MIN,
		    UINT32_MAX);
	*max = (uint32_t)v;
	return 0;
}

/* Why the exchange failed when a read or write of it returned r. */
static int
hello_error(int r, dopy_error **ep)
{
	if (r == DOPY_E_CLOSED)
		return dopy_error_set(ep, r, "connection closed before the "
		    "server said HELLO");
	if (r == DOPY_E_TIMEOUT)
		return dopy_error_set(ep, r, "no HELLO from the server within "
		    "%d s", DOPY_HELLO_TIMEOUT_MS / 1000);
	/* The kind, dopy_strerror(r), goes in front (dopy_error_format). */
	return dopy_error_set(ep, r, "HELLO exchange failed%s%s",
	    r == DOPY_E_SYS ? ": " : "", r == DOPY_E_SYS ? strerror(errno) :
	    "");
}

/* Our HELLO, nonce included when we hold a key. */
static int
hello_mine(dopy_conn *c, struct dopy_hello *mine, dopy_error **ep)
{
	int r;

	memset(mine, 0, sizeof(*mine));
	mine->proto = DOPY_PROTOCOL;
	mine->software = DOPY_SOFTWARE;
	mine->features |= DOPY_FEAT_ALL;
	if ((r = client_max_frame(&mine->max_frame, ep)) < 0)
		return r;
	signal(SIGPIPE, SIG_IGN);	/* a dead server is EPIPE, not death */
	mine->features = DOPY_FEAT_ALL;	/* in use when the server's has it */
	if (c->key != NULL) {
		mine->features |= DOPY_FEAT_AUTH;
		dopy_auth_nonce(c->nonce);
		memcpy(mine->ext[0], c->nonce, DOPY_NONCE_LEN);
		mine->next = 1;
	}
	return 0;
}

int
dopy_conn_hello(dopy_conn *c, dopy_error **ep)
{
	struct dopy_hello mine;
	struct dopy_frame f;
	int r;

	if ((r = hello_mine(c, &mine, ep)) < 0)
		return r;
	dopy_chan_begin(&c->chan);
	/* A server that never answers must not hang the caller: the same
	 * deadline the server gives its clients. */
	dopy_chan_deadline(&c->chan, DOPY_HELLO_TIMEOUT_MS);
	if ((r = dopy_msg_hello_put(&c->chan.wbuf, &mine)) < 0 ||
	    (r = dopy_chan_send(&c->chan, DOPY_F_HELLO, 0)) < 0 ||
	    (r = dopy_chan_read(&c->chan, &f)) < 0) {
		c->kill_child = 1;
		dopy_chan_deadline(&c->chan, 0);
		return hello_error(r, ep);
	}
	/* Our limit holds for what we read; after HELLO, the smaller. */
	c->chan.max_frame = mine.max_frame;
	if ((r = hello_answer(c, &f, ep)) < 0)	/* AUTH still has the deadline */
		c->kill_child = 1;
	dopy_chan_deadline(&c->chan, 0);
	c->key = NULL;		/* the caller's; a copy is kept to redial */
	c->up = r == 0;
	return r;
}

/*
 * Early: our HELLO, framed, waits in hello_out for the first call.  The
 * server's max_frame is unknown until its HELLO is in, so we read that
 * one against the opening limit and send calls up to the smallest
 * max_frame any server may announce (dopy(5)).
 */
static int
hello_queue(dopy_conn *c, dopy_error **ep)
{
	struct dopy_hello mine;
	struct dopy_buf *b = &c->hello_out;
	int r;

	if ((r = hello_mine(c, &mine, ep)) < 0)
		return r;
	dopy_buf_reset(b);
	if (dopy_buf_reserve(b, DOPY_HDR_LEN) == NULL)
		return dopy_error_set(ep, DOPY_E_NOMEM, "out of memory");
	b->len = DOPY_HDR_LEN;
	if ((r = dopy_msg_hello_put(b, &mine)) < 0)
		return dopy_error_set(ep, r, "cannot encode HELLO: %s",
		    dopy_strerror(r));
	dopy_frame_encode(b->data, DOPY_F_HELLO, 0,
	    (uint32_t)(b->len - DOPY_HDR_LEN));
	c->hello_max = mine.max_frame;
	c->hello_state = DOPY_HELLO_QUEUED;
	c->up = 1;
	return 0;
}

/* Say HELLO now, or (early, without a key) queue it. */
static int
conn_open(dopy_conn *c, int flags, dopy_error **ep)
{
	if ((flags & DOPY_CONNECT_EARLY) && c->key == NULL)
		return hello_queue(c, ep);
	return dopy_conn_hello(c, ep);
}

uint32_t
dopy_conn_send_max(const dopy_conn *c)
{
	return c->hello_state == DOPY_HELLO_DONE ? c->chan.max_frame :
	    DOPY_FRAME_MIN;
}

static int explain_exit(dopy_conn *, const char *, int, int, dopy_error **);

int
dopy_conn_hello_sent(dopy_conn *c, int r, dopy_error **ep)
{
	dopy_error *e = NULL;

	if (r == 0) {
		pthread_mutex_lock(&c->lock);
		c->hello_state = DOPY_HELLO_SENT;
		c->hello_until = dopy_now_ms() + DOPY_HELLO_TIMEOUT_MS;
		pthread_mutex_unlock(&c->lock);
		dopy_buf_release(&c->hello_out);
		return 0;
	}
	r = hello_error(r, &e);
	if (c->command != NULL)
		r = explain_exit(c, c->command, r, 0, &e);
	pthread_mutex_lock(&c->lock);
	dopy_conn_hello_fail(c, e);
	r = dopy_conn_hello_error(c, ep);
	pthread_mutex_unlock(&c->lock);
	return r;
}

int
dopy_conn_hello_check(dopy_conn *c, const struct dopy_frame *f, int r,
    dopy_error **ep)
{
	if (f == NULL) {
		r = hello_error(r, ep);
		return c->command != NULL ?
		    explain_exit(c, c->command, r, 0, ep) : r;
	}
	/* Our limit holds for what we read; after HELLO, the smaller. */
	c->chan.max_frame = c->hello_max;
	return hello_answer(c, f, ep);
}

int
dopy_conn_fds(int in, int out, dopy_conn **cp, dopy_error **ep)
{
	return dopy_conn_fds_flags(in, out, NULL, 0, cp, ep);
}

int
dopy_conn_fds_key(int in, int out, const dopy_key *key, dopy_conn **cp,
    dopy_error **ep)
{
	return dopy_conn_fds_flags(in, out, key, 0, cp, ep);
}

int
dopy_conn_fds_flags(int in, int out, const dopy_key *key, int flags,
    dopy_conn **cp, dopy_error **ep)
{
	dopy_conn *c;
	int r;

	*cp = NULL;
	if ((c = conn_new(in, out)) == NULL) {
		close(in);
		if (out != in)
			close(out);
		return dopy_error_set(ep, DOPY_E_NOMEM, "out of memory");
	}
	c->key = key;
	if ((r = conn_open(c, flags, ep)) < 0) {
		dopy_conn_close(c);
		return r;
	}
	*cp = c;
	return 0;
}

/* Wait for a child: forever when ms is 0, else up to ms; 0 if reaped. */
int
dopy_reap(pid_t pid, int ms, int *status)
{
	int flags = ms > 0 ? WNOHANG : 0;
	pid_t r;

	for (;;) {
		r = waitpid(pid, status, flags);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		if (r == 0) {
			if (ms <= 0)
				return -1;
			poll(NULL, 0, 10);
			ms -= 10;
		}
	}
}

/* "closed before HELLO" says little when the command failed to start.
 * Closing its input ends a server that still reads; an early
 * connection's other threads may still write there, so it only waits. */
static int
explain_exit(dopy_conn *c, const char *command, int r, int closing,
    dopy_error **ep)
{
	int status;

	if (r != DOPY_E_CLOSED || c->pid < 0)
		return r;
	if (closing) {
		close(c->chan.out);
		c->chan.out = -1;
	}
	if (dopy_reap(c->pid, 1000, &status) < 0)
		return r;
	c->pid = -1;
	if (WIFEXITED(status))
		return dopy_error_set(ep, DOPY_E_SPAWN, "server command '%s' "
		    "exited with status %d before HELLO%s", command,
		    WEXITSTATUS(status), WEXITSTATUS(status) == 127 ?
		    " (command not found)" : "");
	return dopy_error_set(ep, DOPY_E_SPAWN, "server command '%s' killed "
	    "by signal %d before HELLO", command, WTERMSIG(status));
}

int
dopy_conn_spawn(const char *command, dopy_conn **cp, dopy_error **ep)
{
	return dopy_conn_spawn_flags(command, NULL, 0, cp, ep);
}

int
dopy_conn_spawn_flags(const char *command, const dopy_key *key, int flags,
    dopy_conn **cp, dopy_error **ep)
{
	int in, out, r;
	pid_t pid;

	*cp = NULL;
	if (command == NULL || *command == '\0')
		return dopy_error_set(ep, DOPY_E_INVAL, "empty command");
	if ((r = dopy_spawn(command, &in, &out, &pid, ep)) < 0)
		return r;
	return dopy_conn_child_flags(in, out, pid, command, key, flags, cp,
	    ep);
}

int
dopy_conn_child_flags(int in, int out, pid_t pid, const char *command,
    const dopy_key *key, int flags, dopy_conn **cp, dopy_error **ep)
{
	dopy_conn *c;
	int r;

	*cp = NULL;
	if ((c = conn_new(in, out)) == NULL) {
		close(in);
		close(out);
		kill(pid, SIGTERM);
		dopy_reap(pid, 0, &r);
		return dopy_error_set(ep, DOPY_E_NOMEM, "out of memory");
	}
	c->pid = pid;
	c->key = key;
	/* A command can be run again: remember it as an exec: target. */
	if ((c->target = calloc(1, sizeof(*c->target))) == NULL ||
	    (c->target->command = strdup(command)) == NULL ||
	    (c->command = strdup(command)) == NULL ||
	    (key != NULL && (c->keycopy = dopy_key_dup(key)) == NULL)) {
		dopy_conn_close(c);
		return dopy_error_set(ep, DOPY_E_NOMEM, "out of memory");
	}
	c->target->kind = DOPY_TARGET_EXEC;
	if ((r = conn_open(c, flags, ep)) < 0) {
		r = explain_exit(c, command, r, 1, ep);
		dopy_conn_close(c);
		return r;
	}
	*cp = c;
	return 0;
}

/*
 * Reap a spawned server after we closed its input.  One that may still
 * be busy (a call timed out, the framing broke) gets half a second to
 * see EOF, then SIGTERM, then SIGKILL, rather than hang the caller.
 */
static int
end_child(pid_t pid, int busy)
{
	int status;

	if (!busy || dopy_reap(pid, 500, &status) < 0) {
		if (busy) {
			kill(-pid, SIGTERM);	/* its process group */
			if (dopy_reap(pid, 500, &status) == 0)
				goto done;
			kill(-pid, SIGKILL);
		}
		if (dopy_reap(pid, 0, &status) < 0)
			return -1;
	}
done:
	return WIFEXITED(status) ? WEXITSTATUS(status) :
	    128 + WTERMSIG(status);
}

static void *
reaper(void *arg)
{
	int status;

	dopy_reap((pid_t)(intptr_t)arg, 0, &status);
	return NULL;
}

/*
 * A spawned server still running a oneway call: the caller was promised
 * it would not wait for the method, and the server must not be stopped
 * in it.  It sees EOF once the call is done and exits on its own; a
 * thread of ours reaps it, so that no zombie stays behind us.  -1 if no
 * thread can be had (the caller then waits).
 */
static int
leave_child(pid_t pid)
{
	pthread_attr_t attr;
	pthread_t t;
	int r;

	if (pthread_attr_init(&attr) != 0)
		return -1;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&t, &attr, reaper, (void *)(intptr_t)pid);
	pthread_attr_destroy(&attr);
	return r == 0 ? 0 : -1;
}

/* Close the transport; the exit status of a spawned server, or -1 (also
 * for one left to finish a oneway call). */
static int
drop(dopy_conn *c)
{
	int status = -1;

	if (c->chan.out >= 0)
		close(c->chan.out);	/* EOF: the server ends cleanly */
	if (c->chan.in >= 0 && c->chan.in != c->chan.out)
		close(c->chan.in);
	c->chan.in = c->chan.out = -1;
	if (c->pid > 0 && (!c->oneway_busy || c->kill_child ||
	    leave_child(c->pid) < 0))
		status = end_child(c->pid, c->kill_child);
	c->pid = -1;
	c->up = 0;
	c->kill_child = 0;
	c->oneway_busy = 0;
	dopy_buf_reset(&c->chan.rbuf);
	return status;
}

int
dopy_conn_close(dopy_conn *c)
{
	int status;

	if (c == NULL)
		return -1;
	if (c->sess != NULL)
		return -1;	/* the server's own, freed with its session */
	dopy_conn_cancel_all(c);	/* closing cancels what is in flight */
	pthread_mutex_lock(&c->lock);
	status = drop(c);
	dopy_futures_detach(c);
	pthread_mutex_unlock(&c->lock);
	dopy_conn_trace_end(c);
	dopy_chan_release(&c->chan);
	dopy_server_free(c->local);
	dopy_target_free(c->target);
	dopy_key_free(c->keycopy);
	dopy_buf_release(&c->hello_out);
	dopy_error_free(c->hello_err);
	free(c->command);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->wlock);
	pthread_cond_destroy(&c->cond);
	free(c->server_software);
	free(atomic_load(&c->spare));
	free(c);
	return status;
}

/* ---- release and reconnect ---- */

int
dopy_conn_release(dopy_conn *c)
{
	if (c == NULL || c->sess != NULL)
		return DOPY_E_INVAL;
	pthread_mutex_lock(&c->lock);
	if (c->reading && c->chan.out >= 0) {
		/* A thread is in read(): closing our output ends the server,
		 * whose EOF ends that read; then the rest is ours. */
		if (c->chan.out != c->chan.in)
			close(c->chan.out);
		else
			shutdown(c->chan.out, SHUT_RDWR);
		c->chan.out = c->chan.out == c->chan.in ? c->chan.out : -1;
		c->waiting++;
		while (c->reading)
			pthread_cond_wait(&c->cond, &c->lock);
		c->waiting--;
	}
	dopy_conn_lost(c, DOPY_E_LOST, NULL);
	drop(c);
	c->released = 1;
	pthread_mutex_unlock(&c->lock);
	return 0;
}

void
dopy_conn_set_rebind(dopy_conn *c, int tries, int wait_ms)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	c->rebind_tries = tries > 0 ? tries : 0;
	c->rebind_wait_ms = wait_ms > 0 ? wait_ms : 0;
	pthread_mutex_unlock(&c->lock);
}

unsigned
dopy_conn_generation(const dopy_conn *c)
{
	return c != NULL ? c->gen : 0;
}

/* Dial the target again and take over the new connection's transport. */
static int
redial(dopy_conn *c, dopy_error **ep)
{
	dopy_conn *n;
	int r;

	if ((r = dopy_target_connect_key(c->target, c->keycopy, &n,
	    ep)) < 0)
		return r;
	dopy_chan_release(&c->chan);
	c->chan = n->chan;
	c->chan.drain_arg = c;
	dopy_conn_trace_redial(c);
	c->pid = n->pid;
	free(c->server_software);
	c->server_software = n->server_software;
	c->features = n->features;
	free(c->command);
	c->command = n->command;
	n->command = NULL;
	c->hello_state = DOPY_HELLO_DONE;
	dopy_error_free(c->hello_err);
	c->hello_err = NULL;
	c->up = 1;
	c->released = 0;
	c->gen++;
	dopy_chan_init(&n->chan, -1, -1);
	n->pid = -1;
	n->server_software = NULL;
	dopy_conn_close(n);
	return 0;
}

int
dopy_conn_ensure(dopy_conn *c, dopy_error **ep)
{
	int i, tries, r = DOPY_E_CLOSED;

	if (c->up)
		return 0;
	if (c->chan.in >= 0 || c->pid > 0)
		drop(c);	/* lost: what is left of it */
	tries = c->released ? (c->rebind_tries > 0 ? c->rebind_tries : 1) :
	    c->rebind_tries;
	if ((c->target == NULL || tries == 0) && c->hello_err != NULL)
		return dopy_conn_hello_error(c, ep);
	if (c->target == NULL || tries == 0)
		return dopy_error_set(ep, DOPY_E_CLOSED, "connection %s; %s",
		    c->released ? "released" : "lost", c->target == NULL ?
		    "one made from descriptors cannot reconnect" :
		    "set a rebind to reconnect");
	for (i = 0; i < tries; i++) {
		if (i > 0 && c->rebind_wait_ms > 0)
			poll(NULL, 0, c->rebind_wait_ms);
		if (ep != NULL) {
			dopy_error_free(*ep);
			*ep = NULL;
		}
		if ((r = redial(c, ep)) == 0)
			return 0;
	}
	return r;
}

/* Remember how to dial again (dopy_target_connect_key). */
int
dopy_conn_remember(dopy_conn *c, const dopy_target *t, const dopy_key *key)
{
	if ((c->target = dopy_target_dup(t)) == NULL)
		return DOPY_E_NOMEM;
	if (key != NULL && (c->keycopy = dopy_key_dup(key)) == NULL)
		return DOPY_E_NOMEM;
	return 0;
}

int
dopy_conn_send_frame(dopy_conn *c, uint8_t type, uint32_t id,
    dopy_error **ep)
{
	return dopy_conn_send_payload(c, type, 0, id, NULL, NULL, ep);
}

int
dopy_conn_send_payload(dopy_conn *c, uint8_t type, uint8_t flags,
    uint32_t id, int (*put)(struct dopy_buf *, const void *),
    const void *arg, dopy_error **ep)
{
	int r, syserr;

	pthread_mutex_lock(&c->lock);
	r = c->up ? 0 : DOPY_E_CLOSED;
	pthread_mutex_unlock(&c->lock);
	if (r < 0)
		return dopy_error_set(ep, r, "connection closed");
	pthread_mutex_lock(&c->wlock);
	dopy_chan_begin(&c->chan);
	if (put != NULL && (r = put(&c->chan.wbuf, arg)) < 0) {
		pthread_mutex_unlock(&c->wlock);
		return dopy_error_set(ep, r, "cannot encode %s: %s",
		    dopy_frame_type_name(type), dopy_strerror(r));
	}
	r = dopy_chan_send_flags(&c->chan, type, flags, id);
	syserr = errno;
	pthread_mutex_unlock(&c->wlock);
	if (r < 0)	/* the kind goes in front (dopy_error_format) */
		return dopy_error_set(ep, r, "cannot send %s%s%s",
		    dopy_frame_type_name(type), r == DOPY_E_SYS ? ": " : "",
		    r == DOPY_E_SYS ? strerror(syserr) : "");
	return 0;
}

const char *
dopy_conn_server_version(const dopy_conn *c)
{
	return c != NULL && c->server_software ? c->server_software : "";
}
