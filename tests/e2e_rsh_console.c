/*
 * e2e_rsh_console.c - dopy-rsh's console (dopy-rsh(1) CONSOLE) as a
 * person meets it, through a real pseudo-terminal: typing, completion
 * from the server's introspection, history across runs, Ctrl-C during a
 * slow call, Ctrl-D and the exit status; the console as a script on a
 * pipe; and dopyd started on a terminal.
 *
 * Every read has a deadline; nothing sleeps for a fixed time.  The pty's
 * whole transcript is kept and searched from a mark, so a string is
 * looked for only in what came after the keys that should cause it.
 */
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "e2e_util.h"

#define DEADLINE_MS	8000	/* for any one expected string */

extern char **environ;

struct pty {
	pid_t	 pid;
	int	 fd;		/* the master side */
	char	*out;		/* the transcript so far, NUL-terminated */
	size_t	 len, cap;
	size_t	 mark;		/* where the next expectation looks from */
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* environ with NAME=VALUE strings of set in place of their own
 * (malloc'd before the fork: setenv is not safe after it). */
static char **
env_with(char *const set[])
{
	size_t n = 0, k = 0, i, j, len;
	char **env;

	while (environ[n] != NULL)
		n++;
	while (set[k] != NULL)
		k++;
	cr_assert_not_null(env = calloc(n + k + 1, sizeof(*env)));
	for (i = 0, j = 0; i < n; i++) {
		for (k = 0; set[k] != NULL; k++) {
			len = strcspn(set[k], "=") + 1;
			if (strncmp(environ[i], set[k], len) == 0)
				break;
		}
		if (set[k] == NULL)
			env[j++] = environ[i];
	}
	for (k = 0; set[k] != NULL; k++)
		env[j++] = set[k];
	return env;
}

/* Start argv on a new pty, 40 rows of 200 columns (no wrapping). */
static void
pty_spawn(struct pty *p, char *const argv[], char *const set[])
{
	struct winsize ws = { 40, 200, 0, 0 };
	char **env = env_with(set);
	pid_t parent = getpid();

	memset(p, 0, sizeof(*p));
	cr_assert_not_null(p->out = malloc(p->cap = 65536));
	p->out[0] = '\0';
	if ((p->pid = forkpty(&p->fd, NULL, NULL, &ws)) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		execve(argv[0], argv, env);
		_exit(127);
	}
	cr_assert_gt(p->pid, 0, "forkpty: %s", strerror(errno));
	free(env);
}

/* Read what is there, waiting up to ms; 0, or -1 at EOF (EIO). */
static int
pty_read(struct pty *p, int ms)
{
	struct pollfd pfd = { p->fd, POLLIN, 0 };
	ssize_t n;

	if (poll(&pfd, 1, ms) <= 0)
		return 0;
	if (p->len + 4096 + 1 > p->cap)
		cr_assert_not_null(p->out = realloc(p->out, p->cap *= 2));
	if ((n = read(p->fd, p->out + p->len, 4096)) <= 0)
		return -1;
	p->len += n;
	p->out[p->len] = '\0';
	return 0;
}

/* Wait for s after the mark, and move the mark past it. */
static void
pty_expect(struct pty *p, const char *s)
{
	int64_t end = now_ms() + DEADLINE_MS;
	char *at;

	while ((at = strstr(p->out + p->mark, s)) == NULL) {
		cr_assert_lt(now_ms(), end, "no '%s' within %d ms in:\n%s", s,
		    DEADLINE_MS, p->out + p->mark);
		if (pty_read(p, 100) < 0 && strstr(p->out + p->mark, s) ==
		    NULL)
			cr_assert_fail("EOF before '%s' in:\n%s", s,
			    p->out + p->mark);
	}
	p->mark = at + strlen(s) - p->out;
}

static void
pty_send(struct pty *p, const char *keys)
{
	cr_assert_eq(write(p->fd, keys, strlen(keys)), (ssize_t)strlen(keys));
}

/* Type a line and wait for what it should print. */
static void
pty_line(struct pty *p, const char *line, const char *want)
{
	pty_send(p, line);
	pty_send(p, "\r");
	pty_expect(p, want);
}

/* The child must exit with code within the deadline (reading on, so
 * that it never blocks on a full pty); killed and reaped otherwise.
 * The transcript must hold no sanitizer report. */
static void
pty_finish(struct pty *p, int code)
{
	int64_t end = now_ms() + DEADLINE_MS;
	char path[600];
	int st;
	pid_t r;

	while ((r = waitpid(p->pid, &st, WNOHANG)) == 0 && now_ms() < end)
		pty_read(p, 50);
	if (r == 0) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, &st, 0);
		cr_assert_fail("still running after %d ms:\n%s", DEADLINE_MS,
		    p->out);
	}
	while (pty_read(p, 0) == 0 && poll(&(struct pollfd){ p->fd, POLLIN,
	    0 }, 1, 0) > 0)
		;
	snprintf(path, sizeof(path), "%s/pty.out", e2e_tmpdir());
	e2e_spit(path, p->out);
	e2e_check_sanitizers(path, "the pty's programs");
	cr_assert(e2e_exited(st, code), "%s, want exit %d:\n%s",
	    e2e_status(st), code, p->out);
	close(p->fd);
	free(p->out);
}

/* Ctrl-D once the prompt is back: typed ahead, while a call runs and
 * the terminal is not in libedit's hands, the tty would take it as its
 * own end of file and drop it. */
static void
pty_quit(struct pty *p, const char *prompt, int code)
{
	int64_t end = now_ms() + DEADLINE_MS;
	struct termios tio;

	pty_expect(p, prompt);
	/* The prompt may show before libedit takes the terminal. */
	while (tcgetattr(p->fd, &tio) == 0 && (tio.c_lflag & ICANON)) {
		cr_assert_lt(now_ms(), end, "the terminal stays canonical");
		pty_read(p, 10);
	}
	pty_send(p, "\x04");
	pty_finish(p, code);
}

/* DOPY_HISTORY=dir/hist, in the test's own directory. */
static char *
history_env(void)
{
	static char env[600];

	snprintf(env, sizeof(env), "DOPY_HISTORY=%s/hist", e2e_tmpdir());
	return env;
}

/* dopy-rsh -i on dopyd under a pty, with the prompt "dopy T> ". */
static void
console(struct pty *p)
{
	char *argv[] = { (char *)e2e_bin("dopy-rsh"), "-i", "--prompt=T",
	    (char *)e2e_bin("dopyd"), NULL };
	char *set[] = { "TERM=xterm", history_env(), NULL };

	pty_spawn(p, argv, set);
	pty_expect(p, "dopy T> ");
}

/* On a terminal with no object, and no -i, the console opens with a
 * prompt that names the target; a call typed prints its result. */
Test(console, opens_on_a_terminal, .timeout = 30)
{
	char *argv[] = { (char *)e2e_bin("dopy-rsh"),
	    (char *)e2e_bin("dopyd"), NULL };
	char *set[] = { "TERM=xterm", history_env(), NULL };
	char prompt[600];
	struct pty p;

	snprintf(prompt, sizeof(prompt), "dopy %s> ", e2e_bin("dopyd"));
	pty_spawn(&p, argv, set);
	pty_expect(&p, prompt);
	pty_line(&p, "test add 2 3", "\r\n5\r\n");
	pty_expect(&p, prompt);
	pty_line(&p, "test greet name=World", "Hello, World\r\n");
	pty_quit(&p, prompt, 0);
}

/*
 * Scripts typed into dopy-rsh -i on dopyd: keys to send and text to
 * wait for in turn, separated by "|", then Ctrl-D once the prompt is
 * back and the exit status wanted.
 */
struct script {
	const char	*what, *steps;
	int		 status;
};

#define S	"\x1f"		/* between steps */

static const struct script scripts[] = {
	/* Tab completes an object, a method and a parameter name: the
	 * completed text is echoed, and the call made of it works; where
	 * two fit, their common part, then both listed. */
	{ "completion", "fac\t" S "tory " S "p\t" S "a" S "\t" S
	    "pair  pass\r\n" S "\x15test gr\t" S "eet " S "gre\t" S "eting="
	    S "Hi na\t" S "me=" S "World\r" S "Hi, World\r\n" S "de\t" S
	    "scribe " S "th\t" S "ermo " S "\r" S "get:temp() -> double", 0 },
	/* Ctrl-C at the prompt drops the line typed so far. */
	{ "ctrl-c at the prompt", "test fail x\x03" S "^C\r\n" S
	    "test add 1 1\r" S "\r\n2\r\n", 0 },
	/* The status is the last command's, */
	{ "ctrl-d after success", "test fail x\r" S "test.Failure: x" S
	    "test add 2 3\r" S "\r\n5\r\n", 0 },
	{ "ctrl-d after failure", "test add 2 3\r" S "\r\n5\r\n" S
	    "test fail x\r" S "test.Failure: x", 1 },
	/* help, ls, describe and .json, each answering as it should: a
	 * void method prints nothing as text, null as JSON. */
	{ "commands", "help\r" S "describe object" S "" S ".timeout ms" S
	    "" S ".quit" S "ls\r" S "cb\r\ncrash\r\ndopy\r\nfactory\r\niso\r\n"
	    "sandbox\r\nslow\r\nstream\r\nstub\r\ntest\r\nthermo\r\nupload\r\n" S
	    "describe test\r" S "add(a:int, b:int) -> int  "
	    "Add two integers.\r\n" S "test sleep 0\r" S "\r\ndopy T> " S
	    ".json on\r" S "dopy T> " S "test sleep 0\r" S "\r\nnull\r\n" S
	    "test caller\r" S "[\r\n  \"pipe\",\r\n" S ".json off\r" S
	    "dopy T> " S "test caller\r" S "(\"pipe\", ", 0 },
	/* .timeout: a call silent for longer fails as -t makes it, and
	 * that is the last status. */
	{ "timeout", ".timeout 300\r" S "dopy T> " S "test sleep 3000\r" S
	    "no word about test.sleep for 300 ms", 3 },
};

E2E_TABLE_PARAMS(console, script, scripts)

/* Send the keys of each step and wait for the text of the next. */
static void
play(struct pty *p, const char *steps)
{
	char *copy, *s, *next;
	int send = 1;

	cr_assert_not_null(copy = strdup(steps));
	for (s = copy; s != NULL; s = next, send = !send) {
		if ((next = strchr(s, S[0])) != NULL)
			*next++ = '\0';
		if (send)
			pty_send(p, s);
		else if (*s != '\0')
			pty_expect(p, s);
	}
	free(copy);
}

ParameterizedTest(size_t *ip, console, script, .timeout = 30)
{
	const struct script *sc = &scripts[*ip];
	struct pty p;

	console(&p);
	play(&p, sc->steps);
	pty_quit(&p, "dopy T> ", sc->status);
}

/* A line typed in one run comes back with Up in the next; the file is
 * private. */
Test(console, history_across_runs, .timeout = 30)
{
	struct pty p;
	struct stat sb;
	char path[600];

	console(&p);
	pty_line(&p, "test add 20 22", "\r\n42\r\n");
	pty_quit(&p, "dopy T> ", 0);
	snprintf(path, sizeof(path), "%s/hist", e2e_tmpdir());
	cr_assert_eq(stat(path, &sb), 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(sb.st_mode & 0777, 0600, "mode %o", sb.st_mode & 0777);

	console(&p);
	pty_send(&p, "\x1b[A");
	pty_expect(&p, "test add 20 22");
	pty_line(&p, "", "\r\n42\r\n");
	pty_quit(&p, "dopy T> ", 0);
}

/* Ctrl-C while a slow call is awaited gives the prompt back at once,
 * says the outcome is unknown, and the connection still serves. */
Test(console, ctrl_c_abandons_a_call, .timeout = 40)
{
	char log[600], target[1300], *text = NULL;
	char *argv[] = { (char *)e2e_bin("dopy-rsh"), "-i", "--prompt=T",
	    target, NULL };
	char *set[] = { "TERM=xterm", history_env(), NULL };
	struct pty p;
	int64_t t;

	/* dopyd logs the frames it reads: the Ctrl-C goes once the sleep
	 * has arrived, as a user's would (under load, one sent right after
	 * the line can beat the call and only drop the next line). */
	snprintf(log, sizeof(log), "%s/ctrlc.log", e2e_tmpdir());
	snprintf(target, sizeof(target), "%s -v -L %s", e2e_bin("dopyd"),
	    log);
	pty_spawn(&p, argv, set);
	pty_expect(&p, "dopy T> ");
	pty_line(&p, "test sleep 5000", "test sleep 5000\r\n");
	for (t = now_ms(); now_ms() - t < 8000; usleep(10000)) {
		free(text);
		if ((text = e2e_slurp(log, NULL)) != NULL &&
		    strstr(text, "\"method\":\"sleep\"") != NULL)
			break;
	}
	cr_assert(text != NULL && strstr(text, "\"method\":\"sleep\"") != NULL,
	    "dopyd never read the call:\n%s", text ? text : "");
	free(text);
	t = now_ms();
	pty_send(&p, "\x03");
	pty_expect(&p, "test.sleep abandoned (interrupted): its outcome is "
	    "unknown");
	pty_expect(&p, "dopy T> ");
	cr_assert_lt(now_ms() - t, 2000, "the prompt took %lld ms",
	    (long long)(now_ms() - t));
	/* The server runs the calls of a connection in turn: this one
	 * answers once the sleep is over. */
	pty_line(&p, "test add 2 3", "\r\n5\r\n");
	pty_quit(&p, "dopy T> ", 0);	/* the last command went well */
}

/* A remote error is told once, with its trace, and the console goes on. */
Test(console, remote_error_once, .timeout = 30)
{
	struct pty p;
	const char *at;
	int n = 0;

	console(&p);
	pty_line(&p, "test fail boom", "dopy T> ");
	for (at = p.out; (at = strstr(at, "test.Failure: boom")) != NULL;
	    at++)
		n++;
	cr_assert_eq(n, 1, "told %d times:\n%s", n, p.out);
	cr_assert_not_null(strstr(p.out, "remote trace"), "%s", p.out);
	cr_assert_not_null(strstr(p.out, "test_fail"), "%s", p.out);
	pty_line(&p, "test add 2 3", "\r\n5\r\n");
	pty_quit(&p, "dopy T> ", 0);
}

/* -i on a pipe: a script, no prompt; references live from line to line
 * as in batch mode; the status is the last command's. */
Test(console, script_on_a_pipe, .timeout = 30)
{
	char *argv[] = { (char *)e2e_bin("dopy-rsh"), "-i",
	    (char *)e2e_bin("dopyd"), NULL };
	const char *ok = "factory counter 5\n@1 incr\n# a comment\n\n"
	    "test add 2 3\n", *bad = "test add 2 3\ntest fail x\n";
	struct e2e_run r;

	e2e_run_ms(&r, ok, strlen(ok), E2E_WAIT_MS, argv);
	e2e_assert_run(&r, 0, "@1\n6\n5\n");
	e2e_run_free(&r);
	e2e_run_ms(&r, bad, strlen(bad), E2E_WAIT_MS, argv);
	e2e_assert_run(&r, 1, "5\n");
	cr_assert_not_null(strstr(r.err, "test.Failure: x"), "%s", r.err);
	e2e_run_free(&r);
}

/* -j on a terminal indents, for a person to read. */
Test(console, json_pretty_on_a_terminal, .timeout = 30)
{
	char *argv[] = { (char *)e2e_bin("dopy-rsh"), "-j",
	    (char *)e2e_bin("dopyd"), "test", "caller", NULL };
	char *set[] = { "TERM=xterm", NULL };
	struct pty p;

	pty_spawn(&p, argv, set);
	pty_expect(&p, "[\r\n  \"pipe\",\r\n  \"\",\r\n");
	pty_finish(&p, 0);
}

/* dopyd on a terminal says what it is and offers the console. */
Test(console, dopyd_on_a_terminal, .timeout = 30)
{
	char rsh[600];
	char *argv[] = { (char *)e2e_bin("dopyd"), NULL };
	char *set[] = { "TERM=xterm", "DOPY_HISTORY=", rsh, NULL };
	struct pty p;

	snprintf(rsh, sizeof(rsh), "DOPY_RSH=%s", e2e_bin("dopy-rsh"));
	pty_spawn(&p, argv, set);
	pty_expect(&p, "a dopy server");
	pty_expect(&p, "dopy dopyd> ");
	pty_line(&p, "test add 2 3", "\r\n5\r\n");
	pty_quit(&p, "dopy dopyd> ", 0);
}

Test(console, dopyd_without_dopy_rsh, .timeout = 30)
{
	char *argv[] = { (char *)e2e_bin("dopyd"), NULL };
	char *set[] = { "TERM=xterm", "DOPY_RSH=/nonexistent/dopy-rsh", NULL };
	struct pty p;

	pty_spawn(&p, argv, set);
	pty_expect(&p, "no dopy-rsh");
	pty_finish(&p, 2);
}
