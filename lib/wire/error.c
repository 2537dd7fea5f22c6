/*
 * error.c - error codes and the error object.
 *
 * A dopy_error carries a code (what kind of failure, for the caller's
 * switch), and for remote errors the remote name, message, where it was
 * raised and the trace the server sent: DOPY's dopy_traceback, kept.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

static const char *const errstr[] = {
	"success",					/* 0 */
	"out of memory",				/* -1 */
	"system call failed",				/* -2 */
	"connection closed",				/* -3 */
	"protocol error",				/* -4 */
	"protocol version mismatch",			/* -5 */
	"frame too large",				/* -6 */
	"remote error",					/* -7 */
	"usage error",					/* -8 */
	"type error",					/* -9 */
	"could not start server",			/* -10 */
	"invalid argument",				/* -11 */
	"timed out",					/* -12 */
	"authentication failed",			/* -13 */
	"connection lost during the call: outcome unknown",	/* -14 */
	"call cancelled",					/* -15 */
};

const char *
dopy_strerror(int code)
{
	if (code > 0 || code < DOPY_E_LAST)
		return "unknown error";
	return errstr[-code];
}

dopy_error *
dopy_error_vnew(int code, const char *fmt, va_list ap)
{
	dopy_error *e;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->code = code;
	e->pid = -1;
	if (vasprintf(&e->message, fmt, ap) < 0)
		e->message = NULL;
	if (e->message == NULL) {
		free(e);
		return NULL;
	}
	return e;
}

dopy_error *
dopy_error_new(int code, const char *fmt, ...)
{
	dopy_error *e;
	va_list ap;

	va_start(ap, fmt);
	e = dopy_error_vnew(code, fmt, ap);
	va_end(ap);
	return e;
}

/* Fill *ep (if ep is not NULL) and return code: `return dopy_error_set()`. */
int
dopy_error_set(dopy_error **ep, int code, const char *fmt, ...)
{
	va_list ap;

	if (ep == NULL)
		return code;
	dopy_error_free(*ep);
	va_start(ap, fmt);
	*ep = dopy_error_vnew(code, fmt, ap);
	va_end(ap);
	return code;
}

void
dopy_error_free(dopy_error *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->ntrace; i++)
		free(e->trace[i]);
	free(e->trace);
	free(e->name);
	free(e->message);
	free(e->object);
	free(e->method);
	free(e->host);
	free(e);
}

static int
replace(char **dst, const char *src)
{
	char *p;

	if (src == NULL)
		return 0;
	if ((p = strdup(src)) == NULL)
		return DOPY_E_NOMEM;
	free(*dst);
	*dst = p;
	return 0;
}

int
dopy_error_set_fields(dopy_error *e, const char *name, const char *object,
    const char *method, const char *host, long pid)
{
	if (replace(&e->name, name) < 0 || replace(&e->object, object) < 0 ||
	    replace(&e->method, method) < 0 || replace(&e->host, host) < 0)
		return DOPY_E_NOMEM;
	if (pid >= 0)
		e->pid = pid;
	return 0;
}

int
dopy_error_add_trace(dopy_error *e, const char *line)
{
	char **t, *s;

	if ((s = strdup(line)) == NULL)
		return DOPY_E_NOMEM;
	if ((t = reallocarray(e->trace, e->ntrace + 1, sizeof(*t))) == NULL) {
		free(s);
		return DOPY_E_NOMEM;
	}
	e->trace = t;
	e->trace[e->ntrace++] = s;
	return 0;
}

/*
 * The library's own error names map to client kinds, so that a caller
 * (and dopy-rsh's exit status) can tell "you called it wrong" from "the
 * method failed" from "the stream broke".
 */
int
dopy_error_code_for(const char *name)
{
	static const struct {
		const char *name;
		int code;
	} map[] = {
		{ "dopy.ProtocolError", DOPY_E_PROTO },
		{ "dopy.UnknownFrame", DOPY_E_PROTO },
		{ "dopy.VersionMismatch", DOPY_E_VERSION },
		{ "dopy.FrameTooLarge", DOPY_E_TOOBIG },
		{ "dopy.UnknownObject", DOPY_E_USAGE },
		{ "dopy.UnknownMethod", DOPY_E_USAGE },
		{ "dopy.UnknownReference", DOPY_E_USAGE },
		{ "dopy.NestingTooDeep", DOPY_E_USAGE },
		{ "dopy.ConnectionLost", DOPY_E_LOST },
		{ "dopy.ArgumentError", DOPY_E_USAGE },
		{ "dopy.TypeError", DOPY_E_TYPE },
		{ "dopy.DecodeLimit", DOPY_E_TOOBIG },
		{ "dopy.AuthFailed", DOPY_E_AUTH },
		{ "dopy.Timeout", DOPY_E_TIMEOUT },
		{ "dopy.Busy", DOPY_E_CLOSED },
		{ "dopy.Cancelled", DOPY_E_CANCELLED },
		{ "dopy.DeadlineExceeded", DOPY_E_TIMEOUT },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].name, name) == 0)
			return map[i].code;
	return DOPY_E_REMOTE;
}

int
dopy_error_code(const dopy_error *e)
{
	return e != NULL ? e->code : DOPY_OK;
}

#define GETTER(field) \
const char * \
dopy_error_##field(const dopy_error *e) \
{ \
	return e != NULL && e->field != NULL ? e->field : ""; \
}
GETTER(name)
GETTER(message)
GETTER(object)
GETTER(method)
GETTER(host)

long
dopy_error_pid(const dopy_error *e)
{
	return e != NULL ? e->pid : -1;
}

size_t
dopy_error_trace_len(const dopy_error *e)
{
	return e != NULL ? e->ntrace : 0;
}

const char *
dopy_error_trace(const dopy_error *e, size_t i)
{
	return e != NULL && i < e->ntrace ? e->trace[i] : NULL;
}

/*
 * Whether msg names the kind of failure already: it begins with the
 * kind's first two words ("protocol version mismatch: client speaks 2",
 * "connection lost during test.add ...", "connection closed before
 * HELLO"), and printing the kind in front would say it twice.
 */
static int
names_kind(const char *kind, const char *msg)
{
	const char *sp;
	size_t n;

	if ((sp = strchr(kind, ' ')) != NULL)
		sp = strchr(sp + 1, ' ');
	n = sp != NULL ? (size_t)(sp - kind) : strlen(kind);
	return strncmp(kind, msg, n) == 0 &&
	    (msg[n] == '\0' || msg[n] == ' ' || msg[n] == ':');
}

/*
 * "remote error: test.Failure: boom\n  remote trace (most recent
 * first):\n    testobj.c:40 test_fail\n    in test.fail on host h pid 12\n"
 */
char *
dopy_error_format(const dopy_error *e)
{
	const char *msg;
	char *out = NULL;
	size_t len = 0, i;
	FILE *f;

	if (e == NULL)
		return strdup("no error");
	if ((f = open_memstream(&out, &len)) == NULL)
		return NULL;
	msg = e->message != NULL ? e->message : "";
	if (!names_kind(dopy_strerror(e->code), msg))
		fprintf(f, "%s: ", dopy_strerror(e->code));
	if (e->name != NULL && *e->name != '\0')
		fprintf(f, "%s: ", e->name);
	fprintf(f, "%s", msg);
	if (e->ntrace > 0)
		fprintf(f, "\n  remote trace (most recent first):");
	for (i = 0; i < e->ntrace; i++)
		fprintf(f, "\n    %s", e->trace[i]);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

dopy_error *
dopy_error_bare(const dopy_error *e)
{
	dopy_error *b = dopy_error_new(e->code, "%s", e->message);

	if (b != NULL && dopy_error_set_fields(b, e->name, e->object,
	    e->method, "", 0) < 0) {
		dopy_error_free(b);
		return NULL;
	}
	return b;
}
