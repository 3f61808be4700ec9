/*
 * openccid - libFuzzer harness for the USB ICCD answer decoders: a
 * version B DATA_BLOCK (bResponseType and data, status, time request),
 * a version B SLOT_STATUS and a version A GET_ICC_STATUS.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "codec/iccd_msg.h"
#include "base/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_data_block(const uint8_t *buf, size_t size)
{
	struct iccd_answer a;
	int rc = iccd_decode_data_block(buf, size, &a);

	(void)iccd_resp_name(size > 0 ? buf[0] : 0);
	if (rc != OC_OK)
		return;
	switch (a.type) {
	case ICCD_RESP_STATUS:
		if (size != 3 || a.bStatus != buf[1] || a.bError != buf[2] ||
		    a.data_len != 0)
			abort();
		break;
	case ICCD_RESP_POLL:
		/* Never a zero wait: a loop on it always moves the clock. */
		if (size != 3 || a.delay_ms == 0 ||
		    a.delay_ms > 0xFFFFu * ICCD_POLL_UNIT_MS)
			abort();
		break;
	default:
		if (a.data_len != size - 1 || (a.data_len > 0 &&
		    a.data != buf + 1))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t st, err;

	fuzz_data_block(data, size);
	if (iccd_decode_slot_status(data, size, &st, &err) == OC_OK &&
	    (size != 3 || (st & 0x03u) == 0x03u || err != data[2]))
		abort();
	if (iccd_decode_icc_status(data, size, &st) == OC_OK &&
	    (size != 1 || st != data[0]))
		abort();
	return 0;
}
