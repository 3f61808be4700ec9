/*
 * openccid - names of the internal error codes (see err.h).
 */
#include "config.h"

#include "base/err.h"

#include <stddef.h>

/* Indexed by -code; a table keeps code and text side by side. */
static const char *const oc_err_names[] = {
	[0] = "success",
	[-OC_EINVAL] = "invalid argument or malformed input",
	[-OC_ETRUNC] = "input truncated",
	[-OC_ERANGE] = "value out of range",
	[-OC_ENOMEM] = "out of memory",
	[-OC_EIO] = "I/O error",
	[-OC_ETIMEDOUT] = "timed out",
	[-OC_ENODEV] = "no such device",
	[-OC_EPROTO] = "protocol error",
	[-OC_ENOTSUP] = "not supported",
	[-OC_ENOCARD] = "no card present",
	[-OC_ENOSPC] = "output buffer too small",
	[-OC_EBUSY] = "busy",
	[-OC_ECARD] = "card error",
	[-OC_ESTALL] = "endpoint stalled",
	[-OC_EACCES] = "permission denied",
	[-OC_ECANCELED] = "operation canceled",
};

const char *
oc_strerror(int err)
{
	const size_t n = sizeof(oc_err_names) / sizeof(oc_err_names[0]);
	size_t i;

	if (err > 0 || err < -(int)(n - 1))
		return "unknown error";
	i = (size_t)-err;
	if (oc_err_names[i] == NULL)
		return "unknown error";
	return oc_err_names[i];
}
