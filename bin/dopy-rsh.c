/*
 * dopy-rsh - call a method of a dopy server from the shell.
 *
 * With no object, list the server's objects; with an object, its
 * methods; with a method, call it.  Arguments are converted against the
 * signature the server describes, so "2" is an int where the method
 * wants one and a string where it wants a string.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dopy.h"

/* Exit statuses, dopy-rsh(1). */
#define ST_OK		0
#define ST_REMOTE	1	/* the method raised an error */
#define ST_USAGE	2	/* the call could not be made as asked */
#define ST_CONN		3	/* connection or protocol failure */

static int	jflag;

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: %s [-hj] [-k keyfile] [-t timeout] target [object "
	    "[method [arg | name=value ...]]]\n",
	    getprogname());
	exit(status);
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
		return ST_CONN;
	default:
		return ST_REMOTE;
	}
}

/* Report a failed library call, free its error and return the status. */
static int
failed(int code, dopy_error *err)
{
	char *msg = NULL;
	size_t n;

	if (err != NULL) {
		code = dopy_error_code(err);
		msg = dopy_error_format(err);
	}
	if (msg != NULL) {
		n = strlen(msg);
		while (n > 0 && msg[n - 1] == '\n')
			msg[--n] = '\0';
		warnx("%s", msg);
	} else
		warnx("%s", dopy_strerror(code));
	free(msg);
	dopy_error_free(err);
	return code_status(code);
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

/* A result: an array one element a line, for the shell's loops. */
static int
print_result(const dopy_value *v)
{
	char *s;
	size_t i;

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
	for (i = 0; i < dopy_value_len(v); i++)
		if (print_one(dopy_value_at(v, i)) < 0)
			return -1;
	return 0;
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
	for (i = 0; i < dopy_value_len(methods); i++)
		print_method(dopy_value_at(methods, i));
	dopy_value_free(methods);
	return ST_OK;
}

/* One call being put together from the command line. */
struct req {
	const char	*object, *method;
	dopy_sig	*sig;
	dopy_args	*args;
};

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
	char msg[256];

	v = dopy_value_parse(dopy_sig_type(rq->sig, i), text, msg,
	    sizeof(msg));
	if (v == NULL) {
		warnx("%s.%s: parameter %s: %s", rq->object, rq->method,
		    pname, msg);
		return ST_USAGE;
	}
	if (dopy_args_add(rq->args, named ? pname : NULL, v) < 0)
		return failed(DOPY_E_NOMEM, NULL);
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
		else if (npos < i) {
			warnx("%s.%s: positional argument '%s' after named "
			    "ones", rq->object, rq->method, argv[i]);
			st = ST_USAGE;
		} else if ((size_t)npos >= dopy_sig_len(rq->sig)) {
			warnx("%s.%s: too many arguments (it takes %zu)",
			    rq->object, rq->method, dopy_sig_len(rq->sig));
			st = ST_USAGE;
		} else
			st = add_arg(rq, npos++, argv[i], 0);
		if (st != ST_OK)
			return st;
	}
	return ST_OK;
}

/* Learn the method's parameters from the server. */
static int
load_sig(dopy_conn *conn, struct req *rq)
{
	dopy_value *methods = NULL;
	const dopy_value *m = NULL;
	dopy_error *err = NULL;
	char msg[256];
	size_t i;
	int r;

	if ((r = dopy_describe(conn, rq->object, &methods, &err)) < 0)
		return failed(r, err);
	for (i = 0; i < dopy_value_len(methods) && m == NULL; i++)
		if (strcmp(mfield(dopy_value_at(methods, i), 0),
		    rq->method) == 0)
			m = dopy_value_at(methods, i);
	if (m == NULL) {
		warnx("%s: no method '%s'", rq->object, rq->method);
		r = ST_USAGE;
	} else if ((rq->sig = dopy_sig_parse(mfield(m, 1), msg,
	    sizeof(msg))) == NULL) {
		warnx("%s.%s: server sent a bad signature: %s", rq->object,
		    rq->method, msg);
		r = ST_CONN;
	} else
		r = ST_OK;
	dopy_value_free(methods);
	return r;
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
	struct req rq = { object, method, NULL, NULL };
	int st;

	if ((st = load_sig(conn, &rq)) != ST_OK)
		return st;
	if ((rq.args = dopy_args_new()) == NULL)
		st = failed(DOPY_E_NOMEM, NULL);
	else if ((st = add_args(&rq, argc, argv)) == ST_OK)
		st = invoke(conn, &rq);
	dopy_args_free(rq.args);
	dopy_sig_free(rq.sig);
	return st;
}

/* Connect to the target, with the key if one was given. */
static int
open_target(const char *text, const char *keyfile, dopy_target **tp,
    dopy_conn **conn)
{
	dopy_error *err = NULL;
	dopy_key *key = NULL;
	int r;

	if ((r = dopy_target_parse(text, tp, &err)) < 0)
		return failed(r, err);
	if (keyfile != NULL && (r = dopy_key_load(keyfile, &key, &err)) < 0)
		return failed(r, err);
	r = dopy_target_connect_key(*tp, key, conn, &err);
	dopy_key_free(key);
	return r < 0 ? failed(r, err) : ST_OK;
}

int
main(int argc, char *argv[])
{
	const char *keyfile = NULL, *object, *errstr;
	dopy_target *target = NULL;
	dopy_conn *conn;
	int ch, st, timeout = 0;

	while ((ch = getopt(argc, argv, "+hjk:t:")) != -1) {
		switch (ch) {
		case 'h':
			usage(0);
		case 'j':
			jflag = 1;
			break;
		case 'k':
			keyfile = optarg;
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
	if ((st = open_target(argv[0], keyfile, &target, &conn)) != ST_OK) {
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
	if (argc == 1)
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
