/*
 * bundle.c - what delivery (deliver.c, dopy-rsh(1) DELIVERY) sends: the
 * program as built, and the shared libraries it needs that are not the
 * GNU C library's, with a SHA-256 for each and for the whole manifest.
 *
 * The libraries are the ones ldd(1) lists, which is the dynamic loader
 * itself resolving the program's DT_NEEDED entries and theirs (the
 * closure) as it would to run it here: LD_LIBRARY_PATH, RUNPATH,
 * ld.so.cache, the default directories.  ldd runs the loader, not the
 * program, on a program the user chose to run anyway.  The loader is
 * the program's PT_INTERP, read from its ELF header (ldd's lines without
 * "=>" are the loader and LD_PRELOAD's libraries alike); a program
 * without one (a static one) travels alone, and ldd is not asked.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "client/client.h"

#define LDD_MAX		(64u << 10)	/* of ldd's output */
#define LDD_WAIT_MS	30000

extern char **environ;

/*
 * What the GNU C library provides (Debian's libc6 and its kind on other
 * machines), left to the remote host: the loader, the vDSO, libc and the
 * libraries split from it.  Prefixes of sonames.
 */
static const char *const glibc[] = {
	"ld-linux", "ld64.so.", "ld.so.", "linux-vdso", "linux-gate",
	"libc.so.", "libm.so.", "libmvec.so.", "libpthread.so.", "libdl.so.",
	"librt.so.", "libresolv.so.", "libutil.so.", "libanl.so.",
	"libnsl.so.1", "libnss_", "libBrokenLocale.so.", "libthread_db.so.",
	"libc_malloc_debug.so.", "libmemusage.so", "libpcprofile.so",
};

int
dopy_bundle_glibc(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(glibc) / sizeof(glibc[0]); i++)
		if (strncmp(name, glibc[i], strlen(glibc[i])) == 0)
			return 1;
	return 0;
}

/* A name the stub can take as one word and a file name of its cache. */
static int
safe_name(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= DOPY_BUNDLE_NAME_MAX && s[0] != '.' && s[0] != '-' &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._+-") == n;
}

static int
why(char *buf, size_t cap, const char *fmt, const char *a, const char *b)
{
	snprintf(buf, cap, fmt, a, b);
	return -1;
}

/* Append a file to b: name, the bytes at path.  0, or -1 with why. */
static int
add(struct dopy_bundle *b, const char *name, const char *path, char *err,
    size_t cap)
{
	struct dopy_bundle_file *f;
	unsigned char md[crypto_hash_sha256_BYTES];
	size_t i;

	if (!safe_name(name))
		return why(err, cap, "%s: an unusual file name%s", name, "");
	for (i = 0; i < b->n; i++)
		if (strcmp(b->f[i].name, name) == 0)
			return why(err, cap, "two files named %s%s", name, "");
	if (b->n == DOPY_BUNDLE_FILES)
		return why(err, cap, "more than 48 files%s%s", "", "");
	f = &b->f[b->n];
	memset(f, 0, sizeof(*f));
	if ((f->name = strdup(name)) == NULL)
		return why(err, cap, "out of memory%s%s", "", "");
	b->n++;
	if ((f->data = (uint8_t *)dopy_bundle_slurp(path, &f->len, err,
	    cap)) == NULL)
		return -1;
	if ((b->total += f->len) > DOPY_BUNDLE_MAX)
		return why(err, cap, "more than 256 MiB with its libraries%s%s",
		    "", "");
	crypto_hash_sha256(md, f->data, f->len);
	sodium_bin2hex(f->hash, sizeof(f->hash), md, sizeof(md));
	return 0;
}

/* A regular file of 1 byte to DOPY_BUNDLE_MAX, read whole. */
char *
dopy_bundle_slurp(const char *path, size_t *lenp, char *err, size_t cap)
{
	struct stat st;
	char *data = NULL;
	size_t got = 0, len;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		why(err, cap, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > DOPY_BUNDLE_MAX) {
		why(err, cap, "%s: not a regular file of 1 byte to 256 MiB%s",
		    path, "");
		goto out;
	}
	len = (size_t)st.st_size;
	if ((data = malloc(len)) == NULL) {
		why(err, cap, "out of memory%s%s", "", "");
		goto out;
	}
	while (got < len) {
		if ((n = read(fd, data + got, len - got)) <= 0) {
			why(err, cap, "%s: %s", path, n < 0 ? strerror(errno) :
			    "it shrank while being read");
			free(data);
			data = NULL;
			goto out;
		}
		got += (size_t)n;
	}
	*lenp = len;
out:
	close(fd);
	return data;
}

/*
 * ldd -- program, in the C locale, its output and errors together into
 * *outp (NUL-terminated), its exit status into *status.  0, or -1.
 */
static int
run_ldd(const char *program, char **outp, int *status, char *err, size_t cap)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	char *argv[] = { "ldd", "--", (char *)program, NULL }, **envp, *out;
	size_t n = 0, len = 0, i;
	struct pollfd p;
	int fd[2], r, late = 0;
	pid_t pid;
	ssize_t got;

	for (n = 0; environ[n] != NULL; n++)
		;
	if ((envp = calloc(n + 2, sizeof(*envp))) == NULL ||
	    (out = malloc(LDD_MAX + 1)) == NULL) {
		free(envp);
		return why(err, cap, "out of memory%s%s", "", "");
	}
	/* "not found" untranslated; what this shell preloads is not the
	 * program's. */
	for (i = n = 0; environ[i] != NULL; i++)
		if (strncmp(environ[i], "LC_ALL=", 7) != 0 &&
		    strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
			envp[n++] = environ[i];
	envp[n] = "LC_ALL=C";
	if (pipe2(fd, O_CLOEXEC) < 0) {
		free(envp);
		free(out);
		return why(err, cap, "pipe: %s%s", strerror(errno), "");
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fd[1], 2);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&attr, 0);
	r = posix_spawnp(&pid, "ldd", &fa, &attr, argv, envp);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	free(envp);
	close(fd[1]);
	if (r != 0) {
		close(fd[0]);
		free(out);
		return why(err, cap, "cannot run ldd: %s%s", strerror(r), "");
	}
	p.fd = fd[0];
	p.events = POLLIN;
	while (!late && len < LDD_MAX) {
		if ((r = poll(&p, 1, LDD_WAIT_MS)) < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			late = r == 0;
			break;
		}
		if ((got = read(fd[0], out + len, LDD_MAX - len)) < 0 &&
		    errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	close(fd[0]);
	out[len] = '\0';
	if (late || len == LDD_MAX)
		kill(-pid, SIGKILL);	/* ldd and the loader it ran */
	dopy_reap(pid, 0, status);
	if (late || len == LDD_MAX) {
		free(out);
		return why(err, cap, "ldd %s: %s", program, late ?
		    "no answer within 30 seconds" : "too much output");
	}
	*outp = out;
	return 0;
}

/*
 * One line of ldd's: "NAME => PATH (0x...)" adds PATH under NAME unless
 * glibc provides it; "NAME => not found" is an error.  Others (the
 * vDSO, the loader, errors about versions) are ignored.
 */
static int
ldd_line(struct dopy_bundle *b, char *s, char *err, size_t cap)
{
	char *arrow, *end;

	s += strspn(s, " \t");
	if ((arrow = strstr(s, " => ")) == NULL)
		return 0;
	*arrow = '\0';
	arrow += 4;
	if (dopy_bundle_glibc(s))
		return 0;
	if (strncmp(arrow, "not found", 9) == 0)
		return why(err, cap, "it needs %s, which ldd cannot find "
		    "here%s", s, "");
	if (*arrow != '/' || (end = strstr(arrow, " (0x")) == NULL)
		return 0;
	*end = '\0';
	return add(b, s, arrow, err, cap);
}

/* The libraries ldd lists, after the program. */
static int
libraries(struct dopy_bundle *b, const char *program, char *err, size_t cap)
{
	char *out, *s, *next;
	int status, r = 0;

	if (b->interp == NULL)
		return 0;
	if (run_ldd(program, &out, &status, err, cap) < 0)
		return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		out[strcspn(out, "\n")] = '\0';
		r = why(err, cap, "ldd cannot list its libraries here (a "
		    "program for another machine?): %s%s", out, "");
	}
	for (s = out; r == 0 && *s != '\0'; s = next) {
		if ((next = strchr(s, '\n')) != NULL)
			*next++ = '\0';
		else
			next = s + strlen(s);
		r = ldd_line(b, s, err, cap);
	}
	free(out);
	return r;
}

static uint64_t
elf_word(const uint8_t *p, int wide, int big)
{
	uint64_t v = 0;
	int i, n = wide ? 8 : 4;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[big ? n - 1 - i : i] << (8 * i);
	return v;
}

/*
 * The program's PT_INTERP, its dynamic loader, into b->interp; none (a
 * static program, or not ELF: arch() in deliver.c says so) leaves it
 * NULL.  Every offset is checked against the file's size.
 */
static int
interp(struct dopy_bundle *b, char *err, size_t cap)
{
	const uint8_t *h = b->f[0].data, *ph;
	size_t len = b->f[0].len, i;
	uint64_t phoff, off, sz;
	unsigned phent, phnum;
	int wide, big;

	if (len < 64 || memcmp(h, "\177ELF", 4) != 0)
		return 0;
	wide = h[4] == 2;
	big = h[5] == 2;
	phoff = elf_word(h + (wide ? 32 : 28), wide, big);
	phent = (unsigned)elf_word(h + (wide ? 54 : 42), 0, big) & 0xffff;
	phnum = (unsigned)(elf_word(h + (wide ? 56 : 44), 0, big) & 0xffff);
	if (phent < (wide ? 56u : 32u) || phoff > len ||
	    (uint64_t)phent * phnum > len - phoff)
		return why(err, cap, "a damaged ELF header%s%s", "", "");
	for (i = 0; i < phnum; i++) {
		ph = h + phoff + i * phent;
		if (elf_word(ph, 0, big) != 3)		/* PT_INTERP */
			continue;
		off = elf_word(ph + (wide ? 8 : 4), wide, big);
		sz = elf_word(ph + (wide ? 32 : 16), wide, big);
		if (sz < 2 || sz > 256 || off > len || sz > len - off ||
		    h[off] != '/' || memchr(h + off, '\0', sz) !=
		    h + off + sz - 1)
			return why(err, cap, "a damaged PT_INTERP%s%s", "", "");
		if ((b->interp = strdup((const char *)h + off)) == NULL)
			return why(err, cap, "out of memory%s%s", "", "");
		return 0;
	}
	return 0;
}

/* "NAME SIZE HASH ..." for the stub, and the SHA-256 of its lines. */
static int
manifest(struct dopy_bundle *b, char *err, size_t cap)
{
	crypto_hash_sha256_state st;
	unsigned char md[crypto_hash_sha256_BYTES];
	char entry[DOPY_BUNDLE_NAME_MAX + 96];
	size_t i, len = 0;
	FILE *f;

	if ((f = open_memstream(&b->manifest, &len)) == NULL)
		return why(err, cap, "out of memory%s%s", "", "");
	crypto_hash_sha256_init(&st);
	for (i = 0; i < b->n; i++) {
		snprintf(entry, sizeof(entry), "%s %zu %s", b->f[i].name,
		    b->f[i].len, b->f[i].hash);
		fprintf(f, "%s%s", i > 0 ? " " : "", entry);
		crypto_hash_sha256_update(&st, (unsigned char *)entry,
		    strlen(entry));
		crypto_hash_sha256_update(&st, (unsigned char *)"\n", 1);
	}
	crypto_hash_sha256_final(&st, md);
	sodium_bin2hex(b->hash, sizeof(b->hash), md, sizeof(md));
	if (fclose(f) != 0) {
		free(b->manifest);
		b->manifest = NULL;
		return why(err, cap, "out of memory%s%s", "", "");
	}
	return 0;
}

int
dopy_bundle_load(struct dopy_bundle *b, const char *program, char *err,
    size_t cap)
{
	const char *base = strrchr(program, '/');

	memset(b, 0, sizeof(*b));
	base = base != NULL ? base + 1 : program;
	if (add(b, base, program, err, cap) < 0 || interp(b, err, cap) < 0 ||
	    libraries(b, program, err, cap) < 0 || manifest(b, err, cap) < 0)
		return -1;
	return 0;
}

void
dopy_bundle_free(struct dopy_bundle *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		free(b->f[i].name);
		free(b->f[i].data);
	}
	free(b->interp);
	free(b->manifest);
	memset(b, 0, sizeof(*b));
}
