/*
 * store.h - the store layer's private declarations (lib/store/): the
 * shared directory tree of files (store.c), a persistent class's state
 * as its C struct (pstruct.c) and the event log (evlog.c).  Above wire;
 * pos.c, pstruct.c, naming.c and events.c also use server.h for the
 * objects they serve.  Never installed.
 */
#ifndef DOPY_STORE_H
#define DOPY_STORE_H

#include "wire/wire.h"

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
/* Format the reason into err (if errlen > 0) and return code. */
int	 dopy_store_err(char *err, size_t errlen, int code, const char *fmt,
	    ...) __attribute__((format(printf, 4, 5)));
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
/* pstruct.c: a persistent class's state as its C struct. */
struct dopy_pclass_ent;
int	 dopy_pstruct_ok(const dopy_type *);
void	*dopy_pstruct_read(const struct dopy_pclass_ent *, const dopy_value *);
dopy_value *dopy_pstruct_write(const struct dopy_pclass_ent *, const void *);
void	 dopy_pstruct_free(const struct dopy_pclass_ent *, void *);

/* ---- evlog.c: the event log (dopy-events(7)) ---- */
/* Segments of at most this many bytes (DOPY_EVENTS_SEGMENT), at most
 * DOPY_EVLOG_KEEP of them kept (DOPY_EVENTS_KEEP); a record (header,
 * topic, value image, trailer) of at most DOPY_EVLOG_RECORD_MAX. */
#define DOPY_EVLOG_SEGMENT	(1024u * 1024)
#define DOPY_EVLOG_SEGMENT_MIN	4096u
#define DOPY_EVLOG_SEGMENT_MAX	(64u * 1024 * 1024)
#define DOPY_EVLOG_KEEP		8
#define DOPY_EVLOG_KEEP_MAX	1000
#define DOPY_EVLOG_RECORD_MAX	(65536u + 512)
/* dopy_evcur_next: records were lost to a reader behind the oldest
 * segment (cur->dropped of them). */
#define DOPY_EVLOG_GAP		2
struct dopy_evlog {
	int		 dirfd;
	int		 lockfd;	/* "lock", opened on first append */
	pid_t		 pid;		/* the process that opened them */
	int		 wfd;		/* the newest segment, or -1 */
	uint64_t	 wfirst;	/* its first number */
	off_t		 wend;		/* where its records end */
	uint64_t	 wnext;		/* the number due next */
	uint64_t	 segmax;
	unsigned	 keep;
	char		 dir[256];	/* for messages */
};
int	 dopy_evlog_open(const char *dir, struct dopy_evlog *, char *err,
	    size_t errlen);
void	 dopy_evlog_close(struct dopy_evlog *);
/* Append one record under the lock, in one write; its number in *seq. */
int	 dopy_evlog_append(struct dopy_evlog *, const char *topic,
	    const void *val, size_t vlen, uint64_t *seq, char *err,
	    size_t errlen);
/* The segments' first numbers, sorted (the newest max if more). */
int	 dopy_evlog_segments(struct dopy_evlog *, uint64_t *firsts,
	    size_t max, size_t *n);
/* One record, pointing into the reader's buffer (valid until next). */
struct dopy_evrec {
	uint64_t	 seq;
	int64_t		 time_ns;
	int32_t		 pid;
	const char	*topic;		/* tlen bytes, not NUL-terminated */
	size_t		 tlen;
	const uint8_t	*val;		/* the value's image */
	size_t		 vlen;
};
/* A reader: its own segment and offset. */
struct dopy_evcur {
	struct dopy_evlog	*lg;
	int			 fd;		/* the segment, or -1 */
	uint64_t		 first;		/* its first number */
	off_t			 off;
	uint64_t		 want;		/* skip records before */
	uint64_t		 expect;	/* the number due next */
	uint64_t		 dropped;	/* lost, not yet reported */
	struct dopy_buf		 b;		/* read ahead, from boff */
	off_t			 boff;
	off_t			 eof;		/* the end, as read, or -1 */
	int			 gfd;		/* "lock", for its generation */
	/* Set by the caller: it watches the directory (inotify), sets
	 * relist when a file is made in it, events were lost or a wait
	 * ran out, and sets eof to -1 each time it wakes. */
	int			 watched;
	int			 relist;	/* list at the next dry read
						 * (set here too once a listing
						 * showed newer segments) */
};
void	 dopy_evcur_init(struct dopy_evcur *, struct dopy_evlog *);
void	 dopy_evcur_release(struct dopy_evcur *);
/* Start at record since, or after the last one when since is 0. */
int	 dopy_evcur_start(struct dopy_evcur *, uint64_t since);
/* 1 with the next record; 0 when there is none yet; DOPY_EVLOG_GAP when
 * records were lost (the caller reports cur->dropped and zeroes it). */
int	 dopy_evcur_next(struct dopy_evcur *, struct dopy_evrec *);

#endif /* DOPY_STORE_H */
