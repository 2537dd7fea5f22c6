/*
 * util.c - small allocation helpers that return NULL instead of dying.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

char *
dopy_strdup(const char *s)
{
	return strdup(s != NULL ? s : "");
}

char *
dopy_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : s;
}
