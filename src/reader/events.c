/*
 * openccid - interrupt-IN card events (see events.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "reader/events.h"

#include <string.h>
#include <time.h>

#include "codec/ccid_msg.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"

void
events_init(struct events *ev, unsigned nslots)
{
	memset(ev, 0, sizeof(*ev));
	ev->nslots = nslots > CCID_MAX_SLOTS ? CCID_MAX_SLOTS : nslots;
	pthread_mutex_init(&ev->lock, NULL);
	/* Deadlines must not move with the wall clock. */
	oc_clock_cond_init(&ev->cond);
}

void
events_fini(struct events *ev)
{
	pthread_mutex_destroy(&ev->lock);
	pthread_cond_destroy(&ev->cond);
}

/* Section 6.3.1: bit 2n = card present in slot n, bit 2n+1 = changed. */
static void
apply_slot(struct events_slot *s, unsigned n, const struct ccid_intr *in)
{
	unsigned bits = in->slot_bits[n / 4] >> (2 * (n % 4));
	bool present = (bits & 1u) != 0, changed = (bits & 2u) != 0;
	enum events_card now = present ? EVENTS_PRESENT : EVENTS_ABSENT;

	if (!changed && now == s->card)
		return;
	/* First news of a slot nobody saw change: pcscd already asked. */
	if (!changed && s->card == EVENTS_UNKNOWN) {
		s->card = now;
		return;
	}
	/* Present before and after a change: another card went in. */
	s->swapped = changed && present && s->card == EVENTS_PRESENT;
	s->card = now;
	s->has_report = true;
	s->report_present = present && !s->swapped;
	s->pending = true;
	OC_LOG_INFO("slot %u: card %s%s", n, present ? "present" : "absent",
	    s->swapped ? " (swapped)" : "");
}

static int
apply_locked(struct events *ev, const uint8_t *buf, size_t len)
{
	struct ccid_intr in;
	unsigned n;
	int rc;

	rc = ccid_msg_decode_intr(buf, len, ev->nslots, &in);
	if (rc != OC_OK) {
		OC_LOG_CRIT("bad interrupt message (%zu bytes): %s", len,
		    oc_strerror(rc));
		return rc;
	}
	if (in.type == RDR_TO_PC_HARDWAREERROR) {
		OC_LOG_CRIT("slot %u: hardware error 0x%02X (bSeq %u)",
		    in.slot, in.hw_error_code, in.seq);
		/* Let the slot's poller ask the reader what is left. */
		if (in.slot < ev->nslots)
			ev->s[in.slot].pending = true;
		return OC_OK;
	}
	for (n = 0; n < ev->nslots; n++)
		apply_slot(&ev->s[n], n, &in);
	return OC_OK;
}

int
events_apply(struct events *ev, const uint8_t *buf, size_t len)
{
	int rc;

	pthread_mutex_lock(&ev->lock);
	rc = apply_locked(ev, buf, len);
	pthread_cond_broadcast(&ev->cond);
	pthread_mutex_unlock(&ev->lock);
	return rc;
}

/* Milliseconds left until end (oc_clock_ms() scale), 0 when past. */
static unsigned
remaining_ms(uint64_t end)
{
	uint64_t now = oc_clock_ms();

	return end > now ? (unsigned)(end - now) : 0;
}

/* What the interrupt read returned, with the lock held again. */
static void
file_read(struct events *ev, int rc, const uint8_t *buf, size_t got)
{
	if (rc == OC_OK && got > 0 && apply_locked(ev, buf, got) == OC_OK) {
		ev->errors = 0;
		return;
	}
	if (rc == OC_OK || rc == OC_ETIMEDOUT || rc == OC_ECANCELED)
		return;
	if (rc == OC_ENODEV) {
		ev->gone = true;
		return;
	}
	OC_LOG_CRIT("interrupt endpoint: %s", oc_strerror(rc));
	if (++ev->errors >= EVENTS_MAX_ERRORS && !ev->broken) {
		/* Reported once; pcscd then polls presence at a slow rate. */
		OC_LOG_CRIT("interrupt endpoint keeps failing: card events "
			    "now come from presence polling");
		ev->broken = true;
	}
}

/* Own the pipe for one transfer; the lock is dropped meanwhile. */
static void
read_pipe(struct events *ev, const struct transport *tr, unsigned slot,
    unsigned ms)
{
	/*
	 * Zeroed, so that a transport reporting more bytes than it wrote can
	 * hand the decoder zeros, never stack garbage: memcheck in the soak
	 * (pcscd under valgrind, the umockdev preload as usbfs) once saw an
	 * interrupt message here whose bytes were never written in-process.
	 */
	uint8_t buf[EVENTS_INTR_BUF] = {0};
	size_t got = 0;
	int rc;

	ev->reading = true;
	ev->reading_slot = slot;
	pthread_mutex_unlock(&ev->lock);
	rc = tr->ops->intr_in(tr->ctx, buf, sizeof(buf), &got, ms);
	pthread_mutex_lock(&ev->lock);
	ev->reading = false;
	file_read(ev, rc, buf, got);
	/* Wake the others: events for them, or the pipe is free. */
	pthread_cond_broadcast(&ev->cond);
}

int
events_poll(struct events *ev, const struct transport *tr, unsigned slot,
    unsigned timeout_ms)
{
	struct timespec end_ts;
	struct events_slot *s;
	uint64_t end;
	unsigned ms;
	int rc;

	if (slot >= ev->nslots)
		return OC_EINVAL;
	s = &ev->s[slot];
	pthread_mutex_lock(&ev->lock);
	if (ev->broken && timeout_ms > EVENTS_FALLBACK_MS)
		timeout_ms = EVENTS_FALLBACK_MS;
	end = oc_clock_ms() + timeout_ms;
	end_ts = oc_clock_timespec(end);
	for (;;) {
		if (ev->gone) {
			rc = OC_ENODEV;
			break;
		}
		if (s->stop) {
			s->stop = false;
			rc = OC_ECANCELED;
			break;
		}
		if (s->pending) {
			s->pending = false;
			rc = OC_OK;
			break;
		}
		if ((ms = remaining_ms(end)) == 0) {
			rc = ev->broken ? OC_OK : OC_ETIMEDOUT;
			break;
		}
		if (!ev->reading && !ev->broken)
			read_pipe(ev, tr, slot, ms);
		else
			(void)pthread_cond_timedwait(&ev->cond, &ev->lock,
			    &end_ts);
	}
	pthread_mutex_unlock(&ev->lock);
	return rc;
}

void
events_stop(struct events *ev, const struct transport *tr, unsigned slot)
{
	if (slot >= ev->nslots)
		return;
	pthread_mutex_lock(&ev->lock);
	ev->s[slot].stop = true;
	/*
	 * Only the slot's own read is cancelled. If that read has just ended,
	 * the cancel hits the next one instead, which is simply read again.
	 */
	if (ev->reading && ev->reading_slot == slot)
		tr->ops->cancel_intr(tr->ctx);
	pthread_cond_broadcast(&ev->cond);
	pthread_mutex_unlock(&ev->lock);
}

void
events_shutdown(struct events *ev, const struct transport *tr, bool gone)
{
	unsigned i;

	pthread_mutex_lock(&ev->lock);
	if (gone)
		ev->gone = true;
	else
		for (i = 0; i < ev->nslots; i++)
			ev->s[i].stop = true;
	if (ev->reading)
		tr->ops->cancel_intr(tr->ctx);
	pthread_cond_broadcast(&ev->cond);
	pthread_mutex_unlock(&ev->lock);
}

bool
events_take_report(struct events *ev, unsigned slot, bool *present,
    bool *swapped)
{
	struct events_slot *s;
	bool have = false;

	if (slot >= ev->nslots)
		return false;
	s = &ev->s[slot];
	pthread_mutex_lock(&ev->lock);
	if (s->has_report) {
		have = true;
		*present = s->report_present;
		*swapped = s->swapped;
		s->has_report = false;
		/* After "absent" for a swap, wake the poller again so that
		 * pcscd asks once more and sees the new card. */
		if (s->swapped) {
			s->swapped = false;
			s->pending = true;
			pthread_cond_broadcast(&ev->cond);
		}
	}
	pthread_mutex_unlock(&ev->lock);
	return have;
}
