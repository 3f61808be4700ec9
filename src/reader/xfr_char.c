/*
 * openccid - T=0 procedure bytes and T=1 blocks over character-level
 * XfrBlocks (see xfr_char.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "reader/xfr_char.h"

#include "ccid/ccid_cmd.h"
#include "codec/ccid_msg.h"
#include "base/err.h"
#include "base/log.h"
#include "reader/reader_state.h"
#include "card/t0_char.h"
#include "card/t1.h"
#include "reader/xfr_wait.h"

#define BWI_MAX    255u

/* One XfrBlock: tx out, exactly expect characters back (section 6.1.4:
 * wLevelParameter is the count the reader collects). */
static int
char_xfr_one(struct reader *r, unsigned slot, uint8_t bBWI, const uint8_t *tx,
    size_t len, uint8_t *rx, size_t expect, unsigned timeout_ms)
{
	struct ccid_status st;
	size_t n = 0;
	int rc;

	rc = ccid_run_xfr_block_timed(&r->io, (uint8_t)slot, bBWI,
	    (uint16_t)expect, tx, len, rx, expect, &n, timeout_ms, &st);
	if (rc == OC_ENOSPC)
		rc = OC_EPROTO;
	if (rc == OC_OK && n != expect) {
		OC_LOG_CRIT("reader returned %zu characters, %zu expected", n,
		    expect);
		rc = OC_EPROTO;
	}
	return rc;
}

/*
 * Characters out and in, split so that every message fits
 * dwMaxCCIDMessageLength (Winbond: 138 bytes, less than a T=0 data
 * field): leading pieces of tx expect nothing, trailing reads send
 * nothing.
 */
static int
char_xfr(struct reader *r, unsigned slot, uint8_t bBWI, const uint8_t *tx,
    size_t len, uint8_t *rx, size_t expect, unsigned timeout_ms)
{
	size_t room = r->io.max_msg > CCID_HDR_LEN ? r->io.max_msg - CCID_HDR_LEN
						   : 0;
	size_t n, got = 0;
	int rc;

	if (room == 0 || expect > UINT16_MAX)
		return OC_EINVAL;
	while (len > room) {
		rc = char_xfr_one(r, slot, bBWI, tx, room, NULL, 0, timeout_ms);
		if (rc != OC_OK)
			return rc;
		tx += room;
		len -= room;
	}
	do {
		n = expect - got < room ? expect - got : room;
		rc = char_xfr_one(
		    r, slot, bBWI, tx, len, rx + got, n, timeout_ms);
		if (rc != OC_OK)
			return rc;
		tx = NULL;
		len = 0;
		got += n;
	} while (got < expect);
	return OC_OK;
}

/* T=0: each wait is WWT plus the characters moved (section 10.2). */
static int
t0_char_xchg(void *ctx, const uint8_t *tx, size_t tx_len, uint8_t *rx,
    size_t expect)
{
	const struct xfr_tpdu_ctx *x = ctx;
	const struct tpdu_state *ts = &x->r->slots[x->slot].tpdu;
	unsigned wait = xfr_wait_ms(ts->to.wwt_ms, tx_len + expect,
	    ts->baud, ts->max_wait_ms);

	return char_xfr(x->r, x->slot, 0, tx, tx_len, rx, expect, wait);
}

/*
 * The data of a PIN command leaves in XfrBlocks of its own after the
 * procedure byte (all at once after INS, one byte per INS^FF), where the
 * log redactor sees bare bytes: slot_transmit() has the exchange's OUT
 * messages logged header only.
 */
int
xfr_char_t0_tpdu(void *ctx, const uint8_t *tpdu, size_t len, uint8_t *resp,
    size_t cap, size_t *got)
{
	struct t0_char_io io = {t0_char_xchg, ctx};
	int rc = t0_char_run(&io, tpdu, len, resp, cap, got);

	if (rc == OC_EPROTO)
		OC_LOG_CRIT("T=0 procedure bytes out of order (INS 0x%02X) or "
			    "more than %d NULLs",
		    tpdu[1], T0_CHAR_MAX_NULL);
	return rc;
}

/*
 * Section 11.3: the prologue tells LEN; the block is read in two
 * XfrBlocks. The first waits BWT (times the S(WTX) factor, CCID bBWI),
 * the second the characters of INF and EDC.
 */
int
xfr_char_t1_block(void *ctx, const uint8_t *block, size_t len,
    uint8_t *reply, size_t cap, size_t *got, unsigned bwt_multiplier)
{
	const struct xfr_tpdu_ctx *x = ctx;
	const struct tpdu_state *ts = &x->r->slots[x->slot].tpdu;
	unsigned mult = bwt_multiplier == 0 ? 1 : bwt_multiplier;
	uint8_t bBWI =
	    mult > 1 ? (uint8_t)(mult > BWI_MAX ? BWI_MAX : mult) : 0;
	size_t edc = ts->t1.crc ? 2 : 1, rest;
	unsigned wait = xfr_wait_ms((uint64_t)ts->to.bwt_ms * mult +
		x->r->qk.extra_timeout_ms,
	    len + T1_PROLOGUE_LEN, ts->baud, ts->max_wait_ms);
	int rc;

	if (cap < T1_PROLOGUE_LEN + edc)
		return OC_EINVAL;
	rc = char_xfr(x->r, x->slot, bBWI, block, len, reply, T1_PROLOGUE_LEN,
	    wait);
	/* A short or missing prologue is an invalid block (11.6.3). */
	if (rc == OC_EPROTO)
		return OC_ECARD;
	if (rc != OC_OK)
		return rc;
	rest = (size_t)reply[2] + edc;
	if (reply[2] > T1_MAX_INF || rest > cap - T1_PROLOGUE_LEN)
		return OC_ECARD;
	wait = xfr_wait_ms(ts->to.cwt_ms + x->r->qk.extra_timeout_ms,
	    rest, ts->baud, ts->max_wait_ms);
	rc = char_xfr(x->r, x->slot, 0, NULL, 0, reply + T1_PROLOGUE_LEN, rest,
	    wait);
	if (rc == OC_EPROTO)
		return OC_ECARD;
	if (rc != OC_OK)
		return rc;
	*got = T1_PROLOGUE_LEN + rest;
	return OC_OK;
}
