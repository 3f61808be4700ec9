/*
 * openccid - one function per CCID bulk command (CCID rev 1.1 section 6).
 *
 * Each ccid_run_*() encodes the command, sends it, then reads replies:
 * zero-length packets are skipped, stale replies (another bSeq) dropped
 * (bounded), time-extension replies (bmCommandStatus 2, section 6.2.6)
 * waited out up to a total cap, and the matching reply is decoded against
 * dwMaxCCIDMessageLength and its bError mapped to an OC_E* code. After a
 * timeout the command is aborted (section 5.3.1) so the next one works.
 * Readers with bMaxCCIDBusySlots >= 2 have commands to several slots on
 * the wire together (struct ccid_io in ccid_state.h, ccid_mux.c); the
 * others one exchange at a time (ccid_serial.c). ccid_io.c holds the
 * wire both share, ccid_dev.c sets the state up.
 * The names avoid the ccid_cmd_* encoders of ccid_msg.h.
 */
#ifndef OPENCCID_CCID_CMD_H
#define OPENCCID_CCID_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ccid/ccid_dev.h"
#include "ccid/ccid_io.h"
#include "ccid/ccid_state.h"

/* The ATR is copied into atr (OC_ENOSPC when longer than cap). */
int ccid_run_power_on(struct ccid_io *io, uint8_t slot, uint8_t bPowerSelect,
    uint8_t *atr, size_t cap, size_t *atr_len, struct ccid_status *st)
    __attribute__((warn_unused_result));
int ccid_run_power_off(struct ccid_io *io, uint8_t slot,
    struct ccid_status *st);
/* Succeeds on any decoded SlotStatus, failed or not: read st->bStatus. */
int ccid_run_slot_status(struct ccid_io *io, uint8_t slot,
    struct ccid_status *st) __attribute__((warn_unused_result));
/* The same for presence polling: COMM dumps only with PERIODIC. */
int ccid_run_slot_status_quiet(struct ccid_io *io, uint8_t slot,
    struct ccid_status *st) __attribute__((warn_unused_result));
/*
 * rx may be NULL to discard the data (draining a chain after an error).
 * st->specific is the bChainParameter (section 6.2.1).
 */
int ccid_run_xfr_block(struct ccid_io *io, uint8_t slot, uint8_t bBWI,
    uint16_t wLevelParameter, const uint8_t *tx, size_t tx_len, uint8_t *rx,
    size_t cap, size_t *rx_len, struct ccid_status *st)
    __attribute__((warn_unused_result));
/* The same whose reads wait timeout_ms (0: io->timeout_ms). */
int ccid_run_xfr_block_timed(struct ccid_io *io, uint8_t slot, uint8_t bBWI,
    uint16_t wLevelParameter, const uint8_t *tx, size_t tx_len, uint8_t *rx,
    size_t cap, size_t *rx_len, unsigned timeout_ms, struct ccid_status *st)
    __attribute__((warn_unused_result));
int ccid_run_set_parameters(struct ccid_io *io, uint8_t slot,
    uint8_t bProtocolNum, const uint8_t *params, size_t len,
    struct ccid_status *st) __attribute__((warn_unused_result));
/* abProtocolDataStructure into out; st->specific is bProtocolNum. */
int ccid_run_get_parameters(struct ccid_io *io, uint8_t slot, uint8_t *out,
    size_t cap, size_t *out_len, struct ccid_status *st)
    __attribute__((warn_unused_result));
int ccid_run_escape(struct ccid_io *io, uint8_t slot, const uint8_t *tx,
    size_t tx_len, uint8_t *rx, size_t cap, size_t *rx_len,
    struct ccid_status *st) __attribute__((warn_unused_result));
/*
 * PC_to_RDR_Secure (section 6.1.11): the reader asks for the PIN, so the
 * read waits timeout_ms. A failed reply leaves bError in st (0xF0 PIN
 * timeout, 0xEF cancelled) for the caller to map.
 */
int ccid_run_secure(struct ccid_io *io, uint8_t slot, const uint8_t *tx,
    size_t tx_len, unsigned timeout_ms, uint8_t *rx, size_t cap,
    size_t *rx_len, struct ccid_status *st)
    __attribute__((warn_unused_result));
/* CCID section 5.3.1: class request ABORT then PC_to_RDR_Abort, drained. */
int ccid_run_abort(struct ccid_io *io, uint8_t slot);

/* OC_E* for a failed reply (bmCommandStatus 1), 0 otherwise. */
int ccid_status_to_err(const struct ccid_status *st);

#endif
