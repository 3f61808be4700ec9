/*
 * openccid - ccid_cmd against a scripted transport: reply matching,
 * zero-length packets, time extension cap, abort after a timeout, bError
 * mapping and redacted COMM logs.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccid/ccid_cmd.h"
#include "codec/ccid_msg.h"
#include "base/err.h"
#include "fake_transport.h"
#include "base/log.h"
#include "log_stub.h"

#define MAX_MSG 271 /* 10 + 261: a short-APDU reader */

static struct fake_transport ft;
static struct transport tr;
static struct ccid_io io;
static uint8_t buf[MAX_MSG];

static void
setup(void)
{
	ft_init(&ft, &tr);
	ccid_io_init(&io, &tr, MAX_MSG, CCID_XCHG_SHORT_APDU, buf);
	oc_log_set_level(OC_LOG_MASK_CRITICAL | OC_LOG_MASK_INFO |
	    OC_LOG_MASK_COMM);
	log_stub_reset();
}

static void
teardown(void)
{
	ccid_io_fini(&io);
	ft_free(&ft);
}

#define SLOT_STATUS_CMD "65 00000000 00 ?? 00 0000"

START_TEST(test_slot_status)
{
	struct ccid_status st;

	ft_out(&ft, SLOT_STATUS_CMD);
	ft_in(&ft, "81 00000000 00 ?? 01 00 00");
	ck_assert_int_eq(ccid_run_slot_status(&io, 0, &st), OC_OK);
	ck_assert_uint_eq(st.bStatus, 0x01);
	ft_done(&ft);
	/* bSeq increments per command. */
	ft_out(&ft, SLOT_STATUS_CMD);
	ft_in(&ft, "81 00000000 00 ?? 00 00 00");
	ck_assert_int_eq(ccid_run_slot_status(&io, 0, &st), OC_OK);
	ck_assert_uint_eq(ft.last_seq, 1);
	ft_done(&ft);
}
END_TEST

START_TEST(test_stale_reply_dropped)
{
	struct ccid_status st;

	io.seq = 5;
	ft_out(&ft, SLOT_STATUS_CMD);
	ft_in(&ft, "81 00000000 00 04 02 00 00"); /* answer to bSeq 4 */
	ft_in(&ft, "81 00000000 00 ?? 00 00 00");
	ck_assert_int_eq(ccid_run_slot_status(&io, 0, &st), OC_OK);
	ck_assert_uint_eq(st.bStatus, 0x00);
	ft_done(&ft);
}
END_TEST

START_TEST(test_stale_replies_bounded)
{
	struct ccid_status st;
	int i;

	io.seq = 5;
	ft_out(&ft, SLOT_STATUS_CMD);
	for (i = 0; i <= CCID_MAX_STALE; i++)
		ft_in(&ft, "81 00000000 00 04 02 00 00");
	ck_assert_int_eq(ccid_run_slot_status(&io, 0, &st), OC_EPROTO);
	ft_done(&ft);
}
END_TEST

START_TEST(test_zlp_skipped)
{
	struct ccid_status st;

	ft_out(&ft, SLOT_STATUS_CMD);
	ft_in_zlp(&ft);
	ft_in_zlp(&ft);
	ft_in(&ft, "81 00000000 00 ?? 00 00 00");
	ck_assert_int_eq(ccid_run_slot_status(&io, 0, &st), OC_OK);
	ft_done(&ft);
}
END_TEST

START_TEST(test_split_message_joined)
{
	uint8_t rx[8];
	size_t n = 0;
	struct ccid_status st;

	ft_out(&ft, "6F 01000000 00 ?? 00 0000 AA");
	ft_in(&ft, "80 02000000 00 ?? 00 00 00");
	ft_in(&ft, "90 00");
	ck_assert_int_eq(ccid_run_xfr_block(&io, 0, 0, 0,
			     (const uint8_t *)"\xAA", 1, rx, sizeof(rx), &n,
			     &st),
	    OC_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(rx[0], 0x90);
	ft_done(&ft);
}
END_TEST

START_TEST(test_time_extension_then_answer)
{
	struct ccid_status st;

	ft_out(&ft, SLOT_STATUS_CMD);
	ft_in(&ft, "81 00000000 00 ?? 80 01 00");
	ft_in(&ft, "81 00000000 00 ?? 80 01 00");
	ft_in(&ft, "81 00000000 00 ?? 00 00 00");
	ck_assert_int_eq(ccid_run_slot_status(&io, 0, &st), OC_OK);
	ft_done(&ft);
}
END_TEST

/* Abort sequence of CCID rev 1.1 section 5.3.1 as the fake expects it. */
static void
script_abort(void)
{
	ft_control(&ft, 0x01);
	ft_out(&ft, "72 00000000 00 ?? 00 0000");
	ft_in(&ft, "81 00000000 00 ?? 00 00 00");
}

/* A clock that advances clock_step ms at every reading. */
static uint64_t clock_now, clock_step;

static uint64_t
fake_now(void)
{
	clock_now += clock_step;
	return clock_now;
}

START_TEST(test_time_extension_capped)
{
	struct ccid_status st;
	int i;

	/* Wall time: 0.8 s passes per extension, 3 s granted. */
	io.timeout_ms = 1000;
	io.time_ext_cap_ms = 3000;
	io.now_ms = fake_now;
	clock_step = 800; /* the fourth extension is past 3 s */
	ft_out(&ft, SLOT_STATUS_CMD);
	for (i = 0; i < 4; i++)
		ft_in(&ft, "81 00000000 00 ?? 80 01 00");
	script_abort();
	ck_assert_int_eq(ccid_run_slot_status(&io, 0, &st), OC_ETIMEDOUT);
	ft_done(&ft);
	ck_assert(log_stub_contains("time extensions beyond 3000 ms"));
}
END_TEST

/* Counted in wall time, not in replies: fast extensions are not cut at
 * cap / read timeout of them. */
START_TEST(test_time_extension_wall_time)
{
	struct ccid_status st;
	int i;

	io.timeout_ms = 1000;
	io.time_ext_cap_ms = 3000; /* the old count would allow 3 */
	io.now_ms = fake_now;
	clock_step = 10; /* extensions every 20 ms */
	ft_out(&ft, SLOT_STATUS_CMD);
	for (i = 0; i < 50; i++)
		ft_in(&ft, "81 00000000 00 ?? 80 01 00");
	ft_in(&ft, "81 00000000 00 ?? 00 00 00");
	ck_assert_int_eq(ccid_run_slot_status(&io, 0, &st), OC_OK);
	ft_done(&ft);
	/* ... and slow ones end at the cap whatever their number. */
	clock_step = 2000;
	ft_out(&ft, SLOT_STATUS_CMD);
	ft_in(&ft, "81 00000000 00 ?? 80 01 00");
	ft_in(&ft, "81 00000000 00 ?? 80 01 00");
	script_abort();
	ck_assert_int_eq(ccid_run_slot_status(&io, 0, &st), OC_ETIMEDOUT);
	ft_done(&ft);
}
END_TEST

START_TEST(test_wrong_slot_rejected)
{
	struct ccid_status st;

	ft_out(&ft, SLOT_STATUS_CMD);
	ft_in(&ft, "81 00000000 01 ?? 00 00 00");
	ck_assert_int_eq(ccid_run_slot_status(&io, 0, &st), OC_EPROTO);
	ft_done(&ft);
}
END_TEST

START_TEST(test_wrong_type_rejected)
{
	struct ccid_status st;

	ft_out(&ft, SLOT_STATUS_CMD);
	ft_in(&ft, "80 00000000 00 ?? 00 00 00");
	ck_assert_int_eq(ccid_run_slot_status(&io, 0, &st), OC_EPROTO);
	ft_done(&ft);
}
END_TEST

START_TEST(test_oversized_reply_rejected)
{
	uint8_t rx[300];
	size_t n = 0;
	struct ccid_status st;

	/* dwLength above dwMaxCCIDMessageLength - 10. */
	ft_out(&ft, "6F 01000000 00 ?? 00 0000 AA");
	ft_in(&ft, "80 06010000 00 ?? 00 00 00");
	ck_assert_int_eq(ccid_run_xfr_block(&io, 0, 0, 0,
			     (const uint8_t *)"\xAA", 1, rx, sizeof(rx), &n,
			     &st),
	    OC_EPROTO);
	ft_done(&ft);
}
END_TEST

START_TEST(test_reply_longer_than_buffer)
{
	uint8_t rx[2];
	size_t n = 0;
	struct ccid_status st;

	ft_out(&ft, "6F 01000000 00 ?? 00 0000 AA");
	ft_in(&ft, "80 04000000 00 ?? 00 00 00 01 02 90 00");
	ck_assert_int_eq(ccid_run_xfr_block(&io, 0, 0, 0,
			     (const uint8_t *)"\xAA", 1, rx, sizeof(rx), &n,
			     &st),
	    OC_ENOSPC);
	ft_done(&ft);
}
END_TEST

START_TEST(test_abort_after_timeout)
{
	uint8_t rx[8];
	size_t n = 0;
	struct ccid_status st;

	ft_out(&ft, "6F 01000000 00 ?? 00 0000 AA");
	ft_in_err(&ft, OC_ETIMEDOUT);
	script_abort();
	ck_assert_int_eq(ccid_run_xfr_block(&io, 0, 0, 0,
			     (const uint8_t *)"\xAA", 1, rx, sizeof(rx), &n,
			     &st),
	    OC_ETIMEDOUT);
	ft_done(&ft);
	/* wValue = bSeq << 8 | bSlot, bSeq that of the PC_to_RDR_Abort. */
	ck_assert_uint_eq(ft.last_wvalue, (uint16_t)(ft.last_seq << 8));
	/* The next command works. */
	ft_out(&ft, SLOT_STATUS_CMD);
	ft_in(&ft, "81 00000000 00 ?? 00 00 00");
	ck_assert_int_eq(ccid_run_slot_status(&io, 0, &st), OC_OK);
	ft_done(&ft);
}
END_TEST

START_TEST(test_abort_drains_late_reply)
{
	struct ccid_status st;

	ft_out(&ft, SLOT_STATUS_CMD);
	ft_in_err(&ft, OC_ETIMEDOUT);
	ft_control(&ft, 0x01);
	ft_out(&ft, "72 00000000 00 ?? 00 0000");
	/* The late answer to the aborted command comes first. */
	ft_in(&ft, "81 00000000 00 00 00 00 00");
	ft_in(&ft, "81 00000000 00 ?? 00 00 00");
	ck_assert_int_eq(ccid_run_slot_status(&io, 0, &st), OC_ETIMEDOUT);
	ft_done(&ft);
}
END_TEST

START_TEST(test_usb_errors_pass_through)
{
	struct ccid_status st;

	ft_out(&ft, SLOT_STATUS_CMD);
	ft_in_err(&ft, OC_ESTALL);
	ck_assert_int_eq(ccid_run_slot_status(&io, 0, &st), OC_ESTALL);
	ft_out_err(&ft, OC_ENODEV);
	ck_assert_int_eq(ccid_run_slot_status(&io, 0, &st), OC_ENODEV);
	/* A vanished device is remembered: no more transfers are tried. */
	ck_assert(ccid_io_is_gone(&io));
	ck_assert_int_eq(ccid_run_slot_status(&io, 0, &st), OC_ENODEV);
	ft_done(&ft);
}
END_TEST

/* A halted bulk-OUT took nothing: cleared and sent once more. */
START_TEST(test_stall_out_retried_once)
{
	struct ccid_status st;

	ft_out_err(&ft, OC_ESTALL);
	ft_out(&ft, SLOT_STATUS_CMD);
	ft_in(&ft, "81 00000000 00 ?? 00 00 00");
	ck_assert_int_eq(ccid_run_slot_status(&io, 0, &st), OC_OK);
	/* A second halt in a row is an error, not a loop. */
	ft_out_err(&ft, OC_ESTALL);
	ft_out_err(&ft, OC_ESTALL);
	ck_assert_int_eq(ccid_run_slot_status(&io, 0, &st), OC_ESTALL);
	ft_done(&ft);
	/* The next command works. */
	ft_out(&ft, SLOT_STATUS_CMD);
	ft_in(&ft, "81 00000000 00 ?? 00 00 00");
	ck_assert_int_eq(ccid_run_slot_status(&io, 0, &st), OC_OK);
	ft_done(&ft);
}
END_TEST

START_TEST(test_power_on_errors)
{
	uint8_t atr[33];
	size_t n = 0;
	struct ccid_status st;

	/* ICC mute with no card: the card is absent. */
	ft_out(&ft, "62 00000000 00 ?? 01 0000");
	ft_in(&ft, "80 00000000 00 ?? 42 FE 00");
	ck_assert_int_eq(ccid_run_power_on(&io, 0, 1, atr, sizeof(atr), &n,
			     &st),
	    OC_ENOCARD);
	/* ICC mute with a card present: a card error. */
	ft_out(&ft, "62 00000000 00 ?? 01 0000");
	ft_in(&ft, "80 00000000 00 ?? 41 FE 00");
	ck_assert_int_eq(ccid_run_power_on(&io, 0, 1, atr, sizeof(atr), &n,
			     &st),
	    OC_ECARD);
	ck_assert_uint_eq(st.bError, 0xFE);
	/* Class not supported: worth another voltage. */
	ft_out(&ft, "62 00000000 00 ?? 01 0000");
	ft_in(&ft, "80 00000000 00 ?? 41 F5 00");
	ck_assert_int_eq(ccid_run_power_on(&io, 0, 1, atr, sizeof(atr), &n,
			     &st),
	    OC_ENOTSUP);
	ft_done(&ft);
}
END_TEST

START_TEST(test_other_commands)
{
	uint8_t out[16];
	size_t n = 0;
	struct ccid_status st;

	ft_out(&ft, "63 00000000 00 ?? 00 0000");
	ft_in(&ft, "81 00000000 00 ?? 01 00 00");
	ck_assert_int_eq(ccid_run_power_off(&io, 0, &st), OC_OK);
	ft_out(&ft, "6C 00000000 00 ?? 00 0000");
	ft_in(&ft, "82 05000000 00 ?? 00 00 00 11 00 00 0A 00");
	ck_assert_int_eq(ccid_run_get_parameters(&io, 0, out, sizeof(out), &n,
			     &st),
	    OC_OK);
	ck_assert_uint_eq(n, 5);
	ft_out(&ft, "61 05000000 00 ?? 00 0000 11 00 00 0A 00");
	ft_in(&ft, "82 05000000 00 ?? 00 00 00 11 00 00 0A 00");
	ck_assert_int_eq(ccid_run_set_parameters(&io, 0, 0, out, 5, &st),
	    OC_OK);
	ft_out(&ft, "6B 01000000 00 ?? 00 0000 02");
	ft_in(&ft, "83 02000000 00 ?? 00 00 00 01 02");
	ck_assert_int_eq(ccid_run_escape(&io, 0, (const uint8_t *)"\x02", 1,
			     out, sizeof(out), &n, &st),
	    OC_OK);
	ck_assert_uint_eq(n, 2);
	ft_done(&ft);
}
END_TEST

/*
 * QEMU 7.2's usb-ccid: RDR_to_PC_Parameters with dwLength 0 and the T=1
 * structure following (17 bytes): SetParameters succeeds, and the field
 * is named at INFO once per reader, not per command.
 */
START_TEST(test_set_parameters_qemu_reply)
{
	static const uint8_t t1[7] = {0x11, 0x10, 0x00, 0x15, 0x00, 0xFE,
	    0x00};
	struct ccid_status st;

	(void)snprintf(io.name, sizeof(io.name), "08e6:4433");
	ft_out(&ft, "61 07000000 00 ?? 01 0000 11 10 00 15 00 FE 00");
	ft_in(&ft, "82 00000000 00 ?? 00 00 01 11 10 00 15 00 FE 00");
	ck_assert_int_eq(ccid_run_set_parameters(&io, 0, 1, t1, 7, &st),
	    OC_OK);
	ck_assert(log_stub_contains("08e6:4433: RDR_to_PC_Parameters "
				    "dwLength 0, 7 bytes follow"));
	ft_done(&ft);
	log_stub_reset();
	ft_out(&ft, "61 07000000 00 ?? 01 0000 11 10 00 15 00 FE 00");
	ft_in(&ft, "82 00000000 00 ?? 00 00 01 11 10 00 15 00 FE 00");
	ck_assert_int_eq(ccid_run_set_parameters(&io, 0, 1, t1, 7, &st),
	    OC_OK);
	ck_assert(!log_stub_contains("RDR_to_PC_Parameters dwLength"));
	ft_done(&ft);
	/* a DataBlock framed so is still refused */
	ft_out(&ft, "6F 01000000 00 ?? 00 0000 00");
	ft_in(&ft, "80 00000000 00 ?? 00 00 00 90 00");
	{
		uint8_t rx[8];
		size_t n = 0;

		ck_assert_int_ne(ccid_run_xfr_block(&io, 0, 0, 0,
				     (const uint8_t *)"\x00", 1, rx,
				     sizeof(rx), &n, &st),
		    OC_OK);
	}
}
END_TEST

START_TEST(test_pin_redacted_in_log)
{
	static const uint8_t verify[] = {0x00, 0x20, 0x00, 0x81, 0x06, 0x31,
	    0x32, 0x33, 0x34, 0x35, 0x36};
	uint8_t rx[8];
	size_t n = 0;
	struct ccid_status st;

	ft_out(&ft, "6F 0B000000 00 ?? 00 0000 00 20 00 81 06 31 32 33 34 35 36");
	ft_in(&ft, "80 02000000 00 ?? 00 00 00 90 00");
	ck_assert_int_eq(ccid_run_xfr_block(&io, 0, 0, 0, verify,
			     sizeof(verify), rx, sizeof(rx), &n, &st),
	    OC_OK);
	ft_done(&ft);
	ck_assert(log_stub_contains("bytes redacted>"));
	ck_assert(!log_stub_contains("31 32 33 34"));
	ck_assert(log_stub_contains("90 00"));
}
END_TEST

static Suite *
ccid_cmd_suite(void)
{
	Suite *s = suite_create("ccid_cmd");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_slot_status);
	tcase_add_test(tc, test_stale_reply_dropped);
	tcase_add_test(tc, test_stale_replies_bounded);
	tcase_add_test(tc, test_zlp_skipped);
	tcase_add_test(tc, test_split_message_joined);
	tcase_add_test(tc, test_time_extension_then_answer);
	tcase_add_test(tc, test_time_extension_capped);
	tcase_add_test(tc, test_time_extension_wall_time);
	tcase_add_test(tc, test_wrong_slot_rejected);
	tcase_add_test(tc, test_wrong_type_rejected);
	tcase_add_test(tc, test_oversized_reply_rejected);
	tcase_add_test(tc, test_reply_longer_than_buffer);
	tcase_add_test(tc, test_abort_after_timeout);
	tcase_add_test(tc, test_abort_drains_late_reply);
	tcase_add_test(tc, test_usb_errors_pass_through);
	tcase_add_test(tc, test_stall_out_retried_once);
	tcase_add_test(tc, test_power_on_errors);
	tcase_add_test(tc, test_other_commands);
	tcase_add_test(tc, test_set_parameters_qemu_reply);
	tcase_add_test(tc, test_pin_redacted_in_log);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(ccid_cmd_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
