/*
 * openccid - commands to several slots of one reader at once (ccid_mux.c)
 * against a thread-safe fake device: replies out of order reach their
 * own slot, one command per slot and at most bMaxCCIDBusySlots on the
 * wire, stale replies dropped, a timeout aborts only its slot, a device
 * gone wakes every waiter, bMaxCCIDBusySlots 1 stays one at a time.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ccid/ccid_cmd.h"
#include "base/clock.h"
#include "base/err.h"
#include "fake_device.h"
#include "base/log.h"
#include "log_stub.h"

#define MAX_MSG 271
#define MAX_THREADS 8

static struct fake_device fd;
static struct transport tr;
static struct ccid_io io;
static uint8_t buf[MAX_MSG];

/* io for nslots slots, bMaxCCIDBusySlots busy; the device agrees. */
static void
open_io(unsigned nslots, unsigned busy)
{
	fd_init(&fd, &tr, busy);
	ccid_io_init(&io, &tr, MAX_MSG, CCID_XCHG_SHORT_APDU, buf);
	ck_assert_int_eq(ccid_io_set_slots(&io, nslots, busy), OC_OK);
	oc_log_set_level(OC_LOG_MASK_CRITICAL | OC_LOG_MASK_INFO);
	log_stub_reset();
}

static void
teardown(void)
{
	ccid_io_fini(&io);
	fd_free(&fd);
}

/* One thread: n XfrBlocks on a slot, each echo checked byte for byte. */
struct job {
	pthread_t th;
	uint8_t slot;
	unsigned n;
	unsigned timeout_ms; /* 0: io default */
	int rc;              /* first error, else OC_OK */
	unsigned ok;
	uint64_t start, end; /* ms */
};

static void *
job_main(void *arg)
{
	struct job *j = arg;
	uint8_t tx[16], rx[32];
	struct ccid_status st;
	size_t got, k;
	unsigned i;
	int rc;

	j->rc = OC_OK;
	j->start = oc_clock_ms();
	for (i = 0; i < j->n; i++) {
		for (k = 0; k < sizeof(tx); k++)
			tx[k] = (uint8_t)(j->slot * 16 + i + k);
		got = 0;
		rc = ccid_run_xfr_block_timed(&io, j->slot, 0, 0, tx, sizeof(tx),
		    rx, sizeof(rx), &got, j->timeout_ms, &st);
		if (rc != OC_OK) {
			j->rc = rc;
			break;
		}
		if (got == sizeof(tx) && memcmp(tx, rx, got) == 0)
			j->ok++;
	}
	j->end = oc_clock_ms();
	return NULL;
}

static void
start(struct job *j, uint8_t slot, unsigned n, unsigned timeout_ms)
{
	memset(j, 0, sizeof(*j));
	j->slot = slot;
	j->n = n;
	j->timeout_ms = timeout_ms;
	ck_assert_int_eq(pthread_create(&j->th, NULL, job_main, j), 0);
}

static void
join(struct job *j)
{
	ck_assert_int_eq(pthread_join(j->th, NULL), 0);
}

START_TEST(test_out_of_order_replies)
{
	struct job j[3];
	uint64_t t0 = oc_clock_ms();
	unsigned i;

	open_io(3, 3);
	/* Slot 0 answers last though it asked first. */
	fd.delay_ms[0] = 1500;
	fd.delay_ms[1] = 800;
	fd.delay_ms[2] = 100;
	for (i = 0; i < 3; i++)
		start(&j[i], (uint8_t)i, 1, 5000);
	for (i = 0; i < 3; i++) {
		join(&j[i]);
		ck_assert_int_eq(j[i].rc, OC_OK);
		ck_assert_uint_eq(j[i].ok, 1);
	}
	/* Slot 2 did not wait for slot 0's slow card (generous bounds:
	 * valgrind and a loaded machine). */
	ck_assert_uint_lt(j[2].end - t0, 1200);
	ck_assert_uint_lt(j[2].end, j[1].end);
	ck_assert_uint_lt(j[1].end, j[0].end);
	ck_assert_uint_eq(fd_max_in_flight(&fd), 3);
	ck_assert_uint_eq(fd_violations(&fd), 0);
	/* Concurrent: about the slowest delay, not their sum (2400). */
	ck_assert_uint_lt(oc_clock_ms() - t0, 2200);
}
END_TEST

START_TEST(test_one_command_per_slot)
{
	struct job j[4];
	unsigned i;

	open_io(2, 2);
	fd.delay_ms[0] = 5;
	fd.delay_ms[1] = 3;
	/* Two threads per slot (a client and the presence poll). */
	for (i = 0; i < 4; i++)
		start(&j[i], (uint8_t)(i % 2), 20, 5000);
	for (i = 0; i < 4; i++) {
		join(&j[i]);
		ck_assert_int_eq(j[i].rc, OC_OK);
		ck_assert_uint_eq(j[i].ok, 20);
	}
	ck_assert_uint_eq(fd_violations(&fd), 0);
	ck_assert_uint_eq(fd_max_in_flight(&fd), 2);
}
END_TEST

START_TEST(test_max_busy_respected)
{
	struct job j[4];
	unsigned i;

	/* Four slots, two busy at most: commands wait for a credit. */
	open_io(4, 2);
	for (i = 0; i < 4; i++)
		fd.delay_ms[i] = 10 + 5 * i;
	for (i = 0; i < 4; i++)
		start(&j[i], (uint8_t)i, 10, 5000);
	for (i = 0; i < 4; i++) {
		join(&j[i]);
		ck_assert_int_eq(j[i].rc, OC_OK);
		ck_assert_uint_eq(j[i].ok, 10);
	}
	ck_assert_uint_eq(fd_violations(&fd), 0);
	ck_assert_uint_eq(fd_max_in_flight(&fd), 2);
}
END_TEST

START_TEST(test_max_busy_one_serialises)
{
	struct job j[2];
	uint64_t t0 = oc_clock_ms();
	unsigned i;

	/* bMaxCCIDBusySlots 1: one exchange at a time, as ever. */
	open_io(2, 1);
	ck_assert_ptr_null(io.mux);
	fd.delay_ms[0] = 200;
	fd.delay_ms[1] = 200;
	for (i = 0; i < 2; i++)
		start(&j[i], (uint8_t)i, 2, 5000);
	for (i = 0; i < 2; i++) {
		join(&j[i]);
		ck_assert_int_eq(j[i].rc, OC_OK);
		ck_assert_uint_eq(j[i].ok, 2);
	}
	ck_assert_uint_eq(fd_max_in_flight(&fd), 1);
	ck_assert_uint_eq(fd_violations(&fd), 0);
	ck_assert_uint_ge(oc_clock_ms() - t0, 4 * 200 - 20);
}
END_TEST

START_TEST(test_busy_zero_counts_as_one)
{
	open_io(3, 0);
	ck_assert_ptr_null(io.mux);
	ck_assert_uint_eq(io.max_busy, 1);
}
END_TEST

START_TEST(test_stale_reply_dropped)
{
	struct job j[2];

	open_io(2, 2);
	fd.delay_ms[0] = 100;
	fd.delay_ms[1] = 150;
	/* A reply to nothing on the wire (an aborted command's, late). */
	fd_inject(&fd, 1, 0xEE);
	start(&j[0], 0, 1, 5000);
	start(&j[1], 1, 1, 5000);
	join(&j[0]);
	join(&j[1]);
	ck_assert_int_eq(j[0].rc, OC_OK);
	ck_assert_int_eq(j[1].rc, OC_OK);
	ck_assert_uint_eq(j[0].ok + j[1].ok, 2);
	ck_assert_uint_eq(fd.stale_read, 1);
	ck_assert(log_stub_contains("dropping stale reply slot 1 bSeq 238"));
}
END_TEST

START_TEST(test_timeout_aborts_only_its_slot)
{
	struct job j[2];

	open_io(2, 2);
	/* Slot 0's card is mute; its Abort is answered late, after slot
	 * 1's reply, which must still reach slot 1 meanwhile. */
	fd.delay_ms[0] = FD_NEVER;
	fd.abort_delay_ms[0] = 600;
	fd.delay_ms[1] = 500;
	start(&j[0], 0, 1, 300);
	start(&j[1], 1, 1, 5000);
	join(&j[0]);
	join(&j[1]);
	ck_assert_int_eq(j[0].rc, OC_ETIMEDOUT);
	ck_assert_int_eq(j[1].rc, OC_OK);
	ck_assert_uint_eq(j[1].ok, 1);
	ck_assert_uint_lt(j[1].end, j[0].end);
	ck_assert_uint_eq(fd.aborts[0], 1);
	ck_assert_uint_eq(fd.abort_cmds[0], 1);
	ck_assert_uint_eq(fd.aborts[1], 0);
	ck_assert_uint_eq(fd.abort_cmds[1], 0);
	/* Slot 0 works again after the abort. */
	fd.delay_ms[0] = 0;
	start(&j[0], 0, 1, 5000);
	join(&j[0]);
	ck_assert_int_eq(j[0].rc, OC_OK);
	ck_assert_uint_eq(fd_violations(&fd), 0);
}
END_TEST

START_TEST(test_gone_wakes_all)
{
	struct job j[3];
	uint64_t t0;
	unsigned i;

	/* Two slots wait for replies, a third for a busy credit. */
	open_io(3, 2);
	for (i = 0; i < 3; i++)
		fd.delay_ms[i] = FD_NEVER;
	for (i = 0; i < 3; i++)
		start(&j[i], (uint8_t)i, 1, 10000);
	while (fd_max_in_flight(&fd) < 2)
		(void)nanosleep(&(struct timespec){0, 5000000L}, NULL);
	t0 = oc_clock_ms();
	fd_unplug(&fd);
	for (i = 0; i < 3; i++) {
		join(&j[i]);
		ck_assert_int_eq(j[i].rc, OC_ENODEV);
		ck_assert_uint_lt(j[i].end - t0, 2000);
	}
	ck_assert(ccid_io_is_gone(&io));
}
END_TEST

START_TEST(test_mark_gone_wakes_waiters)
{
	struct job j[2];
	uint64_t t0;
	unsigned i;

	/* Removal seen by the poller (no transport error) wakes them. */
	open_io(2, 2);
	for (i = 0; i < 2; i++)
		fd.delay_ms[i] = FD_NEVER;
	for (i = 0; i < 2; i++)
		start(&j[i], (uint8_t)i, 1, 10000);
	while (fd_max_in_flight(&fd) < 2)
		(void)nanosleep(&(struct timespec){0, 5000000L}, NULL);
	t0 = oc_clock_ms();
	ccid_io_mark_gone(&io);
	/* The token holder's read ends with the device. */
	fd_unplug(&fd);
	for (i = 0; i < 2; i++) {
		join(&j[i]);
		ck_assert_int_eq(j[i].rc, OC_ENODEV);
		ck_assert_uint_lt(j[i].end - t0, 2000);
	}
}
END_TEST

START_TEST(test_bad_slot_refused)
{
	struct ccid_status st;

	open_io(2, 2);
	ck_assert_int_eq(ccid_run_slot_status(&io, 2, &st), OC_EINVAL);
	ck_assert_int_eq(ccid_run_slot_status(&io, 1, &st), OC_OK);
}
END_TEST

static Suite *
concurrency_suite(void)
{
	Suite *s = suite_create("concurrency");
	TCase *tc = tcase_create("mux");

	tcase_add_checked_fixture(tc, NULL, teardown);
	/* Valgrind runs them too: real delays, generous bound. */
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_out_of_order_replies);
	tcase_add_test(tc, test_one_command_per_slot);
	tcase_add_test(tc, test_max_busy_respected);
	tcase_add_test(tc, test_max_busy_one_serialises);
	tcase_add_test(tc, test_busy_zero_counts_as_one);
	tcase_add_test(tc, test_stale_reply_dropped);
	tcase_add_test(tc, test_timeout_aborts_only_its_slot);
	tcase_add_test(tc, test_gone_wakes_all);
	tcase_add_test(tc, test_mark_gone_wakes_waiters);
	tcase_add_test(tc, test_bad_slot_refused);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(concurrency_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
