/*
 * stream.c - the client's half of streaming results (dopy(5), Streams):
 * a call whose items are read one by one as they come.
 *
 * The call is an ordinary future (future.c) with a queue: whichever
 * thread reads the connection puts the stream's ITEM payloads there,
 * copied, and dopy_stream_next() takes them in order, then the final
 * answer (an empty REPLY, or an ERROR).  The queue is bounded (client.h):
 * while it is full nobody reads the connection, so a slow reader slows
 * the server down instead of growing either side's memory.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"

struct dopy_stream {
	dopy_future		*f;
	struct dopy_squeue	 q;
	int			 cancelled;	/* locally: the rest is dropped */
	int			 ended;		/* the end was returned */
	int			 code;		/* ... with this code */
};

static int
start(dopy_proxy *p, const char *method, dopy_callenc_fn enc,
    const void *arg, dopy_stream **sp, dopy_error **ep)
{
	dopy_stream *s;
	int r;

	if (sp != NULL)
		*sp = NULL;
	if (p == NULL || method == NULL || sp == NULL)
		return dopy_error_set(ep, DOPY_E_INVAL, "NULL argument");
	if (p->conn->sess != NULL)
		return dopy_error_set(ep, DOPY_E_INVAL, "%s.%s: a server does "
		    "not stream from its client's objects", p->object, method);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return dopy_error_set(ep, DOPY_E_NOMEM, "out of memory");
	if ((r = dopy_stream_send(p, method, enc, arg, &s->q, &s->f,
	    ep)) < 0) {
		free(s);
		return r;
	}
	*sp = s;
	return 0;
}

int
dopy_proxy_stream(dopy_proxy *p, const char *method, const dopy_args *args,
    dopy_stream **sp, dopy_error **ep)
{
	return start(p, method, dopy_args_encode, args, sp, ep);
}

int
dopy_stub_stream(dopy_proxy *p, const char *method, size_t nargs,
    dopy_put_fn put, const void *args, dopy_stream **sp, dopy_error **ep)
{
	struct dopy_stub_args sa = { nargs, put, args };

	if (nargs > DOPY_MAX_ARGS) {
		if (sp != NULL)
			*sp = NULL;
		return dopy_error_set(ep, DOPY_E_INVAL, "%zu arguments, more "
		    "than %d", nargs, DOPY_MAX_ARGS);
	}
	return start(p, method, dopy_stub_encode, &sa, sp, ep);
}

/* The end, once its answer is in: 0, or the call's error (the first
 * time whole, later as a copy of its code and message). */
static int
end(dopy_stream *s, dopy_error **ep)
{
	dopy_future *f = s->f;

	if (s->cancelled)
		return dopy_error_set(ep, DOPY_E_CANCELLED, "%s: stream "
		    "cancelled", f->what);
	s->ended = 1;
	s->code = f->code;
	if (f->code == 0)
		return 0;
	if (ep != NULL && f->err != NULL) {
		dopy_error_free(*ep);
		*ep = f->err;
		f->err = NULL;
		return f->code;
	}
	return dopy_error_set(ep, f->code, "%s: %s", f->what,
	    dopy_strerror(f->code));
}

/*
 * The next item's payload, taken (*it), or the end (*it NULL, the code
 * returned).  Waits as the future does: by reading the connection, or
 * for the thread that reads it.
 */
static int
take(dopy_stream *s, struct dopy_sitem **it, dopy_error **ep)
{
	dopy_conn *c = s->f->conn;
	int r = 0, err;

	*it = NULL;
	if (c != NULL) {
		pthread_mutex_lock(&c->lock);
		if (!s->cancelled)
			dopy_future_wait_item(s->f);
	}
	if (!s->cancelled)
		*it = dopy_squeue_pop(s->f->conn, &s->q);
	err = s->q.err;
	if (*it == NULL && err != 0)
		r = dopy_error_set(ep, err, "%s: an item was lost: %s",
		    s->f->what, dopy_strerror(err));
	else if (*it == NULL)
		r = end(s, ep);
	if (c != NULL)
		pthread_mutex_unlock(&c->lock);
	return r;
}

/* An item's payload as a frame, for the answer readers. */
static void
item_frame(const dopy_stream *s, const struct dopy_sitem *it,
    struct dopy_frame *fr)
{
	memset(fr, 0, sizeof(*fr));
	fr->type = DOPY_F_ITEM;
	fr->id = s->f->id;
	fr->len = (uint32_t)it->len;
	fr->payload = it->data;
}

/* An item read (1), or the code r of its failure e, handed to ep. */
static int
read_result(int r, dopy_error *e, dopy_error **ep)
{
	if (r >= 0)
		return 1;
	if (ep != NULL) {
		dopy_error_free(*ep);
		*ep = e;
	} else
		dopy_error_free(e);
	return r;
}

int
dopy_stream_next(dopy_stream *s, dopy_value **item, dopy_error **ep)
{
	struct dopy_sitem *it;
	struct dopy_buf block;
	struct dopy_frame fr;
	dopy_error *e = NULL;
	int r;

	if (item != NULL)
		*item = NULL;
	if (s == NULL || item == NULL)
		return dopy_error_set(ep, DOPY_E_INVAL, "NULL argument");
	if ((r = take(s, &it, ep)) < 0 || it == NULL)
		return r;
	item_frame(s, it, &fr);
	/* A large string or bytes item keeps the item's block (squeue_push
	 * left a byte for its NUL) rather than being copied again. */
	dopy_buf_init(&block);
	block.data = (uint8_t *)it;
	block.len = offsetof(struct dopy_sitem, data) + it->len;
	block.cap = block.len + 1;
	fr.lend = &block;
	if (fr.len == 0)
		r = dopy_error_set(&e, DOPY_E_PROTO, "an empty ITEM");
	else
		r = dopy_answer_value(&fr, item, &e);
	if (block.data != NULL)		/* not taken */
		free(it);
	return read_result(r, e, ep);
}

int
dopy_stream_next_stub(dopy_stream *s, dopy_get_fn get, void *item,
    dopy_error **ep)
{
	struct dopy_sitem *it;
	struct dopy_frame fr;
	dopy_error *e = NULL;
	int r;

	if (s == NULL || get == NULL)
		return dopy_error_set(ep, DOPY_E_INVAL, "NULL argument");
	if ((r = take(s, &it, ep)) < 0 || it == NULL)
		return r;
	item_frame(s, it, &fr);
	r = dopy_answer_stub(&fr, get, item, &e);
	free(it);
	return read_result(r, e, ep);
}

int
dopy_stream_ready(dopy_stream *s)
{
	dopy_conn *c;
	int r;

	if (s == NULL)
		return 0;
	if ((c = s->f->conn) == NULL)
		return 1;
	pthread_mutex_lock(&c->lock);
	r = s->cancelled || s->q.head != NULL || s->q.err != 0 ||
	    s->f->answered;
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* The queue goes, and items still coming are dropped (counted by the
 * future, whose final answer still comes and settles it). */
static void
drop_rest(dopy_stream *s)
{
	dopy_conn *c = s->f->conn;

	if (c != NULL)
		pthread_mutex_lock(&c->lock);
	s->f->sq = NULL;
	dopy_squeue_clear(c, &s->q);
	s->cancelled = 1;
	if (c != NULL)
		pthread_mutex_unlock(&c->lock);
}

/*
 * The server is asked to stop (CANCEL, when it announced the feature);
 * what is queued and what still comes is dropped, and the future's
 * final answer (dopy.Cancelled, or the end if it won) settles it.
 */
int
dopy_stream_cancel(dopy_stream *s, dopy_error **ep)
{
	if (s == NULL)
		return dopy_error_set(ep, DOPY_E_INVAL, "NULL stream");
	if (s->ended)
		return 0;
	drop_rest(s);
	return dopy_future_cancel(s->f, ep);
}

void
dopy_stream_free(dopy_stream *s)
{
	if (s == NULL)
		return;
	/* An unfinished stream is cancelled (see dopy_stream_cancel). */
	if (!s->ended)
		(void)dopy_stream_cancel(s, NULL);
	drop_rest(s);
	dopy_future_free(s->f);
	free(s);
}
