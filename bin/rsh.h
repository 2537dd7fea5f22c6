/*
 * rsh.h - what dopy-rsh's modes share: the one-shot call, batch mode
 * (-b) and the console (-i) split lines, convert arguments, call, and
 * print results and failures the same way, with the same exit statuses.
 */
#ifndef RSH_H
#define RSH_H

#include <stddef.h>

#include "dopy.h"

/* Exit statuses, dopy-rsh(1). */
#define ST_OK		0
#define ST_REMOTE	1	/* the method raised an error */
#define ST_USAGE	2	/* the call could not be made as asked */
#define ST_CONN		3	/* connection or protocol failure */

/* jflag: output as text, or JSON compact or indented (--json=). */
#define JSON_OFF	0
#define JSON_SHORT	1
#define JSON_PRETTY	2

extern int	jflag, oflag;

/* ---- rsh_call.c: one call, its arguments, results and failures ---- */

/* --graceful=name; -1 when there are too many. */
int	 rsh_graceful_add(const char *name);
/* Whether the server answered with an error --graceful names. */
int	 rsh_is_graceful(const dopy_error *);
/* The exit status for a library error code. */
int	 rsh_code_status(int code);
/* The kind of a failure with this code for a JSON error (BATCH MODE). */
const char *rsh_kind(int code);
/* Tell a failed library call on stderr (and as JSON with -j), free err,
 * and return the exit status. */
int	 rsh_failed(int code, dopy_error *err);
/* A JSON text (compact, as made here) on stdout, indented if jflag says
 * so, and a newline. */
void	 rsh_json_out(const char *json);
/* A result as the one-shot mode prints it; -1 when out of memory. */
/* A result; t, its declared type (NULL: unknown), names the fields of
 * its structures in JSON. */
int	 rsh_print_result(const dopy_value *, const dopy_type *t);
/* rsh_iface.c: look up whether the remote error e of object.method is
 * one the method declares (in the interface the server publishes);
 * rsh_iface_declared() then says so, with the error's doc or NULL. */
void	 rsh_iface_note(dopy_conn *, const char *object, const char *method,
	    const dopy_error *e);
int	 rsh_iface_declared(const char **doc);
/* Field i of a method description (name, params, result, doc). */
const char *rsh_mfield(const dopy_value *m, size_t i);
int	 rsh_list_objects(dopy_conn *);
int	 rsh_describe(dopy_conn *, const char *object);
/* --interface: the object's interface text. */
int	 rsh_interface(dopy_conn *, const char *object);

/* One call being put together from the command line or a line. */
struct req {
	const char	*object, *method;
	dopy_sig	*sig;
	dopy_type	*result;	/* declared, or NULL */
	dopy_args	*args;
	const char	*why;		/* when it cannot be made: an error name */
	char		 msg[256];	/* and the message */
	int		 stream;	/* the result is "stream T" (T: result) */
};

/* The call cannot be made: say why in rq and return st. */
int	 rsh_refuse(struct req *, int st, const char *name, const char *fmt,
	    ...) __attribute__((format(printf, 4, 5)));
/* The method's signature from the object's description. */
int	 rsh_find_sig(struct req *, const dopy_value *methods);
/* Arguments typed by the signature in methods (dopy_describe()'s). */
int	 rsh_prepare(struct req *, const dopy_value *methods, int argc,
	    char *argv[]);
void	 rsh_req_release(struct req *);

/* rsh_upload.c: a method that takes an upload, its items read from
 * standard input (one-shot calls only). */
int	 rsh_call_upload(dopy_proxy *, struct req *, dopy_value **result,
	    dopy_error **);

/* How a call waits for its answer: as dopy_future_wait() returns, or
 * RSH_ABANDONED when the user gave up on it (Ctrl-C). */
#define RSH_ABANDONED	(-1000)
typedef int (*rsh_wait_fn)(dopy_conn *, dopy_future *, dopy_value **,
	    dopy_error **);
/* Make a call and print its result or failure; returns the status.
 * methods is the object's description; wait NULL waits as
 * dopy_proxy_call() does. */
/* rsh_sigint.c: a one-shot call's wait, which Ctrl-C ends by cancelling
 * the call and dying of the signal as usual. */
int	 rsh_oneshot_wait(dopy_conn *, dopy_future *, dopy_value **,
	    dopy_error **);
int	 rsh_call_with(dopy_conn *, const dopy_value *methods,
	    const char *object, const char *method, int argc, char *argv[],
	    rsh_wait_fn wait);
/* The same, describing the object first. */
int	 rsh_call(dopy_conn *, const char *object, const char *method,
	    int argc, char *argv[]);

/* Objects' descriptions, asked once per connection. */
struct rsh_desc {
	char		*object;
	dopy_value	*methods;
};
struct rsh_descs {
	dopy_conn	*conn;
	struct rsh_desc	*v;
	size_t		 n;
};
/* object's methods (valid until rsh_descs_free), described on first
 * use; 0 or the failure's code with the details in *ep. */
int	 rsh_descs_get(struct rsh_descs *, const char *object,
	    const dopy_value **mp, dopy_error **ep);
void	 rsh_descs_free(struct rsh_descs *);

/* Split line into words in place, as sh(1) would without expansions;
 * the count, or -1 with the reason in *why. */
int	 rsh_split(char *line, char **words, int max, const char **why);
int	 rsh_blank(int c);

/* ---- rsh_batch.c ---- */

/* -b: calls from stdin, pipelined over conn; the exit status. */
int	 rsh_batch(dopy_conn *, const char *object);

#endif
