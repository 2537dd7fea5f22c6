/*
 * test_traces.c - dopy_server_set_traces: a server may keep its source
 * paths, lines, host name and pid to itself, and still tell a client
 * which error a call raised, and where.
 */
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "testutil.h"

static int
boom(dopy_call *c)
{
	return dopy_raise(c, "t.Boom", "went %s", "bang");
}

static const struct dopy_method t_methods[] = {
	{ "boom", boom, "", NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_object_def t_def = {
	"t", NULL, t_methods, NULL, NULL
};

/* The error t.boom() gets from a server with traces on or off, its log
 * in log if that is not NULL. */
static dopy_error *
boom_error(int traces, const char *log)
{
	dopy_server *s = tu_server();
	dopy_conn *c = NULL;
	dopy_error *e = NULL;
	dopy_proxy *p;
	pid_t pid;
	int fd;

	cr_assert_not_null(s);
	cr_assert_eq(dopy_server_add(s, &t_def, NULL), 0);
	if (!traces)
		dopy_server_set_traces(s, 0);
	if (log != NULL)
		cr_assert_eq(dopy_server_set_log(s, DOPY_LOG_FILE, log, 0), 0);
	cr_assert_gt(pid = tu_serve(s, &fd), 0);
	cr_assert_eq(dopy_conn_fds(fd, fd, &c, &e), 0);
	p = dopy_proxy_new(c, "t");
	cr_assert_eq(dopy_proxy_call(p, "boom", NULL, NULL, &e),
	    DOPY_E_REMOTE);
	dopy_proxy_free(p);
	dopy_conn_close(c);
	cr_assert_eq(tu_exit_code(tu_wait(pid, TU_WAIT_MS)), 0);
	dopy_server_free(s);
	return e;
}

Test(traces, sent_by_default)
{
	dopy_error *e = boom_error(1, NULL);
	char host[256];

	cr_assert_eq(gethostname(host, sizeof(host)), 0);
	cr_assert_eq(dopy_error_trace_len(e), 2);
	cr_assert(strstr(dopy_error_trace(e, 0), "test_traces.c:") != NULL);
	cr_assert_str_eq(dopy_error_host(e), host);
	cr_assert_gt(dopy_error_pid(e), 0);
	dopy_error_free(e);
}

Test(traces, kept_back_when_off)
{
	char log[] = "/tmp/test_traces.XXXXXX", buf[4096];
	dopy_error *e;
	char *text;
	ssize_t n;
	int fd;

	cr_assert_geq(fd = mkstemp(log), 0);
	e = boom_error(0, log);
	cr_assert_str_eq(dopy_error_name(e), "t.Boom");
	cr_assert_str_eq(dopy_error_message(e), "went bang");
	cr_assert_str_eq(dopy_error_object(e), "t");
	cr_assert_str_eq(dopy_error_method(e), "boom");
	cr_assert_eq(dopy_error_trace_len(e), 0);
	cr_assert_str_eq(dopy_error_host(e), "");
	cr_assert_eq(dopy_error_pid(e), 0);
	cr_assert_not_null(text = dopy_error_format(e));
	cr_assert_null(strstr(text, "test_traces.c"), "%s", text);
	cr_assert_null(strstr(text, "trace"), "%s", text);
	free(text);
	dopy_error_free(e);
	/* The server's log keeps what the client was not told. */
	cr_assert_gt(n = read(fd, buf, sizeof(buf) - 1), 0);
	buf[n] = '\0';
	close(fd);
	unlink(log);
	cr_assert(strstr(buf, "call 1 t.boom: t.Boom: went bang: trace ") !=
	    NULL, "%s", buf);
	cr_assert(strstr(buf, "test_traces.c:") != NULL, "%s", buf);
	cr_assert(strstr(buf, "| in t.boom on host ") != NULL, "%s", buf);
}
