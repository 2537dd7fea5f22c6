/*
 * replay_run.c - one recorded connection played against a target: the
 * client's frames are sent as recorded, HELLO included, and each frame
 * the server sent is matched by the next one the target sends
 * (PROGRESS aside on both sides: it depends on timing).
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "replay.h"

struct rp_call {
	uint32_t		 id;
	const struct rp_rec	*rec;
	int			 differ, omitted;
	int			 done;		/* its answer was compared */
};
struct run {
	const struct rp_opts	*o;
	const struct rp_conn	*c;
	struct dopy_chan	 ch;
	pid_t			 pid;
	int			 lost;		/* nothing more will come */
	uint32_t		 max_frame;	/* the recorded HELLO's */
	int64_t			 sent_ms;	/* the last frame sent, now */
	uint64_t		 sent_ns;	/* ... and when recorded */
	struct rp_call		*calls;
	size_t			 ncalls;
	unsigned long		 diffs;
};

static struct rp_call *
call_of(struct run *u, uint32_t id)
{
	size_t i;

	for (i = u->ncalls; i > 0; i--)		/* the latest of that id */
		if (u->calls[i - 1].id == id)
			return &u->calls[i - 1];
	return NULL;
}

static int
add_call(struct run *u, const struct rp_rec *r, int omitted)
{
	struct rp_call *v;

	if ((v = reallocarray(u->calls, u->ncalls + 1, sizeof(*v))) == NULL)
		return DOPY_E_NOMEM;
	u->calls = v;
	/* A ONEWAY has no answer to wait for. */
	v[u->ncalls++] = (struct rp_call){ rp_id(r), r, 0, omitted,
	    rp_type(r) == DOPY_F_ONEWAY };
	return 0;
}

static void
trace(struct run *u, const char *dir, const uint8_t *hdr,
    const uint8_t *payload, size_t len)
{
	char extra[48], *j;

	if (!u->o->verbose)
		return;
	snprintf(extra, sizeof(extra), "\"conn\":%u,\"dir\":\"%s\"",
	    u->c->conn, dir);
	if ((j = dopy_frame_json(hdr, payload, len, extra, 2000)) != NULL)
		fprintf(stderr, "%s\n", j);
	free(j);
}

/* A CANCEL keeps its distance from the frame before it, so that the
 * call it stops is running, as it was, rather than not yet read. */
static void
cancel_gap(struct run *u, const struct rp_rec *r)
{
	int64_t gap, wait;

	if (rp_type(r) != DOPY_F_CANCEL || r->time_ns < u->sent_ns)
		return;
	gap = (int64_t)((r->time_ns - u->sent_ns) / 1000000);
	if (gap > u->o->timeout_ms)
		gap = u->o->timeout_ms;
	wait = u->sent_ms + gap - dopy_now_ms();
	if (wait > 0)
		poll(NULL, 0, (int)wait);
}

/* The recorded HELLO's frame limit: what the target may send us. */
static void
note_hello(struct run *u, const struct rp_rec *r)
{
	struct dopy_hello h;
	char err[80];

	if (rp_type(r) != DOPY_F_HELLO ||
	    dopy_msg_hello_get(r->payload, r->len, &h, err, sizeof(err)) < 0)
		return;
	u->max_frame = h.max_frame < DOPY_FRAME_MIN ? DOPY_FRAME_MIN :
	    h.max_frame;
	dopy_msg_hello_release(&h);
}

static void
write_rec(struct run *u, const struct rp_rec *r)
{
	struct dopy_buf b;

	cancel_gap(u, r);
	note_hello(u, r);
	trace(u, "out", r->hdr, r->payload, r->len);
	dopy_buf_init(&b);
	if (dopy_buf_put(&b, r->hdr, DOPY_HDR_LEN) < 0 ||
	    dopy_buf_put(&b, r->payload, r->len) < 0 ||
	    dopy_chan_write(&u->ch, b.data, b.len) < 0)
		u->lost = 1;	/* the next answer expected is missing */
	dopy_buf_release(&b);
	u->sent_ms = dopy_now_ms();
	u->sent_ns = r->time_ns;
}

/*
 * A call recorded without its arguments (dopyd -W) or cut short cannot
 * be sent as it was: it is skipped with its items and answers.
 */
static int
send_rec(struct run *u, const struct rp_rec *r)
{
	uint8_t t = rp_type(r);
	struct rp_call *k;
	int omitted = (r->flags & (DOPY_REC_OMIT | DOPY_REC_CUT)) != 0;

	if (t == DOPY_F_CALL || t == DOPY_F_ONEWAY) {
		if (add_call(u, r, omitted) < 0)
			return DOPY_E_NOMEM;
	} else if ((t == DOPY_F_ITEM || t == DOPY_F_CANCEL) &&
	    (k = call_of(u, rp_id(r))) != NULL && k->omitted)
		return 0;
	if (!omitted && !u->lost)
		write_rec(u, r);
	return 0;
}

/* The target's next frame other than PROGRESS, by the deadline. */
static int
read_answer(struct run *u, struct dopy_frame *f)
{
	int r;

	dopy_chan_deadline(&u->ch, u->o->timeout_ms);
	while ((r = dopy_chan_read(&u->ch, f)) == 0 &&
	    f->type == DOPY_F_PROGRESS)
		;
	if (r == 0 && f->type == DOPY_F_HELLO && u->max_frame > 0)
		u->ch.max_frame = u->max_frame;
	return r;
}

static void
differs(struct run *u, const struct rp_rec *r, const uint8_t *hdr,
    const struct dopy_frame *f)
{
	struct rp_call *k = call_of(u, rp_id(r));
	const struct rp_rec *what = rp_type(r) == DOPY_F_CALLBACK ? r :
	    k != NULL ? k->rec : NULL;

	if (k != NULL && rp_type(r) != DOPY_F_CALLBACK)
		k->differ = 1;
	u->diffs++;
	rp_report(u->c, what, r, hdr, f != NULL ? f->payload : NULL,
	    f != NULL ? f->len : 0);
}

static void
expect_rec(struct run *u, const struct rp_rec *r)
{
	uint8_t hdr[DOPY_HDR_LEN];
	struct rp_call *k = call_of(u, rp_id(r));
	struct dopy_frame f;

	if (rp_type(r) == DOPY_F_PROGRESS || (k != NULL && k->omitted &&
	    rp_type(r) != DOPY_F_CALLBACK))
		return;
	if (u->lost || read_answer(u, &f) < 0) {
		u->lost = 1;
		differs(u, r, NULL, NULL);
		return;
	}
	dopy_frame_encode(hdr, f.type, f.id, f.len);
	dopy_frame_set_flags(hdr, f.flags);
	trace(u, "in", hdr, f.payload, f.len);
	if (!rp_same(r, hdr, f.payload, f.len))
		differs(u, r, hdr, &f);
	if (k != NULL && (f.type == DOPY_F_REPLY || f.type == DOPY_F_ERROR))
		k->done = 1;
}

/* The target went silent or away: the calls still waiting for their
 * answers will not get them. */
static void
unanswered(struct run *u)
{
	size_t i;

	for (i = 0; i < u->ncalls; i++)
		if (!u->calls[i].done && !u->calls[i].omitted)
			u->calls[i].differ = 1;
}

/* What cannot be replayed: a keyed exchange (the MACs are over fresh
 * nonces), or a connection recorded after its HELLO. */
static const char *
unplayable(const struct rp_conn *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (rp_type(&c->r[i]) == DOPY_F_AUTH)
			return "keyed (AUTH): a shared key cannot be replayed";
	for (i = 0; i < c->n && !c->r[i].client; i++)
		;
	return i < c->n && rp_type(&c->r[i]) == DOPY_F_HELLO ? NULL :
	    "no HELLO recorded";
}

static void
skip_conn(const struct rp_conn *c, const char *why, struct rp_stats *st)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->r[i].client && (rp_type(&c->r[i]) == DOPY_F_CALL ||
		    rp_type(&c->r[i]) == DOPY_F_ONEWAY))
			st->skipped++;
	fprintf(stderr, "dopy-replay: connection %u of pid %u skipped: %s\n",
	    c->conn, c->pid, why);
}

static int
dial(struct run *u)
{
	dopy_error *e = NULL;
	int in, out;

	if (dopy_target_dial_raw(u->o->target, &in, &out, &u->pid, &e) < 0) {
		fprintf(stderr, "dopy-replay: %s\n", dopy_error_message(e));
		dopy_error_free(e);
		return -1;
	}
	dopy_chan_init(&u->ch, in, out);
	/* A target that stops reading is a difference, not a hang. */
	dopy_chan_send_deadline(&u->ch, u->o->timeout_ms);
	return 0;
}

/* EOF ends a server; one that does not end soon is stopped. */
static void
hang_up(struct run *u)
{
	int status;

	close(u->ch.out);
	if (u->ch.in != u->ch.out)
		close(u->ch.in);
	dopy_chan_release(&u->ch);
	if (u->pid <= 0 || dopy_reap(u->pid, 2000, &status) == 0)
		return;
	kill(-u->pid, SIGTERM);
	if (dopy_reap(u->pid, 1000, &status) == 0)
		return;
	kill(-u->pid, SIGKILL);
	dopy_reap(u->pid, 0, &status);
}

static void
tally(const struct run *u, struct rp_stats *st)
{
	size_t i;

	for (i = 0; i < u->ncalls; i++) {
		if (u->calls[i].omitted)
			st->skipped++;
		else if (u->calls[i].differ)
			st->differing++;
		else
			st->same++;
		st->calls += !u->calls[i].omitted;
	}
	st->diffs += u->diffs;
}

int
rp_run(const struct rp_opts *o, const struct rp_conn *c, struct rp_stats *st)
{
	struct run u = { .o = o, .c = c };
	const char *why;
	size_t i;
	int r = 0;

	if ((why = unplayable(c)) != NULL) {
		skip_conn(c, why, st);
		return 0;
	}
	if (dial(&u) < 0)
		return -1;
	for (i = 0; i < c->n && r == 0; i++) {
		if (c->r[i].client)
			r = send_rec(&u, &c->r[i]);
		else
			expect_rec(&u, &c->r[i]);
		if (u.lost && u.diffs > 0) {
			unanswered(&u);
			break;		/* the rest would be lost too */
		}
	}
	hang_up(&u);
	tally(&u, st);
	free(u.calls);
	return r < 0 ? -1 : 0;
}
