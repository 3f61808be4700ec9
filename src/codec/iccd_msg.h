/*
 * openccid - USB ICCD (rev 1.0) answers on the control pipe.
 *
 * Pure codec. An ICCD token carries the CCID commands as class requests
 * on endpoint 0 instead of bulk messages: version B answers a DATA_BLOCK
 * request with a bResponseType byte and its data, a SLOT_STATUS request
 * with three bytes; version A answers GET_ICC_STATUS with one status
 * byte. Every length is checked against what arrived.
 */
#ifndef OPENCCID_ICCD_MSG_H
#define OPENCCID_ICCD_MSG_H

#include <stddef.h>
#include <stdint.h>

/* bInterfaceProtocol of the two ICCD versions. */
#define ICCD_VERSION_A 1
#define ICCD_VERSION_B 2

/* bmRequestType: class request to the interface, OUT or IN. */
#define ICCD_REQTYPE_OUT 0x21
#define ICCD_REQTYPE_IN 0xA1

/* bRequest of the ICCD class requests. */
#define ICCD_REQ_POWER_ON 0x62
#define ICCD_REQ_POWER_OFF 0x63
#define ICCD_REQ_XFR_BLOCK 0x65
#define ICCD_REQ_DATA_BLOCK 0x6F
#define ICCD_REQ_SLOT_STATUS 0x81    /* version B */
#define ICCD_REQ_GET_ICC_STATUS 0xA0 /* version A */

/* bResponseType of a version B DATA_BLOCK answer. */
#define ICCD_RESP_DATA 0x00        /* abData is the whole answer */
#define ICCD_RESP_CHAIN_BEGIN 0x01 /* first piece of a chained answer */
#define ICCD_RESP_CHAIN_END 0x02
#define ICCD_RESP_CHAIN_CONTINUE 0x03
#define ICCD_RESP_MORE_CMD 0x10 /* send the next piece of the command */
#define ICCD_RESP_STATUS 0x40   /* bStatus, bError: no data */
#define ICCD_RESP_POLL 0x80     /* time request: ask again after a delay */

/* XFR_BLOCK level (version B, wValue's high byte): send the rest. */
#define ICCD_LEVEL_MORE_ANSWER 0x10

/* Version A GET_ICC_STATUS bits. */
#define ICCD_A_MUTE 0x80       /* no ICC, or it does not answer */
#define ICCD_A_BUSY 0x40       /* ask again */
#define ICCD_A_SW_READY 0x20   /* SW1 SW2 can be read by DATA_BLOCK */
#define ICCD_A_DATA_READY 0x10 /* ready for data: send it, or read it */

/* A time request's delay: 10 ms units; 0 lets the host choose. */
#define ICCD_POLL_UNIT_MS 10u

struct iccd_answer {
	uint8_t type;      /* bResponseType */
	uint8_t bStatus;   /* ICCD_RESP_STATUS */
	uint8_t bError;    /* ICCD_RESP_STATUS */
	unsigned delay_ms; /* ICCD_RESP_POLL: never 0 */
	const uint8_t *data; /* the chain and data types: into buf */
	size_t data_len;
};

/*
 * A DATA_BLOCK answer of len bytes. OC_ETRUNC: empty, or a status or
 * time request shorter than 3 bytes; OC_ERANGE: an unknown bResponseType
 * (out->type is still set); OC_EPROTO: a status or time request longer
 * than 3.
 */
int iccd_decode_data_block(const uint8_t *buf, size_t len,
    struct iccd_answer *out);
/*
 * A version B SLOT_STATUS answer: exactly 3 bytes (bResponseType,
 * bStatus, bError), else OC_ETRUNC / OC_EPROTO. The ICC status bits 3
 * (reserved) are reported as absent.
 */
int iccd_decode_slot_status(const uint8_t *buf, size_t len,
    uint8_t *bStatus, uint8_t *bError);
/* A version A GET_ICC_STATUS answer: exactly one byte. */
int iccd_decode_icc_status(const uint8_t *buf, size_t len, uint8_t *status);
/* "data", "chain begin", ... or "unknown". */
const char *iccd_resp_name(uint8_t type);

#endif
