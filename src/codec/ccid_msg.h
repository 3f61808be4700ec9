/*
 * openccid - CCID bulk and interrupt messages (CCID rev 1.1 section 6).
 *
 * Pure codec. Commands (PC_to_RDR_*) are encoded into a caller buffer;
 * replies (RDR_to_PC_*) are decoded from the received bytes with dwLength
 * checked against what actually arrived.
 */
#ifndef OPENCCID_CCID_MSG_H
#define OPENCCID_CCID_MSG_H

#include <stddef.h>
#include <stdint.h>

#define CCID_HDR_LEN 10

/* bMessageType values, CCID rev 1.1 sections 6.1, 6.2, 6.3 */
enum ccid_msg_type {
	PC_TO_RDR_SETPARAMETERS = 0x61,
	PC_TO_RDR_ICCPOWERON = 0x62,
	PC_TO_RDR_ICCPOWEROFF = 0x63,
	PC_TO_RDR_GETSLOTSTATUS = 0x65,
	PC_TO_RDR_SECURE = 0x69,
	PC_TO_RDR_T0APDU = 0x6A,
	PC_TO_RDR_ESCAPE = 0x6B,
	PC_TO_RDR_GETPARAMETERS = 0x6C,
	PC_TO_RDR_RESETPARAMETERS = 0x6D,
	PC_TO_RDR_ICCCLOCK = 0x6E,
	PC_TO_RDR_XFRBLOCK = 0x6F,
	PC_TO_RDR_MECHANICAL = 0x71,
	PC_TO_RDR_ABORT = 0x72,
	PC_TO_RDR_SETDATARATEANDCLOCKFREQUENCY = 0x73,

	RDR_TO_PC_DATABLOCK = 0x80,
	RDR_TO_PC_SLOTSTATUS = 0x81,
	RDR_TO_PC_PARAMETERS = 0x82,
	RDR_TO_PC_ESCAPE = 0x83,
	RDR_TO_PC_DATARATEANDCLOCKFREQUENCY = 0x84,

	RDR_TO_PC_NOTIFYSLOTCHANGE = 0x50,
	RDR_TO_PC_HARDWAREERROR = 0x51,
};

/* bStatus, CCID rev 1.1 section 6.2.6 */
#define CCID_ICC_STATUS(b) ((uint8_t)((b)&0x03u))
#define CCID_CMD_STATUS(b) ((uint8_t)(((b) >> 6) & 0x03u))
#define CCID_ICC_ACTIVE    0
#define CCID_ICC_INACTIVE  1
#define CCID_ICC_ABSENT    2
#define CCID_CMD_OK        0
#define CCID_CMD_FAILED    1
#define CCID_CMD_TIME_EXT  2

/* bError values when bmCommandStatus = failed (section 6.2.6) */
#define CCID_ERR_CMD_ABORTED                0xFF
#define CCID_ERR_ICC_MUTE                   0xFE
#define CCID_ERR_XFR_PARITY_ERROR           0xFD
#define CCID_ERR_XFR_OVERRUN                0xFC
#define CCID_ERR_HW_ERROR                   0xFB
#define CCID_ERR_BAD_ATR_TS                 0xF8
#define CCID_ERR_BAD_ATR_TCK                0xF7
#define CCID_ERR_ICC_PROTOCOL_NOT_SUPPORTED 0xF6
#define CCID_ERR_ICC_CLASS_NOT_SUPPORTED    0xF5
#define CCID_ERR_PROCEDURE_BYTE_CONFLICT    0xF4
#define CCID_ERR_DEACTIVATED_PROTOCOL       0xF3
#define CCID_ERR_BUSY_WITH_AUTO_SEQUENCE    0xF2
#define CCID_ERR_PIN_TIMEOUT                0xF0
#define CCID_ERR_PIN_CANCELLED              0xEF
#define CCID_ERR_CMD_SLOT_BUSY              0xE0
#define CCID_ERR_CMD_NOT_SUPPORTED          0x00

/*
 * A command. The three message-specific bytes (offsets 7..9) are given
 * raw in p[]: their meaning depends on the type (bPowerSelect, bBWI +
 * wLevelParameter, bProtocolNum...). Helpers below fill them.
 */
struct ccid_cmd {
	uint8_t type;
	uint8_t slot;
	uint8_t seq;
	uint8_t p[3];
	const uint8_t *data;
	size_t data_len;
};

/*
 * Write header + data into out; OC_ENOSPC if cap is too small, OC_EINVAL
 * for a type that is not PC_to_RDR. The helpers below keep the data
 * pointer: it must stay valid until the command is encoded.
 */
int ccid_msg_encode(
    const struct ccid_cmd *cmd, uint8_t *out, size_t cap, size_t *out_len);

void ccid_cmd_power_on(
    struct ccid_cmd *c, uint8_t slot, uint8_t seq, uint8_t bPowerSelect);
void ccid_cmd_simple(
    struct ccid_cmd *c, uint8_t type, uint8_t slot, uint8_t seq);
void ccid_cmd_xfr_block(struct ccid_cmd *c, uint8_t slot, uint8_t seq,
    uint8_t bBWI, uint16_t wLevelParameter, const uint8_t *data, size_t len);
void ccid_cmd_set_parameters(struct ccid_cmd *c, uint8_t slot, uint8_t seq,
    uint8_t bProtocolNum, const uint8_t *data, size_t len);
void ccid_cmd_escape(struct ccid_cmd *c, uint8_t slot, uint8_t seq,
    const uint8_t *data, size_t len);
void ccid_cmd_secure(struct ccid_cmd *c, uint8_t slot, uint8_t seq,
    uint8_t bBWI, uint16_t wLevelParameter, const uint8_t *data, size_t len);
void ccid_cmd_abort(struct ccid_cmd *c, uint8_t slot, uint8_t seq);
void ccid_cmd_set_rate_clock(
    struct ccid_cmd *c, uint8_t slot, uint8_t seq, const uint8_t data[8]);

/*
 * A decoded bulk-IN reply. data points into the decoded buffer. data_len
 * is dwLength, except for an RDR_to_PC_Parameters whose dwLength is below
 * the bytes that follow it: then data_len is what followed.
 */
struct ccid_reply {
	uint8_t type;
	uint32_t dwLength;
	uint8_t slot;
	uint8_t seq;
	uint8_t bStatus;
	uint8_t bError;
	uint8_t specific; /* bChainParameter / bClockStatus / bProtocolNum */
	const uint8_t *data;
	size_t data_len;
};

/*
 * Decode a bulk-IN message. Checks in this order: len < 10 (OC_ETRUNC),
 * an unknown RDR_to_PC type (OC_EPROTO), dwLength > max_len, the reader's
 * dwMaxCCIDMessageLength - 10 (OC_ERANGE), dwLength > len - 10 (OC_ETRUNC:
 * the header is complete but the data is not, caller may read more),
 * dwLength < len - 10 (OC_EPROTO, trailing bytes). Per-type lengths (e.g.
 * SlotStatus dwLength 0) are left to the caller.
 */
int ccid_msg_decode_reply(
    const uint8_t *buf, size_t len, size_t max_len, struct ccid_reply *out);

/* Interrupt-IN messages (section 6.3). */
#define CCID_MAX_SLOTS_INTR 16

struct ccid_intr {
	uint8_t type;
	/* NotifySlotChange: 2 bits per slot (present, changed), slot 0 first */
	uint8_t slot_bits[(CCID_MAX_SLOTS_INTR * 2 + 7) / 8];
	unsigned nslots; /* slots covered by the message */
	/* HardwareError */
	uint8_t slot;
	uint8_t seq;
	uint8_t hw_error_code;
};
/*
 * max_slots is bMaxSlotIndex + 1 (1..16, else OC_EINVAL). NotifySlotChange
 * must cover max_slots (else OC_ETRUNC); bytes past that are padding and
 * bits of slots >= max_slots are cleared; nslots = max_slots. HardwareError
 * must be exactly 4 bytes (OC_ETRUNC / OC_EPROTO). Other types: OC_EPROTO.
 */
int ccid_msg_decode_intr(
    const uint8_t *buf, size_t len, unsigned max_slots, struct ccid_intr *out);

const char *ccid_msg_type_name(uint8_t type);
const char *ccid_error_name(uint8_t bError);
const char *ccid_icc_status_name(uint8_t bStatus);

#endif
