/*
 * openccid - quirk interfaces_exclusive: the CCID interfaces of one
 * device (one reader each, as pcscd opens them) share one exchange lock,
 * so two of them never have a command in flight at once; without the
 * quirk they run in parallel. A small answering transport per interface
 * counts the exchanges in flight across all of them (a command is in
 * flight from its bulk-OUT to its bulk-IN reply).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/ccid_desc.h"
#include "base/err.h"
#include "base/log.h"
#include "log_stub.h"
#include "reader/reader.h"
#include "transport/usb.h"

#define ROUNDS 150
#define LUN_A 0x00000UL
#define LUN_B 0x10000UL
#define LUN_C 0x20000UL

static atomic_int in_flight, max_in_flight;

/* libocc_core's ifdhandler.c calls usb_open(); never used here. */
int
usb_open(const struct devname *dn, const struct usb_hooks *hooks,
    struct transport *tr, struct usb_info *out)
{
	(void)dn, (void)hooks, (void)tr, (void)out;
	return OC_ENODEV;
}

/* One interface: answers every command with a SlotStatus (card active). */
struct iface {
	uint8_t reply[10];
	bool pending;
	unsigned closes;
};

static void
pause_us(long us)
{
	struct timespec ts = {0, us * 1000L};

	nanosleep(&ts, NULL);
}

static int
if_out(void *ctx, const uint8_t *buf, size_t len, unsigned timeout_ms)
{
	struct iface *f = ctx;
	int now, max;

	(void)timeout_ms;
	if (len < 10)
		return OC_EIO;
	memset(f->reply, 0, sizeof(f->reply));
	f->reply[0] = 0x81; /* RDR_to_PC_SlotStatus, CCID rev 1.1 6.2.2 */
	f->reply[5] = buf[5]; /* bSlot */
	f->reply[6] = buf[6]; /* bSeq */
	f->pending = true;
	now = atomic_fetch_add(&in_flight, 1) + 1;
	max = atomic_load(&max_in_flight);
	while (now > max && !atomic_compare_exchange_weak(&max_in_flight,
	    &max, now))
		;
	pause_us(300); /* the reader works on it */
	return OC_OK;
}

static int
if_in(void *ctx, uint8_t *buf, size_t cap, size_t *got, unsigned timeout_ms)
{
	struct iface *f = ctx;

	(void)timeout_ms;
	if (!f->pending || cap < sizeof(f->reply))
		return OC_ETIMEDOUT;
	pause_us(300);
	f->pending = false;
	atomic_fetch_sub(&in_flight, 1);
	memcpy(buf, f->reply, sizeof(f->reply));
	*got = sizeof(f->reply);
	return OC_OK;
}

static int
if_intr(void *ctx, uint8_t *buf, size_t cap, size_t *got,
    unsigned timeout_ms)
{
	(void)ctx, (void)buf, (void)cap, (void)got, (void)timeout_ms;
	return OC_ENOTSUP;
}

static int
if_control(void *ctx, uint8_t t, uint8_t r, uint16_t v, uint8_t *data,
    size_t len, size_t *got, unsigned timeout_ms)
{
	(void)ctx, (void)t, (void)r, (void)v, (void)data, (void)len;
	(void)got, (void)timeout_ms;
	return OC_ENOTSUP;
}

static int
if_clear_halt(void *ctx, int in)
{
	(void)ctx, (void)in;
	return OC_OK;
}

static void
if_cancel(void *ctx)
{
	(void)ctx;
}

static void
if_close(void *ctx)
{
	((struct iface *)ctx)->closes++;
}

static const struct transport_ops if_ops = {
	if_out, if_in, if_intr, if_control, if_clear_halt, if_cancel, if_close,
	NULL,
};

static struct iface ifs[3];

static void
setup(void)
{
	oc_log_set_level(0x0f);
	log_stub_reset();
	memset(ifs, 0, sizeof(ifs));
	atomic_store(&in_flight, 0);
	atomic_store(&max_in_flight, 0);
	ck_assert_int_eq(reader_quirks_reload(NULL), OC_OK); /* built-in */
}

/* Interface `interface` of device bus 1 / addr, as usb_open() fills it. */
static void
open_iface(unsigned long lun, struct iface *f, uint16_t vid, uint16_t pid,
    uint8_t addr, uint8_t interface)
{
	struct transport tr = {&if_ops, f};
	struct usb_info info;

	memset(&info, 0, sizeof(info));
	info.vid = vid;
	info.pid = pid;
	info.bcdDevice = 0x0100;
	info.bus = 1;
	info.addr = addr;
	info.interface = interface;
	info.desc.bVoltageSupport = 0x07;
	info.desc.dwProtocols = 3;
	info.desc.dwFeatures = CCID_LEVEL_EXT_APDU | CCID_FEAT_AUTO_VOLTAGE;
	info.desc.dwMaxCCIDMessageLength = 271;
	info.desc.dwMaxIFSD = 254;
	info.desc.bMaxCCIDBusySlots = 1;
	info.desc.level = CCID_XCHG_EXTENDED_APDU;
	ck_assert_int_eq(reader_open_with_transport(lun, &tr, &info, 0), OC_OK);
}

static void *
hammer(void *arg)
{
	unsigned long lun = *(unsigned long *)arg;
	struct ccid_status st;
	int i;

	for (i = 0; i < ROUNDS; i++) {
		struct reader *r = reader_get(lun);

		if (r == NULL)
			return (void *)1;
		if (ccid_run_slot_status(&r->io, 0, &st) != OC_OK) {
			reader_put(r, lun);
			return (void *)1;
		}
		reader_put(r, lun);
	}
	return NULL;
}

/* Both interfaces busy at once; the most exchanges seen in flight. */
static int
run_both(unsigned long a, unsigned long b)
{
	pthread_t ta, tb;
	void *ra, *rb;

	atomic_store(&max_in_flight, 0);
	ck_assert_int_eq(pthread_create(&ta, NULL, hammer, &a), 0);
	ck_assert_int_eq(pthread_create(&tb, NULL, hammer, &b), 0);
	ck_assert_int_eq(pthread_join(ta, &ra), 0);
	ck_assert_int_eq(pthread_join(tb, &rb), 0);
	ck_assert_ptr_null(ra);
	ck_assert_ptr_null(rb);
	ck_assert_int_eq(atomic_load(&in_flight), 0);
	return atomic_load(&max_in_flight);
}

static struct xchg_group *
group_of(unsigned long lun)
{
	struct reader *r = reader_hold(lun);
	struct xchg_group *g;

	ck_assert_ptr_nonnull(r);
	g = r->group; /* fixed while the reader is open */
	reader_release(r);
	return g;
}

/* Gemalto Prox-DU (08E6:5503): interfaces 1 and 2 are CCID, exclusive. */
START_TEST(test_exclusive_interfaces_serialised)
{
	open_iface(LUN_A, &ifs[0], 0x08e6, 0x5503, 5, 1);
	open_iface(LUN_B, &ifs[1], 0x08e6, 0x5503, 5, 2);
	ck_assert_ptr_nonnull(group_of(LUN_A));
	ck_assert_ptr_eq(group_of(LUN_A), group_of(LUN_B));
	ck_assert(log_stub_contains("interfaces_exclusive"));
	ck_assert_int_eq(run_both(LUN_A, LUN_B), 1);
	/* Closed in either order; the survivor still works. */
	reader_close(LUN_A);
	ck_assert_int_eq(ifs[0].closes, 1);
	ck_assert_int_eq(run_both(LUN_B, LUN_B), 1);
	reader_close(LUN_B);
}
END_TEST

/* Another device of the same model is not in the group. */
START_TEST(test_other_device_not_grouped)
{
	open_iface(LUN_A, &ifs[0], 0x08e6, 0x5503, 5, 1);
	open_iface(LUN_C, &ifs[2], 0x08e6, 0x5503, 6, 1);
	ck_assert_ptr_nonnull(group_of(LUN_C));
	ck_assert_ptr_ne(group_of(LUN_A), group_of(LUN_C));
	ck_assert_int_eq(run_both(LUN_A, LUN_C), 2);
	reader_close(LUN_C);
	reader_close(LUN_A);
}
END_TEST

/* Without the quirk (Broadcom 5880, 0A5C:5800) interfaces overlap. */
START_TEST(test_plain_composite_parallel)
{
	open_iface(LUN_A, &ifs[0], 0x0a5c, 0x5800, 7, 0);
	open_iface(LUN_B, &ifs[1], 0x0a5c, 0x5800, 7, 1);
	ck_assert_ptr_null(group_of(LUN_A));
	ck_assert_ptr_null(group_of(LUN_B));
	ck_assert_int_eq(run_both(LUN_A, LUN_B), 2);
	reader_close(LUN_B);
	reader_close(LUN_A);
}
END_TEST

static Suite *
exclusive_suite(void)
{
	Suite *s = suite_create("exclusive");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_exclusive_interfaces_serialised);
	tcase_add_test(tc, test_other_device_not_grouped);
	tcase_add_test(tc, test_plain_composite_parallel);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(exclusive_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
