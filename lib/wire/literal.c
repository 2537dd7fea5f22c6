/*
 * literal.c - the text forms of values, as dopy-rsh(1) reads and writes
 * them, and their JSON form.
 *
 *	value	= scalar | string | "[" [ value { "," value } ] "]"
 *		| "(" value { "," value } ")"
 *	ref	= "@" id		(decimal, 1 to 2^32-1, no sign or
 *					 leading zero: "@7")
 *	string	= '"' { char | escape } '"' | word
 *	escape	= \" \\ \n \t \r \0 \xHH	(\0 and \x00 in bytes only)
 *	word	= anything up to , ] ) white space or the end
 *
 * The type drives the parse, so a word is a number or a string as the
 * type says and "[1, 2]" needs no tags.  At the top level a string is
 * the whole text, verbatim: a shell argument is already one string, and
 * quoting it twice would only get in the way.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wire/wire.h"

#define SNIP	40		/* bytes of offending text quoted in errors */

struct lit {
	const char	*p;		/* next byte to read */
	char		*err;
	size_t		 errlen;
	int		 depth;
};

static dopy_value *parse_nested(struct lit *, const dopy_type *);

static dopy_value *
fail(struct lit *ps, const char *fmt, ...)
{
	va_list ap;

	if (ps->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(ps->err, ps->errlen, fmt, ap);
		va_end(ap);
	}
	return NULL;
}

/* Quote at most SNIP bytes of what came, made safe for a terminal. */
static const char *
snip(char dst[SNIP + 4], const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && i < SNIP; i++)
		dst[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	if (n > SNIP)
		strlcpy(dst + i, "...", 4);
	else
		dst[i] = '\0';
	return dst;
}

static size_t
wordlen(const char *p)
{
	return strcspn(p, ",]) \t\n\r\v\f");
}

static void
skipws(struct lit *ps)
{
	while (isspace((unsigned char)*ps->p))
		ps->p++;
}

/* The text at the cursor, for an error: one token, or one byte when
 * the cursor is on punctuation. */
static const char *
got(struct lit *ps, char buf[SNIP + 4])
{
	size_t n;

	if ((n = wordlen(ps->p)) == 0)
		n = 1;
	return snip(buf, ps->p, n);
}

/* "expected int, got 'abc'" about the text at the cursor. */
static dopy_value *
expected(struct lit *ps, const dopy_type *t)
{
	char buf[SNIP + 4];

	if (*ps->p == '\0')
		return fail(ps, "expected %s, got end of text", t->name);
	return fail(ps, "expected %s, got '%s'", t->name, got(ps, buf));
}

static dopy_value *
nomem(struct lit *ps)
{
	return fail(ps, "out of memory");
}

/* What the scalar readers found wrong. */
#define BAD	-1		/* not of the type at all */
#define RANGE	-2		/* the type, but too big for it */

static int
parse_bool(const char *s, dopy_value **v)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*v = dopy_value_bool(1);
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*v = dopy_value_bool(0);
			return 0;
		}
	}
	return BAD;
}

/*
 * Sign and magnitude of a decimal or 0x integer.  strtoull alone would
 * take leading blanks, a sign of its own, and wrap "-1" around silently.
 */
static int
magnitude(const char *s, int *neg, uint64_t *mag)
{
	const char *p = s;
	char *end;
	int base = 10;

	*neg = 0;
	if (*p == '+' || *p == '-')
		*neg = *p++ == '-';
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (!(base == 16 ? isxdigit((unsigned char)*p) :
	    isdigit((unsigned char)*p)))
		return BAD;
	errno = 0;
	*mag = strtoull(p, &end, base);
	if (*end != '\0')
		return BAD;
	return errno == ERANGE ? RANGE : 0;
}

static int
parse_int(const char *s, dopy_value **v)
{
	uint64_t mag;
	int neg, r;

	if ((r = magnitude(s, &neg, &mag)) < 0)
		return r;
	if (mag > (uint64_t)INT64_MAX + neg)
		return RANGE;
	if (!neg)
		*v = dopy_value_int((int64_t)mag);
	else if (mag == (uint64_t)INT64_MAX + 1)
		*v = dopy_value_int(INT64_MIN);
	else
		*v = dopy_value_int(-(int64_t)mag);
	return 0;
}

static int
parse_uint(const char *s, dopy_value **v)
{
	uint64_t mag;
	int neg, r;

	if ((r = magnitude(s, &neg, &mag)) < 0)
		return r;
	if (neg && mag != 0)
		return RANGE;
	*v = dopy_value_uint(mag);
	return 0;
}

static int
parse_double(const char *s, dopy_value **v)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (*s == '\0' || isspace((unsigned char)*s) || *end != '\0')
		return BAD;
	/* Underflow to a denormal or zero is as close as binary64 gets;
	 * overflow would silently turn a typo into infinity. */
	if (errno == ERANGE && isinf(d))
		return RANGE;
	*v = dopy_value_double(d);
	return 0;
}

/* "@7": what dopy-rsh prints and the object key of the reference; the
 * digits alone would read as an int, and the "@" says where it came
 * from. */
static int
parse_ref(const char *s, dopy_value **v)
{
	const char *errstr;
	long long id;

	if (s[0] != '@' || s[1] < '1' || s[1] > '9' ||
	    strspn(s + 1, "0123456789") != strlen(s + 1))
		return BAD;
	id = strtonum(s + 1, 1, UINT32_MAX, &errstr);
	if (errstr != NULL)
		return RANGE;
	*v = dopy_value_ref((uint32_t)id);
	return 0;
}

/* A scalar, string or bytes value from exactly the n bytes at s. */
static dopy_value *
scalar(struct lit *ps, const dopy_type *t, const char *s, size_t n)
{
	dopy_value *v = NULL;
	char *tok, buf[SNIP + 4];
	int r;

	if ((tok = strndup(s, n)) == NULL)
		return nomem(ps);
	if (t->kind == DOPY_STRING || t->kind == DOPY_BYTES) {
		/* take_str frees tok if it fails */
		if ((v = dopy_value_take_str((dopy_type *)t, tok, n)) == NULL)
			nomem(ps);
		return v;
	}
	if (t->kind == DOPY_BOOL)
		r = parse_bool(tok, &v);
	else if (t->kind == DOPY_INT)
		r = parse_int(tok, &v);
	else if (t->kind == DOPY_UINT)
		r = parse_uint(tok, &v);
	else if (t->kind == DOPY_DOUBLE)
		r = parse_double(tok, &v);
	else if (t->kind == DOPY_REF)
		r = parse_ref(tok, &v);
	else
		r = BAD;
	if (r == BAD)
		fail(ps, "expected %s, got '%s'", t->name, snip(buf, tok, n));
	else if (r == RANGE)
		fail(ps, "out of range for %s: '%s'", t->name,
		    snip(buf, tok, n));
	else if (v == NULL)
		nomem(ps);
	free(tok);
	return v;
}

static int
hexval(int c)
{
	if (isdigit(c))
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One escape after the backslash at *pp; -1 and err on a bad one. */
static int
unescape(struct lit *ps, const char **pp, int bytes)
{
	const char *p = *pp;
	char buf[SNIP + 4];
	int c, hi, lo;

	switch (c = (unsigned char)*p++) {
	case '"':
	case '\\':
		break;
	case 'n':
		c = '\n';
		break;
	case 't':
		c = '\t';
		break;
	case 'r':
		c = '\r';
		break;
	case '0':
		c = 0;
		break;
	case 'x':
		if ((hi = hexval((unsigned char)p[0])) < 0 ||
		    (lo = hexval((unsigned char)p[1])) < 0) {
			fail(ps, "bad escape '\\x%s': want two hex digits",
			    snip(buf, p, strnlen(p, 2)));
			return -1;
		}
		c = hi << 4 | lo;
		p += 2;
		break;
	default:
		if (c == '\0')
			fail(ps, "unterminated string");
		else
			fail(ps, "unknown escape '\\%s'", snip(buf, p - 1, 1));
		return -1;
	}
	if (c == 0 && !bytes) {
		fail(ps, "a string cannot hold a NUL byte (use bytes)");
		return -1;
	}
	*pp = p;
	return c;
}

/* A double-quoted string with C escapes, the cursor on the quote. */
static dopy_value *
parse_quoted(struct lit *ps, const dopy_type *t)
{
	struct dopy_buf b;
	const char *p = ps->p + 1;
	dopy_value *v;
	uint8_t c;
	int e;

	dopy_buf_init(&b);
	while (*p != '"') {
		if (*p == '\0') {
			fail(ps, "unterminated string");
			goto fail;
		}
		if (*p == '\\') {
			p++;
			if ((e = unescape(ps, &p, t->kind == DOPY_BYTES)) < 0)
				goto fail;
			c = (uint8_t)e;
		} else
			c = (uint8_t)*p++;
		if (dopy_buf_put(&b, &c, 1) < 0)
			goto nomem;
	}
	if (dopy_buf_put(&b, "", 1) < 0)
		goto nomem;
	ps->p = p + 1;
	/* take_str frees the text if it fails */
	if ((v = dopy_value_take_str((dopy_type *)t, (char *)b.data,
	    b.len - 1)) == NULL)
		return nomem(ps);
	return v;
nomem:
	nomem(ps);
fail:
	dopy_buf_release(&b);
	return NULL;
}

/* Put element i of an array or structure; takes e. */
static int
put_item(dopy_value *v, size_t i, dopy_value *e)
{
	if (dopy_value_kind(v) == DOPY_ARRAY)
		return dopy_value_append(v, e);
	return dopy_value_set_field(v, i, e);
}

/* After item i: 1 at the close, 0 after a comma, -1 on an error. */
static int
item_sep(struct lit *ps, const dopy_type *t, size_t i, int close)
{
	int isstruct = t->kind == DOPY_STRUCT;
	char buf[SNIP + 4];

	skipws(ps);
	if (*ps->p == close) {
		if (isstruct && i + 1 < t->nfields) {
			fail(ps, "%s wants %zu field%s, got %zu", t->name,
			    t->nfields, t->nfields == 1 ? "" : "s", i + 1);
			return -1;
		}
		return 1;
	}
	if (*ps->p == ',' && isstruct && i + 1 == t->nfields) {
		fail(ps, "%s wants %zu field%s, got more", t->name,
		    t->nfields, t->nfields == 1 ? "" : "s");
		return -1;
	}
	if (*ps->p == ',') {
		ps->p++;
		return 0;
	}
	if (close == '\0')
		fail(ps, "expected ',', got '%s'", got(ps, buf));
	else if (*ps->p == '\0')
		fail(ps, "expected ',' or '%c', got end of text", close);
	else
		fail(ps, "expected ',' or '%c', got '%s'", close, got(ps, buf));
	return -1;
}

/* The items of an array or structure up to close ('\0': end of text),
 * the cursor after the opening bracket. */
static dopy_value *
parse_items(struct lit *ps, const dopy_type *t, int close)
{
	const dopy_type *et;
	dopy_value *v, *e;
	size_t i;
	int r;

	if ((v = dopy_value_new(t)) == NULL)
		return nomem(ps);
	skipws(ps);
	if (t->kind == DOPY_ARRAY && *ps->p == close)
		r = 1;
	else
		r = 0;
	for (i = 0; r == 0; i++) {
		et = t->kind == DOPY_ARRAY ? t->elem : t->fields[i];
		if ((e = parse_nested(ps, et)) == NULL)
			goto fail;
		if (put_item(v, i, e) < 0) {
			nomem(ps);
			goto fail;
		}
		if ((r = item_sep(ps, t, i, close)) < 0)
			goto fail;
	}
	if (close != '\0')
		ps->p++;
	return v;
fail:
	dopy_value_free(v);
	return NULL;
}

static dopy_value *
parse_nested(struct lit *ps, const dopy_type *t)
{
	int open = t->kind == DOPY_ARRAY ? '[' : '(';
	dopy_value *v;
	size_t n;

	skipws(ps);
	switch (t->kind) {
	case DOPY_ARRAY:
	case DOPY_STRUCT:
		if (*ps->p != open)
			return expected(ps, t);
		if (++ps->depth > DOPY_MAX_DEPTH)
			return fail(ps, "value nested too deeply");
		ps->p++;
		v = parse_items(ps, t, open == '[' ? ']' : ')');
		ps->depth--;
		return v;
	case DOPY_STRING:
	case DOPY_BYTES:
		if (*ps->p == '"')
			return parse_quoted(ps, t);
		/* FALLTHROUGH */
	default:
		if ((n = wordlen(ps->p)) == 0)
			return expected(ps, t);
		if ((v = scalar(ps, t, ps->p, n)) != NULL)
			ps->p += n;
		return v;
	}
}

/* A whole argument holding an array or structure: bracketed, or as a
 * convenience a bare comma-separated list ("1,2,3"; "" is empty). */
static dopy_value *
parse_top_list(struct lit *ps, const dopy_type *t)
{
	int open = t->kind == DOPY_ARRAY ? '[' : '(';
	dopy_value *v;
	char buf[SNIP + 4];

	skipws(ps);
	if (*ps->p != open)
		return parse_items(ps, t, '\0');
	if ((v = parse_nested(ps, t)) == NULL)
		return NULL;
	skipws(ps);
	if (*ps->p != '\0') {
		dopy_value_free(v);
		return fail(ps, "junk after %s: '%s'", t->name,
		    snip(buf, ps->p, strlen(ps->p)));
	}
	return v;
}

/* A whole argument holding a scalar; blanks around it do no harm. */
static dopy_value *
parse_top_scalar(struct lit *ps, const dopy_type *t)
{
	size_t n;

	skipws(ps);
	n = strlen(ps->p);
	while (n > 0 && isspace((unsigned char)ps->p[n - 1]))
		n--;
	return scalar(ps, t, ps->p, n);
}

/* For an `any` parameter the text says what it is: an int, a double,
 * true or false, a reference "@7", or else a string. */
static dopy_value *
parse_any(const char *text)
{
	static const dopy_type *const guesses[] = {
		&dopy_type_int_, &dopy_type_double_, &dopy_type_bool_,
		&dopy_type_ref_
	};
	dopy_value *v;
	char err[8];
	size_t i;

	for (i = 0; i < sizeof(guesses) / sizeof(guesses[0]); i++)
		if (*text != '\0' && (v = dopy_value_parse(guesses[i], text,
		    err, sizeof(err))) != NULL)
			return v;
	return dopy_value_string(text);
}

dopy_value *
dopy_value_parse(const dopy_type *t, const char *text, char *err,
    size_t errlen)
{
	struct lit ps = { text, err, errlen, 0 };
	dopy_value *v;

	if (errlen > 0)
		err[0] = '\0';
	if (t == NULL || text == NULL)
		return fail(&ps, "no type or no text to parse");
	switch (t->kind) {
	case DOPY_STRING:
		v = dopy_value_string(text);
		break;
	case DOPY_BYTES:
		v = dopy_value_bytes(text, strlen(text));
		break;
	case DOPY_ARRAY:
	case DOPY_STRUCT:
		return parse_top_list(&ps, t);
	case DOPY_ANY:
		return parse_any(text);
	default:
		return parse_top_scalar(&ps, t);
	}
	return v != NULL ? v : nomem(&ps);
}

/* ---- output ---- */

/* A growing text; the first failed allocation spoils it for good, so
 * the writers below need not check each step. */
struct out {
	struct dopy_buf	b;
	int		failed;
};

static void
put(struct out *o, const void *p, size_t n)
{
	if (!o->failed && dopy_buf_put(&o->b, p, n) < 0)
		o->failed = 1;
}

static void
puts_out(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void
putf(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
putf(struct out *o, const char *fmt, ...)
{
	char buf[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		o->failed = 1;
	else
		put(o, buf, n);
}

static char *
finish(struct out *o)
{
	put(o, "", 1);
	if (o->failed) {
		dopy_buf_release(&o->b);
		return NULL;
	}
	return (char *)o->b.data;
}

/* The shortest of %.15g and %.17g that reads back as the same double. */
static void
put_double(struct out *o, double d)
{
	char buf[40];

	if (isnan(d))
		puts_out(o, "nan");
	else if (isinf(d))
		puts_out(o, d > 0 ? "inf" : "-inf");
	else {
		snprintf(buf, sizeof(buf), "%.15g", d);
		if (strtod(buf, NULL) != d)
			snprintf(buf, sizeof(buf), "%.17g", d);
		puts_out(o, buf);
	}
}

static void
put_quoted(struct out *o, const dopy_value *v)
{
	const uint8_t *p;
	size_t i, n;
	int bytes = dopy_value_kind(v) == DOPY_BYTES;

	p = dopy_value_get_bytes(v, &n);
	put(o, "\"", 1);
	for (i = 0; i < n; i++) {
		if (p[i] == '"' || p[i] == '\\')
			putf(o, "\\%c", p[i]);
		else if (p[i] == '\n')
			puts_out(o, "\\n");
		else if (p[i] == '\t')
			puts_out(o, "\\t");
		else if (p[i] == '\r')
			puts_out(o, "\\r");
		else if (p[i] < 0x20 || p[i] == 0x7f || (bytes && p[i] >= 0x80))
			putf(o, "\\x%02x", p[i]);
		else
			put(o, p + i, 1);	/* UTF-8 in strings stays */
	}
	put(o, "\"", 1);
}

static void format_value(struct out *, const dopy_value *, int);

/* Elements by dopy_value_item: printing a packed array makes no value
 * per element. */
static void
format_list(struct out *o, const dopy_value *v, const char *open,
    const char *close)
{
	dopy_value tmp;
	size_t i;

	puts_out(o, open);
	for (i = 0; i < dopy_value_len(v); i++) {
		if (i > 0)
			puts_out(o, ", ");
		format_value(o, dopy_value_item(v, i, &tmp), 0);
	}
	puts_out(o, close);
}

static void
format_value(struct out *o, const dopy_value *v, int top)
{
	size_t n;
	const void *p;

	switch (dopy_value_kind(v)) {
	case DOPY_BOOL:
		puts_out(o, dopy_value_get_bool(v) ? "true" : "false");
		break;
	case DOPY_INT:
		putf(o, "%" PRId64, dopy_value_get_int(v));
		break;
	case DOPY_UINT:
		putf(o, "%" PRIu64, dopy_value_get_uint(v));
		break;
	case DOPY_DOUBLE:
		put_double(o, dopy_value_get_double(v));
		break;
	case DOPY_REF:
		/* v->u.u: a zeroed structure's ref is "@0", which names
		 * nothing (get_ref cannot tell it from "not a ref"). */
		putf(o, "@%" PRIu64, v->u.u);
		break;
	case DOPY_STRING:
	case DOPY_BYTES:
		if (!top)
			put_quoted(o, v);
		else if ((p = dopy_value_get_bytes(v, &n)) != NULL)
			put(o, p, n);
		break;
	case DOPY_ARRAY:
		format_list(o, v, "[", "]");
		break;
	case DOPY_STRUCT:
		format_list(o, v, "(", ")");
		break;
	default:
		o->failed = 1;
		break;
	}
}

char *
dopy_value_format(const dopy_value *v)
{
	struct out o = { .failed = 0 };

	if (v == NULL)
		return NULL;
	format_value(&o, v, 1);
	return finish(&o);
}

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlong forms,
 * no surrogates, nothing past U+10FFFF), or 0. */
static size_t
utf8_len(const uint8_t *s, size_t n)
{
	uint32_t cp, min;
	size_t i, len;

	if (s[0] >= 0xf5 || s[0] < 0xc2)
		return 0;
	if (s[0] >= 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
		min = 0x10000;
	} else if (s[0] >= 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
		min = 0x800;
	} else {
		len = 2;
		cp = s[0] & 0x1f;
		min = 0x80;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * A JSON string.  Strings pass valid UTF-8 through and turn each bad
 * byte into U+FFFD, since JSON text must be UTF-8.  Bytes map each byte
 * to the code point of the same number (latin-1), which is lossless:
 * a reader gets the bytes back by taking every code point as a byte.
 */
static void
json_chars(struct out *o, const uint8_t *p, size_t n, int bytes)
{
	size_t i, u;

	put(o, "\"", 1);
	for (i = 0; i < n; i += u) {
		u = 1;
		if (p[i] == '"' || p[i] == '\\')
			putf(o, "\\%c", p[i]);
		else if (p[i] < 0x20 || (bytes && p[i] >= 0x80))
			putf(o, "\\u%04x", p[i]);
		else if (p[i] < 0x80)
			put(o, p + i, 1);
		else if ((u = utf8_len(p + i, n - i)) > 0)
			put(o, p + i, u);
		else {
			puts_out(o, "\\ufffd");
			u = 1;
		}
	}
	put(o, "\"", 1);
}

static void
json_string(struct out *o, const dopy_value *v)
{
	const uint8_t *p;
	size_t n;

	p = dopy_value_get_bytes(v, &n);
	json_chars(o, p, n, dopy_value_kind(v) == DOPY_BYTES);
}

int
dopy_json_quote(struct dopy_buf *b, const void *p, size_t n, int bytes)
{
	struct out o = { *b, 0 };

	json_chars(&o, p, n, bytes);
	*b = o.b;
	return o.failed ? DOPY_E_NOMEM : 0;
}

static void
json_value(struct out *o, const dopy_value *v)
{
	dopy_value tmp;
	size_t i;

	switch (dopy_value_kind(v)) {
	case DOPY_DOUBLE:
		if (!isfinite(dopy_value_get_double(v)))
			puts_out(o, "null");	/* JSON has no nan or inf */
		else
			format_value(o, v, 1);
		break;
	case DOPY_STRING:
	case DOPY_BYTES:
		json_string(o, v);
		break;
	case DOPY_REF:
		/* An object, so a reader can tell it from a number. */
		putf(o, "{\"ref\":%" PRIu64 "}", v->u.u);
		break;
	case DOPY_ARRAY:
	case DOPY_STRUCT:
		put(o, "[", 1);
		for (i = 0; i < dopy_value_len(v); i++) {
			if (i > 0)
				put(o, ",", 1);
			json_value(o, dopy_value_item(v, i, &tmp));
		}
		put(o, "]", 1);
		break;
	default:
		format_value(o, v, 1);	/* bool, int and uint read alike */
		break;
	}
}

char *
dopy_value_json(const dopy_value *v)
{
	struct out o = { .failed = 0 };

	if (v == NULL)
		return NULL;
	json_value(&o, v);
	return finish(&o);
}
