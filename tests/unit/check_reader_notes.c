/*
 * openccid - unit tests for the reader-list notes table: what
 * bundle/gen-reader-notes.py generated from bundle/readers.list is what
 * reader_note_find() answers, for every "unsupported" line of the list.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quirks/reader_notes.h"

START_TEST(test_table_sorted_printable)
{
	ck_assert_uint_gt(reader_notes_count, 0);
	for (size_t i = 0; i < reader_notes_count; i++) {
		const struct reader_note *n = &reader_notes[i];
		size_t len = strlen(n->note);

		ck_assert_uint_gt(len, 0);
		ck_assert_uint_le(len, 400);
		for (size_t k = 0; k < len; k++)
			ck_assert(n->note[k] >= 0x20 && n->note[k] < 0x7f);
		if (i > 0) {
			const struct reader_note *p = &reader_notes[i - 1];
			unsigned a = (unsigned)p->vid << 16 | p->pid;
			unsigned b = (unsigned)n->vid << 16 | n->pid;

			ck_assert_uint_lt(a, b); /* sorted, each VID:PID once */
		}
	}
}
END_TEST

START_TEST(test_every_unsupported_line_has_its_note)
{
	FILE *f = fopen(READERS_LIST, "r");
	char line[1024];
	size_t found = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned vid, pid;
		char *note;

		if (sscanf(line, "%4x:%4x\tunsupported\t", &vid, &pid) != 2 ||
		    strstr(line, "\tunsupported\t") != line + 9)
			continue;
		note = strchr(line + 9 + strlen("\tunsupported\t"), '\t');
		ck_assert_ptr_nonnull(note);
		note++;
		note[strcspn(note, "\n")] = '\0';
		ck_assert_ptr_nonnull(reader_note_find((uint16_t)vid,
		    (uint16_t)pid));
		ck_assert_str_eq(reader_note_find((uint16_t)vid,
		    (uint16_t)pid), note);
		found++;
	}
	fclose(f);
	ck_assert_uint_eq(found, reader_notes_count);
}
END_TEST

START_TEST(test_other_readers_have_none)
{
	/* Gemalto USB Shell Token V2: supported; 1234:5678: not listed. */
	ck_assert_ptr_null(reader_note_find(0x08e6, 0x3438));
	ck_assert_ptr_null(reader_note_find(0x1234, 0x5678));
	ck_assert_ptr_null(reader_note_find(0x0000, 0x0000));
	ck_assert_ptr_null(reader_note_find(0xffff, 0xffff));
	/* The Broadcom 5880 is unsupported in the list. */
	ck_assert_ptr_nonnull(reader_note_find(0x0a5c, 0x5800));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("reader_notes");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_table_sorted_printable);
	tcase_add_test(tc, test_every_unsupported_line_has_its_note);
	tcase_add_test(tc, test_other_readers_have_none);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
