/*
 * The firmware of a contactless slot (profile key ifN.contactless): what a
 * PC/SC reader does for an ISO 14443-4 card in its field, so that the host
 * sees it like a contact card.
 *
 * - The ATR: the card has none, it sent an ATS after RATS. PC/SC part 3
 *   section 3.1.3.2.3 has the reader build 3B 8n 80 01 T1..Tn TCK for a
 *   type A card, T1..Tn the historical bytes of the ATS (at most 15).
 * - GET DATA (PC/SC part 3 section 3.2.2.1.3), CLA FF, answered by the
 *   reader, never sent to the card: FF CA 00 00 Le the UID, FF CA 01 00 Le
 *   the ATS (readers differ here: the spec names the ATS's historical
 *   bytes, SpringCard and Identiv firmware give the whole ATS without CRC,
 *   as this model does). Le 00: all of it; a shorter Le: 6C La; a longer
 *   one: the data and 62 82.
 * - The card arriving and leaving the field are slot events: the
 *   simulator's card-insert / card-remove.
 * Cards without a contactless interface of their own (card_ops.rf_activate
 * NULL) get a random-UID type A identity: UID 08 53 49 4D, and an ATS
 * carrying their contact ATR's historical bytes.
 */
#include "sim.h"

#include <string.h>

#define ATR_HIST_MAX 15

size_t rf_atr_from_ats(const uint8_t *ats, size_t n, uint8_t *atr, size_t cap)
{
	size_t i, k;
	uint8_t tck = 0;

	/* ISO 14443-4 section 5.2: TL counts itself; T0 b8 is RFU (0);
	 * b5..b7 announce TA1, TB1, TC1 */
	if (!ats || !atr || n < 2 || ats[0] != n || (ats[1] & 0x80))
		return 0;
	i = 2 + (size_t)(((ats[1] >> 4) & 1) + ((ats[1] >> 5) & 1) +
			 ((ats[1] >> 6) & 1));
	if (i > n)
		return 0;
	k = n - i;
	if (k > ATR_HIST_MAX)
		k = ATR_HIST_MAX;
	if (cap < 4 + k + 1)
		return 0;
	atr[0] = 0x3b;
	atr[1] = (uint8_t)(0x80 | k); /* TD1 follows, k historical bytes */
	atr[2] = 0x80;		      /* TD1: TD2 follows, T=0 */
	atr[3] = 0x01;		      /* TD2: T=1 */
	memcpy(atr + 4, ats + i, k);
	for (size_t j = 1; j < 4 + k; j++)
		tck ^= atr[j];
	atr[4 + k] = tck;
	return 4 + k + 1;
}

/* The historical bytes of a contact ATR (ISO 7816-3 section 8.2.2). */
static size_t atr_hist(const uint8_t *atr, size_t n, const uint8_t **h)
{
	size_t i = 2, k;
	uint8_t y;

	if (n < 2)
		return 0;
	k = atr[1] & 15;
	y = atr[1];
	for (;;) {
		i += (size_t)(((y >> 4) & 1) + ((y >> 5) & 1) + ((y >> 6) & 1));
		if (!(y & 0x80))
			break;
		if (i >= n)
			return 0;
		y = atr[i++];
	}
	if (i > n || k > n - i)
		return 0;
	*h = atr + i;
	return k;
}

/* An identity for a card that has no contactless interface of its own. */
static void rf_derive(struct ccid_slot *s)
{
	static const uint8_t uid[] = { 0x08, 0x53, 0x49, 0x4d };
	const uint8_t *h = NULL;
	size_t k = atr_hist(s->atr, s->atr_len, &h);

	if (k > ATR_HIST_MAX)
		k = ATR_HIST_MAX;
	memcpy(s->rf_uid, uid, sizeof(uid));
	s->rf_uid_len = sizeof(uid);
	/* TL, T0 (TA1 TB1 TC1, FSCI 8), TA1 80, TB1 70, TC1 02 */
	s->rf_ats[0] = (uint8_t)(5 + k);
	s->rf_ats[1] = 0x78;
	s->rf_ats[2] = 0x80;
	s->rf_ats[3] = 0x70;
	s->rf_ats[4] = 0x02;
	if (k)
		memcpy(s->rf_ats + 5, h, k);
	s->rf_ats_len = 5 + k;
}

int rf_activate(struct ccid_slot *s)
{
	struct card *c = s->card;
	size_t n;

	s->rf_uid_len = s->rf_ats_len = 0;
	if (c->ops->rf_activate) {
		if (c->ops->rf_activate(c, s->rf_uid, &s->rf_uid_len, s->rf_ats,
					&s->rf_ats_len) < 0 ||
		    (s->rf_uid_len != 4 && s->rf_uid_len != 7 && s->rf_uid_len != 10) ||
		    s->rf_ats_len > sizeof(s->rf_ats))
			return -1;
	} else {
		rf_derive(s);
	}
	n = rf_atr_from_ats(s->rf_ats, s->rf_ats_len, s->atr, sizeof(s->atr));
	if (!n)
		return -1;
	s->atr_len = n;
	return 0;
}

static size_t put_sw(uint8_t *r, size_t off, uint16_t w)
{
	r[off] = (uint8_t)(w >> 8);
	r[off + 1] = (uint8_t)w;
	return off + 2;
}

bool rf_get_data(const uint8_t *uid, size_t uid_len, const uint8_t *ats,
		 size_t ats_len, const uint8_t *apdu, size_t len, uint8_t *resp,
		 size_t *rlen)
{
	const uint8_t *d;
	size_t n, le;

	if (len < 2 || apdu[0] != 0xff)
		return false; /* the card's */
	if (apdu[1] != 0xca) {
		*rlen = put_sw(resp, 0, 0x6d00);
		return true;
	}
	if (len != 5) { /* case 2 only: FF CA P1 P2 Le */
		*rlen = put_sw(resp, 0, 0x6700);
		return true;
	}
	if (apdu[3] != 0x00 || apdu[2] > 0x01) {
		*rlen = put_sw(resp, 0, 0x6a81); /* function not supported */
		return true;
	}
	d = apdu[2] ? ats : uid;
	n = apdu[2] ? ats_len : uid_len;
	le = apdu[4] ? apdu[4] : 256;
	if (le < n) {
		*rlen = put_sw(resp, 0, (uint16_t)(0x6c00 | n));
		return true;
	}
	memcpy(resp, d, n);
	*rlen = put_sw(resp, n, le > n && apdu[4] ? 0x6282 : 0x9000);
	return true;
}
