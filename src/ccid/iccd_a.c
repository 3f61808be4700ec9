/*
 * openccid - ICCD version A (USB ICCD rev 1.0, bInterfaceProtocol 1):
 * the token runs T=0 at character level itself and tells the host
 * through GET_ICC_STATUS what it waits for. A command TPDU goes out as
 * its 5-byte header; "ready for data" then asks for the command's data
 * (case 3) or offers the answer's (case 2), "SW1 SW2 available" ends it.
 * The driver drives such a token at TPDU level (T=0), one TPDU per
 * XfrBlock.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "ccid/iccd_a.h"

#include <stdbool.h>
#include <string.h>

#include "ccid/iccd_wire.h"
#include "codec/ccid_msg.h"
#include "codec/iccd_msg.h"
#include "base/err.h"
#include "base/log.h"

#define ICCD_A_HDR 5     /* CLA INS P1 P2 P3 */
#define ICCD_A_BUSY_MS 10 /* between GET_ICC_STATUS while busy */

/* The status once the token is not busy (bounded by the grant). */
static int
a_status(struct ccid_io *io, unsigned timeout_ms, uint8_t *status)
{
	struct iccd *d = io->iccd;
	struct iccd_grant g = {0, 0};
	uint8_t ans[1]; /* not in rx: the answer data may be there */
	size_t got;
	int rc;

	for (;;) {
		rc = iccd_control(io, ICCD_REQTYPE_IN,
		    ICCD_REQ_GET_ICC_STATUS, 0, ans, sizeof(ans), &got,
		    timeout_ms);
		if (rc != OC_OK)
			return rc;
		if (iccd_decode_icc_status(ans, got, status) != OC_OK) {
			OC_LOG_CRIT("%s: malformed ICC status (%zu bytes)",
			    d->name, got);
			return OC_EPROTO;
		}
		if ((*status & ICCD_A_BUSY) == 0)
			return OC_OK;
		if ((rc = iccd_grant(io, &g, ICCD_A_BUSY_MS)) != OC_OK)
			return rc;
	}
}

static int
a_slot_status(struct ccid_io *io, const struct ccid_cmd *c,
    unsigned timeout_ms, struct ccid_reply *r)
{
	uint8_t status;
	int rc = a_status(io, timeout_ms, &status);

	if (rc != OC_OK)
		return rc;
	/* Mute: no ICC that answers; anything else is a present one. */
	iccd_reply(io, c, RDR_TO_PC_SLOTSTATUS,
	    (status & ICCD_A_MUTE) != 0 ? CCID_ICC_ABSENT : CCID_ICC_ACTIVE, 0,
	    0, 0, r);
	return OC_OK;
}

static int
a_power_on(struct ccid_io *io, const struct ccid_cmd *c, unsigned timeout_ms,
    struct ccid_reply *r)
{
	struct iccd *d = io->iccd;
	uint8_t status;
	size_t got;
	int rc;

	if ((rc = a_status(io, timeout_ms, &status)) != OC_OK)
		return rc;
	/* Version A: the ATR is the data stage of ICC_POWER_ON itself. */
	rc = iccd_control(io, ICCD_REQTYPE_IN, ICCD_REQ_POWER_ON, 0,
	    d->rx + CCID_HDR_LEN, d->max_xfer, &got, timeout_ms);
	if (rc != OC_OK)
		return rc;
	if (got == 0) {
		iccd_reply(io, c, RDR_TO_PC_DATABLOCK,
		    CCID_CMD_FAILED << 6 | CCID_ICC_ABSENT, CCID_ERR_ICC_MUTE,
		    0, 0, r);
		return OC_OK;
	}
	iccd_reply(io, c, RDR_TO_PC_DATABLOCK, CCID_ICC_ACTIVE, 0, 0, got, r);
	return OC_OK;
}

/* A DATA_BLOCK of exactly want bytes at dst. */
static int
a_read(struct ccid_io *io, uint8_t *dst, size_t want, unsigned timeout_ms,
    const char *what)
{
	size_t got;
	int rc = iccd_control(io, ICCD_REQTYPE_IN, ICCD_REQ_DATA_BLOCK, 0, dst,
	    want, &got, timeout_ms);

	if (rc == OC_OK && got != want) {
		OC_LOG_CRIT("%s: %s of %zu bytes, %zu expected", io->iccd->name,
		    what, got, want);
		return OC_EPROTO;
	}
	return rc;
}

/* After the header: the data stage "ready for data" asks for. */
static int
a_data_stage(struct ccid_io *io, const uint8_t *tx, size_t tx_len,
    size_t le, unsigned timeout_ms, size_t *n)
{
	uint8_t *out = io->iccd->rx + CCID_HDR_LEN;

	*n = 0;
	if (tx_len > 0)
		return iccd_control(io, ICCD_REQTYPE_OUT, ICCD_REQ_XFR_BLOCK, 0,
		    (uint8_t *)(uintptr_t)tx, tx_len, NULL,
		    CCID_WRITE_TIMEOUT_MS);
	*n = le;
	return a_read(io, out, le, timeout_ms, "answer data");
}

/* A mute token fails the command as a bulk reader would (bError). */
static void
a_mute(struct ccid_io *io, const struct ccid_cmd *c, struct ccid_reply *r)
{
	iccd_reply(io, c, RDR_TO_PC_DATABLOCK,
	    CCID_CMD_FAILED << 6 | CCID_ICC_ACTIVE, CCID_ERR_ICC_MUTE, 0, 0, r);
}

static int
a_xfr_block(struct ccid_io *io, const struct ccid_cmd *c, unsigned timeout_ms,
    struct ccid_reply *r)
{
	struct iccd *d = io->iccd;
	uint8_t hdr[ICCD_A_HDR] = {0, 0, 0, 0, 0}, status;
	size_t n = 0, body, le;
	int rc;

	/* One T=0 TPDU: a 4-byte header is case 1 (P3 = 0). */
	if (c->data_len < ICCD_A_HDR - 1 ||
	    c->data_len > d->max_xfer - 2 + ICCD_A_HDR ||
	    (c->p[1] | c->p[2]) != 0) {
		OC_LOG_CRIT("%s: a TPDU of %zu bytes cannot be sent", d->name,
		    c->data_len);
		return OC_EINVAL;
	}
	memcpy(hdr, c->data, c->data_len < ICCD_A_HDR ? ICCD_A_HDR - 1
						      : ICCD_A_HDR);
	body = c->data_len > ICCD_A_HDR ? c->data_len - ICCD_A_HDR : 0;
	/* ISO 7816-3 section 10.3.2: P3 0 in case 2 asks for 256 bytes. */
	le = body == 0 && c->data_len == ICCD_A_HDR && hdr[4] == 0 ? 256
								   : hdr[4];
	rc = iccd_control(io, ICCD_REQTYPE_OUT, ICCD_REQ_XFR_BLOCK, 0, hdr,
	    ICCD_A_HDR, NULL, CCID_WRITE_TIMEOUT_MS);
	if (rc == OC_OK)
		rc = a_status(io, timeout_ms, &status);
	if (rc == OC_OK && (status & ICCD_A_MUTE) != 0) {
		a_mute(io, c, r);
		return OC_OK;
	}
	if (rc == OC_OK && status == ICCD_A_DATA_READY) {
		rc = a_data_stage(io, c->data + ICCD_A_HDR, body,
		    body > 0 ? 0 : le, timeout_ms, &n);
		if (rc == OC_OK)
			rc = a_status(io, timeout_ms, &status);
	}
	if (rc != OC_OK)
		return rc;
	if ((status & ICCD_A_MUTE) != 0) {
		a_mute(io, c, r);
		return OC_OK;
	}
	if (status != ICCD_A_SW_READY) {
		OC_LOG_CRIT("%s: ICC status 0x%02X where SW1 SW2 were due",
		    d->name, status);
		return OC_EPROTO;
	}
	rc = a_read(io, d->rx + CCID_HDR_LEN + n, 2, timeout_ms, "SW1 SW2");
	if (rc != OC_OK)
		return rc;
	iccd_reply(io, c, RDR_TO_PC_DATABLOCK, CCID_ICC_ACTIVE, 0, 0, n + 2, r);
	return OC_OK;
}

int
iccd_a_exchange(struct ccid_io *io, const struct ccid_cmd *c,
    unsigned timeout_ms, struct ccid_reply *r)
{
	int rc;

	switch (c->type) {
	case PC_TO_RDR_ICCPOWERON:
		return a_power_on(io, c, timeout_ms, r);
	case PC_TO_RDR_ICCPOWEROFF:
		rc = iccd_control(io, ICCD_REQTYPE_OUT, ICCD_REQ_POWER_OFF, 0,
		    NULL, 0, NULL, CCID_WRITE_TIMEOUT_MS);
		if (rc == OC_OK)
			iccd_reply(io, c, RDR_TO_PC_SLOTSTATUS,
			    CCID_ICC_INACTIVE, 0, 0, 0, r);
		return rc;
	case PC_TO_RDR_GETSLOTSTATUS:
		return a_slot_status(io, c, timeout_ms, r);
	case PC_TO_RDR_XFRBLOCK:
		return a_xfr_block(io, c, timeout_ms, r);
	default:
		return OC_ENOTSUP;
	}
}
