/*
 * callback.c - the server calling its client back on the same channel.
 *
 * A method gets a proxy whose connection is the session itself
 * (dopy_call_peer_proxy); dopy_proxy_call() on it comes here.  We send
 * a CALLBACK frame and, until its answer arrives, serve whatever the
 * client sends, its own calls included (serve.c's dopy_session_step), so
 * that a client which calls us from inside its callback does not
 * deadlock.  The waits form a stack in the session: an answer may come
 * for an outer callback while an inner one waits (a client with several
 * threads), and is kept until its wait is back on top.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "client/client.h"
#include "server/server.h"

/* One callback awaiting its answer, on the waiting method's stack. */
struct cbwait {
	uint32_t	 id;
	int		 done;
	int		 code;
	dopy_value	*result;
	dopy_error	*err;
	struct cbwait	*up;
};

/* What session->peer_conn points at: the conn proxies hold, first, then
 * what callbacks need per session. */
struct peer {
	struct dopy_conn	 conn;
	struct cbwait		*waits;		/* innermost first */
	int			 over;		/* the session has ended */
	int			 over_code;
};

static struct peer *
peer_of(struct dopy_session *s)
{
	return (struct peer *)s->peer_conn;
}

dopy_proxy *
dopy_call_peer_proxy(dopy_call *c, const char *object)
{
	struct dopy_session *s;
	struct peer *p;

	if (c == NULL || (s = c->sess) == NULL || object == NULL)
		return NULL;
	if (s->peer_conn == NULL) {
		if ((p = calloc(1, sizeof(*p))) == NULL)
			return NULL;
		/* Only sess matters (proxy.c sends calls here), but code
		 * that takes any conn must find no fds and usable locks. */
		p->conn.sess = s;
		p->conn.pid = -1;
		p->conn.chan.in = p->conn.chan.out = -1;
		pthread_mutex_init(&p->conn.lock, NULL);
		pthread_mutex_init(&p->conn.wlock, NULL);
		pthread_cond_init(&p->conn.cond, NULL);
		s->peer_conn = &p->conn;
	}
	return dopy_proxy_new(s->peer_conn, object);
}

void
dopy_callback_end(struct dopy_session *s)
{
	struct peer *p = peer_of(s);

	if (p == NULL)
		return;
	pthread_mutex_destroy(&p->conn.lock);
	pthread_mutex_destroy(&p->conn.wlock);
	pthread_cond_destroy(&p->conn.cond);
	free(p);
	s->peer_conn = NULL;
}

int
dopy_callback_over(struct dopy_session *s, int *code)
{
	struct peer *p = peer_of(s);

	if (p == NULL || !p->over)
		return 0;
	if (code != NULL)
		*code = p->over_code;
	return 1;
}

void
dopy_callback_set_over(struct dopy_session *s, int code)
{
	struct peer *p = peer_of(s);

	/* Without a peer no callback waits: the loop sees code itself. */
	if (p != NULL && !p->over) {
		p->over = 1;
		p->over_code = code;
	}
}

/* Name the local failure in *ep like the library's own; returns code. */
static int
named(dopy_error **ep, int code, const char *name, const char *object,
    const char *method)
{
	if (ep != NULL && *ep != NULL)
		dopy_error_set_fields(*ep, name, object, method, NULL, -1);
	return code;
}

static int
send_callback(struct dopy_session *s, uint32_t id, const char *object,
    const char *method, const dopy_args *args, dopy_error **ep)
{
	struct dopy_buf *b = &s->ch.wbuf;
	int r;

	dopy_buf_reset(b);
	if ((r = dopy_put_call(b, DOPY_F_CALLBACK, id, object, method, args,
	    s->ch.max_frame, ep)) < 0)
		return r;
	if ((r = dopy_chan_write(&s->ch, b->data, b->len)) < 0)
		return named(ep, dopy_error_set(ep, r, "cannot call back "
		    "%s.%s: %s", object, method, r == DOPY_E_CLOSED ?
		    "the client has gone" : dopy_strerror(r)),
		    "dopy.ConnectionLost", object, method);
	return 0;
}

/* Serve the client until w is answered, the client falls silent for the
 * idle time, or the connection ends. */
static int
await(struct dopy_session *s, struct cbwait *w)
{
	struct peer *p = peer_of(s);
	int r = 0;

	w->up = p->waits;
	p->waits = w;
	s->depth++;
	while (!w->done && (r = dopy_session_step(s, s->srv->idle_ms, 0)) == 0)
		;
	s->depth--;
	p->waits = w->up;	/* inner waits have returned: w is on top */
	return w->done ? 0 : r;
}

int
dopy_session_callback(struct dopy_session *s, const char *object,
    const char *method, const dopy_args *args, dopy_value **result,
    dopy_error **ep)
{
	struct cbwait w = { 0 };
	int r;

	*result = NULL;
	/* Its answer would come to the connection process (isolate.c). */
	if (s->iso_child)
		return named(ep, dopy_error_set(ep, DOPY_E_USAGE, "callback "
		    "%s.%s: an isolated call cannot call the client back",
		    object, method), "dopy.Unsupported", object, method);
	if (dopy_callback_over(s, NULL))
		return named(ep, dopy_error_set(ep, DOPY_E_LOST, "callback "
		    "%s.%s: the connection has ended", object, method),
		    "dopy.ConnectionLost", object, method);
	if (s->depth >= DOPY_MAX_NEST)
		return named(ep, dopy_error_set(ep, DOPY_E_USAGE, "callback "
		    "%s.%s: calls and callbacks nested more than %d deep",
		    object, method, DOPY_MAX_NEST), "dopy.NestingTooDeep",
		    object, method);
	if (++s->next_cb_id == 0)	/* 0 is no id */
		s->next_cb_id = 1;
	w.id = s->next_cb_id;
	if ((r = send_callback(s, w.id, object, method, args, ep)) < 0)
		return r;
	if ((r = await(s, &w)) == DOPY_E_TIMEOUT)
		return named(ep, dopy_error_set(ep, r, "callback %s.%s: no "
		    "word from the client in %d ms", object, method,
		    s->srv->idle_ms), "dopy.Timeout", object, method);
	if (r < 0)	/* at-most-once: it may or may not have run */
		return named(ep, dopy_error_set(ep, DOPY_E_LOST, "callback "
		    "%s.%s: connection lost (%s); it may or may not have run",
		    object, method, dopy_strerror(r)), "dopy.ConnectionLost",
		    object, method);
	*result = w.result;
	if (ep != NULL) {
		dopy_error_free(*ep);
		*ep = w.err;
	} else
		dopy_error_free(w.err);
	return w.code;
}

/* The value of a CALLBACK_REPLY, or the error of a CALLBACK_ERROR; the
 * payload lives in the read buffer only until the next read. */
static void
take_answer(struct cbwait *w, const struct dopy_frame *f)
{
	struct dopy_image img[2];
	char err[200];
	size_t n;
	int r;

	w->done = 1;
	if (f->type == DOPY_F_CALLBACK_ERROR) {
		r = dopy_msg_error_get(f->payload, f->len, &w->err);
		w->code = r < 0 ? r : w->err->code < 0 ? w->err->code :
		    DOPY_E_REMOTE;
		return;
	}
	if (f->len == 0)	/* a method without a result */
		return;
	if ((r = dopy_images_split(f->payload, f->len, img, 2, &n, err,
	    sizeof(err))) == 0 && n != 1)
		snprintf(err, sizeof(err), "%zu values", n);
	if (r < 0 || n != 1 || (r = dopy_decode(&img[0], NULL, &w->result,
	    err, sizeof(err))) < 0) {
		w->code = DOPY_E_PROTO;
		w->err = dopy_error_new(DOPY_E_PROTO, "malformed "
		    "CALLBACK_REPLY: %s", err);
	}
}

void
dopy_callback_answer(struct dopy_session *s, const struct dopy_frame *f)
{
	struct peer *p = peer_of(s);
	struct cbwait *w = p != NULL ? p->waits : NULL;

	while (w != NULL && w->id != f->id)
		w = w->up;
	if (w == NULL || w->done) {
		/* Timed out, or never asked: nobody wants it. */
		dopy_session_complain(s, LOG_NOTICE, "%s %u answers no "
		    "waiting callback; ignored", dopy_frame_type_name(f->type),
		    f->id);
		return;
	}
	take_answer(w, f);
	if (w->code < 0 && w->err != NULL)
		dopy_log(&s->srv->log, LOG_INFO, "callback %u: %s: %s", f->id,
		    dopy_error_name(w->err), dopy_error_message(w->err));
}

/* A copy of e; where it does not say where it happened (a local
 * failure), it happened here. */
static dopy_error *
copy_error(dopy_call *c, const dopy_error *e)
{
	const char *name = dopy_error_name(e), *obj = dopy_error_object(e);
	const char *host = dopy_error_host(e);
	dopy_error *n;
	size_t i;

	if ((n = dopy_error_new(e->code, "%s", dopy_error_message(e))) == NULL)
		return NULL;
	if (dopy_error_set_fields(n, *name ? name : "dopy.Error",
	    *obj ? obj : dopy_call_object(c),
	    *obj ? dopy_error_method(e) : dopy_call_method(c),
	    *host ? host : c->srv->host, *host ? e->pid : c->srv->pid) < 0) {
		dopy_error_free(n);
		return NULL;
	}
	for (i = 0; i < e->ntrace; i++)
		if (dopy_error_add_trace(n, e->trace[i]) < 0) {
			dopy_error_free(n);
			return NULL;
		}
	return n;
}

/*
 * The trace then ends with this method's line, which dopy_dispatch_in()
 * adds to every error ("in cb.call on host H pid P"): the client's lines
 * first, innermost first, then ours.
 */
int
dopy_call_raise_error(dopy_call *c, const dopy_error *e)
{
	dopy_error *n;

	if (c == NULL)
		return DOPY_E_INVAL;
	if (e == NULL)
		return dopy_raise(c, "dopy.InternalError", "an error was "
		    "raised without one");
	if ((n = copy_error(c, e)) == NULL)
		return dopy_raise(c, "dopy.InternalError", "out of memory");
	dopy_error_free(c->err);
	c->err = n;
	return DOPY_E_REMOTE;
}
