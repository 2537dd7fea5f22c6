/*
 * log.c - where a server's diagnostics go: syslog by default, stderr or
 * a file on request, never stdout (that is the wire).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "server/server.h"

void
dopy_log_init(struct dopy_log *l)
{
	memset(l, 0, sizeof(*l));
	l->sink = DOPY_LOG_SYSLOG;
	l->fd = -1;
	strlcpy(l->ident, "dopy", sizeof(l->ident));
}

int
dopy_log_open(struct dopy_log *l, enum dopy_log_sink sink, const char *path)
{
	int fd;

	switch (sink) {
	case DOPY_LOG_SYSLOG:
		openlog(l->ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		fd = -1;
		break;
	case DOPY_LOG_STDERR:
		/* A private copy: fd 2 itself may be pointed elsewhere by
		 * the stdio guard when it is the connection. */
		if ((fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3)) < 0)
			return DOPY_E_SYS;
		break;
	case DOPY_LOG_FILE:
		if (path == NULL)
			return DOPY_E_INVAL;
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		    0640);
		if (fd < 0)
			return DOPY_E_SYS;
		break;
	default:
		return DOPY_E_INVAL;
	}
	dopy_log_close(l);
	l->sink = sink;
	l->fd = fd;
	return 0;
}

void
dopy_log_close(struct dopy_log *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

/*
 * Messages quote peers (software versions, names, payload bytes): no
 * control character of theirs may end a line and forge the next one.
 * dst holds 4 bytes per byte of src.
 */
static void
defang(char *dst, const char *src)
{
	const unsigned char *p;

	for (p = (const unsigned char *)src; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			dst += sprintf(dst, "\\%03o", *p);
		else
			*dst++ = (char)*p;
	}
	*dst = '\0';
}

/* A line of its own for stderr or a file.  Not inlined: its buffer
 * stays off the stack of syslog's lines, two a connection through the
 * listener, where each page of stack touched after a fork is a
 * copy-on-write fault. */
static void __attribute__((noinline))
write_line(struct dopy_log *l, const char *msg)
{
	char line[4200];
	struct tm tm;
	time_t now;
	int n;

	now = time(NULL);
	gmtime_r(&now, &tm);
	n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02dZ "
	    "%s[%ld]: %s\n", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, l->ident, (long)getpid(), msg);
	if (n > (int)sizeof(line) - 1)
		n = sizeof(line) - 1;
	/* One write per line keeps lines whole when processes share a
	 * log file; a failed log write has nowhere to be reported. */
	if (write(l->fd, line, (size_t)n) < 0)
		(void)errno;
}

static void
vlog(struct dopy_log *l, int prio, const char *fmt, va_list ap)
{
	char raw[1024], msg[4 * 1024 + 1];

	if (prio == LOG_DEBUG && !l->verbose)
		return;
	vsnprintf(raw, sizeof(raw), fmt, ap);
	defang(msg, raw);
	if (l->sink == DOPY_LOG_SYSLOG)
		syslog(prio, "%s", msg);
	else if (l->fd >= 0)
		write_line(l, msg);
}

void
dopy_log(struct dopy_log *l, int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(l, prio, fmt, ap);
	va_end(ap);
}

/* Whether a line may go out now; refills a token per DOPY_LOG_EVERY_MS. */
static int
take_token(struct dopy_lograte *r)
{
	int64_t now = dopy_now_ms(), n;

	if (r->at == 0) {
		r->at = now;
		r->tokens = DOPY_LOG_BURST;
	}
	n = (now - r->at) / DOPY_LOG_EVERY_MS;
	if (n > 0) {
		r->tokens = n >= DOPY_LOG_BURST - r->tokens ? DOPY_LOG_BURST :
		    r->tokens + (int)n;
		r->at += n * DOPY_LOG_EVERY_MS;
	}
	if (r->tokens == 0) {
		r->dropped++;
		return 0;
	}
	r->tokens--;
	return 1;
}

void
dopy_vlog_limited(struct dopy_log *l, struct dopy_lograte *r, int prio,
    const char *fmt, va_list ap)
{
	if ((prio != LOG_DEBUG || l->verbose) && take_token(r))
		vlog(l, prio, fmt, ap);
}

/* A frame's line is cut to fit vlog's message. */
#define FRAME_LINE_MAX	1000

/* -v: one line per frame, as dopy-dump(1) prints it. */
void
dopy_log_frame(struct dopy_log *l, int out, const uint8_t *hdr,
    const struct iovec *pl, int cnt)
{
	char *json;

	if (!l->verbose)
		return;
	json = dopy_frame_json_iov(hdr, pl, cnt, FRAME_LINE_MAX);
	dopy_log(l, LOG_DEBUG, "%s %s", out ? "send" : "recv",
	    json != NULL ? json : "(out of memory)");
	free(json);
}
