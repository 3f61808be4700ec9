/*
 * openccid - card events from the interrupt-IN endpoint (L3).
 *
 * RDR_to_PC_NotifySlotChange and RDR_to_PC_HardwareError (CCID rev 1.1
 * section 6.3) wake the pcscd polling thread of the slot they concern.
 * The slots of one reader share one interrupt pipe: whichever poller
 * finds it free reads it (one transfer pending at a time) and files what
 * it reads for every slot; the others wait on a condition variable.
 */
#ifndef OPENCCID_EVENTS_H
#define OPENCCID_EVENTS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/ccid_desc.h"
#include "transport/transport.h"

#define EVENTS_INTR_BUF 64        /* one interrupt transfer */
#define EVENTS_MAX_ERRORS 3       /* then the pipe counts as broken */
#define EVENTS_FALLBACK_MS 400    /* broken pipe: presence polling rate */

enum events_card { EVENTS_UNKNOWN, EVENTS_ABSENT, EVENTS_PRESENT };

struct events_slot {
	bool pending;        /* an event the slot's poller has not returned */
	bool stop;           /* TAG_IFD_STOP_POLLING_THREAD for this slot */
	enum events_card card; /* last state the interrupt pipe reported */
	bool has_report;     /* a state for the next presence query */
	bool report_present;
	bool swapped;        /* card changed between two events */
};

struct events {
	pthread_mutex_t lock;
	pthread_cond_t cond;  /* CLOCK_MONOTONIC */
	unsigned nslots;
	bool reading;         /* a poller owns the interrupt pipe */
	unsigned reading_slot;
	bool gone;
	bool broken;
	unsigned errors;      /* consecutive interrupt failures */
	struct events_slot s[CCID_MAX_SLOTS];
};

void events_init(struct events *ev, unsigned nslots);
void events_fini(struct events *ev);
/* File one interrupt message (thread-safe); OC_EPROTO etc. if malformed. */
int events_apply(struct events *ev, const uint8_t *buf, size_t len)
    __attribute__((warn_unused_result));
/*
 * Wait up to timeout_ms for an event on slot: OC_OK (event, or the
 * fallback period of a broken pipe), OC_ETIMEDOUT, OC_ECANCELED (stopped),
 * OC_ENODEV (device gone).
 */
int events_poll(struct events *ev, const struct transport *tr,
    unsigned slot, unsigned timeout_ms);
void events_stop(struct events *ev, const struct transport *tr,
    unsigned slot);
/* Device removed or reader closing: every poller returns. */
void events_shutdown(struct events *ev, const struct transport *tr,
    bool gone);
/*
 * The card state an event reported, once, for IFDHICCPresence: true and
 * *present (false once after a swap, *swapped set) or false (ask the
 * reader).
 */
bool events_take_report(struct events *ev, unsigned slot, bool *present,
    bool *swapped);

#endif
