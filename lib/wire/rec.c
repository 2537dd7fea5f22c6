/*
 * rec.c - recording a connection's frames into a file that every
 * process of a server appends to (dopy-dump(1), RECORDINGS).
 *
 * A record is written with one writev under an exclusive flock, to a
 * file opened O_APPEND: records of concurrent processes never
 * interleave.  A crash or a full disk can still leave a record short;
 * each carries a check, so a reader skips a torn one and finds the next.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "wire/wire.h"

#define HIDDEN	16	/* calls left out and not yet answered */

struct dopy_rec {
	int		  fd;
	char		  side;
	uint32_t	  conn, seq;
	char *const	 *omit;
	size_t		  nomit;
	uint32_t	  hidden[HIDDEN];	/* call ids, 0: free */
};

static uint32_t	next_conn;	/* this process's connections */

static void
be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void
dopy_rec_check(const uint8_t *hdr, const struct iovec *frame, int cnt,
    uint8_t out[16])
{
	crypto_generichash_state st;
	int i;

	crypto_generichash_init(&st, NULL, 0, 16);
	crypto_generichash_update(&st, hdr, 32);
	for (i = 0; i < cnt; i++)
		crypto_generichash_update(&st, frame[i].iov_base,
		    frame[i].iov_len);
	crypto_generichash_final(&st, out, 16);
}

/* A new file: its header written under a temporary name, then linked
 * in place, so no process ever sees it without one. */
static int
create(const char *path, int on)
{
	uint8_t hdr[DOPY_REC_FILEHDR] = { 0 };
	char tmp[PATH_MAX];
	int fd, r = 0;

	memcpy(hdr, DOPY_REC_FILE_MAGIC, 8);
	hdr[8] = 1;			/* version */
	hdr[DOPY_REC_STATE_AT] = (uint8_t)(on != 0);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.%ld.%08x", path,
	    (long)getpid(), randombytes_random()) >= sizeof(tmp))
		return DOPY_E_INVAL;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0640)) < 0)
		return DOPY_E_SYS;
	if (write(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) ||
	    (link(tmp, path) < 0 && errno != EEXIST))
		r = DOPY_E_SYS;
	close(fd);
	unlink(tmp);
	return r;
}

/* Open path (made if missing) and check that it is a recording. */
static int
open_rec(const char *path, int flags)
{
	uint8_t hdr[DOPY_REC_FILEHDR];
	struct stat sb;
	int fd, r;

	if ((fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK)) < 0 && errno == ENOENT) {
		if ((r = create(path, 1)) < 0)
			return r;
		fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	}
	if (fd < 0)
		return DOPY_E_SYS;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) ||
	    pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
	    memcmp(hdr, DOPY_REC_FILE_MAGIC, 8) != 0) {
		close(fd);
		errno = EINVAL;
		return DOPY_E_INVAL;
	}
	return fd;
}

int
dopy_rec_open(const char *path, char side, struct dopy_rec **out)
{
	struct dopy_rec *r;
	int fd;

	*out = NULL;
	if (sodium_init() < 0)
		return DOPY_E_SYS;
	if ((fd = open_rec(path, O_RDWR | O_APPEND)) < 0)
		return fd;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		close(fd);
		return DOPY_E_NOMEM;
	}
	r->fd = fd;
	r->side = side;
	*out = r;
	return 0;
}

void
dopy_rec_close(struct dopy_rec *r)
{
	if (r == NULL)
		return;
	close(r->fd);
	free(r);
}

void
dopy_rec_next_conn(struct dopy_rec *r)
{
	r->conn = ++next_conn;
	r->seq = 0;
	memset(r->hidden, 0, sizeof(r->hidden));
}

void
dopy_rec_omit(struct dopy_rec *r, char *const *list, size_t n)
{
	r->omit = list;
	r->nomit = n;
}

int
dopy_rec_switch(const char *path, int on)
{
	uint8_t b = (uint8_t)(on != 0);
	int fd, r = 0;

	if (sodium_init() < 0)
		return DOPY_E_SYS;
	/* Not O_APPEND: Linux appends a pwrite to such a file. */
	if ((fd = open_rec(path, O_RDWR)) < 0)
		return fd;
	if (pwrite(fd, &b, 1, DOPY_REC_STATE_AT) != 1)
		r = DOPY_E_SYS;
	close(fd);
	return r;
}

/* Whether recording is on: the file's state byte, which dopy.record
 * and dopy-dump -S change while processes append. */
static int
recording(const struct dopy_rec *r)
{
	uint8_t b;

	return pread(r->fd, &b, 1, DOPY_REC_STATE_AT) == 1 && b == 1;
}

static int
hidden_find(const struct dopy_rec *r, uint32_t id)
{
	int i;

	for (i = 0; i < HIDDEN; i++)
		if (r->hidden[i] == id)
			return i;
	return -1;
}

static int
is_call(uint8_t type)
{
	return type == DOPY_F_CALL || type == DOPY_F_ONEWAY ||
	    type == DOPY_F_CALLBACK;
}

static int
listed(const struct dopy_rec *r, const char *object, const char *method)
{
	size_t i, n = strlen(object);

	for (i = 0; i < r->nomit; i++)
		if (strncmp(r->omit[i], object, n) == 0 &&
		    r->omit[i][n] == '.' && (strcmp(r->omit[i] + n + 1,
		    method) == 0 || strcmp(r->omit[i] + n + 1, "*") == 0))
			return 1;
	return 0;
}

/*
 * A call to a method on the omit list: stub receives its payload
 * without arguments (the deadline image kept), and 1 is returned.
 */
static int
omitted(const struct dopy_rec *r, const uint8_t *hdr, const uint8_t *p,
    size_t len, struct dopy_buf *stub)
{
	struct dopy_callmsg *m;
	char err[160];
	size_t skip;
	int hit = 0;

	if (dopy_msg_call_body(p, len, hdr[3], &skip) < 0 ||
	    (m = malloc(sizeof(*m))) == NULL)
		return 0;
	if (dopy_msg_call_get(p + skip, len - skip, m, err, sizeof(err)) >= 0) {
		hit = listed(r, m->object, m->method);
		if (hit && (dopy_buf_put(stub, p, skip) < 0 ||
		    dopy_msg_call_put(stub, m->object, m->method, NULL, 0) < 0))
			stub->len = 0;	/* then nothing of it is kept */
		dopy_msg_call_release(m);
	}
	free(m);
	return hit;
}

/* What of the frame goes in: flags, and the payload in pl and cnt. */
static uint8_t
select_payload(struct dopy_rec *r, const uint8_t *hdr, const struct iovec
    **pl, int *cnt, struct iovec *one, struct dopy_buf *stub)
{
	uint32_t id = (uint32_t)hdr[4] << 24 | (uint32_t)hdr[5] << 16 |
	    (uint32_t)hdr[6] << 8 | hdr[7];
	const uint8_t *flat;
	uint8_t *copy;
	size_t len;
	int i;

	if (is_call(hdr[2]) && r->nomit > 0) {
		if ((flat = dopy_tap_flat(*pl, *cnt, &len, &copy)) == NULL ||
		    !omitted(r, hdr, flat, len, stub)) {
			free(copy);
			return 0;
		}
		free(copy);
		if (hdr[2] != DOPY_F_ONEWAY && id != 0 &&
		    (i = hidden_find(r, 0)) >= 0)
			r->hidden[i] = id;
		one->iov_base = stub->data;
		one->iov_len = stub->len;
		*pl = one;
		*cnt = stub->len > 0;
		return DOPY_REC_OMIT;
	}
	if (is_call(hdr[2]) || id == 0 || (i = hidden_find(r, id)) < 0)
		return 0;
	if (hdr[2] == DOPY_F_REPLY || hdr[2] == DOPY_F_ERROR)
		r->hidden[i] = 0;	/* answered: the id may come again */
	*cnt = 0;
	return DOPY_REC_OMIT;
}

static void
put_header(struct dopy_rec *r, uint8_t *rh, int out, uint8_t flags,
    uint32_t orig)
{
	struct timespec ts;
	uint64_t ns;
	int i;

	clock_gettime(CLOCK_REALTIME, &ts);
	ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	memcpy(rh, "DREC", 4);
	be32(rh + 4, r->seq++);
	for (i = 0; i < 8; i++)
		rh[8 + i] = (uint8_t)(ns >> (56 - 8 * i));
	be32(rh + 16, (uint32_t)getpid());
	be32(rh + 20, r->conn);
	rh[24] = (uint8_t)r->side;
	rh[25] = out ? 'o' : 'i';
	rh[26] = flags;
	rh[27] = 0;
	be32(rh + 28, orig);
}

/* All of iov, under the lock, however the kernel splits it. */
static void
append(int fd, struct iovec *iov, int cnt)
{
	ssize_t n;

	if (flock(fd, LOCK_EX) < 0)
		return;
	while (cnt > 0) {
		if ((n = writev(fd, iov, cnt)) < 0) {
			if (errno == EINTR)
				continue;
			break;		/* the reader skips what is short */
		}
		for (; cnt > 0 && (size_t)n >= iov->iov_len; iov++, cnt--)
			n -= (ssize_t)iov->iov_len;
		if (cnt > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	(void)flock(fd, LOCK_UN);
}

void
dopy_rec_frame(struct dopy_rec *r, int out, const uint8_t *hdr,
    const struct iovec *pl, int cnt)
{
	struct iovec iov[2 * DOPY_BUF_REFS + 4], one;
	uint8_t rh[DOPY_REC_HDR], fh[DOPY_HDR_LEN], flags;
	struct dopy_buf stub;
	size_t len = 0;
	int i;

	dopy_buf_init(&stub);
	flags = select_payload(r, hdr, &pl, &cnt, &one, &stub);
	if (cnt > (int)(sizeof(iov) / sizeof(iov[0])) - 2 || !recording(r)) {
		dopy_buf_release(&stub);
		return;
	}
	for (i = 0; i < cnt; i++)
		len += pl[i].iov_len;
	if (len > DOPY_REC_MAX) {
		flags |= DOPY_REC_CUT;
		cnt = 0;
		len = 0;
	}
	memcpy(fh, hdr, DOPY_HDR_LEN);
	be32(fh + 8, (uint32_t)len);
	put_header(r, rh, out, flags, (uint32_t)hdr[8] << 24 |
	    (uint32_t)hdr[9] << 16 | (uint32_t)hdr[10] << 8 | hdr[11]);
	iov[1].iov_base = fh;
	iov[1].iov_len = sizeof(fh);
	memcpy(iov + 2, pl, (size_t)cnt * sizeof(*pl));
	dopy_rec_check(rh, iov + 1, cnt + 1, rh + 32);
	iov[0].iov_base = rh;
	iov[0].iov_len = sizeof(rh);
	append(r->fd, iov, cnt + 2);
	dopy_buf_release(&stub);
}
