/*
 * e2e_rebind.c - release, reconnect and rebind against the real dopyd:
 * a released connection dials again on next use; a server killed in the
 * middle of a call gives "outcome unknown", never a silent retry; rebind
 * tries and waits are honoured.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e_util.h"
#include "internal.h"	/* dopy_now_ms */

/* dopyd behind a shell that leaves its pid in pidfile ($$ is exec'd). */
static dopy_conn *
open_dopyd(char *pidfile, size_t len)
{
	char cmd[2048];
	dopy_conn *c = NULL;
	dopy_error *e = NULL;

	snprintf(pidfile, len, "%s/rebind.%d.pid", e2e_tmpdir(), (int)getpid());
	snprintf(cmd, sizeof(cmd), "echo $$ > %s; exec %s -L /dev/null",
	    pidfile, e2e_bin("dopyd"));
	cr_assert_eq(dopy_conn_spawn(cmd, &c, &e), 0, "%s",
	    dopy_error_message(e));
	return c;
}

static pid_t
server_pid(const char *pidfile)
{
	char *text = e2e_slurp(pidfile, NULL);
	pid_t pid;

	cr_assert_not_null(text, "no pid file %s", pidfile);
	pid = (pid_t)atol(text);
	free(text);
	cr_assert_gt(pid, 1);
	return pid;
}

static int
add(dopy_proxy *p, int a, int b, dopy_error **e)
{
	dopy_args *args = dopy_args_new();
	dopy_value *v = NULL;
	int r;

	dopy_args_int(args, NULL, a);
	dopy_args_int(args, NULL, b);
	r = dopy_proxy_call(p, "add", args, &v, e);
	if (r == 0)
		r = (int)dopy_value_get_int(v);
	dopy_value_free(v);
	dopy_args_free(args);
	return r;
}

Test(rebind, release_then_next_call_reconnects, .timeout = 30)
{
	char pidfile[512];
	dopy_conn *c = open_dopyd(pidfile, sizeof(pidfile));
	dopy_proxy *p = dopy_proxy_new(c, "test");
	dopy_error *e = NULL;
	pid_t first, second;

	cr_assert_eq(add(p, 1, 2, &e), 3);
	first = server_pid(pidfile);
	cr_assert_eq(dopy_conn_generation(c), 1);
	cr_assert_eq(dopy_proxy_release(p), 0);
	/* Released means gone: the old server was reaped. */
	cr_assert_eq(kill(first, 0), -1);
	cr_assert_eq(errno, ESRCH);
	cr_assert_eq(add(p, 2, 3, &e), 5, "%s", dopy_error_message(e));
	cr_assert_eq(dopy_conn_generation(c), 2);
	second = server_pid(pidfile);
	cr_assert_neq(first, second, "a new server process");
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}

/* Kill the server while a call runs in it. */
static void
kill_during_sleep(dopy_conn *c, const char *pidfile, dopy_error **e,
    int *r)
{
	dopy_proxy *p = dopy_proxy_new(c, "test");
	dopy_args *a = dopy_args_new();
	dopy_future *f = NULL;
	int64_t t0;

	dopy_args_int(a, NULL, 5000);
	cr_assert_eq(dopy_proxy_call_async(p, "sleep", a, NULL, NULL, &f,
	    e), 0);
	usleep(200 * 1000);
	cr_assert_eq(kill(server_pid(pidfile), SIGKILL), 0);
	t0 = dopy_now_ms();
	*r = dopy_future_wait(f, NULL, e);
	cr_assert_lt(dopy_now_ms() - t0, 3000, "noticed at once");
	dopy_future_free(f);
	dopy_args_free(a);
	dopy_proxy_free(p);
}

Test(rebind, killed_mid_call_is_outcome_unknown, .timeout = 30)
{
	char pidfile[512];
	dopy_conn *c = open_dopyd(pidfile, sizeof(pidfile));
	dopy_proxy *p = dopy_proxy_new(c, "test");
	dopy_error *e = NULL;
	int r;

	kill_during_sleep(c, pidfile, &e, &r);
	cr_assert_eq(r, DOPY_E_LOST, "got %d: %s", r, dopy_error_message(e));
	cr_assert_eq(dopy_error_code(e), DOPY_E_LOST);
	cr_assert(strstr(dopy_error_message(e), "test.sleep") != NULL);
	cr_assert(strstr(dopy_error_message(e), "unknown") != NULL, "%s",
	    dopy_error_message(e));
	/* Without a rebind the connection stays down, and says why. */
	cr_assert_eq(add(p, 1, 1, &e), DOPY_E_CLOSED);
	cr_assert(strstr(dopy_error_message(e), "rebind") != NULL, "%s",
	    dopy_error_message(e));
	dopy_error_free(e);
	dopy_proxy_free(p);
	dopy_conn_close(c);
}

Test(rebind, rebind_reconnects_after_loss, .timeout = 30)
{
	char pidfile[512];
	dopy_conn *c = open_dopyd(pidfile, sizeof(pidfile));
	dopy_proxy *p = dopy_proxy_new(c, "test");
	dopy_error *e = NULL;
	pid_t first;
	int r;

	dopy_conn_set_rebind(c, 3, 50);
	first = server_pid(pidfile);
	kill_during_sleep(c, pidfile, &e, &r);
	cr_assert_eq(r, DOPY_E_LOST, "never silently retried");
	cr_assert_eq(add(p, 20, 22, &e), 42, "%s", dopy_error_message(e));
	cr_assert_eq(dopy_conn_generation(c), 2);
	cr_assert_neq(server_pid(pidfile), first);
	dopy_error_free(e);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}

/* A listener that is gone: every try fails, wait_ms apart. */
Test(rebind, tries_and_wait_are_honoured, .timeout = 60)
{
	char sock[512], target[600];
	struct e2e_proc lp;
	dopy_conn *c = NULL;
	dopy_proxy *p;
	dopy_error *e = NULL;
	int64_t t0, dt;
	char *argv[8];

	snprintf(sock, sizeof(sock), "%s/rebind.%d.sock", e2e_tmpdir(),
	    (int)getpid());
	snprintf(target, sizeof(target), "unix:%s", sock);
	argv[0] = (char *)e2e_bin("dopyd");
	argv[1] = "-l";
	argv[2] = target;
	argv[3] = "-L";
	argv[4] = "/dev/null";
	argv[5] = NULL;
	e2e_spawn(&lp, argv);
	for (t0 = dopy_now_ms(); dopy_now_ms() - t0 < 5000; usleep(20000))
		if (access(sock, F_OK) == 0 &&
		    dopy_connect(target, &c, NULL) == 0)
			break;
	cr_assert_not_null(c, "listener did not come up");
	p = dopy_proxy_new(c, "test");
	cr_assert_eq(add(p, 1, 2, &e), 3);
	kill(lp.pid, SIGKILL);
	e2e_wait(&lp, 5000);
	unlink(sock);
	cr_assert_eq(dopy_conn_release(c), 0);
	dopy_conn_set_rebind(c, 4, 100);
	t0 = dopy_now_ms();
	cr_assert_lt(add(p, 1, 2, &e), 0);
	dt = dopy_now_ms() - t0;
	cr_assert_geq(dt, 300, "3 waits of 100 ms, took %lld", (long long)dt);
	cr_assert_lt(dt, 5000);
	cr_assert(strstr(dopy_error_message(e), sock) != NULL ||
	    strstr(dopy_error_message(e), "connect") != NULL, "%s",
	    dopy_error_message(e));
	dopy_error_free(e);
	dopy_proxy_free(p);
	dopy_conn_close(c);
	e2e_close(&lp);
}

Test(rebind, connection_from_fds_cannot_reconnect, .timeout = 30)
{
	struct e2e_proc sp;
	dopy_conn *c = NULL;
	dopy_proxy *p;
	dopy_error *e = NULL;
	char *argv[4];

	argv[0] = (char *)e2e_bin("dopyd");
	argv[1] = "-L";
	argv[2] = "/dev/null";
	argv[3] = NULL;
	e2e_spawn(&sp, argv);
	fcntl(sp.in, F_SETFL, 0);
	/* The connection owns the pipes from here. */
	cr_assert_eq(dopy_conn_fds(sp.out, sp.in, &c, &e), 0, "%s",
	    dopy_error_message(e));
	sp.in = sp.out = -1;
	p = dopy_proxy_new(c, "test");
	cr_assert_eq(add(p, 2, 2, &e), 4);
	cr_assert_eq(dopy_conn_release(c), 0);
	cr_assert_eq(add(p, 2, 2, &e), DOPY_E_CLOSED);
	cr_assert(strstr(dopy_error_message(e), "descriptors") != NULL, "%s",
	    dopy_error_message(e));
	dopy_error_free(e);
	dopy_proxy_free(p);
	dopy_conn_close(c);
	cr_assert(e2e_exited(e2e_wait(&sp, 5000), 0), "EOF ends dopyd");
}

/* References die with the server process: a proxy for one made on the
 * first connection refuses to call the second. */
Test(rebind, reference_from_an_earlier_connection, .timeout = 30)
{
	char pidfile[512];
	dopy_conn *c = open_dopyd(pidfile, sizeof(pidfile));
	dopy_proxy *factory = dopy_proxy_new(c, "factory"), *counter;
	dopy_value *ref = NULL, *v = NULL;
	dopy_error *e = NULL;

	cr_assert_eq(dopy_proxy_call(factory, "counter", NULL, &ref, &e), 0,
	    "%s", dopy_error_message(e));
	cr_assert_not_null(counter = dopy_proxy_ref(c, ref));
	cr_assert_eq(dopy_proxy_call(counter, "incr", NULL, &v, &e), 0);
	cr_assert_eq(dopy_value_get_int(v), 1);
	dopy_value_free(v);
	cr_assert_eq(dopy_conn_release(c), 0);
	cr_assert_eq(dopy_proxy_call(counter, "incr", NULL, &v, &e),
	    DOPY_E_CLOSED);
	cr_assert(strstr(dopy_error_message(e), "earlier connection") != NULL,
	    "%s", dopy_error_message(e));
	/* The named proxy dials again; the new server has no @1. */
	cr_assert_eq(dopy_proxy_call(factory, "live", NULL, &v, &e), 0);
	cr_assert_eq(dopy_value_get_int(v), 0);
	dopy_value_free(v);
	dopy_error_free(e);
	dopy_value_free(ref);
	dopy_proxy_free(counter);
	dopy_proxy_free(factory);
	cr_assert_eq(dopy_conn_close(c), 0);
}

/* naming.bind NAME TARGET at the naming service ns (a command). */
static void
bind_name(const char *ns, const char *name, const char *target)
{
	dopy_conn *c = NULL;
	dopy_proxy *p;
	dopy_args *a = dopy_args_new();
	dopy_value *v = NULL;
	dopy_error *e = NULL;

	cr_assert_eq(dopy_connect(ns, &c, &e), 0, "%s",
	    dopy_error_message(e));
	p = dopy_proxy_new(c, "naming");
	dopy_args_string(a, NULL, name);
	dopy_args_string(a, NULL, target);
	cr_assert_eq(dopy_proxy_call(p, "bind", a, &v, &e), 0, "%s",
	    dopy_error_message(e));
	dopy_value_free(v);
	dopy_args_free(a);
	dopy_proxy_free(p);
	dopy_conn_close(c);
}

/*
 * A naming entry that runs a command is refused without
 * DOPY_CONNECT_TRUST_NS and dialled with it, and a rebind after a loss
 * trusts it as the first connect did.
 */
Test(rebind, trusted_name_dials_again, .timeout = 30)
{
	char ns[600], entry[1200], pidfile[512];
	dopy_conn *c = NULL;
	dopy_proxy *p;
	dopy_error *e = NULL;
	pid_t first;
	int r;

	snprintf(pidfile, sizeof(pidfile), "%s/trusted.%d.pid", e2e_tmpdir(),
	    (int)getpid());
	snprintf(ns, sizeof(ns), "%s -L /dev/null -N %s/trusted.%d.ns",
	    e2e_bin("dopyd"), e2e_tmpdir(), (int)getpid());
	snprintf(entry, sizeof(entry), "exec:echo $$ > %s; exec %s "
	    "-L /dev/null", pidfile, e2e_bin("dopyd"));
	bind_name(ns, "calc", entry);
	cr_assert(setenv("DOPY_NS", ns, 1) == 0 &&
	    unsetenv("DOPY_NS_TRUST") == 0);
	cr_assert_eq(dopy_connect_flags("name:calc", NULL, 0, &c, &e),
	    DOPY_E_USAGE);
	cr_assert(strstr(dopy_error_message(e), "DOPY_NS_TRUST=1") != NULL,
	    "%s", dopy_error_message(e));
	cr_assert_neq(access(pidfile, F_OK), 0, "the entry ran untrusted");
	cr_assert_eq(dopy_connect_flags("name:calc", NULL,
	    DOPY_CONNECT_TRUST_NS, &c, &e), 0, "%s", dopy_error_message(e));
	p = dopy_proxy_new(c, "test");
	cr_assert_eq(add(p, 1, 2, &e), 3);
	first = server_pid(pidfile);
	dopy_conn_set_rebind(c, 3, 50);
	kill_during_sleep(c, pidfile, &e, &r);
	cr_assert_eq(r, DOPY_E_LOST);
	cr_assert_eq(add(p, 20, 22, &e), 42, "%s", dopy_error_message(e));
	cr_assert_neq(server_pid(pidfile), first);
	dopy_error_free(e);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}
