/*
 * openccid - card exchanges on TPDU-level readers (CCID rev 1.1 section
 * 6.1.4): the driver runs T=1 (ISO/IEC 7816-3 section 11) and T=0
 * (section 10) itself, one XfrBlock per T=1 block or T=0 TPDU.
 *
 * struct tpdu_state (reader_state.h) lives in struct slot; it is cleared
 * with the slot at every power-up (slot_clear), filled by negotiate.c and
 * used here. Callers hold the reader lock.
 *
 * Waits: each XfrBlock's bulk-IN read waits the card's waiting time
 * (BWT x the S(WTX) multiplier for T=1, WWT for T=0) plus the time to
 * move the bytes at the negotiated baud rate plus a margin, and never
 * more than max_wait_ms (TPDU_MAX_WAIT_MS unless set). Time extensions
 * the reader sends on top are capped in ccid_cmd (time_ext_cap_ms).
 *
 * Character level (dwFeatures level 0) runs the same T=0/T=1 engines
 * with the character callbacks of xfr_char.c.
 */
#ifndef OPENCCID_XFR_TPDU_H
#define OPENCCID_XFR_TPDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "card/t1.h"

struct reader;

/*
 * One APDU on a TPDU-level reader, through T=0 or T=1 as negotiated;
 * OC_EPROTO on a slot not negotiated yet (slot.c negotiates first).
 */
int xfr_tpdu_transmit(struct reader *r, unsigned slot, const uint8_t *tx,
    size_t tx_len, uint8_t *rx, size_t cap, size_t *rx_len)
    __attribute__((warn_unused_result));

/* The T=1 block callback over XfrBlock for the slot in ctx. */
struct xfr_tpdu_ctx;
void xfr_tpdu_t1_io(struct xfr_tpdu_ctx *ctx, struct t1_xfer *io);

/*
 * One XfrBlock carrying tx (a PPS request, section 9.2), its answer in
 * rx, the bulk-IN read waiting at most timeout_ms.
 */
int xfr_tpdu_raw(struct reader *r, unsigned slot, const uint8_t *tx, size_t len,
    uint8_t *rx, size_t cap, size_t *got, unsigned timeout_ms)
    __attribute__((warn_unused_result));

#endif
