/*
 * server.c - the registry of named objects (DOPY's hub).
 *
 * Each object's method table is checked and its signatures parsed once,
 * at registration, so a bad signature is the server author's error at
 * start-up, never a client's surprise.  Objects are kept sorted by name.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/server.h"

dopy_server *
dopy_server_new(void)
{
	dopy_server *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	dopy_codec_init();
	dopy_log_init(&s->log);
	s->max_frame = DOPY_FRAME_DEFAULT;
	s->handshake_ms = 20000;
	s->max_refs = DOPY_MAX_REFS;
	s->lopt.maxconn = 64;
	s->lopt.grace = 10;
	pthread_mutex_init(&s->lock, NULL);
	s->pid = (long)getpid();
	if (gethostname(s->host, sizeof(s->host)) != 0)
		strlcpy(s->host, "localhost", sizeof(s->host));
	s->host[sizeof(s->host) - 1] = '\0';
	if (dopy_introspect_add(s) < 0) {
		dopy_server_free(s);
		return NULL;
	}
	return s;
}

void
dopy_object_release(struct dopy_object *o)
{
	size_t i;

	for (i = 0; i < o->nmethods; i++) {
		if (o->sigs != NULL)
			dopy_sig_free(o->sigs[i]);
		if (o->results != NULL)
			dopy_type_free(o->results[i]);
	}
	dopy_stubobj_free(o->stub, o->nmethods);
	o->stub = NULL;
	free(o->mhash);
	o->mhash = NULL;
	free(o->sigs);
	free(o->results);
	free(o->streams);
}

void
dopy_server_free(dopy_server *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nobjs; i++)
		dopy_object_release(&s->objs[i]);
	free(s->objs);
	for (i = 0; i < s->npclasses; i++) {
		dopy_object_release(&s->pclasses[i].obj);
		dopy_type_free(s->pclasses[i].state);
	}
	free(s->pclasses);
	dopy_stubdefs_free(s);
	for (i = 0; i < s->nowned; i++)
		s->owned[i].free(s->owned[i].p);
	free(s->owned);
	dopy_key_free(s->key);
	dopy_record_free(s);
	free(s->lopt.names);		/* the strings are argv's */
	dopy_log_close(&s->log);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

const char *
dopy_server_errmsg(const dopy_server *s)
{
	return s->errmsg;
}

int
dopy_server_fail(dopy_server *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
	va_end(ap);
	return DOPY_E_USAGE;
}

/* A result type, or "stream T": T, and *stream set. */
static dopy_type *
result_parse(const char *text, unsigned char *stream, char *err,
    size_t errlen)
{
	if (strncmp(text, "stream", 6) == 0 && (text[6] == ' ' ||
	    text[6] == '\t')) {
		*stream = 1;
		text += strspn(text + 6, " \t") + 6;
	}
	return dopy_type_parse(text, err, errlen);
}

/* FNV-1a: a few instructions a byte, and names are short. */
uint32_t
dopy_method_hash(const char *name)
{
	uint32_t h = 2166136261u;

	while (*name != '\0')
		h = (h ^ (uint8_t)*name++) * 16777619u;
	return h;
}

/* Parse every method's signature and result type. */
int
dopy_object_prepare(dopy_server *s, struct dopy_object *o)
{
	const struct dopy_object_def *d = o->def;
	const struct dopy_method *m;
	char err[200];
	size_t i;

	for (m = d->methods; m->name != NULL; m++)
		o->nmethods++;
	o->mhash = calloc(o->nmethods + 1, sizeof(*o->mhash));
	o->sigs = calloc(o->nmethods + 1, sizeof(*o->sigs));
	o->results = calloc(o->nmethods + 1, sizeof(*o->results));
	o->streams = calloc(o->nmethods + 1, sizeof(*o->streams));
	if (o->mhash == NULL || o->sigs == NULL || o->results == NULL ||
	    o->streams == NULL)
		return dopy_server_fail(s, "out of memory");
	for (i = 0; i < o->nmethods; i++)
		o->mhash[i] = dopy_method_hash(d->methods[i].name);
	for (i = 0; i < o->nmethods; i++) {
		m = &d->methods[i];
		/* Names travel in CALLs and in readonly lists (pos.c):
		 * never empty, never split by a space. */
		if (*m->name == '\0' || strpbrk(m->name, " \t\n") != NULL)
			return dopy_server_fail(s, "%s: bad method name '%s'",
			    d->name, m->name);
		if (m->fn == NULL)
			return dopy_server_fail(s, "%s.%s: no function", d->name, m->name);
		if ((o->sigs[i] = dopy_sig_parse(m->params, err,
		    sizeof(err))) == NULL)
			return dopy_server_fail(s, "%s.%s: %s", d->name, m->name, err);
		if (m->result != NULL && *m->result != '\0' &&
		    (o->results[i] = result_parse(m->result, &o->streams[i],
		    err, sizeof(err))) == NULL)
			return dopy_server_fail(s, "%s.%s: result: %s", d->name, m->name,
			    err);
		/* ITEM frames would go both ways under one call id. */
		if (o->streams[i] && o->sigs[i]->up.type != NULL)
			return dopy_server_fail(s, "%s.%s: takes an upload and "
			    "streams its results: one or the other", d->name,
			    m->name);
	}
	return 0;
}

int
dopy_server_add(dopy_server *s, const struct dopy_object_def *def,
    void *state)
{
	struct dopy_object o, *no;
	size_t i;

	if (s == NULL || def == NULL || def->name == NULL ||
	    def->methods == NULL)
		return DOPY_E_INVAL;
	if (*def->name == '\0' || strchr(def->name, '/') != NULL)
		return dopy_server_fail(s, "bad object name '%s'", def->name);
	if (dopy_server_find(s, def->name) != NULL)
		return dopy_server_fail(s, "object %s registered twice", def->name);
	memset(&o, 0, sizeof(o));
	o.def = def;
	o.state = state;
	if (dopy_object_prepare(s, &o) < 0) {
		dopy_object_release(&o);
		return DOPY_E_USAGE;
	}
	no = reallocarray(s->objs, s->nobjs + 1, sizeof(*no));
	if (no == NULL) {
		dopy_object_release(&o);
		return dopy_server_fail(s, "out of memory");
	}
	s->objs = no;
	for (i = s->nobjs; i > 0 && strcmp(s->objs[i - 1].def->name,
	    def->name) > 0; i--)
		s->objs[i] = s->objs[i - 1];
	s->objs[i] = o;
	s->nobjs++;
	return 0;
}

const struct dopy_object *
dopy_server_find(const dopy_server *s, const char *name)
{
	size_t lo = 0, hi = s->nobjs, mid;
	int c;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if ((c = strcmp(name, s->objs[mid].def->name)) == 0)
			return &s->objs[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int
dopy_server_set_log(dopy_server *s, enum dopy_log_sink sink,
    const char *path, int verbose)
{
	s->log.verbose = verbose;
	return dopy_log_open(&s->log, sink, path);
}

void
dopy_server_set_traces(dopy_server *s, int on)
{
	if (s != NULL)
		s->bare_errors = !on;
}

void
dopy_server_set_max_frame(dopy_server *s, uint32_t max)
{
	s->max_frame = max < DOPY_FRAME_MIN ? DOPY_FRAME_MIN : max;
}

int
dopy_server_set_key_file(dopy_server *s, const char *path)
{
	dopy_error *e = NULL;
	dopy_key *k;
	int r;

	if ((r = dopy_key_load(path, &k, &e)) < 0) {
		snprintf(s->errmsg, sizeof(s->errmsg), "%s",
		    dopy_error_message(e));
		dopy_error_free(e);
		return r;
	}
	dopy_key_free(s->key);
	s->key = k;
	return 0;
}

int
dopy_server_send_ms(const dopy_server *s)
{
	if (s->send_ms > 0)
		return s->send_ms;
	return s->idle_ms > 0 ? s->idle_ms : DOPY_SEND_MS;
}

int
dopy_server_own(dopy_server *s, void *p, void (*fn)(void *))
{
	struct dopy_owned *o;

	o = reallocarray(s->owned, s->nowned + 1, sizeof(*o));
	if (o == NULL) {
		fn(p);
		return DOPY_E_NOMEM;
	}
	s->owned = o;
	s->owned[s->nowned].p = p;
	s->owned[s->nowned++].free = fn;
	return 0;
}

int
dopy_server_method(dopy_server *s, const char *object, const char *method,
    struct dopy_object **op, size_t *ip)
{
	struct dopy_object *o;
	size_t i;

	if (s == NULL || object == NULL || method == NULL)
		return DOPY_E_INVAL;
	if ((o = (struct dopy_object *)dopy_server_find(s, object)) == NULL)
		return dopy_server_fail(s, "no object %s", object);
	for (i = 0; i < o->nmethods; i++)
		if (strcmp(o->def->methods[i].name, method) == 0)
			break;
	if (i == o->nmethods)
		return dopy_server_fail(s, "%s: no method %s", object, method);
	*op = o;
	*ip = i;
	return 0;
}

int
dopy_server_set_oneway(dopy_server *s, const char *object,
    const char *method)
{
	struct dopy_object *o;
	size_t i;
	int r;

	if ((r = dopy_server_method(s, object, method, &o, &i)) < 0)
		return r;
	if (o->oneway == NULL || o->noneway < o->nmethods) {
		unsigned char *f = calloc(o->nmethods, 1);

		if (f == NULL || dopy_server_own(s, f, free) < 0)
			return dopy_server_fail(s, "out of memory");
		if (o->oneway != NULL)
			memcpy(f, o->oneway, o->noneway);
		o->oneway = f;
		o->noneway = o->nmethods;
	}
	o->oneway[i] = 1;
	return 0;
}

/* Whether method is in the class's readonly list (pos.c, iface.c). */
int
dopy_pclass_readonly(const struct dopy_pclass *def, const char *method)
{
	const char *p = def->readonly;
	size_t n = strlen(method);

	while (p != NULL && n > 0 && (p = strstr(p, method)) != NULL) {
		if ((p == def->readonly || p[-1] == ' ') &&
		    (p[n] == ' ' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}
