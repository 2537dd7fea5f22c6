/*
 * rsh_json.c - dopy-rsh's JSON, dopy-rsh(1) JSON.
 *
 * Output is put together here from dopy_value_json() pieces, so that
 * strings are escaped exactly as results are.  Input is parsed by
 * jansson and converted by the method's published signature, as text
 * arguments are by dopy_value_parse().
 */
#include <err.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dopy.h"
#include "rsh.h"
#include "rsh_json.h"

#define E_JSON	"dopy-rsh.JSONError"
#define E_TYPE	"dopy.TypeError"
#define E_ARG	"dopy.ArgumentError"

/* ---- output ---- */

/* s as a JSON string on f (the library's escaping); "" as null when
 * nullempty, for fields an error may lack. */
static void
put_string(FILE *f, const char *s, int nullempty)
{
	dopy_value *v;
	char *j;

	if (s == NULL || (nullempty && *s == '\0')) {
		fputs("null", f);
		return;
	}
	v = dopy_value_string(s);
	if ((j = dopy_value_json(v)) == NULL)
		err(3, NULL);
	fputs(j, f);
	free(j);
	dopy_value_free(v);
}

static void
put_value(FILE *f, const dopy_value *v)
{
	char *j;

	if (v == NULL) {
		fputs("null", f);
		return;
	}
	if ((j = dopy_value_json(v)) == NULL)
		err(3, NULL);
	fputs(j, f);
	free(j);
}

/* Whether values of t hold a structure whose fields have names. */
static int
has_names(const dopy_type *t)
{
	while (t != NULL && dopy_type_kind(t) == DOPY_ARRAY)
		t = dopy_type_elem(t);
	return t != NULL && dopy_type_kind(t) == DOPY_STRUCT &&
	    dopy_type_nfields(t) > 0 && dopy_type_field_name(t, 0) != NULL;
}

/* v as JSON, a structure with named fields (by its declared type t) as
 * an object; otherwise as dopy_value_json() writes it. */
static void
put_typed(FILE *f, const dopy_value *v, const dopy_type *t)
{
	size_t i;

	if (v == NULL || !has_names(t) ||
	    dopy_value_kind(v) != dopy_type_kind(t)) {
		put_value(f, v);
		return;
	}
	fputc(dopy_type_kind(t) == DOPY_ARRAY ? '[' : '{', f);
	for (i = 0; i < dopy_value_len(v); i++) {
		if (i > 0)
			fputc(',', f);
		if (dopy_type_kind(t) == DOPY_ARRAY) {
			put_typed(f, dopy_value_at(v, i), dopy_type_elem(t));
			continue;
		}
		put_string(f, dopy_type_field_name(t, i), 0);
		fputc(':', f);
		put_value(f, dopy_value_at(v, i));
	}
	fputc(dopy_type_kind(t) == DOPY_ARRAY ? ']' : '}', f);
}

char *
rsh_json_typed(const dopy_value *v, const dopy_type *t)
{
	char *s = NULL;
	size_t n;
	FILE *f;

	if ((f = open_memstream(&s, &n)) == NULL)
		return NULL;
	put_typed(f, v, t);
	if (fclose(f) == EOF) {
		free(s);
		return NULL;
	}
	return s;
}

/* Field i of a method description, a string. */
static const char *
mfield(const dopy_value *m, size_t i)
{
	const char *s = dopy_value_get_string(dopy_value_at(m, i));

	return s != NULL ? s : "";
}

/* The parameters: [{"name":..,"type":..[,"default":..]}, ...]; the
 * text itself when it does not parse (a server's mistake, shown). */
static void
put_params(FILE *f, const char *text)
{
	const dopy_value *dv;
	const dopy_type *up;
	const char *upname;
	dopy_sig *sig;
	size_t i;

	if ((sig = dopy_sig_parse(text, NULL, 0)) == NULL) {
		put_string(f, text, 0);
		return;
	}
	fputc('[', f);
	for (i = 0; i < dopy_sig_len(sig); i++) {
		fputs(i > 0 ? ",{\"name\":" : "{\"name\":", f);
		put_string(f, dopy_sig_name(sig, i), 0);
		fputs(",\"type\":", f);
		put_string(f, dopy_type_name(dopy_sig_type(sig, i)), 0);
		if ((dv = dopy_sig_default(sig, i)) != NULL) {
			fputs(",\"default\":", f);
			put_value(f, dv);
		}
		fputc('}', f);
	}
	/* An upload is typed as the result of a streaming method is. */
	if ((up = dopy_sig_upload(sig, &upname)) != NULL) {
		fputs(i > 0 ? ",{\"name\":" : "{\"name\":", f);
		put_string(f, upname, 0);
		fprintf(f, ",\"type\":\"stream %s\"}", dopy_type_name(up));
	}
	fputc(']', f);
	dopy_sig_free(sig);
}

char *
rsh_json_describe(const dopy_value *methods)
{
	const dopy_value *m;
	FILE *f;
	char *s = NULL;
	size_t i, n;

	if ((f = open_memstream(&s, &n)) == NULL)
		return NULL;
	fputc('[', f);
	for (i = 0; i < dopy_value_len(methods); i++) {
		m = dopy_value_at(methods, i);
		fputs(i > 0 ? ",{\"name\":" : "{\"name\":", f);
		put_string(f, mfield(m, 0), 0);
		fputs(",\"params\":", f);
		put_params(f, mfield(m, 1));
		fputs(",\"result\":", f);
		put_string(f, mfield(m, 2), 1);
		fputs(",\"doc\":", f);
		put_string(f, mfield(m, 3), 1);
		fputc('}', f);
	}
	fputc(']', f);
	if (fclose(f) == EOF) {
		free(s);
		return NULL;
	}
	return s;
}

/* A newline and two spaces a level. */
static void
newline(FILE *f, int depth)
{
	fputc('\n', f);
	while (depth-- > 0)
		fputs("  ", f);
}

/*
 * Our own compact JSON, indented as jq does.  Only structure outside
 * strings changes, so numbers keep the library's exact text (a round
 * trip through jansson would not: uint64 and double formatting).
 */
void
rsh_json_indent(FILE *f, const char *s)
{
	int depth = 0, instr = 0;

	for (; *s != '\0'; s++) {
		if (instr) {
			fputc(*s, f);
			if (*s == '\\' && s[1] != '\0')
				fputc(*++s, f);
			else if (*s == '"')
				instr = 0;
			continue;
		}
		switch (*s) {
		case '"':
			instr = 1;
			fputc(*s, f);
			break;
		case '{':
		case '[':
			fputc(*s, f);
			if (s[1] == '}' || s[1] == ']')
				fputc(*++s, f);		/* empty: {} [] */
			else
				newline(f, ++depth);
			break;
		case '}':
		case ']':
			newline(f, --depth);
			fputc(*s, f);
			break;
		case ',':
			fputc(',', f);
			newline(f, depth);
			break;
		case ':':
			fputs(": ", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

char *
rsh_json_error(const char *kind, const dopy_error *e, const char *name,
    const char *msg, const char *object, const char *method, int status)
{
	const char *doc;
	FILE *f;
	char *s = NULL;
	size_t i, n;

	if ((f = open_memstream(&s, &n)) == NULL)
		err(3, NULL);
	fputc('{', f);
	if (kind != NULL)
		fprintf(f, "\"kind\":\"%s\",", kind);
	fputs("\"name\":", f);
	put_string(f, name != NULL ? name : dopy_error_name(e), 0);
	fputs(",\"message\":", f);
	put_string(f, msg != NULL ? msg : dopy_error_message(e), 0);
	fputs(",\"object\":", f);
	put_string(f, object != NULL ? object : dopy_error_object(e), 1);
	fputs(",\"method\":", f);
	put_string(f, method != NULL ? method : dopy_error_method(e), 1);
	fputs(",\"trace\":[", f);
	for (i = 0; i < dopy_error_trace_len(e); i++) {
		if (i > 0)
			fputc(',', f);
		put_string(f, dopy_error_trace(e, i), 0);
	}
	fputs("],\"host\":", f);
	put_string(f, dopy_error_host(e), 1);
	if (dopy_error_pid(e) > 0)
		fprintf(f, ",\"pid\":%ld", dopy_error_pid(e));
	else
		fputs(",\"pid\":null", f);
	if (rsh_iface_declared(&doc))	/* only then: the form stays */
		fprintf(f, ",\"declared\":true");
	if (doc != NULL) {
		fputs(",\"doc\":", f);
		put_string(f, doc, 0);
	}
	fprintf(f, ",\"status\":%d}", status);
	if (fclose(f) == EOF)
		err(3, NULL);
	return s;
}

/* ---- input ---- */

/* Why a conversion failed: the error's name and message. */
struct why {
	const char	*name;
	char		*msg;
	size_t		 len;
};

static int
fail(struct why *w, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct why *w, const char *name, const char *fmt, ...)
{
	va_list ap;

	w->name = name;
	va_start(ap, fmt);
	vsnprintf(w->msg, w->len, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *
jtype(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

/*
 * Bytes from a JSON string: each character is one byte, U+0000 to
 * U+00FF, the reverse of what dopy_value_json() writes for bytes.
 * jansson hands over valid UTF-8, so only the lead byte is looked at.
 */
static dopy_value *
latin1(const json_t *j, struct why *w)
{
	const unsigned char *s = (const unsigned char *)json_string_value(j);
	size_t i, n = json_string_length(j), o = 0;
	unsigned char *b;
	dopy_value *v;

	if ((b = malloc(n + 1)) == NULL)
		err(3, NULL);
	for (i = 0; i < n; i++) {
		if (s[i] < 0x80)
			b[o++] = s[i];
		else if ((s[i] == 0xc2 || s[i] == 0xc3) && i + 1 < n) {
			b[o++] = (s[i] & 0x03) << 6 | (s[i + 1] & 0x3f);
			i++;
		} else {
			free(b);
			fail(w, E_TYPE, "bytes are characters U+0000 to U+00FF, "
			    "one a byte");
			return NULL;
		}
	}
	v = dopy_value_bytes(b, o);
	free(b);
	return v;
}

/* A scalar from a JSON string in its text form ("@7", a uint above
 * 2^63, "nan"), as on the command line. */
static dopy_value *
from_text(const dopy_type *t, const json_t *j, struct why *w)
{
	dopy_value *v;
	char msg[200];

	if ((v = dopy_value_parse(t, json_string_value(j), msg,
	    sizeof(msg))) == NULL)
		fail(w, E_TYPE, "%s", msg);
	return v;
}

static dopy_value	*convert(const dopy_type *, const json_t *,
			    struct why *);

/* A structure's fields from a JSON object by their names (as results
 * print them), as a JSON array in their order; NULL when one is
 * missing or unknown. */
static json_t *
by_names(const dopy_type *t, const json_t *j, struct why *w)
{
	const char *name;
	json_t *a, *f;
	size_t i, n = dopy_type_nfields(t);

	if (n == 0 || dopy_type_field_name(t, 0) == NULL ||
	    json_object_size(j) != n) {
		fail(w, E_TYPE, "%s wanted: %zu named fields", dopy_type_name(t),
		    n);
		return NULL;
	}
	if ((a = json_array()) == NULL)
		err(3, NULL);
	for (i = 0; i < n; i++) {
		name = dopy_type_field_name(t, i);
		if ((f = json_object_get(j, name)) == NULL) {
			fail(w, E_TYPE, "%s wanted: no field %s",
			    dopy_type_name(t), name);
			json_decref(a);
			return NULL;
		}
		if (json_array_append(a, f) < 0)
			err(3, NULL);
	}
	return a;
}

static dopy_value *compound_array(const dopy_type *, const json_t *,
			    struct why *);

/* An array, or a structure from a JSON array of its fields or an
 * object of its named fields. */
static dopy_value *
compound(const dopy_type *t, const json_t *j, struct why *w)
{
	dopy_value *v;
	json_t *a;

	if (dopy_type_kind(t) != DOPY_STRUCT || !json_is_object(j))
		return compound_array(t, j, w);
	if ((a = by_names(t, j, w)) == NULL)
		return NULL;
	v = compound_array(t, a, w);
	json_decref(a);
	return v;
}

static dopy_value *
compound_array(const dopy_type *t, const json_t *j, struct why *w)
{
	int st = dopy_type_kind(t) == DOPY_STRUCT;
	dopy_value *v, *e;
	size_t i;

	if (!json_is_array(j)) {
		fail(w, E_TYPE, "%s wanted, not %s", dopy_type_name(t),
		    jtype(j));
		return NULL;
	}
	if (st && json_array_size(j) != dopy_type_nfields(t)) {
		fail(w, E_TYPE, "%s wanted: %zu fields, not %zu",
		    dopy_type_name(t), dopy_type_nfields(t), json_array_size(j));
		return NULL;
	}
	if ((v = dopy_value_new(t)) == NULL)
		err(3, NULL);
	for (i = 0; i < json_array_size(j); i++) {
		e = convert(st ? dopy_type_field(t, i) : dopy_type_elem(t),
		    json_array_get(j, i), w);
		if (e == NULL || (st ? dopy_value_set_field(v, i, e) :
		    dopy_value_append(v, e)) < 0) {
			if (e != NULL)
				fail(w, E_TYPE, "out of memory");
			dopy_value_free(v);
			return NULL;
		}
	}
	return v;
}

/* A reference: {"ref":7} as dopy_value_json() writes it, or "@7". */
static dopy_value *
ref(const dopy_type *t, const json_t *j, struct why *w)
{
	json_t *id;

	if (json_is_string(j))
		return from_text(t, j, w);
	if (json_is_object(j) && json_object_size(j) == 1 &&
	    (id = json_object_get(j, "ref")) != NULL &&
	    json_is_integer(id) && json_integer_value(id) >= 1 &&
	    json_integer_value(id) <= UINT32_MAX)
		return dopy_value_ref((uint32_t)json_integer_value(id));
	fail(w, E_TYPE, "ref wanted: {\"ref\":ID} or \"@ID\", not %s",
	    jtype(j));
	return NULL;
}

static int
numeric(const char *t)
{
	return strcmp(t, "int") == 0 || strcmp(t, "double") == 0;
}

/* The type an `any` parameter gets from the JSON alone. */
static const char *
infer(const json_t *j)
{
	const char *et, *t;
	size_t i;

	switch (json_typeof(j)) {
	case JSON_TRUE:
	case JSON_FALSE:
		return "bool";
	case JSON_INTEGER:
		return "int";
	case JSON_REAL:
		return "double";
	case JSON_STRING:
		return "string";
	case JSON_OBJECT:
		return json_object_get(j, "ref") != NULL ? "ref" : NULL;
	case JSON_ARRAY:
		/* Scalars of one kind; ints and numbers make doubles. */
		for (i = 0, et = NULL; i < json_array_size(j); i++) {
			if ((t = infer(json_array_get(j, i))) == NULL ||
			    strchr(t, '[') != NULL)
				return NULL;
			if (et == NULL || strcmp(et, t) == 0)
				et = t;
			else if (numeric(et) && numeric(t))
				et = "double";
			else
				return NULL;
		}
		if (et == NULL)
			return "string[]";
		if (strcmp(et, "bool") == 0)
			return "bool[]";
		if (strcmp(et, "int") == 0)
			return "int[]";
		if (strcmp(et, "double") == 0)
			return "double[]";
		return strcmp(et, "string") == 0 ? "string[]" : "ref[]";
	default:
		return NULL;
	}
}

static dopy_value *
any(const json_t *j, struct why *w)
{
	const char *name = infer(j);
	dopy_type *t;
	dopy_value *v;

	if (name == NULL) {
		fail(w, E_TYPE, "any: no dopy type for %s like this one",
		    jtype(j));
		return NULL;
	}
	if ((t = dopy_type_parse(name, NULL, 0)) == NULL)
		err(3, NULL);
	v = convert(t, j, w);
	dopy_type_free(t);
	return v;
}

static dopy_value *
scalar(const dopy_type *t, const json_t *j, struct why *w)
{
	enum dopy_kind k = dopy_type_kind(t);

	if (k == DOPY_BOOL && json_is_boolean(j))
		return dopy_value_bool(json_is_true(j));
	if (k == DOPY_INT && json_is_integer(j))
		return dopy_value_int(json_integer_value(j));
	if (k == DOPY_UINT && json_is_integer(j) && json_integer_value(j) >= 0)
		return dopy_value_uint(json_integer_value(j));
	if (k == DOPY_DOUBLE && json_is_number(j))
		return dopy_value_double(json_number_value(j));
	if (json_is_string(j))
		return from_text(t, j, w);
	fail(w, E_TYPE, "%s wanted, not %s", dopy_type_name(t),
	    json_is_integer(j) && json_integer_value(j) < 0 ?
	    "a negative integer" : jtype(j));
	return NULL;
}

static dopy_value *
convert(const dopy_type *t, const json_t *j, struct why *w)
{
	switch (dopy_type_kind(t)) {
	case DOPY_STRING:
		if (json_is_string(j) &&
		    strlen(json_string_value(j)) == json_string_length(j))
			return dopy_value_string(json_string_value(j));
		fail(w, E_TYPE, "string wanted (without NUL), not %s",
		    jtype(j));
		return NULL;
	case DOPY_BYTES:
		if (json_is_string(j))
			return latin1(j, w);
		fail(w, E_TYPE, "bytes wanted (a string), not %s", jtype(j));
		return NULL;
	case DOPY_ARRAY:
	case DOPY_STRUCT:
		return compound(t, j, w);
	case DOPY_REF:
		return ref(t, j, w);
	case DOPY_ANY:
		return any(j, w);
	default:
		return scalar(t, j, w);
	}
}

/* Parameter i from j, added by name or by position. */
static int
add_one(const dopy_sig *sig, size_t i, const json_t *j, int named,
    dopy_args *args, struct why *w)
{
	const char *pname = dopy_sig_name(sig, i);
	dopy_value *v;
	char msg[200];

	if ((v = convert(dopy_sig_type(sig, i), j, w)) == NULL) {
		snprintf(msg, sizeof(msg), "%s", w->msg);
		return fail(w, w->name, "parameter %s: %s", pname, msg);
	}
	if (dopy_args_add(args, named ? pname : NULL, v) < 0)
		err(3, NULL);
	return 0;
}

static int
param_index(const dopy_sig *sig, const char *name)
{
	size_t i;

	for (i = 0; i < dopy_sig_len(sig); i++)
		if (strcmp(dopy_sig_name(sig, i), name) == 0)
			return i;
	return -1;
}

/* An object of named arguments or an array of positional ones. */
static int
add_all(const json_t *j, const dopy_sig *sig, dopy_args *args,
    struct why *w)
{
	const char *key;
	json_t *val;
	size_t i;
	int p;

	if (json_is_array(j)) {
		if (json_array_size(j) > dopy_sig_len(sig))
			return fail(w, E_ARG, "too many arguments (it takes "
			    "%zu)", dopy_sig_len(sig));
		json_array_foreach(j, i, val)
			if (add_one(sig, i, val, 0, args, w) < 0)
				return -1;
		return 0;
	}
	if (!json_is_object(j))
		return fail(w, E_JSON, "arguments are an object or an "
		    "array, not %s", jtype(j));
	json_object_foreach((json_t *)j, key, val) {
		if ((p = param_index(sig, key)) < 0)
			return fail(w, E_ARG, "no parameter '%s'", key);
		if (add_one(sig, p, val, 1, args, w) < 0)
			return -1;
	}
	return 0;
}

/* JSON text, or standard input for "-"; NULL with the reason in w. */
static json_t *
load(const char *text, struct why *w)
{
	json_error_t je;
	json_t *j;

	if (strcmp(text, "-") == 0)
		j = json_loadf(stdin, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	else
		j = json_loads(text, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	if (j == NULL)
		fail(w, E_JSON, "bad JSON%s at line %d column %d: %s",
		    strcmp(text, "-") == 0 ? " on standard input" : "",
		    je.line, je.column, je.text);
	return j;
}

dopy_value *
rsh_json_value(const char *text, const dopy_type *t, char *msg, size_t len)
{
	struct why w = { NULL, msg, len };
	json_error_t je;
	json_t *j;
	dopy_value *v = NULL;

	if ((j = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES |
	    JSON_ALLOW_NUL, &je)) == NULL)
		snprintf(msg, len, "bad JSON at column %d: %s", je.column,
		    je.text);
	else
		v = convert(t, j, &w);
	json_decref(j);
	return v;
}

int
rsh_json_is_args(const char *arg)
{
	arg += strspn(arg, " \t\r\n");
	return strcmp(arg, "-") == 0 || *arg == '{' || *arg == '[';
}

int
rsh_json_args(const char *text, const dopy_sig *sig, dopy_args *args,
    const char **name, char *msg, size_t len)
{
	struct why w = { NULL, msg, len };
	json_t *j;
	int r;

	if ((j = load(text, &w)) == NULL)
		r = -1;
	else
		r = add_all(j, sig, args, &w);
	json_decref(j);
	*name = w.name;
	return r;
}

/* ---- batch lines ---- */

struct rsh_jline {
	json_t		*root;
	const char	*object, *method;
	json_t		*args;		/* or NULL */
};

int
rsh_json_is_line(const char *line)
{
	return line[strspn(line, " \t\r")] == '{';
}

/* A string member of the line, or NULL when absent. */
static int
member(const json_t *root, const char *key, const char **sp,
    struct why *w)
{
	json_t *j = json_object_get(root, key);

	*sp = NULL;
	if (j == NULL)
		return 0;
	if (!json_is_string(j))
		return fail(w, E_JSON, "\"%s\" is a string, not %s", key,
		    jtype(j));
	*sp = json_string_value(j);
	return 0;
}

struct rsh_jline *
rsh_json_line(const char *line, char *msg, size_t len)
{
	struct why w = { NULL, msg, len };
	struct rsh_jline *l;
	const char *key;
	json_t *val;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		err(3, NULL);
	if ((l->root = load(line, &w)) == NULL)
		goto bad;
	if (!json_is_object(l->root)) {
		fail(&w, E_JSON, "a line is an object");
		goto bad;
	}
	json_object_foreach(l->root, key, val)
		if (strcmp(key, "object") != 0 && strcmp(key, "method") != 0 &&
		    strcmp(key, "args") != 0) {
			fail(&w, E_JSON, "unknown member \"%s\"", key);
			goto bad;
		}
	if (member(l->root, "object", &l->object, &w) < 0 ||
	    member(l->root, "method", &l->method, &w) < 0)
		goto bad;
	if (l->method == NULL) {
		fail(&w, E_JSON, "no \"method\"");
		goto bad;
	}
	l->args = json_object_get(l->root, "args");
	return l;
bad:
	rsh_jline_free(l);
	return NULL;
}

const char *
rsh_jline_object(const struct rsh_jline *l, const char *dflt)
{
	return l->object != NULL ? l->object : dflt;
}

const char *
rsh_jline_method(const struct rsh_jline *l)
{
	return l->method;
}

int
rsh_jline_has_args(const struct rsh_jline *l)
{
	return l->args != NULL && (json_array_size(l->args) > 0 ||
	    json_object_size(l->args) > 0 || (!json_is_array(l->args) &&
	    !json_is_object(l->args)));
}

int
rsh_jline_args(const struct rsh_jline *l, const dopy_sig *sig,
    dopy_args *args, const char **name, char *msg, size_t len)
{
	struct why w = { NULL, msg, len };
	int r;

	r = add_all(l->args, sig, args, &w);
	*name = w.name;
	return r;
}

void
rsh_jline_free(struct rsh_jline *l)
{
	if (l == NULL)
		return;
	json_decref(l->root);
	free(l);
}
