/*
 * buf.c - a growable byte buffer with a read offset.
 *
 * Readers consume from off; writers append at len.  Space before off is
 * reclaimed by moving the unread bytes down when more room is needed, so
 * a buffer used as a read queue does not grow without bound.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

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
 * The big-block cache: two blocks cover a client's call (its argument
 * and the answer are alive together) and a server's.  A lock another
 * thread holds (or a fork left held) is not waited for: the block is
 * then allocated or freed as usual.
 */
#define BIG_SLOTS	2
#define BIG_ROUND	(1024u * 1024)	/* so sizes that differ a little fit */

static pthread_mutex_t big_lock = PTHREAD_MUTEX_INITIALIZER;
static void *big_slot[BIG_SLOTS];

void *
dopy_big_alloc(size_t n)
{
	void *p = NULL;
	size_t i, best = BIG_SLOTS, sz, bestsz = SIZE_MAX;

	if (n < DOPY_BIG_MIN)
		return malloc(n);
	if (pthread_mutex_trylock(&big_lock) == 0) {
		for (i = 0; i < BIG_SLOTS; i++)
			if (big_slot[i] != NULL &&
			    (sz = malloc_usable_size(big_slot[i])) >= n &&
			    sz < bestsz) {
				best = i;
				bestsz = sz;
			}
		if (best < BIG_SLOTS) {
			p = big_slot[best];
			big_slot[best] = NULL;
		}
		pthread_mutex_unlock(&big_lock);
	}
	if (p == NULL && n <= SIZE_MAX - BIG_ROUND)
		p = malloc((n + BIG_ROUND - 1) / BIG_ROUND * BIG_ROUND);
	return p;
}

void
dopy_big_free(void *p)
{
	size_t i;

	if (p == NULL)
		return;
	if (malloc_usable_size(p) < DOPY_BIG_MIN ||
	    pthread_mutex_trylock(&big_lock) != 0) {
		free(p);
		return;
	}
	/* Keep the most recent: the oldest goes. */
	free(big_slot[BIG_SLOTS - 1]);
	for (i = BIG_SLOTS - 1; i > 0; i--)
		big_slot[i] = big_slot[i - 1];
	big_slot[0] = p;
	pthread_mutex_unlock(&big_lock);
}
