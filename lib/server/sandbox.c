/*
 * sandbox.c - what a connection process, or an isolated call's child,
 * may do (dopy_server_set_sandbox; dopy(7): Sandboxes).  A spec is
 * parsed once, at start, so that a typo is an error before anything is
 * served; it is applied after the HELLO exchange (serve.c), so the
 * protocol itself keeps working, or in an isolated call's child before
 * the method runs (isolate.c).  The seccomp filter and the Landlock
 * rules are sbxfilter.c's.
 *
 * A violation kills the process with a signal (SIGSYS, SIGXCPU,
 * SIGXFSZ) rather than failing a system call, so that it is reported
 * by name, not mistaken for an ordinary error.  What a crash reporter
 * needs to say which limit that was is made at apply time, in static
 * memory, and read in the handler without locks or allocation
 * (dopy_sandbox_describe).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <syslog.h>

#include "server/server.h"

enum { SECONDS, SIZE, COUNT };

static const struct limit {
	const char	*name;
	int		 res;
	int		 kind;
	uint64_t	 min, max;
	const char	*what;
} limits[DOPY_SBX_NLIMITS] = {
	[DOPY_SBX_CPU] = { "cpu", RLIMIT_CPU, SECONDS, 1, 31536000,
	    "CPU time limit" },
	[DOPY_SBX_AS] = { "as", RLIMIT_AS, SIZE, 1 << 20, 1ULL << 50,
	    "address-space limit" },
	[DOPY_SBX_NOFILE] = { "nofile", RLIMIT_NOFILE, COUNT, 0, 1 << 20,
	    "open-file limit" },
	[DOPY_SBX_FSIZE] = { "fsize", RLIMIT_FSIZE, SIZE, 0, 1ULL << 50,
	    "file-size limit" },
	[DOPY_SBX_NPROC] = { "nproc", RLIMIT_NPROC, COUNT, 0, 1 << 22,
	    "process limit" },
};

static const struct profile {
	const char	*name;
	unsigned	 bit;
} profiles[] = {
	{ "compute", DOPY_SBX_COMPUTE },
	{ "readonly", DOPY_SBX_READONLY },
	{ "nonet", DOPY_SBX_NONET },
};
#define NPROFILES	(sizeof(profiles) / sizeof(profiles[0]))

/* "256M": a number with an optional K, M or G (powers of 1024). */
static int
parse_size(const char *s, uint64_t *v)
{
	unsigned long long n;
	char *end;
	int shift = 0;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	}
	if (*end != '\0' || n > (UINT64_MAX >> shift))
		return -1;
	*v = (uint64_t)n << shift;
	return 0;
}

static int
parse_limit(struct dopy_sandbox *b, const char *key, const char *val,
    char *err, size_t errlen)
{
	const struct limit *l;
	const char *errstr = NULL;
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < DOPY_SBX_NLIMITS; i++)
		if (strcmp(limits[i].name, key) == 0)
			break;
	if (i == DOPY_SBX_NLIMITS) {
		snprintf(err, errlen, "unknown limit '%s' (want cpu, as, "
		    "nofile, fsize, nproc, read or write)", key);
		return DOPY_E_USAGE;
	}
	l = &limits[i];
	if (b->limset & (1u << i))
		errstr = "given twice";
	else if (l->kind == SIZE ? parse_size(val, &v) < 0 :
	    (v = (uint64_t)strtonum(val, 0, (long long)l->max, &errstr),
	    errstr != NULL))
		errstr = l->kind == SIZE ? "want a number, then K, M or G" :
		    "want a number";
	else if (v < l->min || v > l->max)
		errstr = v < l->min ? "too small" : "too large";
	if (errstr != NULL) {
		snprintf(err, errlen, "%s=%s: %s", key, val, errstr);
		return DOPY_E_USAGE;
	}
	b->limset |= 1u << i;
	b->lim[i] = v;
	return 0;
}

/* read=PATH or write=PATH: a Landlock rule on a path that is there. */
static int
parse_path(struct dopy_sandbox *b, const char *key, const char *path,
    char *err, size_t errlen)
{
	int w = strcmp(key, "write") == 0;
	size_t *n = w ? &b->nwrite : &b->nread;
	struct stat st;

	if (path[0] != '/') {
		snprintf(err, errlen, "%s=%s: want an absolute path", key, path);
		return DOPY_E_USAGE;
	}
	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "%s=%s: %s", key, path, strerror(errno));
		return DOPY_E_USAGE;
	}
	if (*n == DOPY_SBX_PATHS) {
		snprintf(err, errlen, "more than %d %s= rules", DOPY_SBX_PATHS,
		    key);
		return DOPY_E_USAGE;
	}
	(w ? b->write : b->read)[(*n)++] = path;
	b->nnp = 1;		/* Landlock wants it of the unprivileged */
	return 0;
}

static int
parse_word(struct dopy_sandbox *b, char *w, char *err, size_t errlen)
{
	char *eq = strchr(w, '=');
	size_t i;

	if (*w == '\0') {
		snprintf(err, errlen, "an empty item");
		return DOPY_E_USAGE;
	}
	if (eq != NULL) {
		*eq = '\0';
		if (strcmp(w, "read") == 0 || strcmp(w, "write") == 0)
			return parse_path(b, w, eq + 1, err, errlen);
		return parse_limit(b, w, eq + 1, err, errlen);
	}
	if (strcmp(w, "nnp") == 0) {
		b->nnp = 1;
		return 0;
	}
	for (i = 0; i < NPROFILES; i++)
		if (strcmp(profiles[i].name, w) == 0) {
			b->profiles |= profiles[i].bit;
			b->nnp = 1;	/* seccomp wants it too */
			return 0;
		}
	snprintf(err, errlen, "unknown profile '%s' (want compute, readonly, "
	    "nonet, nnp or a limit such as cpu=10)", w);
	return DOPY_E_USAGE;
}

int
dopy_sandbox_parse(struct dopy_sandbox *b, const char *spec, char *err,
    size_t errlen)
{
	char *w, *next;
	int r = 0;

	memset(b, 0, sizeof(*b));
	if (strlcpy(b->spec, spec, sizeof(b->spec)) >= sizeof(b->spec)) {
		snprintf(err, errlen, "longer than %d bytes", DOPY_SBX_SPEC - 1);
		return DOPY_E_USAGE;
	}
	strlcpy(b->words, spec, sizeof(b->words));
	for (w = b->words; r == 0 && w != NULL; w = next) {
		if ((next = strchr(w, ',')) != NULL)
			*next++ = '\0';
		r = parse_word(b, w, err, errlen);
	}
#if defined(__SANITIZE_ADDRESS__)
	/* Its shadow memory is terabytes of address space, mapped already:
	 * every later mapping would fail, the sanitizer's own first. */
	if (r == 0 && (b->limset & (1u << DOPY_SBX_AS))) {
		snprintf(err, errlen, "as=: cannot work under "
		    "AddressSanitizer, which reserves terabytes of address "
		    "space");
		r = DOPY_E_USAGE;
	}
#endif
	return r;
}

/* ---- what a violation means ---- */

/* "256 MiB", or the bytes when not a round number. */
static void
fmt_size(uint64_t v, char *buf, size_t len)
{
	static const char *const unit[] = { "GiB", "MiB", "KiB" };
	int i;

	for (i = 0; i < 3; i++)
		if (v != 0 && v % (1ULL << (30 - 10 * i)) == 0) {
			snprintf(buf, len, "%llu %s", (unsigned long long)(v >>
			    (30 - 10 * i)), unit[i]);
			return;
		}
	snprintf(buf, len, "%llu bytes", (unsigned long long)v);
}

static void
limit_text(const struct dopy_sandbox *b, int i, const char *pre,
    uint64_t extra, char *buf, size_t len)
{
	const struct limit *l = &limits[i];
	char v[32];

	if (l->kind == SIZE)
		fmt_size(b->lim[i], v, sizeof(v));
	else if (l->kind == SECONDS)
		snprintf(v, sizeof(v), "%llu s", (unsigned long long)(b->lim[i] +
		    extra));
	else
		snprintf(v, sizeof(v), "%llu", (unsigned long long)b->lim[i]);
	snprintf(buf, len, "%s%s of %s (sandbox %s)", pre, l->what, v,
	    b->spec);
}

void
dopy_sandbox_explain(const struct dopy_sandbox *b, int sig, char *buf,
    size_t len)
{
	unsigned set = b != NULL ? b->limset : 0;

	*buf = '\0';
	if (b == NULL)
		return;
	if (sig == SIGSYS && b->profiles != 0)
		snprintf(buf, len, "a system call that the sandbox blocks "
		    "(sandbox %s)", b->spec);
	else if (sig == SIGXCPU && (set & (1u << DOPY_SBX_CPU)))
		limit_text(b, DOPY_SBX_CPU, "the ", 0, buf, len);
	else if (sig == SIGKILL && (set & (1u << DOPY_SBX_CPU)))
		limit_text(b, DOPY_SBX_CPU, "perhaps the hard ", 1, buf, len);
	else if (sig == SIGXFSZ && (set & (1u << DOPY_SBX_FSIZE)))
		limit_text(b, DOPY_SBX_FSIZE, "the ", 0, buf, len);
	else if ((sig == SIGSEGV || sig == SIGBUS) &&
	    (set & (1u << DOPY_SBX_AS)))
		limit_text(b, DOPY_SBX_AS, "perhaps the ", 0, buf, len);
}

/* Made at apply time for the crash reporter's signal handler. */
static const int described[] = { SIGSYS, SIGXCPU, SIGXFSZ, SIGSEGV,
    SIGBUS };
#define NDESCRIBED	(sizeof(described) / sizeof(described[0]))
static char description[NDESCRIBED][DOPY_SBX_SPEC + 80];
static uint64_t active_as;	/* as= in force here, 0: none */
static char active_spec[DOPY_SBX_SPEC];

size_t
dopy_sandbox_describe(int sig, char *buf, size_t len)
{
	const char *d = NULL;
	size_t i, n;

	for (i = 0; i < NDESCRIBED; i++)
		if (described[i] == sig)
			d = description[i];
	if (d == NULL || *d == '\0' || len == 0)
		return 0;
	/* By hand: strlcpy is not on the async-signal-safe list. */
	for (n = 0; n + 1 < len && d[n] != '\0'; n++)
		buf[n] = d[n];
	buf[n] = '\0';
	return n;
}

int
dopy_call_raise_nomem(dopy_call *c, size_t size)
{
	char lim[32];

	if (active_as == 0)
		return dopy_call_fail(c, "dopy.NoMemory", "cannot allocate "
		    "%zu bytes: out of memory", size);
	fmt_size(active_as, lim, sizeof(lim));
	return dopy_call_fail(c, "dopy.NoMemory", "cannot allocate %zu "
	    "bytes: the address-space limit of %s (sandbox %s)", size, lim,
	    active_spec);
}

/* ---- applying one ---- */

static int
set_limits(const struct dopy_sandbox *b, char *err, size_t errlen)
{
	struct rlimit rl;
	size_t i;

	for (i = 0; i < DOPY_SBX_NLIMITS; i++) {
		if (!(b->limset & (1u << i)))
			continue;
		/* One second past the soft CPU limit (SIGXCPU), SIGKILL:
		 * a method that catches SIGXCPU still ends. */
		rl.rlim_cur = b->lim[i];
		rl.rlim_max = b->lim[i] + (i == DOPY_SBX_CPU);
		if (setrlimit(limits[i].res, &rl) < 0) {
			snprintf(err, errlen, "setrlimit %s=%llu: %s",
			    limits[i].name, (unsigned long long)b->lim[i],
			    strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void
prepare(const struct dopy_sandbox *b)
{
	size_t i;

	for (i = 0; i < NDESCRIBED; i++)
		dopy_sandbox_explain(b, described[i], description[i],
		    sizeof(description[i]));
	active_as = (b->limset & (1u << DOPY_SBX_AS)) ? b->lim[DOPY_SBX_AS] :
	    0;
	strlcpy(active_spec, b->spec, sizeof(active_spec));
}

/*
 * Limits first, then Landlock, then the filter, which forbids raising
 * limits again.  no_new_privs is set first: seccomp and Landlock need
 * it of an unprivileged process, and after a failure halfway the
 * caller ends the process anyway.
 */
int
dopy_sandbox_apply(dopy_server *s, const struct dopy_sandbox *b,
    char *err, size_t errlen)
{
	static int warned;
	int r;

	prepare(b);
	if (b->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
		return DOPY_E_SYS;
	}
	if (set_limits(b, err, errlen) < 0)
		return DOPY_E_SYS;
	if ((r = dopy_sbx_landlock(b, err, errlen)) < 0)
		return DOPY_E_SYS;
	if (r == 1 && !warned++)
		dopy_log(&s->log, LOG_WARNING, "sandbox %s: this kernel has no "
		    "Landlock: its read= and write= rules are not enforced",
		    b->spec);
	if (dopy_sbx_seccomp(b, err, errlen) < 0)
		return DOPY_E_SYS;
	return 0;
}

const struct dopy_sandbox *
dopy_sandbox_of(const dopy_call *c)
{
	const struct dopy_object *o = c->obj;

	if (o == NULL || o->sandbox == NULL || c->midx >= o->nisolated)
		return NULL;
	return o->sandbox[c->midx];
}

int
dopy_sandbox_enter_call(dopy_call *c)
{
	const struct dopy_sandbox *b = dopy_sandbox_of(c);
	char err[256];

	if (b == NULL || dopy_sandbox_apply(c->srv, b, err, sizeof(err)) == 0)
		return 1;
	dopy_call_fail(c, "dopy.SandboxError", "%s.%s: cannot apply the "
	    "sandbox %s: %s", dopy_call_object(c), dopy_call_method(c),
	    b->spec, err);
	return 0;
}

/* ---- declaring them ---- */

static int
set_method(dopy_server *s, const char *object, const char *method,
    struct dopy_sandbox *b)
{
	struct dopy_object *o;
	size_t i;
	int r;

	if ((r = dopy_server_method(s, object, method, &o, &i)) < 0)
		return r;
	if ((o->isolated == NULL || o->isolated[i] == 0) &&
	    (r = dopy_server_set_isolated(s, object, method, 0)) < 0)
		return r;
	/* set_isolated sized isolated to nmethods: sandbox follows it. */
	if (o->sandbox == NULL) {
		if ((o->sandbox = calloc(o->nisolated,
		    sizeof(*o->sandbox))) == NULL ||
		    dopy_server_own(s, o->sandbox, free) < 0)
			return dopy_server_fail(s, "out of memory");
	}
	o->sandbox[i] = b;
	return 0;
}

int
dopy_server_set_sandbox(dopy_server *s, const char *object,
    const char *method, const char *spec)
{
	struct dopy_sandbox *b;
	char err[256];

	if (s == NULL || spec == NULL || (object == NULL) != (method == NULL))
		return DOPY_E_INVAL;
	if ((b = malloc(sizeof(*b))) == NULL ||
	    dopy_server_own(s, b, free) < 0)
		return dopy_server_fail(s, "out of memory");
	if (dopy_sandbox_parse(b, spec, err, sizeof(err)) < 0)
		return dopy_server_fail(s, "%s", err);
	if ((b->nread > 0 || b->nwrite > 0) && dopy_sbx_landlock_abi() == 0)
		dopy_log(&s->log, LOG_WARNING, "sandbox %s: this kernel has no "
		    "Landlock: its read= and write= rules will not be "
		    "enforced", spec);
	if (object != NULL)
		return set_method(s, object, method, b);
	s->sandbox = b;
	return dopy_sandbox_check(s, 0, 0, 0);
}

/* ---- what cannot work together ---- */

/* Whether b stops the isolated calls' fork. */
static int
no_fork(const struct dopy_sandbox *b)
{
	return (b->limset & (1u << DOPY_SBX_NPROC)) &&
	    b->lim[DOPY_SBX_NPROC] == 0;
}

/* The first isolated method, "object.method" in buf, and whether one
 * has a sandbox with limits (*limited); NULL: none. */
static const char *
isolated_method(const dopy_server *s, char *buf, size_t len, int *limited)
{
	const struct dopy_object *o;
	const char *first = NULL;
	size_t i, j;

	*limited = 0;
	for (i = 0; i < s->nobjs; i++) {
		o = &s->objs[i];
		for (j = 0; o->isolated != NULL && j < o->nisolated; j++) {
			if (o->isolated[j] == 0)
				continue;
			if (first == NULL) {
				snprintf(buf, len, "%s.%s", o->def->name,
				    o->def->methods[j].name);
				first = buf;
			}
			if (o->sandbox != NULL && o->sandbox[j] != NULL &&
			    o->sandbox[j]->limset != 0)
				*limited = 1;
		}
	}
	return first;
}

int
dopy_sandbox_check(dopy_server *s, int single, int stores, int logfile)
{
	const struct dopy_sandbox *b = s->sandbox;
	const char *iso;
	char name[128];
	int limited;

	if (b == NULL)
		return 0;
	iso = isolated_method(s, name, sizeof(name), &limited);
	if (single)
		return dopy_server_fail(s, "a connection sandbox cannot work in "
		    "-s mode, where one process serves every connection: "
		    "sandbox methods instead");
	if (iso != NULL && no_fork(b))
		return dopy_server_fail(s, "nproc=0 forbids the fork of "
		    "isolated methods (%s)", iso);
	if (limited && b->limset != 0)
		return dopy_server_fail(s, "a method's limits cannot be set "
		    "under the connection's limits, which may not be raised");
	if (stores && (b->profiles & (DOPY_SBX_COMPUTE | DOPY_SBX_READONLY)))
		return dopy_server_fail(s, "the compute and readonly profiles "
		    "forbid the files of the -N, -P and -e stores");
	if (logfile && (b->limset & (1u << DOPY_SBX_FSIZE)))
		return dopy_server_fail(s, "fsize= would end the connection once "
		    "the log file (-L) grows past it");
	return 0;
}
