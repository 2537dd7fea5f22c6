/*
 * peer.c - caller identity (Pyro's TLS `caller`): one answer whichever
 * launcher started the process.  A socket on the connection says TCP or
 * UNIX (with the peer's uid and gid); otherwise $SSH_CONNECTION says
 * ssh; otherwise it is a plain pipe from whoever spawned us.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/server.h"

static void
inet_peer(struct dopy_peer *p, const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
	const char *a;

	strlcpy(p->transport, "tcp", sizeof(p->transport));
	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &s4->sin_addr, p->addr, sizeof(p->addr));
		snprintf(p->port, sizeof(p->port), "%u", ntohs(s4->sin_port));
		return;
	}
	inet_ntop(AF_INET6, &s6->sin6_addr, p->addr, sizeof(p->addr));
	snprintf(p->port, sizeof(p->port), "%u", ntohs(s6->sin6_port));
	/* An IPv4 client of a dual-stack socket: show it as IPv4. */
	if (strncmp(p->addr, "::ffff:", 7) == 0 && strchr(p->addr + 7, '.')) {
		a = p->addr + 7;
		memmove(p->addr, a, strlen(a) + 1);
	}
}

/*
 * A TCP socket is always itself.  Otherwise $SSH_CONNECTION means sshd
 * started us (its channel may be a socketpair, which must not pass for
 * a UNIX-socket client) — unless the fd came from our own listener,
 * whose environment says nothing about its clients.
 */
void
dopy_peer_detect(struct dopy_peer *p, int fd, int accepted)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	const char *ssh = accepted ? NULL : getenv("SSH_CONNECTION");
	uid_t uid;
	gid_t gid;

	memset(p, 0, sizeof(*p));
	p->uid = p->gid = -1;
	strlcpy(p->transport, "pipe", sizeof(p->transport));
	if (ssh != NULL)
		strlcpy(p->ssh, ssh, sizeof(p->ssh));
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6))
		inet_peer(p, &ss);
	else if (ssh != NULL) {
		/* "client-ip client-port server-ip server-port" */
		strlcpy(p->transport, "ssh", sizeof(p->transport));
		sscanf(ssh, "%63s %7s", p->addr, p->port);
	} else if (len > 0 && ss.ss_family == AF_UNIX &&
	    getpeereid(fd, &uid, &gid) == 0) {
		strlcpy(p->transport, "unix", sizeof(p->transport));
		p->uid = (long)uid;
		p->gid = (long)gid;
	}
	if (p->addr[0] != '\0')
		snprintf(p->name, sizeof(p->name), "%s", p->addr);
	else if (p->uid >= 0)
		snprintf(p->name, sizeof(p->name), "uid %ld", p->uid);
	else
		snprintf(p->name, sizeof(p->name), "%s", p->transport);
}

static const struct dopy_peer *
peer(dopy_call *c)
{
	static const struct dopy_peer none = { "pipe", "", "", -1, -1, "",
	    0, "pipe" };

	return c != NULL && c->sess != NULL ? &c->sess->peer : &none;
}

const char *
dopy_call_transport(dopy_call *c)
{
	return peer(c)->transport;
}

const char *
dopy_call_peer_addr(dopy_call *c)
{
	return peer(c)->addr;
}

const char *
dopy_call_peer_port(dopy_call *c)
{
	return peer(c)->port;
}

long
dopy_call_peer_uid(dopy_call *c)
{
	return peer(c)->uid;
}

long
dopy_call_peer_gid(dopy_call *c)
{
	return peer(c)->gid;
}

const char *
dopy_call_ssh_connection(dopy_call *c)
{
	return peer(c)->ssh;
}

int
dopy_call_authenticated(dopy_call *c)
{
	return peer(c)->verified;
}
