/*
 * The simulated reader's keypad: PC_to_RDR_Secure (CCID rev 1.1 section
 * 6.1.11). The reader takes abPINDataStructure, "reads" the digits a test
 * armed with pinpad-digits, writes them into abPINApdu as
 * bmFormatString / bmPINBlockString / bmPINLengthFormat say and sends the
 * command to the card (TPDU T=1: framed with bTeoPrologue). The keypad's
 * own outcomes: bError 0xF0 (timeout), 0xEF (cancelled), and the status
 * words a reader makes up itself (PC/SC part 10 section 2.5.1): 64 02 the
 * two new PINs differ, 64 03 PIN shorter than the minimum.
 *
 * Gemalto firmware (idVendor 08E6) is strict like the real one
 * (libccid-facts.md section 2.6 K2, K3, K10): Verify refuses bNumberMessage
 * 00 and FF, any bEntryValidationCondition but 0x02 is refused, and Modify
 * is parsed with bMsgIndex1..3 always present.
 */
#include "sim.h"

#include <string.h>
#include <glib.h>

#define ERR_CMD_NOT_SUPPORTED 0x00
#define ERR_BAD_LENGTH 1 /* index of dwLength */
#define ERR_PIN_TIMEOUT 0xf0
#define ERR_PIN_CANCELLED 0xef
#define OFF_DATA 10 /* bPINOperation: byte 10 of the message */
#define VENDOR_GEMALTO 0x08e6

bool ccid_in_secure;

static struct {
	enum pinpad_mode mode;
	char pin[17], newpin[17], confirm[17];
} pinpad;

void ccid_pinpad_set(enum pinpad_mode mode, const char *digits, const char *digits2,
		     const char *digits3)
{
	memset(&pinpad, 0, sizeof(pinpad));
	pinpad.mode = mode;
	if (digits)
		g_strlcpy(pinpad.pin, digits, sizeof(pinpad.pin));
	if (digits2)
		g_strlcpy(pinpad.newpin, digits2, sizeof(pinpad.newpin));
	g_strlcpy(pinpad.confirm, digits3 ? digits3 : pinpad.newpin, sizeof(pinpad.confirm));
}

/* The card's answer to the command the keypad built (stats only). */
void pinpad_card_answer(const uint8_t *rsp, size_t n)
{
	if (n < 2)
		return;
	if (rsp[n - 2] == 0x90 && rsp[n - 1] == 0x00)
		sim_stats.pin_ok++;
	else
		sim_stats.pin_wrong++;
}

/* Write `nbits` of v at bit offset `pos` (MSB first) of b[0..cap). */
static void put_bits(uint8_t *b, size_t cap, size_t pos, unsigned nbits, unsigned v)
{
	for (unsigned i = 0; i < nbits; i++) {
		size_t bit = pos + i;
		unsigned val = (v >> (nbits - 1 - i)) & 1;

		if (bit / 8 >= cap)
			return;
		if (val)
			b[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
		else
			b[bit / 8] &= (uint8_t)~(0x80 >> (bit % 8));
	}
}

/*
 * Put a PIN into the APDU's data field as bmFormatString / bmPINBlockString /
 * bmPINLengthFormat say (section 6.1.11.7). data: the data field (cap bytes,
 * *dlen used so far), off: extra byte offset (modify: bInsertionOffset).
 */
static int pin_format(uint8_t *data, size_t cap, size_t *dlen, const char *pin,
		      uint8_t fmt, uint8_t blk, uint8_t lenfmt, size_t off)
{
	size_t n = strlen(pin);
	bool bytes = fmt & 0x80;
	size_t pos = (size_t)((fmt >> 3) & 0x0f) * (bytes ? 8 : 1) + off * 8;
	unsigned type = fmt & 3, per = type == 1 ? 4 : 8;
	size_t block = blk & 0x0f, lbits = blk >> 4;
	size_t need = block ? block : (pos + n * per + 7) / 8 - off;

	if (off + need > cap || pos / 8 + (n * per + 7) / 8 > cap)
		return -1;
	if (fmt & 0x04 && block) /* right justified in the block */
		pos = (off + block) * 8 - n * per;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(pin[i] - '0');

		put_bits(data, cap, pos + i * per, per, type == 2 ? '0' + d : d);
	}
	if (lbits) {
		size_t lpos = (size_t)(lenfmt & 0x0f) * ((lenfmt & 0x10) ? 8 : 1) + off * 8;

		put_bits(data, cap, lpos, (unsigned)lbits, (unsigned)n);
	}
	if (off + need > *dlen)
		*dlen = off + need;
	return 0;
}

static void fail(struct ccid_iface *ci, const uint8_t *msg, uint8_t err)
{
	ccid_datablock(ci, msg, true, err, NULL, 0);
}

/* A status word the reader makes up (no card involved). */
static void reader_sw(struct ccid_iface *ci, const uint8_t *msg, uint8_t sw2)
{
	const uint8_t sw[2] = { 0x64, sw2 };

	ccid_datablock(ci, msg, false, 0, sw, 2);
}

/* The digits typed, cut to the keypad's maximum. */
static void typed(char *out, size_t cap, const char *in, uint8_t maxlen)
{
	g_strlcpy(out, in, cap);
	if (maxlen && strlen(out) > maxlen)
		out[maxlen] = 0;
}

void pinpad_secure(struct ccid_iface *ci, struct ccid_slot *s, const uint8_t *msg,
		   const uint8_t *d, size_t n)
{
	uint8_t fmt, blk, lenfmt, minlen, maxlen, evc, nmsg, teo[3];
	size_t hdr, off_old = 0, off_new = 0, alen, dl;
	uint8_t apdu[5 + 255 + 1], block[4 + 260];
	bool modify, confirm = false, old_entry = true;
	bool gemalto = ci->idVendor == VENDOR_GEMALTO;
	char p1[17] = "", p2[17] = "";

	if (!ci->desc->ccid.bPINSupport) {
		fail(ci, msg, ERR_CMD_NOT_SUPPORTED);
		return;
	}
	if (n < 1 || (d[0] != 0 && d[0] != 1)) {
		fail(ci, msg, OFF_DATA); /* offset of bPINOperation */
		return;
	}
	modify = d[0] == 1;
	if (modify)
		sim_stats.secure_modify++;
	else
		sim_stats.secure_verify++;
	if (n < 2 + 4) {
		fail(ci, msg, ERR_BAD_LENGTH);
		return;
	}
	fmt = d[2];
	blk = d[3];
	lenfmt = d[4];
	if (!modify) {
		/* bPINOperation bTimeOut bmFormatString bmPINBlockString
		 * bmPINLengthFormat wPINMaxExtraDigit(2) bEntryValidationCondition
		 * bNumberMessage wLangId(2) bMsgIndex bTeoPrologue(3)
		 * (section 6.1.11.4) */
		hdr = 15;
		if (n < hdr + 5) {
			fail(ci, msg, ERR_BAD_LENGTH);
			return;
		}
		maxlen = d[5];
		minlen = d[6];
		evc = d[7];
		nmsg = d[8];
		memcpy(teo, d + 12, 3);
		if (gemalto && (nmsg == 0x00 || nmsg == 0xff)) {
			fail(ci, msg, OFF_DATA + 8);
			return;
		}
		if (gemalto && evc != 0x02) {
			fail(ci, msg, OFF_DATA + 7);
			return;
		}
	} else {
		/* bPINOperation bTimeOut bmFormatString bmPINBlockString
		 * bmPINLengthFormat bInsertionOffsetOld bInsertionOffsetNew
		 * wPINMaxExtraDigit(2) bConfirmPIN bEntryValidationCondition
		 * bNumberMessage wLangId(2) bMsgIndex1: 15 bytes; then
		 * bMsgIndex2 (bNumberMessage 2, 3, FF), bMsgIndex3 (3, FF),
		 * bTeoPrologue(3) (section 6.1.11.7) */
		size_t extra;

		if (n < 15) {
			fail(ci, msg, ERR_BAD_LENGTH);
			return;
		}
		off_old = d[5];
		off_new = d[6];
		maxlen = d[7];
		minlen = d[8];
		confirm = d[9] & 0x01;
		old_entry = d[9] & 0x02;
		evc = d[10];
		nmsg = d[11];
		if (gemalto || nmsg >= 3)
			extra = 2;
		else
			extra = nmsg == 2 ? 1 : 0;
		hdr = 15 + extra + 3;
		if (n < hdr + 5) {
			fail(ci, msg, ERR_BAD_LENGTH);
			return;
		}
		memcpy(teo, d + hdr - 3, 3);
		if (gemalto && evc != 0x02) {
			fail(ci, msg, OFF_DATA + 10);
			return;
		}
	}
	sim_stats.last_secure_len = hdr < sizeof(sim_stats.last_secure) ?
				    hdr : sizeof(sim_stats.last_secure);
	memcpy(sim_stats.last_secure, d, sim_stats.last_secure_len);
	alen = n - hdr;
	if (alen > sizeof(apdu) - 1 || alen < 5) {
		fail(ci, msg, ERR_BAD_LENGTH);
		return;
	}
	memcpy(apdu, d + hdr, alen);
	/* the user at the keypad */
	if (pinpad.mode == PINPAD_CANCEL) {
		sim_stats.pin_cancelled++;
		pinpad.mode = PINPAD_NONE;
		fail(ci, msg, ERR_PIN_CANCELLED);
		return;
	}
	if (pinpad.mode != PINPAD_DIGITS) {
		/* nothing typed within bTimeOut */
		sim_stats.pin_timeout++;
		fail(ci, msg, ERR_PIN_TIMEOUT);
		return;
	}
	pinpad.mode = PINPAD_NONE;
	if (modify) {
		typed(p1, sizeof(p1), old_entry ? pinpad.pin : "", maxlen);
		typed(p2, sizeof(p2), pinpad.newpin, maxlen);
	} else {
		typed(p1, sizeof(p1), pinpad.pin, maxlen);
	}
	if ((!modify || old_entry) && strlen(p1) < minlen) {
		reader_sw(ci, msg, 0x03);
		return;
	}
	if (modify && strlen(p2) < minlen) {
		reader_sw(ci, msg, 0x03);
		return;
	}
	if (modify && confirm) {
		char p3[17];

		typed(p3, sizeof(p3), pinpad.confirm, maxlen);
		if (strcmp(p2, p3)) {
			reader_sw(ci, msg, 0x02);
			return;
		}
	}
	dl = alen - 5;
	if ((p1[0] && pin_format(apdu + 5, sizeof(apdu) - 6, &dl, p1, fmt, blk, lenfmt,
				 modify ? off_old : 0) < 0) ||
	    (modify && pin_format(apdu + 5, sizeof(apdu) - 6, &dl, p2, fmt, blk,
				  lenfmt, off_new) < 0)) {
		fail(ci, msg, ERR_BAD_LENGTH);
		return;
	}
	apdu[4] = (uint8_t)dl;
	alen = 5 + dl;
	ccid_in_secure = true;
	if ((ci->desc->ccid.dwFeatures & CCID_LEVEL_MASK) <= CCID_LEVEL_TPDU &&
	    s->protocol == 1) {
		/* TPDU T=1: the reader frames the block with bTeoPrologue */
		uint8_t lrc = 0;

		block[0] = teo[0];
		block[1] = teo[1];
		block[2] = (uint8_t)alen;
		memcpy(block + 3, apdu, alen);
		for (size_t i = 0; i < 3 + alen; i++)
			lrc ^= block[i];
		block[3 + alen] = lrc;
		ccid_xfr_block(ci, s, msg, block, 4 + alen);
	} else {
		/* the command as one APDU/TPDU (XfrBlock's wLevelParameter 0) */
		uint8_t hdr10[10];

		memcpy(hdr10, msg, 10);
		hdr10[8] = hdr10[9] = 0;
		ccid_xfr_block(ci, s, hdr10, apdu, alen);
	}
	ccid_in_secure = false;
}
