/*
 * frame.c - the 12-byte frame header of dopy(5).
 *
 *   0-1 magic "dp"   2 type   3 flags   4-7 call id   8-11 payload length
 *
 * Multi-byte fields are big-endian.  Decoding checks the length against
 * the negotiated maximum, so no caller allocates from an unchecked size.
 */
#include <string.h>

#include "wire/wire.h"

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

void
dopy_frame_encode(uint8_t hdr[DOPY_HDR_LEN], uint8_t type, uint32_t id,
    uint32_t len)
{
	hdr[0] = DOPY_MAGIC0;
	hdr[1] = DOPY_MAGIC1;
	hdr[2] = type;
	hdr[3] = 0;
	put32(hdr + 4, id);
	put32(hdr + 8, len);
}

void
dopy_frame_set_id(uint8_t hdr[DOPY_HDR_LEN], uint32_t id)
{
	put32(hdr + 4, id);
}

int
dopy_frame_decode(const uint8_t hdr[DOPY_HDR_LEN], uint32_t max,
    struct dopy_frame *f)
{
	memset(f, 0, sizeof(*f));
	if (hdr[0] != DOPY_MAGIC0 || hdr[1] != DOPY_MAGIC1)
		return DOPY_E_PROTO;
	f->type = hdr[2];
	f->flags = hdr[3];
	f->id = get32(hdr + 4);
	f->len = get32(hdr + 8);
	if (f->len > max)
		return DOPY_E_TOOBIG;
	return 0;
}

void
dopy_frame_set_flags(uint8_t hdr[DOPY_HDR_LEN], uint8_t flags)
{
	hdr[3] = flags;
}

const char *
dopy_frame_type_name(uint8_t type)
{
	static const char *names[] = {
		"?", "HELLO", "CALL", "REPLY", "ERROR", "ONEWAY", "CANCEL",
		"PROGRESS", "CALLBACK", "CALLBACK_REPLY", "RELEASE", "AUTH",
		"CALLBACK_ERROR", "ITEM"
	};

	if (type < sizeof(names) / sizeof(names[0]))
		return names[type];
	return "?";
}
