/*
 * dopy-replay - replay a recording (dopyd -Y, DOPY_RECORD) against a
 * server and report where its answers differ from the recorded ones:
 * a regression test made of real traffic.  See dopy-replay(1).
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "replay.h"

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr, "usage: %s [-hv] [-t timeout] "
	    "target recording\n", getprogname());
	exit(status);
}

/* The recording, every connection of it; exits 2 when it cannot be. */
static void
load(const char *path, struct rp_set *s)
{
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		err(2, "%s", path);
	if ((r = rp_load(fd, s)) < 0)
		errx(2, "%s: %s", path, r == DOPY_E_INVAL ?
		    "not a dopy recording" : dopy_strerror(r));
	close(fd);
	if (s->garbage > 0)
		warnx("%s: %zu bytes that are no record passed over", path,
		    s->garbage);
}

static void
summary(const struct rp_set *s, const struct rp_stats *st)
{
	printf("{\"connections\":%zu,\"calls\":%lu,\"same\":%lu,"
	    "\"differing\":%lu,\"skipped\":%lu,\"differences\":%lu}\n",
	    s->n, st->calls, st->same, st->differing, st->skipped,
	    st->diffs);
}

static int
run_all(const struct rp_opts *o, const struct rp_set *s)
{
	struct rp_stats st = { 0 };
	size_t i;

	for (i = 0; i < s->n; i++)
		if (rp_run(o, &s->c[i], &st) < 0)
			return 3;
	summary(s, &st);
	return st.diffs > 0 ? 1 : 0;
}

int
main(int argc, char *argv[])
{
	struct rp_opts o = { .timeout_ms = 10000 };
	dopy_target *t = NULL;
	dopy_error *e = NULL;
	struct rp_set s;
	const char *errstr;
	int ch, r;

	while ((ch = getopt(argc, argv, "ht:v")) != -1) {
		switch (ch) {
		case 'h': usage(0);
		case 't': o.timeout_ms = (int)strtonum(optarg, 1, 3600,
			    &errstr) * 1000;
			if (errstr != NULL)
				errx(2, "-t %s: %s", optarg, errstr);
			break;
		case 'v': o.verbose = 1; break;
		default: usage(2);
		}
	}
	if (argc - optind != 2)
		usage(2);
	if (dopy_target_parse(argv[optind], &t, &e) < 0)
		errx(2, "%s", dopy_error_message(e));
	/* A target that hangs up is a difference, not our death. */
	signal(SIGPIPE, SIG_IGN);
	load(argv[optind + 1], &s);
	o.target = t;
	r = run_all(&o, &s);
	rp_free(&s);
	dopy_target_free(t);
	return r;
}
