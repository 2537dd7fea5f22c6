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
#include <time.h>
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
	const char		*tpl;		/* item's, for dopy_out_begin */
};

/* Whether n bytes at p make a word of a topic: letters, digits, _ and
 * - (by ranges, not strspn: a set that large takes its slow path, and
 * every record a subscriber reads is split). */
static int
is_word(const char *p, size_t n)
{
	unsigned char ch;
	size_t i;

	for (i = 0; i < n; i++) {
		ch = (unsigned char)p[i];
		if ((unsigned char)((ch | 0x20) - 'a') >= 26 &&
		    (unsigned char)(ch - '0') >= 10 && ch != '_' && ch != '-')
			return 0;
	}
	return n > 0;
}

static int
is_any_depth(const char *p, size_t n)
{
	return (n == 1 && *p == '#') || (n == 2 && p[0] == '*' && p[1] == '*');
}

/* The parts of a dotted name of len bytes: their starts and lengths;
 * -1 when a part is empty, a byte is not allowed or there are too
 * many. */
static int
split(const char *s, size_t len, int pattern, const char **part,
    size_t *plen)
{
	const char *p = s, *e, *end = s + len;
	size_t n = 0;

	if (len == 0 || len > TOPIC_MAX)
		return -1;
	for (;;) {
		if ((e = memchr(p, '.', (size_t)(end - p))) == NULL)
			e = end;
		if (n == PARTS_MAX)
			return -1;
		if (!is_word(p, (size_t)(e - p)) && !(pattern &&
		    ((e - p == 1 && *p == '*') || is_any_depth(p,
		    (size_t)(e - p)))))
			return -1;
		part[n] = p;
		plen[n++] = (size_t)(e - p);
		if (e == end)
			return (int)n;
		p = e + 1;
	}
}

struct pattern {
	const char	*part[PARTS_MAX];
	size_t		 len[PARTS_MAX];
	int		 n;
};

/*
 * Whether topic t matches the pattern: "*" one part, "**" or "#" any
 * number of parts (none too), anything else itself.  Dynamic
 * programming over the parts, a row per pattern part from the last
 * (row[j]: whether the parts from here match the topic's from j), so
 * no pattern costs more than PARTS_MAX squared steps, and a topic of
 * nt parts touches 2 (nt + 1) bytes of memory, not the whole table.
 */
static int
match(const struct pattern *pat, const char *const *tp, const size_t *tl,
    int nt)
{
	unsigned char rows[2][PARTS_MAX + 1], *next = rows[0], *cur = rows[1],
	    *t;
	const char *pp;
	size_t pl;
	int i, j;

	memset(next, 0, (size_t)nt);
	next[nt] = 1;
	for (i = pat->n - 1; i >= 0; i--) {
		pp = pat->part[i];
		pl = pat->len[i];
		if (is_any_depth(pp, pl)) {
			cur[nt] = next[nt];
			for (j = nt - 1; j >= 0; j--)
				cur[j] = next[j] || cur[j + 1];
		} else {
			cur[nt] = 0;
			for (j = nt - 1; j >= 0; j--)
				cur[j] = next[j + 1] && ((pl == 1 &&
				    *pp == '*') || (pl == tl[j] &&
				    memcmp(pp, tp[j], pl) == 0));
		}
		t = next;
		next = cur;
		cur = t;
	}
	return next[0];
}

static int
topic_matches(const struct pattern *pat, const char *topic, size_t tlen)
{
	const char *tp[PARTS_MAX];
	size_t tl[PARTS_MAX];
	int nt;

	if ((nt = split(topic, tlen, 0, tp, tl)) < 0)
		return 0;
	return match(pat, tp, tl, nt);
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

	if (split(topic, strlen(topic), 0, part, plen) < 0)
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

/*
 * One item: seq, topic, the value as text and its type, time, pid.
 * Written straight into the connection's buffer as generated code
 * writes its items (dopy_call_item_out), without a value tree: the
 * tree and its six fields cost more than the rest of a record's way.
 */
static int
send_item(dopy_call *c, uint64_t seq, const char *topic, size_t tlen,
    const char *text, const char *type, double time, int64_t pid)
{
	struct events *ev = dopy_call_state(c);
	char t[TOPIC_MAX + 1];
	dopy_out *o;

	if (tlen > TOPIC_MAX || (o = dopy_call_item_out(c)) == NULL)
		return DOPY_E_INVAL;	/* neither can be: checked before */
	memcpy(t, topic, tlen);
	t[tlen] = '\0';
	dopy_out_begin(o, ev->tpl);
	dopy_out_uint(o, seq);
	dopy_out_string(o, t);
	dopy_out_string(o, text);
	dopy_out_string(o, type);
	dopy_out_double(o, time);
	dopy_out_int(o, pid);
	dopy_out_end(o);
	return dopy_call_item_send(c);
}

static int
send_record(dopy_call *c, const struct dopy_evrec *rec)
{
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
	r = send_item(c, rec->seq, rec->topic, rec->tlen, text,
	    dopy_type_name(dopy_value_type(v)), (double)rec->time_ns / 1e9,
	    rec->pid);
	free(text);
	dopy_value_free(v);
	return r;
}

/* A notice's time is when it is sent, as an event's is when it was
 * published: seconds since the epoch (dopy_now_ms is the monotonic
 * clock's, which is not). */
static int
send_dropped(dopy_call *c, uint64_t count)
{
	struct timespec ts;
	char text[32];

	snprintf(text, sizeof(text), "%llu", (unsigned long long)count);
	clock_gettime(CLOCK_REALTIME, &ts);
	return send_item(c, 0, DROPPED, strlen(DROPPED), text, "uint",
	    (double)ts.tv_sec + ts.tv_nsec / 1e9, 0);
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
	/* Only what the client sent can cancel us, and what was buffered
	 * before was scanned then: a wake-up for the log alone (most of
	 * them) checks the deadline without a syscall. */
	if (!(p[0].revents & POLLIN) && !*deaf && n > 0)
		return dopy_call_stopped(c) ? DOPY_E_CANCELLED : 0;
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

	if ((pat.n = split(ps, strlen(ps), 1, pat.part, pat.len)) < 0)
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
	    NULL || (ev->tpl = dopy_type_tpl(ev->item)) == NULL ||
	    (r = dopy_server_add(s, &events_def, ev)) < 0) {
		if (r < 0 && s->errmsg[0] == '\0')
			snprintf(s->errmsg, sizeof(s->errmsg), "events: %s",
			    err);
		events_free(ev);
		return r < 0 ? r : DOPY_E_NOMEM;
	}
	return dopy_server_own(s, ev, events_free);
}
