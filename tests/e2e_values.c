/*
 * e2e_values.c - what large values cost the real dopyd: a bool[] as
 * big as a frame allows goes through factory.pass (bin/testobj_ref.c,
 * an `any' parameter decoded in full, copied and sent back), and the
 * server's peak resident size (VmHWM) must stay a small multiple of the
 * frame.  Arrays of scalars are one block (lib/wire/value.c); before that
 * each bool took a value of its own, some 115 times the frame.  And a
 * value that would decode to more than the decode limit (8 times its
 * image and 64 KiB, lib/wire/codec.c) is refused with an error that is not
 * fatal.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e_util.h"
#include "internal.h"	/* frame types, dopy_msg_call_put */

#define MIB		(1024u * 1024u)
#define FRAME_MAX	(16u * MIB)	/* dopyd's default limit */
/* Room for the CALL header's images in the same frame. */
#define NBOOLS		(FRAME_MAX - 4096)

/* The image of a bool[] of n alternating values, written by hand: the
 * test process must not build it as a value, which is what is measured. */
static void
bool_array_image(struct dopy_buf *b, size_t n)
{
	size_t start = b->len, i;
	uint8_t *p;

	cr_assert(dopy_image_open(b, "A(c)") == 0);
	cr_assert(dopy_image_put_u32(b, (uint32_t)n) == 0);
	cr_assert((p = dopy_buf_reserve(b, n)) != NULL);
	for (i = 0; i < n; i++)
		p[i] = i & 1;
	b->len += n;
	cr_assert(dopy_image_close(b, start, 0) == 0);
}

/* A field of /proc/PID/status in KiB ("VmHWM"), or -1. */
static long
proc_status_kib(pid_t pid, const char *field)
{
	char path[64], *s, *p;
	long kib = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((s = e2e_slurp(path, NULL)) == NULL)
		return -1;
	if ((p = strstr(s, field)) != NULL && (p = strchr(p, ':')) != NULL)
		kib = strtol(p + 1, NULL, 10);
	free(s);
	return kib;
}

/* User and system CPU time of pid in clock ticks, or -1. */
static long
proc_cpu_ticks(pid_t pid)
{
	char path[64], *s, *p;
	unsigned long ut, st;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((s = e2e_slurp(path, NULL)) == NULL)
		return -1;
	/* After the command's ")": state and 11 fields, then utime, stime. */
	if ((p = strrchr(s, ')')) == NULL || sscanf(p + 2,
	    "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st) != 2) {
		free(s);
		return -1;
	}
	free(s);
	return (long)(ut + st);
}

/* ASan's shadow memory and quarantine (freed blocks kept a while) add
 * to the resident size of the ASan-built dopyd. */
static long
rss_slack_kib(void)
{
	return getenv("ASAN_OPTIONS") != NULL ? 512 * 1024 : 0;
}

Test(values, pass_bool_array_peak_rss, .timeout = 120)
{
	static const char *names[] = { "" };
	struct e2e_proc p;
	struct e2e_frame f;
	struct dopy_buf pl, b;
	size_t arglen;
	long hwm, ticks;

	e2e_dopyd(&p, 1, FRAME_MAX, "-L/dev/null");
	dopy_buf_init(&pl);
	dopy_buf_init(&b);
	cr_assert(dopy_msg_call_put(&pl, "factory", "pass", names, 1) == 0);
	arglen = pl.len;
	bool_array_image(&pl, NBOOLS);
	arglen = pl.len - arglen;
	e2e_frame(&b, DOPY_F_CALL, 1, pl.data, pl.len);
	dopy_buf_release(&pl);
	e2e_send(&p, &b);
	dopy_buf_release(&b);
	cr_assert(e2e_read_frame(p.out, &f, 90000) == 1, "no answer");
	cr_assert_eq(f.type, DOPY_F_REPLY, "frame type %u", f.type);
	cr_assert_eq(f.len, arglen, "a reply of %u bytes for an argument of "
	    "%zu", f.len, arglen);
	free(f.payload);
	hwm = proc_status_kib(p.pid, "VmHWM");
	ticks = proc_cpu_ticks(p.pid);
	cr_log_info("factory.pass of a %u-element bool[]: VmHWM %ld KiB, "
	    "CPU %.2f s", NBOOLS, hwm, (double)ticks / sysconf(_SC_CLK_TCK));
	/* The frame read, the argument, its copy and the reply: about
	 * four frames; six leave room for the allocator. */
	cr_assert(hwm > 0 && hwm <= 6 * (long)(FRAME_MAX / 1024) +
	    rss_slack_kib(), "dopyd peaked at %ld KiB for a frame of %u KiB",
	    hwm, FRAME_MAX / 1024);
	e2e_finish(&p, 0);
}

/* The name dopyd gives an argument over the decode limit (dopy(5)). */
#define DECODE_LIMIT_ERROR	"dopy.DecodeLimit"

/* A CALL of factory.pass whose argument is fmt holding n copies of elem. */
static void
pass_repeated(struct e2e_proc *p, uint32_t id, const char *fmt, uint32_t n,
    const void *elem, size_t elen)
{
	static const char *names[] = { "" };
	struct dopy_buf pl, b;
	size_t start;
	uint32_t i;

	dopy_buf_init(&pl);
	dopy_buf_init(&b);
	cr_assert(dopy_msg_call_put(&pl, "factory", "pass", names, 1) == 0);
	start = pl.len;
	cr_assert(dopy_image_open(&pl, fmt) == 0);
	cr_assert(dopy_image_put_u32(&pl, n) == 0);
	for (i = 0; i < n; i++)
		cr_assert(dopy_buf_put(&pl, elem, elen) == 0);
	cr_assert(dopy_image_close(&pl, start, 0) == 0);
	e2e_frame(&b, DOPY_F_CALL, id, pl.data, pl.len);
	dopy_buf_release(&pl);
	e2e_send(p, &b);
	dopy_buf_release(&b);
}

/* A million empty strings (4 MiB on the wire, some 50 MiB decoded) are
 * refused; the connection goes on, and a few thousand pass. */
Test(values, decode_limit_refused_not_fatal, .timeout = 60)
{
	static const uint32_t empty_string = 1;
	struct e2e_proc p;
	dopy_error *e;
	dopy_value *v;

	e2e_dopyd(&p, 1, FRAME_MAX, "-L/dev/null");
	pass_repeated(&p, 1, "A(s)", 1000000, &empty_string, 4);
	e = e2e_expect_error(p.out, 1, DECODE_LIMIT_ERROR);
	cr_assert(strstr(dopy_error_message(e), "decoded size exceeds") !=
	    NULL, "%s", dopy_error_message(e));
	dopy_error_free(e);
	pass_repeated(&p, 2, "A(s)", 1000, &empty_string, 4);
	v = e2e_expect_reply(p.out, 2);
	cr_assert_eq(dopy_value_len(v), 1000);
	dopy_value_free(v);
	e2e_finish(&p, 0);
}
