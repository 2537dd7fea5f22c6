/*
 * dopyclient - check a dopy server end to end against dopyd's `test',
 * `stream' and `upload' objects: plain calls, keyword arguments, remote
 * errors, a streamed result and an upload, over one connection, the way
 * a user's client would make them.
 */
#include <err.h>
#include <libgen.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dopy.h"

#define ECHO_LEN	1000

/* --help, the one long option: what users of every other tool try. */
static const struct option help_opt[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr, "usage: %s [-h] [-k keyfile] [target]\n",
	    getprogname());
	exit(status);
}

/*
 * The dopyd installed beside this program, so a fresh build tests
 * itself and not whatever dopyd is first in PATH.  The target is a
 * shell command: quote the path unless it is plain.
 */
static char *
default_target(void)
{
	char exe[4096], *dir, *t;
	ssize_t n;

	n = readlink("/proc/self/exe", exe, sizeof(exe));
	if (n <= 0 || (size_t)n >= sizeof(exe))
		return strdup("dopyd");
	exe[n] = '\0';
	dir = dirname(exe);
	if (dir[strspn(dir, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+,")] == '\0') {
		if (asprintf(&t, "%s/dopyd", dir) == -1)
			return NULL;
	} else if (strchr(dir, '\'') != NULL)
		return strdup("dopyd");		/* not worth the quoting */
	else if (asprintf(&t, "'%s/dopyd'", dir) == -1)
		return NULL;
	return t;
}

/* Print the outcome of one check; 0 if it passed. */
static int
report(const char *what, const char *why)
{
	if (why == NULL)
		printf("test of %s ok\n", what);
	else
		printf("test of %s FAILED: %s\n", what, why);
	fflush(stdout);
	return why != NULL;
}

/* Call a method, taking args; on failure say why in buf, return -1. */
static int
invoke(dopy_proxy *p, const char *method, dopy_args *args,
    dopy_value **res, dopy_error **errp, char *why, size_t len)
{
	dopy_error *err = NULL;
	char *msg;
	int r;

	*res = NULL;
	r = dopy_proxy_call(p, method, args, res, &err);
	dopy_args_free(args);
	if (r == 0)
		return 0;
	if (errp != NULL) {
		*errp = err;
		return r;
	}
	msg = err != NULL ? dopy_error_format(err) : NULL;
	/* The first line; a remote trace would break up the report. */
	if (msg != NULL)
		msg[strcspn(msg, "\n")] = '\0';
	snprintf(why, len, "%s: %s", method, msg != NULL ? msg :
	    dopy_strerror(r));
	free(msg);
	dopy_error_free(err);
	return r;
}

/* Describe a result that was not the expected one. */
static const char *
unexpected(const char *call, const dopy_value *v, char *why, size_t len)
{
	char *s = v != NULL ? dopy_value_format(v) : NULL;

	snprintf(why, len, "%s returned %s", call, s != NULL ? s :
	    "nothing");
	free(s);
	return why;
}

static const char *
check_add(dopy_proxy *p, char *why, size_t len)
{
	dopy_args *a;
	dopy_value *v;
	const char *bad = NULL;

	if ((a = dopy_args_new()) == NULL || dopy_args_int(a, NULL, 2) < 0 ||
	    dopy_args_int(a, NULL, 3) < 0) {
		dopy_args_free(a);
		return "out of memory";
	}
	if (invoke(p, "add", a, &v, NULL, why, len) < 0)
		return why;
	if (dopy_value_kind(v) != DOPY_INT || dopy_value_get_int(v) != 5)
		bad = unexpected("add(2, 3)", v, why, len);
	dopy_value_free(v);
	return bad;
}

/* Every byte value, NUL and high bytes included, must survive. */
static const char *
check_echo(dopy_proxy *p, char *why, size_t len)
{
	unsigned char buf[ECHO_LEN];
	const void *q;
	dopy_args *a;
	dopy_value *v;
	const char *bad = NULL;
	size_t i, n;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = i % 256;
	if ((a = dopy_args_new()) == NULL ||
	    dopy_args_bytes(a, NULL, buf, sizeof(buf)) < 0) {
		dopy_args_free(a);
		return "out of memory";
	}
	if (invoke(p, "echo", a, &v, NULL, why, len) < 0)
		return why;
	q = dopy_value_get_bytes(v, &n);
	if (dopy_value_kind(v) != DOPY_BYTES)
		bad = unexpected("echo", v, why, len);
	else if (n != sizeof(buf)) {
		snprintf(why, len, "echo of %zu bytes returned %zu",
		    sizeof(buf), n);
		bad = why;
	} else if (memcmp(q, buf, n) != 0)
		bad = "echo returned different bytes";
	dopy_value_free(v);
	return bad;
}

static const char *
check_basic(dopy_proxy *p, char *why, size_t len)
{
	const char *bad;

	if ((bad = check_add(p, why, len)) != NULL)
		return bad;
	return check_echo(p, why, len);
}

/* greet with these arguments must say want. */
static const char *
check_greet(dopy_proxy *p, const char *name, const char *greeting,
    const char *want, char *why, size_t len)
{
	dopy_args *a;
	dopy_value *v;
	const char *s, *bad = NULL;
	char call[128];

	if ((a = dopy_args_new()) == NULL ||
	    dopy_args_string(a, greeting ? NULL : "name", name) < 0 ||
	    (greeting && dopy_args_string(a, "greeting", greeting) < 0)) {
		dopy_args_free(a);
		return "out of memory";
	}
	if (invoke(p, "greet", a, &v, NULL, why, len) < 0)
		return why;
	s = dopy_value_get_string(v);
	if (dopy_value_kind(v) != DOPY_STRING || strcmp(s, want) != 0) {
		if (greeting != NULL)
			snprintf(call, sizeof(call), "greet(\"%s\", "
			    "greeting=\"%s\")", name, greeting);
		else
			snprintf(call, sizeof(call), "greet(name=\"%s\")",
			    name);
		bad = unexpected(call, v, why, len);
	}
	dopy_value_free(v);
	return bad;
}

static const char *
check_keyword(dopy_proxy *p, char *why, size_t len)
{
	const char *bad;

	if ((bad = check_greet(p, "World", NULL, "Hello, World", why,
	    len)) != NULL)
		return bad;
	return check_greet(p, "World", "Hi", "Hi, World", why, len);
}

/* What is wrong with the error fail(message="boom") raised, or NULL. */
static const char *
judge_failure(const dopy_error *err, char *why, size_t len)
{
	const char *name = dopy_error_name(err);
	const char *msg = dopy_error_message(err);

	if (dopy_error_code(err) != DOPY_E_REMOTE)
		snprintf(why, len, "fail raised %s, not a remote error",
		    dopy_strerror(dopy_error_code(err)));
	else if (name == NULL || strcmp(name, "test.Failure") != 0)
		snprintf(why, len, "fail raised %s, not test.Failure",
		    name != NULL ? name : "an error without a name");
	else if (msg == NULL || strcmp(msg, "boom") != 0)
		snprintf(why, len, "fail said '%s', not 'boom'",
		    msg != NULL ? msg : "");
	else if (dopy_error_trace_len(err) == 0)
		snprintf(why, len, "fail raised an error with no trace");
	else
		return NULL;
	return why;
}

static const char *
check_exceptions(dopy_proxy *p, char *why, size_t len)
{
	dopy_args *a;
	dopy_value *v;
	dopy_error *err = NULL;
	const char *bad;
	int r;

	if ((a = dopy_args_new()) == NULL ||
	    dopy_args_string(a, "message", "boom") < 0) {
		dopy_args_free(a);
		return "out of memory";
	}
	r = invoke(p, "fail", a, &v, &err, why, len);
	if (r == 0) {
		dopy_value_free(v);
		return "fail returned instead of raising an error";
	}
	if (err == NULL) {
		snprintf(why, len, "fail: %s", dopy_strerror(r));
		return why;
	}
	bad = judge_failure(err, why, len);
	dopy_error_free(err);
	return bad;
}

/* stream.count(100): 1 to 100 in order, then the end. */
static const char *
check_stream(dopy_conn *conn, char *why, size_t len)
{
	dopy_proxy *p = dopy_proxy_new(conn, "stream");
	dopy_args *a = dopy_args_new();
	dopy_stream *s = NULL;
	dopy_error *err = NULL;
	dopy_value *v;
	int64_t want = 1;
	int r;

	if (p == NULL || a == NULL || dopy_args_int(a, NULL, 100) < 0)
		r = DOPY_E_NOMEM;
	else if ((r = dopy_proxy_stream(p, "count", a, &s, &err)) == 0)
		while ((r = dopy_stream_next(s, &v, &err)) == 1 &&
		    dopy_value_get_int(v) == want) {
			dopy_value_free(v);
			want++;
		}
	if (r == 1) {
		dopy_value_free(v);
		snprintf(why, len, "stream.count(100): item %lld out of order",
		    (long long)want);
	} else if (r < 0 || want != 101)
		snprintf(why, len, "stream.count(100): %s", r < 0 ?
		    (err != NULL ? dopy_error_message(err) : dopy_strerror(r)) :
		    "ended early");
	dopy_error_free(err);
	dopy_stream_free(s);
	dopy_args_free(a);
	dopy_proxy_free(p);
	return r < 0 || want != 101 ? why : NULL;
}

/* upload.sum of 1 to 1000, sent as items: 500500. */
static const char *
check_upload(dopy_conn *conn, char *why, size_t len)
{
	dopy_proxy *p = dopy_proxy_new(conn, "upload");
	dopy_upload *u = NULL;
	dopy_error *err = NULL;
	dopy_value *v = NULL;
	int64_t i;
	int r;

	if (p == NULL)
		r = DOPY_E_NOMEM;
	else if ((r = dopy_proxy_upload(p, "sum", NULL, &u, &err)) == 0) {
		for (i = 1; i <= 1000 && r == 0; i++)
			r = dopy_upload_send(u, dopy_value_int(i), &err);
		if (r >= 0)
			r = dopy_upload_finish(u, &v, &err);
	}
	if (r < 0)
		snprintf(why, len, "upload.sum: %s", err != NULL ?
		    dopy_error_message(err) : dopy_strerror(r));
	else if (dopy_value_kind(v) != DOPY_INT ||
	    dopy_value_get_int(v) != 500500)
		unexpected("upload.sum(1 to 1000)", v, why, len);
	r = r < 0 || dopy_value_kind(v) != DOPY_INT ||
	    dopy_value_get_int(v) != 500500;
	dopy_value_free(v);
	dopy_error_free(err);
	dopy_upload_free(u);
	dopy_proxy_free(p);
	return r ? why : NULL;
}

static int
run_checks(dopy_conn *conn)
{
	dopy_proxy *p;
	char why[1024];
	int nfail = 0;

	if ((p = dopy_proxy_new(conn, "test")) == NULL) {
		warnx("out of memory");
		return 1;
	}
	nfail += report("basic method invocation",
	    check_basic(p, why, sizeof(why)));
	nfail += report("keyword parms", check_keyword(p, why, sizeof(why)));
	nfail += report("exceptions", check_exceptions(p, why, sizeof(why)));
	dopy_proxy_free(p);
	nfail += report("streams", check_stream(conn, why, sizeof(why)));
	nfail += report("uploads", check_upload(conn, why, sizeof(why)));
	return nfail > 0;
}

/* Connect, with the shared key when one is given. */
static int
open_conn(const char *target, const char *keyfile, dopy_conn **conn,
    dopy_error **e)
{
	dopy_key *key = NULL;
	int r;

	if (keyfile != NULL && (r = dopy_key_load(keyfile, &key, e)) < 0)
		return r;
	r = dopy_connect_key(target, key, conn, e);
	dopy_key_free(key);
	return r;
}

int
main(int argc, char *argv[])
{
	const char *keyfile = NULL;
	dopy_conn *conn;
	dopy_error *e = NULL;
	char *target, *msg;
	int ch, st;

	while ((ch = getopt_long(argc, argv, "hk:", help_opt, NULL)) != -1) {
		if (ch == 'k')
			keyfile = optarg;
		else
			usage(ch == 'h' ? 0 : 2);
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		usage(2);
	if (argc == 1)
		target = strdup(argv[0]);
	else
		target = default_target();
	if (target == NULL)
		err(1, NULL);

	printf("connecting to %s...\n", target);
	fflush(stdout);
	if (open_conn(target, keyfile, &conn, &e) < 0) {
		msg = dopy_error_format(e);
		warnx("%s: %s", target, msg != NULL ? msg : "cannot connect");
		free(msg);
		dopy_error_free(e);
		free(target);
		return 3;
	}
	free(target);
	st = run_checks(conn);
	dopy_conn_close(conn);
	return st;
}
