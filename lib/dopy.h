/*
 * dopy.h - distributed objects for C in the inetd/rsh tradition.
 *
 * The one installed header.  Every type is opaque; every fallible call
 * returns 0 (DOPY_OK) or a negative DOPY_E_* code, and where a caller may
 * want the whole story it also fills a dopy_error (free it with
 * dopy_error_free()).  All *_free() functions accept NULL.
 *
 * libdopy never prints and never calls exit(); the one exception is
 * dopy_main() (and dopy_main_opts()), which stands in for a server's
 * main() and writes --help and option errors to the terminal before it
 * starts serving.
 *
 * libdopy replaces tpl's global tpl_hook.oops and tpl_hook.fatal (the
 * defaults print and exit): a program that also uses tpl directly shares
 * these hooks.
 */
#ifndef DOPY_H
#define DOPY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DOPY_VERSION	"0.1.0"
#define DOPY_PROTOCOL	1		/* wire protocol version, dopy(5) */

/* Error codes.  dopy_strerror() has a string for every one. */
#define DOPY_OK		  0
#define DOPY_E_NOMEM	 -1	/* out of memory */
#define DOPY_E_SYS	 -2	/* a system call failed (message has errno) */
#define DOPY_E_CLOSED	 -3	/* connection closed by the peer */
#define DOPY_E_PROTO	 -4	/* protocol error: malformed or unexpected frame */
#define DOPY_E_VERSION	 -5	/* protocol version mismatch */
#define DOPY_E_TOOBIG	 -6	/* frame or value larger than the maximum */
#define DOPY_E_REMOTE	 -7	/* the remote method raised an error */
#define DOPY_E_USAGE	 -8	/* unknown object or method, bad arguments */
#define DOPY_E_TYPE	 -9	/* a value does not have the expected type */
#define DOPY_E_SPAWN	-10	/* the server command could not be started */
#define DOPY_E_INVAL	-11	/* invalid argument to a library call */
#define DOPY_E_TIMEOUT	-12	/* no answer in time */
#define DOPY_E_AUTH	-13	/* authentication failed */
#define DOPY_E_LOST	-14	/* connection lost during the call: outcome unknown */
#define DOPY_E_CANCELLED -15	/* the call was cancelled (dopy.Cancelled) */
#define DOPY_E_LAST	-15

const char	*dopy_strerror(int code);

/* ------------------------------------------------------------------ */
/* Types.  Written as text: bool int uint double string bytes, T[] for an
 * array of T, (T1,T2,...) for a structure of scalars and strings (tpl
 * S(...)), so (int,string)[] is an array of structures.  See dopy(5).
 * A parameter or result may be declared `any` (never inside another
 * type): it takes a value of whatever type the image says. */

typedef struct dopy_type dopy_type;

enum dopy_kind {
	DOPY_VOID = 0,
	DOPY_BOOL,
	DOPY_INT,		/* int64_t  */
	DOPY_UINT,		/* uint64_t */
	DOPY_DOUBLE,
	DOPY_STRING,		/* NUL-terminated, no embedded NUL */
	DOPY_BYTES,		/* any bytes, with a length */
	DOPY_ARRAY,
	DOPY_STRUCT,
	DOPY_ANY,		/* signatures only: a value of any type */
	DOPY_REF		/* an object by reference (uint32 id, tpl `u') */
};

/* Parse a type; NULL on error with a message in err (if errlen > 0). */
dopy_type	*dopy_type_parse(const char *text, char *err, size_t errlen);
dopy_type	*dopy_type_copy(const dopy_type *);
void		 dopy_type_free(dopy_type *);
enum dopy_kind	 dopy_type_kind(const dopy_type *);
const dopy_type	*dopy_type_elem(const dopy_type *);	/* arrays */
size_t		 dopy_type_nfields(const dopy_type *);	/* structs */
const dopy_type	*dopy_type_field(const dopy_type *, size_t);
/* A structure field's name, as in (count:int, text:string), or NULL. */
const char	*dopy_type_field_name(const dopy_type *, size_t);
const char	*dopy_type_name(const dopy_type *);	/* "int[]" */
const char	*dopy_type_tpl(const dopy_type *);	/* "A(I)" */
int		 dopy_type_equal(const dopy_type *, const dopy_type *);

/* ------------------------------------------------------------------ */
/* Values: a typed tree, passed by copy. */

typedef struct dopy_value dopy_value;

dopy_value	*dopy_value_bool(int);
dopy_value	*dopy_value_int(int64_t);
dopy_value	*dopy_value_uint(uint64_t);
dopy_value	*dopy_value_double(double);
dopy_value	*dopy_value_string(const char *);	/* copies */
dopy_value	*dopy_value_bytes(const void *, size_t);	/* copies */
/* A reference to a remote object: its id on one connection (>= 1). */
dopy_value	*dopy_value_ref(uint32_t id);
/* An empty array or a zeroed structure of the given type (copied). */
dopy_value	*dopy_value_new(const dopy_type *);
/* Append v to an array, taking ownership of v (freed on error too). */
int		 dopy_value_append(dopy_value *array, dopy_value *v);
/* Set field i of a structure, taking ownership of v. */
int		 dopy_value_set_field(dopy_value *st, size_t i, dopy_value *v);
dopy_value	*dopy_value_copy(const dopy_value *);
void		 dopy_value_free(dopy_value *);

const dopy_type	*dopy_value_type(const dopy_value *);
enum dopy_kind	 dopy_value_kind(const dopy_value *);
int		 dopy_value_get_bool(const dopy_value *);
int64_t		 dopy_value_get_int(const dopy_value *);
uint64_t	 dopy_value_get_uint(const dopy_value *);
double		 dopy_value_get_double(const dopy_value *);
const char	*dopy_value_get_string(const dopy_value *);
const void	*dopy_value_get_bytes(const dopy_value *, size_t *len);
uint32_t	 dopy_value_get_ref(const dopy_value *);	/* 0 if not a ref */
size_t		 dopy_value_len(const dopy_value *);	/* array/struct */
const dopy_value *dopy_value_at(const dopy_value *, size_t i);
int		 dopy_value_equal(const dopy_value *, const dopy_value *);

/* Arrays of bool, int, uint and double are one block of C values:
 * made from a C array (copied; a bool is a byte, nonzero for true), and
 * read as one without a value per element.  The readers return NULL
 * for a value of another type, else the block, valid while the value
 * is and not changed by it; *n is the element count. */
dopy_value	*dopy_value_bool_array(const uint8_t *, size_t n);
dopy_value	*dopy_value_int_array(const int64_t *, size_t n);
dopy_value	*dopy_value_uint_array(const uint64_t *, size_t n);
dopy_value	*dopy_value_double_array(const double *, size_t n);
const uint8_t	*dopy_value_bools(const dopy_value *, size_t *n);
const int64_t	*dopy_value_ints(const dopy_value *, size_t *n);
const uint64_t	*dopy_value_uints(const dopy_value *, size_t *n);
const double	*dopy_value_doubles(const dopy_value *, size_t *n);

/* Text forms, as dopy-rsh(1) reads and writes them.  A top-level string
 * or bytes value is taken verbatim; inside [..] and (..) strings are
 * quoted.  Parse fills err on failure.  Format returns malloc'd text. */
dopy_value	*dopy_value_parse(const dopy_type *, const char *text,
		    char *err, size_t errlen);
char		*dopy_value_format(const dopy_value *);
char		*dopy_value_json(const dopy_value *);

/* ------------------------------------------------------------------ */
/* Signatures: a parsed parameter list "a:int, greeting:string=Hello". */

typedef struct dopy_sig dopy_sig;

dopy_sig	*dopy_sig_parse(const char *params, char *err, size_t errlen);
void		 dopy_sig_free(dopy_sig *);
size_t		 dopy_sig_len(const dopy_sig *);
const char	*dopy_sig_name(const dopy_sig *, size_t i);
const dopy_type	*dopy_sig_type(const dopy_sig *, size_t i);
/* The default, or NULL when the parameter is required. */
const dopy_value *dopy_sig_default(const dopy_sig *, size_t i);
/* The parameters as text, normalised: what introspection shows. */
const char	*dopy_sig_text(const dopy_sig *);
/* The type T of a last parameter "NAME:stream T", the upload whose items
 * follow the call (not among the dopy_sig_len() others), or NULL. */
const dopy_type	*dopy_sig_upload(const dopy_sig *, const char **name);

/* ------------------------------------------------------------------ */
/* Errors: local failures and remote ones, with the remote trace. */

typedef struct dopy_error dopy_error;

dopy_error	*dopy_error_new(int code, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
void		 dopy_error_free(dopy_error *);
int		 dopy_error_code(const dopy_error *);
const char	*dopy_error_name(const dopy_error *);	/* "test.Failure" */
const char	*dopy_error_message(const dopy_error *);
const char	*dopy_error_object(const dopy_error *);
const char	*dopy_error_method(const dopy_error *);
const char	*dopy_error_host(const dopy_error *);	/* remote host */
long		 dopy_error_pid(const dopy_error *);	/* remote pid */
size_t		 dopy_error_trace_len(const dopy_error *);
const char	*dopy_error_trace(const dopy_error *, size_t i);
/* The whole story: kind, name, message, where, remote trace (malloc'd). */
char		*dopy_error_format(const dopy_error *);

/* ------------------------------------------------------------------ */
/* Server side. */

typedef struct dopy_server dopy_server;
typedef struct dopy_call dopy_call;
typedef struct dopy_conn dopy_conn;
typedef struct dopy_proxy dopy_proxy;

typedef int (*dopy_method_fn)(dopy_call *);

/*
 * One method: params is a comma-separated list of NAME:TYPE[=DEFAULT]
 * ("name:string, greeting:string=Hello"); result is a type or NULL for
 * none.  A method returns 0, or the (negative) value of dopy_raise().
 */
struct dopy_method {
	const char	*name;
	dopy_method_fn	 fn;
	const char	*params;
	const char	*result;
	const char	*doc;
};

/*
 * One object.  methods ends with an entry whose name is NULL.  before
 * runs ahead of every method; an error it raises goes to the caller and
 * neither the method nor after runs (nothing ran, so there is nothing
 * to finish).  after runs once the reply is settled, whether the method
 * succeeded or not; an error it raises is logged and ignored.
 */
struct dopy_object_def {
	const char		 *name;
	const char		 *doc;
	const struct dopy_method *methods;
	int			(*before)(dopy_call *);
	int			(*after)(dopy_call *);
};

dopy_server	*dopy_server_new(void);
void		 dopy_server_free(dopy_server *);
/* Register an object.  On a bad signature returns DOPY_E_USAGE with the
 * reason in dopy_server_errmsg(). */
int		 dopy_server_add(dopy_server *, const struct dopy_object_def *,
		    void *state);
/*
 * Declare a method oneway on the server's side (Pyro's @oneway): once its
 * arguments are bound, the caller gets an empty answer at once and the
 * method runs after; what it returns or raises is logged, not sent.  So
 * every client calls it without waiting, whatever its proxy says.
 */
int		 dopy_server_set_oneway(dopy_server *, const char *object,
		    const char *method);
/*
 * Run a method isolated, in a child the connection process forks for
 * each call once its arguments are bound (dopy(7)): one that ignores a
 * cancel or its deadline is killed grace_ms later (<= 0: 2000) and the
 * client gets dopy.Cancelled or dopy.DeadlineExceeded; one that dies
 * gets dopy.Crashed.  What the child changes in memory is lost.
 */
int		 dopy_server_set_isolated(dopy_server *, const char *object,
		    const char *method, int grace_ms);
/*
 * Sandboxes (dopy(7)).  spec is a comma-separated list: profiles
 * (compute, readonly, nonet), resource limits (cpu=SECONDS, as=SIZE,
 * nofile=N, fsize=SIZE, nproc=N; SIZE takes K, M or G), nnp, and
 * Landlock rules (read=PATH, write=PATH).  With object and method, the
 * method runs isolated (dopy_server_set_isolated with the default grace
 * unless it is already) and each call's child is sandboxed before the
 * method runs; with both NULL, every connection process is, once its
 * HELLO exchange is over.  DOPY_E_USAGE with the reason in
 * dopy_server_errmsg(): a bad spec, an unknown method, or what cannot
 * work together (isolated methods under a connection's nproc=0).
 */
int		 dopy_server_set_sandbox(dopy_server *, const char *object,
		    const char *method, const char *spec);
/*
 * For a crash reporter, async-signal-safe, in the sandboxed process:
 * the name of a system call a profile in force blocks (NULL for any
 * other number), and what a signal means under the sandbox in force
 * ("the CPU time limit of 10 s (sandbox cpu=10)") into buf: its length,
 * or 0 when the sandbox has nothing to say about sig.
 */
const char	*dopy_sandbox_syscall_name(int nr);
size_t		 dopy_sandbox_describe(int sig, char *buf, size_t len);
/* Raise dopy.NoMemory for an allocation of size bytes that failed,
 * naming the sandbox's address-space limit when one is in force. */
int		 dopy_call_raise_nomem(dopy_call *, size_t size);
const char	*dopy_server_errmsg(const dopy_server *);

/*
 * Shared keys (dopy(7)): a file of 16 to 4096 random bytes, mode 600,
 * on both sides.  A server with a key serves only clients that prove
 * they hold it, and proves it holds it too (HMAC-SHA256 challenge and
 * response in the HELLO exchange; the key never crosses the wire).
 */
typedef struct dopy_key dopy_key;

int		 dopy_key_load(const char *path, dopy_key **, dopy_error **);
void		 dopy_key_free(dopy_key *);
/* Require the key in path of every client (the -k option). */
int		 dopy_server_set_key_file(dopy_server *, const char *path);

/*
 * The naming service (dopy-naming(7)): publish object "naming" over a
 * store directory shared by every server process (dopyd -N dir).
 */
int		 dopy_server_add_naming(dopy_server *, const char *dir);

/*
 * The event service (dopy-events(7)): publish object "events" over an
 * event log in a directory shared by every server process (dopyd -e
 * dir): publish(topic, value) appends, subscribe(pattern, since)
 * streams the events whose topic matches as they come.
 */
int		 dopy_server_add_events(dopy_server *, const char *dir);

/*
 * Persistence (dopy-pos(7)), DOPY's pos: object "pos" stores values in a
 * directory tree (dopyd -P dir), and persistent objects live there as
 * files.  A call to object key "pos/PATH" loads the object at PATH under
 * an exclusive lock, runs the method on its state, saves it atomically
 * and unlocks; methods named in readonly (space-separated) take a shared
 * lock and never rewrite the file.  A class says the type of its state;
 * set_path runs when an object is loaded (DOPY's dopy_setPath), then
 * before, the method, and after.
 */
struct dopy_pclass {
	const char		 *name;
	const char		 *doc;
	const char		 *state;	/* a type, e.g. "int" */
	const struct dopy_method *methods;
	const char		 *readonly;	/* "get size" */
	int			(*before)(dopy_call *);
	int			(*after)(dopy_call *);
	int			(*set_path)(dopy_call *, const char *path);
};
/* Register a class (before or after dopy_server_add_pos). */
int		 dopy_server_add_pclass(dopy_server *,
		    const struct dopy_pclass *);
/* The same, the state kept in a C struct of size bytes for the methods:
 * field i of the state type (or the state, if a scalar) is the member
 * at offsets[i] (see dopy_call_pstruct). */
int		 dopy_server_add_pclass_struct(dopy_server *,
		    const struct dopy_pclass *, size_t size,
		    const size_t *offsets);
int		 dopy_server_add_pos(dopy_server *, const char *dir);
/* Inside a persistent object's method: its state, which the method may
 * change in place (dopy_value_set_field) or replace; and its path. */
dopy_value	*dopy_call_pstate(dopy_call *);
int		 dopy_call_set_pstate(dopy_call *, dopy_value *);
/* The state as the class's C struct, if it has one (size > 0): read
 * before the method, written back after unless it only reads or fails.
 * bool is int, int int64_t, uint uint64_t, string a malloc'd char *. */
void		*dopy_call_pstruct(dopy_call *);
const char	*dopy_call_path(dopy_call *);

/* Logging: syslog (default), stderr, or a file; never stdout. */
enum dopy_log_sink { DOPY_LOG_SYSLOG, DOPY_LOG_STDERR, DOPY_LOG_FILE };
int		 dopy_server_set_log(dopy_server *, enum dopy_log_sink,
		    const char *path, int verbose);
void		 dopy_server_set_max_frame(dopy_server *, uint32_t);

/*
 * Serve one connection on in/out until the peer closes.  Returns 0 after
 * a clean EOF between frames, or a negative code after a fatal protocol
 * or I/O error (already logged).
 */
int		 dopy_server_serve(dopy_server *, int in, int out);

/*
 * Move the protocol off fds 0 and 1 onto private descriptors, point fd 1
 * (and fd 2 when it is the same channel, as under inetd) away from the
 * peer, and return the private pair.  Call before serving stdio.
 */
int		 dopy_stdio_guard(dopy_server *, int *in, int *out);

/* The standard server options and the stdio loop: returns an exit status
 * for main().  Options: -d (log to stderr), -L FILE (log to file), -v
 * (trace frames), -m BYTES (max frame), -R SECONDS (reap references
 * unused that long), -h; dopyd(8) lists them all. */
int		 dopy_main(dopy_server *, int argc, char *argv[]);

/*
 * A server's own options, beside dopy_main's: a table ended by an entry
 * whose letter is 0.  arg names the option's argument in -h and the
 * usage lines, NULL for a flag; help is its line in -h.  For each option
 * given, set(arg, ctx) is called while the options are parsed (arg NULL
 * for a flag), before the log is opened and anything is served: it
 * stores or checks the value, and returns nonzero to refuse it, which
 * prints "PROG: -x ARG: invalid" and makes dopy_main_opts() return 2.
 * A letter dopy takes (dopyd(8)), or one declared twice, is a usage
 * error at start, named on stderr.  dopy_main(s, argc, argv) is
 * dopy_main_opts(s, argc, argv, NULL).
 */
struct dopy_option {
	int		 letter;
	const char	*arg;
	const char	*help;
	int		(*set)(const char *arg, void *ctx);
	void		*ctx;
};
int		 dopy_main_opts(dopy_server *, int argc, char *argv[],
		    const struct dopy_option *);

/*
 * Attributes (RemoteCall's Setattr, Pyro's attribute proxy): typed
 * values of an object that clients read with dopy_proxy_get() and, when
 * writable, set with dopy_proxy_set().  On the wire they are the methods
 * "get:NAME" and "set:NAME" (parameter value:TYPE), so introspection and
 * dopy-rsh see them too.  get and set may be NULL: the attribute is then
 * the member at offset in the object's state, of C type int (bool),
 * int64_t (int), uint64_t (uint) or double (double).  get returns the
 * value with dopy_call_return(); set receives the new value (checked
 * against type) and may raise.  attrs ends with an entry whose name is
 * NULL.
 */
struct dopy_attr {
	const char	*name;
	const char	*type;
	int		 writable;
	size_t		 offset;
	int		(*get)(dopy_call *);
	int		(*set)(dopy_call *, const dopy_value *);
	const char	*doc;
};
/* Add attributes to the object called object (already added). */
int		 dopy_server_add_attrs(dopy_server *, const char *object,
		    const struct dopy_attr *attrs);

/*
 * Objects by reference (RemoteCall's agents, Pyro's transients).  A
 * method with result type ref (or a type containing ref) returns objects
 * made with dopy_call_new_ref(): they live in this connection's process
 * under a small id, are called at object key "@ID", and die when the
 * client releases them, when they have been unused for the reap age, or
 * with the connection; gone() then runs with the reason.  On failure it
 * returns NULL with the call's error raised (dopy.TooManyReferences when
 * the connection holds the most it may) and the caller keeps state.
 */
enum dopy_ref_why { DOPY_REF_RELEASED = 1, DOPY_REF_REAPED, DOPY_REF_CLOSED };
dopy_value	*dopy_call_new_ref(dopy_call *, const struct dopy_object_def *,
		    void *state, void (*gone)(void *state, enum dopy_ref_why));
/* The state of the object a ref value names on this connection, if it is
 * an object of def (any object when def is NULL); NULL otherwise.  Refs
 * among the arguments are checked before the method runs. */
void		*dopy_call_ref_state(dopy_call *, const dopy_value *ref,
		    const struct dopy_object_def *def);
/* References unused for ms are reaped (Pyro's setTransientsCleanupAge);
 * 0 (the default) keeps them until released or the connection ends. */
void		 dopy_server_set_ref_age(dopy_server *, int ms);
/* At most n objects by reference per connection (default 10000; 0: no
 * cap); dopy_call_new_ref() refuses more. */
void		 dopy_server_set_max_refs(dopy_server *, unsigned n);
/* With on = 0, errors sent to clients carry their name, message, object
 * and method only: no remote trace, which names source files and lines,
 * and no host name or pid.  The server's log still has them. */
void		 dopy_server_set_traces(dopy_server *, int on);
/* With on = 0, no crash reports: a method that dies of a fatal signal
 * ends the process with no handler of dopy's in the way (a debugger, a
 * program of its own handlers); so does DOPY_CRASH_REPORTS=0 in the
 * environment.  On by default: the calls in flight get dopy.Crash.
 * 0, or DOPY_E_INVAL. */
int		 dopy_server_set_crash_reports(dopy_server *, int on);
/*
 * Record every connection's frames into the recording at path
 * (dopy-dump(1)), made if missing; all processes of the server append
 * to it.  Adds the object "recorder", whose start and stop switch
 * recording for all of them.  0 or DOPY_E_*.
 */
int		 dopy_server_record(dopy_server *, const char *path);
/* Record calls of object's method (NULL: all of its methods) without
 * their arguments, and their answers without payload: secrets. */
int		 dopy_server_record_omit(dopy_server *, const char *object,
		    const char *method);
/*
 * Answer every call from the recording at path (dopy-dump(1)) instead
 * of the registered objects: a call whose object, method, argument
 * names and argument images were recorded gets the recorded ITEMs and
 * REPLY or ERROR, each repeat the next recorded answer (the last one
 * once they are used up); any other call gets dopy.Unrecorded.
 * Callbacks are not played.  0; DOPY_E_SYS (errno) when path cannot be
 * opened, DOPY_E_INVAL when it is not a recording, DOPY_E_NOMEM.
 */
int		 dopy_server_fake(dopy_server *, const char *path);

/*
 * Progress (dopy(5) PROGRESS frames): a long method calls this now and
 * then; the client's call timeout measures silence, so a call that keeps
 * reporting progress is not timed out (an overall deadline still holds).
 * Frames are sent at most every DOPY_PROGRESS_MS; returns 0 or an error
 * code when the client is gone.
 */
#define DOPY_PROGRESS_MS	50
int		 dopy_call_progress(dopy_call *);

/*
 * Callbacks over the same connection: a proxy for an object the client
 * published with dopy_conn_publish().  dopy_proxy_call() on it sends a
 * CALLBACK frame and, while it waits, serves the client's own calls, so
 * nesting in both directions does not deadlock.  The proxy stays valid
 * while the connection lasts (a method may keep it for later calls, from
 * an fd watcher say); free it with dopy_proxy_free().
 */
dopy_proxy	*dopy_call_peer_proxy(dopy_call *, const char *object);
/* Raise e (a callback's error, say) as this call's error: its name and
 * message, its trace, then this method. */
int		 dopy_call_raise_error(dopy_call *, const dopy_error *e);

/*
 * Event-loop integration (DOPY's reactors): the connection's loop also
 * polls fd for events (POLLIN...) and runs fn when they occur, between
 * calls.  fn returns 0 to keep watching, < 0 to stop.  Watchers belong to
 * each connection's process; when the server is freed, fn is called once
 * more with revents 0 to release what it holds.  The threaded listener
 * (-s) does not run watchers: there dopy_server_watch_fd returns
 * DOPY_E_USAGE (dopy_server_errmsg says why).
 */
typedef int (*dopy_fd_fn)(dopy_server *, int fd, short revents, void *arg);
/* The server a method runs in (to watch an fd from inside a call). */
dopy_server	*dopy_call_server(dopy_call *);
int		 dopy_server_watch_fd(dopy_server *, int fd, short events,
		    dopy_fd_fn fn, void *arg);

/* Inside a method. */
void		*dopy_call_state(dopy_call *);
const char	*dopy_call_object(dopy_call *);
const char	*dopy_call_method(dopy_call *);
size_t		 dopy_call_argc(dopy_call *);
/* Argument i in declared order, after names and defaults are applied. */
const dopy_value *dopy_call_arg(dopy_call *, size_t i);
/* The same, handed over to the caller (to return it, say, without a
 * copy of a large value); dopy_call_arg(i) is NULL after. */
dopy_value	*dopy_call_take_arg(dopy_call *, size_t i);
int64_t		 dopy_call_int(dopy_call *, size_t i);
uint64_t	 dopy_call_uint(dopy_call *, size_t i);
double		 dopy_call_double(dopy_call *, size_t i);
int		 dopy_call_bool(dopy_call *, size_t i);
const char	*dopy_call_string(dopy_call *, size_t i);
const void	*dopy_call_bytes(dopy_call *, size_t i, size_t *len);
/*
 * Who called (Pyro's TLS caller), the same whichever launcher started
 * the process.  Transport is "tcp", "unix", "ssh" or "pipe"; address and
 * port are "" when unknown (pipes); uid and gid are -1 except for UNIX
 * socket peers; the ssh connection is $SSH_CONNECTION or "".
 * Authenticated is 1 when the peer proved it holds the shared key.
 */
const char	*dopy_call_transport(dopy_call *);
const char	*dopy_call_peer_addr(dopy_call *);
const char	*dopy_call_peer_port(dopy_call *);
long		 dopy_call_peer_uid(dopy_call *);
long		 dopy_call_peer_gid(dopy_call *);
const char	*dopy_call_ssh_connection(dopy_call *);
int		 dopy_call_authenticated(dopy_call *);
/* Set the result; takes ownership of v and checks its type. */
int		 dopy_call_return(dopy_call *, dopy_value *v);
int		 dopy_return_int(dopy_call *, int64_t);
int		 dopy_return_uint(dopy_call *, uint64_t);
int		 dopy_return_double(dopy_call *, double);
int		 dopy_return_bool(dopy_call *, int);
int		 dopy_return_string(dopy_call *, const char *);
int		 dopy_return_bytes(dopy_call *, const void *, size_t);

/* Raise an error from a method: returns DOPY_E_REMOTE for `return`. */
int		 dopy_call_raise_at(dopy_call *, const char *file, int line,
		    const char *func, const char *name, const char *fmt, ...)
		    __attribute__((format(printf, 6, 7)));
#define dopy_raise(call, name, ...) \
	dopy_call_raise_at((call), __FILE__, __LINE__, __func__, (name), \
	    __VA_ARGS__)
/* Add a frame to the trace of the error being raised (callers up the
 * stack of a method may add where they were). */
void		 dopy_call_trace_at(dopy_call *, const char *file, int line,
		    const char *func);
#define dopy_trace(call) \
	dopy_call_trace_at((call), __FILE__, __LINE__, __func__)

/* ------------------------------------------------------------------ */
/* Client side. */

typedef struct dopy_args dopy_args;

/* Run a shell command (`ssh host dopyd`, `bin/dopyd`) with pipes to its
 * stdin and stdout, and do the HELLO exchange. */
int		 dopy_conn_spawn(const char *command, dopy_conn **,
		    dopy_error **);
/* Use an existing pair of descriptors (closed by dopy_conn_close). */
int		 dopy_conn_fds(int in, int out, dopy_conn **, dopy_error **);
/*
 * Targets, one syntax everywhere (dopy-rsh(1)):
 *	tcp://HOST:PORT[/OBJECT]   tcp:HOST:PORT[:OBJECT]   unix:PATH[#OBJECT]
 *	ssh://[USER@]HOST[:PORT][/COMMAND][#OBJECT]   exec:COMMAND   COMMAND
 * ssh runs in batch mode without a tty; $DOPY_SSH replaces "ssh".
 */
typedef struct dopy_target dopy_target;

int		 dopy_target_parse(const char *text, dopy_target **,
		    dopy_error **);
void		 dopy_target_free(dopy_target *);
/* The object the target names, or NULL. */
const char	*dopy_target_object(const dopy_target *);
/*
 * Zero-install (dopy-rsh(1) DELIVERY): connecting to the ssh:// target t
 * sends program, a local executable (a server, such as dopyd), and the
 * shared libraries it needs that glibc does not provide, as ldd(1)
 * finds them here, to a shell stub on the remote host, which keeps them
 * in a private cache, each checked by its SHA-256, and runs the program
 * with the target's command's arguments; what is cached is not sent
 * again.  NULL stops delivering.  DOPY_E_USAGE for a target that is not
 * ssh://.
 */
int		 dopy_target_deliver(dopy_target *t, const char *program,
		    dopy_error **);
int		 dopy_target_connect(const dopy_target *, dopy_conn **,
		    dopy_error **);
/* Parse and connect in one call. */
int		 dopy_connect(const char *target, dopy_conn **, dopy_error **);
/* The same, proving the shared key (and requiring the server's proof);
 * key may be NULL. */
int		 dopy_connect_key(const char *target, const dopy_key *,
		    dopy_conn **, dopy_error **);
int		 dopy_target_connect_key(const dopy_target *, const dopy_key *,
		    dopy_conn **, dopy_error **);
int		 dopy_conn_fds_key(int in, int out, const dopy_key *,
		    dopy_conn **, dopy_error **);
/*
 * Connect with flags (key may be NULL).  DOPY_CONNECT_EARLY saves a
 * round trip: connect does not wait for the server's HELLO; ours goes
 * out in one write with the first call, and the first wait (that call's,
 * or any later one) reads the server's HELLO.  If the server refuses or
 * never says HELLO, every call in flight fails with the reason, as
 * connect would have, and the server has run none of them.  A first call
 * over 4096 bytes, a batch and dopy_conn_settle() wait for the HELLO
 * first.  With a key the exchange needs the server's nonce, so connect
 * waits as without the flag.  Unknown flags are DOPY_E_INVAL.
 */
#define DOPY_CONNECT_EARLY	0x1
/*
 * DOPY_CONNECT_TRUST_NS lets a name: target dial whatever its naming
 * entry holds.  Without it (or DOPY_NS_TRUST=1 in the environment) an
 * entry, which anyone who may bind names could have written, may only
 * lead to a TCP or UNIX socket, or ssh to a plain host running one
 * program path without arguments: never a command run here.  A name
 * bound to a name: target is refused either way (DOPY_E_USAGE).
 */
#define DOPY_CONNECT_TRUST_NS	0x2
int		 dopy_connect_flags(const char *target, const dopy_key *,
		    int flags, dopy_conn **, dopy_error **);
int		 dopy_target_connect_flags(const dopy_target *,
		    const dopy_key *, int flags, dopy_conn **, dopy_error **);
/* Complete a pending HELLO exchange now: 0 at once if there is none. */
int		 dopy_conn_settle(dopy_conn *, dopy_error **);
/* Close; waits for a spawned server.  Returns its exit status or -1.
 * One that may still run a oneway call is left to finish it: -1 at once. */
int		 dopy_conn_close(dopy_conn *);
const char	*dopy_conn_server_version(const dopy_conn *);

dopy_proxy	*dopy_proxy_new(dopy_conn *, const char *object);
void		 dopy_proxy_free(dopy_proxy *);

/*
 * The short forms (open.c).  Zero a dopy_connect_opts and set what you
 * need: a key (or a key file to load), DOPY_CONNECT_* flags, the calls'
 * timeout and the rebind policy (dopy_conn_set_timeout(),
 * dopy_conn_set_rebind()).  opts may be NULL for none.
 */
struct dopy_connect_opts {
	const dopy_key	*key;
	const char	*keyfile;
	int		 flags;
	int		 timeout_ms;
	int		 rebind_tries;
	int		 rebind_wait_ms;
};
int		 dopy_connect_with(const char *target,
		    const struct dopy_connect_opts *, dopy_conn **,
		    dopy_error **);
/* A proxy for object, or for the object target names (tcp://h:p/obj,
 * unix:path#obj, name:NAME), on a connection of its own that
 * dopy_proxy_free() closes. */
int		 dopy_open(const char *target, const char *object,
		    const struct dopy_connect_opts *, dopy_proxy **,
		    dopy_error **);
dopy_conn	*dopy_proxy_conn(const dopy_proxy *);
/*
 * A call in one line: fmt has a letter per argument, NAME= before it
 * to pass it by name, blanks or commas between: i int64_t, u uint64_t,
 * d double, b int (a bool), s const char *, y const void * and size_t
 * (bytes), v dopy_value * (taken).  Pass int64_t and uint64_t values as
 * such: a plain int is not promoted to them.  result may be NULL when
 * nobody wants it.
 */
int		 dopy_proxy_callf(dopy_proxy *, const char *method,
		    dopy_value **result, dopy_error **, const char *fmt, ...);

/*
 * The naming service (nsclient.c, dopy-naming(7)): dopy_ns_open()
 * opens $DOPY_NS (its `naming` object unless the target names another);
 * object and meta may be NULL for "".  dopy_ns_resolve() returns copies
 * to free; object may be NULL.
 */
int		 dopy_ns_open(const struct dopy_connect_opts *, dopy_proxy **,
		    dopy_error **);
int		 dopy_ns_bind(dopy_proxy *ns, const char *name,
		    const char *target, const char *object, const char *meta,
		    dopy_error **);
int		 dopy_ns_rebind(dopy_proxy *ns, const char *name,
		    const char *target, const char *object, const char *meta,
		    dopy_error **);
int		 dopy_ns_unbind(dopy_proxy *ns, const char *name, dopy_error **);
int		 dopy_ns_resolve(dopy_proxy *ns, const char *name,
		    char **target, char **object, dopy_error **);
int		 dopy_ns_list(dopy_proxy *ns, const char *group, int recursive,
		    dopy_value **names, dopy_error **);

/*
 * Call timeouts (Pyro's _setTimeout), in milliseconds, 0 for none (the
 * default).  A proxy's own timeout, if set (> 0), overrides its
 * connection's.  A call that gets no reply in time fails with
 * DOPY_E_TIMEOUT: the call may or may not have run (at-most-once, never
 * retried).  It is forgotten, its late reply is dropped when it comes,
 * and the connection stays usable for other calls.
 */
void		 dopy_conn_set_timeout(dopy_conn *, int ms);
void		 dopy_proxy_set_timeout(dopy_proxy *, int ms);
/*
 * Oneway calls (Pyro's _setOneway): calls of method through this proxy
 * are sent as ONEWAY frames and return at once with no result; the
 * server runs them in order with the connection's other calls and logs
 * their errors.  on = 0 makes method an ordinary call again.
 */
int		 dopy_proxy_set_oneway(dopy_proxy *, const char *method, int on);

dopy_args	*dopy_args_new(void);
void		 dopy_args_free(dopy_args *);
/* Add an argument: name NULL for positional (positional ones first).
 * Takes ownership of v, also on error. */
int		 dopy_args_add(dopy_args *, const char *name, dopy_value *v);
int		 dopy_args_int(dopy_args *, const char *name, int64_t);
int		 dopy_args_uint(dopy_args *, const char *name, uint64_t);
int		 dopy_args_double(dopy_args *, const char *name, double);
int		 dopy_args_bool(dopy_args *, const char *name, int);
int		 dopy_args_string(dopy_args *, const char *name, const char *);
int		 dopy_args_bytes(dopy_args *, const char *name, const void *,
		    size_t);
/* The same without a copy: the bytes must stay as they are until the
 * function that sends the arguments (a call, or dopy_batch_add) returns. */
int		 dopy_args_bytes_ref(dopy_args *, const char *name,
		    const void *, size_t);

/*
 * Call method with args (may be NULL).  On success *result holds the
 * result (NULL for a method without one).  On failure returns the code
 * and, if err is not NULL, the details; a remote error carries its name,
 * message and remote trace.
 */
int		 dopy_proxy_call(dopy_proxy *, const char *method,
		    const dopy_args *args, dopy_value **result, dopy_error **err);

/* Attributes (dopy_server_add_attrs()): read one; set one (takes
 * ownership of v). */
int		 dopy_proxy_get(dopy_proxy *, const char *attr,
		    dopy_value **v, dopy_error **);
int		 dopy_proxy_set(dopy_proxy *, const char *attr, dopy_value *v,
		    dopy_error **);

/*
 * An overall deadline per call in milliseconds (0: none), which progress
 * frames do not extend; the timeout above measures silence.
 */
void		 dopy_conn_set_deadline(dopy_conn *, int ms);
void		 dopy_proxy_set_deadline(dopy_proxy *, int ms);

/*
 * Release and reconnect (Pyro's _release and rebindURI).  Releasing drops
 * the connection now; the next call reconnects to the same target (the
 * connection must come from a target or a command, not from fds).  After
 * a lost connection, calls that were waiting fail with DOPY_E_LOST (they
 * may or may not have run: at-most-once, never retried); the next call
 * reconnects when rebind allows it: up to tries attempts, wait_ms apart.
 * Without rebind (tries 0, the default) it fails with DOPY_E_CLOSED.
 * References and the server's per-connection state die with the old
 * connection.  dopy_proxy_release() releases the proxy's connection.
 */
int		 dopy_conn_release(dopy_conn *);
int		 dopy_proxy_release(dopy_proxy *);
void		 dopy_conn_set_rebind(dopy_conn *, int tries, int wait_ms);
/* How many times the connection has been (re)made: 1 after connect. */
unsigned	 dopy_conn_generation(const dopy_conn *);

/*
 * References: a proxy for the object a ref value names (NULL if v is
 * not a ref); it fails with DOPY_E_CLOSED after the connection it came
 * from is gone.  Releasing tells the server it may drop the object now.
 */
dopy_proxy	*dopy_proxy_ref(dopy_conn *, const dopy_value *ref);
int		 dopy_ref_release(dopy_conn *, const dopy_value *ref,
		    dopy_error **);

/*
 * Callbacks: publish a local object the server may call back over this
 * connection while any call is in progress (or while the caller runs
 * dopy_conn_process()).  An error a callback raises goes to the server
 * and is also passed to on_error, if set.
 */
int		 dopy_conn_publish(dopy_conn *, const struct dopy_object_def *,
		    void *state);
void		 dopy_conn_on_callback_error(dopy_conn *,
		    void (*fn)(const dopy_error *, void *arg), void *arg);

/*
 * Asynchronous calls: send now, collect later.  Replies are matched by
 * call id, so many calls may be in flight on one connection, from any
 * number of threads (a dopy_conn and its proxies are thread-safe).  done,
 * if not NULL, runs once the answer is in, in whichever thread read it;
 * the result is then taken with dopy_future_wait(), which blocks until
 * the answer (or the call's timeout) and returns like dopy_proxy_call().
 * A future freed unanswered is forgotten: its answer is dropped and
 * done does not run after dopy_future_free() returns (unless it was
 * already running), so arg may be freed with it.
 */
typedef struct dopy_future dopy_future;
typedef void (*dopy_future_fn)(dopy_future *, void *arg);
int		 dopy_proxy_call_async(dopy_proxy *, const char *method,
		    const dopy_args *args, dopy_future_fn done, void *arg,
		    dopy_future **, dopy_error **);
int		 dopy_future_ready(dopy_future *);
int		 dopy_future_wait(dopy_future *, dopy_value **result,
		    dopy_error **);
void		 dopy_future_free(dopy_future *);

/*
 * Batches (Pyro5's BatchProxy): calls queued with dopy_batch_add() go
 * out in one write when dopy_batch_run() is called, which then waits for
 * every answer.  Each call's own result or error is then read with
 * dopy_batch_result(); run returns 0 when every call was sent and
 * answered, even if some raised.
 */
typedef struct dopy_batch dopy_batch;
dopy_batch	*dopy_batch_new(dopy_conn *);
void		 dopy_batch_free(dopy_batch *);
int		 dopy_batch_add(dopy_batch *, dopy_proxy *, const char *method,
		    const dopy_args *);
size_t		 dopy_batch_len(const dopy_batch *);
int		 dopy_batch_run(dopy_batch *, dopy_error **);
int		 dopy_batch_result(dopy_batch *, size_t i, dopy_value **result,
		    dopy_error **);

/*
 * Event loops: the descriptor that becomes readable when the server has
 * sent something, and a call that handles whatever can be read without
 * blocking (answers, which complete futures; callbacks, which run).
 * Returns 0, or an error code when the connection is lost.
 */
int		 dopy_conn_fd(const dopy_conn *);
int		 dopy_conn_process(dopy_conn *, dopy_error **);

/* Introspection (the built-in "dopy" object): object names; one
 * object's methods as (name, params, result, doc) structures. */
int		 dopy_list_objects(dopy_conn *, dopy_value **names,
		    dopy_error **);
int		 dopy_describe(dopy_conn *, const char *object,
		    dopy_value **methods, dopy_error **);

/* ------------------------------------------------------------------ */
/*
 * Generated code (dopy-idl(1)): values straight between C and the wire,
 * without dopy_value trees.  A writer and a reader keep the first error
 * they meet and ignore what follows it (so generated code checks once);
 * the calls that finish a call report it.
 *
 * Writing: each argument or result is one image, opened with its tpl
 * format (dopy_type_tpl(): "I", "A(S(Is))"), its data in order (an
 * array's element count, then its elements; a structure's fields), then
 * closed.  dopy_out_value() writes one whole image from a value (any).
 */
/* A bytes value in generated code: a malloc'd block and its length. */
struct dopy_bytes {
	void		*data;
	size_t		 len;
};
typedef struct dopy_out dopy_out;
void		 dopy_out_begin(dopy_out *, const char *fmt);
void		 dopy_out_bool(dopy_out *, int);
void		 dopy_out_int(dopy_out *, int64_t);
void		 dopy_out_uint(dopy_out *, uint64_t);
void		 dopy_out_double(dopy_out *, double);
void		 dopy_out_ref(dopy_out *, uint32_t);
void		 dopy_out_string(dopy_out *, const char *);	/* not NULL */
void		 dopy_out_bytes(dopy_out *, const void *, size_t);
void		 dopy_out_count(dopy_out *, size_t);
void		 dopy_out_end(dopy_out *);
void		 dopy_out_value(dopy_out *, const dopy_value *);
int		 dopy_out_error(const dopy_out *);

/*
 * Reading: the next image, whose format must be fmt, then its data in
 * the order written, then its end (the data must be used up).  Strings
 * and bytes are malloc'd copies (bytes with a NUL after them); an array
 * is its count and a calloc'd block of n elements of size bytes, within
 * the bound of dopy(5) on what decoding one image may allocate, which
 * the reader counts.  After an error the readers return 0 or NULL.
 */
typedef struct dopy_in dopy_in;
void		 dopy_in_begin(dopy_in *, const char *fmt);
int		 dopy_in_bool(dopy_in *);
int64_t		 dopy_in_int(dopy_in *);
uint64_t	 dopy_in_uint(dopy_in *);
double		 dopy_in_double(dopy_in *);
uint32_t	 dopy_in_ref(dopy_in *);
char		*dopy_in_string(dopy_in *);
void		*dopy_in_bytes(dopy_in *, size_t *len);
void		*dopy_in_array(dopy_in *, size_t *n, size_t size);
void		 dopy_in_end(dopy_in *);
dopy_value	*dopy_in_value(dopy_in *);		/* a whole image */
int		 dopy_in_error(const dopy_in *);
const char	*dopy_in_errmsg(const dopy_in *);

/*
 * A client stub's call: put writes the nargs argument images (all
 * positional) from args; get, NULL for a method without a result,
 * reads the one result image into result.  get runs in whichever thread
 * reads the answer, before the call returns; a result it cannot read
 * fails the call with DOPY_E_PROTO, and get must then leave nothing for
 * the caller to free that it has not recorded in result.  Oneway sends
 * and returns.  The async form's result must stay valid until the
 * future is waited for or freed.
 */
typedef void	(*dopy_put_fn)(dopy_out *, const void *args);
typedef void	(*dopy_get_fn)(dopy_in *, void *result);
int		 dopy_stub_call(dopy_proxy *, const char *method,
		    size_t nargs, dopy_put_fn put, const void *args,
		    dopy_get_fn get, void *result, dopy_error **);
int		 dopy_stub_call_async(dopy_proxy *, const char *method,
		    size_t nargs, dopy_put_fn put, const void *args,
		    dopy_get_fn get, void *result, dopy_future_fn done,
		    void *arg, dopy_future **, dopy_error **);
int		 dopy_stub_oneway(dopy_proxy *, const char *method,
		    size_t nargs, dopy_put_fn put, const void *args,
		    dopy_error **);

/*
 * A server's generated object or class (already added): its methods
 * read their arguments with dopy_call_in() (one image per parameter, in
 * declared order, defaults filled in) instead of dopy_call_arg(), and
 * write their result, if any, with dopy_call_out() instead of
 * dopy_call_return().  interface is its dopy-idl(5) text, which
 * dopy.interface returns; NULL leaves the text made from the table.
 */
int		 dopy_server_set_stub(dopy_server *, const char *object,
		    const char *interface);
/* The same for objects by reference made from def with
 * dopy_call_new_ref() (generated register functions do this for every
 * object of their interface). */
int		 dopy_server_set_stub_def(dopy_server *,
		    const struct dopy_object_def *def, const char *interface);
dopy_in		*dopy_call_in(dopy_call *);
dopy_out	*dopy_call_out(dopy_call *);
/* An object's interface text (dopy.interface), malloc'd: the one set
 * with dopy_server_set_stub(), else made from its table. */
int		 dopy_interface(dopy_conn *, const char *object, char **text,
		    dopy_error **);

/* ------------------------------------------------------------------ */
/*
 * Streams, cancellation and deadlines (dopy(5): Streams, Cancel,
 * Deadlines).  A method whose result type is written "stream T" sends
 * any number of items of type T, then ends with an empty REPLY (or an
 * ERROR).  A peer that did not announce the feature in its HELLO gets
 * dopy.Unsupported instead, never a frame it cannot read.
 */

/* Server: send one item of the running call's stream (takes item; its
 * type must be the declared T).  Blocks while the client reads slowly
 * (the connection's write deadline still holds).  0, DOPY_E_CANCELLED
 * once the call is cancelled or past its deadline, DOPY_E_TYPE,
 * DOPY_E_USAGE when the method does not stream, or DOPY_E_CLOSED. */
int		 dopy_call_send_item(dopy_call *, dopy_value *item);
/* The same for generated code: write the item image with the writer
 * dopy_call_item_out() gives, then send it. */
dopy_out	*dopy_call_item_out(dopy_call *);
int		 dopy_call_item_send(dopy_call *);
/*
 * Whether the call should stop: 0, or DOPY_E_CANCELLED when the client
 * cancelled it or its deadline passed (dopy_call_cancel_name() then
 * says "dopy.Cancelled" or "dopy.DeadlineExceeded").  It reads what the
 * client has sent without waiting, so a method may poll it in a loop.
 * A method that stops for this returns dopy_call_raise_cancelled(),
 * which raises the right one of the two.
 */
int		 dopy_call_cancelled(dopy_call *);
const char	*dopy_call_cancel_name(dopy_call *);
int		 dopy_call_raise_cancelled(dopy_call *);
/* Milliseconds left before the call's deadline, or -1 for none.  Calls
 * that the method makes to other servers (in this thread) inherit it. */
int64_t		 dopy_call_remaining_ms(dopy_call *);

/* Client: a streaming call, read item by item. */
typedef struct dopy_stream dopy_stream;
int		 dopy_proxy_stream(dopy_proxy *, const char *method,
		    const dopy_args *args, dopy_stream **, dopy_error **);
/* The next item: 1 with *item set (free it), 0 at the end of the
 * stream, or a negative code with the error (a remote error too). */
int		 dopy_stream_next(dopy_stream *, dopy_value **item,
		    dopy_error **);
/* Whether dopy_stream_next() would return without waiting (for event
 * loops: after dopy_conn_process()). */
int		 dopy_stream_ready(dopy_stream *);
/* Ask the server to stop; dopy_stream_next() then ends with
 * DOPY_E_CANCELLED (or the items and end already on their way). */
int		 dopy_stream_cancel(dopy_stream *, dopy_error **);
/* Free it; an unfinished stream is cancelled and its rest dropped. */
void		 dopy_stream_free(dopy_stream *);
/* Generated code: the same call with arguments written by put, and the
 * next item read by get into item. */
int		 dopy_stub_stream(dopy_proxy *, const char *method,
		    size_t nargs, dopy_put_fn put, const void *args,
		    dopy_stream **, dopy_error **);
int		 dopy_stream_next_stub(dopy_stream *, dopy_get_fn get,
		    void *item, dopy_error **);

/*
 * Uploads (dopy(5): Uploads).  A method whose last parameter is written
 * "NAME:stream T" takes its other arguments in the CALL and then any
 * number of items of type T from the client, read one at a time as the
 * method asks: a transfer larger than one frame, or with no end known
 * in advance, costs neither side more than an item's memory.
 */

/* Server: the next item of the running call's upload: 1 with *item set
 * (the caller frees it), 0 at its end, or a negative code with the
 * call's error raised: DOPY_E_CANCELLED (stopped: return
 * dopy_call_raise_cancelled()), DOPY_E_TYPE for an item not of type T,
 * DOPY_E_TIMEOUT when the client sends nothing for the server's idle
 * time, DOPY_E_USAGE when the method takes no upload, DOPY_E_CLOSED. */
int		 dopy_call_next_item(dopy_call *, dopy_value **item);
/* The same for generated code: get reads the item into item. */
int		 dopy_call_next_item_stub(dopy_call *, dopy_get_fn get,
		    void *item);

/* Client: an upload call.  args are the parameters before the stream. */
typedef struct dopy_upload dopy_upload;
int		 dopy_proxy_upload(dopy_proxy *, const char *method,
		    const dopy_args *args, dopy_upload **, dopy_error **);
/*
 * Send one item (takes it).  Blocks while the server reads slowly.  0
 * when sent; 1 when the call has been answered already (the method
 * wanted no more, or failed: stop, and read the answer with
 * dopy_upload_finish()); or a negative code with the error.
 */
int		 dopy_upload_send(dopy_upload *, dopy_value *item,
		    dopy_error **);
/* The end of the items; waits for the answer, as dopy_future_wait()
 * (result NULL for one made by dopy_stub_upload(), whose get read it). */
int		 dopy_upload_finish(dopy_upload *, dopy_value **result,
		    dopy_error **);
/* Ask the server to stop the call; dopy_upload_finish() then gives
 * DOPY_E_CANCELLED (or the answer already on its way). */
int		 dopy_upload_cancel(dopy_upload *, dopy_error **);
/* Free it; an unfinished upload is cancelled. */
void		 dopy_upload_free(dopy_upload *);
/* Generated code: the call with arguments written by put and its
 * result read by get into result (which must live until the end), and
 * each item written by put_item. */
int		 dopy_stub_upload(dopy_proxy *, const char *method,
		    size_t nargs, dopy_put_fn put, const void *args,
		    dopy_get_fn get, void *result, dopy_upload **,
		    dopy_error **);
int		 dopy_upload_send_stub(dopy_upload *, dopy_put_fn put_item,
		    const void *item, dopy_error **);

/* Client: cancel a call in flight.  The server stops it if it can; the
 * future then completes with DOPY_E_CANCELLED (dopy.Cancelled), or with
 * the answer that was already on its way.  0, or the sending error. */
int		 dopy_future_cancel(dopy_future *, dopy_error **);

#ifdef __cplusplus
}
#endif
#endif /* DOPY_H */
