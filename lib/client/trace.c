/*
 * trace.c - a client's own view of its connection: DOPY_RECORD=file
 * records it (dopy-dump(1)), DOPY_VERBOSE=1 writes each frame to
 * standard error as dopy-dump prints it.  Both watch the channel's tap,
 * and cost nothing when unset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "client/client.h"

static dopy_conn *
conn_of(struct dopy_tap *t)
{
	return (dopy_conn *)(void *)((char *)t - offsetof(dopy_conn, tap));
}

/* One line, written whole: threads and processes may share stderr. */
static void
say(int out, const uint8_t *hdr, const struct iovec *pl, int cnt)
{
	char *json = dopy_frame_json_iov(hdr, pl, cnt, 0), *line;

	line = dopy_asprintf("dopy[%ld]: %s %s\n", (long)getpid(),
	    out ? "send" : "recv", json != NULL ? json : "(out of memory)");
	if (line != NULL && write(STDERR_FILENO, line, strlen(line)) < 0)
		(void)0;	/* nowhere to say so */
	free(line);
	free(json);
}

static void
tap_frame(struct dopy_tap *t, int out, const uint8_t *hdr,
    const struct iovec *pl, int cnt)
{
	dopy_conn *c = conn_of(t);

	if (c->rec != NULL)
		dopy_rec_frame(c->rec, out, hdr, pl, cnt);
	if (c->verbose)
		say(out, hdr, pl, cnt);
}

void
dopy_conn_trace_begin(dopy_conn *c)
{
	const char *rec = getenv("DOPY_RECORD"), *v = getenv("DOPY_VERBOSE");
	int r;

	c->verbose = v != NULL && strcmp(v, "1") == 0;
	if (rec != NULL && rec[0] != '\0' && c->rec == NULL) {
		if ((r = dopy_rec_open(rec, 'c', &c->rec)) < 0)
			fprintf(stderr, "dopy: DOPY_RECORD=%s: not recording: "
			    "%s\n", rec, r == DOPY_E_INVAL ?
			    "not a dopy recording" : dopy_strerror(r));
		else
			dopy_rec_next_conn(c->rec);
	}
	if (c->rec == NULL && !c->verbose)
		return;
	c->tap.frame = tap_frame;
	c->chan.tap = &c->tap;
}

void
dopy_conn_trace_redial(dopy_conn *c)
{
	c->chan.tap = c->tap.frame != NULL ? &c->tap : NULL;
	if (c->rec != NULL)
		dopy_rec_next_conn(c->rec);
}

void
dopy_conn_trace_end(dopy_conn *c)
{
	c->chan.tap = NULL;
	dopy_rec_close(c->rec);
	c->rec = NULL;
}
