/*
 * events.c - the event service (dopy-events(7), Pyro's Event Server):
 * object "events" publishes values to dotted topics and streams them to
 * subscribers whose pattern matches, through the event log in a
 * directory every server process on the machine shares (evlog.c).
 *
 * There is no broker: a publisher appends to the log under a lock and
 * returns; each subscriber is its own connection process reading the
 * log from its own offset, woken by inotify (else a 100 ms poll), and
 * watching its client's connection so that it ends when the client
 * goes.  A subscriber that falls behind the oldest kept segment gets a
 * "!dropped" item saying how many records it lost, then goes on.
 */
#include <sys/inotify.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "server/server.h"
#include "store/store.h"

#define TOPIC_MAX	255		/* bytes in a topic or pattern */
#define PARTS_MAX	128		/* parts in one (a.b: 2) */
#define VALUE_MAX	65536		/* bytes in a value's image */
#define WAIT_MS		1000		/* with inotify: a backstop only */
#define POLL_MS		100		/* without it */
#define DROPPED		"!dropped"	/* no topic can be named this */
#define ITEM_TYPE	"(seq:uint, topic:string, value:string, " \
			"type:string, time:double, pid:int)"

struct events {
	struct dopy_evlog	 lg;
	dopy_type		*item;
};

/* The parts of a dotted name: their starts and lengths; -1 when a
 * part is empty, a byte is not allowed or there are too many. */
static int
split(const char *s, int pattern, const char **part, size_t *plen)
{
	size_t n = 0, len = strlen(s);
	const char *p = s, *e;

	if (len == 0 || len > TOPIC_MAX)
		return -1;
	for (;;) {
		if ((e = strchr(p, '.')) == NULL)
			e = s + len;
		if (n == PARTS_MAX)
			return -1;
		if (e == p || strspn(p, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") < (size_t)(e - p))
			if (!pattern || !((e - p == 1 && (*p == '*' ||
			    *p == '#')) || (e - p == 2 && p[0] == '*' &&
			    p[1] == '*')))
				return -1;
		part[n] = p;
		plen[n++] = (size_t)(e - p);
		if (*e == '\0')
			return (int)n;
		p = e + 1;
	}
}

static int
is_any_depth(const char *p, size_t n)
{
	return (n == 1 && *p == '#') || (n == 2 && p[0] == '*' && p[1] == '*');
}

/*
 * Whether topic t matches pattern p (parts): "*" one part, "**" or "#"
 * any number of parts (none too), anything else itself.  Dynamic
 * programming over the parts, so no pattern costs more than
 * PARTS_MAX squared steps.
 */
static int
match(const char *const *pp, const size_t *pl, int np, const char *const *tp,
    const size_t *tl, int nt)
{
	unsigned char m[PARTS_MAX + 1][PARTS_MAX + 1];
	int i, j;

	memset(m, 0, sizeof(m));
	m[np][nt] = 1;
	for (i = np - 1; i >= 0; i--)
		for (j = nt; j >= 0; j--) {
			if (is_any_depth(pp[i], pl[i]))
				m[i][j] = m[i + 1][j] ||
				    (j < nt && m[i][j + 1]);
			else if (j < nt && ((pl[i] == 1 && *pp[i] == '*') ||
			    (pl[i] == tl[j] && memcmp(pp[i], tp[j],
			    pl[i]) == 0)))
				m[i][j] = m[i + 1][j + 1];
		}
	return m[0][0];
}

struct pattern {
	const char	*part[PARTS_MAX];
	size_t		 len[PARTS_MAX];
	int		 n;
};

static int
topic_matches(const struct pattern *pat, const char *topic, size_t tlen)
{
	const char *tp[PARTS_MAX];
	size_t tl[PARTS_MAX];
	char t[TOPIC_MAX + 1];
	int nt;

	if (tlen > TOPIC_MAX)
		return 0;
	memcpy(t, topic, tlen);
	t[tlen] = '\0';
	if ((nt = split(t, 0, tp, tl)) < 0)
		return 0;
	return match(pat->part, pat->len, pat->n, tp, tl, nt);
}

static int
e_publish(dopy_call *c)
{
	struct events *ev = dopy_call_state(c);
	const char *topic = dopy_call_string(c, 0), *part[PARTS_MAX];
	size_t plen[PARTS_MAX];
	struct dopy_buf b;
	uint64_t seq = 0;
	char err[300];
	int r;

	if (split(topic, 0, part, plen) < 0)
		return dopy_raise(c, "events.BadTopic", "bad topic '%s': "
		    "dotted words of letters, digits, _ and -, at most %d "
		    "bytes", topic, TOPIC_MAX);
	dopy_buf_init(&b);
	if ((r = dopy_encode(dopy_call_arg(c, 1), &b)) < 0) {
		dopy_buf_release(&b);
		return dopy_raise(c, "dopy.InternalError", "%s",
		    dopy_strerror(r));
	}
	if (b.len > VALUE_MAX) {
		dopy_buf_release(&b);
		return dopy_raise(c, "events.TooLarge", "a value of %zu bytes; "
		    "events carry at most %d", b.len, VALUE_MAX);
	}
	r = dopy_evlog_append(&ev->lg, topic, b.data, b.len, &seq, err,
	    sizeof(err));
	dopy_buf_release(&b);
	if (r < 0)
		return dopy_raise(c, "events.StoreError", "%s", err);
	return dopy_call_return(c, dopy_value_uint(seq));
}

/* One item: seq, topic, the value as text and its type, time, pid. */
static dopy_value *
item(struct events *ev, uint64_t seq, const char *topic, size_t tlen,
    const char *text, const char *type, double time, int64_t pid)
{
	dopy_value *v;
	char *t;

	if ((v = dopy_value_new(ev->item)) == NULL ||
	    (t = strndup(topic, tlen)) == NULL) {
		dopy_value_free(v);
		return NULL;
	}
	dopy_value_set_field(v, 0, dopy_value_uint(seq));
	dopy_value_set_field(v, 1, dopy_value_string(t));
	dopy_value_set_field(v, 2, dopy_value_string(text));
	dopy_value_set_field(v, 3, dopy_value_string(type));
	dopy_value_set_field(v, 4, dopy_value_double(time));
	dopy_value_set_field(v, 5, dopy_value_int(pid));
	free(t);
	return v;
}

static int
send_record(dopy_call *c, const struct dopy_evrec *rec)
{
	struct events *ev = dopy_call_state(c);
	struct dopy_image img[2];
	dopy_value *v = NULL;
	char err[200], *text;
	size_t n;
	int r;

	if (dopy_images_split(rec->val, rec->vlen, img, 2, &n, err,
	    sizeof(err)) < 0 || n != 1 ||
	    dopy_decode(&img[0], NULL, &v, err, sizeof(err)) < 0) {
		/* Sound by its sum, so written so: never seen. */
		dopy_log(&c->srv->log, LOG_WARNING, "events: record %llu: "
		    "bad value (%s)", (unsigned long long)rec->seq,
		    n != 1 ? "not one image" : err);
		return 0;
	}
	if ((text = dopy_value_format(v)) == NULL) {
		dopy_value_free(v);
		return dopy_raise(c, "dopy.InternalError", "out of memory");
	}
	r = dopy_call_send_item(c, item(ev, rec->seq, rec->topic, rec->tlen,
	    text, dopy_type_name(dopy_value_type(v)),
	    (double)rec->time_ns / 1e9, rec->pid));
	free(text);
	dopy_value_free(v);
	return r;
}

static int
send_dropped(dopy_call *c, uint64_t count)
{
	struct events *ev = dopy_call_state(c);
	char text[32];

	snprintf(text, sizeof(text), "%llu", (unsigned long long)count);
	return dopy_call_send_item(c, item(ev, 0, DROPPED, strlen(DROPPED),
	    text, "uint", (double)dopy_now_ms() / 1e3, 0));
}

/*
 * Wait for the log to change (inotify, else a short poll), the client
 * to go, or the client to cancel: 1 when the subscription is over (the
 * client gone), DOPY_E_CANCELLED when it was cancelled, else 0.  The
 * client's input is read for a CANCEL (dopy_call_cancelled) while
 * there is room to read it; once it sends what cannot be taken out of
 * the way (calls queued behind this one), only hang-ups are watched,
 * so its input cannot make us spin, and a CANCEL then waits for the
 * next wake-up's check.  *relist is set when the wait ran out (or
 * there is no inotify): the reader then lists the directory, whatever
 * "lock" says.
 */
static int
wait_more(dopy_call *c, int ino, int *deaf, int *relist)
{
	struct pollfd p[2] = { { c->sess->ch.in, POLLRDHUP, 0 },
	    { ino, POLLIN, 0 } };
	char buf[8192];
	struct inotify_event ie;
	uint64_t before;
	ssize_t len;
	size_t off;
	int n;

	if (!*deaf)
		p[0].events |= POLLIN;
	if ((n = poll(p, ino >= 0 ? 2 : 1, ino >= 0 ? WAIT_MS : POLL_MS)) < 0 &&
	    errno != EINTR)
		return 1;
	if (n == 0 || ino < 0)
		*relist = 1;		/* the backstop: list the directory */
	if (p[0].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))
		return 1;
	/* One read: what is left (rarely any) wakes the next poll.  A
	 * file made or moved in (a new segment?) or lost events: list. */
	if (ino >= 0 && (p[1].revents & POLLIN)) {
		if ((len = read(ino, buf, sizeof(buf))) < 0 &&
		    errno != EAGAIN)
			*relist = 1;
		for (off = 0; len > 0 && (size_t)len - off >= sizeof(ie);
		    off += sizeof(ie) + ie.len) {
			memcpy(&ie, buf + off, sizeof(ie));
			if (ie.mask & (IN_CREATE | IN_MOVED_TO | IN_Q_OVERFLOW))
				*relist = 1;
		}
	}
	before = c->sess->ch.bytes_in;
	if (dopy_call_cancelled(c) < 0)
		return DOPY_E_CANCELLED;
	if ((p[0].revents & POLLIN) && c->sess->ch.bytes_in == before)
		*deaf = 1;		/* readable, yet nothing could be read */
	return 0;
}

static int
follow(dopy_call *c, struct dopy_evcur *cur, const struct pattern *pat,
    int ino)
{
	struct dopy_evrec rec;
	int r, deaf = 0;

	for (;;) {
		r = dopy_evcur_next(cur, &rec);
		if (r == DOPY_EVLOG_GAP) {
			r = send_dropped(c, cur->dropped);
			cur->dropped = 0;
		} else if (r == 1) {
			if (topic_matches(pat, rec.topic, rec.tlen))
				r = send_record(c, &rec);
			else
				r = 0;
		} else if (r == 0) {
			if ((r = wait_more(c, ino, &deaf,
			    &cur->relist)) == 1)
				return 0;	/* nobody to tell */
			cur->eof = -1;	/* look at the log again */
		} else
			return dopy_raise(c, "events.StoreError", "%s: cannot "
			    "read the log: %s", cur->lg->dir, r == DOPY_E_SYS ?
			    strerror(errno) : dopy_strerror(r));
		if (r < 0)
			return r;
	}
}

static int
e_subscribe(dopy_call *c)
{
	struct events *ev = dopy_call_state(c);
	const char *ps = dopy_call_string(c, 0);
	struct pattern pat;
	struct dopy_evcur cur;
	int ino, r;

	if ((pat.n = split(ps, 1, pat.part, pat.len)) < 0)
		return dopy_raise(c, "events.BadPattern", "bad pattern '%s': "
		    "dotted words, * for one word, ** or # for any number",
		    ps);
	if (c->sess == NULL || c->id == 0)
		return dopy_raise(c, "events.Unsupported", "subscribe is "
		    "read as a stream: it cannot be called oneway");
	ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ino >= 0 && inotify_add_watch(ino, ev->lg.dir, IN_MODIFY |
	    IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
		close(ino);
		ino = -1;
	}
	dopy_evcur_init(&cur, &ev->lg);
	cur.watched = ino >= 0;
	if ((r = dopy_evcur_start(&cur, dopy_call_uint(c, 1))) < 0)
		r = dopy_raise(c, "events.StoreError", "%s: cannot read the "
		    "log: %s", ev->lg.dir, strerror(errno));
	else
		r = follow(c, &cur, &pat, ino);
	dopy_evcur_release(&cur);
	if (ino >= 0)
		close(ino);
	return r;
}

static const struct dopy_method events_methods[] = {
	{ "publish", e_publish, "topic:string, value:any", "uint",
	    "Append value to the log under topic (a.b.c); its number." },
	{ "subscribe", e_subscribe, "pattern:string, since:uint=0",
	    "stream " ITEM_TYPE,
	    "Events whose topic matches (* one word, ** or # any), as they "
	    "come; since: from that number on, else only new ones." },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct dopy_object_def events_def = {
	"events", "The event service: publish to topics, subscribe to "
	"patterns (dopy-events(7)).", events_methods, NULL, NULL
};

static void
events_free(void *p)
{
	struct events *ev = p;

	dopy_evlog_close(&ev->lg);
	dopy_type_free(ev->item);
	free(ev);
}

int
dopy_server_add_events(dopy_server *s, const char *dir)
{
	struct events *ev;
	char err[300] = "";
	int r = 0;

	if (s == NULL || dir == NULL)
		return DOPY_E_INVAL;
	if ((ev = calloc(1, sizeof(*ev))) == NULL)
		return DOPY_E_NOMEM;
	ev->lg.dirfd = ev->lg.lockfd = ev->lg.wfd = -1;
	if (strlen(dir) >= sizeof(ev->lg.dir))
		r = DOPY_E_USAGE, snprintf(err, sizeof(err), "%.40s...: "
		    "path too long", dir);
	if (r < 0 || (r = dopy_evlog_open(dir, &ev->lg, err,
	    sizeof(err))) < 0 ||
	    (ev->item = dopy_type_parse(ITEM_TYPE, err, sizeof(err))) ==
	    NULL || (r = dopy_server_add(s, &events_def, ev)) < 0) {
		if (r < 0 && s->errmsg[0] == '\0')
			snprintf(s->errmsg, sizeof(s->errmsg), "events: %s",
			    err);
		events_free(ev);
		return r < 0 ? r : DOPY_E_NOMEM;
	}
	return dopy_server_own(s, ev, events_free);
}
