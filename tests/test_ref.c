/*
 * test_ref.c - lib/server/ref.c and the reference paths of
 * lib/server/dispatch.c: the per-connection table (ids from 1, never
 * reused, checked on every use), release, reaping against a clock the
 * test moves, the end of the connection, and calls on "@ID" keys and
 * with ref arguments.  A session is built by hand: no connection, no
 * serve loop.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

/* ---- a kind of object by reference, and a factory ---- */

struct thing {
	int64_t		 n;
	int		 gone;		/* the why, once gone */
	int		*order;		/* where to log the gone order */
	int		*norder;
};

static void
thing_gone(void *state, enum dopy_ref_why why)
{
	struct thing *t = state;

	t->gone = (int)why;
	if (t->order != NULL)
		t->order[(*t->norder)++] = (int)t->n;
}

static int
t_get(dopy_call *c)
{
	struct thing *t = dopy_call_state(c);

	return dopy_return_int(c, t->n);
}

static const struct dopy_method thing_methods[] = {
	{ "get", t_get, "", "int", NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};
static const struct dopy_object_def thing_def = {
	"thing", NULL, thing_methods, NULL, NULL
};
static const struct dopy_object_def other_def = {
	"other", NULL, thing_methods, NULL, NULL
};

static int
bad_fn(dopy_call *c)
{
	(void)c;
	return 0;
}

static const struct dopy_method bad_methods[] = {
	{ "m", bad_fn, "x:nosuchtype", NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};
static const struct dopy_object_def bad_def = {
	"bad", NULL, bad_methods, NULL, NULL
};

/* The things a test makes: state for factory.make. */
static struct thing things[8];
static size_t nthings;

static int
f_make(dopy_call *c)
{
	struct thing *t = &things[nthings++];

	t->n = dopy_call_int(c, 0);
	return dopy_call_return(c, dopy_call_new_ref(c, &thing_def, t,
	    thing_gone));
}

static int
f_value(dopy_call *c)
{
	struct thing *t = dopy_call_ref_state(c, dopy_call_arg(c, 0),
	    &thing_def);

	if (t == NULL)
		return dopy_raise(c, "f.NotThing", "not a thing");
	return dopy_return_int(c, t->n);
}

/* The sum of the things in a ref[], or in a (string,ref)[]. */
static int
f_sum(dopy_call *c)
{
	const dopy_value *a = dopy_call_arg(c, 0), *e;
	struct thing *t;
	int64_t sum = 0;
	size_t i;

	for (i = 0; i < dopy_value_len(a); i++) {
		e = dopy_value_at(a, i);
		if (dopy_value_kind(e) == DOPY_STRUCT)
			e = dopy_value_at(e, 1);
		if ((t = dopy_call_ref_state(c, e, NULL)) == NULL)
			return dopy_raise(c, "f.NotThing", "not a thing");
		sum += t->n;
	}
	return dopy_return_int(c, sum);
}

static int
f_pass(dopy_call *c)
{
	return dopy_call_return(c, dopy_value_copy(dopy_call_arg(c, 0)));
}

static const struct dopy_method factory_methods[] = {
	{ "make", f_make, "n:int", "ref", NULL },
	{ "value", f_value, "r:ref", "int", NULL },
	{ "sum", f_sum, "refs:ref[]", "int", NULL },
	{ "sum_pairs", f_sum, "pairs:(string,ref)[]", "int", NULL },
	{ "pass", f_pass, "v:any", "any", NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};
static const struct dopy_object_def factory_def = {
	"factory", NULL, factory_methods, NULL, NULL
};

/* ---- a server and a session made by hand ---- */

struct fixture {
	dopy_server		*srv;
	struct dopy_session	 sess;
	dopy_call		 call;	/* as inside a method of sess */
};

static void
setup(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	memset(things, 0, sizeof(things));
	nthings = 0;
	cr_assert_not_null(f->srv = tu_server());
	cr_assert_eq(dopy_server_add(f->srv, &factory_def, NULL), 0);
	f->sess.srv = f->srv;
	f->call.srv = f->srv;
	f->call.sess = &f->sess;
}

static void
teardown(struct fixture *f)
{
	dopy_refs_end(&f->sess);
	cr_assert_null(f->sess.refs, "the table is freed");
	dopy_error_free(f->call.err);	/* raised by a refused ref */
	dopy_server_free(f->srv);
}

/* A new ref to things[i] with n = i + 1. */
static uint32_t
make(struct fixture *f, const struct dopy_object_def *def)
{
	struct thing *t = &things[nthings];
	dopy_value *v;
	uint32_t id;

	t->n = (int64_t)++nthings;
	v = dopy_call_new_ref(&f->call, def, t, thing_gone);
	cr_assert_not_null(v);
	cr_assert_eq(dopy_value_kind(v), DOPY_REF);
	id = dopy_value_get_ref(v);
	dopy_value_free(v);
	return id;
}

static const struct dopy_object *
lookup(struct fixture *f, uint32_t id)
{
	char key[16];

	snprintf(key, sizeof(key), "@%u", id);
	return dopy_refs_lookup(&f->sess, key);
}

/* ---- the table ---- */

Test(ref, ids_count_from_one_and_are_never_reused)
{
	struct fixture f;

	setup(&f);
	cr_assert_null(f.sess.refs, "no table before the first ref");
	cr_assert_eq(make(&f, &thing_def), 1);
	cr_assert_eq(make(&f, &thing_def), 2);
	cr_assert_eq(dopy_refs_release(&f.sess, 2), 0);
	cr_assert_eq(dopy_refs_release(&f.sess, 1), 0);
	cr_assert_eq(make(&f, &thing_def), 3, "2 and 1 stay retired");
	cr_assert_null(lookup(&f, 1));
	cr_assert_null(lookup(&f, 2));
	cr_assert_not_null(lookup(&f, 3));
	teardown(&f);
}

Test(ref, lookup_gives_the_object)
{
	const struct dopy_object *o;
	struct fixture f;

	setup(&f);
	make(&f, &thing_def);
	make(&f, &other_def);
	o = lookup(&f, 1);
	cr_assert_not_null(o);
	cr_assert_eq(o->def, &thing_def);
	cr_assert_eq(o->state, &things[0]);
	cr_assert_eq(o->nmethods, 1, "prepared: dispatch works on it");
	cr_assert_not_null(o->sigs[0]);
	o = lookup(&f, 2);
	cr_assert_eq(o->def, &other_def);
	cr_assert_eq(o->state, &things[1]);
	teardown(&f);
}

/* Keys are "@ID" exactly: nothing else reaches an object. */
Test(ref, malformed_keys_name_nothing)
{
	static const char *const bad[] = {
		"@0", "@01", "@-1", "@+1", "@abc", "@", "1", "", "@1 ",
		" @1", "@1x", "@0x1", "@4294967297", "@99999999999999999999",
		"@@1", "ref1",
	};
	struct fixture f;
	size_t i;

	setup(&f);
	make(&f, &thing_def);
	cr_assert_not_null(dopy_refs_lookup(&f.sess, "@1"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_null(dopy_refs_lookup(&f.sess, bad[i]), "'%s'",
		    bad[i]);
	cr_assert_null(dopy_refs_lookup(&f.sess, NULL));
	cr_assert_null(dopy_refs_lookup(NULL, "@1"));
	cr_assert_null(lookup(&f, 2), "not made yet");
	teardown(&f);
}

Test(ref, state_by_ref_value)
{
	struct fixture f;
	dopy_value *r1, *r2, *r9, *i1;

	setup(&f);
	make(&f, &thing_def);
	make(&f, &other_def);
	r1 = dopy_value_ref(1);
	r2 = dopy_value_ref(2);
	r9 = dopy_value_ref(9);
	i1 = dopy_value_int(1);
	cr_assert_eq(dopy_call_ref_state(&f.call, r1, &thing_def), &things[0]);
	cr_assert_eq(dopy_call_ref_state(&f.call, r1, NULL), &things[0]);
	cr_assert_null(dopy_call_ref_state(&f.call, r2, &thing_def),
	    "another kind of object");
	cr_assert_eq(dopy_call_ref_state(&f.call, r2, &other_def), &things[1]);
	cr_assert_null(dopy_call_ref_state(&f.call, r9, NULL));
	cr_assert_null(dopy_call_ref_state(&f.call, i1, NULL), "not a ref");
	cr_assert_null(dopy_call_ref_state(&f.call, NULL, NULL));
	cr_assert_null(dopy_call_ref_state(NULL, r1, NULL));
	dopy_value_free(r1);
	dopy_value_free(r2);
	dopy_value_free(r9);
	dopy_value_free(i1);
	teardown(&f);
}

/* Ids belong to one connection. */
Test(ref, sessions_do_not_share)
{
	struct fixture f;
	struct dopy_session other;
	dopy_call oc;
	dopy_value *r1 = dopy_value_ref(1);

	setup(&f);
	memset(&other, 0, sizeof(other));
	other.srv = f.srv;
	memset(&oc, 0, sizeof(oc));
	oc.srv = f.srv;
	oc.sess = &other;
	make(&f, &thing_def);
	cr_assert_null(dopy_refs_lookup(&other, "@1"));
	cr_assert_null(dopy_call_ref_state(&oc, r1, NULL));
	cr_assert_eq(dopy_refs_release(&other, 1), DOPY_E_USAGE);
	cr_assert_not_null(lookup(&f, 1), "still there");
	dopy_value_free(r1);
	dopy_refs_end(&other);
	teardown(&f);
}

Test(ref, no_session_no_ref)
{
	struct fixture f;
	dopy_call bare;

	setup(&f);
	memset(&bare, 0, sizeof(bare));
	bare.srv = f.srv;
	cr_assert_null(dopy_call_new_ref(&bare, &thing_def, &things[0],
	    thing_gone));
	cr_assert_str_eq(dopy_error_name(bare.err), "dopy.InternalError",
	    "the call says why");
	dopy_error_free(bare.err);
	cr_assert_null(dopy_call_new_ref(NULL, &thing_def, &things[0], NULL));
	cr_assert_null(dopy_call_new_ref(&f.call, NULL, &things[0], NULL));
	cr_assert_eq(things[0].gone, 0, "the caller keeps the state");
	teardown(&f);
}

Test(ref, bad_signature_gives_no_ref)
{
	struct fixture f;

	setup(&f);
	cr_assert_null(dopy_call_new_ref(&f.call, &bad_def, &things[0],
	    thing_gone));
	cr_assert_eq(things[0].gone, 0);
	cr_assert_eq(make(&f, &thing_def), 1, "no id was spent");
	teardown(&f);
}

Test(ref, release_runs_gone_once)
{
	struct fixture f;

	setup(&f);
	make(&f, &thing_def);
	make(&f, &thing_def);
	cr_assert_eq(dopy_refs_release(&f.sess, 1), 0);
	cr_assert_eq(things[0].gone, DOPY_REF_RELEASED);
	cr_assert_eq(things[1].gone, 0);
	cr_assert_eq(dopy_refs_release(&f.sess, 1), DOPY_E_USAGE);
	cr_assert_eq(dopy_refs_release(&f.sess, 0), DOPY_E_USAGE);
	cr_assert_eq(dopy_refs_release(&f.sess, 77), DOPY_E_USAGE);
	things[0].gone = 0;
	teardown(&f);
	cr_assert_eq(things[0].gone, 0, "not gone twice");
	cr_assert_eq(things[1].gone, DOPY_REF_CLOSED);
}

Test(ref, release_before_any_ref)
{
	struct fixture f;

	setup(&f);
	cr_assert_eq(dopy_refs_release(&f.sess, 1), DOPY_E_USAGE);
	cr_assert_eq(dopy_refs_reap(&f.sess, dopy_now_ms()), -1);
	teardown(&f);
}

Test(ref, end_closes_all_in_id_order)
{
	int order[8], norder = 0, i;
	struct fixture f;

	setup(&f);
	for (i = 0; i < 5; i++) {
		things[i].order = order;
		things[i].norder = &norder;
		make(&f, &thing_def);
	}
	dopy_refs_release(&f.sess, 3);
	teardown(&f);
	cr_assert_eq(norder, 5);
	cr_assert_eq(order[0], 3, "released first");
	cr_assert_eq(order[1], 1);
	cr_assert_eq(order[2], 2);
	cr_assert_eq(order[3], 4);
	cr_assert_eq(order[4], 5);
	cr_assert_eq(things[0].gone, DOPY_REF_CLOSED);
	cr_assert_eq(things[2].gone, DOPY_REF_RELEASED);
}

/* ---- reaping, with the clock handed in ---- */

/* A fixture with an age of 1000 ms and n things made just after the
 * time it returns. */
static int64_t
setup_aged(struct fixture *f, int n)
{
	int64_t t0;

	setup(f);
	dopy_server_set_ref_age(f->srv, 1000);
	t0 = dopy_now_ms();
	while (n-- > 0)
		make(f, &thing_def);
	return t0;
}

Test(ref, no_age_no_reaping)
{
	struct fixture f;

	setup(&f);
	make(&f, &thing_def);
	cr_assert_eq(dopy_refs_reap(&f.sess, dopy_now_ms() + 86400000), -1);
	cr_assert_eq(things[0].gone, 0);
	dopy_server_set_ref_age(f.srv, -5);
	cr_assert_eq(f.srv->ref_age_ms, 0);
	teardown(&f);
}

Test(ref, reap_after_the_age)
{
	struct fixture f;
	int64_t t0;
	int ms;

	t0 = setup_aged(&f, 2);
	ms = dopy_refs_reap(&f.sess, t0);
	/* The refs were made at t0 or the milliseconds after. */
	cr_assert(ms > 900 && ms <= 1000 + dopy_now_ms() - t0, "next due in "
	    "%d ms", ms);
	ms = dopy_refs_reap(&f.sess, t0 + 500);
	cr_assert(ms > 400 && ms <= 500 + dopy_now_ms() - t0, "next due in "
	    "%d ms", ms);
	cr_assert_eq(things[0].gone, 0);
	cr_assert_eq(dopy_refs_reap(&f.sess, dopy_now_ms() + 1000), -1,
	    "nothing left");
	cr_assert_eq(things[0].gone, DOPY_REF_REAPED);
	cr_assert_eq(things[1].gone, DOPY_REF_REAPED);
	cr_assert_null(lookup(&f, 1));
	cr_assert_eq(make(&f, &thing_def), 3);
	teardown(&f);
}

/* A call on the object and the object as an argument both count. */
Test(ref, use_postpones_reaping, .timeout = 10)
{
	struct fixture f;
	int64_t t0;
	int ms;

	t0 = setup_aged(&f, 3);
	cr_assert_leq(dopy_now_ms() - t0, 50, "the machine is too slow");
	usleep(200 * 1000);
	cr_assert_not_null(lookup(&f, 1));
	cr_assert_eq(dopy_refs_use(&f.sess, 2), 0);
	cr_assert_eq(dopy_refs_use(&f.sess, 9), DOPY_E_USAGE);
	ms = dopy_refs_reap(&f.sess, t0 + 1100);
	cr_assert_eq(things[2].gone, DOPY_REF_REAPED, "unused: reaped");
	cr_assert_eq(things[0].gone, 0, "called: kept");
	cr_assert_eq(things[1].gone, 0, "passed: kept");
	cr_assert(ms >= 100 && ms <= 1000, "next due in %d ms", ms);
	teardown(&f);
	cr_assert_eq(things[0].gone, DOPY_REF_CLOSED);
}

/* While a method runs, a dropped object may be the one it runs on: it
 * leaves the table at once and is gone back at the top of the loop. */
Test(ref, drop_during_a_call_waits_for_the_top)
{
	struct fixture f;

	setup(&f);
	make(&f, &thing_def);
	make(&f, &thing_def);
	f.sess.depth = 1;
	cr_assert_eq(dopy_refs_release(&f.sess, 1), 0);
	cr_assert_null(lookup(&f, 1), "out of the table at once");
	cr_assert_eq(things[0].gone, 0, "but not gone yet");
	cr_assert_eq(dopy_refs_reap(&f.sess, dopy_now_ms()), -1);
	cr_assert_eq(things[0].gone, 0, "still inside the call");
	f.sess.depth = 0;
	dopy_refs_reap(&f.sess, dopy_now_ms());
	cr_assert_eq(things[0].gone, DOPY_REF_RELEASED);
	cr_assert_eq(things[1].gone, 0);
	/* And a connection that ends with one pending frees it too. */
	f.sess.depth = 1;
	cr_assert_eq(dopy_refs_release(&f.sess, 2), 0);
	f.sess.depth = 0;
	teardown(&f);
	cr_assert_eq(things[1].gone, DOPY_REF_RELEASED);
}

Test(ref, many_refs)
{
	struct fixture f;
	uint32_t i;

	setup(&f);
	for (i = 1; i <= 5000; i++) {
		dopy_value *v = dopy_call_new_ref(&f.call, &thing_def,
		    &things[0], NULL);

		cr_assert_eq(dopy_value_get_ref(v), i);
		dopy_value_free(v);
	}
	for (i = 1; i <= 5000; i += 2)
		cr_assert_eq(dopy_refs_release(&f.sess, i), 0);
	for (i = 1; i <= 5000; i++)
		cr_assert_eq(lookup(&f, i) != NULL, i % 2 == 0, "@%u", i);
	teardown(&f);
}

/* ---- dispatch: "@ID" keys and ref arguments ---- */

struct call {
	struct dopy_buf		buf;
	struct dopy_callmsg	msg;
	dopy_call		c;
};

/* Call obj.meth on f's session with positional args (taken). */
static void
dispatch(struct fixture *f, struct call *k, const char *obj,
    const char *meth, dopy_value **args, size_t n)
{
	const char *nm[DOPY_MAX_ARGS];
	char err[200] = "";
	size_t i;

	dopy_buf_init(&k->buf);
	for (i = 0; i < n; i++)
		nm[i] = "";
	cr_assert_eq(dopy_msg_call_put(&k->buf, obj, meth, nm, n), 0);
	for (i = 0; i < n; i++) {
		cr_assert_eq(dopy_encode(args[i], &k->buf), 0);
		dopy_value_free(args[i]);
	}
	cr_assert_eq(dopy_msg_call_get(k->buf.data, k->buf.len, &k->msg, err,
	    sizeof(err)), 0, "%s", err);
	k->c.id = 42;		/* as serve.c sets it */
	dopy_dispatch_in(f->srv, &f->sess, &k->msg, &k->c);
	cr_assert_eq(k->c.id, 42, "the frame id survives dispatch");
}

static void
call_done(struct call *k)
{
	dopy_call_release(&k->c);
	dopy_msg_call_release(&k->msg);
	dopy_buf_release(&k->buf);
}

static void
failed(struct call *k, const char *name, const char *want)
{
	cr_assert_not_null(k->c.err, "no error, expected %s", name);
	cr_assert_null(k->c.result);
	cr_assert_str_eq(dopy_error_name(k->c.err), name, "message: %s",
	    dopy_error_message(k->c.err));
	cr_assert(strstr(dopy_error_message(k->c.err), want) != NULL,
	    "message '%s' lacks '%s'", dopy_error_message(k->c.err), want);
	cr_assert_eq(dopy_error_code(k->c.err), DOPY_E_USAGE);
}

static int64_t
int_result(struct call *k)
{
	cr_assert_null(k->c.err, "error %s: %s", dopy_error_name(k->c.err),
	    dopy_error_message(k->c.err));
	cr_assert_eq(dopy_value_kind(k->c.result), DOPY_INT);
	return dopy_value_get_int(k->c.result);
}

/* factory.make(n), then return the id. */
static uint32_t
made(struct fixture *f, int64_t n)
{
	dopy_value *a[] = { dopy_value_int(n) };
	struct call k;
	uint32_t id;

	memset(&k, 0, sizeof(k));
	dispatch(f, &k, "factory", "make", a, 1);
	cr_assert_null(k.c.err, "%s", dopy_error_message(k.c.err));
	id = dopy_value_get_ref(k.c.result);
	cr_assert_neq(id, 0);
	call_done(&k);
	return id;
}

static dopy_value *
lit(const char *type, const char *text)
{
	dopy_type *t;
	dopy_value *v;
	char err[200] = "";

	cr_assert_not_null(t = dopy_type_parse(type, err, sizeof(err)));
	v = dopy_value_parse(t, text, err, sizeof(err));
	cr_assert_not_null(v, "%s", err);
	dopy_type_free(t);
	return v;
}

Test(ref, call_on_a_ref)
{
	struct fixture f;
	struct call k;
	char key[16];
	uint32_t id;

	setup(&f);
	id = made(&f, 40);
	snprintf(key, sizeof(key), "@%u", id);
	memset(&k, 0, sizeof(k));
	dispatch(&f, &k, key, "get", NULL, 0);
	cr_assert_eq(int_result(&k), 40);
	call_done(&k);
	memset(&k, 0, sizeof(k));
	dispatch(&f, &k, key, "nope", NULL, 0);
	failed(&k, "dopy.UnknownMethod", "thing: no method 'nope'");
	call_done(&k);
	teardown(&f);
}

Test(ref, call_on_unknown_refs)
{
	static const char *const keys[] = {
		"@0", "@7", "@-1", "@abc", "@", "@01",
	};
	struct fixture f;
	struct call k;
	char want[160];
	size_t i;

	setup(&f);
	made(&f, 1);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		memset(&k, 0, sizeof(k));
		dispatch(&f, &k, keys[i], "get", NULL, 0);
		snprintf(want, sizeof(want), "no reference %s on this "
		    "connection (released, reaped, or from another "
		    "connection)", keys[i]);
		failed(&k, "dopy.UnknownObject", want);
		call_done(&k);
	}
	dopy_refs_release(&f.sess, 1);
	memset(&k, 0, sizeof(k));
	dispatch(&f, &k, "@1", "get", NULL, 0);
	failed(&k, "dopy.UnknownObject", "no reference @1");
	call_done(&k);
	teardown(&f);
}

/* factory.meth(v): its int result; takes v. */
static int64_t
factory_int(struct fixture *f, const char *meth, dopy_value *v)
{
	dopy_value *a[] = { v };
	struct call k;
	int64_t r;

	memset(&k, 0, sizeof(k));
	dispatch(f, &k, "factory", meth, a, 1);
	r = int_result(&k);
	call_done(&k);
	return r;
}

Test(ref, ref_arguments_arrive_as_objects)
{
	struct fixture f;

	setup(&f);
	made(&f, 10);
	made(&f, 20);
	made(&f, 30);
	cr_assert_eq(factory_int(&f, "value", dopy_value_ref(2)), 20);
	cr_assert_eq(factory_int(&f, "sum", lit("ref[]", "[@1, @3, @3]")), 70);
	cr_assert_eq(factory_int(&f, "sum_pairs",
	    lit("(string,ref)[]", "[(a, @1), (b, @2)]")), 30);
	cr_assert_eq(factory_int(&f, "sum", lit("ref[]", "[]")), 0);
	teardown(&f);
}

/* Checked before the method runs, wherever the ref sits. */
static void
refused_arg(struct fixture *f, const char *meth, dopy_value *v,
    const char *want)
{
	dopy_value *a[] = { v };
	struct call k;

	memset(&k, 0, sizeof(k));
	dispatch(f, &k, "factory", meth, a, 1);
	failed(&k, "dopy.UnknownReference", want);
	cr_assert(strstr(dopy_error_message(k.c.err), "(released, reaped, "
	    "or from another connection)") != NULL);
	call_done(&k);
}

Test(ref, dead_ref_arguments_are_refused)
{
	struct fixture f;
	dopy_type *t;
	dopy_value *a;

	setup(&f);
	made(&f, 10);
	made(&f, 20);
	refused_arg(&f, "value", dopy_value_ref(9),
	    "factory.value: parameter r: no reference @9 on this connection");
	refused_arg(&f, "sum", lit("ref[]", "[@1, @2, @5]"),
	    "factory.sum: parameter refs: no reference @5");
	refused_arg(&f, "sum_pairs", lit("(string,ref)[]",
	    "[(a, @1), (b, @6)]"), "parameter pairs: no reference @6");
	refused_arg(&f, "pass", dopy_value_ref(8),
	    "factory.pass: parameter v: no reference @8");
	refused_arg(&f, "pass", lit("ref[]", "[@1, @7]"),
	    "parameter v: no reference @7");
	/* A zeroed structure's id 0 names nothing either. */
	cr_assert_not_null(t = dopy_type_parse("(string,ref)[]", NULL, 0));
	a = dopy_value_new(t);
	cr_assert_eq(dopy_value_append(a, dopy_value_new(dopy_type_elem(t))),
	    0);
	dopy_type_free(t);
	refused_arg(&f, "sum_pairs", a, "no reference @0");
	/* The live ones were used all the same: nothing was dropped. */
	cr_assert_not_null(lookup(&f, 1));
	cr_assert_not_null(lookup(&f, 2));
	teardown(&f);
}
