/*
 * listen.c - the built-in listener (DOPY's makeServer(9600)), in the
 * tcpserver tradition: accept, fork, serve the socket in the child with
 * the UCSPI environment set; cap concurrent connections overall and per
 * peer; one log line per accept and per exit; graceful stop on SIGTERM.
 *
 * With -s every connection is served by a thread of this one process and
 * calls are serialised by the server lock, so objects may keep shared
 * in-memory state without locking of their own (DOPY's select mode).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libutil.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "server/server.h"
#include "tools/tools.h"

#define MAXLISTEN	8

struct child {
	pid_t	pid;		/* or 0 for a thread in -s mode */
	int	fd;		/* a thread's connection, else -1 */
	/* The cap counts connections, not processes: a child may take a
	 * while to exit (gone hooks) after its client left.  A process
	 * holds the other end of endfd until its connection is over; a
	 * thread sets over. */
	int	endfd;
	int	over;
	char	peer[64];
};

/* A connection's UCSPI variables, "NAME=value" each, made before fork. */
struct ucspi {
	char	var[5][80];
	int	n;
};

struct listener {
	dopy_server	*srv;
	int		 fds[MAXLISTEN];
	int		 nfds;
	char		*unix_path;	/* to unlink at the end */
	struct child	*kids;
	unsigned	 nkids, kidroom;
	pthread_mutex_t	 kidlock;	/* -s: threads leave on their own */
	int		 starting;	/* errors go to stderr too */
	const char	*from;		/* "systemd sockets", "stdin" or -l */
	struct ucspi	 env;		/* of the connection being forked */
	/* Out of descriptors: the reserve is closed to accept and refuse
	 * one connection; without it, accepting pauses until pause_end. */
	int		 reserve;
	int64_t		 pause_end;
	int		 endfd;		/* a child's end of its end pipe */
};

#define PAUSE_MS	100

static int sigpipe_fds[2] = { -1, -1 };

static void
on_signal(int sig)
{
	unsigned char c = (unsigned char)sig;
	int saved = errno;

	/* The self-pipe wakes poll(); a full pipe already has a wake-up. */
	if (write(sigpipe_fds[1], &c, 1) < 0)
		(void)0;
	errno = saved;
}

/*
 * An error: logged, and while the listener is starting also told on
 * stderr, so `dopyd -l badaddr` does not fail silently into syslog.
 */
static void
lerr(struct listener *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
lerr(struct listener *l, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dopy_log(&l->srv->log, LOG_ERR, "%s", msg);
	if (l->starting && l->srv->log.sink != DOPY_LOG_STDERR)
		fprintf(stderr, "%s: %s\n", l->srv->log.ident, msg);
}

static int
lfail(struct listener *l, const char *what)
{
	lerr(l, "%s: %s", what, strerror(errno));
	return DOPY_E_SYS;
}

static int
bind_unix(struct listener *l, const char *path)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		lerr(l, "socket path too long: %s",
		    path);
		return DOPY_E_USAGE;
	}
	/* A stale socket from an earlier run; never remove anything else. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(fd, 128) != 0) {
		if (fd >= 0)
			close(fd);
		return lfail(l, path);
	}
	l->fds[l->nfds++] = fd;
	l->unix_path = strdup(path);
	return 0;
}

/* [HOST:]PORT or [V6]:PORT; no host means every address. */
static int
split_hostport(char *a, char **host, char **port)
{
	char *c;

	if (*a == '[') {
		if ((c = strchr(a, ']')) == NULL || c[1] != ':')
			return -1;
		*c = '\0';
		*host = a + 1;
		*port = c + 2;
	} else if ((c = strrchr(a, ':')) != NULL) {
		*c = '\0';
		*host = *a ? a : NULL;
		*port = c + 1;
	} else {
		*host = NULL;
		*port = a;
	}
	return dopy_port_ok(*port, 0) ? 0 : -1;	/* 0: any free port */
}

static int
bind_tcp(struct listener *l, const char *addr)
{
	struct addrinfo hints, *res, *ai;
	char *a, *host, *port;
	int fd, one = 1, r;

	if ((a = strdup(addr)) == NULL || split_hostport(a, &host, &port)) {
		free(a);
		lerr(l, "bad listen address %s (want [host:]port, [v6]:port or unix:path)", addr);
		return DOPY_E_USAGE;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		lerr(l, "%s: %s", addr,
		    gai_strerror(r));
		free(a);
		return DOPY_E_USAGE;
	}
	for (ai = res; ai != NULL && l->nfds < MAXLISTEN; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			    sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
		    listen(fd, 128) != 0) {
			lerr(l, "bind %s: %s", addr, strerror(errno));
			close(fd);
			continue;
		}
		l->fds[l->nfds++] = fd;
		/* Port 0: every further address must get the same port. */
		if (strcmp(port, "0") == 0)
			break;
	}
	freeaddrinfo(res);
	free(a);
	return l->nfds > 0 ? 0 : DOPY_E_SYS;
}

int
dopy_systemd_fds(int *fds, int max)
{
	const char *pid = getenv("LISTEN_PID"), *n = getenv("LISTEN_FDS");
	int count, i;

	if (pid == NULL || n == NULL || atol(pid) != (long)getpid())
		return 0;
	count = atoi(n);
	if (count < 0)
		count = 0;
	for (i = 0; i < count && i < max; i++) {
		fds[i] = 3 + i;
		fcntl(fds[i], F_SETFD, FD_CLOEXEC);
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return i;
}

static void
announce(struct listener *l)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char port[16] = "";

	if (l->unix_path != NULL)
		printf("%s\n", l->unix_path);
	else if (getsockname(l->fds[0], (struct sockaddr *)&ss, &len) == 0 &&
	    getnameinfo((struct sockaddr *)&ss, len, NULL, 0, port,
	    sizeof(port), NI_NUMERICSERV) == 0)
		printf("%s\n", port);
	fflush(stdout);
}

/* -u USER[:GROUP]: after binding, so privileged ports still work. */
static int
drop_privileges(struct listener *l, const char *spec)
{
	char *u = strdup(spec), *g;
	struct passwd *pw;
	struct group *gr;
	gid_t gid;
	int r = DOPY_E_USAGE;

	if (u == NULL)
		return DOPY_E_NOMEM;
	if ((g = strchr(u, ':')) != NULL)
		*g++ = '\0';
	if ((pw = getpwnam(u)) == NULL) {
		lerr(l, "no user %s", u);
		goto out;
	}
	gid = pw->pw_gid;
	if (g != NULL) {
		if ((gr = getgrnam(g)) == NULL) {
			lerr(l, "no group %s", g);
			goto out;
		}
		gid = gr->gr_gid;
	}
	if (setgroups(1, &gid) != 0 || setgid(gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		r = lfail(l, "dropping privileges");
		goto out;
	}
	r = 0;
out:
	free(u);
	return r;
}

static unsigned
count_peer(struct listener *l, const char *peer)
{
	unsigned i, n = 0;

	for (i = 0; i < l->nkids; i++)
		if (!l->kids[i].over && strcmp(l->kids[i].peer, peer) == 0)
			n++;
	return n;
}

/* Mark the processes whose connection is over (their end pipe is at
 * EOF); returns how many connections are still open.  kidlock held. */
static unsigned
count_open(struct listener *l)
{
	struct pollfd pfd;
	unsigned i, n = 0;

	for (i = 0; i < l->nkids; i++) {
		pfd = (struct pollfd){ l->kids[i].endfd, POLLIN, 0 };
		if (pfd.fd >= 0 && poll(&pfd, 1, 0) == 1) {
			close(pfd.fd);
			l->kids[i].endfd = -1;
			l->kids[i].over = 1;
		}
		n += !l->kids[i].over;
	}
	return n;
}

/* Over a cap: a short ERROR frame, best effort, then close. */
static void
refuse(struct listener *l, int fd, const char *peer, const char *why)
{
	dopy_error *e = dopy_error_new(DOPY_E_CLOSED, "server busy: %s", why);
	struct dopy_chan ch;

	dopy_log(&l->srv->log, LOG_WARNING, "refused %s: %s", peer, why);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	dopy_chan_init(&ch, fd, fd);
	dopy_chan_begin(&ch);
	if (e != NULL && dopy_error_set_fields(e, "dopy.Busy", "", "",
	    l->srv->bare_errors ? "" : l->srv->host,
	    l->srv->bare_errors ? 0 : l->srv->pid) == 0 &&
	    dopy_msg_error_put(&ch.wbuf, e) == 0)
		dopy_chan_send(&ch, DOPY_F_ERROR, 0);
	dopy_chan_release(&ch);
	dopy_error_free(e);
	close(fd);
}

static const char *const ucspi_names[] = {
	"PROTO=", "TCPREMOTEIP=", "TCPREMOTEPORT=", "TCPLOCALIP=",
	"TCPLOCALPORT=", "UNIXREMOTEEUID=", "UNIXREMOTEEGID=",
};

static void
ucspi_add(struct ucspi *u, const char *name, const char *val)
{
	snprintf(u->var[u->n++], sizeof(u->var[0]), "%s=%s", name, val);
}

/*
 * Made by the listener before fork: its code and data are warm there,
 * while every page a child touches for the first time costs it a fault.
 */
static void
ucspi_make(struct ucspi *u, const struct dopy_peer *p, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[64], port[8], num[32];

	u->n = 0;
	if (strcmp(p->transport, "tcp") == 0) {
		ucspi_add(u, "PROTO", "TCP");
		ucspi_add(u, "TCPREMOTEIP", p->addr);
		ucspi_add(u, "TCPREMOTEPORT", p->port);
		if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
		    getnameinfo((struct sockaddr *)&ss, len, host,
		    sizeof(host), port, sizeof(port),
		    NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
			ucspi_add(u, "TCPLOCALIP", host);
			ucspi_add(u, "TCPLOCALPORT", port);
		}
		return;
	}
	ucspi_add(u, "PROTO", "UNIX");
	snprintf(num, sizeof(num), "%ld", p->uid);
	ucspi_add(u, "UNIXREMOTEEUID", num);
	snprintf(num, sizeof(num), "%ld", p->gid);
	ucspi_add(u, "UNIXREMOTEEGID", num);
}

static int
is_ucspi(const char *var)
{
	size_t i;

	for (i = 0; i < sizeof(ucspi_names) / sizeof(ucspi_names[0]); i++)
		if (strncmp(var, ucspi_names[i], strlen(ucspi_names[i])) == 0)
			return 1;
	return 0;
}

/*
 * In the child: a new environment in one allocation, the inherited one
 * less any stale UCSPI variable, plus this connection's.  A setenv()
 * per variable would copy the array and grow a tree each time, in
 * every child.  environ points at it for the rest of the process.
 */
static int
ucspi_install(const struct ucspi *u)
{
	size_t n = 0, i, j = 0, len = 0;
	char **env, *s;
	int k;

	while (environ[n] != NULL)
		n++;
	for (k = 0; k < u->n; k++)
		len += strlen(u->var[k]) + 1;
	if ((env = malloc((n + (size_t)u->n + 1) * sizeof(*env) + len)) ==
	    NULL)
		return DOPY_E_NOMEM;
	s = (char *)(env + n + u->n + 1);
	for (i = 0; i < n; i++)
		if (!is_ucspi(environ[i]))
			env[j++] = environ[i];
	for (k = 0; k < u->n; k++) {
		env[j++] = s;
		s = stpcpy(s, u->var[k]) + 1;
	}
	env[j] = NULL;
	environ = env;
	return 0;
}

static int
add_kid(struct listener *l, pid_t pid, int fd, int endfd, const char *peer)
{
	struct child *k;

	/* Grown by doubling: a realloc per accept rewrote the heap's
	 * bookkeeping, a page shared with the last child each time. */
	if (l->nkids == l->kidroom) {
		k = reallocarray(l->kids, l->kidroom ? 2 * l->kidroom : 16,
		    sizeof(*k));
		if (k == NULL)
			return DOPY_E_NOMEM;
		l->kids = k;
		l->kidroom = l->kidroom ? 2 * l->kidroom : 16;
	}
	k = l->kids + l->nkids++;
	*k = (struct child){ pid, fd, endfd, 0, "" };
	strlcpy(k->peer, peer, sizeof(k->peer));
	return 0;
}

static struct child *
find_kid(struct listener *l, pid_t pid, int fd)
{
	unsigned i;

	for (i = 0; i < l->nkids; i++)
		if (l->kids[i].pid == pid && (pid != 0 ||
		    l->kids[i].fd == fd))
			return &l->kids[i];
	return NULL;
}

static void
del_kid(struct listener *l, pid_t pid, int fd)
{
	struct child *k = find_kid(l, pid, fd);

	if (k == NULL)
		return;
	if (k->endfd >= 0)
		close(k->endfd);
	*k = l->kids[--l->nkids];
}

/*
 * The processes that serve connections.  With -s there are none: every
 * child of the process is some thread's (a method's isolated child, a
 * server a method spawned), which that thread waits for by its pid, and
 * whose status a wait for any child here would take from it.
 */
static void
reap(struct listener *l)
{
	pid_t pid;
	int st;

	if (l->srv->lopt.single)
		return;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		del_kid(l, pid, -1);
		/* A child that died by a signal could not log its exit. */
		if (WIFSIGNALED(st))
			dopy_log(&l->srv->log, LOG_WARNING, "child %ld killed "
			    "by signal %d", (long)pid, WTERMSIG(st));
	}
}

struct thread_arg {
	struct listener		*l;
	int			 fd;
	struct dopy_session	 sess;
	char			 peer[64];
};

/* The session's over hook in a thread: no longer counted by the caps,
 * though its gone hooks may still run. */
static void
thread_over(void *p)
{
	struct thread_arg *t = p;
	struct child *k;

	pthread_mutex_lock(&t->l->kidlock);
	if ((k = find_kid(t->l, 0, t->fd)) != NULL)
		k->over = 1;
	pthread_mutex_unlock(&t->l->kidlock);
}

/* The same in a forked child: the listener sees EOF on its end. */
static void
process_over(void *p)
{
	struct listener *l = p;

	if (l->endfd >= 0)
		close(l->endfd);
	l->endfd = -1;
}

static void *
thread_main(void *p)
{
	struct thread_arg *t = p;

	dopy_session_serve(&t->sess, t->fd, t->fd);	/* logs its exit */
	pthread_mutex_lock(&t->l->kidlock);
	del_kid(t->l, 0, t->fd);
	pthread_mutex_unlock(&t->l->kidlock);
	close(t->fd);
	free(t);
	return NULL;
}

static int
spawn_thread(struct listener *l, int fd, const struct dopy_peer *peer,
    const char *name)
{
	struct thread_arg *t;
	pthread_t tid;
	int r;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return DOPY_E_NOMEM;
	t->l = l;
	t->fd = fd;
	t->sess.srv = l->srv;
	t->sess.peer = *peer;
	t->sess.over = thread_over;
	t->sess.over_arg = t;
	strlcpy(t->peer, name, sizeof(t->peer));
	pthread_mutex_lock(&l->kidlock);
	r = add_kid(l, 0, fd, -1, name);
	pthread_mutex_unlock(&l->kidlock);
	if (r == 0 && pthread_create(&tid, NULL, thread_main, t) == 0) {
		pthread_detach(tid);
		return 0;
	}
	pthread_mutex_lock(&l->kidlock);
	del_kid(l, 0, fd);
	pthread_mutex_unlock(&l->kidlock);
	free(t);
	return DOPY_E_SYS;
}

/*
 * accept(2) failed.  Out of descriptors the connection stays pending and
 * the socket readable: polling it again at once would spin.  So the
 * reserve descriptor makes room to accept it and say Busy, or else
 * accepting pauses a while.
 */
static void
accept_failed(struct listener *l, int lfd)
{
	struct dopy_peer peer;
	int fd, e = errno;

	if (e == EAGAIN || e == EINTR || e == ECONNABORTED)
		return;
	if ((e == EMFILE || e == ENFILE) && l->reserve >= 0) {
		close(l->reserve);
		if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
			dopy_peer_detect(&peer, fd, 1);
			refuse(l, fd, peer.name, "out of descriptors");
		}
		l->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && l->reserve >= 0)
			return;
	}
	dopy_log(&l->srv->log, LOG_WARNING, "accept: %s; pausing %d ms",
	    strerror(e), PAUSE_MS);
	l->pause_end = dopy_now_ms() + PAUSE_MS;
}

/* Whether the caps leave room for one more connection from peer. */
static const char *
over_cap(struct listener *l, const char *peer)
{
	const struct dopy_listen_opts *o = &l->srv->lopt;
	const char *why = NULL;

	pthread_mutex_lock(&l->kidlock);
	if (count_open(l) >= o->maxconn)
		why = "too many connections";
	else if (o->perpeer > 0 && count_peer(l, peer) >= o->perpeer)
		why = "too many connections from this peer";
	pthread_mutex_unlock(&l->kidlock);
	return why;
}

/* Fork a child for the connection on fd; returns 1 in the child. */
static int
fork_child(struct listener *l, int fd, struct dopy_session *sess,
    const char *peer)
{
	int ends[2] = { -1, -1 };
	pid_t pid;

	ucspi_make(&l->env, &sess->peer, fd);
	/* Without the pipe (no descriptors), the process counts until it
	 * has exited. */
	if (pipe2(ends, O_CLOEXEC) != 0)
		ends[0] = ends[1] = -1;
	if ((pid = fork()) < 0) {
		lfail(l, "fork");
		close(fd);
		if (ends[0] >= 0) {
			close(ends[0]);
			close(ends[1]);
		}
		return 0;
	}
	if (pid == 0) {
		if (ends[0] >= 0)
			close(ends[0]);
		l->endfd = ends[1];
		sess->over = process_over;
		sess->over_arg = l;
		return 1;
	}
	close(fd);
	if (ends[1] >= 0)
		close(ends[1]);
	if (add_kid(l, pid, -1, ends[0], peer) < 0) {
		dopy_log(&l->srv->log, LOG_ERR, "out of memory tracking "
		    "children");
		if (ends[0] >= 0)
			close(ends[0]);
	}
	return 0;
}

/* Accept one connection; returns 1 in a forked child (fd in *cfd). */
static int
accept_one(struct listener *l, int lfd, int *cfd, struct dopy_session *sess)
{
	dopy_server *s = l->srv;
	const char *why;
	char peer[64];
	int fd, one = 1;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0) {
		accept_failed(l, lfd);
		return 0;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(sess, 0, sizeof(*sess));
	sess->srv = s;
	dopy_peer_detect(&sess->peer, fd, 1);
	strlcpy(peer, sess->peer.name, sizeof(peer));
	if ((why = over_cap(l, peer)) != NULL) {
		refuse(l, fd, peer, why);
		return 0;
	}
	dopy_log(&s->log, LOG_INFO, "accept %s%s%s", peer,
	    sess->peer.port[0] ? " port " : "", sess->peer.port);
	if (!s->lopt.single && fork_child(l, fd, sess, peer) == 1) {
		*cfd = fd;
		return 1;
	}
	if (s->lopt.single && spawn_thread(l, fd, &sess->peer, peer) < 0) {
		dopy_log(&s->log, LOG_ERR, "cannot start a thread");
		close(fd);
	}
	return 0;
}

/* In a child: the other children's end pipes are the listener's. */
static void
close_kid_ends(struct listener *l)
{
	unsigned i;

	for (i = 0; i < l->nkids; i++)
		if (l->kids[i].endfd >= 0)
			close(l->kids[i].endfd);
	l->nkids = 0;
}

/* SIGTERM: stop accepting, give children the grace time, then end them. */
static void
drain(struct listener *l)
{
	int64_t end = dopy_now_ms() + l->srv->lopt.grace * 1000LL;
	unsigned i, n;

	dopy_log(&l->srv->log, LOG_INFO, "stopping; %u connection%s open",
	    l->nkids, l->nkids == 1 ? "" : "s");
	for (;;) {
		reap(l);
		pthread_mutex_lock(&l->kidlock);
		n = l->nkids;
		pthread_mutex_unlock(&l->kidlock);
		if (n == 0 || dopy_now_ms() >= end)
			break;
		poll(NULL, 0, 50);
	}
	/* Past the grace time: processes get SIGTERM, threads an EOF. */
	pthread_mutex_lock(&l->kidlock);
	for (i = 0; i < l->nkids; i++)
		if (l->kids[i].pid > 0)
			kill(l->kids[i].pid, SIGTERM);
		else
			shutdown(l->kids[i].fd, SHUT_RDWR);
	pthread_mutex_unlock(&l->kidlock);
	for (i = 0; i < 40; i++) {
		reap(l);
		pthread_mutex_lock(&l->kidlock);
		n = l->nkids;
		pthread_mutex_unlock(&l->kidlock);
		if (n == 0)
			break;
		poll(NULL, 0, 50);
	}
}

/*
 * libtpl is not linked with -z now, and the message types are made on
 * first use: decode one message here so that its lazy symbols are bound
 * and the types made once, in the listener, rather than in every child.
 */
static void
warm_decoder(void)
{
	dopy_error *e = dopy_error_new(DOPY_E_CLOSED, "warm-up"), *got = NULL;
	struct dopy_buf b;

	dopy_buf_init(&b);
	if (e != NULL && dopy_msg_error_put(&b, e) == 0)
		dopy_msg_error_get(b.data + b.off, b.len - b.off, &got);
	dopy_buf_release(&b);
	dopy_error_free(got);
	dopy_error_free(e);
}

static void
set_signals(void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = fn == SIG_DFL ? 0 : SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* Listen again after a pause, reopening the reserve if it was lost;
 * the poll(2) timeout until then (-1: none). */
static int
pause_left(struct listener *l, struct pollfd *pfd)
{
	int64_t left = l->pause_end - dopy_now_ms();
	int i;

	if (l->reserve < 0)
		l->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
	for (i = 0; i < l->nfds; i++)
		pfd[i].events = left > 0 ? 0 : POLLIN;
	return left > 0 ? (int)left : -1;
}

/* The accept loop; returns 1 in a child with *cfd set. */
static int
loop(struct listener *l, int *cfd, struct dopy_session *sess)
{
	struct pollfd pfd[MAXLISTEN + 1];
	unsigned char sig;
	int i, stop = 0;

	for (i = 0; i < l->nfds; i++)
		pfd[i] = (struct pollfd){ l->fds[i], POLLIN, 0 };
	pfd[l->nfds] = (struct pollfd){ sigpipe_fds[0], POLLIN, 0 };
	while (!stop) {
		if (poll(pfd, (nfds_t)l->nfds + 1, pause_left(l, pfd)) < 0 &&
		    errno != EINTR)
			return lfail(l, "poll");
		while (pfd[l->nfds].revents &&
		    read(sigpipe_fds[0], &sig, 1) == 1)
			if (sig != SIGCHLD && sig != SIGHUP)
				stop = 1;
		reap(l);
		for (i = 0; i < l->nfds && !stop; i++)
			if ((pfd[i].revents & POLLIN) &&
			    accept_one(l, l->fds[i], cfd, sess) == 1)
				return 1;
	}
	return 0;
}

static int
open_listeners(struct listener *l)
{
	const char *a = l->srv->lopt.addr;
	int r;

	l->nfds = dopy_systemd_fds(l->fds, MAXLISTEN);
	/* inetd "wait" or systemd Accept=no with StandardInput=socket:
	 * the listening socket is stdin. */
	if (a == NULL && l->nfds == 0 && dopy_is_listening(STDIN_FILENO) &&
	    (l->fds[0] = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3)) >= 0) {
		l->nfds = 1;
		l->from = "stdin";
		/* fd 1 is that socket too: keep methods' output off it. */
		dopy_stdio_away(l->srv, l->fds[0], l->fds[0]);
	} else if (a == NULL)
		l->from = "systemd sockets";
	if (a == NULL)
		return l->nfds > 0 ? 0 : DOPY_E_USAGE;
	if (strncmp(a, "unix:", 5) == 0)
		r = bind_unix(l, a + 5);
	else
		r = bind_tcp(l, a);
	return r;
}

static void
close_listeners(struct listener *l)
{
	int i;

	for (i = 0; i < l->nfds; i++)
		close(l->fds[i]);
	l->nfds = 0;
}

/* In a child of the listener: nothing of the listener's stays open,
 * and signals are no longer its own. */
static void
leave_listener(struct listener *l)
{
	set_signals(SIG_DFL);
	close_listeners(l);
	close(sigpipe_fds[0]);
	close(sigpipe_fds[1]);
	if (l->reserve >= 0)
		close(l->reserve);
}

/*
 * -s: an isolated call's child (isolate.c) is forked under kidlock, so
 * that it sees the connections as they are, and keeps none of them,
 * as a forked connection's process keeps none: a connection the
 * server closes meanwhile ends for its client then, not when the
 * child does.  Its own connection it closes anyway.
 */
static void
fork_before(void *arg)
{
	struct listener *l = arg;

	pthread_mutex_lock(&l->kidlock);
}

static void
fork_after(void *arg, int child)
{
	struct listener *l = arg;
	unsigned i;

	if (!child) {
		pthread_mutex_unlock(&l->kidlock);
		return;
	}
	leave_listener(l);
	for (i = 0; i < l->nkids; i++)
		if (l->kids[i].fd >= 0)
			close(l->kids[i].fd);
}

static void
log_listening(struct listener *l)
{
	const struct dopy_listen_opts *o = &l->srv->lopt;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[64] = "", port[16] = "";

	if (l->unix_path != NULL)
		snprintf(host, sizeof(host), "unix:%.58s", l->unix_path);
	else if (getsockname(l->fds[0], (struct sockaddr *)&ss, &len) == 0)
		getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host),
		    port, sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV);
	dopy_log(&l->srv->log, LOG_INFO, "listening on %s%s%s%s%s%s (%s mode, "
	    "at most %u connection%s)", l->from ? l->from : "",
	    l->from ? ", " : "", host, *port ? " port " : "", port,
	    l->nfds > 1 ? " and more" : "", o->single ? "single-process" :
	    "forking", o->maxconn, o->maxconn == 1 ? "" : "s");
	/* Besides telling ps(1) what this is, the first title clears the
	 * whole argv and environment area: once here, not in every child. */
	if (l->srv->proctitle)
		setproctitle("listening on %s%s%s", host, *port ? " port " : "",
		    port);
}

/* The target a client dials to reach this listener (its first socket):
 * a wildcard address stands for this host's name. */
static void
bound_target(struct listener *l, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256] = "", port[16] = "";

	if (l->unix_path != NULL) {
		snprintf(buf, len, "unix:%s", l->unix_path);
		return;
	}
	if (getsockname(l->fds[0], (struct sockaddr *)&ss, &sl) != 0 ||
	    getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port,
	    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		*buf = '\0';
	else if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0)
		snprintf(buf, len, "tcp://%s:%s", l->srv->host, port);
	else
		snprintf(buf, len, strchr(host, ':') ? "tcp://[%s]:%s" :
		    "tcp://%s:%s", host, port);
}

/* The pid a pidfile names, or -1: to say whose it is. */
static long
pidfile_pid(const char *path)
{
	char buf[32];
	ssize_t n;
	long pid;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	pid = strtol(buf, NULL, 10);
	return pid > 0 ? pid : -1;
}

/*
 * -p: the pidfile, locked with flock(2) by libbsd's pidfile_open(3), as
 * OpenBSD's and FreeBSD's daemons do.  A file left by a listener that
 * died holds no lock, and is taken over; one whose lock is held names
 * the listener that holds it, which is alive since it holds the lock.
 */
static int
open_pidfile(struct listener *l, struct pidfh **pfh)
{
	const char *path = l->srv->lopt.pidfile;
	long old = pidfile_pid(path);
	pid_t other = -1;

	if ((*pfh = pidfile_open(path, 0644, &other)) == NULL) {
		if (errno != EEXIST)
			return lfail(l, path);
		if (other > 0)
			lerr(l, "%s: another listener, pid %ld, holds it and is "
			    "running", path, (long)other);
		else
			lerr(l, "%s: another process holds its lock", path);
		return DOPY_E_SYS;
	}
	if (pidfile_write(*pfh) < 0)
		lerr(l, "%s: cannot write the pid: %s", path,
		    strerror(errno));
	if (old > 0 && old != (long)getpid())
		dopy_log(&l->srv->log, LOG_NOTICE, "%s: taken over from pid "
		    "%ld, which no longer holds it", path, old);
	return 0;
}

/* At the end: a pidfile left behind is taken over at the next start
 * (no lock), but say why it stays, typically -u's user. */
static void
remove_pidfile(struct listener *l, struct pidfh *pfh)
{
	const struct dopy_listen_opts *o = &l->srv->lopt;

	if (pfh != NULL && pidfile_remove(pfh) < 0)
		dopy_log(&l->srv->log, LOG_WARNING, "cannot remove %s: %s%s",
		    o->pidfile, strerror(errno), o->user != NULL ? " (as the "
		    "user of -u, who may not write in its directory)" : "");
}

static int
run(struct listener *l, int *child)
{
	struct dopy_listen_opts *o = &l->srv->lopt;
	struct dopy_session sess;
	struct pidfh *pfh = NULL;
	char target[300];
	int r, cfd = -1;

	if ((r = open_listeners(l)) < 0)
		return r;
	if (o->pidfile != NULL && (r = open_pidfile(l, &pfh)) < 0)
		return r;
	if (o->user != NULL && (r = drop_privileges(l, o->user)) < 0)
		goto out;
	if (pipe2(sigpipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
		r = lfail(l, "pipe");
		goto out;
	}
	set_signals(on_signal);
	if (!o->single)
		warm_decoder();
	l->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (o->single) {
		l->srv->locking = 1;
		l->srv->forkhook = (struct dopy_forkhook){ fork_before,
		    fork_after, l };
	}
	log_listening(l);
	bound_target(l, target, sizeof(target));
	dopy_register_up(l->srv, target);
	/* -B says "ready": bound, and its names (-n) bound too. */
	if (o->announce)
		announce(l);
	l->starting = 0;
	if (loop(l, &cfd, &sess) == 1) {
		leave_listener(l);
		close_kid_ends(l);
		if (pfh != NULL)
			pidfile_close(pfh);
		if (ucspi_install(&l->env) < 0)
			dopy_log(&l->srv->log, LOG_ERR, "no memory for the "
			    "UCSPI environment");
		*child = 1;
		r = dopy_session_serve(&sess, cfd, cfd) == 0 ? 0 : 1;
		close(cfd);
		return r;
	}
	close_listeners(l);
	dopy_register_down(l->srv, target);
	drain(l);
	if (l->reserve >= 0)
		close(l->reserve);
	r = 0;
out:
	if (l->unix_path != NULL)
		unlink(l->unix_path);
	remove_pidfile(l, pfh);
	return r;
}

int
dopy_listen_run(dopy_server *s, int *child)
{
	struct listener *l;
	int r;

	*child = 0;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return DOPY_E_NOMEM;
	l->srv = s;
	l->starting = 1;
	l->reserve = l->endfd = -1;
	pthread_mutex_init(&l->kidlock, NULL);
	dopy_crash_prepare(s);
	r = run(l, child);
	free(l->unix_path);
	l->unix_path = NULL;
	/* A thread still inside a method after the grace time keeps the
	 * listener it points to: leak it rather than pull it away. */
	if (!*child && l->nkids > 0) {
		dopy_log(&s->log, LOG_WARNING, "%u connection%s did not end",
		    l->nkids, l->nkids == 1 ? "" : "s");
		return r;
	}
	/* No thread is left to fork a call's child. */
	memset(&s->forkhook, 0, sizeof(s->forkhook));
	free(l->kids);
	pthread_mutex_destroy(&l->kidlock);
	free(l);
	return r;
}
