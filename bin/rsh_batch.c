/*
 * rsh_batch.c - dopy-rsh -b: calls from standard input, one a line,
 * sent pipelined over one connection, answers printed in input order.
 */
#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rsh.h"
#include "rsh_json.h"

#define WINDOW		64	/* lines between reading and printing */
#define MAXWORDS	66	/* object, method and 64 arguments */

/* Standard input, read with read(2) so that we can tell whether a line
 * is waiting (stdio would hide what it has buffered). */
struct input {
	char	*buf;
	size_t	 off, len, cap;
	int	 eof;
	long	 lineno;
};

/* The end of the next whole line, if it is in the buffer. */
static char *
line_end(const struct input *in)
{
	if (in->off >= in->len)
		return NULL;
	return memchr(in->buf + in->off, '\n', in->len - in->off);
}

/* Whether next_line() would return without waiting. */
static int
input_ready(const struct input *in)
{
	struct pollfd pfd = { STDIN_FILENO, POLLIN, 0 };

	return in->eof || line_end(in) != NULL || poll(&pfd, 1, 0) > 0;
}

/* Room for more input after what is still unread. */
static void
input_room(struct input *in)
{
	char *nb;

	if (in->off > 0) {
		memmove(in->buf, in->buf + in->off, in->len - in->off);
		in->len -= in->off;
		in->off = 0;
	}
	if (in->cap - in->len >= 4096)
		return;
	in->cap = in->cap ? 2 * in->cap : 65536;
	if ((nb = realloc(in->buf, in->cap)) == NULL)
		err(ST_CONN, "reading standard input");
	in->buf = nb;
}

/* The next line without its newline (valid until the next call), or
 * NULL at the end of the input. */
static char *
next_line(struct input *in)
{
	char *line, *nl;
	ssize_t n;

	for (;;) {
		line = in->buf + in->off;
		if ((nl = line_end(in)) != NULL ||
		    (in->eof && in->off < in->len)) {
			if (nl == NULL)		/* room was left for this */
				nl = in->buf + in->len++;
			*nl = '\0';
			in->off = nl + 1 - in->buf;
			in->lineno++;
			return line;
		}
		if (in->eof)
			return NULL;
		input_room(in);
		n = read(STDIN_FILENO, in->buf + in->len, in->cap - in->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			warn("standard input");
		if (n <= 0)
			in->eof = 1;
		else
			in->len += n;
	}
}

/* One input line on its way from the input to the output. */
struct slot {
	long		 line;
	dopy_future	*f;		/* in flight, or NULL */
	dopy_stream	*st;		/* ... or a stream's */
	dopy_type	*item;		/* its items' declared type */
	int		 code;		/* 0 or the failure's code */
	int		 notrun;	/* never sent for want of a connection */
	int		 unknown;	/* in flight when the connection went */
	const char	*name;		/* a failure found here: its name */
	dopy_value	*result;
	dopy_error	*err;
	char		*object, *method;	/* the call, for -j */
};

struct batch {
	dopy_conn	*conn;
	const char	*object;	/* from the command line, or NULL */
	struct slot	 ring[WINDOW];	/* in input order from head */
	size_t		 head, n;
	struct rsh_descs descs;		/* objects described */
	int		 lost;		/* send no more */
	int		 status;
	long		 nnotrun;
};

static void
local_failure(struct slot *s, int code, const char *name, const char *msg)
{
	s->code = code;
	s->name = name;
	s->err = dopy_error_new(code, "%s", msg);
}

/* The call a line makes, kept for its errors with -j. */
static void
slot_call(struct slot *s, const char *object, const char *method)
{
	if (!jflag)
		return;
	if ((s->object = strdup(object)) == NULL ||
	    (s->method = strdup(method)) == NULL)
		err(ST_CONN, NULL);
}

/* The connection is gone: nothing more is sent. */
static int
conn_gone(struct batch *b, int code)
{
	return code == DOPY_E_LOST || code == DOPY_E_TIMEOUT ||
	    code == DOPY_E_CLOSED || code == DOPY_E_SYS ||
	    dopy_conn_fd(b->conn) < 0;
}

static void
send_call(struct batch *b, struct slot *s, struct req *rq)
{
	dopy_proxy *proxy;
	int r;

	if ((proxy = dopy_proxy_new(b->conn, rq->object)) == NULL)
		err(ST_CONN, NULL);
	if (rq->stream) {	/* its items are printed before its line */
		r = dopy_proxy_stream(proxy, rq->method, rq->args, &s->st,
		    &s->err);
		s->item = rq->result;
		rq->result = NULL;
	} else
		r = dopy_proxy_call_async(proxy, rq->method, rq->args, NULL,
		    NULL, &s->f, &s->err);
	dopy_proxy_free(proxy);
	if (r < 0) {
		s->code = r;
		b->lost = s->notrun = conn_gone(b, r);
	}
}

/* A JSON line's arguments, typed by the signature in methods. */
static int
prepare_json(struct req *rq, const dopy_value *methods,
    const struct rsh_jline *jl)
{
	const char *name;
	char msg[200];
	int st;

	if ((st = rsh_find_sig(rq, methods)) != ST_OK)
		return st;
	if ((rq->args = dopy_args_new()) == NULL)
		return rsh_refuse(rq, ST_REMOTE, "", "out of memory");
	if (rsh_jline_has_args(jl) && rsh_jline_args(jl, rq->sig, rq->args,
	    &name, msg, sizeof(msg)) < 0)
		return rsh_refuse(rq, ST_USAGE, name, "%s.%s: %s", rq->object,
		    rq->method, msg);
	return ST_OK;
}

/* With -j, a line {"object":..., "method":..., "args":...}: the object
 * from the command line unless the line names one. */
static void
run_json_line(struct batch *b, struct slot *s, const char *line)
{
	struct req rq = { NULL, NULL, NULL, NULL, NULL, NULL, "", 0 };
	const dopy_value *methods;
	struct rsh_jline *jl;
	int st;

	if ((jl = rsh_json_line(line, rq.msg, sizeof(rq.msg))) == NULL ||
	    (rq.object = rsh_jline_object(jl, b->object)) == NULL) {
		local_failure(s, DOPY_E_USAGE, "dopy-rsh.JSONError",
		    jl == NULL ? rq.msg : "no \"object\"");
		rsh_jline_free(jl);
		return;
	}
	rq.method = rsh_jline_method(jl);
	slot_call(s, rq.object, rq.method);
	if ((st = rsh_descs_get(&b->descs, rq.object, &methods,
	    &s->err)) < 0) {
		s->code = st;
		b->lost = s->notrun = conn_gone(b, st);
		goto done;
	}
	if ((st = prepare_json(&rq, methods, jl)) != ST_OK) {
		local_failure(s, st == ST_CONN ? DOPY_E_PROTO :
		    DOPY_E_USAGE, rq.why, rq.msg);
		goto done;
	}
	send_call(b, s, &rq);
done:
	rsh_req_release(&rq);
	rsh_jline_free(jl);
}

/* Parse one line and send its call, or say why not. */
static void
run_line(struct batch *b, struct slot *s, char *line)
{
	struct req rq = { NULL, NULL, NULL, NULL, NULL, NULL, "", 0 };
	const dopy_value *methods;
	char *words[MAXWORDS];
	const char *why;
	int n, first = b->object == NULL, st;

	if (jflag && rsh_json_is_line(line)) {
		run_json_line(b, s, line);
		return;
	}
	if ((n = rsh_split(line, words, MAXWORDS, &why)) < 0 || n < first + 1) {
		local_failure(s, DOPY_E_USAGE, "dopy-rsh.SyntaxError",
		    n < 0 ? why : "no method");
		return;
	}
	rq.object = first ? words[0] : b->object;
	rq.method = words[first];
	slot_call(s, rq.object, rq.method);
	/* Described once per object: the arguments' types, and whether
	 * the method streams. */
	if ((st = rsh_descs_get(&b->descs, rq.object, &methods,
	    &s->err)) < 0) {
		s->code = st;
		b->lost = s->notrun = conn_gone(b, st);
		return;
	}
	if ((st = rsh_prepare(&rq, methods, n - first - 1,
	    words + first + 1)) != ST_OK) {
		local_failure(s, st == ST_CONN ? DOPY_E_PROTO :
		    DOPY_E_USAGE, rq.why, rq.msg);
		rsh_req_release(&rq);
		return;
	}
	send_call(b, s, &rq);
	rsh_req_release(&rq);
}

/* What kind of failure, for the output (dopy-rsh(1), BATCH MODE). */
static const char *
kind_of(const struct slot *s)
{
	if (s->notrun)
		return "notrun";
	if (s->code == DOPY_E_REMOTE)
		return "remote";
	if (s->code == DOPY_E_TIMEOUT)
		return "timeout";
	return s->unknown ? "lost" : "usage";
}

/* A line's share of the exit status: as the one-shot mode's for the
 * same failure.  s->name marks one found here, which the server never
 * saw and --graceful does not name. */
static int
slot_status(const struct slot *s)
{
	const char *kind = kind_of(s);

	if (s->code == 0 || (s->name == NULL && rsh_is_graceful(s->err)))
		return ST_OK;
	if (strcmp(kind, "remote") == 0)
		return ST_REMOTE;
	if (strcmp(kind, "usage") == 0)
		return ST_USAGE;
	return ST_CONN;
}

/* A result on one line: text as the one-shot mode prints it, but a
 * string with control characters, and bytes, quoted as inside [..]. */
static char *
line_text(const dopy_value *v)
{
	enum dopy_kind k = dopy_value_kind(v);
	const unsigned char *p;
	dopy_value *a = NULL;
	dopy_type *t;
	char tname[16], *s;
	size_t i, n;

	if (k == DOPY_STRING) {
		p = dopy_value_get_bytes(v, &n);
		for (i = 0; i < n && p[i] >= 0x20 && p[i] != 0x7f; i++)
			;
		if (i == n)
			return dopy_value_format(v);
	}
	if (k != DOPY_STRING && k != DOPY_BYTES)
		return dopy_value_format(v);
	snprintf(tname, sizeof(tname), "%s[]", k == DOPY_STRING ? "string" :
	    "bytes");
	if ((t = dopy_type_parse(tname, NULL, 0)) != NULL &&
	    (a = dopy_value_new(t)) != NULL)
		dopy_value_append(a, dopy_value_copy(v));
	dopy_type_free(t);
	if ((s = dopy_value_format(a)) != NULL && (n = strlen(s)) >= 2) {
		memmove(s, s + 1, n - 2);	/* the brackets go */
		s[n - 2] = '\0';
	}
	dopy_value_free(a);
	return s;
}

/* {"line":N,"KEY":JSON} */
static void
json_line(long line, const char *key, const char *json)
{
	char *s;

	if (asprintf(&s, "{\"line\":%ld,\"%s\":%s}", line, key, json) < 0)
		err(ST_CONN, NULL);
	rsh_json_out(s);
	free(s);
}

static void
print_ok(const struct slot *s)
{
	char *text = NULL;

	if (s->result != NULL && (text = jflag ? dopy_value_json(s->result) :
	    line_text(s->result)) == NULL)
		err(ST_CONN, NULL);
	if (jflag)
		json_line(s->line, "result", text != NULL ? text : "null");
	else
		printf("%s\n", text != NULL ? text : "");
	free(text);
}

static void
print_failure(const struct slot *s)
{
	const char *name = s->name != NULL ? s->name : dopy_error_name(s->err);
	char *jn, *m, *p;

	if ((m = strdup(s->err != NULL ? dopy_error_message(s->err) :
	    dopy_strerror(s->code))) == NULL)
		err(ST_CONN, NULL);
	for (p = m; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (jflag) {
		jn = rsh_json_error(kind_of(s), s->err, name, m, s->object,
		    s->method, slot_status(s));
		json_line(s->line, "error", jn);
		free(jn);
	} else
		printf("error: %s: %s%s%s\n", kind_of(s), name,
		    *name != '\0' ? ": " : "", m);
	free(m);
}

/* The whole story of a failure on standard error, as the one-shot mode
 * tells it. */
static void
tell_failure(const struct slot *s)
{
	char *msg;
	size_t n;

	if (s->notrun || s->err == NULL)
		return;
	if (s->name != NULL) {		/* found here: no more to tell */
		warnx("line %ld: %s", s->line, dopy_error_message(s->err));
		return;
	}
	if ((msg = dopy_error_format(s->err)) == NULL)
		err(ST_CONN, NULL);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	warnx("line %ld: %s", s->line, msg);
	free(msg);
}

/* A stream's items, each on a line of its own as it comes (text as a
 * result's line, or {"line":N,"item":...}); then its end's code. */
static int
print_items(struct slot *s)
{
	dopy_value *v = NULL;
	char *text;
	int r;

	while ((r = dopy_stream_next(s->st, &v, &s->err)) == 1) {
		text = jflag ? rsh_json_typed(v, s->item) : line_text(v);
		dopy_value_free(v);
		if (text == NULL)
			err(ST_CONN, NULL);
		if (jflag)
			json_line(s->line, "item", text);
		else
			printf("%s\n", text);
		free(text);
		if (fflush(stdout) == EOF)
			err(ST_REMOTE, "stdout");
	}
	return r;
}

/* Wait for the oldest line's answer, print it and free its slot. */
static void
finish_oldest(struct batch *b)
{
	struct slot *s = &b->ring[b->head];
	int st;

	if (s->st != NULL) {
		s->code = print_items(s);
		if (s->code < 0 && conn_gone(b, s->code))
			b->lost = s->unknown = 1;
	}
	if (s->f != NULL) {
		/* What is printed is seen before we wait. */
		if (!dopy_future_ready(s->f) && fflush(stdout) == EOF)
			err(ST_REMOTE, "stdout");
		s->code = dopy_future_wait(s->f, &s->result, &s->err);
		if (s->code < 0 && conn_gone(b, s->code))
			b->lost = s->unknown = 1;
	}
	if (s->notrun)
		b->lost = 1;
	if (s->code == 0)
		print_ok(s);
	else {
		print_failure(s);
		tell_failure(s);
	}
	if ((st = slot_status(s)) > b->status)
		b->status = st;
	b->nnotrun += s->notrun;
	dopy_stream_free(s->st);
	dopy_type_free(s->item);
	dopy_future_free(s->f);
	dopy_value_free(s->result);
	dopy_error_free(s->err);
	free(s->object);
	free(s->method);
	memset(s, 0, sizeof(*s));
	b->head = (b->head + 1) % WINDOW;
	b->n--;
}

static void
finish_all(struct batch *b)
{
	while (b->n > 0)
		finish_oldest(b);
	if (fflush(stdout) == EOF)
		err(ST_REMOTE, "stdout");
}

static struct slot *
next_slot(struct batch *b, long line)
{
	struct slot *s;

	if (b->n == WINDOW)
		finish_oldest(b);
	s = &b->ring[(b->head + b->n++) % WINDOW];
	s->line = line;
	return s;
}

/* A line of the batch that says nothing. */
static int
empty(const char *line)
{
	while (rsh_blank(*line))
		line++;
	return *line == '\0' || *line == '#';
}

int
rsh_batch(dopy_conn *conn, const char *object)
{
	struct batch b;
	struct input in;
	struct slot *s;
	char *line;

	memset(&b, 0, sizeof(b));
	memset(&in, 0, sizeof(in));
	b.conn = conn;
	b.descs.conn = conn;
	b.object = object;
	for (;;) {
		/* Answers are printed before we wait for more input, so
		 * that a person typing sees each as it comes. */
		if (b.n > 0 && !input_ready(&in))
			finish_all(&b);
		if ((line = next_line(&in)) == NULL)
			break;
		if (empty(line))
			continue;
		s = next_slot(&b, in.lineno);
		if (b.lost) {
			s->notrun = 1;
			s->code = DOPY_E_CLOSED;
			s->err = dopy_error_new(DOPY_E_CLOSED, "not sent: the "
			    "connection was lost before this line");
		} else
			run_line(&b, s, line);
	}
	finish_all(&b);
	if (b.nnotrun > 0)
		warnx("%ld line%s not run", b.nnotrun, b.nnotrun > 1 ? "s" :
		    "");
	rsh_descs_free(&b.descs);
	free(in.buf);
	return b.status;
}
