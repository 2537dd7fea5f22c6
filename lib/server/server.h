/*
 * server.h - the server layer's private declarations (lib/server/):
 * the registry of objects, dispatch, sessions, references, callbacks,
 * watchers, peer identity, the stdout guard and the log.  Above wire;
 * callback.c and clientcb.c also use client.h (callbacks run over a
 * client connection).  Never installed.
 */
#ifndef DOPY_SERVER_H
#define DOPY_SERVER_H

#include "wire/wire.h"

#define DOPY_MAX_NEST		16	/* calls and callbacks inside each other */
#define DOPY_MAX_REFS		10000	/* objects by reference per connection */

/* ---- log.c ---- */
struct dopy_log {
	enum dopy_log_sink	 sink;
	int			 fd;	/* STDERR/FILE */
	int			 verbose;
	char			 ident[32];
};
void	 dopy_log_init(struct dopy_log *);
int	 dopy_log_open(struct dopy_log *, enum dopy_log_sink, const char *);
void	 dopy_log_close(struct dopy_log *);
void	 dopy_log(struct dopy_log *, int prio, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/*
 * What a peer can make us log is rate-limited per connection (a token
 * bucket): a burst of DOPY_LOG_BURST lines, then one a second; the rest
 * are counted, and the count is logged when the connection ends.
 */
#define DOPY_LOG_BURST		20
#define DOPY_LOG_EVERY_MS	1000
struct dopy_lograte {
	int64_t		 at;		/* last refill, dopy_now_ms(); 0: new */
	int		 tokens;
	uint64_t	 dropped;
};
void	 dopy_vlog_limited(struct dopy_log *, struct dopy_lograte *,
	    int prio, const char *fmt, va_list);
/* -v: one frame (out 0: read, 1: written) as dopy-dump(1) prints it. */
void	 dopy_log_frame(struct dopy_log *, int out, const uint8_t *hdr,
	    const struct iovec *payload, int cnt);

/* ---- server side ---- */
struct dopy_callmsg;
struct dopy_object {
	const struct dopy_object_def	*def;
	void				*state;
	/* Keys "NAME/PATH" go here (pos): the call is the route's. */
	void	(*route)(dopy_server *, const struct dopy_object *,
		    struct dopy_callmsg *, struct dopy_call *, const char *);
	/* For introspection: the object a routed key stands for. */
	const struct dopy_object *(*resolve)(dopy_server *,
		    const struct dopy_object *, const char *);
	size_t				 nmethods;
	/* per method, a hash of its name: dopy_find_method compares these
	 * before any name (a generated object has dozens of methods) */
	uint32_t			*mhash;
	struct dopy_sig			**sigs;		/* per method */
	dopy_type			**results;	/* per method or NULL */
	/* stream.c: per method, whether its result is "stream T" (T in
	 * results). */
	unsigned char			*streams;
	/* attr.c: per method, the attribute a get:/set: method serves. */
	const struct dopy_attr		**attrs;
	/* server.c: methods declared oneway (the first noneway methods'
	 * flags; NULL: none). */
	unsigned char			*oneway;
	size_t				 noneway;
	/* isolate.c: per method, the grace in ms of one run isolated
	 * (dopy_server_set_isolated; 0: runs in process; NULL: none). */
	int				*isolated;
	size_t				 nisolated;
	/* sandbox.c: per method (nisolated of them), its calls' sandbox,
	 * or NULL; NULL: none. */
	struct dopy_sandbox		**sandbox;
	/* stubcall.c: a generated object's (dopy_server_set_stub), or
	 * NULL. */
	struct dopy_stubobj		*stub;
};
struct dopy_listen_opts {
	const char	*addr;		/* -l */
	unsigned	 maxconn;	/* -c */
	unsigned	 perpeer;	/* -C, 0: no cap */
	int		 announce;	/* -B: print the bound port */
	const char	*pidfile;	/* -p */
	const char	*user;		/* -u USER[:GROUP] */
	int		 single;	/* -s: one process, calls serialised */
	int		 grace;		/* seconds children get on SIGTERM */
	char		**names;	/* -n NAME[=OBJECT] (register.c) */
	size_t		 nnames;
};
struct dopy_server {
	struct dopy_object	*objs;
	size_t			 nobjs;
	struct dopy_log		 log;
	uint32_t		 max_frame;
	int			 handshake_ms;	/* HELLO deadline */
	int			 idle_ms;	/* 0: no idle timeout */
	int			 send_ms;	/* -w; 0: dopy_server_send_ms */
	int			 proctitle;	/* show peer and method in ps */
	struct dopy_listen_opts	 lopt;
	pthread_mutex_t		 lock;		/* dispatch, in -s mode */
	int			 locking;
	/* listen.c in -s mode, around the fork of an isolated call
	 * (isolate.c): before, in the parent; after, in both (child 1
	 * in the child), which then closes what is the listener's. */
	struct dopy_forkhook {
		void	(*before)(void *arg);
		void	(*after)(void *arg, int child);
		void	*arg;
	}			 forkhook;
	char			 errmsg[256];
	dopy_key		*key;		/* -k: required of clients */
	struct dopy_sandbox	*sandbox;	/* every connection's, or NULL */
	struct dopy_pclass_ent {
		const struct dopy_pclass	*def;
		struct dopy_object_def		 odef;
		struct dopy_object		 obj;
		dopy_type			*state;
		size_t				 size;	/* C struct */
		const size_t			*offsets;
	}			*pclasses;
	size_t			 npclasses;
	struct dopy_owned {
		void	 *p;
		void	(*free)(void *);
	}			*owned;		/* freed with the server */
	size_t			 nowned;
	char			 host[256];
	long			 pid;
	uint64_t		 ncalls;
	int			 ref_age_ms;	/* ref.c: 0, never reaped */
	unsigned		 max_refs;	/* ref.c: per connection, 0: no cap */
	int			 bare_errors;	/* no trace, host or pid sent */
	int			 crash_off;	/* crash.c: no crash reports */
	struct dopy_watch {		/* watch.c: extra fds */
		int		 fd;
		short		 events;
		dopy_fd_fn	 fn;
		void		*arg;
	}			*watches;
	size_t			 nwatches;
	struct dopy_stubdef {		/* stubcall.c: generated tables */
		const struct dopy_object_def	*def;
		char				*text;
	}			*stubdefs;
	size_t			 nstubdefs;
	/* record.c: dopyd -Y and -W */
	char			*rec_path;
	char			**rec_omit;	/* "object.method" */
	size_t			 nrec_omit;
	struct dopy_fake	*fake;		/* fake.c: dopyd -F, or NULL */
};
/* Who is on the other end, whichever launcher started us. */
struct dopy_peer {
	char	transport[8];	/* "pipe" "tcp" "unix" "ssh" */
	char	addr[64];	/* IP address, or "" */
	char	port[8];
	long	uid, gid;	/* UNIX socket peers, else -1 */
	char	ssh[128];	/* $SSH_CONNECTION */
	int	verified;	/* the shared key was checked */
	char	name[72];	/* for logs and caps: address, "uid N", ... */
};
/* cancel.c: a call running on a session (a stack: a method waiting
 * for a callback runs the client's calls above it). */
struct dopy_running {
	dopy_call		*call;
	uint32_t		 id;		/* 0: ONEWAY */
	int64_t			 deadline;	/* dopy_now_ms() limit, 0: none */
	int			 why;		/* DOPY_STOP_*, 0: running on */
	dopy_call		*outer;		/* the thread's current call before */
	struct dopy_running	*up;
	struct dopy_upq		*upq;		/* upload.c: its items, or NULL */
};
enum { DOPY_STOP_CANCEL = 1, DOPY_STOP_GONE, DOPY_STOP_DEADLINE };
/* cancel.c: a CALL seen buffered behind the running one: when it came,
 * and whether a CANCEL for it came after it. */
#define DOPY_CALL_NOTES		128
struct dopy_callnote {
	uint32_t	 id;
	int		 cancelled;
	int64_t		 seen_ms;
};
/* One connection being served. */
struct dopy_session {
	dopy_server		*srv;
	struct dopy_chan	 ch;
	struct dopy_peer	 peer;
	uint64_t		 calls;
	int64_t			 start_ms;
	char			 title_obj[32], title_meth[32];
	struct dopy_reftab	*refs;		/* ref.c, NULL until the first */
	dopy_conn		*peer_conn;	/* callback.c: calls to the client */
	uint32_t		 next_cb_id;	/* CALLBACK ids */
	int			 depth;		/* calls and callbacks nested */
	int64_t			 progress_ms;	/* last PROGRESS sent */
	int64_t			 scan_ms;	/* stream.c: last input scan */
	struct dopy_lograte	 noise;		/* what the peer makes us log */
	/* Called once when the connection is over, before the references'
	 * gone hooks run (listen.c counts connections by it), or NULL. */
	void			(*over)(void *);
	void			*over_arg;
	/* stubcall.c: generated objects' calls, one per nesting depth,
	 * made on first use and kept for the next. */
	struct dopy_stubcall	*stubs[DOPY_MAX_NEST + 1];
	/* The features in use (both HELLOs announce them); cancel.c: the
	 * running calls (innermost first), calls noted behind them, EOF
	 * seen by a scan. */
	uint64_t		 features;
	struct dopy_running	*running;
	struct dopy_callnote	 notes[DOPY_CALL_NOTES];
	size_t			 nnotes;
	int			 gone;
	/* isolate.c: this process is an isolated call's child, its
	 * channel the pipes to the connection process. */
	int			 iso_child;
	/* record.c: the channel's tap, and the recording it feeds */
	struct dopy_tap		 tap;
	struct dopy_rec		*rec;
};
/* record.c: watch the session's frames (recording, -v) or not. */
void	 dopy_record_begin(struct dopy_session *);
void	 dopy_record_end(struct dopy_session *);
void	 dopy_record_free(dopy_server *);
int	 dopy_recorder_add(dopy_server *);
/* fake.c: whether a frame of this type goes to the fake server (s has
 * one, and it is a call, an item, a CANCEL or a RELEASE). */
int	 dopy_fake_takes(const dopy_server *, uint8_t type);
/* fake.c: answer it from the recording; 0 or the failed write's code. */
int	 dopy_fake_frame(struct dopy_session *, const struct dopy_frame *);
/* serve.c: log a complaint about the peer, within its rate limit. */
void	 dopy_session_complain(struct dopy_session *, int prio,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* ref.c: the session's references (serve.c calls these). */
/* RELEASE frame: drop id (gone(RELEASED)); DOPY_E_USAGE if no such id. */
int	 dopy_refs_release(struct dopy_session *, uint32_t id);
/* Reap what is older than the age; ms until the next may be due, or -1. */
int	 dopy_refs_reap(struct dopy_session *, int64_t now_ms);
/* The connection ends: every object gone(CLOSED), table freed. */
void	 dopy_refs_end(struct dopy_session *);
/* The object at key "@ID" on this session, touched; NULL if none. */
const struct dopy_object *dopy_refs_lookup(struct dopy_session *,
	    const char *key);
/* ref.c: a ref argument's id is live on this session (and now used):
 * 0, or DOPY_E_USAGE. */
int	 dopy_refs_use(struct dopy_session *, uint32_t id);
/* An object by key: a name, a routed key ("pos/a/b") or, with a
 * session, "@ID"; NULL if none.  sess may be NULL. */
const struct dopy_object *dopy_object_lookup_in(dopy_server *,
	    struct dopy_session *, const char *key);
/* Who is on fd.  accepted: from our own listener, so never ssh. */
void	 dopy_peer_detect(struct dopy_peer *, int fd, int accepted);
/* Point fds 0-2 away from the connection on in/out (stdio.c). */
int	 dopy_stdio_away(dopy_server *, int in, int out);
int	 dopy_session_serve(struct dopy_session *, int in, int out);
/* ---- serve.c, callback.c, watch.c: the server runtime ---- */
/* serve.c: read one frame, waiting at most wait_ms of silence (0: no
 * limit), and handle it; top: the connection's own loop (watchers run,
 * references are reaped), else a callback wait.  0 after a frame;
 * DOPY_E_TIMEOUT; or the code that ended the connection (reported
 * already; DOPY_E_CLOSED at EOF). */
int	 dopy_session_step(struct dopy_session *, int wait_ms, int top);
/* callback.c: a CALLBACK_REPLY or CALLBACK_ERROR from the client. */
void	 dopy_callback_answer(struct dopy_session *, const struct dopy_frame *);
/* callback.c: whether the connection ended inside a callback wait, and
 * how (code may be NULL); set_over records it. */
int	 dopy_callback_over(struct dopy_session *, int *code);
void	 dopy_callback_set_over(struct dopy_session *, int code);
/* callback.c: the connection ends: free session->peer_conn. */
void	 dopy_callback_end(struct dopy_session *);
/* watch.c: poll in, and the watched fds if watchers, for ms (-1: no
 * limit) and run the watchers that are ready.  1 when in is readable,
 * else 0; DOPY_E_SYS, DOPY_E_NOMEM. */
int	 dopy_watch_poll(dopy_server *, int in, int ms, int watchers);
/* server.c: the write deadline of a connection: -w, else the idle limit,
 * else DOPY_SEND_MS. */
#define DOPY_SEND_MS		60000
int	 dopy_server_send_ms(const dopy_server *);
#define DOPY_CALL_INLINE	4
struct dopy_call {
	dopy_server		*srv;
	struct dopy_session	*sess;
	struct dopy_object	*obj;
	size_t			 midx;
	const struct dopy_sig	*sig;
	dopy_value		*result;
	dopy_error		*err;
	const struct dopy_callmsg *msg;		/* names errors before obj */
	dopy_value		*pstate;	/* persistent objects */
	void			*pstruct;	/* ... as a C struct (pstruct.c) */
	const char		*path;
	uint32_t		 id;		/* frame id; 0 for ONEWAY */
	int			 answered;	/* a declared-oneway method's
						 * empty REPLY went out early */
	int			 relayed;	/* isolate.c: the child's answer
						 * went out; err is its copy */
	struct dopy_stubcall	*stub;		/* a generated object's call */
	struct dopy_out		 iout;		/* stream.c: an item's writer */
	/* A scalar result (dopy_return_int and its kin): result points
	 * here rather than to a malloc'd value; dopy_call_drop_result. */
	struct dopy_value	 resin;
	/* The first arguments' values when they are scalars (bind_one in
	 * dispatch.c): held here, not each malloc'd; argv points here. */
	struct dopy_value	 argin[DOPY_CALL_INLINE];
	/* Last, and defined only below sig->n (NULL until bound): the
	 * rest is never read, and clearing all of it cost a small call
	 * more than its arguments. */
	dopy_value		*argv[DOPY_MAX_ARGS];
};
/* dispatch.c: free c's result, wherever it is held, and clear it. */
void	 dopy_call_drop_result(dopy_call *);
/* serve.c: send the frame in the channel's write buffer (begun with
 * dopy_chan_begin), traced; 0 or the write's code. */
int	 dopy_session_send(struct dopy_session *, uint8_t type, uint32_t id);
/* stream.c: whether c's method streams its results ("stream T"). */
int	 dopy_call_streams(const dopy_call *);
/* stream.c: before a streaming method runs: 0, or dopy.Unsupported
 * raised when its caller cannot read items. */
int	 dopy_stream_check(dopy_call *);
/* stream.c: after it ran: a result it set is an error (raised). */
void	 dopy_stream_result(dopy_call *);
/* serve.c: answer call id now with an empty REPLY (a method the server
 * declared oneway); 0 or an error code. */
int	 dopy_session_answer_early(struct dopy_session *, uint32_t id);
const struct dopy_object *dopy_server_find(const dopy_server *,
	    const char *name);
/* The object registered as object and its method's index: 0, or
 * DOPY_E_INVAL, or DOPY_E_USAGE with the reason in errmsg. */
int	 dopy_server_method(dopy_server *, const char *object,
	    const char *method, struct dopy_object **, size_t *);
/* The reason for a refused registration into errmsg; DOPY_E_USAGE. */
int	 dopy_server_fail(dopy_server *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Free p with fn when the server is freed; on failure frees it now. */
int	 dopy_server_own(dopy_server *, void *p, void (*fn)(void *));
/* Run one decoded CALL; leaves a result or an error in call. */
void	 dopy_dispatch(dopy_server *, struct dopy_callmsg *,
	    struct dopy_call *);
/* The method of o called method, in c (obj, midx, sig; argv cleared):
 * 0, or dopy.UnknownMethod raised in c.  Nothing may act on a method
 * name from the wire before this has found it in a table. */
int	 dopy_find_method(dopy_call *, const struct dopy_object *,
	    const char *method);
/* Method lookup, binding and running against one object. */
void	 dopy_dispatch_object(dopy_server *, const struct dopy_object *,
	    struct dopy_callmsg *, struct dopy_call *);
/* Prepare an object (signatures, results) as dopy_server_add does. */
int	 dopy_object_prepare(dopy_server *, struct dopy_object *);
/* The hash of a method name that struct dopy_object's mhash holds. */
uint32_t dopy_method_hash(const char *);
void	 dopy_object_release(struct dopy_object *);
/* The same, for a call arriving on a session (caller identity). */
void	 dopy_dispatch_in(dopy_server *, struct dopy_session *,
	    struct dopy_callmsg *, struct dopy_call *);
void	 dopy_call_release(struct dopy_call *);
/* Free the call's arguments (before its reply goes out, so a client that
 * reads slowly does not keep them alive). */
void	 dopy_call_drop_args(struct dopy_call *);
/* Raise an error about a call after it ran (its result did not fit), with
 * the trace line dispatch adds. */
void	 dopy_call_fail_late(struct dopy_call *, const char *name,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int	 dopy_introspect_add(dopy_server *);
/* server.c: whether method is one of the class's readonly ones. */
int	 dopy_pclass_readonly(const struct dopy_pclass *, const char *method);
/* iface.c: o's interface text (dopy-idl(5)), malloc'd: the one set with
 * dopy_server_set_stub, else made from its table; NULL without memory. */
char	*dopy_iface_text(dopy_server *, const struct dopy_object *o);

/* dispatch.c: binding arguments, for dispatch.c and stubcall.c.  Each
 * raises its error in the call and returns DOPY_E_REMOTE, else 0. */
int	 dopy_call_fail(dopy_call *, const char *name, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* The parameter k the argument i of m binds to (named: a named one came
 * before it). */
int	 dopy_call_arg_slot(dopy_call *, const struct dopy_callmsg *m,
	    size_t i, int *named, size_t *k);
int	 dopy_call_twice(dopy_call *, size_t k);
int	 dopy_call_missing(dopy_call *, size_t k);
/* Parameter k's image decoded; its failure r (a DOPY_E_*, err) raised. */
int	 dopy_call_decode_arg(dopy_call *, size_t k, const struct dopy_image *,
	    dopy_value **);
int	 dopy_call_arg_error(dopy_call *, size_t k, int r, const char *err);
/* An argument's refs live. */
int	 dopy_call_ref_ok(dopy_call *, const char *param, const dopy_value *);

/* ---- cancel.c: CANCEL frames and deadlines (dopy(5)) ---- */
/* A CALL or ONEWAY's deadline: with DOPY_FL_DEADLINE (and DEADLINE in
 * use) the uint image before the payload, *skip its length, *deadline
 * the arrival plus it; else 0 and 0.  DOPY_E_PROTO with err. */
int	 dopy_cancel_deadline_get(struct dopy_session *,
	    const struct dopy_frame *, size_t *skip, int64_t *deadline,
	    char *err, size_t errlen);
/* Before a call runs: 1 when it was cancelled while queued or is past
 * its deadline, the error raised in call (initialised here); else 0. */
int	 dopy_cancel_refused(struct dopy_session *, struct dopy_callmsg *,
	    dopy_call *, uint32_t id, int64_t deadline);
/* Around dispatch: push makes call the running one (and the thread's
 * current call); pop applies the deadline to its outcome and logs how a
 * stopped call ended. */
void	 dopy_running_push(struct dopy_session *, struct dopy_running *,
	    dopy_call *, uint32_t id, int64_t deadline);
void	 dopy_running_pop(struct dopy_session *, struct dopy_running *);
/* A CANCEL frame read by the loop: 0 when acted on or ignored, -1 when
 * the client did not announce CANCEL (the frame is then unknown). */
int	 dopy_cancel_frame(struct dopy_session *, const struct dopy_frame *);
/* Whether the call has been stopped, without reading anything. */
int	 dopy_call_stopped(dopy_call *);
/* Whether dopy_call_cancelled would read more of the client's input
 * (it has not gone, and less than a frame limit is buffered). */
int	 dopy_cancel_readable(struct dopy_session *);

/* The running entry of call, or NULL. */
struct dopy_running *dopy_running_of(dopy_call *);

/* ---- upload.c: items from the client (dopy(5), Uploads) ---- */
/* Before a method that takes an upload runs: 0, or dopy.Unsupported
 * raised when its caller cannot send items. */
int	 dopy_upload_check(dopy_call *);
/* An ITEM frame read by the loop: 0 when queued or dropped, -1 when the
 * client did not announce uploads (the frame is then unknown). */
int	 dopy_upload_frame(struct dopy_session *, const struct dopy_frame *);
/* The call is over: its queued items go. */
void	 dopy_upload_end(struct dopy_running *);

/* ---- isolate.c: methods run in a forked child ---- */
/* dopy_server_set_isolated's default grace, which dopy-idl(5) and
 * iface.c leave unsaid (lib/idl/lex.h has it too; a test compares). */
#define DOPY_ISOLATE_GRACE_MS	2000
/* After binding: 1 when the method is to run here (not isolated, or
 * this is the child); 0 in the parent, the call answered through the
 * child (c->answered, c->relayed) or its error raised in c. */
int	 dopy_isolate(dopy_call *);
/* In an isolated call's child, after its answer (r: the reply's
 * code): the child ends here; elsewhere nothing. */
void	 dopy_isolate_exit(struct dopy_session *, int r);

/* ---- crash.c: crash reports (dopy(5): dopy.Crash) ---- */
/* Before a session is served: the handler made ready for this process
 * and thread, and the session made this thread's; end undoes the
 * thread's part.  forked: in an isolated call's child (its own pipe). */
void	 dopy_crash_begin(struct dopy_session *);
/* The process's part and the calling thread's alternate stack, kept,
 * in a listener before it forks, so that its connection processes
 * inherit them (the handlers, the symbols mapped, the stack) instead
 * of each making them again. */
void	 dopy_crash_prepare(dopy_server *);
void	 dopy_crash_end(struct dopy_session *);
void	 dopy_crash_forked(struct dopy_session *);
/* crashsym.c: the program's symbol table, mapped; a function by pc
 * (async-signal-safe; NULL if none). */
void	 dopy_crashsym_init(void);
const char *dopy_crashsym_lookup(uintptr_t pc, uintptr_t look,
	    uintptr_t *fnoff, const char **path, uintptr_t *off);

/* ---- sandbox.c, sbxfilter.c: sandboxes (dopy_server_set_sandbox) ---- */
enum { DOPY_SBX_CPU, DOPY_SBX_AS, DOPY_SBX_NOFILE, DOPY_SBX_FSIZE,
	DOPY_SBX_NPROC, DOPY_SBX_NLIMITS };
#define DOPY_SBX_COMPUTE	0x1	/* profiles */
#define DOPY_SBX_READONLY	0x2
#define DOPY_SBX_NONET		0x4
#define DOPY_SBX_PATHS		16	/* read= and write= rules, each */
#define DOPY_SBX_SPEC		512
struct dopy_sandbox {
	unsigned	 profiles;
	int		 nnp;
	unsigned	 limset;		/* bit per DOPY_SBX_CPU... */
	uint64_t	 lim[DOPY_SBX_NLIMITS];
	const char	*read[DOPY_SBX_PATHS], *write[DOPY_SBX_PATHS];
	size_t		 nread, nwrite;		/* point into words */
	char		 words[DOPY_SBX_SPEC];
	char		 spec[DOPY_SBX_SPEC];	/* as given */
};
/* spec parsed into b: 0, or DOPY_E_USAGE with the reason in err. */
int	 dopy_sandbox_parse(struct dopy_sandbox *b, const char *spec,
	    char *err, size_t errlen);
/* Refuse what cannot work: a connection sandbox in -s mode (single),
 * forbidding the isolated methods' fork or the stores' files, or its
 * fsize with a log file (logfile); a method's limits under the
 * connection's.  0, or DOPY_E_USAGE with the reason in errmsg. */
int	 dopy_sandbox_check(dopy_server *, int single, int stores,
	    int logfile);
/* serve.c: after HELLO, the connection's sandbox; isolate.c: in the
 * child, c's method's.  0, or the reason in err (the caller must not
 * go on unsandboxed). */
int	 dopy_sandbox_apply(dopy_server *, const struct dopy_sandbox *,
	    char *err, size_t errlen);
/* isolate.c: in the child of c's isolated call: 1 to run the method
 * (sandboxed, or no sandbox), 0 with the error raised in c. */
int	 dopy_sandbox_enter_call(dopy_call *c);
/* What sig means under b ("the CPU time limit of 10 s (sandbox cpu=10)")
 * into buf, "" when nothing; not async-signal-safe. */
void	 dopy_sandbox_explain(const struct dopy_sandbox *, int sig,
	    char *buf, size_t len);
/* c's method's sandbox, or NULL. */
const struct dopy_sandbox *dopy_sandbox_of(const dopy_call *c);
/* sbxfilter.c: the seccomp filter of b's profiles and limits, loaded;
 * and its Landlock rules (1: this kernel has no Landlock, nothing done).
 * 0, or -1 with the reason in err. */
int	 dopy_sbx_seccomp(const struct dopy_sandbox *, char *err, size_t);
int	 dopy_sbx_landlock(const struct dopy_sandbox *, char *err, size_t);
/* The Landlock ABI version of this kernel, 0 without it. */
int	 dopy_sbx_landlock_abi(void);

/* ---- stubcall.c: generated objects (dopy_server_set_stub) ---- */
struct dopy_stubobj {
	char			 *text;		/* its interface, or NULL */
	/* Per method, per parameter: its default's image (p NULL: none),
	 * made once at dopy_server_set_stub. */
	struct dopy_image	**defs;
	struct dopy_buf		 *blocks;	/* per method: their bytes */
};
struct dopy_stubcall {
	struct dopy_in		 in;
	struct dopy_out		 out;
	struct dopy_buf		 args;		/* the images, copied */
	struct dopy_buf		 res;		/* the result's image */
	struct dopy_image	 img[DOPY_MAX_ARGS];
	int			 owned;		/* freed with the call */
};
/* Bind m's arguments as images (no values) in call c of a generated
 * object: 0, or the error raised. */
int	 dopy_stub_bind(dopy_call *, const struct dopy_callmsg *m);
/* After the method: a reader's error raised as the argument's. */
void	 dopy_stub_in_error(dopy_call *);
/* After the method returned 0: its result image checked (0, or the
 * error raised), or 1 when it wrote none (dopy_call_return's, if any,
 * is then checked as usual). */
int	 dopy_stub_result(dopy_call *);
/* The result image to send, or NULL. */
const struct dopy_buf *dopy_stub_reply(const dopy_call *);
void	 dopy_stub_release(dopy_call *);
void	 dopy_stubobj_free(struct dopy_stubobj *, size_t nmethods);
/* The session is over: its calls' buffers go. */
void	 dopy_stub_session_end(struct dopy_session *);
/* ref.c: objects by reference made from a generated table
 * (dopy_server_set_stub_def) are generated too: 0, or DOPY_E_NOMEM. */
int	 dopy_stub_for_ref(dopy_server *, struct dopy_object *);
void	 dopy_stubdefs_free(dopy_server *);

/* attr.c: a scalar member of a C struct (bool is an int, int an
 * int64_t, uint a uint64_t, double a double) as a value and back; by
 * memcpy, so the member need not be aligned.  pstruct.c uses them too. */
dopy_value *dopy_member_get(const void *p, enum dopy_kind kind);
void	 dopy_member_set(void *p, const dopy_value *v);

#endif /* DOPY_SERVER_H */
