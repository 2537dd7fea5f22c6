/*
 * text.c - the dopy(5) forms of parsed types and parameters: what a
 * method table holds (struct dopy_method's params and result) and
 * what dopy_type_parse() and dopy_sig_parse() read.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idl/lex.h"

char *
idl_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

const char *
idl_kind_name(enum dopy_kind kind)
{
	switch (kind) {
	case DOPY_BOOL:
		return "bool";
	case DOPY_INT:
		return "int";
	case DOPY_UINT:
		return "uint";
	case DOPY_DOUBLE:
		return "double";
	case DOPY_STRING:
		return "string";
	case DOPY_BYTES:
		return "bytes";
	case DOPY_REF:
		return "ref";
	case DOPY_ANY:
		return "any";
	default:
		return "?";
	}
}

/* Structures with their field names (if names), without blanks, as
 * type.c writes them: "(x:int,y:int)". */
static void
type_text(FILE *o, const struct idl_type *t, int names)
{
	size_t i;

	if (t->kind == DOPY_ARRAY) {
		type_text(o, t->elem, names);
		fputs("[]", o);
	} else if (t->kind == DOPY_STRUCT) {
		fputc('(', o);
		for (i = 0; i < t->st->nfields; i++) {
			if (i > 0)
				fputc(',', o);
			if (names && t->st->fields[i].name != NULL)
				fprintf(o, "%s:", t->st->fields[i].name);
			type_text(o, t->st->fields[i].type, names);
		}
		fputc(')', o);
	} else
		fputs(idl_kind_name(t->kind), o);
}

/* The text of o, a memstream on *bufp (which fclose sets). */
static char *
finish(FILE *o, char **bufp)
{
	int bad = ferror(o);

	if (fclose(o) != 0 || bad) {
		free(*bufp);
		return NULL;
	}
	return *bufp;
}

static char *
text_of(const struct idl_type *t, int names)
{
	char *buf = NULL;
	size_t len;
	FILE *o;

	if (t == NULL || (o = open_memstream(&buf, &len)) == NULL)
		return NULL;
	type_text(o, t, names);
	return finish(o, &buf);
}

char *
idl_type_text(const struct idl_type *t)
{
	return text_of(t, 1);
}

char *
idl_wire_text(const struct idl_type *t)
{
	return text_of(t, 0);
}

/* Double-quoted with the escapes that lex.c and dopy_value_parse()
 * read, so that any string prints on one line. */
char *
idl_quote(const char *s)
{
	const unsigned char *p;
	char *buf = NULL;
	size_t len;
	FILE *o;

	if ((o = open_memstream(&buf, &len)) == NULL)
		return NULL;
	fputc('"', o);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(o, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", o);
		else if (*p == '\t')
			fputs("\\t", o);
		else if (*p == '\r')
			fputs("\\r", o);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(o, "\\x%02x", *p);
		else
			fputc(*p, o);
	}
	fputc('"', o);
	return finish(o, &buf);
}

char *
idl_literal(const struct idl_type *t, const char *def)
{
	if (t->kind == DOPY_STRING || t->kind == DOPY_BYTES)
		return idl_quote(def);
	return strdup(def);
}

/* A string default quoted as sig.c's unquote() reads it: only \" and
 * \\ are escapes there. */
static void
sig_string(FILE *o, const char *s)
{
	fputc('"', o);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', o);
		fputc(*s, o);
	}
	fputc('"', o);
}

/* The parameters as written, then normalised by dopy_sig_parse(): the
 * text introspection shows for a hand-written table with them. */
static char *
sig_normalise(char *raw)
{
	dopy_sig *sig;
	char *text = NULL;

	if (raw != NULL && (sig = dopy_sig_parse(raw, NULL, 0)) != NULL) {
		text = strdup(dopy_sig_text(sig));
		dopy_sig_free(sig);
	}
	free(raw);
	return text;
}

char *
idl_params_text(const struct idl_method *m)
{
	const struct idl_param *p;
	char *buf = NULL;
	size_t i, len;
	FILE *o;

	if ((o = open_memstream(&buf, &len)) == NULL)
		return NULL;
	for (i = 0; i < m->nparams; i++) {
		p = &m->params[i];
		fprintf(o, "%s%s:", i > 0 ? ", " : "", p->name);
		type_text(o, p->type, 1);
		if (p->def == NULL)
			continue;
		fputc('=', o);
		if (p->type->kind == DOPY_STRING || p->type->kind == DOPY_BYTES)
			sig_string(o, p->def);
		else
			fputs(p->def, o);	/* dopy_value_format()'s */
	}
	if ((p = m->upload) != NULL) {
		fprintf(o, "%s%s:stream ", i > 0 ? ", " : "", p->name);
		type_text(o, p->type, 1);
	}
	return sig_normalise(finish(o, &buf));
}
