/*
 * openccid - PC_to_RDR_Secure for PIN verify and modify (pinpad.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "reader/pinpad.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

/* pcsc-lite reader.h: the part 10 structures (packed). */
#include <PCSC/reader.h>

#include "ccid/ccid_cmd.h"
#include "codec/ccid_msg.h"
#include "base/err.h"
#include "base/log.h"
#include "quirks/quirks.h"
#include "reader/reader_state.h"
#include "reader/slot.h"
#include "card/t1.h"
#include "reader/xfr_tpdu.h"

#define VERIFY_HDR            offsetof(PIN_VERIFY_STRUCTURE, abData)
#define MODIFY_HDR            offsetof(PIN_MODIFY_STRUCTURE, abData)
#define PINPAD_MAX_TIMEOUT_MS 600000u /* cap of a quirk timeout */
#define PINPAD_MAX_WTX        8 /* S(WTX request)s answered for one Secure */
/* The card's answer: one short R-APDU, or one T=1 block around it. */
#define PINPAD_RX_MAX (T1_MAX_BLOCK + 2)

/* Offsets in the host-order structures (pcsc-lite reader.h, packed). */
#define V_MAXEXTRA offsetof(PIN_VERIFY_STRUCTURE, wPINMaxExtraDigit)
#define V_EVC      offsetof(PIN_VERIFY_STRUCTURE, bEntryValidationCondition)
#define V_NMSG     offsetof(PIN_VERIFY_STRUCTURE, bNumberMessage)
#define V_BLOCK    offsetof(PIN_VERIFY_STRUCTURE, bmPINBlockString)
#define M_EVC      offsetof(PIN_MODIFY_STRUCTURE, bEntryValidationCondition)
#define M_NMSG     offsetof(PIN_MODIFY_STRUCTURE, bNumberMessage)
#define EVC_MAX    0x07u /* max size, key, timeout (part 10 2.5.2) */
/* Firmware features (Escape answer): byte 3 is bEntryValidationCondition. */
#define FW_FEATURES_EVC 3
#define FW_FEATURES_MAX 64
/* A case 1 APDU: CLA INS P1 P2 only (ISO 7816-3 section 12.1.2). */
#define APDU_CASE1_LEN 4

static bool
quirk_u8(const struct quirk_set *qs, enum quirk_key key, uint8_t *v)
{
	uint32_t u;

	if (!quirks_get_u32(qs, key, &u) || u > 0xFF)
		return false;
	*v = (uint8_t)u;
	return true;
}

void
pinpad_apply_quirks(const struct quirk_set *qs, bool modify, uint8_t *s,
    size_t len, struct pinpad_fix *fix)
{
	size_t hdr = modify ? MODIFY_HDR : VERIFY_HDR;
	size_t evc = modify ? M_EVC : V_EVC;
	uint8_t v;

	memset(fix, 0, sizeof(*fix));
	if (qs == NULL || len < hdr)
		return;
	/* K1: 0 or undefined bits crash the Cherry XX44. */
	if ((s[evc] == 0 || s[evc] > EVC_MAX) &&
	    quirk_u8(qs, QUIRK_PINPAD_VALIDATION_INVALID_FIX, &v))
		s[evc] = v;
	/* K3: GemPC Pinpad / VEGA-ALPHA accept only the validation key. */
	if (quirk_u8(qs, QUIRK_PINPAD_VALIDATION_FIX, &v))
		s[evc] = v;
	/* K4: only the conditions the firmware features list. */
	fix->mask_evc =
	    quirks_flag(qs, QUIRK_PINPAD_VALIDATION_MASK_FROM_FEATURES);
	if (!modify) {
		uint32_t ms;

		/* K2 (01), K5 (00): the only bNumberMessage taken. */
		if (quirk_u8(qs, QUIRK_PINPAD_MSG_COUNT_VERIFY, &v))
			s[V_NMSG] = v;
		/* K6: the reader reads wPINMaxExtraDigit byte-swapped. */
		if (quirks_flag(qs, QUIRK_PINPAD_MAX_EXTRA_DIGIT_SWAPPED)) {
			v = s[V_MAXEXTRA];
			s[V_MAXEXTRA] = s[V_MAXEXTRA + 1];
			s[V_MAXEXTRA + 1] = v;
		}
		/* K5: the Enter key that started this is still down. */
		/* (the quirk parser caps it at 10 s) */
		if (quirks_get_u32(qs, QUIRK_PINPAD_VERIFY_DELAY_MS, &ms))
			fix->delay_ms = ms;
		/* K7: no PIN block and a case 1 APDU: the reader appends
		 * the PIN unpadded unless told otherwise first. */
		if (s[V_BLOCK] == 0 && len - hdr == APDU_CASE1_LEN &&
		    quirks_get_bytes(qs, QUIRK_PINPAD_VERIFY_CASE1_ESCAPE,
		        &fix->escape, &fix->escape_len))
			return;
		fix->escape = NULL;
		fix->escape_len = 0;
		return;
	}
	/* K11: bNumberMessage 00 refused (Cherry KC 1000 SC). */
	if (s[M_NMSG] == 0 &&
	    quirk_u8(qs, QUIRK_PINPAD_MODIFY_MSG_COUNT_ZERO_AS, &v))
		s[M_NMSG] = v;
	/* K8 (00 with all indexes), K9 (03): the count the reader takes. */
	if (quirk_u8(qs, QUIRK_PINPAD_MSG_COUNT_MODIFY, &v))
		s[M_NMSG] = v;
	/* K8, K10: bMsgIndex2/3 expected whatever bNumberMessage says. */
	fix->index_all = quirks_flag(qs, QUIRK_PINPAD_MODIFY_MSG_INDEX_ALL);
}

int
pinpad_build(bool modify, const uint8_t *s, size_t len, bool index_all,
    uint8_t nad, uint8_t pcb, uint8_t *out, size_t cap, size_t *out_len)
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
		if (nmsg >= 2 || index_all)
			out[n++] = s[15];
		if (nmsg >= 3 || index_all)
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

static bool
sw1_valid(uint8_t sw1)
{
	return (sw1 & 0xF0) == 0x90 || ((sw1 & 0xF0) == 0x60 && sw1 != 0x60);
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
	if (blk.inf_len < 2 || !sw1_valid(blk.inf[blk.inf_len - 2]))
		return OC_EPROTO;
	if (blk.inf_len > cap)
		return OC_ENOSPC;
	memcpy(rx, blk.inf, blk.inf_len);
	*rx_len = blk.inf_len;
	return OC_OK;
}

static void
sleep_ms(uint32_t ms)
{
	struct timespec ts = {
	    (time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * K4: AND bEntryValidationCondition with what the firmware features
 * (quirk firmware_features_escape, Gemalto Escape 6A) say the reader
 * supports, unless nothing would be left. Asked at each PIN operation:
 * no reader state to keep, and one Escape is nothing next to typing.
 */
static void
mask_evc(struct reader *r, unsigned slot, bool modify, uint8_t *s)
{
	size_t evc = modify ? M_EVC : V_EVC;
	struct ccid_status st;
	const uint8_t *esc;
	uint8_t ans[FW_FEATURES_MAX];
	size_t esc_len, got = 0;

	if (!quirks_get_bytes(
	        &r->qk.set, QUIRK_FIRMWARE_FEATURES_ESCAPE, &esc, &esc_len))
		return;
	if (ccid_run_escape(&r->io, (uint8_t)slot, esc, esc_len, ans,
	        sizeof(ans), &got, &st) != OC_OK ||
	    got <= FW_FEATURES_EVC) {
		OC_LOG_INFO("PIN: no firmware features; validation 0x%02X kept",
		    s[evc]);
		return;
	}
	if ((s[evc] & ans[FW_FEATURES_EVC]) != 0)
		s[evc] &= ans[FW_FEATURES_EVC];
}

int
pinpad_run(struct reader *r, unsigned slot, bool modify, const uint8_t *in,
    size_t len, uint8_t *rx, size_t cap, size_t *rx_len)
{
	struct slot *sl = &r->slots[slot];
	struct ccid_status st = {0};
	uint8_t msg[2 + 16 + 3 + SLOT_SHORT_APDU_MAX];
	uint8_t s[MODIFY_HDR + SLOT_SHORT_APDU_MAX];
	uint8_t buf[PINPAD_RX_MAX];
	struct pinpad_fix fix;
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
	if (len < (modify ? MODIFY_HDR : VERIFY_HDR) ||
	    len - (modify ? MODIFY_HDR : VERIFY_HDR) > SLOT_SHORT_APDU_MAX)
		return OC_EINVAL;
	memcpy(s, in, len);
	pinpad_apply_quirks(&r->qk.set, modify, s, len, &fix);
	if (fix.mask_evc)
		mask_evc(r, slot, modify, s);
	if (fix.escape != NULL) {
		/* K7: its answer does not matter, the Secure tells. */
		if (ccid_run_escape(&r->io, (uint8_t)slot, fix.escape,
		        fix.escape_len, buf, sizeof(buf), &got, &st) != OC_OK)
			OC_LOG_INFO(
			    "PIN: pre-Verify Escape failed (bError 0x%02X)",
			    st.bError);
		got = 0;
		memset(&st, 0, sizeof(st));
	}
	if (fix.delay_ms != 0)
		sleep_ms(fix.delay_ms);
	rc = pinpad_build(modify, s, len, fix.index_all,
	    t1 ? sl->tpdu.t1.nad : 0,
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

		/* The block may have reached the card: its N(S) is unknown. */
		if (t1 && sw == 1)
			sl->tpdu.t1.need_resync = true;
		return sw == 1 ? rc : sw;
	}
	if (t1) {
		rc = unwrap_t1(r, slot, buf, got, rx, cap, rx_len);
		/* A broken answer leaves both ends' N(S)/N(R) in doubt: resync
		 * (ISO 7816-3 11.6.3.2) rather than have the card repeat its
		 * last answer as the next one's. */
		if (rc != OC_OK)
			sl->tpdu.t1.need_resync = true;
		return rc;
	}
	/* ISO 7816-3 10.3.3: an R-APDU ends in SW1 6X or 9X (not 60); a
	 * cut or padded answer must not reach the client as the card's. */
	if (got < 2 || !sw1_valid(buf[got - 2]))
		return OC_EPROTO;
	if (got > cap)
		return OC_ENOSPC;
	memcpy(rx, buf, got);
	*rx_len = got;
	return OC_OK;
}
