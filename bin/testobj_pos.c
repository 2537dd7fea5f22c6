/*
 * testobj_pos.c - the persistent classes dopyd demonstrates (-P dir):
 * counter and note (testobj.c), and record, whose state is a C struct
 * (dopy_server_add_pclass_struct).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "testobj.h"

/* A record whose state is a C struct (dopy_server_add_pclass_struct):
 * the string is the library's, replaced here with one of our own. */
struct record {
	int64_t	 count;
	char	*label;
};

static int
record_add(dopy_call *c)
{
	struct record *r = dopy_call_pstruct(c);
	int64_t n;

	if (__builtin_add_overflow(r->count, dopy_call_int(c, 0), &n))
		return dopy_raise(c, "record.Overflow", "%lld + %lld "
		    "overflows", (long long)r->count,
		    (long long)dopy_call_int(c, 0));
	r->count = n;
	return dopy_return_int(c, n);
}

static int
record_label(dopy_call *c)
{
	struct record *r = dopy_call_pstruct(c);
	char *s = strdup(dopy_call_string(c, 0));

	if (s == NULL)
		return dopy_raise(c, "record.NoMemory", "out of memory");
	free(r->label);
	r->label = s;
	return 0;
}

static int
record_get(dopy_call *c)
{
	return dopy_call_return(c, dopy_value_copy(dopy_call_pstate(c)));
}

static const struct dopy_method record_methods[] = {
	{ "add", record_add, "n:int=1", "int",
	    "Add n to the count and return it." },
	{ "label", record_label, "text:string", NULL, "Set the label." },
	{ "get", record_get, "", "(count:int,label:string)",
	    "The count and the label." },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_pclass record_class = {
	"record", "A count and a label, kept in a C struct.",
	"(count:int, label:string)", record_methods, "get", NULL, NULL, NULL
};

static const size_t record_members[] = {
	offsetof(struct record, count), offsetof(struct record, label)
};

int
testobj_pclasses_add(dopy_server *s)
{
	if (dopy_server_add_pclass(s, &dopy_counter_class) < 0 ||
	    dopy_server_add_pclass(s, &dopy_note_class) < 0)
		return -1;
	return dopy_server_add_pclass_struct(s, &record_class,
	    sizeof(struct record), record_members);
}
