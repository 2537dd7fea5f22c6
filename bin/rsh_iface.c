/*
 * rsh_iface.c - what a server's published interface (dopy.interface,
 * dopy-idl(5)) adds to dopy-rsh's output: whether a remote error is one
 * the method declares, with the error's documentation, and the names
 * of a result's structure fields in JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dopy.h"
#include "idl/idl.h"
#include "rsh.h"
#include "rsh_json.h"

/* The last remote error looked up: declared by its method or not. */
static int	 declared;
static char	*declared_doc;

/* One object's interface at a time, for the console's next errors. */
static char		*cached_object;
static struct idl_file	*cached;

static const struct idl_file *
interface_of(dopy_conn *c, const char *object)
{
	dopy_error *e = NULL;
	char *text = NULL, msg[200];

	if (cached_object != NULL && strcmp(cached_object, object) == 0)
		return cached;
	idl_free(cached);
	free(cached_object);
	cached = NULL;
	/* A server older than dopy.interface simply has nothing to add. */
	if ((cached_object = strdup(object)) != NULL &&
	    dopy_interface(c, object, &text, &e) == 0)
		cached = idl_parse("interface", text, msg, sizeof(msg));
	dopy_error_free(e);
	free(text);
	return cached;
}

/* The object a key stands for: by its name, or the one the text has
 * (a routed key's class, a reference's object). */
static const struct idl_object *
object_of(const struct idl_file *f, const char *object)
{
	const struct idl_object *ob = idl_object_find(f, object);

	return ob != NULL || f->nobjects != 1 ? ob : &f->objects[0];
}

static const char *
error_doc(const struct idl_file *f, const struct idl_object *ob,
    const char *name)
{
	size_t i;

	for (i = 0; i < ob->nerrors; i++)
		if (strcmp(ob->errors[i].name, name) == 0)
			return ob->errors[i].doc;
	for (i = 0; i < f->nerrors; i++)
		if (strcmp(f->errors[i].name, name) == 0)
			return f->errors[i].doc;
	return NULL;
}

void
rsh_iface_note(dopy_conn *c, const char *object, const char *method,
    const dopy_error *e)
{
	const struct idl_method *m = NULL;
	const struct idl_object *ob;
	const struct idl_file *f;
	const char *name = dopy_error_name(e), *doc;
	size_t i;

	declared = 0;
	free(declared_doc);
	declared_doc = NULL;
	if (e == NULL || dopy_error_code(e) != DOPY_E_REMOTE || *name == '\0' ||
	    (f = interface_of(c, object)) == NULL ||
	    (ob = object_of(f, object)) == NULL)
		return;
	for (i = 0; i < ob->nmethods && m == NULL; i++)
		if (strcmp(ob->methods[i].name, method) == 0)
			m = &ob->methods[i];
	for (i = 0; m != NULL && i < m->nraises && !declared; i++)
		declared = strcmp(m->raises[i], name) == 0;
	if (declared && (doc = error_doc(f, ob, name)) != NULL)
		declared_doc = strdup(doc);
}

int
rsh_iface_declared(const char **doc)
{
	*doc = declared_doc;
	return declared;
}
