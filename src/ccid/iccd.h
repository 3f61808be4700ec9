/*
 * openccid - the ICCD exchange path (USB ICCD rev 1.0, versions A and
 * B): the CCID commands of ccid_cmd.h carried as class requests on the
 * control pipe, for tokens without bulk endpoints.
 *
 * ccid_cmd.c runs a command on this path (io->exchange, set by
 * iccd_attach()) instead of the bulk one; the answer is turned into the reply the bulk reader
 * would have sent (RDR_to_PC_DataBlock or SlotStatus, bChainParameter
 * from bResponseType), so slot, protocol and IFDH code do not know
 * which path carries them. Every loop is bounded: time requests (0x80)
 * by the io's time-extension grant in wall time, busy statuses (version
 * A) the same way, chains by the order of their pieces (checked here)
 * and their count (slot.c).
 */
#ifndef OPENCCID_ICCD_H
#define OPENCCID_ICCD_H

#include <stddef.h>
#include <stdint.h>

#include "ccid/ccid_cmd.h"
#include "ccid/ccid_io.h"
#include "ccid/iccd_wire.h"

/* Default of the quirk iccd_max_transfer (reference rule R14). */
#define ICCD_MAX_TRANSFER 0x1000u

/*
 * Carry io's commands on the control pipe (version 1: A, 2: B). max_xfer
 * 0 takes ICCD_MAX_TRANSFER; it is at least 3 (a status answer) and at
 * most 0xFFFF (wLength). name names the reader in log lines. Before any
 * I/O; OC_ENOMEM, OC_EINVAL.
 */
int iccd_attach(struct ccid_io *io, uint8_t version, size_t max_xfer,
    const char *name) __attribute__((warn_unused_result));
/* Before ccid_io_fini(). */
void iccd_detach(struct ccid_io *io);

/*
 * One command, with the exchange lock held (ccid_serial_begin()): the
 * reply's data points into io->iccd->rx until the next command.
 * OC_ENOTSUP for a command ICCD has no request for (SetParameters,
 * Escape, Secure, ...).
 */
int iccd_exchange(struct ccid_io *io, struct ccid_cmd *c,
    const struct ccid_expect *q, struct ccid_reply *r);

#endif
