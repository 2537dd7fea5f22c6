/*
 * e2e_early.c - early calls (DOPY_CONNECT_EARLY): the first call goes
 * out in one write with the client's HELLO, before the server's HELLO
 * is in.  The client side against fake servers that answer only once
 * they hold both frames, or answer badly (every call then fails with the
 * error a plain connect gives); the server side against dopyd, which
 * must run no call that arrives behind a HELLO it refuses.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "e2e_util.h"
#include "internal.h"

/* ---- helpers ---- */

/* A fake server: it reads want bytes (0: none) into a file, then
 * writes script and reads on to EOF.  Returns the exec: command. */
static void
fake(char *cmd, size_t len, const struct dopy_buf *script, size_t want,
    char *inpath, size_t inlen)
{
	static int n;
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/early-script.%d", e2e_tmpdir(), n);
	snprintf(inpath, inlen, "%s/early-in.%d", e2e_tmpdir(), n++);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert(fd >= 0);
	cr_assert(e2e_write(fd, script->data, script->len) == 0);
	close(fd);
	if (want > 0)
		snprintf(cmd, len, "head -c %zu > '%s'; cat '%s'; "
		    "exec cat >/dev/null", want, inpath, path);
	else
		snprintf(cmd, len, "cat '%s'; exec cat > '%s'", path, inpath);
}

/* What the client sends first: its HELLO, then test.add(2, 3) as call 1. */
static void
client_opening(struct dopy_buf *b)
{
	struct dopy_hello h = { .proto = DOPY_PROTOCOL,
	    .max_frame = DOPY_FRAME_DEFAULT, .features = DOPY_FEAT_ALL,
	    .software = DOPY_SOFTWARE };
	struct dopy_buf pl;
	dopy_args *a = dopy_args_new();

	dopy_buf_init(b);
	dopy_buf_init(&pl);
	cr_assert(dopy_msg_hello_put(&pl, &h) == 0);
	e2e_frame(b, DOPY_F_HELLO, 0, pl.data, pl.len);
	dopy_buf_release(&pl);
	dopy_args_int(a, NULL, 2);
	dopy_args_int(a, NULL, 3);
	cr_assert(dopy_put_call(b, DOPY_F_CALL, 1, "test", "add", a,
	    DOPY_FRAME_MIN, NULL) == 0);
	dopy_args_free(a);
}

static dopy_conn *
early(const char *target)
{
	dopy_conn *c = NULL;
	dopy_error *e = NULL;

	cr_assert_eq(dopy_connect_flags(target, NULL, DOPY_CONNECT_EARLY, &c,
	    &e), 0, "%s", dopy_error_message(e));
	return c;
}

static int
add(dopy_proxy *p, int a, int b, int64_t *sum, dopy_error **e)
{
	dopy_args *args = dopy_args_new();
	dopy_value *v = NULL;
	int r;

	dopy_args_int(args, NULL, a);
	dopy_args_int(args, NULL, b);
	if ((r = dopy_proxy_call(p, "add", args, &v, e)) == 0 && sum != NULL)
		*sum = dopy_value_get_int(v);
	dopy_value_free(v);
	dopy_args_free(args);
	return r;
}

/* Start test.add(a, b) and wait for it; the send itself may fail
 * already when the server has gone. */
static int
add_async(dopy_proxy *p, int a, int b, dopy_future **fp, dopy_error **e)
{
	dopy_args *args = dopy_args_new();
	int r;

	dopy_args_int(args, NULL, a);
	dopy_args_int(args, NULL, b);
	r = dopy_proxy_call_async(p, "add", args, NULL, NULL, fp, e);
	dopy_args_free(args);
	return r;
}

static int
collect(int sent, dopy_future *f, dopy_error **e)
{
	return sent < 0 ? sent : dopy_future_wait(f, NULL, e);
}

/* The same error; the trace too when exact (a server's names its pid). */
static void
assert_same_error(const dopy_error *want, const dopy_error *got,
    const char *what, int exact)
{
	size_t i;

	cr_assert_not_null(got, "%s: no error", what);
	cr_assert_eq(dopy_error_code(got), dopy_error_code(want),
	    "%s: code %d, want %d (%s)", what, dopy_error_code(got),
	    dopy_error_code(want), dopy_error_message(got));
	cr_assert_str_eq(dopy_error_message(got), dopy_error_message(want),
	    "%s", what);
	cr_assert_str_eq(dopy_error_name(got) ? dopy_error_name(got) : "",
	    dopy_error_name(want) ? dopy_error_name(want) : "", "%s", what);
	cr_assert_eq(dopy_error_trace_len(got), dopy_error_trace_len(want),
	    "%s", what);
	for (i = 0; exact && i < dopy_error_trace_len(want); i++)
		cr_assert_str_eq(dopy_error_trace(got, i),
		    dopy_error_trace(want, i), "%s", what);
}

/* ---- the client ---- */

Test(early, call_answered_and_connection_goes_on, .timeout = 20)
{
	dopy_conn *c = early(e2e_bin("dopyd"));
	dopy_proxy *p = dopy_proxy_new(c, "test");
	dopy_error *e = NULL;
	int64_t sum = 0;

	cr_assert_str_eq(dopy_conn_server_version(c), "");
	cr_assert_eq(add(p, 2, 3, &sum, &e), 0, "%s", dopy_error_message(e));
	cr_assert_eq(sum, 5);
	cr_assert_str_eq(dopy_conn_server_version(c), DOPY_SOFTWARE);
	cr_assert_eq(add(p, 4, 5, &sum, &e), 0, "%s", dopy_error_message(e));
	cr_assert_eq(sum, 9);
	cr_assert_eq(dopy_conn_settle(c, &e), 0);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}

/* A server that says nothing until it holds HELLO and the whole first
 * CALL: the call must not wait for the server's HELLO, and both frames
 * arrive exactly as a plain client would send them. */
Test(early, first_call_goes_out_with_hello, .timeout = 20)
{
	char cmd[2048], in[512];
	struct dopy_buf want, script, pl;
	dopy_value *five = dopy_value_int(5);
	dopy_conn *c;
	dopy_proxy *p;
	dopy_error *e = NULL;
	int64_t sum = 0;
	size_t len;
	char *got;

	client_opening(&want);
	dopy_buf_init(&script);
	e2e_hello(&script, DOPY_PROTOCOL, 1u << 20);
	dopy_buf_init(&pl);
	cr_assert(dopy_encode(five, &pl) == 0);
	dopy_value_free(five);
	e2e_frame(&script, DOPY_F_REPLY, 1, pl.data, pl.len);
	dopy_buf_release(&pl);
	fake(cmd, sizeof(cmd), &script, want.len, in, sizeof(in));
	c = early(cmd);
	dopy_conn_set_timeout(c, 5000);
	p = dopy_proxy_new(c, "test");
	cr_assert_eq(add(p, 2, 3, &sum, &e), 0, "%s", dopy_error_message(e));
	cr_assert_eq(sum, 5);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
	got = e2e_slurp(in, &len);
	cr_assert_not_null(got);
	cr_assert_eq(len, want.len);
	cr_assert(memcmp(got, want.data, len) == 0, "the opening differs");
	free(got);
	dopy_buf_release(&want);
	dopy_buf_release(&script);
}

/* Bad answers to HELLO: with the flag, every call in flight and every
 * later one fails with the error a plain connect reports. */
Test(early, bad_hello_fails_every_call_as_connect_would, .timeout = 60)
{
	char cmd[2048], in[512];
	struct dopy_buf script;
	dopy_error *busy, *want, *e1, *e2, *e;
	dopy_future *f1, *f2;
	struct dopy_buf pl;
	dopy_conn *c;
	dopy_proxy *p;
	int k, r, s1, s2;

	for (k = 0; k < 6; k++) {
		dopy_buf_init(&script);
		switch (k) {
		case 0:		/* another protocol version */
			e2e_hello(&script, 2, 1u << 20);
			break;
		case 1:		/* a HELLO that does not decode */
			e2e_frame(&script, DOPY_F_HELLO, 0, "junk", 4);
			break;
		case 2:		/* an ERROR in place of HELLO, with a trace */
			busy = dopy_error_new(DOPY_E_AUTH, "no key, no entry");
			dopy_error_set_fields(busy, "dopy.AuthFailed", "", "",
			    "fakehost", 42);
			dopy_error_add_trace(busy, "in connection on host "
			    "fakehost pid 42");
			dopy_buf_init(&pl);
			cr_assert(dopy_msg_error_put(&pl, busy) == 0);
			e2e_frame(&script, DOPY_F_ERROR, 0, pl.data, pl.len);
			dopy_buf_release(&pl);
			dopy_error_free(busy);
			break;
		case 3:		/* a REPLY before any HELLO */
			e2e_frame(&script, DOPY_F_REPLY, 1, NULL, 0);
			break;
		case 4:		/* a frame over the opening limit */
			e2e_frame(&script, DOPY_F_HELLO, 0, NULL, 0);
			script.data[8] = 0x7f;
			break;
		default:	/* EOF before HELLO */
			break;
		}
		fake(cmd, sizeof(cmd), &script, 0, in, sizeof(in));
		if (k == 5)
			snprintf(cmd, sizeof(cmd), "exit 0");
		dopy_buf_release(&script);
		want = NULL;
		r = dopy_connect(cmd, &c, &want);
		cr_assert_lt(r, 0, "case %d: plain connect succeeded", k);
		cr_assert_not_null(want);

		c = early(cmd);
		p = dopy_proxy_new(c, "test");
		f1 = f2 = NULL;
		e1 = e2 = e = NULL;
		s1 = add_async(p, 1, 2, &f1, &e1);
		s2 = add_async(p, 3, 4, &f2, &e2);
		cr_assert_eq(collect(s2, f2, &e2), r, "case %d: %s", k,
		    dopy_error_message(e2));
		assert_same_error(want, e2, "second call", 1);
		cr_assert_eq(collect(s1, f1, &e1), r, "case %d", k);
		assert_same_error(want, e1, "first call", 1);
		dopy_error_free(e1);
		dopy_error_free(e2);
		cr_assert_eq(add(p, 5, 6, NULL, &e), r, "case %d", k);
		assert_same_error(want, e, "a later call", 1);
		dopy_error_free(e);
		e = NULL;
		cr_assert_eq(dopy_conn_settle(c, &e), r);
		dopy_error_free(e);
		dopy_future_free(f1);
		dopy_future_free(f2);
		dopy_proxy_free(p);
		dopy_conn_close(c);
		dopy_error_free(want);
	}
}

/* A command that does not exist: the same story as without the flag. */
Test(early, missing_command_explained, .timeout = 20)
{
	dopy_conn *c = early("/nonexistent/dopyd 2>/dev/null");
	dopy_proxy *p = dopy_proxy_new(c, "test");
	dopy_error *e = NULL;

	cr_assert_eq(add(p, 1, 2, NULL, &e), DOPY_E_SPAWN);
	cr_assert(strstr(dopy_error_message(e), "status 127 before HELLO "
	    "(command not found)") != NULL, "%s", dopy_error_message(e));
	dopy_error_free(e);
	dopy_proxy_free(p);
	dopy_conn_close(c);
}

/* A first call bigger than the smallest frame limit waits for the
 * server's HELLO, so it learns that this one takes no more than 4096. */
Test(early, big_first_call_waits_for_hello, .timeout = 20)
{
	char cmd[2048], in[512];
	struct dopy_buf script, want;
	struct dopy_frame f;
	dopy_args *a = dopy_args_new();
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	static char big[5000];
	dopy_conn *c;
	dopy_proxy *p;
	size_t len;
	char *got;

	dopy_buf_init(&script);
	e2e_hello(&script, DOPY_PROTOCOL, DOPY_FRAME_MIN);
	fake(cmd, sizeof(cmd), &script, 0, in, sizeof(in));
	dopy_buf_release(&script);
	c = early(cmd);
	p = dopy_proxy_new(c, "test");
	dopy_args_bytes(a, NULL, big, sizeof(big));
	cr_assert_eq(dopy_proxy_call(p, "echo", a, &v, &e), DOPY_E_TOOBIG);
	cr_assert(strstr(dopy_error_message(e), "maximum frame of 4096") !=
	    NULL, "%s", dopy_error_message(e));
	dopy_error_free(e);
	e = NULL;
	dopy_proxy_free(p);
	dopy_conn_close(c);
	/* Our HELLO went out, and nothing else. */
	client_opening(&want);
	got = e2e_slurp(in, &len);
	cr_assert_not_null(got);
	cr_assert(dopy_frame_decode((uint8_t *)got, DOPY_HELLO_MAX, &f) == 0);
	cr_assert_eq(f.type, DOPY_F_HELLO);
	cr_assert_eq(len, DOPY_HDR_LEN + f.len);
	cr_assert(memcmp(got, want.data, len) == 0);
	free(got);
	dopy_buf_release(&want);

	/* Against dopyd the big call simply goes through. */
	c = early(e2e_bin("dopyd"));
	p = dopy_proxy_new(c, "test");
	cr_assert_eq(dopy_proxy_call(p, "echo", a, &v, &e), 0, "%s",
	    dopy_error_message(e));
	cr_assert(dopy_value_get_bytes(v, &len) != NULL);
	cr_assert_eq(len, sizeof(big));
	dopy_value_free(v);
	dopy_args_free(a);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}

/* With a key the client needs the server's nonce first: connect waits,
 * and a server without the key is refused there, as without the flag. */
Test(early, key_connects_as_without_the_flag, .timeout = 20)
{
	char key[512], cmd[2048], in[512];
	struct dopy_buf script;
	dopy_key *k = NULL;
	dopy_conn *c = NULL;
	dopy_error *e = NULL;
	dopy_proxy *p;
	int64_t sum = 0;

	snprintf(key, sizeof(key), "%s/early.key", e2e_tmpdir());
	cr_assert(e2e_spit(key, "0123456789abcdef0123456789abcdef") == 0);
	chmod(key, 0600);
	cr_assert_eq(dopy_key_load(key, &k, &e), 0, "%s",
	    dopy_error_message(e));
	snprintf(cmd, sizeof(cmd), "exec %s -L /dev/null -k %s",
	    e2e_bin("dopyd"), key);
	cr_assert_eq(dopy_connect_flags(cmd, k, DOPY_CONNECT_EARLY, &c, &e),
	    0, "%s", dopy_error_message(e));
	cr_assert_str_eq(dopy_conn_server_version(c), DOPY_SOFTWARE,
	    "connect did not wait for the HELLO");
	p = dopy_proxy_new(c, "test");
	cr_assert_eq(add(p, 2, 3, &sum, &e), 0, "%s", dopy_error_message(e));
	cr_assert_eq(sum, 5);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);

	dopy_buf_init(&script);
	e2e_hello(&script, DOPY_PROTOCOL, 1u << 20);
	fake(cmd, sizeof(cmd), &script, 0, in, sizeof(in));
	dopy_buf_release(&script);
	cr_assert_eq(dopy_connect_flags(cmd, k, DOPY_CONNECT_EARLY, &c, &e),
	    DOPY_E_AUTH);
	cr_assert_null(c);
	dopy_error_free(e);
	dopy_key_free(k);
}

Test(early, unknown_flags_refused)
{
	dopy_conn *c = NULL;
	dopy_error *e = NULL;

	cr_assert_eq(dopy_connect_flags("exit 0", NULL, 0x100, &c, &e),
	    DOPY_E_INVAL);
	cr_assert_null(c);
	dopy_error_free(e);
}

/* A batch encodes its calls against the negotiated limit: it settles
 * the exchange first, then runs as usual. */
Test(early, batch_and_settle, .timeout = 20)
{
	dopy_conn *c = early(e2e_bin("dopyd"));
	dopy_proxy *p = dopy_proxy_new(c, "test");
	dopy_batch *b = dopy_batch_new(c);
	dopy_args *a = dopy_args_new();
	dopy_value *v = NULL;
	dopy_error *e = NULL;

	dopy_args_int(a, NULL, 20);
	dopy_args_int(a, NULL, 22);
	cr_assert_eq(dopy_batch_add(b, p, "add", a), 0);
	cr_assert_str_eq(dopy_conn_server_version(c), DOPY_SOFTWARE);
	cr_assert_eq(dopy_batch_add(b, p, "add", a), 0);
	cr_assert_eq(dopy_batch_run(b, &e), 0, "%s", dopy_error_message(e));
	cr_assert_eq(dopy_batch_result(b, 1, &v, &e), 0);
	cr_assert_eq(dopy_value_get_int(v), 42);
	dopy_value_free(v);
	dopy_batch_free(b);
	dopy_args_free(a);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}

/* ---- the server: nothing runs behind a HELLO it refused ---- */

/* Entries in dir, . and .. aside. */
static int
entries(const char *dir)
{
	struct dirent *d;
	DIR *dp = opendir(dir);
	int n = 0;

	cr_assert_not_null(dp, "%s", dir);
	while ((d = readdir(dp)) != NULL)
		n += strcmp(d->d_name, ".") != 0 &&
		    strcmp(d->d_name, "..") != 0;
	closedir(dp);
	return n;
}

/* pos.store(path, 1): a call whose running leaves a file. */
static void
store_call(struct dopy_buf *b, const char *path)
{
	dopy_value *args[2] = { dopy_value_string(path), dopy_value_int(1) };

	e2e_call(b, 1, "pos", "store", 2, NULL, args);
}

Test(early_server, call_behind_hello_runs, .timeout = 20)
{
	char dir[512], opt[600];
	struct dopy_buf b;
	struct e2e_frame f;
	dopy_value *v;

	snprintf(dir, sizeof(dir), "%s/early-ok", e2e_tmpdir());
	cr_assert(mkdir(dir, 0700) == 0);
	snprintf(opt, sizeof(opt), "-P%s", dir);
	struct e2e_proc p;
	e2e_dopyd(&p, 0, 0, opt);
	dopy_buf_init(&b);
	e2e_hello(&b, DOPY_PROTOCOL, 1u << 20);
	store_call(&b, "x");
	e2e_send(&p, &b);		/* one write */
	dopy_buf_release(&b);
	cr_assert(e2e_read_frame(p.out, &f, E2E_WAIT_MS) == 1);
	cr_assert_eq(f.type, DOPY_F_HELLO);
	free(f.payload);
	v = e2e_expect_reply(p.out, 1);
	dopy_value_free(v);
	e2e_finish(&p, 0);
	cr_assert_gt(entries(dir), 0, "the call did not run");
}

Test(early_server, call_behind_refused_hello_never_runs, .timeout = 60)
{
	static const char *names[] = { "dopy.VersionMismatch",
	    "dopy.ProtocolError", "dopy.ProtocolError", "dopy.AuthFailed",
	    "dopy.AuthFailed" };
	char dir[512], opt[600], key[512], kopt[600];
	struct dopy_hello h;
	struct dopy_buf b, pl;
	struct e2e_frame f;
	struct e2e_proc p;
	dopy_error *e;
	int k;

	snprintf(key, sizeof(key), "%s/early-server.key", e2e_tmpdir());
	cr_assert(e2e_spit(key, "0123456789abcdef0123456789abcdef") == 0);
	chmod(key, 0600);
	for (k = 0; k < 5; k++) {
		snprintf(dir, sizeof(dir), "%s/early-bad.%d", e2e_tmpdir(), k);
		cr_assert(mkdir(dir, 0700) == 0);
		/* -P DIR, and from case 3 a key. */
		snprintf(opt, sizeof(opt), "-P%s", dir);
		snprintf(kopt, sizeof(kopt), "-k%s", key);
		char *argv[] = { (char *)e2e_bin("dopyd"), "-d", opt,
		    k < 3 ? NULL : kopt, NULL };
		e2e_spawn(&p, argv);
		dopy_buf_init(&b);
		switch (k) {
		case 0:		/* another protocol version */
			e2e_hello(&b, 2, 1u << 20);
			break;
		case 1:		/* a malformed HELLO */
			e2e_frame(&b, DOPY_F_HELLO, 0, "junk", 4);
			break;
		case 2:		/* no HELLO at all */
			break;
		case 3:		/* a key is required, none offered */
			e2e_hello(&b, DOPY_PROTOCOL, 1u << 20);
			break;
		default:	/* a nonce, but a CALL where AUTH belongs */
			memset(&h, 0, sizeof(h));
			h.proto = DOPY_PROTOCOL;
			h.max_frame = 1u << 20;
			h.features = DOPY_FEAT_AUTH;
			h.software = "dopy-e2e/x";
			h.next = 1;
			dopy_buf_init(&pl);
			cr_assert(dopy_msg_hello_put(&pl, &h) == 0);
			e2e_frame(&b, DOPY_F_HELLO, 0, pl.data, pl.len);
			dopy_buf_release(&pl);
			break;
		}
		/* Behind it, in the same write, a call that leaves a file. */
		store_call(&b, "x");
		e2e_send(&p, &b);
		dopy_buf_release(&b);
		if (k == 4) {	/* its HELLO with Ns and MAC comes first */
			cr_assert(e2e_read_frame(p.out, &f, E2E_WAIT_MS) == 1);
			cr_assert_eq(f.type, DOPY_F_HELLO);
			free(f.payload);
		}
		e = e2e_expect_error(p.out, 0, names[k]);
		dopy_error_free(e);
		/* Nothing else: no REPLY, no ERROR for call 1; exit 1. */
		e2e_finish(&p, 1);
		cr_assert_eq(entries(dir), 0, "case %d: the call ran", k);
	}
}

/* Over TCP the refused client's call is still unread when the server
 * closes (a reset): the refusal must reach the client all the same. */
Test(early_server, tcp_refusal_reaches_the_early_client, .timeout = 30)
{
	char key[512], port[32], target[64];
	dopy_error *want = NULL, *e = NULL;
	struct e2e_proc p;
	dopy_conn *c;
	dopy_proxy *pr;
	ssize_t n;
	int i, r;

	snprintf(key, sizeof(key), "%s/early-tcp.key", e2e_tmpdir());
	cr_assert(e2e_spit(key, "0123456789abcdef0123456789abcdef") == 0);
	chmod(key, 0600);
	char *argv[] = { (char *)e2e_bin("dopyd"), "-l", "127.0.0.1:0", "-B",
	    "-L", "/dev/null", "-k", key, NULL };
	e2e_spawn(&p, argv);
	for (i = 0; i < (int)sizeof(port) - 1; i++) {
		n = e2e_read(p.out, port + i, 1, E2E_WAIT_MS);
		cr_assert_eq(n, 1, "dopyd printed no port");
		if (port[i] == '\n')
			break;
	}
	port[i] = '\0';
	snprintf(target, sizeof(target), "tcp:127.0.0.1:%s", port);
	r = dopy_connect(target, &c, &want);
	cr_assert_eq(r, DOPY_E_AUTH, "%s", dopy_error_message(want));
	for (i = 0; i < 20; i++) {
		c = early(target);
		pr = dopy_proxy_new(c, "test");
		cr_assert_eq(add(pr, 1, 2, NULL, &e), r, "try %d: %s", i,
		    dopy_error_message(e));
		assert_same_error(want, e, "early call", 0);
		dopy_error_free(e);
		e = NULL;
		dopy_proxy_free(pr);
		dopy_conn_close(c);
	}
	dopy_error_free(want);
	kill(p.pid, SIGTERM);
	cr_assert(e2e_exited(e2e_wait(&p, E2E_WAIT_MS), 0));
	e2e_close(&p);
}
