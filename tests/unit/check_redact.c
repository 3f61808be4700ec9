/*
 * openccid - tests for log redaction of CCID messages.
 */
#include "config.h"

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/ccid_msg.h"
#include "base/err.h"
#include "codec/redact.h"

static const uint8_t pin_ascii[] = {'1', '2', '3', '4', '5', '6'};
/* ISO 9564 format 2 PIN block for 123456 */
static const uint8_t pin_bcd[] = {
    0x26, 0x12, 0x34, 0x56, 0xFF, 0xFF, 0xFF, 0xFF};

/* Wrap data into a CCID message of the given type. */
static size_t
make_msg(uint8_t type, const uint8_t *data, size_t n, uint8_t *out, size_t cap)
{
	struct ccid_cmd c;
	size_t len = 0;

	memset(&c, 0, sizeof(c));
	c.type = type;
	c.seq = 0x21;
	c.data = data;
	c.data_len = n;
	ck_assert_int_eq(ccid_msg_encode(&c, out, cap, &len), OC_OK);
	return len;
}

static size_t
concat(uint8_t *out, const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
	memmove(out, a, na);
	memmove(out + na, b, nb);
	return na + nb;
}

static bool
contains(const uint8_t *h, size_t hn, const uint8_t *nd, size_t nn)
{
	for (size_t i = 0; i + nn <= hn; i++)
		if (memcmp(h + i, nd, nn) == 0)
			return true;
	return false;
}

/* No PIN digit survives; everything outside the range is unchanged. */
static void
check_redacted(const uint8_t *msg, size_t len, enum ccid_level level,
    size_t want_off, size_t want_len)
{
	uint8_t *in = malloc(len);
	uint8_t out[300];
	struct redact_range r;

	ck_assert_ptr_nonnull(in);
	memcpy(in, msg, len);
	ck_assert_int_eq(redact_ccid_msg(in, len, level, out, len, &r), OC_OK);
	ck_assert_uint_eq(r.off, want_off);
	ck_assert_uint_eq(r.len, want_len);
	for (size_t i = 0; i < len; i++) {
		if (i >= r.off && i < r.off + r.len)
			ck_assert_uint_eq(out[i], 0);
		else
			ck_assert_uint_eq(out[i], msg[i]);
	}
	ck_assert(!contains(out, len, pin_ascii, 2));
	ck_assert(!contains(out, len, pin_bcd + 1, 2));
	ck_assert(!contains(out, len, pin_bcd + 2, 2));
	/* the input is not modified */
	ck_assert_mem_eq(in, msg, len);
	free(in);
}

static void
check_untouched(const uint8_t *msg, size_t len, enum ccid_level level)
{
	uint8_t out[300];
	struct redact_range r = {7, 7};

	ck_assert_int_eq(redact_ccid_msg(msg, len, level, out, len, &r), OC_OK);
	ck_assert_uint_eq(r.len, 0);
	ck_assert_mem_eq(out, msg, len);
}

static const uint8_t verify_hdr[] = {0x00, 0x20, 0x00, 0x81};

START_TEST(test_apdu_verify_ascii)
{
	uint8_t apdu[32], msg[64];
	size_t n = concat(apdu, verify_hdr, 4, (const uint8_t[]){0x06}, 1);
	size_t len;

	n = concat(apdu, apdu, n, pin_ascii, sizeof(pin_ascii));
	len = make_msg(PC_TO_RDR_XFRBLOCK, apdu, n, msg, sizeof(msg));
	ck_assert(contains(msg, len, pin_ascii, 6));
	check_redacted(msg, len, CCID_XCHG_SHORT_APDU, 15, 6);
	check_redacted(msg, len, CCID_XCHG_EXTENDED_APDU, 15, 6);
	/* T=0 TPDU at TPDU level has the same layout */
	check_redacted(msg, len, CCID_XCHG_TPDU, 15, 6);
}
END_TEST

START_TEST(test_apdu_verify_bcd)
{
	uint8_t apdu[32], msg[64];
	size_t n = concat(apdu, verify_hdr, 4, (const uint8_t[]){0x08}, 1);
	size_t len;

	n = concat(apdu, apdu, n, pin_bcd, sizeof(pin_bcd));
	len = make_msg(PC_TO_RDR_XFRBLOCK, apdu, n, msg, sizeof(msg));
	check_redacted(msg, len, CCID_XCHG_SHORT_APDU, 15, 8);
}
END_TEST

START_TEST(test_apdu_extended_and_other_ins)
{
	static const uint8_t ext[] = {0x00, 0x20, 0x00, 0x81, 0x00, 0x00, 0x06,
	    '1', '2', '3', '4', '5', '6'};
	/* CHANGE REFERENCE DATA: old PIN 123456, new PIN 123456 */
	static const uint8_t change[] = {0x00, 0x24, 0x00, 0x81, 0x0C, '1', '2',
	    '3', '4', '5', '6', '1', '2', '3', '4', '5', '6'};
	/* RESET RETRY COUNTER: PUK then new PIN */
	static const uint8_t rrc[] = {0x00, 0x2C, 0x00, 0x81, 0x0E, '8', '7',
	    '6', '5', '4', '3', '2', '1', '1', '2', '3', '4', '5', '6'};
	/* VERIFY odd INS, data in a BER-TLV */
	static const uint8_t odd[] = {0x00, 0x21, 0x00, 0x00, 0x08, 0x5F, 0x2E,
	    0x06, '1', '2', '3', '4', '5', '6'};
	uint8_t msg[64];
	size_t len;

	len = make_msg(PC_TO_RDR_XFRBLOCK, ext, sizeof(ext), msg, sizeof(msg));
	check_redacted(msg, len, CCID_XCHG_EXTENDED_APDU, 17, 6);
	len = make_msg(
	    PC_TO_RDR_XFRBLOCK, change, sizeof(change), msg, sizeof(msg));
	check_redacted(msg, len, CCID_XCHG_SHORT_APDU, 15, 12);
	len = make_msg(PC_TO_RDR_XFRBLOCK, rrc, sizeof(rrc), msg, sizeof(msg));
	check_redacted(msg, len, CCID_XCHG_SHORT_APDU, 15, 14);
	len = make_msg(PC_TO_RDR_XFRBLOCK, odd, sizeof(odd), msg, sizeof(msg));
	check_redacted(msg, len, CCID_XCHG_SHORT_APDU, 15, 9);
}
END_TEST

/* NAD PCB LEN, APDU, then LRC (or CRC) */
static size_t
make_iblock(uint8_t pcb, const uint8_t *apdu, size_t n, bool crc, uint8_t *out)
{
	uint8_t x = 0;

	out[0] = 0x00;
	out[1] = pcb;
	out[2] = (uint8_t)n;
	memcpy(out + 3, apdu, n);
	for (size_t i = 0; i < 3 + n; i++)
		x ^= out[i];
	out[3 + n] = x;
	if (crc) {
		/* value irrelevant here: only the 2-byte EDC length matters */
		out[4 + n] = 0x5A;
		return 5 + n;
	}
	return 4 + n;
}

START_TEST(test_tpdu_t1_iblock)
{
	uint8_t apdu[32], blk[48], msg[64];
	size_t n = concat(apdu, verify_hdr, 4, (const uint8_t[]){0x06}, 1);
	size_t bn, len;

	n = concat(apdu, apdu, n, pin_ascii, sizeof(pin_ascii));
	/* N(S) = 0, then N(S) = 1 */
	for (unsigned pcb = 0x00; pcb <= 0x40; pcb += 0x40) {
		bn = make_iblock((uint8_t)pcb, apdu, n, false, blk);
		len = make_msg(PC_TO_RDR_XFRBLOCK, blk, bn, msg, sizeof(msg));
		/* PIN and the LRC computed over it */
		check_redacted(msg, len, CCID_XCHG_TPDU, 18, 7);
		check_redacted(msg, len, CCID_XCHG_CHARACTER, 18, 7);
	}
	bn = make_iblock(0x00, apdu, n, true, blk);
	len = make_msg(PC_TO_RDR_XFRBLOCK, blk, bn, msg, sizeof(msg));
	check_redacted(msg, len, CCID_XCHG_TPDU, 18, 8);

	/* BCD PIN block in an I-block */
	n = concat(apdu, verify_hdr, 4, (const uint8_t[]){0x08}, 1);
	n = concat(apdu, apdu, n, pin_bcd, sizeof(pin_bcd));
	bn = make_iblock(0x40, apdu, n, false, blk);
	len = make_msg(PC_TO_RDR_XFRBLOCK, blk, bn, msg, sizeof(msg));
	check_redacted(msg, len, CCID_XCHG_TPDU, 18, 9);
}
END_TEST

START_TEST(test_secure_and_escape)
{
	/* PIN_VERIFY data (CCID 6.1.11.4) + APDU template; a bogus reader
	 * might even put digits in it */
	static const uint8_t secure[] = {0x00, 0x1E, 0x1E, 0x89, 0x47, 0x04,
	    0x08, 0x04, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00,
	    0x81, 0x08, 0x26, 0x12, 0x34, 0x56, 0xFF, 0xFF, 0xFF, 0xFF, '1',
	    '2', '3', '4', '5', '6'};
	static const uint8_t esc[] = {0x31, 0x32, 0x33, 0x34};
	uint8_t msg[64];
	size_t len;

	len = make_msg(
	    PC_TO_RDR_SECURE, secure, sizeof(secure), msg, sizeof(msg));
	check_redacted(msg, len, CCID_XCHG_TPDU, 10, sizeof(secure));
	check_redacted(msg, len, CCID_XCHG_SHORT_APDU, 10, sizeof(secure));
	len = make_msg(PC_TO_RDR_ESCAPE, esc, sizeof(esc), msg, sizeof(msg));
	check_redacted(msg, len, CCID_XCHG_SHORT_APDU, 10, 4);
	/* no payload: nothing to hide */
	len = make_msg(PC_TO_RDR_SECURE, NULL, 0, msg, sizeof(msg));
	check_untouched(msg, len, CCID_XCHG_TPDU);
}
END_TEST

START_TEST(test_non_pin_untouched)
{
	static const uint8_t select[] = {0x00, 0xA4, 0x04, 0x00, 0x06, 0xD2,
	    0x76, 0x00, 0x01, 0x24, 0x01, 0x00};
	static const uint8_t verify_status[] = {0x00, 0x20, 0x00, 0x81};
	static const uint8_t get_data[] = {0x00, 0xCA, 0x00, 0x6E, 0x00};
	static const uint8_t sblock[] = {0x00, 0xC1, 0x01, 0xFE, 0x3E};
	static const uint8_t reply[] = {0x80, 0x06, 0, 0, 0, 0, 0x21, 0, 0, 0,
	    '1', '2', '3', '4', 0x90, 0x00};
	static const uint8_t power[] = {0x62, 0, 0, 0, 0, 0, 0x01, 0x01, 0, 0};
	uint8_t blk[48], msg[64];
	size_t len, bn;

	len = make_msg(
	    PC_TO_RDR_XFRBLOCK, select, sizeof(select), msg, sizeof(msg));
	check_untouched(msg, len, CCID_XCHG_SHORT_APDU);
	check_untouched(msg, len, CCID_XCHG_TPDU);
	bn = make_iblock(0x00, select, sizeof(select), false, blk);
	len = make_msg(PC_TO_RDR_XFRBLOCK, blk, bn, msg, sizeof(msg));
	check_untouched(msg, len, CCID_XCHG_TPDU);
	/* VERIFY without data asks for the retry counter */
	len = make_msg(PC_TO_RDR_XFRBLOCK, verify_status, 4, msg, sizeof(msg));
	check_untouched(msg, len, CCID_XCHG_SHORT_APDU);
	bn = make_iblock(0x00, verify_status, 4, false, blk);
	len = make_msg(PC_TO_RDR_XFRBLOCK, blk, bn, msg, sizeof(msg));
	check_untouched(msg, len, CCID_XCHG_TPDU);
	len = make_msg(
	    PC_TO_RDR_XFRBLOCK, get_data, sizeof(get_data), msg, sizeof(msg));
	check_untouched(msg, len, CCID_XCHG_SHORT_APDU);
	/* S(IFS request) is not an I-block */
	len = make_msg(
	    PC_TO_RDR_XFRBLOCK, sblock, sizeof(sblock), msg, sizeof(msg));
	check_untouched(msg, len, CCID_XCHG_TPDU);
	check_untouched(reply, sizeof(reply), CCID_XCHG_SHORT_APDU);
	check_untouched(power, sizeof(power), CCID_XCHG_SHORT_APDU);
	/* shorter than a header */
	check_untouched(power, 5, CCID_XCHG_SHORT_APDU);
	check_untouched(power, 0, CCID_XCHG_SHORT_APDU);
}
END_TEST

START_TEST(test_errors)
{
	static const uint8_t power[] = {0x62, 0, 0, 0, 0, 0, 0x01, 0x01, 0, 0};
	uint8_t out[16];
	struct redact_range r = {3, 3};

	ck_assert_int_eq(
	    redact_ccid_msg(power, 10, CCID_XCHG_TPDU, out, 9, &r), OC_ENOSPC);
	ck_assert_uint_eq(r.off, 3);
	ck_assert_int_eq(
	    redact_ccid_msg(NULL, 10, CCID_XCHG_TPDU, out, 16, &r), OC_EINVAL);
	ck_assert_int_eq(
	    redact_ccid_msg(power, 10, CCID_XCHG_TPDU, out, 16, NULL), OC_OK);
}
END_TEST


/* One row of the policy: an APDU and the verdict it must get. */
struct case_row {
	const char *name;
	uint8_t apdu[16];
	size_t len;
	enum redact_class cls;
	unsigned hide;
	size_t data_off;
};

#define C REDACT_HIDE_CMD
#define A REDACT_HIDE_ANS

static const struct case_row rows[] = {
    {"VERIFY", {0x00, 0x20, 0x00, 0x81, 0x02, 0x31, 0x32}, 7, REDACT_PIN, C, 5},
    {"VERIFY odd", {0x00, 0x21, 0x00, 0x81, 0x02, 0x31, 0x32}, 7, REDACT_PIN, C, 5},
    {"CHANGE REF", {0x00, 0x24, 0x00, 0x81, 0x02, 0x31, 0x32}, 7, REDACT_PIN, C, 5},
    {"DISABLE VR", {0x00, 0x26, 0x00, 0x81, 0x02, 0x31, 0x32}, 7, REDACT_PIN, C, 5},
    {"ENABLE VR", {0x00, 0x28, 0x00, 0x81, 0x02, 0x31, 0x32}, 7, REDACT_PIN, C, 5},
    {"RESET RC", {0x00, 0x2C, 0x00, 0x81, 0x02, 0x31, 0x32}, 7, REDACT_PIN, C, 5},
    {"VERIFY status", {0x00, 0x20, 0x00, 0x81}, 4, REDACT_PIN, 0, 4},
    {"VERIFY ext", {0x00, 0x20, 0x00, 0x81, 0x00, 0x00, 0x02, 0x31, 0x32}, 9, REDACT_PIN, C, 7},
    {"PUT DATA D3", {0x00, 0xDA, 0x00, 0xD3, 0x02, 0x31, 0x32}, 7, REDACT_PIN, C, 5},
    {"PUT DATA D1", {0x00, 0xDA, 0x00, 0xD1, 0x02, 0x31, 0x32}, 7, REDACT_KEY, C, 5},
    {"PUT DATA D5", {0x00, 0xDA, 0x00, 0xD5, 0x02, 0x31, 0x32}, 7, REDACT_KEY, C, 5},
    {"PUT DATA 5E", {0x00, 0xDA, 0x00, 0x5E, 0x02, 0x31, 0x32}, 7, REDACT_CLEAR, 0, 5},
    {"key import", {0x00, 0xDB, 0x3F, 0xFF, 0x00, 0x00, 0x02, 0x4D, 0x00}, 9, REDACT_KEY, C, 7},
    {"key import chained", {0x10, 0xDB, 0x3F, 0xFF, 0x02, 0x4D, 0x00}, 7, REDACT_KEY, C, 5},
    {"LOAD KEYS", {0xFF, 0x82, 0x00, 0x00, 0x02, 0xA0, 0xA1}, 7, REDACT_KEY, C, 5},
    {"EXTERNAL AUTH", {0x00, 0x82, 0x00, 0x00, 0x02, 0xA0, 0xA1}, 7, REDACT_CLEAR, 0, 5},
    {"GENERAL AUTH FF", {0xFF, 0x86, 0x00, 0x00, 0x02, 0x01, 0x00}, 7, REDACT_KEY, C, 5},
    {"ENVELOPE", {0x00, 0xC2, 0x00, 0x00, 0x02, 0x00, 0x20}, 7, REDACT_WRAPPED, C, 5},
    {"ENVELOPE odd", {0x00, 0xC3, 0x00, 0x00, 0x02, 0x00, 0x20}, 7, REDACT_WRAPPED, C, 5},
    {"chained", {0x10, 0xA4, 0x04, 0x00, 0x02, 0x3F, 0x00}, 7, REDACT_WRAPPED, C, 5},
    {"chained further", {0x50, 0xA4, 0x04, 0x00, 0x02, 0x3F, 0x00}, 7, REDACT_WRAPPED, C, 5},
    {"SM", {0x0C, 0xA4, 0x04, 0x00, 0x02, 0x3F, 0x00}, 7, REDACT_SM, C, 5},
    {"SM further", {0x60, 0xA4, 0x04, 0x00, 0x02, 0x3F, 0x00}, 7, REDACT_SM, C, 5},
    {"GP secure channel", {0x84, 0xE2, 0x00, 0x00, 0x02, 0x3F, 0x00}, 7, REDACT_SM, C, 5},
    {"SM GET CHALLENGE", {0x0C, 0x84, 0x00, 0x00, 0x02, 0x3F, 0x00}, 7, REDACT_SM, C, 5},
    {"CLA RFU", {0x20, 0xA4, 0x04, 0x00, 0x02, 0x3F, 0x00}, 7, REDACT_MALFORMED, C, 5},
    {"GET DATA 0103", {0x00, 0xCA, 0x01, 0x03, 0x00}, 5, REDACT_ANSWER, A, 5},
    {"GET DATA 6E", {0x00, 0xCA, 0x00, 0x6E, 0x00}, 5, REDACT_CLEAR, 0, 5},
    {"GET CHALLENGE", {0x00, 0x84, 0x00, 0x00, 0x08}, 5, REDACT_CLEAR, 0, 5},
    {"SELECT", {0x00, 0xA4, 0x04, 0x00, 0x02, 0x3F, 0x00, 0x00}, 8, REDACT_CLEAR, 0, 5},
    {"UID", {0xFF, 0xCA, 0x00, 0x00, 0x00}, 5, REDACT_CLEAR, 0, 5},
    {"case 2E", {0x00, 0xB0, 0x00, 0x00, 0x00, 0x01, 0x00}, 7, REDACT_CLEAR, 0, 7},
    /* malformed: the lengths do not describe the bytes */
    {"short", {0x00, 0xA4, 0x04}, 3, REDACT_MALFORMED, C, 0},
    {"empty", {0}, 0, REDACT_MALFORMED, C, 0},
    {"Lc too long", {0x00, 0xA4, 0x04, 0x00, 0x05, 0x3F, 0x00}, 7, REDACT_MALFORMED, C, 4},
    {"Lc too short", {0x00, 0xA4, 0x04, 0x00, 0x01, 0x3F, 0x00, 0x00}, 8, REDACT_MALFORMED, C, 4},
    {"6 bytes ext", {0x00, 0xA4, 0x04, 0x00, 0x00, 0x01}, 6, REDACT_MALFORMED, C, 4},
    {"ext Lc 0", {0x00, 0xA4, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01}, 8, REDACT_MALFORMED, C, 4},
    {"ext Lc too long", {0x00, 0xA4, 0x04, 0x00, 0x00, 0x00, 0x05, 0x01}, 8, REDACT_MALFORMED, C, 4},
    {"malformed VERIFY", {0x00, 0x20, 0x00, 0x81, 0x09, 0x31}, 6, REDACT_PIN, C, 4},
};

START_TEST(test_classify_policy)
{
	const struct case_row *c = &rows[_i];
	struct redact_verdict v;
	struct redact_range rr;

	redact_classify(c->len > 0 ? c->apdu : NULL, c->len, &v);
	ck_assert_msg(v.cls == c->cls, "%s: class %s", c->name,
	    redact_class_name(v.cls));
	ck_assert_msg(v.hide == c->hide, "%s: hide %u", c->name, v.hide);
	ck_assert_msg(v.data_off == c->data_off, "%s: off %zu", c->name,
	    v.data_off);
	ck_assert_ptr_nonnull(v.what);
	/* The trace's range: from data_off to the end when the data hides. */
	redact_apdu(c->apdu, c->len, &rr);
	if ((c->hide & C) != 0 && c->data_off < c->len) {
		ck_assert_uint_eq(rr.off, c->data_off);
		ck_assert_uint_eq(rr.len, c->len - c->data_off);
	} else {
		ck_assert_uint_eq(rr.len, 0);
	}
}
END_TEST

/* The stateless check sees the same rows inside a CCID message. */
START_TEST(test_stateless_new_rows)
{
	static const uint8_t d3[] = {0x00, 0xDA, 0x00, 0xD3, 0x04, 'R', 'C',
	    '0', '1'};
	static const uint8_t lk[] = {0xFF, 0x82, 0x00, 0x00, 0x06, 0xA1, 0xB2,
	    0xC3, 0xD4, 0xE5, 0xF6};
	static const uint8_t env[] = {0x00, 0xC2, 0x00, 0x00, 0x05, 0x00,
	    0x20, 0x00, 0x81, 0x00};
	uint8_t msg[64];
	size_t len;

	len = make_msg(PC_TO_RDR_XFRBLOCK, d3, sizeof(d3), msg, sizeof(msg));
	check_redacted(msg, len, CCID_XCHG_SHORT_APDU, 15, 4);
	len = make_msg(PC_TO_RDR_XFRBLOCK, lk, sizeof(lk), msg, sizeof(msg));
	check_redacted(msg, len, CCID_XCHG_EXTENDED_APDU, 15, 6);
	len = make_msg(PC_TO_RDR_XFRBLOCK, env, sizeof(env), msg, sizeof(msg));
	check_redacted(msg, len, CCID_XCHG_SHORT_APDU, 15, 5);
}
END_TEST

static Suite *
redact_suite(void)
{
	Suite *s = suite_create("redact");
	TCase *tc = tcase_create("redact");

	tcase_add_test(tc, test_apdu_verify_ascii);
	tcase_add_test(tc, test_apdu_verify_bcd);
	tcase_add_test(tc, test_apdu_extended_and_other_ins);
	tcase_add_test(tc, test_tpdu_t1_iblock);
	tcase_add_test(tc, test_secure_and_escape);
	tcase_add_test(tc, test_non_pin_untouched);
	tcase_add_test(tc, test_errors);
	tcase_add_loop_test(tc, test_classify_policy, 0,
	    (int)(sizeof(rows) / sizeof(rows[0])));
	tcase_add_test(tc, test_stateless_new_rows);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(redact_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
