/*
 * Character-level readers (dwFeatures exchange level 0, CCID rev 1.1
 * sections 3.2.1 and 6.1.4): the reader moves characters. An XfrBlock
 * carries characters for the card, and wLevelParameter says how many
 * characters the reader collects from the card before it answers; fewer
 * within the waiting time is a mute card (bError ICC_MUTE).
 *
 * The card's character stream is made here from the TPDU-level card
 * layers of ccid.c (xfr_t0, xfr_t1), whose one reply is captured:
 * - T=0 (ISO 7816-3 section 10.3.3): the header is collected; a command
 *   that sends data (P3 > 0, an INS that takes data) is acknowledged with
 *   INS ^ FF (one byte) first and INS for the rest when P3 >= 2; its
 *   answer (61xx or the status) follows a NULL (60). A command that
 *   receives data is answered NULL, INS, the data, SW1 SW2; fewer data
 *   than P3 asked for is 6C La (section 10.3.4).
 * - T=1 (section 11): a whole block from the host is run through the
 *   block layer; the card's block is then read in as many XfrBlocks as
 *   the host likes (prologue, then LEN + EDC).
 */
#include "sim.h"

#include <string.h>

#define ERR_ICC_MUTE 0xfe
#define ST_FAILED 0x40
#define PB_NULL 0x60

/* Commands of the built-in and other card models that send data to the
 * host (case 2): their P3 is Le, every other INS with P3 > 0 takes P3
 * bytes of data (cases 3 and 4). */
bool sim_t0_receives(uint8_t ins)
{
	switch (ins) {
	case 0xb0: /* READ BINARY */
	case 0xb2: /* READ RECORD */
	case 0xc0: /* GET RESPONSE */
	case 0x84: /* GET CHALLENGE */
	case 0xca: /* GET DATA */
	case 0x12: /* GET ENVELOPE */
		return true;
	default:
		return false;
	}
}

static void out_add(struct ccid_slot *s, const uint8_t *b, size_t n)
{
	if (n > sizeof(s->chr_out) - s->chr_out_len)
		n = sizeof(s->chr_out) - s->chr_out_len;
	memcpy(s->chr_out + s->chr_out_len, b, n);
	s->chr_out_len += n;
}

static void out_byte(struct ccid_slot *s, uint8_t b)
{
	out_add(s, &b, 1);
}

/* One whole TPDU/block through the TPDU-level layer; false: mute. */
static bool run_layer(struct ccid_iface *ci, struct ccid_slot *s, const uint8_t *cmd,
		      const uint8_t *d, size_t n, struct sim_capture *c)
{
	struct sim_capture *outer;

	memset(c, 0, sizeof(*c));
	outer = ccid_capture(c);
	if (s->protocol == 1)
		xfr_t1(ci, s, cmd, d, n);
	else
		xfr_t0(ci, s, cmd, d, n);
	ccid_capture(outer);
	return c->set && !(c->status & ST_FAILED);
}

/* The collected T=0 command is complete: the card answers. */
static bool t0_execute(struct ccid_iface *ci, struct ccid_slot *s, const uint8_t *cmd)
{
	struct sim_capture c;
	uint8_t ins = s->chr_in[1];
	size_t le = s->chr_in[4] ? s->chr_in[4] : 256;
	bool receiving = s->chr_in_len == 5;

	if (!run_layer(ci, s, cmd, s->chr_in, s->chr_in_len, &c) || c.len < 2)
		return false;
	s->chr_in_len = 0;
	out_byte(s, PB_NULL); /* the card takes its time: one NULL */
	if (receiving && c.len > 2) {
		if (c.len - 2 != le) {
			/* section 10.3.4: wrong length, La available */
			uint8_t sw[2] = { 0x6c, (uint8_t)(c.len - 2) };

			out_add(s, sw, 2);
			return true;
		}
		out_byte(s, ins);
	}
	out_add(s, c.data, c.len);
	return true;
}

/* Characters from the host to a T=0 card. */
static bool t0_feed(struct ccid_iface *ci, struct ccid_slot *s, const uint8_t *cmd,
		    const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s->chr_in_len >= sizeof(s->chr_in))
			return false;
		s->chr_in[s->chr_in_len++] = d[i];
		if (s->chr_in_len < 5)
			continue;
		if (s->chr_in_len == 5) {
			uint8_t ins = s->chr_in[1], p3 = s->chr_in[4];

			if (p3 == 0 || sim_t0_receives(ins)) {
				if (!t0_execute(ci, s, cmd))
					return false;
				continue;
			}
			s->chr_need = p3;
			/* one byte first (INS ^ FF), then INS for the rest */
			out_byte(s, p3 >= 2 ? (uint8_t)(ins ^ 0xff) : ins);
			continue;
		}
		if (s->chr_need == 0)
			return false; /* more than P3: the card would not listen */
		s->chr_need--;
		if (s->chr_need == 0) {
			if (!t0_execute(ci, s, cmd))
				return false;
		} else if (s->chr_in_len == 6) {
			out_byte(s, s->chr_in[1]); /* INS: all the rest */
		}
	}
	return true;
}

void ccid_char_xfr(struct ccid_iface *ci, struct ccid_slot *s, const uint8_t *cmd,
		   const uint8_t *d, size_t n)
{
	size_t expect = (size_t)cmd[8] | (size_t)cmd[9] << 8;
	bool ok = true;

	if (n > 0) {
		if (s->protocol == 1) {
			struct sim_capture c;

			/* a new block: what was not read of the last is gone */
			s->chr_out_len = 0;
			ok = run_layer(ci, s, cmd, d, n, &c);
			if (ok)
				out_add(s, c.data, c.len);
		} else {
			ok = t0_feed(ci, s, cmd, d, n);
		}
	}
	if (!ok || expect > s->chr_out_len) {
		/* the card went quiet before `expect` characters */
		s->chr_out_len = s->chr_in_len = s->chr_need = 0;
		ccid_datablock(ci, cmd, true, ERR_ICC_MUTE, NULL, 0);
		return;
	}
	ccid_datablock(ci, cmd, false, 0, s->chr_out, expect);
	memmove(s->chr_out, s->chr_out + expect, s->chr_out_len - expect);
	s->chr_out_len -= expect;
}
