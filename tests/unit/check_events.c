/*
 * openccid - card events, polling thread, multi-slot readers and device
 * removal through the IFDH entry points, against the scripted transport
 * (its interrupt-IN queue is read by the poller's thread).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ifdhandler.h>

#include "codec/ccid_desc.h"
#include "base/err.h"
#include "fake_transport.h"
#include "ifdh_fixture.h"
#include "base/log.h"
#include "log_stub.h"
#include "transport/usb.h"

#define LUN 0x20000UL
#define LUN1 (LUN | 1)
#define DEVNAME "usb:072f/90cc:libudev:0:/dev/bus/usb/001/007"

typedef RESPONSECODE (*poll_fn)(DWORD, int);
typedef RESPONSECODE (*stop_fn)(DWORD);

static char devname[] = DEVNAME;

static void
setup(void)
{
	fx_setup(0x0f);
	fx.ft.intr_enabled = true;
	fx_short_apdu_reader(7);
	fx.info.desc.bMaxCCIDBusySlots = 1;
}

static void
open_reader(void)
{
	fx_open(LUN, devname);
	/* The open drained the pipe (quirk open_drain_interrupt_ms): count
	 * the reads the tests make. */
	fx.ft.intr_calls = 0;
}

static poll_fn
get_poll(DWORD lun)
{
	poll_fn f = NULL;
	DWORD len = sizeof(f);

	ck_assert_int_eq(IFDHGetCapabilities(lun,
			     TAG_IFD_POLLING_THREAD_WITH_TIMEOUT, &len,
			     (PUCHAR)&f), IFD_SUCCESS);
	ck_assert_uint_eq(len, sizeof(f));
	ck_assert_ptr_nonnull(f);
	return f;
}

static stop_fn
get_stop(DWORD lun)
{
	stop_fn f = NULL;
	DWORD len = sizeof(f);

	ck_assert_int_eq(IFDHGetCapabilities(lun, TAG_IFD_STOP_POLLING_THREAD,
			     &len, (PUCHAR)&f), IFD_SUCCESS);
	ck_assert_ptr_nonnull(f);
	return f;
}

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

START_TEST(test_notify_updates_presence)
{
	poll_fn poll;

	open_reader();
	poll = get_poll(LUN);
	/* Slot 0: present + changed. Presence answers without a transfer. */
	ft_intr(&fx.ft, "50 03");
	ck_assert_int_eq(poll(LUN, 5000), IFD_SUCCESS);
	ck_assert_int_eq(IFDHICCPresence(LUN), IFD_ICC_PRESENT);
	/* Removed. */
	ft_intr(&fx.ft, "50 02");
	ck_assert_int_eq(poll(LUN, 5000), IFD_SUCCESS);
	ck_assert_int_eq(IFDHICCPresence(LUN), IFD_ICC_NOT_PRESENT);
	ft_done(&fx.ft);
	/* No fresh event: presence asks the reader. */
	ft_out(&fx.ft, "65 00000000 00 ?? 00 0000");
	ft_in(&fx.ft, "81 00000000 00 ?? 02 00 00");
	ck_assert_int_eq(IFDHICCPresence(LUN), IFD_ICC_NOT_PRESENT);
	ft_done(&fx.ft);
	ck_assert_uint_eq(fx.ft.intr_calls, 2);
	ck_assert_int_eq(IFDHCloseChannel(LUN), IFD_SUCCESS);
}
END_TEST

START_TEST(test_swap_reports_absent_once)
{
	poll_fn poll;

	open_reader();
	poll = get_poll(LUN);
	ft_intr(&fx.ft, "50 03");
	ck_assert_int_eq(poll(LUN, 5000), IFD_SUCCESS);
	ck_assert_int_eq(IFDHICCPresence(LUN), IFD_ICC_PRESENT);
	/* Present and changed again: another card. */
	ft_intr(&fx.ft, "50 03");
	ck_assert_int_eq(poll(LUN, 5000), IFD_SUCCESS);
	ck_assert_int_eq(IFDHICCPresence(LUN), IFD_ICC_NOT_PRESENT);
	/* The next poll returns at once; the reader is asked. */
	ck_assert_int_eq(poll(LUN, 5000), IFD_SUCCESS);
	ft_out(&fx.ft, "65 00000000 00 ?? 00 0000");
	ft_in(&fx.ft, "81 00000000 00 ?? 01 00 00");
	ck_assert_int_eq(IFDHICCPresence(LUN), IFD_ICC_PRESENT);
	ft_done(&fx.ft);
	ck_assert_int_eq(IFDHCloseChannel(LUN), IFD_SUCCESS);
}
END_TEST

START_TEST(test_poll_timeout)
{
	poll_fn poll;
	double t0;

	open_reader();
	poll = get_poll(LUN);
	t0 = now_s();
	ck_assert_int_eq(poll(LUN, 200), IFD_SUCCESS);
	ck_assert(now_s() - t0 >= 0.19);
	ck_assert(now_s() - t0 < 2.0);
	/* One blocking read, no bulk transfer. */
	ck_assert_uint_eq(fx.ft.intr_calls, 1);
	ft_done(&fx.ft);
	ck_assert_int_eq(IFDHCloseChannel(LUN), IFD_SUCCESS);
}
END_TEST

struct poller {
	DWORD lun;
	poll_fn poll;
	RESPONSECODE rc;
};

static void *
poller_main(void *arg)
{
	struct poller *p = arg;

	p->rc = p->poll(p->lun, 20000);
	return NULL;
}

START_TEST(test_stop_polling_cancels)
{
	struct poller p = {LUN, NULL, -1};
	pthread_t th;
	double t0;

	open_reader();
	p.poll = get_poll(LUN);
	t0 = now_s();
	ck_assert_int_eq(pthread_create(&th, NULL, poller_main, &p), 0);
	ft_wait_intr_blocked(&fx.ft);
	ck_assert_int_eq(get_stop(LUN)(LUN), IFD_SUCCESS);
	pthread_join(th, NULL);
	ck_assert_int_eq(p.rc, IFD_SUCCESS);
	ck_assert(now_s() - t0 < 2.0);
	ck_assert_uint_eq(fx.ft.intr_cancels, 1);
	ck_assert_int_eq(IFDHCloseChannel(LUN), IFD_SUCCESS);
}
END_TEST

START_TEST(test_removal_ends_blocked_poll)
{
	struct poller p = {LUN, NULL, -1};
	UCHAR one = 1;
	pthread_t th;

	open_reader();
	p.poll = get_poll(LUN);
	ck_assert_int_eq(pthread_create(&th, NULL, poller_main, &p), 0);
	ft_wait_intr_blocked(&fx.ft);
	ck_assert_int_eq(IFDHSetCapabilities(LUN, TAG_IFD_DEVICE_REMOVED, 1,
			     &one), IFD_SUCCESS);
	pthread_join(th, NULL);
	ck_assert_int_eq(p.rc, IFD_NO_SUCH_DEVICE);
	ck_assert_int_eq(IFDHICCPresence(LUN), IFD_NO_SUCH_DEVICE);
	/* A later poll returns at once too. */
	ck_assert_int_eq(p.poll(LUN, 20000), IFD_NO_SUCH_DEVICE);
	ck_assert_int_eq(IFDHCloseChannel(LUN), IFD_SUCCESS);
	ck_assert_uint_eq(fx.ft.closes, 1);
	ft_done(&fx.ft);
}
END_TEST

START_TEST(test_unplug_seen_by_poll)
{
	open_reader();
	ft_intr_err(&fx.ft, OC_ENODEV);
	ck_assert_int_eq(get_poll(LUN)(LUN, 5000), IFD_NO_SUCH_DEVICE);
	ck_assert_int_eq(IFDHCloseChannel(LUN), IFD_SUCCESS);
	ft_done(&fx.ft);
}
END_TEST

START_TEST(test_broken_pipe_falls_back)
{
	poll_fn poll;
	int i;

	open_reader();
	poll = get_poll(LUN);
	for (i = 0; i < 3; i++)
		ft_intr_err(&fx.ft, OC_EIO);
	/* Errors are reported, then the pipe is left alone. */
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(poll(LUN, 300), IFD_SUCCESS);
	ck_assert_uint_eq(fx.ft.intr_calls, 3);
	ck_assert(log_stub_contains("keeps failing"));
	ck_assert_int_eq(IFDHCloseChannel(LUN), IFD_SUCCESS);
}
END_TEST

START_TEST(test_no_intr_no_polling)
{
	DWORD len = 8;
	UCHAR v[8];

	fx.info.has_intr = false;
	open_reader();
	ck_assert_int_eq(IFDHGetCapabilities(LUN,
			     TAG_IFD_POLLING_THREAD_WITH_TIMEOUT, &len, v),
	    IFD_ERROR_TAG);
	ck_assert_int_eq(IFDHCloseChannel(LUN), IFD_SUCCESS);
}
END_TEST

static void
two_slots(void)
{
	fx.info.desc.bMaxSlotIndex = 1;
	fx.info.desc.bMaxCCIDBusySlots = 2;
	open_reader();
	/* Attaching slot 1 costs no transfer. */
	ck_assert_int_eq(IFDHCreateChannelByName(LUN1, devname), IFD_SUCCESS);
	ck_assert_int_eq(IFDHCreateChannelByName(LUN1, devname),
	    IFD_COMMUNICATION_ERROR);
}

START_TEST(test_two_slots_power_and_close_any_order)
{
	UCHAR atr[MAX_ATR_SIZE], v[4], apdu[] = {0x00, 0xA4, 0x04, 0x00, 0x00};
	DWORD len = sizeof(atr), vlen = sizeof(v);

	two_slots();
	ck_assert_int_eq(IFDHGetCapabilities(LUN1, TAG_IFD_SLOTS_NUMBER, &vlen,
			     v), IFD_SUCCESS);
	ck_assert_uint_eq(v[0], 2);
	vlen = sizeof(v);
	ck_assert_int_eq(IFDHGetCapabilities(LUN1, TAG_IFD_SLOT_THREAD_SAFE,
			     &vlen, v), IFD_SUCCESS);
	ck_assert_uint_eq(v[0], 1);
	ft_out(&fx.ft, "62 00000000 01 ?? 00 0000");
	ft_in(&fx.ft, "80 04000000 01 ?? 00 00 00 3B 02 14 50");
	ck_assert_int_eq(IFDHPowerICC(LUN1, IFD_POWER_UP, atr, &len),
	    IFD_SUCCESS);
	/*
	 * A reply for the other slot (idle) is stale: dropped; slot 0's
	 * command then times out and is aborted (bMaxCCIDBusySlots 2: the
	 * replies are routed by bSlot and bSeq).
	 */
	len = sizeof(atr);
	ft_out(&fx.ft, "62 00000000 00 ?? 00 0000");
	ft_in(&fx.ft, "80 04000000 01 ?? 00 00 00 3B 02 14 50");
	ft_in_err(&fx.ft, OC_ETIMEDOUT);
	ft_control(&fx.ft, 0x01);
	ft_out(&fx.ft, "72 00000000 00 ?? 00 0000");
	ft_in(&fx.ft, "81 00000000 00 ?? 00 00 00");
	ck_assert_int_ne(IFDHPowerICC(LUN, IFD_POWER_UP, atr, &len),
	    IFD_SUCCESS);
	ft_done(&fx.ft);
	/* Slot 0 closes first: the device stays for slot 1. */
	ck_assert_int_eq(IFDHCloseChannel(LUN), IFD_SUCCESS);
	ck_assert_uint_eq(fx.ft.closes, 0);
	ft_out(&fx.ft, "6F 05000000 01 ?? 00 0000 00A4040000");
	ft_in(&fx.ft, "80 02000000 01 ?? 00 00 00 9000");
	len = sizeof(atr);
	ck_assert_int_eq(IFDHTransmitToICC(LUN1, (SCARD_IO_HEADER){0, 0},
			     apdu, sizeof(apdu), atr, &len,
			     NULL), IFD_SUCCESS);
	ck_assert_uint_eq(len, 2);
	/* Closing slot 1 powers its card off and releases the device. */
	ft_out(&fx.ft, "63 00000000 01 ?? 00 0000");
	ft_in(&fx.ft, "81 00000000 01 ?? 01 00 00");
	ck_assert_int_eq(IFDHCloseChannel(LUN1), IFD_SUCCESS);
	ck_assert_uint_eq(fx.ft.closes, 1);
	ft_done(&fx.ft);
}
END_TEST

START_TEST(test_two_slots_events)
{
	struct poller p1 = {LUN1, NULL, -1};
	poll_fn poll;
	pthread_t th;

	two_slots();
	poll = get_poll(LUN);
	p1.poll = poll;
	/* Slot 1's poller owns the pipe; an event for slot 0 arrives. */
	ck_assert_int_eq(pthread_create(&th, NULL, poller_main, &p1), 0);
	ft_wait_intr_blocked(&fx.ft);
	ft_intr(&fx.ft, "50 03");
	/* Slot 0's poll sees it without reading the pipe itself. */
	ck_assert_int_eq(poll(LUN, 5000), IFD_SUCCESS);
	ck_assert_int_eq(IFDHICCPresence(LUN), IFD_ICC_PRESENT);
	/* Now slot 1: insert (slot 0 unchanged). */
	ft_intr(&fx.ft, "50 0D");
	pthread_join(th, NULL);
	ck_assert_int_eq(p1.rc, IFD_SUCCESS);
	ck_assert_int_eq(IFDHICCPresence(LUN1), IFD_ICC_PRESENT);
	ft_done(&fx.ft);
	ck_assert_int_eq(IFDHCloseChannel(LUN1), IFD_SUCCESS);
	ck_assert_int_eq(IFDHCloseChannel(LUN), IFD_SUCCESS);
	ck_assert_uint_eq(fx.ft.closes, 1);
}
END_TEST

static Suite *
events_suite(void)
{
	Suite *s = suite_create("events");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, fx_teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_notify_updates_presence);
	tcase_add_test(tc, test_swap_reports_absent_once);
	tcase_add_test(tc, test_poll_timeout);
	tcase_add_test(tc, test_stop_polling_cancels);
	tcase_add_test(tc, test_removal_ends_blocked_poll);
	tcase_add_test(tc, test_unplug_seen_by_poll);
	tcase_add_test(tc, test_broken_pipe_falls_back);
	tcase_add_test(tc, test_no_intr_no_polling);
	tcase_add_test(tc, test_two_slots_power_and_close_any_order);
	tcase_add_test(tc, test_two_slots_events);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return fx_run(events_suite());
}
