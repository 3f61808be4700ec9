/*
 * openccid - OC_E* -> IFD_* (see ifd_err.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "ifd/ifd_err.h"

#include "base/err.h"

RESPONSECODE
ifdh_map_err(int err, enum ifdh_op op)
{
	switch (err) {
	case OC_OK:
		return IFD_SUCCESS;
	case OC_ENODEV:
		return IFD_NO_SUCH_DEVICE;
	case OC_ENOCARD:
		return IFD_ICC_NOT_PRESENT;
	case OC_ETIMEDOUT:
		return op == IFDH_OP_POWER ? IFD_ERROR_POWER_ACTION
					   : IFD_RESPONSE_TIMEOUT;
	case OC_ENOSPC:
		return IFD_ERROR_INSUFFICIENT_BUFFER;
	case OC_ENOTSUP:
		return op == IFDH_OP_POWER ? IFD_ERROR_POWER_ACTION
					   : IFD_NOT_SUPPORTED;
	case OC_ECARD:
	case OC_EPROTO:
		return op == IFDH_OP_POWER ? IFD_ERROR_POWER_ACTION
					   : IFD_COMMUNICATION_ERROR;
	default:
		return IFD_COMMUNICATION_ERROR;
	}
}
