/*
 * openccid - libFuzzer harness for the CCID bulk-IN reply decoder and the
 * interrupt-IN decoder (CCID rev 1.1 sections 6.2 and 6.3).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/ccid_msg.h"
#include "base/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_reply(const uint8_t *buf, size_t size, size_t max_len)
{
	struct ccid_reply r;

	if (ccid_msg_decode_reply(buf, size, max_len, &r) != OC_OK)
		return;
	if (size < CCID_HDR_LEN || r.data_len != size - CCID_HDR_LEN ||
	    r.data_len > max_len)
		abort();
	/* Only a Parameters reply may say less than what followed it. */
	if (r.data_len != r.dwLength &&
	    (r.type != RDR_TO_PC_PARAMETERS || r.dwLength > r.data_len))
		abort();
	if (r.data_len > 0 && r.data != buf + CCID_HDR_LEN)
		abort();
	(void)ccid_msg_type_name(r.type);
	(void)ccid_error_name(r.bError);
	(void)ccid_icc_status_name(r.bStatus);
}

static void
fuzz_intr(const uint8_t *buf, size_t size, unsigned slots)
{
	struct ccid_intr in;
	size_t k;

	if (ccid_msg_decode_intr(buf, size, slots, &in) != OC_OK)
		return;
	if (in.type == RDR_TO_PC_HARDWAREERROR && size != 4)
		abort();
	if (in.type != RDR_TO_PC_NOTIFYSLOTCHANGE)
		return;
	if (in.nslots != slots)
		abort();
	/* no bit beyond the reader's slots */
	for (k = slots * 2; k < CCID_MAX_SLOTS_INTR * 2; k++)
		if (in.slot_bits[k / 8] & (1u << (k % 8)))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned slots[] = {1, 2, 5, 16};
	uint8_t *buf = malloc(size > 0 ? size : 1);
	size_t i;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	fuzz_reply(buf, size, 261);
	fuzz_reply(buf, size, 65544);
	for (i = 0; i < sizeof(slots) / sizeof(slots[0]); i++)
		fuzz_intr(buf, size, slots[i]);
	free(buf);
	return 0;
}
