/*
 * openccid - bounds-checked byte cursor (see bytes.h, where the checks
 * cur_want() and wbuf_want() are inline).
 *
 * Every check is written as "n > len - off" with off <= len as an
 * invariant, so no addition can wrap on a hostile length.
 */
#include "config.h"

#include "base/bytes.h"

#include <string.h>

#include "base/err.h"

const uint8_t *
cur_ptr(const struct oc_cur *c)
{
	if (c->buf == NULL || c->off > c->len)
		return NULL;
	return c->buf + c->off;
}

int
cur_peek_u8(const struct oc_cur *c, uint8_t *v)
{
	const uint8_t *p = cur_want(c, 1);

	if (p == NULL)
		return OC_ETRUNC;
	*v = p[0];
	return OC_OK;
}

int
cur_get_u8(struct oc_cur *c, uint8_t *v)
{
	const uint8_t *p = cur_want(c, 1);

	if (p == NULL)
		return OC_ETRUNC;
	*v = p[0];
	c->off += 1;
	return OC_OK;
}

int
cur_get_le16(struct oc_cur *c, uint16_t *v)
{
	const uint8_t *p = cur_want(c, 2);

	if (p == NULL)
		return OC_ETRUNC;
	*v = (uint16_t)(p[0] | p[1] << 8);
	c->off += 2;
	return OC_OK;
}

int
cur_get_be16(struct oc_cur *c, uint16_t *v)
{
	const uint8_t *p = cur_want(c, 2);

	if (p == NULL)
		return OC_ETRUNC;
	*v = (uint16_t)(p[0] << 8 | p[1]);
	c->off += 2;
	return OC_OK;
}

int
cur_get_le32(struct oc_cur *c, uint32_t *v)
{
	const uint8_t *p = cur_want(c, 4);

	if (p == NULL)
		return OC_ETRUNC;
	*v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
	c->off += 4;
	return OC_OK;
}

int
cur_get_bytes(struct oc_cur *c, uint8_t *dst, size_t n)
{
	const uint8_t *p = cur_want(c, n);

	if (p == NULL)
		return OC_ETRUNC;
	if (n > 0) {
		if (dst == NULL)
			return OC_EINVAL;
		memcpy(dst, p, n);
	}
	c->off += n;
	return OC_OK;
}

int
cur_skip(struct oc_cur *c, size_t n)
{
	if (cur_want(c, n) == NULL)
		return OC_ETRUNC;
	c->off += n;
	return OC_OK;
}

int
wbuf_put_u8(struct oc_wbuf *w, uint8_t v)
{
	uint8_t *p = wbuf_want(w, 1);

	if (p == NULL)
		return OC_ENOSPC;
	p[0] = v;
	w->len += 1;
	return OC_OK;
}

int
wbuf_put_le16(struct oc_wbuf *w, uint16_t v)
{
	uint8_t *p = wbuf_want(w, 2);

	if (p == NULL)
		return OC_ENOSPC;
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	w->len += 2;
	return OC_OK;
}

int
wbuf_put_be16(struct oc_wbuf *w, uint16_t v)
{
	uint8_t *p = wbuf_want(w, 2);

	if (p == NULL)
		return OC_ENOSPC;
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	w->len += 2;
	return OC_OK;
}

int
wbuf_put_le32(struct oc_wbuf *w, uint32_t v)
{
	uint8_t *p = wbuf_want(w, 4);

	if (p == NULL)
		return OC_ENOSPC;
	le32_store(p, v);
	w->len += 4;
	return OC_OK;
}

int
oc_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
