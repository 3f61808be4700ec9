/*
 * openccid - tests for PPS (ISO/IEC 7816-3:2006 section 9), the Fi/Di
 * choice against real readers' descriptors, the CCID SetParameters
 * payloads (CCID rev 1.1 section 6.1.7) and the waiting times.
 * Expected values were computed by hand from the formulas.
 */
#include "config.h"

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "card/atr.h"
#include "base/err.h"
#include "card/pps.h"

/* GemPC Key / GemPC Twin: GET_DATA_RATES at 4000 kHz. */
static const uint32_t gempc_rates[] = {10753, 14337, 15625, 17204, 20833, 21505,
    23438, 25806, 28674, 31250, 32258, 34409, 39063, 41667, 43011, 46875, 52083,
    53763, 57348, 62500, 64516, 68817, 71685, 78125, 83333, 86022, 93750,
    104167, 107527, 114695, 125000, 129032, 143369, 156250, 166667, 172043,
    215054, 229391, 250000, 344086};
static const uint32_t gempc_clocks[] = {4000};
/* IDBridge K30 at 4800 kHz (first 30 of its 53 rates). */
static const uint32_t k30_rates[] = {12903, 25806, 51613, 103226, 206452,
    412903, 825806, 154839, 258065, 17204, 34409, 68817, 137634, 275269, 550538,
    172043, 12403, 24806, 49612, 99225, 198450, 396899, 74419, 124031, 86022,
    38710, 64516, 10323, 20645, 300000, 600000};
/* Neowave Weneo: 9600..115200 */
static const uint32_t weneo_rates[] = {9600, 19200, 38400, 57600, 115200};
static const uint32_t omni_clocks[] = {4000, 4800, 6000, 8000};

struct choose_case {
	const char *name;
	uint8_t ta1;
	uint32_t clock, maxclock, maxrate;
	const uint32_t *clocks;
	size_t nclocks;
	const uint32_t *rates;
	size_t nrates;
	uint8_t want_fidi;
	uint32_t want_baud, want_clock;
	bool need_pps;
};

#define L(a) a, sizeof(a) / sizeof(a[0])

/* clang-format off */
static const struct choose_case cases[] = {
	{"gempc 512/32", 0x96, 4000, 4000, 344086, L(gempc_clocks), L(gempc_rates), 0x96, 250000, 4000, true},
	{"gempc 372/12", 0x18, 4000, 4000, 344086, L(gempc_clocks), L(gempc_rates), 0x18, 129032, 4000, true},
	{"gempc 512/64 -> 32", 0x97, 4000, 4000, 344086, L(gempc_clocks), L(gempc_rates), 0x96, 250000, 4000, true},
	{"gempc default", 0x11, 4000, 4000, 344086, L(gempc_clocks), L(gempc_rates), 0x11, 10752, 4000, false},
	{"no list 372/32 at max", 0x16, 4000, 4000, 344086, NULL, 0, NULL, 0, 0x16, 344086, 4000, true},
	{"no list 372/64 -> 32", 0x17, 4000, 4000, 344086, NULL, 0, NULL, 0, 0x16, 344086, 4000, true},
	{"k30 512/32", 0x96, 4800, 4800, 825806, NULL, 0, L(k30_rates), 0x96, 300000, 4800, true},
	{"k30 512/64", 0x97, 4800, 4800, 825806, NULL, 0, L(k30_rates), 0x97, 600000, 4800, true},
	{"k30 372/12 (rounded list)", 0x18, 4800, 4800, 825806, NULL, 0, L(k30_rates), 0x18, 154838, 4800, true},
	{"weneo 3570 372/12", 0x18, 3570, 3570, 115200, NULL, 0, L(weneo_rates), 0x18, 115161, 3570, true},
	{"weneo 3570 512/32 -> default", 0x96, 3570, 3570, 115200, NULL, 0, L(weneo_rates), 0x11, 9596, 3570, false},
	{"weneo 4000 372/12 -> default", 0x18, 4000, 4000, 115200, NULL, 0, L(weneo_rates), 0x11, 10752, 4000, false},
	{"clock list, fmax 5 MHz", 0x18, 4000, 8000, 412903, L(omni_clocks), NULL, 0, 0x18, 154838, 4800, true},
	{"clock list, fmax 20 MHz", 0xD8, 4000, 8000, 412903, L(omni_clocks), NULL, 0, 0xD8, 46875, 8000, true},
	{"slow card Fi 512 Di 1", 0x91, 4000, 4000, 344086, NULL, 0, NULL, 0, 0x11, 10752, 4000, false},
	{"9600 only reader", 0x18, 3580, 3580, 9600, NULL, 0, NULL, 0, 0x11, 9623, 3580, false},
};
/* clang-format on */
#define N_CASES (sizeof(cases) / sizeof(cases[0]))

static void
atr_with_ta1(struct atr_info *a, uint8_t ta1)
{
	memset(a, 0, sizeof(*a));
	a->Fi_index = ta1 >> 4;
	a->Di_index = ta1 & 0x0F;
	a->Fi = atr_fi_value(a->Fi_index);
	a->Di = atr_di_value(a->Di_index);
	a->fmax_khz = atr_fmax_khz(a->Fi_index);
	a->WI = 10;
	a->ifsc = 32;
	a->bwi = 4;
	a->cwi = 13;
}

START_TEST(test_choose)
{
	const struct choose_case *c = &cases[_i];
	struct pps_reader rd = {c->clock, c->maxclock, c->maxrate, c->clocks,
	    c->nclocks, c->rates, c->nrates};
	struct atr_info a;
	struct pps_choice ch;

	atr_with_ta1(&a, c->ta1);
	ck_assert_int_eq(pps_choose(&a, &rd, &ch), 0);
	ck_assert_msg((ch.fi_index << 4 | ch.di_index) == c->want_fidi,
	    "%s: fidi %X%X", c->name, ch.fi_index, ch.di_index);
	ck_assert_msg(ch.baud == c->want_baud, "%s: baud %u", c->name, ch.baud);
	ck_assert_uint_eq(ch.clock_khz, c->want_clock);
	ck_assert(ch.need_pps == c->need_pps);
	ck_assert_uint_eq(ch.Fi, atr_fi_value(ch.fi_index));
	ck_assert_uint_eq(ch.Di, atr_di_value(ch.di_index));
}
END_TEST

START_TEST(test_choose_specific_mode)
{
	struct pps_reader rd = {4000, 4000, 344086, NULL, 0, NULL, 0};
	struct pps_reader slow = {3580, 3580, 9600, NULL, 0, NULL, 0};
	struct atr_info a;
	struct pps_choice ch;

	atr_with_ta1(&a, 0x18);
	a.specific_mode = true;
	ck_assert_int_eq(pps_choose(&a, &rd, &ch), 0);
	ck_assert_uint_eq(ch.Fi, 372);
	ck_assert_uint_eq(ch.Di, 12);
	ck_assert(!ch.need_pps);
	ck_assert_int_eq(pps_choose(&a, &slow, &ch), OC_ENOTSUP);
	a.specific_implicit_params = true;
	ck_assert_int_eq(pps_choose(&a, &slow, &ch), 0);
	ck_assert_uint_eq(ch.Fi, 372);
	ck_assert_uint_eq(ch.Di, 1);
	/* RFU TA1 values: defaults */
	atr_with_ta1(&a, 0x70);
	ck_assert_int_eq(pps_choose(&a, &rd, &ch), 0);
	ck_assert_uint_eq(ch.Di, 1);
	ck_assert_int_eq(pps_choose(NULL, &rd, &ch), OC_EINVAL);
	rd.dwDefaultClock = 0;
	ck_assert_int_eq(pps_choose(&a, &rd, &ch), OC_EINVAL);
}
END_TEST

START_TEST(test_pps_request_response)
{
	uint8_t req[PPS_MAX_LEN], small[3];
	size_t n = 0;
	bool acc = false;
	static const uint8_t echo[] = {0xFF, 0x11, 0x96, 0x78};
	static const uint8_t deflt[] = {0xFF, 0x01, 0xFE};
	static const uint8_t other_fidi[] = {0xFF, 0x11, 0x95, 0x7B};
	static const uint8_t bad_pck[] = {0xFF, 0x11, 0x96, 0x79};
	static const uint8_t other_t[] = {0xFF, 0x10, 0x96, 0x79};
	static const uint8_t pps2[] = {0xFF, 0x31, 0x96, 0x00, 0x78};
	static const uint8_t bad_ppss[] = {0xFE, 0x11, 0x96, 0x79};
	static const uint8_t rfu_b8[] = {0xFF, 0x91, 0x96, 0xF8};

	ck_assert_int_eq(
	    pps_build_request(1, true, 0x96, req, sizeof(req), &n), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert(memcmp(req, echo, 4) == 0);
	ck_assert_int_eq(pps_check_response(req, n, echo, 4, &acc), 0);
	ck_assert(acc);
	ck_assert_int_eq(pps_check_response(req, n, deflt, 3, &acc), 0);
	ck_assert(!acc);
	ck_assert_int_eq(
	    pps_check_response(req, n, other_fidi, 4, &acc), OC_EPROTO);
	ck_assert_int_eq(
	    pps_check_response(req, n, bad_pck, 4, &acc), OC_EPROTO);
	ck_assert_int_eq(
	    pps_check_response(req, n, other_t, 4, &acc), OC_EPROTO);
	ck_assert_int_eq(pps_check_response(req, n, pps2, 5, &acc), OC_EPROTO);
	ck_assert_int_eq(
	    pps_check_response(req, n, bad_ppss, 4, &acc), OC_EPROTO);
	ck_assert_int_eq(
	    pps_check_response(req, n, rfu_b8, 4, &acc), OC_EPROTO);
	ck_assert_int_eq(pps_check_response(req, n, echo, 3, &acc), OC_EPROTO);
	ck_assert_int_eq(pps_check_response(req, n, echo, 0, &acc), OC_EPROTO);
	ck_assert_int_eq(pps_check_response(echo, 2, echo, 4, &acc), OC_EINVAL);
	/* T=0, no PPS1 */
	ck_assert_int_eq(
	    pps_build_request(0, false, 0, req, sizeof(req), &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert(memcmp(req, (const uint8_t[]){0xFF, 0x00, 0xFF}, 3) == 0);
	ck_assert_int_eq(
	    pps_build_request(16, false, 0, req, sizeof(req), &n), OC_EINVAL);
	ck_assert_int_eq(
	    pps_build_request(1, true, 0x96, small, 3, &n), OC_ENOSPC);
}
END_TEST

static void
parse_hex_atr(const char *hex, struct atr_info *a)
{
	uint8_t b[ATR_MAX_LEN + 4];
	size_t n = 0;
	unsigned v, w;

	while (*hex != '\0') {
		if (*hex == ' ') {
			hex++;
			continue;
		}
		ck_assert(sscanf(hex, "%2x", &v) == 1);
		b[n++] = (uint8_t)v;
		hex += 2;
	}
	ck_assert_int_eq(atr_parse(b, n, a, &w), 0);
}

START_TEST(test_ccid_params)
{
	struct atr_info a;
	uint8_t p1[PPS_T1_PARAMS_LEN], p0[PPS_T0_PARAMS_LEN];
	static const uint8_t want1[] = {
	    0x18, 0x10, 0xFF, 0x75, 0x00, 0xFE, 0x00};
	static const uint8_t want0[] = {0x96, 0x00, 0x00, 0x0A, 0x00};

	/* OpenPGP card v2: TA1 18, TC1 FF, TA3 FE, TB3 75 */
	parse_hex_atr("3B DA 18 FF 81 B1 FE 75 1F 03 00 31 C5 73 C0 01 40 00 "
	              "90 00 0C",
	    &a);
	ck_assert_int_eq(pps_ccid_params_t1(&a, 0x18, p1), 0);
	ck_assert(memcmp(p1, want1, sizeof(want1)) == 0);
	a.edc_crc = true;
	a.inverse = true;
	a.clock_stop = 2;
	ck_assert_int_eq(pps_ccid_params_t1(&a, 0x11, p1), 0);
	ck_assert_uint_eq(p1[0], 0x11);
	ck_assert_uint_eq(p1[1], 0x13);
	ck_assert_uint_eq(p1[4], 0x02);
	/* IDPrime MD 830, T=0 */
	parse_hex_atr("3B 7F 96 00 00 80 31 80 65 B0 85 59 56 FB 12 0F FE 82 "
	              "90 00",
	    &a);
	ck_assert_int_eq(pps_ccid_params_t0(&a, 0x96, p0), 0);
	ck_assert(memcmp(p0, want0, sizeof(want0)) == 0);
	ck_assert_int_eq(pps_ccid_params_t0(NULL, 0x96, p0), OC_EINVAL);
	ck_assert_int_eq(pps_ccid_params_t1(NULL, 0x96, p1), OC_EINVAL);
}
END_TEST

START_TEST(test_timeouts)
{
	struct atr_info a;
	struct pps_timeouts t;

	atr_with_ta1(&a, 0x11);
	/* WWT = 960 * 10 * 372 / 4000 kHz = 892.8 ms */
	ck_assert_int_eq(pps_timeouts(&a, 372, 1, 4000, 0, &t), 0);
	ck_assert_uint_eq(t.wwt_ms, 893);
	/* BWT = 11 * 372 / 4000 + 16 * 960 * 372 / 4000 = 1429.5 ms */
	ck_assert_uint_eq(t.bwt_ms, 1430);
	/* CWT = (11 + 8192) * 372 / 4000 = 762.9 ms */
	ck_assert_uint_eq(t.cwt_ms, 763);
	/* WWT at Fi 512: 1228.8 ms */
	ck_assert_int_eq(pps_timeouts(&a, 512, 32, 4000, 0, &t), 0);
	ck_assert_uint_eq(t.wwt_ms, 1229);
	/* OpenPGP-like: BWI 7, CWI 5 at 372/12: BWT 11427.9, CWT floored */
	a.bwi = 7;
	a.cwi = 5;
	ck_assert_int_eq(pps_timeouts(&a, 372, 12, 4000, 0, &t), 0);
	ck_assert_uint_eq(t.bwt_ms, 11428);
	ck_assert_uint_eq(t.cwt_ms, PPS_TIMEOUT_MIN_MS);
	ck_assert_int_eq(pps_timeouts(&a, 372, 12, 4000, 5000, &t), 0);
	ck_assert_uint_eq(t.bwt_ms, 5000);
	a.bwi = 15;
	a.WI = 255;
	ck_assert_int_eq(pps_timeouts(&a, 2048, 1, 1000, 0, &t), 0);
	/* 960 * 255 * 2048 / 1000 kHz = 501350.4 ms, rounded up */
	ck_assert_uint_eq(t.wwt_ms, 501351);
	ck_assert_int_eq(pps_timeouts(&a, 372, 1, 0, 0, &t), OC_EINVAL);
	ck_assert_int_eq(pps_timeouts(&a, 0, 1, 4000, 0, &t), OC_EINVAL);
}
END_TEST

static Suite *
pps_suite(void)
{
	Suite *s = suite_create("pps");
	TCase *tc = tcase_create("choose");

	tcase_add_loop_test(tc, test_choose, 0, (int)N_CASES);
	tcase_add_test(tc, test_choose_specific_mode);
	suite_add_tcase(s, tc);
	tc = tcase_create("wire");
	tcase_add_test(tc, test_pps_request_response);
	tcase_add_test(tc, test_ccid_params);
	tcase_add_test(tc, test_timeouts);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(pps_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
