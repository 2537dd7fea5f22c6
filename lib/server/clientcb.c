/*
 * clientcb.c - the client's own objects, which the server calls back
 * over the same connection (CALLBACK frames), so callbacks work through
 * ssh and inetd without a second listener (Pyro needed a daemon on the
 * client).  They are dispatched by the same code as a server's objects,
 * from a private registry, and answered with CALLBACK_REPLY or
 * CALLBACK_ERROR.
 */
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "server/server.h"

int
dopy_conn_publish(dopy_conn *c, const struct dopy_object_def *def,
    void *state)
{
	int r;

	if (c == NULL || def == NULL || c->sess != NULL)
		return DOPY_E_INVAL;
	pthread_mutex_lock(&c->lock);
	if (c->local == NULL && (c->local = dopy_server_new()) == NULL)
		r = DOPY_E_NOMEM;
	else
		r = dopy_server_add(c->local, def, state);
	pthread_mutex_unlock(&c->lock);
	return r;
}

void
dopy_conn_on_callback_error(dopy_conn *c, void (*fn)(const dopy_error *,
    void *), void *arg)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	c->cb_error = fn;
	c->cb_error_arg = arg;
	pthread_mutex_unlock(&c->lock);
}

/* Our answer goes out as one frame, like any call's. */
static void
answer(dopy_conn *c, uint32_t id, const dopy_call *call)
{
	struct dopy_chan *ch = &c->chan;
	const struct dopy_buf *img = dopy_stub_reply(call);
	uint8_t type = DOPY_F_CALLBACK_REPLY;
	int r = 0;

	pthread_mutex_lock(&c->wlock);
	dopy_chan_begin(ch);
	if (call->err != NULL) {
		type = DOPY_F_CALLBACK_ERROR;
		r = dopy_msg_error_put(&ch->wbuf, call->err);
	} else if (img != NULL)		/* a generated object's */
		r = dopy_buf_put(&ch->wbuf, img->data, img->len);
	else if (call->result != NULL)
		r = dopy_encode(call->result, &ch->wbuf);
	if (r == 0)
		r = dopy_chan_send(ch, type, id);
	pthread_mutex_unlock(&c->wlock);
	(void)r;	/* a lost server shows on the next read */
}

static void
refuse(dopy_conn *c, uint32_t id, const char *name, const char *msg)
{
	dopy_call call;

	memset(&call, 0, sizeof(call));
	if ((call.err = dopy_error_new(DOPY_E_USAGE, "%s", msg)) != NULL)
		dopy_error_set_fields(call.err, name, "", "", "", 0);
	answer(c, id, &call);
	dopy_error_free(call.err);
}

void
dopy_clientcb_run(dopy_conn *c, uint32_t id, uint8_t *payload, size_t len)
{
	void (*report)(const dopy_error *, void *);
	struct dopy_callmsg m;
	dopy_call call;
	char err[200];
	void *arg;

	if (payload == NULL) {
		refuse(c, id, "dopy.InternalError", "client out of memory");
		return;
	}
	if (dopy_msg_call_get(payload, len, &m, err, sizeof(err)) < 0) {
		refuse(c, id, "dopy.ProtocolError", err);
		free(payload);
		return;
	}
	if (c->local == NULL)
		refuse(c, id, "dopy.UnknownObject", "this client publishes "
		    "no objects");
	else {
		dopy_dispatch_in(c->local, NULL, &m, &call);
		answer(c, id, &call);
		pthread_mutex_lock(&c->lock);
		report = c->cb_error;
		arg = c->cb_error_arg;
		pthread_mutex_unlock(&c->lock);
		if (call.err != NULL && report != NULL)
			report(call.err, arg);
		dopy_call_release(&call);
	}
	dopy_msg_call_release(&m);
	free(payload);
}
