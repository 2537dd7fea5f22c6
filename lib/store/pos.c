/*
 * pos.c - persistence (DOPY's pos and PersistentObject): values and
 * persistent objects in a directory tree that every server process
 * shares through store.c.
 *
 * A file holds two tpl images: the class name ("" for a plain value) and
 * the value or the object's state.  A call to key "pos/PATH" loads the
 * object under its lock, runs the method on the state and saves it
 * atomically before unlocking, so concurrent processes never lose an
 * update: DOPY's "flimsy" use counts become flock(2) and rename(2).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"
#include "store/store.h"

#define PATHLEN	1100

struct pos {
	struct dopy_store	 st;
};

static const struct dopy_pclass_ent *
find_class(dopy_server *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->npclasses; i++)
		if (strcmp(s->pclasses[i].def->name, name) == 0)
			return &s->pclasses[i];
	return NULL;
}

int
dopy_server_add_pclass(dopy_server *s, const struct dopy_pclass *def)
{
	struct dopy_pclass_ent *e, *ne;
	char err[200];

	if (def == NULL || def->name == NULL || def->methods == NULL ||
	    def->state == NULL)
		return DOPY_E_INVAL;
	if (find_class(s, def->name) != NULL) {
		snprintf(s->errmsg, sizeof(s->errmsg), "class %s registered "
		    "twice", def->name);
		return DOPY_E_USAGE;
	}
	ne = reallocarray(s->pclasses, s->npclasses + 1, sizeof(*ne));
	if (ne == NULL)
		return DOPY_E_NOMEM;
	s->pclasses = ne;
	e = &s->pclasses[s->npclasses];
	memset(e, 0, sizeof(*e));
	e->def = def;
	e->odef.name = def->name;
	e->odef.doc = def->doc;
	e->odef.methods = def->methods;
	e->odef.before = def->before;
	e->odef.after = def->after;
	e->obj.def = &e->odef;
	if ((e->state = dopy_type_parse(def->state, err, sizeof(err))) ==
	    NULL || dopy_object_prepare(s, &e->obj) < 0) {
		if (e->state == NULL)
			snprintf(s->errmsg, sizeof(s->errmsg), "class %s: "
			    "state: %s", def->name, err);
		dopy_object_release(&e->obj);
		dopy_type_free(e->state);
		return DOPY_E_USAGE;
	}
	/* odef moved with the array before: repoint every entry. */
	for (size_t i = 0; i <= s->npclasses; i++)
		s->pclasses[i].obj.def = &s->pclasses[i].odef;
	s->npclasses++;
	return 0;
}

int
dopy_server_add_pclass_struct(dopy_server *s, const struct dopy_pclass *def,
    size_t size, const size_t *offsets)
{
	struct dopy_pclass_ent *e;
	int r;

	if (size == 0 || offsets == NULL)
		return DOPY_E_INVAL;
	if ((r = dopy_server_add_pclass(s, def)) < 0)
		return r;
	e = &s->pclasses[s->npclasses - 1];
	if (!dopy_pstruct_ok(e->state)) {
		snprintf(s->errmsg, sizeof(s->errmsg), "class %s: a C struct "
		    "holds scalars and strings, not a %s", def->name,
		    e->state->name);
		dopy_object_release(&e->obj);
		dopy_type_free(e->state);
		s->npclasses--;
		return DOPY_E_USAGE;
	}
	e->size = size;
	e->offsets = offsets;
	return 0;
}

/* ---- the file: class name, then value ---- */

static int
encode_file(const char *cls, const dopy_value *v, struct dopy_buf *b)
{
	dopy_value *c = dopy_value_string(cls);
	int r;

	r = c == NULL ? DOPY_E_NOMEM : dopy_encode(c, b);
	dopy_value_free(c);
	return r == 0 ? dopy_encode(v, b) : r;
}

/* Read and decode path; *cls is malloc'd. */
static int
load(struct pos *p, const char *path, char **cls, dopy_value **v,
    char *err, size_t errlen)
{
	struct dopy_image img[3];
	struct dopy_buf b;
	dopy_value *cv = NULL;
	size_t n = 0;
	int r;

	*cls = NULL;
	*v = NULL;
	dopy_buf_init(&b);
	if ((r = dopy_store_read(&p->st, path, &b, err, errlen)) < 0)
		goto out;
	if (dopy_images_split(b.data, b.len, img, 3, &n, err, errlen) < 0 ||
	    n != 2 || dopy_decode(&img[0], &dopy_type_string_, &cv, err,
	    errlen) < 0 || dopy_decode(&img[1], NULL, v, err, errlen) < 0) {
		if (n != 2)
			snprintf(err, errlen, "%s: not a pos file", path);
		r = DOPY_E_PROTO;
		goto out;
	}
	*cls = dopy_strdup(dopy_value_get_string(cv));
	r = *cls != NULL ? 0 : DOPY_E_NOMEM;
out:
	dopy_value_free(cv);
	dopy_buf_release(&b);
	if (r < 0) {
		dopy_value_free(*v);
		*v = NULL;
	}
	return r;
}

static int
save(struct pos *p, const char *path, const char *cls, const dopy_value *v,
    int excl, char *err, size_t errlen)
{
	struct dopy_buf b;
	int r;

	dopy_buf_init(&b);
	if ((r = encode_file(cls, v, &b)) == 0)
		r = dopy_store_write(&p->st, path, b.data, b.len, excl, err,
		    errlen);
	else
		snprintf(err, errlen, "%s", dopy_strerror(r));
	dopy_buf_release(&b);
	return r;
}

static int
path_arg(dopy_call *c, const char *in, char *out)
{
	char err[300];

	if (dopy_store_path(in, out, PATHLEN, err, sizeof(err)) < 0)
		return dopy_raise(c, "pos.BadPath", "%s", err);
	if (*out == '\0')
		return dopy_raise(c, "pos.BadPath", "empty path");
	return 0;
}

static int
pos_error(dopy_call *c, int r, const char *err)
{
	if (r == DOPY_S_NOTFOUND)
		return dopy_raise(c, "pos.NotFound", "%s", err);
	if (r == DOPY_S_EXISTS)
		return dopy_raise(c, "pos.Exists", "%s", err);
	if (r == DOPY_E_PROTO)
		return dopy_raise(c, "pos.Corrupt", "%s", err);
	if (r == DOPY_S_NOTDIR)		/* dopy-pos(7): a StoreError */
		return dopy_raise(c, "pos.StoreError", "%s is a value or an "
		    "object, not a directory", err);
	return dopy_raise(c, r == DOPY_E_USAGE ? "pos.BadPath" :
	    "pos.StoreError", "%s", err);
}

/* ---- the pos object's own methods ---- */

static int
p_store(dopy_call *c)
{
	struct pos *p = dopy_call_state(c);
	char path[PATHLEN], err[300];
	int lfd, r;

	if (path_arg(c, dopy_call_string(c, 0), path) < 0)
		return DOPY_E_REMOTE;
	if ((r = dopy_store_lock(&p->st, path, 1, 1, &lfd, err,
	    sizeof(err))) < 0)
		return pos_error(c, r, err);
	r = save(p, path, "", dopy_call_arg(c, 1), 0, err, sizeof(err));
	dopy_store_unlock(lfd);
	return r < 0 ? pos_error(c, r, err) : 0;
}

static int
p_fetch(dopy_call *c)
{
	struct pos *p = dopy_call_state(c);
	const struct dopy_pclass_ent *e;
	char path[PATHLEN], err[300], *cls;
	dopy_value *v;
	int r;

	if (path_arg(c, dopy_call_string(c, 0), path) < 0)
		return DOPY_E_REMOTE;
	/* rename(2) makes every read see one whole version: no lock. */
	if ((r = load(p, path, &cls, &v, err, sizeof(err))) < 0)
		return pos_error(c, r, err);
	if ((e = find_class(c->srv, cls)) != NULL &&
	    !dopy_type_equal(v->type, e->state)) {
		dopy_value_free(v);
		r = dopy_raise(c, "pos.Corrupt", "%s: a %s whose state is not "
		    "a %s", path, cls, e->state->name);
		free(cls);
		return r;
	}
	free(cls);
	return dopy_call_return(c, v);
}

/* *vp as a state of e's class: as it is, or read from its text (so a
 * shell can give a structure); *vp is replaced, or freed on error. */
static int
state_of(dopy_call *c, const struct dopy_pclass_ent *e, dopy_value **vp)
{
	dopy_value *v = *vp, *parsed = NULL;
	char err[200] = "";

	if (dopy_type_equal(v->type, e->state))
		return 0;
	if (v->type->kind == DOPY_STRING)
		parsed = dopy_value_parse(e->state, dopy_value_get_string(v),
		    err, sizeof(err));
	*vp = parsed;
	if (parsed != NULL) {
		dopy_value_free(v);
		return 0;
	}
	if (*err)
		dopy_raise(c, "pos.BadState", "a %s's state is a %s, and "
		    "'%s' does not read as one: %s", e->def->name,
		    e->state->name, dopy_value_get_string(v), err);
	else
		dopy_raise(c, "pos.BadState", "a %s's state is a %s, not a "
		    "value of type %s", e->def->name, e->state->name,
		    v->type->name);
	dopy_value_free(v);
	return -1;
}

/* A new object of the class named by argument 1 at the path of argument
 * 0, with state v (taken), or the class's zero state if v is NULL. */
static int
create(dopy_call *c, dopy_value *v)
{
	struct pos *p = dopy_call_state(c);
	const char *cname = dopy_call_string(c, 1);
	const struct dopy_pclass_ent *e;
	char path[PATHLEN], err[300];
	int r;

	if (path_arg(c, dopy_call_string(c, 0), path) < 0)
		r = DOPY_E_REMOTE;
	else if ((e = find_class(c->srv, cname)) == NULL)
		r = dopy_raise(c, "pos.NoClass", "no persistent class '%s'",
		    cname);
	else if (v != NULL && state_of(c, e, &v) < 0)
		r = DOPY_E_REMOTE;
	else if (v == NULL && (v = dopy_value_new(e->state)) == NULL)
		r = dopy_raise(c, "dopy.InternalError", "out of memory");
	else if ((r = save(p, path, cname, v, 1, err, sizeof(err))) < 0)
		r = pos_error(c, r, err);
	dopy_value_free(v);
	return r < 0 ? r : 0;
}

static int
p_create(dopy_call *c)
{
	return create(c, NULL);
}

/* DOPY's pos[path] = Class(...): made and stored in one call. */
static int
p_put(dopy_call *c)
{
	return create(c, dopy_call_take_arg(c, 2));
}

static int
p_remove(dopy_call *c)
{
	struct pos *p = dopy_call_state(c);
	char path[PATHLEN], err[300];
	int lfd, r;

	if (path_arg(c, dopy_call_string(c, 0), path) < 0)
		return DOPY_E_REMOTE;
	if ((r = dopy_store_lock(&p->st, path, 1, 0, &lfd, err,
	    sizeof(err))) < 0)
		return pos_error(c, r, err);
	r = dopy_store_remove(&p->st, path, err, sizeof(err));
	dopy_store_unlock(lfd);
	return r < 0 ? pos_error(c, r, err) : 0;
}

static int
p_list(dopy_call *c)
{
	struct pos *p = dopy_call_state(c);
	char path[PATHLEN], err[300];
	dopy_value *out;
	int r;

	if (dopy_store_path(dopy_call_string(c, 0), path, sizeof(path), err,
	    sizeof(err)) < 0)
		return dopy_raise(c, "pos.BadPath", "%s", err);
	if ((out = dopy_value_new(c->obj->results[c->midx])) == NULL)
		return dopy_raise(c, "dopy.InternalError", "out of memory");
	if ((r = dopy_store_list(&p->st, path, dopy_call_bool(c, 1), out, err,
	    sizeof(err))) < 0) {
		dopy_value_free(out);
		return pos_error(c, r, err);
	}
	return dopy_call_return(c, out);
}

static int
p_classes(dopy_call *c)
{
	dopy_value *out = dopy_value_new(c->obj->results[c->midx]);
	size_t i;

	for (i = 0; out != NULL && i < c->srv->npclasses; i++)
		if (dopy_value_append(out, dopy_value_string(
		    c->srv->pclasses[i].def->name)) < 0) {
			dopy_value_free(out);
			out = NULL;
		}
	return dopy_call_return(c, out);
}

/* ---- calls on persistent objects: key "pos/PATH" ---- */

/* method is a name from the class's own table: never empty, no spaces
 * (dopy_object_prepare), so each match moves p forward. */
static int
route_fail(dopy_call *c, int r, const char *err)
{
	return pos_error(c, r, err);
}

/* Run the method, on the state as the class's C struct if it has one:
 * read into it before, written back after unless it only reads. */
static void
run_method(dopy_server *s, const struct dopy_pclass_ent *e,
    struct dopy_callmsg *m, dopy_call *c, int ro)
{
	dopy_value *v;

	if (e->size > 0 &&
	    (c->pstruct = dopy_pstruct_read(e, c->pstate)) == NULL) {
		dopy_raise(c, "dopy.InternalError", "out of memory");
		return;
	}
	dopy_dispatch_object(s, &e->obj, m, c);
	if (c->pstruct == NULL)
		return;
	if (c->err == NULL && !ro) {
		if ((v = dopy_pstruct_write(e, c->pstruct)) == NULL)
			dopy_raise(c, "dopy.InternalError", "out of memory");
		else
			dopy_call_set_pstate(c, v);
	}
	dopy_pstruct_free(e, c->pstruct);
	c->pstruct = NULL;
}

/* Load under the lock, run, save, unlock. */
static void
pos_route(dopy_server *s, const struct dopy_object *po,
    struct dopy_callmsg *m, dopy_call *c, const char *key)
{
	struct pos *p = po->state;
	const struct dopy_pclass_ent *e;
	char path[PATHLEN], err[300], *cls = NULL;
	dopy_value *state = NULL;
	int lfd = -1, ro, r;

	if (path_arg(c, key, path) < 0)
		return;
	/* The class decides the lock; the file is read again under it. */
	if ((r = load(p, path, &cls, &state, err, sizeof(err))) < 0) {
		route_fail(c, r, err);
		return;
	}
	dopy_value_free(state);
	state = NULL;
	if ((e = find_class(s, cls)) == NULL) {
		dopy_raise(c, "pos.NoClass", "%s holds %s, not a persistent "
		    "object of a known class", path, *cls ? cls : "a value");
		goto out;
	}
	/* The wire's method name is looked up before it is used. */
	if (dopy_find_method(c, &e->obj, m->method) < 0)
		goto out;
	ro = dopy_pclass_readonly(e->def, e->odef.methods[c->midx].name);
	c->obj = NULL;		/* errors until the run name the key */
	free(cls);
	cls = NULL;
	if ((r = dopy_store_lock(&p->st, path, !ro, 0, &lfd, err,
	    sizeof(err))) < 0 ||
	    (r = load(p, path, &cls, &state, err, sizeof(err))) < 0) {
		route_fail(c, r, err);
		goto out;
	}
	if (strcmp(cls, e->def->name) != 0 ||
	    !dopy_type_equal(state->type, e->state)) {
		dopy_raise(c, "pos.Corrupt", "%s changed class or state type",
		    path);
		goto out;
	}
	c->pstate = state;
	state = NULL;
	c->path = path;
	if (e->def->set_path != NULL && e->def->set_path(c, path) < 0) {
		if (c->err == NULL)
			dopy_raise(c, "pos.Error", "%s: set_path failed", path);
		goto out;
	}
	run_method(s, e, m, c, ro);
	if (c->err == NULL && !ro && save(p, path, e->def->name, c->pstate, 0,
	    err, sizeof(err)) < 0)
		route_fail(c, DOPY_E_SYS, err);
out:
	dopy_store_unlock(lfd);
	dopy_value_free(state);
	free(cls);
	c->path = NULL;
}

/* The class object of the persistent object at key, for describe. */
static const struct dopy_object *
pos_resolve(dopy_server *s, const struct dopy_object *po, const char *key)
{
	const struct dopy_pclass_ent *e;
	char path[PATHLEN], err[300], *cls;
	dopy_value *v;

	if (dopy_store_path(key, path, sizeof(path), err, sizeof(err)) < 0 ||
	    load(po->state, path, &cls, &v, err, sizeof(err)) < 0)
		return NULL;
	e = find_class(s, cls);
	free(cls);
	dopy_value_free(v);
	return e != NULL ? &e->obj : NULL;
}

static const struct dopy_method pos_methods[] = {
	{ "store", p_store, "path:string, value:any", NULL,
	    "Store a copy of a value under path, replacing what was there." },
	{ "fetch", p_fetch, "path:string", "any",
	    "A copy of the value (or object state) stored under path." },
	{ "create", p_create, "path:string, class:string", NULL,
	    "Create a persistent object of a class under path." },
	{ "put", p_put, "path:string, class:string, state:any", NULL,
	    "Create a persistent object of a class under path, with this "
	    "state." },
	{ "remove", p_remove, "path:string", NULL, "Remove path." },
	{ "list", p_list, "dir:string=, recursive:bool=false", "string[]",
	    "Entries of a directory (directories end in '/')." },
	{ "classes", p_classes, "", "string[]",
	    "The persistent classes this server knows." },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_object_def pos_def = {
	"pos", "Persistence: values and persistent objects in a directory "
	"tree; call an object as pos/PATH.", pos_methods, NULL, NULL
};

static void
pos_free(void *v)
{
	struct pos *p = v;

	dopy_store_close(&p->st);
	free(p);
}

int
dopy_server_add_pos(dopy_server *s, const char *dir)
{
	struct dopy_object *o;
	struct pos *p;
	char err[200];
	int r;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return DOPY_E_NOMEM;
	if ((r = dopy_store_open(dir, &p->st, err, sizeof(err))) < 0) {
		snprintf(s->errmsg, sizeof(s->errmsg), "pos: %s", err);
		free(p);
		return r;
	}
	if ((r = dopy_server_add(s, &pos_def, p)) < 0) {
		pos_free(p);
		return r;
	}
	o = (struct dopy_object *)dopy_server_find(s, "pos");
	o->route = pos_route;
	o->resolve = pos_resolve;
	return dopy_server_own(s, p, pos_free);
}
