/*
 * register.c - -n NAME[=OBJECT]: a listener binds the address it got in
 * the naming service at $DOPY_NS once it listens, as Pyro's daemon
 * registers its URI after it binds, so `-l HOST:0` and a name are all a
 * client needs; the names are unbound when the listener stops.
 *
 * Names are bound before the first accept and before -B prints the port,
 * so a script that waits for the port finds them bound; but when the
 * naming service is this very listener (-N), which accepts only in its
 * loop, a grandchild binds them once it is there.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "client/client.h"
#include "server/server.h"
#include "tools/tools.h"

/* Calls to the naming service wait this long, at most. */
#define REGISTER_MS	5000
/* Room for a name (naming's own limit is lower). */
#define NAME_LEN	256

int
dopy_register_add(dopy_server *s, const char *spec)
{
	struct dopy_listen_opts *o = &s->lopt;
	char **n;

	/* split() copies the name: a longer one would be cut, silently. */
	if (*spec == '\0' || *spec == '=' || strcspn(spec, "=") >= NAME_LEN)
		return DOPY_E_USAGE;
	if ((n = reallocarray(o->names, o->nnames + 1, sizeof(*n))) == NULL)
		return DOPY_E_NOMEM;
	o->names = n;
	o->names[o->nnames++] = (char *)spec;
	return 0;
}

/* Name and object of spec NAME[=OBJECT], in buffers of their own. */
static void
split(const char *spec, char *name, size_t len, const char **object)
{
	const char *eq = strchr(spec, '=');
	size_t n = eq != NULL ? (size_t)(eq - spec) : strlen(spec);

	if (n >= len)
		n = len - 1;
	memcpy(name, spec, n);
	name[n] = '\0';
	*object = eq != NULL ? eq + 1 : "";
}

/* Bind (up) or unbind every -n name; a line in the log for each. */
static void
each_name(dopy_server *s, const char *target, int up)
{
	struct dopy_connect_opts co = { .key = s->key,
	    .timeout_ms = REGISTER_MS };
	const struct dopy_listen_opts *o = &s->lopt;
	dopy_proxy *ns;
	dopy_error *e = NULL;
	const char *obj;
	char name[NAME_LEN];
	size_t i;
	int r;

	if ((r = dopy_ns_open(&co, &ns, &e)) < 0) {
		dopy_log(&s->log, LOG_ERR, "-n: naming service: %s",
		    dopy_error_message(e));
		dopy_error_free(e);
		return;
	}
	for (i = 0; i < o->nnames; i++) {
		split(o->names[i], name, sizeof(name), &obj);
		r = up ? dopy_ns_rebind(ns, name, target, obj, NULL, &e) :
		    dopy_ns_unbind(ns, name, &e);
		if (r < 0)
			dopy_log(&s->log, LOG_ERR, "-n: %s %s: %s", up ? "bind" :
			    "unbind", name, dopy_error_message(e));
		else
			dopy_log(&s->log, LOG_INFO, "%s %s%s%s%s%s", up ?
			    "bound" : "unbound", name, up ? " to " : "",
			    up ? target : "", *obj && up ? " " : "",
			    up ? obj : "");
		dopy_error_free(e);
		e = NULL;
	}
	dopy_proxy_free(ns);
}

static int ns_is_self(const char *);

void
dopy_register_up(dopy_server *s, const char *target)
{
	pid_t pid;

	if (s->lopt.nnames == 0)
		return;
	/* Bound before the first accept, unless this listener is the
	 * naming service: it answers only from its loop. */
	if (!ns_is_self(target)) {
		each_name(s, target, 1);
		return;
	}
	/* Double fork: the listener reaps its own children only. */
	if ((pid = fork()) == 0) {
		if (fork() == 0) {
			each_name(s, target, 1);
			_exit(0);
		}
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	else
		dopy_log(&s->log, LOG_ERR, "-n: fork: %m");
}

static int
same_str(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static int
same_place(const dopy_target *a, const dopy_target *b)
{
	if (a->kind != b->kind)
		return 0;
	if (a->kind == DOPY_TARGET_UNIX)
		return same_str(a->path, b->path);
	return a->kind == DOPY_TARGET_TCP && same_str(a->host, b->host) &&
	    same_str(a->port, b->port);
}

/* Whether $DOPY_NS is this listener: it has stopped listening, so its
 * names stay bound to where it will listen again. */
static int
ns_is_self(const char *target)
{
	const char *ns = getenv("DOPY_NS");
	dopy_target *a = NULL, *b = NULL;
	int same;

	if (ns == NULL || dopy_target_parse(ns, &a, NULL) < 0 ||
	    dopy_target_parse(target, &b, NULL) < 0)
		same = 0;
	else
		same = same_place(a, b);
	dopy_target_free(a);
	dopy_target_free(b);
	return same;
}

void
dopy_register_down(dopy_server *s, const char *target)
{
	if (s->lopt.nnames > 0 && !ns_is_self(target))
		each_name(s, target, 0);
}
