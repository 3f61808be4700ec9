/*
 * openccid - tests for T=0 at TPDU level (ISO/IEC 7816-3:2006 section
 * 12.2): a scripted card checks each TPDU and gives its answer.
 */
#include "config.h"

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "card/t0.h"

struct step {
	const char *tx;
	const char *rx; /* data SW1 SW2 */
	int rc;
};

struct card {
	const struct step *steps;
	size_t n, pos;
};

static size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned v;

	while (*s != '\0') {
		if (*s == ' ') {
			s++;
			continue;
		}
		ck_assert(sscanf(s, "%2x", &v) == 1);
		ck_assert_uint_lt(n, cap);
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static int
card_xfer(void *ctx, const uint8_t *tpdu, size_t len, uint8_t *resp, size_t cap,
    size_t *got)
{
	struct card *c = ctx;
	const struct step *s;
	uint8_t want[600];
	size_t n;

	ck_assert_msg(c->pos < c->n, "unexpected TPDU #%zu", c->pos);
	s = &c->steps[c->pos++];
	n = unhex(s->tx, want, sizeof(want));
	ck_assert_uint_eq(len, n);
	ck_assert_msg(
	    memcmp(tpdu, want, n) == 0, "TPDU %zu differs", c->pos - 1);
	if (s->rc != OC_OK)
		return s->rc;
	*got = unhex(s->rx, resp, cap);
	return OC_OK;
}

static int
run(const struct t0_opts *o, struct card *c, const char *apdu_hex,
    uint8_t *resp, size_t cap, size_t *n)
{
	struct t0_xfer io = {card_xfer, c};
	uint8_t apdu[700];
	size_t len = unhex(apdu_hex, apdu, sizeof(apdu));

	return t0_transceive(o, &io, apdu, len, resp, cap, n);
}

static void
expect_resp(const uint8_t *resp, size_t len, const char *hex)
{
	uint8_t want[600];
	size_t n = unhex(hex, want, sizeof(want));

	ck_assert_uint_eq(len, n);
	ck_assert(memcmp(resp, want, n) == 0);
}

#define SCRIPT(arr) struct card card = {arr, sizeof(arr) / sizeof(arr[0]), 0}
#define DONE()      ck_assert_uint_eq(card.pos, card.n)

START_TEST(test_case1)
{
	static const struct step s[] = {{"80 10 01 02 00", "90 00", 0}};
	SCRIPT(s);
	uint8_t r[8];
	size_t n = 0;

	ck_assert_int_eq(run(NULL, &card, "80 10 01 02", r, 8, &n), 0);
	expect_resp(r, n, "90 00");
	DONE();
}
END_TEST

START_TEST(test_case2)
{
	static const struct step s[] = {
	    {"00 B0 00 00 04", "01 02 03 04 90 00", 0},
	    /* 6Cxx: the same TPDU again with P3 = xx, once */
	    {"00 CA 00 6E 00", "6C 03", 0},
	    {"00 CA 00 6E 03", "AA BB CC 90 00", 0},
	    {"00 CA 00 6F 00", "6C 03", 0},
	    {"00 CA 00 6F 03", "6C 02", 0},
	};
	SCRIPT(s);
	uint8_t r[300];
	size_t n = 0;

	ck_assert_int_eq(run(NULL, &card, "00 B0 00 00 04", r, 300, &n), 0);
	expect_resp(r, n, "01 02 03 04 90 00");
	ck_assert_int_eq(run(NULL, &card, "00 CA 00 6E 00", r, 300, &n), 0);
	expect_resp(r, n, "AA BB CC 90 00");
	ck_assert_int_eq(run(NULL, &card, "00 CA 00 6F 00", r, 300, &n), 0);
	expect_resp(r, n, "6C 02");
	DONE();
}
END_TEST

START_TEST(test_case3)
{
	static const struct step s[] = {
	    {"00 A4 04 00 02 3F 00", "90 00", 0},
	    /* no data expected: 61xx goes back as is */
	    {"00 DA 00 00 01 11", "61 10", 0},
	};
	SCRIPT(s);
	uint8_t r[8];
	size_t n = 0;

	ck_assert_int_eq(run(NULL, &card, "00 A4 04 00 02 3F 00", r, 8, &n), 0);
	expect_resp(r, n, "90 00");
	ck_assert_int_eq(run(NULL, &card, "00 DA 00 00 01 11", r, 8, &n), 0);
	expect_resp(r, n, "61 10");
	DONE();
}
END_TEST

/* Case 4: case-3 TPDU, then GET RESPONSE with the command's class. */
START_TEST(test_case4)
{
	static const struct step s[] = {
	    {"10 88 00 00 02 01 02", "61 03", 0},
	    {"00 C0 00 00 03", "0A 0B 0C 61 02", 0},
	    {"00 C0 00 00 02", "6C 01", 0},
	    {"00 C0 00 00 01", "0D 90 00", 0},
	    {"84 88 00 00 01 01", "90 00", 0},
	};
	SCRIPT(s);
	uint8_t r[16];
	size_t n = 0;

	ck_assert_int_eq(
	    run(NULL, &card, "10 88 00 00 02 01 02 00", r, 16, &n), 0);
	expect_resp(r, n, "0A 0B 0C 0D 90 00");
	ck_assert_int_eq(
	    run(NULL, &card, "84 88 00 00 01 01 00", r, 16, &n), 0);
	expect_resp(r, n, "90 00");
	DONE();
}
END_TEST

/* A card that never stops answering 61xx is cut off. */
START_TEST(test_61_bounded)
{
	static const struct step s[] = {
	    {"00 B2 01 04 00", "61 00", 0},
	    {"00 C0 00 00 00", "61 00", 0},
	    {"00 C0 00 00 00", "61 00", 0},
	    {"00 C0 00 00 00", "61 00", 0},
	};
	SCRIPT(s);
	struct t0_opts o = {false, 3};
	uint8_t r[8];
	size_t n = 0;

	ck_assert_int_eq(run(&o, &card, "00 B2 01 04 00", r, 8, &n), OC_EPROTO);
	DONE();
}
END_TEST

START_TEST(test_buffer_too_small)
{
	static const struct step s[] = {
	    {"00 B0 00 00 04", "01 02 03 04 90 00", 0},
	    {"00 B0 00 00 02", "61 04", 0},
	    {"00 C0 00 00 04", "01 02 03 04 90 00", 0},
	};
	SCRIPT(s);
	uint8_t r[5];
	size_t n = 77;

	ck_assert_int_eq(
	    run(NULL, &card, "00 B0 00 00 04", r, 5, &n), OC_ENOSPC);
	ck_assert_int_eq(
	    run(NULL, &card, "00 B0 00 00 02", r, 5, &n), OC_ENOSPC);
	ck_assert_uint_eq(n, 77);
	DONE();
}
END_TEST

/* Extended APDUs: mapped to short TPDUs when they fit, else refused. */
START_TEST(test_extended)
{
	static const struct step s[] = {
	    /* 2E with Ne > 256: P3 = 00 and GET RESPONSE */
	    {"00 B0 00 00 00", "01 02 61 01", 0},
	    {"00 C0 00 00 01", "03 90 00", 0},
	    /* 3E with Lc 2 */
	    {"00 DA 00 00 02 01 02", "90 00", 0},
	    /* 4E with Lc 1 */
	    {"00 88 00 00 01 05", "61 01", 0},
	    {"00 C0 00 00 01", "07 90 00", 0},
	};
	SCRIPT(s);
	uint8_t r[16], big[300 + 9];
	size_t n = 0;
	struct t0_xfer io = {card_xfer, &card};

	ck_assert_int_eq(
	    run(NULL, &card, "00 B0 00 00 00 02 00", r, 16, &n), 0);
	expect_resp(r, n, "01 02 03 90 00");
	ck_assert_int_eq(
	    run(NULL, &card, "00 DA 00 00 00 00 02 01 02", r, 16, &n), 0);
	ck_assert_int_eq(
	    run(NULL, &card, "00 88 00 00 00 00 01 05 00 00", r, 16, &n), 0);
	expect_resp(r, n, "07 90 00");
	memset(big, 0x11, sizeof(big));
	big[4] = 0;
	big[5] = 0x01;
	big[6] = 0x2C; /* Lc = 300 */
	ck_assert_int_eq(
	    t0_transceive(NULL, &io, big, 7 + 300, r, 16, &n), OC_ENOTSUP);
	DONE();
}
END_TEST

/* ISO 7816-4 section 7.6.2: ENVELOPE carries a long command. */
START_TEST(test_envelope)
{
	struct step s[3];
	struct card card = {s, 3, 0};
	struct t0_xfer io = {card_xfer, &card};
	struct t0_opts o = {true, 0};
	static char e1[5 * 3 + 255 * 3 + 1], e2[5 * 3 + 54 * 3 + 1];
	uint8_t big[7 + 300 + 2], r[16];
	size_t n = 0, i;
	char *p;

	memset(big, 0x11, sizeof(big));
	big[0] = 0x00;
	big[1] = 0x2A;
	big[4] = 0;
	big[5] = 0x01;
	big[6] = 0x2C;
	big[307] = 0;
	big[308] = 0;
	p = e1 + sprintf(e1, "00 C2 00 00 FF");
	for (i = 0; i < 255; i++)
		p += sprintf(p, " %02X", big[i]);
	p = e2 + sprintf(e2, "00 C2 00 00 36");
	for (i = 255; i < sizeof(big); i++)
		p += sprintf(p, " %02X", big[i]);
	s[0] = (struct step){e1, "90 00", 0};
	s[1] = (struct step){e2, "61 02", 0};
	s[2] = (struct step){"00 C0 00 00 02", "AB CD 90 00", 0};
	ck_assert_int_eq(
	    t0_transceive(&o, &io, big, sizeof(big), r, 16, &n), 0);
	expect_resp(r, n, "AB CD 90 00");
	DONE();
}
END_TEST

START_TEST(test_malformed)
{
	static const struct step s[] = {
	    {"00 B0 00 00 04", "90", 0},
	    {"00 B0 00 00 04", "", OC_EIO},
	};
	SCRIPT(s);
	uint8_t r[8];
	size_t n = 0;

	ck_assert_int_eq(run(NULL, &card, "00 B0 00", r, 8, &n), OC_EINVAL);
	ck_assert_int_eq(
	    run(NULL, &card, "00 B0 00 00 02 01", r, 8, &n), OC_EINVAL);
	ck_assert_int_eq(
	    run(NULL, &card, "00 B0 00 00 01 01 02 03", r, 8, &n), OC_EINVAL);
	ck_assert_int_eq(
	    run(NULL, &card, "00 B0 00 00 00 00", r, 8, &n), OC_EINVAL);
	ck_assert_int_eq(
	    run(NULL, &card, "00 B0 00 00 00 00 00 01", r, 8, &n), OC_EINVAL);
	ck_assert_int_eq(
	    run(NULL, &card, "00 B0 00 00 04", r, 8, &n), OC_EPROTO);
	ck_assert_int_eq(run(NULL, &card, "00 B0 00 00 04", r, 8, &n), OC_EIO);
	DONE();
}
END_TEST

static Suite *
t0_suite(void)
{
	Suite *s = suite_create("t0");
	TCase *tc = tcase_create("cases");

	tcase_add_test(tc, test_case1);
	tcase_add_test(tc, test_case2);
	tcase_add_test(tc, test_case3);
	tcase_add_test(tc, test_case4);
	tcase_add_test(tc, test_61_bounded);
	tcase_add_test(tc, test_buffer_too_small);
	tcase_add_test(tc, test_extended);
	tcase_add_test(tc, test_envelope);
	tcase_add_test(tc, test_malformed);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(t0_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
