/*
 * errimg.c - an ERROR payload (msg.c: S(sssssI) then A(s)) written by
 * hand into a caller's buffer, for the crash handler (server/crash.c):
 * a signal handler may not call malloc, which dopy_msg_error_put and
 * every dopy_buf do.  Only memcpy and strlen, which POSIX lists as
 * async-signal-safe.  tests/test_errimg.c proves the bytes equal what
 * dopy_msg_error_put writes for the same error.
 */
#include <string.h>

#include "wire/wire.h"

struct fixed {
	uint8_t	*p;
	size_t	 len, size;
	int	 full;
};

static void
put(struct fixed *f, const void *v, size_t n)
{
	if (f->full || f->size - f->len < n) {
		f->full = 1;
		return;
	}
	memcpy(f->p + f->len, v, n);
	f->len += n;
}

static void
put_u32(struct fixed *f, uint32_t v)
{
	put(f, &v, sizeof(v));		/* tpl: the writer's byte order */
}

/* The preamble of image_open (codec.c): magic, flags, length to come,
 * then the format and its NUL. */
static size_t
open_image(struct fixed *f, const char *fmt)
{
	uint8_t pre[8] = { 't', 'p', 'l', DOPY_TPL_HOST_ORDER | 2 };
	size_t start = f->len;

	put(f, pre, sizeof(pre));
	put(f, fmt, strlen(fmt) + 1);
	return start;
}

static void
close_image(struct fixed *f, size_t start)
{
	uint32_t len = (uint32_t)(f->len - start);

	if (!f->full)
		memcpy(f->p + start + 4, &len, sizeof(len));
}

static void
put_string(struct fixed *f, const char *s)
{
	size_t n = strlen(s);

	put_u32(f, (uint32_t)n + 1);
	put(f, s, n);
}

size_t
dopy_msg_error_fixed(uint8_t *buf, size_t size, const char *const hdr[5],
    int64_t pid, const char *const *trace, size_t ntrace)
{
	struct fixed f = { buf, 0, size, 0 };
	size_t start, i;

	start = open_image(&f, "S(sssssI)");
	for (i = 0; i < 5; i++)
		put_string(&f, hdr[i]);
	put(&f, &pid, sizeof(pid));
	close_image(&f, start);
	start = open_image(&f, "A(s)");
	put_u32(&f, (uint32_t)ntrace);
	for (i = 0; i < ntrace; i++)
		put_string(&f, trace[i]);
	close_image(&f, start);
	return f.full ? 0 : f.len;
}
