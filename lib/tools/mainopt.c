/*
 * mainopt.c - a server's own options, declared to dopy_main_opts() in a
 * table: checked once at start, merged into dopy's getopt string so
 * that one getopt pass takes both (the process title stays whole and
 * option order is free), and listed by -h and the usage lines.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "tools/tools.h"

#define USAGE_WIDTH	72	/* where the usage lines wrap */

/* Why o cannot be declared, given the letters taken so far, or NULL. */
static const char *
refuse(const struct dopy_option *o, const char *dopy, const char *mine)
{
	int c = o->letter;

	if (c < 0 || c > 127 || !isalnum(c))
		return "is not a letter or digit";
	if (strchr(dopy, c) != NULL)
		return "is one of dopy's own";
	if (strchr(mine, c) != NULL)
		return "is declared twice";
	if (o->set == NULL)
		return "has no set function";
	return NULL;
}

/*
 * out becomes dopy's getopt string followed by the table's letters.  A
 * bad letter is the program author's mistake: say which at once,
 * whatever argv holds.  Unique letters and digits cannot overflow a
 * buffer of DOPY_MAINOPT_MAX, but the check costs nothing.
 */
int
dopy_mainopt_merge(const struct dopy_option *opts, const char *dopy,
    char *out, size_t size, const char *prog)
{
	size_t len = strlcpy(out, dopy, size), start = len;
	const char *why;

	for (; opts != NULL && opts->letter != 0; opts++) {
		if ((why = refuse(opts, dopy, out + start)) == NULL &&
		    len + 3 > size)
			why = "is one too many";
		if (why != NULL) {
			if (isprint(opts->letter))
				fprintf(stderr, "%s: option -%c %s\n", prog,
				    opts->letter, why);
			else
				fprintf(stderr, "%s: option letter %d %s\n",
				    prog, opts->letter, why);
			return -1;
		}
		out[len++] = (char)opts->letter;
		if (opts->arg != NULL)
			out[len++] = ':';
		out[len] = '\0';
	}
	return 0;
}

/*
 * Give -c (with arg) to the program: -1 if it is not the program's,
 * 0 if taken, 2 (an exit status) after saying that set refused it.
 */
int
dopy_mainopt_set(const struct dopy_option *opts, int c, const char *arg,
    const char *prog)
{
	for (; opts != NULL && opts->letter != 0; opts++) {
		if (opts->letter != c)
			continue;
		if (opts->set(arg, opts->ctx) == 0)
			return 0;
		if (arg != NULL)
			fprintf(stderr, "%s: -%c %s: invalid\n", prog, c, arg);
		else
			fprintf(stderr, "%s: -%c: invalid\n", prog, c);
		return 2;
	}
	return -1;
}

/* One "[...]" of the usage lines, wrapped under the program's name. */
static void
item(FILE *f, int indent, int *col, const char *text)
{
	int n = (int)strlen(text) + 3;

	if (*col > indent && *col + n > USAGE_WIDTH) {
		fprintf(f, "\n%*s", indent, "");
		*col = indent;
	}
	fprintf(f, " [%s]", text);
	*col += n;
}

/* The usage line(s) of the program's options, after dopy's. */
void
dopy_mainopt_usage(FILE *f, const struct dopy_option *opts,
    const char *prog)
{
	const struct dopy_option *o;
	char text[128], flags[64] = "-";
	int indent = 7 + (int)strlen(prog), col = indent;
	size_t nf = 1;

	if (opts == NULL || opts->letter == 0)
		return;
	fprintf(f, "%*s", indent, "");
	for (o = opts; o->letter != 0; o++)
		if (o->arg == NULL && nf < sizeof(flags) - 1)
			flags[nf++] = (char)o->letter;
	flags[nf] = '\0';
	if (nf > 1)
		item(f, indent, &col, flags);
	for (o = opts; o->letter != 0; o++) {
		if (o->arg == NULL)
			continue;
		snprintf(text, sizeof(text), "-%c %s", o->letter, o->arg);
		item(f, indent, &col, text);
	}
	fputc('\n', f);
}

/* -h's lines for the program's options, under its name. */
void
dopy_mainopt_help(const struct dopy_option *opts, const char *prog)
{
	if (opts == NULL || opts->letter == 0)
		return;
	printf("Options of %s:\n", prog);
	for (; opts->letter != 0; opts++)
		printf("  -%c %-8s  %s\n", opts->letter,
		    opts->arg != NULL ? opts->arg : "",
		    opts->help != NULL ? opts->help : "");
}
