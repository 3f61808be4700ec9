/*
 * openccid - CCID bulk and interrupt messages (CCID rev 1.1 section 6).
 */
#include "config.h"

#include "codec/ccid_msg.h"

#include <stdbool.h>

#include "base/bytes.h"
#include "base/err.h"

_Static_assert(CCID_HDR_LEN == 10, "CCID rev 1.1 section 6: 10-byte header");

static bool
is_pc_to_rdr(uint8_t type)
{
	switch (type) {
	case PC_TO_RDR_SETPARAMETERS:
	case PC_TO_RDR_ICCPOWERON:
	case PC_TO_RDR_ICCPOWEROFF:
	case PC_TO_RDR_GETSLOTSTATUS:
	case PC_TO_RDR_SECURE:
	case PC_TO_RDR_T0APDU:
	case PC_TO_RDR_ESCAPE:
	case PC_TO_RDR_GETPARAMETERS:
	case PC_TO_RDR_RESETPARAMETERS:
	case PC_TO_RDR_ICCCLOCK:
	case PC_TO_RDR_XFRBLOCK:
	case PC_TO_RDR_MECHANICAL:
	case PC_TO_RDR_ABORT:
	case PC_TO_RDR_SETDATARATEANDCLOCKFREQUENCY:
		return true;
	default:
		return false;
	}
}

static bool
is_rdr_to_pc_bulk(uint8_t type)
{
	switch (type) {
	case RDR_TO_PC_DATABLOCK:
	case RDR_TO_PC_SLOTSTATUS:
	case RDR_TO_PC_PARAMETERS:
	case RDR_TO_PC_ESCAPE:
	case RDR_TO_PC_DATARATEANDCLOCKFREQUENCY:
		return true;
	default:
		return false;
	}
}

int
ccid_msg_encode(
    const struct ccid_cmd *cmd, uint8_t *out, size_t cap, size_t *out_len)
{
	uint8_t hdr[CCID_HDR_LEN];
	struct oc_wbuf w;
	int rc;

	if (cmd == NULL || out == NULL || out_len == NULL)
		return OC_EINVAL;
	if (!is_pc_to_rdr(cmd->type))
		return OC_EINVAL;
	if (cmd->data_len > 0 && cmd->data == NULL)
		return OC_EINVAL;
	/* dwLength is 32 bits on the wire (section 6.1). */
	if (cmd->data_len > UINT32_MAX)
		return OC_ERANGE;
	if (cap < CCID_HDR_LEN || cmd->data_len > cap - CCID_HDR_LEN)
		return OC_ENOSPC;

	/*
	 * The header is built in a local array and written in one piece:
	 * one bounds check instead of seven calls per message (make bench).
	 */
	hdr[0] = cmd->type;
	le32_store(&hdr[1], (uint32_t)cmd->data_len);
	hdr[5] = cmd->slot;
	hdr[6] = cmd->seq;
	hdr[7] = cmd->p[0];
	hdr[8] = cmd->p[1];
	hdr[9] = cmd->p[2];
	wbuf_init(&w, out, cap);
	if ((rc = wbuf_put_bytes(&w, hdr, sizeof(hdr))) != 0)
		return rc;
	if (cmd->data_len > 0 &&
	    (rc = wbuf_put_bytes(&w, cmd->data, cmd->data_len)) != 0)
		return rc;
	*out_len = w.len;
	return OC_OK;
}

static void
cmd_fill(struct ccid_cmd *c, uint8_t type, uint8_t slot, uint8_t seq,
    const uint8_t *data, size_t len)
{
	c->type = type;
	c->slot = slot;
	c->seq = seq;
	c->p[0] = 0;
	c->p[1] = 0;
	c->p[2] = 0;
	c->data = len > 0 ? data : NULL;
	c->data_len = len;
}

/* bBWI followed by wLevelParameter little-endian (sections 6.1.4, 6.1.11) */
static void
cmd_set_bwi_level(struct ccid_cmd *c, uint8_t bBWI, uint16_t wLevelParameter)
{
	c->p[0] = bBWI;
	c->p[1] = (uint8_t)(wLevelParameter & 0xFFu);
	c->p[2] = (uint8_t)(wLevelParameter >> 8);
}

void
ccid_cmd_power_on(
    struct ccid_cmd *c, uint8_t slot, uint8_t seq, uint8_t bPowerSelect)
{
	cmd_fill(c, PC_TO_RDR_ICCPOWERON, slot, seq, NULL, 0);
	c->p[0] = bPowerSelect;
}

void
ccid_cmd_simple(struct ccid_cmd *c, uint8_t type, uint8_t slot, uint8_t seq)
{
	cmd_fill(c, type, slot, seq, NULL, 0);
}

void
ccid_cmd_xfr_block(struct ccid_cmd *c, uint8_t slot, uint8_t seq, uint8_t bBWI,
    uint16_t wLevelParameter, const uint8_t *data, size_t len)
{
	cmd_fill(c, PC_TO_RDR_XFRBLOCK, slot, seq, data, len);
	cmd_set_bwi_level(c, bBWI, wLevelParameter);
}

void
ccid_cmd_set_parameters(struct ccid_cmd *c, uint8_t slot, uint8_t seq,
    uint8_t bProtocolNum, const uint8_t *data, size_t len)
{
	cmd_fill(c, PC_TO_RDR_SETPARAMETERS, slot, seq, data, len);
	c->p[0] = bProtocolNum;
}

void
ccid_cmd_escape(struct ccid_cmd *c, uint8_t slot, uint8_t seq,
    const uint8_t *data, size_t len)
{
	cmd_fill(c, PC_TO_RDR_ESCAPE, slot, seq, data, len);
}

void
ccid_cmd_secure(struct ccid_cmd *c, uint8_t slot, uint8_t seq, uint8_t bBWI,
    uint16_t wLevelParameter, const uint8_t *data, size_t len)
{
	cmd_fill(c, PC_TO_RDR_SECURE, slot, seq, data, len);
	cmd_set_bwi_level(c, bBWI, wLevelParameter);
}

void
ccid_cmd_abort(struct ccid_cmd *c, uint8_t slot, uint8_t seq)
{
	cmd_fill(c, PC_TO_RDR_ABORT, slot, seq, NULL, 0);
}

void
ccid_cmd_set_rate_clock(
    struct ccid_cmd *c, uint8_t slot, uint8_t seq, const uint8_t data[8])
{
	/* dwClockFrequency + dwDataRate, section 6.1.14 */
	cmd_fill(c, PC_TO_RDR_SETDATARATEANDCLOCKFREQUENCY, slot, seq, data, 8);
}

int
ccid_msg_decode_reply(
    const uint8_t *buf, size_t len, size_t max_len, struct ccid_reply *out)
{
	struct ccid_reply r;
	const uint8_t *hdr;
	struct oc_cur c;
	size_t avail;
	int rc;

	if (buf == NULL || out == NULL)
		return OC_EINVAL;
	cur_init(&c, buf, len);
	/*
	 * The whole header is borrowed with one bounds check (OC_ETRUNC
	 * if short) and its fields read from it: seven cursor calls per
	 * reply cost more than the rest of the decode (make bench).
	 */
	if ((rc = cur_get_view(&c, &hdr, CCID_HDR_LEN)) != 0)
		return rc;
	r.type = hdr[0];
	r.dwLength = le32_load(&hdr[1]);
	r.slot = hdr[5];
	r.seq = hdr[6];
	r.bStatus = hdr[7];
	r.bError = hdr[8];
	r.specific = hdr[9];
	if (!is_rdr_to_pc_bulk(r.type))
		return OC_EPROTO;
	if (r.dwLength > max_len)
		return OC_ERANGE;
	avail = cur_remaining(&c);
	if (r.dwLength > avail)
		return OC_ETRUNC;
	/*
	 * Bytes past dwLength: the reader framed the message wrongly. Not
	 * so for RDR_to_PC_Parameters, whose protocol data structure has the
	 * size bProtocolNum gives it (6.2.3): QEMU 7.2's usb-ccid sends it
	 * with dwLength 0 (17 bytes for T=1). Its length field cannot change
	 * what a client gets, so the bytes that came are the structure; the
	 * caller sees dwLength != data_len and may log it.
	 */
	if (r.dwLength < avail && r.type != RDR_TO_PC_PARAMETERS)
		return OC_EPROTO;
	if (avail > max_len)
		return OC_ERANGE;
	r.data_len = avail;
	r.data = NULL;
	if (r.data_len > 0 && (rc = cur_get_view(&c, &r.data, r.data_len)) != 0)
		return rc;
	*out = r;
	return OC_OK;
}

static int
decode_slot_change(struct oc_cur *c, unsigned max_slots, struct ccid_intr *r)
{
	size_t need = (max_slots * 2u + 7u) / 8u;
	unsigned last_bits;
	int rc;

	/* bmSlotICCState must cover every slot of the reader (6.3.1). */
	if (cur_remaining(c) < need)
		return OC_ETRUNC;
	if ((rc = cur_get_bytes(c, r->slot_bits, need)) != 0)
		return rc;
	/* Bits for slots the reader does not have are ignored. */
	last_bits = (max_slots * 2u) % 8u;
	if (last_bits != 0)
		r->slot_bits[need - 1] &= (uint8_t)((1u << last_bits) - 1u);
	r->nslots = max_slots;
	return OC_OK;
}

int
ccid_msg_decode_intr(
    const uint8_t *buf, size_t len, unsigned max_slots, struct ccid_intr *out)
{
	struct ccid_intr r = {0};
	struct oc_cur c;
	int rc;

	if (buf == NULL || out == NULL || max_slots == 0 ||
	    max_slots > CCID_MAX_SLOTS_INTR)
		return OC_EINVAL;
	cur_init(&c, buf, len);
	if ((rc = cur_get_u8(&c, &r.type)) != 0)
		return rc;
	switch (r.type) {
	case RDR_TO_PC_NOTIFYSLOTCHANGE:
		if ((rc = decode_slot_change(&c, max_slots, &r)) != 0)
			return rc;
		break;
	case RDR_TO_PC_HARDWAREERROR:
		/* exactly bMessageType bSlot bSeq bHardwareErrorCode (6.3.2) */
		if ((rc = cur_get_u8(&c, &r.slot)) != 0 ||
		    (rc = cur_get_u8(&c, &r.seq)) != 0 ||
		    (rc = cur_get_u8(&c, &r.hw_error_code)) != 0)
			return rc;
		if (cur_remaining(&c) != 0)
			return OC_EPROTO;
		break;
	default:
		return OC_EPROTO;
	}
	*out = r;
	return OC_OK;
}

struct name_entry {
	uint8_t value;
	const char *name;
};

static const struct name_entry msg_type_names[] = {
    {PC_TO_RDR_SETPARAMETERS, "PC_to_RDR_SetParameters"},
    {PC_TO_RDR_ICCPOWERON, "PC_to_RDR_IccPowerOn"},
    {PC_TO_RDR_ICCPOWEROFF, "PC_to_RDR_IccPowerOff"},
    {PC_TO_RDR_GETSLOTSTATUS, "PC_to_RDR_GetSlotStatus"},
    {PC_TO_RDR_SECURE, "PC_to_RDR_Secure"},
    {PC_TO_RDR_T0APDU, "PC_to_RDR_T0APDU"},
    {PC_TO_RDR_ESCAPE, "PC_to_RDR_Escape"},
    {PC_TO_RDR_GETPARAMETERS, "PC_to_RDR_GetParameters"},
    {PC_TO_RDR_RESETPARAMETERS, "PC_to_RDR_ResetParameters"},
    {PC_TO_RDR_ICCCLOCK, "PC_to_RDR_IccClock"},
    {PC_TO_RDR_XFRBLOCK, "PC_to_RDR_XfrBlock"},
    {PC_TO_RDR_MECHANICAL, "PC_to_RDR_Mechanical"},
    {PC_TO_RDR_ABORT, "PC_to_RDR_Abort"},
    {PC_TO_RDR_SETDATARATEANDCLOCKFREQUENCY,
        "PC_to_RDR_SetDataRateAndClockFrequency"},
    {RDR_TO_PC_DATABLOCK, "RDR_to_PC_DataBlock"},
    {RDR_TO_PC_SLOTSTATUS, "RDR_to_PC_SlotStatus"},
    {RDR_TO_PC_PARAMETERS, "RDR_to_PC_Parameters"},
    {RDR_TO_PC_ESCAPE, "RDR_to_PC_Escape"},
    {RDR_TO_PC_DATARATEANDCLOCKFREQUENCY,
        "RDR_to_PC_DataRateAndClockFrequency"},
    {RDR_TO_PC_NOTIFYSLOTCHANGE, "RDR_to_PC_NotifySlotChange"},
    {RDR_TO_PC_HARDWAREERROR, "RDR_to_PC_HardwareError"},
};

/* Section 6.2.6, slot error register */
static const struct name_entry error_names[] = {
    {CCID_ERR_CMD_ABORTED, "CMD_ABORTED"},
    {CCID_ERR_ICC_MUTE, "ICC_MUTE"},
    {CCID_ERR_XFR_PARITY_ERROR, "XFR_PARITY_ERROR"},
    {CCID_ERR_XFR_OVERRUN, "XFR_OVERRUN"},
    {CCID_ERR_HW_ERROR, "HW_ERROR"},
    {CCID_ERR_BAD_ATR_TS, "BAD_ATR_TS"},
    {CCID_ERR_BAD_ATR_TCK, "BAD_ATR_TCK"},
    {CCID_ERR_ICC_PROTOCOL_NOT_SUPPORTED, "ICC_PROTOCOL_NOT_SUPPORTED"},
    {CCID_ERR_ICC_CLASS_NOT_SUPPORTED, "ICC_CLASS_NOT_SUPPORTED"},
    {CCID_ERR_PROCEDURE_BYTE_CONFLICT, "PROCEDURE_BYTE_CONFLICT"},
    {CCID_ERR_DEACTIVATED_PROTOCOL, "DEACTIVATED_PROTOCOL"},
    {CCID_ERR_BUSY_WITH_AUTO_SEQUENCE, "BUSY_WITH_AUTO_SEQUENCE"},
    {CCID_ERR_PIN_TIMEOUT, "PIN_TIMEOUT"},
    {CCID_ERR_PIN_CANCELLED, "PIN_CANCELLED"},
    {CCID_ERR_CMD_SLOT_BUSY, "CMD_SLOT_BUSY"},
    {CCID_ERR_CMD_NOT_SUPPORTED, "CMD_NOT_SUPPORTED"},
};

static const char *
name_lookup(const struct name_entry *tab, size_t n, uint8_t value)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (tab[i].value == value)
			return tab[i].name;
	return NULL;
}

const char *
ccid_msg_type_name(uint8_t type)
{
	const char *s = name_lookup(msg_type_names,
	    sizeof(msg_type_names) / sizeof(msg_type_names[0]), type);

	return s != NULL ? s : "unknown message type";
}

const char *
ccid_error_name(uint8_t bError)
{
	const char *s = name_lookup(
	    error_names, sizeof(error_names) / sizeof(error_names[0]), bError);

	if (s != NULL)
		return s;
	/* 6.2.6: 1..127 is the offset of the rejected command field */
	if (bError >= 0x01 && bError <= 0x7F)
		return "bad parameter at offset bError";
	/* 6.2.6: 0x81..0xC0 are user defined */
	if (bError >= 0x81 && bError <= 0xC0)
		return "user defined";
	return "RFU";
}

const char *
ccid_icc_status_name(uint8_t bStatus)
{
	switch (CCID_ICC_STATUS(bStatus)) {
	case CCID_ICC_ACTIVE:
		return "ICC present and active";
	case CCID_ICC_INACTIVE:
		return "ICC present and inactive";
	case CCID_ICC_ABSENT:
		return "no ICC present";
	default:
		return "RFU";
	}
}
