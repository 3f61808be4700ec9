/*
 * openccid - tests for the CCID message codec (CCID rev 1.1 section 6).
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/ccid_msg.h"
#include "base/err.h"

#define MAX_DATA 271 /* a typical dwMaxCCIDMessageLength minus header */

static void
check_header(const uint8_t *b, uint8_t type, uint32_t dwLength, uint8_t slot,
    uint8_t seq, uint8_t p0, uint8_t p1, uint8_t p2)
{
	ck_assert_uint_eq(b[0], type);
	ck_assert_uint_eq(b[1], dwLength & 0xFF);
	ck_assert_uint_eq(b[2], (dwLength >> 8) & 0xFF);
	ck_assert_uint_eq(b[3], (dwLength >> 16) & 0xFF);
	ck_assert_uint_eq(b[4], (dwLength >> 24) & 0xFF);
	ck_assert_uint_eq(b[5], slot);
	ck_assert_uint_eq(b[6], seq);
	ck_assert_uint_eq(b[7], p0);
	ck_assert_uint_eq(b[8], p1);
	ck_assert_uint_eq(b[9], p2);
}

static const uint8_t all_cmd_types[] = {
    PC_TO_RDR_SETPARAMETERS,
    PC_TO_RDR_ICCPOWERON,
    PC_TO_RDR_ICCPOWEROFF,
    PC_TO_RDR_GETSLOTSTATUS,
    PC_TO_RDR_SECURE,
    PC_TO_RDR_T0APDU,
    PC_TO_RDR_ESCAPE,
    PC_TO_RDR_GETPARAMETERS,
    PC_TO_RDR_RESETPARAMETERS,
    PC_TO_RDR_ICCCLOCK,
    PC_TO_RDR_XFRBLOCK,
    PC_TO_RDR_MECHANICAL,
    PC_TO_RDR_ABORT,
    PC_TO_RDR_SETDATARATEANDCLOCKFREQUENCY,
};
#define N_CMD_TYPES (sizeof(all_cmd_types) / sizeof(all_cmd_types[0]))

/* Every command type with raw specific bytes and a payload. */
START_TEST(test_encode_every_type)
{
	static const uint8_t data[] = {0xA0, 0xA1, 0xA2};
	struct ccid_cmd c;
	uint8_t out[64];
	size_t n = 0;

	memset(&c, 0, sizeof(c));
	c.type = all_cmd_types[_i];
	c.slot = 2;
	c.seq = 0x7E;
	c.p[0] = 0x11;
	c.p[1] = 0x22;
	c.p[2] = 0x33;
	c.data = data;
	c.data_len = sizeof(data);
	ck_assert_int_eq(ccid_msg_encode(&c, out, sizeof(out), &n), OC_OK);
	ck_assert_uint_eq(n, 13);
	check_header(out, all_cmd_types[_i], 3, 2, 0x7E, 0x11, 0x22, 0x33);
	ck_assert_mem_eq(out + 10, data, 3);

	/* Without payload: header only, dwLength 0 */
	c.data = NULL;
	c.data_len = 0;
	ck_assert_int_eq(ccid_msg_encode(&c, out, 10, &n), OC_OK);
	ck_assert_uint_eq(n, 10);
	check_header(out, all_cmd_types[_i], 0, 2, 0x7E, 0x11, 0x22, 0x33);
}
END_TEST

START_TEST(test_encode_helpers)
{
	static const uint8_t apdu[] = {0x00, 0xA4, 0x04, 0x00, 0x00};
	static const uint8_t t1p[] = {0x11, 0x00, 0x00, 0x0A, 0x00};
	static const uint8_t rate[8] = {0x40, 0x1F, 0, 0, 0x80, 0x25, 0, 0};
	struct ccid_cmd c;
	uint8_t out[64];
	size_t n = 0;

	ccid_cmd_power_on(&c, 0, 1, 0x02);
	ck_assert_int_eq(ccid_msg_encode(&c, out, sizeof(out), &n), OC_OK);
	ck_assert_uint_eq(n, 10);
	check_header(out, 0x62, 0, 0, 1, 0x02, 0, 0);

	ccid_cmd_simple(&c, PC_TO_RDR_GETSLOTSTATUS, 1, 2);
	ck_assert_int_eq(ccid_msg_encode(&c, out, sizeof(out), &n), OC_OK);
	check_header(out, 0x65, 0, 1, 2, 0, 0, 0);

	ccid_cmd_simple(&c, PC_TO_RDR_ICCPOWEROFF, 0, 3);
	ck_assert_int_eq(ccid_msg_encode(&c, out, sizeof(out), &n), OC_OK);
	check_header(out, 0x63, 0, 0, 3, 0, 0, 0);

	ccid_cmd_xfr_block(&c, 0, 4, 0x05, 0x1234, apdu, sizeof(apdu));
	ck_assert_int_eq(ccid_msg_encode(&c, out, sizeof(out), &n), OC_OK);
	ck_assert_uint_eq(n, 15);
	check_header(out, 0x6F, 5, 0, 4, 0x05, 0x34, 0x12);
	ck_assert_mem_eq(out + 10, apdu, sizeof(apdu));

	ccid_cmd_set_parameters(&c, 0, 5, 1, t1p, sizeof(t1p));
	ck_assert_int_eq(ccid_msg_encode(&c, out, sizeof(out), &n), OC_OK);
	check_header(out, 0x61, 5, 0, 5, 0x01, 0, 0);
	ck_assert_mem_eq(out + 10, t1p, sizeof(t1p));

	ccid_cmd_escape(&c, 0, 6, apdu, 2);
	ck_assert_int_eq(ccid_msg_encode(&c, out, sizeof(out), &n), OC_OK);
	check_header(out, 0x6B, 2, 0, 6, 0, 0, 0);

	ccid_cmd_secure(&c, 0, 7, 0, 0x0010, apdu, sizeof(apdu));
	ck_assert_int_eq(ccid_msg_encode(&c, out, sizeof(out), &n), OC_OK);
	check_header(out, 0x69, 5, 0, 7, 0, 0x10, 0x00);

	ccid_cmd_abort(&c, 0, 8);
	ck_assert_int_eq(ccid_msg_encode(&c, out, sizeof(out), &n), OC_OK);
	check_header(out, 0x72, 0, 0, 8, 0, 0, 0);

	ccid_cmd_set_rate_clock(&c, 0, 9, rate);
	ck_assert_int_eq(ccid_msg_encode(&c, out, sizeof(out), &n), OC_OK);
	ck_assert_uint_eq(n, 18);
	check_header(out, 0x73, 8, 0, 9, 0, 0, 0);
	ck_assert_mem_eq(out + 10, rate, 8);
}
END_TEST

START_TEST(test_encode_errors)
{
	static const uint8_t d[4] = {1, 2, 3, 4};
	struct ccid_cmd c;
	uint8_t out[16];
	size_t n = 99;

	ccid_cmd_xfr_block(&c, 0, 0, 0, 0, d, sizeof(d));
	/* one byte short, and every smaller capacity */
	for (size_t cap = 0; cap < 14; cap++)
		ck_assert_int_eq(ccid_msg_encode(&c, out, cap, &n), OC_ENOSPC);
	ck_assert_uint_eq(n, 99);
	ck_assert_int_eq(ccid_msg_encode(&c, out, 14, &n), OC_OK);
	ck_assert_uint_eq(n, 14);

	/* a reply type or an unknown type is not a command */
	c.type = RDR_TO_PC_DATABLOCK;
	ck_assert_int_eq(ccid_msg_encode(&c, out, 16, &n), OC_EINVAL);
	c.type = 0x00;
	ck_assert_int_eq(ccid_msg_encode(&c, out, 16, &n), OC_EINVAL);
	/* data length without data */
	ccid_cmd_escape(&c, 0, 0, NULL, 0);
	c.data_len = 3;
	ck_assert_int_eq(ccid_msg_encode(&c, out, 16, &n), OC_EINVAL);
	ck_assert_int_eq(ccid_msg_encode(NULL, out, 16, &n), OC_EINVAL);
}
END_TEST

static const uint8_t all_reply_types[] = {
    RDR_TO_PC_DATABLOCK,
    RDR_TO_PC_SLOTSTATUS,
    RDR_TO_PC_PARAMETERS,
    RDR_TO_PC_ESCAPE,
    RDR_TO_PC_DATARATEANDCLOCKFREQUENCY,
};
#define N_REPLY_TYPES (sizeof(all_reply_types) / sizeof(all_reply_types[0]))

START_TEST(test_decode_every_reply_type)
{
	uint8_t msg[] = {0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x42, 0x41, 0xFE,
	    0x02, 0x90, 0x00, 0x55};
	struct ccid_reply r;
	uint8_t *copy;

	msg[0] = all_reply_types[_i];
	copy = malloc(sizeof(msg));
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, msg, sizeof(msg));
	ck_assert_int_eq(
	    ccid_msg_decode_reply(copy, sizeof(msg), MAX_DATA, &r), OC_OK);
	ck_assert_uint_eq(r.type, all_reply_types[_i]);
	ck_assert_uint_eq(r.dwLength, 3);
	ck_assert_uint_eq(r.slot, 1);
	ck_assert_uint_eq(r.seq, 0x42);
	ck_assert_uint_eq(r.bStatus, 0x41);
	ck_assert_uint_eq(CCID_CMD_STATUS(r.bStatus), CCID_CMD_FAILED);
	ck_assert_uint_eq(CCID_ICC_STATUS(r.bStatus), CCID_ICC_INACTIVE);
	ck_assert_uint_eq(r.bError, 0xFE);
	ck_assert_uint_eq(r.specific, 0x02);
	ck_assert_uint_eq(r.data_len, 3);
	ck_assert_ptr_eq(r.data, copy + 10);
	free(copy);
}
END_TEST

/* A SlotStatus reply as a reader sends it after GetSlotStatus. */
START_TEST(test_decode_slot_status)
{
	static const uint8_t msg[] = {
	    0x81, 0, 0, 0, 0, 0, 0x07, 0x02, 0x00, 0x00};
	struct ccid_reply r;

	ck_assert_int_eq(ccid_msg_decode_reply(msg, 10, MAX_DATA, &r), OC_OK);
	ck_assert_uint_eq(r.data_len, 0);
	ck_assert_uint_eq(CCID_ICC_STATUS(r.bStatus), CCID_ICC_ABSENT);
	ck_assert_uint_eq(CCID_CMD_STATUS(r.bStatus), CCID_CMD_OK);
}
END_TEST

/* A DataBlock with an 18-byte ATR, cut at every length */
static const uint8_t datablock[] = {0x80, 0x12, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x3B, 0xF8, 0x13, 0x00, 0x00, 0x81, 0x31, 0xFE, 0x15,
    0x59, 0x75, 0x62, 0x69, 0x6B, 0x65, 0x79, 0x34, 0xD4};

START_TEST(test_decode_every_truncation)
{
	struct ccid_reply r;
	size_t len = (size_t)_i;
	uint8_t *copy = malloc(len > 0 ? len : 1);

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, datablock, len);
	memset(&r, 0xA5, sizeof(r));
	ck_assert_int_eq(
	    ccid_msg_decode_reply(copy, len, MAX_DATA, &r), OC_ETRUNC);
	/* output untouched on failure */
	ck_assert_uint_eq(r.type, 0xA5);
	free(copy);
}
END_TEST

START_TEST(test_decode_full_datablock)
{
	struct ccid_reply r;

	ck_assert_int_eq(
	    ccid_msg_decode_reply(datablock, sizeof(datablock), MAX_DATA, &r),
	    OC_OK);
	ck_assert_uint_eq(r.data_len, 18);
	ck_assert_uint_eq(r.data[0], 0x3B);
	ck_assert_uint_eq(r.data[17], 0xD4);
}
END_TEST

/*
 * QEMU 7.2's usb-ccid answers SetParameters (T=1) with dwLength 0 and the
 * 7-byte structure after the header: accepted, data_len what followed,
 * dwLength kept for the caller's log line. Only for Parameters replies.
 */
START_TEST(test_decode_parameters_length_off)
{
	uint8_t msg[] = {0x82, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00,
	    0x01, 0x11, 0x10, 0x00, 0x15, 0x00, 0xFE, 0x00};
	struct ccid_reply r;
	uint8_t *copy = malloc(sizeof(msg));

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, msg, sizeof(msg));
	ck_assert_int_eq(ccid_msg_decode_reply(copy, sizeof(msg), MAX_DATA, &r),
	    OC_OK);
	ck_assert_uint_eq(r.type, RDR_TO_PC_PARAMETERS);
	ck_assert_uint_eq(r.dwLength, 0);
	ck_assert_uint_eq(r.data_len, 7);
	ck_assert_uint_eq(r.data[0], 0x11);
	ck_assert_uint_eq(r.data[6], 0x00);
	ck_assert_uint_eq(r.specific, 0x01);
	/* dwLength 5, 7 bytes: the same */
	copy[1] = 0x05;
	ck_assert_int_eq(ccid_msg_decode_reply(copy, sizeof(msg), MAX_DATA, &r),
	    OC_OK);
	ck_assert_uint_eq(r.data_len, 7);
	/* what followed must still fit the reader's message size */
	ck_assert_int_eq(ccid_msg_decode_reply(copy, sizeof(msg), 6, &r),
	    OC_ERANGE);
	/* any other reply framed so stays an error */
	copy[0] = RDR_TO_PC_DATABLOCK;
	ck_assert_int_eq(ccid_msg_decode_reply(copy, sizeof(msg), MAX_DATA, &r),
	    OC_EPROTO);
	copy[0] = RDR_TO_PC_SLOTSTATUS;
	ck_assert_int_eq(ccid_msg_decode_reply(copy, sizeof(msg), MAX_DATA, &r),
	    OC_EPROTO);
	copy[0] = RDR_TO_PC_ESCAPE;
	ck_assert_int_eq(ccid_msg_decode_reply(copy, sizeof(msg), MAX_DATA, &r),
	    OC_EPROTO);
	free(copy);
}
END_TEST

START_TEST(test_decode_bad_lengths)
{
	uint8_t msg[40];
	struct ccid_reply r;

	memset(msg, 0, sizeof(msg));
	memcpy(msg, datablock, sizeof(datablock));
	/* trailing bytes: dwLength 18 but 19 data bytes */
	ck_assert_int_eq(
	    ccid_msg_decode_reply(msg, sizeof(datablock) + 1, MAX_DATA, &r),
	    OC_EPROTO);
	/* dwLength too small for what arrived */
	msg[1] = 0x11;
	ck_assert_int_eq(
	    ccid_msg_decode_reply(msg, sizeof(datablock), MAX_DATA, &r),
	    OC_EPROTO);
	msg[1] = 0x00;
	ck_assert_int_eq(
	    ccid_msg_decode_reply(msg, sizeof(datablock), MAX_DATA, &r),
	    OC_EPROTO);
	/* dwLength larger than the reader may send */
	msg[1] = 0x12;
	ck_assert_int_eq(
	    ccid_msg_decode_reply(msg, sizeof(datablock), 17, &r), OC_ERANGE);
	ck_assert_int_eq(
	    ccid_msg_decode_reply(msg, sizeof(datablock), 18, &r), OC_OK);
	/* hostile dwLength, every high byte */
	for (unsigned k = 2; k <= 4; k++) {
		memcpy(msg, datablock, sizeof(datablock));
		msg[k] = 0xFF;
		ck_assert_int_eq(
		    ccid_msg_decode_reply(msg, sizeof(datablock), MAX_DATA, &r),
		    OC_ERANGE);
		ck_assert_int_eq(
		    ccid_msg_decode_reply(msg, sizeof(datablock), SIZE_MAX, &r),
		    OC_ETRUNC);
	}
	/* bigger than what arrived, within max: caller may read more */
	memcpy(msg, datablock, sizeof(datablock));
	msg[1] = 0x13;
	ck_assert_int_eq(
	    ccid_msg_decode_reply(msg, sizeof(datablock), MAX_DATA, &r),
	    OC_ETRUNC);
	ck_assert_int_eq(
	    ccid_msg_decode_reply(NULL, 0, MAX_DATA, &r), OC_EINVAL);
}
END_TEST

START_TEST(test_decode_unknown_types)
{
	uint8_t msg[10] = {0};
	struct ccid_reply r;
	int rc;
	unsigned t = (unsigned)_i;
	int known = 0;

	for (size_t k = 0; k < N_REPLY_TYPES; k++)
		known |= all_reply_types[k] == t;
	msg[0] = (uint8_t)t;
	rc = ccid_msg_decode_reply(msg, sizeof(msg), MAX_DATA, &r);
	ck_assert_int_eq(rc, known ? OC_OK : OC_EPROTO);
}
END_TEST

START_TEST(test_intr_slot_change)
{
	static const uint8_t one[] = {0x50, 0x03};
	static const uint8_t all_ff[] = {0x50, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
	static const uint8_t padded[] = {0x50, 0x02, 0x00, 0x00, 0x00};
	struct ccid_intr in;

	ck_assert_int_eq(ccid_msg_decode_intr(one, 2, 1, &in), OC_OK);
	ck_assert_uint_eq(in.type, RDR_TO_PC_NOTIFYSLOTCHANGE);
	ck_assert_uint_eq(in.nslots, 1);
	ck_assert_uint_eq(in.slot_bits[0], 0x03);

	/* bits beyond the reader's slots are dropped */
	ck_assert_int_eq(ccid_msg_decode_intr(all_ff, 2, 1, &in), OC_OK);
	ck_assert_uint_eq(in.slot_bits[0], 0x03);
	ck_assert_int_eq(ccid_msg_decode_intr(all_ff, 2, 3, &in), OC_OK);
	ck_assert_uint_eq(in.slot_bits[0], 0x3F);
	ck_assert_int_eq(ccid_msg_decode_intr(all_ff, 2, 4, &in), OC_OK);
	ck_assert_uint_eq(in.slot_bits[0], 0xFF);
	ck_assert_int_eq(ccid_msg_decode_intr(all_ff, 3, 5, &in), OC_OK);
	ck_assert_uint_eq(in.slot_bits[0], 0xFF);
	ck_assert_uint_eq(in.slot_bits[1], 0x03);
	ck_assert_uint_eq(in.slot_bits[2], 0x00);
	ck_assert_uint_eq(in.nslots, 5);
	ck_assert_int_eq(ccid_msg_decode_intr(all_ff, 5, 16, &in), OC_OK);
	for (int k = 0; k < 4; k++)
		ck_assert_uint_eq(in.slot_bits[k], 0xFF);

	/* too short for the slots it must cover */
	ck_assert_int_eq(ccid_msg_decode_intr(all_ff, 1, 1, &in), OC_ETRUNC);
	ck_assert_int_eq(ccid_msg_decode_intr(all_ff, 2, 5, &in), OC_ETRUNC);
	ck_assert_int_eq(ccid_msg_decode_intr(all_ff, 4, 16, &in), OC_ETRUNC);
	/* readers that pad the interrupt packet */
	ck_assert_int_eq(ccid_msg_decode_intr(padded, 5, 1, &in), OC_OK);
	ck_assert_uint_eq(in.slot_bits[0], 0x02);
	/* slot count outside 1..16 */
	ck_assert_int_eq(ccid_msg_decode_intr(all_ff, 6, 0, &in), OC_EINVAL);
	ck_assert_int_eq(ccid_msg_decode_intr(all_ff, 6, 17, &in), OC_EINVAL);
}
END_TEST

START_TEST(test_intr_hw_error)
{
	static const uint8_t hw[] = {0x51, 0x01, 0x09, 0x01, 0x00};
	static const uint8_t other[] = {0x52, 0x00};
	struct ccid_intr in;

	ck_assert_int_eq(ccid_msg_decode_intr(hw, 4, 2, &in), OC_OK);
	ck_assert_uint_eq(in.type, RDR_TO_PC_HARDWAREERROR);
	ck_assert_uint_eq(in.slot, 1);
	ck_assert_uint_eq(in.seq, 9);
	ck_assert_uint_eq(in.hw_error_code, 1);
	for (size_t n = 0; n < 4; n++)
		ck_assert_int_eq(
		    ccid_msg_decode_intr(hw, n, 2, &in), OC_ETRUNC);
	ck_assert_int_eq(ccid_msg_decode_intr(hw, 5, 2, &in), OC_EPROTO);
	ck_assert_int_eq(ccid_msg_decode_intr(other, 2, 1, &in), OC_EPROTO);
	ck_assert_int_eq(
	    ccid_msg_decode_intr(datablock, 10, 1, &in), OC_EPROTO);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(ccid_msg_type_name(0x6F), "PC_to_RDR_XfrBlock");
	ck_assert_str_eq(ccid_msg_type_name(0x80), "RDR_to_PC_DataBlock");
	ck_assert_str_eq(
	    ccid_msg_type_name(0x50), "RDR_to_PC_NotifySlotChange");
	ck_assert_str_eq(ccid_msg_type_name(0x00), "unknown message type");
	for (unsigned k = 0; k < N_CMD_TYPES; k++)
		ck_assert_str_ne(ccid_msg_type_name(all_cmd_types[k]),
		    "unknown message type");
	ck_assert_str_eq(ccid_error_name(0xFE), "ICC_MUTE");
	ck_assert_str_eq(ccid_error_name(0xEF), "PIN_CANCELLED");
	ck_assert_str_eq(ccid_error_name(0x00), "CMD_NOT_SUPPORTED");
	ck_assert_str_eq(
	    ccid_error_name(0x05), "bad parameter at offset bError");
	ck_assert_str_eq(ccid_error_name(0x90), "user defined");
	ck_assert_str_eq(ccid_error_name(0xF9), "RFU");
	for (unsigned k = 0; k < 256; k++)
		ck_assert_ptr_nonnull(ccid_error_name((uint8_t)k));
	ck_assert_str_eq(ccid_icc_status_name(0x40), "ICC present and active");
	ck_assert_str_eq(
	    ccid_icc_status_name(0x01), "ICC present and inactive");
	ck_assert_str_eq(ccid_icc_status_name(0x02), "no ICC present");
	ck_assert_str_eq(ccid_icc_status_name(0x03), "RFU");
}
END_TEST

static Suite *
ccid_msg_suite(void)
{
	Suite *s = suite_create("ccid_msg");
	TCase *tc = tcase_create("encode");

	tcase_add_loop_test(tc, test_encode_every_type, 0, (int)N_CMD_TYPES);
	tcase_add_test(tc, test_encode_helpers);
	tcase_add_test(tc, test_encode_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("decode");
	tcase_add_loop_test(
	    tc, test_decode_every_reply_type, 0, (int)N_REPLY_TYPES);
	tcase_add_test(tc, test_decode_slot_status);
	tcase_add_loop_test(
	    tc, test_decode_every_truncation, 0, (int)sizeof(datablock));
	tcase_add_test(tc, test_decode_full_datablock);
	tcase_add_test(tc, test_decode_bad_lengths);
	tcase_add_test(tc, test_decode_parameters_length_off);
	tcase_add_loop_test(tc, test_decode_unknown_types, 0, 256);
	suite_add_tcase(s, tc);

	tc = tcase_create("interrupt");
	tcase_add_test(tc, test_intr_slot_change);
	tcase_add_test(tc, test_intr_hw_error);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(ccid_msg_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
