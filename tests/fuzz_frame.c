/*
 * fuzz_frame.c - libFuzzer harness for what a client can send a server.
 *
 * The input is a byte stream as it would arrive on a server's stdin.  It
 * goes two ways:
 *  1. split into frames by hand (dopy_frame_decode with the limits a
 *     server applies), each payload copied to a buffer of exactly its
 *     size so that ASan sees any over-read, and decoded as its type says:
 *     HELLO, CALL (and every argument as a value), REPLY, ERROR;
 *  2. served for real: a dopy_server with a test object of its own
 *     reads it to its end (fuzz_input_fd), replies to /dev/null.
 *
 * Built by `make fuzz` (clang -fsanitize=fuzzer,address,undefined) and
 * run by tests/run-fuzz.sh over a copy of tests/corpus/frame.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_util.h"

#define FUZZ_MAX_FRAME	(1u << 20)

static dopy_server	*srv;
static int		 devnull = -1;

/* ---- the fuzzers' own test object: scalars, strings, arrays ---- */

static int
t_add(dopy_call *c)
{
	return dopy_return_int(c, (int64_t)((uint64_t)dopy_call_int(c, 0) +
	    (uint64_t)dopy_call_int(c, 1)));
}

static int
t_echo(dopy_call *c)
{
	size_t len;
	const void *p = dopy_call_bytes(c, 0, &len);

	return dopy_return_bytes(c, p, len);
}

static int
t_greet(dopy_call *c)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%s, %s", dopy_call_string(c, 1),
	    dopy_call_string(c, 0));
	return dopy_return_string(c, buf);
}

static int
t_fail(dopy_call *c)
{
	return dopy_raise(c, "test.Failure", "%s", dopy_call_string(c, 0));
}

static int
t_sum(dopy_call *c)
{
	const dopy_value *a = dopy_call_arg(c, 0);
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < dopy_value_len(a); i++)
		sum += (uint64_t)dopy_value_get_int(dopy_value_at(a, i));
	return dopy_return_int(c, (int64_t)sum);
}

/* The string field of each row, as an array. */
static int
t_rows(dopy_call *c)
{
	const dopy_value *a = dopy_call_arg(c, 0);
	dopy_type *t = dopy_type_parse("string[]", NULL, 0);
	dopy_value *out = dopy_value_new(t);
	size_t i;

	dopy_type_free(t);
	if (out == NULL)
		return dopy_raise(c, "test.NoMemory", "out of memory");
	for (i = 0; i < dopy_value_len(a); i++)
		if (dopy_value_append(out, dopy_value_string(
		    dopy_value_get_string(dopy_value_at(dopy_value_at(a, i),
		    1)))) < 0) {
			dopy_value_free(out);
			return dopy_raise(c, "test.NoMemory", "out of memory");
		}
	return dopy_call_return(c, out);
}

static int
t_nest(dopy_call *c)
{
	const dopy_value *a = dopy_call_arg(c, 0);
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < dopy_value_len(a); i++)
		n += dopy_value_len(dopy_value_at(a, i));
	return dopy_return_uint(c, n);
}

static const struct dopy_method methods[] = {
	{ "add", t_add, "a:int, b:int", "int", "Add, wrapping." },
	{ "echo", t_echo, "data:bytes", "bytes", "Echo." },
	{ "greet", t_greet, "name:string, greeting:string=Hello", "string",
	    "Greet." },
	{ "fail", t_fail, "message:string", NULL, "Raise." },
	{ "sum", t_sum, "xs:int[]", "int", "Sum an array." },
	{ "rows", t_rows, "rs:(int,string,double,bool,uint)[]", "string[]",
	    "The names of the rows." },
	{ "nest", t_nest, "m:string[][]", "uint", "Count the leaves." },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_object_def test_object = {
	"test", "The fuzzers' test object.", methods, NULL, NULL
};

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	devnull = fuzz_devnull();
	if ((srv = dopy_server_new()) == NULL ||
	    dopy_server_set_log(srv, DOPY_LOG_FILE, "/dev/null", 0) < 0 ||
	    dopy_server_add(srv, &test_object, NULL) < 0) {
		fprintf(stderr, "fuzz_frame: cannot set up the server\n");
		abort();
	}
	dopy_server_set_max_frame(srv, FUZZ_MAX_FRAME);
	return 0;
}

/* ---- 1. frame by frame ---- */

static void
values(const struct dopy_image *imgs, size_t n)
{
	dopy_value *v;
	char err[256], *s;
	size_t i;

	for (i = 0; i < n; i++) {
		if (dopy_decode(&imgs[i], NULL, &v, err, sizeof(err)) < 0)
			continue;
		free(dopy_value_format(v));
		s = dopy_value_json(v);
		free(s);
		dopy_value_free(v);
	}
}

static void
hello(const uint8_t *p, size_t len, uint32_t *max)
{
	struct dopy_hello h;
	char err[256];

	if (dopy_msg_hello_get(p, len, &h, err, sizeof(err)) < 0)
		return;
	/* As the server negotiates: the smaller offer, at least the
	 * minimum. */
	*max = h.max_frame < FUZZ_MAX_FRAME ? h.max_frame : FUZZ_MAX_FRAME;
	if (*max < DOPY_FRAME_MIN)
		*max = DOPY_FRAME_MIN;
	dopy_msg_hello_release(&h);
}

static void
call(const uint8_t *p, size_t len)
{
	struct dopy_callmsg m;
	char err[256];

	if (dopy_msg_call_get(p, len, &m, err, sizeof(err)) < 0)
		return;
	values(m.args, m.argc);
	dopy_msg_call_release(&m);
}

static void
reply(const uint8_t *p, size_t len)
{
	struct dopy_image imgs[4];
	char err[256];
	size_t n;

	if (dopy_images_split(p, len, imgs, 4, &n, err, sizeof(err)) == 0)
		values(imgs, n);
}

static void
error_frame(const uint8_t *p, size_t len)
{
	dopy_error *e = NULL;

	if (dopy_msg_error_get(p, len, &e) == 0)
		free(dopy_error_format(e));
	dopy_error_free(e);
}

static void
by_hand(const uint8_t *data, size_t size)
{
	struct dopy_frame f;
	uint32_t max = DOPY_HELLO_MAX;
	size_t off = 0;
	uint8_t *p;

	while (size - off >= DOPY_HDR_LEN) {
		if (dopy_frame_decode(data + off, max, &f) < 0 ||
		    f.len > size - off - DOPY_HDR_LEN)
			return;
		if ((p = malloc(f.len ? f.len : 1)) == NULL)
			return;
		memcpy(p, data + off + DOPY_HDR_LEN, f.len);
		switch (f.type) {
		case DOPY_F_HELLO:
			hello(p, f.len, &max);
			break;
		case DOPY_F_CALL:
			call(p, f.len);
			break;
		case DOPY_F_REPLY:
			reply(p, f.len);
			break;
		case DOPY_F_ERROR:
			error_frame(p, f.len);
			break;
		}
		free(p);
		off += DOPY_HDR_LEN + f.len;
	}
}

/* ---- 2. the real server, reading the input to its end ---- */

static void
served(const uint8_t *data, size_t size)
{
	int in = fuzz_input_fd(data, size);

	(void)dopy_server_serve(srv, in, devnull);
	close(in);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	by_hand(data, size);
	served(data, size);
	return 0;
}
