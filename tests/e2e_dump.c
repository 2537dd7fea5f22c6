/*
 * e2e_dump.c - dopy-dump(1) over what the real programs write: a
 * recording of dopyd -Y with every kind of frame, a torn one with
 * garbage inside, raw tee(1) captures (files and live FIFOs), -S, and
 * every file of tests/corpus.  Each line printed is parsed as JSON.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "e2e_util.h"

#define DUMP(...) { (char *)e2e_bin("dopy-dump"), __VA_ARGS__, NULL }
#define MAX_LINES	4096

/* What dopy-dump printed, a JSON value per line. */
struct lines {
	json_t	*v[MAX_LINES];
	size_t	 n;
	int	 status;
};

/* Every line must be a JSON object. */
static void
parse_lines(struct lines *l, char *out, const char *what)
{
	json_error_t je;
	char *line, *save = NULL;

	l->n = 0;
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		cr_assert_lt(l->n, MAX_LINES, "%s: too many lines", what);
		l->v[l->n] = json_loads(line, JSON_ALLOW_NUL, &je);
		cr_assert(json_is_object(l->v[l->n]), "%s: not a JSON object "
		    "(%s): %.300s", what, je.text, line);
		l->n++;
	}
}

/* Run dopy-dump with argv; it must end by exit 0 or 1. */
static void
dump(struct lines *l, char *const argv[])
{
	struct e2e_run r;

	e2e_run(&r, argv);
	cr_assert(e2e_exited(r.status, 0) || e2e_exited(r.status, 1),
	    "dopy-dump %s: %s\n%s", argv[1], e2e_status(r.status), r.err);
	l->status = WEXITSTATUS(r.status);
	parse_lines(l, r.out, argv[1]);
	e2e_run_free(&r);
}

static void
lines_free(struct lines *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		json_decref(l->v[i]);
	l->n = 0;
}

static const char *
str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

static json_int_t
num(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* The first line from whom (NULL: either) of this frame type and, if
 * method is not NULL, this method; NULL when there is none. */
static json_t *
find(const struct lines *l, const char *from, const char *frame,
    const char *method)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if ((from == NULL || strcmp(str(l->v[i], "from"), from) == 0) &&
		    strcmp(str(l->v[i], "frame"), frame) == 0 &&
		    (method == NULL || strcmp(str(l->v[i], "method"),
		    method) == 0))
			return l->v[i];
	return NULL;
}

/* The line answering call id with this frame type. */
static json_t *
answer(const struct lines *l, const char *frame, json_int_t id)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(str(l->v[i], "frame"), frame) == 0 &&
		    num(l->v[i], "id") == id &&
		    strcmp(str(l->v[i], "from"), "server") == 0)
			return l->v[i];
	return NULL;
}

static json_t *
must_find(const struct lines *l, const char *from, const char *frame,
    const char *method)
{
	json_t *o = find(l, from, frame, method);

	cr_assert_not_null(o, "no %s %s from %s", frame, method ? method : "",
	    from ? from : "anyone");
	return o;
}

static const char *
tmp(const char *name)
{
	static char path[4][1024];
	static int k;

	k = (k + 1) % 4;
	snprintf(path[k], sizeof(path[k]), "%s/%s", e2e_tmpdir(), name);
	return path[k];
}

/* One dopy-rsh call to a dopyd that records into rec. */
static void
rsh_recorded(const char *rec, const char *object, const char *method,
    const char *arg, int code)
{
	char target[2048];
	char *argv[] = { (char *)e2e_bin("dopy-rsh"), target, (char *)object,
	    (char *)method, (char *)arg, NULL };
	struct e2e_run r;

	snprintf(target, sizeof(target), "%s -Y %s", e2e_bin("dopyd"), rec);
	e2e_run(&r, argv);
	cr_assert(e2e_exited(r.status, code), "%s: %s", e2e_status(r.status),
	    r.err);
	e2e_run_free(&r);
}

/* ---- a recorded session with every kind of frame ---- */

static dopy_args *
ints(int64_t a, int64_t b)
{
	dopy_args *x = dopy_args_new();

	cr_assert(dopy_args_int(x, NULL, a) == 0);
	if (b >= 0)
		cr_assert(dopy_args_int(x, NULL, b) == 0);
	return x;
}

static void
call_fail(dopy_conn *c)
{
	dopy_proxy *p = dopy_proxy_new(c, "test");
	dopy_args *a = dopy_args_new();
	dopy_error *e = NULL;

	cr_assert(dopy_args_string(a, NULL, "boom") == 0);
	cr_assert_lt(dopy_proxy_call(p, "fail", a, NULL, &e), 0);
	dopy_error_free(e);
	dopy_args_free(a);
	/* ONEWAY: notify(0), sent and not answered. */
	cr_assert(dopy_proxy_set_oneway(p, "notify", 1) == 0);
	a = ints(0, -1);
	cr_assert_eq(dopy_proxy_call(p, "notify", a, NULL, NULL), 0);
	dopy_args_free(a);
	a = ints(2, 3);
	cr_assert_eq(e2e_call_int(p, "add", a), 5);
	dopy_proxy_free(p);
}

static void
call_stream(dopy_conn *c)
{
	dopy_proxy *p = dopy_proxy_new(c, "stream");
	dopy_args *a = ints(3, -1);
	dopy_stream *s = NULL;
	dopy_value *v;
	int n = 0;

	cr_assert_eq(dopy_proxy_stream(p, "count", a, &s, NULL), 0);
	while (dopy_stream_next(s, &v, NULL) == 1) {
		dopy_value_free(v);
		n++;
	}
	cr_assert_eq(n, 3);
	dopy_stream_free(s);
	dopy_args_free(a);
	dopy_proxy_free(p);
}

static void
call_upload(dopy_conn *c)
{
	dopy_proxy *p = dopy_proxy_new(c, "upload");
	dopy_upload *u = NULL;
	dopy_value *v = NULL;

	cr_assert_eq(dopy_proxy_upload(p, "sum", NULL, &u, NULL), 0);
	cr_assert_eq(dopy_upload_send(u, dopy_value_int(40), NULL), 0);
	cr_assert_eq(dopy_upload_send(u, dopy_value_int(2), NULL), 0);
	cr_assert_eq(dopy_upload_finish(u, &v, NULL), 0);
	cr_assert_eq(dopy_value_get_int(v), 42);
	dopy_upload_free(u);
	dopy_value_free(v);
	dopy_proxy_free(p);
}

/* PROGRESS (cb.progress) and CANCEL (slow.spin cancelled). */
static void
call_progress_cancel(dopy_conn *c)
{
	dopy_proxy *p = dopy_proxy_new(c, "cb"), *s;
	int64_t took;

	/* PROGRESS frames go at most every 50 ms. */
	cr_assert_gt(e2e_call_int(p, "progress", ints(120, 10)), 0);
	dopy_proxy_free(p);
	s = dopy_proxy_new(c, "slow");
	dopy_error_free(e2e_cancelled(s, "spin", 5000, &took));
	dopy_proxy_free(s);
}

/* Recorded by the server into rec, and by this client into crec. */
static void
record_session(const char *rec, const char *crec)
{
	char target[2048];
	dopy_conn *c;

	snprintf(target, sizeof(target), "%s -Y %s", e2e_bin("dopyd"), rec);
	cr_assert(setenv("DOPY_RECORD", crec, 1) == 0);
	c = e2e_connect(target);
	unsetenv("DOPY_RECORD");
	call_fail(c);
	call_stream(c);
	call_upload(c);
	call_progress_cancel(c);
	dopy_conn_close(c);
}

static void
assert_calls(const struct lines *l)
{
	json_t *o, *args, *r;

	o = must_find(l, "client", "CALL", "add");
	cr_assert_str_eq(str(o, "object"), "test");
	args = json_object_get(o, "args");
	cr_assert_eq(json_array_size(args), 2);
	cr_assert_eq(num(json_array_get(args, 0), "value"), 2);
	cr_assert_eq(num(json_array_get(args, 1), "value"), 3);
	cr_assert_str_eq(str(json_array_get(args, 0), "type"), "int");
	cr_assert_not_null(r = answer(l, "REPLY", num(o, "id")));
	cr_assert_eq(num(json_object_get(r, "result"), "value"), 5);
	cr_assert_str_eq(str(r, "side"), "server");
	o = must_find(l, "client", "ONEWAY", "notify");
	cr_assert_str_eq(str(o, "object"), "test");
	o = must_find(l, "client", "CALL", "sum");
	cr_assert_str_eq(str(o, "object"), "upload");
	cr_assert(json_is_true(json_object_get(o, "upload")));
	o = must_find(l, "client", "ITEM", NULL);
	cr_assert_eq(num(json_object_get(o, "item"), "value"), 40);
	must_find(l, "server", "PROGRESS", NULL);
	o = must_find(l, "client", "CALL", "spin");
	cr_assert_not_null(o = answer(l, "ERROR", num(o, "id")));
	cr_assert_str_eq(str(json_object_get(o, "error"), "name"),
	    "dopy.Cancelled");
}

static void
assert_error_and_items(const struct lines *l)
{
	json_t *o, *e, *trace;
	json_int_t id, want = 1;
	size_t i;

	o = must_find(l, "client", "CALL", "fail");
	cr_assert_not_null(o = answer(l, "ERROR", num(o, "id")));
	e = json_object_get(o, "error");
	cr_assert_str_eq(str(e, "name"), "test.Failure");
	cr_assert_str_eq(str(e, "message"), "boom");
	cr_assert_str_eq(str(e, "method"), "fail");
	trace = json_object_get(e, "trace");
	cr_assert_gt(json_array_size(trace), 0, "no trace");
	id = num(must_find(l, "client", "CALL", "count"), "id");
	for (i = 0; i < l->n; i++)
		if (strcmp(str(l->v[i], "frame"), "ITEM") == 0 &&
		    num(l->v[i], "id") == id)
			cr_assert_eq(num(json_object_get(l->v[i], "item"),
			    "value"), want++);
	cr_assert_eq(want, 4, "3 items of stream.count");
}

/* Every line of a recording says who recorded it, when, and whence. */
static void
assert_record_fields(const struct lines *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		json_t *o = l->v[i];

		cr_assert(json_is_number(json_object_get(o, "time")));
		cr_assert_gt(num(o, "pid"), 0);
		cr_assert_gt(num(o, "conn"), 0);
		cr_assert(json_is_integer(json_object_get(o, "seq")));
		cr_assert_str_eq(str(o, "side"), "server");
		cr_assert(strcmp(str(o, "from"), "client") == 0 ||
		    strcmp(str(o, "from"), "server") == 0);
		cr_assert_null(json_object_get(o, "bad"), "line %zu", i);
	}
}

Test(dump, recorded_session, .timeout = 30)
{
	const char *rec = tmp("session.rec"), *crec = tmp("client.rec");
	char *argv[] = DUMP((char *)rec);
	struct lines l;
	json_t *o;

	record_session(rec, crec);
	dump(&l, argv);
	cr_assert_eq(l.status, 0);
	assert_record_fields(&l);
	assert_calls(&l);
	assert_error_and_items(&l);
	lines_free(&l);
	/* The server's recording has no CANCEL frame (it is read outside
	 * the recorded channel); the client's has. */
	dump(&l, (char *[])DUMP((char *)crec));
	cr_assert_eq(l.status, 0);
	o = must_find(&l, "client", "CANCEL", NULL);
	cr_assert_str_eq(str(o, "side"), "client");
	o = must_find(&l, "server", "REPLY", NULL);
	cr_assert_str_eq(str(o, "side"), "client");
	lines_free(&l);
}

/* ---- a torn recording ---- */

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Where record k (from 0) begins. */
static size_t
record_at(const uint8_t *p, size_t len, int k)
{
	size_t off = 16;

	while (k-- > 0) {
		cr_assert_leq(off + 60, len);
		off += 60 + be32(p + off + 56);
	}
	return off;
}

Test(dump, torn_recording, .timeout = 30)
{
	const char *rec = tmp("torn.rec"), *bad = tmp("torn-bad.rec");
	static const char junk[] = "not a record, just some garbage";
	char *argv[] = DUMP((char *)bad);
	struct lines l, whole;
	uint8_t *p;
	size_t len, at, last;
	FILE *f;

	rsh_recorded(rec, "test", "greet", "World", 0);
	rsh_recorded(rec, "test", "greet", "World", 0);
	dump(&whole, (char *[])DUMP((char *)rec));
	cr_assert_eq(whole.status, 0);
	cr_assert_not_null(p = (uint8_t *)e2e_slurp(rec, &len));
	at = record_at(p, len, 2);
	last = len - record_at(p, len, (int)whole.n - 1);
	cr_assert_not_null(f = fopen(bad, "w"));
	fwrite(p, 1, at, f);
	fwrite(junk, 1, sizeof(junk) - 1, f);
	fwrite(p + at, 1, len - at - 5, f);	/* the last one torn */
	fclose(f);
	dump(&l, argv);
	cr_assert_eq(l.status, 1);
	cr_assert_eq(l.n, whole.n - 1 + 2, "%zu lines of %zu", l.n, whole.n);
	cr_assert_eq(num(l.v[2], "skipped"), sizeof(junk) - 1);
	cr_assert_eq(num(l.v[l.n - 1], "skipped"), last - 5);
	cr_assert_str_eq(str(l.v[3], "frame"), str(whole.v[2], "frame"));
	cr_assert_eq(num(l.v[3], "seq"), num(whole.v[2], "seq"));
	lines_free(&l);
	lines_free(&whole);
	free(p);
}

/* ---- raw captures ---- */

static void
tee_call(const char *c2s, const char *s2c)
{
	char target[4096];
	char *argv[] = { (char *)e2e_bin("dopy-rsh"), target, "test", "add",
	    "2", "3", NULL };
	struct e2e_run r;

	snprintf(target, sizeof(target), "tee %s | %s | tee %s", c2s,
	    e2e_bin("dopyd"), s2c);
	e2e_run(&r, argv);
	e2e_assert_run(&r, 0, "5\n");
	e2e_run_free(&r);
}

static void
assert_raw_add(const struct lines *l)
{
	json_t *o, *r;

	o = must_find(l, "client", "CALL", "add");
	cr_assert_gt(num(o, "offset"), 0);
	cr_assert_eq(num(json_array_get(json_object_get(o, "args"), 1),
	    "value"), 3);
	cr_assert_not_null(r = answer(l, "REPLY", num(o, "id")));
	cr_assert_eq(num(json_object_get(r, "result"), "value"), 5);
	cr_assert_eq(num(must_find(l, "server", "HELLO", NULL), "offset"), 0);
	cr_assert_null(json_object_get(o, "time"));
}

Test(dump, raw_capture, .timeout = 30)
{
	const char *c2s = tmp("c2s"), *s2c = tmp("s2c");
	struct lines l;

	tee_call(c2s, s2c);
	dump(&l, (char *[])DUMP((char *)c2s, (char *)s2c));
	cr_assert_eq(l.status, 0);
	assert_raw_add(&l);
	lines_free(&l);
	/* -s and -c say which is which, whatever the order. */
	dump(&l, (char *[])DUMP("-s", (char *)s2c, "-c", (char *)c2s));
	cr_assert_eq(l.status, 0);
	assert_raw_add(&l);
	lines_free(&l);
}

/* Garbage before the frames: one bad line, then the frames. */
Test(dump, raw_garbage_resync, .timeout = 30)
{
	const char *c2s = tmp("c2s"), *bad = tmp("c2s.bad");
	char *text, *all;
	size_t len;
	struct lines l;
	FILE *f;

	tee_call(c2s, tmp("s2c"));
	cr_assert_not_null(text = e2e_slurp(c2s, &len));
	cr_assert_not_null(all = malloc(len + 7));
	memcpy(all, "garbage", 7);
	memcpy(all + 7, text, len);
	cr_assert_not_null(f = fopen(bad, "w"));
	fwrite(all, 1, len + 7 - 3, f);	/* the last frame cut */
	fclose(f);
	dump(&l, (char *[])DUMP((char *)bad));
	cr_assert_eq(l.status, 1);
	cr_assert_str_eq(str(l.v[0], "bad"), "not a frame");
	cr_assert_eq(num(l.v[0], "offset"), 0);
	cr_assert_eq(num(l.v[0], "skipped"), 7);
	cr_assert_str_eq(str(l.v[1], "frame"), "HELLO");
	cr_assert_eq(num(l.v[1], "offset"), 7);
	cr_assert_str_eq(str(l.v[l.n - 1], "bad"), "truncated frame");
	must_find(&l, "client", "CALL", "describe");
	lines_free(&l);
	free(text);
	free(all);
}

/* Two FIFOs of a live pipe, read as the frames come. */
Test(dump, raw_fifos, .timeout = 30)
{
	const char *c2s = tmp("c2s.fifo"), *s2c = tmp("s2c.fifo");
	char *argv[] = DUMP((char *)c2s, (char *)s2c);
	struct e2e_proc p;
	struct lines l;
	char *out;

	cr_assert(mkfifo(c2s, 0600) == 0 && mkfifo(s2c, 0600) == 0);
	e2e_spawn(&p, argv);
	tee_call(c2s, s2c);
	out = e2e_read_all(p.out, NULL, 10000);
	cr_assert(e2e_exited(e2e_wait(&p, 5000), 0));
	parse_lines(&l, out, "fifos");
	assert_raw_add(&l);
	lines_free(&l);
	free(out);
}

/* ---- -S ---- */

static size_t
count_lines(const char *rec)
{
	struct lines l;
	size_t n;

	dump(&l, (char *[])DUMP((char *)rec));
	cr_assert_eq(l.status, 0);
	n = l.n;
	lines_free(&l);
	return n;
}

static int
state_byte(const char *rec)
{
	size_t len;
	char *p = e2e_slurp(rec, &len);
	int b;

	cr_assert(p != NULL && len >= 16);
	b = p[9];
	free(p);
	return b;
}

Test(dump, switch_off_and_on, .timeout = 30)
{
	const char *rec = tmp("switch.rec"), *fresh = tmp("fresh.rec");
	size_t n;

	rsh_recorded(rec, "test", "greet", "World", 0);
	n = count_lines(rec);
	cr_assert_gt(n, 0);
	e2e_run_expect((char *[])DUMP("-S", "off", (char *)rec), 0, "", NULL);
	cr_assert_eq(state_byte(rec), 0);
	rsh_recorded(rec, "test", "greet", "World", 0);
	cr_assert_eq(count_lines(rec), n, "recorded while off");
	e2e_run_expect((char *[])DUMP("--start", (char *)rec), 0, "", NULL);
	cr_assert_eq(state_byte(rec), 1);
	rsh_recorded(rec, "test", "greet", "World", 0);
	cr_assert_eq(count_lines(rec), 2 * n, "not recorded again");
	/* A missing file is made, in the state asked for. */
	e2e_run_expect((char *[])DUMP("--stop", (char *)fresh), 0, "", NULL);
	cr_assert_eq(state_byte(fresh), 0);
	cr_assert_eq(count_lines(fresh), 0);
}

/* ---- every corpus file ---- */

static void
dump_dir(const char *dir, size_t *files)
{
	struct dirent *d;
	char path[8192];
	struct lines l;
	DIR *dp;

	cr_assert_not_null(dp = opendir(dir), "%s", dir);
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		dump(&l, (char *[])DUMP(path));
		lines_free(&l);
		++*files;
	}
	closedir(dp);
}

Test(dump, every_corpus_file, .timeout = 60)
{
	static const char *const dirs[] = { "frame", "session", "client",
	    "value", "dump" };
	char dir[4096], *top = e2e_top();
	size_t i, files = 0;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(dir, sizeof(dir), "%s/tests/corpus/%s", top, dirs[i]);
		dump_dir(dir, &files);
	}
	cr_assert_gt(files, 100);
	free(top);
}

/* ---- the command line ---- */

Test(dump, usage_and_help, .timeout = 20)
{
	struct e2e_run r;

	e2e_run(&r, (char *[])DUMP("-h"));
	e2e_assert_run(&r, 0, NULL);
	cr_assert(strncmp(r.out, "usage: dopy-dump [-h] [-c file] [-s file] "
	    "[file ...]\n       dopy-dump -S on | off recording\n", 78) == 0,
	    "%s", r.out);
	cr_assert_not_null(strstr(r.out, "\n  3  "));
	e2e_run_free(&r);
	e2e_run_expect((char *[])DUMP("--bogus"), 2, "", "usage: ");
	e2e_run_expect((char *[])DUMP("-S", "maybe", "x"), 2, "", "usage: ");
	e2e_run_expect((char *[])DUMP("-S", "on"), 2, "", "usage: ");
	e2e_run_expect((char *[])DUMP((char *)tmp("nonesuch")), 3, "",
	    "nonesuch");
}
