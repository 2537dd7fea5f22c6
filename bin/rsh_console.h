/*
 * rsh_console.h - dopy-rsh's console (-i), dopy-rsh(1) CONSOLE.
 */
#ifndef RSH_CONSOLE_H
#define RSH_CONSOLE_H

#include "dopy.h"

/*
 * Read commands from standard input and run them over conn until the
 * end of the input or .quit; the prompt names name.  On a terminal,
 * with line editing, history and completion; elsewhere, a script
 * without prompts.  Returns the exit status of the last command.
 */
int	 rsh_console(dopy_conn *conn, const char *name);

#endif
