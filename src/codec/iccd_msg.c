/*
 * openccid - USB ICCD answers on the control pipe (see iccd_msg.h).
 */
#include "config.h"

#include "codec/iccd_msg.h"

#include "base/bytes.h"
#include "base/err.h"

/* Status and time request answers: bResponseType and two bytes. */
#define ICCD_SHORT_ANSWER 3

/* The two bytes after bResponseType, and nothing more. */
static int
decode_short(struct oc_cur *c, struct iccd_answer *out)
{
	uint16_t delay;
	const uint8_t *p;

	if (cur_remaining(c) > ICCD_SHORT_ANSWER - 1)
		return OC_EPROTO;
	if (out->type == ICCD_RESP_STATUS) {
		if (cur_get_view(c, &p, 2) != OC_OK)
			return OC_ETRUNC;
		out->bStatus = p[0];
		out->bError = p[1];
		return OC_OK;
	}
	/* The delay is little-endian, like every USB field. */
	if (cur_get_le16(c, &delay) != OC_OK)
		return OC_ETRUNC;
	out->delay_ms = (delay != 0 ? delay : 1u) * ICCD_POLL_UNIT_MS;
	return OC_OK;
}

int
iccd_decode_data_block(const uint8_t *buf, size_t len,
    struct iccd_answer *out)
{
	struct oc_cur c;
	uint8_t type;

	cur_init(&c, buf, len);
	if (cur_get_u8(&c, &type) != OC_OK)
		return OC_ETRUNC;
	out->type = type;
	out->bStatus = 0;
	out->bError = 0;
	out->delay_ms = 0;
	out->data = NULL;
	out->data_len = 0;
	switch (type) {
	case ICCD_RESP_DATA:
	case ICCD_RESP_CHAIN_BEGIN:
	case ICCD_RESP_CHAIN_END:
	case ICCD_RESP_CHAIN_CONTINUE:
	case ICCD_RESP_MORE_CMD:
		out->data_len = cur_remaining(&c);
		return cur_get_view(&c, &out->data, out->data_len);
	case ICCD_RESP_STATUS:
	case ICCD_RESP_POLL:
		return decode_short(&c, out);
	default:
		return OC_ERANGE;
	}
}

int
iccd_decode_slot_status(const uint8_t *buf, size_t len, uint8_t *bStatus,
    uint8_t *bError)
{
	struct oc_cur c;
	const uint8_t *p;
	uint8_t st;

	cur_init(&c, buf, len);
	if (cur_get_view(&c, &p, ICCD_SHORT_ANSWER) != OC_OK)
		return OC_ETRUNC;
	if (cur_remaining(&c) != 0)
		return OC_EPROTO;
	st = p[1];
	/* ICC status 3 is reserved: nothing usable in the slot. */
	if ((st & 0x03u) == 0x03u)
		st = (uint8_t)((st & ~0x03u) | 0x02u);
	*bStatus = st;
	*bError = p[2];
	return OC_OK;
}

int
iccd_decode_icc_status(const uint8_t *buf, size_t len, uint8_t *status)
{
	struct oc_cur c;
	uint8_t v;

	cur_init(&c, buf, len);
	if (cur_get_u8(&c, &v) != OC_OK)
		return OC_ETRUNC;
	if (cur_remaining(&c) != 0)
		return OC_EPROTO;
	*status = v;
	return OC_OK;
}

const char *
iccd_resp_name(uint8_t type)
{
	switch (type) {
	case ICCD_RESP_DATA:
		return "data";
	case ICCD_RESP_CHAIN_BEGIN:
		return "chain begin";
	case ICCD_RESP_CHAIN_END:
		return "chain end";
	case ICCD_RESP_CHAIN_CONTINUE:
		return "chain continue";
	case ICCD_RESP_MORE_CMD:
		return "more of the command";
	case ICCD_RESP_STATUS:
		return "status";
	case ICCD_RESP_POLL:
		return "time request";
	default:
		return "unknown";
	}
}
