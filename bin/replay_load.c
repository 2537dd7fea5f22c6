/*
 * replay_load.c - a recording read whole and split into its
 * connections, each in recorded order.  Records come interleaved (every
 * process of a server appends to one file), so each is copied out.
 */
#include <stdlib.h>
#include <string.h>

#include "replay.h"

uint8_t
rp_type(const struct rp_rec *r)
{
	return r->hdr[2];
}

uint32_t
rp_id(const struct rp_rec *r)
{
	return (uint32_t)r->hdr[4] << 24 | (uint32_t)r->hdr[5] << 16 |
	    (uint32_t)r->hdr[6] << 8 | r->hdr[7];
}

/* The connection of e, made if new; NULL without memory. */
static struct rp_conn *
conn_of(struct rp_set *s, const struct dopy_recent *e)
{
	struct rp_conn *c;
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->c[i].pid == e->pid && s->c[i].conn == e->conn &&
		    s->c[i].side == e->side)
			return &s->c[i];
	if ((c = reallocarray(s->c, s->n + 1, sizeof(*c))) == NULL)
		return NULL;
	s->c = c;
	c = &c[s->n++];
	*c = (struct rp_conn){ .pid = e->pid, .conn = e->conn,
	    .side = e->side };
	return c;
}

static int
add(struct rp_set *s, const struct dopy_recent *e)
{
	struct rp_conn *c;
	struct rp_rec *r;

	if ((c = conn_of(s, e)) == NULL ||
	    (r = reallocarray(c->r, c->n + 1, sizeof(*r))) == NULL)
		return DOPY_E_NOMEM;
	c->r = r;
	r = &r[c->n];
	memcpy(r->hdr, e->hdr, DOPY_HDR_LEN);
	r->len = e->len;
	r->time_ns = e->time_ns;
	r->flags = e->flags;
	/* A server records what it reads, a client what it writes. */
	r->client = (e->side == 's' && e->dir == 'i') ||
	    (e->side == 'c' && e->dir == 'o');
	if ((r->payload = malloc(e->len > 0 ? e->len : 1)) == NULL)
		return DOPY_E_NOMEM;
	memcpy(r->payload, e->payload, e->len);
	c->n++;
	return 0;
}

int
rp_load(int fd, struct rp_set *s)
{
	struct dopy_recread *rr;
	struct dopy_recent e;
	size_t skipped;
	int r;

	memset(s, 0, sizeof(*s));
	if ((rr = dopy_recread_new(fd)) == NULL)
		return DOPY_E_NOMEM;
	while ((r = dopy_recread_next(rr, &e, &skipped)) == 1) {
		s->garbage += skipped;
		if ((r = add(s, &e)) < 0)
			break;
	}
	s->garbage += r == 0 ? skipped : 0;
	if (r == 0 && dopy_recread_state(rr) < 0)
		r = DOPY_E_INVAL;
	dopy_recread_free(rr);
	return r;
}

void
rp_free(struct rp_set *s)
{
	size_t i, j;

	for (i = 0; i < s->n; i++) {
		for (j = 0; j < s->c[i].n; j++)
			free(s->c[i].r[j].payload);
		free(s->c[i].r);
	}
	free(s->c);
	memset(s, 0, sizeof(*s));
}
