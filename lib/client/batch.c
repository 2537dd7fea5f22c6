/*
 * batch.c - Pyro5's BatchProxy: calls queued, sent in one write, then
 * waited for together.  Each is an ordinary future underneath, so its
 * answer is matched by id and its own error stays its own.
 */
#include <stdlib.h>
#include <string.h>

#include "client/client.h"

struct dopy_batch {
	dopy_conn	*conn;
	struct dopy_buf	 frames;	/* the CALL frames, ids filled at run */
	struct item {
		dopy_proxy	*proxy;
		char		*method;
		size_t		 off;	/* its frame in frames */
		dopy_future	*f;
	}		*items;
	size_t		 n, cap;
	int		 ran;
};

dopy_batch *
dopy_batch_new(dopy_conn *c)
{
	dopy_batch *b;

	if (c == NULL || c->sess != NULL || (b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->conn = c;
	dopy_buf_init(&b->frames);
	return b;
}

void
dopy_batch_free(dopy_batch *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++) {
		free(b->items[i].method);
		dopy_future_free(b->items[i].f);
	}
	free(b->items);
	dopy_buf_release(&b->frames);
	free(b);
}

size_t
dopy_batch_len(const dopy_batch *b)
{
	return b != NULL ? b->n : 0;
}

/* The call is encoded now (its arguments may be freed after); its id
 * is written into the header when the batch runs. */
int
dopy_batch_add(dopy_batch *b, dopy_proxy *p, const char *method,
    const dopy_args *args)
{
	struct item *it;
	size_t off;
	int r;

	if (b == NULL || p == NULL || method == NULL || p->conn != b->conn ||
	    b->ran)
		return DOPY_E_INVAL;
	/* Calls are encoded now, against the negotiated frame limit: an
	 * early connection's HELLO exchange must be over. */
	if ((r = dopy_conn_settle(b->conn, NULL)) < 0)
		return r;
	if (b->n == b->cap) {
		it = reallocarray(b->items, b->cap ? b->cap * 2 : 16,
		    sizeof(*it));
		if (it == NULL)
			return DOPY_E_NOMEM;
		b->items = it;
		b->cap = b->cap ? b->cap * 2 : 16;
	}
	off = b->frames.len;
	if ((r = dopy_put_call(&b->frames, DOPY_F_CALL, 0, p->object, method,
	    args, b->conn->chan.max_frame, NULL)) < 0)
		return r;
	it = &b->items[b->n];
	memset(it, 0, sizeof(*it));
	if ((it->method = strdup(method)) == NULL) {
		b->frames.len = off;
		return DOPY_E_NOMEM;
	}
	it->proxy = p;
	it->off = off;
	b->n++;
	return 0;
}

int
dopy_batch_run(dopy_batch *b, dopy_error **ep)
{
	dopy_conn *c;
	size_t i;
	int r = 0;

	if (b == NULL || b->ran)
		return dopy_error_set(ep, DOPY_E_INVAL, "no batch, or one that "
		    "already ran");
	c = b->conn;
	b->ran = 1;
	for (i = 0; r == 0 && i < b->n; i++)
		if ((r = dopy_future_start(b->items[i].proxy,
		    b->items[i].method, NULL, NULL, &b->items[i].f, ep)) == 0)
			dopy_frame_set_id(b->frames.data + b->items[i].off,
			    b->items[i].f->id);
	if (r == 0) {
		pthread_mutex_lock(&c->wlock);
		r = dopy_chan_write(&c->chan, b->frames.data, b->frames.len);
		pthread_mutex_unlock(&c->wlock);
		if (r < 0)
			r = dopy_error_set(ep, r, "cannot send the batch: %s",
			    dopy_strerror(r));
	}
	if (r < 0) {
		for (i = 0; i < b->n && b->items[i].f != NULL; i++) {
			dopy_future_unsend(b->items[i].f);
			b->items[i].f = NULL;
		}
		return r;
	}
	for (i = 0; i < b->n; i++)
		dopy_future_wait(b->items[i].f, NULL, NULL);
	return 0;
}

/* Waiting again on an answered future returns its stored outcome. */
int
dopy_batch_result(dopy_batch *b, size_t i, dopy_value **result,
    dopy_error **ep)
{
	if (result != NULL)
		*result = NULL;
	if (b == NULL || i >= b->n || b->items[i].f == NULL)
		return dopy_error_set(ep, DOPY_E_INVAL, "no result %zu in this "
		    "batch (did it run?)", i);
	return dopy_future_wait(b->items[i].f, result, ep);
}
