/*
 * dispatch.c - one CALL: find the object and method in the tables, bind
 * positional and named arguments to the declared parameters, apply
 * defaults, run before / method / after, and check the result.
 *
 * Every refusal names object, method and parameter, what was expected
 * and what came, because the caller may be a person at a shell.
 *
 * Objects by reference live in the session's table (ref.c) under keys
 * "@ID"; a ref among the arguments must name one of them too, checked
 * before the method runs, so a method never sees a dangling id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "server/server.h"

static int
vraise(dopy_call *c, const char *name, const char *fmt, va_list ap)
{
	const char *obj = c->obj != NULL ? c->obj->def->name :
	    c->msg != NULL ? c->msg->object : "";
	const char *meth = c->obj != NULL ?
	    c->obj->def->methods[c->midx].name :
	    c->msg != NULL ? c->msg->method : "";

	dopy_error_free(c->err);
	if ((c->err = dopy_error_vnew(dopy_error_code_for(name), fmt, ap)) ==
	    NULL)
		return DOPY_E_NOMEM;
	dopy_error_set_fields(c->err, name, obj, meth, c->srv->host,
	    c->srv->pid);
	return DOPY_E_REMOTE;
}

/* An error of the library's own, raised on behalf of the caller. */
#define fail dopy_call_fail

int
dopy_call_fail(dopy_call *c, const char *name, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vraise(c, name, fmt, ap);
	va_end(ap);
	return r;
}

int
dopy_call_raise_at(dopy_call *c, const char *file, int line,
    const char *func, const char *name, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vraise(c, name != NULL ? name : "dopy.Error", fmt, ap);
	va_end(ap);
	dopy_call_trace_at(c, file, line, func);
	return r;
}

void
dopy_call_trace_at(dopy_call *c, const char *file, int line,
    const char *func)
{
	char buf[512];

	if (c->err == NULL)
		return;
	snprintf(buf, sizeof(buf), "%s:%d %s", file, line, func);
	dopy_error_add_trace(c->err, buf);
}

/* Everything but argv: dopy_find_method clears that as far as the method's
 * signature reaches. */
static void
call_init(dopy_call *c)
{
	memset(c, 0, offsetof(dopy_call, argv));
}

static const char *
mname(const dopy_call *c)
{
	return c->obj->def->methods[c->midx].name;
}

int
dopy_find_method(dopy_call *c, const struct dopy_object *o,
    const char *method)
{
	uint32_t h = dopy_method_hash(method);
	size_t i;

	c->obj = (struct dopy_object *)o;
	for (i = 0; i < o->nmethods; i++)
		if (o->mhash[i] == h &&
		    strcmp(o->def->methods[i].name, method) == 0) {
			c->midx = i;
			c->sig = o->sigs[i];
			memset(c->argv, 0, c->sig->n * sizeof(c->argv[0]));
			return 0;
		}
	c->obj = NULL;		/* the error names no method */
	return fail(c, "dopy.UnknownMethod", "%s: no method '%s'",
	    o->def->name, method);
}

int
dopy_call_decode_arg(dopy_call *c, size_t k, const struct dopy_image *img,
    dopy_value **v)
{
	char err[200];
	int r;

	if ((r = dopy_decode(img, c->sig->p[k].type, v, err, sizeof(err))) < 0)
		return dopy_call_arg_error(c, k, r, err);
	return 0;
}

int
dopy_call_arg_error(dopy_call *c, size_t k, int r, const char *err)
{
	const char *name = r == DOPY_E_TOOBIG ? "dopy.DecodeLimit" :
	    r == DOPY_E_TYPE ? "dopy.TypeError" : "dopy.ProtocolError";

	if (r >= 0)
		return 0;
	return fail(c, name, "%s.%s: parameter %s: %s", c->obj->def->name,
	    mname(c), c->sig->p[k].name, err);
}

int
dopy_call_twice(dopy_call *c, size_t k)
{
	return fail(c, "dopy.ArgumentError", "%s.%s: parameter %s given twice",
	    c->obj->def->name, mname(c), c->sig->p[k].name);
}

int
dopy_call_missing(dopy_call *c, size_t k)
{
	return fail(c, "dopy.ArgumentError", "%s.%s: missing argument for "
	    "parameter %s (%s)", c->obj->def->name, mname(c),
	    c->sig->p[k].name, c->sig->p[k].type->name);
}

static int
bind_one(dopy_call *c, size_t k, const struct dopy_image *img)
{
	if (c->argv[k] != NULL)
		return dopy_call_twice(c, k);
	/* A scalar in the call's own slot: no value to malloc and free. */
	if (k < DOPY_CALL_INLINE &&
	    dopy_image_scalar(img, c->sig->p[k].type, &c->argin[k]) == 0) {
		c->argv[k] = &c->argin[k];
		return 0;
	}
	return dopy_call_decode_arg(c, k, img, &c->argv[k]);
}

static int	arg_slot_slow(dopy_call *, const struct dopy_callmsg *, size_t,
		    int *, size_t *);

int
dopy_call_arg_slot(dopy_call *c, const struct dopy_callmsg *m, size_t i,
    int *named, size_t *k)
{
	/* Most calls: an argument by position, where it should be. */
	if (m->names[i][0] == '\0' && !*named && i < c->sig->n) {
		*k = i;
		return 0;
	}
	return arg_slot_slow(c, m, i, named, k);
}

/* The rest of dopy_call_arg_slot: named arguments, and the refusals. */
static int
arg_slot_slow(dopy_call *c, const struct dopy_callmsg *m, size_t i,
    int *named, size_t *k)
{
	const char *on = c->obj->def->name, *mn = mname(c);
	int idx;

	if (m->names[i][0] != '\0') {
		*named = 1;
		if ((idx = dopy_sig_find(c->sig, m->names[i])) < 0)
			return fail(c, "dopy.ArgumentError", "%s.%s: no "
			    "parameter '%s'", on, mn, m->names[i]);
		*k = (size_t)idx;
		return 0;
	}
	if (*named && i < c->sig->n)
		return fail(c, "dopy.ArgumentError", "%s.%s: parameter %s: "
		    "positional argument after a named one", on, mn,
		    c->sig->p[i].name);
	if (*named)
		return fail(c, "dopy.ArgumentError", "%s.%s: positional "
		    "argument after a named one", on, mn);
	if (i >= c->sig->n)
		return fail(c, "dopy.ArgumentError", "%s.%s: takes %zu "
		    "argument%s, got %zu", on, mn, c->sig->n,
		    c->sig->n == 1 ? "" : "s", m->argc);
	*k = i;
	return 0;
}

static int
bind_args(dopy_call *c, const struct dopy_callmsg *m)
{
	size_t i, k;
	int r, named = 0;

	for (i = 0; i < m->argc; i++)
		if ((r = dopy_call_arg_slot(c, m, i, &named, &k)) < 0 ||
		    (r = bind_one(c, k, &m->args[i])) < 0)
			return r;
	for (k = 0; k < c->sig->n; k++) {
		if (c->argv[k] != NULL)
			continue;
		if (c->sig->p[k].def == NULL)
			return dopy_call_missing(c, k);
		if ((c->argv[k] = dopy_value_copy(c->sig->p[k].def)) == NULL)
			return fail(c, "dopy.InternalError", "out of memory");
	}
	return 0;
}

#define NO_REF	"no reference @%u on this connection (released, reaped, " \
		"or from another connection)"

/* Whether v holds a ref that names nothing live here (*id: the first);
 * the live ones count as used (not reaped while clients pass them). */
static int
dead_ref(struct dopy_session *sess, const dopy_value *v, uint32_t *id)
{
	size_t i;

	switch (v->type->kind) {
	case DOPY_REF:
		*id = (uint32_t)v->u.u;
		return dopy_refs_use(sess, *id) < 0;
	case DOPY_ARRAY:
	case DOPY_STRUCT:
		if (!dopy_type_has_ref(v->type))
			return 0;
		for (i = 0; i < v->u.a.n; i++)
			if (dead_ref(sess, v->u.a.v[i], id))
				return 1;
		return 0;
	default:
		return 0;
	}
}

/* Whether v is a ref or holds values: not most arguments, which then
 * cost no call of the recursive dead_ref. */
static int
may_hold_ref(const dopy_value *v)
{
	return v->type->kind == DOPY_REF || v->type->kind == DOPY_ARRAY ||
	    v->type->kind == DOPY_STRUCT;
}

/*
 * Refs among the arguments must be live objects of this connection.
 * Without a session there is no table to check them against: a
 * client's callback object (clientcb.c) gets refs that name the
 * server's objects, and those are the server's to check.
 */
int
dopy_call_ref_ok(dopy_call *c, const char *param, const dopy_value *v)
{
	uint32_t id;

	if (c->sess == NULL || !may_hold_ref(v) || !dead_ref(c->sess, v, &id))
		return 0;
	return fail(c, "dopy.UnknownReference", "%s.%s: parameter %s: "
	    NO_REF, c->obj->def->name, mname(c), param, id);
}

static int
check_refs(dopy_call *c)
{
	size_t k;
	int r;

	if (c->sess == NULL || !c->sig->mayref)
		return 0;
	for (k = 0; k < c->sig->n; k++)
		if ((r = dopy_call_ref_ok(c, c->sig->p[k].name,
		    c->argv[k])) < 0)
			return r;
	return 0;
}

/* A method that failed without saying why still gets a named error:
 * a stub's that could not read an argument, that one's. */
static void
ensure_error(dopy_call *c, const char *what)
{
	if (c->err == NULL && c->stub != NULL)
		dopy_stub_in_error(c);
	/* It stopped as asked, returning the cancel code. */
	if (c->err == NULL && dopy_call_stopped(c))
		dopy_call_raise_cancelled(c);
	if (c->err == NULL)
		fail(c, "dopy.InternalError", "%s.%s: %s failed without "
		    "raising an error", c->obj->def->name, mname(c), what);
}

static void
check_result(dopy_call *c)
{
	const dopy_type *want = c->obj->results[c->midx];

	if (dopy_call_streams(c)) {	/* its results went out as items */
		dopy_stream_result(c);
		return;
	}
	if (c->stub != NULL && dopy_stub_result(c) != 1)
		return;
	if (want == NULL && c->result != NULL)
		dopy_call_drop_result(c);	/* nothing was promised */
	else if (want != NULL && c->result == NULL)
		fail(c, "dopy.ResultError", "%s.%s: returned no %s",
		    c->obj->def->name, mname(c), want->name);
	else if (want != NULL && want->kind != DOPY_ANY &&
	    !dopy_type_equal(want, c->result->type))
		fail(c, "dopy.ResultError", "%s.%s: returned %s, declared %s",
		    c->obj->def->name, mname(c), c->result->type->name,
		    want->name);
}

static void
run(dopy_server *s, dopy_call *c)
{
	const struct dopy_object_def *d = c->obj->def;
	dopy_error *keep;

	if (d->before != NULL && d->before(c) < 0) {
		ensure_error(c, "before-call hook");
		return;
	}
	if (d->methods[c->midx].fn(c) < 0)
		ensure_error(c, "method");
	else
		check_result(c);
	if (d->after == NULL)
		return;
	/* The reply is settled: an after-call error is logged only. */
	keep = c->err;
	c->err = NULL;
	if (d->after(c) < 0)
		dopy_log(&s->log, LOG_WARNING, "%s.%s: after-call hook: %s",
		    d->name, mname(c), c->err != NULL ?
		    dopy_error_message(c->err) : "failed");
	dopy_error_free(c->err);
	c->err = keep;
}

/* A method the server declared oneway: the caller's answer goes out now,
 * once the arguments are known good, and the method runs after. */
static void
answer_early(dopy_call *c)
{
	const struct dopy_object *o = c->obj;

	if (c->sess == NULL || c->id == 0 || o->oneway == NULL ||
	    c->midx >= o->noneway || !o->oneway[c->midx])
		return;
	if (dopy_session_answer_early(c->sess, c->id) == 0)
		c->answered = 1;
}

void
dopy_dispatch_object(dopy_server *s, const struct dopy_object *o,
    struct dopy_callmsg *m, dopy_call *c)
{
	/* The upload check is a call only when one is involved. */
	if (dopy_find_method(c, o, m->method) < 0 ||
	    dopy_stream_check(c) < 0 || ((c->sig->up.type != NULL ||
	    m->upload) && dopy_upload_check(c) < 0))
		return;
	if (o->stub != NULL ? dopy_stub_bind(c, m) == 0 :
	    bind_args(c, m) == 0 && check_refs(c) == 0) {
		answer_early(c);
		if (dopy_isolate(c))
			run(s, c);
	}
}

/* "pos/a/b": the object before the first '/', if it routes keys. */
static const struct dopy_object *
route_of(dopy_server *s, const char *key)
{
	const struct dopy_object *o;
	const char *slash = strchr(key, '/');
	char prefix[64];

	if (slash == NULL || (size_t)(slash - key) >= sizeof(prefix))
		return NULL;
	memcpy(prefix, key, (size_t)(slash - key));
	prefix[slash - key] = '\0';
	o = dopy_server_find(s, prefix);
	return o != NULL && o->route != NULL ? o : NULL;
}

const struct dopy_object *
dopy_object_lookup_in(dopy_server *s, struct dopy_session *sess,
    const char *key)
{
	const struct dopy_object *o;

	if (key[0] == '@')
		return dopy_refs_lookup(sess, key);
	if ((o = dopy_server_find(s, key)) != NULL)
		return o;
	if ((o = route_of(s, key)) == NULL || o->resolve == NULL)
		return NULL;
	return o->resolve(s, o, strchr(key, '/') + 1);
}

void
dopy_dispatch(dopy_server *s, struct dopy_callmsg *m, dopy_call *c)
{
	dopy_dispatch_in(s, NULL, m, c);
}

/* The last line of an error's trace: the call as the client named it. */
static void
add_where(dopy_call *c)
{
	char line[600];

	snprintf(line, sizeof(line), "in %s.%s on host %s pid %ld",
	    c->msg->object, c->msg->method, c->srv->host, c->srv->pid);
	dopy_error_add_trace(c->err, line);
}

void
dopy_dispatch_in(dopy_server *s, struct dopy_session *sess,
    struct dopy_callmsg *m, dopy_call *c)
{
	const struct dopy_object *o;
	/* serve.c sets the frame id first (PROGRESS needs it); other
	 * callers may pass a call not yet initialised. */
	uint32_t id = sess != NULL ? c->id : 0;

	call_init(c);
	c->srv = s;
	c->sess = sess;
	c->msg = m;
	c->id = id;
	if (m->object[0] == '@') {
		if ((o = dopy_refs_lookup(sess, m->object)) != NULL)
			dopy_dispatch_object(s, o, m, c);
		else
			fail(c, "dopy.UnknownObject", "no reference %s on this "
			    "connection (released, reaped, or from another "
			    "connection)", m->object);
	} else if ((o = dopy_server_find(s, m->object)) != NULL)
		dopy_dispatch_object(s, o, m, c);
	else if ((o = route_of(s, m->object)) != NULL)
		o->route(s, o, m, c, strchr(m->object, '/') + 1);
	else
		fail(c, "dopy.UnknownObject", "no object '%s'", m->object);
	if (c->err == NULL)
		return;
	dopy_call_drop_result(c);
	add_where(c);
}

void
dopy_call_fail_late(dopy_call *c, const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vraise(c, name, fmt, ap);
	va_end(ap);
	if (c->err != NULL)
		add_where(c);
}

/* Whether v is one of c's own argument slots (bind_one). */
static int
arg_inline(const dopy_call *c, const dopy_value *v)
{
	return dopy_points_into(v, c->argin, sizeof(c->argin));
}

void
dopy_call_drop_args(dopy_call *c)
{
	size_t i;

	/* bind_args fills argv only below the signature's length. */
	for (i = 0; c->sig != NULL && i < c->sig->n; i++) {
		if (!arg_inline(c, c->argv[i]))
			dopy_value_free(c->argv[i]);
		c->argv[i] = NULL;
	}
}

void
dopy_call_release(dopy_call *c)
{
	dopy_stub_release(c);
	dopy_call_drop_args(c);
	dopy_call_drop_result(c);
	dopy_value_free(c->pstate);
	dopy_error_free(c->err);
	call_init(c);
}

/* ---- inside a method ---- */

void *
dopy_call_state(dopy_call *c)
{
	return c->obj != NULL ? c->obj->state : NULL;
}

const char *
dopy_call_object(dopy_call *c)
{
	return c->obj != NULL ? c->obj->def->name : "";
}

const char *
dopy_call_method(dopy_call *c)
{
	return c->obj != NULL ? mname(c) : "";
}

size_t
dopy_call_argc(dopy_call *c)
{
	return c->sig != NULL ? c->sig->n : 0;
}

const dopy_value *
dopy_call_arg(dopy_call *c, size_t i)
{
	/* Not through dopy_call_argc: every argument a method reads comes
	 * here, and -fPIC code does not inline an exported function. */
	return c->sig != NULL && i < c->sig->n ? c->argv[i] : NULL;
}

dopy_value *
dopy_call_take_arg(dopy_call *c, size_t i)
{
	dopy_value *v;

	if (i >= dopy_call_argc(c))
		return NULL;
	v = c->argv[i];
	c->argv[i] = NULL;
	/* The caller owns what it takes: a slot's value moves to the heap. */
	return arg_inline(c, v) ? dopy_value_copy(v) : v;
}

int64_t
dopy_call_int(dopy_call *c, size_t i)
{
	return dopy_value_get_int(dopy_call_arg(c, i));
}

uint64_t
dopy_call_uint(dopy_call *c, size_t i)
{
	return dopy_value_get_uint(dopy_call_arg(c, i));
}

double
dopy_call_double(dopy_call *c, size_t i)
{
	return dopy_value_get_double(dopy_call_arg(c, i));
}

int
dopy_call_bool(dopy_call *c, size_t i)
{
	return dopy_value_get_bool(dopy_call_arg(c, i));
}

const char *
dopy_call_string(dopy_call *c, size_t i)
{
	return dopy_value_get_string(dopy_call_arg(c, i));
}

const void *
dopy_call_bytes(dopy_call *c, size_t i, size_t *len)
{
	return dopy_value_get_bytes(dopy_call_arg(c, i), len);
}

int
dopy_call_return(dopy_call *c, dopy_value *v)
{
	/* NULL from a maker that raised why (dopy_call_new_ref) keeps
	 * that error; any other NULL is a failed allocation. */
	if (v == NULL && c->err != NULL)
		return DOPY_E_REMOTE;
	if (v == NULL)
		return fail(c, "dopy.InternalError", "out of memory");
	dopy_call_drop_result(c);
	c->result = v;
	return 0;
}

void
dopy_call_drop_result(dopy_call *c)
{
	if (c->result != &c->resin)
		dopy_value_free(c->result);
	c->result = NULL;
}

/* A scalar result in the call's own slot: no value to malloc and free. */
static dopy_value *
result_slot(dopy_call *c, dopy_type *t)
{
	dopy_call_drop_result(c);
	c->resin.type = t;		/* built in: never counted */
	return c->result = &c->resin;
}

int
dopy_return_int(dopy_call *c, int64_t i)
{
	result_slot(c, &dopy_type_int_)->u.i = i;
	return 0;
}

int
dopy_return_uint(dopy_call *c, uint64_t u)
{
	result_slot(c, &dopy_type_uint_)->u.u = u;
	return 0;
}

int
dopy_return_double(dopy_call *c, double d)
{
	result_slot(c, &dopy_type_double_)->u.d = d;
	return 0;
}

int
dopy_return_bool(dopy_call *c, int b)
{
	result_slot(c, &dopy_type_bool_)->u.b = b != 0;
	return 0;
}

int
dopy_return_string(dopy_call *c, const char *s)
{
	return dopy_call_return(c, dopy_value_string(s));
}

int
dopy_return_bytes(dopy_call *c, const void *p, size_t len)
{
	return dopy_call_return(c, dopy_value_bytes(p, len));
}

dopy_value *
dopy_call_pstate(dopy_call *c)
{
	return c->pstate;
}

int
dopy_call_set_pstate(dopy_call *c, dopy_value *v)
{
	if (v == NULL || c->pstate == NULL ||
	    !dopy_type_equal(v->type, c->pstate->type)) {
		dopy_value_free(v);
		return fail(c, "dopy.TypeError", "%s.%s: new state is not a %s",
		    dopy_call_object(c), dopy_call_method(c), c->pstate ?
		    c->pstate->type->name : "persistent object's state");
	}
	dopy_value_free(c->pstate);
	c->pstate = v;
	return 0;
}

const char *
dopy_call_path(dopy_call *c)
{
	return c->path != NULL ? c->path : "";
}
