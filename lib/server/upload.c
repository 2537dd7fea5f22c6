/*
 * upload.c - the server's half of uploads (dopy(5), Uploads): a method
 * whose last parameter is "NAME:stream T" reads items of type T that
 * the client sends after the CALL, each an ITEM frame with the call's
 * id, and then an ITEM with the END flag.
 *
 * The method reads an item only when it asks (dopy_call_next_item), and
 * asking serves the connection until one comes, as a callback's wait
 * does (callback.c): every other frame is handled as usual, so a CANCEL
 * stops the upload and a call from another of the client's threads
 * runs nested.  Nothing is read ahead, so a slow method makes the
 * client's writes block: memory stays one item whatever the length.
 *
 * Items for a call that is running but not waiting (one a nested call
 * interrupted) are queued on it, at most DOPY_UPLOAD_QUEUE of them and
 * DOPY_UPLOAD_BYTES; past that the upload is broken, its rest dropped
 * and its next read fails: a bound, never a desync.  Items for a call
 * that is not running (answered early, refused, cancelled before it
 * ran) are dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "server/server.h"

#define DOPY_UPLOAD_QUEUE	64
#define DOPY_UPLOAD_BYTES	(4u * 1024 * 1024)

struct dopy_upq {
	struct upitem {
		uint8_t		*p;
		uint32_t	 len;
	}		 item[DOPY_UPLOAD_QUEUE];
	size_t		 head, n, bytes;
	int		 ended;		/* END came */
	int		 broken;	/* overrun: the rest is dropped */
	uint64_t	 taken;		/* items read by the method */
};

static int
uploads(const dopy_call *c)
{
	return c != NULL && c->sig != NULL && c->sig->up.type != NULL;
}

int
dopy_upload_check(dopy_call *c)
{
	const char *pname;
	int sent = c->msg != NULL && c->msg->upload;

	if (!uploads(c) && sent)
		return dopy_call_fail(c, "dopy.ArgumentError", "%s.%s takes "
		    "no upload", dopy_call_object(c), dopy_call_method(c));
	if (!uploads(c))
		return 0;
	if (!sent && c->sess != NULL && c->id != 0 &&
	    (c->sess->features & DOPY_FEAT_UPLOAD)) {
		dopy_sig_upload(c->sig, &pname);
		return dopy_call_fail(c, "dopy.ArgumentError", "%s.%s takes "
		    "its %s as an upload (stream %s), which this call does "
		    "not send", dopy_call_object(c), dopy_call_method(c),
		    pname, c->sig->up.type->name);
	}
	if (c->sess == NULL)
		return dopy_call_fail(c, "dopy.Unsupported", "%s.%s takes an "
		    "upload, which a callback cannot send",
		    dopy_call_object(c), dopy_call_method(c));
	if (c->id == 0) {
		/* Its items would carry id 0, the connection's. */
		return dopy_call_fail(c, "dopy.Unsupported", "%s.%s takes an "
		    "upload: it cannot be called oneway",
		    dopy_call_object(c), dopy_call_method(c));
	}
	if (!(c->sess->features & DOPY_FEAT_UPLOAD))
		return dopy_call_fail(c, "dopy.Unsupported", "%s.%s takes an "
		    "upload; the client did not announce uploads",
		    dopy_call_object(c), dopy_call_method(c));
	return 0;
}

/* The running upload call with this id, or NULL. */
static struct dopy_running *
upload_of(struct dopy_session *s, uint32_t id)
{
	struct dopy_running *r;

	for (r = s->running; r != NULL; r = r->up)
		if (r->id == id)
			return uploads(r->call) ? r : NULL;
	return NULL;
}

static void
queue_drop(struct dopy_upq *q)
{
	while (q->n > 0) {
		free(q->item[q->head].p);
		q->head = (q->head + 1) % DOPY_UPLOAD_QUEUE;
		q->n--;
	}
	q->bytes = 0;
}

/* One more item, copied (the payload lives until the next read). */
static int
queue_put(struct dopy_upq *q, const struct dopy_frame *f)
{
	struct upitem *it;

	if (q->n > 0 && (q->n == DOPY_UPLOAD_QUEUE ||
	    q->bytes + f->len > DOPY_UPLOAD_BYTES)) {
		q->broken = 1;
		queue_drop(q);
		return -1;
	}
	it = &q->item[(q->head + q->n) % DOPY_UPLOAD_QUEUE];
	if ((it->p = malloc(f->len > 0 ? f->len : 1)) == NULL) {
		q->broken = 1;
		return -1;
	}
	memcpy(it->p, f->payload, f->len);
	it->len = f->len;
	q->bytes += f->len;
	q->n++;
	return 0;
}

int
dopy_upload_frame(struct dopy_session *s, const struct dopy_frame *f)
{
	struct dopy_running *r;

	if (!(s->features & DOPY_FEAT_UPLOAD))
		return -1;
	if ((r = upload_of(s, f->id)) == NULL) {
		if (s->srv->log.verbose)
			dopy_log(&s->srv->log, LOG_DEBUG, "ITEM for call %u, "
			    "which reads none now: dropped", f->id);
		return 0;
	}
	if (r->upq == NULL && (r->upq = calloc(1, sizeof(*r->upq))) == NULL)
		return 0;	/* the method's read says so */
	if (r->upq->ended || r->upq->broken)
		return 0;
	if (f->flags & DOPY_FL_END)
		r->upq->ended = 1;
	else if (queue_put(r->upq, f) < 0)
		dopy_session_complain(s, LOG_NOTICE, "call %u: more items "
		    "than an upload queues while another call runs; its rest "
		    "is dropped", f->id);
	return 0;
}

void
dopy_upload_end(struct dopy_running *r)
{
	if (r->upq == NULL)
		return;
	queue_drop(r->upq);
	free(r->upq);
	r->upq = NULL;
}

/* ---- the method's reads ---- */

static int
fail_read(dopy_call *c, int code, const char *name, const char *why)
{
	const char *pname;

	dopy_sig_upload(c->sig, &pname);
	dopy_call_fail(c, name, "%s.%s: upload %s: %s", dopy_call_object(c),
	    dopy_call_method(c), pname, why);
	return code;
}

/* How long the next read may wait for the client: its deadline, else
 * the server's idle time (0: for ever). */
static int
wait_ms(dopy_call *c)
{
	int64_t left = dopy_call_remaining_ms(c);
	int idle = c->srv->idle_ms;

	if (left < 0)
		return idle;
	if (left == 0)
		left = 1;
	return idle > 0 && idle < left ? idle : (int)(left > 60000 ? 60000 :
	    left);
}

/* Serve the connection until r has an item or its end, or stops. */
static int
await(dopy_call *c, struct dopy_running *r)
{
	struct dopy_session *s = c->sess;
	int ms, code;

	for (;;) {
		if (r->upq != NULL && (r->upq->n > 0 || r->upq->ended ||
		    r->upq->broken))
			return 0;
		if (dopy_call_stopped(c))
			return DOPY_E_CANCELLED;
		if (dopy_callback_over(s, NULL))
			return DOPY_E_CLOSED;
		ms = wait_ms(c);
		s->depth++;
		code = dopy_session_step(s, ms, 0);
		s->depth--;
		if (code == DOPY_E_TIMEOUT && dopy_call_remaining_ms(c) != 0)
			return fail_read(c, DOPY_E_TIMEOUT, "dopy.Timeout",
			    "the client sent nothing in time");
		if (code < 0 && code != DOPY_E_TIMEOUT)
			return DOPY_E_CLOSED;
	}
}

/* The next item's payload (the caller frees it), NULL at the end; or
 * a negative code with the error raised. */
static int
next_payload(dopy_call *c, struct upitem *out)
{
	struct dopy_running *r;
	struct dopy_upq *q;
	int code;

	out->p = NULL;
	if (!uploads(c) || c->sess == NULL ||
	    (r = dopy_running_of(c)) == NULL) {
		dopy_call_fail(c, "dopy.UsageError", "%s.%s takes no upload",
		    dopy_call_object(c), dopy_call_method(c));
		return DOPY_E_USAGE;
	}
	if ((code = await(c, r)) < 0)
		return code;
	if ((q = r->upq) == NULL)
		return fail_read(c, DOPY_E_NOMEM, "dopy.InternalError",
		    "out of memory");
	if (q->broken)
		return fail_read(c, DOPY_E_PROTO, "dopy.ProtocolError",
		    "items came faster than a nested call let it read them");
	if (q->n == 0)
		return 0;	/* ended */
	*out = q->item[q->head];
	q->head = (q->head + 1) % DOPY_UPLOAD_QUEUE;
	q->n--;
	q->bytes -= out->len;
	q->taken++;
	return 1;
}

static int
bad_item(dopy_call *c, int code, const char *err)
{
	char why[300];
	struct dopy_running *r = dopy_running_of(c);

	snprintf(why, sizeof(why), "item %llu: %s", r != NULL && r->upq !=
	    NULL ? (unsigned long long)r->upq->taken : 0ull, err);
	return fail_read(c, code, "dopy.ArgumentError", why);
}

int
dopy_call_next_item(dopy_call *c, dopy_value **item)
{
	struct upitem it;
	struct dopy_image img;
	char err[200];
	size_t n = 0;
	int r;

	if (item == NULL || c == NULL)
		return DOPY_E_INVAL;
	*item = NULL;
	if ((r = next_payload(c, &it)) <= 0)
		return r;
	r = dopy_images_split(it.p, it.len, &img, 1, &n, err, sizeof(err));
	if (r == 0 && n != 1) {
		r = DOPY_E_PROTO;
		snprintf(err, sizeof(err), "not one value");
	}
	if (r == 0)
		r = dopy_decode(&img, c->sig->up.type, item, err,
		    sizeof(err));
	free(it.p);
	if (r < 0)
		return bad_item(c, r, err);
	if ((r = dopy_call_ref_ok(c, c->sig->up.name, *item)) < 0) {
		dopy_value_free(*item);
		*item = NULL;
		return r;
	}
	return 1;
}

int
dopy_call_next_item_stub(dopy_call *c, dopy_get_fn get, void *item)
{
	struct upitem it;
	struct dopy_image img;
	struct dopy_in in;
	char err[200];
	size_t n = 0;
	int r;

	if (c == NULL || get == NULL)
		return DOPY_E_INVAL;
	if ((r = next_payload(c, &it)) <= 0)
		return r;
	if ((r = dopy_images_split(it.p, it.len, &img, 1, &n, err,
	    sizeof(err))) == 0) {
		dopy_in_init(&in, &img, n);
		get(&in, item);
		if ((r = dopy_in_done(&in)) < 0)
			strlcpy(err, dopy_in_errmsg(&in), sizeof(err));
	}
	free(it.p);
	return r < 0 ? bad_item(c, r, err) : 1;
}
