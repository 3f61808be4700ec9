/*
 * openccid - internal to the CCID command code: what ccid_io.c (the
 * wire), ccid_serial.c (one command at a time), ccid_mux.c (several
 * slots at once) and ccid_cmd.c (the commands) share. The public API is
 * ccid_cmd.h.
 *
 * A command runs begin, exchange (or abort), end on one of the two
 * paths: ccid_serial_* below, or ccid_mux_* (ccid_mux.h) when the reader
 * takes commands to several slots at once (bMaxCCIDBusySlots >= 2).
 */
#ifndef OPENCCID_CCID_EXCHANGE_H
#define OPENCCID_CCID_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ccid/ccid_cmd.h"
#include "codec/ccid_msg.h"

/* The class request ABORT, and the wait for the Abort's SlotStatus. */
#define CCID_ABORT_TIMEOUT_MS 1000

/* What an exchange waits for. */
struct ccid_expect {
	uint8_t type;        /* RDR_to_PC_* */
	unsigned timeout_ms; /* one read; extended by time extensions */
	unsigned ext_cap_ms; /* 0: io->time_ext_cap_ms */
	bool quiet;          /* presence polling: see ccid_io_dump() */
};

/* ccid_io.c. ccid_io_send(): encode into io->buf and write; the caller
 * holds xfer_lock. */
int ccid_io_send(struct ccid_io *io, const struct ccid_cmd *c, bool quiet);
/* One message from bulk-IN into buf (max_msg bytes); *len its size. */
int ccid_io_read(struct ccid_io *io, uint8_t *buf, unsigned timeout_ms,
    struct ccid_reply *r, size_t *len);
void ccid_io_dump(const struct ccid_io *io, bool quiet, const char *dir,
    const uint8_t *msg, size_t len);
/* The class request ABORT (section 5.3.1); OC_ENODEV or OC_OK. */
int ccid_io_abort_request(struct ccid_io *io, uint8_t slot, uint8_t seq);
uint64_t ccid_io_now(const struct ccid_io *io);

/* ccid_serial.c. A busy-slot credit, then the exchange lock; OC_ENODEV
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
