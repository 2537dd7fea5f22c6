/*
 * e2e_short.c - the short client API against the real dopyd: a proxy
 * from a target in one call (dopy_open), connect options in one
 * structure (dopy_connect_with), a call in one line (dopy_proxy_callf)
 * and the naming service from C (dopy_ns_*).
 */
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "e2e_util.h"

/* Start dopyd -l unix:SOCK, with one more option and its argument if
 * o1 is not NULL, and wait for the socket; its target is in target. */
static void
listener(struct e2e_proc *lp, char *target, size_t len, const char *tag,
    const char *o1, const char *o2)
{
	char sock[512], *argv[10];
	size_t n = 0;
	int64_t t0;

	snprintf(sock, sizeof(sock), "%s/%s.%d.sock", e2e_tmpdir(), tag,
	    (int)getpid());
	snprintf(target, len, "unix:%s", sock);
	argv[n++] = (char *)e2e_bin("dopyd");
	argv[n++] = "-L";
	argv[n++] = "/dev/null";
	if (o1 != NULL) {
		argv[n++] = (char *)o1;
		argv[n++] = (char *)o2;
	}
	argv[n++] = "-l";
	argv[n++] = target;
	argv[n] = NULL;
	e2e_spawn(lp, argv);
	for (t0 = dopy_now_ms(); dopy_now_ms() - t0 < 5000; usleep(20000))
		if (access(sock, F_OK) == 0)
			break;
	cr_assert_eq(access(sock, F_OK), 0, "listener did not come up");
}

static void
stop(struct e2e_proc *lp)
{
	kill(lp->pid, SIGTERM);
	e2e_wait(lp, 5000);
	e2e_close(lp);
}

static int64_t
int_result(dopy_value *v)
{
	int64_t n;

	cr_assert_not_null(v);
	cr_assert_eq(dopy_value_kind(v), DOPY_INT);
	n = dopy_value_get_int(v);
	dopy_value_free(v);
	return n;
}

Test(short, open_and_callf, .timeout = 30)
{
	dopy_proxy *p;
	dopy_value *v;
	dopy_error *e = NULL;

	cr_assert_eq(dopy_open(e2e_bin("dopyd"), "test", NULL, &p, &e), 0,
	    "%s", dopy_error_message(e));
	cr_assert_eq(dopy_proxy_callf(p, "add", &v, &e, "i i", (int64_t)2,
	    (int64_t)3), 0, "%s", dopy_error_message(e));
	cr_assert_eq(int_result(v), 5);
	cr_assert_eq(dopy_proxy_callf(p, "greet", &v, &e, "s, greeting=s",
	    "World", "Hi"), 0, "%s", dopy_error_message(e));
	cr_assert_str_eq(dopy_value_get_string(v), "Hi, World");
	dopy_value_free(v);
	cr_assert_eq(dopy_proxy_callf(p, "echo", &v, &e, "y", "a\0b",
	    (size_t)3), 0, "%s", dopy_error_message(e));
	cr_assert_eq(dopy_value_len(v), 3);
	dopy_value_free(v);
	/* Nobody wants the result: NULL, and nothing leaks. */
	cr_assert_eq(dopy_proxy_callf(p, "add", NULL, &e, "a=i b=i",
	    (int64_t)1, (int64_t)1), 0, "%s", dopy_error_message(e));
	cr_assert_eq(dopy_proxy_call(p, "caller", NULL, NULL, &e), 0);
	/* The server checks the call against the published signature. */
	cr_assert_eq(dopy_proxy_callf(p, "add", &v, &e, "s i", "2",
	    (int64_t)3), DOPY_E_TYPE);
	cr_assert_null(v);
	cr_assert_str_eq(dopy_error_name(e), "dopy.TypeError", "%s",
	    dopy_error_message(e));
	dopy_error_free(e);
	e = NULL;
	/* Remote errors as from dopy_proxy_call. */
	cr_assert_eq(dopy_proxy_callf(p, "fail", NULL, &e, "s", "boom"),
	    DOPY_E_REMOTE);
	cr_assert_str_eq(dopy_error_message(e), "boom");
	dopy_error_free(e);
	dopy_proxy_free(p);	/* closes its connection: nothing leaks */
}

Test(short, callf_refuses_bad_formats_and_takes_values, .timeout = 30)
{
	static const char *const bad[] = { "x", "ii", "=i", "i,,q", "n=" };
	dopy_proxy *p;
	dopy_value *v;
	dopy_error *e = NULL;
	size_t i;

	cr_assert_eq(dopy_open(e2e_bin("dopyd"), "test", NULL, &p, &e), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(dopy_proxy_callf(p, "add", &v, &e, bad[i],
		    (int64_t)1, (int64_t)2), DOPY_E_INVAL, "%s", bad[i]);
		cr_assert(strstr(dopy_error_message(e), "callf") != NULL);
		dopy_error_free(e);
		e = NULL;
	}
	/* A positional argument after a named one is refused, and the
	 * dopy_value given after it is still taken (LSan would see it). */
	cr_assert_eq(dopy_proxy_callf(p, "add", &v, &e, "a=i i v",
	    (int64_t)1, (int64_t)2, dopy_value_int(3)), DOPY_E_INVAL);
	dopy_error_free(e);
	e = NULL;
	cr_assert_eq(dopy_proxy_callf(p, "add", &v, &e, "v v",
	    dopy_value_int(20), dopy_value_int(22)), 0);
	cr_assert_eq(int_result(v), 42);
	dopy_proxy_free(p);
}

Test(short, open_needs_an_object, .timeout = 30)
{
	dopy_proxy *p = (dopy_proxy *)1;
	dopy_error *e = NULL;

	cr_assert_eq(dopy_open(e2e_bin("dopyd"), NULL, NULL, &p, &e),
	    DOPY_E_USAGE);
	cr_assert_null(p);
	cr_assert(strstr(dopy_error_message(e), "names no object") != NULL,
	    "%s", dopy_error_message(e));
	dopy_error_free(e);
}

/* A target that names its object gives the proxy; options in one place. */
Test(short, open_a_named_object_with_options, .timeout = 30)
{
	struct dopy_connect_opts o = { 0 };
	struct e2e_proc lp;
	char target[600], obj[700], key[600];
	dopy_proxy *p;
	dopy_value *v;
	dopy_error *e = NULL;

	snprintf(key, sizeof(key), "%s/short.key", e2e_tmpdir());
	cr_assert_eq(e2e_spit(key, "0123456789abcdef0123456789abcdef"), 0);
	cr_assert_eq(chmod(key, 0600), 0);
	listener(&lp, target, sizeof(target), "short", "-k", key);
	snprintf(obj, sizeof(obj), "%s#test", target);
	cr_assert_eq(dopy_open(obj, NULL, &o, &p, &e), DOPY_E_AUTH,
	    "no key: refused");
	dopy_error_free(e);
	e = NULL;
	o.keyfile = key;
	o.timeout_ms = 300;
	cr_assert_eq(dopy_open(obj, NULL, &o, &p, &e), 0, "%s",
	    dopy_error_message(e));
	cr_assert_eq(dopy_proxy_callf(p, "add", &v, &e, "i i", (int64_t)40,
	    (int64_t)2), 0);
	cr_assert_eq(int_result(v), 42);
	cr_assert_eq(dopy_proxy_callf(p, "sleep", NULL, &e, "i",
	    (int64_t)2000), DOPY_E_TIMEOUT, "opts.timeout_ms applies");
	dopy_error_free(e);
	dopy_proxy_free(p);
	stop(&lp);
}

/* Bind, resolve, list and unbind from C, then open by name. */
Test(short, naming_from_c, .timeout = 30)
{
	struct e2e_proc lp;
	char target[600], nsdir[600], *t, *o;
	dopy_proxy *nsp, *p;
	dopy_value *names, *v;
	dopy_error *e = NULL;

	snprintf(nsdir, sizeof(nsdir), "%s/ns", e2e_tmpdir());
	cr_assert_eq(mkdir(nsdir, 0700), 0);
	listener(&lp, target, sizeof(target), "shortns", "-N", nsdir);
	cr_assert_eq(setenv("DOPY_NS", target, 1), 0);
	cr_assert_eq(dopy_ns_open(NULL, &nsp, &e), 0, "%s",
	    dopy_error_message(e));
	cr_assert_eq(dopy_ns_bind(nsp, "demo.calc", target, "test", NULL,
	    &e), 0, "%s", dopy_error_message(e));
	cr_assert_eq(dopy_ns_bind(nsp, "demo.calc", target, "x", NULL, &e),
	    DOPY_E_REMOTE, "bound already");
	cr_assert_str_eq(dopy_error_name(e), "naming.Exists");
	dopy_error_free(e);
	e = NULL;
	cr_assert_eq(dopy_ns_resolve(nsp, "demo.calc", &t, &o, &e), 0);
	cr_assert_str_eq(t, target);
	cr_assert_str_eq(o, "test");
	free(t);
	free(o);
	cr_assert_eq(dopy_ns_list(nsp, "demo.", 0, &names, &e), 0);
	cr_assert_eq(dopy_value_len(names), 1);
	cr_assert_str_eq(dopy_value_get_string(dopy_value_at(names, 0)),
	    "demo.calc");
	dopy_value_free(names);
	/* One call from a name to a proxy for the object it names. */
	cr_assert_eq(dopy_open("name:demo.calc", NULL, NULL, &p, &e), 0,
	    "%s", dopy_error_message(e));
	cr_assert_eq(dopy_proxy_callf(p, "add", &v, &e, "i i", (int64_t)2,
	    (int64_t)3), 0);
	cr_assert_eq(int_result(v), 5);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_ns_unbind(nsp, "demo.calc", &e), 0);
	cr_assert_eq(dopy_ns_resolve(nsp, "demo.calc", &t, NULL, &e),
	    DOPY_E_REMOTE);
	cr_assert_null(t);
	dopy_error_free(e);
	dopy_proxy_free(nsp);
	unsetenv("DOPY_NS");
	stop(&lp);
}

/* Resolve name within ms, or fail; returns whether it was bound. */
static int
resolves(dopy_proxy *nsp, const char *name, int want, int ms, char **t)
{
	dopy_error *e = NULL;
	int64_t t0;
	int bound = 0;

	for (t0 = dopy_now_ms(); dopy_now_ms() - t0 < ms; usleep(20000)) {
		bound = dopy_ns_resolve(nsp, name, t, NULL, &e) == 0;
		dopy_error_free(e);
		e = NULL;
		if (bound == want)
			break;
		if (bound)
			free(*t);
	}
	return bound;
}

/* dopyd -l HOST:0 -n NAME=OBJECT binds the address it got, and unbinds
 * it when it stops (Pyro's daemon registering its URI). */
Test(short, listener_registers_its_name, .timeout = 30)
{
	struct e2e_proc ns, srv;
	char target[600], nsdir[600], *t;
	char *argv[] = { (char *)e2e_bin("dopyd"), "-L", "/dev/null", "-l",
	    "127.0.0.1:0", "-n", "demo.calc=test", NULL };
	dopy_proxy *nsp, *p;
	dopy_value *v;
	dopy_error *e = NULL;

	snprintf(nsdir, sizeof(nsdir), "%s/regns", e2e_tmpdir());
	cr_assert_eq(mkdir(nsdir, 0700), 0);
	listener(&ns, target, sizeof(target), "regns", "-N", nsdir);
	cr_assert_eq(setenv("DOPY_NS", target, 1), 0);
	e2e_spawn(&srv, argv);
	cr_assert_eq(dopy_ns_open(NULL, &nsp, &e), 0);
	cr_assert(resolves(nsp, "demo.calc", 1, 5000, &t), "never bound");
	cr_assert(strncmp(t, "tcp://127.0.0.1:", 16) == 0, "%s", t);
	cr_assert_neq(strcmp(t, "tcp://127.0.0.1:0"), 0, "the real port");
	free(t);
	cr_assert_eq(dopy_open("name:demo.calc", NULL, NULL, &p, &e), 0,
	    "%s", dopy_error_message(e));
	cr_assert_eq(dopy_proxy_callf(p, "add", &v, &e, "i i", (int64_t)2,
	    (int64_t)3), 0);
	cr_assert_eq(int_result(v), 5);
	dopy_proxy_free(p);
	stop(&srv);
	cr_assert_not(resolves(nsp, "demo.calc", 0, 5000, &t),
	    "still bound after the listener stopped");
	dopy_proxy_free(nsp);
	unsetenv("DOPY_NS");
	stop(&ns);
}

/* -n's argument is checked before anything is served. */
Test(short, bad_names_are_refused, .timeout = 30)
{
	char lng[300];
	char *argv[] = { (char *)e2e_bin("dopyd"), "-l", "127.0.0.1:0", "-n",
	    NULL, NULL };
	const char *bad[] = { "", "=test", lng };
	size_t i;

	memset(lng, 'a', 256);
	strcpy(lng + 256, "=test");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		argv[4] = (char *)bad[i];
		e2e_run_expect(argv, 2, "", "want NAME or NAME=OBJECT, NAME "
		    "up to 255 bytes");
	}
}
