/*
 * openccid-probe - the text decodes (probe_print.c).
 */
#ifndef OPENCCID_PROBE_PRINT_H
#define OPENCCID_PROBE_PRINT_H

#include <stddef.h>
#include <stdint.h>

#include "card/atr.h"
#include "codec/ccid_desc.h"

/* The text decode of a class descriptor (as "openccid-probe desc"). */
void probe_print_desc(const struct ccid_desc *d, unsigned warnings);

/* The decode of a parsed ATR, each line after prefix. */
void probe_print_atr_info(const struct atr_info *a, unsigned warnings,
    const char *prefix);

/* The decode of an ATR's bytes, each line after prefix. */
void probe_print_atr(const uint8_t *atr, size_t len, const char *prefix);

#endif
