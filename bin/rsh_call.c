/*
 * rsh_call.c - one call as dopy-rsh makes it in every mode: its words,
 * its arguments converted by the method's signature, its result and
 * its failure printed, and the exit status the failure gives.
 */
#include <err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rsh.h"
#include "rsh_json.h"

int	jflag, oflag;
/* The call being made, whose names a JSON error carries. */
static const char *call_object, *call_method;

/* --graceful=ERROR: remote errors a script expects (varlinkctl's). */
#define MAXGRACEFUL	64
static const char *graceful[MAXGRACEFUL];
static size_t	 ngraceful;

void
rsh_json_out(const char *json)
{
	if (jflag == JSON_PRETTY)
		rsh_json_indent(stdout, json);
	else
		fputs(json, stdout);
	putchar('\n');
}

/* With -j a failure is also JSON on stdout, for the script that reads
 * the result there (dopy-rsh(1), JSON). */
static void
json_failure(const char *kind, const dopy_error *e, const char *name,
    const char *msg, const char *object, const char *method, int st)
{
	char *s, *line;

	if (!jflag)
		return;
	s = rsh_json_error(kind, e, name, msg,
	    object != NULL ? object : call_object,
	    method != NULL ? method : call_method, st);
	if (asprintf(&line, "{\"error\":%s}", s) < 0)
		err(ST_CONN, NULL);
	rsh_json_out(line);
	free(line);
	free(s);
}

int
rsh_graceful_add(const char *name)
{
	if (ngraceful == MAXGRACEFUL)
		return -1;
	graceful[ngraceful++] = name;
	return 0;
}

int
rsh_code_status(int code)
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

/* As batch mode's kinds: a failure of the connection before the call
 * went out means it never ran. */
const char *
rsh_kind(int code)
{
	switch (code) {
	case DOPY_E_REMOTE:
		return "remote";
	case DOPY_E_TIMEOUT:
		return "timeout";
	case DOPY_E_LOST:
		return "lost";
	default:
		return rsh_code_status(code) == ST_CONN ? "notrun" : "usage";
	}
}

/* Whether the server answered with an error --graceful names. */
int
rsh_is_graceful(const dopy_error *err)
{
	const char *name = dopy_error_name(err);
	size_t i;

	for (i = 0; *name != '\0' && i < ngraceful; i++)
		if (strcmp(graceful[i], name) == 0)
			return 1;
	return 0;
}

/* A remote error its method declares: say so, with its doc. */
static void
declared_line(const dopy_error *err)
{
	const char *doc;

	if (err != NULL && rsh_iface_declared(&doc))
		fprintf(stderr, "  %s is declared by %s.%s%s%s\n",
		    dopy_error_name(err), dopy_error_object(err),
		    dopy_error_method(err), doc != NULL ? ": " : "",
		    doc != NULL ? doc : "");
}

/* Report a failed library call, free its error and return the status:
 * the story is told either way, as varlinkctl does, but an expected
 * error is a success. */
int
rsh_failed(int code, dopy_error *err)
{
	char *msg = NULL;
	size_t n;
	int ok = 0;

	if (err != NULL) {
		code = dopy_error_code(err);
		msg = dopy_error_format(err);
		ok = rsh_is_graceful(err);
	}
	if (msg != NULL) {
		n = strlen(msg);
		while (n > 0 && msg[n - 1] == '\n')
			msg[--n] = '\0';
		warnx("%s", msg);
	} else
		warnx("%s", dopy_strerror(code));
	declared_line(err);
	json_failure(rsh_kind(code), err, NULL, err == NULL ?
	    dopy_strerror(code) : NULL, NULL, NULL, rsh_code_status(code));
	free(msg);
	dopy_error_free(err);
	return ok ? ST_OK : rsh_code_status(code);
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
int
rsh_print_result(const dopy_value *v, const dopy_type *t)
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
		if ((s = rsh_json_typed(v, t)) == NULL)
			return -1;
		rsh_json_out(s);
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

int
rsh_list_objects(dopy_conn *conn)
{
	dopy_value *names = NULL;
	dopy_error *err = NULL;
	int r;

	if ((r = dopy_list_objects(conn, &names, &err)) < 0)
		return rsh_failed(r, err);
	r = rsh_print_result(names, NULL);
	dopy_value_free(names);
	return r < 0 ? rsh_failed(DOPY_E_NOMEM, NULL) : ST_OK;
}

/* Field i of a method description, a string. */
const char *
rsh_mfield(const dopy_value *m, size_t i)
{
	const char *s = dopy_value_get_string(dopy_value_at(m, i));

	return s != NULL ? s : "";
}

static void
print_method(const dopy_value *m)
{
	const char *result = rsh_mfield(m, 2), *doc = rsh_mfield(m, 3);

	printf("%s(%s)", rsh_mfield(m, 0), rsh_mfield(m, 1));
	if (*result != '\0')
		printf(" -> %s", result);
	if (*doc != '\0')
		printf("  %s", doc);
	putchar('\n');
}

int
rsh_describe(dopy_conn *conn, const char *object)
{
	dopy_value *methods = NULL;
	dopy_error *err = NULL;
	char *s = NULL;
	size_t i;
	int r;

	if ((r = dopy_describe(conn, object, &methods, &err)) < 0)
		return rsh_failed(r, err);
	if (jflag && (s = rsh_json_describe(methods)) != NULL)
		rsh_json_out(s);
	free(s);
	for (i = 0; !jflag && i < dopy_value_len(methods); i++)
		print_method(dopy_value_at(methods, i));
	dopy_value_free(methods);
	return ST_OK;
}

int
rsh_interface(dopy_conn *conn, const char *object)
{
	dopy_error *err = NULL;
	dopy_value *v;
	char *text;
	int r;

	if ((r = dopy_interface(conn, object, &text, &err)) < 0)
		return rsh_failed(r, err);
	/* As JSON, one string, as any other string result. */
	if (jflag) {
		r = (v = dopy_value_string(text)) != NULL ?
		    rsh_print_result(v, NULL) : ST_REMOTE;
		dopy_value_free(v);
	} else
		r = fputs(text, stdout) == EOF ? ST_REMOTE : ST_OK;
	free(text);
	return r;
}

int
rsh_refuse(struct req *rq, int st, const char *name, const char *fmt, ...)
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
		return rsh_refuse(rq, ST_USAGE, "dopy.TypeError",
		    "%s.%s: parameter %s: %s", rq->object, rq->method, pname,
		    msg);
	if (dopy_args_add(rq->args, named ? pname : NULL, v) < 0)
		return rsh_refuse(rq, ST_REMOTE, "", "out of memory");
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
			st = rsh_refuse(rq, ST_USAGE, "dopy.ArgumentError",
			    "%s.%s: positional argument '%s' after named ones",
			    rq->object, rq->method, argv[i]);
		else if ((size_t)npos >= dopy_sig_len(rq->sig))
			st = rsh_refuse(rq, ST_USAGE, "dopy.ArgumentError",
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
		return rsh_refuse(rq, ST_USAGE, name, "%s.%s: %s", rq->object,
		    rq->method, msg);
	return ST_OK;
}

/* The method's parameters, from the object's description. */
int
rsh_find_sig(struct req *rq, const dopy_value *methods)
{
	const dopy_value *m = NULL;
	const char *res;
	char msg[200];
	size_t i;

	for (i = 0; i < dopy_value_len(methods) && m == NULL; i++)
		if (strcmp(rsh_mfield(dopy_value_at(methods, i), 0),
		    rq->method) == 0)
			m = dopy_value_at(methods, i);
	if (m == NULL)
		return rsh_refuse(rq, ST_USAGE, "dopy.UnknownMethod",
		    "%s: no method '%s'", rq->object, rq->method);
	if ((rq->sig = dopy_sig_parse(rsh_mfield(m, 1), msg, sizeof(msg))) ==
	    NULL)
		return rsh_refuse(rq, ST_CONN, "dopy.ProtocolError",
		    "%s.%s: server sent a bad signature: %s", rq->object,
		    rq->method, msg);
	/* Only to name structure fields in JSON: any will do without. */
	res = rsh_mfield(m, 2);
	if (strncmp(res, "stream ", 7) == 0) {
		rq->stream = 1;
		res += 7;
	}
	rq->result = dopy_type_parse(res, NULL, 0);
	return ST_OK;
}

/* Arguments typed by the signature in methods (the object's
 * description, as dopy_describe() gives it). */
int
rsh_prepare(struct req *rq, const dopy_value *methods, int argc, char *argv[])
{
	int st;

	if ((st = rsh_find_sig(rq, methods)) != ST_OK)
		return st;
	if ((rq->args = dopy_args_new()) == NULL)
		return rsh_refuse(rq, ST_REMOTE, "", "out of memory");
	if (jflag && argc == 1 && strcmp(argv[0], "-") == 0 &&
	    dopy_sig_upload(rq->sig, NULL) != NULL)
		return rsh_refuse(rq, ST_USAGE, "", "%s.%s reads its items "
		    "from standard input: its arguments cannot come from there",
		    rq->object, rq->method);
	if (jflag && argc == 1 && rsh_json_is_args(argv[0]))
		return json_args(rq, argv[0]);
	return add_args(rq, argc, argv);
}

void
rsh_req_release(struct req *rq)
{
	dopy_args_free(rq->args);
	dopy_sig_free(rq->sig);
	dopy_type_free(rq->result);
	rq->args = NULL;
	rq->sig = NULL;
	rq->result = NULL;
}

/* Send the call and wait for its answer as wait does. */
static int
call_async(dopy_conn *conn, dopy_proxy *proxy, struct req *rq,
    rsh_wait_fn wait, dopy_value **result, dopy_error **err)
{
	dopy_future *f = NULL;
	int r;

	r = dopy_proxy_call_async(proxy, rq->method, rq->args, NULL, NULL,
	    &f, err);
	if (r == 0)
		r = wait(conn, f, result, err);
	dopy_future_free(f);
	return r;
}

/* Ctrl-C in the console: the call was left to itself, not lost. */
static int
abandoned(const struct req *rq)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "%s.%s abandoned (interrupted): its "
	    "outcome is unknown", rq->object, rq->method);
	warnx("%s", msg);
	json_failure("lost", NULL, "", msg, NULL, NULL, ST_CONN);
	return ST_CONN;
}

/* One item of a stream on a line of its own, out at once: JSON lines
 * with -j (compact whatever --json says), else as print_one does. */
static int
print_item(const dopy_value *v, const dopy_type *t)
{
	char *s;
	int r = 0;

	if (jflag) {
		if ((s = rsh_json_typed(v, t)) == NULL)
			return -1;
		r = puts(s) == EOF ? -1 : 0;
		free(s);
	} else
		r = print_one(v);
	fflush(stdout);
	return r;
}

/* A streaming method: its items as they come, then nothing for the
 * end; 0, or the code of the failure in err. */
static int
call_stream(dopy_proxy *proxy, struct req *rq, dopy_error **err)
{
	dopy_stream *s = NULL;
	dopy_value *item = NULL;
	int r;

	if ((r = dopy_proxy_stream(proxy, rq->method, rq->args, &s,
	    err)) < 0)
		return r;
	while ((r = dopy_stream_next(s, &item, err)) == 1) {
		r = print_item(item, rq->result);
		dopy_value_free(item);
		if (r < 0) {
			r = DOPY_E_NOMEM;
			break;
		}
	}
	dopy_stream_free(s);
	return r;
}

static int
invoke(dopy_conn *conn, struct req *rq, rsh_wait_fn wait)
{
	dopy_proxy *proxy;
	dopy_value *result = NULL;
	dopy_error *err = NULL;
	int r;

	if ((proxy = dopy_proxy_new(conn, rq->object)) == NULL)
		return rsh_failed(DOPY_E_NOMEM, NULL);
	if (oflag && (r = dopy_proxy_set_oneway(proxy, rq->method, 1)) < 0) {
		dopy_proxy_free(proxy);
		return rsh_failed(r, NULL);
	}
	if (dopy_sig_upload(rq->sig, NULL) != NULL &&
	    wait != rsh_oneshot_wait) {
		dopy_proxy_free(proxy);
		err = dopy_error_new(DOPY_E_USAGE, "%s.%s takes its last "
		    "argument from standard input: call it on its own, not "
		    "oneway, in the console or a batch", rq->object,
		    rq->method);
		return rsh_failed(DOPY_E_USAGE, err);
	}
	if (rq->stream && !oflag) {
		r = call_stream(proxy, rq, &err);
		dopy_proxy_free(proxy);
		if (r < 0) {
			rsh_iface_note(conn, rq->object, rq->method, err);
			return rsh_failed(r, err);
		}
		return ST_OK;
	}
	if (dopy_sig_upload(rq->sig, NULL) != NULL)
		r = rsh_call_upload(proxy, rq, &result, &err);
	else if (wait != NULL)
		r = call_async(conn, proxy, rq, wait, &result, &err);
	else
		r = dopy_proxy_call(proxy, rq->method, rq->args, &result,
		    &err);
	dopy_proxy_free(proxy);
	if (r == RSH_ABANDONED)
		return abandoned(rq);
	if (r < 0) {
		rsh_iface_note(conn, rq->object, rq->method, err);
		return rsh_failed(r, err);
	}
	r = rsh_print_result(result, rq->result);
	dopy_value_free(result);
	return r < 0 ? rsh_failed(DOPY_E_NOMEM, NULL) : ST_OK;
}

int
rsh_call_with(dopy_conn *conn, const dopy_value *methods,
    const char *object, const char *method, int argc, char *argv[],
    rsh_wait_fn wait)
{
	struct req rq = { object, method, NULL, NULL, NULL, NULL, "", 0 };
	int st;

	call_object = object;
	call_method = method;
	if ((st = rsh_prepare(&rq, methods, argc, argv)) != ST_OK) {
		warnx("%s", rq.msg);
		json_failure("usage", NULL, rq.why, rq.msg, object, method,
		    st);
	} else
		st = invoke(conn, &rq, wait);
	rsh_req_release(&rq);
	call_object = call_method = NULL;
	return st;
}

int
rsh_call(dopy_conn *conn, const char *object, const char *method, int argc,
    char *argv[])
{
	dopy_value *methods = NULL;
	dopy_error *err = NULL;
	int st;

	call_object = object;
	call_method = method;
	if ((st = dopy_describe(conn, object, &methods, &err)) < 0)
		return rsh_failed(st, err);
	/* A oneway call is sent and done: nothing to cancel. */
	st = rsh_call_with(conn, methods, object, method, argc, argv,
	    oflag ? NULL : rsh_oneshot_wait);
	dopy_value_free(methods);
	return st;
}

/* The description of object, from the server on first use.  Failures
 * are not kept: an "@ID" object may exist by the next line. */
int
rsh_descs_get(struct rsh_descs *d, const char *object,
    const dopy_value **mp, dopy_error **ep)
{
	struct rsh_desc *nv;
	dopy_value *m = NULL;
	size_t i;
	int r;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->v[i].object, object) == 0) {
			*mp = d->v[i].methods;
			return 0;
		}
	if ((r = dopy_describe(d->conn, object, &m, ep)) < 0)
		return r;
	nv = reallocarray(d->v, d->n + 1, sizeof(*nv));
	if (nv == NULL || (nv[d->n].object = strdup(object)) == NULL)
		err(ST_CONN, NULL);
	d->v = nv;
	d->v[d->n++].methods = m;
	*mp = m;
	return 0;
}

void
rsh_descs_free(struct rsh_descs *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->v[i].object);
		dopy_value_free(d->v[i].methods);
	}
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

int
rsh_blank(int c)
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
int
rsh_split(char *line, char **words, int max, const char **why)
{
	char *r = line, *w = line, *q;
	int n = 0;

	for (;;) {
		while (rsh_blank(*r))
			r++;
		if (*r == '\0' || *r == '#')
			return n;
		if (n == max) {
			*why = "too many words";
			return -1;
		}
		words[n++] = w;
		while (*r != '\0' && !rsh_blank(*r)) {
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
