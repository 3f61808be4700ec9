/*
 * openccid - unit tests for usb_config_find(): discovery over
 * configurations in the shapes libusb 1.0.26 hands over for truncated
 * descriptor sets (issue 23; measured with tests/sim faults `desc cut20`
 * and `desc total-cut20`: an alternate setting with bNumEndpoints 3,
 * `endpoint` NULL and `extra` NULL), and the other pointer/count
 * combinations the structures allow: every one refused with a line that
 * says why, none read out of bounds (ASan, valgrind), and an intact
 * interface next to a broken one still found.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <libusb.h>

#include "base/err.h"
#include "codec/ccid_desc.h"
#include "codec/devname.h"
#include "transport/usb.h"
#include "log_stub.h"

#define EP_OUT 0x01
#define EP_IN 0x82
#define EP_INTR 0x83

static uint8_t desc[CCID_DESC_LEN];
static struct libusb_endpoint_descriptor eps[3];
static struct libusb_interface_descriptor alts[2];
static struct libusb_interface itfs[2];
static struct libusb_config_descriptor cfg;
static struct devname dn;
static struct usb_info info;
static struct usb_endpoints found;

/* A valid class descriptor: short APDU level, 271-byte messages. */
static void
mkdesc(uint8_t *d)
{
	memset(d, 0, CCID_DESC_LEN);
	d[0] = CCID_DESC_LEN;
	d[1] = 0x21;
	d[2] = 0x10; /* bcdCCID 1.10 */
	d[3] = 0x01;
	d[6] = 0x03;  /* dwProtocols T=0, T=1 */
	d[42] = 0x02; /* dwFeatures 0x00020000 */
	d[44] = 0x0f; /* dwMaxCCIDMessageLength 271 */
	d[45] = 0x01;
	d[53] = 1;
}

static void
mkep(struct libusb_endpoint_descriptor *e, uint8_t addr, uint8_t type)
{
	memset(e, 0, sizeof(*e));
	e->bLength = LIBUSB_DT_ENDPOINT_SIZE;
	e->bDescriptorType = LIBUSB_DT_ENDPOINT;
	e->bEndpointAddress = addr;
	e->bmAttributes = type;
	e->wMaxPacketSize = 64;
}

/* Interface i: a good CCID interface, number i, class descriptor in
 * extra, three endpoints. */
static void
mkalt(unsigned i)
{
	struct libusb_interface_descriptor *a = &alts[i];

	memset(a, 0, sizeof(*a));
	a->bLength = LIBUSB_DT_INTERFACE_SIZE;
	a->bDescriptorType = LIBUSB_DT_INTERFACE;
	a->bInterfaceNumber = (uint8_t)i;
	a->bNumEndpoints = 3;
	a->bInterfaceClass = 0x0B;
	a->endpoint = eps;
	a->extra = desc;
	a->extra_length = CCID_DESC_LEN;
	itfs[i].altsetting = a;
	itfs[i].num_altsetting = 1;
}

static void
setup(void)
{
	log_stub_reset();
	mkdesc(desc);
	mkep(&eps[0], EP_OUT, LIBUSB_TRANSFER_TYPE_BULK);
	mkep(&eps[1], EP_IN, LIBUSB_TRANSFER_TYPE_BULK);
	mkep(&eps[2], EP_INTR, LIBUSB_TRANSFER_TYPE_INTERRUPT);
	mkalt(0);
	mkalt(1);
	memset(&cfg, 0, sizeof(cfg));
	cfg.bLength = LIBUSB_DT_CONFIG_SIZE;
	cfg.bDescriptorType = LIBUSB_DT_CONFIG;
	cfg.bNumInterfaces = 1;
	cfg.interface = itfs;
	memset(&dn, 0, sizeof(dn));
	memset(&info, 0, sizeof(info));
	memset(&found, 0, sizeof(found));
}

static int
find(void)
{
	return usb_config_find(&cfg, &dn, NULL, &info, &found);
}

START_TEST(test_intact)
{
	ck_assert_int_eq(find(), OC_OK);
	ck_assert_uint_eq(found.in, EP_IN);
	ck_assert_uint_eq(found.out, EP_OUT);
	ck_assert(found.has_intr);
	ck_assert_uint_eq(found.intr, EP_INTR);
	ck_assert_uint_eq(info.interface, 0);
	ck_assert_uint_eq(info.desc.dwMaxCCIDMessageLength, 271);
}
END_TEST

/* libusb's shape for `desc cut20` and `desc total-cut20`. */
START_TEST(test_endpoints_null)
{
	alts[0].endpoint = NULL;
	alts[0].extra = NULL;
	alts[0].extra_length = 0;
	ck_assert_int_eq(find(), OC_ENODEV);
	ck_assert(log_stub_contains("bNumEndpoints 3 but no endpoint"));
}
END_TEST

/* The same with the class descriptor still in extra. */
START_TEST(test_endpoints_null_desc_there)
{
	alts[0].endpoint = NULL;
	ck_assert_int_eq(find(), OC_ENODEV);
	ck_assert(log_stub_contains("configuration truncated"));
}
END_TEST

START_TEST(test_interfaces_null)
{
	cfg.interface = NULL;
	cfg.bNumInterfaces = 2;
	ck_assert_int_eq(find(), OC_ENODEV);
	ck_assert(log_stub_contains("bNumInterfaces 2 but no interface"));
}
END_TEST

START_TEST(test_zero_interfaces)
{
	cfg.bNumInterfaces = 0;
	ck_assert_int_eq(find(), OC_ENODEV);
}
END_TEST

START_TEST(test_altsetting_null)
{
	itfs[0].altsetting = NULL;
	ck_assert_int_eq(find(), OC_ENODEV);
	ck_assert(log_stub_contains("no alternate setting"));
}
END_TEST

START_TEST(test_altsetting_count_negative)
{
	itfs[0].num_altsetting = -1;
	ck_assert_int_eq(find(), OC_ENODEV);
}
END_TEST

/* extra shorter than the bLength of the descriptor inside it */
START_TEST(test_extra_shorter_than_blength)
{
	alts[0].extra_length = 20;
	ck_assert_int_eq(find(), OC_ENODEV);
	ck_assert(log_stub_contains("interface 0 not used"));
}
END_TEST

START_TEST(test_extra_null_with_length)
{
	alts[0].extra = NULL;
	ck_assert_int_eq(find(), OC_ENODEV);
}
END_TEST

START_TEST(test_extra_length_negative)
{
	alts[0].extra_length = -54;
	ck_assert_int_eq(find(), OC_ENODEV);
}
END_TEST

/* The last endpoint's extra: NULL with a length, or negative. */
START_TEST(test_endpoint_extra_broken)
{
	eps[2].extra = NULL;
	eps[2].extra_length = 54;
	ck_assert_int_eq(find(), OC_OK);
	eps[2].extra = desc;
	eps[2].extra_length = -1;
	ck_assert_int_eq(find(), OC_OK);
}
END_TEST

/* Fewer endpoints than bulk-IN and bulk-OUT need. */
START_TEST(test_one_endpoint)
{
	alts[0].bNumEndpoints = 1;
	ck_assert_int_eq(find(), OC_ENODEV);
	ck_assert(log_stub_contains("no bulk-IN and bulk-OUT"));
}
END_TEST

/* A broken interface does not hide an intact one behind it (Broadcom
 * 5880 with its last interface cut). */
START_TEST(test_broken_then_intact)
{
	cfg.bNumInterfaces = 2;
	alts[0].endpoint = NULL;
	alts[0].extra = NULL;
	alts[0].extra_length = 0;
	ck_assert_int_eq(find(), OC_OK);
	ck_assert_uint_eq(info.interface, 1);
}
END_TEST

START_TEST(test_interface_filter)
{
	cfg.bNumInterfaces = 2;
	dn.has_interface = true;
	dn.interface = 1;
	alts[1].endpoint = NULL;
	ck_assert_int_eq(find(), OC_ENODEV);
	dn.interface = 0;
	ck_assert_int_eq(find(), OC_OK);
}
END_TEST

START_TEST(test_cfg_null)
{
	ck_assert_int_eq(usb_config_find(NULL, &dn, NULL, &info, &found),
	    OC_ENODEV);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("usb_config");
	TCase *tc = tcase_create("shapes");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_intact);
	tcase_add_test(tc, test_endpoints_null);
	tcase_add_test(tc, test_endpoints_null_desc_there);
	tcase_add_test(tc, test_interfaces_null);
	tcase_add_test(tc, test_zero_interfaces);
	tcase_add_test(tc, test_altsetting_null);
	tcase_add_test(tc, test_altsetting_count_negative);
	tcase_add_test(tc, test_extra_shorter_than_blength);
	tcase_add_test(tc, test_extra_null_with_length);
	tcase_add_test(tc, test_extra_length_negative);
	tcase_add_test(tc, test_endpoint_extra_broken);
	tcase_add_test(tc, test_one_endpoint);
	tcase_add_test(tc, test_broken_then_intact);
	tcase_add_test(tc, test_interface_filter);
	tcase_add_test(tc, test_cfg_null);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
