/*
 * record.c - a server's recording (dopyd -Y, dopy_server_record()) and
 * its -v trace: both watch the connection's frames through its
 * channel's tap, so every frame is seen, however it is sent.
 */
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/uio.h>

#include "server/server.h"

/* The session holding tap t. */
static struct dopy_session *
session_of(struct dopy_tap *t)
{
	return (struct dopy_session *)(void *)((char *)t -
	    offsetof(struct dopy_session, tap));
}

static void
tap_frame(struct dopy_tap *t, int out, const uint8_t *hdr,
    const struct iovec *pl, int cnt)
{
	struct dopy_session *c = session_of(t);

	if (c->rec != NULL)
		dopy_rec_frame(c->rec, out, hdr, pl, cnt);
	dopy_log_frame(&c->srv->log, out, hdr, pl, cnt);
}

void
dopy_record_begin(struct dopy_session *c)
{
	dopy_server *s = c->srv;
	int r;

	if (s->rec_path != NULL) {
		if ((r = dopy_rec_open(s->rec_path, 's', &c->rec)) < 0)
			dopy_log(&s->log, LOG_ERR, "%s: not recording: %s",
			    s->rec_path, dopy_strerror(r));
		else {
			dopy_rec_next_conn(c->rec);
			dopy_rec_omit(c->rec, s->rec_omit, s->nrec_omit);
		}
	}
	if (c->rec == NULL && !s->log.verbose)
		return;		/* nothing watches: the fast path */
	c->tap.frame = tap_frame;
	c->ch.tap = &c->tap;
}

void
dopy_record_end(struct dopy_session *c)
{
	c->ch.tap = NULL;
	dopy_rec_close(c->rec);
	c->rec = NULL;
}

int
dopy_server_record(dopy_server *s, const char *path)
{
	struct dopy_rec *r;
	char *p;
	int e;

	if (s == NULL || path == NULL)
		return DOPY_E_INVAL;
	/* Made now, so that a bad path is told at start. */
	if ((e = dopy_rec_open(path, 's', &r)) < 0)
		return e;
	dopy_rec_close(r);
	if ((p = strdup(path)) == NULL)
		return DOPY_E_NOMEM;
	free(s->rec_path);
	s->rec_path = p;
	return dopy_recorder_add(s);
}

int
dopy_server_record_omit(dopy_server *s, const char *object,
    const char *method)
{
	char **v, *p;

	if (s == NULL || object == NULL || strchr(object, '.') != NULL)
		return DOPY_E_INVAL;
	if ((p = dopy_asprintf("%s.%s", object, method != NULL ? method :
	    "*")) == NULL)
		return DOPY_E_NOMEM;
	if ((v = reallocarray(s->rec_omit, s->nrec_omit + 1,
	    sizeof(*v))) == NULL) {
		free(p);
		return DOPY_E_NOMEM;
	}
	s->rec_omit = v;
	v[s->nrec_omit++] = p;
	return 0;
}

void
dopy_record_free(dopy_server *s)
{
	size_t i;

	for (i = 0; i < s->nrec_omit; i++)
		free(s->rec_omit[i]);
	free(s->rec_omit);
	free(s->rec_path);
}

/* The recorder object: RemoteCall's StartRecording and StopRecording,
 * for every process of the server at once (the file holds the state). */
static int
r_switch(dopy_call *c, int on)
{
	dopy_server *s = dopy_call_state(c);
	int r;

	if ((r = dopy_rec_switch(s->rec_path, on)) < 0)
		return dopy_raise(c, "recorder.Error", "%s: %s", s->rec_path,
		    dopy_strerror(r));
	return 0;
}

static int
r_start(dopy_call *c)
{
	return r_switch(c, 1);
}

static int
r_stop(dopy_call *c)
{
	return r_switch(c, 0);
}

static const struct dopy_method methods[] = {
	{ "start", r_start, "", "",
	    "Record every connection's calls from now on (dopyd -Y)." },
	{ "stop", r_stop, "", "",
	    "Stop recording, in every process of this server." },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_object_def def = {
	"recorder", "The recording of this server's traffic (dopy-dump(1)).",
	methods, NULL, NULL
};

int
dopy_recorder_add(dopy_server *s)
{
	if (dopy_object_lookup_in(s, NULL, "recorder") != NULL)
		return 0;
	return dopy_server_add(s, &def, s);
}
