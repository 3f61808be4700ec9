/*
 * openccid - the per-device CCID command state and a command's status,
 * types only: what the wire (ccid_io.c), the two exchange paths
 * (ccid_serial.c, ccid_mux.c), their set-up (ccid_dev.c) and the
 * commands (ccid_cmd.c) share without depending on each other's
 * functions.
 */
#ifndef OPENCCID_CCID_STATE_H
#define OPENCCID_CCID_STATE_H

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
struct ccid_reply;
struct ccid_expect;

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
	 * Bit s set: bulk-OUT messages to slot s are logged header only,
	 * and io->buf is wiped once one has gone out. Set by
	 * src/reader/secret.c for the whole exchange of a command whose
	 * data is secret (redact.h), which may leave in pieces no single
	 * message shows as secret (T=0 data at character level, chained
	 * T=1 blocks, CCID command chaining). hide_in_slots: the same for
	 * bulk-IN messages of a command whose answer is secret.
	 */
	atomic_uint hide_out_slots;
	atomic_uint hide_in_slots;
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
	/* A Parameters reply's dwLength was off: logged once per reader. */
	atomic_bool param_len_logged;
	char name[12];           /* "vvvv:pppp" for log lines; may be "" */
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

/* The class request ABORT, and the wait for the Abort's SlotStatus. */
#define CCID_ABORT_TIMEOUT_MS 1000

/* What an exchange waits for. */
struct ccid_expect {
	uint8_t type;        /* RDR_to_PC_* */
	unsigned timeout_ms; /* one read; extended by time extensions */
	unsigned ext_cap_ms; /* 0: io->time_ext_cap_ms */
	bool quiet;          /* presence polling: see ccid_io_dump() */
};

#endif
