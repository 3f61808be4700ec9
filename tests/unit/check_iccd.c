/*
 * openccid - the ICCD exchange path (src/ccid/iccd*.c) against a
 * scripted control pipe: versions B and A, the reply each command gets,
 * time requests bounded in wall time, chain order, and a clear error
 * naming the token for every malformed answer, after which the token is
 * still usable.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <stdint.h>
#include <string.h>

#include "ccid/ccid_cmd.h"
#include "ccid/iccd.h"
#include "codec/ccid_msg.h"
#include "codec/iccd_msg.h"
#include "base/err.h"
#include "base/log.h"
#include "fake_transport.h"
#include "log_stub.h"

#define MAX_MSG 271
#define NAME "ICCD-B 08e6:1227 \"test token\""

static struct fake_transport ft;
static struct transport tr;
static struct ccid_io io;
static uint8_t buf[MAX_MSG];
static uint64_t clock_ms;
static unsigned slept_ms, sleeps;

static uint64_t
fake_now(void)
{
	return clock_ms;
}

/* The waits of time requests move the fake clock. */
static void
fake_sleep(unsigned ms)
{
	clock_ms += ms;
	slept_ms += ms;
	sleeps++;
}

static void
setup_version(enum ccid_level level, uint8_t version)
{
	ft_init(&ft, &tr);
	ccid_io_init(&io, &tr, MAX_MSG, level, buf);
	ck_assert_int_eq(iccd_attach(&io, version, 0, NAME), OC_OK);
	io.iccd->sleep_ms = fake_sleep;
	io.now_ms = fake_now;
	clock_ms = 1000;
	slept_ms = sleeps = 0;
	oc_log_set_level(OC_LOG_MASK_CRITICAL | OC_LOG_MASK_INFO |
	    OC_LOG_MASK_COMM);
	log_stub_reset();
}

static void
setup_b(void)
{
	setup_version(CCID_XCHG_EXTENDED_APDU, ICCD_VERSION_B);
}

static void
setup_a(void)
{
	setup_version(CCID_XCHG_TPDU, ICCD_VERSION_A);
}

static void
teardown(void)
{
	iccd_detach(&io);
	ccid_io_fini(&io);
	ft_free(&ft);
}

/* The token still answers: a SlotStatus after an error. */
static void
assert_usable_b(void)
{
	struct ccid_status st;

	ft_control_in(&ft, ICCD_REQ_SLOT_STATUS, "40 00 00");
	ck_assert_int_eq(ccid_run_slot_status(&io, 0, &st), OC_OK);
	ck_assert_uint_eq(CCID_ICC_STATUS(st.bStatus), CCID_ICC_ACTIVE);
	ft_done(&ft);
}

static const char apdu[] = "00 A4 04 00 02 3F 00";

START_TEST(test_b_power_on)
{
	uint8_t atr[40];
	size_t n = 0;
	struct ccid_status st;

	ft_control_out(&ft, ICCD_REQ_POWER_ON, 0x0001, "");
	ft_control_in(&ft, ICCD_REQ_DATA_BLOCK, "00 3B 02 14 50");
	ck_assert_int_eq(
	    ccid_run_power_on(&io, 0, 0, atr, sizeof(atr), &n, &st), OC_OK);
	ck_assert_uint_eq(n, 4);
	ck_assert_mem_eq(atr, "\x3B\x02\x14\x50", 4);
	/* The answer is asked for with the transfer cap as wLength. */
	ck_assert_uint_eq(ft.last_wlength, ICCD_MAX_TRANSFER);
	ft_done(&ft);
}
END_TEST

START_TEST(test_b_power_off_and_status)
{
	struct ccid_status st;

	ft_control_out(&ft, ICCD_REQ_POWER_OFF, 0, "");
	ft_control_in(&ft, ICCD_REQ_SLOT_STATUS, "40 01 00");
	ck_assert_int_eq(ccid_run_power_off(&io, 0, &st), OC_OK);
	ck_assert_uint_eq(CCID_ICC_STATUS(st.bStatus), CCID_ICC_INACTIVE);
	ft_control_in(&ft, ICCD_REQ_SLOT_STATUS, "40 02 00");
	ck_assert_int_eq(ccid_run_slot_status(&io, 0, &st), OC_OK);
	ck_assert_uint_eq(CCID_ICC_STATUS(st.bStatus), CCID_ICC_ABSENT);
	/* Reserved ICC status 3: nothing usable, reported absent. */
	ft_control_in(&ft, ICCD_REQ_SLOT_STATUS, "40 03 00");
	ck_assert_int_eq(ccid_run_slot_status(&io, 0, &st), OC_OK);
	ck_assert_uint_eq(CCID_ICC_STATUS(st.bStatus), CCID_ICC_ABSENT);
	ft_done(&ft);
}
END_TEST

START_TEST(test_b_slot_status_malformed)
{
	struct ccid_status st;

	ft_control_in(&ft, ICCD_REQ_SLOT_STATUS, "40 00");
	ck_assert_int_eq(ccid_run_slot_status(&io, 0, &st), OC_EPROTO);
	ck_assert(log_stub_contains(NAME ": malformed SlotStatus (2 bytes)"));
	assert_usable_b();
}
END_TEST

START_TEST(test_b_xfr_whole)
{
	uint8_t rx[300];
	size_t n = 0;
	struct ccid_status st;

	ft_control_out(&ft, ICCD_REQ_XFR_BLOCK, 0x0000, apdu);
	ft_control_in(&ft, ICCD_REQ_DATA_BLOCK, "00 6F 01 AA 90 00");
	ck_assert_int_eq(ccid_run_xfr_block(&io, 0, 0, 0,
			     (const uint8_t *)"\x00\xA4\x04\x00\x02\x3F\x00",
			     7, rx, sizeof(rx), &n, &st),
	    OC_OK);
	ck_assert_uint_eq(n, 5);
	ck_assert_mem_eq(rx, "\x6F\x01\xAA\x90\x00", 5);
	ck_assert_uint_eq(st.specific, 0x00);
	ft_done(&ft);
}
END_TEST

static int
xfr(uint16_t level, const char *tx, size_t tx_len, uint8_t *rx, size_t *n,
    struct ccid_status *st)
{
	return ccid_run_xfr_block(&io, 0, 0, level, (const uint8_t *)tx,
	    tx_len, rx, 300, n, st);
}

/* Command pieces 01, 03, 02 (each answered 0x10), answer 01, 03, 02. */
START_TEST(test_b_chains)
{
	uint8_t rx[300];
	size_t n = 0;
	struct ccid_status st;

	ft_control_out(&ft, ICCD_REQ_XFR_BLOCK, 0x0100, "01 02");
	ft_control_in(&ft, ICCD_REQ_DATA_BLOCK, "10");
	ck_assert_int_eq(xfr(0x01, "\x01\x02", 2, rx, &n, &st), OC_OK);
	ck_assert_uint_eq(st.specific, ICCD_RESP_MORE_CMD);
	ck_assert_uint_eq(n, 0);
	ft_control_out(&ft, ICCD_REQ_XFR_BLOCK, 0x0300, "03");
	ft_control_in(&ft, ICCD_REQ_DATA_BLOCK, "10");
	ck_assert_int_eq(xfr(0x03, "\x03", 1, rx, &n, &st), OC_OK);
	ft_control_out(&ft, ICCD_REQ_XFR_BLOCK, 0x0200, "04");
	ft_control_in(&ft, ICCD_REQ_DATA_BLOCK, "01 AA BB");
	ck_assert_int_eq(xfr(0x02, "\x04", 1, rx, &n, &st), OC_OK);
	ck_assert_uint_eq(st.specific, ICCD_RESP_CHAIN_BEGIN);
	ck_assert_uint_eq(n, 2);
	/* "Send the rest": no data, level 0x10 in wValue's high byte. */
	ft_control_out(&ft, ICCD_REQ_XFR_BLOCK, 0x1000, "");
	ft_control_in(&ft, ICCD_REQ_DATA_BLOCK, "03 CC");
	ck_assert_int_eq(xfr(0x10, NULL, 0, rx, &n, &st), OC_OK);
	ck_assert_uint_eq(st.specific, ICCD_RESP_CHAIN_CONTINUE);
	ft_control_out(&ft, ICCD_REQ_XFR_BLOCK, 0x1000, "");
	ft_control_in(&ft, ICCD_REQ_DATA_BLOCK, "02 90 00");
	ck_assert_int_eq(xfr(0x10, NULL, 0, rx, &n, &st), OC_OK);
	ck_assert_uint_eq(st.specific, ICCD_RESP_CHAIN_END);
	ck_assert_mem_eq(rx, "\x90\x00", 2);
	ft_done(&ft);
}
END_TEST

/* Each answer that does not fit its request's level: out of order. */
START_TEST(test_b_chain_out_of_order)
{
	static const struct {
		uint16_t level;
		const char *answer;
	} bad[] = {
	    {0x00, "03 AA"}, {0x00, "02 AA"}, {0x00, "10"},
	    {0x01, "00 90 00"}, {0x01, "01 AA"}, {0x03, "02 AA"},
	    {0x02, "10"}, {0x10, "00 90 00"}, {0x10, "01 AA"}, {0x10, "10"},
	};
	uint8_t rx[300];
	size_t i, n;
	struct ccid_status st;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		log_stub_reset();
		ft_control_out(&ft, ICCD_REQ_XFR_BLOCK,
		    (uint16_t)(bad[i].level << 8), bad[i].level == 0x10 ? ""
									  : "01");
		ft_control_in(&ft, ICCD_REQ_DATA_BLOCK, bad[i].answer);
		ck_assert_int_eq(xfr(bad[i].level,
				     bad[i].level == 0x10 ? NULL : "\x01",
				     bad[i].level == 0x10 ? 0 : 1, rx, &n, &st),
		    OC_EPROTO);
		ck_assert_msg(log_stub_contains(NAME ": chain out of order"),
		    "case %zu not logged", i);
		assert_usable_b();
	}
}
END_TEST

START_TEST(test_b_unknown_response_type)
{
	uint8_t rx[300];
	size_t n;
	struct ccid_status st;

	ft_control_out(&ft, ICCD_REQ_XFR_BLOCK, 0, apdu);
	ft_control_in(&ft, ICCD_REQ_DATA_BLOCK, "22 90 00");
	ck_assert_int_eq(xfr(0, "\x00\xA4\x04\x00\x02\x3F\x00", 7, rx, &n, &st),
	    OC_EPROTO);
	ck_assert(log_stub_contains(
	    NAME ": DataBlock with unknown bResponseType 0x22"));
	assert_usable_b();
	/* An empty DataBlock, a status of 2 or 4 bytes: malformed. */
	ft_control_out(&ft, ICCD_REQ_XFR_BLOCK, 0, "");
	ft_control_in(&ft, ICCD_REQ_DATA_BLOCK, "");
	ck_assert_int_eq(xfr(0, NULL, 0, rx, &n, &st), OC_EPROTO);
	ck_assert(log_stub_contains(NAME ": malformed DataBlock (0 bytes)"));
	ft_control_out(&ft, ICCD_REQ_XFR_BLOCK, 0, "");
	ft_control_in(&ft, ICCD_REQ_DATA_BLOCK, "40 41");
	ck_assert_int_eq(xfr(0, NULL, 0, rx, &n, &st), OC_EPROTO);
	ft_control_out(&ft, ICCD_REQ_XFR_BLOCK, 0, "");
	ft_control_in(&ft, ICCD_REQ_DATA_BLOCK, "80 01 00 00");
	ck_assert_int_eq(xfr(0, NULL, 0, rx, &n, &st), OC_EPROTO);
	assert_usable_b();
}
END_TEST

START_TEST(test_b_longer_than_asked)
{
	static uint8_t big[ICCD_MAX_TRANSFER + 8];
	uint8_t rx[300];
	size_t n;
	struct ccid_status st;

	/* More than wLength: the transport reports it (overflow)... */
	ft_control_out(&ft, ICCD_REQ_XFR_BLOCK, 0, "");
	ft_control_in_data(&ft, ICCD_REQ_DATA_BLOCK, "00", big, sizeof(big));
	ck_assert_int_eq(xfr(0, NULL, 0, rx, &n, &st), OC_EPROTO);
	ck_assert(log_stub_contains(NAME ": answer to request 0x6F longer "
					 "than the 4096 bytes asked for"));
	/* ...or libusb's overflow error. */
	log_stub_reset();
	ft_control_out(&ft, ICCD_REQ_XFR_BLOCK, 0, "");
	ft_control_err(&ft, ICCD_REQ_DATA_BLOCK, OC_EPROTO);
	ck_assert_int_eq(xfr(0, NULL, 0, rx, &n, &st), OC_EPROTO);
	ck_assert(log_stub_contains(NAME ": answer to request 0x6F longer"));
	assert_usable_b();
}
END_TEST

START_TEST(test_b_answer_longer_than_buffer)
{
	uint8_t rx[4];
	size_t n;
	struct ccid_status st;

	ft_control_out(&ft, ICCD_REQ_XFR_BLOCK, 0, "");
	ft_control_in(&ft, ICCD_REQ_DATA_BLOCK, "00 01 02 03 04 90 00");
	ck_assert_int_eq(ccid_run_xfr_block(&io, 0, 0, 0, NULL, 0, rx,
			     sizeof(rx), &n, &st),
	    OC_ENOSPC);
	assert_usable_b();
}
END_TEST

START_TEST(test_b_status_answers)
{
	uint8_t rx[300];
	size_t n;
	struct ccid_status st;

	/* A failed status: the bError is mapped (ICC mute). */
	ft_control_out(&ft, ICCD_REQ_XFR_BLOCK, 0, "");
	ft_control_in(&ft, ICCD_REQ_DATA_BLOCK, "40 40 FE");
	ck_assert_int_eq(xfr(0, NULL, 0, rx, &n, &st), OC_ECARD);
	ck_assert_uint_eq(st.bError, 0xFE);
	/* A status without an error has no answer: never a success. */
	ft_control_out(&ft, ICCD_REQ_XFR_BLOCK, 0, "");
	ft_control_in(&ft, ICCD_REQ_DATA_BLOCK, "40 00 00");
	ck_assert_int_eq(xfr(0, NULL, 0, rx, &n, &st), OC_EPROTO);
	ck_assert(log_stub_contains(NAME ": status answer 0x00 without an "
					 "error"));
	assert_usable_b();
}
END_TEST

START_TEST(test_b_time_requests)
{
	uint8_t rx[300];
	size_t n;
	struct ccid_status st;

	ft_control_out(&ft, ICCD_REQ_XFR_BLOCK, 0, "");
	ft_control_in(&ft, ICCD_REQ_DATA_BLOCK, "80 05 00");
	ft_control_in(&ft, ICCD_REQ_DATA_BLOCK, "80 00 00");
	ft_control_in(&ft, ICCD_REQ_DATA_BLOCK, "00 90 00");
	ck_assert_int_eq(xfr(0, NULL, 0, rx, &n, &st), OC_OK);
	/* 5 x 10 ms, then 0: the host's choice (10 ms). */
	ck_assert_uint_eq(slept_ms, 60);
	ck_assert_uint_eq(sleeps, 2);
	ck_assert_uint_eq(n, 2);
	ft_done(&ft);
}
END_TEST

/* Endless time requests end at the io's grant, in wall time. */
START_TEST(test_b_time_requests_bounded)
{
	uint8_t rx[300];
	size_t n;
	unsigned i;
	struct ccid_status st;

	ccid_io_set_time_ext_cap(&io, 1000);
	ft_control_out(&ft, ICCD_REQ_XFR_BLOCK, 0, "");
	/* Waits at 0, 100, ... 900 ms; the 11th request is past 1000. */
	for (i = 0; i < 11; i++)
		ft_control_in(&ft, ICCD_REQ_DATA_BLOCK, "80 0A 00");
	ck_assert_int_eq(xfr(0, NULL, 0, rx, &n, &st), OC_ETIMEDOUT);
	ck_assert(log_stub_contains(NAME ": time requests beyond 1000 ms"));
	ck_assert_uint_eq(slept_ms, 1000);
	/* Long delays are cut to what is left of the grant. */
	ft_done(&ft);
	ft_control_out(&ft, ICCD_REQ_XFR_BLOCK, 0, "");
	ft_control_in(&ft, ICCD_REQ_DATA_BLOCK, "80 FF FF");
	ft_control_in(&ft, ICCD_REQ_DATA_BLOCK, "80 FF FF");
	slept_ms = 0;
	ck_assert_int_eq(xfr(0, NULL, 0, rx, &n, &st), OC_ETIMEDOUT);
	ck_assert_uint_eq(slept_ms, 1000);
	assert_usable_b();
}
END_TEST

/* A clock that does not move still ends: the count of requests. */
static uint64_t
frozen_now(void)
{
	return 5;
}

static void
no_sleep(unsigned ms)
{
	(void)ms;
}

START_TEST(test_b_time_requests_frozen_clock)
{
	uint8_t rx[300];
	size_t n;
	unsigned i;
	struct ccid_status st;

	io.now_ms = frozen_now;
	io.iccd->sleep_ms = no_sleep;
	ccid_io_set_time_ext_cap(&io, 50);
	ft_control_out(&ft, ICCD_REQ_XFR_BLOCK, 0, "");
	for (i = 0; i < 7; i++)
		ft_control_in(&ft, ICCD_REQ_DATA_BLOCK, "80 01 00");
	ck_assert_int_eq(xfr(0, NULL, 0, rx, &n, &st), OC_ETIMEDOUT);
	ft_done(&ft);
}
END_TEST

START_TEST(test_b_level_too_large)
{
	uint8_t rx[300];
	size_t n;
	struct ccid_status st;

	ck_assert_int_eq(xfr(0x0100, "\x01", 1, rx, &n, &st), OC_EINVAL);
	ft_done(&ft);
}
END_TEST

START_TEST(test_b_unsupported_commands)
{
	uint8_t rx[16];
	size_t n;
	struct ccid_status st;

	ck_assert_int_eq(ccid_run_escape(&io, 0, (const uint8_t *)"\x01", 1,
			     rx, sizeof(rx), &n, &st),
	    OC_ENOTSUP);
	ck_assert(log_stub_contains(NAME ": ICCD has no request for"));
	/* SetParameters is the token's own business: no I/O at all. */
	ck_assert_int_eq(ccid_run_set_parameters(&io, 0, 1,
			     (const uint8_t *)"\x11\x10\x00\x15\x00\xFE\x00",
			     7, &st),
	    OC_OK);
	/* No abort request exists: nothing goes out. */
	ck_assert_int_eq(ccid_run_abort(&io, 0), OC_OK);
	ft_done(&ft);
}
END_TEST

START_TEST(test_b_gone)
{
	struct ccid_status st;

	ft_control_err(&ft, ICCD_REQ_SLOT_STATUS, OC_ENODEV);
	ck_assert_int_eq(ccid_run_slot_status(&io, 0, &st), OC_ENODEV);
	ck_assert(ccid_io_is_gone(&io));
	ck_assert_int_eq(ccid_run_slot_status(&io, 0, &st), OC_ENODEV);
	ft_done(&ft);
}
END_TEST

/* Character level (the KONA token): the level is the length wanted. */
START_TEST(test_b_character_level)
{
	uint8_t rx[300];
	size_t n;
	struct ccid_status st;

	io.level = CCID_XCHG_CHARACTER;
	ft_control_out(&ft, ICCD_REQ_XFR_BLOCK, 0x0100, "00 A4 04 00 02");
	ft_control_in(&ft, ICCD_REQ_DATA_BLOCK, "00 A4");
	ck_assert_int_eq(xfr(1, "\x00\xA4\x04\x00\x02", 5, rx, &n, &st),
	    OC_OK);
	ck_assert_uint_eq(n, 1);
	ft_control_out(&ft, ICCD_REQ_XFR_BLOCK, 0x0200, "3F 00");
	ft_control_in(&ft, ICCD_REQ_DATA_BLOCK, "01 90 00");
	ck_assert_int_eq(xfr(2, "\x3F\x00", 2, rx, &n, &st), OC_EPROTO);
	ck_assert(log_stub_contains(NAME ": chain out of order"));
	assert_usable_b();
}
END_TEST

/* Version A. */

START_TEST(test_a_power_on_and_status)
{
	uint8_t atr[40];
	size_t n = 0;
	struct ccid_status st;

	ft_control_in(&ft, ICCD_REQ_GET_ICC_STATUS, "40"); /* busy */
	ft_control_in(&ft, ICCD_REQ_GET_ICC_STATUS, "00");
	ft_control_in(&ft, ICCD_REQ_POWER_ON, "3B 02 14 50");
	ck_assert_int_eq(
	    ccid_run_power_on(&io, 0, 0, atr, sizeof(atr), &n, &st), OC_OK);
	ck_assert_uint_eq(n, 4);
	ck_assert_uint_eq(sleeps, 1);
	ft_control_in(&ft, ICCD_REQ_GET_ICC_STATUS, "80");
	ck_assert_int_eq(ccid_run_slot_status(&io, 0, &st), OC_OK);
	ck_assert_uint_eq(CCID_ICC_STATUS(st.bStatus), CCID_ICC_ABSENT);
	ft_control_out(&ft, ICCD_REQ_POWER_OFF, 0, "");
	ck_assert_int_eq(ccid_run_power_off(&io, 0, &st), OC_OK);
	ft_done(&ft);
}
END_TEST

static int
tpdu(const char *tx, size_t len, uint8_t *rx, size_t *n)
{
	struct ccid_status st;

	return ccid_run_xfr_block(&io, 0, 0, 0, (const uint8_t *)tx, len, rx,
	    300, n, &st);
}

START_TEST(test_a_cases)
{
	uint8_t rx[300];
	size_t n = 0;

	/* Case 2: header, ready for data, Le bytes, SW ready, SW1 SW2. */
	ft_control_out(&ft, ICCD_REQ_XFR_BLOCK, 0, "00 B0 00 00 03");
	ft_control_in(&ft, ICCD_REQ_GET_ICC_STATUS, "10");
	ft_control_in(&ft, ICCD_REQ_DATA_BLOCK, "01 02 03");
	ft_control_in(&ft, ICCD_REQ_GET_ICC_STATUS, "20");
	ft_control_in(&ft, ICCD_REQ_DATA_BLOCK, "90 00");
	ck_assert_int_eq(tpdu("\x00\xB0\x00\x00\x03", 5, rx, &n), OC_OK);
	ck_assert_uint_eq(n, 5);
	ck_assert_mem_eq(rx, "\x01\x02\x03\x90\x00", 5);
	/* Case 3: the data goes out after "ready for data". */
	ft_control_out(&ft, ICCD_REQ_XFR_BLOCK, 0, "00 A4 04 00 02");
	ft_control_in(&ft, ICCD_REQ_GET_ICC_STATUS, "10");
	ft_control_out(&ft, ICCD_REQ_XFR_BLOCK, 0, "3F 00");
	ft_control_in(&ft, ICCD_REQ_GET_ICC_STATUS, "20");
	ft_control_in(&ft, ICCD_REQ_DATA_BLOCK, "90 00");
	ck_assert_int_eq(tpdu("\x00\xA4\x04\x00\x02\x3F\x00", 7, rx, &n),
	    OC_OK);
	ck_assert_uint_eq(n, 2);
	/* Case 1 (4 bytes: P3 0), the status words at once. */
	ft_control_out(&ft, ICCD_REQ_XFR_BLOCK, 0, "00 70 00 00 00");
	ft_control_in(&ft, ICCD_REQ_GET_ICC_STATUS, "20");
	ft_control_in(&ft, ICCD_REQ_DATA_BLOCK, "6A 81");
	ck_assert_int_eq(tpdu("\x00\x70\x00\x00", 4, rx, &n), OC_OK);
	ck_assert_mem_eq(rx, "\x6A\x81", 2);
	/* Case 2 with P3 0: 256 bytes asked for. */
	ft_control_out(&ft, ICCD_REQ_XFR_BLOCK, 0, "00 B0 00 00 00");
	ft_control_in(&ft, ICCD_REQ_GET_ICC_STATUS, "20");
	ft_control_in(&ft, ICCD_REQ_DATA_BLOCK, "6C 10");
	ck_assert_int_eq(tpdu("\x00\xB0\x00\x00\x00", 5, rx, &n), OC_OK);
	ft_done(&ft);
}
END_TEST

START_TEST(test_a_malformed)
{
	uint8_t rx[300];
	size_t n = 0;
	struct ccid_status st;

	/* A status that is neither data nor SW where SW were due. */
	ft_control_out(&ft, ICCD_REQ_XFR_BLOCK, 0, "00 B0 00 00 03");
	ft_control_in(&ft, ICCD_REQ_GET_ICC_STATUS, "01");
	ck_assert_int_eq(tpdu("\x00\xB0\x00\x00\x03", 5, rx, &n), OC_EPROTO);
	ck_assert(log_stub_contains(NAME ": ICC status 0x01 where SW1 SW2 "
					 "were due"));
	/* Fewer data bytes than Le. */
	ft_control_out(&ft, ICCD_REQ_XFR_BLOCK, 0, "00 B0 00 00 03");
	ft_control_in(&ft, ICCD_REQ_GET_ICC_STATUS, "10");
	ft_control_in(&ft, ICCD_REQ_DATA_BLOCK, "01 02");
	ck_assert_int_eq(tpdu("\x00\xB0\x00\x00\x03", 5, rx, &n), OC_EPROTO);
	ck_assert(log_stub_contains(NAME ": answer data of 2 bytes, 3 "
					 "expected"));
	/* A status of no byte, and one of two (more than asked for). */
	ft_control_in(&ft, ICCD_REQ_GET_ICC_STATUS, "");
	ck_assert_int_eq(ccid_run_slot_status(&io, 0, &st), OC_EPROTO);
	ck_assert(log_stub_contains(NAME ": malformed ICC status (0 bytes)"));
	ft_control_in(&ft, ICCD_REQ_GET_ICC_STATUS, "00 00");
	ck_assert_int_eq(ccid_run_slot_status(&io, 0, &st), OC_EPROTO);
	ck_assert(log_stub_contains(NAME ": answer to request 0xA0 longer "
					 "than the 1 bytes asked for"));
	/* Mute: the card's error, as a bulk reader reports it. */
	ft_control_out(&ft, ICCD_REQ_XFR_BLOCK, 0, "00 B0 00 00 03");
	ft_control_in(&ft, ICCD_REQ_GET_ICC_STATUS, "80");
	ck_assert_int_eq(tpdu("\x00\xB0\x00\x00\x03", 5, rx, &n), OC_ECARD);
	/* A TPDU shorter than a header is refused before any I/O. */
	ck_assert_int_eq(tpdu("\x00\xB0", 2, rx, &n), OC_EINVAL);
	/* Still usable. */
	ft_control_in(&ft, ICCD_REQ_GET_ICC_STATUS, "00");
	ck_assert_int_eq(ccid_run_slot_status(&io, 0, &st), OC_OK);
	ft_done(&ft);
}
END_TEST

START_TEST(test_a_busy_bounded)
{
	struct ccid_status st;
	unsigned i;

	ccid_io_set_time_ext_cap(&io, 100);
	for (i = 0; i < 11; i++)
		ft_control_in(&ft, ICCD_REQ_GET_ICC_STATUS, "40");
	ck_assert_int_eq(ccid_run_slot_status(&io, 0, &st), OC_ETIMEDOUT);
	ck_assert(log_stub_contains(NAME ": time requests beyond 100 ms"));
	ft_control_in(&ft, ICCD_REQ_GET_ICC_STATUS, "00");
	ck_assert_int_eq(ccid_run_slot_status(&io, 0, &st), OC_OK);
	ft_done(&ft);
}
END_TEST

START_TEST(test_attach_args)
{
	struct ccid_io io2;
	uint8_t b2[MAX_MSG];

	ccid_io_init(&io2, &tr, MAX_MSG, CCID_XCHG_SHORT_APDU, b2);
	ck_assert_int_eq(iccd_attach(&io2, 0, 0, "x"), OC_EINVAL);
	ck_assert_int_eq(iccd_attach(&io2, 3, 0, "x"), OC_EINVAL);
	ck_assert_int_eq(iccd_attach(&io2, 2, 2, "x"), OC_EINVAL);
	ck_assert_int_eq(iccd_attach(&io2, 2, 0x10000, "x"), OC_EINVAL);
	ck_assert_int_eq(iccd_attach(&io2, 2, 64, NULL), OC_OK);
	ck_assert_uint_eq(io2.iccd->max_xfer, 64);
	iccd_detach(&io2);
	ck_assert_ptr_null(io2.exchange);
	ccid_io_fini(&io2);
}
END_TEST

static Suite *
iccd_suite(void)
{
	Suite *s = suite_create("iccd");
	TCase *b = tcase_create("version B");
	TCase *a = tcase_create("version A");

	tcase_add_checked_fixture(b, setup_b, teardown);
	tcase_add_test(b, test_b_power_on);
	tcase_add_test(b, test_b_power_off_and_status);
	tcase_add_test(b, test_b_slot_status_malformed);
	tcase_add_test(b, test_b_xfr_whole);
	tcase_add_test(b, test_b_chains);
	tcase_add_test(b, test_b_chain_out_of_order);
	tcase_add_test(b, test_b_unknown_response_type);
	tcase_add_test(b, test_b_longer_than_asked);
	tcase_add_test(b, test_b_answer_longer_than_buffer);
	tcase_add_test(b, test_b_status_answers);
	tcase_add_test(b, test_b_time_requests);
	tcase_add_test(b, test_b_time_requests_bounded);
	tcase_add_test(b, test_b_time_requests_frozen_clock);
	tcase_add_test(b, test_b_level_too_large);
	tcase_add_test(b, test_b_unsupported_commands);
	tcase_add_test(b, test_b_gone);
	tcase_add_test(b, test_b_character_level);
	tcase_add_test(b, test_attach_args);
	suite_add_tcase(s, b);
	tcase_add_checked_fixture(a, setup_a, teardown);
	tcase_add_test(a, test_a_power_on_and_status);
	tcase_add_test(a, test_a_cases);
	tcase_add_test(a, test_a_malformed);
	tcase_add_test(a, test_a_busy_bounded);
	suite_add_tcase(s, a);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(iccd_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
