/*
 * openccid - libFuzzer harness for the CCID class descriptor codec.
 *
 * The input is treated as an interface's "extra" descriptor run: walk it,
 * then decode whatever was found, with and without the vendor type.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/ccid_desc.h"
#include "base/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
run(const uint8_t *buf, size_t len, bool vendor)
{
	struct ccid_desc d;
	unsigned warn = 0;
	size_t off = 0;

	if (ccid_desc_parse(buf, len, vendor, &d, &warn) == OC_OK) {
		/* Whatever was accepted must respect the caps. */
		if ((unsigned)d.bMaxSlotIndex + 1 > CCID_MAX_SLOTS ||
		    d.dwMaxCCIDMessageLength > CCID_MAX_MSG_LEN ||
		    d.dwMaxCCIDMessageLength < CCID_MIN_MSG_LEN ||
		    d.dwMaxIFSD > CCID_MAX_IFSD ||
		    d.bNumClockSupported > CCID_MAX_CLOCKS ||
		    d.bNumDataRatesSupported > CCID_MAX_DATA_RATES ||
		    d.bMaxCCIDBusySlots == 0 ||
		    d.bMaxCCIDBusySlots > d.bMaxSlotIndex + 1 ||
		    ccid_level_name(d.level) == NULL)
			abort();
	}
	if (ccid_desc_find(buf, len, vendor, &off) == OC_OK) {
		if (off >= len)
			abort();
		(void)ccid_desc_parse(buf + off, len - off, vendor, &d, &warn);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exact-size copy: any over-read lands in ASan's redzone. */
	uint8_t *buf = malloc(size > 0 ? size : 1);

	if (buf == NULL)
		return 0;
	if (size > 0)
		memcpy(buf, data, size);
	run(buf, size, false);
	run(buf, size, true);
	free(buf);
	return 0;
}
