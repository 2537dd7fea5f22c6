/*
 * wire.h - the wire layer's private declarations (lib/wire/): bytes
 * (buf) -> frames (frame, chan) -> values (type, value, codec, image,
 * literal, sig) -> messages (msg, error, auth).  The bottom layer: it
 * includes no other layer's header, and every other layer includes it.
 * Never installed.
 */
#ifndef DOPY_WIRE_H
#define DOPY_WIRE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <pthread.h>
#include <sys/types.h>

#include "dopy.h"
#include "util.h"

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
	DOPY_F_CANCEL = 6,	/* client: stop call id (DOPY_FEAT_CANCEL) */
	DOPY_F_PROGRESS = 7,	/* server: call id is still running */
	DOPY_F_CALLBACK = 8,	/* server: a CALL of a client's object */
	DOPY_F_CALLBACK_REPLY = 9,	/* client: its REPLY to a CALLBACK */
	DOPY_F_RELEASE = 10,	/* client: drop reference id */
	DOPY_F_AUTH = 11,	/* the client's MAC; the server's empty ack */
	DOPY_F_CALLBACK_ERROR = 12,	/* client: its ERROR to a CALLBACK */
	DOPY_F_ITEM = 13,	/* one item of a streaming call or upload */
};
/* CALL and ONEWAY header flag: the payload begins with one image of
 * type uint, the milliseconds the client will wait (DOPY_FEAT_DEADLINE). */
#define DOPY_FL_DEADLINE	0x01
/* CALL header flag: the call takes an upload, whose items follow it
 * (DOPY_FEAT_UPLOAD); a method is called with an upload exactly when
 * it takes one. */
#define DOPY_FL_UPLOAD		0x04
/* ITEM header flag from a client: the upload's end, no more items (its
 * payload is empty; DOPY_FEAT_UPLOAD). */
#define DOPY_FL_END		0x02

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
/* dopy_buf_reserve, inline when the room is there (as it nearly always
 * is): the encoders reserve once for each small piece they write. */
static inline uint8_t *
dopy_buf_room(struct dopy_buf *b, size_t n)
{
	if (b->data != NULL && n <= b->cap - b->len && n <= PTRDIFF_MAX)
		return b->data + b->len;
	return dopy_buf_reserve(b, n);
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
/* Set the flags byte of an encoded header (DOPY_FL_DEADLINE). */
void	 dopy_frame_set_flags(uint8_t hdr[DOPY_HDR_LEN], uint8_t flags);
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
	/* Shown every whole frame read or about to be written (tap.c):
	 * recording and -v.  NULL on the fast path. */
	struct dopy_tap	*tap;
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
int	 dopy_chan_send_flags(struct dopy_chan *, uint8_t type, uint8_t flags,
	    uint32_t id);
/* Inline: every answer goes through it, and a wrapper's call showed. */
static inline int
dopy_chan_send(struct dopy_chan *c, uint8_t type, uint32_t id)
{
	return dopy_chan_send_flags(c, type, 0, id);
}
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

/* ---- tap.c: what a channel shows of its frames ---- */
/*
 * A tap sees each frame a channel reads, and each it writes just before
 * the write, whole: header first, the payload in pieces (a large value
 * is not copied).  Recording (rec.c) and -v logs are taps.
 */
struct iovec;
struct dopy_tap {
	void	(*frame)(struct dopy_tap *, int out, const uint8_t *hdr,
		    const struct iovec *payload, int cnt);
};
/* Split len bytes of whole frames held in cnt pieces into frames for
 * t; a header split across pieces (never made here) is copied. */
void	 dopy_tap_frames(struct dopy_tap *t, const struct iovec *iov,
	    int cnt);
/* A frame's payload in one block: the first piece when there is only
 * one, else a malloc'd copy in *copy (NULL on failure, or when none is
 * needed). */
const uint8_t *dopy_tap_flat(const struct iovec *payload, int cnt,
	    size_t *len, uint8_t **copy);

/* literal.c: append p as a JSON string, as dopy_value_json() writes a
 * string (bytes set: a bytes value). */
int	 dopy_json_quote(struct dopy_buf *, const void *p, size_t n,
	    int bytes);

/* ---- framejson.c: a frame as one line of JSON (dopy-dump(1)) ---- */
/* extra: members put first (such as "dir":"in"), or NULL; max: a line
 * longer than max bytes (0: no limit) is cut there and ends in "...",
 * for logs.  malloc'd, or NULL without memory.  Never fails on a bad
 * payload: it says what it could not decode in "bad". */
char	*dopy_frame_json(const uint8_t hdr[DOPY_HDR_LEN],
	    const uint8_t *payload, size_t len, const char *extra,
	    size_t max);
/* The same for a payload in pieces, as a tap is shown it. */
char	*dopy_frame_json_iov(const uint8_t hdr[DOPY_HDR_LEN],
	    const struct iovec *payload, int cnt, size_t max);

/* ---- rec.c, recread.c: recordings (dopy-dump(1) has the layout) ---- */
#define DOPY_REC_FILE_MAGIC	"dopy-rec"	/* a file's first 8 bytes */
#define DOPY_REC_FILEHDR	16	/* magic, version, state, zeros */
#define DOPY_REC_STATE_AT	9	/* 1: recording, 0: paused */
#define DOPY_REC_HDR		48	/* each record's own header */
#define DOPY_REC_OMIT		0x01	/* arguments or payload left out */
#define DOPY_REC_CUT		0x02	/* payload too large to keep */
#define DOPY_REC_MAX		(1u << 30)	/* largest payload kept */
struct dopy_rec;
/* Append to the recording at path, made (recording) if missing;
 * DOPY_E_INVAL when path is something else. side: 's' or 'c'. */
int	 dopy_rec_open(const char *path, char side, struct dopy_rec **);
void	 dopy_rec_close(struct dopy_rec *);
/* The next connection of this process (a new serial, from 1); a
 * recording just opened is connection 0 until then. */
void	 dopy_rec_next_conn(struct dopy_rec *);
/* Calls of these methods ("object.method", or "object.*") are recorded
 * without arguments and their answers without payload; the list stays
 * the caller's. */
void	 dopy_rec_omit(struct dopy_rec *, char *const *list, size_t n);
/* One frame read (out 0) or about to be written (out 1). */
void	 dopy_rec_frame(struct dopy_rec *, int out, const uint8_t *hdr,
	    const struct iovec *payload, int cnt);
/* Start (on) or pause recording into path for every process appending
 * to it, making the file if missing; 0 or DOPY_E_*. */
int	 dopy_rec_switch(const char *path, int on);
/* A record's check: BLAKE2b-128 of its header's first 32 bytes and of
 * the frame. */
void	 dopy_rec_check(const uint8_t *hdr, const struct iovec *frame,
	    int cnt, uint8_t out[16]);
/* One record as read. */
struct dopy_recent {
	uint64_t	 time_ns;
	uint32_t	 seq, pid, conn, orig_len;
	char		 side, dir;		/* 's'/'c', 'i'/'o' */
	uint8_t		 flags;
	const uint8_t	*hdr;			/* the frame: 12 bytes */
	const uint8_t	*payload;		/* valid until the next */
	size_t		 len;
};
struct dopy_recread;
/* Read records from fd (not closed by us). */
struct dopy_recread *dopy_recread_new(int fd);
void	 dopy_recread_free(struct dopy_recread *);
/* 1 with a record, 0 at the end, DOPY_E_SYS or DOPY_E_NOMEM.  *skipped:
 * bytes passed over before it (torn or truncated records, garbage). */
int	 dopy_recread_next(struct dopy_recread *, struct dopy_recent *,
	    size_t *skipped);
/* Put back the n bytes a caller read from fd before handing it over
 * (to tell a recording from something else); only before the first
 * dopy_recread_next (else DOPY_E_INVAL).  0 or DOPY_E_NOMEM. */
int	 dopy_recread_unread(struct dopy_recread *, const void *p, size_t n);
/* The state byte of the file header, or -1 when it has none. */
int	 dopy_recread_state(const struct dopy_recread *);

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
/* Whether values of type t may hold a ref. */
int	 dopy_type_has_ref(const dopy_type *);
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

/* ---- stubio.c: generated code's writer and reader (dopy.h) ---- */
/* A writer appends images to b; the first error stays (a DOPY_E_*). */
struct dopy_out {
	struct dopy_buf	*b;
	size_t		 start;		/* of the open image */
	int		 open;
	size_t		 nimages;	/* closed */
	int		 err;
};
void	 dopy_out_init(struct dopy_out *, struct dopy_buf *);
/* A reader of n images (checked by dopy_images_split), in order. */
struct dopy_in {
	const struct dopy_image	*imgs;
	size_t		 n, next;	/* next: the one begin takes */
	const uint8_t	*p, *end;	/* the open image's data left */
	int		 open;
	int		 swap;		/* the writer's byte order differs */
	size_t		 mem;		/* what it may still allocate */
	int		 err;
	size_t		 errimg;	/* the image the error is in */
	char		 msg[160];
};
void	 dopy_in_init(struct dopy_in *, const struct dopy_image *, size_t n);
/* Whether every image was read; 0 or sets the error. */
int	 dopy_in_done(struct dopy_in *);

/* ---- image.c: the fixed-layout images, without tpl ---- */
/* Decode a scalar, string or bytes image of type t (its format already
 * matched); 1 when tpl must decode it instead, else 0 or an error. */
int	 dopy_image_leaf(const struct dopy_image *, const dopy_type *t,
	    dopy_value **out, char *err, size_t errlen);
/* The block of img's frame (img->lend), taken, when n bytes of data
 * ending the image fill most of it and a NUL fits after them: a string
 * or bytes value keeps the block instead of a copy.  NULL: copy. */
uint8_t	*dopy_image_lent_block(const struct dopy_image *, size_t n);
/* A bool, int, uint or double image read into a value the caller holds;
 * 0, or 1 when img is anything else (image.c). */
int	 dopy_image_scalar(const struct dopy_image *, const dopy_type *,
	    dopy_value *);
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
	/* The last parameter when it is "NAME:stream T": an upload, whose
	 * items follow the CALL (not counted in n; type T). */
	struct dopy_param	 up;
	char			*text;	/* normalised */
	int			 mayref;	/* an argument may hold a ref */
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
/* The client kind of a remote error name (dopy.TypeError -> E_TYPE). */
int	 dopy_error_code_for(const char *name);

/* ---- msg.c: HELLO, CALL, ERROR payloads ---- */
#define DOPY_FEAT_AUTH		1u	/* shared-key challenge, auth.c */
#define DOPY_FEAT_STREAM	2u	/* ITEM frames (dopy(5), Streams) */
#define DOPY_FEAT_CANCEL	4u	/* CANCEL frames are acted on */
#define DOPY_FEAT_DEADLINE	8u	/* CALL flag DOPY_FL_DEADLINE */
#define DOPY_FEAT_UPLOAD	16u	/* ITEM frames from the client */
/* What this implementation announces besides AUTH. */
#define DOPY_FEAT_ALL	(DOPY_FEAT_STREAM | DOPY_FEAT_CANCEL | \
			 DOPY_FEAT_DEADLINE | DOPY_FEAT_UPLOAD)
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
/* errimg.c: the same payload as dopy_msg_error_put for an error of
 * name, message, object, method, host (hdr), pid and trace, written into
 * buf without allocating (a signal handler's); its length, or 0 when it
 * does not fit in size. */
size_t	 dopy_msg_error_fixed(uint8_t *buf, size_t size,
	    const char *const hdr[5], int64_t pid, const char *const *trace,
	    size_t ntrace);
/* CALL: the header images; arguments are appended with dopy_encode. */
int	 dopy_msg_call_put(struct dopy_buf *, const char *object,
	    const char *method, const char *const *names, size_t argc);
struct dopy_callmsg {
	char			*object, *method;	/* point into strs */
	char			*strs[2];	/* header's, names', or NULL: */
	char			 room[2][96];	/* they fit here */
	size_t			 argc;
	int			 upload;	/* set by the server: FL_UPLOAD */
	char			*names[DOPY_MAX_ARGS];
	struct dopy_image	 args[DOPY_MAX_ARGS];
};
int	 dopy_msg_call_get(const uint8_t *, size_t, struct dopy_callmsg *,
	    char *err, size_t errlen);
void	 dopy_msg_call_release(struct dopy_callmsg *);
/* Where a CALL or ONEWAY payload's call header begins: after the
 * deadline image when flags has DOPY_FL_DEADLINE, else at 0.  0, or
 * DOPY_E_PROTO when there is no such image. */
int	 dopy_msg_call_body(const uint8_t *, size_t, uint8_t flags,
	    size_t *skip);

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

#endif /* DOPY_WIRE_H */
