/*
 * openccid - card exchanges on character-level readers (dwFeatures
 * exchange level 0, CCID rev 1.1 sections 3.2.1 and 6.1.4): the reader
 * moves characters only. Each XfrBlock carries the characters to send
 * and, in wLevelParameter, how many characters the reader must collect
 * from the card before it answers.
 *
 * T=0 (ISO/IEC 7816-3 section 10.3.3): the host runs the procedure
 * bytes (t0_char.c). The TPDUs come from the T=0 codec (t0.c) as on
 * TPDU readers.
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

/* The T=0 TPDU callback of t0_transceive() and the T=1 block callback of
 * t1_transceive() on a character-level reader; ctx is a struct
 * xfr_tpdu_ctx. */
int xfr_char_t0_tpdu(void *ctx, const uint8_t *tpdu, size_t len, uint8_t *resp,
    size_t cap, size_t *got) __attribute__((warn_unused_result));
int xfr_char_t1_block(void *ctx, const uint8_t *block, size_t len,
    uint8_t *reply, size_t cap, size_t *got, unsigned bwt_multiplier)
    __attribute__((warn_unused_result));

#endif
