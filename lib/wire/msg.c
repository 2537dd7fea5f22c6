/*
 * msg.c - the payloads of HELLO, CALL and ERROR, built from values so
 * that every image on the wire goes through the one guarded codec.
 *
 *	HELLO	(uint,uint,uint,string)		S(UUUs)
 *		protocol, max frame, feature bits, software
 *	CALL	(string,string) string[] ARG...	S(ss) A(s) ...
 *		object, method; argument names ("" positional); arguments
 *	ERROR	(string,string,string,string,string,int) string[]
 *		name, message, object, method, host, pid; trace
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

static dopy_type *t_hello, *t_callhdr, *t_strings, *t_errhdr;

static void
make_types(void)
{
	t_hello = dopy_type_parse("(uint,uint,uint,string)", NULL, 0);
	t_callhdr = dopy_type_parse("(string,string)", NULL, 0);
	t_strings = dopy_type_parse("string[]", NULL, 0);
	t_errhdr = dopy_type_parse("(string,string,string,string,string,int)",
	    NULL, 0);
}

static int
types(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, make_types);
	if (!t_hello || !t_callhdr || !t_strings || !t_errhdr)
		return DOPY_E_NOMEM;
	return 0;
}

/* Encode v into b and free it; a NULL v is the allocation that failed. */
static int
put(struct dopy_buf *b, dopy_value *v)
{
	int r;

	if (v == NULL)
		return DOPY_E_NOMEM;
	r = dopy_encode(v, b);
	dopy_value_free(v);
	return r;
}

static dopy_value *
strings(const char *const *s, size_t n)
{
	dopy_value *a;
	size_t i;

	if ((a = dopy_value_new(t_strings)) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (dopy_value_append(a, dopy_value_string(s[i])) < 0) {
			dopy_value_free(a);
			return NULL;
		}
	return a;
}

/* A structure from its fields, taking ownership of all of them. */
static dopy_value *
record(dopy_type *t, dopy_value **fields, size_t n)
{
	dopy_value *v;
	size_t i;

	v = dopy_value_new(t);
	for (i = 0; i < n; i++) {
		if (v == NULL)
			dopy_value_free(fields[i]);
		else if (dopy_value_set_field(v, i, fields[i]) < 0) {
			dopy_value_free(v);	/* set_field freed fields[i] */
			v = NULL;
		}
	}
	return v;
}

int
dopy_msg_hello_put(struct dopy_buf *b, const struct dopy_hello *h)
{
	dopy_value *f[4];
	size_t i;
	int r;

	if (types() < 0)
		return DOPY_E_NOMEM;
	f[0] = dopy_value_uint(h->proto);
	f[1] = dopy_value_uint(h->max_frame);
	f[2] = dopy_value_uint(h->features);
	f[3] = dopy_value_string(h->software);
	if ((r = put(b, record(t_hello, f, 4))) < 0)
		return r;
	for (i = 0; i < h->next; i++)
		if ((r = put(b, dopy_value_bytes(h->ext[i],
		    sizeof(h->ext[i])))) < 0)
			return r;
	return 0;
}

/* The 32-byte extension values of DOPY_FEAT_AUTH; others are ignored. */
static int
hello_ext(struct dopy_hello *h, const struct dopy_image *img, size_t n,
    char *err, size_t errlen)
{
	dopy_value *v;
	size_t i, len;
	const void *p;

	for (i = 0; i < n && i < DOPY_HELLO_EXT; i++) {
		if (dopy_decode(&img[i], &dopy_type_bytes_, &v, err,
		    errlen) < 0)
			return 0;	/* not ours: a later version's */
		p = dopy_value_get_bytes(v, &len);
		if (len == sizeof(h->ext[0]))
			memcpy(h->ext[h->next++], p, len);
		dopy_value_free(v);
	}
	return 0;
}

int
dopy_msg_hello_get(const uint8_t *p, size_t len, struct dopy_hello *h,
    char *err, size_t errlen)
{
	struct dopy_image img[8];
	dopy_value *v;
	uint64_t proto, max;
	size_t n;
	int r;

	memset(h, 0, sizeof(*h));
	if ((r = types()) < 0 ||
	    (r = dopy_images_split(p, len, img, 8, &n, err, errlen)) < 0)
		return r;
	if (n < 1) {
		snprintf(err, errlen, "empty HELLO");
		return DOPY_E_PROTO;
	}
	/* Images after the first are extensions, announced by features. */
	if ((r = dopy_decode(&img[0], t_hello, &v, err, errlen)) < 0)
		return DOPY_E_PROTO;
	if ((r = hello_ext(h, img + 1, n - 1, err, errlen)) < 0) {
		dopy_value_free(v);
		return r;
	}
	proto = dopy_value_get_uint(dopy_value_at(v, 0));
	max = dopy_value_get_uint(dopy_value_at(v, 1));
	h->proto = proto > UINT32_MAX ? UINT32_MAX : (uint32_t)proto;
	h->max_frame = max > UINT32_MAX ? UINT32_MAX : (uint32_t)max;
	h->features = dopy_value_get_uint(dopy_value_at(v, 2));
	h->software = dopy_strdup(dopy_value_get_string(dopy_value_at(v, 3)));
	dopy_value_free(v);
	return h->software != NULL ? 0 : DOPY_E_NOMEM;
}

void
dopy_msg_hello_release(struct dopy_hello *h)
{
	free(h->software);
	h->software = NULL;
}

int
dopy_msg_error_put(struct dopy_buf *b, const dopy_error *e)
{
	dopy_value *f[6];
	int r;

	if (types() < 0)
		return DOPY_E_NOMEM;
	f[0] = dopy_value_string(dopy_error_name(e));
	f[1] = dopy_value_string(dopy_error_message(e));
	f[2] = dopy_value_string(dopy_error_object(e));
	f[3] = dopy_value_string(dopy_error_method(e));
	f[4] = dopy_value_string(dopy_error_host(e));
	f[5] = dopy_value_int(dopy_error_pid(e));
	if ((r = put(b, record(t_errhdr, f, 6))) < 0)
		return r;
	return put(b, strings((const char *const *)e->trace, e->ntrace));
}

static const char *
field_str(const dopy_value *v, size_t i)
{
	return dopy_value_get_string(dopy_value_at(v, i));
}

int
dopy_msg_error_get(const uint8_t *p, size_t len, dopy_error **ep)
{
	struct dopy_image img[2];
	dopy_value *hv = NULL, *tv = NULL;
	dopy_error *e;
	char err[256];
	size_t n, i;
	int r;

	*ep = NULL;
	if ((r = types()) < 0)
		return r;
	if ((r = dopy_images_split(p, len, img, 2, &n, err, sizeof(err))) < 0 ||
	    n != 2 || (r = dopy_decode(&img[0], t_errhdr, &hv, err, sizeof(err))) < 0 ||
	    (r = dopy_decode(&img[1], t_strings, &tv, err, sizeof(err))) < 0) {
		dopy_value_free(hv);
		*ep = dopy_error_new(DOPY_E_PROTO, "malformed ERROR frame: %s",
		    n != 2 && r == 0 ? "not two values" : err);
		return DOPY_E_PROTO;
	}
	e = dopy_error_new(dopy_error_code_for(field_str(hv, 0)), "%s",
	    field_str(hv, 1));
	if (e == NULL || dopy_error_set_fields(e, field_str(hv, 0),
	    field_str(hv, 2), field_str(hv, 3), field_str(hv, 4),
	    (long)dopy_value_get_int(dopy_value_at(hv, 5))) < 0)
		r = DOPY_E_NOMEM;
	for (i = 0; r == 0 && i < dopy_value_len(tv); i++)
		r = dopy_error_add_trace(e, field_str(tv, i));
	dopy_value_free(hv);
	dopy_value_free(tv);
	if (r < 0) {
		dopy_error_free(e);
		return r;
	}
	*ep = e;
	return 0;
}

int
dopy_msg_call_put(struct dopy_buf *b, const char *object, const char *method,
    const char *const *names, size_t argc)
{
	const char *hdr[2] = { object, method };
	size_t start = b->len;
	int r;

	if ((r = dopy_image_put_strings(b, "S(ss)", 0, hdr, 2)) < 0 ||
	    (r = dopy_image_put_strings(b, "A(s)", 1, names, argc)) < 0)
		b->len = start;
	return r;
}

/* n C strings copied into one block; out[i] point into it. */
static char *
copy_block(char **out, const char *const *s, size_t n)
{
	size_t i, total = 1, len;
	char *b, *p;

	for (i = 0; i < n; i++)
		total += strlen(s[i]) + 1;
	if ((p = b = malloc(total)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		len = strlen(s[i]) + 1;
		memcpy(p, s[i], len);
		out[i] = p;
		p += len;
	}
	return b;
}

static int
names_mismatch(char *err, size_t errlen, size_t named, size_t argc)
{
	snprintf(err, errlen, "CALL names %zu argument%s but carries %zu",
	    named, named == 1 ? "" : "s", argc);
	return DOPY_E_PROTO;
}

/* The header and names read in place (image.c); 1 if tpl must. */
static int
call_strings_direct(const struct dopy_image *img, struct dopy_callmsg *m,
    char *err, size_t errlen)
{
	char *hdr[2];
	size_t k;
	int r;

	if ((r = dopy_image_strings(&img[0], "S(ss)", 0, hdr, 2, &k,
	    &m->strs[0], m->room[0], sizeof(m->room[0]), err, errlen)) != 0 ||
	    (r = dopy_image_strings(&img[1], "A(s)", 1, m->names, m->argc,
	    &k, &m->strs[1], m->room[1], sizeof(m->room[1]), err,
	    errlen)) != 0)
		return r;
	m->object = hdr[0];
	m->method = hdr[1];
	if (k != m->argc)
		return names_mismatch(err, errlen, k, m->argc);
	return 0;
}

/* The same through tpl: another byte order, or something to report. */
static int
call_strings_tpl(const struct dopy_image *img, struct dopy_callmsg *m,
    char *err, size_t errlen)
{
	dopy_value *hv = NULL, *nv = NULL;
	const char *hdr[2], *names[DOPY_MAX_ARGS];
	char *h[2];
	size_t i;
	int r;

	if ((r = dopy_decode(&img[0], t_callhdr, &hv, err, errlen)) < 0 ||
	    (r = dopy_decode(&img[1], t_strings, &nv, err, errlen)) < 0)
		goto out;
	if (dopy_value_len(nv) != m->argc) {
		r = names_mismatch(err, errlen, dopy_value_len(nv), m->argc);
		goto out;
	}
	hdr[0] = field_str(hv, 0);
	hdr[1] = field_str(hv, 1);
	for (i = 0; i < m->argc; i++)
		names[i] = field_str(nv, i);
	r = DOPY_E_NOMEM;
	if ((m->strs[0] = copy_block(h, hdr, 2)) == NULL ||
	    (m->strs[1] = copy_block(m->names, names, m->argc)) == NULL)
		goto out;
	m->object = h[0];
	m->method = h[1];
	r = 0;
out:
	dopy_value_free(hv);
	dopy_value_free(nv);
	return r;
}

int
dopy_msg_call_get(const uint8_t *p, size_t len, struct dopy_callmsg *m,
    char *err, size_t errlen)
{
	struct dopy_image img[DOPY_MAX_ARGS + 2];
	size_t n, i;
	int r;

	/* Not a memset of *m: names and args are kilobytes, and only the
	 * first argc of them are ever read. */
	m->object = m->method = NULL;
	m->strs[0] = m->strs[1] = NULL;
	m->argc = 0;
	m->upload = 0;		/* the frame's flag: the caller's to set */
	if ((r = types()) < 0)
		return r;
	if ((r = dopy_images_split(p, len, img, DOPY_MAX_ARGS + 2, &n, err,
	    errlen)) < 0 && n == DOPY_MAX_ARGS + 2) {
		snprintf(err, errlen, "a call takes at most %d arguments",
		    DOPY_MAX_ARGS);
		return DOPY_E_USAGE;
	}
	if (r < 0)
		return r;
	if (n < 2) {
		snprintf(err, errlen, "CALL needs object, method and names");
		return DOPY_E_PROTO;
	}
	m->argc = n - 2;
	if ((r = call_strings_direct(img, m, err, errlen)) == 1) {
		dopy_msg_call_release(m);
		m->argc = n - 2;
		r = call_strings_tpl(img, m, err, errlen);
	}
	if (r < 0) {
		dopy_msg_call_release(m);
		return r == DOPY_E_NOMEM ? r : DOPY_E_PROTO;
	}
	for (i = 0; i < m->argc; i++)
		m->args[i] = img[i + 2];
	return 0;
}

void
dopy_msg_call_release(struct dopy_callmsg *m)
{
	free(m->strs[0]);
	free(m->strs[1]);
	m->object = m->method = NULL;
	m->strs[0] = m->strs[1] = NULL;
	m->argc = 0;
}

/* Only the image's length matters here: a replay and a fake server
 * match calls by what follows it, which the deadline does not change. */
int
dopy_msg_call_body(const uint8_t *p, size_t len, uint8_t flags,
    size_t *skip)
{
	struct dopy_image img;
	char err[80];
	size_t n = 0;

	*skip = 0;
	if (!(flags & DOPY_FL_DEADLINE))
		return 0;
	(void)dopy_images_split(p, len, &img, 1, &n, err, sizeof(err));
	if (n != 1)
		return DOPY_E_PROTO;
	*skip = img.len;
	return 0;
}
