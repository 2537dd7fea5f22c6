/*
 * dopy-rsh - call a method of a dopy server from the shell.
 *
 * With no object, list the server's objects; with an object, its
 * methods; with a method, call it.  Arguments are converted against the
 * signature the server describes, so "2" is an int where the method
 * wants one and a string where it wants a string.  With -b it reads
 * calls from standard input, one a line, sends them pipelined over one
 * connection and prints one line per call, in input order.
 */
#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dopy.h"
#include "rsh_json.h"

/* Exit statuses, dopy-rsh(1). */
#define ST_OK		0
#define ST_REMOTE	1	/* the method raised an error */
#define ST_USAGE	2	/* the call could not be made as asked */
#define ST_CONN		3	/* connection or protocol failure */

static int	jflag, oflag;
/* The call being made, whose names a JSON error carries. */
static const char *call_object, *call_method;

/* With -j a failure is also one line of JSON on stdout, for the script
 * that reads the result there (dopy-rsh(1), JSON). */
static void
json_failure(const dopy_error *err, const char *name, const char *msg,
    const char *object, const char *method, int st)
{
	char *s;

	if (!jflag)
		return;
	s = rsh_json_error(NULL, err, name, msg,
	    object != NULL ? object : call_object,
	    method != NULL ? method : call_method, st);
	printf("{\"error\":%s}\n", s);
	free(s);
}

/* --graceful=ERROR: remote errors a script expects (varlinkctl's). */
#define MAXGRACEFUL	64
static const char *graceful[MAXGRACEFUL];
static size_t	 ngraceful;

/* --help, what users of every other tool try, and --graceful. */
#define OPT_GRACEFUL	256
static const struct option long_opts[] = {
	{ "graceful", required_argument, NULL, OPT_GRACEFUL },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* As the man page's SYNOPSIS renders. */
static void
print_usage(FILE *fp)
{
	int pad = 8 + (int)strlen(getprogname());

	fprintf(fp,
	    "usage: %s [-hjo] [--graceful=error] [-k keyfile] [-t timeout] "
	    "target\n"
	    "%*s[object [method [arg | name=value ...]]]\n"
	    "       %s -b [-j] [--graceful=error] [-k keyfile] [-t timeout] "
	    "target\n"
	    "%*s[object]\n",
	    getprogname(), pad, "", getprogname(), pad, "");
}

static void __attribute__((noreturn))
usage(int status)
{
	print_usage(status == 0 ? stdout : stderr);
	exit(status);
}

/* -h: what the man page says first, for a user at the prompt. */
static void __attribute__((noreturn))
help(void)
{
	print_usage(stdout);
	fputs("\n"
	    "List a dopy server's objects, describe an object's methods, "
	    "or call one.\n"
	    "\n"
	    "Options:\n"
	    "  -b          batch mode: calls from standard input, one a "
	    "line\n"
	    "  --graceful=error\n"
	    "              exit 0 when the server answers with the error "
	    "named error\n"
	    "  -h, --help  print this help and exit\n"
	    "  -j          print results (in batch mode, lines) as JSON\n"
	    "  -k keyfile  authenticate both ways with the shared key in "
	    "keyfile\n"
	    "  -o          send the call oneway: exit once it is sent, "
	    "print nothing\n"
	    "  -t timeout  give up on a call silent for timeout seconds "
	    "(1 to 86400)\n"
	    "\n"
	    "Targets:\n"
	    "  tcp://host:port[/object]  or  tcp:host:port[:object]\n"
	    "  unix:path[#object]\n"
	    "  ssh://[user@]host[:port][/command][#object]\n"
	    "  name:name                 an object bound in the naming "
	    "service of $DOPY_NS\n"
	    "  exec:command              a command run with pipes to it; "
	    "so is any other\n"
	    "                            target, such as bin/dopyd or "
	    "'ssh host dopyd'\n"
	    "\n"
	    "Exit status (in batch mode, the highest of its lines):\n"
	    "  0  success, or an error named by --graceful\n"
	    "  1  the method raised an error\n"
	    "  2  usage: bad options, target or arguments, unknown object "
	    "or method\n"
	    "  3  connection or protocol failure, or a timeout: the call "
	    "may or may not have run\n"
	    "\n"
	    "See dopy-rsh(1).\n", stdout);
	exit(fflush(stdout) == EOF ? ST_REMOTE : ST_OK);
}

/* Options that cannot go together: say why, then how to call us. */
static void __attribute__((noreturn))
refuse_options(const char *why)
{
	warnx("%s", why);
	usage(ST_USAGE);
}

/* The exit status for a library error code. */
static int
code_status(int code)
{
	switch (code) {
	case DOPY_E_USAGE:
	case DOPY_E_TYPE:
		return ST_USAGE;
	case DOPY_E_CLOSED:
	case DOPY_E_PROTO:
	case DOPY_E_VERSION:
	case DOPY_E_TOOBIG:
	case DOPY_E_SPAWN:
	case DOPY_E_SYS:
	case DOPY_E_AUTH:
	case DOPY_E_TIMEOUT:
	case DOPY_E_LOST:
		return ST_CONN;
	default:
		return ST_REMOTE;
	}
}

/* Whether the server answered with an error --graceful names. */
static int
is_graceful(const dopy_error *err)
{
	const char *name = dopy_error_name(err);
	size_t i;

	for (i = 0; *name != '\0' && i < ngraceful; i++)
		if (strcmp(graceful[i], name) == 0)
			return 1;
	return 0;
}

/* Report a failed library call, free its error and return the status:
 * the story is told either way, as varlinkctl does, but an expected
 * error is a success. */
static int
failed(int code, dopy_error *err)
{
	char *msg = NULL;
	size_t n;
	int ok = 0;

	if (err != NULL) {
		code = dopy_error_code(err);
		msg = dopy_error_format(err);
		ok = is_graceful(err);
	}
	if (msg != NULL) {
		n = strlen(msg);
		while (n > 0 && msg[n - 1] == '\n')
			msg[--n] = '\0';
		warnx("%s", msg);
	} else
		warnx("%s", dopy_strerror(code));
	json_failure(err, NULL, err == NULL ? dopy_strerror(code) : NULL,
	    NULL, NULL, code_status(code));
	free(msg);
	dopy_error_free(err);
	return ok ? ST_OK : code_status(code);
}

/* One value on its own: strings and bytes as they are, the rest in the
 * text form that dopy-rsh reads back. */
static int
print_one(const dopy_value *v)
{
	const void *p;
	char *s;
	size_t n;

	switch (dopy_value_kind(v)) {
	case DOPY_STRING:
		p = dopy_value_get_bytes(v, &n);
		fwrite(p, 1, n, stdout);
		putchar('\n');
		return 0;
	case DOPY_BYTES:
		/* Raw for a pipe; a newline only to keep a prompt tidy. */
		p = dopy_value_get_bytes(v, &n);
		fwrite(p, 1, n, stdout);
		if (isatty(STDOUT_FILENO))
			putchar('\n');
		return 0;
	default:
		if ((s = dopy_value_format(v)) == NULL)
			return -1;
		puts(s);
		free(s);
		return 0;
	}
}

/*
 * Element i of an array of scalars as a value of its own, or NULL for
 * another array: dopy_value_at would keep a value per element, some 50
 * bytes for each byte of a bool[] a server sends.
 */
static dopy_value *
scalar_at(const dopy_value *a, size_t i)
{
	const uint8_t *b;
	const int64_t *s;
	const uint64_t *u;
	const double *d;
	size_t n;

	if ((b = dopy_value_bools(a, &n)) != NULL)
		return dopy_value_bool(b[i]);
	if ((s = dopy_value_ints(a, &n)) != NULL)
		return dopy_value_int(s[i]);
	if ((u = dopy_value_uints(a, &n)) != NULL)
		return dopy_value_uint(u[i]);
	if ((d = dopy_value_doubles(a, &n)) != NULL)
		return dopy_value_double(d[i]);
	return NULL;
}

/* A result: an array one element a line, for the shell's loops. */
static int
print_result(const dopy_value *v)
{
	dopy_value *e;
	char *s;
	size_t i;
	int r;

	if (v == NULL && jflag)
		return puts("null") == EOF ? -1 : 0;
	if (v == NULL)
		return 0;
	if (jflag) {
		if ((s = dopy_value_json(v)) == NULL)
			return -1;
		puts(s);
		free(s);
		return 0;
	}
	if (dopy_value_kind(v) != DOPY_ARRAY)
		return print_one(v);
	for (i = 0, r = 0; r == 0 && i < dopy_value_len(v); i++) {
		e = scalar_at(v, i);
		r = print_one(e != NULL ? e : dopy_value_at(v, i));
		dopy_value_free(e);
	}
	return r;
}

static int
list_objects(dopy_conn *conn)
{
	dopy_value *names = NULL;
	dopy_error *err = NULL;
	int r;

	if ((r = dopy_list_objects(conn, &names, &err)) < 0)
		return failed(r, err);
	r = print_result(names);
	dopy_value_free(names);
	return r < 0 ? failed(DOPY_E_NOMEM, NULL) : ST_OK;
}

/* Field i of a method description, a string. */
static const char *
mfield(const dopy_value *m, size_t i)
{
	const char *s = dopy_value_get_string(dopy_value_at(m, i));

	return s != NULL ? s : "";
}

static void
print_method(const dopy_value *m)
{
	const char *result = mfield(m, 2), *doc = mfield(m, 3);

	printf("%s(%s)", mfield(m, 0), mfield(m, 1));
	if (*result != '\0')
		printf(" -> %s", result);
	if (*doc != '\0')
		printf("  %s", doc);
	putchar('\n');
}

static int
describe(dopy_conn *conn, const char *object)
{
	dopy_value *methods = NULL;
	dopy_error *err = NULL;
	size_t i;
	int r;

	if ((r = dopy_describe(conn, object, &methods, &err)) < 0)
		return failed(r, err);
	if (jflag)
		rsh_json_describe(methods);
	for (i = 0; !jflag && i < dopy_value_len(methods); i++)
		print_method(dopy_value_at(methods, i));
	dopy_value_free(methods);
	return ST_OK;
}

/* One call being put together from the command line or a batch line. */
struct req {
	const char	*object, *method;
	dopy_sig	*sig;
	dopy_args	*args;
	const char	*why;		/* when it cannot be made: an error name */
	char		 msg[256];	/* and the message */
};

/* The call cannot be made: say why in rq and return st. */
static int
refuse(struct req *rq, int st, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
refuse(struct req *rq, int st, const char *name, const char *fmt, ...)
{
	va_list ap;

	rq->why = name;
	va_start(ap, fmt);
	vsnprintf(rq->msg, sizeof(rq->msg), fmt, ap);
	va_end(ap);
	return st;
}

/* The parameter an argument names ("b=3" names b if b is declared), or
 * -1 when the argument is positional. */
static int
named_param(const struct req *rq, const char *arg)
{
	const char *eq;
	size_t i, n;

	if ((eq = strchr(arg, '=')) == NULL)
		return -1;
	n = eq - arg;
	for (i = 0; i < dopy_sig_len(rq->sig); i++)
		if (strlen(dopy_sig_name(rq->sig, i)) == n &&
		    strncmp(dopy_sig_name(rq->sig, i), arg, n) == 0)
			return i;
	return -1;
}

/* Convert text for parameter i and add it, by name if named. */
static int
add_arg(struct req *rq, size_t i, const char *text, int named)
{
	const char *pname = dopy_sig_name(rq->sig, i);
	dopy_value *v;
	char msg[200];

	v = dopy_value_parse(dopy_sig_type(rq->sig, i), text, msg,
	    sizeof(msg));
	if (v == NULL)
		return refuse(rq, ST_USAGE, "dopy.TypeError",
		    "%s.%s: parameter %s: %s", rq->object, rq->method, pname,
		    msg);
	if (dopy_args_add(rq->args, named ? pname : NULL, v) < 0)
		return refuse(rq, ST_REMOTE, "", "out of memory");
	return ST_OK;
}

/* Positional arguments first, by position, then name=value ones. */
static int
add_args(struct req *rq, int argc, char *argv[])
{
	int i, p, npos = 0, st;

	for (i = 0; i < argc; i++) {
		if ((p = named_param(rq, argv[i])) >= 0)
			st = add_arg(rq, p, strchr(argv[i], '=') + 1, 1);
		else if (npos < i)
			st = refuse(rq, ST_USAGE, "dopy.ArgumentError",
			    "%s.%s: positional argument '%s' after named ones",
			    rq->object, rq->method, argv[i]);
		else if ((size_t)npos >= dopy_sig_len(rq->sig))
			st = refuse(rq, ST_USAGE, "dopy.ArgumentError",
			    "%s.%s: too many arguments (it takes %zu)",
			    rq->object, rq->method, dopy_sig_len(rq->sig));
		else
			st = add_arg(rq, npos++, argv[i], 0);
		if (st != ST_OK)
			return st;
	}
	return ST_OK;
}

/* With -j, arguments as one JSON object or array (or "-": from stdin). */
static int
json_args(struct req *rq, const char *text)
{
	const char *name;
	char msg[200];

	if (rsh_json_args(text, rq->sig, rq->args, &name, msg,
	    sizeof(msg)) < 0)
		return refuse(rq, ST_USAGE, name, "%s.%s: %s", rq->object,
		    rq->method, msg);
	return ST_OK;
}

/* The method's parameters, from the object's description. */
static int
find_sig(struct req *rq, const dopy_value *methods)
{
	const dopy_value *m = NULL;
	char msg[200];
	size_t i;

	for (i = 0; i < dopy_value_len(methods) && m == NULL; i++)
		if (strcmp(mfield(dopy_value_at(methods, i), 0),
		    rq->method) == 0)
			m = dopy_value_at(methods, i);
	if (m == NULL)
		return refuse(rq, ST_USAGE, "dopy.UnknownMethod",
		    "%s: no method '%s'", rq->object, rq->method);
	if ((rq->sig = dopy_sig_parse(mfield(m, 1), msg, sizeof(msg))) ==
	    NULL)
		return refuse(rq, ST_CONN, "dopy.ProtocolError",
		    "%s.%s: server sent a bad signature: %s", rq->object,
		    rq->method, msg);
	return ST_OK;
}

/* Arguments typed by the signature in methods (the object's
 * description, as dopy_describe() gives it). */
static int
prepare(struct req *rq, const dopy_value *methods, int argc, char *argv[])
{
	int st;

	if ((st = find_sig(rq, methods)) != ST_OK)
		return st;
	if ((rq->args = dopy_args_new()) == NULL)
		return refuse(rq, ST_REMOTE, "", "out of memory");
	if (jflag && argc == 1 && rsh_json_is_args(argv[0]))
		return json_args(rq, argv[0]);
	return add_args(rq, argc, argv);
}

static void
req_release(struct req *rq)
{
	dopy_args_free(rq->args);
	dopy_sig_free(rq->sig);
	rq->args = NULL;
	rq->sig = NULL;
}

static int
invoke(dopy_conn *conn, struct req *rq)
{
	dopy_proxy *proxy;
	dopy_value *result = NULL;
	dopy_error *err = NULL;
	int r;

	if ((proxy = dopy_proxy_new(conn, rq->object)) == NULL)
		return failed(DOPY_E_NOMEM, NULL);
	if (oflag && (r = dopy_proxy_set_oneway(proxy, rq->method, 1)) < 0) {
		dopy_proxy_free(proxy);
		return failed(r, NULL);
	}
	r = dopy_proxy_call(proxy, rq->method, rq->args, &result, &err);
	dopy_proxy_free(proxy);
	if (r < 0)
		return failed(r, err);
	r = print_result(result);
	dopy_value_free(result);
	return r < 0 ? failed(DOPY_E_NOMEM, NULL) : ST_OK;
}

static int
call(dopy_conn *conn, const char *object, const char *method, int argc,
    char *argv[])
{
	struct req rq = { object, method, NULL, NULL, NULL, "" };
	dopy_value *methods = NULL;
	dopy_error *err = NULL;
	int st;

	call_object = object;
	call_method = method;
	if ((st = dopy_describe(conn, object, &methods, &err)) < 0)
		return failed(st, err);
	if ((st = prepare(&rq, methods, argc, argv)) != ST_OK) {
		warnx("%s", rq.msg);
		json_failure(NULL, rq.why, rq.msg, object, method, st);
	} else
		st = invoke(conn, &rq);
	dopy_value_free(methods);
	req_release(&rq);
	return st;
}

/* ---- batch mode (-b): calls from standard input, pipelined ---- */

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

static int
blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/*
 * Split line into words in place, as sh(1) would without expansions:
 * blanks separate words; '...' keeps what it holds; "..." too, but a
 * backslash in it escapes " \ $ and `; elsewhere a backslash keeps the
 * next character; an unquoted # at the start of a word begins a comment.
 * Returns the number of words, or -1 with the reason in *why.
 */
static int
split(char *line, char **words, int max, const char **why)
{
	char *r = line, *w = line, *q;
	int n = 0;

	for (;;) {
		while (blank(*r))
			r++;
		if (*r == '\0' || *r == '#')
			return n;
		if (n == max) {
			*why = "too many words";
			return -1;
		}
		words[n++] = w;
		while (*r != '\0' && !blank(*r)) {
			if (*r == '\\' && r[1] != '\0') {
				*w++ = r[1];
				r += 2;
			} else if (*r == '\'') {
				if ((q = strchr(r + 1, '\'')) == NULL) {
					*why = "unterminated '";
					return -1;
				}
				memmove(w, r + 1, q - r - 1);
				w += q - r - 1;
				r = q + 1;
			} else if (*r == '"') {
				for (r++; *r != '"'; *w++ = *r++) {
					if (*r == '\0') {
						*why = "unterminated \"";
						return -1;
					}
					if (*r == '\\' && r[1] != '\0' &&
					    strchr("\"\\$`", r[1]) != NULL)
						r++;
				}
				r++;
			} else
				*w++ = *r++;
		}
		if (*r != '\0')
			r++;		/* w is behind r: the blank is safe */
		*w++ = '\0';
	}
}

/* One input line on its way from the input to the output. */
struct slot {
	long		 line;
	dopy_future	*f;		/* in flight, or NULL */
	int		 code;		/* 0 or the failure's code */
	int		 notrun;	/* never sent for want of a connection */
	int		 unknown;	/* in flight when the connection went */
	const char	*name;		/* a failure found here: its name */
	dopy_value	*result;
	dopy_error	*err;
	char		*object, *method;	/* the call, for -j */
};

/* An object's methods, described once per batch. */
struct desc {
	char		*object;
	dopy_value	*methods;
};

struct batch {
	dopy_conn	*conn;
	const char	*object;	/* from the command line, or NULL */
	struct slot	 ring[WINDOW];	/* in input order from head */
	size_t		 head, n;
	struct desc	*descs;
	size_t		 ndescs;
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

/* The description of object, from the server on first use.  Failures
 * are not kept: an "@ID" object may exist by the next line. */
static int
methods_of(struct batch *b, const char *object, const dopy_value **mp,
    dopy_error **ep)
{
	struct desc *nd;
	dopy_value *m = NULL;
	size_t i;
	int r;

	for (i = 0; i < b->ndescs; i++)
		if (strcmp(b->descs[i].object, object) == 0) {
			*mp = b->descs[i].methods;
			return 0;
		}
	if ((r = dopy_describe(b->conn, object, &m, ep)) < 0)
		return r;
	nd = reallocarray(b->descs, b->ndescs + 1, sizeof(*nd));
	if (nd == NULL || (nd[b->ndescs].object = strdup(object)) == NULL)
		err(ST_CONN, NULL);
	b->descs = nd;
	b->descs[b->ndescs++].methods = m;
	*mp = m;
	return 0;
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
	r = dopy_proxy_call_async(proxy, rq->method, rq->args, NULL, NULL,
	    &s->f, &s->err);
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

	if ((st = find_sig(rq, methods)) != ST_OK)
		return st;
	if ((rq->args = dopy_args_new()) == NULL)
		return refuse(rq, ST_REMOTE, "", "out of memory");
	if (rsh_jline_args(jl, rq->sig, rq->args, &name, msg,
	    sizeof(msg)) < 0)
		return refuse(rq, ST_USAGE, name, "%s.%s: %s", rq->object,
		    rq->method, msg);
	return ST_OK;
}

/* With -j, a line {"object":..., "method":..., "args":...}: the object
 * from the command line unless the line names one. */
static void
run_json_line(struct batch *b, struct slot *s, const char *line)
{
	struct req rq = { NULL, NULL, NULL, NULL, NULL, "" };
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
	if (rsh_jline_has_args(jl)) {
		if ((st = methods_of(b, rq.object, &methods, &s->err)) < 0) {
			s->code = st;
			b->lost = s->notrun = conn_gone(b, st);
			goto done;
		}
		if ((st = prepare_json(&rq, methods, jl)) != ST_OK) {
			local_failure(s, st == ST_CONN ? DOPY_E_PROTO :
			    DOPY_E_USAGE, rq.why, rq.msg);
			goto done;
		}
	}
	send_call(b, s, &rq);
done:
	req_release(&rq);
	rsh_jline_free(jl);
}

/* Parse one line and send its call, or say why not. */
static void
run_line(struct batch *b, struct slot *s, char *line)
{
	struct req rq = { NULL, NULL, NULL, NULL, NULL, "" };
	const dopy_value *methods;
	char *words[MAXWORDS];
	const char *why;
	int n, first = b->object == NULL, st;

	if (jflag && rsh_json_is_line(line)) {
		run_json_line(b, s, line);
		return;
	}
	if ((n = split(line, words, MAXWORDS, &why)) < 0 || n < first + 1) {
		local_failure(s, DOPY_E_USAGE, "dopy-rsh.SyntaxError",
		    n < 0 ? why : "no method");
		return;
	}
	rq.object = first ? words[0] : b->object;
	rq.method = words[first];
	slot_call(s, rq.object, rq.method);
	/* Without arguments there is nothing to type: no description. */
	if (n > first + 1) {
		if ((st = methods_of(b, rq.object, &methods, &s->err)) < 0) {
			s->code = st;
			b->lost = s->notrun = conn_gone(b, st);
			return;
		}
		if ((st = prepare(&rq, methods, n - first - 1,
		    words + first + 1)) != ST_OK) {
			local_failure(s, st == ST_CONN ? DOPY_E_PROTO :
			    DOPY_E_USAGE, rq.why, rq.msg);
			req_release(&rq);
			return;
		}
	}
	send_call(b, s, &rq);
	req_release(&rq);
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

	if (s->code == 0 || (s->name == NULL && is_graceful(s->err)))
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

static void
print_ok(const struct slot *s)
{
	char *text = NULL;

	if (s->result != NULL && (text = jflag ? dopy_value_json(s->result) :
	    line_text(s->result)) == NULL)
		err(ST_CONN, NULL);
	if (jflag)
		printf("{\"line\":%ld,\"result\":%s}\n", s->line,
		    text != NULL ? text : "null");
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
		printf("{\"line\":%ld,\"error\":%s}\n", s->line, jn);
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

/* Wait for the oldest line's answer, print it and free its slot. */
static void
finish_oldest(struct batch *b)
{
	struct slot *s = &b->ring[b->head];
	int st;

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
	while (blank(*line))
		line++;
	return *line == '\0' || *line == '#';
}

static int
batch(dopy_conn *conn, const char *object)
{
	struct batch b;
	struct input in;
	struct slot *s;
	char *line;
	size_t i;

	memset(&b, 0, sizeof(b));
	memset(&in, 0, sizeof(in));
	b.conn = conn;
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
	for (i = 0; i < b.ndescs; i++) {
		free(b.descs[i].object);
		dopy_value_free(b.descs[i].methods);
	}
	free(b.descs);
	free(in.buf);
	return b.status;
}

/*
 * Connect to the target, with the key if one was given.  flags
 * DOPY_CONNECT_EARLY: the first call goes out with our HELLO, and a bad
 * server shows in its answer (the library waits anyway with a key).
 */
static int
open_target(const char *text, const char *keyfile, int flags,
    dopy_target **tp, dopy_conn **conn)
{
	dopy_error *err = NULL;
	dopy_key *key = NULL;
	int r;

	if ((r = dopy_target_parse(text, tp, &err)) < 0)
		return failed(r, err);
	if (keyfile != NULL && (r = dopy_key_load(keyfile, &key, &err)) < 0)
		return failed(r, err);
	r = dopy_target_connect_flags(*tp, key, flags, conn, &err);
	dopy_key_free(key);
	return r < 0 ? failed(r, err) : ST_OK;
}

int
main(int argc, char *argv[])
{
	const char *keyfile = NULL, *object, *errstr;
	dopy_target *target = NULL;
	dopy_conn *conn;
	int bflag = 0, ch, st, timeout = 0;

	while ((ch = getopt_long(argc, argv, "+bhjk:ot:", long_opts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			bflag = 1;
			break;
		case OPT_GRACEFUL:
			if (*optarg == '\0' || ngraceful == MAXGRACEFUL) {
				warnx("--graceful: %s", *optarg == '\0' ?
				    "an error name is needed" : "too many");
				usage(ST_USAGE);
			}
			graceful[ngraceful++] = optarg;
			break;
		case 'h':
			help();
		case 'j':
			jflag = 1;
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 'o':
			oflag = 1;
			break;
		case 't':
			timeout = (int)strtonum(optarg, 1, 86400, &errstr);
			if (errstr != NULL) {
				warnx("-t %s: %s", optarg, errstr);
				usage(ST_USAGE);
			}
			break;
		default:
			usage(ST_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage(ST_USAGE);
	if (bflag && oflag)
		refuse_options("-b and -o cannot go together: a batch prints "
		    "every call's answer, and a oneway call has none");
	if (bflag && argc > 2)
		refuse_options("-b reads the calls from standard input: give "
		    "only the target and an object");
	/* One-shot: connect, HELLO and the first call in one round trip.
	 * Batches keep the plain connect, whose failure ends them early. */
	if ((st = open_target(argv[0], keyfile, bflag ? 0 : DOPY_CONNECT_EARLY,
	    &target, &conn)) != ST_OK) {
		dopy_target_free(target);
		return st;
	}
	dopy_conn_set_timeout(conn, timeout * 1000);
	/* A target that names its object (tcp:host:9600:test) shifts the
	 * rest: dopy-rsh TARGET [METHOD [ARG ...]]. */
	if ((object = dopy_target_object(target)) != NULL) {
		argv--;
		argc++;
		argv[1] = (char *)object;
	}
	if (bflag && argc > 2) {
		warnx("%s names an object already", dopy_target_object(target));
		st = ST_USAGE;
	} else if (oflag && argc < 3) {
		warnx("-o needs a method to call: a listing or a description "
		    "is an answer");
		st = ST_USAGE;
	} else if (bflag)
		st = batch(conn, argc == 2 ? argv[1] : NULL);
	else if (argc == 1)
		st = list_objects(conn);
	else if (argc == 2)
		st = describe(conn, argv[1]);
	else
		st = call(conn, argv[1], argv[2], argc - 3, argv + 3);
	dopy_conn_close(conn);
	dopy_target_free(target);
	if (fflush(stdout) == EOF && st == ST_OK) {
		warn("stdout");
		st = ST_REMOTE;
	}
	return st;
}
