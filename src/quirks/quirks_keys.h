/*
 * openccid - the quirk key definitions (quirks_keys.c); the table is
 * private to src/quirks/quirks*.c, the key names and types are for all.
 *
 * The parser (quirks_parse.c) checks values against them, the table
 * accessors (quirks.c) check the type a caller asks for, and the
 * description (quirks_describe.c) prints values the way they were written;
 * one table keeps the three in agreement.
 */
#ifndef OPENCCID_QUIRKS_KEYS_H
#define OPENCCID_QUIRKS_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "quirks/quirks_types.h"

struct quirk_key_def {
	const char *name;
	enum quirk_type type;
	bool hex; /* print as 0x%04x */
	uint32_t min, max;
};

/* Names of the force_level values, indexed by enum quirk_level. */
#define QUIRK_LEVEL_COUNT ((size_t)QUIRK_LEVEL_EXTENDED_APDU + 1)
extern const char *const quirk_level_names[QUIRK_LEVEL_COUNT];

/* Indexed by enum quirk_key. */
extern const struct quirk_key_def quirk_keys[QUIRK_KEY_COUNT];

const char *quirks_key_name(enum quirk_key key);
enum quirk_type quirks_key_type(enum quirk_key key);

/*
 * Byte strings and lists do not fit a uint32_t: their setting holds
 * "pool offset << 8 | length" into the table's pool instead.
 */
static inline bool
quirk_key_in_pool(enum quirk_key k)
{
	return quirk_keys[k].type == QUIRK_T_BYTES ||
	       quirk_keys[k].type == QUIRK_T_LIST;
}

static inline const uint8_t *
quirk_pool_at(const struct quirk_table *t, uint32_t value)
{
	return t->pool + (value >> 8);
}

static inline size_t
quirk_pool_len(uint32_t value)
{
	return value & 0xffu;
}

#endif
