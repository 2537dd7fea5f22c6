/* testobj_cb.c - test objects for issue 5 (filled in by its work). */
#include "testobj.h"

int
testobj_cb_add(dopy_server *s)
{
	(void)s;
	return 0;
}
