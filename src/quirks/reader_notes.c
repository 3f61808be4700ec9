/*
 * openccid - the notes of the shipped reader list (see reader_notes.h).
 */
#include "config.h"

#include "quirks/reader_notes.h"

const char *
reader_note_find(uint16_t vid, uint16_t pid)
{
	/* A few dozen rows, looked up once per open: a plain scan. */
	for (size_t i = 0; i < reader_notes_count; i++)
		if (reader_notes[i].vid == vid && reader_notes[i].pid == pid)
			return reader_notes[i].note;
	return NULL;
}
