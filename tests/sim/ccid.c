/*
 * Reader side: the CCID rev 1.1 section 6 bulk protocol for one interface.
 * Every PC_to_RDR message gets exactly one RDR_to_PC answer with its bSlot
 * and bSeq echoed (section 6.2). APDU-level readers pass whole APDUs (with
 * extended chaining, sections 6.1.4 and 6.2.1); TPDU-level readers get a
 * T=0 procedure adapter (61xx / 6Cxx / GET RESPONSE) or a T=1 block layer
 * (ISO 7816-3 section 11) in front of the APDU card model.
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

/* bError values (CCID rev 1.1 table 6.2-2) */
#define ERR_CMD_NOT_SUPPORTED 0x00
#define ERR_ICC_MUTE 0xfe
#define ERR_HW_ERROR 0xfb
#define ERR_ICC_PROTOCOL_NOT_SUPPORTED 0xf6
#define ERR_CMD_ABORTED 0xff
#define ERR_BAD_SLOT 5 /* index of bSlot */
#define ERR_BAD_LENGTH 1 /* index of dwLength */
#define ERR_BAD_PROTO 7 /* index of bProtocolNum */

#define ST_FAILED 0x40

static const uint8_t t0_defaults[5] = { 0x11, 0x00, 0x00, 0x0a, 0x00 };
static const uint8_t t1_defaults[7] = { 0x11, 0x10, 0x00, 0x4d, 0x00, 0x20, 0x00 };

static bool slot_present(const struct ccid_slot *s)
{
	return s->card && s->inserted &&
	       (!s->card->ops->present || s->card->ops->present(s->card));
}

static uint8_t icc_status(const struct ccid_slot *s)
{
	if (!slot_present(s))
		return 2;
	return s->powered ? 0 : 1;
}

static void queue(struct ccid_iface *ci, const uint8_t *hdr, const uint8_t *data,
		  size_t dlen)
{
	struct sim_msg *m = malloc(sizeof(*m) + 10 + dlen);

	m->next = NULL;
	m->len = 10 + dlen;
	memcpy(m->data, hdr, 10);
	put_le32(m->data + 1, (uint32_t)dlen);
	if (dlen)
		memcpy(m->data + 10, data, dlen);
	*ci->bulk_in_tail = m;
	ci->bulk_in_tail = &m->next;
}

static void reply(struct ccid_iface *ci, uint8_t type, const uint8_t *cmd,
		  uint8_t status, uint8_t error, uint8_t b9, const uint8_t *data,
		  size_t dlen)
{
	uint8_t h[10] = { type, 0, 0, 0, 0, cmd[5], cmd[6], status, error, b9 };

	queue(ci, h, data, dlen);
}

static uint8_t resp_type(uint8_t cmd)
{
	switch (cmd) {
	case 0x62: case 0x6f: case 0x69: return 0x80;
	case 0x61: case 0x6c: case 0x6d: return 0x82;
	case 0x6b: return 0x83;
	case 0x73: return 0x84;
	default: return 0x81;
	}
}

static void slot_forget_xfr(struct ccid_slot *s)
{
	free(s->cmd_buf);
	s->cmd_buf = NULL;
	s->cmd_len = 0;
	free(s->rsp_buf);
	s->rsp_buf = NULL;
	s->rsp_len = s->rsp_off = 0;
	free(s->t0_pending);
	s->t0_pending = NULL;
	s->t0_pending_len = 0;
	free(s->t1_cmd);
	s->t1_cmd = NULL;
	s->t1_cmd_len = 0;
	free(s->t1_rsp);
	s->t1_rsp = NULL;
	s->t1_rsp_len = s->t1_rsp_off = 0;
	s->t1_last_len = 0;
	s->t1_ns = s->t1_nr = 0;
	s->t1_ifsc = 0x20;
	s->t1_ifsd = 32;
}

static void slot_power_off(struct ccid_slot *s)
{
	if (s->powered && s->card && s->card->ops->power_off)
		s->card->ops->power_off(s->card);
	s->powered = false;
	s->clock_stopped = false;
	slot_forget_xfr(s);
}

static void set_default_params(struct ccid_slot *s)
{
	if (s->protocol == 1) {
		memcpy(s->params, t1_defaults, 7);
		s->params_len = 7;
	} else {
		memcpy(s->params, t0_defaults, 5);
		s->params_len = 5;
	}
}

/* First protocol the ATR offers (ISO 7816-3 section 8.2.3): T=0 unless TD1 says otherwise. */
static uint8_t atr_protocol(const uint8_t *atr, size_t n)
{
	size_t i = 2;
	uint8_t y;

	if (n < 2)
		return 0;
	y = atr[1] >> 4;
	if (!(y & 0x8))
		return 0;
	i += (size_t)((y & 1) + ((y >> 1) & 1) + ((y >> 2) & 1));
	if (i >= n)
		return 0;
	return atr[i] & 0x0f ? 1 : 0; /* T=15 etc. do not occur here */
}

void ccid_init(struct ccid_iface *ci, struct sim_iface *desc,
	       struct card **cards, unsigned n_cards)
{
	memset(ci, 0, sizeof(*ci));
	ci->desc = desc;
	ci->n_slots = desc->ccid.bMaxSlotIndex + 1u;
	ci->bulk_in_tail = &ci->bulk_in_q;
	for (unsigned i = 0; i < ci->n_slots; i++) {
		struct ccid_slot *s = &ci->slots[i];

		s->card = i < n_cards ? cards[i] : NULL;
		s->inserted = s->card != NULL;
		s->changed = true; /* the first interrupt reports what is there */
		s->t1_ifsc = 0x20;
		set_default_params(s);
	}
}

struct sim_msg *ccid_take_notify(struct ccid_iface *ci)
{
	struct sim_msg *m;
	size_t n = 1 + (ci->n_slots * 2 + 7) / 8;
	bool any = false;

	for (unsigned i = 0; i < ci->n_slots; i++)
		any |= ci->slots[i].changed;
	if (!any)
		return NULL;
	m = calloc(1, sizeof(*m) + n);
	m->len = n;
	m->data[0] = 0x50; /* RDR_to_PC_NotifySlotChange, section 6.3.1 */
	for (unsigned i = 0; i < ci->n_slots; i++) {
		struct ccid_slot *s = &ci->slots[i];
		uint8_t bits = (slot_present(s) ? 1 : 0) | (s->changed ? 2 : 0);

		m->data[1 + i / 4] |= (uint8_t)(bits << ((i % 4) * 2));
		s->changed = false;
	}
	return m;
}

void ccid_card_insert(struct ccid_iface *ci, unsigned slot)
{
	struct ccid_slot *s = &ci->slots[slot];

	if (s->inserted)
		return;
	s->inserted = true;
	s->powered = false;
	if (s->card && s->card->ops->reset_state)
		s->card->ops->reset_state(s->card);
	s->changed = true;
}

void ccid_card_remove(struct ccid_iface *ci, unsigned slot)
{
	struct ccid_slot *s = &ci->slots[slot];

	if (!s->inserted)
		return;
	slot_power_off(s);
	s->inserted = false;
	s->changed = true;
}

void ccid_reset(struct ccid_iface *ci)
{
	struct sim_msg *m;

	for (unsigned i = 0; i < ci->n_slots; i++) {
		slot_power_off(&ci->slots[i]);
		ci->slots[i].changed = true;
	}
	while ((m = ci->bulk_in_q)) {
		ci->bulk_in_q = m->next;
		free(m);
	}
	ci->bulk_in_tail = &ci->bulk_in_q;
}

void ccid_abort(struct ccid_iface *ci, uint8_t slot, uint8_t seq)
{
	(void)seq;
	if (slot < ci->n_slots)
		slot_forget_xfr(&ci->slots[slot]);
}

/* ---- card calls ------------------------------------------------------------ */

static int card_xfr(struct ccid_slot *s, const uint8_t *apdu, size_t len,
		    uint8_t **rsp, size_t *rlen)
{
	uint8_t *buf = malloc(SIM_MAX_RESP);
	size_t n = SIM_MAX_RESP;

	sim_stats.apdus++;
	if (sim_verbose)
		sim_hexlog("apdu", apdu, len);
	if (s->card->ops->transmit(s->card, apdu, len, buf, &n) < 0 || n < 2) {
		free(buf);
		return -1;
	}
	if (sim_verbose)
		sim_hexlog("resp", buf, n);
	*rsp = buf;
	*rlen = n;
	return 0;
}

/* ---- APDU level (short and extended), sections 6.1.4 / 6.2.1 ---------------- */

static void send_rsp_chunk(struct ccid_iface *ci, struct ccid_slot *s,
			   const uint8_t *cmd, bool first)
{
	size_t max = ci->desc->ccid.dwMaxCCIDMessageLength > 10 ?
			     ci->desc->ccid.dwMaxCCIDMessageLength - 10 : 1;
	size_t left = s->rsp_len - s->rsp_off;
	size_t n = left < max ? left : max;
	bool last = n == left;
	uint8_t chain = first ? (last ? 0x00 : 0x01) : (last ? 0x02 : 0x03);

	reply(ci, 0x80, cmd, 0, 0, chain, s->rsp_buf + s->rsp_off, n);
	s->rsp_off += n;
	if (last) {
		free(s->rsp_buf);
		s->rsp_buf = NULL;
		s->rsp_len = s->rsp_off = 0;
	}
}

static void xfr_apdu(struct ccid_iface *ci, struct ccid_slot *s, const uint8_t *cmd,
		     const uint8_t *data, size_t dlen)
{
	uint16_t level = get_le16(cmd + 8);

	if (level == 0x0010) {
		if (!s->rsp_buf) {
			reply(ci, 0x80, cmd, ST_FAILED | icc_status(s), 8, 0, NULL, 0);
			return;
		}
		send_rsp_chunk(ci, s, cmd, false);
		return;
	}
	if (level == 0x0000 || level == 0x0001) {
		free(s->cmd_buf);
		s->cmd_buf = NULL;
		s->cmd_len = 0;
		free(s->rsp_buf);
		s->rsp_buf = NULL;
		s->rsp_len = s->rsp_off = 0;
	} else if (level != 0x0002 && level != 0x0003) {
		reply(ci, 0x80, cmd, ST_FAILED | icc_status(s), 8, 0, NULL, 0);
		return;
	}
	if (s->cmd_len + dlen > SIM_MAX_APDU) {
		slot_forget_xfr(s);
		reply(ci, 0x80, cmd, ST_FAILED | icc_status(s), ERR_BAD_LENGTH, 0, NULL, 0);
		return;
	}
	s->cmd_buf = realloc(s->cmd_buf, s->cmd_len + dlen + 1);
	memcpy(s->cmd_buf + s->cmd_len, data, dlen);
	s->cmd_len += dlen;
	if (level == 0x0001 || level == 0x0003) {
		/* bChainParameter 0x10: send the next part of the command */
		reply(ci, 0x80, cmd, 0, 0, 0x10, NULL, 0);
		return;
	}
	/* A PPS request through an APDU-level reader: accept it as is. */
	if (s->cmd_len >= 3 && s->cmd_len <= 6 && s->cmd_buf[0] == 0xff) {
		reply(ci, 0x80, cmd, 0, 0, 0, s->cmd_buf, s->cmd_len);
		free(s->cmd_buf);
		s->cmd_buf = NULL;
		s->cmd_len = 0;
		return;
	}
	if (card_xfr(s, s->cmd_buf, s->cmd_len, &s->rsp_buf, &s->rsp_len) < 0) {
		free(s->cmd_buf);
		s->cmd_buf = NULL;
		s->cmd_len = 0;
		reply(ci, 0x80, cmd, ST_FAILED | icc_status(s), ERR_ICC_MUTE, 0, NULL, 0);
		return;
	}
	free(s->cmd_buf);
	s->cmd_buf = NULL;
	s->cmd_len = 0;
	s->rsp_off = 0;
	send_rsp_chunk(ci, s, cmd, true);
}

/* ---- TPDU level, T=0: the reader is the procedure-byte layer ------------- */

static void xfr_t0(struct ccid_iface *ci, struct ccid_slot *s, const uint8_t *cmd,
		   const uint8_t *d, size_t n)
{
	uint8_t out[258];
	uint8_t *rsp;
	size_t rlen, le;

	if (n < 4) {
		reply(ci, 0x80, cmd, ST_FAILED | icc_status(s), ERR_BAD_LENGTH, 0, NULL, 0);
		return;
	}
	if (n == 4 || n == 5) {
		le = n == 5 ? (d[4] ? d[4] : 256) : 0;
		if (d[1] == 0xc0 && s->t0_pending) {
			/* GET RESPONSE for what a case-4 command left behind */
			size_t k = le < s->t0_pending_len ? le : s->t0_pending_len;
			size_t left = s->t0_pending_len - k;

			memcpy(out, s->t0_pending, k);
			if (left) {
				out[k] = 0x61;
				out[k + 1] = left >= 256 ? 0 : (uint8_t)left;
				memmove(s->t0_pending, s->t0_pending + k, left);
				s->t0_pending_len = left;
			} else {
				out[k] = 0x90;
				out[k + 1] = 0x00;
				free(s->t0_pending);
				s->t0_pending = NULL;
				s->t0_pending_len = 0;
			}
			reply(ci, 0x80, cmd, 0, 0, 0, out, k + 2);
			return;
		}
		free(s->t0_pending);
		s->t0_pending = NULL;
		s->t0_pending_len = 0;
		if (card_xfr(s, d, n, &rsp, &rlen) < 0)
			goto mute;
		if (rlen - 2 > le && le) {
			/* wrong Le: 6C La, the host repeats with the right one */
			out[0] = 0x6c;
			out[1] = (uint8_t)(rlen - 2);
			reply(ci, 0x80, cmd, 0, 0, 0, out, 2);
		} else {
			reply(ci, 0x80, cmd, 0, 0, 0, rsp, rlen);
		}
		free(rsp);
		return;
	}
	/* case 3: header, P3 = Lc, data; response data waits for GET RESPONSE */
	free(s->t0_pending);
	s->t0_pending = NULL;
	s->t0_pending_len = 0;
	if (card_xfr(s, d, n, &rsp, &rlen) < 0)
		goto mute;
	if (rlen > 2 && rsp[rlen - 2] == 0x90 && rsp[rlen - 1] == 0x00) {
		s->t0_pending = rsp;
		s->t0_pending_len = rlen - 2;
		out[0] = 0x61;
		out[1] = rlen - 2 >= 256 ? 0 : (uint8_t)(rlen - 2);
		reply(ci, 0x80, cmd, 0, 0, 0, out, 2);
		return;
	}
	reply(ci, 0x80, cmd, 0, 0, 0, rsp + rlen - 2, 2);
	free(rsp);
	return;
mute:
	reply(ci, 0x80, cmd, ST_FAILED | icc_status(s), ERR_ICC_MUTE, 0, NULL, 0);
}

/* ---- TPDU level, T=1: the card's block layer (ISO 7816-3 section 11) ------- */

static void t1_send(struct ccid_iface *ci, struct ccid_slot *s, const uint8_t *cmd,
		    uint8_t pcb, const uint8_t *inf, size_t n)
{
	uint8_t *b = s->t1_last;
	uint8_t lrc = 0;

	b[0] = 0;
	b[1] = pcb;
	b[2] = (uint8_t)n;
	if (n)
		memcpy(b + 3, inf, n);
	for (size_t i = 0; i < 3 + n; i++)
		lrc ^= b[i];
	b[3 + n] = lrc;
	s->t1_last_len = 4 + n;
	reply(ci, 0x80, cmd, 0, 0, 0, b, s->t1_last_len);
}

static void t1_send_rsp_chunk(struct ccid_iface *ci, struct ccid_slot *s,
			      const uint8_t *cmd)
{
	size_t left = s->t1_rsp_len - s->t1_rsp_off;
	size_t max = s->t1_ifsd ? s->t1_ifsd : 32;
	size_t n = left < max ? left : max;
	bool more = n < left;
	uint8_t pcb = (uint8_t)((s->t1_ns << 6) | (more ? 0x20 : 0));

	t1_send(ci, s, cmd, pcb, s->t1_rsp + s->t1_rsp_off, n);
	s->t1_ns ^= 1;
	s->t1_rsp_off += n;
	if (!more) {
		free(s->t1_rsp);
		s->t1_rsp = NULL;
		s->t1_rsp_len = s->t1_rsp_off = 0;
	}
}

static void xfr_t1(struct ccid_iface *ci, struct ccid_slot *s, const uint8_t *cmd,
		   const uint8_t *d, size_t n)
{
	uint8_t lrc = 0, pcb;
	size_t len;

	if (n < 4 || (size_t)d[2] + 4 != n) {
		t1_send(ci, s, cmd, (uint8_t)(0x82 | (s->t1_nr << 4)), NULL, 0);
		return;
	}
	for (size_t i = 0; i < n; i++)
		lrc ^= d[i];
	if (lrc) {
		t1_send(ci, s, cmd, (uint8_t)(0x81 | (s->t1_nr << 4)), NULL, 0);
		return;
	}
	pcb = d[1];
	len = d[2];
	if (!(pcb & 0x80)) { /* I-block */
		uint8_t ns = (pcb >> 6) & 1;

		if (ns != s->t1_nr) {
			/* a repeat of a block already taken: send our last again */
			if (s->t1_last_len)
				reply(ci, 0x80, cmd, 0, 0, 0, s->t1_last, s->t1_last_len);
			else
				t1_send(ci, s, cmd, (uint8_t)(0x80 | (s->t1_nr << 4)), NULL, 0);
			return;
		}
		s->t1_nr ^= 1;
		free(s->t1_rsp);
		s->t1_rsp = NULL;
		s->t1_rsp_len = s->t1_rsp_off = 0;
		s->t1_cmd = realloc(s->t1_cmd, s->t1_cmd_len + len + 1);
		memcpy(s->t1_cmd + s->t1_cmd_len, d + 3, len);
		s->t1_cmd_len += len;
		if (pcb & 0x20) {
			t1_send(ci, s, cmd, (uint8_t)(0x80 | (s->t1_nr << 4)), NULL, 0);
			return;
		}
		if (card_xfr(s, s->t1_cmd, s->t1_cmd_len, &s->t1_rsp, &s->t1_rsp_len) < 0) {
			free(s->t1_cmd);
			s->t1_cmd = NULL;
			s->t1_cmd_len = 0;
			reply(ci, 0x80, cmd, ST_FAILED | icc_status(s), ERR_ICC_MUTE, 0, NULL, 0);
			return;
		}
		free(s->t1_cmd);
		s->t1_cmd = NULL;
		s->t1_cmd_len = 0;
		s->t1_rsp_off = 0;
		t1_send_rsp_chunk(ci, s, cmd);
		return;
	}
	if ((pcb & 0xc0) == 0x80) { /* R-block */
		uint8_t nr = (pcb >> 4) & 1;

		if (s->t1_rsp && nr == s->t1_ns)
			t1_send_rsp_chunk(ci, s, cmd);
		else if (s->t1_last_len)
			reply(ci, 0x80, cmd, 0, 0, 0, s->t1_last, s->t1_last_len);
		else
			t1_send(ci, s, cmd, (uint8_t)(0x80 | (s->t1_nr << 4)), NULL, 0);
		return;
	}
	switch (pcb) { /* S-blocks */
	case 0xc0: /* RESYNCH request */
		s->t1_ns = s->t1_nr = 0;
		free(s->t1_cmd);
		s->t1_cmd = NULL;
		s->t1_cmd_len = 0;
		t1_send(ci, s, cmd, 0xe0, NULL, 0);
		return;
	case 0xc1: /* IFS request */
		if (len == 1 && d[3] >= 1 && d[3] <= 254)
			s->t1_ifsd = d[3];
		t1_send(ci, s, cmd, 0xe1, d + 3, len);
		return;
	case 0xc2: /* ABORT request */
		free(s->t1_cmd);
		s->t1_cmd = NULL;
		s->t1_cmd_len = 0;
		t1_send(ci, s, cmd, 0xe2, NULL, 0);
		return;
	default:
		t1_send(ci, s, cmd, (uint8_t)(0x82 | (s->t1_nr << 4)), NULL, 0);
		return;
	}
}

/* ---- the commands --------------------------------------------------------- */

static void cmd_power_on(struct ccid_iface *ci, struct ccid_slot *s, const uint8_t *cmd)
{
	if (!slot_present(s)) {
		reply(ci, 0x80, cmd, ST_FAILED | 2, ERR_ICC_MUTE, 0, NULL, 0);
		return;
	}
	if (s->powered)
		slot_power_off(s); /* a warm reset */
	s->atr_len = sizeof(s->atr);
	if (s->card->ops->power_on(s->card, s->atr, &s->atr_len) < 0 ||
	    s->atr_len == 0) {
		reply(ci, 0x80, cmd, ST_FAILED | 1, ERR_ICC_MUTE, 0, NULL, 0);
		return;
	}
	s->powered = true;
	s->protocol = atr_protocol(s->atr, s->atr_len);
	set_default_params(s);
	slot_forget_xfr(s);
	reply(ci, 0x80, cmd, 0, 0, 0, s->atr, s->atr_len);
}

static void cmd_xfr_block(struct ccid_iface *ci, struct ccid_slot *s,
			  const uint8_t *cmd, const uint8_t *data, size_t dlen)
{
	uint32_t level = ci->desc->ccid.dwFeatures & CCID_LEVEL_MASK;

	if (!slot_present(s)) {
		reply(ci, 0x80, cmd, ST_FAILED | 2, ERR_ICC_MUTE, 0, NULL, 0);
		return;
	}
	if (!s->powered) {
		reply(ci, 0x80, cmd, ST_FAILED | 1, ERR_ICC_MUTE, 0, NULL, 0);
		return;
	}
	if (level == CCID_LEVEL_SHORT || level == CCID_LEVEL_EXT)
		xfr_apdu(ci, s, cmd, data, dlen);
	else if (dlen >= 3 && dlen <= 6 && data[0] == 0xff)
		/* PPS request (ISO 7816-3 section 9): the card accepts it */
		reply(ci, 0x80, cmd, 0, 0, 0, data, dlen);
	else if (s->protocol == 1)
		xfr_t1(ci, s, cmd, data, dlen);
	else
		xfr_t0(ci, s, cmd, data, dlen);
}

static void cmd_set_params(struct ccid_iface *ci, struct ccid_slot *s,
			   const uint8_t *cmd, const uint8_t *data, size_t dlen)
{
	uint8_t proto = cmd[7];
	uint8_t st = icc_status(s);

	if (proto > 1 || !(ci->desc->ccid.dwProtocols & (1u << proto))) {
		reply(ci, 0x82, cmd, ST_FAILED | st, ERR_BAD_PROTO, s->protocol,
		      s->params, s->params_len);
		return;
	}
	if (dlen != (proto ? 7u : 5u)) {
		reply(ci, 0x82, cmd, ST_FAILED | st, ERR_BAD_LENGTH, s->protocol,
		      s->params, s->params_len);
		return;
	}
	if (s->protocol != proto) {
		/* a new protocol starts its block numbering afresh */
		slot_forget_xfr(s);
	}
	s->protocol = proto;
	memcpy(s->params, data, dlen);
	s->params_len = dlen;
	if (proto == 1 && data[5] >= 1 && data[5] <= 254)
		s->t1_ifsc = data[5];
	sim_stats.last_protocol = proto;
	sim_stats.last_fidi = data[0];
	reply(ci, 0x82, cmd, st, 0, s->protocol, s->params, s->params_len);
}

static bool in_list(const uint32_t *l, unsigned n, uint32_t v)
{
	if (n == 0)
		return true;
	for (unsigned i = 0; i < n; i++)
		if (l[i] == v)
			return true;
	return false;
}

void ccid_handle_out(struct ccid_iface *ci, const uint8_t *msg, size_t len)
{
	uint8_t type, slotno, clk;
	const uint8_t *data = msg + 10;
	size_t dlen;
	struct ccid_slot *s;
	uint8_t st;

	if (len < 10)
		return; /* nothing to echo: a real reader would stay silent too */
	type = msg[0];
	slotno = msg[5];
	dlen = len - 10;
	sim_stats.cmd[type]++;
	if (slotno >= ci->n_slots) {
		reply(ci, resp_type(type), msg, ST_FAILED | 2, ERR_BAD_SLOT, 0, NULL, 0);
		return;
	}
	s = &ci->slots[slotno];
	st = icc_status(s);
	clk = s->clock_stopped ? 1 : 0;

	switch (type) {
	case 0x62: /* PC_to_RDR_IccPowerOn */
		cmd_power_on(ci, s, msg);
		break;
	case 0x63: /* PC_to_RDR_IccPowerOff */
		slot_power_off(s);
		reply(ci, 0x81, msg, icc_status(s), 0, 1, NULL, 0);
		break;
	case 0x65: /* PC_to_RDR_GetSlotStatus */
		reply(ci, 0x81, msg, st, 0, clk, NULL, 0);
		break;
	case 0x6f: /* PC_to_RDR_XfrBlock */
		cmd_xfr_block(ci, s, msg, data, dlen);
		break;
	case 0x6c: /* PC_to_RDR_GetParameters */
		reply(ci, 0x82, msg, st, 0, s->protocol, s->params, s->params_len);
		break;
	case 0x6d: /* PC_to_RDR_ResetParameters */
		set_default_params(s);
		reply(ci, 0x82, msg, st, 0, s->protocol, s->params, s->params_len);
		break;
	case 0x61: /* PC_to_RDR_SetParameters */
		cmd_set_params(ci, s, msg, data, dlen);
		break;
	case 0x6b: /* PC_to_RDR_Escape: no vendor commands here */
		reply(ci, 0x83, msg, ST_FAILED | st, ERR_CMD_NOT_SUPPORTED, 0, NULL, 0);
		break;
	case 0x6e: /* PC_to_RDR_IccClock */
		if (msg[7] > 1) {
			reply(ci, 0x81, msg, ST_FAILED | st, 7, clk, NULL, 0);
			break;
		}
		s->clock_stopped = msg[7] == 1 && s->powered;
		reply(ci, 0x81, msg, st, 0, s->clock_stopped ? 1 : 0, NULL, 0);
		break;
	case 0x6a: /* PC_to_RDR_T0APDU */
		reply(ci, 0x81, msg, st, 0, clk, NULL, 0);
		break;
	case 0x69: /* PC_to_RDR_Secure: not supported for now */
		reply(ci, 0x80, msg, ST_FAILED | st, ERR_CMD_NOT_SUPPORTED, 0, NULL, 0);
		break;
	case 0x71: /* PC_to_RDR_Mechanical */
		if (!ci->desc->ccid.dwMechanical)
			reply(ci, 0x81, msg, ST_FAILED | st, ERR_CMD_NOT_SUPPORTED, clk, NULL, 0);
		else
			reply(ci, 0x81, msg, st, 0, clk, NULL, 0);
		break;
	case 0x72: /* PC_to_RDR_Abort */
		slot_forget_xfr(s);
		reply(ci, 0x81, msg, st, 0, clk, NULL, 0);
		break;
	case 0x73: { /* PC_to_RDR_SetDataRateAndClockFrequency */
		uint8_t out[8];
		uint32_t f, r;

		if (dlen != 8) {
			reply(ci, 0x84, msg, ST_FAILED | st, ERR_BAD_LENGTH, 0, NULL, 0);
			break;
		}
		f = get_le32(data);
		r = get_le32(data + 4);
		if (!in_list(ci->desc->clocks, ci->desc->n_clocks, f))
			f = ci->desc->ccid.dwDefaultClock;
		if (!in_list(ci->desc->rates, ci->desc->n_rates, r))
			r = ci->desc->ccid.dwDataRate;
		put_le32(out, f);
		put_le32(out + 4, r);
		sim_stats.last_clock = f;
		sim_stats.last_rate = r;
		reply(ci, 0x84, msg, st, 0, 0, out, 8);
		break;
	}
	default:
		reply(ci, 0x81, msg, ST_FAILED | st, ERR_CMD_NOT_SUPPORTED, clk, NULL, 0);
		break;
	}
}
