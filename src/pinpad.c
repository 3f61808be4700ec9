/*
 * openccid - PC_to_RDR_Secure for PIN verify and modify (pinpad.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "pinpad.h"

#include <stddef.h>
#include <string.h>

/* pcsc-lite reader.h: the part 10 structures (packed). */
#include <PCSC/reader.h>

#include "ccid_cmd.h"
#include "ccid_msg.h"
#include "err.h"
#include "log.h"
#include "quirks.h"
#include "reader.h"
#include "slot.h"
#include "t1.h"
#include "xfr_tpdu.h"

#define VERIFY_HDR            offsetof(PIN_VERIFY_STRUCTURE, abData)
#define MODIFY_HDR            offsetof(PIN_MODIFY_STRUCTURE, abData)
#define PINPAD_MAX_TIMEOUT_MS 600000u /* cap of a quirk timeout */
#define PINPAD_MAX_WTX        8 /* S(WTX request)s answered for one Secure */
/* The card's answer: one short R-APDU, or one T=1 block around it. */
#define PINPAD_RX_MAX (T1_MAX_BLOCK + 2)

int
pinpad_build(bool modify, const uint8_t *s, size_t len, uint8_t nad,
    uint8_t pcb, uint8_t *out, size_t cap, size_t *out_len)
{
	size_t hdr = modify ? MODIFY_HDR : VERIFY_HDR, n = 0, apdu_len;
	const uint8_t *teo;
	uint8_t nmsg;

	if (len < hdr)
		return OC_ETRUNC;
	apdu_len = len - hdr;
	/* bPINOperation, bTimeOut (bTimerOut2 has no CCID field). */
	if (cap < 2 + 16 + 3 + apdu_len)
		return OC_ENOSPC;
	out[n++] = modify ? 1 : 0;
	out[n++] = s[0];
	if (!modify) {
		/* bmFormatString .. bMsgIndex: section 6.1.11.4. */
		memcpy(out + n, s + 2, 10);
		n += 10;
		teo = s + 12;
	} else {
		/* bmFormatString .. bMsgIndex1: section 6.1.11.7. */
		memcpy(out + n, s + 2, 13);
		n += 13;
		/* bMsgIndex2/3 exist only for 2/3 messages (0xFF: default). */
		nmsg = s[11];
		if (nmsg >= 2)
			out[n++] = s[15];
		if (nmsg >= 3)
			out[n++] = s[16];
		teo = s + 17;
	}
	if (pcb == 0xFF) {
		memcpy(out + n, teo, 3);
	} else {
		/* T=1 prologue; LEN as given (the reader fixes it). */
		out[n] = nad;
		out[n + 1] = pcb;
		out[n + 2] = (uint8_t)(apdu_len > 0xFE ? 0xFE : apdu_len);
	}
	n += 3;
	memcpy(out + n, s + hdr, apdu_len);
	n += apdu_len;
	*out_len = n;
	return OC_OK;
}

/* Part 10 status words for the keypad's own errors; 1: not one. */
static int
keypad_sw(const struct ccid_status *st, uint8_t *rx, size_t cap, size_t *rx_len)
{
	uint8_t sw2;

	if (CCID_CMD_STATUS(st->bStatus) != CCID_CMD_FAILED)
		return 1;
	if (st->bError == PINPAD_ERR_TIMEOUT)
		sw2 = 0x00;
	else if (st->bError == PINPAD_ERR_CANCELLED)
		sw2 = 0x01;
	else
		return 1;
	if (cap < 2)
		return OC_ENOSPC;
	rx[0] = 0x64;
	rx[1] = sw2;
	*rx_len = 2;
	OC_LOG_INFO("PIN entry %s", sw2 == 0 ? "timed out" : "cancelled");
	return OC_OK;
}

/*
 * TPDU T=1: the answer is a block. S(WTX request)s are answered (the
 * card may ask for time after the PIN was typed); the I-block's INF is
 * the R-APDU.
 */
static int
unwrap_t1(struct reader *r, unsigned slot, uint8_t *buf, size_t got,
    uint8_t *rx, size_t cap, size_t *rx_len)
{
	struct t1 *t1 = &r->slots[slot].tpdu.t1;
	struct xfr_tpdu_ctx ctx = {r, slot};
	struct t1_xfer io;
	struct t1_block blk;
	uint8_t resp[T1_MAX_BLOCK];
	size_t n;
	unsigned wtx = 0;
	int rc;

	/*
	 * Two bytes are no T=1 block (at least prologue and EDC): a status
	 * word the reader made up itself (PC/SC part 10 section 2.5.1,
	 * e.g. 64 02 new PINs differ, 64 03 PIN too short). The card saw
	 * nothing, so N(S) stays.
	 */
	if (got == 2) {
		if (cap < 2)
			return OC_ENOSPC;
		memcpy(rx, buf, 2);
		*rx_len = 2;
		return OC_OK;
	}
	xfr_tpdu_t1_io(&ctx, &io);
	for (;;) {
		if ((rc = t1_block_parse(buf, got, t1->crc, &blk)) != OC_OK)
			return rc;
		if (blk.kind != T1_BLOCK_S || blk.code != T1_S_WTX ||
		    blk.response)
			break;
		if (++wtx > PINPAD_MAX_WTX || blk.inf_len != 1)
			return OC_EPROTO;
		rc =
		    t1_block_build(t1->nad, T1_PCB_S | T1_PCB_S_RESP | T1_S_WTX,
		        blk.inf, 1, t1->crc, resp, sizeof(resp), &n);
		if (rc == OC_OK)
			rc = io.xfer(io.ctx, resp, n, buf, PINPAD_RX_MAX, &got,
			    blk.inf[0] ? blk.inf[0] : 1);
		if (rc != OC_OK)
			return rc;
	}
	/* Our I-block reached the card: N(S) moves on (section 11.6.2). */
	t1->ns ^= 1;
	if (blk.kind != T1_BLOCK_I || blk.more || blk.seq != t1->nr) {
		OC_LOG_CRIT(
		    "PIN: unexpected T=1 answer block (PCB 0x%02X)", blk.pcb);
		t1->need_resync = true;
		return OC_EPROTO;
	}
	t1->nr ^= 1;
	if (blk.inf_len < 2)
		return OC_EPROTO;
	if (blk.inf_len > cap)
		return OC_ENOSPC;
	memcpy(rx, blk.inf, blk.inf_len);
	*rx_len = blk.inf_len;
	return OC_OK;
}

int
pinpad_run(struct reader *r, unsigned slot, bool modify, const uint8_t *s,
    size_t len, uint8_t *rx, size_t cap, size_t *rx_len)
{
	struct slot *sl = &r->slots[slot];
	struct ccid_status st = {0};
	uint8_t msg[2 + 16 + 3 + SLOT_SHORT_APDU_MAX];
	uint8_t buf[PINPAD_RX_MAX];
	size_t n, got = 0;
	uint32_t timeout_ms, min_ms;
	bool t1 = false;
	int rc;

	if (!sl->powered)
		return OC_ENOCARD;
	if (r->info.desc.level == CCID_XCHG_CHARACTER)
		return OC_ENOTSUP;
	if (r->info.desc.level == CCID_XCHG_TPDU) {
		/* After IFDHSetProtocolParameters; T=0: the reader frames. */
		if (!sl->tpdu.negotiated)
			return OC_EPROTO;
		t1 = sl->tpdu.protocol == 1;
	}
	if (len - (modify ? MODIFY_HDR : VERIFY_HDR) > SLOT_SHORT_APDU_MAX)
		return OC_EINVAL;
	rc = pinpad_build(modify, s, len, t1 ? sl->tpdu.t1.nad : 0,
	    t1 ? (uint8_t)(sl->tpdu.t1.ns ? T1_PCB_I_NS : 0) : 0xFF, msg,
	    sizeof(msg), &n);
	if (rc != OC_OK)
		return rc;
	if (n > r->io.max_msg - CCID_HDR_LEN)
		return OC_ENOTSUP;
	/* bTimeOut plus a margin, at least the quirk timeout_secure_ms. */
	timeout_ms = (s[0] + 10u) * 1000u;
	if (!quirks_get_u32(&r->qk.set, QUIRK_TIMEOUT_SECURE_MS, &min_ms) ||
	    min_ms == 0 || min_ms > PINPAD_MAX_TIMEOUT_MS)
		min_ms = PINPAD_MIN_TIMEOUT_S * 1000u;
	if (timeout_ms < min_ms)
		timeout_ms = min_ms;
	rc = ccid_run_secure(&r->io, (uint8_t)slot, msg, n, timeout_ms, buf,
	    sizeof(buf), &got, &st);
	if (rc != OC_OK) {
		int sw = keypad_sw(&st, rx, cap, rx_len);

		return sw == 1 ? rc : sw;
	}
	if (t1)
		return unwrap_t1(r, slot, buf, got, rx, cap, rx_len);
	if (got < 2)
		return OC_EPROTO;
	if (got > cap)
		return OC_ENOSPC;
	memcpy(rx, buf, got);
	*rx_len = got;
	return OC_OK;
}
