/*
 * test_chan.c - lib/wire/chan.c: a framed channel over a pair of descriptors.
 * Frames arrive whole, in pieces, byte by byte, or not at all.
 */
#include <criterion/criterion.h>

#include "testutil.h"

/* Write bytes one at a time, with a pause, so the reader sees every
 * partial state. */
struct trickle {
	const uint8_t	*p;
	size_t		 len;
	size_t		 step;		/* bytes per write */
	int		 pause_us;
	int		 close_early;	/* stop after this many bytes (0: no) */
};

static int
trickle_child(void *arg, int fd)
{
	struct trickle *t = arg;
	size_t off, n, end = t->close_early ? (size_t)t->close_early : t->len;

	for (off = 0; off < end; off += n) {
		n = end - off < t->step ? end - off : t->step;
		if (tu_write_all(fd, t->p + off, n) < 0)
			return 1;
		if (t->pause_us > 0)
			usleep((useconds_t)t->pause_us);
	}
	close(fd);
	return 0;
}

static uint8_t *
make_frame(uint8_t type, uint32_t id, size_t plen, size_t *len)
{
	uint8_t *payload, *f;
	size_t i;

	cr_assert_not_null(payload = malloc(plen + 1));
	for (i = 0; i < plen; i++)
		payload[i] = (uint8_t)(i * 31 + 7);
	f = tu_frame(type, id, payload, plen, len);
	free(payload);
	cr_assert_not_null(f);
	return f;
}

static void
check_payload(const struct dopy_frame *f, size_t plen)
{
	size_t i;

	cr_assert_eq(f->len, plen);
	for (i = 0; i < plen; i++)
		if (f->payload[i] != (uint8_t)(i * 31 + 7))
			cr_assert_fail("payload byte %zu differs", i);
}

/* The frame from a trickling writer; returns the reads' results. */
static void
read_trickled(size_t plen, size_t step, int pause_us, uint32_t max)
{
	struct dopy_chan c;
	struct dopy_frame f;
	struct trickle t;
	uint8_t *frame;
	size_t len;
	pid_t pid;
	int fd;

	frame = make_frame(DOPY_F_CALL, 42, plen, &len);
	t = (struct trickle){ frame, len, step, pause_us, 0 };
	cr_assert_gt(pid = tu_fork(trickle_child, &t, &fd), 0);
	dopy_chan_init(&c, fd, fd);
	c.max_frame = max;
	cr_assert_eq(dopy_chan_read(&c, &f), 0);
	cr_assert_eq(f.type, DOPY_F_CALL);
	cr_assert_eq(f.id, 42);
	check_payload(&f, plen);
	cr_assert_eq(c.bytes_in, len);
	/* Then a clean EOF between frames. */
	cr_assert_eq(dopy_chan_read(&c, &f), DOPY_E_CLOSED);
	cr_assert_eq(tu_exit_code(tu_wait(pid, TU_WAIT_MS)), 0);
	dopy_chan_release(&c);
	close(fd);
	free(frame);
}

Test(chan, init_defaults)
{
	struct dopy_chan c;

	dopy_chan_init(&c, 3, 4);
	cr_assert_eq(c.in, 3);
	cr_assert_eq(c.out, 4);
	cr_assert_eq(c.max_frame, DOPY_HELLO_MAX);
	cr_assert_eq(c.deadline, 0);
	cr_assert_eq(c.bytes_in, 0);
	cr_assert_eq(c.bytes_out, 0);
	dopy_chan_release(&c);
}

Test(chan, whole_frame, .timeout = 10)
{
	read_trickled(100, 100000, 0, DOPY_HELLO_MAX);
}

Test(chan, empty_payload, .timeout = 10)
{
	read_trickled(0, 100, 0, DOPY_HELLO_MAX);
}

Test(chan, byte_by_byte, .timeout = 10)
{
	read_trickled(40, 1, 1000, DOPY_HELLO_MAX);
}

Test(chan, header_split_payload_split, .timeout = 10)
{
	read_trickled(200, 5, 2000, DOPY_HELLO_MAX);
}

/* More than one read chunk and more than a socket buffer holds. */
Test(chan, large_frame_many_writes, .timeout = 10)
{
	read_trickled(1000000, 7919, 0, 2000000);
}

Test(chan, frame_exactly_max, .timeout = 10)
{
	read_trickled(DOPY_HELLO_MAX, 1000, 0, DOPY_HELLO_MAX);
}

/* Write raw bytes, close, and read one frame. */
static int
read_raw(const void *p, size_t len, uint32_t max, struct dopy_frame *f,
    int nreads)
{
	struct dopy_chan c;
	int sv[2], r = 0, i;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	cr_assert_eq(tu_write_all(sv[1], p, len), 0);
	close(sv[1]);
	dopy_chan_init(&c, sv[0], sv[0]);
	c.max_frame = max;
	for (i = 0; i < nreads; i++)
		if ((r = dopy_chan_read(&c, f)) < 0)
			break;
	dopy_chan_release(&c);
	close(sv[0]);
	return r;
}

Test(chan, eof_at_start_is_closed, .timeout = 10)
{
	struct dopy_frame f;

	cr_assert_eq(read_raw("", 0, 4096, &f, 1), DOPY_E_CLOSED);
}

Test(chan, eof_between_frames_is_closed, .timeout = 10)
{
	struct dopy_frame f;
	uint8_t two[2 * DOPY_HDR_LEN + 5];

	dopy_frame_encode(two, DOPY_F_CALL, 1, 5);
	memcpy(two + DOPY_HDR_LEN, "abcde", 5);
	dopy_frame_encode(two + DOPY_HDR_LEN + 5, DOPY_F_CALL, 2, 0);
	cr_assert_eq(read_raw(two, sizeof(two), 4096, &f, 2), 0);
	cr_assert_eq(f.id, 2);
	cr_assert_eq(read_raw(two, sizeof(two), 4096, &f, 3), DOPY_E_CLOSED);
}

Test(chan, eof_mid_header_is_proto, .timeout = 10)
{
	struct dopy_frame f;
	uint8_t h[DOPY_HDR_LEN];
	size_t n;

	dopy_frame_encode(h, DOPY_F_CALL, 1, 0);
	for (n = 1; n < DOPY_HDR_LEN; n++)
		cr_assert_eq(read_raw(h, n, 4096, &f, 1), DOPY_E_PROTO,
		    "EOF after %zu header bytes", n);
}

Test(chan, eof_mid_payload_is_proto, .timeout = 10)
{
	struct dopy_frame f;
	uint8_t *frame;
	size_t len, n;

	frame = make_frame(DOPY_F_REPLY, 3, 50, &len);
	for (n = DOPY_HDR_LEN; n < len; n += 7)
		cr_assert_eq(read_raw(frame, n, 4096, &f, 1), DOPY_E_PROTO,
		    "EOF after %zu of %zu bytes", n, len);
	cr_assert_eq(read_raw(frame, len, 4096, &f, 1), 0);
	free(frame);
}

Test(chan, eof_mid_second_frame_is_proto, .timeout = 10)
{
	struct dopy_frame f;
	uint8_t buf[DOPY_HDR_LEN + 3];

	dopy_frame_encode(buf, DOPY_F_CALL, 1, 0);
	memcpy(buf + DOPY_HDR_LEN, "dp\x02", 3);
	cr_assert_eq(read_raw(buf, sizeof(buf), 4096, &f, 2), DOPY_E_PROTO);
}

Test(chan, length_over_max_is_toobig, .timeout = 10)
{
	struct dopy_frame f;
	uint8_t h[DOPY_HDR_LEN];

	dopy_frame_encode(h, DOPY_F_CALL, 1, 4097);
	cr_assert_eq(read_raw(h, sizeof(h), 4096, &f, 1), DOPY_E_TOOBIG);
	/* Checked before anything is read or reserved for it. */
	dopy_frame_encode(h, DOPY_F_CALL, 1, 0xffffffffu);
	cr_assert_eq(read_raw(h, sizeof(h), 4096, &f, 1), DOPY_E_TOOBIG);
	cr_assert_eq(read_raw(h, sizeof(h), 0xfffffffeu, &f, 1),
	    DOPY_E_TOOBIG);
}

Test(chan, bad_magic_is_proto, .timeout = 10)
{
	struct dopy_frame f;

	cr_assert_eq(read_raw("GET / HTTP/1.0\r\n\r\n", 18, 4096, &f, 1),
	    DOPY_E_PROTO);
	cr_assert_eq(read_raw("SSH-2.0-OpenSSH_9.2\r\n", 21, 4096, &f, 1),
	    DOPY_E_PROTO);
}

Test(chan, several_frames_in_one_write, .timeout = 10)
{
	struct dopy_chan c;
	struct dopy_frame f;
	struct dopy_buf all;
	uint8_t h[DOPY_HDR_LEN];
	char payload[32];
	int sv[2], i;

	dopy_buf_init(&all);
	for (i = 0; i < 20; i++) {
		snprintf(payload, sizeof(payload), "frame number %d", i);
		dopy_frame_encode(h, DOPY_F_CALL, (uint32_t)i + 100,
		    (uint32_t)strlen(payload));
		cr_assert_eq(dopy_buf_put(&all, h, sizeof(h)), 0);
		cr_assert_eq(dopy_buf_put(&all, payload, strlen(payload)), 0);
	}
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	cr_assert_eq(tu_write_all(sv[1], all.data, all.len), 0);
	close(sv[1]);
	dopy_chan_init(&c, sv[0], sv[0]);
	for (i = 0; i < 20; i++) {
		snprintf(payload, sizeof(payload), "frame number %d", i);
		cr_assert_eq(dopy_chan_read(&c, &f), 0);
		cr_assert_eq(f.id, (uint32_t)i + 100);
		cr_assert_eq(f.len, strlen(payload));
		cr_assert_eq(memcmp(f.payload, payload, f.len), 0);
	}
	cr_assert_eq(dopy_chan_read(&c, &f), DOPY_E_CLOSED);
	cr_assert_eq(c.bytes_in, all.len);
	dopy_chan_release(&c);
	dopy_buf_release(&all);
	close(sv[0]);
}

Test(chan, read_from_bad_fd_is_sys)
{
	struct dopy_chan c;
	struct dopy_frame f;
	int fd;

	cr_assert_geq(fd = open("/dev/null", O_RDONLY), 0);
	close(fd);			/* now certainly not open */
	dopy_chan_init(&c, fd, fd);
	cr_assert_eq(dopy_chan_read(&c, &f), DOPY_E_SYS);
	dopy_chan_release(&c);
}

Test(chan, deadline_times_out, .timeout = 10)
{
	struct dopy_chan c;
	struct dopy_frame f;
	int64_t t0, dt;
	int sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	/* Half a header, then silence. */
	cr_assert_eq(write(sv[1], "dp\x02", 3), 3);
	dopy_chan_init(&c, sv[0], sv[0]);
	dopy_chan_deadline(&c, 100);
	t0 = dopy_now_ms();
	cr_assert_eq(dopy_chan_read(&c, &f), DOPY_E_TIMEOUT);
	dt = dopy_now_ms() - t0;
	cr_assert_geq(dt, 90, "timed out after %lld ms", (long long)dt);
	cr_assert_lt(dt, 5000, "timed out after %lld ms", (long long)dt);
	/* No deadline: data that is there is read at once. */
	dopy_chan_deadline(&c, 0);
	cr_assert_eq(c.deadline, 0);
	dopy_chan_release(&c);
	close(sv[0]);
	close(sv[1]);
}

Test(chan, deadline_met, .timeout = 10)
{
	struct dopy_chan c;
	struct dopy_frame f;
	uint8_t h[DOPY_HDR_LEN];
	int sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	dopy_frame_encode(h, DOPY_F_HELLO, 0, 0);
	cr_assert_eq(write(sv[1], h, sizeof(h)), (ssize_t)sizeof(h));
	dopy_chan_init(&c, sv[0], sv[0]);
	dopy_chan_deadline(&c, 5000);
	cr_assert_gt(c.deadline, dopy_now_ms());
	cr_assert_eq(dopy_chan_read(&c, &f), 0);
	cr_assert_eq(f.type, DOPY_F_HELLO);
	dopy_chan_release(&c);
	close(sv[0]);
	close(sv[1]);
}

Test(chan, send_and_read_back, .timeout = 10)
{
	struct dopy_chan w, r;
	struct dopy_frame f;
	int sv[2], i;
	char msg[64];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	dopy_chan_init(&w, -1, sv[1]);
	dopy_chan_init(&r, sv[0], -1);
	for (i = 0; i < 5; i++) {
		snprintf(msg, sizeof(msg), "payload %d", i);
		dopy_chan_begin(&w);
		cr_assert_eq(w.wbuf.len, DOPY_HDR_LEN);
		cr_assert_eq(dopy_buf_put(&w.wbuf, msg, strlen(msg)), 0);
		cr_assert_eq(dopy_chan_send(&w, DOPY_F_REPLY, (uint32_t)i), 0);
		cr_assert_eq(dopy_chan_read(&r, &f), 0);
		cr_assert_eq(f.type, DOPY_F_REPLY);
		cr_assert_eq(f.id, (uint32_t)i);
		cr_assert_eq(f.len, strlen(msg));
		cr_assert_eq(memcmp(f.payload, msg, f.len), 0);
	}
	cr_assert_eq(w.bytes_out, r.bytes_in);
	dopy_chan_release(&w);
	dopy_chan_release(&r);
	close(sv[0]);
	close(sv[1]);
}

/* Larger than the socket buffer: the writer's loop must finish it while
 * a reader drains the other end. */
static int
reader_child(void *arg, int fd)
{
	struct dopy_chan c;
	struct dopy_frame f;
	size_t i, plen = *(size_t *)arg;

	dopy_chan_init(&c, fd, fd);
	c.max_frame = (uint32_t)plen;
	if (dopy_chan_read(&c, &f) < 0 || f.len != plen)
		return 1;
	for (i = 0; i < plen; i++)
		if (f.payload[i] != (uint8_t)i)
			return 2;
	dopy_chan_release(&c);
	return 0;
}

Test(chan, send_large, .timeout = 10)
{
	struct dopy_chan w;
	size_t plen = 3000000, i;
	uint8_t *p;
	pid_t pid;
	int fd;

	cr_assert_gt(pid = tu_fork(reader_child, &plen, &fd), 0);
	dopy_chan_init(&w, -1, fd);
	w.max_frame = (uint32_t)plen;
	dopy_chan_begin(&w);
	cr_assert_not_null(p = dopy_buf_reserve(&w.wbuf, plen));
	for (i = 0; i < plen; i++)
		p[i] = (uint8_t)i;
	w.wbuf.len += plen;
	cr_assert_eq(dopy_chan_send(&w, DOPY_F_REPLY, 1), 0);
	cr_assert_eq(w.bytes_out, plen + DOPY_HDR_LEN);
	cr_assert_eq(tu_exit_code(tu_wait(pid, TU_WAIT_MS)), 0);
	dopy_chan_release(&w);
	close(fd);
}

Test(chan, send_over_max_is_toobig)
{
	struct dopy_chan w;
	int sv[2];
	char big[DOPY_HELLO_MAX + 1];

	memset(big, 'x', sizeof(big));
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	dopy_chan_init(&w, -1, sv[1]);
	dopy_chan_begin(&w);
	cr_assert_eq(dopy_buf_put(&w.wbuf, big, sizeof(big)), 0);
	cr_assert_eq(dopy_chan_send(&w, DOPY_F_CALL, 1), DOPY_E_TOOBIG);
	cr_assert_eq(w.bytes_out, 0);
	dopy_chan_release(&w);
	close(sv[0]);
	close(sv[1]);
}

Test(chan, send_without_begin_fails)
{
	struct dopy_chan w;

	dopy_chan_init(&w, -1, -1);
	cr_assert_lt(dopy_chan_send(&w, DOPY_F_CALL, 1), 0);
	dopy_chan_release(&w);
}

Test(chan, send_to_vanished_peer_is_closed, .timeout = 10)
{
	struct dopy_chan w;
	int sv[2];

	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[0]);
	dopy_chan_init(&w, -1, sv[1]);
	dopy_chan_begin(&w);
	cr_assert_eq(dopy_chan_send(&w, DOPY_F_CALL, 1), DOPY_E_CLOSED);
	dopy_chan_release(&w);
	close(sv[1]);
}

Test(chan, pipes_work_too, .timeout = 10)
{
	struct dopy_chan w, r;
	struct dopy_frame f;
	int p[2];

	cr_assert_eq(pipe(p), 0);
	dopy_chan_init(&w, -1, p[1]);
	dopy_chan_init(&r, p[0], -1);
	dopy_chan_begin(&w);
	cr_assert_eq(dopy_buf_put(&w.wbuf, "xyz", 3), 0);
	cr_assert_eq(dopy_chan_send(&w, DOPY_F_ERROR, 77), 0);
	close(p[1]);
	cr_assert_eq(dopy_chan_read(&r, &f), 0);
	cr_assert_eq(f.type, DOPY_F_ERROR);
	cr_assert_eq(f.id, 77);
	cr_assert_eq(memcmp(f.payload, "xyz", 3), 0);
	cr_assert_eq(dopy_chan_read(&r, &f), DOPY_E_CLOSED);
	dopy_chan_release(&w);
	dopy_chan_release(&r);
	close(p[0]);
}

Test(chan, now_is_monotonic)
{
	int64_t a, b;

	a = dopy_now_ms();
	usleep(20000);
	b = dopy_now_ms();
	cr_assert_geq(b - a, 15);
	cr_assert_lt(b - a, 5000);
}

/*
 * A large frame's bytes move to a block of their own as they come in
 * (take_input, the server's loop): EOF there is inside a frame too.
 */
Test(chan, take_input_eof_inside_large_frame_is_proto, .timeout = 10)
{
	struct dopy_chan c;
	uint8_t hdr[DOPY_HDR_LEN], junk[4096];
	int p[2], r = 0;

	memset(junk, 0, sizeof(junk));
	cr_assert_eq(pipe(p), 0);
	dopy_chan_init(&c, p[0], -1);
	c.max_frame = DOPY_FRAME_DEFAULT;
	dopy_frame_encode(hdr, DOPY_F_CALL, 1, 1024 * 1024);
	cr_assert_eq(tu_write_all(p[1], hdr, sizeof(hdr)), 0);
	cr_assert_eq(tu_write_all(p[1], junk, sizeof(junk)), 0);
	close(p[1]);
	while (r == 0)
		r = dopy_chan_take_input(&c, 1);
	cr_assert_eq(r, DOPY_E_PROTO, "got %s", dopy_strerror(r));
	dopy_chan_release(&c);
	close(p[0]);
}

/*
 * A peer that reads nothing: the write gives up after the deadline, and
 * the channel, whose framing is lost, fails writes and reads at once.
 */
Test(chan, send_deadline_stalls, .timeout = 10)
{
	struct dopy_chan w;
	size_t plen = 1024 * 1024;
	int64_t t0, dt;
	int p[2];

	cr_assert_eq(pipe(p), 0);
	dopy_chan_init(&w, p[0], p[1]);
	w.max_frame = DOPY_FRAME_DEFAULT;
	cr_assert_eq(dopy_chan_send_deadline(&w, 200), 0);
	dopy_chan_begin(&w);
	cr_assert_not_null(dopy_buf_reserve(&w.wbuf, plen));
	memset(w.wbuf.data + w.wbuf.len, 'x', plen);
	w.wbuf.len += plen;
	t0 = dopy_now_ms();
	cr_assert_eq(dopy_chan_send(&w, DOPY_F_REPLY, 1), DOPY_E_TIMEOUT);
	dt = dopy_now_ms() - t0;
	cr_assert(dt >= 190 && dt < 3000, "timed out after %lld ms",
	    (long long)dt);
	dopy_chan_begin(&w);
	cr_assert_eq(dopy_chan_send(&w, DOPY_F_REPLY, 2), DOPY_E_TIMEOUT);
	cr_assert_eq(dopy_chan_take_input(&w, 1), DOPY_E_CLOSED);
	dopy_chan_release(&w);
	close(p[0]);
	close(p[1]);
}

/* A terminal or a file keeps blocking writes: no deadline there. */
Test(chan, send_deadline_only_pipes_and_sockets)
{
	struct dopy_chan w;
	int fd = open("/dev/null", O_WRONLY);

	cr_assert_geq(fd, 0);
	dopy_chan_init(&w, -1, fd);
	cr_assert_eq(dopy_chan_send_deadline(&w, 100), -1);
	cr_assert_eq(w.send_ms, 0);
	cr_assert_eq(dopy_chan_send_deadline(&w, 0), 0);
	dopy_chan_release(&w);
	close(fd);
}
