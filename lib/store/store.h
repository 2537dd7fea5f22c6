/*
 * store.h - the store layer's private declarations (lib/store/): the
 * shared directory tree of files (store.c) and a persistent class's
 * state as its C struct (pstruct.c).  Above wire; pos.c, pstruct.c and
 * naming.c also use server.h for the objects they serve.  Never
 * installed.
 */
#ifndef DOPY_STORE_H
#define DOPY_STORE_H

#include "wire/wire.h"

/* ---- store.c: files shared by every server process ---- */
/* Store results beside the DOPY_E_* codes; never leave the library. */
#define DOPY_S_NOTFOUND		-100
#define DOPY_S_EXISTS		-101
/* A stored file stands where the path needs a directory ("a" when "a/b"
 * is asked for): err holds the path of that file alone, for the caller
 * to say what it is ("a is a name, not a group"). */
#define DOPY_S_NOTDIR		-102
/* No stored file is read or written above this size (dopy-pos(7)). */
#define DOPY_STORE_FILE_MAX	(64u * 1024 * 1024)
#define DOPY_STORE_FILE_MAX_TEXT "67108864 bytes (64 MiB)"
/* A temporary file older than this, unlocked, was left by a killed
 * writer; a write in its directory removes it, each process sweeping a
 * directory at most this often (seconds). */
#define DOPY_STORE_TMP_STALE	60
struct dopy_store {
	int	dirfd;
};
int	 dopy_store_open(const char *root, struct dopy_store *, char *err,
	    size_t errlen);
void	 dopy_store_close(struct dopy_store *);
/* Normalise a relative path, refusing what could escape or alias. */
int	 dopy_store_path(const char *in, char *out, size_t outlen, char *err,
	    size_t errlen);
int	 dopy_store_parent(struct dopy_store *, const char *path, int create,
	    int *dfd, const char **base, char *err, size_t errlen);
int	 dopy_store_read(struct dopy_store *, const char *path,
	    struct dopy_buf *, char *err, size_t errlen);
int	 dopy_store_write(struct dopy_store *, const char *path,
	    const void *, size_t, int excl, char *err, size_t errlen);
int	 dopy_store_remove(struct dopy_store *, const char *path, char *err,
	    size_t errlen);
/* create: make missing directories (a store); else they must exist. */
int	 dopy_store_lock(struct dopy_store *, const char *path, int exclusive,
	    int create, int *lfd, char *err, size_t errlen);
void	 dopy_store_unlock(int lfd);
/* Names under path (files "a", directories "d/"; recursive: all files). */
int	 dopy_store_list(struct dopy_store *, const char *path, int recursive,
	    dopy_value *out, char *err, size_t errlen);
/* pstruct.c: a persistent class's state as its C struct. */
struct dopy_pclass_ent;
int	 dopy_pstruct_ok(const dopy_type *);
void	*dopy_pstruct_read(const struct dopy_pclass_ent *, const dopy_value *);
dopy_value *dopy_pstruct_write(const struct dopy_pclass_ent *, const void *);
void	 dopy_pstruct_free(const struct dopy_pclass_ent *, void *);

#endif /* DOPY_STORE_H */
