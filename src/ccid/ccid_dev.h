/*
 * openccid - setting up and tearing down the command state of one CCID
 * device (ccid_dev.c): the buffers and locks, the slots and busy
 * credits (and with them the concurrent path, ccid_mux.c), the wall
 * time granted to time extensions, the device's removal.
 */
#ifndef OPENCCID_CCID_DEV_H
#define OPENCCID_CCID_DEV_H

#include <stddef.h>
#include <stdint.h>

#include "ccid/ccid_state.h"

void ccid_io_init(struct ccid_io *io, const struct transport *tr,
    size_t max_msg, enum ccid_level level, uint8_t *buf);
void ccid_io_fini(struct ccid_io *io);
/*
 * bMaxCCIDBusySlots (0, seen in the wild, counts as 1; never more than
 * nslots) for a reader of nslots slots; 2 or more allocates the per-slot
 * mailboxes of the concurrent mode (OC_ENOMEM). Before any I/O; once.
 */
int ccid_io_set_slots(struct ccid_io *io, unsigned nslots, unsigned max_busy)
    __attribute__((warn_unused_result));
/* Wall time granted to the time extensions of one command (ms > 0). */
void ccid_io_set_time_ext_cap(struct ccid_io *io, unsigned ms);
/* Device gone: commands fail with OC_ENODEV, waiters wake up. */
void ccid_io_mark_gone(struct ccid_io *io);

#endif
