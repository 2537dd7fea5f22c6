/*
 * e2e_record.c - recordings (dopyd -Y, DOPY_RECORD; dopy-dump(1)):
 * many connection processes append whole records only, secret calls
 * stay out, the recorder switches every process, a client records its
 * own side.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e_util.h"
#include "wire/wire.h"

#define CLIENTS	6
#define CALLS	120

/* What a recording holds, read back with the reader dopy-dump uses. */
struct tally {
	size_t	 records, skipped, calls, conns;
	size_t	 badseq;		/* a connection's seq with a gap */
	uint32_t pid[64], conn[64], next[64];
};

static void
tally_one(struct tally *t, const struct dopy_recent *e)
{
	size_t i;

	for (i = 0; i < t->conns; i++)
		if (t->pid[i] == e->pid && t->conn[i] == e->conn)
			break;
	if (i == t->conns) {
		cr_assert_lt(t->conns, 64);
		t->pid[i] = e->pid;
		t->conn[i] = e->conn;
		t->next[i] = 0;
		t->conns++;
	}
	if (e->seq != t->next[i]++)
		t->badseq++;
	if (e->hdr[2] == DOPY_F_CALL && e->dir == 'i')
		t->calls++;
}

static void
tally(const char *path, struct tally *t)
{
	struct dopy_recread *r;
	struct dopy_recent e;
	size_t skipped;
	int fd, n;

	memset(t, 0, sizeof(*t));
	cr_assert_geq(fd = open(path, O_RDONLY), 0, "%s", path);
	cr_assert_not_null(r = dopy_recread_new(fd));
	while ((n = dopy_recread_next(r, &e, &skipped)) == 1) {
		t->skipped += skipped;
		t->records++;
		tally_one(t, &e);
	}
	cr_assert_eq(n, 0, "read error %d", n);
	t->skipped += skipped;
	dopy_recread_free(r);
	close(fd);
}

/* One client process: n calls of test.echo, every tenth one larger
 * than a pipe's atomic write and the reader's first gulp. */
static void __attribute__((noreturn))
client(const char *target, int n)
{
	static char big[300 * 1024];
	dopy_proxy *p;
	dopy_error *e = NULL;
	int i, bad = 0;

	memset(big, 'x', sizeof(big));
	if (dopy_open(target, "test", NULL, &p, &e) < 0)
		_exit(3);
	for (i = 0; i < n; i++)
		if (dopy_proxy_callf(p, "echo", NULL, &e, "y", big,
		    (size_t)(i % 10 == 0 ? sizeof(big) : 1 + (size_t)i)) < 0)
			bad++;
	dopy_proxy_free(p);
	_exit(bad > 0);
}

Test(record, many_processes_append_whole_records, .timeout = 60)
{
	char sock[600], target[620], rec[600];
	char *argv[] = { (char *)e2e_bin("dopyd"), "-d", "-B", "-l", target,
	    "-Y", rec, NULL };
	struct e2e_proc d;
	struct tally t;
	pid_t kids[CLIENTS];
	int i, st;

	snprintf(sock, sizeof(sock), "%s/s", e2e_tmpdir());
	snprintf(target, sizeof(target), "unix:%s", sock);
	snprintf(rec, sizeof(rec), "%s/rec", e2e_tmpdir());
	e2e_spawn_line(&d, argv, NULL, 0);
	for (i = 0; i < CLIENTS; i++) {
		cr_assert_geq(kids[i] = fork(), 0);
		if (kids[i] == 0)
			client(target, CALLS);
	}
	for (i = 0; i < CLIENTS; i++) {
		cr_assert_eq(waitpid(kids[i], &st, 0), kids[i]);
		cr_assert(e2e_exited(st, 0), "client %d: %s", i,
		    e2e_status(st));
	}
	kill(d.pid, SIGTERM);
	cr_assert(e2e_exited(e2e_wait(&d, 5000), 0));
	tally(rec, &t);
	cr_assert_eq(t.skipped, 0, "%zu bytes of torn records", t.skipped);
	cr_assert_eq(t.conns, CLIENTS, "%zu connections", t.conns);
	cr_assert_eq(t.calls, CLIENTS * CALLS, "%zu calls", t.calls);
	/* HELLO both ways, then a CALL and its REPLY per call. */
	cr_assert_eq(t.records, CLIENTS * (2 + 2 * CALLS), "%zu records",
	    t.records);
	cr_assert_eq(t.badseq, 0, "records missing inside a connection");
}

/* Whether the n bytes at p hold s. */
static int
holds(const char *p, size_t n, const char *s)
{
	return memmem(p, n, s, strlen(s)) != NULL;
}

/* `dopy-rsh "dopyd -Y rec [opt]" object method args...`, which must
 * print want. */
static void
rsh2(const char *rec, const char *opt, const char *object,
    const char *method, const char *a, const char *b, const char *want)
{
	char cmd[1400];
	char *argv[] = { (char *)e2e_bin("dopy-rsh"), cmd, (char *)object,
	    (char *)method, (char *)a, (char *)b, NULL };

	snprintf(cmd, sizeof(cmd), "%s -Y %s %s", e2e_bin("dopyd"), rec,
	    opt);
	e2e_run_expect(argv, 0, want, NULL);
}

static void
rsh(const char *rec, const char *opt, const char *object,
    const char *method, const char *arg, const char *want)
{
	rsh2(rec, opt, object, method, arg, NULL, want);
}

Test(record, omitted_calls_keep_their_secrets, .timeout = 30)
{
	char rec[600];
	struct tally t;
	size_t n;
	char *text;

	snprintf(rec, sizeof(rec), "%s/rec", e2e_tmpdir());
	rsh(rec, "-W test.echo", "test", "echo", "hunter2", "hunter2");
	rsh2(rec, "-W test.echo", "test", "add", "2", "3", "5\n");
	tally(rec, &t);
	cr_assert_eq(t.skipped, 0);
	cr_assert_eq(t.conns, 2);
	text = e2e_slurp(rec, &n);
	cr_assert_not(holds(text, n, "hunter2"), "the secret was recorded");
	/* The call itself is there, without its arguments. */
	cr_assert(holds(text, n, "echo"));
	free(text);
	snprintf(rec, sizeof(rec), "%s/rec2", e2e_tmpdir());
	rsh(rec, "-W test.*", "test", "greet", "Ada", "Hello, Ada\n");
	text = e2e_slurp(rec, &n);
	cr_assert_not(holds(text, n, "Ada"), "object.* left the call in");
	free(text);
}

/* A call with a deadline begins with the deadline's image: the call
 * behind it is still found, and still left out. */
Test(record, omitted_calls_with_a_deadline, .timeout = 30)
{
	char rec[600], cmd[1400];
	char *argv[] = { (char *)e2e_bin("dopy-rsh"), "--deadline=5000", cmd,
	    "test", "echo", "hunter2", NULL };
	size_t n;
	char *text;

	snprintf(rec, sizeof(rec), "%s/rec", e2e_tmpdir());
	snprintf(cmd, sizeof(cmd), "%s -Y %s -W test.echo", e2e_bin("dopyd"),
	    rec);
	e2e_run_expect(argv, 0, "hunter2", NULL);
	text = e2e_slurp(rec, &n);
	cr_assert_not(holds(text, n, "hunter2"), "the secret was recorded");
	cr_assert(holds(text, n, "echo"));
	free(text);
}

Test(record, recorder_switches_every_process, .timeout = 30)
{
	char rec[600];
	struct tally t0, t1, t2;

	snprintf(rec, sizeof(rec), "%s/rec", e2e_tmpdir());
	rsh2(rec, "", "test", "add", "1", "3", "4\n");
	tally(rec, &t0);
	cr_assert_eq(t0.calls, 2, "describe and add: %zu", t0.calls);
	rsh(rec, "", "recorder", "stop", NULL, "");
	tally(rec, &t1);
	rsh2(rec, "", "test", "add", "1", "3", "4\n");	/* another process */
	tally(rec, &t2);
	cr_assert_eq(t2.records, t1.records, "recorded while stopped");
	rsh(rec, "", "recorder", "start", NULL, "");
	rsh2(rec, "", "test", "add", "1", "3", "4\n");
	tally(rec, &t2);
	cr_assert_gt(t2.calls, t1.calls + 1, "not recording again");
	cr_assert_eq(t2.skipped, 0);
}

Test(record, a_client_records_its_side, .timeout = 30)
{
	char rec[600];
	struct dopy_recread *r;
	struct dopy_recent e;
	dopy_conn *c;
	dopy_proxy *p;
	dopy_value *v = NULL;
	dopy_error *err = NULL;
	size_t skipped, out = 0, in = 0;
	int fd;

	snprintf(rec, sizeof(rec), "%s/client.rec", e2e_tmpdir());
	cr_assert_eq(setenv("DOPY_RECORD", rec, 1), 0);
	c = e2e_connect(e2e_bin("dopyd"));
	cr_assert_eq(unsetenv("DOPY_RECORD"), 0);
	p = dopy_proxy_new(c, "test");
	cr_assert_eq(dopy_proxy_callf(p, "add", &v, &err, "i i", (int64_t)4,
	    (int64_t)2), 0, "%s", dopy_error_message(err));
	cr_assert_eq(dopy_value_get_int(v), 6);
	dopy_value_free(v);
	dopy_proxy_free(p);
	dopy_conn_close(c);
	cr_assert_geq(fd = open(rec, O_RDONLY), 0);
	r = dopy_recread_new(fd);
	while (dopy_recread_next(r, &e, &skipped) == 1) {
		cr_assert_eq(e.side, 'c');
		if (e.dir == 'o' && e.hdr[2] == DOPY_F_CALL)
			out++;
		if (e.dir == 'i' && e.hdr[2] == DOPY_F_REPLY)
			in++;
	}
	cr_assert_eq(out, 1, "CALLs sent: %zu", out);
	cr_assert_eq(in, 1, "REPLYs read: %zu", in);
	dopy_recread_free(r);
	close(fd);
}

Test(record, options_are_checked_at_start)
{
	char notrec[600], *text;
	char *omit[] = { (char *)e2e_bin("dopyd"), "-W", "test.echo", NULL };
	char *bad[] = { (char *)e2e_bin("dopyd"), "-Y", notrec, NULL };
	char *shape[] = { (char *)e2e_bin("dopyd"), "-Y", notrec, "-W",
	    "echo", NULL };

	e2e_run_expect(omit, 2, "", "dopyd: -W leaves calls out of a "
	    "recording: it needs -Y\n");
	snprintf(notrec, sizeof(notrec), "%s/notes.txt", e2e_tmpdir());
	cr_assert_eq(e2e_spit(notrec, "my notes\n"), 0);
	e2e_run_expect(bad, 2, "", NULL);
	e2e_run_expect(shape, 2, "", "dopyd: -W echo: want object.method or "
	    "object.*\n");
	/* The file that is not a recording was left alone. */
	text = e2e_slurp(notrec, NULL);
	cr_assert_str_eq(text, "my notes\n");
	free(text);
}

/* An isolated call's child writes its answer to the connection process,
 * which forwards it: the answer is recorded once, by that process. */
Test(record, isolated_calls_recorded_once, .timeout = 30)
{
	char rec[600];
	struct tally t;

	snprintf(rec, sizeof(rec), "%s/rec", e2e_tmpdir());
	rsh2(rec, "-I test.add", "test", "add", "2", "3", "5\n");
	tally(rec, &t);
	cr_assert_eq(t.conns, 1, "%zu connections (a child's own?)", t.conns);
	/* HELLO both ways, dopy.describe and test.add with their REPLYs. */
	cr_assert_eq(t.records, 6, "%zu records", t.records);
	cr_assert_eq(t.badseq, 0);
}
