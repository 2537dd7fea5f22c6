/*
 * rsh_console.c - dopy-rsh's console (-i), dopy-rsh(1) CONSOLE: calls
 * typed as on the command line over one connection, so references live
 * from line to line as in batch mode.  On a terminal, libedit edits the
 * lines (BSD licensed; readline would put the GPL on dopy-rsh), keeps
 * the history and completes words from the server's own introspection.
 *
 * Ctrl-C must abandon the call being waited for without ending the
 * console: the call is sent with dopy_proxy_call_async() and its answer
 * awaited in ppoll(2) on the connection, with SIGINT let through only
 * there, so the signal wakes the wait instead of being lost between a
 * check and a blocking read.  The abandoned future is freed and the
 * library drops its late answer.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include <histedit.h>

#include "rsh.h"
#include "rsh_console.h"

#define HISTSIZE	1000	/* lines kept in the history file */
#define MAXWORDS	66	/* object, method and 64 arguments */
#define MAXCANDS	512	/* completions considered */

struct console {
	dopy_conn	*conn;
	EditLine	*el;		/* NULL when stdin is no terminal */
	History		*hist;
	char		*histfile;	/* NULL: no history kept */
	char		 prompt[160];
	struct rsh_descs descs;		/* for calls and completion */
	dopy_value	*objects;	/* names, for completion */
	int		 status;	/* of the last command */
	int		 quit;
};

static volatile sig_atomic_t interrupted;
/* The silence after which a call fails (.timeout), in ms; 0: none. */
static int	call_timeout;

static void
on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* ---- waiting for an answer, Ctrl-C abandoning it ---- */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How long ppoll may sleep: until the call's silence runs out. */
static struct timespec *
slice(int64_t heard, struct timespec *ts)
{
	int64_t left;

	if (call_timeout <= 0)
		return NULL;
	left = heard + call_timeout - now_ms();
	if (left < 0)
		left = 0;
	ts->tv_sec = left / 1000;
	ts->tv_nsec = (left % 1000) * 1000000;
	return ts;
}

/*
 * Until f is answered, SIGINT comes or the call has been silent for the
 * timeout (then dopy_future_wait() fails it without waiting: the
 * library's silence began no later than ours).  SIGINT is blocked
 * except inside ppoll.
 */
static void
wait_slices(dopy_conn *conn, dopy_future *f, const sigset_t *open)
{
	struct pollfd pfd;
	struct timespec ts;
	int64_t heard = now_ms();

	while (!interrupted) {
		if (dopy_conn_process(conn, NULL) < 0 || dopy_future_ready(f))
			return;
		if ((pfd.fd = dopy_conn_fd(conn)) < 0)
			return;
		pfd.events = POLLIN;
		if (call_timeout > 0 && now_ms() - heard >= call_timeout)
			return;
		if (ppoll(&pfd, 1, slice(heard, &ts), open) > 0)
			heard = now_ms();
	}
}

/* rsh_wait_fn for the console. */
static int
console_wait(dopy_conn *conn, dopy_future *f, dopy_value **result,
    dopy_error **ep)
{
	sigset_t block, open;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &open);
	/* A Ctrl-C since the line was read counts: it came for this. */
	wait_slices(conn, f, &open);
	sigprocmask(SIG_SETMASK, &open, NULL);
	if (interrupted && !dopy_future_ready(f)) {
		interrupted = 0;
		/* Abandoned here; the server is asked to stop it too. */
		(void)dopy_future_cancel(f, NULL);
		return RSH_ABANDONED;
	}
	return dopy_future_wait(f, result, ep);
}

/* ---- commands ---- */

static int	cmd_help(struct console *, int, char **);
static int	cmd_ls(struct console *, int, char **);
static int	cmd_describe(struct console *, int, char **);
static int	cmd_interface(struct console *, int, char **);
static int	cmd_json(struct console *, int, char **);
static int	cmd_timeout(struct console *, int, char **);
static int	cmd_quit(struct console *, int, char **);

static const struct cmd {
	const char	*name, *args, *what;
	int		(*fn)(struct console *, int, char **);
} cmds[] = {
	{ "help", "", "this list", cmd_help },
	{ "ls", "", "the server's objects", cmd_ls },
	{ "describe", "object", "the object's methods", cmd_describe },
	{ "interface", "object", "the object's interface text",
	    cmd_interface },
	{ ".json", "on|off|pretty", "print as JSON, or indented JSON",
	    cmd_json },
	{ ".timeout", "ms", "give up on a call silent for ms (0: never)",
	    cmd_timeout },
	{ ".quit", "", "leave the console (so does Ctrl-D)", cmd_quit },
};
#define NCMDS	(sizeof(cmds) / sizeof(cmds[0]))

/* The usage of command c, as a failure. */
static int
cmd_usage(const struct cmd *c)
{
	warnx("usage: %s%s%s", c->name, *c->args != '\0' ? " " : "",
	    c->args);
	return ST_USAGE;
}

static int
cmd_help(struct console *c, int argc, char **argv)
{
	size_t i;

	(void)c;
	(void)argc;
	(void)argv;
	puts("object method [arg | name=value ...]   call a method "
	    "(@id: a reference)\n"
	    "object                                  describe it");
	for (i = 0; i < NCMDS; i++)
		printf("%s %-*s%s\n", cmds[i].name, 39 -
		    (int)strlen(cmds[i].name), cmds[i].args, cmds[i].what);
	puts("Tab completes; Ctrl-C abandons a call; see dopy-rsh(1).");
	return ST_OK;
}

static int
cmd_ls(struct console *c, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return cmd_usage(&cmds[1]);
	return rsh_list_objects(c->conn);
}

static int
cmd_describe(struct console *c, int argc, char **argv)
{
	if (argc != 2)
		return cmd_usage(&cmds[2]);
	return rsh_describe(c->conn, argv[1]);
}

static int
cmd_interface(struct console *c, int argc, char **argv)
{
	if (argc != 2)
		return cmd_usage(&cmds[3]);
	return rsh_interface(c->conn, argv[1]);
}

static int
cmd_json(struct console *c, int argc, char **argv)
{
	(void)c;
	if (argc == 2 && strcmp(argv[1], "on") == 0)
		jflag = isatty(STDOUT_FILENO) ? JSON_PRETTY : JSON_SHORT;
	else if (argc == 2 && strcmp(argv[1], "off") == 0)
		jflag = JSON_OFF;
	else if (argc == 2 && strcmp(argv[1], "pretty") == 0)
		jflag = JSON_PRETTY;
	else
		return cmd_usage(&cmds[4]);
	return ST_OK;
}

static int
cmd_timeout(struct console *c, int argc, char **argv)
{
	const char *errstr;
	int ms;

	if (argc != 2)
		return cmd_usage(&cmds[5]);
	ms = (int)strtonum(argv[1], 0, 86400000, &errstr);
	if (errstr != NULL) {
		warnx(".timeout %s: %s", argv[1], errstr);
		return ST_USAGE;
	}
	call_timeout = ms;
	dopy_conn_set_timeout(c->conn, ms);
	return ST_OK;
}

static int
cmd_quit(struct console *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	c->quit = 1;
	return c->status;	/* leaving is not a command that fails */
}

/* object [method [args]]: a description or a call. */
static int
call_line(struct console *c, int argc, char **argv)
{
	const dopy_value *methods;
	dopy_error *err = NULL;
	int r;

	if (argc == 1)
		return rsh_describe(c->conn, argv[0]);
	if ((r = rsh_descs_get(&c->descs, argv[0], &methods, &err)) < 0)
		return rsh_failed(r, err);
	return rsh_call_with(c->conn, methods, argv[0], argv[1], argc - 2,
	    argv + 2, console_wait);
}

/* One line; its status becomes the console's, unless it says nothing. */
static void
run_line(struct console *c, char *line)
{
	char *words[MAXWORDS];
	const char *why;
	size_t i;
	int n;

	if ((n = rsh_split(line, words, MAXWORDS, &why)) < 0) {
		warnx("%s", why);
		c->status = ST_USAGE;
		return;
	}
	if (n == 0)
		return;
	for (i = 0; i < NCMDS; i++)
		if (strcmp(words[0], cmds[i].name) == 0)
			break;
	c->status = i < NCMDS ? cmds[i].fn(c, n, words) :
	    call_line(c, n, words);
	if (fflush(stdout) == EOF)
		err(ST_REMOTE, "stdout");
}

/* ---- completion from introspection ---- */

struct cands {
	const char	*word;		/* what is typed so far */
	size_t		 len;
	const char	*v[MAXCANDS];
	size_t		 n;
};

static void
cand_add(struct cands *k, const char *s)
{
	if (k->n < MAXCANDS && strncmp(s, k->word, k->len) == 0)
		k->v[k->n++] = s;
}

/* The server's objects, asked once. */
static void
cands_objects(struct console *c, struct cands *k)
{
	size_t i;

	if (c->objects == NULL && dopy_list_objects(c->conn, &c->objects,
	    NULL) < 0)
		c->objects = NULL;
	for (i = 0; i < dopy_value_len(c->objects); i++)
		cand_add(k, dopy_value_get_string(dopy_value_at(c->objects,
		    i)));
}

/* The first word: a command or an object. */
static void
cands_first(struct console *c, struct cands *k)
{
	size_t i;

	for (i = 0; i < NCMDS; i++)
		cand_add(k, cmds[i].name);
	cands_objects(c, k);
}

/* The second word: a method of the object, or after describe or
 * interface an object. */
static void
cands_method(struct console *c, struct cands *k, const char *object)
{
	const dopy_value *methods;
	size_t i;

	if (strcmp(object, "describe") == 0 ||
	    strcmp(object, "interface") == 0) {
		cands_objects(c, k);
		return;
	}
	if (rsh_descs_get(&c->descs, object, &methods, NULL) < 0)
		return;
	for (i = 0; i < dopy_value_len(methods); i++)
		cand_add(k, rsh_mfield(dopy_value_at(methods, i), 0));
}

/* Later words: the method's parameter names, which sig keeps. */
static dopy_sig *
cands_param(struct console *c, struct cands *k, const char *object,
    const char *method)
{
	const dopy_value *methods, *m;
	dopy_sig *sig;
	size_t i;

	if (rsh_descs_get(&c->descs, object, &methods, NULL) < 0)
		return NULL;
	for (i = 0; i < dopy_value_len(methods); i++) {
		m = dopy_value_at(methods, i);
		if (strcmp(rsh_mfield(m, 0), method) != 0)
			continue;
		if ((sig = dopy_sig_parse(rsh_mfield(m, 1), NULL, 0)) == NULL)
			return NULL;
		for (i = 0; i < dopy_sig_len(sig); i++)
			cand_add(k, dopy_sig_name(sig, i));
		return sig;
	}
	return NULL;
}

/* How many leading bytes every candidate shares. */
static size_t
common_len(const struct cands *k)
{
	size_t i, n = strlen(k->v[0]);

	for (i = 1; i < k->n; i++)
		while (n > 0 && strncmp(k->v[0], k->v[i], n) != 0)
			n--;
	return n;
}

/* Insert what the candidates agree on; list them when that is all. */
static unsigned char
complete_with(EditLine *el, const struct cands *k, const char *suffix)
{
	char buf[512];
	size_t i, n;

	if (k->n == 0)
		return CC_REFRESH_BEEP;
	n = common_len(k);
	if (k->n == 1 || n > k->len) {
		snprintf(buf, sizeof(buf), "%.*s%s", (int)(n - k->len),
		    k->v[0] + k->len, k->n == 1 ? suffix : "");
		return el_insertstr(el, buf) == 0 ? CC_REFRESH : CC_ERROR;
	}
	putchar('\n');
	for (i = 0; i < k->n; i++)
		printf("%s%s", i > 0 ? "  " : "", k->v[i]);
	putchar('\n');
	return CC_REDISPLAY;
}

/* Tab: the words before the cursor say what the one under it is. */
static unsigned char
complete(EditLine *el, wint_t ch)
{
	const LineInfo *li = el_line(el);
	struct console *c;
	struct cands k = { NULL, 0, { NULL }, 0 };
	char line[1024], *words[MAXWORDS], *p;
	dopy_sig *sig = NULL;
	unsigned char r;
	int n;

	(void)ch;
	el_get(el, EL_CLIENTDATA, &c);
	snprintf(line, sizeof(line), "%.*s", (int)(li->cursor - li->buffer),
	    li->buffer);
	for (n = 0, p = strtok(line, " \t"); p != NULL && n < MAXWORDS;
	    p = strtok(NULL, " \t"))
		words[n++] = p;
	if (n > 0 && li->cursor > li->buffer && !rsh_blank(li->cursor[-1]))
		k.word = words[--n];		/* the word being typed */
	else
		k.word = "";
	k.len = strlen(k.word);
	if (n == 0)
		cands_first(c, &k);
	else if (n == 1)
		cands_method(c, &k, words[0]);
	else if (strchr(k.word, '=') == NULL)
		sig = cands_param(c, &k, words[0], words[1]);
	r = complete_with(el, &k, n >= 2 ? "=" : " ");
	dopy_sig_free(sig);
	return r;
}

/* ---- reading lines ---- */

/*
 * libedit's reader, but one that turns SIGINT at the prompt into ^C,
 * which is bound to clear the line: libedit's own read would try again
 * after an interrupted read and keep the line.
 */
static int
getc_fn(EditLine *el, wchar_t *wc)
{
	mbstate_t mbs;
	char b[MB_LEN_MAX];
	size_t n = 0, r;

	(void)el;
	memset(&mbs, 0, sizeof(mbs));
	for (;;) {
		if (interrupted) {
			interrupted = 0;
			*wc = 0x03;
			return 1;
		}
		if (read(STDIN_FILENO, b + n, 1) != 1) {
			if (errno == EINTR)
				continue;
			return n == 0 ? 0 : -1;
		}
		r = mbrtowc(wc, b, ++n, &mbs);
		if (r != (size_t)-2 || n == sizeof(b))
			return r == (size_t)-1 ? -1 : 1;
	}
}

/* ^C at the prompt: the line is dropped and a new prompt given. */
static unsigned char
cancel(EditLine *el, wint_t ch)
{
	const LineInfo *li = el_line(el);

	(void)ch;
	el_cursor(el, li->lastchar - li->cursor);
	el_deletestr(el, li->lastchar - li->buffer);
	printf("^C\n");
	return CC_REDISPLAY;
}

static char *
prompt(EditLine *el)
{
	struct console *c;

	el_get(el, EL_CLIENTDATA, &c);
	return c->prompt;
}

/* $DOPY_HISTORY, or ~/.dopy_history; set and empty: none. */
static char *
history_path(void)
{
	const char *p = getenv("DOPY_HISTORY"), *home;
	char *s;

	if (p != NULL)
		return *p != '\0' ? strdup(p) : NULL;
	if ((home = getenv("HOME")) == NULL || *home == '\0')
		return NULL;
	if (asprintf(&s, "%s/.dopy_history", home) < 0)
		return NULL;
	return s;
}

static void
history_open(struct console *c)
{
	HistEvent ev;

	if ((c->hist = history_init()) == NULL)
		errx(ST_CONN, "cannot start the history");
	history(c->hist, &ev, H_SETSIZE, HISTSIZE);
	history(c->hist, &ev, H_SETUNIQUE, 1);
	if ((c->histfile = history_path()) != NULL)
		history(c->hist, &ev, H_LOAD, c->histfile);
	el_set(c->el, EL_HIST, history, c->hist);
}

/* Remember line, and save the history now: a console closed with its
 * terminal never reaches its end.  The file is private (0600). */
static void
history_add(struct console *c, const char *line)
{
	HistEvent ev;
	int fd;

	history(c->hist, &ev, H_ENTER, line);
	if (c->histfile == NULL)
		return;
	if ((fd = open(c->histfile, O_WRONLY | O_CREAT | O_CLOEXEC,
	    0600)) >= 0)
		close(fd);
	if (history(c->hist, &ev, H_SAVE, c->histfile) < 0) {
		warnx("history %s: cannot save", c->histfile);
		free(c->histfile);
		c->histfile = NULL;
	}
}

static void
editor_open(struct console *c)
{
	if ((c->el = el_init(getprogname(), stdin, stdout, stderr)) == NULL)
		errx(ST_CONN, "cannot start line editing");
	el_set(c->el, EL_CLIENTDATA, c);
	el_set(c->el, EL_PROMPT, prompt);
	el_set(c->el, EL_EDITOR, "emacs");
	el_set(c->el, EL_GETCFN, getc_fn);
	/* el_set()'s EL_ADDFN copies the names and never frees them. */
	el_wset(c->el, EL_ADDFN, L"dopy-complete", L"complete from the "
	    "server", complete);
	el_set(c->el, EL_BIND, "^I", "dopy-complete", NULL);
	el_wset(c->el, EL_ADDFN, L"dopy-cancel", L"drop the line", cancel);
	el_set(c->el, EL_BIND, "^C", "dopy-cancel", NULL);
	history_open(c);
	el_source(c->el, NULL);		/* ~/.editrc, as sftp(1) reads it */
}

/* The next line, edited or as it comes; NULL at the end. */
static char *
next_line(struct console *c, char **buf, size_t *cap)
{
	const char *s;
	int n;

	if (c->el == NULL) {
		interrupted = 0;
		while (getline(buf, cap, stdin) < 0) {
			if (!ferror(stdin) || errno != EINTR)
				return NULL;
			clearerr(stdin);	/* SIGINT: go on reading */
		}
		return *buf;
	}
	if ((s = el_gets(c->el, &n)) == NULL || n <= 0) {
		putchar('\n');
		return NULL;
	}
	free(*buf);
	if ((*buf = strdup(s)) == NULL)
		err(ST_CONN, NULL);
	(*buf)[strcspn(*buf, "\n")] = '\0';
	if (**buf != '\0' && !rsh_blank(**buf))
		history_add(c, *buf);
	return *buf;
}

static void
console_close(struct console *c)
{
	if (c->el != NULL)
		el_end(c->el);
	if (c->hist != NULL)
		history_end(c->hist);
	free(c->histfile);
	rsh_descs_free(&c->descs);
	dopy_value_free(c->objects);
}

int
rsh_console(dopy_conn *conn, const char *name)
{
	struct console c;
	struct sigaction sa;
	char *buf = NULL, *line;
	size_t cap = 0;

	memset(&c, 0, sizeof(c));
	c.conn = conn;
	c.descs.conn = conn;
	snprintf(c.prompt, sizeof(c.prompt), "dopy %s> ", name);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;	/* no SA_RESTART: reads are woken */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	/* A blocked SIGINT survives exec: a test harness may hand us one. */
	sigaddset(&sa.sa_mask, SIGINT);
	sigprocmask(SIG_UNBLOCK, &sa.sa_mask, NULL);
	if (isatty(STDIN_FILENO))
		editor_open(&c);
	while (!c.quit && (line = next_line(&c, &buf, &cap)) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		run_line(&c, line);
	}
	free(buf);
	console_close(&c);
	return c.status;
}
