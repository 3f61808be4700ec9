/*
 * openccid - unit tests for the pcscd device name parser.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "codec/devname.h"
#include "base/err.h"

/* Parse from an exact-size heap copy so ASan sees any over-read. */
static int
parse(const char *s, struct devname *dn)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);
	int rc;

	ck_assert_ptr_nonnull(p);
	memcpy(p, s, n);
	rc = devname_parse(p, dn);
	free(p);
	return rc;
}

START_TEST(test_plain)
{
	struct devname dn;

	ck_assert_int_eq(parse("usb:08e6/3437", &dn), OC_OK);
	ck_assert_uint_eq(dn.vid, 0x08e6);
	ck_assert_uint_eq(dn.pid, 0x3437);
	ck_assert(!dn.has_interface);
	ck_assert(!dn.has_busaddr);
	ck_assert_str_eq(dn.path, "");
	ck_assert_int_eq(parse("usb:FFFF/AbCd", &dn), OC_OK);
	ck_assert_uint_eq(dn.vid, 0xffff);
	ck_assert_uint_eq(dn.pid, 0xabcd);
}
END_TEST

START_TEST(test_libudev)
{
	struct devname dn;

	ck_assert_int_eq(parse("usb:072f/90cc:libudev:0:/dev/bus/usb/003/012",
	    &dn), OC_OK);
	ck_assert_uint_eq(dn.vid, 0x072f);
	ck_assert_uint_eq(dn.pid, 0x90cc);
	ck_assert(dn.has_interface);
	ck_assert_uint_eq(dn.interface, 0);
	ck_assert(dn.has_busaddr);
	ck_assert_uint_eq(dn.bus, 3);
	ck_assert_uint_eq(dn.addr, 12);
	ck_assert_str_eq(dn.path, "/dev/bus/usb/003/012");

	ck_assert_int_eq(parse("usb:1050/0407:libudev:2:/dev/bus/usb/255/127",
	    &dn), OC_OK);
	ck_assert_uint_eq(dn.interface, 2);
	ck_assert_uint_eq(dn.bus, 255);
	ck_assert_uint_eq(dn.addr, 127);

	/* Another node name is kept, without bus/address. */
	ck_assert_int_eq(parse("usb:1050/0407:libudev:1:/dev/ccid0", &dn),
	    OC_OK);
	ck_assert(dn.has_interface);
	ck_assert_uint_eq(dn.interface, 1);
	ck_assert(!dn.has_busaddr);
	ck_assert_str_eq(dn.path, "/dev/ccid0");
	ck_assert_int_eq(parse("usb:1050/0407:libudev:1:/dev/bus/usb/3/12",
	    &dn), OC_OK);
	ck_assert(!dn.has_busaddr);
}
END_TEST

START_TEST(test_libusb)
{
	struct devname dn;

	ck_assert_int_eq(parse("usb:04e6/5116:libusb-1.0:1:5:0", &dn), OC_OK);
	ck_assert_uint_eq(dn.vid, 0x04e6);
	ck_assert_uint_eq(dn.pid, 0x5116);
	ck_assert(dn.has_busaddr);
	ck_assert_uint_eq(dn.bus, 1);
	ck_assert_uint_eq(dn.addr, 5);
	ck_assert(dn.has_interface);
	ck_assert_uint_eq(dn.interface, 0);
	ck_assert_str_eq(dn.path, "");
	ck_assert_int_eq(parse("usb:04e6/5116:libusb-1.0:255:127:255", &dn),
	    OC_OK);
	ck_assert_uint_eq(dn.bus, 255);
	ck_assert_uint_eq(dn.addr, 127);
	ck_assert_uint_eq(dn.interface, 255);
}
END_TEST

START_TEST(test_path_length)
{
	char s[64 + DEVNAME_MAX_LEN + 8];
	static const char head[] = "usb:1234/5678:libudev:0:/";
	struct devname dn;
	size_t pathlen;

	/* The longest path that still fits with its NUL. */
	pathlen = DEVNAME_MAX_LEN - 1;
	memcpy(s, head, sizeof(head) - 1);
	memset(s + sizeof(head) - 1, 'a', pathlen - 1);
	s[sizeof(head) - 1 + pathlen - 1] = '\0';
	ck_assert_int_eq(parse(s, &dn), OC_OK);
	ck_assert_uint_eq(strlen(dn.path), DEVNAME_MAX_LEN - 1);
	/* One more byte no longer fits. */
	pathlen = DEVNAME_MAX_LEN;
	memset(s + sizeof(head) - 1, 'a', pathlen - 1);
	s[sizeof(head) - 1 + pathlen - 1] = '\0';
	ck_assert_int_eq(parse(s, &dn), OC_EINVAL);
}
END_TEST

START_TEST(test_rejects)
{
	static const char *const bad[] = {
		"",
		"usb:",
		"usb",
		"USB:1234/5678",
		"usb:123/5678",
		"usb:12345/5678",
		"usb:1234/567",
		"usb:1234/56789",
		"usb:1234:5678",
		"usb:12g4/5678",
		"usb:+123/5678",
		"usb: 123/5678",
		"usb:1234/5678:",
		"usb:1234/5678 ",
		"usb:1234/5678\n",
		"usb:1234/5678:foo",
		"usb:1234/5678:libudev",
		"usb:1234/5678:libudev:",
		"usb:1234/5678:libudev:0",
		"usb:1234/5678:libudev:0:",
		"usb:1234/5678:libudev::/dev/bus/usb/001/002",
		"usb:1234/5678:libudev:256:/dev/bus/usb/001/002",
		"usb:1234/5678:libudev:0001:/dev/bus/usb/001/002",
		"usb:1234/5678:libudev:-1:/dev/bus/usb/001/002",
		"usb:1234/5678:libudev:x:/dev/bus/usb/001/002",
		"usb:1234/5678:libudev:0:dev/bus/usb/001/002",
		"usb:1234/5678:libudev:0:/dev/bus/usb/001/002 x",
		"usb:1234/5678:libudev:0:/dev/bus/usb/000/002",
		"usb:1234/5678:libudev:0:/dev/bus/usb/256/002",
		"usb:1234/5678:libudev:0:/dev/bus/usb/001/000",
		"usb:1234/5678:libudev:0:/dev/bus/usb/001/128",
		"usb:1234/5678:libudev:0:/dev/bus/usb/00a/002",
		"usb:1234/5678:libudev:0:/dev/\x01",
		"usb:1234/5678:libudev:0:/dev/\xc3\xa9",
		"usb:1234/5678:libusb-1.0",
		"usb:1234/5678:libusb-1.0:1:2",
		"usb:1234/5678:libusb-1.0:1:2:",
		"usb:1234/5678:libusb-1.0:1:2:3:",
		"usb:1234/5678:libusb-1.0:1:2:3x",
		"usb:1234/5678:libusb-1.0:0:2:3",
		"usb:1234/5678:libusb-1.0:256:2:3",
		"usb:1234/5678:libusb-1.0:1:0:3",
		"usb:1234/5678:libusb-1.0:1:128:3",
		"usb:1234/5678:libusb-1.0:1:2:256",
		"usb:1234/5678:libusb-1.0:1:2:4294967297",
		"usb:1234/5678:libusb-1.0:1::3",
		"usb:1234/5678:libusb:1:2:3",
		"usb:1234/5678:libusb-1.0:1:2:3:/dev/bus/usb/001/002",
	};
	struct devname dn, guard;
	size_t i;

	memset(&dn, 0x5A, sizeof(dn));
	memcpy(&guard, &dn, sizeof(dn));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(parse(bad[i], &dn) == OC_EINVAL,
		    "accepted \"%s\"", bad[i]);
		ck_assert_mem_eq(&dn, &guard, sizeof(dn));
	}
	ck_assert_int_eq(devname_parse(NULL, &dn), OC_EINVAL);
	ck_assert_int_eq(devname_parse("usb:1234/5678", NULL), OC_EINVAL);
}
END_TEST

static Suite *
devname_suite(void)
{
	Suite *s = suite_create("devname");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_plain);
	tcase_add_test(tc, test_libudev);
	tcase_add_test(tc, test_libusb);
	tcase_add_test(tc, test_path_length);
	tcase_add_test(tc, test_rejects);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(devname_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
