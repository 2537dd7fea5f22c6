/*
 * main.c - the standard server options, so every server built on libdopy
 * takes the same ones (and later issues add listening, timeouts and keys
 * here once, for all of them).  The only code in libdopy that writes to
 * the terminal: -h and option errors, before anything is served.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "internal.h"

static void
usage(FILE *f, const char *prog)
{
	fprintf(f, "usage: %s [-dhv] [-L logfile] [-m maxframe]\n", prog);
}

static void
help(const char *prog)
{
	usage(stdout, prog);
	printf("Serve dopy objects on stdin/stdout (dopy(5)).\n"
	    "  -d          log to stderr instead of syslog\n"
	    "  -h          show this help\n"
	    "  -L logfile  log to logfile instead of syslog\n"
	    "  -m maxframe largest frame accepted, in bytes "
	    "(default %u, at least %u)\n"
	    "  -v          log every frame (debug)\n",
	    DOPY_FRAME_DEFAULT, DOPY_FRAME_MIN);
}

int
dopy_main(dopy_server *s, int argc, char *argv[])
{
	enum dopy_log_sink sink = DOPY_LOG_SYSLOG;
	const char *prog, *logfile = NULL, *errstr;
	int ch, verbose = 0, in, out, r;
	long long max;

	prog = argc > 0 && argv[0] != NULL ? getprogname() : "dopy";
	strlcpy(s->log.ident, prog, sizeof(s->log.ident));
	optind = 1;
	while ((ch = getopt(argc, argv, "dhL:m:v")) != -1) {
		switch (ch) {
		case 'd':
			sink = DOPY_LOG_STDERR;
			break;
		case 'h':
			help(prog);
			return 0;
		case 'L':
			sink = DOPY_LOG_FILE;
			logfile = optarg;
			break;
		case 'm':
			max = strtonum(optarg, DOPY_FRAME_MIN, UINT32_MAX,
			    &errstr);
			if (errstr != NULL) {
				fprintf(stderr, "%s: -m %s: %s\n", prog,
				    optarg, errstr);
				return 2;
			}
			dopy_server_set_max_frame(s, (uint32_t)max);
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage(stderr, prog);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr, prog);
		return 2;
	}
	if (dopy_server_set_log(s, sink, logfile, verbose) < 0) {
		fprintf(stderr, "%s: cannot open log %s: %s\n", prog,
		    logfile ? logfile : "stderr", strerror(errno));
		return 2;
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
