/*
 * openccid - internal to the CCID command code: commands to several
 * slots of one reader on the wire together (bMaxCCIDBusySlots >= 2); a
 * command runs begin, exchange (or abort), end, as on the one-at-a-time
 * path (ccid_serial.h). Created and woken by ccid_dev.c.
 *
 * Locks: the exchanges take xfer_lock (bulk-OUT) and mux->lock one after
 * the other, never both at once; only ccid_io_set_time_ext_cap() holds
 * both, xfer_lock first. No bulk transfer runs under mux->lock.
 */
#ifndef OPENCCID_CCID_MUX_H
#define OPENCCID_CCID_MUX_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ccid/ccid_io.h"
#include "codec/ccid_desc.h"
#include "codec/ccid_msg.h"

/* One slot's command on the wire and the reply routed to it. */
struct ccid_mbox {
	uint8_t *buf;      /* max_msg bytes: the routed reply */
	size_t len;        /* != 0: a reply is waiting for its owner */
	bool inflight;     /* a command of this slot is on the wire */
	bool accept;       /* routing into buf allowed (owner not reading it) */
	bool waiting;      /* the owner sleeps on cond (not the token holder) */
	uint8_t seq;       /* bSeq of that command */
	pthread_cond_t cond; /* its reply, or the token, for the owner */
};

struct ccid_mux {
	pthread_mutex_t lock;   /* guards all below, io->seq, time_ext_cap_ms */
	pthread_cond_t credit;  /* a slot or a busy credit came free */
	uint8_t *rbuf;          /* max_msg bytes: the token holder's read */
	bool token;             /* a thread is reading bulk-IN */
	unsigned busy;          /* slots in flight, at most io->max_busy */
	unsigned nslots;
	struct ccid_mbox mb[CCID_MAX_SLOTS];
};

int ccid_mux_new(struct ccid_io *io, unsigned nslots);
void ccid_mux_free(struct ccid_io *io);
/* Concurrent mode in use (not with interfaces_exclusive or the ZLP
 * quirk, whose semantics need the whole pipe). */
bool ccid_mux_active(const struct ccid_io *io);
/* Device gone: every waiter wakes up and fails. */
void ccid_mux_wake(struct ccid_io *io);
/*
 * Wait (unbounded, like the busy credits: others' exchanges are bounded)
 * until c->slot has no command on the wire and a busy credit is free,
 * then own the slot: c->seq is set. OC_ENODEV, OC_EINVAL (bad slot).
 */
int ccid_mux_begin(struct ccid_io *io, struct ccid_cmd *c);
/*
 * Send c and wait for its reply (r->data points into the slot's mailbox,
 * valid until ccid_mux_end()). On timeout the slot's command is aborted.
 */
int ccid_mux_exchange(struct ccid_io *io, const struct ccid_cmd *c,
    const struct ccid_expect *q, struct ccid_reply *r);
/* Class ABORT + PC_to_RDR_Abort for an owned slot (section 5.3.1). */
int ccid_mux_abort(struct ccid_io *io, uint8_t slot);
void ccid_mux_end(struct ccid_io *io, uint8_t slot);

#endif
