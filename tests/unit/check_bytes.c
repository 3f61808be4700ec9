/*
 * openccid - unit tests for the bounds-checked byte cursor.
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"

static const uint8_t sample[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};

START_TEST(test_reads)
{
	struct oc_cur c;
	uint8_t u8 = 0;
	uint16_t u16 = 0;
	uint32_t u32 = 0;

	cur_init(&c, sample, sizeof(sample));
	ck_assert_uint_eq(cur_remaining(&c), 7);
	ck_assert_ptr_eq(cur_ptr(&c), sample);
	ck_assert_int_eq(cur_peek_u8(&c, &u8), OC_OK);
	ck_assert_uint_eq(u8, 0x01);
	ck_assert_uint_eq(cur_remaining(&c), 7);
	ck_assert_int_eq(cur_get_u8(&c, &u8), OC_OK);
	ck_assert_uint_eq(u8, 0x01);
	ck_assert_int_eq(cur_get_le16(&c, &u16), OC_OK);
	ck_assert_uint_eq(u16, 0x0302);
	ck_assert_int_eq(cur_get_le32(&c, &u32), OC_OK);
	ck_assert_uint_eq(u32, 0x07060504u);
	ck_assert_uint_eq(cur_remaining(&c), 0);
	ck_assert_ptr_eq(cur_ptr(&c), sample + 7);

	cur_init(&c, sample, sizeof(sample));
	ck_assert_int_eq(cur_get_be16(&c, &u16), OC_OK);
	ck_assert_uint_eq(u16, 0x0102);
}
END_TEST

START_TEST(test_high_bits)
{
	static const uint8_t ff[] = {0xFF, 0xFE, 0xFD, 0xFC};
	struct oc_cur c;
	uint16_t u16;
	uint32_t u32;

	cur_init(&c, ff, sizeof(ff));
	ck_assert_int_eq(cur_get_le32(&c, &u32), OC_OK);
	ck_assert_uint_eq(u32, 0xFCFDFEFFu);
	cur_init(&c, ff, sizeof(ff));
	ck_assert_int_eq(cur_get_le16(&c, &u16), OC_OK);
	ck_assert_uint_eq(u16, 0xFEFF);
	ck_assert_int_eq(cur_get_be16(&c, &u16), OC_OK);
	ck_assert_uint_eq(u16, 0xFDFC);
}
END_TEST

/* A failed read leaves both the output and the cursor as they were. */
START_TEST(test_short_reads)
{
	struct oc_cur c;
	uint8_t u8 = 0xAA, dst[8];
	uint16_t u16 = 0xAAAA;
	uint32_t u32 = 0xAAAAAAAAu;
	const uint8_t *view = sample;

	cur_init(&c, sample, sizeof(sample));
	ck_assert_int_eq(cur_skip(&c, 6), OC_OK);
	ck_assert_int_eq(cur_get_le16(&c, &u16), OC_ETRUNC);
	ck_assert_int_eq(cur_get_be16(&c, &u16), OC_ETRUNC);
	ck_assert_uint_eq(u16, 0xAAAA);
	ck_assert_int_eq(cur_get_le32(&c, &u32), OC_ETRUNC);
	ck_assert_uint_eq(u32, 0xAAAAAAAAu);
	memset(dst, 0x5A, sizeof(dst));
	ck_assert_int_eq(cur_get_bytes(&c, dst, 2), OC_ETRUNC);
	ck_assert_uint_eq(dst[0], 0x5A);
	ck_assert_int_eq(cur_get_view(&c, &view, 2), OC_ETRUNC);
	ck_assert_ptr_eq(view, sample);
	ck_assert_int_eq(cur_skip(&c, 2), OC_ETRUNC);
	ck_assert_uint_eq(cur_remaining(&c), 1);
	ck_assert_int_eq(cur_get_u8(&c, &u8), OC_OK);
	ck_assert_uint_eq(u8, 0x07);
	u8 = 0xAA;
	ck_assert_int_eq(cur_get_u8(&c, &u8), OC_ETRUNC);
	ck_assert_int_eq(cur_peek_u8(&c, &u8), OC_ETRUNC);
	ck_assert_uint_eq(u8, 0xAA);
	ck_assert_uint_eq(cur_remaining(&c), 0);
}
END_TEST

/* Lengths near SIZE_MAX must not wrap the bounds check. */
START_TEST(test_overflow_lengths)
{
	struct oc_cur c;
	uint8_t dst[4];
	const uint8_t *view = NULL;

	cur_init(&c, sample, sizeof(sample));
	ck_assert_int_eq(cur_get_u8(&c, dst), OC_OK);
	ck_assert_int_eq(cur_skip(&c, SIZE_MAX), OC_ETRUNC);
	ck_assert_int_eq(cur_skip(&c, SIZE_MAX - 2), OC_ETRUNC);
	ck_assert_int_eq(cur_get_view(&c, &view, SIZE_MAX), OC_ETRUNC);
	ck_assert_int_eq(cur_get_bytes(&c, dst, SIZE_MAX), OC_ETRUNC);
	ck_assert_ptr_null(view);
	ck_assert_uint_eq(cur_remaining(&c), 6);
	/* A corrupted cursor reports nothing left rather than wrapping. */
	c.off = c.len + 1;
	ck_assert_uint_eq(cur_remaining(&c), 0);
	ck_assert_ptr_null(cur_ptr(&c));
	ck_assert_int_eq(cur_get_u8(&c, dst), OC_ETRUNC);
}
END_TEST

START_TEST(test_bytes_and_views)
{
	struct oc_cur c;
	uint8_t dst[3];
	const uint8_t *view = NULL;

	cur_init(&c, sample, sizeof(sample));
	ck_assert_int_eq(cur_get_bytes(&c, dst, 3), OC_OK);
	ck_assert_mem_eq(dst, sample, 3);
	ck_assert_int_eq(cur_get_view(&c, &view, 4), OC_OK);
	ck_assert_ptr_eq(view, sample + 3);
	ck_assert_uint_eq(cur_remaining(&c), 0);
	/* Zero-length reads succeed at the end and at empty cursors. */
	ck_assert_int_eq(cur_get_bytes(&c, dst, 0), OC_OK);
	ck_assert_int_eq(cur_skip(&c, 0), OC_OK);
	ck_assert_int_eq(cur_get_view(&c, &view, 0), OC_OK);
	cur_init(&c, NULL, 10);
	ck_assert_uint_eq(cur_remaining(&c), 0);
	ck_assert_int_eq(cur_get_u8(&c, dst), OC_ETRUNC);
}
END_TEST

START_TEST(test_writes_exact)
{
	static const uint8_t want[] = {0xAB, 0x34, 0x12, 0x12, 0x34, 0x78,
	    0x56, 0x34, 0x12, 0xDE, 0xAD};
	static const uint8_t tail[] = {0xDE, 0xAD};
	uint8_t out[sizeof(want)];
	struct oc_wbuf w;

	wbuf_init(&w, out, sizeof(out));
	ck_assert_int_eq(wbuf_put_u8(&w, 0xAB), OC_OK);
	ck_assert_int_eq(wbuf_put_le16(&w, 0x1234), OC_OK);
	ck_assert_int_eq(wbuf_put_be16(&w, 0x1234), OC_OK);
	ck_assert_int_eq(wbuf_put_le32(&w, 0x12345678u), OC_OK);
	ck_assert_int_eq(wbuf_put_bytes(&w, tail, sizeof(tail)), OC_OK);
	ck_assert_uint_eq(w.len, sizeof(want));
	ck_assert_mem_eq(out, want, sizeof(want));
	/* Full: every put fails and changes nothing. */
	ck_assert_int_eq(wbuf_put_u8(&w, 0), OC_ENOSPC);
	ck_assert_int_eq(wbuf_put_bytes(&w, tail, 0), OC_OK);
	ck_assert_uint_eq(w.len, sizeof(want));
	ck_assert_mem_eq(out, want, sizeof(want));
}
END_TEST

START_TEST(test_write_overflow)
{
	uint8_t out[5];
	struct oc_wbuf w;

	memset(out, 0xEE, sizeof(out));
	wbuf_init(&w, out, sizeof(out));
	ck_assert_int_eq(wbuf_put_u8(&w, 1), OC_OK);
	ck_assert_int_eq(wbuf_put_le32(&w, 0x01020304u), OC_OK);
	ck_assert_int_eq(wbuf_put_le16(&w, 1), OC_ENOSPC);
	ck_assert_int_eq(wbuf_put_be16(&w, 1), OC_ENOSPC);
	ck_assert_int_eq(wbuf_put_le32(&w, 1), OC_ENOSPC);
	ck_assert_int_eq(wbuf_put_bytes(&w, out, SIZE_MAX), OC_ENOSPC);
	ck_assert_uint_eq(w.len, 5);

	memset(out, 0xEE, sizeof(out));
	wbuf_init(&w, out, 3);
	ck_assert_int_eq(wbuf_put_u8(&w, 1), OC_OK);
	ck_assert_int_eq(wbuf_put_le32(&w, 0x01020304u), OC_ENOSPC);
	ck_assert_uint_eq(w.len, 1);
	ck_assert_uint_eq(out[1], 0xEE);
	ck_assert_uint_eq(out[3], 0xEE);
	wbuf_init(&w, NULL, 3);
	ck_assert_int_eq(wbuf_put_u8(&w, 1), OC_ENOSPC);
}
END_TEST

START_TEST(test_le32_helpers)
{
	uint8_t b[4];

	le32_store(b, 0xA1B2C3D4u);
	ck_assert_uint_eq(b[0], 0xD4);
	ck_assert_uint_eq(b[3], 0xA1);
	ck_assert_uint_eq(le32_load(b), 0xA1B2C3D4u);
}
END_TEST

START_TEST(test_strerror)
{
	int e;

	for (e = OC_OK; e >= OC_ECANCELED; e--) {
		const char *s = oc_strerror(e);

		ck_assert_ptr_nonnull(s);
		ck_assert_str_ne(s, "unknown error");
	}
	ck_assert_str_eq(oc_strerror(OC_OK), "success");
	ck_assert_str_eq(oc_strerror(OC_ECANCELED - 1), "unknown error");
	ck_assert_str_eq(oc_strerror(1), "unknown error");
	ck_assert_str_eq(oc_strerror(-2147483647 - 1), "unknown error");
}
END_TEST

static Suite *
bytes_suite(void)
{
	Suite *s = suite_create("bytes");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_reads);
	tcase_add_test(tc, test_high_bits);
	tcase_add_test(tc, test_short_reads);
	tcase_add_test(tc, test_overflow_lengths);
	tcase_add_test(tc, test_bytes_and_views);
	tcase_add_test(tc, test_writes_exact);
	tcase_add_test(tc, test_write_overflow);
	tcase_add_test(tc, test_le32_helpers);
	suite_add_tcase(s, tc);
	return s;
}

/* err.c is L0 too and has no program of its own. */
static Suite *
err_suite(void)
{
	Suite *s = suite_create("err");
	TCase *tc = tcase_create("strerror");

	tcase_add_test(tc, test_strerror);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(bytes_suite());
	int failed;

	srunner_add_suite(sr, err_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
