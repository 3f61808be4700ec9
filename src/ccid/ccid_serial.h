/*
 * openccid - one CCID exchange at a time (ccid_serial.c): readers with
 * bMaxCCIDBusySlots <= 1, or whose quirks need the whole pipe; a command
 * runs begin, exchange (or abort), end. Readers that take commands to
 * several slots at once use ccid_mux.h instead.
 */
#ifndef OPENCCID_CCID_SERIAL_H
#define OPENCCID_CCID_SERIAL_H

#include <stdint.h>

#include "ccid/ccid_io.h"

/* A busy-slot credit, then the exchange lock; OC_ENODEV
 * when the device is gone. */
int ccid_serial_begin(struct ccid_io *io);
/*
 * Send c (its bSeq is set here) and wait for its reply: r->data points
 * into io->buf, valid until ccid_serial_end(). On timeout the command
 * is aborted.
 */
int ccid_serial_exchange(struct ccid_io *io, struct ccid_cmd *c,
    const struct ccid_expect *q, struct ccid_reply *r);
/* Class ABORT + PC_to_RDR_Abort, drained (section 5.3.1). */
int ccid_serial_abort(struct ccid_io *io, uint8_t slot);
void ccid_serial_end(struct ccid_io *io);

#endif
