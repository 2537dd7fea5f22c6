/*
 * client.h - the client layer's private declarations (lib/client/):
 * connections, the HELLO exchange, proxies, futures, targets.  Above
 * wire.  Never installed.
 */
#ifndef DOPY_CLIENT_H
#define DOPY_CLIENT_H

#include <stdatomic.h>
#include <stdio.h>

#include "wire/wire.h"

/* ---- client side ---- */
/*
 * A call awaiting its answer.  Reference counted: the pending table holds
 * one, the caller one, a thread running its done callback one.
 */
struct dopy_future {
	dopy_conn		*conn;		/* NULL once the conn is closed */
	uint32_t		 id;
	int			 refs;
	int			 answered;	/* result/err/code are final */
	int			 code;
	dopy_value		*result;
	dopy_error		*err;
	int64_t			 sent_ms;
	int64_t			 heard_ms;	/* sent, PROGRESS, CALLBACK */
	int			 timeout_ms;	/* silence; 0: none */
	int			 deadline_ms;	/* overall; 0: none */
	dopy_future_fn		 fn;
	void			*arg;
	char			 what[80];	/* "object.method" */
	/* A stub's call (stub.c): get reads the answer into getres, in
	 * the reading thread, while decoding is set (the future is out
	 * of the table then; waiting and freeing wait for it). */
	int			 stub;
	dopy_get_fn		 get;
	void			*getres;
	int			 decoding;
	/* A stream's (stream.c): its items' queue, or NULL, when ITEM
	 * frames for this call are dropped and counted in strays. */
	struct dopy_squeue	*sq;
	uint64_t		 strays;
	int			 upload;	/* its CALL says items follow */
	int			 cancel_due;	/* cancel.c: CANCEL to send */
	int			 deadline_sent;	/* the server was told it */
	/* ... and is then given DOPY_DEADLINE_GRACE_MS more to say that
	 * it stopped (its deadline starts when the call arrives). */
#define DOPY_DEADLINE_GRACE_MS	100
	struct dopy_future	*next;		/* in its hash bucket */
};

/* future.c: answers up to this size are decoded under the connection's
 * lock rather than letting go of it and taking it again. */
#define DOPY_ANSWER_SMALL	4096

/*
 * A stream's items as they came (the ITEM payloads, copied), until the
 * application takes them.  At most DOPY_STREAM_QUEUE items or
 * DOPY_STREAM_BYTES bytes: a queue that holds that much is full, and
 * while any stream's is, nobody reads the connection (the server's
 * writes block in turn).  Under the connection's lock.
 */
#define DOPY_STREAM_QUEUE	64
#define DOPY_STREAM_BYTES	(4u << 20)
struct dopy_sitem {
	struct dopy_sitem	*next;
	size_t			 len;
	uint8_t			 data[];
};
struct dopy_squeue {
	struct dopy_sitem	*head, *tail;
	size_t			 n, bytes;
	int			 full;		/* counted in conn.sfull */
	int			 err;		/* an item was lost: NOMEM */
};
#define DOPY_PENDING_BUCKETS	256

struct dopy_conn {
	struct dopy_chan	 chan;
	pid_t			 pid;		/* spawned server, or -1 */
	uint32_t		 next_id;
	char			*server_software;
	uint64_t		 features;	/* the server's HELLO's */
	int			 sfull;		/* streams whose queue is full */
	int			 up;		/* the transport is usable */
	int			 released;	/* by the caller: redial once */
	int			 kill_child;	/* it may still be busy */
	int			 oneway_busy;	/* running a oneway call */
	const dopy_key		*key;		/* during HELLO only */
	int			 timeout_ms;	/* per call, 0: none */
	int			 deadline_ms;
	uint8_t			 nonce[DOPY_NONCE_LEN];
	struct dopy_session	*sess;	/* server side: the client, callback.c */
	/* trace.c: DOPY_RECORD and DOPY_VERBOSE */
	struct dopy_tap		 tap;
	struct dopy_rec		*rec;
	int			 verbose;

	/* Lock order: wlock, then lock (the drain hook runs inside a
	 * write and takes lock).  lock guards what follows and
	 * the pending table; wlock guards chan.wbuf and writes.  The read
	 * side belongs to whichever thread holds the reader role. */
	pthread_mutex_t		 lock, wlock;
	pthread_cond_t		 cond;		/* answers, role freed */
	int			 reading;	/* a thread holds the role */
	int			 waiting;	/* threads in cond_wait */
	struct dopy_future	*pending[DOPY_PENDING_BUCKETS];
	/* future.c: the last future freed, kept for the next call (a
	 * malloc and a free cost a small call more than its locks);
	 * taken and put back by atomic exchange, outside the lock. */
	_Atomic(struct dopy_future *) spare;

	/* Reconnecting: what to dial again (NULL for fd pairs). */
	struct dopy_target	*target;
	dopy_key		*keycopy;
	unsigned		 gen;		/* 1 after the first connect */
	int			 rebind_tries, rebind_wait_ms;

	/* An early connection (DOPY_CONNECT_EARLY, conn.c): our HELLO
	 * waits in hello_out to go out in one write with the first call
	 * (QUEUED), then the server's HELLO for whichever thread reads
	 * first (SENT, until hello_until); a failed exchange leaves its
	 * error in hello_err for every later call.  Under lock. */
	int			 hello_state;
	struct dopy_buf		 hello_out;
	uint32_t		 hello_max;	/* our max_frame */
	int64_t			 hello_until;
	dopy_error		*hello_err;
	char			*command;	/* spawned, for messages */

	/* Callbacks (clientcb.c): our published objects. */
	dopy_server		*local;
	void			(*cb_error)(const dopy_error *, void *);
	void			*cb_error_arg;
};
struct dopy_proxy {
	dopy_conn	*conn;
	char		*object;
	unsigned	 gen;		/* a reference's connection, or 0 */
	int		 timeout_ms;	/* 0: the connection's */
	int		 deadline_ms;
	char		**oneway;	/* methods called without an answer */
	size_t		 noneway;
	int		 owns_conn;	/* dopy_open's: closed with the proxy */
};
/* Small: most calls have a few arguments; more grow the arrays (up to
 * DOPY_MAX_ARGS). */
#define DOPY_ARGS_INLINE	4
struct dopy_args {
	size_t		 n, cap;
	char		**names;
	dopy_value	**v;
	char		*names_in[DOPY_ARGS_INLINE];
	dopy_value	*v_in[DOPY_ARGS_INLINE];
	/* The first arguments' values when they are scalars
	 * (dopy_args_int and its kin): held here, not each malloc'd. */
	struct dopy_value val_in[DOPY_ARGS_INLINE];
};
enum dopy_target_kind {
	DOPY_TARGET_EXEC, DOPY_TARGET_TCP, DOPY_TARGET_UNIX, DOPY_TARGET_SSH,
	DOPY_TARGET_NAME
};
struct dopy_target {
	enum dopy_target_kind	 kind;
	char			*host, *port;	/* TCP, SSH (port may be NULL) */
	char			*path;		/* UNIX */
	char			*user;		/* SSH, may be NULL */
	char			*command;	/* EXEC, SSH; NAME: the name */
	char			*object;	/* may be NULL */
	char			*deliver;	/* SSH: a local program to send */
	int			 trust_ns;	/* NAME: DOPY_CONNECT_TRUST_NS */
};
/* An empty frame from the client (RELEASE); thread-safe. */
int	 dopy_conn_send_frame(dopy_conn *, uint8_t type, uint32_t id,
	    dopy_error **);
/* The same with a payload that put writes into the frame's buffer (0 or
 * a DOPY_E_* code) and the header's flags. */
int	 dopy_conn_send_payload(dopy_conn *, uint8_t type, uint8_t flags,
	    uint32_t id, int (*put)(struct dopy_buf *, const void *),
	    const void *arg, dopy_error **);
/* Spawn /bin/sh -c command with pipes; returns the child's pid. */
int	 dopy_spawn(const char *command, int *in, int *out, pid_t *pid,
	    dopy_error **);
int	 dopy_conn_hello(dopy_conn *, dopy_error **);
/* conn.c: the early HELLO (hello_state) */
enum { DOPY_HELLO_DONE = 0, DOPY_HELLO_QUEUED, DOPY_HELLO_SENT };
/* The largest call payload that may go out now: DOPY_FRAME_MIN until
 * the server's HELLO is in; lock held. */
uint32_t dopy_conn_send_max(const dopy_conn *);
/* hello_out went out (ahead of a call) with write result r: SENT, or
 * the exchange failed with its error in ep.  wlock held, not lock. */
int	 dopy_conn_hello_sent(dopy_conn *, int r, dopy_error **);
/* The reader's frame while SENT, or (f NULL) its read error r: 0 with
 * the server's HELLO taken, or why the exchange failed.  Role held. */
int	 dopy_conn_hello_check(dopy_conn *, const struct dopy_frame *f,
	    int r, dopy_error **);
/* future.c: the exchange failed with e (taken): every call waiting fails
 * with a copy, and so does every later one; lock held. */
void	 dopy_conn_hello_fail(dopy_conn *, dopy_error *e);
/* future.c: a copy of the failed exchange's error in ep; its code. */
int	 dopy_conn_hello_error(const dopy_conn *, dopy_error **);
/* conn.c, connect.c: the connect family with DOPY_CONNECT_* flags. */
int	 dopy_conn_fds_flags(int in, int out, const dopy_key *, int flags,
	    dopy_conn **, dopy_error **);
int	 dopy_conn_spawn_flags(const char *command, const dopy_key *,
	    int flags, dopy_conn **, dopy_error **);
/* conn.c: wait for a child: forever when ms is 0, else up to ms; 0
 * once reaped, with its status. */
int	 dopy_reap(pid_t pid, int ms, int *status);
/* conn.c: a connection over the pipes in, out of a child already
 * started (pid); command names it in messages. */
int	 dopy_conn_child_flags(int in, int out, pid_t pid, const char *command,
	    const dopy_key *, int flags, dopy_conn **, dopy_error **);
/* conn.c: make the transport usable again (reconnect) or say why not;
 * called with c->lock held. */
int	 dopy_conn_ensure(dopy_conn *, dopy_error **);
/* conn.c: remember how to dial again; DOPY_E_NOMEM. */
int	 dopy_conn_remember(dopy_conn *, const dopy_target *, const dopy_key *);
/* future.c: the transport is gone: every waiting call fails with code
 * (DOPY_E_LOST unless the server said why in e); lock held. */
void	 dopy_conn_lost(dopy_conn *, int code, const dopy_error *e);
/* future.c: the drain hook of a client's channel (chan.c). */
void	 dopy_conn_drain(void *);
/* future.c: fail what is still pending at close; lock held. */
void	 dopy_futures_detach(dopy_conn *);
/* proxy.c: append a whole CALL (or ONEWAY, CALLBACK) frame to b. */
int	 dopy_put_call(struct dopy_buf *, uint8_t type, uint32_t id,
	    const char *object, const char *method, const dopy_args *,
	    uint32_t max_frame, dopy_error **);
/* What writes a call's payload (header, names, argument images) into b
 * from arg: argument values (dopy_args_encode), or a stub's put. */
typedef int (*dopy_callenc_fn)(struct dopy_buf *b, const char *object,
	    const char *method, const void *arg);
int	 dopy_args_encode(struct dopy_buf *, const char *object,
	    const char *method, const void *args);
/* The same through enc, the header's flags set (DOPY_FL_*). */
int	 dopy_put_call_enc(struct dopy_buf *, uint8_t type, uint8_t flags,
	    uint32_t id, const char *object, const char *method,
	    dopy_callenc_fn, const void *arg, uint32_t max_frame,
	    dopy_error **);
/* stub.c: a stub's call (arg: struct dopy_stub_args), positional
 * arguments written by put. */
struct dopy_stub_args {
	size_t		 nargs;
	dopy_put_fn	 put;
	const void	*args;
};
int	 dopy_stub_encode(struct dopy_buf *, const char *object,
	    const char *method, const void *arg);
/* proxy.c: the index of a method p calls oneway, or -1. */
int	 dopy_proxy_oneway_index(const dopy_proxy *, const char *method);
/* proxy.c: send a ONEWAY frame, answered never. */
int	 dopy_call_oneway_enc(dopy_proxy *, const char *method,
	    dopy_callenc_fn, const void *arg, dopy_error **);
/* future.c: a usable connection (dialling again if allowed) and the
 * next call id, for a oneway call. */
int	 dopy_conn_claim_id(dopy_proxy *, uint32_t *id, dopy_error **);
/* proxy.c: encode and write one call frame (CALL, ONEWAY). */
int	 dopy_send_call(dopy_proxy *, uint8_t type, uint32_t id,
	    const char *method, const dopy_args *, dopy_error **);
int	 dopy_send_enc(dopy_proxy *, uint8_t type, uint8_t flags,
	    uint32_t id, const char *method, dopy_callenc_fn, const void *arg,
	    dopy_error **);
/* future.c: a call sent through enc whose answer, if get is set, is
 * read by get into result (stub.c) instead of made a value. */
int	 dopy_call_async_enc(dopy_proxy *, const char *method,
	    dopy_callenc_fn, const void *arg, int stub, dopy_get_fn get,
	    void *result, dopy_future_fn, void *fnarg, dopy_future **,
	    dopy_error **);
/* future.c: the same for an upload (upload.c): its CALL is flagged
 * DOPY_FL_UPLOAD, and its items follow. */
int	 dopy_upload_call(dopy_proxy *, const char *method, dopy_callenc_fn,
	    const void *arg, int stub, dopy_get_fn get, void *result,
	    dopy_future **, dopy_error **);
/* future.c: a registered future for a call about to be sent. */
int	 dopy_future_start(dopy_proxy *, const char *method, dopy_future_fn,
	    void *, dopy_future **, dopy_error **);
void	 dopy_future_unsend(dopy_future *);
/* future.c: a stream's call sent through enc, its items into q. */
int	 dopy_stream_send(dopy_proxy *, const char *method, dopy_callenc_fn,
	    const void *arg, struct dopy_squeue *q, dopy_future **,
	    dopy_error **);
/* future.c: until f is answered or its queue has an item (f->conn's
 * lock held). */
void	 dopy_future_wait_item(dopy_future *);
/* future.c: the first item of q, taken (NULL if none); a full queue
 * that has room again lets the connection be read.  Lock held. */
struct dopy_sitem *dopy_squeue_pop(dopy_conn *, struct dopy_squeue *);
/* future.c: drop what q holds; lock held (c NULL: none). */
void	 dopy_squeue_clear(dopy_conn *, struct dopy_squeue *);
/* future.c: an answer's (or an item's) payload as a value, or read by
 * a stub's get; the code, with the error made in e. */
int	 dopy_answer_value(const struct dopy_frame *, dopy_value **,
	    dopy_error **);
int	 dopy_answer_stub(const struct dopy_frame *, dopy_get_fn, void *,
	    dopy_error **);
/* target.c */
dopy_target *dopy_target_dup(const dopy_target *);
/* connect.c: the local command that runs remote (a shell command line,
 * as ssh passes it on) on the ssh target t; NULL without memory. */
char	*dopy_ssh_command(const dopy_target *t, const char *remote);
/* connect.c: open t's transport without HELLO: a socket (in == out,
 * *pid -1) or a spawned command's pipes (*pid its pid); 0 or DOPY_E_*. */
int	 dopy_target_dial_raw(const dopy_target *t, int *in, int *out,
	    pid_t *pid, dopy_error **);
/* connect.c: s in single quotes for a POSIX shell, appended to f. */
void	 dopy_shquote(FILE *f, const char *s);
/*
 * bundle.c: a program to deliver and the libraries it needs that the GNU
 * C library does not provide (as ldd(1) resolves them here), each read
 * whole with its SHA-256; the manifest "NAME SIZE HASH ..." (program
 * first) and the SHA-256 of its lines, which names the bundle.
 */
#define DOPY_BUNDLE_FILES	48
#define DOPY_BUNDLE_NAME_MAX	64
#define DOPY_BUNDLE_MAX		(256u << 20)	/* all files together */
struct dopy_bundle_file {
	char		*name;		/* the program's base name, a soname */
	uint8_t		*data;
	size_t		 len;
	char		 hash[65];
};
struct dopy_bundle {
	struct dopy_bundle_file	 f[DOPY_BUNDLE_FILES];
	size_t			 n, total;
	char			*interp;	/* PT_INTERP; NULL: static */
	char			*manifest;
	char			 hash[65];
};
/* 0, or -1 with the reason in err (cap bytes); free it either way. */
int	 dopy_bundle_load(struct dopy_bundle *, const char *program,
	    char *err, size_t cap);
void	 dopy_bundle_free(struct dopy_bundle *);
/* Whether glibc provides the library of this soname. */
int	 dopy_bundle_glibc(const char *soname);
/* A regular file of 1 byte to DOPY_BUNDLE_MAX, read whole (malloc'd);
 * NULL with the reason in err. */
char	*dopy_bundle_slurp(const char *path, size_t *len, char *err,
	    size_t cap);
/* deliver.c: connect to t, an ssh target with a program to deliver
 * (dopy-rsh(1) DELIVERY). */
int	 dopy_deliver_dial(const dopy_target *t, const dopy_key *, int flags,
	    dopy_conn **, dopy_error **);
/* future.c: settle f, still pending, with a local error (code, name,
 * message); 0, or -1 when it was answered already.  Lock held. */
int	 dopy_future_settle_local(dopy_future *, int code, const char *name,
	    const char *msg);

/* ---- cancel.c: CANCEL frames, deadlines sent and inherited ---- */
/* Whether the server acts on feature bit (both HELLOs have it); lock
 * held or not (set before calls go out). */
int	 dopy_conn_uses(const dopy_conn *, uint64_t feature);
/* At the start of a call made while a method runs in this thread: fail
 * it (DOPY_E_TIMEOUT dopy.DeadlineExceeded, DOPY_E_CANCELLED
 * dopy.Cancelled) when that call has stopped, else *deadline_ms becomes
 * the smaller of itself (0: none) and what that call has left. */
int	 dopy_deadline_inherit(const char *what, int *deadline_ms,
	    dopy_error **);
/* A call's encoder wrapped to write the deadline image first (its
 * header is then flagged DOPY_FL_DEADLINE). */
struct dopy_dlenc {
	dopy_callenc_fn	 enc;
	const void	*arg;
	int64_t		 until;		/* dopy_now_ms() limit */
};
int	 dopy_deadline_enc(struct dopy_buf *, const char *object,
	    const char *method, const void *arg);
/* Wrap enc when f has a deadline the server takes: 1, with enc and arg
 * replaced by the wrapper and dl; else 0. */
int	 dopy_deadline_wrap(dopy_future *, struct dopy_dlenc *dl,
	    dopy_callenc_fn *enc, const void **arg);
/* A CANCEL for call id (one a local expiry gave up on; the future says
 * it is due while the waiter holds the lock); lock not held. */
void	 dopy_conn_cancel_id(dopy_conn *, uint32_t id);
/* Closing: CANCEL for every call in flight, if it goes out at once. */
void	 dopy_conn_cancel_all(dopy_conn *);

/* ---- implemented by the server layer, called from here ---- */
/*
 * Callbacks run both ways on one connection: a proxy whose conn belongs
 * to a session (conn.sess) is the server calling its client back, and
 * a CALLBACK frame read by a client is one of its published objects
 * called.  Both are served by code in lib/server/, which includes this
 * header for struct dopy_conn; only these entry points point up.
 */
struct dopy_session;
/* callback.c: a proxy call made on the server to the client's object. */
int	 dopy_session_callback(struct dopy_session *, const char *object,
	    const char *method, const dopy_args *, dopy_value **result,
	    dopy_error **);
/* clientcb.c: run a CALLBACK frame's payload (a copy) and answer it. */
void	 dopy_clientcb_run(dopy_conn *, uint32_t id, uint8_t *payload,
	    size_t len);
/* cancel.c: the call a method runs in this thread, or NULL: client calls
 * made from it inherit its deadline and cancellation. */
dopy_call *dopy_current_call(void);

/* trace.c: watch a connection's frames as the environment asks
 * (begin: before HELLO), again after a redial, no more (end). */
void	 dopy_conn_trace_begin(dopy_conn *);
void	 dopy_conn_trace_redial(dopy_conn *);
void	 dopy_conn_trace_end(dopy_conn *);

#endif /* DOPY_CLIENT_H */
