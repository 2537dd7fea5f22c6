/*
 * e2e_events.c - the event service (dopy-events(7)) against the real
 * dopyd -e: publishers and subscribers over pipes and through the
 * listener, patterns, total order (so order per publisher), since and
 * replay across segments and large records, a slow subscriber told
 * what it lost while publishers go on, a torn record a killed
 * publisher left, every process of the service killed at once and
 * started again, and a subscriber whose client goes away ending
 * without spinning.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>

#include "e2e_util.h"

struct ev {
	uint64_t	seq;
	char		topic[256];
	char		value[2048];
	char		type[32];
	double		time;
};

static const char *
evdir(void)
{
	static char dir[600];

	snprintf(dir, sizeof(dir), "%s/ev", e2e_tmpdir());
	return dir;
}

/* A connection to dopyd -e over a pipe (target: a command). */
static dopy_conn *
ev_conn(void)
{
	char cmd[2048];
	dopy_conn *c = NULL;
	dopy_error *e = NULL;

	snprintf(cmd, sizeof(cmd), "exec %s -L /dev/null -e %s",
	    e2e_bin("dopyd"), evdir());
	cr_assert_eq(dopy_conn_spawn(cmd, &c, &e), 0, "%s",
	    dopy_error_message(e));
	return c;
}

static dopy_conn *
target_conn(const char *target)
{
	dopy_conn *c = NULL;
	dopy_error *e = NULL;

	cr_assert_eq(dopy_connect(target, &c, &e), 0, "%s: %s", target,
	    dopy_error_message(e));
	return c;
}

/* publish(topic, v) through c; its number, or 0 with the error. */
static uint64_t
publish_err(dopy_conn *c, const char *topic, dopy_value *v, dopy_error **e)
{
	dopy_proxy *p = dopy_proxy_new(c, "events");
	dopy_args *a = dopy_args_new();
	dopy_value *r = NULL;
	uint64_t seq = 0;

	dopy_args_string(a, NULL, topic);
	dopy_args_add(a, NULL, v);
	if (dopy_proxy_call(p, "publish", a, &r, e) == 0)
		seq = dopy_value_get_uint(r);
	dopy_value_free(r);
	dopy_args_free(a);
	dopy_proxy_free(p);
	return seq;
}

static uint64_t
publish(dopy_conn *c, const char *topic, dopy_value *v)
{
	dopy_error *e = NULL;
	uint64_t seq = publish_err(c, topic, v, &e);

	cr_assert(seq > 0, "publish %s: %s", topic, dopy_error_message(e));
	return seq;
}

static dopy_stream *
subscribe(dopy_conn *c, const char *pattern, uint64_t since)
{
	dopy_proxy *p = dopy_proxy_new(c, "events");
	dopy_args *a = dopy_args_new();
	dopy_stream *s = NULL;
	dopy_error *e = NULL;

	dopy_args_string(a, NULL, pattern);
	dopy_args_uint(a, NULL, since);
	cr_assert_eq(dopy_proxy_stream(p, "subscribe", a, &s, &e), 0, "%s",
	    dopy_error_message(e));
	dopy_args_free(a);
	dopy_proxy_free(p);
	return s;
}

/* The next event (or "!dropped" notice) of s. */
static void
next_ev(dopy_stream *s, struct ev *ev)
{
	dopy_value *v = NULL;
	dopy_error *e = NULL;

	cr_assert_eq(dopy_stream_next(s, &v, &e), 1, "%s",
	    dopy_error_message(e));
	cr_assert_eq(dopy_value_len(v), 6);
	ev->seq = dopy_value_get_uint(dopy_value_at(v, 0));
	strlcpy(ev->topic, dopy_value_get_string(dopy_value_at(v, 1)),
	    sizeof(ev->topic));
	strlcpy(ev->value, dopy_value_get_string(dopy_value_at(v, 2)),
	    sizeof(ev->value));
	strlcpy(ev->type, dopy_value_get_string(dopy_value_at(v, 3)),
	    sizeof(ev->type));
	ev->time = dopy_value_get_double(dopy_value_at(v, 4));
	dopy_value_free(v);
}

Test(events, pipe_publish_subscribe, .timeout = 30)
{
	dopy_conn *pc = ev_conn(), *sc = ev_conn();
	uint64_t s0 = publish(pc, "ctl.start", dopy_value_int(0));
	dopy_stream *s = subscribe(sc, "sensors.*", s0 + 1);
	struct ev ev;

	cr_assert_eq(s0, 1, "a new log starts at 1");
	cr_assert_eq(publish(pc, "sensors.t1", dopy_value_double(21.5)), 2);
	cr_assert_eq(publish(pc, "other.t1", dopy_value_int(1)), 3);
	cr_assert_eq(publish(pc, "sensors.t2", dopy_value_string("hi there")),
	    4);
	next_ev(s, &ev);
	cr_assert_eq(ev.seq, 2);
	cr_assert_str_eq(ev.topic, "sensors.t1");
	cr_assert_str_eq(ev.value, "21.5");
	cr_assert_str_eq(ev.type, "double");
	next_ev(s, &ev);
	cr_assert_eq(ev.seq, 4);
	cr_assert_str_eq(ev.value, "hi there");
	cr_assert_str_eq(ev.type, "string");
	/* Events that come while the subscriber waits. */
	e2e_nap_ms(200);
	cr_assert_eq(publish(pc, "sensors.t3", dopy_value_bool(1)), 5);
	next_ev(s, &ev);
	cr_assert_eq(ev.seq, 5);
	cr_assert_str_eq(ev.value, "true");
	dopy_stream_free(s);
	dopy_conn_close(sc);
	cr_assert_eq(dopy_conn_close(pc), 0);
}

/* Bad topics and patterns are refused; since=0 sees only new events. */
Test(events, checks_and_since_zero, .timeout = 30)
{
	static const char *bad[] = { "", "a..b", ".a", "a.", "a.*", "a b",
	    "a/b", "#" };
	dopy_conn *c = ev_conn(), *sc = ev_conn();
	dopy_error *e = NULL;
	dopy_stream *s;
	struct ev ev;
	char longt[300];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(publish_err(c, bad[i], dopy_value_int(1), &e), 0,
		    "topic '%s' accepted", bad[i]);
		cr_assert_str_eq(dopy_error_name(e), "events.BadTopic");
		dopy_error_free(e);
		e = NULL;
	}
	memset(longt, 'a', sizeof(longt));
	longt[sizeof(longt) - 1] = '\0';
	cr_assert_eq(publish_err(c, longt, dopy_value_int(1), &e), 0);
	dopy_error_free(e);
	publish(c, "old.one", dopy_value_int(1));
	s = subscribe(sc, "a..b", 0);
	e = NULL;
	cr_assert_eq(dopy_stream_next(s, &(dopy_value *){ NULL }, &e),
	    DOPY_E_REMOTE);
	cr_assert_str_eq(dopy_error_name(e), "events.BadPattern");
	dopy_error_free(e);
	dopy_stream_free(s);
	s = subscribe(sc, "**", 0);
	e2e_nap_ms(300);		/* it has started after old.one */
	publish(c, "new.one", dopy_value_int(2));
	next_ev(s, &ev);
	cr_assert_str_eq(ev.topic, "new.one");
	dopy_stream_free(s);
	dopy_conn_close(sc);
	dopy_conn_close(c);
}

/* A topic pattern matches: its wildcards as the word "zz". */
static void
instance(const char *pattern, char *out, size_t len)
{
	char buf[256], *w, *save;

	*out = '\0';
	strlcpy(buf, pattern, sizeof(buf));
	for (w = strtok_r(buf, ".", &save); w != NULL;
	    w = strtok_r(NULL, ".", &save)) {
		if (*out != '\0')
			strlcat(out, ".", len);
		strlcat(out, strchr("*#", *w) != NULL ? "zz" : w, len);
	}
}

/* Which topics each pattern matches, from a replay of the log (since
 * 1); the topics are records 1 to N, then each case publishes one its
 * pattern matches to mark where the replay ends. */
Test(events, patterns, .timeout = 30)
{
	static const char *topics[] = { "sensors", "sensors.t1",
	    "sensors.t1.raw", "sensors.t2", "other.t1", "a.x.y.b", "a.b" };
	static const struct { const char *pattern, *want; } cases[] = {
		{ "sensors.*", "sensors.t1 sensors.t2" },
		{ "sensors.**",
		    "sensors sensors.t1 sensors.t1.raw sensors.t2" },
		{ "sensors.#", "sensors sensors.t1 sensors.t1.raw sensors.t2" },
		{ "sensors.t1", "sensors.t1" },
		{ "*.t1", "sensors.t1 other.t1" },
		{ "a.**.b", "a.x.y.b a.b" },
		{ "a.*.b", "" },
		{ "*", "sensors" },
		{ "*.*", "sensors.t1 sensors.t2 other.t1 a.b" },
		{ "**.t1", "sensors.t1 other.t1" },
		{ "sensors.**.raw", "sensors.t1.raw" },
		{ "#.*.#", "sensors sensors.t1 sensors.t1.raw sensors.t2 "
		    "other.t1 a.x.y.b a.b" },
		{ "#", "sensors sensors.t1 sensors.t1.raw sensors.t2 other.t1 "
		    "a.x.y.b a.b" },
	};
	const size_t n = sizeof(topics) / sizeof(topics[0]);
	dopy_conn *c = ev_conn(), *sc;
	char got[512], mark[256];
	uint64_t end;
	struct ev ev;
	dopy_stream *s;
	size_t i;

	for (i = 0; i < n; i++)
		cr_assert_eq(publish(c, topics[i], dopy_value_int(0)), i + 1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		instance(cases[i].pattern, mark, sizeof(mark));
		end = publish(c, mark, dopy_value_int(1));
		sc = ev_conn();
		s = subscribe(sc, cases[i].pattern, 1);
		got[0] = '\0';
		do {
			next_ev(s, &ev);
			if (ev.seq > n)
				continue;
			if (*got != '\0')
				strlcat(got, " ", sizeof(got));
			strlcat(got, ev.topic, sizeof(got));
		} while (ev.seq != end);
		dopy_stream_free(s);
		dopy_conn_close(sc);
		cr_expect_str_eq(got, cases[i].want, "pattern %s",
		    cases[i].pattern);
	}
	dopy_conn_close(c);
}

/* dopyd -B -l ADDR -e DIR, once it has printed its address (the line,
 * without its newline, in line if not NULL). */
static void
listener(struct e2e_proc *p, const char *addr, char *line, size_t len)
{
	char *argv[] = { (char *)e2e_bin("dopyd"), "-d", "-B", "-l",
	    (char *)addr, "-e", (char *)evdir(), NULL };

	e2e_spawn_line(p, argv, line, len);
}

#define NPUB	3
#define NEACH	200

/* Publisher i: NEACH events, even ones to load.p<i>, odd ones to
 * other.p<i>, the value i * 100000 + k; in a child of its own. */
static pid_t
publisher(const char *target, int i)
{
	dopy_conn *c = NULL;
	dopy_error *e = NULL;
	char topic[32];
	pid_t pid;
	int k, bad = 0;

	if ((pid = fork()) != 0)
		return pid;
	if (dopy_connect(target, &c, &e) < 0)
		_exit(2);
	for (k = 0; k < NEACH && !bad; k++) {
		snprintf(topic, sizeof(topic), "%s.p%d", k % 2 ? "other" :
		    "load", i);
		bad = publish_err(c, topic, dopy_value_int(i * 100000 + k),
		    &e) == 0;
	}
	dopy_conn_close(c);
	_exit(bad);
}

/*
 * Three publishers at once, each its own connection process, and four
 * subscribers with different patterns, all through the listener: each
 * subscriber gets exactly the events its pattern matches, in one total
 * order (numbers rising), so each publisher's in the order published.
 */
Test(events, listener_publishers_subscribers, .timeout = 60)
{
	static const struct { const char *pattern; int per_pub; int only; }
	    subs[] = {
		{ "load.*", NEACH / 2, -1 }, { "load.p1", NEACH / 2, 1 },
		{ "#", NEACH, -1 }, { "other.**", NEACH / 2, -1 },
	};
	enum { NSUB = sizeof(subs) / sizeof(subs[0]) };
	char path[600], target[700];
	struct e2e_proc lp;
	dopy_conn *pc, *sc[NSUB];
	dopy_stream *s[NSUB];
	pid_t pubs[NPUB];
	uint64_t s0;
	int i, k, st;

	snprintf(path, sizeof(path), "%s/ev.sock", e2e_tmpdir());
	snprintf(target, sizeof(target), "unix:%s", path);
	listener(&lp, target, NULL, 0);
	pc = target_conn(target);
	s0 = publish(pc, "ctl.start", dopy_value_int(0));
	for (i = 0; i < NSUB; i++) {
		sc[i] = target_conn(target);
		s[i] = subscribe(sc[i], subs[i].pattern, s0 + 1);
	}
	for (i = 0; i < NPUB; i++)
		pubs[i] = publisher(target, i);
	for (i = 0; i < NPUB; i++) {
		cr_assert_eq(waitpid(pubs[i], &st, 0), pubs[i]);
		cr_assert(e2e_exited(st, 0), "publisher %d: %s", i,
		    e2e_status(st));
	}
	for (i = 0; i < NSUB; i++) {
		int want = subs[i].per_pub * (subs[i].only < 0 ? NPUB : 1);
		int next[NPUB] = { 0 };
		uint64_t last = s0;
		struct ev ev;

		for (k = 0; k < want; k++) {
			long v, p, n;

			next_ev(s[i], &ev);
			cr_assert(ev.seq > last, "%s: %llu after %llu",
			    subs[i].pattern, (unsigned long long)ev.seq,
			    (unsigned long long)last);
			last = ev.seq;
			v = strtol(ev.value, NULL, 10);
			p = v / 100000;
			n = v % 100000;
			cr_assert(p >= 0 && p < NPUB);
			cr_assert(subs[i].only < 0 || p == subs[i].only);
			/* in the publisher's order, none missing */
			while (next[p] < NEACH && !(subs[i].per_pub == NEACH ||
			    (next[p] % 2 == 0) ==
			    (strcmp(subs[i].pattern, "other.**") != 0)))
				next[p]++;
			cr_assert_eq(n, next[p], "%s: publisher %ld's event "
			    "%ld, expected %d", subs[i].pattern, p, n, next[p]);
			next[p]++;
		}
		dopy_stream_free(s[i]);
		dopy_conn_close(sc[i]);
	}
	dopy_conn_close(pc);
	kill(lp.pid, SIGTERM);
	cr_assert(e2e_exited(e2e_wait(&lp, 5000), 0), "dopyd after SIGTERM");
}

/* since=N replays from N; a subscriber that comes back with since=last+1
 * sees what it missed, and nothing twice. */
Test(events, since_replay_reconnect, .timeout = 30)
{
	dopy_conn *c = ev_conn(), *sc = ev_conn();
	dopy_stream *s;
	struct ev ev;
	uint64_t i, last;

	for (i = 1; i <= 10; i++)
		cr_assert_eq(publish(c, "r.x", dopy_value_uint(i)), i);
	s = subscribe(sc, "r.*", 4);
	for (i = 4; i <= 10; i++) {
		next_ev(s, &ev);
		cr_assert_eq(ev.seq, i);
		cr_assert_eq(strtoull(ev.value, NULL, 10), i);
	}
	last = ev.seq;
	dopy_stream_free(s);
	dopy_conn_close(sc);	/* the subscriber goes away */
	for (i = 11; i <= 15; i++)
		publish(c, "r.x", dopy_value_uint(i));
	sc = ev_conn();
	s = subscribe(sc, "r.*", last + 1);
	for (i = 11; i <= 16; i++) {
		if (i == 16)
			publish(c, "r.x", dopy_value_uint(i));
		next_ev(s, &ev);
		cr_assert_eq(ev.seq, i);
	}
	dopy_stream_free(s);
	dopy_conn_close(sc);
	/* A number the log no longer holds: nothing is lost here, and
	 * one past the end waits for it. */
	sc = ev_conn();
	s = subscribe(sc, "r.*", 20);
	for (i = 17; i <= 20; i++)
		publish(c, "r.x", dopy_value_uint(i));
	next_ev(s, &ev);
	cr_assert_eq(ev.seq, 20);
	dopy_stream_free(s);
	dopy_conn_close(sc);
	dopy_conn_close(c);
}

/* Small segments (4 KiB, two kept) so that a subscriber falls behind. */
static void
small_log(void)
{
	cr_assert_eq(setenv("DOPY_EVENTS_SEGMENT", "4096", 1), 0);
	cr_assert_eq(setenv("DOPY_EVENTS_KEEP", "2", 1), 0);
}

#define SLOW_N		2000
#define SLOW_SIZE	1000

/*
 * A subscriber that does not read while 2,000 events of 1 KB go by (2
 * MB through a log that keeps 8 KiB): the publisher is never held up;
 * the subscriber then reads the events it still had, a "!dropped"
 * notice counting exactly the numbers it skips, and the rest.  The old
 * segments are gone from the disk.
 */
Test(events, slow_subscriber_dropped, .timeout = 60)
{
	dopy_conn *c, *sc;
	dopy_stream *s;
	struct ev ev;
	char *big = malloc(SLOW_SIZE + 1);
	uint64_t s0, i, last, dropped = 0, notices = 0, got = 0;
	int64_t t0, worst = 0, t, total;
	struct dirent *de;
	DIR *d;
	int nseg = 0;

	small_log();
	c = ev_conn();
	sc = ev_conn();
	memset(big, 'x', SLOW_SIZE);
	big[SLOW_SIZE] = '\0';
	s0 = publish(c, "ctl.start", dopy_value_int(0));
	s = subscribe(sc, "slow.*", s0 + 1);
	t0 = dopy_now_ms();
	for (i = 1; i <= SLOW_N; i++) {
		t = dopy_now_ms();
		publish(c, "slow.x", dopy_value_string(big));
		if (dopy_now_ms() - t > worst)
			worst = dopy_now_ms() - t;
	}
	total = dopy_now_ms() - t0;
	fprintf(stderr, "events: %d publishes of %d bytes past a stalled "
	    "subscriber: %lld ms, the slowest %lld ms\n", SLOW_N, SLOW_SIZE,
	    (long long)total, (long long)worst);
	cr_assert(worst < 1000, "a publish took %lld ms", (long long)worst);
	last = s0;
	while (last < s0 + SLOW_N) {
		next_ev(s, &ev);
		if (strcmp(ev.topic, "!dropped") == 0) {
			cr_assert_eq(ev.seq, 0);
			cr_assert_str_eq(ev.type, "uint");
			/* when it was sent, on the epoch's clock */
			cr_assert(ev.time > (double)time(NULL) - 60 &&
			    ev.time < (double)time(NULL) + 60, "a notice's "
			    "time %.0f", ev.time);
			dropped += strtoull(ev.value, NULL, 10);
			notices++;
			continue;
		}
		cr_assert_eq(ev.seq, last + 1 + dropped, "event %llu after "
		    "%llu, %llu dropped", (unsigned long long)ev.seq,
		    (unsigned long long)last, (unsigned long long)dropped);
		cr_assert_eq(strlen(ev.value), SLOW_SIZE);
		last = ev.seq;
		dropped = 0;
		got++;
	}
	fprintf(stderr, "events: the slow subscriber got %llu, %llu "
	    "notices\n", (unsigned long long)got,
	    (unsigned long long)notices);
	cr_assert(notices > 0, "nothing was dropped");
	cr_assert(got < SLOW_N);
	cr_assert_not_null(d = opendir(evdir()));
	while ((de = readdir(d)) != NULL)
		nseg += strstr(de->d_name, ".log") != NULL;
	closedir(d);
	cr_assert_eq(nseg, 2, "%d segments kept", nseg);
	dopy_stream_free(s);
	dopy_conn_close(sc);
	dopy_conn_close(c);
	free(big);
}

/* The newest segment's path. */
static void
newest_segment(char *path, size_t len)
{
	struct dirent *de;
	char best[64] = "";
	DIR *d;

	cr_assert_not_null(d = opendir(evdir()));
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, ".log") != NULL &&
		    strcmp(de->d_name, best) > 0)
			strlcpy(best, de->d_name, sizeof(best));
	closedir(d);
	cr_assert(*best != '\0');
	snprintf(path, len, "%s/%s", evdir(), best);
}

/*
 * A publisher killed in the middle of its write leaves part of a record
 * at the tail: a reader does not take it (it waits), and the next
 * publisher cuts it back before appending, so nobody sees a torn event.
 * Then publishers killed at random while publishing in a loop.
 */
Test(events, torn_record_skipped, .timeout = 60)
{
	dopy_conn *c = ev_conn(), *sc = ev_conn();
	char path[700], head[40];
	dopy_stream *s;
	struct ev ev;
	int fd, i, k, st;
	uint64_t next;

	publish(c, "t.a", dopy_value_int(1));
	publish(c, "t.a", dopy_value_int(2));
	newest_segment(path, sizeof(path));
	/* A record's first 40 bytes (header and some), appended alone. */
	cr_assert((fd = open(path, O_RDWR | O_APPEND)) >= 0);
	cr_assert_eq(pread(fd, head, sizeof(head), 0), (ssize_t)sizeof(head));
	cr_assert_eq(write(fd, head, sizeof(head)), (ssize_t)sizeof(head));
	close(fd);
	s = subscribe(sc, "t.*", 1);
	next_ev(s, &ev);
	cr_assert_eq(ev.seq, 1);
	next_ev(s, &ev);
	cr_assert_eq(ev.seq, 2);
	cr_assert_eq(publish(c, "t.a", dopy_value_int(3)), 3);
	next_ev(s, &ev);
	cr_assert_eq(ev.seq, 3);
	cr_assert_str_eq(ev.value, "3");
	/* Real kills: dopyd publishing as fast as a client asks, killed
	 * at a moment that differs each time. */
	for (i = 0; i < 20; i++) {
		char *argv[] = { (char *)e2e_bin("dopyd"), "-d", "-e",
		    (char *)evdir(), NULL };
		struct e2e_proc p;
		pid_t pid;

		e2e_spawn(&p, argv);
		if ((pid = fork()) == 0) {
			dopy_conn *pub = NULL;
			dopy_error *e = NULL;

			if (dopy_conn_fds(p.out, p.in, &pub, &e) < 0)
				_exit(2);
			for (k = 0; publish_err(pub, "t.k",
			    dopy_value_int(k), &e) > 0; k++)
				;
			_exit(0);
		}
		e2e_nap_ms(5 + 7 * i);
		kill(p.pid, SIGKILL);
		cr_assert_eq(waitpid(pid, &st, 0), pid);
		e2e_wait(&p, 5000);
	}
	next = publish(c, "t.end", dopy_value_int(0));
	for (k = 4; ; k++) {
		next_ev(s, &ev);
		cr_assert(ev.seq == (uint64_t)k, "event %llu, expected %d",
		    (unsigned long long)ev.seq, k);
		if (ev.seq == next)
			break;
	}
	dopy_stream_free(s);
	dopy_conn_close(sc);
	dopy_conn_close(c);
}

/* The next event of s, which must be number seq with no loss. */
static void
expect_ev(dopy_stream *s, uint64_t seq)
{
	struct ev ev;

	next_ev(s, &ev);
	cr_assert_str_neq(ev.topic, "!dropped", "%s before %llu", ev.value,
	    (unsigned long long)seq);
	cr_assert_eq(ev.seq, seq, "event %llu, expected %llu",
	    (unsigned long long)ev.seq, (unsigned long long)seq);
}

/*
 * A publisher keeps the newest segment open between publishes: when
 * another process appends to it, starts a new one, or starts so many
 * that the publisher's segment is removed, the publisher's next event
 * still takes the next number and goes to the newest segment.  A
 * subscriber that is caught up moves to each new segment when it is
 * made, not on its one-second backstop (five of them here).
 */
Test(events, publisher_follows_rotation, .timeout = 60)
{
	dopy_conn *a, *b, *sc;
	dopy_stream *s;
	char path[700], *big = malloc(1001), *base;
	uint64_t seq, first;
	int64_t t0;
	int i;

	small_log();
	a = ev_conn();
	b = ev_conn();
	sc = ev_conn();
	memset(big, 'y', 1000);
	big[1000] = '\0';
	seq = publish(a, "k.a", dopy_value_int(0));	/* a opens it */
	s = subscribe(sc, "k.*", seq);
	expect_ev(s, seq);
	/* b appends to a's segment. */
	cr_assert_eq(publish(b, "k.b", dopy_value_int(1)), seq + 1);
	expect_ev(s, seq + 1);
	cr_assert_eq(publish(a, "k.a", dopy_value_int(2)), seq + 2);
	expect_ev(s, seq + 2);
	seq += 2;
	t0 = dopy_now_ms();
	/* b starts a new segment (4 KiB ones), then so many that a's is
	 * removed (two kept). */
	for (int round = 0; round < 2; round++) {
		for (i = 0; i < (round == 0 ? 4 : 12); i++) {
			cr_assert_eq(publish(b, "k.b", dopy_value_string(big)),
			    seq + 1);
			expect_ev(s, ++seq);
		}
		cr_assert_eq(publish(a, "k.a", dopy_value_int(3)), seq + 1);
		expect_ev(s, ++seq);
		newest_segment(path, sizeof(path));
		base = strrchr(path, '/') + 1;
		first = strtoull(base, NULL, 10);
		cr_assert(first > 1 && first <= seq, "newest segment %s for "
		    "event %llu", base, (unsigned long long)seq);
	}
	cr_assert_lt(dopy_now_ms() - t0, 3000, "the subscriber took %lld ms "
	    "to follow five new segments", (long long)(dopy_now_ms() - t0));
	/* And a's next one lands after the last, where b finds it. */
	cr_assert_eq(publish(b, "k.b", dopy_value_int(4)), seq + 1);
	expect_ev(s, ++seq);
	dopy_stream_free(s);
	dopy_conn_close(sc);
	dopy_conn_close(b);
	dopy_conn_close(a);
	free(big);
}

#define REPLAY_N	150
#define REPLAY_BIG	20000

/*
 * A subscriber replaying a log of many segments (4 KiB ones, all
 * kept) goes from each to the next as soon as it has read it: the
 * segments were made before it watched the directory, so no new file
 * will wake it, and it must not wait for its one-second backstop at
 * each of the twenty or so.  Nor at a record larger than it reads
 * ahead (every tenth here, of 20 KB), which it reads whole at once.
 */
Test(events, replay_crosses_segments, .timeout = 60)
{
	dopy_conn *c, *sc;
	dopy_stream *s;
	char *val = malloc(REPLAY_BIG + 1);
	int64_t t0;
	uint64_t i;

	cr_assert_eq(setenv("DOPY_EVENTS_SEGMENT", "4096", 1), 0);
	cr_assert_eq(setenv("DOPY_EVENTS_KEEP", "100", 1), 0);
	c = ev_conn();
	sc = ev_conn();
	memset(val, 'z', REPLAY_BIG);
	for (i = 1; i <= REPLAY_N; i++) {
		val[i % 10 == 0 ? REPLAY_BIG : 200] = '\0';
		cr_assert_eq(publish(c, "rp.x", dopy_value_string(val)), i);
		val[i % 10 == 0 ? REPLAY_BIG : 200] = 'z';
	}
	t0 = dopy_now_ms();
	s = subscribe(sc, "rp.*", 1);
	for (i = 1; i <= REPLAY_N; i++)
		expect_ev(s, i);
	fprintf(stderr, "events: a replay of %d events in 4 KiB segments "
	    "took %lld ms\n", REPLAY_N, (long long)(dopy_now_ms() - t0));
	cr_assert_lt(dopy_now_ms() - t0, 3000, "the replay took %lld ms",
	    (long long)(dopy_now_ms() - t0));
	dopy_stream_free(s);
	dopy_conn_close(sc);
	dopy_conn_close(c);
	free(val);
}

/* ---- every process of the service killed at once, then restarted ---- */

#define KR_ROUNDS	3
#define KR_NPUB		3
#define KR_NSUB		2
#define KR_SEEN		40	/* events a subscriber reads per round */
#define KR_ACKED	20	/* each publisher's, before the kill */
#define KR_MAXK		20000	/* a publisher's bound */
#define KR_BIG		20000	/* publisher 0's values: writes of pages */

/* A subscriber: the last number it saw, and the next value it expects
 * from each publisher of each round (publisher id r * KR_NPUB + i). */
struct kr_sub {
	const char	*pattern;
	dopy_conn	*c;
	dopy_stream	*s;
	uint64_t	 last;
	int		 next[KR_ROUNDS * KR_NPUB];
};

/* The next event of sub, checked: one more than the last (the pattern
 * matches every event of the test), and a publisher's value the next
 * of its own.  Its number. */
static uint64_t
kr_next(struct kr_sub *sub)
{
	struct ev ev;
	int id, k;

	next_ev(sub->s, &ev);
	cr_assert_str_neq(ev.topic, "!dropped", "%s: %s lost after %llu",
	    sub->pattern, ev.value, (unsigned long long)sub->last);
	cr_assert_eq(ev.seq, sub->last + 1, "%s: event %llu after %llu",
	    sub->pattern, (unsigned long long)ev.seq,
	    (unsigned long long)sub->last);
	sub->last = ev.seq;
	if (strncmp(ev.topic, "kr.p", 4) != 0)
		return ev.seq;		/* kr.start, kr.end */
	cr_assert_eq(sscanf(ev.value, "%d %d", &id, &k), 2, "value %.40s",
	    ev.value);
	cr_assert(id >= 0 && id < KR_ROUNDS * KR_NPUB);
	cr_assert_eq(atoi(ev.topic + 4), id);
	cr_assert_eq(k, sub->next[id], "%s: publisher %d's event %d, "
	    "expected %d", sub->pattern, id, k, sub->next[id]);
	sub->next[id]++;
	return ev.seq;
}

/* Subscribed from one past the last it saw; a read that hears nothing
 * for 10 s fails (a log that blocks it must fail the test, not hang). */
static void
kr_subscribe(struct kr_sub *sub, const char *target)
{
	sub->c = target_conn(target);
	dopy_conn_set_timeout(sub->c, 10000);
	sub->s = subscribe(sub->c, sub->pattern, sub->last + 1);
}

/* Publisher id: KR_MAXK events at most, each "id k" (publisher 0's
 * padded to KR_BIG bytes), as fast as its server answers, until its
 * connection dies; acked[id] is the last k whose publish returned. */
static pid_t
kr_publisher(const char *target, int id, int *acked)
{
	dopy_conn *c = NULL;
	dopy_error *e = NULL;
	size_t len = id % KR_NPUB == 0 ? KR_BIG : 32;
	char topic[32], *val;
	pid_t pid;
	int k, n;

	if ((pid = fork()) != 0)
		return pid;
	if ((val = malloc(len + 1)) == NULL ||
	    dopy_connect(target, &c, &e) < 0)
		_exit(2);
	memset(val, 'x', len);
	val[len] = '\0';
	snprintf(topic, sizeof(topic), "kr.p%d", id);
	for (k = 0; k < KR_MAXK; k++) {
		if ((n = snprintf(val, len + 1, "%d %d", id, k)) < (int)len)
			val[n] = ' ';
		if (publish_err(c, topic, dopy_value_string(val), &e) == 0)
			break;
		__atomic_store_n(&acked[id], k, __ATOMIC_SEQ_CST);
	}
	_exit(0);
}

/* The processes whose parent is ppid (from /proc), at most max. */
static int
children_of(pid_t ppid, pid_t *kids, int max)
{
	char path[300], buf[512], *p;
	struct dirent *de;
	int n = 0, parent;
	DIR *d;
	FILE *f;

	cr_assert_not_null(d = opendir("/proc"));
	while ((de = readdir(d)) != NULL && n < max) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;	/* gone meanwhile */
		buf[fread(buf, 1, sizeof(buf) - 1, f)] = '\0';
		fclose(f);
		if ((p = strrchr(buf, ')')) != NULL &&
		    sscanf(p + 2, "%*c %d", &parent) == 1 && parent == ppid)
			kids[n++] = (pid_t)atoi(de->d_name);
	}
	closedir(d);
	return n;
}

/* Whether pid has ended (gone, or a zombie: reaped if ours). */
static int
ended(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 1;
	buf[fread(buf, 1, sizeof(buf) - 1, f)] = '\0';
	fclose(f);
	if ((p = strrchr(buf, ')')) == NULL || p[2] != 'Z')
		return 0;
	waitpid(pid, NULL, WNOHANG);
	return 1;
}

/*
 * SIGKILL to the listener and every connection process it forked:
 * every dopyd that uses the log.  The listener is stopped first, so
 * that it forks no more while its children are found; each process
 * must be gone within the deadline.  The count of them killed.
 */
static int
kill_service(struct e2e_proc *lp)
{
	pid_t kids[64];
	int64_t end;
	int n, i;

	cr_assert_eq(kill(lp->pid, SIGSTOP), 0);
	n = children_of(lp->pid, kids, 64);
	for (i = 0; i < n; i++)		/* one may have just ended */
		cr_assert(kill(kids[i], SIGKILL) == 0 || errno == ESRCH);
	cr_assert_eq(kill(lp->pid, SIGKILL), 0);
	cr_assert(WIFSIGNALED(e2e_wait(lp, 5000)), "the listener outlived "
	    "SIGKILL");
	end = dopy_now_ms() + 5000;
	for (i = 0; i < n; i++) {
		while (!ended(kids[i]) && dopy_now_ms() < end)
			e2e_nap_ms(2);
		cr_assert(ended(kids[i]), "connection process %d outlived "
		    "SIGKILL", (int)kids[i]);
	}
	return n;
}

/* What a publisher killed in its write leaves (the kill may cut one,
 * but seldom does): the first 40 bytes of a record, appended to the
 * newest segment. */
static void
tear_tail(void)
{
	char path[700], first[700], head[40];
	int fd;

	newest_segment(path, sizeof(path));
	snprintf(first, sizeof(first), "%s/%020d.log", evdir(), 1);
	cr_assert((fd = open(first, O_RDONLY)) >= 0);
	cr_assert_eq(pread(fd, head, sizeof(head), 0), (ssize_t)sizeof(head));
	close(fd);
	cr_assert((fd = open(path, O_WRONLY | O_APPEND)) >= 0);
	cr_assert_eq(write(fd, head, sizeof(head)), (ssize_t)sizeof(head));
	close(fd);
}

/* Each publisher of round r exited by itself (its connection died)
 * within the deadline, else it is killed and the test fails. */
static void
kr_reap(const pid_t *pubs)
{
	int64_t end = dopy_now_ms() + 10000;
	int i, st;
	pid_t w;

	for (i = 0; i < KR_NPUB; i++) {
		while ((w = waitpid(pubs[i], &st, WNOHANG)) == 0 &&
		    dopy_now_ms() < end)
			e2e_nap_ms(2);
		if (w == 0) {
			kill(pubs[i], SIGKILL);
			waitpid(pubs[i], &st, 0);
		}
		cr_assert_eq(w, pubs[i], "publisher %d did not end", i);
		cr_assert(e2e_exited(st, 0), "publisher %d: %s", i,
		    e2e_status(st));
	}
}

/*
 * After a restart: sub reads what it missed up to m, an event published
 * since, and must have had every event that publishers of round r
 * had acknowledged, and at most one more each: the one whose answer
 * the kill cut off.
 */
static void
kr_caught_up(struct kr_sub *sub, uint64_t m, int r, const int *acked)
{
	int i, id, n;

	while (kr_next(sub) < m)
		;
	for (i = 0; i < KR_NPUB; i++) {
		id = r * KR_NPUB + i;
		n = sub->next[id] - 1;
		cr_assert(n >= acked[id] && n <= acked[id] + 1, "%s: publisher "
		    "%d had %d acknowledged, %d delivered", sub->pattern, id,
		    acked[id], n);
	}
}

/*
 * Round r: publishers start, every subscriber reads KR_SEEN events,
 * and once each publisher has KR_ACKED acknowledged, every process of
 * the service is killed; the publishers' clients then end, and the
 * subscribers' connections are closed.
 */
static void
kr_round(struct e2e_proc *lp, const char *target, struct kr_sub *sub,
    int r, int *acked)
{
	int64_t end = dopy_now_ms() + 10000;
	pid_t pubs[KR_NPUB];
	int i, j, n, *mine = acked + r * KR_NPUB;

	for (i = 0; i < KR_NPUB; i++) {
		mine[i] = -1;
		pubs[i] = kr_publisher(target, r * KR_NPUB + i, acked);
	}
	for (i = 0; i < KR_NSUB; i++)
		for (j = 0; j < KR_SEEN; j++)
			kr_next(&sub[i]);
	for (i = 0; i < KR_NPUB; i++)
		while (__atomic_load_n(&mine[i], __ATOMIC_SEQ_CST) < KR_ACKED &&
		    dopy_now_ms() < end)
			e2e_nap_ms(1);
	n = kill_service(lp);
	fprintf(stderr, "events: round %d: killed the listener and %d "
	    "connections; acknowledged %d %d %d\n", r, n, mine[0], mine[1],
	    mine[2]);
	cr_assert_geq(n, KR_NPUB + KR_NSUB, "%d connection processes", n);
	for (i = 0; i < KR_NPUB; i++)
		cr_assert_geq(mine[i], KR_ACKED, "publisher %d: %d "
		    "acknowledged", i, mine[i]);
	kr_reap(pubs);
	for (i = 0; i < KR_NSUB; i++) {
		dopy_stream_free(sub[i].s);
		dopy_conn_close(sub[i].c);
	}
}

/*
 * The "broker restart" of the event service, which has no broker: all
 * its processes at once.  Three publishers (one of 20 KB values, so a
 * kill may cut its write between pages) and two subscribers, all
 * through the forking listener on 256 KiB segments; in each of three
 * rounds, once every publisher has had events acknowledged, the
 * listener and every connection process get SIGKILL, and a torn
 * record is left at the log's tail.  A new listener on the same
 * directory then serves subscribers that come back with since one past
 * the last number they saw: they get every event acknowledged before
 * the kill, once each, with no gap in the numbers and each
 * publisher's in its order, and a new event after them.  Last, a new
 * subscriber replays the whole log the same.
 */
Test(events, kill_all_restart, .timeout = 120)
{
	struct kr_sub sub[KR_NSUB] = { { .pattern = "kr.*" },
	    { .pattern = "#" } }, replay = { .pattern = "kr.**" };
	char port[64], target[128];
	struct e2e_proc lp;
	uint64_t s0 = 0, m = 0;
	size_t asize = sizeof(int) * KR_ROUNDS * KR_NPUB;
	int *acked, r, i;
	dopy_conn *c;

	cr_assert_eq(setenv("DOPY_EVENTS_SEGMENT", "262144", 1), 0);
	cr_assert_eq(setenv("DOPY_EVENTS_KEEP", "200", 1), 0);
	acked = mmap(NULL, asize, PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_ANONYMOUS, -1, 0);
	cr_assert(acked != MAP_FAILED);
	for (r = 0; ; r++) {
		listener(&lp, "127.0.0.1:0", port, sizeof(port));
		snprintf(target, sizeof(target), "tcp:127.0.0.1:%s", port);
		c = target_conn(target);
		if (r == 0)
			s0 = sub[0].last = sub[1].last = publish(c, "kr.start",
			    dopy_value_int(0));
		for (i = 0; i < KR_NSUB; i++)
			kr_subscribe(&sub[i], target);
		if (r > 0)
			m = publish(c, "kr.end", dopy_value_int(r));
		for (i = 0; r > 0 && i < KR_NSUB; i++)
			kr_caught_up(&sub[i], m, r - 1, acked);
		dopy_conn_close(c);
		if (r == KR_ROUNDS)
			break;
		kr_round(&lp, target, sub, r, acked);
		tear_tail();
	}
	/* The whole log, read again from the start by a new subscriber. */
	replay.last = s0;
	kr_subscribe(&replay, target);
	while (kr_next(&replay) < m)
		;
	for (i = 0; i < KR_NSUB; i++) {
		cr_assert_eq(memcmp(replay.next, sub[i].next,
		    sizeof(replay.next)), 0, "%s and the replay differ",
		    sub[i].pattern);
		dopy_stream_free(sub[i].s);
		dopy_conn_close(sub[i].c);
	}
	dopy_stream_free(replay.s);
	dopy_conn_close(replay.c);
	kill(lp.pid, SIGTERM);
	cr_assert(e2e_exited(e2e_wait(&lp, 5000), 0), "dopyd after SIGTERM");
	munmap(acked, asize);
}

/* CPU time (user and system) of pid, in clock ticks. */
static long
cpu_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, stime = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	cr_assert_not_null(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	cr_assert_not_null(p = strrchr(buf, ')'));
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt
	 * cmajflt utime stime */
	cr_assert_eq(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
	    "%*u %lu %lu", &ut, &stime), 2);
	return (long)(ut + stime);
}

/*
 * A waiting subscriber costs no CPU, and when its client goes away its
 * connection process ends, with no event needed to notice.
 */
/* Cancelling a subscription (freeing its stream) ends it at once: the
 * same connection's next call is answered. */
Test(events, cancel_ends_a_subscription, .timeout = 30)
{
	dopy_conn *c = ev_conn();
	dopy_stream *s = subscribe(c, "quiet.*", 0);
	int64_t t0;

	e2e_nap_ms(100);		/* the subscriber waits in poll */
	t0 = dopy_now_ms();
	dopy_stream_free(s);
	cr_assert_gt(publish(c, "quiet.after", dopy_value_int(1)), 0);
	cr_assert_lt(dopy_now_ms() - t0, 900, "the subscription went on "
	    "for %lld ms", (long long)(dopy_now_ms() - t0));
	cr_assert_eq(dopy_conn_close(c), 0);
}

Test(events, gone_subscriber_ends, .timeout = 30)
{
	char *argv[] = { (char *)e2e_bin("dopyd"), "-d", "-e",
	    (char *)evdir(), NULL };
	struct e2e_proc p;
	dopy_conn *c = NULL, *pc = ev_conn();
	dopy_error *e = NULL;
	dopy_stream *s;
	struct ev ev;
	long t0, t1;

	e2e_spawn(&p, argv);
	cr_assert_eq(dopy_conn_fds(p.out, p.in, &c, &e), 0, "%s",
	    dopy_error_message(e));
	s = subscribe(c, "w.*", 1);
	publish(pc, "w.a", dopy_value_int(1));
	next_ev(s, &ev);
	cr_assert_eq(ev.seq, 1);
	t0 = cpu_ticks(p.pid);
	e2e_nap_ms(1500);
	t1 = cpu_ticks(p.pid);
	fprintf(stderr, "events: a waiting subscriber used %ld ticks in "
	    "1.5 s\n", t1 - t0);
	cr_assert(t1 - t0 <= 5, "a waiting subscriber used %ld ticks",
	    t1 - t0);
	dopy_stream_free(s);
	dopy_conn_close(c);
	p.in = p.out = -1;	/* closed with the connection */
	e2e_wait(&p, 3000);	/* fails the test if it does not end */
	dopy_conn_close(pc);
}
