/*
 * target.c - the one parser for target strings, used by the library,
 * dopy-rsh and dopyclient alike:
 *
 *	tcp://HOST:PORT[/OBJECT]	tcp://[::1]:PORT for IPv6
 *	tcp:HOST:PORT[:OBJECT]		DOPY's form
 *	unix:PATH[#OBJECT]
 *	ssh://[USER@]HOST[:PORT][/COMMAND][#OBJECT]
 *	name:NAME			resolved by the naming service at
 *					$DOPY_NS (itself a target)
 *	exec:COMMAND			a shell command, verbatim
 *	anything else			a shell command, verbatim
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"

void
dopy_target_free(dopy_target *t)
{
	if (t == NULL)
		return;
	free(t->host);
	free(t->port);
	free(t->path);
	free(t->user);
	free(t->command);
	free(t->object);
	free(t->deliver);
	free(t);
}

static int
bad(dopy_target *t, dopy_error **ep, const char *text, const char *why)
{
	dopy_target_free(t);
	return dopy_error_set(ep, DOPY_E_USAGE, "bad target '%s': %s", text,
	    why);
}

/* HOST:PORT or [V6]:PORT at s, ending at end; fills host and port. */
static int
hostport(dopy_target *t, const char *s, const char *end)
{
	const char *colon, *hb = s, *he;

	if (*s == '[') {
		if ((he = memchr(s, ']', (size_t)(end - s))) == NULL ||
		    he[1] != ':')
			return -1;
		hb = s + 1;
		colon = he + 1;
	} else {
		colon = NULL;
		for (he = s; he < end; he++)
			if (*he == ':')
				colon = he;
		if (colon == NULL)
			return -1;
		he = colon;
	}
	if (he == hb || colon + 1 >= end)
		return -1;
	t->host = strndup(hb, (size_t)(he - hb));
	t->port = strndup(colon + 1, (size_t)(end - colon - 1));
	if (t->host == NULL || t->port == NULL || !dopy_port_ok(t->port, 1))
		return -1;
	return 0;
}

/* Split off "#OBJECT"; returns the end of what comes before it. */
static const char *
fragment(dopy_target *t, const char *s)
{
	const char *h = strrchr(s, '#');

	if (h == NULL)
		return s + strlen(s);
	t->object = strdup(h + 1);
	return h;
}

static int
parse_tcp_url(dopy_target *t, const char *s)
{
	const char *slash = strchr(s, '/'), *end = s + strlen(s);

	if (slash != NULL) {
		if ((t->object = strdup(slash + 1)) == NULL)
			return -1;
		end = slash;
	}
	return hostport(t, s, end);
}

/* DOPY: tcp:HOST:PORT[:OBJECT]; the object is what follows the port. */
static int
parse_tcp_dopy(dopy_target *t, const char *s)
{
	const char *end = s + strlen(s), *c1, *c2;

	if (*s == '[') {			/* tcp:[::1]:PORT[:OBJECT] */
		if ((c1 = strstr(s, "]:")) == NULL)
			return -1;
		if ((c2 = strchr(c1 + 2, ':')) != NULL) {
			if ((t->object = strdup(c2 + 1)) == NULL)
				return -1;
			end = c2;
		}
		return hostport(t, s, end);
	}
	if ((c1 = strchr(s, ':')) == NULL)
		return -1;
	if ((c2 = strchr(c1 + 1, ':')) != NULL) {
		if ((t->object = strdup(c2 + 1)) == NULL)
			return -1;
		end = c2;
	}
	return hostport(t, s, end);
}

static int
parse_ssh(dopy_target *t, const char *s)
{
	const char *end = fragment(t, s), *at, *slash, *hend;

	if ((slash = memchr(s, '/', (size_t)(end - s))) != NULL) {
		t->command = strndup(slash + 1, (size_t)(end - slash - 1));
		hend = slash;
	} else {
		t->command = strdup("dopyd");
		hend = end;
	}
	if ((at = memchr(s, '@', (size_t)(hend - s))) != NULL) {
		t->user = strndup(s, (size_t)(at - s));
		s = at + 1;
	}
	if (t->command == NULL || *t->command == '\0' || s == hend)
		return -1;
	if (hostport(t, s, hend) == 0)
		return 0;
	free(t->host);
	free(t->port);
	t->port = NULL;
	t->host = strndup(s, (size_t)(hend - s));	/* no port */
	return t->host != NULL && strchr(t->host, ':') == NULL ? 0 : -1;
}

int
dopy_target_parse(const char *text, dopy_target **tp, dopy_error **ep)
{
	dopy_target *t;
	const char *end;
	int r = 0;

	*tp = NULL;
	if (text == NULL || *text == '\0')
		return dopy_error_set(ep, DOPY_E_USAGE, "empty target");
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return dopy_error_set(ep, DOPY_E_NOMEM, "out of memory");
	if (strncmp(text, "tcp://", 6) == 0) {
		t->kind = DOPY_TARGET_TCP;
		r = parse_tcp_url(t, text + 6);
	} else if (strncmp(text, "tcp:", 4) == 0) {
		t->kind = DOPY_TARGET_TCP;
		r = parse_tcp_dopy(t, text + 4);
	} else if (strncmp(text, "unix:", 5) == 0) {
		t->kind = DOPY_TARGET_UNIX;
		end = fragment(t, text + 5);
		t->path = strndup(text + 5, (size_t)(end - text - 5));
		r = t->path == NULL || *t->path == '\0' ? -1 : 0;
	} else if (strncmp(text, "name:", 5) == 0) {
		t->kind = DOPY_TARGET_NAME;
		t->command = strdup(text + 5);
		r = t->command == NULL || *t->command == '\0' ? -1 : 0;
	} else if (strncmp(text, "ssh://", 6) == 0) {
		t->kind = DOPY_TARGET_SSH;
		r = parse_ssh(t, text + 6);
	} else {
		t->kind = DOPY_TARGET_EXEC;
		if (strncmp(text, "exec:", 5) == 0)
			text += 5;
		t->command = strdup(text);
		r = t->command == NULL || *t->command == '\0' ? -1 : 0;
	}
	if (r == 0 && t->object != NULL && *t->object == '\0')
		r = -1;
	if (r < 0)
		return bad(t, ep, text, t->kind == DOPY_TARGET_TCP ?
		    "expected HOST:PORT with a port from 1 to 65535" :
		    t->kind == DOPY_TARGET_SSH ?
		    "expected ssh://[USER@]HOST[:PORT][/COMMAND]" :
		    "empty path, command or object");
	*tp = t;
	return 0;
}

/* Delivery (deliver.c) is an ssh matter: the stub is a remote command. */
int
dopy_target_deliver(dopy_target *t, const char *program, dopy_error **ep)
{
	char *copy = NULL;

	if (t == NULL || t->kind != DOPY_TARGET_SSH)
		return dopy_error_set(ep, DOPY_E_USAGE, "only an ssh:// target "
		    "can deliver a program");
	if (program != NULL && (*program == '\0' ||
	    (copy = strdup(program)) == NULL))
		return dopy_error_set(ep, *program == '\0' ? DOPY_E_USAGE :
		    DOPY_E_NOMEM, *program == '\0' ? "empty program path" :
		    "out of memory");
	free(t->deliver);
	t->deliver = copy;
	return 0;
}

const char *
dopy_target_object(const dopy_target *t)
{
	return t != NULL ? t->object : NULL;
}

/* A copy to dial again later (reconnecting); NULL without memory. */
dopy_target *
dopy_target_dup(const dopy_target *t)
{
	dopy_target *d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->kind = t->kind;
	d->trust_ns = t->trust_ns;
#define DUP(f) if (t->f != NULL && (d->f = strdup(t->f)) == NULL) goto fail
	DUP(host);
	DUP(port);
	DUP(path);
	DUP(user);
	DUP(command);
	DUP(object);
	DUP(deliver);
#undef DUP
	return d;
fail:
	dopy_target_free(d);
	return NULL;
}
