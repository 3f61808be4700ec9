/*
 * openccid - the wire of one CCID device (see ccid_io.h): message
 * logging, one message out, one message in, the class request ABORT.
 * Both exchange paths build on these: one command at a time
 * (ccid_serial.c) and several slots at once (ccid_mux.c); ccid_dev.c
 * sets the state up, ccid_cmd.c runs the commands over either path.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "ccid/ccid_io.h"

#include <stdlib.h>
#include <string.h>

#include "codec/ccid_msg.h"
#include "codec/redact.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"

#define CCID_REQ_ABORT 0x01     /* CCID rev 1.1 section 5.3.1 */
#define CCID_REQTYPE_CLASS_IF 0x21 /* host-to-device, class, interface */
#define CCID_MAX_READ_PIECES 64 /* transfers joined into one message */
/*
 * The rest of a message split over transfers follows at once; a reader
 * whose dwLength promises more than it sent must not hold the caller for
 * a whole (PIN entry: 90 s) command timeout per piece (issue 12).
 */
#define CCID_CONT_TIMEOUT_MS 1000
#define CCID_ZLP_READ_MS 10     /* quirk zlp_before_write */

uint64_t
ccid_io_now(const struct ccid_io *io)
{
	return io->now_ms != NULL ? io->now_ms() : oc_clock_ms();
}

void
ccid_io_set_gone(struct ccid_io *io)
{
	atomic_store(&io->gone, true);
	pthread_mutex_lock(&io->busy_lock);
	pthread_cond_broadcast(&io->busy_cond);
	pthread_mutex_unlock(&io->busy_lock);
}

bool
ccid_io_is_gone(struct ccid_io *io)
{
	return atomic_load(&io->gone);
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
ccid_io_hide_in_payload(struct ccid_io *io, uint8_t slot, bool hide)
{
	unsigned bit = 1u << (slot % CCID_MAX_SLOTS);

	if (hide)
		atomic_fetch_or(&io->hide_in_slots, bit);
	else
		atomic_fetch_and(&io->hide_in_slots, ~bit);
}

void
ccid_io_wipe(struct ccid_io *io)
{
	pthread_mutex_lock(&io->xfer_lock);
	explicit_bzero(io->buf, io->max_msg);
	pthread_mutex_unlock(&io->xfer_lock);
}

/* Bit of the slot a message goes to or comes from (byte 5, bSlot). */
static unsigned
msg_slot_bit(const uint8_t *msg, size_t len)
{
	return len > 5 ? 1u << (msg[5] % CCID_MAX_SLOTS) : 0u;
}

/* CCID rev 1.1 section 6: the header every bulk message starts with. */
#define CCID_HDR_LEN 10

/*
 * A message whose payload a stateless redactor cannot judge (the data
 * pieces of a PIN command at character level, sent after the T=0
 * procedure byte): everything after the header hidden.
 */
static void
dump_hidden(const char *dir, const uint8_t *msg, size_t len)
{
	size_t hidden = len > CCID_HDR_LEN ? len - CCID_HDR_LEN : 0;

	oc_log_hex_redacted(OC_LOG_MASK_COMM, "ccid", dir, msg, len,
	    len - hidden, hidden);
}

/* Secrets hidden by redact_ccid_msg() before any byte is formatted. */
static void
dump_redacted(const char *dir, const uint8_t *msg, size_t len,
    enum ccid_level level)
{
	struct redact_range rr = {0, 0};
	uint8_t *copy;

	/* COMM logging only: a copy the size of one message is acceptable. */
	copy = malloc(len > 0 ? len : 1);
	if (copy == NULL ||
	    redact_ccid_msg(msg, len, level, copy, len, &rr) != OC_OK) {
		/* Never fall back to printing unredacted bytes. */
		oc_log_unlogged(OC_LOG_MASK_COMM, dir, len);
		free(copy);
		return;
	}
	oc_log_hex_redacted(OC_LOG_MASK_COMM, "ccid", dir, copy, len, rr.off,
	    rr.len);
	explicit_bzero(copy, len);
	free(copy);
}

/* Not inlined: its register saves would be paid even with COMM off. */
__attribute__((noinline)) static void
dump_on(const struct ccid_io *io, bool quiet, const char *dir,
    const uint8_t *msg, size_t len)
{
	/* Presence polling would flood COMM logs: needs PERIODIC too. */
	if (quiet && (oc_log_get_level() & OC_LOG_MASK_PERIODIC) == 0)
		return;
	if (msg == NULL)
		return;
	/* Byte 5 is bSlot both ways (sections 6.1, 6.2). */
	if ((atomic_load(dir[0] == '-' ? &io->hide_out_slots
				       : &io->hide_in_slots) &
		msg_slot_bit(msg, len)) != 0) {
		dump_hidden(dir, msg, len);
		return;
	}
	/* The documented opt-in (README): every byte as it is. */
	if (oc_log_show_secrets()) {
		oc_log_hex(OC_LOG_MASK_COMM, "ccid", dir, msg, len);
		return;
	}
	dump_redacted(dir, msg, len, io->level);
}

void
ccid_io_dump(const struct ccid_io *io, bool quiet, const char *dir,
    const uint8_t *msg, size_t len)
{
	/* Off (the usual case): nothing to look at, see oc_log_hex(). */
	if ((oc_log_get_level() & OC_LOG_MASK_COMM) != 0)
		dump_on(io, quiet, dir, msg, len);
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
	/* A secret command has gone out: no copy of it stays behind. */
	if ((atomic_load(&io->hide_out_slots) & msg_slot_bit(io->buf, len)) !=
	    0)
		explicit_bzero(io->buf, len);
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
