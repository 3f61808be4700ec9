/*
 * openccid - unit tests for discovery_classify(): which interfaces are
 * CCID and where their class descriptor is, per the discovery quirks
 * (libccid facts D1, D2, D4).
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "codec/ccid_desc.h"
#include "quirks/discovery.h"
#include "quirks/quirks_parse.h"
#include "base/err.h"

static uint8_t desc[CCID_DESC_LEN];
static uint8_t vdesc[CCID_DESC_LEN];
static char why[256];
static size_t off;
static bool from_ep;

/* A minimal valid class descriptor of the given type (0x21 or 0xFF). */
static void
mkdesc(uint8_t *d, uint8_t type)
{
	memset(d, 0, CCID_DESC_LEN);
	d[0] = CCID_DESC_LEN;
	d[1] = type;
	d[2] = 0x10; /* bcdCCID 1.10 */
	d[3] = 0x01;
	d[6] = 0x03;  /* dwProtocols T=0, T=1 */
	d[42] = 0x02; /* dwFeatures: short APDU level (0x00020000) */
	d[44] = 0x0f; /* dwMaxCCIDMessageLength 271 */
	d[45] = 0x01;
	d[53] = 1;
}

static void
setup(void)
{
	mkdesc(desc, 0x21);
	mkdesc(vdesc, 0xff);
	why[0] = '\0';
	off = 99;
	from_ep = true;
}

static int
classify(uint8_t cls, const uint8_t *ife, size_t ifl, const uint8_t *epe,
    size_t epl, struct usb_discovery q)
{
	int rc;

	why[0] = '\0';
	rc = discovery_classify(
	    cls, ife, ifl, epe, epl, &q, &off, &from_ep, why, sizeof(why));
	/* A refusal always says why; a success never touches why. */
	if (rc != OC_OK)
		ck_assert_msg(why[0] != '\0', "refusal without a reason");
	return rc;
}

static const struct usb_discovery none = {.vendor_class_ccid = false};
static const struct usb_discovery strict = {.desc_extra_len_strict = true};

START_TEST(test_class_0b_plain)
{
	ck_assert_int_eq(
	    classify(0x0b, desc, sizeof(desc), NULL, 0, none), OC_OK);
	ck_assert_uint_eq(off, 0);
	ck_assert(!from_ep);
	ck_assert_int_eq(
	    classify(0x0b, desc, sizeof(desc), NULL, 0, strict), OC_OK);
}
END_TEST

START_TEST(test_other_class)
{
	ck_assert_int_eq(
	    classify(0x03, desc, sizeof(desc), NULL, 0, none), OC_ENODEV);
	ck_assert_ptr_nonnull(strstr(why, "class 0x03"));
}
END_TEST

/* D1: class 0xFF only with a quirk. */
START_TEST(test_vendor_class_needs_quirk)
{
	struct usb_discovery q = none;

	ck_assert_int_eq(
	    classify(0xff, vdesc, sizeof(vdesc), NULL, 0, q), OC_ENODEV);
	ck_assert_ptr_nonnull(strstr(why, "vendor_class_ccid"));
	q.vendor_class_ccid = true;
	ck_assert_int_eq(
	    classify(0xff, vdesc, sizeof(vdesc), NULL, 0, q), OC_OK);
	/* type 0x21 under class 0xFF too */
	ck_assert_int_eq(classify(0xff, desc, sizeof(desc), NULL, 0, q), OC_OK);
	/* vendor type 0xFF never under class 0x0B */
	ck_assert_int_eq(
	    classify(0x0b, vdesc, sizeof(vdesc), NULL, 0, none), OC_ENODEV);
}
END_TEST

/* D1 generic: 0xFF with exactly 54 extra bytes. */
START_TEST(test_vendor_class_any_len54)
{
	struct usb_discovery q = none;
	uint8_t buf[CCID_DESC_LEN + 9];

	q.vendor_class_any_len54 = true;
	ck_assert_int_eq(
	    classify(0xff, vdesc, sizeof(vdesc), NULL, 0, q), OC_OK);
	/* a HID-like descriptor before it: 63 bytes, refused */
	memset(buf, 0, 9);
	buf[0] = 9;
	buf[1] = 0x22;
	memcpy(buf + 9, vdesc, sizeof(vdesc));
	ck_assert_int_eq(
	    classify(0xff, buf, sizeof(buf), NULL, 0, q), OC_ENODEV);
	ck_assert_ptr_nonnull(strstr(why, "exactly 54"));
	/* ... accepted by vendor_class_ccid, found at offset 9 */
	q.vendor_class_ccid = true;
	ck_assert_int_eq(classify(0xff, buf, sizeof(buf), NULL, 0, q), OC_OK);
	ck_assert_uint_eq(off, 9);
	/* ... but not under desc_extra_len_strict (D4) */
	q.desc_extra_len_strict = true;
	ck_assert_int_eq(
	    classify(0xff, buf, sizeof(buf), NULL, 0, q), OC_ENODEV);
	ck_assert_ptr_nonnull(strstr(why, "desc_extra_len_strict"));
}
END_TEST

/* D2: descriptor after the endpoints only with the quirk. */
START_TEST(test_after_endpoints)
{
	struct usb_discovery q = strict;

	ck_assert_int_eq(
	    classify(0x0b, NULL, 0, desc, sizeof(desc), q), OC_ENODEV);
	ck_assert_ptr_nonnull(strstr(why, "class_desc_after_endpoints"));
	q.class_desc_after_endpoints = true;
	ck_assert_int_eq(classify(0x0b, NULL, 0, desc, sizeof(desc), q), OC_OK);
	ck_assert(from_ep);
	ck_assert_uint_eq(off, 0);
	/* the interface's own descriptor wins when there is one */
	ck_assert_int_eq(
	    classify(0x0b, desc, sizeof(desc), desc, sizeof(desc), q), OC_OK);
	ck_assert(!from_ep);
	/* strict: a 53-byte run after the endpoints is refused */
	ck_assert_int_eq(
	    classify(0x0b, NULL, 0, desc, sizeof(desc) - 1, q), OC_ENODEV);
	/* no descriptor anywhere */
	ck_assert_int_eq(classify(0x0b, NULL, 0, NULL, 0, q), OC_ENODEV);
	ck_assert_ptr_nonnull(strstr(why, "no CCID class descriptor"));
}
END_TEST

/* D4: interface extra of another length than 0 or 54. */
START_TEST(test_strict_length)
{
	uint8_t buf[CCID_DESC_LEN + 4];

	memcpy(buf, desc, sizeof(desc));
	memset(buf + CCID_DESC_LEN, 0, 4);
	buf[CCID_DESC_LEN] = 4;
	buf[CCID_DESC_LEN + 1] = 0x24;
	ck_assert_int_eq(
	    classify(0x0b, buf, sizeof(buf), NULL, 0, strict), OC_ENODEV);
	ck_assert_ptr_nonnull(strstr(why, "58 bytes"));
	/* without the flag the run is walked */
	ck_assert_int_eq(
	    classify(0x0b, buf, sizeof(buf), NULL, 0, none), OC_OK);
}
END_TEST

/* Malformed runs: bLength 0, running past the end, truncated header. */
START_TEST(test_malformed_runs)
{
	static const uint8_t zero[] = {0x00, 0x21, 0x00};
	static const uint8_t past[] = {0x40, 0x21, 0x00};
	static const uint8_t one[] = {0x36};
	uint8_t *exact = malloc(3);

	ck_assert_int_eq(
	    classify(0x0b, zero, sizeof(zero), NULL, 0, none), OC_ENODEV);
	ck_assert_int_eq(
	    classify(0x0b, past, sizeof(past), NULL, 0, none), OC_ENODEV);
	ck_assert_int_eq(
	    classify(0x0b, one, sizeof(one), NULL, 0, none), OC_ENODEV);
	/* exact-size heap copy: ASan sees any over-read */
	ck_assert_ptr_nonnull(exact);
	memcpy(exact, past, 3);
	ck_assert_int_eq(classify(0x0b, exact, 3, exact, 3,
	                     (struct usb_discovery){.vendor_class_ccid = true,
	                         .vendor_class_any_len54 = true,
	                         .class_desc_after_endpoints = true}),
	    OC_ENODEV);
	free(exact);
	ck_assert_int_eq(discovery_classify(0x0b, desc, sizeof(desc), NULL, 0,
	                     NULL, &off, &from_ep, NULL, 0),
	    OC_EINVAL);
	/* why NULL is allowed */
	ck_assert_int_eq(discovery_classify(0x03, NULL, 0, NULL, 0, &none, &off,
	                     &from_ep, NULL, 0),
	    OC_ENODEV);
}
END_TEST

/* Quirk desc_protocols: MySMART PAD reads dwProtocols 0x00000300. */
START_TEST(test_fix_desc_protocols)
{
	static const struct usb_discovery fix = {.desc_protocols = 3};
	uint8_t out[CCID_DESC_LEN + 8], want[CCID_DESC_LEN];
	struct ccid_desc d;

	desc[6] = 0x00;
	desc[7] = 0x03;
	memcpy(want, desc, sizeof(want));
	/* As read, the descriptor offers no protocol: refused. */
	ck_assert_int_ne(ccid_desc_parse(desc, sizeof(desc), false, &d, NULL),
	    OC_OK);
	/* No quirk: an exact copy. */
	ck_assert_uint_eq(discovery_fix_desc(&none, desc, sizeof(desc), out,
			      sizeof(out)),
	    sizeof(desc));
	ck_assert_mem_eq(out, want, sizeof(want));
	/* With it: bytes 6..9 only, then the descriptor parses. */
	ck_assert_uint_eq(discovery_fix_desc(&fix, desc, sizeof(desc), out,
			      sizeof(out)),
	    sizeof(desc));
	want[6] = 0x03;
	want[7] = 0x00;
	ck_assert_mem_eq(out, want, sizeof(want));
	ck_assert_int_eq(ccid_desc_parse(out, sizeof(desc), false, &d, NULL),
	    OC_OK);
	ck_assert_uint_eq(d.dwProtocols, 3);
	/* The input is never written. */
	ck_assert_uint_eq(desc[6], 0x00);
	ck_assert_uint_eq(desc[7], 0x03);
}
END_TEST

/* Short, over-long and empty runs: bounded copies, no field written
 * past what is there. */
START_TEST(test_fix_desc_bounds)
{
	static const struct usb_discovery fix = {.desc_protocols = 3};
	uint8_t run[CCID_DESC_LEN + 10], out[CCID_DESC_LEN];
	uint8_t *exact = malloc(8);

	memset(run, 0xAA, sizeof(run));
	memcpy(run, desc, sizeof(desc));
	/* A run longer than bLength: only bLength bytes are the descriptor. */
	ck_assert_uint_eq(
	    discovery_fix_desc(&fix, run, sizeof(run), out, sizeof(out)),
	    CCID_DESC_LEN);
	/* A cap below the run: cut at the cap. */
	ck_assert_uint_eq(discovery_fix_desc(&fix, run, sizeof(run), out, 20),
	    20);
	ck_assert_uint_eq(out[6], 3);
	/* Too short to hold dwProtocols: copied as it is. */
	ck_assert_ptr_nonnull(exact);
	memcpy(exact, desc, 8);
	ck_assert_uint_eq(discovery_fix_desc(&fix, exact, 8, out, sizeof(out)),
	    8);
	ck_assert_mem_eq(out, desc, 8);
	free(exact);
	/* bLength 0 and 4: never more than the run says. */
	run[0] = 4;
	ck_assert_uint_eq(
	    discovery_fix_desc(&fix, run, sizeof(run), out, sizeof(out)), 4);
	run[0] = 0;
	ck_assert_uint_eq(
	    discovery_fix_desc(&fix, run, sizeof(run), out, sizeof(out)), 0);
	ck_assert_uint_eq(
	    discovery_fix_desc(&fix, NULL, 10, out, sizeof(out)), 0);
	ck_assert_uint_eq(discovery_fix_desc(&fix, run, 0, out, sizeof(out)),
	    0);
	ck_assert_uint_eq(discovery_fix_desc(NULL, desc, sizeof(desc), out,
			      sizeof(out)),
	    sizeof(desc));
}
END_TEST

/* The built-in rows reach discovery: MySMART PAD, and nobody else. */
START_TEST(test_from_quirks_desc_protocols)
{
	static const char text[] = "match vid=09be pid=0002\n"
				   "set vendor_class_ccid desc_protocols=0x3\n";
	static const char bad[] = "match vid=09be pid=0002\n"
				  "set desc_protocols=0x4\n";
	static struct quirk_table t;
	struct quirk_set qs;
	struct usb_discovery q;
	char err[128];

	quirks_table_init(&t);
	ck_assert_int_eq(
	    quirks_parse(text, sizeof(text) - 1, "t.quirks", &t, err,
		sizeof(err)),
	    OC_OK);
	quirks_lookup(&t, 0x09be, 0x0002, 0x0200, 1, &qs);
	discovery_from_quirks(&qs, &q);
	ck_assert(q.vendor_class_ccid);
	ck_assert_uint_eq(q.desc_protocols, 3);
	quirks_lookup(&t, 0x09be, 0x0003, 0x0200, 1, &qs);
	discovery_from_quirks(&qs, &q);
	ck_assert(!q.vendor_class_ccid);
	ck_assert_uint_eq(q.desc_protocols, 0);
	/* Out of range (T=0|T=1 are the only bits): the file is refused. */
	quirks_table_init(&t);
	ck_assert_int_ne(quirks_parse(bad, sizeof(bad) - 1, "t.quirks", &t,
			     err, sizeof(err)),
	    OC_OK);
}
END_TEST

static Suite *
discovery_suite(void)
{
	Suite *s = suite_create("discovery");
	TCase *tc = tcase_create("classify");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_class_0b_plain);
	tcase_add_test(tc, test_other_class);
	tcase_add_test(tc, test_vendor_class_needs_quirk);
	tcase_add_test(tc, test_vendor_class_any_len54);
	tcase_add_test(tc, test_after_endpoints);
	tcase_add_test(tc, test_strict_length);
	tcase_add_test(tc, test_malformed_runs);
	tcase_add_test(tc, test_fix_desc_protocols);
	tcase_add_test(tc, test_fix_desc_bounds);
	tcase_add_test(tc, test_from_quirks_desc_protocols);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(discovery_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
