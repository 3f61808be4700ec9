/*
 * openccid - tests for the ATR parser (ISO/IEC 7816-3:2006 section 8).
 *
 * Expected values in the table were worked out by hand from the bytes,
 * not taken from the parser.
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

struct atr_case {
	const char *name;
	const char *hex;
	bool inverse;
	unsigned ngroups;
	size_t hist_len;
	size_t len;
	unsigned protocols;
	unsigned first_protocol;
	bool has_tck;
	uint16_t Fi;
	uint8_t Di;
	uint16_t fmax_khz;
	uint8_t N;
	uint8_t WI;
	uint8_t ifsc, bwi, cwi;
	bool crc;
	uint8_t class_indicator, clock_stop;
};

#define T0_  0x0001u
#define T1_  0x0002u
#define T15_ 0x8000u

/* clang-format off */
static const struct atr_case cases[] = {
	/* T=0 only: no TCK */
	{ "libcacard CAC", "3B 7A 18 00 00 73 66 74 65 20 63 64 31 34 34",
	  false, 1, 10, 15, T0_, 0, false, 372, 12, 5000, 0, 10, 32, 4, 13, false, 0, 0 },
	{ "Belgian eID", "3B 98 13 40 0A A5 03 01 01 01 AD 13 11",
	  false, 2, 8, 13, T0_, 0, false, 372, 4, 5000, 0, 10, 32, 4, 13, false, 0, 0 },
	{ "Belgian eID (older)", "3B 98 94 40 0A A5 03 01 01 01 AD 13 10",
	  false, 2, 8, 13, T0_, 0, false, 512, 8, 5000, 0, 10, 32, 4, 13, false, 0, 0 },
	{ "Gemalto TOP IM GX4", "3B 7D 96 00 00 80 31 80 65 B0 83 11 11 AC 83 00 90 00",
	  false, 1, 13, 18, T0_, 0, false, 512, 32, 5000, 0, 10, 32, 4, 13, false, 0, 0 },
	{ "FINEID", "3B 7F 96 00 00 80 31 B8 65 B0 85 03 00 EF 12 00 F6 82 90 00",
	  false, 1, 15, 20, T0_, 0, false, 512, 32, 5000, 0, 10, 32, 4, 13, false, 0, 0 },
	{ "IDPrime MD 830", "3B 7F 96 00 00 80 31 80 65 B0 85 59 56 FB 12 0F FE 82 90 00",
	  false, 1, 15, 20, T0_, 0, false, 512, 32, 5000, 0, 10, 32, 4, 13, false, 0, 0 },
	{ "DNIe", "3B 7F 38 00 00 00 6A 44 4E 49 65 20 02 4C 34 01 13 03 90 00",
	  false, 1, 15, 20, T0_, 0, false, 744, 12, 8000, 0, 10, 32, 4, 13, false, 0, 0 },
	{ "ACOS5 (TD1 says T=0)", "3B BE 11 00 00 41 01 38 00 00 00 00 00 00 00 00 01 90 00",
	  false, 1, 14, 19, T0_, 0, false, 372, 1, 5000, 0, 10, 32, 4, 13, false, 0, 0 },
	{ "Gemalto .NET Astrid", "3B 16 96 41 73 74 72 69 64",
	  false, 1, 6, 9, T0_, 0, false, 512, 32, 5000, 0, 10, 32, 4, 13, false, 0, 0 },
	{ "Multiflex 3k (no interface bytes)", "3B 02 14 50",
	  false, 0, 2, 4, T0_, 0, false, 372, 1, 5000, 0, 10, 32, 4, 13, false, 0, 0 },
	{ "TB1 TC1 only", "3B 65 00 00 9C 11 01 01 03",
	  false, 1, 5, 9, T0_, 0, false, 372, 1, 5000, 0, 10, 32, 4, 13, false, 0, 0 },
	{ "Cyberflex", "3B 6E 00 00 80 31 80 66 B0 84 0C 01 6E 01 83 00 90 00",
	  false, 1, 14, 18, T0_, 0, false, 372, 1, 5000, 0, 10, 32, 4, 13, false, 0, 0 },
	{ "inverse convention", "3F 65 25 00 2B 09 EB 90 00",
	  true, 1, 5, 9, T0_, 0, false, 372, 1, 5000, 0, 10, 32, 4, 13, false, 0, 0 },
	{ "inverse convention 2", "3F 67 25 00 2A 20 00 0F 68 90 00",
	  true, 1, 7, 11, T0_, 0, false, 372, 1, 5000, 0, 10, 32, 4, 13, false, 0, 0 },
	/* T=1 (TCK present) */
	{ "YubiKey 4", "3B F8 13 00 00 81 31 FE 15 59 75 62 69 6B 65 79 34 D4",
	  false, 3, 8, 18, T1_, 1, true, 372, 4, 5000, 0, 10, 254, 1, 5, false, 0, 0 },
	{ "YubiKey NEO", "3B FC 13 00 00 81 31 FE 15 59 75 62 69 6B 65 79 4E 45 4F 72 33 E1",
	  false, 3, 12, 22, T1_, 1, true, 372, 4, 5000, 0, 10, 254, 1, 5, false, 0, 0 },
	{ "YubiKey 5 NFC", "3B FD 13 00 00 81 31 FE 15 80 73 C0 21 C0 57 59 75 62 69 4B 65 79 40",
	  false, 3, 13, 23, T1_, 1, true, 372, 4, 5000, 0, 10, 254, 1, 5, false, 0, 0 },
	{ "OpenPGP card 2 / Nitrokey", "3B DA 18 FF 81 B1 FE 75 1F 03 00 31 C5 73 C0 01 40 00 90 00 0C",
	  false, 4, 10, 21, T1_ | T15_, 1, true, 372, 12, 5000, 255, 10, 254, 7, 5, false, 3, 0 },
	{ "OpenPGP card 3", "3B FA 13 00 FF 81 31 80 45 00 31 C1 73 C0 01 00 00 90 00 B1",
	  false, 3, 10, 20, T1_, 1, true, 372, 4, 5000, 255, 10, 128, 4, 5, false, 0, 0 },
	{ "OpenPGP card 3.4", "3B DA 18 FF 81 B1 FE 75 1F 03 00 31 F5 73 C0 01 60 00 90 00 1C",
	  false, 4, 10, 21, T1_ | T15_, 1, true, 372, 12, 5000, 255, 10, 254, 7, 5, false, 3, 0 },
	{ "Gnuk", "3B DA 11 FF 81 B1 FE 55 1F 03 00 31 84 73 80 01 80 00 90 00 E4",
	  false, 4, 10, 21, T1_ | T15_, 1, true, 372, 1, 5000, 255, 10, 254, 5, 5, false, 3, 0 },
	{ "JCOP v2.4.1 JavaCard", "3B F8 13 00 00 81 31 FE 45 4A 43 4F 50 76 32 34 31 B7",
	  false, 3, 8, 18, T1_, 1, true, 372, 4, 5000, 0, 10, 254, 4, 5, false, 0, 0 },
	{ "EstEID", "3B DB 96 00 80 B1 FE 45 1F 83 00 12 23 3F 53 65 49 44 0F 90 00 F1",
	  false, 4, 11, 22, T0_ | T1_ | T15_, 0, true, 512, 32, 5000, 0, 10, 254, 4, 5, false, 3, 2 },
	{ "SmartCard-HSM", "3B FE 18 00 00 81 31 FE 45 80 31 81 54 48 53 4D 31 73 80 21 40 81 07 FA",
	  false, 3, 14, 24, T1_, 1, true, 372, 12, 5000, 0, 10, 254, 4, 5, false, 0, 0 },
	{ "German health card", "3B DD 97 FF 81 B1 FE 45 1F 03 00 64 04 05 08 03 73 96 21 D0 00 90 00 C8",
	  false, 4, 13, 24, T1_ | T15_, 1, true, 512, 64, 5000, 255, 10, 254, 4, 5, false, 3, 0 },
	{ "eToken PRO", "3B D5 18 00 81 31 3A 7D 80 73 C8 21 10 30",
	  false, 3, 5, 14, T1_, 1, true, 372, 12, 5000, 0, 10, 58, 7, 13, false, 0, 0 },
	{ "German eID nPA", "3B 8A 80 01 80 31 F8 73 F7 41 E0 82 90 00 75",
	  false, 2, 10, 15, T0_ | T1_, 0, true, 372, 1, 5000, 0, 10, 32, 4, 13, false, 0, 0 },
	{ "PC/SC part 3 MIFARE 1K", "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A",
	  false, 2, 15, 20, T0_ | T1_, 0, true, 372, 1, 5000, 0, 10, 32, 4, 13, false, 0, 0 },
	{ "CardOS SCE7", "3B F9 96 00 00 81 31 FE 45 53 43 45 37 20 0E 00 20 20 28",
	  false, 3, 9, 19, T1_, 1, true, 512, 32, 5000, 0, 10, 254, 4, 5, false, 0, 0 },
	{ "TA1 18 TC1 TB3 58", "3B D2 18 00 81 31 FE 58 C9 01 14",
	  false, 3, 2, 11, T1_, 1, true, 372, 12, 5000, 0, 10, 254, 5, 8, false, 0, 0 },
	/* synthetic: TA2 specific mode, TC1, TC2, CRC from TC3 */
	{ "synthetic TA2/CRC", "3B D0 11 02 D1 91 20 41 01 E3",
	  false, 3, 0, 10, T1_, 1, true, 372, 1, 5000, 2, 32, 32, 4, 13, true, 0, 0 },
};
/* clang-format on */
#define N_CASES (sizeof(cases) / sizeof(cases[0]))

static size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned v;
	int used;

	while (*s != '\0') {
		if (*s == ' ') {
			s++;
			continue;
		}
		ck_assert_int_eq(sscanf(s, "%2x%n", &v, &used), 1);
		ck_assert_uint_lt(n, cap);
		out[n++] = (uint8_t)v;
		s += used;
	}
	return n;
}

/* Parse from an exact-size heap copy so ASan sees any over-read. */
static int
parse_exact(const uint8_t *b, size_t n, struct atr_info *a, unsigned *w)
{
	uint8_t *copy = malloc(n > 0 ? n : 1);
	int rc;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, b, n);
	rc = atr_parse(copy, n, a, w);
	free(copy);
	return rc;
}

START_TEST(test_real_atrs)
{
	const struct atr_case *t = &cases[_i];
	uint8_t b[64];
	size_t n = unhex(t->hex, b, sizeof(b));
	struct atr_info a;
	unsigned w = 0xFFFF;

	ck_assert_msg(parse_exact(b, n, &a, &w) == OC_OK, "%s", t->name);
	ck_assert_msg(w == 0, "%s: warnings %#x", t->name, w);
	ck_assert_uint_eq(a.len, t->len);
	ck_assert_uint_eq(n, t->len);
	ck_assert_mem_eq(a.raw, b, n);
	ck_assert_int_eq(a.inverse, t->inverse);
	ck_assert_uint_eq(a.T0, b[1]);
	ck_assert_uint_eq(a.ngroups, t->ngroups);
	ck_assert_uint_eq(a.hist_len, t->hist_len);
	ck_assert_mem_eq(
	    a.hist, b + n - t->hist_len - (t->has_tck ? 1 : 0), t->hist_len);
	ck_assert_uint_eq(a.protocols, t->protocols);
	ck_assert_uint_eq(a.first_protocol, t->first_protocol);
	ck_assert_int_eq(a.has_tck, t->has_tck);
	if (t->has_tck)
		ck_assert_uint_eq(a.tck, b[n - 1]);
	ck_assert_uint_eq(a.Fi, t->Fi);
	ck_assert_uint_eq(a.Di, t->Di);
	ck_assert_uint_eq(a.fmax_khz, t->fmax_khz);
	ck_assert_uint_eq(a.N, t->N);
	ck_assert_uint_eq(a.WI, t->WI);
	ck_assert_uint_eq(a.ifsc, t->ifsc);
	ck_assert_uint_eq(a.bwi, t->bwi);
	ck_assert_uint_eq(a.cwi, t->cwi);
	ck_assert_int_eq(a.edc_crc, t->crc);
	ck_assert_uint_eq(a.class_indicator, t->class_indicator);
	ck_assert_uint_eq(a.clock_stop, t->clock_stop);
	ck_assert_int_eq(a.specific_mode, t->ngroups >= 2 && a.group[1].has_ta);
}
END_TEST

/* Every proper prefix of a real ATR is truncated, except the one that
 * only lacks the TCK, which parses with a warning. */
START_TEST(test_real_atr_prefixes)
{
	const struct atr_case *t = &cases[_i];
	uint8_t b[64];
	size_t n = unhex(t->hex, b, sizeof(b));
	struct atr_info a;
	unsigned w;

	for (size_t k = 0; k < n; k++) {
		int rc = parse_exact(b, k, &a, &w);

		if (t->has_tck && k == n - 1) {
			ck_assert_int_eq(rc, OC_OK);
			ck_assert_uint_eq(w, ATR_WARN_TCK_MISSING);
			ck_assert(!a.has_tck);
			ck_assert_uint_eq(a.len, n - 1);
		} else {
			ck_assert_msg(rc == OC_ETRUNC, "%s: prefix %zu: %d",
			    t->name, k, rc);
		}
	}
}
END_TEST

START_TEST(test_specific_mode)
{
	static const uint8_t atr[] = {
	    0x3B, 0xD0, 0x11, 0x02, 0xD1, 0x91, 0x20, 0x41, 0x01, 0xE3};
	struct atr_info a;
	unsigned w;

	ck_assert_int_eq(atr_parse(atr, sizeof(atr), &a, &w), OC_OK);
	ck_assert(a.specific_mode);
	ck_assert_uint_eq(a.specific_protocol, 1);
	ck_assert(!a.specific_can_change);
	ck_assert(a.specific_implicit_params);
	ck_assert(a.group[1].has_ta && a.group[1].has_tc && a.group[1].has_td);
	ck_assert(!a.group[1].has_tb);
}
END_TEST

START_TEST(test_malformed)
{
	static const uint8_t bad_ts[] = {0x3C, 0x00};
	static const uint8_t raw_inverse[] = {0x03, 0x00};
	static const uint8_t td_off_end[] = {0x3B, 0x80, 0x81};
	static const uint8_t hist_off_end[] = {0x3B, 0x05, 0x01, 0x02};
	/* nine groups announced by TDs */
	static const uint8_t too_deep[] = {0x3B, 0x80, 0x81, 0x81, 0x81, 0x81,
	    0x81, 0x81, 0x81, 0x81, 0x01, 0x00};
	struct atr_info a;
	uint8_t big[40];
	unsigned w = 0x55;

	memset(&a, 0xA5, sizeof(a));
	ck_assert_int_eq(parse_exact(bad_ts, 0, &a, &w), OC_ETRUNC);
	ck_assert_int_eq(parse_exact(bad_ts, 2, &a, &w), OC_EINVAL);
	ck_assert_int_eq(parse_exact(raw_inverse, 2, &a, &w), OC_EINVAL);
	ck_assert_int_eq(parse_exact(td_off_end, 3, &a, &w), OC_ETRUNC);
	ck_assert_int_eq(parse_exact(hist_off_end, 4, &a, &w), OC_ETRUNC);
	ck_assert_int_eq(
	    parse_exact(too_deep, sizeof(too_deep), &a, &w), OC_ERANGE);
	/* outputs untouched on failure */
	ck_assert_uint_eq(a.len, 0xA5A5A5A5A5A5A5A5u);
	ck_assert_uint_eq(w, 0x55);

	/* 2 + 4 groups of 4 bytes + 15 historical = 33, then TCK = 34th */
	memset(big, 0, sizeof(big));
	big[0] = 0x3B;
	big[1] = 0xFF;
	for (int g = 0; g < 4; g++)
		big[2 + 4 * g + 3] = g < 3 ? 0xF1 : 0x01;
	ck_assert_int_eq(parse_exact(big, 34, &a, &w), OC_ERANGE);
	ck_assert_int_eq(parse_exact(big, sizeof(big), &a, &w), OC_ERANGE);
	/* 8 full groups: the last TD lands on byte 34 */
	memset(big, 0xF1, sizeof(big));
	big[0] = 0x3B;
	big[1] = 0xF0;
	ck_assert_int_eq(parse_exact(big, sizeof(big), &a, &w), OC_ERANGE);
	ck_assert_int_eq(atr_parse(NULL, 0, &a, &w), OC_EINVAL);
}
END_TEST

START_TEST(test_tck_warnings)
{
	uint8_t b[40];
	size_t n =
	    unhex("3B F8 13 00 00 81 31 FE 15 59 75 62 69 6B 65 79 34 D4", b,
	        sizeof(b));
	struct atr_info a;
	unsigned w;

	b[n - 1] ^= 0x01; /* wrong TCK */
	ck_assert_int_eq(parse_exact(b, n, &a, &w), OC_OK);
	ck_assert_uint_eq(w, ATR_WARN_TCK_WRONG);
	ck_assert(a.has_tck);
	b[n - 1] ^= 0x01;
	/* missing TCK */
	ck_assert_int_eq(parse_exact(b, n - 1, &a, &w), OC_OK);
	ck_assert_uint_eq(w, ATR_WARN_TCK_MISSING);
	/* bytes after the ATR (e.g. a status word glued on) */
	b[n] = 0x90;
	b[n + 1] = 0x00;
	ck_assert_int_eq(parse_exact(b, n + 2, &a, &w), OC_OK);
	ck_assert_uint_eq(w, ATR_WARN_EXTRA_BYTES);
	ck_assert_uint_eq(a.len, n);
	/* T=0 only: a trailing byte is not a TCK */
	n = unhex("3B 02 14 50 AA", b, sizeof(b));
	ck_assert_int_eq(parse_exact(b, n, &a, &w), OC_OK);
	ck_assert_uint_eq(w, ATR_WARN_EXTRA_BYTES);
	ck_assert(!a.has_tck);
	ck_assert_uint_eq(a.len, 4);
	/* warnings pointer is optional */
	ck_assert_int_eq(parse_exact(b, n, &a, NULL), OC_OK);
}
END_TEST

START_TEST(test_rfu_fi_di)
{
	static const uint8_t fi_rfu[] = {0x3B, 0x10, 0x71};
	static const uint8_t di_rfu[] = {0x3B, 0x10, 0x1A};
	static const uint8_t di_zero[] = {0x3B, 0x10, 0xD0};
	struct atr_info a;
	unsigned w;

	ck_assert_int_eq(atr_parse(fi_rfu, 3, &a, &w), OC_OK);
	ck_assert_uint_eq(w, ATR_WARN_RFU_FI_DI);
	ck_assert_uint_eq(a.Fi, 0);
	ck_assert_uint_eq(a.Fi_index, 7);
	ck_assert_uint_eq(a.Di, 1);
	ck_assert_int_eq(atr_parse(di_rfu, 3, &a, &w), OC_OK);
	ck_assert_uint_eq(w, ATR_WARN_RFU_FI_DI);
	ck_assert_uint_eq(a.Di, 0);
	ck_assert_uint_eq(a.Fi, 372);
	ck_assert_int_eq(atr_parse(di_zero, 3, &a, &w), OC_OK);
	ck_assert_uint_eq(w, ATR_WARN_RFU_FI_DI);
	ck_assert_uint_eq(a.Fi, 2048);
	ck_assert_uint_eq(a.fmax_khz, 20000);
}
END_TEST

START_TEST(test_tables)
{
	static const uint16_t fi[16] = {372, 372, 558, 744, 1116, 1488, 1860, 0,
	    0, 512, 768, 1024, 1536, 2048, 0, 0};
	static const uint16_t fm[16] = {4000, 5000, 6000, 8000, 12000, 16000,
	    20000, 0, 0, 5000, 7500, 10000, 15000, 20000, 0, 0};
	static const uint8_t di[16] = {
	    0, 1, 2, 4, 8, 16, 32, 64, 12, 20, 0, 0, 0, 0, 0, 0};

	for (uint8_t k = 0; k < 16; k++) {
		ck_assert_uint_eq(atr_fi_value(k), fi[k]);
		ck_assert_uint_eq(atr_fmax_khz(k), fm[k]);
		ck_assert_uint_eq(atr_di_value(k), di[k]);
	}
	ck_assert_uint_eq(atr_fi_value(16), 0);
	ck_assert_uint_eq(atr_di_value(0xFF), 0);
	ck_assert_uint_eq(atr_fmax_khz(0x20), 0);
}
END_TEST

/* T=1 bytes after TD1 (i = 2) are not T=1 parameters (ISO 7816-3 11.4). */
START_TEST(test_t1_params_need_i_ge_3)
{
	/* TD1 = T=1 with TA2, TB2: no TD2, so IFSC/BWI stay default */
	static const uint8_t atr[] = {0x3B, 0x80, 0x31, 0x80, 0x45, 0x74};
	struct atr_info a;
	unsigned w;

	ck_assert_int_eq(atr_parse(atr, sizeof(atr), &a, &w), OC_OK);
	ck_assert_uint_eq(w, 0);
	ck_assert_uint_eq(a.ifsc, 32);
	ck_assert_uint_eq(a.bwi, 4);
	ck_assert_uint_eq(a.cwi, 13);
	ck_assert(a.specific_mode);
	ck_assert_uint_eq(a.specific_protocol, 0);
}
END_TEST

static Suite *
atr_suite(void)
{
	Suite *s = suite_create("atr");
	TCase *tc = tcase_create("real");

	tcase_add_loop_test(tc, test_real_atrs, 0, (int)N_CASES);
	tcase_add_loop_test(tc, test_real_atr_prefixes, 0, (int)N_CASES);
	suite_add_tcase(s, tc);
	tc = tcase_create("rules");
	tcase_add_test(tc, test_specific_mode);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_tck_warnings);
	tcase_add_test(tc, test_rfu_fi_di);
	tcase_add_test(tc, test_tables);
	tcase_add_test(tc, test_t1_params_need_i_ge_3);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(atr_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
