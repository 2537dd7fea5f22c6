/*
 * main.c - the standard server options, so every server built on libdopy
 * takes the same ones: logging, limits, the listener, timeouts, keys.
 * With mainopt.c, the only code in libdopy that writes to the terminal:
 * -h, option errors and -B's port, before anything is served.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "server/server.h"
#include "tools/tools.h"

extern char **environ;

#define OPTSTRING	"Bc:C:de:EF:hI:i:k:l:L:M:m:n:N:p:P:R:r:S:st:T:u:vW:w:XY:"
/* DOPY_MAINOPT_MAX leaves 64 bytes for it. */
_Static_assert(sizeof(OPTSTRING) <= 64, "OPTSTRING outgrows DOPY_MAINOPT_MAX");

/* --help, the one long option: what users of every other tool try. */
static const struct option help_opt[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
usage(FILE *f, const char *prog, const struct dopy_option *own)
{
	int w = (int)strlen(prog);

	fprintf(f, "usage: %s [-BdEhsvX] [-C perpeer] [-c maxconn] "
	    "[-e eventdir]\n"
	    "       %*s [-F recording] [-I object.method[=grace]] [-i idle]\n"
	    "       %*s [-k keyfile] [-L logfile]"
	    " [-l address]\n"
	    "       %*s [-M object.method=sandbox] "
	    "[-m maxframe]\n"
	    "       %*s [-N namingdir] [-n name[=object]] [-P posdir] "
	    "[-p pidfile]\n"
	    "       %*s [-R refage] [-r maxrefs] [-S sandbox] [-T grace] "
	    "[-t handshake]\n"
	    "       %*s [-u user[:group]] [-W object.method] [-w send] "
	    "[-Y recording]\n",
	    prog, w, "", w, "", w, "", w, "", w, "", w, "");
	dopy_mainopt_usage(f, own, prog);
}

static void
help(const char *prog, const struct dopy_option *own)
{
	usage(stdout, prog, own);
	printf("Serve dopy objects on stdin/stdout, or listen with -l "
	    "(dopyd(8), dopy(5)).\n"
	    "  -B           print the bound port (or socket path) once "
	    "listening\n"
	    "  -C perpeer   at most perpeer connections from one address "
	    "(default: no cap)\n"
	    "  -c maxconn   at most maxconn connections at once "
	    "(default 64)\n"
	    "  -d           log to stderr instead of syslog\n"
	    "  -e dir       serve the event service over the event log in "
	    "dir\n"
	    "  -E           send errors without remote trace, host or pid\n"
	    "  -F recording answer every call from the recording "
	    "(dopy-replay(1)),\n"
	    "               not from this server's objects\n"
	    "  -h           show this help\n"
	    "  -I object.method[=grace]  run each call of the method in a "
	    "child process,\n"
	    "               killed grace ms (default 2000) after the call is "
	    "stopped\n"
	    "  -i idle      close a connection idle for idle seconds "
	    "(default: never)\n"
	    "  -k keyfile   require clients to prove they hold this shared "
	    "key\n"
	    "  -L logfile   log to logfile instead of syslog\n"
	    "  -l address   listen on [host:]port, [v6addr]:port or "
	    "unix:path; fork per connection\n"
	    "  -M object.method=sandbox  run the method isolated, each call "
	    "sandboxed\n"
	    "  -m maxframe  largest frame accepted, in bytes "
	    "(default %u, at least %u)\n"
	    "  -N dir       serve the naming service over the store dir\n"
	    "  -n name[=object]  once listening, bind name in $DOPY_NS to "
	    "this address\n"
	    "  -P dir       serve pos: values and persistent objects in dir\n"
	    "  -p pidfile   write the listener's pid to pidfile\n"
	    "  -R refage    reap objects by reference unused for refage "
	    "seconds (default: never)\n"
	    "  -r maxrefs   at most maxrefs objects by reference per "
	    "connection (default %u)\n"
	    "  -S sandbox   sandbox every connection after HELLO, e.g. "
	    "compute,cpu=10,as=256M\n"
	    "               (profiles compute readonly nonet; cpu as nofile "
	    "fsize nproc;\n"
	    "               nnp; read=path write=path)\n"
	    "  -s           serve all connections in this one process, one "
	    "call at a time\n"
	    "  -T grace     seconds connections get to finish on SIGTERM "
	    "(default 10)\n"
	    "  -t handshake seconds a client gets to complete HELLO "
	    "(default 20)\n"
	    "  -u user      switch to user[:group] after binding\n"
	    "  -v           log every frame, decoded as dopy-dump(1) prints "
	    "it (debug)\n"
	    "  -W object.method  record calls of the method (object.* for "
	    "all) without\n"
	    "               arguments or answers: secrets stay out of -Y\n"
	    "  -w send      close a connection that takes no reply bytes "
	    "for send seconds\n"
	    "               (default: the idle limit, else %d)\n"
	    "  -X           no crash reports: a fatal signal ends the server "
	    "as it would\n"
	    "               without dopy (for a debugger)\n"
	    "  -Y recording append every connection's frames to the file "
	    "recording\n"
	    "               (dopy-dump(1)); the object recorder starts and "
	    "stops it\n",
	    DOPY_FRAME_DEFAULT, DOPY_FRAME_MIN, DOPY_MAX_REFS,
	    DOPY_SEND_MS / 1000);
	dopy_mainopt_help(own, prog);
}

/* A number option, range-checked; returns -1 after printing why. */
static long long
number(const char *prog, int opt, const char *arg, long long min,
    long long max)
{
	const char *errstr;
	long long v;

	v = strtonum(arg, min, max, &errstr);
	if (errstr != NULL) {
		fprintf(stderr, "%s: -%c %s: %s\n", prog, opt, arg, errstr);
		return -1;
	}
	return v;
}

/* The most dopy-idl(5) takes too: more would be a typo. */
#define GRACE_MAX	3600000

struct opts {
	enum dopy_log_sink	 sink;
	const char		*logfile;
	const char		*keyfile;
	const char		*naming, *pos, *events;
	const char		**isolate;	/* -I, as given */
	size_t			 nisolate;
	const char		**msandbox;	/* -M, as given */
	size_t			 nmsandbox;
	const char		*sandbox;	/* -S */
	const char		*record;	/* -Y */
	const char		*fake;		/* -F */
	const char		**omit;		/* -W, as given */
	size_t			 nomit;
	int			 verbose;
	const struct dopy_option *own;	/* the program's options */
	char			 optstring[DOPY_MAINOPT_MAX];
};

/* spec onto a list of them (-I, -M); -1 without memory. */
static int
spec_add(const char ***list, size_t *n, const char *spec)
{
	const char **v;

	if ((v = reallocarray(*list, *n + 1, sizeof(*v))) == NULL)
		return -1;
	*list = v;
	v[(*n)++] = spec;
	return 0;
}

/* -I OBJECT.METHOD[=GRACE], the method's name after the last dot (an
 * object's may hold one); 0, or 2 after saying why not. */
static int
isolate_one(dopy_server *s, const char *spec, const char *prog)
{
	char name[512], *dot, *eq;
	const char *errstr = NULL;
	long long grace = 0;

	if (strlcpy(name, spec, sizeof(name)) >= sizeof(name))
		errstr = "too long";
	else if ((eq = strchr(name, '=')) != NULL) {
		*eq = '\0';
		grace = strtonum(eq + 1, 1, GRACE_MAX, &errstr);
		if (errstr != NULL) {
			fprintf(stderr, "%s: -I %s: grace %s: %s (want 1 to "
			    "%d ms)\n", prog, spec, eq + 1, errstr, GRACE_MAX);
			return 2;
		}
	}
	if (errstr == NULL && ((dot = strrchr(name, '.')) == NULL ||
	    dot == name || dot[1] == '\0'))
		errstr = "want object.method[=grace]";
	if (errstr != NULL) {
		fprintf(stderr, "%s: -I %s: %s\n", prog, spec, errstr);
		return 2;
	}
	*dot = '\0';
	if (dopy_server_set_isolated(s, name, dot + 1, (int)grace) < 0) {
		fprintf(stderr, "%s: -I %s: %s\n", prog, spec,
		    dopy_server_errmsg(s));
		return 2;
	}
	return 0;
}

/*
 * Once every object is there, the services of -N, -P and -e too: an
 * object or method that is not is a mistake to tell at start, not at
 * the first call.
 */
static int
isolate_all(dopy_server *s, struct opts *o, const char *prog)
{
	size_t i;
	int r = 0;

	for (i = 0; i < o->nisolate && r == 0; i++)
		r = isolate_one(s, o->isolate[i], prog);
	return r;
}

static int
parse(dopy_server *s, struct opts *o, int argc, char *argv[],
    const char *prog)
{
	struct dopy_listen_opts *l = &s->lopt;
	long long v = 0;
	int ch, r;

	optind = 1;
	/* No options, the usual case under inetd or sshd: getopt_long
	 * would only fault in its code and read POSIXLY_CORRECT. */
	if (argc == 1)
		return 0;
	while ((ch = getopt_long(argc, argv, o->optstring, help_opt,
	    NULL)) != -1) {
		switch (ch) {
		case 'B': l->announce = 1; break;
		case 'c': v = number(prog, ch, optarg, 1, 100000);
			l->maxconn = (unsigned)v;
			break;
		case 'C': v = number(prog, ch, optarg, 1, 100000);
			l->perpeer = (unsigned)v;
			break;
		case 'd': o->sink = DOPY_LOG_STDERR; break;
		case 'e': o->events = optarg; break;
		case 'E': dopy_server_set_traces(s, 0); break;
		case 'F': o->fake = optarg; break;
		case 'n': if (dopy_register_add(s, optarg) < 0) {
				fprintf(stderr, "%s: -n %s: want NAME or "
				    "NAME=OBJECT, NAME up to 255 bytes\n", prog,
				    optarg);
				return 2;
			}
			break;
		case 'h': help(prog, o->own); return 1;
		case 'I': if (spec_add(&o->isolate, &o->nisolate,
			    optarg) < 0) {
				fprintf(stderr, "%s: out of memory\n", prog);
				return 2;
			}
			break;
		case 'i': v = number(prog, ch, optarg, 1, 86400);
			s->idle_ms = (int)v * 1000;
			break;
		case 'k': o->keyfile = optarg; break;
		case 'l': l->addr = optarg; break;
		case 'L': o->sink = DOPY_LOG_FILE;
			o->logfile = optarg;
			break;
		case 'M': if (spec_add(&o->msandbox, &o->nmsandbox,
			    optarg) < 0) {
				fprintf(stderr, "%s: out of memory\n", prog);
				return 2;
			}
			break;
		case 'm': v = number(prog, ch, optarg, DOPY_FRAME_MIN,
			    UINT32_MAX);
			dopy_server_set_max_frame(s, (uint32_t)v);
			break;
		case 'N': o->naming = optarg; break;
		case 'p': l->pidfile = optarg; break;
		case 'P': o->pos = optarg; break;
		case 'R': v = number(prog, ch, optarg, 1, 86400);
			dopy_server_set_ref_age(s, (int)v * 1000);
			break;
		case 'r': v = number(prog, ch, optarg, 1, 10000000);
			dopy_server_set_max_refs(s, (unsigned)v);
			break;
		case 'S': o->sandbox = optarg; break;
		case 's': l->single = 1; break;
		case 'T': v = number(prog, ch, optarg, 0, 3600);
			l->grace = (int)v;
			break;
		case 't': v = number(prog, ch, optarg, 1, 3600);
			s->handshake_ms = (int)v * 1000;
			break;
		case 'u': l->user = optarg; break;
		case 'v': o->verbose = 1; break;
		case 'W': if (spec_add(&o->omit, &o->nomit, optarg) < 0) {
				fprintf(stderr, "%s: out of memory\n", prog);
				return 2;
			}
			break;
		case 'Y': o->record = optarg; break;
		case 'w': v = number(prog, ch, optarg, 1, 86400);
			s->send_ms = (int)v * 1000;
			break;
		case 'X': dopy_server_set_crash_reports(s, 0); break;
		default: if ((r = dopy_mainopt_set(o->own, ch, optarg,
			    prog)) < 0)
				usage(stderr, prog, o->own);
			if (r != 0)
				return 2;
			break;
		}
		if (v < 0)
			return 2;
	}
	if (optind != argc) {
		usage(stderr, prog, o->own);
		return 2;
	}
	return 0;
}

/* -M OBJECT.METHOD=SPEC (the method's name after the last dot before
 * the '='): 0, or 2 after saying why not. */
static int
msandbox_one(dopy_server *s, const char *arg, const char *prog)
{
	char name[512], *dot, *eq = NULL;

	if (strlcpy(name, arg, sizeof(name)) >= sizeof(name) ||
	    (eq = strchr(name, '=')) == NULL ||
	    (*eq = '\0', (dot = strrchr(name, '.')) == NULL) ||
	    dot == name || dot[1] == '\0') {
		fprintf(stderr, "%s: -M %s: want object.method=sandbox\n",
		    prog, arg);
		return 2;
	}
	*dot = '\0';
	if (dopy_server_set_sandbox(s, name, dot + 1, eq + 1) < 0) {
		fprintf(stderr, "%s: -M %s: %s\n", prog, arg,
		    dopy_server_errmsg(s));
		return 2;
	}
	return 0;
}

/* -S and -M once the objects are there, and what cannot work with the
 * other options refused at start. */
static int
sandbox_all(dopy_server *s, struct opts *o, const char *prog)
{
	size_t i;
	int r = 0;

	for (i = 0; i < o->nmsandbox && r == 0; i++)
		r = msandbox_one(s, o->msandbox[i], prog);
	if (r != 0)
		return r;
	if ((o->sandbox != NULL &&
	    dopy_server_set_sandbox(s, NULL, NULL, o->sandbox) < 0) ||
	    dopy_sandbox_check(s, s->lopt.single, o->naming != NULL ||
	    o->pos != NULL || o->events != NULL,
	    o->sink == DOPY_LOG_FILE) < 0) {
		fprintf(stderr, "%s: -S %s: %s\n", prog, o->sandbox != NULL ?
		    o->sandbox : "", dopy_server_errmsg(s));
		return 2;
	}
	return 0;
}

/* -W OBJECT.METHOD (the method after the last dot; "*": all of the
 * object's) and -Y: 0, or 2 after saying why not. */
static int
record_all(dopy_server *s, struct opts *o, const char *prog)
{
	char name[512], *dot;
	size_t i;
	int r;

	if (o->nomit > 0 && o->record == NULL) {
		fprintf(stderr, "%s: -W leaves calls out of a recording: it "
		    "needs -Y\n", prog);
		return 2;
	}
	for (i = 0; i < o->nomit; i++) {
		if (strlcpy(name, o->omit[i], sizeof(name)) >= sizeof(name) ||
		    (dot = strrchr(name, '.')) == NULL || dot == name ||
		    dot[1] == '\0' || (*dot = '\0', dopy_server_record_omit(s,
		    name, strcmp(dot + 1, "*") == 0 ? NULL : dot + 1) < 0)) {
			fprintf(stderr, "%s: -W %s: want object.method or "
			    "object.*\n", prog, o->omit[i]);
			return 2;
		}
	}
	if (o->record != NULL &&
	    (r = dopy_server_record(s, o->record)) < 0) {
		fprintf(stderr, "%s: -Y %s: %s\n", prog, o->record,
		    r == DOPY_E_INVAL ? "not a dopy recording" :
		    strerror(errno));
		return 2;
	}
	return 0;
}

/* -F: 0, or 2 after saying why not. */
static int
fake_from(dopy_server *s, const char *path, const char *prog)
{
	int r;

	if (path == NULL || (r = dopy_server_fake(s, path)) == 0)
		return 0;
	fprintf(stderr, "%s: -F %s: %s\n", prog, path, r == DOPY_E_INVAL ?
	    "not a dopy recording" : r == DOPY_E_SYS ? strerror(errno) :
	    dopy_strerror(r));
	return 2;
}

/* What the options make before anything is served: 0, or 2 after
 * saying what is wrong. */
static int
set_up(dopy_server *s, struct opts *o, const char *prog)
{
	int r;

	if (dopy_server_set_log(s, o->sink, o->logfile, o->verbose) < 0) {
		fprintf(stderr, "%s: cannot open log %s: %s\n", prog,
		    o->logfile ? o->logfile : "stderr", strerror(errno));
		return 2;
	}
	if ((o->keyfile != NULL &&
	    dopy_server_set_key_file(s, o->keyfile) < 0) ||
	    (o->naming != NULL && dopy_server_add_naming(s, o->naming) < 0) ||
	    (o->pos != NULL && dopy_server_add_pos(s, o->pos) < 0) ||
	    (o->events != NULL && dopy_server_add_events(s, o->events) < 0)) {
		fprintf(stderr, "%s: %s\n", prog, dopy_server_errmsg(s));
		return 2;
	}
	if ((r = isolate_all(s, o, prog)) != 0 ||
	    (r = record_all(s, o, prog)) != 0 ||
	    (r = fake_from(s, o->fake, prog)) != 0)
		return r;
	return sandbox_all(s, o, prog);
}

/* Options that mean nothing to a server of one stdio connection. */
static int
listener_only(const struct dopy_listen_opts *l)
{
	return l->announce || l->perpeer || l->maxconn != 64 ||
	    l->pidfile != NULL || l->single || l->grace != 10 ||
	    l->user != NULL || l->nnames > 0;
}

int
dopy_is_listening(int fd)
{
	int on = 0;
	socklen_t len = sizeof(on);

	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 &&
	    on;
}

/* stdin/stdout, or a connection systemd passed as fd 3 (Accept=yes). */
static int
serve_stdio(dopy_server *s)
{
	int in, out, r, fds[1];

	if (dopy_systemd_fds(fds, 1) == 1) {
		/* StandardOutput=socket puts the connection on fd 1 too. */
		if (dopy_stdio_away(s, fds[0], fds[0]) < 0)
			dopy_log(&s->log, LOG_ERR, "cannot guard stdio: %m");
		r = dopy_server_serve(s, fds[0], fds[0]);
		close(fds[0]);
		return r == 0 ? 0 : 1;
	}
	if ((r = dopy_stdio_guard(s, &in, &out)) < 0) {
		dopy_log(&s->log, LOG_ERR, "cannot set up stdio: %s",
		    dopy_strerror(r));
		return 1;
	}
	r = dopy_server_serve(s, in, out);
	close(in);
	close(out);
	return r == 0 ? 0 : 1;
}

/*
 * The environment in one allocation, for setproctitle_init(3): libbsd
 * moves the variables out of the area the title will overwrite with a
 * setenv(3) each, which copies the array every time (90k instructions
 * for 40 variables, at every exec under inetd), unless environ has
 * moved already.  NULL without memory: libbsd then copies it its way.
 */
static char **
env_copy(void)
{
	size_t n, len = 0, i;
	char **env, *p;

	for (n = 0; environ[n] != NULL; n++)
		len += strlen(environ[n]) + 1;
	if ((env = malloc((n + 1) * sizeof(*env) + len)) == NULL)
		return NULL;
	p = (char *)(env + n + 1);
	for (i = 0; i < n; i++) {
		env[i] = p;
		p = stpcpy(p, environ[i]) + 1;
	}
	env[n] = NULL;
	return env;
}

int
dopy_main(dopy_server *s, int argc, char *argv[])
{
	return dopy_main_opts(s, argc, argv, NULL);
}

int
dopy_main_opts(dopy_server *s, int argc, char *argv[],
    const struct dopy_option *own)
{
	struct opts o = { .sink = DOPY_LOG_SYSLOG, .own = own };
	const char *prog;
	int r, child;

	/* libbsd moves argv and environ so ps(1) can show the peer and the
	 * current method; it must happen before anything reads them. */
	if (argc > 0 && argv[0] != NULL) {
		char **env = environ, **copy = env_copy();

		if (copy != NULL)
			environ = copy;
		setproctitle_init(argc, argv, env);
		s->proctitle = 1;
	}
	prog = getprogname() != NULL ? getprogname() : "dopy";
	strlcpy(s->log.ident, prog, sizeof(s->log.ident));
	if (dopy_mainopt_merge(own, OPTSTRING, o.optstring,
	    sizeof(o.optstring), prog) < 0)
		return 2;
	if ((r = parse(s, &o, argc, argv, prog)) == 0)
		r = set_up(s, &o, prog);
	free(o.isolate);
	free(o.msandbox);
	free(o.omit);
	if (r != 0)
		return r == 1 ? 0 : r;
	/* A listening socket may come from systemd (Accept=no, fd 3) or
	 * as stdin (inetd "wait", systemd with StandardInput=socket). */
	if (s->lopt.addr == NULL && !(getenv("LISTEN_FDS") != NULL &&
	    dopy_is_listening(3)) && !dopy_is_listening(STDIN_FILENO)) {
		/* dopyd(8): they have no effect here, so that one
		 * inetd.conf or unit line serves under either launcher. */
		if (listener_only(&s->lopt))
			dopy_log(&s->log, LOG_DEBUG, "serving stdin/stdout: "
			    "the listener options -B -C -c -n -p -s -T -u are "
			    "ignored");
		if (isatty(STDIN_FILENO) && (r = dopy_tty_console(prog)) >= 0)
			return r;
		return serve_stdio(s);
	}
	r = dopy_listen_run(s, &child);
	if (child)
		return r;
	return r == 0 ? 0 : (r == DOPY_E_USAGE ? 2 : 1);
}
