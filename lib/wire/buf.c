/*
 * buf.c - a growable byte buffer with a read offset.
 *
 * Readers consume from off; writers append at len.  Space before off is
 * reclaimed by moving the unread bytes down when more room is needed, so
 * a buffer used as a read queue does not grow without bound.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "wire/wire.h"

void
dopy_buf_init(struct dopy_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void
dopy_buf_release(struct dopy_buf *b)
{
	free(b->data);
	dopy_buf_init(b);
}

void
dopy_buf_reset(struct dopy_buf *b)
{
	b->off = b->len = 0;
	b->nrefs = 0;
	b->refok = 0;
}

void
dopy_buf_allow_refs(struct dopy_buf *b)
{
	b->refok = 1;
}

int
dopy_buf_put_ref(struct dopy_buf *b, const void *p, size_t n)
{
	struct dopy_bufref *r;

	/* A buffer read from (off > 0) moves its bytes: copy there. */
	if (!b->refok || n < DOPY_REF_MIN || b->nrefs == DOPY_BUF_REFS ||
	    b->off != 0)
		return dopy_buf_put(b, p, n);
	r = &b->ref[b->nrefs++];
	r->at = b->len;
	r->p = p;
	r->len = n;
	return 0;
}

size_t
dopy_buf_size(const struct dopy_buf *b, size_t from)
{
	size_t i, n = b->len - from;

	for (i = 0; i < b->nrefs; i++)
		if (b->ref[i].at > from)
			n += b->ref[i].len;
	return n;
}

void
dopy_buf_truncate(struct dopy_buf *b, size_t len)
{
	/* References are in order of at. */
	while (b->nrefs > 0 && b->ref[b->nrefs - 1].at > len)
		b->nrefs--;
	b->len = len;
}

uint8_t *
dopy_buf_take(struct dopy_buf *b)
{
	uint8_t *p = b->data;

	dopy_buf_init(b);
	return p;
}

uint8_t *
dopy_buf_reserve(struct dopy_buf *b, size_t n)
{
	size_t need, ncap;
	uint8_t *p;

	if (b->off > 0 && b->len + n > b->cap) {
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	if (n > SIZE_MAX - b->len)
		return NULL;
	need = b->len + n;
	if (need <= b->cap && b->data != NULL)
		return b->data + b->len;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if ((p = realloc(b->data, ncap)) == NULL)
		return NULL;
	b->data = p;
	b->cap = ncap;
	return b->data + b->len;
}

int
dopy_buf_put_slow(struct dopy_buf *b, const void *p, size_t n)
{
	uint8_t *dst;

	if ((dst = dopy_buf_reserve(b, n)) == NULL)
		return DOPY_E_NOMEM;
	if (n > 0)
		memcpy(dst, p, n);
	b->len += n;
	return 0;
}

size_t
dopy_buf_avail(const struct dopy_buf *b)
{
	return b->len - b->off;
}

void
dopy_buf_consume(struct dopy_buf *b, size_t n)
{
	if (n >= b->len - b->off)
		b->off = b->len = 0;
	else
		b->off += n;
}

/*
 * A block for a large frame or value.  glibc maps each block this big
 * afresh and unmaps it on free, so every page is a fault on first touch:
 * 16384 of them for 64 MiB, which cost more than copying the data.
 * Transparent huge pages (asked for, as the kernel's default is often
 * "madvise") make that 32 faults.  Freed with free().
 */
#define HUGE_MIN	(4u << 20)
#define HUGE_PAGE	((uintptr_t)2 << 20)

void *
dopy_alloc_large(size_t n)
{
	void *p = malloc(n);
#ifdef MADV_HUGEPAGE
	uintptr_t lo, hi;

	if (p != NULL && n >= HUGE_MIN) {
		lo = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
		hi = ((uintptr_t)p + n) & ~(HUGE_PAGE - 1);
		if (hi > lo)	/* a hint: a kernel without THP says EINVAL */
			(void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
	}
#endif
	return p;
}
