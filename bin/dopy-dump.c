/*
 * dopy-dump - print recorded or captured dopy frames as JSON lines.
 *
 * Each input is a recording (dopyd -Y, DOPY_RECORD) or a raw stream of
 * frames (a tee(1) of a pipe), told apart by how it begins.  Recordings
 * are printed one after another, then the raw streams all together,
 * frame by frame as each completes.  -S switches recording on or off in
 * every process appending to a recording.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dump.h"

#define OPT_START	256
#define OPT_STOP	257
#define MAX_INPUTS	64	/* as dump_raw.c polls at most */

static const struct option long_opts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "start", no_argument, NULL, OPT_START },
	{ "stop", no_argument, NULL, OPT_STOP },
	{ NULL, 0, NULL, 0 }
};

int	dump_status = DUMP_OK;

void
dump_worse(int status)
{
	if (status > dump_status)
		dump_status = status;
}

void
dump_line(const char *line)
{
	if (fputs(line, stdout) == EOF || putchar('\n') == EOF)
		dump_worse(DUMP_IO);
}

void
dump_warn(const struct dump_in *in, const char *what)
{
	warnx("%s%s%s", in != NULL ? in->path : "", in != NULL ? ": " : "",
	    what);
	dump_worse(DUMP_IO);
}

/* As the man page's SYNOPSIS renders. */
static void
print_usage(FILE *fp)
{
	fprintf(fp, "usage: %s [-h] [-c file] [-s file] [file ...]\n"
	    "       %s -S on | off recording\n"
	    "       %s --start | --stop recording\n",
	    getprogname(), getprogname(), getprogname());
}

static void __attribute__((noreturn))
usage(void)
{
	print_usage(stderr);
	exit(DUMP_USAGE);
}

/* -h: the usage, every option and the exit statuses, as the page. */
static void __attribute__((noreturn))
help(void)
{
	print_usage(stdout);
	fputs("\n"
	    "Print the frames of dopy recordings and raw captures as JSON, "
	    "one a line.\n"
	    "\n"
	    "Options:\n"
	    "  -c file     a raw stream of what the client sent\n"
	    "  -h, --help  print this help and exit\n"
	    "  -S on|off   start or pause recording into a recording file\n"
	    "  -s file     a raw stream of what the server sent\n"
	    "  --start     the same as -S on\n"
	    "  --stop      the same as -S off\n"
	    "\n"
	    "Exit status:\n"
	    "  0  every input decoded\n"
	    "  1  bytes were skipped or were not frames\n"
	    "  2  usage\n"
	    "  3  an input could not be read, or output not written\n"
	    "\n"
	    "See dopy-dump(1).\n", stdout);
	exit(DUMP_OK);
}

/* -S on|off, --start, --stop: the switch, and exit. */
static void __attribute__((noreturn))
switch_recording(int on, int argc, char **argv)
{
	int e;

	if (argc != 1)
		usage();
	if ((e = dopy_rec_switch(argv[0], on)) < 0) {
		if (e == DOPY_E_SYS)
			err(DUMP_IO, "%s", argv[0]);
		errx(DUMP_IO, "%s: %s", argv[0], dopy_strerror(e));
	}
	exit(DUMP_OK);
}

/* Whether the first n bytes of s could still begin with magic. */
static int
could_be(const uint8_t *s, size_t n, const char *magic)
{
	size_t m = strlen(magic);

	return memcmp(s, magic, n < m ? n : m) == 0;
}

/* Read until the head tells what the input is: a recording begins
 * with its file header or with a record, anything else is raw. */
static enum dump_kind
detect(struct dump_in *in)
{
	const uint8_t *h = in->head;
	size_t n;
	ssize_t k;

	for (;;) {
		n = in->nhead;
		if ((n >= 4 && could_be(h, n, "DREC")) ||
		    (n == 8 && could_be(h, n, "dopy-rec")))
			return DUMP_REC;
		if (n == 8 || (n > 0 && !could_be(h, n, "DREC") &&
		    !could_be(h, n, "dopy-rec")))
			return DUMP_RAW;
		k = read(in->fd, in->head + n, sizeof(in->head) - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (k < 0)
				dump_warn(in, strerror(errno));
			return DUMP_RAW;
		}
		in->nhead += (size_t)k;
	}
}

static int
open_input(struct dump_in *in, const char *path, const char *from)
{
	memset(in, 0, sizeof(*in));
	in->path = path;
	in->from = from;
	in->kind = DUMP_RAW;
	if (strcmp(path, "-") == 0)
		in->fd = STDIN_FILENO;
	else if ((in->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		warn("%s", path);
		dump_worse(DUMP_IO);
		return -1;
	}
	return 0;
}

struct inputs {
	struct dump_in	in[MAX_INPUTS];
	size_t		n;
	const char	*cfile, *sfile;
};

/* The files named: -c and -s first, as raw streams; then the others,
 * of the kind they are, the raw ones being client's, then server's,
 * where -c and -s left that unsaid. */
static void
open_all(struct inputs *ins, int argc, char **argv)
{
	const char *from[2] = { ins->cfile ? NULL : "client",
	    ins->sfile ? NULL : "server" };
	size_t nfrom = 0;
	struct dump_in *in;
	int i;

	if (ins->cfile && open_input(&ins->in[ins->n], ins->cfile,
	    "client") == 0)
		ins->n++;
	if (ins->sfile && open_input(&ins->in[ins->n], ins->sfile,
	    "server") == 0)
		ins->n++;
	for (i = 0; i < argc; i++) {
		in = &ins->in[ins->n];
		if (open_input(in, argv[i], NULL) < 0)
			continue;
		ins->n++;
		if ((in->kind = detect(in)) == DUMP_RAW) {
			while (nfrom < 2 && from[nfrom] == NULL)
				nfrom++;
			in->from = nfrom < 2 ? from[nfrom++] : NULL;
		}
	}
}

/* Recordings in order, then the raw streams together. */
static void
dump_all(struct inputs *ins)
{
	struct dump_in raw[MAX_INPUTS];
	size_t i, nraw = 0;

	for (i = 0; i < ins->n; i++) {
		if (ins->in[i].kind == DUMP_REC)
			dump_recording(&ins->in[i]);
		else
			raw[nraw++] = ins->in[i];
	}
	fflush(stdout);
	if (nraw > 0)
		dump_raw(raw, nraw);
	for (i = 0; i < ins->n; i++)
		if (ins->in[i].fd != STDIN_FILENO)
			close(ins->in[i].fd);
}

static int
parse_on(const char *s)
{
	if (strcmp(s, "on") == 0)
		return 1;
	if (strcmp(s, "off") == 0)
		return 0;
	warnx("-S %s: on or off", s);
	usage();
}

int
main(int argc, char **argv)
{
	static struct inputs ins;
	char *stdin_only[] = { "-" };
	int ch, sw = -1;

	while ((ch = getopt_long(argc, argv, "c:hS:s:", long_opts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			ins.cfile = optarg;
			break;
		case 'h':
			help();
		case 'S':
			sw = parse_on(optarg);
			break;
		case 's':
			ins.sfile = optarg;
			break;
		case OPT_START:
		case OPT_STOP:
			sw = ch == OPT_START;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (sw >= 0 && (ins.cfile || ins.sfile))
		usage();
	if (sw >= 0)
		switch_recording(sw, argc, argv);
	if (argc + (ins.cfile != NULL) + (ins.sfile != NULL) > MAX_INPUTS)
		errx(DUMP_USAGE, "at most %d inputs", MAX_INPUTS);
	if (argc == 0 && !ins.cfile && !ins.sfile)
		open_all(&ins, 1, stdin_only);
	else
		open_all(&ins, argc, argv);
	dump_all(&ins);
	if (fflush(stdout) == EOF || ferror(stdout))
		dump_worse(DUMP_IO);
	return dump_status;
}
