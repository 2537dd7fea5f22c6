/*
 * future.c - calls in flight on a client connection.
 *
 * Every call is a future in the connection's pending table, keyed by its
 * call id; answers are matched by id, so any number of calls may be in
 * flight from any number of threads.  There is no reader thread: a
 * thread that waits takes the reader role if it is free, reads one
 * frame, hands it to whichever future it answers, and gives the role up
 * again (leader/follower).  So a single-threaded caller pays no thread
 * switches, and the fd can also be driven from the caller's own poll
 * loop (dopy_conn_process).
 *
 * Time: a call's timeout measures silence (since it was sent, or the
 * last PROGRESS or CALLBACK); its deadline, the whole call.  A call that
 * runs out of either is answered DOPY_E_TIMEOUT and forgotten; a late
 * answer is dropped.  Whether it ran is unknown (at-most-once).
 */
#include <errno.h>
#include <stdatomic.h>
#include <poll.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/client.h"

#define BUCKET(id)	((id) % DOPY_PENDING_BUCKETS)

/* ---- the pending table (lock held) ---- */

static void
table_add(dopy_conn *c, dopy_future *f)
{
	dopy_future **b = &c->pending[BUCKET(f->id)];

	f->next = *b;
	*b = f;
	f->refs++;
}

/* Take the future with id out of the table; NULL if none waits. */
static dopy_future *
table_take(dopy_conn *c, uint32_t id)
{
	dopy_future **pp, *f;

	for (pp = &c->pending[BUCKET(id)]; (f = *pp) != NULL; pp = &f->next)
		if (f->id == id) {
			*pp = f->next;
			f->next = NULL;
			return f;	/* the table's reference moves to the caller */
		}
	return NULL;
}

static void
future_unref(dopy_future *f)
{
	dopy_future *none = NULL;

	if (--f->refs > 0)
		return;
	dopy_value_free(f->result);
	dopy_error_free(f->err);
	/* Kept for the connection's next call if it has none kept. */
	if (f->conn == NULL ||
	    !atomic_compare_exchange_strong(&f->conn->spare, &none, f))
		free(f);
}

/* Settle f (taken from the table); run its callback outside the lock. */
static void
settle(dopy_conn *c, dopy_future *f, int code, dopy_value *v, dopy_error *e)
{
	dopy_future_fn fn;
	void *arg;

	f->code = code;
	f->result = v;
	f->err = e;
	f->answered = 1;
	if (c->waiting > 0)
		pthread_cond_broadcast(&c->cond);
	/* Read under the lock: dopy_future_free clears them. */
	fn = f->fn;
	arg = f->arg;
	if (fn != NULL) {
		pthread_mutex_unlock(&c->lock);
		fn(f, arg);
		pthread_mutex_lock(&c->lock);
	}
	future_unref(f);
}

/* Settle f with an error made here. */
static void
fail(dopy_conn *c, dopy_future *f, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
fail(dopy_conn *c, dopy_future *f, int code, const char *fmt, ...)
{
	dopy_error *e;
	va_list ap;

	va_start(ap, fmt);
	e = dopy_error_vnew(code, fmt, ap);
	va_end(ap);
	settle(c, f, code, NULL, e);
}

/* Settle f with an error made here that has a name. */
static void
settle_named(dopy_conn *c, dopy_future *f, int code, const char *name,
    const char *msg)
{
	dopy_error *e;

	if ((e = dopy_error_new(code, "%s", msg)) != NULL)
		dopy_error_set_fields(e, name, NULL, NULL, NULL, -1);
	settle(c, f, code, NULL, e);
}

/* Every future still in the table, taken out one at a time (settling
 * one may drop the lock, and others may change the table). */
static dopy_future *
table_any(dopy_conn *c)
{
	size_t i;

	for (i = 0; i < DOPY_PENDING_BUCKETS; i++)
		if (c->pending[i] != NULL)
			return table_take(c, c->pending[i]->id);
	return NULL;
}

/* Every call in flight fails with code: lost, for reason. */
static void
lose_all(dopy_conn *c, int code, const char *reason)
{
	dopy_future *f;

	c->up = 0;
	while ((f = table_any(c)) != NULL)
		fail(c, f, code, "connection lost during %s (%s): whether it "
		    "ran is unknown", f->what, reason);
	if (c->waiting > 0)
		pthread_cond_broadcast(&c->cond);
}

void
dopy_conn_lost(dopy_conn *c, int code, const dopy_error *why)
{
	dopy_future *f;

	if (why == NULL) {
		lose_all(c, code, dopy_strerror(code == DOPY_E_LOST ?
		    DOPY_E_CLOSED : code));
		return;
	}
	c->up = 0;
	while ((f = table_any(c)) != NULL)
		fail(c, f, why->code, "%s%s%s", why->name ? why->name : "",
		    why->name ? ": " : "", dopy_error_message(why));
	if (c->waiting > 0)
		pthread_cond_broadcast(&c->cond);
}

/* The whole error, name and remote trace included; NULL if e is. */
static dopy_error *
error_copy(const dopy_error *e)
{
	dopy_error *d;
	size_t i;

	if (e == NULL || (d = dopy_error_new(e->code, "%s",
	    e->message != NULL ? e->message : "")) == NULL)
		return NULL;
	dopy_error_set_fields(d, e->name, e->object, e->method, e->host,
	    e->pid);
	for (i = 0; i < e->ntrace; i++)
		dopy_error_add_trace(d, e->trace[i]);
	return d;
}

int
dopy_conn_hello_error(const dopy_conn *c, dopy_error **ep)
{
	int code = c->hello_err != NULL ? c->hello_err->code : DOPY_E_CLOSED;

	if (ep != NULL) {
		dopy_error_free(*ep);
		*ep = error_copy(c->hello_err);
	}
	return code;
}

void
dopy_conn_hello_fail(dopy_conn *c, dopy_error *e)
{
	dopy_error *model;
	dopy_future *f;

	if (e == NULL)
		e = dopy_error_new(DOPY_E_NOMEM, "HELLO exchange failed: out "
		    "of memory");
	dopy_error_free(c->hello_err);
	c->hello_err = e;
	c->hello_state = DOPY_HELLO_DONE;
	c->kill_child = 1;
	c->up = 0;
	/* settle() may drop the lock: copy from a model of our own. */
	model = error_copy(e);
	while ((f = table_any(c)) != NULL)
		settle(c, f, model != NULL ? model->code : DOPY_E_NOMEM, NULL,
		    error_copy(model));
	dopy_error_free(model);
	if (c->waiting > 0)
		pthread_cond_broadcast(&c->cond);
}

void
dopy_futures_detach(dopy_conn *c)
{
	dopy_future *f;

	while ((f = table_any(c)) != NULL) {
		f->conn = NULL;
		fail(c, f, DOPY_E_CLOSED, "connection closed before %s was "
		    "answered", f->what);
	}
}

/* ---- the reader role ---- */

/* Give the role back and let waiting threads look again. */
static void
role_free(dopy_conn *c)
{
	c->reading = 0;
	if (c->waiting > 0)
		pthread_cond_broadcast(&c->cond);
}

/* chan.c's drain hook: our write must wait, so take in what the server
 * sends meanwhile, if no other thread is reading already. */
void
dopy_conn_drain(void *arg)
{
	dopy_conn *c = arg;

	pthread_mutex_lock(&c->lock);
	if (c->reading) {
		pthread_mutex_unlock(&c->lock);
		return;
	}
	c->reading = 1;
	pthread_mutex_unlock(&c->lock);
	dopy_chan_take_input(&c->chan, 0);	/* EOF shows to the next reader */
	pthread_mutex_lock(&c->lock);
	role_free(c);
	pthread_mutex_unlock(&c->lock);
}

/* A REPLY's (or ITEM's) value for a dynamic call; its code. */
int
dopy_answer_value(const struct dopy_frame *fr, dopy_value **v,
    dopy_error **e)
{
	struct dopy_image img[2];
	char err[200];
	size_t n;
	int r;

	if (fr->len == 0)
		return 0;
	if ((r = dopy_images_split(fr->payload, fr->len, img, 2, &n, err,
	    sizeof(err))) < 0 || n != 1 ||
	    (img[0].lend = fr->lend,	/* a large bytes answer keeps it */
	    r = dopy_decode(&img[0], NULL, v, err, sizeof(err))) < 0) {
		*e = dopy_error_new(DOPY_E_PROTO, "malformed %s: %s",
		    dopy_frame_type_name(fr->type), r < 0 ? err :
		    "more than one value");
		return DOPY_E_PROTO;
	}
	return 0;
}

/* A REPLY read by a stub's get into its result (nothing to read without
 * a get: a result it did not expect is ignored); its code. */
int
dopy_answer_stub(const struct dopy_frame *fr, dopy_get_fn get, void *res,
    dopy_error **e)
{
	struct dopy_image img[2];
	struct dopy_in in;
	char err[200];
	size_t n = 0;
	int r = 0;

	if (get == NULL)
		return 0;
	if (fr->len > 0 && (r = dopy_images_split(fr->payload, fr->len, img,
	    2, &n, err, sizeof(err))) < 0) {
		*e = dopy_error_new(DOPY_E_PROTO, "malformed %s: %s",
		    dopy_frame_type_name(fr->type), err);
		return DOPY_E_PROTO;
	}
	dopy_in_init(&in, img, n);
	get(&in, res);
	if (dopy_in_done(&in) != 0) {
		*e = dopy_error_new(DOPY_E_PROTO, "malformed %s: %s",
		    dopy_frame_type_name(fr->type), dopy_in_errmsg(&in));
		return DOPY_E_PROTO;
	}
	return 0;
}

/* An answer for a call nobody waits for (timed out or forgotten). */
static void
answer_stray(dopy_conn *c, const struct dopy_frame *fr)
{
	dopy_error *e;

	/* Ids go out in order from 1: a higher one was never sent, and a
	 * server that says so is out of step with us. */
	if (fr->id >= c->next_id && (e = dopy_error_new(DOPY_E_PROTO,
	    "the server answered call %u, which was never sent", fr->id)) !=
	    NULL) {
		c->kill_child = 1;
		dopy_conn_lost(c, DOPY_E_PROTO, e);
		dopy_error_free(e);
	}
}

/* An answer's value, or its error, or a stub's result in place; its
 * code. */
static int
answer_decode(const struct dopy_frame *fr, int stub, dopy_get_fn get,
    void *res, dopy_value **v, dopy_error **e)
{
	int code;

	if (fr->type == DOPY_F_ERROR) {
		if ((code = dopy_msg_error_get(fr->payload, fr->len, e)) == 0)
			code = (*e)->code < 0 ? (*e)->code : DOPY_E_PROTO;
		return code;
	}
	if (stub)
		return dopy_answer_stub(fr, get, res, e);
	return dopy_answer_value(fr, v, e);
}

/*
 * A call's answer, decoded while we hold the role (the payload lives in
 * the read buffer only until the next read); called with the lock held,
 * returns with it released.  The future is taken out of the table
 * first: a stub's get writes into the caller's memory, which must not
 * be a call that timed out or was forgotten meanwhile.  A small answer
 * is decoded under the lock (a few hundred instructions, less than
 * letting go of it and taking it again); a large one without it, so
 * that other threads' calls go on meanwhile.
 */
static void
on_answer(dopy_conn *c, const struct dopy_frame *fr)
{
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	dopy_future *f;
	int code, small = fr->len <= DOPY_ANSWER_SMALL;

	/* Calls run in order, so a oneway call sent before this answer's
	 * call is over; closing waits for the server again (conn.c). */
	c->oneway_busy = 0;
	if ((f = table_take(c, fr->id)) == NULL) {
		role_free(c);
		answer_stray(c, fr);
		pthread_mutex_unlock(&c->lock);
		return;
	}
	f->decoding = 1;
	if (!small)
		pthread_mutex_unlock(&c->lock);
	code = answer_decode(fr, f->stub, f->get, f->getres, &v, &e);
	if (!small)
		pthread_mutex_lock(&c->lock);
	role_free(c);
	f->decoding = 0;
	settle(c, f, code, v, e);
	pthread_mutex_unlock(&c->lock);
}

/* The future with id, left in the table; NULL if none waits. */
static dopy_future *
table_find(dopy_conn *c, uint32_t id)
{
	dopy_future *f;

	for (f = c->pending[BUCKET(id)]; f != NULL; f = f->next)
		if (f->id == id)
			return f;
	return NULL;
}

/* One more item for q (a copy of the payload); lock held. */
static void
squeue_push(dopy_conn *c, struct dopy_squeue *q, const struct dopy_frame *fr)
{
	struct dopy_sitem *it;

	/* A byte more: a string or bytes item decoded from it keeps the
	 * item's block, and its NUL goes there (dopy_stream_next). */
	if ((it = malloc(offsetof(struct dopy_sitem, data) + fr->len +
	    1)) == NULL) {
		q->err = DOPY_E_NOMEM;
		return;
	}
	it->next = NULL;
	it->len = fr->len;
	memcpy(it->data, fr->payload, fr->len);
	if (q->tail != NULL)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->n++;
	q->bytes += fr->len;
	if (!q->full && (q->n >= DOPY_STREAM_QUEUE ||
	    q->bytes >= DOPY_STREAM_BYTES)) {
		q->full = 1;
		c->sfull++;
	}
}

struct dopy_sitem *
dopy_squeue_pop(dopy_conn *c, struct dopy_squeue *q)
{
	struct dopy_sitem *it = q->head;

	if (it == NULL)
		return NULL;
	if ((q->head = it->next) == NULL)
		q->tail = NULL;
	q->n--;
	q->bytes -= it->len;
	if (q->full && q->n < DOPY_STREAM_QUEUE &&
	    q->bytes < DOPY_STREAM_BYTES) {
		q->full = 0;
		if (c != NULL && --c->sfull == 0 && c->waiting > 0)
			pthread_cond_broadcast(&c->cond);
	}
	return it;
}

void
dopy_squeue_clear(dopy_conn *c, struct dopy_squeue *q)
{
	struct dopy_sitem *it;

	while ((it = dopy_squeue_pop(c, q)) != NULL)
		free(it);
}

/*
 * An ITEM: queued for its stream, or dropped (and counted) when its
 * call does not stream (a dynamic call of a streaming method: its
 * empty REPLY completes it) or was forgotten.
 */
static void
on_item(dopy_conn *c, const struct dopy_frame *fr)
{
	dopy_future *f;

	pthread_mutex_lock(&c->lock);
	role_free(c);		/* waiters wake once the item is in */
	if ((f = table_find(c, fr->id)) == NULL)
		answer_stray(c, fr);
	else {
		f->heard_ms = dopy_now_ms();
		if (f->sq != NULL)
			squeue_push(c, f->sq, fr);
		else
			f->strays++;
	}
	pthread_mutex_unlock(&c->lock);
}

/* Something was heard about the calls: their silence starts again. */
static void
heard(dopy_conn *c, uint32_t id)
{
	int64_t now = dopy_now_ms();
	dopy_future *f;
	size_t i;

	for (i = 0; i < DOPY_PENDING_BUCKETS; i++)
		for (f = c->pending[i]; f != NULL; f = f->next)
			if (id == 0 || f->id == id)
				f->heard_ms = now;
}

/* The server calls one of our objects back: copy the request, free the
 * role (the callback may call the server itself) and run it. */
static void
on_callback(dopy_conn *c, const struct dopy_frame *fr)
{
	uint8_t *copy = malloc(fr->len ? fr->len : 1);

	if (copy != NULL)
		memcpy(copy, fr->payload, fr->len);
	pthread_mutex_lock(&c->lock);
	heard(c, 0);
	role_free(c);
	pthread_mutex_unlock(&c->lock);
	dopy_clientcb_run(c, fr->id, copy, copy != NULL ? fr->len : 0);
	pthread_mutex_lock(&c->lock);
	heard(c, 0);
	pthread_mutex_unlock(&c->lock);
}

/* The framing is gone or the server said goodbye: fail everything.  A
 * read that failed (syserr, its errno) lost the connection as surely as
 * an EOF, a TCP reset for one: the calls' outcome is as unknown. */
static void
on_loss(dopy_conn *c, int r, const struct dopy_frame *fr, int syserr)
{
	dopy_error *e = NULL;

	/* A malformed ERROR still gives one: what was wrong with it. */
	if (fr != NULL)
		(void)dopy_msg_error_get(fr->payload, fr->len, &e);
	pthread_mutex_lock(&c->lock);
	c->kill_child |= r != DOPY_E_CLOSED;
	if (r == DOPY_E_SYS && e == NULL)
		lose_all(c, DOPY_E_LOST, strerror(syserr));
	else
		dopy_conn_lost(c, r == DOPY_E_CLOSED ? DOPY_E_LOST : r, e);
	role_free(c);
	pthread_mutex_unlock(&c->lock);
	dopy_error_free(e);
}

/* A frame no server sends: we are not talking to a dopy server. */
static void
unexpected(dopy_conn *c, const struct dopy_frame *fr)
{
	dopy_error *e;

	e = dopy_error_new(DOPY_E_PROTO, "the server sent a %s frame (type "
	    "%u), which no server sends", dopy_frame_type_name(fr->type),
	    fr->type);
	pthread_mutex_lock(&c->lock);
	c->kill_child = 1;
	dopy_conn_lost(c, DOPY_E_PROTO, e);
	role_free(c);
	pthread_mutex_unlock(&c->lock);
	dopy_error_free(e);
}

/* What an early connection reads first: the server's HELLO, or why
 * there is none (f NULL, the read's error r). */
static void
on_hello(dopy_conn *c, const struct dopy_frame *fr, int r)
{
	dopy_error *e = NULL;

	r = dopy_conn_hello_check(c, fr, r, &e);
	pthread_mutex_lock(&c->lock);
	if (r == 0)
		c->hello_state = DOPY_HELLO_DONE;
	else
		dopy_conn_hello_fail(c, e);
	role_free(c);
	pthread_mutex_unlock(&c->lock);
}

/* Whether the next frame is an early connection's HELLO, and so read
 * after a read that ended with r; lock held. */
static int
hello_due(const dopy_conn *c, int r)
{
	return c->hello_state == DOPY_HELLO_SENT && (r != DOPY_E_TIMEOUT ||
	    dopy_now_ms() >= c->hello_until);
}

/* Whether fr answers a call (an ERROR with id 0 ends the connection). */
static int
is_answer(const struct dopy_frame *fr)
{
	return fr->type == DOPY_F_REPLY ||
	    (fr->type == DOPY_F_ERROR && fr->id != 0);
}

/*
 * Holding the role (and not the lock), read one frame by the deadline
 * (absolute ms, 0: none) and hand it on; the role is free on return.
 * 0, or DOPY_E_TIMEOUT when nothing came in time.
 */
static int
read_one(dopy_conn *c, int64_t until)
{
	struct dopy_frame fr;
	int r, syserr;

	c->chan.deadline = until;
	r = dopy_chan_read(&c->chan, &fr);
	syserr = errno;
	c->chan.deadline = 0;
	/* One lock for the usual frame, an answer: on_answer releases it. */
	pthread_mutex_lock(&c->lock);
	if (hello_due(c, r)) {
		pthread_mutex_unlock(&c->lock);
		on_hello(c, r < 0 ? NULL : &fr, r);
		return 0;
	}
	if (r == 0 && is_answer(&fr)) {
		on_answer(c, &fr);
		return 0;
	}
	if (r == DOPY_E_TIMEOUT) {
		role_free(c);
		pthread_mutex_unlock(&c->lock);
		return r;
	}
	pthread_mutex_unlock(&c->lock);
	if (r < 0) {
		on_loss(c, r, NULL, syserr);
		return 0;
	}
	switch (fr.type) {
	case DOPY_F_ERROR:	/* id 0: answers were taken above */
		on_loss(c, DOPY_E_PROTO, &fr, 0);
		break;
	case DOPY_F_ITEM:
		on_item(c, &fr);
		break;
	case DOPY_F_PROGRESS:
		pthread_mutex_lock(&c->lock);
		heard(c, fr.id);
		role_free(c);
		pthread_mutex_unlock(&c->lock);
		break;
	case DOPY_F_CALLBACK:
		on_callback(c, &fr);
		break;
	default:
		unexpected(c, &fr);
		break;
	}
	return 0;
}

/* ---- waiting ---- */

/* When f runs out of time (absolute ms), or 0 for never. */
static int64_t
expiry(const dopy_future *f, int *silence)
{
	int64_t t = 0, d = 0;

	if (f->timeout_ms > 0)
		t = f->heard_ms + f->timeout_ms;
	if (f->deadline_ms > 0)
		d = f->sent_ms + f->deadline_ms +
		    (f->deadline_sent ? DOPY_DEADLINE_GRACE_MS : 0);
	*silence = t != 0 && (d == 0 || t < d);
	return *silence ? t : d;
}

static void
timed_out(dopy_conn *c, dopy_future *f, int silence)
{
	char msg[200];

	if (table_take(c, f->id) == NULL)
		return;		/* answered meanwhile */
	c->kill_child = 1;	/* the server may be stuck in it */
	/* The server may stop it too (cancel.c sends it after the lock);
	 * one told the deadline stops by itself, and says so. */
	f->cancel_due = c->hello_state != DOPY_HELLO_SENT &&
	    dopy_conn_uses(c, DOPY_FEAT_CANCEL) &&
	    (silence || !f->deadline_sent);
	/* An early connection's first call waits for the HELLO too: the
	 * server was silent from the start, not in that call, which the
	 * caller may not even have made (dopy-rsh's description). */
	if (c->hello_state == DOPY_HELLO_SENT)
		fail(c, f, DOPY_E_TIMEOUT, "no HELLO from the server within "
		    "%d ms", silence ? f->timeout_ms : f->deadline_ms);
	else if (silence)
		fail(c, f, DOPY_E_TIMEOUT, "no word about %s for %d ms; "
		    "whether it ran is unknown", f->what, f->timeout_ms);
	else {
		snprintf(msg, sizeof(msg), "%s did not finish within its "
		    "deadline of %d ms; whether it ran is unknown", f->what,
		    f->deadline_ms);
		settle_named(c, f, DOPY_E_TIMEOUT, "dopy.DeadlineExceeded",
		    msg);
	}
}

int
dopy_future_settle_local(dopy_future *f, int code, const char *name,
    const char *msg)
{
	if (table_take(f->conn, f->id) == NULL)
		return -1;
	settle_named(f->conn, f, code, name, msg);
	return 0;
}

static void
cond_wait_until(dopy_conn *c, int64_t until)
{
	struct timespec ts;
	int64_t left;

	c->waiting++;
	if (until == 0)
		pthread_cond_wait(&c->cond, &c->lock);
	else {
		left = until - dopy_now_ms();
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += left / 1000;
		ts.tv_nsec += (left % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&c->cond, &c->lock, &ts);
	}
	c->waiting--;
}

/* The earlier of until and, while the server's HELLO is due, its
 * deadline; lock held. */
static int64_t
hello_bound(const dopy_conn *c, int64_t until)
{
	if (c->hello_state == DOPY_HELLO_SENT &&
	    (until == 0 || c->hello_until < until))
		return c->hello_until;
	return until;
}

/* Whether f's waiter may stop: answered, or a stream's item is in. */
static int
has_news(const dopy_future *f)
{
	return f->answered || (f->sq != NULL && f->sq->head != NULL);
}

/*
 * Until f is answered, one way or another, or (a stream) has an item.
 * While a stream's queue is full nobody reads: the thread that takes
 * from it wakes the others.  Lock held.
 */
static void
wait_answer(dopy_conn *c, dopy_future *f)
{
	int64_t until;
	int silence;

	while (!has_news(f)) {
		if (f->decoding) {	/* its answer is being read */
			cond_wait_until(c, 0);
			continue;
		}
		until = expiry(f, &silence);
		if (until != 0 && dopy_now_ms() >= until) {
			timed_out(c, f, silence);
			continue;
		}
		if (!c->up) {	/* dropped by a release in another thread */
			if (table_take(c, f->id) != NULL)
				fail(c, f, DOPY_E_LOST, "connection released "
				    "during %s: whether it ran is unknown",
				    f->what);
			continue;
		}
		if (c->reading || c->sfull > 0) {
			cond_wait_until(c, hello_bound(c, until));
			continue;
		}
		c->reading = 1;
		pthread_mutex_unlock(&c->lock);
		read_one(c, hello_bound(c, until));
		pthread_mutex_lock(&c->lock);
	}
}

void
dopy_future_wait_item(dopy_future *f)
{
	wait_answer(f->conn, f);
}

/* Send a queued HELLO by itself; 0, or the exchange's error. */
static int
hello_flush(dopy_conn *c, dopy_error **ep)
{
	int queued, r = 0;

	pthread_mutex_lock(&c->wlock);
	pthread_mutex_lock(&c->lock);
	queued = c->up && c->hello_state == DOPY_HELLO_QUEUED;
	pthread_mutex_unlock(&c->lock);
	if (queued)
		r = dopy_conn_hello_sent(c, dopy_chan_write(&c->chan,
		    c->hello_out.data, c->hello_out.len), ep);
	pthread_mutex_unlock(&c->wlock);
	return r;
}

int
dopy_conn_settle(dopy_conn *c, dopy_error **ep)
{
	int r;

	if (c == NULL)
		return dopy_error_set(ep, DOPY_E_INVAL, "no connection");
	if (c->sess != NULL)	/* a server's, to its client: no HELLO */
		return 0;
	if ((r = hello_flush(c, ep)) < 0)
		return r;
	pthread_mutex_lock(&c->lock);
	while (c->up && c->hello_state == DOPY_HELLO_SENT) {
		if (c->reading) {
			cond_wait_until(c, c->hello_until);
			continue;
		}
		c->reading = 1;
		pthread_mutex_unlock(&c->lock);
		read_one(c, c->hello_until);
		pthread_mutex_lock(&c->lock);
	}
	if (c->hello_err != NULL)
		r = dopy_conn_hello_error(c, ep);
	else if (c->hello_state != DOPY_HELLO_DONE)
		r = dopy_error_set(ep, DOPY_E_CLOSED, "connection released "
		    "before the server said HELLO");
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* ---- the API ---- */

/* "object.method" for messages; snprintf would cost more than the rest
 * of sending a small call. */
static void
what(char *w, size_t size, const char *object, const char *method)
{
	size_t n = strnlen(object, size - 1), m;

	/* strnlen and memcpy, not strlcpy: libbsd's copies a byte at a
	 * time, and this runs twice a call. */
	memcpy(w, object, n);
	w[n] = '\0';
	if (n + 1 < size) {
		w[n] = '.';
		m = strnlen(method, size - n - 2);
		memcpy(w + n + 1, method, m);
		w[n + 1 + m] = '\0';
	}
}

/* A usable connection for p and the next call id; lock held. */
static int
claim_id(dopy_proxy *p, uint32_t *id, dopy_error **ep)
{
	dopy_conn *c = p->conn;
	int r;

	/* Dial again first: a reference's connection may be gone only now. */
	if ((r = dopy_conn_ensure(c, ep)) < 0)
		return r;
	if (p->gen != 0 && p->gen != c->gen)
		return dopy_error_set(ep, DOPY_E_CLOSED, "%s belongs to an "
		    "earlier connection (references die with it)", p->object);
	if ((*id = c->next_id++) == 0)
		*id = c->next_id++;
	return 0;
}

int
dopy_conn_claim_id(dopy_proxy *p, uint32_t *id, dopy_error **ep)
{
	int r;

	pthread_mutex_lock(&p->conn->lock);
	r = claim_id(p, id, ep);
	pthread_mutex_unlock(&p->conn->lock);
	return r;
}

int
dopy_future_start(dopy_proxy *p, const char *method, dopy_future_fn fn,
    void *arg, dopy_future **fp, dopy_error **ep)
{
	dopy_conn *c = p->conn;
	dopy_future *f;
	int r;

	/* One per call: the one the connection kept, or malloc (not
	 * calloc, which bypasses glibc's per-thread cache); every field
	 * set below either way. */
	if ((f = atomic_exchange(&c->spare, NULL)) == NULL &&
	    (f = malloc(sizeof(*f))) == NULL)
		return dopy_error_set(ep, DOPY_E_NOMEM, "out of memory");
	what(f->what, sizeof(f->what), p->object, method);
	f->conn = c;
	f->id = 0;
	f->fn = fn;
	f->arg = arg;
	f->refs = 1;
	f->answered = 0;
	f->code = 0;
	f->result = NULL;
	f->err = NULL;
	f->sent_ms = f->heard_ms = 0;
	f->next = NULL;
	f->stub = f->decoding = 0;
	f->cancel_due = f->deadline_sent = 0;
	f->get = NULL;
	f->getres = NULL;
	f->sq = NULL;
	f->upload = 0;
	f->strays = 0;
	f->timeout_ms = p->timeout_ms > 0 ? p->timeout_ms : c->timeout_ms;
	f->deadline_ms = p->deadline_ms > 0 ? p->deadline_ms : c->deadline_ms;
	/* Inside a method: its deadline, and its stop, hold for us too. */
	if ((r = dopy_deadline_inherit(f->what, &f->deadline_ms, ep)) < 0) {
		free(f);
		return r;
	}
	pthread_mutex_lock(&c->lock);
	if ((r = claim_id(p, &f->id, ep)) == 0) {
		f->sent_ms = f->heard_ms = dopy_now_ms();
		table_add(c, f);	/* before sending: a reply may be quick */
	}
	pthread_mutex_unlock(&c->lock);
	if (r < 0) {
		free(f);
		return r;
	}
	*fp = f;
	return 0;
}

/* Take f back out: it could not be sent. */
void
dopy_future_unsend(dopy_future *f)
{
	dopy_conn *c = f->conn;

	pthread_mutex_lock(&c->lock);
	if (table_take(c, f->id) != NULL)
		f->refs--;		/* the table's */
	future_unref(f);
	pthread_mutex_unlock(&c->lock);
}

/* Send the CALL of a started future, with the deadline it inherits or
 * has; on failure the future is taken back.  Inlined, as call_async. */
static inline __attribute__((always_inline)) int
send_started(dopy_proxy *p, dopy_future *f, const char *method,
    dopy_callenc_fn enc, const void *arg, dopy_future **fp, dopy_error **ep)
{
	struct dopy_dlenc dl;
	uint8_t flags = f->upload ? DOPY_FL_UPLOAD : 0;
	int r;

	/* Its payload begins with the deadline. */
	if (dopy_deadline_wrap(f, &dl, &enc, &arg))
		flags |= DOPY_FL_DEADLINE;
	if ((r = dopy_send_enc(p, DOPY_F_CALL, flags, f->id, method, enc, arg,
	    ep)) < 0) {
		dopy_future_unsend(f);
		return r;
	}
	*fp = f;
	return 0;
}

/* Inlined: the small call's path was 36 instructions longer through
 * it and send_started (callgrind). */
static inline __attribute__((always_inline)) int
call_async(dopy_proxy *p, const char *method, dopy_callenc_fn enc,
    const void *arg, int stub, dopy_get_fn get, void *result,
    dopy_future_fn fn, void *fnarg, int upload, dopy_future **fp,
    dopy_error **ep)
{
	dopy_future *f;
	int r;

	if ((r = dopy_future_start(p, method, fn, fnarg, &f, ep)) < 0)
		return r;
	/* Before the frame goes out: the answer may be quick, and the
	 * send's locks order these writes before any reader's. */
	f->stub = stub;
	f->get = get;
	f->getres = result;
	f->upload = upload;
	return send_started(p, f, method, enc, arg, fp, ep);
}

int
dopy_call_async_enc(dopy_proxy *p, const char *method, dopy_callenc_fn enc,
    const void *arg, int stub, dopy_get_fn get, void *result,
    dopy_future_fn fn, void *fnarg, dopy_future **fp, dopy_error **ep)
{
	return call_async(p, method, enc, arg, stub, get, result, fn, fnarg,
	    0, fp, ep);
}

int
dopy_upload_call(dopy_proxy *p, const char *method, dopy_callenc_fn enc,
    const void *arg, int stub, dopy_get_fn get, void *result,
    dopy_future **fp, dopy_error **ep)
{
	return call_async(p, method, enc, arg, stub, get, result, NULL, NULL,
	    1, fp, ep);
}

int
dopy_stream_send(dopy_proxy *p, const char *method, dopy_callenc_fn enc,
    const void *arg, struct dopy_squeue *q, dopy_future **fp,
    dopy_error **ep)
{
	dopy_future *f;
	int r;

	if ((r = dopy_future_start(p, method, NULL, NULL, &f, ep)) < 0)
		return r;
	/* Before the frame goes out: another thread may read its items. */
	pthread_mutex_lock(&p->conn->lock);
	f->sq = q;
	pthread_mutex_unlock(&p->conn->lock);
	return send_started(p, f, method, enc, arg, fp, ep);
}

int
dopy_proxy_call_async(dopy_proxy *p, const char *method,
    const dopy_args *args, dopy_future_fn fn, void *arg, dopy_future **fp,
    dopy_error **ep)
{
	if (fp != NULL)
		*fp = NULL;
	if (p == NULL || method == NULL || fp == NULL)
		return dopy_error_set(ep, DOPY_E_INVAL, "NULL argument");
	if (p->conn->sess != NULL)
		return dopy_error_set(ep, DOPY_E_INVAL, "calls back to a "
		    "client are synchronous");
	return dopy_call_async_enc(p, method, dopy_args_encode, args, 0, NULL,
	    NULL, fn, arg, fp, ep);
}

int
dopy_future_ready(dopy_future *f)
{
	int r;

	if (f == NULL)
		return 0;
	if (f->conn == NULL)
		return f->answered;
	pthread_mutex_lock(&f->conn->lock);
	r = f->answered;
	pthread_mutex_unlock(&f->conn->lock);
	return r;
}

int
dopy_future_wait(dopy_future *f, dopy_value **result, dopy_error **ep)
{
	dopy_conn *c;
	int r, due = 0;

	if (result != NULL)
		*result = NULL;
	if (f == NULL)
		return dopy_error_set(ep, DOPY_E_INVAL, "NULL future");
	if ((c = f->conn) != NULL) {
		pthread_mutex_lock(&c->lock);
		wait_answer(c, f);
		due = f->cancel_due;	/* a timeout left the server a CANCEL */
		f->cancel_due = 0;
	}
	if ((r = f->code) < 0 && ep != NULL) {
		dopy_error_free(*ep);
		*ep = f->err;
		f->err = NULL;
	} else if (r == 0 && result != NULL) {
		*result = f->result;
		f->result = NULL;
	}
	if (c != NULL)
		pthread_mutex_unlock(&c->lock);
	if (due)
		dopy_conn_cancel_id(c, f->id);
	return r;
}

void
dopy_future_free(dopy_future *f)
{
	dopy_conn *c;

	if (f == NULL)
		return;
	if ((c = f->conn) == NULL) {
		future_unref(f);
		return;
	}
	pthread_mutex_lock(&c->lock);
	/* A stub's result is the caller's memory, which may go with the
	 * future: a get running into it finishes first. */
	while (f->decoding)
		cond_wait_until(c, 0);
	/* Forgotten: its callback's argument may be gone with it. */
	f->fn = NULL;
	f->arg = NULL;
	f->get = NULL;
	f->getres = NULL;
	future_unref(f);	/* the table keeps its own until answered */
	pthread_mutex_unlock(&c->lock);
}

int
dopy_conn_fd(const dopy_conn *c)
{
	return c != NULL && c->sess == NULL && c->up ? c->chan.in : -1;
}

/* Whether a whole frame is already buffered, or input is waiting. */
static int
readable(dopy_conn *c)
{
	struct pollfd pfd = { c->chan.in, POLLIN, 0 };
	struct dopy_frame fr;
	size_t have = dopy_buf_avail(&c->chan.rbuf);

	if (have >= DOPY_HDR_LEN && dopy_frame_decode(c->chan.rbuf.data +
	    c->chan.rbuf.off, c->chan.max_frame, &fr) == 0 &&
	    have >= DOPY_HDR_LEN + (size_t)fr.len)
		return 1;
	return poll(&pfd, 1, 0) > 0;
}

int
dopy_conn_process(dopy_conn *c, dopy_error **ep)
{
	int r = 0;

	if (c == NULL || c->sess != NULL)
		return dopy_error_set(ep, DOPY_E_INVAL, "not a client's "
		    "connection");
	pthread_mutex_lock(&c->lock);
	while (c->up && !c->reading && c->sfull == 0 && readable(c)) {
		c->reading = 1;
		pthread_mutex_unlock(&c->lock);
		/* A frame that has begun arrives whole soon; a short wait
		 * for its rest, and what came stays buffered if not. */
		read_one(c, dopy_now_ms() + 100);
		pthread_mutex_lock(&c->lock);
	}
	if (!c->up && c->gen > 0 && !c->released)
		r = dopy_error_set(ep, DOPY_E_CLOSED, "connection lost");
	pthread_mutex_unlock(&c->lock);
	return r;
}
