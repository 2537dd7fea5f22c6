/*
 * framejson.c - a frame as one line of JSON: what dopy-dump(1) prints
 * and what -v logs.  Field names are dopy-dump(1)'s and stable.  The
 * payload may be anything (a recording of a hostile peer, a capture):
 * whatever does not decode is named in "bad" and the line still ends.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "wire/wire.h"

struct jl {
	struct dopy_buf	b;
	int		failed;
};

static void
raw(struct jl *j, const char *s)
{
	if (!j->failed && dopy_buf_put(&j->b, s, strlen(s)) < 0)
		j->failed = 1;
}

static void __attribute__((format(printf, 2, 3)))
fmt(struct jl *j, const char *f, ...)
{
	char tmp[128];
	va_list ap;

	va_start(ap, f);
	vsnprintf(tmp, sizeof(tmp), f, ap);
	va_end(ap);
	raw(j, tmp);
}

static void quote(struct jl *, const char *);

/* ,"key":"s" */
static void
str(struct jl *j, const char *key, const char *s)
{
	fmt(j, ",\"%s\":", key);
	quote(j, s);
}

static void
quote(struct jl *j, const char *s)
{
	if (!j->failed && dopy_json_quote(&j->b, s, strlen(s), 0) < 0)
		j->failed = 1;
}

/* "type":T,"value":V: the type as the image names it. */
static void
value(struct jl *j, const dopy_value *v)
{
	char *text = dopy_value_json(v);

	raw(j, "\"type\":");
	quote(j, dopy_type_name(dopy_value_type(v)));
	raw(j, ",\"value\":");
	raw(j, text != NULL ? text : "null");
	if (text == NULL)
		j->failed = 1;
	free(text);
}

/* An image as {"type","value"}, or the reason it is not one. */
static int
image(struct jl *j, const struct dopy_image *img, char *err, size_t errlen)
{
	dopy_value *v = NULL;

	if (dopy_decode(img, NULL, &v, err, errlen) < 0)
		return -1;
	value(j, v);
	dopy_value_free(v);
	return 0;
}

static void
bad(struct jl *j, const char *why)
{
	str(j, "bad", why[0] != '\0' ? why : "does not decode");
}

static void
hello(struct jl *j, const uint8_t *p, size_t len)
{
	static const char *feat[] = { "auth", "stream", "cancel", "deadline",
	    "upload" };
	struct dopy_hello h;
	char err[160] = "";
	size_t i, n = 0;

	if (dopy_msg_hello_get(p, len, &h, err, sizeof(err)) < 0) {
		bad(j, err);
		return;
	}
	fmt(j, ",\"proto\":%" PRIu32 ",\"max_frame\":%" PRIu32
	    ",\"features\":[", h.proto, h.max_frame);
	for (i = 0; i < sizeof(feat) / sizeof(feat[0]); i++)
		if (h.features & (1ull << i))
			fmt(j, "%s\"%s\"", n++ > 0 ? "," : "", feat[i]);
	raw(j, "]");
	if (h.features >> i)
		fmt(j, ",\"features_other\":%" PRIu64, h.features >> i << i);
	str(j, "software", h.software != NULL ? h.software : "");
	dopy_msg_hello_release(&h);
}

/* The deadline image a flagged CALL begins with; its length. */
static size_t
deadline(struct jl *j, const uint8_t *p, size_t len)
{
	struct dopy_image img;
	dopy_value *v = NULL;
	char err[160];
	size_t n = 0;

	(void)dopy_images_split(p, len, &img, 1, &n, err, sizeof(err));
	if (n != 1 || dopy_decode(&img, &dopy_type_uint_, &v, err,
	    sizeof(err)) < 0)
		return 0;
	fmt(j, ",\"deadline_ms\":%" PRIu64, dopy_value_get_uint(v));
	dopy_value_free(v);
	return img.len;
}

static void
call(struct jl *j, uint8_t flags, const uint8_t *p, size_t len)
{
	struct dopy_callmsg *m;
	char err[160] = "";
	size_t i, skip = 0;

	if (flags & DOPY_FL_DEADLINE)
		skip = deadline(j, p, len);
	if (flags & DOPY_FL_UPLOAD)
		raw(j, ",\"upload\":true");
	/* Too large for the stack of a thread that logs. */
	if ((m = malloc(sizeof(*m))) == NULL) {
		j->failed = 1;
		return;
	}
	if (dopy_msg_call_get(p + skip, len - skip, m, err, sizeof(err)) < 0) {
		bad(j, err);
		free(m);
		return;
	}
	str(j, "object", m->object);
	str(j, "method", m->method);
	raw(j, ",\"args\":[");
	for (i = 0; i < m->argc && err[0] == '\0'; i++) {
		raw(j, i > 0 ? ",{" : "{");
		if (m->names[i][0] != '\0') {
			raw(j, "\"name\":");
			quote(j, m->names[i]);
			raw(j, ",");
		}
		if (image(j, &m->args[i], err, sizeof(err)) < 0)
			raw(j, "\"type\":null");
		raw(j, "}");
	}
	raw(j, "]");
	if (err[0] != '\0')
		bad(j, err);
	dopy_msg_call_release(m);
	free(m);
}

/* REPLY, CALLBACK_REPLY, ITEM: no image, or one under key. */
static void
result(struct jl *j, const char *key, const uint8_t *p, size_t len)
{
	struct dopy_image img[2];
	char err[160] = "";
	size_t n = 0;

	if (len == 0)
		return;
	if (dopy_images_split(p, len, img, 2, &n, err, sizeof(err)) < 0 ||
	    n != 1) {
		bad(j, n > 1 ? "more than one image" : err);
		return;
	}
	fmt(j, ",\"%s\":{", key);
	if (image(j, &img[0], err, sizeof(err)) < 0) {
		raw(j, "\"type\":null}");
		bad(j, err);
		return;
	}
	raw(j, "}");
}

static void
error(struct jl *j, const uint8_t *p, size_t len)
{
	dopy_error *e = NULL;
	size_t i;

	if (dopy_msg_error_get(p, len, &e) < 0 || e == NULL) {
		bad(j, "not an error payload");
		dopy_error_free(e);
		return;
	}
	raw(j, ",\"error\":{\"name\":");
	quote(j, dopy_error_name(e));
	str(j, "message", dopy_error_message(e));
	str(j, "object", dopy_error_object(e));
	str(j, "method", dopy_error_method(e));
	if (dopy_error_host(e)[0] != '\0') {
		str(j, "host", dopy_error_host(e));
		fmt(j, ",\"pid\":%ld", dopy_error_pid(e));
	}
	raw(j, ",\"trace\":[");
	for (i = 0; i < dopy_error_trace_len(e); i++) {
		raw(j, i > 0 ? "," : "");
		quote(j, dopy_error_trace(e, i));
	}
	raw(j, "]}");
	dopy_error_free(e);
}

static void
payload(struct jl *j, const uint8_t *hdr, const uint8_t *p, size_t len)
{
	switch (hdr[2]) {
	case DOPY_F_HELLO:
		hello(j, p, len);
		break;
	case DOPY_F_CALL:
	case DOPY_F_ONEWAY:
	case DOPY_F_CALLBACK:
		call(j, hdr[3], p, len);
		break;
	case DOPY_F_REPLY:
	case DOPY_F_CALLBACK_REPLY:
		result(j, "result", p, len);
		break;
	case DOPY_F_ITEM:
		if (hdr[3] & DOPY_FL_END)
			raw(j, ",\"end\":true");
		result(j, "item", p, len);
		break;
	case DOPY_F_ERROR:
	case DOPY_F_CALLBACK_ERROR:
		error(j, p, len);
		break;
	case DOPY_F_AUTH:	/* a MAC, or the server's empty ack */
		break;
	default:		/* PROGRESS, CANCEL, RELEASE: empty */
		if (strcmp(dopy_frame_type_name(hdr[2]), "?") == 0)
			bad(j, "unknown frame type");
		else if (len > 0)
			bad(j, "payload where none belongs");
	}
}

/* Cut a log line at max bytes, on a character boundary. */
static void
cut(struct jl *j, size_t max)
{
	size_t n = max;

	if (max == 0 || j->b.len <= max)
		return;
	while (n > 0 && (j->b.data[n] & 0xc0) == 0x80)
		n--;
	j->b.len = n;
	raw(j, "...");
}

char *
dopy_frame_json(const uint8_t hdr[DOPY_HDR_LEN], const uint8_t *p,
    size_t len, const char *extra, size_t max)
{
	struct jl j = { .failed = 0 };
	uint32_t id = (uint32_t)hdr[4] << 24 | (uint32_t)hdr[5] << 16 |
	    (uint32_t)hdr[6] << 8 | hdr[7];

	dopy_buf_init(&j.b);
	raw(&j, "{");
	if (extra != NULL && extra[0] != '\0') {
		raw(&j, extra);
		raw(&j, ",");
	}
	raw(&j, "\"frame\":");
	if (strcmp(dopy_frame_type_name(hdr[2]), "?") == 0)
		fmt(&j, "%u", hdr[2]);
	else
		fmt(&j, "\"%s\"", dopy_frame_type_name(hdr[2]));
	fmt(&j, ",\"id\":%" PRIu32 ",\"flags\":%u,\"len\":%zu", id, hdr[3],
	    len);
	if (hdr[0] != DOPY_MAGIC0 || hdr[1] != DOPY_MAGIC1)
		bad(&j, "bad magic");
	else
		payload(&j, hdr, p, len);
	cut(&j, max);
	raw(&j, "}");
	if (j.failed || dopy_buf_put(&j.b, "", 1) < 0) {
		dopy_buf_release(&j.b);
		return NULL;
	}
	return (char *)dopy_buf_take(&j.b);
}

char *
dopy_frame_json_iov(const uint8_t hdr[DOPY_HDR_LEN],
    const struct iovec *pl, int cnt, size_t max)
{
	const uint8_t *p;
	uint8_t *copy;
	size_t len;
	char *json = NULL;

	if ((p = dopy_tap_flat(pl, cnt, &len, &copy)) != NULL)
		json = dopy_frame_json(hdr, p, len, NULL, max);
	free(copy);
	return json;
}
