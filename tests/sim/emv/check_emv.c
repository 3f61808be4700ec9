/*
 * openccid - Check suite for the EMV card model (tests/sim/emv) and the
 * contactless reader firmware's codecs (tests/sim/rf.c): the T=0 and
 * contactless behaviours, the commands, malformed APDUs.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../sim.h"
#include "card.h"

static struct emv_card *card;
static uint8_t r[EMV_MAX_RESP];
static size_t rn;

static const uint8_t pse[] = "1PAY.SYS.DDF01";
static const uint8_t ppse[] = "2PAY.SYS.DDF01";
static const uint8_t aid_debit[] = { 0xa0, 0, 0, 0, 0x04, 0x30, 0x60 };
static const uint8_t aid_domestic[] = { 0xa0, 0, 0, 0x01, 0x41, 0x00, 0x01 };

static unsigned sw(void)
{
	ck_assert_uint_ge(rn, 2);
	return (unsigned)(r[rn - 2] << 8 | r[rn - 1]);
}

/* Sends the bytes, returns the status word. */
static unsigned xfer(const uint8_t *cmd, size_t len)
{
	ck_assert_int_eq(emv_card_apdu(card, cmd, len, r, sizeof(r), &rn), 0);
	ck_assert_uint_le(rn, sizeof(r));
	return sw();
}

/* CLA INS P1 P2 [Lc data] [Le]; le < 0: none. */
static unsigned cmd(uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2,
		    const uint8_t *data, size_t lc, int le)
{
	uint8_t b[5 + 255 + 1];
	size_t n = 4;

	b[0] = cla;
	b[1] = ins;
	b[2] = p1;
	b[3] = p2;
	if (lc) {
		b[n++] = (uint8_t)lc;
		memcpy(b + n, data, lc);
		n += lc;
	}
	if (le >= 0)
		b[n++] = (uint8_t)le;
	return xfer(b, n);
}

static unsigned select_name(const uint8_t *name, size_t n, int le)
{
	return cmd(0x00, 0xa4, 0x04, 0x00, name, n, le);
}

static void contact(void)
{
	uint8_t atr[33];

	card = emv_card_new();
	ck_assert_ptr_nonnull(card);
	ck_assert_uint_eq(emv_card_power_on(card, atr, sizeof(atr)), 12);
	ck_assert_uint_eq(atr[0], 0x3b);
}

static void contactless(void)
{
	uint8_t uid[10], ats[32];
	size_t ul, al;

	card = emv_card_new();
	ck_assert_ptr_nonnull(card);
	ck_assert_int_eq(emv_card_activate(card, uid, sizeof(uid), &ul, ats,
					   sizeof(ats), &al), 0);
	ck_assert_uint_eq(ul, 4);
	ck_assert_uint_eq(uid[0], 0x08);
	ck_assert_uint_eq(al, ats[0]);
}

static void teardown(void)
{
	emv_card_free(card);
	card = NULL;
}

/* T=0: a case 3 TPDU answers 61 La, GET RESPONSE with La gives the FCI. */
START_TEST(t0_select_get_response)
{
	unsigned la;

	contact();
	ck_assert_uint_eq(select_name(pse, 14, -1) >> 8, 0x61);
	la = r[1];
	ck_assert_uint_eq(cmd(0x00, 0xc0, 0, 0, NULL, 0, (int)la + 1), 0x6c00 | la);
	ck_assert_uint_eq(cmd(0x00, 0xc0, 0, 0, NULL, 0, 2), 0x6100 | (la - 2));
	ck_assert_uint_eq(r[0], 0x6f);
	ck_assert_uint_eq(cmd(0x00, 0xc0, 0, 0, NULL, 0, (int)la - 2), 0x9000);
	ck_assert_uint_eq(rn, la - 2 + 2);
	/* nothing left */
	ck_assert_uint_eq(cmd(0x00, 0xc0, 0, 0, NULL, 0, 0), 0x6985);
	/* case 4 through T=0 (Le kept): still 61 La */
	ck_assert_uint_eq(select_name(aid_debit, 7, 0) >> 8, 0x61);
	teardown();
}
END_TEST

/* T=0 case 2 with P3 other than the record's length: 6C La, then the
 * record with the right P3. */
START_TEST(t0_read_record_6c)
{
	unsigned la;

	contact();
	ck_assert_uint_eq(select_name(pse, 14, -1) >> 8, 0x61);
	ck_assert_uint_eq(cmd(0x00, 0xb2, 1, 0x0c, NULL, 0, 0) >> 8, 0x6c);
	la = r[1];
	ck_assert_uint_eq(cmd(0x00, 0xb2, 1, 0x0c, NULL, 0, (int)la), 0x9000);
	ck_assert_uint_eq(rn, la + 2);
	ck_assert_uint_eq(r[0], 0x70);
	ck_assert_uint_eq(r[2], 0x61);
	ck_assert_mem_eq(r + 6, aid_debit, 7);
	ck_assert_uint_eq(cmd(0x00, 0xb2, 3, 0x0c, NULL, 0, 0), 0x6a83);
	ck_assert_uint_eq(cmd(0x00, 0xb2, 1, 0x14, NULL, 0, 0), 0x6a82);
	/* the PPSE is not on the contact interface */
	ck_assert_uint_eq(select_name(ppse, 14, 0), 0x6a82);
	teardown();
}
END_TEST

START_TEST(cl_ppse_and_apps)
{
	contactless();
	ck_assert_uint_eq(select_name(pse, 14, 0), 0x6a82);
	ck_assert_uint_eq(select_name(ppse, 14, 0), 0x9000);
	ck_assert_uint_eq(r[0], 0x6f);
	/* both applications listed */
	ck_assert_ptr_nonnull(memmem(r, rn, aid_debit, 7));
	ck_assert_ptr_nonnull(memmem(r, rn, aid_domestic, 7));
	/* a shorter Le: 6C La */
	ck_assert_uint_eq(select_name(ppse, 14, 5) >> 8, 0x6c);
	/* partial name, first then next occurrence */
	ck_assert_uint_eq(select_name(aid_debit, 3, 0), 0x9000);
	ck_assert_ptr_nonnull(memmem(r, rn, aid_debit, 7));
	ck_assert_uint_eq(cmd(0x00, 0xa4, 0x04, 0x02, aid_debit, 3, 0), 0x9000);
	ck_assert_ptr_nonnull(memmem(r, rn, aid_domestic, 7));
	ck_assert_uint_eq(cmd(0x00, 0xa4, 0x04, 0x02, aid_debit, 3, 0), 0x6a82);
	ck_assert_uint_eq(select_name(aid_debit, 5, 0), 0x9000);
	ck_assert_uint_eq(cmd(0x00, 0xa4, 0x04, 0x02, aid_debit, 5, 0), 0x6a82);
	teardown();
}
END_TEST

START_TEST(gpo_rules)
{
	uint8_t pdol[2 + 15] = { 0x83, 15 };
	uint8_t empty[2] = { 0x83, 0 };

	contactless();
	ck_assert_uint_eq(cmd(0x80, 0xa8, 0, 0, empty, 2, 0), 0x6985); /* no app */
	ck_assert_uint_eq(select_name(aid_debit, 7, 0), 0x9000);
	ck_assert_uint_eq(cmd(0x80, 0xa8, 0, 0, empty, 2, 0), 0x6700);
	ck_assert_uint_eq(cmd(0x80, 0xa8, 1, 0, pdol, 17, 0), 0x6a86);
	ck_assert_uint_eq(cmd(0x80, 0xa8, 0, 0, pdol, 16, 0), 0x6700);
	ck_assert_uint_eq(cmd(0x00, 0xa8, 0, 0, pdol, 17, 0), 0x6e00);
	ck_assert_uint_eq(cmd(0x80, 0xa8, 0, 0, pdol, 17, 0), 0x9000);
	ck_assert_uint_eq(r[0], 0x77); /* format 2 */
	ck_assert_uint_eq(cmd(0x80, 0xa8, 0, 0, pdol, 17, 0), 0x6985);
	ck_assert_uint_eq(cmd(0x80, 0xca, 0x9f, 0x36, NULL, 0, 0), 0x9000);
	ck_assert_uint_eq(rn, 5 + 2);
	ck_assert_uint_eq(r[4], 0x2b); /* the ATC counted the GPO */
	ck_assert_uint_eq(select_name(aid_domestic, 7, 0), 0x9000);
	ck_assert_uint_eq(cmd(0x80, 0xa8, 0, 0, empty, 2, 0), 0x9000);
	ck_assert_uint_eq(r[0], 0x80); /* format 1 */
	teardown();
}
END_TEST

START_TEST(get_data_and_verify)
{
	static const uint8_t wrong[8] = { 0x24, 0x99, 0x99, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t right[8] = { 0x24, 0x12, 0x34, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t bad[8] = { 0x24, 0x1a, 0x34, 0xff, 0xff, 0xff, 0xff, 0xff };

	contactless();
	ck_assert_uint_eq(cmd(0x80, 0xca, 0x9f, 0x17, NULL, 0, 0), 0x6985);
	ck_assert_uint_eq(select_name(aid_debit, 7, 0), 0x9000);
	ck_assert_uint_eq(cmd(0x80, 0xca, 0x9f, 0x17, NULL, 0, 0), 0x9000);
	ck_assert_uint_eq(rn, 4 + 2);
	ck_assert_uint_eq(r[3], 3);
	ck_assert_uint_eq(cmd(0x00, 0x20, 0x00, 0x80, wrong, 8, -1), 0x63c2);
	ck_assert_uint_eq(cmd(0x00, 0x20, 0x00, 0x80, bad, 8, -1), 0x6a80);
	ck_assert_uint_eq(cmd(0x00, 0x20, 0x00, 0x80, wrong, 7, -1), 0x6700);
	ck_assert_uint_eq(cmd(0x00, 0x20, 0x00, 0x88, right, 8, -1), 0x6a86);
	ck_assert_uint_eq(cmd(0x80, 0xca, 0x9f, 0x17, NULL, 0, 0), 0x9000);
	ck_assert_uint_eq(r[3], 2);
	ck_assert_uint_eq(cmd(0x00, 0x20, 0x00, 0x80, right, 8, -1), 0x9000);
	ck_assert_uint_eq(cmd(0x80, 0xca, 0x9f, 0x17, NULL, 0, 0), 0x9000);
	ck_assert_uint_eq(r[3], 3);
	/* log entry and format; the domestic application has no log */
	ck_assert_uint_eq(cmd(0x80, 0xca, 0x9f, 0x4d, NULL, 0, 0), 0x9000);
	ck_assert_uint_eq(r[3], 0x0b);
	ck_assert_uint_eq(cmd(0x80, 0xca, 0x9f, 0x4f, NULL, 0, 0), 0x9000);
	ck_assert_uint_eq(cmd(0x00, 0xb2, 1, (11 << 3) | 4, NULL, 0, 0), 0x9000);
	ck_assert_uint_eq(rn, 17 + 2);
	ck_assert_uint_eq(cmd(0x00, 0xb2, 4, (11 << 3) | 4, NULL, 0, 0), 0x6a83);
	ck_assert_uint_eq(cmd(0x80, 0xca, 0x9f, 0x7f, NULL, 0, 0), 0x6a88);
	ck_assert_uint_eq(select_name(aid_domestic, 7, 0), 0x9000);
	ck_assert_uint_eq(cmd(0x80, 0xca, 0x9f, 0x4d, NULL, 0, 0), 0x6a88);
	ck_assert_uint_eq(cmd(0x00, 0xb2, 1, (11 << 3) | 4, NULL, 0, 0), 0x6a82);
	teardown();
}
END_TEST

START_TEST(pin_blocked)
{
	static const uint8_t wrong[8] = { 0x24, 0x99, 0x99, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t right[8] = { 0x24, 0x12, 0x34, 0xff, 0xff, 0xff, 0xff, 0xff };

	contactless();
	ck_assert_uint_eq(select_name(aid_debit, 7, 0), 0x9000);
	ck_assert_uint_eq(cmd(0x00, 0x20, 0x00, 0x80, wrong, 8, -1), 0x63c2);
	ck_assert_uint_eq(cmd(0x00, 0x20, 0x00, 0x80, wrong, 8, -1), 0x63c1);
	ck_assert_uint_eq(cmd(0x00, 0x20, 0x00, 0x80, wrong, 8, -1), 0x6983);
	ck_assert_uint_eq(cmd(0x00, 0x20, 0x00, 0x80, right, 8, -1), 0x6983);
	ck_assert_uint_eq(cmd(0x80, 0xca, 0x9f, 0x17, NULL, 0, 0), 0x9000);
	ck_assert_uint_eq(r[3], 0);
	teardown();
}
END_TEST

START_TEST(malformed)
{
	static const uint8_t short3[] = { 0x00, 0xa4, 0x04 };
	static const uint8_t lc_long[] = { 0x00, 0xa4, 0x04, 0x00, 0x05, 0x01 };
	static const uint8_t ext[] = { 0x00, 0xb2, 0x01, 0x0c, 0x00, 0x00, 0x00 };
	uint8_t small[3];
	size_t n;

	contactless();
	ck_assert_uint_eq(xfer(short3, sizeof(short3)), 0x6700);
	ck_assert_uint_eq(xfer(lc_long, sizeof(lc_long)), 0x6700);
	ck_assert_uint_eq(xfer(ext, sizeof(ext)), 0x6700);
	ck_assert_uint_eq(cmd(0x00, 0x12, 0, 0, NULL, 0, 0), 0x6d00);
	ck_assert_uint_eq(cmd(0x84, 0xa4, 4, 0, pse, 14, 0), 0x6e00);
	ck_assert_uint_eq(cmd(0x00, 0xa4, 0, 0, pse, 14, 0), 0x6a86);
	ck_assert_uint_eq(cmd(0x00, 0xb2, 1, 0x0c, NULL, 0, 0), 0x6985); /* nothing selected */
	ck_assert_uint_eq(select_name(ppse, 14, 0), 0x9000);
	ck_assert_uint_eq(cmd(0x00, 0xb2, 1, 0x0d, NULL, 0, 0), 0x6a86);
	ck_assert_uint_eq(cmd(0x00, 0xb2, 1, 0x04, NULL, 0, 0), 0x6a86);
	ck_assert_uint_eq(cmd(0x00, 0xc0, 0, 0, NULL, 0, 0), 0x6985);
	ck_assert_int_eq(emv_card_apdu(card, short3, 3, small, 1, &n), -1);
	ck_assert_int_eq(emv_card_apdu(NULL, short3, 3, small, 3, &n), -1);
	/* a buffer too small for the FCI: 61 La, then GET RESPONSE */
	ck_assert_int_eq(emv_card_apdu(card, (const uint8_t[]){ 0x00, 0xa4, 0x04, 0x00, 0x0e,
		'2', 'P', 'A', 'Y', '.', 'S', 'Y', 'S', '.', 'D', 'D', 'F', '0', '1', 0x00 },
				       20, small, sizeof(small), &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(small[0], 0x61);
	teardown();
}
END_TEST

/* PC/SC part 3 section 3.1.3.2.3 */
START_TEST(rf_atr)
{
	static const uint8_t ats[] = { 0x0c, 0x78, 0x80, 0x70, 0x02, 'E', 'M', 'V', 'C', 'L', '0', '1' };
	static const uint8_t want[] = { 0x3b, 0x87, 0x80, 0x01, 'E', 'M', 'V', 'C', 'L', '0', '1', 0x00 };
	uint8_t atr[33], w[sizeof(want)], big[40];
	uint8_t tck = 0;

	memcpy(w, want, sizeof(w));
	for (size_t i = 1; i + 1 < sizeof(w); i++)
		tck ^= w[i];
	w[sizeof(w) - 1] = tck;
	ck_assert_uint_eq(rf_atr_from_ats(ats, sizeof(ats), atr, sizeof(atr)), sizeof(w));
	ck_assert_mem_eq(atr, w, sizeof(w));
	/* TL not the length, T0 b8 set, interface bytes past the end, cap */
	ck_assert_uint_eq(rf_atr_from_ats(ats, sizeof(ats) - 1, atr, sizeof(atr)), 0);
	ck_assert_uint_eq(rf_atr_from_ats((const uint8_t[]){ 0x02, 0xf8 }, 2, atr, sizeof(atr)), 0);
	ck_assert_uint_eq(rf_atr_from_ats((const uint8_t[]){ 0x03, 0x78, 0x80 }, 3, atr, sizeof(atr)), 0);
	ck_assert_uint_eq(rf_atr_from_ats(ats, sizeof(ats), atr, 11), 0);
	ck_assert_uint_eq(rf_atr_from_ats(ats, 1, atr, sizeof(atr)), 0);
	/* no historical bytes; more than 15: the first 15 */
	ck_assert_uint_eq(rf_atr_from_ats((const uint8_t[]){ 0x02, 0x08 }, 2, atr, sizeof(atr)), 5);
	ck_assert_uint_eq(atr[1], 0x80);
	memset(big, 'x', sizeof(big));
	big[0] = 22;
	big[1] = 0x08;
	ck_assert_uint_eq(rf_atr_from_ats(big, 22, atr, sizeof(atr)), 4 + 15 + 1);
	ck_assert_uint_eq(atr[1], 0x8f);
}
END_TEST

START_TEST(rf_get_data_cmd)
{
	static const uint8_t uid[] = { 0x08, 0x45, 0x4d, 0x56 };
	static const uint8_t ats[] = { 0x05, 0x78, 0x80, 0x70, 0x02 };
	uint8_t out[300];
	size_t n = 0;

	ck_assert(!rf_get_data(uid, 4, ats, 5, (const uint8_t[]){ 0x00, 0xca, 0, 0, 0 }, 5, out, &n));
	ck_assert(rf_get_data(uid, 4, ats, 5, (const uint8_t[]){ 0xff, 0xca, 0, 0, 0 }, 5, out, &n));
	ck_assert_uint_eq(n, 6);
	ck_assert_mem_eq(out, uid, 4);
	ck_assert_uint_eq(out[4] << 8 | out[5], 0x9000);
	ck_assert(rf_get_data(uid, 4, ats, 5, (const uint8_t[]){ 0xff, 0xca, 1, 0, 0 }, 5, out, &n));
	ck_assert_uint_eq(n, 7);
	ck_assert_mem_eq(out, ats, 5);
	ck_assert(rf_get_data(uid, 4, ats, 5, (const uint8_t[]){ 0xff, 0xca, 0, 0, 2 }, 5, out, &n));
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(out[0] << 8 | out[1], 0x6c04);
	ck_assert(rf_get_data(uid, 4, ats, 5, (const uint8_t[]){ 0xff, 0xca, 0, 0, 9 }, 5, out, &n));
	ck_assert_uint_eq(n, 6);
	ck_assert_uint_eq(out[4] << 8 | out[5], 0x6282);
	ck_assert(rf_get_data(uid, 4, ats, 5, (const uint8_t[]){ 0xff, 0xca, 2, 0, 0 }, 5, out, &n));
	ck_assert_uint_eq(out[0] << 8 | out[1], 0x6a81);
	ck_assert(rf_get_data(uid, 4, ats, 5, (const uint8_t[]){ 0xff, 0xca, 0, 1, 0 }, 5, out, &n));
	ck_assert_uint_eq(out[0] << 8 | out[1], 0x6a81);
	ck_assert(rf_get_data(uid, 4, ats, 5, (const uint8_t[]){ 0xff, 0xca, 0, 0 }, 4, out, &n));
	ck_assert_uint_eq(out[0] << 8 | out[1], 0x6700);
	ck_assert(rf_get_data(uid, 4, ats, 5, (const uint8_t[]){ 0xff, 0xb0, 0, 0, 0 }, 5, out, &n));
	ck_assert_uint_eq(out[0] << 8 | out[1], 0x6d00);
	ck_assert(!rf_get_data(uid, 4, ats, 5, (const uint8_t[]){ 0xff }, 1, out, &n));
}
END_TEST

/* GET RESPONSE's class: 00, or the command's (80 C0 after GPO) unless
 * strict; a strict card refuses 80 C0 and the data is gone. */
START_TEST(get_response_class)
{
	static const uint8_t empty[2] = { 0x83, 0 };

	contact();
	ck_assert_uint_eq(select_name(aid_domestic, 7, -1), 0x6100 | r[1]);
	ck_assert_uint_eq(cmd(0x80, 0xc0, 0, 0, NULL, 0, r[1]), 0x6e00);
	ck_assert_uint_eq(select_name(aid_domestic, 7, -1) >> 8, 0x61);
	ck_assert_uint_eq(cmd(0x00, 0xc0, 0, 0, NULL, 0, r[1]), 0x9000);
	ck_assert_uint_eq(cmd(0x80, 0xa8, 0, 0, empty, 2, -1), 0x6108);
	ck_assert_uint_eq(cmd(0x80, 0xc0, 0, 0, NULL, 0, 8), 0x9000);
	ck_assert_uint_eq(r[0], 0x80);
	emv_card_strict_get_response(card, true);
	ck_assert_uint_eq(select_name(aid_domestic, 7, -1) >> 8, 0x61);
	ck_assert_uint_eq(cmd(0x00, 0xc0, 0, 0, NULL, 0, r[1]), 0x9000);
	ck_assert_uint_eq(cmd(0x80, 0xa8, 0, 0, empty, 2, -1), 0x6108);
	ck_assert_uint_eq(cmd(0x80, 0xc0, 0, 0, NULL, 0, 8), 0x6e00);
	ck_assert_uint_eq(cmd(0x00, 0xc0, 0, 0, NULL, 0, 8), 0x6985);
	teardown();
}
END_TEST

/* A card without a contactless interface of its own in a contactless
 * slot: UID 08 53 49 4D, an ATS with its contact ATR's historical bytes. */
static const struct card_ops plain_ops = { .kind = "plain" };

START_TEST(rf_activate_derived)
{
	static const uint8_t t1_atr[] = { 0x3b, 0x8a, 0x81, 0x31, 0xfe, 0x45, 'O', 'P', 'E',
					  'N', 'C', 'C', 'I', 'D', '0', '1', 0x00 };
	static const uint8_t want[] = { 0x3b, 0x8a, 0x80, 0x01, 'O', 'P', 'E', 'N', 'C',
					'C', 'I', 'D', '0', '1' };
	struct card plain = { .ops = &plain_ops };
	struct ccid_slot s;
	uint8_t tck = 0;

	memset(&s, 0, sizeof(s));
	s.card = &plain;
	s.contactless = true;
	memcpy(s.atr, t1_atr, sizeof(t1_atr));
	s.atr_len = sizeof(t1_atr);
	ck_assert_int_eq(rf_activate(&s), 0);
	ck_assert_uint_eq(s.rf_uid_len, 4);
	ck_assert_uint_eq(s.rf_uid[0], 0x08);
	ck_assert_uint_eq(s.rf_ats_len, 15);
	ck_assert_uint_eq(s.rf_ats[0], 15);
	ck_assert_mem_eq(s.rf_ats + 5, "OPENCCID01", 10);
	ck_assert_uint_eq(s.atr_len, sizeof(want) + 1);
	ck_assert_mem_eq(s.atr, want, sizeof(want));
	for (size_t i = 1; i < sizeof(want); i++)
		tck ^= want[i];
	ck_assert_uint_eq(s.atr[sizeof(want)], tck);
	/* an ATR whose historical bytes run past its end: no ATS bytes */
	s.atr[1] = 0x8f;
	s.atr_len = 8;
	ck_assert_int_eq(rf_activate(&s), 0);
	ck_assert_uint_eq(s.rf_ats_len, 5);
	ck_assert_uint_eq(s.atr[1], 0x80);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("emv");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, t0_select_get_response);
	tcase_add_test(tc, t0_read_record_6c);
	tcase_add_test(tc, cl_ppse_and_apps);
	tcase_add_test(tc, gpo_rules);
	tcase_add_test(tc, get_data_and_verify);
	tcase_add_test(tc, pin_blocked);
	tcase_add_test(tc, malformed);
	tcase_add_test(tc, get_response_class);
	tcase_add_test(tc, rf_atr);
	tcase_add_test(tc, rf_get_data_cmd);
	tcase_add_test(tc, rf_activate_derived);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
