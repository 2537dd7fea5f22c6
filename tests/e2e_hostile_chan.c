/*
 * e2e_hostile_chan.c - a peer that breaks the channel on purpose
 * (issue 11): EOF half-way through a large frame.  dopyd runs over
 * pipes.  (A client that never reads is in e2e_launchers.c, with the
 * listener's.)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "e2e_util.h"

/*
 * A header announcing 1 MiB, 300 KiB of it, EOF: large frames are read
 * into a block of their own, and the EOF there must break the framing
 * as it does inside a small frame (dopy(5)): ERROR id 0, exit 1.
 */
Test(hostile_chan, eof_inside_large_frame, .timeout = 30)
{
	struct e2e_proc p;
	struct dopy_buf b;
	uint8_t hdr[DOPY_HDR_LEN];
	size_t part = 300 * 1024;
	void *zero = calloc(1, part);

	cr_assert_not_null(zero);
	e2e_dopyd(&p, 1, DOPY_FRAME_DEFAULT, NULL);
	dopy_frame_encode(hdr, DOPY_F_CALL, 7, 1024 * 1024);
	dopy_buf_init(&b);
	cr_assert_eq(dopy_buf_put(&b, hdr, sizeof(hdr)), 0);
	cr_assert_eq(dopy_buf_put(&b, zero, part), 0);
	e2e_send(&p, &b);
	dopy_buf_release(&b);
	free(zero);
	close(p.in);
	p.in = -1;
	dopy_error_free(e2e_expect_error(p.out, 0, "dopy.ProtocolError"));
	e2e_finish(&p, 1);
}
