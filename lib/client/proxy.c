/*
 * proxy.c - proxies, argument lists, encoding a call, and the
 * synchronous call: an asynchronous one (future.c) waited for at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"

dopy_proxy *
dopy_proxy_new(dopy_conn *c, const char *object)
{
	dopy_proxy *p;

	if (c == NULL || object == NULL || (p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->conn = c;
	if ((p->object = strdup(object)) == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

void
dopy_proxy_free(dopy_proxy *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->noneway; i++)
		free(p->oneway[i]);
	free(p->oneway);
	free(p->object);
	if (p->owns_conn)
		dopy_conn_close(p->conn);
	free(p);
}

int
dopy_proxy_oneway_index(const dopy_proxy *p, const char *method)
{
	size_t i;

	for (i = 0; i < p->noneway; i++)
		if (strcmp(p->oneway[i], method) == 0)
			return (int)i;
	return -1;
}

int
dopy_proxy_set_oneway(dopy_proxy *p, const char *method, int on)
{
	char **nv, *m;
	int i;

	if (p == NULL || method == NULL)
		return DOPY_E_INVAL;
	if ((i = dopy_proxy_oneway_index(p, method)) >= 0 && !on) {
		free(p->oneway[i]);
		p->oneway[i] = p->oneway[--p->noneway];
	} else if (i < 0 && on) {
		nv = reallocarray(p->oneway, p->noneway + 1, sizeof(*nv));
		if (nv == NULL || (m = strdup(method)) == NULL) {
			if (nv != NULL)
				p->oneway = nv;
			return DOPY_E_NOMEM;
		}
		p->oneway = nv;
		p->oneway[p->noneway++] = m;
	}
	return 0;
}

/* The name of every positional argument: most calls have only those, and
 * need no copy of "" per argument. */
static char positional[] = "";

dopy_args *
dopy_args_new(void)
{
	dopy_args *a;

	if ((a = malloc(sizeof(*a))) == NULL)
		return NULL;
	a->n = 0;
	a->cap = DOPY_ARGS_INLINE;
	a->names = a->names_in;
	a->v = a->v_in;
	return a;
}

/* Room for one more argument: the inline slots, then the heap. */
static int
args_grow(dopy_args *a)
{
	char **nn;
	dopy_value **nv;
	size_t cap = a->cap * 2 > DOPY_MAX_ARGS ? DOPY_MAX_ARGS : a->cap * 2;

	if (a->n < a->cap)
		return 0;
	if (a->n == DOPY_MAX_ARGS)
		return DOPY_E_INVAL;
	if ((nn = malloc(cap * sizeof(*nn))) == NULL)
		return DOPY_E_NOMEM;
	if ((nv = malloc(cap * sizeof(*nv))) == NULL) {
		free(nn);
		return DOPY_E_NOMEM;
	}
	memcpy(nn, a->names, a->n * sizeof(*nn));
	memcpy(nv, a->v, a->n * sizeof(*nv));
	if (a->names != a->names_in) {
		free(a->names);
		free(a->v);
	}
	a->names = nn;
	a->v = nv;
	a->cap = cap;
	return 0;
}

/* v, unless it is one of a's own scalar slots (scalar_slot). */
static void
arg_value_free(dopy_args *a, dopy_value *v)
{
	if (!dopy_points_into(v, a->val_in, sizeof(a->val_in)))
		dopy_value_free(v);
}

void
dopy_args_free(dopy_args *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->n; i++) {
		if (a->names[i] != positional)
			free(a->names[i]);
		arg_value_free(a, a->v[i]);
	}
	if (a->names != a->names_in) {
		free(a->names);
		free(a->v);
	}
	free(a);
}

int
dopy_args_add(dopy_args *a, const char *name, dopy_value *v)
{
	char *n;
	int r;

	if (a == NULL || v == NULL ||
	    (name == NULL && a->n > 0 && a->names[a->n - 1][0] != '\0')) {
		if (a != NULL)
			arg_value_free(a, v);
		else
			dopy_value_free(v);
		return v == NULL ? DOPY_E_NOMEM : DOPY_E_INVAL;
	}
	if ((r = args_grow(a)) < 0) {
		arg_value_free(a, v);
		return r;
	}
	if (name == NULL)
		n = positional;
	else if ((n = strdup(name)) == NULL) {
		arg_value_free(a, v);
		return DOPY_E_NOMEM;
	}
	a->names[a->n] = n;
	a->v[a->n++] = v;
	return 0;
}

/*
 * A scalar argument's value: in the args' own slot for its position
 * while there is one (a malloc and a free fewer per argument of a small
 * call), else made as dopy_value_new would.  NULL: out of memory.
 */
static dopy_value *
scalar_slot(dopy_args *a, dopy_type *t)
{
	dopy_value *v;

	if (a == NULL || a->n >= DOPY_ARGS_INLINE)
		return dopy_value_new(t);
	v = &a->val_in[a->n];
	v->type = t;		/* a built-in type: never counted, never freed */
	return v;
}

int
dopy_args_int(dopy_args *a, const char *name, int64_t i)
{
	dopy_value *v = scalar_slot(a, &dopy_type_int_);

	if (v != NULL)
		v->u.i = i;
	return dopy_args_add(a, name, v);
}

int
dopy_args_uint(dopy_args *a, const char *name, uint64_t u)
{
	dopy_value *v = scalar_slot(a, &dopy_type_uint_);

	if (v != NULL)
		v->u.u = u;
	return dopy_args_add(a, name, v);
}

int
dopy_args_double(dopy_args *a, const char *name, double d)
{
	dopy_value *v = scalar_slot(a, &dopy_type_double_);

	if (v != NULL)
		v->u.d = d;
	return dopy_args_add(a, name, v);
}

int
dopy_args_bool(dopy_args *a, const char *name, int b)
{
	dopy_value *v = scalar_slot(a, &dopy_type_bool_);

	if (v != NULL)
		v->u.b = b != 0;
	return dopy_args_add(a, name, v);
}

int
dopy_args_string(dopy_args *a, const char *name, const char *s)
{
	return dopy_args_add(a, name, dopy_value_string(s));
}

int
dopy_args_bytes(dopy_args *a, const char *name, const void *p, size_t len)
{
	return dopy_args_add(a, name, dopy_value_bytes(p, len));
}

int
dopy_args_bytes_ref(dopy_args *a, const char *name, const void *p,
    size_t len)
{
	return dopy_args_add(a, name, dopy_value_borrow_bytes(p, len));
}

/* A call's payload from argument values: names and images. */
int
dopy_args_encode(struct dopy_buf *b, const char *object, const char *method,
    const void *arg)
{
	const dopy_args *a = arg;
	size_t i, n = a != NULL ? a->n : 0;
	int r;

	r = dopy_msg_call_put(b, object, method,
	    n ? (const char *const *)a->names : NULL, n);
	for (i = 0; r == 0 && i < n; i++)
		r = dopy_encode(a->v[i], b);
	return r;
}

/* The whole frame of one call, header included, appended to b; enc
 * writes its payload. */
int
dopy_put_call_enc(struct dopy_buf *b, uint8_t type, uint8_t flags,
    uint32_t id, const char *object, const char *method, dopy_callenc_fn enc,
    const void *arg, uint32_t max_frame, dopy_error **ep)
{
	size_t start = b->len, len;
	int r;

	if (dopy_buf_reserve(b, DOPY_HDR_LEN) == NULL)
		return dopy_error_set(ep, DOPY_E_NOMEM, "out of memory");
	b->len += DOPY_HDR_LEN;
	r = enc(b, object, method, arg);
	len = dopy_buf_size(b, start) - DOPY_HDR_LEN;
	if (r == 0 && len > max_frame)
		r = DOPY_E_TOOBIG;
	if (r < 0) {
		dopy_buf_truncate(b, start);
		if (r == DOPY_E_TOOBIG)
			return dopy_error_set(ep, r, "the call of %s.%s is %zu "
			    "bytes, more than the maximum frame of %u", object,
			    method, len, max_frame);
		return dopy_error_set(ep, r, "cannot encode the call of "
		    "%s.%s: %s", object, method, dopy_strerror(r));
	}
	dopy_frame_encode(b->data + start, type, id, (uint32_t)len);
	if (flags != 0)
		dopy_frame_set_flags(b->data + start, flags);
	return 0;
}

int
dopy_put_call(struct dopy_buf *b, uint8_t type, uint32_t id,
    const char *object, const char *method, const dopy_args *a,
    uint32_t max_frame, dopy_error **ep)
{
	return dopy_put_call_enc(b, type, 0, id, object, method,
	    dopy_args_encode, a, max_frame, ep);
}

void
dopy_conn_set_timeout(dopy_conn *c, int ms)
{
	if (c != NULL)
		c->timeout_ms = ms > 0 ? ms : 0;
}

void
dopy_proxy_set_timeout(dopy_proxy *p, int ms)
{
	if (p != NULL)
		p->timeout_ms = ms > 0 ? ms : 0;
}

void
dopy_conn_set_deadline(dopy_conn *c, int ms)
{
	if (c != NULL)
		c->deadline_ms = ms > 0 ? ms : 0;
}

void
dopy_proxy_set_deadline(dopy_proxy *p, int ms)
{
	if (p != NULL)
		p->deadline_ms = ms > 0 ? ms : 0;
}

/*
 * Encode and write one call frame of p's; the error says which call.
 * On an early connection the first call takes our queued HELLO along
 * in the same write; one too big to go out before the server's HELLO
 * says how big may waits for it (conn.c).
 */
int
dopy_send_enc(dopy_proxy *p, uint8_t type, uint8_t flags, uint32_t id,
    const char *method, dopy_callenc_fn enc, const void *arg,
    dopy_error **ep)
{
	dopy_conn *c = p->conn;
	uint32_t max;
	int r, state, syserr;

	pthread_mutex_lock(&c->wlock);
	pthread_mutex_lock(&c->lock);
	state = c->hello_state;
	max = dopy_conn_send_max(c);
	r = c->hello_err != NULL ? dopy_conn_hello_error(c, ep) : 0;
	pthread_mutex_unlock(&c->lock);
	if (r < 0) {
		pthread_mutex_unlock(&c->wlock);
		return r;
	}
	dopy_buf_reset(&c->chan.wbuf);
	/* Large arguments go out from the caller's values (writev). */
	dopy_buf_allow_refs(&c->chan.wbuf);
	if (state == DOPY_HELLO_QUEUED && dopy_buf_put(&c->chan.wbuf,
	    c->hello_out.data, c->hello_out.len) < 0)
		r = dopy_error_set(ep, DOPY_E_NOMEM, "out of memory");
	if (r == 0)
		r = dopy_put_call_enc(&c->chan.wbuf, type, flags, id,
		    p->object, method, enc, arg, max, ep);
	if (r == DOPY_E_TOOBIG && state != DOPY_HELLO_DONE) {
		pthread_mutex_unlock(&c->wlock);
		if (ep != NULL) {
			dopy_error_free(*ep);
			*ep = NULL;
		}
		if ((r = dopy_conn_settle(c, ep)) < 0)
			return r;
		return dopy_send_enc(p, type, flags, id, method, enc, arg,
		    ep);
	}
	if (r == 0) {
		r = dopy_chan_flush(&c->chan);
		syserr = errno;
		if (state == DOPY_HELLO_QUEUED)
			r = dopy_conn_hello_sent(c, r, ep);
		else if (r < 0)	/* the kind goes in front (dopy_error_format) */
			r = dopy_error_set(ep, r, "cannot send the call of "
			    "%s.%s%s%s", p->object, method,
			    r == DOPY_E_CLOSED || r == DOPY_E_SYS ? ": " : "",
			    r == DOPY_E_CLOSED ? "the server has gone" :
			    r == DOPY_E_SYS ? strerror(syserr) : "");
	}
	pthread_mutex_unlock(&c->wlock);
	return r;
}

int
dopy_send_call(dopy_proxy *p, uint8_t type, uint32_t id, const char *method,
    const dopy_args *args, dopy_error **ep)
{
	return dopy_send_enc(p, type, 0, id, method, dopy_args_encode, args,
	    ep);
}

/* A oneway call: registered nowhere, answered never. */
int
dopy_call_oneway_enc(dopy_proxy *p, const char *method, dopy_callenc_fn enc,
    const void *arg, dopy_error **ep)
{
	uint32_t id;
	int r;

	if ((r = dopy_conn_claim_id(p, &id, ep)) < 0 ||
	    (r = dopy_send_enc(p, DOPY_F_ONEWAY, 0, id, method, enc, arg,
	    ep)) < 0)
		return r;
	/* Until an answer shows the server past it, closing must not wait
	 * for it (conn.c). */
	pthread_mutex_lock(&p->conn->lock);
	p->conn->oneway_busy = 1;
	pthread_mutex_unlock(&p->conn->lock);
	return 0;
}

int
dopy_proxy_call(dopy_proxy *p, const char *method, const dopy_args *args,
    dopy_value **result, dopy_error **ep)
{
	dopy_value *unwanted = NULL;
	dopy_future *f;
	int r;

	if (result != NULL)
		*result = NULL;
	if (p == NULL || method == NULL)
		return dopy_error_set(ep, DOPY_E_INVAL, "NULL argument");
	if (dopy_proxy_oneway_index(p, method) >= 0 && p->conn->sess == NULL)
		return dopy_call_oneway_enc(p, method, dopy_args_encode, args,
		    ep);
	/* A result nobody wants is taken and freed here. */
	if (p->conn->sess != NULL)	/* a server calling its client back */
		r = dopy_session_callback(p->conn->sess, p->object, method,
		    args, result != NULL ? result : &unwanted, ep);
	else if ((r = dopy_proxy_call_async(p, method, args, NULL, NULL, &f,
	    ep)) == 0) {
		r = dopy_future_wait(f, result != NULL ? result : &unwanted,
		    ep);
		dopy_future_free(f);
	}
	dopy_value_free(unwanted);
	return r;
}

dopy_proxy *
dopy_proxy_ref(dopy_conn *c, const dopy_value *ref)
{
	char key[16];
	dopy_proxy *p;
	uint32_t id;

	if (c == NULL || c->sess != NULL || (id = dopy_value_get_ref(ref)) == 0)
		return NULL;
	snprintf(key, sizeof(key), "@%u", id);
	if ((p = dopy_proxy_new(c, key)) != NULL) {
		pthread_mutex_lock(&c->lock);
		p->gen = c->gen;
		pthread_mutex_unlock(&c->lock);
	}
	return p;
}

int
dopy_ref_release(dopy_conn *c, const dopy_value *ref, dopy_error **ep)
{
	uint32_t id;

	if (c == NULL || c->sess != NULL || (id = dopy_value_get_ref(ref)) == 0)
		return dopy_error_set(ep, DOPY_E_INVAL, "not a reference, or "
		    "not a client's connection");
	return dopy_conn_send_frame(c, DOPY_F_RELEASE, id, ep);
}

int
dopy_proxy_release(dopy_proxy *p)
{
	return p != NULL ? dopy_conn_release(p->conn) : DOPY_E_INVAL;
}

/* ---- introspection through the built-in "dopy" object ---- */

static int
introspect(dopy_conn *c, const char *method, const char *object,
    const char *want, dopy_value **out, dopy_error **ep)
{
	dopy_proxy p = { .conn = c, .object = "dopy" };
	char *names[1] = { "" };
	dopy_value *v[1] = { NULL };
	dopy_args a = { .names = names, .v = v };
	int r;

	if (object != NULL) {
		a.n = 1;
		a.names[0] = "";
		if ((a.v[0] = dopy_value_string(object)) == NULL)
			return dopy_error_set(ep, DOPY_E_NOMEM, "no memory");
	}
	r = dopy_proxy_call(&p, method, &a, out, ep);
	dopy_value_free(a.v[0]);
	/* A server that answers in another shape is not a dopy server we
	 * can describe: say so rather than hand back a surprise. */
	if (r == 0 && (*out == NULL ||
	    strcmp(dopy_type_name(dopy_value_type(*out)), want) != 0)) {
		r = dopy_error_set(ep, DOPY_E_PROTO, "dopy.%s answered %s, not "
		    "%s", method, *out ? dopy_type_name(dopy_value_type(*out)) :
		    "nothing", want);
		dopy_value_free(*out);
		*out = NULL;
	}
	return r;
}

int
dopy_list_objects(dopy_conn *c, dopy_value **names, dopy_error **ep)
{
	return introspect(c, "objects", NULL, "string[]", names, ep);
}

int
dopy_describe(dopy_conn *c, const char *object, dopy_value **methods,
    dopy_error **ep)
{
	return introspect(c, "describe", object,
	    "(string,string,string,string)[]", methods, ep);
}

int
dopy_interface(dopy_conn *c, const char *object, char **text,
    dopy_error **ep)
{
	dopy_value *v = NULL;
	int r;

	*text = NULL;
	if (object == NULL)
		return dopy_error_set(ep, DOPY_E_INVAL, "NULL object");
	if ((r = introspect(c, "interface", object, "string", &v, ep)) < 0)
		return r;
	if ((*text = strdup(dopy_value_get_string(v))) == NULL)
		r = dopy_error_set(ep, DOPY_E_NOMEM, "out of memory");
	dopy_value_free(v);
	return r;
}
