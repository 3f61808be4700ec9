/*
 * openccid - the reader and slot objects, types only.
 *
 * What every module of the reader layer reads and writes under the
 * reader's locks (reader.h says which), without the functions of any
 * one file: the exchange levels (xfr_tpdu.c, xfr_char.c), negotiation
 * (negotiate.c) and the slot's flow (slot.c) include this rather than
 * each other's headers, so that none depends on a file above it.
 */
#ifndef OPENCCID_READER_STATE_H
#define OPENCCID_READER_STATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "card/atr.h"
#include "card/pps.h"
#include "card/t1.h"
#include "ccid/ccid_cmd.h"
#include "codec/ccid_desc.h"
#include "reader/events.h"
#include "reader/quirks_glue.h"
#include "transport/transport.h"
#include "transport/usb.h"

#define TPDU_MAX_WAIT_MS   60000u /* default cap of one wait */
#define TPDU_WAIT_SLACK_MS 1000u  /* USB and reader overhead per exchange */


/*
 * TPDU and character level: the protocol negotiated and its timing.
 * Cleared with the slot at every power-up, filled by negotiate.c, used
 * by xfr_tpdu.c and xfr_char.c.
 */
struct tpdu_state {
	bool negotiated;   /* PPS/SetParameters done, protocol in force */
	unsigned protocol; /* T=0 or T=1 once negotiated */
	uint8_t fidi;      /* bmFindexDindex in force */
	uint16_t Fi;
	uint8_t Di;
	uint32_t clock_khz;
	uint32_t baud;
	struct pps_timeouts to;
	unsigned max_wait_ms; /* 0: TPDU_MAX_WAIT_MS */
	struct t1 t1;
	/* GET_CLOCK_FREQUENCIES / GET_DATA_RATES after filtering (kHz, bps) */
	uint32_t clocks[PPS_MAX_RATES];
	size_t nclocks;
	uint32_t rates[PPS_MAX_RATES];
	size_t nrates;
};

/* Per-slot state: the card's ATR and what was negotiated with it. */
struct slot {
	bool powered;
	uint8_t atr[ATR_MAX_LEN];
	size_t atr_len;
	bool atr_parsed;      /* atr_info valid */
	struct atr_info atr_info;
	unsigned protocol;    /* T=n selected (0 or 1) */
	struct tpdu_state tpdu; /* TPDU level: negotiate.c, xfr_tpdu.c */
};

/*
 * Quirk interfaces_exclusive: the exchange lock that the CCID interfaces
 * (readers) of one device share. Counted under the table lock; the
 * readers' io.group_lock points at lock.
 */
struct xchg_group {
	pthread_mutex_t lock;
	unsigned refs;
};

struct reader {
	unsigned users;         /* reader_get/hold() holders; table lock */
	bool closing;           /* table lock */
	unsigned opened_slots;  /* IFDHCreateChannel* per slot; table lock */
	bool slot_open[CCID_MAX_SLOTS]; /* table lock */
	struct usb_info info;   /* strings, ids, desc; immutable */
	struct ccid_io io;      /* io.gone: device removed, no more I/O */
	struct events ev;
	uint8_t *msg_buf;       /* dwMaxCCIDMessageLength bytes */
	unsigned nslots;        /* bMaxSlotIndex + 1; immutable */
	struct reader_quirks qk; /* quirk settings; immutable */
	struct xchg_group *group; /* interfaces_exclusive, else NULL */
	/* always_present: the last power-on of slot i failed; slot lock */
	bool poweron_failed[CCID_MAX_SLOTS];
	pthread_mutex_t slot_lock[CCID_MAX_SLOTS]; /* guards slots[i] */
	struct slot *slots;     /* nslots entries */
};

/* Context of the T=1 block callback over XfrBlock (xfr_tpdu.c,
 * xfr_char.c, negotiate.c, pinpad.c). */
struct xfr_tpdu_ctx {
	struct reader *r;
	unsigned slot;
};

#endif
