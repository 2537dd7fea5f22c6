/*
 * serve.c - one connection: HELLO, then CALL after CALL until EOF.
 *
 * Like sftp-server, nothing but HELLO is accepted first and every length
 * is checked before anything is allocated.  What can be answered is
 * answered with an ERROR frame and the stream stays in sync; what breaks
 * the framing (bad magic, oversized length, EOF inside a frame) is
 * answered once with call id 0, logged, and ends the connection.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "internal.h"

struct conn {
	dopy_server	*srv;
	struct dopy_chan ch;
};

static int
send_frame(struct conn *c, uint8_t type, uint32_t id)
{
	struct dopy_frame f = { type, 0, id,
	    (uint32_t)(c->ch.wbuf.len - DOPY_HDR_LEN),
	    c->ch.wbuf.data + DOPY_HDR_LEN };

	dopy_log_frame(&c->srv->log, "send", &f);
	return dopy_chan_send(&c->ch, type, id);
}

static int
send_error(struct conn *c, uint32_t id, const dopy_error *e)
{
	int r;

	dopy_chan_begin(&c->ch);
	if ((r = dopy_msg_error_put(&c->ch.wbuf, e)) < 0)
		return r;
	return send_frame(c, DOPY_F_ERROR, id);
}

/* An error about the connection itself, not one method. */
static int
conn_error(struct conn *c, uint32_t id, const char *name, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static int
conn_error(struct conn *c, uint32_t id, const char *name, const char *fmt,
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
	dopy_log(&s->log, LOG_NOTICE, "%s: %s", name, e->message);
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
fatal(struct conn *c, int r)
{
	if (r == DOPY_E_CLOSED)
		return 0;
	if (r == DOPY_E_TOOBIG)
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

static int
hello(struct conn *c)
{
	struct dopy_hello h, mine = { DOPY_PROTOCOL, 0, 0, DOPY_SOFTWARE };
	struct dopy_frame f;
	char err[200];
	int r;

	if ((r = dopy_chan_read(&c->ch, &f)) < 0)
		return fatal(c, r) < 0 ? r : DOPY_E_CLOSED;
	dopy_log_frame(&c->srv->log, "recv", &f);
	if (f.type != DOPY_F_HELLO) {
		conn_error(c, 0, "dopy.ProtocolError", "expected HELLO, "
		    "got %s", dopy_frame_type_name(f.type));
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
	dopy_log(&c->srv->log, LOG_DEBUG, "HELLO from %s, max frame %u",
	    h.software, h.max_frame);
	dopy_chan_begin(&c->ch);
	r = dopy_msg_hello_put(&c->ch.wbuf, &mine);
	if (r == 0)
		r = send_frame(c, DOPY_F_HELLO, 0);
	c->ch.max_frame = h.max_frame < mine.max_frame ? h.max_frame :
	    mine.max_frame;
	if (c->ch.max_frame < DOPY_FRAME_MIN)
		c->ch.max_frame = DOPY_FRAME_MIN;
	dopy_msg_hello_release(&h);
	return r;
}

static int
reply(struct conn *c, uint32_t id, dopy_call *call)
{
	int r;

	if (call->err != NULL)
		return send_error(c, id, call->err);
	dopy_chan_begin(&c->ch);
	if (call->result != NULL &&
	    (r = dopy_encode(call->result, &c->ch.wbuf)) < 0)
		return conn_error(c, id, "dopy.InternalError", "cannot "
		    "encode the result: %s", dopy_strerror(r));
	r = send_frame(c, DOPY_F_REPLY, id);
	if (r == DOPY_E_TOOBIG)
		return conn_error(c, id, "dopy.FrameTooLarge", "the result "
		    "of %s.%s is larger than the maximum frame of %u bytes",
		    dopy_call_object(call), dopy_call_method(call),
		    c->ch.max_frame);
	return r;
}

static int
handle_call(struct conn *c, const struct dopy_frame *f)
{
	struct dopy_callmsg m;
	dopy_call call;
	char err[200];
	int r;

	if (dopy_msg_call_get(f->payload, f->len, &m, err, sizeof(err)) < 0)
		return conn_error(c, f->id, "dopy.ProtocolError",
		    "malformed CALL: %s", err);
	c->srv->ncalls++;
	dopy_dispatch(c->srv, &m, &call);
	dopy_log(&c->srv->log, LOG_DEBUG, "call %u %s.%s: %s", f->id,
	    m.object, m.method, call.err ? dopy_error_name(call.err) : "ok");
	r = reply(c, f->id, &call);
	dopy_call_release(&call);
	dopy_msg_call_release(&m);
	return r;
}

static int
handle(struct conn *c, const struct dopy_frame *f)
{
	switch (f->type) {
	case DOPY_F_CALL:
		return handle_call(c, f);
	case DOPY_F_HELLO:
		return conn_error(c, f->id, "dopy.ProtocolError",
		    "HELLO after HELLO");
	case DOPY_F_REPLY:
	case DOPY_F_ERROR:
		return conn_error(c, f->id, "dopy.ProtocolError",
		    "a client does not send %s",
		    dopy_frame_type_name(f->type));
	default:
		return conn_error(c, f->id, "dopy.UnknownFrame",
		    "unknown frame type %u", f->type);
	}
}

int
dopy_server_serve(dopy_server *s, int in, int out)
{
	struct conn c;
	struct dopy_frame f;
	int r;

	/* A vanished client must be an EPIPE we log, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	c.srv = s;
	dopy_chan_init(&c.ch, in, out);
	if ((r = hello(&c)) == DOPY_E_CLOSED)
		r = 0;
	while (r == 0) {
		if ((r = dopy_chan_read(&c.ch, &f)) < 0) {
			r = fatal(&c, r);
			break;
		}
		dopy_log_frame(&s->log, "recv", &f);
		if ((r = handle(&c, &f)) < 0)
			dopy_log(&s->log, LOG_ERR, "cannot reply: %s",
			    dopy_strerror(r));
	}
	dopy_chan_release(&c.ch);
	return r;
}
