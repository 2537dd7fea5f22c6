/*
 * lex.c - the tokens of dopy-idl(5): names (dotted for errors), numbers,
 * double-quoted strings, punctuation, "->", and "##" documentation
 * comments; "#" comments and blanks are skipped.  Positions count lines
 * and bytes from 1, as compilers do, so editors jump to them.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idl/lex.h"

void
idl_lex_init(struct lexer *lx, const char *path, const char *text, char *err,
    size_t errlen)
{
	lx->path = path;
	lx->text = lx->p = text;
	lx->line = lx->col = 1;
	lx->err = err;
	lx->errlen = errlen;
}

int
idl_lex_verror(struct lexer *lx, struct idl_pos pos, const char *fmt,
    va_list ap)
{
	char msg[256];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (lx->errlen > 0)
		snprintf(lx->err, lx->errlen, "%s:%d:%d: %s", lx->path,
		    pos.line, pos.col, msg);
	return -1;
}

int
idl_lex_error(struct lexer *lx, struct idl_pos pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	idl_lex_verror(lx, pos, fmt, ap);
	va_end(ap);
	return -1;
}

static struct idl_pos
here(const struct lexer *lx)
{
	struct idl_pos pos = { lx->line, lx->col };

	return pos;
}

static void
advance(struct lexer *lx, size_t n)
{
	for (; n > 0 && *lx->p != '\0'; n--, lx->p++) {
		if (*lx->p == '\n') {
			lx->line++;
			lx->col = 1;
		} else
			lx->col++;
	}
}

/* The text of one "##" line, without "##", one blank after it and the
 * blanks that end it, appended to *doc. */
static int
doc_line(struct lexer *lx, char **doc)
{
	const char *b = lx->p + 2, *e;
	char *n;

	if (*b == ' ' || *b == '\t')
		b++;
	e = b + strcspn(b, "\n");
	advance(lx, (size_t)(e - lx->p));
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	n = *doc == NULL ? idl_printf("%.*s", (int)(e - b), b) :
	    idl_printf("%s\n%.*s", *doc, (int)(e - b), b);
	free(*doc);
	*doc = n;
	return n != NULL ? 0 : -1;
}

/* Consecutive "##" lines (blanks before each allowed) make one doc. */
static int
lex_doc(struct lexer *lx, struct tok *t)
{
	const char *q;

	t->kind = T_DOC;
	for (;;) {
		if (doc_line(lx, &t->s) < 0)
			return idl_lex_error(lx, t->pos, "out of memory");
		if (*lx->p != '\n')
			break;
		for (q = lx->p + 1; *q == ' ' || *q == '\t'; q++)
			;
		if (q[0] != '#' || q[1] != '#')
			break;
		advance(lx, (size_t)(q - lx->p));
	}
	return 0;
}

/* Blanks and "#" comments; stops at "##". */
static void
skip_blanks(struct lexer *lx)
{
	for (;;) {
		if (isspace((unsigned char)*lx->p))
			advance(lx, 1);
		else if (lx->p[0] == '#' && lx->p[1] != '#')
			advance(lx, strcspn(lx->p, "\n"));
		else
			return;
	}
}

/* One escape, p on the backslash: the byte in *c, its length back. */
static int
escape(struct lexer *lx, const char *p, int *c)
{
	struct idl_pos pos = here(lx);
	char hex[3];

	pos.col += (int)(p - lx->p);	/* a string holds no newline */
	switch (p[1]) {
	case '"':
	case '\\':
		*c = p[1];
		return 2;
	case 'n':
		*c = '\n';
		return 2;
	case 't':
		*c = '\t';
		return 2;
	case 'r':
		*c = '\r';
		return 2;
	case 'x':
		if (!isxdigit((unsigned char)p[2]) ||
		    !isxdigit((unsigned char)p[3]))
			return idl_lex_error(lx, pos, "bad escape '\\x': "
			    "want two hex digits");
		memcpy(hex, p + 2, 2);
		hex[2] = '\0';
		if ((*c = (int)strtol(hex, NULL, 16)) != 0)
			return 4;
		/* FALLTHROUGH */
	case '0':
		return idl_lex_error(lx, pos, "a string here cannot hold a NUL "
		    "byte");
	default:
		return idl_lex_error(lx, pos, "unknown escape '\\%c' in a "
		    "string (use \\\" \\\\ \\n \\t \\r or \\xHH)",
		    isprint((unsigned char)p[1]) ? p[1] : '?');
	}
}

static int
lex_string(struct lexer *lx, struct tok *t)
{
	const char *p = lx->p + 1;
	size_t n = 0;
	int c = 0, k;

	t->kind = T_STRING;
	if ((t->s = malloc(strcspn(p, "\n") + 1)) == NULL)
		return idl_lex_error(lx, t->pos, "out of memory");
	while (*p != '"') {
		if (*p == '\0' || *p == '\n')
			return idl_lex_error(lx, t->pos, "unterminated string");
		if (*p == '\\') {
			if ((k = escape(lx, p, &c)) < 0)
				return -1;
			p += k;
		} else
			c = (unsigned char)*p++;
		t->s[n++] = (char)c;
	}
	t->s[n] = '\0';
	advance(lx, (size_t)(p + 1 - lx->p));
	return 0;
}

/* A name: identifiers joined by dots. */
static size_t
name_len(const char *p)
{
	size_t n = 0;

	for (;;) {
		if (!isalpha((unsigned char)p[n]) && p[n] != '_')
			return n > 0 ? n - 1 : 0;	/* a dangling dot */
		while (isalnum((unsigned char)p[n]) || p[n] == '_')
			n++;
		if (p[n] != '.')
			return n;
		n++;
	}
}

/* A number is checked later, against its type, by dopy_value_parse():
 * here it runs on over digits, letters, dots and exponent signs. */
static size_t
number_len(const char *p)
{
	size_t n = *p == '-' || *p == '+';

	for (; isalnum((unsigned char)p[n]) || p[n] == '.' ||
	    ((p[n] == '-' || p[n] == '+') && (p[n - 1] == 'e' ||
	    p[n - 1] == 'E')); n++)
		;
	return n;
}

int
idl_lex_next(struct lexer *lx, struct tok *t)
{
	const char *p;

	free(t->s);
	memset(t, 0, sizeof(*t));
	skip_blanks(lx);
	t->pos = here(lx);
	t->p = p = lx->p;
	if (*p == '\0')
		t->kind = T_EOF;
	else if (p[0] == '#') {
		if (lex_doc(lx, t) < 0)
			return -1;
	} else if (*p == '"') {
		if (lex_string(lx, t) < 0)
			return -1;
	} else if (p[0] == '-' && p[1] == '>') {
		t->kind = T_ARROW;
		advance(lx, 2);
	} else if (isdigit((unsigned char)*p) || ((*p == '-' || *p == '+' ||
	    *p == '.') && (isdigit((unsigned char)p[1]) || p[1] == '.'))) {
		t->kind = T_NUMBER;
		advance(lx, number_len(p));
	} else if (isalpha((unsigned char)*p) || *p == '_') {
		t->kind = T_NAME;
		advance(lx, name_len(p));
	} else if (strchr("{}()[]:;,=", *p) != NULL) {
		t->kind = T_PUNCT;
		t->c = *p;
		advance(lx, 1);
	} else if (isprint((unsigned char)*p))
		return idl_lex_error(lx, t->pos, "unexpected character '%c'",
		    *p);
	else
		return idl_lex_error(lx, t->pos, "unexpected byte 0x%02x",
		    (unsigned char)*p);
	t->len = (size_t)(lx->p - p);
	return 0;
}
