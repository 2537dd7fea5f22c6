/*
 * cancel.c - cooperative cancellation and deadlines on the server
 * (dopy(5): Cancel, Deadlines).
 *
 * A method learns that it should stop only when it asks
 * (dopy_call_cancelled, dopy_call_progress): nothing interrupts it.
 * Asking reads what the client has sent without waiting and scans the
 * whole frames buffered: a CANCEL among them is acted on and removed,
 * every other frame stays where it is for the connection's loop.  So a
 * CANCEL for a call queued behind the running one is noted here and
 * answered when that call's turn comes, without running it; the
 * arrival of a queued CALL is noted too, which its deadline counts
 * from.  EOF seen this way stops the running calls that someone waits
 * for (not ONEWAY ones): closing a connection cancels what it had in
 * flight.
 *
 * The running call is also the thread's current call, which client
 * calls made from the method consult (lib/client/cancel.c): they
 * inherit its deadline and fail at once once it is stopped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/uio.h>

#include "client/client.h"
#include "server/server.h"

static __thread dopy_call *current;

dopy_call *
dopy_current_call(void)
{
	return current;
}

/* ---- notes on queued calls ---- */

static struct dopy_callnote *
note_find(struct dopy_session *c, uint32_t id)
{
	size_t i;

	for (i = 0; i < c->nnotes; i++)
		if (c->notes[i].id == id)
			return &c->notes[i];
	return NULL;
}

/* A CALL seen buffered (when full, it goes unnoted: best effort). */
static void
note_call(struct dopy_session *c, uint32_t id, int64_t now)
{
	if (id == 0 || note_find(c, id) != NULL ||
	    c->nnotes == DOPY_CALL_NOTES)
		return;
	c->notes[c->nnotes].id = id;
	c->notes[c->nnotes].cancelled = 0;
	c->notes[c->nnotes++].seen_ms = now;
}

static void
note_drop(struct dopy_session *c, struct dopy_callnote *n)
{
	*n = c->notes[--c->nnotes];
}

/* ---- the running calls ---- */

struct dopy_running *
dopy_running_of(dopy_call *call)
{
	struct dopy_running *r;

	if (call == NULL || call->sess == NULL)
		return NULL;
	for (r = call->sess->running; r != NULL; r = r->up)
		if (r->call == call)
			return r;
	return NULL;
}

/* Stopped already, by a CANCEL, EOF or the clock; no reading. */
static int
stopped(struct dopy_running *r)
{
	if (r->why == 0 && r->deadline != 0 && dopy_now_ms() >= r->deadline)
		r->why = DOPY_STOP_DEADLINE;
	return r->why != 0;
}

/* CANCEL for id: the running call, a queued one, or nothing. */
static void
cancel_id(struct dopy_session *c, uint32_t id)
{
	struct dopy_running *r;
	struct dopy_callnote *n;

	for (r = c->running; r != NULL; r = r->up)
		if (r->id == id) {
			/* One the client gave up on at its deadline is
			 * the deadline's. */
			if (!stopped(r))
				r->why = DOPY_STOP_CANCEL;
			return;
		}
	if ((n = note_find(c, id)) != NULL)
		n->cancelled = 1;
	/* else answered already, or never sent: ignored (dopy(5)) */
}

/* EOF: nobody waits for the running calls any more. */
static void
client_gone(struct dopy_session *c)
{
	struct dopy_running *r;

	c->gone = 1;
	for (r = c->running; r != NULL; r = r->up)
		if (r->why == 0 && r->id != 0 && !r->call->answered)
			r->why = DOPY_STOP_GONE;
}

/*
 * Whether to read more ahead: at most a frame limit buffered.  A large
 * frame is read into its own block (chan.c), allocated whole when its
 * header came, and what follows it into the buffer, so a CANCEL behind
 * a large CALL is seen too; a second large frame waits in the buffer.
 */
static int
more_wanted(const struct dopy_session *c)
{
	return !c->gone && dopy_buf_avail(&c->ch.rbuf) < c->ch.max_frame;
}

/* Take what the client has sent, at most a frame limit ahead; whether
 * it has closed the connection (after what it sent, a CANCEL say). */
static int
take_input(struct dopy_session *c)
{
	struct dopy_chan *ch = &c->ch;
	uint64_t before;
	int r;

	while (more_wanted(c)) {
		before = ch->bytes_in;
		r = dopy_chan_take_input(ch, 0);
		if (r == DOPY_E_CLOSED || r == DOPY_E_PROTO)
			return 1;
		if (r < 0 || ch->bytes_in == before)
			return 0;
	}
	return 0;
}

int
dopy_cancel_readable(struct dopy_session *c)
{
	return more_wanted(c);
}

/* A CANCEL taken out of the buffer never reaches dopy_chan_read: the
 * tap (a recording, -v) is shown it here, or a replay would lack it. */
static void
show_cancel(struct dopy_session *c, const uint8_t *frame, size_t flen)
{
	struct iovec iov = { (void *)(frame + DOPY_HDR_LEN),
	    flen - DOPY_HDR_LEN };

	if (c->ch.tap != NULL)
		c->ch.tap->frame(c->ch.tap, 0, frame, &iov,
		    flen > DOPY_HDR_LEN);
}

/* Act on and remove the CANCELs among the whole frames buffered. */
static void
scan(struct dopy_session *c)
{
	struct dopy_buf *b = &c->ch.rbuf;
	struct dopy_frame f;
	int64_t now = dopy_now_ms();
	size_t off = b->off, flen;
	int act = (c->features & DOPY_FEAT_CANCEL) != 0;

	if (c->ch.big_open && c->ch.bigf.type == DOPY_F_CALL)
		note_call(c, c->ch.bigf.id, now);
	while (b->len - off >= DOPY_HDR_LEN &&
	    dopy_frame_decode(b->data + off, c->ch.max_frame, &f) == 0) {
		flen = DOPY_HDR_LEN + (size_t)f.len;
		if (b->len - off < flen)
			break;
		if (act && f.type == DOPY_F_CANCEL && f.id != 0) {
			show_cancel(c, b->data + off, flen);
			cancel_id(c, f.id);
			memmove(b->data + off, b->data + off + flen,
			    b->len - off - flen);
			b->len -= flen;
			continue;
		}
		if (f.type == DOPY_F_CALL)
			note_call(c, f.id, now);
		off += flen;
	}
}

static void
fail_now(dopy_call *call, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
fail_now(dopy_call *call, const char *name, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dopy_call_fail(call, name, "%s", msg);
}

int
dopy_call_stopped(dopy_call *call)
{
	struct dopy_running *r = dopy_running_of(call);

	return r != NULL && stopped(r);
}

int
dopy_call_cancelled(dopy_call *call)
{
	struct dopy_running *r = dopy_running_of(call);
	int eof;

	if (r == NULL)
		return 0;
	if (!stopped(r)) {
		eof = take_input(call->sess);
		scan(call->sess);
		if (eof)
			client_gone(call->sess);
	}
	return stopped(r) ? DOPY_E_CANCELLED : 0;
}

const char *
dopy_call_cancel_name(dopy_call *call)
{
	struct dopy_running *r = dopy_running_of(call);

	if (r == NULL || !stopped(r))
		return NULL;
	return r->why == DOPY_STOP_DEADLINE ? "dopy.DeadlineExceeded" :
	    "dopy.Cancelled";
}

/* Raise why in call: the error a stopped call ends with; late, for a
 * call that did not run (with dispatch's trace line). */
static int
raise_why(dopy_call *call, int why, int late)
{
	void (*raise)(dopy_call *, const char *, const char *, ...)
	    __attribute__((format(printf, 3, 4))) = late ?
	    dopy_call_fail_late : fail_now;
	const char *o = dopy_call_object(call), *m = dopy_call_method(call);

	if (*o == '\0' && call->msg != NULL) {	/* not run: no method yet */
		o = call->msg->object;
		m = call->msg->method;
	}
	if (why == DOPY_STOP_DEADLINE)
		raise(call, "dopy.DeadlineExceeded", "%s.%s: its deadline "
		    "has passed", o, m);
	else
		raise(call, "dopy.Cancelled", "%s.%s: %s", o, m,
		    why == DOPY_STOP_GONE ? "cancelled: the client has gone" :
		    "cancelled by the client");
	return DOPY_E_REMOTE;
}

int
dopy_call_raise_cancelled(dopy_call *call)
{
	struct dopy_running *r = dopy_running_of(call);

	if (call == NULL)
		return DOPY_E_INVAL;
	if (r == NULL || !stopped(r))
		return raise_why(call, DOPY_STOP_CANCEL, 0);
	return raise_why(call, r->why, 0);
}

int64_t
dopy_call_remaining_ms(dopy_call *call)
{
	struct dopy_running *r = dopy_running_of(call);
	int64_t left;

	if (r == NULL || r->deadline == 0)
		return -1;
	left = r->deadline - dopy_now_ms();
	return left > 0 ? left : 0;
}

/* ---- the loop's side ---- */

int
dopy_cancel_frame(struct dopy_session *c, const struct dopy_frame *f)
{
	if (!(c->features & DOPY_FEAT_CANCEL))
		return -1;
	cancel_id(c, f->id);
	return 0;
}

int
dopy_cancel_deadline_get(struct dopy_session *c, const struct dopy_frame *f,
    size_t *skip, int64_t *deadline, char *err, size_t errlen)
{
	struct dopy_callnote *n;
	struct dopy_image img;
	dopy_value *v = NULL;
	size_t cnt = 0;
	uint64_t ms;

	*skip = 0;
	*deadline = 0;
	if (!(f->flags & DOPY_FL_DEADLINE) ||
	    !(c->features & DOPY_FEAT_DEADLINE))
		return 0;
	/* Split stops after the first image (and complains of the
	 * arguments after it, which are not its business). */
	(void)dopy_images_split(f->payload, f->len, &img, 1, &cnt, err,
	    errlen);
	if (cnt != 1 || dopy_decode(&img, &dopy_type_uint_, &v, err,
	    errlen) < 0) {
		if (cnt != 1)
			snprintf(err, errlen, "no deadline image");
		return DOPY_E_PROTO;
	}
	ms = dopy_value_get_uint(v);
	dopy_value_free(v);
	*skip = img.len;
	n = f->id != 0 ? note_find(c, f->id) : NULL;
	/* Far enough to be none; no overflow either. */
	*deadline = (n != NULL ? n->seen_ms : dopy_now_ms()) +
	    (int64_t)(ms > (1ull << 40) ? (1ull << 40) : ms);
	return 0;
}

static void
call_blank(struct dopy_session *c, struct dopy_callmsg *m, dopy_call *call)
{
	memset(call, 0, offsetof(dopy_call, argv));
	call->srv = c->srv;
	call->sess = c;
	call->msg = m;
}

int
dopy_cancel_refused(struct dopy_session *c, struct dopy_callmsg *m,
    dopy_call *call, uint32_t id, int64_t deadline)
{
	struct dopy_callnote *n;
	int why = 0;

	if (deadline == 0 && c->nnotes == 0)
		return 0;		/* the common case: nothing to look at */
	n = id != 0 ? note_find(c, id) : NULL;
	if (n != NULL && n->cancelled)
		why = DOPY_STOP_CANCEL;
	else if (deadline != 0 && dopy_now_ms() >= deadline)
		why = DOPY_STOP_DEADLINE;
	if (n != NULL)
		note_drop(c, n);
	if (why == 0)
		return 0;
	call_blank(c, m, call);
	call->id = id;
	raise_why(call, why, 1);
	dopy_session_complain(c, LOG_INFO, "call %u %s.%s: %s before it "
	    "ran", id, m->object, m->method, why == DOPY_STOP_CANCEL ?
	    "cancelled" : "past its deadline");
	return 1;
}

void
dopy_running_push(struct dopy_session *c, struct dopy_running *r,
    dopy_call *call, uint32_t id, int64_t deadline)
{
	r->call = call;
	r->id = id;
	r->deadline = deadline;
	r->why = c->gone && id != 0 ? DOPY_STOP_GONE : 0;
	r->outer = current;
	r->upq = NULL;
	r->up = c->running;
	c->running = r;
	current = call;
}

/* A method that ran past its deadline: the client has stopped waiting,
 * whatever it returned. */
static void
overran(dopy_call *call)
{
	const char *name = call->err != NULL ? dopy_error_name(call->err) : "";

	if (strcmp(name, "dopy.DeadlineExceeded") == 0)
		return;
	dopy_call_drop_result(call);
	dopy_call_fail_late(call, "dopy.DeadlineExceeded", "%s.%s: ran past "
	    "its deadline", dopy_call_object(call), dopy_call_method(call));
}

void
dopy_running_pop(struct dopy_session *c, struct dopy_running *r)
{
	dopy_call *call = r->call;
	const char *name;

	c->running = r->up;
	current = r->outer;
	if (r->upq != NULL)
		dopy_upload_end(r);
	if (r->deadline != 0 && !call->answered &&
	    dopy_now_ms() >= r->deadline) {
		r->why = DOPY_STOP_DEADLINE;
		overran(call);
	}
	if (r->why == 0)
		return;
	name = call->err != NULL ? dopy_error_name(call->err) : "";
	dopy_session_complain(c, LOG_INFO, "call %u %s.%s: %s; it ended with "
	    "%s", r->id, dopy_call_object(call), dopy_call_method(call),
	    r->why == DOPY_STOP_DEADLINE ? "its deadline passed" :
	    r->why == DOPY_STOP_GONE ? "the client has gone" :
	    "cancelled by the client", *name ? name : "a result");
}
