/*
 * upload.c - the client's half of uploads (dopy(5), Uploads): a call
 * whose last parameter is "stream T" goes out as an ordinary CALL with
 * the other arguments, then one ITEM frame per item and an ITEM with
 * the END flag, all with the call's id.  Its answer is an ordinary
 * future's.
 *
 * There is no flow control on the wire: the server reads an item only
 * when its method asks, so a slow method makes our writes block (the
 * channel reads answers meanwhile, so nothing deadlocks), and neither
 * side holds more than an item.  Once the answer has come (the method
 * ended early, or failed) items are no longer sent: dopy_upload_send()
 * says so and the caller reads the answer with dopy_upload_finish().
 */
#include <stdlib.h>
#include <string.h>

#include "client/client.h"

/* How often a sender looks for an answer that came early: nothing
 * else reads while items go out, unless a write must wait. */
#define LOOK_MS		10

struct dopy_upload {
	dopy_future	*f;
	int		 ended;		/* END or CANCEL sent */
	int64_t		 looked_ms;	/* for an early answer */
};

/* The upload of a started future; the connection must take items. */
static int
start(dopy_proxy *p, const char *method, dopy_callenc_fn enc,
    const void *arg, int stub, dopy_get_fn get, void *res,
    dopy_upload **up, dopy_error **ep)
{
	dopy_upload *u;
	int r;

	if (up == NULL || p == NULL || method == NULL)
		return dopy_error_set(ep, DOPY_E_INVAL, "NULL argument");
	*up = NULL;
	if (p->conn->sess != NULL)
		return dopy_error_set(ep, DOPY_E_INVAL, "%s.%s: a server does "
		    "not upload to its client's objects", p->object, method);
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return dopy_error_set(ep, DOPY_E_NOMEM, "out of memory");
	if ((r = dopy_upload_call(p, method, enc, arg, stub, get, res, &u->f,
	    ep)) < 0) {
		free(u);
		return r;
	}
	*up = u;
	return 0;
}

int
dopy_proxy_upload(dopy_proxy *p, const char *method, const dopy_args *args,
    dopy_upload **up, dopy_error **ep)
{
	return start(p, method, dopy_args_encode, args, 0, NULL, NULL, up,
	    ep);
}

int
dopy_stub_upload(dopy_proxy *p, const char *method, size_t nargs,
    dopy_put_fn put, const void *args, dopy_get_fn get, void *result,
    dopy_upload **up, dopy_error **ep)
{
	struct dopy_stub_args sa = { nargs, put, args };

	if (nargs > DOPY_MAX_ARGS)
		return dopy_error_set(ep, DOPY_E_INVAL, "%zu arguments, more "
		    "than %d", nargs, DOPY_MAX_ARGS);
	return start(p, method, dopy_stub_encode, &sa, 1, get, result, up,
	    ep);
}

/* Whether an item may go: 0; 1 when the call is answered already; or
 * the reason it may not. */
static int
may_send(dopy_upload *u, dopy_error **ep)
{
	dopy_conn *c;
	int answered;

	if (u == NULL)
		return dopy_error_set(ep, DOPY_E_INVAL, "NULL upload");
	if (u->ended)
		return dopy_error_set(ep, DOPY_E_INVAL, "%s: the upload has "
		    "ended", u->f->what);
	if ((c = u->f->conn) == NULL)
		return 1;
	if (dopy_now_ms() - u->looked_ms >= LOOK_MS) {
		u->looked_ms = dopy_now_ms();
		(void)dopy_conn_process(c, NULL);	/* a loss: the wait says */
	}
	pthread_mutex_lock(&c->lock);
	answered = u->f->answered;
	pthread_mutex_unlock(&c->lock);
	if (answered)
		return 1;
	/* The first item waits for the server's HELLO, which says whether
	 * it takes items at all. */
	if (dopy_conn_settle(c, ep) < 0)
		return DOPY_E_CLOSED;
	if (!dopy_conn_uses(c, DOPY_FEAT_UPLOAD))
		return dopy_error_set(ep, DOPY_E_USAGE, "%s: the server did not "
		    "announce uploads", u->f->what);
	return 0;
}

static int
put_value(struct dopy_buf *b, const void *arg)
{
	return dopy_encode(arg, b);
}

struct stub_item {
	dopy_put_fn	 put;
	const void	*item;
};

static int
put_stub(struct dopy_buf *b, const void *arg)
{
	const struct stub_item *si = arg;
	struct dopy_out o;
	int r;

	dopy_out_init(&o, b);
	si->put(&o, si->item);
	if ((r = dopy_out_error(&o)) < 0)
		return r;
	return o.open || o.nimages != 1 ? DOPY_E_TYPE : 0;
}

static int
send_item(dopy_upload *u, int (*put)(struct dopy_buf *, const void *),
    const void *arg, dopy_error **ep)
{
	int r;

	if ((r = may_send(u, ep)) != 0)
		return r;
	return dopy_conn_send_payload(u->f->conn, DOPY_F_ITEM, 0, u->f->id,
	    put, arg, ep);
}

int
dopy_upload_send(dopy_upload *u, dopy_value *item, dopy_error **ep)
{
	int r;

	if (item == NULL)
		return dopy_error_set(ep, DOPY_E_INVAL, "NULL item");
	r = send_item(u, put_value, item, ep);
	dopy_value_free(item);
	return r;
}

int
dopy_upload_send_stub(dopy_upload *u, dopy_put_fn put, const void *item,
    dopy_error **ep)
{
	struct stub_item si = { put, item };

	if (put == NULL)
		return dopy_error_set(ep, DOPY_E_INVAL, "NULL argument");
	return send_item(u, put_stub, &si, ep);
}

int
dopy_upload_finish(dopy_upload *u, dopy_value **result, dopy_error **ep)
{
	if (result != NULL)
		*result = NULL;
	if (u == NULL)
		return dopy_error_set(ep, DOPY_E_INVAL, "NULL upload");
	/* A failed END is the connection's failure, which the wait tells. */
	if (!u->ended && may_send(u, NULL) == 0)
		(void)dopy_conn_send_payload(u->f->conn, DOPY_F_ITEM,
		    DOPY_FL_END, u->f->id, NULL, NULL, NULL);
	u->ended = 1;
	return dopy_future_wait(u->f, result, ep);
}

int
dopy_upload_cancel(dopy_upload *u, dopy_error **ep)
{
	if (u == NULL)
		return dopy_error_set(ep, DOPY_E_INVAL, "NULL upload");
	u->ended = 1;
	return dopy_future_cancel(u->f, ep);
}

void
dopy_upload_free(dopy_upload *u)
{
	if (u == NULL)
		return;
	if (!u->ended)
		(void)dopy_upload_cancel(u, NULL);
	dopy_future_free(u->f);
	free(u);
}
