/*
 * typesd.c - a server written the way dopy-idl(1) users write one: the
 * functions tests/idl/types_server.h declares, and main.  The skeleton
 * is generated from types.idl at build time; tests/e2e_idl.c calls it
 * with generated stubs and with the dynamic API.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "types_server.h"

struct types {
	int64_t	 calls;
	double	 level;
	int64_t	 notes;
};

struct cell {
	int64_t	 v;
};

static char *
copy(const char *s)
{
	return strdup(s != NULL ? s : "");
}

int
types_echo_bool(dopy_call *call, struct types *self, int v, int *result)
{
	(void)call;
	self->calls++;
	*result = v;
	return 0;
}

int
types_echo_int(dopy_call *call, struct types *self, int64_t v,
    int64_t *result)
{
	(void)call;
	self->calls++;
	*result = v;
	return 0;
}

int
types_echo_uint(dopy_call *call, struct types *self, uint64_t v,
    uint64_t *result)
{
	(void)call;
	self->calls++;
	*result = v;
	return 0;
}

int
types_echo_double(dopy_call *call, struct types *self, double v,
    double *result)
{
	(void)call;
	self->calls++;
	*result = v;
	return 0;
}

int
types_echo_string(dopy_call *call, struct types *self, const char *v,
    char **result)
{
	self->calls++;
	if ((*result = copy(v)) == NULL)
		return dopy_raise(call, "dopy.InternalError", "no memory");
	return 0;
}

int
types_echo_bytes(dopy_call *call, struct types *self, const void *v,
    size_t v_len, struct dopy_bytes *result)
{
	self->calls++;
	if ((result->data = malloc(v_len + 1)) == NULL)
		return dopy_raise(call, "dopy.InternalError", "no memory");
	memcpy(result->data, v, v_len);
	result->len = v_len;
	return 0;
}

static int
ints_copy(struct int_array *to, const struct int_array *from)
{
	to->n = 0;
	if ((to->v = calloc(from->n + 1, sizeof(*to->v))) == NULL)
		return -1;
	if (from->n > 0)		/* an empty array has no block */
		memcpy(to->v, from->v, from->n * sizeof(*to->v));
	to->n = from->n;
	return 0;
}

int
types_echo_ints(dopy_call *call, struct types *self,
    const struct int_array *v, struct int_array *result)
{
	self->calls++;
	if (ints_copy(result, v) < 0)
		return dopy_raise(call, "dopy.InternalError", "no memory");
	return 0;
}

int
types_echo_matrix(dopy_call *call, struct types *self,
    const struct int_array_array *v, struct int_array_array *result)
{
	size_t i;

	self->calls++;
	if ((result->v = calloc(v->n + 1, sizeof(*result->v))) == NULL)
		return dopy_raise(call, "dopy.InternalError", "no memory");
	for (i = 0; i < v->n; i++, result->n++)
		if (ints_copy(&result->v[i], &v->v[i]) < 0)
			return dopy_raise(call, "dopy.InternalError",
			    "no memory");
	return 0;
}

int
types_echo_strings(dopy_call *call, struct types *self,
    const struct string_array *v, struct string_array *result)
{
	size_t i;

	self->calls++;
	if ((result->v = calloc(v->n + 1, sizeof(*result->v))) == NULL)
		return dopy_raise(call, "dopy.InternalError", "no memory");
	for (i = 0; i < v->n; i++, result->n++)
		if ((result->v[i] = copy(v->v[i])) == NULL)
			return dopy_raise(call, "dopy.InternalError",
			    "no memory");
	return 0;
}

static int
point_copy(struct point *to, const struct point *from)
{
	*to = *from;
	return (to->name = copy(from->name)) != NULL ? 0 : -1;
}

int
types_echo_point(dopy_call *call, struct types *self, const struct point *v,
    struct point *result)
{
	self->calls++;
	if (point_copy(result, v) < 0)
		return dopy_raise(call, "dopy.InternalError", "no memory");
	return 0;
}

static int
points_copy(struct point_array *to, const struct point_array *from)
{
	size_t i;

	to->n = 0;
	if ((to->v = calloc(from->n + 1, sizeof(*to->v))) == NULL)
		return -1;
	for (i = 0; i < from->n; i++, to->n++)
		if (point_copy(&to->v[i], &from->v[i]) < 0)
			return -1;
	return 0;
}

int
types_echo_points(dopy_call *call, struct types *self,
    const struct point_array *v, struct point_array *result)
{
	self->calls++;
	if (points_copy(result, v) < 0)
		return dopy_raise(call, "dopy.InternalError", "no memory");
	return 0;
}

int
types_echo_nested(dopy_call *call, struct types *self,
    const struct point_array_array *v, struct point_array_array *result)
{
	size_t i;

	self->calls++;
	if ((result->v = calloc(v->n + 1, sizeof(*result->v))) == NULL)
		return dopy_raise(call, "dopy.InternalError", "no memory");
	for (i = 0; i < v->n; i++, result->n++)
		if (points_copy(&result->v[i], &v->v[i]) < 0)
			return dopy_raise(call, "dopy.InternalError",
			    "no memory");
	return 0;
}

int
types_echo_pair(dopy_call *call, struct types *self,
    const struct types_echo_pair_v *v, struct types_echo_pair_result *result)
{
	self->calls++;
	result->f0 = v->f0;
	if ((result->f1 = copy(v->f1)) == NULL)
		return dopy_raise(call, "dopy.InternalError", "no memory");
	return 0;
}

int
types_echo_any(dopy_call *call, struct types *self, const dopy_value *v,
    dopy_value **result)
{
	self->calls++;
	if ((*result = dopy_value_copy(v)) == NULL)
		return dopy_raise(call, "dopy.InternalError", "no memory");
	return 0;
}

int
types_add(dopy_call *call, struct types *self, int64_t a, int64_t b,
    int64_t *result)
{
	self->calls++;
	if (__builtin_add_overflow(a, b, result))
		return dopy_raise(call, TYPES_E_RANGE, "%lld + %lld overflows",
		    (long long)a, (long long)b);
	return 0;
}

int
types_greet(dopy_call *call, struct types *self, const char *name,
    const char *greeting, char **result)
{
	self->calls++;
	if (asprintf(result, "%s, %s!", greeting, name) < 0) {
		*result = NULL;
		return dopy_raise(call, "dopy.InternalError", "no memory");
	}
	return 0;
}

int
types_check(dopy_call *call, struct types *self, int64_t n)
{
	self->calls++;
	if (n < 0)
		return dopy_raise(call, TYPES_E_RANGE, "%lld < 0",
		    (long long)n);
	if (n == 0)
		return dopy_raise(call, TYPES_E_SHARED, "zero");
	return 0;
}

int
types_note(dopy_call *call, struct types *self, const char *text)
{
	(void)call;
	(void)text;
	self->notes++;
	return 0;
}

int
types_notes(dopy_call *call, struct types *self, int64_t *result)
{
	(void)call;
	*result = self->notes;
	return 0;
}

static void
cell_gone(void *state, enum dopy_ref_why why)
{
	(void)why;
	free(state);
}

int
types_cell(dopy_call *call, struct types *self, int64_t v, uint32_t *result)
{
	struct cell *c;
	dopy_value *ref;

	self->calls++;
	if ((c = malloc(sizeof(*c))) == NULL)
		return dopy_raise(call, "dopy.InternalError", "no memory");
	c->v = v;
	if ((ref = dopy_call_new_ref(call, &cell_def, c, cell_gone)) == NULL) {
		free(c);
		return DOPY_E_REMOTE;	/* raised already */
	}
	*result = dopy_value_get_ref(ref);
	dopy_value_free(ref);
	return 0;
}

int
types_peek(dopy_call *call, struct types *self, uint32_t r, int64_t *result)
{
	dopy_value *ref = dopy_value_ref(r);
	struct cell *c = dopy_call_ref_state(call, ref, &cell_def);

	self->calls++;
	dopy_value_free(ref);
	if (c == NULL)
		return dopy_raise(call, TYPES_E_RANGE, "@%u is not a cell", r);
	*result = c->v;
	return 0;
}

int
types_nothing(dopy_call *call, struct types *self)
{
	(void)call;
	self->calls++;
	return 0;
}

int
types_points(dopy_call *call, struct types *self, int64_t n)
{
	char name[24];
	struct point p;
	int64_t i;
	int r;

	self->calls++;
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "p%lld", (long long)i);
		p.x = i;
		p.y = -i;
		p.name = name;
		p.on = i % 2;
		p.w = i / 2.0;
		p.u = (uint64_t)i;
		if ((r = types_points_send(call, &p)) < 0)
			return r;
	}
	return 0;
}

int
types_take_points(dopy_call *call, struct types *self, const char *label,
    char **result)
{
	struct point p;
	char last[64] = "";
	int64_t n = 0, sum = 0;
	int r;

	self->calls++;
	while ((r = types_take_points_next(call, &p)) == 1) {
		n++;
		sum += p.x;
		snprintf(last, sizeof(last), "%s", p.name);
		point_clear(&p);
	}
	if (r < 0)
		return r;
	if (asprintf(result, "%s %lld %lld %s", label, (long long)n,
	    (long long)sum, last) < 0) {
		*result = NULL;
		return dopy_raise(call, "types.NoMemory", "out of memory");
	}
	return 0;
}

int
types_take_bytes(dopy_call *call, struct types *self, uint64_t *result)
{
	struct dopy_bytes b;
	int r;

	self->calls++;
	*result = 0;
	while ((r = types_take_bytes_next(call, &b)) == 1) {
		*result += b.len;
		free(b.data);
	}
	return r < 0 ? r : 0;
}

int
types_kinds(dopy_call *call, struct types *self, const char *class_,
    int64_t new_, char **result)
{
	self->calls++;
	if (asprintf(result, "%s %lld", class_, (long long)new_) < 0) {
		*result = NULL;
		return dopy_raise(call, "dopy.InternalError", "no memory");
	}
	return 0;
}

int
types_pid(dopy_call *call, struct types *self, int64_t *result)
{
	(void)call;
	(void)self;
	*result = (int64_t)getpid();
	return 0;
}

/* Sleep, not asking whether to stop: only a kill ends it early. */
static int
deaf_sleep(dopy_call *call, int64_t ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	if (ms < 0 || ms > 600000)
		return dopy_raise(call, TYPES_E_RANGE, "want 0 <= ms <= "
		    "600000");
	while (nanosleep(&ts, &ts) != 0)
		;
	return 0;
}

int
types_nap(dopy_call *call, struct types *self, int64_t ms, int64_t *result)
{
	(void)self;
	if (deaf_sleep(call, ms) < 0)
		return DOPY_E_REMOTE;
	*result = (int64_t)getpid();
	return 0;
}

int
types_stray(dopy_call *call, struct types *self, int64_t ms)
{
	if (deaf_sleep(call, ms) < 0)
		return DOPY_E_REMOTE;
	self->notes++;		/* in the child: lost */
	return 0;
}

int
types_sealed(dopy_call *call, struct types *self, const char *path,
    int64_t *result)
{
	int fd;

	(void)self;
	if ((fd = open(path, O_RDONLY)) < 0)	/* the sandbox traps it */
		return dopy_raise(call, "types.Range", "%s: %s", path,
		    strerror(errno));
	close(fd);
	*result = 1;
	return 0;
}

int
types_get_calls(dopy_call *call, struct types *self, int64_t *result)
{
	(void)call;
	*result = self->calls;
	return 0;
}

int
types_get_level(dopy_call *call, struct types *self, double *result)
{
	(void)call;
	*result = self->level;
	return 0;
}

int
types_set_level(dopy_call *call, struct types *self, double value)
{
	if (value < 0)
		return dopy_raise(call, TYPES_E_RANGE, "level below 0");
	self->level = value;
	return 0;
}

int
cell_get(dopy_call *call, struct cell *self, int64_t *result)
{
	(void)call;
	*result = self->v;
	return 0;
}

int
cell_set(dopy_call *call, struct cell *self, int64_t v)
{
	(void)call;
	self->v = v;
	return 0;
}

int
tally_get(dopy_call *call, struct tally_state *self, int64_t *result)
{
	(void)call;
	*result = self->count;
	return 0;
}

int
tally_add(dopy_call *call, struct tally_state *self, int64_t n,
    int64_t *result)
{
	if (__builtin_add_overflow(self->count, n, &self->count))
		return dopy_raise(call, "tally.Overflow", "too many");
	*result = self->count;
	return 0;
}

int
tally_label(dopy_call *call, struct tally_state *self, const char *text)
{
	char *s;

	if ((s = copy(text)) == NULL)
		return dopy_raise(call, "dopy.InternalError", "no memory");
	free(self->label);
	self->label = s;
	return 0;
}

/*
 * htypes: the same echoes written by hand, a dynamic table whose
 * signatures are types.idl's, so that generated stubs are tested
 * against a hand-written server as well.
 */
static int
echo(dopy_call *call)
{
	return dopy_call_return(call, dopy_call_take_arg(call, 0));
}

#define POINT	"(x:int,y:int,name:string,on:bool,w:double,u:uint)"
static const struct dopy_method htypes_methods[] = {
	{ "echo_bool", echo, "v:bool", "bool", NULL },
	{ "echo_int", echo, "v:int", "int", NULL },
	{ "echo_uint", echo, "v:uint", "uint", NULL },
	{ "echo_double", echo, "v:double", "double", NULL },
	{ "echo_string", echo, "v:string", "string", NULL },
	{ "echo_bytes", echo, "v:bytes", "bytes", NULL },
	{ "echo_ints", echo, "v:int[]", "int[]", NULL },
	{ "echo_matrix", echo, "v:int[][]", "int[][]", NULL },
	{ "echo_strings", echo, "v:string[]", "string[]", NULL },
	{ "echo_point", echo, "v:" POINT, POINT, NULL },
	{ "echo_points", echo, "v:" POINT "[]", POINT "[]", NULL },
	{ "echo_nested", echo, "v:" POINT "[][]", POINT "[][]", NULL },
	{ "echo_pair", echo, "v:(int,string)", "(int,string)", NULL },
	{ "echo_any", echo, "v:any", "any", NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_object_def htypes_def = {
	"htypes", "types.idl's echoes, written by hand.", htypes_methods,
	NULL, NULL
};

int
main(int argc, char *argv[])
{
	static struct types t;
	dopy_server *s;
	int status;

	if ((s = dopy_server_new()) == NULL)
		return 1;
	if (types_register(s, &t) < 0 || tally_register(s) < 0 ||
	    dopy_server_add(s, &htypes_def, NULL) < 0) {
		fprintf(stderr, "typesd: %s\n", dopy_server_errmsg(s));
		return 1;
	}
	status = dopy_main(s, argc, argv);
	dopy_server_free(s);
	return status;
}
