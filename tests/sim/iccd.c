/*
 * ICCD tokens (USB ICCD rev 1.0, bInterfaceProtocol 1: version A, 2:
 * version B): no bulk endpoints, the commands arrive as class requests
 * on the control pipe. Each request is turned into the CCID command it
 * stands for and run through ccid.c (the same card, slot and fault
 * model), the reply captured and kept until the token is asked for it.
 *
 * Version B: ICC_POWER_ON (0x62 OUT), ICC_POWER_OFF (0x63), XFR_BLOCK
 * (0x65 OUT, level in wValue's high byte), DATA_BLOCK (0x6F IN:
 * bResponseType 00 / 01 02 03 / 10 / 40 bStatus bError), SLOT_STATUS
 * (0x81 IN: 40 bStatus bError).
 * Version A: ICC_POWER_ON (0x62 IN: the ATR), ICC_POWER_OFF, XFR_BLOCK
 * (0x65 OUT: a T=0 header, then the data when "ready for data"),
 * DATA_BLOCK (0x6F IN: the answer data, then SW1 SW2), GET_ICC_STATUS
 * (0xA0 IN: 80 mute, 40 busy, 20 SW ready, 10 ready for data).
 *
 * Faults of their own (fault.c): iccd-poll (time requests 80 before the
 * answer), iccd-type (unknown bResponseType), iccd-chain (a chain piece
 * out of order), iccd-long (more than wLength: the transfer overflows),
 * iccd-status-ok (a status answer without an error), iccd-busy (version
 * A: busy). count=K, or until-clear, makes any of them persistent.
 */
#include "sim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ST_FAILED 0x40
#define ICCD_ANS_MAX 600

enum a_state { A_IDLE, A_WANT_DATA, A_HAVE_DATA, A_HAVE_SW };

struct iccd_sim {
	/* version B: the answer DATA_BLOCK returns next (len 0: none) */
	uint8_t ans[ICCD_ANS_MAX + 1];
	size_t ans_len;
	/* version A: the T=0 exchange in progress */
	enum a_state a;
	uint8_t hdr[5];
	uint8_t data[ICCD_ANS_MAX];
	size_t data_len;
	uint8_t sw[2];
	uint8_t seq;
};

static struct iccd_sim *state(struct ccid_iface *ci)
{
	if (!ci->iccd)
		ci->iccd = calloc(1, sizeof(struct iccd_sim));
	return ci->iccd;
}

/* One CCID command through ccid.c; its one reply in *c. */
static void run(struct ccid_iface *ci, uint8_t type, uint16_t level,
		const uint8_t *d, size_t n, struct sim_capture *c)
{
	uint8_t *msg = malloc(10 + n);

	msg[0] = type;
	put_le32(msg + 1, (uint32_t)n);
	msg[5] = 0;
	msg[6] = state(ci)->seq++;
	msg[7] = 0;
	put_le16(msg + 8, level);
	if (n)
		memcpy(msg + 10, d, n);
	memset(c, 0, sizeof(*c));
	ccid_capture(c);
	ccid_handle_out(ci, msg, 10 + n);
	ccid_capture(NULL);
	free(msg);
	if (!c->set) { /* no-reply fault: the token says nothing useful */
		c->set = true;
		c->status = ST_FAILED | 1;
		c->error = 0xfe;
	}
}

static void b_keep(struct iccd_sim *st, const struct sim_capture *c, uint8_t chain)
{
	if (c->status & ST_FAILED) {
		st->ans[0] = 0x40;
		st->ans[1] = c->status;
		st->ans[2] = c->error;
		st->ans_len = 3;
		return;
	}
	st->ans[0] = chain;
	memcpy(st->ans + 1, c->data, c->len);
	st->ans_len = 1 + c->len;
}

/* A DATA_BLOCK answer, bent by the armed faults. */
static int b_data_block(struct iccd_sim *st, uint8_t *data, uint16_t wLength)
{
	long arg;
	size_t n;

	if (fault_take(FAULT_ICCD_POLL, -1, &arg)) {
		uint8_t t[3] = { 0x80, (uint8_t)arg, (uint8_t)(arg >> 8) };

		n = wLength < 3 ? wLength : 3;
		memcpy(data, t, n);
		return (int)n;
	}
	if (!st->ans_len)
		return -EPIPE;
	if (fault_take(FAULT_ICCD_LONG, -1, NULL)) {
		st->ans_len = 0;
		return -EOVERFLOW;
	}
	if (fault_take(FAULT_ICCD_TYPE, -1, &arg))
		st->ans[0] = (uint8_t)arg;
	else if (fault_take(FAULT_ICCD_CHAIN, -1, NULL))
		st->ans[0] = st->ans[0] == 0x03 ? 0x01 : 0x03;
	else if (fault_take(FAULT_ICCD_STATUS_OK, -1, NULL)) {
		st->ans[0] = 0x40;
		st->ans[1] = 0;
		st->ans[2] = 0;
		st->ans_len = 3;
	}
	if (st->ans_len > wLength)
		return -EOVERFLOW; /* a real token would babble */
	memcpy(data, st->ans, st->ans_len);
	n = st->ans_len;
	st->ans_len = 0;
	return (int)n;
}

static int version_b(struct ccid_iface *ci, uint8_t req, uint16_t wValue, uint8_t *data,
		     uint16_t wLength)
{
	struct iccd_sim *st = state(ci);
	struct sim_capture c;

	switch (req) {
	case 0x62:
		run(ci, 0x62, 0, NULL, 0, &c);
		b_keep(st, &c, 0x00);
		return 0;
	case 0x63:
		run(ci, 0x63, 0, NULL, 0, &c);
		st->ans_len = 0;
		return 0;
	case 0x65:
		run(ci, 0x6f, wValue >> 8, data, wLength, &c);
		/* the reply's bChainParameter is the bResponseType */
		b_keep(st, &c, c.b9);
		return 0;
	case 0x6f:
		return b_data_block(st, data, wLength);
	case 0x81:
		if (wLength < 3)
			return -EPIPE;
		run(ci, 0x65, 0, NULL, 0, &c);
		data[0] = 0x40;
		data[1] = c.status;
		data[2] = c.error;
		return 3;
	default:
		return -EPIPE;
	}
}

/* ---- version A ----------------------------------------------------------- */

/* The whole TPDU through ccid.c's T=0 layer: data and SW1 SW2. */
static void a_run(struct ccid_iface *ci, struct iccd_sim *st, const uint8_t *body, size_t n)
{
	struct sim_capture c;
	uint8_t cmd[10] = { 0x6f, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	uint8_t *tpdu = malloc(5 + n);
	struct ccid_slot *s = &ci->slots[0];

	memcpy(tpdu, st->hdr, 5);
	if (n)
		memcpy(tpdu + 5, body, n);
	memset(&c, 0, sizeof(c));
	if (!s->card || !s->inserted || !s->powered) {
		c.set = true;
		c.status = ST_FAILED;
	} else {
		ccid_capture(&c);
		xfr_t0(ci, s, cmd, tpdu, 5 + n);
		ccid_capture(NULL);
	}
	free(tpdu);
	if (!c.set || (c.status & ST_FAILED) || c.len < 2) {
		st->a = A_IDLE; /* mute */
		st->data_len = 0;
		st->sw[0] = 0x6f;
		st->sw[1] = 0x00;
		st->a = A_HAVE_SW;
		return;
	}
	st->data_len = c.len - 2;
	memcpy(st->data, c.data, st->data_len);
	st->sw[0] = c.data[c.len - 2];
	st->sw[1] = c.data[c.len - 1];
	st->a = st->data_len ? A_HAVE_DATA : A_HAVE_SW;
}

static uint8_t a_status(struct ccid_iface *ci, struct iccd_sim *st)
{
	struct ccid_slot *s = &ci->slots[0];

	if (fault_take(FAULT_ICCD_BUSY, -1, NULL))
		return 0x40;
	if (!s->card || !s->inserted)
		return 0x80;
	switch (st->a) {
	case A_WANT_DATA:
	case A_HAVE_DATA:
		return 0x10;
	case A_HAVE_SW:
		return 0x20;
	default:
		return 0x00;
	}
}

static int a_data_block(struct iccd_sim *st, uint8_t *data, uint16_t wLength)
{
	size_t n;

	if (st->a == A_HAVE_DATA) {
		n = st->data_len;
		if (n > wLength || fault_take(FAULT_ICCD_LONG, -1, NULL)) {
			st->a = A_IDLE;
			return -EOVERFLOW;
		}
		memcpy(data, st->data, n);
		st->a = A_HAVE_SW;
		return (int)n;
	}
	if (st->a == A_HAVE_SW && wLength >= 2) {
		data[0] = st->sw[0];
		data[1] = st->sw[1];
		st->a = A_IDLE;
		return 2;
	}
	return -EPIPE;
}

static int version_a(struct ccid_iface *ci, uint8_t req, uint8_t *data, uint16_t wLength)
{
	struct iccd_sim *st = state(ci);
	struct sim_capture c;
	size_t n;

	switch (req) {
	case 0x62: /* IN: the ATR is the data stage */
		run(ci, 0x62, 0, NULL, 0, &c);
		st->a = A_IDLE;
		if (c.status & ST_FAILED)
			return 0;
		n = c.len < wLength ? c.len : wLength;
		memcpy(data, c.data, n);
		return (int)n;
	case 0x63:
		run(ci, 0x63, 0, NULL, 0, &c);
		st->a = A_IDLE;
		return 0;
	case 0x65:
		if (st->a == A_WANT_DATA) {
			a_run(ci, st, data, wLength);
			return 0;
		}
		if (wLength != 5)
			return -EPIPE;
		memcpy(st->hdr, data, 5);
		sim_stats.cmd[0x6f]++;
		/* T=0 (ISO 7816-3 section 10.3.2): P3 bytes of data come
		 * unless the INS is one that sends data to the host. */
		if (st->hdr[4] && !sim_t0_receives(st->hdr[1]))
			st->a = A_WANT_DATA;
		else
			a_run(ci, st, NULL, 0);
		return 0;
	case 0x6f:
		return a_data_block(st, data, wLength);
	case 0xa0:
		if (wLength < 1)
			return -EPIPE;
		data[0] = a_status(ci, st);
		return 1;
	default:
		return -EPIPE;
	}
}

int iccd_control(struct ccid_iface *ci, uint8_t type, uint8_t req, uint16_t wValue,
		 uint8_t *data, uint16_t wLength)
{
	/* direction must match the request (OUT: 0x21, IN: 0xA1) */
	bool in = (type & 0x80) != 0;
	bool want_in = req == 0x6f || req == 0x81 || req == 0xa0 ||
		       (req == 0x62 && ci->desc->bInterfaceProtocol == 1);

	if (sim_verbose)
		sim_log("iccd: request 0x%02x wValue 0x%04x wLength %u", req, wValue, wLength);
	if (in != want_in)
		return -EPIPE;
	sim_stats.iccd_requests++;
	if (ci->desc->bInterfaceProtocol == 1)
		return version_a(ci, req, data, wLength);
	return version_b(ci, req, wValue, data, wLength);
}

void iccd_free(struct ccid_iface *ci)
{
	free(ci->iccd);
	ci->iccd = NULL;
}
