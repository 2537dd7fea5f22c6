/*
 * test_errimg.c - lib/wire/errimg.c: the crash handler's ERROR payload,
 * written by hand, is byte for byte what dopy_msg_error_put writes.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "internal.h"

/* Both encoders on the same error; the hand-written one must fit. */
static void
same_bytes(const char *const hdr[5], long pid, const char *const *trace,
    size_t ntrace)
{
	static uint8_t fixed[65536];
	struct dopy_buf b;
	dopy_error *e, *back = NULL;
	size_t n, i;

	e = dopy_error_new(DOPY_E_REMOTE, "%s", hdr[1]);
	cr_assert_not_null(e);
	cr_assert_eq(dopy_error_set_fields(e, hdr[0], hdr[2], hdr[3], hdr[4],
	    pid), 0);
	for (i = 0; i < ntrace; i++)
		cr_assert_eq(dopy_error_add_trace(e, trace[i]), 0);
	dopy_buf_init(&b);
	cr_assert_eq(dopy_msg_error_put(&b, e), 0);
	n = dopy_msg_error_fixed(fixed, sizeof(fixed), hdr, pid, trace,
	    ntrace);
	cr_assert_eq(n, b.len, "%zu bytes by hand, %zu by the encoder", n,
	    b.len);
	cr_assert_eq(memcmp(fixed, b.data, n), 0, "the bytes differ");
	cr_assert_eq(dopy_msg_error_get(fixed, n, &back), 0);
	cr_assert_str_eq(dopy_error_name(back), hdr[0]);
	cr_assert_eq(dopy_error_trace_len(back), ntrace);
	dopy_error_free(back);
	/* And one byte short does not fit: the caller is told (0) and
	 * sends nothing half-written. */
	cr_assert_eq(dopy_msg_error_fixed(fixed, n - 1, hdr, pid, trace,
	    ntrace), 0);
	dopy_error_free(e);
	dopy_buf_release(&b);
}

Test(errimg, crash_report_equals_encoder)
{
	const char *hdr[5] = { "dopy.Crash", "crash.segv: the server died "
	    "of signal 11 (SIGSEGV: segmentation fault, address not mapped) "
	    "at address 0x0 in call 3", "crash", "segv", "host.example" };
	const char *trace[3] = { "crash_segv+0x1c (/bin/dopyd+0x5a3c)",
	    "libc.so.6(__libc_start_main+0x85) [0x7f0000001234]",
	    "in crash.segv on host host.example pid 4242" };

	same_bytes(hdr, 4242, trace, 3);
}

Test(errimg, empty_fields_and_trace_equal_encoder)
{
	const char *hdr[5] = { "dopy.Crash", "", "", "", "" };

	same_bytes(hdr, 0, NULL, 0);
}

Test(errimg, long_strings_equal_encoder)
{
	static char big[20000];
	const char *hdr[5] = { "dopy.Crash", big, "o", "m", "h" };
	const char *trace[2] = { big, "x" };

	memset(big, 'a', sizeof(big) - 1);
	same_bytes(hdr, 2147483647L, trace, 2);
}

Test(errimg, crash_is_a_remote_error)
{
	/* The method died: its outcome is known (it failed), unlike a
	 * connection lost mid-call (DOPY_E_LOST). */
	cr_assert_eq(dopy_error_code_for("dopy.Crash"), DOPY_E_REMOTE);
	cr_assert_eq(dopy_error_code_for("dopy.Crashed"), DOPY_E_REMOTE);
}
