/*
 * e2e_util.h - helpers for the end-to-end tests: run the real programs
 * from $DOPY_BIN with pipes, read and wait with deadlines, and talk the
 * wire protocol to dopyd by hand.
 *
 * Criterion does not run .fini after a crash or a timeout, so every
 * child is made safe at spawn time: it dies with its parent
 * (PR_SET_PDEATHSIG), checks it was not already orphaned, and writes its
 * stderr to a file in the test's private directory.  Every wait has a
 * deadline and kills the child after it; every reaped child's stderr is
 * searched for sanitizer reports (the ASan run builds the programs with
 * ASan too), and one fails the test.
 */
#ifndef E2E_UTIL_H
#define E2E_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <criterion/parameterized.h>

#include "internal.h"

#define E2E_WAIT_MS	10000	/* deadline for a child by default */
#define E2E_MAX_FRAME	(1u << 20)	/* e2e_dopyd_features offers it */

struct e2e_proc {
	pid_t	pid;		/* 0 once reaped */
	int	in;		/* our end of the child's stdin, or -1 */
	int	out;		/* our end of the child's stdout, or -1 */
	char	errpath[512];	/* the child's stderr */
	char	name[64];	/* for messages */
};

/* The outcome of e2e_run(). */
struct e2e_run {
	int	 status;	/* as from waitpid(2) */
	char	*out;		/* stdout, NUL-terminated */
	size_t	 outlen;
	char	*err;		/* stderr, NUL-terminated */
};

/* The test's private directory, made on first use, removed at exit. */
const char	*e2e_tmpdir(void);
/* $DOPY_BIN/prog (a static buffer, one of several in rotation).  Without
 * $DOPY_BIN, bin/ beside or above the test binary. */
const char	*e2e_bin(const char *prog);
/* The source tree: the first directory at or above $DOPY_BIN with a
 * Makefile and lib/dopy.h (malloc'd). */
char		*e2e_top(void);

/* A client connection to $DOPY_BIN/dopyd spawned over a pipe, its log
 * to log (NULL: /dev/null); fails the test if it cannot connect. */
dopy_conn	*e2e_dopyd_conn(const char *log);
/* Start argv[0] (searched in PATH) with pipes on stdin and stdout. */
void		 e2e_spawn(struct e2e_proc *, char *const argv[]);
/* Close our ends of the pipes (EOF for the child). */
void		 e2e_close(struct e2e_proc *);
/* Reap the child within ms or kill it and fail; fails the test too when
 * its stderr holds a sanitizer report.  Returns the wait status. */
int		 e2e_wait(struct e2e_proc *, int ms);
/* Run argv to completion with input on its stdin; everything it wrote is
 * in r.  Fails the test if it takes longer than ms. */
void		 e2e_run_ms(struct e2e_run *r, const void *input, size_t len,
		    int ms, char *const argv[]);
#define e2e_run(r, argv)	e2e_run_ms((r), NULL, 0, E2E_WAIT_MS, (argv))
void		 e2e_run_free(struct e2e_run *);
/* Fail the test unless r exited with code and, when out is not NULL,
 * wrote exactly out on stdout. */
void		 e2e_assert_run(const struct e2e_run *r, int code,
		    const char *out);
/* Run argv with no input, check it as e2e_assert_run() does, and that
 * its stderr holds errpart when that is not NULL; frees what it read. */
void		 e2e_run_expect(char *const argv[], int code, const char *out,
		    const char *errpart);

/* Read until len bytes, EOF or the deadline; returns the count or -1. */
ssize_t		 e2e_read(int fd, void *buf, size_t len, int ms);
/* Read to EOF within ms (fails the test at the deadline); malloc'd and
 * NUL-terminated. */
char		*e2e_read_all(int fd, size_t *len, int ms);
/* Write it all; 0, or -1 when the reader has gone (EPIPE). */
int		 e2e_write(int fd, const void *buf, size_t len);
/* A whole file, NUL-terminated, or NULL. */
char		*e2e_slurp(const char *path, size_t *len);
int		 e2e_spit(const char *path, const char *text);
/* s with what changes from run to run masked, for exact comparisons:
 * this host's name as HOST, the number after "pid " or "pid": as PID
 * (malloc'd). */
char		*e2e_mask(const char *s);
/* The "exit" line a dopyd that logs to log (-L) writes as it ends, once
 * there (malloc'd); at the deadline, kill that dopyd (its pid is in the
 * log) and fail the test.  For a server this process did not start. */
char		*e2e_dopyd_exit_line(const char *log, int ms);
/* Fail the test if the file holds an ASan, LSan or UBSan report. */
void		 e2e_check_sanitizers(const char *path, const char *who);
/* "exit 3" or "signal 9", for messages (a static buffer). */
const char	*e2e_status(int status);
int		 e2e_exited(int status, int code);

/* ---- the wire, by hand ---- */

/* Append a frame with this payload to b. */
void		 e2e_frame(struct dopy_buf *b, uint8_t type, uint32_t id,
		    const void *payload, size_t len);
/* Append a HELLO frame. */
void		 e2e_hello(struct dopy_buf *b, uint32_t proto, uint32_t max);
/* Append a CALL frame; names may be NULL (all positional); takes the
 * values. */
void		 e2e_call(struct dopy_buf *b, uint32_t id, const char *object,
		    const char *method, size_t argc, const char *const *names,
		    dopy_value *const *args);
/* Append the image of v to b; takes v. */
void		 e2e_encode(struct dopy_buf *b, dopy_value *v);
/* text read as a value of type (fails the test if it does not read). */
dopy_value	*e2e_value(const char *type, const char *text);
/* Store v little-endian at p (to patch a field of a tpl image). */
void		 e2e_put_le32(uint8_t *p, uint32_t v);

struct e2e_frame {
	uint8_t		 type;
	uint32_t	 id;
	uint32_t	 len;
	uint8_t		*payload;	/* malloc'd */
};
/* 1 with a frame, 0 at EOF before one, -1 on a bad header, EOF inside
 * a frame or the deadline. */
int		 e2e_read_frame(int fd, struct e2e_frame *, int ms);
/* The next frame must be an ERROR with this call id and error name;
 * returns the decoded error (free it). */
dopy_error	*e2e_expect_error(int fd, uint32_t id, const char *name);
/* The next frame must be a REPLY with this id; returns its value. */
dopy_value	*e2e_expect_reply(int fd, uint32_t id);
/* The same, whose value must be the int want. */
void		 e2e_expect_int(int fd, uint32_t id, int64_t want);
/* Spawn argv and read its first line (a listener's address, -B), kept
 * without its newline in line if not NULL. */
void		 e2e_spawn_line(struct e2e_proc *, char *const argv[],
		    char *line, size_t len);
/* `dopyd -d -B -l addr [opt]`, once it has printed where it listens. */
void		 e2e_listener(struct e2e_proc *, const char *addr,
		    const char *opt);
/* A listener `dopyd -l unix:... [opt]` serves two connections, each
 * checked by serves(target), then ends at SIGTERM with status 0. */
void		 e2e_twice_through_listener(const char *opt,
		    void (*serves)(const char *target));
/* dopy_connect(target), which must succeed. */
dopy_conn	*e2e_connect(const char *target);
/* VmRSS of process pid in KiB. */
long		 e2e_rss_kib(pid_t pid);
/* Sleep ms milliseconds. */
void		 e2e_nap_ms(long ms);
/* How many processes have pid for their parent (from /proc). */
int		 e2e_children_of(long pid);

/* ---- calls through the client library ---- */

/* Arguments of one int. */
dopy_args	*e2e_int_arg(int64_t i);
/* method(a) through p (a NULL: none; takes a), whose int result it
 * returns; fails the test on an error. */
int64_t		 e2e_call_int(dopy_proxy *p, const char *method, dopy_args *a);
/* method(ms) through p, cancelled 100 ms in: its error (free it), and
 * the time from the cancel to it in *took. */
dopy_error	*e2e_cancelled(dopy_proxy *p, const char *method, int64_t ms,
		    int64_t *took);
/* iso.stubborn(10000) through p with a deadline of ms, which must end
 * in dopy.DeadlineExceeded, then iso.stubborn(1) without one: the time
 * from the first call to the second's answer. */
int64_t		 e2e_stubborn_past(dopy_conn *c, dopy_proxy *p, int ms);
/* Every frame in p..p+len must be a well-formed ERROR; returns how many,
 * and the name of the first in first (if not NULL, malloc'd). */
size_t		 e2e_all_errors(const uint8_t *p, size_t len, char **first);

/* Start `dopyd -d` (extra options may follow) and, with hello, do the
 * HELLO exchange offering max as the frame limit. */
void		 e2e_dopyd(struct e2e_proc *, int hello, uint32_t max,
		    const char *opt);
/* `dopyd -d` spoken to by hand, its HELLO announcing features (which
 * dopyd must announce too); 0: e2e_dopyd's plain HELLO. */
void		 e2e_dopyd_features(struct e2e_proc *, uint64_t features);
/* EOF on the child's stdin: nothing more may come from it, and it must
 * exit with code. */
void		 e2e_finish(struct e2e_proc *, int code);
/* Send all of b to the child's stdin. */
void		 e2e_send(struct e2e_proc *, const struct dopy_buf *b);

/* ---- daemons on loopback (e2e_launchers.c, e2e_zero.c) ---- */

/* launch starts a daemon that should listen on 127.0.0.1:port. */
typedef void e2e_launch_fn(struct e2e_proc *, int port, void *arg);
/* Start one on a free port, a few tries if the port gets taken; waits
 * until the daemon's own pid listens there, and returns the port. */
int		 e2e_start_on_port(struct e2e_proc *, e2e_launch_fn *,
		    void *arg);

/* A private sshd as root on 127.0.0.1, its keys and configuration in
 * the test's directory (sshd_config, host_key, user_key, ...). */
struct e2e_sshd {
	struct e2e_proc	 p;
	int		 port;
	const char	*rootlogin;	/* PermitRootLogin */
	char		*extra;		/* config lines after ours */
	char		 ssh[1024];	/* the client command, for DOPY_SSH */
};
/* Start it, the client's key with the authorized_keys options opts, and
 * set $DOPY_SSH to a client command that uses that key. */
void		 e2e_sshd_start(struct e2e_sshd *, const char *opts);

/* ---- tables as parameterized tests ---- */

/*
 * Criterion hands each parameterized test a copy of its parameter in
 * another process, where pointers in a table mean nothing.  So the
 * parameter is an index into the table: E2E_TABLE_PARAMS(suite, name,
 * table) makes the parameters of ParameterizedTest(size_t *i, suite,
 * name), one a row.
 */
struct criterion_test_params e2e_index_params(size_t *index, size_t n);
#define E2E_TABLE_PARAMS(suite, name, table)				\
	static size_t suite##_##name##_index[sizeof(table) /		\
	    sizeof((table)[0])];					\
	ParameterizedTestParameters(suite, name)			\
	{								\
		return e2e_index_params(suite##_##name##_index,		\
		    sizeof(table) / sizeof((table)[0]));			\
	}

#endif /* E2E_UTIL_H */
