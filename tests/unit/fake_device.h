/*
 * openccid tests - a thread-safe fake CCID device for concurrent slots.
 *
 * Unlike fake_transport (one script, one thread), it answers whatever
 * arrives: XfrBlock with a DataBlock echoing the data, GetSlotStatus and
 * Abort with a SlotStatus. Each slot's reply becomes readable delay_ms
 * after its command, so replies of different slots come out of order.
 * It counts the commands on the wire (sent, reply not yet read) the way
 * a reader does, and answers CMD_SLOT_BUSY (counted as a violation)
 * to a second command for a busy slot or one beyond max_busy.
 */
#ifndef OPENCCID_TEST_FAKE_DEVICE_H
#define OPENCCID_TEST_FAKE_DEVICE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transport/transport.h"

#define FD_SLOTS 8
#define FD_QUEUE 64
#define FD_MSG 300
#define FD_NEVER 0xFFFFFFFFu /* delay_ms: the slot never answers */

struct fd_reply {
	uint8_t msg[FD_MSG];
	size_t len;
	uint64_t due_ms;
	uint8_t slot, seq;
	bool counted;  /* answers a command counted in flight */
};

struct fake_device {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned max_busy;                 /* bMaxCCIDBusySlots */
	unsigned delay_ms[FD_SLOTS];       /* per slot, FD_NEVER: mute */
	unsigned abort_delay_ms[FD_SLOTS]; /* the Abort's SlotStatus */
	struct fd_reply q[FD_QUEUE];
	size_t nq;
	bool busy[FD_SLOTS];               /* a counted command on the wire */
	uint8_t busy_seq[FD_SLOTS];
	unsigned in_flight, max_in_flight; /* counted commands on the wire */
	unsigned violations;               /* answered CMD_SLOT_BUSY */
	unsigned commands, aborts[FD_SLOTS], abort_cmds[FD_SLOTS];
	unsigned stale_read;               /* injected replies read */
	bool gone;                         /* every call: OC_ENODEV */
};

void fd_init(struct fake_device *fd, struct transport *tr, unsigned max_busy);
void fd_free(struct fake_device *fd);
/* A reply for nothing on the wire (slot, seq), readable at once. */
void fd_inject(struct fake_device *fd, uint8_t slot, uint8_t seq);
/* Unplug: pending and later calls fail with OC_ENODEV. */
void fd_unplug(struct fake_device *fd);
unsigned fd_max_in_flight(struct fake_device *fd);
unsigned fd_violations(struct fake_device *fd);

#endif
