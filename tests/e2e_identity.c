/*
 * e2e_identity.c - caller identity (dopy_call_transport and friends)
 * through the real dopyd, over a pipe, the TCP listener with a key, a
 * UNIX socket, and ssh as seen through $SSH_CONNECTION.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "e2e_util.h"

/* Run dopy-rsh with args; return its stdout (caller frees). */
static char *
rsh(char *const argv[])
{
	struct e2e_run r;
	char *out;

	e2e_run(&r, argv);
	cr_assert(e2e_exited(r.status, 0), "dopy-rsh: %s\n%s",
	    e2e_status(r.status), r.err);
	out = strdup(r.out);
	e2e_run_free(&r);
	return out;
}

/* One line from fd (without its newline), within the e2e deadline. */
static void
read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;

	while (n + 1 < len && e2e_read(fd, buf + n, 1, E2E_WAIT_MS) == 1 &&
	    buf[n] != '\n')
		n++;
	buf[n] = '\0';
	cr_assert_gt(n, 0, "dopyd printed no port or path");
}

/* Start dopyd -l ADDR -B [more]; read the port or path it prints. */
static void
listener(struct e2e_proc *p, char *addr, char *more, char *bound,
    size_t len)
{
	char *argv[] = { (char *)e2e_bin("dopyd"), "-l", addr, "-B", more,
	    NULL };
	if (more == NULL)
		argv[4] = NULL;
	e2e_spawn(p, argv);
	read_line(p->out, bound, len);
}

Test(identity, pipe, .timeout = 20)
{
	char *argv[] = { (char *)e2e_bin("dopy-rsh"), (char *)e2e_bin("dopyd"),
	    "test", "caller", NULL };
	char *out = rsh(argv);

	cr_assert_str_eq(out, "(\"pipe\", \"\", \"\", -1, \"\", false)\n");
	free(out);
}

Test(identity, tcp_with_key, .timeout = 20)
{
	char key[512], port[32], target[64], want[64], *out;
	struct e2e_proc p;
	FILE *f;

	snprintf(key, sizeof(key), "%s/key", e2e_tmpdir());
	cr_assert_not_null(f = fopen(key, "w"));
	fputs("0123456789abcdef0123456789abcdef", f);
	fclose(f);
	chmod(key, 0600);
	char *args[] = { (char *)e2e_bin("dopyd"), "-l", "127.0.0.1:0", "-B",
	    "-k", key, NULL };
	e2e_spawn(&p, args);
	read_line(p.out, port, sizeof(port));
	snprintf(target, sizeof(target), "tcp://127.0.0.1:%s", port);
	char *argv[] = { (char *)e2e_bin("dopy-rsh"), "-k", key, target,
	    "test", "caller", NULL };
	out = rsh(argv);
	snprintf(want, sizeof(want), "(\"tcp\", \"127.0.0.1\", \"");
	cr_assert(strncmp(out, want, strlen(want)) == 0, "got %s", out);
	cr_assert(strstr(out, ", -1, \"\", true)\n") != NULL, "got %s", out);
	free(out);
	kill(p.pid, SIGTERM);
	cr_assert(e2e_exited(e2e_wait(&p, E2E_WAIT_MS), 0));
	e2e_close(&p);
}

Test(identity, unix_socket_uid, .timeout = 20)
{
	char path[512], bound[512], target[600], want[64], *out;
	struct e2e_proc p;

	snprintf(path, sizeof(path), "unix:%s/sock", e2e_tmpdir());
	listener(&p, path, NULL, bound, sizeof(bound));
	snprintf(target, sizeof(target), "unix:%s", bound);
	char *argv[] = { (char *)e2e_bin("dopy-rsh"), target, "test",
	    "caller", NULL };
	out = rsh(argv);
	snprintf(want, sizeof(want), "(\"unix\", \"\", \"\", %ld, \"\", "
	    "false)\n", (long)getuid());
	cr_assert_str_eq(out, want);
	free(out);
	kill(p.pid, SIGTERM);
	cr_assert(e2e_exited(e2e_wait(&p, E2E_WAIT_MS), 0));
	e2e_close(&p);
}

/* sshd sets SSH_CONNECTION for the forced command; a pipe server that
 * inherits it reports ssh and the client's address and port. */
Test(identity, ssh_connection, .timeout = 20)
{
	char *argv[] = { (char *)e2e_bin("dopy-rsh"), (char *)e2e_bin("dopyd"),
	    "test", "caller", NULL };
	char *out;

	setenv("SSH_CONNECTION", "192.0.2.7 50123 192.0.2.1 22", 1);
	out = rsh(argv);
	unsetenv("SSH_CONNECTION");
	cr_assert_str_eq(out, "(\"ssh\", \"192.0.2.7\", \"50123\", -1, "
	    "\"192.0.2.7 50123 192.0.2.1 22\", false)\n");
	free(out);
}
