/*
 * recread.c - reading a recording (rec.c) record by record, from a
 * file or a pipe.  A recording may end in a torn record (a crash), hold
 * one cut short by a full disk, or be anything at all: what fails its
 * check is passed over, byte by byte, until a record checks again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wire/wire.h"

struct dopy_recread {
	int		 fd;
	int		 eof;
	int		 started;	/* the file header was looked for */
	int		 state;		/* its state byte, or -1 */
	struct dopy_buf	 b;
};

struct dopy_recread *
dopy_recread_new(int fd)
{
	struct dopy_recread *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->fd = fd;
	r->state = -1;
	dopy_buf_init(&r->b);
	return r;
}

void
dopy_recread_free(struct dopy_recread *r)
{
	if (r == NULL)
		return;
	dopy_buf_release(&r->b);
	free(r);
}

int
dopy_recread_unread(struct dopy_recread *r, const void *p, size_t n)
{
	if (r->started || dopy_buf_avail(&r->b) > 0)
		return DOPY_E_INVAL;
	return dopy_buf_put(&r->b, p, n) < 0 ? DOPY_E_NOMEM : 0;
}

int
dopy_recread_state(const struct dopy_recread *r)
{
	return r->state;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* At least n bytes buffered, or the end: 0, or DOPY_E_*. */
static int
want(struct dopy_recread *r, size_t n)
{
	uint8_t *p;
	ssize_t k;

	if (r->b.off > 0 && r->b.off == r->b.len)
		r->b.off = r->b.len = 0;
	while (!r->eof && dopy_buf_avail(&r->b) < n) {
		if (r->b.off > (1u << 20)) {	/* keep the block small */
			memmove(r->b.data, r->b.data + r->b.off,
			    dopy_buf_avail(&r->b));
			r->b.len -= r->b.off;
			r->b.off = 0;
		}
		if ((p = dopy_buf_reserve(&r->b, 65536)) == NULL)
			return DOPY_E_NOMEM;
		if ((k = read(r->fd, p, 65536)) < 0) {
			if (errno == EINTR)
				continue;
			return DOPY_E_SYS;
		}
		r->b.len += (size_t)k;
		r->eof = k == 0;
	}
	return 0;
}

/* Whether the n bytes at p are a whole record that checks. */
static int
whole(const uint8_t *p, size_t n)
{
	struct iovec iov = { (void *)(p + DOPY_REC_HDR), n - DOPY_REC_HDR };
	uint8_t sum[16];

	dopy_rec_check(p, &iov, 1, sum);
	return p[24] != 0 && p[25] != 0 && p[27] == 0 &&
	    p[48] == DOPY_MAGIC0 && p[49] == DOPY_MAGIC1 &&
	    memcmp(sum, p + 32, 16) == 0;
}

static void
fill_ent(const uint8_t *p, size_t n, struct dopy_recent *e)
{
	int i;

	e->seq = get32(p + 4);
	e->time_ns = 0;
	for (i = 0; i < 8; i++)
		e->time_ns = e->time_ns << 8 | p[8 + i];
	e->pid = get32(p + 16);
	e->conn = get32(p + 20);
	e->side = (char)p[24];
	e->dir = (char)p[25];
	e->flags = p[26];
	e->orig_len = get32(p + 28);
	e->hdr = p + DOPY_REC_HDR;
	e->payload = e->hdr + DOPY_HDR_LEN;
	e->len = n - DOPY_REC_HDR - DOPY_HDR_LEN;
}

/* The file header, when the input begins with one. */
static int
start(struct dopy_recread *r)
{
	int e;

	r->started = 1;
	if ((e = want(r, DOPY_REC_FILEHDR)) < 0)
		return e;
	if (dopy_buf_avail(&r->b) >= DOPY_REC_FILEHDR &&
	    memcmp(r->b.data + r->b.off, DOPY_REC_FILE_MAGIC, 8) == 0) {
		r->state = r->b.data[r->b.off + DOPY_REC_STATE_AT];
		dopy_buf_consume(&r->b, DOPY_REC_FILEHDR);
	}
	return 0;
}

int
dopy_recread_next(struct dopy_recread *r, struct dopy_recent *e,
    size_t *skipped)
{
	const uint8_t *p;
	size_t n;
	int err;

	*skipped = 0;
	if (!r->started && (err = start(r)) < 0)
		return err;
	for (;; dopy_buf_consume(&r->b, 1), ++*skipped) {
		if ((err = want(r, DOPY_REC_HDR + DOPY_HDR_LEN)) < 0)
			return err;
		if (dopy_buf_avail(&r->b) < DOPY_REC_HDR + DOPY_HDR_LEN) {
			*skipped += dopy_buf_avail(&r->b);
			dopy_buf_consume(&r->b, dopy_buf_avail(&r->b));
			return 0;
		}
		p = r->b.data + r->b.off;
		if (memcmp(p, "DREC", 4) != 0 ||
		    get32(p + DOPY_REC_HDR + 8) > DOPY_REC_MAX)
			continue;
		n = DOPY_REC_HDR + DOPY_HDR_LEN + get32(p + DOPY_REC_HDR + 8);
		if ((err = want(r, n)) < 0)
			return err;
		p = r->b.data + r->b.off;
		if (dopy_buf_avail(&r->b) < n || !whole(p, n))
			continue;
		fill_ent(p, n, e);
		dopy_buf_consume(&r->b, n);
		return 1;
	}
}
