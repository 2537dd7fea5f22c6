/*
 * fuzz_dump.c - libFuzzer harness for what dopy-dump(1) reads: the
 * input as a recording, through dopy_recread from a descriptor (as the
 * program reads a file or a pipe), every record's frame decoded by
 * dopy_frame_json; and the same input as a raw stream of frames, each
 * decoded by dopy_frame_json from a buffer of exactly its size, so
 * that ASan sees any over-read.  Every line must be one line.
 *
 * Built by `make fuzz`; run by tests/run-fuzz.sh over a copy of
 * tests/corpus/dump.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A line of JSON ends in '}' and holds no newline. */
static void
check_line(char *line)
{
	size_t n;

	if (line == NULL)
		fuzz_die("dopy_frame_json: NULL");
	n = strlen(line);
	if (n < 2 || line[0] != '{' || line[n - 1] != '}' ||
	    strchr(line, '\n') != NULL)
		fuzz_die("not one JSON object: %s", line);
	free(line);
}

static void
as_recording(const uint8_t *data, size_t size)
{
	int fd = fuzz_input_fd(data, size);
	struct dopy_recread *r = dopy_recread_new(fd);
	struct dopy_recent e;
	size_t skipped, total = 0;
	int k;

	if (r == NULL)
		fuzz_die("dopy_recread_new");
	while ((k = dopy_recread_next(r, &e, &skipped)) == 1) {
		total += skipped + DOPY_REC_HDR + DOPY_HDR_LEN + e.len;
		check_line(dopy_frame_json(e.hdr, e.payload, e.len,
		    "\"from\":\"client\"", 0));
	}
	if (k < 0)
		fuzz_die("dopy_recread_next: %d", k);
	/* Every byte is in a record or counted as skipped. */
	if (total + skipped > size)
		fuzz_die("read %zu bytes of %zu", total + skipped, size);
	dopy_recread_free(r);
	close(fd);
}

/* Frames back to back, whatever their magic and type (dopy-dump
 * prints those too), each header and payload in a block of its own. */
static void
as_frames(const uint8_t *data, size_t size)
{
	uint8_t hdr[DOPY_HDR_LEN], *p;
	size_t off = 0, len;

	while (size - off >= DOPY_HDR_LEN) {
		memcpy(hdr, data + off, DOPY_HDR_LEN);
		len = (size_t)hdr[8] << 24 | (size_t)hdr[9] << 16 |
		    (size_t)hdr[10] << 8 | hdr[11];
		if (len > size - off - DOPY_HDR_LEN ||
		    (p = malloc(len ? len : 1)) == NULL)
			return;
		memcpy(p, data + off + DOPY_HDR_LEN, len);
		check_line(dopy_frame_json(hdr, p, len, NULL, 0));
		check_line(dopy_frame_json(hdr, p, len, NULL, 64));
		free(p);
		off += DOPY_HDR_LEN + len;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	as_recording(data, size);
	as_frames(data, size);
	return 0;
}
