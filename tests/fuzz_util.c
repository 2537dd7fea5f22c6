/*
 * fuzz_util.c - what the libFuzzer harnesses share; see fuzz_util.h.
 */
#define _XOPEN_SOURCE 700
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_util.h"

/* libFuzzer's own mutator, for the bytes inside a frame. */
size_t	LLVMFuzzerMutate(uint8_t *, size_t, size_t);

static void	rm_dirs(void);

void
fuzz_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fuzz: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	rm_dirs();		/* abort() skips atexit */
	abort();
}

/* A memfd rather than a pipe: no size limit, no writer to wait for,
 * and the reader sees EOF right after the data. */
int
fuzz_input_fd(const uint8_t *data, size_t size)
{
	size_t off = 0;
	ssize_t n;
	int fd;

	if ((fd = memfd_create("fuzz-input", MFD_CLOEXEC)) < 0)
		fuzz_die("memfd_create: %m");
	for (; off < size; off += (size_t)n)
		if ((n = write(fd, data + off, size - off)) <= 0)
			fuzz_die("write to memfd: %m");
	if (lseek(fd, 0, SEEK_SET) != 0)
		fuzz_die("lseek: %m");
	return fd;
}

int
fuzz_devnull(void)
{
	int fd;

	if ((fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0)
		fuzz_die("/dev/null: %m");
	return fd;
}

/* ---- streams of frames ---- */

int
fuzz_frame_next(const uint8_t *data, size_t size, size_t *off,
    struct dopy_frame *f)
{
	if (*off == size)
		return 0;
	if (size - *off < DOPY_HDR_LEN ||
	    dopy_frame_decode(data + *off, UINT32_MAX, f) < 0 ||
	    f->len > size - *off - DOPY_HDR_LEN)
		return -1;
	f->payload = data + *off + DOPY_HDR_LEN;
	*off += DOPY_HDR_LEN + f->len;
	return 1;
}

int
fuzz_frames_whole(const uint8_t *data, size_t size)
{
	struct dopy_frame f;
	size_t off = 0;
	int r;

	while ((r = fuzz_frame_next(data, size, &off, &f)) > 0)
		;
	return r == 0;
}

/* ---- the mutator ---- */

#define MAX_PIECES	512

/* The input cut into whole frames, and what follows them. */
struct pieces {
	struct dopy_frame	 f[MAX_PIECES];
	size_t			 n;
	const uint8_t		*tail;
	size_t			 taillen;
};

/* The output being assembled; full once something did not fit. */
struct out {
	uint8_t	*p;
	size_t	 n, max;
	int	 full;
};

static uint32_t
rnd(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static void
cut(const uint8_t *data, size_t size, struct pieces *ps)
{
	size_t off = 0, at = 0;

	ps->n = 0;
	while (ps->n < MAX_PIECES &&
	    fuzz_frame_next(data, size, &off, &ps->f[ps->n]) > 0) {
		ps->n++;
		at = off;
	}
	ps->tail = data + at;
	ps->taillen = size - at;
}

static void
put(struct out *o, const void *p, size_t len)
{
	if (o->full || len > o->max - o->n) {
		o->full = 1;
		return;
	}
	memcpy(o->p + o->n, p, len);
	o->n += len;
}

/* The payload a frame may still have. */
static size_t
room(const struct out *o)
{
	return o->max - o->n > DOPY_HDR_LEN ? o->max - o->n - DOPY_HDR_LEN :
	    0;
}

static void
put_frame(struct out *o, uint8_t type, uint32_t id, const uint8_t *p,
    size_t len)
{
	uint8_t hdr[DOPY_HDR_LEN];

	dopy_frame_encode(hdr, type, id, (uint32_t)len);
	put(o, hdr, sizeof(hdr));
	put(o, p, len);
}

/* Frame k's payload through libFuzzer's mutator, its length made right. */
static void
put_mutated(struct out *o, const struct dopy_frame *f, size_t room)
{
	uint8_t *p;
	size_t len;

	if (room < f->len)
		room = f->len;
	if ((p = malloc(room ? room : 1)) == NULL)
		fuzz_die("out of memory");
	memcpy(p, f->payload, f->len);
	len = f->len == 0 && room == 0 ? 0 : LLVMFuzzerMutate(p, f->len,
	    room);
	put_frame(o, f->type, f->id, p, len);
	free(p);
}

/* Another type: mostly one dopy(5) defines, now and then any byte. */
static uint8_t
other_type(uint32_t *s)
{
	return rnd(s) % 4 == 0 ? (uint8_t)rnd(s) : 1 + rnd(s) % 12;
}

/* Another call id: the small ones a client numbers from, 0, or any. */
static uint32_t
other_id(uint32_t *s, uint32_t id)
{
	switch (rnd(s) % 5) {
	case 0:
		return 0;
	case 1:
		return id + 1;
	case 2:
		return id - 1;
	case 3:
		return 1 + rnd(s) % 16;
	default:
		return rnd(s) ^ rnd(s) << 16;
	}
}

/* One frame of the output: frame i, changed by op (1 to 6) if it is
 * the chosen k. */
static void
emit(struct out *o, const struct pieces *ps, size_t i, size_t k,
    unsigned op, uint32_t *s)
{
	const struct dopy_frame *f = &ps->f[i];
	size_t j, times;

	if (i != k) {
		put_frame(o, f->type, f->id, f->payload, f->len);
		return;
	}
	switch (op) {
	case 1:			/* its payload mutated */
		put_mutated(o, f, room(o) > 65536 ? 65536 : room(o));
		break;
	case 2:			/* dropped */
		break;
	case 3:			/* repeated, as room allows: floods */
		times = 2 + rnd(s) % 64;
		for (j = 0; j < times && f->len <= room(o); j++)
			put_frame(o, f->type, f->id, f->payload, f->len);
		break;
	case 4:
		put_frame(o, other_type(s), f->id, f->payload, f->len);
		break;
	case 5:
		put_frame(o, f->type, other_id(s, f->id), f->payload, f->len);
		break;
	default:		/* another frame of the input in its place */
		f = &ps->f[rnd(s) % ps->n];
		put_frame(o, f->type, f->id, f->payload, f->len);
		break;
	}
}

size_t
fuzz_frames_mutate(uint8_t *data, size_t size, size_t max,
    unsigned int seed)
{
	static struct pieces ps;
	struct out o = { NULL, 0, max, 0 };
	uint32_t s = seed;
	unsigned op = rnd(&s) % 10;
	size_t i, k;

	cut(data, size, &ps);
	/* The bytes as they are, now and then or when there is no frame. */
	if (ps.n == 0 || op >= 8)
		return LLVMFuzzerMutate(data, size, max);
	if ((o.p = malloc(max ? max : 1)) == NULL)
		fuzz_die("out of memory");
	k = rnd(&s) % ps.n;
	for (i = 0; i < ps.n; i++)
		emit(&o, &ps, i, k, op % 7 == 0 ? 1 : op % 7, &s);
	/* What followed the frames: kept, dropped, or the stream cut
	 * inside its last frame (EOF inside a frame). */
	if (rnd(&s) % 8 != 0)
		put(&o, ps.tail, ps.taillen);
	else if (o.n > 0 && !o.full)
		o.n -= 1 + rnd(&s) % (o.n < 64 ? o.n : 64);
	if (o.full) {
		free(o.p);
		return LLVMFuzzerMutate(data, size, max);
	}
	memcpy(data, o.p, o.n);
	free(o.p);
	return o.n;
}

/* ---- a scratch directory for the store ---- */

static char	*dirs[4];
static size_t	 ndirs;

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	if (ftw->level > 0)
		remove(path);
	return 0;
}

void
fuzz_dir_empty(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
rm_dirs(void)
{
	size_t i;

	for (i = 0; i < ndirs; i++) {
		fuzz_dir_empty(dirs[i]);
		rmdir(dirs[i]);
		free(dirs[i]);
	}
	ndirs = 0;
}

/* $TMPDIR, else /dev/shm: the store fsyncs every write, which costs
 * nothing on tmpfs and a third of the session harness's speed on disk. */
static const char *
tmp_root(void)
{
	const char *tmp = getenv("TMPDIR");

	if (tmp != NULL && *tmp != '\0')
		return tmp;
	return access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp";
}

char *
fuzz_tmpdir(const char *what)
{
	const char *tmp = tmp_root();
	char *d;

	if (ndirs == sizeof(dirs) / sizeof(dirs[0]))
		fuzz_die("too many scratch directories");
	if (asprintf(&d, "%s/dopy-fuzz-%s.XXXXXX", tmp, what) < 0 ||
	    mkdtemp(d) == NULL)
		fuzz_die("mkdtemp: %m");
	if (ndirs == 0)
		atexit(rm_dirs);
	return dirs[ndirs++] = d;
}
