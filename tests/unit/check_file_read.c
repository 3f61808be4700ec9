/*
 * openccid - unit tests for the bounded whole-file reader (file_read.h),
 * which reads Info.plist (drvconf.c) and traces (openccid-replay): the
 * happy path, the cap at its edge, and the files it must refuse with
 * their own error rather than read (missing, too large, a directory, a
 * FIFO that would block, a symbolic link when told not to follow one).
 */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/file_read.h"

static const char dir_template[] = "/tmp/oc-file-read-XXXXXX";
static char dir[sizeof(dir_template)] = "/tmp/oc-file-read-XXXXXX";
static char path[sizeof(dir) + 32];

static void
setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
	static const char *const names[] = {"f", "link", "fifo", "sub"};
	char p[sizeof(path)];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		(void)snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		(void)unlink(p);
		(void)rmdir(p);
	}
	(void)rmdir(dir);
	/* The template again, for a run without fork (CK_FORK=no). */
	(void)snprintf(dir, sizeof(dir), "%s", dir_template);
}

/* dir/name, written with len bytes of data when data is not NULL. */
static const char *
at(const char *name, const void *data, size_t len)
{
	FILE *f;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (data != NULL) {
		f = fopen(path, "wb");
		ck_assert_ptr_nonnull(f);
		ck_assert_uint_eq(fwrite(data, 1, len, f), len);
		ck_assert_int_eq(fclose(f), 0);
	}
	return path;
}

/* A failed read must leave the outputs as they were. */
static void
assert_refused(const char *p, size_t max, unsigned flags, int want)
{
	uint8_t sentinel = 0, *buf = &sentinel;
	size_t len = 12345;

	ck_assert_int_eq(file_read_whole(p, max, flags, &buf, &len), want);
	ck_assert_ptr_eq(buf, &sentinel);
	ck_assert_uint_eq(len, 12345);
}

START_TEST(test_reads_whole_file)
{
	static const char text[] = "openccid-trace 1\nline two\n";
	uint8_t *buf = NULL;
	size_t len = 0;

	at("f", text, sizeof(text) - 1);
	ck_assert_int_eq(file_read_whole(path, 4096, 0, &buf, &len), OC_OK);
	ck_assert_uint_eq(len, sizeof(text) - 1);
	ck_assert_mem_eq(buf, text, len);
	ck_assert_uint_eq(buf[len], 0); /* NUL one past the data */
	free(buf);
}
END_TEST

START_TEST(test_cap_edge)
{
	static const uint8_t data[64] = {0x01, 0x00, 0xff};
	uint8_t *buf = NULL;
	size_t len = 0;

	at("f", data, sizeof(data));
	/* Exactly the cap is allowed; NUL bytes inside are data. */
	ck_assert_int_eq(file_read_whole(path, sizeof(data), 0, &buf, &len),
	    OC_OK);
	ck_assert_uint_eq(len, sizeof(data));
	ck_assert_mem_eq(buf, data, sizeof(data));
	free(buf);
	/* One byte over is refused before anything is allocated. */
	assert_refused(path, sizeof(data) - 1, 0, OC_ERANGE);
	assert_refused(path, 0, 0, OC_ERANGE);
	ck_assert_str_eq(file_read_strerror(OC_ERANGE), "larger than allowed");
}
END_TEST

START_TEST(test_empty_file)
{
	uint8_t *buf = NULL;
	size_t len = 99;

	at("f", "", 0);
	ck_assert_int_eq(file_read_whole(path, 0, 0, &buf, &len), OC_OK);
	ck_assert_uint_eq(len, 0);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(buf[0], 0);
	free(buf);
}
END_TEST

START_TEST(test_missing_file)
{
	assert_refused(at("f", NULL, 0), 4096, 0, OC_ENODEV);
	/* A path through something that is not a directory: missing too. */
	at("f", "x", 1);
	(void)snprintf(path, sizeof(path), "%s/f/g", dir);
	assert_refused(path, 4096, 0, OC_ENODEV);
	ck_assert_str_eq(file_read_strerror(OC_ENODEV), "no such file");
}
END_TEST

START_TEST(test_directory)
{
	ck_assert_int_eq(mkdir(at("sub", NULL, 0), 0700), 0);
	assert_refused(path, 1u << 20, 0, OC_EINVAL);
	assert_refused(dir, 1u << 20, FILE_READ_NOFOLLOW, OC_EINVAL);
	ck_assert_str_eq(file_read_strerror(OC_EINVAL), "not a regular file");
}
END_TEST

/* No writer ever opens it: a blocking open would hang the test. */
START_TEST(test_fifo_not_waited_for)
{
	ck_assert_int_eq(mkfifo(at("fifo", NULL, 0), 0600), 0);
	assert_refused(path, 4096, 0, OC_EINVAL);
}
END_TEST

START_TEST(test_symlink)
{
	char target[sizeof(path)];
	uint8_t *buf = NULL;
	size_t len = 0;

	memcpy(target, at("f", "abc", 3), sizeof(target));
	ck_assert_int_eq(symlink(target, at("link", NULL, 0)), 0);
	/* Followed unless told not to (traces may be links; Info.plist not). */
	ck_assert_int_eq(file_read_whole(path, 16, 0, &buf, &len), OC_OK);
	ck_assert_uint_eq(len, 3);
	ck_assert_mem_eq(buf, "abc", 3);
	free(buf);
	assert_refused(path, 16, FILE_READ_NOFOLLOW, OC_EIO);
}
END_TEST

START_TEST(test_strerror_distinct)
{
	static const int rcs[] = {OC_ENODEV, OC_EACCES, OC_EINVAL, OC_ERANGE,
	    OC_ENOMEM, OC_EIO};
	size_t i, j;

	for (i = 0; i < sizeof(rcs) / sizeof(rcs[0]); i++)
		for (j = i + 1; j < sizeof(rcs) / sizeof(rcs[0]); j++)
			ck_assert_str_ne(file_read_strerror(rcs[i]),
			    file_read_strerror(rcs[j]));
	ck_assert_str_eq(file_read_strerror(OC_EACCES), "permission denied");
}
END_TEST

static Suite *
file_read_suite(void)
{
	Suite *s = suite_create("file_read");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_reads_whole_file);
	tcase_add_test(tc, test_cap_edge);
	tcase_add_test(tc, test_empty_file);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_directory);
	tcase_add_test(tc, test_fifo_not_waited_for);
	tcase_add_test(tc, test_symlink);
	tcase_add_test(tc, test_strerror_distinct);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(file_read_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
