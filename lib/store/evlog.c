/*
 * evlog.c - the event log (dopy-events(7)): a directory of segment
 * files that every server process on the machine appends to and reads.
 *
 * A segment is named by the sequence number of its first record, in 20
 * decimal digits, so names sort as numbers ("00000000000000000001.log").
 * A record is a header, the topic, the value's image and a trailer:
 *
 *	u32 magic "DEVT", u32 length (the whole record), u64 seq,
 *	i64 time (ns since the epoch), i32 pid, u16 topic length, u16 0,
 *	topic, image, u32 length again, u32 FNV-1a of what precedes
 *
 * in this host's byte order (the directory serves one machine).  A
 * publisher appends under an exclusive flock(2) of the file "lock", in
 * one write(2); it first cuts back a torn record a killed publisher
 * left at the tail, and starts a new segment when the record would
 * take the newest past its size, removing the oldest past the count.
 * The lock file's first 8 bytes name the newest segment (see writing
 * below), so neither publishers nor readers list the directory to
 * learn that it has not changed.  Readers take no lock: a record
 * counts only once it is whole and its sum holds, so a reader that
 * meets a partial record waits for it to be finished (or cut back and
 * written again).
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

#define serr		dopy_store_err
#define MAGIC		0x54564544u	/* "DEVT" little-endian */
#define HDR		32
#define TRAILER		8
#define SEG_NAMELEN	24		/* 20 digits ".log" */

struct hdr {
	uint32_t	magic, len;
	uint64_t	seq;
	int64_t		time_ns;
	int32_t		pid;
	uint16_t	tlen, zero;
};
_Static_assert(sizeof(struct hdr) == HDR, "record header is 32 bytes");

static uint32_t
fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n-- > 0)
		h = (h ^ *p++) * 16777619u;
	return h;
}

/* An environment bound, else def; out-of-range values are ignored. */
static uint64_t
env_bound(const char *name, uint64_t def, uint64_t min, uint64_t max)
{
	const char *s = getenv(name), *errstr;
	long long v;

	if (s == NULL)
		return def;
	v = strtonum(s, (long long)min, (long long)max, &errstr);
	return errstr == NULL ? (uint64_t)v : def;
}

int
dopy_evlog_open(const char *dir, struct dopy_evlog *lg, char *err,
    size_t errlen)
{
	lg->lockfd = lg->wfd = -1;
	lg->pid = 0;
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return serr(err, errlen, DOPY_E_SYS, "%s: %s", dir,
		    strerror(errno));
	if ((lg->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return serr(err, errlen, DOPY_E_SYS, "%s: %s", dir,
		    strerror(errno));
	strlcpy(lg->dir, dir, sizeof(lg->dir));
	lg->segmax = env_bound("DOPY_EVENTS_SEGMENT", DOPY_EVLOG_SEGMENT,
	    DOPY_EVLOG_SEGMENT_MIN, DOPY_EVLOG_SEGMENT_MAX);
	lg->keep = (unsigned)env_bound("DOPY_EVENTS_KEEP", DOPY_EVLOG_KEEP,
	    2, DOPY_EVLOG_KEEP_MAX);
	return 0;
}

void
dopy_evlog_close(struct dopy_evlog *lg)
{
	if (lg->dirfd >= 0)
		close(lg->dirfd);
	if (lg->lockfd >= 0)
		close(lg->lockfd);
	if (lg->wfd >= 0)
		close(lg->wfd);
	lg->dirfd = lg->lockfd = lg->wfd = -1;
}

/* "00000000000000000042.log" -> 42; 0 for any other name. */
static uint64_t
seg_first(const char *name)
{
	uint64_t v = 0;
	size_t i;

	if (strlen(name) != SEG_NAMELEN || strcmp(name + 20, ".log") != 0)
		return 0;
	for (i = 0; i < 20; i++) {
		if (name[i] < '0' || name[i] > '9')
			return 0;
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	return v;
}

static void
seg_name(char *buf, size_t len, uint64_t first)
{
	snprintf(buf, len, "%020llu.log", (unsigned long long)first);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The segments' first sequence numbers, sorted, at most max of them
 * (the oldest dropped past that: there are never many). */
int
dopy_evlog_segments(struct dopy_evlog *lg, uint64_t *firsts, size_t max,
    size_t *n)
{
	struct dirent *de;
	uint64_t f;
	DIR *d;
	int fd;

	*n = 0;
	if ((fd = openat(lg->dirfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return DOPY_E_SYS;
	}
	while ((de = readdir(d)) != NULL) {
		if ((f = seg_first(de->d_name)) == 0)
			continue;
		if (*n < max)
			firsts[(*n)++] = f;
		else {
			qsort(firsts, *n, sizeof(*firsts), cmp_u64);
			if (f > firsts[0]) {
				memmove(firsts, firsts + 1, (max - 1) *
				    sizeof(*firsts));
				firsts[max - 1] = f;
			}
		}
	}
	closedir(d);
	qsort(firsts, *n, sizeof(*firsts), cmp_u64);
	return 0;
}

static int
seg_open(struct dopy_evlog *lg, uint64_t first, int flags)
{
	char name[32];

	seg_name(name, sizeof(name), first);
	return openat(lg->dirfd, name, flags | O_CLOEXEC, 0644);
}

/* The record at off in fd, read into b: 1 when whole and sound, 0 when
 * not (yet) there, DOPY_E_SYS. */
static int
rec_read(int fd, off_t off, struct dopy_buf *b, struct hdr *h)
{
	uint32_t tr[2];
	ssize_t n;
	uint8_t *p;

	if ((n = pread(fd, h, HDR, off)) < 0)
		return DOPY_E_SYS;
	if (n < HDR || h->magic != MAGIC || h->len < HDR + TRAILER ||
	    h->len > DOPY_EVLOG_RECORD_MAX || h->tlen == 0 ||
	    (size_t)h->tlen + HDR + TRAILER > h->len)
		return 0;
	dopy_buf_reset(b);
	if ((p = dopy_buf_reserve(b, h->len)) == NULL)
		return DOPY_E_NOMEM;
	if ((n = pread(fd, p, h->len, off)) < 0)
		return DOPY_E_SYS;
	if ((size_t)n < h->len)
		return 0;
	memcpy(tr, p + h->len - TRAILER, TRAILER);
	memcpy(h, p, HDR);	/* the header as it is now */
	if (h->magic != MAGIC || tr[0] != h->len ||
	    tr[1] != fnv1a(p, h->len - TRAILER))
		return 0;
	b->len = h->len;
	return 1;
}

/*
 * Where fd's sound records end, and the sequence number after them
 * (first when it holds none): the last record, found by its trailer,
 * else a scan from the start (after a torn write).
 */
static int
seg_end(int fd, uint64_t first, off_t *end, uint64_t *next,
    struct dopy_buf *b)
{
	struct stat sb;
	struct hdr h;
	uint32_t tr[2];
	off_t off = 0;
	int r;

	if (fstat(fd, &sb) < 0)
		return DOPY_E_SYS;
	*next = first;
	if (sb.st_size >= HDR + TRAILER &&
	    pread(fd, tr, TRAILER, sb.st_size - TRAILER) == TRAILER &&
	    tr[0] <= sb.st_size &&
	    rec_read(fd, sb.st_size - tr[0], b, &h) == 1) {
		*end = sb.st_size;
		*next = h.seq + 1;
		return 0;
	}
	while ((r = rec_read(fd, off, b, &h)) == 1) {
		off += h.len;
		*next = h.seq + 1;
	}
	*end = off;
	return r < 0 ? r : 0;
}

/* ---- writing ---- */

/*
 * The first 8 bytes of "lock" hold the first number of the newest
 * segment (the log's generation), written under the lock before a
 * segment is made.  A publisher keeps the newest segment open with
 * what it knows of its end; under the lock it trusts them while the
 * generation still names its segment and the segment has not been
 * removed, and reads the segment's end again only when its size
 * changed (another publisher appended, or one was killed mid-write).
 * Anything else (no generation yet, a stale one, a fork) lists the
 * directory as before.  Readers read the generation without the lock
 * to learn cheaply that no newer segment has been made.
 */
static int
gen_read(int fd, uint64_t *gen)
{
	if (fd < 0 || pread(fd, gen, sizeof(*gen), 0) != sizeof(*gen))
		*gen = 0;			/* unknown: list */
	return 0;
}

static int
gen_write(struct dopy_evlog *lg, uint64_t gen)
{
	return pwrite(lg->lockfd, &gen, sizeof(gen), 0) == sizeof(gen) ? 0 :
	    DOPY_E_SYS;
}

static void
tail_forget(struct dopy_evlog *lg)
{
	if (lg->wfd >= 0)
		close(lg->wfd);
	lg->wfd = -1;
}

static int
writer_lock(struct dopy_evlog *lg, pid_t pid, char *err, size_t errlen)
{
	if (lg->pid != pid) {
		/* Inherited over a fork: a shared lock description would
		 * not exclude the parent, nor a shared segment's. */
		if (lg->lockfd >= 0)
			close(lg->lockfd);
		lg->lockfd = -1;
		tail_forget(lg);
		lg->pid = pid;
	}
	if (lg->lockfd < 0 && (lg->lockfd = openat(lg->dirfd, "lock",
	    O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
		return serr(err, errlen, DOPY_E_SYS, "%s/lock: %s", lg->dir,
		    strerror(errno));
	while (flock(lg->lockfd, LOCK_EX) < 0)
		if (errno != EINTR)
			return serr(err, errlen, DOPY_E_SYS, "%s/lock: %s",
			    lg->dir, strerror(errno));
	return 0;
}

/* Remove the oldest segments past the count (after a rotation). */
static void
prune(struct dopy_evlog *lg)
{
	uint64_t firsts[DOPY_EVLOG_KEEP_MAX + 8];
	char name[32];
	size_t n, i;

	if (dopy_evlog_segments(lg, firsts, sizeof(firsts) /
	    sizeof(firsts[0]), &n) < 0)
		return;
	for (i = 0; n - i > lg->keep; i++) {
		seg_name(name, sizeof(name), firsts[i]);
		unlinkat(lg->dirfd, name, 0);
	}
}

/* Cut fd back to its sound records: their end and the number after. */
static int
tail_sound(int fd, uint64_t first, off_t size, off_t *end, uint64_t *next,
    struct dopy_buf *b)
{
	int r;

	if ((r = seg_end(fd, first, end, next, b)) < 0)
		return r;
	if (size > *end && ftruncate(fd, *end) < 0)
		return DOPY_E_SYS;
	return 0;
}

/* The newest segment found by listing, opened and cut back. */
static int
tail_find(struct dopy_evlog *lg, uint64_t gen, struct dopy_buf *b)
{
	uint64_t firsts[DOPY_EVLOG_KEEP_MAX + 8], first = 1;
	struct stat sb;
	size_t n;
	int fd, r;

	tail_forget(lg);
	if ((r = dopy_evlog_segments(lg, firsts, sizeof(firsts) /
	    sizeof(firsts[0]), &n)) < 0)
		return r;
	if (n > 0)
		first = firsts[n - 1];
	if (gen != first && (r = gen_write(lg, first)) < 0)
		return r;
	if ((fd = seg_open(lg, first, O_RDWR | O_CREAT)) < 0)
		return DOPY_E_SYS;
	if (fstat(fd, &sb) < 0 || (r = tail_sound(fd, first, sb.st_size,
	    &lg->wend, &lg->wnext, b)) < 0) {
		close(fd);
		return r < 0 ? r : DOPY_E_SYS;
	}
	lg->wfd = fd;
	lg->wfirst = first;
	return 0;
}

/* The newest segment, kept open in lg->wfd, cut back to its sound
 * records, its end in lg->wend and the next number in lg->wnext; a new
 * one when the record of len bytes would not fit. */
static int
tail_open(struct dopy_evlog *lg, size_t len, struct dopy_buf *b)
{
	struct stat sb;
	uint64_t gen;
	int fd, r;

	gen_read(lg->lockfd, &gen);
	if (lg->wfd >= 0 && gen == lg->wfirst && fstat(lg->wfd, &sb) == 0 &&
	    sb.st_nlink > 0) {
		if (sb.st_size != lg->wend && (r = tail_sound(lg->wfd,
		    lg->wfirst, sb.st_size, &lg->wend, &lg->wnext, b)) < 0)
			return r;
	} else if ((r = tail_find(lg, gen, b)) < 0)
		return r;
	if (lg->wend > 0 && (uint64_t)lg->wend + len > lg->segmax) {
		/* The generation first: a publisher killed between the two
		 * leaves others listing, never appending to the old one. */
		if ((r = gen_write(lg, lg->wnext)) < 0)
			return r;
		if ((fd = seg_open(lg, lg->wnext, O_RDWR | O_CREAT)) < 0 ||
		    ftruncate(fd, 0) < 0) {
			if (fd >= 0)
				close(fd);
			return DOPY_E_SYS;
		}
		tail_forget(lg);
		lg->wfd = fd;
		lg->wfirst = lg->wnext;
		lg->wend = 0;
		prune(lg);
	}
	return 0;
}

static int
rec_build(struct dopy_buf *b, const char *topic, const void *val,
    size_t vlen, uint64_t seq, pid_t pid)
{
	struct timespec ts;
	struct hdr h = { MAGIC, 0, seq, 0, (int32_t)pid, 0, 0 };
	uint32_t tr[2];

	clock_gettime(CLOCK_REALTIME, &ts);
	h.time_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	h.tlen = (uint16_t)strlen(topic);
	h.len = (uint32_t)(HDR + h.tlen + vlen + TRAILER);
	dopy_buf_reset(b);
	if (dopy_buf_put(b, &h, HDR) < 0 ||
	    dopy_buf_put(b, topic, h.tlen) < 0 ||
	    dopy_buf_put(b, val, vlen) < 0)
		return DOPY_E_NOMEM;
	tr[0] = h.len;
	tr[1] = fnv1a(b->data, b->len);
	return dopy_buf_put(b, tr, TRAILER) < 0 ? DOPY_E_NOMEM : 0;
}

int
dopy_evlog_append(struct dopy_evlog *lg, const char *topic,
    const void *val, size_t vlen, uint64_t *seq, char *err, size_t errlen)
{
	struct dopy_buf b;
	size_t len = HDR + strlen(topic) + vlen + TRAILER;
	pid_t pid = getpid();
	ssize_t w;
	int r;

	if (len > DOPY_EVLOG_RECORD_MAX || strlen(topic) > UINT16_MAX)
		return serr(err, errlen, DOPY_E_TOOBIG, "a record of %zu "
		    "bytes; at most %u", len, DOPY_EVLOG_RECORD_MAX);
	if ((r = writer_lock(lg, pid, err, errlen)) < 0)
		return r;
	dopy_buf_init(&b);
	if ((r = tail_open(lg, len, &b)) == 0 &&
	    (r = rec_build(&b, topic, val, vlen, lg->wnext, pid)) == 0) {
		*seq = lg->wnext;
		if ((w = pwrite(lg->wfd, b.data, b.len, lg->wend)) ==
		    (ssize_t)b.len) {
			lg->wend += (off_t)b.len;
			lg->wnext++;
		} else {
			/* ENOSPC or the like: leave no torn record. */
			r = serr(err, errlen, DOPY_E_SYS, "%s: cannot append: "
			    "%s", lg->dir, w < 0 ? strerror(errno) :
			    "short write");
			if (ftruncate(lg->wfd, lg->wend) < 0)
				tail_forget(lg);
		}
	} else if (r == DOPY_E_SYS)
		serr(err, errlen, r, "%s: %s", lg->dir, strerror(errno));
	else
		serr(err, errlen, r, "%s: %s", lg->dir, dopy_strerror(r));
	if (r < 0)
		tail_forget(lg);	/* list again next time */
	flock(lg->lockfd, LOCK_UN);
	dopy_buf_release(&b);
	return r;
}

/* ---- reading ---- */

/* The segment after cur->first (the oldest with first 0): its first
 * number in *next, or 0 for none; *more when another follows it. */
static int
seg_after(struct dopy_evcur *cur, uint64_t *next, int *more)
{
	uint64_t firsts[DOPY_EVLOG_KEEP_MAX + 8];
	size_t n, i;
	int r;

	*next = 0;
	*more = 0;
	if ((r = dopy_evlog_segments(cur->lg, firsts, sizeof(firsts) /
	    sizeof(firsts[0]), &n)) < 0)
		return r;
	for (i = 0; i < n; i++)
		if (firsts[i] > cur->first) {
			*next = firsts[i];
			*more = i + 1 < n;
			break;
		}
	return 0;
}

void
dopy_evcur_init(struct dopy_evcur *cur, struct dopy_evlog *lg)
{
	memset(cur, 0, sizeof(*cur));
	cur->lg = lg;
	cur->fd = cur->gfd = -1;
	cur->eof = -1;
	dopy_buf_init(&cur->b);
}

void
dopy_evcur_release(struct dopy_evcur *cur)
{
	if (cur->fd >= 0)
		close(cur->fd);
	if (cur->gfd >= 0)
		close(cur->gfd);
	cur->fd = cur->gfd = -1;
	dopy_buf_release(&cur->b);
}

/* Open segment first at offset 0; 0 when it has gone meanwhile. */
static int
cur_move(struct dopy_evcur *cur, uint64_t first)
{
	int fd;

	if ((fd = seg_open(cur->lg, first, O_RDONLY)) < 0)
		return errno == ENOENT ? 0 : DOPY_E_SYS;
	if (cur->fd >= 0)
		close(cur->fd);
	cur->fd = fd;
	cur->first = first;
	cur->off = 0;
	dopy_buf_reset(&cur->b);	/* read ahead from nothing */
	cur->boff = 0;
	cur->eof = -1;
	/* What lies between the last record and this segment is gone. */
	if (first > cur->expect && first > cur->want)
		cur->dropped += first - (cur->expect > cur->want ?
		    cur->expect : cur->want);
	if (first > cur->expect)
		cur->expect = first;
	return 1;
}

int
dopy_evcur_start(struct dopy_evcur *cur, uint64_t since)
{
	uint64_t firsts[DOPY_EVLOG_KEEP_MAX + 8], next;
	size_t n, i;
	off_t end;
	int r;

	if ((r = dopy_evlog_segments(cur->lg, firsts, sizeof(firsts) /
	    sizeof(firsts[0]), &n)) < 0)
		return r;
	cur->want = cur->expect = since > 0 ? since : 1;
	if (n == 0)
		return 0;		/* the first segment, once made */
	if (since == 0) {
		if ((r = cur_move(cur, firsts[n - 1])) <= 0)
			return r == 0 ? dopy_evcur_start(cur, 0) : r;
		if ((r = seg_end(cur->fd, cur->first, &end, &next,
		    &cur->b)) < 0)
			return r;
		cur->off = end;
		cur->want = cur->expect = next;
		dopy_buf_reset(&cur->b);
		return 0;
	}
	/* The newest segment that starts at or before since, else the
	 * oldest (what came before it is gone). */
	for (i = n; i > 1 && firsts[i - 1] > since; i--)
		;
	cur->expect = firsts[i - 1] < since ? firsts[i - 1] : since;
	if ((r = cur_move(cur, firsts[i - 1])) == 0)
		return dopy_evcur_start(cur, since);
	/* Newer segments were made before the caller could see them
	 * made: its end is no place to wait. */
	cur->relist = i < n;
	return r < 0 ? r : 0;
}

/*
 * The record at cur->off, from what was read ahead if it is there
 * whole and sound, else read again (with what follows it, up to
 * READ_AHEAD bytes, or the record's length if larger): 1 with it at
 * *p, 0 when it is not (yet) whole.  Not read again when what was read
 * ahead reached the segment's end after the caller's last wake-up and
 * the caller is told of every change (cur->watched): a change since is
 * still to wake it.  A read that stopped short of the end, but also of
 * a record longer than it asked for, is made again at that length: the
 * record is there, and nothing would wake the caller for it.
 */
#define READ_AHEAD	16384
static int
cur_read(struct dopy_evcur *cur, struct hdr *h, const uint8_t **p,
    int force)
{
	struct dopy_buf *b = &cur->b;
	size_t have, want = READ_AHEAD;
	uint32_t tr[2];
	uint8_t *q;
	ssize_t n;
	int fresh = 0;

	for (;;) {
		have = cur->off >= cur->boff && (uint64_t)(cur->off -
		    cur->boff) <= b->len ? b->len - (size_t)(cur->off -
		    cur->boff) : 0;
		if (have >= HDR) {
			q = b->data + (cur->off - cur->boff);
			memcpy(h, q, HDR);
			if (h->magic != MAGIC || h->len < HDR + TRAILER ||
			    h->len > DOPY_EVLOG_RECORD_MAX || h->tlen == 0 ||
			    (size_t)h->tlen + HDR + TRAILER > h->len)
				have = 0;	/* not (yet) a record */
			else if (h->len <= have) {
				memcpy(tr, q + h->len - TRAILER, TRAILER);
				if (tr[0] == h->len &&
				    tr[1] == fnv1a(q, h->len - TRAILER)) {
					*p = q;
					return 1;
				}
				have = 0;	/* not finished, or torn */
			} else if (h->len > want)
				want = h->len;
		}
		if ((fresh && (cur->eof >= 0 || want <= b->len)) ||
		    (!force && cur->watched && cur->eof >= 0 &&
		    cur->boff + (off_t)b->len == cur->eof))
			return 0;
		/* Read again from the record on: what was read ahead
		 * may have been read while it was being written. */
		dopy_buf_reset(b);
		cur->boff = cur->off;
		if ((q = dopy_buf_reserve(b, want)) == NULL)
			return DOPY_E_NOMEM;
		if ((n = pread(cur->fd, q, want, cur->off)) < 0)
			return DOPY_E_SYS;
		b->len = (size_t)n;
		cur->eof = (size_t)n < want ? cur->off + n : -1;
		fresh = 1;
	}
}

/* Whether a segment newer than the reader's may exist: the caller
 * asked to look (a file was made, or its backstop), or, when it does
 * not watch the directory, the generation in "lock" (see writing)
 * names another segment or is not known. */
static int
cur_newer(struct dopy_evcur *cur)
{
	uint64_t gen;

	if (cur->relist || cur->fd < 0)
		return 1;
	if (cur->watched)
		return 0;	/* a new segment sets relist */
	if (cur->gfd < 0)
		cur->gfd = openat(cur->lg->dirfd, "lock", O_RDONLY |
		    O_CLOEXEC);
	gen_read(cur->gfd, &gen);
	return gen == 0 || gen != cur->first;
}

int
dopy_evcur_next(struct dopy_evcur *cur, struct dopy_evrec *rec)
{
	const uint8_t *p = NULL;
	uint64_t next;
	struct hdr h;
	int r, again = 0, more;

	for (;;) {
		if (cur->dropped > 0)
			return DOPY_EVLOG_GAP;
		r = cur->fd < 0 ? 0 : cur_read(cur, &h, &p, again);
		if (r < 0)
			return r;
		if (r == 1) {
			cur->off += h.len;
			again = 0;
			if (h.seq >= cur->expect)
				cur->expect = h.seq + 1;
			if (h.seq < cur->want)
				continue;
			rec->seq = h.seq;
			rec->time_ns = h.time_ns;
			rec->pid = h.pid;
			rec->topic = (const char *)p + HDR;
			rec->tlen = h.tlen;
			rec->val = p + HDR + h.tlen;
			rec->vlen = h.len - HDR - h.tlen - TRAILER;
			return 1;
		}
		/* Nothing whole here: move on only once a newer segment
		 * exists, and after one more look (a record may have been
		 * finished here before the newer one was made). */
		if (!again && !cur_newer(cur))
			return 0;
		cur->relist = 0;
		if ((r = seg_after(cur, &next, &more)) < 0)
			return r;
		if (next == 0)
			return 0;
		if (!again++)
			continue;
		if ((r = cur_move(cur, next)) < 0)
			return r;
		cur->relist = more;	/* as in dopy_evcur_start */
		again = 0;
	}
}
