/*
 * openccid - commands to several slots of one reader on the wire
 * together, up to bMaxCCIDBusySlots (CCID rev 1.1 section 5.1).
 *
 * A slot owns one command at a time (section 6.2.6: a second command to
 * a busy slot gets CMD_SLOT_BUSY), and at most io->max_busy slots own
 * one (a command waits for a credit rather than exceed it). Writes are
 * short: encoding into io->buf and the bulk-OUT under xfer_lock.
 *
 * Replies (leader/follower): bulk-IN has one reader at a time, the
 * holder of the "token", one of the threads waiting for a reply. It
 * reads messages into the scratch buffer rbuf and, under mux->lock,
 * copies each into the mailbox of the slot whose command has that bSlot
 * and bSeq (waking that slot's owner alone), or drops it as stale
 * (bounded per exchange, like the one-at-a-time mode), until its own
 * reply is there or its deadline passes; then it hands the token to one
 * owner still waiting. A waiter without the token sleeps on its slot's
 * condition variable until its mailbox fills, the token is handed to it
 * or its own deadline passes; so a slow card (PIN entry) on one slot
 * delays nobody: whoever holds the token routes the other slots' replies
 * as they come. A time-extension
 * reply lands in the owner's mailbox like any other and extends the
 * owner's deadline within the wall-time cap. A timeout aborts only its
 * own slot (class ABORT + PC_to_RDR_Abort, section 5.3.1) while the
 * other slots' replies keep being routed. Every wait has a deadline but
 * the credit wait, bounded by the others' bounded exchanges; a device
 * gone wakes everyone.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "ccid/ccid_mux.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"

#define MUX_ABORT_TIMEOUT_MS 1000 /* the Abort's SlotStatus */
#define REPLY_STATUS_OFF 7        /* bStatus in a reply header (6.2) */

static void
mux_free_bufs(struct ccid_mux *m)
{
	unsigned i;

	for (i = 0; i < CCID_MAX_SLOTS; i++)
		free(m->mb[i].buf);
	free(m->rbuf);
	free(m);
}

int
ccid_mux_new(struct ccid_io *io, unsigned nslots)
{
	struct ccid_mux *m = calloc(1, sizeof(*m));
	bool ok;
	unsigned i;

	if (m == NULL)
		return OC_ENOMEM;
	m->nslots = nslots > CCID_MAX_SLOTS ? CCID_MAX_SLOTS : nslots;
	m->rbuf = malloc(io->max_msg);
	ok = m->rbuf != NULL;
	for (i = 0; i < m->nslots; i++)
		ok = (m->mb[i].buf = malloc(io->max_msg)) != NULL && ok;
	if (!ok) {
		mux_free_bufs(m);
		return OC_ENOMEM;
	}
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->credit, NULL);
	for (i = 0; i < m->nslots; i++)
		oc_clock_cond_init(&m->mb[i].cond);
	io->mux = m;
	return OC_OK;
}

void
ccid_mux_free(struct ccid_io *io)
{
	struct ccid_mux *m = io->mux;
	unsigned i;

	if (m == NULL)
		return;
	pthread_mutex_destroy(&m->lock);
	pthread_cond_destroy(&m->credit);
	for (i = 0; i < m->nslots; i++)
		pthread_cond_destroy(&m->mb[i].cond);
	mux_free_bufs(m);
	io->mux = NULL;
}

bool
ccid_mux_active(const struct ccid_io *io)
{
	/*
	 * interfaces_exclusive: the device must see whole exchanges one
	 * at a time across its interfaces (Gemalto Prox-DU; single-slot
	 * interfaces anyway). zlp_before_write reads bulk-IN before each
	 * write, which would eat another slot's reply.
	 */
	return io->mux != NULL && io->group_lock == NULL &&
	    !io->zlp_before_write;
}

void
ccid_mux_wake(struct ccid_io *io)
{
	struct ccid_mux *m = io->mux;
	unsigned i;

	if (m == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	pthread_cond_broadcast(&m->credit);
	for (i = 0; i < m->nslots; i++)
		pthread_cond_broadcast(&m->mb[i].cond);
	pthread_mutex_unlock(&m->lock);
}

/* The owner of b sleeps until woken or deadline (CLOCK_MONOTONIC ms). */
static void
wait_until(struct ccid_mux *m, struct ccid_mbox *b, uint64_t deadline)
{
	struct timespec ts = oc_clock_timespec(deadline);

	b->waiting = true;
	(void)pthread_cond_timedwait(&b->cond, &m->lock, &ts);
	b->waiting = false;
}

/* The token is free: wake one owner that waits with nothing to read. */
static void
hand_token(struct ccid_mux *m)
{
	unsigned i;

	for (i = 0; i < m->nslots; i++)
		if (m->mb[i].inflight && m->mb[i].waiting && m->mb[i].len == 0) {
			pthread_cond_signal(&m->mb[i].cond);
			return;
		}
}

int
ccid_mux_begin(struct ccid_io *io, struct ccid_cmd *c)
{
	struct ccid_mux *m = io->mux;
	struct ccid_mbox *b;

	if (c->slot >= m->nslots)
		return OC_EINVAL;
	b = &m->mb[c->slot];
	pthread_mutex_lock(&m->lock);
	while (!atomic_load(&io->gone) &&
	    (b->inflight || m->busy >= io->max_busy))
		pthread_cond_wait(&m->credit, &m->lock);
	if (atomic_load(&io->gone)) {
		pthread_mutex_unlock(&m->lock);
		return OC_ENODEV;
	}
	b->inflight = true;
	b->accept = true;
	b->len = 0;
	m->busy++;
	c->seq = io->seq++;
	b->seq = c->seq;
	pthread_mutex_unlock(&m->lock);
	return OC_OK;
}

void
ccid_mux_end(struct ccid_io *io, uint8_t slot)
{
	struct ccid_mux *m = io->mux;
	struct ccid_mbox *b = &m->mb[slot];

	pthread_mutex_lock(&m->lock);
	b->inflight = false;
	b->accept = false;
	b->len = 0;
	m->busy--;
	/* Waiters for this slot and for a credit: few, all re-check. */
	pthread_cond_broadcast(&m->credit);
	pthread_mutex_unlock(&m->lock);
}

/*
 * Into the mailbox of the command this reply answers; false: stale. A
 * waiting time extension may be replaced by what follows it; a waiting
 * final reply is not (a duplicate is stale).
 */
static bool
route(struct ccid_mux *m, const struct ccid_reply *rr, size_t len)
{
	struct ccid_mbox *b;

	if (rr->slot >= m->nslots)
		return false;
	b = &m->mb[rr->slot];
	if (!b->inflight || !b->accept || b->seq != rr->seq)
		return false;
	if (b->len != 0 && CCID_CMD_STATUS(b->buf[REPLY_STATUS_OFF]) !=
	    CCID_CMD_TIME_EXT)
		return false;
	memcpy(b->buf, m->rbuf, len);
	b->len = len;
	pthread_cond_signal(&b->cond);
	return true;
}

/*
 * Holding mux->lock and the token: read one message (lock released
 * meanwhile) and route it. The read waits what is left of the caller's
 * deadline: its timeout is the caller's.
 */
static int
read_and_route(struct ccid_io *io, const struct ccid_expect *q,
    unsigned wait, unsigned *stale)
{
	struct ccid_mux *m = io->mux;
	struct ccid_reply rr;
	size_t len = 0;
	int rc;

	pthread_mutex_unlock(&m->lock);
	rc = ccid_io_read(io, m->rbuf, wait, &rr, &len);
	pthread_mutex_lock(&m->lock);
	if (rc == OC_OK && !route(m, &rr, len)) {
		ccid_io_dump(io, q->quiet, "<-", m->rbuf, len);
		OC_LOG_INFO("dropping stale reply slot %u bSeq %u", rr.slot,
		    rr.seq);
		if (++*stale > CCID_MAX_STALE)
			rc = OC_EPROTO;
	}
	return rc;
}

/* Time extensions of one exchange (section 6.2.6). */
struct ext_state {
	unsigned n;
	uint64_t first;
};

/*
 * The reply in the mailbox (mux->lock held): a time extension moves the
 * deadline (wall time from the first one, capped as in the one-at-a-time
 * mode; *again set), anything else ends the exchange.
 */
static int
take_reply(struct ccid_io *io, struct ccid_mbox *b,
    const struct ccid_expect *q, struct ext_state *ext, uint64_t *deadline,
    struct ccid_reply *r, bool *again)
{
	unsigned cap = q->ext_cap_ms != 0 ? q->ext_cap_ms : io->time_ext_cap_ms;
	unsigned wait = q->timeout_ms;
	uint64_t now, spent;

	*again = false;
	ccid_io_dump(io, q->quiet, "<-", b->buf, b->len);
	/* Decoded once already, before it was routed here. */
	if (ccid_msg_decode_reply(b->buf, b->len, io->max_msg - CCID_HDR_LEN,
		r) != OC_OK)
		return OC_EPROTO;
	if (CCID_CMD_STATUS(r->bStatus) != CCID_CMD_TIME_EXT) {
		b->accept = false; /* r->data points into b->buf */
		if (r->type == q->type)
			return OC_OK;
		OC_LOG_CRIT("reply type 0x%02X on slot %u, 0x%02X wanted",
		    r->type, r->slot, q->type);
		return OC_EPROTO;
	}
	b->len = 0;
	now = ccid_io_now(io);
	if (ext->n++ == 0)
		ext->first = now;
	spent = now - ext->first;
	if (spent >= cap) {
		OC_LOG_CRIT("time extensions beyond %u ms (%u replies)", cap,
		    ext->n);
		return OC_ETIMEDOUT;
	}
	if (cap - spent < wait)
		wait = (unsigned)(cap - spent);
	*deadline = oc_clock_ms() + wait;
	*again = true;
	return OC_OK;
}

/* The reply to c (whose slot this thread owns), by *deadline. */
static int
mux_wait(struct ccid_io *io, const struct ccid_cmd *c,
    const struct ccid_expect *q, struct ccid_reply *r)
{
	struct ccid_mux *m = io->mux;
	struct ccid_mbox *b = &m->mb[c->slot];
	struct ext_state ext = {0, 0};
	uint64_t deadline = oc_clock_ms() + q->timeout_ms, now;
	unsigned stale = 0;
	bool again = false, token = false;
	int rc;

	pthread_mutex_lock(&m->lock);
	for (;;) {
		if (b->len != 0) {
			rc = take_reply(io, b, q, &ext, &deadline, r, &again);
			if (rc != OC_OK || !again)
				break;
			continue;
		}
		rc = OC_ENODEV;
		if (atomic_load(&io->gone))
			break;
		rc = OC_ETIMEDOUT;
		if ((now = oc_clock_ms()) >= deadline)
			break;
		if (!token && m->token) {
			wait_until(m, b, deadline);
			continue;
		}
		/* Kept until this thread's own reply is in or it gives up. */
		m->token = token = true;
		rc = read_and_route(io, q, (unsigned)(deadline - now), &stale);
		if (rc != OC_OK)
			break;
	}
	if (token) {
		m->token = false;
		hand_token(m);
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int
ccid_mux_abort(struct ccid_io *io, uint8_t slot)
{
	struct ccid_mux *m = io->mux;
	struct ccid_mbox *b = &m->mb[slot];
	/* Extensions to the Abort are granted no more than its timeout. */
	struct ccid_expect q = {RDR_TO_PC_SLOTSTATUS, MUX_ABORT_TIMEOUT_MS,
	    MUX_ABORT_TIMEOUT_MS, false};
	struct ccid_reply r;
	struct ccid_cmd c;
	int rc;

	/* From now on replies to the aborted command are stale. */
	pthread_mutex_lock(&m->lock);
	ccid_cmd_abort(&c, slot, io->seq++);
	b->seq = c.seq;
	b->accept = true;
	b->len = 0;
	pthread_mutex_unlock(&m->lock);
	rc = ccid_io_abort_request(io, slot, c.seq);
	if (rc != OC_OK)
		return rc;
	pthread_mutex_lock(&io->xfer_lock);
	rc = ccid_io_send(io, &c, false);
	pthread_mutex_unlock(&io->xfer_lock);
	if (rc == OC_OK)
		rc = mux_wait(io, &c, &q, &r);
	return rc;
}

int
ccid_mux_exchange(struct ccid_io *io, const struct ccid_cmd *c,
    const struct ccid_expect *q, struct ccid_reply *r)
{
	int rc;

	pthread_mutex_lock(&io->xfer_lock);
	rc = ccid_io_send(io, c, q->quiet);
	pthread_mutex_unlock(&io->xfer_lock);
	if (rc == OC_OK)
		rc = mux_wait(io, c, q, r);
	if (rc == OC_ETIMEDOUT) {
		OC_LOG_CRIT("%s on slot %u timed out, aborting",
		    ccid_msg_type_name(c->type), c->slot);
		if (ccid_mux_abort(io, c->slot) == OC_ENODEV)
			rc = OC_ENODEV;
	}
	return rc;
}
