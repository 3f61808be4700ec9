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
 * the wire together (struct ccid_io below, ccid_mux.c); the others one
 * exchange at a time (ccid_serial.c). ccid_io.c holds the wire both share.
 * The names avoid the ccid_cmd_* encoders of ccid_msg.h.
 */
#ifndef OPENCCID_CCID_CMD_H
#define OPENCCID_CCID_CMD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/ccid_desc.h"
#include "transport/transport.h"

#define CCID_WRITE_TIMEOUT_MS 5000
#define CCID_READ_TIMEOUT_MS 3000
/* Wall time granted to time extensions of one command (settable, see
 * README: OPENCCID_TIME_EXT_MAX_MS). */
#define CCID_TIME_EXT_CAP_MS 60000
#define CCID_MAX_STALE 10          /* replies with another bSeq dropped */
#define CCID_MAX_ZLP 10            /* zero-length packets skipped */

struct ccid_mux;
struct iccd;
struct ccid_cmd;
struct ccid_expect;
struct ccid_reply;

/*
 * Per-device command state, shared by the slots of a multi-slot reader.
 *
 * One at a time (bMaxCCIDBusySlots <= 1, the quirk interfaces_exclusive
 * or zlp_before_write): every ccid_run_*() takes one of max_busy "busy
 * slot" credits (bMaxCCIDBusySlots, CCID rev 1.1 section 5.1), then holds
 * xfer_lock for one whole command/reply exchange, so replies are read by
 * the thread that sent the command and checked against its bSeq/bSlot.
 *
 * Concurrent (bMaxCCIDBusySlots >= 2, see ccid_mux.c): commands to
 * different slots are on the wire together, at most one per slot
 * (section 6.2.6: a second one would get CMD_SLOT_BUSY) and at most
 * max_busy in all (commands wait for a credit). xfer_lock then guards
 * only encoding into buf and the bulk-OUT write. Among the threads that
 * wait for a reply, one at a time (the "reader token") reads bulk-IN and
 * routes each reply by (bSlot, bSeq) into that slot's mailbox, waking its
 * owner; a reply that matches no command on the wire is stale and
 * dropped. A timeout aborts only its own slot.
 */
struct ccid_io {
	struct transport tr;
	size_t max_msg;          /* dwMaxCCIDMessageLength (header included) */
	enum ccid_level level;   /* for log redaction */
	uint8_t seq;             /* bSeq of the next command */
	unsigned timeout_ms;     /* one bulk-IN read; set before any I/O */
	unsigned poweron_timeout_ms; /* PowerOn reads; 0: timeout_ms */
	unsigned escape_timeout_ms;  /* Escape reads; 0: timeout_ms */
	bool zlp_before_write;   /* quirk: read a ZLP (10 ms) before a write */
	bool set_param_err_ok;   /* quirk: SetParameters bError 1..127 is OK */
	/* Wall time past the first extension; ccid_io_set_time_ext_cap(). */
	unsigned time_ext_cap_ms;
	/* Monotonic milliseconds; NULL: CLOCK_MONOTONIC (tests set one). */
	uint64_t (*now_ms)(void);
	bool quiet;              /* presence polling: COMM dumps need PERIODIC */
	/*
	 * Bit s set: bulk-OUT messages to slot s are logged header only.
	 * Set by slot_transmit() for the whole exchange of a PIN command,
	 * whose data may leave in pieces redact.h cannot see (T=0 data at
	 * character level, chained T=1 blocks, CCID command chaining).
	 */
	atomic_uint hide_out_slots;
	uint8_t *buf;            /* max_msg bytes, owned by the caller */
	/* One at a time: guards seq, quiet, buf, the pipes. Concurrent:
	 * guards buf and the bulk-OUT write. */
	pthread_mutex_t xfer_lock;
	/*
	 * Quirk interfaces_exclusive: one lock shared by every CCID
	 * interface of the device (NULL otherwise), taken after xfer_lock
	 * for each exchange, so the interfaces never exchange at once.
	 * Such interfaces run one at a time (whole exchanges).
	 */
	pthread_mutex_t *group_lock;
	pthread_mutex_t busy_lock; /* guards busy */
	pthread_cond_t busy_cond;
	unsigned busy, max_busy;
	atomic_bool gone;        /* device removed: fail at once */
	struct ccid_mux *mux;    /* concurrent slots; NULL: one at a time */
	/*
	 * Another exchange path than bulk CCID, for every command (NULL:
	 * bulk): an ICCD token's control pipe (iccd.h sets it, and iccd
	 * its state). Run with the one-at-a-time lock held.
	 */
	int (*exchange)(struct ccid_io *io, struct ccid_cmd *c,
	    const struct ccid_expect *q, struct ccid_reply *r);
	struct iccd *iccd;
};

/* bStatus, bError and the message-specific byte of the matching reply. */
struct ccid_status {
	uint8_t bStatus;
	uint8_t bError;
	uint8_t specific; /* bChainParameter / bClockStatus / bProtocolNum */
};

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
bool ccid_io_is_gone(struct ccid_io *io);
/* Log bulk-OUT messages to slot header only (hide) or as usual. */
void ccid_io_hide_out_payload(struct ccid_io *io, uint8_t slot, bool hide);

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
