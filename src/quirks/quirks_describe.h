/*
 * openccid - a device's quirk set as text (quirks_describe.c).
 */
#ifndef OPENCCID_QUIRKS_DESCRIBE_H
#define OPENCCID_QUIRKS_DESCRIBE_H

#include <stddef.h>

#include "quirks/quirks_types.h"

/*
 * One line per key in qs: "matched <file>:<line>: key[=value]\n",
 * truncated to fit (always NUL-terminated when len > 0). Returns the
 * number of keys described.
 */
size_t quirks_describe(const struct quirk_set *qs, char *buf, size_t len);

#endif
