/*
 * e2e_upload.c - uploads (dopy(5), Uploads) against the real dopyd and
 * its `upload` object: items in order through a pipe, the listener and
 * -s; 64 MiB through a server whose frame limit is 1 MiB with its memory
 * flat; a method that answers early or fails mid-upload; a cancel; a
 * call from another thread served while an upload waits; bad items and
 * a client that did not announce uploads, by hand.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e_util.h"

static dopy_upload *
open_upload(dopy_proxy *p, const char *method, dopy_args *args)
{
	dopy_upload *u = NULL;
	dopy_error *e = NULL;

	cr_assert_eq(dopy_proxy_upload(p, method, args, &u, &e), 0, "%s",
	    dopy_error_message(e));
	dopy_args_free(args);
	cr_assert_not_null(u);
	return u;
}

/* 1, 2, 3... until a send says the call has been answered (1), or
 * fails; its code (0 when 100,000 went without an answer). */
static int
send_until_answered(dopy_upload *u, dopy_error **e)
{
	int64_t i;
	int r = 0;

	for (i = 1; i <= 100000 && r == 0; i++)
		r = dopy_upload_send(u, dopy_value_int(i), e);
	return r;
}

static int64_t
finish_int(dopy_upload *u)
{
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	int64_t n;

	cr_assert_eq(dopy_upload_finish(u, &v, &e), 0, "%s",
	    dopy_error_message(e));
	n = dopy_value_get_int(v);
	dopy_value_free(v);
	dopy_upload_free(u);
	return n;
}

/* sum of 1..n sent to p: n(n+1)/2. */
static void
expect_sum(dopy_proxy *p, int64_t n)
{
	dopy_upload *u = open_upload(p, "sum", NULL);
	dopy_error *e = NULL;
	int64_t i;

	for (i = 1; i <= n; i++)
		cr_assert_eq(dopy_upload_send(u, dopy_value_int(i), &e), 0,
		    "item %lld: %s", (long long)i, dopy_error_message(e));
	cr_assert_eq(finish_int(u), n * (n + 1) / 2);
}

static void
expect_add(dopy_conn *c)
{
	dopy_proxy *t = dopy_proxy_new(c, "test");
	dopy_args *a = dopy_args_new();
	dopy_value *v = NULL;
	dopy_error *e = NULL;

	dopy_args_int(a, NULL, 3);
	dopy_args_int(a, NULL, 4);
	cr_assert_eq(dopy_proxy_call(t, "add", a, &v, &e), 0, "%s",
	    dopy_error_message(e));
	cr_assert_eq(dopy_value_get_int(v), 7);
	dopy_value_free(v);
	dopy_args_free(a);
	dopy_proxy_free(t);
}

static void
serves_uploads(const char *target)
{
	dopy_conn *c = NULL;
	dopy_proxy *p;
	dopy_error *e = NULL;

	cr_assert_eq(dopy_connect(target, &c, &e), 0, "%s: %s", target,
	    dopy_error_message(e));
	cr_assert_not_null(p = dopy_proxy_new(c, "upload"));
	expect_sum(p, 100);
	expect_sum(p, 0);
	expect_add(c);
	expect_sum(p, 5000);
	dopy_proxy_free(p);
	dopy_conn_close(c);
}

Test(upload, pipe_in_order, .timeout = 30)
{
	dopy_conn *c = e2e_dopyd_conn(NULL);
	dopy_proxy *p = dopy_proxy_new(c, "upload");
	dopy_upload *u;
	dopy_args *a = dopy_args_new();
	dopy_error *e = NULL;
	const char *lines[] = { "ERROR a", "INFO b", "ERROR c", "ERRO",
	    "" };
	size_t i;

	expect_sum(p, 1000);
	expect_add(c);
	/* Arguments before the stream, and string items. */
	dopy_args_string(a, NULL, "ERROR");
	u = open_upload(p, "count", a);
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		cr_assert_eq(dopy_upload_send(u, dopy_value_string(lines[i]),
		    &e), 0, "%s", dopy_error_message(e));
	cr_assert_eq(finish_int(u), 2);
	expect_sum(p, 3);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}


static void
through_listener(const char *opt)
{
	e2e_twice_through_listener(opt, serves_uploads);
}

Test(upload, listener_unix, .timeout = 30)
{
	through_listener(NULL);
}

Test(upload, listener_single_process, .timeout = 30)
{
	through_listener("-s");
}

/* A method that wants 3 items answers at once: later sends say so,
 * and the items still on their way are dropped, not misread. */
Test(upload, early_answer, .timeout = 30)
{
	dopy_conn *c = e2e_dopyd_conn(NULL);
	dopy_proxy *p = dopy_proxy_new(c, "upload");
	dopy_args *a = dopy_args_new();
	dopy_upload *u;
	dopy_error *e = NULL;
	int r;

	dopy_args_int(a, NULL, 3);
	u = open_upload(p, "take", a);
	r = send_until_answered(u, &e);
	cr_assert_eq(r, 1, "sends went on after the answer: %d %s", r,
	    dopy_error_message(e));
	cr_assert_eq(finish_int(u), 6);
	expect_sum(p, 10);
	expect_add(c);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}

Test(upload, error_mid_upload, .timeout = 30)
{
	dopy_conn *c = e2e_dopyd_conn(NULL);
	dopy_proxy *p = dopy_proxy_new(c, "upload");
	dopy_args *a = dopy_args_new();
	dopy_upload *u;
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	int r;

	dopy_args_int(a, NULL, 5);
	u = open_upload(p, "fail_at", a);
	r = send_until_answered(u, &e);
	cr_assert_eq(r, 1, "%s", dopy_error_message(e));
	cr_assert_eq(dopy_upload_finish(u, &v, &e), DOPY_E_REMOTE);
	cr_assert_str_eq(dopy_error_name(e), "upload.Failure");
	cr_assert_str_eq(dopy_error_message(e), "failed at item 5");
	dopy_error_free(e);
	dopy_upload_free(u);
	expect_sum(p, 10);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}

/* A cancel stops a method reading slowly; the connection goes on. */
Test(upload, cancel_mid_upload, .timeout = 30)
{
	dopy_conn *c = e2e_dopyd_conn(NULL);
	dopy_proxy *p = dopy_proxy_new(c, "upload");
	dopy_upload *u = open_upload(p, "slow", NULL);
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	int64_t i, t0;

	for (i = 1; i <= 50; i++)
		cr_assert_eq(dopy_upload_send(u, dopy_value_int(i), &e), 0);
	t0 = dopy_now_ms();
	cr_assert_eq(dopy_upload_cancel(u, &e), 0, "%s",
	    dopy_error_message(e));
	cr_assert_eq(dopy_upload_send(u, dopy_value_int(1), &e),
	    DOPY_E_INVAL, "a send after the cancel");
	dopy_error_free(e);
	e = NULL;
	cr_assert_eq(dopy_upload_finish(u, &v, &e), DOPY_E_CANCELLED, "%s",
	    dopy_error_message(e));
	cr_assert_str_eq(dopy_error_name(e), "dopy.Cancelled");
	dopy_error_free(e);
	dopy_upload_free(u);
	expect_sum(p, 10);
	cr_assert_lt(dopy_now_ms() - t0, 2000);
	/* A freed, unfinished upload is cancelled too. */
	u = open_upload(p, "slow", NULL);
	cr_assert_eq(dopy_upload_send(u, dopy_value_int(1), NULL), 0);
	dopy_upload_free(u);
	expect_sum(p, 10);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}

/* FNV-1a of the bytes, as upload.digest reports it. */
static uint64_t
fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	while (n-- > 0)
		h = (h ^ *p++) * 0x100000001b3ull;
	return h;
}


#define BIG_ITEM	(64 * 1024)
#define BIG_ITEMS	1024		/* 64 MiB */
#if defined(__SANITIZE_ADDRESS__)
#define MEM_SLACK_KIB	(1024L * 1024)	/* see e2e_stream.c */
#else
#define MEM_SLACK_KIB	4096L
#endif

/*
 * 64 MiB through a server that takes frames of 1 MiB at most: as one
 * argument it is refused, as an upload it arrives whole and in order,
 * and the server's memory stays flat while it does.
 */
Test(upload, larger_than_the_frame_limit, .timeout = 120)
{
	char *argv[] = { (char *)e2e_bin("dopyd"), "-d", "-m", "1048576",
	    NULL };
	unsigned char *chunk = malloc(BIG_ITEM);
	uint64_t h = 0xcbf29ce484222325ull;
	long srv0 = 0, srv1;
	struct e2e_proc p;
	dopy_conn *c = NULL;
	dopy_proxy *px, *t;
	dopy_upload *u;
	dopy_value *v = NULL;
	dopy_error *e = NULL;
	dopy_args *a;
	char want[64];
	size_t i, k;

	cr_assert_not_null(chunk);
	e2e_spawn(&p, argv);
	cr_assert_eq(dopy_conn_fds(p.out, p.in, &c, &e), 0, "%s",
	    dopy_error_message(e));
	px = dopy_proxy_new(c, "upload");
	u = open_upload(px, "digest", NULL);
	for (i = 0; i < BIG_ITEMS; i++) {
		for (k = 0; k < BIG_ITEM; k++)
			chunk[k] = (unsigned char)(i * 31 + k * 7);
		h = fnv1a(h, chunk, BIG_ITEM);
		cr_assert_eq(dopy_upload_send(u, dopy_value_bytes(chunk,
		    BIG_ITEM), &e), 0, "item %zu: %s", i,
		    dopy_error_message(e));
		if (i == 64)
			srv0 = e2e_rss_kib(p.pid);
	}
	srv1 = e2e_rss_kib(p.pid);
	fprintf(stderr, "upload memory: server %ld -> %ld KiB\n", srv0, srv1);
	cr_assert(srv1 - srv0 < MEM_SLACK_KIB, "the server grew from %ld to "
	    "%ld KiB", srv0, srv1);
	cr_assert_eq(dopy_upload_finish(u, &v, &e), 0, "%s",
	    dopy_error_message(e));
	snprintf(want, sizeof(want), "%llu %016llx",
	    (unsigned long long)BIG_ITEM * BIG_ITEMS, (unsigned long long)h);
	cr_assert_str_eq(dopy_value_get_string(v), want);
	dopy_value_free(v);
	dopy_upload_free(u);
	/* Two of those megabytes as one argument: over the limit. */
	free(chunk);
	cr_assert_not_null(chunk = calloc(1, 2u << 20));
	a = dopy_args_new();
	dopy_args_bytes(a, NULL, chunk, 2u << 20);
	t = dopy_proxy_new(c, "test");
	cr_assert_eq(dopy_proxy_call(t, "echo", a, &v, &e), DOPY_E_TOOBIG,
	    "%s", dopy_error_message(e));
	dopy_error_free(e);
	dopy_proxy_free(t);
	dopy_args_free(a);
	free(chunk);
	dopy_proxy_free(px);
	dopy_conn_close(c);
	p.in = p.out = -1;
	cr_assert(e2e_exited(e2e_wait(&p, 5000), 0));
}

struct adder {
	dopy_conn	*c;
	int		 done;
};

static void *
add_thread(void *arg)
{
	struct adder *ad = arg;

	expect_add(ad->c);
	ad->done = 1;
	return NULL;
}

/* Another thread's call on the same connection runs while an upload
 * waits for its next item (nested in its read, as in a callback's). */
Test(upload, other_calls_while_waiting, .timeout = 30)
{
	dopy_conn *c = e2e_dopyd_conn(NULL);
	dopy_proxy *p = dopy_proxy_new(c, "upload");
	dopy_upload *u = open_upload(p, "sum", NULL);
	struct adder ad = { c, 0 };
	dopy_error *e = NULL;
	pthread_t t;
	int i;

	cr_assert_eq(dopy_upload_send(u, dopy_value_int(40), &e), 0);
	cr_assert_eq(pthread_create(&t, NULL, add_thread, &ad), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert(ad.done, "the call waited for the upload");
	for (i = 0; i < 2; i++)
		cr_assert_eq(dopy_upload_send(u, dopy_value_int(1), &e), 0);
	cr_assert_eq(finish_int(u), 42);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}

/* ITEM frames by hand (call id, flags, payload). */
static void
item(struct dopy_buf *b, uint32_t id, int end, dopy_value *v)
{
	size_t at = b->len;

	if (v == NULL) {
		e2e_frame(b, DOPY_F_ITEM, id, NULL, 0);
	} else {
		struct dopy_buf pl;

		dopy_buf_init(&pl);
		e2e_encode(&pl, v);
		e2e_frame(b, DOPY_F_ITEM, id, pl.data, pl.len);
		dopy_buf_release(&pl);
	}
	if (end)
		dopy_frame_set_flags(b->data + at, DOPY_FL_END);
}

/* A CALL of upload.method flagged as an upload's. */
static void
upload_call(struct dopy_buf *b, uint32_t id, const char *method)
{
	size_t at = b->len;

	e2e_call(b, id, "upload", method, 0, NULL, NULL);
	dopy_frame_set_flags(b->data + at, DOPY_FL_UPLOAD);
}

/*
 * By hand: an item of the wrong type fails the call by name and item
 * number, the rest of its items are dropped, and items for calls that
 * are not running are dropped too; the connection stays in step.
 */
Test(upload, bad_items_by_hand, .timeout = 30)
{
	struct e2e_proc p;
	struct dopy_buf b;
	dopy_error *e;

	e2e_dopyd_features(&p, DOPY_FEAT_ALL);
	dopy_buf_init(&b);
	upload_call(&b, 1, "sum");
	item(&b, 1, 0, dopy_value_int(5));
	item(&b, 1, 0, dopy_value_string("six"));
	item(&b, 1, 0, dopy_value_int(7));
	item(&b, 1, 1, NULL);
	item(&b, 9, 0, dopy_value_int(1));	/* never called */
	upload_call(&b, 2, "sum");
	item(&b, 2, 0, dopy_value_int(20));
	item(&b, 2, 0, dopy_value_int(22));
	item(&b, 2, 1, NULL);
	item(&b, 2, 0, dopy_value_int(1));	/* after its end */
	e2e_send(&p, &b);
	dopy_buf_release(&b);
	e = e2e_expect_error(p.out, 1, "dopy.ArgumentError");
	cr_assert_not_null(strstr(dopy_error_message(e), "upload.sum: "
	    "upload data: item 2: "), "%s", dopy_error_message(e));
	dopy_error_free(e);
	e2e_expect_int(p.out, 2, 42);
	e2e_finish(&p, 0);
}

/* A client whose HELLO does not announce uploads: an upload method is
 * refused without running, and an ITEM is an unknown frame. */
Test(upload, old_client_unsupported, .timeout = 30)
{
	struct e2e_proc p;
	struct dopy_buf b;
	dopy_error *e;

	e2e_dopyd_features(&p, DOPY_FEAT_ALL & ~DOPY_FEAT_UPLOAD);
	dopy_buf_init(&b);
	upload_call(&b, 1, "sum");
	item(&b, 1, 0, dopy_value_int(5));
	e2e_send(&p, &b);
	dopy_buf_release(&b);
	e = e2e_expect_error(p.out, 1, "dopy.Unsupported");
	cr_assert_not_null(strstr(dopy_error_message(e), "upload.sum takes "
	    "an upload; the client did not announce uploads"), "%s",
	    dopy_error_message(e));
	dopy_error_free(e);
	e = e2e_expect_error(p.out, 1, "dopy.UnknownFrame");
	dopy_error_free(e);
	e2e_finish(&p, 0);
}

/* The CALL says whether items follow, so a call that sends none of a
 * method that takes an upload is refused at once instead of waiting for
 * them, and so is one that sends items to a method that takes none;
 * the items that follow it are dropped. */
Test(upload, flag_must_match, .timeout = 30)
{
	dopy_conn *c = e2e_dopyd_conn(NULL);
	dopy_proxy *p = dopy_proxy_new(c, "upload"), *t;
	dopy_upload *u;
	dopy_value *v = NULL;
	dopy_error *e = NULL;

	cr_assert_eq(dopy_proxy_call(p, "sum", NULL, &v, &e),
	    DOPY_E_USAGE, "%s", dopy_error_message(e));
	cr_assert_str_eq(dopy_error_name(e), "dopy.ArgumentError");
	cr_assert_str_eq(dopy_error_message(e), "upload.sum takes its data "
	    "as an upload (stream int), which this call does not send");
	dopy_error_free(e);
	e = NULL;
	t = dopy_proxy_new(c, "test");
	u = open_upload(t, "noisy", NULL);
	(void)dopy_upload_send(u, dopy_value_int(1), NULL);
	cr_assert_lt(dopy_upload_finish(u, &v, &e), 0);
	cr_assert_str_eq(dopy_error_message(e), "test.noisy takes no upload");
	dopy_error_free(e);
	dopy_upload_free(u);
	dopy_proxy_free(t);
	expect_sum(p, 7);
	dopy_proxy_free(p);
	cr_assert_eq(dopy_conn_close(c), 0);
}
