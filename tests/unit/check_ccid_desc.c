/*
 * openccid - unit tests for the CCID class descriptor codec.
 *
 * The real-reader part replays every interface of the 691 descriptor
 * dumps (tests/data/ccid_desc_fixtures.txt, made by mk_desc_fixtures.py)
 * and checks each decoded field against what the generator derived from
 * the rules in ccid_desc.h; the rest feeds malformed descriptors.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "codec/ccid_desc.h"
#include "base/err.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "tests/data"
#endif

/* Offsets of table 5.1-1, used only to build malformed inputs. */
enum {
	OFF_bLength = 0,
	OFF_bDescriptorType = 1,
	OFF_bMaxSlotIndex = 4,
	OFF_dwProtocols = 6,
	OFF_bNumClockSupported = 18,
	OFF_bNumDataRatesSupported = 27,
	OFF_dwMaxIFSD = 28,
	OFF_dwFeatures = 40,
	OFF_dwMaxCCIDMessageLength = 44,
	OFF_bMaxCCIDBusySlots = 53,
};

/* A plain one-slot T=0/T=1 TPDU reader built field by field. */
static void
good_desc(uint8_t d[CCID_DESC_LEN])
{
	struct oc_wbuf w;
	int rc = 0;

	wbuf_init(&w, d, CCID_DESC_LEN);
	rc |= wbuf_put_u8(&w, CCID_DESC_LEN);
	rc |= wbuf_put_u8(&w, CCID_DESC_TYPE);
	rc |= wbuf_put_le16(&w, 0x0110);
	rc |= wbuf_put_u8(&w, 0);          /* bMaxSlotIndex */
	rc |= wbuf_put_u8(&w, 0x07);       /* bVoltageSupport */
	rc |= wbuf_put_le32(&w, 0x3);      /* dwProtocols */
	rc |= wbuf_put_le32(&w, 4000);     /* dwDefaultClock */
	rc |= wbuf_put_le32(&w, 8000);     /* dwMaximumClock */
	rc |= wbuf_put_u8(&w, 2);          /* bNumClockSupported */
	rc |= wbuf_put_le32(&w, 10752);    /* dwDataRate */
	rc |= wbuf_put_le32(&w, 344086);   /* dwMaxDataRate */
	rc |= wbuf_put_u8(&w, 3);          /* bNumDataRatesSupported */
	rc |= wbuf_put_le32(&w, 254);      /* dwMaxIFSD */
	rc |= wbuf_put_le32(&w, 0);        /* dwSynchProtocols */
	rc |= wbuf_put_le32(&w, 0);        /* dwMechanical */
	rc |= wbuf_put_le32(&w, 0x000104BA); /* TPDU + auto bits */
	rc |= wbuf_put_le32(&w, 271);      /* dwMaxCCIDMessageLength */
	rc |= wbuf_put_u8(&w, 0xFF);
	rc |= wbuf_put_u8(&w, 0xFF);
	rc |= wbuf_put_le16(&w, 0);
	rc |= wbuf_put_u8(&w, 0);
	rc |= wbuf_put_u8(&w, 1);          /* bMaxCCIDBusySlots */
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(w.len, CCID_DESC_LEN);
}

/* Parse from an exact-size heap copy so ASan sees any over-read. */
static int
parse_copy(const uint8_t *buf, size_t len, bool vendor, struct ccid_desc *d,
    unsigned *warn)
{
	uint8_t *p = malloc(len > 0 ? len : 1);
	int rc;

	ck_assert_ptr_nonnull(p);
	if (len > 0)
		memcpy(p, buf, len);
	rc = ccid_desc_parse(p, len, vendor, d, warn);
	free(p);
	return rc;
}

static int
find_copy(const uint8_t *buf, size_t len, bool vendor, size_t *off)
{
	uint8_t *p = malloc(len > 0 ? len : 1);
	int rc;

	ck_assert_ptr_nonnull(p);
	if (len > 0)
		memcpy(p, buf, len);
	rc = ccid_desc_find(p, len, vendor, off);
	free(p);
	return rc;
}

/* Expect rc, and on failure that the outputs were not written. */
static void
expect_parse(const uint8_t *buf, size_t len, bool vendor, int want)
{
	struct ccid_desc d, guard;
	unsigned warn = 0xdeadu;

	memset(&d, 0xA5, sizeof(d));
	memcpy(&guard, &d, sizeof(d));
	ck_assert_int_eq(parse_copy(buf, len, vendor, &d, &warn), want);
	if (want != OC_OK) {
		ck_assert_mem_eq(&d, &guard, sizeof(d));
		ck_assert_uint_eq(warn, 0xdeadu);
	}
}

/* ---- real readers ---- */

struct fixture {
	char dump[128];
	unsigned dev, iface, vendor;
	char hex[2 * CCID_DESC_LEN + 1];
	char verdict[16], level[32], slots[8], warn[8];
	unsigned long f[22];
};

static int
verdict_code(const char *v)
{
	if (strcmp(v, "ok") == 0)
		return OC_OK;
	if (strcmp(v, "EINVAL") == 0)
		return OC_EINVAL;
	if (strcmp(v, "ETRUNC") == 0)
		return OC_ETRUNC;
	if (strcmp(v, "ERANGE") == 0)
		return OC_ERANGE;
	ck_abort_msg("bad verdict %s", v);
	return 1;
}

static const char *
level_tag(enum ccid_level l)
{
	static const char *const tags[] = {"character", "tpdu", "short_apdu",
	    "extended_apdu"};

	ck_assert_uint_lt((unsigned)l, 4);
	return tags[l];
}

static int
fixture_read(FILE *fp, struct fixture *fx)
{
	char line[1024];
	int n;

	do {
		if (fgets(line, sizeof(line), fp) == NULL)
			return 0;
	} while (line[0] == '#');
	ck_assert_msg(strchr(line, '\n') != NULL, "fixture line too long");
	n = sscanf(line,
	    "%127s %u %u %u %108s %15s %31s %7s %7s"
	    " %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu"
	    " %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu",
	    fx->dump, &fx->dev, &fx->iface, &fx->vendor, fx->hex, fx->verdict,
	    fx->level, fx->slots, fx->warn, &fx->f[0], &fx->f[1], &fx->f[2],
	    &fx->f[3], &fx->f[4], &fx->f[5], &fx->f[6], &fx->f[7], &fx->f[8],
	    &fx->f[9], &fx->f[10], &fx->f[11], &fx->f[12], &fx->f[13],
	    &fx->f[14], &fx->f[15], &fx->f[16], &fx->f[17], &fx->f[18],
	    &fx->f[19], &fx->f[20], &fx->f[21]);
	ck_assert_msg(n == 31, "malformed fixture line: %s", line);
	return 1;
}

static void
hex_decode(const char *hex, uint8_t out[CCID_DESC_LEN])
{
	size_t i;

	ck_assert_uint_eq(strlen(hex), 2 * CCID_DESC_LEN);
	for (i = 0; i < CCID_DESC_LEN; i++) {
		unsigned v;

		ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void
check_fields(const struct fixture *fx, const struct ccid_desc *d)
{
	const unsigned long got[22] = {d->bLength, d->bDescriptorType,
	    d->bcdCCID, d->bMaxSlotIndex, d->bVoltageSupport, d->dwProtocols,
	    d->dwDefaultClock, d->dwMaximumClock, d->bNumClockSupported,
	    d->dwDataRate, d->dwMaxDataRate, d->bNumDataRatesSupported,
	    d->dwMaxIFSD, d->dwSynchProtocols, d->dwMechanical, d->dwFeatures,
	    d->dwMaxCCIDMessageLength, d->bClassGetResponse, d->bClassEnvelope,
	    d->wLcdLayout, d->bPINSupport, d->bMaxCCIDBusySlots};
	size_t i;

	for (i = 0; i < 22; i++)
		ck_assert_msg(got[i] == fx->f[i], "%s if %u: field %zu: %lu != %lu",
		    fx->dump, fx->iface, i + 1, got[i], fx->f[i]);
}

/* The same bytes must also be found behind an endpoint descriptor. */
static void
check_found_in_run(const uint8_t raw[CCID_DESC_LEN], bool vendor)
{
	static const uint8_t ep[7] = {7, 0x05, 0x81, 0x02, 0x40, 0x00, 0x00};
	uint8_t run[sizeof(ep) + CCID_DESC_LEN];
	size_t off = 99;

	memcpy(run, ep, sizeof(ep));
	memcpy(run + sizeof(ep), raw, CCID_DESC_LEN);
	ck_assert_int_eq(find_copy(run, sizeof(run), vendor, &off), OC_OK);
	ck_assert_uint_eq(off, sizeof(ep));
}

static void
check_one_fixture(const struct fixture *fx, unsigned *ok, unsigned *warned)
{
	uint8_t raw[CCID_DESC_LEN];
	struct ccid_desc d;
	unsigned warn = 0;
	int want = verdict_code(fx->verdict);
	int rc;

	hex_decode(fx->hex, raw);
	rc = parse_copy(raw, sizeof(raw), fx->vendor != 0, &d, &warn);
	ck_assert_msg(rc == want, "%s dev %u if %u: got %d (%s), want %s",
	    fx->dump, fx->dev, fx->iface, rc, oc_strerror(rc), fx->verdict);
	if (raw[OFF_bDescriptorType] == CCID_DESC_TYPE_VENDOR)
		expect_parse(raw, sizeof(raw), false, OC_EINVAL);
	if (rc != OC_OK)
		return;
	(*ok)++;
	ck_assert_str_eq(level_tag(d.level), fx->level);
	ck_assert_uint_eq((unsigned)d.bMaxSlotIndex + 1,
	    strtoul(fx->slots, NULL, 10));
	ck_assert_uint_eq(warn, strtoul(fx->warn, NULL, 16));
	if (warn != 0)
		(*warned)++;
	check_fields(fx, &d);
	check_found_in_run(raw, fx->vendor != 0);
}

START_TEST(test_real_readers)
{
	FILE *fp = fopen(TEST_DATA_DIR "/ccid_desc_fixtures.txt", "r");
	struct fixture fx;
	char last[128] = "";
	unsigned total = 0, ok = 0, warned = 0, dumps = 0;

	ck_assert_msg(fp != NULL, "cannot open %s/ccid_desc_fixtures.txt",
	    TEST_DATA_DIR);
	while (fixture_read(fp, &fx)) {
		total++;
		if (strcmp(last, fx.dump) != 0) {
			dumps++;
			memcpy(last, fx.dump, sizeof(last));
		}
		check_one_fixture(&fx, &ok, &warned);
	}
	fclose(fp);
	printf("ccid_desc: %u interfaces from %u dumps: %u accepted "
	    "(%u with warnings), %u rejected\n", total, dumps, ok, warned,
	    total - ok);
	/* descriptors.jsonl holds 691 dumps; some have several interfaces. */
	ck_assert_uint_eq(dumps, 691);
	ck_assert_uint_ge(total, 769);
}
END_TEST

/* ---- synthetic ---- */

START_TEST(test_good)
{
	uint8_t raw[CCID_DESC_LEN];
	struct ccid_desc d;
	unsigned warn = 0xff;

	good_desc(raw);
	ck_assert_int_eq(parse_copy(raw, sizeof(raw), false, &d, &warn), OC_OK);
	ck_assert_uint_eq(warn, 0);
	ck_assert_uint_eq(d.bcdCCID, 0x0110);
	ck_assert_uint_eq(d.dwMaximumClock, 8000);
	ck_assert_uint_eq(d.dwMaxDataRate, 344086);
	ck_assert_uint_eq(d.dwFeatures, 0x000104BA);
	ck_assert_uint_eq(d.dwMaxCCIDMessageLength, 271);
	ck_assert_uint_eq(d.bClassGetResponse, 0xFF);
	ck_assert_int_eq(d.level, CCID_XCHG_TPDU);
	/* warnings may be NULL */
	ck_assert_int_eq(parse_copy(raw, sizeof(raw), false, &d, NULL), OC_OK);
	ck_assert_int_eq(ccid_desc_parse(NULL, 54, false, &d, NULL), OC_EINVAL);
	ck_assert_int_eq(ccid_desc_parse(raw, 54, false, NULL, NULL), OC_EINVAL);
}
END_TEST

START_TEST(test_truncated)
{
	uint8_t raw[CCID_DESC_LEN];
	size_t len;

	good_desc(raw);
	for (len = 0; len < CCID_DESC_LEN; len++)
		expect_parse(raw, len, false, OC_ETRUNC);
}
END_TEST

START_TEST(test_blength)
{
	uint8_t raw[CCID_DESC_LEN], big[255];
	struct ccid_desc d;

	good_desc(raw);
	raw[OFF_bLength] = 0;
	expect_parse(raw, sizeof(raw), false, OC_EINVAL);
	raw[OFF_bLength] = 1;
	expect_parse(raw, sizeof(raw), false, OC_EINVAL);
	raw[OFF_bLength] = 53;
	expect_parse(raw, sizeof(raw), false, OC_EINVAL);
	raw[OFF_bLength] = 255;
	expect_parse(raw, sizeof(raw), false, OC_ETRUNC);
	/* A longer descriptor is fine when its bytes are there. */
	memset(big, 0xEE, sizeof(big));
	memcpy(big, raw, sizeof(raw));
	ck_assert_int_eq(parse_copy(big, sizeof(big), false, &d, NULL), OC_OK);
	ck_assert_uint_eq(d.bLength, 255);
	expect_parse(big, sizeof(big) - 1, false, OC_ETRUNC);
}
END_TEST

START_TEST(test_type)
{
	uint8_t raw[CCID_DESC_LEN];

	good_desc(raw);
	raw[OFF_bDescriptorType] = 0x22;
	expect_parse(raw, sizeof(raw), false, OC_EINVAL);
	expect_parse(raw, sizeof(raw), true, OC_EINVAL);
	raw[OFF_bDescriptorType] = CCID_DESC_TYPE_VENDOR;
	expect_parse(raw, sizeof(raw), false, OC_EINVAL);
	expect_parse(raw, sizeof(raw), true, OC_OK);
}
END_TEST

START_TEST(test_slots)
{
	uint8_t raw[CCID_DESC_LEN];

	good_desc(raw);
	raw[OFF_bMaxSlotIndex] = 255;
	expect_parse(raw, sizeof(raw), false, OC_ERANGE);
	raw[OFF_bMaxSlotIndex] = CCID_MAX_SLOTS;
	expect_parse(raw, sizeof(raw), false, OC_ERANGE);
	raw[OFF_bMaxSlotIndex] = CCID_MAX_SLOTS - 1;
	expect_parse(raw, sizeof(raw), false, OC_OK);
}
END_TEST

START_TEST(test_protocols)
{
	uint8_t raw[CCID_DESC_LEN];

	good_desc(raw);
	le32_store(raw + OFF_dwProtocols, 0);
	expect_parse(raw, sizeof(raw), false, OC_ERANGE);
	le32_store(raw + OFF_dwProtocols, 0xFFFFFFFCu);
	expect_parse(raw, sizeof(raw), false, OC_ERANGE);
	le32_store(raw + OFF_dwProtocols, 1);
	expect_parse(raw, sizeof(raw), false, OC_OK);
	le32_store(raw + OFF_dwProtocols, 2);
	expect_parse(raw, sizeof(raw), false, OC_OK);
}
END_TEST

START_TEST(test_level)
{
	static const struct {
		uint32_t bits;
		int rc;
		enum ccid_level level;
	} cases[] = {
		{CCID_LEVEL_CHAR, OC_OK, CCID_XCHG_CHARACTER},
		{CCID_LEVEL_TPDU, OC_OK, CCID_XCHG_TPDU},
		{CCID_LEVEL_SHORT_APDU, OC_OK, CCID_XCHG_SHORT_APDU},
		{CCID_LEVEL_EXT_APDU, OC_OK, CCID_XCHG_EXTENDED_APDU},
		{CCID_LEVEL_TPDU | CCID_LEVEL_SHORT_APDU, OC_ERANGE, 0},
		{CCID_LEVEL_SHORT_APDU | CCID_LEVEL_EXT_APDU, OC_ERANGE, 0},
		{CCID_LEVEL_MASK, OC_ERANGE, 0},
	};
	uint8_t raw[CCID_DESC_LEN];
	size_t i;

	good_desc(raw);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ccid_desc d;
		unsigned warn = 0;

		le32_store(raw + OFF_dwFeatures, 0x4BAu | cases[i].bits);
		if (cases[i].rc != OC_OK) {
			expect_parse(raw, sizeof(raw), false, cases[i].rc);
			continue;
		}
		ck_assert_int_eq(parse_copy(raw, sizeof(raw), false, &d, &warn),
		    OC_OK);
		ck_assert_int_eq(d.level, cases[i].level);
		ck_assert_uint_eq(warn, cases[i].level == CCID_XCHG_CHARACTER ?
		    CCID_WARN_LEVEL_MISSING : 0);
	}
}
END_TEST

START_TEST(test_msg_len)
{
	uint8_t raw[CCID_DESC_LEN];
	struct ccid_desc d;
	unsigned warn = 0;

	good_desc(raw);
	le32_store(raw + OFF_dwMaxCCIDMessageLength, 0);
	expect_parse(raw, sizeof(raw), false, OC_ERANGE);
	le32_store(raw + OFF_dwMaxCCIDMessageLength, CCID_MIN_MSG_LEN - 1);
	expect_parse(raw, sizeof(raw), false, OC_ERANGE);
	le32_store(raw + OFF_dwMaxCCIDMessageLength, CCID_MIN_MSG_LEN);
	expect_parse(raw, sizeof(raw), false, OC_OK);
	le32_store(raw + OFF_dwMaxCCIDMessageLength, CCID_MAX_MSG_LEN);
	ck_assert_int_eq(parse_copy(raw, sizeof(raw), false, &d, &warn), OC_OK);
	ck_assert_uint_eq(warn, 0);
	le32_store(raw + OFF_dwMaxCCIDMessageLength, 0xFFFFFFFFu);
	ck_assert_int_eq(parse_copy(raw, sizeof(raw), false, &d, &warn), OC_OK);
	ck_assert_uint_eq(d.dwMaxCCIDMessageLength, CCID_MAX_MSG_LEN);
	ck_assert_uint_eq(warn, CCID_WARN_MSG_LEN_CLAMPED);
}
END_TEST

START_TEST(test_clamps)
{
	uint8_t raw[CCID_DESC_LEN];
	struct ccid_desc d;
	unsigned warn = 0;

	good_desc(raw);
	raw[OFF_bMaxSlotIndex] = 1;
	le32_store(raw + OFF_dwMaxIFSD, 0xFFFFFFFFu);
	raw[OFF_bNumClockSupported] = 255;
	raw[OFF_bNumDataRatesSupported] = CCID_MAX_DATA_RATES + 1;
	raw[OFF_bMaxCCIDBusySlots] = 5;
	ck_assert_int_eq(parse_copy(raw, sizeof(raw), false, &d, &warn), OC_OK);
	ck_assert_uint_eq(d.dwMaxIFSD, CCID_MAX_IFSD);
	ck_assert_uint_eq(d.bNumClockSupported, CCID_MAX_CLOCKS);
	ck_assert_uint_eq(d.bNumDataRatesSupported, CCID_MAX_DATA_RATES);
	ck_assert_uint_eq(d.bMaxCCIDBusySlots, 2);
	ck_assert_uint_eq(warn, CCID_WARN_IFSD_CLAMPED |
	    CCID_WARN_CLOCKS_CLAMPED | CCID_WARN_RATES_CLAMPED |
	    CCID_WARN_BUSY_SLOTS_FIXED);

	good_desc(raw);
	raw[OFF_bMaxCCIDBusySlots] = 0;
	ck_assert_int_eq(parse_copy(raw, sizeof(raw), false, &d, &warn), OC_OK);
	ck_assert_uint_eq(d.bMaxCCIDBusySlots, 1);
	ck_assert_uint_eq(warn, CCID_WARN_BUSY_SLOTS_FIXED);

	/* The caps themselves are not clamped. */
	good_desc(raw);
	le32_store(raw + OFF_dwMaxIFSD, CCID_MAX_IFSD);
	raw[OFF_bNumClockSupported] = CCID_MAX_CLOCKS;
	raw[OFF_bNumDataRatesSupported] = CCID_MAX_DATA_RATES;
	ck_assert_int_eq(parse_copy(raw, sizeof(raw), false, &d, &warn), OC_OK);
	ck_assert_uint_eq(warn, 0);
}
END_TEST

/* The log line that names why a descriptor is refused (issue 12). */
START_TEST(test_explain)
{
	uint8_t raw[CCID_DESC_LEN];
	char why[96], w[160];

	good_desc(raw);
	ccid_desc_explain(raw, sizeof(raw), false, why, sizeof(why));
	ck_assert_str_eq(why, "");
	raw[OFF_bMaxSlotIndex] = 255;
	ccid_desc_explain(raw, sizeof(raw), false, why, sizeof(why));
	ck_assert_str_eq(why, "bMaxSlotIndex 255: more than 16 slots");
	good_desc(raw);
	le32_store(raw + OFF_dwMaxCCIDMessageLength, 0);
	ccid_desc_explain(raw, sizeof(raw), false, why, sizeof(why));
	ck_assert_str_eq(why, "dwMaxCCIDMessageLength 0 < 64");
	good_desc(raw);
	raw[0] = 40;
	ccid_desc_explain(raw, 40, false, why, sizeof(why));
	ck_assert_str_eq(why, "class descriptor truncated: bLength 40 < 54");
	good_desc(raw);
	ccid_desc_explain(raw, 30, false, why, sizeof(why));
	ck_assert_str_eq(why,
	    "class descriptor truncated: bLength 54, 30 bytes present");
	ccid_desc_explain(raw, 0, false, why, sizeof(why));
	ck_assert_str_eq(why, "class descriptor empty");
	/* a small buffer is cut, never overrun */
	ccid_desc_explain(raw, 30, false, why, 8);
	ck_assert_uint_eq(strlen(why), 7);

	ccid_desc_warnings_text(CCID_WARN_MSG_LEN_CLAMPED |
	    CCID_WARN_RATES_CLAMPED, w, sizeof(w));
	ck_assert_str_eq(w,
	    "dwMaxCCIDMessageLength capped, bNumDataRatesSupported capped");
	ccid_desc_warnings_text(0x3F, w, 20);
	ck_assert_uint_le(strlen(w), 19);
}
END_TEST

START_TEST(test_find)
{
	uint8_t raw[CCID_DESC_LEN];
	uint8_t run[64];
	size_t off = 77;

	good_desc(raw);
	ck_assert_int_eq(find_copy(raw, sizeof(raw), false, &off), OC_OK);
	ck_assert_uint_eq(off, 0);
	off = 77;
	ck_assert_int_eq(find_copy(raw, 0, false, &off), OC_EINVAL);
	ck_assert_int_eq(find_copy(raw, 1, false, &off), OC_EINVAL);
	ck_assert_int_eq(find_copy(raw, sizeof(raw) - 1, false, &off),
	    OC_EINVAL);
	ck_assert_uint_eq(off, 77);

	/* bLength 0 would loop forever in a naive walker. */
	memset(run, 0, sizeof(run));
	ck_assert_int_eq(find_copy(run, sizeof(run), false, &off), OC_EINVAL);
	run[0] = 1;
	run[1] = CCID_DESC_TYPE;
	ck_assert_int_eq(find_copy(run, sizeof(run), false, &off), OC_EINVAL);
	/* A first descriptor claiming more bytes than the run holds. */
	run[0] = 200;
	run[1] = 0x24;
	ck_assert_int_eq(find_copy(run, sizeof(run), false, &off), OC_EINVAL);
	/* A second one running off the end. */
	run[0] = 4;
	run[4] = 61;
	run[5] = CCID_DESC_TYPE;
	ck_assert_int_eq(find_copy(run, sizeof(run), false, &off), OC_EINVAL);
	run[4] = 60;
	ck_assert_int_eq(find_copy(run, sizeof(run), false, &off), OC_OK);
	ck_assert_uint_eq(off, 4);
	ck_assert_int_eq(ccid_desc_find(NULL, 4, false, &off), OC_EINVAL);
	ck_assert_int_eq(ccid_desc_find(run, 4, false, NULL), OC_EINVAL);
}
END_TEST

/*
 * The Blutronics Bludrive II puts the class descriptor after its endpoint
 * descriptors instead of right after the interface descriptor.
 */
START_TEST(test_find_after_endpoints)
{
	static const uint8_t eps[] = {
		7, 0x05, 0x01, 0x02, 0x40, 0x00, 0x00,
		7, 0x05, 0x82, 0x02, 0x40, 0x00, 0x00,
		7, 0x05, 0x83, 0x03, 0x08, 0x00, 0x10,
	};
	uint8_t run[sizeof(eps) + CCID_DESC_LEN];
	struct ccid_desc d;
	size_t off = 0;

	memcpy(run, eps, sizeof(eps));
	good_desc(run + sizeof(eps));
	ck_assert_int_eq(find_copy(run, sizeof(run), false, &off), OC_OK);
	ck_assert_uint_eq(off, sizeof(eps));
	ck_assert_int_eq(parse_copy(run + off, sizeof(run) - off, false, &d,
	    NULL), OC_OK);
	ck_assert_int_eq(d.level, CCID_XCHG_TPDU);
	/* Only endpoints: nothing to find. */
	ck_assert_int_eq(find_copy(run, sizeof(eps), false, &off), OC_EINVAL);
}
END_TEST

START_TEST(test_find_vendor)
{
	static const uint8_t other[] = {9, 0x24, 0, 0, 0, 0, 0, 0, 0};
	uint8_t run[sizeof(other) + CCID_DESC_LEN];
	size_t off = 0;

	memcpy(run, other, sizeof(other));
	good_desc(run + sizeof(other));
	run[sizeof(other) + OFF_bDescriptorType] = CCID_DESC_TYPE_VENDOR;
	ck_assert_int_eq(find_copy(run, sizeof(run), false, &off), OC_EINVAL);
	ck_assert_int_eq(find_copy(run, sizeof(run), true, &off), OC_OK);
	ck_assert_uint_eq(off, sizeof(other));
}
END_TEST

START_TEST(test_level_names)
{
	ck_assert_str_eq(ccid_level_name(CCID_XCHG_CHARACTER), "character");
	ck_assert_str_eq(ccid_level_name(CCID_XCHG_TPDU), "TPDU");
	ck_assert_str_eq(ccid_level_name(CCID_XCHG_SHORT_APDU), "short APDU");
	ck_assert_str_eq(ccid_level_name(CCID_XCHG_EXTENDED_APDU),
	    "extended APDU");
	ck_assert_ptr_nonnull(ccid_level_name((enum ccid_level)42));
}
END_TEST

static Suite *
ccid_desc_suite(void)
{
	Suite *s = suite_create("ccid_desc");
	TCase *tc = tcase_create("synthetic");
	TCase *real = tcase_create("real_readers");

	tcase_add_test(tc, test_good);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_blength);
	tcase_add_test(tc, test_type);
	tcase_add_test(tc, test_slots);
	tcase_add_test(tc, test_protocols);
	tcase_add_test(tc, test_level);
	tcase_add_test(tc, test_msg_len);
	tcase_add_test(tc, test_clamps);
	tcase_add_test(tc, test_find);
	tcase_add_test(tc, test_explain);
	tcase_add_test(tc, test_find_after_endpoints);
	tcase_add_test(tc, test_find_vendor);
	tcase_add_test(tc, test_level_names);
	suite_add_tcase(s, tc);
	/* 770 parses under valgrind take a while. */
	tcase_set_timeout(real, 60);
	tcase_add_test(real, test_real_readers);
	suite_add_tcase(s, real);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(ccid_desc_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
