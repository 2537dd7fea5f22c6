/*
 * testobj_upload.c - the `upload` object: methods that take an upload
 * (a last parameter "stream T", dopy_call_next_item).  sum adds ints;
 * digest counts bytes and hashes them (FNV-1a, so a test can check
 * every byte arrived in order); size only counts them (the bench's
 * load); count counts the lines with a prefix;
 * take reads only n items and answers early; slow reads one item per
 * ms, stopping when cancelled; fail_at raises at item n.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "testobj.h"

static int
upload_sum(dopy_call *c)
{
	dopy_value *v;
	int64_t sum = 0;
	int r;

	while ((r = dopy_call_next_item(c, &v)) == 1) {
		sum += dopy_value_get_int(v);
		dopy_value_free(v);
	}
	return r < 0 ? r : dopy_call_return(c, dopy_value_int(sum));
}

static uint64_t
fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	while (n-- > 0)
		h = (h ^ *p++) * 0x100000001b3ull;
	return h;
}

static int
upload_digest(dopy_call *c)
{
	uint64_t h = 0xcbf29ce484222325ull, total = 0;
	const void *p;
	dopy_value *v;
	char hex[64];
	size_t n;
	int r;

	while ((r = dopy_call_next_item(c, &v)) == 1) {
		p = dopy_value_get_bytes(v, &n);
		h = fnv1a(h, p, n);
		total += n;
		dopy_value_free(v);
	}
	if (r < 0)
		return r;
	snprintf(hex, sizeof(hex), "%llu %016llx", (unsigned long long)total,
	    (unsigned long long)h);
	return dopy_call_return(c, dopy_value_string(hex));
}

static int
upload_size(dopy_call *c)
{
	uint64_t total = 0;
	dopy_value *v;
	size_t n;
	int r;

	while ((r = dopy_call_next_item(c, &v)) == 1) {
		(void)dopy_value_get_bytes(v, &n);
		total += n;
		dopy_value_free(v);
	}
	return r < 0 ? r : dopy_call_return(c, dopy_value_uint(total));
}

static int
upload_count(dopy_call *c)
{
	const char *prefix = dopy_call_string(c, 0);
	size_t plen = strlen(prefix);
	dopy_value *v;
	int64_t n = 0;
	int r;

	while ((r = dopy_call_next_item(c, &v)) == 1) {
		n += strncmp(dopy_value_get_string(v), prefix, plen) == 0;
		dopy_value_free(v);
	}
	return r < 0 ? r : dopy_call_return(c, dopy_value_int(n));
}

static int
upload_take(dopy_call *c)
{
	int64_t want = dopy_call_int(c, 0), sum = 0, i;
	dopy_value *v;
	int r = 1;

	for (i = 0; i < want && (r = dopy_call_next_item(c, &v)) == 1; i++) {
		sum += dopy_value_get_int(v);
		dopy_value_free(v);
	}
	return r < 0 ? r : dopy_call_return(c, dopy_value_int(sum));
}

static int
upload_slow(dopy_call *c)
{
	struct timespec ts = { 0, 1000000 };
	int64_t n = 0;
	dopy_value *v;
	int r;

	while ((r = dopy_call_next_item(c, &v)) == 1) {
		dopy_value_free(v);
		n++;
		nanosleep(&ts, NULL);
	}
	if (r == DOPY_E_CANCELLED)
		return dopy_call_raise_cancelled(c);
	return r < 0 ? r : dopy_call_return(c, dopy_value_int(n));
}

static int
upload_fail_at(dopy_call *c)
{
	int64_t at = dopy_call_int(c, 0), i = 0;
	dopy_value *v;
	int r;

	while ((r = dopy_call_next_item(c, &v)) == 1) {
		dopy_value_free(v);
		if (++i == at)
			return dopy_raise(c, "upload.Failure", "failed at item "
			    "%lld", (long long)i);
	}
	return r < 0 ? r : dopy_call_return(c, dopy_value_int(i));
}

static const struct dopy_method upload_methods[] = {
	{ "sum", upload_sum, "data:stream int", "int",
	    "The sum of the items." },
	{ "digest", upload_digest, "data:stream bytes", "string",
	    "The bytes' total and FNV-1a hash, \"BYTES HASH\"." },
	{ "size", upload_size, "data:stream bytes", "uint",
	    "The number of bytes, and nothing more done with them." },
	{ "count", upload_count, "prefix:string, lines:stream string", "int",
	    "How many lines begin with prefix." },
	{ "take", upload_take, "n:int, data:stream int", "int",
	    "The sum of the first n items; answers without the rest." },
	{ "slow", upload_slow, "data:stream int", "int",
	    "Count the items, a millisecond each." },
	{ "fail_at", upload_fail_at, "n:int, data:stream int", "int",
	    "Raise upload.Failure at item n." },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_object_def upload_object = {
	"upload", "Methods that take an upload.", upload_methods, NULL, NULL
};

int
testobj_upload_add(dopy_server *s)
{
	return dopy_server_add(s, &upload_object, NULL);
}
