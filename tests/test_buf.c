/*
 * test_buf.c - lib/wire/buf.c: the bounded growable byte buffer.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"

Test(buf, init_is_empty)
{
	struct dopy_buf b;

	memset(&b, 0xa5, sizeof(b));
	dopy_buf_init(&b);
	cr_assert_null(b.data);
	cr_assert_eq(b.off, 0);
	cr_assert_eq(b.len, 0);
	cr_assert_eq(b.cap, 0);
	cr_assert_eq(dopy_buf_avail(&b), 0);
	dopy_buf_release(&b);		/* release of an empty buffer */
	cr_assert_null(b.data);
}

Test(buf, put_and_read_back)
{
	struct dopy_buf b;

	dopy_buf_init(&b);
	cr_assert_eq(dopy_buf_put(&b, "hello", 5), 0);
	cr_assert_eq(dopy_buf_put(&b, " world", 6), 0);
	cr_assert_eq(dopy_buf_avail(&b), 11);
	cr_assert_eq(memcmp(b.data + b.off, "hello world", 11), 0);
	cr_assert_geq(b.cap, b.len);
	dopy_buf_release(&b);
	cr_assert_null(b.data);
	cr_assert_eq(b.cap, 0);
}

Test(buf, put_zero_bytes_from_null)
{
	struct dopy_buf b;

	dopy_buf_init(&b);
	cr_assert_eq(dopy_buf_put(&b, NULL, 0), 0);
	cr_assert_eq(dopy_buf_avail(&b), 0);
	dopy_buf_release(&b);
}

Test(buf, consume_part_and_all)
{
	struct dopy_buf b;

	dopy_buf_init(&b);
	cr_assert_eq(dopy_buf_put(&b, "abcdef", 6), 0);
	dopy_buf_consume(&b, 2);
	cr_assert_eq(dopy_buf_avail(&b), 4);
	cr_assert_eq(memcmp(b.data + b.off, "cdef", 4), 0);
	dopy_buf_consume(&b, 4);
	cr_assert_eq(dopy_buf_avail(&b), 0);
	/* Consuming everything rewinds the buffer. */
	cr_assert_eq(b.off, 0);
	cr_assert_eq(b.len, 0);
	dopy_buf_consume(&b, 100);	/* more than there is */
	cr_assert_eq(dopy_buf_avail(&b), 0);
	dopy_buf_release(&b);
}

Test(buf, reset_keeps_memory)
{
	struct dopy_buf b;
	uint8_t *p;

	dopy_buf_init(&b);
	cr_assert_eq(dopy_buf_put(&b, "abc", 3), 0);
	p = b.data;
	dopy_buf_reset(&b);
	cr_assert_eq(dopy_buf_avail(&b), 0);
	cr_assert_eq(b.data, p);
	cr_assert_eq(dopy_buf_put(&b, "xy", 2), 0);
	cr_assert_eq(memcmp(b.data, "xy", 2), 0);
	dopy_buf_release(&b);
}

Test(buf, reserve_returns_end_and_does_not_commit)
{
	struct dopy_buf b;
	uint8_t *p;

	dopy_buf_init(&b);
	cr_assert_eq(dopy_buf_put(&b, "ab", 2), 0);
	p = dopy_buf_reserve(&b, 1000);
	cr_assert_not_null(p);
	cr_assert_eq(p, b.data + b.len);
	cr_assert_geq(b.cap - b.len, 1000);
	cr_assert_eq(dopy_buf_avail(&b), 2);
	memcpy(p, "cd", 2);
	b.len += 2;
	cr_assert_eq(memcmp(b.data, "abcd", 4), 0);
	dopy_buf_release(&b);
}

Test(buf, grows_over_many_puts)
{
	struct dopy_buf b;
	uint8_t byte;
	size_t i;

	dopy_buf_init(&b);
	for (i = 0; i < 100000; i++) {
		byte = (uint8_t)(i * 7);
		cr_assert_eq(dopy_buf_put(&b, &byte, 1), 0);
	}
	cr_assert_eq(dopy_buf_avail(&b), 100000);
	for (i = 0; i < 100000; i++)
		cr_assert_eq(b.data[i], (uint8_t)(i * 7), "byte %zu", i);
	dopy_buf_release(&b);
}

/* A buffer used as a read queue reuses the space before off instead of
 * growing without bound. */
Test(buf, read_queue_does_not_grow)
{
	struct dopy_buf b;
	char chunk[100];
	size_t cap, i;

	dopy_buf_init(&b);
	memset(chunk, 'x', sizeof(chunk));
	cr_assert_eq(dopy_buf_put(&b, chunk, sizeof(chunk)), 0);
	cap = b.cap;
	for (i = 0; i < 10000; i++) {
		chunk[0] = (char)i;
		cr_assert_eq(dopy_buf_put(&b, chunk, sizeof(chunk)), 0);
		cr_assert_eq(b.data[b.len - sizeof(chunk)], (uint8_t)i);
		dopy_buf_consume(&b, 50);	/* never quite empty */
		dopy_buf_consume(&b, 50);
		cr_assert_eq(dopy_buf_avail(&b), sizeof(chunk));
		cr_assert_eq(b.data[b.off], (uint8_t)i);
	}
	cr_assert_leq(b.cap, 4 * cap, "cap grew from %zu to %zu", cap, b.cap);
	dopy_buf_release(&b);
}

Test(buf, compaction_keeps_unread_bytes)
{
	struct dopy_buf b;
	size_t cap;

	dopy_buf_init(&b);
	cr_assert_eq(dopy_buf_put(&b, "0123456789", 10), 0);
	cap = b.cap;
	dopy_buf_consume(&b, 6);
	/* Needs the room before off: the unread bytes move down. */
	cr_assert_not_null(dopy_buf_reserve(&b, cap - 5));
	cr_assert_eq(b.off, 0);
	cr_assert_eq(dopy_buf_avail(&b), 4);
	cr_assert_eq(memcmp(b.data, "6789", 4), 0);
	dopy_buf_release(&b);
}

Test(buf, reserve_overflow_fails)
{
	struct dopy_buf b;

	dopy_buf_init(&b);
	cr_assert_eq(dopy_buf_put(&b, "abc", 3), 0);
	cr_assert_null(dopy_buf_reserve(&b, SIZE_MAX));
	cr_assert_null(dopy_buf_reserve(&b, SIZE_MAX - 1));
	cr_assert_eq(dopy_buf_put(&b, "x", SIZE_MAX), DOPY_E_NOMEM);
	/* The buffer is unharmed. */
	cr_assert_eq(dopy_buf_avail(&b), 3);
	cr_assert_eq(memcmp(b.data + b.off, "abc", 3), 0);
	dopy_buf_release(&b);
}
