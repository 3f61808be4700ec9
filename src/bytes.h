/*
 * openccid - bounds-checked byte cursor.
 *
 * Every read of wire data (USB descriptors, CCID messages, ATRs, T=1
 * blocks, quirks and option strings turned into bytes) goes through a
 * struct oc_cur; every write into a wire buffer through a struct oc_wbuf.
 * A failed read or write leaves the output untouched and the cursor where
 * it was, and returns OC_ETRUNC (read) or OC_ENOSPC (write).
 */
#ifndef OPENCCID_BYTES_H
#define OPENCCID_BYTES_H

#include <stddef.h>
#include <stdint.h>

struct oc_cur {
	const uint8_t *buf;
	size_t len;
	size_t off;
};

struct oc_wbuf {
	uint8_t *buf;
	size_t cap;
	size_t len;
};

void cur_init(struct oc_cur *c, const uint8_t *buf, size_t len);
size_t cur_remaining(const struct oc_cur *c);
/* Pointer to the unread bytes (valid for cur_remaining() bytes). */
const uint8_t *cur_ptr(const struct oc_cur *c);
int cur_get_u8(struct oc_cur *c, uint8_t *v);
int cur_get_le16(struct oc_cur *c, uint16_t *v);
int cur_get_le32(struct oc_cur *c, uint32_t *v);
int cur_get_be16(struct oc_cur *c, uint16_t *v);
int cur_peek_u8(const struct oc_cur *c, uint8_t *v);
/* Copy n bytes out. */
int cur_get_bytes(struct oc_cur *c, uint8_t *dst, size_t n);
/* Borrow n bytes in place: *p points into the cursor's buffer. */
int cur_get_view(struct oc_cur *c, const uint8_t **p, size_t n);
int cur_skip(struct oc_cur *c, size_t n);

void wbuf_init(struct oc_wbuf *w, uint8_t *buf, size_t cap);
int wbuf_put_u8(struct oc_wbuf *w, uint8_t v);
int wbuf_put_le16(struct oc_wbuf *w, uint16_t v);
int wbuf_put_le32(struct oc_wbuf *w, uint32_t v);
int wbuf_put_be16(struct oc_wbuf *w, uint16_t v);
int wbuf_put_bytes(struct oc_wbuf *w, const uint8_t *src, size_t n);

/* Plain little-endian helpers on fixed local arrays (not wire input). */
static inline uint32_t
le32_load(const uint8_t b[4])
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	    (uint32_t)b[3] << 24;
}

static inline void
le32_store(uint8_t b[4], uint32_t v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}

/* The value of one hex digit (either case), or -1: no locale, no sign. */
int oc_hex_digit(int c);

#endif
