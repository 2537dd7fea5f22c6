/*
 * spawn.c - start a server command with pipes, the DOPY rsh way:
 * `ssh host dopyd`, `bin/dopyd`, `nc host 9600` all become a connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <unistd.h>

#include "client/client.h"

extern char **environ;

int
dopy_spawn(const char *command, int *in, int *out, pid_t *pid,
    dopy_error **ep)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int to[2] = { -1, -1 }, from[2] = { -1, -1 }, r;
	char *argv[] = { "sh", "-c", (char *)command, NULL };

	if (pipe2(to, O_CLOEXEC) != 0 || pipe2(from, O_CLOEXEC) != 0) {
		r = errno;
		goto fail;
	}
	/* The child gets the pipe ends as 0 and 1; dup2 clears CLOEXEC. */
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, to[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, from[1], STDOUT_FILENO);
	/* Its own process group, so that ending a stuck server ends what
	 * the shell started too (dash does not exec the last command). */
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&attr, 0);
	r = posix_spawn(pid, "/bin/sh", &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		goto fail;
	close(to[0]);
	close(from[1]);
	*out = to[1];
	*in = from[0];
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (to[i] >= 0)
			close(to[i]);
		if (from[i] >= 0)
			close(from[i]);
	}
	return dopy_error_set(ep, DOPY_E_SPAWN, "cannot start '%s': %s",
	    command, strerror(r));
}
