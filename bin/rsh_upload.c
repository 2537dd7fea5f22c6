/*
 * rsh_upload.c - a one-shot call of a method that takes an upload (a
 * last parameter "NAME:stream T"): its items come from standard input,
 * read as they are sent, so a file of any size goes through in an
 * item's memory.  Bytes go in chunks of UPLOAD_CHUNK as they are read;
 * strings one line each (without its newline); other types one line
 * each, as a literal, or as JSON with -j.  Only where standard input is
 * free: not in the console or a batch, which read their commands there.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dopy.h"
#include "rsh.h"
#include "rsh_json.h"

#define UPLOAD_CHUNK	(64 * 1024)

/* A line as an item of type t, or NULL with the reason in msg. */
static dopy_value *
line_item(char *line, ssize_t n, const dopy_type *t, char *msg, size_t len)
{
	if (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	if (dopy_type_kind(t) == DOPY_STRING) {
		if (strlen(line) != (size_t)n) {
			snprintf(msg, len, "a line holds a NUL byte");
			return NULL;
		}
		return dopy_value_string(line);
	}
	if (jflag)
		return rsh_json_value(line, t, msg, len);
	return dopy_value_parse(t, line, msg, len);
}

/* Send what stdin holds, a line an item: 1 when the call answered
 * early, 0 at EOF, or a failure (err, or msg for a bad line). */
static int
send_lines(dopy_upload *u, const dopy_type *t, dopy_error **err, char *msg,
    size_t len)
{
	char *line = NULL, what[200];
	size_t cap = 0;
	ssize_t n;
	long no = 0;
	dopy_value *v;
	int r = 0;

	while (r == 0 && (n = getline(&line, &cap, stdin)) >= 0) {
		no++;
		if ((v = line_item(line, n, t, what, sizeof(what))) == NULL) {
			snprintf(msg, len, "standard input, line %ld: %s", no,
			    what);
			r = DOPY_E_TYPE;
			break;
		}
		r = dopy_upload_send(u, v, err);
	}
	free(line);
	return r;
}

static int
send_chunks(dopy_upload *u, dopy_error **err)
{
	char *buf;
	size_t n;
	int r = 0;

	if ((buf = malloc(UPLOAD_CHUNK)) == NULL) {
		*err = dopy_error_new(DOPY_E_NOMEM, "out of memory");
		return DOPY_E_NOMEM;
	}
	while (r == 0 && (n = fread(buf, 1, UPLOAD_CHUNK, stdin)) > 0)
		r = dopy_upload_send(u, dopy_value_bytes(buf, n), err);
	free(buf);
	return r;
}

int
rsh_call_upload(dopy_proxy *proxy, struct req *rq, dopy_value **result,
    dopy_error **err)
{
	const dopy_type *t = dopy_sig_upload(rq->sig, NULL);
	dopy_upload *u = NULL;
	char msg[300] = "";
	int r;

	if ((r = dopy_proxy_upload(proxy, rq->method, rq->args, &u, err)) < 0)
		return r;
	r = dopy_type_kind(t) == DOPY_BYTES ? send_chunks(u, err) :
	    send_lines(u, t, err, msg, sizeof(msg));
	if (r == 0 && ferror(stdin)) {
		snprintf(msg, sizeof(msg), "cannot read standard input");
		r = DOPY_E_SYS;
	}
	if (msg[0] != '\0' || (r < 0 && r != DOPY_E_REMOTE)) {
		/* Nothing more to send: the server must not take the
		 * items so far for the whole. */
		(void)dopy_upload_cancel(u, NULL);
		dopy_upload_free(u);
		if (msg[0] != '\0') {
			dopy_error_free(*err);
			*err = dopy_error_new(r, "%s.%s: %s", rq->object,
			    rq->method, msg);
		}
		return r;
	}
	r = dopy_upload_finish(u, result, err);
	dopy_upload_free(u);
	return r;
}
