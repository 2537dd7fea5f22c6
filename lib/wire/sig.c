/*
 * sig.c - method signatures: "name:string, greeting:string=Hello".
 *
 * A parameter is NAME:TYPE with an optional =DEFAULT.  A default runs to
 * the next comma outside brackets, or is a double-quoted string (with \"
 * and \\) when it must hold a comma.  Defaults are parsed with the same
 * text rules dopy-rsh uses for arguments (dopy_value_parse).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

static void
param_release(struct dopy_param *p)
{
	free(p->name);
	dopy_type_free(p->type);
	dopy_value_free(p->def);
}

void
dopy_sig_free(dopy_sig *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		param_release(&s->p[i]);
	param_release(&s->up);
	free(s->p);
	free(s->text);
	free(s);
}

/* Copy the span [b, e) with surrounding blanks trimmed. */
static char *
trimdup(const char *b, const char *e)
{
	while (b < e && isspace((unsigned char)*b))
		b++;
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	return strndup(b, (size_t)(e - b));
}

/* End of the current item: the next ',' at bracket depth 0. */
static const char *
item_end(const char *p)
{
	int depth = 0, quoted = 0;

	for (; *p != '\0'; p++) {
		if (quoted) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '"')
				quoted = 0;
		} else if (*p == '"')
			quoted = 1;
		else if (*p == '(' || *p == '[')
			depth++;
		else if (*p == ')' || *p == ']')
			depth--;
		else if (*p == ',' && depth == 0)
			break;
	}
	return p;
}

/* A quoted default "..." loses its quotes and escapes. */
static void
unquote(char *s)
{
	size_t n = strlen(s), i, j;

	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		return;
	for (i = 1, j = 0; i < n - 1; i++) {
		if (s[i] == '\\' && i + 1 < n - 1)
			i++;
		s[j++] = s[i];
	}
	s[j] = '\0';
}

/* "stream T": T, and *stream set. */
static const char *
stream_of(const char *ty, int *stream)
{
	*stream = strncmp(ty, "stream", 6) == 0 && (ty[6] == ' ' ||
	    ty[6] == '\t');
	if (!*stream)
		return ty;
	for (ty += 6; *ty == ' ' || *ty == '\t'; ty++)
		;
	return ty;
}

/* Letters, digits and '_' (strspn(3) with a set that long builds a
 * table at each call, for every parameter of every method at start). */
static int
name_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && *s != '_')
			return 0;
	return 1;
}

static int
parse_param(struct dopy_param *p, int *stream, const char *b, const char *e,
    char *err, size_t errlen)
{
	const char *colon, *eq;
	char *ty = NULL, *def = NULL, terr[160];
	int r = DOPY_E_USAGE;

	if ((colon = memchr(b, ':', (size_t)(e - b))) == NULL) {
		while (b < e && isspace((unsigned char)*b))
			b++;
		snprintf(err, errlen, "parameter '%.*s' has no :TYPE",
		    (int)(e - b), b);
		return r;
	}
	if ((eq = memchr(colon, '=', (size_t)(e - colon))) == NULL)
		eq = e;
	p->name = trimdup(b, colon);
	ty = trimdup(colon + 1, eq);
	if (eq < e)
		def = trimdup(eq + 1, e);
	if (p->name == NULL || ty == NULL || (eq < e && def == NULL)) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (!name_ok(p->name)) {
		snprintf(err, errlen, "bad parameter name '%s'", p->name);
		goto out;
	}
	if ((p->type = dopy_type_parse(stream_of(ty, stream), terr,
	    sizeof(terr))) == NULL) {
		snprintf(err, errlen, "parameter %s: %s", p->name, terr);
		goto out;
	}
	if (def != NULL && *stream) {
		snprintf(err, errlen, "parameter %s: a stream has no default",
		    p->name);
		goto out;
	}
	if (def != NULL) {
		unquote(def);
		p->def = dopy_value_parse(p->type, def, terr, sizeof(terr));
		if (p->def == NULL) {
			snprintf(err, errlen, "parameter %s: default: %s",
			    p->name, terr);
			goto out;
		}
	}
	r = 0;
out:
	free(ty);
	free(def);
	return r;
}

/*
 * The text grows in a dopy_buf, not an open_memstream(3): every method
 * of every object is normalised as a server starts (once per exec under
 * inetd), and a memstream clears an 8 KiB buffer for each.  A failed
 * append leaves the buffer as it was; normalise() asks once at the end.
 */
static int
put(struct dopy_buf *b, const char *p)
{
	return dopy_buf_put(b, p, strlen(p));
}

/*
 * A string default as it reads back: bare, unless a comma or bracket
 * would end it early or a quote or blanks at an end would be lost; then
 * quoted, with the two escapes unquote() knows.  (dopy-idl's
 * idl_params_text() writes the same.)
 */
static int
put_string_default(struct dopy_buf *b, const char *s)
{
	size_t n = strlen(s);
	int r;

	if (strpbrk(s, ",\"()[]") == NULL && (n == 0 ||
	    (!isspace((unsigned char)s[0]) &&
	    !isspace((unsigned char)s[n - 1]))))
		return dopy_buf_put(b, s, n);
	r = put(b, "\"");
	for (; r == 0 && *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			r = put(b, "\\");
		if (r == 0)
			r = dopy_buf_put(b, s, 1);
	}
	return r < 0 ? r : put(b, "\"");
}

/* NAME:TYPE, after a comma but for the first. */
static int
put_param(struct dopy_buf *b, const struct dopy_param *p, const char *stream)
{
	if (b->len > 0 && put(b, ", ") < 0)
		return DOPY_E_NOMEM;
	if (put(b, p->name) < 0 || put(b, ":") < 0 || put(b, stream) < 0)
		return DOPY_E_NOMEM;
	return put(b, p->type->name);
}

/* A parameter's default after '='. */
static int
put_default(struct dopy_buf *b, const struct dopy_param *p)
{
	char *d = dopy_value_format(p->def);
	int r = put(b, "=");

	if (r == 0 && d != NULL && (p->type->kind == DOPY_STRING ||
	    p->type->kind == DOPY_BYTES))
		r = put_string_default(b, d);
	else if (r == 0)
		r = put(b, d != NULL ? d : "?");
	free(d);
	return r;
}

/* "a:int, greeting:string=Hello" as it is shown to clients. */
static int
normalise(dopy_sig *s)
{
	struct dopy_buf b;
	size_t i;
	int r = 0;

	dopy_buf_init(&b);
	for (i = 0; r == 0 && i < s->n; i++)
		if ((r = put_param(&b, &s->p[i], "")) == 0 &&
		    s->p[i].def != NULL)
			r = put_default(&b, &s->p[i]);
	if (r == 0 && s->up.type != NULL)
		r = put_param(&b, &s->up, "stream ");
	if (r == 0)		/* its NUL; "" for no parameters */
		r = dopy_buf_put(&b, "", 1);
	if (r < 0) {
		dopy_buf_release(&b);
		return DOPY_E_NOMEM;
	}
	s->text = (char *)dopy_buf_take(&b);
	return 0;
}

/* The parameter just parsed is a stream: the upload, if it is the last
 * (its items follow the CALL, after every argument). */
static int
upload(dopy_sig *s, int last, char *err, size_t errlen)
{
	struct dopy_param *p = &s->p[s->n - 1];

	if (!last) {
		snprintf(err, errlen, "parameter %s: only the last parameter "
		    "may be a stream", p->name);
		return DOPY_E_USAGE;
	}
	/* Items are not checked as arguments are (dispatch.c), so none may
	 * name an object of the connection. */
	if (dopy_type_has_ref(p->type)) {
		snprintf(err, errlen, "parameter %s: a stream of references",
		    p->name);
		return DOPY_E_USAGE;
	}
	if (dopy_sig_find(s, p->name) != (int)s->n - 1) {
		snprintf(err, errlen, "parameter %s declared twice", p->name);
		return DOPY_E_USAGE;
	}
	s->up = *p;
	memset(p, 0, sizeof(*p));
	s->n--;
	return 0;
}

dopy_sig *
dopy_sig_parse(const char *params, char *err, size_t errlen)
{
	struct dopy_param *np;
	const char *b, *e;
	dopy_sig *s;
	char dummy[1];
	int stream;

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	for (b = params != NULL ? params : ""; ; b = e + 1) {
		e = item_end(b);
		if (strspn(b, " \t") == (size_t)(e - b) && *e == '\0' &&
		    s->n == 0)
			break;			/* no parameters */
		if (s->n == DOPY_MAX_ARGS ||
		    (np = reallocarray(s->p, s->n + 1, sizeof(*np))) == NULL) {
			snprintf(err, errlen, "too many parameters");
			goto fail;
		}
		s->p = np;
		memset(&s->p[s->n], 0, sizeof(s->p[0]));
		s->n++;
		if (parse_param(&s->p[s->n - 1], &stream, b, e, err,
		    errlen) < 0)
			goto fail;
		if (stream && upload(s, *e == '\0', err, errlen) < 0)
			goto fail;
		if (stream)
			break;
		/* Dispatch checks refs among the arguments only then. */
		if (s->p[s->n - 1].type->kind == DOPY_ANY ||
		    dopy_type_has_ref(s->p[s->n - 1].type))
			s->mayref = 1;
		if (dopy_sig_find(s, s->p[s->n - 1].name) != (int)s->n - 1) {
			snprintf(err, errlen, "parameter %s declared twice",
			    s->p[s->n - 1].name);
			goto fail;
		}
		if (*e == '\0')
			break;
	}
	if (normalise(s) < 0)
		goto fail;
	return s;
fail:
	dopy_sig_free(s);
	return NULL;
}

int
dopy_sig_find(const dopy_sig *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->p[i].name, name) == 0)
			return (int)i;
	return -1;
}

const dopy_type *
dopy_sig_upload(const dopy_sig *s, const char **name)
{
	if (name != NULL)
		*name = s != NULL ? s->up.name : NULL;
	return s != NULL ? s->up.type : NULL;
}

size_t
dopy_sig_len(const dopy_sig *s)
{
	return s != NULL ? s->n : 0;
}

const char *
dopy_sig_name(const dopy_sig *s, size_t i)
{
	return s != NULL && i < s->n ? s->p[i].name : NULL;
}

const dopy_type *
dopy_sig_type(const dopy_sig *s, size_t i)
{
	return s != NULL && i < s->n ? s->p[i].type : NULL;
}

const char *
dopy_sig_text(const dopy_sig *s)
{
	return s != NULL ? s->text : "";
}

const dopy_value *
dopy_sig_default(const dopy_sig *s, size_t i)
{
	return s != NULL && i < s->n ? s->p[i].def : NULL;
}
