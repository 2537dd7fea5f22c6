/*
 * util.h - small helpers of every layer (util.c): allocation that
 * returns NULL instead of dying, and a port check.  Never installed.
 */
#ifndef DOPY_UTIL_H
#define DOPY_UTIL_H

char	*dopy_strdup(const char *);
int	 dopy_port_ok(const char *port, int min);
char	*dopy_asprintf(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

#endif /* DOPY_UTIL_H */
