/*
 * openccid - T=0 procedure bytes over characters (see t0_char.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "card/t0_char.h"

#include <stdbool.h>

#include "base/err.h"

#define T0_HDR_LEN 5
#define PB_NULL    0x60u

/* Section 10.3.3: 6x (but 60) and 9x are SW1. */
static bool
is_sw1(uint8_t pb)
{
	return ((pb & 0xF0u) == 0x60u && pb != PB_NULL) ||
	       (pb & 0xF0u) == 0x90u;
}

/* One procedure byte, or bytes of data, exactly n of them. */
static int
xchg(const struct t0_char_io *io, const uint8_t *tx, size_t tx_len,
    uint8_t *rx, size_t n)
{
	return io->xchg(io->ctx, tx, tx_len, rx, n);
}

int
t0_char_run(const struct t0_char_io *io, const uint8_t *tpdu,
    size_t len, uint8_t *resp, size_t cap, size_t *got)
{
	const uint8_t *tx = tpdu;
	size_t tx_len = T0_HDR_LEN, total, done = 0, have = 0;
	unsigned nulls = 0, rounds;
	bool sending;
	uint8_t ins, ins_one, pb;
	int rc;

	if (io == NULL || tpdu == NULL || resp == NULL || got == NULL ||
	    len < T0_HDR_LEN || cap < 2)
		return OC_EINVAL;
	ins = tpdu[1];
	ins_one = (uint8_t)(tpdu[1] ^ 0xFFu);
	sending = len > T0_HDR_LEN;
	/* Section 10.3.2: P3 is the data length; 00 to the host is 256. */
	if (sending && len - T0_HDR_LEN != tpdu[4])
		return OC_EINVAL;
	total = sending ? len - T0_HDR_LEN : (tpdu[4] != 0 ? tpdu[4] : 256u);
	/* Every round moves data or is a NULL: bounded by both. */
	for (rounds = 0; rounds <= total + T0_CHAR_MAX_NULL + 1; rounds++) {
		rc = xchg(io, tx, tx_len, &pb, 1);
		tx = NULL;
		tx_len = 0;
		if (rc != OC_OK)
			return rc;
		if (pb == PB_NULL) {
			if (++nulls > T0_CHAR_MAX_NULL)
				break;
			continue;
		}
		if (is_sw1(pb)) {
			if (have > cap - 2)
				return OC_ENOSPC;
			resp[have] = pb;
			rc = xchg(io, NULL, 0, resp + have + 1, 1);
			if (rc != OC_OK)
				return rc;
			*got = have + 2;
			return OC_OK;
		}
		/* Section 10.3.3: any other byte is a conflict. */
		if ((pb != ins && pb != ins_one) || done >= total)
			return OC_EPROTO;
		/* INS: all the remaining bytes; INS ^ FF: the next one. */
		{
			size_t n = pb == ins ? total - done : 1;

			if (sending) {
				tx = tpdu + T0_HDR_LEN + done;
				tx_len = n;
			} else {
				if (n > cap - 2 - have)
					return OC_ENOSPC;
				rc = xchg(io, NULL, 0, resp + have, n);
				if (rc != OC_OK)
					return rc;
				have += n;
			}
			done += n;
		}
	}
	return OC_EPROTO;
}
