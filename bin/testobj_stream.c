/*
 * testobj_stream.c - the `stream` object: methods that stream their
 * results (dopy_call_send_item).  count sends 1..n, optionally paced;
 * lines sends n strings of size bytes (the bench's and the memory
 * test's load); fail_after sends n items, then raises.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "testobj.h"

#define MAX_LINE	(1 << 20)

static void
pause_ms(int64_t ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	if (ms > 0)
		nanosleep(&ts, NULL);
}

static int
stream_count(dopy_call *c)
{
	int64_t i, n = dopy_call_int(c, 0), every = dopy_call_int(c, 1);
	int r;

	for (i = 1; i <= n; i++) {
		if (i > 1)
			pause_ms(every);
		if ((r = dopy_call_send_item(c, dopy_value_int(i))) < 0)
			return r;
	}
	return 0;
}

/* Line i: its number, then dots up to size bytes. */
static int
stream_lines(dopy_call *c)
{
	int64_t i, n = dopy_call_int(c, 0), size = dopy_call_int(c, 1);
	char *buf;
	int r = 0, k;

	if (size < 1 || size > MAX_LINE)
		return dopy_raise(c, "stream.BadSize", "size %lld: from 1 to "
		    "%d bytes", (long long)size, MAX_LINE);
	if ((buf = malloc((size_t)size + 1)) == NULL)
		return dopy_raise(c, "stream.NoMemory", "out of memory");
	memset(buf, '.', (size_t)size);
	buf[size] = '\0';
	for (i = 1; i <= n && r == 0; i++) {
		k = snprintf(buf, (size_t)size + 1, "%lld", (long long)i);
		if (k < size)
			buf[k] = '.';
		r = dopy_call_send_item(c, dopy_value_string(buf));
	}
	free(buf);
	return r;
}

static int
stream_fail_after(dopy_call *c)
{
	int64_t i, n = dopy_call_int(c, 0);
	int r;

	for (i = 1; i <= n; i++)
		if ((r = dopy_call_send_item(c, dopy_value_int(i))) < 0)
			return r;
	return dopy_raise(c, "stream.Failure", "failed after %lld items",
	    (long long)n);
}

static const struct dopy_method stream_methods[] = {
	{ "count", stream_count, "n:int, every_ms:int=0", "stream int",
	    "Send 1 to n, every_ms apart." },
	{ "lines", stream_lines, "n:int, size:int", "stream string",
	    "Send n lines of size bytes: the line's number, then dots." },
	{ "fail_after", stream_fail_after, "n:int", "stream int",
	    "Send 1 to n, then raise stream.Failure." },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_object_def stream_object = {
	"stream", "Methods that stream their results.", stream_methods,
	NULL, NULL
};

int
testobj_stream_add(dopy_server *s)
{
	return dopy_server_add(s, &stream_object, NULL);
}
