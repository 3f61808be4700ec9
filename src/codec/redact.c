/*
 * openccid - hide secrets before a CCID message is logged.
 */
#include "config.h"

#include "codec/redact.h"

#include <stdbool.h>
#include <string.h>

#include "base/bytes.h"
#include "codec/ccid_msg.h"
#include "base/err.h"

#define T1_PROLOGUE_LEN 3 /* NAD PCB LEN, ISO 7816-3 11.3.1 */
#define T1_MAX_INF      254

bool
redact_is_pin_ins(uint8_t ins)
{
	/* ISO 7816-4 7.5: VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER */
	return ins == 0x20 || ins == 0x21 || ins == 0x24 || ins == 0x2C;
}

/*
 * Find the command data field of an APDU held in apdu[0..n) (ISO 7816-4
 * 5.1): after the 1-byte short Lc, or after the 3-byte extended Lc
 * (00 hi lo). Le, if any, is hidden too: hiding a length costs nothing,
 * missing a PIN byte would. Offsets are relative to apdu.
 */
static bool
apdu_pin_field(const uint8_t *apdu, size_t n, size_t *off, size_t *dlen)
{
	struct oc_cur c;
	uint8_t ins, lc0;
	size_t start;

	cur_init(&c, apdu, n);
	if (cur_skip(&c, 1) != 0 || cur_get_u8(&c, &ins) != 0 ||
	    cur_skip(&c, 2) != 0 || cur_get_u8(&c, &lc0) != 0)
		return false;
	if (!redact_is_pin_ins(ins))
		return false;
	/* Case 1 or case 2S: no data field */
	if (cur_remaining(&c) == 0)
		return false;
	start = (lc0 == 0 && cur_remaining(&c) > 2) ? 7 : 5;
	*off = start;
	*dlen = n - start;
	return true;
}

/*
 * A T=1 I-block (ISO 7816-3 11.3): NAD, PCB with b8 = 0, LEN <= 254,
 * LEN information bytes, then a 1-byte LRC or a 2-byte CRC.
 */
static bool
t1_iblock_inf(const uint8_t *blk, size_t n, size_t *inf_len)
{
	struct oc_cur c;
	uint8_t pcb, ilen;
	size_t edc;

	cur_init(&c, blk, n);
	if (cur_skip(&c, 1) != 0 || cur_get_u8(&c, &pcb) != 0 ||
	    cur_get_u8(&c, &ilen) != 0)
		return false;
	if ((pcb & 0x80) != 0 || ilen > T1_MAX_INF)
		return false;
	if (cur_remaining(&c) < ilen)
		return false;
	edc = cur_remaining(&c) - ilen;
	if (edc != 1 && edc != 2)
		return false;
	*inf_len = ilen;
	return true;
}

static bool
xfr_pin_range(const uint8_t *data, size_t n, enum ccid_level level, size_t *off,
    size_t *dlen)
{
	size_t inf_len, o, l;

	/* Character and TPDU levels may carry T=1 blocks. */
	if (level == CCID_XCHG_TPDU || level == CCID_XCHG_CHARACTER) {
		/* The EDC is computed over the PIN: hide it as well. */
		if (t1_iblock_inf(data, n, &inf_len) &&
		    apdu_pin_field(data + T1_PROLOGUE_LEN, inf_len, &o, &l)) {
			*off = T1_PROLOGUE_LEN + o;
			*dlen = n - *off;
			return true;
		}
	}
	/* APDU levels, and T=0 TPDUs (header then data, ISO 7816-3 10.3) */
	return apdu_pin_field(data, n, off, dlen);
}

/* The range of msg that may hold a secret; len 0 when none. */
static int
secret_range(const uint8_t *msg, size_t len, enum ccid_level level,
    struct redact_range *r)
{
	struct oc_cur c;
	const uint8_t *data;
	size_t n, off, dlen;
	uint8_t type;
	int rc;

	cur_init(&c, msg, len);
	/* Too short for a header: nothing in it can be a payload. */
	if (cur_get_u8(&c, &type) != 0 || cur_skip(&c, CCID_HDR_LEN - 1) != 0)
		return OC_OK;
	n = cur_remaining(&c);
	if ((rc = cur_get_view(&c, &data, n)) != 0)
		return rc;
	switch (type) {
	case PC_TO_RDR_SECURE:
	case PC_TO_RDR_ESCAPE:
		r->off = CCID_HDR_LEN;
		r->len = n;
		break;
	case PC_TO_RDR_XFRBLOCK:
		if (xfr_pin_range(data, n, level, &off, &dlen)) {
			r->off = CCID_HDR_LEN + off;
			r->len = dlen;
		}
		break;
	default:
		break;
	}
	return OC_OK;
}

void
redact_apdu(const uint8_t *apdu, size_t len, struct redact_range *range)
{
	size_t off, dlen;

	range->off = 0;
	range->len = 0;
	if (apdu != NULL && apdu_pin_field(apdu, len, &off, &dlen)) {
		range->off = off;
		range->len = dlen;
	}
}

int
redact_ccid_msg(const uint8_t *msg, size_t len, enum ccid_level level,
    uint8_t *out, size_t cap, struct redact_range *range)
{
	struct redact_range r = {0, 0};
	struct oc_cur c;
	int rc;

	if (msg == NULL || out == NULL)
		return OC_EINVAL;
	if (cap < len)
		return OC_ENOSPC;
	if ((rc = secret_range(msg, len, level, &r)) != 0)
		return rc;
	cur_init(&c, msg, len);
	if ((rc = cur_get_bytes(&c, out, len)) != 0)
		return rc;
	if (r.len > 0)
		memset(out + r.off, 0, r.len);
	else
		r.off = 0;
	if (range != NULL)
		*range = r;
	return OC_OK;
}
