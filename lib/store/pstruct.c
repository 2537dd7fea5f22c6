/*
 * pstruct.c - a persistent object's state as a C struct: the fields of
 * the state type map onto members by offset (as registered with
 * dopy_server_add_pclass_struct), as attributes map onto an object's
 * members.  The state
 * is read into a zeroed struct before the method runs and written back
 * from it after, unless the method only reads or failed.
 *
 * Members by field type: bool int, int int64_t, uint uint64_t, double
 * double, string char * (malloc'd: a method that replaces one frees the
 * old and stores a malloc'd new one, or NULL for "").
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"
#include "store/store.h"

/* Field i of the state type: the state itself when it is a scalar. */
static const dopy_type *
field_type(const dopy_type *t, size_t i)
{
	return t->kind == DOPY_STRUCT ? t->fields[i] : t;
}

static size_t
field_count(const dopy_type *t)
{
	return t->kind == DOPY_STRUCT ? t->nfields : 1;
}

/* Whether every field can be a member: a scalar or a string. */
int
dopy_pstruct_ok(const dopy_type *t)
{
	size_t i;

	for (i = 0; i < field_count(t); i++)
		switch (field_type(t, i)->kind) {
		case DOPY_BOOL: case DOPY_INT: case DOPY_UINT:
		case DOPY_DOUBLE: case DOPY_STRING:
			break;
		default:
			return 0;
		}
	return 1;
}

static const dopy_value *
field_value(const dopy_value *v, size_t i)
{
	return v->type->kind == DOPY_STRUCT ? dopy_value_at(v, i) : v;
}

static int
read_field(const dopy_value *f, void *m)
{
	const char *s;

	if (f->type->kind != DOPY_STRING) {
		dopy_member_set(m, f);
		return 0;
	}
	s = dopy_value_get_string(f);
	*(char **)m = strdup(s != NULL ? s : "");
	return *(char **)m == NULL ? DOPY_E_NOMEM : 0;
}

void *
dopy_pstruct_read(const struct dopy_pclass_ent *e, const dopy_value *v)
{
	char *p;
	size_t i;

	if ((p = calloc(1, e->size)) == NULL)
		return NULL;
	for (i = 0; i < field_count(e->state); i++)
		if (read_field(field_value(v, i), p + e->offsets[i]) < 0) {
			dopy_pstruct_free(e, p);
			return NULL;
		}
	return p;
}

static dopy_value *
member_value(const dopy_type *t, const void *m)
{
	const char *s;

	if (t->kind != DOPY_STRING)
		return dopy_member_get(m, t->kind);
	s = *(char *const *)m;
	return dopy_value_string(s != NULL ? s : "");
}

dopy_value *
dopy_pstruct_write(const struct dopy_pclass_ent *e, const void *p)
{
	const dopy_type *t = e->state;
	const char *base = p;
	dopy_value *v;
	size_t i;

	if (t->kind != DOPY_STRUCT)
		return member_value(t, base + e->offsets[0]);
	if ((v = dopy_value_new(t)) == NULL)
		return NULL;
	for (i = 0; i < t->nfields; i++)
		if (dopy_value_set_field(v, i, member_value(t->fields[i],
		    base + e->offsets[i])) < 0) {
			dopy_value_free(v);
			return NULL;
		}
	return v;
}

void
dopy_pstruct_free(const struct dopy_pclass_ent *e, void *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < field_count(e->state); i++)
		if (field_type(e->state, i)->kind == DOPY_STRING)
			free(*(char **)((char *)p + e->offsets[i]));
	free(p);
}

void *
dopy_call_pstruct(dopy_call *c)
{
	return c->pstruct;
}
