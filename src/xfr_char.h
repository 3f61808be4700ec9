/*
 * openccid - card exchanges on character-level readers (dwFeatures
 * exchange level 0, CCID rev 1.1 sections 3.2.1 and 6.1.4): the reader
 * moves characters only. Each XfrBlock carries the characters to send
 * and, in wLevelParameter, how many characters the reader must collect
 * from the card before it answers.
 *
 * T=0 (ISO/IEC 7816-3 section 10.3.3): the host runs the procedure
 * bytes. The header goes out alone, one procedure byte expected; NULL
 * (60) asks for another wait, INS acknowledges all remaining data bytes,
 * INS ^ FF one byte, 6x/9x is SW1 and SW2 follows. The TPDUs come from
 * the T=0 codec (t0.c) as on TPDU readers.
 *
 * T=1 (section 11): one block in two steps, the prologue (3 characters,
 * within BWT) and then LEN + EDC characters. The blocks come from the
 * T=1 engine (t1.c) as on TPDU readers.
 *
 * PPS, SetParameters and IFSD are negotiated as on TPDU readers
 * (negotiate.c). Layer L3; callers hold the reader lock.
 */
#ifndef OPENCCID_XFR_CHAR_H
#define OPENCCID_XFR_CHAR_H

#include <stddef.h>
#include <stdint.h>

/* NULL procedure bytes (each one a new WWT) accepted in one TPDU. */
#define XFR_CHAR_MAX_NULL 1000

/*
 * One character exchange: send tx (may be empty), collect exactly
 * expect characters into rx. Returns 0 or a negative OC_E* code.
 */
struct xfr_char_io {
	int (*xchg)(void *ctx, const uint8_t *tx, size_t tx_len, uint8_t *rx,
	    size_t expect);
	void *ctx;
};

/*
 * ISO 7816-3 section 10.3.3: one T=0 TPDU (CLA INS P1 P2 P3 [data]) over
 * characters; resp gets the response data and SW1 SW2. OC_EPROTO on a
 * procedure byte conflict or more NULLs than XFR_CHAR_MAX_NULL,
 * OC_ENOSPC when the data does not fit cap, OC_EINVAL for a bad TPDU.
 * Pure: exposed for the unit tests.
 */
int xfr_char_t0_run(const struct xfr_char_io *io, const uint8_t *tpdu,
    size_t len, uint8_t *resp, size_t cap, size_t *got)
    __attribute__((warn_unused_result));

/* The T=0 TPDU callback of t0_transceive() and the T=1 block callback of
 * t1_transceive() on a character-level reader; ctx is a struct
 * xfr_tpdu_ctx. */
int xfr_char_t0_tpdu(void *ctx, const uint8_t *tpdu, size_t len, uint8_t *resp,
    size_t cap, size_t *got) __attribute__((warn_unused_result));
int xfr_char_t1_block(void *ctx, const uint8_t *block, size_t len,
    uint8_t *reply, size_t cap, size_t *got, unsigned bwt_multiplier)
    __attribute__((warn_unused_result));

#endif
