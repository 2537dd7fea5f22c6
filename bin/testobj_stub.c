/*
 * testobj_stub.c - the `stub` object: a generated object
 * (dopy_server_set_stub) written by hand the way dopy-idl(1)'s
 * trampolines are, reading arguments with
 * dopy_call_in() and writing results with dopy_call_out(), so the
 * run-time half of generated code is tested on its own.
 */
#include <stdlib.h>
#include <string.h>

#include "testobj.h"

/* What a generated trampoline does after reading its arguments. */
#define ARGS_READ(in)	do {						\
	if (dopy_in_error(in) != 0)					\
		return -1;						\
} while (0)

static int64_t
read_int(dopy_in *in)
{
	int64_t i;

	dopy_in_begin(in, "I");
	i = dopy_in_int(in);
	dopy_in_end(in);
	return i;
}

static void
write_int(dopy_out *out, int64_t i)
{
	dopy_out_begin(out, "I");
	dopy_out_int(out, i);
	dopy_out_end(out);
}

static char *
read_string(dopy_in *in)
{
	char *s;

	dopy_in_begin(in, "s");
	s = dopy_in_string(in);
	dopy_in_end(in);
	return s;
}

static void
write_string(dopy_out *out, const char *s)
{
	dopy_out_begin(out, "s");
	dopy_out_string(out, s);
	dopy_out_end(out);
}

static int
stub_add(dopy_call *c)
{
	dopy_in *in = dopy_call_in(c);
	int64_t a, b;

	a = read_int(in);
	b = read_int(in);
	ARGS_READ(in);
	write_int(dopy_call_out(c), a + b);
	return 0;
}

static int
stub_greet(dopy_call *c)
{
	dopy_in *in = dopy_call_in(c);
	char *name, *greeting, *s;
	int r = -1;

	name = read_string(in);
	greeting = read_string(in);
	if (dopy_in_error(in) == 0 && asprintf(&s, "%s, %s!", greeting,
	    name) > 0) {
		write_string(dopy_call_out(c), s);
		free(s);
		r = 0;
	}
	free(name);
	free(greeting);
	return r;
}

static int
stub_echo(dopy_call *c)
{
	dopy_in *in = dopy_call_in(c);
	char *s = read_string(in);

	ARGS_READ(in);
	write_string(dopy_call_out(c), s);
	free(s);
	return 0;
}

static int
stub_echob(dopy_call *c)
{
	dopy_in *in = dopy_call_in(c);
	dopy_out *out = dopy_call_out(c);
	size_t len;
	void *p;

	dopy_in_begin(in, "B");
	p = dopy_in_bytes(in, &len);
	dopy_in_end(in);
	ARGS_READ(in);
	dopy_out_begin(out, "B");
	dopy_out_bytes(out, p, len);
	dopy_out_end(out);
	free(p);
	return 0;
}

/* int[][] as a generated struct would hold it. */
struct ints {
	int64_t	*v;
	size_t	 n;
};

static int
stub_grid(dopy_call *c)
{
	dopy_in *in = dopy_call_in(c);
	dopy_out *out = dopy_call_out(c);
	struct ints *rows;
	size_t n, i, j;

	dopy_in_begin(in, "A(A(I))");
	rows = dopy_in_array(in, &n, sizeof(*rows));
	for (i = 0; i < n && dopy_in_error(in) == 0; i++) {
		rows[i].v = dopy_in_array(in, &rows[i].n, sizeof(int64_t));
		for (j = 0; j < rows[i].n; j++)
			rows[i].v[j] = dopy_in_int(in);
	}
	dopy_in_end(in);
	if (dopy_in_error(in) == 0) {
		/* Echoed transposed by row order: the last row first. */
		dopy_out_begin(out, "A(A(I))");
		dopy_out_count(out, n);
		for (i = n; i-- > 0; ) {
			dopy_out_count(out, rows[i].n);
			for (j = 0; j < rows[i].n; j++)
				dopy_out_int(out, rows[i].v[j]);
		}
		dopy_out_end(out);
	}
	for (i = 0; i < n; i++)
		free(rows[i].v);
	free(rows);
	return dopy_in_error(in) == 0 ? 0 : -1;
}

struct rec {
	int64_t	 x;
	char	*name;
};

static int
stub_recs(dopy_call *c)
{
	dopy_in *in = dopy_call_in(c);
	dopy_out *out = dopy_call_out(c);
	struct rec *r;
	size_t n, i;

	dopy_in_begin(in, "A(S(Is))");
	r = dopy_in_array(in, &n, sizeof(*r));
	for (i = 0; i < n; i++) {
		r[i].x = dopy_in_int(in);
		r[i].name = dopy_in_string(in);
	}
	dopy_in_end(in);
	if (dopy_in_error(in) == 0) {
		dopy_out_begin(out, "A(S(Is))");
		dopy_out_count(out, n);
		for (i = 0; i < n; i++) {
			dopy_out_int(out, r[i].x * 2);
			dopy_out_string(out, r[i].name);
		}
		dopy_out_end(out);
	}
	for (i = 0; i < n; i++)
		free(r[i].name);
	free(r);
	return dopy_in_error(in) == 0 ? 0 : -1;
}

static int
stub_anyv(dopy_call *c)
{
	dopy_value *v = dopy_in_value(dopy_call_in(c));

	ARGS_READ(dopy_call_in(c));
	dopy_out_value(dopy_call_out(c), v);
	dopy_value_free(v);
	return 0;
}

/* A ref argument, which dispatch checks is live before we run. */
static int
stub_same(dopy_call *c)
{
	dopy_in *in = dopy_call_in(c);
	dopy_out *out = dopy_call_out(c);
	uint32_t id;

	dopy_in_begin(in, "u");
	id = dopy_in_ref(in);
	dopy_in_end(in);
	ARGS_READ(in);
	dopy_out_begin(out, "u");
	dopy_out_ref(out, id);
	dopy_out_end(out);
	return 0;
}

static int
stub_oops(dopy_call *c)
{
	return dopy_raise(c, "stub.Oops", "oops, as asked");
}

/* Declared int, writes a string: the server must refuse it. */
static int
stub_wrong(dopy_call *c)
{
	write_string(dopy_call_out(c), "not an int");
	return 0;
}

static int64_t notes;

static int
stub_note(dopy_call *c)
{
	char *s = read_string(dopy_call_in(c));

	ARGS_READ(dopy_call_in(c));
	notes++;
	free(s);
	return 0;
}

static int
stub_notes(dopy_call *c)
{
	write_int(dopy_call_out(c), notes);
	return 0;
}

/* The dynamic path still works in a generated object. */
static int
stub_dynamic(dopy_call *c)
{
	return dopy_return_int(c, 7);
}

static const struct dopy_method stub_methods[] = {
	{ "add", stub_add, "a:int, b:int", "int", "a + b." },
	{ "greet", stub_greet, "name:string, greeting:string = \"Hello\"",
	    "string", "A greeting." },
	{ "echo", stub_echo, "s:string", "string", "s." },
	{ "echob", stub_echob, "b:bytes", "bytes", "b." },
	{ "grid", stub_grid, "g:int[][]", "int[][]",
	    "g, its rows in reverse order." },
	{ "recs", stub_recs, "r:(x:int,name:string)[]",
	    "(x:int,name:string)[]", "r, each x doubled." },
	{ "anyv", stub_anyv, "v:any", "any", "v." },
	{ "same", stub_same, "r:ref", "ref", "r." },
	{ "oops", stub_oops, "", "", "Raises stub.Oops." },
	{ "wrong", stub_wrong, "", "int", "Returns a string, declared int." },
	{ "note", stub_note, "text:string", "", "Counts a note (oneway)." },
	{ "notes", stub_notes, "", "int", "How many notes came." },
	{ "dynamic", stub_dynamic, "", "int", "7, by dopy_return_int." },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_object_def stub_object = {
	"stub", "A generated object, written by hand.", stub_methods, NULL,
	NULL
};

/* The interface text it publishes, as dopy-idl(1) would set it. */
static const char stub_interface[] =
	"## A generated object, written by hand.\n"
	"object stub {\n"
	"\terror Oops;\n"
	"\tadd(a: int, b: int) -> int;\n"
	"}\n";

int
testobj_stub_add(dopy_server *s)
{
	if (dopy_server_add(s, &stub_object, NULL) < 0 ||
	    dopy_server_set_stub(s, "stub", stub_interface) < 0 ||
	    dopy_server_set_oneway(s, "stub", "note") < 0)
		return -1;
	return 0;
}
