/*
 * openccid - ISO/IEC 7816-3:2006 section 10.3.3, T=0 procedure bytes on
 * the host (character-level readers, CCID exchange level 0).
 *
 * Pure engine (layer L1). The header goes out alone with one procedure
 * byte expected; NULL (60) means another wait, INS acknowledges all the
 * remaining data bytes, INS ^ FF the next one, 6x/9x is SW1 and SW2
 * follows. The callback moves characters:
 *   xchg(ctx, tx, tx_len, rx, expect) -> 0 with exactly expect
 *   characters in rx (tx may be empty), or a negative OC_E* code,
 *   returned as is.
 */
#ifndef OPENCCID_T0_CHAR_H
#define OPENCCID_T0_CHAR_H

#include <stddef.h>
#include <stdint.h>

/* NULL procedure bytes (each one a new WWT) accepted in one TPDU. */
#define T0_CHAR_MAX_NULL 1000

struct t0_char_io {
	int (*xchg)(void *ctx, const uint8_t *tx, size_t tx_len, uint8_t *rx,
	    size_t expect);
	void *ctx;
};

/*
 * One TPDU (CLA INS P1 P2 P3 [data]); resp gets the response data and
 * SW1 SW2. OC_EPROTO on a procedure byte conflict or more than
 * T0_CHAR_MAX_NULL NULLs, OC_ENOSPC when the data does not fit cap,
 * OC_EINVAL for a malformed TPDU (P3 not the data length).
 */
int t0_char_run(const struct t0_char_io *io, const uint8_t *tpdu, size_t len,
    uint8_t *resp, size_t cap, size_t *got)
    __attribute__((warn_unused_result));

#endif
