/*
 * openccid - how long one exchange at TPDU or character level may wait
 * for the card: its waiting time, plus the bytes at the negotiated rate,
 * plus a margin for USB and the reader (xfr_tpdu.c, xfr_char.c).
 */
#ifndef OPENCCID_XFR_WAIT_H
#define OPENCCID_XFR_WAIT_H

#include <stddef.h>
#include <stdint.h>

/* Bound of one wait: base + bytes at baud (12 etu a character) + slack,
 * at most max_ms (0: TPDU_MAX_WAIT_MS). */
unsigned xfr_wait_ms(
    uint64_t base_ms, size_t bytes, uint32_t baud, unsigned max_ms);

#endif
