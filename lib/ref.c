/*
 * ref.c - objects by reference: STUB until the references work lands.
 */
#include "internal.h"

int
dopy_refs_release(struct dopy_session *s, uint32_t id)
{
	(void)s;
	(void)id;
	return DOPY_E_USAGE;
}

int
dopy_refs_reap(struct dopy_session *s, int64_t now_ms)
{
	(void)s;
	(void)now_ms;
	return -1;
}

void
dopy_refs_end(struct dopy_session *s)
{
	(void)s;
}

const struct dopy_object *
dopy_refs_lookup(struct dopy_session *s, const char *key)
{
	(void)s;
	(void)key;
	return NULL;
}
