/*
 * openccid - the CCID bulk commands (see ccid_cmd.h): each encodes its
 * command, runs one exchange on the path the reader takes (one at a
 * time, ccid_serial.c; several slots at once, ccid_mux.c) and turns the
 * reply into a status, an OC_E* code and its data.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "ccid/ccid_cmd.h"

#include <string.h>

#include "ccid/ccid_serial.h"
#include "codec/ccid_msg.h"
#include "ccid/ccid_mux.h"
#include "base/err.h"
#include "base/log.h"

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

static void
status_from(const struct ccid_reply *r, struct ccid_status *st)
{
	st->bStatus = r->bStatus;
	st->bError = r->bError;
	st->specific = r->specific;
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
finish_param(struct ccid_io *io, const struct ccid_reply *r,
    struct ccid_status *st, const struct want *w)
{
	int rc = finish(r, st, w->dst, w->cap, w->out_len);

	/* Accepted by the codec (ccid_msg.c); worth one line per reader. */
	if (r->type == RDR_TO_PC_PARAMETERS && r->dwLength != r->data_len &&
	    !atomic_exchange(&io->param_len_logged, true))
		OC_LOG_INFO("%s: RDR_to_PC_Parameters dwLength %u, %zu bytes "
			    "follow: field dwLength ignored (logged once)",
		    io->name[0] != '\0' ? io->name : "reader",
		    (unsigned)r->dwLength, r->data_len);

	if (rc == OC_EINVAL && w->param_err_ok && st->bError >= 1 &&
	    st->bError <= 127) {
		OC_LOG_INFO("SetParameters bError %u ignored (quirk)",
		    st->bError);
		rc = OC_OK;
	}
	return rc;
}

/*
 * Own the right to exchange with c's slot on the reader's path: a busy
 * slot credit (section 5.1, bMaxCCIDBusySlots) and, one at a time, the
 * exchange lock; concurrently, c's slot.
 */
static int
path_begin(struct ccid_io *io, bool mux, struct ccid_cmd *c)
{
	return mux ? ccid_mux_begin(io, c) : ccid_serial_begin(io);
}

static void
path_end(struct ccid_io *io, bool mux, uint8_t slot)
{
	if (mux)
		ccid_mux_end(io, slot);
	else
		ccid_serial_end(io);
}

/*
 * One exchange on the reader's path. The reply's data lives in a buffer
 * of that path (io->buf, or the slot's mailbox) until path_end(), so it
 * is copied out before another command may reuse it.
 */
static int
run_ext(struct ccid_io *io, struct ccid_cmd *c, const struct want *w,
    unsigned ext_cap_ms, struct ccid_status *st)
{
	const struct ccid_expect q = {w->type,
	    w->timeout_ms != 0 ? w->timeout_ms : io->timeout_ms, ext_cap_ms,
	    w->quiet};
	bool mux = ccid_mux_active(io);
	struct ccid_reply r;
	int rc;

	if ((rc = path_begin(io, mux, c)) != OC_OK)
		return rc;
	/* An ICCD token (iccd.h) has one slot: the one-at-a-time lock. */
	if (io->exchange != NULL) {
		rc = io->exchange(io, c, &q, &r);
	} else {
		rc = mux ? ccid_mux_exchange(io, c, &q, &r)
			 : ccid_serial_exchange(io, c, &q, &r);
		/* Either bulk path's OC_ENODEV: gone for every slot. */
		if (rc == OC_ENODEV)
			ccid_io_mark_gone(io);
	}
	if (rc == OC_OK && w->status_only)
		status_from(&r, st);
	else if (rc == OC_OK)
		rc = finish_param(io, &r, st, w);
	path_end(io, mux, c->slot);
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
 * CCID rev 1.1 section 5.3.1. Concurrently, the slot is owned like for
 * any command (the Abort's bSlot) so that no other command of it is on
 * the wire meanwhile.
 */
int
ccid_run_abort(struct ccid_io *io, uint8_t slot)
{
	bool mux = ccid_mux_active(io);
	struct ccid_cmd c;
	int rc;

	ccid_cmd_simple(&c, PC_TO_RDR_ABORT, slot, 0);
	/* ICCD has no abort: each request ends with its control transfer. */
	if (io->exchange != NULL)
		return OC_OK;
	if ((rc = path_begin(io, mux, &c)) != OC_OK)
		return rc;
	rc = mux ? ccid_mux_abort(io, slot) : ccid_serial_abort(io, slot);
	if (rc == OC_ENODEV)
		ccid_io_mark_gone(io);
	path_end(io, mux, slot);
	return rc;
}
