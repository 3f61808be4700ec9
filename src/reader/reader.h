/*
 * openccid - the reader object and the reader table.
 *
 * The table (indexed by Lun >> 16) is the driver's only global mutable
 * state: a mutex guards the table. A multi-slot reader is one entry: each
 * slot is opened and closed by its own IFDHCreateChannel and IFDHCloseChannel
 * (Lun & 0xffff = slot), in any order, and the device goes when the last
 * slot closes. A mutex per slot guards that slot's state; the command
 * pipe has its own exchange lock (ccid_io), the interrupt pipe its own
 * (events). reader_get() returns the reader with the slot locked, to be
 * given back with reader_put(); reader_hold() takes no slot lock (polling,
 * removal). A closing reader waits for every user.
 */
#ifndef OPENCCID_READER_H
#define OPENCCID_READER_H

#include <stdbool.h>
#include <stdint.h>

#include "reader/reader_state.h"
#include "reader/slot.h"
#include "transport/transport.h"
#include "transport/usb.h"

#define READER_MAX 64 /* table size: Lun >> 16 must be below this */

/*
 * Create the reader for Lun from an opened transport (usb_open() or a
 * test's fake) and talk to it once. The transport is closed on failure.
 * Opening another slot of an existing reader only counts it. The
 * reader's quirks (quirks_glue.h) are looked up here: a blacklisted
 * firmware is refused (OC_ENOTSUP) unless driver_options (Info.plist
 * ifdDriverOptions) has QUIRKS_OPT_OLD_FIRMWARE.
 */
int reader_open_with_transport(unsigned long lun, const struct transport *tr,
    const struct usb_info *info, uint32_t driver_options)
    __attribute__((warn_unused_result));
/*
 * The quirk table, built at the first call: built-in files, then
 * quirks_glue_dir(). It lives as long as the process (the readers'
 * quirk sets point into it).
 */
const struct quirk_table *reader_quirks(void);
/* Tests: rebuild the table now from dir (NULL: built-in only); OC_EBUSY
 * while a reader is open. */
int reader_quirks_reload(const char *dir)
    __attribute__((warn_unused_result));
/* Attach slot Lun & 0xffff to the open reader Lun >> 16 (once). */
int reader_open_slot(unsigned long lun) __attribute__((warn_unused_result));
void reader_close(unsigned long lun);
/* usb_in_use_fn: is bus/addr/interface already in the table? */
bool reader_usb_in_use(void *arg, uint8_t bus, uint8_t addr,
    uint8_t interface);
/* usb_discovery_fn: the discovery quirks of one interface. */
void reader_usb_discovery(void *arg, uint16_t vid, uint16_t pid,
    uint16_t bcdDevice, uint8_t interface, struct usb_discovery *out);
/* Both, for usb_open(). */
extern const struct usb_hooks reader_usb_hooks;

/* Reader for Lun with its slot locked, or NULL (bad Lun, not open). */
struct reader *reader_get(unsigned long lun);
void reader_put(struct reader *r, unsigned long lun);
/* Reader for Lun, no lock taken (polling, removal); or NULL. */
struct reader *reader_hold(unsigned long lun);
void reader_release(struct reader *r);
/* The device is gone: fail pending and future I/O, end the polls. */
void reader_mark_gone(struct reader *r);
unsigned reader_slot_of(unsigned long lun);
/* Wall time granted to time extensions per command (0: leave as is). */
void reader_set_time_ext_max(unsigned long lun, unsigned ms);

#endif
