/*
 * test_largebytes.c - large byte strings: written by reference (buf.c,
 * chan.c), read into a block of their own that the decoded value keeps
 * (chan.c, codec.c), and the big-block cache (buf.c).  The wire must be
 * the same bytes as when everything is copied.
 */
#include <criterion/criterion.h>

#include "testutil.h"

#define BIG	(300u * 1024)	/* above DOPY_REF_MIN and chan.c's BIG_FRAME */

static uint8_t *
pattern(size_t len)
{
	uint8_t *p;
	size_t i;

	cr_assert_not_null(p = malloc(len));
	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 131 + 5);
	return p;
}

/* The frame of a value, copied into a plain buffer: what goes out when
 * nothing is written by reference. */
static void
copied_frame(const dopy_value *v, struct dopy_buf *b)
{
	dopy_buf_init(b);
	cr_assert_not_null(dopy_buf_reserve(b, DOPY_HDR_LEN));
	b->len = DOPY_HDR_LEN;
	cr_assert_eq(dopy_encode(v, b), 0);
	cr_assert_eq(b->nrefs, 0);
	dopy_frame_encode(b->data, DOPY_F_REPLY, 9,
	    (uint32_t)(b->len - DOPY_HDR_LEN));
}

/* The peer: reads the frame and compares it with the copied one. */
static int
expect_child(void *arg, int fd)
{
	const struct dopy_buf *want = arg;
	uint8_t *got = malloc(want->len + 1);

	return got == NULL || tu_read_all(fd, got, want->len + 1,
	    TU_WAIT_MS) != (ssize_t)want->len ||
	    memcmp(got, want->data, want->len) != 0;
}

Test(largebytes, encoded_by_reference_same_bytes_on_the_wire, .timeout = 20)
{
	struct dopy_chan c;
	struct dopy_buf want;
	dopy_value *v;
	uint8_t *data = pattern(BIG);
	pid_t pid;
	int fd;

	cr_assert_not_null(v = dopy_value_bytes(data, BIG));
	copied_frame(v, &want);
	cr_assert_gt(pid = tu_fork(expect_child, &want, &fd), 0);
	dopy_chan_init(&c, fd, fd);
	c.max_frame = DOPY_FRAME_DEFAULT;
	cr_assert_eq(dopy_chan_nonblocking_writes(&c), 0);
	dopy_chan_begin(&c);
	cr_assert_eq(dopy_encode(v, &c.wbuf), 0);
	cr_assert_eq(c.wbuf.nrefs, 1, "a large value is referred to");
	cr_assert_eq(dopy_buf_size(&c.wbuf, 0), want.len);
	cr_assert_lt(c.wbuf.len, 100);
	cr_assert_eq(dopy_chan_send(&c, DOPY_F_REPLY, 9), 0);
	cr_assert_eq(c.wbuf.nrefs, 0, "references dropped once written");
	cr_assert_eq(c.bytes_out, want.len);
	shutdown(fd, SHUT_WR);
	cr_assert_eq(tu_exit_code(tu_wait(pid, TU_WAIT_MS)), 0,
	    "the peer saw other bytes than a copied frame");
	dopy_chan_release(&c);
	dopy_buf_release(&want);
	dopy_value_free(v);
	free(data);
	close(fd);
}

Test(largebytes, small_values_are_copied)
{
	struct dopy_buf b;
	dopy_value *v;

	dopy_buf_init(&b);
	dopy_buf_allow_refs(&b);
	cr_assert_not_null(v = dopy_value_bytes("abc", 3));
	cr_assert_eq(dopy_encode(v, &b), 0);
	cr_assert_eq(b.nrefs, 0);
	dopy_buf_reset(&b);
	cr_assert_eq(b.refok, 0, "reset allows no references");
	dopy_buf_release(&b);
	dopy_value_free(v);
}

Test(largebytes, truncate_drops_later_references)
{
	struct dopy_buf b;
	uint8_t *data = pattern(BIG);

	dopy_buf_init(&b);
	dopy_buf_allow_refs(&b);
	cr_assert_eq(dopy_buf_put(&b, "xy", 2), 0);
	cr_assert_eq(dopy_buf_put_ref(&b, data, BIG), 0);
	cr_assert_eq(dopy_buf_put(&b, "z", 1), 0);
	cr_assert_eq(dopy_buf_size(&b, 0), 3 + BIG);
	cr_assert_eq(dopy_buf_size(&b, 1), 2 + BIG);
	/* A reference at an offset ends what comes before it. */
	cr_assert_eq(dopy_buf_size(&b, 2), 1);
	dopy_buf_truncate(&b, 2);
	cr_assert_eq(b.nrefs, 1);
	cr_assert_eq(dopy_buf_size(&b, 0), 2 + BIG);
	dopy_buf_truncate(&b, 1);
	cr_assert_eq(b.nrefs, 0);
	cr_assert_eq(dopy_buf_size(&b, 0), 1);
	dopy_buf_release(&b);
	free(data);
}

struct sender {
	const uint8_t	*p;
	size_t		 len;
};

static int
send_child(void *arg, int fd)
{
	struct sender *sd = arg;
	uint8_t *f;
	size_t len;

	if ((f = tu_frame(DOPY_F_REPLY, 3, sd->p, sd->len, &len)) == NULL)
		return 1;
	return tu_write_all(fd, f, len) < 0;
}

/* A child writes payload as one frame; *fd reads it. */
static pid_t
send_payload(const uint8_t *payload, size_t plen, int *fd)
{
	static struct sender sd;
	pid_t pid;

	sd = (struct sender){ payload, plen };
	cr_assert_gt(pid = tu_fork(send_child, &sd, fd), 0);
	return pid;
}

static void
read_and_decode(const struct dopy_buf *payload, size_t nimg, int kept)
{
	struct dopy_image img[4];
	struct dopy_chan c;
	struct dopy_frame f;
	dopy_value *v;
	const void *got;
	uint8_t *data = pattern(BIG);
	size_t n, len;
	char err[200];
	int fd;
	pid_t pid;

	pid = send_payload(payload->data, payload->len, &fd);
	dopy_chan_init(&c, fd, fd);
	c.max_frame = DOPY_FRAME_DEFAULT;
	cr_assert_eq(dopy_chan_read(&c, &f), 0);
	cr_assert_not_null(f.lend, "a large frame has a block of its own");
	cr_assert_eq(dopy_images_split(f.payload, f.len, img, 4, &n, err,
	    sizeof(err)), 0, "%s", err);
	cr_assert_eq(n, nimg);
	img[0].lend = f.lend;
	cr_assert_eq(dopy_decode(&img[0], NULL, &v, err, sizeof(err)), 0,
	    "%s", err);
	cr_assert_eq(v->u.s.block != NULL, kept);
	got = dopy_value_get_bytes(v, &len);
	cr_assert_eq(len, BIG);
	cr_assert_eq(memcmp(got, data, BIG), 0);
	cr_assert_eq(((const char *)got)[BIG], '\0');
	/* The next read frees the block unless the value kept it. */
	cr_assert_eq(dopy_chan_read(&c, &f), DOPY_E_CLOSED);
	dopy_value_free(v);
	cr_assert_eq(tu_exit_code(tu_wait(pid, TU_WAIT_MS)), 0);
	dopy_chan_release(&c);
	close(fd);
	free(data);
}

Test(largebytes, decoded_value_keeps_the_frame_block, .timeout = 20)
{
	struct dopy_buf b;
	dopy_value *v;
	uint8_t *data = pattern(BIG);

	dopy_buf_init(&b);
	cr_assert_not_null(v = dopy_value_bytes(data, BIG));
	cr_assert_eq(dopy_encode(v, &b), 0);
	read_and_decode(&b, 1, 1);
	/* Not the last image: the byte after it is the next one's, so the
	 * value copies. */
	cr_assert_eq(dopy_encode(v, &b), 0);
	read_and_decode(&b, 2, 0);
	dopy_buf_release(&b);
	dopy_value_free(v);
	free(data);
}

Test(largebytes, bytes_image_of_the_wrong_length_is_refused)
{
	struct dopy_image img[1];
	struct dopy_buf b;
	dopy_value *v, *out;
	char err[200];
	size_t n;

	dopy_buf_init(&b);
	cr_assert_not_null(v = dopy_value_bytes("hello", 5));
	cr_assert_eq(dopy_encode(v, &b), 0);
	b.data[10]++;		/* the count: one more than there is */
	cr_assert_eq(dopy_images_split(b.data, b.len, img, 1, &n, err,
	    sizeof(err)), 0);
	cr_assert_lt(dopy_decode(&img[0], NULL, &out, err, sizeof(err)), 0);
	cr_assert_null(out);
	b.data[10] -= 2;	/* one fewer: a byte left over */
	cr_assert_lt(dopy_decode(&img[0], NULL, &out, err, sizeof(err)), 0);
	cr_assert_null(out);
	dopy_buf_release(&b);
	dopy_value_free(v);
}

Test(largebytes, frame_ready_waits_for_the_whole_large_frame, .timeout = 20)
{
	struct dopy_chan c;
	struct dopy_frame f;
	uint8_t *data = pattern(BIG);
	int fd;
	pid_t pid;

	pid = send_payload(data, BIG, &fd);
	dopy_chan_init(&c, fd, fd);
	c.max_frame = DOPY_FRAME_DEFAULT;
	while (!dopy_chan_frame_ready(&c))
		cr_assert_eq(dopy_chan_take_input(&c, 1), 0);
	cr_assert_eq(c.big_open, 1);
	cr_assert_eq(dopy_buf_avail(&c.rbuf), 0, "the payload is not "
	    "buffered twice");
	cr_assert_eq(dopy_chan_read(&c, &f), 0);
	cr_assert_eq(f.len, BIG);
	cr_assert_eq(memcmp(f.payload, data, BIG), 0);
	cr_assert_eq(tu_exit_code(tu_wait(pid, TU_WAIT_MS)), 0);
	dopy_chan_release(&c);
	close(fd);
	free(data);
}

Test(largebytes, eof_inside_a_large_frame_breaks_the_framing, .timeout = 20)
{
	struct dopy_chan c;
	struct dopy_frame f;
	uint8_t hdr[DOPY_HDR_LEN];
	int p[2];

	cr_assert_eq(pipe(p), 0);
	dopy_frame_encode(hdr, DOPY_F_REPLY, 1, BIG);
	cr_assert_eq(tu_write_all(p[1], hdr, sizeof(hdr)), 0);
	cr_assert_eq(tu_write_all(p[1], "tpl", 3), 0);
	close(p[1]);
	dopy_chan_init(&c, p[0], p[0]);
	c.max_frame = DOPY_FRAME_DEFAULT;
	cr_assert_eq(dopy_chan_read(&c, &f), DOPY_E_PROTO);
	dopy_chan_release(&c);
	close(p[0]);
}

Test(largebytes, borrowed_bytes_are_referenced_not_owned)
{
	size_t len = DOPY_REF_MIN * 2;
	uint8_t *data = malloc(len);
	struct dopy_buf b;
	dopy_value *v;

	cr_assert_not_null(data);
	memset(data, 7, len);
	v = dopy_value_borrow_bytes(data, len);
	cr_assert_not_null(v);
	dopy_buf_init(&b);
	dopy_buf_allow_refs(&b);
	cr_assert_eq(dopy_encode(v, &b), 0);
	cr_assert_eq(b.nrefs, 1);
	cr_assert_eq(b.ref[0].p, data, "the caller's bytes, not a copy");
	cr_assert_eq(dopy_buf_size(&b, 0), b.len + len);
	dopy_value_free(v);		/* must leave data alone */
	cr_assert_eq(data[len - 1], 7);
	dopy_buf_release(&b);
	free(data);			/* ASan: a double free if it did not */
}
