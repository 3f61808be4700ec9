/*
 * openccid - T=1 and T=0 over XfrBlock on TPDU-level readers (see
 * xfr_tpdu.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "reader/xfr_tpdu.h"

#include "ccid/ccid_cmd.h"
#include "base/err.h"
#include "base/log.h"
#include "reader/reader_state.h"
#include "card/t0.h"
#include "reader/xfr_char.h"
#include "reader/xfr_wait.h"

#define BWI_MAX      255u /* bBWI is one byte (CCID section 6.1.4) */

/* One XfrBlock whose bulk-IN read waits timeout_ms. */
static int
xfr_once(struct reader *r, unsigned slot, uint8_t bBWI, uint16_t wLevel,
    const uint8_t *tx, size_t len, uint8_t *rx, size_t cap, size_t *got,
    unsigned timeout_ms)
{
	struct ccid_status st;
	size_t n = 0;
	int rc;

	rc = ccid_run_xfr_block_timed(&r->io, (uint8_t)slot, bBWI, wLevel, tx,
	    len, rx, cap, &n, timeout_ms, &st);
	if (rc == OC_OK)
		*got = n;
	return rc;
}

int
xfr_tpdu_raw(struct reader *r, unsigned slot, const uint8_t *tx, size_t len,
    uint8_t *rx, size_t cap, size_t *got, unsigned timeout_ms)
{
	/* Character level: the PPS answer echoes the request (9.3); the
	 * reader collects that many characters (CCID section 6.1.4). */
	uint16_t expect = r->info.desc.level == CCID_XCHG_CHARACTER
	    ? (uint16_t)(len < cap ? len : cap) : 0;

	return xfr_once(r, slot, 0, expect, tx, len, rx, cap, got, timeout_ms);
}

/*
 * ISO 7816-3 section 11.6.2.3: after S(WTX response) the card may take
 * multiplier x BWT; CCID section 6.1.4 bBWI tells the reader the same.
 */
static int
t1_block_xfer(void *ctx, const uint8_t *block, size_t len, uint8_t *reply,
    size_t cap, size_t *got, unsigned bwt_multiplier)
{
	const struct xfr_tpdu_ctx *x = ctx;
	const struct tpdu_state *ts = &x->r->slots[x->slot].tpdu;
	unsigned mult = bwt_multiplier == 0 ? 1 : bwt_multiplier;
	uint8_t bBWI =
	    mult > 1 ? (uint8_t)(mult > BWI_MAX ? BWI_MAX : mult) : 0;
	/* Quirk extra_timeout_ms: the reader adds its own delay to BWT. */
	unsigned wait = xfr_wait_ms((uint64_t)ts->to.bwt_ms * mult +
		x->r->qk.extra_timeout_ms,
	    len + cap, ts->baud, ts->max_wait_ms);
	int rc;

	rc = xfr_once(
	    x->r, x->slot, bBWI, 0, block, len, reply, cap, got, wait);
	/* A block longer than we can take is an invalid block (11.6.3). */
	if (rc == OC_ENOSPC)
		rc = OC_ECARD;
	return rc;
}

void
xfr_tpdu_t1_io(struct xfr_tpdu_ctx *ctx, struct t1_xfer *io)
{
	io->xfer = ctx->r->info.desc.level == CCID_XCHG_CHARACTER
	    ? xfr_char_t1_block : t1_block_xfer;
	io->ctx = ctx;
}

/* Section 10.2: the reader runs the procedure bytes within WWT each. */
static int
t0_tpdu_xfer(void *ctx, const uint8_t *tpdu, size_t len, uint8_t *resp,
    size_t cap, size_t *got)
{
	const struct xfr_tpdu_ctx *x = ctx;
	const struct tpdu_state *ts = &x->r->slots[x->slot].tpdu;
	unsigned wait = xfr_wait_ms(
	    ts->to.wwt_ms, len + cap, ts->baud, ts->max_wait_ms);
	size_t n = 0;
	int rc;

	rc = xfr_once(x->r, x->slot, 0, 0, tpdu, len, resp, cap, &n, wait);
	if (rc != OC_OK)
		return rc;
	if (n < 2) {
		OC_LOG_CRIT("T=0 answer of %zu bytes has no status word", n);
		return OC_EPROTO;
	}
	*got = n;
	return OC_OK;
}

static int
transmit_t1(struct reader *r, unsigned slot, const uint8_t *tx, size_t len,
    uint8_t *rx, size_t cap, size_t *rx_len)
{
	struct xfr_tpdu_ctx x = {r, slot};
	struct t1_xfer io;
	int rc;

	xfr_tpdu_t1_io(&x, &io);
	rc = t1_transceive(
	    &r->slots[slot].tpdu.t1, &io, tx, len, rx, cap, rx_len);
	if (rc != OC_OK)
		OC_LOG_INFO("T=1 exchange failed: %s", oc_strerror(rc));
	return rc;
}

static int
transmit_t0(struct reader *r, unsigned slot, const uint8_t *tx, size_t len,
    uint8_t *rx, size_t cap, size_t *rx_len)
{
	struct xfr_tpdu_ctx x = {r, slot};
	struct t0_xfer io = {r->info.desc.level == CCID_XCHG_CHARACTER
		? xfr_char_t0_tpdu : t0_tpdu_xfer, &x};
	int rc;

	rc = t0_transceive(NULL, &io, tx, len, rx, cap, rx_len);
	if (rc != OC_OK)
		OC_LOG_INFO("T=0 exchange failed: %s", oc_strerror(rc));
	return rc;
}

int
xfr_tpdu_transmit(struct reader *r, unsigned slot, const uint8_t *tx,
    size_t tx_len, uint8_t *rx, size_t cap, size_t *rx_len)
{
	const struct tpdu_state *ts = &r->slots[slot].tpdu;

	if (r->info.desc.level != CCID_XCHG_TPDU &&
	    r->info.desc.level != CCID_XCHG_CHARACTER) {
		OC_LOG_CRIT("%s exchange level: not supported",
		    ccid_level_name(r->info.desc.level));
		return OC_ENOTSUP;
	}
	/* The slot negotiates before the first exchange (slot.c). */
	if (!ts->negotiated)
		return OC_EPROTO;
	if (ts->protocol == 1)
		return transmit_t1(r, slot, tx, tx_len, rx, cap, rx_len);
	return transmit_t0(r, slot, tx, tx_len, rx, cap, rx_len);
}
