/*
 * openccid - the notes of the shipped reader list.
 *
 * A reader bundle/readers.list marks "unsupported" (as the reference
 * driver's list does; both claim it) has a note there: why it is known
 * not to work fully. bundle/gen-reader-notes.py turns the notes into a
 * table at build time, so the text stays data in the list; the driver
 * logs a reader's note when it opens it, openccid-probe shows it.
 */
#ifndef OPENCCID_READER_NOTES_H
#define OPENCCID_READER_NOTES_H

#include <stddef.h>
#include <stdint.h>

struct reader_note {
	uint16_t vid;
	uint16_t pid;
	const char *note; /* printable ASCII, at most 400 bytes */
};

/* The generated table, sorted by vid then pid, each VID:PID once. */
extern const struct reader_note reader_notes[];
extern const size_t reader_notes_count;

/* The note of vid:pid, or NULL when the list gives it none. */
const char *reader_note_find(uint16_t vid, uint16_t pid);

#endif
