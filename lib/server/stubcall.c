/*
 * stubcall.c - calls of generated objects (dopy-idl(1)): arguments bound
 * as images, not values, and read by the method with dopy_call_in(); the
 * result written with dopy_call_out() as the image the REPLY carries.
 *
 * Binding is dispatch.c's, checks and errors included (positional and
 * named arguments, defaults, formats, live refs), so a client cannot
 * tell a generated object from a hand-written one.  What differs: an
 * argument's data is checked as the method reads it (stubio.c makes
 * codec.c's checks), and an argument is decoded here only when it may
 * hold a ref to check (its type has one, or is any).
 *
 * The images are copied out of the frame into the call's buffer: a
 * method that calls its client back reads further frames over it.  A
 * session keeps one such call per nesting depth, so a call costs no
 * malloc once the connection has made one.
 */
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

void
dopy_stubobj_free(struct dopy_stubobj *so, size_t nmethods)
{
	size_t i;

	if (so == NULL)
		return;
	for (i = 0; so->defs != NULL && i < nmethods; i++)
		free(so->defs[i]);
	for (i = 0; so->blocks != NULL && i < nmethods; i++)
		dopy_buf_release(&so->blocks[i]);
	free(so->defs);
	free(so->blocks);
	free(so->text);
	free(so);
}

/* The defaults of a method's parameters as images, in block b. */
static struct dopy_image *
default_images(const struct dopy_sig *sig, struct dopy_buf *b)
{
	struct dopy_image *img;
	size_t k, at[DOPY_MAX_ARGS];

	if ((img = calloc(sig->n + 1, sizeof(*img))) == NULL)
		return NULL;
	for (k = 0; k < sig->n; k++) {
		at[k] = b->len;
		if (sig->p[k].def != NULL && dopy_encode(sig->p[k].def, b) < 0) {
			free(img);
			return NULL;
		}
	}
	for (k = 0; k < sig->n; k++)
		if (sig->p[k].def != NULL) {
			img[k].p = b->data + at[k];
			img[k].len = (k + 1 < sig->n ? at[k + 1] : b->len) -
			    at[k];
			img[k].fmt = (const char *)img[k].p + 8;
		}
	return img;
}

static struct dopy_stubobj *
stubobj_new(const struct dopy_object *o, const char *text)
{
	struct dopy_stubobj *so;
	size_t i;

	if ((so = calloc(1, sizeof(*so))) == NULL)
		return NULL;
	if ((so->defs = calloc(o->nmethods + 1, sizeof(*so->defs))) == NULL ||
	    (so->blocks = calloc(o->nmethods + 1, sizeof(*so->blocks))) ==
	    NULL || (text != NULL && (so->text = strdup(text)) == NULL))
		goto fail;
	for (i = 0; i < o->nmethods; i++) {
		dopy_buf_init(&so->blocks[i]);
		if ((so->defs[i] = default_images(o->sigs[i],
		    &so->blocks[i])) == NULL)
			goto fail;
	}
	return so;
fail:
	dopy_stubobj_free(so, o->nmethods);
	return NULL;
}

/* A registered object or pos class by name. */
static struct dopy_object *
find_any(dopy_server *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->npclasses; i++)
		if (strcmp(s->pclasses[i].def->name, name) == 0)
			return &s->pclasses[i].obj;
	return (struct dopy_object *)dopy_server_find(s, name);
}

int
dopy_server_set_stub(dopy_server *s, const char *object,
    const char *interface)
{
	struct dopy_object *o;
	struct dopy_stubobj *so;

	if (s == NULL || object == NULL)
		return DOPY_E_INVAL;
	if ((o = find_any(s, object)) == NULL)
		return dopy_server_fail(s, "no object or class %s", object);
	if ((so = stubobj_new(o, interface)) == NULL)
		return dopy_server_fail(s, "out of memory");
	dopy_stubobj_free(o->stub, o->nmethods);
	o->stub = so;
	return 0;
}

static struct dopy_stubdef *
stubdef_find(dopy_server *s, const struct dopy_object_def *def)
{
	size_t i;

	for (i = 0; i < s->nstubdefs; i++)
		if (s->stubdefs[i].def == def)
			return &s->stubdefs[i];
	return NULL;
}

int
dopy_server_set_stub_def(dopy_server *s, const struct dopy_object_def *def,
    const char *interface)
{
	struct dopy_stubdef *sd, *n;
	char *text = NULL;

	if (s == NULL || def == NULL)
		return DOPY_E_INVAL;
	if (interface != NULL && (text = strdup(interface)) == NULL)
		return dopy_server_fail(s, "out of memory");
	if ((sd = stubdef_find(s, def)) == NULL) {
		n = reallocarray(s->stubdefs, s->nstubdefs + 1, sizeof(*n));
		if (n == NULL) {
			free(text);
			return dopy_server_fail(s, "out of memory");
		}
		s->stubdefs = n;
		sd = &s->stubdefs[s->nstubdefs++];
		sd->def = def;
	} else
		free(sd->text);
	sd->text = text;
	return 0;
}

int
dopy_stub_for_ref(dopy_server *s, struct dopy_object *o)
{
	struct dopy_stubdef *sd = stubdef_find(s, o->def);

	if (sd == NULL)
		return 0;
	o->stub = stubobj_new(o, sd->text);
	return o->stub != NULL ? 0 : DOPY_E_NOMEM;
}

void
dopy_stubdefs_free(dopy_server *s)
{
	size_t i;

	for (i = 0; i < s->nstubdefs; i++)
		free(s->stubdefs[i].text);
	free(s->stubdefs);
}

/* ---- a call ---- */

/* The call's images, reader and writer: the session's for its depth,
 * else (a client's callback object) one of its own. */
static struct dopy_stubcall *
stubcall_get(dopy_call *c)
{
	struct dopy_stubcall **slot = NULL, *sc;
	int d;

	if (c->sess != NULL) {
		d = c->sess->depth;
		if (d < 0 || d > DOPY_MAX_NEST)
			return NULL;
		slot = &c->sess->stubs[d];
		if (*slot != NULL)
			return *slot;
	}
	if ((sc = calloc(1, sizeof(*sc))) == NULL)
		return NULL;
	dopy_buf_init(&sc->args);
	dopy_buf_init(&sc->res);
	if (slot != NULL)
		*slot = sc;
	else
		sc->owned = 1;
	return sc;
}

static void
stubcall_free(struct dopy_stubcall *sc)
{
	if (sc == NULL)
		return;
	dopy_buf_release(&sc->args);
	dopy_buf_release(&sc->res);
	free(sc);
}

void
dopy_stub_session_end(struct dopy_session *sess)
{
	size_t d;

	for (d = 0; d <= DOPY_MAX_NEST; d++) {
		stubcall_free(sess->stubs[d]);
		sess->stubs[d] = NULL;
	}
}

void
dopy_stub_release(dopy_call *c)
{
	if (c->stub != NULL && c->stub->owned)
		stubcall_free(c->stub);
	c->stub = NULL;
}

/* Argument k's image has its parameter's format. */
static int
check_format(dopy_call *c, size_t k, const struct dopy_image *img)
{
	const dopy_type *want = c->sig->p[k].type;
	dopy_type *got;

	if (want->kind == DOPY_ANY || strcmp(img->fmt, want->tpl) == 0)
		return 0;
	got = dopy_type_from_tpl(img->fmt);
	dopy_call_fail(c, "dopy.TypeError", "%s.%s: parameter %s: expected "
	    "%s, got %s", dopy_call_object(c), dopy_call_method(c),
	    c->sig->p[k].name, want->name, got != NULL ? got->name :
	    img->fmt);
	dopy_type_free(got);
	return DOPY_E_REMOTE;
}

/* The arguments that may hold refs, decoded to see that those are
 * live (as check_refs does with values). */
static int
check_refs(dopy_call *c, const struct dopy_image *img)
{
	const dopy_type *t;
	dopy_value *v;
	size_t k;
	int r;

	for (k = 0; k < c->sig->n; k++) {
		t = c->sig->p[k].type;
		if (t->kind != DOPY_ANY && !dopy_type_has_ref(t))
			continue;
		if ((r = dopy_call_decode_arg(c, k, &img[k], &v)) < 0)
			return r;
		r = dopy_call_ref_ok(c, c->sig->p[k].name, v);
		dopy_value_free(v);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Copy the images into the call's buffer (one block, sized first, so
 * the pointers stay put). */
static int
copy_images(struct dopy_stubcall *sc, size_t n)
{
	size_t k, total = 0;
	uint8_t *p;

	for (k = 0; k < n; k++)
		total += sc->img[k].len;
	dopy_buf_reset(&sc->args);
	if (total > 0 && (p = dopy_buf_reserve(&sc->args, total)) == NULL)
		return DOPY_E_NOMEM;
	for (k = 0, p = sc->args.data; k < n; k++) {
		memcpy(p, sc->img[k].p, sc->img[k].len);
		sc->img[k].fmt = (const char *)p + (sc->img[k].fmt -
		    (const char *)sc->img[k].p);
		sc->img[k].p = p;
		sc->img[k].lend = NULL;
		p += sc->img[k].len;
	}
	sc->args.len = total;
	return 0;
}

int
dopy_stub_bind(dopy_call *c, const struct dopy_callmsg *m)
{
	const struct dopy_image *defs = c->obj->stub->defs[c->midx];
	struct dopy_stubcall *sc;
	size_t i, k;
	int r, named = 0;

	if ((sc = stubcall_get(c)) == NULL)
		return dopy_call_fail(c, "dopy.InternalError", "out of memory");
	c->stub = sc;
	for (k = 0; k < c->sig->n; k++)
		sc->img[k].p = NULL;
	for (i = 0; i < m->argc; i++) {
		if ((r = dopy_call_arg_slot(c, m, i, &named, &k)) < 0)
			return r;
		if (sc->img[k].p != NULL)
			return dopy_call_twice(c, k);
		if ((r = check_format(c, k, &m->args[i])) < 0)
			return r;
		sc->img[k] = m->args[i];
	}
	for (k = 0; k < c->sig->n; k++)
		if (sc->img[k].p == NULL && (sc->img[k] = defs[k]).p == NULL)
			return dopy_call_missing(c, k);
	if ((r = check_refs(c, sc->img)) < 0)
		return r;
	/* Without a session the frame is a copy already (clientcb.c). */
	if (c->sess != NULL && copy_images(sc, c->sig->n) < 0)
		return dopy_call_fail(c, "dopy.InternalError", "out of memory");
	dopy_in_init(&sc->in, sc->img, c->sig->n);
	dopy_buf_reset(&sc->res);
	dopy_out_init(&sc->out, &sc->res);
	return 0;
}

void
dopy_stub_in_error(dopy_call *c)
{
	const struct dopy_in *in = &c->stub->in;

	if (in->err != 0 && in->errimg < c->sig->n)
		dopy_call_arg_error(c, in->errimg, in->err, in->msg);
}

int
dopy_stub_result(dopy_call *c)
{
	struct dopy_stubcall *sc = c->stub;
	const dopy_type *want = c->obj->results[c->midx];
	struct dopy_image img[2];
	dopy_type *got;
	char err[200];
	size_t n;

	/* A trampoline that ran its method on arguments it could not
	 * read has a bug; the caller still hears about the argument. */
	dopy_stub_in_error(c);
	if (c->err != NULL)
		return DOPY_E_REMOTE;
	if (sc->out.nimages == 0 && !sc->out.open && sc->out.err == 0)
		return 1;
	dopy_call_drop_result(c);	/* the image is the result */
	if (sc->out.err != 0 || sc->out.open)
		return dopy_call_fail(c, "dopy.InternalError", "%s.%s: cannot "
		    "write the result: %s", dopy_call_object(c),
		    dopy_call_method(c), sc->out.open ? "not ended" :
		    dopy_strerror(sc->out.err));
	if (want == NULL) {		/* nothing was promised */
		dopy_buf_reset(&sc->res);
		return 0;
	}
	if (dopy_images_split(sc->res.data, sc->res.len, img, 2, &n, err,
	    sizeof(err)) < 0 || n != 1)
		return dopy_call_fail(c, "dopy.ResultError", "%s.%s: wrote %zu "
		    "results, declared one %s", dopy_call_object(c),
		    dopy_call_method(c), sc->out.nimages, want->name);
	if (want->kind != DOPY_ANY && strcmp(img[0].fmt, want->tpl) != 0) {
		got = dopy_type_from_tpl(img[0].fmt);
		dopy_call_fail(c, "dopy.ResultError", "%s.%s: returned %s, "
		    "declared %s", dopy_call_object(c), dopy_call_method(c),
		    got != NULL ? got->name : img[0].fmt, want->name);
		dopy_type_free(got);
		return DOPY_E_REMOTE;
	}
	return 0;
}

const struct dopy_buf *
dopy_stub_reply(const dopy_call *c)
{
	if (c->stub == NULL || c->stub->res.len == 0)
		return NULL;
	return &c->stub->res;
}

dopy_in *
dopy_call_in(dopy_call *c)
{
	return c != NULL && c->stub != NULL ? &c->stub->in : NULL;
}

dopy_out *
dopy_call_out(dopy_call *c)
{
	return c != NULL && c->stub != NULL ? &c->stub->out : NULL;
}
