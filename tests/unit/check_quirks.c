/*
 * openccid - unit tests for the quirks parser, lookup and data rows.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "quirks/quirks.h"
#include "quirks/quirks_describe.h"
#include "quirks/quirks_keys.h"
#include "quirks/quirks_load.h"
#include "quirks/quirks_parse.h"

static struct quirk_table tab;
static char err[512];

/* Parse from an exact-size heap copy so ASan sees any over-read. */
static int
parse_as(struct quirk_table *t, const char *text, const char *name)
{
	size_t n = strlen(text);
	char *p = malloc(n + 1);
	int rc;

	ck_assert_ptr_nonnull(p);
	memcpy(p, text, n);
	rc = quirks_parse(p, n, name, t, err, sizeof(err));
	free(p);
	return rc;
}

static int
parse1(const char *text)
{
	quirks_table_init(&tab);
	return parse_as(&tab, text, "t.quirks");
}

static void
lookup(const struct quirk_table *t, unsigned vid, unsigned pid, unsigned bcd,
    struct quirk_set *qs)
{
	quirks_lookup(t, (uint16_t)vid, (uint16_t)pid, (uint16_t)bcd, -1, qs);
}

static uint32_t
u32_of(const struct quirk_set *qs, enum quirk_key k)
{
	uint32_t v = 0xdeadbeef;

	ck_assert_msg(
	    quirks_get_u32(qs, k, &v), "%s absent", quirks_key_name(k));
	return v;
}

/* ---- every key ---------------------------------------------------- */

static const char *
sample_value(enum quirk_key k)
{
	switch (quirks_key_type(k)) {
	case QUIRK_T_FLAG:
		return NULL;
	case QUIRK_T_U32:
		return "1";
	case QUIRK_T_ENUM:
		return "tpdu";
	case QUIRK_T_BYTES:
		return "1f02";
	case QUIRK_T_LIST:
		return "1,2";
	}
	return NULL;
}

START_TEST(test_every_key)
{
	static char text[8192];
	struct quirk_set qs;
	size_t off = 0;
	int k;

	quirks_table_init(&tab);
	for (k = 0; k < QUIRK_KEY_COUNT; k++) {
		const char *v = sample_value((enum quirk_key)k);

		if (k % QUIRKS_MAX_SETTINGS == 0)
			off += (size_t)snprintf(text + off, sizeof(text) - off,
			    "match vid=1234 pid=5678\n");
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "set %s%s%s\n", quirks_key_name((enum quirk_key)k),
		    v ? "=" : "", v ? v : "");
	}
	ck_assert_msg(parse_as(&tab, text, "all.quirks") == OC_OK, "%s", err);
	lookup(&tab, 0x1234, 0x5678, 0, &qs);
	for (k = 0; k < QUIRK_KEY_COUNT; k++)
		ck_assert_msg(quirks_has(&qs, (enum quirk_key)k), "%s",
		    quirks_key_name((enum quirk_key)k));
	ck_assert_uint_eq(quirks_describe(&qs, NULL, 0), QUIRK_KEY_COUNT);
	ck_assert(quirks_flag(&qs, QUIRK_PINPAD_ABSENT));
	ck_assert_uint_eq(u32_of(&qs, QUIRK_FORCE_LEVEL), QUIRK_LEVEL_TPDU);
}
END_TEST

/* Every key is documented in quirks/README.md, as "`name`". */
START_TEST(test_every_key_documented)
{
	static char doc[65536];
	FILE *f = fopen(QUIRKS_DATA_DIR "/README.md", "r");
	size_t n;
	int k;

	ck_assert_ptr_nonnull(f);
	n = fread(doc, 1, sizeof(doc) - 1, f);
	fclose(f);
	doc[n] = '\0';
	for (k = 0; k < QUIRK_KEY_COUNT; k++) {
		char pat[80];

		snprintf(pat, sizeof(pat), "`%s",
		    quirks_key_name((enum quirk_key)k));
		ck_assert_msg(strstr(doc, pat) != NULL, "%s undocumented",
		    quirks_key_name((enum quirk_key)k));
	}
}
END_TEST

START_TEST(test_values)
{
	struct quirk_set qs;
	const uint8_t *b;
	uint32_t list[QUIRKS_MAX_LIST];
	size_t n;

	ck_assert_msg(
	    parse1(
	        "# comment\n"
	        "match vid=ABCD pid=ef01   # trailing comment\n"
	        "\tset max_ifsd=0xfe open_delay_ms=0 no_pps=false\n"
	        "set force_level=extended_apdu escape_allowed=true\n"
	        "set escape_allowed_prefix=52F8040100\n"
	        "set secondary_slot_data_rates=10753,0x5401,125000\n") == OC_OK,
	    "%s", err);
	lookup(&tab, 0xabcd, 0xef01, 0x1234, &qs);
	ck_assert_uint_eq(u32_of(&qs, QUIRK_MAX_IFSD), 254);
	ck_assert_uint_eq(u32_of(&qs, QUIRK_OPEN_DELAY_MS), 0);
	ck_assert(quirks_has(&qs, QUIRK_NO_PPS));
	ck_assert(!quirks_flag(&qs, QUIRK_NO_PPS));
	ck_assert(quirks_flag(&qs, QUIRK_ESCAPE_ALLOWED));
	ck_assert_uint_eq(
	    u32_of(&qs, QUIRK_FORCE_LEVEL), QUIRK_LEVEL_EXTENDED_APDU);
	ck_assert(quirks_get_bytes(&qs, QUIRK_ESCAPE_ALLOWED_PREFIX, &b, &n));
	ck_assert_uint_eq(n, 5);
	ck_assert_mem_eq(b, "\x52\xf8\x04\x01\x00", 5);
	ck_assert(!quirks_get_list(
	    &qs, QUIRK_SECONDARY_SLOT_DATA_RATES, list, 2, &n));
	ck_assert(quirks_get_list(
	    &qs, QUIRK_SECONDARY_SLOT_DATA_RATES, list, QUIRKS_MAX_LIST, &n));
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(list[0], 10753);
	ck_assert_uint_eq(list[1], 21505);
	ck_assert_uint_eq(list[2], 125000);
	/* type-mismatched getters say absent */
	ck_assert(!quirks_get_u32(&qs, QUIRK_ESCAPE_ALLOWED_PREFIX, list));
	ck_assert(!quirks_get_bytes(&qs, QUIRK_MAX_IFSD, &b, &n));
	ck_assert(!quirks_flag(&qs, QUIRK_MAX_IFSD));
	/* not matching */
	lookup(&tab, 0xabcd, 0xef02, 0, &qs);
	ck_assert(!quirks_has(&qs, QUIRK_MAX_IFSD));
	/* empty text and blank lines are fine */
	ck_assert_int_eq(parse1(""), OC_OK);
	ck_assert_int_eq(parse1("\n\n   \n# x\n"), OC_OK);
	/* no final newline */
	ck_assert_int_eq(parse1("match any\nset no_pps"), OC_OK);
}
END_TEST

/* ---- the compiled-in data: every libccid fact table ---------------- */

static struct quirk_table builtin;

static void
load_builtin(void)
{
	quirks_table_init(&builtin);
	ck_assert_msg(quirks_load_builtin(&builtin, err, sizeof(err)) == OC_OK,
	    "%s", err);
}

START_TEST(test_builtin_descriptor)
{
	struct quirk_set qs;

	load_builtin();
	ck_assert_uint_eq(quirks_builtin_nfiles, 5);
	lookup(&builtin, 0x1b0e, 0x1078, 0x0100, &qs); /* D2 */
	ck_assert(quirks_flag(&qs, QUIRK_CLASS_DESC_AFTER_ENDPOINTS));
	lookup(&builtin, 0x0b97, 0x7772, 0, &qs);
	ck_assert(quirks_flag(&qs, QUIRK_CLASS_DESC_AFTER_ENDPOINTS));
	lookup(&builtin, 0x0c4b, 0x0300, 0, &qs); /* D1 + D2 */
	ck_assert(quirks_flag(&qs, QUIRK_CLASS_DESC_AFTER_ENDPOINTS));
	ck_assert(quirks_flag(&qs, QUIRK_VENDOR_CLASS_CCID));
	lookup(&builtin, 0x04e6, 0xe003, 0x0600, &qs); /* D1 */
	ck_assert(quirks_flag(&qs, QUIRK_VENDOR_CLASS_CCID));
	lookup(&builtin, 0x413c, 0x2100, 0, &qs);
	ck_assert(quirks_flag(&qs, QUIRK_VENDOR_CLASS_CCID));
	lookup(&builtin, 0x08e6, 0x34c3, 0, &qs); /* D3 */
	ck_assert_uint_eq(
	    u32_of(&qs, QUIRK_VENDOR_DEVICE_SET_CONFIGURATION), 1);
	lookup(&builtin, 0x08e6, 0x5503, 0, &qs); /* 2.7 */
	ck_assert(quirks_flag(&qs, QUIRK_INTERFACES_EXCLUSIVE));
	ck_assert_uint_eq(u32_of(&qs, QUIRK_COMPOSITE_CCID_INTERFACES), 2);
	lookup(&builtin, 0x096e, 0x060d, 0, &qs);
	ck_assert_uint_eq(u32_of(&qs, QUIRK_COMPOSITE_CCID_INTERFACES), 4);
	lookup(&builtin, 0x2947, 0x0999, 0, &qs);
	ck_assert(quirks_flag(&qs, QUIRK_COMPOSITE_ALL_CCID));
	lookup(&builtin, 0x04e6, 0x5120, 0, &qs); /* Q8 */
	ck_assert_uint_eq(u32_of(&qs, QUIRK_CONTACTLESS_SLOT_MIN), 1);
}
END_TEST

START_TEST(test_builtin_firmware)
{
	static const struct {
		unsigned vid, pid, min;
	} rows[] = {
	    {0x04e6, 0xe001, 0x0516},
	    {0x04e6, 0x5111, 0x0620},
	    {0x04e6, 0xe003, 0x0510},
	    {0x0d46, 0x3001, 0x0037},
	    {0x0d46, 0x3002, 0x0037},
	    {0x09c3, 0x0008, 0x0203},
	    {0x0dc3, 0x1004, 0x0502},
	    {0x0dc3, 0x1102, 0x0607},
	    {0x058f, 0x9520, 0x0102},
	    {0x072f, 0x2200, 0x0206},
	    {0x08c3, 0x0402, 0x5000},
	    {0x08c3, 0x0401, 0x5000},
	    {0x0b0c, 0x0050, 0x0101},
	    {0x0dc3, 0x0900, 0x0200},
	    {0x03f0, 0x0036, 0x0124},
	    {0x062d, 0x0001, 0x0102},
	    {0x04e6, 0x5291, 0x0112},
	};
	struct quirk_set qs;
	size_t i;

	load_builtin();
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		lookup(&builtin, rows[i].vid, rows[i].pid, 0, &qs);
		ck_assert_uint_eq(
		    u32_of(&qs, QUIRK_FIRMWARE_MIN_BCD), rows[i].min);
	}
	/* the never-applied O2 Micro row stays disabled */
	lookup(&builtin, 0x0b97, 0x7762, 0x0100, &qs);
	ck_assert(!quirks_has(&qs, QUIRK_FIRMWARE_MIN_BCD));
}
END_TEST

START_TEST(test_builtin_open)
{
	struct quirk_set qs;
	const uint8_t *b;
	size_t n;

	load_builtin();
	lookup(&builtin, 0x09be, 0x0002, 0, &qs); /* P1 */
	ck_assert_uint_eq(u32_of(&qs, QUIRK_MAX_IFSD), 254);
	lookup(&builtin, 0x0b81, 0x0200, 0, &qs); /* P2 */
	ck_assert_uint_eq(u32_of(&qs, QUIRK_OPEN_DELAY_MS), 1000);
	ck_assert_uint_eq(u32_of(&qs, QUIRK_OPEN_TIMEOUT_MS), 60000);
	lookup(&builtin, 0x08e6, 0x3437, 0x0200, &qs); /* P3, Q1 */
	ck_assert(quirks_flag(&qs, QUIRK_ZLP_BEFORE_WRITE));
	ck_assert(quirks_get_bytes(&qs, QUIRK_ESCAPE_APDU_MODE, &b, &n));
	ck_assert_uint_eq(n, 2);
	ck_assert_mem_eq(b, "\x1f\x02", 2);
	lookup(&builtin, 0x08e6, 0x3437, 0x0201, &qs);
	ck_assert(!quirks_has(&qs, QUIRK_ZLP_BEFORE_WRITE));
	lookup(&builtin, 0x0b97, 0x7762, 0, &qs); /* P4, R8 */
	ck_assert_uint_eq(u32_of(&qs, QUIRK_MAX_DATA_RATE), 9600);
	ck_assert(quirks_flag(&qs, QUIRK_NO_PPS));
	lookup(&builtin, 0x072f, 0x2200, 0, &qs); /* P5 */
	ck_assert_uint_eq(u32_of(&qs, QUIRK_OPEN_TIMEOUT_MS), 30000);
	lookup(&builtin, 0x04e6, 0x5724, 0, &qs); /* P6 */
	ck_assert_uint_eq(u32_of(&qs, QUIRK_OPEN_TIMEOUT_MS), 12000);
	lookup(&builtin, 0x058f, 0x9540, 0, &qs); /* P7, R6 */
	ck_assert_uint_eq(u32_of(&qs, QUIRK_DATA_RATE_DROP_ABOVE), 200000);
	ck_assert(quirks_flag(&qs, QUIRK_T1_SET_PARAMETERS_BROKEN));
	lookup(&builtin, 0x0982, 0x0008, 0, &qs); /* Q2 */
	ck_assert(quirks_get_bytes(&qs, QUIRK_LCD_MESSAGE_ESCAPE, &b, &n));
	ck_assert_uint_eq(n, 5);
	lookup(&builtin, 0x0d46, 0x3010, 0, &qs); /* Q6 */
	ck_assert_uint_eq(
	    u32_of(&qs, QUIRK_FORCE_LEVEL), QUIRK_LEVEL_SHORT_APDU);
	lookup(&builtin, 0x2f7c, 0x6007, 0, &qs); /* Q7 */
	ck_assert_uint_eq(
	    u32_of(&qs, QUIRK_FORCE_LEVEL), QUIRK_LEVEL_EXTENDED_APDU);
	lookup(&builtin, 0x046a, 0x00a1, 0x0100, &qs); /* Q9 */
	ck_assert(quirks_flag(&qs, QUIRK_SHORT_APDU_AS_EXTENDED));
	lookup(&builtin, 0x046a, 0x00a1, 0x0101, &qs);
	ck_assert(!quirks_has(&qs, QUIRK_SHORT_APDU_AS_EXTENDED));
	lookup(&builtin, 0x08e6, 0x1234, 0, &qs); /* Q12 */
	ck_assert(
	    quirks_get_bytes(&qs, QUIRK_FIRMWARE_FEATURES_ESCAPE, &b, &n));
	lookup(&builtin, 0x0783, 0x0003, 0, &qs); /* 2.10 */
	ck_assert(quirks_flag(&qs, QUIRK_NO_AUTOSUSPEND));
}
END_TEST

START_TEST(test_builtin_runtime)
{
	struct quirk_set qs;
	uint32_t rates[QUIRKS_MAX_LIST];
	const uint8_t *b;
	size_t n;

	load_builtin();
	lookup(&builtin, 0x0d46, 0x301d, 0, &qs); /* R4, R5 */
	ck_assert(quirks_flag(&qs, QUIRK_POWER_OFF_BEFORE_ON));
	ck_assert(quirks_flag(&qs, QUIRK_VENDOR_INFO_APDU));
	lookup(&builtin, 0x0529, 0x0620, 0x0012, &qs); /* Q11 */
	ck_assert(quirks_flag(&qs, QUIRK_IFSD_NEGOTIATION_REFUSED));
	lookup(&builtin, 0x0529, 0x0620, 0x0013, &qs);
	ck_assert(quirks_flag(&qs, QUIRK_IFSD_NEGOTIATION_REFUSED));
	lookup(&builtin, 0x0529, 0x0620, 0x0011, &qs);
	ck_assert(!quirks_has(&qs, QUIRK_IFSD_NEGOTIATION_REFUSED));
	lookup(&builtin, 0x0529, 0x0620, 0x0014, &qs);
	ck_assert(!quirks_has(&qs, QUIRK_IFSD_NEGOTIATION_REFUSED));
	lookup(&builtin, 0x08e6, 0x4433, 0, &qs); /* R1 */
	ck_assert(quirks_get_bytes(&qs, QUIRK_POWERON_EMV_MODE_ESCAPE, &b, &n));
	ck_assert_mem_eq(b, "\x1f\x01", 2);
	lookup(&builtin, 0x08e6, 0x3480, 0x0100, &qs); /* R2, R3 */
	ck_assert(quirks_flag(&qs, QUIRK_ALWAYS_PRESENT));
	ck_assert(quirks_flag(&qs, QUIRK_POWERON_FAIL_MEANS_ABSENT));
	ck_assert(quirks_get_list(
	    &qs, QUIRK_SECONDARY_SLOT_DATA_RATES, rates, QUIRKS_MAX_LIST, &n));
	ck_assert_uint_eq(n, 4);
	ck_assert_uint_eq(rates[3], 125000);
	lookup(&builtin, 0x08e6, 0x3480, 0x0200, &qs);
	ck_assert(!quirks_has(&qs, QUIRK_ALWAYS_PRESENT));
	ck_assert(!quirks_has(&qs, QUIRK_SECONDARY_SLOT_DATA_RATES));
	ck_assert(quirks_flag(&qs, QUIRK_POWERON_FAIL_MEANS_ABSENT));
	lookup(&builtin, 0x08e6, 0x34d2, 0, &qs); /* R7 */
	ck_assert_uint_eq(u32_of(&qs, QUIRK_EXTRA_TIMEOUT_MS), 300000);
	lookup(&builtin, 0x076b, 0x5427, 0, &qs); /* R10 */
	ck_assert(quirks_flag(&qs, QUIRK_ESCAPE_ALLOWED));
	lookup(&builtin, 0x08e6, 0x5503, 0, &qs); /* R11, R12 */
	ck_assert(quirks_get_bytes(&qs, QUIRK_ESCAPE_ALLOWED_PREFIX, &b, &n));
	ck_assert_uint_eq(n, 5);
	ck_assert(quirks_get_bytes(&qs, QUIRK_FIRMWARE_VERSION_ESCAPE, &b, &n));
	ck_assert_mem_eq(b, "\x02", 1);
	lookup(&builtin, 0x0424, 0x1104, 0, &qs); /* R13 */
	ck_assert_uint_eq(
	    u32_of(&qs, QUIRK_INTERRUPT_POLL_BEFORE_STATUS_MS), 10);
	/* generic rows (2.11, R9, R14, R15, P8-P10, D1, D4, K1) reach any
	 * reader, and nothing reader-specific does */
	lookup(&builtin, 0x1234, 0x5678, 0, &qs);
	ck_assert_uint_eq(u32_of(&qs, QUIRK_TIMEOUT_DEFAULT_MS), 3000);
	ck_assert_uint_eq(u32_of(&qs, QUIRK_TIMEOUT_ESCAPE_MS), 30000);
	ck_assert_uint_eq(u32_of(&qs, QUIRK_MSG_LEN_FIX_FROM), 263);
	ck_assert_uint_eq(u32_of(&qs, QUIRK_MSG_LEN_FIX_TO), 270);
	ck_assert_uint_eq(u32_of(&qs, QUIRK_ICCD_MAX_TRANSFER), 0x1000);
	ck_assert(quirks_flag(&qs, QUIRK_NULL_BLOCK_STRICT));
	ck_assert_uint_eq(u32_of(&qs, QUIRK_OPEN_WARMUP_TRIES), 2);
	ck_assert(quirks_flag(&qs, QUIRK_VENDOR_CLASS_ANY_LEN54));
	ck_assert_uint_eq(u32_of(&qs, QUIRK_PINPAD_VALIDATION_INVALID_FIX), 2);
	ck_assert(!quirks_has(&qs, QUIRK_PINPAD_ABSENT));
	ck_assert(!quirks_has(&qs, QUIRK_FIRMWARE_MIN_BCD));
	ck_assert(!quirks_has(&qs, QUIRK_FORCE_LEVEL));
}
END_TEST

START_TEST(test_builtin_pinpad)
{
	static const unsigned absent[][2] = {{0x25dd, 0x3111}, {0x0783, 0x0006},
	    {0x076b, 0x3a21}, {0x076b, 0x3031}, {0x076b, 0x6632},
	    {0x046a, 0x00a7}, {0x0bf8, 0x1024}};
	struct quirk_set qs;
	size_t i;
	char buf[4096];

	load_builtin();
	for (i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
		lookup(&builtin, absent[i][0], absent[i][1], 0x0111, &qs);
		ck_assert(quirks_flag(&qs, QUIRK_PINPAD_ABSENT));
	}
	lookup(&builtin, 0x076b, 0x3a21, 0, &qs); /* Q5 both halves */
	ck_assert_uint_eq(
	    u32_of(&qs, QUIRK_FORCE_LEVEL), QUIRK_LEVEL_EXTENDED_APDU);
	lookup(&builtin, 0x03f0, 0x1024, 0, &qs); /* Q3 */
	ck_assert(quirks_flag(&qs, QUIRK_PINPAD_LEAKS_PIN));
	lookup(&builtin, 0x08e6, 0x3478, 0x0100, &qs); /* K2, K3, K12, K16 */
	ck_assert_uint_eq(u32_of(&qs, QUIRK_PINPAD_MSG_COUNT_VERIFY), 1);
	ck_assert_uint_eq(u32_of(&qs, QUIRK_PINPAD_VALIDATION_FIX), 2);
	ck_assert_uint_eq(u32_of(&qs, QUIRK_PIN_MIN), 4);
	ck_assert_uint_eq(u32_of(&qs, QUIRK_PIN_MAX), 8);
	ck_assert(quirks_flag(&qs, QUIRK_PINPAD_MODIFY_MSG_INDEX_ALL));
	lookup(&builtin, 0x08e6, 0x3478, 0x0101, &qs);
	/* 4..8 digits on every firmware; K12's TLV validation only on 0x0100 */
	ck_assert_uint_eq(u32_of(&qs, QUIRK_PIN_MIN), 4);
	ck_assert(!quirks_has(&qs, QUIRK_PIN_TLV_VALIDATION));
	ck_assert_uint_eq(u32_of(&qs, QUIRK_PIN_PROPERTIES_VALIDATION), 2);
	lookup(&builtin, 0x413c, 0x2100, 0, &qs); /* K5, K6 */
	ck_assert_uint_eq(u32_of(&qs, QUIRK_PINPAD_MSG_COUNT_VERIFY), 0);
	ck_assert_uint_eq(u32_of(&qs, QUIRK_PINPAD_VERIFY_DELAY_MS), 250);
	ck_assert(quirks_flag(&qs, QUIRK_PINPAD_MAX_EXTRA_DIGIT_SWAPPED));
	lookup(&builtin, 0x413c, 0x2101, 0, &qs);
	ck_assert(!quirks_has(&qs, QUIRK_PINPAD_MAX_EXTRA_DIGIT_SWAPPED));
	lookup(&builtin, 0x04e6, 0xe003, 0x0600, &qs); /* K7, K8 */
	ck_assert(quirks_has(&qs, QUIRK_PINPAD_VERIFY_CASE1_ESCAPE));
	ck_assert_uint_eq(u32_of(&qs, QUIRK_PINPAD_MSG_COUNT_MODIFY), 0);
	lookup(&builtin, 0x046a, 0x0010, 0, &qs); /* K9 */
	ck_assert_uint_eq(u32_of(&qs, QUIRK_PINPAD_MSG_COUNT_MODIFY), 3);
	lookup(&builtin, 0x046a, 0x00a1, 0, &qs); /* K11, K14 */
	ck_assert_uint_eq(
	    u32_of(&qs, QUIRK_PINPAD_MODIFY_MSG_COUNT_ZERO_AS), 0xff);
	ck_assert_uint_eq(u32_of(&qs, QUIRK_PIN_MAX), 32);
	lookup(&builtin, 0x046a, 0x003e, 0, &qs); /* K13 */
	ck_assert_uint_eq(u32_of(&qs, QUIRK_PIN_MAX), 25);
	lookup(&builtin, 0x076b, 0x3821, 0, &qs); /* K15 */
	ck_assert_uint_eq(u32_of(&qs, QUIRK_PIN_MIN), 1);
	ck_assert_uint_eq(u32_of(&qs, QUIRK_PIN_MAX), 31);
	/* describe names the file and line */
	lookup(&builtin, 0x25dd, 0x3111, 0, &qs);
	quirks_describe(&qs, buf, sizeof(buf));
	ck_assert_msg(
	    strstr(buf, "matched quirks/pinpad.quirks:") != NULL, "%s", buf);
	ck_assert_msg(strstr(buf, ": pinpad_absent\n") != NULL, "%s", buf);
}
END_TEST

/* The embedded text is the text of the files in quirks/. */
START_TEST(test_builtin_matches_files)
{
	static char text[QUIRKS_MAX_FILE_SIZE + 1];
	size_t i;

	for (i = 0; i < quirks_builtin_nfiles; i++) {
		const struct quirks_blob *bl = &quirks_builtin_files[i];
		char path[512];
		FILE *f;
		size_t n;

		snprintf(path, sizeof(path), "%s/%s", QUIRKS_DATA_DIR,
		    bl->name + strlen("quirks/"));
		f = fopen(path, "rb");
		ck_assert_msg(f != NULL, "%s", path);
		n = fread(text, 1, sizeof(text), f);
		fclose(f);
		ck_assert_uint_eq(n, bl->len);
		ck_assert_mem_eq(text, bl->text, n);
	}
}
END_TEST

/* ---- merges and overrides ------------------------------------------ */

START_TEST(test_merge_override)
{
	struct quirk_set qs;
	char buf[512];

	quirks_table_init(&tab);
	ck_assert_int_eq(parse_as(&tab,
	                     "match vid=1111 pid=2222\n"
	                     "set max_ifsd=100 no_pps\n"
	                     "match vid=1111 pid=*\n"
	                     "set open_delay_ms=5\n",
	                     "a.quirks"),
	    OC_OK);
	ck_assert_int_eq(parse_as(&tab,
	                     "\n"
	                     "match vid=1111 pid=2222 bcd>=0x0100\n"
	                     "set max_ifsd=200 no_pps=false\n",
	                     "b.quirks"),
	    OC_OK);
	lookup(&tab, 0x1111, 0x2222, 0x0100, &qs);
	ck_assert_uint_eq(u32_of(&qs, QUIRK_MAX_IFSD), 200);
	ck_assert(!quirks_flag(&qs, QUIRK_NO_PPS));
	ck_assert_uint_eq(u32_of(&qs, QUIRK_OPEN_DELAY_MS), 5);
	ck_assert_uint_eq(quirks_describe(&qs, buf, sizeof(buf)), 3);
	ck_assert_msg(strstr(buf, "matched b.quirks:3: max_ifsd=200\n") != NULL,
	    "%s", buf);
	ck_assert_msg(strstr(buf, "matched b.quirks:3: no_pps=false\n") != NULL,
	    "%s", buf);
	ck_assert_msg(
	    strstr(buf, "matched a.quirks:4: open_delay_ms=5\n") != NULL, "%s",
	    buf);
	/* below the bcd bound only the first file applies */
	lookup(&tab, 0x1111, 0x2222, 0x00ff, &qs);
	ck_assert_uint_eq(u32_of(&qs, QUIRK_MAX_IFSD), 100);
	ck_assert(quirks_flag(&qs, QUIRK_NO_PPS));
	/* across files the later one wins; the builtin checker would refuse
	 * these two, a run-time override may do it */
	ck_assert_int_eq(
	    quirks_check_conflicts(&tab, 0, err, sizeof(err)), OC_EINVAL);
	ck_assert_str_eq(err, "b.quirks:3: 'max_ifsd' conflicts with "
	                      "a.quirks:2 for the same device");
	/* truncated description stays terminated */
	quirks_describe(&qs, buf, 10);
	ck_assert_uint_eq(strlen(buf), 9);
}
END_TEST

START_TEST(test_interface_and_bcd)
{
	struct quirk_set qs;

	ck_assert_int_eq(parse1("match vid=1111 pid=2222 interface=1\n"
	                        "set no_pps\n"
	                        "match vid=1111 pid=2222 bcd<=0x0100\n"
	                        "set max_ifsd=10\n"
	                        "match vid=1111 pid=2222 bcd>0x0100\n"
	                        "set max_ifsd=10\n"),
	    OC_EINVAL);
	ck_assert_str_eq(err, "t.quirks:5: unknown match condition "
	                      "'bcd>0x0100'");
	ck_assert_int_eq(parse1("match vid=1111 pid=2222 interface=1\n"
	                        "set no_pps\n"
	                        "match vid=1111 pid=2222 bcd<=0x0100\n"
	                        "set max_ifsd=10\n"
	                        "match vid=1111 pid=2222 bcd=0xffff\n"
	                        "set max_ifsd=11\n"),
	    OC_OK);
	quirks_lookup(&tab, 0x1111, 0x2222, 0, 1, &qs);
	ck_assert(quirks_flag(&qs, QUIRK_NO_PPS));
	quirks_lookup(&tab, 0x1111, 0x2222, 0, 0, &qs);
	ck_assert(!quirks_has(&qs, QUIRK_NO_PPS));
	quirks_lookup(&tab, 0x1111, 0x2222, 0, -1, &qs);
	ck_assert(!quirks_has(&qs, QUIRK_NO_PPS));
	ck_assert_uint_eq(u32_of(&qs, QUIRK_MAX_IFSD), 10);
	lookup(&tab, 0x1111, 0x2222, 0x0100, &qs);
	ck_assert_uint_eq(u32_of(&qs, QUIRK_MAX_IFSD), 10);
	lookup(&tab, 0x1111, 0x2222, 0x0101, &qs);
	ck_assert(!quirks_has(&qs, QUIRK_MAX_IFSD));
	lookup(&tab, 0x1111, 0x2222, 0xffff, &qs);
	ck_assert_uint_eq(u32_of(&qs, QUIRK_MAX_IFSD), 11);
}
END_TEST

START_TEST(test_conflicts)
{
	/* same value twice: no conflict */
	ck_assert_int_eq(parse1("match vid=1111 pid=2222\nset max_ifsd=10\n"
	                        "match vid=1111 pid=*\nset max_ifsd=10\n"),
	    OC_OK);
	ck_assert_int_eq(
	    quirks_check_conflicts(&tab, 0, err, sizeof(err)), OC_OK);
	/* disjoint bcd ranges, interfaces, IDs: no conflict */
	ck_assert_int_eq(
	    parse1("match vid=1111 pid=2222 bcd<0x0100\n"
	           "set max_ifsd=10\n"
	           "match vid=1111 pid=2222 bcd>=0x0100\nset max_ifsd=20\n"
	           "match vid=1111 pid=2222 interface=0\nset open_delay_ms=1\n"
	           "match vid=1111 pid=2222 interface=1\nset open_delay_ms=2\n"
	           "match vid=1111 pid=2223\nset max_ifsd=30\n"
	           "match vid=1112 pid=2222\nset max_ifsd=30\n"),
	    OC_OK);
	ck_assert_int_eq(
	    quirks_check_conflicts(&tab, 0, err, sizeof(err)), OC_OK);
	/* wildcard against a specific row */
	ck_assert_int_eq(parse1("match vid=1111 pid=2222\nset max_ifsd=10\n"
	                        "match any\nset max_ifsd=11\n"),
	    OC_OK);
	ck_assert_int_eq(
	    quirks_check_conflicts(&tab, 0, err, sizeof(err)), OC_EINVAL);
	ck_assert_str_eq(err, "t.quirks:4: 'max_ifsd' conflicts with "
	                      "t.quirks:2 for the same device");
	/* overlapping bcd ranges, byte strings compared by content */
	ck_assert_int_eq(parse1("match vid=1111 pid=2222 bcd<0x0101\n"
	                        "set escape_allowed_prefix=0102\n"
	                        "match vid=1111 pid=2222 bcd>=0x0100\n"
	                        "set escape_allowed_prefix=0102\n"),
	    OC_OK);
	ck_assert_int_eq(
	    quirks_check_conflicts(&tab, 0, err, sizeof(err)), OC_OK);
	ck_assert_int_eq(parse1("match vid=1111 pid=2222 bcd<0x0101\n"
	                        "set escape_allowed_prefix=0102\n"
	                        "match vid=1111 pid=2222 bcd>=0x0100\n"
	                        "set escape_allowed_prefix=0103\n"),
	    OC_OK);
	ck_assert_int_eq(
	    quirks_check_conflicts(&tab, 0, err, sizeof(err)), OC_EINVAL);
	/* flags: bare and =false differ */
	ck_assert_int_eq(parse1("match any\nset no_pps\n"
	                        "match vid=0001 pid=0002\nset no_pps=false\n"),
	    OC_OK);
	ck_assert_int_eq(
	    quirks_check_conflicts(&tab, 0, err, sizeof(err)), OC_EINVAL);
	/* entries before 'first' are not checked */
	ck_assert_int_eq(
	    quirks_check_conflicts(&tab, 1, err, sizeof(err)), OC_OK);
}
END_TEST

/* ---- malformed input ----------------------------------------------- */

static const struct {
	const char *text;
	int rc;
	const char *err;
} bad[] = {
    {"match vid=1234 pid=5678\nset bogus_key\n", OC_EINVAL,
        "t.quirks:2: unknown key 'bogus_key'"},
    {"match vid=1234 pid=5678\nset no_pps\n\n# x\nset no_pps=false\n",
        OC_EINVAL, "t.quirks:5: duplicate key 'no_pps' in entry (line 2)"},
    {"match vid=1234 pid=5678\nset max_ifsd=1 max_ifsd=2\n", OC_EINVAL,
        "t.quirks:2: duplicate key 'max_ifsd' in entry (line 2)"},
    {"match vid=123 pid=5678\nset no_pps\n", OC_EINVAL,
        "t.quirks:1: malformed USB ID '123' (4 hex digits or *)"},
    {"match vid=12345 pid=5678\nset no_pps\n", OC_EINVAL,
        "t.quirks:1: malformed USB ID '12345' (4 hex digits or *)"},
    {"\nmatch vid=1234 pid=56g8\nset no_pps\n", OC_EINVAL,
        "t.quirks:2: malformed USB ID '56g8' (4 hex digits or *)"},
    {"match vid=0x12 pid=5678\nset no_pps\n", OC_EINVAL,
        "t.quirks:1: malformed USB ID '0x12' (4 hex digits or *)"},
    {"match vid= pid=5678\nset no_pps\n", OC_EINVAL,
        "t.quirks:1: malformed USB ID '' (4 hex digits or *)"},
    {"match vid=1234 vid=1234 pid=5678\nset no_pps\n", OC_EINVAL,
        "t.quirks:1: duplicate 'vid=' in match"},
    {"match vid=1234\nset no_pps\n", OC_EINVAL,
        "t.quirks:1: match needs vid= and pid= (or 'any')"},
    {"match\nset no_pps\n", OC_EINVAL,
        "t.quirks:1: match needs vid= and pid= (or 'any')"},
    {"match vid=* pid=5678\nset no_pps\n", OC_EINVAL,
        "t.quirks:1: pid given with vid=*"},
    {"match any vid=1234\nset no_pps\n", OC_EINVAL,
        "t.quirks:1: duplicate 'vid=' in match"},
    {"match vid=1234 pid=5678 any\nset no_pps\n", OC_EINVAL,
        "t.quirks:1: duplicate vid/pid in match"},
    {"match any bcd>=0x0200 bcd<0x0100\nset no_pps\n", OC_EINVAL,
        "t.quirks:1: empty bcd range"},
    {"match any bcd<0x0000\nset no_pps\n", OC_EINVAL,
        "t.quirks:1: empty bcd range"},
    {"match any bcd=0x10000\nset no_pps\n", OC_EINVAL,
        "t.quirks:1: malformed bcdDevice '0x10000' (0x0000..0xffff)"},
    {"match any bcd=0x0100 bcd<0x0200\nset no_pps\n", OC_EINVAL,
        "t.quirks:1: duplicate upper bcd bound in match"},
    {"match any bcd<0x0100 bcd<=0x0200\nset no_pps\n", OC_EINVAL,
        "t.quirks:1: duplicate upper bcd bound in match"},
    {"match any bcd<\nset no_pps\n", OC_EINVAL,
        "t.quirks:1: malformed bcdDevice '' (0x0000..0xffff)"},
    {"match any interface=256\nset no_pps\n", OC_EINVAL,
        "t.quirks:1: malformed interface '256' (0..255)"},
    {"match any interface=1 interface=1\nset no_pps\n", OC_EINVAL,
        "t.quirks:1: duplicate 'interface' in match"},
    {"match any product=foo\nset no_pps\n", OC_EINVAL,
        "t.quirks:1: unknown match condition 'product=foo'"},
    {"set no_pps\n", OC_EINVAL, "t.quirks:1: 'set' before any 'match'"},
    {"match any\nset\n", OC_EINVAL, "t.quirks:2: 'set' without a key"},
    {"match any\n\nmatch any\nset no_pps\n", OC_EINVAL,
        "t.quirks:1: match without any 'set' line"},
    {"match any\nset no_pps\nmatch any\n# nothing\n", OC_EINVAL,
        "t.quirks:3: match without any 'set' line"},
    {"[match]\n", OC_EINVAL,
        "t.quirks:1: expected 'match' or 'set', not '[match]'"},
    {"match any\nset max_ifsd=255\n", OC_ERANGE,
        "t.quirks:2: 255 out of range for 'max_ifsd' (1..254)"},
    {"match any\nset max_ifsd=0\n", OC_ERANGE,
        "t.quirks:2: 0 out of range for 'max_ifsd' (1..254)"},
    {"match any\nset max_ifsd=12a\n", OC_EINVAL,
        "t.quirks:2: malformed number '12a' for 'max_ifsd'"},
    {"match any\nset max_ifsd=-1\n", OC_EINVAL,
        "t.quirks:2: malformed number '-1' for 'max_ifsd'"},
    {"match any\nset max_ifsd=\n", OC_EINVAL,
        "t.quirks:2: malformed number '' for 'max_ifsd'"},
    {"match any\nset max_ifsd=0x\n", OC_EINVAL,
        "t.quirks:2: malformed number '0x' for 'max_ifsd'"},
    {"match any\nset extra_timeout_ms=4294967296\n", OC_EINVAL,
        "t.quirks:2: malformed number '4294967296' for 'extra_timeout_ms'"},
    {"match any\nset extra_timeout_ms=0x100000000\n", OC_EINVAL,
        "t.quirks:2: malformed number '0x100000000' for 'extra_timeout_ms'"},
    {"match any\nset extra_timeout_ms=3600001\n", OC_ERANGE,
        "t.quirks:2: 3600001 out of range for 'extra_timeout_ms' "
        "(0..3600000)"},
    {"match any\nset max_ifsd\n", OC_EINVAL,
        "t.quirks:2: 'max_ifsd' needs a value"},
    {"match any\nset no_pps=yes\n", OC_EINVAL,
        "t.quirks:2: flag 'no_pps' takes no value, or true/false"},
    {"match any\nset no_pps=\n", OC_EINVAL,
        "t.quirks:2: flag 'no_pps' takes no value, or true/false"},
    {"match any\nset force_level=apdu\n", OC_EINVAL,
        "t.quirks:2: 'apdu' is not a value of 'force_level'"},
    {"match any\nset escape_allowed_prefix=123\n", OC_EINVAL,
        "t.quirks:2: 'escape_allowed_prefix' needs 1..16 bytes as hex "
        "digit pairs"},
    {"match any\nset escape_allowed_prefix=\n", OC_EINVAL,
        "t.quirks:2: 'escape_allowed_prefix' needs 1..16 bytes as hex "
        "digit pairs"},
    {"match any\nset escape_allowed_prefix="
     "000102030405060708090a0b0c0d0e0f10\n",
        OC_EINVAL,
        "t.quirks:2: 'escape_allowed_prefix' needs 1..16 bytes as hex "
        "digit pairs"},
    {"match any\nset escape_allowed_prefix=0x12\n", OC_EINVAL,
        "t.quirks:2: malformed hex string '0x12' for "
        "'escape_allowed_prefix'"},
    {"match any\nset secondary_slot_data_rates=1,2,\n", OC_EINVAL,
        "t.quirks:2: malformed number '' in 'secondary_slot_data_rates'"},
    {"match any\nset secondary_slot_data_rates=,1\n", OC_EINVAL,
        "t.quirks:2: malformed number '' in 'secondary_slot_data_rates'"},
    {"match any\nset secondary_slot_data_rates=1,0\n", OC_ERANGE,
        "t.quirks:2: 0 out of range for 'secondary_slot_data_rates' "
        "(1..100000000)"},
    {"match any\nset secondary_slot_data_rates="
     "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17\n",
        OC_EINVAL,
        "t.quirks:2: 'secondary_slot_data_rates' takes at most 16 numbers"},
    {"match any\nset no_pps\r\n", OC_EINVAL,
        "t.quirks:2: invalid byte 0x0d at column 11"},
    {"match any\nset no_pps \xc3\xa9\n", OC_EINVAL,
        "t.quirks:2: invalid byte 0xc3 at column 12"},
    {"match any\nset No_pps\n", OC_EINVAL, "t.quirks:2: unknown key 'No_pps'"},
    {"match any\nset =1\n", OC_EINVAL, "t.quirks:2: unknown key ''"},
};

START_TEST(test_malformed)
{
	int rc = parse1(bad[_i].text);

	ck_assert_msg(rc == bad[_i].rc, "case %d: rc %d: %s", _i, rc, err);
	ck_assert_str_eq(err, bad[_i].err);
	/* all or nothing */
	ck_assert_uint_eq(tab.nentries, 0);
	ck_assert_uint_eq(tab.nfiles, 0);
	ck_assert_uint_eq(tab.pool_len, 0);
}
END_TEST

START_TEST(test_nul_and_binary)
{
	static const char text[] = "match any\nset no\0pps\n";

	quirks_table_init(&tab);
	ck_assert_int_eq(quirks_parse(text, sizeof(text) - 1, "n.quirks", &tab,
	                     err, sizeof(err)),
	    OC_EINVAL);
	ck_assert_str_eq(err, "n.quirks:2: invalid byte 0x00 at column 7");
	/* NULL filename and error buffer are allowed */
	ck_assert_int_eq(quirks_parse("x", 1, NULL, &tab, NULL, 0), OC_EINVAL);
	ck_assert_int_eq(
	    quirks_parse("x", 1, NULL, &tab, err, sizeof(err)), OC_EINVAL);
	ck_assert_str_eq(err, "(quirks):1: expected 'match' or 'set', not 'x'");
	ck_assert_int_eq(
	    quirks_parse(NULL, 0, "e", &tab, err, sizeof(err)), OC_OK);
	/* tiny error buffer: truncated, terminated */
	ck_assert_int_eq(quirks_parse("x", 1, "f", &tab, err, 5), OC_EINVAL);
	ck_assert_str_eq(err, "f:1:");
}
END_TEST

/* ---- caps ----------------------------------------------------------- */

START_TEST(test_line_cap)
{
	static char text[QUIRKS_MAX_LINE + 64];
	size_t n;

	/* exactly QUIRKS_MAX_LINE bytes: accepted */
	n = (size_t)snprintf(text, sizeof(text), "match any\nset no_pps");
	memset(text + n, ' ', QUIRKS_MAX_LINE - strlen("set no_pps"));
	n += QUIRKS_MAX_LINE - strlen("set no_pps");
	text[n] = '\0';
	ck_assert_int_eq(parse1(text), OC_OK);
	/* one more: refused, with its line */
	text[n] = ' ';
	text[n + 1] = '\n';
	text[n + 2] = '\0';
	ck_assert_int_eq(parse1(text), OC_ERANGE);
	ck_assert_str_eq(err, "t.quirks:2: line longer than 512 bytes");
}
END_TEST

START_TEST(test_entry_cap)
{
	static char text[QUIRKS_MAX_FILE_SIZE];
	size_t off = 0;
	int i;

	for (i = 0; i <= QUIRKS_MAX_ENTRIES; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "match vid=1234 pid=%04x\nset no_pps\n", (unsigned)i);
	ck_assert_uint_lt(off, sizeof(text));
	ck_assert_int_eq(parse1(text), OC_ENOSPC);
	snprintf(err + 200, 100, "t.quirks:%d: too many entries (at most %d)",
	    2 * QUIRKS_MAX_ENTRIES + 1, QUIRKS_MAX_ENTRIES);
	ck_assert_str_eq(err, err + 200);
	ck_assert_uint_eq(tab.nentries, 0);
	/* exactly the cap fits */
	text[off - strlen("match vid=1234 pid=0180\nset no_pps\n")] = '\0';
	ck_assert_int_eq(parse1(text), OC_OK);
	ck_assert_uint_eq(tab.nentries, QUIRKS_MAX_ENTRIES);
}
END_TEST

START_TEST(test_settings_cap)
{
	static char text[4096];
	size_t off;
	int k;

	off = (size_t)snprintf(text, sizeof(text), "match any\n");
	for (k = 0; k <= QUIRKS_MAX_SETTINGS; k++) {
		const char *v = sample_value((enum quirk_key)k);

		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "set %s%s%s\n", quirks_key_name((enum quirk_key)k),
		    v ? "=" : "", v ? v : "");
	}
	ck_assert_int_eq(parse1(text), OC_ENOSPC);
	ck_assert_str_eq(err, "t.quirks:18: too many keys in one entry "
	                      "(at most 16)");
}
END_TEST

START_TEST(test_file_and_pool_caps)
{
	static char text[QUIRKS_MAX_FILE_SIZE + 2];
	int i;
	size_t off = 0;

	quirks_table_init(&tab);
	for (i = 0; i < QUIRKS_MAX_FILES; i++)
		ck_assert_int_eq(
		    parse_as(&tab, "match any\nset no_pps\n", "f"), OC_OK);
	ck_assert_int_eq(parse_as(&tab, "", "g.quirks"), OC_ENOSPC);
	ck_assert_str_eq(err, "g.quirks:0: too many files (at most 32)");

	memset(text, '#', sizeof(text));
	quirks_table_init(&tab);
	ck_assert_int_eq(quirks_parse(text, QUIRKS_MAX_FILE_SIZE + 1, "big",
	                     &tab, err, sizeof(err)),
	    OC_ERANGE);
	ck_assert_str_eq(err, "big:0: file larger than 65536 bytes");

	/* 16-byte strings, 16 per entry: the 4096-byte pool fills up */
	quirks_table_init(&tab);
	for (i = 0; i < 300; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "match vid=1234 pid=%04x\nset escape_allowed_prefix="
		    "000102030405060708090a0b0c0d0e0f\n",
		    (unsigned)i);
	ck_assert_int_eq(parse_as(&tab, text, "p.quirks"), OC_ENOSPC);
	ck_assert_str_eq(err, "p.quirks:514: value pool full (4096 bytes)");
	ck_assert_uint_eq(tab.pool_len, 0);
	ck_assert_uint_eq(tab.nentries, 0);
}
END_TEST

/* A failed file leaves the table as it was; later files still load. */
START_TEST(test_rollback)
{
	struct quirk_set qs;

	quirks_table_init(&tab);
	ck_assert_int_eq(
	    parse_as(&tab, "match any\nset max_ifsd=9\n", "a"), OC_OK);
	ck_assert_int_eq(
	    parse_as(&tab,
	        "match any\nset max_ifsd=7\n"
	        "set escape_allowed_prefix=01\nmatch any\nset bad\n",
	        "b"),
	    OC_EINVAL);
	ck_assert_uint_eq(tab.nentries, 1);
	ck_assert_uint_eq(tab.nfiles, 1);
	ck_assert_uint_eq(tab.pool_len, 0);
	ck_assert_int_eq(
	    parse_as(&tab, "match any\nset open_delay_ms=3\n", "c"), OC_OK);
	lookup(&tab, 1, 2, 3, &qs);
	ck_assert_uint_eq(u32_of(&qs, QUIRK_MAX_IFSD), 9);
	ck_assert_uint_eq(u32_of(&qs, QUIRK_OPEN_DELAY_MS), 3);
	ck_assert_str_eq(tab.files[qs.value[QUIRK_OPEN_DELAY_MS].file], "c");
}
END_TEST

/* ---- run-time directory --------------------------------------------- */

struct reports {
	int n;
	char last[3][512];
};

static void
on_report(void *ctx, const char *msg)
{
	struct reports *r = ctx;

	if (r->n < 3)
		snprintf(r->last[r->n], sizeof(r->last[0]), "%s", msg);
	r->n++;
}

static void
write_file(const char *dir, const char *name, const char *text, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, n, f), n);
	fclose(f);
}

START_TEST(test_load_dir)
{
	char dir[] = "/tmp/check_quirks.XXXXXX";
	static char big[QUIRKS_MAX_FILE_SIZE + 1];
	struct reports r = {0};
	struct quirk_set qs;
	char expect[600];
	int rc;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	write_file(dir, "30-c.quirks",
	    "match vid=1111 pid=2222\n"
	    "set max_ifsd=30\n",
	    40);
	write_file(dir, "10-a.quirks",
	    "match vid=1111 pid=2222\n"
	    "set max_ifsd=10 no_pps\n",
	    47);
	write_file(dir, "20-b.quirks",
	    "match vid=1111 pid=2222\n"
	    "set open_delay_ms=1\nset bogus\n",
	    54);
	write_file(dir, "40-d.txt", "garbage", 7);
	write_file(dir, ".hidden.quirks", "garbage", 7);
	memset(big, '#', sizeof(big));
	write_file(dir, "50-big.quirks", big, sizeof(big));
	snprintf(expect, sizeof(expect), "%s/60-dir.quirks", dir);
	ck_assert_int_eq(mkdir(expect, 0700), 0);

	quirks_table_init(&tab);
	rc = quirks_load_dir(&tab, dir, on_report, &r);
	ck_assert_int_eq(rc, 2);
	ck_assert_int_eq(r.n, 3);
	snprintf(expect, sizeof(expect),
	    "%s/20-b.quirks:3: unknown key "
	    "'bogus'",
	    dir);
	ck_assert_str_eq(r.last[0], expect);
	snprintf(expect, sizeof(expect),
	    "%s/50-big.quirks: file too large, "
	    "ignored",
	    dir);
	ck_assert_str_eq(r.last[1], expect);
	snprintf(expect, sizeof(expect),
	    "%s/60-dir.quirks: cannot read, "
	    "ignored",
	    dir);
	ck_assert_str_eq(r.last[2], expect);
	lookup(&tab, 0x1111, 0x2222, 0, &qs);
	ck_assert_uint_eq(u32_of(&qs, QUIRK_MAX_IFSD), 30);
	ck_assert(quirks_flag(&qs, QUIRK_NO_PPS));
	ck_assert(!quirks_has(&qs, QUIRK_OPEN_DELAY_MS));

	/* a missing directory is not an error; NULL report is fine */
	quirks_table_init(&tab);
	ck_assert_int_eq(
	    quirks_load_dir(&tab, "/nonexistent/quirks.d", NULL, NULL), 0);
	ck_assert_int_eq(quirks_load_dir(&tab, dir, NULL, NULL), 2);

	snprintf(expect, sizeof(expect), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(expect), 0);
}
END_TEST

static Suite *
quirks_suite(void)
{
	Suite *s = suite_create("quirks");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_every_key);
	tcase_add_test(tc, test_every_key_documented);
	tcase_add_test(tc, test_values);
	tcase_add_test(tc, test_builtin_descriptor);
	tcase_add_test(tc, test_builtin_firmware);
	tcase_add_test(tc, test_builtin_open);
	tcase_add_test(tc, test_builtin_runtime);
	tcase_add_test(tc, test_builtin_pinpad);
	tcase_add_test(tc, test_builtin_matches_files);
	tcase_add_test(tc, test_merge_override);
	tcase_add_test(tc, test_interface_and_bcd);
	tcase_add_test(tc, test_conflicts);
	tcase_add_loop_test(
	    tc, test_malformed, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_nul_and_binary);
	tcase_add_test(tc, test_line_cap);
	tcase_add_test(tc, test_entry_cap);
	tcase_add_test(tc, test_settings_cap);
	tcase_add_test(tc, test_file_and_pool_caps);
	tcase_add_test(tc, test_rollback);
	tcase_add_test(tc, test_load_dir);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(quirks_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
