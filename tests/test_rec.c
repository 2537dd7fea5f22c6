/*
 * test_rec.c - the recording format (rec.c, recread.c): what a crash or
 * a full disk leaves short, and garbage between records, is skipped and
 * every whole record still read; a paused recording takes nothing.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "testutil.h"

static char dir[64], path[128];

static void
setup(void)
{
	strlcpy(dir, "/tmp/dopy-rec-XXXXXX", sizeof(dir));
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/rec", dir);
}

static void
teardown(void)
{
	unlink(path);
	rmdir(dir);
}

TestSuite(rec, .init = setup, .fini = teardown);

/* n frames of a payload of len bytes each, ids 1..n. */
static void
record(struct dopy_rec *r, size_t n, size_t len)
{
	uint8_t hdr[DOPY_HDR_LEN], *p = malloc(len + 1);
	struct iovec iov = { p, len };
	size_t i;

	cr_assert_not_null(p);
	memset(p, 'v', len);
	for (i = 1; i <= n; i++) {
		dopy_frame_encode(hdr, DOPY_F_REPLY, (uint32_t)i,
		    (uint32_t)len);
		dopy_rec_frame(r, 1, hdr, &iov, len > 0);
	}
	free(p);
}

/* Records read back, and the bytes skipped on the way. */
static size_t
count(size_t *skipped, uint32_t *last_id)
{
	struct dopy_recread *r;
	struct dopy_recent e;
	size_t n = 0, sk;
	int fd;

	*skipped = 0;
	cr_assert_geq(fd = open(path, O_RDONLY), 0);
	cr_assert_not_null(r = dopy_recread_new(fd));
	while (dopy_recread_next(r, &e, &sk) == 1) {
		*skipped += sk;
		*last_id = (uint32_t)e.hdr[4] << 24 | (uint32_t)e.hdr[5] << 16 |
		    (uint32_t)e.hdr[6] << 8 | e.hdr[7];
		n++;
	}
	*skipped += sk;
	dopy_recread_free(r);
	close(fd);
	return n;
}

Test(rec, torn_last_record_is_skipped)
{
	struct dopy_rec *r;
	struct stat sb;
	size_t sk;
	uint32_t last = 0;

	cr_assert_eq(dopy_rec_open(path, 's', &r), 0);
	record(r, 5, 100);
	dopy_rec_close(r);
	cr_assert_eq(count(&sk, &last), 5);
	cr_assert_eq(sk, 0);
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq(truncate(path, sb.st_size - 7), 0);	/* a crash */
	cr_assert_eq(count(&sk, &last), 4);
	cr_assert_eq(last, 4);
	cr_assert_eq(sk, (size_t)(DOPY_REC_HDR + DOPY_HDR_LEN + 100 - 7));
	/* The next process appends after the torn one; both are found. */
	cr_assert_eq(dopy_rec_open(path, 's', &r), 0);
	record(r, 2, 10);
	dopy_rec_close(r);
	cr_assert_eq(count(&sk, &last), 6);
	cr_assert_eq(last, 2);
}

Test(rec, garbage_between_records_is_passed_over)
{
	struct dopy_rec *r;
	size_t sk;
	uint32_t last = 0;
	int fd;

	cr_assert_eq(dopy_rec_open(path, 's', &r), 0);
	record(r, 3, 20);
	cr_assert_geq(fd = open(path, O_WRONLY | O_APPEND), 0);
	/* Bytes that look like a record's start, and a bad check. */
	cr_assert_eq(write(fd, "DRECDRECxxdp\0\0\0\0\0\0\0\0", 20), 20);
	close(fd);
	record(r, 3, 20);
	dopy_rec_close(r);
	cr_assert_eq(count(&sk, &last), 6);
	cr_assert_eq(sk, 20);
}

Test(rec, flipped_byte_loses_one_record)
{
	struct dopy_rec *r;
	size_t sk;
	uint32_t last = 0;
	uint8_t b;
	int fd;

	cr_assert_eq(dopy_rec_open(path, 's', &r), 0);
	record(r, 3, 30);
	dopy_rec_close(r);
	cr_assert_geq(fd = open(path, O_RDWR), 0);
	/* A payload byte of the second record. */
	off_t at = DOPY_REC_FILEHDR + (DOPY_REC_HDR + DOPY_HDR_LEN + 30) +
	    DOPY_REC_HDR + DOPY_HDR_LEN + 5;
	cr_assert_eq(pread(fd, &b, 1, at), 1);
	b ^= 1;
	cr_assert_eq(pwrite(fd, &b, 1, at), 1);
	close(fd);
	cr_assert_eq(count(&sk, &last), 2);
	cr_assert_eq(last, 3);
	cr_assert_eq(sk, (size_t)(DOPY_REC_HDR + DOPY_HDR_LEN + 30));
}

Test(rec, paused_recording_takes_nothing)
{
	struct dopy_rec *r;
	size_t sk;
	uint32_t last = 0;

	cr_assert_eq(dopy_rec_open(path, 's', &r), 0);
	record(r, 2, 5);
	cr_assert_eq(dopy_rec_switch(path, 0), 0);
	record(r, 2, 5);		/* an open writer sees it at once */
	cr_assert_eq(dopy_rec_switch(path, 1), 0);
	record(r, 1, 5);
	dopy_rec_close(r);
	cr_assert_eq(count(&sk, &last), 3);
}

Test(rec, other_files_are_refused)
{
	struct dopy_rec *r = NULL;
	int fd;

	cr_assert_geq(fd = open(path, O_WRONLY | O_CREAT, 0600), 0);
	cr_assert_eq(write(fd, "notes\n", 6), 6);
	close(fd);
	cr_assert_eq(dopy_rec_open(path, 's', &r), DOPY_E_INVAL);
	cr_assert_null(r);
	cr_assert_eq(dopy_rec_switch(path, 1), DOPY_E_INVAL);
}
