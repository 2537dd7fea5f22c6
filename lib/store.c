/*
 * store.c - a directory tree of values that many server processes share.
 *
 * Every connection is its own process, so shared state lives on disk:
 *  - a file is written whole to a temporary name, fsync'd, then renamed
 *    (or linked, to create without replacing) over its name, and the
 *    directory is fsync'd: a reader or a crash sees the old file or the
 *    new one, never a torn or empty one;
 *  - a read-modify-write holds flock(2) on a lock file beside the data
 *    (rename replaces the data file's inode, so it cannot carry the lock);
 *  - one name per file: paths are normalised, and "..", absolute paths,
 *    hidden names, odd characters and symlinks are refused, so no file
 *    has two names and nothing outside the root is reachable.
 * Names starting with '.' are ours (locks, temporaries) and never listed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define NAME_MAXLEN	128
#define PATH_MAXLEN	1024
#define PATH_MAXDEPTH	32

static int
serr(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
serr(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	if (errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

int
dopy_store_open(const char *root, struct dopy_store *st, char *err,
    size_t errlen)
{
	if (mkdir(root, 0755) != 0 && errno != EEXIST)
		return serr(err, errlen, DOPY_E_SYS, "%s: %s", root,
		    strerror(errno));
	st->dirfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->dirfd < 0)
		return serr(err, errlen, DOPY_E_SYS, "%s: %s", root,
		    strerror(errno));
	return 0;
}

void
dopy_store_close(struct dopy_store *st)
{
	if (st->dirfd >= 0)
		close(st->dirfd);
	st->dirfd = -1;
}

static int
name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > NAME_MAXLEN || s[0] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789_-.", s[i]) || s[i] == '\0')
			return 0;
	return 1;
}

int
dopy_store_path(const char *in, char *out, size_t outlen, char *err,
    size_t errlen)
{
	const char *p = in, *e;
	size_t len = 0, n;
	int depth = 0;

	if (in[0] == '/')
		return serr(err, errlen, DOPY_E_USAGE, "absolute path '%s' "
		    "refused: paths are relative to the store", in);
	if (strlen(in) > PATH_MAXLEN)
		return serr(err, errlen, DOPY_E_USAGE, "path longer than %d "
		    "bytes refused", PATH_MAXLEN);
	out[0] = '\0';
	while (*p != '\0') {
		while (*p == '/')
			p++;			/* "a//b/" is "a/b" */
		if (*p == '\0')
			break;
		e = strchrnul(p, '/');
		n = (size_t)(e - p);
		if ((n == 1 && p[0] == '.') || (n == 2 && !strncmp(p, "..", 2)))
			return serr(err, errlen, DOPY_E_USAGE, "path '%s': "
			    "'.' and '..' are refused", in);
		if (!name_ok(p, n))
			return serr(err, errlen, DOPY_E_USAGE, "path '%s': bad "
			    "name '%.*s' (letters, digits, _ - . and not "
			    "starting with '.', at most %d bytes)", in,
			    (int)n, p, NAME_MAXLEN);
		if (++depth > PATH_MAXDEPTH || len + n + 2 > outlen)
			return serr(err, errlen, DOPY_E_USAGE, "path '%s' is "
			    "too deep or too long", in);
		if (len > 0)
			out[len++] = '/';
		memcpy(out + len, p, n);
		out[len += n] = '\0';
		p = e;
	}
	return 0;
}

/*
 * Walk to the directory holding the last component, one openat with
 * O_NOFOLLOW per component so no symlink is ever followed.  *base points
 * into path.  An empty path is the root itself (base "").
 */
int
dopy_store_parent(struct dopy_store *st, const char *path, int create,
    int *dfd, const char **base, char *err, size_t errlen)
{
	const char *p = path, *slash;
	char comp[NAME_MAXLEN + 1];
	int fd, nfd;

	if ((fd = fcntl(st->dirfd, F_DUPFD_CLOEXEC, 3)) < 0)
		return serr(err, errlen, DOPY_E_SYS, "dup: %s",
		    strerror(errno));
	while ((slash = strchr(p, '/')) != NULL) {
		memcpy(comp, p, (size_t)(slash - p));
		comp[slash - p] = '\0';
		if (create && mkdirat(fd, comp, 0755) != 0 && errno != EEXIST) {
			close(fd);
			return serr(err, errlen, DOPY_E_SYS, "%s: %s", path,
			    strerror(errno));
		}
		nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		close(fd);
		if (nfd < 0)
			return serr(err, errlen, errno == ENOENT ?
			    DOPY_S_NOTFOUND : DOPY_E_SYS, "%s: %s", path,
			    errno == ELOOP || errno == ENOTDIR ?
			    "a directory in the path is a symlink or a file" :
			    errno == ENOENT ? "no such directory" :
			    strerror(errno));
		fd = nfd;
		p = slash + 1;
	}
	*dfd = fd;
	*base = p;
	return 0;
}

/* The whole file at path, opened without following a symlink. */
int
dopy_store_read(struct dopy_store *st, const char *path, struct dopy_buf *b,
    char *err, size_t errlen)
{
	const char *base;
	struct stat sb;
	uint8_t *dst;
	ssize_t n;
	int dfd, fd, r;

	if ((r = dopy_store_parent(st, path, 0, &dfd, &base, err,
	    errlen)) < 0)
		return r;
	fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	close(dfd);
	if (fd < 0)
		return serr(err, errlen, errno == ENOENT ? DOPY_S_NOTFOUND :
		    DOPY_E_SYS, "%s: %s", path, errno == ENOENT ?
		    "not found" : errno == ELOOP ? "is a symlink" :
		    strerror(errno));
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return serr(err, errlen, DOPY_E_USAGE, "%s: not a file",
		    path);
	}
	dopy_buf_reset(b);
	for (;;) {
		if ((dst = dopy_buf_reserve(b, 65536)) == NULL) {
			close(fd);
			return serr(err, errlen, DOPY_E_NOMEM, "out of memory");
		}
		if ((n = read(fd, dst, 65536)) <= 0)
			break;
		b->len += (size_t)n;
	}
	close(fd);
	if (n < 0)
		return serr(err, errlen, DOPY_E_SYS, "%s: %s", path,
		    strerror(errno));
	return 0;
}

static int
write_all(int fd, const void *p, size_t n)
{
	ssize_t w;

	for (size_t done = 0; done < n; done += (size_t)w)
		if ((w = write(fd, (const char *)p + done, n - done)) < 0 &&
		    errno != EINTR)
			return -1;
		else if (w < 0)
			w = 0;
	return 0;
}

static int
is_symlink(int dfd, const char *base)
{
	struct stat sb;

	return fstatat(dfd, base, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(sb.st_mode);
}

/*
 * Write path whole: temporary file, fsync, then rename over the name
 * (or, with excl, link to it so an existing file wins), fsync the
 * directory.  DOPY_E_USAGE with "exists" when excl finds the name taken.
 */
int
dopy_store_write(struct dopy_store *st, const char *path, const void *p,
    size_t n, int excl, char *err, size_t errlen)
{
	char tmp[NAME_MAXLEN + 48];
	const char *base;
	int dfd, fd, r, saved;

	if ((r = dopy_store_parent(st, path, 1, &dfd, &base, err,
	    errlen)) < 0)
		return r;
	snprintf(tmp, sizeof(tmp), ".%s.tmp.%ld.%08x", base, (long)getpid(),
	    (unsigned)random());
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, p, n) < 0 || fsync(fd) != 0) {
		saved = errno;
		if (fd >= 0) {
			close(fd);
			unlinkat(dfd, tmp, 0);
		}
		close(dfd);
		return serr(err, errlen, DOPY_E_SYS, "%s: %s", path,
		    strerror(saved));
	}
	close(fd);
	if (is_symlink(dfd, base)) {		/* one name per file */
		unlinkat(dfd, tmp, 0);
		close(dfd);
		return serr(err, errlen, DOPY_E_USAGE, "%s: is a symlink",
		    path);
	}
	if (excl)
		r = linkat(dfd, tmp, dfd, base, 0);
	else
		r = renameat(dfd, tmp, dfd, base);
	saved = errno;
	if (excl || r != 0)
		unlinkat(dfd, tmp, 0);
	if (r == 0 && fsync(dfd) != 0) {
		r = -1;		/* the new name may not survive a crash */
		saved = errno;
	}
	close(dfd);
	if (r != 0)
		return serr(err, errlen, saved == EEXIST ? DOPY_S_EXISTS :
		    DOPY_E_SYS, "%s: %s", path, saved == EEXIST ?
		    "exists" : strerror(saved));
	return 0;
}

int
dopy_store_remove(struct dopy_store *st, const char *path, char *err,
    size_t errlen)
{
	const char *base;
	int dfd, r, saved;

	if ((r = dopy_store_parent(st, path, 0, &dfd, &base, err,
	    errlen)) < 0)
		return r;
	r = unlinkat(dfd, base, 0);
	saved = errno;
	if (r == 0 && fsync(dfd) != 0) {
		r = -1;
		saved = errno;
	}
	close(dfd);
	if (r != 0)
		return serr(err, errlen, saved == ENOENT ? DOPY_S_NOTFOUND :
		    DOPY_E_SYS, "%s: %s", path, saved == ENOENT ?
		    "not found" : strerror(saved));
	return 0;
}

/* flock the lock file of path: shared for readers, exclusive for
 * writers.  Returns the fd to pass to dopy_store_unlock. */
int
dopy_store_lock(struct dopy_store *st, const char *path, int exclusive,
    int create, int *lfd, char *err, size_t errlen)
{
	char name[NAME_MAXLEN + 8];
	const char *base;
	int dfd, fd, r;

	if ((r = dopy_store_parent(st, path, create, &dfd, &base, err,
	    errlen)) < 0)
		return r;
	snprintf(name, sizeof(name), ".%s.lock", base);
	fd = openat(dfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0644);
	close(dfd);
	if (fd < 0)
		return serr(err, errlen, DOPY_E_SYS, "lock %s: %s", path,
		    strerror(errno));
	while ((r = flock(fd, exclusive ? LOCK_EX : LOCK_SH)) != 0 &&
	    errno == EINTR)
		;
	if (r != 0) {
		close(fd);
		return serr(err, errlen, DOPY_E_SYS, "lock %s: %s", path,
		    strerror(errno));
	}
	*lfd = fd;
	return 0;
}

void
dopy_store_unlock(int lfd)
{
	if (lfd >= 0)
		close(lfd);		/* releases the flock */
}

/* Append the entry names under fd to out: files as "name", and without
 * recursion directories as "name/"; with it, files under prefix/... */
static int
list_dir(int fd, const char *prefix, int recursive, dopy_value *out)
{
	struct dirent *de;
	struct stat sb;
	char *name;
	DIR *d;
	int sub, isdir, r = 0;

	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return DOPY_E_SYS;
	}
	while (r == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;		/* ours: locks, temporaries */
		if (de->d_type == DT_UNKNOWN && fstatat(dirfd(d), de->d_name,
		    &sb, AT_SYMLINK_NOFOLLOW) == 0)
			de->d_type = S_ISDIR(sb.st_mode) ? DT_DIR :
			    S_ISREG(sb.st_mode) ? DT_REG : DT_UNKNOWN;
		isdir = de->d_type == DT_DIR;
		if (!isdir && de->d_type != DT_REG)
			continue;		/* symlinks and such: not ours */
		name = dopy_asprintf("%s%s%s%s", prefix, *prefix ? "/" : "",
		    de->d_name, isdir && !recursive ? "/" : "");
		if (name == NULL)
			r = DOPY_E_NOMEM;
		else if (!isdir || !recursive)
			r = dopy_value_append(out, dopy_value_string(name));
		else if ((sub = openat(dirfd(d), de->d_name, O_RDONLY |
		    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0)
			r = list_dir(sub, name, recursive, out);
		free(name);
	}
	closedir(d);
	return r;
}

static int
by_name(const void *a, const void *b)
{
	const dopy_value *const *x = a, *const *y = b;

	return strcmp((*x)->u.s.p, (*y)->u.s.p);
}

int
dopy_store_list(struct dopy_store *st, const char *path, int recursive,
    dopy_value *out, char *err, size_t errlen)
{
	const char *base;
	int dfd, fd, r;

	if (*path == '\0')
		fd = openat(st->dirfd, ".", O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC);	/* not a dup: its offset would be shared */
	else {
		if ((r = dopy_store_parent(st, path, 0, &dfd, &base, err,
		    errlen)) < 0)
			return r;
		fd = openat(dfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		close(dfd);
	}
	if (fd < 0)
		return serr(err, errlen, errno == ENOENT ? DOPY_S_NOTFOUND :
		    DOPY_E_SYS, "%s: %s", *path ? path : ".", errno == ENOENT ?
		    "no such directory" : strerror(errno));
	if ((r = list_dir(fd, path, recursive, out)) < 0)
		return serr(err, errlen, r, "listing %s failed", path);
	/* Directory order varies; listings should not. */
	if (out->u.a.n > 1)
		qsort(out->u.a.v, out->u.a.n, sizeof(out->u.a.v[0]), by_name);
	return 0;
}
