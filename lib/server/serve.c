/*
 * serve.c - one connection: HELLO, then CALL after CALL until EOF.
 *
 * Like sftp-server, nothing but HELLO is accepted first and every length
 * is checked before anything is allocated.  What can be answered is
 * answered with an ERROR frame and the stream stays in sync; what breaks
 * the framing (bad magic, oversized length, EOF inside a frame) is
 * answered once with call id 0, logged, and ends the connection.
 *
 * One function reads and handles one frame (dopy_session_step): the
 * connection's own loop calls it, and so does a method waiting for a
 * callback's answer (callback.c), which serves the client's calls in the
 * meantime.  A frame's payload lives in the read buffer only until the
 * next read, so nothing of an outer call may point into it once its
 * arguments are bound.
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "server/server.h"

static int
send_frame(struct dopy_session *c, uint8_t type, uint32_t id)
{
	return dopy_chan_send(&c->ch, type, id);
}

int
dopy_session_send(struct dopy_session *c, uint8_t type, uint32_t id)
{
	return send_frame(c, type, id);
}

/* What a server without traces keeps from its client goes to its log
 * (rate-limited: the client decides how many errors there are). */
static void
log_withheld(struct dopy_session *c, uint32_t id, const dopy_error *e)
{
	char trace[1024] = "";
	size_t i;

	for (i = 0; i < e->ntrace; i++) {
		if (i > 0)
			strlcat(trace, " | ", sizeof(trace));
		strlcat(trace, e->trace[i], sizeof(trace));
	}
	dopy_session_complain(c, LOG_INFO, "call %u %s.%s: %s: %s: trace %s",
	    id, e->object != NULL ? e->object : "", e->method != NULL ?
	    e->method : "", e->name != NULL ? e->name : "", e->message, trace);
}

static int
send_error(struct dopy_session *c, uint32_t id, const dopy_error *e)
{
	dopy_error *bare = NULL;
	int r;

	if (c->srv->bare_errors) {
		log_withheld(c, id, e);
		if ((e = bare = dopy_error_bare(e)) == NULL)
			return DOPY_E_NOMEM;
	}
	dopy_chan_begin(&c->ch);
	r = dopy_msg_error_put(&c->ch.wbuf, e);
	dopy_error_free(bare);
	return r < 0 ? r : send_frame(c, DOPY_F_ERROR, id);
}

/* An error about the connection itself, not one method. */
static int
conn_error(struct dopy_session *c, uint32_t id, const char *name, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static int
conn_error(struct dopy_session *c, uint32_t id, const char *name, const char *fmt,
    ...)
{
	dopy_server *s = c->srv;
	char line[400];
	dopy_error *e;
	va_list ap;
	int r;

	va_start(ap, fmt);
	e = dopy_error_vnew(DOPY_E_PROTO, fmt, ap);
	va_end(ap);
	if (e == NULL)
		return DOPY_E_NOMEM;
	dopy_session_complain(c, LOG_NOTICE, "%s: %s", name, e->message);
	snprintf(line, sizeof(line), "in connection on host %s pid %ld",
	    s->host, s->pid);
	dopy_error_set_fields(e, name, "", "", s->host, s->pid);
	dopy_error_add_trace(e, line);
	r = send_error(c, id, e);
	dopy_error_free(e);
	return r;
}

/* Framing is lost: say why once (best effort) and stop. */
static int
fatal(struct dopy_session *c, int r)
{
	if (r == DOPY_E_CLOSED)
		return 0;
	if (r == DOPY_E_TIMEOUT)
		conn_error(c, 0, "dopy.Timeout", "no complete frame in time; "
		    "closing");
	else if (r == DOPY_E_TOOBIG)
		conn_error(c, 0, "dopy.FrameTooLarge", "frame longer than "
		    "the maximum of %u bytes", c->ch.max_frame);
	else if (r == DOPY_E_PROTO)
		conn_error(c, 0, "dopy.ProtocolError", "malformed frame "
		    "header or end of input inside a frame");
	else
		dopy_log(&c->srv->log, LOG_ERR, "connection: %s: %m",
		    dopy_strerror(r));
	return r;
}

void
dopy_session_complain(struct dopy_session *c, int prio, const char *fmt,
    ...)
{
	va_list ap;

	va_start(ap, fmt);
	dopy_vlog_limited(&c->srv->log, &c->noise, prio, fmt, ap);
	va_end(ap);
}

static const char *
peer_text(const struct dopy_session *c)
{
	return c->peer.name;
}

static int
auth_failed(struct dopy_session *c, const char *why)
{
	dopy_log(&c->srv->log, LOG_WARNING, "authentication failed for %s: "
	    "%s", peer_text(c), why);
	conn_error(c, 0, "dopy.AuthFailed", "%s", why);
	return DOPY_E_AUTH;
}

/* Our half of the challenge goes into our HELLO: Ns and our MAC. */
static int
challenge(struct dopy_session *c, const struct dopy_hello *h,
    struct dopy_hello *mine)
{
	if (!(h->features & DOPY_FEAT_AUTH) || h->next < 1)
		return auth_failed(c, "this server requires a shared key");
	mine->features |= DOPY_FEAT_AUTH;
	dopy_auth_nonce(mine->ext[0]);
	if (dopy_auth_mac(c->srv->key, "server", h->ext[0], mine->ext[0],
	    mine->ext[1]) < 0)
		return auth_failed(c, "cannot compute a MAC");
	mine->next = 2;
	return 0;
}

/* The client's AUTH frame must carry its MAC over both nonces. */
static int
check_response(struct dopy_session *c, const uint8_t *nc, const uint8_t *ns)
{
	struct dopy_image img[2];
	struct dopy_frame f;
	dopy_value *v = NULL;
	const void *mac;
	char err[200];
	size_t n, len = 0;
	int r;

	/* A silent client is a timeout, not a failed login: tools that
	 * count failed logins read these lines. */
	if ((r = dopy_chan_read(&c->ch, &f)) == DOPY_E_TIMEOUT) {
		dopy_log(&c->srv->log, LOG_NOTICE, "%s sent no AUTH in time",
		    peer_text(c));
		return fatal(c, r);
	}
	if (r < 0)
		return auth_failed(c, r == DOPY_E_CLOSED ? "the client left "
		    "(it holds another key or none)" : dopy_strerror(r));
	if (f.type != DOPY_F_AUTH ||
	    dopy_images_split(f.payload, f.len, img, 2, &n, err,
	    sizeof(err)) < 0 || n != 1 ||
	    dopy_decode(&img[0], &dopy_type_bytes_, &v, err, sizeof(err)) < 0)
		return auth_failed(c, "expected AUTH with the client's MAC");
	mac = dopy_value_get_bytes(v, &len);
	r = len == DOPY_MAC_LEN ? dopy_auth_verify(c->srv->key, "client", nc,
	    ns, mac) : DOPY_E_AUTH;
	dopy_value_free(v);
	if (r < 0)
		return auth_failed(c, "the client does not hold the key");
	c->peer.verified = 1;
	dopy_log(&c->srv->log, LOG_INFO, "authenticated %s", peer_text(c));
	dopy_chan_begin(&c->ch);
	return send_frame(c, DOPY_F_AUTH, 0);
}

static int
hello(struct dopy_session *c)
{
	struct dopy_hello h, mine = { .proto = DOPY_PROTOCOL,
	    .software = DOPY_SOFTWARE };
	struct dopy_frame f;
	char err[200];
	int r;

	/* A client that connects and says nothing is gone at the deadline
	 * (Pyro's name server used 20 s). */
	dopy_chan_deadline(&c->ch, c->srv->handshake_ms);
	if ((r = dopy_chan_read(&c->ch, &f)) < 0)
		return fatal(c, r) < 0 ? r : DOPY_E_CLOSED;
	if (f.type != DOPY_F_HELLO || f.id != 0) {
		conn_error(c, 0, "dopy.ProtocolError", "expected HELLO with "
		    "call id 0, got %s with call id %u",
		    dopy_frame_type_name(f.type), f.id);
		return DOPY_E_PROTO;
	}
	if (dopy_msg_hello_get(f.payload, f.len, &h, err, sizeof(err)) < 0) {
		conn_error(c, 0, "dopy.ProtocolError", "malformed HELLO: %s",
		    err);
		return DOPY_E_PROTO;
	}
	if (h.proto != DOPY_PROTOCOL) {
		conn_error(c, 0, "dopy.VersionMismatch", "protocol version "
		    "mismatch: client speaks %u (%s), server speaks %u (%s)",
		    h.proto, h.software, DOPY_PROTOCOL, DOPY_SOFTWARE);
		dopy_msg_hello_release(&h);
		return DOPY_E_VERSION;
	}
	mine.max_frame = c->srv->max_frame;
	/* Features are in use when both sides announce them. */
	mine.features |= DOPY_FEAT_ALL;
	c->features = h.features & DOPY_FEAT_ALL;
	dopy_log(&c->srv->log, LOG_DEBUG, "HELLO from %s, max frame %u",
	    h.software, h.max_frame);
	if (c->srv->key != NULL && (r = challenge(c, &h, &mine)) < 0) {
		dopy_msg_hello_release(&h);
		return r;
	}
	dopy_chan_begin(&c->ch);
	r = dopy_msg_hello_put(&c->ch.wbuf, &mine);
	if (r == 0)
		r = send_frame(c, DOPY_F_HELLO, 0);
	if (r == 0 && c->srv->key != NULL)
		r = check_response(c, h.ext[0], mine.ext[0]);
	c->ch.max_frame = h.max_frame < mine.max_frame ? h.max_frame :
	    mine.max_frame;
	if (c->ch.max_frame < DOPY_FRAME_MIN)
		c->ch.max_frame = DOPY_FRAME_MIN;
	dopy_msg_hello_release(&h);
	return r;
}

static int
reply(struct dopy_session *c, uint32_t id, dopy_call *call)
{
	const struct dopy_buf *img;
	int r;

	if (call->err != NULL)
		return send_error(c, id, call->err);
	dopy_chan_begin(&c->ch);
	/* A generated object's result is its image already. */
	if ((img = dopy_stub_reply(call)) != NULL &&
	    (r = dopy_buf_put(&c->ch.wbuf, img->data, img->len)) < 0)
		return conn_error(c, id, "dopy.InternalError", "cannot "
		    "send the result: %s", dopy_strerror(r));
	if (call->result != NULL &&
	    (r = dopy_encode(call->result, &c->ch.wbuf)) < 0)
		return conn_error(c, id, "dopy.InternalError", "cannot "
		    "encode the result: %s", dopy_strerror(r));
	r = send_frame(c, DOPY_F_REPLY, id);
	if (r != DOPY_E_TOOBIG)
		return r;
	/* The call's own error, not the connection's: it keeps the call
	 * id and the stream stays in sync. */
	dopy_call_drop_result(call);
	dopy_call_fail_late(call, "dopy.FrameTooLarge", "the result of %s.%s "
	    "is larger than the maximum frame of %u bytes",
	    dopy_call_object(call), dopy_call_method(call), c->ch.max_frame);
	return call->err != NULL ? send_error(c, id, call->err) : DOPY_E_NOMEM;
}

/* The session ended inside a callback wait, other than by a plain EOF:
 * the client has been told, nothing more goes out. */
static int
silenced(struct dopy_session *c)
{
	int code;

	return dopy_callback_over(c, &code) && code != DOPY_E_CLOSED;
}

/*
 * In -s mode user code (methods, a reference's gone hook) runs under the
 * server's lock, taken by the outermost call only: calls nested in a
 * callback run in the same thread, which holds it already.  Returns
 * whether it locked, for serialise_end.
 */
static int
serialise(struct dopy_session *c)
{
	if (!c->srv->locking || c->depth > 0)
		return 0;
	pthread_mutex_lock(&c->srv->lock);
	return 1;
}

static void
serialise_end(struct dopy_session *c, int locked)
{
	if (locked)
		pthread_mutex_unlock(&c->srv->lock);
}

static void
run_call(struct dopy_session *c, struct dopy_callmsg *m, dopy_call *call,
    uint32_t id, int64_t deadline)
{
	struct dopy_running run;
	int locked = serialise(c);

	c->srv->ncalls++;
	c->depth++;
	call->id = id;		/* kept by dispatch, for PROGRESS */
	dopy_running_push(c, &run, call, id, deadline);
	dopy_dispatch_in(c->srv, c, m, call);
	dopy_running_pop(c, &run);
	c->depth--;
	serialise_end(c, locked);
}

static void
title(struct dopy_session *c, const struct dopy_callmsg *m)
{
	/* ps(1) shows the current or last method; setproctitle costs
	 * thousands of instructions, so only when the method changes. */
	if (c->srv->proctitle && (c->calls == 1 ||
	    strcmp(m->object, c->title_obj) != 0 ||
	    strcmp(m->method, c->title_meth) != 0)) {
		strlcpy(c->title_obj, m->object, sizeof(c->title_obj));
		strlcpy(c->title_meth, m->method, sizeof(c->title_meth));
		setproctitle("%s %s.%s", peer_text(c), m->object, m->method);
	}
}

/*
 * A CALL, or a ONEWAY: the same payload, but no answer at all (Pyro's
 * oneway); what goes wrong is logged here instead of sent.
 */
static int
handle_call(struct dopy_session *c, const struct dopy_frame *f, int oneway)
{
	struct dopy_callmsg m;
	dopy_call call;
	char err[200];
	size_t i, skip;
	int64_t deadline;
	int r = 0;

	if ((r = dopy_cancel_deadline_get(c, f, &skip, &deadline, err,
	    sizeof(err))) == 0)
		r = dopy_msg_call_get(f->payload + skip, f->len - skip, &m,
		    err, sizeof(err));
	if (r < 0) {
		if (!oneway && r == DOPY_E_USAGE)
			return conn_error(c, f->id, "dopy.ArgumentError",
			    "%s", err);
		if (!oneway)
			return conn_error(c, f->id, "dopy.ProtocolError",
			    "malformed CALL: %s", err);
		dopy_session_complain(c, LOG_WARNING, "malformed ONEWAY %u: "
		    "%s", f->id, err);
		return 0;
	}
	c->calls++;
	if (c->depth >= DOPY_MAX_NEST) {
		dopy_msg_call_release(&m);
		if (oneway) {
			dopy_session_complain(c, LOG_WARNING, "oneway %u: "
			    "calls nested more than %d deep", f->id,
			    DOPY_MAX_NEST);
			return 0;
		}
		return conn_error(c, f->id, "dopy.NestingTooDeep", "calls and "
		    "callbacks nested more than %d deep", DOPY_MAX_NEST);
	}
	title(c, &m);
	for (i = 0; i < m.argc; i++)	/* a large bytes argument keeps it */
		m.args[i].lend = f->lend;
	m.upload = (f->flags & DOPY_FL_UPLOAD) &&
	    (c->features & DOPY_FEAT_UPLOAD);
	/* From here on the arguments are bound values: the method may
	 * read further frames (callbacks) over f->payload. */
	if (!dopy_cancel_refused(c, &m, &call, oneway ? 0 : f->id, deadline))
		run_call(c, &m, &call, oneway ? 0 : f->id, deadline);
	if (c->srv->log.verbose)	/* else dropped: spare the call */
		dopy_log(&c->srv->log, LOG_DEBUG, "call %u %s.%s: %s", f->id,
		    m.object, m.method, call.err ?
		    dopy_error_name(call.err) : "ok");
	dopy_call_drop_args(&call);
	if (!oneway && !call.answered && !silenced(c))
		r = reply(c, f->id, &call);
	else if ((oneway || call.answered) && !call.relayed &&
	    call.err != NULL)
		dopy_session_complain(c, LOG_WARNING, "oneway %s.%s: %s: %s",
		    m.object, m.method, dopy_error_name(call.err),
		    dopy_error_message(call.err));
	dopy_isolate_exit(c, r);	/* an isolated call's child ends */
	dopy_call_release(&call);
	dopy_msg_call_release(&m);
	return r;
}

int
dopy_session_answer_early(struct dopy_session *c, uint32_t id)
{
	dopy_chan_begin(&c->ch);
	return send_frame(c, DOPY_F_REPLY, id);
}

/* RELEASE: the client is done with a reference; no answer either way. */
static int
handle_release(struct dopy_session *c, const struct dopy_frame *f)
{
	int locked = serialise(c), r;

	r = dopy_refs_release(c, f->id);
	serialise_end(c, locked);
	if (r < 0)
		dopy_session_complain(c, LOG_NOTICE, "RELEASE of reference "
		    "%u, which does not exist here", f->id);
	return 0;
}

/*
 * Call id 0 belongs to the connection: an ERROR carrying it is fatal
 * (dopy(5)).  So a frame the server answers may not carry it, and a
 * HELLO after the exchange is not answered but ends the connection:
 * either way the client would read a fatal error, so it is one.
 */
static int
breaks_rules(struct dopy_session *c, const struct dopy_frame *f)
{
	if (f->type == DOPY_F_HELLO)
		conn_error(c, 0, "dopy.ProtocolError", "HELLO after HELLO; "
		    "closing");
	else if (f->id == 0 && f->type != DOPY_F_ONEWAY &&
	    f->type != DOPY_F_RELEASE && f->type != DOPY_F_CALLBACK_REPLY &&
	    f->type != DOPY_F_CALLBACK_ERROR)
		conn_error(c, 0, "dopy.ProtocolError", "%s with call id 0, "
		    "which is the connection's; closing",
		    dopy_frame_type_name(f->type));
	else
		return 0;
	return 1;
}

/* 0, or < 0 when the connection must end: DOPY_E_PROTO when the client
 * broke the rules (it has been told), else the failed write's code. */
static int
handle(struct dopy_session *c, const struct dopy_frame *f)
{
	if (breaks_rules(c, f))
		return DOPY_E_PROTO;
	if (dopy_fake_takes(c->srv, f->type))	/* dopyd -F */
		return dopy_fake_frame(c, f);
	switch (f->type) {
	case DOPY_F_CALL:
		return handle_call(c, f, 0);
	case DOPY_F_ONEWAY:
		return handle_call(c, f, 1);
	case DOPY_F_RELEASE:
		return handle_release(c, f);
	case DOPY_F_CANCEL:
		if (dopy_cancel_frame(c, f) == 0)
			return 0;
		return conn_error(c, f->id, "dopy.UnknownFrame",
		    "unknown frame type %u", f->type);
	case DOPY_F_ITEM:
		if (dopy_upload_frame(c, f) == 0)
			return 0;
		return conn_error(c, f->id, "dopy.UnknownFrame",
		    "unknown frame type %u", f->type);
	case DOPY_F_CALLBACK_REPLY:
	case DOPY_F_CALLBACK_ERROR:
		dopy_callback_answer(c, f);
		return 0;
	case DOPY_F_REPLY:
	case DOPY_F_ERROR:
	case DOPY_F_PROGRESS:
	case DOPY_F_CALLBACK:
		return conn_error(c, f->id, "dopy.ProtocolError",
		    "a client does not send %s",
		    dopy_frame_type_name(f->type));
	default:
		return conn_error(c, f->id, "dopy.UnknownFrame",
		    "unknown frame type %u", f->type);
	}
}

/* Take what the client has sent so far, whole frames or not, so that a
 * slow frame does not hold up the watchers. */
static int
read_some(struct dopy_chan *ch)
{
	int r = dopy_chan_take_input(ch, 1);	/* poll said, or nothing else */

	/* EOF inside a frame breaks the framing. */
	if (r == DOPY_E_CLOSED && dopy_buf_avail(&ch->rbuf) > 0)
		return DOPY_E_PROTO;
	return r;
}

/* References due for reaping: when to look again (0: never). */
static int64_t
reap(struct dopy_session *c, int64_t now)
{
	int locked = serialise(c), ms;

	ms = dopy_refs_reap(c, now);
	serialise_end(c, locked);
	return ms < 0 ? 0 : now + (ms > 0 ? ms : 1);
}

/* The nearer of two times (0: none) as a poll(2) timeout from now. */
static int
poll_ms(int64_t now, int64_t a, int64_t b)
{
	int64_t t = a == 0 ? b : b == 0 || a < b ? a : b;

	if (t == 0)
		return -1;
	return t - now > 60000 ? 60000 : (int)(t - now);
}

/*
 * Wait for the next whole frame, at most wait_ms (0: no limit) of
 * silence.  At the top of the connection (not inside a callback wait)
 * the watched fds are served meanwhile, and references reaped; frames
 * the watchers' callbacks read restart the silence.
 */
static int
next_frame(struct dopy_session *c, struct dopy_frame *f, int wait_ms,
    int top)
{
	int watch = top && !c->srv->locking;
	/* No reference table, nothing to reap (ref.c makes it with the
	 * first); no deadline either, and no clock to read. */
	int reaps = top && c->refs != NULL;
	int64_t now = wait_ms > 0 || reaps ? dopy_now_ms() : 0, until,
	    reap_at;
	uint64_t seen;
	int r, over;

	until = wait_ms > 0 ? now + wait_ms : 0;
	reap_at = reaps ? reap(c, now) : 0;
	while (!dopy_chan_frame_ready(&c->ch)) {
		if (until != 0 || reap_at != 0)
			now = dopy_now_ms();
		if (reap_at != 0 && now >= reap_at) {
			reap_at = reap(c, now);
			continue;
		}
		if (until != 0 && now >= until)
			return DOPY_E_TIMEOUT;
		seen = c->ch.bytes_in;
		/* Nothing but the client to wait for: read blocks, and a
		 * call costs no poll(2). */
		if (until == 0 && reap_at == 0 && (!watch ||
		    c->srv->nwatches == 0))
			r = 1;
		else
			r = dopy_watch_poll(c->srv, c->ch.in, poll_ms(now,
			    until, reap_at), watch);
		if (dopy_callback_over(c, &over))	/* in a watcher */
			return over;
		if (c->ch.bytes_in != seen && wait_ms > 0)
			until = dopy_now_ms() + wait_ms;
		if (r > 0)
			r = read_some(&c->ch);
		if (r < 0)
			return r;
	}
	return dopy_chan_read(&c->ch, f);
}

int
dopy_session_step(struct dopy_session *c, int wait_ms, int top)
{
	struct dopy_frame f;
	int r;

	if (dopy_callback_over(c, &r))
		return r;
	if ((r = next_frame(c, &f, wait_ms, top)) == DOPY_E_TIMEOUT)
		return r;
	if (r < 0) {
		if (r != DOPY_E_CLOSED)
			fatal(c, r);
		dopy_callback_set_over(c, r);
		return r;
	}
	if ((r = handle(c, &f)) == 0)
		return 0;
	/* A broken rule was answered already; a client that cannot be
	 * written to is gone (EPIPE is its plain end). */
	if (r != DOPY_E_PROTO && r != DOPY_E_CLOSED)
		dopy_log(&c->srv->log, LOG_ERR, "cannot reply: %s",
		    dopy_strerror(r));
	dopy_callback_set_over(c, r);
	return r;
}

int
dopy_call_progress(dopy_call *call)
{
	struct dopy_session *c;
	uint32_t id;
	int64_t now;

	if (call == NULL || (c = call->sess) == NULL)
		return 0;
	if (dopy_call_stopped(call))
		return DOPY_E_CANCELLED;
	if ((id = call->id) == 0)		/* ONEWAY: nobody is waiting */
		return 0;
	if (dopy_callback_over(c, NULL))
		return DOPY_E_LOST;
	now = dopy_now_ms();
	if (c->progress_ms != 0 && now - c->progress_ms < DOPY_PROGRESS_MS)
		return 0;
	c->progress_ms = now;
	/* As often as a frame goes: the client may have said stop. */
	if (dopy_call_cancelled(call) < 0)
		return DOPY_E_CANCELLED;
	dopy_chan_begin(&c->ch);
	return send_frame(c, DOPY_F_PROGRESS, id);
}

/*
 * After HELLO, so that the protocol works whatever the sandbox forbids.
 * Never serve unsandboxed what was to be sandboxed: a failure ends the
 * connection, and so does a connection of -s mode, whose process is
 * every connection's (dopy_sandbox_check refuses it at start).
 */
static int
sandbox(struct dopy_session *c)
{
	char err[256];

	if (c->srv->locking)
		snprintf(err, sizeof(err), "one process serves every "
		    "connection (-s)");
	else if (dopy_sandbox_apply(c->srv, c->srv->sandbox, err,
	    sizeof(err)) == 0)
		return 0;
	dopy_log(&c->srv->log, LOG_ERR, "%s: cannot sandbox the connection: "
	    "%s", peer_text(c), err);
	conn_error(c, 0, "dopy.SandboxError", "cannot sandbox the "
	    "connection: %s", err);
	return DOPY_E_SYS;
}

int
dopy_session_serve(struct dopy_session *c, int in, int out)
{
	int64_t ms;
	int r, locked;

	/* A vanished client must be an EPIPE we log, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	c->start_ms = dopy_now_ms();
	c->srv->pid = (long)getpid();	/* a server forked after dopy_server_new */
	dopy_chan_init(&c->ch, in, out);
	/* A client that stops reading must not pin us (dopyd(8) -w). */
	dopy_chan_send_deadline(&c->ch, dopy_server_send_ms(c->srv));
	dopy_record_begin(c);
	if (c->srv->proctitle)
		setproctitle("%s hello", peer_text(c));
	dopy_crash_begin(c);
	if ((r = hello(c)) == DOPY_E_CLOSED)
		r = 0;
	else if (r == 0 && c->srv->sandbox != NULL)
		r = sandbox(c);
	if (r == 0) {
		while ((r = dopy_session_step(c, c->srv->idle_ms, 1)) == 0)
			;
		/* Silence between calls is fatal here, unlike in a
		 * callback wait. */
		if (r == DOPY_E_TIMEOUT && !c->ch.stalled)
			r = fatal(c, r);
		else if (r == DOPY_E_CLOSED)
			r = 0;
	}
	if (c->over != NULL)		/* the end of what the caps count */
		c->over(c->over_arg);
	/* The duration in whole milliseconds, as %.3f of seconds would
	 * print them: formatting a double faults in printf's floating
	 * point code, four pages, in every connection's process. */
	ms = dopy_now_ms() - c->start_ms;
	dopy_log(&c->srv->log, LOG_INFO, "exit %s duration=%lld.%03llds "
	    "calls=%llu bytes_in=%llu bytes_out=%llu status=%d", peer_text(c),
	    (long long)(ms / 1000), (long long)(ms % 1000),
	    (unsigned long long)c->calls,
	    (unsigned long long)c->ch.bytes_in,
	    (unsigned long long)c->ch.bytes_out, r == 0 ? 0 : 1);
	if (c->noise.dropped > 0)
		dopy_log(&c->srv->log, LOG_NOTICE, "%s: %llu more complaint%s "
		    "not logged (at most %d at once, then one a second)",
		    peer_text(c), (unsigned long long)c->noise.dropped,
		    c->noise.dropped == 1 ? "" : "s", DOPY_LOG_BURST);
	locked = serialise(c);
	dopy_refs_end(c);
	serialise_end(c, locked);
	dopy_callback_end(c);
	dopy_stub_session_end(c);
	dopy_crash_end(c);
	dopy_record_end(c);
	dopy_chan_release(&c->ch);
	return r;
}

int
dopy_server_serve(dopy_server *s, int in, int out)
{
	struct dopy_session c;

	memset(&c, 0, sizeof(c));
	c.srv = s;
	dopy_peer_detect(&c.peer, in, 0);
	dopy_log(&s->log, LOG_INFO, "connection from %s%s%s (%s)",
	    peer_text(&c), c.peer.port[0] ? " port " : "", c.peer.port,
	    c.peer.transport);
	return dopy_session_serve(&c, in, out);
}
