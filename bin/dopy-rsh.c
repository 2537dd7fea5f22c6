/*
 * dopy-rsh - call a method of a dopy server from the shell.
 *
 * With no object, list the server's objects; with an object, its
 * methods; with a method, call it.  Arguments are converted against the
 * signature the server describes, so "2" is an int where the method
 * wants one and a string where it wants a string.  With -b it reads
 * calls from standard input, one a line, sends them pipelined over one
 * connection and prints one line per call, in input order.  With -i,
 * or on a terminal with no object, it opens a console (rsh_console.c).
 */
#include <err.h>
#include <fcntl.h>
#include <limits.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dopy.h"
#include "rsh.h"
#include "rsh_console.h"

/* --help, what users of every other tool try, and --graceful. */
#define OPT_GRACEFUL	256
#define OPT_JSON	257
#define OPT_PROMPT	258
#define OPT_INTERFACE	259
#define OPT_DEADLINE	260
#define OPT_DELIVER	261
static const struct option long_opts[] = {
	{ "deadline", required_argument, NULL, OPT_DEADLINE },
	{ "deliver", required_argument, NULL, OPT_DELIVER },
	{ "graceful", required_argument, NULL, OPT_GRACEFUL },
	{ "help", no_argument, NULL, 'h' },
	{ "interface", no_argument, NULL, OPT_INTERFACE },
	{ "json", optional_argument, NULL, OPT_JSON },
	{ "prompt", required_argument, NULL, OPT_PROMPT },
	{ NULL, 0, NULL, 0 }
};

/* As the man page's SYNOPSIS renders. */
static void
print_usage(FILE *fp)
{
	int pad = 8 + (int)strlen(getprogname());

	fprintf(fp,
	    "usage: %s [-hjov] [--deadline=ms] [--deliver=program] "
	    "[--graceful=error]\n"
	    "%*s[--json=mode] [-k keyfile] [-t timeout] target [object "
	    "[method\n"
	    "%*s[arg | name=value ...]]]\n"
	    "       %s -b [-jv] [--deadline=ms] [--deliver=program] "
	    "[--graceful=error]\n"
	    "%*s[--json=mode] [-k keyfile] [-t timeout] target [object]\n"
	    "       %s -i [-jv] [--deadline=ms] [--deliver=program] "
	    "[--json=mode]\n"
	    "%*s[--prompt=text] [-k keyfile] [-t timeout] target\n"
	    "       %s [-jv] [--deliver=program] [--json=mode] [-k keyfile] "
	    "[-t timeout]\n%*starget object --interface\n",
	    getprogname(), pad, "", pad, "", getprogname(), pad, "",
	    getprogname(), pad, "", getprogname(), pad, "");
}

static void __attribute__((noreturn))
usage(int status)
{
	print_usage(status == 0 ? stdout : stderr);
	exit(status);
}

/* -h: what the man page says first, for a user at the prompt. */
static void __attribute__((noreturn))
help(void)
{
	print_usage(stdout);
	fputs("\n"
	    "List a dopy server's objects, describe an object's methods, "
	    "or call one.\n"
	    "\n"
	    "Options:\n"
	    "  -b          batch mode: calls from standard input, one a "
	    "line\n"
	    "  --deadline=ms\n"
	    "              give up on a call not answered within ms "
	    "milliseconds, and\n"
	    "              tell the server, which stops it\n"
	    "  --deliver=program\n"
	    "              send program (a server such as dopyd) and "
	    "its libraries\n"
	    "              over an ssh:// target, cached there, and run "
	    "it\n"
	    "  --graceful=error\n"
	    "              exit 0 when the server answers with the error "
	    "named error\n"
	    "  -h, --help  print this help and exit\n"
	    "  -i          a console: calls typed one a line (on a pipe: a "
	    "script)\n"
	    "  --interface print the object's interface text (dopy-idl(5)); "
	    "it may also\n"
	    "              follow the object\n"
	    "  -j          print every output as JSON (indented on a "
	    "terminal)\n"
	    "  --json=mode as -j, mode short (one line) or pretty "
	    "(indented)\n"
	    "  -k keyfile  authenticate both ways with the shared key in "
	    "keyfile\n"
	    "  -o          send the call oneway: exit once it is sent, "
	    "print nothing\n"
	    "  --prompt=text\n"
	    "              with -i, the prompt is \"dopy text> \"\n"
	    "  -t timeout  give up on a call silent for timeout seconds "
	    "(1 to 86400)\n"
	    "  -v          trace every frame to standard error, decoded "
	    "(dopy-dump(1))\n"
	    "\n"
	    "Targets:\n"
	    "  tcp://host:port[/object]  or  tcp:host:port[:object]\n"
	    "  unix:path[#object]\n"
	    "  ssh://[user@]host[:port][/command][#object]\n"
	    "  name:name                 an object bound in the naming "
	    "service of $DOPY_NS\n"
	    "  exec:command              a command run with pipes to it; "
	    "so is any other\n"
	    "                            target, such as bin/dopyd or "
	    "'ssh host dopyd'\n"
	    "  fd:n                      a connection open on descriptor "
	    "n\n"
	    "\n"
	    "Exit status (in batch mode, the highest of its lines; in the "
	    "console, the last\ncommand's):\n"
	    "  0  success, or an error named by --graceful\n"
	    "  1  the method raised an error\n"
	    "  2  usage: bad options, target or arguments, unknown object "
	    "or method\n"
	    "  3  connection or protocol failure, or a timeout: the call "
	    "may or may not have run\n"
	    "\n"
	    "See dopy-rsh(1).\n", stdout);
	exit(fflush(stdout) == EOF ? ST_REMOTE : ST_OK);
}

/* Options that cannot go together: say why, then how to call us. */
static void __attribute__((noreturn))
refuse_options(const char *why)
{
	warnx("%s", why);
	usage(ST_USAGE);
}

struct opts {
	const char	*keyfile, *prompt, *deliver;
	int		 bflag, iflag, timeout, interface, deadline;
};

/*
 * fd:N, a connection already open on descriptor N (dopyd on a terminal
 * hands its console one end of a socketpair this way).
 */
static int
open_fd(const char *text, const dopy_key *key, dopy_conn **conn)
{
	dopy_error *err = NULL;
	const char *errstr;
	int fd, out, r;

	fd = (int)strtonum(text + 3, 0, INT_MAX, &errstr);
	if (errstr != NULL) {
		warnx("%s: descriptor %s", text, errstr);
		return ST_USAGE;
	}
	/* The connection closes both of its descriptors. */
	if ((out = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0) {
		warn("%s", text);
		return ST_USAGE;
	}
	if ((r = dopy_conn_fds_key(fd, out, key, conn, &err)) < 0)
		return rsh_failed(r, err);
	return ST_OK;
}

/*
 * Connect to the target, with the key if one was given.  flags
 * DOPY_CONNECT_EARLY: the first call goes out with our HELLO, and a bad
 * server shows in its answer (the library waits anyway with a key).
 */
static int
open_target(const char *text, const struct opts *o, int flags,
    dopy_target **tp, dopy_conn **conn)
{
	const char *keyfile = o->keyfile;
	dopy_error *err = NULL;
	dopy_key *key = NULL;
	int r;

	if (strncmp(text, "fd:", 3) != 0 &&
	    (r = dopy_target_parse(text, tp, &err)) < 0)
		return rsh_failed(r, err);
	if (o->deliver != NULL && *tp == NULL) {
		warnx("--deliver: only an ssh:// target can deliver a program");
		return ST_USAGE;
	}
	if (o->deliver != NULL &&
	    (r = dopy_target_deliver(*tp, o->deliver, &err)) < 0)
		return rsh_failed(r, err);
	if (keyfile != NULL && (r = dopy_key_load(keyfile, &key, &err)) < 0)
		return rsh_failed(r, err);
	if (*tp == NULL)
		r = open_fd(text, key, conn);
	else if ((r = dopy_target_connect_flags(*tp, key, flags, conn,
	    &err)) < 0)
		r = rsh_failed(r, err);
	dopy_key_free(key);
	return r;
}

/* --json[=short|pretty]; -j is short unless stdout is a terminal. */
static void
json_mode(const char *arg)
{
	if (arg == NULL)
		jflag = isatty(STDOUT_FILENO) ? JSON_PRETTY : JSON_SHORT;
	else if (strcmp(arg, "short") == 0)
		jflag = JSON_SHORT;
	else if (strcmp(arg, "pretty") == 0)
		jflag = JSON_PRETTY;
	else {
		warnx("--json=%s: short or pretty", arg);
		usage(ST_USAGE);
	}
}

static void
option(struct opts *o, int ch)
{
	const char *errstr;

	switch (ch) {
	case 'b':
		o->bflag = 1;
		break;
	case OPT_DEADLINE:
		o->deadline = (int)strtonum(optarg, 1, 86400000, &errstr);
		if (errstr != NULL) {
			warnx("--deadline=%s: %s", optarg, errstr);
			usage(ST_USAGE);
		}
		break;
	case OPT_DELIVER:
		o->deliver = optarg;
		break;
	case OPT_GRACEFUL:
		if (*optarg == '\0' || rsh_graceful_add(optarg) < 0) {
			warnx("--graceful: %s", *optarg == '\0' ?
			    "an error name is needed" : "too many");
			usage(ST_USAGE);
		}
		break;
	case 'h':
		help();
	case 'i':
		o->iflag = 1;
		break;
	case 'j':
	case OPT_JSON:
		json_mode(ch == 'j' ? NULL : optarg);
		break;
	case 'k':
		o->keyfile = optarg;
		break;
	case 'o':
		oflag = 1;
		break;
	case OPT_INTERFACE:
		o->interface = 1;
		break;
	case OPT_PROMPT:
		o->prompt = optarg;
		break;
	case 'v':	/* read by libdopy as it connects: dopy(3) */
		if (setenv("DOPY_VERBOSE", "1", 1) < 0)
			err(ST_CONN, "setenv");
		break;
	case 't':
		o->timeout = (int)strtonum(optarg, 1, 86400, &errstr);
		if (errstr != NULL) {
			warnx("-t %s: %s", optarg, errstr);
			usage(ST_USAGE);
		}
		break;
	default:
		usage(ST_USAGE);
	}
}

/* Combinations that make no sense, refused before connecting. */
static void
check_options(const struct opts *o, int argc)
{
	if (argc < 1)
		usage(ST_USAGE);
	if (o->bflag && oflag)
		refuse_options("-b and -o cannot go together: a batch prints "
		    "every call's answer, and a oneway call has none");
	if (o->bflag && argc > 2)
		refuse_options("-b reads the calls from standard input: give "
		    "only the target and an object");
	if (o->iflag && (o->bflag || oflag || argc > 1))
		refuse_options("-i opens a console on the target: it takes "
		    "no object, nor -b or -o");
	if (o->interface && (o->bflag || o->iflag || oflag))
		refuse_options("--interface prints an object's interface: it "
		    "takes no -b, -i or -o");
}

/* What to do once connected: the mode, by what is left of argv. */
static int
run(dopy_conn *conn, const dopy_target *target, const struct opts *o,
    int argc, char *argv[])
{
	const char *object = dopy_target_object(target);
	int interface = o->interface;

	/* A target that names its object (tcp:host:9600:test) shifts the
	 * rest: dopy-rsh TARGET [METHOD [ARG ...]]. */
	if (object != NULL && !o->iflag) {
		argv--;
		argc++;
		argv[1] = (char *)object;
	}
	if (o->bflag && argc > 2) {
		warnx("%s names an object already", object);
		return ST_USAGE;
	}
	/* dopy-rsh TARGET OBJECT --interface: the option may follow the
	 * object (never a call's arguments). */
	if ((argc == 2 || argc == 3) &&
	    strcmp(argv[argc - 1], "--interface") == 0) {
		interface = 1;
		argc--;
	}
	if (interface && argc != 2) {
		warnx("--interface needs an object, and nothing after it");
		return ST_USAGE;
	}
	if (interface)
		return rsh_interface(conn, argv[1]);
	if (oflag && argc < 3) {
		warnx("-o needs a method to call: a listing or a description "
		    "is an answer");
		return ST_USAGE;
	}
	if (o->bflag)
		return rsh_batch(conn, argc == 2 ? argv[1] : NULL);
	if (o->iflag)
		return rsh_console(conn, o->prompt != NULL ? o->prompt :
		    argv[0]);
	if (argc == 1)
		return rsh_list_objects(conn);
	if (argc == 2)
		return rsh_describe(conn, argv[1]);
	return rsh_call(conn, argv[1], argv[2], argc - 3, argv + 3);
}

int
main(int argc, char *argv[])
{
	struct opts o = { NULL, NULL, NULL, 0, 0, 0, 0, 0 };
	dopy_target *target = NULL;
	dopy_conn *conn;
	int ch, st;

	while ((ch = getopt_long(argc, argv, "+bhijk:ot:v", long_opts,
	    NULL)) != -1)
		option(&o, ch);
	argc -= optind;
	argv += optind;
	check_options(&o, argc);
	/* The console on a terminal without -i, for a person who has not
	 * read the page yet. */
	if (argc == 1 && !o.bflag && isatty(STDIN_FILENO) &&
	    isatty(STDOUT_FILENO))
		o.iflag = 1;
	/* One-shot: connect, HELLO and the first call in one round trip.
	 * A batch or a console keeps the plain connect, whose failure ends
	 * it before the first line. */
	if ((st = open_target(argv[0], &o, o.bflag || o.iflag ? 0 :
	    DOPY_CONNECT_EARLY, &target, &conn)) != ST_OK) {
		dopy_target_free(target);
		return st;
	}
	dopy_conn_set_timeout(conn, o.timeout * 1000);
	dopy_conn_set_deadline(conn, o.deadline);
	st = run(conn, target, &o, argc, argv);
	dopy_conn_close(conn);
	dopy_target_free(target);
	if (fflush(stdout) == EOF && st == ST_OK) {
		warn("stdout");
		st = ST_REMOTE;
	}
	return st;
}
