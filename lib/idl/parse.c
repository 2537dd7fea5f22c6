/*
 * parse.c - interface files (dopy-idl(5)) into the tree of idl.h.
 *
 * Recursive descent over lex.c's tokens with one token of lookahead
 * (two inside an anonymous structure, to tell a field's name from its
 * type).  Everything parsed is hung on the tree at once, so a failure
 * anywhere is cleaned up by idl_free() of the whole file.  The checks
 * that need the whole file (raises names, shadowed errors) run at its
 * end, by check.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idl/parse.h"

int
idl_next(struct parser *ps)
{
	return idl_lex_next(&ps->lx, &ps->tok);
}

int
idl_perr(struct parser *ps, struct idl_pos pos, const char *what)
{
	return idl_err(ps, pos, "%s", what);
}

int
idl_err(struct parser *ps, struct idl_pos pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	idl_lex_verror(&ps->lx, pos, fmt, ap);
	va_end(ap);
	return -1;
}

static int
nomem(struct parser *ps)
{
	return idl_err(ps, ps->tok.pos, "out of memory");
}

int
idl_is_punct(const struct parser *ps, int c)
{
	return ps->tok.kind == T_PUNCT && ps->tok.c == c;
}

int
idl_is_word(const struct parser *ps, const char *w)
{
	return ps->tok.kind == T_NAME && ps->tok.len == strlen(w) &&
	    strncmp(ps->tok.p, w, ps->tok.len) == 0;
}

/* Expect punctuation c, "after" saying where; then step over it. */
int
idl_expect(struct parser *ps, int c, const char *after)
{
	if (!idl_is_punct(ps, c))
		return idl_err(ps, ps->tok.pos, "expected '%c' after %s",
		    c, after);
	return idl_next(ps);
}

/*
 * A plain name (no dots) for what is declared, checked by names.c, in
 * *out (malloc'd) and its position in *pos.
 */
int
idl_take_name(struct parser *ps, const char *what, int decl, char **out,
    struct idl_pos *pos)
{
	if (ps->tok.kind != T_NAME)
		return idl_err(ps, ps->tok.pos, "expected the name of "
		    "%s", what);
	*pos = ps->tok.pos;
	if (memchr(ps->tok.p, '.', ps->tok.len) != NULL)
		return idl_err(ps, ps->tok.pos, "'%.*s': only error "
		    "names have dots", (int)ps->tok.len, ps->tok.p);
	if ((*out = strndup(ps->tok.p, ps->tok.len)) == NULL)
		return nomem(ps);
	if (idl_name_check(&ps->lx, *out, *pos, decl) < 0)
		return -1;
	return idl_next(ps);
}

/* Room for one more zeroed element at the end of *arr. */
void *
idl_grow(void *arrp, size_t *n, size_t size)
{
	void **arr = arrp;
	char *a;

	if ((a = reallocarray(*arr, *n + 1, size)) == NULL)
		return NULL;
	*arr = a;
	memset(a + *n * size, 0, size);
	return a + (*n)++ * size;
}

/*
 * A "##" doc before a declaration, in *doc (NULL: none).  Two docs in a
 * row, or one before nothing, would be lost; say so rather than drop
 * what someone wrote for the interface's readers.
 */
int
idl_take_doc(struct parser *ps, char **doc)
{
	*doc = NULL;
	if (ps->tok.kind != T_DOC)
		return 0;
	*doc = ps->tok.s;
	ps->tok.s = NULL;
	ps->docpos = ps->tok.pos;
	if (idl_next(ps) < 0) {
		free(*doc);
		*doc = NULL;
		return -1;
	}
	if (ps->tok.kind == T_DOC || ps->tok.kind == T_EOF ||
	    idl_is_punct(ps, '}')) {
		free(*doc);
		*doc = NULL;
		return idl_doc_nothing(ps);
	}
	return 0;
}

int
idl_doc_nothing(struct parser *ps)
{
	return idl_perr(ps, ps->docpos, "this documentation comment "
	    "documents nothing (a '##' comment goes right before a "
	    "declaration; '#' starts a plain one)");
}

/* ---- declarations ---- */

int
idl_dup_name(struct parser *ps, const char *name, struct idl_pos pos)
{
	const struct idl_file *f = ps->f;
	size_t i;

	for (i = 0; i < f->nstructs; i++)
		if (f->structs[i]->name != NULL &&
		    strcmp(f->structs[i]->name, name) == 0)
			return idl_err(ps, pos, "struct %s is already "
			    "declared", name);
	for (i = 0; i < f->nobjects; i++)
		if (strcmp(f->objects[i].name, name) == 0)
			return idl_err(ps, pos, "%s %s is already "
			    "declared (objects and structs share one name "
			    "space, as C's struct tags do)",
			    f->objects[i].is_class ? "class" : "object", name);
	return 0;
}

/* "struct NAME { fields }", the word struct read. */
static int
struct_decl(struct parser *ps, char *doc)
{
	struct idl_struct *st, **slot;
	struct idl_pos pos;
	char *name = NULL;

	if (idl_take_name(ps, "a struct", 1, &name, &pos) < 0 ||
	    idl_dup_name(ps, name, pos) < 0) {
		free(name);
		free(doc);
		return -1;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (slot = idl_grow(&ps->f->structs, &ps->f->nstructs,
	    sizeof(*slot))) == NULL) {
		free(st);
		free(name);
		free(doc);
		return nomem(ps);
	}
	*slot = st;
	st->name = name;
	st->doc = doc;
	st->pos = pos;
	return idl_struct_body(ps, st);
}

/* An error's full name: OBJ.NAME inside object OBJ. */
static int
error_decl(struct parser *ps, struct idl_object *obj, char *doc)
{
	struct idl_error *e;
	size_t *n = obj != NULL ? &obj->nerrors : &ps->f->nerrors;
	void *arr = obj != NULL ? (void *)&obj->errors :
	    (void *)&ps->f->errors;

	if ((e = idl_grow(arr, n, sizeof(*e))) == NULL) {
		free(doc);
		return nomem(ps);
	}
	e->doc = doc;
	e->pos = ps->tok.pos;
	if (ps->tok.kind != T_NAME)
		return idl_err(ps, ps->tok.pos, "expected the name of "
		    "an error");
	if (obj != NULL && memchr(ps->tok.p, '.', ps->tok.len) != NULL)
		return idl_err(ps, ps->tok.pos, "an error declared in "
		    "%s %s has a plain name: it is called %s.NAME",
		    obj->is_class ? "class" : "object", obj->name, obj->name);
	e->name = obj != NULL ? idl_printf("%s.%.*s", obj->name,
	    (int)ps->tok.len, ps->tok.p) : strndup(ps->tok.p, ps->tok.len);
	if (e->name == NULL)
		return nomem(ps);
	if (idl_error_find(ps->f, e->name) != e)
		return idl_err(ps, e->pos, "error '%s' is already "
		    "declared", e->name);
	if (idl_next(ps) < 0)
		return -1;
	return idl_expect(ps, ';', "an error's name");
}

/* A declaration at the top of the file. */
static int
top_decl(struct parser *ps)
{
	char *doc;

	if (idl_take_doc(ps, &doc) < 0)
		return -1;
	if (idl_is_word(ps, "struct")) {
		if (idl_next(ps) < 0) {
			free(doc);
			return -1;
		}
		return struct_decl(ps, doc);
	}
	if (idl_is_word(ps, "error")) {
		if (idl_next(ps) < 0) {
			free(doc);
			return -1;
		}
		return error_decl(ps, NULL, doc);
	}
	if (idl_is_word(ps, "object") || idl_is_word(ps, "class"))
		return idl_object_decl(ps, doc);
	free(doc);
	return idl_err(ps, ps->tok.pos, "expected struct, error, "
	    "object or class");
}

/* A member of an object or class: error, attr or method. */
int
idl_member(struct parser *ps, struct idl_object *obj)
{
	char *doc;

	if (idl_take_doc(ps, &doc) < 0)
		return -1;
	if (idl_is_word(ps, "error")) {
		if (idl_next(ps) < 0) {
			free(doc);
			return -1;
		}
		return error_decl(ps, obj, doc);
	}
	if (idl_is_word(ps, "attr"))
		return idl_attr_decl(ps, obj, doc);
	if (idl_is_word(ps, "state")) {
		free(doc);
		return idl_err(ps, ps->tok.pos, obj->is_class ?
		    "class %s: state comes first, once" :
		    "object %s: only a class has a state", obj->name);
	}
	return idl_method_decl(ps, obj, doc);
}

struct idl_file *
idl_parse(const char *path, const char *text, char *err, size_t errlen)
{
	struct parser ps;
	struct idl_pos start = { 1, 1 };

	memset(&ps, 0, sizeof(ps));
	if (path == NULL)
		path = "<interface>";
	if (text == NULL)
		text = "";
	idl_lex_init(&ps.lx, path, text, err, errlen);
	if ((ps.f = calloc(1, sizeof(*ps.f))) == NULL ||
	    (ps.f->path = strdup(path)) == NULL) {
		idl_lex_error(&ps.lx, start, "out of memory");
		goto fail;
	}
	if (strlen(text) > IDL_MAX_FILE) {
		idl_lex_error(&ps.lx, start, "file larger than %d bytes",
		    IDL_MAX_FILE);
		goto fail;
	}
	if (idl_next(&ps) < 0)
		goto fail;
	while (ps.tok.kind != T_EOF)
		if (top_decl(&ps) < 0)
			goto fail;
	if (idl_check(&ps) < 0)
		goto fail;
	free(ps.tok.s);
	free(ps.raises);
	return ps.f;
fail:
	free(ps.tok.s);
	free(ps.raises);
	idl_free(ps.f);
	return NULL;
}

/* Up to one byte past the limit, so too big a file is told apart. */
static char *
slurp(FILE *fp, size_t *len)
{
	char *text;
	size_t n;

	if ((text = malloc(IDL_MAX_FILE + 2)) == NULL)
		return NULL;
	n = fread(text, 1, IDL_MAX_FILE + 1, fp);
	if (ferror(fp)) {
		free(text);
		return NULL;
	}
	text[n] = '\0';
	*len = n;
	return text;
}

struct idl_file *
idl_parse_file(const char *path, char *err, size_t errlen)
{
	struct idl_file *f;
	FILE *fp;
	char *text;
	size_t len;

	fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (fp == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	text = slurp(fp, &len);
	if (text == NULL)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	if (fp != stdin)
		fclose(fp);
	if (text == NULL)
		return NULL;
	if (memchr(text, '\0', len) != NULL) {
		snprintf(err, errlen, "%s: a NUL byte: not a text file", path);
		free(text);
		return NULL;
	}
	f = idl_parse(strcmp(path, "-") == 0 ? "<stdin>" : path, text, err,
	    errlen);
	free(text);
	return f;
}

const struct idl_object *
idl_object_find(const struct idl_file *f, const char *name)
{
	size_t i;

	for (i = 0; f != NULL && i < f->nobjects; i++)
		if (strcmp(f->objects[i].name, name) == 0)
			return &f->objects[i];
	return NULL;
}

/* The error of that full name, top-level or declared in an object. */
const struct idl_error *
idl_error_find(const struct idl_file *f, const char *name)
{
	size_t i, j;

	for (i = 0; i < f->nerrors; i++)
		if (f->errors[i].name != NULL &&
		    strcmp(f->errors[i].name, name) == 0)
			return &f->errors[i];
	for (i = 0; i < f->nobjects; i++)
		for (j = 0; j < f->objects[i].nerrors; j++)
			if (f->objects[i].errors[j].name != NULL &&
			    strcmp(f->objects[i].errors[j].name, name) == 0)
				return &f->objects[i].errors[j];
	return NULL;
}
