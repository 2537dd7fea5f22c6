/*
 * nsclient.c - the naming service from C: bind, resolve and list names
 * with one call each, instead of building calls to the `naming` object
 * by hand (dopy-naming(7) describes the service).
 */
#include <stdlib.h>
#include <string.h>

#include "client/client.h"

int
dopy_ns_open(const struct dopy_connect_opts *o, dopy_proxy **pp,
    dopy_error **ep)
{
	const char *ns = getenv("DOPY_NS");
	dopy_target *t;
	int r;

	*pp = NULL;
	if (ns == NULL || *ns == '\0')
		return dopy_error_set(ep, DOPY_E_USAGE, "set DOPY_NS to the "
		    "naming service's target");
	/* A target that names no object means the usual one. */
	if ((r = dopy_target_parse(ns, &t, ep)) < 0)
		return r;
	r = dopy_open(ns, dopy_target_object(t) != NULL ? NULL : "naming",
	    o, pp, ep);
	dopy_target_free(t);
	return r;
}

static int
bind_as(dopy_proxy *ns, const char *method, const char *name,
    const char *target, const char *object, const char *meta,
    dopy_error **ep)
{
	return dopy_proxy_callf(ns, method, NULL, ep, "s s s s", name, target,
	    object != NULL ? object : "", meta != NULL ? meta : "");
}

int
dopy_ns_bind(dopy_proxy *ns, const char *name, const char *target,
    const char *object, const char *meta, dopy_error **ep)
{
	return bind_as(ns, "bind", name, target, object, meta, ep);
}

int
dopy_ns_rebind(dopy_proxy *ns, const char *name, const char *target,
    const char *object, const char *meta, dopy_error **ep)
{
	return bind_as(ns, "rebind", name, target, object, meta, ep);
}

int
dopy_ns_unbind(dopy_proxy *ns, const char *name, dopy_error **ep)
{
	return dopy_proxy_callf(ns, "unbind", NULL, ep, "s", name);
}

/* A copy of field i of entry, or NULL with the error set. */
static char *
entry_field(const dopy_value *entry, size_t i, dopy_error **ep)
{
	const char *s = dopy_value_get_string(dopy_value_at(entry, i));
	char *copy;

	if (s == NULL) {
		dopy_error_set(ep, DOPY_E_TYPE, "naming.resolve: not a "
		    "(string,string,string)");
		return NULL;
	}
	if ((copy = strdup(s)) == NULL)
		dopy_error_set(ep, DOPY_E_NOMEM, "out of memory");
	return copy;
}

int
dopy_ns_resolve(dopy_proxy *ns, const char *name, char **target,
    char **object, dopy_error **ep)
{
	dopy_value *entry;
	int r;

	*target = NULL;
	if (object != NULL)
		*object = NULL;
	if ((r = dopy_proxy_callf(ns, "resolve", &entry, ep, "s", name)) < 0)
		return r;
	r = (*target = entry_field(entry, 0, ep)) == NULL ? DOPY_E_TYPE : 0;
	if (r == 0 && object != NULL &&
	    (*object = entry_field(entry, 1, ep)) == NULL) {
		free(*target);
		*target = NULL;
		r = DOPY_E_TYPE;
	}
	dopy_value_free(entry);
	return r;
}

int
dopy_ns_list(dopy_proxy *ns, const char *group, int recursive,
    dopy_value **names, dopy_error **ep)
{
	return dopy_proxy_callf(ns, "list", names, ep, "s b",
	    group != NULL ? group : "", recursive);
}
