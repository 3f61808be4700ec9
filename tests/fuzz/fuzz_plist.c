/*
 * openccid - libFuzzer harness for the Info.plist key reader.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/err.h"
#include "codec/plist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct plist_config cfg;
	uint32_t v;
	int rc;

	if (size > PLIST_MAX_SIZE)
		return 0;
	rc = plist_read_config(data, size, &cfg);
	if (rc == OC_OK && cfg.has_log_level && cfg.log_level > 0xff)
		abort();
	if (rc != OC_OK && rc != OC_EINVAL)
		abort();
	rc = plist_get_u32(data, size, "ifdVersionNumber", &v);
	if (rc != OC_OK && rc != OC_EINVAL && rc != OC_ENOTSUP)
		abort();
	return 0;
}
