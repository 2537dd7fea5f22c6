/*
 * testobj_ref.c - object "factory": counters by reference, for the tests
 * of objects by reference (tests/e2e_refs.c) and for trying them by hand:
 *
 *	dopy-rsh bin/dopyd factory counter 5		prints @1
 *
 * Counters are counted while alive and every gone hook is logged, so a
 * client can watch release, reaping and the end of a connection from
 * another connection or the same one (live, gone_log).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testobj.h"

struct counter {
	int64_t		n;
	uint32_t	id;
};

#define LOGMAX	64

/* Per process: dopyd serves one connection per process. */
static int64_t live;
static char gone_log[LOGMAX][32];
static size_t ngone;

static const char *const whys[] = { "?", "released", "reaped", "closed" };

static void
counter_gone(void *state, enum dopy_ref_why why)
{
	struct counter *k = state;

	if (ngone < LOGMAX)
		snprintf(gone_log[ngone++], sizeof(gone_log[0]), "@%" PRIu32
		    " %s", k->id, (unsigned)why < 4 ? whys[why] : "?");
	live--;
	free(k);
}

static int
counter_incr(dopy_call *c)
{
	struct counter *k = dopy_call_state(c);

	/* A counter made at INT64_MAX must refuse, not wrap (a fuzzer
	 * made one). */
	if (k->n == INT64_MAX)
		return dopy_raise(c, "counter.Overflow", "counter at its limit");
	return dopy_return_int(c, ++k->n);
}

static int
counter_get(dopy_call *c)
{
	struct counter *k = dopy_call_state(c);

	return dopy_return_int(c, k->n);
}

static int counter_spawn(dopy_call *);

static const struct dopy_method counter_methods[] = {
	{ "incr", counter_incr, "", "int", "Add one; the new value." },
	{ "get", counter_get, "", "int", "The value." },
	{ "spawn", counter_spawn, "", "ref",
	    "A new counter starting at this one's value." },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_object_def counter_def = {
	"counter", "A counter made by factory.counter, by reference.",
	counter_methods, NULL, NULL
};

/* A new counter by reference, or NULL with the call's error raised. */
static dopy_value *
new_counter(dopy_call *c, int64_t start)
{
	struct counter *k;
	dopy_value *v;

	if ((k = calloc(1, sizeof(*k))) == NULL) {
		dopy_raise(c, "factory.NoMemory", "out of memory");
		return NULL;
	}
	k->n = start;
	/* On failure the library has raised why (a cap, memory). */
	if ((v = dopy_call_new_ref(c, &counter_def, k, counter_gone)) == NULL) {
		free(k);
		return NULL;
	}
	k->id = dopy_value_get_ref(v);
	live++;
	return v;
}

static int
counter_spawn(dopy_call *c)
{
	struct counter *k = dopy_call_state(c);
	dopy_value *v;

	if ((v = new_counter(c, k->n)) == NULL)
		return DOPY_E_REMOTE;
	return dopy_call_return(c, v);
}

static int
f_counter(dopy_call *c)
{
	dopy_value *v;

	if ((v = new_counter(c, dopy_call_int(c, 0))) == NULL)
		return DOPY_E_REMOTE;
	return dopy_call_return(c, v);
}

static dopy_value *
typed(dopy_call *c, const char *text)
{
	dopy_type *t;
	dopy_value *v;

	if ((t = dopy_type_parse(text, NULL, 0)) == NULL) {
		dopy_raise(c, "factory.NoMemory", "out of memory");
		return NULL;
	}
	v = dopy_value_new(t);
	dopy_type_free(t);
	if (v == NULL)
		dopy_raise(c, "factory.NoMemory", "out of memory");
	return v;
}

static int
f_many(dopy_call *c)
{
	int64_t i, n = dopy_call_int(c, 0);
	dopy_value *a, *v;

	if (n < 0 || n > 100000)
		return dopy_raise(c, "factory.Range", "n must be 0 to 100000");
	if ((a = typed(c, "ref[]")) == NULL)
		return DOPY_E_REMOTE;
	for (i = 0; i < n; i++)
		if ((v = new_counter(c, i)) == NULL ||
		    dopy_value_append(a, v) < 0) {
			/* Made ones stay in the table: reaped or closed. */
			dopy_value_free(a);
			return DOPY_E_REMOTE;
		}
	return dopy_call_return(c, a);
}

static int
f_pair(dopy_call *c)
{
	dopy_value *p, *v;

	if ((p = typed(c, "(string,ref)")) == NULL)
		return DOPY_E_REMOTE;
	if ((v = new_counter(c, 0)) == NULL ||
	    dopy_value_set_field(p, 0, dopy_value_string(
	    dopy_call_string(c, 0))) < 0 || dopy_value_set_field(p, 1, v) < 0) {
		dopy_value_free(p);
		return DOPY_E_REMOTE;
	}
	return dopy_call_return(c, p);
}

/* The counter a ref argument names; refs reach methods checked, but a
 * ref to an object of another kind is the method's to refuse. */
static struct counter *
counter_arg(dopy_call *c, const dopy_value *ref)
{
	struct counter *k;

	if ((k = dopy_call_ref_state(c, ref, &counter_def)) == NULL)
		dopy_raise(c, "factory.NotCounter", "@%" PRIu32 " is not a "
		    "counter", dopy_value_get_ref(ref));
	return k;
}

static int
f_sum(dopy_call *c)
{
	const dopy_value *a = dopy_call_arg(c, 0);
	struct counter *k;
	int64_t sum = 0;
	size_t i;

	for (i = 0; i < dopy_value_len(a); i++) {
		if ((k = counter_arg(c, dopy_value_at(a, i))) == NULL)
			return DOPY_E_REMOTE;
		if (__builtin_add_overflow(sum, k->n, &sum))
			return dopy_raise(c, "counter.Overflow",
			    "the sum overflows");
	}
	return dopy_return_int(c, sum);
}

static int
f_value(dopy_call *c)
{
	struct counter *k;

	if ((k = counter_arg(c, dopy_call_arg(c, 0))) == NULL)
		return DOPY_E_REMOTE;
	return dopy_return_int(c, k->n);
}

static int
f_label(dopy_call *c)
{
	const dopy_value *p = dopy_call_arg(c, 0);
	struct counter *k;
	char buf[128];

	if ((k = counter_arg(c, dopy_value_at(p, 1))) == NULL)
		return DOPY_E_REMOTE;
	snprintf(buf, sizeof(buf), "%s=%" PRId64,
	    dopy_value_get_string(dopy_value_at(p, 0)), k->n);
	return dopy_return_string(c, buf);
}

static int
f_pass(dopy_call *c)
{
	return dopy_call_return(c, dopy_value_copy(dopy_call_arg(c, 0)));
}

/* Each argument as TYPE:JSON, so a test sees what a client's
 * conversion made of its input (dopy-rsh -j). */
static int
f_kinds(dopy_call *c)
{
	const dopy_value *v;
	char *buf = NULL, *j;
	size_t i, len;
	FILE *f;
	int r;

	if ((f = open_memstream(&buf, &len)) == NULL)
		return dopy_raise(c, "factory.NoMemory", "out of memory");
	for (i = 0; (v = dopy_call_arg(c, i)) != NULL; i++) {
		j = dopy_value_json(v);
		fprintf(f, "%s%s:%s", i > 0 ? " " : "",
		    dopy_type_name(dopy_value_type(v)), j != NULL ? j : "?");
		free(j);
	}
	if (fclose(f) == EOF)
		return dopy_raise(c, "factory.NoMemory", "out of memory");
	r = dopy_return_string(c, buf);
	free(buf);
	return r;
}

static int
f_live(dopy_call *c)
{
	return dopy_return_int(c, live);
}

static int
f_gone_log(dopy_call *c)
{
	dopy_value *a;
	size_t i;

	if ((a = typed(c, "string[]")) == NULL)
		return DOPY_E_REMOTE;
	for (i = 0; i < ngone; i++)
		if (dopy_value_append(a, dopy_value_string(gone_log[i])) < 0) {
			dopy_value_free(a);
			return dopy_raise(c, "factory.NoMemory",
			    "out of memory");
		}
	return dopy_call_return(c, a);
}

static int
f_forge(dopy_call *c)
{
	/* A server may hand out any id; the table decides what it names. */
	return dopy_call_return(c, dopy_value_ref((uint32_t)dopy_call_int(c,
	    0)));
}

static const struct dopy_method factory_methods[] = {
	{ "counter", f_counter, "start:int=0", "ref",
	    "A new counter by reference." },
	{ "forge", f_forge, "id:int", "ref",
	    "A ref with this id, whatever it names (for tests)." },
	{ "gone_log", f_gone_log, "", "string[]",
	    "Every counter gone in this process: \"@ID why\"." },
	{ "label", f_label, "p:(string,ref)", "string",
	    "NAME=VALUE of a (name, counter) pair." },
	{ "live", f_live, "", "int",
	    "How many counters are alive in this process." },
	{ "many", f_many, "n:int", "ref[]",
	    "n new counters, starting at 0, 1, ..." },
	{ "pair", f_pair, "name:string", "(string,ref)",
	    "A name and a new counter." },
	{ "kinds", f_kinds, "b:bool, i:int, u:uint, d:double, s:string, "
	    "y:bytes, a:(string,int)[]", "string",
	    "Each argument as TYPE:JSON (to test clients' conversions)." },
	{ "pass", f_pass, "v:any", "any", "v itself." },
	{ "sum", f_sum, "refs:ref[]", "int",
	    "The sum of the counters' values." },
	{ "value", f_value, "r:ref", "int", "A counter's value." },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_object_def factory_def = {
	"factory", "Makes counters by reference (objects by reference).",
	factory_methods, NULL, NULL
};

int
testobj_ref_add(dopy_server *s)
{
	return dopy_server_add(s, &factory_def, NULL);
}
