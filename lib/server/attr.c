/*
 * attr.c - typed attributes (RemoteCall's Setattr, Pyro's attribute
 * proxy), server and client side.
 *
 * An attribute is nothing new on the wire: it becomes the methods
 * "get:NAME" and "set:NAME" of its object, so dispatch checks the value's
 * type, introspection lists them and dopy-rsh calls them like any other.
 * Registration builds a new method table (the object's own methods, then
 * the attribute methods), points the object at a copy of its definition
 * that uses it, and prepares the object again; the user's definition is
 * never written to.
 *
 * Persistent objects (pos classes) and objects by reference have no
 * attributes: their definitions are not in the server's object table.
 */
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

/* What one dopy_server_add_attrs() call allocates; freed with the
 * server, since the object keeps pointing into it. */
struct attr_block {
	struct dopy_object_def	  def;
	struct dopy_method	 *methods;
	char			**names;	/* "get:x", "set:x" */
	size_t			  nnames;
	const struct dopy_attr	**attrs;	/* per method */
};

static void
block_free(void *p)
{
	struct attr_block *b = p;
	size_t i;

	for (i = 0; i < b->nnames; i++)
		free(b->names[i]);
	free(b->names);
	free(b->methods);
	free(b->attrs);
	free(b);
}

/* ---- the methods that serve every attribute ---- */

/* The attribute this get:/set: method serves. */
static const struct dopy_attr *
attr_of(dopy_call *c)
{
	if (c->obj == NULL || c->obj->attrs == NULL)
		return NULL;
	return c->obj->attrs[c->midx];
}

/* The member an attribute without functions lives in. */
static void *
member(dopy_call *c, const struct dopy_attr *a)
{
	return (char *)c->obj->state + a->offset;
}

dopy_value *
dopy_member_get(const void *p, enum dopy_kind kind)
{
	int b;
	int64_t i;
	uint64_t u;
	double d;

	switch (kind) {
	case DOPY_BOOL:
		memcpy(&b, p, sizeof(b));
		return dopy_value_bool(b);
	case DOPY_INT:
		memcpy(&i, p, sizeof(i));
		return dopy_value_int(i);
	case DOPY_UINT:
		memcpy(&u, p, sizeof(u));
		return dopy_value_uint(u);
	default:
		memcpy(&d, p, sizeof(d));
		return dopy_value_double(d);
	}
}

void
dopy_member_set(void *p, const dopy_value *v)
{
	int b;
	int64_t i;
	uint64_t u;
	double d;

	switch (dopy_value_kind(v)) {
	case DOPY_BOOL:
		b = dopy_value_get_bool(v);
		memcpy(p, &b, sizeof(b));
		break;
	case DOPY_INT:
		i = dopy_value_get_int(v);
		memcpy(p, &i, sizeof(i));
		break;
	case DOPY_UINT:
		u = dopy_value_get_uint(v);
		memcpy(p, &u, sizeof(u));
		break;
	default:
		d = dopy_value_get_double(v);
		memcpy(p, &d, sizeof(d));
		break;
	}
}

static int
attr_get(dopy_call *c)
{
	const struct dopy_attr *a = attr_of(c);

	if (a == NULL)
		return dopy_raise(c, "dopy.InternalError", "%s: no attribute",
		    dopy_call_method(c));
	if (a->get != NULL)
		return a->get(c);
	return dopy_call_return(c, dopy_member_get(member(c, a),
	    c->obj->results[c->midx]->kind));
}

static int
attr_set(dopy_call *c)
{
	const struct dopy_attr *a = attr_of(c);

	if (a == NULL)
		return dopy_raise(c, "dopy.InternalError", "%s: no attribute",
		    dopy_call_method(c));
	if (a->set != NULL)
		return a->set(c, dopy_call_arg(c, 0));
	dopy_member_set(member(c, a), dopy_call_arg(c, 0));
	return 0;
}

/* ---- registration ---- */

static int
is_ident(const char *s)
{
	static const char ident[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789";

	return *s != '\0' && (*s < '0' || *s > '9') &&
	    s[strspn(s, ident)] == '\0';
}

static int
has_method(const struct dopy_object *o, const char *prefix, const char *name)
{
	size_t i, n = strlen(prefix);

	for (i = 0; i < o->nmethods; i++)
		if (strncmp(o->def->methods[i].name, prefix, n) == 0 &&
		    strcmp(o->def->methods[i].name + n, name) == 0)
			return 1;
	return 0;
}

/* Whether a member of this type can be read and written without
 * functions. */
static int
member_kind(const char *type)
{
	dopy_type *t;
	enum dopy_kind k;

	if ((t = dopy_type_parse(type, NULL, 0)) == NULL)
		return 0;
	k = dopy_type_kind(t);
	dopy_type_free(t);
	return k == DOPY_BOOL || k == DOPY_INT || k == DOPY_UINT ||
	    k == DOPY_DOUBLE;
}

static int
check_one(dopy_server *s, const struct dopy_object *o,
    const struct dopy_attr *attrs, size_t i)
{
	const struct dopy_attr *a = &attrs[i];
	const char *on = o->def->name;
	dopy_type *t;
	char err[200];
	size_t j;

	if (!is_ident(a->name))
		return dopy_server_fail(s, "%s: bad attribute name '%s'", on, a->name);
	if (a->type == NULL || (t = dopy_type_parse(a->type, err,
	    sizeof(err))) == NULL)
		return dopy_server_fail(s, "%s.%s: type: %s", on, a->name,
		    a->type == NULL ? "missing" : err);
	dopy_type_free(t);
	for (j = 0; j < i; j++)
		if (strcmp(attrs[j].name, a->name) == 0)
			return dopy_server_fail(s, "%s.%s: attribute given twice", on,
			    a->name);
	if (has_method(o, "get:", a->name) || has_method(o, "set:", a->name))
		return dopy_server_fail(s, "%s.%s: attribute already there", on, a->name);
	if (!a->writable && a->set != NULL)
		return dopy_server_fail(s, "%s.%s: read-only, but has a set function", on,
		    a->name);
	if ((a->get == NULL || (a->writable && a->set == NULL)) &&
	    !member_kind(a->type))
		return dopy_server_fail(s, "%s.%s: a %s attribute needs get and set "
		    "functions (members only for bool, int, uint, double)",
		    on, a->name, a->type);
	if ((a->get == NULL || (a->writable && a->set == NULL)) &&
	    o->state == NULL)
		return dopy_server_fail(s, "%s.%s: the object has no state for the "
		    "attribute's member", on, a->name);
	return 0;
}

/* Append the method name prefix+name (allocated) with fn and a. */
static int
add_method(struct attr_block *b, size_t *n, const char *prefix,
    const struct dopy_attr *a, dopy_method_fn fn, const char *params,
    const char *result)
{
	char *name;

	if ((name = dopy_asprintf("%s%s", prefix, a->name)) == NULL)
		return DOPY_E_NOMEM;
	b->names[b->nnames++] = name;
	b->methods[*n] = (struct dopy_method){ name, fn, params, result,
	    a->doc };
	b->attrs[(*n)++] = a;
	return 0;
}

/* The object's methods, then get: (and set:) per attribute. */
static int
fill_block(struct attr_block *b, const struct dopy_object *o,
    const struct dopy_attr *attrs, size_t nattrs)
{
	size_t i, n = o->nmethods;
	char *params;

	memcpy(b->methods, o->def->methods, n * sizeof(*b->methods));
	for (i = 0; i < n && o->attrs != NULL; i++)
		b->attrs[i] = o->attrs[i];	/* attributes added before */
	for (i = 0; i < nattrs; i++) {
		if (add_method(b, &n, "get:", &attrs[i], attr_get, "",
		    attrs[i].type) < 0)
			return DOPY_E_NOMEM;
		if (!attrs[i].writable)
			continue;
		if ((params = dopy_asprintf("value:%s", attrs[i].type)) ==
		    NULL)
			return DOPY_E_NOMEM;
		b->names[b->nnames++] = params;
		if (add_method(b, &n, "set:", &attrs[i], attr_set, params,
		    NULL) < 0)
			return DOPY_E_NOMEM;
	}
	b->def = *o->def;
	b->def.methods = b->methods;
	return 0;
}

static struct attr_block *
block_new(size_t nmethods, size_t nattrs)
{
	struct attr_block *b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	/* Per attribute: "get:x", "set:x" and "value:T". */
	b->names = calloc(3 * nattrs + 1, sizeof(*b->names));
	b->methods = calloc(nmethods + 1, sizeof(*b->methods));
	b->attrs = calloc(nmethods + 1, sizeof(*b->attrs));
	if (b->names == NULL || b->methods == NULL || b->attrs == NULL) {
		block_free(b);
		return NULL;
	}
	return b;
}

/* Prepare a copy of o with the block's table, then swap it in. */
static int
install(dopy_server *s, struct dopy_object *o, struct attr_block *b)
{
	struct dopy_object no = *o;

	no.def = &b->def;
	no.nmethods = 0;
	no.mhash = NULL;
	no.sigs = NULL;
	no.results = NULL;
	no.streams = NULL;
	if (dopy_object_prepare(s, &no) < 0) {
		dopy_object_release(&no);
		block_free(b);
		return DOPY_E_USAGE;
	}
	if (dopy_server_own(s, b, block_free) < 0) {
		dopy_object_release(&no);
		return dopy_server_fail(s, "out of memory");
	}
	no.attrs = b->attrs;
	dopy_object_release(o);
	*o = no;
	return 0;
}

int
dopy_server_add_attrs(dopy_server *s, const char *object,
    const struct dopy_attr *attrs)
{
	struct dopy_object *o;
	struct attr_block *b;
	size_t n, nw = 0;
	int r;

	if (s == NULL || object == NULL || attrs == NULL)
		return DOPY_E_INVAL;
	if ((o = (struct dopy_object *)dopy_server_find(s, object)) == NULL)
		return dopy_server_fail(s, "attributes for %s: no such object", object);
	for (n = 0; attrs[n].name != NULL; n++) {
		if ((r = check_one(s, o, attrs, n)) < 0)
			return r;
		nw += attrs[n].writable != 0;
	}
	if ((b = block_new(o->nmethods + n + nw, n)) == NULL)
		return dopy_server_fail(s, "out of memory");
	if (fill_block(b, o, attrs, n) < 0) {
		block_free(b);
		return dopy_server_fail(s, "out of memory");
	}
	return install(s, o, b);
}

/* ---- client side ---- */

int
dopy_proxy_get(dopy_proxy *p, const char *attr, dopy_value **v,
    dopy_error **ep)
{
	char *method;
	int r;

	if (v != NULL)
		*v = NULL;
	if (p == NULL || attr == NULL || v == NULL)
		return dopy_error_set(ep, DOPY_E_INVAL, "NULL argument");
	if ((method = dopy_asprintf("get:%s", attr)) == NULL)
		return dopy_error_set(ep, DOPY_E_NOMEM, "out of memory");
	r = dopy_proxy_call(p, method, NULL, v, ep);
	free(method);
	return r;
}

int
dopy_proxy_set(dopy_proxy *p, const char *attr, dopy_value *v,
    dopy_error **ep)
{
	dopy_value *none = NULL;
	dopy_args *args;
	char *method = NULL;
	int r;

	if (p == NULL || attr == NULL || v == NULL) {
		dopy_value_free(v);
		return dopy_error_set(ep, DOPY_E_INVAL, "NULL argument");
	}
	if ((args = dopy_args_new()) == NULL ||
	    (method = dopy_asprintf("set:%s", attr)) == NULL) {
		dopy_value_free(v);
		dopy_args_free(args);
		return dopy_error_set(ep, DOPY_E_NOMEM, "out of memory");
	}
	if ((r = dopy_args_add(args, NULL, v)) < 0)
		r = dopy_error_set(ep, r, "%s", dopy_strerror(r));
	else
		r = dopy_proxy_call(p, method, args, &none, ep);
	dopy_value_free(none);
	dopy_args_free(args);
	free(method);
	return r;
}
