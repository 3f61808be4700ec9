/*
 * openccid - ICCD version B (USB ICCD rev 1.0, bInterfaceProtocol 2):
 * ICC_POWER_ON and XFR_BLOCK out, the answer read by DATA_BLOCK (after
 * its time requests), SLOT_STATUS; chain pieces checked for their order.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "ccid/iccd_b.h"

#include <stdbool.h>

#include "ccid/iccd_wire.h"
#include "codec/ccid_msg.h"
#include "codec/iccd_msg.h"
#include "base/err.h"
#include "base/log.h"

#define ICCD_WVALUE_POWER_ON 1 /* version B ICC_POWER_ON (reference) */

/* Version B: one DATA_BLOCK answer after the time requests. */
static int
b_data_block(struct ccid_io *io, unsigned timeout_ms, struct iccd_answer *a)
{
	struct iccd *d = io->iccd;
	struct iccd_grant g = {0, 0};
	uint8_t *ans = d->rx + CCID_HDR_LEN - 1;
	size_t got;
	int rc;

	for (;;) {
		rc = iccd_control(io, ICCD_REQTYPE_IN, ICCD_REQ_DATA_BLOCK, 0,
		    ans, d->max_xfer, &got, timeout_ms);
		if (rc != OC_OK)
			return rc;
		rc = iccd_decode_data_block(ans, got, a);
		if (rc == OC_ERANGE) {
			OC_LOG_CRIT("%s: DataBlock with unknown bResponseType "
				    "0x%02X", d->name, a->type);
			return OC_EPROTO;
		}
		if (rc != OC_OK) {
			OC_LOG_CRIT("%s: malformed DataBlock (%zu bytes): %s",
			    d->name, got, oc_strerror(rc));
			return OC_EPROTO;
		}
		if (a->type != ICCD_RESP_POLL)
			return OC_OK;
		OC_LOG_COMM("%s: time request, %u ms", d->name, a->delay_ms);
		if ((rc = iccd_grant(io, &g, a->delay_ms)) != OC_OK)
			return rc;
	}
}

/*
 * CCID rev 1.1 section 6.1.4 / 6.2.1, which ICCD-B keeps: what may
 * answer a command piece of the given level. At character level the
 * level is the number of characters expected: one plain answer.
 */
static bool
b_chain_ok(const struct ccid_io *io, uint8_t level, uint8_t type)
{
	if (io->level == CCID_XCHG_CHARACTER)
		return type == ICCD_RESP_DATA;
	switch (level) {
	case 0x00: /* whole command */
	case 0x02: /* its last piece */
		return type == ICCD_RESP_DATA || type == ICCD_RESP_CHAIN_BEGIN;
	case 0x01: /* first piece, more to come */
	case 0x03:
		return type == ICCD_RESP_MORE_CMD;
	case ICCD_LEVEL_MORE_ANSWER:
		return type == ICCD_RESP_CHAIN_END ||
		    type == ICCD_RESP_CHAIN_CONTINUE;
	default:
		return false;
	}
}

/*
 * A DATA_BLOCK answer as the reply to c: data (checked against the chain
 * order), or a failed status. A status that reports no failure carries
 * no data: never a success without an answer.
 */
static int
b_answer(struct ccid_io *io, const struct ccid_cmd *c, uint8_t level,
    const struct iccd_answer *a, struct ccid_reply *r)
{
	struct iccd *d = io->iccd;

	if (a->type == ICCD_RESP_STATUS) {
		if (CCID_CMD_STATUS(a->bStatus) != CCID_CMD_FAILED) {
			OC_LOG_CRIT("%s: status answer 0x%02X without an "
				    "error to %s", d->name, a->bStatus,
			    ccid_msg_type_name(c->type));
			return OC_EPROTO;
		}
		iccd_reply(io, c, RDR_TO_PC_DATABLOCK, a->bStatus, a->bError,
		    0, 0, r);
		return OC_OK;
	}
	if (!b_chain_ok(io, level, a->type)) {
		OC_LOG_CRIT("%s: chain out of order: bResponseType 0x%02X "
			    "(%s) after level 0x%02X", d->name, a->type,
		    iccd_resp_name(a->type), level);
		return OC_EPROTO;
	}
	iccd_reply(io, c, RDR_TO_PC_DATABLOCK, CCID_ICC_ACTIVE, 0, a->type,
	    a->data_len, r);
	return OC_OK;
}

static int
b_slot_status(struct ccid_io *io, const struct ccid_cmd *c,
    unsigned timeout_ms, struct ccid_reply *r)
{
	struct iccd *d = io->iccd;
	uint8_t *ans = d->rx + CCID_HDR_LEN;
	uint8_t bStatus, bError;
	size_t got;
	int rc;

	rc = iccd_control(io, ICCD_REQTYPE_IN, ICCD_REQ_SLOT_STATUS, 0, ans,
	    3, &got, timeout_ms);
	if (rc != OC_OK)
		return rc;
	if (iccd_decode_slot_status(ans, got, &bStatus, &bError) != OC_OK) {
		OC_LOG_CRIT("%s: malformed SlotStatus (%zu bytes)", d->name,
		    got);
		return OC_EPROTO;
	}
	iccd_reply(io, c, RDR_TO_PC_SLOTSTATUS, bStatus, bError, 0, 0, r);
	return OC_OK;
}

static int
b_power_on(struct ccid_io *io, const struct ccid_cmd *c, unsigned timeout_ms,
    struct ccid_reply *r)
{
	struct iccd_answer a;
	int rc;

	rc = iccd_control(io, ICCD_REQTYPE_OUT, ICCD_REQ_POWER_ON,
	    ICCD_WVALUE_POWER_ON, NULL, 0, NULL, CCID_WRITE_TIMEOUT_MS);
	if (rc == OC_OK)
		rc = b_data_block(io, timeout_ms, &a);
	/* The ATR is one answer: a chain piece here is out of order. */
	return rc != OC_OK ? rc : b_answer(io, c, 0x00, &a, r);
}

static int
b_xfr_block(struct ccid_io *io, const struct ccid_cmd *c, unsigned timeout_ms,
    struct ccid_reply *r)
{
	/* CCID wLevelParameter (bytes 8, 9); ICCD-B's level is one byte. */
	uint16_t level = (uint16_t)(c->p[1] | c->p[2] << 8);
	struct iccd_answer a;
	int rc;

	if (level > 0xFF || c->data_len > io->iccd->max_xfer) {
		OC_LOG_CRIT("%s: XfrBlock level 0x%04X of %zu bytes cannot "
			    "be sent", io->iccd->name, level, c->data_len);
		return OC_EINVAL;
	}
	/* Section 6.1.4: a request for the rest carries no data. */
	rc = iccd_control(io, ICCD_REQTYPE_OUT, ICCD_REQ_XFR_BLOCK,
	    (uint16_t)(level << 8), (uint8_t *)(uintptr_t)c->data,
	    c->data_len, NULL, CCID_WRITE_TIMEOUT_MS);
	if (rc == OC_OK)
		rc = b_data_block(io, timeout_ms, &a);
	return rc != OC_OK ? rc : b_answer(io, c, (uint8_t)level, &a, r);
}

int
iccd_b_exchange(struct ccid_io *io, const struct ccid_cmd *c, unsigned timeout_ms,
    struct ccid_reply *r)
{
	int rc;

	switch (c->type) {
	case PC_TO_RDR_ICCPOWERON:
		return b_power_on(io, c, timeout_ms, r);
	case PC_TO_RDR_ICCPOWEROFF:
		rc = iccd_control(io, ICCD_REQTYPE_OUT, ICCD_REQ_POWER_OFF, 0,
		    NULL, 0, NULL, CCID_WRITE_TIMEOUT_MS);
		return rc != OC_OK ? rc : b_slot_status(io, c, timeout_ms, r);
	case PC_TO_RDR_GETSLOTSTATUS:
		return b_slot_status(io, c, timeout_ms, r);
	case PC_TO_RDR_XFRBLOCK:
		return b_xfr_block(io, c, timeout_ms, r);
	default:
		return OC_ENOTSUP;
	}
}

