/*
 * openccid - libFuzzer harness for the pcscd device name parser.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/devname.h"
#include "base/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exact-size copy plus the NUL the parser needs. */
	char *s = malloc(size + 1);
	struct devname dn;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (devname_parse(s, &dn) == OC_OK) {
		if (memchr(dn.path, '\0', sizeof(dn.path)) == NULL)
			abort();
		if (dn.has_busaddr &&
		    (dn.bus == 0 || dn.addr == 0 || dn.addr > 127))
			abort();
	}
	free(s);
	return 0;
}
