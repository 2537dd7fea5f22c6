/*
 * rsh_json.h - dopy-rsh's JSON: descriptions and errors written as
 * JSON, arguments and batch lines read from it (with jansson, which
 * only dopy-rsh links; libdopy stays free of it).  Values are written
 * by dopy_value_json(), so output is the library's, byte for byte.
 */
#ifndef RSH_JSON_H
#define RSH_JSON_H

#include <stdio.h>

#include "dopy.h"

/* An object's methods (as dopy_describe() gives them) as compact JSON,
 * malloc'd; NULL when out of memory. */
char	*rsh_json_describe(const dopy_value *methods);

/* A result as JSON, malloc'd: a structure whose declared type t
 * (NULL: unknown) names its fields is an object, else as
 * dopy_value_json() writes it. */
char	*rsh_json_typed(const dopy_value *v, const dopy_type *t);

/* Compact JSON (as written here and by dopy_value_json()) on f,
 * indented two spaces a level; the text of every value unchanged. */
void	 rsh_json_indent(FILE *f, const char *json);

/*
 * An error as a JSON object, malloc'd: kind (when not NULL), name,
 * message, object, method, trace, host, pid, "declared": true and the
 * error's doc when the method declares it (rsh_iface_note), and status.
 * name and msg,
 * when not NULL, override err's (a failure found by dopy-rsh itself);
 * object and method likewise.
 */
char	*rsh_json_error(const char *kind, const dopy_error *err,
	    const char *name, const char *msg, const char *object,
	    const char *method, int status);

/* Whether a lone argument is JSON arguments: "-" (read from stdin), or
 * text that begins with { or [. */
int	 rsh_json_is_args(const char *arg);

/*
 * Add the arguments text holds (a JSON object: by name; an array: by
 * position; "-": read them from stdin) to args, each converted to its
 * parameter's type in sig.  0, or -1 with the reason in msg and the
 * error's name in *name.
 */
int	 rsh_json_args(const char *text, const dopy_sig *sig,
	    dopy_args *args, const char **name, char *msg, size_t len);

/* One JSON value as a value of type t; NULL with the reason in msg. */
dopy_value *rsh_json_value(const char *text, const dopy_type *t, char *msg,
	    size_t len);

/* A batch line {"object":..., "method":..., "args":...}. */
struct rsh_jline;

/* Whether line (a batch line) is JSON: it begins with {. */
int	 rsh_json_is_line(const char *line);
/* Parse it; NULL with the reason in msg. */
struct rsh_jline *rsh_json_line(const char *line, char *msg, size_t len);
/* The line's object, or else dflt (which may be NULL). */
const char *rsh_jline_object(const struct rsh_jline *, const char *dflt);
const char *rsh_jline_method(const struct rsh_jline *);
/* Whether it has arguments (args present, not empty). */
int	 rsh_jline_has_args(const struct rsh_jline *);
/* As rsh_json_args(), for the line's "args". */
int	 rsh_jline_args(const struct rsh_jline *, const dopy_sig *,
	    dopy_args *, const char **name, char *msg, size_t len);
void	 rsh_jline_free(struct rsh_jline *);

#endif
