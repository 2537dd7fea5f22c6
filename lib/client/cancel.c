/*
 * cancel.c - the client's side of cancellation and deadlines (dopy(5):
 * Cancel, Deadlines).
 *
 * A CANCEL frame asks the server to stop a call; it goes only to a
 * server that announced CANCEL, and the call's future still completes
 * with whatever the server answers (dopy.Cancelled, or the answer that
 * was already on its way).  A call with a deadline tells a server that
 * announced DEADLINE how long we will wait (DOPY_FL_DEADLINE), so the
 * server can give up when we do.  A call made while a method runs in
 * this thread inherits that method's remaining time, and is not made at
 * all once that method has been stopped: so a deadline follows a call
 * from server to server.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"

int
dopy_conn_uses(const dopy_conn *c, uint64_t feature)
{
	return (c->features & feature & DOPY_FEAT_ALL) != 0;
}

int
dopy_deadline_inherit(const char *what, int *deadline_ms, dopy_error **ep)
{
	dopy_call *cur = dopy_current_call();
	const char *why;
	int64_t left;
	int r;

	if (cur == NULL)
		return 0;
	if (dopy_call_cancelled(cur) < 0) {
		why = dopy_call_cancel_name(cur);
		r = why != NULL && strcmp(why, "dopy.DeadlineExceeded") == 0 ?
		    DOPY_E_TIMEOUT : DOPY_E_CANCELLED;
		r = dopy_error_set(ep, r, "%s not sent: the calling method %s",
		    what, r == DOPY_E_TIMEOUT ? "is past its deadline" :
		    "was cancelled");
		if (ep != NULL && *ep != NULL)
			dopy_error_set_fields(*ep, r == DOPY_E_TIMEOUT ?
			    "dopy.DeadlineExceeded" : "dopy.Cancelled", NULL,
			    NULL, NULL, -1);
		return r;
	}
	if ((left = dopy_call_remaining_ms(cur)) < 0)
		return 0;
	if (left == 0)
		left = 1;	/* passed between the two looks: almost none */
	if (*deadline_ms == 0 || left < *deadline_ms)
		*deadline_ms = left > INT32_MAX ? INT32_MAX : (int)left;
	return 0;
}

int
dopy_deadline_enc(struct dopy_buf *b, const char *object, const char *method,
    const void *arg)
{
	const struct dopy_dlenc *dl = arg;
	int64_t left = dl->until - dopy_now_ms();
	dopy_value *v = dopy_value_uint(left > 0 ? (uint64_t)left : 0);
	int r;

	if (v == NULL)
		return DOPY_E_NOMEM;
	r = dopy_encode(v, b);
	dopy_value_free(v);
	return r < 0 ? r : dl->enc(b, object, method, dl->arg);
}

int
dopy_deadline_wrap(dopy_future *f, struct dopy_dlenc *dl,
    dopy_callenc_fn *enc, const void **arg)
{
	dopy_conn *c = f->conn;
	int uses;

	if (f->deadline_ms <= 0)
		return 0;
	pthread_mutex_lock(&c->lock);
	uses = c->hello_state == DOPY_HELLO_DONE &&
	    dopy_conn_uses(c, DOPY_FEAT_DEADLINE);
	pthread_mutex_unlock(&c->lock);
	if (!uses)
		return 0;
	dl->enc = *enc;
	dl->arg = *arg;
	dl->until = f->sent_ms + f->deadline_ms;
	f->deadline_sent = 1;
	*enc = dopy_deadline_enc;
	*arg = dl;
	return 1;
}

/* CANCEL for call id, if the server acts on it; best effort. */
static int
send_cancel(dopy_conn *c, uint32_t id, dopy_error **ep)
{
	int uses;

	pthread_mutex_lock(&c->lock);
	uses = c->up && c->hello_state == DOPY_HELLO_DONE &&
	    dopy_conn_uses(c, DOPY_FEAT_CANCEL);
	pthread_mutex_unlock(&c->lock);
	if (!uses)
		return 0;
	return dopy_conn_send_frame(c, DOPY_F_CANCEL, id, ep);
}

void
dopy_conn_cancel_id(dopy_conn *c, uint32_t id)
{
	(void)send_cancel(c, id, NULL);
}

int
dopy_future_cancel(dopy_future *f, dopy_error **ep)
{
	dopy_conn *c;
	char msg[160];
	int uses, r;

	if (f == NULL)
		return dopy_error_set(ep, DOPY_E_INVAL, "NULL future");
	if ((c = f->conn) == NULL)
		return 0;		/* answered, or its connection closed */
	pthread_mutex_lock(&c->lock);
	if (f->answered) {
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	uses = c->up && c->hello_state == DOPY_HELLO_DONE &&
	    dopy_conn_uses(c, DOPY_FEAT_CANCEL);
	if (!uses) {
		/* Nobody to tell: forget it, as a timeout does. */
		snprintf(msg, sizeof(msg), "%s cancelled; whether it ran is "
		    "unknown", f->what);
		dopy_future_settle_local(f, DOPY_E_CANCELLED,
		    "dopy.Cancelled", msg);
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	pthread_mutex_unlock(&c->lock);
	if ((r = dopy_conn_send_frame(c, DOPY_F_CANCEL, f->id, ep)) < 0)
		return r;
	return 0;
}

/* The CANCEL frames of the calls in flight, at most one pipe's atomic
 * write: closing must not wait for a server that reads nothing. */
#define CANCEL_ALL_MAX	(4096 / DOPY_HDR_LEN)

void
dopy_conn_cancel_all(dopy_conn *c)
{
	struct pollfd pfd = { c->chan.out, POLLOUT, 0 };
	struct dopy_buf *b = &c->chan.wbuf;
	dopy_future *f;
	uint8_t *hdr;
	size_t i, n = 0;

	pthread_mutex_lock(&c->wlock);
	pthread_mutex_lock(&c->lock);
	if (c->up && c->hello_state == DOPY_HELLO_DONE &&
	    dopy_conn_uses(c, DOPY_FEAT_CANCEL)) {
		dopy_buf_reset(b);
		for (i = 0; i < DOPY_PENDING_BUCKETS; i++)
			for (f = c->pending[i]; f != NULL &&
			    n < CANCEL_ALL_MAX; f = f->next, n++) {
				if ((hdr = dopy_buf_reserve(b,
				    DOPY_HDR_LEN)) == NULL)
					break;
				dopy_frame_encode(hdr, DOPY_F_CANCEL, f->id, 0);
				b->len += DOPY_HDR_LEN;
			}
	}
	pthread_mutex_unlock(&c->lock);
	if (n > 0 && b->len > 0 && poll(&pfd, 1, 0) == 1 &&
	    (pfd.revents & POLLOUT))
		(void)dopy_chan_write(&c->chan, b->data, b->len);
	pthread_mutex_unlock(&c->wlock);
}
