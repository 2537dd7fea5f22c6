/*
 * ref.c - objects by reference (RemoteCall's agents, Pyro's transients):
 * the per-connection table of objects that methods return as refs.
 *
 * Only small ids cross the wire, never pointers: the id in a ref value
 * or an object key "@ID" is looked up here on every use, and an id that
 * is not in this connection's table names nothing.  Ids count from 1 per
 * connection and are never given out twice, so a stale id cannot reach
 * a newer object.
 *
 * An object dropped while a method runs (a RELEASE served during a
 * callback wait) may be the one that method runs on or holds as an
 * argument: it leaves the table at once but is freed, and its gone hook
 * run, only back at the top of the connection loop (dopy_refs_reap).
 */
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "server/server.h"

struct ref_ent {
	struct dopy_object	 obj;	/* first: lookups hand out &obj */
	uint32_t		 id;
	void			(*gone)(void *, enum dopy_ref_why);
	int64_t			 last_use;	/* dopy_now_ms() */
	enum dopy_ref_why	 why;		/* once dropped */
	struct ref_ent		*next;		/* on the dead list */
};

/* A definition's signatures are parsed once per connection, not once per
 * object: a method may return thousands of refs of one kind. */
struct ref_class {
	struct dopy_object	 obj;		/* state NULL */
};

struct dopy_reftab {
	struct ref_ent		**ents;		/* by id: ids only grow */
	size_t			  n, cap;
	uint32_t		  last_id;
	struct ref_ent		 *dead;		/* dropped while a call ran */
	struct ref_class	 *classes;
	size_t			  nclasses;
};

static struct dopy_reftab *
table(struct dopy_session *s)
{
	if (s->refs == NULL)
		s->refs = calloc(1, sizeof(*s->refs));
	return s->refs;
}

/* Index of id, or of where it would go. */
static size_t
find(const struct dopy_reftab *t, uint32_t id)
{
	size_t lo = 0, hi = t->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (t->ents[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct ref_ent *
get(const struct dopy_session *s, uint32_t id)
{
	const struct dopy_reftab *t;
	size_t i;

	if (s == NULL || (t = s->refs) == NULL || id == 0)
		return NULL;
	i = find(t, id);
	return i < t->n && t->ents[i]->id == id ? t->ents[i] : NULL;
}

static const struct dopy_object *
class_of(dopy_server *srv, struct dopy_reftab *t,
    const struct dopy_object_def *def)
{
	struct ref_class *nc, *c;
	size_t i;

	for (i = 0; i < t->nclasses; i++)
		if (t->classes[i].obj.def == def)
			return &t->classes[i].obj;
	nc = reallocarray(t->classes, t->nclasses + 1, sizeof(*nc));
	if (nc == NULL)
		return NULL;
	t->classes = nc;
	c = &t->classes[t->nclasses];
	memset(c, 0, sizeof(*c));
	c->obj.def = def;
	if (dopy_object_prepare(srv, &c->obj) < 0 ||
	    dopy_stub_for_ref(srv, &c->obj) < 0) {
		dopy_log(&srv->log, LOG_ERR, "reference to %s: %s",
		    def->name != NULL ? def->name : "?",
		    dopy_server_errmsg(srv));
		dopy_object_release(&c->obj);
		return NULL;
	}
	t->nclasses++;
	return &c->obj;
}

static int
push(struct dopy_reftab *t, struct ref_ent *e)
{
	struct ref_ent **ne;
	size_t ncap;

	if (t->n == t->cap) {
		ncap = t->cap ? t->cap * 2 : 16;
		if ((ne = reallocarray(t->ents, ncap, sizeof(*ne))) == NULL)
			return DOPY_E_NOMEM;
		t->ents = ne;
		t->cap = ncap;
	}
	t->ents[t->n++] = e;
	return 0;
}

/* Ids are never reused: the last one spent closes the table too. */
static int
full(const dopy_server *srv, const struct dopy_reftab *t)
{
	return t->last_id == UINT32_MAX ||
	    (srv->max_refs != 0 && t->n >= srv->max_refs);
}

dopy_value *
dopy_call_new_ref(dopy_call *c, const struct dopy_object_def *def,
    void *state, void (*gone)(void *, enum dopy_ref_why))
{
	const struct dopy_object *cls;
	struct dopy_reftab *t;
	struct ref_ent *e;
	dopy_value *v;

	/* Without a connection (a test dispatching by hand, a client's
	 * callback) there is nowhere for the object to live. */
	if (c == NULL)
		return NULL;
	if (c->sess == NULL || def == NULL || def->methods == NULL) {
		dopy_raise(c, "dopy.InternalError", "no connection to hold an "
		    "object by reference, or no methods");
		return NULL;
	}
	/* It would die with the child before the client could call it
	 * (isolate.c). */
	if (c->sess->iso_child) {
		dopy_raise(c, "dopy.Unsupported", "%s.%s: an isolated call "
		    "cannot return objects by reference", dopy_call_object(c),
		    dopy_call_method(c));
		return NULL;
	}
	if ((t = table(c->sess)) != NULL && full(c->srv, t)) {
		dopy_raise(c, "dopy.TooManyReferences", "this connection "
		    "holds %zu object%s by reference, the most it may; "
		    "release some", t->n, t->n == 1 ? "" : "s");
		return NULL;
	}
	if (t == NULL || (cls = class_of(c->srv, t, def)) == NULL ||
	    (e = calloc(1, sizeof(*e))) == NULL)
		goto fail;
	if ((v = dopy_value_ref(t->last_id + 1)) == NULL ||
	    push(t, e) < 0) {
		dopy_value_free(v);
		free(e);
		goto fail;
	}
	e->obj = *cls;
	e->obj.state = state;
	e->id = ++t->last_id;
	e->gone = gone;
	e->last_use = dopy_now_ms();
	return v;
fail:
	dopy_raise(c, "dopy.InternalError", "cannot make an object by "
	    "reference (out of memory, or a bad signature in %s)", def->name);
	return NULL;
}

void *
dopy_call_ref_state(dopy_call *c, const dopy_value *ref,
    const struct dopy_object_def *def)
{
	struct ref_ent *e;

	if (c == NULL || (e = get(c->sess, dopy_value_get_ref(ref))) == NULL ||
	    (def != NULL && e->obj.def != def))
		return NULL;
	return e->obj.state;
}

void
dopy_server_set_max_refs(dopy_server *s, unsigned n)
{
	if (s != NULL)
		s->max_refs = n;
}

void
dopy_server_set_ref_age(dopy_server *s, int ms)
{
	if (s != NULL)
		s->ref_age_ms = ms > 0 ? ms : 0;
}

static void
finish(struct ref_ent *e)
{
	if (e->gone != NULL)
		e->gone(e->obj.state, e->why);
	free(e);
}

/* Take entry i out of the table: gone now, or at the top of the loop
 * when a method (which may be using it) is running. */
static void
drop(struct dopy_session *s, size_t i, enum dopy_ref_why why)
{
	struct dopy_reftab *t = s->refs;
	struct ref_ent *e = t->ents[i];

	memmove(&t->ents[i], &t->ents[i + 1], (t->n - i - 1) *
	    sizeof(*t->ents));
	t->n--;
	e->why = why;
	if (s->depth > 0) {
		e->next = t->dead;
		t->dead = e;
	} else
		finish(e);
}

static void
bury(struct dopy_reftab *t)
{
	struct ref_ent *e;

	while ((e = t->dead) != NULL) {
		t->dead = e->next;
		finish(e);
	}
}

int
dopy_refs_release(struct dopy_session *s, uint32_t id)
{
	size_t i;

	if (get(s, id) == NULL)
		return DOPY_E_USAGE;
	i = find(s->refs, id);
	drop(s, i, DOPY_REF_RELEASED);
	return 0;
}

int
dopy_refs_reap(struct dopy_session *s, int64_t now)
{
	struct dopy_reftab *t = s->refs;
	int64_t age = s->srv->ref_age_ms, left, next = -1;
	size_t i;

	if (t == NULL)
		return -1;
	if (s->depth == 0)
		bury(t);
	if (age <= 0)
		return -1;
	for (i = 0; i < t->n; ) {
		left = t->ents[i]->last_use + age - now;
		if (left <= 0) {
			drop(s, i, DOPY_REF_REAPED);
			continue;
		}
		if (next < 0 || left < next)
			next = left;
		i++;
	}
	return next > INT32_MAX ? INT32_MAX : (int)next;
}

void
dopy_refs_end(struct dopy_session *s)
{
	struct dopy_reftab *t = s->refs;
	size_t i;

	if (t == NULL)
		return;
	bury(t);
	/* In id order: objects made later may hold on to earlier ones. */
	for (i = 0; i < t->n; i++) {
		t->ents[i]->why = DOPY_REF_CLOSED;
		finish(t->ents[i]);
	}
	for (i = 0; i < t->nclasses; i++)
		dopy_object_release(&t->classes[i].obj);
	free(t->classes);
	free(t->ents);
	free(t);
	s->refs = NULL;
}

/* "@ID": decimal, 1 to 2^32-1, no sign, blanks or leading zeros, so
 * one object has one key. */
static uint32_t
key_id(const char *key)
{
	uint64_t id = 0;
	const char *p;

	if (key == NULL || key[0] != '@' || key[1] < '1' || key[1] > '9')
		return 0;
	for (p = key + 1; *p >= '0' && *p <= '9'; p++)
		if ((id = id * 10 + (uint64_t)(*p - '0')) > UINT32_MAX)
			return 0;
	return *p == '\0' ? (uint32_t)id : 0;
}

int
dopy_refs_use(struct dopy_session *s, uint32_t id)
{
	struct ref_ent *e;

	if ((e = get(s, id)) == NULL)
		return DOPY_E_USAGE;
	e->last_use = dopy_now_ms();
	return 0;
}

const struct dopy_object *
dopy_refs_lookup(struct dopy_session *s, const char *key)
{
	struct ref_ent *e;

	if ((e = get(s, key_id(key))) == NULL)
		return NULL;
	e->last_use = dopy_now_ms();
	return &e->obj;
}
