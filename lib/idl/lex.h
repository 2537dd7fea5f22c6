/*
 * lex.h - what the files of lib/idl/ share beyond idl.h: the tokens of
 * the interface language, and small text helpers.  Never installed.
 */
#ifndef DOPY_IDL_LEX_H
#define DOPY_IDL_LEX_H

#include <stdarg.h>

#include "idl/idl.h"

/* dopy(5)'s limits, as wire/wire.h has them; idl sits above wire and
 * sees only dopy.h, so a unit test checks that the two agree. */
#define IDL_MAX_ARGS	64		/* parameters of a method */
#define IDL_MAX_DEPTH	8		/* nesting of a type */
#define IDL_MAX_FILE	(1 << 20)	/* bytes of an interface file */
/* An isolated method's grace in ms: dopy_server_set_isolated's default
 * (server/server.h, the same test), and the most dopy-idl(5) takes. */
#define IDL_GRACE_DEFAULT	2000
#define IDL_GRACE_MAX		3600000

enum tok_kind {
	T_EOF,
	T_NAME,		/* an identifier, or dotted: naming.Exists */
	T_NUMBER,	/* 1, -2.5, 0x10, 1e9 */
	T_STRING,	/* "..." (s holds it unescaped) */
	T_DOC,		/* a run of ## lines (s holds the doc) */
	T_PUNCT,	/* c is one of { } ( ) [ ] : ; , = */
	T_ARROW		/* -> */
};

struct tok {
	enum tok_kind	 kind;
	const char	*p;		/* in the text */
	size_t		 len;
	char		*s;		/* STRING, DOC: malloc'd */
	int		 c;		/* PUNCT */
	struct idl_pos	 pos;
};

struct lexer {
	const char	*path;
	const char	*text, *p;
	int		 line, col;
	char		*err;
	size_t		 errlen;
};

void	 idl_lex_init(struct lexer *, const char *path, const char *text,
	    char *err, size_t errlen);
/* The next token in *t (its s freed first); 0, or -1 with err set. */
int	 idl_lex_next(struct lexer *, struct tok *);
/* "PATH:LINE:COL: message" in the lexer's err; returns -1. */
int	 idl_lex_verror(struct lexer *, struct idl_pos, const char *fmt,
	    va_list);
int	 idl_lex_error(struct lexer *, struct idl_pos, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* names.c: whether name may become a C identifier; decl > 0: it names
 * a struct, object, class, method or attribute, where the language's
 * own words would be ambiguous; decl < 0: a parameter, which generated
 * code renames if it is a keyword.  0, or -1 with the message at pos. */
int	 idl_name_check(struct lexer *, const char *name, struct idl_pos,
	    int decl);

/* text.c: a malloc'd formatted string, or NULL.  (Not util.h's
 * dopy_asprintf: programs link lib/idl/ against the shared library,
 * which exports only dopy.h.) */
char	*idl_printf(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* text.c: a kind's keyword: "int", "any". */
const char *idl_kind_name(enum dopy_kind);
/* text.c: a type as the wire sees it, without field names:
 * "(int,int)[]" (malloc'd). */
char	*idl_wire_text(const struct idl_type *);
/* text.c: a string or bytes default as a double-quoted literal with
 * the escapes lex.c reads (malloc'd). */
char	*idl_quote(const char *);
/* A default as it is written in an interface file: idl_quote for a
 * top-level string or bytes, else the value text as stored. */
char	*idl_literal(const struct idl_type *, const char *def);

#endif /* DOPY_IDL_LEX_H */
