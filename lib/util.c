/*
 * util.c - small allocation helpers that return NULL instead of dying.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* A port number in digits only, from min (0 or 1) to 65535. */
int
dopy_port_ok(const char *p, int min)
{
	const char *errstr;

	if (*p == '\0' || strspn(p, "0123456789") != strlen(p))
		return 0;
	strtonum(p, min, 65535, &errstr);
	return errstr == NULL;
}

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
