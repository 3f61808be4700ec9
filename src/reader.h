/*
 * openccid - the reader object and the reader table.
 *
 * The table (indexed by Lun >> 16) is the driver's only global mutable
 * state: a mutex guards the table, a mutex per reader guards its I/O and
 * slot state. reader_get() returns a locked reader that must be given
 * back with reader_put(); a closing reader waits for every user.
 */
#ifndef OPENCCID_READER_H
#define OPENCCID_READER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ccid_cmd.h"
#include "ccid_desc.h"
#include "slot.h"
#include "transport.h"
#include "usb.h"

#define READER_MAX 64 /* table size: Lun >> 16 must be below this */

struct reader {
	pthread_mutex_t lock;   /* guards the fields not marked otherwise */
	unsigned users;         /* reader_get() holders; table lock */
	bool closing;           /* table lock */
	unsigned opened_slots;  /* IFDHCreateChannel* per slot; table lock */
	bool gone;              /* device removed: no more I/O */
	struct usb_info info;   /* strings, ids, desc */
	struct ccid_io io;
	uint8_t *msg_buf;       /* dwMaxCCIDMessageLength bytes */
	unsigned nslots;        /* bMaxSlotIndex + 1 */
	struct slot *slots;     /* nslots entries */
};

/*
 * Create the reader for Lun from an opened transport (usb_open() or a
 * test's fake) and talk to it once. The transport is closed on failure.
 * Opening another slot of an existing reader only counts it.
 */
int reader_open_with_transport(unsigned long lun, const struct transport *tr,
    const struct usb_info *info) __attribute__((warn_unused_result));
/* True if Lun's reader exists (for a later slot of a multi-slot reader). */
bool reader_exists(unsigned long lun);
/* Count another slot opened on an existing reader. */
int reader_open_slot(unsigned long lun) __attribute__((warn_unused_result));
void reader_close(unsigned long lun);
/* usb_in_use_fn: is bus/addr/interface already in the table? */
bool reader_usb_in_use(void *arg, uint8_t bus, uint8_t addr,
    uint8_t interface);

/* Locked reader for Lun, or NULL (bad Lun, not open). */
struct reader *reader_get(unsigned long lun);
void reader_put(struct reader *r);
unsigned reader_slot_of(unsigned long lun);

#endif
