/*
 * replay_cmp.c - whether a server answered as it did when recorded, and
 * the line that says where not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

static int
same_str(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

/* Errors compare by name and message: traces, host and pid are the
 * run's, not the server's behaviour (and dopyd -E leaves them out). */
static int
same_error(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	dopy_error *ea = NULL, *eb = NULL;
	int same;

	if (dopy_msg_error_get(a, alen, &ea) < 0 ||
	    dopy_msg_error_get(b, blen, &eb) < 0)
		same = alen == blen && memcmp(a, b, alen) == 0;
	else
		same = same_str(ea->name, eb->name) &&
		    same_str(ea->message, eb->message);
	dopy_error_free(ea);
	dopy_error_free(eb);
	return same;
}

int
rp_same(const struct rp_rec *rec, const uint8_t *hdr, const uint8_t *payload,
    size_t len)
{
	/* Type, flags and id: the bytes 2 to 7 of the header. */
	if (memcmp(rec->hdr + 2, hdr + 2, 6) != 0)
		return 0;
	/* A payload left out (-W) or cut cannot be compared. */
	if (rec->flags & (DOPY_REC_OMIT | DOPY_REC_CUT))
		return 1;
	switch (rp_type(rec)) {
	case DOPY_F_ERROR:
		return same_error(rec->payload, rec->len, payload, len);
	case DOPY_F_REPLY:
	case DOPY_F_ITEM:
	case DOPY_F_CALLBACK:
		return rec->len == len && memcmp(rec->payload, payload,
		    len) == 0;
	default:	/* HELLO: the software's version differs */
		return 1;
	}
}

static void
member(struct dopy_buf *b, const char *name, const char *v)
{
	dopy_buf_put(b, ",\"", 2);
	dopy_buf_put(b, name, strlen(name));
	dopy_buf_put(b, "\":", 2);
	if (v == NULL)
		dopy_buf_put(b, "null", 4);
	else
		dopy_json_quote(b, v, strlen(v), 0);
}

void
rp_what_json(struct dopy_buf *b, const struct rp_rec *call)
{
	struct dopy_callmsg m;
	char err[80];
	size_t skip = 0;
	int ok = 0;

	if (call != NULL && (call->flags & (DOPY_REC_OMIT | DOPY_REC_CUT)) ==
	    0 && dopy_msg_call_body(call->payload, call->len, call->hdr[3],
	    &skip) == 0)
		ok = dopy_msg_call_get(call->payload + skip, call->len - skip,
		    &m, err, sizeof(err)) == 0;
	member(b, "object", ok ? m.object : NULL);
	member(b, "method", ok ? m.method : NULL);
	if (ok)
		dopy_msg_call_release(&m);
}

/* A frame's JSON (dopy-dump(1)), or null. */
static void
frame_json(struct dopy_buf *b, const uint8_t *hdr, const uint8_t *payload,
    size_t len)
{
	char *j;

	if (hdr == NULL || (j = dopy_frame_json(hdr, payload, len, NULL,
	    0)) == NULL) {
		dopy_buf_put(b, "null", 4);
		return;
	}
	dopy_buf_put(b, j, strlen(j));
	free(j);
}

void
rp_report(const struct rp_conn *c, const struct rp_rec *call,
    const struct rp_rec *rec, const uint8_t *hdr, const uint8_t *payload,
    size_t len)
{
	struct dopy_buf b;
	char head[96];

	dopy_buf_init(&b);
	snprintf(head, sizeof(head), "{\"conn\":%u,\"pid\":%u,\"id\":%u",
	    c->conn, c->pid, rp_id(rec));
	dopy_buf_put(&b, head, strlen(head));
	rp_what_json(&b, call);
	dopy_buf_put(&b, ",\"recorded\":", 12);
	frame_json(&b, rec->hdr, rec->payload, rec->len);
	dopy_buf_put(&b, ",\"replayed\":", 12);
	frame_json(&b, hdr, payload, len);
	dopy_buf_put(&b, "}\n", 2);
	fwrite(b.data + b.off, 1, b.len - b.off, stdout);
	fflush(stdout);
	dopy_buf_release(&b);
}
