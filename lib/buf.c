/*
 * buf.c - a growable byte buffer with a read offset.
 *
 * Readers consume from off; writers append at len.  Space before off is
 * reclaimed by moving the unread bytes down when more room is needed, so
 * a buffer used as a read queue does not grow without bound.
 */
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
dopy_buf_put(struct dopy_buf *b, const void *p, size_t n)
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
