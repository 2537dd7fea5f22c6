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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "store/store.h"

#define NAME_MAXLEN	128
#define PATH_MAXLEN	1024
#define PATH_MAXDEPTH	32
#define TMP_TRIES	8	/* fresh random names before giving up */
#define SWEEP_DIRS	16	/* directories whose last sweep we remember */

/* Short, as this file calls it often; evlog.c uses it too. */
#define serr	dopy_store_err

int
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
 * openat(dfd, name, O_DIRECTORY | O_NOFOLLOW) failed with errno: name,
 * the part of path that ends at end, is no directory.  A stored file
 * there is the caller's mistake (DOPY_S_NOTDIR, the file's path in err);
 * a symlink, or anything else planted there, is the store's trouble.
 */
static int
not_dir(int dfd, const char *name, const char *path, const char *end,
    char *err, size_t errlen)
{
	int saved = errno;
	struct stat st;

	if ((saved == ENOTDIR || saved == ELOOP) &&
	    fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode))
		return serr(err, errlen, DOPY_S_NOTDIR, "%.*s",
		    (int)(end - path), path);
	return serr(err, errlen, saved == ENOENT ? DOPY_S_NOTFOUND :
	    DOPY_E_SYS, "%s: %s", *path ? path : ".", saved == ELOOP ||
	    saved == ENOTDIR ? "a directory in the path is a symlink or "
	    "not a directory" : saved == ENOENT ? "no such directory" :
	    strerror(saved));
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
	int fd, nfd, r;

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
		if (nfd < 0) {
			r = not_dir(fd, comp, path, slash, err, errlen);
			close(fd);
			return r;
		}
		close(fd);
		fd = nfd;
		p = slash + 1;
	}
	*dfd = fd;
	*base = p;
	return 0;
}

/*
 * Why st may not be read as a stored file, or NULL when it may: only a
 * regular file of at most DOPY_STORE_FILE_MAX bytes is ours.  A FIFO
 * would block the reader for ever, a device is not ours to open, and a
 * huge (or sparse) file would be read whole into memory.
 */
static const char *
not_readable(const struct stat *st)
{
	if (S_ISREG(st->st_mode))
		return st->st_size > DOPY_STORE_FILE_MAX ? "larger than the "
		    "store's limit of " DOPY_STORE_FILE_MAX_TEXT : NULL;
	return S_ISLNK(st->st_mode) ? "is a symlink" :
	    S_ISFIFO(st->st_mode) ? "not a regular file (a FIFO)" :
	    S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) ?
	    "not a regular file (a device)" : S_ISSOCK(st->st_mode) ?
	    "not a regular file (a socket)" : "not a regular file";
}

/* A directory where a file was asked for is the caller's mistake
 * (pos.BadPath, naming.BadName); anything else planted there is the
 * store's trouble (pos.StoreError, naming.StoreError). */
static int
refuse(const struct stat *st, const char *path, char *err, size_t errlen)
{
	if (S_ISDIR(st->st_mode))
		return serr(err, errlen, DOPY_E_USAGE, "%s: not a file",
		    path);
	return serr(err, errlen, S_ISREG(st->st_mode) ? DOPY_E_TOOBIG :
	    DOPY_E_SYS, "%s: %s", path, not_readable(st));
}

/*
 * Open base for reading only once lstat says it is ours, so that no
 * device is ever opened; then without blocking or following a link, and
 * check again what was opened, since the name may have changed between.
 */
static int
open_regular(int dfd, const char *base, const char *path, int *fdp,
    char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    not_readable(&st) != NULL)
		return refuse(&st, path, err, errlen);
	fd = openat(dfd, base, O_RDONLY | O_NONBLOCK | O_NOFOLLOW |
	    O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return serr(err, errlen, errno == ENOENT ? DOPY_S_NOTFOUND :
		    DOPY_E_SYS, "%s: %s", path, errno == ENOENT ?
		    "not found" : errno == ELOOP ? "is a symlink" :
		    strerror(errno));
	if (fstat(fd, &st) != 0) {
		close(fd);
		return serr(err, errlen, DOPY_E_SYS, "%s: %s", path,
		    strerror(errno));
	}
	if (not_readable(&st) != NULL) {
		close(fd);
		return refuse(&st, path, err, errlen);
	}
	*fdp = fd;
	return 0;
}

/* Read fd to EOF into b, never more than the store's limit (a file
 * someone appends to may grow after the check). */
static int
read_capped(int fd, const char *path, struct dopy_buf *b, char *err,
    size_t errlen)
{
	uint8_t *dst;
	ssize_t n;

	dopy_buf_reset(b);
	for (;;) {
		if ((dst = dopy_buf_reserve(b, 65536)) == NULL)
			return serr(err, errlen, DOPY_E_NOMEM, "out of memory");
		if ((n = read(fd, dst, 65536)) < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return serr(err, errlen, DOPY_E_SYS, "%s: %s", path,
			    strerror(errno));
		if (n == 0)
			return 0;
		if ((b->len += (size_t)n) > DOPY_STORE_FILE_MAX)
			return serr(err, errlen, DOPY_E_TOOBIG, "%s: larger "
			    "than the store's limit of "
			    DOPY_STORE_FILE_MAX_TEXT, path);
	}
}

/* The whole file at path: a regular file, not through a symlink. */
int
dopy_store_read(struct dopy_store *st, const char *path, struct dopy_buf *b,
    char *err, size_t errlen)
{
	const char *base;
	int dfd, fd = -1, r;

	if ((r = dopy_store_parent(st, path, 0, &dfd, &base, err,
	    errlen)) < 0)
		return r;
	r = open_regular(dfd, base, path, &fd, err, errlen);
	close(dfd);
	if (r < 0)
		return r;
	r = read_capped(fd, path, b, err, errlen);
	close(fd);
	return r;
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
 * Names of temporary files: ".NAME.tmp." and random hex from libsodium,
 * so that no process, nor one that reuses a killed writer's pid, can hit
 * a name another has left.  They used to be ".NAME.tmp.PID.HEX";
 * both forms are recognised as ours when left behind.
 */
static int
is_tmp_name(const char *name)
{
	const char *p = name, *q, *tail = NULL;

	if (name[0] != '.')
		return 0;
	while ((q = strstr(p, ".tmp.")) != NULL) {
		tail = q + 5;
		p = q + 1;
	}
	return tail != NULL && *tail != '\0' &&
	    strspn(tail, "0123456789abcdef.") == strlen(tail);
}

/*
 * A new temporary file beside base, locked with flock(2) until it is
 * renamed and closed: a live writer's file is never taken for stale.
 * -1 with errno.
 */
static int
tmp_create(int dfd, const char *base, char *tmp, size_t len)
{
	uint8_t rnd[8];
	char hex[2 * sizeof(rnd) + 1];
	int fd = -1, i;

	if (sodium_init() < 0) {
		errno = EAGAIN;		/* no random source yet */
		return -1;
	}
	for (i = 0; i < TMP_TRIES && fd < 0; i++) {
		randombytes_buf(rnd, sizeof(rnd));
		sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
		snprintf(tmp, len, ".%s.tmp.%s", base, hex);
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST)
			return -1;
	}
	if (fd >= 0 && flock(fd, LOCK_EX) != 0) {
		i = errno;
		close(fd);
		unlinkat(dfd, tmp, 0);
		errno = i;
		return -1;
	}
	return fd;
}

/* Old enough that its writer, if alive, has long held its lock. */
static int
tmp_old(const struct stat *st)
{
	return S_ISREG(st->st_mode) &&
	    st->st_mtime < time(NULL) - DOPY_STORE_TMP_STALE;
}

/* Remove name if a killed writer left it: ours, old, and unlocked.
 * lstat first, so that nothing but a regular file is ever opened. */
static void
tmp_reap(int dfd, const char *name)
{
	struct stat st;
	int fd;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !tmp_old(&st))
		return;
	fd = openat(dfd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW |
	    O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && tmp_old(&st) &&
	    flock(fd, LOCK_EX | LOCK_NB) == 0)
		unlinkat(dfd, name, 0);
	close(fd);
}

/*
 * Whether to sweep dfd now: reading a directory costs about a
 * microsecond an entry (ext4 sorts it at each open), too much for every
 * write in a big one, so a process sweeps a directory on its first write
 * there and then at most once per DOPY_STORE_TMP_STALE seconds.  The
 * table is per process (a forked connection starts empty) and shared by
 * the threads of -s, hence the lock; when full, the oldest slot goes.
 */
static int
sweep_due(int dfd)
{
	static struct { dev_t dev; ino_t ino; time_t at; } seen[SWEEP_DIRS];
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static unsigned next;
	struct stat st;
	time_t now = time(NULL);
	unsigned i;
	int due = 1;

	if (fstat(dfd, &st) != 0)
		return 0;
	pthread_mutex_lock(&lock);
	for (i = 0; i < SWEEP_DIRS; i++)
		if (seen[i].dev == st.st_dev && seen[i].ino == st.st_ino)
			break;
	if (i == SWEEP_DIRS)
		i = next++ % SWEEP_DIRS;
	else
		due = now - seen[i].at >= DOPY_STORE_TMP_STALE;
	if (due) {
		seen[i].dev = st.st_dev;
		seen[i].ino = st.st_ino;
		seen[i].at = now;
	}
	pthread_mutex_unlock(&lock);
	return due;
}

/* Clean the directory a write went to of stale temporary files. */
static void
tmp_clean(int dfd)
{
	struct dirent *de;
	DIR *d;
	int fd;

	if (!sweep_due(dfd) ||
	    (fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (is_tmp_name(de->d_name))
			tmp_reap(dirfd(d), de->d_name);
	closedir(d);
}

/* Give tmp the name base: renamed over it, or with excl linked to it
 * so that an existing file wins; the directory is flushed.  0, or -1
 * with errno (EEXIST: excl found the name taken; ELOOP: a symlink). */
static int
publish(int dfd, const char *tmp, const char *base, int excl)
{
	int r, saved;

	if (is_symlink(dfd, base)) {		/* one name per file */
		unlinkat(dfd, tmp, 0);
		errno = ELOOP;
		return -1;
	}
	if (excl)
		r = linkat(dfd, tmp, dfd, base, 0);
	else
		r = renameat(dfd, tmp, dfd, base);
	saved = errno;
	if (excl || r != 0)
		unlinkat(dfd, tmp, 0);
	if (r == 0 && fsync(dfd) != 0)
		return -1;	/* the new name may not survive a crash */
	errno = saved;
	return r;
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

	if (n > DOPY_STORE_FILE_MAX)
		return serr(err, errlen, DOPY_E_TOOBIG, "%s: %zu bytes is "
		    "larger than the store's limit of "
		    DOPY_STORE_FILE_MAX_TEXT, path, n);
	if ((r = dopy_store_parent(st, path, 1, &dfd, &base, err,
	    errlen)) < 0)
		return r;
	if ((fd = tmp_create(dfd, base, tmp, sizeof(tmp))) < 0 ||
	    write_all(fd, p, n) < 0 || fsync(fd) != 0) {
		saved = errno;
		if (fd >= 0) {
			close(fd);
			unlinkat(dfd, tmp, 0);
		}
		close(dfd);
		return serr(err, errlen, DOPY_E_SYS, "%s: %s", path,
		    strerror(saved));
	}
	r = publish(dfd, tmp, base, excl);
	saved = errno;
	close(fd);		/* after the rename: it holds the lock */
	if (r == 0)
		tmp_clean(dfd);
	close(dfd);
	if (r != 0)
		return serr(err, errlen, saved == EEXIST ? DOPY_S_EXISTS :
		    saved == ELOOP ? DOPY_E_USAGE : DOPY_E_SYS, "%s: %s", path,
		    saved == EEXIST ? "exists" : saved == ELOOP ?
		    "is a symlink" : strerror(saved));
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

/* Open (or make) a lock file, which must be a regular file: a device
 * planted in its place is not opened, a FIFO does not block.  -1 with
 * errno, or -2 for a file of another type. */
static int
lock_open(int dfd, const char *name)
{
	struct stat st;
	int fd;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
		return -2;
	fd = openat(dfd, name, O_RDWR | O_CREAT | O_NONBLOCK | O_NOFOLLOW |
	    O_NOCTTY | O_CLOEXEC, 0644);
	if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		return -2;
	}
	return fd;
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
	fd = lock_open(dfd, name);
	close(dfd);
	if (fd < 0)
		return serr(err, errlen, DOPY_E_SYS, "lock %s: %s", path,
		    fd == -2 ? "the lock file is not a regular file" :
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
 * recursion directories as "name/"; with it, files under prefix/...
 * down to the depth a path may have (deeper files have no valid path,
 * and a planted deep tree would hold a descriptor per level).  Only
 * directories are opened, with O_DIRECTORY, which no FIFO passes. */
static int
list_dir(int fd, const char *prefix, int recursive, int depth,
    dopy_value *out)
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
		else if (depth < PATH_MAXDEPTH && (sub = openat(dirfd(d), de->d_name, O_RDONLY |
		    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0)
			r = list_dir(sub, name, recursive, depth + 1, out);
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
	const char *base, *p;
	int dfd, fd, r, depth;

	if (*path == '\0')
		fd = openat(st->dirfd, ".", O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC);	/* not a dup: its offset would be shared */
	else {
		if ((r = dopy_store_parent(st, path, 0, &dfd, &base, err,
		    errlen)) < 0)
			return r;
		fd = openat(dfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		r = fd < 0 ? not_dir(dfd, base, path, path + strlen(path),
		    err, errlen) : 0;
		close(dfd);
		if (r < 0)
			return r;
	}
	if (fd < 0)
		return serr(err, errlen, DOPY_E_SYS, ".: %s",
		    strerror(errno));
	for (depth = 0, p = path; *p != '\0'; p++)
		depth += *p == '/';
	if ((r = list_dir(fd, path, recursive, depth + (*path != '\0'),
	    out)) < 0)
		return serr(err, errlen, r, "listing %s failed", path);
	/* Directory order varies; listings should not. */
	if (out->u.a.n > 1)
		qsort(out->u.a.v, out->u.a.n, sizeof(out->u.a.v[0]), by_name);
	return 0;
}
