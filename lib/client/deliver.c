/*
 * deliver.c - zero-install over ssh (dopy-rsh(1) DELIVERY, dopy(5)
 * DELIVERY): the program and the libraries it needs beyond the C library
 * (bundle.c) travel through the ssh connection to a POSIX shell stub run
 * as the remote command, which keeps them in a private cache, one
 * directory per bundle, each file checked by its SHA-256; it checks the
 * machine and that the host's C library is new enough, and execs the
 * program with LD_LIBRARY_PATH at the bundle.  Nothing but sh and a few
 * standard tools is needed on the remote host, and the GNU C library.
 *
 * Before any frame, the stub writes lines and the client answers:
 *
 *	dopy-deliver have		all cached and checked: it runs now
 *	dopy-deliver need NAME ...	the client sends those files, in
 *					manifest order, back to back
 *	dopy-deliver stored		stored and checked: it runs now
 *	dopy-deliver error: TEXT	nothing runs; the stub exits
 *
 * The client sends nothing after the files until "stored", so a remote
 * `head -c` that reads ahead finds nothing to take; the stub takes all
 * the files in one `head -c` and splits them from its own copy.  Every
 * read and write here waits at most DELIVER_WAIT_MS without progress: a
 * silent host, or a forced command that is not the stub, is an error
 * and not a hang.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client/client.h"

#define DELIVER_WAIT_MS	30000		/* without progress */
#define NOISE_MAX	4096		/* a login script's chatter */
#define LINE_CAP	4096		/* need: 48 names of 64 bytes */
#define PREFIX		"dopy-deliver "

/*
 * The stub, run as sh -c STUB dopy-deliver HASH ARCH INTERP MANIFEST
 * [ARG ...]: HASH names the bundle, ARCH is a case pattern for uname -m,
 * INTERP the program's dynamic loader (- for a static program), MANIFEST
 * one word list "NAME SIZE SHA256 ..." with the program first.  One line
 * without single quotes, double backslashes or '!', so that it passes
 * through the remote account's login shell (sh, bash, csh, fish) inside
 * single quotes unchanged.  The cache directory is DIR/dopy-UID for the
 * first DIR of $XDG_RUNTIME_DIR, /dev/shm, /tmp that is writable, made
 * 0700 if missing and refused unless it is a directory (not a link) of
 * mode 0700 owned by the user; the bundle is its subdirectory HASH.
 * Functions get the manifest as their arguments, so that "$@" stays the
 * program's.  After storing, the loader lists the bundle (ld.so --list
 * runs no code of the program): a glibc older than the program's, or a
 * glibc library missing here, is said before anything runs.
 */
static const char stub[] =
    "set -f; H=$1 a=$2 i=$3 m=$4; shift 4; "
    "say() { printf \"dopy-deliver %s\\n\" \"$*\"; }; "
    "die() { say \"error: $*\"; exit 1; }; "
    "x=$(uname -m); "
    "case $x in $a) ;; *) die \"this host is $x, the program is for $a\";; "
    "esac; "
    "[ \"$i\" = - ] || [ -f \"$i\" ] || die \"this host has no $i: the "
    "program needs the GNU C library (glibc) and its dynamic loader\"; "
    "if command -v sha256sum >/dev/null 2>&1; then S=sha256sum; "
    "elif command -v shasum >/dev/null 2>&1; then S=\"shasum -a 256\"; "
    "elif command -v sha256 >/dev/null 2>&1; then S=\"sha256 -q\"; "
    "elif command -v openssl >/dev/null 2>&1; then "
    "S=\"openssl dgst -sha256 -r\"; "
    "else die \"no sha256sum, shasum, sha256 or openssl here to check "
    "the program with\"; fi; "
    "good() { set -- \"$2\" $($S < \"$1\") && [ \"$1\" = \"$2\" ]; }; "
    "u=$(id -u); "
    "mine() { [ -L \"$1\" ] && return 1; [ -d \"$1\" ] && "
    "set -- $(ls -ldn \"$1\") && [ \"$3\" = \"$u\" ] && "
    "case $1 in drwx------|drwx------.) true;; *) false;; esac; }; "
    "c=; why=; "
    "for d in \"${XDG_RUNTIME_DIR:-}\" /dev/shm /tmp; do "
    "[ -n \"$d\" ] && [ -d \"$d\" ] && [ -w \"$d\" ] || continue; "
    "c=$d/dopy-$u; "
    "[ -e \"$c\" ] || [ -L \"$c\" ] || mkdir -m 700 \"$c\" 2>/dev/null; "
    "mine \"$c\" && break; "
    "why=\"$why $c is not a directory of mode 0700 owned by uid $u;\"; "
    "c=; done; "
    "[ -n \"$c\" ] || die \"no usable cache directory:${why:- none of "
    "XDG_RUNTIME_DIR, /dev/shm, /tmp is writable}\"; "
    "b=$c/$H; p=${m%% *}; w=; n=0; "
    "if [ -L \"$b\" ]; then rm -f \"$b\"; elif [ -e \"$b\" ]; then "
    "[ -d \"$b\" ] || rm -f \"$b\"; fi; "
    "ok() { [ -L \"$1\" ] && return 1; [ -f \"$1\" ] && [ -x \"$1\" ] && "
    "good \"$1\" \"$2\"; }; "
    "scan() { while [ $# -ge 3 ]; do ok \"$b/$1\" \"$3\" || "
    "{ w=\"$w $1\"; n=$((n + $2)); }; shift 3; done; }; "
    "run() { LD_LIBRARY_PATH=$b${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}; "
    "export LD_LIBRARY_PATH; exec \"$b/$p\" \"$@\"; }; "
    "scan $m; "
    "if [ -z \"$w\" ]; then say have; run \"$@\"; fi; "
    "[ -d \"$b\" ] || mkdir -m 700 \"$b\" || die \"cannot make $b\"; "
    "t=$b/.tmp.$$; "
    "gone() { rm -f \"$t\" \"$t.f\"; rmdir \"$b\" 2>/dev/null; die \"$*\"; }; "
    ": > \"$t\" && chmod 700 \"$t\" && \"$t\" 2>/dev/null || "
    "gone \"cannot run programs from $c (mounted noexec?)\"; "
    "say \"need$w\"; umask 077; "
    "head -c \"$n\" > \"$t\" && [ $(wc -c < \"$t\") -eq \"$n\" ] || "
    "gone \"cannot store the program in $c (disk full, or a file size "
    "limit?)\"; "
    "split() { o=1; while [ $# -ge 3 ]; do case \" $w \" in *\" $1 \"*) "
    "e=\"cannot store $1 in $c (disk full, or a file size limit?)\"; "
    "tail -c +$o \"$t\" | head -c \"$2\" > \"$t.f\" && "
    "[ $(wc -c < \"$t.f\") -eq \"$2\" ] || return 1; "
    "e=\"$1 did not arrive whole (its SHA-256 differs)\"; "
    "good \"$t.f\" \"$3\" || return 1; "
    "e=\"cannot rename $t.f to $b/$1\"; "
    "chmod 700 \"$t.f\" && mv -f \"$t.f\" \"$b/$1\" || return 1; "
    "o=$((o + $2));; esac; shift 3; done; }; "
    "split $m || gone \"$e\"; rm -f \"$t\"; "
    "chk() { e=$(\"$i\" --library-path \"$b\" --list \"$b/$p\" 2>&1 "
    "</dev/null) || return 1; case $e in *\" not found\"*) return 1;; "
    "esac; }; "
    "old() { rm -rf \"$b\"; case $e in "
    "*\"version \"?GLIBC_*\" not found\"*) v=${e#*\"version \"?}; "
    "v=${v%%?\" not found\"*}; die \"the C library here (glibc) is older "
    "than the one the program was built against: it lacks $v\";; "
    "*\"=> not found\"*) v=${e%%\" => not found\"*}; "
    "v=${v##*[[:space:]]}; die \"this host lacks $v, a library of the C "
    "library that the program needs\";; "
    "*) die \"the program cannot start here: $(printf \"%s\\n\" \"$e\" | "
    "head -n 1)\";; esac; }; "
    "[ \"$i\" = - ] || chk || old; "
    "say stored; run \"$@\"";

struct deliver {
	const dopy_target	*t;
	struct dopy_bundle	 b;
	int			 need[DOPY_BUNDLE_FILES];
	const char		*arch;		/* a case pattern for uname -m */
	int			 in, out;
	pid_t			 pid;
};

static int
fail(const struct deliver *d, dopy_error **ep, int code, const char *why)
{
	return dopy_error_set(ep, code, "delivering %s to %s: %s",
	    d->t->deliver, d->t->host, why);
}

/* The program and its libraries. */
static int
load(struct deliver *d, dopy_error **ep)
{
	char why[512];

	if (dopy_bundle_load(&d->b, d->t->deliver, why, sizeof(why)) < 0)
		return fail(d, ep, DOPY_E_USAGE, why);
	return 0;
}

/* ELF machine numbers (elf.h's EM_*) as uname -m names them. */
static const struct {
	unsigned	 machine, class64, big;	/* class64, big: 2 any */
	const char	*pattern;
} machines[] = {
	{ 62, 1, 0, "x86_64" },
	{ 3, 0, 0, "i[3-6]86|x86_64" },
	{ 183, 1, 0, "aarch64|arm64" },
	{ 183, 1, 1, "aarch64_be" },
	{ 40, 0, 2, "arm*" },
	{ 243, 1, 0, "riscv64" },
	{ 21, 1, 0, "ppc64le" },
	{ 21, 1, 1, "ppc64" },
	{ 20, 0, 1, "ppc" },
	{ 22, 1, 1, "s390x" },
	{ 8, 2, 2, "mips*" },
	{ 258, 1, 0, "loongarch64" },
};

/* What the program is for, from its ELF header; $DOPY_DELIVER_ARCH
 * claims something else (the tests fake a foreign program with it). */
static int
arch(struct deliver *d, dopy_error **ep)
{
	const uint8_t *h = d->b.f[0].data;
	const char *env = getenv("DOPY_DELIVER_ARCH");
	unsigned machine, class64, big;
	size_t i;

	if (env != NULL && *env != '\0') {
		d->arch = env;
		return 0;
	}
	if (d->b.f[0].len < 20 || memcmp(h, "\177ELF", 4) != 0)
		return fail(d, ep, DOPY_E_USAGE, "not an ELF executable");
	class64 = h[4] == 2;
	big = h[5] == 2;
	machine = big ? (unsigned)h[18] << 8 | h[19] :
	    (unsigned)h[19] << 8 | h[18];
	for (i = 0; i < sizeof(machines) / sizeof(machines[0]); i++)
		if (machines[i].machine == machine &&
		    (machines[i].class64 == 2 || machines[i].class64 == class64) &&
		    (machines[i].big == 2 || machines[i].big == big)) {
			d->arch = machines[i].pattern;
			return 0;
		}
	return fail(d, ep, DOPY_E_USAGE, "an ELF machine dopy does not know");
}

/*
 * sh -c STUB dopy-deliver HASH ARCH INTERP MANIFEST ARGS: ARGS is the
 * target's command less its first word (the program's name), left for
 * the remote shell to split as a plain ssh:// command is.
 */
static char *
remote_command(const struct deliver *d)
{
	const char *args = d->t->command;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	args += strspn(args, " \t");
	args += strcspn(args, " \t");
	if ((f = open_memstream(&out, &len)) == NULL)
		return NULL;
	fputs("sh -c ", f);
	dopy_shquote(f, stub);
	fprintf(f, " dopy-deliver %s ", d->b.hash);
	dopy_shquote(f, d->arch);
	fputc(' ', f);
	dopy_shquote(f, d->b.interp != NULL ? d->b.interp : "-");
	fputc(' ', f);
	dopy_shquote(f, d->b.manifest);
	fputs(args, f);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* Until fd is ready for events: 1, 0 after DELIVER_WAIT_MS, -1. */
static int
ready(int fd, short events)
{
	struct pollfd p = { fd, events, 0 };
	int r;

	while ((r = poll(&p, 1, DELIVER_WAIT_MS)) < 0 && errno == EINTR)
		;
	return r;
}

/*
 * A line from the stub into buf, without its newline, read a byte at a
 * time: what follows the last line is the server's, not ours.  0, or
 * -1 (EOF), -2 (silence), -3 (too long).
 */
static int
line(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t r;

	for (;;) {
		if ((r = ready(fd, POLLIN)) <= 0)
			return r == 0 ? -2 : -1;
		if ((r = read(fd, buf + n, 1)) < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (buf[n] == '\n') {
			buf[n] = '\0';
			return 0;
		}
		if (++n == cap)
			return -3;
	}
}

/* Why the stub said nothing more: ssh's exit status if it is gone. */
static int
silent(struct deliver *d, int r, dopy_error **ep)
{
	char why[160];
	int status;

	if (r == -2)
		return fail(d, ep, DOPY_E_TIMEOUT, "no answer from the remote "
		    "stub within 30 seconds (is a forced command or "
		    "subsystem in the way?)");
	if (dopy_reap(d->pid, 1000, &status) == 0) {
		d->pid = -1;
		snprintf(why, sizeof(why), "ssh ended (%s %d) before the "
		    "remote stub answered", WIFEXITED(status) ? "exit status" :
		    "signal", WIFEXITED(status) ? WEXITSTATUS(status) :
		    WTERMSIG(status));
		return fail(d, ep, DOPY_E_SPAWN, why);
	}
	return fail(d, ep, DOPY_E_PROTO, r == -3 ? "a line from the remote "
	    "side is too long" : "the remote side closed the connection");
}

/*
 * The stub's next line (have, need ..., stored) in buf, less its prefix.
 * Lines that are not the stub's (a login script's chatter on stdout)
 * are skipped, up to NOISE_MAX bytes; an error line is the caller's
 * error.
 */
static int
stub_says(struct deliver *d, char *buf, size_t cap, dopy_error **ep)
{
	size_t noise = 0;
	int r;

	for (;;) {
		if ((r = line(d->in, buf, cap)) < 0)
			return silent(d, r, ep);
		if (strncmp(buf, PREFIX, strlen(PREFIX)) == 0)
			break;
		if ((noise += strlen(buf) + 1) > NOISE_MAX)
			return fail(d, ep, DOPY_E_PROTO, "the remote side "
			    "writes something other than the stub's lines");
	}
	memmove(buf, buf + strlen(PREFIX), strlen(buf) - strlen(PREFIX) + 1);
	if (strncmp(buf, "error: ", 7) == 0)
		return fail(d, ep, DOPY_E_SPAWN, buf + 7);
	return 0;
}

/*
 * "need NAME ...": which files to send, each a file of the manifest, in
 * its order, at least one.
 */
static int
needed(struct deliver *d, char *words, dopy_error **ep)
{
	size_t i = 0, k = 0;
	char *w;

	while ((w = strsep(&words, " ")) != NULL) {
		while (i < d->b.n && strcmp(d->b.f[i].name, w) != 0)
			i++;
		if (i == d->b.n)
			return fail(d, ep, DOPY_E_PROTO, "the stub needs a file "
			    "that is not in the bundle");
		d->need[i++] = 1;
		k++;
	}
	return k > 0 ? 0 : fail(d, ep, DOPY_E_PROTO, "the stub needs nothing");
}

/*
 * One file's bytes, written without blocking: the stub may stop reading
 * (a full disk) and say why, which is read as soon as it comes.  0 when
 * sent, 1 when the stub spoke (or went) first, or an error.
 */
static int
send_bytes(struct deliver *d, const uint8_t *buf, size_t len, dopy_error **ep)
{
	struct pollfd p[2] = { { d->out, POLLOUT, 0 }, { d->in, POLLIN, 0 } };
	size_t off = 0;
	ssize_t n;
	int r;

	while (off < len) {
		if ((r = poll(p, 2, DELIVER_WAIT_MS)) < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return fail(d, ep, DOPY_E_TIMEOUT, "the upload made no "
			    "progress for 30 seconds");
		/* The stub spoke (or went) first: its line says why. */
		if (r < 0 || p[1].revents != 0 ||
		    (p[0].revents & ~POLLOUT) != 0)
			return 1;
		n = write(d->out, buf + off, len - off);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return 1;
		off += n > 0 ? (size_t)n : 0;
	}
	return 0;
}

/* The files the stub needs, back to back in manifest order. */
static int
send_files(struct deliver *d, dopy_error **ep)
{
	int fl = fcntl(d->out, F_GETFL), r = 0;
	size_t i;

	if (fl < 0 || fcntl(d->out, F_SETFL, fl | O_NONBLOCK) < 0)
		return fail(d, ep, DOPY_E_SYS, strerror(errno));
	for (i = 0; i < d->b.n && r == 0; i++)
		if (d->need[i])
			r = send_bytes(d, d->b.f[i].data, d->b.f[i].len, ep);
	fcntl(d->out, F_SETFL, fl);
	return r < 0 ? r : 0;
}

/* The exchange, up to the moment the program runs. */
static int
exchange(struct deliver *d, dopy_error **ep)
{
	char *buf;
	int r;

	if ((buf = malloc(LINE_CAP)) == NULL)
		return fail(d, ep, DOPY_E_NOMEM, "out of memory");
	if ((r = stub_says(d, buf, LINE_CAP, ep)) < 0 ||
	    strcmp(buf, "have") == 0)
		goto out;
	if (strncmp(buf, "need ", 5) != 0) {
		r = fail(d, ep, DOPY_E_PROTO, "an unknown word from the stub");
		goto out;
	}
	if ((r = needed(d, buf + 5, ep)) < 0 || (r = send_files(d, ep)) < 0 ||
	    (r = stub_says(d, buf, LINE_CAP, ep)) < 0)
		goto out;
	if (strcmp(buf, "stored") != 0)
		r = fail(d, ep, DOPY_E_PROTO, "an unknown word from the stub");
out:
	free(buf);
	return r;
}

/* ssh and the stub, then the exchange; the connection on success. */
static int
run(struct deliver *d, const dopy_key *key, int flags, dopy_conn **cp,
    dopy_error **ep)
{
	char *remote, *cmd, *label;
	int r, st;

	if ((remote = remote_command(d)) == NULL)
		return fail(d, ep, DOPY_E_NOMEM, "out of memory");
	cmd = dopy_ssh_command(d->t, remote);
	free(remote);
	if (cmd == NULL)
		return fail(d, ep, DOPY_E_NOMEM, "out of memory");
	r = dopy_spawn(cmd, &d->in, &d->out, &d->pid, ep);
	free(cmd);
	if (r < 0)
		return r;
	if ((r = exchange(d, ep)) < 0) {
		close(d->in);
		close(d->out);
		if (d->pid > 0 && dopy_reap(d->pid, 1000, &st) < 0) {
			kill(-d->pid, SIGKILL);
			dopy_reap(d->pid, 0, &st);
		}
		return r;
	}
	if (asprintf(&label, "%s delivered to %s", d->t->deliver,
	    d->t->host) < 0)
		label = NULL;
	r = dopy_conn_child_flags(d->in, d->out, d->pid, label != NULL ?
	    label : d->t->deliver, key, flags, cp, ep);
	free(label);
	return r;
}

int
dopy_deliver_dial(const dopy_target *t, const dopy_key *key, int flags,
    dopy_conn **cp, dopy_error **ep)
{
	struct deliver d;
	int r;

	memset(&d, 0, sizeof(d));
	d.t = t;
	d.in = d.out = d.pid = -1;
	if ((r = load(&d, ep)) == 0 && (r = arch(&d, ep)) == 0)
		r = run(&d, key, flags, cp, ep);
	dopy_bundle_free(&d.b);
	return r;
}
