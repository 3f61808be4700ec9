/*
 * openccid - the quirk table (quirks.c): set-up, conflict check, the
 * merged set for one device and its accessors. Types: quirks_types.h.
 */
#ifndef OPENCCID_QUIRKS_H
#define OPENCCID_QUIRKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "quirks/quirks_types.h"

void quirks_table_init(struct quirk_table *t);

/*
 * Entries from index first on that can match the same device and set the
 * same key to different values: OC_EINVAL with both places in err.
 */
int quirks_check_conflicts(const struct quirk_table *t, size_t first, char *err,
    size_t errlen) __attribute__((warn_unused_result));

/* Merge every entry matching the device (interface -1: unknown). */
void quirks_lookup(const struct quirk_table *t, uint16_t vid, uint16_t pid,
    uint16_t bcd, int interface, struct quirk_set *out);

bool quirks_has(const struct quirk_set *qs, enum quirk_key key);
/* Flags read false, and other types their default, when absent. */
bool quirks_flag(const struct quirk_set *qs, enum quirk_key key);
/* Value of a flag, u32 or enum key; false when absent. */
bool quirks_get_u32(
    const struct quirk_set *qs, enum quirk_key key, uint32_t *v);
/* Bytes of a hex-string key, pointing into the table; false when absent. */
bool quirks_get_bytes(const struct quirk_set *qs, enum quirk_key key,
    const uint8_t **p, size_t *n);
/* Numbers of a list key; false when absent or cap is too small. */
bool quirks_get_list(const struct quirk_set *qs, enum quirk_key key,
    uint32_t *out, size_t cap, size_t *n);

#endif
