/*
 * openccid - Info.plist key reader: the generated bundle plist, values,
 * malformed files.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "codec/plist.h"

static int
read_str(const char *s, struct plist_config *cfg)
{
	return plist_read_config((const uint8_t *)s, strlen(s), cfg);
}

START_TEST(test_generated_info_plist)
{
	struct plist_config cfg;
	uint8_t *buf;
	size_t n;
	FILE *f = fopen(PLIST_GENERATED, "rb");

	ck_assert_msg(f != NULL, "cannot open %s", PLIST_GENERATED);
	buf = malloc(PLIST_MAX_SIZE);
	ck_assert(buf != NULL);
	n = fread(buf, 1, PLIST_MAX_SIZE, f);
	fclose(f);
	ck_assert_uint_gt(n, 100);
	ck_assert_int_eq(plist_read_config(buf, n, &cfg), OC_OK);
	ck_assert(cfg.has_log_level);
	ck_assert_uint_eq(cfg.log_level, 0x0003);
	ck_assert(cfg.has_driver_options);
	ck_assert_uint_eq(cfg.driver_options, 0);
	free(buf);
}
END_TEST

START_TEST(test_values)
{
	struct plist_config cfg;

	ck_assert_int_eq(read_str("<key>ifdLogLevel</key>\n\t <string>0x0f"
				  "</string><key>ifdDriverOptions</key>"
				  "<string>4294967295</string>", &cfg), OC_OK);
	ck_assert_uint_eq(cfg.log_level, 0x0f);
	ck_assert_uint_eq(cfg.driver_options, 0xffffffffu);
	ck_assert_int_eq(read_str("<key>ifdLogLevel</key><string>7</string>",
			     &cfg), OC_OK);
	ck_assert(cfg.has_log_level);
	ck_assert(!cfg.has_driver_options);
	ck_assert_uint_eq(cfg.log_level, 7);
}
END_TEST

START_TEST(test_absent_keys)
{
	struct plist_config cfg;

	ck_assert_int_eq(read_str("<plist><dict></dict></plist>", &cfg),
	    OC_OK);
	ck_assert(!cfg.has_log_level);
	ck_assert(!cfg.has_driver_options);
	ck_assert_int_eq(read_str("", &cfg), OC_OK);
	/* Near misses are not the key. */
	ck_assert_int_eq(read_str("<key>ifdLogLevelX</key><string>1</string>"
				  "<key>xifdLogLevel</key><string>1</string>",
			     &cfg), OC_OK);
	ck_assert(!cfg.has_log_level);
}
END_TEST

static const char *const malformed[] = {
    "<key>ifdLogLevel</key><string>0x100</string>",   /* above 0xff */
    "<key>ifdLogLevel</key><string></string>",
    "<key>ifdLogLevel</key><string>0x</string>",
    "<key>ifdLogLevel</key><string>-1</string>",
    "<key>ifdLogLevel</key><string> 1</string>",
    "<key>ifdLogLevel</key><string>0x0g</string>",
    "<key>ifdLogLevel</key><string>3",
    "<key>ifdLogLevel</key>",
    "<key>ifdLogLevel</key><integer>3</integer>",
    "<key>ifdLogLevel</key>x<string>3</string>",
    "<key>ifdLogLevel</key><string>1</string>"
    "<key>ifdLogLevel</key><string>1</string>",
    "<key>ifdDriverOptions</key><string>0x123456789</string>",
    "<key>ifdDriverOptions</key><string>4294967296</string>",
    "<key>ifdDriverOptions</key><string>99999999999</string>",
    "<key>ifdDriverOptions</key><string>0x000000000000000000000000000"
    "0000000000001</string>",
};

START_TEST(test_malformed)
{
	struct plist_config cfg = {true, 0x55, true, 0x55};

	ck_assert_msg(read_str(malformed[_i], &cfg) == OC_EINVAL, "%s",
	    malformed[_i]);
	/* Outputs untouched on failure. */
	ck_assert_uint_eq(cfg.log_level, 0x55);
}
END_TEST

START_TEST(test_binary_and_size)
{
	static const uint8_t nul[] = "<key>ifdLogLevel</key><string>1\0"
				     "</string>";
	struct plist_config cfg;
	uint32_t v;

	ck_assert_int_eq(plist_read_config(nul, sizeof(nul) - 1, &cfg),
	    OC_EINVAL);
	ck_assert_int_eq(plist_read_config(nul, PLIST_MAX_SIZE + 1, &cfg),
	    OC_EINVAL);
	ck_assert_int_eq(plist_get_u32(NULL, 0, "k", &v), OC_EINVAL);
	ck_assert_int_eq(plist_get_u32(nul, 5, "", &v), OC_EINVAL);
	ck_assert_int_eq(plist_parse_u32("0X1f", 4, &v), OC_OK);
	ck_assert_uint_eq(v, 0x1f);
}
END_TEST

static Suite *
plist_suite(void)
{
	Suite *s = suite_create("plist");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_generated_info_plist);
	tcase_add_test(tc, test_values);
	tcase_add_test(tc, test_absent_keys);
	tcase_add_loop_test(tc, test_malformed, 0,
	    (int)(sizeof(malformed) / sizeof(malformed[0])));
	tcase_add_test(tc, test_binary_and_size);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(plist_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
