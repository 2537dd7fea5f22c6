/*
 * chan.c - a framed channel over a pair of descriptors.
 *
 * Reads are buffered (one read(2) usually brings a whole small frame);
 * each frame goes out in one write(2) from a buffer that holds the
 * header and the payload together.  SIGPIPE must be ignored by the
 * program (dopy_main and dopy_conn_* do it): a vanished peer is EPIPE.
 *
 * Large frames are not copied more than they must be: their payload is
 * read into a block of its own, which a bytes value decoded from it can
 * keep (codec.c), and large byte strings go out by reference, the frame
 * in one writev(2) of the buffer's pieces and the strings.
 */
#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "wire/wire.h"

#define READ_CHUNK	65536
#define BIG_FRAME	(256u * 1024)	/* read into a block of its own */

void
dopy_chan_init(struct dopy_chan *c, int in, int out)
{
	c->in = in;
	c->out = out;
	c->max_frame = DOPY_HELLO_MAX;
	dopy_buf_init(&c->rbuf);
	dopy_buf_init(&c->wbuf);
	dopy_buf_init(&c->big);
	c->bytes_in = c->bytes_out = 0;
	c->deadline = 0;
	c->drain = NULL;
	c->drain_arg = NULL;
	c->out_sock = 0;
	c->big_open = 0;
	c->send_ms = 0;
	c->stalled = 0;
	c->tap = NULL;
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
	free(dopy_buf_take(&c->big));
}

/* One read of at most want bytes into p, by the deadline: the count,
 * or E_CLOSED at EOF. */
static ssize_t
read_some(struct dopy_chan *c, uint8_t *p, size_t want)
{
	ssize_t n;

	for (;;) {
		if ((n = wait_readable(c, 0)) < 0)
			return n;
		if ((n = read(c->in, p, want)) > 0) {
			c->bytes_in += (uint64_t)n;
			return n;
		}
		if (n == 0)
			return DOPY_E_CLOSED;
		if (errno == EAGAIN) {
			if ((n = wait_readable(c, 1)) < 0)
				return n;
		} else if (errno != EINTR)
			return DOPY_E_SYS;
	}
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
		if ((n = read_some(c, p, want)) < 0)
			return (int)n;
		c->rbuf.len += (size_t)n;
	}
	return 0;
}

/*
 * A large frame is assembled in c->big: once its header is buffered it
 * is taken off rbuf, the payload bytes buffered so far move to the block
 * and the rest is read straight into it (by dopy_chan_read, or a piece
 * at a time by dopy_chan_take_input).  One byte more than the payload is
 * allocated: a bytes value keeping the block puts its NUL there.
 */

/* The last large frame's block, unless a value kept it (and took it:
 * a buffer without data is as new). */
static void
big_drop(struct dopy_chan *c)
{
	if (c->big.data != NULL)
		free(dopy_buf_take(&c->big));
}

/* If rbuf starts with a large frame's header, open its block.  A bad
 * header is left for dopy_chan_read to report. */
static int
big_open(struct dopy_chan *c)
{
	struct dopy_buf *b = &c->big;
	struct dopy_frame f;
	size_t have = dopy_buf_avail(&c->rbuf);
	uint32_t len;

	/* Every header comes here: peek, and decode only a large one. */
	if (c->big_open || have < DOPY_HDR_LEN || dopy_frame_peek(
	    c->rbuf.data + c->rbuf.off, c->max_frame, &len) < 0 ||
	    len < BIG_FRAME)
		return 0;
	(void)dopy_frame_decode(c->rbuf.data + c->rbuf.off, c->max_frame,
	    &f);			/* good: peek said so */
	big_drop(c);
	if ((b->data = dopy_alloc_large((size_t)f.len + 1)) == NULL)
		return DOPY_E_NOMEM;
	b->cap = (size_t)f.len + 1;
	dopy_buf_consume(&c->rbuf, DOPY_HDR_LEN);
	if ((have -= DOPY_HDR_LEN) > f.len)
		have = f.len;
	memcpy(b->data, c->rbuf.data + c->rbuf.off, have);
	dopy_buf_consume(&c->rbuf, have);
	b->len = have;
	c->bigf = f;
	c->big_open = 1;
	return 0;
}

/* The rest of the open large frame, then the frame. */
static int
big_finish(struct dopy_chan *c, struct dopy_frame *f)
{
	struct dopy_buf *b = &c->big;
	ssize_t n;

	for (; b->len < c->bigf.len; b->len += (size_t)n)
		if ((n = read_some(c, b->data + b->len,
		    c->bigf.len - b->len)) < 0)
			return n == DOPY_E_CLOSED ? DOPY_E_PROTO : (int)n;
	c->big_open = 0;
	*f = c->bigf;
	f->payload = b->data;
	f->lend = b;
	return 0;
}

static int read_frame(struct dopy_chan *, struct dopy_frame *);

int
dopy_chan_read(struct dopy_chan *c, struct dopy_frame *f)
{
	uint8_t hdr[DOPY_HDR_LEN];
	struct iovec iov;
	int r;

	if ((r = read_frame(c, f)) < 0 || c->tap == NULL)
		return r;
	dopy_frame_encode(hdr, f->type, f->id, f->len);
	dopy_frame_set_flags(hdr, f->flags);
	iov.iov_base = (void *)f->payload;
	iov.iov_len = f->len;
	c->tap->frame(c->tap, 0, hdr, &iov, f->len > 0);
	return 0;
}

static int
read_frame(struct dopy_chan *c, struct dopy_frame *f)
{
	const uint8_t *hdr;
	int r;

	if (c->stalled)
		return DOPY_E_CLOSED;
	/* take_input may have opened one; a header already buffered is
	 * opened below, once decoded. */
	if (c->big_open)
		return big_finish(c, f);
	if ((r = fill(c, DOPY_HDR_LEN)) < 0) {
		if (r == DOPY_E_CLOSED && dopy_buf_avail(&c->rbuf) > 0)
			return DOPY_E_PROTO;	/* EOF inside a header */
		return r;
	}
	hdr = c->rbuf.data + c->rbuf.off;
	if ((r = dopy_frame_decode(hdr, c->max_frame, f)) < 0)
		return r;
	if (f->len >= BIG_FRAME && (r = big_open(c)) < 0)
		return r;
	if (c->big_open)
		return big_finish(c, f);
	big_drop(c);
	if ((r = fill(c, DOPY_HDR_LEN + (size_t)f->len)) < 0)
		return r == DOPY_E_CLOSED ? DOPY_E_PROTO : r;
	f->payload = c->rbuf.data + c->rbuf.off + DOPY_HDR_LEN;
	f->lend = NULL;
	/* The bytes stay in place until the next fill(): the payload is
	 * valid until the next read. */
	dopy_buf_consume(&c->rbuf, DOPY_HDR_LEN + (size_t)f->len);
	return 0;
}

int
dopy_chan_frame_ready(const struct dopy_chan *c)
{
	size_t avail = dopy_buf_avail(&c->rbuf);
	uint32_t len;

	if (c->big_open)
		return c->big.len >= c->bigf.len;
	if (avail < DOPY_HDR_LEN)
		return 0;
	if (dopy_frame_peek(c->rbuf.data + c->rbuf.off, c->max_frame,
	    &len) < 0)
		return 1;
	/* A large frame is read into its block (take_input opens it). */
	return len < BIG_FRAME && avail - DOPY_HDR_LEN >= len;
}

void
dopy_chan_begin(struct dopy_chan *c)
{
	dopy_buf_reset(&c->wbuf);
	dopy_buf_allow_refs(&c->wbuf);
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

/* Only a socket (MSG_DONTWAIT) or a pipe of our own: O_NONBLOCK on a
 * terminal would be left to the shell after us. */
int
dopy_chan_send_deadline(struct dopy_chan *c, int ms)
{
	struct stat st;

	if (ms <= 0)
		return 0;
	if (fstat(c->out, &st) != 0 || !(S_ISSOCK(st.st_mode) ||
	    S_ISFIFO(st.st_mode)) || dopy_chan_nonblocking_writes(c) < 0)
		return -1;
	/* A non-blocking writer wakes each time a pipe has any room, and
	 * a 64 KiB pipe took a large reply in some 4 KiB writes; a larger
	 * pipe (best effort: up to pipe-max-size) takes most in one. */
	if (S_ISFIFO(st.st_mode))
		(void)fcntl(c->out, F_SETPIPE_SZ, DOPY_PIPE_SIZE);
	c->send_ms = ms;
	return 0;
}

/* The read side may block; take only what is there now. */
int
dopy_chan_take_input(struct dopy_chan *c, int wait)
{
	struct dopy_buf *b = &c->rbuf;
	size_t want = READ_CHUNK;
	ssize_t n;
	int r;

	if (c->stalled)
		return DOPY_E_CLOSED;
	if ((r = big_open(c)) < 0)
		return r;
	if (c->big_open && c->big.len < c->bigf.len) {
		b = &c->big;
		want = c->bigf.len - c->big.len;
	} else if (dopy_buf_reserve(b, want) == NULL)
		return DOPY_E_NOMEM;
	if (wait)
		n = read(c->in, b->data + b->len, want);
	else if (c->in == c->out && c->out_sock)
		n = recv(c->in, b->data + b->len, want, MSG_DONTWAIT);
	else {
		struct pollfd pfd = { c->in, POLLIN, 0 };

		if (poll(&pfd, 1, 0) <= 0)
			return 0;
		n = read(c->in, b->data + b->len, want);
	}
	if (n > 0) {
		b->len += (size_t)n;
		c->bytes_in += (uint64_t)n;
		return big_open(c);
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		return DOPY_E_SYS;
	if (n < 0)
		return 0;
	/* EOF: inside a frame (a large one lives in its own block, not in
	 * rbuf) the framing is broken, dopy(5). */
	return c->big_open || dopy_buf_avail(&c->rbuf) > 0 ? DOPY_E_PROTO :
	    DOPY_E_CLOSED;
}

/* A write would block: wait for room until the deadline (0: none),
 * letting the drain hook take in what the peer sends meanwhile. */
static int
wait_writable(struct dopy_chan *c, int64_t until)
{
	struct pollfd pfd[2] = { { c->out, POLLOUT, 0 }, { c->in, POLLIN, 0 } };
	nfds_t nfds = c->drain != NULL && c->in != c->out ? 2 : 1;
	int64_t left = until != 0 ? until - dopy_now_ms() : -1;
	int n;

	if (until != 0 && left <= 0)
		return DOPY_E_TIMEOUT;
	if (c->drain != NULL && c->in == c->out)
		pfd[0].events |= POLLIN;	/* one socket, both ways */
	/* The drain may find the read side taken by another thread, which
	 * reads for us; look again now and then. */
	if (c->drain != NULL && (left < 0 || left > 50))
		left = 50;
	if ((n = poll(pfd, nfds, left > 60000 ? 60000 : (int)left)) < 0 &&
	    errno != EINTR)
		return DOPY_E_SYS;
	if (c->drain != NULL && (pfd[nfds - 1].revents & (POLLIN | POLLHUP)))
		c->drain(c->drain_arg);
	return 0;
}

/* One write of the pieces; a single one goes out with write(2) or
 * send(2), as small frames always do. */
static ssize_t
write_once(struct dopy_chan *c, const struct iovec *iov, int cnt)
{
	struct msghdr mh;

	if (c->out_sock && cnt == 1)
		return send(c->out, iov->iov_base, iov->iov_len,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
	if (c->out_sock) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = (struct iovec *)iov;
		mh.msg_iovlen = (size_t)cnt;
		return sendmsg(c->out, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	if (cnt == 1)
		return write(c->out, iov->iov_base, iov->iov_len);
	return writev(c->out, iov, cnt);
}

/* Past the deadline a frame may be half out: nothing more can go. */
static int
stall(struct dopy_chan *c)
{
	c->stalled = 1;
	return DOPY_E_TIMEOUT;
}

/* The clock is read only once a write would block, so a call whose
 * answer fits costs no more than its write(2). */
static int
write_iov(struct dopy_chan *c, struct iovec *iov, int cnt)
{
	int64_t until = 0;
	ssize_t n;
	int r;

	if (c->stalled)
		return DOPY_E_TIMEOUT;
	while (cnt > 0) {
		if ((n = write_once(c, iov, cnt)) < 0) {
			if (errno == EAGAIN) {
				if (until == 0 && c->send_ms > 0)
					until = dopy_now_ms() + c->send_ms;
				if ((r = wait_writable(c, until)) < 0)
					return r == DOPY_E_TIMEOUT ? stall(c) :
					    r;
			} else if (errno != EINTR)
				return errno == EPIPE ? DOPY_E_CLOSED :
				    DOPY_E_SYS;
			continue;
		}
		until = 0;		/* the peer is reading: a new wait */
		c->bytes_out += (uint64_t)n;
		for (; cnt > 0 && (size_t)n >= iov->iov_len; iov++, cnt--)
			n -= (ssize_t)iov->iov_len;
		if (cnt > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

int
dopy_chan_write(struct dopy_chan *c, const void *p, size_t len)
{
	struct iovec iov = { (void *)p, len };

	if (c->tap != NULL)
		dopy_tap_frames(c->tap, &iov, len > 0);
	return write_iov(c, &iov, len > 0);
}

/* Add a piece of len bytes unless empty; returns the new count. */
static int
piece(struct iovec *iov, int cnt, const void *p, size_t len)
{
	if (len == 0)
		return cnt;
	iov[cnt].iov_base = (void *)p;
	iov[cnt].iov_len = len;
	return cnt + 1;
}

int
dopy_chan_flush(struct dopy_chan *c)
{
	struct dopy_buf *b = &c->wbuf;
	struct iovec iov[2 * DOPY_BUF_REFS + 1];
	size_t i, at = 0;
	int cnt = 0, r;

	for (i = 0; i < b->nrefs; i++) {
		cnt = piece(iov, cnt, b->data + at, b->ref[i].at - at);
		cnt = piece(iov, cnt, b->ref[i].p, b->ref[i].len);
		at = b->ref[i].at;
	}
	cnt = piece(iov, cnt, b->data + at, b->len - at);
	if (c->tap != NULL)
		dopy_tap_frames(c->tap, iov, cnt);
	r = write_iov(c, iov, cnt);
	/* What they point to is the caller's, and may go now. */
	b->nrefs = 0;
	return r;
}

int
dopy_chan_send_flags(struct dopy_chan *c, uint8_t type, uint8_t flags,
    uint32_t id)
{
	size_t len;

	if (c->wbuf.len < DOPY_HDR_LEN)
		return DOPY_E_NOMEM;	/* begin() could not reserve */
	len = dopy_buf_size(&c->wbuf, DOPY_HDR_LEN);
	if (len > c->max_frame) {
		c->wbuf.nrefs = 0;
		return DOPY_E_TOOBIG;
	}
	dopy_frame_encode(c->wbuf.data, type, id, (uint32_t)len);
	if (flags != 0)
		dopy_frame_set_flags(c->wbuf.data, flags);
	return dopy_chan_flush(c);
}
