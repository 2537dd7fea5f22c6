/*
 * internal.h - struct layouts and helpers shared inside lib/.
 * Never installed.  The layers run bytes (buf) -> frames (frame, chan)
 * -> values (type, value, codec, literal) -> messages (msg) -> the
 * server (registry, dispatch, serve) and the client (conn, proxy).
 */
#ifndef DOPY_INTERNAL_H
#define DOPY_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <pthread.h>
#include <sys/types.h>

#include "dopy.h"

#define DOPY_SOFTWARE		"dopy " DOPY_VERSION
#define DOPY_HELLO_MAX		4096u		/* frame limit before HELLO */
#define DOPY_FRAME_MIN		4096u
#define DOPY_FRAME_DEFAULT	(16u * 1024 * 1024)
#define DOPY_HDR_LEN		12
#define DOPY_PIPE_SIZE		(1 << 20)	/* a server's output pipe */
#define DOPY_MAGIC0		0x64		/* 'd' */
#define DOPY_MAGIC1		0x70		/* 'p' */
#define DOPY_MAX_ARGS		64		/* per call */
#define DOPY_HELLO_TIMEOUT_MS	20000		/* both sides */
#define DOPY_MAX_DEPTH		8		/* array nesting */

/* Frame types, dopy(5). */
enum dopy_ftype {
	DOPY_F_HELLO = 1,
	DOPY_F_CALL = 2,
	DOPY_F_REPLY = 3,
	DOPY_F_ERROR = 4,
	DOPY_F_ONEWAY = 5,	/* a CALL that gets no answer */
	DOPY_F_CANCEL = 6,	/* reserved */
	DOPY_F_PROGRESS = 7,	/* server: call id is still running */
	DOPY_F_CALLBACK = 8,	/* server: a CALL of a client's object */
	DOPY_F_CALLBACK_REPLY = 9,	/* client: its REPLY to a CALLBACK */
	DOPY_F_RELEASE = 10,	/* client: drop reference id */
	DOPY_F_AUTH = 11,	/* the client's MAC; the server's empty ack */
	DOPY_F_CALLBACK_ERROR = 12,	/* client: its ERROR to a CALLBACK */
};
#define DOPY_MAX_NEST		16	/* calls and callbacks inside each other */
#define DOPY_MAX_REFS		10000	/* objects by reference per connection */

/* ---- buf.c: a bounded growable byte buffer ---- */
/*
 * A buffer the channel writes (dopy_buf_allow_refs) may hold large byte
 * strings by reference: dopy_chan_flush writes them from where they are
 * (writev), so a large value is not copied into the buffer.  Whatever
 * they point to must stay alive and unchanged until the frame is out.
 */
#define DOPY_BUF_REFS		8
#define DOPY_REF_MIN		(64u * 1024)	/* smaller ones are copied */
struct dopy_bufref {
	size_t		 at;	/* the bytes come before data[at] */
	const void	*p;
	size_t		 len;
};
struct dopy_buf {
	uint8_t	*data;
	size_t	 off;		/* first unread byte */
	size_t	 len;		/* end of valid bytes */
	size_t	 cap;
	int	 refok;		/* dopy_buf_put_ref may refer */
	size_t	 nrefs;
	struct dopy_bufref ref[DOPY_BUF_REFS];
};
void	 dopy_buf_init(struct dopy_buf *);
void	 dopy_buf_release(struct dopy_buf *);
/* Empty, holding no references and allowing none. */
void	 dopy_buf_reset(struct dopy_buf *);
void	 dopy_buf_allow_refs(struct dopy_buf *);
/* Append n bytes: by reference when allowed and n >= DOPY_REF_MIN,
 * else copied. */
int	 dopy_buf_put_ref(struct dopy_buf *, const void *, size_t n);
/* The bytes from offset from to the end, references included; one at
 * from ends what comes before (it is the previous value's). */
size_t	 dopy_buf_size(const struct dopy_buf *, size_t from);
/* Cut back to len bytes, dropping the references after them. */
void	 dopy_buf_truncate(struct dopy_buf *, size_t len);
/* Hand the block over to the caller (who frees it) and leave the
 * buffer empty. */
uint8_t	*dopy_buf_take(struct dopy_buf *);
/* malloc for a block that may be large (a frame, a bytes value): large
 * ones are backed by huge pages where the kernel has them. */
void	*dopy_alloc_large(size_t);
/* Make room for n more bytes at data+len; returns that pointer. */
uint8_t	*dopy_buf_reserve(struct dopy_buf *, size_t n);
int	 dopy_buf_put_slow(struct dopy_buf *, const void *, size_t);
/* Append n bytes; inline because encoding appends a few bytes at a time
 * and the room is nearly always there. */
static inline int
dopy_buf_put(struct dopy_buf *b, const void *p, size_t n)
{
	if (b->data != NULL && n <= b->cap - b->len && n <= PTRDIFF_MAX) {
		if (n > 0)
			memcpy(b->data + b->len, p, n);
		b->len += n;
		return 0;
	}
	return dopy_buf_put_slow(b, p, n);
}
size_t	 dopy_buf_avail(const struct dopy_buf *);
void	 dopy_buf_consume(struct dopy_buf *, size_t);

/* ---- frame.c: the 12-byte header ---- */
struct dopy_frame {
	uint8_t		 type;
	uint8_t		 flags;
	uint32_t	 id;
	uint32_t	 len;		/* payload length */
	const uint8_t	*payload;	/* valid until the next read */
	/* A large payload's own block, which a bytes value decoded from it
	 * may keep (dopy_image.lend); NULL for small frames. */
	struct dopy_buf	*lend;
};
void	 dopy_frame_encode(uint8_t hdr[DOPY_HDR_LEN], uint8_t type,
	    uint32_t id, uint32_t len);
/* Change the call id of an encoded header (batch.c numbers at run). */
void	 dopy_frame_set_id(uint8_t hdr[DOPY_HDR_LEN], uint32_t id);
/* 0, DOPY_E_PROTO (bad magic) or DOPY_E_TOOBIG (len > max). */
int	 dopy_frame_decode(const uint8_t hdr[DOPY_HDR_LEN], uint32_t max,
	    struct dopy_frame *);
/* The same checks, giving only the payload length; inline because the
 * read path asks this of every header, several times per frame. */
static inline int
dopy_frame_peek(const uint8_t hdr[DOPY_HDR_LEN], uint32_t max,
    uint32_t *len)
{
	if (hdr[0] != DOPY_MAGIC0 || hdr[1] != DOPY_MAGIC1)
		return DOPY_E_PROTO;
	*len = (uint32_t)hdr[8] << 24 | (uint32_t)hdr[9] << 16 |
	    (uint32_t)hdr[10] << 8 | hdr[11];
	return *len > max ? DOPY_E_TOOBIG : 0;
}
const char *dopy_frame_type_name(uint8_t type);

/* ---- chan.c: a framed channel over an fd pair ---- */
struct dopy_chan {
	int		 in, out;
	uint32_t	 max_frame;
	int64_t		 deadline;	/* dopy_now_ms() limit for reads, or 0 */
	struct dopy_buf	 rbuf;
	struct dopy_buf	 wbuf;
	struct dopy_buf	 big;		/* a large frame's payload */
	struct dopy_frame bigf;		/* its header */
	int		 big_open;	/* big is being filled */
	uint64_t	 bytes_in, bytes_out;
	/* With non-blocking fds: called when a write must wait and input is
	 * readable, so a peer that is itself blocked writing answers to us
	 * cannot deadlock a pipelining writer (the client sets it). */
	void		(*drain)(void *);
	void		*drain_arg;
	int		 out_sock;	/* send(MSG_DONTWAIT), not write */
	/* Writes fail with DOPY_E_TIMEOUT once the peer has taken nothing
	 * for send_ms (0: they wait for ever); the framing is then lost,
	 * so the channel is stalled: writes fail and reads see EOF. */
	int		 send_ms;
	int		 stalled;
};
void	 dopy_chan_init(struct dopy_chan *, int in, int out);
void	 dopy_chan_release(struct dopy_chan *);
/* 0 with a frame; DOPY_E_CLOSED at EOF between frames; DOPY_E_PROTO at
 * EOF inside one or a bad header; DOPY_E_TOOBIG; DOPY_E_SYS. */
int	 dopy_chan_read(struct dopy_chan *, struct dopy_frame *);
/* Write one frame whose payload is in wbuf after DOPY_HDR_LEN reserved
 * bytes (dopy_chan_begin), with a single write where the pipe allows. */
void	 dopy_chan_begin(struct dopy_chan *);
/* Reads fail with DOPY_E_TIMEOUT after ms from now (0: never). */
void	 dopy_chan_deadline(struct dopy_chan *, int ms);
int64_t	 dopy_now_ms(void);
int	 dopy_chan_send(struct dopy_chan *, uint8_t type, uint32_t id);
/* Whether dopy_chan_read has a whole frame (or a bad header) without
 * reading. */
int	 dopy_chan_frame_ready(const struct dopy_chan *);
/* Write the whole frames in wbuf, references included, and drop the
 * references. */
int	 dopy_chan_flush(struct dopy_chan *);
/* Make writes non-blocking without touching reads: O_NONBLOCK on a
 * separate output fd, MSG_DONTWAIT on a socket.  -1 when neither works
 * (one non-socket fd both ways): writes then block. */
int	 dopy_chan_nonblocking_writes(struct dopy_chan *);
/* Give writes a deadline of ms without progress (0: none), making them
 * non-blocking; -1 when they cannot be (they then block). */
int	 dopy_chan_send_deadline(struct dopy_chan *, int ms);
/* One read into rbuf: without waiting (the drain hook), or as the fd
 * does (wait).  0; DOPY_E_CLOSED at EOF between frames, DOPY_E_PROTO
 * inside one. */
int	 dopy_chan_take_input(struct dopy_chan *, int wait);
/* Write len bytes of whole frames; DOPY_E_CLOSED on EPIPE. */
int	 dopy_chan_write(struct dopy_chan *, const void *, size_t len);

/* ---- type.c ---- */
struct dopy_type {
	enum dopy_kind	  kind;
	int		  refs;		/* < 0: static, never freed */
	struct dopy_type *elem;		/* ARRAY */
	size_t		  nfields;	/* STRUCT */
	struct dopy_type **fields;
	char		**fnames;	/* the fields' names, or NULL */
	size_t		  size, align;	/* C layout of the tpl slot */
	char		 *name;
	char		 *tpl;
};
extern struct dopy_type dopy_type_bool_, dopy_type_int_, dopy_type_uint_,
    dopy_type_double_, dopy_type_string_, dopy_type_bytes_, dopy_type_any_;
/* From a tpl format string such as "A(S(Is))"; NULL if dopy has no such
 * type. */
dopy_type *dopy_type_from_tpl(const char *fmt);
dopy_type *dopy_type_ref(const dopy_type *);
/* type.c: the type `ref' (tpl `u'); its values
 * hold the id in u.u. */
extern struct dopy_type dopy_type_ref_;
/* The packed array types bool[], int[], uint[] and double[]. */
extern struct dopy_type dopy_type_bools_, dopy_type_ints_, dopy_type_uints_,
    dopy_type_doubles_;

/* ---- value.c ---- */
struct dopy_value {
	dopy_type	*type;
	union {
		int		 b;
		int64_t		 i;
		uint64_t	 u;
		double		 d;
		struct {
			char	*p;
			size_t	 len;
			void	*block;		/* holds p, or NULL: p */
		} s;				/* STRING, BYTES */
		struct {
			/* The elements; of a packed array, those that
			 * dopy_value_at made (room for cap), or NULL. */
			dopy_value **v;
			size_t	 n, cap;
			void	*p;	/* a packed array's elements */
		} a;				/* ARRAY, STRUCT */
	} u;
};
/*
 * An array of bool, int, uint or double is packed: its elements are one
 * block of C values (a byte 0 or 1 for bool, else 8 bytes), as on the
 * wire, so decoding a large one costs its size and no value per element.
 * The element size, or 0 for an array that holds values.
 */
static inline size_t
dopy_packed_size(const dopy_type *t)
{
	if (t->kind != DOPY_ARRAY)
		return 0;
	switch (t->elem->kind) {
	case DOPY_BOOL:
		return 1;
	case DOPY_INT:
	case DOPY_UINT:
	case DOPY_DOUBLE:
		return 8;
	default:
		return 0;
	}
}
/* Element or field i (i < n) without making a value for a packed
 * array's element: then tmp is filled in (its type not counted) and
 * returned. */
const dopy_value *dopy_value_item(const dopy_value *, size_t i,
	    dopy_value *tmp);
/* Room for exactly n elements of an empty array, which a decoder then
 * stores: in u.a.p when packed, else in u.a.v, counting u.a.n up. */
int	 dopy_value_reserve(dopy_value *a, size_t n);
/* An array, or a structure whose fields are not yet set (n == 0). */
dopy_value *dopy_value_new_empty(const dopy_type *t);
/* Bytes that stay the caller's: not copied, not freed, no NUL after;
 * only for arguments, which are encoded and freed, never read. */
dopy_value *dopy_value_borrow_bytes(const void *, size_t);
/* A value of type t taking ownership of a malloc'd string or bytes. */
dopy_value *dopy_value_take_str(dopy_type *t, char *p, size_t len);
/* The same for bytes at p inside the malloc'd block, with p[len] == 0:
 * freeing the value frees the block. */
dopy_value *dopy_value_take_block(dopy_type *t, void *block, char *p,
	    size_t len);

/* ---- codec.c: values <-> tpl images (the only user of tpl.h) ---- */
struct dopy_image {
	const uint8_t	*p;
	size_t		 len;
	const char	*fmt;		/* points into p */
	/* The frame's block (dopy_frame.lend), or NULL.  A bytes value
	 * filling most of it and ending it keeps the block instead of a
	 * copy: images after one that did are valid while it lives. */
	struct dopy_buf	*lend;
};
/* Split a payload into images, checking each preamble (tpl guards).
 * At most max images; n receives the count. */
int	 dopy_images_split(const uint8_t *p, size_t len,
	    struct dopy_image *imgs, size_t max, size_t *n, char *err,
	    size_t errlen);
/* Append the image of v to b. */
int	 dopy_encode(const dopy_value *v, struct dopy_buf *b);
/* The flags bit of a tpl image written in this host's byte order. */
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define DOPY_TPL_HOST_ORDER	1
#else
#define DOPY_TPL_HOST_ORDER	0
#endif
/* Writing an image by hand: open it (preamble and format), append its
 * data (u32 counts in host order), close it with the data's result r:
 * its length goes in, or on failure b is cut back to start. */
int	 dopy_image_open(struct dopy_buf *, const char *fmt);
int	 dopy_image_put_u32(struct dopy_buf *, uint32_t);
int	 dopy_image_close(struct dopy_buf *, size_t start, int r);
/*
 * Decoding an image of len bytes may allocate at most
 * DOPY_DECODE_FACTOR * len + DOPY_DECODE_SLACK bytes for the value (its
 * values, element pointers, strings and blocks, as requested of
 * malloc); past that it fails with DOPY_E_TOOBIG.  Strings, bytes and
 * packed arrays take about their image's size; codec.c says why 8.
 */
#define DOPY_DECODE_FACTOR	8
#define DOPY_DECODE_SLACK	65536
size_t	 dopy_decode_limit(size_t len);
/* Decode an image; if expect is not NULL its format must match. */
int	 dopy_decode(const struct dopy_image *, const dopy_type *expect,
	    dopy_value **out, char *err, size_t errlen);
/* The same, always through tpl (the fuzzers check the two agree). */
int	 dopy_decode_tpl(const struct dopy_image *, const dopy_type *expect,
	    dopy_value **out, char *err, size_t errlen);
void	 dopy_codec_init(void);

/* ---- image.c: the fixed-layout images, without tpl ---- */
/* Decode a scalar, string or bytes image of type t (its format already
 * matched); 1 when tpl must decode it instead, else 0 or an error. */
int	 dopy_image_leaf(const struct dopy_image *, const dopy_type *t,
	    dopy_value **out, char *err, size_t errlen);
/* The strings of an S(s...) (max of them) or A(s) (at most max) image
 * of format fmt, copied into one malloc'd block; 1 when tpl must read it
 * instead (another format, another byte order). */
int	 dopy_image_strings(const struct dopy_image *, const char *fmt,
	    int array, char **out, size_t max, size_t *n, char **block,
	    char *room, size_t roomlen, char *err, size_t errlen);
/* Append the image of n strings: S(s...) or, with array set, A(s). */
int	 dopy_image_put_strings(struct dopy_buf *, const char *fmt, int array,
	    const char *const *s, size_t n);

/* ---- sig.c ---- */
struct dopy_param {
	char		*name;
	dopy_type	*type;
	dopy_value	*def;		/* NULL: required */
};
struct dopy_sig {
	size_t			 n;
	struct dopy_param	*p;
	char			*text;	/* normalised */
};
/* Index of the parameter called name, or -1. */
int	 dopy_sig_find(const dopy_sig *, const char *name);

/* ---- error.c ---- */
struct dopy_error {
	int	  code;
	char	 *name, *message, *object, *method, *host;
	long	  pid;
	size_t	  ntrace;
	char	**trace;
};
dopy_error *dopy_error_vnew(int code, const char *fmt, va_list ap);
int	 dopy_error_set(dopy_error **, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	 dopy_error_add_trace(dopy_error *, const char *line);
int	 dopy_error_set_fields(dopy_error *, const char *name,
	    const char *object, const char *method, const char *host,
	    long pid);
/* e as a server with bare errors sends it: name, message, object and
 * method only (a new error, or NULL without memory). */
dopy_error *dopy_error_bare(const dopy_error *e);
/* pstruct.c: a persistent class's state as its C struct. */
struct dopy_pclass_ent;
int	 dopy_pstruct_ok(const dopy_type *);
void	*dopy_pstruct_read(const struct dopy_pclass_ent *, const dopy_value *);
dopy_value *dopy_pstruct_write(const struct dopy_pclass_ent *, const void *);
void	 dopy_pstruct_free(const struct dopy_pclass_ent *, void *);
/* The client kind of a remote error name (dopy.TypeError -> E_TYPE). */
int	 dopy_error_code_for(const char *name);

/* ---- msg.c: HELLO, CALL, ERROR payloads ---- */
#define DOPY_FEAT_AUTH		1u	/* shared-key challenge, auth.c */
#define DOPY_NONCE_LEN		32
#define DOPY_MAC_LEN		32
#define DOPY_HELLO_EXT		2
/* HELLO; with DOPY_FEAT_AUTH the extension images are 32-byte bytes
 * values: the client's nonce, or the server's nonce and MAC. */
struct dopy_hello {
	uint32_t	 proto;
	uint32_t	 max_frame;
	uint64_t	 features;
	char		*software;
	size_t		 next;
	uint8_t		 ext[DOPY_HELLO_EXT][32];
};
int	 dopy_msg_hello_put(struct dopy_buf *, const struct dopy_hello *);
int	 dopy_msg_hello_get(const uint8_t *, size_t, struct dopy_hello *,
	    char *err, size_t errlen);
void	 dopy_msg_hello_release(struct dopy_hello *);
int	 dopy_msg_error_put(struct dopy_buf *, const dopy_error *);
int	 dopy_msg_error_get(const uint8_t *, size_t, dopy_error **);
/* CALL: the header images; arguments are appended with dopy_encode. */
int	 dopy_msg_call_put(struct dopy_buf *, const char *object,
	    const char *method, const char *const *names, size_t argc);
struct dopy_callmsg {
	char			*object, *method;	/* point into strs */
	char			*strs[2];	/* header's, names', or NULL: */
	char			 room[2][96];	/* they fit here */
	size_t			 argc;
	char			*names[DOPY_MAX_ARGS];
	struct dopy_image	 args[DOPY_MAX_ARGS];
};
int	 dopy_msg_call_get(const uint8_t *, size_t, struct dopy_callmsg *,
	    char *err, size_t errlen);
void	 dopy_msg_call_release(struct dopy_callmsg *);

/* ---- auth.c: the shared-key challenge inside HELLO ---- */
struct dopy_key {
	uint8_t	*bytes;
	size_t	 len;
};
dopy_key *dopy_key_dup(const dopy_key *);
/* A fresh nonce. */
void	 dopy_auth_nonce(uint8_t nonce[DOPY_NONCE_LEN]);
/* HMAC-SHA256(key, label(role) || nc || ns); role "server" or "client". */
int	 dopy_auth_mac(const dopy_key *, const char *role,
	    const uint8_t nc[DOPY_NONCE_LEN], const uint8_t ns[DOPY_NONCE_LEN],
	    uint8_t mac[DOPY_MAC_LEN]);
/* 0 when mac is right, in constant time. */
int	 dopy_auth_verify(const dopy_key *, const char *role,
	    const uint8_t nc[DOPY_NONCE_LEN], const uint8_t ns[DOPY_NONCE_LEN],
	    const uint8_t mac[DOPY_MAC_LEN]);

/* ---- store.c: files shared by every server process ---- */
/* Store results beside the DOPY_E_* codes; never leave the library. */
#define DOPY_S_NOTFOUND		-100
#define DOPY_S_EXISTS		-101
/* A stored file stands where the path needs a directory ("a" when "a/b"
 * is asked for): err holds the path of that file alone, for the caller
 * to say what it is ("a is a name, not a group"). */
#define DOPY_S_NOTDIR		-102
/* No stored file is read or written above this size (dopy-pos(7)). */
#define DOPY_STORE_FILE_MAX	(64u * 1024 * 1024)
#define DOPY_STORE_FILE_MAX_TEXT "67108864 bytes (64 MiB)"
/* A temporary file older than this, unlocked, was left by a killed
 * writer; a write in its directory removes it, each process sweeping a
 * directory at most this often (seconds). */
#define DOPY_STORE_TMP_STALE	60
struct dopy_store {
	int	dirfd;
};
int	 dopy_store_open(const char *root, struct dopy_store *, char *err,
	    size_t errlen);
void	 dopy_store_close(struct dopy_store *);
/* Normalise a relative path, refusing what could escape or alias. */
int	 dopy_store_path(const char *in, char *out, size_t outlen, char *err,
	    size_t errlen);
int	 dopy_store_parent(struct dopy_store *, const char *path, int create,
	    int *dfd, const char **base, char *err, size_t errlen);
int	 dopy_store_read(struct dopy_store *, const char *path,
	    struct dopy_buf *, char *err, size_t errlen);
int	 dopy_store_write(struct dopy_store *, const char *path,
	    const void *, size_t, int excl, char *err, size_t errlen);
int	 dopy_store_remove(struct dopy_store *, const char *path, char *err,
	    size_t errlen);
/* create: make missing directories (a store); else they must exist. */
int	 dopy_store_lock(struct dopy_store *, const char *path, int exclusive,
	    int create, int *lfd, char *err, size_t errlen);
void	 dopy_store_unlock(int lfd);
/* Names under path (files "a", directories "d/"; recursive: all files). */
int	 dopy_store_list(struct dopy_store *, const char *path, int recursive,
	    dopy_value *out, char *err, size_t errlen);

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
/* Debug trace of one frame, peer strings made safe with strvis. */
void	 dopy_log_frame(struct dopy_log *, const char *dir,
	    const struct dopy_frame *);

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
	struct dopy_sig			**sigs;		/* per method */
	dopy_type			**results;	/* per method or NULL */
	/* attr.c: per method, the attribute a get:/set: method serves. */
	const struct dopy_attr		**attrs;
	/* server.c: methods declared oneway (the first noneway methods'
	 * flags; NULL: none). */
	unsigned char			*oneway;
	size_t				 noneway;
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
/* register.c: -n, names bound to the listener's address in $DOPY_NS. */
int	 dopy_register_add(struct dopy_server *, const char *spec);
void	 dopy_register_up(struct dopy_server *, const char *target);
void	 dopy_register_down(struct dopy_server *, const char *target);
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
	char			 errmsg[256];
	dopy_key		*key;		/* -k: required of clients */
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
	struct dopy_watch {		/* watch.c: extra fds */
		int		 fd;
		short		 events;
		dopy_fd_fn	 fn;
		void		*arg;
	}			*watches;
	size_t			 nwatches;
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
	struct dopy_lograte	 noise;		/* what the peer makes us log */
	/* Called once when the connection is over, before the references'
	 * gone hooks run (listen.c counts connections by it), or NULL. */
	void			(*over)(void *);
	void			*over_arg;
};
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
/* The forking (or, with -s, threaded) listener.  Returns like dopy_main:
 * in the parent after a graceful stop, in each child after its
 * connection; *child tells which. */
int	 dopy_listen_run(dopy_server *, int *child);
/* main.c: the write deadline of a connection: -w, else the idle limit,
 * else DOPY_SEND_MS. */
#define DOPY_SEND_MS		60000
int	 dopy_server_send_ms(const dopy_server *);
/* Whether fd is a listening socket. */
int	 dopy_is_listening(int fd);
/* systemd socket activation: the listening fds passed in LISTEN_FDS. */
int	 dopy_systemd_fds(int *fds, int max);
/* mainopt.c: a program's own options beside dopy_main's.  A getopt
 * string of dopy's letters and every letter and digit with ':' fits in
 * DOPY_MAINOPT_MAX. */
#define DOPY_MAINOPT_MAX	(64 + 2 * 62 + 1)
int	 dopy_mainopt_merge(const struct dopy_option *, const char *dopy,
	    char *out, size_t size, const char *prog);
int	 dopy_mainopt_set(const struct dopy_option *, int c, const char *arg,
	    const char *prog);
void	 dopy_mainopt_usage(FILE *, const struct dopy_option *,
	    const char *prog);
void	 dopy_mainopt_help(const struct dopy_option *, const char *prog);
/* tty.c: stdin is a terminal, no listener: offer dopy-rsh's console on
 * our own objects.  -1 in the child that must now serve stdio (a socket
 * to the console); else the exit status for dopy_main(). */
int	 dopy_tty_console(const char *prog);
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
	/* Last, and defined only below sig->n (NULL until bound): the
	 * rest is never read, and clearing all of it cost a small call
	 * more than its arguments. */
	dopy_value		*argv[DOPY_MAX_ARGS];
};
/* serve.c: answer call id now with an empty REPLY (a method the server
 * declared oneway); 0 or an error code. */
int	 dopy_session_answer_early(struct dopy_session *, uint32_t id);
const struct dopy_object *dopy_server_find(const dopy_server *,
	    const char *name);
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
	struct dopy_future	*next;		/* in its hash bucket */
};
#define DOPY_PENDING_BUCKETS	256

struct dopy_conn {
	struct dopy_chan	 chan;
	pid_t			 pid;		/* spawned server, or -1 */
	uint32_t		 next_id;
	char			*server_software;
	int			 up;		/* the transport is usable */
	int			 released;	/* by the caller: redial once */
	int			 kill_child;	/* it may still be busy */
	int			 oneway_busy;	/* running a oneway call */
	const dopy_key		*key;		/* during HELLO only */
	int			 timeout_ms;	/* per call, 0: none */
	int			 deadline_ms;
	uint8_t			 nonce[DOPY_NONCE_LEN];
	struct dopy_session	*sess;	/* server side: the client, callback.c */

	/* Lock order: wlock, then lock (the drain hook runs inside a
	 * write and takes lock).  lock guards what follows and
	 * the pending table; wlock guards chan.wbuf and writes.  The read
	 * side belongs to whichever thread holds the reader role. */
	pthread_mutex_t		 lock, wlock;
	pthread_cond_t		 cond;		/* answers, role freed */
	int			 reading;	/* a thread holds the role */
	int			 waiting;	/* threads in cond_wait */
	struct dopy_future	*pending[DOPY_PENDING_BUCKETS];

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
	int			 trust_ns;	/* NAME: DOPY_CONNECT_TRUST_NS */
};
/* callback.c: a proxy call made on the server to the client's object. */
int	 dopy_session_callback(struct dopy_session *, const char *object,
	    const char *method, const dopy_args *, dopy_value **result,
	    dopy_error **);
/* An empty frame from the client (RELEASE); thread-safe. */
int	 dopy_conn_send_frame(dopy_conn *, uint8_t type, uint32_t id,
	    dopy_error **);
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
/* future.c: a usable connection (dialling again if allowed) and the
 * next call id, for a oneway call. */
int	 dopy_conn_claim_id(dopy_proxy *, uint32_t *id, dopy_error **);
/* proxy.c: encode and write one call frame (CALL, ONEWAY). */
int	 dopy_send_call(dopy_proxy *, uint8_t type, uint32_t id,
	    const char *method, const dopy_args *, dopy_error **);
/* future.c: a registered future for a call about to be sent. */
int	 dopy_future_start(dopy_proxy *, const char *method, dopy_future_fn,
	    void *, dopy_future **, dopy_error **);
void	 dopy_future_cancel(dopy_future *);
/* clientcb.c: run a CALLBACK frame's payload (a copy) and answer it. */
void	 dopy_clientcb_run(dopy_conn *, uint32_t id, uint8_t *payload,
	    size_t len);
/* target.c */
dopy_target *dopy_target_dup(const dopy_target *);

/* misc */
char	*dopy_strdup(const char *);
int	 dopy_port_ok(const char *port, int min);
char	*dopy_asprintf(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

#endif /* DOPY_INTERNAL_H */
