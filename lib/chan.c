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
#include <fcntl.h>
#include <sys/socket.h>
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
	c->drain = NULL;
	c->drain_arg = NULL;
	c->out_sock = 0;

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

/* Wait until c->in is readable or the deadline passes (none: forever,
 * which a blocking fd does by itself, a non-blocking one here). */
static int
wait_readable(struct dopy_chan *c, int force)
{
	struct pollfd pfd = { c->in, POLLIN, 0 };
	int64_t left = 0;
	int n;

	if (c->deadline == 0 && !force)
		return 0;
	for (;;) {
		if (c->deadline != 0 &&
		    (left = c->deadline - dopy_now_ms()) <= 0)
			return DOPY_E_TIMEOUT;
		n = poll(&pfd, 1, c->deadline == 0 ? -1 :
		    left > 60000 ? 60000 : (int)left);
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
		if ((n = wait_readable(c, 0)) < 0)
			return (int)n;
		n = read(c->in, p, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if ((n = wait_readable(c, 1)) < 0)
				return (int)n;
			continue;
		}
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
dopy_chan_nonblocking_writes(struct dopy_chan *c)
{
	int type, fl;
	socklen_t len = sizeof(type);

	if (getsockopt(c->out, SOL_SOCKET, SO_TYPE, &type, &len) == 0) {
		c->out_sock = 1;
		return 0;
	}
	if (c->out == c->in || (fl = fcntl(c->out, F_GETFL)) < 0 ||
	    fcntl(c->out, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	return 0;
}

/* The read side may block; take only what is there now. */
int
dopy_chan_take_input(struct dopy_chan *c, int wait)
{
	uint8_t *p;
	ssize_t n;

	if ((p = dopy_buf_reserve(&c->rbuf, READ_CHUNK)) == NULL)
		return DOPY_E_NOMEM;
	if (wait)
		n = read(c->in, p, READ_CHUNK);
	else if (c->in == c->out && c->out_sock)
		n = recv(c->in, p, READ_CHUNK, MSG_DONTWAIT);
	else {
		struct pollfd pfd = { c->in, POLLIN, 0 };

		if (poll(&pfd, 1, 0) <= 0)
			return 0;
		n = read(c->in, p, READ_CHUNK);
	}
	if (n > 0) {
		c->rbuf.len += (size_t)n;
		c->bytes_in += (uint64_t)n;
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		return DOPY_E_SYS;
	return n == 0 ? DOPY_E_CLOSED : 0;
}

/* A write would block: wait for room, letting the drain hook take in
 * what the peer sends meanwhile. */
static int
wait_writable(struct dopy_chan *c)
{
	struct pollfd pfd[2] = { { c->out, POLLOUT, 0 }, { c->in, POLLIN, 0 } };
	nfds_t nfds = c->drain != NULL && c->in != c->out ? 2 : 1;
	int n;

	if (c->drain != NULL && c->in == c->out)
		pfd[0].events |= POLLIN;	/* one socket, both ways */
	/* The drain may find the read side taken by another thread, which
	 * reads for us; look again now and then. */
	if ((n = poll(pfd, nfds, c->drain != NULL ? 50 : -1)) < 0 &&
	    errno != EINTR)
		return DOPY_E_SYS;
	if (c->drain != NULL && (pfd[nfds - 1].revents & (POLLIN | POLLHUP)))
		c->drain(c->drain_arg);
	return 0;
}

int
dopy_chan_write(struct dopy_chan *c, const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t done;
	ssize_t n;
	int r;

	for (done = 0; done < len; done += (size_t)n) {
		if (c->out_sock)
			n = send(c->out, b + done, len - done,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			n = write(c->out, b + done, len - done);
		if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
			if (errno == EAGAIN && (r = wait_writable(c)) < 0)
				return r;
			n = 0;
			continue;
		}
		if (n < 0)
			return errno == EPIPE ? DOPY_E_CLOSED : DOPY_E_SYS;
	}
	c->bytes_out += done;
	return 0;
}

int
dopy_chan_send(struct dopy_chan *c, uint8_t type, uint32_t id)
{
	size_t len;

	if (c->wbuf.len < DOPY_HDR_LEN)
		return DOPY_E_NOMEM;	/* begin() could not reserve */
	len = c->wbuf.len - DOPY_HDR_LEN;
	if (len > c->max_frame)
		return DOPY_E_TOOBIG;
	dopy_frame_encode(c->wbuf.data, type, id, (uint32_t)len);
	return dopy_chan_write(c, c->wbuf.data, c->wbuf.len);
}
