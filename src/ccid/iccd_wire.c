/*
 * openccid - what both ICCD versions share (see iccd.h): the control
 * request with its error lines, the wait of a time request inside the
 * io's grant, and the bulk reply built in front of the answer's data.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "ccid/iccd_wire.h"

#include <errno.h>
#include <time.h>

#include "codec/ccid_msg.h"
#include "codec/iccd_msg.h"
#include "base/err.h"
#include "base/log.h"

void
iccd_sleep(const struct iccd *d, unsigned ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	if (d->sleep_ms != NULL) {
		d->sleep_ms(ms);
		return;
	}
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int
iccd_control(struct ccid_io *io, uint8_t bmRequestType, uint8_t bRequest,
    uint16_t wValue, uint8_t *data, size_t len, size_t *got,
    unsigned timeout_ms)
{
	struct iccd *d = io->iccd;
	size_t n = 0;
	int rc;

	rc = io->tr.ops->control(io->tr.ctx, bmRequestType, bRequest, wValue,
	    data, len, &n, timeout_ms);
	if (rc == OC_ENODEV) {
		ccid_io_mark_gone(io);
		return rc;
	}
	if (rc == OC_EPROTO || (rc == OC_OK && n > len)) {
		/* libusb's overflow: the token sent more than wLength. */
		OC_LOG_CRIT("%s: answer to request 0x%02X longer than the %zu "
			    "bytes asked for", d->name, bRequest, len);
		return OC_EPROTO;
	}
	if (rc != OC_OK) {
		OC_LOG_CRIT("%s: request 0x%02X failed: %s", d->name, bRequest,
		    oc_strerror(rc));
		return rc;
	}
	if (got != NULL)
		*got = n;
	return OC_OK;
}

/* A time request's wait, inside the io's grant (ccid_serial.c's rule). */
int
iccd_grant(struct ccid_io *io, struct iccd_grant *g, unsigned want_ms)
{
	uint64_t spent, now = ccid_io_now(io);
	unsigned wait = want_ms;

	if (g->n++ == 0)
		g->first = now;
	spent = now - g->first;
	/* Each wait is >= 10 ms, so the count bounds a frozen clock too. */
	if (spent >= io->time_ext_cap_ms ||
	    g->n > io->time_ext_cap_ms / ICCD_POLL_UNIT_MS + 1) {
		OC_LOG_CRIT("%s: time requests beyond %u ms (%u answers)",
		    io->iccd->name, io->time_ext_cap_ms, g->n);
		return OC_ETIMEDOUT;
	}
	if (io->time_ext_cap_ms - spent < wait)
		wait = (unsigned)(io->time_ext_cap_ms - spent);
	iccd_sleep(io->iccd, wait);
	return OC_OK;
}

/*
 * Write the bulk reply into rx in front of its data (the data already
 * sits at rx + CCID_HDR_LEN) and log it as a bulk reply would be.
 */
void
iccd_reply(struct ccid_io *io, const struct ccid_cmd *c, uint8_t type,
    uint8_t bStatus, uint8_t bError, uint8_t specific, size_t data_len,
    struct ccid_reply *r)
{
	uint8_t *h = io->iccd->rx;

	r->type = type;
	r->dwLength = (uint32_t)data_len;
	r->slot = c->slot;
	r->seq = c->seq;
	r->bStatus = bStatus;
	r->bError = bError;
	r->specific = specific;
	r->data = h + CCID_HDR_LEN;
	r->data_len = data_len;
	h[0] = type;
	h[1] = (uint8_t)data_len;
	h[2] = (uint8_t)(data_len >> 8);
	h[3] = (uint8_t)(data_len >> 16);
	h[4] = (uint8_t)(data_len >> 24);
	h[5] = c->slot;
	h[6] = c->seq;
	h[7] = bStatus;
	h[8] = bError;
	h[9] = specific;
	ccid_io_dump(io, io->quiet, "<-", h, CCID_HDR_LEN + data_len);
}

