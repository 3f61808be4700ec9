/*
 * openccid - EMV payment card model: the commands (card.h).
 *
 * Sections cited are EMV 4.3 Book 1 (T=0, SELECT, the PSE) and Book 3
 * (GPO, READ RECORD, GET DATA, VERIFY, status words: section 6.3.5 and
 * Annex A), ISO 7816-4 section 5.1 for the command APDU cases.
 */
#include "card.h"
#include "perso.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct emv_card {
	struct emv_perso p;
	bool contactless;
	int sel; /* dirs[] index of the selected name, -1: none */
	bool gpo_done;
	uint16_t atc[EMV_DIRS];
	unsigned pin_tries; /* kept across sessions, as in the card's memory */
	uint8_t pending[EMV_MAX_RESP];
	size_t pending_len;
	bool has_pending;
	uint8_t pending_cla; /* CLA of the command whose data is pending */
	bool strict_gr;	     /* GET RESPONSE with CLA 00 only */
};

struct apdu {
	uint8_t cla, ins, p1, p2;
	const uint8_t *data;
	size_t nc;
	size_t ne;   /* with has_le: Le (P3 of a case 2 TPDU), 00 = 256 */
	bool has_le; /* cases 2 and 4 */
};

/* A handler's result before the interface's rules deliver it. */
struct out {
	uint8_t d[EMV_MAX_RESP];
	size_t n;
	uint16_t sw;
};

struct emv_card *emv_card_new(void)
{
	struct emv_card *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (emv_perso_build(&c->p) < 0) {
		free(c);
		return NULL;
	}
	for (unsigned i = 0; i < c->p.n_dirs; i++)
		c->atc[i] = c->p.dirs[i].atc;
	c->pin_tries = c->p.pin_tries_max;
	c->sel = -1;
	return c;
}

void emv_card_strict_get_response(struct emv_card *card, bool strict)
{
	if (card)
		card->strict_gr = strict;
}

void emv_card_free(struct emv_card *card)
{
	free(card);
}

static void session_reset(struct emv_card *c, bool contactless)
{
	c->contactless = contactless;
	c->sel = -1;
	c->gpo_done = false;
	c->has_pending = false;
	c->pending_len = 0;
}

size_t emv_card_power_on(struct emv_card *card, uint8_t *atr, size_t cap)
{
	if (!card || !atr || cap < card->p.atr_len)
		return 0;
	session_reset(card, false);
	memcpy(atr, card->p.atr, card->p.atr_len);
	return card->p.atr_len;
}

int emv_card_activate(struct emv_card *card, uint8_t *uid, size_t uid_cap,
		      size_t *uid_len, uint8_t *ats, size_t ats_cap,
		      size_t *ats_len)
{
	if (!card || !uid || !uid_len || !ats || !ats_len ||
	    uid_cap < sizeof(card->p.uid) || ats_cap < card->p.ats_len)
		return -1;
	session_reset(card, true);
	memcpy(uid, card->p.uid, sizeof(card->p.uid));
	*uid_len = sizeof(card->p.uid);
	memcpy(ats, card->p.ats, card->p.ats_len);
	*ats_len = card->p.ats_len;
	return 0;
}

/* ISO 7816-4 section 5.1, short APDUs only (EMV has no extended ones).
 * Over T=0 a case 4 command arrives as a case 3 TPDU (the reader or the
 * driver drops Le): both parse, with has_le telling them apart. */
static int apdu_parse(const uint8_t *b, size_t n, struct apdu *a)
{
	memset(a, 0, sizeof(*a));
	if (n < 4)
		return -1;
	a->cla = b[0];
	a->ins = b[1];
	a->p1 = b[2];
	a->p2 = b[3];
	if (n == 4)
		return 0;
	if (n == 5) {
		a->ne = b[4] ? b[4] : 256;
		a->has_le = true;
		return 0;
	}
	if (b[4] == 0)
		return -1; /* extended length: not this card */
	a->nc = b[4];
	a->data = b + 5;
	if (n == 5 + a->nc)
		return 0;
	if (n == 6 + a->nc) {
		a->ne = b[n - 1] ? b[n - 1] : 256;
		a->has_le = true;
		return 0;
	}
	return -1;
}

static void put(struct out *o, const uint8_t *v, size_t n)
{
	if (n > sizeof(o->d)) {
		o->sw = 0x6f00; /* cannot happen with perso.c's sizes */
		return;
	}
	memcpy(o->d, v, n);
	o->n = n;
	o->sw = 0x9000;
}

static const struct emv_dir *selected_app(const struct emv_card *c)
{
	if (c->sel < 0 || !c->p.dirs[c->sel].gpo.n)
		return NULL;
	return &c->p.dirs[c->sel];
}

/* SELECT by DF name (Book 1 section 11.3): P2 00 the first name that
 * starts with the given bytes, 02 the next one after the current. */
static void cmd_select(struct emv_card *c, const struct apdu *a, struct out *o)
{
	int from = 0;

	if (a->p1 != 0x04 || (a->p2 != 0x00 && a->p2 != 0x02)) {
		o->sw = 0x6a86;
		return;
	}
	if (a->p2 == 0x02)
		from = c->sel + 1;
	for (int i = from; i < (int)c->p.n_dirs; i++) {
		const struct emv_dir *d = &c->p.dirs[i];
		bool here = c->contactless ? d->contactless : d->contact;

		if (!here || !a->nc || a->nc > d->name_len ||
		    memcmp(d->name, a->data, a->nc) != 0)
			continue;
		c->sel = i;
		c->gpo_done = false;
		put(o, d->fci.b, d->fci.n);
		return;
	}
	o->sw = 0x6a82;
}

/* GET PROCESSING OPTIONS (Book 3 section 6.5.8): data 83 L with the
 * PDOL-related data the FCI asked for, once per selection. */
static void cmd_gpo(struct emv_card *c, const struct apdu *a, struct out *o)
{
	const struct emv_dir *d = selected_app(c);

	if (a->p1 || a->p2) {
		o->sw = 0x6a86;
		return;
	}
	if (!d || c->gpo_done) {
		o->sw = 0x6985;
		return;
	}
	if (a->nc < 2 || a->data[0] != 0x83 || a->data[1] != a->nc - 2 ||
	    a->data[1] != d->pdol_len) {
		o->sw = 0x6700;
		return;
	}
	c->gpo_done = true;
	c->atc[c->sel]++;
	put(o, d->gpo.b, d->gpo.n);
}

/* READ RECORD (Book 3 section 6.5.11): P1 record, P2 SFI << 3 | 4. */
static void cmd_read_record(struct emv_card *c, const struct apdu *a, struct out *o)
{
	const struct emv_dir *d;
	uint8_t sfi = a->p2 >> 3;
	bool file = false;

	if ((a->p2 & 7) != 4 || !sfi || a->nc) {
		o->sw = a->nc ? 0x6700 : 0x6a86;
		return;
	}
	if (c->sel < 0) {
		o->sw = 0x6985;
		return;
	}
	d = &c->p.dirs[c->sel];
	for (unsigned i = 0; i < d->n_recs; i++) {
		if (d->recs[i].sfi != sfi)
			continue;
		file = true;
		if (d->recs[i].no == a->p1) {
			put(o, d->recs[i].v.b, d->recs[i].v.n);
			return;
		}
	}
	o->sw = file ? 0x6a83 : 0x6a82;
}

/* GET DATA (Book 3 section 6.5.7): the answer is the whole TLV. */
static void cmd_get_data(struct emv_card *c, const struct apdu *a, struct out *o)
{
	const struct emv_dir *d = selected_app(c);
	uint16_t tag = (uint16_t)(a->p1 << 8 | a->p2);
	uint8_t v[4];
	const uint8_t *val = NULL;
	size_t n = 0;

	if (!d) {
		o->sw = 0x6985;
		return;
	}
	if (tag == 0x9f17) { /* PIN try counter */
		v[0] = (uint8_t)c->pin_tries;
		val = v;
		n = 1;
	} else if (tag == 0x9f36) { /* ATC */
		v[0] = (uint8_t)(c->atc[c->sel] >> 8);
		v[1] = (uint8_t)c->atc[c->sel];
		val = v;
		n = 2;
	} else {
		for (unsigned i = 0; i < d->n_dos; i++)
			if (d->dos[i].tag == tag) {
				val = d->dos[i].v.b;
				n = d->dos[i].v.n;
			}
	}
	if (!val || n > 0x7f) {
		o->sw = 0x6a88;
		return;
	}
	o->d[0] = a->p1;
	o->d[1] = a->p2;
	o->d[2] = (uint8_t)n;
	memcpy(o->d + 3, val, n);
	o->n = 3 + n;
	o->sw = 0x9000;
}

/* The digits of a plaintext PIN block (Book 3 section 6.5.12): 2L, L BCD
 * digits (4..12), F filler, 8 bytes.  Returns false when malformed. */
static bool pin_block(const uint8_t *b, size_t n, char *out, size_t cap)
{
	size_t len;

	if (n != 8 || (b[0] >> 4) != 2)
		return false;
	len = b[0] & 15;
	if (len < 4 || len > 12 || len + 1 > cap)
		return false;
	for (size_t i = 0; i < 14; i++) {
		unsigned nib = (b[1 + i / 2] >> (i % 2 ? 0 : 4)) & 15;

		if (i < len && nib > 9)
			return false;
		if (i >= len && nib != 15)
			return false;
		if (i < len)
			out[i] = (char)('0' + nib);
	}
	out[len] = 0;
	return true;
}

static void cmd_verify(struct emv_card *c, const struct apdu *a, struct out *o)
{
	char pin[13];

	if (a->p1 != 0x00 || a->p2 != 0x80) {
		o->sw = 0x6a86; /* only plaintext offline PIN */
		return;
	}
	if (!selected_app(c)) {
		o->sw = 0x6985;
		return;
	}
	if (a->nc != 8) {
		o->sw = 0x6700;
		return;
	}
	if (!c->pin_tries) {
		o->sw = 0x6983;
		return;
	}
	if (!pin_block(a->data, a->nc, pin, sizeof(pin))) {
		o->sw = 0x6a80;
		return;
	}
	if (!strcmp(pin, c->p.pin)) {
		c->pin_tries = c->p.pin_tries_max;
		o->sw = 0x9000;
		return;
	}
	c->pin_tries--;
	o->sw = c->pin_tries ? (uint16_t)(0x63c0 | c->pin_tries) : 0x6983;
}

static void dispatch(struct emv_card *c, const struct apdu *a, struct out *o)
{
	uint8_t want_cla = (a->ins == 0xa8 || a->ins == 0xca) ? 0x80 : 0x00;

	o->n = 0;
	o->sw = 0x6d00;
	if (a->ins != 0xa4 && a->ins != 0xa8 && a->ins != 0xb2 &&
	    a->ins != 0xca && a->ins != 0x20)
		return;
	if (a->cla != want_cla) {
		o->sw = 0x6e00;
		return;
	}
	switch (a->ins) {
	case 0xa4:
		cmd_select(c, a, o);
		break;
	case 0xa8:
		cmd_gpo(c, a, o);
		break;
	case 0xb2:
		cmd_read_record(c, a, o);
		break;
	case 0xca:
		cmd_get_data(c, a, o);
		break;
	default:
		cmd_verify(c, a, o);
		break;
	}
}

static size_t sw(uint8_t *r, size_t off, uint16_t w)
{
	r[off] = (uint8_t)(w >> 8);
	r[off + 1] = (uint8_t)w;
	return off + 2;
}

/* Data kept for GET RESPONSE; the answer is 61 La (La 00: 256). */
static size_t defer(struct emv_card *c, uint8_t cla, const uint8_t *d, size_t n,
		    uint8_t *r)
{
	c->pending_cla = cla;
	memmove(c->pending, d, n);
	c->pending_len = n;
	c->has_pending = true;
	return sw(r, 0, (uint16_t)(0x6100 | (n & 0xff)));
}

/* GET RESPONSE (ISO 7816-4 section 7.6.1; Book 1 section 9.3.1.3):
 * P3 = what 61 La said gives the data; more asks 6C La; less gives
 * that much and 61 with the rest. CLA 00 as Book 1 writes it; the CLA of
 * the command that left the data is taken too (the convention of GSM
 * cards, A0 C0, that readers and drivers copy), unless the card is
 * strict (card option). */
static size_t get_response(struct emv_card *c, const struct apdu *a,
			   uint8_t *r, size_t cap)
{
	size_t give;

	if (a->cla != 0x00 &&
	    (c->strict_gr || !c->has_pending || a->cla != c->pending_cla)) {
		c->has_pending = false;
		return sw(r, 0, 0x6e00);
	}
	if (a->p1 || a->p2 || a->nc) {
		c->has_pending = false;
		return sw(r, 0, a->nc ? 0x6700 : 0x6a86);
	}
	if (!c->has_pending)
		return sw(r, 0, 0x6985);
	if (!a->has_le || a->ne > c->pending_len)
		return sw(r, 0, (uint16_t)(0x6c00 | (c->pending_len & 0xff)));
	give = a->ne < cap - 2 ? a->ne : cap - 2;
	memcpy(r, c->pending, give);
	if (give < c->pending_len) {
		size_t left = c->pending_len - give;

		memmove(c->pending, c->pending + give, left);
		c->pending_len = left;
		return sw(r, give, (uint16_t)(0x6100 | (left & 0xff)));
	}
	c->has_pending = false;
	return sw(r, give, 0x9000);
}

/* The interface's rules for a handler's result. */
static size_t deliver(struct emv_card *c, const struct apdu *a,
		      struct out *o, uint8_t *r, size_t cap)
{
	if (o->sw != 0x9000 || !o->n)
		return sw(r, 0, o->sw);
	if (!c->contactless && !a->has_le)
		return defer(c, a->cla, o->d, o->n, r); /* T=0 case 3 (or 1): 61 La */
	if (!c->contactless && a->nc)
		return defer(c, a->cla, o->d, o->n, r); /* case 4 through T=0 */
	if (a->has_le && a->ne != o->n && (!c->contactless || a->ne < o->n))
		return sw(r, 0, (uint16_t)(0x6c00 | (o->n & 0xff)));
	if (o->n > cap - 2)
		return defer(c, a->cla, o->d, o->n, r);
	memcpy(r, o->d, o->n);
	return sw(r, o->n, 0x9000);
}

int emv_card_apdu(struct emv_card *card, const uint8_t *cmd, size_t len,
		  uint8_t *resp, size_t cap, size_t *rlen)
{
	struct apdu a;
	struct out o;

	if (!card || !cmd || !resp || !rlen || cap < 2)
		return -1;
	if (apdu_parse(cmd, len, &a) < 0) {
		card->has_pending = false;
		*rlen = sw(resp, 0, 0x6700);
		return 0;
	}
	if (a.ins == 0xc0) {
		*rlen = get_response(card, &a, resp, cap);
		return 0;
	}
	card->has_pending = false;
	dispatch(card, &a, &o);
	*rlen = deliver(card, &a, &o, resp, cap);
	return 0;
}
