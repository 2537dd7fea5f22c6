/*
 * idl.h - the interface layer's private declarations (lib/idl/): the
 * interface language of dopy-idl(5), parsed into a tree, printed back
 * in canonical form, compared for compatibility, and turned into C by
 * dopy-idl(1).  Above wire (it uses only the public dopy.h: types and
 * values check what it parses).  Built into libdopy but not exported;
 * bin/dopy-idl and bin/dopy-rsh link these objects themselves.
 *
 * The language, in short (dopy-idl(5) has it all):
 *
 *	file	= { struct | error | object | class }
 *	struct	= "struct" NAME "{" { NAME ":" type ";" } "}"
 *	error	= "error" NAME { "." NAME } ";"
 *	object	= "object" NAME "{" { member } "}"
 *	class	= "class" NAME "{" "state" ":" type ";" { member } "}"
 *	member	= method | attr | error
 *	method	= [ "isolated" [ "(" grace ")" ] ] [ "oneway" | "readonly" ]
 *		  NAME "(" [ param { "," param } ] ")"
 *		  [ "->" type ] [ "raises" ename { "," ename } ] ";"
 *	param	= NAME ":" type [ "=" literal ]
 *	attr	= "attr" [ "writable" ] NAME ":" type ";"
 *	type	= base { "[]" }
 *	base	= "bool" | "int" | "uint" | "double" | "string" | "bytes"
 *		| "ref" | "any" | NAME | "(" [ NAME ":" ] type { "," ... } ")"
 *
 * "#" starts a comment to the end of the line; "##" a documentation
 * comment, kept: consecutive "##" lines (joined by "\n", one blank after
 * "##" dropped) document the declaration that follows (struct, field,
 * error, object, class, method, attr).  A literal is dopy's value text
 * (dopy-rsh(1)) with strings always double-quoted: 1, -2.5, true,
 * "Hello, world", [1, 2], ("a", 3).  An error declared inside object or
 * class OBJ as "error X;" is named "OBJ.X"; a raises name without a dot
 * is looked up as OBJ.NAME, then as a top-level error NAME; every name
 * raised must be declared.  A struct's fields are scalars, ref or
 * string (dopy(5): tpl has no arrays or bytes in S(...)).  any appears
 * only as a whole parameter or result type.
 */
#ifndef DOPY_IDL_H
#define DOPY_IDL_H

#include <stddef.h>
#include <stdio.h>

#include "dopy.h"

struct idl_pos {
	int	 line, col;		/* from 1 */
};

struct idl_struct;

/* kind is DOPY_BOOL .. DOPY_REF, DOPY_ANY, DOPY_ARRAY or DOPY_STRUCT. */
struct idl_type {
	enum dopy_kind		 kind;
	struct idl_type		*elem;		/* ARRAY */
	struct idl_struct	*st;		/* STRUCT; owned by the file */
};

struct idl_field {
	char			*name;		/* NULL in an anonymous
						 * structure without names */
	struct idl_type		*type;
	char			*doc;		/* or NULL */
	struct idl_pos		 pos;
};

/*
 * A structure type.  Named ones come from "struct NAME {...}"; an
 * anonymous one, written inline as (x:int, y:int), gets name NULL.
 * Every structure of a file, named or not, is in idl_file.structs, in
 * the order first seen, so generators can declare each once.
 */
struct idl_struct {
	char			*name;		/* or NULL */
	char			*doc;
	struct idl_field	*fields;
	size_t			 nfields;
	struct idl_pos		 pos;
};

struct idl_param {
	char			*name;
	struct idl_type		*type;
	/* The default as dopy value text, strings unquoted at top level
	 * as dopy_value_parse() takes them ("Hello, world"), or NULL. */
	char			*def;
	struct idl_pos		 pos;
};

struct idl_method {
	char			*name;
	char			*doc;
	struct idl_param	*params;
	size_t			 nparams;
	struct idl_type		*result;	/* NULL: none */
	char			**raises;	/* full names, as declared */
	size_t			 nraises;
	int			 oneway;
	int			 readonly;	/* classes only */
	/* isolated(..., "SPEC"): each call's sandbox (dopy_server_set_
	 * sandbox), or NULL. */
	char			*sandbox;
	int			 isolated;	/* objects only: the grace
						 * in ms; 0: in process */
	struct idl_pos		 pos;
	int			 stream;	/* "-> stream T": items of result */
	/* A last parameter "NAME: stream T": the upload, whose items
	 * follow the call (not among params), or NULL. */
	struct idl_param	*upload;
};

struct idl_attr {
	char			*name;
	struct idl_type		*type;
	int			 writable;
	char			*doc;
	struct idl_pos		 pos;
};

struct idl_error {
	char			*name;		/* full: "counter.Overflow" */
	char			*doc;
	struct idl_pos		 pos;
};

struct idl_object {
	char			*name;
	char			*doc;
	int			 is_class;	/* a dopy-pos(7) class */
	struct idl_type		*state;		/* classes: the state type */
	struct idl_method	*methods;
	size_t			 nmethods;
	struct idl_attr		*attrs;
	size_t			 nattrs;
	struct idl_error	*errors;	/* declared inside */
	size_t			 nerrors;
	struct idl_pos		 pos;
};

struct idl_file {
	char			*path;		/* as given, for messages */
	struct idl_struct	**structs;	/* every one, see above */
	size_t			 nstructs;
	struct idl_error	*errors;	/* top-level */
	size_t			 nerrors;
	struct idl_object	*objects;	/* objects and classes */
	size_t			 nobjects;
};

/* ---- parse.c (and lex.c) ---- */
/*
 * Parse text (the contents of path, which is used in messages only).
 * On error NULL, with "PATH:LINE:COL: message" in err.  Checks names
 * (unique per scope, C identifiers, not C keywords), types (fields,
 * any), defaults (dopy_value_parse against the type), raises names,
 * oneway methods (no result), readonly (classes only), isolated
 * (objects only).
 */
struct idl_file	*idl_parse(const char *path, const char *text, char *err,
		    size_t errlen);
/* Read path ("-" for stdin) and parse it. */
struct idl_file	*idl_parse_file(const char *path, char *err, size_t errlen);
void		 idl_free(struct idl_file *);
/* names.c: whether name is a C or C++ keyword or a C library macro
 * (which a parameter may be called: generated code renames it). */
int		 idl_name_reserved(const char *name);
const struct idl_object *idl_object_find(const struct idl_file *,
		    const char *name);

/* ---- text.c: the dopy(5) forms of what was parsed ---- */
/* A type as dopy's type text, as the wire and dopy_type_parse() have
 * it: "(x:int,y:int)[]" (malloc'd; NULL when out of memory). */
char		*idl_type_text(const struct idl_type *);
/* A method's parameters as struct dopy_method.params: "a:int, b:int=2";
 * the same text dopy_sig_parse() normalises to. */
char		*idl_params_text(const struct idl_method *);

/* ---- print.c ---- */
/*
 * The canonical text of one object or class (NULL: all of the file),
 * with the named structures and top-level errors it uses first: what a
 * server publishes (dopy.interface) and what idl_parse() reads back
 * to the same tree.  Tab-indented, one declaration per line.
 */
char		*idl_print(const struct idl_file *, const char *object);

/* ---- compat.c ---- */
/*
 * Whether clients of old keep working against new: one line per
 * difference on out, "breaking: ..." or "compatible: ...", naming the
 * object, method and parameter.  Returns the number of breaking ones.
 */
int		 idl_compat(const struct idl_file *old,
		    const struct idl_file *new, FILE *out);

/* ---- gen.c ---- */
/* What dopy-idl(1) writes. */
struct idl_gen_opts {
	const char	*base;		/* output path without suffix */
	const char	*prefix;	/* before every C name, or "" */
	int		 client, server;
};
/* Write BASE.h, and BASE_client.[ch] and/or BASE_server.[ch]; 0 or -1
 * with a message in err. */
int		 idl_generate(const struct idl_file *,
		    const struct idl_gen_opts *, char *err, size_t errlen);

#endif /* DOPY_IDL_H */
