/*
 * dopy-idl - the interface compiler: reads dopy-idl(5) files, or the
 * interface a running server publishes, and writes C stubs and
 * skeletons, checks, prints, or compares interfaces.  The work is in
 * lib/idl/; this is its command line.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dopy.h"
#include "idl/idl.h"

enum mode { GENERATE, CHECK, PRINT, COMPAT };

struct opts {
	enum mode		 mode;
	struct idl_gen_opts	 gen;
	const char		*keyfile;
	struct idl_file		*src[2];
	size_t			 nsrc;
	char			*base;		/* made from a file's name */
};

static const struct option long_opts[] = {
	{ "check", no_argument, NULL, 'n' },
	{ "client", no_argument, NULL, 'c' },
	{ "compat", no_argument, NULL, 'C' },
	{ "from", required_argument, NULL, 'f' },
	{ "help", no_argument, NULL, 'h' },
	{ "print", no_argument, NULL, 'P' },
	{ "server", no_argument, NULL, 's' },
	{ NULL, 0, NULL, 0 }
};

static void __attribute__((noreturn))
usage(int status)
{
	FILE *o = status == 0 ? stdout : stderr;

	fprintf(o, "usage: %s [-cs] [-o base] [-p prefix] file.idl\n"
	    "       %s [-cs] [-k keyfile] -o base -f target object\n"
	    "       %s -n file.idl ...\n"
	    "       %s -P [-k keyfile] file.idl | -f target object [object]\n"
	    "       %s -C [-k keyfile] old new\n", getprogname(),
	    getprogname(), getprogname(), getprogname(), getprogname());
	if (status == 0)
		fputs("\n  -c, --client   client stubs only (BASE_client.[ch])\n"
		    "  -s, --server   server skeleton only (BASE_server.[ch])\n"
		    "  -o base        output files BASE.h, BASE_client.c, ...\n"
		    "  -p prefix      put prefix before every C name\n"
		    "  -f, --from target object\n"
		    "                 the interface object serves on target\n"
		    "  -k keyfile     prove this shared key to the server\n"
		    "  -n, --check    check the files and write nothing\n"
		    "  -P, --print    print the canonical text\n"
		    "  -C, --compat   say whether new breaks clients of old; "
		    "each is a\n                 file or -f target object\n"
		    "  -h, --help     this help\n", o);
	exit(status);
}

static struct idl_file *
from_file(const char *path)
{
	struct idl_file *f;
	char err[512];

	if ((f = idl_parse_file(path, err, sizeof(err))) == NULL)
		errx(2, "%s", err);
	return f;
}

/* The interface object serves on target, parsed. */
static struct idl_file *
from_server(const char *target, const char *object, const char *keyfile)
{
	struct dopy_connect_opts co = { .keyfile = keyfile };
	struct idl_file *f;
	dopy_error *e = NULL;
	dopy_conn *c;
	char *text = NULL, *where, msg[512];

	if (dopy_connect_with(target, &co, &c, &e) < 0 ||
	    dopy_interface(c, object, &text, &e) < 0) {
		char *why = dopy_error_format(e);

		errx(2, "%s: %s", target, why != NULL ? why : "failed");
	}
	dopy_conn_close(c);
	if (asprintf(&where, "%s %s", target, object) < 0)
		err(2, "asprintf");
	if ((f = idl_parse(where, text, msg, sizeof(msg))) == NULL)
		errx(2, "the interface the server sent: %s", msg);
	free(where);
	free(text);
	return f;
}

static void
add_source(struct opts *o, struct idl_file *f)
{
	if (o->nsrc == 2)
		errx(2, "at most two interfaces (old and new)");
	o->src[o->nsrc++] = f;
}

/* BASE from the file name: "x/counter.idl" is "x/counter". */
static char *
default_base(const char *path)
{
	size_t n = strlen(path);
	char *b;

	if (n > 4 && strcmp(path + n - 4, ".idl") == 0)
		n -= 4;
	if ((b = strndup(path, n)) == NULL)
		err(2, "strndup");
	return b;
}

static void
parse_opts(struct opts *o, int argc, char *argv[])
{
	int ch;

	while ((ch = getopt_long(argc, argv, "+CcPf:hk:no:p:s", long_opts,
	    NULL)) != -1)
		switch (ch) {
		case 'C': o->mode = COMPAT; break;
		case 'P': o->mode = PRINT; break;
		case 'n': o->mode = CHECK; break;
		case 'c': o->gen.client = 1; break;
		case 's': o->gen.server = 1; break;
		case 'o': o->gen.base = optarg; break;
		case 'p': o->gen.prefix = optarg; break;
		case 'k': o->keyfile = optarg; break;
		case 'f':
			if (optind >= argc)
				usage(2);
			add_source(o, from_server(optarg, argv[optind++],
			    o->keyfile));
			break;
		case 'h': usage(0);
		default: usage(2);
		}
}

static int
run(struct opts *o, int argc, char *argv[])
{
	char err[512], *text;
	int n;

	switch (o->mode) {
	case CHECK:
		return 0;	/* every file parsed, or we would be gone */
	case PRINT:
		if (o->nsrc != 1 || argc > 1)
			usage(2);
		if ((text = idl_print(o->src[0], argc ? argv[0] : NULL)) == NULL)
			errx(2, "%s: cannot print", argc ? argv[0] : "interface");
		fputs(text, stdout);
		free(text);
		return fflush(stdout) == 0 ? 0 : 2;
	case COMPAT:
		if (o->nsrc != 2)
			usage(2);
		n = idl_compat(o->src[0], o->src[1], stdout);
		return n > 0 ? 1 : n == 0 ? 0 : 2;
	default:
		if (o->nsrc != 1 || o->gen.base == NULL)
			usage(2);
		if (!o->gen.client && !o->gen.server)
			o->gen.client = o->gen.server = 1;
		if (idl_generate(o->src[0], &o->gen, err, sizeof(err)) < 0)
			errx(2, "%s", err);
		return 0;
	}
}

/* The sources after the options, in order: files, and "-f target
 * object" again (so that old and new may each be either). */
static int
sources(struct opts *o, int argc, char *argv[])
{
	int i;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0 ||
		    strcmp(argv[i], "--from") == 0) {
			if (i + 2 >= argc)
				usage(2);
			add_source(o, from_server(argv[i + 1], argv[i + 2],
			    o->keyfile));
			i += 2;
		} else if (o->mode == PRINT && o->nsrc == 1)
			break;			/* the object to print */
		else if (o->mode == CHECK)
			idl_free(from_file(argv[i]));
		else {
			add_source(o, from_file(argv[i]));
			if (o->gen.base == NULL && o->mode == GENERATE)
				o->gen.base = o->base = default_base(argv[i]);
		}
	}
	return i;
}

int
main(int argc, char *argv[])
{
	struct opts o = { .mode = GENERATE, .gen = { .prefix = "" } };
	int i, status;

	parse_opts(&o, argc, argv);
	argc -= optind;
	argv += optind;
	if (o.mode == CHECK && argc == 0 && o.nsrc == 0)
		usage(2);
	i = sources(&o, argc, argv);
	status = run(&o, argc - i, argv + i);
	while (o.nsrc > 0)
		idl_free(o.src[--o.nsrc]);
	free(o.base);
	return status;
}
