/*
 * openccid - libFuzzer harness for the ATR parser (ISO 7816-3 section 8).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "card/atr.h"
#include "base/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size > 0 ? size : 1);
	struct atr_info a, b;
	unsigned w, w2;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	if (atr_parse(buf, size, &a, &w) == OC_OK) {
		if (a.len > ATR_MAX_LEN || a.len > size ||
		    a.hist_len > ATR_MAX_HIST || a.ngroups > ATR_MAX_GROUPS)
			abort();
		if (memcmp(a.raw, buf, a.len) != 0)
			abort();
		/* the ATR alone parses the same, without trailing bytes */
		if (atr_parse(a.raw, a.len, &b, &w2) != OC_OK)
			abort();
		if (b.len != a.len || b.protocols != a.protocols ||
		    b.ifsc != a.ifsc || b.Fi != a.Fi || b.Di != a.Di ||
		    (w2 & ATR_WARN_EXTRA_BYTES) != 0 ||
		    (w2 | ATR_WARN_EXTRA_BYTES) != (w | ATR_WARN_EXTRA_BYTES))
			abort();
	}
	free(buf);
	return 0;
}
