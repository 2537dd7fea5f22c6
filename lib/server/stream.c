/*
 * stream.c - the server's half of streaming results (dopy(5), Streams).
 *
 * A method whose result is declared "stream T" sends items of type T,
 * each one ITEM frame with the call's id and one image, and ends with
 * an empty REPLY or an ERROR (serve.c sends those as for any call).
 * There is no flow control on the wire: a client that reads slowly
 * makes the write block, within the connection's write deadline, so
 * the server holds one item at a time whatever the stream's length.
 *
 * Items go out only when someone reads them: never for a ONEWAY call
 * (dropped), and a client that did not announce DOPY_FEAT_STREAM is
 * refused before the method runs (dopy_stream_check).
 */
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

int
dopy_call_streams(const dopy_call *c)
{
	return c != NULL && c->obj != NULL && c->obj->streams != NULL &&
	    c->obj->streams[c->midx];
}

int
dopy_stream_check(dopy_call *c)
{
	if (!dopy_call_streams(c))
		return 0;
	if (c->sess == NULL)
		return dopy_call_fail(c, "dopy.Unsupported", "%s.%s streams "
		    "its results, which a callback cannot",
		    dopy_call_object(c), dopy_call_method(c));
	if (c->id != 0 && !(c->sess->features & DOPY_FEAT_STREAM))
		return dopy_call_fail(c, "dopy.Unsupported", "%s.%s streams "
		    "its results; the client did not announce streams",
		    dopy_call_object(c), dopy_call_method(c));
	return 0;
}

void
dopy_stream_result(dopy_call *c)
{
	const struct dopy_out *o = c->stub != NULL ? &c->stub->out : NULL;

	if (c->stub != NULL)
		dopy_stub_in_error(c);
	if (c->err != NULL)
		return;
	if (c->result != NULL || (o != NULL && (o->nimages > 0 || o->open)))
		dopy_call_fail(c, "dopy.ResultError", "%s.%s streams its "
		    "results: it returns none (send items instead)",
		    dopy_call_object(c), dopy_call_method(c));
}

/*
 * Whether the call was told to stop: its flag at every item, and what
 * the client sent (a CANCEL, EOF) at most every DOPY_PROGRESS_MS, since
 * reading the input costs a poll(2) and would halve a fast stream.
 */
static int
stopped(dopy_call *c)
{
	int64_t now;

	if (dopy_call_stopped(c))
		return 1;
	now = dopy_now_ms();
	if (now - c->sess->scan_ms < DOPY_PROGRESS_MS)
		return 0;
	c->sess->scan_ms = now;
	return dopy_call_cancelled(c) < 0;
}

/* Whether c's items go to the client: 1; 0 when they are dropped (a
 * ONEWAY call); DOPY_E_CANCELLED when it should stop; or the error
 * raised. */
static int
may_send(dopy_call *c)
{
	if (c == NULL)
		return DOPY_E_INVAL;
	if (!dopy_call_streams(c)) {
		dopy_call_fail(c, "dopy.UsageError", "%s.%s does not stream: "
		    "it returns its result", dopy_call_object(c),
		    dopy_call_method(c));
		return DOPY_E_USAGE;
	}
	if (c->sess == NULL || c->id == 0)
		return 0;
	if (dopy_callback_over(c->sess, NULL))
		return DOPY_E_CLOSED;
	return stopped(c) ? DOPY_E_CANCELLED : 1;
}

/* The ITEM in the channel's buffer goes out; a failed write ends the
 * connection (nothing more can be sent in step). */
static int
send_item(dopy_call *c)
{
	struct dopy_session *s = c->sess;
	int r;

	if ((r = dopy_session_send(s, DOPY_F_ITEM, c->id)) == 0)
		return 0;
	if (r == DOPY_E_TOOBIG) {
		dopy_call_fail(c, "dopy.FrameTooLarge", "an item of %s.%s is "
		    "larger than the maximum frame of %u bytes",
		    dopy_call_object(c), dopy_call_method(c), s->ch.max_frame);
		return r;
	}
	dopy_callback_set_over(s, r);
	dopy_call_fail(c, "dopy.ConnectionLost", "%s.%s: cannot send an "
	    "item: %s", dopy_call_object(c), dopy_call_method(c),
	    dopy_strerror(r));
	return r == DOPY_E_SYS ? DOPY_E_CLOSED : r;
}

static int
wrong_type(dopy_call *c, const char *got)
{
	dopy_call_fail(c, "dopy.ResultError", "%s.%s: an item of type %s, "
	    "declared stream %s", dopy_call_object(c), dopy_call_method(c),
	    got, c->obj->results[c->midx]->name);
	return DOPY_E_TYPE;
}

int
dopy_call_send_item(dopy_call *c, dopy_value *item)
{
	const dopy_type *want;
	int r;

	if (item == NULL) {
		if (c != NULL)
			dopy_call_fail(c, "dopy.InternalError", "out of "
			    "memory");
		return DOPY_E_NOMEM;
	}
	if ((r = may_send(c)) <= 0) {
		dopy_value_free(item);
		return r;
	}
	want = c->obj->results[c->midx];
	if (want->kind != DOPY_ANY && !dopy_type_equal(want, item->type)) {
		r = wrong_type(c, item->type->name);
		dopy_value_free(item);
		return r;
	}
	/* The item lives until it is written: a large string or bytes
	 * goes out from it by reference (writev), not copied. */
	dopy_chan_begin(&c->sess->ch);
	if ((r = dopy_encode(item, &c->sess->ch.wbuf)) < 0) {
		dopy_value_free(item);
		dopy_call_fail(c, "dopy.InternalError", "cannot encode an "
		    "item: %s", dopy_strerror(r));
		return r;
	}
	r = send_item(c);
	dopy_value_free(item);
	return r;
}

/*
 * Generated code writes the item straight into the channel's buffer; a
 * dropped item (ONEWAY) is written into the stub call's result buffer,
 * which a streaming method leaves empty, and forgotten.
 */
dopy_out *
dopy_call_item_out(dopy_call *c)
{
	if (c == NULL)
		return NULL;
	if (c->sess != NULL && c->id != 0) {
		dopy_chan_begin(&c->sess->ch);
		dopy_out_init(&c->iout, &c->sess->ch.wbuf);
	} else if (c->stub != NULL) {
		dopy_buf_reset(&c->stub->res);
		dopy_out_init(&c->iout, &c->stub->res);
	} else
		return NULL;
	return &c->iout;
}

/* The one image written must be of the declared type (its format
 * follows the image's 8-byte header: large bytes in it may be held by
 * reference, but never the header). */
static int
check_image(dopy_call *c)
{
	const dopy_type *want = c->obj->results[c->midx];
	const char *fmt;
	dopy_type *got;
	int r;

	if (c->iout.err != 0 || c->iout.open || c->iout.nimages != 1) {
		dopy_call_fail(c, "dopy.InternalError", "%s.%s: cannot write "
		    "an item: %s", dopy_call_object(c), dopy_call_method(c),
		    c->iout.open ? "not ended" : c->iout.err != 0 ?
		    dopy_strerror(c->iout.err) : "not one image");
		return DOPY_E_TYPE;
	}
	fmt = (const char *)c->iout.b->data + c->iout.start + 8;
	if (want->kind == DOPY_ANY || strcmp(fmt, want->tpl) == 0)
		return 0;
	got = dopy_type_from_tpl(fmt);
	r = wrong_type(c, got != NULL ? got->name : fmt);
	dopy_type_free(got);
	return r;
}

int
dopy_call_item_send(dopy_call *c)
{
	int r = 0, sends;

	if (c == NULL || c->iout.b == NULL)
		return DOPY_E_INVAL;
	if ((sends = may_send(c)) < 0 || (r = check_image(c)) < 0 ||
	    sends == 0) {
		if (c->stub != NULL && c->iout.b == &c->stub->res)
			dopy_buf_reset(&c->stub->res);
		c->iout.b = NULL;
		return sends < 0 ? sends : r;
	}
	c->iout.b = NULL;
	return send_item(c);
}
