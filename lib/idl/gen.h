/*
 * gen.h - what the C generator's files share (gen.c, gen_types.c,
 * gen_client.c, gen_server.c).  Private to lib/idl/gen*.c.
 *
 * Every type a file uses gets a tag, which names its C type and helpers:
 * scalars their keyword, a named structure its name, an anonymous one
 * the place it was first written (OBJECT_METHOD_PARAM, OBJECT_METHOD_result,
 * OBJECT_ATTR, CLASS_state), an array its element's tag and "_array".
 * Structures and arrays are C structs with static inline TAG_put,
 * TAG_get and TAG_clear helpers in BASE.h, each under a guard so that
 * two generated headers can share int_array and the like.
 */
#ifndef DOPY_IDL_GEN_H
#define DOPY_IDL_GEN_H

#include <stdio.h>

#include "idl/idl.h"

struct gen {
	const struct idl_file		*f;
	const struct idl_gen_opts	*opt;
	FILE				*o;		/* the file being written */
	char				**snames;	/* per f->structs[i] */
	char				 *guard;	/* BASE in capitals */
	char				 *hbase;	/* BASE without its directory */
};

/*
 * A method as both sides see it: an object's method, or an attribute's
 * get:NAME (no parameters, its type as result) and set:NAME (value).
 */
struct gstub {
	const char		*wire;		/* the method name on the wire */
	char			*cname;		/* PREFIX OBJECT _ NAME */
	const struct idl_param	*params;
	size_t			 nparams;
	const struct idl_type	*result;
	int			 oneway;
	int			 isolated;	/* its grace in ms, or 0 */
	int			 stream;	/* result is the items' type */
	const struct idl_param	*upload;	/* its items, or NULL */
	const char		*doc;
	struct idl_param	 value;		/* set:NAME's parameter */
	char			*wirebuf;	/* get:NAME, set:NAME */
};
/* gen.c: every method and attribute of ob (free with gen_stubs_free). */
struct gstub *gen_stubs(const struct gen *, const struct idl_object *,
	    size_t *n);
void	 gen_stubs_free(struct gstub *, size_t n);
/* The C type of a pointer to t's values: "int64_t *", "char **". */
char	*gen_ptype(const struct gen *, const struct idl_type *);
/* A parameter list, wrapped at 80 columns after a line start of col
 * characters: "(dopy_proxy *proxy, int64_t n, ...)". */
void	 gen_params(FILE *, size_t col, const char *const *items, size_t n);
/* "int NAME SFX(items...)" returning int: a declaration (decl), else
 * the head of a definition. */
void	 gen_proto(const struct gen *, const char *name, const char *sfx,
	    const char *const *items, size_t n, int decl);
/* The same for a call's arguments, continued on lines starting cont. */
void	 gen_args(FILE *, size_t col, const char *cont,
	    const char *const *items, size_t n);

/* gen.c */
char	*gen_tag(const struct gen *, const struct idl_type *);
/* The C type of a value held in a struct, a result or an array. */
char	*gen_ctype(const struct gen *, const struct idl_type *);
/* The C parameter declaration of an argument passed in: "int64_t n",
 * "const char *name", "const struct point *p", "const void *b, size_t
 * b_len". */
char	*gen_cparam(const struct gen *, const struct idl_type *,
	    const char *name);
/* A parameter name safe beside the generated ones (call, self...). */
const char *gen_cname(const char *name, char *buf, size_t size);
/* Whether values of t hold memory (TAG_clear or free needed). */
int	 gen_owns(const struct idl_type *);
/* Whether t is a structure or an array (passed by pointer). */
int	 gen_aggregate(const struct idl_type *);
/* The tpl format of t, as a C string literal's contents. */
char	*gen_tpl(const struct idl_type *);
void	 gen_cstring(FILE *, const char *);
void	 gen_comment(FILE *, const char *indent, const char *doc);
/* Statements (at indent) writing the data of expr to writer w, reading
 * it from reader r into lvalue expr, and freeing what expr holds. */
void	 gen_put(const struct gen *, const struct idl_type *, const char *w,
	    const char *expr, const char *indent);
void	 gen_get(const struct gen *, const struct idl_type *, const char *r,
	    const char *expr, const char *indent);
void	 gen_clear(const struct gen *, const struct idl_type *,
	    const char *expr, const char *indent);
/* A whole image: begin, data, end. */
void	 gen_put_image(const struct gen *, const struct idl_type *,
	    const char *w, const char *expr, const char *indent);
void	 gen_get_image(const struct gen *, const struct idl_type *,
	    const char *r, const char *expr, const char *indent);
/* The C name of an object's item: PREFIX OBJECT _ NAME. */
char	*gen_fname(const struct gen *, const struct idl_object *,
	    const char *name);
/* "PREFIX" "OBJECT" "_E_" "NAME" in capitals, for a declared error. */
char	*gen_errmacro(const struct gen *, const char *fullname);
/* Open a memory stream g->o (so a failed run leaves no half file);
 * once it is closed, gen_close writes the text to BASE SUFFIX. */
int	 gen_open(struct gen *, char **text, size_t *len);
int	 gen_close(struct gen *, const char *suffix, char *text, size_t len,
	    char *err, size_t errlen);
void	 gen_banner(const struct gen *, const char *what);

/* gen_types.c: BASE.h */
int	 gen_types(struct gen *);
/* gen_client.c: BASE_client.h and BASE_client.c */
int	 gen_client_h(struct gen *);
int	 gen_client_c(struct gen *);
/* gen_server.c: BASE_server.h and BASE_server.c */
int	 gen_server_h(struct gen *);
int	 gen_server_c(struct gen *);

#endif /* DOPY_IDL_GEN_H */
