/*
 * e2e_util.c - spawning, reading and waiting with deadlines, and frames
 * by hand, for the end-to-end tests (see e2e_util.h).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "e2e_util.h"

static char	tmpdir[256];
static int	nspawned;

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void __attribute__((destructor))
rm_tmpdir(void)
{
	if (tmpdir[0] != '\0')
		nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
e2e_tmpdir(void)
{
	const char *base;

	if (tmpdir[0] == '\0') {
		if ((base = getenv("TMPDIR")) == NULL || *base == '\0')
			base = "/tmp";
		snprintf(tmpdir, sizeof(tmpdir), "%s/dopy-e2e.XXXXXX", base);
		cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp %s: %s", tmpdir,
		    strerror(errno));
	}
	return tmpdir;
}

static int
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Where the programs are: $DOPY_BIN, else bin/ next to or above us. */
static const char *
bindir(void)
{
	static char dir[PATH_MAX + 16];
	char exe[PATH_MAX], *slash;
	const char *env;
	ssize_t n;

	if (dir[0] != '\0')
		return dir;
	if ((env = getenv("DOPY_BIN")) != NULL && *env != '\0') {
		snprintf(dir, sizeof(dir), "%s", env);
		return dir;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	cr_assert(n > 0, "set DOPY_BIN to the directory of the programs");
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) != NULL)
		*slash = '\0';
	snprintf(dir, sizeof(dir), "%s/bin", exe);
	if (!is_dir(dir))
		snprintf(dir, sizeof(dir), "%s/../bin", exe);
	cr_assert(is_dir(dir), "set DOPY_BIN to the directory of the programs");
	return dir;
}

const char *
e2e_bin(const char *prog)
{
	static char bufs[8][PATH_MAX];
	static int next;
	char *b = bufs[next++ % 8];

	snprintf(b, PATH_MAX, "%s/%s", bindir(), prog);
	cr_assert(access(b, X_OK) == 0, "%s: %s (DOPY_BIN)", b,
	    strerror(errno));
	return b;
}

char *
e2e_top(void)
{
	char path[PATH_MAX], probe[PATH_MAX + 32];
	int i;

	cr_assert_not_null(realpath(bindir(), path), "realpath %s", bindir());
	for (i = 0; i < 8; i++) {
		snprintf(probe, sizeof(probe), "%s/lib/dopy.h", path);
		if (access(probe, R_OK) == 0) {
			snprintf(probe, sizeof(probe), "%s/Makefile", path);
			if (access(probe, R_OK) == 0)
				return strdup(path);
		}
		if (strcmp(path, "/") == 0)
			break;
		*strrchr(path, '/') = '\0';
		if (path[0] == '\0')
			strcpy(path, "/");
	}
	cr_assert_fail("no source tree (Makefile, lib/dopy.h) above %s",
	    bindir());
	return NULL;
}

/* ---- children ---- */

static void
child(char *const argv[], int in, int out, int errfd, pid_t parent)
{
	/* Between fork and exec only async-signal-safe calls. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
		_exit(126);
	close_range(3, ~0U, 0);
	signal(SIGPIPE, SIG_DFL);	/* we ignore it; they must not */
	execvp(argv[0], argv);
	_exit(127);
}

void
e2e_spawn(struct e2e_proc *p, char *const argv[])
{
	int ip[2], op[2], errfd;
	const char *base;
	pid_t parent = getpid();

	signal(SIGPIPE, SIG_IGN);	/* a dead child is EPIPE here */
	memset(p, 0, sizeof(*p));
	base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	snprintf(p->name, sizeof(p->name), "%s", base);
	snprintf(p->errpath, sizeof(p->errpath), "%s/stderr.%d.%s",
	    e2e_tmpdir(), nspawned++, p->name);
	errfd = open(p->errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600);
	cr_assert(errfd >= 0, "%s: %s", p->errpath, strerror(errno));
	cr_assert(pipe2(ip, O_CLOEXEC) == 0 && pipe2(op, O_CLOEXEC) == 0,
	    "pipe: %s", strerror(errno));
	p->pid = fork();
	cr_assert(p->pid >= 0, "fork: %s", strerror(errno));
	if (p->pid == 0)
		child(argv, ip[0], op[1], errfd, parent);
	close(ip[0]);
	close(op[1]);
	close(errfd);
	p->in = ip[1];
	p->out = op[0];
	fcntl(p->in, F_SETFL, O_NONBLOCK);
}

void
e2e_close(struct e2e_proc *p)
{
	if (p->in >= 0)
		close(p->in);
	if (p->out >= 0)
		close(p->out);
	p->in = p->out = -1;
}

int
e2e_wait(struct e2e_proc *p, int ms)
{
	struct timespec nap = { 0, 1000000 };
	int64_t end = dopy_now_ms() + ms;
	int status = 0;
	pid_t r;

	cr_assert(p->pid > 0, "%s: not running", p->name);
	while ((r = waitpid(p->pid, &status, WNOHANG)) == 0 &&
	    dopy_now_ms() < end) {
		nanosleep(&nap, NULL);
		if (nap.tv_nsec < 10000000)
			nap.tv_nsec *= 2;
	}
	if (r == 0) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, &status, 0);
		p->pid = 0;
		e2e_close(p);
		cr_assert_fail("%s did not exit within %d ms (killed)",
		    p->name, ms);
	}
	cr_assert(r == p->pid, "waitpid %s: %s", p->name, strerror(errno));
	p->pid = 0;
	e2e_close(p);
	e2e_check_sanitizers(p->errpath, p->name);
	return status;
}

void
e2e_check_sanitizers(const char *path, const char *who)
{
	static const char *marks[] = {
		"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
		"runtime error:", "UndefinedBehaviorSanitizer",
	};
	char *text;
	size_t i;

	if ((text = e2e_slurp(path, NULL)) == NULL)
		return;
	for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (strstr(text, marks[i]) != NULL)
			break;
	if (i < sizeof(marks) / sizeof(marks[0]))
		cr_log_error("stderr of %s:\n%s", who, text);
	free(text);
	if (i < sizeof(marks) / sizeof(marks[0]))
		cr_assert_fail("%s: sanitizer report (%s) on its stderr", who,
		    marks[i]);
}

/* The pid in a dopyd log line, "... dopyd[PID]: ...", or 0. */
static pid_t
log_pid(const char *text)
{
	const char *p = strstr(text, "dopyd[");

	return p != NULL ? (pid_t)atoi(p + 6) : 0;
}

char *
e2e_dopyd_exit_line(const char *log, int ms)
{
	int64_t end = dopy_now_ms() + ms;
	char *text, *line, *nl;
	pid_t pid;

	for (;;) {
		text = e2e_slurp(log, NULL);
		if (text != NULL && (line = strstr(text, ": exit ")) != NULL) {
			if ((nl = strchr(line, '\n')) != NULL)
				*nl = '\0';
			line = strdup(line + 2);
			free(text);
			cr_assert_not_null(line);
			return line;
		}
		if (dopy_now_ms() >= end)
			break;
		free(text);
		poll(NULL, 0, 20);
	}
	if (text != NULL && (pid = log_pid(text)) > 0)
		kill(pid, SIGKILL);
	cr_assert_fail("no exit line in %s within %d ms: %s", log, ms,
	    text != NULL ? text : "(no log)");
	return NULL;
}

const char *
e2e_status(int status)
{
	static char buf[64];

	if (WIFEXITED(status))
		snprintf(buf, sizeof(buf), "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, sizeof(buf), "signal %d", WTERMSIG(status));
	else
		snprintf(buf, sizeof(buf), "status 0x%x", status);
	return buf;
}

int
e2e_exited(int status, int code)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == code;
}

void
e2e_assert_run(const struct e2e_run *r, int code, const char *out)
{
	cr_assert(e2e_exited(r->status, code), "%s, want exit %d\nstdout: "
	    "%s\nstderr: %s", e2e_status(r->status), code, r->out, r->err);
	if (out != NULL)
		cr_assert_str_eq(r->out, out, "stderr: %s", r->err);
}

void
e2e_run_expect(char *const argv[], int code, const char *out,
    const char *errpart)
{
	struct e2e_run r;

	e2e_run(&r, argv);
	e2e_assert_run(&r, code, out);
	if (errpart != NULL)
		cr_assert_not_null(strstr(r.err, errpart), "%s", r.err);
	e2e_run_free(&r);
}

/* ---- reading and writing with deadlines ---- */

static int
wait_fd(int fd, short events, int64_t end)
{
	struct pollfd pfd = { fd, events, 0 };
	int64_t left;
	int n;

	for (;;) {
		if ((left = end - dopy_now_ms()) < 0)
			left = 0;
		n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return 0;
		if (n == 0)
			return -1;
		if (errno != EINTR)
			return -1;
	}
}

ssize_t
e2e_read(int fd, void *buf, size_t len, int ms)
{
	int64_t end = dopy_now_ms() + ms;
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		if (wait_fd(fd, POLLIN, end) < 0)
			return -1;
		n = read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

char *
e2e_read_all(int fd, size_t *lenp, int ms)
{
	int64_t end = dopy_now_ms() + ms;
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	ssize_t n;

	cr_assert_not_null(buf);
	for (;;) {
		if (len + 1 >= cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			cr_assert_not_null(buf);
		}
		cr_assert(wait_fd(fd, POLLIN, end) == 0,
		    "no EOF within %d ms (read %zu bytes)", ms, len);
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return buf;
}

int
e2e_write(int fd, const void *buf, size_t len)
{
	int64_t end = dopy_now_ms() + E2E_WAIT_MS;
	size_t done = 0;
	ssize_t n;

	/* Our pipe ends are non-blocking: a child that stops reading must
	 * not hang the test past its deadline. */
	while (done < len) {
		n = write(fd, (const char *)buf + done, len - done);
		if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
			cr_assert(wait_fd(fd, POLLOUT, end) == 0, "write: "
			    "no progress within %d ms (%zu of %zu bytes)",
			    E2E_WAIT_MS, done, len);
			continue;
		}
		if (n < 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

char *
e2e_slurp(const char *path, size_t *lenp)
{
	char *buf;
	size_t len;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	buf = e2e_read_all(fd, &len, E2E_WAIT_MS);
	close(fd);
	if (lenp != NULL)
		*lenp = len;
	return buf;
}

char *
e2e_mask(const char *s)
{
	char host[256], *out;
	size_t hl, len;
	FILE *f;

	if (gethostname(host, sizeof(host)) < 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	hl = strlen(host);
	cr_assert_not_null(f = open_memstream(&out, &len));
	while (*s != '\0') {
		if (hl > 0 && strncmp(s, host, hl) == 0) {
			fputs("HOST", f);
			s += hl;
		} else if (strncmp(s, "pid ", 4) == 0 ||
		    strncmp(s, "\"pid\":", 6) == 0) {
			len = s[0] == 'p' ? 4 : 6;
			fwrite(s, 1, len, f);
			s += len;
			if (*s >= '0' && *s <= '9')
				fputs("PID", f);
			while (*s >= '0' && *s <= '9')
				s++;
		} else
			fputc(*s++, f);
	}
	fclose(f);
	return out;
}

int
e2e_spit(const char *path, const char *text)
{
	int fd, r;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) < 0)
		return -1;
	r = e2e_write(fd, text, strlen(text));
	return close(fd) == 0 ? r : -1;
}

/*
 * Feed input and collect stdout at once: a child that writes a lot
 * before it reads everything must not block us both.
 */
void
e2e_run_ms(struct e2e_run *r, const void *input, size_t len, int ms,
    char *const argv[])
{
	struct e2e_proc p;
	struct pollfd pfd[2];
	int64_t end = dopy_now_ms() + ms;
	size_t done = 0, cap = 4096;
	ssize_t n;

	memset(r, 0, sizeof(*r));
	e2e_spawn(&p, argv);
	r->out = malloc(cap);
	cr_assert_not_null(r->out);
	if (len == 0) {
		close(p.in);
		p.in = -1;
	}
	while (p.out >= 0) {
		pfd[0] = (struct pollfd){ p.out, POLLIN, 0 };
		pfd[1] = (struct pollfd){ p.in, POLLOUT, 0 };
		n = poll(pfd, p.in >= 0 ? 2 : 1, (int)(end - dopy_now_ms()));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;		/* the deadline: e2e_wait says so */
		if (p.in >= 0 && pfd[1].revents != 0) {
			n = write(p.in, (const char *)input + done,
			    len - done);
			if (n > 0)
				done += (size_t)n;
			if ((n < 0 && errno != EINTR && errno != EAGAIN) ||
			    done == len) {
				close(p.in);
				p.in = -1;
			}
		}
		if (pfd[0].revents == 0)
			continue;
		if (r->outlen + 1 >= cap) {
			cap *= 2;
			r->out = realloc(r->out, cap);
			cr_assert_not_null(r->out);
		}
		n = read(p.out, r->out + r->outlen, cap - r->outlen - 1);
		if (n > 0)
			r->outlen += (size_t)n;
		else if (n == 0 || errno != EINTR) {
			close(p.out);
			p.out = -1;
		}
	}
	r->out[r->outlen] = '\0';
	if (dopy_now_ms() > end)
		end = dopy_now_ms();
	r->status = e2e_wait(&p, (int)(end - dopy_now_ms()) + 100);
	r->err = e2e_slurp(p.errpath, NULL);
	if (r->err == NULL)
		r->err = strdup("");
}

void
e2e_run_free(struct e2e_run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

/* ---- frames ---- */

void
e2e_frame(struct dopy_buf *b, uint8_t type, uint32_t id, const void *payload,
    size_t len)
{
	uint8_t hdr[DOPY_HDR_LEN];

	dopy_frame_encode(hdr, type, id, (uint32_t)len);
	cr_assert(dopy_buf_put(b, hdr, sizeof(hdr)) == 0);
	if (len > 0)
		cr_assert(dopy_buf_put(b, payload, len) == 0);
}

void
e2e_hello(struct dopy_buf *b, uint32_t proto, uint32_t max)
{
	struct dopy_hello h;
	struct dopy_buf pl;

	memset(&h, 0, sizeof(h));
	h.proto = proto;
	h.max_frame = max;
	h.software = "dopy-e2e/x";
	dopy_buf_init(&pl);
	cr_assert(dopy_msg_hello_put(&pl, &h) == 0);
	e2e_frame(b, DOPY_F_HELLO, 0, pl.data, pl.len);
	dopy_buf_release(&pl);
}

void
e2e_call(struct dopy_buf *b, uint32_t id, const char *object,
    const char *method, size_t argc, const char *const *names,
    dopy_value *const *args)
{
	const char *none[DOPY_MAX_ARGS + 8];
	struct dopy_buf pl;
	size_t i;

	cr_assert(argc <= sizeof(none) / sizeof(none[0]));
	for (i = 0; i < argc; i++)
		none[i] = "";
	dopy_buf_init(&pl);
	cr_assert(dopy_msg_call_put(&pl, object, method,
	    names != NULL ? names : none, argc) == 0);
	for (i = 0; i < argc; i++) {
		cr_assert(dopy_encode(args[i], &pl) == 0);
		dopy_value_free(args[i]);
	}
	e2e_frame(b, DOPY_F_CALL, id, pl.data, pl.len);
	dopy_buf_release(&pl);
}

void
e2e_encode(struct dopy_buf *b, dopy_value *v)
{
	cr_assert(dopy_encode(v, b) == 0);
	dopy_value_free(v);
}

dopy_value *
e2e_value(const char *type, const char *text)
{
	dopy_type *t = dopy_type_parse(type, NULL, 0);
	dopy_value *v;
	char err[200];

	cr_assert_not_null(t, "type %s", type);
	v = dopy_value_parse(t, text, err, sizeof(err));
	cr_assert_not_null(v, "%s as %s: %s", text, type, err);
	dopy_type_free(t);
	return v;
}

void
e2e_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

int
e2e_read_frame(int fd, struct e2e_frame *f, int ms)
{
	uint8_t hdr[DOPY_HDR_LEN];
	ssize_t n;

	memset(f, 0, sizeof(*f));
	if ((n = e2e_read(fd, hdr, sizeof(hdr), ms)) == 0)
		return 0;
	if (n != (ssize_t)sizeof(hdr) || hdr[0] != DOPY_MAGIC0 ||
	    hdr[1] != DOPY_MAGIC1)
		return -1;
	f->type = hdr[2];
	f->id = get32(hdr + 4);
	f->len = get32(hdr + 8);
	if (f->len > DOPY_FRAME_DEFAULT)
		return -1;
	f->payload = malloc(f->len + 1);
	cr_assert_not_null(f->payload);
	if (e2e_read(fd, f->payload, f->len, ms) != (ssize_t)f->len) {
		free(f->payload);
		f->payload = NULL;
		return -1;
	}
	return 1;
}

dopy_error *
e2e_expect_error(int fd, uint32_t id, const char *name)
{
	struct e2e_frame f;
	dopy_error *e = NULL;
	int r;

	r = e2e_read_frame(fd, &f, E2E_WAIT_MS);
	cr_assert(r == 1, "no frame came back (want ERROR %s)", name);
	cr_assert(f.type == DOPY_F_ERROR, "frame type %u (%s), want ERROR %s",
	    f.type, dopy_frame_type_name(f.type), name);
	r = dopy_msg_error_get(f.payload, f.len, &e);
	free(f.payload);
	cr_assert(r == 0, "malformed ERROR payload: %s",
	    e != NULL ? dopy_error_message(e) : dopy_strerror(r));
	cr_assert(f.id == id, "ERROR %s has call id %u, want %u",
	    dopy_error_name(e), f.id, id);
	cr_assert_str_eq(dopy_error_name(e), name, "error %s: %s, want %s",
	    dopy_error_name(e), dopy_error_message(e), name);
	return e;
}

dopy_value *
e2e_expect_reply(int fd, uint32_t id)
{
	struct dopy_image img[2];
	struct e2e_frame f;
	dopy_error *e = NULL;
	dopy_value *v = NULL;
	char err[200];
	size_t n;
	int r;

	r = e2e_read_frame(fd, &f, E2E_WAIT_MS);
	cr_assert(r == 1, "no frame came back (want REPLY %u)", id);
	if (f.type == DOPY_F_ERROR &&
	    dopy_msg_error_get(f.payload, f.len, &e) == 0)
		cr_assert_fail("ERROR %s: %s, want REPLY",
		    dopy_error_name(e), dopy_error_message(e));
	cr_assert(f.type == DOPY_F_REPLY, "frame type %u, want REPLY",
	    f.type);
	cr_assert(f.id == id, "REPLY has call id %u, want %u", f.id, id);
	r = dopy_images_split(f.payload, f.len, img, 2, &n, err,
	    sizeof(err));
	cr_assert(r == 0 && n <= 1, "REPLY payload: %s", err);
	if (n == 1)
		cr_assert(dopy_decode(&img[0], NULL, &v, err,
		    sizeof(err)) == 0, "REPLY value: %s", err);
	free(f.payload);
	return v;
}

size_t
e2e_all_errors(const uint8_t *p, size_t len, char **first)
{
	struct dopy_frame f;
	dopy_error *e;
	size_t off = 0, n = 0;

	if (first != NULL)
		*first = NULL;
	while (off < len) {
		cr_assert(len - off >= DOPY_HDR_LEN, "%zu stray bytes at "
		    "offset %zu of the output", len - off, off);
		cr_assert(dopy_frame_decode(p + off, DOPY_FRAME_DEFAULT,
		    &f) == 0, "bad frame header at offset %zu", off);
		cr_assert(f.len <= len - off - DOPY_HDR_LEN, "frame at "
		    "offset %zu runs past the output", off);
		cr_assert(f.type == DOPY_F_ERROR, "frame type %u at offset "
		    "%zu, want only ERROR frames", f.type, off);
		cr_assert(dopy_msg_error_get(p + off + DOPY_HDR_LEN, f.len,
		    &e) == 0, "malformed ERROR at offset %zu", off);
		if (first != NULL && *first == NULL)
			*first = strdup(dopy_error_name(e));
		dopy_error_free(e);
		off += DOPY_HDR_LEN + f.len;
		n++;
	}
	return n;
}

void
e2e_send(struct e2e_proc *p, const struct dopy_buf *b)
{
	cr_assert(e2e_write(p->in, b->data + b->off, b->len - b->off) == 0,
	    "write to %s: %s", p->name, strerror(errno));
}

void
e2e_dopyd(struct e2e_proc *p, int hello, uint32_t max, const char *opt)
{
	char *argv[] = { (char *)e2e_bin("dopyd"), "-d", (char *)opt, NULL };
	struct dopy_buf b;
	struct e2e_frame f;
	struct dopy_hello h;
	char err[200];

	e2e_spawn(p, argv);
	if (!hello)
		return;
	dopy_buf_init(&b);
	e2e_hello(&b, DOPY_PROTOCOL, max);
	e2e_send(p, &b);
	dopy_buf_release(&b);
	cr_assert(e2e_read_frame(p->out, &f, E2E_WAIT_MS) == 1,
	    "dopyd sent no HELLO");
	cr_assert(f.type == DOPY_F_HELLO && f.id == 0,
	    "dopyd answered HELLO with frame type %u", f.type);
	cr_assert(dopy_msg_hello_get(f.payload, f.len, &h, err,
	    sizeof(err)) == 0, "dopyd's HELLO: %s", err);
	cr_assert(h.proto == DOPY_PROTOCOL, "dopyd speaks protocol %u",
	    h.proto);
	dopy_msg_hello_release(&h);
	free(f.payload);
}

dopy_conn *
e2e_dopyd_conn(const char *log)
{
	char cmd[2048];
	dopy_conn *c = NULL;
	dopy_error *e = NULL;

	snprintf(cmd, sizeof(cmd), "exec %s -L %s", e2e_bin("dopyd"),
	    log != NULL ? log : "/dev/null");
	cr_assert_eq(dopy_conn_spawn(cmd, &c, &e), 0, "%s",
	    dopy_error_message(e));
	return c;
}

void
e2e_dopyd_features(struct e2e_proc *p, uint64_t features)
{
	struct dopy_hello h;
	struct dopy_buf b, pl;
	struct e2e_frame f;
	char err[200];

	if (features == 0) {
		e2e_dopyd(p, 1, E2E_MAX_FRAME, NULL);
		return;
	}
	e2e_dopyd(p, 0, E2E_MAX_FRAME, NULL);
	memset(&h, 0, sizeof(h));
	h.proto = DOPY_PROTOCOL;
	h.max_frame = E2E_MAX_FRAME;
	h.features = features;
	h.software = "dopy-e2e/features";
	dopy_buf_init(&pl);
	dopy_buf_init(&b);
	cr_assert(dopy_msg_hello_put(&pl, &h) == 0);
	e2e_frame(&b, DOPY_F_HELLO, 0, pl.data, pl.len);
	e2e_send(p, &b);
	dopy_buf_release(&b);
	dopy_buf_release(&pl);
	cr_assert_eq(e2e_read_frame(p->out, &f, E2E_WAIT_MS), 1);
	cr_assert_eq(f.type, DOPY_F_HELLO);
	cr_assert_eq(dopy_msg_hello_get(f.payload, f.len, &h, err,
	    sizeof(err)), 0, "%s", err);
	cr_assert_eq(h.features & DOPY_FEAT_ALL, DOPY_FEAT_ALL,
	    "dopyd announced features %#llx",
	    (unsigned long long)h.features);
	dopy_msg_hello_release(&h);
	free(f.payload);
}

void
e2e_finish(struct e2e_proc *p, int code)
{
	char *rest;
	size_t len;
	int st;

	close(p->in);
	p->in = -1;
	rest = e2e_read_all(p->out, &len, E2E_WAIT_MS);
	free(rest);
	cr_assert_eq(len, 0, "%zu unexpected bytes after the last answer",
	    len);
	st = e2e_wait(p, E2E_WAIT_MS);
	cr_assert(e2e_exited(st, code), "%s: %s, want exit %d", p->name,
	    e2e_status(st), code);
}

struct criterion_test_params
e2e_index_params(size_t *index, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		index[i] = i;
	return cr_make_param_array(size_t, index, n);
}

void
e2e_expect_int(int fd, uint32_t id, int64_t want)
{
	dopy_value *v = e2e_expect_reply(fd, id);

	cr_assert_eq(dopy_value_get_int(v), want, "call %u", id);
	dopy_value_free(v);
}

dopy_args *
e2e_int_arg(int64_t i)
{
	dopy_args *a = dopy_args_new();

	cr_assert_not_null(a);
	cr_assert_eq(dopy_args_int(a, NULL, i), 0);
	return a;
}

int64_t
e2e_call_int(dopy_proxy *p, const char *method, dopy_args *a)
{
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	int64_t i;

	cr_assert_eq(dopy_proxy_call(p, method, a, &v, &e), 0, "%s: %s",
	    method, dopy_error_message(e));
	dopy_args_free(a);
	i = dopy_value_get_int(v);
	dopy_value_free(v);
	return i;
}

dopy_error *
e2e_cancelled(dopy_proxy *p, const char *method, int64_t ms, int64_t *took)
{
	dopy_future *f = NULL;
	dopy_error *e = NULL;
	dopy_args *a = e2e_int_arg(ms);
	int64_t t0;

	cr_assert_eq(dopy_proxy_call_async(p, method, a, NULL, NULL, &f, &e),
	    0, "%s", dopy_error_message(e));
	dopy_args_free(a);
	e2e_nap_ms(100);
	t0 = dopy_now_ms();
	cr_assert_eq(dopy_future_cancel(f, &e), 0, "%s",
	    dopy_error_message(e));
	cr_assert_eq(dopy_future_wait(f, NULL, &e), DOPY_E_CANCELLED, "%s",
	    dopy_error_message(e));
	*took = dopy_now_ms() - t0;
	dopy_future_free(f);
	return e;
}

int64_t
e2e_stubborn_past(dopy_conn *c, dopy_proxy *p, int ms)
{
	dopy_args *a = e2e_int_arg(10000);
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	int64_t t0 = dopy_now_ms();

	dopy_conn_set_deadline(c, ms);
	cr_assert_eq(dopy_proxy_call(p, "stubborn", a, &v, &e),
	    DOPY_E_TIMEOUT, "%s", dopy_error_message(e));
	cr_assert_str_eq(dopy_error_name(e), "dopy.DeadlineExceeded");
	dopy_error_free(e);
	dopy_args_free(a);
	/* The next call waits for the server to stop the first. */
	dopy_conn_set_deadline(c, 0);
	cr_assert_eq(e2e_call_int(p, "stubborn", e2e_int_arg(1)), 1);
	return dopy_now_ms() - t0;
}

int
e2e_children_of(long pid)
{
	char path[300], buf[512], *p;
	struct dirent *d;
	DIR *dir = opendir("/proc");
	FILE *f;
	long ppid;
	int n = 0;

	cr_assert_not_null(dir);
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", d->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		/* pid (comm) state ppid: comm may hold anything but ')' last */
		if (fgets(buf, sizeof(buf), f) != NULL &&
		    (p = strrchr(buf, ')')) != NULL &&
		    sscanf(p + 1, " %*c %ld", &ppid) == 1 && ppid == pid)
			n++;
		fclose(f);
	}
	closedir(dir);
	return n;
}

void
e2e_nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void
e2e_spawn_line(struct e2e_proc *p, char *const argv[], char *line,
    size_t len)
{
	char buf[512];
	size_t n = 0;

	e2e_spawn(p, argv);
	while (n < sizeof(buf) - 1) {
		cr_assert(e2e_read(p->out, buf + n, 1, E2E_WAIT_MS) == 1,
		    "%s printed no line", argv[0]);
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	if (line != NULL)
		strlcpy(line, buf, len);
}

void
e2e_listener(struct e2e_proc *p, const char *addr, const char *opt)
{
	char *argv[] = { (char *)e2e_bin("dopyd"), "-d", "-B", "-l",
	    (char *)addr, (char *)opt, NULL };

	e2e_spawn_line(p, argv, NULL, 0);
}

long
e2e_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	cr_assert_not_null(f = fopen(path, "r"), "%s", path);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	cr_assert(kib > 0, "no VmRSS in %s", path);
	return kib;
}

/* ---- daemons on loopback ---- */

#define LISTEN_MS	5000	/* a daemon gets this long to listen */
#define STOP_MS		5000	/* and this long to die of SIGKILL */

/* A port nobody had a moment ago. */
static int
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd, port;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0,
	    "bind port 0: %s", strerror(errno));
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/* The inode of the socket listening on 127.0.0.1:port, or 0. */
static unsigned long
listen_inode(int port)
{
	char line[512], want[32], local[64];
	unsigned long ino, found = 0;
	unsigned st;
	FILE *f;

	snprintf(want, sizeof(want), "%08X:%04X",
	    (unsigned)htonl(INADDR_LOOPBACK), (unsigned)port);
	if ((f = fopen("/proc/net/tcp", "re")) == NULL)
		return 0;
	while (found == 0 && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, " %*u: %63s %*s %x %*s %*s %*s %*u %*u %lu",
		    local, &st, &ino) == 3 && st == 0x0A &&
		    strcasecmp(local, want) == 0)
			found = ino;
	fclose(f);
	return found;
}

static int
pid_holds(pid_t pid, unsigned long ino)
{
	char dir[64], path[PATH_MAX], link[128], want[64];
	struct dirent *d;
	ssize_t n;
	DIR *dp;
	int yes = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	snprintf(want, sizeof(want), "socket:[%lu]", ino);
	if ((dp = opendir(dir)) == NULL)
		return 0;
	while (!yes && (d = readdir(dp)) != NULL) {
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			yes = strcmp(link, want) == 0;
		}
	}
	closedir(dp);
	return yes;
}

/*
 * Wait until p itself listens on 127.0.0.1:port.  0 when it does; -1
 * when it died (reaped) or did not get there in time (still running).
 */
static int
wait_listening(struct e2e_proc *p, int port, int ms)
{
	int64_t end = dopy_now_ms() + ms;
	unsigned long ino;
	int status;

	for (;;) {
		if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
			cr_log_warn("%s exited (%s) before listening on "
			    "port %d", p->name, e2e_status(status), port);
			p->pid = 0;
			e2e_close(p);
			return -1;
		}
		if ((ino = listen_inode(port)) != 0 && pid_holds(p->pid, ino))
			return 0;
		if (dopy_now_ms() > end)
			return -1;
		e2e_nap_ms(10);
	}
}

int
e2e_start_on_port(struct e2e_proc *p, e2e_launch_fn *launch, void *arg)
{
	int tries, port = 0;
	char *text;

	for (tries = 0; tries < 5; tries++) {
		port = free_port();
		launch(p, port, arg);
		if (wait_listening(p, port, LISTEN_MS) == 0)
			return port;
		text = e2e_slurp(p->errpath, NULL);
		cr_log_info("its stderr (%s):\n%s", p->errpath,
		    text ? text : "(none)");
		free(text);
		if (p->pid > 0) {
			kill(p->pid, SIGKILL);
			e2e_wait(p, STOP_MS);
		}
	}
	cr_assert_fail("%s never listened on 127.0.0.1 (last port %d)",
	    p->name, port);
	return -1;
}

/* A file of the test's directory, in buf. */
static const char *
tfile(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", e2e_tmpdir(), name);
	return buf;
}

static void
keygen(const char *path)
{
	char *argv[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "",
	    "-C", "dopy-e2e", "-f", (char *)path, NULL };
	struct e2e_run r;

	e2e_run_ms(&r, NULL, 0, E2E_WAIT_MS, argv);
	e2e_assert_run(&r, 0, NULL);
	e2e_run_free(&r);
}

static void
launch_sshd(struct e2e_proc *p, int port, void *arg)
{
	struct e2e_sshd *s = arg;
	char conf[PATH_MAX], hk[PATH_MAX], ak[PATH_MAX], pid[PATH_MAX];
	char *argv[] = { "/usr/sbin/sshd", "-D", "-e", "-f", conf, NULL };
	char *text;

	tfile(conf, sizeof(conf), "sshd_config");
	cr_assert(asprintf(&text,
	    "ListenAddress 127.0.0.1\n"
	    "Port %d\n"
	    "HostKey %s\n"
	    "AuthorizedKeysFile %s\n"
	    "PidFile %s\n"
	    "StrictModes no\n"
	    "UsePAM no\n"
	    "PasswordAuthentication no\n"
	    "KbdInteractiveAuthentication no\n"
	    "PubkeyAuthentication yes\n"
	    "PermitRootLogin %s\n"
	    "LogLevel VERBOSE\n"
	    "%s",
	    port, tfile(hk, sizeof(hk), "host_key"),
	    tfile(ak, sizeof(ak), "authorized_keys"),
	    tfile(pid, sizeof(pid), "sshd.pid"), s->rootlogin,
	    s->extra ? s->extra : "") >= 0);
	cr_assert(e2e_spit(conf, text) == 0, "%s: %s", conf, strerror(errno));
	free(text);
	e2e_spawn(p, argv);
}

void
e2e_sshd_start(struct e2e_sshd *s, const char *opts)
{
	char path[PATH_MAX], *pub, *text;
	struct stat st;

	cr_assert(access("/usr/sbin/sshd", X_OK) == 0 &&
	    access("/usr/bin/ssh", X_OK) == 0, "openssh-server or "
	    "openssh-client is not installed: run make deps-check");
	cr_assert(geteuid() == 0, "sshd tests run as root (sshd needs it "
	    "to switch to the user; ours is root)");
	/* Privilege separation needs this, normally made by the service. */
	if (stat("/run/sshd", &st) < 0)
		cr_assert(mkdir("/run/sshd", 0755) == 0 || errno == EEXIST,
		    "mkdir /run/sshd: %s", strerror(errno));
	keygen(tfile(path, sizeof(path), "host_key"));
	keygen(tfile(path, sizeof(path), "user_key"));
	pub = e2e_slurp(tfile(path, sizeof(path), "user_key.pub"), NULL);
	cr_assert_not_null(pub, "%s", path);
	cr_assert(asprintf(&text, "%s %s", opts, pub) >= 0);
	cr_assert(e2e_spit(tfile(path, sizeof(path), "authorized_keys"),
	    text) == 0, "%s: %s", path, strerror(errno));
	free(text);
	free(pub);
	s->port = e2e_start_on_port(&s->p, launch_sshd, s);
	snprintf(s->ssh, sizeof(s->ssh), "ssh -F /dev/null -i %s/user_key "
	    "-o IdentitiesOnly=yes -o UserKnownHostsFile=%s/known_hosts "
	    "-o StrictHostKeyChecking=no -o LogLevel=ERROR", e2e_tmpdir(),
	    e2e_tmpdir());
	cr_assert(setenv("DOPY_SSH", s->ssh, 1) == 0);
	unsetenv("SSH_AUTH_SOCK");
}

dopy_conn *
e2e_connect(const char *target)
{
	dopy_conn *c = NULL;
	dopy_error *e = NULL;

	cr_assert_eq(dopy_connect(target, &c, &e), 0, "%s: %s", target,
	    dopy_error_message(e));
	return c;
}

void
e2e_twice_through_listener(const char *opt, void (*serves)(const char *))
{
	char target[700];
	struct e2e_proc p;

	snprintf(target, sizeof(target), "unix:%s/listener.sock",
	    e2e_tmpdir());
	e2e_listener(&p, target, opt);
	serves(target);
	serves(target);
	kill(p.pid, SIGTERM);
	cr_assert(e2e_exited(e2e_wait(&p, 5000), 0), "dopyd after SIGTERM");
}
