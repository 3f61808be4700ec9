/*
 * openccid - CCID bulk commands over a struct transport (see ccid_cmd.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "ccid_cmd.h"

#include <string.h>
#include <time.h>

#include "ccid_msg.h"
#include "ccid_mux.h"
#include "clock.h"
#include "err.h"
#include "log.h"

#define CCID_REQ_ABORT 0x01     /* CCID rev 1.1 section 5.3.1 */
#define CCID_REQTYPE_CLASS_IF 0x21 /* host-to-device, class, interface */
#define CCID_ABORT_TIMEOUT_MS 1000
#define CCID_MAX_ABORT_READS 8
#define CCID_MAX_READ_PIECES 64 /* transfers joined into one message */
/*
 * The rest of a message split over transfers follows at once; a reader
 * whose dwLength promises more than it sent must not hold the caller for
 * a whole (PIN entry: 90 s) command timeout per piece (issue 12).
 */
#define CCID_CONT_TIMEOUT_MS 1000
#define CCID_ZLP_READ_MS 10     /* quirk zlp_before_write */

void
ccid_io_init(struct ccid_io *io, const struct transport *tr, size_t max_msg,
    enum ccid_level level, uint8_t *buf)
{
	memset(io, 0, sizeof(*io));
	io->tr = *tr;
	io->max_msg = max_msg;
	io->level = level;
	io->timeout_ms = CCID_READ_TIMEOUT_MS;
	io->time_ext_cap_ms = CCID_TIME_EXT_CAP_MS;
	io->buf = buf;
	io->max_busy = 1;
	pthread_mutex_init(&io->xfer_lock, NULL);
	pthread_mutex_init(&io->busy_lock, NULL);
	pthread_cond_init(&io->busy_cond, NULL);
	atomic_init(&io->gone, false);
	atomic_init(&io->hide_out_slots, 0u);
}

void
ccid_io_fini(struct ccid_io *io)
{
	ccid_mux_free(io);
	pthread_mutex_destroy(&io->xfer_lock);
	pthread_mutex_destroy(&io->busy_lock);
	pthread_cond_destroy(&io->busy_cond);
}

int
ccid_io_set_slots(struct ccid_io *io, unsigned nslots, unsigned max_busy)
{
	/* Never more busy slots than slots (the count is device data). */
	if (max_busy > nslots)
		max_busy = nslots;
	io->max_busy = max_busy > 0 ? max_busy : 1;
	return io->max_busy > 1 ? ccid_mux_new(io, nslots) : OC_OK;
}

void
ccid_io_set_time_ext_cap(struct ccid_io *io, unsigned ms)
{
	/* Read under xfer_lock (one at a time) or mux->lock (concurrent). */
	pthread_mutex_lock(&io->xfer_lock);
	if (io->mux != NULL)
		pthread_mutex_lock(&io->mux->lock);
	io->time_ext_cap_ms = ms;
	if (io->mux != NULL)
		pthread_mutex_unlock(&io->mux->lock);
	pthread_mutex_unlock(&io->xfer_lock);
}

uint64_t
ccid_io_now(const struct ccid_io *io)
{
	return io->now_ms != NULL ? io->now_ms() : oc_clock_ms();
}

void
ccid_io_mark_gone(struct ccid_io *io)
{
	atomic_store(&io->gone, true);
	pthread_mutex_lock(&io->busy_lock);
	pthread_cond_broadcast(&io->busy_cond);
	pthread_mutex_unlock(&io->busy_lock);
	ccid_mux_wake(io);
}

bool
ccid_io_is_gone(struct ccid_io *io)
{
	return atomic_load(&io->gone);
}

/*
 * A busy-slot credit, then the exchange lock. Commands wait for a credit
 * rather than make the reader answer CMD_SLOT_BUSY (section 6.2.6).
 */
static int
io_acquire(struct ccid_io *io)
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

static void
io_release(struct ccid_io *io)
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

void
ccid_io_hide_out_payload(struct ccid_io *io, uint8_t slot, bool hide)
{
	unsigned bit = 1u << (slot % CCID_MAX_SLOTS);

	if (hide)
		atomic_fetch_or(&io->hide_out_slots, bit);
	else
		atomic_fetch_and(&io->hide_out_slots, ~bit);
}

void
ccid_io_dump(const struct ccid_io *io, bool quiet, const char *dir,
    const uint8_t *msg, size_t len)
{
	/* Presence polling would flood COMM logs: needs PERIODIC too. */
	if (quiet && (oc_log_get_level() & OC_LOG_MASK_PERIODIC) == 0)
		return;
	/* Bulk-OUT ("->"): byte 5 is bSlot (section 6.1). */
	if (dir[0] == '-' && len > 5 &&
	    (atomic_load(&io->hide_out_slots) &
		(1u << (msg[5] % CCID_MAX_SLOTS))) != 0) {
		oc_log_ccid_hidden(dir, msg, len);
		return;
	}
	oc_log_ccid(dir, msg, len, io->level);
}

/* bError of a failed command (section 6.2.6) -> OC_E*. */
static const struct {
	uint8_t bError;
	int err;
} ccid_error_map[] = {
	{CCID_ERR_CMD_ABORTED, OC_ECANCELED},
	{CCID_ERR_ICC_MUTE, OC_ECARD},
	{CCID_ERR_XFR_PARITY_ERROR, OC_ECARD},
	{CCID_ERR_XFR_OVERRUN, OC_ECARD},
	{CCID_ERR_HW_ERROR, OC_EIO},
	{CCID_ERR_BAD_ATR_TS, OC_ECARD},
	{CCID_ERR_BAD_ATR_TCK, OC_ECARD},
	{CCID_ERR_ICC_PROTOCOL_NOT_SUPPORTED, OC_ENOTSUP},
	{CCID_ERR_ICC_CLASS_NOT_SUPPORTED, OC_ENOTSUP},
	{CCID_ERR_PROCEDURE_BYTE_CONFLICT, OC_ECARD},
	{CCID_ERR_DEACTIVATED_PROTOCOL, OC_ENOTSUP},
	{CCID_ERR_BUSY_WITH_AUTO_SEQUENCE, OC_EBUSY},
	{CCID_ERR_PIN_TIMEOUT, OC_ETIMEDOUT},
	{CCID_ERR_PIN_CANCELLED, OC_ECANCELED},
	{CCID_ERR_CMD_SLOT_BUSY, OC_EBUSY},
	{CCID_ERR_CMD_NOT_SUPPORTED, OC_ENOTSUP},
};

int
ccid_status_to_err(const struct ccid_status *st)
{
	size_t i;

	if (CCID_CMD_STATUS(st->bStatus) != CCID_CMD_FAILED)
		return OC_OK;
	/* Whatever failed, an empty slot is the real reason. */
	if (CCID_ICC_STATUS(st->bStatus) == CCID_ICC_ABSENT)
		return OC_ENOCARD;
	for (i = 0; i < sizeof(ccid_error_map) / sizeof(ccid_error_map[0]);
	    i++)
		if (ccid_error_map[i].bError == st->bError)
			return ccid_error_map[i].err;
	/* 1..127: index of the offending field of the command (6.2.6). */
	return OC_EINVAL;
}

int
ccid_io_send(struct ccid_io *io, const struct ccid_cmd *c, bool quiet)
{
	size_t len;
	int rc;

	rc = ccid_msg_encode(c, io->buf, io->max_msg, &len);
	if (rc != OC_OK) {
		OC_LOG_CRIT("command 0x%02X does not fit dwMaxCCIDMessageLength"
			    " %zu", c->type, io->max_msg);
		return OC_ERANGE;
	}
	ccid_io_dump(io, quiet, "->", io->buf, len);
	if (io->zlp_before_write) {
		/* Quirk: the reader left a zero-length packet in the pipe
		 * (USB 3 ports); read it so the reply is not taken for it. */
		uint8_t zlp[1];
		size_t got = 0;

		(void)io->tr.ops->bulk_in(io->tr.ctx, zlp, 0, &got,
		    CCID_ZLP_READ_MS);
	}
	rc = io->tr.ops->bulk_out(io->tr.ctx, io->buf, len,
	    CCID_WRITE_TIMEOUT_MS);
	if (rc == OC_ESTALL) {
		/*
		 * A halted bulk-OUT took nothing (USB 2.0 section 8.4.5):
		 * clear the halt and send the command once more.
		 */
		OC_LOG_INFO("bulk-OUT halted: clearing, sending again");
		rc = io->tr.ops->clear_halt(io->tr.ctx, 0);
		if (rc == OC_OK)
			rc = io->tr.ops->bulk_out(io->tr.ctx, io->buf, len,
			    CCID_WRITE_TIMEOUT_MS);
		if (rc == OC_ESTALL)
			(void)io->tr.ops->clear_halt(io->tr.ctx, 0);
	}
	if (rc != OC_OK)
		OC_LOG_CRIT("bulk-OUT failed: %s", oc_strerror(rc));
	return rc;
}

/*
 * One message from bulk-IN into buf. A message may arrive in several
 * transfers when the reader sends no short packet at its end (length a
 * multiple of wMaxPacketSize); pieces are joined until dwLength is met.
 */
int
ccid_io_read(struct ccid_io *io, uint8_t *buf, unsigned timeout_ms,
    struct ccid_reply *r, size_t *len)
{
	size_t have = 0, got;
	unsigned zlp = 0, pieces;
	int rc;

	for (pieces = 0; pieces < CCID_MAX_READ_PIECES; pieces++) {
		rc = io->tr.ops->bulk_in(io->tr.ctx, buf + have,
		    io->max_msg - have, &got,
		    have != 0 && timeout_ms > CCID_CONT_TIMEOUT_MS
			? CCID_CONT_TIMEOUT_MS
			: timeout_ms);
		if (rc == OC_ESTALL)
			(void)io->tr.ops->clear_halt(io->tr.ctx, 1);
		if (rc != OC_OK)
			return rc;
		if (got > io->max_msg - have)
			return OC_EPROTO;
		if (got == 0) {
			/* ZLP ends a transfer on some readers: skip it. */
			if (++zlp > CCID_MAX_ZLP)
				return OC_EPROTO;
			continue;
		}
		have += got;
		rc = ccid_msg_decode_reply(buf, have, io->max_msg -
		    CCID_HDR_LEN, r);
		if (rc == OC_ETRUNC && have >= CCID_HDR_LEN &&
		    have < io->max_msg)
			continue;
		if (rc != OC_OK) {
			OC_LOG_CRIT("bad reply (%zu bytes): %s", have,
			    oc_strerror(rc));
			oc_log_hex(OC_LOG_MASK_COMM, __func__, "bad reply", buf,
			    have < CCID_HDR_LEN ? have : CCID_HDR_LEN);
			return OC_EPROTO;
		}
		*len = have;
		return OC_OK;
	}
	return OC_EPROTO;
}

/* One message into io->buf, logged (one-at-a-time mode). */
static int
read_msg(struct ccid_io *io, unsigned timeout_ms, struct ccid_reply *r)
{
	size_t len = 0;
	int rc = ccid_io_read(io, io->buf, timeout_ms, r, &len);

	if (rc == OC_OK)
		ccid_io_dump(io, io->quiet, "<-", io->buf, len);
	return rc;
}

/*
 * Section 6.2.6: a time-extension reply asks for more time. The grant is
 * counted in wall time from the first extension (time_ext_cap_ms), not
 * in replies: a reader that sends one every 100 ms must not get
 * cap / 100 ms read timeouts (the reference driver's CCID#155 froze
 * pcscd 13 minutes). The read after an extension waits the normal read
 * timeout, at most what is left of the grant.
 */
static int
await_reply(struct ccid_io *io, const struct ccid_cmd *c, uint8_t type,
    unsigned timeout_ms, struct ccid_reply *r)
{
	uint64_t first = 0, spent;
	unsigned stale = 0, ext = 0, wait = timeout_ms;
	int rc;

	for (;;) {
		rc = read_msg(io, wait, r);
		if (rc != OC_OK)
			return rc;
		if (r->seq != c->seq) {
			/* A reply to an earlier, timed-out command. */
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
			if (ext++ == 0)
				first = ccid_io_now(io);
			spent = ccid_io_now(io) - first;
			if (spent >= io->time_ext_cap_ms) {
				OC_LOG_CRIT("time extensions beyond %u ms "
					    "(%u replies)",
				    io->time_ext_cap_ms, ext);
				return OC_ETIMEDOUT;
			}
			wait = timeout_ms;
			if (io->time_ext_cap_ms - spent < wait)
				wait = (unsigned)(io->time_ext_cap_ms - spent);
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

static void
status_from(const struct ccid_reply *r, struct ccid_status *st)
{
	st->bStatus = r->bStatus;
	st->bError = r->bError;
	st->specific = r->specific;
}

static int abort_locked(struct ccid_io *io, uint8_t slot);

int
ccid_io_abort_request(struct ccid_io *io, uint8_t slot, uint8_t seq)
{
	size_t got = 0;
	int rc;

	/* wValue: bSeq in the high byte, bSlot in the low (5.3.1). */
	rc = io->tr.ops->control(io->tr.ctx, CCID_REQTYPE_CLASS_IF,
	    CCID_REQ_ABORT, (uint16_t)(seq << 8 | slot), NULL, 0, &got,
	    CCID_ABORT_TIMEOUT_MS);
	if (rc == OC_ENODEV)
		return rc;
	if (rc != OC_OK)
		OC_LOG_INFO("ABORT request: %s", oc_strerror(rc));
	return OC_OK;
}

/* Send c, get the matching reply of the given type; abort on timeout. */
static int
transact(struct ccid_io *io, struct ccid_cmd *c, uint8_t type,
    unsigned timeout_ms, struct ccid_reply *r)
{
	int rc;

	c->seq = io->seq++;
	rc = ccid_io_send(io, c, io->quiet);
	if (rc == OC_OK)
		rc = await_reply(io, c, type,
		    timeout_ms != 0 ? timeout_ms : io->timeout_ms, r);
	if (rc == OC_ETIMEDOUT) {
		OC_LOG_CRIT("%s on slot %u timed out, aborting",
		    ccid_msg_type_name(c->type), c->slot);
		(void)abort_locked(io, c->slot);
	}
	if (rc == OC_ENODEV)
		ccid_io_mark_gone(io);
	return rc;
}

/* Copy reply data out; NULL dst discards. */
static int
copy_data(const struct ccid_reply *r, uint8_t *dst, size_t cap,
    size_t *out_len)
{
	if (dst != NULL) {
		if (r->data_len > cap)
			return OC_ENOSPC;
		if (r->data_len > 0)
			memcpy(dst, r->data, r->data_len);
	}
	if (out_len != NULL)
		*out_len = r->data_len;
	return OC_OK;
}

/* Common tail: status out, bError mapped, data copied. */
static int
finish(const struct ccid_reply *r, struct ccid_status *st, uint8_t *dst,
    size_t cap, size_t *out_len)
{
	int rc;

	status_from(r, st);
	rc = ccid_status_to_err(st);
	if (rc != OC_OK) {
		OC_LOG_INFO("reader error 0x%02X (%s), ICC %s", st->bError,
		    ccid_error_name(st->bError),
		    ccid_icc_status_name(st->bStatus));
		return rc;
	}
	rc = copy_data(r, dst, cap, out_len);
	if (rc != OC_OK)
		OC_LOG_CRIT("reply of %zu bytes, room for %zu", r->data_len,
		    cap);
	return rc;
}

/* What a command wants from its reply. */
struct want {
	uint8_t type;       /* RDR_to_PC_* */
	bool status_only;   /* SlotStatus: any decoded reply is a success */
	bool quiet;
	uint8_t *dst;
	size_t cap;
	size_t *out_len;
	unsigned timeout_ms; /* 0: io->timeout_ms */
	bool param_err_ok;   /* bError 1..127 (a field index) is a success */
};

/*
 * finish() for the command; with the quirk set_parameters_error_ignored
 * a SetParameters bError 1..127 (the index of a field the reader did not
 * like, section 6.2.6) counts as success: the reader works anyway.
 */
static int
finish_param(const struct ccid_reply *r, struct ccid_status *st,
    const struct want *w)
{
	int rc = finish(r, st, w->dst, w->cap, w->out_len);

	if (rc == OC_EINVAL && w->param_err_ok && st->bError >= 1 &&
	    st->bError <= 127) {
		OC_LOG_INFO("SetParameters bError %u ignored (quirk)",
		    st->bError);
		rc = OC_OK;
	}
	return rc;
}

/*
 * Concurrent mode (ccid_mux.c): the reply lives in the slot's mailbox
 * until ccid_mux_end(), so its data is copied out before.
 */
static int
run_mux(struct ccid_io *io, struct ccid_cmd *c, const struct want *w,
    unsigned ext_cap_ms, struct ccid_status *st)
{
	struct mux_req q = {w->type,
	    w->timeout_ms != 0 ? w->timeout_ms : io->timeout_ms, ext_cap_ms,
	    w->quiet};
	struct ccid_reply r;
	int rc;

	if ((rc = ccid_mux_begin(io, c)) != OC_OK)
		return rc;
	rc = ccid_mux_exchange(io, c, &q, &r);
	if (rc == OC_OK && w->status_only)
		status_from(&r, st);
	else if (rc == OC_OK)
		rc = finish_param(&r, st, w);
	ccid_mux_end(io, c->slot);
	return rc;
}

/*
 * One exchange. One at a time: under the exchange lock, the reply lives
 * in io->buf, so its data is copied out before another slot's command
 * may use it.
 */
static int
run_ext(struct ccid_io *io, struct ccid_cmd *c, const struct want *w,
    unsigned ext_cap_ms, struct ccid_status *st)
{
	struct ccid_reply r;
	unsigned saved_cap;
	int rc;

	if (ccid_mux_active(io))
		return run_mux(io, c, w, ext_cap_ms, st);
	if ((rc = io_acquire(io)) != OC_OK)
		return rc;
	io->quiet = w->quiet;
	saved_cap = io->time_ext_cap_ms;
	if (ext_cap_ms != 0)
		io->time_ext_cap_ms = ext_cap_ms;
	rc = transact(io, c, w->type, w->timeout_ms, &r);
	io->time_ext_cap_ms = saved_cap;
	if (rc == OC_OK && w->status_only)
		status_from(&r, st);
	else if (rc == OC_OK)
		rc = finish_param(&r, st, w);
	io_release(io);
	return rc;
}

/* run_ext() with the time-extension cap of io. */
static int
run(struct ccid_io *io, struct ccid_cmd *c, const struct want *w,
    struct ccid_status *st)
{
	return run_ext(io, c, w, 0, st);
}

int
ccid_run_power_on(struct ccid_io *io, uint8_t slot, uint8_t bPowerSelect,
    uint8_t *atr, size_t cap, size_t *atr_len, struct ccid_status *st)
{
	struct want w = {RDR_TO_PC_DATABLOCK, false, false, atr, cap, atr_len,
	    io->poweron_timeout_ms, false};
	struct ccid_cmd c;

	ccid_cmd_power_on(&c, slot, 0, bPowerSelect);
	return run(io, &c, &w, st);
}

int
ccid_run_power_off(struct ccid_io *io, uint8_t slot, struct ccid_status *st)
{
	struct want w = {RDR_TO_PC_SLOTSTATUS, false, false, NULL, 0, NULL, 0,
	    false};
	struct ccid_cmd c;

	ccid_cmd_simple(&c, PC_TO_RDR_ICCPOWEROFF, slot, 0);
	return run(io, &c, &w, st);
}

static int
slot_status(struct ccid_io *io, uint8_t slot, bool quiet,
    struct ccid_status *st)
{
	struct want w = {RDR_TO_PC_SLOTSTATUS, true, quiet, NULL, 0, NULL, 0,
	    false};
	struct ccid_cmd c;

	ccid_cmd_simple(&c, PC_TO_RDR_GETSLOTSTATUS, slot, 0);
	return run(io, &c, &w, st);
}

int
ccid_run_slot_status(struct ccid_io *io, uint8_t slot, struct ccid_status *st)
{
	return slot_status(io, slot, false, st);
}

int
ccid_run_slot_status_quiet(struct ccid_io *io, uint8_t slot,
    struct ccid_status *st)
{
	return slot_status(io, slot, true, st);
}

int
ccid_run_xfr_block(struct ccid_io *io, uint8_t slot, uint8_t bBWI,
    uint16_t wLevelParameter, const uint8_t *tx, size_t tx_len, uint8_t *rx,
    size_t cap, size_t *rx_len, struct ccid_status *st)
{
	return ccid_run_xfr_block_timed(io, slot, bBWI, wLevelParameter, tx,
	    tx_len, rx, cap, rx_len, 0, st);
}

int
ccid_run_xfr_block_timed(struct ccid_io *io, uint8_t slot, uint8_t bBWI,
    uint16_t wLevelParameter, const uint8_t *tx, size_t tx_len, uint8_t *rx,
    size_t cap, size_t *rx_len, unsigned timeout_ms, struct ccid_status *st)
{
	/* The timeout is per call: slots share io (xfr_tpdu, xfr_char). */
	struct want w = {RDR_TO_PC_DATABLOCK, false, false, rx, cap, rx_len,
	    timeout_ms, false};
	struct ccid_cmd c;

	ccid_cmd_xfr_block(&c, slot, 0, bBWI, wLevelParameter, tx, tx_len);
	return run(io, &c, &w, st);
}

int
ccid_run_set_parameters(struct ccid_io *io, uint8_t slot,
    uint8_t bProtocolNum, const uint8_t *params, size_t len,
    struct ccid_status *st)
{
	struct want w = {RDR_TO_PC_PARAMETERS, false, false, NULL, 0, NULL, 0,
	    io->set_param_err_ok};
	struct ccid_cmd c;

	ccid_cmd_set_parameters(&c, slot, 0, bProtocolNum, params, len);
	return run(io, &c, &w, st);
}

int
ccid_run_get_parameters(struct ccid_io *io, uint8_t slot, uint8_t *out,
    size_t cap, size_t *out_len, struct ccid_status *st)
{
	struct want w = {RDR_TO_PC_PARAMETERS, false, false, out, cap, out_len, 0,
	    false};
	struct ccid_cmd c;

	ccid_cmd_simple(&c, PC_TO_RDR_GETPARAMETERS, slot, 0);
	return run(io, &c, &w, st);
}

int
ccid_run_escape(struct ccid_io *io, uint8_t slot, const uint8_t *tx,
    size_t tx_len, uint8_t *rx, size_t cap, size_t *rx_len,
    struct ccid_status *st)
{
	struct want w = {RDR_TO_PC_ESCAPE, false, false, rx, cap, rx_len,
	    io->escape_timeout_ms, false};
	struct ccid_cmd c;

	ccid_cmd_escape(&c, slot, 0, tx, tx_len);
	return run(io, &c, &w, st);
}

int
ccid_run_secure(struct ccid_io *io, uint8_t slot, const uint8_t *tx,
    size_t tx_len, unsigned timeout_ms, uint8_t *rx, size_t cap,
    size_t *rx_len, struct ccid_status *st)
{
	/*
	 * The reader sends time extensions while the user types (section
	 * 6.2.6): PIN entry may last timeout_ms of wall time on top.
	 */
	struct want w = {RDR_TO_PC_DATABLOCK, false, false, rx, cap, rx_len,
	    timeout_ms, false};
	struct ccid_cmd c;

	/* bBWI 0, wLevelParameter 0: the whole command in one message. */
	ccid_cmd_secure(&c, slot, 0, 0, 0, tx, tx_len);
	return run_ext(io, &c, &w, timeout_ms, st);
}

/*
 * CCID rev 1.1 section 5.3.1: the class request ABORT and a
 * PC_to_RDR_Abort with the same bSeq/bSlot; the reader then answers the
 * Abort with a SlotStatus. Replies to the aborted command that arrive
 * first are drained (bounded). Called with the exchange lock held.
 */
static int
abort_locked(struct ccid_io *io, uint8_t slot)
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

int
ccid_run_abort(struct ccid_io *io, uint8_t slot)
{
	struct ccid_cmd c;
	int rc;

	if (ccid_mux_active(io)) {
		ccid_cmd_simple(&c, PC_TO_RDR_ABORT, slot, 0);
		if ((rc = ccid_mux_begin(io, &c)) != OC_OK)
			return rc;
		rc = ccid_mux_abort(io, slot);
		if (rc == OC_ENODEV)
			ccid_io_mark_gone(io);
		ccid_mux_end(io, slot);
		return rc;
	}
	if ((rc = io_acquire(io)) != OC_OK)
		return rc;
	rc = abort_locked(io, slot);
	if (rc == OC_ENODEV)
		ccid_io_mark_gone(io);
	io_release(io);
	return rc;
}
