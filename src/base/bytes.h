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
#include <string.h>

#include "base/err.h"

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

/* Pointer to the unread bytes (valid for cur_remaining() bytes). */
const uint8_t *cur_ptr(const struct oc_cur *c);
int cur_get_u8(struct oc_cur *c, uint8_t *v);
int cur_get_le16(struct oc_cur *c, uint16_t *v);
int cur_get_le32(struct oc_cur *c, uint32_t *v);
int cur_get_be16(struct oc_cur *c, uint16_t *v);
int cur_peek_u8(const struct oc_cur *c, uint8_t *v);
/* Copy n bytes out. */
int cur_get_bytes(struct oc_cur *c, uint8_t *dst, size_t n);
int cur_skip(struct oc_cur *c, size_t n);

int wbuf_put_u8(struct oc_wbuf *w, uint8_t v);
int wbuf_put_le16(struct oc_wbuf *w, uint16_t v);
int wbuf_put_le32(struct oc_wbuf *w, uint32_t v);
int wbuf_put_be16(struct oc_wbuf *w, uint16_t v);

/*
 * The calls every CCID message makes (make bench: a tenth of an APDU's
 * driver instructions were call overhead of these) are inline. Every
 * check is written as "n > len - off" with off <= len as an invariant,
 * so no addition can wrap on a hostile length.
 */
static inline void
cur_init(struct oc_cur *c, const uint8_t *buf, size_t len)
{
	c->buf = buf;
	c->len = buf != NULL ? len : 0;
	c->off = 0;
}

static inline size_t
cur_remaining(const struct oc_cur *c)
{
	/* A cursor whose fields were corrupted reports nothing left. */
	if (c->off > c->len)
		return 0;
	return c->len - c->off;
}

/* Borrow n bytes without moving: the one place that checks a read. */
static inline const uint8_t *
cur_want(const struct oc_cur *c, size_t n)
{
	if (c->buf == NULL || c->off > c->len || n > c->len - c->off)
		return NULL;
	return c->buf + c->off;
}

/* Borrow n bytes in place: *p points into the cursor's buffer. */
static inline int
cur_get_view(struct oc_cur *c, const uint8_t **p, size_t n)
{
	const uint8_t *q = cur_want(c, n);

	if (q == NULL)
		return OC_ETRUNC;
	*p = q;
	c->off += n;
	return OC_OK;
}

static inline void
wbuf_init(struct oc_wbuf *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = buf != NULL ? cap : 0;
	w->len = 0;
}

/* Room for n more bytes, or NULL: the one place that checks a write. */
static inline uint8_t *
wbuf_want(const struct oc_wbuf *w, size_t n)
{
	if (w->buf == NULL || w->len > w->cap || n > w->cap - w->len)
		return NULL;
	return w->buf + w->len;
}

static inline int
wbuf_put_bytes(struct oc_wbuf *w, const uint8_t *src, size_t n)
{
	uint8_t *p;

	/* No object is larger: lets the compiler see memmove()'s bound. */
	if (n > PTRDIFF_MAX)
		return OC_ENOSPC;
	if ((p = wbuf_want(w, n)) == NULL)
		return OC_ENOSPC;
	if (n > 0) {
		if (src == NULL)
			return OC_EINVAL;
		memmove(p, src, n);
	}
	w->len += n;
	return OC_OK;
}

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
