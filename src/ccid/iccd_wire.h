/*
 * openccid - internal to the ICCD path (iccd.c, iccd_b.c, iccd_a.c):
 * the token's state and the pieces both versions use.
 */
#ifndef OPENCCID_ICCD_WIRE_H
#define OPENCCID_ICCD_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "ccid/ccid_cmd.h"
#include "ccid/ccid_io.h"
#include "codec/ccid_msg.h"

#define ICCD_NAME_MAX 64

struct iccd {
	uint8_t version;   /* ICCD_VERSION_A or _B (bInterfaceProtocol) */
	size_t max_xfer;   /* wLength cap of one answer */
	char name[ICCD_NAME_MAX]; /* the reader, for every error line */
	/*
	 * CCID_HDR_LEN + max_xfer bytes: a version B answer lands at
	 * rx + 9 (bResponseType there, its data at rx + 10), so that a
	 * DataBlock header can be written in front of the data.
	 */
	uint8_t *rx;
	/* Waits between time requests; NULL: nanosleep (tests: a clock). */
	void (*sleep_ms)(unsigned ms);
};

/* Time requests (or busy statuses) of one command. */
struct iccd_grant {
	unsigned n;     /* answered so far */
	uint64_t first; /* ccid_io_now() at the first */
};

void iccd_sleep(const struct iccd *d, unsigned ms);
/*
 * One class request; *got (may be NULL) what came back. An answer longer
 * than len (libusb's overflow) is OC_EPROTO; OC_ENODEV marks io gone.
 * Every failure is logged with the reader's name.
 */
int iccd_control(struct ccid_io *io, uint8_t bmRequestType, uint8_t bRequest,
    uint16_t wValue, uint8_t *data, size_t len, size_t *got,
    unsigned timeout_ms);
/*
 * Wait want_ms for the next answer, inside io->time_ext_cap_ms of wall
 * time from the first wait (ccid_serial.c's rule for time extensions);
 * OC_ETIMEDOUT, logged, past it.
 */
int iccd_grant(struct ccid_io *io, struct iccd_grant *g, unsigned want_ms);
/*
 * The reply the bulk path would have read: header written at rx, the
 * data_len bytes of data already at rx + CCID_HDR_LEN; logged.
 */
void iccd_reply(struct ccid_io *io, const struct ccid_cmd *c, uint8_t type,
    uint8_t bStatus, uint8_t bError, uint8_t specific, size_t data_len,
    struct ccid_reply *r);

#endif
