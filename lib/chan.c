/*
 * chan.c - a framed channel over a pair of descriptors.
 *
 * Reads are buffered (one read(2) usually brings a whole small frame);
 * each frame goes out in one write(2) from a buffer that holds the
 * header and the payload together.  SIGPIPE must be ignored by the
 * program (dopy_main and dopy_conn_* do it): a vanished peer is EPIPE.
 */
#include <errno.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define READ_CHUNK	65536

void
dopy_chan_init(struct dopy_chan *c, int in, int out)
{
	c->in = in;
	c->out = out;
	c->max_frame = DOPY_HELLO_MAX;
	dopy_buf_init(&c->rbuf);
	dopy_buf_init(&c->wbuf);
	c->bytes_in = c->bytes_out = 0;
	c->deadline = 0;
}

int64_t
dopy_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
dopy_chan_deadline(struct dopy_chan *c, int ms)
{
	c->deadline = ms > 0 ? dopy_now_ms() + ms : 0;
}

/* Wait until c->in is readable or the deadline passes. */
static int
wait_readable(struct dopy_chan *c)
{
	struct pollfd pfd = { c->in, POLLIN, 0 };
	int64_t left;
	int n;

	if (c->deadline == 0)
		return 0;
	for (;;) {
		if ((left = c->deadline - dopy_now_ms()) <= 0)
			return DOPY_E_TIMEOUT;
		n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return DOPY_E_SYS;
	}
}

void
dopy_chan_release(struct dopy_chan *c)
{
	dopy_buf_release(&c->rbuf);
	dopy_buf_release(&c->wbuf);
}

/* Read until at least need bytes are buffered.  0, or E_CLOSED at EOF. */
static int
fill(struct dopy_chan *c, size_t need)
{
	uint8_t *p;
	ssize_t n;
	size_t want;

	while (dopy_buf_avail(&c->rbuf) < need) {
		want = need - dopy_buf_avail(&c->rbuf);
		if (want < READ_CHUNK)
			want = READ_CHUNK;
		if ((p = dopy_buf_reserve(&c->rbuf, want)) == NULL)
			return DOPY_E_NOMEM;
		if ((n = wait_readable(c)) < 0)
			return (int)n;
		n = read(c->in, p, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return DOPY_E_SYS;
		if (n == 0)
			return DOPY_E_CLOSED;
		c->rbuf.len += (size_t)n;
		c->bytes_in += (uint64_t)n;
	}
	return 0;
}

int
dopy_chan_read(struct dopy_chan *c, struct dopy_frame *f)
{
	const uint8_t *hdr;
	int r;

	if ((r = fill(c, DOPY_HDR_LEN)) < 0) {
		if (r == DOPY_E_CLOSED && dopy_buf_avail(&c->rbuf) > 0)
			return DOPY_E_PROTO;	/* EOF inside a header */
		return r;
	}
	hdr = c->rbuf.data + c->rbuf.off;
	if ((r = dopy_frame_decode(hdr, c->max_frame, f)) < 0)
		return r;
	if ((r = fill(c, DOPY_HDR_LEN + (size_t)f->len)) < 0)
		return r == DOPY_E_CLOSED ? DOPY_E_PROTO : r;
	f->payload = c->rbuf.data + c->rbuf.off + DOPY_HDR_LEN;
	/* The bytes stay in place until the next fill(): the payload is
	 * valid until the next read. */
	dopy_buf_consume(&c->rbuf, DOPY_HDR_LEN + (size_t)f->len);
	return 0;
}

void
dopy_chan_begin(struct dopy_chan *c)
{
	dopy_buf_reset(&c->wbuf);
	if (dopy_buf_reserve(&c->wbuf, DOPY_HDR_LEN) != NULL)
		c->wbuf.len = DOPY_HDR_LEN;
}

int
dopy_chan_send(struct dopy_chan *c, uint8_t type, uint32_t id)
{
	size_t len, done;
	ssize_t n;

	if (c->wbuf.len < DOPY_HDR_LEN)
		return DOPY_E_NOMEM;	/* begin() could not reserve */
	len = c->wbuf.len - DOPY_HDR_LEN;
	if (len > c->max_frame)
		return DOPY_E_TOOBIG;
	dopy_frame_encode(c->wbuf.data, type, id, (uint32_t)len);
	for (done = 0; done < c->wbuf.len; done += (size_t)n) {
		n = write(c->out, c->wbuf.data + done, c->wbuf.len - done);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n < 0)
			return errno == EPIPE ? DOPY_E_CLOSED : DOPY_E_SYS;
	}
	c->bytes_out += done;
	return 0;
}
