/*
 * tools.h - the tools layer's private declarations (lib/tools/): what
 * every server program gets from dopy_main(): its options, the
 * listener, -n names, the terminal console.  The top layer: its files
 * use server.h (and register.c client.h).  Never installed.
 */
#ifndef DOPY_TOOLS_H
#define DOPY_TOOLS_H

#include <stdio.h>

#include "dopy.h"

/* register.c: -n, names bound to the listener's address in $DOPY_NS. */
int	 dopy_register_add(dopy_server *, const char *spec);
void	 dopy_register_up(dopy_server *, const char *target);
void	 dopy_register_down(dopy_server *, const char *target);
/* listen.c: the forking (or, with -s, threaded) listener.  Returns like dopy_main:
 * in the parent after a graceful stop, in each child after its
 * connection; *child tells which. */
int	 dopy_listen_run(dopy_server *, int *child);
/* main.c: whether fd is a listening socket. */
int	 dopy_is_listening(int fd);
/* listen.c: systemd socket activation: the listening fds passed in LISTEN_FDS. */
int	 dopy_systemd_fds(int *fds, int max);
/* mainopt.c: a program's own options beside dopy_main's.  A getopt
 * string of dopy's letters and every letter and digit with ':' fits in
 * DOPY_MAINOPT_MAX. */
#define DOPY_MAINOPT_MAX	(64 + 2 * 62 + 1)
int	 dopy_mainopt_merge(const struct dopy_option *, const char *dopy,
	    char *out, size_t size, const char *prog);
int	 dopy_mainopt_set(const struct dopy_option *, int c, const char *arg,
	    const char *prog);
void	 dopy_mainopt_usage(FILE *, const struct dopy_option *,
	    const char *prog);
void	 dopy_mainopt_help(const struct dopy_option *, const char *prog);
/* tty.c: stdin is a terminal, no listener: offer dopy-rsh's console on
 * our own objects.  -1 in the child that must now serve stdio (a socket
 * to the console); else the exit status for dopy_main(). */
int	 dopy_tty_console(const char *prog);

#endif /* DOPY_TOOLS_H */
