/*
 * proxy.c - proxies, argument lists and the synchronous call.
 *
 * A call sends one CALL frame and reads frames until the REPLY or ERROR
 * with its id.  Anything that breaks the framing marks the connection
 * broken: later calls fail at once instead of reading garbage.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

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
	free(p);
}

static int
oneway_index(const dopy_proxy *p, const char *method)
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
	if ((i = oneway_index(p, method)) >= 0 && !on) {
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

dopy_args *
dopy_args_new(void)
{
	return calloc(1, sizeof(dopy_args));
}

void
dopy_args_free(dopy_args *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->n; i++) {
		free(a->names[i]);
		dopy_value_free(a->v[i]);
	}
	free(a);
}

int
dopy_args_add(dopy_args *a, const char *name, dopy_value *v)
{
	char *n;

	if (a == NULL || v == NULL || a->n == DOPY_MAX_ARGS ||
	    (name == NULL && a->n > 0 && a->names[a->n - 1][0] != '\0')) {
		dopy_value_free(v);
		return v == NULL ? DOPY_E_NOMEM : DOPY_E_INVAL;
	}
	if ((n = strdup(name != NULL ? name : "")) == NULL) {
		dopy_value_free(v);
		return DOPY_E_NOMEM;
	}
	a->names[a->n] = n;
	a->v[a->n++] = v;
	return 0;
}

int
dopy_args_int(dopy_args *a, const char *name, int64_t i)
{
	return dopy_args_add(a, name, dopy_value_int(i));
}

int
dopy_args_uint(dopy_args *a, const char *name, uint64_t u)
{
	return dopy_args_add(a, name, dopy_value_uint(u));
}

int
dopy_args_double(dopy_args *a, const char *name, double d)
{
	return dopy_args_add(a, name, dopy_value_double(d));
}

int
dopy_args_bool(dopy_args *a, const char *name, int b)
{
	return dopy_args_add(a, name, dopy_value_bool(b));
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

static int
send_call(dopy_proxy *p, const char *method, const dopy_args *a,
    uint32_t id, uint8_t type, dopy_error **ep)
{
	struct dopy_chan *ch = &p->conn->chan;
	size_t i, n = a != NULL ? a->n : 0;
	int r;

	dopy_chan_begin(ch);
	r = dopy_msg_call_put(&ch->wbuf, p->object, method,
	    n ? (const char *const *)a->names : NULL, n);
	for (i = 0; r == 0 && i < n; i++)
		r = dopy_encode(a->v[i], &ch->wbuf);
	if (r < 0)
		return dopy_error_set(ep, r, "cannot encode the call of "
		    "%s.%s: %s", p->object, method, dopy_strerror(r));
	if ((r = dopy_chan_send(ch, type, id)) == DOPY_E_TOOBIG)
		return dopy_error_set(ep, r, "the call of %s.%s is %zu bytes,"
		    " more than the maximum frame of %u", p->object, method,
		    ch->wbuf.len - DOPY_HDR_LEN, ch->max_frame);
	if (r < 0) {
		p->conn->broken = 1;
		return dopy_error_set(ep, r, "cannot send the call of %s.%s: "
		    "%s", p->object, method, r == DOPY_E_CLOSED ?
		    "the server has gone" : dopy_strerror(r));
	}
	return 0;
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

static int
read_reply(dopy_proxy *p, const char *method, uint32_t id,
    struct dopy_frame *f, dopy_error **ep)
{
	int r, ms = p->timeout_ms > 0 ? p->timeout_ms : p->conn->timeout_ms;

	dopy_chan_deadline(&p->conn->chan, ms);
	r = dopy_chan_read(&p->conn->chan, f);
	dopy_chan_deadline(&p->conn->chan, 0);
	if (r < 0) {
		p->conn->broken = 1;
		if (r == DOPY_E_TIMEOUT)
			return dopy_error_set(ep, r, "no reply to %s.%s within "
			    "%d ms; whether it ran is unknown", p->object,
			    method, ms);
		if (r == DOPY_E_CLOSED)
			return dopy_error_set(ep, r, "connection closed by "
			    "the server during %s.%s", p->object, method);
		return dopy_error_set(ep, r, "bad frame from the server "
		    "during %s.%s: %s", p->object, method, dopy_strerror(r));
	}
	/* id 0 is the server's word about the whole connection. */
	if (f->id != id && !(f->id == 0 && f->type == DOPY_F_ERROR)) {
		p->conn->broken = 1;
		return dopy_error_set(ep, DOPY_E_PROTO, "server answered call"
		    " %u with id %u", id, f->id);
	}
	if (f->id == 0)
		p->conn->broken = 1;
	return 0;
}

static int
take_result(dopy_proxy *p, const char *method, const struct dopy_frame *f,
    dopy_value **result, dopy_error **ep)
{
	struct dopy_image img[2];
	char err[200];
	size_t n;
	int r;

	if (f->len == 0)
		return 0;		/* a method without a result */
	if ((r = dopy_images_split(f->payload, f->len, img, 2, &n, err,
	    sizeof(err))) < 0 || n != 1 ||
	    (r = dopy_decode(&img[0], NULL, result, err, sizeof(err))) < 0)
		return dopy_error_set(ep, DOPY_E_PROTO, "malformed REPLY to "
		    "%s.%s: %s", p->object, method, r < 0 ? err :
		    "more than one value");
	return 0;
}

int
dopy_proxy_call(dopy_proxy *p, const char *method, const dopy_args *args,
    dopy_value **result, dopy_error **ep)
{
	struct dopy_frame f;
	dopy_error *e;
	uint32_t id;
	int r;

	if (result != NULL)
		*result = NULL;
	if (p == NULL || method == NULL || result == NULL)
		return dopy_error_set(ep, DOPY_E_INVAL, "NULL argument");
	if (p->conn->broken)
		return dopy_error_set(ep, DOPY_E_CLOSED, "connection unusable"
		    " after an earlier failure");
	if ((id = p->conn->next_id++) == 0)
		id = p->conn->next_id++;
	if (oneway_index(p, method) >= 0)
		return send_call(p, method, args, id, DOPY_F_ONEWAY, ep);
	if ((r = send_call(p, method, args, id, DOPY_F_CALL, ep)) < 0 ||
	    (r = read_reply(p, method, id, &f, ep)) < 0)
		return r;
	if (f.type == DOPY_F_REPLY)
		return take_result(p, method, &f, result, ep);
	if (f.type != DOPY_F_ERROR) {
		p->conn->broken = 1;
		return dopy_error_set(ep, DOPY_E_PROTO, "server answered a "
		    "CALL with %s", dopy_frame_type_name(f.type));
	}
	if ((r = dopy_msg_error_get(f.payload, f.len, &e)) == 0)
		r = e->code;
	if (ep != NULL) {
		dopy_error_free(*ep);
		*ep = e;
	} else
		dopy_error_free(e);
	return r;
}

/* ---- introspection through the built-in "dopy" object ---- */

static int
introspect(dopy_conn *c, const char *method, const char *object,
    const char *want, dopy_value **out, dopy_error **ep)
{
	dopy_proxy p = { .conn = c, .object = "dopy" };
	dopy_args a = { 0 };
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
