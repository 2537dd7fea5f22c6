/*
 * connect.c - from a parsed target to a connection: a TCP or UNIX
 * socket, ssh as a remote command, or any shell command over pipes.
 */
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client/client.h"

static int
tcp_socket(const dopy_target *t, int *fdp, dopy_error **ep)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, r, one = 1, saved = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(t->host, t->port, &hints, &res)) != 0)
		return dopy_error_set(ep, DOPY_E_SYS, "%s port %s: %s",
		    t->host, t->port, gai_strerror(r));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return dopy_error_set(ep, DOPY_E_SYS, "connect to %s port %s: "
		    "%s", t->host, t->port, strerror(saved));
	/* Small calls must not wait for Nagle. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*fdp = fd;
	return 0;
}

static int
unix_socket(const dopy_target *t, int *fdp, dopy_error **ep)
{
	struct sockaddr_un sun;
	int fd, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, t->path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		return dopy_error_set(ep, DOPY_E_USAGE, "socket path too "
		    "long: %s", t->path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return dopy_error_set(ep, DOPY_E_SYS, "socket: %s",
		    strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		saved = errno;
		close(fd);
		return dopy_error_set(ep, DOPY_E_SYS, "connect to %s: %s",
		    t->path, strerror(saved));
	}
	*fdp = fd;
	return 0;
}

/* Append s to f in single quotes, safe for sh -c. */
void
dopy_shquote(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

/* ssh -T -o BatchMode=yes [-p PORT] [-l USER] -- HOST REMOTE */
char *
dopy_ssh_command(const dopy_target *t, const char *remote)
{
	const char *ssh = getenv("DOPY_SSH");
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	if ((f = open_memstream(&out, &len)) == NULL)
		return NULL;
	fprintf(f, "exec %s -T -o BatchMode=yes", ssh != NULL && *ssh ?
	    ssh : "ssh");
	if (t->port != NULL) {
		fputs(" -p ", f);
		dopy_shquote(f, t->port);
	}
	if (t->user != NULL) {
		fputs(" -l ", f);
		dopy_shquote(f, t->user);
	}
	fputs(" -- ", f);
	dopy_shquote(f, t->host);
	fputc(' ', f);
	dopy_shquote(f, remote);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/*
 * A host, user or remote program from a naming entry: a plain word that
 * neither ssh's options nor a shell read as anything else.  NULL (no
 * user) is fine.
 */
static int
plain_word(const char *s, const char *extra)
{
	if (s == NULL)
		return 1;
	if (*s == '\0' || *s == '-')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("._-", *s) == NULL &&
		    strchr(extra, *s) == NULL)
			return 0;
	return 1;
}

/*
 * Why the target t of a naming entry may not be dialled, or NULL.  An
 * entry comes from the network, and anyone who may bind names could
 * write it: unless the caller trusts the naming service, it may lead
 * only to another server (TCP, a UNIX socket, or ssh to a host running
 * one program there without arguments), never run a command here.
 * Chains are refused, trusted or not: a name is resolved once.
 */
static const char *
named_refusal(const dopy_target *t, int trust)
{
	switch (t->kind) {
	case DOPY_TARGET_TCP:
	case DOPY_TARGET_UNIX:
		return NULL;
	case DOPY_TARGET_NAME:
		return "another name: target, and names do not chain";
	case DOPY_TARGET_SSH:
		if (trust)
			return NULL;
		if (!plain_word(t->host, ":") || !plain_word(t->user, ""))
			return "an ssh host or user that is not a plain name";
		return plain_word(t->command, "/") ? NULL : "an ssh command "
		    "that is not one program path, which a name may not run";
	default:
		return trust ? NULL : "a command, which a name may not run";
	}
}

/* DOPY_CONNECT_TRUST_NS, DOPY_NS_TRUST=1, or a trusted connection's
 * own target dialled again. */
static int
ns_trusted(const dopy_target *t, int flags)
{
	const char *env = getenv("DOPY_NS_TRUST");

	return (flags & DOPY_CONNECT_TRUST_NS) != 0 || t->trust_ns ||
	    (env != NULL && strcmp(env, "1") == 0);
}

/* The target of a naming entry, if the name may dial it.  The entry is
 * shown with what is unprintable in it as '?', and cut short. */
static int
named_target(const dopy_target *t, const char *text, int flags,
    dopy_target **rtp, dopy_error **ep)
{
	const char *why;
	char shown[64];
	size_t i;
	int r;

	if ((r = dopy_target_parse(text, rtp, ep)) < 0)
		return r;
	if ((why = named_refusal(*rtp, ns_trusted(t, flags))) == NULL)
		return 0;
	for (i = 0; text[i] != '\0' && i < sizeof(shown) - 1; i++)
		shown[i] = isprint((unsigned char)text[i]) ? text[i] : '?';
	shown[i] = '\0';
	if (text[i] != '\0')
		memcpy(shown + sizeof(shown) - 4, "...", 4);
	r = dopy_error_set(ep, DOPY_E_USAGE, "name:%s is bound to '%s', "
	    "%s%s", t->command, shown, why, (*rtp)->kind == DOPY_TARGET_NAME ?
	    "" : "; set DOPY_NS_TRUST=1 to trust this naming service");
	dopy_target_free(*rtp);
	*rtp = NULL;
	return r;
}

/*
 * name:NAME (Pyro's PYRONAME): ask the naming service at $DOPY_NS for
 * NAME's target and object, then connect there if named_refusal()
 * allows it.  The object found is remembered in the target for
 * dopy_target_object().
 */
static int
connect_name(dopy_target *t, const dopy_key *key, int flags, dopy_conn **cp,
    dopy_error **ep)
{
	const char *ns = getenv("DOPY_NS");
	dopy_target *nst = NULL, *rt = NULL;
	char *target = NULL, *obj = NULL;
	dopy_conn *nc = NULL;
	dopy_proxy *p = NULL;
	int r;

	if (ns == NULL || *ns == '\0')
		return dopy_error_set(ep, DOPY_E_USAGE, "name:%s: set DOPY_NS "
		    "to the naming service's target", t->command);
	if ((r = dopy_target_parse(ns, &nst, ep)) < 0)
		return r;
	if (nst->kind == DOPY_TARGET_NAME) {
		r = dopy_error_set(ep, DOPY_E_USAGE, "DOPY_NS may not be a "
		    "name: target");
		goto out;
	}
	if ((r = dopy_target_connect_flags(nst, key, flags &
	    ~DOPY_CONNECT_TRUST_NS, &nc, ep)) < 0)
		goto out;
	if ((p = dopy_proxy_new(nc, nst->object != NULL ? nst->object :
	    "naming")) == NULL) {
		r = dopy_error_set(ep, DOPY_E_NOMEM, "out of memory");
		goto out;
	}
	if ((r = dopy_ns_resolve(p, t->command, &target, &obj, ep)) < 0 ||
	    (r = named_target(t, target, flags, &rt, ep)) < 0)
		goto out;
	if (*obj != '\0') {
		free(rt->object);
		rt->object = strdup(obj);
	}
	if ((r = dopy_target_connect_flags(rt, key, flags &
	    ~DOPY_CONNECT_TRUST_NS, cp, ep)) == 0 && rt->object != NULL) {
		free(t->object);
		t->object = strdup(rt->object);
	}
out:
	free(target);
	free(obj);
	dopy_proxy_free(p);
	dopy_conn_close(nc);
	dopy_target_free(nst);
	dopy_target_free(rt);
	return r;
}

int
dopy_target_connect(const dopy_target *t, dopy_conn **cp, dopy_error **ep)
{
	return dopy_target_connect_key(t, NULL, cp, ep);
}

/* Open the transport and say HELLO (or queue it, early). */
static int
dial(const dopy_target *t, const dopy_key *key, int flags, dopy_conn **cp,
    dopy_error **ep)
{
	char *cmd;
	int fd = -1, r;

	switch (t->kind) {
	case DOPY_TARGET_TCP:
		if ((r = tcp_socket(t, &fd, ep)) < 0)
			return r;
		return dopy_conn_fds_flags(fd, fd, key, flags, cp, ep);
	case DOPY_TARGET_UNIX:
		if ((r = unix_socket(t, &fd, ep)) < 0)
			return r;
		return dopy_conn_fds_flags(fd, fd, key, flags, cp, ep);
	case DOPY_TARGET_NAME:
		return connect_name((dopy_target *)t, key, flags, cp, ep);
	case DOPY_TARGET_SSH:
		if (t->deliver != NULL)
			return dopy_deliver_dial(t, key, flags, cp, ep);
		if ((cmd = dopy_ssh_command(t, t->command)) == NULL)
			return dopy_error_set(ep, DOPY_E_NOMEM, "no memory");
		r = dopy_conn_spawn_flags(cmd, key, flags, cp, ep);
		free(cmd);
		return r;
	default:
		return dopy_conn_spawn_flags(t->command, key, flags, cp, ep);
	}
}

/*
 * The transport alone, no HELLO: a replay (dopy-replay(1)) sends the
 * recorded one itself.  A name: or a delivery needs the library's own
 * exchanges first, so they are refused.
 */
int
dopy_target_dial_raw(const dopy_target *t, int *in, int *out, pid_t *pid,
    dopy_error **ep)
{
	char *cmd;
	int fd = -1, r;

	*pid = -1;
	if (t->kind == DOPY_TARGET_TCP || t->kind == DOPY_TARGET_UNIX) {
		r = t->kind == DOPY_TARGET_TCP ? tcp_socket(t, &fd, ep) :
		    unix_socket(t, &fd, ep);
		*in = *out = fd;
		return r;
	}
	if (t->kind == DOPY_TARGET_NAME || t->deliver != NULL)
		return dopy_error_set(ep, DOPY_E_USAGE, "a name: target or a "
		    "delivery cannot be dialled without HELLO");
	if (t->kind == DOPY_TARGET_EXEC)
		return dopy_spawn(t->command, in, out, pid, ep);
	if ((cmd = dopy_ssh_command(t, t->command)) == NULL)
		return dopy_error_set(ep, DOPY_E_NOMEM, "no memory");
	r = dopy_spawn(cmd, in, out, pid, ep);
	free(cmd);
	return r;
}

int
dopy_target_connect_key(const dopy_target *t, const dopy_key *key,
    dopy_conn **cp, dopy_error **ep)
{
	return dopy_target_connect_flags(t, key, 0, cp, ep);
}

int
dopy_target_connect_flags(const dopy_target *t, const dopy_key *key,
    int flags, dopy_conn **cp, dopy_error **ep)
{
	int r;

	*cp = NULL;
	if (t == NULL || (flags & ~(DOPY_CONNECT_EARLY |
	    DOPY_CONNECT_TRUST_NS)) != 0)
		return dopy_error_set(ep, DOPY_E_INVAL, "no target, or unknown "
		    "flags %#x", (unsigned)flags);
	if ((r = dial(t, key, flags, cp, ep)) < 0)
		return r;
	/* The target as given (a name: is resolved again on redial). */
	dopy_target_free((*cp)->target);
	dopy_key_free((*cp)->keycopy);
	(*cp)->target = NULL;
	(*cp)->keycopy = NULL;
	if (dopy_conn_remember(*cp, t, key) < 0) {
		dopy_conn_close(*cp);
		*cp = NULL;
		return dopy_error_set(ep, DOPY_E_NOMEM, "out of memory");
	}
	/* Dialled again (rebind), a name is trusted as it was at first. */
	if (flags & DOPY_CONNECT_TRUST_NS)
		(*cp)->target->trust_ns = 1;
	return 0;
}

int
dopy_connect(const char *text, dopy_conn **cp, dopy_error **ep)
{
	return dopy_connect_key(text, NULL, cp, ep);
}

int
dopy_connect_key(const char *text, const dopy_key *key, dopy_conn **cp,
    dopy_error **ep)
{
	return dopy_connect_flags(text, key, 0, cp, ep);
}

int
dopy_connect_flags(const char *text, const dopy_key *key, int flags,
    dopy_conn **cp, dopy_error **ep)
{
	dopy_target *t;
	int r;

	*cp = NULL;
	if ((r = dopy_target_parse(text, &t, ep)) < 0)
		return r;
	r = dopy_target_connect_flags(t, key, flags, cp, ep);
	dopy_target_free(t);
	return r;
}
