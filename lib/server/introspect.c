/*
 * introspect.c - the built-in "dopy" object: what a server serves,
 * answered from the same tables that dispatch uses (Pyro's remotely
 * accessible daemon; RemoteCall's agent configuration).
 */
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

static int
lookup(dopy_call *c, const struct dopy_object **op)
{
	dopy_server *s = dopy_call_state(c);
	const char *name = dopy_call_string(c, 0);

	if ((*op = dopy_object_lookup_in(s, c->sess, name)) == NULL)
		return dopy_raise(c, "dopy.UnknownObject", "no object '%s'",
		    name);
	return 0;
}

static int
i_objects(dopy_call *c)
{
	dopy_server *s = dopy_call_state(c);
	dopy_value *a;
	char err[100];
	dopy_type *t;
	size_t i;

	if ((t = dopy_type_parse("string[]", err, sizeof(err))) == NULL)
		return dopy_raise(c, "dopy.InternalError", "%s", err);
	a = dopy_value_new(t);
	dopy_type_free(t);
	for (i = 0; a != NULL && i < s->nobjs; i++)
		if (dopy_value_append(a, dopy_value_string(
		    s->objs[i].def->name)) < 0) {
			dopy_value_free(a);
			a = NULL;
		}
	return dopy_call_return(c, a);
}

/* A result as introspection shows it: "", "T" or "stream T". */
static dopy_value *
result_text(const struct dopy_object *o, size_t i)
{
	char buf[512];

	if (o->results[i] == NULL)
		return dopy_value_string("");
	if (o->streams == NULL || !o->streams[i])
		return dopy_value_string(o->results[i]->name);
	snprintf(buf, sizeof(buf), "stream %s", o->results[i]->name);
	return dopy_value_string(buf);
}

static dopy_value *
method_row(const dopy_type *t, const struct dopy_object *o, size_t i)
{
	const struct dopy_method *m = &o->def->methods[i];
	dopy_value *row;

	if ((row = dopy_value_new(t)) == NULL)
		return NULL;
	if (dopy_value_set_field(row, 0, dopy_value_string(m->name)) < 0 ||
	    dopy_value_set_field(row, 1, dopy_value_string(
	    o->sigs[i]->text)) < 0 ||
	    dopy_value_set_field(row, 2, result_text(o, i)) < 0 ||
	    dopy_value_set_field(row, 3, dopy_value_string(m->doc ?
	    m->doc : "")) < 0) {
		dopy_value_free(row);
		return NULL;
	}
	return row;
}

static int
i_describe(dopy_call *c)
{
	const struct dopy_object *o;
	const dopy_type *t = c->obj->results[c->midx];
	dopy_value *a;
	size_t i;

	if (lookup(c, &o) < 0)
		return DOPY_E_REMOTE;
	a = dopy_value_new(t);
	for (i = 0; a != NULL && i < o->nmethods; i++)
		if (dopy_value_append(a, method_row(t->elem, o, i)) < 0) {
			dopy_value_free(a);
			a = NULL;
		}
	return dopy_call_return(c, a);
}

static int
i_about(dopy_call *c)
{
	const struct dopy_object *o;

	if (lookup(c, &o) < 0)
		return DOPY_E_REMOTE;
	return dopy_return_string(c, o->def->doc ? o->def->doc : "");
}

/* An object's, a routed key's or a persistent class's interface. */
static int
i_interface(dopy_call *c)
{
	dopy_server *s = dopy_call_state(c);
	const char *name = dopy_call_string(c, 0);
	const struct dopy_object *o;
	char *text;
	size_t i;
	int r;

	o = dopy_object_lookup_in(s, c->sess, name);
	for (i = 0; o == NULL && i < s->npclasses; i++)
		if (strcmp(s->pclasses[i].def->name, name) == 0)
			o = &s->pclasses[i].obj;
	if (o == NULL)
		return dopy_raise(c, "dopy.UnknownObject", "no object or class "
		    "'%s'", name);
	if ((text = dopy_iface_text(s, o)) == NULL)
		return dopy_raise(c, "dopy.InternalError", "out of memory");
	r = dopy_return_string(c, text);
	free(text);
	return r;
}

static int
i_version(dopy_call *c)
{
	return dopy_return_string(c, DOPY_SOFTWARE " protocol 1");
}

static const struct dopy_method methods[] = {
	{ "objects", i_objects, "", "string[]",
	    "The names of the objects this server serves." },
	{ "describe", i_describe, "object:string",
	    "(string,string,string,string)[]",
	    "One object's methods: name, parameters, result type, doc." },
	{ "about", i_about, "object:string", "string",
	    "One object's documentation." },
	{ "version", i_version, "", "string",
	    "The server's software and protocol versions." },
	{ "interface", i_interface, "object:string", "string",
	    "One object's or class's interface text (dopy-idl(5))." },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_object_def def = {
	"dopy", "Introspection: the objects and methods of this server.",
	methods, NULL, NULL
};

int
dopy_introspect_add(dopy_server *s)
{
	return dopy_server_add(s, &def, s);
}
