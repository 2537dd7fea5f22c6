/*
 * tap.c - a channel's frames, whole, for whoever watches them
 * (recording, -v).  Writes are shown as the pieces the channel writes,
 * so a large value held by reference is not copied to be watched.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "wire/wire.h"

/* Where the walk through the pieces is. */
struct cursor {
	const struct iovec	*iov;
	int			 cnt, i;
	size_t			 off;
};

/* Copy n bytes (a header) from the cursor; 0 when there are fewer. */
static int
take(struct cursor *c, uint8_t *dst, size_t n)
{
	size_t k;

	while (n > 0) {
		if (c->i >= c->cnt)
			return 0;
		k = c->iov[c->i].iov_len - c->off;
		if (k > n)
			k = n;
		memcpy(dst, (const uint8_t *)c->iov[c->i].iov_base + c->off, k);
		dst += k;
		n -= k;
		if ((c->off += k) == c->iov[c->i].iov_len) {
			c->i++;
			c->off = 0;
		}
	}
	return 1;
}

/* The next len bytes as pieces (at most max); their count, or -1 when
 * the bytes end first. */
static int
slices(struct cursor *c, size_t len, struct iovec *out, int max)
{
	size_t k;
	int n = 0;

	while (len > 0) {
		if (c->i >= c->cnt || n == max)
			return -1;
		k = c->iov[c->i].iov_len - c->off;
		if (k > len)
			k = len;
		out[n].iov_base = (uint8_t *)c->iov[c->i].iov_base + c->off;
		out[n++].iov_len = k;
		len -= k;
		if ((c->off += k) == c->iov[c->i].iov_len) {
			c->i++;
			c->off = 0;
		}
	}
	return n;
}

void
dopy_tap_frames(struct dopy_tap *t, const struct iovec *iov, int cnt)
{
	struct cursor c = { iov, cnt, 0, 0 };
	struct iovec pl[2 * DOPY_BUF_REFS + 1];
	uint8_t hdr[DOPY_HDR_LEN];
	uint32_t len;
	int n;

	while (take(&c, hdr, sizeof(hdr))) {
		len = (uint32_t)hdr[8] << 24 | (uint32_t)hdr[9] << 16 |
		    (uint32_t)hdr[10] << 8 | hdr[11];
		if ((n = slices(&c, len, pl, (int)(sizeof(pl) /
		    sizeof(pl[0])))) < 0)
			return;		/* not a whole frame: not ours */
		t->frame(t, 1, hdr, pl, n);
	}
}

const uint8_t *
dopy_tap_flat(const struct iovec *pl, int cnt, size_t *len, uint8_t **copy)
{
	size_t n = 0;
	int i;

	*copy = NULL;
	for (i = 0; i < cnt; i++)
		n += pl[i].iov_len;
	*len = n;
	if (cnt == 0)
		return (const uint8_t *)"";
	if (cnt == 1)
		return pl[0].iov_base;
	if ((*copy = malloc(n)) == NULL)
		return NULL;
	for (n = 0, i = 0; i < cnt; n += pl[i].iov_len, i++)
		memcpy(*copy + n, pl[i].iov_base, pl[i].iov_len);
	return *copy;
}
