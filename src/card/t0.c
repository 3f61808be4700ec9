/*
 * openccid - T=0 at TPDU level (ISO/IEC 7816-3:2006 sections 10 and 12.2,
 * command cases of ISO/IEC 7816-4:2013 section 5.1).
 */
#include "config.h"

#include "card/t0.h"

#include <string.h>

#include "base/bytes.h"
#include "base/err.h"

#define INS_GET_RESPONSE 0xC0u
#define INS_ENVELOPE     0xC2u
#define ENVELOPE_CHUNK   255u

struct apdu {
	const uint8_t *hdr; /* CLA INS P1 P2 */
	const uint8_t *data;
	size_t lc;
	size_t ne;     /* 0 when no Le field (cases 1 and 3) */
	unsigned kase; /* 1..4 */
	const uint8_t *raw;
	size_t raw_len;
};

struct t0x {
	const struct t0_xfer *io;
	unsigned max_getr;
	uint8_t cla; /* for GET RESPONSE and ENVELOPE */
	struct oc_wbuf out;
	uint8_t tpdu[T0_TPDU_MAX];
	size_t tpdu_len;
	uint8_t rx[T0_TPDU_RESP_MAX];
	size_t rx_len;
};

/* ISO 7816-4 section 5.1: case from the length and the Lc/Le fields. */
static int
parse_ext(struct apdu *a, struct oc_cur *c)
{
	uint16_t v;
	size_t rest;

	if (cur_skip(c, 1) != OC_OK || cur_get_be16(c, &v) != OC_OK)
		return OC_EINVAL;
	rest = cur_remaining(c);
	if (rest == 0) {
		a->kase = 2;
		a->ne = v != 0 ? v : 65536u;
		return OC_OK;
	}
	a->lc = v;
	if (v == 0 || cur_get_view(c, &a->data, v) != OC_OK)
		return OC_EINVAL;
	rest = cur_remaining(c);
	if (rest == 0) {
		a->kase = 3;
		return OC_OK;
	}
	if (rest != 2 || cur_get_be16(c, &v) != OC_OK)
		return OC_EINVAL;
	a->kase = 4;
	a->ne = v != 0 ? v : 65536u;
	return OC_OK;
}

static int
parse_apdu(const uint8_t *buf, size_t len, struct apdu *a)
{
	struct oc_cur c;
	uint8_t b;

	memset(a, 0, sizeof(*a));
	a->raw = buf;
	a->raw_len = len;
	cur_init(&c, buf, len);
	if (cur_get_view(&c, &a->hdr, 4) != OC_OK)
		return OC_EINVAL;
	if (cur_peek_u8(&c, &b) != OC_OK) {
		a->kase = 1;
		return OC_OK;
	}
	if (cur_remaining(&c) == 1) {
		a->kase = 2;
		a->ne = b != 0 ? b : 256u;
		return OC_OK;
	}
	if (b == 0)
		return parse_ext(a, &c);
	(void)cur_skip(&c, 1);
	a->lc = b;
	if (cur_get_view(&c, &a->data, b) != OC_OK)
		return OC_EINVAL;
	if (cur_remaining(&c) == 0) {
		a->kase = 3;
		return OC_OK;
	}
	if (cur_get_u8(&c, &b) != OC_OK || cur_remaining(&c) != 0)
		return OC_EINVAL;
	a->kase = 4;
	a->ne = b != 0 ? b : 256u;
	return OC_OK;
}

static int
set_tpdu(struct t0x *x, uint8_t cla, const uint8_t ins_p1p2[3], uint8_t p3,
    const uint8_t *data, size_t n)
{
	struct oc_wbuf w;
	int rc;

	wbuf_init(&w, x->tpdu, sizeof(x->tpdu));
	if ((rc = wbuf_put_u8(&w, cla)) != OC_OK ||
	    (rc = wbuf_put_bytes(&w, ins_p1p2, 3)) != OC_OK ||
	    (rc = wbuf_put_u8(&w, p3)) != OC_OK ||
	    (rc = wbuf_put_bytes(&w, data, n)) != OC_OK)
		return rc;
	x->tpdu_len = w.len;
	return OC_OK;
}

static int
send_tpdu(struct t0x *x)
{
	size_t got = 0;
	int rc;

	rc = x->io->xfer(
	    x->io->ctx, x->tpdu, x->tpdu_len, x->rx, sizeof(x->rx), &got);
	if (rc != OC_OK)
		return rc;
	if (got < 2 || got > sizeof(x->rx))
		return OC_EPROTO;
	x->rx_len = got;
	return OC_OK;
}

static int
get_response(struct t0x *x, uint8_t le)
{
	static const uint8_t ins[3] = {INS_GET_RESPONSE, 0x00, 0x00};
	int rc;

	if ((rc = set_tpdu(x, x->cla, ins, le, NULL, 0)) != OC_OK)
		return rc;
	return send_tpdu(x);
}

/*
 * Section 12.2: 6Cxx asks for the same TPDU with P3 = xx (once); 61xx
 * says xx more bytes wait for GET RESPONSE. Data of every round is kept.
 */
static int
finish(struct t0x *x, bool want_data)
{
	bool resent = false;
	unsigned rounds = 0;
	int rc;

	for (;;) {
		uint8_t sw1 = x->rx[x->rx_len - 2];
		uint8_t sw2 = x->rx[x->rx_len - 1];
		if (sw1 == 0x6C && want_data && !resent && x->tpdu_len == 5) {
			resent = true;
			x->tpdu[4] = sw2;
			if ((rc = send_tpdu(x)) != OC_OK)
				return rc;
			continue;
		}
		if (sw1 != 0x61 || !want_data)
			return wbuf_put_bytes(&x->out, x->rx, x->rx_len);
		if ((rc = wbuf_put_bytes(&x->out, x->rx, x->rx_len - 2)) !=
		    OC_OK)
			return rc;
		if (++rounds > x->max_getr)
			return OC_EPROTO;
		resent = false;
		if ((rc = get_response(x, sw2)) != OC_OK)
			return rc;
	}
}

/* ISO 7816-4 section 7.6.2: the whole command in ENVELOPE data fields. */
static int
run_envelope(struct t0x *x, const struct apdu *a)
{
	static const uint8_t ins[3] = {INS_ENVELOPE, 0x00, 0x00};
	size_t off = 0;

	while (off < a->raw_len) {
		size_t n = a->raw_len - off;
		int rc;

		if (n > ENVELOPE_CHUNK)
			n = ENVELOPE_CHUNK;
		rc = set_tpdu(x, x->cla, ins, (uint8_t)n, a->raw + off, n);
		if (rc == OC_OK)
			rc = send_tpdu(x);
		if (rc != OC_OK)
			return rc;
		off += n;
		if (off == a->raw_len)
			return finish(x, true);
		/* a refusal of one piece is the command's answer */
		if (x->rx_len != 2 || x->rx[0] != 0x90 || x->rx[1] != 0x00)
			return finish(x, false);
	}
	return OC_EINVAL;
}

/* Section 12.2.2-12.2.5: one TPDU per case, extended ones when short. */
static int
run_cases(struct t0x *x, const struct apdu *a)
{
	uint8_t p3;
	int rc;

	switch (a->kase) {
	case 1:
		rc = set_tpdu(x, a->hdr[0], a->hdr + 1, 0, NULL, 0);
		break;
	case 2:
		p3 = a->ne >= 256 ? 0 : (uint8_t)a->ne;
		rc = set_tpdu(x, a->hdr[0], a->hdr + 1, p3, NULL, 0);
		break;
	default:
		rc = set_tpdu(
		    x, a->hdr[0], a->hdr + 1, (uint8_t)a->lc, a->data, a->lc);
		break;
	}
	if (rc == OC_OK)
		rc = send_tpdu(x);
	if (rc != OC_OK)
		return rc;
	return finish(x, a->kase == 2 || a->kase == 4);
}

int
t0_transceive(const struct t0_opts *opts, const struct t0_xfer *io,
    const uint8_t *apdu, size_t len, uint8_t *resp, size_t cap,
    size_t *resp_len)
{
	struct apdu a;
	struct t0x x;
	int rc;

	if (io == NULL || io->xfer == NULL || apdu == NULL || resp == NULL ||
	    resp_len == NULL)
		return OC_EINVAL;
	if ((rc = parse_apdu(apdu, len, &a)) != OC_OK)
		return rc;
	memset(&x, 0, sizeof(x));
	x.io = io;
	x.max_getr = opts != NULL && opts->max_get_response != 0
	                 ? opts->max_get_response
	                 : T0_DEFAULT_MAX_GETR;
	/* 7816-4 section 5.4.1: drop the command chaining bit. */
	x.cla =
	    (a.hdr[0] & 0x80u) == 0 ? (uint8_t)(a.hdr[0] & ~0x10u) : a.hdr[0];
	wbuf_init(&x.out, resp, cap);
	if (a.lc > 255) {
		if (opts == NULL || !opts->envelope)
			return OC_ENOTSUP;
		rc = run_envelope(&x, &a);
	} else {
		rc = run_cases(&x, &a);
	}
	if (rc == OC_OK)
		*resp_len = x.out.len;
	/* The TPDUs may hold a PIN or a key: no copy stays on the stack. */
	explicit_bzero(x.tpdu, sizeof(x.tpdu));
	explicit_bzero(x.rx, sizeof(x.rx));
	return rc;
}
