/*
 * e2e_listener_env.c - what the forking listener's children must still
 * get now that the listener prepares their work before fork: this
 * connection's UCSPI variables (a stale one from the listener's own
 * environment replaced, everything else kept), and one log line per
 * accept and per exit.  The listener is the library's, run by dopy_main()
 * in a process of the test with an object that reads its environment.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e_util.h"

static int
env_get(dopy_call *c)
{
	const char *v = getenv(dopy_call_string(c, 0));

	return dopy_return_string(c, v != NULL ? v : "(unset)");
}

static const struct dopy_method env_methods[] = {
	{ "get", env_get, "name:string", "string",
	    "A variable of the serving process's environment." },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_object_def env_object = {
	"env", "The serving process's environment.", env_methods, NULL, NULL
};

/* The listener, in a child; its own children serve one connection. */
static void
listener(int out, const char *log)
{
	/* Writable, as main's are: the process title is written there. */
	char args[] = "e2e-listener\0" "-l\0" "127.0.0.1:0\0" "-B\0" "-L";
	char *argv[] = { args, args + 13, args + 16, args + 28, args + 31,
	    (char *)log, NULL };
	dopy_server *s;
	int r;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	dup2(out, STDOUT_FILENO);
	close(out);
	setenv("TCPREMOTEIP", "stale", 1);
	setenv("E2E_KEPT", "kept", 1);
	if ((s = dopy_server_new()) == NULL ||
	    dopy_server_add(s, &env_object, NULL) < 0)
		_exit(90);
	r = dopy_main(s, 6, argv);
	dopy_server_free(s);
	fflush(NULL);
	_exit(r);
}

static char *
get(dopy_proxy *p, const char *name)
{
	dopy_args *a = dopy_args_new();
	dopy_value *v = NULL;
	char *s;

	dopy_args_string(a, NULL, name);
	cr_assert_eq(dopy_proxy_call(p, "get", a, &v, NULL), 0, "%s", name);
	s = strdup(dopy_value_get_string(v));
	dopy_value_free(v);
	dopy_args_free(a);
	return s;
}

static void
expect(dopy_proxy *p, const char *name, const char *want)
{
	char *got = get(p, name);

	cr_assert_str_eq(got, want, "%s", name);
	free(got);
}

Test(listener_env, children_get_this_connections_environment)
{
	char log[512], port[16] = "", target[64], *self, *text;
	dopy_error *e = NULL;
	dopy_conn *c;
	dopy_proxy *p;
	int fds[2], st, i;
	pid_t pid;
	ssize_t n;

	snprintf(log, sizeof(log), "%s/listener.log", e2e_tmpdir());
	cr_assert_eq(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		close(fds[0]);
		listener(fds[1], log);
	}
	close(fds[1]);
	for (n = 0; n < (ssize_t)sizeof(port) - 1 && e2e_read(fds[0],
	    port + n, 1, E2E_WAIT_MS) == 1 && port[n] != '\n'; n++)
		;
	port[n] = '\0';
	close(fds[0]);
	cr_assert_gt(n, 0, "no port announced");
	snprintf(target, sizeof(target), "tcp://127.0.0.1:%s", port);
	/* Twice: the second child must not see the first one's values. */
	for (i = 0; i < 2; i++) {
		cr_assert_eq(dopy_connect(target, &c, &e), 0, "%s: %s", target,
		    dopy_error_message(e));
		p = dopy_proxy_new(c, "env");
		expect(p, "PROTO", "TCP");
		expect(p, "TCPREMOTEIP", "127.0.0.1");
		expect(p, "TCPLOCALIP", "127.0.0.1");
		expect(p, "TCPLOCALPORT", port);
		expect(p, "E2E_KEPT", "kept");
		expect(p, "UNIXREMOTEEUID", "(unset)");
		self = get(p, "TCPREMOTEPORT");
		cr_assert_gt(atoi(self), 0, "TCPREMOTEPORT %s", self);
		free(self);
		dopy_proxy_free(p);
		dopy_conn_close(c);
	}
	kill(pid, SIGTERM);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(e2e_exited(st, 0), "listener: %s", e2e_status(st));
	cr_assert_not_null(text = e2e_slurp(log, NULL));
	for (i = 0; i < 2; i++) {
		self = strstr(text, "accept 127.0.0.1 port ");
		cr_assert_not_null(self, "%s", text);
		cr_assert_not_null(strstr(self, "exit 127.0.0.1 duration="),
		    "%s", text);
		memset(self, '-', 6);		/* the next accept line */
	}
	free(text);
}
