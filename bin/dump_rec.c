/*
 * dump_rec.c - a recording (dopy-dump(1), RECORDINGS), record by
 * record: who recorded it and when, then the frame as framejson.c
 * decodes it.  Torn records and garbage are passed over by recread.c
 * and reported as {"skipped":N}.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"

/*
 * The members before the frame's.  The time is a JSON number with 9
 * decimals: jq can compare and subtract it (as a double, to about a
 * microsecond); the digits are exact for whoever reads them as text.
 */
static void
rec_extra(const struct dopy_recent *e, char *buf, size_t size)
{
	int in = e->dir == 'i', server = e->side == 's';
	int n;

	n = snprintf(buf, size, "\"time\":%" PRIu64 ".%09" PRIu64 ","
	    "\"pid\":%" PRIu32 ",\"conn\":%" PRIu32 ",\"seq\":%" PRIu32
	    ",\"side\":\"%s\",\"from\":\"%s\"", e->time_ns / 1000000000u,
	    e->time_ns % 1000000000u, e->pid, e->conn, e->seq,
	    server ? "server" : "client",
	    server == in ? "client" : "server");
	if (e->flags & DOPY_REC_OMIT)
		n += snprintf(buf + n, size - (size_t)n, ",\"omitted\":true");
	if (e->flags & DOPY_REC_CUT)
		snprintf(buf + n, size - (size_t)n, ",\"cut\":%" PRIu32,
		    e->orig_len);
}

/*
 * A record whose payload the recorder left out on purpose (omitted, or
 * cut for size) fails to decode by design: the "bad" framejson.c then
 * ends the line with says nothing about the frame, so it goes.
 */
static void
drop_bad(char *line)
{
	char *p = strstr(line, ",\"bad\":\"");

	if (p != NULL)
		strcpy(p, "}");
}

static void
print_record(const struct dopy_recent *e)
{
	char extra[256], *line;

	rec_extra(e, extra, sizeof(extra));
	if ((line = dopy_frame_json(e->hdr, e->payload, e->len, extra,
	    0)) == NULL) {
		dump_warn(NULL, "out of memory");
		return;
	}
	if ((e->flags & (DOPY_REC_OMIT | DOPY_REC_CUT)) && e->len == 0)
		drop_bad(line);
	dump_line(line);
	free(line);
}

static void
print_skipped(size_t n)
{
	char line[64];

	snprintf(line, sizeof(line), "{\"skipped\":%zu}", n);
	dump_line(line);
	dump_worse(DUMP_BAD);
}

void
dump_recording(struct dump_in *in)
{
	struct dopy_recread *r;
	struct dopy_recent e;
	size_t skipped;
	int k;

	if ((r = dopy_recread_new(in->fd)) == NULL ||
	    dopy_recread_unread(r, in->head, in->nhead) < 0) {
		dopy_recread_free(r);
		dump_warn(in, "out of memory");
		return;
	}
	while ((k = dopy_recread_next(r, &e, &skipped)) >= 0) {
		if (skipped > 0)
			print_skipped(skipped);
		if (k == 0)
			break;
		print_record(&e);
	}
	if (k < 0)
		dump_warn(in, k == DOPY_E_SYS ? "read error" : "out of memory");
	dopy_recread_free(r);
}
