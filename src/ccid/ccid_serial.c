/*
 * openccid - one command at a time (bMaxCCIDBusySlots <= 1, or a quirk
 * that needs the whole pipe): the thread that sends a command holds the
 * exchange lock until it has read the reply, so every reply is checked
 * against the bSeq and bSlot of the command that is on the wire (CCID
 * rev 1.1 section 6.2). Readers that take commands to several slots at
 * once use ccid_mux.c instead.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "ccid/ccid_serial.h"

#include <stdatomic.h>

#include "codec/ccid_msg.h"
#include "base/err.h"
#include "base/log.h"

#define CCID_MAX_ABORT_READS 8

/*
 * A busy-slot credit, then the exchange lock. Commands wait for a credit
 * rather than make the reader answer CMD_SLOT_BUSY (section 6.2.6).
 */
int
ccid_serial_begin(struct ccid_io *io)
{
	pthread_mutex_lock(&io->busy_lock);
	while (io->busy >= io->max_busy && !atomic_load(&io->gone))
		pthread_cond_wait(&io->busy_cond, &io->busy_lock);
	if (atomic_load(&io->gone)) {
		pthread_mutex_unlock(&io->busy_lock);
		return OC_ENODEV;
	}
	io->busy++;
	pthread_mutex_unlock(&io->busy_lock);
	pthread_mutex_lock(&io->xfer_lock);
	if (io->group_lock != NULL)
		pthread_mutex_lock(io->group_lock);
	return OC_OK;
}

void
ccid_serial_end(struct ccid_io *io)
{
	io->quiet = false;
	if (io->group_lock != NULL)
		pthread_mutex_unlock(io->group_lock);
	pthread_mutex_unlock(&io->xfer_lock);
	pthread_mutex_lock(&io->busy_lock);
	io->busy--;
	pthread_cond_signal(&io->busy_cond);
	pthread_mutex_unlock(&io->busy_lock);
}

/* One message into io->buf, logged. */
static int
read_msg(struct ccid_io *io, unsigned timeout_ms, struct ccid_reply *r)
{
	size_t len = 0;
	int rc = ccid_io_read(io, io->buf, timeout_ms, r, &len);

	if (rc == OC_OK)
		ccid_io_dump(io, io->quiet, "<-", io->buf, len);
	return rc;
}

/* Time extensions of one command (section 6.2.6). */
struct time_ext {
	unsigned n;     /* received so far */
	uint64_t first; /* ccid_io_now() at the first */
};

/*
 * Section 6.2.6: a time-extension reply asks for more time. The grant is
 * counted in wall time from the first extension (time_ext_cap_ms), not
 * in replies: a reader that sends one every 100 ms must not get
 * cap / 100 ms read timeouts (the reference driver's CCID#155 froze
 * pcscd 13 minutes). The read after an extension waits the normal read
 * timeout, at most what is left of the grant: *wait.
 */
static int
grant_time_ext(struct ccid_io *io, struct time_ext *ext, unsigned timeout_ms,
    unsigned *wait)
{
	uint64_t spent;

	if (ext->n++ == 0)
		ext->first = ccid_io_now(io);
	spent = ccid_io_now(io) - ext->first;
	if (spent >= io->time_ext_cap_ms) {
		OC_LOG_CRIT("time extensions beyond %u ms (%u replies)",
		    io->time_ext_cap_ms, ext->n);
		return OC_ETIMEDOUT;
	}
	*wait = timeout_ms;
	if (io->time_ext_cap_ms - spent < *wait)
		*wait = (unsigned)(io->time_ext_cap_ms - spent);
	return OC_OK;
}

/*
 * The reply to c: replies with another bSeq answer an earlier, timed-out
 * command and are dropped (bounded); time extensions are waited out.
 */
static int
await_reply(struct ccid_io *io, const struct ccid_cmd *c, uint8_t type,
    unsigned timeout_ms, struct ccid_reply *r)
{
	struct time_ext ext = {0, 0};
	unsigned stale = 0, wait = timeout_ms;
	int rc;

	for (;;) {
		rc = read_msg(io, wait, r);
		if (rc != OC_OK)
			return rc;
		if (r->seq != c->seq) {
			OC_LOG_INFO("dropping stale reply bSeq %u (want %u)",
			    r->seq, c->seq);
			if (++stale > CCID_MAX_STALE)
				return OC_EPROTO;
			continue;
		}
		if (r->slot != c->slot) {
			OC_LOG_CRIT("reply for slot %u, sent to slot %u",
			    r->slot, c->slot);
			return OC_EPROTO;
		}
		if (CCID_CMD_STATUS(r->bStatus) == CCID_CMD_TIME_EXT) {
			rc = grant_time_ext(io, &ext, timeout_ms, &wait);
			if (rc != OC_OK)
				return rc;
			continue;
		}
		if (r->type != type) {
			OC_LOG_CRIT("reply type 0x%02X to command 0x%02X",
			    r->type, c->type);
			return OC_EPROTO;
		}
		return OC_OK;
	}
}

/*
 * CCID rev 1.1 section 5.3.1: the class request ABORT and a
 * PC_to_RDR_Abort with the same bSeq/bSlot; the reader then answers the
 * Abort with a SlotStatus. Replies to the aborted command that arrive
 * first are drained (bounded). Called with the exchange lock held.
 */
int
ccid_serial_abort(struct ccid_io *io, uint8_t slot)
{
	struct ccid_reply r;
	struct ccid_cmd c;
	unsigned i;
	int rc;

	ccid_cmd_abort(&c, slot, io->seq++);
	rc = ccid_io_abort_request(io, slot, c.seq);
	if (rc != OC_OK)
		return rc;
	rc = ccid_io_send(io, &c, io->quiet);
	if (rc != OC_OK)
		return rc;
	for (i = 0; i < CCID_MAX_ABORT_READS; i++) {
		rc = read_msg(io, CCID_ABORT_TIMEOUT_MS, &r);
		if (rc == OC_EPROTO)
			continue;
		if (rc != OC_OK)
			return rc;
		if (r.seq == c.seq && r.slot == slot &&
		    r.type == RDR_TO_PC_SLOTSTATUS)
			return OC_OK;
	}
	return OC_EPROTO;
}

/*
 * Send c, get the matching reply; abort on timeout so that the reader
 * takes the next command (section 5.3.1).
 */
static int
transact(struct ccid_io *io, struct ccid_cmd *c, uint8_t type,
    unsigned timeout_ms, struct ccid_reply *r)
{
	int rc;

	c->seq = io->seq++;
	rc = ccid_io_send(io, c, io->quiet);
	if (rc == OC_OK)
		rc = await_reply(io, c, type, timeout_ms, r);
	if (rc == OC_ETIMEDOUT) {
		OC_LOG_CRIT("%s on slot %u timed out, aborting",
		    ccid_msg_type_name(c->type), c->slot);
		(void)ccid_serial_abort(io, c->slot);
	}
	return rc;
}

int
ccid_serial_exchange(struct ccid_io *io, struct ccid_cmd *c,
    const struct ccid_expect *q, struct ccid_reply *r)
{
	/* A PIN entry's own grant holds for this command only. */
	unsigned saved_cap = io->time_ext_cap_ms;
	int rc;

	io->quiet = q->quiet;
	if (q->ext_cap_ms != 0)
		io->time_ext_cap_ms = q->ext_cap_ms;
	rc = transact(io, c, q->type, q->timeout_ms, r);
	io->time_ext_cap_ms = saved_cap;
	return rc;
}
