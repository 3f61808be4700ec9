/*
 * openccid - strict, bounded reader for the two Info.plist keys the
 * driver uses (ifdLogLevel, ifdDriverOptions).
 *
 * Pure (L1): the caller reads the file (at most PLIST_MAX_SIZE bytes) and
 * passes the bytes. A key is found only as "<key>NAME</key>", followed by
 * optional whitespace and "<string>VALUE</string>"; VALUE is "0x" and 1..8
 * hex digits or 1..10 decimal digits fitting 32 bits. Anything else about
 * a key that is present (duplicate key, other element, bad value) is
 * OC_EINVAL: Info.plist is untrusted input.
 */
#ifndef OPENCCID_PLIST_H
#define OPENCCID_PLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PLIST_MAX_SIZE ((size_t)1 << 20) /* larger files are rejected */
#define PLIST_VALUE_MAX 32             /* characters between <string>s */

struct plist_config {
	bool has_log_level;
	unsigned log_level;       /* 0..0xff (log.h mask) */
	bool has_driver_options;
	uint32_t driver_options;
};

/*
 * Value of key as a number: OC_OK, OC_ENOTSUP when the key is absent,
 * OC_EINVAL when it is malformed. *out is written only on OC_OK.
 */
int plist_get_u32(const uint8_t *buf, size_t len, const char *key,
    uint32_t *out) __attribute__((warn_unused_result));

/* Both keys; absent keys leave has_* false. OC_EINVAL names no key. */
int plist_read_config(const uint8_t *buf, size_t len,
    struct plist_config *cfg) __attribute__((warn_unused_result));

/* "0x1F" or "31" into *out; OC_EINVAL otherwise (no sign, no spaces). */
int plist_parse_u32(const char *s, size_t len, uint32_t *out)
    __attribute__((warn_unused_result));

#endif
