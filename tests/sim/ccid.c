/*
 * Reader side: the CCID rev 1.1 section 6 bulk protocol for one interface.
 * Every PC_to_RDR message gets exactly one RDR_to_PC answer with its bSlot
 * and bSeq echoed (section 6.2). APDU-level readers pass whole APDUs (with
 * extended chaining, sections 6.1.4 and 6.2.1); TPDU-level readers get a
 * T=0 procedure adapter (61xx / 6Cxx / GET RESPONSE) or a T=1 block layer
 * (ISO 7816-3 section 11) in front of the APDU card model.
 */
#include "sim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

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

static struct sim_msg *msg_new(size_t len)
{
	struct sim_msg *m = calloc(1, sizeof(*m) + len);

	m->len = len;
	return m;
}

static void enqueue(struct ccid_iface *ci, struct sim_msg *m)
{
	if (ci->bulk_in_n >= SIM_MAX_QUEUED) {
		/* the host does not read its answers: drop, stay bounded */
		sim_log("bulk-IN queue full: answer dropped");
		free(m);
		return;
	}
	m->next = NULL;
	*ci->bulk_in_tail = m;
	ci->bulk_in_tail = &m->next;
	ci->bulk_in_n++;
}

static void queue(struct ccid_iface *ci, const uint8_t *hdr, const uint8_t *data,
		  size_t dlen)
{
	struct sim_msg *m = msg_new(10 + dlen);

	memcpy(m->data, hdr, 10);
	put_le32(m->data + 1, (uint32_t)dlen);
	if (dlen)
		memcpy(m->data + 10, data, dlen);
	enqueue(ci, m);
}

void ccid_drop_replies(struct ccid_iface *ci)
{
	struct sim_msg *m;

	while ((m = ci->bulk_in_q)) {
		ci->bulk_in_q = m->next;
		free(m);
	}
	ci->bulk_in_tail = &ci->bulk_in_q;
	ci->bulk_in_n = 0;
	ci->wtx_forever = false;
}

static struct sim_msg *take_queued(struct ccid_iface *ci, int64_t now, int64_t *next_due)
{
	*next_due = 0;
	/* the first due message; held ones (late-reply, wtx N) may be
	 * overtaken by other slots' answers, never by their own slot's */
	for (struct sim_msg **pp = &ci->bulk_in_q; *pp; pp = &(*pp)->next) {
		struct sim_msg *m = *pp;
		bool blocked = false;

		if (m->due > now) {
			if (!*next_due || m->due < *next_due)
				*next_due = m->due;
			continue;
		}
		for (struct sim_msg *o = ci->bulk_in_q; o != m; o = o->next)
			if (o->len > 5 && m->len > 5 && o->data[5] == m->data[5])
				blocked = true;
		if (blocked)
			continue;
		*pp = m->next;
		if (ci->bulk_in_tail == &m->next)
			ci->bulk_in_tail = pp;
		ci->bulk_in_n--;
		m->next = NULL;
		return m;
	}
	if (ci->wtx_forever && !ci->bulk_in_q) {
		struct sim_msg *m;

		if (ci->wtx_next > now) {
			*next_due = ci->wtx_next;
			return NULL;
		}
		m = msg_new(10);
		memcpy(m->data, ci->wtx_hdr, 10);
		ci->wtx_next = now + ci->wtx_period;
		sim_stats.wtx_sent++;
		return m;
	}
	return NULL;
}

/*
 * zlp-every: a zero-length transfer every ARG ms while the host reads
 * (xHCI readers send such stray ZLPs, LAB-NOTES), between the answers;
 * a wedged or silent reader sends nothing at all.
 */
struct sim_msg *ccid_take_reply(struct ccid_iface *ci, int64_t now, int64_t *next_due)
{
	bool zlps = fault_armed(FAULT_ZLP_EVERY) && !ci->wedged &&
		    now >= ci->silent_until;
	struct sim_msg *m;

	if (zlps && ci->zlp_next <= now) {
		(void)fault_take(FAULT_ZLP_EVERY, -1, NULL);
		ci->zlp_next = now + fault_arg(FAULT_ZLP_EVERY) * 1000;
		*next_due = 0;
		return msg_new(0);
	}
	m = take_queued(ci, now, next_due);
	if (!m && zlps && (!*next_due || ci->zlp_next < *next_due))
		*next_due = ci->zlp_next;
	return m;
}

static struct sim_capture *capture; /* ccid_char.c runs a card layer */

struct sim_capture *ccid_capture(struct sim_capture *c)
{
	struct sim_capture *old = capture;

	capture = c;
	return old;
}

static void reply(struct ccid_iface *ci, uint8_t type, const uint8_t *cmd,
		  uint8_t status, uint8_t error, uint8_t b9, const uint8_t *data,
		  size_t dlen)
{
	uint8_t h[10] = { type, 0, 0, 0, 0, cmd[5], cmd[6], status, error, b9 };

	if (capture) {
		capture->set = true;
		capture->status = status;
		capture->error = error;
		capture->b9 = b9;
		capture->len = dlen < sizeof(capture->data) ? dlen : sizeof(capture->data);
		if (capture->len)
			memcpy(capture->data, data, capture->len);
		return;
	}

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
	s->t1_wtx_left = 0;
	s->chr_out_len = s->chr_in_len = s->chr_need = 0;
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

/* ---- PPS (ISO 7816-3 section 9) and the card's Fi/Di ------------------ */

static const unsigned fi_tab[16] = { 372, 372, 558, 744, 1116, 1488, 1860, 0,
				     0, 512, 768, 1024, 1536, 2048, 0, 0 };
static const unsigned di_tab[16] = { 0, 1, 2, 4, 8, 16, 32, 64, 12, 20, 0, 0,
				     0, 0, 0, 0 };

struct atr_info {
	uint8_t ta1;	/* 0x11 when absent */
	bool specific;	/* TA2 present: specific mode, no PPS */
	unsigned protos; /* bit T for each T offered (T=0 if no TD1) */
};

static void atr_parse(const uint8_t *atr, size_t n, struct atr_info *ai)
{
	size_t i = 2;
	uint8_t y;
	unsigned level = 1;

	ai->ta1 = 0x11;
	ai->specific = false;
	ai->protos = 0;
	if (n < 2) {
		ai->protos = 1;
		return;
	}
	y = atr[1];
	for (;;) {
		uint8_t td;

		if (y & 0x10) {
			if (i >= n)
				break;
			if (level == 1)
				ai->ta1 = atr[i];
			if (level == 2)
				ai->specific = true;
			i++;
		}
		i += (size_t)(((y >> 5) & 1) + ((y >> 6) & 1));
		if (!(y & 0x80) || i >= n)
			break;
		td = atr[i++];
		ai->protos |= 1u << (td & 0x0f);
		y = td;
		level++;
	}
	if (!(ai->protos & 0x3))
		ai->protos |= 1; /* no TD1 (or only T=15): T=0 */
}

/* Can a card whose TA1 is `max` run at Fi/Di `fidi`? Codes valid and
 * D/F no faster than TA1's (ISO 7816-3 section 9.3: PPS1 between Fd/Dd
 * and TA1). */
static bool fidi_ok(uint8_t fidi, uint8_t max)
{
	unsigned f = fi_tab[fidi >> 4], d = di_tab[fidi & 15];
	unsigned fm = fi_tab[max >> 4], dm = di_tab[max & 15];

	if (!f || !d)
		return false;
	if (fidi == 0x11 || fidi == 0x01)
		return true;
	if (!fm || !dm)
		return false;
	return (uint64_t)d * fm <= (uint64_t)dm * f;
}

static void pps_record(const uint8_t *b, size_t n, uint8_t *dst, size_t *dlen)
{
	*dlen = n > 6 ? 6 : n;
	memcpy(dst, b, *dlen);
}

/*
 * The card's answer to a PPS request at TPDU/character level. Returns the
 * answer length, 0 for no answer (the card stays mute: bad PCK, a
 * protocol the ATR does not offer, specific mode).
 */
static size_t pps_answer(struct ccid_slot *s, const uint8_t *d, size_t n,
			 uint8_t *out)
{
	struct atr_info ai;
	uint8_t pck = 0, pps0 = d[1], t = pps0 & 0x0f;
	size_t want = 3 + (size_t)(((pps0 >> 4) & 1) + ((pps0 >> 5) & 1) +
				   ((pps0 >> 6) & 1));
	size_t k = 0;

	sim_stats.pps_seen++;
	pps_record(d, n, sim_stats.last_pps, &sim_stats.last_pps_len);
	for (size_t i = 0; i < n; i++)
		pck ^= d[i];
	atr_parse(s->atr, s->atr_len, &ai);
	if (n != want || pck != 0 || t > 1 || !(ai.protos & (1u << t)) ||
	    ai.specific || fault_take(FAULT_PPS_REJECT, 0x6f, NULL)) {
		if (n == want && pck == 0 && t <= 1 && (ai.protos & (1u << t)) &&
		    !ai.specific) {
			/* pps-reject: PPSS only, nothing agreed */
			out[0] = 0xff;
			out[1] = 0x00;
			out[2] = 0xff;
			sim_stats.pps_rejected++;
			pps_record(out, 3, sim_stats.last_pps_reply,
				   &sim_stats.last_pps_reply_len);
			return 3;
		}
		sim_stats.pps_rejected++;
		sim_stats.last_pps_reply_len = 0;
		return 0;
	}
	out[k++] = 0xff;
	out[k++] = pps0;
	if (pps0 & 0x10) {
		if (fidi_ok(d[2], ai.ta1)) {
			out[k++] = d[2];
			s->card_fidi = d[2];
		} else {
			/* PPS1 not echoed: the card stays at Fd/Dd (section 9.3) */
			out[1] &= (uint8_t)~0x10;
			s->card_fidi = 0x11;
		}
	} else {
		s->card_fidi = 0x11;
	}
	for (size_t i = (pps0 & 0x10) ? 3 : 2; i < n - 1; i++)
		out[k++] = d[i]; /* PPS2, PPS3 echoed */
	pck = 0;
	for (size_t i = 0; i < k; i++)
		pck ^= out[i];
	out[k++] = pck;
	if (k == n && !memcmp(out, d, n))
		sim_stats.pps_accepted++;
	else
		sim_stats.pps_rejected++;
	s->protocol = t;
	pps_record(out, k, sim_stats.last_pps_reply, &sim_stats.last_pps_reply_len);
	return k;
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
		s->contactless = desc->contactless;
		set_default_params(s);
	}
}

struct sim_msg *ccid_take_notify(struct ccid_iface *ci)
{
	struct sim_msg *m;
	size_t n = 1 + (ci->n_slots * 2 + 7) / 8;
	bool any = false;

	if (ci->intr_extra) {
		m = ci->intr_extra;
		ci->intr_extra = NULL;
		return m;
	}
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
	for (unsigned i = 0; i < ci->n_slots; i++) {
		slot_power_off(&ci->slots[i]);
		ci->slots[i].changed = true;
	}
	ccid_drop_replies(ci);
	free(ci->intr_extra);
	ci->intr_extra = NULL;
	/* a reset reboots wedged firmware; what it held back is gone */
	ci->wedged = false;
	while (ci->deferred) {
		struct sim_msg *m = ci->deferred;

		ci->deferred = m->next;
		free(m);
	}
}

void ccid_abort(struct ccid_iface *ci, uint8_t slot, uint8_t seq)
{
	(void)seq;
	if (slot < ci->n_slots)
		slot_forget_xfr(&ci->slots[slot]);
	if (ci->wtx_forever && ci->wtx_hdr[5] == slot)
		ci->wtx_forever = false;
}

/* intr-garbage: unknown|bits|short|hwerror (CCID rev 1.1 section 6.3) */
void ccid_intr_garbage(struct ccid_iface *ci, long kind)
{
	struct sim_msg *m;
	size_t n = 1 + (ci->n_slots * 2 + 7) / 8;

	free(ci->intr_extra);
	switch (kind) {
	case 1: /* NotifySlotChange with bits for slots that do not exist */
		m = msg_new(n + 1);
		m->data[0] = 0x50;
		memset(m->data + 1, 0xff, n);
		break;
	case 2: /* a message cut to its type byte */
		m = msg_new(1);
		m->data[0] = 0x50;
		break;
	case 3: /* RDR_to_PC_HardwareError: bSlot 0, bSeq 0, overcurrent */
		m = msg_new(4);
		m->data[0] = 0x51;
		m->data[3] = 0x01;
		break;
	default: /* unknown bMessageType */
		m = msg_new(4);
		m->data[0] = 0x5f;
		m->data[1] = 0x03;
		break;
	}
	ci->intr_extra = m;
}

void ccid_notify_spurious(struct ccid_iface *ci)
{
	for (unsigned i = 0; i < ci->n_slots; i++)
		ci->slots[i].changed = true;
}

/* ---- card calls ------------------------------------------------------------ */

static int card_xfr(struct ccid_slot *s, const uint8_t *apdu, size_t len,
		    uint8_t **rsp, size_t *rlen)
{
	uint8_t *buf = malloc(SIM_MAX_RESP);
	size_t n = SIM_MAX_RESP;

	long swv;

	if (s->contactless && rf_get_data(s->rf_uid, s->rf_uid_len, s->rf_ats,
					  s->rf_ats_len, apdu, len, buf, &n)) {
		*rsp = buf; /* the reader's own command (rf.c) */
		*rlen = n;
		return 0;
	}
	sim_stats.apdus++;
	s->apdu_taken = true;
	if (sim_verbose)
		sim_hexlog("apdu", apdu, len);
	if (len > 5 && (apdu[1] == 0x20 || apdu[1] == 0x24) && !ccid_in_secure)
		sim_stats.pin_in_apdu_data++; /* a PIN in plain XfrBlock data */
	if (fault_take(FAULT_SW, -1, &swv)) {
		buf[0] = (uint8_t)(swv >> 8);
		buf[1] = (uint8_t)swv;
		*rsp = buf;
		*rlen = 2;
		return 0;
	}
	if (s->card->ops->transmit(s->card, apdu, len, buf, &n) < 0 || n < 2) {
		free(buf);
		return -1;
	}
	if (sim_verbose)
		sim_hexlog("resp", buf, n);
	if (ccid_in_secure)
		pinpad_card_answer(buf, n);
	*rsp = buf;
	*rlen = n;
	return 0;
}

/* ---- APDU level (short and extended), sections 6.1.4 / 6.2.1 ---------------- */

/* The longest message the reader takes and sends: its firmware's real
 * buffer where that differs from dwMaxCCIDMessageLength (profile key
 * max_message_length_real; SCM firmware says 263 and takes 270). */
static size_t msg_max(const struct ccid_iface *ci)
{
	return ci->desc->max_message_length_real ? ci->desc->max_message_length_real
						 : ci->desc->ccid.dwMaxCCIDMessageLength;
}

static void send_rsp_chunk(struct ccid_iface *ci, struct ccid_slot *s,
			   const uint8_t *cmd, bool first)
{
	size_t max = msg_max(ci) > 10 ? msg_max(ci) - 10 : 1;
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
	/* A PPS request through an APDU-level reader: accept it as is (not
	 * in a contactless slot: there CLA FF is the reader's, rf.c). */
	if (!s->contactless && s->cmd_len >= 3 && s->cmd_len <= 6 &&
	    s->cmd_buf[0] == 0xff) {
		sim_stats.pps_seen++;
		sim_stats.pps_accepted++;
		pps_record(s->cmd_buf, s->cmd_len, sim_stats.last_pps,
			   &sim_stats.last_pps_len);
		pps_record(s->cmd_buf, s->cmd_len, sim_stats.last_pps_reply,
			   &sim_stats.last_pps_reply_len);
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

void xfr_t0(struct ccid_iface *ci, struct ccid_slot *s, const uint8_t *cmd,
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
	if (fault_take(FAULT_T1_BAD_EDC, -1, NULL)) {
		uint8_t bad[260];

		memcpy(bad, b, s->t1_last_len);
		bad[3 + n] ^= 0x5a;
		reply(ci, 0x80, cmd, 0, 0, 0, bad, s->t1_last_len);
		return;
	}
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

void xfr_t1(struct ccid_iface *ci, struct ccid_slot *s, const uint8_t *cmd,
	    const uint8_t *d, size_t n)
{
	uint8_t lrc = 0, pcb;
	size_t len;

	if (fault_take(FAULT_T1_DROP_BLOCK, -1, NULL)) {
		/* the card says nothing within BWT: the reader reports mute */
		reply(ci, 0x80, cmd, ST_FAILED | icc_status(s), ERR_ICC_MUTE, 0, NULL, 0);
		return;
	}
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

		if (ns == s->t1_nr && fault_take(FAULT_T1_RBLOCK, -1, NULL)) {
			t1_send(ci, s, cmd, (uint8_t)(0x81 | (s->t1_nr << 4)), NULL, 0);
			return;
		}
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
		{
			long nw;

			if (fault_take(FAULT_CARD_WTX, 0x6f, &nw)) {
				/* S(WTX request), INF = BWT multiplier 1 */
				static const uint8_t one = 1;

				s->t1_wtx_left = (uint8_t)(nw - 1);
				sim_stats.card_wtx_sent++;
				t1_send(ci, s, cmd, 0xc3, &one, 1);
				return;
			}
		}
		t1_send_rsp_chunk(ci, s, cmd);
		return;
	}
	if ((pcb & 0xc0) == 0x80) { /* R-block */
		uint8_t nr = (pcb >> 4) & 1;

		if (s->t1_rsp && nr == s->t1_ns)
			t1_send_rsp_chunk(ci, s, cmd);
		else if (s->t1_last_len && nr != s->t1_ns)
			/* the host missed our last block: once more */
			reply(ci, 0x80, cmd, 0, 0, 0, s->t1_last, s->t1_last_len);
		else
			/* the host wants a block we never made: its I-block
			 * was lost; ask for it (ISO 7816-3 11.6.3.2 rule 7) */
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
	case 0xe3: /* WTX response: the next WTX request or the answer */
		if (s->t1_wtx_left) {
			static const uint8_t one = 1;

			s->t1_wtx_left--;
			sim_stats.card_wtx_sent++;
			t1_send(ci, s, cmd, 0xc3, &one, 1);
		} else if (s->t1_rsp) {
			t1_send_rsp_chunk(ci, s, cmd);
		} else {
			t1_send(ci, s, cmd, (uint8_t)(0x82 | (s->t1_nr << 4)), NULL, 0);
		}
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
	if (fault_take(FAULT_POWERON_MUTE, 0x62, NULL)) {
		reply(ci, 0x80, cmd, ST_FAILED | 1, ERR_ICC_MUTE, 0, NULL, 0);
		return;
	}
	s->atr_len = sizeof(s->atr);
	if (s->card->ops->power_on(s->card, s->atr, &s->atr_len) < 0 ||
	    s->atr_len == 0) {
		reply(ci, 0x80, cmd, ST_FAILED | 1, ERR_ICC_MUTE, 0, NULL, 0);
		return;
	}
	if (s->contactless && rf_activate(s) < 0) { /* no valid ATS */
		reply(ci, 0x80, cmd, ST_FAILED | 1, ERR_ICC_MUTE, 0, NULL, 0);
		return;
	}
	s->powered = true;
	s->protocol = atr_protocol(s->atr, s->atr_len);
	set_default_params(s);
	slot_forget_xfr(s);
	{
		struct atr_info ai;
		uint32_t feat = ci->desc->ccid.dwFeatures;

		atr_parse(s->atr, s->atr_len, &ai);
		/* specific mode (TA2): the card runs at TA1 at once; a reader
		 * with automatic parameter negotiation (dwFeatures 0x40) does
		 * the PPS itself; 0x02 (parameters from the ATR) fills them */
		s->card_fidi = (ai.specific || (feat & 0x40)) && fidi_ok(ai.ta1, ai.ta1) ?
				       ai.ta1 : 0x11;
		s->host_fidi = s->card_fidi;
		if (feat & 0x42)
			s->params[0] = s->card_fidi;
	}
	if (fault_take(FAULT_BAD_ATR, 0x62, NULL)) {
		static const uint8_t bad[] = { 0x3b, 0xff, 0x11 };

		reply(ci, 0x80, cmd, 0, 0, 0, bad, sizeof(bad));
		return;
	}
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
	else if (dlen >= 3 && dlen <= 6 && data[0] == 0xff) {
		/* PPS request (ISO 7816-3 section 9), right after the ATR */
		uint8_t out[6];
		size_t k = pps_answer(s, data, dlen, out);

		if (!k)
			reply(ci, 0x80, cmd, ST_FAILED | icc_status(s), ERR_ICC_MUTE,
			      0, NULL, 0);
		else
			reply(ci, 0x80, cmd, 0, 0, 0, out, k);
	} else if (s->host_fidi != s->card_fidi &&
		   !(ci->desc->ccid.dwFeatures & 0xc0)) {
		/* host and card at different speeds: nothing gets through */
		reply(ci, 0x80, cmd, ST_FAILED | icc_status(s), ERR_ICC_MUTE, 0, NULL, 0);
	} else if (level == CCID_LEVEL_CHAR)
		ccid_char_xfr(ci, s, cmd, data, dlen);
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
	sim_stats.set_params++;
	sim_stats.last_params_len = dlen; /* up to 7 */
	memcpy(sim_stats.last_params, data, dlen);
	if (ci->desc->ccid.dwFeatures & 0xc0 && s->powered) {
		/* automatic PPS (dwFeatures 0x40 / 0x80): the reader negotiates
		 * the new Fi/Di with the card; a card that cannot do it fails
		 * the command (bError = offset of bmFindexDindex) */
		struct atr_info ai;

		atr_parse(s->atr, s->atr_len, &ai);
		if (!fidi_ok(data[0], ai.ta1)) {
			reply(ci, 0x82, cmd, ST_FAILED | st, 10, s->protocol,
			      s->params, s->params_len);
			return;
		}
		s->card_fidi = data[0];
	}
	if (s->protocol != proto) {
		/* a new protocol starts its block numbering afresh */
		slot_forget_xfr(s);
	}
	s->protocol = proto;
	memcpy(s->params, data, dlen);
	s->params_len = dlen;
	s->host_fidi = data[0];
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

static void cmd_escape(struct ccid_iface *ci, struct ccid_slot *s, const uint8_t *msg,
		       const uint8_t *d, size_t n);

static void handle_cmd(struct ccid_iface *ci, const uint8_t *msg, size_t len)
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
	if (len > msg_max(ci)) {
		/* More than the reader's buffer: it cannot take the command. */
		reply(ci, resp_type(type), msg, ST_FAILED | st, ERR_BAD_LENGTH, 0, NULL, 0);
		return;
	}

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
	case 0x6b: /* PC_to_RDR_Escape: Gemalto's vendor commands */
		cmd_escape(ci, s, msg, data, dlen);
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
	case 0x69: /* PC_to_RDR_Secure */
		if (!slot_present(s) || !s->powered) {
			reply(ci, 0x80, msg, ST_FAILED | st, ERR_ICC_MUTE, 0, NULL, 0);
			break;
		}
		pinpad_secure(ci, s, msg, data, dlen);
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
		sim_stats.set_rate_clock++;
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


/* ---- pinpad (pinpad.c): PC_to_RDR_Secure answers ------------------------- */

void ccid_datablock(struct ccid_iface *ci, const uint8_t *msg, bool failed, uint8_t err,
		    const uint8_t *data, size_t dlen)
{
	uint8_t st = msg[5] < ci->n_slots ? icc_status(&ci->slots[msg[5]]) : 2;

	reply(ci, 0x80, msg, (uint8_t)(failed ? ST_FAILED | st : st), err, 0, data, dlen);
}

void ccid_xfr_block(struct ccid_iface *ci, struct ccid_slot *s, const uint8_t *msg,
		    const uint8_t *data, size_t dlen)
{
	cmd_xfr_block(ci, s, msg, data, dlen);
}

/* Gemalto pinpad start-up Escapes (libccid-facts: 02, 6A, 1F 02, B2 A0, B5 00) */
static void cmd_escape(struct ccid_iface *ci, struct ccid_slot *s, const uint8_t *msg,
		       const uint8_t *d, size_t n)
{
	static const char fw[] = "GemTwPPD2.11"; /* "firmware version" */
	/* GET_FIRMWARE_FEATURES: LCD 2x16, validation 0x02, PIN min/max 4..8,
	 * VerifyPinStart/Finish, ModifyPinStart/Finish, no PPDU */
	static const uint8_t feat[] = { 0x02, 0x10, 0x01, 0x02, 0x1f, 0x04, 0x08, 0x00,
					0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 };
	uint8_t st = icc_status(s);

	sim_stats.escape++;
	if (ci->idVendor != 0x08e6 || n == 0) {
		reply(ci, 0x83, msg, ST_FAILED | st, ERR_CMD_NOT_SUPPORTED, 0, NULL, 0);
		return;
	}
	if (n == 1 && d[0] == 0x02)
		reply(ci, 0x83, msg, st, 0, 0, (const uint8_t *)fw, sizeof(fw) - 1);
	else if (n == 1 && d[0] == 0x6a)
		reply(ci, 0x83, msg, st, 0, 0, feat, sizeof(feat));
	else if (n == 2 && d[0] == 0x1f && (d[1] == 0x01 || d[1] == 0x02))
		reply(ci, 0x83, msg, st, 0, 0, NULL, 0);
	else if ((n >= 2 && d[0] == 0xb2 && d[1] == 0xa0) || (n == 2 && d[0] == 0xb5))
		reply(ci, 0x83, msg, st, 0, 0, NULL, 0);
	else
		reply(ci, 0x83, msg, ST_FAILED | st, ERR_CMD_NOT_SUPPORTED, 0, NULL, 0);
}

/* ---- faults on the answer, busy slots ------------------------------------ */

/* Slots with an answer still queued (their command is in flight). */
static unsigned slots_in_flight(const struct ccid_iface *ci, int slot, bool *self)
{
	uint8_t seen[SIM_MAX_SLOTS] = { 0 };
	unsigned n = 0;

	*self = false;
	for (const struct sim_msg *m = ci->bulk_in_q; m; m = m->next) {
		if (m->len < 10 || m->data[5] >= SIM_MAX_SLOTS)
			continue;
		if (m->data[5] == slot)
			*self = true;
		if (!seen[m->data[5]]++)
			n++;
	}
	if (ci->wtx_forever) {
		if (ci->wtx_hdr[5] == slot)
			*self = true;
		if (ci->wtx_hdr[5] < SIM_MAX_SLOTS && !seen[ci->wtx_hdr[5]]++)
			n++;
	}
	return n;
}

static void fail_with(struct ccid_iface *ci, const uint8_t *msg, uint8_t error)
{
	uint8_t slot = msg[5];
	uint8_t st = slot < ci->n_slots ? icc_status(&ci->slots[slot]) : 2;

	reply(ci, resp_type(msg[0]), msg, ST_FAILED | st, error, 0, NULL, 0);
}

/*
 * Persistent bulk-IN silence: `silent` (for ARG ms from the command that
 * fires it) and `wedge` (until a USB reset). The command is counted and
 * never answered; what was queued is lost.
 */
static bool swallowed(struct ccid_iface *ci, int type, int64_t now)
{
	long arg;

	if (fault_take(FAULT_WEDGE, type, NULL)) {
		ci->wedged = true;
		ccid_drop_replies(ci);
	} else if (fault_take(FAULT_SILENT, type, &arg)) {
		ci->silent_until = now + arg * 1000;
		ccid_drop_replies(ci);
	}
	if (!ci->wedged && now >= ci->silent_until)
		return false;
	sim_stats.cmd[type]++;
	return true;
}

/*
 * reply-after-next: the answers of one command are held back until the
 * host sends another command (an Abort does not count: the host gave up
 * on the first); they go out just before that command's answers, as the
 * late reply to a timed-out command reaches a host waiting for the next.
 */
static void defer_or_release(struct ccid_iface *ci, int type, struct sim_msg **out)
{
	struct sim_msg **tail;

	if (ci->deferred && type != 0x72) {
		for (tail = &ci->deferred; *tail; tail = &(*tail)->next)
			;
		*tail = *out;
		*out = ci->deferred;
		ci->deferred = NULL;
	}
	if (*out && fault_take(FAULT_REPLY_AFTER_NEXT, type, NULL)) {
		for (tail = &ci->deferred; *tail; tail = &(*tail)->next)
			;
		*tail = *out;
		*out = NULL;
	}
}

void ccid_handle_out(struct ccid_iface *ci, const uint8_t *msg, size_t len)
{
	struct sim_msg **mark, *fresh, *m, *out = NULL, **otail = &out;
	int type;
	long arg;
	bool self;
	unsigned busy, max_busy;
	int64_t now = g_get_monotonic_time(), base;

	if (len < 10)
		return;
	type = msg[0];
	/* a new command ends a wtx-forever (the host gave up waiting) */
	ci->wtx_forever = false;
	if (swallowed(ci, type, now))
		return;
	if (fault_take(FAULT_NO_REPLY, type, NULL)) {
		sim_stats.cmd[type]++;
		return;
	}
	if (fault_take(FAULT_UNPLUG_DURING_XFR, type, NULL)) {
		sim_stats.cmd[type]++;
		sim_unplug_soon();
		return;
	}
	if (msg[5] < ci->n_slots && ci->slots[msg[5]].card &&
	    fault_take(FAULT_CARD_REMOVE_DURING_XFR, type, NULL))
		ccid_card_remove(ci, msg[5]);

	if (msg[5] < ci->n_slots)
		ci->slots[msg[5]].apdu_taken = false;
	/* CCID rev 1.1 section 6.2.6: a command for a slot that is still busy,
	 * or beyond bMaxCCIDBusySlots busy slots, gets CMD_SLOT_BUSY */
	busy = slots_in_flight(ci, msg[5], &self);
	max_busy = ci->desc->ccid.bMaxCCIDBusySlots ? ci->desc->ccid.bMaxCCIDBusySlots : 1;
	mark = ci->bulk_in_tail;
	if (type != 0x72 && (self || busy >= max_busy) && busy > 0 && ci->n_slots > 1) {
		sim_stats.cmd[type]++;
		sim_stats.busy_replies++;
		fail_with(ci, msg, 0xe0);
	} else if (fault_take(FAULT_MUTE, type, NULL)) {
		sim_stats.cmd[type]++;
		fail_with(ci, msg, ERR_ICC_MUTE);
	} else if (fault_take(FAULT_HW_ERROR, type, NULL)) {
		sim_stats.cmd[type]++;
		fail_with(ci, msg, ERR_HW_ERROR);
	} else if (fault_take(FAULT_SLOT_BUSY, type, NULL)) {
		sim_stats.cmd[type]++;
		fail_with(ci, msg, 0xe0);
	} else if (fault_take(FAULT_NO_ICC, type, NULL)) {
		/* "no ICC present" although the card is there: no interrupt */
		sim_stats.cmd[type]++;
		reply(ci, resp_type(msg[0]), msg, ST_FAILED | 2, ERR_ICC_MUTE, 0, NULL, 0);
	} else {
		handle_cmd(ci, msg, len);
	}
	/* the answers this command produced: *mark onwards */
	fresh = *mark;
	*mark = NULL;
	ci->bulk_in_tail = mark;
	for (m = fresh; m; m = m->next)
		ci->bulk_in_n--;
	if (!fresh)
		return;
	{
		unsigned inflight = slots_in_flight(ci, -1, &self) + 1;

		if (inflight > sim_stats.max_in_flight)
			sim_stats.max_in_flight = inflight;
	}
	base = now;
	if (fault_take(FAULT_WTX_FOREVER, type, &arg)) {
		memcpy(ci->wtx_hdr, fresh->data, 10);
		put_le32(ci->wtx_hdr + 1, 0);
		ci->wtx_hdr[7] = (uint8_t)(0x80 | (fresh->data[7] & 3));
		ci->wtx_hdr[8] = 1; /* BWT multiplier */
		ci->wtx_hdr[9] = 0;
		ci->wtx_forever = true;
		ci->wtx_next = now;
		ci->wtx_period = arg * 1000;
		while ((m = fresh)) {
			fresh = m->next;
			free(m);
		}
		return;
	}
	if (fault_take(FAULT_STALL_IN, type, NULL)) {
		while ((m = fresh)) { /* lost with the halt */
			fresh = m->next;
			free(m);
		}
		sim_backend->halt_in(ci);
		return;
	}
	if (fault_take(FAULT_WTX, type, &arg)) {
		for (long k = 0; k < arg; k++) {
			m = msg_new(10);
			memcpy(m->data, fresh->data, 10);
			put_le32(m->data + 1, 0);
			m->data[7] = (uint8_t)(0x80 | (fresh->data[7] & 3));
			m->data[8] = 1;
			m->data[9] = 0;
			m->due = base + k * 50000;
			sim_stats.wtx_sent++;
			*otail = m;
			otail = &m->next;
		}
		base += arg * 50000;
	}
	if (fault_take(FAULT_LATE_REPLY, type, &arg))
		base += arg * 1000;
	/* a slow card (builtin delay=MS): its slot's answer waits, the other
	 * slots' commands are taken and answered meanwhile */
	if (msg[5] < ci->n_slots && ci->slots[msg[5]].apdu_taken &&
	    ci->slots[msg[5]].card)
		base += (int64_t)ci->slots[msg[5]].card->delay_ms * 1000;
	if (fault_take(FAULT_ZLP_BEFORE_REPLY, type, NULL)) {
		m = msg_new(0);
		m->due = base;
		*otail = m;
		otail = &m->next;
	}
	{
		bool dup = fault_take(FAULT_DUP_REPLY, type, NULL);
		bool wseq = fault_take(FAULT_WRONG_SEQ, type, NULL);
		bool wslot = fault_take(FAULT_WRONG_SLOT, type, NULL);
		bool wtype = fault_take(FAULT_WRONG_TYPE, type, NULL);
		long blen = -1, trunc = -1;
		bool over = fault_take(FAULT_OVERSIZE, type, NULL);

		if (!fault_take(FAULT_BAD_LENGTH, type, &blen))
			blen = -1;
		long rdata = -1, inerr = -1;

		if (!fault_take(FAULT_TRUNCATE, type, &trunc))
			trunc = -1;
		if (!fault_take(FAULT_REPLY_DATA, type, &rdata))
			rdata = -1;
		if (!fault_take(FAULT_IN_ERROR, type, &inerr))
			inerr = -1;
		/* only commands answered by RDR_to_PC_Parameters use it up */
		bool plen0 = (type == 0x61 || type == 0x6c || type == 0x6d) &&
			     fault_take(FAULT_PARAMS_LEN0, type, NULL);
		while ((m = fresh)) {
			fresh = m->next;
			m->next = NULL;
			if (m->len >= 10 && rdata >= 0) {
				/* reply-data: short, long (+FF), empty; dwLength follows */
				size_t dl = m->len - 10;
				size_t nl = rdata == 0 ? (dl ? dl - 1 : 0) : rdata == 1 ? dl + 1 : 0;
				struct sim_msg *b = msg_new(10 + nl);

				memcpy(b->data, m->data, 10 + (nl < dl ? nl : dl));
				if (nl > dl)
					b->data[10 + dl] = 0xff;
				put_le32(b->data + 1, (uint32_t)nl);
				free(m);
				m = b;
				rdata = -1;
			}
			if (inerr >= 0) {
				m->status = inerr == 0 ? -EOVERFLOW : inerr == 1 ? -EPROTO : -EILSEQ;
				inerr = -1;
			}
			if (m->len >= 10) {
				if (plen0 && m->data[0] == 0x82)
					put_le32(m->data + 1, 0);
				if (wseq)
					m->data[6]++;
				if (wslot)
					m->data[5]++;
				if (wtype)
					m->data[0] = m->data[0] == 0x80 ? 0x81 : 0x80;
				if (blen == 0)
					put_le32(m->data + 1, get_le32(m->data + 1) + 1);
				else if (blen == 1)
					put_le32(m->data + 1, get_le32(m->data + 1) - 1);
				else if (blen == 2)
					put_le32(m->data + 1, get_le32(m->data + 1) + 64);
				if (over) {
					uint32_t max = ci->desc->ccid.dwMaxCCIDMessageLength;
					size_t dl = max >= 10 ? max - 9 : 1;
					struct sim_msg *b = msg_new(10 + dl);

					memcpy(b->data, m->data, m->len < 10 + dl ? m->len : 10 + dl);
					put_le32(b->data + 1, (uint32_t)dl);
					free(m);
					m = b;
				}
				if (trunc >= 0 && (size_t)trunc < m->len)
					m->len = (size_t)trunc;
			}
			m->due = base;
			*otail = m;
			otail = &m->next;
			if (dup) {
				struct sim_msg *c = msg_new(m->len);

				memcpy(c->data, m->data, m->len);
				c->due = base;
				*otail = c;
				otail = &c->next;
				dup = false;
			}
		}
	}
	defer_or_release(ci, type, &out);
	while ((m = out)) {
		out = m->next;
		enqueue(ci, m);
	}
}
