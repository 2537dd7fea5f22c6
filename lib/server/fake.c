/*
 * fake.c - a server that answers from a recording (dopyd -F,
 * dopy_server_fake()): a stand-in for a server that is not there, or
 * must not be called, in a client's tests.
 *
 * The recording is read once, at start: each recorded CALL is keyed by
 * its call header, argument names and argument images (not its
 * deadline, which differs from run to run), and keeps every answer it
 * got (ITEMs, then the REPLY or ERROR), in recorded order.  All
 * connections of the recording are one pool.  A call is answered with
 * the next of its answers, the last one again once they are used up;
 * the count is per process, so per connection under a listener that
 * forks.  Callbacks are not played: a recorded call that made them is
 * answered with its recorded answer alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/server.h"

struct fake_frame {
	uint8_t		 type, flags;
	size_t		 len;
	uint8_t		*payload;
};
struct fake_answer {
	struct fake_frame *f;
	size_t		 n;
	int		 done;		/* its REPLY or ERROR is in */
};
struct fake_call {
	uint8_t		*key;		/* the payload after the deadline */
	size_t		 keylen;
	struct fake_answer *ans;
	size_t		 nans, used;
};
/* A recorded call whose answer is still being read. */
struct fake_wait {
	uint32_t	 pid, conn, id;
	char		 side;
	size_t		 call, ans;
};
struct dopy_fake {
	struct fake_call *calls;
	size_t		 ncalls;
	struct fake_wait *wait;
	size_t		 nwait;
};

static void
fake_free(void *p)
{
	struct dopy_fake *k = p;
	size_t i, j, m;

	for (i = 0; i < k->ncalls; i++) {
		for (j = 0; j < k->calls[i].nans; j++) {
			for (m = 0; m < k->calls[i].ans[j].n; m++)
				free(k->calls[i].ans[j].f[m].payload);
			free(k->calls[i].ans[j].f);
		}
		free(k->calls[i].ans);
		free(k->calls[i].key);
	}
	free(k->calls);
	free(k->wait);
	free(k);
}

static uint32_t
rec_id(const struct dopy_recent *e)
{
	return (uint32_t)e->hdr[4] << 24 | (uint32_t)e->hdr[5] << 16 |
	    (uint32_t)e->hdr[6] << 8 | e->hdr[7];
}

/* Which side sent the frame: a server records what it reads, a client
 * what it writes. */
static int
from_client(const struct dopy_recent *e)
{
	return (e->side == 's' && e->dir == 'i') ||
	    (e->side == 'c' && e->dir == 'o');
}

static struct fake_call *
find_call(struct dopy_fake *k, const uint8_t *key, size_t len)
{
	size_t i;

	for (i = 0; i < k->ncalls; i++)
		if (k->calls[i].keylen == len &&
		    memcmp(k->calls[i].key, key, len) == 0)
			return &k->calls[i];
	return NULL;
}

/* The call of this key, made if new; NULL without memory. */
static struct fake_call *
add_call(struct dopy_fake *k, const uint8_t *key, size_t len)
{
	struct fake_call *c, *v;

	if ((c = find_call(k, key, len)) != NULL)
		return c;
	if ((v = reallocarray(k->calls, k->ncalls + 1, sizeof(*v))) == NULL)
		return NULL;
	k->calls = v;
	c = &v[k->ncalls];
	memset(c, 0, sizeof(*c));
	if ((c->key = malloc(len > 0 ? len : 1)) == NULL)
		return NULL;
	memcpy(c->key, key, len);
	c->keylen = len;
	k->ncalls++;
	return c;
}

static struct fake_wait *
find_wait(struct dopy_fake *k, const struct dopy_recent *e)
{
	uint32_t id = rec_id(e);
	size_t i;

	for (i = 0; i < k->nwait; i++)
		if (k->wait[i].id == id && k->wait[i].pid == e->pid &&
		    k->wait[i].conn == e->conn && k->wait[i].side == e->side)
			return &k->wait[i];
	return NULL;
}

/* A recorded CALL: a new answer slot, awaited on its connection.
 * Calls recorded without their arguments (-W) cannot be matched. */
static int
load_call(struct dopy_fake *k, const struct dopy_recent *e)
{
	struct fake_answer *a;
	struct fake_wait *w;
	struct fake_call *c;
	size_t skip;

	if ((e->flags & (DOPY_REC_OMIT | DOPY_REC_CUT)) != 0 ||
	    dopy_msg_call_body(e->payload, e->len, e->hdr[3], &skip) < 0)
		return 0;
	if ((c = add_call(k, e->payload + skip, e->len - skip)) == NULL ||
	    (a = reallocarray(c->ans, c->nans + 1, sizeof(*a))) == NULL)
		return DOPY_E_NOMEM;
	c->ans = a;
	memset(&a[c->nans], 0, sizeof(*a));
	if ((w = find_wait(k, e)) == NULL) {
		if ((w = reallocarray(k->wait, k->nwait + 1,
		    sizeof(*w))) == NULL)
			return DOPY_E_NOMEM;
		k->wait = w;
		w = &w[k->nwait++];
	}
	*w = (struct fake_wait){ e->pid, e->conn, rec_id(e), e->side,
	    (size_t)(c - k->calls), c->nans++ };
	return 0;
}

/* An ITEM, REPLY or ERROR of an awaited call joins its answer; an
 * answer whose payload was left out or cut is never done, so unused. */
static int
load_answer(struct dopy_fake *k, const struct dopy_recent *e)
{
	struct fake_wait *w = find_wait(k, e);
	struct fake_answer *a;
	struct fake_frame *f;

	if (w == NULL)
		return 0;
	a = &k->calls[w->call].ans[w->ans];
	if ((e->flags & (DOPY_REC_OMIT | DOPY_REC_CUT)) == 0) {
		if ((f = reallocarray(a->f, a->n + 1, sizeof(*f))) == NULL)
			return DOPY_E_NOMEM;
		a->f = f;
		f = &f[a->n];
		*f = (struct fake_frame){ e->hdr[2], e->hdr[3], e->len,
		    malloc(e->len > 0 ? e->len : 1) };
		if (f->payload == NULL)
			return DOPY_E_NOMEM;
		memcpy(f->payload, e->payload, e->len);
		a->n++;
		a->done = e->hdr[2] != DOPY_F_ITEM;
	}
	if (e->hdr[2] != DOPY_F_ITEM)		/* the call is over */
		*w = k->wait[--k->nwait];
	return 0;
}

static int
load_record(struct dopy_fake *k, const struct dopy_recent *e)
{
	uint8_t type = e->hdr[2];

	if (from_client(e))
		return type == DOPY_F_CALL ? load_call(k, e) : 0;
	if (type == DOPY_F_ITEM || type == DOPY_F_REPLY ||
	    type == DOPY_F_ERROR)
		return load_answer(k, e);
	return 0;		/* HELLO, PROGRESS, CALLBACK: not played */
}

/* Answers cut short (the connection ended first) are dropped, so that
 * only whole ones are ever sent. */
static void
drop_unfinished(struct dopy_fake *k)
{
	struct fake_call *c;
	size_t i, j, n, m;

	for (i = 0; i < k->ncalls; i++) {
		c = &k->calls[i];
		for (j = n = 0; j < c->nans; j++) {
			if (c->ans[j].done) {
				c->ans[n++] = c->ans[j];
				continue;
			}
			for (m = 0; m < c->ans[j].n; m++)
				free(c->ans[j].f[m].payload);
			free(c->ans[j].f);
		}
		c->nans = n;
	}
}

static int
load(struct dopy_fake *k, int fd)
{
	struct dopy_recread *rr;
	struct dopy_recent e;
	size_t skipped;
	int r;

	if ((rr = dopy_recread_new(fd)) == NULL)
		return DOPY_E_NOMEM;
	while ((r = dopy_recread_next(rr, &e, &skipped)) == 1)
		if ((r = load_record(k, &e)) < 0)
			break;
	/* Not a recording at all: a mistake to tell at start. */
	if (r == 0 && dopy_recread_state(rr) < 0)
		r = DOPY_E_INVAL;
	dopy_recread_free(rr);
	drop_unfinished(k);
	return r;
}

int
dopy_server_fake(dopy_server *s, const char *path)
{
	struct dopy_fake *k;
	int fd, r;

	if (s == NULL || path == NULL)
		return DOPY_E_INVAL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return DOPY_E_SYS;
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		close(fd);
		return DOPY_E_NOMEM;
	}
	r = load(k, fd);
	close(fd);
	if (r < 0) {
		fake_free(k);
		return r;
	}
	if ((r = dopy_server_own(s, k, fake_free)) < 0)
		return r;		/* freed by own */
	s->fake = k;
	return 0;
}

int
dopy_fake_takes(const dopy_server *s, uint8_t type)
{
	return s->fake != NULL && (type == DOPY_F_CALL ||
	    type == DOPY_F_ONEWAY || type == DOPY_F_ITEM ||
	    type == DOPY_F_CANCEL || type == DOPY_F_RELEASE);
}

/* dopy.Unrecorded, naming the call when its header reads. */
static int
unrecorded(struct dopy_session *c, const struct dopy_frame *f, size_t skip)
{
	struct dopy_callmsg m;
	dopy_error *e = NULL;
	char err[80];
	int ok, r;

	ok = dopy_msg_call_get(f->payload + skip, f->len - skip, &m, err,
	    sizeof(err)) == 0;
	dopy_error_set(&e, DOPY_E_REMOTE, "no recorded answer for %s.%s "
	    "with these arguments", ok ? m.object : "?", ok ? m.method : "?");
	if (e == NULL || (r = dopy_error_set_fields(e, "dopy.Unrecorded",
	    ok ? m.object : "", ok ? m.method : "", c->srv->host,
	    c->srv->pid)) < 0)
		r = DOPY_E_NOMEM;
	if (ok)
		dopy_msg_call_release(&m);
	if (r == 0) {
		dopy_chan_begin(&c->ch);
		if ((r = dopy_msg_error_put(&c->ch.wbuf, e)) == 0)
			r = dopy_session_send(c, DOPY_F_ERROR, f->id);
	}
	dopy_error_free(e);
	return r;
}

static int
play(struct dopy_session *c, const struct fake_answer *a, uint32_t id)
{
	size_t i;
	int r = 0;

	for (i = 0; i < a->n && r == 0; i++) {
		dopy_chan_begin(&c->ch);
		if ((r = dopy_buf_put(&c->ch.wbuf, a->f[i].payload,
		    a->f[i].len)) == 0)
			r = dopy_chan_send_flags(&c->ch, a->f[i].type,
			    a->f[i].flags, id);
	}
	return r;
}

/*
 * Only a CALL is answered.  A ONEWAY wants nothing; an upload's items
 * are not compared (its CALL was answered at once, as a server that
 * refuses one does); a CANCEL comes after the answer; a RELEASE finds
 * no object.
 */
int
dopy_fake_frame(struct dopy_session *c, const struct dopy_frame *f)
{
	struct fake_call *k;
	size_t skip;

	if (f->type != DOPY_F_CALL)
		return 0;
	c->calls++;
	c->srv->ncalls++;
	if (dopy_msg_call_body(f->payload, f->len, f->flags, &skip) < 0)
		skip = 0;
	k = find_call(c->srv->fake, f->payload + skip, f->len - skip);
	if (k == NULL || k->nans == 0)
		return unrecorded(c, f, skip);
	return play(c, &k->ans[k->used < k->nans ? k->used++ : k->nans - 1],
	    f->id);
}
