/*
 * test_log.c - lib/server/log.c: syslog, stderr or a file; never stdout.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <syslog.h>

#include "testutil.h"

struct tmp {
	char	dir[64];
	char	path[128];
};

static void
tmp_make(struct tmp *t)
{
	strlcpy(t->dir, "/tmp/dopy-log-XXXXXX", sizeof(t->dir));
	cr_assert_not_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/log", t->dir);
}

static void
tmp_remove(struct tmp *t)
{
	unlink(t->path);
	rmdir(t->dir);
}

/* The whole file, NUL-terminated (static). */
static const char *
slurp(const char *path)
{
	static char buf[65536];
	ssize_t n;
	int fd;

	cr_assert_geq(fd = open(path, O_RDONLY), 0, "%s", path);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	cr_assert_geq(n, 0);
	buf[n] = '\0';
	return buf;
}

/* Point fd 1 at a pipe for the test; what reached it at the end. */
struct capture {
	int	saved;
	int	p[2];
};

static void
capture_start(struct capture *c, int fd)
{
	cr_assert_eq(pipe(c->p), 0);
	cr_assert_geq(c->saved = dup(fd), 0);
	cr_assert_geq(dup2(c->p[1], fd), 0);
	close(c->p[1]);
	fcntl(c->p[0], F_SETFL, O_NONBLOCK);
}

static ssize_t
capture_end(struct capture *c, int fd, char *buf, size_t len)
{
	ssize_t n;

	fflush(NULL);
	dup2(c->saved, fd);
	close(c->saved);
	n = read(c->p[0], buf, len - 1);
	close(c->p[0]);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	return n;
}

Test(log, init_is_syslog)
{
	struct dopy_log l;

	dopy_log_init(&l);
	cr_assert_eq(l.sink, DOPY_LOG_SYSLOG);
	cr_assert_eq(l.fd, -1);
	cr_assert_eq(l.verbose, 0);
	cr_assert_str_eq(l.ident, "dopy");
	dopy_log_close(&l);
	dopy_log_close(&l);
}

Test(log, file_gets_the_line)
{
	struct dopy_log l;
	struct tmp t;
	const char *s;
	char want[64];

	tmp_make(&t);
	dopy_log_init(&l);
	cr_assert_eq(dopy_log_open(&l, DOPY_LOG_FILE, t.path), 0);
	cr_assert_geq(l.fd, 0);
	cr_assert(fcntl(l.fd, F_GETFD) & FD_CLOEXEC);
	dopy_log(&l, LOG_INFO, "hello %d %s", 42, "world");
	dopy_log(&l, LOG_ERR, "second line");
	s = slurp(t.path);
	cr_assert(strstr(s, "hello 42 world\n") != NULL, "%s", s);
	cr_assert(strstr(s, "second line\n") != NULL, "%s", s);
	snprintf(want, sizeof(want), "dopy[%ld]: hello", (long)getpid());
	cr_assert(strstr(s, want) != NULL, "%s", s);
	/* ISO 8601 UTC time first. */
	cr_assert_eq(s[4], '-');
	cr_assert_eq(s[10], 'T');
	cr_assert_eq(s[19], 'Z');
	dopy_log_close(&l);
	cr_assert_eq(l.fd, -1);
	tmp_remove(&t);
}

Test(log, file_appends)
{
	struct dopy_log l;
	struct tmp t;
	const char *s;

	tmp_make(&t);
	dopy_log_init(&l);
	cr_assert_eq(dopy_log_open(&l, DOPY_LOG_FILE, t.path), 0);
	dopy_log(&l, LOG_INFO, "first");
	dopy_log_close(&l);
	cr_assert_eq(dopy_log_open(&l, DOPY_LOG_FILE, t.path), 0);
	dopy_log(&l, LOG_INFO, "second");
	dopy_log_close(&l);
	s = slurp(t.path);
	cr_assert(strstr(s, "first") != NULL && strstr(s, "second") != NULL,
	    "%s", s);
	tmp_remove(&t);
}

Test(log, debug_only_when_verbose)
{
	struct dopy_log l;
	struct tmp t;
	const char *s;

	tmp_make(&t);
	dopy_log_init(&l);
	cr_assert_eq(dopy_log_open(&l, DOPY_LOG_FILE, t.path), 0);
	dopy_log(&l, LOG_DEBUG, "hidden debug");
	l.verbose = 1;
	dopy_log(&l, LOG_DEBUG, "shown debug");
	s = slurp(t.path);
	cr_assert_null(strstr(s, "hidden debug"), "%s", s);
	cr_assert(strstr(s, "shown debug") != NULL, "%s", s);
	dopy_log_close(&l);
	tmp_remove(&t);
}

Test(log, long_message_is_one_line)
{
	struct dopy_log l;
	struct tmp t;
	char big[5000];
	const char *s;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	tmp_make(&t);
	dopy_log_init(&l);
	cr_assert_eq(dopy_log_open(&l, DOPY_LOG_FILE, t.path), 0);
	dopy_log(&l, LOG_INFO, "%s", big);
	dopy_log(&l, LOG_INFO, "after");
	s = slurp(t.path);
	cr_assert(strstr(s, "xxxx") != NULL);
	cr_assert_lt(strlen(s), 1300, "one bounded line per message");
	cr_assert(strstr(s, "after") != NULL, "%s", s);
	dopy_log_close(&l);
	tmp_remove(&t);
}

/* One frame to the log as -v writes it: a header and payload. */
static void
log_frame(struct dopy_log *l, int out, uint8_t type, uint32_t id,
    const uint8_t *p, size_t len)
{
	struct iovec iov = { (void *)p, len };
	uint8_t hdr[DOPY_HDR_LEN];

	dopy_frame_encode(hdr, type, id, (uint32_t)len);
	dopy_log_frame(l, out, hdr, &iov, len > 0);
}

Test(log, frame_trace_is_decoded_and_made_safe)
{
	const char *names[] = { "x" };
	struct dopy_buf b;
	struct dopy_log l;
	struct tmp t;
	dopy_value *v;
	const char *s;
	char big[3000];

	tmp_make(&t);
	dopy_log_init(&l);
	cr_assert_eq(dopy_log_open(&l, DOPY_LOG_FILE, t.path), 0);
	dopy_buf_init(&b);
	cr_assert_eq(dopy_msg_call_put(&b, "a\nb\x1b[", "m", names, 1), 0);
	v = dopy_value_string("hi");
	cr_assert_eq(dopy_encode(v, &b), 0);
	dopy_value_free(v);
	log_frame(&l, 0, DOPY_F_CALL, 7, b.data, b.len);	/* not verbose */
	cr_assert_str_eq(slurp(t.path), "");
	l.verbose = 1;
	log_frame(&l, 0, DOPY_F_CALL, 7, b.data, b.len);
	s = slurp(t.path);
	cr_assert(strstr(s, "recv {\"frame\":\"CALL\",\"id\":7,") != NULL,
	    "%s", s);
	cr_assert(strstr(s, "\"object\":\"a\\u000ab\\u001b[\"") != NULL,
	    "%s", s);
	cr_assert(strstr(s, "\"args\":[{\"name\":\"x\",\"type\":\"string\","
	    "\"value\":\"hi\"}]") != NULL, "%s", s);
	cr_assert_null(strchr(s, '\x1b'), "escape reached the log: %s", s);
	cr_assert_eq(strchr(s, '\n'), s + strlen(s) - 1, "one line: %s", s);
	/* What does not decode is said, not fatal; long lines are cut. */
	log_frame(&l, 1, DOPY_F_REPLY, 8, (const uint8_t *)"junk", 4);
	s = slurp(t.path);
	cr_assert(strstr(s, "send {\"frame\":\"REPLY\",\"id\":8,\"flags\":0,"
	    "\"len\":4,\"bad\":") != NULL, "%s", s);
	dopy_buf_reset(&b);
	memset(big, 'p', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	v = dopy_value_string(big);
	cr_assert_eq(dopy_encode(v, &b), 0);
	dopy_value_free(v);
	log_frame(&l, 1, DOPY_F_REPLY, 9, b.data, b.len);
	s = slurp(t.path);
	cr_assert(strstr(s, "ppp...") != NULL, "%s", s);
	cr_assert_lt(strlen(strstr(s, "\"id\":9")), 1100, "%s", s);
	dopy_buf_release(&b);
	dopy_log_close(&l);
	tmp_remove(&t);
}

Test(log, stderr_sink)
{
	struct dopy_log l;
	struct capture cap;
	char buf[4096];

	capture_start(&cap, STDERR_FILENO);
	dopy_log_init(&l);
	cr_assert_eq(dopy_log_open(&l, DOPY_LOG_STDERR, NULL), 0);
	cr_assert_gt(l.fd, 2, "a private copy of fd 2");
	dopy_log(&l, LOG_WARNING, "to stderr %d", 7);
	dopy_log_close(&l);
	capture_end(&cap, STDERR_FILENO, buf, sizeof(buf));
	cr_assert(strstr(buf, "to stderr 7") != NULL, "%s", buf);
}

/* Whatever the sink, nothing goes to stdout (the wire). */
Test(log, never_stdout)
{
	struct dopy_log l;
	struct capture out, err;
	struct tmp t;
	char buf[4096], ebuf[4096];
	enum dopy_log_sink sinks[] = { DOPY_LOG_STDERR, DOPY_LOG_FILE,
	    DOPY_LOG_SYSLOG };
	size_t i;

	tmp_make(&t);
	capture_start(&out, STDOUT_FILENO);
	capture_start(&err, STDERR_FILENO);
	for (i = 0; i < 3; i++) {
		dopy_log_init(&l);
		l.verbose = 1;
		cr_assert_eq(dopy_log_open(&l, sinks[i], t.path), 0);
		dopy_log(&l, LOG_ERR, "MESSAGE-%zu", i);
		dopy_log(&l, LOG_DEBUG, "DEBUG-%zu", i);
		log_frame(&l, 0, DOPY_F_HELLO, 0, (const uint8_t *)"abc", 3);
		dopy_log_close(&l);
	}
	capture_end(&err, STDERR_FILENO, ebuf, sizeof(ebuf));
	cr_assert_eq(capture_end(&out, STDOUT_FILENO, buf, sizeof(buf)), 0,
	    "stdout got: %s", buf);
	cr_assert(strstr(ebuf, "MESSAGE-0") != NULL, "%s", ebuf);
	cr_assert(strstr(slurp(t.path), "MESSAGE-1") != NULL);
	tmp_remove(&t);
}

Test(log, open_errors)
{
	struct dopy_log l;
	struct tmp t;

	tmp_make(&t);
	dopy_log_init(&l);
	cr_assert_eq(dopy_log_open(&l, DOPY_LOG_FILE, NULL), DOPY_E_INVAL);
	cr_assert_eq(dopy_log_open(&l, DOPY_LOG_FILE,
	    "/nonexistent-dir/x/log"), DOPY_E_SYS);
	cr_assert_eq(dopy_log_open(&l, (enum dopy_log_sink)99, t.path),
	    DOPY_E_INVAL);
	/* A failed open keeps the old sink. */
	cr_assert_eq(dopy_log_open(&l, DOPY_LOG_FILE, t.path), 0);
	cr_assert_eq(dopy_log_open(&l, DOPY_LOG_FILE, "/nonexistent-dir/y"),
	    DOPY_E_SYS);
	cr_assert_eq(l.sink, DOPY_LOG_FILE);
	dopy_log(&l, LOG_INFO, "still here");
	cr_assert(strstr(slurp(t.path), "still here") != NULL);
	dopy_log_close(&l);
	tmp_remove(&t);
}

Test(log, server_set_log)
{
	dopy_server *s = dopy_server_new();
	struct tmp t;

	tmp_make(&t);
	cr_assert_eq(dopy_server_set_log(s, DOPY_LOG_FILE, t.path, 1), 0);
	cr_assert_eq(s->log.verbose, 1);
	dopy_log(&s->log, LOG_DEBUG, "via the server");
	cr_assert(strstr(slurp(t.path), "via the server") != NULL);
	dopy_server_free(s);
	tmp_remove(&t);
}
