/*
 * dump_raw.c - raw frame streams, such as the two sides of a pipe
 * captured with tee(1), read together with poll(2) so that a live pipe
 * can be watched: each frame is printed as soon as it is whole.
 *
 * Bytes that are not a frame are passed over up to the next header
 * that looks sane (magic, a known type, a length a recording could
 * hold) and reported as one "bad" line; a frame cut by the end of its
 * input is reported and ends that input.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dump.h"

#define CHUNK		65536
#define MAX_INPUTS	64

static uint32_t
frame_len(const uint8_t *h)
{
	return (uint32_t)h[8] << 24 | (uint32_t)h[9] << 16 |
	    (uint32_t)h[10] << 8 | h[11];
}

/* Where a frame may be: the right magic and a length we would keep.
 * Looking for one again after garbage (strict), a known type too, so
 * that a stray "dp" in the garbage is not taken for one. */
static int
sane(const uint8_t *h, int strict)
{
	if (h[0] != DOPY_MAGIC0 || h[1] != DOPY_MAGIC1 ||
	    frame_len(h) > DOPY_REC_MAX)
		return 0;
	return !strict || strcmp(dopy_frame_type_name(h[2]), "?") != 0;
}

static void
consume(struct dump_in *in, size_t n)
{
	dopy_buf_consume(&in->b, n);
	in->off += n;
}

/* {"from":...,"offset":N,"bad":why, and more members}. */
static void
bad_line(const struct dump_in *in, uint64_t at, const char *why,
    const char *more)
{
	char line[256];

	snprintf(line, sizeof(line), "{%s%s%s\"offset\":%" PRIu64
	    ",\"bad\":\"%s\"%s}", in->from ? "\"from\":\"" : "",
	    in->from ? in->from : "", in->from ? "\"," : "", at, why, more);
	dump_line(line);
	dump_worse(DUMP_BAD);
}

static void
frame_line(struct dump_in *in, const uint8_t *p, size_t len)
{
	char extra[64], *line;

	snprintf(extra, sizeof(extra), "%s%s%s\"offset\":%" PRIu64,
	    in->from ? "\"from\":\"" : "", in->from ? in->from : "",
	    in->from ? "\"," : "", in->off);
	if ((line = dopy_frame_json(p, p + DOPY_HDR_LEN, len, extra,
	    0)) == NULL) {
		dump_warn(in, "out of memory");
		return;
	}
	dump_line(line);
	free(line);
}

/* In bad bytes: up to the next sane header, or all but a header's
 * worth (the start of one may be there) until the end. */
static void
resync(struct dump_in *in)
{
	const uint8_t *p = in->b.data + in->b.off;
	size_t avail = dopy_buf_avail(&in->b), i;
	char more[48];

	for (i = 0; i + DOPY_HDR_LEN <= avail && !sane(p + i, 1); i++)
		;
	if (i + DOPY_HDR_LEN > avail && !in->eof) {
		consume(in, avail < DOPY_HDR_LEN ? 0 : i);
		return;
	}
	if (i + DOPY_HDR_LEN > avail)
		i = avail;
	consume(in, i);
	snprintf(more, sizeof(more), ",\"skipped\":%" PRIu64,
	    in->off - in->lost_at);
	bad_line(in, in->lost_at, "not a frame", more);
	in->lost = 0;
}

/* One step over what is buffered: 1 when it may go on. */
static int
step(struct dump_in *in)
{
	const uint8_t *p = in->b.data + in->b.off;
	size_t avail = dopy_buf_avail(&in->b);
	char more[64];

	if (in->lost) {
		resync(in);
		return !in->lost && dopy_buf_avail(&in->b) > 0;
	}
	/* Not even the magic: lost, however little is left. */
	if ((avail >= 1 && p[0] != DOPY_MAGIC0) || (avail >= 2 &&
	    p[1] != DOPY_MAGIC1) || (avail >= DOPY_HDR_LEN && !sane(p, 0))) {
		in->lost = 1;
		in->lost_at = in->off;
		consume(in, 1);
		return 1;
	}
	if (avail >= DOPY_HDR_LEN && avail - DOPY_HDR_LEN >= frame_len(p)) {
		frame_line(in, p, frame_len(p));
		consume(in, DOPY_HDR_LEN + frame_len(p));
		return 1;
	}
	if (!in->eof || avail == 0)
		return 0;
	snprintf(more, sizeof(more), ",\"have\":%zu", avail);
	bad_line(in, in->off, "truncated frame", more);
	consume(in, avail);
	return 0;
}

/* Read what there is; at the end, what is left is settled. */
static void
fill(struct dump_in *in)
{
	uint8_t *p;
	ssize_t k;

	if (in->b.off > (1u << 20)) {	/* keep the block small */
		memmove(in->b.data, in->b.data + in->b.off,
		    dopy_buf_avail(&in->b));
		in->b.len -= in->b.off;
		in->b.off = 0;
	}
	if ((p = dopy_buf_reserve(&in->b, CHUNK)) == NULL) {
		dump_warn(in, "out of memory");
		in->eof = 1;
		return;
	}
	while ((k = read(in->fd, p, CHUNK)) < 0 && errno == EINTR)
		;
	if (k < 0)
		dump_warn(in, "read error");
	in->b.len += k > 0 ? (size_t)k : 0;
	in->eof = k <= 0;
}

static void
drain(struct dump_in *in)
{
	while (step(in))
		;
}

void
dump_raw(struct dump_in *ins, size_t n)
{
	struct pollfd pfd[MAX_INPUTS];
	size_t i, open = n;

	for (i = 0; i < n; i++) {
		dopy_buf_init(&ins[i].b);
		if (dopy_buf_put(&ins[i].b, ins[i].head, ins[i].nhead) < 0)
			dump_warn(&ins[i], "out of memory");
		pfd[i].fd = ins[i].fd;
		pfd[i].events = POLLIN;
	}
	while (open > 0) {
		if (poll(pfd, n, -1) < 0 && errno != EINTR) {
			dump_warn(NULL, "poll");
			break;
		}
		for (i = 0; i < n; i++) {
			if (pfd[i].fd < 0 || pfd[i].revents == 0)
				continue;
			fill(&ins[i]);
			drain(&ins[i]);
			if (ins[i].eof) {
				pfd[i].fd = -1;
				open--;
			}
		}
		fflush(stdout);
	}
	for (i = 0; i < n; i++)
		dopy_buf_release(&ins[i].b);
}
