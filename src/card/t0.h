/*
 * openccid - ISO/IEC 7816-3:2006 section 10 (T=0) at TPDU level: the
 * short and extended APDU cases of ISO/IEC 7816-4 section 5 mapped onto
 * T=0 TPDUs (7816-3 section 12.2).
 *
 * Pure engine (layer L1). The callback sends one TPDU (CLA INS P1 P2 P3
 * [data]); the reader runs the procedure bytes and returns the response
 * data followed by SW1 SW2:
 *   xfer(ctx, tpdu, len, resp, cap, &got) -> 0, *got in 2..cap,
 * or a negative OC_E* code, returned as is.
 */
#ifndef OPENCCID_T0_H
#define OPENCCID_T0_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define T0_TPDU_MAX         (5 + 255)
#define T0_TPDU_RESP_MAX    (256 + 2)
#define T0_DEFAULT_MAX_GETR 300 /* GET RESPONSE rounds per command */

struct t0_xfer {
	int (*xfer)(void *ctx, const uint8_t *tpdu, size_t len, uint8_t *resp,
	    size_t cap, size_t *got);
	void *ctx;
};

struct t0_opts {
	/* ISO 7816-4 section 7.6.2: the card takes ENVELOPE (INS C2) for
	 * commands whose data field exceeds 255 bytes */
	bool envelope;
	unsigned max_get_response; /* 0: T0_DEFAULT_MAX_GETR */
};

/*
 * Send one command APDU (cases 1, 2S/E, 3S/E, 4S/E) and return the
 * response data and status in resp. OC_ENOSPC when the answer exceeds
 * cap, OC_ENOTSUP for an extended command that cannot be mapped (data
 * above 255 bytes and no ENVELOPE), OC_EINVAL for a malformed APDU,
 * OC_EPROTO when the card answers out of bounds. opts may be NULL.
 */
int t0_transceive(const struct t0_opts *opts, const struct t0_xfer *io,
    const uint8_t *apdu, size_t len, uint8_t *resp, size_t cap,
    size_t *resp_len) __attribute__((warn_unused_result));

#endif
