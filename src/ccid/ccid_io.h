/*
 * openccid - the wire of one CCID device (ccid_io.c): one message out,
 * one message in, the class request ABORT, message logging, the clock
 * the exchanges measure time extensions with, and the device's gone
 * flag. ccid_io_send/read/dump/abort_request are for the exchange paths
 * (ccid_serial.c, ccid_mux.c); the commands are ccid_cmd.h.
 */
#ifndef OPENCCID_CCID_IO_H
#define OPENCCID_CCID_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ccid/ccid_state.h"
#include "codec/ccid_msg.h"

/* ccid_io_send(): encode into io->buf and write; the caller
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

bool ccid_io_is_gone(struct ccid_io *io);
/*
 * The device is gone: the wire fails at once and the credit waiters of
 * the one-at-a-time path wake up. ccid_io_mark_gone() (ccid_dev.h) also
 * wakes the concurrent path.
 */
void ccid_io_set_gone(struct ccid_io *io);
/* Log bulk-OUT messages to slot header only (hide) or as usual. */
void ccid_io_hide_out_payload(struct ccid_io *io, uint8_t slot, bool hide);
/* The same for bulk-IN messages from slot. */
void ccid_io_hide_in_payload(struct ccid_io *io, uint8_t slot, bool hide);
/* explicit_bzero() the message buffer (under the exchange lock). */
void ccid_io_wipe(struct ccid_io *io);

#endif
