/*
 * test_frame.c - lib/wire/frame.c: the 12-byte frame header.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "internal.h"

Test(frame, encode_layout)
{
	uint8_t h[DOPY_HDR_LEN];

	dopy_frame_encode(h, DOPY_F_CALL, 0x01020304u, 0xa0b0c0d0u);
	cr_assert_eq(h[0], 'd');
	cr_assert_eq(h[1], 'p');
	cr_assert_eq(h[2], DOPY_F_CALL);
	cr_assert_eq(h[3], 0);
	/* Multi-byte fields are big-endian. */
	cr_assert_eq(h[4], 0x01);
	cr_assert_eq(h[5], 0x02);
	cr_assert_eq(h[6], 0x03);
	cr_assert_eq(h[7], 0x04);
	cr_assert_eq(h[8], 0xa0);
	cr_assert_eq(h[9], 0xb0);
	cr_assert_eq(h[10], 0xc0);
	cr_assert_eq(h[11], 0xd0);
}

Test(frame, round_trip)
{
	static const uint32_t ids[] = { 0, 1, 0x7fffffffu, 0xffffffffu };
	static const uint32_t lens[] = { 0, 1, 4095, 4096 };
	struct dopy_frame f;
	uint8_t h[DOPY_HDR_LEN];
	size_t i, j;
	int type;

	for (type = 0; type < 256; type += 17)
		for (i = 0; i < 4; i++)
			for (j = 0; j < 4; j++) {
				dopy_frame_encode(h, (uint8_t)type, ids[i],
				    lens[j]);
				cr_assert_eq(dopy_frame_decode(h, 4096, &f), 0);
				cr_assert_eq(f.type, type);
				cr_assert_eq(f.flags, 0);
				cr_assert_eq(f.id, ids[i]);
				cr_assert_eq(f.len, lens[j]);
				cr_assert_null(f.payload);
			}
}

Test(frame, flags_are_read)
{
	struct dopy_frame f;
	uint8_t h[DOPY_HDR_LEN];

	dopy_frame_encode(h, DOPY_F_REPLY, 9, 3);
	h[3] = 0x5a;
	cr_assert_eq(dopy_frame_decode(h, 100, &f), 0);
	cr_assert_eq(f.flags, 0x5a);
}

Test(frame, bad_magic)
{
	struct dopy_frame f;
	uint8_t h[DOPY_HDR_LEN];
	int i, bit;

	for (i = 0; i < 2; i++)
		for (bit = 0; bit < 8; bit++) {
			dopy_frame_encode(h, DOPY_F_HELLO, 0, 10);
			h[i] ^= (uint8_t)(1u << bit);
			cr_assert_eq(dopy_frame_decode(h, 4096, &f),
			    DOPY_E_PROTO, "byte %d bit %d", i, bit);
		}
	memcpy(h, "GET / HTTP/1", DOPY_HDR_LEN);
	cr_assert_eq(dopy_frame_decode(h, 4096, &f), DOPY_E_PROTO);
	memcpy(h, "pd", 2);		/* swapped */
	cr_assert_eq(dopy_frame_decode(h, 4096, &f), DOPY_E_PROTO);
}

Test(frame, length_checked_against_max)
{
	struct dopy_frame f;
	uint8_t h[DOPY_HDR_LEN];

	dopy_frame_encode(h, DOPY_F_CALL, 1, 4096);
	cr_assert_eq(dopy_frame_decode(h, 4096, &f), 0);
	dopy_frame_encode(h, DOPY_F_CALL, 1, 4097);
	cr_assert_eq(dopy_frame_decode(h, 4096, &f), DOPY_E_TOOBIG);
	dopy_frame_encode(h, DOPY_F_CALL, 1, 0xffffffffu);
	cr_assert_eq(dopy_frame_decode(h, 4096, &f), DOPY_E_TOOBIG);
	cr_assert_eq(dopy_frame_decode(h, 0xffffffffu, &f), 0);
	dopy_frame_encode(h, DOPY_F_CALL, 1, 1);
	cr_assert_eq(dopy_frame_decode(h, 0, &f), DOPY_E_TOOBIG);
}

Test(frame, type_names)
{
	static const char *const want[] = {
		"?", "HELLO", "CALL", "REPLY", "ERROR", "ONEWAY", "CANCEL",
		"PROGRESS", "CALLBACK", "CALLBACK_REPLY", "RELEASE", "AUTH",
		"CALLBACK_ERROR", "ITEM"
	};
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert_str_eq(dopy_frame_type_name((uint8_t)i), want[i]);
	cr_assert_str_eq(dopy_frame_type_name(DOPY_F_HELLO), "HELLO");
	cr_assert_str_eq(dopy_frame_type_name(DOPY_F_ERROR), "ERROR");
	cr_assert_str_eq(dopy_frame_type_name(14), "?");
	cr_assert_str_eq(dopy_frame_type_name(255), "?");
}

/* Frame 11 is in use (the shared-key handshake): traces and error
 * messages must name it. */
Test(frame, auth_has_a_name)
{
	cr_assert_str_eq(dopy_frame_type_name(DOPY_F_AUTH), "AUTH");
}
