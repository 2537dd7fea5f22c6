/*
 * e2e_badinput.c - what the real dopyd does with bad input on stdin.
 * It answers what can be answered with an ERROR frame and stays in sync;
 * when the framing is lost it says so once and exits 1.  Never a signal,
 * never anything but frames on stdout.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "e2e_util.h"

#define MAX_FRAME	(1u << 20)	/* what our HELLO offers */

/* dopyd must have exited by itself with this status. */
static void
assert_dopyd_exit(struct e2e_proc *p, int code)
{
	char *log;
	int st;

	st = e2e_wait(p, E2E_WAIT_MS);
	if (!e2e_exited(st, code)) {
		log = e2e_slurp(p->errpath, NULL);
		cr_assert_fail("dopyd: %s, want exit %d; its log:\n%s",
		    e2e_status(st), code, log != NULL ? log : "");
	}
}

/* Nothing more on dopyd's stdout, up to EOF. */
static void
assert_no_more(struct e2e_proc *p)
{
	char *rest;
	size_t len;

	rest = e2e_read_all(p->out, &len, E2E_WAIT_MS);
	free(rest);
	cr_assert_eq(len, 0, "%zu unexpected bytes on dopyd's stdout", len);
}

/* Close dopyd's stdin: a clean EOF between frames, exit 0. */
static void
finish_clean(struct e2e_proc *p)
{
	close(p->in);
	p->in = -1;
	assert_no_more(p);
	assert_dopyd_exit(p, 0);
}

static void
send_bytes(struct e2e_proc *p, const void *bytes, size_t len)
{
	cr_assert(e2e_write(p->in, bytes, len) == 0, "write to dopyd failed");
}

/* The framing is lost: one ERROR called name (call id 0) comes back,
 * then nothing, and dopyd exits 1.  Returns the error's message (free
 * it). */
static char *
ends_with_error(struct e2e_proc *p, const char *name)
{
	dopy_error *e = e2e_expect_error(p->out, 0, name);
	char *msg = strdup(dopy_error_message(e));

	dopy_error_free(e);
	assert_no_more(p);
	assert_dopyd_exit(p, 1);
	return msg;
}

/* A CALL of test.add(2, 3) in a fresh buffer. */
static void
add_call(struct dopy_buf *b, uint32_t id)
{
	dopy_value *args[] = { dopy_value_int(2), dopy_value_int(3) };

	dopy_buf_init(b);
	e2e_call(b, id, "test", "add", 2, NULL, args);
}

/* A good call works: the stream is still in sync. */
static void
good_call(struct e2e_proc *p, uint32_t id)
{
	struct dopy_buf b;
	dopy_value *v;

	add_call(&b, id);
	e2e_send(p, &b);
	dopy_buf_release(&b);
	v = e2e_expect_reply(p->out, id);
	cr_assert(v != NULL && dopy_value_kind(v) == DOPY_INT &&
	    dopy_value_get_int(v) == 5, "test.add(2, 3) after the bad "
	    "frame did not return 5");
	dopy_value_free(v);
}

/* Send one frame after HELLO; an ERROR called name with the frame's id
 * must come back and the stream stay usable.  Returns the error. */
static dopy_error *
answered(struct e2e_proc *p, const struct dopy_buf *frame, uint32_t id,
    const char *name)
{
	dopy_error *e;

	e2e_send(p, frame);
	e = e2e_expect_error(p->out, id, name);
	good_call(p, id + 1);
	return e;
}

/* A whole session: HELLO, one bad frame answered with name, a good call,
 * EOF, exit 0.  Returns the error's message (free it). */
static char *
recoverable(const struct dopy_buf *frame, uint32_t id, const char *name)
{
	struct e2e_proc p;
	dopy_error *e;
	char *msg;

	e2e_dopyd(&p, 1, MAX_FRAME, NULL);
	e = answered(&p, frame, id, name);
	msg = strdup(dopy_error_message(e));
	dopy_error_free(e);
	finish_clean(&p);
	return msg;
}

static void
assert_has(const char *text, const char *what)
{
	cr_assert_not_null(strstr(text, what), "no '%s' in '%s'", what, text);
}

/* Raw bytes to a fresh dopyd (after a good HELLO with hello), then EOF:
 * exactly one ERROR called name (call id 0) must come back, then exit
 * status 1.  Returns the error's message (free it). */
static char *
fatal(int hello, const void *bytes, size_t len, const char *name)
{
	struct e2e_proc p;

	e2e_dopyd(&p, hello, hello ? MAX_FRAME : 0, NULL);
	send_bytes(&p, bytes, len);
	close(p.in);
	p.in = -1;
	return ends_with_error(&p, name);
}

/* The same, and the message says want. */
static void
fatal_says(int hello, const void *bytes, size_t len, const char *name,
    const char *want)
{
	char *msg = fatal(hello, bytes, len, name);

	if (want != NULL)
		assert_has(msg, want);
	free(msg);
}

/* answered(), the error dropped and the frame released. */
static void
refused(struct e2e_proc *p, struct dopy_buf *frame, uint32_t id,
    const char *name)
{
	dopy_error_free(answered(p, frame, id, name));
	dopy_buf_release(frame);
}

/* ---- options and clean ends ---- */

Test(dopyd, empty_input_exits_0, .timeout = 20)
{
	struct e2e_proc p;

	e2e_dopyd(&p, 0, 0, NULL);
	finish_clean(&p);
}

Test(dopyd, eof_after_hello_exits_0, .timeout = 20)
{
	struct e2e_proc p;

	e2e_dopyd(&p, 1, MAX_FRAME, NULL);
	finish_clean(&p);
}

Test(dopyd, options, .timeout = 20)
{
	char *help[] = { (char *)e2e_bin("dopyd"), "-h", NULL };
	char *small[] = { (char *)e2e_bin("dopyd"), "-d", "-m", "10", NULL };
	char *extra[] = { (char *)e2e_bin("dopyd"), "-d", "extra", NULL };
	char *bad[] = { (char *)e2e_bin("dopyd"), "-Z", NULL };
	struct e2e_run r;

	e2e_run(&r, help);
	cr_assert(e2e_exited(r.status, 0), "-h: %s", e2e_status(r.status));
	assert_has(r.out, "usage");
	e2e_run_free(&r);
	e2e_run(&r, small);
	cr_assert(e2e_exited(r.status, 2), "-m 10: %s", e2e_status(r.status));
	cr_assert_str_eq(r.out, "");
	assert_has(r.err, "-m 10");
	e2e_run_free(&r);
	e2e_run(&r, extra);
	cr_assert(e2e_exited(r.status, 2), "operand: %s",
	    e2e_status(r.status));
	e2e_run_free(&r);
	e2e_run(&r, bad);
	cr_assert(e2e_exited(r.status, 2), "-Z: %s", e2e_status(r.status));
	e2e_run_free(&r);
}

/* ---- the framing lost: one ERROR, exit 1 ---- */

Test(dopyd, eof_inside_header, .timeout = 20)
{
	static const uint8_t half[] = { 0x64, 0x70, 0x01, 0x00, 0x00 };

	fatal_says(0, half, sizeof(half), "dopy.ProtocolError", NULL);
}

Test(dopyd, header_then_eof, .timeout = 20)
{
	uint8_t hdr[DOPY_HDR_LEN];

	dopy_frame_encode(hdr, DOPY_F_HELLO, 0, 100);
	fatal_says(0, hdr, sizeof(hdr), "dopy.ProtocolError", NULL);
}

Test(dopyd, hello_cut_short, .timeout = 20)
{
	struct dopy_buf b;

	dopy_buf_init(&b);
	e2e_hello(&b, DOPY_PROTOCOL, MAX_FRAME);
	fatal_says(0, b.data, b.len - 3, "dopy.ProtocolError", NULL);
	dopy_buf_release(&b);
}

Test(dopyd, too_large_before_hello, .timeout = 20)
{
	uint8_t hdr[DOPY_HDR_LEN];

	dopy_frame_encode(hdr, DOPY_F_HELLO, 0, DOPY_HELLO_MAX + 1);
	fatal_says(0, hdr, sizeof(hdr), "dopy.FrameTooLarge", "4096");
}

/* A 4 GiB length must be refused before anything is allocated. */
Test(dopyd, huge_length, .timeout = 20)
{
	uint8_t hdr[DOPY_HDR_LEN];

	dopy_frame_encode(hdr, DOPY_F_CALL, 1, UINT32_MAX);
	fatal_says(0, hdr, sizeof(hdr), "dopy.FrameTooLarge", NULL);
	fatal_says(1, hdr, sizeof(hdr), "dopy.FrameTooLarge", NULL);
}

/* After HELLO the limit is the smaller offer, never under 4096: a frame
 * of exactly the limit is read (and answered), one byte more is not. */
Test(dopyd, negotiated_limit, .timeout = 20)
{
	static uint8_t junk[4096];
	uint8_t hdr[DOPY_HDR_LEN];
	struct dopy_buf b;
	struct e2e_proc p;

	memset(junk, 'j', sizeof(junk));
	e2e_dopyd(&p, 1, 100, NULL);	/* raised to 4096 */
	dopy_buf_init(&b);
	e2e_frame(&b, DOPY_F_CALL, 9, junk, sizeof(junk));
	refused(&p, &b, 9, "dopy.ProtocolError");
	dopy_frame_encode(hdr, DOPY_F_CALL, 11, sizeof(junk) + 1);
	send_bytes(&p, hdr, sizeof(hdr));
	free(ends_with_error(&p, "dopy.FrameTooLarge"));
}

Test(dopyd, garbage_bytes, .timeout = 20)
{
	static const char http[] = "GET / HTTP/1.0\r\nHost: x\r\n\r\n";

	fatal_says(0, http, sizeof(http) - 1, "dopy.ProtocolError", NULL);
	fatal_says(1, http, sizeof(http) - 1, "dopy.ProtocolError", NULL);
}

Test(dopyd, call_before_hello, .timeout = 20)
{
	struct dopy_buf b;

	add_call(&b, 1);
	fatal_says(0, b.data, b.len, "dopy.ProtocolError", "expected HELLO");
	dopy_buf_release(&b);
}

/* Nothing is answered before HELLO, even with EOF held back. */
Test(dopyd, nothing_but_hello_first, .timeout = 20)
{
	struct dopy_buf b;
	struct e2e_proc p;

	e2e_dopyd(&p, 0, 0, NULL);
	add_call(&b, 1);
	e2e_hello(&b, DOPY_PROTOCOL, MAX_FRAME);
	e2e_send(&p, &b);
	dopy_buf_release(&b);
	/* dopyd closes without EOF from us. */
	free(ends_with_error(&p, "dopy.ProtocolError"));
}

Test(dopyd, hello_garbage_payload, .timeout = 20)
{
	struct dopy_buf b;

	dopy_buf_init(&b);
	e2e_frame(&b, DOPY_F_HELLO, 0, "hello, world", 12);
	fatal_says(0, b.data, b.len, "dopy.ProtocolError", "HELLO");
	dopy_buf_release(&b);
}

/* n as a number of its own in text: not part of 0.1.0 or 12. */
static int
has_number(const char *text, unsigned n)
{
	char want[16];
	const char *p;
	size_t len;

	len = (size_t)snprintf(want, sizeof(want), "%u", n);
	for (p = text; (p = strstr(p, want)) != NULL; p++) {
		if (p > text && strchr("0123456789.", p[-1]) != NULL)
			continue;
		if (p[len] != '\0' && strchr("0123456789.", p[len]) != NULL)
			continue;
		return 1;
	}
	return 0;
}

Test(dopyd, version_mismatch, .timeout = 20)
{
	struct dopy_buf b;
	char *msg;

	cr_assert(has_number("a 2 (x 0.1.0) b 1 (y)", 1));
	cr_assert(!has_number("dopy 0.1.0 and 12", 1));
	dopy_buf_init(&b);
	e2e_hello(&b, 2, MAX_FRAME);
	msg = fatal(0, b.data, b.len, "dopy.VersionMismatch");
	cr_assert(has_number(msg, 2) && has_number(msg, DOPY_PROTOCOL),
	    "the message names not both versions: %s", msg);
	free(msg);
	dopy_buf_release(&b);
}

Test(dopyd, eof_inside_call, .timeout = 20)
{
	struct dopy_buf b;

	add_call(&b, 4);
	fatal_says(1, b.data, b.len / 2, "dopy.ProtocolError", NULL);
	fatal_says(1, b.data, 7, "dopy.ProtocolError", NULL);
	dopy_buf_release(&b);
}

/* ---- answered, and the stream stays in sync ---- */

/*
 * A CALL dopyd cannot run: object.method with the fields of values (of
 * type types; none without) as its arguments, sent as call id; answered
 * with error whose message says each of says.
 */
struct bad_call {
	const char	*name;
	uint32_t	 id;
	const char	*object, *method;
	const char	*types, *values;
	const char	*error;
	const char	*says[2];
};

static const struct bad_call bad_calls[] = {
	{ "unknown_object", 7, "nosuch", "add", "(int)", "(1)",
	    "dopy.UnknownObject", { "nosuch" } },
	{ "unknown_method", 7, "test", "nosuch", NULL, NULL,
	    "dopy.UnknownMethod", { "nosuch" } },
	{ "wrong_argument_type", 3, "test", "add", "(int,string)", "(2, x)",
	    "dopy.TypeError", { "test.add", "parameter b" } },
	{ "too_many_arguments", 3, "test", "add", "(int,int,int)",
	    "(1, 2, 3)", "dopy.ArgumentError", { "test.add" } },
	{ "too_few_arguments", 3, "test", "add", "(int)", "(1)",
	    "dopy.ArgumentError", { "b" } },
};

E2E_TABLE_PARAMS(dopyd, bad_call_answered, bad_calls)

ParameterizedTest(size_t *ip, dopyd, bad_call_answered,
    .timeout = 20)
{
	const struct bad_call *c = &bad_calls[*ip];
	dopy_value *args[8], *v = NULL;
	struct dopy_buf b;
	size_t i, n = 0;
	char *msg;

	if (c->types != NULL) {
		v = e2e_value(c->types, c->values);
		n = dopy_value_len(v);
		for (i = 0; i < n; i++)
			args[i] = dopy_value_copy(dopy_value_at(v, i));
		dopy_value_free(v);
	}
	dopy_buf_init(&b);
	e2e_call(&b, c->id, c->object, c->method, n, NULL, args);
	msg = recoverable(&b, c->id, c->error);
	for (i = 0; i < 2 && c->says[i] != NULL; i++)
		assert_has(msg, c->says[i]);
	free(msg);
	dopy_buf_release(&b);
}

Test(dopyd, bad_argument_names, .timeout = 20)
{
	static const char *unknown[] = { "a", "c" };
	static const char *twice[] = { "a", "a" };
	static const char *order[] = { "a", "" };
	const char **names[] = { unknown, twice, order };
	struct dopy_buf b;
	struct e2e_proc p;
	uint32_t id;

	e2e_dopyd(&p, 1, MAX_FRAME, NULL);
	for (id = 0; id < 3; id++) {
		dopy_value *args[] = { dopy_value_int(1), dopy_value_int(2) };

		dopy_buf_init(&b);
		e2e_call(&b, 10 * id + 1, "test", "add", 2, names[id], args);
		refused(&p, &b, 10 * id + 1, "dopy.ArgumentError");
	}
	finish_clean(&p);
}

Test(dopyd, unknown_frame_type, .timeout = 20)
{
	struct dopy_buf b;
	char *msg;

	dopy_buf_init(&b);
	e2e_frame(&b, 77, 0x01020304, "xyz", 3);
	msg = recoverable(&b, 0x01020304, "dopy.UnknownFrame");
	assert_has(msg, "77");
	free(msg);
	dopy_buf_release(&b);
}

/* CANCEL (6) is reserved and unknown, and frames only a server sends
 * are refused: all answered, all in sync.  (RELEASE, 10, gets no answer
 * at all: e2e_progress.c.) */
Test(dopyd, frames_a_client_does_not_send, .timeout = 20)
{
	static const struct {
		uint8_t		 type;
		const char	*name;
	} cases[] = {
		{ 6, "dopy.UnknownFrame" },	/* 5 is ONEWAY now */
		{ DOPY_F_PROGRESS, "dopy.ProtocolError" },
		{ DOPY_F_CALLBACK, "dopy.ProtocolError" },
		{ 0, "dopy.UnknownFrame" },
		{ 255, "dopy.UnknownFrame" },
		{ DOPY_F_REPLY, "dopy.ProtocolError" },
		{ DOPY_F_ERROR, "dopy.ProtocolError" },
	};
	struct dopy_buf b;
	struct e2e_proc p;
	size_t i;

	e2e_dopyd(&p, 1, MAX_FRAME, NULL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		dopy_buf_init(&b);
		e2e_frame(&b, cases[i].type, (uint32_t)(100 + i), NULL, 0);
		refused(&p, &b, (uint32_t)(100 + i), cases[i].name);
	}
	finish_clean(&p);
}

/* A HELLO after HELLO is fatal (an ERROR with call id 0 always is). */
Test(dopyd, second_hello_ends_connection, .timeout = 20)
{
	struct dopy_buf b;
	struct e2e_proc p;
	char *msg;

	e2e_dopyd(&p, 1, MAX_FRAME, NULL);
	dopy_buf_init(&b);
	e2e_hello(&b, DOPY_PROTOCOL, MAX_FRAME);
	send_bytes(&p, b.data, b.len);
	dopy_buf_release(&b);
	msg = ends_with_error(&p, "dopy.ProtocolError");
	cr_assert(strstr(msg, "HELLO after HELLO") != NULL, "%s", msg);
	free(msg);
}

Test(dopyd, garbage_call_payload, .timeout = 20)
{
	static const char *bodies[] = {
		"", "x", "not a tpl image at all",
		"tpl\x02\x09\x00\x00\x00", "tpl\x00\xff\xff\xff\x7f" "I",
	};
	struct dopy_buf b;
	struct e2e_proc p;
	size_t i;

	e2e_dopyd(&p, 1, MAX_FRAME, NULL);
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		dopy_buf_init(&b);
		e2e_frame(&b, DOPY_F_CALL, 50 + 2 * i, bodies[i],
		    i == 3 ? 8 : i == 4 ? 9 : strlen(bodies[i]));
		refused(&p, &b, 50 + 2 * i, "dopy.ProtocolError");
	}
	finish_clean(&p);
}

/* ---- tpl's three bugs, as a peer would send them (DEPENDENCIES.md) ---- */

/* The image of v, alone, in a fresh buffer. */
static void
image(struct dopy_buf *b, dopy_value *v)
{
	dopy_buf_init(b);
	e2e_encode(b, v);
}

/* A CALL whose payload is the header image, names image and arguments
 * given as raw bytes: dopyd refuses it as malformed and stays in sync. */
static void
raw_call_refused(struct e2e_proc *p, uint32_t id, const struct dopy_buf *hdr,
    const struct dopy_buf *names, const struct dopy_buf *args)
{
	struct dopy_buf pl, frame;

	dopy_buf_init(&pl);
	cr_assert(dopy_buf_put(&pl, hdr->data, hdr->len) == 0);
	cr_assert(dopy_buf_put(&pl, names->data, names->len) == 0);
	if (args != NULL)
		cr_assert(dopy_buf_put(&pl, args->data, args->len) == 0);
	dopy_buf_init(&frame);
	e2e_frame(&frame, DOPY_F_CALL, id, pl.data, pl.len);
	dopy_buf_release(&pl);
	refused(p, &frame, id, "dopy.ProtocolError");
}

static dopy_value *
call_header(const char *object, const char *method)
{
	dopy_type *t = dopy_type_parse("(string,string)", NULL, 0);
	dopy_value *v = dopy_value_new(t);

	dopy_type_free(t);
	cr_assert(dopy_value_set_field(v, 0, dopy_value_string(object)) == 0);
	cr_assert(dopy_value_set_field(v, 1, dopy_value_string(method)) == 0);
	return v;
}

static dopy_value *
names_of(size_t n)
{
	dopy_type *t = dopy_type_parse("string[]", NULL, 0);
	dopy_value *v = dopy_value_new(t);
	size_t i;

	dopy_type_free(t);
	for (i = 0; i < n; i++)
		cr_assert(dopy_value_append(v, dopy_value_string("")) == 0);
	return v;
}

/* Bug 1: an array count of 0x80000000 in the names image (A(s), which
 * dopyd decodes for every CALL). */
Test(dopyd, tpl_bug1_array_count, .timeout = 20)
{
	static const uint32_t counts[] = { 0x80000000u, 0xffffffffu,
	    0x7fffffffu, 1000 };
	struct dopy_buf hdr, names, arg;
	struct e2e_proc p;
	size_t i;

	e2e_dopyd(&p, 1, MAX_FRAME, NULL);
	image(&hdr, call_header("test", "greet"));
	image(&arg, dopy_value_string("World"));
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		/* No names: a 17-byte A(s) that tpl_load takes whatever
		 * the count ("tpl" flags len "A(s)\0" count, at 13). */
		image(&names, names_of(0));
		e2e_put_le32(names.data + 13, counts[i]);
		raw_call_refused(&p, 20 + 2 * i, &hdr, &names, &arg);
		dopy_buf_release(&names);
	}
	dopy_buf_release(&hdr);
	dopy_buf_release(&arg);
	finish_clean(&p);
}

/* Bug 2: a string image with the old string encoding (flag bit 1 clear),
 * as the header, the names and an argument. */
Test(dopyd, tpl_bug2_old_strings, .timeout = 20)
{
	struct dopy_buf hdr, names, arg;
	struct e2e_proc p;
	int which;

	e2e_dopyd(&p, 1, MAX_FRAME, NULL);
	for (which = 0; which < 3; which++) {
		image(&hdr, call_header("test", "greet"));
		image(&names, names_of(1));
		image(&arg, dopy_value_string("World"));
		(which == 0 ? &hdr : which == 1 ? &names : &arg)->data[3] &=
		    ~2;
		raw_call_refused(&p, 30 + 2 * which, &hdr, &names, &arg);
		dopy_buf_release(&hdr);
		dopy_buf_release(&names);
		dopy_buf_release(&arg);
	}
	finish_clean(&p);
}

/* Bug 3: image length fields below 8 (4 and 0), and other lies. */
Test(dopyd, tpl_bug3_short_lengths, .timeout = 20)
{
	static const uint32_t lens[] = { 4, 0, 8, 9, 0xffffffffu };
	struct dopy_buf hdr, names, arg;
	struct e2e_proc p;
	size_t i;

	e2e_dopyd(&p, 1, MAX_FRAME, NULL);
	image(&hdr, call_header("test", "greet"));
	image(&names, names_of(1));
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		image(&arg, dopy_value_string("World"));
		e2e_put_le32(arg.data + 4, lens[i]);
		raw_call_refused(&p, 40 + 2 * i, &hdr, &names, &arg);
		dopy_buf_release(&arg);
	}
	dopy_buf_release(&hdr);
	dopy_buf_release(&names);
	finish_clean(&p);
}

/* ---- a client that goes away ---- */

#define BIG	(4u << 20)

static void
big_echo(struct dopy_buf *b, uint32_t id)
{
	dopy_value *args[1];
	uint8_t *data = malloc(BIG);

	cr_assert_not_null(data);
	memset(data, 0xa5, BIG);
	args[0] = dopy_value_bytes(data, BIG);
	free(data);
	e2e_call(b, id, "test", "echo", 1, NULL, args);
}

/* Both pipes closed: dopyd ends by itself, with 0 or 1. */
static void
vanish(struct e2e_proc *p)
{
	int st;

	e2e_close(p);
	st = e2e_wait(p, E2E_WAIT_MS);
	cr_assert(e2e_exited(st, 0) || e2e_exited(st, 1),
	    "dopyd: %s, want exit 0 or 1", e2e_status(st));
}

/* A 4 MiB call, all of it or the first half, then gone. */
static void
vanish_during_big_echo(int whole)
{
	struct dopy_buf b;
	struct e2e_proc p;

	e2e_dopyd(&p, 1, 16u << 20, NULL);
	dopy_buf_init(&b);
	big_echo(&b, 1);
	if (!whole)
		b.len /= 2;
	e2e_send(&p, &b);
	dopy_buf_release(&b);
	vanish(&p);
}

/* A whole 4 MiB call, then both pipes closed: the reply hits EPIPE. */
Test(dopyd, client_vanishes_after_call, .timeout = 30)
{
	vanish_during_big_echo(1);
}

/* Half of a 4 MiB call, then both pipes closed. */
Test(dopyd, client_vanishes_mid_call, .timeout = 30)
{
	vanish_during_big_echo(0);
}

/* Many calls queued, then gone without reading a reply. */
Test(dopyd, client_vanishes_with_calls_queued, .timeout = 30)
{
	struct dopy_buf b;
	struct e2e_proc p;
	uint32_t id;

	e2e_dopyd(&p, 1, MAX_FRAME, NULL);
	dopy_buf_init(&b);
	for (id = 1; id <= 2000; id++) {
		dopy_value *args[] = { dopy_value_string("boom") };

		e2e_call(&b, id, "test", "fail", 1, NULL, args);
	}
	close(p.out);			/* replies go nowhere */
	p.out = -1;
	(void)e2e_write(p.in, b.data, b.len);
	dopy_buf_release(&b);
	vanish(&p);
}

/* ---- random bytes and mutated calls ---- */

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
random_bytes(struct dopy_buf *b, size_t n, uint64_t seed)
{
	uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1, r;
	size_t i;

	for (i = 0; i < n; i += 8) {
		r = xorshift(&s);
		cr_assert(dopy_buf_put(b, &r, n - i < 8 ? n - i : 8) == 0);
	}
}

/* 1 MiB of noise: refused within a second, by an exit, with nothing but
 * ERROR frames on stdout. */
static void
noise(uint64_t seed, int hello)
{
	char *argv[] = { (char *)e2e_bin("dopyd"), "-d", NULL };
	struct dopy_buf b;
	struct e2e_run r;
	char *name;
	size_t n;

	dopy_buf_init(&b);
	if (hello)
		e2e_hello(&b, DOPY_PROTOCOL, MAX_FRAME);
	random_bytes(&b, 1u << 20, seed);
	e2e_run_ms(&r, b.data, b.len, 1000, argv);
	dopy_buf_release(&b);
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) != 0,
	    "seed %llu: dopyd %s, want a failure exit\n%s",
	    (unsigned long long)seed, e2e_status(r.status), r.err);
	if (hello) {
		struct dopy_frame f;

		/* Our HELLO was answered first. */
		cr_assert(r.outlen >= DOPY_HDR_LEN &&
		    dopy_frame_decode((uint8_t *)r.out, MAX_FRAME, &f) == 0 &&
		    f.type == DOPY_F_HELLO && f.len <= r.outlen - DOPY_HDR_LEN,
		    "no HELLO back");
		n = e2e_all_errors((uint8_t *)r.out + DOPY_HDR_LEN + f.len,
		    r.outlen - DOPY_HDR_LEN - f.len, &name);
	} else
		n = e2e_all_errors((uint8_t *)r.out, r.outlen, &name);
	cr_assert(n >= 1, "seed %llu: no ERROR frame came back",
	    (unsigned long long)seed);
	free(name);
	e2e_run_free(&r);
}

Test(dopyd, random_bytes, .timeout = 30)
{
	uint64_t seed;

	for (seed = 1; seed <= 4; seed++)
		noise(seed, 0);
}

Test(dopyd, random_bytes_after_hello, .timeout = 30)
{
	uint64_t seed;

	for (seed = 11; seed <= 14; seed++)
		noise(seed, 1);
}

/* Good calls of every kind, for mutation. */
static void
base_call(struct dopy_buf *b, uint32_t id, unsigned k)
{
	static const char *named[] = { "name", "greeting" };

	switch (k % 6) {
	case 0:
		add_call(b, id);
		break;
	case 1: {
		dopy_value *a[] = { dopy_value_string("World"),
		    dopy_value_string("Hi") };
		e2e_call(b, id, "test", "greet", 2, named, a);
		break;
	}
	case 2: {
		dopy_value *a[] = { dopy_value_bytes("\0\1\2\3\4\5\6\7", 8) };
		e2e_call(b, id, "test", "echo", 1, NULL, a);
		break;
	}
	case 3: {
		dopy_value *a[] = { dopy_value_string("test") };
		e2e_call(b, id, "dopy", "describe", 1, NULL, a);
		break;
	}
	case 4: {
		dopy_value *a[] = { dopy_value_string("boom") };
		e2e_call(b, id, "test", "fail", 1, NULL, a);
		break;
	}
	default:
		e2e_call(b, id, "dopy", "objects", 0, NULL, NULL);
		break;
	}
}

/*
 * Framing intact, payloads mutated: every call is answered, in order,
 * with a REPLY or a well-formed ERROR carrying its id; then a clean EOF.
 */
Test(dopyd, mutated_calls_stay_in_sync, .timeout = 60)
{
	char *argv[] = { (char *)e2e_bin("dopyd"), "-d", NULL };
	struct dopy_buf in, one;
	struct dopy_frame f;
	struct e2e_run r;
	dopy_error *e;
	uint64_t s = 42;
	uint32_t id, n = 3000, flips, k;
	size_t off = 0, plen;
	uint8_t *pl;

	dopy_buf_init(&in);
	e2e_hello(&in, DOPY_PROTOCOL, MAX_FRAME);
	for (id = 1; id <= n; id++) {
		dopy_buf_init(&one);
		base_call(&one, id, (unsigned)xorshift(&s));
		pl = one.data + DOPY_HDR_LEN;
		plen = one.len - DOPY_HDR_LEN;
		flips = 1 + xorshift(&s) % 4;
		for (k = 0; k < flips; k++)
			pl[xorshift(&s) % plen] ^= 1u << (xorshift(&s) % 8);
		if (xorshift(&s) % 4 == 0)	/* a byte set, not a bit */
			pl[xorshift(&s) % plen] = (uint8_t)xorshift(&s);
		cr_assert(dopy_buf_put(&in, one.data, one.len) == 0);
		dopy_buf_release(&one);
	}
	e2e_run_ms(&r, in.data, in.len, 30000, argv);
	dopy_buf_release(&in);
	cr_assert(e2e_exited(r.status, 0), "dopyd: %s\n%s",
	    e2e_status(r.status), r.err);
	for (id = 0; id <= n; id++) {
		cr_assert(r.outlen - off >= DOPY_HDR_LEN &&
		    dopy_frame_decode((uint8_t *)r.out + off, MAX_FRAME,
		    &f) == 0 && f.len <= r.outlen - off - DOPY_HDR_LEN,
		    "bad or missing frame for call %u", id);
		cr_assert_eq(f.id, id, "frame for call %u has id %u", id,
		    f.id);
		if (id == 0)
			cr_assert_eq(f.type, DOPY_F_HELLO);
		else if (f.type == DOPY_F_ERROR) {
			cr_assert(dopy_msg_error_get((uint8_t *)r.out + off +
			    DOPY_HDR_LEN, f.len, &e) == 0,
			    "malformed ERROR for call %u", id);
			dopy_error_free(e);
		} else
			cr_assert_eq(f.type, DOPY_F_REPLY, "call %u: frame "
			    "type %u", id, f.type);
		off += DOPY_HDR_LEN + f.len;
	}
	cr_assert_eq(off, r.outlen, "%zu bytes after the last reply",
	    r.outlen - off);
	e2e_run_free(&r);
}

/* ---- the frame corpus, replayed against the real server ---- */

/* Every frame on stdout well-formed, of a type a server sends. */
static void
assert_server_output(const char *file, const uint8_t *p, size_t len)
{
	struct dopy_frame f;
	dopy_error *e;
	size_t off = 0;

	while (off < len) {
		cr_assert(len - off >= DOPY_HDR_LEN &&
		    dopy_frame_decode(p + off, DOPY_FRAME_DEFAULT, &f) == 0 &&
		    f.len <= len - off - DOPY_HDR_LEN,
		    "%s: bad frame at offset %zu of dopyd's output", file, off);
		cr_assert(f.type >= DOPY_F_HELLO && f.type <= DOPY_F_ERROR &&
		    f.type != DOPY_F_CALL, "%s: dopyd sent frame type %u",
		    file, f.type);
		if (f.type == DOPY_F_ERROR) {
			cr_assert(dopy_msg_error_get(p + off + DOPY_HDR_LEN,
			    f.len, &e) == 0, "%s: malformed ERROR", file);
			dopy_error_free(e);
		}
		off += DOPY_HDR_LEN + f.len;
	}
}

Test(dopyd, frame_corpus, .timeout = 60)
{
	char *top = e2e_top(), dir[4096], path[4400], *data;
	char *argv[] = { (char *)e2e_bin("dopyd"), "-d", NULL };
	struct dirent *d;
	struct e2e_run r;
	size_t len, nfiles = 0;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s/tests/corpus/frame", top);
	free(top);
	cr_assert_not_null(dp = opendir(dir), "%s", dir);
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		cr_assert_not_null(data = e2e_slurp(path, &len), "%s", path);
		e2e_run_ms(&r, data, len, 5000, argv);
		free(data);
		cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) <= 1,
		    "%s: dopyd %s\n%s", d->d_name, e2e_status(r.status),
		    r.err);
		assert_server_output(d->d_name, (uint8_t *)r.out, r.outlen);
		e2e_run_free(&r);
		nfiles++;
	}
	closedir(dp);
	cr_assert(nfiles >= 10, "only %zu files in %s", nfiles, dir);
}
