/*
 * e2e_zero.c - zero-install over ssh (dopy-rsh --deliver, dopy-rsh(1)
 * DELIVERY) through a real private sshd on loopback.
 *
 * The remote account has no dopy: sshd's ForceCommand runs every
 * session in a mount namespace of its own where each library of the
 * program that the GNU C library does not provide (as ldd lists them
 * here: libtpl, libsodium, libbsd, libmd; under ASan its runtime too)
 * reads as an empty file, then as uid 65534 (nobody, by setpriv) with
 * an environment made from nothing (env -i): PATH=/usr/bin:/bin, where
 * no dopyd is, a HOME owned by root that nobody cannot write, and an
 * XDG_RUNTIME_DIR of its own in the test's directory (so that tests
 * running at once do not share a cache).  Each test first asks that
 * account, through the same sshd, to show all that: `command -v dopyd`
 * finds nothing, HOME refuses a file, and the program itself, copied
 * where nobody can run it, cannot load its libraries.  The program
 * delivered is $DOPY_BIN/dopyd as built, dynamically linked: under the
 * ASan run the ASan one, whose bundle carries the sanitizers' runtime.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "e2e_util.h"

#define NOBODY	65534
#define LIBS	16

/* The sonames of the GNU C library's that delivery leaves to the host
 * (dopy-rsh(1) DELIVERY), as a case pattern. */
#define GLIBC_CASE "ld-linux*|ld64.so.*|ld.so.*|linux-vdso*|libc.so.*|" \
	"libm.so.*|libmvec.so.*|libpthread.so.*|libdl.so.*|librt.so.*|" \
	"libresolv.so.*|libutil.so.*|libanl.so.*|libnss_*"
/* "NAME PATH" for each library ldd resolves for $1 but glibc's. */
#define LIBS_OF "ldd \"$1\" | awk '$2 == \"=>\" && $3 ~ /^\\// " \
	"{ print $1, $3 }' | while read n p; do case $n in " GLIBC_CASE \
	") ;; *) echo \"$n $p\";; esac; done"

struct zero {
	struct e2e_sshd	 sshd;
	char		 target[128];
	char		 program[PATH_MAX];
	char		 hash[65];	/* the program's SHA-256 */
	char		 cache[PATH_MAX];	/* XDG_RUNTIME_DIR/dopy-65534 */
	char		 plain[PATH_MAX];	/* a copy on the remote side */
	size_t		 nlibs;
	char		 lib[LIBS][64];		/* sonames */
	char		 libhash[LIBS][65];
};

static void
file_hash(const char *path, char hex[65])
{
	unsigned char md[crypto_hash_sha256_BYTES];
	size_t len;
	char *data = e2e_slurp(path, &len);

	cr_assert_not_null(data, "%s: %s", path, strerror(errno));
	crypto_hash_sha256(md, (unsigned char *)data, len);
	sodium_bin2hex(hex, 65, md, sizeof(md));
	free(data);
}

/* $DOPY_BIN/dopyd, and the libraries the bundle must hold. */
static void
program(struct zero *z)
{
	char *argv[] = { "sh", "-c", LIBS_OF, "sh", z->program, NULL };
	char name[64], path[PATH_MAX], *line, *next;
	struct e2e_run r;

	cr_assert((size_t)snprintf(z->program, sizeof(z->program), "%s",
	    e2e_bin("dopyd")) < sizeof(z->program));
	cr_assert(access(z->program, X_OK) == 0, "%s: %s", z->program,
	    strerror(errno));
	file_hash(z->program, z->hash);
	e2e_run_ms(&r, NULL, 0, E2E_WAIT_MS, argv);
	cr_assert(e2e_exited(r.status, 0), "ldd: %s", r.err);
	for (line = r.out; *line != '\0'; line = next) {
		next = strchr(line, '\n');
		cr_assert_not_null(next);
		*next++ = '\0';
		cr_assert(z->nlibs < LIBS && sscanf(line, "%63s %4095s", name,
		    path) == 2, "ldd: %s", line);
		strcpy(z->lib[z->nlibs], name);
		file_hash(path, z->libhash[z->nlibs++]);
	}
	cr_assert(z->nlibs >= 4, "ldd lists only %zu libraries besides "
	    "glibc's:\n%s", z->nlibs, r.out);
	e2e_run_free(&r);
}

/*
 * The remote side, run by ForceCommand in a mount namespace of its own:
 * the program's libraries hidden, prefix (ulimit -f for a full disk),
 * then the account.
 */
static void
remote_script(struct zero *z, const char *path, const char *prefix,
    const char *home, const char *xdg)
{
	char *text;

	cr_assert(asprintf(&text, "set -- '%s'\n%s | while read n p; do "
	    "mount --bind /dev/null \"$p\" || exit 1; done || exit 1\n"
	    "%sexec setpriv --reuid=%d --regid=%d --clear-groups env -i "
	    "PATH=/usr/bin:/bin HOME=%s XDG_RUNTIME_DIR=%s "
	    "/bin/sh -c \"$SSH_ORIGINAL_COMMAND\"\n", z->program, LIBS_OF,
	    prefix, NOBODY, NOBODY, home, xdg) >= 0);
	cr_assert(e2e_spit(path, text) == 0, "%s: %s", path, strerror(errno));
	free(text);
}

/* The directories the remote account gets, and the sshd. */
static void
setup(struct zero *z, const char *prefix)
{
	char home[PATH_MAX], xdg[PATH_MAX], script[PATH_MAX], *extra;
	char *cp[] = { "cp", z->program, z->plain, NULL };
	struct e2e_run r;

	memset(z, 0, sizeof(*z));
	program(z);
	/* nobody may pass through the test's directory, not read it. */
	cr_assert(chmod(e2e_tmpdir(), 0711) == 0);
	snprintf(home, sizeof(home), "%s/home", e2e_tmpdir());
	snprintf(xdg, sizeof(xdg), "%s/xdg", e2e_tmpdir());
	snprintf(script, sizeof(script), "%s/remote.sh", e2e_tmpdir());
	cr_assert((size_t)snprintf(z->plain, sizeof(z->plain), "%s/plain",
	    home) < sizeof(z->plain));
	cr_assert(mkdir(home, 0755) == 0 && mkdir(xdg, 0700) == 0 &&
	    chown(xdg, NOBODY, NOBODY) == 0, "%s", strerror(errno));
	e2e_run_ms(&r, NULL, 0, E2E_WAIT_MS, cp);
	cr_assert(e2e_exited(r.status, 0), "cp: %s", r.err);
	e2e_run_free(&r);
	cr_assert((size_t)snprintf(z->cache, sizeof(z->cache), "%s/dopy-%d",
	    xdg, NOBODY) < sizeof(z->cache));
	remote_script(z, script, prefix, home, xdg);
	cr_assert(asprintf(&extra, "ForceCommand exec unshare -m /bin/sh %s\n",
	    script) >= 0);
	z->sshd.rootlogin = "prohibit-password";
	z->sshd.extra = extra;
	e2e_sshd_start(&z->sshd, "restrict");
	free(extra);
	snprintf(z->target, sizeof(z->target), "ssh://root@127.0.0.1:%d",
	    z->sshd.port);
}

static void
teardown(struct zero *z)
{
	kill(z->sshd.p.pid, SIGTERM);
	e2e_wait(&z->sshd.p, 5000);
}

/* `ssh host command` through the test's sshd; its output (malloc'd),
 * and how long it took in *ms. */
static char *
remote(struct zero *z, const char *command, int64_t *ms)
{
	char *line, *argv[] = { "sh", "-c", NULL, NULL };
	struct e2e_run r;
	int64_t t0;

	cr_assert(asprintf(&line, "%s -T -o BatchMode=yes -p %d root@127.0.0.1 "
	    "'%s'", z->sshd.ssh, z->sshd.port, command) >= 0);
	argv[2] = line;
	t0 = dopy_now_ms();
	e2e_run_ms(&r, NULL, 0, 20000, argv);
	if (ms != NULL)
		*ms = dopy_now_ms() - t0;
	free(line);
	cr_assert(e2e_exited(r.status, 0), "ssh %s: %s\n%s", command,
	    e2e_status(r.status), r.err);
	free(r.err);
	return r.out;
}

/* The account has no dopy, cannot write its home, and the program as
 * it is cannot run there: its libraries are missing. */
static void
honest(struct zero *z)
{
	char *cmd, *out;

	cr_assert(asprintf(&cmd, "id -u; command -v dopyd dopy-rsh || echo "
	    "none; touch \"$HOME/probe\" 2>/dev/null && echo writable || "
	    "echo read-only; %s -h 2>&1; echo status $?", z->plain) >= 0);
	out = remote(z, cmd, NULL);
	cr_assert_not_null(strstr(out, "65534\nnone\nread-only\n"),
	    "the remote account: %s", out);
	cr_assert(strstr(out, "error while loading shared libraries") != NULL &&
	    strstr(out, "status 127\n") != NULL, "the program runs on the "
	    "remote side as it is: %s", out);
	free(cmd);
	free(out);
}

/* dopy-rsh --deliver=PROGRAM TARGET test add 2 3; r's status and output
 * are the caller's to check; the time it took in *ms. */
static void
deliver(struct zero *z, struct e2e_run *r, int64_t *ms)
{
	char opt[PATH_MAX + 16];
	char *argv[] = { (char *)e2e_bin("dopy-rsh"), opt, z->target, "test",
	    "add", "2", "3", NULL };
	int64_t t0;

	snprintf(opt, sizeof(opt), "--deliver=%s", z->program);
	t0 = dopy_now_ms();
	e2e_run_ms(r, NULL, 0, 40000, argv);
	if (ms != NULL)
		*ms = dopy_now_ms() - t0;
}

static void
deliver_ok(struct zero *z, int64_t *ms)
{
	struct e2e_run r;

	deliver(z, &r, ms);
	e2e_assert_run(&r, 0, "5\n");
	e2e_run_free(&r);
}

/* The delivery must fail with exit status code (3: the server could not
 * start; 2: the program given is unfit) and an error that says want. */
static void
deliver_fails(struct zero *z, int code, const char *want)
{
	struct e2e_run r;

	deliver(z, &r, NULL);
	cr_assert(e2e_exited(r.status, code), "%s, want exit %d\n%s",
	    e2e_status(r.status), code, r.err);
	cr_assert_not_null(strstr(r.err, want), "stderr has no '%s':\n%s",
	    want, r.err);
	cr_assert_str_eq(r.out, "");
	e2e_run_free(&r);
}

/* How many entries the cache has (0 or the bundle's directory, no
 * temporary), and the bundle's path into dir when it has one. */
static int
cache_entries(const struct zero *z, char *dir, size_t cap)
{
	char *argv[] = { "ls", "-A", (char *)z->cache, NULL };
	struct e2e_run r;
	int n = 0;

	e2e_run_ms(&r, NULL, 0, E2E_WAIT_MS, argv);
	for (char *p = r.out; *p != '\0'; p++)
		n += *p == '\n';
	cr_assert(n <= 1, "the cache holds more than the bundle:\n%s", r.out);
	if (n == 1 && dir != NULL) {
		r.out[strcspn(r.out, "\n")] = '\0';
		cr_assert(strlen(r.out) == 64, "not a bundle: %s", r.out);
		cr_assert((size_t)snprintf(dir, cap, "%s/%s", z->cache, r.out) <
		    cap);
	}
	e2e_run_free(&r);
	return n;
}

/* The bundle's directory holds the program and its libraries, each
 * whole, mode 0700, nobody's, and nothing else; st their stat, the
 * program first; the total of their sizes. */
static long long
bundle_whole(const struct zero *z, const char *dir, struct stat *st)
{
	char path[PATH_MAX], hex[65], *argv[] = { "ls", "-A", (char *)dir,
	    NULL };
	long long total = 0;
	struct e2e_run r;
	size_t i, n = 0;

	for (i = 0; i <= z->nlibs; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, i == 0 ? "dopyd" :
		    z->lib[i - 1]);
		cr_assert(lstat(path, &st[i]) == 0, "%s: %s", path,
		    strerror(errno));
		cr_assert(S_ISREG(st[i].st_mode) && st[i].st_uid == NOBODY &&
		    (st[i].st_mode & 07777) == 0700, "%s: uid %d mode %o", path,
		    (int)st[i].st_uid, st[i].st_mode & 07777);
		file_hash(path, hex);
		cr_assert_str_eq(hex, i == 0 ? z->hash : z->libhash[i - 1],
		    "%s differs", path);
		total += st[i].st_size;
	}
	e2e_run_ms(&r, NULL, 0, E2E_WAIT_MS, argv);
	for (char *p = r.out; *p != '\0'; p++)
		n += *p == '\n';
	cr_assert_eq(n, z->nlibs + 1, "the bundle holds:\n%s", r.out);
	e2e_run_free(&r);
	return total;
}

static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_mtim.tv_sec ==
	    b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

Test(zero, first_uploads_second_cached, .timeout = 90)
{
	struct zero z;
	struct stat a[LIBS + 1], b[LIBS + 1], c;
	int64_t plain, first, second;
	char dir[PATH_MAX], *out;
	long long total;
	size_t i;

	setup(&z, "");
	honest(&z);
	free(remote(&z, "true", &plain));
	deliver_ok(&z, &first);
	cr_assert_eq(cache_entries(&z, dir, sizeof(dir)), 1);
	total = bundle_whole(&z, dir, a);
	cr_assert(stat(z.cache, &c) == 0 && c.st_uid == NOBODY &&
	    (c.st_mode & 07777) == 0700, "the cache is uid %d mode %o",
	    (int)c.st_uid, c.st_mode & 07777);
	cr_assert(stat(dir, &c) == 0 && c.st_uid == NOBODY &&
	    (c.st_mode & 07777) == 0700, "the bundle is uid %d mode %o",
	    (int)c.st_uid, c.st_mode & 07777);
	deliver_ok(&z, &second);
	bundle_whole(&z, dir, b);
	for (i = 0; i <= z.nlibs; i++)
		cr_assert(same_file(&a[i], &b[i]), "the second connection "
		    "stored %s again", i == 0 ? "dopyd" : z.lib[i - 1]);
	cr_assert_eq(cache_entries(&z, NULL, 0), 1);
	out = remote(&z, "ls \"$XDG_RUNTIME_DIR\"", NULL);
	cr_assert_str_eq(out, "dopy-65534\n");
	free(out);
	cr_log_info("zero-install: bundle %lld bytes (dopyd %lld and %zu "
	    "libraries); plain ssh true %lld ms, first (upload) %lld ms, "
	    "second (cached) %lld ms", total, (long long)a[0].st_size,
	    z.nlibs, (long long)plain, (long long)first, (long long)second);
	fprintf(stderr, "zero-install: bundle %lld bytes (dopyd %lld and %zu "
	    "libraries); plain ssh true %lld ms, first (upload) %lld ms, "
	    "second (cached) %lld ms\n", total, (long long)a[0].st_size,
	    z.nlibs, (long long)plain, (long long)first, (long long)second);
	teardown(&z);
}

/* The client claims another machine (DOPY_DELIVER_ARCH, for tests):
 * nothing is sent nor stored. */
Test(zero, architecture_mismatch, .timeout = 60)
{
	struct zero z;

	setup(&z, "");
	honest(&z);
	cr_assert(setenv("DOPY_DELIVER_ARCH", "sparc64", 1) == 0);
	deliver_fails(&z, 3, "this host is x86_64, the program is for sparc64");
	cr_assert_eq(cache_entries(&z, NULL, 0), 0);
	teardown(&z);
}

/* A file size limit (ulimit -f, as good as a full disk to the stub and
 * needing no privilege): the write fails, and nothing is left. */
Test(zero, full_disk, .timeout = 60)
{
	struct zero z;

	setup(&z, "ulimit -f 64; ");
	honest(&z);
	deliver_fails(&z, 3, "cannot store the program in ");
	cr_assert_eq(cache_entries(&z, NULL, 0), 0);
	teardown(&z);
}

/* A library in the cache whose content is not the one delivered is
 * found out and replaced, and only it: the program then runs, which it
 * cannot with that library (the host has none of its own). */
Test(zero, tampered_library_replaced, .timeout = 90)
{
	struct zero z;
	struct stat a[LIBS + 1], b[LIBS + 1];
	char dir[PATH_MAX], lib[PATH_MAX + 64], hex[65];
	size_t i;

	setup(&z, "");
	deliver_ok(&z, NULL);
	cr_assert_eq(cache_entries(&z, dir, sizeof(dir)), 1);
	bundle_whole(&z, dir, a);
	snprintf(lib, sizeof(lib), "%s/%s", dir, z.lib[0]);
	cr_assert(e2e_spit(lib, "not a library\n") == 0);
	file_hash(lib, hex);
	cr_assert_str_neq(hex, z.libhash[0]);
	deliver_ok(&z, NULL);
	bundle_whole(&z, dir, b);
	cr_assert(!same_file(&a[1], &b[1]), "%s was not stored again", lib);
	for (i = 0; i <= z.nlibs; i++)
		cr_assert(i == 1 || same_file(&a[i], &b[i]), "%s was stored "
		    "again", i == 0 ? "dopyd" : z.lib[i - 1]);
	cr_assert_eq(cache_entries(&z, NULL, 0), 1);
	teardown(&z);
}

/* A copy of the program in the test's directory, with every string
 * from (NUL included) replaced by to, of the same length; its path. */
static void
patched_copy(struct zero *z, const char *from, const char *to)
{
	size_t len, k = strlen(from) + 1, n = 0;
	char *data, *q;
	FILE *f;

	cr_assert(strlen(to) + 1 == k);
	data = e2e_slurp(z->program, &len);
	cr_assert_not_null(data);
	for (q = data; (q = memmem(q, len - (size_t)(q - data), from, k)) !=
	    NULL; q += k, n++)
		memcpy(q, to, k);
	cr_assert(n > 0, "%s: no %s", z->program, from);
	snprintf(z->program, sizeof(z->program), "%s/dopyd", e2e_tmpdir());
	cr_assert((f = fopen(z->program, "w")) != NULL &&
	    fwrite(data, 1, len, f) == len && fclose(f) == 0);
	free(data);
	cr_assert(chmod(z->program, 0755) == 0);
}

/*
 * A program built against a newer glibc than the host's: a copy of the
 * program whose first GLIBC_2.N version need reads GLIBC_2.99..., which
 * no glibc has (the loader compares the name after the hash).  The stub
 * finds it out before running anything and leaves nothing.
 */
Test(zero, glibc_too_old, .timeout = 60)
{
	struct zero z;
	char *data, *p, from[32], to[32];
	size_t len, i;

	setup(&z, "");
	data = e2e_slurp(z.program, &len);
	cr_assert_not_null(data);
	p = memmem(data, len, "GLIBC_2.", 8);
	cr_assert(p != NULL && strnlen(p, sizeof(from)) < sizeof(from),
	    "the program needs no GLIBC_2 version");
	strcpy(from, p);
	free(data);
	strcpy(to, from);
	for (i = 8; to[i] != '\0'; i++)
		to[i] = to[i] == '.' ? '.' : '9';
	patched_copy(&z, from, to);
	deliver_fails(&z, 3, "the C library here (glibc) is older than the one "
	    "the program was built against: it lacks GLIBC_2.9");
	cr_assert_eq(cache_entries(&z, NULL, 0), 0);
	teardown(&z);
}

/* A library that ldd cannot find here (a copy of the program that needs
 * libzzz.so.0 instead of libtpl.so.0): an error that names it, before
 * any ssh. */
Test(zero, library_not_found, .timeout = 30)
{
	struct zero z;

	memset(&z, 0, sizeof(z));
	program(&z);
	patched_copy(&z, "libtpl.so.0", "libzzz.so.0");
	snprintf(z.target, sizeof(z.target), "ssh://nobody@127.0.0.1:1");
	deliver_fails(&z, 2, "it needs libzzz.so.0, which ldd cannot find here");
}
