/*
 * util.h - small helpers of every layer (util.c): allocation that
 * returns NULL instead of dying, a port check, and whether a pointer
 * points into a block.  Never installed.
 */
#ifndef DOPY_UTIL_H
#define DOPY_UTIL_H

#include <stddef.h>
#include <stdint.h>

char	*dopy_strdup(const char *);
int	 dopy_port_ok(const char *port, int min);
char	*dopy_asprintf(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

/* Whether p points into the n bytes at base: a value held in a slot of
 * its owner (dopy_args, dopy_call), not malloc'd, is never freed. */
static inline int
dopy_points_into(const void *p, const void *base, size_t n)
{
	uintptr_t a = (uintptr_t)p, lo = (uintptr_t)base;

	return a >= lo && a - lo < n;
}

#endif /* DOPY_UTIL_H */
