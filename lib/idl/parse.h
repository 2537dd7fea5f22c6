/*
 * parse.h - the parser's state, shared by parse.c (files and top-level
 * declarations), ptype.c (types, structures, defaults), member.c
 * (objects, classes and their members) and check.c (what needs the
 * whole file).  Never installed.
 */
#ifndef DOPY_IDL_PARSE_H
#define DOPY_IDL_PARSE_H

#include "idl/lex.h"

/* A raises name waiting for the end of the file, where every error is
 * known: objects[obj].methods[meth].raises[i]. */
struct raise_ref {
	size_t		 obj, meth, i;
	struct idl_pos	 pos;
};

struct parser {
	struct lexer	 lx;
	struct tok	 tok;		/* the lookahead */
	struct idl_file	*f;
	struct raise_ref *raises;
	size_t		 nraises;
	struct idl_pos	 docpos;	/* of the last doc taken */
};

/* parse.c: tokens; 0, or -1 with the message set. */
int	 idl_next(struct parser *);
int	 idl_err(struct parser *, struct idl_pos, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	 idl_perr(struct parser *, struct idl_pos, const char *what);
int	 idl_is_punct(const struct parser *, int c);
int	 idl_is_word(const struct parser *, const char *);
int	 idl_expect(struct parser *, int c, const char *after);
int	 idl_take_name(struct parser *, const char *what, int decl,
	    char **out, struct idl_pos *);
int	 idl_take_doc(struct parser *, char **doc);
int	 idl_doc_nothing(struct parser *);
void	*idl_grow(void *arrp, size_t *n, size_t size);
/* 0 if no struct, object or class has that name yet. */
int	 idl_dup_name(struct parser *, const char *name, struct idl_pos);
int	 idl_member(struct parser *, struct idl_object *);
const struct idl_error *idl_error_find(const struct idl_file *,
	    const char *name);

/* ptype.c */
/* A type; any_ok: it is a whole parameter, result or attribute. */
struct idl_type	*idl_parse_type(struct parser *, int any_ok);
int	 idl_struct_body(struct parser *, struct idl_struct *);
int	 idl_parse_default(struct parser *, struct idl_param *);
/* Whether t is a ref or holds one (in an array or structure). */
int	 idl_type_has_ref(const struct idl_type *);
void	 idl_type_free(struct idl_type *);

/* member.c */
int	 idl_object_decl(struct parser *, char *doc);
int	 idl_attr_decl(struct parser *, struct idl_object *, char *doc);
int	 idl_method_decl(struct parser *, struct idl_object *, char *doc);

/* check.c */
int	 idl_check(struct parser *);

#endif /* DOPY_IDL_PARSE_H */
